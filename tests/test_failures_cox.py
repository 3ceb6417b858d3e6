"""Tests of zk_forecast.failures._cox (the stratified Cox kernel behind hazard_ratios): a partial likelihood worked
out by hand, agreement with statsmodels' PHReg (Efron's ties) on seeded data with ties, delayed entry, strata
(one without failures), invariances of the fit, and fits that cannot converge."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zk_forecast.failures._cox import cluster_covariance, fit_cox


def test_tiny_case_by_hand() -> None:
    """Two strata, five lives, one covariate x; y = exp(b).

    Stratum A: a1 fails at 1 (x=1), a2 censored at 3 (x=0). At t=1 both are at risk, a1 fails:
        b - log(y + 1).
    Stratum B: b1 (x=1) and b2 (x=0) fail together at 2, b3 censored at 4 (x=1). At t=2 all three are at risk:
        S0 = 2y + 1, the tied pair has D0 = y + 1; Efron's two terms are log(S0) and log(S0 - D0/2) = log((3y+1)/2):
        b - log(2y + 1) - log((3y + 1) / 2).
    So l(b) = 2b - log(1+y) - log(1+2y) - log(1+3y) + log 2, and
        l'(b) = 2 - y/(1+y) - 2y/(1+2y) - 3y/(1+3y) = 0  <=>  (times (1+y)(1+2y)(1+3y))  2 + 6y - 6y^3 = 0,
    i.e. y is the positive root of 3y^3 - 3y - 1 = 0; the information is -l''(b) = y/(1+y)^2 + 2y/(1+2y)^2 +
    3y/(1+3y)^2. (Breslow's ties would give b - 2 log(2y + 1) in stratum B and another root.)
    """
    time = np.array([1.0, 3.0, 2.0, 2.0, 4.0])
    event = np.array([1, 0, 1, 1, 0])
    x = np.array([[1.0], [0.0], [1.0], [0.0], [1.0]])
    strata = np.array(["A", "A", "B", "B", "B"])
    fit = fit_cox(time, event, x, strata=strata)
    roots = np.roots([3.0, 0.0, -3.0, -1.0])
    y = float(max(r.real for r in roots if abs(r.imag) < 1e-12))
    assert fit.converged
    assert fit.coef[0] == pytest.approx(math.log(y), rel=1e-12)
    info = y / (1 + y) ** 2 + 2 * y / (1 + 2 * y) ** 2 + 3 * y / (1 + 3 * y) ** 2
    assert fit.cov[0, 0] == pytest.approx(1 / info, rel=1e-10)
    b = math.log(y)
    ll = 2 * b - math.log(1 + y) - math.log(1 + 2 * y) - math.log(1 + 3 * y) + math.log(2)
    assert fit.loglik == pytest.approx(ll, rel=1e-12)
    # the score residuals (Breslow's increments dL = m / S0, as statsmodels) sum to Breslow's score, which with
    # the tie in B is not 0 at Efron's estimate: (1 - y/(1+y)) + (1 - 2 * 2y/(2y+1))
    assert fit.score_residuals.sum() == pytest.approx(2 - y / (1 + y) - 4 * y / (2 * y + 1), rel=1e-12)
    # a1 is the only failure of A: r = (1 - xbar)(1 - y dL) with xbar = y/(1+y), dL = 1/(1+y)
    assert fit.score_residuals[0, 0] == pytest.approx((1 - y / (1 + y)) * (1 - y / (1 + y)), rel=1e-12)


def _data(seed: int, n: int = 1500, p: int = 3, n_strata: int = 5, delayed: bool = True
          ) -> tuple[np.ndarray, ...]:
    """Seeded stratified lives: exponential lives with hazard exp(x b) times a stratum factor, censored at random;
    times rounded to 0.05 (ties within and across failures and censorings); 30 % of the lives enter late (entry
    rounded too, so entries tie with failure times); the last stratum has no failure; the first covariate sits
    near 2020 (a build year: large values, small spread)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    x[:, 0] = 2020.0 + 2.0 * rng.uniform(size=n)
    s = rng.integers(0, n_strata, n)
    lin = (x - x.mean(axis=0)) @ np.linspace(0.5, -0.3, p)
    life = rng.exponential(np.exp(-lin) * (1.0 + s))
    cens = rng.exponential(2.0, n)
    event = (life < cens) & (s != n_strata - 1)
    time = np.ceil(np.minimum(life, cens) * 20.0) / 20.0
    entry = np.zeros(n)
    if delayed:
        late = rng.uniform(size=n) < 0.3
        entry[late] = np.floor(time[late] * rng.uniform(size=late.sum()) * 20.0) / 20.0
    clusters = rng.integers(0, n // 3, n)
    return time, event.astype(int), x, entry, s, clusters


def _informative(time: np.ndarray, event: np.ndarray, entry: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Rows at risk at some failure time of their stratum (entry <= u <= time), by brute force."""
    out = np.zeros(time.size, dtype=bool)
    for i in range(time.size):
        u = time[(s == s[i]) & (event == 1)]
        out[i] = bool(np.any((entry[i] <= u) & (u <= time[i])))
    return out


def _statsmodels(time: np.ndarray, event: np.ndarray, x: np.ndarray, entry: np.ndarray, s: np.ndarray,
                 clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Peer: statsmodels PHReg (ties="efron"): coefficients, model-based and cluster-robust standard errors.

    Only rows at risk at some failure time are passed: the others carry no information (the estimates are the same
    with them), but statsmodels gives a non-zero score residual to a row that enters and leaves between two failure
    times (it keeps it in its at-risk set for all earlier failure times), which would change its sandwich.
    """
    from statsmodels.duration.hazard_regression import PHReg

    keep = _informative(time, event, entry, s)
    model = PHReg(time[keep], x[keep], status=event[keep], entry=entry[keep], strata=s[keep], ties="efron")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit()
        resid = np.asarray(model.score_residuals(res.params))
    assert not np.isnan(resid).any()
    g = np.unique(clusters[keep], return_inverse=True)[1]
    summed = np.zeros((g.max() + 1, x.shape[1]))
    np.add.at(summed, g, resid)
    cov = np.asarray(res.cov_params())
    robust = cov @ summed.T @ summed @ cov
    return np.asarray(res.params), np.sqrt(np.diag(cov)), np.sqrt(np.diag(robust))


@pytest.mark.parametrize(("seed", "delayed"), [(1, True), (2, True), (3, False)])
def test_equals_statsmodels_phreg(seed: int, delayed: bool) -> None:
    """Peer check: coefficients and model-based and clustered standard errors equal statsmodels PHReg's (Efron)
    to 1e-8 relative, on data with ties, delayed entry, five strata one of which has no failure."""
    time, event, x, entry, s, clusters = _data(seed, delayed=delayed)
    fit = fit_cox(time, event, x, entry=entry, strata=s)
    assert fit.converged and fit.n_iter < 15
    coef, se, se_cl = _statsmodels(time, event, x, entry, s, clusters)
    np.testing.assert_allclose(fit.coef, coef, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), se, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(cluster_covariance(fit, clusters))), se_cl, rtol=1e-8)
    # rows at risk at no failure time (censored early, in the stratum without failures, entering and leaving
    # between two failure times) score 0
    idle = ~_informative(time, event, entry, s)
    assert idle.sum() > 0 and np.all(fit.score_residuals[idle] == 0.0)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), shift=st.floats(-50.0, 50.0))
def test_invariances(seed: int, shift: float) -> None:
    """Properties of the partial likelihood: the fit depends on times only through their order (a strictly increasing
    transform of time and entry changes nothing), not on the order of the rows, not on a covariate shifted by a
    constant within a stratum (absorbed by that stratum's baseline); flipping a covariate's sign flips its
    coefficient."""
    time, event, x, entry, s, _ = _data(seed, n=300, n_strata=3)
    base = fit_cox(time, event, x, entry=entry, strata=s)
    assert base.converged
    warped = fit_cox(np.log1p(time) * 7.0, event, x, entry=np.log1p(entry) * 7.0, strata=s)
    np.testing.assert_allclose(warped.coef, base.coef, rtol=1e-9, atol=1e-12)
    perm = np.random.default_rng(seed).permutation(time.size)
    shuffled = fit_cox(time[perm], event[perm], x[perm], entry=entry[perm], strata=s[perm])
    np.testing.assert_allclose(shuffled.coef, base.coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(shuffled.score_residuals, base.score_residuals[perm], rtol=1e-7, atol=1e-9)
    x2 = x.copy()
    x2[:, 1] += shift * (s == 1)
    x2[:, 2] = -x2[:, 2]
    moved = fit_cox(time, event, x2, entry=entry, strata=s)
    np.testing.assert_allclose(moved.coef, base.coef * np.array([1.0, 1.0, -1.0]), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(np.diag(moved.cov), np.diag(base.cov), rtol=1e-7)


def test_separation_stops_with_a_message() -> None:
    """A covariate that orders the failures perfectly (the longest life has the smallest value, and so on) has no
    finite estimate: the likelihood rises as its coefficient runs to -inf. The fit stops within its iteration
    budget, says it did not converge and returns NaN (statsmodels PHReg's Newton also ends with NaN estimates
    here)."""
    rng = np.random.default_rng(0)
    n = 200
    time = rng.exponential(size=n)
    x = np.column_stack([np.argsort(np.argsort(time)).astype(float), rng.normal(size=n)])
    fit = fit_cox(time, np.ones(n), x, max_iter=30)
    assert not fit.converged and fit.message
    assert np.isnan(fit.coef).all() and np.isnan(fit.cov).all() and np.isnan(fit.score_residuals).all()
    assert fit.n_iter <= 30


def test_collinear_and_empty() -> None:
    time, event, x, entry, s, _ = _data(5, n=200, n_strata=2)
    twin = np.column_stack([x, 2.0 * x[:, 1]])
    fit = fit_cox(time, event, twin, entry=entry, strata=s)
    assert not fit.converged and "singular" in fit.message
    none = fit_cox(time, np.zeros_like(event), x)
    assert not none.converged and none.message == "no failures" and np.isnan(none.coef).all()


def test_covariate_constant_within_strata_is_held() -> None:
    """A covariate constant within each stratum (a model's warranty) is absorbed by the strata's baselines: it has no
    information, gets no estimate (not flagged as running off), and the other coefficients are those of the fit
    without it."""
    time, event, x, entry, s, _ = _data(6, n=400, n_strata=3)
    with_const = np.column_stack([x, np.array([12.0, 24.0, 36.0])[s]])
    fit = fit_cox(time, event, with_const, entry=entry, strata=s)
    alone = fit_cox(time, event, x, entry=entry, strata=s)
    assert fit.converged and not fit.runaway.any() and "never varies" in fit.message
    assert np.isnan(fit.coef[3]) and np.isnan(fit.cov[3]).all()
    np.testing.assert_allclose(fit.coef[:3], alone.coef, rtol=1e-9)
    np.testing.assert_allclose(fit.cov[:3, :3], alone.cov, rtol=1e-9)
