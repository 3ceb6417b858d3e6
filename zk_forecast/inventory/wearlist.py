"""Wear-part list (易损件清单): which parts each depot (or customer fleet) holds, how many, for which season.

A part on the list is promised within 5 working days (about one week); other parts within 15. The list is drawn up
per depot (``by="depot"``) or per customer fleet (``by="customer"``; issues are attributed to the customer owning
the machine named by ``serial_no``) and per season.

Seasons (:data:`SEASONS`, overridable): the farming seasons of :data:`zk_forecast.calendar.FARMING_SEASONS`, spring
sowing 春播 (Mar-May), wheat harvest 夏收 (Jun-Jul), autumn harvest 秋收 (Aug-Oct: pre-harvest overhauls in August,
maize and rice harvest in September-October) and winter 冬季 (Nov-Feb). Weeks are labelled by their Monday and
belong to the season of that Monday's month.

Signals, per key (depot or customer) × part × season, all in [units per week]
-------------------------------------------------------------------------------
history
    Mean weekly demand in the season's weeks of the last ``history_weeks`` weeks of the demand panel
    (:func:`zk_forecast.demand.build_panel`; supersession applied), and the demand frequency = share of those
    weeks with demand (``1 / ADI``, :func:`zk_forecast.demand.adi_cv2`).
failures
    When ``tickets`` and ``component_parts`` are given: per model × component × season, failure tickets per
    machine-week in service (machines from ``sale_date`` to ``retired_date``, over the same history window);
    times the key's machines of that model in service at ``as_of``, times ``qty_per_replacement``: the expected
    replacements of the part by the fleet. Parts of models nobody in the fleet owns get nothing.
installed_base
    Optional long frame ``unique_id`` (``"PART|KEY"``), ``ds`` (period start), ``installed_base`` [units per
    period] — the output of :meth:`zk_forecast.failures.installed_base.InstalledBaseForecaster.predict` — averaged
    over the periods in each season; monthly periods (spacing >= 28 days) are turned into weeks (× 7 / 30.44).

The scoring rule (documented, each clause reported in ``basis`` / 依据)
-------------------------------------------------------------------
``mean_week`` = the largest of the three signals (a fleet that grew since the history was recorded, or a new
model without history, is not under-stocked). A part is listed for a season when any of

* **demand**: expected demand within the promise window ``mean_week × promise_weeks >= min_demand``
  (defaults 1 week, 0.5 units);
* **frequency**: demand in at least ``min_frequency`` of the season's weeks (default 0.2);
* **critical**: ``parts.critical`` is true, the part fits a model of the fleet (``component_parts``) and the
  expected demand over the season is at least ``critical_min`` (default 0.25 units).

Quantity [units] = the largest of (a) the ``quantile`` (default 0.9) of the demand over ``cover_weeks`` weeks of
the season from :class:`zk_forecast.demand.LeadTimeDemand` fitted to the season's weeks (compound Bernoulli) and
(b) the same quantile of Poisson(``mean_week × cover_weeks``) for the model-based signals; at least 1.
``cover_weeks`` defaults to the part's supplier lead time rounded up to weeks plus one review week.

Planner overrides (:func:`read_overrides`)
------------------------------------------
A CSV or xlsx with columns ``depot_id`` (or ``customer_id``), ``part_no``, ``action`` (``force_in`` /
``force_out`` / empty = only clamp), ``min_qty``, ``max_qty``, ``note`` and optionally ``season``; Chinese headers
网点/仓库, 客户编码, 存货编码/配件编号, 操作 (强制列入 / 强制剔除), 最小数量, 最大数量, 备注, 季节 are accepted.
``force_in`` lists the part (in every season, or the one named) with at least ``min_qty`` (default the computed
quantity, at least 1); ``force_out`` keeps the row with quantity 0 and ``listed`` false so the planner sees it;
``min_qty``/``max_qty`` clamp the quantity. Every applied override shows in the ``override`` column (人工调整) with
the planner's note. A row naming an unknown part, depot/customer or season, an unknown action, non-numeric or
negative quantities, ``min_qty > max_qty`` or repeating an earlier row is rejected with its reason
(:attr:`WearList.rejects`): never silently dropped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from zk_forecast.calendar import FARMING_SEASONS, period_range, period_start, season_months
from zk_forecast.demand import LeadTimeDemand, build_panel
from zk_forecast.demand.panel import SEP, Panel
from zk_forecast.errors import ZkTypeError, ZkValueError

__all__ = ["OVERRIDE_ALIASES", "REPORT_COLUMNS", "SEASONS", "SEASON_ZH", "WearList", "read_overrides", "wear_list"]

#: Season name → calendar months (1-12), from :data:`zk_forecast.calendar.FARMING_SEASONS`. Every month must
#: belong to exactly one season.
SEASONS: Mapping[str, tuple[int, ...]] = season_months()
#: Chinese season labels for the report.
SEASON_ZH: Mapping[str, str] = {s.key: s.zh for s in FARMING_SEASONS}
#: Override-file headers (normalised: lower case) → canonical names.
OVERRIDE_ALIASES: Mapping[str, str] = {
    "depot_id": "key", "depot": "key", "网点": "key", "仓库": "key", "网点编码": "key", "仓库编码": "key",
    "customer_id": "key", "customer": "key", "客户编码": "key", "用户编码": "key",
    "part_no": "part_no", "part number": "part_no", "存货编码": "part_no", "配件编号": "part_no", "配件编码": "part_no",
    "action": "action", "操作": "action", "min_qty": "min_qty", "最小数量": "min_qty", "max_qty": "max_qty",
    "最大数量": "max_qty", "note": "note", "备注": "note", "season": "season", "季节": "season",
}
_ACTIONS = {"force_in": "force_in", "强制列入": "force_in", "列入": "force_in", "force_out": "force_out",
            "强制剔除": "force_out", "剔除": "force_out", "": "clamp", "clamp": "clamp"}
_ACTION_ZH = {"force_in": "强制列入 force_in", "force_out": "强制剔除 force_out", "clamp": "数量限制 min/max"}
#: Columns of :meth:`WearList.to_report` (Chinese, for the workbook) and the frame columns they show.
REPORT_COLUMNS: Mapping[str, str] = {"key": "网点", "part_no": "存货编码", "name": "配件名称", "quantity": "建议数量",
                                     "season_zh": "季节", "basis": "依据", "override": "人工调整"}
_WEEKS_PER_MONTH = 365.2425 / 12 / 7


# ------------------------------------------------------------------------------------------------- overrides
def read_overrides(path_or_frame: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read planner overrides from a CSV/xlsx file (or take a DataFrame) into canonical columns.

    Parameters
    ----------
    path_or_frame : str, Path or pandas.DataFrame
        The file (encodings and workbooks as the ERP readers handle them, via
        :func:`zk_forecast.data.readers.read_export`) or a frame with English or Chinese headers (module notes).

    Returns
    -------
    pandas.DataFrame
        ``row`` (spreadsheet row number, or frame position + 2 as if under a header), ``key``, ``part_no``,
        ``action`` (text as given), ``min_qty``, ``max_qty``, ``note``, ``season`` — all strings, unvalidated
        (validation needs the parts and the fleet: :func:`wear_list` does it).
    """
    if isinstance(path_or_frame, pd.DataFrame):
        df = path_or_frame.copy()
        rows = np.arange(len(df)) + 2
    elif isinstance(path_or_frame, (str, Path)):
        from zk_forecast.data.readers import read_export

        raw = read_export(path_or_frame)
        df = raw.data.to_pandas()
        df.columns = raw.headers
        rows = np.asarray(raw.row_numbers)
    else:
        raise ZkTypeError(f"overrides must be a file path or a DataFrame; got {type(path_or_frame).__name__}.")
    rename = {c: OVERRIDE_ALIASES.get(str(c).strip().lower(), OVERRIDE_ALIASES.get(str(c).strip(), None))
              for c in df.columns}
    known = {c: v for c, v in rename.items() if v is not None}
    if "key" not in known.values() or "part_no" not in known.values():
        raise ZkValueError(f"The overrides need a depot (网点 / depot_id) or customer column and a part column "
                           f"(存货编码 / part_no); got headers {list(df.columns)}. Rename them.")
    df = df.loc[:, list(known)].rename(columns=known)
    df = df.loc[:, ~df.columns.duplicated()]
    out = pd.DataFrame({"row": rows})
    for c in ("key", "part_no", "action", "min_qty", "max_qty", "note", "season"):
        col = df[c] if c in df.columns else pd.Series([None] * len(df))
        out[c] = [("" if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else str(v).strip())
                  for v in col.to_numpy(dtype=object)]
    return out


def _validate_overrides(ov: pd.DataFrame, parts: set[str], keys: set[str],
                        seasons: Mapping[str, tuple[int, ...]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split overrides into valid rows and rejects (with a bilingual reason)."""
    zh_to_season = {v: k for k, v in SEASON_ZH.items()}
    season = ov["season"].map(lambda s: zh_to_season.get(s, s))
    action = ov["action"].str.lower().map(lambda a: _ACTIONS.get(a, None))
    mn = pd.to_numeric(ov["min_qty"].replace("", None), errors="coerce")
    mx = pd.to_numeric(ov["max_qty"].replace("", None), errors="coerce")
    bad_num_min = (ov["min_qty"] != "") & (mn.isna() | (mn < 0) | (mn != np.round(mn)))
    bad_num_max = (ov["max_qty"] != "") & (mx.isna() | (mx < 0) | (mx != np.round(mx)))
    checks = [
        (ov["part_no"] == "", "part number missing / 缺少存货编码"),
        (~ov["part_no"].isin(parts), "unknown part number, not in the parts master / 存货编码不在配件档案中"),
        (ov["key"] == "", "depot/customer missing / 缺少网点"),
        (~ov["key"].isin(keys), "unknown depot or customer / 网点或客户不存在"),
        (action.isna(), "action must be force_in or force_out (强制列入/强制剔除) or empty / 操作无效"),
        ((season != "") & ~season.isin(list(seasons)), f"unknown season; use one of {list(seasons)} / 季节无效"),
        (bad_num_min, "min_qty must be a whole number >= 0 / 最小数量须为非负整数"),
        (bad_num_max, "max_qty must be a whole number >= 0 / 最大数量须为非负整数"),
        ((mn > mx).fillna(False), "min_qty > max_qty / 最小数量大于最大数量"),
    ]
    reason = pd.Series("", index=ov.index, dtype=object)
    for mask, text in checks:
        reason = reason.where(~(mask.to_numpy() & (reason == "")), text)
    ok0 = reason == ""
    dup = pd.Series(False, index=ov.index)
    dup[ok0] = pd.DataFrame({"k": ov["key"], "p": ov["part_no"], "s": season})[ok0].duplicated().to_numpy()
    reason = reason.where(~dup, "repeats an earlier override of the same part, depot and season / 重复的调整")
    rejects = ov.loc[reason != ""].assign(reason=reason[reason != ""]).reset_index(drop=True)
    ok = reason == ""
    valid = pd.DataFrame({"row": ov["row"], "key": ov["key"], "part_no": ov["part_no"], "action": action,
                          "min_qty": mn, "max_qty": mx, "note": ov["note"], "season": season})[ok]
    return valid.reset_index(drop=True), rejects


# ------------------------------------------------------------------------------------------------- result
class WearList:
    """The wear-part list: a DataFrame per key × part × season, the override rejects and a Chinese report.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``key`` (depot or customer id), ``part_no``, ``name``, ``season``, ``season_zh``, ``listed``,
        ``quantity`` [units], ``mean_week`` [units/week], ``frequency`` [-], ``demand_promise`` [units],
        ``season_demand`` [units], ``computed_quantity`` [units], ``source``, ``critical``, ``fits_fleet``,
        ``rule_demand``, ``rule_frequency``, ``rule_critical``, ``basis``, ``override``. Rows: the listed parts and
        any part an override touched (a forced-out part stays with ``listed`` false and quantity 0).
    rejects : pandas.DataFrame
        Override rows not applied, with ``row`` (file row) and ``reason``.
    by : {"depot", "customer"}
    """

    def __init__(self, frame: pd.DataFrame, rejects: pd.DataFrame, by: str, settings: dict[str, Any]) -> None:
        self.frame = frame
        self.rejects = rejects
        self.by = by
        self.settings = settings

    def __repr__(self) -> str:
        f = self.frame
        return (f"WearList(by={self.by!r}, {int(f['listed'].sum())} listed rows, {f['key'].nunique()} keys, "
                f"{f['part_no'].nunique()} parts, {int((f['override'] != '').sum())} overridden, "
                f"{len(self.rejects)} override rejects)")

    def _repr_html_(self) -> str:
        body = self.to_report().head(20).to_html(index=False)
        rej = (f"<p>Override rejects / 未采纳的调整: {len(self.rejects)}</p>"
               f"{self.rejects.to_html(index=False)}" if len(self.rejects) else "")
        return f"<div><p><b>{html.escape(repr(self))}</b></p>{body}{rej}</div>"

    def to_report(self, season: str | None = None) -> pd.DataFrame:
        """The list for the workbook, Chinese headers: 网点 (客户 per fleet), 存货编码, 配件名称, 建议数量, 季节, 依据,
        人工调整. Rows listed or touched by an override; ``season`` restricts to one season."""
        f = self.frame
        if season is not None:
            if season not in set(f["season"]) | set(f["season_zh"]):
                raise ZkValueError(f"season {season!r} is not in this list; use one of {sorted(set(f['season']))}.")
            f = f[(f["season"] == season) | (f["season_zh"] == season)]
        cols = dict(REPORT_COLUMNS)
        if self.by == "customer":
            cols["key"] = "客户"
        return f.loc[:, list(cols)].rename(columns=cols).reset_index(drop=True)


# ------------------------------------------------------------------------------------------------- signals
def _check_seasons(seasons: Mapping[str, tuple[int, ...]]) -> dict[str, tuple[int, ...]]:
    months = sorted(m for v in seasons.values() for m in v)
    if months != list(range(1, 13)):
        raise ZkValueError(f"seasons must assign every month 1..12 to exactly one season; got {dict(seasons)}. "
                           "Fix the months of each season.")
    return {str(k): tuple(int(m) for m in v) for k, v in seasons.items()}


def _failure_signal(tickets: pd.DataFrame, machines: pd.DataFrame, component_parts: pd.DataFrame,
                    keycol: str, weeks: pd.DatetimeIndex, season_of_month: np.ndarray,
                    season_names: list[str], as_of: pd.Timestamp) -> pd.DataFrame:
    """Expected units per week per key × part × season from component failure rates and the fleet."""
    S = len(season_names)
    mach = machines.loc[machines["sale_date"].notna(), ["serial_no", "model", "sale_date", keycol]
                        + (["retired_date"] if "retired_date" in machines.columns else [])]
    mcode, models = pd.factorize(mach["model"].astype("string"), sort=True)
    w0 = weeks[0]
    n_w = len(weeks)
    sale_w = ((pd.DatetimeIndex(period_start(mach["sale_date"])) - w0).days // 7).to_numpy().clip(0, n_w)
    ret = (pd.to_datetime(mach["retired_date"]) if "retired_date" in mach.columns
           else pd.Series(pd.NaT, index=mach.index))
    ret_w = np.where(ret.isna(), n_w, ((pd.DatetimeIndex(period_start(ret.fillna(w0))) - w0).days // 7)
                     .to_numpy().clip(0, n_w))
    diff = np.zeros((len(models), n_w + 1))
    ok = ret_w > sale_w
    np.add.at(diff, (mcode[ok], sale_w[ok]), 1.0)
    np.add.at(diff, (mcode[ok], ret_w[ok]), -1.0)
    alive = np.cumsum(diff, axis=1)[:, :n_w]  # machines in service per model and week
    season_w = season_of_month[weeks.month.to_numpy() - 1]
    expo = np.zeros((len(models), S))
    np.add.at(expo.T, season_w, alive.T)  # machine-weeks per model × season
    fail = tickets[(tickets["kind"] == "failure") & tickets["component"].notna()
                   & (tickets["reported_at"] >= w0) & (tickets["reported_at"] <= as_of)]
    fail = fail.merge(mach[["serial_no", "model"]], on="serial_no", how="inner")
    fm = pd.Index(models).get_indexer(fail["model"].astype("string"))
    fs = season_of_month[fail["reported_at"].dt.month.to_numpy() - 1]
    rates = (pd.DataFrame({"model": np.asarray(models, dtype=object)[fm], "component": fail["component"].to_numpy(),
                           "season": fs})
             .groupby(["model", "component", "season"]).size().rename("n").reset_index())
    rates["rate"] = rates["n"] / expo[pd.Index(models).get_indexer(rates["model"]), rates["season"]]
    in_service = mach[(mach["sale_date"] <= as_of) & (ret.isna() | (ret > as_of))]
    fleet = in_service.groupby([keycol, "model"]).size().rename("machines").reset_index()
    fleet["model"] = fleet["model"].astype(object)
    cp = component_parts.copy()
    cp["qty"] = cp["qty_per_replacement"].fillna(1) if "qty_per_replacement" in cp.columns else 1
    x = (fleet.merge(cp[["model", "component", "part_no", "qty"]].astype({"model": object}), on="model")
         .merge(rates[["model", "component", "season", "rate"]], on=["model", "component"]))
    x["units"] = x["machines"] * x["rate"] * x["qty"].astype(float)
    out = x.groupby([keycol, "part_no", "season"])["units"].sum().reset_index()
    out["season"] = np.asarray(season_names, dtype=object)[out["season"].to_numpy()]
    return out.rename(columns={keycol: "key", "units": "mean_failures"})


def _installed_base_signal(ib: pd.DataFrame, season_of_month: np.ndarray, season_names: list[str]) -> pd.DataFrame:
    for c in ("unique_id", "ds", "installed_base"):
        if c not in ib.columns:
            raise ZkValueError(f"installed_base needs columns unique_id, ds, installed_base [units per period]; "
                               f"it lacks {c!r}. Pass InstalledBaseForecaster.predict(...) output.")
    ds = pd.to_datetime(ib["ds"])
    step = np.median(np.diff(np.unique(ds.to_numpy()))) / np.timedelta64(1, "D") if ds.nunique() > 1 else 7.0
    per_week = 7.0 / 30.436875 if step >= 28 else 1.0
    split = ib["unique_id"].astype(str).str.split(SEP, n=1, expand=True)
    if split.shape[1] < 2:
        raise ZkValueError("installed_base unique_id must be 'PART|KEY' (e.g. 'SF-LQ001A|YC01').")
    df = pd.DataFrame({"part_no": split[0], "key": split[1],
                       "season": np.asarray(season_names, dtype=object)[season_of_month[ds.dt.month.to_numpy() - 1]],
                       "v": pd.to_numeric(ib["installed_base"]).to_numpy(float) * per_week})
    return df.groupby(["key", "part_no", "season"])["v"].mean().rename("mean_installed_base").reset_index()


# ------------------------------------------------------------------------------------------------- candidates
def _issues_by_customer(issues: pd.DataFrame, machines: pd.DataFrame) -> pd.DataFrame:
    """The issues whose ``serial_no`` names a machine with an owner, ``depot_id`` replaced by the customer id.

    The distinct serial numbers are looked up once (a few thousand machines), the rows through integer codes.
    """
    owner = machines.set_index("serial_no")["customer_id"]
    if "serial_no" not in issues.columns:
        return issues.iloc[:0].assign(depot_id=pd.Series([], dtype=str))
    codes, uniq = pd.factorize(issues["serial_no"])
    cust = pd.Series(uniq).map(owner)
    ok_u = np.r_[cust.notna().to_numpy(), False]  # code -1 (no serial number) has no owner
    ok = ok_u[codes]
    name = np.r_[cust.astype(str).to_numpy(dtype=object), None]
    cols = [c for c in ("issued_on", "part_no", "quantity", "kind") if c in issues.columns]  # what the panel reads
    return issues.loc[ok, cols].assign(depot_id=name[codes[ok]])


def _history_stats(values: np.ndarray, season_w: np.ndarray, n_seasons: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean weekly demand [units/week], demand frequency [-] and demand weeks [weeks], each (season, series).

    The arithmetic of :func:`zk_forecast.demand.adi_cv2` on the panel with the weeks outside the season missing
    (the mean is NaN for a series without an observed week in the season, the frequency 0).
    """
    n = values.shape[0]
    mean = np.zeros((n_seasons, n))
    freq = np.zeros((n_seasons, n))
    n_dem = np.zeros((n_seasons, n), dtype=np.int64)
    if values.shape[1] != season_w.size:  # no periods (no issues): no history
        return np.full((n_seasons, n), np.nan), freq, n_dem
    # whole units (the usual case): sums are exact in any order, so the season's weeks alone will do, side by
    # side, a block of series at a time (small temporaries); otherwise sum over all weeks with zeros outside the
    # season, as adi_cv2 does, for the same rounding
    perm = np.argsort(season_w, kind="stable")
    bounds = np.searchsorted(season_w[perm], np.arange(n_seasons + 1))
    total = np.zeros((n_seasons, n))
    n_obs = np.zeros((n_seasons, n), dtype=np.int64)
    whole, size = True, 0.0
    for r0 in range(0, n, _STATS_BLOCK):
        v = values[r0:r0 + _STATS_BLOCK][:, perm]  # the weeks of each season side by side
        inside = ~np.isnan(v)
        z = np.where(inside, v, 0.0)
        if (z != np.rint(z)).any():
            whole = False
            break
        size += float(np.abs(z).sum())
        pos = z > 0
        for i in range(n_seasons):
            b0, b1 = bounds[i], bounds[i + 1]
            total[i, r0:r0 + _STATS_BLOCK] = z[:, b0:b1].sum(axis=1)
            n_obs[i, r0:r0 + _STATS_BLOCK] = inside[:, b0:b1].sum(axis=1)
            n_dem[i, r0:r0 + _STATS_BLOCK] = pos[:, b0:b1].sum(axis=1)
    if whole and size < 2.0**52:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n_obs > 0, total / np.maximum(n_obs, 1), np.nan)
        freq = np.where(n_obs > 0, n_dem / np.maximum(n_obs, 1), 0.0)
        return mean, freq, n_dem
    n_dem[:] = 0
    obs = ~np.isnan(values)
    for i in range(n_seasons):  # loop over seasons, vectorised over series
        inside = obs & (season_w == i)[None, :]
        zi = np.where(inside, values, 0.0)
        n_obs_i = inside.sum(axis=1)
        n_dem[i] = (zi > 0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean[i] = np.where(n_obs_i > 0, zi.sum(axis=1) / np.maximum(n_obs_i, 1), np.nan)
        freq[i] = np.where(n_obs_i > 0, n_dem[i] / np.maximum(n_obs_i, 1), 0.0)
    return mean, freq, n_dem


#: Series per block of :func:`_history_stats` [series].
_STATS_BLOCK = 4096
#: Series per :class:`LeadTimeDemand` fit of :func:`_history_quantiles` (sorted by size: narrow pmfs per block).
_FIT_BLOCK = 1024
#: Budget of one block's pmf grid, series × (largest week + 1) × cover [cells]: a block holding a series with a
#: huge week is cut short, so memory follows the data's size, not its largest quantity (one series of 1,000,000
#: units in a week is fitted alone instead of widening the pmfs of a thousand others).
_FIT_CELLS = 1 << 22


def _history_quantiles(values: np.ndarray, season_w: np.ndarray, rows_of: list[np.ndarray], n_dem: np.ndarray,
                       cover: np.ndarray, quantile: float) -> list[np.ndarray]:
    """The ``quantile`` of the demand over ``cover`` weeks [units] of the panel rows ``rows_of[i]`` in season ``i``.

    Each series is fitted by :class:`zk_forecast.demand.LeadTimeDemand` to its weeks in the season (the
    compound-Bernoulli fit is per series and ignores the order of the weeks); a series without demand in the
    season has quantile 0. The series with demand of all seasons are stacked (weeks of the season only, sorted,
    padded with missing weeks); series with the same weeks and cover are fitted once; the distinct ones are
    sorted by their largest week and cover and fitted in blocks of :data:`_FIT_BLOCK`, so a block's pmfs are only
    as wide as its own series need.
    """
    out = [np.zeros(r.size, dtype=np.int64) for r in rows_of]
    picks = [np.flatnonzero(n_dem[i, r] > 0) for i, r in enumerate(rows_of)]
    cols = [np.flatnonzero(season_w == i) for i in range(len(rows_of))]
    total = sum(p.size for p in picks)
    if total == 0:
        return out
    x = np.full((total, max(c.size for c in cols)), np.nan)
    cov = np.zeros(total, dtype=np.int64)
    at = 0
    for i, (r, p) in enumerate(zip(rows_of, picks)):
        x[at:at + p.size, :cols[i].size] = values[np.ix_(r[p], cols[i])]
        cov[at:at + p.size] = cover[r[p]]
        at += p.size
    # with equal weights (LeadTimeDemand's default, no half_life) the fit does not depend on the order or the
    # position of the weeks: series with the same sorted weeks and cover share it (a test pins this)
    x.sort(axis=1)  # missing weeks last
    key = np.c_[cov, np.where(np.isnan(x), -1.0, x)]
    srt = np.lexsort(key.T[::-1])
    new = np.r_[True, (key[srt[1:]] != key[srt[:-1]]).any(axis=1)]
    first = srt[new]
    inverse = np.empty(total, dtype=np.int64)
    inverse[srt] = np.cumsum(new) - 1
    xu, cu = x[first], cov[first]
    qu = np.zeros(first.size, dtype=np.int64)
    biggest = xu[np.arange(first.size), np.maximum((~np.isnan(xu)).sum(axis=1) - 1, 0)]
    order = np.lexsort((cu, biggest))
    width = (np.nan_to_num(biggest[order]) + 1.0) * np.maximum(cu[order], 1)  # pmf cells each series needs
    b = 0
    while b < first.size:  # blocks of series, never one series at a time unless one alone fills the budget
        run = np.maximum.accumulate(width[b:b + _FIT_BLOCK])
        k = max(1, int(np.searchsorted(run * np.arange(1, run.size + 1) > _FIT_CELLS, True)))
        idx = order[b:b + k]
        qu[idx] = LeadTimeDemand().fit(xu[idx]).quantile(quantile, cu[idx])
        b += k
    q = qu[inverse]
    at = 0
    for i, p in enumerate(picks):
        out[i][p] = q[at:at + p.size]
        at += p.size
    return out


class _Candidates:
    """Every key × part × season of the three signals (history, failures, installed base), on integer codes.

    One factorisation of the key and part strings of the three sources; a candidate is the sorted id
    ``(key * n_parts + part) * n_seasons + season``. ``hist_pos`` (season, series), ``fs_pos`` and ``ib_pos`` are
    the candidate positions of the panel rows and of the failure and installed-base signal rows.
    """

    def __init__(self, panel: Panel, fs: pd.DataFrame | None, ibs: pd.DataFrame | None, names: list[str]) -> None:
        S = len(names)
        srcs = [f for f in (fs, ibs) if f is not None]
        kc, kuniq = pd.factorize(np.concatenate([np.asarray(panel.depot_id, dtype=object)]
                                                + [f["key"].to_numpy(dtype=object) for f in srcs]))
        pc, puniq = pd.factorize(np.concatenate([np.asarray(panel.part_no, dtype=object)]
                                                + [f["part_no"].to_numpy(dtype=object) for f in srcs]))
        self.key_uniques = np.asarray(kuniq, dtype=object)
        self.part_uniques = np.asarray(puniq, dtype=object)
        nk, n_p = len(kuniq) + 1, len(puniq) + 1  # code -1 (a missing key or part) becomes the last code
        kc = np.where(kc < 0, nk - 1, kc).astype(np.int64)
        pc = np.where(pc < 0, n_p - 1, pc).astype(np.int64)
        n = len(panel)
        pair_h = kc[:n] * n_p + pc[:n]
        ids_h = pair_h[None, :] * S + np.arange(S)[:, None]
        ids = [ids_h.ravel()]
        at = n
        for f in srcs:
            m = len(f)
            sc = pd.Index(names).get_indexer(f["season"].to_numpy(dtype=object))
            ids.append((kc[at:at + m] * n_p + pc[at:at + m]) * S + sc)
            at += m
        srt = np.sort(np.concatenate(ids))
        self.ids = srt[np.r_[True, srt[1:] != srt[:-1]]] if srt.size else srt  # sorted distinct ids
        self.hist_pos = np.searchsorted(self.ids, ids_h)
        pos = [np.searchsorted(self.ids, i) for i in ids[1:]]
        self.fs_pos = pos.pop(0) if fs is not None else np.zeros(0, dtype=np.intp)
        self.ib_pos = pos.pop(0) if ibs is not None else np.zeros(0, dtype=np.intp)
        self.fs, self.ibs = fs, ibs
        self.n_seasons, self.n_parts = S, n_p
        self.season = self.ids % S
        self.part = (self.ids // S) % n_p
        self.key = self.ids // S // n_p

    def __len__(self) -> int:
        return self.ids.size

    def _per_part(self, mapped: np.ndarray, fill: Any) -> np.ndarray:
        return np.r_[mapped, np.asarray([fill], dtype=mapped.dtype)][self.part]

    def part_in(self, index: pd.Index) -> np.ndarray:
        """True where the candidate's part number is in ``index``."""
        return self._per_part(pd.Index(self.part_uniques, dtype=object).isin(index), False)

    def key_strings(self, mask: np.ndarray) -> set[str]:
        """The keys (as text) of the candidates in ``mask``."""
        code = np.unique(self.key[mask])
        code = code[code < len(self.key_uniques)]
        return set(pd.Series(self.key_uniques[code], dtype=object).astype(str))

    def _pairs(self, keys: Any, parts: Any) -> np.ndarray:
        k = pd.Index(self.key_uniques, dtype=object).get_indexer(pd.Index(keys, dtype=object))
        p = pd.Index(self.part_uniques, dtype=object).get_indexer(pd.Index(parts, dtype=object))
        ok = (k >= 0) & (p >= 0)
        return np.unique(k[ok].astype(np.int64) * self.n_parts + p[ok])

    def pair_in(self, keys: Any, parts: Any) -> np.ndarray:
        """True where the candidate's (key, part) is one of the pairs ``zip(keys, parts)`` (any season)."""
        return np.isin(self.key * self.n_parts + self.part, self._pairs(keys, parts))

    def listed(self, h_mean: np.ndarray, h_freq: np.ndarray, critical: pd.Series, fits: pd.DataFrame | None,
               weeks_of: np.ndarray, promise_weeks: float, min_demand: float, min_frequency: float,
               critical_min: float) -> np.ndarray:
        """The listing rule of every candidate, the arithmetic of :func:`wear_list` (module notes)."""
        m = len(self)
        sig = np.zeros((3, m))
        freq = np.zeros(m)
        sig[0, self.hist_pos] = np.nan_to_num(h_mean)
        freq[self.hist_pos] = h_freq
        for j, f, pos, col in ((1, self.fs, self.fs_pos, "mean_failures"),
                               (2, self.ibs, self.ib_pos, "mean_installed_base")):
            if f is not None:
                v = f[col].to_numpy(dtype=float)
                sig[j, pos] = np.where(np.isnan(v), 0.0, v)
        mean_week = np.maximum(np.maximum(sig[0], sig[1]), sig[2])
        crit = self._per_part(pd.Series(self.part_uniques).map(critical).fillna(False).to_numpy(dtype=bool), False)
        fits_fleet = (self.pair_in(fits["key"], fits["part_no"]) if fits is not None
                      else np.zeros(m, dtype=bool))
        season_demand = mean_week * weeks_of[self.season]
        return ((mean_week * promise_weeks >= min_demand) | (freq >= min_frequency)
                | (crit & fits_fleet & (season_demand >= critical_min)))


# ------------------------------------------------------------------------------------------------- main
def wear_list(
    issues: pd.DataFrame,
    parts: pd.DataFrame,
    machines: pd.DataFrame,
    *,
    tickets: pd.DataFrame | None = None,
    component_parts: pd.DataFrame | None = None,
    installed_base: pd.DataFrame | None = None,
    overrides: str | Path | pd.DataFrame | None = None,
    by: str = "depot",
    seasons: Mapping[str, tuple[int, ...]] | None = None,
    promise_weeks: float = 1.0,
    min_demand: float = 0.5,
    min_frequency: float = 0.2,
    critical_min: float = 0.25,
    quantile: float = 0.9,
    cover_weeks: int | None = None,
    history_weeks: int = 156,
    as_of: Any = None,
    panel: Panel | None = None,
) -> WearList:
    """Draw up the wear-part list per depot or customer fleet and season (module notes: signals, rule, overrides).

    Parameters
    ----------
    issues, parts, machines : pandas.DataFrame
        Canonical ``part_issues``, ``parts`` (``part_no``, ``name``, ``lead_time_days``, ``critical``) and
        ``machines`` tables.
    tickets, component_parts : pandas.DataFrame, optional
        Canonical ``tickets`` and ``component_parts``: the failure signal and the critical-for-the-fleet test.
    installed_base : pandas.DataFrame, optional
        Long ``unique_id``, ``ds``, ``installed_base`` [units per period].
    overrides : path or pandas.DataFrame, optional
        Planner overrides (:func:`read_overrides`).
    by : {"depot", "customer"}, default "depot"
    seasons : mapping of str to tuple of int, optional
        Season → months; default :data:`SEASONS`.
    promise_weeks : float, default 1.0
        Promise window [weeks] (5 working days).
    min_demand : float, default 0.5
        Listing threshold on expected demand within the promise window [units].
    min_frequency : float, default 0.2
        Listing threshold on the share of season weeks with demand [-].
    critical_min : float, default 0.25
        Least expected demand over the season for the critical clause [units].
    quantile : float, default 0.9
        Probability level of the quantity [-].
    cover_weeks : int, optional
        Weeks of demand the quantity covers [weeks]; default the part's lead time in weeks (rounded up) + 1.
    history_weeks : int, default 156
        Recent weeks of history used [weeks].
    as_of : date-like, optional
        End of the history and the date of the fleet; default the last issue date.
    panel : Panel, optional
        The weekly demand panel of ``issues`` if the caller already built it, exactly
        ``build_panel(issues, parts, freq="W-MON", end=as_of)`` (with ``as_of`` defaulting as above), so that it is
        not built again; only with ``by="depot"`` (the customer list builds its own panel of the issues
        attributed to customers). Its frequency and last period are checked.

    Returns
    -------
    WearList

    Notes
    -----
    Only the rows that end up on the list (or that an override names) get the per-row work: the lead-time demand
    fit, the quantity and the bilingual ``basis`` text. The listing rule is evaluated for every key × part ×
    season candidate on integer codes (one factorisation of the keys and part numbers), vectorised.
    """
    if by not in ("depot", "customer"):
        raise ZkValueError(f"The 'by' parameter of wear_list must be 'depot' or 'customer'; got {by!r} instead.")
    for name, v, hi in (("promise_weeks", promise_weeks, np.inf), ("min_demand", min_demand, np.inf),
                        ("min_frequency", min_frequency, 1.0), ("critical_min", critical_min, np.inf)):
        if not np.isfinite(v) or v < 0 or v > hi:
            raise ZkValueError(f"The {name!r} parameter of wear_list must be a number in [0, {hi}]; got {v!r}.")
    if not 0 < quantile < 1:
        raise ZkValueError(f"The 'quantile' parameter must lie in (0, 1); got {quantile!r}. Use e.g. 0.9.")
    if not isinstance(history_weeks, (int, np.integer)) or history_weeks < 4:
        raise ZkValueError(f"'history_weeks' must be a whole number >= 4 [weeks]; got {history_weeks!r}.")
    seas = _check_seasons(seasons if seasons is not None else SEASONS)
    names = list(seas)
    season_of_month = np.zeros(12, dtype=np.int64)
    for i, months in enumerate(seas.values()):
        season_of_month[np.asarray(months) - 1] = i
    keycol = "depot_id" if by == "depot" else "customer_id"
    if keycol not in machines.columns:
        raise ZkValueError(f"machines lacks {keycol!r}, needed for by={by!r}.")

    if panel is not None and by != "depot":
        raise ZkValueError("A precomputed 'panel' can only be passed with by='depot'; the customer list builds "
                           "the panel of the issues attributed to customers itself. Drop the panel argument.")
    end = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(issues["issued_on"].max())
    if panel is None:
        iss = issues if by == "depot" else _issues_by_customer(issues, machines)
        panel = build_panel(iss, parts, freq="W-MON", end=end)
    elif panel.freq != "W-MON" or (panel.shape[1] and panel.periods[-1] != period_start(end)):
        last = f"{panel.periods[-1]:%Y-%m-%d}" if panel.shape[1] else "no periods"
        raise ZkValueError(f"The 'panel' passed to wear_list must be build_panel(issues, parts, freq='W-MON', "
                           f"end='{end:%Y-%m-%d}'); got freq {panel.freq!r}, last period {last}. Rebuild it or "
                           "leave it out.")
    if panel.shape[1] > history_weeks:
        panel = panel.last(int(history_weeks))
    weeks = panel.periods if panel.shape[1] else period_range(end - pd.Timedelta(weeks=history_weeks), end)
    season_w = season_of_month[weeks.month.to_numpy() - 1]

    pinfo = parts.set_index("part_no")
    lt_weeks = np.ceil(pd.to_numeric(pinfo["lead_time_days"]).fillna(7).to_numpy(float) / 7.0).astype(np.int64)
    cover_of = pd.Series(np.maximum(lt_weeks, 0) + 1 if cover_weeks is None else int(cover_weeks),
                         index=pinfo.index)
    if cover_weeks is not None and int(cover_weeks) < 1:
        raise ZkValueError(f"'cover_weeks' must be >= 1 [weeks]; got {cover_weeks!r}.")

    # history signal per season (series × season arrays), the statistics of adi_cv2 on the season's weeks
    h_mean, h_freq, h_dem = _history_stats(panel.values, season_w, len(names))
    fs = ibs = None
    if tickets is not None and component_parts is not None:
        fs = _failure_signal(tickets, machines, component_parts, keycol, weeks, season_of_month, names, end)
    if installed_base is not None:
        ibs = _installed_base_signal(installed_base, season_of_month, names)

    # every candidate key × part × season, on integer codes; the listing rule decides which rows are built
    cands = _Candidates(panel, fs, ibs, names)
    crit = pinfo["critical"] if "critical" in pinfo.columns else pd.Series(False, index=pinfo.index)
    in_fleet = machines[["model", keycol]].dropna().drop_duplicates()
    fits = None
    if component_parts is not None:
        fits = (in_fleet.merge(component_parts[["model", "part_no"]].drop_duplicates(), on="model")
                [[keycol, "part_no"]].drop_duplicates().rename(columns={keycol: "key"}).assign(fits_fleet=True))
    weeks_of = np.asarray([len(m) * _WEEKS_PER_MONTH for m in seas.values()], dtype=float)
    part_ok = cands.part_in(pinfo.index)
    listed = cands.listed(h_mean, h_freq, _flags(crit), fits, weeks_of, promise_weeks,
                          min_demand, min_frequency, critical_min)
    rejects = pd.DataFrame(columns=["row", "key", "part_no", "action", "min_qty", "max_qty", "note", "season",
                                    "reason"])
    valid = None
    touched_pair = np.zeros(len(part_ok), dtype=bool)
    if overrides is not None:
        ov = read_overrides(overrides)
        keys = set(machines[keycol].dropna().astype(str)) | cands.key_strings(part_ok)
        valid, rejects = _validate_overrides(ov, set(pinfo.index.astype(str)), keys, seas)
        touched_pair = cands.pair_in(valid["key"], valid["part_no"])
    keep = part_ok & (listed | touched_pair)

    # the kept rows, built as a frame exactly as for the full candidate set
    cov_all = cover_of.reindex(panel.part_no).fillna(2).to_numpy(np.int64)
    rows_of = [np.flatnonzero(keep[cands.hist_pos[i]]) for i in range(len(names))]
    q_of = _history_quantiles(panel.values, season_w, rows_of, h_dem, cov_all, quantile)
    frames = [pd.DataFrame({"key": panel.depot_id[r], "part_no": panel.part_no[r], "season": s,
                            "mean_history": np.nan_to_num(h_mean[i, r]), "frequency": h_freq[i, r],
                            "q_history": q_of[i]})
              for i, (s, r) in enumerate(zip(names, rows_of))]
    cand = pd.concat(frames, ignore_index=True)
    if fs is not None:
        cand = cand.merge(fs[keep[cands.fs_pos]], on=["key", "part_no", "season"], how="outer")
    if ibs is not None:
        cand = cand.merge(ibs[keep[cands.ib_pos]], on=["key", "part_no", "season"], how="outer")
    for c in ("mean_history", "frequency", "q_history", "mean_failures", "mean_installed_base"):
        if c not in cand.columns:
            cand[c] = 0.0
        cand[c] = cand[c].fillna(0.0)
    cand = cand[cand["part_no"].isin(pinfo.index)].reset_index(drop=True)

    # fit to the fleet and criticality
    if fits is not None:
        cand = cand.merge(fits, on=["key", "part_no"], how="left")
    cand["fits_fleet"] = _flags(cand["fits_fleet"]) if "fits_fleet" in cand.columns else False
    cand["critical"] = cand["part_no"].map(_flags(crit)).astype(bool)
    cand["name"] = cand["part_no"].map(pinfo["name"]).astype(object)

    sig = cand[["mean_history", "mean_failures", "mean_installed_base"]].to_numpy(float)
    cand["mean_week"] = sig.max(axis=1)
    cand["source"] = np.asarray(["history", "failures", "installed_base"], dtype=object)[sig.argmax(axis=1)]
    weeks_in = cand["season"].map({s: len(m) * _WEEKS_PER_MONTH for s, m in seas.items()}).astype(float)
    cand["demand_promise"] = cand["mean_week"] * promise_weeks
    cand["season_demand"] = cand["mean_week"] * weeks_in
    cand["rule_demand"] = cand["demand_promise"] >= min_demand
    cand["rule_frequency"] = cand["frequency"] >= min_frequency
    cand["rule_critical"] = cand["critical"] & cand["fits_fleet"] & (cand["season_demand"] >= critical_min)
    cand["listed"] = cand["rule_demand"] | cand["rule_frequency"] | cand["rule_critical"]
    cov = cand["part_no"].map(cover_of).fillna(2).to_numpy(float)
    model_mean = cand[["mean_failures", "mean_installed_base"]].to_numpy(float).max(axis=1)
    qm = np.where(model_mean > 0, stats.poisson.ppf(quantile, np.maximum(model_mean * cov, 1e-300)), 0)
    cand["computed_quantity"] = np.maximum(np.maximum(cand["q_history"].to_numpy(float), qm), 1).astype(np.int64)
    cand["quantity"] = np.where(cand["listed"], cand["computed_quantity"], 0).astype(np.int64)
    cand["basis"] = _basis(cand, min_demand, min_frequency)
    cand["override"] = ""
    cand["season_zh"] = cand["season"].map(lambda s: SEASON_ZH.get(s, s))

    if valid is not None:
        cand = _apply_overrides(cand, valid, names, pinfo)
    touched = cand["override"] != ""
    out = cand[cand["listed"] | touched]
    out = out.sort_values(["key", "season", "part_no"], key=lambda c: c.map(names.index) if c.name == "season"
                          else c).reset_index(drop=True)
    cols = ["key", "part_no", "name", "season", "season_zh", "listed", "quantity", "mean_week", "frequency",
            "demand_promise", "season_demand", "computed_quantity", "source", "critical", "fits_fleet",
            "rule_demand", "rule_frequency", "rule_critical", "basis", "override"]
    settings = {"promise_weeks": promise_weeks, "min_demand": min_demand, "min_frequency": min_frequency,
                "critical_min": critical_min, "quantile": quantile, "cover_weeks": cover_weeks,
                "history_weeks": history_weeks, "as_of": end, "seasons": seas}
    return WearList(out.loc[:, cols], rejects, by, settings)


def _flags(col: pd.Series) -> pd.Series:
    """``col`` as bool, missing values False (``fillna(False).astype(bool)`` without downcasting an object
    column, which pandas deprecates)."""
    v = col.to_numpy(dtype=object, copy=True)
    v[pd.isna(v)] = False
    return pd.Series(v.astype(bool), index=col.index, name=col.name)


def _basis(c: pd.DataFrame, min_demand: float, min_frequency: float) -> np.ndarray:
    """Bilingual reason text for each row: the clauses that listed it (依据)."""
    d = np.where(c["rule_demand"], [f"承诺期需求{v:.2f}≥{min_demand:g} demand in promise window; " for v in c["demand_promise"]],
                 "")
    f = np.where(c["rule_frequency"],
                 [f"需求频率{v:.0%}≥{min_frequency:.0%} frequency; " for v in c["frequency"]], "")
    k = np.where(c["rule_critical"], "关键件, 适配机型 critical for the fleet; ", "")
    src = c["source"].map({"history": "来源:历史出库 history", "failures": "来源:故障率×保有量 failures",
                           "installed_base": "来源:保有量预测 installed base"}).to_numpy(dtype=object)
    text = np.char.add(np.char.add(np.char.add(d.astype(str), f.astype(str)), k.astype(str)), src.astype(str))
    return np.where(c["listed"], text, "").astype(object)


def _apply_overrides(cand: pd.DataFrame, valid: pd.DataFrame, seasons: list[str], pinfo: pd.DataFrame) -> pd.DataFrame:
    """Apply validated overrides: force rows in or out and clamp quantities; note each in ``override``."""
    if valid.empty:
        return cand
    # expand season-less overrides to every season; a season-specific row wins over an all-seasons row
    allseas = valid[valid["season"] == ""].drop(columns="season").merge(pd.DataFrame({"season": seasons}),
                                                                         how="cross")
    exp = pd.concat([allseas.assign(specific=False), valid[valid["season"] != ""].assign(specific=True)])
    exp = exp.sort_values("specific").drop_duplicates(["key", "part_no", "season"], keep="last")
    # force_in of a pair never seen: add candidate rows
    missing = exp.merge(cand[["key", "part_no", "season"]], how="left", indicator=True)
    new = missing[missing["_merge"] == "left_only"][["key", "part_no", "season"]]
    if len(new):
        add = new.assign(name=new["part_no"].map(pinfo["name"]).astype(object), listed=False, quantity=0,
                         computed_quantity=1, override="", basis="", source="override",
                         season_zh=new["season"].map(lambda s: SEASON_ZH.get(s, s)))
        cand = pd.concat([cand, add], ignore_index=True)
        for c in ("mean_week", "frequency", "demand_promise", "season_demand", "mean_history", "mean_failures",
                  "mean_installed_base", "q_history"):
            cand[c] = cand[c].fillna(0.0)
        for c in ("critical", "fits_fleet", "rule_demand", "rule_frequency", "rule_critical"):
            cand[c] = _flags(cand[c])
        cand["critical"] = cand["critical"] | _flags(cand["part_no"].map(
            _flags(pinfo["critical"]) if "critical" in pinfo.columns else {}))
    m = cand.merge(exp, on=["key", "part_no", "season"], how="left", suffixes=("", "_ov"))
    hit = m["action"].notna().to_numpy()
    act = m["action"].fillna("").to_numpy(dtype=object)
    listed = m["listed"].to_numpy(bool).copy()
    qty = m["quantity"].to_numpy(np.int64).copy()
    comp = m["computed_quantity"].to_numpy(np.int64)
    mn = m["min_qty"].to_numpy(float)
    mx = m["max_qty"].to_numpy(float)
    fin = act == "force_in"
    fout = act == "force_out"
    listed = np.where(fin, True, np.where(fout, False, listed))
    qty = np.where(fin & ~m["listed"].to_numpy(bool), comp, qty)
    qty = np.where(listed & ~np.isnan(mn), np.maximum(qty, np.nan_to_num(mn)), qty)
    qty = np.where(listed & ~np.isnan(mx), np.minimum(qty, np.nan_to_num(mx, nan=np.inf)), qty)
    qty = np.where(listed, qty, 0).astype(np.int64)
    lim = [("" if np.isnan(a) else f" min {int(a)}") + ("" if np.isnan(b) else f" max {int(b)}") for a, b in zip(mn, mx)]
    text = [f"{_ACTION_ZH[a]}{lm}" + (f": {n}" if n else "") if h else ""
            for h, a, lm, n in zip(hit, act, lim, m["note"].fillna("").to_numpy(dtype=object))]
    cand = cand.copy()
    cand["listed"] = listed
    cand["quantity"] = qty
    cand["override"] = np.asarray(text, dtype=object)
    cand["basis"] = np.where(fin & ~m["rule_demand"].to_numpy(bool) & ~m["rule_frequency"].to_numpy(bool)
                             & ~m["rule_critical"].to_numpy(bool), "人工列入 planner force_in", cand["basis"])
    return cand
