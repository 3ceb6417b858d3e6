"""Tests for zk_forecast.data.parse: one cell of text to a number, a date or a yes/no, or a reason."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zk_forecast.data.parse import parse_bool, parse_date, parse_number
from zk_forecast.schema import BOOL_FALSE, BOOL_TRUE

# Seeded, reproducible property tests.
SETTINGS = settings(derandomize=True, max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(("text", "value"), [
    ("12", 12.0),
    ("-3", -3.0),
    ("+4", 4.0),
    ("0.5", 0.5),
    (".5", 0.5),
    ("1e3", 1000.0),
    ("1,234.50", 1234.5),
    ("-1,234,567", -1234567.0),
    ("１２", 12.0),  # full-width digits
    ("１，２３４．５", 1234.5),  # full-width comma and point
    ("¥1,200", 1200.0),
    ("35元", 35.0),
    ("'0012", 12.0),  # Excel's text marker
    ("  7 ", 7.0),
    ("1\u00a0234", 1234.0),  # a non-breaking space as thousands separator
])
def test_parse_number_accepts_export_forms(text: str, value: float) -> None:
    v, reason = parse_number(text)
    assert reason is None and v == pytest.approx(value)


@pytest.mark.parametrize(("text", "reason"), [
    ("abc", "not a number"),
    ("", "not a number"),
    ("两个", "not a number"),
    ("1,5", "comma is not a decimal point"),
    ("1,23", "comma is not a decimal point"),
    ("12,34,567", "not a number"),  # Indian grouping is not groups of three
    ("1e999", "not a finite number"),
    ("nan", "not a number"),
    ("inf", "not a number"),
    ("1.2.3", "not a number"),
    ("--1", "not a number"),
])
def test_parse_number_refuses_with_a_reason(text: str, reason: str) -> None:
    v, r = parse_number(text)
    assert v is None and r is not None and r.startswith(reason)


@pytest.mark.parametrize(("text", "value"), [
    ("2024-03-05", dt.datetime(2024, 3, 5)),
    ("2024/3/5", dt.datetime(2024, 3, 5)),
    ("2024.3.5", dt.datetime(2024, 3, 5)),
    ("2024年3月5日", dt.datetime(2024, 3, 5)),
    ("2024 年 3 月 5 日", dt.datetime(2024, 3, 5)),
    ("２０２４－０３－０５", dt.datetime(2024, 3, 5)),
    ("20240305", dt.datetime(2024, 3, 5)),
    ("2024-03-05 14:30", dt.datetime(2024, 3, 5, 14, 30)),
    ("2024-03-05 14:30:15", dt.datetime(2024, 3, 5, 14, 30, 15)),
    ("2024-03-05T14:30:15.000", dt.datetime(2024, 3, 5, 14, 30, 15)),
    ("2024年3月5日 14时30分", dt.datetime(2024, 3, 5, 14, 30)),
    ("45356", dt.datetime(2024, 3, 5)),  # Excel serial: 1899-12-30 + 45356 days
    ("45356.5", dt.datetime(2024, 3, 5, 12, 0)),
    ("'2024-03-05", dt.datetime(2024, 3, 5)),
    ("2024-02-29", dt.datetime(2024, 2, 29)),
])
def test_parse_date_accepts_export_forms(text: str, value: dt.datetime) -> None:
    assert parse_date(text) == (value, None)


@pytest.mark.parametrize(("text", "reason"), [
    ("2024-02-30", "impossible date"),
    ("2023-02-29", "impossible date"),
    ("2024-13-01", "impossible date"),
    ("2024-03-05 25:00", "impossible date"),
    ("1899-12-31", "implausible date"),
    ("19890101", "implausible date"),
    ("12345", "number out of the range of Excel dates"),
    ("99999", "number out of the range of Excel dates"),
    ("05/03/2024", "ambiguous day/month order"),
    ("5.3.2024", "ambiguous day/month order"),
    ("yesterday", "not a date"),
    ("2024-03", "not a date"),
    ("", "not a date"),
])
def test_parse_date_refuses_with_a_reason(text: str, reason: str) -> None:
    v, r = parse_date(text)
    assert v is None and r is not None and r.startswith(reason)


def test_ambiguous_reason_says_how_to_write_it() -> None:
    _, r = parse_date("05/03/2024")
    assert r is not None and "YYYY-MM-DD" in r and "dayfirst" in r


def test_dayfirst_decides_the_order() -> None:
    assert parse_date("05/03/2024", dayfirst=True) == (dt.datetime(2024, 3, 5), None)
    assert parse_date("05/03/2024", dayfirst=False) == (dt.datetime(2024, 5, 3), None)
    assert parse_date("13/03/2024 08:15", dayfirst=True) == (dt.datetime(2024, 3, 13, 8, 15), None)
    v, r = parse_date("13/03/2024", dayfirst=False)
    assert v is None and r is not None and r.startswith("impossible date")


@pytest.mark.parametrize("word", [*BOOL_TRUE, "是", " Y ", "TRUE", "Ｙ"])
def test_parse_bool_true(word: str) -> None:
    assert parse_bool(word, BOOL_TRUE, BOOL_FALSE) == (True, None)


@pytest.mark.parametrize("word", [*BOOL_FALSE, "N", "False"])
def test_parse_bool_false(word: str) -> None:
    assert parse_bool(word, BOOL_TRUE, BOOL_FALSE) == (False, None)


def test_parse_bool_refuses_other_words() -> None:
    v, r = parse_bool("也许", BOOL_TRUE, BOOL_FALSE)
    assert v is None and r is not None and "是" in r


# --- properties ---------------------------------------------------------------------------------------------------

_date_like = st.one_of(
    st.text(),
    st.text(alphabet="0123456789-/.年月日 :T时分秒'", max_size=30),
    st.builds(lambda y, m, d, sep: f"{y}{sep}{m}{sep}{d}", st.integers(0, 99999), st.integers(0, 99),
              st.integers(0, 99), st.sampled_from(["-", "/", ".", ""])),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@SETTINGS
@given(text=_date_like, dayfirst=st.sampled_from([None, True, False]))
def test_parse_date_never_raises(text: str, dayfirst: bool | None) -> None:
    v, r = parse_date(text, dayfirst=dayfirst)
    assert (v is None) != (r is None)
    if v is not None:
        assert v.year >= 1990 and v.microsecond == 0
    else:
        assert isinstance(r, str) and "/" in r  # English / Chinese


@SETTINGS
@given(text=st.one_of(st.text(), st.text(alphabet="0123456789,.+-eE ¥元'１２３，．", max_size=25)))
def test_parse_number_never_raises(text: str) -> None:
    v, r = parse_number(text)
    assert (v is None) != (r is None)
    if v is not None:
        assert v == v and abs(v) != float("inf")


_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@SETTINGS
@given(x=_finite)
def test_parse_number_round_trips_repr(x: float) -> None:
    assert parse_number(repr(x)) == (x, None)


@SETTINGS
@given(x=st.floats(min_value=-1e15, max_value=1e15, allow_nan=False), decimals=st.integers(0, 4),
       thousands=st.booleans())
def test_parse_number_round_trips_formatted(x: float, decimals: int, thousands: bool) -> None:
    text = f"{x:,.{decimals}f}" if thousands else f"{x:.{decimals}f}"
    v, r = parse_number(text)
    assert r is None and v == float(text.replace(",", ""))


@SETTINGS
@given(d=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)),
       fmt=st.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"]))
def test_parse_date_round_trips_formatted(d: dt.date, fmt: str) -> None:
    assert parse_date(d.strftime(fmt)) == (dt.datetime(d.year, d.month, d.day), None)


@SETTINGS
@given(d=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_excel_serial_round_trips(d: dt.date) -> None:
    serial = (d - dt.date(1899, 12, 30)).days
    assert parse_date(str(serial)) == (dt.datetime(d.year, d.month, d.day), None)
