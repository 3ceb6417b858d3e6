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

from zk_forecast.demand.methods import (
    MethodResult,
    check_conventions,
    mask_fitted,
    no_history,
    prepare,
    ses_ragged,
)
from zk_forecast.errors import ZkValueError

__all__ = ["adida", "imapa"]

_MAX_CELLS = 1 << 22


def _bucket_sums(
    x: np.ndarray, start: np.ndarray, rows: np.ndarray, ends: np.ndarray, level: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sums over buckets of ``level`` periods ending at ``ends`` (exclusive) of rows ``rows``, left-aligned.

    Returns the sums, shape (len(rows), max buckets), and the number of complete buckets per row.
    """
    n_buckets = (ends - start[rows]) // level
    width = max(int(n_buckets.max()) if n_buckets.size else 0, 1)
    j = np.arange(width)[None, :]
    first = ends[:, None] - (n_buckets[:, None] - j) * level
    valid = j < n_buckets[:, None]
    sums = np.zeros((rows.size, width))
    last = x.shape[1] - 1
    for offset in range(level):  # sequential sums, in period order
        sums += np.where(valid, x[rows[:, None], np.clip(first + offset, 0, last)], 0.0)
    return sums, n_buckets


def _aggregate_forecast(
    x: np.ndarray, start: np.ndarray, rows: np.ndarray, ends: np.ndarray, levels: np.ndarray
) -> np.ndarray:
    """Rate forecast [units per period] from periods ``start[row]..end - 1`` at the given aggregation levels."""
    out = np.empty(rows.size)
    for level in np.unique(levels):
        lv = int(level)
        sel = np.nonzero(levels == level)[0]
        width = max(int(((ends[sel] - start[rows[sel]]) // lv).max()), 1)
        step = max(1, _MAX_CELLS // width)
        for lo in range(0, sel.size, step):
            part = sel[lo : lo + step]
            sums, n_buckets = _bucket_sums(x, start, rows[part], ends[part], lv)
            res = x[rows[part], ends[part] - 1].copy()  # fewer periods than the level: last value
            ok = n_buckets > 0
            if ok.any():
                res[ok], _ = ses_ragged(sums[ok], n_buckets[ok], None, (0.1, 0.3))
            out[part] = res / lv
    return out


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
    mean, counts = _mean_intervals(x, start)
    has = counts[:, -1] > 0
    if aggregation_level is None:
        levels = _level_of(mean, half_even=True)
    else:
        levels = np.full(mean.shape, int(aggregation_level), dtype=np.int64)
    fc = np.zeros(n_series)
    rows = np.nonzero(has)[0]
    fc[rows] = _aggregate_forecast(x, start, rows, np.full(rows.size, n_periods), levels[rows, -1])
    fc = no_history(fc, start, n_periods)
    fit = None
    if fitted:
        fit = np.full_like(x, np.nan)
        r, t = _fitted_pairs(start, n_periods)
        fit[r, t] = _aggregate_forecast(x, start, r, t, levels[r, t])
        mask_fitted(fit, start)
    return MethodResult(fc, fit, {"aggregation_level": np.where(has, levels[:, -1], 1)})


def _imapa_rates(
    x: np.ndarray, start: np.ndarray, rows: np.ndarray, ends: np.ndarray, max_levels: np.ndarray
) -> np.ndarray:
    """Mean over levels 1..max_levels of the ADIDA rates from periods before ``ends``."""
    reps = np.repeat(np.arange(rows.size), max_levels)
    lv = np.arange(reps.size) - np.repeat(np.cumsum(max_levels) - max_levels, max_levels) + 1
    rates = _aggregate_forecast(x, start, rows[reps], ends[reps], lv)
    total = np.zeros(rows.size)
    np.add.at(total, reps, rates)
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
    mean, counts = _mean_intervals(x, start)
    has = counts[:, -1] > 0
    max_level = _level_of(mean[:, -1], half_even=True)
    fc = np.zeros(n_series)
    rows = np.nonzero(has)[0]
    fc[rows] = _imapa_rates(x, start, rows, np.full(rows.size, n_periods), max_level[rows])
    fc = no_history(fc, start, n_periods)
    fit = None
    if fitted:
        fit = np.zeros_like(x)
        r, t = _fitted_pairs(start, n_periods)
        seen = counts[r, t] > 0
        r, t = r[seen], t[seen]
        levels = _level_of(mean[r, t], half_even=conventions != "statsforecast")
        levels = np.minimum(levels, t - start[r])
        fit[r, t] = _imapa_rates(x, start, r, t, levels)
        mask_fitted(fit, start)
    return MethodResult(fc, fit, {"max_aggregation_level": np.where(has, max_level, 1)})
