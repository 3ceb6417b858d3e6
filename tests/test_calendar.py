"""Tests for zk_forecast.calendar: periods, ISO week labels and Chinese working days."""

from __future__ import annotations

import datetime as dt
import re
import warnings

import chinese_calendar
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zk_forecast.calendar import (
    FARMING_SEASONS,
    CalendarWarning,
    WorkingCalendar,
    add_working_days,
    default_calendar,
    is_working_day,
    iso_week_label,
    normalize_freq,
    period_range,
    period_start,
    season_months,
    season_of_month,
    seasons_in,
    working_days_between,
)
from zk_forecast.errors import CalendarError, ZkTypeError

# Seeded, reproducible property tests.
PROPERTY = settings(derandomize=True, max_examples=200, deadline=None)

# A calendar that spans covered and uncovered years without warning, for the property tests.
QUIET = WorkingCalendar(warn=False)
DATES = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2035, 12, 31))


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s)


# ----------------------------------------------------------------------------------------------------
# Golden facts.
# Source: General Office of the State Council notices on holiday arrangements
#   2024: 国务院办公厅关于2024年部分节假日安排的通知 (国办发明电〔2023〕7号, 2023-10-25)
#         Spring Festival: Feb 10-17 off; Feb 4 (Sun) and Feb 18 (Sun) are working days; Feb 9 (除夕) is
#         officially a working day (employers are only encouraged to give it off).
#         National Day: Oct 1-7 off; Sep 29 (Sun) and Oct 12 (Sat) are working days.
#   2025: 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 2024-11-12)
#         Spring Festival: Jan 28 - Feb 4 off; Jan 26 (Sun) and Feb 8 (Sat) are working days.
#         National Day and Mid-Autumn: Oct 1-8 off; Sep 28 (Sun) and Oct 11 (Sat) are working days.

GOLDEN: list[tuple[str, bool]] = (
    [(f"2024-10-0{d}", False) for d in range(1, 8)]
    + [("2024-09-29", True), ("2024-10-12", True), ("2024-10-08", True), ("2024-09-28", False)]
    + [(f"2024-02-{d}", False) for d in range(10, 18)]
    + [("2024-02-04", True), ("2024-02-18", True), ("2024-02-09", True)]
    + [("2025-01-28", False), ("2025-01-31", False), ("2025-02-01", False), ("2025-02-04", False)]
    + [("2025-01-26", True), ("2025-02-08", True), ("2025-02-05", True), ("2025-01-27", True)]
    + [(f"2025-10-0{d}", False) for d in range(1, 9)]
    + [("2025-09-28", True), ("2025-10-11", True)]
)


@pytest.mark.parametrize(("day", "working"), GOLDEN)
def test_golden_days_match_notice_and_package(day: str, working: bool) -> None:
    assert chinese_calendar.is_workday(dt.date.fromisoformat(day)) is working
    assert is_working_day(day) is working
    assert WorkingCalendar().is_working_day(pd.Timestamp(day)) is working


def test_whole_package_range_agrees_with_chinese_calendar() -> None:
    days = pd.date_range("2004-01-01", "2026-12-31", freq="D")
    expected = np.array([chinese_calendar.is_workday(d.date()) for d in days])
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalendarWarning)  # covered years never warn
        got = WorkingCalendar().is_working_day(days)
    np.testing.assert_array_equal(got, expected)


# Hand calculations over National Day 2024 (see GOLDEN for the day-by-day status).
def test_national_day_2024_hand_counts() -> None:
    # (Fri 09-27, Tue 10-08]: Sun 09-29, Mon 09-30, Tue 10-08 -> 3
    assert working_days_between("2024-09-27", "2024-10-08") == 3
    assert working_days_between("2024-10-08", "2024-09-27") == -3
    # (Mon 09-30, Mon 10-07]: all holidays -> 0
    assert working_days_between("2024-09-30", "2024-10-07") == 0
    assert add_working_days("2024-09-27", 3) == ts("2024-10-08")
    assert add_working_days("2024-09-30", 1) == ts("2024-10-08")
    # 10-08, 10-09, 10-10, 10-11, Sat 10-12 (swapped workday)
    assert add_working_days("2024-09-30", 5) == ts("2024-10-12")
    assert add_working_days("2024-10-03", 0) == ts("2024-10-08")  # a holiday rolls forward
    assert add_working_days("2024-10-08", -1) == ts("2024-09-30")
    assert add_working_days("2024-10-05", -1) == ts("2024-09-30")  # first working day strictly before
    assert add_working_days("2024-10-13", -1) == ts("2024-10-12")


# Hand calculations over Spring Festival 2025.
def test_spring_festival_2025_hand_counts() -> None:
    # (Fri 01-24, Mon 02-10]: Sun 01-26, Mon 01-27, Wed 02-05, Thu 02-06, Fri 02-07, Sat 02-08, Mon 02-10 -> 7
    assert working_days_between("2025-01-24", "2025-02-10") == 7
    assert working_days_between(dt.date(2025, 1, 27), dt.date(2025, 2, 4)) == 0
    assert add_working_days("2025-01-27", 1) == ts("2025-02-05")
    assert add_working_days("2025-01-27", 4) == ts("2025-02-08")
    # wear-part promise: ordered Mon 01-27, delivered within 5 working days -> by Mon 02-10
    assert add_working_days("2025-01-27", 5) == ts("2025-02-10")
    assert add_working_days("2025-02-01", 0) == ts("2025-02-05")
    assert add_working_days("2025-02-01", -1) == ts("2025-01-27")
    assert add_working_days("2025-02-05", -2) == ts("2025-01-26")


def test_time_of_day_is_ignored() -> None:
    assert working_days_between("2024-09-30 23:59", "2024-10-08 00:01") == 1
    assert add_working_days(pd.Timestamp("2024-09-30 17:30"), 1) == ts("2024-10-08")
    assert is_working_day(dt.datetime(2024, 10, 12, 9, 0)) is True
    aware = pd.Timestamp("2024-10-08 07:00", tz="Asia/Shanghai")
    assert add_working_days(aware, 0) == ts("2024-10-08")


# ----------------------------------------------------------------------------------------------------
# Fallback for years the package does not cover (hand facts: 2031-01-01 Wed, 2031-01-04 Sat, 2031-01-06 Mon).


def test_uncovered_year_warns_once_and_counts_weekdays() -> None:
    cal = WorkingCalendar()
    with pytest.warns(CalendarWarning) as record:
        assert cal.working_days_between("2031-01-06", "2031-01-13") == 5
        assert cal.is_working_day("2031-01-04") is False
        assert cal.add_working_days("2031-01-10", 1) == ts("2031-01-13")
    messages = [str(w.message) for w in record if issubclass(w.category, CalendarWarning)]
    assert len(messages) == 1
    assert "2031" in messages[0]
    assert "holidays=[...]" in messages[0] and "[calendar]" in messages[0]


def test_each_uncovered_year_warns_once() -> None:
    cal = WorkingCalendar()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        cal.working_days_between("2026-12-01", "2028-01-05")
        cal.working_days_between("2027-03-01", "2028-03-01")
    years = sorted(
        re.search(r"data for (\d{4})", str(w.message)).group(1)  # type: ignore[union-attr]
        for w in record
        if issubclass(w.category, CalendarWarning)
    )
    assert years == ["2027", "2028"]


def test_warn_false_is_silent() -> None:
    cal = WorkingCalendar(warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cal.working_days_between("2031-01-06", "2031-01-13") == 5


def test_supplied_dates_win_and_cover_the_year() -> None:
    cal = WorkingCalendar(holidays=["2031-01-08"], workdays=[dt.date(2031, 1, 4)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalendarWarning)  # 2031 counts as covered now
        assert cal.is_working_day("2031-01-08") is False  # a Wednesday made a holiday
        assert cal.is_working_day("2031-01-04") is True  # a Saturday made a workday
        assert cal.working_days_between("2031-01-06", "2031-01-13") == 4
        assert cal.working_days_between("2031-01-03", "2031-01-06") == 2
        assert cal.add_working_days("2031-01-07", 1) == ts("2031-01-09")


def test_supplied_dates_override_package_in_covered_years() -> None:
    cal = WorkingCalendar(holidays=["2024-09-29"], workdays=["2024-10-07"])
    assert cal.is_working_day("2024-09-29") is False  # the package says working (swapped Sunday)
    assert cal.is_working_day("2024-10-07") is True  # the package says holiday
    assert cal.working_days_between("2024-09-27", "2024-10-08") == 3
    assert is_working_day("2024-09-29") is True  # the default calendar is untouched


def test_default_calendar_is_cached() -> None:
    assert default_calendar() is default_calendar()


def test_table_extends_beyond_initial_span() -> None:
    cal = WorkingCalendar(warn=False)
    # 1985-01-07 is a Monday; plain weekends before the package's coverage
    assert cal.working_days_between("1985-01-07", "1985-01-14") == 5
    assert cal.add_working_days("2040-12-28", 1) == ts("2040-12-31")  # Fri -> Mon across the initial end
    assert cal.add_working_days("2040-12-31", 5000) > ts("2059-01-01")


# ----------------------------------------------------------------------------------------------------
# Vectorised forms and return types


def test_return_types_follow_input() -> None:
    idx = pd.Index([10, 20, 30])
    s = pd.Series(pd.to_datetime(["2024-09-29", "2024-10-01", "2024-10-08"]), index=idx, name="d")
    got = is_working_day(s)
    assert isinstance(got, pd.Series) and got.index.equals(idx) and got.name == "d"
    assert got.tolist() == [True, False, True]
    arr = is_working_day(["2024-09-29", "2024-10-01"])
    assert isinstance(arr, np.ndarray) and arr.dtype == bool
    out = add_working_days(pd.DatetimeIndex(["2024-09-30", "2025-01-27"]), np.array([1, 5]))
    assert isinstance(out, pd.DatetimeIndex) and out.dtype == "datetime64[ns]"
    assert list(out) == [ts("2024-10-08"), ts("2025-02-10")]
    counts = working_days_between("2024-09-27", s)
    assert isinstance(counts, pd.Series) and counts.tolist() == [1, 2, 3]
    assert isinstance(working_days_between("2024-09-27", "2024-10-08"), int)
    assert isinstance(add_working_days("2024-09-27", np.int64(3)), pd.Timestamp)
    assert add_working_days([], 3).size == 0


def test_large_arrays_match_scalars() -> None:
    rng = np.random.default_rng(20240930)
    start = np.datetime64("2004-01-01") + rng.integers(0, 8000, 2000).astype("timedelta64[D]")
    n = rng.integers(-300, 300, 2000)
    out = QUIET.add_working_days(start, n)
    for i in range(0, 2000, 97):
        assert out[i] == QUIET.add_working_days(pd.Timestamp(start[i]), int(n[i]))


# ----------------------------------------------------------------------------------------------------
# Properties


@PROPERTY
@given(start=DATES, n=st.integers(1, 400))
def test_add_then_count_gives_n(start: dt.date, n: int) -> None:
    end = QUIET.add_working_days(start, n)
    assert QUIET.working_days_between(start, end) == n
    assert QUIET.is_working_day(end)


@PROPERTY
@given(start=DATES, n=st.integers(-400, -1))
def test_negative_n_counts_working_days_before_start(start: dt.date, n: int) -> None:
    result = QUIET.add_working_days(start, n)
    assert result < pd.Timestamp(start) and QUIET.is_working_day(result)
    # working days in [result, start) == -n
    day = pd.Timedelta(days=1)
    assert QUIET.working_days_between(result - day, pd.Timestamp(start) - day) == -n


@PROPERTY
@given(start=DATES)
def test_zero_rolls_forward(start: dt.date) -> None:
    result = QUIET.add_working_days(start, 0)
    assert QUIET.is_working_day(result)
    if QUIET.is_working_day(start):
        assert result == pd.Timestamp(start)
    else:
        assert result > pd.Timestamp(start) and QUIET.working_days_between(start, result) == 1


@PROPERTY
@given(a=DATES, b=DATES, c=DATES)
def test_count_is_antisymmetric_and_additive(a: dt.date, b: dt.date, c: dt.date) -> None:
    assert QUIET.working_days_between(a, b) == -QUIET.working_days_between(b, a)
    assert QUIET.working_days_between(a, c) == QUIET.working_days_between(a, b) + QUIET.working_days_between(
        b, c
    )


@PROPERTY
@given(pairs=st.lists(st.tuples(DATES, DATES, st.integers(-400, 400)), min_size=1, max_size=30))
def test_vectorised_equals_scalar(pairs: list[tuple[dt.date, dt.date, int]]) -> None:
    a = pd.Series([pd.Timestamp(p[0]) for p in pairs])
    b = pd.DatetimeIndex([p[1] for p in pairs])
    n = np.array([p[2] for p in pairs])
    counts = QUIET.working_days_between(a, b)
    added = QUIET.add_working_days(a, n)
    working = QUIET.is_working_day(b)
    for i, (x, y, k) in enumerate(pairs):
        assert counts.iloc[i] == QUIET.working_days_between(x, y)
        assert added.iloc[i] == QUIET.add_working_days(x, k)
        assert working[i] == QUIET.is_working_day(y)


# ----------------------------------------------------------------------------------------------------
# Periods


@pytest.mark.parametrize(
    ("day", "label"),
    [  # hand-checked against datetime.date.isocalendar()
        ("2024-12-30", "2025-W01"),
        ("2024-12-29", "2024-W52"),
        ("2021-01-03", "2020-W53"),
        ("2020-12-28", "2020-W53"),
        ("2018-12-31", "2019-W01"),
        ("2027-01-01", "2026-W53"),
        ("2026-01-01", "2026-W01"),
        ("2024-02-26", "2024-W09"),
    ],
)
def test_iso_week_label(day: str, label: str) -> None:
    assert iso_week_label(day) == label
    assert dt.date.fromisoformat(day).isocalendar()[:2] == (int(label[:4]), int(label[-2:]))


def test_iso_week_label_vectorised_matches_python() -> None:
    days = pd.date_range("1999-12-20", "2031-01-10", freq="D")
    expected = [f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}" for d in days]
    assert iso_week_label(days).tolist() == expected
    assert iso_week_label(["2024-12-30", None]).tolist() == ["2025-W01", None]


def test_period_start_weeks_and_months() -> None:
    assert period_start("2024-12-31 15:00") == ts("2024-12-30")  # Tuesday -> Monday
    assert period_start("2024-12-30") == ts("2024-12-30")  # a Monday is its own start
    assert period_start("2025-01-05", freq="W") == ts("2024-12-30")  # Sunday -> previous Monday
    assert period_start("2024-02-29", freq="month") == ts("2024-02-01")
    assert period_start("1969-12-31 23:00", freq="M") == ts("1969-12-01")
    s = pd.Series(pd.to_datetime(["2024-10-01", None]), index=["a", "b"])
    got = period_start(s)
    assert got.index.tolist() == ["a", "b"] and got.iloc[0] == ts("2024-09-30") and pd.isna(got.iloc[1])


def test_period_range() -> None:
    weeks = period_range("2024-12-31", "2025-01-13")
    assert list(weeks) == [ts("2024-12-30"), ts("2025-01-06"), ts("2025-01-13")]
    months = period_range(dt.date(2024, 11, 15), "2025-02-01", freq="MS")
    assert list(months) == [ts("2024-11-01"), ts("2024-12-01"), ts("2025-01-01"), ts("2025-02-01")]
    assert len(period_range("2024-10-02", "2024-10-02")) == 1


@pytest.mark.parametrize("freq", ["W", "W-MON", "week", "Week", "w-mon"])
def test_weekly_aliases(freq: str) -> None:
    assert normalize_freq(freq) == "W-MON"


@pytest.mark.parametrize("freq", ["MS", "M", "month", "Month"])
def test_monthly_aliases(freq: str) -> None:
    assert normalize_freq(freq) == "MS"


# ----------------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("freq", ["D", "W-SUN", "quarter", "", None])
def test_unknown_freq(freq: object) -> None:
    with pytest.raises(CalendarError, match=r"'freq'.*'W-MON'.*'MS'") as info:
        period_start("2024-10-01", freq=freq)  # type: ignore[arg-type]
    assert repr(freq) in str(info.value)


@pytest.mark.parametrize("bad", ["2024-13-45", "not a date", "01/02/2024"])
def test_unparseable_date_string(bad: str) -> None:
    with pytest.raises(CalendarError, match="ISO") as info:
        is_working_day(bad)
    assert bad in str(info.value)
    with pytest.raises(CalendarError, match="ISO"):
        working_days_between(["2024-10-01", bad], "2024-10-09")


def test_other_bad_input() -> None:
    with pytest.raises(CalendarError, match="missing"):
        is_working_day(pd.Series(pd.to_datetime(["2024-10-01", None])))
    with pytest.raises(ZkTypeError, match="dates"):
        is_working_day(np.array([1, 2, 3]))
    with pytest.raises(ZkTypeError, match="whole number"):
        add_working_days("2024-10-01", 1.5)
    with pytest.raises(CalendarError, match="both"):
        WorkingCalendar(holidays=["2031-01-08"], workdays=["2031-01-08"])
    with pytest.raises(CalendarError, match="swap"):
        period_range("2025-01-01", "2024-01-01")
    with pytest.raises(CalendarError, match="lengths"):
        working_days_between(["2024-10-01", "2024-10-02"], ["2024-10-01"] * 3)
    with pytest.raises(CalendarError, match="supported range"):
        is_working_day("1024-10-01")


# ---------------------------------------------------------------------------------------------- farming seasons
def test_every_month_in_exactly_one_season() -> None:
    months = sorted(m for s in FARMING_SEASONS for m in s.months)
    assert months == list(range(1, 13))
    assert len({s.key for s in FARMING_SEASONS}) == len(FARMING_SEASONS)
    # the definition documented in the module: 春播 3-5, 夏收 6-7, 秋收 8-10, 冬季 11-2
    assert season_months() == {"spring_sowing": (3, 4, 5), "wheat_harvest": (6, 7), "autumn_harvest": (8, 9, 10),
                               "winter": (11, 12, 1, 2)}
    assert [s.zh for s in FARMING_SEASONS] == ["春播", "夏收", "秋收", "冬季"]
    assert [s.months_zh for s in FARMING_SEASONS] == ["3–5月", "6–7月", "8–10月", "11–次年2月"]
    assert FARMING_SEASONS[3].months_en == "Nov–Feb" and not FARMING_SEASONS[3].field_work


def test_one_season_table_everywhere() -> None:
    from zk_forecast.inventory import wearlist
    from zk_forecast.reports import manufacturer

    assert dict(wearlist.SEASONS) == season_months()
    assert dict(wearlist.SEASON_ZH) == {s.key: s.zh for s in FARMING_SEASONS}
    assert manufacturer.SEASONS is FARMING_SEASONS


def test_season_of_month_shapes_and_errors() -> None:
    assert season_of_month(8) == "autumn_harvest"
    assert season_of_month(np.int64(1)) == "winter"
    assert list(season_of_month([3, 7, 12])) == ["spring_sowing", "wheat_harvest", "winter"]
    s = season_of_month(pd.Series([6, 10], index=[4, 9], name="m"))
    assert list(s.index) == [4, 9] and list(s) == ["wheat_harvest", "autumn_harvest"]
    assert len(season_of_month(np.array([], dtype=int))) == 0
    for bad in (0, 13, 2.5, [1, np.nan], "3"):
        with pytest.raises(ZkTypeError, match="1-12"):
            season_of_month(bad)


@pytest.mark.parametrize(("start", "end", "keys"), [
    ("2026-07-01", "2026-10-01", ["wheat_harvest", "autumn_harvest"]),   # Q3: no 春播, no winter
    ("2026-01-01", "2027-01-01", ["spring_sowing", "wheat_harvest", "autumn_harvest", "winter"]),
    ("2026-08-01", "2026-09-01", ["autumn_harvest"]),
    ("2026-12-01", "2027-03-01", ["winter"]),
    ("2026-05-31", "2026-06-02", ["spring_sowing", "wheat_harvest"]),
    ("2026-07-01", "2026-07-01", []),
])
def test_seasons_in_a_period(start: str, end: str, keys: list[str]) -> None:
    assert [s.key for s in seasons_in(start, end)] == keys


@PROPERTY
@given(DATES, st.integers(1, 800))
def test_seasons_in_are_the_seasons_of_the_days(start: dt.date, days: int) -> None:
    end = start + dt.timedelta(days=days)
    every_day = pd.date_range(start, end - dt.timedelta(days=1), freq="D")
    expected = set(season_of_month(every_day.month.to_numpy()))
    got = [s.key for s in seasons_in(start, end)]
    assert set(got) == expected
    assert got == [s.key for s in FARMING_SEASONS if s.key in expected]  # table order
