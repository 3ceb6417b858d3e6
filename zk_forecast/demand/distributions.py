"""Lead-time demand distributions: the pmf of total demand over ``L`` periods, for many series at once.

Two ways to get it:

``method="fitted"`` (compound Bernoulli)
    Each period has demand with probability ``p`` [probability per period] (``occurrence_scale`` may raise or
    lower it period by period, e.g. harvest season), and a demand has a size drawn from a fitted distribution on
    1, 2, ... [units]. The pmf of the total over ``L`` periods is the convolution of the ``L`` per-period pmfs
    ``(1 - p_t) δ0 + p_t · size``. :func:`lead_time_pmf` computes it for all series together with one real FFT
    per series: the transform of a per-period pmf is ``(1 - p_t) + p_t F(ω)`` (``F`` the transform of the size
    pmf), so the product over periods needs a loop over periods only, never over series (and one complex power
    ``(1 - p + p F)^L`` when ``p`` is the same in every period).
``method="bootstrap"`` (Willemain, Smart & Schwarz 2004, *Int. J. Forecasting* 20(3):375-387)
    Occurrence follows a two-state (demand / no demand) Markov chain whose transition probabilities are counted
    in the history, started from the last observed state; each demand's size is a past non-zero size drawn at
    random and jittered: ``1 + int(X + Z √X)`` with ``Z ~ N(0, 1)``, keeping ``X`` when that is ≤ 0. Jittering
    lets unseen sizes near the observed ones occur; as published it raises the mean size by about half a unit
    (two-thirds of a unit for size 1, where non-positive draws fall back to 1); ``jitter=False`` turns it off. ``n_samples`` totals per series give the empirical pmf. The sampling is
    vectorised over series and samples, looping over periods; a seeded ``numpy.random.Generator`` makes it
    reproducible (same data, settings and seed → identical arrays).

Fitted sizes (``size=``)
    ``"auto"`` (default): with fewer than ``min_sizes`` non-zero demands, or when the sizes are not
    over-dispersed (sample variance ≤ mean - 1), size - 1 is Poisson with the sample mean - 1 (a shifted Poisson:
    a small sample cannot support a variance estimate, and all-ones sizes give the point mass at 1); otherwise
    size - 1 is negative binomial matched to the sample mean and variance (``ddof=1``). ``"poisson"``,
    ``"nbinom"`` (falls back to Poisson when not over-dispersed), ``"geometric"`` (on 1, 2, ... with the sample
    mean) and ``"empirical"`` (the observed size frequencies) force one family. Sizes are whole units: non-integer
    demand is rounded (at least 1). The size pmf stops at its 1 - 1e-12 quantile, and at most at the largest of
    20, four times the largest size seen and twenty times the mean size (a bound on memory for very
    over-dispersed fits); the mass beyond is folded into that last bin.

Recency weights (``half_life=``)
    With ``half_life = h`` [periods] a period ``a`` periods before the last column weighs ``w = 0.5 ** (a / h)``
    (:func:`recency_weights`): ``p = Σ w·[demand] / Σ w`` over the observed periods (an exponentially smoothed
    demand rate that follows level changes), and the size mean and variance are weighted by the ``w`` of the
    demand periods. The variance uses reliability weights, ``Σ w (x - mean)² / (V1 - V2 / V1)`` with
    ``V1 = Σ w`` and ``V2 = Σ w²`` (unbiased; ``ddof=1`` when all weights are equal), and ``size="auto"`` counts
    the *effective* number of demands ``V1² / V2`` (Kish) against ``min_sizes``: old demands that hardly weigh
    do not make a variance look well estimated. ``"empirical"`` sizes are weighted frequencies; the bootstrap
    weighs each Markov transition by the period it leads to and draws past sizes in proportion to their
    weights. ``half_life=None`` (default) weighs every period 1: the plain averages above, unchanged.

Truncation: every pmf is cut at the smallest ``k`` whose upper-tail mass ``P(D > k)`` is at most ``tail``
(default 1e-9 [probability]) and that tail mass is added to bin ``k``, so rows are non-negative and sum to 1.
Rows are padded with zeros to a common width ``K``; memory is ``n_series × K × 8`` bytes.
"""

from __future__ import annotations

import html
from typing import Any

import numba
import numpy as np
from scipy import fft as sfft
from scipy import stats
from sklearn.base import BaseEstimator

from zk_forecast.errors import NotFittedError, ZkTypeError, ZkValueError

__all__ = ["LeadTimeDemand", "LeadTimeDistribution", "gamma_level_nodes", "lead_time_pmf", "level_variance",
           "mix_levels", "recency_weights", "scale_level", "truncate_tail"]

_SIZE_TAIL = 1e-12
_FFT_BUDGET = 1 << 22  # complex cells per FFT chunk (64 MB)
_BOOT_CHUNK = 1024  # series per bootstrap chunk (fixed: the chunking is part of the random stream)
_EPS_Q = 1e-12  # slack when comparing a cdf to a quantile level
_METHODS = ("fitted", "bootstrap")
_SIZES = ("auto", "poisson", "nbinom", "geometric", "empirical")


# ---------------------------------------------------------------------------------------------- kernels
def truncate_tail(pmf: np.ndarray, tail: float = 1e-9) -> np.ndarray:
    """Cut each row at the smallest ``k`` with ``P(D > k) <= tail`` and add that tail mass to bin ``k``.

    Parameters
    ----------
    pmf : numpy.ndarray, shape (n, K)
        Probability mass functions over 0..K-1 [probability]; small negative rounding noise is set to 0.
    tail : float, default 1e-9
        Largest upper-tail mass dropped [probability].

    Returns
    -------
    numpy.ndarray, shape (n, K')
        Rows non-negative, summing to 1, ``K'`` the widest kept support.
    """
    a = np.clip(pmf, 0.0, None)
    s = a.sum(axis=1, keepdims=True)
    a = a / np.where(s > 0, s, 1.0)
    if a.shape[1] == 0:
        return np.ones((a.shape[0], 1))
    upper = np.cumsum(a[:, ::-1], axis=1)[:, ::-1]  # upper[:, k] = P(D >= k)
    above = np.concatenate([upper[:, 1:], np.zeros((a.shape[0], 1))], axis=1)  # P(D > k)
    cut = np.argmax(above <= tail, axis=1)
    width = int(cut.max(initial=0)) + 1
    out = a[:, :width].copy()
    out[np.arange(width)[None, :] > cut[:, None]] = 0.0
    rows = np.arange(a.shape[0])
    out[rows, cut] += above[rows, cut]
    return out / out.sum(axis=1, keepdims=True)


def lead_time_pmf(p: Any, size_pmf: Any, lead_time: Any, *, tail: float = 1e-9) -> np.ndarray:
    """pmf of the total demand over ``lead_time`` periods of a compound Bernoulli process, for many series.

    Parameters
    ----------
    p : float or array-like, shape (n,) or (n, L_max)
        Demand probability per period [probability per period]; a second axis gives one value per period of the
        window (seasonal scaling), ``L_max >= max(lead_time)``.
    size_pmf : array-like, shape (n, S) or (S,)
        pmf of a demand's size over 0..S-1 [units]; rows sum to 1.
    lead_time : int or array-like of int, shape (n,)
        Periods summed, lead time plus review [periods], each >= 1.
    tail : float, default 1e-9
        Upper-tail mass folded into the last kept bin [probability]; see :func:`truncate_tail`.

    Returns
    -------
    numpy.ndarray, shape (n, K)
        pmf of the total over 0..K-1 [units]; non-negative, rows sum to 1.

    Examples
    --------
    Sizes always 1: the total is Binomial(L, p).

    >>> lead_time_pmf(0.5, [0.0, 1.0], 2).round(3)
    array([[0.25, 0.5 , 0.25]])
    """
    sz = np.asarray(size_pmf, dtype=np.float64)
    if sz.ndim == 1:
        sz = sz[None, :]
    if sz.ndim != 2 or sz.shape[1] == 0:
        raise ZkValueError(f"size_pmf must have shape (n_series, n_sizes) or (n_sizes,); got {np.shape(size_pmf)}.")
    L = np.asarray(lead_time)
    n = max(sz.shape[0], L.shape[0] if L.ndim else 1, np.shape(p)[0] if np.ndim(p) else 1)
    L = _lead_times(lead_time, n)
    pp = _occurrence(p, n, int(L.max(initial=1)))
    if sz.shape[0] == 1 and n > 1:
        sz = np.broadcast_to(sz, (n, sz.shape[1]))
    if sz.shape[0] != n:
        raise ZkValueError(f"size_pmf has {sz.shape[0]} rows but there are {n} series; give one row per series.")
    if np.any(sz < 0) or np.any(np.abs(sz.sum(axis=1) - 1.0) > 1e-9):
        raise ZkValueError("each row of size_pmf must be non-negative and sum to 1 [probability]; normalise it.")
    _check_tail(tail)
    nz = sz > 0
    smax = np.where(nz.any(axis=1), sz.shape[1] - 1 - np.argmax(nz[:, ::-1], axis=1), 0)
    full = L * smax + 1  # exact support of the total (no wrap-around in the FFT)
    order = np.argsort(full, kind="stable")
    pieces: list[tuple[np.ndarray, np.ndarray]] = []
    i = 0
    while i < n:
        rows = max(1, _FFT_BUDGET // _fast(int(full[order[i]])))
        rows = max(1, min(rows, _FFT_BUDGET // _fast(int(full[order[min(i + rows, n) - 1]]))))
        idx = order[i:i + rows]
        i += rows
        k = int(full[idx].max())
        nfft = _fast(k)
        width = min(int(smax[idx].max()) + 1, sz.shape[1])
        F = sfft.rfft(sz[idx, :width], n=nfft, axis=1)
        Li = L[idx]
        pi = pp[idx, :int(Li.max())]
        if np.all(pi == pi[:, :1]):  # the same p in every period: one complex power
            prod = ((1.0 - pi[:, :1]) + pi[:, :1] * F) ** Li[:, None]
        else:
            prod = np.ones_like(F)
            for t in range(pi.shape[1]):  # loop over periods, vectorised over series
                act = t < Li
                pt = pi[act, t][:, None]
                prod[act] *= (1.0 - pt) + pt * F[act]
        dense = sfft.irfft(prod, n=nfft, axis=1)[:, :k]
        dense[np.arange(k)[None, :] >= full[idx][:, None]] = 0.0  # structural zeros: rounding noise only
        pieces.append((idx, truncate_tail(dense, tail)))
    width = max((pc.shape[1] for _, pc in pieces), default=1)
    out = np.zeros((n, width))
    for idx, pc in pieces:
        out[idx, :pc.shape[1]] = pc
    return out


def level_variance(y: Any, block: int) -> np.ndarray:
    """Relative variance of a series' demand level between blocks, beyond what independent periods explain.

    The history (from its last period back) is cut into non-overlapping blocks of ``block`` periods that are fully
    observed; with ``x_b`` the block means, ``μ`` their mean and ``s²`` the variance of the single periods
    (``ddof=1``), independent periods give ``Var(x_b) ≈ s² / block``, so the excess
    ``v = max(Var(x_b) - s² / block, 0) / μ²`` (``ddof=1``) is the squared coefficient of variation of a level
    that wanders from block to block (a method-of-moments index of dispersion). Series with fewer than three full
    blocks or without demand get 0 (no evidence of a wandering level).

    Parameters
    ----------
    y : array-like, shape (n_series, n_periods)
        Demand per period [units], NaN = not observed (e.g. before the first demand).
    block : int
        Periods per block [periods], >= 2 (13 = a quarter of weekly periods).

    Returns
    -------
    numpy.ndarray, shape (n_series,)
        Relative level variance ``v`` [-] (0 = a steady level).

    Examples
    --------
    Demand 2 per period for 13 weeks, then 0, then 2, then 0: each quarter is steady, the level is not. Block
    means 2, 0, 2, 0 (``μ = 1``, variance 4/3), period variance 52/51: ``v = 4/3 - 52/51/13 = 64/51``.

    >>> y = np.repeat([[2.0, 0.0, 2.0, 0.0]], 13, axis=1)
    >>> level_variance(y, 13).round(4)
    array([1.2549])
    """
    a = np.asarray(y, dtype=np.float64)
    if a.ndim != 2:
        raise ZkValueError(f"y must have shape (n_series, n_periods); got {a.shape}.")
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 2:
        raise ZkValueError(f"block must be an int >= 2 [periods]; got {block!r}. Use e.g. 13 for weekly history.")
    n, T = a.shape
    nb = T // block
    if nb < 3:
        return np.zeros(n)
    x = a[:, T - nb * block:].reshape(n, nb, block)
    full = np.asarray(~np.isnan(x).any(axis=2), dtype=bool)  # fully observed blocks
    k = full.sum(axis=1)
    ok = k >= 3
    xs = np.where(full[:, :, None], x, 0.0)
    bm = xs.mean(axis=2)
    mu = (bm * full).sum(axis=1) / np.maximum(k, 1)
    var_b = (np.where(full, bm - mu[:, None], 0.0) ** 2).sum(axis=1) / np.maximum(k - 1, 1)
    m1 = k * block
    dev = np.where(full[:, :, None], xs - mu[:, None, None], 0.0)
    var_p = (dev * dev).sum(axis=(1, 2)) / np.maximum(m1 - 1, 1)
    ok &= mu > 0
    v = (var_b - var_p / block) / np.where(ok, mu * mu, 1.0)
    return np.where(ok, np.maximum(v, 0.0), 0.0)


def gamma_level_nodes(level_var: Any, n_nodes: int = 7, cap: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Equally weighted level multipliers approximating a mean-1 gamma with relative variance ``level_var``.

    Node ``j`` is the gamma quantile at ``(j + 1/2) / n_nodes`` (shape ``1 / v``, scale ``v``), rescaled so the
    nodes average exactly 1 (the mixture keeps the mean demand). ``v = 0`` gives nodes all exactly 1.

    Parameters
    ----------
    level_var : array-like, shape (n,)
        Relative level variance ``v`` [-] (:func:`level_variance`).
    n_nodes : int, default 7
        Multipliers per series [-].
    cap : float, default 4.0
        Largest ``v`` used [-] (a bound on the widest multiplier and so on memory).

    Returns
    -------
    (multipliers, weights) : numpy.ndarray, shape (n, n_nodes) each
        Multipliers of the demand level [-] and their probabilities [probability], rows summing to 1.
    """
    v = np.minimum(np.asarray(level_var, dtype=np.float64).ravel(), cap)
    if np.any(~np.isfinite(v)) or np.any(v < 0):
        raise ZkValueError("level_var must be finite and >= 0 [-]; 0 means a steady level.")
    q = (np.arange(n_nodes) + 0.5) / n_nodes
    live = v > 0
    m = np.ones((v.size, n_nodes))
    if live.any():
        shape = 1.0 / v[live]
        g = stats.gamma.ppf(q[None, :], shape[:, None], scale=1.0 / shape[:, None])
        m[live] = g / g.mean(axis=1, keepdims=True)
    return m, np.full((v.size, n_nodes), 1.0 / n_nodes)


def scale_level(p: Any, size_pmf: Any, multiplier: Any) -> tuple[np.ndarray, np.ndarray]:
    """Compound Bernoulli with its mean demand multiplied by ``multiplier``, row by row.

    The demand probability is scaled first, ``p' = min(p m, 1)``; what is left, ``c = max(p m, 1)``, scales the
    sizes: a size ``k`` becomes ``c k``, split between ``floor(c k)`` and ``ceil(c k)`` so that the mean is
    ``c`` times the old one. Mean per period: ``p' · c · mean size = m · p · mean size``.

    Parameters
    ----------
    p : array-like, shape (n,)
        Demand probability per period [probability per period].
    size_pmf : array-like, shape (n, S)
        Size pmf over 0..S-1 [units].
    multiplier : array-like, shape (n,)
        Level multiplier ``m`` >= 0 [-].

    Returns
    -------
    (p', size_pmf') : numpy.ndarray, shapes (n,) and (n, S')
        ``size_pmf`` itself when no row needs larger sizes.

    Examples
    --------
    ``p m = 0.8 × 2.5 = 2``: demand in every period, sizes doubled.

    >>> p2, sz2 = scale_level([0.8], [[0.0, 1.0]], [2.5])
    >>> float(p2[0]), sz2[0, :3].round(2).tolist()
    (1.0, [0.0, 0.0, 1.0])
    """
    pp = np.asarray(p, dtype=np.float64).ravel()
    sz = np.asarray(size_pmf, dtype=np.float64)
    pm = pp * np.asarray(multiplier, dtype=np.float64).ravel()
    c = np.maximum(pm, 1.0)
    if np.all(c == 1.0):
        return np.minimum(pm, 1.0), sz
    n, K = sz.shape
    width = int(np.ceil((K - 1) * float(c.max()))) + 2
    out = np.zeros((n, width))
    _split_sizes(np.ascontiguousarray(sz), c, out)
    return np.minimum(pm, 1.0), out / out.sum(axis=1, keepdims=True)


@numba.njit(cache=True)
def _split_sizes(sz, c, out):  # pragma: no cover - compiled
    """Size ``k`` of row ``i`` to ``c_i k``, its mass split between the neighbouring integers (compiled); the
    lower shares are added first, then the upper ones, as two ``np.add.at`` passes would."""
    n, K = sz.shape
    width = out.shape[1]
    for i in range(n):
        for j in range(K):
            k = j * c[i]
            lo = np.floor(k)
            out[i, int(lo)] += sz[i, j] * (1.0 - (k - lo))
    for i in range(n):
        for j in range(K):
            k = j * c[i]
            lo = np.floor(k)
            out[i, min(int(lo) + 1, width - 1)] += sz[i, j] * (k - lo)


def mix_levels(compute: Any, p: Any, size_pmf: Any, multipliers: Any, weights: Any,
               tail: float = 1e-9) -> tuple[np.ndarray, ...]:
    """pmfs mixed over a discrete level multiplier: ``Σ_j w_j pmf(level m_j)``, for the rows that need it.

    Demand in all periods of a window shares one level ``m`` (periods are dependent through it); the mixture is
    the weighted sum of the pmfs at each multiplier (:func:`scale_level`). Rows whose multipliers are all 1 are
    computed once, without the mixture: their pmfs are those of ``compute(rows, p, size_pmf)`` (equal to
    floating-point rounding: the FFT length may differ with the rows computed together).

    Parameters
    ----------
    compute : callable
        ``compute(rows, p, size_pmf)`` → tuple of pmf arrays, one row per entry of ``rows`` (indices of the
        series, e.g. to select their lead times), such as the three pmfs of
        :func:`~zk_forecast.inventory.policy.compound_mixture_pmfs`.
    p, size_pmf : array-like, shapes (n,), (n, S)
        Demand probability [probability per period] and size pmf [units].
    multipliers, weights : array-like, shape (n, J)
        Level multipliers [-] and their probabilities [probability] (:func:`gamma_level_nodes`).
    tail : float, default 1e-9
        Upper-tail mass folded into the last kept bin of each mixed pmf [probability].

    Returns
    -------
    tuple of numpy.ndarray, each shape (n, K_i)
    """
    pp = np.asarray(p, dtype=np.float64).ravel()
    sz = np.asarray(size_pmf, dtype=np.float64)
    m, w, mixed, plain = _level_rows(multipliers, weights, pp.size)
    parts: list[tuple[np.ndarray, tuple[np.ndarray, ...]]] = []
    if plain.size or not mixed.size:
        parts.append((plain, tuple(compute(plain, pp[plain], sz[plain]))))
    if mixed.size:
        acc: list[np.ndarray] = []
        for j in range(m.shape[1]):
            pj, szj = scale_level(pp[mixed], sz[mixed], m[mixed, j])
            for i, pmf in enumerate(compute(mixed, pj, szj)):
                term = pmf * w[mixed, j][:, None]
                if i == len(acc):
                    acc.append(term)
                else:
                    width = max(acc[i].shape[1], term.shape[1])
                    acc[i] = np.pad(acc[i], ((0, 0), (0, width - acc[i].shape[1])))
                    acc[i][:, :term.shape[1]] += term
        parts.append((mixed, tuple(truncate_tail(a, tail) for a in acc)))
    return _stack_rows(parts, pp.size)


def _level_rows(multipliers: Any, weights: Any, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked level multipliers and weights (shape (n, J)), the rows that need the mixture over the level (a
    multiplier other than 1 with weight) and the rows that do not."""
    m = np.asarray(multipliers, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if m.ndim != 2 or m.shape != w.shape or m.shape[0] != n:
        raise ZkValueError(f"level multipliers and weights need shape (n_series, n_nodes) with n_series = {n}; "
                           f"got {m.shape} and {w.shape}.")
    if np.any(~np.isfinite(m)) or np.any(m < 0) or np.any(w < 0) or np.any(np.abs(w.sum(axis=1) - 1.0) > 1e-9):
        raise ZkValueError("level multipliers must be finite and >= 0 [-] and each row of weights non-negative "
                           "summing to 1 [probability].")
    mixed = np.flatnonzero(np.any((m != 1.0) & (w > 0), axis=1))
    return m, w, mixed, np.setdiff1d(np.arange(n), mixed)


def _stack_rows(parts: list[tuple[np.ndarray, tuple[np.ndarray, ...]]], n: int,
                count: int | None = None) -> tuple[np.ndarray, ...]:
    """The pmf arrays of row blocks ``(rows, (pmf_0, pmf_1, ...))`` put together: array ``i`` has ``n`` rows and the
    width of the widest block's ``pmf_i`` (1 without blocks), each block's rows zero-padded to it. ``count``: the
    number of arrays (default: the first block's)."""
    result = []
    for i in range(len(parts[0][1]) if count is None else count):
        out = np.zeros((n, max((pc[i].shape[1] for _, pc in parts), default=1)))
        for rows, pc in parts:
            out[rows, :pc[i].shape[1]] = pc[i]
        result.append(out)
    return tuple(result)


def _fast(k: int) -> int:
    return int(sfft.next_fast_len(max(int(k), 1), real=True))


# ---------------------------------------------------------------------------------------------- result
class LeadTimeDistribution:
    """Discrete distributions of lead-time demand, one row per series.

    Parameters
    ----------
    pmf : numpy.ndarray, shape (n_series, K)
        Probability of a total of 0..K-1 units [probability]; rows sum to 1.
    """

    def __init__(self, pmf: np.ndarray) -> None:
        self.pmf = np.asarray(pmf, dtype=np.float64)

    @property
    def shape(self) -> tuple[int, int]:
        return self.pmf.shape  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"LeadTimeDistribution({self.shape[0]} series, support 0..{self.shape[1] - 1} units)"

    def _repr_html_(self) -> str:
        import pandas as pd

        head = pd.DataFrame({"mean": self.mean()[:10], "var": self.var()[:10], "p90": self.quantile(0.9)[:10],
                             "p95": self.quantile(0.95)[:10], "p99": self.quantile(0.99)[:10]})
        return f"<div><p><b>{html.escape(repr(self))}</b></p>{head.to_html()}</div>"

    def cdf(self) -> np.ndarray:
        """P(D <= k) for k = 0..K-1, shape (n_series, K) [probability]; the last column is exactly 1."""
        c = np.cumsum(self.pmf, axis=1)
        c[:, -1] = 1.0
        return np.minimum(c, 1.0)

    def quantile(self, q: Any) -> np.ndarray:
        """Smallest ``k`` with ``P(D <= k) >= q`` [units]; monotone in ``q``.

        Parameters
        ----------
        q : float or array-like of float in [0, 1]
            Levels [probability].

        Returns
        -------
        numpy.ndarray of int64, shape (n_series,) for a scalar ``q``, else (n_series, len(q)).
        """
        qa = np.asarray(q, dtype=np.float64)
        if np.any(~np.isfinite(qa)) or np.any(qa < 0) or np.any(qa > 1):
            raise ZkValueError(f"quantile levels must lie in [0, 1] [probability]; got {q!r}.")
        c = self.cdf()
        flat = np.atleast_1d(qa)
        out = np.stack([np.argmax(c >= lvl - _EPS_Q, axis=1) for lvl in flat], axis=1).astype(np.int64)
        return out[:, 0] if qa.ndim == 0 else out

    def mean(self) -> np.ndarray:
        """Expected lead-time demand [units], shape (n_series,)."""
        k = np.arange(self.pmf.shape[1])
        return self.pmf @ k

    def var(self) -> np.ndarray:
        """Variance of lead-time demand [units²], shape (n_series,)."""
        k = np.arange(self.pmf.shape[1], dtype=np.float64)
        m = self.pmf @ k
        return np.maximum(self.pmf @ (k * k) - m * m, 0.0)


# ---------------------------------------------------------------------------------------------- estimator
class LeadTimeDemand(BaseEstimator):
    """Estimate lead-time demand distributions from demand histories (scikit-learn style).

    Parameters
    ----------
    method : {"fitted", "bootstrap"}, default "fitted"
        Compound Bernoulli with fitted sizes, or the Willemain-Smart-Schwarz bootstrap (module notes).
    size : {"auto", "poisson", "nbinom", "geometric", "empirical"}, default "auto"
        Size family of ``method="fitted"``.
    min_sizes : int, default 5
        Fewest non-zero demands [periods] for which ``size="auto"`` uses a variance (negative binomial).
    n_samples : int, default 1000
        Bootstrap totals per series [samples]; the pmf resolution is ``1 / n_samples``.
    jitter : bool, default True
        Jitter bootstrap sizes as Willemain et al. (2004).
    tail : float, default 1e-9
        Upper-tail mass folded into the last bin of a fitted pmf [probability].
    half_life : float or None, default None
        Recency weighting [periods]: a period ``a`` periods before the last one weighs ``0.5 ** (a / half_life)``
        in the demand probability, the size moments and (bootstrap) the transitions and size draws (module
        notes). None: every period weighs the same.
    level_block : int or None, default None
        Block length [periods] of :func:`level_variance` ("fitted" only). Given, the demand level of a series is
        uncertain and shared by all periods of a window: the pmfs are mixtures over a mean-1 gamma level
        multiplier with the relative variance seen between past blocks (:func:`gamma_level_nodes`,
        :func:`mix_levels`); series with a steady level keep the pmfs of None (to rounding). None: periods independent.
    random_state : int, numpy.random.Generator or None, default None
        Seed of the bootstrap; an int gives identical results on every call.

    Attributes
    ----------
    n_series_ : int
    p_ : numpy.ndarray, shape (n_series,)
        Demand probability per period, demand periods / observed periods [probability per period] (weighted
        by recency with ``half_life``).
    n_demands_ : numpy.ndarray of int, shape (n_series,)
        Periods with demand [periods].
    effective_periods_ : numpy.ndarray, shape (n_series,)
        Effective number of observed periods ``(Σ w)² / Σ w²`` [periods]; the observed periods without
        ``half_life``.
    effective_demands_ : numpy.ndarray, shape (n_series,)
        Effective number of demands, the same over the demand periods [periods] ("fitted").
    size_mean_, size_var_ : numpy.ndarray, shape (n_series,)
        Weighted mean [units] and variance [units²] of the sizes before a family is fitted; NaN without demand
        ("fitted").
    size_family_ : numpy.ndarray of str, shape (n_series,)
        ``"poisson"``, ``"nbinom"``, ``"geometric"``, ``"empirical"`` or ``"none"`` (no demand) ("fitted").
    size_pmf_ : numpy.ndarray, shape (n_series, S)
        Fitted size pmf over 0..S-1 [units] ("fitted").
    level_var_ : numpy.ndarray, shape (n_series,)
        Relative variance of the level between blocks of ``level_block`` periods [-]; 0 without it ("fitted").
    level_multipliers_, level_weights_ : numpy.ndarray, shape (n_series, 7)
        Level multipliers [-] and their probabilities [probability]; all multipliers 1 when ``level_var_`` is 0
        ("fitted").
    p01_, p11_ : numpy.ndarray, shape (n_series,)
        P(demand | none before), P(demand | demand before) [probability per period] ("bootstrap").
    last_state_ : numpy.ndarray of bool, shape (n_series,)
        Demand in the last observed period ("bootstrap").
    sizes_, size_offsets_ : numpy.ndarray
        Past non-zero sizes of all series, concatenated, and where each series' run starts ("bootstrap").
    size_weights_ : numpy.ndarray or None
        Cumulative recency weights of ``sizes_`` (None without ``half_life``) ("bootstrap").

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0, 2, 0, 0, 1, 0, 3, 0]], dtype=float)
    >>> ltd = LeadTimeDemand(method="fitted").fit(y)
    >>> round(float(ltd.distribution(4).mean()[0]), 6)  # 4 periods × p 3/8 × mean size 2
    3.0
    """

    def __init__(
        self,
        *,
        method: str = "fitted",
        size: str = "auto",
        min_sizes: int = 5,
        n_samples: int = 1000,
        jitter: bool = True,
        tail: float = 1e-9,
        half_life: float | None = None,
        level_block: int | None = None,
        random_state: Any = None,
    ) -> None:
        self.method = method
        self.size = size
        self.min_sizes = min_sizes
        self.n_samples = n_samples
        self.jitter = jitter
        self.tail = tail
        self.half_life = half_life
        self.level_block = level_block
        self.random_state = random_state

    def __repr__(self) -> str:
        return (f"LeadTimeDemand(method={self.method!r}, size={self.size!r}, min_sizes={self.min_sizes}, "
                f"n_samples={self.n_samples}, jitter={self.jitter}, tail={self.tail}, "
                f"half_life={self.half_life!r}, level_block={self.level_block!r}, "
                f"random_state={self.random_state!r})")

    def _validate(self) -> None:
        if self.method not in _METHODS:
            raise ZkValueError(f"The 'method' parameter of LeadTimeDemand must be one of {_METHODS}; "
                               f"got {self.method!r} instead.")
        if self.size not in _SIZES:
            raise ZkValueError(f"The 'size' parameter of LeadTimeDemand must be one of {_SIZES}; "
                               f"got {self.size!r} instead.")
        for name in ("min_sizes", "n_samples"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ZkValueError(f"The {name!r} parameter of LeadTimeDemand must be an int >= 1; "
                                   f"got {v!r} instead.")
        _check_tail(self.tail)
        h = self.half_life
        if h is not None and (isinstance(h, bool) or not isinstance(h, (int, float, np.integer, np.floating))
                              or not np.isfinite(h) or h <= 0):
            raise ZkValueError(f"The 'half_life' parameter of LeadTimeDemand must be a number > 0 [periods] or None "
                               f"(all periods weigh the same); got {h!r} instead. Use e.g. half_life=26 for weeks.")
        b = self.level_block
        if b is not None and (isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 2):
            raise ZkValueError(f"The 'level_block' parameter of LeadTimeDemand must be an int >= 2 [periods] or None "
                               f"(no level mixture); got {b!r} instead. Use e.g. level_block=13 for weeks.")

    def fit(self, y: Any) -> LeadTimeDemand:
        """Learn occurrence and sizes from demand histories.

        Parameters
        ----------
        y : array-like, shape (n_series, n_periods), or a Panel
            Demand per period [units], NaN = missing period (skipped), no negatives.

        Returns
        -------
        self
        """
        self._validate()
        a = np.asarray(getattr(y, "values", y), dtype=np.float64)
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2:
            raise ZkValueError(f"LeadTimeDemand.fit needs a 2-D (series × periods) array; got shape {a.shape}.")
        if np.any(a < 0):
            raise ZkValueError("demand must not be negative [units]; clip net returns first (build_panel does).")
        obs = ~np.isnan(a)
        sizes2d = np.where(obs & (a > 0), np.maximum(np.rint(np.where(obs, a, 0.0)), 1.0), 0.0)
        occ = sizes2d > 0
        w = recency_weights(obs, self.half_life)
        v1 = w.sum(axis=1)
        self.n_series_ = a.shape[0]
        self.n_demands_ = occ.sum(axis=1)
        self.effective_periods_ = _effective_n(w)
        self.p_ = np.where(v1 > 0, np.where(occ, w, 0.0).sum(axis=1) / np.where(v1 > 0, v1, 1.0), 0.0)
        if self.method == "fitted":
            self._fit_sizes(sizes2d, occ, w)
            self.level_var_ = np.zeros(a.shape[0]) if self.level_block is None else \
                level_variance(a, int(self.level_block))
            self.level_multipliers_, self.level_weights_ = gamma_level_nodes(self.level_var_)
        else:
            self._fit_bootstrap(obs, occ, sizes2d, w)
        return self

    def _fit_sizes(self, sizes2d: np.ndarray, occ: np.ndarray, w: np.ndarray) -> None:
        n_d = self.n_demands_
        ws = np.where(occ, w, 0.0)  # weights of the demands
        w1 = ws.sum(axis=1)
        n_eff = _effective_n(ws)  # = n_d when all weights are equal
        mean = np.where(n_d > 0, (ws * sizes2d).sum(axis=1) / np.where(w1 > 0, w1, 1.0), 1.0)
        dev = np.where(occ, sizes2d - mean[:, None], 0.0)
        # reliability weights: sum w (x - mean)² / (V1 - V2 / V1) is unbiased; ddof=1 for equal weights
        two = n_eff > 1.0 + 1e-9
        denom = np.where(two, w1 - (ws * ws).sum(axis=1) / np.where(w1 > 0, w1, 1.0), 1.0)
        var = np.where(two, (ws * dev * dev).sum(axis=1) / np.where(two, denom, 1.0), 0.0)
        self.effective_demands_ = n_eff
        self.size_mean_ = np.where(n_d > 0, mean, np.nan)
        self.size_var_ = np.where(n_d > 0, var, np.nan)
        biggest = sizes2d.max(axis=1, initial=1.0)
        lam = np.maximum(mean - 1.0, 0.0)
        over = var > lam + 1e-12
        fam = np.full(n_d.shape, self.size if self.size != "nbinom" else "poisson", dtype=object)
        if self.size in ("auto", "nbinom"):
            use_nb = over & (n_eff >= (self.min_sizes if self.size == "auto" else 2) - 1e-9)
            fam = np.where(use_nb, "nbinom", "poisson").astype(object)
        fam[n_d == 0] = "none"
        cap = np.ceil(np.maximum(np.maximum(4 * biggest, 20 * mean), 20)).astype(np.int64)  # largest size kept
        # each family's support up to its 1 - 1e-12 quantile, within the cap
        top = np.ones_like(cap)
        r = np.where(over, lam**2 / np.where(over, var - lam, 1.0), 1.0)
        q = np.where(over, lam / np.where(over, var, 1.0), 1.0)
        g = 1.0 / np.maximum(mean, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            hi = np.select(
                [fam == "poisson", fam == "nbinom", fam == "geometric", fam == "empirical"],
                [1 + stats.poisson.ppf(1 - _SIZE_TAIL, lam), 1 + stats.nbinom.ppf(1 - _SIZE_TAIL, r, q),
                 stats.geom.ppf(1 - _SIZE_TAIL, g), biggest], default=1.0)
        top = np.minimum(np.nan_to_num(hi, nan=1.0, posinf=1e9).astype(np.int64), cap)
        top = np.maximum(top, 1)
        width = int(top.max(initial=1)) + 1
        pmf = np.zeros((n_d.size, width))
        for name in ("poisson", "nbinom", "geometric", "empirical"):  # loop over families and row blocks
            rows_all = np.flatnonzero(fam == name)
            rows_all = rows_all[np.argsort(top[rows_all], kind="stable")]  # similar widths together
            for b in range(0, rows_all.size, 4096):
                rows = rows_all[b:b + 4096]
                wd = int(top[rows].max()) + 1
                ks = np.arange(wd, dtype=np.float64)[None, :]
                if name == "poisson":
                    block = stats.poisson.pmf(ks - 1, lam[rows][:, None])
                elif name == "nbinom":
                    block = stats.nbinom.pmf(ks - 1, r[rows][:, None], q[rows][:, None])
                elif name == "geometric":
                    block = stats.geom.pmf(ks, g[rows][:, None])
                else:
                    rr, cc = np.nonzero(occ[rows])
                    vals = sizes2d[rows][rr, cc].astype(np.int64)
                    block = np.zeros((rows.size, wd))
                    top_w = ws[rows].max(axis=1)  # 1 for equal weights: plain counts
                    np.add.at(block, (rr, np.minimum(vals, wd - 1)), ws[rows][rr, cc] / top_w[rr])
                pmf[rows, :wd] = block
        pmf[fam == "none", 1] = 1.0
        # fold everything above each series' top into its top bin
        above = np.arange(width)[None, :] > top[:, None]
        spill = 1.0 - np.where(above, 0.0, pmf).sum(axis=1)
        pmf[above] = 0.0
        pmf[np.arange(n_d.size), top] += np.maximum(spill, 0.0)
        self.size_family_ = fam.astype(str)
        self.size_pmf_ = pmf / pmf.sum(axis=1, keepdims=True)

    def _fit_bootstrap(self, obs: np.ndarray, occ: np.ndarray, sizes2d: np.ndarray, w: np.ndarray) -> None:
        pair = obs[:, :-1] & obs[:, 1:]  # transitions between adjacent observed periods only
        prev, nxt = occ[:, :-1], occ[:, 1:]
        wt = w[:, 1:]  # a transition weighs as the period it leads to
        n0 = np.where(pair & ~prev, wt, 0.0).sum(axis=1)
        n01 = np.where(pair & ~prev & nxt, wt, 0.0).sum(axis=1)
        n1 = np.where(pair & prev, wt, 0.0).sum(axis=1)
        n11 = np.where(pair & prev & nxt, wt, 0.0).sum(axis=1)
        self.p01_ = np.where(n0 > 0, n01 / np.where(n0 > 0, n0, 1.0), self.p_)
        self.p11_ = np.where(n1 > 0, n11 / np.where(n1 > 0, n1, 1.0), self.p_)
        last = obs.shape[1] - 1 - np.argmax(obs[:, ::-1], axis=1)
        self.last_state_ = obs.any(axis=1) & occ[np.arange(occ.shape[0]), last]
        rr, cc = np.nonzero(occ)
        self.sizes_ = sizes2d[rr, cc].astype(np.int64)
        self.size_offsets_ = np.r_[0, np.cumsum(self.n_demands_)].astype(np.int64)
        # cumulative recency weights of the sizes (None: equal weights, drawn by index as published)
        self.size_weights_ = None if self.half_life is None else np.cumsum(w[rr, cc])

    # ------------------------------------------------------------------------------------------ output
    def _check_fitted(self) -> None:
        if not hasattr(self, "p_"):
            raise NotFittedError("This LeadTimeDemand is not fitted yet; call fit(y) with the demand history first.")

    def distribution(self, lead_time: Any, occurrence_scale: Any = None) -> LeadTimeDistribution:
        """Lead-time demand distribution of every series.

        Parameters
        ----------
        lead_time : int or array-like of int, shape (n_series,)
            Lead time plus review [periods], each >= 1.
        occurrence_scale : array-like, shape (L_max,) or (n_series, L_max), optional
            Multiplies the demand probability of each period of the window [-] (e.g. 1.4 in harvest weeks);
            ``L_max >= max(lead_time)``; scaled probabilities are capped at 1.

        Returns
        -------
        LeadTimeDistribution
        """
        self._check_fitted()
        n = self.n_series_
        L = _lead_times(lead_time, n)
        Lmax = int(L.max(initial=1))
        scale = _scale(occurrence_scale, n, Lmax)
        if self.method == "fitted":
            def compute(rows: np.ndarray, p: np.ndarray, size_pmf: np.ndarray) -> tuple[np.ndarray]:
                pr = np.clip(p[:, None] * scale[rows], 0.0, 1.0)
                return (lead_time_pmf(pr, size_pmf, L[rows], tail=self.tail),)

            pmf, = mix_levels(compute, self.p_, self.size_pmf_, self.level_multipliers_, self.level_weights_,
                              tail=self.tail)
            return LeadTimeDistribution(pmf)
        return LeadTimeDistribution(self._bootstrap(L, scale))

    def pmf(self, lead_time: Any, occurrence_scale: Any = None) -> np.ndarray:
        """pmf over 0..K-1 units, shape (n_series, K); see :meth:`distribution`."""
        return self.distribution(lead_time, occurrence_scale).pmf

    def cdf(self, lead_time: Any, occurrence_scale: Any = None) -> np.ndarray:
        """P(D <= k), shape (n_series, K); see :meth:`distribution`."""
        return self.distribution(lead_time, occurrence_scale).cdf()

    def quantile(self, q: Any, lead_time: Any, occurrence_scale: Any = None) -> np.ndarray:
        """Smallest total [units] with P(D <= total) >= q; see :meth:`LeadTimeDistribution.quantile`."""
        return self.distribution(lead_time, occurrence_scale).quantile(q)

    def mean(self, lead_time: Any, occurrence_scale: Any = None) -> np.ndarray:
        """Expected lead-time demand [units], shape (n_series,)."""
        return self.distribution(lead_time, occurrence_scale).mean()

    def var(self, lead_time: Any, occurrence_scale: Any = None) -> np.ndarray:
        """Variance of lead-time demand [units²], shape (n_series,)."""
        return self.distribution(lead_time, occurrence_scale).var()

    def _bootstrap(self, L: np.ndarray, scale: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(self.random_state)
        m = int(self.n_samples)
        n = self.n_series_
        counts = self.n_demands_
        pieces: list[tuple[np.ndarray, np.ndarray]] = []
        order = np.argsort(L, kind="stable")  # chunks of similar lead times waste no draws
        for a in range(0, n, _BOOT_CHUNK):
            idx = order[a:a + _BOOT_CHUNK]
            c = idx.size
            state = np.broadcast_to(self.last_state_[idx, None], (c, m)).copy()
            total = np.zeros((c, m), dtype=np.int64)
            Lc = L[idx]
            p01, p11, cnt = self.p01_[idx, None], self.p11_[idx, None], counts[idx]
            for t in range(int(Lc.max())):  # loop over periods, vectorised over series × samples
                p = np.where(state, p11, p01) * scale[idx, t][:, None]
                occ = (rng.random((c, m)) < np.minimum(p, 1.0)) & (cnt[:, None] > 0)
                live = (t < Lc)[:, None]
                rr, ss = np.nonzero(occ & live)
                if rr.size:
                    row = idx[rr]
                    if self.size_weights_ is None:
                        pick = self.size_offsets_[row] + (rng.random(rr.size) * counts[row]).astype(np.int64)
                    else:  # draw a past size with probability proportional to its recency weight
                        cw = self.size_weights_
                        lo, hi = self.size_offsets_[row], self.size_offsets_[row + 1] - 1
                        base = np.where(lo > 0, cw[np.maximum(lo - 1, 0)], 0.0)
                        u = base + rng.random(rr.size) * (cw[hi] - base)
                        pick = np.clip(np.searchsorted(cw, u, side="right"), lo, hi)
                    x = self.sizes_[pick]
                    if self.jitter:
                        j = 1 + np.trunc(x + rng.standard_normal(rr.size) * np.sqrt(x)).astype(np.int64)
                        x = np.where(j <= 0, x, j)
                    total[rr, ss] += x  # each (series, sample) cell occurs once per period
                state = np.where(live, occ, state)
            width = int(total.max(initial=0)) + 1
            hist = np.bincount((np.arange(c)[:, None] * width + total).ravel(), minlength=c * width)
            pieces.append((idx, hist.reshape(c, width) / m))
        width = max((pc.shape[1] for _, pc in pieces), default=1)
        out = np.zeros((n, width))
        for idx, pc in pieces:
            out[idx, :pc.shape[1]] = pc
        return out


# ---------------------------------------------------------------------------------------------- weights
def recency_weights(observed: Any, half_life: float | None) -> np.ndarray:
    """Exponential recency weights of the periods of each history.

    A period ``a`` periods before the last one (the last column) weighs ``0.5 ** (a / half_life)``; missing
    periods weigh 0.

    Parameters
    ----------
    observed : array-like of bool, shape (n_series, n_periods)
        True where the period was observed [-].
    half_life : float or None
        Age at which a period weighs half as much as the last one [periods]; None gives every observed period
        weight 1 (the plain averages).

    Returns
    -------
    numpy.ndarray, shape (n_series, n_periods)
        Weights in [0, 1] [-].

    Examples
    --------
    >>> recency_weights(np.ones((1, 3), dtype=bool), 1.0)
    array([[0.25, 0.5 , 1.  ]])
    """
    obs = np.asarray(observed, dtype=bool)
    if half_life is None:
        return obs.astype(np.float64)
    age = np.arange(obs.shape[-1] - 1, -1, -1, dtype=np.float64)
    return np.where(obs, np.exp2(-age / float(half_life)), 0.0)


def _effective_n(w: np.ndarray) -> np.ndarray:
    """Kish's effective sample size ``(Σ w)² / Σ w²`` per row [-]; the count for equal weights, 0 for none."""
    s1 = w.sum(axis=1)
    s2 = (w * w).sum(axis=1)
    return np.where(s2 > 0, s1 * s1 / np.where(s2 > 0, s2, 1.0), 0.0)


# ---------------------------------------------------------------------------------------------- checks
def _lead_times(lead_time: Any, n: int) -> np.ndarray:
    L = np.asarray(lead_time)
    if L.dtype.kind not in "iu" and not (L.dtype.kind == "f" and np.all(np.isfinite(L)) and np.all(L == np.rint(L))):
        raise ZkTypeError(f"lead_time must be whole periods (int); got {lead_time!r}. Round it, e.g. "
                          "np.ceil(days / 7).astype(int) for weeks.")
    L = L.astype(np.int64)
    if L.ndim == 0:
        L = np.full(n, int(L))
    if L.shape != (n,):
        raise ZkValueError(f"lead_time has shape {L.shape}; give one value or one per series ({n}) [periods].")
    if np.any(L < 1):
        raise ZkValueError(f"lead_time must be >= 1 period (lead time plus review); got min {int(L.min())}.")
    return L


def _occurrence(p: Any, n: int, Lmax: int) -> np.ndarray:
    pa = np.asarray(p, dtype=np.float64)
    if pa.ndim == 0:
        pa = np.full((n, 1), float(pa))
    if pa.ndim == 1:
        pa = pa[:, None]
    if pa.ndim != 2 or pa.shape[0] != n:
        raise ZkValueError(f"p has shape {np.shape(p)}; give (n_series,) or (n_series, L_max) with n_series = {n}.")
    if pa.shape[1] == 1:
        pa = np.broadcast_to(pa, (n, Lmax))
    if pa.shape[1] < Lmax:
        raise ZkValueError(f"p has {pa.shape[1]} periods but the longest lead_time is {Lmax}; give one "
                           "probability per period of the longest window.")
    if np.any(~np.isfinite(pa)) or np.any(pa < 0) or np.any(pa > 1):
        raise ZkValueError("p must lie in [0, 1] [probability per period]; check the occurrence scaling.")
    return pa


def _scale(scale: Any, n: int, Lmax: int) -> np.ndarray:
    if scale is None:
        return np.ones((n, Lmax))
    s = np.asarray(scale, dtype=np.float64)
    if s.ndim == 1:
        s = np.broadcast_to(s[None, :], (n, s.shape[0]))
    if s.ndim != 2 or s.shape[0] != n or s.shape[1] < Lmax:
        raise ZkValueError(f"occurrence_scale has shape {np.shape(scale)}; give (L_max,) or (n_series, L_max) "
                           f"with n_series = {n} and L_max >= {Lmax} (the longest lead_time) [-].")
    if np.any(~np.isfinite(s)) or np.any(s < 0):
        raise ZkValueError("occurrence_scale must be finite and >= 0 [-] (1 = no change).")
    return s


def _check_tail(tail: Any) -> None:
    if not isinstance(tail, (float, int)) or not (0 <= tail < 1e-3):
        raise ZkValueError(f"The 'tail' parameter must be a probability in [0, 1e-3); got {tail!r}. "
                           "The default 1e-9 drops a negligible upper tail.")
