"""The nightly batch: from the day's exports to published restock lists, safely, in one command.

Steps (each timed and named in errors): ``check_store`` → ``ingest`` → ``panel`` → ``forecast`` →
``installed_base`` (expected parts demand from the machines in service; feeds the wear-part list) → ``wear_list``
→ ``policies`` → ``network`` → ``restock`` → ``reports`` → ``publish``.

Run folders and publishing
--------------------------
Each run writes only into its own folder ``<runs_dir>/<YYYYmmdd-HHMMSS>/`` (a ``-2``, ``-3`` suffix when two runs
start in the same second). While it works, the folder holds a ``.running`` marker. Only after every step
succeeded is ``manifest.json`` written, the marker removed, and the run published:

* ``<runs_dir>/LATEST`` — a one-line text file with the run folder's name — is **the authoritative pointer**. It is
  replaced atomically (write a temporary file, fsync, ``os.replace``), so a reader sees the old or the new name,
  never a half-written one; it works on every file system, Windows shares included.
* ``<runs_dir>/latest`` — a relative symbolic link to the same folder, for people browsing — is replaced the same
  way (new link + ``os.replace``) right after; where symbolic links are not allowed it is skipped.

After publishing, run folders beyond the newest ``[paths] keep_runs`` (default 30; 0 keeps all) are deleted,
never the one ``LATEST`` names.

A failed run renames its folder to ``<name>.failed`` (with ``ERROR.txt``), leaves ``LATEST`` untouched and returns a
non-zero exit code naming the step. A killed run (``kill -9``) leaves its ``.running`` folder behind: the next run,
once it holds the lock, renames such folders to ``<name>.abandoned`` and starts clean.

Lock
----
``<runs_dir>/.nightly.lock`` is created with ``O_CREAT | O_EXCL`` and holds the owner's PID and host. A second run
finding it refuses (exit code 3) while that PID is alive; a lock whose PID is dead on this host (a killed run)
is stale: it is reported, cleared and taken over. (Two runs that find the same stale lock in the same instant
could both clear it; cron starts one run a night, so this narrow race is accepted. PID reuse by an unrelated
process makes a stale lock look alive: the message then says to delete the lock.)

Manifest
--------
``manifest.json`` lists the inputs (every export read: sha256, bytes, table, rows in / loaded / rejected; exports
seen by the last published run but gone now; the store tables with rows and sha256), the rejects, the settings,
package versions, each step's seconds and the outputs (relative paths, sha256, bytes). The same inputs give
byte-identical outputs; only the clock fields listed in ``manifest["clock_fields"]`` differ between runs.

Two processes
-------------
The forecasts and the scheduled reports feed no later step and need only the store: as soon as ``ingest`` has
finished, a second process (``spawn``) builds its own demand panel, writes ``forecasts.csv`` and then the
reports, while this one goes on with the installed base, wear-part list, policies, network and restock lists (the
machine has two cores). The ``reports`` step waits for that process; the manifest's ``steps`` list both
background steps with the process's own seconds (``"process": "background"``) and the wait as
``background_wait``. A failure there fails the run at step ``forecast`` or ``reports``; a failed run stops the
process, and a process whose batch was killed ends by itself. ``[batch] processes = 1`` runs every step in this
process, in order (less memory at once, more time).

Progress goes to stdout: a one-line progress display when stdout is a terminal, plain timestamped log lines when
it is not (cron). Every line is also kept in ``run.log`` inside the run folder.

Test hook: the environment variable ``ZK_FORECAST_PAUSE_IN_STEP="<step>:<seconds>"`` sleeps at the start of that
step (used by the fault tests to kill a run in the middle).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from zk_forecast.config import Config, load_config
from zk_forecast.data.ingest import sha256_file
from zk_forecast.errors import ConfigError, ZkError

__all__ = [
    "BACKGROUND_STEPS",
    "EXIT_FAILED",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_USAGE",
    "LockedError",
    "RunResult",
    "STEPS",
    "StepError",
    "latest_run",
    "rebuild_store",
    "run_nightly",
]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
STEPS = ("check_store", "ingest", "panel", "forecast", "installed_base", "wear_list", "policies", "network", "restock", "reports",
         "publish")
#: Steps made by the background process (in this order); nothing later reads their results.
BACKGROUND_STEPS = ("forecast", "reports")
LOCK_NAME = ".nightly.lock"
LATEST_FILE = "LATEST"
LATEST_LINK = "latest"
RUNNING_MARKER = ".running"
PAUSE_ENV = "ZK_FORECAST_PAUSE_IN_STEP"
CLOCK_FIELDS = ("run_id", "started_at", "finished_at", "steps[].seconds", "total_seconds", "host", "pid",
                "stale_lock_cleared", "abandoned_runs", "inputs.store_tables[].sha256")
_VERSIONED = ("zk_forecast", "numpy", "pandas", "scipy", "pyarrow", "openpyxl", "matplotlib")


class LockedError(ZkError):
    """Another nightly run holds the lock."""


class StepError(ZkError):
    """A step of the batch failed; ``step`` names it."""

    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


@dataclass
class RunResult:
    """What a nightly run did.

    Attributes
    ----------
    exit_code : int
        0 published, 1 a step failed, 2 configuration error, 3 another run holds the lock.
    run_dir : Path or None
        The run folder (renamed ``*.failed`` when a step failed).
    step : str or None
        The step that failed.
    error : str or None
        The message.
    manifest : dict
        The manifest (empty unless published).
    """

    exit_code: int
    run_dir: Path | None = None
    step: str | None = None
    error: str | None = None
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the run was published."""
        return self.exit_code == EXIT_OK

    def __repr__(self) -> str:
        what = "published" if self.ok else f"failed in {self.step}: {self.error}"
        return f"RunResult(exit_code={self.exit_code}, run_dir={str(self.run_dir)!r}, {what})"


# ------------------------------------------------------------------------------------------------ helpers
def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - alive, owned by someone else
        return True
    except OSError:  # pragma: no cover
        return False
    return True


def latest_run(runs_dir: str | Path) -> Path | None:
    """The last published run folder (from ``LATEST``), or None when nothing was published yet."""
    p = Path(runs_dir) / LATEST_FILE
    if not p.is_file():
        return None
    name = p.read_text(encoding="utf-8").strip()
    return Path(runs_dir) / name if name else None


class _Progress:
    """Timestamped log lines (not a terminal) or a one-line progress display (a terminal)."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.lines: list[str] = []
        self.done = 0

    def log(self, msg: str) -> None:
        line = f"{_dt.datetime.now().strftime('%Y-%m-%d %H:%M:%S')} [nightly] {msg}"
        self.lines.append(line)
        if self.tty:
            self.stream.write("\r\033[K" + msg + "\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def step(self, name: str) -> None:
        line = f"{_dt.datetime.now().strftime('%Y-%m-%d %H:%M:%S')} [nightly] step {name} started / 开始"
        self.lines.append(line)
        if self.tty:
            width = 20
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r\033[K[{bar}] {self.done}/{self.total} {name} …")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def step_done(self, name: str, seconds: float) -> None:
        self.done += 1
        line = (f"{_dt.datetime.now().strftime('%Y-%m-%d %H:%M:%S')} [nightly] step {name} done in "
                f"{seconds:.1f} s / 完成")
        self.lines.append(line)
        if not self.tty:
            self.stream.write(line + "\n")
            self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()


# ------------------------------------------------------------------------------------------------ lock
def _acquire_lock(runs_dir: Path, progress: _Progress) -> tuple[Path, dict[str, Any] | None]:
    lock = runs_dir / LOCK_NAME
    host = socket.gethostname()
    stale: dict[str, Any] | None = None
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                info = json.loads(lock.read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError):
                info = {}
            pid = int(info.get("pid", 0) or 0)
            same_host = info.get("host", host) == host
            if pid and (_pid_alive(pid) or not same_host):
                raise LockedError(
                    f"another nightly run holds the lock {lock} (pid {pid} on {info.get('host')}, started "
                    f"{info.get('started_at')}); wait for it to finish, or delete the lock if that process is gone "
                    f"/ 另一个夜间批处理正在运行（进程 {pid}），请等待其结束") from None
            stale = info
            progress.log(f"stale lock of pid {pid or '?'} (no longer running) cleared / 清除失效的锁文件")
            try:
                os.rename(lock, lock.with_name(f"{LOCK_NAME}.stale-{os.getpid()}"))
                os.unlink(lock.with_name(f"{LOCK_NAME}.stale-{os.getpid()}"))
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"pid": os.getpid(), "host": host,
                       "started_at": _dt.datetime.now().isoformat(timespec="seconds")}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        return lock, stale
    raise LockedError(f"could not take the lock {lock}; another run keeps taking it / 无法获得运行锁")


def _release_lock(lock: Path) -> None:
    try:
        info = json.loads(lock.read_text(encoding="utf-8"))
        if int(info.get("pid", 0)) == os.getpid():
            lock.unlink()
    except (OSError, ValueError):  # pragma: no cover
        pass


# ------------------------------------------------------------------------------------------------ store
def _check_store(store_dir: Path) -> dict[str, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zk_forecast.data.store import Store

    st = Store(store_dir)
    out: dict[str, dict[str, Any]] = {}
    for name in st.tables():
        p = st.table_path(name)
        try:
            n = pq.read_table(p).num_rows
        except (pa.ArrowException, OSError) as exc:
            raise StepError(
                "check_store",
                f"store table '{name}' ({p}) is damaged ({exc.__class__.__name__}: {str(exc)[:120]}); fix: run "
                f"`zk-forecast ingest --rebuild` (deletes the store tables and re-ingests the raw exports) "
                f"/ 数据表 {name} 已损坏，请运行 zk-forecast ingest --rebuild 从原始导出文件重建") from None
        out[name] = {"rows": n}
    return out


def rebuild_store(raw_dir: str | Path, store_dir: str | Path, *, mapping: str | Path | None = None) -> Any:
    """Delete the store's tables (and change log) and ingest every export in ``raw_dir`` again.

    The body of ``zk-forecast ingest --rebuild``: the way back from a damaged parquet table.

    Parameters
    ----------
    raw_dir : path
        Folder of the exports.
    store_dir : path
        The store.
    mapping : path, optional
        Column mapping file.

    Returns
    -------
    IngestResult

    Raises
    ------
    ReadError
        ``raw_dir`` is not a folder (nothing is deleted then).
    """
    from zk_forecast.data.ingest import ingest
    from zk_forecast.data.store import CHANGES, Store
    from zk_forecast.errors import ReadError
    from zk_forecast.schema import TABLES

    if not Path(raw_dir).is_dir():
        raise ReadError(f"raw folder {raw_dir} does not exist; the store cannot be rebuilt without the exports "
                        f"/ 原始导出目录不存在，无法重建")
    st = Store(store_dir)
    for name in [*TABLES, CHANGES]:
        st.table_path(name).unlink(missing_ok=True)
    (st.path / "_ingested.json").unlink(missing_ok=True)  # the ingest log: every export is read again
    return ingest(raw_dir, st, mapping=mapping)


# ------------------------------------------------------------------------------------------------ the run
def _period_label(rule: str, today: _dt.date) -> str:
    if rule == "previous_month":
        y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        return f"{y}-{m:02d}"
    if rule == "previous_quarter":
        q = (today.month - 1) // 3 + 1
        y, q = (today.year, q - 1) if q > 1 else (today.year - 1, 4)
        return f"{y}Q{q}"
    if rule == "previous_year":
        return str(today.year - 1)
    return rule


class _Run:
    def __init__(self, cfg: Config, run_dir: Path, progress: _Progress, today: _dt.date) -> None:
        self.cfg = cfg
        self.dir = run_dir
        self.progress = progress
        self.today = today
        self.data: dict[str, Any] = {}
        self.manifest: dict[str, Any] = {"inputs": {}, "rejects": {}, "outputs": [], "steps": []}

    # each step ----------------------------------------------------------------------------------------
    def check_store(self) -> None:
        self.cfg.paths.store_dir.mkdir(parents=True, exist_ok=True)
        _check_store(self.cfg.paths.store_dir)

    def ingest(self) -> None:
        from zk_forecast.data.ingest import ingest
        from zk_forecast.data.store import Store

        raw = self.cfg.paths.raw_dir
        st = Store(self.cfg.paths.store_dir)
        files: list[dict[str, Any]] = []
        rejected = 0
        if raw.is_dir():
            res = ingest(raw, st, mapping=self.cfg.paths.mapping, skip_unchanged=True)
            bad = [f for f in res.files if f.error]
            if bad:
                raise StepError("ingest", "; ".join(f"{f.file}: {f.error}" for f in bad)
                                + " — fix or remove these exports and run again / 请修正或移走这些导出文件后重试")
            for f in res.files:
                p = raw / f.file
                files.append({"file": f.file, "sha256": f.sha256 or (sha256_file(p) if p.is_file() else None),
                              "bytes": p.stat().st_size if p.is_file() else None, "table": f.table,
                              "rows_in": f.rows_in, "rows_loaded": f.rows_loaded, "rows_rejected": f.rows_rejected,
                              "rows_new": f.rows_new, "rows_updated": f.rows_updated,
                              "unchanged_file": f.unchanged_file, "rejects": f.rejects_path})
                rejected += f.rows_rejected
            skipped = list(res.skipped)
        else:
            if not st.tables():
                raise StepError("ingest", f"raw folder {raw} does not exist and the store is empty; fix "
                                          f"[paths] raw_dir / 原始导出目录不存在且数据仓为空")
            self.progress.log(f"raw folder {raw} is missing; running from the store / 原始目录缺失，使用数据仓")
            skipped = []
        files.sort(key=lambda d: d["file"])
        prev = latest_run(self.cfg.paths.runs_dir)
        gone: list[str] = []
        if prev is not None and (prev / "manifest.json").is_file():
            try:
                old = json.loads((prev / "manifest.json").read_text(encoding="utf-8"))
                before = {f["file"] for f in old.get("inputs", {}).get("files", [])}
                gone = sorted(before - {f["file"] for f in files})
            except (OSError, ValueError):  # pragma: no cover
                gone = []
        for g in gone:
            self.progress.log(f"export {g} was read by the last run but is gone; its rows stay in the store "
                              f"/ 导出文件已不存在，沿用数据仓中的数据")
        import pyarrow.parquet as pq

        tables = {}
        for name in st.tables():  # row counts from the parquet footers: check_store has read every table already
            p = st.table_path(name)
            tables[name] = {"rows": pq.ParquetFile(p).metadata.num_rows, "sha256": sha256_file(p)}
        self.manifest["inputs"] = {"raw_dir": str(raw), "files": files, "skipped": sorted(skipped),
                                   "missing_since_last_run": gone, "store_dir": str(self.cfg.paths.store_dir),
                                   "store_tables": tables}
        self.manifest["rejects"] = {"rows": rejected,
                                    "files": {f["file"]: f["rows_rejected"] for f in files if f["rows_rejected"]}}
        self.data["store"] = st
        _release_memory()

    def panel(self) -> None:
        from zk_forecast.demand.panel import build_panel

        st = self.data["store"]
        missing = [t for t in ("parts", "part_issues", "stock", "depots", "machines") if t not in st.tables()]
        if missing:
            raise StepError("panel", f"the store has no {', '.join(missing)} table; put those exports into "
                                     f"[paths] raw_dir / 数据仓缺少 {', '.join(missing)} 表，请提供相应导出文件")
        read = st.read
        # the columns the later steps use (the demand panel and the customer wear lists)
        issue_cols = ("issued_on", "depot_id", "part_no", "quantity", "kind", "serial_no")
        self.data.update(parts=read("parts"), issues=read("part_issues", columns=issue_cols), depots=read("depots"),
                         machines=read("machines"), stock=read("stock"))
        tables = st.tables()
        self.data["tickets"] = read("tickets") if "tickets" in tables else None
        self.data["component_parts"] = read("component_parts") if "component_parts" in tables else None
        self.data["receipts"] = (read("receipts", columns=("part_no", "depot_id", "ordered_on", "received_on"))
                                 if "receipts" in tables else None)
        # the panel stays an array (series × weeks): the policies read it directly
        self.data["panel"] = build_panel(self.data["issues"], self.data["parts"])
        _release_memory()

    def forecast(self) -> None:
        if not self.cfg.forecast.enabled:
            self.progress.log("forecast disabled in config / 配置中已关闭预测")
            return
        from zk_forecast.demand.forecast import forecast_panel
        from zk_forecast.demand.select import AutoSelect

        # auto: the candidates' parameters are estimated once before the inner origins (one pass, not twelve)
        methods = [AutoSelect(refit=False) if m == "auto" else m for m in self.cfg.forecast.methods]
        fc = forecast_panel(self.data["panel"], h=self.cfg.forecast.horizon, methods=methods)
        self._csv(fc, "forecasts.csv")

    def installed_base(self) -> None:
        d = self.data
        if not self.cfg.forecast.installed_base:
            self.progress.log("installed-base forecast disabled in config / 配置中已关闭保有量预测")
            return
        if d["tickets"] is None or d["component_parts"] is None:
            self.progress.log("no tickets or component_parts in the store: installed-base forecast skipped "
                              "/ 缺少服务单或部件用料表，跳过保有量预测")
            return
        from zk_forecast.failures.installed_base import InstalledBaseForecaster
        from zk_forecast.failures.lives import build_lives

        lives = build_lives(d["tickets"], d["machines"], d["component_parts"])
        ib = InstalledBaseForecaster(level=(90,), random_state=0).fit(lives, d["machines"], d["component_parts"])
        pred = ib.predict(self.cfg.forecast.horizon)
        d["installed_base"] = pred
        self._csv(pred, "installed_base.csv")

    def wear_list(self) -> None:
        from zk_forecast.inventory.wearlist import wear_list

        d = self.data
        kw = {"tickets": d["tickets"], "component_parts": d["component_parts"]}
        d["wear_depot"] = wear_list(d["issues"], d["parts"], d["machines"], installed_base=d.get("installed_base"),
                                    panel=d["panel"], **kw)
        d["wear_fleet"] = wear_list(d["issues"], d["parts"], d["machines"], by="customer", **kw)

    def policies(self) -> None:
        import pandas as pd

        from zk_forecast.inventory.plan import plan
        from zk_forecast.reports.from_store import items_from_parts

        d, t = self.data, self.cfg.targets
        panel = d["panel"]
        items = items_from_parts(pd.Index(sorted(panel.unique_id.astype(str))), d["parts"])
        wl = d["wear_depot"].frame
        listed = set(wl.loc[wl["listed"].astype(bool), "part_no"].astype(str) + "|"
                      + wl.loc[wl["listed"].astype(bool), "key"].astype(str))
        items["class"] = ["wear_list" if u in listed else "other" for u in items.index]
        kw: dict[str, Any] = {}
        if self.cfg.lead_times.use_receipts and d["receipts"] is not None:
            kw = {"receipts": d["receipts"], "min_receipts": self.cfg.lead_times.min_receipts}
        pol = plan(panel, items, fill_rate={"wear_list": t.wear_list, "other": t.other},
                   review_period=t.review_period, **kw)
        d["policies"] = pol
        self._csv(pol.reset_index() if pol.index.name else pol, "policies.csv")

    def network(self) -> None:
        if not self.cfg.network.enabled:
            self.progress.log("network plan disabled in config / 配置中已关闭两级网络计划")
            return
        import numpy as np
        import pandas as pd

        from zk_forecast.inventory.network import plan_network

        d, cfg = self.data, self.cfg
        dep = d["depots"].set_index("depot_id")
        ids = [str(x) for x in dep.index]
        if cfg.depots.central not in ids:
            raise ConfigError(f"[depots.central] {cfg.depots.central!r} is not a depot in the store ({ids}); fix: "
                              f"set central to the central warehouse id / 中心库编号不在网点表中")
        branches = [i for i in ids if i != cfg.depots.central]
        miss = [b for b in branches if b not in cfg.depots.transfer_days]
        if miss:
            raise ConfigError(f"[depots.transfer_days] has no entry for branch {miss[0]!r}; fix: add "
                              f"{miss[0]} = 1 (working days from the central warehouse) / 缺少分库 {miss[0]} 的调拨天数")
        tdays = np.array([0.0 if i == cfg.depots.central else float(cfg.depots.transfer_days[i]) for i in ids])
        depots = pd.DataFrame({"role": ["central" if i == cfg.depots.central else "branch" for i in ids],
                               "transfer_days": tdays, "transfer_time": np.ceil(tdays / 5.0)},
                              index=pd.Index(ids, name="depot_id"))
        panel = d["panel"]
        recent = panel.values[:, -52:]  # the last 52 weeks [units per week]; series listed in them only
        seen = ~np.isnan(recent).all(axis=1)
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(np.where(seen[:, None], recent, 0.0), axis=1)
        rate = pd.Series(mean[seen], index=pd.Index(panel.unique_id.astype(str)[seen], name="unique_id")).sort_index()
        part_depot = rate.index.to_series().str.split("|", n=1, expand=True)
        demand = pd.DataFrame({"part_no": part_depot[0].to_numpy(), "depot_id": part_depot[1].to_numpy(),
                               "rate": rate.to_numpy(dtype=float)})
        demand = demand[demand["depot_id"].isin(ids)]
        p = d["parts"].set_index("part_no")
        wl = d["wear_depot"].frame
        wear_parts = set(wl.loc[wl["listed"].astype(bool), "part_no"].astype(str))
        parts = pd.DataFrame({"lead_time": np.ceil(p["lead_time_days"].to_numpy(dtype=float) / 7).astype(int),
                              "wear_list": [str(x) in wear_parts for x in p.index]}, index=p.index.astype(str))
        net = plan_network(demand, parts, depots, central_fill_rate=cfg.targets.central,
                           branch_fill_rate=cfg.targets.wear_list).reset_index()
        d["network"] = net
        self._csv(net, "network.csv")

    def restock(self) -> None:
        from zk_forecast.reports.restock import restock_workbooks
        from zk_forecast.reports.wearlist_report import wearlist_workbook

        d, lang = self.data, self.cfg.reports.lang
        out = self.dir / "restock"
        restock_workbooks(d["policies"], d["stock"], d["parts"], out, network=d.get("network"),
                          wear_list=d["wear_depot"], lang=lang, central=self.cfg.depots.central, depots=d["depots"])
        wearlist_workbook(d["wear_depot"], out / "wear_parts.xlsx", d["wear_fleet"], lang=lang, depots=d["depots"])

    def reports(self) -> None:
        from zk_forecast.reports import write_manufacturer_report, write_scorecard, write_service_report

        rc = self.cfg.reports
        period = _period_label(rc.period, self.today)
        self.manifest["report_period"] = period
        out = self.dir / "reports"
        store = self.cfg.paths.store_dir
        cut = str(rc.cut_ins) if rc.cut_ins else None
        if "service" in rc.scheduled:
            cal = self.cfg.calendar
            write_service_report(store, period, out,
                                 calendar=cal.working_calendar() if cal.holidays or cal.workdays else None)
        if "scorecard" in rc.scheduled:
            write_scorecard(store, period, out, cut_ins=cut)
        if "manufacturer" in rc.scheduled:
            if "machines" not in self.data:
                from zk_forecast.data.store import Store

                self.data["machines"] = Store(store).read("machines")
            makers = self.data["machines"]["manufacturer"].dropna().astype(str).unique()
            for maker in sorted(makers):
                write_manufacturer_report(store, maker, period, out, cut_ins=cut)

    # helpers -----------------------------------------------------------------------------------------
    def _csv(self, df: Any, name: str) -> None:
        """UTF-8 CSV through pyarrow's writer (a million rows in about a second); dates as YYYY-MM-DD."""
        import pyarrow as pa
        from pyarrow import csv as pacsv

        frame = df.copy()
        for c in frame.columns:
            if frame[c].dtype.kind == "M":
                frame[c] = frame[c].dt.date
            elif frame[c].dtype == object:
                frame[c] = frame[c].astype("string")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        from zk_forecast.names import escape_formula_arrow  # part numbers like =1+2 are not run as formulas

        table = pa.table([escape_formula_arrow(c) for c in table.columns], names=table.column_names)
        pacsv.write_csv(table, self.dir / name, pacsv.WriteOptions(quoting_style="needed"))


def _error_text(exc: BaseException) -> str:
    """The message of a failed step: our own errors as they are, others prefixed with their class name."""
    msg = str(exc) or exc.__class__.__name__
    return msg if isinstance(exc, ZkError) else f"{exc.__class__.__name__}: {msg}"


def _release_memory() -> None:
    """Give freed memory back to the system (arrow's memory pool keeps freed blocks for reuse otherwise)."""
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()


def _background_worker(cfg: Config, run_dir: str, today: _dt.date, parent: int, queue: Any) -> None:
    """Body of the background process: the forecasts, then the scheduled reports (:data:`BACKGROUND_STEPS`).

    Neither feeds a later step: the forecasts are an output (``forecasts.csv``) and the reports read the store
    only. Sends ``{"steps": [{"name", "seconds"}], "report_period"}`` or ``{"error", "step"}`` back through
    ``queue``; exits when the parent dies (a killed batch must not leave a process writing into its abandoned
    run folder).
    """
    import threading

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()
    import io

    step = "forecast"
    steps: list[dict[str, Any]] = []
    try:
        run = _Run(cfg, Path(run_dir), _Progress(io.StringIO(), 1), today)
        t0 = time.perf_counter()
        if cfg.forecast.enabled:
            from zk_forecast.data.store import Store
            from zk_forecast.demand.panel import build_panel

            st = Store(cfg.paths.store_dir)
            issues = st.read("part_issues", columns=("issued_on", "depot_id", "part_no", "quantity", "kind"))
            run.data["panel"] = build_panel(issues, st.read("parts"))
            del issues
            _release_memory()
        run.forecast()
        run.data.clear()
        _release_memory()
        steps.append({"name": "forecast", "seconds": round(time.perf_counter() - t0, 3), "process": "background"})
        step = "reports"
        t0 = time.perf_counter()
        run.reports()
        steps.append({"name": "reports", "seconds": round(time.perf_counter() - t0, 3), "process": "background"})
        queue.put({"steps": steps, "report_period": run.manifest.get("report_period")})
    except BaseException as exc:  # reported to the parent, which fails the run at this step
        queue.put({"error": _error_text(exc), "step": step})


class _Background:
    """The forecasts and the scheduled reports, made by a second process while the batch goes on (two cores:
    they need only the store, so they start as soon as ingest has finished)."""

    def __init__(self, cfg: Config, run_dir: Path, today: _dt.date) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.queue = ctx.Queue()
        self.proc = ctx.Process(target=_background_worker,
                                args=(cfg, str(run_dir), today, os.getpid(), self.queue), daemon=True)
        self.proc.start()

    def result(self) -> dict[str, Any]:
        import queue as _queue

        try:
            while True:
                try:
                    got: dict[str, Any] = self.queue.get(timeout=1.0)
                    break
                except _queue.Empty:
                    if not self.proc.is_alive():
                        code = self.proc.exitcode
                        try:
                            got = self.queue.get(timeout=1.0)
                            break
                        except _queue.Empty:
                            got = {"error": f"the background process (forecasts and reports) ended without a result "
                                            f"(exit code {code})"}
                            break
        finally:
            self.proc.join(timeout=30)
        return got

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=10)


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[name] = "unknown"
    return out


def _outputs(run_dir: Path) -> list[dict[str, Any]]:
    skip = {"manifest.json", "run.log", RUNNING_MARKER}
    rows = []
    for p in sorted(run_dir.rglob("*")):
        if p.is_file() and p.name not in skip:
            rows.append({"path": p.relative_to(run_dir).as_posix(), "sha256": sha256_file(p),
                         "bytes": p.stat().st_size})
    return rows


def _new_run_dir(runs_dir: Path, now: _dt.datetime) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    d = runs_dir / stamp
    n = 1
    while d.exists() or d.with_name(d.name + ".failed").exists() or d.with_name(d.name + ".abandoned").exists():
        n += 1
        d = runs_dir / f"{stamp}-{n}"
    d.mkdir()
    return d


def _clean_leftovers(runs_dir: Path, progress: _Progress) -> list[str]:
    gone = []
    for d in sorted(runs_dir.iterdir()):
        if d.is_dir() and (d / RUNNING_MARKER).exists():
            target = d.with_name(d.name + ".abandoned")
            os.replace(d, target)
            (target / RUNNING_MARKER).unlink(missing_ok=True)
            gone.append(d.name)
            progress.log(f"incomplete run {d.name} (killed?) marked as {target.name} / 未完成的运行已标记为废弃")
    return gone


def _prune_runs(runs_dir: Path, keep: int, current: Path) -> list[str]:
    """Delete run folders beyond the newest ``keep`` (by name: the start time); never ``current`` or LATEST's."""
    import re
    import shutil

    if keep <= 0:
        return []
    pattern = re.compile(r"^\d{8}-\d{6}(-\d+)?(\.failed|\.abandoned)?$")
    runs = sorted((d for d in runs_dir.iterdir() if d.is_dir() and pattern.match(d.name)),
                  key=lambda d: d.name.split(".")[0], reverse=True)
    latest = latest_run(runs_dir)
    gone = []
    for d in runs[keep:]:
        if d == current or (latest is not None and d.name == latest.name) or (d / RUNNING_MARKER).exists():
            continue
        shutil.rmtree(d, ignore_errors=True)
        gone.append(d.name)
    return gone


def _publish(runs_dir: Path, run_dir: Path) -> None:
    _atomic_write_text(runs_dir / LATEST_FILE, run_dir.name + "\n")
    link = runs_dir / LATEST_LINK
    tmp = runs_dir / f".{LATEST_LINK}.{os.getpid()}.tmp"
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(run_dir.name, tmp, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # pragma: no cover - no symbolic links here (Windows without the privilege); LATEST rules
        tmp.unlink(missing_ok=True)


def run_nightly(config: str | Path | Config, *, rebuild: bool = False, stream: TextIO | None = None,
                now: _dt.datetime | None = None) -> RunResult:
    """Run the nightly batch once and publish its outputs (the body of ``zk-forecast nightly --config zk.toml``).

    Parameters
    ----------
    config : path or Config
        The ``zk.toml`` (or a loaded :class:`~zk_forecast.config.Config`).
    rebuild : bool, default False
        Delete the store's tables and re-ingest every raw export first (recovers from a damaged table).
    stream : text stream, optional
        Where progress goes (default ``sys.stdout``): a progress display on a terminal, timestamped lines otherwise.
    now : datetime, optional
        The run's clock (run folder name, report period); default the system clock.

    Returns
    -------
    RunResult
        ``exit_code`` 0 when published; 1 when a step failed (``step`` names it, the last published run stays);
        2 for a configuration error; 3 when another run holds the lock. Never raises for these.
    """
    out = stream if stream is not None else sys.stdout
    progress = _Progress(out, len(STEPS))
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        progress.log(f"错误 / error: {exc}")
        return RunResult(EXIT_USAGE, step="config", error=str(exc))
    runs_dir = cfg.paths.runs_dir
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        probe = runs_dir / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        msg = (f"cannot write to the runs folder {runs_dir} ({exc.strerror or exc}); fix [paths] runs_dir or "
               f"the folder's permissions / 无法写入输出目录 {runs_dir}，请检查 runs_dir 配置或目录权限")
        progress.log(f"错误 / error: {msg}")
        return RunResult(EXIT_FAILED, step="prepare", error=msg)
    try:
        lock, stale = _acquire_lock(runs_dir, progress)
    except LockedError as exc:
        progress.log(f"错误 / error: {exc}")
        return RunResult(EXIT_LOCKED, step="lock", error=str(exc))
    started = now or _dt.datetime.now()
    run_dir: Path | None = None
    background: _Background | None = None
    step = "prepare"
    try:
        abandoned = _clean_leftovers(runs_dir, progress)
        run_dir = _new_run_dir(runs_dir, started)
        (run_dir / RUNNING_MARKER).write_text(f"{os.getpid()}\n", encoding="utf-8")
        progress.log(f"run {run_dir.name} started in {runs_dir} / 开始运行")
        run = _Run(cfg, run_dir, progress, started.date())
        pause = os.environ.get(PAUSE_ENV, "")
        t_all = time.perf_counter()
        if rebuild:
            step = "rebuild"
            progress.log("rebuilding the store from the raw exports / 从原始导出文件重建数据仓")
            rebuild_store(cfg.paths.raw_dir, cfg.paths.store_dir, mapping=cfg.paths.mapping)
        for step in STEPS[:-1]:
            progress.step(step)
            if pause.startswith(step + ":"):
                time.sleep(float(pause.split(":", 1)[1]))
            t0 = time.perf_counter()
            if step in BACKGROUND_STEPS and background is not None:
                if step != BACKGROUND_STEPS[-1]:
                    progress.log(f"step {step} runs in the background process / 后台进程运行")
                    progress.done += 1
                    continue
                got = background.result()  # the last background step: wait for the process
                background = None
                if "error" in got:
                    raise StepError(str(got.get("step", step)), got["error"])
                run.manifest["report_period"] = got["report_period"]
                run.manifest["steps"].extend(got["steps"])
                secs = time.perf_counter() - t0
                run.manifest["steps"].append({"name": "background_wait", "seconds": round(secs, 3)})
                progress.step_done(step, secs)
                continue
            getattr(run, step)()
            secs = time.perf_counter() - t0
            run.manifest["steps"].append({"name": step, "seconds": round(secs, 3)})
            progress.step_done(step, secs)
            if step == "ingest" and cfg.batch.processes > 1 and (cfg.forecast.enabled or cfg.reports.scheduled):
                background = _Background(cfg, run_dir, run.today)
        step = "publish"
        progress.step(step)
        t0 = time.perf_counter()
        finished = _dt.datetime.now()
        manifest = {
            "run_id": run_dir.name, "status": "published",
            "started_at": started.isoformat(timespec="seconds"), "finished_at": finished.isoformat(timespec="seconds"),
            "host": socket.gethostname(), "pid": os.getpid(), "clock_fields": list(CLOCK_FIELDS),
            "stale_lock_cleared": stale, "abandoned_runs": abandoned, "rebuild": rebuild,
            **run.manifest,
            "settings": cfg.to_dict(), "versions": _versions(),
            "total_seconds": round(time.perf_counter() - t_all, 3),
            "outputs": _outputs(run_dir),
        }
        (run_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str)
                                               + "\n", encoding="utf-8")
        (run_dir / "run.log").write_text("\n".join(progress.lines) + "\n", encoding="utf-8")
        (run_dir / RUNNING_MARKER).unlink()
        _fsync_dir(run_dir)
        _publish(runs_dir, run_dir)
        pruned = _prune_runs(runs_dir, cfg.paths.keep_runs, run_dir)
        if pruned:
            progress.log(f"deleted {len(pruned)} old run folder(s) beyond keep_runs = {cfg.paths.keep_runs}: "
                         f"{', '.join(pruned)} / 已删除旧的运行目录")
        progress.step_done(step, time.perf_counter() - t0)
        progress.finish()
        progress.log(f"published {run_dir} / 已发布: restock lists in {run_dir / 'restock'}, reports in "
                     f"{run_dir / 'reports'}")
        return RunResult(EXIT_OK, run_dir=run_dir, manifest=manifest)
    except BaseException as exc:
        if background is not None:
            background.stop()
        failed_step = exc.step if isinstance(exc, StepError) else step
        msg = _error_text(exc)
        progress.finish()
        progress.log(f"错误 / error: step {failed_step} failed / 步骤 {failed_step} 失败: {msg}")
        progress.log("the last published run is unchanged / 上一次发布的结果保持不变")
        if run_dir is not None and run_dir.exists():
            try:
                (run_dir / "ERROR.txt").write_text(f"step: {failed_step}\n{msg}\n", encoding="utf-8")
                (run_dir / "run.log").write_text("\n".join(progress.lines) + "\n", encoding="utf-8")
                (run_dir / RUNNING_MARKER).unlink(missing_ok=True)
                target = run_dir.with_name(run_dir.name + ".failed")
                os.replace(run_dir, target)
                run_dir = target
            except OSError:  # pragma: no cover
                pass
        if not isinstance(exc, Exception):
            raise
        return RunResult(EXIT_FAILED, run_dir=run_dir, step=failed_step, error=msg)
    finally:
        _release_lock(lock)


def _main(argv: list[str] | None = None) -> int:
    """``python -m zk_forecast.pipeline zk.toml [--rebuild]`` (the CLI's ``nightly`` does the same)."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m zk_forecast.pipeline zk.toml [--rebuild]", file=sys.stderr)
        return EXIT_USAGE
    return run_nightly(args[0], rebuild="--rebuild" in args[1:]).exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
