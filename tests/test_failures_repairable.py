"""Tests of zk_forecast.failures.repairable: MCF, Crow-AMSAA, Duane and trend tests.

Reference values come from ../shared/data/reliability (each test names its published source); those tests skip when
the folder is absent (a user's clone).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from zk_forecast.errors import ZkValueError
from zk_forecast.failures.repairable import (
    crow_amsaa,
    crow_amsaa_grouped,
    duane,
    laplace_test,
    mcf,
    mil_hdbk_189_test,
    times_between_failures,
    trend_by,
)

REL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "reliability"
needs_data = pytest.mark.skipif(not REL.is_dir(), reason=f"reference data folder {REL} is absent (not in a user's clone)")


def _expected() -> dict:
    return json.loads((REL / "expected_values.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------ reference values
@needs_data
def test_mcf_reliawiki_5systems() -> None:
    """ReliaWiki, 'Recurrent Event Data Analysis', 5 systems: Nelson MCF at t = 5..25."""
    res = mcf(pd.read_csv(REL / "mcf_reliawiki_5systems.csv"))
    exp = _expected()["mcf_reliawiki_5systems"]["mcf"]
    t = np.array([float(k) for k in exp])
    np.testing.assert_allclose(res.at(t), list(exp.values()), rtol=1e-3)


@needs_data
def test_mcf_valve_seats_nelson1995() -> None:
    """Nelson (1995) valve seats: MCF 0.9849, 1.1185, 1.5427 at 581, 621, 653 days (computed by three tools)."""
    res = mcf(pd.read_csv(REL / "valve_seats_nelson1995.csv"), system="engine", time="days")
    exp = _expected()["valve_seats_nelson1995"]["mcf_computed"]
    np.testing.assert_allclose(res.at([float(k) for k in exp]), list(exp.values()), rtol=1e-3)
    tab = res.summary
    assert (tab["lower"] < tab["mcf"]).all() and (tab["upper"] > tab["mcf"]).all()


@needs_data
def test_crow_amsaa_reliasoft_rga_example() -> None:
    """ReliaSoft RGA example, 22 failures, failure-terminated at T = 620: beta 0.6142, lambda 0.4239; MTBFs and
    Duane alpha / A as printed by the ``reliability`` package (Duane: N(t)/t = A t^-alpha)."""
    t = pd.read_csv(REL / "crow_amsaa_reliasoft_rga_ex.csv")["cum_test_time"].to_numpy()
    exp = _expected()["crow_amsaa_reliasoft_rga_ex"]
    res = crow_amsaa(t)  # end=None: failure-terminated at the last failure
    assert res.terminated == "failure" and res.end == 620.0
    assert res.beta == pytest.approx(exp["beta"], rel=1e-3)
    assert res.lambda_ == pytest.approx(exp["lambda"], rel=1e-3)
    pkg = exp["reliability_pkg"]
    assert float(res.mtbf_cumulative()) == pytest.approx(pkg["DMTBF_C"], rel=1e-3)
    assert float(res.mtbf_instantaneous()) == pytest.approx(pkg["DMTBF_I"], rel=1e-3)
    d = duane(t)
    assert d.alpha == pytest.approx(pkg["duane_alpha"], rel=1e-3)
    assert d.A == pytest.approx(pkg["duane_A"], rel=1e-3)


@needs_data
def test_crow_amsaa_grouped_reliasoft_example4() -> None:
    """ReliaSoft RGA, Crow-AMSAA grouped data, Example 4: beta 0.6315, lambda 0.07005."""
    g = pd.read_csv(REL / "crow_amsaa_grouped_reliasoft_ex4.csv")
    exp = _expected()["crow_amsaa_grouped_reliasoft_ex4"]
    res = crow_amsaa_grouped(g["interval_end_time"], g["cumulative_failures"], cumulative=True)
    assert res.beta == pytest.approx(exp["beta"], rel=1e-3)
    assert res.lambda_ == pytest.approx(exp["lambda"], rel=1e-3)
    assert res.beta_lower < res.beta < res.beta_upper


@needs_data
def test_rocof_modarres_ex5_11() -> None:
    """Modarres et al., Example 5.11: times between failures, cumulated; Laplace U = 2.409 (the failure-terminated
    form, T = t_n and the last failure left out), beta 1.588, lambda 3.703e-5, worsening."""
    x = pd.read_csv(REL / "rocof_modarres_ex5_11.csv")["time_between_failures"].to_numpy()
    t = np.cumsum(x)
    exp = _expected()["rocof_modarres_ex5_11"]
    lap = laplace_test(t)
    assert lap.statistic == pytest.approx(exp["laplace_U"], rel=1e-3)
    assert lap.verdict == exp["trend"] == "worsening"
    assert lap.verdict_zh.startswith("恶化")
    res = crow_amsaa(t)
    assert res.beta == pytest.approx(exp["beta"], rel=1e-3)
    assert res.lambda_ == pytest.approx(exp["lambda"], rel=1e-3)
    # the time-terminated form at T = t_n would give a different U: the two forms are not interchangeable
    assert laplace_test(t, end=float(t[-1])).statistic != pytest.approx(exp["laplace_U"], rel=1e-2)


# ---------------------------------------------------------------------------------------- hand calculations
def test_beta_estimators_and_chi2_bounds_by_hand() -> None:
    """MIL-HDBK-189: MLE n / S; unbiased (n-1)/n time-terminated, (n-2)/n failure-terminated; 2 beta S ~ chi2."""
    t = np.array([3.0, 10.0, 25.0, 41.0, 60.0])
    for end, m in ((80.0, 5), (None, 4)):
        T = 60.0 if end is None else end
        S = np.log(T / t).sum()
        mle = crow_amsaa(t, end, level=0.9)
        unb = crow_amsaa(t, end, bias_corrected=True)
        assert mle.beta == pytest.approx(5 / S)
        assert unb.beta == pytest.approx((m - 1) / S)
        assert mle.lambda_ == pytest.approx(5 / T**mle.beta)
        assert mle.beta_lower == pytest.approx(stats.chi2.ppf(0.05, 2 * m) / (2 * S))
        assert mle.beta_upper == pytest.approx(stats.chi2.ppf(0.95, 2 * m) / (2 * S))
        mil = mil_hdbk_189_test(t, end)
        assert mil.statistic == pytest.approx(2 * S) and mil.dof == 2 * m


def test_mcf_variances_by_hand() -> None:
    """Two systems: A repairs at 1 and 3, ends at 4; B repairs at 2, ends at 2."""
    ev, ends = [[1.0, 3.0], [2.0]], [4.0, 2.0]
    tab = mcf(ev, ends, variance="poisson").table
    np.testing.assert_allclose(tab["mcf"], [0.5, 1.0, 2.0])
    np.testing.assert_allclose(tab["variance"], np.cumsum([1 / 4, 1 / 4, 1.0]))
    # Lawless-Nadeau: residuals (d_i - d/r)/r per age, cumulated per system, squared, summed over systems
    ra = np.cumsum([(1 - 0.5) / 2, (0 - 0.5) / 2, 0.0])
    rb = np.cumsum([(0 - 0.5) / 2, (1 - 0.5) / 2, 0.0])
    ln = mcf(ev, ends).table["variance"]
    np.testing.assert_allclose(ln, ra**2 + rb**2)
    nel = mcf(ev, ends, variance="nelson").table["variance"]
    np.testing.assert_allclose(nel, np.cumsum([(0.25 + 0.25) / 4, (0.25 + 0.25) / 4, 0.0]))


def test_mcf_per_repair_variance_at_ties_by_hand() -> None:
    """ReliaWiki's 5-system example (Recurrent Event Data Analysis): repairs at 5, 6, 10, 12 on one system each and
    at 13 on two; all five systems are observed past 13 (r = 5). Per repair (ReliaSoft, `reliability`'s
    MCF_nonparametric): (1 - 1/5) / 25 = 0.032 each, 0.064 at the tie, 0.192 in all by 13 (hand calculation).
    Nelson's per-age form at the tie: (2 - 4/5) / 25 = 0.048, so 0.176 by 13."""
    times = [[5, 10, 15], [6, 13, 17], [12, 20, 25], [13, 15], [16, 22, 25]]
    ends = [17, 19, 26, 24, 28]
    per = mcf(times, ends, variance="per-repair").table.set_index("time")
    nel = mcf(times, ends, variance="nelson").table.set_index("time")
    assert per.loc[13.0, "variance"] == pytest.approx(0.192)
    assert nel.loc[13.0, "variance"] == pytest.approx(0.176)
    np.testing.assert_allclose(per.loc[[5.0, 6.0, 10.0, 12.0], "variance"], [0.032, 0.064, 0.096, 0.128])
    assert (per["variance"] >= nel["variance"] - 1e-12).all()
    # without ties the two estimators agree
    untied = mcf([[1.0, 3.0], [2.0]], [4.0, 2.0], variance="per-repair").table["variance"]
    np.testing.assert_allclose(untied, mcf([[1.0, 3.0], [2.0]], [4.0, 2.0], variance="nelson").table["variance"])


def test_mcf_list_and_long_forms_agree() -> None:
    long = pd.DataFrame({"m": ["a", "a", "a", "b", "b"], "h": [5.0, 9.0, 12.0, 7.0, 10.0], "e": [1, 1, 0, 1, 0]})
    a = mcf(long, system="m", time="h", event="e", level=0.9)
    b = mcf([[5.0, 9.0], [7.0]], ends=[12.0, 10.0], level=0.9)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_trend_by_per_system_matches_single_system_functions() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for s in range(6):
        t = np.sort(rng.uniform(0, 100, 4 + s))
        rows += [(s, x, 1) for x in t] + [(s, 100.0, 0)]
    df = pd.DataFrame(rows, columns=["system", "time", "event"]).assign(model=lambda d: d.system % 2)
    per = trend_by(df, "system")
    for s, g in df.groupby("system"):
        t = g.loc[g.event == 1, "time"].to_numpy()
        row = per[per.system == s].iloc[0]
        assert row["beta"] == pytest.approx(crow_amsaa(t, 100.0).beta)
        assert row["laplace_u"] == pytest.approx(laplace_test(t, 100.0).statistic)
        assert row["mil_p"] == pytest.approx(mil_hdbk_189_test(t, 100.0).p_value)
    fleet = trend_by(df)
    assert len(fleet) == 1 and fleet.loc[0, "failures"] == int(df.event.sum())
    by_model = trend_by(df, "model")
    assert list(by_model["model"]) == [0, 1] and by_model["systems"].sum() == 6


def test_power_law_simulation_recovers_beta_and_verdict() -> None:
    """A fleet of 30 systems with N(t) = (t / 100)^2 (worsening), time-terminated at 300: pooled beta near 2."""
    rng = np.random.default_rng(11)
    rows = []
    for s in range(30):
        n = rng.poisson((300 / 100) ** 2)
        t = 300 * np.sqrt(rng.uniform(size=n))  # given n, t / T ~ U^(1/beta)
        rows += [(s, x, 1) for x in t] + [(s, 300.0, 0)]
    df = pd.DataFrame(rows, columns=["system", "time", "event"])
    out = trend_by(df).iloc[0]
    assert out["beta_lower"] < 2.0 < out["beta_upper"]
    assert out["verdict"] == "worsening" and out["laplace_verdict"] == "worsening"


def test_times_between_failures() -> None:
    df = pd.DataFrame({"system": [1, 1, 1, 2], "time": [5.0, 12.0, 20.0, 7.0], "event": [1, 1, 0, 0]})
    lives = times_between_failures(df)
    assert lives["time"].tolist() == [5.0, 7.0, 8.0, 7.0]
    assert lives["censored"].tolist() == [0, 0, 1, 1]
    assert lives["start"].tolist() == [0.0, 5.0, 12.0, 0.0]


def test_results_render_and_plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = mcf([[1.0, 3.0], [2.0]], [4.0, 2.0])
    t = np.array([2.0, 5.0, 9.0, 20.0, 31.0])
    for obj in (res, crow_amsaa(t), duane(t), crow_amsaa_grouped([10, 20], [2, 3]), laplace_test(t, 40.0)):
        assert "<table" in obj._repr_html_()
        assert isinstance(obj.summary, pd.DataFrame)
    for obj in (res, crow_amsaa(t), duane(t)):
        ax = obj.plot()
        assert ax is not None
        plt.close("all")


# ------------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame({"system": [1, 1], "time": [1.0, 2.0], "event": [1, 2]}), "must be 1 .repair. or 0"),
        (pd.DataFrame({"system": [1, 1, 1], "time": [1.0, 2.0, 3.0], "event": [1, 0, 0]}), "at most one"),
        (pd.DataFrame({"system": [1, 1], "time": [5.0, 2.0], "event": [1, 0]}), "repair after its end"),
        (pd.DataFrame({"system": [1], "time": [-1.0], "event": [1]}), ">= 0"),
        (pd.DataFrame({"system": [1], "t": [1.0], "event": [1]}), "lacks column"),
        (pd.DataFrame({"system": [1], "time": [3.0], "event": [0]}), "No repairs"),
    ],
)
def test_mcf_bad_input(frame: pd.DataFrame, match: str) -> None:
    with pytest.raises(ZkValueError, match=match):
        mcf(frame)


def test_bad_settings_and_too_few_failures() -> None:
    with pytest.raises(ZkValueError, match="'variance' parameter"):
        mcf([[1.0]], [2.0], variance="greenwood")  # type: ignore[arg-type]
    with pytest.raises(ZkValueError, match="'level' parameter"):
        mcf([[1.0]], [2.0], level=95)
    with pytest.raises(ZkValueError, match="at least 2 failure"):
        crow_amsaa([5.0])
    with pytest.raises(ZkValueError, match=">= the last failure"):
        crow_amsaa([5.0, 9.0], end=6.0)
    with pytest.raises(ZkValueError, match="two intervals"):
        crow_amsaa_grouped([10, 20], [3, 0])
    with pytest.raises(ZkValueError, match="'alpha' parameter"):
        laplace_test([1.0, 2.0], 3.0, alpha=5)
    few = trend_by(pd.DataFrame({"system": [1, 1], "time": [4.0, 4.0], "event": [1, 0]})).iloc[0]
    assert few["verdict"] == "not enough failures" and np.isnan(few["beta"])  # S = 0: the only failure at T


def test_mcf_plot_takes_a_label() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from zk_forecast.failures.repairable import mcf

    res = mcf(pd.DataFrame({"system": [1, 1, 2, 2], "time": [2.0, 5.0, 3.0, 6.0], "event": [1, 0, 1, 0]}),
              system="system", time="time", event="event")
    ax = res.plot(label="model A")
    assert ax.get_legend_handles_labels()[1][0] == "model A"
