"""Tests for zk_forecast.data.readers: bytes of a CSV or xlsx export into text columns with row numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zk_forecast.data.mapping import Mapping, header_score
from zk_forecast.data.readers import detect_encoding, normalize_header, read_export
from zk_forecast.errors import ReadError

SCORE = lambda cells: header_score(cells, Mapping())  # noqa: E731


def read_bytes(tmp_path: Path, content: bytes | str, name: str = "x.csv", **kw: object):
    p = tmp_path / name
    p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return read_export(p, **kw)  # type: ignore[arg-type]


def rows(t) -> list[dict[str, str | None]]:
    return t.data.to_pylist()


# --- encodings ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "found"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"), ("gbk", "gb18030"),
    ("utf-16", "utf-16"),
])
def test_detect_encoding_from_content(encoding: str, found: str) -> None:
    text = "存货编码,存货名称\nP1,机油滤清器\n"
    decoded, enc, notes = detect_encoding(text.encode(encoding))
    assert (decoded, enc, notes) == (text, found, [])


def test_declared_encoding_that_fits_is_used() -> None:
    raw = "配件,数量\n".encode("gb18030")
    assert detect_encoding(raw, "gb18030") == ("配件,数量\n", "gb18030", [])


def test_declared_encoding_that_does_not_fit_gives_a_note() -> None:
    raw = "配件,数量\n".encode("gb18030")
    text, enc, notes = detect_encoding(raw, "utf-8")
    assert (text, enc) == ("配件,数量\n", "gb18030")
    assert len(notes) == 1 and "declared encoding 'utf-8'" in notes[0]


def test_unknown_declared_encoding_gives_a_note() -> None:
    text, enc, notes = detect_encoding(b"a,b\n", "no-such-codec")
    assert (text, enc) == ("a,b\n", "utf-8") and "no-such-codec" in notes[0]


def test_undecodable_bytes_raise_read_error() -> None:
    with pytest.raises(ReadError, match="UTF-8"):
        detect_encoding(b"a,b\n\x81\x30\xff\xff\n")


def test_bom_is_not_in_the_first_header(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "\ufeff出库单号,数量\nI1,2\n".encode())
    assert t.headers == ["出库单号", "数量"] and t.encoding == "utf-8-sig"
    assert rows(t) == [{"出库单号": "I1", "数量": "2"}]


def test_gb18030_csv_named_txt(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "出库单号\t仓库\nI1\t平罗分库\n".encode("gb18030"), name="导出.txt")
    assert t.encoding == "gb18030" and rows(t) == [{"出库单号": "I1", "仓库": "平罗分库"}]


def test_utf16_with_crlf(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "a,b\r\n1,2\r\n".encode("utf-16"))
    assert t.encoding == "utf-16" and rows(t) == [{"a": "1", "b": "2"}]


# --- CSV shape ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("delim", [",", "\t", ";", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delim: str) -> None:
    t = read_bytes(tmp_path, f"a{delim}b{delim}c\n1{delim}2{delim}3\n")
    assert rows(t) == [{"a": "1", "b": "2", "c": "3"}]


def test_row_numbers_count_lines_like_a_spreadsheet(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "标题\n\na,b\n1,2\n\n3,4\n\n\n", header_score=lambda c: 2 if c == ["a", "b"] else 0)
    assert t.header_row == 3
    assert t.row_numbers.tolist() == [4, 5, 6]  # the empty line between data rows is a row; trailing ones are not
    assert rows(t) == [{"a": "1", "b": "2"}, {"a": None, "b": None}, {"a": "3", "b": "4"}]
    assert t.rows_in == 3


def test_header_only_file_without_a_final_line_end(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "出库单号,数量")
    assert t.headers == ["出库单号", "数量"] and t.rows_in == 0


def test_last_line_without_line_end_is_a_row(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "a,b\n1,2\n3,4")
    assert rows(t)[-1] == {"a": "3", "b": "4"} and t.row_numbers.tolist() == [2, 3]


@pytest.mark.parametrize("end", ["\r\n", "\r", "\n"])
def test_line_ends(tmp_path: Path, end: str) -> None:
    t = read_bytes(tmp_path, end.join(["报表", "a,b", "1,2", "3,4"]) + end,
                   header_score=lambda c: 2 if c == ["a", "b"] else 0)
    assert rows(t) == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    assert t.row_numbers.tolist() == [3, 4]


def test_quoted_values_keep_delimiters_and_line_breaks(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, 'a,b\n"1,5","第一行\n第二行"\n2,x\n')
    assert rows(t) == [{"a": "1,5", "b": "第一行\n第二行"}, {"a": "2", "b": "x"}]
    assert t.rows_in == 2


def test_empty_and_duplicated_headers_get_placeholder_names(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "a,,a,b\n1,2,3,4\n")
    assert t.headers == ["a", "", "a", "b"]
    assert t.column_names == ["a", "__empty_2", "a__dup1", "b"]
    assert rows(t) == [{"a": "1", "__empty_2": "2", "a__dup1": "3", "b": "4"}]


def test_short_rows_are_padded_and_long_rows_are_invalid(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "a,b,c\n1,2,3\n4\n5,6,7,8\n9,10\n")
    assert rows(t) == [{"a": "1", "b": "2", "c": "3"}, {"a": "4", "b": None, "c": None},
                       {"a": "9", "b": "10", "c": None}]
    assert t.row_numbers.tolist() == [2, 3, 5]
    assert t.invalid_rows == [(4, "5,6,7,8", "the row has 4 values but the header has 3 columns / 列数与表头不符")]
    assert t.rows_in == 4


def test_trailing_delimiters_on_every_line(tmp_path: Path) -> None:
    """Exports that end every line, the header too, with a delimiter: the empty cells are not a column."""
    t = read_bytes(tmp_path, "a,b,\n1,2,\n3,4,x\n5,6,,\n")
    assert t.headers == ["a", "b"] and t.column_names == ["a", "b"]
    assert rows(t) == [{"a": "1", "b": "2"}, {"a": "5", "b": "6"}]
    assert t.row_numbers.tolist() == [2, 4]
    assert [(n, reason.split(" /")[0]) for n, _, reason in t.invalid_rows] == [
        (3, "the row has values beyond the 2 header columns")]


def test_trailing_empty_cells_beyond_the_header_are_dropped(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "a,b\n1,2,\n3,4,,\n")
    assert rows(t) == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}] and t.invalid_rows == []


def test_empty_cells_are_null_and_whitespace_is_kept(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, 'a,b\n,""\n x ,=1+2\n')
    assert rows(t) == [{"a": None, "b": None}, {"a": " x ", "b": "=1+2"}]


def test_a_cell_longer_than_the_csv_module_limit(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "a,b\n1," + "x" * 200_000 + "\n2\n")
    assert len(rows(t)[0]["b"]) == 200_000 and rows(t)[1] == {"a": "2", "b": None}


@pytest.mark.parametrize(("content", "message"), [
    (b"", r"empty \(0 bytes\)"),
    (b"\n\n  \n", "no header row"),
    (b"\xef\xbb\xbf", "no header row"),
    (b"a,b\n\x00\x01\x02\x00", "binary data"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "Excel 97-2003"),
])
def test_unreadable_files_raise_read_error_naming_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(ReadError, match=message) as info:
        read_bytes(tmp_path, content, name="出库.csv")
    assert str(info.value).startswith("出库.csv")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="cannot open"):
        read_export(tmp_path / "nowhere.csv")


# --- header row -----------------------------------------------------------------------------------------------------


def test_header_found_below_title_rows_by_score(tmp_path: Path) -> None:
    text = "宁夏众凯 配件出库明细,,\n日期：2024年3月,,\n出库单号,出库日期,数量\nI1,2024-03-05,2\n"
    t = read_bytes(tmp_path, text, header_score=SCORE)
    assert t.header_row == 3 and t.headers == ["出库单号", "出库日期", "数量"]
    assert t.row_numbers.tolist() == [4]


def test_without_a_score_the_first_non_empty_line_is_the_header(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, "\n\na,b\n1,2\n")
    assert t.header_row == 3 and t.headers == ["a", "b"]


def test_normalize_header() -> None:
    assert normalize_header(" 采购周期（天） ") == normalize_header("采购周期(天)") == "采购周期天"
    assert normalize_header("Part No.") == normalize_header("part_no") == "partno"


# --- xlsx -----------------------------------------------------------------------------------------------------------


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, lines in sheets.items():
        ws = wb.create_sheet(title)
        for line in lines:
            ws.append(line)
    wb.save(path)
    return path


def test_xlsx_cells_become_text(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "出库.xlsx", {"Sheet1": [
        ["出库单号", "出库日期", "数量", "单价", "是否三包", "完工时间"],
        ["I1", dt.datetime(2024, 3, 5), 2, 35.5, True, dt.datetime(2024, 3, 5, 14, 30)],
        ["I2", dt.date(2024, 3, 6), 3.0, 1e20, False, None],
        [None, None, None, None, None, None],
        ["I3", "2024/3/7", "１２", None, None, None],
        [None], [],
    ]})
    t = read_export(p)
    assert t.encoding == "xlsx" and t.header_row == 1
    assert rows(t) == [
        {"出库单号": "I1", "出库日期": "2024-03-05", "数量": "2", "单价": "35.5", "是否三包": "true",
         "完工时间": "2024-03-05 14:30:00"},
        {"出库单号": "I2", "出库日期": "2024-03-06", "数量": "3", "单价": "1e+20", "是否三包": "false",
         "完工时间": None},
        dict.fromkeys(["出库单号", "出库日期", "数量", "单价", "是否三包", "完工时间"]),
        {"出库单号": "I3", "出库日期": "2024/3/7", "数量": "１２", "单价": None, "是否三包": None, "完工时间": None},
    ]
    assert t.row_numbers.tolist() == [2, 3, 4, 5]


def test_xlsx_sheet_with_the_header_is_chosen(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "出库.xlsx", {
        "说明": [["本表由系统导出"], ["请勿修改"]],
        "明细": [["报表标题"], ["出库单号", "存货编码", "数量"], ["I1", "P1", 1]],
    })
    t = read_export(p, header_score=SCORE)
    assert t.headers == ["出库单号", "存货编码", "数量"] and t.header_row == 2
    assert rows(t) == [{"出库单号": "I1", "存货编码": "P1", "数量": "1"}]
    t = read_export(p, sheet="明细")
    assert t.headers == ["报表标题"]  # no score: the first non-empty line of the named sheet
    with pytest.raises(ReadError, match="there is no sheet 'Sheet9'; the sheets are 说明, 明细"):
        read_export(p, sheet="Sheet9")


def test_xlsx_values_beyond_the_header_are_invalid(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "出库.xlsx", {"S": [["a", "b", None], [1, 2, None, None], [3, 4, 5], [6]]})
    t = read_export(p)
    assert rows(t) == [{"a": "1", "b": "2"}, {"a": "6", "b": None}]
    assert [(n, r.split(" /")[0]) for n, _, r in t.invalid_rows] == [
        (3, "the row has values beyond the 2 header columns")]
    assert t.rows_in == 3


def test_xlsx_without_any_header(tmp_path: Path) -> None:
    p = _workbook(tmp_path / "空.xlsx", {"S": []})
    with pytest.raises(ReadError, match="no sheet with a header row"):
        read_export(p)


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9, 0.99])
def test_truncated_xlsx_raises_read_error(tmp_path: Path, cut: float) -> None:
    p = _workbook(tmp_path / "good.xlsx", {"S": [["a", "b"], *[[i, f"值{i}"] for i in range(500)]]})
    raw = p.read_bytes()
    bad = tmp_path / "出库.xlsx"
    bad.write_bytes(raw[: int(len(raw) * cut)])
    with pytest.raises(ReadError) as info:
        read_export(bad)
    assert str(info.value).startswith("出库.xlsx")


def test_text_named_xlsx_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="not a workbook"):
        read_bytes(tmp_path, "a,b\n1,2\n", name="出库.xlsx")


# --- physical records: a broken quote costs only its own line ------------------------------------------------------


def _lines(n: int, broken: dict[int, str] | None = None) -> str:
    out = ["单号,数量,备注"]
    for i in range(n):
        out.append((broken or {}).get(i, f"I{i},{i % 7 + 1},ok"))
    return "\n".join(out) + "\n"


def test_a_stray_quote_costs_only_its_line(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, _lines(1000, {10: 'I10,3,"broken remark'}))
    assert t.rows_in == 1000 and t.data.num_rows == 999
    assert [(n, r.startswith("a quote opened in this row is never closed")) for n, _, r in t.invalid_rows] == [(12, True)]
    assert t.row_numbers[:11].tolist() == list(range(2, 12)) + [13]
    assert t.row_numbers[-1] == 1001


def test_two_stray_quotes_do_not_join_the_rows_between_them(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, _lines(30, {5: 'I5,1,"opens', 9: 'I9,1,closes"'}))
    assert t.rows_in == 30 and t.data.num_rows == 29
    assert [n for n, _, _ in t.invalid_rows] == [7]
    assert rows(t)[8] == {"单号": "I9", "数量": "1", "备注": 'closes"'}


def test_a_value_with_line_breaks_is_one_record_and_keeps_the_line_numbers(tmp_path: Path) -> None:
    text = '单号,数量,备注\nI1,1,"第一行\r\n第二行"\nI2,2,ok\nI3,3,"a\nb\nc"\nI4,4,x\n'
    t = read_bytes(tmp_path, text)
    assert rows(t) == [{"单号": "I1", "数量": "1", "备注": "第一行\r\n第二行"}, {"单号": "I2", "数量": "2", "备注": "ok"},
                       {"单号": "I3", "数量": "3", "备注": "a\nb\nc"}, {"单号": "I4", "数量": "4", "备注": "x"}]
    assert t.row_numbers.tolist() == [2, 4, 5, 8]
    assert t.invalid_rows == [] and t.rows_in == 4


def test_a_quote_left_open_on_the_last_line_swallows_nothing_and_keeps_its_row(tmp_path: Path) -> None:
    t = read_bytes(tmp_path, _lines(5, {4: 'I4,1,"never closed'}))
    assert (t.rows_in, t.data.num_rows, t.invalid_rows) == (5, 5, [])
    assert rows(t)[-1]["备注"].strip() == "never closed"


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 120), data=st.data())
def test_rows_in_counts_every_line_whatever_line_breaks_its_quote(tmp_path_factory: pytest.TempPathFactory,
                                                                  n: int, data: st.DataObject) -> None:
    where = data.draw(st.integers(0, n - 2))  # a quote open on the last line has nothing to swallow
    form = data.draw(st.sampled_from(['I{i},1,"x', 'I{i},"1,x', '"I{i},1,x', 'I{i},1,"x""y']))
    folder = tmp_path_factory.mktemp("q")
    t = read_bytes(folder, _lines(n, {where: form.format(i=where)}))
    assert t.rows_in == n
    assert [n_ for n_, _, _ in t.invalid_rows] == [where + 2]
    assert len(t.row_numbers) == n - 1 and where + 2 not in set(t.row_numbers.tolist())
