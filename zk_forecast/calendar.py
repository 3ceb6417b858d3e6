"""Periods (ISO weeks, months), Chinese working days and the farming seasons of Ningxia.

Three concepts live here; periods and working days are vectorised over scalars, lists, numpy arrays,
``pandas.Series`` and ``pandas.DatetimeIndex``:

* **Periods.** A week starts on Monday 00:00 and is labelled by that Monday (``freq="W-MON"``); a month is
  labelled by its first day (``freq="MS"``). :func:`period_start` maps dates to the start of their period,
  :func:`period_range` lists the period starts covering a span, :func:`iso_week_label` gives
  ``"2025-W01"``. Note that ``Series.dt.to_period("W-MON")`` in pandas means weeks *ending* on Monday; use
  :func:`period_start` instead.
* **Working days.** Chinese statutory holidays and swapped weekend working days (调休) come from the
  ``chinese_calendar`` package, which covers the years 2004-2026. For any other year the calendar falls back
  to Monday-Friday and warns once per year with a :class:`CalendarWarning`; supply that year's dates through
  ``WorkingCalendar(holidays=[...], workdays=[...])`` or the config (``[calendar] holidays = [...]`` and
  ``workdays = [...]``).
* **Farming seasons.** :data:`FARMING_SEASONS` is the one table of the seasons of Ningxia, used by the wear-part
  list, the manufacturer report, the service report and the scorecard. Every month belongs to exactly one
  season, because the wear-part list sizes stock per season for the whole year:

  - 春播 spring sowing, March-May: spring wheat is sown in the Yellow River irrigation area from early March,
    maize, rice and potatoes in April and May; tractors and seeders work hardest then.
  - 夏收 wheat (summer) harvest, June-July: winter wheat in the south and spring wheat in the north are
    harvested; combines and balers start their year.
  - 秋收 autumn harvest, August-October: maize, rice and potatoes are harvested in September and October.
    August belongs to this campaign because the harvesters are overhauled before it and their wear parts are
    bought then (the wear-part list must hold them in August), and a failure found in that overhaul is a
    failure of the autumn campaign. A lull season of August alone would be one month, too thin for the
    wear-part list's per-season statistics.
  - 冬季 winter, November-February: little field work, the off-season (not shaded in charts).

  Reports show only the seasons that overlap their period (:func:`seasons_in`).

Working-day functions operate on calendar dates: a time of day is dropped (``2024-10-08 17:30`` is the day
``2024-10-08``), and time-zone-aware values are read in their own wall-clock time. Missing dates (``NaT``) are
rejected by the working-day functions and passed through (as ``NaT`` / ``None``) by the period functions.

Return types follow the input: a scalar gives a scalar (``pandas.Timestamp``, ``bool``, ``int`` or ``str``),
a ``Series`` gives a ``Series`` with the same index, and any other array-like gives a ``DatetimeIndex`` for
dates and a ``numpy.ndarray`` for everything else. Dates are returned as ``datetime64[ns]`` at midnight.
"""

from __future__ import annotations

import datetime as _dt
import functools
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.errors import CalendarError, ZkTypeError

__all__ = [
    "FARMING_SEASONS",
    "FREQ_ALIASES",
    "CalendarWarning",
    "Season",
    "WorkingCalendar",
    "add_working_days",
    "default_calendar",
    "is_working_day",
    "iso_week_label",
    "normalize_freq",
    "period_range",
    "period_start",
    "season_months",
    "season_of_month",
    "seasons_in",
    "working_days_between",
]

FREQ_ALIASES: dict[str, str] = {
    "W": "W-MON",
    "W-MON": "W-MON",
    "WEEK": "W-MON",
    "MS": "MS",
    "M": "MS",
    "MONTH": "MS",
}
"""Accepted ``freq`` spellings (case-insensitive) and the canonical pandas frequency each one means."""

_MIN_DATE = np.datetime64("1900-01-01", "D")  # supported span of the working-day tables
_MAX_DATE = np.datetime64("2199-12-31", "D")
_MIN_DAY = int(_MIN_DATE.view(np.int64))  # the same as day numbers since 1970-01-01
_MAX_DAY = int(_MAX_DATE.view(np.int64))
_INITIAL_SPAN = tuple(int(np.datetime64(d, "D").view(np.int64)) for d in ("1990-01-01", "2040-12-31"))
_MARGIN_DAYS = 366


class CalendarWarning(UserWarning):
    """A working-day calculation used the Monday-Friday fallback for a year without holiday data."""


# ----------------------------------------------------------------------------------------------------
# input and output helpers


@dataclass(frozen=True)
class _Shape:
    """How an argument was given, so results can be returned in the same form."""

    kind: str  # "scalar", "series" or "array"
    index: pd.Index | None = None
    name: Any = None


_SCALAR_TYPES = (str, _dt.date, np.datetime64)


def _as_days(value: Any, arg: str, *, allow_nat: bool = False) -> tuple[np.ndarray, _Shape]:
    """Convert dates to int64 day numbers since 1970-01-01 (NaT -> ``np.iinfo(np.int64).min``)."""
    if isinstance(value, _SCALAR_TYPES) or value is pd.NaT:
        shape = _Shape("scalar")
        values: Any = [value]
    elif isinstance(value, pd.Series):
        shape = _Shape("series", value.index, value.name)
        values = pd.Index(value)
    elif isinstance(value, (list, tuple, np.ndarray, pd.Index)):
        shape = _Shape("array")
        values = value
    else:
        raise ZkTypeError(
            f"The {arg!r} argument must be a date, an ISO date string or an array of them; got "
            f"{type(value).__name__} {value!r}. Pass e.g. '2024-10-08', datetime.date(2024, 10, 8) "
            "or a Series of dates."
        )
    if np.ndim(values) != 1:
        raise CalendarError(
            f"The {arg!r} argument must be one-dimensional; got shape {np.shape(values)}. Use .ravel()."
        )
    if len(values) == 0:
        return np.empty(0, dtype=np.int64), shape
    if isinstance(values, pd.DatetimeIndex) and values.tz is not None:
        values = values.tz_localize(None)
    arr = np.asarray(values)
    if arr.dtype.kind in "biufc":
        raise ZkTypeError(
            f"The {arg!r} argument must hold dates; got numbers of dtype {arr.dtype}. "
            "Convert them first, e.g. pd.to_datetime(x, unit='D') for day counts."
        )
    if arr.dtype.kind != "M":
        try:
            idx = pd.to_datetime(values, format="ISO8601")
        except pd.errors.OutOfBoundsDatetime:  # an ISO date pandas cannot hold (before 1677 or after 2262)
            bad = next((v for v in values if not _parses(v)), values)
            raise CalendarError(
                f"The {arg!r} argument holds {bad!r}, outside the supported range {_MIN_DATE}..{_MAX_DATE}. "
                "Check the date for a typo (e.g. a two-digit year)."
            ) from None
        except (ValueError, TypeError, OverflowError):
            bad = next((v for v in values if not _parses(v)), values)
            raise CalendarError(
                f"The {arg!r} argument holds {bad!r}, which is not a date. Dates must be date/datetime "
                "objects or ISO 8601 strings such as '2024-10-08' or '2024-10-08 17:30' (year first; "
                "'01/02/2024' is ambiguous)."
            ) from None
        if idx.tz is not None:
            idx = idx.tz_localize(None)
        arr = idx.to_numpy()
    days = arr.astype("datetime64[D]")
    nat = np.isnat(days)
    if nat.any() and not allow_nat:
        pos = int(np.flatnonzero(nat)[0])
        raise CalendarError(
            f"The {arg!r} argument holds {int(nat.sum())} missing date(s) (NaT), the first at position "
            f"{pos}. Working days need real dates: drop or fill the missing ones first, e.g. s.dropna()."
        )
    ok = days[~nat]
    if ok.size and (ok.min() < _MIN_DATE or ok.max() > _MAX_DATE):
        bad_day = ok.min() if ok.min() < _MIN_DATE else ok.max()
        raise CalendarError(
            f"The {arg!r} argument holds {bad_day}, outside the supported range {_MIN_DATE}..{_MAX_DATE}. "
            "Check the date for a typo (e.g. a two-digit year)."
        )
    return days.view(np.int64), shape


def _parses(value: Any) -> bool:
    try:
        pd.to_datetime([value], format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return False
    return True


def _to_datetime64(days: np.ndarray) -> np.ndarray:
    return days.view("datetime64[D]").astype("datetime64[ns]")


def _wrap_dates(days: np.ndarray, shape: _Shape) -> Any:
    out = _to_datetime64(days)
    if shape.kind == "scalar":
        return pd.Timestamp(out[0])
    if shape.kind == "series":
        return pd.Series(out, index=shape.index, name=shape.name)
    return pd.DatetimeIndex(out)


def _wrap_values(values: np.ndarray, shape: _Shape) -> Any:
    if shape.kind == "scalar":
        first = values[0]
        return first.item() if isinstance(first, np.generic) else first
    if shape.kind == "series":
        return pd.Series(values, index=shape.index, name=shape.name)
    return values


def _combine(a: _Shape, b: _Shape, len_a: int, len_b: int) -> _Shape:
    """The shape of a result computed from two broadcast arguments."""
    if a.kind != "scalar" and b.kind != "scalar" and len_a != len_b:
        raise CalendarError(
            f"The two arguments have lengths {len_a} and {len_b}; pass equal lengths or one scalar."
        )
    if a.kind == "series" and b.kind == "series" and not a.index.equals(b.index):  # type: ignore[union-attr]
        raise CalendarError(
            "The two Series arguments have different indexes; align them first (e.g. as columns "
            "of one DataFrame)."
        )
    for s in (a, b):
        if s.kind == "series":
            return s
    return a if a.kind == "array" else b


def _as_list(dates: Any) -> list[Any]:
    """A list of dates from one date or an iterable of dates (a lone string is one date, not characters)."""
    if isinstance(dates, _SCALAR_TYPES):
        return [dates]
    return list(dates)


def _outside_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside this module."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _weekday(days: np.ndarray) -> np.ndarray:
    """Monday=0 ... Sunday=6 for day numbers since 1970-01-01 (a Thursday)."""
    return (days + 3) % 7


# ----------------------------------------------------------------------------------------------------
# periods


def normalize_freq(freq: str) -> str:
    """Return the canonical period frequency, ``"W-MON"`` (weeks from Monday) or ``"MS"`` (months).

    Parameters
    ----------
    freq : str
        One of ``"W"``, ``"W-MON"``, ``"week"`` (weeks starting Monday) or ``"MS"``, ``"M"``, ``"month"``
        (calendar months), in any letter case.

    Raises
    ------
    CalendarError
        For any other value; the message lists the accepted values.
    """
    key = freq.strip().upper() if isinstance(freq, str) else None
    if key not in FREQ_ALIASES:
        raise CalendarError(
            "The 'freq' parameter must be one of 'W', 'W-MON', 'week' (weeks starting Monday) or 'MS', 'M', "
            f"'month' (calendar months); got {freq!r} instead."
        )
    return FREQ_ALIASES[key]


def _period_start_days(days: np.ndarray, freq: str) -> np.ndarray:
    nat = days == np.iinfo(np.int64).min
    if freq == "W-MON":
        out = days - _weekday(days)
    else:
        out = days.view("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]").view(np.int64)
    return np.where(nat, days, out)


def period_start(dates: Any, freq: str = "W-MON") -> Any:
    """Return the start of the period each date falls in.

    Parameters
    ----------
    dates : date-like or array-like of date-like
        Dates or datetimes; a time of day is dropped. ``NaT`` stays ``NaT``.
    freq : str, default "W-MON"
        Period length: weeks starting Monday (``"W-MON"``) or calendar months (``"MS"``); see
        :func:`normalize_freq` for the accepted spellings.

    Returns
    -------
    pandas.Timestamp, pandas.Series or pandas.DatetimeIndex
        The Monday (weeks) or first of the month (months) at 00:00, in the form of ``dates``.

    Examples
    --------
    >>> period_start("2024-12-31 15:00")
    Timestamp('2024-12-30 00:00:00')
    >>> period_start("2024-12-31", freq="month")
    Timestamp('2024-12-01 00:00:00')
    """
    canonical = normalize_freq(freq)
    days, shape = _as_days(dates, "dates", allow_nat=True)
    return _wrap_dates(_period_start_days(days, canonical), shape)


def period_range(start: Any, end: Any, freq: str = "W-MON") -> pd.DatetimeIndex:
    """Return the starts of all periods that overlap the span from ``start`` to ``end`` (both inclusive).

    Parameters
    ----------
    start, end : date-like
        First and last day of the span; ``end`` must not be before ``start``.
    freq : str, default "W-MON"
        Weeks starting Monday (``"W-MON"``) or calendar months (``"MS"``); see :func:`normalize_freq`.

    Returns
    -------
    pandas.DatetimeIndex
        Period starts (``datetime64[ns]``), the first one on or before ``start``.

    Examples
    --------
    >>> list(period_range("2024-12-31", "2025-01-08").strftime("%Y-%m-%d"))
    ['2024-12-30', '2025-01-06']
    """
    canonical = normalize_freq(freq)
    s, s_shape = _as_days(start, "start")
    e, e_shape = _as_days(end, "end")
    if s_shape.kind != "scalar" or e_shape.kind != "scalar":
        raise CalendarError(
            "period_range takes single dates for 'start' and 'end'; got an array. "
            "Pass e.g. dates.min() and dates.max()."
        )
    if e[0] < s[0]:
        raise CalendarError(
            f"period_range got end {_to_datetime64(e)[0]} before start {_to_datetime64(s)[0]}; swap them."
        )
    first, last = _to_datetime64(_period_start_days(np.concatenate([s, e]), canonical))
    return pd.date_range(first, last, freq=canonical, unit="ns")


def iso_week_label(dates: Any) -> Any:
    """Return ISO 8601 week labels such as ``"2024-W09"``.

    The year is the ISO week-numbering year, which differs from the calendar year near New Year: the week
    containing a year's first Thursday is its week 1, so 2024-12-30 is ``"2025-W01"`` and 2021-01-03 is
    ``"2020-W53"``.

    Parameters
    ----------
    dates : date-like or array-like of date-like
        Dates or datetimes. ``NaT`` gives ``None``.

    Returns
    -------
    str, pandas.Series or numpy.ndarray of str (object dtype)
        One label per date, in the form of ``dates``.
    """
    days, shape = _as_days(dates, "dates", allow_nat=True)
    nat = days == np.iinfo(np.int64).min
    days = np.where(nat, 0, days)
    thursday = days - _weekday(days) + 3  # the ISO year is the calendar year of the week's Thursday
    iso_year = thursday.view("datetime64[D]").astype("datetime64[Y]")
    week = (thursday - iso_year.astype("datetime64[D]").view(np.int64)) // 7 + 1
    year_num = iso_year.view(np.int64) + 1970
    # format each distinct week once: a million dates span only a few hundred weeks
    codes, inverse = np.unique(year_num * 100 + week, return_inverse=True)
    distinct = np.array([f"{c // 100}-W{c % 100:02d}" for c in codes.tolist()], dtype=object)
    labels = distinct[inverse.reshape(-1)] if codes.size else np.empty(0, dtype=object)
    labels[nat] = None
    return _wrap_values(labels, shape)


# ----------------------------------------------------------------------------------------------------
# working days


@functools.lru_cache(maxsize=1)
def _package_days() -> tuple[np.ndarray, np.ndarray, range]:
    """Holidays and swapped workdays from ``chinese_calendar`` as day numbers, and the years it covers."""
    import chinese_calendar

    def to_days(dates: Any) -> np.ndarray:
        return np.array(sorted(dates), dtype="datetime64[D]").view(np.int64)

    years = [d.year for d in chinese_calendar.holidays]
    return (
        to_days(chinese_calendar.holidays),
        to_days(chinese_calendar.workdays),
        range(min(years), max(years) + 1),
    )


def _year_of(days: np.ndarray) -> np.ndarray:
    return days.view("datetime64[D]").astype("datetime64[Y]").view(np.int64) + 1970


class WorkingCalendar:
    """Chinese working days: weekends, statutory holidays and swapped workdays (调休), plus your own dates.

    A day is a working day when, in order of precedence: it is in ``workdays`` (yes) or ``holidays`` (no);
    else ``chinese_calendar`` lists it as a holiday (no) or a swapped workday (yes); else it is Monday-Friday.
    ``chinese_calendar`` covers 2004-2026. Any other year in which you supplied no dates uses Monday-Friday
    and emits one :class:`CalendarWarning` per year and calendar the first time a calculation touches it.

    Parameters
    ----------
    holidays : iterable of date-like, default ()
        Extra days that are NOT working days (e.g. a statutory holiday of a year the package does not cover).
    workdays : iterable of date-like, default ()
        Extra days that ARE working days (e.g. a Saturday swapped for a holiday).
    warn : bool, default True
        Whether to warn when the Monday-Friday fallback is used.

    Notes
    -----
    The calendar precomputes a boolean working-day table over 1990-2040 (extended on demand, within
    1900-2199) and its cumulative sum, so each method is a few vectorised numpy operations.

    Examples
    --------
    >>> cal = WorkingCalendar()
    >>> cal.working_days_between("2024-09-30", "2024-10-08")   # National Day 2024: Oct 1-7 off
    1
    >>> cal.add_working_days("2024-09-30", 1)
    Timestamp('2024-10-08 00:00:00')
    """

    def __init__(self, holidays: Any = (), workdays: Any = (), warn: bool = True) -> None:
        self.holidays = holidays
        self.workdays = workdays
        self.warn = warn
        self._holiday_days, _ = _as_days(_as_list(holidays), "holidays")
        self._workday_days, _ = _as_days(_as_list(workdays), "workdays")
        both = np.intersect1d(self._holiday_days, self._workday_days)
        if both.size:
            raise CalendarError(
                f"The dates {[str(d) for d in both.view('datetime64[D]')]} are in both 'holidays' and "
                "'workdays'; a day is one or the other, so remove it from one list."
            )
        package_years = _package_days()[2]
        supplied_years = {int(y) for y in _year_of(np.concatenate([self._holiday_days, self._workday_days]))}
        self._covered_years = frozenset(package_years) | supplied_years
        self._covered_span = (
            np.datetime64(f"{package_years.start}-01-01", "D").view(np.int64),
            np.datetime64(f"{package_years.stop - 1}-12-31", "D").view(np.int64),
        )
        self._warned: set[int] = set()
        self._build(*_INITIAL_SPAN)

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(holidays=<{self._holiday_days.size} dates>, "
            f"workdays=<{self._workday_days.size} dates>, warn={self.warn})"
        )

    # -- tables ----------------------------------------------------------------------------------

    def _build(self, first: int, last: int) -> None:
        """(Re)build the working-day table for days ``first..last`` (day numbers, inclusive)."""
        days = np.arange(first, last + 1, dtype=np.int64)
        work = _weekday(days) < 5
        pkg_holidays, pkg_workdays, _ = _package_days()
        for dates, value in (
            (pkg_holidays, False),
            (pkg_workdays, True),
            (self._holiday_days, False),
            (self._workday_days, True),
        ):
            inside = dates[(dates >= first) & (dates <= last)]
            work[inside - first] = value
        self._first = first
        self._work = work
        # _cum[i] = number of working days among the first i days of the table
        self._cum = np.concatenate([[0], np.cumsum(work, dtype=np.int64)])

    def _ensure(self, lo: int, hi: int) -> None:
        """Make the table cover the days ``lo..hi``, extended by a margin, within the supported range."""
        last = self._first + self._work.size - 1
        if lo >= self._first and hi <= last:
            return
        if lo < _MIN_DAY or hi > _MAX_DAY:
            raise CalendarError(
                f"A working-day result falls outside the supported range {_MIN_DATE}..{_MAX_DATE}; "
                "use a smaller number of working days."
            )
        self._build(
            max(_MIN_DAY, min(self._first, lo - _MARGIN_DAYS)), min(_MAX_DAY, max(last, hi + _MARGIN_DAYS))
        )

    def _check_coverage(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Warn once per uncovered year that the spans ``lo[i]..hi[i]`` (day numbers) touch."""
        if not self.warn or lo.size == 0:
            return
        if lo.min() >= self._covered_span[0] and hi.max() <= self._covered_span[1]:
            return
        y_lo, y_hi = _year_of(lo), _year_of(hi)
        base, top = int(y_lo.min()), int(y_hi.max())
        # difference array over years: +1 where a span starts, -1 after it ends
        size = top - base + 2
        touched = np.cumsum(
            np.bincount(y_lo - base, minlength=size) - np.bincount(y_hi - base + 1, minlength=size)
        )
        covered = _package_days()[2]
        for year in (base + np.flatnonzero(touched[:-1] > 0)).tolist():
            if year in self._covered_years or year in self._warned:
                continue
            self._warned.add(year)
            warnings.warn(
                f"No statutory holiday data for {year} (chinese_calendar covers "
                f"{covered.start}-{covered.stop - 1}); counting Monday-Friday as working days in {year}. "
                f"To supply {year}'s holidays and swapped working days, pass "
                "WorkingCalendar(holidays=[...], workdays=[...]) or list them in the config under "
                "[calendar] holidays = [...] and workdays = [...].",
                CalendarWarning,
                stacklevel=_outside_stacklevel(),
            )

    # -- public methods --------------------------------------------------------------------------

    def is_working_day(self, dates: Any) -> Any:
        """Return whether each date is a working day.

        Parameters
        ----------
        dates : date-like or array-like of date-like
            Dates or datetimes (the time of day is ignored).

        Returns
        -------
        bool, pandas.Series of bool or numpy.ndarray of bool
            In the form of ``dates``.
        """
        days, shape = _as_days(dates, "dates")
        if days.size:
            self._ensure(int(days.min()), int(days.max()))
            self._check_coverage(days, days)
        return _wrap_values(self._work[days - self._first], shape)

    def working_days_between(self, start: Any, end: Any) -> Any:
        """Count the working days ``d`` with ``start < d <= end``.

        The start day is excluded and the end day included, so the same day gives 0, Friday to the next Monday
        gives 1 (on a plain weekend), and a span that ends on a non-working day does not count that day. When
        ``end`` is before ``start`` the result is ``-working_days_between(end, start)``, so counts add up:
        ``between(a, c) == between(a, b) + between(b, c)``.

        Parameters
        ----------
        start, end : date-like or array-like of date-like
            Dates or datetimes (the time of day is ignored); arrays of equal length or a scalar broadcast.

        Returns
        -------
        int, pandas.Series of int64 or numpy.ndarray of int64 [working days]
            In the form of the array argument (a Series wins), or an int for two scalars.
        """
        s, s_shape = _as_days(start, "start")
        e, e_shape = _as_days(end, "end")
        shape = _combine(s_shape, e_shape, s.size, e.size)
        s, e = np.broadcast_arrays(s, e)
        if s.size:
            lo, hi = np.minimum(s, e), np.maximum(s, e)
            self._ensure(int(lo.min()), int(hi.max()))
            self._check_coverage(lo, hi)
        counts = self._cum[e - self._first + 1] - self._cum[s - self._first + 1]
        return _wrap_values(counts.astype(np.int64), shape)

    def add_working_days(self, start: Any, n: Any) -> Any:
        """Return the date ``n`` working days after ``start`` (before it when ``n`` is negative).

        * ``n >= 1``: the n-th working day strictly after ``start``; then
          ``working_days_between(start, result) == n``.
        * ``n == 0``: ``start`` itself when it is a working day, otherwise the next working day.
        * ``n <= -1``: the |n|-th working day strictly before ``start``; then ``result < start`` and exactly
          ``-n`` working days lie in ``[result, start)``.

        This matches ``start + pandas.offsets.BDay(n)`` with Chinese working days in place of Monday-Friday.

        Parameters
        ----------
        start : date-like or array-like of date-like
            Dates or datetimes (the time of day is dropped: results are at midnight).
        n : int or array-like of int [working days]
            Offsets; an array of equal length as ``start`` or a scalar broadcast.

        Returns
        -------
        pandas.Timestamp, pandas.Series or pandas.DatetimeIndex
            Working days at 00:00, in the form of the array argument (a Series wins).
        """
        s, s_shape = _as_days(start, "start")
        steps, n_shape = _as_steps(n)
        shape = _combine(s_shape, n_shape, s.size, steps.size)
        s, steps = np.broadcast_arrays(s, steps)
        if s.size == 0:
            return _wrap_dates(s.copy(), shape)
        self._ensure(int(s.min()), int(s.max()))
        while True:
            idx = s - self._first
            # rank (1-based) of the target among the table's working days
            rank = np.where(
                steps > 0,
                self._cum[idx + 1] + steps,
                np.where(steps < 0, self._cum[idx] + steps + 1, self._cum[idx] + 1),
            )
            low, high = int(rank.min()), int(rank.max())
            if low >= 1 and high <= self._cum[-1]:
                break
            reach = 2 * int(np.abs(steps).max()) + 30  # calendar days enough for the missing working days
            last = self._first + self._work.size - 1
            self._ensure(
                self._first - reach if low < 1 else self._first,
                last + reach if high > self._cum[-1] else last,
            )
        result = np.searchsorted(self._cum, rank, side="left") - 1 + self._first
        self._check_coverage(np.minimum(s, result), np.maximum(s, result))
        return _wrap_dates(result.astype(np.int64), shape)


def _as_steps(n: Any) -> tuple[np.ndarray, _Shape]:
    """Validate working-day offsets: whole numbers, scalar or 1-D."""
    if isinstance(n, pd.Series):
        shape = _Shape("series", n.index, n.name)
    elif np.ndim(n) == 0:
        shape = _Shape("scalar")
    else:
        shape = _Shape("array")
    arr = np.atleast_1d(np.asarray(n))
    if (
        arr.ndim != 1
        or arr.dtype.kind not in "iuf"
        or (arr.dtype.kind == "f" and not np.all(arr == np.round(arr)))
    ):
        raise ZkTypeError(
            f"The 'n' argument must be a whole number of working days (or an array of them); got {n!r}. "
            "Round it first, e.g. int(round(n))."
        )
    return arr.astype(np.int64), shape


@functools.lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """Return the shared :class:`WorkingCalendar` with no extra dates, used by the module-level functions."""
    return WorkingCalendar()


def is_working_day(dates: Any) -> Any:
    """Return whether each date is a working day in China; see :meth:`WorkingCalendar.is_working_day`."""
    return default_calendar().is_working_day(dates)


def working_days_between(start: Any, end: Any) -> Any:
    """Count the working days d with ``start < d <= end`` [working days]; see
    :meth:`WorkingCalendar.working_days_between`."""
    return default_calendar().working_days_between(start, end)


def add_working_days(start: Any, n: Any) -> Any:
    """Return the date ``n`` [working days] after ``start``; see :meth:`WorkingCalendar.add_working_days`."""
    return default_calendar().add_working_days(start, n)


# ----------------------------------------------------------------------------------------------------
# farming seasons

_MONTH_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Season:
    """One farming season of :data:`FARMING_SEASONS`.

    Attributes
    ----------
    key : str
        Identifier used in data and file columns (``"spring_sowing"``).
    zh, en : str
        Chinese and English names shown in reports (``"春播"``, ``"spring sowing"``).
    months : tuple of int
        Calendar months (1-12) in the season, in order from its first month.
    field_work : bool
        True for the seasons the machines work in the fields (shaded in charts); False for the winter lull.
    """

    key: str
    zh: str
    en: str
    months: tuple[int, ...]
    field_work: bool = True

    @property
    def label(self) -> str:
        """``"春播 spring sowing"``."""
        return f"{self.zh} {self.en}"

    @property
    def months_zh(self) -> str:
        """The months in Chinese, e.g. ``"3–5月"`` or ``"11–次年2月"``."""
        a, b = self.months[0], self.months[-1]
        if a == b:
            return f"{a}月"
        return f"{a}–{'次年' if b < a else ''}{b}月"

    @property
    def months_en(self) -> str:
        """The months in English, e.g. ``"Mar–May"``."""
        a, b = self.months[0], self.months[-1]
        return _MONTH_EN[a - 1] if a == b else f"{_MONTH_EN[a - 1]}–{_MONTH_EN[b - 1]}"


#: The farming seasons of Ningxia: the one table of them (see the module docstring for why these months).
FARMING_SEASONS: tuple[Season, ...] = (
    Season("spring_sowing", "春播", "spring sowing", (3, 4, 5)),
    Season("wheat_harvest", "夏收", "wheat harvest", (6, 7)),
    Season("autumn_harvest", "秋收", "autumn harvest", (8, 9, 10)),
    Season("winter", "冬季", "winter", (11, 12, 1, 2), field_work=False),
)

_SEASON_OF_MONTH = np.array([next(s.key for s in FARMING_SEASONS if m in s.months) for m in range(1, 13)],
                            dtype=object)


def season_months() -> dict[str, tuple[int, ...]]:
    """Season key → its calendar months (1-12), from :data:`FARMING_SEASONS`, in table order."""
    return {s.key: s.months for s in FARMING_SEASONS}


def season_of_month(months: Any) -> Any:
    """The season key of each calendar month.

    Parameters
    ----------
    months : int or array-like of int or Series
        Calendar months 1-12.

    Returns
    -------
    str, numpy.ndarray of str, or Series (same index)

    Raises
    ------
    ZkTypeError
        A month that is not a whole number 1-12 (NaN included).
    """
    arr = np.asarray(months.to_numpy() if isinstance(months, pd.Series) else months)
    flat = np.atleast_1d(arr)
    ok = flat.dtype.kind in "iu" or (flat.dtype.kind == "f" and bool(np.all(flat == np.round(flat))))
    if not ok or (flat.size and (flat.min() < 1 or flat.max() > 12)):
        raise ZkTypeError(f"Months must be whole numbers 1-12; got {months!r}. Fix: pass e.g. dates.dt.month.")
    keys = _SEASON_OF_MONTH[flat.astype(np.int64) - 1] if flat.size else np.empty(0, dtype=object)
    if isinstance(months, pd.Series):
        return pd.Series(keys, index=months.index, name=months.name, dtype=object)
    return keys[0] if arr.ndim == 0 else keys


def seasons_in(start: Any, end: Any) -> tuple[Season, ...]:
    """The seasons with at least one month in the span ``start <= date < end``, in table order.

    Parameters
    ----------
    start, end : date-like
        First day and the day after the last day of the span (a report's period).

    Returns
    -------
    tuple of Season
        Empty when ``end <= start``.
    """
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    if b <= a:
        return ()
    months = set(pd.date_range(a.normalize().replace(day=1), b - pd.Timedelta(days=1), freq="MS").month)
    return tuple(s for s in FARMING_SEASONS if months & set(s.months))
