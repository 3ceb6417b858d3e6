"""Array kernels for intermittent demand: shared machinery and the simple methods.

Every kernel takes ``y``, a 2-D float array of shape ``(n_series, n_periods)`` [units per period], and loops over
time only: each step is one vectorised operation across all series. It returns a :class:`MethodResult` with the
flat forecast per series (the same value for every future period) and, on request, the in-sample one-step-ahead
fitted values.

Input rules (:func:`prepare`)
-----------------------------
* ``NaN`` at the **start** of a row marks periods before the part was listed: the series starts at its first
  non-NaN value. A row of only ``NaN`` has no history; its forecast and fitted values are ``NaN``.
* ``NaN`` **after** the first observed value is read as zero demand, as the demand panel marks periods without
  issues as zero.
* Negative or infinite values are rejected: returns are netted into demand before forecasting (DESIGN.md).

Fitted values
-------------
``fitted[i, t]`` is the forecast of period ``t`` made from periods before ``t``; it is ``NaN`` for periods before
a series starts and for its first period (nothing to forecast from).

Conventions
-----------
The Croston family, TSB, ADIDA and IMAPA take ``conventions``:

``"statsforecast"``
    Reproduces statsforecast 2.1.1: exponential smoothing initialised at the first value of the smoothed
    sequence; Croston's size level starts at the first demand and its interval level at the first interval
    counted from the series start (index of the first demand + 1); ``CrostonOptimized`` smooths sizes and
    intervals with separate smoothing constants, each the golden-section minimum on [0.1, 0.3] of the sum of
    squared one-step errors of that sequence; SBA multiplies by 0.95; ADIDA aggregates in non-overlapping
    buckets of the rounded mean inter-demand interval (half to even) counted back from the last period and
    smooths the bucket sums with the golden-section optimised constant; IMAPA averages that over the levels
    1..rounded mean interval. Fitted values of the optimised methods re-optimise on every prefix, as
    statsforecast does (costly: O(n_periods^2)).
``"r"``
    R ``forecast::croston``: the same initialisation (size = first demand, interval = first interval from the
    series start), SBA factor ``1 - alpha/2``, SBJ factor ``1 - alpha/(2 - alpha)``; optimised Croston follows
    ``tsintermittent::crost`` (separate constants, MAR cost of Kourentzes 2014) on the grid :data:`ALPHA_GRID`.
    The version meant is R forecast 8.x: forecast 9.0-9.0.2 forecasts ``fitted[n]`` instead (and the development
    version changed it again), so its point forecasts differ from these.
``"zk"`` (default)
    As ``"r"`` for the recursions (first demand and first interval are the only values known at the start, so
    no look-ahead enters the fit), with: optimised Croston chooses separate size and interval constants on
    :data:`ALPHA_GRID` by the MSR cost, which Kourentzes (2014) found the most reliable for intermittent series
    (MSE rewards forecasting zero); optimised fits report fitted values with the chosen constants (not
    re-optimised per prefix); IMAPA rounds the mean interval half to even in both its forecast and fitted
    values, so that fitted values equal rolling one-step forecasts.

The Croston family, TSB, ADIDA and IMAPA live in :mod:`zk_forecast.demand.methods_croston` and
:mod:`zk_forecast.demand.methods_aggregate`; this module holds the input rules, exponential smoothing over
ragged sequences (with statsforecast's golden-section optimiser reproduced bit for bit), the cost functions and
the simple methods (naive, historic mean, moving average, SES).

Speed
-----
The forecast-only paths (``fitted=False``, as :func:`zk_forecast.demand.forecast.forecast` uses without
``level``) and every optimised SES run through compiled loops (:mod:`zk_forecast.demand._kernels`, numba): the
Croston family and TSB as one pass over each row, the optimised methods as a golden-section search run in lockstep
over blocks of sequences of similar length laid end to end (demand sizes and intervals, bucket sums). They repeat
the numpy arithmetic operation for operation, so both paths give the same numbers.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from zk_forecast.demand import _kernels as _k
from zk_forecast.errors import ZkTypeError, ZkValueError

__all__ = [
    "ALPHA_GRID",
    "CONVENTIONS",
    "COSTS",
    "MethodResult",
    "historic_mean",
    "moving_average",
    "naive",
    "prepare",
    "cost_target",
    "cost_value",
    "demand_stats",
    "ses",
    "shared_memo",
    "shared_work",
]

Conventions = Literal["zk", "statsforecast", "r"]
#: The accepted values of every ``conventions`` argument.
CONVENTIONS: tuple[str, ...] = ("zk", "statsforecast", "r")
#: Cost functions for the grid-optimised methods (Kourentzes 2014): mean absolute / squared rate error, MAE, MSE.
COSTS: tuple[str, ...] = ("mar", "msr", "mae", "mse")
#: Smoothing constants tried by grid optimisation [-].
ALPHA_GRID: np.ndarray = np.array(
    [0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 0.9]
)

_SHARED: ContextVar[dict[int, tuple[Any, dict[Any, Any]]] | None] = ContextVar("zk_demand_shared", default=None)


@contextmanager
def shared_work() -> Iterator[None]:
    """Within the block, methods fitted to the same array share the work they have in common.

    :func:`~zk_forecast.demand.forecast.forecast` fits all its methods inside one block: Croston and SBA with the
    same constant share their recursions, ADIDA and IMAPA the smoothing of the top aggregation level. The shared
    values are the ones each method computes on its own (same operations), so results do not change. The memo
    refers to the arrays it was filled from weakly (what was computed for an array that is gone is dropped) and
    ends with the block.
    """
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def demand_stats(x: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number of demands of each row and the index of its last demand (-1 without demand); computed once per
    array inside :func:`shared_work`. The arrays are shared: do not modify them."""
    memo = shared_memo(x)
    if memo is not None and "demand_stats" in memo:
        got: tuple[np.ndarray, np.ndarray] = memo["demand_stats"]
        return got
    counts = np.empty(x.shape[0], dtype=np.int64)
    last = np.empty(x.shape[0], dtype=np.int64)
    _k.row_demand_stats(x, start, counts, last)
    if memo is not None:
        memo["demand_stats"] = (counts, last)
    return counts, last


def shared_memo(x: np.ndarray) -> dict[Any, Any] | None:
    """The memo of work done on ``x`` (this very array) inside :func:`shared_work`, or None outside it."""
    memo = _SHARED.get()
    if memo is None:
        return None
    entry = memo.get(id(x))
    if entry is None or entry[0]() is not x:
        for key in [k for k, (ref, _) in memo.items() if ref() is None]:  # arrays gone: their work too
            del memo[key]
        entry = (weakref.ref(x), {})
        memo[id(x)] = entry
    return entry[1]



@dataclass(frozen=True)
class MethodResult:
    """What a kernel returns.

    Attributes
    ----------
    forecast : numpy.ndarray, shape (n_series,)
        Flat point forecast per series [units per period]; ``NaN`` for rows without history.
    fitted : numpy.ndarray or None, shape (n_series, n_periods)
        In-sample one-step-ahead forecasts [units per period], or ``None`` when not requested.
    params : dict of str to numpy.ndarray
        Per-series fitted parameters (e.g. ``"alpha"``, ``"aggregation_level"``).
    """

    forecast: np.ndarray
    fitted: np.ndarray | None
    params: dict[str, np.ndarray] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------------
# input rules


def prepare(y: object) -> tuple[np.ndarray, np.ndarray]:
    """Check ``y`` and return it with missing values filled, and the first observed period of each row.

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods)
        Demand [units per period]; leading ``NaN`` = not yet listed, other ``NaN`` = zero demand.

    Returns
    -------
    x : numpy.ndarray, shape (n_series, n_periods)
        ``y`` as float64 with every ``NaN`` replaced by 0.
    start : numpy.ndarray of int64, shape (n_series,)
        Index of the first non-NaN period [periods]; ``n_periods`` for an all-NaN row.

    Raises
    ------
    ZkTypeError
        If ``y`` is not numeric.
    ZkValueError
        If ``y`` is not 2-D, has no periods, or holds negative or infinite values.
    """
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ZkTypeError(
            f"Demand 'y' must be a numeric 2-D array (series x periods); converting it to float failed: {exc}."
        ) from exc
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ZkValueError(
            f"Demand 'y' must be a 2-D array of shape (n_series, n_periods) with at least one period; got shape "
            f"{arr.shape}. Reshape a single series with y.reshape(1, -1)."
        )
    if arr.size:
        lo, hi = float(arr.min()), float(arr.max())  # NaN propagates
        if lo >= 0.0 and hi < math.inf:  # the common case: nothing missing, nothing to reject
            return np.ascontiguousarray(arr), np.zeros(arr.shape[0], dtype=np.int64)
    missing = np.isnan(arr)
    x = np.where(missing, 0.0, arr)
    if not np.isfinite(x).all():
        raise ZkValueError("Demand 'y' holds infinite values; demand must be finite [units per period].")
    if (x < 0).any():
        rows = np.unique(np.nonzero(x < 0)[0])[:5].tolist()
        raise ZkValueError(
            f"Demand 'y' holds negative values (rows {rows}); demand must be >= 0. Net returns into the demand of "
            "the period they come back in (DESIGN.md) before forecasting."
        )
    observed = ~missing
    start = np.where(observed.any(axis=1), observed.argmax(axis=1), arr.shape[1]).astype(np.int64)
    return x, start


def check_conventions(conventions: str) -> str:
    """Return ``conventions`` if it is one of :data:`CONVENTIONS`, else raise :class:`ZkValueError`."""
    if conventions not in CONVENTIONS:
        raise ZkValueError(
            f"The 'conventions' parameter must be one of {list(CONVENTIONS)}. Got {conventions!r} instead."
        )
    return conventions


def mask_fitted(fitted: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Set fitted values to ``NaN`` up to and including each row's first period (in place); return them."""
    t = np.arange(fitted.shape[1])
    fitted[t[None, :] <= start[:, None]] = np.nan
    return fitted


def no_history(forecast: np.ndarray, start: np.ndarray, n_periods: int) -> np.ndarray:
    """Set the forecast of rows without any observed period to ``NaN`` (in place); return it."""
    forecast[start >= n_periods] = np.nan
    return forecast


def left_align(x: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift each row so that its series starts in column 0.

    Returns
    -------
    seqs : numpy.ndarray, shape (n_series, n_periods)
        Row ``i`` holds ``x[i, start[i]:]`` followed by zeros.
    lengths : numpy.ndarray of int64, shape (n_series,)
        ``n_periods - start`` [periods].
    """
    n_periods = x.shape[1]
    seqs = np.zeros_like(x, dtype=np.float64)
    for s in np.unique(start):  # rows that start together move together: no index array of the panel's size
        if s < n_periods:
            rows = np.flatnonzero(start == s)
            seqs[rows, : n_periods - s] = x[rows, s:]
    return seqs, (n_periods - start).astype(np.int64)


# ----------------------------------------------------------------------------------------------------
# exponential smoothing over ragged sequences (compiled loops in zk_forecast.demand._kernels)


def csr_offsets(lengths: np.ndarray) -> np.ndarray:
    """Offsets of sequences of ``lengths`` laid end to end: sequence ``k`` is ``values[off[k]:off[k + 1]]``."""
    off = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=off[1:])
    return off


def ses_csr(
    values: np.ndarray,
    offsets: np.ndarray,
    alpha: float | np.ndarray | None,
    bounds: tuple[float, float] = (0.1, 0.3),
) -> tuple[np.ndarray, np.ndarray]:
    """SES forecast after the end of each sequence laid end to end in ``values`` (see :func:`csr_offsets`).

    ``alpha=None`` chooses the constant per sequence by statsforecast's golden-section search of the sum of
    squared one-step errors on ``bounds`` (reproduced bit for bit). Empty sequences get forecast 0 and the
    midpoint of ``bounds``. Returns the forecasts and the constants used.
    """
    values = np.ascontiguousarray(values, dtype=np.float64)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    m = offsets.size - 1
    lengths = np.diff(offsets)
    out_f = np.zeros(m)
    if alpha is None:
        out_a = np.full(m, (bounds[0] + bounds[1]) / 2.0)
        order = np.argsort(-lengths, kind="stable")
        order = order[: int(np.count_nonzero(lengths))]
        _k.golden_ses(values, offsets, order, float(bounds[0]), float(bounds[1]), out_f, out_a)
    else:
        out_a = np.ascontiguousarray(np.broadcast_to(np.asarray(alpha, dtype=np.float64), (m,)))
        _k.ses_last(values, offsets, out_a, out_f)
    return out_f, out_a


def ses_ragged(
    seqs: np.ndarray,
    lengths: np.ndarray,
    alpha: float | np.ndarray | None,
    bounds: tuple[float, float] = (0.1, 0.3),
) -> tuple[np.ndarray, np.ndarray]:
    """SES forecast after the end of each of many sequences of different lengths.

    Parameters
    ----------
    seqs : numpy.ndarray, shape (m, width)
        Row ``j`` holds a sequence in its first ``lengths[j]`` columns (the rest is ignored).
    lengths : numpy.ndarray of int, shape (m,)
        Sequence lengths, each >= 1.
    alpha : float, array of shape (m,) or None
        Smoothing constant [-]; ``None`` chooses it per sequence by golden-section search of the sum of squared
        one-step errors over ``bounds`` (statsforecast's ``golden_section_ses``, reproduced exactly).
    bounds : (float, float), default (0.1, 0.3)
        Search interval for ``alpha`` [-].

    Returns
    -------
    forecast : numpy.ndarray, shape (m,)
        Level after the last value; a one-value sequence forecasts its value.
    alpha : numpy.ndarray, shape (m,)
        The smoothing constants used [-].
    """
    seqs = np.asarray(seqs, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.int64)
    if seqs.shape[0] == 0:
        return np.empty(0), np.empty(0)
    values = seqs[np.arange(seqs.shape[1])[None, :] < lengths[:, None]]
    return ses_csr(values, csr_offsets(lengths), alpha, bounds)


def rolling_ses_ragged(
    seqs: np.ndarray, lengths: np.ndarray, bounds: tuple[float, float] = (0.1, 0.3), max_cells: int = 1 << 23
) -> np.ndarray:
    """Optimised SES forecasts from every prefix of every sequence (re-optimised per prefix, as statsforecast).

    Returns
    -------
    numpy.ndarray, shape (m, width + 1)
        Column ``k`` holds the forecast from the first ``k`` values (``k`` = 1..length); column 0 and columns past
        the length are ``NaN``.
    """
    m, width = seqs.shape
    out = np.full((m, width + 1), np.nan)
    rows, ks = np.nonzero(np.arange(1, width + 1)[None, :] <= lengths[:, None])
    ks = ks + 1
    step = max(1, max_cells // max(width, 1))
    for lo in range(0, rows.size, step):
        r, k = rows[lo : lo + step], ks[lo : lo + step]
        fc, _ = ses_ragged(seqs[r], k, None, bounds)
        out[r, k] = fc
    return out


# ----------------------------------------------------------------------------------------------------
# costs


def cost_target(x: np.ndarray, start: np.ndarray, cost: str) -> np.ndarray:
    """What fitted values are compared with under ``cost``, shape (n_series, n_periods) [units per period].

    ``"mse"`` / ``"mae"``: the demand itself. ``"msr"`` / ``"mar"``: the cumulative mean demand up to and including
    each period, the first ``ceil(0.3 n)`` of them replaced by the one at that point (Kourentzes 2014, as
    ``tsintermittent::crost``), so that the first noisy means do not steer the fit.
    """
    if cost in ("mse", "mae"):
        return x
    seqs, lengths = left_align(x, start)
    n_series, n_periods = x.shape
    idx = np.arange(n_periods)[None, :]
    cummean = np.cumsum(seqs, axis=1) / (idx + 1.0)
    burn = np.clip(np.ceil(0.3 * lengths).astype(np.int64), 1, n_periods)
    ref = cummean[np.arange(n_series), burn - 1]
    target_left = np.where(idx < burn[:, None], ref[:, None], cummean)
    return np.take_along_axis(target_left, np.clip(idx - start[:, None], 0, n_periods - 1), axis=1)


def cost_value(fitted: np.ndarray, target: np.ndarray, cost: str) -> np.ndarray:
    """Mean cost over the periods with a fitted value; the last axis is time; ``inf`` where none is defined.

    ``"mse"`` / ``"msr"`` square the differences, ``"mae"`` / ``"mar"`` take absolute values.
    """
    err = fitted - target
    err = err * err if cost in ("msr", "mse") else np.abs(err)
    ok = ~np.isnan(err)
    n_ok = ok.sum(axis=-1)
    total = np.where(ok, err, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_ok > 0, total / n_ok, np.inf)


# ----------------------------------------------------------------------------------------------------
# simple methods


def naive(y: object, *, fitted: bool = True) -> MethodResult:
    """Last observed value [units per period]; fitted value of period t = value of period t - 1."""
    x, start = prepare(y)
    n_periods = x.shape[1]
    fc = no_history(x[:, -1].copy(), start, n_periods)
    fit = None
    if fitted:
        fit = np.full_like(x, np.nan)
        fit[:, 1:] = x[:, :-1]
        mask_fitted(fit, start)
    return MethodResult(fc, fit)


def historic_mean(y: object, *, fitted: bool = True) -> MethodResult:
    """Mean of all observed periods [units per period]; fitted value = mean of the periods before."""
    x, start = prepare(y)
    n_periods = x.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        if not fitted:
            total = x[:, 0].copy()
            for t in range(1, n_periods):  # the running sum's order (as the fitted path's cumsum)
                total += x[:, t]
            return MethodResult(no_history(total / (n_periods - start), start, n_periods), None)
        # the running sums go straight into the fitted array (no second array of the panel's size)
        fit = np.full_like(x, np.nan)
        np.cumsum(x[:, :-1], axis=1, out=fit[:, 1:])
        total = fit[:, -1] + x[:, -1] if n_periods > 1 else x[:, 0].copy()
        fc = no_history(total / (n_periods - start), start, n_periods)
        for t in range(1, n_periods):  # mean of the t periods before, a column at a time (no divisor array)
            fit[:, t] /= t - start
        mask_fitted(fit, start)
    return MethodResult(fc, fit)


def moving_average(y: object, window: int, *, fitted: bool = True) -> MethodResult:
    """Mean of the last ``window`` periods [units per period], or of all of them if the series is shorter.

    Parameters
    ----------
    window : int
        Number of periods averaged [periods], >= 1.
    """
    x, start = prepare(y)
    n_periods = x.shape[1]
    cum = np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1)], axis=1)
    t = np.arange(1, n_periods + 1)[None, :]  # forecasts made after period t - 1, i.e. from cum[:, t]
    lo = np.maximum(t - window, start[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (cum[:, 1:] - np.take_along_axis(cum, np.minimum(lo, n_periods), axis=1)) / (t - lo)
    fc = no_history(means[:, -1].copy(), start, n_periods)
    fit = None
    if fitted:
        fit = np.full_like(x, np.nan)
        fit[:, 1:] = means[:, :-1]
        mask_fitted(fit, start)
    return MethodResult(fc, fit, {"window": np.full(x.shape[0], window)})


def ses_paths(
    x: np.ndarray, start: np.ndarray, alpha: np.ndarray, fitted: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """SES over the time grid, started at each row's first value; per-row ``alpha`` [-].

    Returns the level after the last period (the first value itself for a one-period series) and, if asked,
    the level before each period (``NaN`` up to each row's first period).
    """
    n_series, n_periods = x.shape
    # compiled row loop (_kernels.ses_rows), the same operations as: for each period t, fitted = level; from
    # the row's start on, level = alpha * x_t + (1 - alpha) * (x_t at the start, else level)
    level = np.empty(n_series)
    fit = np.empty_like(x) if fitted else np.empty((0, 0))
    _k.ses_rows(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(start, dtype=np.int64),
                np.ascontiguousarray(np.broadcast_to(alpha, (n_series,)), dtype=np.float64), fitted, fit, level)
    if not fitted:
        return level, None
    mask_fitted(fit, start)
    return level, fit


def ses(
    y: object, alpha: float | None = None, *, bounds: tuple[float, float] = (0.01, 0.99), fitted: bool = True
) -> MethodResult:
    """Simple exponential smoothing started at the first value.

    Parameters
    ----------
    alpha : float or None
        Smoothing constant [-]; ``None`` picks it per series by golden-section search of the squared one-step
        errors over ``bounds`` (as statsforecast's ``SimpleExponentialSmoothingOptimized``).
    bounds : (float, float), default (0.01, 0.99)
        Search interval for ``alpha`` [-].
    """
    x, start = prepare(y)
    n_periods = x.shape[1]
    if alpha is None:
        seqs, lengths = left_align(x, start)
        alphas = np.full(x.shape[0], np.mean(bounds))
        ok = lengths > 0
        _, alphas[ok] = ses_ragged(seqs[ok], lengths[ok], None, bounds)
    else:
        alphas = np.full(x.shape[0], float(alpha))
    level, fit = ses_paths(x, start, alphas, fitted)
    return MethodResult(no_history(level, start, n_periods), fit, {"alpha": alphas})
