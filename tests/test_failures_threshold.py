"""Threshold models (Weibull3P, Exponential2P, LogNormal3P) against the Python package `reliability`.

Data as in `reliability`'s tests (tests/test_Fitters*.py, see tests/test_failures_rankregression.py): 20 draws of
``scipy.stats.<dist>.rvs(..., loc=500)`` after seeding numpy's legacy generator with 5, failures below the
distribution's mean, the rest suspended at the mean.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats
from sklearn.base import clone

from zk_forecast.errors import NotFittedError, ZkValueError
from zk_forecast.failures import Exponential, Weibull
from zk_forecast.failures.threshold import Exponential2P, LogNormal3P, Weibull3P


def _reliability_data(rvs: stats.rv_continuous, mean: float, **kw: float) -> tuple[np.ndarray, np.ndarray]:
    x = rvs.rvs(size=20, random_state=np.random.RandomState(5), **kw)
    fail = x[x < mean]
    n_susp = int((x >= mean).sum())
    return np.r_[fail, np.full(n_susp, mean)], np.r_[np.zeros(fail.size), np.ones(n_susp)]


@pytest.fixture(scope="module")
def weibull3p() -> tuple[Weibull3P, np.ndarray, np.ndarray]:
    t, c = _reliability_data(stats.weibull_min, 50 * special.gamma(1.5) + 500, c=2.0, scale=50.0, loc=500.0)
    return Weibull3P().fit(t, c), t, c


def test_weibull_3p_matches_reliability(weibull3p: tuple[Weibull3P, np.ndarray, np.ndarray]) -> None:
    """`reliability` test_Fit_Weibull_3P (Weibull_Distribution(alpha=50, beta=2, gamma=500)), MLE: alpha
    33.0123537701021, beta 1.327313848890964, gamma 513.7220829514334, loglik -54.5163790601984 (their optimiser
    stops at rtol 1e-3; ours agrees to 1e-4)."""
    w, t, c = weibull3p
    assert w.scale_ == pytest.approx(33.0123537701021, rel=1e-4)
    assert w.shape_ == pytest.approx(1.327313848890964, rel=1e-4)
    assert w.threshold_ == pytest.approx(513.7220829514334, rel=1e-6)
    assert w.loglik_ == pytest.approx(-54.5163790601984, abs=1e-6)
    assert w.threshold_ < t.min()
    # the threshold beats the two-parameter Weibull on the same data (same likelihood units)
    assert w.loglik_ > Weibull().fit(t, c).loglik_


def test_weibull_3p_intervals(weibull3p: tuple[Weibull3P, np.ndarray, np.ndarray]) -> None:
    w, t, _ = weibull3p
    lo, hi = w.threshold_interval()
    assert 0 <= lo < w.threshold_ < hi <= t.min()
    # at the interval's ends the profile is chi2_1(0.95) / 2 = 1.92 below the maximum (definition)
    if lo > 0:
        assert w._profile(lo, w._data)[0] == pytest.approx(w.loglik_ - 0.5 * stats.chi2.ppf(0.95, 1), abs=1e-5)
    b10 = w.b_life(0.10)
    # B10 = threshold + scale (-ln 0.9) ** (1 / shape) (definition)
    assert b10 == pytest.approx(w.threshold_ + w.scale_ * (-math.log(0.9)) ** (1 / w.shape_))
    blo, bhi = w.b_life_wald_interval(0.10)
    assert blo < b10 < bhi
    s = w.summary
    assert list(s.index) == ["shape", "scale", "threshold"]
    assert np.isnan(s.loc["shape", "lr_lo"]) and s.loc["threshold", "lr_lo"] == pytest.approx(lo)
    with pytest.raises(ZkValueError, match="wald_interval"):
        w.lr_interval("shape")
    # predictions: nothing fails before the threshold
    assert w.cdf([w.threshold_ * 0.99, w.threshold_])[0] == 0.0
    assert w.reliability([w.threshold_ + w.scale_])[0] == pytest.approx(math.exp(-1.0))


def test_lognormal_3p_matches_reliability() -> None:
    """`reliability` test_Fit_Lognormal_3P (Lognormal_Distribution(mu=1, sigma=0.5, gamma=500)), MLE: mu
    0.5608879850309877, sigma 0.7396271168422542, gamma 500.79568888668746 (the local maximum below the first
    failure)."""
    t, c = _reliability_data(stats.lognorm, math.exp(1.125) + 500, s=0.5, scale=math.e, loc=500.0)
    m = LogNormal3P().fit(t, c)
    assert m.mu_ == pytest.approx(0.5608879850309877, rel=1e-4)
    assert m.sigma_ == pytest.approx(0.7396271168422542, rel=1e-4)
    assert m.threshold_ == pytest.approx(500.79568888668746, rel=1e-7)


def test_exponential_2p_threshold_is_the_first_age() -> None:
    """`reliability` test_Fit_Exponential_2P (Exponential_Distribution(Lambda=5, gamma=500)), MLE: Lambda
    7.062867654421206, gamma 500.016737532126, loglik 14.322773740644461. `reliability` caps the threshold at the
    first age minus 1e-4; the exponential's likelihood rises up to the first age (Lawless 2003, §3.5.1), so ours
    sits at the first age with a higher likelihood, and the one-parameter fit at their threshold gives their values."""
    t, c = _reliability_data(stats.expon, 500.2, scale=0.2, loc=500.0)
    e = Exponential2P().fit(t, c)
    first = t.min()
    assert e.threshold_ == pytest.approx(first, rel=1e-9) and e.threshold_ < first
    at_theirs = Exponential().fit(t - (first - 1e-4), c)
    assert 1 / at_theirs.scale_ == pytest.approx(7.062867654421206, rel=1e-6)
    assert at_theirs.loglik_ == pytest.approx(14.322773740644461, rel=1e-6)
    assert e.loglik_ > at_theirs.loglik_
    # closed form at the first age: scale = total time beyond it / failures (Lawless 2003, eq. 3.5.2)
    assert e.scale_ == pytest.approx(float(np.sum(t - e.threshold_)) / float((c == 0).sum()), rel=1e-9)
    assert math.isnan(e.cov_.loc["threshold", "threshold"])


def test_no_threshold_needed_gives_zero() -> None:
    # two-parameter Weibull data with an early failure: the profile peaks at 0 (or near it)
    rng = np.random.default_rng(4)
    t = 1000.0 * rng.weibull(2.5, 60)
    w = Weibull3P().fit(t)
    lo, _ = w.threshold_interval()
    assert lo == 0.0


def test_unbounded_likelihood_is_refused() -> None:
    # shape well below 1 with a pile of early failures: the likelihood rises to the first age with no peak inside
    rng = np.random.default_rng(1)
    t = 5.0 + 100.0 * rng.weibull(0.5, 40)
    with pytest.raises(ZkValueError, match="without bound"):
        Weibull3P().fit(t)


def test_settings_clone_and_not_fitted() -> None:
    w = Weibull3P(level=0.9)
    assert clone(w).get_params() == {"level": 0.9, "method": "mle"}
    with pytest.raises(NotFittedError):
        w.b_life(0.1)
    with pytest.raises(ZkValueError, match="method"):
        Weibull3P(method="rank_regression").fit([10.0, 20.0, 30.0, 40.0])


def test_weibull_3p_agrees_with_surpyval_offset_fits() -> None:
    """surpyval ``Weibull.fit(x, c, offset=True)`` (a peer package's output, computed in this test): on seeded
    right-censored samples whose threshold it places at or above 0 and below the first age, the two fits agree
    (threshold to 1e-3, log-likelihood to 1e-6)."""
    surpyval = pytest.importorskip("surpyval")
    rng = np.random.default_rng(11)
    compared = 0
    for _ in range(6):
        shape, scale, loc = rng.uniform(1.5, 3.5), rng.uniform(200.0, 2000.0), rng.uniform(100.0, 1000.0)
        life = loc + scale * rng.weibull(shape, 40)
        stop = np.quantile(life, 0.8)
        x, c = np.minimum(life, stop), (life > stop).astype(int)
        peer = surpyval.Weibull.fit(x=x, c=c, offset=True)
        if not (0 <= float(peer.gamma) < x.min() and float(peer.params[1]) > 1):
            continue
        ours = Weibull3P().fit(x, c)
        assert ours.threshold_ == pytest.approx(float(peer.gamma), rel=1e-3)
        assert ours.loglik_ == pytest.approx(-float(peer.neg_ll()), abs=1e-6)
        compared += 1
    assert compared >= 3
