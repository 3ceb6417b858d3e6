"""Which machines fail sooner: proportional-hazards (Cox) regression of component lives on machine covariates.

:func:`hazard_ratios` fits a Cox model (partial likelihood, Efron's ties; :mod:`zk_forecast.failures._cox`, vectorised
over lives, the same estimates and standard errors as statsmodels' ``PHReg``) to the life table of
:func:`zk_forecast.failures.lives.build_lives`: one row per component life in engine hours, ``censored`` 1 for a
life still running, ``entry`` for left truncation (the partial likelihood then uses the delayed-entry risk sets).
The baseline hazard is left free per stratum (by default machine model x component, so a belt and a bearing, or a
tractor and a combine, are never compared with each other: only machines of one model and the same component
are), and the hazard ratios say how a covariate scales the failure rate *within* a stratum.

Covariates the store has (``covariates=`` names; each reported per a unit a user can picture):

``"hours_per_season"`` [h/season]
    The machine's usage intensity: its usage factor (:func:`~zk_forecast.failures.lives.machine_hours`) times the
    yearly hours of its machine type's seasonal profile (``lives.attrs["usage"]``, one season = one calendar
    year). Per 100 h/season. Lives are measured in engine hours, so this asks whether hard-worked machines wear
    faster *per engine hour* (heavy seasons, long days), not merely sooner in the calendar.
``"build_year"`` [years]
    Build date as a decimal year; per year newer.
``"months_in_stock"`` [months]
    Build to sale; per 6 months (storage before sale).
``"warranty_months"`` [months]
    From ``machines``; per 12 months.
``"depot"``
    The serving depot, as dummies against the depot with the most lives (the reference).
any other numeric column of ``lives``
    Per unit 1.

Lives of one machine share that machine's covariates, so by default the standard errors are cluster-robust by
``serial_no`` (``cluster="serial_no"``). Rows with a missing covariate are left out of the fit and counted in
``attrs["dropped"]``; a covariate that never varies within a stratum has no estimate and gets a row that says so.
A term whose ratio runs off to 0 or infinity (separation: e.g. a depot none of whose lives failed) has no estimate
and a note that says so, the other terms are fitted as if it were at its limit; when the fit does not converge at
all (collinear terms, a covariate that orders the failures perfectly), every fitted term gets no estimate and a note
that says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.failures._cox import cluster_covariance, fit_cox

__all__ = ["COVARIATES", "hazard_ratios"]

#: built-in covariates: (unit of one step, label zh, label en, one-step phrase zh, one-step phrase en)
COVARIATES: dict[str, tuple[float, str, str, str, str]] = {
    "hours_per_season": (100.0, "每季使用小时", "hours per season", "每季多用 100 小时", "every 100 extra hours per season"),
    "build_year": (1.0, "生产年份", "build year", "晚生产 1 年", "built 1 year later"),
    "months_in_stock": (6.0, "出厂到销售月数", "months from build to sale", "出厂到销售多 6 个月",
                        "6 more months from build to sale"),
    "warranty_months": (12.0, "三包期(月)", "warranty (months)", "三包期长 12 个月", "12 months longer warranty"),
}
_DEFAULT = ("hours_per_season", "build_year", "depot", "warranty_months")
_OUT = ["covariate", "term", "unit", "coef", "hazard_ratio", "hr_lo", "hr_hi", "p_value", "n_lives", "n_failures",
        "note", "text_zh", "text_en"]


def _decimal_year(values: pd.Series) -> pd.Series:
    d = values if pd.api.types.is_datetime64_dtype(values) else pd.to_datetime(values)
    return d.dt.year + (d.dt.day_of_year - 1) / 365.25


def _covariate_column(name: str, lives: pd.DataFrame, machines: pd.DataFrame | None) -> pd.Series:
    """The values [natural unit] of one numeric covariate per life."""
    if name == "hours_per_season":
        usage = lives.attrs.get("usage")
        if not usage or "usage_factor" not in lives.columns or "machine_type" not in lives.columns:
            raise ZkValueError(
                "covariate 'hours_per_season' needs the life table of build_lives (columns 'usage_factor', "
                "'machine_type' and attrs['usage'], the seasonal profile). Fix: pass build_lives(tickets, machines)."
            )
        yearly = {str(k): float(np.sum(v)) for k, v in usage.items()}
        per_type = lives["machine_type"].astype(str).map(yearly)
        return pd.to_numeric(lives["usage_factor"], errors="coerce") * per_type
    if name == "build_year":
        return _decimal_year(lives["build_date"])
    if name == "months_in_stock":
        days = (pd.to_datetime(lives["sale_date"]) - pd.to_datetime(lives["build_date"])).dt.days
        return days / (365.25 / 12)
    if name == "warranty_months":
        if "warranty_months" in lives.columns:
            return pd.to_numeric(lives["warranty_months"], errors="coerce")
        if machines is None or "warranty_months" not in machines.columns:
            raise ZkValueError(
                "covariate 'warranty_months' needs `machines` with a 'warranty_months' column. "
                "Fix: pass machines=store.read('machines'), or drop the covariate."
            )
        m = machines.drop_duplicates("serial_no").set_index("serial_no")["warranty_months"]
        return pd.to_numeric(lives["serial_no"].map(m), errors="coerce")
    if name not in lives.columns:
        raise ZkValueError(
            f"unknown covariate {name!r}: not one of {list(COVARIATES) + ['depot']} and not a column of `lives` "
            f"(columns: {list(lives.columns)}). Fix: name a built-in covariate or add the column."
        )
    col = lives[name]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise ZkValueError(
            f"covariate column {name!r} must be numeric; got dtype {col.dtype}. Fix: encode it as numbers."
        )
    return col.astype(float)


def _fmt(x: float) -> str:
    return f"{x:.2f}" if math.isfinite(x) else "—"


def hazard_ratios(
    lives: pd.DataFrame,
    machines: pd.DataFrame | None = None,
    covariates: Sequence[str] = _DEFAULT,
    strata: Sequence[str] | None = ("model", "component"),
    cluster: str | None = "serial_no",
    level: float = 0.95,
    depot_names: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Hazard ratios of component failure for machine covariates (Cox proportional hazards, Efron's ties).

    Parameters
    ----------
    lives : DataFrame
        The life table of :func:`~zk_forecast.failures.lives.build_lives`: ``time`` [h] (> 0), ``censored``
        (1 = still running, 0 = failed), ``entry`` [h] (optional, left truncation), ``serial_no``, the strata
        columns and what the covariates need (``depot_id``, ``build_date``, ``sale_date``, ``usage_factor``,
        ``machine_type`` with ``attrs["usage"]``).
    machines : DataFrame, optional
        The ``machines`` table, for ``warranty_months``.
    covariates : sequence of str
        Built-in names (see the module docstring) or numeric columns of ``lives``. Default
        ``("hours_per_season", "build_year", "depot", "warranty_months")``.
    strata : sequence of str or None
        Columns whose combinations get their own baseline hazard. Default ``("model", "component")``.
    cluster : str or None
        Column of the unit whose lives are dependent (cluster-robust standard errors); None for the model-based
        ones. Default ``"serial_no"``.
    level : float
        Confidence level of the intervals, 0 < level < 1.
    depot_names : dict, optional
        ``depot_id`` -> display name for the plain-language lines.

    Returns
    -------
    DataFrame
        One row per term: ``covariate``, ``term`` (the covariate, or ``depot=<id>``), ``unit`` (one step of the
        covariate, e.g. 100 [h/season]), ``coef`` (ln hazard ratio per step), ``hazard_ratio``, ``hr_lo``,
        ``hr_hi`` (interval at ``level``), ``p_value`` (Wald), ``n_lives``, ``n_failures`` (used in the fit),
        ``note`` (why a term has no estimate, else empty), ``text_zh`` and ``text_en`` (one plain-language line:
        "每季多用 100 小时：故障风险 ×1.30 ..."). ``attrs``: ``dropped`` (lives left out for a missing covariate,
        by covariate), ``reference_depot``, ``level``, ``strata``.

    Raises
    ------
    ZkValueError
        Missing columns, unknown covariates, bad settings, no failures to learn from.
    """
    if not isinstance(lives, pd.DataFrame):
        raise ZkTypeError(f"`lives` must be a pandas DataFrame (from build_lives); got {type(lives).__name__}.")
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise ZkValueError(f"The 'level' parameter of hazard_ratios must be in (0, 1). Got {level!r} instead.")
    covs = list(covariates)
    if not covs:
        raise ZkValueError("`covariates` is empty. Fix: name at least one covariate, e.g. ['hours_per_season'].")
    strata_cols = list(strata) if strata else []
    need = ["time", "censored", *strata_cols] + ([cluster] if cluster else [])
    missing = [c for c in need if c not in lives.columns]
    if missing:
        raise ZkValueError(
            f"`lives` lacks the columns {missing}; columns are {list(lives.columns)}. Fix: pass the table of "
            "build_lives, or set strata/cluster to columns it has."
        )
    time = pd.to_numeric(lives["time"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(time) | (time <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ZkValueError(f"`time` must be finite and > 0 [h]; row {i} holds {time[i]!r}. Fix: correct the life.")
    cens = pd.to_numeric(lives["censored"], errors="coerce").to_numpy(dtype=float)
    if not np.isin(cens, (0.0, 1.0)).all():
        i = int(np.flatnonzero(~np.isin(cens, (0.0, 1.0)))[0])
        raise ZkValueError(f"`censored` must be 0 or 1; row {i} holds {cens[i]!r}. Fix: recode the flag.")
    entry = (
        pd.to_numeric(lives["entry"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
        if "entry" in lives.columns
        else np.zeros(len(lives))
    )
    bad = ~np.isfinite(entry) | (entry < 0) | (entry > time)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ZkValueError(
            f"`entry` must be between 0 and `time` [h]; row {i} holds entry {entry[i]!r} with time {time[i]!r}. "
            "Fix: correct the life (entry is the age at which the life came under observation)."
        )

    # design matrix, scaled so each coefficient is per one step of the covariate
    columns: dict[str, pd.Series] = {}
    meta: list[tuple[str, str, float]] = []  # (covariate, term, unit)
    reference = None
    dropped: dict[str, int] = {}
    for name in covs:
        if name == "depot":
            if "depot_id" not in lives.columns:
                raise ZkValueError("covariate 'depot' needs the column 'depot_id' in `lives`. Fix: use build_lives.")
            dep = lives["depot_id"].astype("string")
            counts = dep.value_counts()
            if counts.empty:
                continue
            reference = str(counts.sort_index().sort_values(ascending=False, kind="stable").index[0])
            dropped["depot"] = int(dep.isna().sum())
            for d in sorted(str(x) for x in counts.index if str(x) != reference):
                columns[f"depot={d}"] = (dep == d).astype(float).where(dep.notna())
                meta.append(("depot", f"depot={d}", 1.0))
            continue
        unit = COVARIATES[name][0] if name in COVARIATES else 1.0
        values = _covariate_column(name, lives, machines).astype(float)
        values = values.where(np.isfinite(values))
        dropped[name] = int(values.isna().sum())
        columns[name] = values / unit
        meta.append((name, name, unit))
    design = pd.DataFrame(columns, index=lives.index)
    keep = design.notna().all(axis=1).to_numpy()
    strata_key = (
        lives.groupby(strata_cols, sort=True, dropna=False, observed=True).ngroup().to_numpy()
        if strata_cols
        else np.zeros(len(lives), dtype=np.int64)
    )
    # a term is estimable only if it varies within some stratum among the kept rows
    estimable = []
    for term in design.columns:
        x = design.loc[keep, term]
        by = x.groupby(strata_key[keep])
        spread = by.max() - by.min()
        estimable.append(bool((spread > 0).any()))
    est_terms = [t for t, ok in zip(design.columns, estimable) if ok]
    n_fail = int((cens[keep] == 0).sum())
    if n_fail == 0:
        raise ZkValueError(
            f"no failures among the {int(keep.sum())} lives with all covariates known: a hazard ratio cannot be "
            "estimated. Fix: pass lives with failures, or fewer covariates (see attrs['dropped'])."
        )

    coef = dict.fromkeys(design.columns, math.nan)
    se = dict.fromkeys(design.columns, math.nan)
    failed = ""  # why the fit did not converge (its terms then have no estimate)
    runaway: set[str] = set()  # terms whose ratio runs off to 0 or infinity (separation)
    if est_terms:
        x = design.loc[keep, est_terms].to_numpy(dtype=float)
        fit = fit_cox(time[keep], 1.0 - cens[keep], x, entry=entry[keep], strata=strata_key[keep])
        if fit.converged:
            vcov = fit.cov
            if cluster:
                # Lin-Wei sandwich: bread = model-based covariance, meat = outer products of the score residuals
                # summed per cluster (a life at risk at no failure time scores 0)
                vcov = cluster_covariance(fit, pd.factorize(lives.loc[keep, cluster].astype(str))[0])
            for j, term in enumerate(est_terms):
                if fit.runaway[j]:
                    runaway.add(term)
                    continue
                coef[term] = float(fit.coef[j])
                se[term] = math.sqrt(vcov[j, j]) if vcov[j, j] >= 0 else math.nan
        else:
            failed = fit.message
    zq = float(stats.norm.ppf(0.5 + level / 2))
    pct = f"{100 * level:g}%"
    names = depot_names or {}
    rows = []
    for cov, term, unit in meta:
        b, s = coef[term], se[term]
        hr = math.exp(b) if math.isfinite(b) else math.nan
        lo = math.exp(b - zq * s) if math.isfinite(b) and math.isfinite(s) else math.nan
        hi = math.exp(b + zq * s) if math.isfinite(b) and math.isfinite(s) else math.nan
        p = float(2 * stats.norm.sf(abs(b / s))) if math.isfinite(b) and s > 0 else math.nan
        if cov == "depot":
            d = term.split("=", 1)[1]
            ref = str(reference)
            step_zh = f"网点 {names.get(d, d)} 相对 {names.get(ref, ref)}"
            step_en = f"depot {d} vs {ref}"
        elif cov in COVARIATES:
            step_zh, step_en = COVARIATES[cov][3], COVARIATES[cov][4]
        else:
            step_zh = step_en = f"{cov} +1"
        if term in runaway:
            note = "the ratio runs off to 0 or infinity (e.g. no failure in this group): not estimable"
            text_zh = f"{step_zh}：无法估计（风险比趋于 0 或无穷大，例如这一组寿命没有一次故障）"
            text_en = f"{step_en}: not estimable (the ratio runs off to 0 or infinity, e.g. no failure in this group)"
        elif failed and term in est_terms:
            note = f"the fit did not converge ({failed}): not estimable"
            text_zh = f"{step_zh}：无法估计（模型不收敛：几项共线，或某一项完全决定了故障先后）"
            text_en = (f"{step_en}: not estimable (the fit did not converge: collinear terms, or a covariate that "
                       "orders the failures perfectly)")
        elif not math.isfinite(hr):
            note = "no variation within a stratum: not estimable"
            text_zh = f"{step_zh}：无法估计（同一机型同一部件内该项没有差别）"
            text_en = f"{step_en}: not estimable (no variation within a model and component)"
        else:
            note = ""
            sig_zh = "" if p < 1 - level else "，差异不显著"
            sig_en = "" if p < 1 - level else ", not significant"
            text_zh = f"{step_zh}：故障风险 ×{_fmt(hr)}（{pct} 区间 {_fmt(lo)}–{_fmt(hi)}{sig_zh}）"
            text_en = f"{step_en}: hazard x{_fmt(hr)} ({pct} CI {_fmt(lo)}-{_fmt(hi)}{sig_en})"
        rows.append(
            {
                "covariate": cov,
                "term": term,
                "unit": unit,
                "coef": b,
                "hazard_ratio": hr,
                "hr_lo": lo,
                "hr_hi": hi,
                "p_value": p,
                "n_lives": int(keep.sum()),
                "n_failures": n_fail,
                "note": note,
                "text_zh": text_zh,
                "text_en": text_en,
            }
        )
    out = pd.DataFrame(rows, columns=_OUT)
    out.attrs.update(
        {"dropped": dropped, "reference_depot": reference, "level": level, "strata": strata_cols, "cluster": cluster}
    )
    return out
