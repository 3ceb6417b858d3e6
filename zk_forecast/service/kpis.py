"""Service KPIs: the promises of :mod:`~zk_forecast.service.commitments` measured on tickets and part issues.

What is measured (one row per event in :attr:`ServiceKPIs.events`, then counted per group)
-----------------------------------------------------------------------------------------
on site
    Breakdown calls answered on site: tickets of kind ``failure`` (``onsite_kinds``) with ``channel == "onsite"``
    and an ``arrived_at``. Arrival time [h] = ``arrived_at - reported_at`` in clock hours (a call-out runs day and
    night, so calendar hours, not working hours). On time when ``<= on_site_hours``. Median and 90th percentile
    (linear interpolation, ``pandas.Series.quantile``).
repairs
    Tickets of kind ``failure``. Repair time [working days] = :func:`zk_forecast.calendar.working_days_between`
    of the report day and the completion day: the working days ``d`` with ``reported < d <= resolved`` on the
    Chinese calendar (statutory holidays off, swapped weekend working days 调休 on), so a repair finished the day
    it was reported took 0. On time when ``<= warranty_repair_working_days`` (``in_warranty`` true) or
    ``<= other_repair_working_days`` (false); an unknown warranty status is measured against the out-of-warranty
    promise and counted in ``warranty_unknown``. Tickets without ``resolved_at`` are open: counted, and late when
    already past their promise at ``as_of``.
loaners
    A warranty repair that ran late (resolved late, or open and past its promise) owes a loaner (周转件):
    ``loaners_owed``; ``loaners_issued_late`` of them had ``loaner_issued`` true; ``loaners_missing`` did not.
    Loaners issued for repairs on time are counted as ``loaners_extra``.
parts
    Part issues of kind ``repair`` (``part_kinds``, quantity > 0) that name a ticket (``ticket_id``). Delivery
    [working days] = working days from the ticket's report day to the issue day (``issued_on``, the day the part
    left the warehouse for the repair; an issue dated before the report counts 0). The promise is
    ``wear_list_working_days`` for parts on the wear-part list and ``other_parts_working_days`` otherwise. The
    list is per depot when it names depots, and per farming season when it names seasons (as the
    :class:`~zk_forecast.inventory.wearlist.WearList` of the nightly batch does): a line is held to the 5-day
    promise when its part was listed at the ticket's depot for the season of the ticket's report month
    (:func:`zk_forecast.calendar.season_of_month`). Issues naming an unknown ticket are counted in
    ``attrs["parts_unlinked"]`` and left out.
late
    Each event carries how late it was: ``hours_late`` [h] for on-site arrivals, ``working_days_late``
    [working days] for repairs (open ones judged at ``as_of``) and part lines; 0 when on time.

Every event is attributed to the ticket's depot, the month of its report (``period_start(..., "MS")``), the
ticket's engineer and machine (``serial_no``). The answer times ("at once", "within 1 day") are not measured: the exports hold no answer
timestamps.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.calendar import WorkingCalendar, default_calendar, period_start, season_of_month
from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.schema import require_columns
from zk_forecast.service.commitments import DEFAULT_PROMISES, Promises

__all__ = ["KPI_COLUMNS", "ServiceKPIs", "service_kpis", "wear_list_keys"]

#: KPI columns in order: name → (Chinese label, English label); ``{…}`` is filled from the promises.
KPI_COLUMNS: Mapping[str, tuple[str, str]] = {
    "depot_id": ("网点", "depot"),
    "month": ("月份", "month"),
    "engineer": ("服务工程师", "engineer"),
    "onsite_calls": ("上门报修数", "on-site calls"),
    "onsite_on_time_share": ("{h}小时内到场占比", "share on site within {h} h"),
    "arrival_median_h": ("到场时间中位数(小时)", "median arrival time [h]"),
    "arrival_p90_h": ("到场时间90分位(小时)", "90th percentile arrival time [h]"),
    "warranty_repairs": ("三包期内维修数", "warranty repairs"),
    "warranty_repairs_on_time_share": ("三包维修{w}个工作日内完成占比", "warranty repairs done within {w} working days"),
    "other_repairs": ("三包期外维修数", "out-of-warranty repairs"),
    "other_repairs_on_time_share": ("保外维修{o}个工作日内完成占比", "other repairs done within {o} working days"),
    "repairs_open": ("未完工维修数", "open repairs"),
    "warranty_unknown": ("三包状态未知数", "warranty status unknown"),
    "loaners_owed": ("应提供周转件数", "loaners owed"),
    "loaners_issued_late": ("已提供周转件数", "loaners issued when late"),
    "loaners_missing": ("应提供未提供周转件数", "loaners owed, not issued"),
    "loaners_extra": ("按期修复仍提供周转件数", "loaners issued, repair on time"),
    "wear_part_lines": ("易损件出库行数", "wear-list part lines"),
    "wear_parts_on_time_share": ("易损件{pw}个工作日内送达占比", "wear-list parts delivered within {pw} working days"),
    "other_part_lines": ("其他配件出库行数", "other part lines"),
    "other_parts_on_time_share": ("其他配件{po}个工作日内送达占比", "other parts delivered within {po} working days"),
}
_GROUPS = {"by_depot_month": ["depot_id", "month"], "by_engineer": ["depot_id", "engineer"], "overall": []}


def _datetime(df: pd.DataFrame, col: str, name: str) -> pd.Series:
    try:
        return pd.to_datetime(df[col])
    except (TypeError, ValueError) as exc:
        raise ZkValueError(f"Column {col!r} of the {name} table must hold dates/times; {exc}. "
                           "Fix: convert it with pandas.to_datetime.") from exc


def _wear_list_frame(wear_list: Any) -> Any:
    """The frame of a :class:`~zk_forecast.inventory.wearlist.WearList` (a depot list), else ``wear_list``."""
    frame = getattr(wear_list, "frame", None)
    if isinstance(frame, pd.DataFrame) and not isinstance(wear_list, pd.DataFrame):
        by = getattr(wear_list, "by", "depot")
        if by != "depot":
            raise ZkValueError(
                f"The wear-part list given is drawn up per {by}, but the parts promise is measured per depot. "
                "Fix: pass the depot list (wear_list(..., by='depot')) / 请传入按网点的易损件清单")
        return frame
    return wear_list


def wear_list_keys(wear_list: Any) -> tuple[set[str], set[tuple[str, str]]]:
    """Normalise a wear-part list into (network-wide part numbers, (depot_id, part_no) pairs), all seasons.

    Parameters
    ----------
    wear_list : None, iterable of str, DataFrame or WearList
        Part numbers on the list; or a frame with ``part_no`` and optionally ``depot_id`` (or ``key``, as
        :class:`zk_forecast.inventory.wearlist.WearList` has it) and ``listed`` (rows with ``listed`` false are
        off the list); or a depot :class:`~zk_forecast.inventory.wearlist.WearList` (its ``frame``). A frame
        with depots makes the status per depot.
    """
    wear_list = _wear_list_frame(wear_list)
    if wear_list is None:
        return set(), set()
    if isinstance(wear_list, pd.DataFrame):
        require_columns(wear_list, "wear_list", ["part_no"])
        wl = wear_list
        if "listed" in wl.columns:
            wl = wl[wl["listed"].fillna(False).astype(bool)]
        depot_col = "depot_id" if "depot_id" in wl.columns else ("key" if "key" in wl.columns else None)
        if depot_col is None:
            return set(wl["part_no"].dropna().astype(str)), set()
        pairs = wl[[depot_col, "part_no"]].dropna().astype(str)
        return set(), set(zip(pairs[depot_col], pairs["part_no"], strict=True))
    if isinstance(wear_list, str) or not isinstance(wear_list, Iterable):
        raise ZkTypeError(
            f"`wear_list` must be a set/list of part numbers or a DataFrame with a part_no column; got "
            f"{type(wear_list).__name__}. Fix: pass e.g. {{'SF-LQ001', 'HT-YP001'}}."
        )
    return {str(p) for p in wear_list}, set()


def _on_wear_list(wear_list: Any, depot: pd.Series, part_no: pd.Series, month: pd.Series) -> np.ndarray:
    """Whether each line's part was on the list at its depot in the season of ``month`` (a list without depots
    or seasons holds for every depot or season). Seasons are those the list was drawn up with (a WearList's
    ``settings["seasons"]``), else :data:`zk_forecast.calendar.FARMING_SEASONS`."""
    wl = _wear_list_frame(wear_list)
    own = getattr(wear_list, "settings", None)
    own_seasons = own.get("seasons") if isinstance(own, Mapping) else None
    if isinstance(wl, pd.DataFrame) and "season" in wl.columns and len(part_no):
        require_columns(wl, "wear_list", ["part_no"])
        if "listed" in wl.columns:
            wl = wl[wl["listed"].fillna(False).astype(bool)]
        depot_col = "depot_id" if "depot_id" in wl.columns else ("key" if "key" in wl.columns else None)
        m = pd.DatetimeIndex(month).month.to_numpy()
        if isinstance(own_seasons, Mapping) and own_seasons:
            by_month = {int(mo): str(k) for k, v in own_seasons.items() for mo in v}
            season = np.array([by_month.get(int(x), "") for x in m], dtype=object)
        else:
            season = season_of_month(m)
        line_d = depot.astype(str).to_numpy() if depot_col else np.full(len(part_no), "")
        lines = pd.MultiIndex.from_arrays([line_d, part_no.astype(str).to_numpy(), season.astype(str)])
        listed = pd.MultiIndex.from_arrays([
            wl[depot_col].astype(str).to_numpy() if depot_col else np.full(len(wl), ""),
            wl["part_no"].astype(str).to_numpy(), wl["season"].astype(str).to_numpy()])
        return np.asarray(lines.isin(listed), dtype=bool)
    network, per_depot = wear_list_keys(wl)
    on_list = np.array(part_no.isin(network), dtype=bool)
    if per_depot:
        pairs = pd.MultiIndex.from_tuples(sorted(per_depot))
        on_list = on_list | pd.MultiIndex.from_arrays([depot.astype(str), part_no]).isin(pairs)
    return on_list


def _rate(on_time: pd.Series, keys: list[str], frame: pd.DataFrame) -> pd.Series:
    g = on_time.astype(float).groupby([frame[k] for k in keys], sort=True) if keys else on_time.astype(float)
    return g.mean()


def _grouped(frame: pd.DataFrame, keys: list[str]) -> Any:
    if keys:
        return frame.groupby(keys, sort=True, dropna=True)
    return frame.assign(_all=0).groupby("_all")


@dataclass
class ServiceKPIs:
    """The promises measured, per depot × month, per depot × engineer and for the whole network.

    Attributes
    ----------
    by_depot_month, by_engineer, overall : DataFrame
        Columns of :data:`KPI_COLUMNS` (shares in [0, 1], times [h]); a share is NaN where nothing was measured.
    events : dict[str, DataFrame]
        The per-event measurements behind the counts: ``"onsite"``, ``"repairs"``, ``"parts"``.
    promises : Promises
        What was measured against.
    """

    by_depot_month: pd.DataFrame
    by_engineer: pd.DataFrame
    overall: pd.DataFrame
    events: dict[str, pd.DataFrame] = field(repr=False)
    promises: Promises = DEFAULT_PROMISES

    def labels(self, lang: str = "zh") -> dict[str, str]:
        """Column name → label in Chinese (``"zh"``) or English (``"en"``), figures from the promises."""
        if lang not in ("zh", "en"):
            raise ZkValueError(f"The 'lang' parameter must be 'zh' or 'en'; got {lang!r} instead.")
        p = self.promises
        fill = {"h": f"{p.on_site_hours:g}", "w": p.warranty_repair_working_days, "o": p.other_repair_working_days,
                "pw": p.wear_list_working_days, "po": p.other_parts_working_days}
        i = 0 if lang == "zh" else 1
        return {k: v[i].format(**fill) for k, v in KPI_COLUMNS.items()}

    def to_report(self, lang: str = "zh", table: str = "by_depot_month") -> pd.DataFrame:
        """One of the tables with Chinese (default) or English column labels, shares in percent rounded to 0.1.

        Parameters
        ----------
        lang : {"zh", "en"}
        table : {"by_depot_month", "by_engineer", "overall"}
        """
        if table not in _GROUPS:
            raise ZkValueError(f"The 'table' parameter must be one of {list(_GROUPS)}; got {table!r} instead.")
        df = getattr(self, table).copy()
        for c in df.columns:
            if c.endswith("_share"):
                df[c] = (df[c] * 100).round(1)
            elif c.endswith("_h"):
                df[c] = df[c].round(2)
        if "month" in df.columns:
            df["month"] = df["month"].dt.strftime("%Y-%m")
        labels = self.labels(lang)
        pct = " (%)"
        return df.rename(columns={c: labels[c] + (pct if c.endswith("_share") else "") for c in df.columns})

    def _repr_html_(self) -> str:
        head = "<b>服务承诺达成 Service KPIs</b> (" + html.escape("; ".join(self.promises.labels("zh").values())) + ")"
        return head + self.to_report("zh", "overall").to_html(index=False) + self.to_report(
            "zh", "by_depot_month").tail(12).to_html(index=False)


def service_kpis(
    tickets: pd.DataFrame,
    part_issues: pd.DataFrame | None = None,
    *,
    wear_list: Any = None,
    promises: Promises | Mapping[str, Any] | None = None,
    calendar: WorkingCalendar | None = None,
    as_of: Any = None,
    onsite_kinds: Iterable[str] = ("failure",),
    repair_kinds: Iterable[str] = ("failure",),
    part_kinds: Iterable[str] = ("repair",),
) -> ServiceKPIs:
    """Measure the service promises per depot and month, per engineer and overall (module docstring for rules).

    Parameters
    ----------
    tickets : DataFrame
        Canonical tickets: ``ticket_id``, ``depot_id``, ``reported_at``, ``kind`` required; ``arrived_at``,
        ``resolved_at``, ``channel``, ``in_warranty``, ``loaner_issued``, ``engineer``, ``serial_no`` used when
        present.
    part_issues : DataFrame, optional
        Canonical part issues (``ticket_id``, ``part_no``, ``issued_on``, ``kind``, ``quantity``) for the parts
        promise; without it the part columns are empty.
    wear_list : set of str, DataFrame, WearList or None
        The wear-part list deciding 5 vs 15 working days: part numbers, a frame (see :func:`wear_list_keys`; a
        ``season`` column makes it per season), or the nightly batch's depot
        :class:`~zk_forecast.inventory.wearlist.WearList`. None: every part is held to the other-parts promise.
    promises : Promises or mapping, optional
        Default :data:`~zk_forecast.service.commitments.DEFAULT_PROMISES`; a mapping overrides it.
    calendar : WorkingCalendar, optional
        Working days; default the Chinese calendar (:func:`zk_forecast.calendar.default_calendar`).
    as_of : date-like, optional
        Date open repairs are judged at [date]. Default: the last ``reported_at``.
    onsite_kinds, repair_kinds : iterable of str
        Ticket kinds that count as breakdown calls / repairs. Default ``("failure",)``.
    part_kinds : iterable of str
        Issue kinds that deliver a part to a repair. Default ``("repair",)``.

    Returns
    -------
    ServiceKPIs

    Raises
    ------
    ZkValueError
        Missing columns (named, with the fix), unparsable dates, a bad promise.
    """
    p = _promises(promises)
    cal = calendar if calendar is not None else default_calendar()
    require_columns(tickets, "tickets", ["ticket_id", "depot_id", "reported_at", "kind"])
    t = pd.DataFrame({
        "ticket_id": tickets["ticket_id"].astype(str).to_numpy(),
        "depot_id": tickets["depot_id"].astype(object).to_numpy(),
        "engineer": (tickets["engineer"].astype(object) if "engineer" in tickets.columns
                     else pd.Series(None, index=tickets.index, dtype=object)).to_numpy(),
        "serial_no": (tickets["serial_no"].astype(object) if "serial_no" in tickets.columns
                      else pd.Series(None, index=tickets.index, dtype=object)).to_numpy(),
        "kind": tickets["kind"].astype(object).to_numpy(),
        "reported_at": _datetime(tickets, "reported_at", "tickets").to_numpy(),
    })
    for col in ("arrived_at", "resolved_at"):
        t[col] = _datetime(tickets, col, "tickets").to_numpy() if col in tickets.columns else pd.NaT
    for col in ("channel",):
        t[col] = tickets[col].astype(object).to_numpy() if col in tickets.columns else None
    for col in ("in_warranty", "loaner_issued"):
        t[col] = tickets[col].astype("boolean").to_numpy() if col in tickets.columns else pd.NA
        t[col] = t[col].astype("boolean")
    t = t[t["reported_at"].notna()].reset_index(drop=True)
    t["month"] = period_start(t["reported_at"], "MS") if len(t) else pd.Series(dtype="datetime64[ns]")
    as_of_ts = pd.Timestamp(as_of) if as_of is not None else (t["reported_at"].max() if len(t) else pd.NaT)
    ctx = ["ticket_id", "depot_id", "month", "engineer", "serial_no"]

    # on site -------------------------------------------------------------------------------------
    on = t[t["kind"].isin(list(onsite_kinds)) & (t["channel"] == "onsite") & t["arrived_at"].notna()]
    onsite = on[ctx].copy()
    onsite["arrival_h"] = (on["arrived_at"] - on["reported_at"]).dt.total_seconds().to_numpy() / 3600.0
    onsite["on_time"] = onsite["arrival_h"] <= p.on_site_hours
    onsite["hours_late"] = np.maximum(onsite["arrival_h"].to_numpy() - p.on_site_hours, 0.0)

    # repairs and loaners -------------------------------------------------------------------------
    rp = t[t["kind"].isin(list(repair_kinds))]
    repairs = rp[ctx].copy()
    warranty = rp["in_warranty"]
    repairs["in_warranty"] = warranty
    repairs["promise_wd"] = np.where(warranty.fillna(False).to_numpy(dtype=bool), p.warranty_repair_working_days,
                                     p.other_repair_working_days)
    is_open = rp["resolved_at"].isna().to_numpy()
    end = rp["resolved_at"].where(~is_open, as_of_ts)
    ok_end = end.notna().to_numpy()
    wd = np.full(len(rp), np.nan)
    if ok_end.any():
        wd[ok_end] = np.asarray(cal.working_days_between(rp["reported_at"].to_numpy()[ok_end],
                                                          end.to_numpy()[ok_end]), dtype=float)
    repairs["open"] = is_open
    repairs["working_days"] = np.where(is_open, np.nan, wd)
    late = wd > repairs["promise_wd"].to_numpy()
    repairs["on_time"] = np.where(is_open, np.nan, ~late)  # open repairs have no result yet
    repairs["late"] = late
    repairs["working_days_late"] = np.where(late, wd - repairs["promise_wd"].to_numpy(), 0.0)
    w = warranty.fillna(False).to_numpy(dtype=bool)
    loaner = rp["loaner_issued"].fillna(False).to_numpy(dtype=bool)
    repairs["loaner_owed"] = w & late
    repairs["loaner_issued"] = loaner

    # parts -------------------------------------------------------------------------------------------
    parts = pd.DataFrame(columns=[*ctx, "part_no", "on_wear_list", "working_days", "on_time", "promise_wd",
                                  "working_days_late"])
    unlinked = 0
    if part_issues is not None:
        require_columns(part_issues, "part_issues", ["ticket_id", "part_no", "issued_on", "kind"])
        pi = part_issues[part_issues["kind"].isin(list(part_kinds)) & part_issues["ticket_id"].notna()]
        if "quantity" in pi.columns:
            pi = pi[pd.to_numeric(pi["quantity"], errors="coerce").fillna(0).to_numpy() > 0]
        j = pd.DataFrame({"ticket_id": pi["ticket_id"].astype(str).to_numpy(),
                          "part_no": pi["part_no"].astype(str).to_numpy(),
                          "issued_on": _datetime(pi, "issued_on", "part_issues").to_numpy()})
        j = j.merge(t[[*ctx, "reported_at"]], on="ticket_id", how="left")
        linked = j["reported_at"].notna() & j["issued_on"].notna()
        unlinked = int((~linked).sum())
        j = j[linked].reset_index(drop=True)
        on_list = _on_wear_list(wear_list, j["depot_id"], j["part_no"], j["month"])
        days = np.asarray(cal.working_days_between(j["reported_at"].to_numpy(), j["issued_on"].to_numpy()),
                          dtype=float) if len(j) else np.empty(0)
        parts = j[[*ctx, "part_no"]].copy()
        parts["on_wear_list"] = on_list
        parts["working_days"] = np.maximum(days, 0.0)
        promise_wd = np.where(on_list, p.wear_list_working_days, p.other_parts_working_days)
        parts["on_time"] = parts["working_days"] <= promise_wd
        parts["promise_wd"] = promise_wd
        parts["working_days_late"] = np.maximum(parts["working_days"].to_numpy() - promise_wd, 0.0)

    events = {"onsite": onsite.reset_index(drop=True), "repairs": repairs.reset_index(drop=True),
              "parts": parts.reset_index(drop=True)}
    tables = {name: _aggregate(events, keys) for name, keys in _GROUPS.items()}
    tables["by_engineer"] = tables["by_engineer"][tables["by_engineer"]["engineer"].notna()].reset_index(drop=True)
    out = ServiceKPIs(events=events, promises=p, **tables)
    for df in (out.by_depot_month, out.by_engineer, out.overall):
        df.attrs.update({"as_of": as_of_ts, "parts_unlinked": unlinked})
    return out


def _promises(promises: Promises | Mapping[str, Any] | None) -> Promises:
    if promises is None:
        return DEFAULT_PROMISES
    if isinstance(promises, Promises):
        return promises
    return Promises.from_mapping(promises)


def _aggregate(events: dict[str, pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Count and summarise the events per group ``keys`` (all events together when ``keys`` is empty)."""
    on, rp, pt = events["onsite"], events["repairs"], events["parts"]
    parts_ = []
    g = _grouped(on, keys)
    parts_.append(pd.DataFrame({
        "onsite_calls": g.size(),
        "onsite_on_time_share": g["on_time"].mean(),
        "arrival_median_h": g["arrival_h"].median(),
        "arrival_p90_h": g["arrival_h"].quantile(0.9),
    }))
    wflag = rp["in_warranty"].fillna(False).astype(bool)
    closed = ~rp["open"].astype(bool)
    r = rp.assign(
        _w=(wflag & closed).astype(int), _o=(~wflag & closed).astype(int),
        _w_ok=(wflag & closed & (rp["on_time"] == 1)).astype(int),
        _o_ok=(~wflag & closed & (rp["on_time"] == 1)).astype(int),
        _open=rp["open"].astype(int), _unk=rp["in_warranty"].isna().astype(int),
        _owed=rp["loaner_owed"].astype(int), _iss=(rp["loaner_owed"] & rp["loaner_issued"]).astype(int),
        _miss=(rp["loaner_owed"] & ~rp["loaner_issued"].astype(bool)).astype(int),
        _extra=(~rp["loaner_owed"].astype(bool) & rp["loaner_issued"].astype(bool)).astype(int),
    )
    s = _grouped(r, keys)[["_w", "_o", "_w_ok", "_o_ok", "_open", "_unk", "_owed", "_iss", "_miss", "_extra"]].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        parts_.append(pd.DataFrame({
            "warranty_repairs": s["_w"],
            "warranty_repairs_on_time_share": s["_w_ok"] / s["_w"].where(s["_w"] > 0),
            "other_repairs": s["_o"],
            "other_repairs_on_time_share": s["_o_ok"] / s["_o"].where(s["_o"] > 0),
            "repairs_open": s["_open"],
            "warranty_unknown": s["_unk"],
            "loaners_owed": s["_owed"],
            "loaners_issued_late": s["_iss"],
            "loaners_missing": s["_miss"],
            "loaners_extra": s["_extra"],
        }))
    wl = pt["on_wear_list"].astype(bool)
    q = pt.assign(_wl=wl.astype(int), _ot=(~wl).astype(int), _wl_ok=(wl & pt["on_time"].astype(bool)).astype(int),
                  _ot_ok=(~wl & pt["on_time"].astype(bool)).astype(int))
    s = _grouped(q, keys)[["_wl", "_ot", "_wl_ok", "_ot_ok"]].sum()
    parts_.append(pd.DataFrame({
        "wear_part_lines": s["_wl"],
        "wear_parts_on_time_share": s["_wl_ok"] / s["_wl"].where(s["_wl"] > 0),
        "other_part_lines": s["_ot"],
        "other_parts_on_time_share": s["_ot_ok"] / s["_ot"].where(s["_ot"] > 0),
    }))
    out = pd.concat(parts_, axis=1, sort=True)
    counts = [c for c in out.columns if not c.endswith(("_share", "_h"))]
    out[counts] = out[counts].fillna(0).astype("int64")
    out = out.reset_index(drop=not keys)
    if not keys:
        return out.reset_index(drop=True)
    return out[[*keys, *[c for c in KPI_COLUMNS if c in out.columns and c not in keys]]]
