"""One night, start to end: checks, lock, leftovers, the steps (two processes), publish, the closing summary.

:func:`nightly` (``zk.nightly``; ``zk-forecast nightly --config zk.toml``) runs it; :func:`load_run`
(``zk.load_run("latest")``) gives a notebook what a published night used. The exit codes are those of
:mod:`zk_forecast.batch.codes`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from zk_forecast.batch import runfolder as rf
from zk_forecast.batch.background import Background, blas_threads
from zk_forecast.batch.codes import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_REPORT_FAILED,
    EXIT_STALE_DATA,
    EXIT_USAGE,
    exit_meaning,
)
from zk_forecast.batch.progress import Progress
from zk_forecast.batch.state import DataAge, NightState, RunContext
from zk_forecast.batch.steps import MAIN_STEPS, OFFLOADED, STEPS, StepError, error_text, run_step
from zk_forecast.config import Config, check_config_files, load_config
from zk_forecast.errors import ConfigError

__all__ = ["RESTOCK_STEPS", "LoadedRun", "RunResult", "load_run", "nightly", "rebuild_store", "restock_lists",
           "run_nightly"]

CLOCK_FIELDS = ("run_id", "started_at", "finished_at", "steps[].seconds", "total_seconds", "host", "pid",
                "stale_lock_cleared", "leftovers", "inputs.store_tables[].sha256")
#: Tables whose latest date makes the data's as-of date (the restock lists and the service report stand on them).
AGE_TABLES = ("part_issues", "stock", "tickets")
_VERSIONED = ("zk_forecast", "numpy", "pandas", "scipy", "pyarrow", "openpyxl", "matplotlib")


@dataclass
class RunResult:
    """What a nightly run did.

    Attributes
    ----------
    exit_code : int
        :mod:`zk_forecast.batch.codes`: 0 published, 1 a step failed, 2 configuration error, 3 locked,
        4 published with stale data, 5 published with a failed report.
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
        """Whether the run was published (with or without warnings)."""
        return self.exit_code in (EXIT_OK, EXIT_STALE_DATA, EXIT_REPORT_FAILED)

    def __repr__(self) -> str:
        what = "published" if self.ok else f"failed in {self.step}: {self.error}"
        return f"RunResult(exit_code={self.exit_code}, run_dir={str(self.run_dir)!r}, {what})"


# ------------------------------------------------------------------------------------------------ the store
def rebuild_store(raw_dir: str | Path, store_dir: str | Path, *, mapping: str | Path | None = None,
                  force: bool = False, workbook_limits: Any = None) -> Any:
    """Build the store's tables again from the exports in ``raw_dir`` (:func:`zk_forecast.data.ingest.rebuild`).

    The body of ``zk-forecast ingest --rebuild``: the way back from a damaged parquet table. Refused, with the
    count of rows per table and export, when stored rows would be dropped because their exports are gone, unless
    ``force``.

    Parameters
    ----------
    raw_dir : path
        Folder of the exports.
    store_dir : path
        The store.
    mapping : path, optional
        Column mapping file.
    force : bool, default False
        Drop stored rows that no export in ``raw_dir`` holds any more.
    workbook_limits : WorkbookLimits, optional
        Limits checked before a workbook is opened (the config's ``[ingest]``; default the built-in ones).

    Returns
    -------
    IngestResult

    Raises
    ------
    ReadError
        ``raw_dir`` is not a folder (nothing is changed then).
    zk_forecast.data.ingest.RebuildRefused
        Rows would be dropped and ``force`` is False (nothing is changed then).
    """
    from zk_forecast.data.ingest import rebuild

    return rebuild(raw_dir, store_dir, mapping=mapping, force=force, workbook_limits=workbook_limits)


# ------------------------------------------------------------------------------------------------ pieces
def _prepare_runs_dir(runs_dir: Path) -> str | None:
    """Create the runs folder and check it is writable; the error text, or None."""
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        probe = runs_dir / f".write-test.{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return (f"cannot write to the runs folder {runs_dir} ({exc.strerror or exc}); fix: correct [paths] runs_dir "
                f"or the folder's permissions / 无法写入输出目录 {runs_dir}，请检查 runs_dir 配置或目录权限")
    return None


def _data_age(dates: dict[str, _dt.date | None], today: _dt.date, limit: int) -> DataAge:
    known = [d for t, d in dates.items() if t in AGE_TABLES and d is not None]
    as_of = min(known) if known else None
    return DataAge(as_of, (today - as_of).days if as_of is not None else None, limit)


def _judge_data_age(state: NightState, ctx: RunContext) -> None:
    """Set ``ctx.data_age`` from the table dates; a warning when the data is older than the limit."""
    ctx.data_age = _data_age(state.table_dates or {}, ctx.today, ctx.cfg.batch.max_data_age_days)
    age = ctx.data_age
    if age.stale:
        ctx.warn(f"the data is {age.age_days} days old (as of {age.as_of}), older than [batch] max_data_age_days = "
                 f"{age.limit_days}: published with a banner; fix: check that the day's exports reach "
                 f"[paths] raw_dir / 数据已过期 {age.age_days} 天（截至 {age.as_of}），超过 max_data_age_days = "
                 f"{age.limit_days}：已发布并加警示横幅；请检查当天的导出文件是否送达")


def _run_steps(state: NightState, ctx: RunContext, progress: Progress, timings: list[dict[str, Any]]) -> None:
    """The steps of :data:`MAIN_STEPS`, two processes when configured (module :mod:`.background`)."""
    cfg = ctx.cfg
    pause = os.environ.get("ZK_FORECAST_PAUSE_IN_STEP", "")
    two = cfg.batch.processes > 1 and (cfg.forecast.enabled or bool(cfg.reports.scheduled))
    background: Background | None = None
    limits = blas_threads(cfg.batch.processes if two else 1)
    try:
        if two:  # started now: it imports what it needs while the exports are ingested, then waits for go()
            background = Background(ctx)
        for name in MAIN_STEPS:
            progress.step(name)
            rf.fault(name)
            if pause.startswith(name + ":"):
                time.sleep(float(pause.split(":", 1)[1]))
            t0 = time.perf_counter()
            if background is not None and name in OFFLOADED:
                if name != OFFLOADED[-1]:
                    progress.log(f"step {name} runs in the background process / 后台进程运行")
                    progress.done += 1
                    continue
                _collect_background(background, state, timings, ctx)
                background = None
                name = "background_wait"
            else:
                run_step(name, state, ctx)
            secs = time.perf_counter() - t0
            timings.append({"name": name, "seconds": round(secs, 3)})
            progress.step_done(name, secs)
            if name == "data_dates":
                _judge_data_age(state, ctx)
                if background is not None:
                    background.go(ctx.data_age, _shared_names(state, ctx))
            if name == "wear_list" and background is not None:
                background.send_wear_list(state.wear_depot)
    except BaseException:
        if background is not None:
            background.stop()
        raise
    finally:
        limits.restore_original_limits()


def _shared_names(state: NightState, ctx: RunContext) -> list[str] | None:
    """The reports either process may write, in order (None when they cannot be listed: the background process
    then meets the same error at its reports step and records it)."""
    from zk_forecast.batch.steps import shared_reports

    try:
        return list(shared_reports(state, ctx))
    except Exception:
        return None


def _collect_background(background: Background, state: NightState, timings: list[dict[str, Any]],
                        ctx: RunContext) -> None:
    from zk_forecast.batch.steps import shared_reports, write_report

    try:  # the main process writes those the background has not taken yet
        calls = shared_reports(state, ctx)
    except Exception:  # the background process meets the same error and fails the step with it
        calls = {}
    mine: dict[str, str] = {}
    got = background.result((lambda name: write_report(name, calls[name], ctx, mine)) if calls else None)
    if "error" in got:
        raise StepError(str(got.get("step", "reports")), got["error"])
    timings.extend(got["steps"])
    state.report_period = got["report_period"]
    failed = {**got["report_failures"], **mine}
    state.report_failures = {n: failed[n] for n in [*calls, "service"] if n in failed}


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:  # pragma: no cover
            out[name] = "unknown"
    return out


def _outputs(run_dir: Path) -> list[dict[str, Any]]:
    from zk_forecast.data.ingest import sha256_file

    skip = {rf.MANIFEST, "run.log", rf.RUNNING_MARKER}
    rows = []
    for p in sorted(run_dir.rglob("*")):
        if p.is_file() and p.name not in skip:
            rows.append({"path": p.relative_to(run_dir).as_posix(), "sha256": sha256_file(p),
                         "bytes": p.stat().st_size})
    return rows


def _exit_code(state: NightState, ctx: RunContext) -> int:
    if state.report_failures:
        return EXIT_REPORT_FAILED
    if ctx.data_age is not None and ctx.data_age.stale:
        return EXIT_STALE_DATA
    return EXIT_OK


def _manifest(state: NightState, ctx: RunContext, timings: list[dict[str, Any]], extra: dict[str, Any],
              t_all: float) -> dict[str, Any]:
    age = ctx.data_age
    code = _exit_code(state, ctx)
    return {
        "run_id": ctx.run_dir.name, "status": "complete",
        "started_at": ctx.started.isoformat(timespec="seconds"),
        "finished_at": _dt.datetime.now().isoformat(timespec="seconds"),
        "host": socket.gethostname(), "pid": os.getpid(), "clock_fields": list(CLOCK_FIELDS), **extra,
        "inputs": state.inputs or {}, "rejects": state.rejects or {}, "outputs": [], "steps": timings,
        "data_dates": {t: (d.isoformat() if d else None) for t, d in (state.table_dates or {}).items()},
        "data_as_of": age.as_of.isoformat() if age and age.as_of else None,
        "data_age_days": age.age_days if age else None, "stale_data": bool(age and age.stale),
        "report_period": state.report_period,
        "reports": {"failed": state.report_failures or {}},
        "warnings": list(ctx.warnings),
        "exit_code": code, "exit_meaning": exit_meaning(code),
        "settings": ctx.cfg.to_dict(), "versions": _versions(),
        "total_seconds": round(time.perf_counter() - t_all, 3),
    }


def summary_lines(manifest: dict[str, Any], run_dir: Path) -> list[str]:
    """The closing lines of a published run: rows per table, rejects, what was published, warnings, exit code."""
    lines = ["—— 汇总 / summary ——"]
    by_table: dict[str, list[int]] = {}
    for f in manifest.get("inputs", {}).get("files", []):
        row = by_table.setdefault(str(f.get("table") or "-"), [0, 0, 0])
        row[0] += int(f.get("rows_in") or 0)
        row[1] += int(f.get("rows_loaded") or 0)
        row[2] += int(f.get("rows_rejected") or 0)
    if by_table:
        lines.append(f"{'表 / table':<18} {'读入 in':>9} {'导入 loaded':>11} {'拒收 rejected':>13}")
        for t, (n_in, n_ok, n_bad) in sorted(by_table.items()):
            lines.append(f"{t:<18} {n_in:>9} {n_ok:>11} {n_bad:>13}")
    else:
        lines.append("没有读入导出文件（未改动或 --from-store）/ no export read (unchanged, or --from-store)")
    for f in manifest.get("inputs", {}).get("files", []):
        if f.get("rows_rejected") and f.get("rejects"):
            lines.append(f"拒收明细 / rejects of {f['file']}: {f['rejects']}")
    outs = manifest.get("outputs", [])
    restock = sum(1 for o in outs if o["path"].startswith("restock/"))
    rep = sum(1 for o in outs if o["path"].startswith("reports/"))
    lines.append(f"已发布 / published {run_dir}: {restock} 个补货与易损件文件 / restock files, {rep} 份报告 / reports, "
                 f"{len(outs) - restock - rep} 个数据文件 / data files")
    if manifest.get("data_as_of"):
        lines.append(f"数据截至 / data as of {manifest['data_as_of']} ({manifest.get('data_age_days')} 天前 / days ago)")
    for name, err in manifest.get("reports", {}).get("failed", {}).items():
        lines.append(f"报告失败 / report failed: {name}: {err}")
    for w in manifest.get("warnings", []):
        lines.append(f"警告 / warning: {w}")
    code = int(manifest.get("exit_code", EXIT_OK))
    lines.append(f"退出码 / exit code {code}: {exit_meaning(code)}")
    return lines


def _publish(state: NightState, ctx: RunContext, progress: Progress, timings: list[dict[str, Any]],
             extra: dict[str, Any], t_all: float) -> RunResult:
    progress.step("publish")
    t0 = time.perf_counter()
    runs_dir = ctx.cfg.paths.runs_dir
    manifest = _manifest(state, ctx, timings, extra, t_all)
    manifest["outputs"] = _outputs(ctx.run_dir)
    progress.finish()
    closing = progress.record("\n".join(summary_lines(manifest, ctx.run_dir)))  # run.log ends with the summary
    rf.publish(runs_dir, ctx.run_dir, manifest, progress.text())
    pruned = rf.prune_runs(runs_dir, ctx.cfg.paths.keep_runs, ctx.run_dir)
    if pruned:
        progress.log(f"deleted {len(pruned)} old run folder(s) beyond keep_runs = {ctx.cfg.paths.keep_runs}: "
                     f"{', '.join(pruned)} / 已删除旧的运行目录")
    progress.step_done("publish", time.perf_counter() - t0)
    progress.show(closing)  # and so does the console
    return RunResult(int(manifest["exit_code"]), run_dir=ctx.run_dir, manifest=manifest)


def _fail(exc: BaseException, failed_step: str, ctx: RunContext | None, progress: Progress) -> RunResult:
    msg = error_text(exc)
    progress.finish()
    progress.log(f"错误 / error: step {failed_step} failed / 步骤 {failed_step} 失败: {msg}")
    progress.log("the last published run is unchanged / 上一次发布的结果保持不变")
    progress.log(f"退出码 / exit code {EXIT_FAILED}: {exit_meaning(EXIT_FAILED)}")
    run_dir = None
    if ctx is not None and ctx.run_dir.exists():
        run_dir = rf.fail_run(ctx.run_dir, failed_step, msg, progress.text())
    return RunResult(EXIT_FAILED, run_dir=run_dir, step=failed_step, error=msg)


def _store_lock(cfg: Config) -> Any:
    """The store's own lock, held by the whole night (ingest and rebuild inside it share it)."""
    from zk_forecast.data.store import Store

    cfg.paths.store_dir.mkdir(parents=True, exist_ok=True)
    return Store(cfg.paths.store_dir).lock(purpose="nightly batch")


def _start(cfg: Config, progress: Progress, started: _dt.datetime, from_store: bool, store_seen: list[Path]
           ) -> tuple[RunContext, dict[str, Any]]:
    """Under the locks: tidy leftovers, create the run folder."""
    runs_dir = cfg.paths.runs_dir
    leftovers = rf.clean_leftovers(runs_dir, cfg.paths.store_dir, progress.log, store_seen)
    run_dir = rf.new_run_dir(runs_dir, started)
    progress.log(f"run {run_dir.name} started in {runs_dir} / 开始运行")
    ctx = RunContext(cfg, run_dir, started, progress.log, from_store=from_store)
    return ctx, {"leftovers": leftovers, "abandoned_runs": leftovers["abandoned_runs"]}


def run_nightly(config: str | Path | Config, *, rebuild: bool = False, from_store: bool = False,
                stream: TextIO | None = None, now: _dt.datetime | None = None) -> RunResult:
    """Run the nightly batch once and publish its outputs (the body of ``zk-forecast nightly --config zk.toml``).

    Parameters
    ----------
    config : path or Config
        The ``zk.toml`` (or a loaded :class:`~zk_forecast.config.Config`).
    rebuild : bool, default False
        Delete the store's tables and re-ingest every raw export first (recovers from a damaged table).
    from_store : bool, default False
        Publish from the stored data without reading ``raw_dir`` (which may then be missing or empty).
    stream : text stream, optional
        Where progress goes (default ``sys.stdout``): a progress display on a terminal, timestamped lines otherwise.
    now : datetime, optional
        The run's clock (run folder name, report period, 生成时间); default the system clock.

    Returns
    -------
    RunResult
        ``exit_code`` as :mod:`zk_forecast.batch.codes` lists them. Never raises for these.
    """
    progress = Progress(stream if stream is not None else sys.stdout, len(STEPS))
    try:
        cfg = load_config(config)
        check_config_files(cfg, from_store=from_store)
    except ConfigError as exc:
        progress.log(f"错误 / error: {exc}")
        progress.log(f"退出码 / exit code {EXIT_USAGE}: {exit_meaning(EXIT_USAGE)}")
        return RunResult(EXIT_USAGE, step="config", error=str(exc))
    problem = _prepare_runs_dir(cfg.paths.runs_dir)
    if problem:
        progress.log(f"错误 / error: {problem}")
        return RunResult(EXIT_FAILED, step="prepare", error=problem)
    try:
        lock, stale = rf.acquire_lock(cfg.paths.runs_dir, progress.log)
    except rf.LockedError as exc:
        progress.log(f"错误 / error: {exc}")
        progress.log(f"退出码 / exit code {EXIT_LOCKED}: {exit_meaning(EXIT_LOCKED)}")
        return RunResult(EXIT_LOCKED, step="lock", error=str(exc))
    ctx: RunContext | None = None
    step = "prepare"
    held = contextlib.ExitStack()
    try:
        store_seen = rf.store_leftovers(cfg.paths.store_dir)  # taking the store's lock tidies them
        held.enter_context(_store_lock(cfg))  # one writer at a time: an ingest started meanwhile waits for the night
        ctx, extra = _start(cfg, progress, now or _dt.datetime.now(), from_store, store_seen)
        extra.update(stale_lock_cleared=stale, rebuild=rebuild)
        t_all = time.perf_counter()
        if rebuild:
            step = "rebuild"
            progress.log("rebuilding the store from the raw exports / 从原始导出文件重建数据仓")
            rebuild_store(cfg.paths.raw_dir, cfg.paths.store_dir, mapping=cfg.paths.mapping,
                          workbook_limits=cfg.ingest.workbook_limits())
        state = NightState()
        timings: list[dict[str, Any]] = []
        step = "steps"
        _run_steps(state, ctx, progress, timings)
        step = "publish"
        return _publish(state, ctx, progress, timings, extra, t_all)
    except BaseException as exc:
        if ctx is None and exc.__class__.__name__ == "StoreLockedError":
            progress.log(f"错误 / error: {exc}")
            progress.log(f"退出码 / exit code {EXIT_LOCKED}: {exit_meaning(EXIT_LOCKED)}")
            return RunResult(EXIT_LOCKED, step="lock", error=str(exc))
        failed = exc.step if isinstance(exc, StepError) else (progress.current if step == "steps" else step)
        result = _fail(exc, failed, ctx, progress)
        if not isinstance(exc, Exception):
            raise
        return result
    finally:
        held.close()
        rf.release_lock(lock)


def nightly(config: str | Path | Config = "zk.toml", *, rebuild: bool = False, from_store: bool = False,
            stream: TextIO | None = None) -> RunResult:
    """Run the nightly batch (``zk.nightly("zk.toml")``); see :func:`run_nightly`."""
    return run_nightly(config, rebuild=rebuild, from_store=from_store, stream=stream)


#: The night's steps that make the restock lists and the wear-part list (the forecasts and reports left out).
RESTOCK_STEPS = tuple(n for n in MAIN_STEPS if n not in OFFLOADED)


def restock_lists(config: str | Path | Config | None = None, out_dir: str | Path = "reports", *,
                  store_dir: str | Path | None = None, started: _dt.datetime | None = None,
                  lang: str | None = None, stream: TextIO | None = None) -> dict[str, Path]:
    """The restock workbooks and the wear-part list as the nightly makes them, from the stored data.

    The same steps as :func:`run_nightly` (:data:`RESTOCK_STEPS`, under the store's lock, reading no exports),
    so for the same store, settings and clock the files are byte-identical to a night's ``restock/`` folder.
    ``zk-forecast report restock`` runs it.

    Parameters
    ----------
    config : path or Config, optional
        The night's ``zk.toml``; without one, the example configuration's defaults (``zk-forecast init``).
    out_dir : path
        Folder for ``restock_<DEPOT>.xlsx`` (+ csv) and ``wear_parts.xlsx``.
    store_dir : path, optional
        The store, instead of the config's ``[paths] store_dir``.
    started : datetime, optional
        The clock written as 生成时间 and used for the data's age and the season ahead; default now.
    lang : {"zh", "en"}, optional
        Header language, instead of the config's ``[reports] lang``.
    stream : text stream, optional
        Progress lines (default standard error).

    Returns
    -------
    dict
        Depot id (and ``"wear_parts"``) -> path written.
    """
    import dataclasses
    import shutil
    import tempfile

    from zk_forecast.config import EXAMPLE_CONFIG, config_from_dict
    from zk_forecast.data.store import Store

    if config is not None:
        cfg = load_config(config)
    else:  # the example configuration (zk-forecast init) is the one source of defaults
        cfg = config_from_dict(_toml_loads(EXAMPLE_CONFIG), base_dir=Path.cwd(), source="example configuration")
    if store_dir is not None:
        cfg = dataclasses.replace(cfg, paths=dataclasses.replace(cfg.paths, store_dir=Path(store_dir)))
    if lang is not None:
        cfg = dataclasses.replace(cfg, reports=dataclasses.replace(cfg.reports, lang=lang))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    progress = Progress(stream if stream is not None else sys.stderr, len(RESTOCK_STEPS))
    state = NightState()
    with tempfile.TemporaryDirectory(dir=out, prefix=".restock-") as scratch:  # the steps' own csv files
        ctx = RunContext(cfg, Path(scratch), started or _dt.datetime.now().replace(microsecond=0), progress.log,
                         from_store=True)
        with Store(cfg.paths.store_dir).lock(purpose="restock lists"):
            for name in RESTOCK_STEPS:
                progress.step(name)
                t0 = time.perf_counter()
                run_step(name, state, ctx)
                progress.step_done(name, time.perf_counter() - t0)
                if name == "data_dates":
                    _judge_data_age(state, ctx)
        made = _restock_paths(state)
        paths = {}
        for key, p in made.items():
            for twin in (p, p.with_suffix(".csv")):
                if twin.is_file():
                    shutil.move(str(twin), out / twin.name)
            paths[key] = out / p.name
    return paths


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)


def _restock_paths(state: NightState) -> dict[str, Path]:
    """Depot id (and ``"wear_parts"``) -> workbook written by the ``restock`` step."""
    from zk_forecast.names import safe_name

    ids: set[str] = set()
    for table in (state.depots, state.stock):
        if table is not None and "depot_id" in table.columns:
            ids.update(table["depot_id"].dropna().astype(str))
    by_stem = {f"restock_{safe_name(d)}": d for d in ids}
    out: dict[str, Path] = {}
    for p in map(Path, state.restock_files or []):
        if p.suffix == ".xlsx":
            out[by_stem.get(p.stem, p.stem.removeprefix("restock_"))] = p
    return out


# ------------------------------------------------------------------------------------------------ load_run
@dataclass
class LoadedRun:
    """What a published night used and published, for a notebook (:func:`load_run`).

    Attributes
    ----------
    run_dir : Path
    manifest : dict
    config : Config
        The settings the night ran with.
    store : Store
    panel : Panel
        The weekly demand panel the plan used (rebuilt from the store's issues; same numbers while the store
        holds the same rows: ``manifest["inputs"]["store_tables"]`` lists their sha256).
    policies : pandas.DataFrame
        ``policies.csv`` as published (indexed by ``unique_id``).
    wear_list : pandas.DataFrame
        The wear-part list per depot, recomputed by the night's ``wear_list`` step.
    network : pandas.DataFrame or None
        ``network.csv`` as published.
    """

    run_dir: Path
    manifest: dict[str, Any]
    config: Config
    store: Any
    panel: Any
    policies: Any
    wear_list: Any
    network: Any
    state: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (f"LoadedRun({self.run_dir.name}: {len(self.policies)} policies, data as of "
                f"{self.manifest.get('data_as_of')}, exit code {self.manifest.get('exit_code')})")

    def _context(self, out_dir: Path) -> RunContext:
        ctx = RunContext(self.config, out_dir, _dt.datetime.fromisoformat(self.manifest["started_at"]),
                         lambda _m: None)
        as_of = self.manifest.get("data_as_of")
        ctx.data_age = DataAge(_dt.date.fromisoformat(as_of) if as_of else None, self.manifest.get("data_age_days"),
                               self.config.batch.max_data_age_days)
        return ctx

    def restock(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the night's restock workbooks again, from what it used, into ``out_dir/restock/``.

        The same step as the night's, on the same policies, network plan, stock and wear list, with the night's
        clock: the files are byte-identical to the published ones while the store holds the same rows.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.state.policies, self.state.network = self.policies, self.network
        run_step("restock", self.state, self._context(out))
        return _restock_paths(self.state)

    def what_if(self, **plan_settings: Any) -> Any:
        """Plan again in memory with other settings (e.g. ``fill_rate=0.9`` or ``objective="item"``).

        Starts from the night's settings (targets per depot and class, objective, review period, measured lead
        times); ``plan_settings`` override :func:`~zk_forecast.inventory.plan.plan`'s keywords. Returns the new
        policies (``attrs["groups"]`` per group); the published files are not touched.
        """
        import dataclasses

        from zk_forecast.batch.steps import plan_inputs
        from zk_forecast.inventory.plan import plan

        cfg = self.config
        if "objective" in plan_settings:  # the items and targets follow the objective asked for
            cfg = dataclasses.replace(cfg, targets=dataclasses.replace(cfg.targets,
                                                                         objective=plan_settings["objective"]))
        items, fill_rate, kw = plan_inputs(self.state, cfg)
        return plan(self.state.panel, items, **{"fill_rate": fill_rate, **kw, **plan_settings})


def load_run(run: str | Path = "latest", *, config: str | Path | Config | None = None) -> LoadedRun:
    """What a published night used: its config, store, panel, policies, wear list and network plan.

    Parameters
    ----------
    run : "latest", a run folder, or a runs folder
        ``"latest"`` reads ``LATEST`` of the runs folder of ``config`` (default ``zk.toml``); a runs folder
        (holding ``LATEST``) gives its latest run; a run folder is read as it is.
    config : path or Config, optional
        Used only to find the runs folder for ``"latest"``; the run's own settings come from its manifest.

    Returns
    -------
    LoadedRun

    Raises
    ------
    ZkValueError
        Nothing was published, or the folder is not a published run.
    """
    import json
    import tempfile

    import pandas as pd

    from zk_forecast.config import config_from_dict
    from zk_forecast.data.store import Store
    from zk_forecast.errors import ZkValueError

    run_dir = _resolve_run(run, config)
    mpath = run_dir / rf.MANIFEST
    if not mpath.is_file():
        raise ZkValueError(f"{run_dir} is not a published run (no manifest.json); fix: pass a run folder named by "
                           f"LATEST / 不是已发布的运行目录")
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    cfg = config_from_dict(_settings_doc(manifest["settings"]), source=str(mpath))
    state = NightState(store=Store(cfg.paths.store_dir))
    with tempfile.TemporaryDirectory() as scratch:  # the steps' own csv files go here, never into the run
        ctx = RunContext(cfg, Path(scratch), _dt.datetime.fromisoformat(manifest["started_at"]), lambda _m: None)
        for name in ("load_tables", "panel", "installed_base", "wear_list"):
            run_step(name, state, ctx)
    policies = pd.read_csv(run_dir / "policies.csv", float_precision="round_trip").set_index("unique_id")
    # (round_trip: the published numbers read back bit for bit, so the night's lists can be made again)
    net = run_dir / "network.csv"
    wear = state.wear_depot.frame if state.wear_depot is not None else None
    network = pd.read_csv(net, float_precision="round_trip") if net.is_file() else None
    return LoadedRun(run_dir, manifest, cfg, state.store, state.panel, policies, wear, network, state=state)


def _resolve_run(run: str | Path, config: str | Path | Config | None) -> Path:
    from zk_forecast.errors import ZkValueError

    if str(run) == "latest":
        cfg = load_config(config if config is not None else "zk.toml")
        runs_dir = cfg.paths.runs_dir
    elif (Path(run) / rf.LATEST_FILE).is_file():
        runs_dir = Path(run)
    else:
        return Path(run)
    found = rf.latest_run(runs_dir)
    if found is None:
        raise ZkValueError(f"nothing was published in {runs_dir} yet; fix: run `zk-forecast nightly` first "
                           f"/ 尚无已发布的运行，请先运行夜间批处理")
    return found


def _settings_doc(settings: dict[str, Any]) -> dict[str, Any]:
    """The manifest's settings as a config document (absolute paths; None values left out)."""
    doc: dict[str, Any] = {}
    for section, values in settings.items():
        if section == "source" or not isinstance(values, dict):
            continue
        doc[section] = {k: v for k, v in values.items() if v is not None}
    return doc
