"""Rank regression on X and on Y, and the exponential's in linear time, against the Python package `reliability`.

The data are those of `reliability`'s own tests (tests/test_Fitters*.py): ``Distribution.random_samples(20, seed=5)``
draws ``scipy.stats.<dist>.rvs(..., size=20)`` after ``numpy.random.seed(5)``, and ``make_right_censored_data(data,
threshold=dist.mean)`` keeps the values below the mean as failures and turns the rest into suspensions at the mean.
That the maximum-likelihood fits reproduce the published MLEs to 1e-6 shows the data are the same.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from zk_forecast.errors import ZkValueError
from zk_forecast.failures import Exponential, LogNormal, Weibull


def _reliability_data(rvs: stats.rv_continuous, mean: float, **kw: float) -> tuple[np.ndarray, np.ndarray]:
    # `reliability` seeds numpy's legacy global generator with 5; a RandomState(5) draws the same stream
    x = rvs.rvs(size=20, random_state=np.random.RandomState(5), **kw)
    fail = x[x < mean]
    n_susp = int((x >= mean).sum())
    return np.r_[fail, np.full(n_susp, mean)], np.r_[np.zeros(fail.size), np.ones(n_susp)]


def test_exponential_rank_regression_in_linear_time_matches_reliability() -> None:
    """`reliability` test_Fit_Exponential_1P (Exponential_Distribution(Lambda=5)): MLE Lambda 6.101198944227536,
    loglik 12.127280706660684; LS (rank regression of -ln(1 - F) on t through the origin) Lambda
    5.776959885774546. The former regression of ln t on the plotting position gave 4.78."""
    t, c = _reliability_data(stats.expon, 0.2, scale=0.2)
    mle = Exponential().fit(t, c)
    assert 1 / mle.scale_ == pytest.approx(6.101198944227536, rel=1e-6)
    assert mle.loglik_ == pytest.approx(12.127280706660684, rel=1e-6)
    rry = Exponential(method="rank_regression_y").fit(t, c)
    assert 1 / rry.scale_ == pytest.approx(5.776959885774546, rel=1e-9)
    # rank regression on X in linear time: t = scale * z (hand formula of the least-squares line through 0)
    rrx = Exponential(method="rank_regression").fit(t, c)
    assert 1 / rrx.scale_ == pytest.approx(5.832614, rel=1e-5)
    assert 1 / rrx.scale_ != pytest.approx(4.7808, rel=1e-3)


def test_weibull_rank_regression_on_y_matches_reliability() -> None:
    """`reliability` test_Fit_Weibull_2P (Weibull_Distribution(alpha=50, beta=2)): MLE alpha 45.099010886086354,
    beta 2.7827531773597984, loglik -55.4819182629478; LS (rank regression on Y) alpha 42.91333312142757, beta
    2.9657153686461033."""
    t, c = _reliability_data(stats.weibull_min, 50 * special.gamma(1.5), c=2.0, scale=50.0)
    mle = Weibull().fit(t, c)
    assert mle.scale_ == pytest.approx(45.099010886086354, rel=1e-6)
    assert mle.shape_ == pytest.approx(2.7827531773597984, rel=1e-6)
    assert mle.loglik_ == pytest.approx(-55.4819182629478, rel=1e-7)
    rry = Weibull(method="rank_regression_y").fit(t, c)
    assert rry.scale_ == pytest.approx(42.91333312142757, rel=1e-9)
    assert rry.shape_ == pytest.approx(2.9657153686461033, rel=1e-9)


def test_lognormal_rank_regression_on_y_is_the_least_squares_line() -> None:
    # hand formula: Phi^-1(F) = (ln t - mu) / sigma; the least-squares line of Phi^-1(F) on ln t gives
    # slope 1 / sigma and intercept -mu / sigma (complete sample, Benard ranks (i - 0.3) / (n + 0.4))
    t = np.array([17.88, 28.92, 33.0, 41.52, 42.12, 45.6, 48.4, 51.84, 51.96, 54.12])
    p = (np.arange(1, 11) - 0.3) / 10.4
    slope, intercept = np.polyfit(np.log(t), stats.norm.ppf(p), 1)
    m = LogNormal(method="rank_regression_y").fit(t)
    assert m.sigma_ == pytest.approx(1 / slope, rel=1e-12)
    assert m.mu_ == pytest.approx(-intercept / slope, rel=1e-12)
    # on X the roles swap: ln t = mu + sigma Phi^-1(F)
    slope_x, intercept_x = np.polyfit(stats.norm.ppf(p), np.log(t), 1)
    mx = LogNormal(method="rank_regression").fit(t)
    assert (mx.mu_, mx.sigma_) == pytest.approx((intercept_x, slope_x), rel=1e-12)


def test_rank_regression_y_refuses_intervals() -> None:
    with pytest.raises(ZkValueError, match="rank_regression"):
        Weibull(method="rank_regression_y").fit(np.array([[0.0, 10.0], [5.0, 20.0], [3.0, 3.0]]))
