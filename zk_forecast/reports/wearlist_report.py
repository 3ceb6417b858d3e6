"""Wear-part list workbook (易损件清单): one sheet per depot and one per customer fleet, with the promise class.

A part on the list is promised within 5 working days (易损件 5 个工作日); a row kept only because a planner
forced the part off the list (``listed`` false) is promised like any other part (其他 15 个工作日). The working
days come from :class:`zk_forecast.service.commitments.Promises` when it is importable, else 5 / 15.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.errors import ZkValueError
from zk_forecast.reports.workbook import Sheet, write_workbook

__all__ = ["promise_class", "wearlist_workbook"]

_EN = {"网点": "Depot", "客户": "Customer", "存货编码": "Part number", "配件名称": "Part name", "建议数量": "Quantity",
       "季节": "Season", "依据": "Basis", "人工调整": "Planner override", "承诺等级": "Promise class"}


def _days() -> tuple[int, int]:
    try:
        from zk_forecast.service.commitments import DEFAULT_PROMISES as P
        return int(P.wear_list_working_days), int(P.other_parts_working_days)
    except Exception:  # pragma: no cover - the service layer is optional here
        return 5, 15


def promise_class(listed: bool, lang: str = "zh") -> str:
    """Promise class of a part: on the list ``易损件 5 个工作日``, else ``其他 15 个工作日`` (English with ``lang="en"``)."""
    wear, other = _days()
    if lang == "en":
        return f"wear part, {wear} working days" if listed else f"other, {other} working days"
    return f"易损件 {wear} 个工作日" if listed else f"其他 {other} 个工作日"


def _frame(wl: Any, lang: str, season: str | None) -> pd.DataFrame:
    rep = wl.to_report(season)
    f = wl.frame
    if season is not None:
        f = f[(f["season"] == season) | (f["season_zh"] == season)]
    listed = f["listed"].to_numpy()
    flags = listed if listed.dtype == np.bool_ else np.array([bool(x) for x in listed.tolist()], dtype=bool)
    rep["承诺等级"] = np.where(flags, promise_class(True, lang), promise_class(False, lang)).tolist()
    rep["建议数量"] = pd.to_numeric(rep["建议数量"], errors="coerce").round().astype("Int64")
    return rep.rename(columns=_EN) if lang == "en" else rep


def wearlist_workbook(depot_list: Any, out_path: str | Path, fleet_list: Any = None, *, lang: str = "zh",
                      season: str | None = None, depots: pd.DataFrame | None = None) -> Path:
    """Write the wear-part list workbook.

    Parameters
    ----------
    depot_list : WearList
        ``wear_list(..., by="depot")``: one sheet per depot (sheet ``YC01 银川中心库`` when ``depots`` names it).
    out_path : path-like
        Target ``.xlsx``.
    fleet_list : WearList, optional
        ``wear_list(..., by="customer")``: one sheet ``客户机队`` (``Customer fleets``) with every customer's rows.
    lang : {"zh", "en"}, default "zh"
        Header language.
    season : str, optional
        Restrict to one season (``"wheat_harvest"`` or ``"夏收"``); default all seasons.
    depots : pandas.DataFrame, optional
        Canonical ``depots`` for the depot names in sheet titles.

    Returns
    -------
    pathlib.Path
        ``out_path``.
    """
    if lang not in ("zh", "en"):
        raise ZkValueError(f"lang must be 'zh' or 'en'; got {lang!r}.")
    if getattr(depot_list, "by", "depot") != "depot":
        raise ZkValueError("depot_list must be a wear list drawn up by='depot'.")
    names: dict[str, str] = {}
    if depots is not None and "name" in depots.columns:
        d = depots.set_index("depot_id") if "depot_id" in depots.columns else depots
        names = {str(k): str(v) for k, v in d["name"].items()}
    rep = _frame(depot_list, lang, season)
    key = "Depot" if lang == "en" else "网点"
    sheets = []
    for dep, g in rep.groupby(key, sort=True):
        sheets.append(Sheet(f"{dep} {names.get(str(dep), '')}".strip(), g.reset_index(drop=True)))
    if fleet_list is not None:
        if getattr(fleet_list, "by", "customer") != "customer":
            raise ZkValueError("fleet_list must be a wear list drawn up by='customer'.")
        fr = _frame(fleet_list, lang, season)
        ck = "Customer" if lang == "en" else "客户"
        fr = fr.sort_values([ck, fr.columns[1]], kind="stable").reset_index(drop=True)
        sheets.append(Sheet("Customer fleets" if lang == "en" else "客户机队", fr))
    if not sheets:
        sheets.append(Sheet("Wear list" if lang == "en" else "易损件清单", rep))
    return write_workbook(out_path, sheets, title="易损件清单 Wear-part list")
