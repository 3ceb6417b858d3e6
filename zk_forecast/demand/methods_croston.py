"""Croston's method and its variants (SBA, SBJ, optimised constants) and TSB, as array kernels.

Croston (1972) smooths the non-zero demand sizes ``z`` and the intervals ``p`` between them [periods] separately,
updating both only in periods with demand; the forecast rate is ``factor * z / p`` [units per period] with
``factor`` = 1 (Croston), ``1 - alpha_p / 2`` (SBA, Syntetos & Boylan 2005; statsforecast uses 0.95) or
``1 - alpha_p / (2 - alpha_p)`` (SBJ, Shale, Boylan & Johnston 2006). The size level starts at the first demand,
the interval level at the first interval counted from the series start (index of the first demand + 1), in all
conventions (see :mod:`zk_forecast.demand.methods`).

TSB (Teunter, Syntetos & Babai 2011) smooths the demand probability every period and the size in demand periods;
the forecast is their product. Its probability level starts at the first period's 0/1 value.

A series without any demand forecasts 0; its fitted values are 0 after its first period. A series with a single
demand forecasts that demand divided by its interval (Croston family) or by the smoothed probability (TSB).
"""

from __future__ import annotations

import numpy as np

from zk_forecast.demand import _kernels as _k
from zk_forecast.demand.methods import (
    ALPHA_GRID,
    COSTS,
    MethodResult,
    check_conventions,
    cost_target,
    cost_value,
    demand_stats,
    mask_fitted,
    no_history,
    prepare,
    rolling_ses_ragged,
    shared_memo,
)
from zk_forecast.errors import ZkValueError

__all__ = ["VARIANTS", "croston", "croston_optimized", "demand_sequences", "tsb"]

#: Croston variants: the debiasing factor applied to size / interval.
VARIANTS: tuple[str, ...] = ("croston", "sba", "sbj")


def _factor(variant: str, alpha_p: np.ndarray, conventions: str) -> np.ndarray:
    if variant not in VARIANTS:
        raise ZkValueError(
            f"The 'variant' parameter must be one of {list(VARIANTS)}. Got {variant!r} instead."
        )
    if variant == "croston":
        return np.ones_like(alpha_p)
    if variant == "sba":
        return np.full_like(alpha_p, 0.95) if conventions == "statsforecast" else 1.0 - alpha_p / 2.0
    return 1.0 - alpha_p / (2.0 - alpha_p)


def croston_paths(
    x: np.ndarray, start: np.ndarray, alpha_d: np.ndarray, alpha_p: np.ndarray, fitted: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Size and interval levels over the time grid, one time step per loop.

    Parameters
    ----------
    x, start : as returned by :func:`~zk_forecast.demand.methods.prepare`.
    alpha_d, alpha_p : numpy.ndarray, shape (n_series,)
        Smoothing constants for sizes and intervals [-].
    fitted : bool
        Also return the levels in force before each period.

    Returns
    -------
    z, p : numpy.ndarray, shape (n_series,)
        Final size level [units] (0 without demand) and interval level [periods] (1 without demand).
    fz, fp : numpy.ndarray or None, shape (n_series, n_periods)
        Levels before each period (0 and 1 before the first demand).
    """
    n_series, n_periods = x.shape
    cd, cp = 1.0 - alpha_d, 1.0 - alpha_p
    z = np.zeros(n_series)
    p = np.ones(n_series)
    q = np.zeros(n_series)
    seen = np.zeros(n_series, dtype=bool)
    fz = np.empty_like(x) if fitted else None
    fp = np.empty_like(x) if fitted else None
    for t in range(n_periods):
        if fz is not None and fp is not None:
            fz[:, t] = z
            fp[:, t] = p
        xt = x[:, t]
        q += start <= t
        d = xt > 0
        first = d & ~seen
        z = np.where(d, alpha_d * xt + cd * np.where(first, xt, z), z)
        p = np.where(d, alpha_p * q + cp * np.where(first, q, p), p)
        q[d] = 0.0
        seen |= d
    return z, p, fz, fp


def demand_sequences(x: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand sizes and inter-demand intervals of each row, left-aligned.

    Returns
    -------
    sizes, intervals : numpy.ndarray, shape (n_series, max_demands)
        Row ``i`` holds its ``counts[i]`` non-zero demands [units] and the intervals before them [periods] (the
        first counted from the series start), padded with zeros.
    counts : numpy.ndarray of int64, shape (n_series,)
    """
    nz = x > 0
    counts = nz.sum(axis=1).astype(np.int64)
    width = max(int(counts.max()) if counts.size else 0, 1)
    rows, cols = np.nonzero(nz)
    pos = np.arange(rows.size) - (np.cumsum(counts) - counts)[rows]
    sizes = np.zeros((x.shape[0], width))
    intervals = np.zeros((x.shape[0], width))
    sizes[rows, pos] = x[rows, cols]
    prev = np.empty_like(cols)
    prev[1:] = cols[:-1]
    prev = np.where(pos == 0, start[rows] - 1, prev)
    intervals[rows, pos] = cols - prev
    return sizes, intervals, counts


def _expand(levels: np.ndarray, x: np.ndarray, before_first: float) -> np.ndarray:
    """Map per-demand levels (column k = level after k demands) to the time grid (level before each period)."""
    n_before: np.ndarray = np.cumsum(x > 0, axis=1) - (x > 0)
    out = np.take_along_axis(levels, n_before, axis=1)
    return np.where(n_before == 0, before_first, out)


def _finish(
    z: np.ndarray,
    p: np.ndarray,
    factor: np.ndarray,
    start: np.ndarray,
    n_periods: int,
    fit: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    fc = no_history(factor * z / p, start, n_periods)
    if fit is not None:
        fit = mask_fitted(fit, start)
    return fc, fit


def croston(
    y: object,
    alpha_d: float = 0.1,
    alpha_p: float | None = None,
    *,
    variant: str = "croston",
    conventions: str = "zk",
    fitted: bool = True,
) -> MethodResult:
    """Croston's method with fixed smoothing constants, and its SBA / SBJ variants.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods)
        Demand [units per period]; see :func:`~zk_forecast.demand.methods.prepare`.
    alpha_d : float, default 0.1
        Smoothing constant of the demand sizes [-].
    alpha_p : float or None
        Smoothing constant of the intervals [-]; ``None`` = ``alpha_d``.
    variant : {"croston", "sba", "sbj"}
        Debiasing factor (see module docstring).
    conventions : {"zk", "statsforecast", "r"}
        Only the SBA factor differs: 0.95 under statsforecast, ``1 - alpha_p / 2`` otherwise.
    fitted : bool, default True
        Return in-sample one-step-ahead forecasts.
    """
    check_conventions(conventions)
    x, start = prepare(y)
    n_series, n_periods = x.shape
    ad = np.full(n_series, float(alpha_d))
    ap = np.full(n_series, float(alpha_d if alpha_p is None else alpha_p))
    factor = _factor(variant, ap, conventions)
    sf = conventions == "statsforecast"
    if fitted:
        z, p, fz, fp = croston_paths(x, start, ad, ap, fitted)
        fit = None if fz is None or fp is None else factor[:, None] * fz / fp
        if sf:
            _single_demand(x, start, z, p)
    else:
        memo = shared_memo(x)
        key = ("croston_rows", float(alpha_d), float(ap[0]) if n_series else 0.0, sf)
        if memo is not None and key in memo:
            z, p = memo[key]
        else:
            z, p = np.empty(n_series), np.empty(n_series)
            _k.croston_rows(x, start, ad, ap, sf, z, p)
            if memo is not None:
                memo[key] = (z, p)
        fit = None
    fc, fit = _finish(z, p, factor, start, n_periods, fit)
    return MethodResult(fc, fit, {"alpha_d": ad, "alpha_p": ap})


def _single_demand(x: np.ndarray, start: np.ndarray, z: np.ndarray, p: np.ndarray | None) -> None:
    """statsforecast conventions: a series with one demand keeps it (and its interval) unsmoothed (in place)."""
    counts, last = demand_stats(x, start)
    one = np.nonzero(counts == 1)[0]
    z[one] = x[one, last[one]]
    if p is not None:
        p[one] = (last[one] - start[one] + 1).astype(np.float64)


def _grid_search(
    x: np.ndarray, start: np.ndarray, variant: str, cost: str, conventions: str, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Best (alpha_d, alpha_p) on ``grid`` x ``grid`` per series by ``cost``; ties go to the smaller constants."""
    n_series, n_periods = x.shape
    g = grid.size
    best_d = np.full(n_series, grid[0])
    best_p = np.full(n_series, grid[0])
    rows_per_block = max(1, (1 << 21) // (g * n_periods))
    for lo in range(0, n_series, rows_per_block):
        xb, sb = x[lo : lo + rows_per_block], start[lo : lo + rows_per_block]
        nb = xb.shape[0]
        alphas = np.repeat(grid, nb)
        _, _, fz, fp = croston_paths(np.tile(xb, (g, 1)), np.tile(sb, g), alphas, alphas, True)
        assert fz is not None and fp is not None
        fz = fz.reshape(g, nb, n_periods)
        fp = fp.reshape(g, nb, n_periods)
        target = cost_target(xb, sb, cost)
        valid = np.arange(n_periods)[None, :] > sb[:, None]
        best = np.full(nb, np.inf)
        for i_d in range(g):
            factor = _factor(variant, grid, conventions)[:, None, None]
            rate = np.where(valid, factor * fz[i_d][None] / fp, np.nan)
            costs = cost_value(rate, target[None], cost)  # (g, nb)
            i_p = np.argmin(costs, axis=0)
            c = costs[i_p, np.arange(nb)]
            better = c < best
            best = np.where(better, c, best)
            best_d[lo : lo + nb] = np.where(better, grid[i_d], best_d[lo : lo + nb])
            best_p[lo : lo + nb] = np.where(better, grid[i_p], best_p[lo : lo + nb])
    return best_d, best_p


def croston_optimized(
    y: object,
    *,
    variant: str = "croston",
    cost: str | None = None,
    conventions: str = "zk",
    fitted: bool = True,
) -> MethodResult:
    """Croston's method (or SBA / SBJ) with smoothing constants chosen per series.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods)
        Demand [units per period].
    variant : {"croston", "sba", "sbj"}
        Debiasing factor; the constants are chosen for the debiased rate.
    cost : {"mar", "msr", "mae", "mse"} or None
        Cost of the in-sample rate; ``None`` = the convention's default: ``"msr"`` (zk), ``"mar"`` (r, as
        ``tsintermittent``). Ignored under ``"statsforecast"``, which minimises the squared one-step errors of the
        size and interval sequences separately by golden-section search on [0.1, 0.3].
    conventions : {"zk", "statsforecast", "r"}
        See :mod:`zk_forecast.demand.methods`.
    fitted : bool, default True
        Return in-sample one-step-ahead forecasts (statsforecast: re-optimised on every prefix).
    """
    check_conventions(conventions)
    if cost is not None and cost not in COSTS:
        raise ZkValueError(
            f"The 'cost' parameter must be one of {list(COSTS)} or None. Got {cost!r} instead."
        )
    x, start = prepare(y)
    n_series, n_periods = x.shape
    if conventions != "statsforecast":
        chosen = cost or ("msr" if conventions == "zk" else "mar")
        ad, ap = _grid_search(x, start, variant, chosen, conventions, ALPHA_GRID)
        factor = _factor(variant, ap, conventions)
        z, p, fz, fp = croston_paths(x, start, ad, ap, fitted)
        fit = None if fz is None or fp is None else factor[:, None] * fz / fp
        fc, fit = _finish(z, p, factor, start, n_periods, fit)
        return MethodResult(fc, fit, {"alpha_d": ad, "alpha_p": ap})
    counts, _ = demand_stats(x, start)
    # sizes (sequences 0..n-1) and intervals (n..2n-1) searched together, read straight from x
    f = np.zeros(2 * n_series)
    a = np.full(2 * n_series, 0.2)
    lengths = np.concatenate([counts, counts])
    order = np.argsort(-lengths, kind="stable")[: int(np.count_nonzero(lengths))]
    _k.golden_ses_demands(x, start, counts, order, 0.1, 0.3, f, a)
    has = counts > 0
    z = np.where(has, f[:n_series], 0.0)
    p = np.where(has, f[n_series:], 1.0)
    ad = np.where(has, a[:n_series], 0.2)
    ap = np.where(has, a[n_series:], 0.2)
    factor = _factor(variant, ap, conventions)
    fit = None
    if fitted:
        sizes, intervals, counts = demand_sequences(x, start)
        both_s = np.concatenate([sizes[has], intervals[has]])
        both_n = np.concatenate([counts[has], counts[has]])
        k = int(has.sum())
        roll = rolling_ses_ragged(both_s, both_n, (0.1, 0.3))
        width = sizes.shape[1] + 1
        lz = np.zeros((n_series, width))
        lp = np.ones((n_series, width))
        lz[has], lp[has] = roll[:k], np.where(roll[k:] == 0, 1.0, roll[k:])
        fit = factor[:, None] * _expand(lz, x, 0.0) / _expand(lp, x, 1.0)
    fc, fit = _finish(z, p, factor, start, n_periods, fit)
    return MethodResult(fc, fit, {"alpha_d": ad, "alpha_p": ap})


def tsb(
    y: object, alpha_d: float = 0.1, alpha_p: float = 0.1, *, conventions: str = "zk", fitted: bool = True
) -> MethodResult:
    """Teunter-Syntetos-Babai: smoothed demand probability times smoothed demand size.

    Parameters
    ----------
    alpha_d : float, default 0.1
        Smoothing constant of the demand sizes, updated in demand periods [-].
    alpha_p : float, default 0.1
        Smoothing constant of the demand probability, updated every period [-].
    conventions : {"zk", "statsforecast", "r"}
        All conventions agree (statsforecast's ``TSB``).
    """
    check_conventions(conventions)
    x, start = prepare(y)
    n_series, n_periods = x.shape
    params = {"alpha_d": np.full(n_series, alpha_d), "alpha_p": np.full(n_series, alpha_p)}
    sf = conventions == "statsforecast"
    if not fitted:
        z_fast, prob_fast = np.empty(n_series), np.empty(n_series)
        _k.tsb_rows(x, start, float(alpha_d), float(alpha_p), sf, z_fast, prob_fast)
        return MethodResult(no_history(prob_fast * z_fast, start, n_periods), None, params)
    # compiled row loop (_kernels.tsb_fitted_rows): fitted = prob * z before each period; from the row's start
    # on prob = alpha_p * occ + (1 - alpha_p) * (occ at the start, else prob); in a demand period
    # z = alpha_d * x_t + (1 - alpha_d) * (z, or x_t at the first demand)
    z = np.empty(n_series)
    prob = np.empty(n_series)
    fit = np.empty_like(x)
    _k.tsb_fitted_rows(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(start, dtype=np.int64),
                       float(alpha_d), float(alpha_p), fit, z, prob)
    single = start == n_periods - 1
    prob = np.where(single, (x[:, -1] > 0).astype(np.float64), prob)
    if sf:
        _single_demand(x, start, z, None)
    fc = no_history(prob * z, start, n_periods)
    if fit is not None:
        mask_fitted(fit, start)
    return MethodResult(fc, fit, params)
