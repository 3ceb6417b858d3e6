"""The command line and the demo end to end: generate the small dealer, ingest it, find exactly the planted errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import zk_forecast as zk
from zk_forecast.cli import main


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int, str]:
    base = tmp_path_factory.mktemp("demo")
    raw, store = base / "raw", base / "store"
    capture = base / "out.txt"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["demo", "--out", str(raw), "--store", str(store), "--seed", "7"])
    capture.write_text(buf.getvalue(), encoding="utf-8")
    return raw, store, code, buf.getvalue()


def test_demo_command_generates_and_ingests(demo_run: tuple[Path, Path, int, str]) -> None:
    raw, store, code, out = demo_run
    assert code == 0
    assert (raw / "ground_truth.json").exists()
    assert "导入 / ingested" in out and "配件出库明细" in out
    assert set(zk.Store(store).tables()) >= {"depots", "parts", "machines", "tickets", "part_issues", "receipts", "stock"}
    from zk_forecast.pipeline import latest_run

    run = latest_run(store / "runs")  # the demo goes through the nightly batch
    assert run is not None and (run / "manifest.json").is_file()
    written = {p.name for p in run.rglob("*") if p.is_file()}
    assert {"restock_YC01.xlsx", "wear_parts.xlsx", "service_2026Q3.html", "scorecard_2026Q3.html"} <= written
    assert sum(name.startswith("manufacturer_") for name in written) >= 5
    assert "published" in out


def test_demo_rejects_are_exactly_the_planted_errors(demo_run: tuple[Path, Path, int, str]) -> None:
    raw, store, _, _ = demo_run
    truth = json.loads((raw / "ground_truth.json").read_text(encoding="utf-8"))
    planted = {(e["file"], e["line"]) for e in truth["planted_data_errors"]}
    result = zk.ingest(raw, zk.Store(store))  # again: nothing new, the same rejects
    rejected = {(r.file, int(r.row)) for r in result.rejects().itertuples()}
    assert rejected == planted
    for f in result.files:
        assert f.rows_in == f.rows_loaded + f.rows_rejected
        assert f.rows_new == 0 and f.rows_updated == 0


def test_demo_data_and_ingest_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo-data", "--out", str(tmp_path / "raw"), "--seed", "3"]) == 0
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / "raw"), "--store", str(tmp_path / "s"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {f["file"] for f in doc["files"]} >= {"配件档案.xlsx", "售后服务单.csv"}
    for f in doc["files"]:
        assert set(f) >= {"file", "rows_in", "rows_loaded", "rows_rejected", "rejects_path", "error"}
        assert f["rows_in"] == f["rows_loaded"] + f["rows_rejected"]


def test_usage_errors_exit_2_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["no-such-command"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["demo-data", "--scale", "huge"])
    assert e.value.code == 2
    assert main(["ingest", str(tmp_path / "missing"), "--store", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "missing" in err
    bad_mapping = tmp_path / "m.toml"
    bad_mapping.write_text("[aliases.partz]\npart_no = ['x']\n", encoding="utf-8")
    (tmp_path / "raw").mkdir()
    assert main(["ingest", str(tmp_path / "raw"), "--mapping", str(bad_mapping)]) == 2
    assert "partz" in capsys.readouterr().err


def test_plan_command_writes_policies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    weeks = pd.date_range("2025-01-06", periods=30, freq="W-MON")
    hist = pd.DataFrame({"unique_id": ["A|YC01"] * 30, "ds": weeks, "y": [0, 1, 0, 0, 2] * 6})
    hist.to_csv(tmp_path / "h.csv", index=False)
    pd.DataFrame({"unique_id": ["A|YC01", "B|YC01"], "lead_time": [2, 3], "unit_cost": [10.0, 5.0]}).to_csv(
        tmp_path / "i.csv", index=False)
    out = tmp_path / "p.csv"
    code = main(["plan", "--history", str(tmp_path / "h.csv"), "--items", str(tmp_path / "i.csv"),
                 "--fill-rate", "0.9", "--out", str(out)])
    assert code == 0
    pol = pd.read_csv(out, index_col=0)
    assert set(pol.index) == {"A|YC01", "B|YC01"}  # every item, also the one without history
    assert {"reorder_point", "order_up_to", "expected_fill_rate"} <= set(pol.columns)
    assert pol.loc["A|YC01", "expected_fill_rate"] >= 0.9
    assert "policies written" in capsys.readouterr().out
    bad = main(["plan", "--history", str(tmp_path / "h.csv"), "--items", str(tmp_path / "i.csv"),
                "--fill-rate", "1.5", "--out", str(out)])
    assert bad == 2
    code = main(["plan", "--history", str(tmp_path / "h.csv"), "--items", str(tmp_path / "i.csv"),
                 "--fill-rate", "0.9", "--objective", "system", "--out", str(out)])
    assert code == 0 and "all: 期望满足率 / expected fill rate 0.9" in capsys.readouterr().out
    assert "group" in pd.read_csv(out, index_col=0).columns


def test_report_commands_write_html(demo_run: tuple[Path, Path, int, str], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    _, store, _, _ = demo_run
    maker = sorted(zk.Store(store).read("machines")["manufacturer"].unique())[0]
    assert main(["report", "manufacturer", "--store", str(store), "--manufacturer", maker, "--period", "2026",
                 "--out", str(tmp_path)]) == 0
    # a period must end by the data's end (2026-10-31 in the demo): the last full quarter
    assert main(["report", "service", "--store", str(store), "--period", "2026Q3", "--out", str(tmp_path)]) == 0
    assert main(["report", "restock", "--store", str(store), "--out", str(tmp_path)]) == 0
    books = sorted(p.name for p in tmp_path.glob("*.xlsx"))
    assert "wear_parts.xlsx" in books and sum(b.startswith("restock_") for b in books) == 4
    htmls = sorted(p.name for p in tmp_path.glob("*.html"))
    assert any(h.startswith("manufacturer_") for h in htmls) and any(h.startswith("service_") for h in htmls)
    assert main(["report", "manufacturer", "--store", str(store), "--period", "2026"]) == 2
    assert "--manufacturer" in capsys.readouterr().err


def test_init_and_nightly_commands(demo_run: tuple[Path, Path, int, str], tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    from zk_forecast.config import load_config

    cfg = tmp_path / "zk.toml"
    assert main(["init", "--out", str(cfg)]) == 0
    assert main(["init", "--out", str(cfg)]) == 2  # exists: refuses without --force
    assert main(["init", "--out", str(cfg), "--force"]) == 0
    load_config(cfg)  # the example is valid as written
    bad = tmp_path / "bad.toml"
    bad.write_text(cfg.read_text(encoding="utf-8") + "\n[nosuchsection]\nx = 1\n", encoding="utf-8")
    assert main(["nightly", "--config", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "nosuchsection" in captured.out + captured.err


def test_ingest_changed_only_reads_no_export_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo-data", "--out", str(tmp_path / "raw"), "--seed", "3"]) == 0
    store = str(tmp_path / "s")
    assert main(["ingest", str(tmp_path / "raw"), "--store", store, "--changed-only", "--json"]) == 0
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / "raw"), "--store", store, "--changed-only"]) == 0
    out = capsys.readouterr().out
    assert "unchanged, not read again" in out
    assert main(["ingest", str(tmp_path / "raw"), "--store", store, "--json"]) == 0  # default: read everything
    doc = json.loads(capsys.readouterr().out)
    assert not any(f["unchanged_file"] for f in doc["files"])


def test_version_and_exit_codes_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    from zk_forecast.batch.codes import EXIT_CODES

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"zk-forecast {zk.__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for code, (zh, en) in EXIT_CODES.items():
        assert f"  {code}  {zh} / {en}" in text


def test_readme_lists_every_exit_code() -> None:
    from zk_forecast.batch.codes import EXIT_CODES

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## 退出码 / Exit codes", 1)[1].split("\n## ", 1)[0]
    for code, (zh, en) in EXIT_CODES.items():
        assert f"| {code} | {zh} | {en} |" in section


def test_nightly_from_store_publishes_without_exports(demo_run: tuple[Path, Path, int, str], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import re

    _, store, _, _ = demo_run
    text = (store / "zk_demo.toml").read_text(encoding="utf-8")
    text = re.sub(r'^raw_dir = "[^"]*"', f'raw_dir = "{(tmp_path / "gone").as_posix()}"', text, flags=re.M)
    text = re.sub(r'^scheduled = .*$', "scheduled = []", text, flags=re.M)
    cfg = tmp_path / "zk.toml"
    cfg.write_text(text, encoding="utf-8")
    assert main(["nightly", "--config", str(cfg)]) == 2  # the raw folder is missing: named, nothing runs
    assert str(tmp_path / "gone") in capsys.readouterr().out
    assert main(["nightly", "--config", str(cfg), "--from-store"]) == 0
    assert "publishing from the stored data" in capsys.readouterr().out


def test_plan_reads_and_writes_through_data_tables(tmp_path: Path) -> None:
    import pandas as pd

    from zk_forecast.data.tables import read_table, write_table
    from zk_forecast.errors import ReadError

    frame = pd.DataFrame({"unique_id": ["A|X", "B|X"], "lead_time": [2, 3]}).set_index("unique_id")
    for ext in ("csv", "parquet", "xlsx"):
        path = write_table(frame, tmp_path / f"items.{ext}")
        got = read_table(path)
        got = got.set_index("unique_id") if "unique_id" in got.columns else got  # parquet keeps the index
        assert got.equals(frame)
        assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(ReadError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match=r"\.csv, \.parquet or \.xlsx"):
        write_table(frame, tmp_path / "items.txt")


def test_report_restock_runs_the_nightly_steps_and_writes_the_same_files(demo_run: tuple[Path, Path, int, str],
                                                                         tmp_path: Path) -> None:
    import datetime as dt
    import json

    from zk_forecast.batch.run import restock_lists
    from zk_forecast.pipeline import latest_run

    _, store, _, _ = demo_run
    run = latest_run(store / "runs")
    assert run is not None
    config = store / "zk_demo.toml"
    started = dt.datetime.fromisoformat(json.loads((run / "manifest.json").read_text(encoding="utf-8"))["started_at"])
    # one path: the night's steps and settings, its clock -> byte for byte the night's workbooks
    paths = restock_lists(config, tmp_path / "again", started=started)
    assert {"YC01", "PL01", "QT01", "GY01", "wear_parts"} <= set(paths)
    for p in paths.values():
        assert p.read_bytes() == (run / "restock" / p.name).read_bytes(), p.name
    # the command takes the same path (its own clock, so the same files by name)
    assert main(["report", "restock", "--config", str(config), "--out", str(tmp_path / "cli")]) == 0
    assert sorted(p.name for p in (tmp_path / "cli").glob("*.xlsx")) == sorted(
        p.name for p in (run / "restock").glob("*.xlsx"))
    # a planner's notebook: the published night reproduced from zk.load_run
    loaded = zk.load_run(run)
    again = loaded.restock(tmp_path / "loaded")
    assert again["YC01"].read_bytes() == (run / "restock" / "restock_YC01.xlsx").read_bytes()
    what_if = loaded.what_if(objective="item")
    assert what_if["expected_on_hand_value"].sum() > loaded.policies["expected_on_hand_value"].sum()
    with pytest.raises(SystemExit):
        main(["report", "restock", "--fill-rate"])
    assert main(["report", "restock", "--config", str(config), "--fill-rate", "0.9", "--out", str(tmp_path)]) == 2
