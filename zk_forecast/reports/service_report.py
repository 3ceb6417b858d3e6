"""Service report: every promise measured per depot and month, with charts, as one self-contained HTML file.

The numbers come from :func:`zk_forecast.service.service_kpis` and :func:`zk_forecast.service.price_differences`;
this module only lays them out, depots by name (from the ``depots`` table):

* the date of the data (数据截至), when the report was generated (生成时间) and a stale-data banner when told so;
* the promises, and the period totals per depot and for the network: on site within the promised hours, repairs
  within their promise (warranty and other), parts delivered within their promise (wear-list parts and other
  parts; the wear-list promise is measured with the wear-part list given, normally the nightly batch's);
* the same per farming season of the period (:data:`zk_forecast.calendar.FARMING_SEASONS`, seasons outside the
  period left out);
* one chart of the share on site per depot and month, one of the repairs done within their promise;
* the lists of what missed each promise: ticket, depot, machine and how late (hours for arrivals, working days
  for repairs and parts);
* the one-price check: parts sold at different prices across depots in the same month of the period;
* the full depot × month table.

A period that runs past the end of the data is refused, naming the data's end: a share measured on part of a
period would read as the whole period's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.calendar import WorkingCalendar, season_of_month, seasons_in
from zk_forecast.errors import ZkValueError
from zk_forecast.reports._html import (
    Period,
    esc,
    figure_block,
    page,
    paragraph,
    parse_period,
    section,
    table_html,
    write_page,
)
from zk_forecast.reports.data_dates import DataDates, data_dates, latest_date
from zk_forecast.service import Promises, ServiceKPIs, price_differences, service_kpis

__all__ = ["SERVICE_SECTION_IDS", "ServiceReport", "service_report", "write_service_report"]

SERVICE_SECTION_IDS: tuple[str, ...] = ("promises", "overall", "seasons", "onsite", "repairs", "missed", "prices",
                                        "by-depot-month")

#: Rows shown per list of missed promises (the rest are counted in a note).
MAX_LIST_ROWS = 300


@dataclass
class ServiceReport:
    """The service report: HTML page and the KPIs behind it.

    Attributes
    ----------
    period : str
        Canonical period label.
    html : str
        The self-contained HTML document.
    kpis : ServiceKPIs
        The measurements (all months; the page shows the period's).
    by_depot_month : DataFrame
        The period's rows of ``kpis.by_depot_month``.
    totals : DataFrame
        The period's totals per depot (``depot_id``) and for the network (``depot_id`` NA, last row).
    missed : dict[str, DataFrame]
        What missed each promise in the period: ``"onsite"``, ``"warranty_repairs"``, ``"other_repairs"``,
        ``"wear_parts"``, ``"other_parts"``; columns ``ticket_id``, ``depot_id``, ``depot``, ``serial_no``,
        ``model``, ``reported_at`` and how late (``hours_late`` [h] and ``minutes_late`` [min, rounded up] or
        ``working_days_late`` [working days]).
    prices : PriceDifferences or None
        The one-price check on the period's sales (None without part issues or prices).
    dates : DataDates
        Data date, generation time and whether the stale-data banner is shown.
    """

    period: str
    html: str
    kpis: ServiceKPIs = field(repr=False)
    by_depot_month: pd.DataFrame = field(repr=False)
    totals: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    missed: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    prices: Any = field(default=None, repr=False)
    dates: DataDates | None = field(default=None, repr=False)

    def write(self, out_dir: str | Path) -> Path:
        """Write ``service_<period>.html`` (UTF-8) into ``out_dir`` and return its path."""
        return write_page(out_dir, f"service_{self.period}", self.html)

    def _repr_html_(self) -> str:
        return self.html


def _share_chart(df: pd.DataFrame, columns: Mapping[str, str], title: str, target: float | None,
                 names: Mapping[str, str]) -> str:
    """Lines of share [%] per month, one per depot (× column), with the target as a dashed line."""
    from zk_forecast.reports._layout import (
        place_axes,
        placed_figure,
        set_title,
        text_height_in,
        text_width_in,
    )
    from zk_forecast.reports.charts import figure_to_data_uri

    fig, ax = placed_figure(9, 4.2)
    months = sorted(df["month"].unique())
    x = np.arange(len(months))
    pos = {m: i for i, m in enumerate(months)}
    styles = ["-", "--", ":", "-."]
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]
    for k, (depot, g) in enumerate(df.groupby("depot_id", sort=True)):
        name = names.get(str(depot), str(depot))
        for j, (col, label) in enumerate(columns.items()):
            xs = np.array([pos[m] for m in g["month"]])
            ys = 100.0 * g[col].to_numpy(dtype=float, na_value=np.nan)
            ax.plot(xs, ys, marker="o", ms=3, ls=styles[j % len(styles)], color=palette[k % len(palette)],
                    label=f"{name} {label}" if label else name)
    if target is not None:
        ax.axhline(100.0 * target, color="#c0392b", ls="--", lw=1, label=f"目标 target {100 * target:.0f}%")
    ax.set_xticks(x)
    labels = [pd.Timestamp(m).strftime("%Y-%m") for m in months]
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    below = (text_width_in(labels, 8) + text_height_in(8)) * 0.71  # rotated 45°
    place_axes(fig, left=0.8, right=0.15, bottom=below + 0.2, top=0.35)
    ax.set_ylim(-2, 102)
    ax.set_ylabel("占比 share (%)")
    set_title(ax, title)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    return figure_to_data_uri(fig)


def _names(depots: pd.DataFrame | None) -> dict[str, str]:
    """depot_id → depot name from the depots table (ids without a name keep their id)."""
    if depots is None or not {"depot_id", "name"} <= set(depots.columns):
        return {}
    d = depots[depots["name"].notna()]
    return dict(zip(d["depot_id"].astype(str), d["name"].astype(str), strict=True))


def _data_end(tickets: pd.DataFrame, part_issues: pd.DataFrame | None) -> pd.Timestamp | None:
    return latest_date([tickets["reported_at"], None if part_issues is None else part_issues["issued_on"]])


def service_report(
    tickets: pd.DataFrame,
    part_issues: pd.DataFrame | None = None,
    period: str | int | None = None,
    *,
    wear_list: Any = None,
    promises: Promises | Mapping[str, Any] | None = None,
    target: float = 0.9,
    calendar: WorkingCalendar | None = None,
    depots: pd.DataFrame | None = None,
    machines: pd.DataFrame | None = None,
    parts: pd.DataFrame | None = None,
    as_of: Any = None,
    generated_at: Any = None,
    stale: bool = False,
) -> ServiceReport:
    """Build the service report of one period (default: the last 12 months of the tickets).

    Parameters
    ----------
    tickets : DataFrame
        Canonical tickets.
    part_issues : DataFrame, optional
        Canonical part issues, for the parts-delivery promise and the one-price check.
    period : str or int, optional
        ``"2026Q3"``, ``"2026-07"`` or ``"2026"``; default the 12 months up to the last ticket's month.
    wear_list : WearList, DataFrame or set of str, optional
        The wear-part list the 5-working-day promise is measured with: the nightly batch passes its depot
        :class:`~zk_forecast.inventory.wearlist.WearList` (or its ``frame``); a part line is held to 5 working
        days when its part was listed at its depot for the season of the ticket (see
        :func:`~zk_forecast.service.service_kpis`). Without it every part is held to the other-parts promise,
        and the report says so.
    promises : Promises or mapping, optional
        The promises measured against; default those of DESIGN.md.
    target : float [-]
        Share drawn as the target line in the charts, 0 < target <= 1.
    calendar : WorkingCalendar, optional
        Working days for the repair and parts promises; default the Chinese calendar (the nightly batch passes the
        one with the ``[calendar]`` overrides of ``zk.toml``).
    depots : DataFrame, optional
        Canonical depots (``depot_id``, ``name``): depots are shown by name.
    machines : DataFrame, optional
        Canonical machines (``serial_no``, ``model``): the lists of missed promises name each machine's model.
    parts : DataFrame, optional
        Canonical parts (``part_no``, ``name``): part names in the lists.
    as_of : date-like, optional
        Date of the data, shown as 数据截至 [date]; open repairs are judged at it and a period must end by it.
        Default: the latest ``reported_at`` / ``issued_on`` in the data given.
    generated_at : date-time-like, optional
        When the report is generated, shown as 生成时间 [date-time]; the nightly batch passes the run's time.
        Default: the clock, now.
    stale : bool, default False
        Show the stale-data banner at the top (the batch's data-age rule decides).

    Returns
    -------
    ServiceReport

    Raises
    ------
    ZkValueError
        A bad period or target; a period whose last day is after the data's end (the message names the end);
        no tickets in the period.
    """
    if not (isinstance(target, float | int) and 0 < target <= 1):
        raise ZkValueError(f"`target` must be a share in (0, 1]; got {target!r}. Example: 0.9.")
    dates = data_dates(as_of, generated_at, stale, _data_end(tickets, part_issues))
    per = parse_period(period) if period is not None else None
    if per is not None and dates.as_of is not None and per.end - pd.Timedelta(days=1) > dates.as_of:
        last = (per.end - pd.Timedelta(days=1)).date()
        raise ZkValueError(
            f"The period {per.label} runs to {last}, past the end of the data ({dates.as_of:%Y-%m-%d}): its "
            f"promises cannot be measured yet. Fix: choose a period that ends by {dates.as_of:%Y-%m-%d} (e.g. the "
            f"previous month or quarter), or load newer exports / 报告期 {per.label} 超出数据截止日期 "
            f"{dates.as_of:%Y-%m-%d}，请选择该日期之前结束的期间或导入最新数据")
    kpis = service_kpis(tickets, part_issues, wear_list=wear_list, promises=promises, calendar=calendar,
                        as_of=dates.as_of)
    bdm = kpis.by_depot_month
    if per is None:
        last_m = pd.Timestamp(bdm["month"].max()) if len(bdm) else pd.Timestamp("2000-01-01")
        start = last_m - pd.DateOffset(months=11)
        per = Period(f"{start:%Y-%m}_{last_m:%Y-%m}", start, last_m + pd.DateOffset(months=1))
    sel = bdm[(bdm["month"] >= per.start) & (bdm["month"] < per.end)]
    sel = sel.sort_values(["depot_id", "month"], kind="stable").reset_index(drop=True)
    if sel.empty:
        raise ZkValueError(f"No service tickets in the period {per.label}; the tickets run from "
                           f"{pd.to_datetime(tickets['reported_at']).min():%Y-%m-%d} to "
                           f"{pd.to_datetime(tickets['reported_at']).max():%Y-%m-%d}. Choose a period inside.")
    names = _names(depots)
    ev = {k: v[(v["month"] >= per.start) & (v["month"] < per.end)] for k, v in kpis.events.items()}
    totals = _totals(ev)
    missed = _missed(ev, names, machines, parts, tickets)
    prices = None
    if part_issues is not None and "unit_price" in part_issues.columns:
        when = part_issues["issued_on"]
        if not pd.api.types.is_datetime64_any_dtype(when):  # parse only text or objects
            when = pd.to_datetime(when)
        prices = price_differences(part_issues[(when >= per.start) & (when < per.end)])
    html_doc = _render(kpis, sel, per, target, dates, names, totals, ev, missed, prices, parts,
                       wear_list is not None)
    return ServiceReport(per.label, html_doc, kpis, sel, totals, missed, prices, dates)


def _measures(on: pd.DataFrame, rp: pd.DataFrame, pt: pd.DataFrame, keys: Any) -> pd.DataFrame:
    """Counts and shares of every promise, per ``keys`` (a Series of group labels per frame) or overall."""
    done = rp[~rp["open"].astype(bool)]
    w = done["in_warranty"].fillna(False).astype(bool)
    wl = pt["on_wear_list"].astype(bool) if len(pt) else pd.Series(dtype=bool)
    cols: dict[str, Any] = {}

    def grp(df: pd.DataFrame, col: str) -> Any:
        return df.groupby(keys(df))[col] if keys is not None else df.assign(_all=0).groupby("_all")[col]

    cols["onsite_calls"] = grp(on, "on_time").size()
    cols["onsite_on_time_share"] = grp(on, "on_time").mean()
    cols["arrival_median_h"] = grp(on, "arrival_h").median()
    cols["warranty_repairs"] = grp(done[w], "on_time").size()
    cols["warranty_repairs_on_time_share"] = grp(done[w], "on_time").mean()
    cols["other_repairs"] = grp(done[~w], "on_time").size()
    cols["other_repairs_on_time_share"] = grp(done[~w], "on_time").mean()
    owed = rp["loaner_owed"].astype(bool)
    loans = rp.assign(_owed=owed.astype(int), _miss=(owed & ~rp["loaner_issued"].astype(bool)).astype(int))
    cols["loaners_owed"] = grp(loans, "_owed").sum()
    cols["loaners_missing"] = grp(loans, "_miss").sum()
    p_ok = pt.assign(on_time=pt["on_time"].astype(float)) if len(pt) else pt
    cols["wear_part_lines"] = grp(p_ok[wl], "on_time").size() if len(pt) else pd.Series(dtype=float)
    cols["wear_parts_on_time_share"] = grp(p_ok[wl], "on_time").mean() if len(pt) else pd.Series(dtype=float)
    cols["other_part_lines"] = grp(p_ok[~wl], "on_time").size() if len(pt) else pd.Series(dtype=float)
    cols["other_parts_on_time_share"] = grp(p_ok[~wl], "on_time").mean() if len(pt) else pd.Series(dtype=float)
    out = pd.DataFrame(cols)
    for c in ("onsite_calls", "warranty_repairs", "other_repairs", "loaners_owed", "loaners_missing",
              "wear_part_lines", "other_part_lines"):
        out[c] = out[c].fillna(0).astype("int64")
    return out


def _totals(ev: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Period totals per depot and for the network (last row, ``depot_id`` NA): counts summed, shares
    recomputed from the events."""
    per_depot = _measures(ev["onsite"], ev["repairs"], ev["parts"], lambda d: d["depot_id"])
    per_depot = per_depot.sort_index().rename_axis("depot_id").reset_index()
    network = _measures(ev["onsite"], ev["repairs"], ev["parts"], None).reset_index(drop=True)
    network.insert(0, "depot_id", pd.NA)
    return pd.concat([per_depot, network], ignore_index=True)


def _missed(ev: dict[str, pd.DataFrame], names: Mapping[str, str], machines: pd.DataFrame | None,
            parts: pd.DataFrame | None, tickets: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The events of the period that missed their promise, latest first within the most late."""
    model = {}
    if machines is not None and {"serial_no", "model"} <= set(machines.columns):
        model = dict(zip(machines["serial_no"].astype(str), machines["model"].astype(str), strict=True))
    pname = {}
    if parts is not None and {"part_no", "name"} <= set(parts.columns):
        pname = dict(zip(parts["part_no"].astype(str), parts["name"].astype(str), strict=True))
    reported = pd.Series(pd.to_datetime(tickets["reported_at"]).to_numpy(),
                         index=tickets["ticket_id"].astype(str)).groupby(level=0).first()

    def base(df: pd.DataFrame, late_col: str) -> pd.DataFrame:
        serial = df["serial_no"].astype(object)
        out = pd.DataFrame({
            "ticket_id": df["ticket_id"].astype(str).to_numpy(),
            "depot_id": df["depot_id"].astype(str).to_numpy(),
            "depot": [names.get(str(d), str(d)) for d in df["depot_id"]],
            "serial_no": serial.to_numpy(),
            "model": [model.get(str(s), "") if pd.notna(s) else "" for s in serial],
            "reported_at": df["ticket_id"].astype(str).map(reported).dt.normalize().to_numpy(),
        })
        late = df[late_col].to_numpy(dtype=float)
        out[late_col] = late if late_col == "hours_late" else pd.array(np.round(late), dtype="Int64")
        return out

    on = ev["onsite"]
    on = on[~on["on_time"].astype(bool)]
    lst = {"onsite": base(on, "hours_late").assign(
        minutes_late=np.ceil(np.round(on["hours_late"].to_numpy(float) * 60.0, 6)).astype("int64"),
        arrival_h=on["arrival_h"].to_numpy(float))}
    rp = ev["repairs"]
    rp = rp[rp["late"].astype(bool)]
    w = rp["in_warranty"].fillna(False).astype(bool)
    for key, sub in (("warranty_repairs", rp[w]), ("other_repairs", rp[~w])):
        lst[key] = base(sub, "working_days_late").assign(open=sub["open"].astype(bool).to_numpy())
    lst["warranty_repairs"]["loaner_issued"] = rp[w]["loaner_issued"].astype(bool).to_numpy()
    pt = ev["parts"]
    pt = pt[~pt["on_time"].astype(bool)] if len(pt) else pt
    wl = pt["on_wear_list"].astype(bool) if len(pt) else pd.Series(dtype=bool)
    for key, sub in (("wear_parts", pt[wl]), ("other_parts", pt[~wl])):
        b = base(sub, "working_days_late")
        b.insert(6, "part_no", sub["part_no"].astype(str).to_numpy())
        b.insert(7, "part_name", [pname.get(str(x), "") for x in sub["part_no"]])
        b.insert(8, "working_days", pd.array(np.round(sub["working_days"].to_numpy(dtype=float)), dtype="Int64"))
        lst[key] = b
    for key, df in lst.items():
        late = "hours_late" if key == "onsite" else "working_days_late"
        lst[key] = df.sort_values([late, "reported_at", "ticket_id"], ascending=[False, True, True],
                                  kind="stable").reset_index(drop=True)
    return lst


_LIST_LABELS = {
    "ticket_id": "服务单号 ticket", "depot": "网点 depot", "serial_no": "出厂编号 machine",
    "model": "机型 model", "reported_at": "报修日期 reported", "minutes_late": "超时(分钟) minutes late",
    "arrival_h": "到场用时(小时) arrival [h]", "working_days_late": "超期(工作日) working days late",
    "open": "未完工 open", "loaner_issued": "已提供周转件 loaner issued", "part_no": "存货编码 part number",
    "part_name": "配件名称 part name", "working_days": "送达用时(工作日) delivery [working days]",
}


def _list_table(df: pd.DataFrame, zh_none: str, en_none: str) -> str:
    if df.empty:
        return paragraph(zh_none, en_none)
    shown = df.drop(columns=["depot_id", "hours_late"], errors="ignore").rename(columns=_LIST_LABELS)
    return table_html(shown, digits={"到场用时(小时) arrival [h]": 2}, max_rows=MAX_LIST_ROWS)


def _labelled(kpis: ServiceKPIs, df: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Bilingual column labels, shares in percent, months as YYYY-MM, depots by name."""
    zh, en = kpis.labels("zh"), kpis.labels("en")
    out = df.copy()
    for c in out.columns:
        if c.endswith("_share"):
            out[c] = 100.0 * out[c].astype(float)
    if "month" in out.columns:
        out["month"] = pd.to_datetime(out["month"]).dt.strftime("%Y-%m")
    if "depot_id" in out.columns:
        out["depot_id"] = [("全网 network" if pd.isna(d) else names.get(str(d), str(d))) for d in out["depot_id"]]
    return out.rename(columns={c: f"{zh[c]} {en[c]}" + (" (%)" if c.endswith("_share") else "")
                               for c in out.columns if c in zh})


def _render(kpis: ServiceKPIs, sel: pd.DataFrame, per: Period, target: float, dates: DataDates,
            names: Mapping[str, str], totals: pd.DataFrame, ev: dict[str, pd.DataFrame],
            missed: dict[str, pd.DataFrame], prices: Any, parts: pd.DataFrame | None, has_wear_list: bool) -> str:
    p = kpis.promises
    header = (f"<h1>售后服务承诺达成报告<span class=\"en\">Service report — {esc(per.label)}</span></h1>"
              + dates.banner() + '<table class="meta"><tbody>'
              f"<tr><td>期间 Period</td><td>{esc(per.start.date())} – "
              f"{esc((per.end - pd.Timedelta(days=1)).date())}</td></tr>" + dates.meta_rows() +
              "<tr><td>单位 Dealer</td><td>宁夏众凯农牧机械服务有限公司</td></tr></tbody></table>")
    promises = pd.DataFrame({"承诺 promise": list(p.labels("zh").values()),
                             "promise": list(p.labels("en").values())})
    pw, po = p.wear_list_working_days, p.other_parts_working_days
    if has_wear_list:
        wl_note = paragraph(f"配件送达按本次运行的易损件清单判定：出库配件在该网点、该农时的清单内，按 {pw} 个工作日考核，否则按 "
                            f"{po} 个工作日。",
                            f"Parts are judged with the run's wear-part list: a part listed at the ticket's depot "
                            f"for the season of the ticket is held to {pw} working days, any other part to {po}.")
    else:
        wl_note = paragraph(f"未提供易损件清单：{pw} 个工作日的易损件承诺未考核，全部配件按 {po} 个工作日考核。",
                            f"No wear-part list given: the {pw}-working-day promise is not measured; every part "
                            f"is held to {po} working days.", cls="flag")
    # per season of the period
    season_rows = []
    for s in seasons_in(per.start, per.end):
        def in_s(df: pd.DataFrame, key: str = s.key) -> pd.DataFrame:
            months = pd.DatetimeIndex(df["month"]).month.to_numpy()
            return df[season_of_month(months) == key] if len(df) else df
        m = _measures(in_s(ev["onsite"]), in_s(ev["repairs"]), in_s(ev["parts"]), None).reset_index(drop=True)
        m.insert(0, "season", f"{s.label}（{s.months_zh}）")
        season_rows.append(m)
    seasons = pd.concat(season_rows, ignore_index=True) if season_rows else pd.DataFrame()
    season_shown = _labelled(kpis, seasons, names).rename(columns={"season": "农时 season"})

    n_miss = {k: len(v) for k, v in missed.items()}
    miss_body = [paragraph(
        f"本期未达成承诺：到场超时 {n_miss['onsite']} 单，三包维修超期 {n_miss['warranty_repairs']} 单，保外维修超期 "
        f"{n_miss['other_repairs']} 单，易损件超期 {n_miss['wear_parts']} 行，其他配件超期 {n_miss['other_parts']} 行。"
        "按超出时间从多到少排列。",
        f"Missed in the period: {n_miss['onsite']} late arrivals, {n_miss['warranty_repairs']} warranty repairs, "
        f"{n_miss['other_repairs']} other repairs, {n_miss['wear_parts']} wear-list part lines, "
        f"{n_miss['other_parts']} other part lines; most late first.")]
    for key, zh, en in (
            ("onsite", f"到场超过 {p.on_site_hours:g} 小时", f"On site later than {p.on_site_hours:g} h"),
            ("warranty_repairs", f"三包维修超过 {p.warranty_repair_working_days} 个工作日",
             f"Warranty repairs over {p.warranty_repair_working_days} working days"),
            ("other_repairs", f"保外维修超过 {p.other_repair_working_days} 个工作日",
             f"Other repairs over {p.other_repair_working_days} working days"),
            ("wear_parts", f"易损件超过 {pw} 个工作日送达", f"Wear-list parts delivered after {pw} working days"),
            ("other_parts", f"其他配件超过 {po} 个工作日送达", f"Other parts delivered after {po} working days")):
        miss_body.append(f'<h3>{esc(zh)}<span class="en">{esc(en)}</span></h3>')
        miss_body.append(_list_table(missed[key], "无。", "None."))

    price_body: list[str]
    if prices is None:
        price_body = [paragraph("未提供配件出库单价，无法检查。", "No part issues with prices given: not checked.")]
    elif prices.table.empty:
        price_body = [paragraph(f"本期各网点同一配件同月售价一致（差异不超过 {prices.tolerance:.1%}）。",
                                f"Every part was sold at one price across depots in each month of the period "
                                f"(within {prices.tolerance:.1%}).", cls="ok")]
    else:
        pname = ({} if parts is None or not {"part_no", "name"} <= set(parts.columns)
                 else dict(zip(parts["part_no"].astype(str), parts["name"].astype(str), strict=True)))
        sm = prices.summary.copy()
        sm.insert(2, "part_name", [pname.get(str(x), "") for x in sm["part_no"]])
        sm["depot_id"] = [names.get(str(d), str(d)) for d in sm["depot_id"]]
        sm = sm.rename(columns={"depot_id": "网点 depot", "part_no": "存货编码 part number",
                                "part_name": "配件名称 part name", "periods": "差价月数 months with a difference",
                                "first_period": "首次 first month", "last_period": "最近 latest month",
                                "median_difference_pct": "差价率中位数 median difference (%)",
                                "quantity": "销售数量 quantity sold",
                                "amount_cny": "差价金额合计(元) difference x quantity [CNY]"})
        for c in ("首次 first month", "最近 latest month"):
            sm[c] = pd.to_datetime(sm[c]).dt.strftime("%Y-%m")
        price_body = [paragraph(
            f"承诺：各地区配件价格一致。本期有 {len(prices.summary)} 个网点×配件的售价与其他网点不同（按月比较，参考价为多数网点的价格，"
            f"差异超过 {prices.tolerance:.1%} 计入）；正数表示高于参考价。",
            f"Promise: one price in every region. {len(prices.summary)} depot x part pairs were sold at a price "
            f"different from the other depots' in the period (compared per month against the price most depots "
            f"charged; differences over {prices.tolerance:.1%}); positive = dearer than the reference.",
            cls="flag"), table_html(sm, digits={"销售数量 quantity sold": 0}, table_id="prices-table",
                                  max_rows=MAX_LIST_ROWS)]

    secs = [
        section("promises", "服务承诺", "Promises measured against", [table_html(promises), wl_note]),
        section("overall", "各网点本期汇总", "Period totals per depot",
                [table_html(_labelled(kpis, totals, names), digits=1, table_id="totals-table")]),
        section("seasons", "分农时汇总", "Period totals per farming season",
                [table_html(season_shown, digits=1) if len(season_shown)
                 else paragraph("本期无农时。", "No season in the period.")]),
        section("onsite", f"{p.on_site_hours:g} 小时内到场占比", f"Share on site within {p.on_site_hours:g} h", [
            figure_block(_share_chart(sel, {"onsite_on_time_share": ""},
                                      f"{p.on_site_hours:g}小时内到场占比 share on site within "
                                      f"{p.on_site_hours:g} h", target, names),
                         "到场及时率 on-site share per depot and month")]),
        section("repairs", "按承诺完成的维修", "Repairs done within their promise", [
            figure_block(_share_chart(sel, {"warranty_repairs_on_time_share": "三包 warranty",
                                            "other_repairs_on_time_share": "保外 other"},
                                      f"维修按期完成占比 repairs within promise（三包 {p.warranty_repair_working_days} / "
                                      f"保外 {p.other_repair_working_days} 个工作日 working days）", target, names),
                         "维修及时率 repairs within promise per depot and month"),
            paragraph("实线：三包期内维修；虚线：三包期外维修。", "Solid: warranty repairs; dashed: other repairs.")]),
        section("missed", "未达成承诺清单", "Tickets and part lines that missed a promise", miss_body),
        section("prices", "配件价格一致性检查", "One-price check", price_body),
        section("by-depot-month", "按网点和月份", "Per depot and month",
                [table_html(_labelled(kpis, sel.drop(columns=["engineer"], errors="ignore"), names), digits=1)]),
    ]
    return page(f"售后服务承诺达成报告 Service report {per.label}", header, secs)


#: Columns of the part issues the service report uses (the store's other columns are not read).
_PART_ISSUE_COLUMNS = ("issued_on", "depot_id", "part_no", "quantity", "kind", "unit_price", "ticket_id")


def write_service_report(store_dir: str | Path, period: str | int | None, out_dir: str | Path, *,
                         tables: Any = None, calendar: WorkingCalendar | None = None, wear_list: Any = None,
                         as_of: Any = None, generated_at: Any = None, stale: bool = False) -> Path:
    """Read the store, build the service report and write it; for ``zk-forecast report service``.

    Parameters
    ----------
    store_dir : str or Path
        Processed store (``tickets``; ``part_issues``, ``depots``, ``machines``, ``parts`` when present).
    period : str, int or None
        As in :func:`service_report`.
    out_dir : str or Path
        Folder to write into.
    tables : StoreTables or mapping of table name → DataFrame, optional
        Tables already read (``Store.read`` output), shared with the other reports of the run; by default the
        tables of the last report on the same, unchanged store are reused, else the store is read.
    calendar : WorkingCalendar, optional
        As in :func:`service_report`.
    wear_list : WearList, DataFrame or set of str, optional
        The run's depot wear-part list, for the 5-working-day promise (as in :func:`service_report`).
    as_of, generated_at, stale :
        As in :func:`service_report` (the nightly batch passes the run's time as ``generated_at``).

    Returns
    -------
    Path
    """
    from zk_forecast.reports._tables import store_tables

    st = store_tables(store_dir, tables)
    if "tickets" not in st:
        raise ZkValueError(f"The store {str(store_dir)!r} has no 'tickets' table; run `zk-forecast ingest` first.")
    tickets = st.get("tickets")
    assert tickets is not None
    return service_report(tickets, st.get("part_issues", _PART_ISSUE_COLUMNS), period, calendar=calendar,
                          wear_list=wear_list, depots=st.get("depots"), machines=st.get("machines"),
                          parts=st.get("parts"), as_of=as_of, generated_at=generated_at, stale=stale).write(out_dir)
