"""Fault tests of the nightly batch (zk_forecast.pipeline) on the small demo, generated once per module.

Each test works on its own copy of a store and runs folder that already hold one published run.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from zk_forecast.data import demo
from zk_forecast.pipeline import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_REPORT_FAILED,
    EXIT_STALE_DATA,
    EXIT_USAGE,
    LATEST_FILE,
    LOCK_NAME,
    MAIN_STEPS,
    PAUSE_ENV,
    STEPS,
    latest_run,
    run_nightly,
)

CONFIG = """\
[paths]
raw_dir = "{raw}"
store_dir = "store"
runs_dir = "runs"

[depots.transfer_days]
PL01 = 1
QT01 = 1
GY01 = 2

[forecast]
enabled = {forecast}
installed_base = {forecast}

[network]
enabled = {network}

[reports]
scheduled = {reports}
period = "2026Q3"
"""


def write_config(folder: Path, raw: Path, *, full: bool = False) -> Path:
    """A zk.toml in ``folder``; ``full`` adds forecasts, the network plan and the service report."""
    text = CONFIG.format(raw=raw.as_posix(), forecast=str(full).lower(), network=str(full).lower(),
                         reports='["service"]' if full else "[]")
    p = folder / "zk.toml"
    p.write_text(text, encoding="utf-8")
    return p


#: A run clock two days after the demo's data ends (2026-10-31): fresh data, the same 生成时间 in every output.
NOW = dt.datetime(2026, 11, 2, 3, 0, 0)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(raw exports, a folder with a store and one published run of the full configuration)."""
    root = tmp_path_factory.mktemp("nightly")
    raw = demo.generate(root / "raw", scale="small", seed=7).out_dir
    work = root / "work"
    work.mkdir()
    res = run_nightly(write_config(work, Path(raw), full=True), stream=io.StringIO(), now=NOW)
    assert res.exit_code == EXIT_OK, res
    return Path(raw), work


@pytest.fixture()
def site(base: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """(config path, work folder): a private copy of the published base."""
    raw, work = base
    dst = tmp_path / "work"
    shutil.copytree(work, dst, symlinks=True)
    return write_config(dst, raw), dst


def _spawn(config: Path, pause: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, **{PAUSE_ENV: pause})
    return subprocess.Popen([sys.executable, "-m", "zk_forecast.pipeline", str(config)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait_for_running(runs: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> Path:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        marked = [d for d in runs.iterdir() if (d / ".running").exists()]
        if marked and (runs / LOCK_NAME).exists():
            return marked[0]
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.1)
    raise AssertionError("the run never started")


def test_published_run_has_manifest_and_pointer(site: tuple[Path, Path]) -> None:
    _, work = site
    runs = work / "runs"
    run = latest_run(runs)
    assert run is not None and run.is_dir()
    assert (runs / "latest").resolve() == run.resolve()
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert m["status"] == "published"
    files = {f["file"]: f for f in m["inputs"]["files"]}
    assert any(f["table"] == "part_issues" and f["rows_in"] > 0 and len(f["sha256"]) == 64 for f in files.values())
    assert {s["name"] for s in m["steps"]} >= {"ingest", "policies", "restock"}
    outs = {o["path"] for o in m["outputs"]}
    assert "restock/wear_parts.xlsx" in outs and "restock/restock_YC01.xlsx" in outs
    assert "pandas" in m["versions"] and m["settings"]["targets"]["wear_list"] == 0.95
    assert not (runs / LOCK_NAME).exists()


def test_kill_9_mid_run_keeps_last_published(site: tuple[Path, Path]) -> None:
    config, work = site
    runs = work / "runs"
    before = (runs / LATEST_FILE).read_text(encoding="utf-8")
    proc = _spawn(config, "panel:60")
    killed = _wait_for_running(runs, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert (runs / LATEST_FILE).read_text(encoding="utf-8") == before
    assert (runs / LOCK_NAME).exists()  # left behind by the killed run: stale
    out = io.StringIO()
    res = run_nightly(config, stream=out)
    assert res.ok, res
    assert "stale lock" in out.getvalue()
    assert latest_run(runs) == res.run_dir != killed
    assert not killed.exists() and killed.with_name(killed.name + ".abandoned").is_dir()
    assert res.manifest["abandoned_runs"] == [killed.name]


def test_corrupt_table_names_it_and_rebuild_recovers(site: tuple[Path, Path]) -> None:
    config, work = site
    runs = work / "runs"
    before = latest_run(runs)
    (work / "store" / "part_issues.parquet").write_bytes(b"PAR1 this is not parquet")
    for prev in (work / "store").glob("_previous/part_issues.parquet"):
        prev.write_bytes(b"PAR1 nor is this")  # no sound previous version to restore either
    res = run_nightly(config, stream=io.StringIO())
    assert res.exit_code == EXIT_FAILED and res.step == "check_store"
    assert res.error is not None and "part_issues" in res.error and "zk-forecast ingest --rebuild" in res.error
    assert latest_run(runs) == before
    assert res.run_dir is not None and res.run_dir.name.endswith(".failed")
    res2 = run_nightly(config, rebuild=True, stream=io.StringIO())
    assert res2.ok, res2
    assert res2.manifest["inputs"]["store_tables"]["part_issues"]["rows"] > 0


def test_export_disappearing_between_runs(site: tuple[Path, Path], base: tuple[Path, Path],
                                          tmp_path: Path) -> None:
    _, work = site
    raw = tmp_path / "raw"
    shutil.copytree(base[0], raw)
    config = write_config(work, raw)
    gone = "配件出库明细_2019.xlsx"
    (raw / gone).unlink()
    res = run_nightly(config, stream=io.StringIO())
    assert res.ok, res
    read = {f["file"] for f in res.manifest["inputs"]["files"]}
    assert gone not in read and "配件出库明细_2020.csv" in read
    assert res.manifest["inputs"]["missing_since_last_run"] == [gone]
    assert res.manifest["inputs"]["store_tables"]["part_issues"]["rows"] > 0



def test_a_re_export_that_drops_a_line_removes_it_by_the_config_switch(site: tuple[Path, Path],
                                                                      base: tuple[Path, Path], tmp_path: Path) -> None:
    from zk_forecast.data import Store

    _, work = site
    raw = tmp_path / "raw"
    shutil.copytree(base[0], raw)
    name = "配件出库明细_2020.csv"
    lines = (raw / name).read_bytes().splitlines(keepends=True)
    dropped = lines[-1].decode("utf-8").split(",")
    (raw / name).write_bytes(b"".join(lines[:-1]))  # the re-export lost its last line
    key = f"{dropped[0]} | {dropped[3]}"  # issue_id | part_no
    before = len(Store(work / "store").read("part_issues"))
    config = write_config(work, raw)
    res = run_nightly(config, stream=io.StringIO())  # the switch off: the row stays
    assert res.ok, res
    assert res.manifest["inputs"]["store_tables"]["part_issues"]["rows"] == before
    assert not any("removed from the store" in w for w in res.manifest["warnings"])
    (raw / name).write_bytes(b"".join(lines[:-1]) + b"\n")  # changed bytes: read again
    config.write_text(config.read_text(encoding="utf-8") + "\n[ingest]\nremove_dropped_lines = true\n",
                      encoding="utf-8")
    res = run_nightly(config, stream=io.StringIO())
    assert res.ok, res
    said = [w for w in res.manifest["warnings"] if "removed from the store" in w]
    assert len(said) == 1 and said[0].startswith(f"{name}: 1 row(s)") and key in said[0]
    assert res.manifest["settings"]["ingest"]["remove_dropped_lines"] is True
    f = next(f for f in res.manifest["inputs"]["files"] if f["file"] == name)
    assert f["rows_in"] == f["rows_loaded"] + f["rows_rejected"] == len(lines) - 2
    assert res.manifest["inputs"]["store_tables"]["part_issues"]["rows"] == before - 1
    ch = Store(work / "store").changes()
    gone = ch[(ch["column"] == "*") & (ch["file"] == name)]
    assert gone["key"].tolist() == [key]


def test_config_error_names_the_key(site: tuple[Path, Path]) -> None:
    config, work = site
    text = config.read_text(encoding="utf-8") + "\n[targets]\nwear_list = 1.5\n"
    config.write_text(text, encoding="utf-8")
    before = latest_run(work / "runs")
    res = run_nightly(config, stream=io.StringIO())
    assert res.exit_code == EXIT_USAGE and res.error is not None and "targets.wear_list" in res.error
    assert latest_run(work / "runs") == before
    proc = subprocess.run([sys.executable, "-m", "zk_forecast.pipeline", str(config)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == EXIT_USAGE and "targets.wear_list" in proc.stdout


def test_unwritable_output_folder(site: tuple[Path, Path]) -> None:
    config, work = site
    blocker = work / "a_file"
    blocker.write_text("not a folder", encoding="utf-8")
    text = config.read_text(encoding="utf-8").replace('runs_dir = "runs"', 'runs_dir = "a_file/runs"')
    config.write_text(text, encoding="utf-8")
    res = run_nightly(config, stream=io.StringIO())
    assert res.exit_code == EXIT_FAILED and res.error is not None
    assert "a_file/runs" in res.error and "runs_dir" in res.error


def test_two_runs_at_once_second_refuses(site: tuple[Path, Path]) -> None:
    config, work = site
    runs = work / "runs"
    before = latest_run(runs)
    proc = _spawn(config, "check_store:60")
    try:
        _wait_for_running(runs, proc)
        res = run_nightly(config, stream=io.StringIO())
        assert res.exit_code == EXIT_LOCKED and res.error is not None and str(proc.pid) in res.error
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert latest_run(runs) == before


def test_same_inputs_give_identical_outputs(site: tuple[Path, Path], base: tuple[Path, Path]) -> None:
    _, work = site
    runs = work / "runs"
    a_dir = latest_run(runs)
    assert a_dir is not None
    a = json.loads((a_dir / "manifest.json").read_text(encoding="utf-8"))
    config = write_config(work, base[0], full=True)
    b = run_nightly(config, stream=io.StringIO(), now=NOW)
    assert b.exit_code == EXIT_OK, b
    assert b.run_dir is not None and b.run_dir != a_dir
    outs_a, outs_b = a["outputs"], b.manifest["outputs"]
    assert outs_a == outs_b
    paths = {o["path"] for o in outs_a}
    assert {"forecasts.csv", "installed_base.csv", "network.csv", "policies.csv",
            "reports/service_2026Q3.html"} <= paths
    for o in outs_a:
        assert (b.run_dir / o["path"]).read_bytes() == (a_dir / o["path"]).read_bytes()
    same = {k: v for k, v in a["settings"].items() if k not in ("paths", "source")}
    assert same == {k: v for k, v in b.manifest["settings"].items() if k not in ("paths", "source")}
    assert a["run_id"] != b.manifest["run_id"]
    assert latest_run(runs) == b.run_dir


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_display_on_a_terminal_and_log_lines_otherwise() -> None:
    from zk_forecast.batch import Progress

    tty, plain = _Tty(), io.StringIO()
    for stream in (tty, plain):
        pr = Progress(stream, 4)
        pr.step("ingest")
        pr.step_done("ingest", 1.0)
        pr.step("panel")
        pr.finish()
    assert "[#####---------------] 1/4 panel" in tty.getvalue() and "\r" in tty.getvalue()
    lines = plain.getvalue().splitlines()
    assert len(lines) == 3 and all(line[:4].isdigit() and "[nightly]" in line for line in lines)
    assert "\r" not in plain.getvalue()


def test_a_cut_ins_file_without_its_columns_fails_the_config_check_before_any_step(site: tuple[Path, Path]) -> None:
    config, work = site
    runs = work / "runs"
    before = sorted(d.name for d in runs.iterdir())
    (work / "cut_ins.csv").write_text("wrong,columns\n1,2\n", encoding="utf-8")
    text = config.read_text(encoding="utf-8").replace('scheduled = []', 'scheduled = ["scorecard"]')
    config.write_text(text + 'cut_ins = "cut_ins.csv"\n', encoding="utf-8")
    res = run_nightly(config, stream=io.StringIO())
    assert res.exit_code == EXIT_USAGE and res.step == "config", res
    assert "reports.cut_ins" in (res.error or "") and "model, component, cut_in" in (res.error or "")
    assert "设计改进切换点文件缺少列" in (res.error or "")
    assert sorted(d.name for d in runs.iterdir()) == before  # no run folder, no lock left


def test_a_failing_report_still_publishes_the_restock_lists(site: tuple[Path, Path]) -> None:
    # the scorecard fails at run time (a cut-in that is no date): the restock lists publish, the manifest and
    # run.log name the failed report, the exit code says "published with a failed report"
    config, work = site
    runs = work / "runs"
    (work / "cut_ins.csv").write_text("model,component,cut_in\nX,Y,not a date\n", encoding="utf-8")
    text = config.read_text(encoding="utf-8").replace('scheduled = []', 'scheduled = ["service", "scorecard"]')
    config.write_text(text + 'cut_ins = "cut_ins.csv"\n', encoding="utf-8")
    out = io.StringIO()
    res = run_nightly(config, stream=out, now=NOW)
    assert res.exit_code == EXIT_REPORT_FAILED, res
    assert latest_run(runs) == res.run_dir and res.run_dir is not None
    assert list(res.manifest["reports"]["failed"]) == ["scorecard"]
    outs = {o["path"] for o in res.manifest["outputs"]}
    assert "restock/restock_YC01.xlsx" in outs and "reports/service_2026Q3.html" in outs
    assert "reports/scorecard_2026Q3.html" not in outs
    log = (res.run_dir / "run.log").read_text(encoding="utf-8")
    assert "报告失败 / report failed: scorecard" in log and log.rstrip().endswith(
        "published with a failed report: restock lists out, a report failed (see run.log and manifest.json)")
    assert out.getvalue().splitlines()[-1] == log.rstrip().splitlines()[-1]


def test_forecasts_and_reports_come_from_the_background_process(site: tuple[Path, Path]) -> None:
    _, work = site
    run = latest_run(work / "runs")
    assert run is not None
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    by_name = {s["name"]: s for s in m["steps"]}
    assert by_name["forecast"].get("process") == "background"
    assert by_name["reports"].get("process") == "background"
    assert "background_wait" in by_name and by_name["policies"].get("process") is None
    outs = {o["path"] for o in m["outputs"]}
    assert "forecasts.csv" in outs and "reports/service_2026Q3.html" in outs
    fc = pd.read_csv(run / "forecasts.csv")
    assert list(fc.columns[:3]) == ["unique_id", "ds", "auto"] and (fc["auto"] >= 0).all()


def test_old_run_folders_beyond_keep_runs_are_deleted(site: tuple[Path, Path]) -> None:
    config, work = site
    runs = work / "runs"
    old = [runs / "20200101-000000", runs / "20200102-000000.failed", runs / "20200103-000000.abandoned"]
    for d in old:
        d.mkdir()
        (d / "x.txt").write_text("old", encoding="utf-8")
    (runs / "notes").mkdir()  # not a run folder: left alone
    published = latest_run(runs)
    config.write_text(config.read_text(encoding="utf-8").replace('runs_dir = "runs"', 'runs_dir = "runs"\nkeep_runs = 2'),
                      encoding="utf-8")
    res = run_nightly(config, stream=io.StringIO())
    assert res.ok, res
    left = sorted(d.name for d in runs.iterdir() if d.is_dir())
    assert res.run_dir is not None and res.run_dir.name in left
    assert published is not None and published.name in left  # the previous run: the second newest
    assert not any(d.exists() for d in old) and "notes" in left


def test_a_second_night_on_the_same_exports_reads_none_of_them(site: tuple[Path, Path]) -> None:
    config, work = site
    res = run_nightly(config, stream=io.StringIO())
    assert res.ok, res
    files = res.manifest["inputs"]["files"]
    assert files and all(f["unchanged_file"] for f in files)
    assert all(len(f["sha256"]) == 64 and f["rows_in"] == f["rows_loaded"] + f["rows_rejected"] for f in files)


def test_one_process_makes_the_same_outputs_in_order(site: tuple[Path, Path], base: tuple[Path, Path]) -> None:
    # [batch] processes = 1: forecasts and reports in the main process, in step order, the same files as the
    # published run of the same (full) configuration made with two processes
    _, work = site
    before = latest_run(work / "runs")
    assert before is not None
    config = write_config(work, base[0], full=True)
    config.write_text(config.read_text(encoding="utf-8") + "\n[batch]\nprocesses = 1\n", encoding="utf-8")
    res = run_nightly(config, stream=io.StringIO(), now=NOW)
    assert res.ok, res
    steps = res.manifest["steps"]
    assert [s["name"] for s in steps] == [s for s in STEPS if s != "publish"] == list(MAIN_STEPS)
    assert not any(s.get("process") for s in steps)
    old = {o["path"]: o["sha256"] for o in json.loads((before / "manifest.json").read_text("utf-8"))["outputs"]}
    new = {o["path"]: o["sha256"] for o in res.manifest["outputs"]}
    assert new == old


# ------------------------------------------------------------------------------------------------ steps
def test_every_step_reads_only_what_an_earlier_step_wrote() -> None:
    # the declared reads of each step (main process, then the background process) are written earlier
    from zk_forecast.batch.steps import BACKGROUND_STEPS, step_by_name

    for order in (MAIN_STEPS, ("check_store", "ingest", "data_dates", *BACKGROUND_STEPS)):
        written: set[str] = set()
        for name in order:
            s = step_by_name(name)
            assert set(s.needs) <= written, (name, set(s.needs) - written)
            written |= set(s.writes)


def test_an_undeclared_write_is_named() -> None:
    from zk_forecast.batch.state import NightState
    from zk_forecast.batch.steps import StepError, run_step

    class Ctx:  # only what the check_store step would need; it is never reached
        pass

    state = NightState()
    with pytest.raises(StepError, match="data_dates reads store, which no earlier step wrote"):
        run_step("data_dates", state, Ctx())  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ data dates
def test_manifest_records_each_tables_as_of_date(site: tuple[Path, Path]) -> None:
    _, work = site
    run = latest_run(work / "runs")
    assert run is not None
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    # the demo's exports end on 2026-10-31 (its stock snapshot is 库存快照_20261031.xlsx)
    assert m["data_dates"]["stock"] == "2026-10-31" and m["data_dates"]["part_issues"] <= "2026-10-31"
    assert m["data_as_of"] == min(m["data_dates"][t] for t in ("part_issues", "stock", "tickets"))
    assert m["data_age_days"] == (NOW.date() - dt.date.fromisoformat(m["data_as_of"])).days
    assert m["stale_data"] is False and m["exit_code"] == EXIT_OK


def test_stale_data_publishes_with_a_warning_and_its_own_exit_code(site: tuple[Path, Path]) -> None:
    config, work = site
    out = io.StringIO()
    res = run_nightly(config, stream=out, now=dt.datetime(2026, 12, 5, 3, 0))
    assert res.exit_code == EXIT_STALE_DATA, res
    assert latest_run(work / "runs") == res.run_dir
    assert res.manifest["stale_data"] is True and res.manifest["data_age_days"] == 35
    assert any("35 days old" in w and "数据已过期" in w for w in res.manifest["warnings"])
    assert "警告 / warning: the data is 35 days old" in out.getvalue()
    config.write_text(config.read_text(encoding="utf-8") + "\n[batch]\nmax_data_age_days = 0\n", encoding="utf-8")
    res = run_nightly(config, stream=io.StringIO(), now=dt.datetime(2026, 12, 5, 3, 0))
    assert res.exit_code == EXIT_OK and res.manifest["stale_data"] is False  # 0: the check is off


def test_background_reports_carry_the_stale_banner(site: tuple[Path, Path], base: tuple[Path, Path]) -> None:
    # the background process starts with the run, before the data's age is known; it is handed the age after
    # data_dates (Background.go), so the service report it writes (last, once the wear-part list has come over)
    # carries the banner of a stale night
    _, work = site
    config = write_config(work, base[0], full=True)
    res = run_nightly(config, stream=io.StringIO(), now=dt.datetime(2026, 12, 5, 3, 0))
    assert res.exit_code == EXIT_STALE_DATA, res
    assert {"reports", "forecast"} <= {s["name"] for s in res.manifest["steps"] if s.get("process") == "background"}
    (page,) = sorted((res.run_dir / "reports").glob("service_*.html"))
    text = page.read_text(encoding="utf-8")
    assert 'class="stale-banner"' in text and "数据截至 2026-10-31" in text


def test_writers_receive_the_banner_flag(site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # every writer that takes them gets stale=True, as_of (the data's date) and generated_at (the run's clock)
    from zk_forecast.batch.state import DataAge, RunContext
    from zk_forecast.batch.steps import _dates_kwargs

    def writer(frame: object, out: object, *, as_of: object = None, generated_at: object = None,
               stale: bool = False) -> None:
        pass

    def old_writer(frame: object, out: object) -> None:
        pass

    ctx = RunContext(None, Path("."), NOW, print)  # type: ignore[arg-type]
    ctx.data_age = DataAge(dt.date(2026, 10, 31), 35, 3)
    assert _dates_kwargs(writer, ctx) == {"as_of": dt.date(2026, 10, 31), "generated_at": NOW, "stale": True}
    assert _dates_kwargs(old_writer, ctx) == {}


def test_missing_or_empty_raw_dir_fails_before_any_step_unless_from_store(site: tuple[Path, Path],
                                                                          tmp_path: Path) -> None:
    config, work = site
    runs = work / "runs"
    before = sorted(d.name for d in runs.iterdir())
    for raw in (tmp_path / "nowhere", tmp_path / "empty"):
        if raw.name == "empty":
            raw.mkdir()
        config.write_text(CONFIG.format(raw=raw.as_posix(), forecast="false", network="false", reports="[]"),
                          encoding="utf-8")
        res = run_nightly(config, stream=io.StringIO())
        assert res.exit_code == EXIT_USAGE and res.step == "config", res
        assert str(raw) in (res.error or "") and "--from-store" in (res.error or "")
        assert sorted(d.name for d in runs.iterdir()) == before
    res = run_nightly(config, from_store=True, stream=io.StringIO(), now=NOW)
    assert res.exit_code == EXIT_OK, res
    assert res.manifest["inputs"]["from_store"] is True and res.manifest["inputs"]["files"] == []


def test_console_and_run_log_end_with_the_summary(site: tuple[Path, Path], base: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    # a fresh store: every export read; the summary names rows per table, the rejects and the exit code
    _, work = site
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    config = write_config(fresh, base[0])
    out = io.StringIO()
    res = run_nightly(config, stream=out, now=NOW)
    assert res.exit_code == EXIT_OK, res
    assert res.run_dir is not None
    log = (res.run_dir / "run.log").read_text(encoding="utf-8").rstrip().splitlines()
    tail = [line.split(" [nightly] ", 1)[1] for line in log[log.index(next(x for x in log if "汇总 / summary" in x)):]]
    assert tail[-1] == "退出码 / exit code 0: 已发布 / published"
    issues = next(line for line in tail if line.startswith("part_issues "))
    files = [f for f in res.manifest["inputs"]["files"] if f["table"] == "part_issues"]
    n_in, n_ok, n_bad = (sum(f[k] for f in files) for k in ("rows_in", "rows_loaded", "rows_rejected"))
    assert issues.split() == ["part_issues", str(n_in), str(n_ok), str(n_bad)] and n_bad > 0
    assert any(line.startswith("拒收明细 / rejects of 配件出库明细_") for line in tail)
    assert any(line.startswith("已发布 / published") for line in tail)
    assert out.getvalue().rstrip().splitlines()[-1].endswith(tail[-1])


# ------------------------------------------------------------------------------------------------ lock
def test_two_nightlies_started_at_once_exactly_one_runs(site: tuple[Path, Path]) -> None:
    config, work = site
    for _ in range(3):
        procs = [_spawn(config, "check_store:2") for _ in range(2)]
        codes = sorted(p.wait(timeout=300) for p in procs)
        assert codes.count(EXIT_LOCKED) == 1 and len({EXIT_OK, EXIT_STALE_DATA} & set(codes)) == 1, codes
        assert not (work / "runs" / LOCK_NAME).exists()


def test_an_empty_lock_is_a_run_taking_it_until_the_grace_period_ends(site: tuple[Path, Path]) -> None:
    from zk_forecast.batch.runfolder import LOCK_GRACE_SECONDS

    config, work = site
    lock = work / "runs" / LOCK_NAME
    lock.write_bytes(b"")  # another run created it this instant and is writing its content
    res = run_nightly(config, stream=io.StringIO())
    assert res.exit_code == EXIT_LOCKED and "right now" in (res.error or "")
    old = time.time() - 2 * LOCK_GRACE_SECONDS
    os.utime(lock, (old, old))  # nobody wrote it for longer than the grace period: stale
    out = io.StringIO()
    res = run_nightly(config, stream=out, now=NOW)
    assert res.exit_code == EXIT_OK and "stale lock" in out.getvalue()
    assert res.manifest["stale_lock_cleared"] == {"empty": True}


def test_the_lock_is_created_with_its_content(tmp_path: Path) -> None:
    from zk_forecast.batch.runfolder import acquire_lock, release_lock

    lock, stale = acquire_lock(tmp_path, print)
    info = json.loads(lock.read_text(encoding="utf-8"))
    assert info["pid"] == os.getpid() and stale is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_NAME]  # no temporary file left
    release_lock(lock)
    assert not lock.exists()


# ------------------------------------------------------------------------------------------------ faults
def _store_whole(store: Path) -> None:
    import pyarrow.parquet as pq

    for p in store.glob("*.parquet"):
        assert pq.read_table(p).num_rows >= 0


def _latest_whole(runs: Path) -> str:
    run = latest_run(runs)
    assert run is not None and run.is_dir()
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    for o in m["outputs"]:
        assert (run / o["path"]).stat().st_size == o["bytes"]
    return str(m["status"])


@pytest.mark.parametrize("point", ["ingest", "load_tables", "policies", "restock", "before_manifest",
                                   "after_manifest", "after_latest", "after_link", "published"])
def test_a_kill_at_each_point_leaves_store_and_latest_whole(site: tuple[Path, Path], point: str) -> None:
    from zk_forecast.batch import FAULT_ENV

    config, work = site
    runs = work / "runs"
    before = (runs / LATEST_FILE).read_text(encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "zk_forecast.pipeline", str(config)], timeout=300,
                          env=dict(os.environ, **{FAULT_ENV: point}), capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stdout.decode()[-2000:]
    _store_whole(work / "store")
    status = _latest_whole(runs)
    moved = (runs / LATEST_FILE).read_text(encoding="utf-8") != before
    assert moved == (point in ("after_latest", "after_link", "published"))
    assert status == ("published" if point == "published" or not moved else "complete")
    out = io.StringIO()
    res = run_nightly(config, stream=out, now=NOW)  # the next night tidies up and publishes
    assert res.exit_code == EXIT_OK, res
    assert _latest_whole(runs) == "published" and latest_run(runs) == res.run_dir
    assert not [p for p in runs.iterdir() if p.name.endswith(".tmp") or (p / ".running").exists()]
    left = res.manifest["leftovers"]
    if point in ("after_latest", "after_link"):
        assert len(left["marked_published"]) == 1 and "marked published" in out.getvalue()
    elif point != "published":
        assert len(left["abandoned_runs"]) == 1 and "marked as" in out.getvalue()


def test_a_failed_run_is_renamed_before_anything_is_written(site: tuple[Path, Path]) -> None:
    from zk_forecast.batch import FAULT_ENV

    config, work = site
    runs = work / "runs"
    (work / "store" / "part_issues.parquet").write_bytes(b"PAR1 damaged")
    proc = subprocess.run([sys.executable, "-m", "zk_forecast.pipeline", str(config)], timeout=300,
                          env=dict(os.environ, **{FAULT_ENV: "before_fail_rename"}), capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    killed = [d for d in runs.iterdir() if (d / ".running").exists()]
    assert len(killed) == 1 and not (killed[0] / "ERROR.txt").exists()  # the rename comes first
    res = run_nightly(config, stream=io.StringIO())
    assert res.exit_code == EXIT_FAILED and res.run_dir is not None and res.run_dir.name.endswith(".failed")
    assert (res.run_dir / "ERROR.txt").read_text(encoding="utf-8").startswith("step: check_store")
    assert not (res.run_dir / ".running").exists()


# ------------------------------------------------------------------------------------------------ load_run
def test_load_run_gives_what_the_night_used(site: tuple[Path, Path]) -> None:
    import zk_forecast as zk

    config, work = site
    loaded = zk.load_run("latest", config=config)
    run = latest_run(work / "runs")
    assert loaded.run_dir == run
    # the published numbers, read back bit for bit (the default float parser may differ in the last digit)
    pol = pd.read_csv(run / "policies.csv", float_precision="round_trip").set_index("unique_id")
    assert loaded.policies.equals(pol)
    assert set(loaded.policies.index) <= set(loaded.panel.unique_id.astype(str))
    assert loaded.config.targets.wear_list == 0.95 and loaded.network is not None
    assert loaded.wear_list["listed"].any()
    assert zk.load_run(run).run_dir == run and zk.load_run(work / "runs").run_dir == run


def test_an_old_store_temporary_file_is_tidied_by_the_store_and_reported(site: tuple[Path, Path]) -> None:
    from zk_forecast.batch.runfolder import STORE_TMP_AGE

    config, work = site
    orphan = work / "store" / ".part_issues.abc123.tmp"  # a write killed before its journal: never committed
    orphan.write_bytes(b"PAR1 half a table")
    old = time.time() - 2 * STORE_TMP_AGE
    os.utime(orphan, (old, old))
    young = work / "runs" / f".LATEST.{2**22 + 12345}.tmp"  # a dead writer's pointer file in the runs folder
    young.write_text("x\n", encoding="utf-8")
    out = io.StringIO()
    res = run_nightly(config, stream=out, now=NOW)
    assert res.exit_code == EXIT_OK, res
    assert not orphan.exists() and not young.exists()
    assert set(res.manifest["leftovers"]["removed_files"]) == {str(orphan), str(young)}
    assert "leftover temporary file" in out.getvalue()


def test_a_damaged_table_with_a_previous_version_is_restored_with_a_warning(site: tuple[Path, Path]) -> None:
    from zk_forecast.data.store import Store

    config, work = site
    store = work / "store"
    st = Store(store)
    st.write("depots", st.read_arrow("depots"))  # the same rows again: depots now has a previous version
    assert (store / "_previous" / "depots.parquet").is_file()
    data = bytearray((store / "depots.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    (store / "depots.parquet").write_bytes(bytes(data))
    res = run_nightly(config, stream=io.StringIO(), now=NOW)
    assert res.exit_code == EXIT_OK, res
    assert any("depots was damaged and its previous version restored" in w for w in res.manifest["warnings"])
