"""Manufacturer scorecard: all manufacturers side by side for one period (DataFrame and self-contained HTML).

Per manufacturer: machines in service; failures per 100 machines in each farming season of
:data:`zk_forecast.calendar.FARMING_SEASONS` that overlaps the period (a season outside the period gets no column)
and in total; warranty repairs and their
parts cost per machine (part issues of kind ``repair`` on warranty tickets × the part's unit cost, else the issue's
unit price) [CNY]; early-life problems (model × component groups flagged by
:func:`~zk_forecast.failures.early_life_test` on lives known at the end of the period); supply lead times measured
from ``receipts`` whose supplier is the manufacturer and received in the period (received_on − ordered_on [days])
against the agreed ``parts.lead_time_days``; and the listed design fixes that worked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.calendar import FARMING_SEASONS, season_of_month, seasons_in
from zk_forecast.errors import ZkValueError
from zk_forecast.failures import build_lives, compare_cut_in
from zk_forecast.failures.compare import early_life_tests
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
from zk_forecast.reports.manufacturer import _dates, _in_service, normalize_cut_ins

__all__ = ["SCORECARD_COLUMNS", "Scorecard", "manufacturer_scorecard", "write_scorecard"]

#: Scorecard columns: name → (Chinese label, English label). A season's ``per_100_<season key>`` column is present
#: only when the season overlaps the period.
SCORECARD_COLUMNS: dict[str, tuple[str, str]] = {
    "manufacturer": ("厂家", "manufacturer"),
    "machines": ("在用整机", "machines in service"),
    "failures": ("本期故障", "failures"),
    "per_100": ("每百台故障", "failures / 100 machines"),
    **{f"per_100_{s.key}": (f"每百台故障·{s.zh}（{s.months_zh}）", f"per 100, {s.en} ({s.months_en})")
       for s in FARMING_SEASONS},
    "warranty_repairs": ("三包维修", "warranty repairs"),
    "warranty_repairs_per_machine": ("台均三包维修", "warranty repairs / machine"),
    "warranty_parts_cost_per_machine": ("台均三包配件成本(元)", "warranty parts cost / machine [CNY]"),
    "early_life_problems": ("早期故障部件数", "early-life problems"),
    "receipts": ("到货批次", "receipts"),
    "lead_time_mean_days": ("实际供货周期均值(天)", "mean lead time [days]"),
    "lead_time_p90_days": ("实际供货周期90分位(天)", "90th pct lead time [days]"),
    "lead_time_agreed_days": ("约定供货周期(天)", "agreed lead time [days]"),
    "on_time_receipts_share": ("按约定到货占比", "receipts within agreed time"),
    "fixes_listed": ("已评估改进", "fixes assessed"),
    "fixes_worked": ("有效改进", "fixes that worked"),
}

#: Columns of the big tables the scorecard uses (the store's other columns are not read).
_PART_ISSUE_COLUMNS = ("issued_on", "part_no", "quantity", "kind", "unit_price", "ticket_id")
_RECEIPT_COLUMNS = ("part_no", "ordered_on", "received_on", "supplier")


@dataclass
class Scorecard:
    """The scorecard: one row per manufacturer, and the HTML page.

    Attributes
    ----------
    period : str
    table : DataFrame
        Columns of :data:`SCORECARD_COLUMNS` (season columns only for the seasons in the period), sorted by
        manufacturer.
    html : str
    dates : DataDates
        Data date, generation time and whether the stale-data banner is shown.
    """

    period: str
    table: pd.DataFrame
    html: str = field(repr=False)
    dates: DataDates | None = field(default=None, repr=False)

    def write(self, out_dir: str | Path) -> Path:
        """Write ``scorecard_<period>.html`` into ``out_dir`` and return its path."""
        return write_page(out_dir, f"scorecard_{self.period}", self.html)

    def _repr_html_(self) -> str:
        return self.html


def manufacturer_scorecard(
    tickets: pd.DataFrame,
    machines: pd.DataFrame,
    period: str | int,
    *,
    part_issues: pd.DataFrame | None = None,
    parts: pd.DataFrame | None = None,
    receipts: pd.DataFrame | None = None,
    component_parts: pd.DataFrame | None = None,
    cut_ins: Any = None,
    alpha: float = 0.05,
    lives: pd.DataFrame | None = None,
    as_of: Any = None,
    generated_at: Any = None,
    stale: bool = False,
) -> Scorecard:
    """All manufacturers side by side for one period.

    Parameters
    ----------
    tickets, machines : DataFrame
        Canonical tables (all history).
    period : str or int
        ``"2026Q3"``, ``"2026-07"`` or ``"2026"``.
    part_issues, parts : DataFrame, optional
        For the warranty parts cost [CNY]; without them the cost is NaN.
    receipts : DataFrame, optional
        For the measured lead times; ``parts`` gives the agreed ones.
    component_parts : DataFrame, optional
        Passed to :func:`~zk_forecast.failures.build_lives`.
    cut_ins : DataFrame or list of (model, component, cut_in), optional
        Design fixes to assess.
    alpha : float
        Significance level of the early-life and fix tests.
    lives : DataFrame, optional
        The component lives of all machines known at the end of the period, when already built
        (``build_lives`` on the tickets reported before the period end, ``as_of`` the period end); default built
        here.
    as_of : date-like, optional
        Date of the data, shown as 数据截至 [date]. Default: the latest date in the tickets, part issues and
        receipts given.
    generated_at : date-time-like, optional
        When the scorecard is generated, shown as 生成时间 [date-time]; the nightly batch passes the run's time.
        Default: the clock, now.
    stale : bool, default False
        Show the stale-data banner at the top.

    Returns
    -------
    Scorecard
    """
    per = parse_period(period)
    if "manufacturer" not in machines.columns:
        raise ZkValueError("The machines table has no 'manufacturer' column; the scorecard needs it.")
    dates = data_dates(as_of, generated_at, stale, latest_date([
        tickets["reported_at"], None if part_issues is None else part_issues["issued_on"],
        None if receipts is None else receipts["received_on"]]))
    m = machines.assign(serial_no=machines["serial_no"].astype(str), manufacturer=machines["manufacturer"].astype(str))
    makers = sorted(m["manufacturer"].unique())
    in_service = m[_in_service(m, per.start, per.end)]
    n_mach = in_service.groupby("manufacturer").size().reindex(makers, fill_value=0)

    reported = _dates(tickets["reported_at"])
    t = tickets[(reported >= per.start) & (reported < per.end)]  # the period's tickets, then their ids as text
    t = t.assign(serial_no=t["serial_no"].astype(str), reported_at=_dates(t["reported_at"]))
    t = t.merge(m[["serial_no", "manufacturer"]], on="serial_no", how="inner")
    f = t[t["kind"] == "failure"]
    out = pd.DataFrame(index=pd.Index(makers, name="manufacturer"))
    out["machines"] = n_mach
    out["failures"] = f.groupby("manufacturer").size().reindex(makers, fill_value=0)
    denom = out["machines"].where(out["machines"] > 0)
    out["per_100"] = 100.0 * out["failures"] / denom
    season = season_of_month(f["reported_at"].dt.month)
    for s in seasons_in(per.start, per.end):
        out[f"per_100_{s.key}"] = 100.0 * f[season == s.key].groupby("manufacturer").size().reindex(
            makers, fill_value=0) / denom
    # warranty repairs and their parts cost
    wf = f[f["in_warranty"].astype("boolean").fillna(False).astype(bool)] if "in_warranty" in f.columns else f.iloc[:0]
    out["warranty_repairs"] = wf.groupby("manufacturer").size().reindex(makers, fill_value=0)
    out["warranty_repairs_per_machine"] = out["warranty_repairs"] / denom
    cost = pd.Series(np.nan, index=out.index)
    if part_issues is not None:
        wt = wf[["ticket_id", "manufacturer"]].assign(ticket_id=lambda d: d["ticket_id"].astype(str))
        pi = part_issues[(part_issues["kind"] == "repair") & part_issues["ticket_id"].notna()]
        pi = pi[pi["ticket_id"].isin(set(wt["ticket_id"]))]  # the lines the inner merge keeps, before any text copy
        pi = pi.assign(ticket_id=pi["ticket_id"].astype(str), part_no=pi["part_no"].astype(str))
        pi = pi.merge(wt, on="ticket_id", how="inner")
        price = pd.to_numeric(pi["unit_price"], errors="coerce") if "unit_price" in pi.columns else np.nan
        if parts is not None:
            uc = parts.assign(part_no=parts["part_no"].astype(str)).set_index("part_no")["unit_cost"]
            unit = pd.to_numeric(pi["part_no"].map(uc), errors="coerce").fillna(price)
        else:
            unit = price
        pi = pi.assign(_v=pd.to_numeric(pi["quantity"], errors="coerce").astype(float) * unit)
        cost = pi.groupby("manufacturer")["_v"].sum().reindex(makers, fill_value=0.0)
    out["warranty_parts_cost_per_machine"] = cost / denom

    # early-life problems and fixes, on lives known at the end of the period
    if lives is None:
        hist = tickets[_dates(tickets["reported_at"]) < per.end]
        lives = build_lives(hist, machines, component_parts, as_of=per.end)
    keys = ["manufacturer", "model", "component"]
    el = early_life_tests(lives.dropna(subset=keys), keys, alpha=alpha)
    problem = el["flagged"].astype(bool) | (el["shape_upper"].astype(float) < 1.0)
    per_maker = problem.groupby(el.index.get_level_values(0).astype(str)).sum()
    out["early_life_problems"] = per_maker.reindex(out.index, fill_value=0).astype(np.int64)
    # supply lead times
    for c in ("receipts", "lead_time_mean_days", "lead_time_p90_days", "lead_time_agreed_days",
              "on_time_receipts_share"):
        out[c] = np.nan
    if receipts is not None and len(receipts):
        received = _dates(receipts["received_on"])
        r = receipts[(received >= per.start) & (received < per.end)]  # the period's receipts, then their text
        r = r.assign(supplier=r["supplier"].astype(str), received_on=_dates(r["received_on"]),
                     ordered_on=_dates(r["ordered_on"]))
        r = r[r["supplier"].isin(makers)]
        r = r.assign(days=(r["received_on"] - r["ordered_on"]).dt.days.astype(float))
        if parts is not None:
            agreed = parts.assign(part_no=parts["part_no"].astype(str)).set_index("part_no")["lead_time_days"]
            r = r.assign(agreed=pd.to_numeric(r["part_no"].astype(str).map(agreed), errors="coerce").astype(float))
        else:
            r = r.assign(agreed=np.nan)
        g = r.groupby("supplier")
        out["receipts"] = g.size().reindex(makers, fill_value=0)
        out["lead_time_mean_days"] = g["days"].mean()
        out["lead_time_p90_days"] = g["days"].quantile(0.9)
        out["lead_time_agreed_days"] = g["agreed"].mean()
        ok = r.assign(_ok=(r["days"] <= r["agreed"]).astype(float).where(r["agreed"].notna()))
        out["on_time_receipts_share"] = ok.groupby("supplier")["_ok"].mean()
    out["receipts"] = out["receipts"].fillna(0).astype(int)
    # fixes
    fixes = normalize_cut_ins(cut_ins)
    model_maker = m.drop_duplicates("model").set_index(m.drop_duplicates("model")["model"].astype(str))["manufacturer"]
    out["fixes_listed"] = 0
    out["fixes_worked"] = 0
    for fx in fixes.itertuples(index=False):
        maker = model_maker.get(fx.model)
        if maker is None:
            continue
        sub = lives[(lives["model"] == fx.model) & (lives["component"] == fx.component) & lives["build_date"].notna()]
        out.loc[maker, "fixes_listed"] += 1
        try:
            res = compare_cut_in(sub.assign(build_date=pd.to_datetime(sub["build_date"])), fx.cut_in, entry="entry",
                                 alpha=alpha)
        except ZkValueError:
            continue
        out.loc[maker, "fixes_worked"] += int(res.improved)
    table = out.reset_index()
    table = table[[c for c in SCORECARD_COLUMNS if c in table.columns]]
    return Scorecard(per.label, table, _render(table, per, dates), dates)


def _labels(per: Period) -> dict[str, tuple[str, str]]:
    """Column labels, each season's naming the months of it inside the period (Q3: 夏收 Jul, 秋收 Aug-Sep)."""
    en_month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    out = dict(SCORECARD_COLUMNS)
    in_period = list(dict.fromkeys(per.months.month))
    for s in FARMING_SEASONS:
        ms = [m for m in in_period if m in s.months]
        if not ms:
            continue
        zh = f"{ms[0]}月" if len(ms) == 1 else f"{ms[0]}–{ms[-1]}月"
        en = en_month[ms[0] - 1] if len(ms) == 1 else f"{en_month[ms[0] - 1]}–{en_month[ms[-1] - 1]}"
        out[f"per_100_{s.key}"] = (f"每百台故障·{s.zh}（本期{zh}）", f"per 100, {s.en} ({en} of the period)")
    return out


def _render(table: pd.DataFrame, per: Period, dates: DataDates) -> str:
    from zk_forecast.reports._layout import place_axes, placed_figure, set_title
    from zk_forecast.reports.charts import figure_to_data_uri

    fig, ax = placed_figure(9, 4.2)
    x = np.arange(len(table))
    cols = [c for c in table.columns if c.startswith("per_100_")]
    width = 0.8 / max(len(cols), 1)
    labels = _labels(per)
    for j, c in enumerate(cols):
        zh, en = labels[c]
        ax.bar(x + (j - (len(cols) - 1) / 2) * width, table[c].fillna(0).to_numpy(float), width, label=f"{zh} {en}")
    ax.set_xticks(x)
    ax.set_xticklabels(table["manufacturer"].tolist())
    ax.set_ylabel("每百台故障 failures / 100 machines")
    set_title(ax, "各厂家分农时故障率 Failures per 100 machines by season")
    ax.legend(fontsize=7)
    place_axes(fig, left=0.8, right=0.15, bottom=0.45, top=0.35)
    uri = figure_to_data_uri(fig)
    shown = table.copy()
    shown["on_time_receipts_share"] = 100.0 * shown["on_time_receipts_share"]
    shown = shown.rename(columns={c: f"{zh} {en}" + (" (%)" if c == "on_time_receipts_share" else "")
                                  for c, (zh, en) in labels.items()})
    header = (f"<h1>厂家综合评分表<span class=\"en\">Manufacturer scorecard — {esc(per.label)}</span></h1>"
              + dates.banner() + '<table class="meta"><tbody>'
              f"<tr><td>期间 Period</td><td>{esc(per.start.date())} – "
              f"{esc((per.end - pd.Timedelta(days=1)).date())}</td></tr>" + dates.meta_rows() + "</tbody></table>")
    secs = [
        section("scorecard", "厂家对比", "Manufacturers side by side", [table_html(
            shown.set_index("厂家 manufacturer").T.rename_axis("指标 measure").reset_index(), digits=2,
            table_id="scorecard-table")]),
        section("seasons", "分农时故障率", "Failures per 100 machines by season",
                [figure_block(uri, "分农时故障率 failures by season")]),
        section("method", "口径说明", "Method", [paragraph(
            "三包配件成本 = 三包期内故障单的维修领用数量 × 配件成本价；供货周期 = 到货日期 − 订货日期（供应商为该厂家的入库单），"
            "约定周期取配件档案的采购周期。分农时故障率只计本期内的月份，本期未涉及的农时不列出。",
            "Warranty parts cost = repair issues on warranty failure tickets × the part's unit cost; lead time = "
            "received_on − ordered_on of receipts supplied by the manufacturer, agreed = parts.lead_time_days. "
            "Failures per season count the season's months inside the period only; seasons outside the period "
            "are not listed.")]),
    ]
    return page(f"厂家综合评分表 Manufacturer scorecard {per.label}", header, secs)


def write_scorecard(store_dir: str | Path, period: str | int, out_dir: str | Path, cut_ins: Any = None, *,
                    tables: Any = None, as_of: Any = None, generated_at: Any = None, stale: bool = False) -> Path:
    """Read the store, build the scorecard and write its HTML; for ``zk-forecast report scorecard``.

    Parameters
    ----------
    store_dir : str or Path
        Processed store.
    period : str or int
        ``"2026Q3"``, ``"2026-07"`` or ``"2026"``.
    out_dir : str or Path
        Folder to write into.
    cut_ins : DataFrame or list of (model, component, cut_in), optional
        Design fixes to assess.
    tables : StoreTables or mapping of table name → DataFrame, optional
        Tables already read, shared with the other reports of the run (see
        :func:`~zk_forecast.reports.service_report.write_service_report`).
    as_of, generated_at, stale :
        As in :func:`manufacturer_scorecard` (the nightly batch passes the run's time as ``generated_at``).

    Returns
    -------
    Path
    """
    from zk_forecast.reports._tables import store_tables

    st = store_tables(store_dir, tables)
    tickets, machines = st.get("tickets"), st.get("machines")
    if tickets is None or machines is None:
        raise ZkValueError(f"The store {str(store_dir)!r} needs 'tickets' and 'machines'; run `zk-forecast ingest`.")
    per = parse_period(period)
    sc = manufacturer_scorecard(tickets, machines, period, part_issues=st.get("part_issues", _PART_ISSUE_COLUMNS),
                                parts=st.get("parts"), receipts=st.get("receipts", _RECEIPT_COLUMNS),
                                component_parts=st.get("component_parts"),
                                cut_ins=cut_ins, lives=st.lives(per.end), as_of=as_of, generated_at=generated_at,
                                stale=stale)
    return sc.write(out_dir)
