"""Manufacturer feedback report: one self-contained, printable HTML file per manufacturer and period.

Manufacturers cause most field failures, so the dealer sends them the fault statistics as evidence for design
improvements. The report holds, for one manufacturer and one period (``"2026Q3"``, ``"2026-07"``, ``"2026"``):

* the date of its data (数据截至) and when it was generated (生成时间), and a stale-data banner when told so;
* failures per 100 machines in service by model × component, with the first and latest failure in the period
  (Pareto chart and table);
* the period's failures per model × component by fault code (故障代码), each with its first and latest failure;
* the monthly trend of the last 24 months against the farming seasons of
  :data:`zk_forecast.calendar.FARMING_SEASONS` (the field-work seasons shaded);
* MTBF [engine hours] and Weibull shape per model × component with intervals, fitted by
  :func:`~zk_forecast.failures.fit_groups` on all component lives known at the end of the period (a quarter alone
  holds too few failures), drawn on plain-number axes;
* early-life flags (:func:`~zk_forecast.failures.early_life_test`, or a shape interval wholly below 1);
* per model, the dealer's maintenance-plan intervals against the optimal replacement ages of the kit parts
  (:func:`~zk_forecast.failures.review_maintenance_intervals` on the Weibull fits above with status "ok": too
  short / about right / too long, and the money per 100 machines per season), when the store has
  ``maintenance_plans`` and ``parts``;
* which machines fail sooner: hazard ratios of component failure for usage per season, build year, depot and
  warranty (:func:`~zk_forecast.failures.hazard_ratios`, Cox regression stratified by model x component);
* the warranty share of the period's failures; repeat failures (the same component of the same machine failing
  again within ``repeat_days``);
* whether each listed design fix of this manufacturer's models worked (:func:`~zk_forecast.failures.compare_cut_in`,
  at equal age);
* the top improvement requests, each with its evidence: early-life flags first, then by failures per 100 machines
  × warranty share.

The report goes to an outside company, so it holds this manufacturer's data only: its machines, models, tickets
and component lives; design fixes listed for other manufacturers' models are left out (the scorecard judges them).

MTBF [h] is the Weibull mean ``scale · Γ(1 + 1/shape)``; its interval applies the same factor to the scale's Wald
interval (shape held at its estimate), an approximation stated in the report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.calendar import FARMING_SEASONS
from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.failures import (
    build_lives,
    compare_cut_in,
    fit_groups,
    hazard_ratios,
    review_maintenance_intervals,
)
from zk_forecast.failures.compare import early_life_tests
from zk_forecast.names import safe_name
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

__all__ = [
    "SEASONS",
    "ManufacturerReport",
    "manufacturer_report",
    "normalize_cut_ins",
    "write_manufacturer_report",
]

#: The farming seasons the trend chart shades: :data:`zk_forecast.calendar.FARMING_SEASONS` (the one table).
SEASONS = FARMING_SEASONS
_SEASON_COLORS = {"spring_sowing": "#cfe8cf", "wheat_harvest": "#f6e3b4", "autumn_harvest": "#f3cdb0"}

SECTION_IDS: tuple[str, ...] = ("summary", "pareto", "faults", "trend", "weibull", "early-life", "maintenance",
                                "hazards", "warranty", "repeats", "fixes", "requests", "method")


@dataclass
class ManufacturerReport:
    """The report of one manufacturer and period: the HTML page and the tables behind it.

    Attributes
    ----------
    manufacturer : str
    period : str
        Canonical period label (``"2026Q3"``).
    html : str
        The self-contained HTML document.
    tables : dict[str, DataFrame]
        ``pareto``, ``faults``, ``trend``, ``weibull``, ``early_life``, ``warranty``, ``repeats``, ``fixes``,
        ``requests``.
    dates : DataDates
        Data date, generation time and whether the stale-data banner is shown.
    """

    manufacturer: str
    period: str
    html: str
    tables: dict[str, pd.DataFrame] = field(repr=False)
    dates: DataDates | None = field(default=None, repr=False)

    def write(self, out_dir: str | Path) -> Path:
        """Write ``manufacturer_<name>_<period>.html`` (UTF-8) into ``out_dir`` and return its path."""
        return write_page(out_dir, f"manufacturer_{safe_name(self.manufacturer)}_{safe_name(self.period)}", self.html)

    def _repr_html_(self) -> str:
        return self.html


# ------------------------------------------------------------------------------------------ inputs
def normalize_cut_ins(cut_ins: Any) -> pd.DataFrame:
    """The design-fix list as a DataFrame ``model``, ``component``, ``cut_in`` (Timestamp), sorted.

    Parameters
    ----------
    cut_ins : DataFrame, path of a CSV, sequence of (model, component, cut_in) or of mappings, or None
        The fixes; ``cut_in`` is the first build date with the fix.

    Returns
    -------
    DataFrame

    Raises
    ------
    ZkValueError
        Missing columns or an unparsable date.
    """
    cols = ["model", "component", "cut_in"]
    if cut_ins is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    if isinstance(cut_ins, (str, Path)):  # a CSV file of the fixes
        path = Path(cut_ins)
        if not path.is_file():
            raise ZkValueError(f"cut-in file {str(path)!r} does not exist; give a CSV with columns model, component, "
                               "cut_in / 设计改进切换点文件不存在")
        cut_ins = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    if isinstance(cut_ins, pd.DataFrame):
        df = cut_ins.copy()
    elif isinstance(cut_ins, Sequence) and not isinstance(cut_ins, str):
        rows = [dict(r) if isinstance(r, Mapping) else dict(zip(cols, r)) for r in cut_ins]
        df = pd.DataFrame(rows, columns=cols if not rows or not isinstance(cut_ins[0], Mapping) else None)
    else:
        raise ZkTypeError(f"`cut_ins` must be a DataFrame (model, component, cut_in) or a list of such rows; "
                          f"got {type(cut_ins).__name__}.")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ZkValueError(f"The cut-in list lacks column(s) {missing}; it has {list(df.columns)}. Rule: each fix "
                           f"names model, component and cut_in (first build date with the fix), e.g. "
                           f"('SF-1004', '离合器', '2023-03-01').")
    try:
        when = pd.to_datetime(df["cut_in"])
    except (TypeError, ValueError) as exc:
        raise ZkValueError(f"A cut-in date is not a date: {list(df['cut_in'])}. Give dates like '2023-03-01'.") from exc
    out = pd.DataFrame({"model": df["model"].astype(str), "component": df["component"].astype(str), "cut_in": when})
    return out.sort_values(cols, kind="stable").reset_index(drop=True)


def _check_manufacturer(machines: pd.DataFrame, manufacturer: str) -> None:
    if "manufacturer" not in machines.columns:
        raise ZkValueError("The machines table has no 'manufacturer' column; the report needs it.")
    known = sorted(machines["manufacturer"].dropna().astype(str).unique())
    if str(manufacturer) not in known:
        raise ZkValueError(f"Unknown manufacturer {manufacturer!r}: no machine of it in the installed base. "
                           f"Known manufacturers: {', '.join(known)}.")


def _dates(col: pd.Series) -> pd.Series:
    """``col`` as datetimes (parsed only when it is not already a datetime column)."""
    return col if pd.api.types.is_datetime64_any_dtype(col) else pd.to_datetime(col)


def _in_service(machines: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """True for machines sold before ``end`` and not retired before ``start``."""
    sold = _dates(machines["sale_date"]) < end
    if "retired_date" in machines.columns:
        ret = _dates(machines["retired_date"])
        return sold & (ret.isna() | (ret >= start))
    return sold


# ------------------------------------------------------------------------------------------ analysis
def _failures(tickets: pd.DataFrame, machines: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Failure tickets of these machines reported before ``end``, with model, sorted."""
    t = tickets[(tickets["kind"] == "failure") & (_dates(tickets["reported_at"]) < end)]
    t = t[t["serial_no"].astype(str).isin(set(machines["serial_no"].astype(str)))]
    cols = ["ticket_id", "serial_no", "reported_at", "component"]
    extra = [c for c in ("in_warranty", "cause", "fault_code") if c in t.columns]
    f = t[cols + extra].copy()
    f["serial_no"] = f["serial_no"].astype(str)
    f["component"] = f["component"].astype(object).where(f["component"].notna(), "未注明 unspecified")
    f["reported_at"] = _dates(f["reported_at"])
    mm = machines[["serial_no", "model"]].assign(serial_no=lambda d: d["serial_no"].astype(str),
                                                  model=lambda d: d["model"].astype(str))
    f = f.merge(mm, on="serial_no", how="left")
    return f.sort_values(["reported_at", "ticket_id"], kind="stable").reset_index(drop=True)


def _pareto(fail_p: pd.DataFrame, base: pd.Series) -> pd.DataFrame:
    """Failures per 100 machines in service by model × component, highest first, with cumulative share."""
    if fail_p.empty:
        return pd.DataFrame(columns=["model", "component", "failures", "machines", "per_100", "warranty_share",
                                     "cum_share", "first_failure", "latest_failure"])
    g = fail_p.groupby(["model", "component"], sort=True)
    out = pd.DataFrame({"failures": g.size(), "first_failure": g["reported_at"].min().dt.normalize(),
                        "latest_failure": g["reported_at"].max().dt.normalize()})
    if "in_warranty" in fail_p.columns:
        out["warranty_share"] = g["in_warranty"].apply(lambda s: float(s.astype("boolean").fillna(False).mean()))
    else:
        out["warranty_share"] = np.nan
    out = out.reset_index()
    out["machines"] = out["model"].map(base).fillna(0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_100"] = np.where(out["machines"] > 0, 100.0 * out["failures"] / out["machines"].clip(lower=1),
                                  np.nan)
    out = out.sort_values(["per_100", "failures", "model", "component"], ascending=[False, False, True, True],
                          kind="stable").reset_index(drop=True)
    out["cum_share"] = out["failures"].cumsum() / out["failures"].sum()
    return out[["model", "component", "failures", "machines", "per_100", "warranty_share", "cum_share",
                "first_failure", "latest_failure"]]


def _faults(fail_p: pd.DataFrame) -> pd.DataFrame:
    """The period's failures per model × component × fault code, with the share of the component's failures and
    the first and latest failure day; sorted by model, component, most failures first."""
    cols = ["model", "component", "fault_code", "failures", "share", "first_failure", "latest_failure"]
    if fail_p.empty:
        return pd.DataFrame(columns=cols)
    code = (fail_p["fault_code"].astype(object) if "fault_code" in fail_p.columns
            else pd.Series(None, index=fail_p.index, dtype=object))
    f = fail_p.assign(fault_code=code.where(code.notna(), "未注明 unspecified").astype(str))
    g = f.groupby(["model", "component", "fault_code"], sort=True)
    out = pd.DataFrame({"failures": g.size(), "first_failure": g["reported_at"].min().dt.normalize(),
                        "latest_failure": g["reported_at"].max().dt.normalize()}).reset_index()
    out["share"] = out["failures"] / out.groupby(["model", "component"])["failures"].transform("sum")
    out = out.sort_values(["model", "component", "failures", "fault_code"], ascending=[True, True, False, True],
                          kind="stable").reset_index(drop=True)
    return out[cols]


def _trend(fail: pd.DataFrame, machines: pd.DataFrame, period: Period, months: int = 24) -> pd.DataFrame:
    """Failures and failures per 100 machines per month for the ``months`` months ending with the period."""
    last = period.end - pd.DateOffset(months=1)
    idx = pd.date_range(last - pd.DateOffset(months=months - 1), last, freq="MS")
    mon = fail["reported_at"].dt.to_period("M").dt.to_timestamp()
    counts = mon.value_counts().reindex(idx, fill_value=0).astype(int)
    # machines in service per month: sold before the month's end, not retired before its start
    sale = _dates(machines["sale_date"]).to_numpy(dtype="datetime64[ns]")
    ret = (_dates(machines["retired_date"]).to_numpy(dtype="datetime64[ns]") if "retired_date" in machines.columns
           else np.full(len(machines), np.datetime64("NaT"), dtype="datetime64[ns]"))
    starts = idx.to_numpy(dtype="datetime64[ns]")
    ends = (idx + pd.DateOffset(months=1)).to_numpy(dtype="datetime64[ns]")
    alive = (sale[None, :] < ends[:, None]) & (np.isnat(ret)[None, :] | (ret[None, :] >= starts[:, None]))
    base = alive.sum(axis=1).astype(int).tolist()
    out = pd.DataFrame({"month": idx, "failures": counts.to_numpy(), "machines": base})
    out["per_100"] = np.where(out["machines"] > 0, 100.0 * out["failures"] / out["machines"].clip(lower=1), np.nan)
    out["in_period"] = (out["month"] >= period.start) & (out["month"] < period.end)
    season = {m: s.label for s in SEASONS for m in s.months}
    out["season"] = out["month"].dt.month.map(season).fillna("")
    return out


def _life_fits(lives: pd.DataFrame, level: float) -> pd.DataFrame | None:
    """fit_groups per model x component on the lives (None when there is no failure to fit)."""
    if lives.empty or int((lives["censored"] == 0).sum()) == 0:
        return None
    return fit_groups(lives, ["model", "component"], "time", censored="censored", entry="entry", level=level)


def _weibull(lives: pd.DataFrame, level: float, fits: pd.DataFrame | None = None) -> pd.DataFrame:
    cols = ["model", "component", "status", "n_failures", "n_units", "shape", "shape_lo", "shape_hi", "mtbf_h",
            "mtbf_lo_h", "mtbf_hi_h"]
    if fits is None:
        fits = _life_fits(lives, level)
    if fits is None:
        return pd.DataFrame(columns=cols)
    fit = fits.reset_index()
    ok = fit["status"] == "ok"
    gam = np.array([math.gamma(1.0 + 1.0 / k) if k > 0 else np.nan for k in fit["shape"].astype(float)])
    fit["mtbf_h"] = np.where(ok, fit["scale"].astype(float) * gam, np.nan)
    fit["mtbf_lo_h"] = np.where(ok, fit["scale_lo"].astype(float) * gam, np.nan)
    fit["mtbf_hi_h"] = np.where(ok, fit["scale_hi"].astype(float) * gam, np.nan)
    for c in ("shape", "shape_lo", "shape_hi"):
        fit[c] = np.where(ok, fit[c].astype(float), np.nan)
    fit["n_failures"] = fit["n_failures"].astype(int)
    fit["n_units"] = fit["n_units"].astype(int)
    return fit[cols].sort_values(["model", "component"], kind="stable").reset_index(drop=True)


_MAINT_COLS = ["model", "component", "part_no", "service", "interval_hours", "shape", "scale", "optimal_age",
               "cost_preventive", "cost_failure", "cost_rate_plan", "cost_rate_optimal",
               "excess_per_100_machines_season", "verdict", "verdict_en"]


def _hours_per_season(lives: pd.DataFrame) -> dict[str, float]:
    """Mean engine hours per season [h] of each model's machines: usage factor x the yearly hours of the type's
    seasonal profile (``lives.attrs["usage"]``); empty when the lives carry no profile."""
    usage = lives.attrs.get("usage")
    if not usage or lives.empty or "usage_factor" not in lives.columns:
        return {}
    yearly = {str(k): float(np.sum(v)) for k, v in usage.items()}
    per_machine = lives.drop_duplicates("serial_no")
    hours = per_machine["usage_factor"].astype(float) * per_machine["machine_type"].astype(str).map(yearly)
    by_model = hours.groupby(per_machine["model"].astype(str)).mean()
    return {str(k): float(v) for k, v in by_model.items() if np.isfinite(v) and v > 0}


def _maintenance(fits: pd.DataFrame | None, lives: pd.DataFrame, models: set[str], plans: pd.DataFrame | None,
                 component_parts: pd.DataFrame | None, parts: pd.DataFrame | None,
                 failure_extra_cost: float) -> tuple[pd.DataFrame, str]:
    """The maintenance-interval review of this manufacturer's models, and why it is empty when it is.

    Only this manufacturer's models enter (plans and bills of material filtered first); only fits with status
    "ok" (a Weibayes shape is assumed, not measured, and would decide the verdict by itself).
    """
    empty = pd.DataFrame(columns=_MAINT_COLS)
    if plans is None or parts is None or component_parts is None:
        return empty, "missing"
    own_plans = plans[plans["model"].astype(str).isin(models)]
    own_bom = component_parts[component_parts["model"].astype(str).isin(models)]
    if fits is None or own_plans.empty or own_bom.empty:
        return empty, "no_plans" if own_plans.empty else "no_lives"
    ok = fits[fits["status"] == "ok"]
    hours = _hours_per_season(lives)
    ok = ok[[str(m) in hours for m in ok.index.get_level_values(0)]]
    if ok.empty:
        return empty, "no_lives"
    review = review_maintenance_intervals(own_plans, own_bom, ok, parts, failure_extra_cost=failure_extra_cost,
                                          hours_per_season=hours)
    return review, ""


def _hazards(lives: pd.DataFrame, mach: pd.DataFrame, level: float,
             depots: pd.DataFrame | None = None) -> pd.DataFrame:
    """Hazard ratios per covariate (Cox, strata model x component); empty when the lives cannot carry a fit."""
    cols = ["covariate", "term", "unit", "coef", "hazard_ratio", "hr_lo", "hr_hi", "p_value", "n_lives",
            "n_failures", "note", "text_zh", "text_en"]
    if lives.empty or int((lives["censored"] == 0).sum()) < 10 or not lives.attrs.get("usage"):
        return pd.DataFrame(columns=cols)
    names = None
    if depots is not None and {"depot_id", "name"} <= set(depots.columns):
        names = {str(k): f"{v}({k})" for k, v in zip(depots["depot_id"], depots["name"])}
    return hazard_ratios(lives, mach, level=level, depot_names=names)


def _early_life(lives: pd.DataFrame, level: float, alpha: float) -> pd.DataFrame:
    """The early-life test of every model x component (flagged also when the shape interval lies below 1)."""
    cols = ["model", "component", "failures", "shape", "shape_lo", "shape_hi", "p_value", "flagged", "sentence_zh",
            "sentence_en"]
    keys = ["model", "component"]
    el = early_life_tests(lives.dropna(subset=keys), keys, alpha=alpha, level=level)
    if el.empty:
        return pd.DataFrame(columns=cols)
    out = el.reset_index().rename(columns={"shape_lower": "shape_lo", "shape_upper": "shape_hi"})
    out["failures"] = out["failures"].astype(np.int64)
    out["flagged"] = out["flagged"].astype(bool) | (out["shape_hi"].astype(float) < 1.0)
    return out[cols]


def _repeats(fail: pd.DataFrame, period: Period, days: int) -> pd.DataFrame:
    """Failures in the period whose machine had the same component fail within ``days`` days before."""
    f = fail.sort_values(["serial_no", "component", "reported_at", "ticket_id"], kind="stable")
    prev = f.groupby(["serial_no", "component"], sort=False)["reported_at"].shift(1)
    gap = (f["reported_at"] - prev).dt.total_seconds() / 86400.0
    rep = f.assign(days_since_previous=gap)
    rep = rep[(gap <= days) & (rep["reported_at"] >= period.start) & (rep["reported_at"] < period.end)]
    out = rep[["model", "component", "serial_no", "ticket_id", "reported_at", "days_since_previous"]]
    return out.sort_values(["model", "component", "serial_no", "reported_at"], kind="stable").reset_index(drop=True)


def _fixes(lives: pd.DataFrame, cut_ins: pd.DataFrame, models: set[str], level: float,
           alpha: float) -> pd.DataFrame:
    rows = []
    # only this manufacturer's models: the report goes to the manufacturer and names no one else's fixes
    own = cut_ins[cut_ins["model"].astype(str).isin(models)]
    for r in own.itertuples(index=False):
        base = {"model": r.model, "component": r.component, "cut_in": r.cut_in}
        sub = lives[(lives["model"] == r.model) & (lives["component"] == r.component)]
        sub = sub[sub["build_date"].notna()]
        if sub.empty:
            rows.append({**base, "rate_ratio": np.nan, "p_value": np.nan, "worked": None,
                         "sentence_zh": "没有该部件的寿命数据或生产日期，无法判断",
                         "sentence_en": "No lives with a build date for this component: cannot judge"})
            continue
        sub = sub.assign(build_date=pd.to_datetime(sub["build_date"]))
        try:
            res = compare_cut_in(sub, r.cut_in, entry="entry", level=level, alpha=alpha)
        except ZkValueError as exc:
            rows.append({**base, "rate_ratio": np.nan, "p_value": np.nan, "worked": None,
                         "sentence_zh": "无法比较：" + str(exc), "sentence_en": "Cannot compare: " + str(exc)})
            continue
        rows.append({**base, "rate_ratio": res.rate_ratio, "p_value": res.p_value, "worked": bool(res.improved),
                     "sentence_zh": res.sentence_zh, "sentence_en": res.sentence_en})
    cols = ["model", "component", "cut_in", "rate_ratio", "p_value", "worked", "sentence_zh", "sentence_en"]
    return pd.DataFrame(rows, columns=cols)


def _requests(pareto: pd.DataFrame, weib: pd.DataFrame, early: pd.DataFrame, repeats: pd.DataFrame,
              top: int) -> pd.DataFrame:
    keys = ["model", "component"]
    df = pareto[[*keys, "failures", "per_100", "warranty_share"]].merge(
        early[[*keys, "flagged", "sentence_zh", "sentence_en"]], on=keys, how="outer")
    df = df.merge(weib[[*keys, "shape", "mtbf_h"]], on=keys, how="left")
    rep = repeats.groupby(keys).size().rename("repeats").reset_index() if len(repeats) else \
        pd.DataFrame(columns=[*keys, "repeats"])
    df = df.merge(rep, on=keys, how="left")
    df["failures"] = df["failures"].fillna(0).astype(int)
    df["repeats"] = pd.to_numeric(df["repeats"], errors="coerce").fillna(0).astype(int)
    df["flagged"] = df["flagged"].astype("boolean").fillna(False).astype(bool)
    df["score"] = df["per_100"].fillna(0.0) * df["warranty_share"].fillna(0.0)
    df = df[(df["failures"] > 0) | df["flagged"]]
    df = df.sort_values(["flagged", "score", "failures", "model", "component"],
                        ascending=[False, False, False, True, True], kind="stable").head(top).reset_index(drop=True)
    ev_zh, ev_en = [], []
    for r in df.itertuples(index=False):
        zh = [f"本期故障 {r.failures} 次，每百台 {_num(r.per_100)} 次，三包期内占 {_pct(r.warranty_share)}"]
        en = [f"{r.failures} failures in the period, {_num(r.per_100)} per 100 machines, "
              f"{_pct(r.warranty_share)} in warranty"]
        if r.repeats:
            zh.append(f"同机同部件 {r.repeats} 次重复故障")
            en.append(f"{r.repeats} repeat failures on the same machine")
        if isinstance(r.mtbf_h, float) and np.isfinite(r.mtbf_h):
            zh.append(f"平均无故障时间约 {r.mtbf_h:,.0f} 小时，形状参数 {r.shape:.2f}")
            en.append(f"MTBF about {r.mtbf_h:,.0f} h, Weibull shape {r.shape:.2f}")
        if r.flagged:
            zh.append(str(r.sentence_zh))
            en.append(str(r.sentence_en))
        ev_zh.append("；".join(zh))
        ev_en.append("; ".join(en))
    df["evidence_zh"] = ev_zh
    df["evidence_en"] = ev_en
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df[["rank", *keys, "flagged", "failures", "per_100", "warranty_share", "repeats", "score", "evidence_zh",
               "evidence_en"]]


def _as_pct(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """A copy with the share columns ``cols`` in percent."""
    out = df.copy()
    for c in cols:
        out[c] = 100.0 * pd.to_numeric(out[c], errors="coerce")
    return out


def _num(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{float(x):.1f}"


def _pct(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{100 * float(x):.0f}%"


# ------------------------------------------------------------------------------------------ charts
def _pareto_chart(pareto: pd.DataFrame, top: int = 15) -> str | None:
    if pareto.empty:
        return None
    from zk_forecast.reports._layout import (
        place_axes,
        placed_figure,
        set_title,
        text_height_in,
        text_width_in,
    )
    from zk_forecast.reports.charts import figure_to_data_uri

    d = pareto.head(top)
    fig, ax = placed_figure(9, 4.8)
    x = np.arange(len(d))
    ax.bar(x, d["per_100"].fillna(0).to_numpy(), color="#2b5d8a")
    ax.set_xticks(x)
    labels = [f"{m}\n{c}" for m, c in zip(d["model"], d["component"])]
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    # rotated two-line labels: their height below the axis is (width + height) x sin 45°
    below = (text_width_in(labels, 7) + text_height_in(7, 2)) * 0.71
    place_axes(fig, left=0.8, right=0.75, bottom=below + 0.2, top=0.35)
    ax.set_ylabel("每百台故障次数 failures / 100 machines")
    set_title(ax, "故障帕累托图 Pareto of failures")
    ax2 = ax.twinx()
    ax2.plot(x, 100 * d["cum_share"].to_numpy(), color="#c0392b", marker="o", ms=3)
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("累计占比 cumulative share (%)")
    return figure_to_data_uri(fig)


def _trend_chart(trend: pd.DataFrame) -> str:
    from zk_forecast.reports._layout import (
        place_axes,
        placed_figure,
        set_title,
        text_height_in,
        text_width_in,
    )
    from zk_forecast.reports.charts import figure_to_data_uri

    fig, ax = placed_figure(9, 4.2)
    x = np.arange(len(trend))
    months = trend["month"].dt.month.to_numpy()
    for season in SEASONS:
        if not season.field_work:
            continue
        inside = np.flatnonzero(np.isin(months, season.months))
        runs = np.split(inside, np.flatnonzero(np.diff(inside) > 1) + 1) if len(inside) else []
        for k, run in enumerate(runs):  # one band per run of consecutive months
            ax.axvspan(run[0] - 0.5, run[-1] + 0.5, color=_SEASON_COLORS.get(season.key, "#e8e8e8"), lw=0,
                       label=f"{season.label}（{season.months_zh}）" if k == 0 else None)
    colors = np.where(trend["in_period"].to_numpy(), "#c0392b", "#2b5d8a")
    ax.bar(x, trend["per_100"].fillna(0).to_numpy(), color=colors)
    ax.set_xticks(x)
    labels = list(trend["month"].dt.strftime("%Y-%m"))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    below = text_width_in(labels, 7) * 0.87 + text_height_in(7) * 0.5  # rotated 60°
    place_axes(fig, left=0.8, right=0.15, bottom=below + 0.2, top=0.35)
    ax.set_ylabel("每百台故障次数 failures / 100 machines")
    set_title(ax, "月度故障趋势与农时 Monthly failures and the farming season (红色=本期 red = this period)")
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=8, loc="upper left")
    return figure_to_data_uri(fig)


def _weibull_chart(weib: pd.DataFrame) -> str | None:
    """Two panels per model × component: Weibull shape and MTBF [engine hours], each with its interval, on
    logarithmic axes labelled with plain numbers (0.5, 1, 2; 1,000, 2,000, 5,000)."""
    d = weib[weib["status"] == "ok"]
    if d.empty:
        return None
    from zk_forecast.reports._layout import blank_figure, place_axes, set_title, text_width_in
    from zk_forecast.reports.charts import figure_to_data_uri, plain_log_axis

    fig = blank_figure(9.5, max(3.0, 0.28 * len(d) + 1.4))
    ax, ax_m = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 1]})
    names = [f"{m} {c}" for m, c in zip(d["model"], d["component"])]
    place_axes(fig, left=text_width_in(names, 7) + 0.2, right=0.35, bottom=0.65, top=0.65, wspace=0.3, cols=2)
    y = np.arange(len(d))
    k = d["shape"].to_numpy(float)
    lo, hi = d["shape_lo"].to_numpy(float), d["shape_hi"].to_numpy(float)
    early = hi < 1.0
    col = np.where(early, "#c0392b", "#2b5d8a")
    ax.errorbar(k, y, xerr=[k - lo, hi - k], fmt="none", ecolor="#888", capsize=2)
    ax.scatter(k, y, c=col, zorder=3, s=18)
    ax.axvline(1.0, color="#c0392b", ls="--", lw=1)
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    plain_log_axis(ax.xaxis, np.concatenate([lo, hi, [1.0]]))
    ax.set_xlabel("形状参数 Weibull shape（< 1：早期故障 early-life）")
    set_title(ax, "形状参数 Weibull shape", fontsize=10)
    m = d["mtbf_h"].to_numpy(float)
    m_lo, m_hi = d["mtbf_lo_h"].to_numpy(float), d["mtbf_hi_h"].to_numpy(float)
    ok = np.isfinite(m) & (m > 0)
    if ok.any():
        lo_e = np.where(np.isfinite(m_lo), m - m_lo, 0.0)[ok]
        hi_e = np.where(np.isfinite(m_hi), m_hi - m, 0.0)[ok]
        ax_m.errorbar(m[ok], y[ok], xerr=[lo_e, hi_e], fmt="none", ecolor="#888", capsize=2)
        ax_m.scatter(m[ok], y[ok], c=col[ok], zorder=3, s=18)
        ax_m.set_xscale("log")
        plain_log_axis(ax_m.xaxis, np.concatenate([m_lo[ok], m_hi[ok], m[ok]]))
    ax_m.set_xlabel("平均无故障时间 MTBF [发动机小时 engine hours]")
    set_title(ax_m, "平均无故障时间 MTBF [h]", fontsize=10)
    fig.suptitle("威布尔拟合及置信区间 Weibull fits with intervals（红色=早期故障 red = early-life）", fontsize=11)
    return figure_to_data_uri(fig)


# ------------------------------------------------------------------------------------------ report
def manufacturer_report(
    tickets: pd.DataFrame,
    machines: pd.DataFrame,
    manufacturer: str,
    period: str | int,
    *,
    component_parts: pd.DataFrame | None = None,
    cut_ins: Any = None,
    repeat_days: int = 90,
    level: float = 0.95,
    alpha: float = 0.05,
    top: int = 10,
    lives: pd.DataFrame | None = None,
    as_of: Any = None,
    generated_at: Any = None,
    stale: bool = False,
    maintenance_plans: pd.DataFrame | None = None,
    parts: pd.DataFrame | None = None,
    failure_extra_cost: float = 800.0,
    depots: pd.DataFrame | None = None,
) -> ManufacturerReport:
    """Build the feedback report of one manufacturer for one period.

    Parameters
    ----------
    tickets : DataFrame
        Canonical tickets (all history: lives and repeat failures need the time before the period).
    machines : DataFrame
        Canonical machines (installed base) of all manufacturers.
    manufacturer : str
        Name as in ``machines.manufacturer``.
    period : str or int
        ``"2026Q3"``, ``"2026-07"`` or ``"2026"``.
    component_parts : DataFrame, optional
        Canonical component_parts; which components each model carries (lives of components that never failed).
    cut_ins : DataFrame or list of (model, component, cut_in), optional
        Design fixes to judge; ``cut_in`` is the first build date with the fix [date].
    repeat_days : int [days]
        A failure of the same component of the same machine within this many days of the previous one is a repeat.
    level : float
        Confidence level of the intervals.
    alpha : float
        Significance level of the early-life and fix tests.
    top : int
        Number of improvement requests listed.
    lives : DataFrame, optional
        The component lives of all machines known at the end of the period, when already built
        (``build_lives`` on the tickets reported before the period end, ``as_of`` the period end); default built
        here.
    as_of : date-like, optional
        Date of the data, shown as 数据截至 [date]. Default: the latest ``reported_at`` of the tickets (all
        manufacturers': the date the service export ends).
    generated_at : date-time-like, optional
        When the report is generated, shown as 生成时间 [date-time]; the nightly batch passes the run's time.
        Default: the clock, now.
    stale : bool, default False
        Show the stale-data banner at the top (the batch's data-age rule decides).
    maintenance_plans : DataFrame, optional
        Canonical maintenance_plans (all manufacturers'; only this manufacturer's models are read). With
        ``parts`` and ``component_parts`` it adds the maintenance-interval review; without, the section says so.
    parts : DataFrame, optional
        Canonical parts (``unit_cost`` [CNY]) for the review's costs.
    failure_extra_cost : float [CNY per failure]
        Cost of a breakdown beyond the parts (call-out, downtime, lost field work) in the review. Default 800.
    depots : DataFrame, optional
        Canonical depots, for the depot names in the hazard-ratio lines (the ids are shown without it).

    Returns
    -------
    ManufacturerReport

    Raises
    ------
    ZkValueError
        A bad period (the message gives the accepted forms), an unknown manufacturer (the message lists the known
        ones), a bad cut-in list.
    """
    per = parse_period(period)
    _check_manufacturer(machines, manufacturer)
    if not (isinstance(repeat_days, int) and repeat_days > 0):
        raise ZkValueError(f"`repeat_days` must be a whole number of days > 0; got {repeat_days!r}.")
    fixes_in = normalize_cut_ins(cut_ins)
    dates = data_dates(as_of, generated_at, stale, latest_date([tickets["reported_at"]]))
    mach = machines[machines["manufacturer"].astype(str) == str(manufacturer)].copy()
    mach = mach.sort_values("serial_no", kind="stable").reset_index(drop=True)
    models = set(mach["model"].astype(str))

    fail = _failures(tickets, mach, per.end)
    fail_p = fail[fail["reported_at"] >= per.start]
    in_service = mach[_in_service(mach, per.start, per.end)]
    base = in_service.groupby(in_service["model"].astype(str)).size()
    pareto = _pareto(fail_p, base)
    faults = _faults(fail_p)
    trend = _trend(fail, mach, per)

    if lives is None:
        t_hist = tickets[_dates(tickets["reported_at"]) < per.end]
        lives = build_lives(t_hist, machines, component_parts, as_of=per.end)
    lives_all = lives
    lives = lives_all[lives_all["manufacturer"].astype(str) == str(manufacturer)].reset_index(drop=True)
    fits = _life_fits(lives, level)
    weib = _weibull(lives, level, fits)
    maintenance, maint_reason = _maintenance(fits, lives, models, maintenance_plans, component_parts, parts,
                                             failure_extra_cost)
    hazards = _hazards(lives, mach, level, depots)
    early = _early_life(lives, level, alpha)
    repeats = _repeats(fail, per, repeat_days)
    fixes = _fixes(lives, fixes_in, models, level, alpha)
    requests = _requests(pareto, weib, early, repeats, top)

    # warranty by model
    if "in_warranty" in fail_p.columns and len(fail_p):
        w = fail_p.assign(_w=fail_p["in_warranty"].astype("boolean").fillna(False).astype(int))
        warranty = w.groupby("model", sort=True).agg(failures=("_w", "size"), in_warranty=("_w", "sum")).reset_index()
        warranty["warranty_share"] = warranty["in_warranty"] / warranty["failures"]
    else:
        warranty = pd.DataFrame(columns=["model", "failures", "in_warranty", "warranty_share"])
    tables = {"pareto": pareto, "faults": faults, "trend": trend, "weibull": weib, "early_life": early, "warranty": warranty,
              "repeats": repeats, "fixes": fixes, "requests": requests, "maintenance": maintenance,
              "hazards": hazards}
    html_doc = _render(str(manufacturer), per, mach, in_service, fail_p, tables, repeat_days, level, dates,
                       maint_reason, failure_extra_cost, _hours_per_season(lives))
    return ManufacturerReport(str(manufacturer), per.label, html_doc, tables, dates)


def _render(name: str, per: Period, mach: pd.DataFrame, in_service: pd.DataFrame, fail_p: pd.DataFrame,
            t: dict[str, pd.DataFrame], repeat_days: int, level: float, dates: DataDates, maint_reason: str = "",
            failure_extra_cost: float = 800.0, hours: Mapping[str, float] | None = None) -> str:
    n_mach, n_fail = len(in_service), len(fail_p)
    per100 = 100.0 * n_fail / n_mach if n_mach else float("nan")
    wshare = (float(fail_p["in_warranty"].astype("boolean").fillna(False).mean())
              if "in_warranty" in fail_p.columns and n_fail else float("nan"))
    mshare = (float((fail_p["cause"] == "manufacturer").mean()) if "cause" in fail_p.columns and n_fail
              else float("nan"))
    early = t["early_life"]
    flagged = early[early["flagged"]]
    last_day = (per.end - pd.Timedelta(days=1)).date()
    header = (f"<h1>{esc(name)} 产品质量反馈报告<span class=\"en\">Product feedback report — {esc(per.label)}"
              "</span></h1>" + dates.banner() +
              '<table class="meta"><tbody>'
              f"<tr><td>厂家 Manufacturer</td><td>{esc(name)}</td></tr>"
              f"<tr><td>期间 Period</td><td>{esc(per.label)}（{esc(per.start.date())} – "
              f"{esc((per.end - pd.Timedelta(days=1)).date())}）</td></tr>"
              + dates.meta_rows() +
              "<tr><td>报送单位 From</td><td>宁夏众凯农牧机械服务有限公司 售后服务部</td></tr>"
              "</tbody></table>")
    summary = pd.DataFrame({
        "指标 measure": ["在用整机（台）machines in service", "本期故障（次）failures in the period",
                       "每百台故障 failures per 100 machines", "三包期内占比 share in warranty",
                       "厂家责任占比 share caused by the manufacturer", "早期故障部件 early-life components",
                       f"{repeat_days} 天内重复故障 repeat failures"],
        "数值 value": [f"{n_mach:,d}", f"{n_fail:,d}", _num(per100), _pct(wshare), _pct(mshare),
                     f"{len(flagged):,d}", f"{len(t['repeats']):,d}"],
    })
    secs: list[str] = []
    secs.append(section("summary", "概要", "Summary", [table_html(summary)]))

    p = _as_pct(t["pareto"], ["warranty_share", "cum_share"]).rename(columns={"model": "机型 model", "component": "部件 component", "failures": "故障 failures",
                                    "machines": "在用台数 machines", "per_100": "每百台 per 100",
                                    "warranty_share": "三包占比 warranty share (%)", "cum_share": "累计占比 cum. share (%)",
                                    "first_failure": "本期首次故障 first in period",
                                    "latest_failure": "本期最近故障 latest in period"})
    body = []
    uri = _pareto_chart(t["pareto"])
    if uri:
        body.append(figure_block(uri, "故障帕累托图 Pareto of failures per 100 machines"))
    body.append(table_html(p, digits=2) if len(p) else paragraph("本期没有故障。", "No failures in the period."))
    secs.append(section("pareto", "按机型和部件的每百台故障", "Failures per 100 machines by model and component",
                        body))

    fc = _as_pct(t["faults"], ["share"]).rename(columns={
        "model": "机型 model", "component": "部件 component", "fault_code": "故障代码 fault code",
        "failures": "故障 failures", "share": "占该部件 share of component (%)",
        "first_failure": "本期首次 first in period", "latest_failure": "本期最近 latest in period"})
    secs.append(section("faults", "按故障代码的故障", "Failures by fault code", [
        paragraph("本期每个机型和部件的故障按故障代码分列，并给出本期首次和最近一次故障的报修日期。",
                  "The period's failures of each model and component by fault code, with the report dates of the "
                  "first and the latest failure in the period."),
        table_html(fc, digits={"占该部件 share of component (%)": 1}, table_id="faults-table") if len(fc)
        else paragraph("本期没有故障。", "No failures in the period.")]))

    tr = t["trend"].assign(month=lambda d: d["month"].dt.strftime("%Y-%m"))
    tr = tr.rename(columns={"month": "月份 month", "failures": "故障 failures", "machines": "在用台数 machines",
                            "per_100": "每百台 per 100", "in_period": "本期 in period", "season": "农时 season"})
    secs.append(section("trend", "月度趋势与农时", "Monthly trend against the farming season", [
        figure_block(_trend_chart(t["trend"]), "月度故障趋势 Monthly failure trend"),
        paragraph("阴影：" + "、".join(f"{s.zh}（{s.months_zh}）" for s in SEASONS if s.field_work) + "。",
                  "Shaded: " + ", ".join(f"{s.en} ({s.months_en})" for s in SEASONS if s.field_work) + "."),
        table_html(tr, digits=2)]))

    wb = t["weibull"].rename(columns={"model": "机型 model", "component": "部件 component", "status": "状态 status",
                                      "n_failures": "故障 failures", "n_units": "寿命数 lives",
                                      "shape": "形状 shape", "shape_lo": "形状下限 lower",
                                      "shape_hi": "形状上限 upper", "mtbf_h": "MTBF [发动机小时 engine h]",
                                      "mtbf_lo_h": "MTBF 下限 lower [h]", "mtbf_hi_h": "MTBF 上限 upper [h]"})
    body = []
    uri = _weibull_chart(t["weibull"])
    if uri:
        body.append(figure_block(uri, "威布尔形状参数 Weibull shape"))
    body.append(paragraph(
        f"按截至 {last_day} 的全部部件寿命（发动机小时）拟合；区间为 {level:.0%} Wald 区间；MTBF = 尺度 × Γ(1+1/形状)，"
        "其区间按尺度区间换算（形状取估计值）。",
        f"Fitted on all component lives (engine hours) known by {last_day}; {level:.0%} Wald intervals; "
        "MTBF = scale × Γ(1+1/shape), its interval from the scale's (shape at its estimate)."))
    body.append(table_html(wb, digits={"MTBF [发动机小时 engine h]": 0, "MTBF 下限 lower [h]": 0, "MTBF 上限 upper [h]": 0})
                if len(wb) else paragraph("没有寿命数据。", "No life data."))
    secs.append(section("weibull", "平均无故障时间与威布尔形状参数", "MTBF and Weibull shape per component", body))

    ef = flagged.rename(columns={"model": "机型 model", "component": "部件 component", "failures": "故障 failures",
                                 "shape": "形状 shape", "shape_lo": "下限 lower", "shape_hi": "上限 upper",
                                 "p_value": "p", "sentence_zh": "结论", "sentence_en": "finding"})
    ef = ef.drop(columns=["flagged"])
    secs.append(section("early-life", "早期故障警示", "Early-life flags", [
        paragraph("形状参数 < 1（单侧检验显著，或置信区间整体低于 1）表示故障集中在使用初期：多为制造或装配质量问题。",
                  "Shape < 1 (one-sided test significant, or the whole interval below 1): failures concentrate early "
                  "in life, usually a manufacturing or assembly problem."),
        table_html(ef, digits=3, table_id="early-life-table") if len(ef)
        else paragraph("未发现早期故障。", "No early-life failures found.")]))

    secs.append(_maintenance_section(t["maintenance"], maint_reason, failure_extra_cost, hours or {}))
    secs.append(_hazards_section(t["hazards"], level, last_day))

    wt = _as_pct(t["warranty"], ["warranty_share"]).rename(columns={"model": "机型 model", "failures": "故障 failures",
                                       "in_warranty": "三包期内 in warranty", "warranty_share": "占比 share (%)"})
    secs.append(section("warranty", "三包期内故障占比", "Warranty share", [
        paragraph(f"本期故障中三包期内占 {_pct(wshare)}。", f"{_pct(wshare)} of the period's failures were in warranty."),
        table_html(wt, digits=1) if len(wt) else paragraph("本期没有故障。", "No failures in the period.")]))

    rp = t["repeats"].assign(reported_at=lambda d: d["reported_at"].dt.strftime("%Y-%m-%d"))
    rp = rp.rename(columns={"model": "机型 model", "component": "部件 component", "serial_no": "出厂编号 serial",
                            "ticket_id": "服务单号 ticket", "reported_at": "报修日期 reported",
                            "days_since_previous": "距上次故障（天）days since previous"})
    secs.append(section("repeats", "同机重复故障", "Repeat failures on the same machine", [
        paragraph(f"同一台机器的同一部件在 {repeat_days} 天内再次故障。",
                  f"The same component of the same machine failing again within {repeat_days} days."),
        table_html(rp, digits=0) if len(rp) else paragraph("本期没有重复故障。", "No repeat failures in the period.")]))

    fx = t["fixes"]
    body = []
    if fx.empty:
        body.append(paragraph("未提供设计改进清单。", "No design fixes listed."))
    else:
        for r in fx.itertuples(index=False):
            cls = "ok" if r.worked is True else ("flag" if r.worked is False else "note")
            verdict = ("有效 worked" if r.worked is True else "未证实有效 not shown to work" if r.worked is False
                       else "无法判断 cannot judge")
            body.append(f'<p><b>{esc(r.model)} {esc(r.component)}</b>（切换 cut-in {esc(pd.Timestamp(r.cut_in).date())}）'
                        f'：<span class="{cls}">{esc(verdict)}</span><br>{esc(r.sentence_zh)}<br>'
                        f'<span class="note">{esc(r.sentence_en)}</span></p>')
        body.append(table_html(fx.drop(columns=["sentence_zh", "sentence_en"]).rename(columns={
            "model": "机型 model", "component": "部件 component", "cut_in": "切换日期 cut-in",
            "rate_ratio": "故障率比 rate ratio", "p_value": "p", "worked": "有效 worked"}), digits=3,
            table_id="fixes-table"))
    secs.append(section("fixes", "设计改进是否有效", "Did each design fix work", body))

    rq = _as_pct(t["requests"].drop(columns=["score"]), ["warranty_share"]).rename(columns={
        "rank": "序号 rank", "model": "机型 model", "component": "部件 component", "flagged": "早期故障 early-life",
        "failures": "本期故障 failures", "per_100": "每百台 per 100", "warranty_share": "三包占比 warranty share (%)",
        "repeats": "重复 repeats", "evidence_zh": "依据", "evidence_en": "evidence"})
    secs.append(section("requests", "改进建议（按优先级）", "Top improvement requests", [
        paragraph("排序：早期故障在先，其次按每百台故障 × 三包占比。",
                  "Order: early-life flags first, then failures per 100 machines × warranty share."),
        table_html(rq, digits=2) if len(rq) else paragraph("无。", "None.")]))

    secs.append(section("method", "口径说明", "Method", [paragraph(
        "每百台故障 = 本期故障单数 ÷ 本期在用整机台数 × 100（在用：期末前售出且期初前未报废）。故障 = 服务类别为故障的服务单。",
        "Failures per 100 machines = failure tickets in the period ÷ machines in service in the period × 100 (sold "
        "before its end, not retired before its start). A failure is a service ticket of kind 'failure'."),
        paragraph(f"本报告只包含 {name} 的整机、机型、服务单和设计改进；数据截至上表所列日期。",
                  f"This report holds {name}'s machines, models, tickets and design fixes only; its data end on "
                  "the date given at the top.")]))
    return page(f"{name} 产品质量反馈报告 {per.label}", header, secs)


def _maintenance_section(mt: pd.DataFrame, reason: str, failure_extra_cost: float,
                         hours: Mapping[str, float]) -> str:
    intro = paragraph(
        "把经销商保养计划中的更换间隔与按部件寿命（威布尔拟合，状态 ok）算出的最优预防更换时间（Barlow-Proschan 年龄更换）"
        "对比：偏短 = 换得太勤，偏长 = 坏得比换得早，合适 = 费用率在最优值 5% 以内。"
        f"故障一次的费用 = 该部件零件费 + {failure_extra_cost:,.0f} 元（出车、停机、误农时）；计划更换的费用 = 保养包中该零件费。"
        "“每百台每季多花” = (计划费用率 − 最优费用率) × 每季小时 × 100。",
        "The dealer's maintenance-plan replacement intervals against the optimal preventive replacement ages from "
        "the fitted lives (Weibull, status ok; Barlow-Proschan age replacement): too short = replaced too often, "
        f"too long = the part fails before it is replaced, about right = cost rate within 5 % of the optimum. A "
        f"failure costs the component's parts + CNY {failure_extra_cost:,.0f} (call-out, downtime, lost field "
        "work); a planned replacement the kit part. 'Extra per 100 machines per season' = (plan cost rate − optimal "
        "cost rate) × hours per season × 100.")
    if mt.empty:
        why = {"missing": ("数据中没有保养计划或零件价格表，未做评估。",
                           "The store has no maintenance plans or part prices; not reviewed."),
               "no_plans": ("本厂家机型没有保养计划。", "No maintenance plans for this manufacturer's models."),
               "no_lives": ("保养包中的零件都没有可用的寿命拟合（故障太少）。",
                            "No kit part has a usable fitted life (too few failures).")}.get(
            reason, ("保养包中的零件都没有可用的寿命拟合（故障太少）。",
                     "No kit part has a usable fitted life (too few failures)."))
        return section("maintenance", "保养间隔评估", "Maintenance intervals against fitted lives",
                       [intro, paragraph(*why)])
    body = [intro]
    for model, g in mt.groupby("model", sort=True):
        h = hours.get(str(model), float("nan"))
        d = g.assign(optimal_age=g["optimal_age"].map(
            lambda x: "不需定期更换 run to failure" if not np.isfinite(x) else f"{x:,.0f}"))
        d = d[["component", "part_no", "service", "interval_hours", "shape", "optimal_age",
               "excess_per_100_machines_season", "verdict", "verdict_en"]].rename(columns={
                   "component": "部件 component", "part_no": "零件号 part", "service": "保养项目 service",
                   "interval_hours": "计划间隔 plan [h]", "shape": "形状 shape",
                   "optimal_age": "最优更换 optimal [h]",
                   "excess_per_100_machines_season": "每百台每季多花 extra per 100 machines per season [CNY]",
                   "verdict": "结论", "verdict_en": "verdict"})
        body.append(f"<h3>{esc(model)}<span class='en'>每季约 {_num(h)} 小时 / about {_num(h)} h per season"
                    "</span></h3>")
        body.append(table_html(d, digits={"计划间隔 plan [h]": 0, "形状 shape": 2,
                                          "每百台每季多花 extra per 100 machines per season [CNY]": 0}))
    skipped = mt.attrs.get("not_reviewed")
    if isinstance(skipped, pd.DataFrame) and len(skipped):
        counts = skipped["reason"].map(lambda r: "no life" if "life" in str(r) or "component" in str(r)
                                       else "no cost").value_counts()
        body.append(paragraph(
            f"另有 {len(skipped)} 个保养包零件未评估（没有对应部件寿命或寿命拟合不足 {int(counts.get('no life', 0))} 个，"
            f"缺零件价格 {int(counts.get('no cost', 0))} 个）。",
            f"{len(skipped)} more kit lines not reviewed ({int(counts.get('no life', 0))} without a usable fitted "
            f"life, {int(counts.get('no cost', 0))} without a part price)."))
    return section("maintenance", "保养间隔评估", "Maintenance intervals against fitted lives", body)


def _hazards_section(hz: pd.DataFrame, level: float, last_day: Any) -> str:
    intro = paragraph(
        f"比例风险（Cox）回归：截至 {last_day} 的全部部件寿命（发动机小时），同机型同部件之间比较；"
        f"风险比 > 1 表示故障来得更快。区间为 {level:.0%} 区间（同一台机器的多段寿命按整机聚类）。",
        f"Proportional-hazards (Cox) regression of all component lives (engine hours) known by {last_day}, "
        f"comparing machines of the same model and component; a hazard ratio > 1 means failures come sooner. "
        f"{level:.0%} intervals, clustered by machine (lives of one machine are not independent).")
    if hz.empty:
        return section("hazards", "哪些机器故障更早", "Which machines fail sooner",
                       [intro, paragraph("故障太少，无法估计。", "Too few failures to estimate.")])
    lines = "".join(f"<li>{esc(r.text_zh)}<br><span class='note'>{esc(r.text_en)}</span></li>"
                    for r in hz.itertuples(index=False))
    from zk_forecast.failures.covariates import COVARIATES

    def label(term: str) -> str:
        if term.startswith("depot="):
            return f"网点 depot {term.split('=', 1)[1]}"
        if term in COVARIATES:
            unit, zh, en = COVARIATES[term][:3]
            return f"{zh} {en}（每 per {unit:g}）"
        return term

    tab = hz.assign(term=hz["term"].map(label))[["term", "hazard_ratio", "hr_lo", "hr_hi", "p_value"]].rename(
        columns={"term": "因素 covariate", "hazard_ratio": "风险比 hazard ratio", "hr_lo": "下限 lower",
                 "hr_hi": "上限 upper", "p_value": "p"})
    ref = hz.attrs.get("reference_depot")
    n_lives, n_fail = int(hz["n_lives"].iloc[0]), int(hz["n_failures"].iloc[0])
    note = paragraph(
        f"共 {n_lives:,d} 段部件寿命、{n_fail:,d} 次故障" + (f"；网点对比以 {ref} 为基准" if ref else "") + "。",
        f"{n_lives:,d} component lives, {n_fail:,d} failures" + (f"; depots are compared with {ref}" if ref else "")
        + ".")
    return section("hazards", "哪些机器故障更早", "Which machines fail sooner",
                   [intro, f"<ul>{lines}</ul>", note, table_html(tab, digits=3, table_id="hazards-table")])


def write_manufacturer_report(store_dir: str | Path, manufacturer: str, period: str | int, out_dir: str | Path,
                              cut_ins: Any = None, *, tables: Any = None, as_of: Any = None,
                              generated_at: Any = None, stale: bool = False,
                              failure_extra_cost: float = 800.0) -> Path:
    """Read the store, build the manufacturer's report and write it; the CLI's ``report manufacturer``.

    Parameters
    ----------
    store_dir : str or Path
        Folder of the processed store (``tickets``, ``machines`` and, when present, ``component_parts``,
        ``maintenance_plans`` and ``parts`` for the maintenance-interval review).
    manufacturer : str
        Name as in the machines table.
    period : str or int
        ``"2026Q3"``, ``"2026-07"`` or ``"2026"``.
    out_dir : str or Path
        Folder to write into (created if missing).
    cut_ins : DataFrame, list of (model, component, cut_in), str or Path, optional
        Design fixes to judge; a path is read as a CSV with columns ``model``, ``component``, ``cut_in``.
    tables : StoreTables or mapping of table name → DataFrame, optional
        Tables already read, shared with the other reports of the run (see
        :func:`~zk_forecast.reports.service_report.write_service_report`); the component lives are built once
        for all manufacturers.
    as_of, generated_at, stale :
        As in :func:`manufacturer_report` (the nightly batch passes the run's time as ``generated_at``).
    failure_extra_cost : float [CNY per failure]
        Breakdown cost beyond the parts in the maintenance-interval review. Default 800.

    Returns
    -------
    Path
        The HTML file written.
    """
    from zk_forecast.reports._tables import store_tables

    st = store_tables(store_dir, tables)
    for need in ("tickets", "machines"):
        if need not in st:
            raise ZkValueError(f"The store {str(store_dir)!r} has no {need!r} table; run `zk-forecast ingest` first.")
    if isinstance(cut_ins, str | Path):
        cut_ins = pd.read_csv(cut_ins, dtype=str, encoding="utf-8-sig")
    tickets, machines = st.get("tickets"), st.get("machines")
    assert tickets is not None and machines is not None
    per = parse_period(period)
    rep = manufacturer_report(tickets, machines, manufacturer, period, component_parts=st.get("component_parts"),
                              cut_ins=cut_ins, lives=st.lives(per.end), as_of=as_of, generated_at=generated_at,
                              stale=stale, maintenance_plans=st.get("maintenance_plans"), parts=st.get("parts"),
                              depots=st.get("depots"), failure_extra_cost=failure_extra_cost)
    return rep.write(out_dir)
