"""Budget curve: how much stock investment buys how much service, across all parts and depots.

Marginal analysis (Sherbrooke 2004, *Optimal Inventory Modeling of Systems: Multi-Echelon Techniques*, 2nd ed.,
ch. 2-3, the METRIC greedy): start every series at its lowest stock level; each next unit goes to the series where
it removes the most expected backorders per yuan, ``Δ_i(S) / c_i`` with ``Δ_i(S) = EBO_i(S) - EBO_i(S + 1)``.

Backorders here are ``EBO_i(S) = E[(D_i - S)^+]`` [units] over the pmf given per series — the lead-time(+review)
demand (Sherbrooke's pipeline) — from :func:`zk_forecast.inventory.policy.expected_backorders`.

Why a sort is the greedy (vectorised; no loop over units)
---------------------------------------------------------
``Δ_i(S) = P(D_i > S)`` is non-increasing in ``S`` for *any* demand pmf, so every ``EBO_i`` is convex in ``S``
and each series' increments arrive in decreasing ratio order. The greedy then takes the increments of all series
in decreasing order of ``Δ / c``: one global sort of the (series × level) ratio table (ties: lower level first,
then series order) replaces the unit-by-unit loop, and keeps each series' levels in order. The code checks the
convexity numerically (increments may not rise by more than 1e-9, rounding noise) and clips the noise away with a
running minimum. As in Sherbrooke, the curve's points are the undominated allocations the greedy passes through;
:meth:`BudgetCurve.allocation` returns the last point that fits the budget (between two points the exact knapsack
optimum may spend a little more of the budget).

Fill rate
---------
Per series, :func:`zk_forecast.inventory.policy.base_stock_fill_rate` of an order-up-to ``S`` policy with the
lead-time-plus-review pmf ``pmf`` and the lead-time pmf ``pmf_l``, ``mean_r`` the expected demand per review period
[units]. Without ``pmf_l`` the window is read as one review period with no lead time (``pmf_l`` a point mass at 0,
``mean_r`` the pmf's mean): fill rate ``1 - EBO(S) / E[D]``. System-wide fill rate = demand-weighted mean,
``Σ mean_r_i FR_i / Σ mean_r_i``. It never falls when a unit is added (the shortage ``EBO_LR - EBO_L`` falls with
``S``), so more budget never lowers it.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.policy import base_stock_fill_rate, expected_backorders

__all__ = ["BudgetCurve", "budget_curve"]

_CONVEX_TOL = 1e-9
_MIN_GAIN = 1e-12  # [units]: a unit removing fewer backorders than this (pmf tail noise) is never bought


class BudgetCurve:
    """Investment against expected fill rate and backorders, from marginal analysis (module notes).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per point of the curve, from the starting levels (row 0) to every series at its largest level:
        ``investment`` [CNY], ``fill_rate`` [-] (demand-weighted), ``backorders`` [units] (expected, summed),
        ``unique_id`` (the series that got the unit; None on row 0), ``level`` (its new stock level) [units],
        ``ratio`` (backorders removed per yuan) [units/CNY].
    ids : pandas.Index
        Series ids.
    s_min : numpy.ndarray of int
        Starting stock level per series [units].
    """

    def __init__(self, frame: pd.DataFrame, ids: pd.Index, s_min: np.ndarray, step_series: np.ndarray,
                 step_levels: np.ndarray | None = None, not_stocked: np.ndarray | None = None) -> None:
        self.frame = frame
        self.ids = ids
        self.s_min = s_min
        self._step_series = step_series  # series position of each step (row j + 1 of frame)
        self._step_levels = step_levels  # levels each step adds (hull steps may add several); None: one
        self._not_stocked = not_stocked  # series without demand: level 0 whatever the curve

    def __repr__(self) -> str:
        f = self.frame
        return (f"BudgetCurve({len(self.ids)} series, {len(f) - 1} steps, investment "
                f"{f['investment'].iloc[0]:,.0f}..{f['investment'].iloc[-1]:,.0f} CNY, fill rate "
                f"{f['fill_rate'].iloc[0]:.1%}..{f['fill_rate'].iloc[-1]:.1%})")

    def _point(self, budget: float) -> int:
        b = float(budget)
        if not np.isfinite(b):
            raise ZkValueError(f"The budget must be a finite amount [CNY]; got {budget!r}.")
        inv = self.frame["investment"].to_numpy()
        if b < inv[0] - 1e-9:
            raise ZkValueError(f"The budget {b:,.2f} CNY is below the starting investment {inv[0]:,.2f} CNY "
                               "(the minimum levels); raise it or lower s_min / 预算低于起始库存投资。")
        return int(np.searchsorted(inv, b + 1e-9, side="right") - 1)

    def allocation(self, budget: float) -> pd.Series:
        """Stock level per series [units] of the best curve point costing at most ``budget`` [CNY]."""
        j = self._point(budget)
        w = None if self._step_levels is None else self._step_levels[:j]
        add = np.bincount(self._step_series[:j], weights=w, minlength=len(self.ids)).astype(np.int64)
        level = self.s_min + add
        if self._not_stocked is not None:
            level = np.where(self._not_stocked, 0, level)
        return pd.Series(level, index=self.ids, name="stock_level")

    def least_investment(self, target: float) -> float:
        """Least investment [CNY] on the curve whose fill rate reaches ``target`` (in (0, 1])."""
        t = float(target)
        if not (0 < t <= 1):
            raise ZkValueError(f"The target fill rate must lie in (0, 1]; got {target!r}. Use e.g. 0.95.")
        fr = self.frame["fill_rate"].to_numpy()
        ok = np.flatnonzero(fr >= t - 1e-12)
        if ok.size == 0:
            raise ZkValueError(f"A fill rate of {t:.2%} is not reachable: the curve ends at {fr[-1]:.2%} with every "
                               "series at its largest level; raise s_max or lower the target / 目标满足率无法达到。")
        return float(self.frame["investment"].iloc[ok[0]])

    def summary(self, targets: Any = (0.8, 0.9, 0.95, 0.98, 0.99)) -> pd.DataFrame:
        """Least investment [CNY] and expected backorders [units] for some fill-rate targets (NaN: unreachable)."""
        fr = self.frame["fill_rate"].to_numpy()
        rows = []
        for t in np.atleast_1d(np.asarray(targets, dtype=float)):
            ok = np.flatnonzero(fr >= t - 1e-12)
            j = ok[0] if ok.size else None
            rows.append({"target": t,
                         "investment": self.frame["investment"].iloc[j] if j is not None else np.nan,
                         "fill_rate": fr[j] if j is not None else np.nan,
                         "backorders": self.frame["backorders"].iloc[j] if j is not None else np.nan})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        body = self.summary().to_html(index=False, float_format=lambda v: f"{v:,.3f}")
        return (f"<div><p><b>{html.escape(repr(self))}</b></p><p>预算曲线 least investment per fill-rate target "
                f"[CNY]</p>{body}</div>")

    def plot(self, ax: Any = None, *, backorders: bool = False) -> Any:
        """Draw fill rate (and optionally expected backorders) against investment; returns the axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        f = self.frame
        ax.step(f["investment"], f["fill_rate"], where="post", label="fill rate / 满足率")
        ax.set_xlabel("investment [CNY] / 库存投资 (元)")
        ax.set_ylabel("expected fill rate / 期望满足率")
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
        if backorders:
            ax2 = ax.twinx()
            ax2.step(f["investment"], f["backorders"], where="post", color="tab:red",
                     label="backorders / 期望欠件")
            ax2.set_ylabel("expected backorders [units] / 期望欠件数")
        return ax


def _as_pmf(pmf: Any, name: str) -> np.ndarray:
    a = np.asarray(pmf, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] == 0 or np.any(~np.isfinite(a)) or np.any(a < -1e-12):
        raise ZkValueError(f"{name} must be an (n_series, K) array of probabilities over 0..K-1 units; got shape "
                           f"{np.shape(pmf)}.")
    if np.any(np.abs(a.sum(axis=1) - 1) > 1e-6):
        raise ZkValueError(f"Each row of {name} must sum to 1; row {int(np.argmax(np.abs(a.sum(1) - 1)))} does not.")
    return a


def budget_curve(
    pmf: Any,
    unit_cost: Any = None,
    *,
    pmf_l: Any = None,
    mean_r: Any = None,
    ids: Any = None,
    s_min: Any = 0,
    s_max: Any = None,
    **plan_settings: Any,
) -> BudgetCurve:
    """Marginal analysis across series: the investment / fill-rate / backorders curve (module notes).

    Two ways to call it:

    ``budget_curve(history, items, review_period=1, ...)``
        The planner's curve, on the engine of ``plan(objective="system")``: ``history`` and ``items`` as
        :func:`~zk_forecast.inventory.plan.plan` takes them (the keyword settings too: ``review_period``,
        ``service``, ``half_life``, ``receipts``, ...). Every point *is* a system plan of all items as one group:
        ``plan(history, items, fill_rate=point.fill_rate, objective="system")`` gives the levels of
        ``curve.allocation(point.investment)``. ``investment`` is the expected on-hand value [CNY], ``fill_rate``
        the demand-weighted expected fill rate (or on-time share), ``backorders`` the expected units short per
        review period [units], ``level`` the order-up-to level ``S`` the step reaches. Items without a demand
        estimate (no history, no prior) are left out.
    ``budget_curve(pmf, unit_cost, pmf_l=..., ...)``
        Base-stock levels over given pmfs, backorders ``E[(D - S)^+]`` per yuan of ``S x unit_cost`` (the
        arguments below).

    Parameters
    ----------
    pmf : array-like, shape (n_series, K)
        pmf of demand over lead time plus review ``L + R`` [units] per series (part × depot), e.g.
        ``LeadTimeDemand().fit(panel).pmf(L + R)``.
    unit_cost : float or array-like, shape (n_series,)
        Cost of one unit [CNY], >= 0 (a zero-cost unit is bought first).
    pmf_l : array-like, shape (n_series, K2), optional
        pmf of demand over the lead time ``L`` [units]; default a point mass at 0 (module notes).
    mean_r : float or array-like, shape (n_series,), optional
        Expected demand per review period [units]; the fill-rate weights. Default the mean of ``pmf``.
    ids : array-like, optional
        Series ids (e.g. ``"PART|DEPOT"``); default 0..n-1.
    s_min : int or array-like of int, default 0
        Starting (least) stock level per series [units], e.g. the current stock.
    s_max : int or array-like of int, optional
        Largest level considered [units]; default the top of each pmf's support (beyond it a unit removes no
        backorder).

    Returns
    -------
    BudgetCurve

    Examples
    --------
    >>> c = budget_curve([[0.5, 0.3, 0.2], [0.6, 0.4, 0.0]], [100.0, 50.0], ids=["A", "B"])
    >>> c.frame["investment"].tolist()
    [0.0, 50.0, 150.0, 250.0]
    >>> c.allocation(120).to_dict()
    {'A': 0, 'B': 1}
    """
    if isinstance(unit_cost, pd.DataFrame):
        return _system_curve(pmf, unit_cost, **plan_settings)
    if plan_settings:
        raise ZkValueError(f"budget_curve(pmf, unit_cost) takes no plan settings; got {sorted(plan_settings)}. "
                           "Pass history and items to use them.")
    if unit_cost is None:
        raise ZkValueError("budget_curve needs unit_cost [CNY] per series, or (history, items).")
    a = _as_pmf(pmf, "pmf")
    n, K = a.shape
    cost = np.broadcast_to(np.asarray(unit_cost, dtype=np.float64), (n,)).copy()
    if np.any(~np.isfinite(cost)) or np.any(cost < 0):
        bad = int(np.flatnonzero(~np.isfinite(cost) | (cost < 0))[0])
        raise ZkValueError(f"unit_cost must be finite and >= 0 [CNY]; series {bad} has {cost[bad]!r}. "
                           "Fix the parts master (参考成本).")
    b = np.ones((n, 1)) if pmf_l is None else _as_pmf(pmf_l, "pmf_l")
    if b.shape[0] != n:
        raise ZkValueError(f"pmf_l has {b.shape[0]} rows but pmf has {n}; give one row per series.")
    mean = a @ np.arange(K, dtype=np.float64)
    mu = mean if mean_r is None else np.broadcast_to(np.asarray(mean_r, dtype=np.float64), (n,)).copy()
    if np.any(~np.isfinite(mu)) or np.any(mu < 0):
        raise ZkValueError("mean_r must be finite and >= 0 [units per review period].")
    lo = np.broadcast_to(np.asarray(s_min), (n,)).astype(np.int64)
    hi = (np.full(n, K - 1, dtype=np.int64) if s_max is None
          else np.broadcast_to(np.asarray(s_max), (n,)).astype(np.int64))
    if np.any(lo < 0) or np.any(hi < lo):
        raise ZkValueError("Stock levels need 0 <= s_min <= s_max [units] for every series.")
    index = pd.Index(np.arange(n) if ids is None else np.asarray(ids, dtype=object), name="unique_id")
    if len(index) != n:
        raise ZkValueError(f"ids has {len(index)} entries for {n} series; give one id per series.")

    # level tables (loop over levels, vectorised over series): EBO and fill rate at S = lo + j, j = 0..W
    W = int((hi - lo).max(initial=0))
    ebo = np.empty((n, W + 1))
    fill = np.empty((n, W + 1))
    for j in range(W + 1):
        S = np.minimum(lo + j, hi)
        ebo[:, j] = expected_backorders(a, S)
        fill[:, j] = base_stock_fill_rate(a, b, mu, S)
    delta = ebo[:, :-1] - ebo[:, 1:]  # backorders removed by the (j+1)-th unit above lo
    rises = np.diff(delta, axis=1) > _CONVEX_TOL
    if rises.any():
        r = int(np.flatnonzero(rises.any(axis=1))[0])
        raise ZkValueError(f"The backorder curve of series {index[r]!r} is not convex; its pmf is not a valid "
                           "demand distribution (check for negative probabilities).")
    delta = np.minimum.accumulate(np.maximum(delta, 0.0), axis=1)  # rounding noise only
    dfill = np.diff(fill, axis=1)
    valid = (np.arange(W)[None, :] < (hi - lo)[:, None]) & (delta > _MIN_GAIN)
    rr, jj = np.nonzero(valid)
    gain = delta[rr, jj]
    c = cost[rr]
    with np.errstate(divide="ignore"):
        ratio = np.where(c > 0, gain / np.where(c > 0, c, 1.0), np.inf)
    order = np.lexsort((rr, jj, -ratio))  # ratio descending, then lower level, then series
    rr, jj, c, gain, ratio = rr[order], jj[order], c[order], gain[order], ratio[order]
    wsum = mu.sum()
    w = mu / wsum if wsum > 0 else np.full(n, 1.0 / max(n, 1))
    inv0 = float(cost @ lo)
    fr0 = float(w @ fill[:, 0])
    frame = pd.DataFrame({
        "investment": np.r_[inv0, inv0 + np.cumsum(c)],
        "fill_rate": np.minimum(np.r_[fr0, fr0 + np.cumsum(w[rr] * dfill[rr, jj])], 1.0),
        "backorders": np.maximum(np.r_[ebo[:, 0].sum(), ebo[:, 0].sum() - np.cumsum(gain)], 0.0),
        "unique_id": np.r_[np.array([None], dtype=object), index.to_numpy()[rr]],
        "level": pd.array(np.r_[-1, lo[rr] + jj + 1], dtype="Int64"),
        "ratio": np.r_[np.nan, ratio],
    })
    frame["fill_rate"] = np.maximum.accumulate(frame["fill_rate"].to_numpy())  # summation noise only
    return BudgetCurve(frame, index, lo, rr.astype(np.int64))


def _system_curve(history: Any, items: pd.DataFrame, **settings: Any) -> BudgetCurve:
    """The budget curve of ``plan(objective="system")`` with all items as one group (see :func:`budget_curve`)."""
    from zk_forecast.inventory.plan import system_tables
    from zk_forecast.inventory.system import curve

    ids, _, cost, _, tab = system_tables(history, items, **settings)
    off, w = curve(tab, cost)
    fr0, _, oh0 = tab.at(tab.s_lo)
    none = tab.mean_r <= 0
    inv0 = float(cost @ np.where(none, 0.0, oh0))
    base = float(w @ fr0)
    dem = float(tab.mean_r.sum())
    fill = np.minimum(np.maximum.accumulate(np.r_[base, base + np.cumsum(off.gain)]), 1.0)
    level = np.empty(off.series.size, dtype=np.int64)
    # the level each step reaches: running count per series (steps of a series arrive in order)
    for_series = off.series
    cum = np.zeros(off.series.size, dtype=np.int64)
    if off.series.size:
        order = np.argsort(for_series, kind="stable")
        lens = off.length[order]
        cs = np.cumsum(lens)
        starts = np.r_[0, np.flatnonzero(np.diff(for_series[order])) + 1]
        first_of = np.repeat(starts, np.diff(np.r_[starts, order.size]))
        cum[order] = cs - np.r_[0, cs][first_of]
        level = tab.s_lo[for_series] + cum
    frame = pd.DataFrame({
        "investment": np.r_[inv0, inv0 + np.cumsum(off.cost)],
        "fill_rate": fill,
        "backorders": dem * (1.0 - fill),
        "unique_id": np.r_[np.array([None], dtype=object), ids.to_numpy()[off.series]],
        "level": pd.array(np.r_[-1, level], dtype="Int64"),
        "ratio": np.r_[np.nan, np.where(off.cost > 0, off.gain / np.where(off.cost > 0, off.cost, 1.0), np.inf)],
    })
    return BudgetCurve(frame, ids, tab.s_lo.copy(), off.series.astype(np.int64), off.length.astype(np.int64), none)
