"""Restock workbook per depot (补货建议): what to order or transfer, how much, why, and what it costs.

For every part × depot with a policy (``plan()`` output), stock, a wear-list minimum or a planner override:

* inventory position = on hand + on order − backorders [units];
* the **suggested quantity** is ``order_up_to − position`` when ``position <= reorder_point`` (below reorder point,
  低于再订货点); when the wear-part list asks for more than the position (``position < wear minimum``) at least
  ``wear minimum − position`` (易损件清单最低量); a planner override replaces the quantity (计划员调整). A positive
  quantity is raised to the MOQ and rounded up to a whole number of packs;
* the **source**: a branch gets the part by transfer from 银川中心库 (YC01) when the part is stocked centrally
  (``plan_network`` rows, or always when no network is given); Yinchuan itself, and branches for parts not held
  centrally, order from the supplier;
* order value = suggested quantity × unit cost [CNY].

One xlsx per depot (``restock_<DEPOT>.xlsx``) plus its csv twin, Chinese headers by default, English with
``lang="en"``; written with :mod:`zk_forecast.reports.workbook` (safe text, frozen header, filters, formats).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.errors import ZkValueError
from zk_forecast.names import safe_name
from zk_forecast.reports.workbook import Sheet, write_csv, write_workbook

__all__ = ["RESTOCK_COLUMNS", "RESTOCK_HEADERS", "restock_table", "restock_workbooks"]

#: Columns of the restock table, in order, with their kind (number format).
RESTOCK_COLUMNS: Mapping[str, str] = {
    "part_no": "text", "name": "text", "on_hand": "int", "on_order": "int", "backorders": "int",
    "position": "int", "reorder_point": "int", "order_up_to": "int", "suggested_qty": "int",
    "unit_cost": "money", "order_value": "money", "source": "text", "reason": "text", "expected_fill_rate": "share",
}
#: Headers by language.
RESTOCK_HEADERS: Mapping[str, Mapping[str, str]] = {
    "zh": {"part_no": "存货编码", "name": "配件名称", "on_hand": "现存量", "on_order": "在途", "backorders": "欠件",
           "position": "库存位置", "reorder_point": "再订货点", "order_up_to": "最高库存",
           "suggested_qty": "建议订货量", "unit_cost": "单价", "order_value": "订货金额", "source": "来源",
           "reason": "原因", "expected_fill_rate": "预计满足率", "depot_id": "网点"},
    "en": {"part_no": "Part number", "name": "Part name", "on_hand": "On hand", "on_order": "On order",
           "backorders": "Backorders", "position": "Inventory position", "reorder_point": "Reorder point",
           "order_up_to": "Order-up-to", "suggested_qty": "Suggested qty", "unit_cost": "Unit cost (CNY)",
           "order_value": "Order value (CNY)", "source": "Source", "reason": "Reason",
           "expected_fill_rate": "Expected fill rate", "depot_id": "Depot"},
}
_TEXT = {
    "zh": {"transfer": "银川中心库调拨", "supplier": "供应商采购", "below": "低于再订货点", "wear": "易损件清单最低量",
           "override": "计划员调整", "sep": "；", "sheet": "补货建议"},
    "en": {"transfer": "transfer from Yinchuan", "supplier": "supplier order", "below": "below reorder point",
           "wear": "wear-list minimum", "override": "planner override", "sep": "; ", "sheet": "Restock"},
}
_SEP = "|"


def _parts_frame(parts: pd.DataFrame) -> pd.DataFrame:
    p = parts.set_index("part_no") if "part_no" in parts.columns else parts
    p = p[~p.index.duplicated(keep="first")]
    out = pd.DataFrame(index=p.index.astype(str))
    out["name"] = p["name"].astype("string").fillna("").to_numpy() if "name" in p.columns else ""
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
        split = uid.str.split(_SEP, n=1)
        p = p.assign(part_no=[s[0] for s in split], depot_id=[s[1] for s in split])
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


def _stock_frame(stock: pd.DataFrame) -> pd.DataFrame:
    s = stock.copy()
    if "as_of" in s.columns and len(s):
        s = s.sort_values("as_of", kind="stable").drop_duplicates(["part_no", "depot_id"], keep="last")
    out = pd.DataFrame({"part_no": s["part_no"].astype(str).to_numpy(), "depot_id": s["depot_id"].astype(str).to_numpy()})
    for c in ("on_hand", "on_order", "backorders"):
        out[c] = pd.to_numeric(s[c], errors="coerce").fillna(0).to_numpy(dtype=np.int64) if c in s.columns else 0
    return out


def _wear_minimum(wear_list: Any, season: str | None) -> pd.DataFrame:
    f = wear_list.frame if hasattr(wear_list, "frame") else wear_list
    if getattr(wear_list, "by", "depot") != "depot":
        raise ZkValueError("wear_list must be drawn up per depot (by='depot') for the restock workbook.")
    f = f[f["listed"].astype(bool)] if "listed" in f.columns else f
    if season is not None:
        f = f[(f["season"] == season) | (f.get("season_zh", f["season"]) == season)]
    key = "key" if "key" in f.columns else "depot_id"
    g = f.groupby([f[key].astype(str), f["part_no"].astype(str)])["quantity"].max()
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


def _round_up(q: np.ndarray, moq: np.ndarray, pack: np.ndarray) -> np.ndarray:
    q = np.where(q > 0, np.maximum(q, moq), 0.0)
    return (np.ceil(q / pack - 1e-9) * pack).astype(np.int64)


def _reasons(below: np.ndarray, wear: np.ndarray, over: np.ndarray, notes: pd.Series, tx: Mapping[str, str],
             lang: str) -> list[str]:
    """Reason text per line: below reorder point, wear-list minimum, planner override (with its note), joined."""
    sep = tx["sep"]
    # the four below × wear combinations, then the override part where there is one
    combos = np.array(["", tx["wear"], tx["below"], tx["below"] + sep + tx["wear"]], dtype=object)
    out = combos[2 * below.astype(np.intp) + wear.astype(np.intp)]
    rows = np.flatnonzero(over)
    if len(rows):
        note = notes.astype("string").fillna("").to_numpy(dtype=object)[rows]
        text = [tx["override"] + (f"（{n}）" if lang == "zh" and n else f" ({n})" if n else "") for n in note.tolist()]
        out[rows] = [f"{b}{sep}{t}" if b else t for b, t in zip(out[rows].tolist(), text)]
    return out.tolist()


def restock_table(policies: pd.DataFrame, stock: pd.DataFrame, parts: pd.DataFrame, *,
                  network: pd.DataFrame | None = None, wear_list: Any = None, overrides: pd.DataFrame | None = None,
                  lang: str = "zh", central: str = "YC01", season: str | None = None) -> pd.DataFrame:
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
        Canonical ``parts``: ``name``, ``unit_cost`` [CNY], ``pack_size``, ``moq`` [units].
    network : pandas.DataFrame, optional
        :func:`zk_forecast.inventory.network.plan_network` output (``part_no``, ``depot_id``, ``stocked``): a
        branch part is transferred from Yinchuan when Yinchuan stocks it, else ordered from the supplier.
    wear_list : WearList or DataFrame, optional
        Per-depot wear-part list (``key``, ``part_no``, ``quantity``, ``listed``, ``season``): its quantity is a
        minimum position.
    overrides : pandas.DataFrame, optional
        Planner overrides ``depot_id``, ``part_no``, ``quantity`` [units] (the suggested quantity, before pack
        rounding), optional ``note``.
    lang : {"zh", "en"}, default "zh"
        Language of ``source`` and ``reason``.
    central : str, default "YC01"
        The central warehouse (银川中心库).
    season : str, optional
        Wear-list season to use (e.g. ``"wheat_harvest"`` or ``"夏收"``); default the largest over seasons.

    Returns
    -------
    pandas.DataFrame
        ``depot_id`` then :data:`RESTOCK_COLUMNS`; per depot the lines with a suggested quantity first (largest
        order value first), then the rest by part number.
    """
    if lang not in _TEXT:
        raise ZkValueError(f"lang must be one of {sorted(_TEXT)}; got {lang!r}.")
    tx = _TEXT[lang]
    pol = _policies_frame(policies)
    st = _stock_frame(stock)
    keys = pd.concat([pol[["part_no", "depot_id"]], st[["part_no", "depot_id"]]], ignore_index=True)
    wm = _wear_minimum(wear_list, season) if wear_list is not None else None
    ov = _overrides_frame(overrides) if overrides is not None else None
    for extra in (wm, ov):
        if extra is not None:
            keys = pd.concat([keys, extra[["part_no", "depot_id"]]], ignore_index=True)
    df = keys.drop_duplicates().merge(pol, how="left", on=["part_no", "depot_id"])
    df = df.merge(st, how="left", on=["part_no", "depot_id"])
    df = df.merge(wm if wm is not None else pd.DataFrame(columns=["part_no", "depot_id", "wear_min"]),
                  how="left", on=["part_no", "depot_id"])
    df = df.merge(ov if ov is not None else pd.DataFrame(columns=["part_no", "depot_id", "override_qty", "note"]),
                  how="left", on=["part_no", "depot_id"])
    pinfo = _parts_frame(parts)
    unknown = sorted(set(df["part_no"]) - set(pinfo.index))
    if unknown:
        raise ZkValueError(f"part {unknown[0]!r} has a policy or stock but is not in parts; add it to the parts master.")
    pi = pinfo.reindex(df["part_no"])
    for c in ("on_hand", "on_order", "backorders"):
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(0).astype(np.int64)
    pos = (df["on_hand"] + df["on_order"] - df["backorders"]).to_numpy(dtype=np.float64)
    s = pd.to_numeric(df["reorder_point"], errors="coerce").to_numpy(dtype=np.float64)
    S = pd.to_numeric(df["order_up_to"], errors="coerce").to_numpy(dtype=np.float64)
    wmin = pd.to_numeric(df["wear_min"], errors="coerce").to_numpy(dtype=np.float64)
    oq = pd.to_numeric(df["override_qty"], errors="coerce").to_numpy(dtype=np.float64)
    below = np.isfinite(s) & np.isfinite(S) & (pos <= s) & (S - pos > 0)
    wear = np.isfinite(wmin) & (pos < wmin)
    over = np.isfinite(oq)
    raw = np.where(below, S - pos, 0.0)
    raw = np.where(wear, np.maximum(raw, wmin - pos), raw)
    raw = np.where(over, oq, raw)
    qty = _round_up(raw, pi["moq"].to_numpy(), pi["pack_size"].to_numpy())
    cost = pi["unit_cost"].to_numpy(dtype=np.float64)

    reasons = _reasons(below, wear, over, df["note"], tx, lang)

    central_has: set[str] = set()
    if network is not None:
        net = network
        stocked = net["stocked"].astype(bool) if "stocked" in net.columns else pd.Series(True, index=net.index)
        central_has = set(net.loc[(net["depot_id"].astype(str) == central) & stocked, "part_no"].astype(str))
    is_central = (df["depot_id"] == central).to_numpy()
    via_yc = ~is_central & (df["part_no"].isin(central_has).to_numpy() if network is not None else True)
    source = np.where(via_yc, tx["transfer"], tx["supplier"])

    out = pd.DataFrame({
        "depot_id": df["depot_id"].to_numpy(),
        "part_no": df["part_no"].to_numpy(),
        "name": pi["name"].to_numpy(dtype=object),
        "on_hand": df["on_hand"].to_numpy(),
        "on_order": df["on_order"].to_numpy(),
        "backorders": df["backorders"].to_numpy(),
        "position": pos.astype(np.int64),
        "reorder_point": pd.array(np.where(np.isfinite(s), s, np.nan), dtype="Float64").round().astype("Int64"),
        "order_up_to": pd.array(np.where(np.isfinite(S), S, np.nan), dtype="Float64").round().astype("Int64"),
        "suggested_qty": qty,
        "unit_cost": cost,
        "order_value": np.round(qty * cost, 2),
        "source": source,
        "reason": reasons,
        "expected_fill_rate": pd.to_numeric(df["expected_fill_rate"], errors="coerce").to_numpy(dtype=np.float64)
        if "expected_fill_rate" in df.columns else np.nan,
    })
    out["_has"] = out["suggested_qty"] <= 0
    out["_val"] = -np.nan_to_num(out["order_value"].to_numpy(dtype=np.float64))
    out = out.sort_values(["depot_id", "_has", "_val", "part_no"], kind="stable")
    return out.drop(columns=["_has", "_val"]).reset_index(drop=True)


def restock_workbooks(policies: pd.DataFrame, stock: pd.DataFrame, parts: pd.DataFrame, out_dir: str | Path,
                      network: pd.DataFrame | None = None, wear_list: Any = None,
                      overrides: pd.DataFrame | None = None, lang: str = "zh", *, central: str = "YC01",
                      season: str | None = None, depots: pd.DataFrame | None = None) -> dict[str, Path]:
    """Write one restock workbook (and csv twin) per depot.

    Parameters
    ----------
    policies, stock, parts, network, wear_list, overrides, lang, central, season
        As :func:`restock_table`.
    out_dir : path-like
        Folder for ``restock_<DEPOT>.xlsx`` and ``restock_<DEPOT>.csv``.
    depots : pandas.DataFrame, optional
        Canonical ``depots`` (``depot_id``, ``name``): the depot name goes into the sheet title.

    Returns
    -------
    dict of str → pathlib.Path
        Depot id → its xlsx file (the csv twin sits beside it).
    """
    table = restock_table(policies, stock, parts, network=network, wear_list=wear_list, overrides=overrides,
                          lang=lang, central=central, season=season)
    headers = RESTOCK_HEADERS[lang]
    names: dict[str, str] = {}
    if depots is not None:
        d = depots.set_index("depot_id") if "depot_id" in depots.columns else depots
        if "name" in d.columns:
            names = {str(k): str(v) for k, v in d["name"].items()}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    cols = list(RESTOCK_COLUMNS)
    for depot, g in table.groupby("depot_id", sort=True):
        frame = g[cols].reset_index(drop=True)
        dep = str(depot)
        title = f"{dep} {names.get(dep, '')} {_TEXT[lang]['sheet']}".replace("  ", " ")
        stem = f"restock_{safe_name(dep)}"  # a depot id from an export never leaves ``out``
        path = write_workbook(out / f"{stem}.xlsx",
                              [Sheet(title, frame, headers, dict(RESTOCK_COLUMNS))], title=title)
        write_csv(out / f"{stem}.csv", frame, headers)
        written[dep] = path
    return written
