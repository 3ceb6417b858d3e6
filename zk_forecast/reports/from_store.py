"""Restock workbooks and the wear-part list straight from the store: the body of ``zk-forecast report restock``.

Weekly panel of demand per part × depot → policies for a fill-rate target (lead times from the parts master,
converted to weeks) → one restock workbook per depot (with its csv twin) and the wear-part list workbook (per depot
and per customer fleet). The nightly batch composes the same steps with more control.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.data.store import Store
from zk_forecast.demand.panel import build_panel
from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.plan import plan
from zk_forecast.inventory.wearlist import wear_list
from zk_forecast.reports.restock import restock_workbooks
from zk_forecast.reports.wearlist_report import wearlist_workbook
from zk_forecast.schema import series_id, split_series_id

__all__ = ["items_from_parts", "plan_items", "wear_list_parts", "wear_list_series", "write_restock_reports"]

DAYS_PER_WEEK = 7


def items_from_parts(unique_ids: pd.Index, parts: pd.DataFrame) -> pd.DataFrame:
    """Items table for :func:`~zk_forecast.inventory.plan.plan` from the parts master.

    Parameters
    ----------
    unique_ids : Index of str
        Series ids ``PART|DEPOT``.
    parts : DataFrame
        Canonical parts table (``lead_time_days`` [days], ``unit_cost`` [CNY], ``pack_size``, ``moq`` [units]).

    Returns
    -------
    DataFrame indexed by unique_id with ``lead_time`` [weeks, rounded up], ``unit_cost``, ``pack_size``, ``moq``.
    """
    p = parts.set_index("part_no")
    part_of = pd.Index(split_series_id(unique_ids)[0])
    unknown = sorted(set(part_of) - set(p.index))
    if unknown:
        raise ZkValueError(f"parts {unknown[:5]} have demand but are not in the parts master; ingest the parts export")
    days = p.loc[part_of, "lead_time_days"].to_numpy(dtype=float)
    return pd.DataFrame({
        "lead_time": np.ceil(days / DAYS_PER_WEEK).astype(int),
        "unit_cost": p.loc[part_of, "unit_cost"].to_numpy(dtype=float),
        "pack_size": p.loc[part_of, "pack_size"].to_numpy(dtype=float),
        "moq": p.loc[part_of, "moq"].to_numpy(dtype=float),
    }, index=unique_ids)


def wear_list_series(wear_list: Any) -> set[str]:
    """Series ids ``PART|DEPOT`` listed on a depot wear-part list (``wear_list(..., by="depot")``)."""
    wl = wear_list.frame
    on = wl["listed"].astype(bool)
    return set(series_id(wl.loc[on, "part_no"].astype(str), wl.loc[on, "key"].astype(str)))


def wear_list_parts(wear_list: Any) -> set[str]:
    """Part numbers listed on a wear-part list at any depot (or for any customer)."""
    wl = wear_list.frame
    return set(wl.loc[wl["listed"].astype(bool), "part_no"].astype(str))


def plan_items(unique_ids: pd.Index, parts: pd.DataFrame, *, wear_list: Any = None) -> pd.DataFrame:
    """Items for :func:`~zk_forecast.inventory.plan.plan`: :func:`items_from_parts` plus the promise ``class``.

    Parameters
    ----------
    unique_ids : Index of str
        Series ids ``PART|DEPOT``.
    parts : DataFrame
        Canonical parts table.
    wear_list : WearList, optional
        The depot wear-part list: its series get class ``wear_list``, every other ``other``.

    Returns
    -------
    DataFrame
        As :func:`items_from_parts`, with ``class`` when ``wear_list`` is given.
    """
    items = items_from_parts(unique_ids, parts)
    if wear_list is not None:
        listed = wear_list_series(wear_list)
        items["class"] = ["wear_list" if u in listed else "other" for u in items.index]
    return items


def write_restock_reports(store_dir: str | Path, out_dir: str | Path, *, fill_rate: float = 0.95,
                          lang: str = "zh") -> dict[str, Path]:
    """Write the restock workbook of every depot and the wear-part list workbook.

    Parameters
    ----------
    store_dir : path
        The store (``zk-forecast ingest`` output).
    out_dir : path
        Folder for ``restock_<DEPOT>.xlsx`` (+ csv) and ``wear_parts.xlsx``.
    fill_rate : float, default 0.95
        Target share of demand served from stock at once [probability].
    lang : {"zh", "en"}
        Header language.

    Returns
    -------
    dict
        Depot id (and ``"wear_parts"``) → path written.
    """
    store = Store(store_dir)
    missing = [t for t in ("parts", "part_issues", "stock", "depots", "machines") if t not in store.tables()]
    if missing:
        raise ZkValueError(f"the store {store.path} has no {', '.join(missing)} table; run zk-forecast ingest first")
    read = store.read
    parts, issues = read("parts"), read("part_issues")
    history = build_panel(issues, parts).to_long()
    history = history[history["y"].notna()]
    items = items_from_parts(pd.Index(sorted(history["unique_id"].unique())), parts)
    policies = plan(history, items, fill_rate=fill_rate)
    tables = store.tables()
    tickets = read("tickets") if "tickets" in tables else None
    comp = read("component_parts") if "component_parts" in tables else None
    depot_list = wear_list(issues, parts, read("machines"), tickets=tickets, component_parts=comp)
    fleet_list = wear_list(issues, parts, read("machines"), tickets=tickets, component_parts=comp, by="customer")
    out = Path(out_dir)
    paths = dict(restock_workbooks(policies, read("stock"), parts, out, wear_list=depot_list, lang=lang,
                                   depots=read("depots")))
    paths["wear_parts"] = wearlist_workbook(depot_list, out / "wear_parts.xlsx", fleet_list, lang=lang,
                                            depots=read("depots"))
    return paths
