"""Forecast many demand series from a long DataFrame: ``forecast(df, h, methods=[...])``.

Input: one row per series and period, columns ``unique_id`` (series), ``ds`` (period start) and ``y`` (demand
[units per period]); the names are overridable. Output: one row per series and future period with ``unique_id``,
``ds`` and one column per method (the estimator's ``alias``), in the order the series first appear.

Rules
-----
* ``ds`` must be period starts (Mondays for ``"W-MON"``, first days of months for ``"MS"``), strictly increasing
  within each series in row order; unsorted or duplicated periods are an error naming the series.
* A period missing inside a series (between its first and last row) is zero demand: the demand panel marks
  periods without issues as zero. A series starts at its first row; its forecasts start after its last row.
* ``y`` must be numeric, finite and >= 0 (net returns into demand first, DESIGN.md); missing ``y`` is an error
  (drop the row if the period had no issues: it then counts as zero).
* Columns other than the three are an error listing them, unless ``ignore_extra=True`` (then they are ignored).

Prediction intervals
--------------------
``level=[0.8, 0.95]`` (fractions, as everywhere in the package: :mod:`zk_forecast.levels`) adds
``<alias>-lo-<percent>`` and ``<alias>-hi-<percent>`` (``sba-lo-80``, statsforecast's names): forecast -/+ z * sigma,
where sigma is the root mean square of the series' in-sample one-step-ahead residuals (periods with a fitted
value) and z the standard normal quantile of 0.5 + level/2; the same width for every horizon, the lower bound clipped at 0. A
series without residuals (one period) gets ``NaN`` bounds. This is a simple normal approximation; the demand
distributions for stock levels come from :mod:`zk_forecast.demand.distributions`.

Automatic selection
-------------------
``"auto"`` is :class:`~zk_forecast.demand.select.AutoSelect` with its defaults (column ``auto``). Every estimator
that reports a choice per series (``AutoSelect``, given by name or as an instance) adds a text column
``<alias>-method`` after its forecasts (and bounds): the label of the method that forecasts that series (several
joined by ``"+"`` when ``combine`` > 1), e.g. ``"tsb"`` or ``"ses_0.1"``; the same on each of a series' rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.calendar import normalize_freq
from zk_forecast.demand import _kernels as _k
from zk_forecast.demand.methods import CONVENTIONS, shared_work
from zk_forecast.demand.models import ESTIMATORS, fresh_estimator
from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.levels import check_levels, level_label, level_quantiles

__all__ = ["forecast", "forecast_panel"]


def _estimators(methods: Any, conventions: str) -> list[Any]:
    if isinstance(methods, str) or not isinstance(methods, Iterable):
        methods = [methods]
    out: list[Any] = []
    for m in methods:
        if isinstance(m, str):
            if m == "auto":
                from zk_forecast.demand.select import AutoSelect  # select builds on this module's neighbours

                out.append(AutoSelect(conventions=conventions))
                continue
            if m not in ESTIMATORS:
                raise ZkValueError(
                    f"Unknown method {m!r}; the valid names are {['auto', *ESTIMATORS]} (or pass an estimator "
                    "instance such as Croston(alpha=0.05))."
                )
            cls = ESTIMATORS[m]
            out.append(cls(conventions=conventions) if "conventions" in cls._rules else cls())  # type: ignore[call-arg]
        elif all(hasattr(m, a) for a in ("fit", "predict", "alias")):
            out.append(fresh_estimator(m))
        else:
            raise ZkTypeError(
                f"Each method must be a method name or an estimator (with fit, predict and alias); got {m!r}."
            )
    if not out:
        raise ZkValueError(
            "The 'methods' parameter is empty; name at least one method, e.g. methods=['sba']."
        )
    aliases = [e.alias for e in out]
    dup = sorted({a for a in aliases if aliases.count(a) > 1})
    if dup:
        raise ZkValueError(
            f"Several methods share the output column name(s) {dup}; give each an own alias=...."
        )
    return out


_DAY_NS = 86_400 * 10**9
_WEEK_NS = 7 * _DAY_NS
_MONDAY_NS = 4 * _DAY_NS  # 1970-01-05 was a Monday
_DAY_IN_UNIT = {"s": 86_400, "ms": 86_400 * 10**3, "us": 86_400 * 10**6, "ns": _DAY_NS}


def _as_dates(dates: np.ndarray) -> np.ndarray:
    """``dates`` (datetime64) in a unit of at most a second, as stored (no copy) when possible."""
    unit, count = np.datetime_data(dates.dtype)
    return dates if count == 1 and unit in _DAY_IN_UNIT else dates.astype("datetime64[ns]")


def _is_month_start(dates: np.ndarray) -> bool:
    return bool(np.array_equal(dates.astype("datetime64[M]").astype(dates.dtype), dates))


def _week_number(dates: np.ndarray) -> np.ndarray | None:
    """Week numbers of Monday midnights (W-MON period starts), or None if any value is not one."""
    day = _DAY_IN_UNIT[np.datetime_data(dates.dtype)[0]]
    number = np.empty(dates.size, dtype=np.int64)
    ok = _k.week_numbers(np.ascontiguousarray(dates).view(np.int64), day, number)
    return number if ok else None


def _infer_freq(dates: np.ndarray) -> str:
    if _is_month_start(dates[:1]) and _is_month_start(dates):
        return "MS"
    if _week_number(dates) is not None:
        return "W-MON"
    raise ZkValueError(
        "Cannot infer the period length from 'ds': its values are neither all Mondays nor all first days of a "
        "month. Pass freq='W-MON' or freq='MS' and period starts (zk_forecast.calendar.period_start)."
    )


def _period_number(dates: np.ndarray, freq: str) -> np.ndarray | None:
    """Period numbers of period starts ``dates``, or None if any value is not a period start."""
    if freq == "MS":
        return dates.astype("datetime64[M]").astype(np.int64) if _is_month_start(dates) else None
    return _week_number(dates)


def _period_dates(number: np.ndarray, freq: str) -> np.ndarray:
    if freq == "MS":
        return number.astype("datetime64[M]").astype("datetime64[ns]")
    return (number * _WEEK_NS + _MONDAY_NS).view("datetime64[ns]")


def _check_frame(df: Any, id_col: str, time_col: str, target_col: str, ignore_extra: bool) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ZkTypeError(f"'df' must be a pandas DataFrame in long format; got {type(df).__name__}.")
    missing = [c for c in (id_col, time_col, target_col) if c not in df.columns]
    if missing:
        raise ZkValueError(
            f"'df' lacks the column(s) {missing}; it has {list(df.columns)}. Rename them or pass id_col=, "
            "time_col=, target_col=."
        )
    extra = [c for c in df.columns if c not in (id_col, time_col, target_col)]
    if extra and not ignore_extra:
        raise ZkValueError(
            f"'df' has extra column(s) {extra} that the demand methods do not use; drop them or pass "
            "ignore_extra=True."
        )
    y = df[target_col]
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        raise ZkTypeError(
            f"Column {target_col!r} must be numeric demand [units per period]; got dtype {y.dtype}."
        )
    values = y.to_numpy(dtype=np.float64)
    lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)  # NaN propagates
    if np.isnan(lo):
        raise ZkValueError(
            f"Column {target_col!r} has missing values; drop those rows if the periods had no demand (they then "
            "count as zero) or fill them."
        )
    if np.isinf(lo) or np.isinf(hi):
        raise ZkValueError(f"Column {target_col!r} has infinite values; demand must be finite.")
    if lo < 0:
        ids = pd.unique(df.loc[values < 0, id_col])[:5].tolist()
        raise ZkValueError(
            f"Column {target_col!r} has negative demand (series {ids}); net returns into the demand of the period "
            "they come back in (DESIGN.md) so that every period's demand is >= 0."
        )


def _check_arguments(h: Any, methods: Any, level: Sequence[float] | None,
                     conventions: str) -> tuple[list[float], list[Any]]:
    """Check ``h``, ``conventions`` and ``level``; return the levels and the estimators of ``methods``."""
    if not isinstance(h, (int, np.integer)) or isinstance(h, bool) or h < 1:
        raise ZkValueError(f"The 'h' parameter must be an int >= 1 [periods]. Got {h!r} instead.")
    if conventions not in CONVENTIONS:
        raise ZkValueError(
            f"The 'conventions' parameter must be one of {list(CONVENTIONS)}. Got {conventions!r} instead."
        )
    levels = [] if level is None else list(check_levels(level, owner="forecast"))
    return levels, _estimators(methods, conventions)


def forecast(
    df: pd.DataFrame,
    h: int,
    *,
    methods: Sequence[Any] | str | Any = ("auto",),
    freq: str | None = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    level: Sequence[float] | None = None,
    conventions: str = "zk",
    ignore_extra: bool = False,
) -> pd.DataFrame:
    """Point forecasts (and optional intervals) for every series of a long DataFrame.

    Parameters
    ----------
    df : pandas.DataFrame
        Long format: ``id_col``, ``time_col`` (period starts), ``target_col`` (demand [units per period]).
    h : int
        Forecast horizon [periods], >= 1.
    methods : sequence of str or estimators, default ("auto",)
        Method names (``"croston"``, ``"sba"``, ``"sbj"``, ``"croston_opt"``, ``"tsb"``, ``"adida"``,
        ``"imapa"``, ``"ses"``, ``"naive"``, ``"mean"``, ``"ma"``, ``"auto"``) or estimator instances from
        :mod:`zk_forecast.demand.models`; each gives a column named by its ``alias``.
    freq : str or None
        ``"W-MON"`` or ``"MS"`` (see :func:`zk_forecast.calendar.normalize_freq`); ``None`` infers it from ``ds``.
    id_col, time_col, target_col : str
        Column names.
    level : sequence of float or None
        Interval coverages, each a fraction in (0, 1) [probability], e.g. ``[0.8, 0.95]``.
    conventions : {"zk", "statsforecast", "r"}
        Passed to the methods given by name (see :mod:`zk_forecast.demand.methods`).
    ignore_extra : bool, default False
        Ignore columns other than the three instead of raising.

    Returns
    -------
    pandas.DataFrame
        ``id_col``, ``time_col`` (future period starts) and one float column per method (and interval bounds);
        ``auto-method`` (str) names the method ``auto`` chose for each series (module notes).
    """
    _check_frame(df, id_col, time_col, target_col, ignore_extra)
    levels, estimators = _check_arguments(h, methods, level, conventions)
    if len(df) == 0:
        raise ZkValueError("'df' has no rows; there is no demand history to forecast from.")

    try:
        raw = df[time_col]
        ds = raw if isinstance(raw.dtype, np.dtype) and raw.dtype.kind == "M" else pd.to_datetime(raw)
        if isinstance(ds.dtype, pd.DatetimeTZDtype):
            ds = ds.dt.tz_convert("UTC").dt.tz_localize(None)
        dates = _as_dates(np.asarray(ds.to_numpy()))
    except (ValueError, TypeError) as exc:
        raise ZkTypeError(f"Column {time_col!r} must hold dates (period starts): {exc}") from exc
    if dates.dtype.kind != "M":
        raise ZkTypeError(f"Column {time_col!r} must hold dates (period starts); got dtype {dates.dtype}.")
    if np.isnat(dates).any():
        raise ZkValueError(f"Column {time_col!r} has missing dates; every row needs its period start.")
    canonical = _infer_freq(dates) if freq is None else normalize_freq(freq)
    period = _period_number(dates, canonical)
    if period is None:
        raise ZkValueError(
            f"Column {time_col!r} must hold period starts for freq {canonical!r}; map dates with "
            "zk_forecast.calendar.period_start first."
        )
    # runs of equal ids: a series is one run when its rows are together
    ids = df[id_col].to_numpy()
    same = np.ascontiguousarray(ids[1:] == ids[:-1], dtype=np.bool_)
    run_first = np.empty(ids.size, dtype=np.int64)
    n_runs, first_bad, dup = _k.scan_runs(period, same, run_first)
    run_first = run_first[:n_runs]  # one run per series, in order of first appearance
    if first_bad >= 0:
        sid = ids[first_bad + 1]
        what = "duplicated" if dup else "unsorted"
        raise ZkValueError(
            f"Series {sid!r} has {what} periods in {time_col!r}; each series needs strictly increasing, unique "
            f"period starts (sort by [{id_col!r}, {time_col!r}] and aggregate duplicates)."
        )
    run_codes, uniques = pd.factorize(ids[run_first], sort=False)
    if (run_codes < 0).any():
        raise ZkValueError(f"Column {id_col!r} has missing series ids; every row needs its series.")
    n = len(uniques)
    if n < run_first.size:
        sid = uniques[np.argmax(np.bincount(run_codes, minlength=n))]
        raise ZkValueError(
            f"The rows of series {sid!r} are not together; sort df by [{id_col!r}, {time_col!r}]."
        )
    run_end = np.r_[run_first[1:], ids.size]
    first = period[run_first]
    last = period[run_end - 1]
    span = last - first
    width = int(span.max()) + 1 if n else 1
    values = df[target_col].to_numpy(dtype=np.float64)
    if (run_end - run_first == width).all():
        # every series has a row for each of the same number of periods: the values are the array already
        y = np.ascontiguousarray(values).reshape(n, width)
        y.flags.writeable = False  # may share memory with df
    else:
        y = np.full((n, width), np.nan)
        y[np.arange(width)[None, :] >= (width - 1 - span)[:, None]] = 0.0  # periods without a row: zero demand
        codes = np.repeat(np.arange(n), run_end - run_first)
        y.ravel()[codes * width + (width - 1) - (last[codes] - period)] = values

    ids_out = uniques.to_numpy() if hasattr(uniques, "to_numpy") else np.asarray(uniques)
    return _run(y, ids_out, last, h, estimators, levels, canonical, id_col, time_col)


def forecast_panel(panel: Any, h: int, *, methods: Sequence[Any] | str | Any = ("auto",),
                   level: Sequence[float] | None = None, conventions: str = "zk") -> pd.DataFrame:
    """:func:`forecast` for a :class:`~zk_forecast.demand.panel.Panel`, without going through long format.

    The same forecasts as ``forecast(panel.to_long(), ...)`` when the panel has no missing window: a series starts
    at its first non-missing period; a NaN cell after it (a missing window) counts as zero demand here, as an
    absent row does in long format; every series' forecasts start after the panel's last period.

    Parameters
    ----------
    panel : Panel
        Demand [units per period], series × periods (``build_panel`` output).
    h : int
        Forecast horizon [periods], >= 1.
    methods, level, conventions
        As for :func:`forecast`.

    Returns
    -------
    pandas.DataFrame
        ``unique_id``, ``ds`` and one column per method (and interval bounds, and ``auto-method``), series in panel
        order.
    """
    levels, estimators = _check_arguments(h, methods, level, conventions)
    values = np.asarray(panel.values, dtype=np.float64)
    if values.size == 0:
        raise ZkValueError("The panel has no cells; there is no demand history to forecast from.")
    if np.any(values < 0):
        raise ZkValueError("The panel has negative demand; net returns first (build_panel does).")
    started = np.maximum.accumulate(~np.isnan(values), axis=1)
    keep = started[:, -1].copy()  # a series has started by the last period if it ever has
    y = np.where(started & np.isnan(values), 0.0, values)
    del started
    if not keep.all():
        y = y[keep]
    canonical = normalize_freq(panel.freq)
    end = _period_number(np.asarray(panel.periods[-1:].to_numpy(), dtype="datetime64[ns]"), canonical)
    if end is None:  # pragma: no cover - panels are built on period starts
        raise ZkValueError("The panel's periods are not period starts.")
    last = np.full(y.shape[0], int(end[0]))
    ids = np.asarray(panel.unique_id, dtype=object)[keep]
    return _run(y, ids, last, int(h), estimators, levels, canonical, "unique_id", "ds")


def _run(y: np.ndarray, ids: np.ndarray, last: np.ndarray, h: int, estimators: list[Any], levels: list[float],
         canonical: str, id_col: str, time_col: str) -> pd.DataFrame:
    out: dict[str, Any] = {
        id_col: np.repeat(ids, h),
        time_col: _period_dates((last[:, None] + np.arange(1, h + 1)[None, :]).ravel(), canonical),
    }
    zs = [NormalDist().inv_cdf(level_quantiles(lv)[1]) for lv in levels]
    with shared_work():  # methods fitted to the same y share common work (same numbers)
        for est in estimators:
            est.fit(y, fitted=bool(levels))
    for est in estimators:
        point = np.asarray(est.predict(h), dtype=np.float64)
        out[est.alias] = point.ravel()
        if levels:
            res = y - est.fitted_
            sq = res * res
            n_res = (~np.isnan(sq)).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                sigma = np.sqrt(np.where(np.isnan(sq), 0.0, sq).sum(axis=1) / n_res)
            for lv, z in zip(levels, zs):
                tag = level_label(lv)
                out[f"{est.alias}-lo-{tag}"] = np.maximum(point - z * sigma[:, None], 0.0).ravel()
                out[f"{est.alias}-hi-{tag}"] = (point + z * sigma[:, None]).ravel()
        chosen = getattr(est, "chosen_", None)
        if chosen is not None:
            labels = np.asarray(["+".join(map(str, row)) for row in chosen] if chosen.shape[1] > 1
                                else chosen[:, 0], dtype=object)
            out[f"{est.alias}-method"] = np.repeat(labels, h)
    return pd.DataFrame(out)
