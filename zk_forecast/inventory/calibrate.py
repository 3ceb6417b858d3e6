"""Promises that hold: how far realised lead-time demand strayed from the fitted distributions, in the past.

The fitted pmfs of :class:`~zk_forecast.demand.distributions.LeadTimeDemand` describe demand around a level fitted on
the history. When levels drift (a fleet ages, a model is withdrawn, a harvest comes early), realised demand over a
protection period strays further from the forecast than the pmf says, and the fill rate reached falls short of the
one promised. :func:`level_widening` measures that excess on the history itself, at rolling origins inside the
fitting window (fit on the periods before an origin, compare with the demand of the ``L + R`` periods after it), and
returns it as an extra relative level variance ``v`` [-] (method of moments, pooled over items)::

    v = max(0, sum_i ((x_i - m_i)^2 - var_i) / sum_i m_i^2)

with ``m_i`` and ``var_i`` the fitted mean and variance of item ``i``'s demand over its protection period and
``x_i`` the realised demand. :func:`~zk_forecast.inventory.plan.plan` (``widen="backtest"``) mixes every item's pmfs
over a mean-1 gamma level multiplier with that much more variance (combined with the item's own level variance as
independent multipliers: ``(1 + v_item)(1 + v) - 1``), so the level drift seen in the past is priced into the
stock. Nothing from the periods being planned for, or evaluated on, enters the estimate.
"""

from __future__ import annotations

import numpy as np

from zk_forecast.demand.distributions import LeadTimeDemand, gamma_level_nodes

__all__ = ["apply_widening", "level_widening"]

ORIGIN_STEP = 13  # [periods] between rolling origins (a quarter of weekly history)
N_ORIGINS = 4
MIN_FIT = 26  # [periods] of history before the first origin


def level_widening(values: np.ndarray, protection: np.ndarray, *, half_life: float | None = 52,
                   level_block: int | None = 13, origin_step: int = ORIGIN_STEP, n_origins: int = N_ORIGINS
                   ) -> float:
    """Extra relative level variance [-] that the past's out-of-sample errors call for (module notes).

    Parameters
    ----------
    values : numpy.ndarray, shape (n, T)
        Demand per period [units]; NaN before a series starts.
    protection : numpy.ndarray of int, shape (n,)
        ``L + R`` per series [periods].
    half_life, level_block
        As the plan fits the demand (:class:`~zk_forecast.demand.distributions.LeadTimeDemand`).
    origin_step : int, default 13
        Periods between origins; the last origin leaves each series its protection period before the end.
    n_origins : int, default 4
        Origins at most.

    Returns
    -------
    float
        ``v >= 0``; 0 when the history is too short for one origin or the errors are no larger than the pmfs say.
    """
    a = np.asarray(values, dtype=np.float64)
    n, T = a.shape
    H = np.asarray(protection, dtype=np.int64)
    num = 0.0
    den = 0.0
    for k in range(n_origins):
        o = T - int(H.max(initial=1)) - k * origin_step
        if o < MIN_FIT:
            break
        hist = a[:, :o]
        alive = np.isfinite(hist).any(axis=1) & (np.nansum(hist, axis=1) > 0) & (o + H <= T)
        if not alive.any():
            continue
        est = LeadTimeDemand(half_life=half_life, level_block=level_block).fit(hist[alive])
        h = H[alive].astype(np.float64)
        kk = np.arange(est.size_pmf_.shape[1], dtype=np.float64)
        es = est.size_pmf_ @ kk
        es2 = est.size_pmf_ @ (kk * kk)
        p = est.p_
        m = h * p * es
        var = h * (p * es2 - (p * es) ** 2) + est.level_var_ * m * m
        cols = np.arange(T)[None, :]
        fut = (cols >= o) & (cols < o + H[alive][:, None])
        x = np.where(fut, np.nan_to_num(a[alive]), 0.0).sum(axis=1)
        num += float(((x - m) ** 2 - var).sum())
        den += float((m * m).sum())
    return max(num / den, 0.0) if den > 0 else 0.0


def apply_widening(est: LeadTimeDemand, v: float) -> LeadTimeDemand:
    """Combine a fitted estimator's level variance with an extra ``v`` [-] (independent mean-1 multipliers)."""
    if v > 0:
        est.level_var_ = (1.0 + est.level_var_) * (1.0 + v) - 1.0
        est.level_multipliers_, est.level_weights_ = gamma_level_nodes(est.level_var_)
    return est
