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
from zk_forecast.errors import ZkValueError
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


def write_restock_reports(store_dir: str | Path, out_dir: str | Path, *, config: Any = None,
                          lang: str | None = None, fill_rate: float | None = None) -> dict[str, Path]:
    """Write the restock workbook of every depot and the wear-part list workbook, as the nightly does.

    The one way to make the lists: :func:`zk_forecast.batch.run.restock_lists` runs the night's own steps
    (plan, network, restock) on the store, with the night's settings (``config``) or the example configuration's.

    Parameters
    ----------
    store_dir : path
        The store (``zk-forecast ingest`` output).
    out_dir : path
        Folder for ``restock_<DEPOT>.xlsx`` (+ csv) and ``wear_parts.xlsx``.
    config : path or Config, optional
        The nightly's ``zk.toml`` (targets, objective, lead times, network); default the example configuration.
    lang : {"zh", "en"}, optional
        Header language (default the configuration's).
    fill_rate : None
        No longer taken: the targets are the configuration's ``[targets]``; a value is refused with that fix.

    Returns
    -------
    dict
        Depot id (and ``"wear_parts"``) → path written.
    """
    from zk_forecast.batch.run import restock_lists

    if fill_rate is not None:
        raise ZkValueError("write_restock_reports takes its targets from the configuration, as the nightly does; "
                           "fix: set [targets] in zk.toml and pass config= / 目标满足率取自配置文件 [targets]")
    store = Store(store_dir)
    missing = [t for t in ("parts", "part_issues", "stock", "depots", "machines") if t not in store.tables()]
    if missing:
        raise ZkValueError(f"the store {store.path} has no {', '.join(missing)} table; run zk-forecast ingest first")
    return restock_lists(config, out_dir, store_dir=store_dir, lang=lang)
