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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

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
    "ses",
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

_GOLDEN_RATIO = (math.sqrt(5.0) + 1.0) / 2.0
_GOLDEN_TOL = 1e-12
#: Columns per block in the ragged kernels: keeps the working set in cache.
_BLOCK = 1 << 12


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
    idx = start[:, None] + np.arange(n_periods)[None, :]
    seqs = np.take_along_axis(x, np.minimum(idx, n_periods - 1), axis=1)
    seqs[idx >= n_periods] = 0.0
    return seqs, (n_periods - start).astype(np.int64)


# ----------------------------------------------------------------------------------------------------
# exponential smoothing over ragged sequences (columns sorted by length, longest first)


class _Sorted:
    """Sequences laid out time-major and sorted by length, so that the live columns of a step are a prefix.

    Values past a sequence's end are zeroed, and so are the matching cells of the level buffer, so that bulk
    operations over the whole block add exact zeros for them.
    """

    def __init__(self, seqs: np.ndarray, lengths: np.ndarray) -> None:
        self.order = np.argsort(-lengths, kind="stable")
        self.lengths = lengths[self.order]
        width = max(int(self.lengths[0]) if self.lengths.size else 0, 1)
        # live[j] = number of columns whose sequence has an element j
        self.live = np.searchsorted(-self.lengths, -np.arange(width + 1), side="left")
        m = max(self.order.size, 2)  # >= 2 columns keeps the axis-0 sums sequential
        self.xs = np.zeros((width, m))
        self.xs[:, : self.order.size] = seqs[self.order, :width].T
        self.xs[np.arange(m)[None, :] >= self.live[:width, None]] = 0.0
        self.levels = np.zeros_like(self.xs)
        self.levels[0] = self.xs[0]
        self.work = np.empty_like(self.xs)

    def unsort(self, values: np.ndarray) -> np.ndarray:
        out = np.empty(self.order.size)
        out[self.order] = values[: self.order.size]
        return out


def _sse(s: _Sorted, alpha: np.ndarray) -> np.ndarray:
    """Sum of squared one-step errors of SES started at the first value (statsforecast ``ses_sse``).

    Same operations in the same order as the reference, so the sums agree bit for bit: level_i = alpha * x_{i-1}
    + (1 - alpha) * level_{i-1}, errors squared and added in time order (``add.reduce`` along axis 0 of a
    C-ordered block with >= 2 columns adds row after row).
    """
    xs, lv, work, live = s.xs, s.levels, s.work, s.live
    width = xs.shape[0]
    if width < 2:
        return np.zeros(xs.shape[1])
    comp = 1.0 - alpha
    ax = np.multiply(alpha, xs[:-1], out=work[:-1])
    for i in range(1, width):
        k = int(live[i])
        if k == 0:
            break
        row = lv[i, :k]
        np.multiply(comp[:k], lv[i - 1, :k], out=row)
        row += ax[i - 1, :k]
    err = np.subtract(xs[1:], lv[1:], out=work[1:])
    err *= err
    return np.add.reduce(err, axis=0)


def _ses_last(s: _Sorted, alpha: np.ndarray) -> np.ndarray:
    """SES forecast after the last value; a one-value sequence forecasts that value (statsforecast)."""
    xs, live = s.xs, s.live
    comp = 1.0 - alpha
    level = xs[0].copy()
    two = int(live[1]) if live.size > 1 else 0
    for i in range(1, xs.shape[0] + 1):
        k = min(int(live[i - 1]), two)
        if k == 0:
            break
        level[:k] = alpha[:k] * xs[i - 1, :k] + comp[:k] * level[:k]
    return level


def _golden(s: _Sorted, lower: float, upper: float) -> np.ndarray:
    """Golden-section search of the SSE over [lower, upper], column-wise, step for step as statsforecast."""
    m = s.xs.shape[1]
    a = np.full(m, lower)
    b = np.full(m, upper)
    c = b - (b - a) / _GOLDEN_RATIO
    d = a + (b - a) / _GOLDEN_RATIO
    fc = _sse(s, c)
    fd = _sse(s, d)
    going = np.ones(m, dtype=bool)
    while True:
        going &= np.abs(b - a) >= _GOLDEN_TOL
        left = going & (fc < fd)
        right = going & (fd < fc)
        going = left | right
        if not going.any():
            break
        b = np.where(left, d, b)
        a = np.where(right, c, a)
        new = np.where(left, b - (b - a) / _GOLDEN_RATIO, a + (b - a) / _GOLDEN_RATIO)
        fnew = _sse(s, new)
        c, d = np.where(left, new, np.where(right, d, c)), np.where(left, c, np.where(right, new, d))
        fc, fd = np.where(left, fnew, np.where(right, fd, fc)), np.where(left, fc, np.where(right, fnew, fd))
    return (b + a) / 2.0


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
    m = seqs.shape[0]
    out_f = np.empty(m)
    out_a = np.empty(m)
    for lo in range(0, m, _BLOCK):
        hi = min(lo + _BLOCK, m)
        s = _Sorted(seqs[lo:hi], np.asarray(lengths[lo:hi], dtype=np.int64))
        if alpha is None:
            a = _golden(s, bounds[0], bounds[1])
        else:
            a = np.ones(s.xs.shape[1])
            a[: hi - lo] = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (m,))[lo:hi][s.order]
        out_f[lo:hi] = s.unsort(_ses_last(s, a))
        out_a[lo:hi] = s.unsort(a)
    return out_f, out_a


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
    cum = np.cumsum(x, axis=1)
    n_seen = np.arange(1, n_periods + 1)[None, :] - start[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        fc = no_history(cum[:, -1] / (n_periods - start), start, n_periods)
        fit = None
        if fitted:
            fit = np.full_like(x, np.nan)
            fit[:, 1:] = cum[:, :-1] / n_seen[:, :-1]
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
    comp = 1.0 - alpha
    level = np.zeros(n_series)
    fit = np.full_like(x, np.nan) if fitted else None
    for t in range(n_periods):
        if fit is not None:
            fit[:, t] = level
        xt = x[:, t]
        prev = np.where(start == t, xt, level)
        level = np.where(start <= t, alpha * xt + comp * prev, level)
    level = np.where(start == n_periods - 1, x[:, -1], level)
    if fit is not None:
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
