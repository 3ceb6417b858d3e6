"""The bad-input corpus: every way a real export goes wrong, each as a small file, through ``ingest``.

Every test checks the accounting (rows in = rows loaded + rows rejected, per file; see ``conftest.run``) and the
reason text of the rejects, since a reject the clerk cannot act on is as bad as a silent drop.
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import (
    ISSUE_HEADER,
    PART_HEADER,
    PART_ROWS,
    csv_text,
    file_result,
    rejects_of,
    run,
    write_csv,
)

from zk_forecast.cli import main
from zk_forecast.data import Mapping, Store

ISSUES = "出库明细.csv"
GOOD = ["I1", "2024-03-05", "YC", "P1", "2", "维修领用"]


def write_issues(raw: Path, rows: list[list[object]], *, name: str = ISSUES, header: list[str] | None = None,
                 encoding: str = "utf-8") -> Path:
    return write_csv(raw / name, header or ISSUE_HEADER, rows, encoding=encoding)


def issues_in_store(store_dir: Path) -> pd.DataFrame:
    return Store(store_dir).read("part_issues").sort_values(["issue_id", "part_no"]).reset_index(drop=True)


def reasons(result, name: str = ISSUES) -> list[str]:
    return list(rejects_of(result, name)["reason"])


# --- files that cannot be read ------------------------------------------------------------------------------------


def test_empty_file_is_an_error_naming_it_and_the_others_still_load(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [GOOD])
    (raw / "出库明细_空.csv").write_bytes(b"")
    result = run(raw, store_dir)
    empty = file_result(result, "出库明细_空.csv")
    assert empty.error is not None and "出库明细_空.csv" in empty.error and "empty" in empty.error
    assert (empty.rows_in, empty.rows_loaded) == (0, 0)
    assert not result.ok
    assert file_result(result, ISSUES).rows_loaded == 1
    assert file_result(result, "配件档案.csv").rows_loaded == 3
    assert len(issues_in_store(store_dir)) == 1


def test_zero_byte_file_among_good_ones(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [GOOD, ["I2", "2024-03-06", "PL", "P2", "1", "保养领用"]])
    (raw / "配件档案_补充.csv").write_bytes(b"")
    result = run(raw, store_dir)
    bad = [f for f in result.files if f.error]
    assert [f.file for f in bad] == ["配件档案_补充.csv"]
    assert all(f.rows_rejected == 0 for f in result.files)
    assert sorted(Store(store_dir).read("parts")["part_no"]) == ["P1", "P2", "P3"]
    assert len(issues_in_store(store_dir)) == 2


def test_header_only_file_has_no_rows_and_no_error(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [])
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert f.error is None and f.table == "part_issues"
    assert (f.rows_in, f.rows_loaded, f.rows_rejected) == (0, 0, 0)
    assert f.rejects_path is None
    assert result.ok


@pytest.mark.parametrize(("content", "name"), [
    pytest.param("half", "出库明细.xlsx", id="truncated-xlsx"),
    pytest.param("xls", "出库明细.xls", id="old-xls"),
    pytest.param("xls", "出库明细.xlsx", id="old-xls-named-xlsx"),
    pytest.param("random", "出库明细.xlsx", id="random-bytes-named-xlsx"),
])
def test_damaged_workbooks_give_one_clear_error(raw: Path, store_dir: Path, tmp_path: Path, content: str,
                                                name: str) -> None:
    good = tmp_path / "good.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ISSUE_HEADER)
    for i in range(200):
        ws.append([f"I{i}", "2024-03-05", "YC", "P1", 1, "维修领用"])
    wb.save(good)
    data = good.read_bytes()
    if content == "half":
        blob = data[: len(data) // 2]
    elif content == "xls":  # the signature of an OLE2 compound file, as Excel 97-2003 writes
        blob = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8
    else:
        blob = bytes((i * 7919 + 13) % 256 for i in range(3000))
    (raw / name).write_bytes(blob)
    result = run(raw, store_dir)
    f = file_result(result, name)
    assert f.error is not None and f.error.startswith(name)
    assert "Traceback" not in f.error and len(f.error.splitlines()) == 1
    assert "export it again" in f.error or "save as .xlsx" in f.error
    if content == "xls":
        assert "97-2003" in f.error and "save as .xlsx" in f.error
    assert not result.ok and name not in result.skipped
    assert file_result(result, "配件档案.csv").error is None


def test_tab_separated_text_named_xls_is_read(raw: Path, store_dir: Path) -> None:
    """Many ERPs "export to Excel" by writing tab-separated GB18030 text under an .xls name."""
    text = "\t".join(ISSUE_HEADER) + "\n" + "\t".join(GOOD) + "\n"
    (raw / "出库明细.xls").write_bytes(text.encode("gb18030"))
    result = run(raw, store_dir)
    f = file_result(result, "出库明细.xls")
    assert f.error is None and (f.rows_loaded, f.encoding) == (1, "gb18030")


def test_truncated_zip_with_intact_directory_entries(raw: Path, store_dir: Path, tmp_path: Path) -> None:
    """A workbook whose sheet XML is cut short but whose zip is valid: still an error, not a traceback."""
    good = tmp_path / "good.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(ISSUE_HEADER)
    wb.active.append(GOOD)
    wb.save(good)
    out = raw / "出库明细.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            blob = zin.read(item)
            if item.filename.startswith("xl/worksheets/"):
                blob = blob[: len(blob) // 2]
            zout.writestr(item, blob)
    result = run(raw, store_dir)
    f = file_result(result, "出库明细.xlsx")
    assert f.error is not None and f.error.startswith("出库明细.xlsx")


# --- encodings ------------------------------------------------------------------------------------------------------


def test_gb18030_file_declared_utf8_is_still_read_with_a_note(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [GOOD, ["I2", "2024-03-06", "平罗分库", "P2", "1", "保养领用"]], encoding="gb18030")
    mapping = Mapping.from_dict({"file": [{"pattern": "出库*.csv", "table": "part_issues", "encoding": "utf-8"}]})
    result = run(raw, store_dir, mapping=mapping)
    f = file_result(result, ISSUES)
    assert f.error is None and f.encoding == "gb18030"
    assert f.rows_loaded == 2
    assert any("declared encoding 'utf-8'" in w for w in f.warnings)
    assert list(issues_in_store(store_dir)["kind"]) == ["repair", "maintenance"]


def test_utf8_bom_is_not_part_of_the_first_header(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [GOOD], encoding="utf-8-sig")
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert f.error is None and f.encoding == "utf-8-sig" and f.unknown_columns == []
    assert list(issues_in_store(store_dir)["issue_id"]) == ["I1"]


@pytest.mark.parametrize("name", ["出库明细.csv", "出库明细.txt", "出库明细.CSV"])
def test_gb18030_detected_from_content_whatever_the_name(raw: Path, store_dir: Path, name: str) -> None:
    write_issues(raw, [["I1", "2024-03-05", "平罗分库", "P1", "3", "零售"]], name=name, encoding="gb18030")
    result = run(raw, store_dir)
    f = file_result(result, name)
    assert f.error is None and f.encoding == "gb18030" and f.warnings == []
    s = issues_in_store(store_dir)
    assert list(s["depot_id"]) == ["PL"] and list(s["kind"]) == ["counter_sale"]


# --- headers --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    ["出库单号", "单据号", "出库日期", "仓库", "存货编码", "数量", "出库类别"],
    ["出库单号", "出库日期", "仓库", "存货编码", "数量", "数量", "出库类别"],
])
def test_two_headers_for_one_column_is_an_error_naming_both(raw: Path, store_dir: Path, header: list[str]) -> None:
    dup = [h for h in header if h not in ISSUE_HEADER] or ["数量"]
    row = ["I1", "I1", "2024-03-05", "YC", "P1", "2", "维修领用"] if "单据号" in header else \
        ["I1", "2024-03-05", "YC", "P1", "2", "2", "维修领用"]
    write_issues(raw, [row], header=header)
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert f.error is not None and f.error.startswith(ISSUES) and f.rows_loaded == 0
    first = "出库单号" if "单据号" in header else "数量"
    assert f"'{first}'" in f.error and f"'{dup[0]}'" in f.error
    assert "both map to column" in f.error


def test_missing_required_column_names_it_and_its_chinese_label(raw: Path, store_dir: Path) -> None:
    header = [h for h in ISSUE_HEADER if h != "数量"]
    write_issues(raw, [[c for h, c in zip(ISSUE_HEADER, GOOD) if h != "数量"]], header=header)
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert f.error is not None and f.error.startswith(ISSUES) and f.rows_loaded == 0
    assert "quantity (数量)" in f.error
    assert not result.ok


def test_missing_required_column_with_a_mapping_rule(raw: Path, store_dir: Path) -> None:
    header = [h for h in ISSUE_HEADER if h != "出库类别"]
    write_issues(raw, [GOOD[:-1]], header=header)
    mapping = Mapping.from_dict({"file": [{"pattern": "出库*", "table": "part_issues"}]})
    result = run(raw, store_dir, mapping=mapping)
    f = file_result(result, ISSUES)
    assert f.error is not None and "kind (出库类别)" in f.error and f.rows_loaded == 0


@pytest.mark.parametrize("header", [
    [h for h in ISSUE_HEADER if h != "数量"],  # a required column missing
    [*ISSUE_HEADER, "单据号"],  # two headers for one column
    ["甲", "乙", "丙", "丁", "戊", "己"],  # no table fits
])
def test_accounting_of_a_file_refused_after_reading(raw: Path, store_dir: Path, header: list[str]) -> None:
    write_issues(raw, [[f"v{i}" for i in range(len(header))] for _ in range(3)], header=header)
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert f.error is not None and f.rows_in == 3
    assert (f.rows_loaded, f.rows_rejected) == (0, 3)


def test_unknown_columns_are_reported_once_and_kept_out_of_the_store(raw: Path, store_dir: Path) -> None:
    header = [*ISSUE_HEADER, "备注", "经手人"]
    rows = [[*GOOD, "急件", "张三"], ["I2", "2024-03-06", "PL", "P2", "1", "保养领用", "", "李四"]]
    write_issues(raw, rows, header=header)
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert f.error is None and f.rows_loaded == 2
    assert f.unknown_columns == ["备注", "经手人"]
    assert not any("备注" in w for w in f.warnings)
    stored = Store(store_dir).read_arrow("part_issues")
    assert "备注" not in stored.column_names and "经手人" not in stored.column_names
    assert not stored.to_pandas().isin(["急件", "张三", "李四"]).any().any()


def test_a_repeated_unknown_column_is_reported_once(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [[*GOOD, "急件", "已审核"]], header=[*ISSUE_HEADER, "备注", "备注"])
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert f.error is None and f.rows_loaded == 1
    assert f.unknown_columns == ["备注"]


def test_title_rows_above_the_header_are_skipped(raw: Path, store_dir: Path) -> None:
    text = ("宁夏众凯农牧机械服务有限公司 配件出库明细表,,,,,\n"
            "查询期间：2024-03-01 至 2024-03-31,,,,,\n"
            ",,,,,\n" + csv_text(ISSUE_HEADER, [GOOD, ["I2", "2024-03-06", "PL", "P2", "1", "保养领用"]]))
    (raw / ISSUES).write_text(text, encoding="utf-8")
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert f.error is None and (f.rows_in, f.rows_loaded) == (2, 2)
    assert list(issues_in_store(store_dir)["issue_id"]) == ["I1", "I2"]


def test_title_rows_above_the_header_in_a_workbook(raw: Path, store_dir: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["配件出库明细表"])
    ws.append(["制表人：王会计", None, None, "打印日期", dt.datetime(2024, 4, 1)])
    ws.append([])
    ws.append(ISSUE_HEADER)
    ws.append(["I1", dt.datetime(2024, 3, 5), "YC", "P1", 2, "维修领用"])
    ws.append(["I2", 45357, "PL", "P2", 1.0, "保养领用"])  # an Excel serial day number: 2024-03-06
    wb.save(raw / "出库明细.xlsx")
    result = run(raw, store_dir)
    f = file_result(result, "出库明细.xlsx")
    assert f.error is None and (f.rows_in, f.rows_loaded) == (2, 2), rejects_of(result, "出库明细.xlsx")
    s = issues_in_store(store_dir)
    assert list(s["issued_on"]) == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-06")]
    assert list(s["quantity"]) == [2, 1]


# --- blank, short and long rows -----------------------------------------------------------------------------------


def test_blank_lines_and_blank_rows_are_rejected_as_blank(raw: Path, store_dir: Path) -> None:
    text = csv_text(ISSUE_HEADER, [GOOD]) + "\n" + ",,,,,\n" + "  , ,,,,\n" + \
        "I2,2024-03-06,PL,P2,1,保养领用\n" + "\n\n,,,,,\n"  # trailing empty lines are not rows
    (raw / ISSUES).write_text(text, encoding="utf-8")
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert (f.rows_in, f.rows_loaded, f.rows_rejected) == (5, 2, 3)
    rej = rejects_of(result, ISSUES)
    assert list(rej["row"].astype(int)) == [3, 4, 5]
    assert all(r == "blank row / 空行" for r in rej["reason"])


def test_short_rows_are_padded_and_long_rows_rejected(raw: Path, store_dir: Path) -> None:
    header = [*ISSUE_HEADER, "单价", "服务单号"]
    text = ",".join(header) + "\n" + \
        "I1,2024-03-05,YC,P1,2,维修领用\n" + \
        "I2,2024-03-06,PL,P2,1,保养领用,35.5\n" + \
        "I3,2024-03-07,PL,P3,1,零售,99,T1,多出来的值\n" + \
        "I4,2024-03-08,YC,P1,1\n"
    (raw / ISSUES).write_text(text, encoding="utf-8")
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert (f.rows_in, f.rows_loaded, f.rows_rejected) == (4, 2, 2)
    rej = rejects_of(result, ISSUES).set_index(rej_index := "row")
    rej.index = rej.index.astype(int)
    assert "9 values but the header has 8 columns" in rej.loc[4, "reason"]
    assert rej.loc[5, "reason"] == "required value missing / 必填项为空" and rej.loc[5, "column"] == "出库类别"
    s = issues_in_store(store_dir)
    assert list(s["issue_id"]) == ["I1", "I2"] and rej_index == "row"
    assert s["unit_price"].isna().tolist() == [True, False]


def test_short_rows_in_a_workbook_are_padded_and_long_rows_rejected(raw: Path, store_dir: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ISSUE_HEADER)
    ws.append(GOOD[:5])
    ws.append([*GOOD[:5], "维修领用", "多出来的值"])
    wb.save(raw / "出库明细.xlsx")
    result = run(raw, store_dir)
    f = file_result(result, "出库明细.xlsx")
    assert (f.rows_in, f.rows_loaded, f.rows_rejected) == (2, 0, 2)
    rej = rejects_of(result, "出库明细.xlsx")
    assert "required value missing" in " ".join(rej["reason"])
    assert "beyond the 6 header columns" in " ".join(rej["reason"])


# --- numbers --------------------------------------------------------------------------------------------------------


def test_text_in_number_columns_is_rejected(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [GOOD, ["I2", "2024-03-06", "PL", "P2", "两个", "保养领用"],
                       ["I3", "2024-03-06", "PL", "P2", "1,5", "保养领用"]])
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert (f.rows_loaded, f.rows_rejected) == (1, 2)
    rej = rejects_of(result, ISSUES)
    assert list(rej["value"]) == ["两个", "1,5"]
    assert rej["reason"][0] == "not a number / 不是数字"
    assert "comma is not a decimal point" in rej["reason"][1]
    assert set(rej["column"]) == {"数量"}


def test_negative_quantity_only_for_returns_and_returns_are_stored_negative(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [
        ["I1", "2024-03-05", "YC", "P1", "-2", "维修领用"],
        ["R1", "2024-03-05", "YC", "P1", "2", "退库"],
        ["R2", "2024-03-05", "YC", "P2", "-2", "退库"],
        ["I3", "2024-03-05", "YC", "P3", "0", "零售"],
    ])
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert (f.rows_loaded, f.rows_rejected) == (2, 2)
    rej = rejects_of(result, ISSUES)
    assert "negative quantity is allowed only for returns" in rej["reason"][0]
    assert "quantity is zero" in rej["reason"][1]
    s = issues_in_store(store_dir)
    assert list(s["issue_id"]) == ["R1", "R2"] and list(s["quantity"]) == [-2, -2]


def test_fractional_quantity_is_rejected(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [["I1", "2024-03-05", "YC", "P1", "1.5", "维修领用"],
                       ["I2", "2024-03-05", "YC", "P2", "2.0", "维修领用"]])
    result = run(raw, store_dir)
    assert reasons(result) == ["fractional value where whole units are required / 须为整数"]
    assert list(issues_in_store(store_dir)["quantity"]) == [2]


def test_full_width_digits_and_thousands_separators(raw: Path, store_dir: Path) -> None:
    parts = [["P1", "机油滤清器", "消耗材料", "1,234.50", "７"], ["P2", "三角带", "部件", "¥80", "１２"],
             ["P3", "割刀", "部件", "１，２３４", "30"]]
    write_csv(raw / "配件档案.csv", PART_HEADER, parts)
    write_issues(raw, [["I1", "2024-03-05", "YC", "P1", "１２", "维修领用"],
                       ["I2", "2024-03-05", "YC", "P2", "1,000", "维修领用"]])
    result = run(raw, store_dir)
    assert file_result(result, "配件档案.csv").rows_loaded == 3, result.rejects()
    p = Store(store_dir).read("parts").set_index("part_no")
    assert p.loc["P1", "unit_cost"] == pytest.approx(1234.5)
    assert p.loc["P3", "unit_cost"] == pytest.approx(1234.0)
    assert p.loc["P2", "unit_cost"] == pytest.approx(80.0)
    assert list(p["lead_time_days"]) == [7, 12, 30]
    assert list(issues_in_store(store_dir)["quantity"]) == [12, 1000]


# --- dates ----------------------------------------------------------------------------------------------------------


def test_impossible_implausible_and_future_dates(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [
        ["I1", "2024-02-30", "YC", "P1", "1", "维修领用"],
        ["I2", "1899-05-01", "YC", "P1", "1", "维修领用"],
        ["I3", "2024-06-02", "YC", "P1", "1", "维修领用"],
        ["I4", "2024-06-01", "YC", "P1", "1", "维修领用"],  # today itself is not the future
        ["I5", "2024-02-29", "YC", "P1", "1", "维修领用"],  # a leap day
    ])
    result = run(raw, store_dir)
    r = reasons(result)
    assert len(r) == 3
    assert r[0].startswith("impossible date")
    assert r[1].startswith("implausible date: before 1990")
    assert r[2].startswith("date in the future (after 2024-06-01)")
    assert list(issues_in_store(store_dir)["issue_id"]) == ["I4", "I5"]


def test_day_month_ambiguity_is_rejected_unless_the_mapping_says_dayfirst(raw: Path, store_dir: Path,
                                                                         tmp_path: Path) -> None:
    write_issues(raw, [["I1", "05/03/2024", "YC", "P1", "1", "维修领用"]])
    result = run(raw, store_dir)
    (reason,) = reasons(result)
    assert "ambiguous day/month order" in reason and "YYYY-MM-DD" in reason and "dayfirst" in reason

    toml = tmp_path / "mapping.toml"
    toml.write_text('[[file]]\npattern = "出库*.csv"\ntable = "part_issues"\ndayfirst = true\n', encoding="utf-8")
    result = run(raw, tmp_path / "store2", mapping=toml)
    assert file_result(result, ISSUES).rows_loaded == 1
    assert list(issues_in_store(tmp_path / "store2")["issued_on"]) == [pd.Timestamp("2024-03-05")]


def test_excel_serial_and_chinese_date_forms(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [
        ["I1", "45356", "YC", "P1", "1", "维修领用"],
        ["I2", "2024年3月5日", "YC", "P1", "1", "维修领用"],
        ["I3", "2024/3/5", "YC", "P1", "1", "维修领用"],
        ["I4", "2024.03.05", "YC", "P1", "1", "维修领用"],
        ["I5", "20240305", "YC", "P1", "1", "维修领用"],
        ["I6", "2024-03-05 14:30:00", "YC", "P1", "1", "维修领用"],
        ["I7", "４５３５６", "YC", "P1", "1", "维修领用"],
    ])
    result = run(raw, store_dir)
    assert file_result(result, ISSUES).rows_loaded == 7, result.rejects()
    assert set(issues_in_store(store_dir)["issued_on"]) == {pd.Timestamp("2024-03-05")}


# --- references -----------------------------------------------------------------------------------------------------


def test_unknown_depot_or_part_is_rejected_naming_it(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [GOOD, ["I2", "2024-03-05", "固原分库", "P1", "1", "维修领用"],
                       ["I3", "2024-03-05", "YC", "P99", "1", "维修领用"]])
    result = run(raw, store_dir)
    rej = rejects_of(result, ISSUES)
    assert list(rej["value"]) == ["固原分库", "P99"]
    assert rej["reason"][0].startswith("unknown depot: not in the depots table")
    assert rej["reason"][1].startswith("unknown part: not in the parts table (known: P1, P2, P3)")
    assert list(rej["column"]) == ["仓库", "存货编码"]


def test_unknown_machine_is_rejected_and_unknown_ticket_is_a_warning(raw: Path, store_dir: Path) -> None:
    header = [*ISSUE_HEADER, "服务单号", "出厂编号"]
    write_issues(raw, [[*GOOD, "T404", "M1"], ["I2", "2024-03-05", "YC", "P1", "1", "维修领用", "", "M999"]],
                 header=header)
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert (f.rows_loaded, f.rows_rejected) == (1, 1)
    assert any("ticket" in w and "loaded" in w for w in f.warnings)
    (r,) = reasons(result)
    assert r.startswith("unknown machine")


def test_depot_given_by_name_resolves_to_its_id(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [["I1", "2024-03-05", "平罗分库", "P1", "1", "维修领用"],
                       ["I2", "2024-03-05", " 银川中心库 ", "P1", "1", "维修领用"],
                       ["I3", "2024-03-05", "PL", "P1", "1", "维修领用"]])
    result = run(raw, store_dir)
    assert file_result(result, ISSUES).rows_loaded == 3, result.rejects()
    assert list(issues_in_store(store_dir)["depot_id"]) == ["PL", "YC", "PL"]


def test_depot_names_known_from_an_earlier_run(raw: Path, store_dir: Path, tmp_path: Path) -> None:
    run(raw, store_dir)  # the reference exports alone
    later = tmp_path / "later"
    write_issues(later, [["I1", "2024-03-05", "平罗分库", "P1", "1", "维修领用"]])
    result = run(later, store_dir)
    assert file_result(result, ISSUES).rows_loaded == 1
    assert list(issues_in_store(store_dir)["depot_id"]) == ["PL"]


# --- duplicate keys -------------------------------------------------------------------------------------------------


def test_exact_duplicate_in_a_file_loads_once(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [GOOD, ["I1", "2024-03-05", "YC", "P2", "1", "维修领用"], GOOD])
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert (f.rows_loaded, f.rows_rejected) == (2, 1)
    rej = rejects_of(result, ISSUES)
    assert int(rej["row"][0]) == 4 and rej["reason"][0].startswith("exact duplicate of row 2")
    assert len(issues_in_store(store_dir)) == 2


def test_same_key_with_different_values_rejects_every_copy(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [GOOD, ["I1", "2024-03-05", "YC", "P1", "3", "维修领用"], ["I2", "2024-03-05", "YC", "P1", "1",
                                                                               "零售"]])
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert (f.rows_loaded, f.rows_rejected) == (1, 2)
    rej = rejects_of(result, ISSUES)
    assert list(rej["row"].astype(int)) == [2, 3]
    assert all("the key appears on several rows" in r and "different values" in r for r in rej["reason"])
    assert list(issues_in_store(store_dir)["issue_id"]) == ["I2"]


def test_duplicate_keys_across_files_in_one_run(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [GOOD, ["I2", "2024-03-05", "YC", "P2", "1", "维修领用"]], name="出库明细_3月.csv")
    write_issues(raw, [GOOD, ["I2", "2024-03-05", "YC", "P2", "5", "维修领用"], ["I3", "2024-03-09", "PL", "P3", "1",
                                                                               "零售"]],
                 name="出库明细_3月_副本.csv")
    result = run(raw, store_dir)
    a, b = file_result(result, "出库明细_3月.csv"), file_result(result, "出库明细_3月_副本.csv")
    assert (a.rows_loaded, a.rows_rejected, a.rows_new) == (2, 0, 2)
    assert (b.rows_loaded, b.rows_rejected) == (2, 1)
    (reason,) = reasons(result, "出库明细_3月_副本.csv")
    assert "conflicts with row 3 of 出库明细_3月.csv" in reason
    s = issues_in_store(store_dir)
    assert list(s["issue_id"]) == ["I1", "I2", "I3"]
    assert list(s["quantity"]) == [2, 1, 1]


# --- text that a spreadsheet would evaluate, and very long text ----------------------------------------------------


FORMULAS = ["=1+2", "+8613800000000", "-油封", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"y\")"]


def test_formula_like_text_is_stored_exactly_and_escaped_in_rejects(raw: Path, store_dir: Path) -> None:
    parts = [*PART_ROWS] + [[f"F{i}", v, "部件", "1", "1"] for i, v in enumerate(FORMULAS)]
    write_csv(raw / "配件档案.csv", PART_HEADER, parts)
    write_issues(raw, [[f"X{i}", "2024-03-05", "YC", v, "1", "维修领用"] for i, v in enumerate(FORMULAS)])
    result = run(raw, store_dir)
    names = Store(store_dir).read("parts").set_index("part_no")["name"]
    assert [names[f"F{i}"] for i in range(len(FORMULAS))] == FORMULAS

    f = file_result(result, ISSUES)
    assert f.rows_rejected == len(FORMULAS)
    text = Path(f.rejects_path).read_text(encoding="utf-8-sig")
    for v in FORMULAS:
        assert f"'{v[:4]}" in text
    rej = rejects_of(result, ISSUES)
    assert list(rej.drop_duplicates("row")["value"]) == ["'" + v for v in FORMULAS]
    assert (rej.groupby("row")["reason"].agg(lambda r: any(x.startswith("unknown part") for x in r))).all()
    # the part number with '/' in its URL also breaks the id rule (a path separator in an id)
    assert rej["reason"].str.startswith("an id must not contain").sum() == 1


def test_formula_like_text_in_a_loaded_text_column(raw: Path, store_dir: Path) -> None:
    header = [*ISSUE_HEADER, "服务单号"]
    write_issues(raw, [[f"I{i}", "2024-03-05", "YC", "P1", "1", "维修领用", v] for i, v in enumerate(FORMULAS)],
                 header=header)
    result = run(raw, store_dir)
    # a ticket id is an id: the one holding a URL ('/') is refused, the other formula-like ones load exactly
    assert file_result(result, ISSUES).rows_loaded == len(FORMULAS) - 1
    assert list(issues_in_store(store_dir)["ticket_id"]) == FORMULAS[:-1]
    assert reasons(result)[0].startswith("an id must not contain")


def test_line_breaks_inside_a_rejected_value_keep_the_rejects_file_whole(raw: Path, store_dir: Path) -> None:
    text = ",".join(ISSUE_HEADER) + '\nI1,2024-03-05,YC,"P\r9",1,维修领用\nI2,2024-03-05,YC,"P\n8",1,维修领用\n'
    (raw / ISSUES).write_text(text, encoding="utf-8", newline="")
    result = run(raw, store_dir)
    assert file_result(result, ISSUES).rows_rejected == 2
    rej = rejects_of(result, ISSUES)
    assert list(rej["row"].astype(int)) == [2, 2, 4, 4]  # each record keeps the line it starts on
    assert list(rej["value"]) == ["P\r9", "P\r9", "P\n8", "P\n8"]
    assert sorted(r.split(":")[0] for r in rej["reason"])[:2] == ["an id must not contain '/', '\\', '..', '|' (the series separator) or a control character such as NUL"] * 2
    assert sum(r.startswith("unknown part") for r in rej["reason"]) == 2


def test_text_over_max_length_is_rejected(raw: Path, store_dir: Path) -> None:
    write_issues(raw, [GOOD, ["I2", "2024-03-05", "YC", "P" * 61, "1", "维修领用"]])
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert (f.rows_loaded, f.rows_rejected) == (1, 1)
    assert "text longer than 60 characters / 文本过长" in reasons(result)


@pytest.mark.parametrize("size", [100_000, 300_000])
def test_a_huge_cell_is_rejected_without_crashing(raw: Path, store_dir: Path, size: int) -> None:
    huge = "长" * size
    write_csv(raw / "配件档案.csv", PART_HEADER, [*PART_ROWS, ["P4", huge, "部件", "1", "1"]])
    write_issues(raw, [GOOD, ["I2", "2024-03-05", "YC", huge, "1", "维修领用"]])
    result = run(raw, store_dir)
    parts = file_result(result, "配件档案.csv")
    assert parts.error is None and (parts.rows_loaded, parts.rows_rejected) == (3, 1)
    assert reasons(result, "配件档案.csv") == ["text longer than 200 characters / 文本过长"]
    f = file_result(result, ISSUES)
    assert f.error is None and (f.rows_loaded, f.rows_rejected) == (1, 1)
    assert "text longer than 60 characters / 文本过长" in reasons(result)


def test_a_huge_cell_on_the_first_lines_does_not_crash(raw: Path, store_dir: Path) -> None:
    """A cell longer than Python's csv field limit (131,072 characters) among the lines scanned for the header."""
    write_csv(raw / "配件档案.csv", PART_HEADER, [["P0", "x" * 200_000, "部件", "1", "1"], *PART_ROWS])
    result = run(raw, store_dir)
    f = file_result(result, "配件档案.csv")
    assert f.error is None and (f.rows_loaded, f.rows_rejected) == (3, 1)
    assert reasons(result, "配件档案.csv") == ["text longer than 200 characters / 文本过长"]


# --- the command line -----------------------------------------------------------------------------------------------


def test_cli_json_and_exit_code_zero(raw: Path, store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_issues(raw, [GOOD, ["I2", "2024-03-05", "YC", "P99", "1", "维修领用"]])
    code = main(["ingest", str(raw), "--store", str(store_dir), "--json"])
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert code == 0
    for f in doc["files"]:
        assert {"file", "rows_in", "rows_loaded", "rows_rejected", "rejects_path", "error"} <= set(f)
        assert f["rows_in"] == f["rows_loaded"] + f["rows_rejected"]
    issues = next(f for f in doc["files"] if f["file"] == ISSUES)
    assert (issues["rows_loaded"], issues["rows_rejected"], issues["error"]) == (1, 1, None)
    assert Path(issues["rejects_path"]).exists()


def test_cli_exit_two_when_a_file_cannot_be_read(raw: Path, store_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    (raw / "出库明细.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    code = main(["ingest", str(raw), "--store", str(store_dir), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 2
    bad = [f for f in doc["files"] if f["error"]]
    assert [f["file"] for f in bad] == ["出库明细.xlsx"]
    assert bad[0]["rows_in"] == bad[0]["rows_loaded"] + bad[0]["rows_rejected"] == 0


def test_cli_missing_raw_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ingest", str(tmp_path / "nowhere"), "--store", str(tmp_path / "store"), "--json"])
    cap = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in cap.out + cap.err
    assert "does not exist" in cap.err
    assert "does not exist" in json.loads(cap.out)["error"]


def test_cli_missing_raw_folder_without_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ingest", str(tmp_path / "nowhere"), "--store", str(tmp_path / "store")])
    cap = capsys.readouterr()
    assert code == 2 and "nowhere" in cap.err and "Traceback" not in cap.err
