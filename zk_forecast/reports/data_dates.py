"""How old a report's data is: 数据截至 (data as of), 生成时间 (generated at) and the stale-data banner.

Every report says the date of the data it was built from and when it was built. The caller (the nightly batch)
passes both: ``as_of`` [date], by default the latest date in the data the report was given, and ``generated_at``
[date-time], the run's time, so that a run's outputs are byte-identical when rebuilt from the same inputs. Only
when ``generated_at`` is absent is the clock read. ``stale=True`` (the batch decides it from its data-age rule)
puts a banner at the top of the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.reports._html import esc

__all__ = ["DataDates", "data_dates", "latest_date"]

_BANNER_STYLE = ("border:2px solid #a00;background:#fdecea;color:#a00;padding:8px 12px;margin:8px 0 16px;"
                 "font-weight:bold")


def latest_date(columns: Iterable[pd.Series | None]) -> pd.Timestamp | None:
    """The latest date in the given columns (None, empty and all-NaT columns ignored), at midnight.

    Parameters
    ----------
    columns : iterable of Series or None
        Date or date-time columns.

    Returns
    -------
    Timestamp or None
        None when no column holds a date.
    """
    best: pd.Timestamp | None = None
    for col in columns:
        if col is None or len(col) == 0:
            continue
        m = (col if pd.api.types.is_datetime64_any_dtype(col) else pd.to_datetime(col)).max()
        if pd.isna(m):
            continue
        m = pd.Timestamp(m)
        if m.tzinfo is not None:
            m = m.tz_localize(None)
        best = m if best is None or m > best else best
    return None if best is None else best.normalize()


def _timestamp(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ZkValueError(f"`{name}` must be a date or date-time such as '2026-10-31'; got {value!r}. "
                           f"Fix: pass a datetime, a Timestamp or an ISO date text / {name} 须为日期") from exc
    if pd.isna(ts):
        raise ZkValueError(f"`{name}` must be a date, not a missing value (NaT); got {value!r}. "
                           f"Fix: leave it out to use the default / {name} 不能为空")
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


@dataclass(frozen=True)
class DataDates:
    """The dates a report shows.

    Attributes
    ----------
    as_of : Timestamp or None
        Date of the data (数据截至) [date]; None when the data hold no date.
    generated_at : Timestamp
        When the report was built (生成时间) [date-time, to the second].
    stale : bool
        True: the page carries the stale-data banner.
    """

    as_of: pd.Timestamp | None
    generated_at: pd.Timestamp
    stale: bool

    @property
    def age_days(self) -> int | None:
        """Whole days from ``as_of`` to the day of ``generated_at`` [days]."""
        if self.as_of is None:
            return None
        return int((self.generated_at.normalize() - self.as_of.normalize()).days)

    def meta_rows(self) -> str:
        """Two ``<tr>`` rows for a report's header table: 数据截至 and 生成时间."""
        as_of = "–" if self.as_of is None else f"{self.as_of:%Y-%m-%d}"
        return (f"<tr><td>数据截至 Data as of</td><td>{esc(as_of)}</td></tr>"
                f"<tr><td>生成时间 Generated at</td><td>{esc(f'{self.generated_at:%Y-%m-%d %H:%M:%S}')}</td></tr>")

    def banner(self) -> str:
        """The stale-data banner (an empty string when ``stale`` is false)."""
        if not self.stale:
            return ""
        as_of = "未知" if self.as_of is None else f"{self.as_of:%Y-%m-%d}"
        as_of_en = "unknown" if self.as_of is None else f"{self.as_of:%Y-%m-%d}"
        age = self.age_days
        zh_age = f"，距生成已 {age} 天" if age is not None else ""
        en_age = f", {age} days before this report was generated" if age is not None else ""
        return (f'<div class="stale-banner" role="alert" style="{_BANNER_STYLE}">'
                f"数据已过期：本报告的数据截至 {esc(as_of)}{esc(zh_age)}，可能未反映最新情况，请核实数据导出。"
                f'<br><span style="font-weight:normal">Stale data: this report\'s data end on {esc(as_of_en)}'
                f"{esc(en_age)}; it may not show the latest events. Check the data exports.</span></div>")

    def header(self) -> str:
        """The banner (if any) followed by a header table of the two dates, for reports without their own."""
        return self.banner() + f'<table class="meta"><tbody>{self.meta_rows()}</tbody></table>'


def data_dates(as_of: Any, generated_at: Any, stale: Any, default_as_of: pd.Timestamp | None) -> DataDates:
    """Resolve a report's ``as_of`` / ``generated_at`` / ``stale`` arguments.

    Parameters
    ----------
    as_of : date-like or None
        Date of the data [date]; None: ``default_as_of`` (the latest date in the report's data).
    generated_at : date-time-like or None
        When the report is built [date-time]; None: the clock, now (local time, to the second).
    stale : bool
        Whether to show the stale-data banner.
    default_as_of : Timestamp or None
        The report's own latest data date.

    Returns
    -------
    DataDates

    Raises
    ------
    ZkValueError
        A date that cannot be read.
    ZkTypeError
        ``stale`` not a bool.
    """
    if not isinstance(stale, bool):
        raise ZkTypeError(f"`stale` must be True or False; got {stale!r}. Fix: pass stale=True to show the "
                          "stale-data banner / stale 须为 True 或 False")
    a = _timestamp(as_of, "as_of").normalize() if as_of is not None else default_as_of
    g = (_timestamp(generated_at, "generated_at") if generated_at is not None
         else pd.Timestamp.now())
    return DataDates(a, g.floor("s"), stale)
