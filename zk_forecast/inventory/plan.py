"""``plan()``: (R, s, S) policies for every item of a parts list, from a long demand history.

Steps: validate ``items`` and ``history``; fit :class:`~zk_forecast.demand.distributions.LeadTimeDemand` on the
items with history; build the pmfs of demand over ``L``, ``R`` and ``L + R`` periods (mixed over a measured
lead-time distribution where ``receipts`` give one); give items without history a prior; search the levels with
:func:`~zk_forecast.inventory.policy.reorder_policy`.

Items without history (``basis``)
---------------------------------
``history``
    The item has rows in ``history``: its fitted demand distribution.
``installed_base``
    No history, but a prior demand rate [units per period] from the installed-base forecast: the ``installed_base``
    column of ``items``, or the mean of column ``installed_base`` of ``prior`` (long: ``unique_id``, ``ds``,
    ``installed_base``, e.g. expected replacements = machines that the part fits × failure rate per machine ×
    ``qty_per_replacement`` from ``component_parts``). Demand per period is taken as Poisson with that rate.
``similar``
    No history and no installed-base rate, but ``items`` has a ``category``: the rate is the median demand rate
    [units per period] of the items with history in the same category and the same price band (a band is a
    factor of √10 in ``unit_cost``: ``floor(2 log10(unit_cost))``), or of the whole category when the band has
    no item with history; Poisson as above.
``none``
    Nothing is known. A ``critical`` item keeps one unit on the shelf (``s = 0, S = 1``: the first demand is
    served at once and reordered); other items are not stocked (``s = -1, S = 0``: ordered against demand).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from zk_forecast.demand.distributions import LeadTimeDemand, scale_level
from zk_forecast.demand.panel import Panel
from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.calibrate import apply_widening, level_widening
from zk_forecast.inventory.policy import (
    add_undershoot,
    base_stock_fill_rate,
    compound_mixture_pmfs,
    critical_ratio,
    cycle_service_level,
    expected_on_hand,
    mix_lead_times,
    order_quantity,
    reorder_policy,
    undershoot_pmf,
)
from zk_forecast.inventory.system import LevelTables, allocate, check_targets, level_tables

__all__ = ["evaluate_levels", "lead_time_from_receipts", "plan", "system_groups", "system_tables"]

_SERVICES = ("fill_rate", "cycle", "cost", "on_time")
_GROUP_CELLS = 1 << 22  # pmf cells per group of series fitted together (32 MB per pmf)
_COLUMNS = ["reorder_point", "order_up_to", "order_quantity", "expected_fill_rate", "expected_cycle_service",
            "expected_on_hand", "expected_on_hand_value", "mean_demand", "forecast_demand", "lead_time", "target",
            "basis"]


# ---------------------------------------------------------------------------------------------- receipts
def lead_time_from_receipts(receipts: pd.DataFrame, min_receipts: int = 5, *, period_days: float = 7.0,
                            sep: str = "|") -> pd.DataFrame:
    """Measured lead times per part × depot from the ``receipts`` table.

    A receipt's lead time is ``ceil((received_on - ordered_on) / period_days)`` periods: an order placed at a
    review and received inside a later period counts as available from the period after (the simulator's
    ``t + L + 1``), which errs on the safe side.

    Parameters
    ----------
    receipts : pandas.DataFrame
        Columns ``part_no``, ``depot_id``, ``ordered_on``, ``received_on`` (canonical ``receipts`` table).
    min_receipts : int, default 5
        Fewest receipts for a measured lead time; series with fewer are left out (use the parts master).
    period_days : float, default 7
        Days per period [days].

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unique_id`` (``"PART|DEPOT"``): ``n_receipts``, ``lead_time_mean`` and ``lead_time_std``
        [periods] (``ddof=1``), ``lead_time_max`` [periods] and ``lead_time_pmf`` (a numpy array over
        0..lead_time_max [probability]).
    """
    need = ("part_no", "depot_id", "ordered_on", "received_on")
    miss = [c for c in need if c not in receipts.columns]
    if miss:
        raise ZkValueError(f"receipts lacks columns {miss}; it needs {list(need)} (canonical receipts table).")
    if isinstance(min_receipts, bool) or not isinstance(min_receipts, (int, np.integer)) or min_receipts < 1:
        raise ZkValueError(f"min_receipts must be an int >= 1; got {min_receipts!r}.")
    days = (pd.to_datetime(receipts["received_on"]) - pd.to_datetime(receipts["ordered_on"])).dt.days
    if (days < 0).any():
        i = int(np.flatnonzero((days < 0).to_numpy())[0])
        raise ZkValueError(f"receipt row {i} was received before it was ordered; fix its dates.")
    lt = np.ceil(days.to_numpy(dtype=np.float64) / period_days).astype(np.int64)
    # series codes from the distinct part numbers and depots (strings are built once per series, not per row)
    pcode, puniq = pd.factorize(receipts["part_no"])
    dcode, duniq = pd.factorize(receipts["depot_id"])
    if (pcode < 0).any() or (dcode < 0).any():
        raise ZkValueError("receipts has rows without part_no or depot_id; the store rejects such rows, so read "
                           "the table from the store.")
    puniq = pd.Index(puniq).astype(str)
    duniq = pd.Index(duniq).astype(str)
    pair, pair_uniq = pd.factorize(pcode.astype(np.int64) * max(len(duniq), 1) + dcode)
    names = (np.asarray(puniq, dtype=object)[pair_uniq // max(len(duniq), 1)] + sep
             + np.asarray(duniq, dtype=object)[pair_uniq % max(len(duniq), 1)])
    order = np.argsort(names, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    codes = rank[pair]
    uniq = names[order]
    n_keys = len(uniq)
    count = np.bincount(codes, minlength=n_keys)
    total = np.bincount(codes, weights=lt, minlength=n_keys)
    keep = count >= min_receipts
    width = int(lt.max(initial=0)) + 1
    # one histogram row per series: bincount of (series, lead time) cells, then divide by the receipts
    hist = np.bincount(codes * width + lt, minlength=n_keys * width).reshape(n_keys, width)[keep].astype(np.float64)
    k = count[keep]
    mean = total[keep] / k
    vals = np.arange(width, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(k > 1, (hist * (vals[None, :] - mean[:, None]) ** 2).sum(axis=1) / (k - 1), np.nan)
    top = np.where(hist.any(axis=1), width - 1 - np.argmax(hist[:, ::-1] > 0, axis=1), 0)
    pmf_rows = hist / k[:, None]
    out = pd.DataFrame({"n_receipts": k.astype(np.int64), "lead_time_mean": mean, "lead_time_std": np.sqrt(var),
                        "lead_time_max": top.astype(np.int64)},
                       index=pd.Index(np.asarray(uniq, dtype=object)[keep], name="unique_id"))
    out["lead_time_pmf"] = [pmf_rows[i, : top[i] + 1] for i in range(pmf_rows.shape[0])]
    return out


# ---------------------------------------------------------------------------------------------- checks
def _num(items: pd.DataFrame, col: str, default: float, rule: str, fix: str, ok: Any) -> np.ndarray:
    if col not in items.columns:
        return np.full(len(items), default, dtype=np.float64)
    v = pd.to_numeric(items[col], errors="coerce").to_numpy(dtype=np.float64)
    v = np.where(np.isnan(v) & items[col].isna().to_numpy(), default, v)
    bad = np.isinf(v) | ~ok(v)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ZkValueError(f"item {items.index[i]!r} has {col} = {items[col].iloc[i]!r}; {col} must be {rule}. {fix}")
    return v


def _targets(items: pd.DataFrame, fill_rate: Any) -> np.ndarray:
    n = len(items)
    if isinstance(fill_rate, Mapping):
        if "class" not in items.columns:
            raise ZkValueError("fill_rate is given per class but items has no 'class' column; add one (e.g. "
                               "'wear', 'critical', 'other') or give one target.")
        cls = items["class"].astype(str)
        unknown = sorted(set(cls) - {str(k) for k in fill_rate})
        if unknown:
            raise ZkValueError(f"no target for class {unknown[0]!r}; add it to fill_rate, e.g. "
                               f"{{{unknown[0]!r}: 0.95}}.")
        t = cls.map({str(k): float(v) for k, v in fill_rate.items()}).to_numpy(dtype=np.float64)
    else:
        t = np.full(n, float(fill_rate))
        if not (0 < float(fill_rate) < 1):
            raise ZkValueError(f"fill_rate must lie strictly between 0 and 1; got {fill_rate!r}. Use e.g. 0.95.")
    if "fill_rate" in items.columns:
        own = pd.to_numeric(items["fill_rate"], errors="coerce").to_numpy(dtype=np.float64)
        t = np.where(np.isnan(own), t, own)
    bad = ~((t > 0) & (t < 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ZkValueError(f"item {items.index[i]!r} has target {t[i]!r}; a target must lie strictly between 0 "
                           "and 1 (e.g. 0.95).")
    return t


def _lead_times(items: pd.DataFrame) -> np.ndarray:
    if "lead_time" not in items.columns:
        raise ZkValueError("items needs a 'lead_time' column [periods] (supplier or transfer lead time).")
    v = pd.to_numeric(items["lead_time"], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(v) | (v < 0) | (v != np.rint(v))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ZkValueError(f"item {items.index[i]!r} has lead_time = {items['lead_time'].iloc[i]!r}; lead_time "
                           "must be a whole number of periods >= 0. Fill it from the parts master "
                           "(ceil(lead_time_days / 7) for weeks).")
    return v.astype(np.int64)


def _nonneg(v: np.ndarray) -> np.ndarray:
    return v >= 0


def _poisson_pmf(rate: np.ndarray, periods: np.ndarray, tail: float = 1e-9) -> np.ndarray:
    mu = rate * periods
    top = int(stats.poisson.ppf(1 - tail, mu.max(initial=0.0))) + 2 if mu.size else 1
    k = np.arange(top)[None, :]
    p = stats.poisson.pmf(k, mu[:, None])
    p[:, -1] += np.maximum(1.0 - p.sum(axis=1), 0.0)
    return p


# ---------------------------------------------------------------------------------------------- plan
_WIDTH_MARGIN = 4.0  # pmf width estimate = (L + R + 1) x largest period demand x this (compound tails run past it)
_OBJECTIVES = ("item", "system")


@dataclass
class _Items:
    """The checked columns of ``items`` as arrays (one row per item, in the order of ``items``)."""

    index: pd.Index
    lead_time: np.ndarray
    cost: np.ndarray
    moq: np.ndarray
    pack: np.ndarray
    hold: np.ndarray | None
    order_cost: np.ndarray | None
    target: np.ndarray
    critical: np.ndarray
    floor: np.ndarray
    promise: np.ndarray | None
    group: np.ndarray       # group code per item (0..G-1)
    groups: pd.Index        # group names
    back: np.ndarray | None = None  # [CNY per unit short] (service="cost")

    def _replace_target(self, target: np.ndarray) -> _Items:
        return replace(self, target=target)


@dataclass
class _Demand:
    """What the history says per item: the panel, the fitted rows and the mean demand [units per period]."""

    panel: Panel
    values: np.ndarray
    pos: np.ndarray
    has: np.ndarray
    mean: np.ndarray


def _check_settings(service: str, objective: str, review_period: int, half_life: float | None,
                    level_block: int | None, window: int | None) -> None:
    if service not in _SERVICES:
        raise ZkValueError(f"The 'service' parameter of plan must be one of {_SERVICES}; got {service!r} instead.")
    if objective not in _OBJECTIVES:
        raise ZkValueError(f"The 'objective' parameter of plan must be one of {_OBJECTIVES}; got {objective!r} "
                           "instead. Use 'system' for the least money per group's promise, 'item' for one target "
                           "per item.")
    if objective == "system" and service == "cost":
        raise ZkValueError("objective='system' meets a fill-rate or on-time target per group; service='cost' sets "
                           "each item by its own costs: use objective='item' with service='cost'.")
    if objective == "system" and service == "cycle":
        raise ZkValueError("objective='system' weighs items by their demand, which suits fill rates: use "
                           "service='fill_rate' or 'on_time' (or objective='item' for cycle service).")
    if isinstance(review_period, bool) or not isinstance(review_period, (int, np.integer)) or review_period < 1:
        raise ZkValueError(f"review_period must be an int >= 1 [periods]; got {review_period!r}.")
    if half_life is not None and (isinstance(half_life, bool) or not isinstance(half_life, (int, float, np.number))
                                  or not np.isfinite(half_life) or half_life <= 0):
        raise ZkValueError(f"half_life must be a number > 0 [periods] or None (all periods weigh the same); got "
                           f"{half_life!r}. Use e.g. half_life=52 for weekly history.")
    if level_block is not None and (isinstance(level_block, bool) or not isinstance(level_block, (int, np.integer))
                                    or level_block < 2):
        raise ZkValueError(f"level_block must be an int >= 2 [periods] or None (no level uncertainty); got "
                           f"{level_block!r}. Use e.g. level_block=13 for weekly history.")
    if window is not None and (isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1):
        raise ZkValueError(f"window must be an int >= 1 [periods] or None (all history); got {window!r}.")


def _check_items(items: pd.DataFrame, fill_rate: Any, service: str, objective: str, R: int) -> _Items:
    if not isinstance(items, pd.DataFrame):
        raise ZkValueError("items must be a DataFrame indexed by unique_id.")
    if items.index.has_duplicates:
        raise ZkValueError(f"items has unique_id {items.index[items.index.duplicated()][0]!r} twice; keep one row.")
    n = len(items)
    L = _lead_times(items)
    cost = _num(items, "unit_cost", 0.0, ">= 0 [CNY per unit]", "Fix the cost in the parts master.", _nonneg)
    if objective == "system" and "unit_cost" in items.columns and items["unit_cost"].isna().any():
        miss = [str(i) for i in items.index[items["unit_cost"].isna().to_numpy()][:5]]
        raise ZkValueError(f"objective='system' spends money where it buys most service, so every item needs a "
                           f"unit_cost [CNY]; {int(items['unit_cost'].isna().sum())} items have none, e.g. {miss}. "
                           "Fill 参考成本 in the parts master (0 is allowed) / 系统目标需要每个配件的成本。")
    if objective == "system" and "unit_cost" not in items.columns:
        raise ZkValueError("objective='system' needs items column 'unit_cost' [CNY per unit] (0 is allowed); add "
                           "it from the parts master / 系统目标需要配件成本列 unit_cost。")
    moq = _num(items, "moq", 1.0, ">= 0 [units]", "Use 0 or 1 when there is no minimum.", _nonneg)
    pack = _num(items, "pack_size", 1.0, "> 0 [units]", "Use 1 for parts sold singly.", lambda v: v > 0)
    hold = _num(items, "holding_cost", np.nan, ">= 0 [CNY per unit-period]", "Fix the holding cost.",
                lambda v: np.isnan(v) | (v >= 0)) if "holding_cost" in items.columns else None
    ocost = _num(items, "order_cost", np.nan, ">= 0 [CNY per order]", "Fix the order cost.",
                 lambda v: np.isnan(v) | (v >= 0)) if "order_cost" in items.columns else None
    floor = _num(items, "min_fill_rate", 0.0, "in [0, 1) [probability]", "Use e.g. 0.9 for a wear-list part, or "
                 "leave it blank for no floor.", lambda v: (v >= 0) & (v < 1))
    promise = None
    if service == "on_time":
        if "promise_periods" not in items.columns:
            raise ZkValueError("service='on_time' needs items column 'promise_periods' [periods]: the delivery "
                               "promise, e.g. 1 week for wear-list parts (5 working days), 3 for others / "
                               "按时交付需要承诺期列 promise_periods。")
        promise = _num(items, "promise_periods", np.nan, "a whole number >= 0 [periods]",
                       "Give the delivery promise in periods (ceil(working days / 5) for weeks).",
                       lambda v: (v >= 0) & (v == np.rint(v))).astype(np.int64)
    if "group" in items.columns and objective == "system":
        codes, names = pd.factorize(items["group"].astype(str), sort=True)
        groups = pd.Index(names, name="group")
    else:
        codes, groups = np.zeros(n, dtype=np.int64), pd.Index(["all"], name="group")
    if service == "cost":
        if hold is None or "backorder_cost" not in items.columns:
            raise ZkValueError("service='cost' needs items columns 'holding_cost' [CNY per unit-period] and "
                               "'backorder_cost' [CNY per unit short].")
        back = _num(items, "backorder_cost", np.nan, "> 0 [CNY per unit short]", "Fix the backorder cost.",
                    lambda v: v > 0)
        target = np.maximum(critical_ratio(np.nan_to_num(hold), back, R), 1e-9)
    elif objective == "system":
        target = check_targets(np.asarray(groups), fill_rate)[codes]
    else:
        target = _targets(items, fill_rate)
    critical = items["critical"].fillna(False).astype(bool).to_numpy() if "critical" in items.columns \
        else np.zeros(n, dtype=bool)
    return _Items(items.index, L, cost, moq, pack, hold, ocost, target, critical, floor, promise,
                  np.asarray(codes, dtype=np.int64), groups, back if service == "cost" else None)


def _demand(history: pd.DataFrame | Panel, index: pd.Index, freq: str, window: int | None) -> _Demand:
    if isinstance(history, Panel):
        panel = history
        unknown = pd.Index(panel.unique_id).difference(index)
        if len(unknown):
            raise ZkValueError(f"history has series {unknown[0]!r} which is not in items ({len(unknown)} such "
                               "items); add it to items (with its lead_time) or subset the panel.")
        if np.any(panel.values < 0):
            bad = panel.unique_id[int(np.flatnonzero((panel.values < 0).any(axis=1))[0])]
            raise ZkValueError(f"history has negative demand for item {bad!r}; net returns first (build_panel "
                               "does).")
    else:
        for c in ("unique_id", "ds", "y"):
            if c not in history.columns:
                raise ZkValueError(f"history needs columns unique_id, ds, y (long format); '{c}' is missing.")
        hist = history.assign(unique_id=history["unique_id"].astype(str))
        unknown = pd.Index(hist["unique_id"].unique()).difference(index)
        if len(unknown):
            raise ZkValueError(f"history has rows for item {unknown[0]!r} which is not in items "
                               f"({len(unknown)} such items); add it to items (with its lead_time) or drop its "
                               "rows.")
        if (pd.to_numeric(hist["y"], errors="coerce") < 0).any():
            bad = hist.loc[pd.to_numeric(hist["y"], errors="coerce") < 0, "unique_id"].iloc[0]
            raise ZkValueError(f"history has negative demand for item {bad!r}; net returns first (build_panel "
                               "does).")
        hist = hist.groupby(["unique_id", "ds"], as_index=False)["y"].sum()
        panel = Panel.from_long(hist, freq=freq, fill="zero")
    n = len(index)
    vals = panel.values if window is None else panel.values[:, -int(window):]
    pos = index.get_indexer(pd.Index(panel.unique_id).astype(str))
    has = np.zeros(n, dtype=bool)
    has[pos] = True
    mean_d = np.zeros(n)
    if len(panel):
        mean_d[pos] = np.nan_to_num(np.nanmean(vals, axis=1))
    return _Demand(panel, vals, pos, has, mean_d)


def _measured_lead_times(index: pd.Index, L: np.ndarray, receipts: pd.DataFrame | None, min_receipts: int
                         ) -> tuple[list[np.ndarray | None], np.ndarray, np.ndarray]:
    """Measured lead-time pmfs (None: the items' own ``lead_time``), their source and the lead time shown."""
    n = len(index)
    lt_src = np.array(["items"] * n, dtype=object)
    lt_pmf: list[np.ndarray | None] = [None] * n
    lt_shown = L.astype(np.float64)
    if receipts is not None:
        meas = lead_time_from_receipts(receipts, min_receipts)
        at = index.get_indexer(meas.index)
        found = at >= 0
        meas_pmf = meas["lead_time_pmf"].to_numpy(dtype=object)
        for i, v in zip(at[found], meas_pmf[found]):
            lt_pmf[i] = v
        lt_src[at[found]] = "receipts"
        lt_shown[at[found]] = meas["lead_time_mean"].to_numpy(dtype=np.float64)[found]
    return lt_pmf, lt_src, lt_shown


def _prior_rates(items: pd.DataFrame, prior: pd.DataFrame | None, has: np.ndarray, mean_d: np.ndarray,
                 cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Demand rate [units per period] and basis of the items without history (module notes)."""
    n = len(items)
    basis = np.where(has, "history", "none").astype(object)
    rate = np.full(n, np.nan)
    if "installed_base" in items.columns:
        rate = pd.to_numeric(items["installed_base"], errors="coerce").to_numpy(dtype=np.float64).copy()
    if prior is not None:
        pr = prior.assign(unique_id=prior["unique_id"].astype(str)).groupby("unique_id")["installed_base"].mean()
        rate = np.where(np.isnan(rate), pr.reindex(items.index.astype(str)).to_numpy(dtype=np.float64), rate)
    if np.any(rate < 0):
        i = int(np.flatnonzero(rate < 0)[0])
        raise ZkValueError(f"item {items.index[i]!r} has installed_base rate {rate[i]!r}; it must be >= 0 "
                           "[units per period].")
    use_ib = ~has & np.isfinite(rate)
    basis[use_ib] = "installed_base"
    if "category" in items.columns:
        cat = items["category"].astype(str).to_numpy()
        with np.errstate(divide="ignore"):
            band = np.floor(2 * np.log10(np.where(cost > 0, cost, np.nan)))
        frame = pd.DataFrame({"cat": cat, "band": band, "rate": mean_d})[has]
        by_band = frame.groupby(["cat", "band"])["rate"].median()
        by_cat = frame.groupby("cat")["rate"].median()
        for k in np.flatnonzero(~has & ~use_ib):
            r = by_band.get((cat[k], band[k]), np.nan)
            r = by_cat.get(cat[k], np.nan) if np.isnan(r) else r
            if np.isfinite(r):
                rate[k], basis[k] = r, "similar"
    return rate, basis


def _weights(rows: np.ndarray, L: np.ndarray, lt_pmf: list[np.ndarray | None], shift: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """P(L = l) per row (one-hot at the items' lead time, or measured) and the mass left out by ``shift``.

    With ``shift`` (the promise [periods]) the weights are those of ``L - shift`` over ``L >= shift``,
    renormalised; the second result is ``P(L < shift)``, the share of demand that is on time whatever the stock.
    """
    measured = [(k, lt_pmf[i]) for k, i in enumerate(rows) if lt_pmf[i] is not None]
    top = max([int(L[rows].max(initial=0)) + 1, *(v.size for _, v in measured)])
    w = np.zeros((rows.size, top))
    w[np.arange(rows.size), L[rows]] = 1.0
    for k, v in measured:
        w[k] = 0.0
        w[k, : v.size] = v
    certain = np.zeros(rows.size)
    if shift is not None:
        sh = shift[rows]
        cols = np.arange(top)[None, :]
        certain = (w * (cols < sh[:, None])).sum(axis=1)
        out = np.zeros_like(w)
        src = cols + sh[:, None]
        inside = src < top
        r_ix = np.broadcast_to(np.arange(rows.size)[:, None], w.shape)
        out[inside] = w[r_ix[inside], src[inside]]
        left = out.sum(axis=1)
        out = np.where(left[:, None] > 0, out / np.where(left > 0, left, 1.0)[:, None], 0.0)
        out[left <= 0, 0] = 1.0
        w = out
    return w, certain


def _pmf_batches(dem: _Demand, it: _Items, lt_pmf: list[np.ndarray | None], R: int, *, method: str,
                 half_life: float | None, level_block: int | None, random_state: int | None,
                 shift: np.ndarray | None = None, widen: float = 0.0, scale: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                                    np.ndarray]]:
    """pmfs of demand over ``L + R``, ``L`` and ``R`` for the items with history, in blocks of similar width.

    Yields ``(rows, pmf_lr, pmf_l, pmf_r, certain)``; ``certain`` is the on-time share beyond the stock's reach
    when ``shift`` (promise periods) is given, else zeros.
    """
    L, pos, vals = it.lead_time, dem.pos, dem.values
    lmax = np.array([L[i] if lt_pmf[i] is None else lt_pmf[i].size - 1 for i in pos])  # type: ignore[union-attr]
    ymax = np.nanmax(np.where(np.isnan(vals), 0.0, vals), axis=1) if vals.size else np.zeros(0)
    key = (lmax + R + 1) * np.maximum(np.ceil(ymax), 1.0) * _WIDTH_MARGIN
    mixed = np.array([lt_pmf[i] is not None for i in pos])
    for flag in (False, True):
        sub_all = np.flatnonzero(mixed == flag)
        sub_all = sub_all[np.argsort(key[sub_all], kind="stable")]
        i0 = 0
        while i0 < sub_all.size:
            i1 = i0 + 1
            while i1 < sub_all.size and (i1 + 1 - i0) * key[sub_all[i1]] <= _GROUP_CELLS:
                i1 += 1
            sub = sub_all[i0:i1]
            i0 = i1
            rows = pos[sub]
            est = LeadTimeDemand(method=method, half_life=half_life, random_state=random_state,
                                 level_block=level_block if method == "fitted" else None).fit(vals[sub])
            if method == "fitted":
                apply_widening(est, widen)
                if scale is not None and np.any(scale[rows] != 1.0):  # the season ahead (inventory.season)
                    est.p_, est.size_pmf_ = scale_level(est.p_, est.size_pmf_, scale[rows])
            w, certain = _weights(rows, L, lt_pmf, shift)
            if method == "fitted":  # all lead-time values in one pass in the frequency domain
                a, b, f = compound_mixture_pmfs(est.p_, est.size_pmf_, w, R, tail=est.tail,
                                                level_multipliers=est.level_multipliers_,
                                                level_weights=est.level_weights_)
                yield rows, a, b, f, certain
                continue
            f = est.pmf(np.full(sub.size, R))
            if not flag and shift is None:
                Lf = L[rows]
                pl = est.pmf(np.maximum(Lf, 1))
                pl[Lf == 0] = 0.0
                pl[Lf == 0, 0] = 1.0
                yield rows, est.pmf(Lf + R), pl, f, certain
            else:
                a, b = mix_lead_times(est.pmf, w, R)
                yield rows, a, b, f, certain


def _prior_batch(rows: np.ndarray, rate: np.ndarray, it: _Items, lt_pmf: list[np.ndarray | None], R: int,
                 shift: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Poisson pmfs of the items planned from a prior rate (installed base or similar parts)."""
    rr = rate[rows]
    w, certain = _weights(rows, it.lead_time, lt_pmf, shift)
    a, b = mix_lead_times(lambda per: _poisson_pmf(rr, per), w, R)
    return rows, a, b, _poisson_pmf(rr, np.full(rows.size, R)), certain


def _all_batches(dem: _Demand, it: _Items, lt_pmf: list[np.ndarray | None], rate: np.ndarray,
                 use_prior: np.ndarray, R: int, kw: dict[str, Any], shift: np.ndarray | None = None
                 ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """pmf blocks of the items with history, then of the items planned from a prior rate."""
    if dem.has.any():
        yield from _pmf_batches(dem, it, lt_pmf, R, shift=shift, **kw)
    pr_rows = np.flatnonzero(use_prior)
    if pr_rows.size:
        yield _prior_batch(pr_rows, rate, it, lt_pmf, R, shift=shift)


def _level_tables(dem: _Demand, it: _Items, lt_pmf: list[np.ndarray | None], rate: np.ndarray,
                  use_prior: np.ndarray, R: int, kw: dict[str, Any], Q: np.ndarray, floor: np.ndarray, *,
                  on_time: bool, skip_free: bool = True) -> tuple[np.ndarray, LevelTables]:
    """Service and on hand against level of every planned item (rows with history or a prior), in row order."""
    parts = []
    shifted = _all_batches(dem, it, lt_pmf, rate, use_prior, R, kw, shift=it.promise) if on_time else None
    for rows, a, b, f, _ in _all_batches(dem, it, lt_pmf, rate, use_prior, R, kw):
        if shifted is not None:
            _, a2, b2, f2, certain = next(shifted)
            parts.append((rows, level_tables(a2, b2, f2, Q[rows], floor[rows], pmf_on_hand=a, certain=certain,
                                             skip_free=skip_free)))
        else:
            parts.append((rows, level_tables(a, b, f, Q[rows], floor[rows], skip_free=skip_free)))
    rows_sel = np.flatnonzero(dem.has | use_prior)
    return rows_sel, LevelTables.concat([(np.searchsorted(rows_sel, r), t) for r, t in parts], rows_sel.size)


def _prepare(history: pd.DataFrame | Panel, items: pd.DataFrame, it: _Items, R: int, *, freq: str,
             window: int | None, receipts: pd.DataFrame | None, prior: pd.DataFrame | None, min_receipts: int
             ) -> tuple[_Demand, list[np.ndarray | None], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                        np.ndarray, np.ndarray]:
    """History to panel, measured lead times, priors and lot sizes: everything the level search needs."""
    index = items.index
    dem = _demand(history, index, freq, window)
    lt_pmf, lt_src, lt_shown = _measured_lead_times(index, it.lead_time, receipts, min_receipts)
    rate, basis = _prior_rates(items, prior, dem.has, dem.mean, it.cost)
    use_prior = np.isin(basis, ("installed_base", "similar"))
    mean_d = np.where(use_prior, rate, dem.mean)
    Q = order_quantity(mean_d * R, moq=it.moq, pack_size=it.pack,
                       order_cost=None if it.order_cost is None else np.nan_to_num(it.order_cost),
                       holding_cost=None if it.hold is None else np.where(np.isnan(it.hold), 0.0, it.hold * R))
    return dem, lt_pmf, lt_src, lt_shown, rate, basis, use_prior, mean_d, Q


def _widening(widen: float | str | None, dem: _Demand, it: _Items, lt_shown: np.ndarray, R: int,
              half_life: float | None, level_block: int | None) -> float:
    """The extra level variance [-] to price in: measured in-window (``"backtest"``), given, or none."""
    if widen is None:
        return 0.0
    if isinstance(widen, str):
        if widen != "backtest":
            raise ZkValueError(f"widen must be a number >= 0 [-], 'backtest' or None; got {widen!r}.")
        if not dem.has.any():
            return 0.0
        prot = np.ceil(lt_shown[dem.pos]).astype(np.int64) + R
        return level_widening(dem.values, prot, half_life=half_life, level_block=level_block)
    v = float(widen)
    if not np.isfinite(v) or v < 0:
        raise ZkValueError(f"widen must be a number >= 0 [-], 'backtest' or None; got {widen!r}.")
    return v


def _season_scale(season_length: int | None, method: str, dem: _Demand, lt_shown: np.ndarray, R: int
                  ) -> np.ndarray | None:
    """Per-item multiplier of the demand over the protection period ahead (None: no season)."""
    if season_length is None:
        return None
    if method != "fitted":
        raise ZkValueError("season_length scales the fitted distributions: use method='fitted' with it (or "
                           "season_length=None with method='bootstrap').")
    from zk_forecast.inventory.season import protection_scale
    from zk_forecast.schema import split_series_id

    out = np.ones(lt_shown.size)
    if not dem.has.any():
        return out
    ids = pd.Index(dem.panel.unique_id).astype(str)
    part = np.asarray(split_series_id(ids)[0], dtype=object).astype(str)  # pools: one part across its depots
    prot = np.ceil(lt_shown[dem.pos]).astype(np.int64) + R
    out[dem.pos] = protection_scale(dem.panel, prot, season_length=season_length, groups=part)
    return out


def system_tables(history: pd.DataFrame | Panel, items: pd.DataFrame, review_period: int = 1, *,
                  service: str = "fill_rate", method: str = "fitted", freq: str = "W-MON",
                  receipts: pd.DataFrame | None = None, prior: pd.DataFrame | None = None, min_receipts: int = 5,
                  random_state: int | None = 0, window: int | None = None, half_life: float | None = 52,
                  level_block: int | None = 13, widen: float | str | None = None
                  ) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray, LevelTables]:
    """The level tables :func:`plan` allocates with ``objective="system"`` (the budget curve's input).

    Returns the ids of the planned items, their rows in ``items``, unit costs [CNY], lot sizes ``Q`` [units] and
    the :class:`~zk_forecast.inventory.system.LevelTables`; parameters as :func:`plan`.
    """
    if service not in ("fill_rate", "on_time"):
        raise ZkValueError(f"The budget curve measures service='fill_rate' or 'on_time'; got {service!r}.")
    _check_settings(service, "system", review_period, half_life, level_block, window)
    R = int(review_period)
    it = _check_items(items, 0.5, service, "system", R)
    items = items.copy()
    items.index = items.index.astype(str)
    dem, lt_pmf, _, lt_shown, rate, _, use_prior, _, Q = _prepare(
        history, items, it, R, freq=freq, window=window, receipts=receipts, prior=prior, min_receipts=min_receipts)
    kw: dict[str, Any] = {"method": method, "half_life": half_life, "level_block": level_block,
                          "random_state": random_state,
                          "widen": _widening(widen, dem, it, lt_shown, R, half_life, level_block)}
    rows, tab = _level_tables(dem, it, lt_pmf, rate, use_prior, R, kw, Q, it.floor, on_time=service == "on_time")
    return it.index[rows], rows, it.cost[rows], Q[rows], tab


def plan(history: pd.DataFrame | Panel, items: pd.DataFrame, fill_rate: Any = 0.95, review_period: int = 1, *,
         service: str = "fill_rate", objective: str = "item", method: str = "fitted", freq: str = "W-MON",
         receipts: pd.DataFrame | None = None, prior: pd.DataFrame | None = None, min_receipts: int = 5,
         random_state: int | None = 0, window: int | None = None, half_life: float | None = 52,
         level_block: int | None = 13, widen: float | str | None = None, season_length: int | None = None,
         backtest: bool | Mapping[str, Any] = False) -> pd.DataFrame:
    """(R, s, S) policies for every item: per item, or the least money for each group's promise.

    Parameters
    ----------
    history : pandas.DataFrame or Panel
        Long: ``unique_id``, ``ds`` (period starts of ``freq``), ``y`` [units per period]. Absent periods after
        an item's first row are zero demand. Or a :class:`~zk_forecast.demand.panel.Panel` (``build_panel``
        output) used as it is: NaN cells (before a series is listed, missing windows) are skipped.
    items : pandas.DataFrame
        Indexed by ``unique_id``. Required ``lead_time`` [periods, >= 0]; optional ``unit_cost`` [CNY per unit]
        (required, 0 allowed, by ``objective="system"``), ``moq`` [units], ``pack_size`` [units, > 0],
        ``order_cost`` [CNY per order] and ``holding_cost`` [CNY per unit-period] (EOQ lot size),
        ``backorder_cost`` [CNY per unit short] (``service="cost"``), ``critical`` (bool), ``fill_rate`` (own
        target, ``objective="item"``), ``class`` (key of a per-class target, ``objective="item"``), ``group``
        (key of a group target, ``objective="system"``), ``min_fill_rate`` [probability] (a floor no item goes
        below, ``objective="system"``), ``promise_periods`` [periods] (``service="on_time"``), ``category`` and
        ``installed_base`` [units per period] (priors, module notes).
    fill_rate : float or mapping, default 0.95
        Target in (0, 1) [probability]. ``objective="item"``: one target, or a mapping class -> target (an item's
        own ``fill_rate`` column wins). ``objective="system"``: one target for every group, or a mapping
        group -> target. Ignored by ``service="cost"``.
    review_period : int, default 1
        ``R`` [periods].
    service : {"fill_rate", "cycle", "cost", "on_time"}, default "fill_rate"
        What the target measures. ``"on_time"``: the share of demand delivered within the item's
        ``promise_periods`` (from the shelf at once, or by a replenishment that arrives in time): for a lead time
        ``L`` and a promise ``τ``, a unit short is on time when ``L - τ < 0`` and otherwise as a fill rate with
        lead time ``L - τ`` (the wait of a backordered unit is at most ``L + 1`` periods under the simulator's
        convention). ``"cost"`` (``objective="item"`` only) uses the critical ratio as cycle service target
        (:func:`~zk_forecast.inventory.policy.critical_ratio`).
    objective : {"item", "system"}, default "item"
        ``"item"``: each item meets its own target at its least level. ``"system"``: the least expected on-hand
        value [CNY] such that the demand-weighted expected service of every group reaches its target, each next
        unit of stock going where it buys the most service per yuan (:mod:`zk_forecast.inventory.system`);
        ``min_fill_rate`` floors keep expensive critical parts from being starved. A group without any demand
        stocks nothing (its items keep ``s = -1``; its fill rate is reported as NaN).
    method : {"fitted", "bootstrap"}, default "fitted"
        Demand distribution (:class:`~zk_forecast.demand.distributions.LeadTimeDemand`).
    freq : str, default "W-MON"
        Period length of ``history``.
    receipts : pandas.DataFrame, optional
        Canonical receipts; series with at least ``min_receipts`` use the measured lead-time distribution
        (:func:`lead_time_from_receipts`) instead of ``lead_time``.
    prior : pandas.DataFrame, optional
        Long ``unique_id``, ``ds``, ``installed_base`` [units per period]: installed-base demand forecast.
    random_state : int or None, default 0
        Seed of the bootstrap.
    window : int, optional
        Fit the demand distributions (and ``mean_demand``, hence the lot size) on the last ``window`` periods of
        ``history`` only (the last period of the whole history ends every window) [periods]. An item without demand
        in its window gets ``s = -1, S = 0`` (not stocked) with ``basis = "history"``. Default: all periods from
        each item's first row.
    half_life : float or None, default 52
        Recency weighting of the demand fit [periods]: a period ``a`` periods before the last one of ``history``
        weighs ``0.5 ** (a / half_life)`` in the demand probability and in the mean and variance of the sizes
        (:class:`~zk_forecast.demand.distributions.LeadTimeDemand`); None weighs all periods the same.
        ``mean_demand`` and the lot size stay plain averages. The default, a year of weekly periods (use 12 for
        monthly history), was chosen on the MAN benchmark inside its fitting weeks only (rolling origins, see
        ``benchmarks/bench_inventory.py``).
    level_block : int or None, default 13
        Level uncertainty (``method="fitted"``): the demand level of an item wanders when the means of its
        non-overlapping blocks of ``level_block`` periods vary more than independent periods explain
        (:func:`~zk_forecast.demand.distributions.level_variance`); its pmfs are then mixtures over a mean-1
        gamma level multiplier with that relative variance, shared by all periods of the protection period.
        13 (a quarter of weekly periods; use 3 for monthly history) was chosen on the MAN benchmark inside its
        fitting weeks only. None: periods independent given the fitted level.
    widen : float, "backtest" or None, default None
        Extra relative level variance [-] priced into every item's pmfs (``method="fitted"``): ``"backtest"``
        measures it on the history at rolling origins inside the fitting window
        (:func:`~zk_forecast.inventory.calibrate.level_widening`), a number gives it, None adds none. The value
        used is ``result.attrs["widening"]``.
    season_length : int or None, default None
        The season ahead (``method="fitted"``): 52 for weekly history (12 for monthly). Each item's demand over
        its protection period, the ``L + R`` periods after the last one of ``history``, is scaled by the mean
        seasonal index of those periods, pooled per part across its depots and shrunk toward a flat profile
        (:func:`~zk_forecast.inventory.season.protection_scale`): levels ramp up before 夏收 and 秋收 and run down
        after. The scale is in ``result.attrs["season_scale"]``. None: no season (a level near the year's
        average).
    backtest : bool or mapping, default False
        Check the promise on the history before it is printed: plan with the same settings at rolling origins
        inside ``history`` and replay the periods after each
        (:func:`~zk_forecast.inventory.backtest.backtest_plan`; a mapping gives its ``origins``, ``horizon`` and
        ``warmup``). The frame of promised and achieved service per origin and group is
        ``result.attrs["backtest"]``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unique_id`` in the order and with the labels of ``items.index``: ``reorder_point`` and
        ``order_up_to`` [units], ``order_quantity`` (``S - s``) [units], ``expected_fill_rate`` (the expected
        on-time share with ``service="on_time"``) and ``expected_cycle_service`` [probability],
        ``expected_on_hand`` (end of a review cycle) [units], ``expected_on_hand_value`` [CNY], ``mean_demand``
        [units per period], ``forecast_demand`` (the mean of the fitted, recency-weighted distributions: an item's
        weight in its group's fill rate) [units per period], ``lead_time`` [periods, the mean when measured],
        ``target`` (the item's, or its group's), ``basis`` (``history`` / ``installed_base`` / ``similar`` / ``none``), ``lead_time_source``
        (``items`` / ``receipts``) and ``group``. ``result.attrs["groups"]`` is a DataFrame per group:
        ``target``, ``expected_fill_rate`` (demand-weighted over the group's items) [probability],
        ``expected_on_hand_value`` [CNY], ``items``, ``forecast_demand`` [units per period] and ``reached`` (False
        when no stock can reach the target).
    """
    _check_settings(service, objective, review_period, half_life, level_block, window)
    R = int(review_period)
    it = _check_items(items, fill_rate, service, objective, R)
    items = items.copy()
    items.index = items.index.astype(str)
    n = len(items)
    ctx = _prepare(history, items, it, R, freq=freq, window=window, receipts=receipts, prior=prior,
                   min_receipts=min_receipts)
    dem, lt_pmf, lt_src, lt_shown, rate, basis, use_prior, mean_d, Q = ctx
    sel = dem.has | use_prior
    s_all = np.where(it.critical, 0, -1).astype(np.int64)
    S_all = np.where(it.critical, 1, 0).astype(np.int64)
    fr_all = np.full(n, np.nan)
    cs_all = np.full(n, np.nan)
    oh_all = S_all.astype(np.float64)
    weight = np.zeros(n)  # expected demand per review period of the pmfs [units]: the weights of a group's service
    kw: dict[str, Any] = {"method": method, "half_life": half_life, "level_block": level_block,
                          "random_state": random_state,
                          "widen": _widening(widen, dem, it, lt_shown, R, half_life, level_block),
                          "scale": _season_scale(season_length, method, dem, lt_shown, R)}
    if objective == "item" and service != "on_time":
        svc = "fill_rate" if service == "fill_rate" else "cycle"
        for rows, a, b, f, _ in _all_batches(dem, it, lt_pmf, rate, use_prior, R, kw):
            if service == "cost":
                res = _cost_policy(rows, a, b, f, it, R)
            else:
                res = reorder_policy(a, b, f, it.target[rows], service=svc, order_quantity=Q[rows])
            weight[rows] = res["mean_r"]
            s_all[rows], S_all[rows] = res["reorder_point"], res["order_up_to"]
            fr_all[rows], cs_all[rows], oh_all[rows] = res["fill_rate"], res["cycle_service"], res["on_hand"]
        reached = np.ones(len(it.groups), dtype=bool)
    else:
        floor = it.target if objective == "item" else it.floor
        rows_sel, tab = _level_tables(dem, it, lt_pmf, rate, use_prior, R, kw, Q, floor,
                                      on_time=service == "on_time", skip_free=objective == "system")
        if objective == "item":
            level, reached = tab.s_lo, np.ones(len(it.groups), dtype=bool)
        else:
            level, reached = allocate(tab, it.cost[rows_sel], it.group[rows_sel],
                                      check_targets(np.asarray(it.groups), fill_rate))
        fr, cs, oh = tab.at(level)
        weight[rows_sel] = tab.mean_r
        none = tab.mean_r <= 0
        S_all[rows_sel] = np.where(none, 0, level)
        s_all[rows_sel] = np.where(none, -1, level - Q[rows_sel])
        fr_all[rows_sel], cs_all[rows_sel], oh_all[rows_sel] = fr, cs, np.where(none, 0.0, oh)
    fr_all[~sel] = np.nan
    cs_all[~sel] = np.nan
    out = pd.DataFrame(index=items.index, columns=_COLUMNS)
    out["reorder_point"] = s_all
    out["order_up_to"] = S_all
    out["order_quantity"] = S_all - s_all
    out["expected_fill_rate"] = fr_all
    out["expected_cycle_service"] = cs_all
    out["expected_on_hand"] = oh_all
    out["expected_on_hand_value"] = oh_all * it.cost
    out["mean_demand"] = mean_d
    out["forecast_demand"] = weight / R
    out["lead_time"] = lt_shown
    out["target"] = it.target
    out["basis"] = basis.astype(str)
    out["lead_time_source"] = lt_src.astype(str)
    for c in ("unit_cost", "moq", "pack_size"):
        if c in items.columns:
            out[c] = items[c]
    out["group"] = np.asarray(it.groups)[it.group]
    out.index = it.index  # the labels (and dtype) of items.index
    out.index.name = "unique_id"
    out.attrs["groups"] = _group_summary(out, it, weight, reached, R)
    out.attrs["widening"] = kw["widen"]
    if kw["scale"] is not None:
        out.attrs["season_scale"] = pd.Series(kw["scale"], index=it.index, name="season_scale")
    if backtest:
        from zk_forecast.inventory.backtest import backtest_plan

        opts = dict(backtest) if isinstance(backtest, Mapping) else {}
        out.attrs["backtest"] = backtest_plan(
            dem.panel, items.set_axis(it.index), freq=freq, **opts, fill_rate=fill_rate, review_period=R,
            service=service, objective=objective, method=method, receipts=receipts, prior=prior,
            min_receipts=min_receipts, random_state=random_state, window=window, half_life=half_life,
            level_block=level_block, widen=widen, season_length=season_length)
    return out


def _cost_policy(rows: np.ndarray, a: np.ndarray, b: np.ndarray, f: np.ndarray, it: _Items, R: int
                 ) -> dict[str, np.ndarray]:
    """Cost-optimal (R, s, S) by Zheng-Federgruen, the lot raised to the MOQ and pack, and its measures.

    The backorder cost ``b`` [CNY per unit short] is charged once per review cycle a unit waits (``b / R`` per
    period), so that the base-stock optimum is the newsvendor level at ``b / (b + h R)``
    (:func:`~zk_forecast.inventory.policy.critical_ratio`). Where the MOQ or pack size forces a larger lot than
    ``S - s``, the reorder point stays and ``S = s + lot``.
    """
    from zk_forecast.inventory.costpolicy import optimal_ss

    assert it.hold is not None and it.back is not None
    hold = np.nan_to_num(it.hold[rows])
    order_cost = np.zeros(rows.size) if it.order_cost is None else np.nan_to_num(it.order_cost[rows])
    mean_r = f @ np.arange(f.shape[1], dtype=np.float64)
    s = np.full(rows.size, -1, dtype=np.int64)
    S = np.zeros(rows.size, dtype=np.int64)
    live = mean_r > 0
    if live.any():
        s[live], S[live], _ = optimal_ss(f[live], a[live], holding_cost=hold[live],
                                         backorder_cost=it.back[rows][live] / R, order_cost=order_cost[live],
                                         review_period=R)
    lot = order_quantity(np.ones(rows.size), moq=it.moq[rows], pack_size=it.pack[rows])
    S = np.where(live, np.maximum(S, s + lot), 0)
    q = np.maximum(S - s, 1)
    J = undershoot_pmf(f, q)
    A, B = add_undershoot(a, J), add_undershoot(b, J)
    lv = np.maximum(S, 0)
    return {"reorder_point": s, "order_up_to": S, "mean_r": mean_r,
            "fill_rate": base_stock_fill_rate(A, B, mean_r, lv), "cycle_service": cycle_service_level(A, lv),
            "on_hand": expected_on_hand(A, lv)}


def _group_summary(out: pd.DataFrame, it: _Items, mu: np.ndarray, reached: np.ndarray, R: int) -> pd.DataFrame:
    """Per group: target, demand-weighted expected fill rate, on-hand value, items, demand, reached.

    The weights ``mu`` are the expected demand per review period of the fitted pmfs (recency-weighted), the same
    weights the system allocation uses; ``forecast_demand`` in the result is ``mu / R`` [units per period].
    """
    G = len(it.groups)
    g = it.group
    fr = np.nan_to_num(out["expected_fill_rate"].to_numpy(dtype=np.float64), nan=0.0)
    dem = np.bincount(g, weights=mu, minlength=G)
    with np.errstate(invalid="ignore", divide="ignore"):
        frg = np.where(dem > 0, np.bincount(g, weights=mu * fr, minlength=G) / dem, np.nan)
    tgt = np.full(G, np.nan)
    tgt[g] = it.target
    return pd.DataFrame({"target": tgt, "expected_fill_rate": frg,
                         "expected_on_hand_value": np.bincount(
                             g, weights=out["expected_on_hand_value"].to_numpy(dtype=np.float64), minlength=G),
                         "items": np.bincount(g, minlength=G),
                         "forecast_demand": dem / R, "reached": reached},
                        index=it.groups)


def system_groups(items: pd.DataFrame, targets: Mapping[str, float], *,
                  floor: Mapping[str, float] | None = None) -> tuple[pd.DataFrame, dict[str, float]]:
    """Groups of one depot and one promise class, their targets and floors, for ``plan(objective="system")``.

    Parameters
    ----------
    items : pandas.DataFrame
        Indexed by series id ``"PART|DEPOT"`` with a ``class`` column (e.g. ``wear_list`` / ``other``); without
        one every item is of class ``other``.
    targets : mapping of class -> float
        Fill-rate target of each class [probability].
    floor : mapping of class -> float, optional
        Least fill rate of any single item of a class [probability] (``min_fill_rate``), e.g. wear-list parts.

    Returns
    -------
    (items, fill_rate)
        ``items`` with ``group`` (``"DEPOT|class"``) and ``min_fill_rate``; ``fill_rate`` maps each group to its
        class's target.
    """
    from zk_forecast.schema import split_series_id

    cls = items["class"].astype(str) if "class" in items.columns else pd.Series("other", index=items.index)
    unknown = sorted(set(cls) - set(targets))
    if unknown:
        raise ZkValueError(f"no target for class {unknown[0]!r}; add it to the targets, e.g. "
                           f"{{{unknown[0]!r}: 0.95}} / 缺少该类配件的目标满足率。")
    depot = np.asarray(split_series_id(pd.Index(items.index.astype(str)))[1], dtype=object)
    group = depot + "|" + cls.to_numpy(dtype=object)
    out = items.assign(group=group)
    fl = floor or {}
    own = out["min_fill_rate"] if "min_fill_rate" in out.columns else pd.Series(np.nan, index=out.index)
    out["min_fill_rate"] = own.fillna(cls.map(lambda c: float(fl.get(c, 0.0))))
    fill = {str(g): float(targets[str(c)]) for g, c in zip(group, cls)}
    return out, dict(sorted(fill.items()))


def evaluate_levels(history: pd.DataFrame | Panel, items: pd.DataFrame, order_up_to: Any,
                    reorder_point: Any = None, review_period: int = 1, **settings: Any) -> pd.DataFrame:
    """Expected service and on-hand value of given levels (e.g. today's stock) on the plan's distributions.

    Parameters
    ----------
    history, items
        As :func:`plan` takes them (``items`` needs ``unit_cost``; ``group`` is used when present).
    order_up_to : array-like or pandas.Series, shape (n_items,)
        ``S`` per item [units] (a Series is aligned on ``items.index``; missing items get 0), e.g. the current
        inventory position (on hand + on order - backorders) as the level a planner holds today.
    reorder_point : array-like or pandas.Series, optional
        ``s`` per item [units]; default ``S - Q`` with the plan's lot size ``Q``.
    review_period : int, default 1
        ``R`` [periods].
    **settings
        As :func:`plan` (``method``, ``half_life``, ``level_block``, ``receipts``, ``prior``, ``freq``, ...).

    Returns
    -------
    pandas.DataFrame
        Indexed as ``items``: ``order_up_to``, ``reorder_point`` [units], ``expected_fill_rate`` [probability],
        ``expected_on_hand`` [units], ``expected_on_hand_value`` [CNY], ``group``; ``attrs["groups"]`` as
        :func:`plan`'s (target NaN). Items without a demand estimate get NaN service.
    """
    freq = settings.pop("freq", "W-MON")
    kw = {k: settings.pop(k) for k in ("receipts", "prior", "min_receipts", "window") if k in settings}
    method = settings.pop("method", "fitted")
    half_life = settings.pop("half_life", 52)
    level_block = settings.pop("level_block", 13)
    random_state = settings.pop("random_state", 0)
    if settings:
        raise ZkValueError(f"evaluate_levels got unknown settings {sorted(settings)}; it takes plan()'s.")
    _check_settings("fill_rate", "system", review_period, half_life, level_block, kw.get("window"))
    R = int(review_period)
    it = _check_items(items, 0.5, "fill_rate", "system", R)
    items = items.copy()
    items.index = items.index.astype(str)
    n = len(items)

    def per_item(v: Any, name: str) -> np.ndarray:
        if isinstance(v, pd.Series):
            v = v.set_axis(v.index.astype(str)).reindex(items.index).fillna(0)
        a = np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))
        if np.any(~np.isfinite(a)) or np.any(a != np.rint(a)):
            raise ZkValueError(f"{name} must be whole units per item; round it first.")
        return a.astype(np.int64)

    S = per_item(order_up_to, "order_up_to")
    dem, lt_pmf, _, lt_shown, rate, _, use_prior, mean_d, Q = _prepare(
        history, items, it, R, freq=freq, window=kw.get("window"), receipts=kw.get("receipts"),
        prior=kw.get("prior"), min_receipts=kw.get("min_receipts", 5))
    s = S - Q if reorder_point is None else per_item(reorder_point, "reorder_point")
    q = np.maximum(S - s, 1)
    fr = np.full(n, np.nan)
    oh = np.maximum(S, 0).astype(np.float64)
    weight = np.zeros(n)
    fit_kw: dict[str, Any] = {"method": method, "half_life": half_life, "level_block": level_block,
                              "random_state": random_state, "widen": 0.0}
    for rows, a, b, f, _ in _all_batches(dem, it, lt_pmf, rate, use_prior, R, fit_kw):
        J = undershoot_pmf(f, q[rows])
        A, B = add_undershoot(a, J), add_undershoot(b, J)
        weight[rows] = f @ np.arange(f.shape[1], dtype=np.float64)
        fr[rows] = base_stock_fill_rate(A, B, weight[rows], np.maximum(S[rows], 0))
        oh[rows] = expected_on_hand(A, np.maximum(S[rows], 0))
    out = pd.DataFrame({"order_up_to": S, "reorder_point": s, "expected_fill_rate": fr, "expected_on_hand": oh,
                        "expected_on_hand_value": oh * it.cost, "mean_demand": mean_d,
                        "forecast_demand": weight / R, "lead_time": lt_shown,
                        "group": np.asarray(it.groups)[it.group]}, index=it.index)
    out.index.name = "unique_id"
    out.attrs["groups"] = _group_summary(out, it._replace_target(np.full(n, np.nan)), weight,
                                         np.ones(len(it.groups), dtype=bool), R)
    return out

