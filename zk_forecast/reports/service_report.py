"""Service report: the promises measured per depot and month, with charts, as one self-contained HTML file.

The numbers come from :func:`zk_forecast.service.service_kpis`; this module only lays them out: the promises,
the network totals, one chart of the share on site within the promised hours per depot and month, one of the repairs
done within their promise (warranty and other) per depot and month, and the full depot × month table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.calendar import WorkingCalendar
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
from zk_forecast.service import Promises, ServiceKPIs, service_kpis

__all__ = ["SERVICE_SECTION_IDS", "ServiceReport", "service_report", "write_service_report"]

SERVICE_SECTION_IDS: tuple[str, ...] = ("promises", "overall", "onsite", "repairs", "by-depot-month")


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
    """

    period: str
    html: str
    kpis: ServiceKPIs = field(repr=False)
    by_depot_month: pd.DataFrame = field(repr=False)

    def write(self, out_dir: str | Path) -> Path:
        """Write ``service_<period>.html`` (UTF-8) into ``out_dir`` and return its path."""
        return write_page(out_dir, f"service_{self.period}", self.html)

    def _repr_html_(self) -> str:
        return self.html


def _share_chart(df: pd.DataFrame, columns: Mapping[str, str], title: str, target: float | None) -> str:
    """Lines of share [%] per month, one per depot (× column), with the target as a dashed line."""
    from zk_forecast.reports.charts import figure_to_data_uri, new_figure

    fig, ax = new_figure(9, 4.2)
    months = sorted(df["month"].unique())
    x = np.arange(len(months))
    pos = {m: i for i, m in enumerate(months)}
    styles = ["-", "--", ":", "-."]
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]
    for k, (depot, g) in enumerate(df.groupby("depot_id", sort=True)):
        for j, (col, label) in enumerate(columns.items()):
            xs = np.array([pos[m] for m in g["month"]])
            ys = 100.0 * g[col].to_numpy(dtype=float, na_value=np.nan)
            ax.plot(xs, ys, marker="o", ms=3, ls=styles[j % len(styles)], color=palette[k % len(palette)],
                    label=f"{depot} {label}" if label else str(depot))
    if target is not None:
        ax.axhline(100.0 * target, color="#c0392b", ls="--", lw=1, label=f"目标 target {100 * target:.0f}%")
    ax.set_xticks(x)
    ax.set_xticklabels([pd.Timestamp(m).strftime("%Y-%m") for m in months], rotation=45, ha="right", fontsize=8)
    ax.set_ylim(-2, 102)
    ax.set_ylabel("占比 share (%)")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    return figure_to_data_uri(fig)


def service_report(
    tickets: pd.DataFrame,
    part_issues: pd.DataFrame | None = None,
    period: str | int | None = None,
    *,
    wear_list: Any = None,
    promises: Promises | Mapping[str, Any] | None = None,
    target: float = 0.9,
    calendar: WorkingCalendar | None = None,
) -> ServiceReport:
    """Build the service report of one period (default: the last 12 months of the tickets).

    Parameters
    ----------
    tickets : DataFrame
        Canonical tickets.
    part_issues : DataFrame, optional
        Canonical part issues, for the parts-delivery promise.
    period : str or int, optional
        ``"2026Q3"``, ``"2026-07"`` or ``"2026"``; default the 12 months up to the last ticket's month.
    wear_list : set of str or DataFrame, optional
        Passed to :func:`~zk_forecast.service.service_kpis` (5 vs 15 working days for parts).
    promises : Promises or mapping, optional
        The promises measured against; default those of DESIGN.md.
    target : float [-]
        Share drawn as the target line in the charts, 0 < target <= 1.
    calendar : WorkingCalendar, optional
        Working days for the repair and parts promises; default the Chinese calendar (the nightly batch passes the
        one with the ``[calendar]`` overrides of ``zk.toml``).

    Returns
    -------
    ServiceReport

    Raises
    ------
    ZkValueError
        A bad period or target; no tickets in the period.
    """
    if not (isinstance(target, float | int) and 0 < target <= 1):
        raise ZkValueError(f"`target` must be a share in (0, 1]; got {target!r}. Example: 0.9.")
    kpis = service_kpis(tickets, part_issues, wear_list=wear_list, promises=promises, calendar=calendar)
    bdm = kpis.by_depot_month
    if period is None:
        last = pd.Timestamp(bdm["month"].max()) if len(bdm) else pd.Timestamp("2000-01-01")
        start = last - pd.DateOffset(months=11)
        per = Period(f"{start:%Y-%m}_{last:%Y-%m}", start, last + pd.DateOffset(months=1))
    else:
        per = parse_period(period)
    sel = bdm[(bdm["month"] >= per.start) & (bdm["month"] < per.end)]
    sel = sel.sort_values(["depot_id", "month"], kind="stable").reset_index(drop=True)
    if sel.empty:
        raise ZkValueError(f"No service tickets in the period {per.label}; the tickets run from "
                           f"{pd.to_datetime(tickets['reported_at']).min():%Y-%m-%d} to "
                           f"{pd.to_datetime(tickets['reported_at']).max():%Y-%m-%d}. Choose a period inside.")
    html_doc = _render(kpis, sel, per, target)
    return ServiceReport(per.label, html_doc, kpis, sel)


def _labelled(kpis: ServiceKPIs, df: pd.DataFrame) -> pd.DataFrame:
    """Bilingual column labels, shares in percent, months as YYYY-MM."""
    zh, en = kpis.labels("zh"), kpis.labels("en")
    out = df.copy()
    for c in out.columns:
        if c.endswith("_share"):
            out[c] = 100.0 * out[c].astype(float)
    if "month" in out.columns:
        out["month"] = pd.to_datetime(out["month"]).dt.strftime("%Y-%m")
    return out.rename(columns={c: f"{zh[c]} {en[c]}" + (" (%)" if c.endswith("_share") else "")
                               for c in out.columns if c in zh})


def _render(kpis: ServiceKPIs, sel: pd.DataFrame, per: Period, target: float) -> str:
    p = kpis.promises
    header = (f"<h1>售后服务承诺达成报告<span class=\"en\">Service report — {esc(per.label)}</span></h1>"
              '<table class="meta"><tbody>'
              f"<tr><td>期间 Period</td><td>{esc(per.start.date())} – "
              f"{esc((per.end - pd.Timedelta(days=1)).date())}</td></tr>"
              "<tr><td>单位 Dealer</td><td>宁夏众凯农牧机械服务有限公司</td></tr></tbody></table>")
    promises = pd.DataFrame({"承诺 promise": list(p.labels("zh").values()),
                             "promise": list(p.labels("en").values())})
    # period totals per depot: counts summed, shares recomputed from the events
    ev_on = kpis.events["onsite"]
    ev_on = ev_on[(ev_on["month"] >= per.start) & (ev_on["month"] < per.end)]
    ev_rp = kpis.events["repairs"]
    ev_rp = ev_rp[(ev_rp["month"] >= per.start) & (ev_rp["month"] < per.end) & ~ev_rp["open"].astype(bool)]
    tot = pd.DataFrame({
        "onsite_calls": ev_on.groupby("depot_id").size(),
        "onsite_on_time_share": ev_on.groupby("depot_id")["on_time"].mean(),
        "arrival_median_h": ev_on.groupby("depot_id")["arrival_h"].median(),
    })
    w = ev_rp["in_warranty"].fillna(False).astype(bool)
    tot["warranty_repairs_on_time_share"] = ev_rp[w].groupby("depot_id")["on_time"].mean()
    tot["other_repairs_on_time_share"] = ev_rp[~w].groupby("depot_id")["on_time"].mean()
    tot = tot.sort_index().reset_index()
    secs = [
        section("promises", "服务承诺", "Promises measured against", [table_html(promises)]),
        section("overall", "各网点本期汇总", "Period totals per depot", [table_html(_labelled(kpis, tot), digits=1)]),
        section("onsite", f"{p.on_site_hours:g} 小时内到场占比", f"Share on site within {p.on_site_hours:g} h", [
            figure_block(_share_chart(sel, {"onsite_on_time_share": ""},
                                      f"{p.on_site_hours:g}小时内到场占比 share on site within "
                                      f"{p.on_site_hours:g} h", target),
                         "到场及时率 on-site share per depot and month")]),
        section("repairs", "按承诺完成的维修", "Repairs done within their promise", [
            figure_block(_share_chart(sel, {"warranty_repairs_on_time_share": "三包 warranty",
                                            "other_repairs_on_time_share": "保外 other"},
                                      f"维修按期完成占比 repairs within promise（三包 {p.warranty_repair_working_days} / "
                                      f"保外 {p.other_repair_working_days} 个工作日 working days）", target),
                         "维修及时率 repairs within promise per depot and month"),
            paragraph("实线：三包期内维修；虚线：三包期外维修。", "Solid: warranty repairs; dashed: other repairs.")]),
        section("by-depot-month", "按网点和月份", "Per depot and month",
                [table_html(_labelled(kpis, sel), digits=1)]),
    ]
    return page(f"售后服务承诺达成报告 Service report {per.label}", header, secs)


def write_service_report(store_dir: str | Path, period: str | int | None, out_dir: str | Path, *,
                         tables: Any = None, calendar: WorkingCalendar | None = None) -> Path:
    """Read the store, build the service report and write it; for ``zk-forecast report service``.

    Parameters
    ----------
    store_dir : str or Path
        Processed store (``tickets``; ``part_issues`` when present).
    period : str, int or None
        As in :func:`service_report`.
    out_dir : str or Path
        Folder to write into.
    tables : StoreTables or mapping of table name → DataFrame, optional
        Tables already read (``Store.read`` output), shared with the other reports of the run; by default the
        tables of the last report on the same, unchanged store are reused, else the store is read.
    calendar : WorkingCalendar, optional
        As in :func:`service_report`.

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
    return service_report(tickets, st.get("part_issues"), period, calendar=calendar).write(out_dir)
