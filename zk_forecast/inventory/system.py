"""System targets: the least stock investment that meets each group's promised service (marginal analysis).

A dealer promises service per depot and per class of part, not per part. The cheapest stock that keeps a group's
promise puts each next unit where it buys the most service per yuan (Sherbrooke 2004, *Optimal Inventory Modeling
of Systems*, 2nd ed., ch. 2, marginal analysis; Zipkin 2000, *Foundations of Inventory Management*, §6.5 on
system-level service). This module does that exactly on the discrete distributions of
:mod:`zk_forecast.inventory.policy`, for many series at once.

Model
-----
Every series ``i`` keeps its (R, s, S) policy with a fixed lot ``Q_i = S_i - s_i`` (pack size, MOQ, EOQ); only the
level ``S_i`` is chosen. At level ``S`` the series has an expected fill rate ``FR_i(S)``
(:func:`~zk_forecast.inventory.policy.base_stock_fill_rate` on ``D_L + J`` and ``D_{L+R} + J``) and an expected
on-hand stock ``OH_i(S) = E[(S - D_{L+R} - J)^+]`` [units]. A group ``g`` (e.g. one depot's wear-list parts) keeps
its promise when its demand-weighted fill rate reaches the target::

    sum_{i in g} w_i FR_i(S_i) >= T_g,      w_i = E[D_R,i] / sum_{j in g} E[D_R,j]

Investment
----------
The investment minimised is the **expected on-hand value** ``sum_i c_i OH_i(S_i)`` [CNY]: the money that sits on
the shelves, which is what the replay (:func:`~zk_forecast.inventory.simulate.simulate_policy`) measures as the
average on-hand value. ``S_i x c_i`` would also count the stock on order, which the lead time and the lot size fix
whatever the level; raising ``S`` by one unit adds ``P(D_{L+R} + J <= S)`` units on the shelf and removes the rest
as backorders.

Solution
--------
For each series the points ``(c_i OH_i(S), w_i FR_i(S))`` for ``S = S_lo .. S_hi`` are reduced to their upper
concave hull (a pool-adjacent-violators pass merges consecutive levels whose service per yuan rises, which happens
below the lead-time demand's mode). The hull's steps are independent offers of service for money with falling
ratios within each series; sorting all offers of a group by ratio and taking them until the target is reached is
the greedy of marginal analysis, and its stopping points are exactly the solutions of the Lagrangian relaxation
(one multiplier per group), so no cheaper allocation reaches the same fill rate at those points. Between two
points the greedy may overshoot the target by one step (the last offer taken). Nothing is materialised as a series
x level rectangle: the tables are ragged, one run of levels per series, from ``S_lo`` (the smallest level allowed:
``s = -1`` or the item's floor) to ``S_hi`` (the first level whose fill rate reaches ``1 - 1e-6``).

Floors: an item's ``min_fill_rate`` raises its ``S_lo`` to the smallest level that meets it, so a critical or
wear-list part is never starved because it is expensive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.policy import (
    _pmf2d,
    _support,
    add_undershoot,
    undershoot_pmf,
)

__all__ = ["LevelTables", "allocate", "level_tables"]

FILL_RATE_CAP = 1.0 - 1e-6  # [probability]: levels above the first one reaching this buy no measurable service
_TOL = 1e-12
_FREE = 1e-12  # [probability]: a level step adding less on-hand stock than this costs nothing


@dataclass
class LevelTables:
    """Ragged tables of service and stock against level, one run of levels per series.

    Attributes
    ----------
    s_lo : numpy.ndarray of int, shape (n,)
        First level of each run [units] (``S`` at ``s = -1`` or at the item's floor).
    offsets : numpy.ndarray of int, shape (n + 1,)
        Series ``i`` owns entries ``offsets[i]:offsets[i + 1]`` (levels ``s_lo[i], s_lo[i] + 1, ...``).
    fill_rate, cycle_service : numpy.ndarray, shape (offsets[-1],)
        Expected fill rate and cycle service level at each level [probability].
    on_hand : numpy.ndarray, shape (offsets[-1],)
        Expected on hand at the end of a cycle at each level [units].
    mean_r : numpy.ndarray, shape (n,)
        Expected demand per review period [units], the weight of the series in its group's fill rate.
    """

    s_lo: np.ndarray
    offsets: np.ndarray
    fill_rate: np.ndarray
    cycle_service: np.ndarray
    on_hand: np.ndarray
    mean_r: np.ndarray

    @staticmethod
    def concat(parts: list[tuple[np.ndarray, LevelTables]], n: int) -> LevelTables:
        """Join tables of disjoint row sets (``rows``, tables) into one table over ``n`` rows (rows in order)."""
        s_lo = np.zeros(n, dtype=np.int64)
        length = np.zeros(n, dtype=np.int64)
        mean_r = np.zeros(n)
        for rows, t in parts:
            s_lo[rows] = t.s_lo
            length[rows] = np.diff(t.offsets)
            mean_r[rows] = t.mean_r
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(length, out=offsets[1:])
        fr = np.zeros(int(offsets[-1]))
        cs = np.zeros(int(offsets[-1]))
        oh = np.zeros(int(offsets[-1]))
        for rows, t in parts:
            dest = _ragged_positions(offsets[rows], np.diff(t.offsets))
            fr[dest], cs[dest], oh[dest] = t.fill_rate, t.cycle_service, t.on_hand
        return LevelTables(s_lo, offsets, fr, cs, oh, mean_r)

    def at(self, level: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fill rate, cycle service and on hand of each series at ``level`` (inside its run) [prob., prob., units]."""
        k = self.offsets[:-1] + (np.asarray(level, dtype=np.int64) - self.s_lo)
        return self.fill_rate[k], self.cycle_service[k], self.on_hand[k]


def _ragged_positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Flat positions ``starts[i] + 0..lengths[i]-1`` for every ``i``, concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + (np.arange(total) - first)


def level_tables(pmf_lr: np.ndarray, pmf_l: np.ndarray, pmf_r: np.ndarray, order_quantity: np.ndarray,
                 floor: np.ndarray | None = None, *, cap: float = FILL_RATE_CAP,
                 pmf_on_hand: np.ndarray | None = None, certain: np.ndarray | None = None,
                 skip_free: bool = False) -> LevelTables:
    """Fill rate, cycle service and on hand of each series at every level it may take (module notes).

    Parameters
    ----------
    pmf_lr, pmf_l, pmf_r : numpy.ndarray, shapes (n, K1), (n, K2), (n, K3)
        pmfs of demand over ``L + R``, ``L`` and ``R`` periods [units].
    order_quantity : numpy.ndarray of int, shape (n,)
        ``Q = S - s`` [units], >= 1.
    floor : numpy.ndarray, shape (n,), optional
        Least fill rate of each series [probability] (0: none); ``S_lo`` is the first level meeting it.
    cap : float, default 1 - 1e-6
        ``S_hi`` is the first level whose fill rate reaches ``cap`` [probability].
    pmf_on_hand : numpy.ndarray, shape (n, K4), optional
        pmf of demand over ``L + R`` for the on hand when ``pmf_lr`` and ``pmf_l`` describe a shifted lead time
        (on-time service: ``L - τ`` for a promise ``τ``) [units]; default ``pmf_lr``.
    certain : numpy.ndarray, shape (n,), optional
        Share of demand served in time whatever the level (``P(L < τ)``) [probability]; the service at each level
        is ``certain + (1 - certain) x fill rate``.
    skip_free : bool, default False
        Start each run no lower than the first level that puts stock on the shelf (``P(D_{L+R} + J <= S) > 1e-12``):
        the levels below it cost no on-hand value, so a system allocation takes them all anyway; for wide pmfs this
        keeps the tables to the levels around the lead-time demand instead of from 0.

    Returns
    -------
    LevelTables
        A series without demand (``E[D_R] = 0``) has one level, ``S = Q - 1`` (``s = -1``: not stocked).
    """
    a, b, f = _pmf2d(pmf_lr, "pmf_lr"), _pmf2d(pmf_l, "pmf_l"), _pmf2d(pmf_r, "pmf_r")
    n = a.shape[0]
    q = np.asarray(order_quantity, dtype=np.int64)
    fl = np.zeros(n) if floor is None else np.asarray(floor, dtype=np.float64)
    mean_r = f @ np.arange(f.shape[1], dtype=np.float64)
    J = undershoot_pmf(f, q)
    A = add_undershoot(a, J)
    B = add_undershoot(b, J)
    H = A if pmf_on_hand is None else add_undershoot(_pmf2d(pmf_on_hand, "pmf_on_hand"), J)
    sure = np.zeros(n) if certain is None else np.asarray(certain, dtype=np.float64)
    width = np.maximum(np.maximum(np.maximum(_support(A), _support(B)), _support(H)) + 1, q)
    A, B, H = (np.ascontiguousarray(x, dtype=np.float64) for x in (A, B, H))
    s_lo = np.zeros(n, dtype=np.int64)
    s_hi = np.zeros(n, dtype=np.int64)
    eh = np.zeros(n)
    scratch = np.zeros((6, int(width.max(initial=0)) + 1))
    _level_runs(A, B, H, mean_r, sure, q, fl, width, float(cap), bool(skip_free), s_lo, s_hi, eh, scratch)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(s_hi - s_lo + 1, out=offsets[1:])
    fr, cs, oh = np.zeros(int(offsets[-1])), np.zeros(int(offsets[-1])), np.zeros(int(offsets[-1]))
    _level_values(A, B, H, mean_r, sure, width, s_lo, offsets, eh, scratch, fr, cs, oh)
    return LevelTables(s_lo, offsets, fr, cs, oh, mean_r)


@numba.njit(cache=True)
def _row_tables(a, b, h, k_top, mu, sure, out):  # pragma: no cover - compiled
    """One series' tables over levels ``0..k_top - 1`` into ``out`` rows: fill rate, cycle service, loss of
    ``h`` (``G_H``), cumulated ``h``; rows 4-5 are work space. Each sum runs in the order numpy's cumulative sums
    take (from the top for the loss tables), so the values are those of the array formulas bit for bit."""
    for pmf, row in ((a, 4), (b, 5), (h, 2)):
        # G(S) = sum_{j >= S} P(D > j), both sums from the top (policy.loss_table)
        tail = 0.0
        for j in range(k_top - 1, -1, -1):
            x = pmf[j] if j < pmf.size else 0.0
            tail = x if j == k_top - 1 else tail + x
            out[row, j] = max(tail - x, 0.0)
        acc = 0.0
        for j in range(k_top - 1, -1, -1):
            acc = out[row, j] if j == k_top - 1 else acc + out[row, j]
            out[row, j] = acc
    best = -np.inf
    cum_a = 0.0
    cum_h = 0.0
    for k in range(k_top):
        if mu > 0:
            f = 1.0 - max(out[4, k] - out[5, k], 0.0) / mu
        else:
            f = 1.0
        best = max(best, f)
        out[0, k] = sure + (1.0 - sure) * min(best, 1.0)
        xa = a[k] if k < a.size else 0.0
        cum_a = xa if k == 0 else cum_a + xa
        out[1, k] = min(cum_a, 1.0)
        xh = h[k] if k < h.size else 0.0
        cum_h = xh if k == 0 else cum_h + xh
        out[3, k] = cum_h


@numba.njit(cache=True)
def _level_runs(A, B, H, mean_r, sure, q, floor, width, cap, skip_free, s_lo, s_hi, eh, scratch
                ):  # pragma: no cover - compiled
    """``S_lo``, ``S_hi`` and the expected ``D_{L+R} + J`` of every series (level_tables' rules)."""
    for i in range(A.shape[0]):
        k_top = width[i] + 1
        _row_tables(A[i], B[i], H[i], k_top, mean_r[i], sure[i], scratch)
        e = 0.0
        for k in range(min(k_top, H.shape[1])):
            e += H[i, k] * k
        eh[i] = e
        least = q[i] - 1
        if mean_r[i] <= 0:
            s_lo[i] = s_hi[i] = least
            continue
        lo = k_top - 1
        for k in range(max(least, 0), k_top):
            if scratch[0, k] >= floor[i] - _TOL:
                lo = k
                break
        lo = max(lo, least)
        if skip_free:
            shelf = k_top - 1
            for k in range(k_top):
                if scratch[3, k] > _FREE:
                    shelf = k
                    break
            lo = max(lo, shelf)
        hi = k_top - 1
        for k in range(max(lo, 0), k_top):
            if scratch[0, k] >= cap:
                hi = k
                break
        s_lo[i] = lo
        s_hi[i] = max(hi, lo)


@numba.njit(cache=True)
def _level_values(A, B, H, mean_r, sure, width, s_lo, offsets, eh, scratch, fr, cs, oh
                  ):  # pragma: no cover - compiled
    """Fill rate, cycle service and on hand of each series' levels ``S_lo..S_hi`` into the ragged tables."""
    for i in range(A.shape[0]):
        k_top = width[i] + 1
        _row_tables(A[i], B[i], H[i], k_top, mean_r[i], sure[i], scratch)
        for j in range(offsets[i + 1] - offsets[i]):
            k = s_lo[i] + j
            t = offsets[i] + j
            fr[t] = scratch[0, k]  # S_lo >= Q - 1 >= 0 and S_hi <= width: inside the row's tables
            cs[t] = scratch[1, k]
            oh[t] = max(k - eh[i] + scratch[2, k], 0.0)


@numba.njit(cache=True)
def _hull_blocks(offsets, fill_rate, on_hand, weight, unit_cost):  # pragma: no cover - compiled
    """Upper concave hull of each series' (cost, gain) steps by pool-adjacent-violators.

    Series ``i`` owns levels ``offsets[i]:offsets[i + 1]`` of the tables; the step from one level to the next
    gains ``weight[i] x`` the fill-rate rise and costs ``unit_cost[i] x`` the on-hand rise. Blocks whose service per
    yuan does not fall are merged (equal ratios too, and a 0 / 0 block into the next), so the ratios of one
    series' blocks fall strictly and any sort by ratio keeps them in level order. Returns per block: series,
    number of steps, gain, cost and ratio (gain / cost; inf for gain at no cost).
    """
    m = fill_rate.size
    b_series = np.empty(m, dtype=np.int64)
    b_len = np.empty(m, dtype=np.int64)
    b_gain = np.empty(m)
    b_cost = np.empty(m)
    nb = 0
    n = offsets.size - 1
    for i in range(n):
        start = nb
        wi = weight[i]
        ci = unit_cost[i]
        for j in range(offsets[i], offsets[i + 1] - 1):
            b_series[nb] = i
            b_len[nb] = 1
            b_gain[nb] = max(fill_rate[j + 1] - fill_rate[j], 0.0) * wi
            b_cost[nb] = max(on_hand[j + 1] - on_hand[j], 0.0) * ci
            nb += 1
            while nb - start >= 2 and (
                    b_gain[nb - 1] * b_cost[nb - 2] >= b_gain[nb - 2] * b_cost[nb - 1]
                    or (b_gain[nb - 2] == 0.0 and b_cost[nb - 2] == 0.0)):
                b_gain[nb - 2] += b_gain[nb - 1]
                b_cost[nb - 2] += b_cost[nb - 1]
                b_len[nb - 2] += b_len[nb - 1]
                nb -= 1
    ratio = np.empty(nb)
    for k in range(nb):
        if b_cost[k] > 0.0:
            ratio[k] = b_gain[k] / b_cost[k]
        elif b_gain[k] > 0.0:
            ratio[k] = np.inf
        else:
            ratio[k] = 0.0
    return b_series[:nb], b_len[:nb], b_gain[:nb], b_cost[:nb], ratio


@dataclass
class Offers:
    """The hull steps of all series, sorted by group and falling service per yuan (the greedy's order)."""

    series: np.ndarray
    length: np.ndarray
    gain: np.ndarray      # weighted fill-rate gain [probability] within the series' group
    cost: np.ndarray      # on-hand value added [CNY]
    group: np.ndarray
    group_start: np.ndarray  # offers of group g: group_start[g]:group_start[g + 1]


def offers(tables: LevelTables, unit_cost: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[Offers,
                                                                                                  np.ndarray]:
    """Hull steps of every series in the greedy's order, and each series' weight in its group's fill rate."""
    dem = np.bincount(group, weights=tables.mean_r, minlength=n_groups)
    w = np.where(dem[group] > 0, tables.mean_r / np.where(dem[group] > 0, dem[group], 1.0), 0.0)
    ser, length, gain, cost, ratio = _hull_blocks(tables.offsets, tables.fill_rate, tables.on_hand, w,
                                                  np.asarray(unit_cost, dtype=np.float64))
    # greedy order: group, then falling ratio (within a series the ratios fall strictly: level order is kept)
    order = np.argsort(-ratio)
    g = group[ser[order]]
    order = order[np.argsort(g, kind="stable")]
    ser, length, gain, cost, g = ser[order], length[order], gain[order], cost[order], group[ser[order]]
    gs = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(g, minlength=n_groups), out=gs[1:])
    return Offers(ser, length, gain, cost, g, gs), w


def allocate(tables: LevelTables, unit_cost: np.ndarray, group: np.ndarray, target: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Least expected on-hand value meeting every group's demand-weighted fill-rate target (module notes).

    Parameters
    ----------
    tables : LevelTables
        From :func:`level_tables`.
    unit_cost : numpy.ndarray, shape (n,)
        [CNY per unit], >= 0.
    group : numpy.ndarray of int, shape (n,)
        Group code of each series, 0..G-1.
    target : numpy.ndarray, shape (G,)
        Fill-rate target of each group, in (0, 1) [probability].

    Returns
    -------
    level : numpy.ndarray of int, shape (n,)
        Order-up-to level ``S`` of each series [units].
    reached : numpy.ndarray of bool, shape (G,)
        Whether each group's target was reached (False: every series is at ``S_hi``, the target is beyond what
        stock can buy, e.g. lead-time demand that no level covers).
    """
    G = target.size
    off, w = offers(tables, unit_cost, group, G)
    fr0, _, _ = tables.at(tables.s_lo)
    base = np.bincount(group, weights=w * fr0, minlength=G)
    take = np.zeros(off.series.size, dtype=bool)
    reached = np.ones(G, dtype=bool)
    for g in range(G):  # one pass per group (groups are few: depot x class)
        a, b = off.group_start[g], off.group_start[g + 1]
        need = target[g] - base[g]
        if need <= _TOL:
            continue
        cum = np.cumsum(off.gain[a:b])
        k = int(np.searchsorted(cum, need - _TOL, side="left"))
        if k >= b - a:
            reached[g] = False
            k = b - a - 1
        take[a:a + k + 1] = True
    add = np.bincount(off.series[take], weights=off.length[take], minlength=tables.s_lo.size)
    return tables.s_lo + add.astype(np.int64), reached


def curve(tables: LevelTables, unit_cost: np.ndarray) -> tuple[Offers, np.ndarray]:
    """All series as one group: the greedy's offers in order (the budget curve's steps) and the weights."""
    return offers(tables, unit_cost, np.zeros(tables.s_lo.size, dtype=np.int64), 1)


def check_targets(groups: np.ndarray, fill_rate: object) -> np.ndarray:
    """Target per group code from one target or a mapping group -> target; errors name the group and the fix."""
    from collections.abc import Mapping

    if isinstance(fill_rate, Mapping):
        given = {str(k): v for k, v in fill_rate.items()}
        missing = [str(g) for g in groups if str(g) not in given]
        if missing:
            raise ZkValueError(f"no fill-rate target for group {missing[0]!r}; add it to fill_rate, e.g. "
                               f"{{{missing[0]!r}: 0.95}} / 缺少该组的目标满足率。")
        t = np.array([float(given[str(g)]) for g in groups], dtype=np.float64)  # type: ignore[arg-type]
    else:
        try:
            t = np.full(len(groups), float(fill_rate))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ZkValueError(f"fill_rate must be a number in (0, 1) or a mapping group -> number; got "
                               f"{fill_rate!r}.") from None
    bad = ~((t > 0) & (t < 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ZkValueError(f"group {str(groups[i])!r} has fill-rate target {t[i]!r}; a target must lie strictly "
                           "between 0 and 1 (e.g. 0.95) / 目标满足率须在 0 与 1 之间。")
    return t
