"""Restock lists per depot (补货建议) that follow the two-echelon network plan, and the sheets a warehouse uses.

For every part × depot with a policy (``plan()`` output), stock, a wear-list minimum or a planner override:

* **where the part is stocked** (with ``network``, :func:`zk_forecast.inventory.network.plan_network`): a branch
  holds the parts the network plan places there, with the policies' levels (the network's own where the
  policies have none); a part the plan serves from Yinchuan is not stocked at the branch (不备库（按需订货）) and
  appears in its list only when it is owed (backorders), overridden, as a transfer request for what is owed.
  Yinchuan (the depot whose ``role`` is ``central``) stocks every part with demand in the network;
* **Yinchuan's levels are echelon levels**: its own policy plus the branches' expected draw over its lead time,
  ``⌈Σ_b rate_b × L_0⌉`` on the reorder point and ``⌈Σ_b rate_b × (L_0 + review_period)⌉`` on the order-up-to
  [units] (a part without an own policy keeps the network's central level, already computed on the whole
  network's demand); a wear-list quantity of a part it serves for a branch is held at Yinchuan;
* inventory position = on hand + on order − backorders [units]; **Yinchuan's position also counts the branches'
  open requests** (today's transfer lines, column ``branch_requests``), so its order covers what they draw;
* the **suggested quantity** is ``order_up_to − position`` when ``position <= reorder_point`` (不高于再订货点);
  at least ``wear minimum − position`` when the wear-part list asks for more than the position (易损件清单最低量,
  of the season the order serves); what is owed for a part not stocked (欠件); a planner override replaces the
  quantity (计划员调整). A supplier order is raised to the MOQ (最小起订量取整) and rounded up to whole packs
  (包装取整); a transfer from Yinchuan is not rounded;
* the **source**: a branch gets a part Yinchuan stocks by transfer (all parts without ``network``); Yinchuan, and a
  branch for a part Yinchuan does not stock, order from the supplier (``parts.supplier``, else the manufacturer);
* each transfer line is served from Yinchuan's stock on hand now (``ship_now``; lines with backorders first, then
  by branch), the rest after Yinchuan's order arrives (``ship_later``);
* order value = suggested quantity × unit cost [CNY].

The season an order serves is that of ``today + lead time`` (:func:`seasons_ahead`, from the one season table
:data:`zk_forecast.calendar.FARMING_SEASONS`): harvest quantities are ordered before the harvest and run down after.

:func:`restock_workbooks` writes one xlsx per depot (``restock_<DEPOT>.xlsx``: order sheet, full list, and in
Yinchuan's the transfer sheets) plus the csv twin of the list, Chinese by default, English with ``lang="en"``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.calendar import FARMING_SEASONS, season_of_month
from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.inventory.wearlist import WearList
from zk_forecast.names import safe_name
from zk_forecast.reports.data_dates import data_dates, latest_date
from zk_forecast.reports.workbook import Sheet, write_csv, write_workbook
from zk_forecast.schema import SERIES_SEP as _SEP
from zk_forecast.schema import central_depot

__all__ = ["ORDER_COLUMNS", "RESTOCK_COLUMNS", "RESTOCK_HEADERS", "TRANSFER_COLUMNS", "restock_table",
           "restock_workbooks", "seasons_ahead"]

#: Columns of a restock list, in order, with their kind (number format).
RESTOCK_COLUMNS: Mapping[str, str] = {
    "part_no": "text", "name": "text", "spec": "text", "unit": "text", "on_hand": "int", "on_order": "int",
    "backorders": "int", "branch_requests": "int", "position": "int", "reorder_point": "int", "order_up_to": "int",
    "suggested_qty": "int", "moq": "int", "pack_size": "int", "unit_cost": "money", "order_value": "money",
    "source": "text", "supplier": "text", "reason": "text", "expected_fill_rate": "share",
}
#: Columns of the order sheet (订货单): the lines to order only.
ORDER_COLUMNS: Mapping[str, str] = {
    "part_no": "text", "name": "text", "spec": "text", "unit": "text", "suggested_qty": "int", "moq": "int",
    "pack_size": "int", "unit_cost": "money", "order_value": "money", "supplier": "text", "source": "text",
    "reason": "text",
}
#: Columns of a branch's transfer sheet (调拨单) in Yinchuan's workbook.
TRANSFER_COLUMNS: Mapping[str, str] = {
    "part_no": "text", "name": "text", "spec": "text", "unit": "text", "requested": "int",
    "central_on_hand": "int", "ship_now": "int", "ship_later": "int", "reason": "text",
}
#: Headers by language.
RESTOCK_HEADERS: Mapping[str, Mapping[str, str]] = {
    "zh": {"part_no": "存货编码", "name": "配件名称", "spec": "规格型号", "unit": "单位", "on_hand": "现存量",
           "on_order": "在途", "backorders": "欠件", "branch_requests": "分库调拨申请", "position": "库存位置",
           "reorder_point": "再订货点", "order_up_to": "最高库存", "suggested_qty": "建议订货量", "moq": "最小起订量",
           "pack_size": "包装数", "unit_cost": "单价", "order_value": "订货金额", "source": "来源", "supplier": "供应商",
           "reason": "原因", "expected_fill_rate": "预计满足率", "depot_id": "网点", "central_on_hand": "银川现存量",
           "ship_now": "现在可发", "ship_later": "待到货后发", "requested": "申请调拨数量"},
    "en": {"part_no": "Part number", "name": "Part name", "spec": "Specification", "unit": "Unit",
           "on_hand": "On hand", "on_order": "On order", "backorders": "Backorders",
           "branch_requests": "Branch requests", "position": "Inventory position", "reorder_point": "Reorder point",
           "order_up_to": "Order-up-to", "suggested_qty": "Suggested qty", "moq": "MOQ", "pack_size": "Pack size",
           "unit_cost": "Unit cost (CNY)", "order_value": "Order value (CNY)", "source": "Source",
           "supplier": "Supplier", "reason": "Reason", "expected_fill_rate": "Expected fill rate", "depot_id": "Depot",
           "central_on_hand": "Yinchuan on hand", "ship_now": "Ship now", "ship_later": "Ship on arrival",
           "requested": "Requested"},
}
_TEXT = {
    "zh": {"transfer": "银川中心库调拨", "supplier": "供应商采购", "below": "不高于再订货点", "wear": "易损件清单最低量",
           "override": "计划员调整", "backorder": "欠件（不备库，按需订货）", "backorder_transfer": "欠件（不备库，按需调拨）",
           "moq": "最小起订量取整", "pack": "包装取整",
           "not_stocked": "不备库（按需订货）", "sep": "；", "list": "补货建议", "order": "订货单", "transfer_sheet": "调拨单",
           "as_of": "数据截至", "generated": "生成时间", "subtotal": "小计", "total": "合计", "lines": "行",
           "no_supplier": "（未填供应商）", "nothing": "今日无需订货。",
           "stale": "⚠ 数据已过期：库存数据截至 {as_of}{age}，订货前请核实库存与导出文件。",
           "age": "，距生成已 {days} 天", "open": "（", "close": "）", "gap": "\u3000"},
    "en": {"transfer": "transfer from Yinchuan", "supplier": "supplier order", "below": "at or below reorder point",
           "wear": "wear-list minimum", "override": "planner override",
           "backorder": "backorder (not stocked, ordered on demand)",
           "backorder_transfer": "backorder (not stocked, transferred on demand)", "moq": "raised to MOQ",
           "pack": "rounded up to whole packs", "not_stocked": "not stocked (ordered on demand)", "sep": "; ",
           "list": "Restock", "order": "Order sheet", "transfer_sheet": "Transfer",
           "as_of": "Data as of", "generated": "Generated at", "subtotal": "Subtotal", "total": "Total",
           "lines": "lines", "no_supplier": "(no supplier)", "nothing": "Nothing to order today.",
           "stale": "⚠ Stale data: the stock data end on {as_of}{age}; check stock and exports before ordering.",
           "age": ", {days} days before this list was generated", "open": " (", "close": ")", "gap": "  "},
}
_SEASON_TEXT = {"zh": {s.key: s.zh for s in FARMING_SEASONS}, "en": {s.key: s.en for s in FARMING_SEASONS}}


def seasons_ahead(parts: pd.DataFrame, today: Any) -> pd.Series:
    """The farming season an order placed ``today`` serves, per part: the season of ``today + lead time``.

    Parameters
    ----------
    parts : pandas.DataFrame
        Canonical ``parts`` (``part_no``, ``lead_time_days`` [days]).
    today : date-like
        The day the order is placed [date].

    Returns
    -------
    pandas.Series
        Season key (:data:`zk_forecast.calendar.FARMING_SEASONS`) indexed by ``part_no``, for the ``season``
        argument of :func:`restock_table`.
    """
    p = parts.drop_duplicates("part_no", keep="first")
    days = pd.to_numeric(p["lead_time_days"], errors="coerce").fillna(0).clip(lower=0).to_numpy(dtype=np.int64)
    arrive = pd.Timestamp(today).normalize() + pd.to_timedelta(days, unit="D")
    return pd.Series(season_of_month(arrive.month.to_numpy()), index=pd.Index(p["part_no"].astype(str), name="part_no"),
                     name="season")


def _parts_frame(parts: pd.DataFrame) -> pd.DataFrame:
    p = parts.set_index("part_no") if "part_no" in parts.columns else parts
    p = p[~p.index.duplicated(keep="first")]
    out = pd.DataFrame(index=p.index.astype(str))

    def text(*cols: str) -> Any:
        for c in cols:  # the first column present, blanks filled from the next
            if c in p.columns:
                v = p[c].astype("string").str.strip().replace("", pd.NA)
                rest = [x for x in cols[cols.index(c) + 1:] if x in p.columns]
                for r in rest:
                    v = v.fillna(p[r].astype("string").str.strip().replace("", pd.NA))
                return v.fillna("").to_numpy(dtype=object)
        return ""

    out["name"] = text("name")
    out["spec"] = text("spec")
    out["unit"] = text("unit", "uom")
    out["supplier"] = text("supplier", "manufacturer")
    for c, default in (("unit_cost", np.nan), ("pack_size", 1.0), ("moq", 0.0)):
        out[c] = pd.to_numeric(p[c], errors="coerce").to_numpy(dtype=np.float64) if c in p.columns else default
    out["pack_size"] = out["pack_size"].where(out["pack_size"] > 0, 1.0).fillna(1.0)
    out["moq"] = out["moq"].fillna(0.0).clip(lower=0.0)
    return out


def _policies_frame(policies: pd.DataFrame) -> pd.DataFrame:
    p = policies
    if not {"part_no", "depot_id"} <= set(p.columns):
        uid = p.index.astype(str)
        if not uid.str.contains(_SEP, regex=False).all():
            raise ZkValueError("policies must be indexed by unique_id 'PART|DEPOT' (plan() output) or have "
                               "columns part_no and depot_id.")
        import pyarrow as pa
        import pyarrow.compute as pc

        # the text before the first separator and after it, as str.partition gives them
        halves = pc.split_pattern(pa.array(uid.to_numpy(dtype=object), type=pa.string()), _SEP, max_splits=1)
        p = p.assign(part_no=pc.list_element(halves, 0).to_numpy(zero_copy_only=False),
                     depot_id=pc.list_element(halves, 1).to_numpy(zero_copy_only=False))
    miss = [c for c in ("reorder_point", "order_up_to") if c not in p.columns]
    if miss:
        raise ZkValueError(f"policies lacks {miss}; give plan() output (reorder_point, order_up_to).")
    keep = ["part_no", "depot_id", "reorder_point", "order_up_to"]
    if "expected_fill_rate" in p.columns:
        keep.append("expected_fill_rate")
    out = p[keep].copy()
    out["part_no"] = out["part_no"].astype(str)
    out["depot_id"] = out["depot_id"].astype(str)
    return out.drop_duplicates(["part_no", "depot_id"], keep="last").reset_index(drop=True)


def _network_frame(network: pd.DataFrame) -> pd.DataFrame:
    n = network.reset_index() if "part_no" not in network.columns else network
    miss = [c for c in ("part_no", "depot_id", "stocked", "rate", "lead_time", "reorder_point", "order_up_to")
            if c not in n.columns]
    if miss:
        raise ZkValueError(f"network lacks {miss}; give plan_network() output (zk_forecast.inventory.network).")
    out = pd.DataFrame({"part_no": n["part_no"].astype(str).to_numpy(), "depot_id": n["depot_id"].astype(str).to_numpy(),
                        "net_stocked": n["stocked"].astype(bool).to_numpy(),
                        "rate": pd.to_numeric(n["rate"], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64),
                        "net_lead_time": pd.to_numeric(n["lead_time"], errors="coerce").to_numpy(dtype=np.float64),
                        "net_s": pd.to_numeric(n["reorder_point"], errors="coerce").to_numpy(dtype=np.float64),
                        "net_S": pd.to_numeric(n["order_up_to"], errors="coerce").to_numpy(dtype=np.float64)})
    return out.drop_duplicates(["part_no", "depot_id"], keep="last")


def _stock_frame(stock: pd.DataFrame) -> pd.DataFrame:
    s = stock.copy()
    if "as_of" in s.columns and len(s):
        s = s.sort_values("as_of", kind="stable").drop_duplicates(["part_no", "depot_id"], keep="last")
    out = pd.DataFrame({"part_no": s["part_no"].astype(str).to_numpy(), "depot_id": s["depot_id"].astype(str).to_numpy()})
    for c in ("on_hand", "on_order", "backorders"):
        out[c] = pd.to_numeric(s[c], errors="coerce").fillna(0).to_numpy(dtype=np.int64) if c in s.columns else 0
    return out


def _wear_minimum(wear_list: Any, season: Any) -> pd.DataFrame:
    if isinstance(wear_list, WearList):
        if wear_list.by != "depot":
            raise ZkValueError(f"wear_list must be drawn up per depot (by='depot') for the restock lists; got "
                               f"by={wear_list.by!r}. Fix: pass wear_list(..., by='depot').")
        f = wear_list.frame
    elif isinstance(wear_list, pd.DataFrame):
        f = wear_list
    else:
        raise ZkTypeError(f"wear_list must be a WearList or its frame (a DataFrame); got {type(wear_list).__name__}.")
    miss = [c for c in ("part_no", "quantity") if c not in f.columns]
    if miss or not ({"key", "depot_id"} & set(f.columns)):
        raise ZkValueError(f"wear_list lacks {miss or ['key']}; give wear_list() output (key, part_no, quantity, "
                           "season, listed).")
    f = f[f["listed"].astype(bool)] if "listed" in f.columns else f
    key = "key" if "key" in f.columns else "depot_id"
    part = f["part_no"].astype(str)
    if season is not None and "season" in f.columns:
        if isinstance(season, str):
            zh = f["season_zh"] if "season_zh" in f.columns else f["season"]
            keep = (f["season"] == season) | (zh == season)
        else:
            want = pd.Series(season).astype(str)
            keep = part.map(want).to_numpy() == f["season"].astype(str).to_numpy()
        f, part = f[keep], part[keep]
    g = f.groupby([f[key].astype(str), part])["quantity"].max()
    return g.rename("wear_min").rename_axis(["depot_id", "part_no"]).reset_index()


def _overrides_frame(overrides: pd.DataFrame) -> pd.DataFrame:
    ren = {"网点": "depot_id", "仓库": "depot_id", "存货编码": "part_no", "数量": "quantity", "建议订货量": "quantity",
           "备注": "note"}
    o = overrides.rename(columns=ren)
    miss = [c for c in ("depot_id", "part_no", "quantity") if c not in o.columns]
    if miss:
        raise ZkValueError(f"overrides lacks {miss}; it needs depot_id, part_no, quantity (and optionally note).")
    q = pd.to_numeric(o["quantity"], errors="coerce")
    if q.isna().any() or (q < 0).any():
        i = int(np.flatnonzero((q.isna() | (q < 0)).to_numpy())[0])
        raise ZkValueError(f"override row {i} has quantity {o['quantity'].iloc[i]!r}; it must be a number >= 0.")
    out = pd.DataFrame({"depot_id": o["depot_id"].astype(str).to_numpy(), "part_no": o["part_no"].astype(str).to_numpy(),
                        "override_qty": q.to_numpy(dtype=np.float64),
                        "note": o["note"].astype("string").fillna("").to_numpy() if "note" in o.columns else ""})
    return out.drop_duplicates(["depot_id", "part_no"], keep="last")


def _pair_keys(frames: list[pd.DataFrame | None]) -> list[pd.DataFrame | None]:
    """Each frame with ``_k``: one integer per distinct (``part_no``, ``depot_id``) over all the frames."""
    have = [f for f in frames if f is not None]
    part, _ = pd.factorize(np.concatenate([f["part_no"].to_numpy(dtype=object) for f in have]))
    depot, du = pd.factorize(np.concatenate([f["depot_id"].to_numpy(dtype=object) for f in have]))
    key = part.astype(np.int64) * max(len(du), 1) + depot
    out: list[pd.DataFrame | None] = []
    at = 0
    for f in frames:
        if f is None:
            out.append(None)
            continue
        out.append(f.assign(_k=key[at:at + len(f)]))
        at += len(f)
    return out


def _central(depots: pd.DataFrame | None, central: str | None) -> str:
    if depots is None:
        if central is None:
            raise ZkValueError("restock lists need the depots table (depot_id, role) to find the central warehouse; "
                               "pass depots=store.read('depots') / 需要网点表以确定中心库.")
        return str(central)
    d = depots.reset_index() if "depot_id" not in depots.columns else depots
    found = central_depot(d)
    if central is not None and str(central) != found:
        raise ZkValueError(f"central={central!r} but the depots table marks {found!r} as the central warehouse "
                           f"(role central); leave central out or fix the depots export / 中心库与网点表不一致.")
    return found


def _round_up(q: np.ndarray, moq: np.ndarray, pack: np.ndarray) -> np.ndarray:
    q = np.where(q > 0, np.maximum(q, moq), 0.0)
    return (np.ceil(q / pack - 1e-9) * pack).astype(np.int64)


def _join(parts: list[np.ndarray], sep: str) -> np.ndarray:
    """Element-wise join of text arrays, skipping empty texts."""
    out = parts[0].astype(object)
    for p in parts[1:]:
        both = (out != "") & (p != "")
        out = np.where(both, out + sep + p, np.where(out != "", out, p)).astype(object)
    return out


def restock_table(policies: pd.DataFrame, stock: pd.DataFrame, parts: pd.DataFrame, *,
                  depots: pd.DataFrame | None = None, network: pd.DataFrame | None = None, wear_list: Any = None,
                  overrides: pd.DataFrame | None = None, season: Any = None, review_period: int = 1,
                  lang: str = "zh", central: str | None = None) -> pd.DataFrame:
    """The restock lines of every depot (module notes for the rules).

    Parameters
    ----------
    policies : pandas.DataFrame
        :func:`zk_forecast.inventory.plan.plan` output, indexed by ``"PART|DEPOT"``: ``reorder_point``,
        ``order_up_to`` [units], optional ``expected_fill_rate``.
    stock : pandas.DataFrame
        Canonical ``stock``: ``depot_id``, ``part_no``, ``on_hand``, ``on_order``, ``backorders`` [units]; the
        latest ``as_of`` per part × depot is used. Missing rows count as zero.
    parts : pandas.DataFrame
        Canonical ``parts``: ``name``, ``spec``, ``uom``, ``supplier`` (else ``manufacturer``), ``unit_cost``
        [CNY], ``pack_size``, ``moq`` [units].
    depots : pandas.DataFrame
        Canonical ``depots`` (``depot_id``, ``role``): the central warehouse is the depot with role ``central``.
    network : pandas.DataFrame, optional
        :func:`zk_forecast.inventory.network.plan_network` output (``part_no``, ``depot_id``, ``stocked``,
        ``rate`` [units per period], ``lead_time`` [periods], ``reorder_point``, ``order_up_to``): where each
        part is stocked, the branches' demand and Yinchuan's lead time. Without it every depot holds the
        policies' levels and branches get every part from Yinchuan.
    wear_list : WearList or DataFrame, optional
        Per-depot wear-part list (``key``, ``part_no``, ``quantity``, ``listed``, ``season``): its quantity is a
        minimum position.
    overrides : pandas.DataFrame, optional
        Planner overrides ``depot_id``, ``part_no``, ``quantity`` [units] (the suggested quantity, before MOQ
        and pack rounding), optional ``note``.
    season : str or Series, optional
        The wear-list season the order serves: one key (``"wheat_harvest"`` or ``"夏收"``) or a Series of keys
        indexed by ``part_no`` (:func:`seasons_ahead`). None: the largest quantity over the seasons.
    review_period : int, default 1
        Periods between orders [periods]: the branches' draw on Yinchuan is added over ``lead time`` (reorder
        point) and ``lead time + review_period`` (order-up-to).
    lang : {"zh", "en"}, default "zh"
        Language of ``source`` and ``reason``.
    central : str, optional
        The central warehouse id; it must agree with ``depots`` (only needed when ``depots`` is not given).

    Returns
    -------
    pandas.DataFrame
        ``depot_id`` then :data:`RESTOCK_COLUMNS`, then ``stocked`` (bool: the depot holds the part),
        ``ship_now`` (units of a transfer line Yinchuan can ship from its stock now), ``central_on_hand`` and
        ``ship_later`` [units]; per depot the lines with a suggested quantity first (largest order value first),
        then the rest by part number. ``reorder_point`` and ``order_up_to`` are missing where not stocked.
    """
    if lang not in _TEXT:
        raise ZkValueError(f"lang must be one of {sorted(_TEXT)}; got {lang!r}.")
    if not isinstance(review_period, (int, np.integer)) or review_period < 0:
        raise ZkValueError(f"review_period must be a whole number >= 0 [periods]; got {review_period!r}.")
    tx = _TEXT[lang]
    c_id = _central(depots, central)
    pol = _policies_frame(policies)
    st = _stock_frame(stock)
    net = _network_frame(network) if network is not None else None
    if net is not None:
        lost = sorted(set(pol["depot_id"]) - set(net["depot_id"]) - {c_id})
        if lost:
            raise ZkValueError(f"branch {lost[0]!r} has policies but no row in the network plan, so the plan cannot "
                               f"say what it stocks; plan the network with every branch (its transfer days in the "
                               f"config, [depots.transfer_days]) / 网络计划中缺少分库 {lost[0]}，请在配置中补上其调拨天数.")
    wm = _wear_minimum(wear_list, season) if wear_list is not None else None
    ov = _overrides_frame(overrides) if overrides is not None else None
    # every part × depot pair as one integer key (one factorisation of the texts), then the joins on it
    pol_k, st_k, wm, ov, net = _pair_keys([pol, st, wm, ov, net])
    assert pol_k is not None and st_k is not None
    frames = [pol_k, st_k, *(x for x in (wm, ov) if x is not None)]
    if net is not None:
        frames.append(net[net["depot_id"] == c_id])
    df = pd.concat([f[["part_no", "depot_id", "_k"]] for f in frames], ignore_index=True).drop_duplicates("_k")
    for extra, cols in ((pol_k, [c for c in pol.columns if c not in ("part_no", "depot_id")]),
                        (st_k, ["on_hand", "on_order", "backorders"]), (wm, ["wear_min"]), (ov, ["override_qty", "note"]),
                        (net, ["net_stocked", "rate", "net_lead_time", "net_s", "net_S"])):
        df = df.merge(extra[["_k", *cols]] if extra is not None else pd.DataFrame(columns=["_k", *cols]),
                      how="left", on="_k")
    df = df.drop(columns="_k")
    pinfo = _parts_frame(parts)
    unknown = sorted(set(df["part_no"]) - set(pinfo.index))
    if unknown:
        raise ZkValueError(f"part {unknown[0]!r} has a policy or stock but is not in parts; add it to the parts master.")
    df = df.reset_index(drop=True)
    for c in ("on_hand", "on_order", "backorders"):
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype(np.int64)
    num = {c: pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64)
           for c in ("reorder_point", "order_up_to", "wear_min", "override_qty", "rate", "net_lead_time", "net_s",
                     "net_S")}
    is_c = (df["depot_id"] == c_id).to_numpy()
    s, S = num["reorder_point"], num["order_up_to"]
    wmin = num["wear_min"]
    if net is not None:
        # where the part is stocked: Yinchuan always; a branch where the network plan places it
        net_stock = df["net_stocked"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        stocked_here = is_c | net_stock
        no_pol = ~np.isfinite(S)
        s = np.where(no_pol & stocked_here, num["net_s"], s)
        S = np.where(no_pol & stocked_here, num["net_S"], S)
        s, S = np.where(stocked_here, s, np.nan), np.where(stocked_here, S, np.nan)
        # Yinchuan: the branches' expected draw over its lead time (echelon stock), on top of its own policy
        br = df.loc[~is_c, ["part_no"]].assign(rate=num["rate"][~is_c])
        draw = br.groupby("part_no")["rate"].sum()
        L0 = pd.Series(num["net_lead_time"][is_c], index=df.loc[is_c, "part_no"])
        r = draw.reindex(df["part_no"]).fillna(0.0).to_numpy()
        lt = L0.reindex(df["part_no"]).fillna(0.0).to_numpy()
        own = is_c & np.isfinite(num["order_up_to"])  # the network's own central level already counts the branches
        s = np.where(own, s + np.ceil(r * lt - 1e-9), s)
        S = np.where(own, S + np.ceil(r * (lt + review_period) - 1e-9), S)
        # a wear-list quantity of a part Yinchuan serves for a branch is held at Yinchuan
        if wm is not None:
            held = pd.Series(np.where(~is_c & ~net_stock, np.nan_to_num(wmin), 0.0)).groupby(df["part_no"]).sum()
            extra = held.reindex(df["part_no"]).fillna(0.0).to_numpy()
            wmin = np.where(is_c & (extra > 0), np.nan_to_num(wmin) + extra, np.where(stocked_here, wmin, np.nan))
    stocked = np.isfinite(S) & (S > 0)
    wear = np.isfinite(wmin) & (wmin > 0)
    oq = num["override_qty"]
    over = np.isfinite(oq)
    has_stock = df[["on_hand", "on_order", "backorders"]].to_numpy().any(axis=1)
    # a part nobody stocks here is listed only when it is owed, overridden or ... (branches); Yinchuan keeps its stock
    keep = stocked | wear | over | (df["backorders"].to_numpy() > 0) | (is_c & has_stock) | (network is None)
    df = df[keep].reset_index(drop=True)
    s, S, wmin, oq, is_c = s[keep], S[keep], wmin[keep], oq[keep], is_c[keep]
    stocked, wear, over = stocked[keep], wear[keep], over[keep]
    pi = pinfo.reindex(df["part_no"])
    moq, pack = pi["moq"].to_numpy(), pi["pack_size"].to_numpy()
    central_has = set(df.loc[is_c & stocked, "part_no"]) if network is not None else set(df["part_no"])
    via_yc = ~is_c & df["part_no"].isin(central_has).to_numpy()
    base = (df["on_hand"] + df["on_order"] - df["backorders"]).to_numpy(dtype=np.float64)

    def lines(pos: np.ndarray, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Quantity and reason texts of ``rows`` given their inventory position."""
        below = rows & stocked & (pos <= s) & (S - pos > 0)
        wear_need = rows & wear & (pos < wmin)
        owed = rows & ~stocked & ~wear & (pos < 0)
        raw = np.where(below, S - pos, 0.0)
        raw = np.where(wear_need, np.maximum(raw, wmin - pos), raw)
        raw = np.where(owed, -pos, raw)
        raw = np.where(rows & over, oq, raw)
        need = np.ceil(raw - 1e-9)
        supplier = rows & ~via_yc
        qty = np.where(supplier, _round_up(need, moq, pack), np.maximum(need, 0)).astype(np.int64)
        by_moq = supplier & (need > 0) & (need < moq)
        by_pack = supplier & (qty > np.maximum(need, moq))
        return {"qty": qty, "below": below & ~over, "wear": wear_need & ~over, "owed": owed & ~over,
                "moq": by_moq, "pack": by_pack}

    branch = lines(base, ~is_c)
    # Yinchuan's position counts the branches' open requests (today's transfer lines)
    req = pd.Series(np.where(via_yc, branch["qty"], 0)).groupby(df["part_no"]).sum()
    requests = np.where(is_c, req.reindex(df["part_no"]).fillna(0).to_numpy(), 0).astype(np.int64)
    cen = lines(base - requests, is_c)
    qty = np.where(is_c, cen["qty"], branch["qty"])
    flag = {k: np.where(is_c, cen[k], branch[k]) for k in ("below", "wear", "owed", "moq", "pack")}
    wear_text: Any = tx["wear"]
    if season is not None:
        sk = (pd.Series(season).astype(str).reindex(df["part_no"]).fillna("").to_numpy(dtype=object)
              if not isinstance(season, str) else np.full(len(df), season, dtype=object))
        label = np.array([_SEASON_TEXT[lang].get(k, k) for k in sk], dtype=object)
        wear_text = np.where(label != "", wear_text + tx["open"] + label + tx["close"], wear_text)
    e = np.full(len(df), "", dtype=object)
    note = df["note"].astype("string").fillna("").to_numpy(dtype=object)
    over_text = np.where(note != "", tx["override"] + tx["open"] + note + tx["close"], tx["override"])
    reason = _join([np.where(flag["below"], tx["below"], e), np.where(flag["wear"], wear_text, e),
                    np.where(flag["owed"], np.where(via_yc, tx["backorder_transfer"], tx["backorder"]), e),
                    np.where(over, over_text, e),
                    np.where(flag["moq"], tx["moq"], e), np.where(flag["pack"], tx["pack"], e)], tx["sep"])
    reason = np.where(qty > 0, reason, "")
    cost = pi["unit_cost"].to_numpy(dtype=np.float64)
    pos = base - requests

    def level(x: np.ndarray) -> pd.arrays.IntegerArray:
        return pd.array(np.where(stocked & np.isfinite(x), x, np.nan), dtype="Float64").round().astype("Int64")

    out = pd.DataFrame({
        "depot_id": df["depot_id"].to_numpy(), "part_no": df["part_no"].to_numpy(),
        "name": pi["name"].to_numpy(dtype=object), "spec": pi["spec"].to_numpy(dtype=object),
        "unit": pi["unit"].to_numpy(dtype=object), "on_hand": df["on_hand"].to_numpy(),
        "on_order": df["on_order"].to_numpy(), "backorders": df["backorders"].to_numpy(),
        "branch_requests": requests, "position": pos.astype(np.int64),
        "reorder_point": level(s), "order_up_to": level(S), "suggested_qty": qty,
        "moq": pi["moq"].round().astype(np.int64).to_numpy(), "pack_size": pi["pack_size"].round().astype(np.int64).to_numpy(),
        "unit_cost": cost, "order_value": np.round(qty * cost, 2),
        "source": np.where(via_yc, tx["transfer"], tx["supplier"]).astype(object),
        "supplier": np.where(via_yc, "", pi["supplier"].to_numpy(dtype=object)).astype(object),
        "reason": reason.astype(object),
        "expected_fill_rate": np.where(stocked, pd.to_numeric(df["expected_fill_rate"], errors="coerce")
                                       .to_numpy(dtype=np.float64), np.nan)
        if "expected_fill_rate" in df.columns else np.nan,
        "stocked": stocked,
    })
    out = _allocate(out, is_c, via_yc, c_id)
    out["_has"] = out["suggested_qty"] <= 0
    out["_val"] = -np.nan_to_num(out["order_value"].to_numpy(dtype=np.float64))
    out = out.sort_values(["depot_id", "_has", "_val", "part_no"], kind="stable")
    return out.drop(columns=["_has", "_val"]).reset_index(drop=True)


def _allocate(out: pd.DataFrame, is_c: np.ndarray, via_yc: np.ndarray, central: str) -> pd.DataFrame:
    """``ship_now`` / ``ship_later`` of every transfer line from Yinchuan's stock on hand now: lines with
    backorders first, then by branch id and part number."""
    on_hand = pd.Series(out["on_hand"].to_numpy()[is_c], index=out["part_no"].to_numpy()[is_c])
    avail = on_hand.reindex(out["part_no"]).fillna(0).clip(lower=0).to_numpy(dtype=np.int64)
    q = np.where(via_yc, out["suggested_qty"].to_numpy(), 0)
    order = np.lexsort((out["part_no"].to_numpy(), out["depot_id"].to_numpy(), out["backorders"].to_numpy() <= 0,
                        out["part_no"].to_numpy()))
    qs = q[order]
    before = pd.Series(qs).groupby(out["part_no"].to_numpy()[order]).cumsum().to_numpy() - qs
    ship = np.zeros(len(out), dtype=np.int64)
    ship[order] = np.clip(avail[order] - before, 0, qs)
    out["central_on_hand"] = np.where(via_yc, avail, 0)
    out["ship_now"] = ship
    out["ship_later"] = q - ship
    return out


def _levels_shown(frame: pd.DataFrame, tx: Mapping[str, str]) -> pd.DataFrame:
    """Reorder point and order-up-to as the sheet shows them: 不备库（按需订货） where the depot holds no stock; no MOQ
    or pack size on a transfer line (a transfer is not rounded)."""
    out = _supplier_terms(frame, tx)
    for c in ("reorder_point", "order_up_to"):
        v = out[c].astype(object).to_numpy()
        out[c] = np.where(out["stocked"].to_numpy(dtype=bool), v, tx["not_stocked"])
        out[c] = out[c].map(lambda x: None if x is pd.NA else (int(x) if isinstance(x, (int, np.integer)) else x))
    return out


def _supplier_terms(frame: pd.DataFrame, tx: Mapping[str, str]) -> pd.DataFrame:
    """A copy of ``frame`` with MOQ and pack size blank on transfer lines (they apply to supplier orders only)."""
    out = frame.copy()
    transfer = (out["source"] == tx["transfer"]).to_numpy()
    for c in ("moq", "pack_size"):
        out[c] = pd.array(np.where(transfer, np.nan, out[c].to_numpy(dtype=np.float64)), dtype="Float64").astype("Int64")
    return out


def _order_totals(lines: pd.DataFrame, tx: Mapping[str, str]) -> list[dict[str, Any]]:
    """Rows under the order sheet: one subtotal per supplier (or source), then the total."""
    rows: list[dict[str, Any]] = []
    if not len(lines):
        return rows
    group = lines["supplier"].where(lines["supplier"] != "", lines["source"])
    for g, part in lines.groupby(group.to_numpy(), sort=False):
        rows.append({"supplier": str(g), "name": f"{tx['subtotal']}{tx['open']}{len(part)} {tx['lines']}{tx['close']}",
                     "order_value": round(float(part["order_value"].sum()), 2)})
    rows.append({"name": f"{tx['total']}{tx['open']}{len(lines)} {tx['lines']}{tx['close']}",
                 "order_value": round(float(lines["order_value"].sum()), 2)})
    return rows


def restock_workbooks(policies: pd.DataFrame, stock: pd.DataFrame, parts: pd.DataFrame, out_dir: str | Path, *,
                      depots: pd.DataFrame | None = None, network: pd.DataFrame | None = None,
                      wear_list: Any = None, overrides: pd.DataFrame | None = None, season: Any = None,
                      review_period: int = 1, as_of: Any = None, generated_at: Any = None, stale: bool = False,
                      lang: str = "zh", central: str | None = None,
                      warn: Callable[[str], None] | None = None) -> dict[str, Path]:
    """Write one restock workbook (and the csv twin of its list) per depot: the one way to make the lists.

    Each workbook holds the order sheet (订货单: only the lines to order, grouped by supplier, with totals per
    supplier and overall), the full list (补货建议) and, in Yinchuan's, one transfer sheet (调拨单) per branch:
    what the branch asked for, how much Yinchuan can ship from its stock now and how much follows on arrival. Every
    sheet starts with the depot, 数据截至 and 生成时间 (and a stale-data banner when ``stale``), prints landscape
    one page wide with its header row on every page.

    Parameters
    ----------
    policies, stock, parts, depots, network, wear_list, overrides, season, review_period, lang, central
        As :func:`restock_table`.
    out_dir : path-like
        Folder for ``restock_<DEPOT>.xlsx`` and ``restock_<DEPOT>.csv``.
    as_of : date-like, optional
        数据截至 [date]; default the latest ``as_of`` of ``stock`` (the stock snapshot's date).
    generated_at : date-time-like, optional
        生成时间 [date-time], also the workbooks' created property; the batch passes its run time. Only when it is
        absent is the clock read.
    stale : bool, default False
        Put the stale-data banner at the top of every sheet (the batch decides it from its data-age rule).
    warn : callable, optional
        Receives one message (Chinese / English) per kind of gap in the parts master among the lines to order
        (no unit, no supplier); such cells are left blank, never an error.

    Returns
    -------
    dict of str → pathlib.Path
        Depot id → its xlsx file (the csv twin sits beside it).
    """
    table = restock_table(policies, stock, parts, depots=depots, network=network, wear_list=wear_list,
                          overrides=overrides, season=season, review_period=review_period, lang=lang, central=central)
    tx, headers = _TEXT[lang], RESTOCK_HEADERS[lang]
    c_id = _central(depots, central)
    dates = data_dates(as_of, generated_at, stale, latest_date([stock["as_of"] if "as_of" in stock.columns else None]))
    names: dict[str, str] = {}
    ids = set(table["depot_id"])
    if depots is not None:
        d = depots.set_index("depot_id") if "depot_id" in depots.columns else depots
        ids |= {str(k) for k in d.index}
        if "name" in d.columns:
            names = {str(k): str(v) for k, v in d["name"].items() if not pd.isna(v)}
    stamp = (f"{tx['as_of']} {'–' if dates.as_of is None else f'{dates.as_of:%Y-%m-%d}'}{tx['gap']}"
             f"{tx['generated']} {dates.generated_at:%Y-%m-%d %H:%M:%S}")
    banner: list[str] = []
    if dates.stale:
        days = dates.age_days
        age = tx["age"].format(days=days) if days is not None and days >= 0 else ""
        banner = [tx["stale"].format(as_of="–" if dates.as_of is None else f"{dates.as_of:%Y-%m-%d}", age=age)]
    if warn is not None:
        todo = table[table["suggested_qty"] > 0]
        for col, zh, en in (("unit", "单位", "unit"), ("supplier", "供应商", "supplier")):
            gap = todo[(todo[col] == "") & ((col != "supplier") | (todo["source"] == tx["supplier"]))]
            if len(gap):
                some = ", ".join(sorted(set(gap["part_no"]))[:5])
                warn(f"{gap['part_no'].nunique()} 个待订配件缺少{zh}（表中留空）/ {gap['part_no'].nunique()} parts to "
                     f"order have no {en} in the parts master (left blank): {some}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    list_cols = list(RESTOCK_COLUMNS)
    for dep in sorted(ids):
        g = table[table["depot_id"] == dep].reset_index(drop=True)
        head = f"{dep} {names.get(dep, '')}".strip()
        cols = list_cols if dep == c_id else [c for c in list_cols if c != "branch_requests"]

        def above(label: str, empty: bool = False, head: str = head) -> list[str]:
            return [f"{head} {label}", stamp, *banner, *([tx["nothing"]] if empty else [])]

        todo = g[g["suggested_qty"] > 0]
        group = todo["supplier"].where(todo["supplier"] != "", todo["source"])
        todo = todo.assign(_g=group.to_numpy()).sort_values(["_g", "part_no"], kind="stable")
        order = _supplier_terms(todo, tx)[list(ORDER_COLUMNS)].reset_index(drop=True)
        full = _levels_shown(g, tx)[cols].reset_index(drop=True)
        sheets = [Sheet(tx["order"], order, headers, dict(ORDER_COLUMNS), above=above(tx["order"], not len(order)),
                      below=_order_totals(order, tx), layout="landscape"),
                  Sheet(tx["list"], full, headers, {c: RESTOCK_COLUMNS[c] for c in cols}, above=above(tx["list"]),
                        layout="landscape")]
        if dep == c_id:
            moves = table[(table["depot_id"] != c_id) & (table["ship_now"] + table["ship_later"] > 0)]
            moves = moves.assign(requested=moves["suggested_qty"])
            for b in sorted(ids - {c_id}):
                lines_b = moves[moves["depot_id"] == b][list(TRANSFER_COLUMNS)].sort_values("part_no", kind="stable")
                label = f"{tx['transfer_sheet']} {b} {names.get(b, '')}".strip()
                sheets.append(Sheet(label, lines_b.reset_index(drop=True), headers, dict(TRANSFER_COLUMNS),
                                    above=above(label, not len(lines_b), head=f"{head} →"), layout="landscape"))
        stem = f"restock_{safe_name(dep)}"  # a depot id from an export never leaves ``out``
        path = write_workbook(out / f"{stem}.xlsx", sheets, title=f"{head} {tx['list']}",
                              created=dates.generated_at.to_pydatetime())
        write_csv(out / f"{stem}.csv", full, headers)
        written[dep] = path
    return written
