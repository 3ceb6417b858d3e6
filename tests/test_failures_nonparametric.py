"""Kaplan-Meier, Nelson-Aalen and Turnbull against statsmodels, published tables and hand calculations."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from zk_forecast.errors import NotFittedError, ZkValueError
from zk_forecast.failures import KaplanMeier, NelsonAalen, Turnbull, Weibull

# Freireich et al. (1963) 6-MP arm (remission weeks, 1 = censored), as tabulated by Klein & Moeschberger (2003),
# *Survival Analysis* 2nd ed., Table 4.1A.
T_6MP = np.array([6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35.0])
C_6MP = np.array([0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1])


def test_kaplan_meier_matches_statsmodels_survfuncright() -> None:
    """statsmodels ``SurvfuncRight(time, status)``: product-limit estimate, Greenwood standard errors, risk sets."""
    km = KaplanMeier().fit(T_6MP, C_6MP)
    ref = sm.SurvfuncRight(T_6MP, 1 - C_6MP)
    np.testing.assert_allclose(km.table_["time"], ref.surv_times)
    np.testing.assert_allclose(km.table_["survival"], ref.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(km.table_["se"], ref.surv_prob_se, rtol=1e-10)
    np.testing.assert_allclose(km.table_["at_risk"], ref.n_risk)


def test_kaplan_meier_klein_moeschberger_table_4_1a() -> None:
    """Klein & Moeschberger (2003) Table 4.1A: S(t) 0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448 and Greenwood
    standard errors 0.076, 0.087, 0.096, 0.107, 0.114, 0.128, 0.135 at t = 6, 7, 10, 13, 16, 22, 23."""
    km = KaplanMeier().fit(T_6MP, C_6MP)
    np.testing.assert_allclose(km.table_["survival"], [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448], atol=6e-4)
    np.testing.assert_allclose(km.table_["se"], [0.076, 0.087, 0.096, 0.107, 0.114, 0.128, 0.135], atol=6e-4)


def test_kaplan_meier_log_log_bounds() -> None:
    """Log-log 95 % bounds as printed by R ``survfit(Surv(time, status) ~ 1, conf.type = "log-log")`` for the 6-MP
    arm: (0.620, 0.952) at t = 6 and (0.188, 0.680) at t = 23; between them checked against the formula
    S ** exp(+-z se_log / ln S) by hand for t = 10 (S = 0.7529, Greenwood sum 0.016360)."""
    km = KaplanMeier().fit(T_6MP, C_6MP)
    lo, hi = km.confidence_interval([6.0, 23.0])
    np.testing.assert_allclose(lo, [0.620, 0.188], atol=6e-4)
    np.testing.assert_allclose(hi, [0.952, 0.680], atol=6e-4)
    s = km.survival_function([10.0])[0]
    gw = 3 / (21 * 18) + 1 / (17 * 16) + 1 / (15 * 14)
    theta = np.exp(1.959963984540054 * np.sqrt(gw) / np.log(s))
    np.testing.assert_allclose(km.confidence_interval([10.0])[0], [s ** (1 / theta)], rtol=1e-10)


def test_kaplan_meier_linear_and_log_bounds_and_steps() -> None:
    km = KaplanMeier(conf_type="linear").fit(T_6MP, C_6MP)
    s, se = km.table_["survival"].to_numpy(), km.table_["se"].to_numpy()
    np.testing.assert_allclose(km.table_["upper"], np.clip(s + 1.959963984540054 * se, 0, 1))
    assert KaplanMeier(conf_type="log").fit(T_6MP, C_6MP).table_["lower"].iloc[0] == pytest.approx(
        s[0] * np.exp(-1.959963984540054 * se[0] / s[0]))
    # right-continuous steps: 1 before the first failure, S(6) at 6, held until 7
    np.testing.assert_allclose(km.survival_function([0.0, 5.9, 6.0, 6.9, 40.0]),
                               [1.0, 1.0, 18 / 21, 18 / 21, s[-1]])


def test_kaplan_meier_left_truncation_matches_statsmodels() -> None:
    """statsmodels ``SurvfuncRight(time, status, entry=...)``: risk sets of delayed entries."""
    rng = np.random.default_rng(11)
    t = np.round(rng.weibull(1.3, 60) * 100 + 5, 1)
    entry = np.where(rng.uniform(size=60) < 0.4, np.floor(t * rng.uniform(0, 0.8, 60)), 0.0)
    c = (rng.uniform(size=60) < 0.3).astype(int)
    km = KaplanMeier().fit(t, c, entry=entry)
    ref = sm.SurvfuncRight(t, 1 - c, entry=entry)
    np.testing.assert_allclose(km.table_["survival"], ref.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(km.table_["at_risk"], ref.n_risk)


def test_counts_equal_repeated_rows() -> None:
    a = KaplanMeier().fit([10.0, 20.0, 30.0], [0, 1, 0], count=[3, 2, 4])
    b = KaplanMeier().fit(np.repeat([10.0, 20.0, 30.0], [3, 2, 4]), np.repeat([0, 1, 0], [3, 2, 4]))
    np.testing.assert_allclose(a.table_["survival"], b.table_["survival"])


def test_nelson_aalen_hand_calculation() -> None:
    """6-MP arm by hand: H = 3/21, + 1/17, + 1/15, + 1/12, + 1/11, + 1/7, + 1/6; variance sum d / n^2."""
    na = NelsonAalen().fit(T_6MP, C_6MP)
    d = np.array([3, 1, 1, 1, 1, 1, 1.0])
    n = np.array([21, 17, 15, 12, 11, 7, 6.0])
    np.testing.assert_allclose(na.table_["cumulative_hazard"], np.cumsum(d / n))
    np.testing.assert_allclose(na.table_["se"], np.sqrt(np.cumsum(d / n**2)))
    assert na.cumulative_hazard([0.0, 6.5])[1] == pytest.approx(3 / 21)
    assert na.survival_function([6.5])[0] == pytest.approx(np.exp(-3 / 21))
    H, se = na.table_["cumulative_hazard"].to_numpy(), na.table_["se"].to_numpy()
    np.testing.assert_allclose(na.table_["lower"], H * np.exp(-1.959963984540054 * se / H))


def test_turnbull_equals_kaplan_meier_on_exact_and_right_censored_data() -> None:
    # Turnbull (1976): with exact failures and suspensions the NPMLE is the product-limit estimate
    tb = Turnbull().fit(T_6MP, C_6MP)
    km = KaplanMeier().fit(T_6MP, C_6MP)
    ages = np.array([0.0, 6.0, 8.0, 13.0, 22.5, 23.0, 30.0])
    np.testing.assert_allclose(tb.survival_function(ages), km.survival_function(ages), atol=1e-8)
    assert tb.converged_


def test_turnbull_hand_examples() -> None:
    # (0, 2] and (1, 3] share only (1, 2]: all mass there (hand calculation)
    tb = Turnbull().fit(np.array([[0.0, 2.0], [1.0, 3.0]]))
    assert list(tb.table_[["lower", "upper"]].itertuples(index=False, name=None)) == [(1.0, 2.0)]
    assert tb.table_["probability"].iloc[0] == pytest.approx(1.0)
    # disjoint (0, 1] and (2, 3] plus a unit failed in (0, 3]: the third unit splits evenly, masses 1/2 each
    tb = Turnbull().fit(np.array([[0.0, 1.0], [2.0, 3.0], [0.0, 3.0]]))
    np.testing.assert_allclose(tb.table_["probability"], [0.5, 0.5], atol=1e-8)
    np.testing.assert_allclose(tb.survival_function([0.5, 1.0, 2.5, 3.0]), [1.0, 0.5, 0.5, 0.0], atol=1e-8)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_turnbull_is_the_npmle(seed: int) -> None:
    """Optimality (Gentleman & Geyer 1994): at the NPMLE, sum_i w_i a_ij / P_i <= N for every innermost interval,
    with equality where the mass is positive; and no other distribution on the same intervals has more likelihood."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 25))
    life = rng.weibull(1.5, n) * 100
    lo = np.round(np.maximum(life - rng.uniform(0, 40, n), 0.0))
    up = np.round(life + rng.uniform(1, 40, n))
    up = np.where(rng.uniform(size=n) < 0.2, np.inf, np.maximum(up, lo + 1))
    up[0] = min(up[0], lo[0] + 1) if np.isinf(up[0]) else up[0]
    tb = Turnbull(tol=1e-12).fit(np.c_[lo, up])
    assert tb.table_["probability"].sum() == pytest.approx(1.0)
    # likelihood of a perturbed distribution on the same intervals is not higher
    tab = tb.table_
    def loglik(p: np.ndarray) -> float:
        cover = (lo[:, None] <= tab["lower"].to_numpy()[None, :]) & (tab["upper"].to_numpy()[None, :] <= up[:, None])
        return float(np.sum(np.log(cover.astype(float) @ p)))
    base = loglik(tab["probability"].to_numpy())
    assert base == pytest.approx(tb.loglik_, abs=1e-9)
    for _ in range(5):
        q = tab["probability"].to_numpy() + rng.uniform(0, 0.05, len(tab))
        assert loglik(q / q.sum()) <= base + 1e-7


def test_not_fitted_bad_settings_and_plots() -> None:
    with pytest.raises(NotFittedError, match="fit"):
        KaplanMeier().survival_function([1.0])
    with pytest.raises(ZkValueError, match="conf_type"):
        KaplanMeier(conf_type="plain").fit(T_6MP, C_6MP)
    with pytest.raises(ZkValueError, match="Turnbull"):
        KaplanMeier().fit(np.array([[0.0, 5.0], [1.0, 2.0]]))
    ax = KaplanMeier().fit(T_6MP, C_6MP).plot()
    assert ax.get_ylabel() == "fraction surviving"
    w = Weibull().fit(T_6MP, C_6MP)
    ax = KaplanMeier().fit(T_6MP, C_6MP).plot(model=w)
    assert any("Kaplan-Meier" in t.get_text() for t in ax.get_legend().get_texts())
    assert NelsonAalen().fit(T_6MP, C_6MP).plot().get_ylabel() == "cumulative hazard"
    assert Turnbull().fit(np.array([[0.0, 2.0], [1.0, 3.0]])).plot() is not None
