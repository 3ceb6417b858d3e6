"""Fault tests of the nightly batch (zk_forecast.pipeline) on the small demo, generated once per module.

Each test works on its own copy of a store and runs folder that already hold one published run.
"""

from __future__ import annotations

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
    EXIT_USAGE,
    LATEST_FILE,
    LOCK_NAME,
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


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(raw exports, a folder with a store and one published run of the full configuration)."""
    root = tmp_path_factory.mktemp("nightly")
    raw = demo.generate(root / "raw", scale="small", seed=7).out_dir
    work = root / "work"
    work.mkdir()
    res = run_nightly(write_config(work, Path(raw), full=True), stream=io.StringIO())
    assert res.ok, res
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
    b = run_nightly(config, stream=io.StringIO())
    assert b.ok, b
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
    from zk_forecast.pipeline import _Progress

    tty, plain = _Tty(), io.StringIO()
    for stream in (tty, plain):
        pr = _Progress(stream, 4)
        pr.step("ingest")
        pr.step_done("ingest", 1.0)
        pr.step("panel")
        pr.finish()
    assert "[#####---------------] 1/4 panel" in tty.getvalue() and "\r" in tty.getvalue()
    lines = plain.getvalue().splitlines()
    assert len(lines) == 3 and all(line[:4].isdigit() and "[nightly]" in line for line in lines)
    assert "\r" not in plain.getvalue()


def test_a_failing_report_in_the_background_process_fails_the_run_at_reports(site: tuple[Path, Path]) -> None:
    # the scorecard reads a cut-ins file without the columns it needs: the report process fails, the batch
    # reports step "reports", the last published run stays
    config, work = site
    runs = work / "runs"
    before = (runs / LATEST_FILE).read_text(encoding="utf-8")
    bad = work / "cut_ins.csv"
    bad.write_text("wrong,columns\n1,2\n", encoding="utf-8")
    text = config.read_text(encoding="utf-8").replace('scheduled = []', 'scheduled = ["scorecard"]')
    config.write_text(text + 'cut_ins = "cut_ins.csv"\n', encoding="utf-8")
    res = run_nightly(config, stream=io.StringIO())
    assert res.exit_code == EXIT_FAILED and res.step == "reports", res
    assert "cut" in (res.error or "").lower()
    assert (runs / LATEST_FILE).read_text(encoding="utf-8") == before
    assert res.run_dir is not None and res.run_dir.name.endswith(".failed")


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
    res = run_nightly(config, stream=io.StringIO())
    assert res.ok, res
    steps = res.manifest["steps"]
    assert [s["name"] for s in steps] == [s for s in STEPS if s != "publish"]
    assert not any(s.get("process") for s in steps)
    old = {o["path"]: o["sha256"] for o in json.loads((before / "manifest.json").read_text("utf-8"))["outputs"]}
    new = {o["path"]: o["sha256"] for o in res.manifest["outputs"]}
    assert new == old
