"""Tests of zk_forecast.failures.covariates.hazard_ratios: agreement with lifelines' CoxPHFitter on the same data,
recovery of a known hazard ratio from a seeded simulation, the plain-language lines, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from zk_forecast.errors import ZkValueError
from zk_forecast.failures.covariates import hazard_ratios

# yearly hours of the seasonal profile of each machine type [h/month], as build_lives stores it in attrs["usage"]
_USAGE = {"tractor": [0.0, 10, 60, 130, 100, 70, 90, 40, 100, 110, 40, 0.0], "combine": [0.0] * 6 + [150, 0, 150, 0, 0, 0]}


def _lives(seed: int, n_machines: int = 600, hr_per_100h: float = 1.3, hr_depot: float = 0.7) -> pd.DataFrame:
    """Seeded life table shaped like build_lives: Weibull(shape 1.5) lives in engine hours whose hazard is multiplied
    by ``hr_per_100h`` per 100 h/season of usage and by ``hr_depot`` at depot PL01 (against YC01); up to three
    lives per machine, the last one censored by the end of records; two models x two components as strata with
    different baselines."""
    rng = np.random.default_rng(seed)
    mtype = np.where(rng.uniform(size=n_machines) < 0.6, "tractor", "combine")
    yearly = np.array([sum(_USAGE[t]) for t in mtype])
    factor = rng.uniform(0.5, 1.6, n_machines)
    hps = factor * yearly
    depot = np.where(rng.uniform(size=n_machines) < 0.4, "PL01", np.where(rng.uniform(size=n_machines) < 0.5, "YC01", "GY01"))
    build = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 4 * 365, n_machines), unit="D")
    rows = []
    for i in range(n_machines):
        model = "T-1" if mtype[i] == "tractor" else "C-1"
        horizon = rng.uniform(300, 3000)
        for comp, base in (("belt", 900.0), ("bearing", 1600.0)):
            scale_model = 1.0 if model == "T-1" else 1.4
            mult = hr_per_100h ** (hps[i] / 100) * (hr_depot if depot[i] == "PL01" else 1.0)
            # Weibull hazard h(t) = h0(t) * mult  <=>  scale divided by mult ** (1 / shape)
            eta = base * scale_model / mult ** (1 / 1.5)
            start, k = 0.0, 1
            while k <= 3:
                life = eta * rng.weibull(1.5)
                if start + life >= horizon:
                    rows.append((f"S{i:04d}", model, mtype[i], depot[i], comp, build[i], horizon - start, 1, factor[i]))
                    break
                rows.append((f"S{i:04d}", model, mtype[i], depot[i], comp, build[i], life, 0, factor[i]))
                start += life
                k += 1
    df = pd.DataFrame(
        rows,
        columns=["serial_no", "model", "machine_type", "depot_id", "component", "build_date", "time", "censored",
                 "usage_factor"],
    )
    df["sale_date"] = df["build_date"] + pd.Timedelta(days=60)
    df["entry"] = 0.0
    df = df[df["time"] > 0].reset_index(drop=True)
    df.attrs["usage"] = _USAGE
    return df


def test_known_hazard_ratio_is_recovered() -> None:
    """Seeded simulation: true hazard x1.3 per 100 h/season and x0.7 at depot PL01 against YC01; the 95 % intervals
    hold the truth and the estimates are close to it."""
    lives = _lives(seed=3, n_machines=1500)
    res = hazard_ratios(lives, covariates=["hours_per_season", "depot"]).set_index("term")
    ref = lives["depot_id"].value_counts().idxmax()
    assert res.attrs["reference_depot"] == ref and f"depot={ref}" not in res.index
    hps = res.loc["hours_per_season"]
    assert hps["hr_lo"] < 1.3 < hps["hr_hi"]
    assert hps["hazard_ratio"] == pytest.approx(1.3, abs=0.06)
    assert hps["p_value"] < 1e-6

    def coef(depot: str) -> float:
        return 0.0 if depot == ref else float(res.loc[f"depot={depot}", "coef"])

    assert math.exp(coef("PL01") - coef("YC01")) == pytest.approx(0.7, abs=0.08)
    assert abs(coef("GY01") - coef("YC01")) < 0.15  # no true difference between GY01 and YC01


def test_no_effect_gives_ratio_near_one() -> None:
    lives = _lives(seed=5, n_machines=800, hr_per_100h=1.0, hr_depot=1.0)
    res = hazard_ratios(lives, covariates=["hours_per_season"]).iloc[0]
    assert res["hr_lo"] < 1.0 < res["hr_hi"]
    assert "not significant" in res["text_en"] and "差异不显著" in res["text_zh"]


def _peer_frame(lives: pd.DataFrame) -> pd.DataFrame:
    year = pd.to_datetime(lives["build_date"])
    return pd.DataFrame(
        {
            "T": lives["time"],
            "E": 1 - lives["censored"],
            "entry": lives["entry"],
            "hours_per_season": lives["usage_factor"] * lives["machine_type"].map(lambda t: sum(_USAGE[t])) / 100,
            "build_year": year.dt.year + (year.dt.day_of_year - 1) / 365.25,
            "st": lives["model"] + "|" + lives["component"],
            "sn": lives["serial_no"],
        }
    )


def _se(row: pd.Series) -> float:
    return float((math.log(row["hr_hi"]) - row["coef"]) / 1.959963984540054)


def test_equals_lifelines_coxph() -> None:
    """Peer check: lifelines' CoxPHFitter (Efron ties, strata, cluster-robust sandwich) on the same seeded data
    gives the same coefficients and standard errors; with left truncation the coefficients and the model-based
    standard errors (lifelines' robust variance with delayed entry differs; see the hand-computed sandwich below)."""
    lifelines = pytest.importorskip("lifelines", reason="lifelines (a bench extra) is not installed")
    lives = _lives(seed=11, n_machines=400)
    d = _peer_frame(lives)
    res = hazard_ratios(lives, covariates=["hours_per_season", "build_year"]).set_index("term")
    cph = lifelines.CoxPHFitter().fit(d.drop(columns="entry"), "T", "E", strata=["st"], cluster_col="sn", robust=True)
    for term in ("hours_per_season", "build_year"):
        assert res.loc[term, "coef"] == pytest.approx(cph.params_[term], rel=1e-6, abs=1e-8)
        assert _se(res.loc[term]) == pytest.approx(cph.standard_errors_[term], rel=1e-5)
    lives.loc[lives.index % 7 == 0, "entry"] = lives["time"] * 0.3
    d = _peer_frame(lives).drop(columns="sn")
    res = hazard_ratios(lives, covariates=["hours_per_season", "build_year"], cluster=None).set_index("term")
    cph = lifelines.CoxPHFitter().fit(d, "T", "E", entry_col="entry", strata=["st"])
    for term in ("hours_per_season", "build_year"):
        assert res.loc[term, "coef"] == pytest.approx(cph.params_[term], rel=1e-6, abs=1e-8)
        assert _se(res.loc[term]) == pytest.approx(cph.standard_errors_[term], rel=1e-5)
        assert res.loc[term, "p_value"] == pytest.approx(cph.summary.loc[term, "p"], rel=1e-4)


def test_robust_sandwich_with_delayed_entry_by_hand() -> None:
    """Lin & Wei (1989) sandwich written out by hand: score residual of life i = sum over event times u in its
    stratum with entry_i < u <= t_i of (x_i - xbar(u)) * (dN_i(u) - exp(x_i b) dLambda(u)), summed per machine;
    covariance = I^-1 (sum_g U_g U_g^T) I^-1 with I^-1 the model-based covariance (no tied times here)."""
    lives = _lives(seed=12, n_machines=200)
    lives.loc[lives.index % 5 == 0, "entry"] = lives["time"] * 0.4
    res = hazard_ratios(lives, covariates=["hours_per_season"]).iloc[0]
    naive = hazard_ratios(lives, covariates=["hours_per_season"], cluster=None).iloc[0]
    b = res["coef"]
    d = _peer_frame(lives)
    x, t, e, ev = d["hours_per_season"].to_numpy(), d["T"].to_numpy(), d["entry"].to_numpy(), d["E"].to_numpy()
    resid = np.zeros(len(d))
    for st in d["st"].unique():
        idx = np.flatnonzero(d["st"].to_numpy() == st)
        for j in idx[ev[idx] == 1]:
            u = t[j]
            risk = idx[(e[idx] < u) & (t[idx] >= u)]
            r = np.exp(b * x[risk])
            xbar = np.sum(r * x[risk]) / r.sum()
            dlam = 1.0 / r.sum()
            resid[risk] -= (x[risk] - xbar) * r * dlam
            resid[j] += x[j] - xbar
    per_machine = pd.Series(resid).groupby(d["sn"].to_numpy()).sum().to_numpy()
    var = _se(naive) ** 4 * np.sum(per_machine**2)
    assert _se(res) == pytest.approx(math.sqrt(var), rel=1e-6)


def test_lines_units_and_unestimable_terms() -> None:
    lives = _lives(seed=2, n_machines=300)
    machines = pd.DataFrame({"serial_no": lives["serial_no"].unique()}).assign(warranty_months=12)
    res = hazard_ratios(lives, machines).set_index("term")
    assert list(res["covariate"].unique()) == ["hours_per_season", "build_year", "depot", "warranty_months"]
    assert res.loc["hours_per_season", "unit"] == 100.0
    assert res.loc["hours_per_season", "text_zh"].startswith("每季多用 100 小时：故障风险 ×")
    assert res.loc["hours_per_season", "text_en"].startswith("every 100 extra hours per season: hazard x")
    w = res.loc["warranty_months"]
    assert math.isnan(w["hazard_ratio"]) and "not estimable" in w["note"] and "无法估计" in w["text_zh"]
    assert res.attrs["dropped"]["build_year"] == 0


def test_missing_covariate_rows_are_counted_not_hidden() -> None:
    lives = _lives(seed=4, n_machines=300)
    lives.loc[:9, "build_date"] = pd.NaT
    res = hazard_ratios(lives, covariates=["build_year", "hours_per_season"])
    assert res.attrs["dropped"]["build_year"] == 10
    assert (res["n_lives"] == len(lives) - 10).all()


def test_bad_input() -> None:
    lives = _lives(seed=1, n_machines=50)
    with pytest.raises(ZkValueError, match="unknown covariate 'colour'"):
        hazard_ratios(lives, covariates=["colour"])
    with pytest.raises(ZkValueError, match="lacks the columns"):
        hazard_ratios(lives.drop(columns="component"))
    with pytest.raises(ZkValueError, match="`time` must be finite and > 0"):
        hazard_ratios(lives.assign(time=0.0), covariates=["hours_per_season"])
    with pytest.raises(ZkValueError, match="no failures"):
        hazard_ratios(lives.assign(censored=1), covariates=["hours_per_season"])
    with pytest.raises(ZkValueError, match="warranty_months"):
        hazard_ratios(lives, covariates=["warranty_months"])
    with pytest.raises(ZkValueError, match="'level'"):
        hazard_ratios(lives, covariates=["hours_per_season"], level=1.5)


def _awkward_lives(seed: int) -> pd.DataFrame:
    """Seeded lives with what the fit must handle: times rounded to 10 h (tied failures and censorings), one life
    in four entering late (left truncation, entries on the same 10 h grid), a model whose lives never fail (a
    stratum without failures)."""
    lives = _lives(seed=seed, n_machines=500)
    rng = np.random.default_rng(seed)
    lives["time"] = np.ceil(lives["time"] / 10.0) * 10.0
    late = rng.uniform(size=len(lives)) < 0.25
    lives.loc[late, "entry"] = np.floor(lives.loc[late, "time"] * rng.uniform(size=late.sum()) / 10.0) * 10.0
    lives.loc[lives["serial_no"] < "S0060", "model"] = "B-1"
    lives.loc[lives["model"] == "B-1", "censored"] = 1
    return lives


def _phreg(lives: pd.DataFrame, clustered: bool) -> tuple[pd.Series, pd.Series]:
    """Peer: statsmodels PHReg (ties="efron", strata model x component) on the design hazard_ratios builds
    (hours_per_season per 100 h, build_year, depot dummies against the most common depot), standard errors from
    its covariance or the Lin-Wei sandwich of its score residuals summed per machine. Lives at risk at no failure
    time are left out: they change no estimate, but statsmodels gives a non-zero score residual to a life that
    enters and leaves between two failure times."""
    from statsmodels.duration.hazard_regression import PHReg

    d = _peer_frame(lives)
    ref = lives["depot_id"].value_counts().sort_index().sort_values(ascending=False, kind="stable").index[0]
    x = d[["hours_per_season", "build_year"]].copy()
    for dep in sorted(set(lives["depot_id"]) - {ref}):
        x[f"depot={dep}"] = (lives["depot_id"] == dep).astype(float)
    t, e, entry, st = d["T"].to_numpy(), d["E"].to_numpy(), d["entry"].to_numpy(), d["st"].to_numpy()
    keep = np.zeros(len(d), dtype=bool)
    for i in range(len(d)):
        u = t[(st == st[i]) & (e == 1)]
        keep[i] = bool(np.any((entry[i] <= u) & (u <= t[i])))
    model = PHReg(t[keep], x.to_numpy()[keep], status=e[keep], entry=entry[keep],
                  strata=pd.factorize(st[keep])[0], ties="efron")
    res = model.fit()
    cov = np.asarray(res.cov_params())
    if clustered:
        resid = np.asarray(model.score_residuals(res.params))
        per_machine = pd.DataFrame(resid).groupby(d["sn"].to_numpy()[keep]).sum().to_numpy()
        cov = cov @ per_machine.T @ per_machine @ cov
    return pd.Series(res.params, index=x.columns), pd.Series(np.sqrt(np.diag(cov)), index=x.columns)


@pytest.mark.parametrize("clustered", [True, False])
def test_equals_statsmodels_phreg(clustered: bool) -> None:
    """Peer check on awkward data (ties, delayed entry, a stratum without failures, a covariate constant within
    strata): coefficients and standard errors (model-based, and clustered by machine) equal statsmodels PHReg's
    to 1e-8 relative; warranty, the same for every machine of a model, has no estimate (as before)."""
    lives = _awkward_lives(seed=21)
    machines = lives[["serial_no", "model"]].drop_duplicates("serial_no").assign(
        warranty_months=lambda m: np.where(m["model"] == "T-1", 24, 12))
    res = hazard_ratios(lives, machines,
                        cluster="serial_no" if clustered else None).set_index("term")
    coef, se = _phreg(lives, clustered)
    assert list(res.index) == [*coef.index, "warranty_months"]
    for term in coef.index:
        assert res.loc[term, "coef"] == pytest.approx(coef[term], rel=1e-8)
        assert _se(res.loc[term]) == pytest.approx(se[term], rel=1e-8)
    assert math.isnan(res.loc["warranty_months", "coef"]) and "no variation" in res.loc["warranty_months", "note"]
    assert (res["n_failures"] == int((lives["censored"] == 0).sum())).all()


def test_separated_term_has_no_estimate_and_the_others_do() -> None:
    """Separation: every life at depot QT01 runs without failing, so its hazard ratio against the reference runs off
    to 0 and the likelihood has no maximum in it. That term gets no estimate and a note saying why; the others are
    fitted at its limit, which is the fit without QT01's lives (they then carry no weight in any risk set), and
    match statsmodels PHReg, whose Newton ends with QT01's coefficient near -25 (a ConvergenceWarning), to 1e-7."""
    lives = _lives(seed=8, n_machines=120)
    qt = lives["serial_no"] < "S0020"
    lives.loc[qt, "depot_id"] = "QT01"
    lives.loc[qt, "censored"] = 1
    res = hazard_ratios(lives, covariates=["hours_per_season", "depot"], cluster=None).set_index("term")
    q = res.loc["depot=QT01"]
    assert math.isnan(q["hazard_ratio"]) and q["note"].startswith("the ratio runs off to 0 or infinity")
    assert "not estimable" in q["text_en"] and "无法估计" in q["text_zh"]
    rest = res.drop(index="depot=QT01")
    assert rest["hazard_ratio"].notna().all() and (rest["note"] == "").all()
    without = hazard_ratios(lives[~qt], covariates=["hours_per_season", "depot"], cluster=None).set_index("term")
    for col in ("coef", "hr_lo", "hr_hi"):
        np.testing.assert_allclose(rest[col], without[col], rtol=1e-9)
    from statsmodels.duration.hazard_regression import PHReg

    d = _peer_frame(lives)
    x = pd.DataFrame({"hours_per_season": d["hours_per_season"]})
    for term in res.index[1:]:
        x[term] = (lives["depot_id"] == term.split("=")[1]).astype(float)
    with pytest.warns(Warning):
        peer = PHReg(d["T"], x.to_numpy(), status=d["E"], strata=pd.factorize(d["st"])[0], ties="efron").fit()
    assert peer.params[list(x.columns).index("depot=QT01")] < -20
    for j, term in enumerate(x.columns):
        if term != "depot=QT01":
            assert res.loc[term, "coef"] == pytest.approx(peer.params[j], rel=1e-7)
            assert _se(res.loc[term]) == pytest.approx(peer.bse[j], rel=1e-7)


def test_fit_that_cannot_converge_says_so() -> None:
    """Collinear terms (a column that is twice another) leave the information matrix singular: the fit stops and
    every fitted term gets no estimate and a note saying the fit did not converge."""
    lives = _lives(seed=8, n_machines=300)
    lives = lives.assign(once=lives["usage_factor"], twice=2.0 * lives["usage_factor"])
    res = hazard_ratios(lives, covariates=["once", "twice", "build_year"]).set_index("term")
    assert res["hazard_ratio"].isna().all()
    assert res["note"].str.startswith("the fit did not converge").all()
    assert res["text_en"].str.contains("not estimable").all() and res["text_zh"].str.contains("无法估计").all()
