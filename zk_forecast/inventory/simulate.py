"""Replay (R, s, S) policies against actual demand, for many part × depot series at once.

Semantics (used by every evaluation in zk_forecast; periods are numbered t = 0, 1, ..., T-1)
----------------------------------------------------------------------------------------------
Each period, in this order:

1. **receive** every order that arrives in period ``t``;
2. **serve outstanding backorders** from on hand, oldest demand first (as much as on hand allows);
3. **serve the period's demand** from what is left; what cannot be served is **backordered**. Only demand served
   in step 3 counts as served "from stock at once" (the fill rate);
4. **review** (in periods ``t`` with ``t % R == R - 1``): the inventory position is
   ``on hand + on order - backorders``; if it is ``<= s``, order ``S - position``, raised to the minimum order
   quantity and then rounded up to a multiple of the pack size. An order placed in period ``t`` is available
   from period ``t + L + 1`` (so ``L = 0`` means "next period").

The simulation starts with ``initial_on_hand`` (default ``S``) on hand, nothing on order and no backorders.
Starting at ``S`` with an empty pipeline is not the steady state: for the first ``L + 1`` periods the whole
position sits on the shelf (the on-hand value is inflated by about the pipeline stock) and no receipt can come
before period ``L + 1``. ``warmup = W`` replays the first ``W`` periods with the same rules (orders are placed,
arrive and are served) but leaves them out of every measure: the measures cover periods ``W..T-1`` only. A fair
evaluation replays a warm-up of at least ``L + 1`` periods of demand that precede the evaluation window (e.g. the
last weeks of the fitting history).

Order timing depends only on the position relative to ``S``: started at position ``S``, the position minus ``S``
follows the demand and the lot size ``S - s`` (with pack and MOQ) alone, so two policies with the same ``S - s``
place the same orders in the same periods whatever their levels; only on hand and backorders differ.

Measures
--------
fill rate
    Demand served at once (step 3) / demand [probability]; per series and in total (units-weighted). Backorders
    carried into the measured window from the warm-up are served in step 2 and count neither as demand nor as
    served.
cycle service
    Share of cycle-end periods that end without backorders [probability]. The cycle of the order placed at the
    review of period ``t`` ends in period ``t + L + R`` (the last period before the next order can arrive); with
    ``R = 1`` every period is a cycle end.
on time
    With ``promise_periods = τ``: share of the demand delivered within ``τ`` periods of the period it arose in
    [probability], backorders served first come, first served (a unit of period ``t`` is on time when the units
    delivered by the end of period ``t + τ`` cover it; units whose deadline lies past the end are measured against
    what was delivered by the end). ``τ = 0`` is the fill rate.
on hand
    Average over periods of the on hand at the end of the period (after step 3) [units]; times ``unit_cost`` the
    average on-hand value [CNY].
orders
    Number of orders placed; units ordered.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.errors import ZkValueError

__all__ = ["SimulationResult", "simulate", "simulate_policy"]


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of :func:`simulate_policy`.

    Attributes
    ----------
    items : pandas.DataFrame
        One row per series: ``demand`` and ``served`` [units], ``fill_rate`` and ``cycle_service``
        [probability] (NaN without demand / without cycle ends), ``avg_on_hand`` [units], ``avg_on_hand_value``
        [CNY], ``orders`` [count], ``units_ordered`` [units], ``end_backorders`` [units].
    total : dict
        ``fill_rate`` (units-weighted), ``mean_item_fill_rate`` (over series with demand), ``cycle_service``,
        ``avg_on_hand`` [units], ``avg_on_hand_value`` [CNY], ``orders``.
    on_hand : numpy.ndarray, shape (n, T)
        On hand at the end of each period [units].
    backorders : numpy.ndarray, shape (n, T)
        Backorders at the end of each period [units].
    """

    items: pd.DataFrame
    total: dict[str, float]
    on_hand: np.ndarray
    backorders: np.ndarray

    def __repr__(self) -> str:
        t = self.total
        return (f"SimulationResult({len(self.items)} series: fill rate {t['fill_rate']:.4f}, cycle service "
                f"{t['cycle_service']:.4f}, avg on-hand value {t['avg_on_hand_value']:.2f} CNY, "
                f"{int(t['orders'])} orders)")

    def _repr_html_(self) -> str:
        return f"<div><p><b>{html.escape(repr(self))}</b></p>{self.items.head(20).to_html()}</div>"


def _vec(x: Any, n: int, name: str, *, integer: bool = False, minimum: float | None = None) -> np.ndarray:
    a = np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()
    if np.any(~np.isfinite(a)):
        raise ZkValueError(f"{name} must be finite; series {int(np.flatnonzero(~np.isfinite(a))[0])} is not.")
    if integer and np.any(a != np.rint(a)):
        i = int(np.flatnonzero(a != np.rint(a))[0])
        raise ZkValueError(f"{name} must be whole numbers; series {i} has {a[i]!r}. Round it.")
    if minimum is not None and np.any(a < minimum):
        i = int(np.flatnonzero(a < minimum)[0])
        raise ZkValueError(f"{name} must be >= {minimum:g}; series {i} has {a[i]!r}.")
    return a


def simulate_policy(
    demand: Any,
    reorder_point: Any,
    order_up_to: Any,
    lead_time: Any,
    *,
    review_period: int = 1,
    pack_size: Any = 1,
    moq: Any = 0,
    unit_cost: Any = 0.0,
    initial_on_hand: Any = None,
    index: Any = None,
    warmup: int = 0,
    promise_periods: Any = None,
) -> SimulationResult:
    """Simulate (R, s, S) policies period by period (vectorised over series; semantics in the module notes).

    Parameters
    ----------
    demand : array-like, shape (n, T)
        Demand per period [units]; NaN counts as 0. Fractional demand is allowed.
    reorder_point, order_up_to : array-like, shape (n,)
        ``s`` and ``S`` [units], ``S > s``.
    lead_time : int or array-like of int, shape (n,)
        ``L`` [periods], >= 0: an order placed in period ``t`` is available from ``t + L + 1``.
    review_period : int, default 1
        ``R`` [periods]: reviews in periods with ``t % R == R - 1``.
    pack_size : float or array-like, default 1
        Orders are multiples of it [units], > 0.
    moq : float or array-like, default 0
        Minimum order quantity [units], >= 0.
    unit_cost : float or array-like, default 0
        [CNY per unit], for the on-hand value.
    initial_on_hand : array-like, shape (n,), optional
        On hand in period 0 before anything else [units]; default ``S``.
    index : sequence, optional
        Labels of the series for ``items`` (e.g. ``unique_id``).
    warmup : int, default 0
        Periods ``0..warmup-1`` are replayed but not measured (module notes) [periods], ``0 <= warmup < T``.
        ``on_hand`` and ``backorders`` of the result still cover all ``T`` periods.
    promise_periods : int or array-like of int, shape (n,), optional
        Delivery promise ``τ`` [periods], >= 0: adds the on-time share (module notes) as ``on_time`` per series
        and in total.

    Returns
    -------
    SimulationResult
    """
    d = np.nan_to_num(np.asarray(demand, dtype=np.float64), nan=0.0)
    if d.ndim != 2:
        raise ZkValueError(f"demand must have shape (n_series, n_periods); got {d.shape}.")
    if np.any(d < 0):
        raise ZkValueError("demand must be >= 0 [units]; net returns out before simulating.")
    n, T = d.shape
    s = _vec(reorder_point, n, "reorder_point")
    S = _vec(order_up_to, n, "order_up_to")
    if np.any(S <= s):
        i = int(np.flatnonzero(S <= s)[0])
        raise ZkValueError(f"order_up_to must exceed reorder_point; series {i} has s={s[i]!r}, S={S[i]!r}.")
    L = _vec(lead_time, n, "lead_time", integer=True, minimum=0).astype(np.int64)
    R = int(review_period)
    if R < 1:
        raise ZkValueError(f"review_period must be >= 1 period; got {review_period!r}.")
    pack = _vec(pack_size, n, "pack_size")
    if np.any(pack <= 0):
        i = int(np.flatnonzero(pack <= 0)[0])
        raise ZkValueError(f"pack_size must be > 0 units; series {i} has {pack[i]!r}. Use 1 for single units.")
    mq = _vec(moq, n, "moq", minimum=0)
    cost = _vec(unit_cost, n, "unit_cost", minimum=0)
    if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or not 0 <= warmup < max(T, 1):
        raise ZkValueError(f"warmup must be an int with 0 <= warmup < n_periods ({T}); got {warmup!r}.")
    W = int(warmup)
    oh = S.copy() if initial_on_hand is None else _vec(initial_on_hand, n, "initial_on_hand", minimum=0)

    pipe = np.zeros((n, T + int(L.max(initial=0)) + 2))
    rows = np.arange(n)
    on_order = np.zeros(n)
    bo = np.zeros(n)
    served = np.zeros(n)
    orders = np.zeros(n, dtype=np.int64)
    units = np.zeros(n)
    OH = np.zeros((n, T))
    BO = np.zeros((n, T))
    delivered = np.zeros((n, T))  # units handed over in each period (at once or from backorders)
    for t in range(T):  # loop over periods, vectorised over series
        arrive = pipe[:, t]
        oh += arrive                                   # 1. receive
        on_order -= arrive
        x = np.minimum(oh, bo)                         # 2. serve backorders
        oh -= x
        bo -= x
        delivered[:, t] = x
        now = np.minimum(oh, d[:, t])                  # 3. serve demand, backorder the rest
        oh -= now
        delivered[:, t] += now
        bo += d[:, t] - now
        if t >= W:
            served += now
        if t % R == R - 1:                             # 4. review
            pos = oh + on_order - bo
            need = pos <= s + 1e-9
            q = np.where(need, np.ceil(np.maximum(S - pos, mq) / pack - 1e-9) * pack, 0.0)
            on_order += q
            pipe[rows, t + L + 1] += q
            if t >= W:
                orders += need
                units += q
        OH[:, t] = oh
        BO[:, t] = bo
    # cycle ends: review at t0 = kR + R - 1, its cycle ends at t0 + L + R
    tt = np.arange(T)[None, :]
    t0 = tt - L[:, None] - R
    ends = (t0 >= 0) & (t0 % R == R - 1) & (tt >= W)
    no_bo = (BO <= 1e-9) & ends
    n_end = ends.sum(axis=1)
    dem = d[:, W:].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fr = np.where(dem > 0, served / dem, np.nan)
        csl = np.where(n_end > 0, no_bo.sum(axis=1) / n_end, np.nan)
    avg_oh = OH[:, W:].mean(axis=1) if T else np.zeros(n)
    on_time = None
    if promise_periods is not None:
        tau = _vec(promise_periods, n, "promise_periods", integer=True, minimum=0).astype(np.int64)
        # FIFO: the units of period t are on time as far as cumulative deliveries by t + tau cover them; the
        # backlog carried in from before period 0 is served first
        cum_d = np.cumsum(d, axis=1)
        cum_v = np.cumsum(delivered, axis=1)
        before = np.concatenate([np.zeros((n, 1)), cum_d[:, :-1]], axis=1)
        due = np.minimum(np.arange(T)[None, :] + tau[:, None], T - 1)
        by_due = np.take_along_axis(cum_v, due, axis=1)
        ok = np.clip(by_due - before, 0.0, d)
        on_time = ok[:, W:].sum(axis=1)
    items = pd.DataFrame({
        "demand": dem, "served": served, "fill_rate": fr, "cycle_service": csl, "avg_on_hand": avg_oh,
        "avg_on_hand_value": avg_oh * cost, "orders": orders, "units_ordered": units, "end_backorders": bo,
    }, index=pd.Index(index if index is not None else np.arange(n), name="unique_id"))
    if on_time is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            items["on_time"] = np.where(dem > 0, on_time / dem, np.nan)
    total = {
        "fill_rate": float(served.sum() / dem.sum()) if dem.sum() > 0 else float("nan"),
        "mean_item_fill_rate": float(np.nanmean(fr)) if np.any(dem > 0) else float("nan"),
        "cycle_service": float(no_bo.sum() / n_end.sum()) if n_end.sum() > 0 else float("nan"),
        "avg_on_hand": float(avg_oh.sum()),
        "avg_on_hand_value": float((avg_oh * cost).sum()),
        "orders": float(orders.sum()),
    }
    if on_time is not None:
        total["on_time"] = float(on_time.sum() / dem.sum()) if dem.sum() > 0 else float("nan")
    return SimulationResult(items=items, total=total, on_hand=OH, backorders=BO)


def simulate(policies: pd.DataFrame, demand: pd.DataFrame, *, review_period: int = 1,
             warmup: int = 0, promise_periods: Any = None) -> SimulationResult:
    """Replay the output of :func:`zk_forecast.inventory.plan.plan` against demand in wide form.

    Parameters
    ----------
    policies : pandas.DataFrame
        Indexed by ``unique_id`` with ``reorder_point``, ``order_up_to``, ``lead_time`` and optionally
        ``pack_size``, ``moq``, ``unit_cost``.
    demand : pandas.DataFrame
        Wide: index ``unique_id`` (a subset of the policies' index is not allowed: every series needs a policy),
        one column per period [units].
    review_period : int, default 1
        ``R`` [periods].
    warmup : int, default 0
        Leading periods replayed but not measured [periods] (:func:`simulate_policy`).
    promise_periods : int, array-like or str, optional
        Delivery promise [periods] for the on-time share; a column name of ``policies`` takes it per series.
    """
    missing = demand.index.difference(policies.index)
    if len(missing):
        raise ZkValueError(f"demand has series without a policy, e.g. {missing[0]!r}; plan them first.")
    p = policies.loc[demand.index]

    def col(name: str, default: float) -> Any:
        return p[name].fillna(default).to_numpy(dtype=np.float64) if name in p.columns else default

    return simulate_policy(demand.to_numpy(dtype=np.float64), p["reorder_point"].to_numpy(),
                           p["order_up_to"].to_numpy(), p["lead_time"].to_numpy(), review_period=review_period,
                           pack_size=col("pack_size", 1.0), moq=col("moq", 0.0), unit_cost=col("unit_cost", 0.0),
                           index=demand.index, warmup=warmup,
                           promise_periods=p[promise_periods].to_numpy() if isinstance(promise_periods, str)
                           else promise_periods)
