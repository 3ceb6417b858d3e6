"""Hostile files, races and faults: each attack that once got through, reproduced as a small test.

Files written where they must not be (a depot id that climbs out of the output folder, two names that map to one
file), rows lost without a word (a broken quote, two ingests at once, a rebuild, a kill between two writes),
crashes (workbook bombs) and small leaks (formula cells, control characters, tracebacks on the command line).
"""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import (
    DEPOT_HEADER,
    DEPOT_ROWS,
    ISSUE_HEADER,
    MACHINE_HEADER,
    MACHINE_ROWS,
    PART_HEADER,
    PART_ROWS,
    file_result,
    rejects_of,
    run,
    write_csv,
    write_references,
)

from zk_forecast.cli import main
from zk_forecast.data import Store

ISSUES = "出库明细.csv"
HOSTILE_DEPOT = "x/../../../../../../PWNED"


# --- 1. files written where they must not be ------------------------------------------------------------------------


def test_a_depot_id_with_a_path_is_rejected_at_ingest(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_csv(raw / "仓库档案.csv", DEPOT_HEADER, [*DEPOT_ROWS, [HOSTILE_DEPOT, "坏网点", "分库", "YC"]])
    result = run(raw, tmp_path / "store")
    f = file_result(result, "仓库档案.csv")
    assert f.rows_rejected == 1
    rej = rejects_of(result, "仓库档案.csv")
    assert rej["value"].tolist() == [HOSTILE_DEPOT] and "must not contain '/'" in rej["reason"][0]
    assert HOSTILE_DEPOT not in set(Store(tmp_path / "store").read("depots")["depot_id"])


def test_restock_files_of_a_hostile_depot_stay_in_the_output_folder(tmp_path: Path) -> None:
    # the id rule keeps such an id out at ingest; a store written by other means must still not write outside
    from zk_forecast.reports.from_store import write_restock_reports

    raw = write_references(tmp_path / "raw")
    write_csv(raw / ISSUES, ISSUE_HEADER, [[f"I{i}", f"2024-0{1 + i % 5}-{1 + i % 27:02d}", ("YC", "PL")[i % 2],
                                            f"P{1 + i % 3}", "2", "维修领用"] for i in range(60)])
    write_csv(raw / "库存.csv", ["盘点日期", "仓库", "存货编码", "现存量"],
              [["2024-05-31", d, p, "1"] for d in ("YC", "PL") for p in ("P1", "P2", "P3")])
    run(raw, tmp_path / "store")
    st = Store(tmp_path / "store")
    for name in ("depots", "part_issues", "stock"):
        df = st.read(name)
        df["depot_id"] = df["depot_id"].replace({"PL": HOSTILE_DEPOT})
        st.write(name, df)
    out = tmp_path / "a" / "b" / "c" / "d" / "e" / "f" / "g" / "out"
    written = write_restock_reports(tmp_path / "store", out)
    assert HOSTILE_DEPOT in written and written["YC"].name == "restock_YC.xlsx"  # a plain id keeps its name
    for p in written.values():
        assert p.resolve().parent == out.resolve() and p.exists()
    assert not list(tmp_path.rglob("PWNED*"))


@pytest.mark.parametrize(("a", "b"), [("潍柴(潍坊)", "潍柴（潍坊）"), ("潍柴动力股份有限公司" * 9, "潍柴动力股份有限公司" * 9 + "一")],
                         ids=["brackets", "long"])
def test_two_manufacturers_never_share_a_report_file(tmp_path: Path, a: str, b: str) -> None:
    from zk_forecast.reports.manufacturer import ManufacturerReport

    pa_ = ManufacturerReport(a, "2026Q3", "<html>a</html>", {}).write(tmp_path)
    pb = ManufacturerReport(b, "2026Q3", "<html>b</html>", {}).write(tmp_path)
    assert pa_ != pb and pa_.read_text(encoding="utf-8") == "<html>a</html>"
    assert pb.read_text(encoding="utf-8") == "<html>b</html>"


def test_two_raw_files_never_share_a_rejects_file(raw: Path, store_dir: Path) -> None:
    bad = [["I9", "2024-03-05", "YC", "P404", "1", "维修领用"]]
    write_csv(raw / "sub" / "x.csv", ISSUE_HEADER, bad)
    write_csv(raw / "sub__x.csv", ISSUE_HEADER, [["I8", "2024-03-05", "YC", "P405", "1", "维修领用"]])
    result = run(raw, store_dir)
    p1, p2 = file_result(result, "sub/x.csv").rejects_path, file_result(result, "sub__x.csv").rejects_path
    assert p1 and p2 and p1 != p2
    assert "P404" in Path(p1).read_text(encoding="utf-8-sig") and "P405" in Path(p2).read_text(encoding="utf-8-sig")
    assert Path(p1).parent == Path(p2).parent == store_dir / "rejects"


# --- 2. the series separator and control characters in ids --------------------------------------------------------


@pytest.mark.parametrize("part", ["P|1", "P/1", "P\\1", "P..1", "P\x001", "P\x1b1"],
                         ids=["bar", "slash", "backslash", "dotdot", "nul", "escape"])
def test_an_id_with_a_separator_or_a_control_character_is_rejected(raw: Path, store_dir: Path, part: str) -> None:
    # a NUL among the first 4 KB makes the whole file read as binary; past them it must still be caught
    filler = [[f"F{i:04d}", "填充件", "部件", "1", "1"] for i in range(300)]
    write_csv(raw / "配件档案.csv", PART_HEADER, [*PART_ROWS, *filler, [part, "坏件号", "部件", "1", "1"]])
    result = run(raw, store_dir)
    rej = rejects_of(result, "配件档案.csv")
    assert len(rej) == 1 and "must not contain" in rej["reason"][0] and "编号不能含有" in rej["reason"][0]
    assert part not in set(Store(store_dir).read("parts")["part_no"])


def test_nul_in_a_manufacturer_name_is_rejected(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_csv(raw / "仓库档案.csv", DEPOT_HEADER, DEPOT_ROWS)
    row = list(MACHINE_ROWS[0])
    row[0], row[1] = "SNUL1", "雷沃\x00重工"
    filler = [[f"SF{i:04d}", *MACHINE_ROWS[0][1:]] for i in range(300)]  # past the first 4 KB
    write_csv(raw / "整机台账.csv", MACHINE_HEADER, [*MACHINE_ROWS, *filler, row])
    result = run(raw, tmp_path / "store")
    rej = rejects_of(result, "整机台账.csv")
    assert len(rej) == 1 and "control character" in rej["reason"][0]
    makers = Store(tmp_path / "store").read("machines")["manufacturer"]
    assert not makers.str.contains("\x00", regex=False).any()


# --- 3. a broken quote swallows the rest of the file ---------------------------------------------------------------


def test_a_remark_starting_with_a_quote_costs_one_row_not_the_rest_of_the_file(raw: Path, store_dir: Path) -> None:
    header = [*ISSUE_HEADER, "备注"]
    lines = [",".join(header)]
    for i in range(1000):
        remark = '"急件，客户自提' if i == 10 else "正常"  # a quote that never closes
        lines.append(f"I{i},2024-03-05,YC,P{1 + i % 3},1,维修领用,{remark}")
    (raw / ISSUES).write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert (f.rows_in, f.rows_loaded, f.rows_rejected) == (1000, 999, 1)
    rej = rejects_of(result, ISSUES)
    assert rej["row"].astype(int).tolist() == [12] and "quote" in rej["reason"][0]
    assert len(Store(store_dir).read("part_issues")) == 999


# --- 12. formula cells in every csv the package writes ------------------------------------------------------------


def _batch_csv_writer():  # type: ignore[no-untyped-def]
    """The batch's csv writer (``zk_forecast.batch.steps.write_csv``, or the run method of older layouts)."""
    try:
        from zk_forecast.batch.steps import write_csv as batch_write_csv

        return lambda frame, folder, name: batch_write_csv(frame, folder / name)
    except ImportError:
        from zk_forecast.pipeline import _Run

        return lambda frame, folder, name: _Run._csv(SimpleNamespace(dir=folder), frame, name)


def test_batch_csv_outputs_escape_formula_cells(tmp_path: Path) -> None:
    write = _batch_csv_writer()
    frame = pd.DataFrame({"unique_id": ["=1+2|YC01", "P1|YC01"], "part_no": ["=1+2", "@SUM(A1)"],
                          "y": [1.5, -2.0], "ds": pd.to_datetime(["2024-03-04", "2024-03-11"])})
    for name in ("forecasts.csv", "policies.csv", "network.csv"):
        write(frame, tmp_path, name)
        back = pd.read_csv(tmp_path / name, dtype=str)
        assert back["part_no"].tolist() == ["'=1+2", "'@SUM(A1)"]
        assert back["unique_id"].tolist() == ["'=1+2|YC01", "P1|YC01"]
        assert back["y"].tolist() == ["1.5", "-2"]


def test_the_file_column_of_a_rejects_file_is_escaped(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_csv(raw / "仓库档案.csv", DEPOT_HEADER, DEPOT_ROWS)
    write_csv(raw / "配件档案.csv", PART_HEADER, PART_ROWS)
    write_csv(raw / "=cmd.csv", ISSUE_HEADER, [["I1", "2024-03-05", "YC", "P404", "1", "维修领用"]])
    result = run(raw, tmp_path / "store")
    text = Path(file_result(result, "=cmd.csv").rejects_path or "").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[1].startswith("'=cmd.csv,")


# --- 12. operating-system errors on the command line --------------------------------------------------------------


def test_a_too_long_store_path_is_a_message_not_a_traceback(raw: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ingest", str(raw), "--store", str(tmp_path / ("s" * 300))])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "too long" in err and "过长" in err


def test_a_store_under_a_file_is_a_message_not_a_traceback(raw: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plain_file").write_text("x", encoding="utf-8")
    code = main(["ingest", str(raw), "--store", str(tmp_path / "plain_file" / "store")])
    err = capsys.readouterr().err
    assert code == 2 and "not a folder" in err and "不是目录" in err


def test_a_read_only_folder_is_a_message_not_a_traceback(raw: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # root may write anywhere, so the refusal a read-only folder gives is made by hand
    ingest_mod = sys.modules["zk_forecast.data.ingest"]

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / "ro"))

    monkeypatch.setattr(ingest_mod, "ingest", refuse)
    code = main(["ingest", str(raw), "--store", str(tmp_path / "ro")])
    err = capsys.readouterr().err
    assert code == 2 and "read-only" in err and "只读" in err and str(tmp_path / "ro") in err
