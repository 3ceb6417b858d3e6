"""Stock policies per part × depot from discrete lead-time demand distributions.

Every quantity is computed exactly on the discrete demand pmf (no normal approximation). The kernels are pure
numpy functions over arrays with one row per series; :func:`reorder_policy` searches the levels for many series at
once (the loop runs over candidate levels, never over series).

Notation (the glossary of this module)
--------------------------------------
``R``
    Review period [periods]: the stock is reviewed every ``R`` periods.
``L``
    Lead time [periods]: an order placed at the review of period ``t`` is available from period ``t + L + 1``
    (the simulator's convention, :mod:`zk_forecast.inventory.simulate`); ``L = 0`` means "the next period".
``D_L, D_R, D_{L+R}``
    Total demand over ``L``, ``R`` and ``L + R`` periods [units]; pmfs over 0..K-1 with one row per series.
``S``
    Order-up-to level [units]: inventory position right after an order.
``s``
    Reorder point [units]: an order is placed when the inventory position at a review is ``<= s``. Base stock is
    ``s = S - 1``.
``Q = S - s``
    The smallest possible order [units]; pack size and minimum order quantity are respected by choosing ``Q`` as
    a multiple of the pack size that is at least the MOQ (then ``S - position >= Q >= MOQ`` at every order).
``J``
    Undershoot: ``S`` minus the inventory position right after a review [units], on 0..Q-1.

Model of the (R, s, S) policy
-----------------------------
Right after a review the inventory position is ``S - J``. With demand per review period i.i.d. with pmf ``f``,
the position after review is a renewal process on the levels ``S, S-1, ..., s+1`` and its stationary distribution
is proportional to the renewal mass function ``u`` of ``f`` (Zipkin 2000, *Foundations of Inventory Management*,
§6.3 and §6.8; Axsäter 2006, *Inventory Control* 2nd ed., §5.3 on the undershoot of (s, S) policies)::

    u(0) = 1 / (1 - f(0)),   u(j) = sum_{i=1..j} f(i) u(j - i) / (1 - f(0)),   P(J = j) = u(j) / sum_{i<Q} u(i)

Because ``J`` is independent of the demand that follows the review, the (R, s, S) system behaves like a base stock
system at level ``S`` whose lead-time demands are ``D_L + J`` and ``D_{L+R} + J``: every formula below is applied to
the pmfs convolved with the pmf of ``J`` (:func:`undershoot_pmf`, :func:`add_undershoot`). The one approximation:
an order rounded up to a pack size lifts the position above ``S`` by less than a pack, which the model ignores (it
can only raise the service reached, so the levels err on the safe side); ``tests/test_inventory_policy.py`` checks
the model against the simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numba
import numpy as np

from zk_forecast.errors import ZkValueError

__all__ = [
    "add_undershoot",
    "base_stock_fill_rate",
    "compound_mixture_pmfs",
    "critical_ratio",
    "cycle_service_level",
    "expected_backorders",
    "expected_on_hand",
    "loss_table",
    "mix_lead_times",
    "order_quantity",
    "reorder_policy",
    "undershoot_pmf",
]


# ---------------------------------------------------------------------------------------------- checks
def _pmf2d(pmf: Any, name: str = "pmf") -> np.ndarray:
    a = np.asarray(pmf, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] == 0:
        raise ZkValueError(f"{name} must have shape (n_series, K) over demand 0..K-1 [units]; got {np.shape(pmf)}.")
    return a


def _levels(S: Any, n: int, name: str = "S") -> np.ndarray:
    s = np.asarray(S)
    if s.dtype.kind == "f":
        if not np.all(np.isfinite(s)) or np.any(s != np.rint(s)):
            raise ZkValueError(f"{name} must be whole units (int); got {S!r}. Round the levels first.")
    elif s.dtype.kind not in "iu":
        raise ZkValueError(f"{name} must be whole units (int); got dtype {s.dtype}.")
    s = s.astype(np.int64)
    if s.ndim == 0:
        s = np.full(n, int(s))
    if s.shape != (n,):
        raise ZkValueError(f"{name} has shape {s.shape}; give one level or one per series ({n}) [units].")
    return s


# ---------------------------------------------------------------------------------------------- kernels
def loss_table(pmf: Any) -> np.ndarray:
    """First-order loss function ``G(S) = E[(D - S)^+]`` for ``S = 0..K-1`` [units], shape (n, K).

    ``G(S) = sum_{j >= S} P(D > j)`` (Zipkin 2000, §6.2.2, the discrete loss function), summed from the top so
    that small tails keep their precision.
    """
    a = _pmf2d(pmf)
    surv = np.cumsum(a[:, ::-1], axis=1)[:, ::-1] - a  # P(D > j), j = 0..K-1
    surv = np.maximum(surv, 0.0)
    return np.cumsum(surv[:, ::-1], axis=1)[:, ::-1]


def expected_backorders(pmf: Any, S: Any) -> np.ndarray:
    """Expected backorders ``E[(D - S)^+]`` [units] at integer levels ``S``, one per series.

    Parameters
    ----------
    pmf : array-like, shape (n, K)
        pmf of demand over 0..K-1 [units]; rows sum to 1.
    S : int or array-like of int, shape (n,)
        Levels [units]; may be negative (then ``E[D] - S``) or beyond the support (then 0).

    Returns
    -------
    numpy.ndarray, shape (n,)
        ``E[(D - S)^+]`` [units]; Zipkin (2000) §6.2.2, ``G(S) = sum_{j >= S} P(D > j)``.

    Examples
    --------
    >>> expected_backorders([[0.5, 0.25, 0.25]], 1)  # P(D > 1) = 0.25
    array([0.25])
    """
    a = _pmf2d(pmf)
    n, K = a.shape
    lv = _levels(S, n)
    G = loss_table(a)
    inside = np.clip(lv, 0, K - 1)
    g = G[np.arange(n), inside]
    mean = G[:, 0]
    return np.where(lv < 0, mean - lv, np.where(lv >= K, 0.0, g))


def expected_on_hand(pmf_lr: Any, S: Any) -> np.ndarray:
    """Expected on hand ``E[(S - D)^+]`` [units] at the end of a review cycle, one per series.

    ``E[(S - D)^+] = S - E[D] + E[(D - S)^+]`` (Silver, Pyke & Thomas 2017, *Inventory and Production Management
    in Supply Chains* 4th ed., ch. 6, expected on hand at the end of a cycle), 0 for ``S <= 0``.

    Parameters
    ----------
    pmf_lr : array-like, shape (n, K)
        pmf of demand over lead time plus review, 0..K-1 [units].
    S : int or array-like of int, shape (n,)
        Order-up-to levels [units].

    Returns
    -------
    numpy.ndarray, shape (n,) [units]

    Examples
    --------
    >>> expected_on_hand([[0.5, 0.25, 0.25]], 2)  # 2·0.5 + 1·0.25
    array([1.25])
    """
    a = _pmf2d(pmf_lr, "pmf_lr")
    n, K = a.shape
    lv = _levels(S, n)
    mean = a @ np.arange(K, dtype=np.float64)
    out = lv - mean + expected_backorders(a, lv)
    return np.where(lv <= 0, 0.0, np.maximum(out, 0.0))


def base_stock_fill_rate(pmf_lr: Any, pmf_l: Any, mean_r: Any, S: Any) -> np.ndarray:
    """Fill rate of a periodic-review order-up-to-``S`` policy [share of demand served from stock at once].

    ``fill rate = 1 - (E[(D_{L+R} - S)^+] - E[(D_L - S)^+]) / E[D_R]``: the expected shortage of a review cycle
    is the growth of the backorders over it (Silver, Pyke & Thomas 2017, ch. 6, the (R, S) system; Axsäter
    2006, *Inventory Control* 2nd ed., §5.3, fill rate of periodic review). Exact for integer demand and the
    simulator's event order; defined as 1 where ``E[D_R] = 0``.

    Parameters
    ----------
    pmf_lr : array-like, shape (n, K1)
        pmf of demand over lead time plus review ``L + R`` periods [units].
    pmf_l : array-like, shape (n, K2)
        pmf of demand over the lead time ``L`` periods [units] (``[[1.0]]`` rows for ``L = 0``).
    mean_r : float or array-like, shape (n,)
        Expected demand over one review period ``E[D_R]`` [units].
    S : int or array-like of int, shape (n,)
        Order-up-to levels [units].

    Returns
    -------
    numpy.ndarray, shape (n,)
        Fill rate in [0, 1] [probability].

    Examples
    --------
    Demand 0 or 1 with equal chance per period, ``L = 1``, ``R = 1``, ``S = 1``: shortage 1/4 per period.

    >>> base_stock_fill_rate([[0.25, 0.5, 0.25]], [[0.5, 0.5]], 0.5, 1)
    array([0.5])
    """
    a = _pmf2d(pmf_lr, "pmf_lr")
    b = _pmf2d(pmf_l, "pmf_l")
    n = a.shape[0]
    if b.shape[0] != n:
        raise ZkValueError(f"pmf_l has {b.shape[0]} rows but pmf_lr has {n}; give one row per series.")
    mu = np.broadcast_to(np.asarray(mean_r, dtype=np.float64), (n,))
    if np.any(~np.isfinite(mu)) or np.any(mu < 0):
        raise ZkValueError("mean_r must be finite and >= 0 [units per review period].")
    lv = _levels(S, n)
    short = np.maximum(expected_backorders(a, lv) - expected_backorders(b, lv), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fr = 1.0 - short / np.where(mu > 0, mu, 1.0)
    return np.where(mu > 0, np.clip(fr, 0.0, 1.0), 1.0)


def cycle_service_level(pmf_lr: Any, S: Any) -> np.ndarray:
    """Cycle service level ``P(D_{L+R} <= S)`` [probability]: no backorder at the end of a review cycle.

    Silver, Pyke & Thomas (2017), ch. 6 (the service measure P1 of an (R, S) system).
    """
    a = _pmf2d(pmf_lr, "pmf_lr")
    n, K = a.shape
    lv = _levels(S, n)
    c = np.minimum(np.cumsum(a, axis=1), 1.0)
    return np.where(lv < 0, 0.0, np.where(lv >= K - 1, 1.0, c[np.arange(n), np.clip(lv, 0, K - 1)]))


def undershoot_pmf(pmf_r: Any, Q: Any) -> np.ndarray:
    """pmf of the undershoot ``J`` of an (R, s, S) policy with ``S - s = Q``, shape (n, max Q) [probability].

    ``P(J = j) ∝ u(j)``, ``j = 0..Q-1``, with ``u`` the renewal mass function of the demand per review period
    (module notes; Zipkin 2000, §6.8). ``Q = 1`` (base stock) gives ``J = 0``; a series without demand too.

    Parameters
    ----------
    pmf_r : array-like, shape (n, K)
        pmf of demand per review period ``D_R`` over 0..K-1 [units].
    Q : int or array-like of int, shape (n,)
        ``S - s`` [units], each >= 1.
    """
    f = _pmf2d(pmf_r, "pmf_r")
    n = f.shape[0]
    q = _levels(Q, n, "Q")
    if np.any(q < 1):
        raise ZkValueError(f"Q = S - s must be >= 1 unit; got min {int(q.min())}.")
    qmax = int(q.max(initial=1))
    out = np.zeros((n, qmax))
    out[:, 0] = 1.0
    rows = np.flatnonzero((q > 1) & (f[:, 0] < 1.0 - 1e-12))
    if rows.size == 0 or qmax == 1:
        return out
    rows = rows[np.argsort(-q[rows], kind="stable")]  # longest first: the active set is a prefix
    fr = f[rows, : min(f.shape[1], qmax)]
    if fr.shape[1] < qmax:
        fr = np.pad(fr, ((0, 0), (0, qmax - fr.shape[1])))
    den = 1.0 - fr[:, 0]
    u = np.zeros((rows.size, qmax))
    u[:, 0] = 1.0 / den
    qs = q[rows]
    for j in range(1, qmax):  # loop over levels, vectorised over series
        m = int(np.searchsorted(-qs, -j, side="left"))  # series with Q > j
        if m == 0:
            break
        u[:m, j] = np.einsum("ij,ij->i", fr[:m, 1:j + 1], u[:m, j - 1::-1]) / den[:m]
    u[np.arange(qmax)[None, :] >= qs[:, None]] = 0.0
    out[rows] = u / u.sum(axis=1, keepdims=True)
    return out


def add_undershoot(pmf: Any, j_pmf: Any) -> np.ndarray:
    """pmf of ``D + J`` (independent), shape (n, K + Jmax - 1): demand plus undershoot [units].

    A direct convolution of each row over its own supports (compiled): the work is the product of the two
    supports, whatever the widest row of the batch.
    """
    a = _pmf2d(pmf)
    b = _pmf2d(j_pmf, "j_pmf")
    if b.shape[1] == 1:
        return a
    n, K = a.shape
    out = np.zeros((n, K + b.shape[1] - 1))
    live = b[:, 1:].any(axis=1)
    out[~live, :K] = a[~live]
    if live.any():
        _convolve_rows(np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(b, dtype=np.float64),
                       np.flatnonzero(live), out)
    return out


@numba.njit(cache=True)
def _convolve_rows(a, b, live, out):  # pragma: no cover - compiled
    """``out[i] = a[i] * b[i]`` (convolution) for the rows ``live``, over each row's nonzero supports; each output
    cell adds its terms in the order of ``b``'s index."""
    for r in range(live.size):
        i = live[r]
        ka = a.shape[1] - 1
        while ka > 0 and a[i, ka] == 0.0:
            ka -= 1
        for j in range(b.shape[1]):
            bj = b[i, j]
            if bj == 0.0:
                continue
            for k in range(ka + 1):
                out[i, j + k] += a[i, k] * bj


# ---------------------------------------------------------------------------------------------- policies
_SERVICES = ("fill_rate", "cycle")
_CELLS = 1 << 22  # table cells per chunk of series (32 MB per float table)


def width_chunks(width: np.ndarray, cells: int = _CELLS) -> Iterator[np.ndarray]:
    """Row indices in chunks of similar width whose tables hold about ``cells`` cells each (widest last)."""
    n = width.size
    order = np.argsort(width, kind="stable")
    i = 0
    while i < n:
        rows = max(1, cells // int(width[order[i]]))
        rows = max(1, min(rows, cells // int(width[order[min(i + rows, n) - 1]])))
        yield order[i:i + rows]
        i += rows


def critical_ratio(holding_cost: Any, backorder_cost: Any, review_period: int = 1) -> np.ndarray:
    """Newsvendor critical ratio ``b / (b + h R)`` of an (R, S) system [probability].

    The cost-optimal order-up-to level is the smallest ``S`` with ``P(D_{L+R} <= S) >= b / (b + h R)``: one more
    unit stocked costs ``h R`` per review cycle when it is left over and saves ``b`` when it is short (Snyder & Shen
    2019, *Fundamentals of Supply Chain Theory* 2nd ed., eq. 4.27 with underage cost ``b`` and overage cost
    ``h R``; Zipkin 2000, *Foundations of Inventory Management*, §6.2). The ratio is above 0 for every ``b > 0``:
    a part whose holding cost exceeds its shortage cost still gets the stock its demand quantile asks for. With
    ``h = 0`` it is capped at ``1 - 1e-12`` (stock to the top of the demand distribution, never an infinite level).

    Parameters
    ----------
    holding_cost : float or array-like, shape (n,)
        ``h`` [CNY per unit-period], >= 0.
    backorder_cost : float or array-like, shape (n,)
        ``b`` [CNY per unit short per review cycle], > 0.
    review_period : int, default 1
        ``R`` [periods].

    Returns
    -------
    numpy.ndarray
        ``b / (b + h R)``, in (0, 1).
    """
    h = np.asarray(holding_cost, dtype=np.float64)
    b = np.asarray(backorder_cost, dtype=np.float64)
    bad_h = np.ravel(~np.isfinite(h) | (h < 0))
    if bad_h.any():
        raise ZkValueError(f"holding_cost must be finite and >= 0 [CNY per unit-period]; got "
                           f"{float(np.ravel(h)[bad_h][0])!r}. Fix the negative or missing costs.")
    bad_b = np.ravel(~np.isfinite(b) | (b <= 0))
    if bad_b.any():
        raise ZkValueError(f"backorder_cost must be finite and > 0 [CNY per unit short]; got "
                           f"{float(np.ravel(b)[bad_b][0])!r}. Fix the costs.")
    if isinstance(review_period, bool) or not isinstance(review_period, (int, np.integer)) or review_period < 1:
        raise ZkValueError(f"review_period must be an int >= 1 [periods]; got {review_period!r}.")
    return np.minimum(b / (b + h * review_period), 1.0 - 1e-12)


def order_quantity(mean_r: Any, *, moq: Any = 1, pack_size: Any = 1, order_cost: Any = None,
                   holding_cost: Any = None) -> np.ndarray:
    """``Q = S - s`` [units]: the EOQ when costs are known (else 1), at least the MOQ, a multiple of the pack.

    ``EOQ = sqrt(2 A d / h)`` per review period (Silver, Pyke & Thomas 2017, ch. 4, eq. of the economic order
    quantity), ``A`` [CNY per order], ``d`` [units per review period], ``h`` [CNY per unit per review period].
    """
    d = np.asarray(mean_r, dtype=np.float64)
    n = d.shape[0] if d.ndim else 1
    moq_a = np.broadcast_to(np.asarray(moq, dtype=np.float64), (n,))
    pack = np.broadcast_to(np.asarray(pack_size, dtype=np.float64), (n,))
    q = np.ones(n)
    if order_cost is not None and holding_cost is not None:
        A = np.broadcast_to(np.asarray(order_cost, dtype=np.float64), (n,))
        h = np.broadcast_to(np.asarray(holding_cost, dtype=np.float64), (n,))
        with np.errstate(divide="ignore", invalid="ignore"):
            eoq = np.sqrt(2.0 * A * np.broadcast_to(d, (n,)) / h)
        q = np.where(np.isfinite(eoq) & (h > 0), np.maximum(np.rint(eoq), 1.0), 1.0)
    q = np.maximum(q, np.maximum(moq_a, 1.0))
    q = np.ceil(q / pack) * pack
    return q.astype(np.int64)


def reorder_policy(pmf_lr: Any, pmf_l: Any, pmf_r: Any, target: Any, *, service: str = "fill_rate",
                   order_quantity: Any = 1) -> dict[str, np.ndarray]:
    """The smallest (R, s, S) policy per series meeting a fill-rate or cycle-service target, exactly.

    For ``Q = S - s`` fixed per series, searches the smallest reorder point ``s >= -1`` whose service, computed on
    ``D_L + J`` and ``D_{L+R} + J`` (module notes), reaches the target. Service rises with ``s``
    (``E[(D_{L+R} - S)^+] - E[(D_L - S)^+] = sum_{j >= S} (P(D_{L+R} > j) - P(D_L > j))`` falls in ``S``), so the
    first level that meets it is the cheapest. A series without demand gets ``s = -1, S = 0`` (not stocked).

    Parameters
    ----------
    pmf_lr, pmf_l, pmf_r : array-like, shapes (n, K1), (n, K2), (n, K3)
        pmfs of demand over ``L + R``, ``L`` and ``R`` periods [units].
    target : float or array-like, shape (n,)
        Fill rate or cycle service level in (0, 1) [probability].
    service : {"fill_rate", "cycle"}, default "fill_rate"
    order_quantity : int or array-like of int, shape (n,), default 1
        ``Q = S - s`` [units] (:func:`order_quantity`); 1 gives base stock.

    Returns
    -------
    dict of numpy.ndarray, shape (n,)
        ``reorder_point`` and ``order_up_to`` [units], ``fill_rate`` and ``cycle_service`` [probability],
        ``on_hand`` (expected at the end of a cycle) [units], ``mean_r`` [units per review period].
    """
    if service not in _SERVICES:
        raise ZkValueError(f"The 'service' parameter must be one of {_SERVICES}; got {service!r} instead.")
    a, b, f = _pmf2d(pmf_lr, "pmf_lr"), _pmf2d(pmf_l, "pmf_l"), _pmf2d(pmf_r, "pmf_r")
    n = a.shape[0]
    if b.shape[0] != n or f.shape[0] != n:
        raise ZkValueError(f"pmf_lr, pmf_l and pmf_r must have the same rows; got {n}, {b.shape[0]}, {f.shape[0]}.")
    tg = np.broadcast_to(np.asarray(target, dtype=np.float64), (n,))
    if np.any(~np.isfinite(tg)) or np.any(tg <= 0) or np.any(tg >= 1):
        bad = int(np.flatnonzero(~((tg > 0) & (tg < 1)))[0])
        raise ZkValueError(f"target must lie strictly between 0 and 1 [probability]; series {bad} has {tg[bad]!r}. "
                           "Use e.g. 0.95.")
    q = _levels(order_quantity, n, "order_quantity")
    if np.any(q < 1):
        raise ZkValueError("order_quantity must be >= 1 unit; check pack sizes and MOQ.")
    mean_r = f @ np.arange(f.shape[1], dtype=np.float64)
    J = undershoot_pmf(f, q)
    A = add_undershoot(a, J)
    B = add_undershoot(b, J)
    out: dict[str, np.ndarray] = {}
    S = np.zeros(n, dtype=np.int64)
    none = mean_r <= 0
    fill, cycle, on_hand = np.empty(n), np.empty(n), np.empty(n)
    # widths per series: sort so chunks hold similar supports
    width = np.maximum(_support(A), _support(B)) + 1
    width = np.maximum(width, q)
    for idx in width_chunks(width):
        K = int(width[idx].max()) + 1
        GA = _pad(loss_table(A[idx, :K]), K)
        GB = _pad(loss_table(B[idx, :K]), K)
        mu = mean_r[idx][:, None]
        if service == "fill_rate":
            with np.errstate(divide="ignore", invalid="ignore"):
                met = 1.0 - np.maximum(GA - GB, 0.0) / np.where(mu > 0, mu, 1.0)
        else:
            met = np.minimum(np.cumsum(_pad(A[idx, :K], K), axis=1), 1.0)
        lv = np.arange(K)[None, :]
        ok = (met >= tg[idx][:, None] - 1e-12) & (lv >= q[idx][:, None] - 1)
        ok[:, -1] = True
        S[idx] = np.where(none[idx], 0, np.maximum(np.argmax(ok, axis=1), q[idx] - 1))
        # the measures at the chosen level, on the chunk's columns (K covers both supports: nothing is cut)
        a_k, b_k = A[idx, :K], B[idx, :K]
        fill[idx] = base_stock_fill_rate(a_k, b_k, mean_r[idx], S[idx])
        cycle[idx] = cycle_service_level(a_k, S[idx])
        on_hand[idx] = expected_on_hand(a_k, S[idx])
    s = np.where(none, -1, S - q)
    out["fill_rate"], out["cycle_service"], out["on_hand"] = fill, cycle, on_hand
    out["reorder_point"], out["order_up_to"], out["mean_r"] = s, S, mean_r
    return out


def mix_lead_times(pmf_of: Any, lead_time_pmf: Any, review_period: int) -> tuple[np.ndarray, np.ndarray]:
    """Demand pmfs over ``L + R`` and ``L`` periods for a random lead time ``L``: the exact mixture.

    ``P(D_{L+R} = k) = sum_l P(L = l) P(D_{l+R} = k)`` (Silver, Pyke & Thomas 2017, ch. 6, variable lead
    times; orders are assumed not to cross).

    Parameters
    ----------
    pmf_of : callable
        ``pmf_of(periods: numpy.ndarray of int, shape (n,)) -> (n, K)``: pmf of demand over that many periods
        per series (e.g. ``LeadTimeDemand.pmf``); called with periods >= 1 only.
    lead_time_pmf : array-like, shape (n, Lmax + 1)
        ``P(L = l)`` for ``l = 0..Lmax`` [probability] per series.
    review_period : int
        ``R`` [periods], >= 1.

    Returns
    -------
    (pmf_lr, pmf_l) : numpy.ndarray, shapes (n, K1), (n, K2)
    """
    w = _pmf2d(lead_time_pmf, "lead_time_pmf")
    n = w.shape[0]
    R = int(review_period)
    if R < 1:
        raise ZkValueError(f"review_period must be >= 1 period; got {review_period!r}.")
    lr_parts: list[np.ndarray] = []
    l_parts: list[np.ndarray] = []
    for lag in np.flatnonzero(w.any(axis=0)):  # loop over lead-time values, vectorised over series
        wl = w[:, lag][:, None]
        lr_parts.append(wl * pmf_of(np.full(n, lag + R)))
        l_parts.append(wl * (pmf_of(np.full(n, lag)) if lag > 0 else np.ones((n, 1))))
    return _sum_padded(lr_parts), _sum_padded(l_parts)


@numba.njit(cache=True)
def _lag_mixture(phi, w, lmax, R, out_lr, out_l, out_r):  # pragma: no cover - compiled
    """Per series and frequency: ``Σ_l w_l φ^l`` (into ``out_l``), ``φ^R`` and their product, compiled.

    ``φ`` is the transform of one period's demand; the powers are built by repeated multiplication up to each
    series' own largest lead time, only the lead times with weight are summed.
    """
    n, nf = phi.shape
    for i in range(n):
        top = lmax[i]
        for f in range(nf):
            ph = phi[i, f]
            power = 1.0 + 0.0j
            acc = w[i, 0] * power
            for lag in range(1, top + 1):
                power = power * ph
                wl = w[i, lag]
                if wl != 0.0:
                    acc = acc + wl * power
            pr = 1.0 + 0.0j
            for _ in range(R):
                pr = pr * ph
            out_l[i, f] = acc
            out_r[i, f] = pr
            out_lr[i, f] = acc * pr


def compound_mixture_pmfs(p: Any, size_pmf: Any, lead_time_pmf: Any, review_period: int, *,
                          tail: float = 1e-9, budget: int = 1 << 22, level_multipliers: Any = None,
                          level_weights: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand pmfs over ``L + R``, ``L`` and ``R`` periods of a compound Bernoulli process, ``L`` random.

    Each period has a demand with probability ``p`` whose size follows ``size_pmf``; periods are independent.
    With ``φ(ω) = 1 - p + p F(ω)`` the discrete Fourier transform of one period's demand (``F`` that of the size),
    the mixture over the lead time is a sum in the frequency domain:
    ``DFT[P(D_{L+R} = ·)] = φ^R Σ_l P(L = l) φ^l`` (Silver, Pyke & Thomas 2017, ch. 6, variable lead times; orders
    do not cross). One forward and three inverse FFTs per series, whatever the number of lead-time values: the
    same pmfs as :func:`mix_lead_times` over ``LeadTimeDemand(method="fitted").pmf``, with far less work.

    Parameters
    ----------
    p : array-like, shape (n,)
        Demand probability per period [probability per period].
    size_pmf : array-like, shape (n, S)
        pmf of a demand's size over 0..S-1 [units]; rows sum to 1.
    lead_time_pmf : array-like, shape (n, Lmax + 1)
        ``P(L = l)`` for ``l = 0..Lmax`` [probability] per series (one-hot for a fixed lead time).
    review_period : int
        ``R`` [periods], >= 1.
    tail : float, default 1e-9
        Upper-tail mass folded into the last kept bin of each pmf [probability].
    budget : int, default 2**22
        Complex cells per block of series transformed together (memory bound, 64 MB per array).
    level_multipliers, level_weights : array-like, shape (n, J), optional
        A demand level shared by all periods (periods dependent through it): each pmf is
        ``Σ_j w_j pmf(level m_j)``, the process at multiplier ``m_j`` [-] with probability ``w_j``
        [probability] (:func:`~zk_forecast.demand.distributions.scale_level`). The mixture is taken on the
        transforms (it is linear): each level adds one forward transform, the inverse transforms and the tail cut
        are done once, on the mixture. Rows with all multipliers 1, or no multipliers, give the pmfs of
        independent periods (to rounding).

    Returns
    -------
    (pmf_lr, pmf_l, pmf_r) : numpy.ndarray, shapes (n, K1), (n, K2), (n, K3)
        Rows non-negative and summing to 1 [probability]; ``pmf_l`` is ``[1, 0, ...]`` for ``L = 0``.
    """
    from zk_forecast.demand.distributions import _level_rows, _stack_rows, scale_level

    pp = np.asarray(p, dtype=np.float64).ravel()
    sz = _pmf2d(size_pmf, "size_pmf")
    w = _pmf2d(lead_time_pmf, "lead_time_pmf")
    n = pp.size
    if sz.shape[0] != n or w.shape[0] != n:
        raise ZkValueError(f"p, size_pmf and lead_time_pmf need one row per series; got {n}, {sz.shape[0]} and "
                           f"{w.shape[0]} rows.")
    if np.any((pp < 0) | (pp > 1)):
        raise ZkValueError("p must lie in [0, 1] [probability per period].")
    R = int(review_period)
    if R < 1:
        raise ZkValueError(f"review_period must be >= 1 period; got {review_period!r}.")
    if level_multipliers is None and level_weights is None:
        return _spectral_pmfs([(pp, sz)], None, w, R, tail, budget)
    if level_multipliers is None or level_weights is None:
        raise ZkValueError("give both level_multipliers and level_weights (shape (n_series, n_nodes)), or neither.")
    m, lw, mixed, plain = _level_rows(level_multipliers, level_weights, n)
    # the mixture over the level is linear in the pmf, so it is taken on the spectra: one set of inverse
    # transforms per series whatever the number of levels, and the tail cut once, on the mixture
    parts: list[tuple[np.ndarray, tuple[np.ndarray, ...]]] = []
    if plain.size or not mixed.size:
        parts.append((plain, _spectral_pmfs([(pp[plain], sz[plain])], None, w[plain], R, tail, budget)))
    if mixed.size:
        nodes = [scale_level(pp[mixed], sz[mixed], m[mixed, j]) for j in range(m.shape[1])]
        parts.append((mixed, _spectral_pmfs(nodes, lw[mixed], w[mixed], R, tail, budget)))
    a, b, c = _stack_rows(parts, n)
    return a, b, c


def _spectral_pmfs(nodes: list[tuple[np.ndarray, np.ndarray]], node_weights: np.ndarray | None, w: np.ndarray,
                   R: int, tail: float, budget: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three pmfs of :func:`compound_mixture_pmfs` for ``Σ_j node_weights[:, j] x`` the process of node ``j``
    (``(p_j, size_pmf_j)``; one node with ``node_weights`` None: that process itself), in blocks of rows of
    similar support, each block transformed at one length that holds every node's support."""
    from scipy import fft as sfft

    from zk_forecast.demand.distributions import _stack_rows, truncate_tail

    n = w.shape[0]
    sup_j = [_support(szj) for _, szj in nodes]
    smax = np.maximum.reduce(sup_j) if len(sup_j) > 1 else sup_j[0]
    lmax = _support(w)
    full = (lmax + R) * smax + 1  # exact support of D over L + R (no wrap-around in the FFT)
    order = np.argsort(full, kind="stable")
    pieces: list[tuple[np.ndarray, tuple[np.ndarray, ...]]] = []
    i = 0
    while i < n:
        step = max(1, budget // int(sfft.next_fast_len(int(full[order[i]]), real=True)))
        step = max(1, min(step, budget // int(sfft.next_fast_len(int(full[order[min(i + step, n) - 1]]),
                                                                  real=True))))
        idx = order[i:i + step]
        i += step
        k = int(full[idx].max())
        nfft = int(sfft.next_fast_len(k, real=True))
        wl = np.ascontiguousarray(w[idx])
        li = lmax[idx].astype(np.int64)
        acc: list[np.ndarray] = []
        for j, (pj, szj) in enumerate(nodes):
            width = min(int(sup_j[j][idx].max()) + 1, szj.shape[1])
            phi = (1.0 - pj[idx])[:, None] + pj[idx][:, None] * sfft.rfft(szj[idx, :width], n=nfft, axis=1)
            spec_lr, mix, phi_r = np.empty_like(phi), np.empty_like(phi), np.empty_like(phi)
            _lag_mixture(np.ascontiguousarray(phi), wl, li, R, spec_lr, mix, phi_r)
            if node_weights is None:
                acc = [spec_lr, mix, phi_r]
                continue
            nw = node_weights[idx, j][:, None]
            if j == 0:
                acc = [nw * spec_lr, nw * mix, nw * phi_r]
            else:
                for spec, term in zip(acc, (spec_lr, mix, phi_r)):
                    spec += nw * term
        grid = np.arange(k)[None, :]
        outs = []
        for spec, sup in zip(acc, (full[idx], lmax[idx] * smax[idx] + 1, R * smax[idx] + 1)):
            dense = sfft.irfft(spec, n=nfft, axis=1)[:, :k]
            dense[grid >= sup[:, None]] = 0.0  # structural zeros: rounding noise only
            outs.append(truncate_tail(dense, tail))
        pieces.append((idx, tuple(outs)))
    a, b, c = _stack_rows(pieces, n, 3)
    return a, b, c


def _sum_padded(parts: list[np.ndarray]) -> np.ndarray:
    K = max(p.shape[1] for p in parts)
    out = np.zeros((parts[0].shape[0], K))
    for p in parts:
        out[:, : p.shape[1]] += p
    return out


def _support(a: np.ndarray) -> np.ndarray:
    nz = a > 0
    return np.where(nz.any(axis=1), a.shape[1] - 1 - np.argmax(nz[:, ::-1], axis=1), 0)


def _pad(t: np.ndarray, K: int) -> np.ndarray:
    if t.shape[1] >= K:
        return t[:, :K]
    return np.pad(t, ((0, 0), (0, K - t.shape[1])))
