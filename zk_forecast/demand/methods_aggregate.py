"""Temporal aggregation for intermittent demand: ADIDA and IMAPA, as array kernels.

ADIDA (Nikolopoulos et al. 2011) sums demand in non-overlapping buckets of ``level`` periods, counted back from
the last period (incomplete buckets at the start are dropped), forecasts the bucket sums with simple exponential
smoothing (constant chosen by golden-section search of the squared one-step errors on [0.1, 0.3]) and spreads the
forecast evenly: rate = bucket forecast / ``level`` [units per period]. The default level is the mean
inter-demand interval [periods], rounded half to even. IMAPA (Petropoulos & Kourentzes 2015) averages the ADIDA
rates over the levels 1..that rounded mean interval.

A series with fewer periods than the level forecasts its last value / level; one with a single bucket forecasts
that bucket's sum / level. A series without demand forecasts 0.

Fitted values (all conventions) re-fit on every prefix: the fitted value of period ``t`` is the forecast from
periods before ``t``, with the level recomputed from those periods (1 before the first demand), as statsforecast
does. Under ``"statsforecast"`` the IMAPA fitted values round the mean interval half away from zero (C++
``std::round``), unlike its forecast; the other conventions round half to even in both.
"""

from __future__ import annotations

import numpy as np

from zk_forecast.demand import _kernels as _k
from zk_forecast.demand.methods import (
    MethodResult,
    check_conventions,
    demand_stats,
    mask_fitted,
    no_history,
    prepare,
    shared_memo,
)
from zk_forecast.errors import ZkValueError

__all__ = ["adida", "imapa"]

def _aggregate_forecast(
    x: np.ndarray, start: np.ndarray, rows: np.ndarray, ends: np.ndarray, levels: np.ndarray
) -> np.ndarray:
    """Rate forecast [units per period] from periods ``start[row]..end - 1`` at the given aggregation levels.

    The compiled golden-section SES reads the bucket sums of every (row, end, level) straight from ``x`` (each
    bucket summed in period order), in blocks of sequences with the same number of buckets.
    """
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    ends = np.ascontiguousarray(ends, dtype=np.int64)
    levels = np.ascontiguousarray(levels, dtype=np.int64)
    if rows.size == 0:
        return np.empty(0)
    n_buckets = (ends - start[rows]) // levels
    f = np.zeros(rows.size)
    alpha = np.full(rows.size, 0.2)
    order = np.argsort(-n_buckets, kind="stable")[: int(np.count_nonzero(n_buckets))]
    _k.golden_ses_buckets(x, rows, ends, levels, n_buckets, order, 0.1, 0.3, f, alpha)
    # fewer periods than the level: last value
    res = np.where(n_buckets > 0, f, x[rows, ends - 1])
    return res / levels


def _final_mean_interval(x: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean inter-demand interval [periods] over the whole series (NaN without demand), and the demand counts."""
    counts, last = demand_stats(x, start)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (last - start + 1).astype(np.float64) / counts.astype(np.float64)
    return mean, counts


def _mean_intervals(x: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean inter-demand interval [periods] from the periods before each period, and the demand counts.

    Column ``t`` uses periods ``start..t - 1``; the last column ``n_periods`` uses the whole series.
    """
    n_series, n_periods = x.shape
    nz = x > 0
    counts = np.zeros((n_series, n_periods + 1))
    counts[:, 1:] = np.cumsum(nz, axis=1)
    last = np.where(nz, np.arange(n_periods)[None, :], -1)
    last_before = np.full((n_series, n_periods + 1), -1.0)
    last_before[:, 1:] = np.maximum.accumulate(last, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (last_before - start[:, None] + 1.0) / counts
    return mean, counts


def _level_of(mean: np.ndarray, half_even: bool) -> np.ndarray:
    rounded = np.rint(mean) if half_even else np.floor(mean + 0.5)
    return np.maximum(np.nan_to_num(rounded, nan=1.0), 1.0).astype(np.int64)


def _fitted_pairs(start: np.ndarray, n_periods: int) -> tuple[np.ndarray, np.ndarray]:
    """All (row, period) pairs with a fitted value: periods after each row's first one."""
    rows, cols = np.nonzero(np.arange(n_periods)[None, :] > start[:, None])
    return rows, cols


def adida(
    y: object, aggregation_level: int | None = None, *, conventions: str = "zk", fitted: bool = True
) -> MethodResult:
    """ADIDA: exponential smoothing of demand summed over buckets of ``aggregation_level`` periods.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods)
        Demand [units per period]; see :func:`~zk_forecast.demand.methods.prepare`.
    aggregation_level : int or None
        Bucket length [periods]; ``None`` = the mean inter-demand interval rounded half to even, per series (and
        per prefix for fitted values).
    conventions : {"zk", "statsforecast", "r"}
        All conventions agree (statsforecast's ``ADIDA``).
    fitted : bool, default True
        Return in-sample one-step-ahead forecasts (each re-fitted on the prefix: O(n_periods^2) work).
    """
    check_conventions(conventions)
    if aggregation_level is not None and (isinstance(aggregation_level, bool) or int(aggregation_level) < 1):
        raise ZkValueError(
            f"The 'aggregation_level' parameter must be an int >= 1 or None. Got {aggregation_level!r} instead."
        )
    x, start = prepare(y)
    n_series, n_periods = x.shape
    mean_last, counts_last = _final_mean_interval(x, start)
    has = counts_last > 0
    if aggregation_level is None:
        level_last = _level_of(mean_last, half_even=True)
    else:
        level_last = np.full(n_series, int(aggregation_level), dtype=np.int64)
    fc = np.zeros(n_series)
    rows = np.nonzero(has)[0]
    shared = _top_level_rates(x, start, level_last) if aggregation_level is None else None
    fc[rows] = shared[rows] if shared is not None else _aggregate_forecast(
        x, start, rows, np.full(rows.size, n_periods), level_last[rows])
    fc = no_history(fc, start, n_periods)
    fit = None
    if fitted:
        mean, _ = _mean_intervals(x, start)
        if aggregation_level is None:
            levels = _level_of(mean, half_even=True)
        else:
            levels = np.full(mean.shape, int(aggregation_level), dtype=np.int64)
        fit = np.full_like(x, np.nan)
        r, t = _fitted_pairs(start, n_periods)
        fit[r, t] = _aggregate_forecast(x, start, r, t, levels[r, t])
        mask_fitted(fit, start)
    return MethodResult(fc, fit, {"aggregation_level": np.where(has, level_last, 1)})


def _top_level_rates(x: np.ndarray, start: np.ndarray, levels: np.ndarray) -> np.ndarray | None:
    """ADIDA's rates of the whole series at ``levels`` (one per row), when IMAPA computed them for the same ``x``
    and levels inside :func:`~zk_forecast.demand.methods.shared_work`; else None (and they are computed and kept
    when a memo is open)."""
    memo = shared_memo(x)
    if memo is None:
        return None
    got = memo.get("top_level_rates")
    if got is not None and np.array_equal(got[0], levels):
        return np.asarray(got[1])
    rows = np.nonzero(_final_mean_interval(x, start)[1] > 0)[0]
    rates = np.full(x.shape[0], np.nan)
    rates[rows] = _aggregate_forecast(x, start, rows, np.full(rows.size, x.shape[1]), levels[rows])
    memo["top_level_rates"] = (levels, rates)
    return rates


def _imapa_rates(
    x: np.ndarray, start: np.ndarray, rows: np.ndarray, ends: np.ndarray, max_levels: np.ndarray,
    top: np.ndarray | None = None,
) -> np.ndarray:
    """Mean over levels 1..max_levels of the ADIDA rates from periods before ``ends``; ``top`` (given): the
    rates at ``max_levels`` already computed, added last as they would be."""
    below = max_levels - (0 if top is None else 1)
    reps = np.repeat(np.arange(rows.size), below)
    lv = np.arange(reps.size) - np.repeat(np.cumsum(below) - below, below) + 1
    rates = _aggregate_forecast(x, start, rows[reps], ends[reps], lv)
    total = np.zeros(rows.size)
    np.add.at(total, reps, rates)
    if top is not None:
        total += top
    return total / max_levels


def imapa(y: object, *, conventions: str = "zk", fitted: bool = True) -> MethodResult:
    """IMAPA: mean of the ADIDA rates at aggregation levels 1..(rounded mean inter-demand interval).

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods)
        Demand [units per period].
    conventions : {"zk", "statsforecast", "r"}
        ``"statsforecast"`` rounds the mean interval half away from zero for fitted values (as its C++ code);
        the others round half to even throughout.
    fitted : bool, default True
        Return in-sample one-step-ahead forecasts (re-fitted on every prefix: O(n_periods^2) work).
    """
    check_conventions(conventions)
    x, start = prepare(y)
    n_series, n_periods = x.shape
    mean_last, counts_last = _final_mean_interval(x, start)
    has = counts_last > 0
    max_level = _level_of(mean_last, half_even=True)
    fc = np.zeros(n_series)
    rows = np.nonzero(has)[0]
    shared = _top_level_rates(x, start, max_level)
    fc[rows] = _imapa_rates(x, start, rows, np.full(rows.size, n_periods), max_level[rows],
                            None if shared is None else shared[rows])
    fc = no_history(fc, start, n_periods)
    fit = None
    if fitted:
        fit = np.zeros_like(x)
        mean, counts = _mean_intervals(x, start)
        r, t = _fitted_pairs(start, n_periods)
        seen = counts[r, t] > 0
        r, t = r[seen], t[seen]
        levels = _level_of(mean[r, t], half_even=conventions != "statsforecast")
        levels = np.minimum(levels, t - start[r])
        fit[r, t] = _imapa_rates(x, start, r, t, levels)
        mask_fitted(fit, start)
    return MethodResult(fc, fit, {"max_aggregation_level": np.where(has, max_level, 1)})
