"""Cost-optimal stock policies: the newsvendor level, (s, S) by Zheng-Federgruen, Poisson (r, Q) by Federgruen-Zheng.

Pure array functions over discrete demand pmfs with one row per series (the glossary of
:mod:`zk_forecast.inventory.policy` applies: ``D_R`` is the demand of one review period, ``D_{L+R}`` the demand over
the protection period, ``s`` the reorder point, ``S`` the order-up-to level). Costs:

``h`` : holding cost [CNY per unit per period], charged on the stock on hand at the end of each period;
``b`` : backorder cost [CNY per unit backordered per period] (the (s, S) search and (r, Q)) or per unit short per
        review cycle (:func:`newsvendor_level`, the cost target of :func:`~zk_forecast.inventory.plan.plan`);
``K`` : fixed cost per order [CNY per order].

The one-period cost of an inventory position ``y`` right after ordering is the newsvendor cost of the demand it
must cover, ``G(y) = h E[(y - D)^+] + b E[(D - y)^+]`` (Zheng & Federgruen 1991, eq. 1, with ``D = D_{L+R}``).
``G`` is convex with slope ``-b`` below the support of ``D`` and ``h`` above it, so it is evaluated exactly at
every integer, negative levels included, from the first-order loss table of ``D``.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from scipy import stats

from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.policy import critical_ratio, loss_table

__all__ = [
    "newsvendor_cost",
    "newsvendor_level",
    "optimal_poisson_rq",
    "optimal_ss",
    "poisson_rq_cost",
    "ss_cost",
]


# ---------------------------------------------------------------------------------------------- checks
def _pmf_rows(pmf: Any, name: str) -> np.ndarray:
    a = np.asarray(pmf, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] == 0:
        raise ZkValueError(f"{name} must have shape (n_series, K) over demand 0..K-1 [units]; got {np.shape(pmf)}.")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ZkValueError(f"{name} must hold finite probabilities >= 0; fix the distribution of series "
                           f"{int(np.flatnonzero((~np.isfinite(a) | (a < 0)).any(axis=1))[0])}.")
    total = a.sum(axis=1)
    bad = np.abs(total - 1.0) > 1e-6
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ZkValueError(f"each row of {name} must sum to 1 (a pmf over 0..K-1); row {i} sums to {total[i]:.6g}. "
                           "Fix: extend K until the tail is below 1e-9, or normalise.")
    return a


def _costs(n: int, **values: Any) -> dict[str, np.ndarray]:
    out = {}
    for name, (value, positive) in values.items():
        v = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
        bad = ~np.isfinite(v) | ((v <= 0) if positive else (v < 0))
        if bad.any():
            rule = "> 0" if positive else ">= 0"
            raise ZkValueError(f"{name} must be finite and {rule} [CNY]; series {int(np.flatnonzero(bad)[0])} has "
                               f"{float(v[bad][0])!r}. Fix the cost.")
        out[name] = v
    return out


def _review(review_period: Any) -> int:
    if isinstance(review_period, bool) or not isinstance(review_period, (int, np.integer)) or review_period < 1:
        raise ZkValueError(f"review_period must be an int >= 1 [periods]; got {review_period!r}.")
    return int(review_period)


# ---------------------------------------------------------------------------------------------- newsvendor
def newsvendor_level(pmf: Any, holding_cost: Any, backorder_cost: Any, review_period: int = 1) -> np.ndarray:
    """Cost-optimal order-up-to level: the smallest ``S`` with ``P(D <= S) >= b / (b + h R)`` [units].

    Parameters
    ----------
    pmf : array-like, shape (n, K)
        pmf of the protection-period demand ``D_{L+R}`` over 0..K-1 [units].
    holding_cost : float or array-like, shape (n,)
        ``h`` [CNY per unit-period], >= 0.
    backorder_cost : float or array-like, shape (n,)
        ``b`` [CNY per unit short per review cycle], > 0.
    review_period : int, default 1
        ``R`` [periods].

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        ``S*`` [units] (:func:`~zk_forecast.inventory.policy.critical_ratio`).

    Examples
    --------
    Snyder & Shen (2019) Example 4.7: Poisson(6) demand, h = 1, p = 4: S* = 8.

    >>> from scipy import stats
    >>> int(newsvendor_level(stats.poisson.pmf(np.arange(40), 6), 1.0, 4.0)[0])
    8
    """
    a = _pmf_rows(pmf, "pmf")
    ratio = np.broadcast_to(critical_ratio(holding_cost, backorder_cost, _review(review_period)), (a.shape[0],))
    cdf = np.cumsum(a, axis=1)
    # smallest S with F(S) >= ratio; a tiny tolerance keeps a ratio met exactly on the boundary
    level = np.argmax(cdf >= ratio[:, None] - 1e-12, axis=1)
    level = np.where((cdf >= ratio[:, None] - 1e-12).any(axis=1), level, a.shape[1] - 1)
    return level.astype(np.int64)


def _g_tables(pmf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and first-order loss table E[(D - y)^+], y = 0..K-1, of each row."""
    mean = pmf @ np.arange(pmf.shape[1], dtype=np.float64)
    return mean, loss_table(pmf)


@numba.njit(cache=True)
def _g(y: int, mu: float, loss: np.ndarray, h: float, b: float) -> float:  # pragma: no cover - compiled
    if y < 0:
        return b * (mu - y)
    k = loss.shape[0]
    lo = loss[y] if y < k else 0.0
    return h * (y - mu) + (h + b) * lo


def newsvendor_cost(levels: Any, pmf: Any, holding_cost: Any, backorder_cost: Any) -> np.ndarray:
    """One-period cost ``G(y) = h E[(y - D)^+] + b E[(D - y)^+]`` [CNY per period] at integer levels.

    Parameters
    ----------
    levels : array-like of int, shape (n,) or (n, m)
        Inventory positions ``y`` [units], any integers (negative ones are backorders).
    pmf : array-like, shape (n, K)
        pmf of the demand ``D`` the position covers over 0..K-1 [units].
    holding_cost, backorder_cost : float or array-like, shape (n,)
        ``h`` [CNY per unit per period] >= 0 and ``b`` [CNY per unit backordered per period] > 0.

    Returns
    -------
    numpy.ndarray, shape of ``levels``
        ``G(y)`` [CNY per period]. Snyder & Shen (2019) Example 4.7 (Poisson(6), h = 1, p = 4): G(8) = 3.5701.
    """
    a = _pmf_rows(pmf, "pmf")
    n = a.shape[0]
    c = _costs(n, holding_cost=(holding_cost, False), backorder_cost=(backorder_cost, True))
    y = np.asarray(levels)
    if not np.issubdtype(y.dtype, np.integer):
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ZkValueError("levels must be whole numbers [units]; round them first.")
    yy = np.asarray(y, dtype=np.int64).reshape(n, -1)
    mu, loss = _g_tables(a)
    K = a.shape[1]
    lo = np.where(yy >= K, 0.0, np.take_along_axis(loss, np.clip(yy, 0, K - 1), axis=1))
    lo = np.where(yy < 0, mu[:, None] - yy, lo)
    h, b = c["holding_cost"][:, None], c["backorder_cost"][:, None]
    out = h * (yy - mu[:, None]) + (h + b) * lo
    return out.reshape(np.shape(y))


# ---------------------------------------------------------------------------------------------- (s, S)
@numba.njit(cache=True)
def _renewal(f: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - compiled
    """Renewal mass m(j), j = 0..n-1, of the per-review demand pmf f (Zheng & Federgruen 1991, eq. 3)."""
    m = np.zeros(n)
    q = 1.0 - f[0]
    m[0] = 1.0 / q
    k = f.shape[0]
    for j in range(1, n):
        acc = 0.0
        for i in range(1, min(j, k - 1) + 1):
            acc += f[i] * m[j - i]
        m[j] = acc / q
    return m


@numba.njit(cache=True)
def _c(s: int, S: int, m: np.ndarray, K: float, mu: float, loss: np.ndarray, h: float,
       b: float) -> float:  # pragma: no cover - compiled
    num = K
    den = 0.0
    for j in range(S - s):
        num += m[j] * _g(S - j, mu, loss, h, b)
        den += m[j]
    return num / den


@numba.njit(cache=True)
def _zf_rows(f_rows: np.ndarray, mu: np.ndarray, loss_rows: np.ndarray, h: np.ndarray, b: np.ndarray,
             K: np.ndarray, ystar: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    n = f_rows.shape[0]
    s_out = np.empty(n, dtype=np.int64)
    S_out = np.empty(n, dtype=np.int64)
    c_out = np.empty(n)
    for r in range(n):
        f = f_rows[r]
        loss = loss_rows[r]
        y0 = ystar[r]
        if f[0] >= 1.0 - 1e-15:  # no demand per review: never order
            s_out[r] = -1
            S_out[r] = 0
            c_out[r] = _g(0, mu[r], loss, h[r], b[r])
            continue
        # every s and S of the optimum lies where G <= G(y*) + K (1 - f0), an upper bound of the optimal cost
        bound = _g(y0, mu[r], loss, h[r], b[r]) + K[r] * (1.0 - f[0])
        lo = y0
        while _g(lo - 1, mu[r], loss, h[r], b[r]) <= bound:
            lo -= 1
        hi = y0
        while _g(hi + 1, mu[r], loss, h[r], b[r]) <= bound:
            hi += 1
        m = _renewal(f, hi - lo + 3)
        # step 1: s(y*)
        s = y0 - 1
        while _c(s, y0, m, K[r], mu[r], loss, h[r], b[r]) > _g(s, mu[r], loss, h[r], b[r]):
            s -= 1
        S_best = y0
        c_best = _c(s, S_best, m, K[r], mu[r], loss, h[r], b[r])
        # step 2: raise S while G(S) <= the incumbent cost
        S = S_best + 1
        while _g(S, mu[r], loss, h[r], b[r]) <= c_best:
            if _c(s, S, m, K[r], mu[r], loss, h[r], b[r]) < c_best:
                S_best = S
                while _c(s, S_best, m, K[r], mu[r], loss, h[r], b[r]) <= _g(s + 1, mu[r], loss, h[r], b[r]):
                    s += 1
                c_best = _c(s, S_best, m, K[r], mu[r], loss, h[r], b[r])
            S += 1
        s_out[r] = s
        S_out[r] = S_best
        c_out[r] = c_best
    return s_out, S_out, c_out


def _ss_inputs(pmf_review: Any, pmf_protection: Any, holding_cost: Any, backorder_cost: Any, order_cost: Any,
               review_period: int) -> tuple[np.ndarray, ...]:
    f = _pmf_rows(pmf_review, "pmf_review")
    p = f if pmf_protection is None else _pmf_rows(pmf_protection, "pmf_protection")
    if p.shape[0] != f.shape[0]:
        raise ZkValueError(f"pmf_review has {f.shape[0]} series but pmf_protection has {p.shape[0]}; give one row "
                           "per series in both.")
    n = f.shape[0]
    R = _review(review_period)
    c = _costs(n, holding_cost=(holding_cost, False), backorder_cost=(backorder_cost, True),
               order_cost=(order_cost, False))
    mu, loss = _g_tables(p)
    # costs per review cycle of R periods
    return f, p, mu, loss, c["holding_cost"] * R, c["backorder_cost"] * R, c["order_cost"]


def ss_cost(s: Any, S: Any, pmf_review: Any, pmf_protection: Any = None, *, holding_cost: Any,
            backorder_cost: Any, order_cost: Any, review_period: int = 1) -> np.ndarray:
    """Long-run cost of an (R, s, S) policy [CNY per review period] (Zheng & Federgruen 1991, eq. 3-4).

    ``c(s, S) = (K + sum_{j=0}^{S-s-1} m(j) G(S - j)) / sum_{j=0}^{S-s-1} m(j)``, ``m`` the renewal mass of
    ``D_R`` and ``G`` the one-period cost of :func:`newsvendor_cost` for ``D_{L+R}``.

    Parameters
    ----------
    s, S : int or array-like of int, shape (n,)
        Reorder point and order-up-to level [units], ``s < S``; an order is placed when the position is ``<= s``.
    pmf_review : array-like, shape (n, K1)
        pmf of the demand in one review period ``D_R`` [units]; ``P(D_R = 0) < 1``.
    pmf_protection : array-like, shape (n, K2), optional
        pmf of ``D_{L+R}`` [units]; default ``pmf_review`` (orders arrive before the next review).
    holding_cost : float or array-like
        ``h`` [CNY per unit per period], >= 0.
    backorder_cost : float or array-like
        ``b`` [CNY per unit backordered per period], > 0.
    order_cost : float or array-like
        ``K`` [CNY per order], >= 0.
    review_period : int, default 1
        ``R`` [periods]; ``h`` and ``b`` are multiplied by it.

    Returns
    -------
    numpy.ndarray, shape (n,)
        Expected cost [CNY per review period].
    """
    f, p, mu, loss, h, b, K = _ss_inputs(pmf_review, pmf_protection, holding_cost, backorder_cost, order_cost,
                                         review_period)
    n = f.shape[0]
    s_a = np.broadcast_to(np.asarray(s, dtype=np.int64), (n,))
    S_a = np.broadcast_to(np.asarray(S, dtype=np.int64), (n,))
    if np.any(S_a <= s_a):
        raise ZkValueError(f"S must be above s; got s={int(s_a[S_a <= s_a][0])}, S={int(S_a[S_a <= s_a][0])}.")
    if np.any(f[:, 0] >= 1.0):
        raise ZkValueError("pmf_review has a series without demand (P(D_R = 0) = 1): an (s, S) policy never orders "
                           "and has no cycle. Fix: leave such series out (optimal_ss returns s = -1, S = 0).")
    out = np.empty(n)
    for r in range(n):
        m = _renewal(f[r], int(S_a[r] - s_a[r]))
        out[r] = _c(int(s_a[r]), int(S_a[r]), m, float(K[r]), float(mu[r]), loss[r], float(h[r]), float(b[r]))
    return out


def optimal_ss(pmf_review: Any, pmf_protection: Any = None, *, holding_cost: Any, backorder_cost: Any,
               order_cost: Any, review_period: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost-optimal (R, s, S) policies on discrete demand by Zheng & Federgruen's algorithm.

    Zheng, Y.-S. & Federgruen, A. (1991), "Finding optimal (s, S) policies is about as simple as evaluating a
    single policy", *Operations Research* 39(4), 654-665: start from the minimiser ``y*`` of ``G``, lower ``s``
    until ``c(s, y*) <= G(s)``, then raise ``S`` while ``G(S)`` stays below the incumbent cost, raising ``s`` each
    time ``S`` improves. Exact for i.i.d. demand per review period, full backordering and a fixed lead time
    (Snyder & Shen 2019, Algorithm 4.2). Compiled loop over series; each series costs about as much as evaluating
    a few policies.

    Parameters
    ----------
    pmf_review, pmf_protection, holding_cost, backorder_cost, order_cost, review_period :
        As in :func:`ss_cost`.

    Returns
    -------
    s, S : numpy.ndarray of int64, shape (n,)
        Reorder point and order-up-to level [units]. A series without demand gets ``s = -1, S = 0`` (not stocked).
    cost : numpy.ndarray, shape (n,)
        The minimal expected cost [CNY per review period].

    Examples
    --------
    Snyder & Shen (2019) Example 4.7: Poisson(6) demand, h = 1, p = 4, K = 5, no lead time.

    >>> from scipy import stats
    >>> s, S, c = optimal_ss(stats.poisson.pmf(np.arange(40), 6), holding_cost=1.0, backorder_cost=4.0,
    ...                      order_cost=5.0)
    >>> int(s[0]), int(S[0]), round(float(c[0]), 4)
    (4, 10, 8.0341)
    """
    f, p, mu, loss, h, b, K = _ss_inputs(pmf_review, pmf_protection, holding_cost, backorder_cost, order_cost,
                                         review_period)
    ratio = b / (b + h)
    cdf = np.cumsum(p, axis=1)
    ystar = np.argmax(cdf >= np.minimum(ratio, 1.0 - 1e-12)[:, None] - 1e-12, axis=1).astype(np.int64)
    return _zf_rows(f, mu, loss, h, b, K, ystar)


# ---------------------------------------------------------------------------------------------- Poisson (r, Q)
def _poisson_inputs(rate: Any, lead_time: Any, holding_cost: Any, backorder_cost: Any,
                    order_cost: Any) -> tuple[np.ndarray, ...]:
    lam = np.atleast_1d(np.asarray(rate, dtype=np.float64))
    n = lam.shape[0]
    lt = np.broadcast_to(np.asarray(lead_time, dtype=np.float64), (n,))
    if np.any(~np.isfinite(lam)) or np.any(lam <= 0):
        raise ZkValueError(f"rate must be finite and > 0 [units per period]; got {float(lam[~(lam > 0)][0])!r}. "
                           "Fix: leave series without demand out (they are not stocked).")
    if np.any(~np.isfinite(lt)) or np.any(lt < 0):
        raise ZkValueError(f"lead_time must be finite and >= 0 [periods]; got {float(lt[~(lt >= 0)][0])!r}.")
    c = _costs(n, holding_cost=(holding_cost, False), backorder_cost=(backorder_cost, True),
               order_cost=(order_cost, False))
    mean_l = lam * lt
    top = int(np.max(stats.poisson.ppf(1.0 - 1e-14, np.maximum(mean_l, 1e-12)))) + 3
    pmf = stats.poisson.pmf(np.arange(top)[None, :], mean_l[:, None])
    pmf[mean_l == 0] = 0.0
    pmf[mean_l == 0, 0] = 1.0
    mu, loss = _g_tables(pmf)
    return lam, mu, loss, c["holding_cost"], c["backorder_cost"], c["order_cost"]


@numba.njit(cache=True)
def _rq_rows(lam: np.ndarray, mu: np.ndarray, loss_rows: np.ndarray, h: np.ndarray, b: np.ndarray,
             K: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    n = lam.shape[0]
    r_out = np.empty(n, dtype=np.int64)
    q_out = np.empty(n, dtype=np.int64)
    c_out = np.empty(n)
    for i in range(n):
        loss = loss_rows[i]
        # minimiser of the convex G (G(0) - G(-1) = -b < 0, so it is >= 0): first y whose right difference is >= 0
        y = 0
        while _g(y + 1, mu[i], loss, h[i], b[i]) < _g(y, mu[i], loss, h[i], b[i]):
            y += 1
        lo = y  # window of positions lo..hi = r+1..r+Q
        hi = y
        total = K[i] * lam[i] + _g(y, mu[i], loss, h[i], b[i])
        q = 1
        while True:
            g_lo = _g(lo - 1, mu[i], loss, h[i], b[i])
            g_hi = _g(hi + 1, mu[i], loss, h[i], b[i])
            g_next = g_lo if g_lo < g_hi else g_hi
            if g_next >= total / q:
                break
            if g_lo < g_hi:
                lo -= 1
            else:
                hi += 1
            total += g_next
            q += 1
        r_out[i] = lo - 1
        q_out[i] = q
        c_out[i] = total / q
    return r_out, q_out, c_out


def poisson_rq_cost(r: Any, Q: Any, rate: Any, lead_time: Any, *, holding_cost: Any, backorder_cost: Any,
                    order_cost: Any) -> np.ndarray:
    """Long-run cost of a continuous-review (r, Q) policy with Poisson demand [CNY per period].

    With unit demands the inventory position is uniform on ``r+1..r+Q`` and independent of the lead-time demand
    ``D_L ~ Poisson(rate * lead_time)``, so ``C(r, Q) = (K rate + sum_{y=r+1}^{r+Q} G(y)) / Q`` (Zipkin 2000,
    §6.5; Federgruen & Zheng 1992, eq. 1), ``G`` as in :func:`newsvendor_cost` for ``D_L``.

    Parameters
    ----------
    r : int or array-like of int, shape (n,)
        Reorder point [units]: an order of ``Q`` is placed when the position falls to ``r``.
    Q : int or array-like of int, shape (n,)
        Order quantity [units], >= 1.
    rate : float or array-like, shape (n,)
        Poisson demand rate [units per period], > 0.
    lead_time : float or array-like, shape (n,)
        ``L`` [periods], >= 0.
    holding_cost : float or array-like
        ``h`` [CNY per unit per period], >= 0.
    backorder_cost : float or array-like
        ``b`` [CNY per unit backordered per period], > 0.
    order_cost : float or array-like
        ``K`` [CNY per order], >= 0.

    Returns
    -------
    numpy.ndarray, shape (n,)
        Expected cost [CNY per period].
    """
    lam, mu, loss, h, b, K = _poisson_inputs(rate, lead_time, holding_cost, backorder_cost, order_cost)
    n = lam.shape[0]
    r_a = np.broadcast_to(np.asarray(r, dtype=np.int64), (n,))
    q_a = np.broadcast_to(np.asarray(Q, dtype=np.int64), (n,))
    if np.any(q_a < 1):
        raise ZkValueError(f"Q must be an int >= 1 [units]; got {int(q_a[q_a < 1][0])}.")
    out = np.empty(n)
    for i in range(n):
        g = sum(_g(int(y), float(mu[i]), loss[i], float(h[i]), float(b[i]))
                for y in range(int(r_a[i]) + 1, int(r_a[i] + q_a[i]) + 1))
        out[i] = (K[i] * lam[i] + g) / q_a[i]
    return out


def optimal_poisson_rq(rate: Any, lead_time: Any, *, holding_cost: Any, backorder_cost: Any,
                       order_cost: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cost-optimal continuous-review (r, Q) policies for Poisson demand (Federgruen & Zheng 1992).

    Federgruen, A. & Zheng, Y.-S. (1992), "An efficient algorithm for computing an optimal (r, Q) policy in
    continuous review stochastic inventory systems", *Operations Research* 40(4), 808-813: the positions
    ``r+1..r+Q`` of the optimum are the ``Q`` levels of least ``G``; starting from the minimiser of ``G`` the
    window grows by its cheaper neighbour while that neighbour's ``G`` is below the current average cost.
    Weekly reviews of a part that sells a unit at a time come close to this model; for several units per review
    use :func:`optimal_ss`, which is exact for periodic review.

    Parameters
    ----------
    rate, lead_time, holding_cost, backorder_cost, order_cost :
        As in :func:`poisson_rq_cost`.

    Returns
    -------
    r, Q : numpy.ndarray of int64, shape (n,)
        Reorder point and order quantity [units].
    cost : numpy.ndarray, shape (n,)
        The minimal expected cost [CNY per period].
    """
    lam, mu, loss, h, b, K = _poisson_inputs(rate, lead_time, holding_cost, backorder_cost, order_cost)
    return _rq_rows(lam, mu, loss, h, b, K)
