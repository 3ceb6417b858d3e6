"""Tests of lead-time demand distributions (zk_forecast.demand.distributions)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from zk_forecast.demand.distributions import (
    LeadTimeDemand,
    LeadTimeDistribution,
    gamma_level_nodes,
    lead_time_pmf,
    level_variance,
    recency_weights,
    scale_level,
    truncate_tail,
)
from zk_forecast.errors import ZkTypeError, ZkValueError

ONE = np.array([0.0, 1.0])  # every demand is one unit


def test_unit_sizes_give_binomial() -> None:
    # Bernoulli(p) occurrence, size 1, over L periods = Binomial(L, p) (reference: scipy.stats.binom)
    p = np.array([0.05, 0.3, 0.5, 0.9, 1.0, 0.0])
    L = np.array([1, 4, 7, 12, 3, 5])
    pmf = lead_time_pmf(p, ONE, L)
    for i in range(p.size):
        k = np.arange(pmf.shape[1])
        np.testing.assert_allclose(pmf[i], stats.binom.pmf(k, L[i], p[i]), atol=1e-12)


def test_per_period_probabilities_match_direct_convolution() -> None:
    # seasonal scaling: p differs by period; reference = np.convolve of the per-period pmfs, by hand
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, (4, 6))
    size = rng.dirichlet(np.ones(5), 4)
    size[:, 0] = 0.0
    size /= size.sum(axis=1, keepdims=True)
    L = np.array([6, 2, 5, 1])
    got = lead_time_pmf(p, size, L, tail=0.0)
    for i in range(4):
        ref = np.array([1.0])
        for t in range(L[i]):
            per = p[i, t] * size[i]
            per[0] += 1 - p[i, t]
            ref = np.convolve(ref, per)
        np.testing.assert_allclose(got[i, :ref.size], ref, atol=1e-13)
        assert np.all(got[i, ref.size:] == 0)


def test_compound_poisson_sizes_against_simulation() -> None:
    # occurrence Bernoulli(0.3) per period, size 1 + Poisson(1.5), L = 6; 200,000 seeded simulations.
    # Each empirical bin is a binomial proportion, so |empirical - exact| <= 5 standard errors sqrt(q(1-q)/N)
    # (+ 1/N for the empty bins): a false alarm has probability < 1e-5 per bin, and the seed is fixed anyway.
    p, lam, L, n = 0.3, 1.5, 6, 200_000
    k = np.arange(60)
    size = stats.poisson.pmf(k - 1, lam)
    size[-1] += 1 - size.sum()
    pmf = lead_time_pmf(p, size, L)[0]
    rng = np.random.default_rng(20040101)
    occ = rng.random((n, L)) < p
    draws = np.where(occ, 1 + rng.poisson(lam, (n, L)), 0).sum(axis=1)
    emp = np.bincount(draws, minlength=pmf.size)[: pmf.size] / n
    se = np.sqrt(pmf * (1 - pmf) / n)
    assert np.all(np.abs(emp - pmf) <= 5 * se + 1.0 / n)
    assert pmf @ np.arange(pmf.size) == pytest.approx(L * p * (1 + lam), rel=1e-9)


def test_fitted_mean_and_variance_formulas() -> None:
    rng = np.random.default_rng(11)
    y = np.where(rng.random((50, 104)) < rng.uniform(0.02, 0.6, (50, 1)), rng.integers(1, 9, (50, 104)), 0.0)
    L = rng.integers(1, 13, 50)
    est = LeadTimeDemand().fit(y)
    d = est.distribution(L)
    s = np.arange(est.size_pmf_.shape[1])
    mu, m2 = est.size_pmf_ @ s, est.size_pmf_ @ s**2
    # mean = L p mu; var = L (p E[S²] - p² mu²) for i.i.d. periods; tail truncation at 1e-9 moves them < 1e-6
    np.testing.assert_allclose(d.mean(), L * est.p_ * mu, rtol=1e-6)
    np.testing.assert_allclose(d.var(), L * (est.p_ * m2 - (est.p_ * mu) ** 2), rtol=1e-5)
    assert np.all(d.pmf >= 0)
    np.testing.assert_allclose(d.pmf.sum(axis=1), 1.0, atol=1e-12)


def test_occurrence_scale_hand_calculation() -> None:
    y = np.tile([1.0, 0.0, 0.0, 0.0], 10)[None, :]  # p = 1/4, every size 1
    est = LeadTimeDemand().fit(y)
    assert est.p_[0] == 0.25 and est.size_family_[0] == "poisson"
    # scale (2, 0, 1) over L = 3: p per period (0.5, 0, 0.25); convolve [.5,.5] * [1] * [.75,.25] by hand
    got = est.pmf(3, occurrence_scale=[2.0, 0.0, 1.0])
    np.testing.assert_allclose(got[0], [0.375, 0.5, 0.125], atol=1e-14)
    capped = est.pmf(1, occurrence_scale=[10.0])  # 2.5 capped at probability 1
    np.testing.assert_allclose(capped[0], [0.0, 1.0], atol=1e-14)


def test_tail_truncation() -> None:
    size = stats.geom.pmf(np.arange(200), 0.1)  # long-tailed sizes on 1, 2, ...
    size[-1] += 1 - size.sum()
    full = lead_time_pmf(0.5, size, 4, tail=0.0)
    cut = lead_time_pmf(0.5, size, 4, tail=1e-6)
    assert cut.shape[1] < full.shape[1]
    k = cut.shape[1] - 1
    assert full[0, k + 1:].sum() <= 1e-6  # what was folded is at most the tail mass
    np.testing.assert_allclose(cut[0, :k], full[0, :k], atol=1e-15)
    assert cut[0, k] == pytest.approx(full[0, k:].sum(), abs=1e-12)
    np.testing.assert_allclose(truncate_tail(np.array([[0.5, 0.5, 0.0, 0.0]])), [[0.5, 0.5]])


def test_quantiles_monotone_and_match_binomial() -> None:
    d = LeadTimeDistribution(lead_time_pmf(np.array([0.2, 0.6]), ONE, np.array([10, 10])))
    qs = np.linspace(0, 1, 101)
    q = d.quantile(qs)
    assert q.shape == (2, 101) and np.all(np.diff(q, axis=1) >= 0)
    for i, p in enumerate([0.2, 0.6]):
        np.testing.assert_array_equal(q[i, 1:-1], stats.binom.ppf(qs[1:-1], 10, p))
    assert d.quantile(0.5).shape == (2,)
    np.testing.assert_allclose(d.cdf()[:, -1], 1.0)
    with pytest.raises(ZkValueError, match=r"\[0, 1\]"):
        d.quantile(1.5)
    assert "2 series" in repr(d) and "<table" in d._repr_html_()


def test_size_families() -> None:
    rng = np.random.default_rng(5)
    sizes = 1 + rng.negative_binomial(2, 0.3, 400)  # over-dispersed
    y = np.zeros((4, 800))
    y[0, ::2] = sizes
    y[1, :3] = [2, 3, 2]  # three demands: fewer than min_sizes → shifted Poisson
    y[2, ::4] = 1  # never over-dispersed: point mass at 1
    est = LeadTimeDemand().fit(y)
    assert list(est.size_family_) == ["nbinom", "poisson", "poisson", "none"]
    s = np.arange(est.size_pmf_.shape[1])
    mu = est.size_pmf_[0] @ s
    assert mu == pytest.approx(sizes.mean(), rel=1e-6)  # moments matched
    assert est.size_pmf_[0] @ (s - mu) ** 2 == pytest.approx(sizes.var(ddof=1), rel=0.02)
    assert est.size_pmf_[1] @ s == pytest.approx(7 / 3)
    assert est.size_pmf_[2, 1] == pytest.approx(1.0)
    assert est.pmf(3)[3, 0] == 1.0  # no demand: zero for sure
    emp = LeadTimeDemand(size="empirical").fit(y[1:2])
    np.testing.assert_allclose(emp.size_pmf_[0, :4], [0, 0, 2 / 3, 1 / 3])
    geo = LeadTimeDemand(size="geometric").fit(y[1:2])
    assert geo.size_pmf_[0] @ np.arange(geo.size_pmf_.shape[1]) == pytest.approx(7 / 3, rel=1e-8)


def test_bootstrap_markov_estimates() -> None:
    y = np.array([[0, 2, 0, 0, 1, 0, 3, 0]], dtype=float)
    b = LeadTimeDemand(method="bootstrap").fit(y)
    # from no demand: 0→2, 0→0, 0→1, 0→3: 3 of 4; from demand: 2→0, 1→0, 3→0: 0 of 3 (hand count)
    assert (b.p01_[0], b.p11_[0], b.last_state_[0]) == (0.75, 0.0, False)
    np.testing.assert_array_equal(b.sizes_, [2, 1, 3])
    gap = np.array([[1, np.nan, 0, 1, 1]])  # no transition is counted across the missing period
    g = LeadTimeDemand(method="bootstrap").fit(gap)
    assert (g.p01_[0], g.p11_[0], g.last_state_[0]) == (1.0, 1.0, True)


def test_bootstrap_deterministic_with_seed() -> None:
    rng = np.random.default_rng(1)
    y = np.where(rng.random((30, 60)) < 0.3, rng.integers(1, 6, (30, 60)), 0).astype(float)
    L = rng.integers(1, 13, 30)
    a = LeadTimeDemand(method="bootstrap", n_samples=500, random_state=42).fit(y).pmf(L)
    b = LeadTimeDemand(method="bootstrap", n_samples=500, random_state=42).fit(y).pmf(L)
    c = LeadTimeDemand(method="bootstrap", n_samples=500, random_state=43).fit(y).pmf(L)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.all(a >= 0)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(a * 500, np.round(a * 500), atol=1e-9)  # counts of 500 samples


def test_bootstrap_degenerate_histories() -> None:
    y = np.ones((2, 20))
    y[1] = 0.0
    b = LeadTimeDemand(method="bootstrap", jitter=False, n_samples=200, random_state=0).fit(y)
    pmf = b.pmf(np.array([5, 5]))
    assert pmf[0, 5] == 1.0 and pmf[1, 0] == 1.0  # demand 1 every period; never any demand
    assert b.pmf(5, occurrence_scale=np.zeros(5))[0, 0] == 1.0
    jit = LeadTimeDemand(method="bootstrap", n_samples=4000, random_state=0).fit(y).distribution(5)
    # jittered size 1: 1 + trunc(1 + Z), non-positive draws back to 1; its mean, by a seeded simulation of
    # 10^6 normals, is 1.668, so 5 demands average 8.34 (4000 samples: standard error about 0.02)
    z = np.random.default_rng(9).standard_normal(1_000_000)
    j = 1 + np.trunc(1 + z)
    per = np.where(j <= 0, 1, j).mean()
    assert jit.pmf[0, 5] < 1.0 and jit.mean()[0] == pytest.approx(5 * per, abs=0.1)


def test_estimator_conventions_and_errors() -> None:
    est = LeadTimeDemand(method="fitted", n_samples=7, random_state=3)
    assert (est.method, est.n_samples, est.random_state) == ("fitted", 7, 3)
    assert not [k for k in vars(est) if k.endswith("_")]
    with pytest.raises(ZkValueError, match="not fitted"):
        est.pmf(3)
    assert est.fit(np.ones((1, 4))) is est
    assert est.n_samples == 7 and est.random_state == 3
    with pytest.raises(ZkValueError, match="'method'"):
        LeadTimeDemand(method="mc").fit(np.ones((1, 4)))
    with pytest.raises(ZkValueError, match="'size'"):
        LeadTimeDemand(size="lognormal").fit(np.ones((1, 4)))
    with pytest.raises(ZkValueError, match="'n_samples'"):
        LeadTimeDemand(n_samples=0).fit(np.ones((1, 4)))
    with pytest.raises(ZkValueError, match=">= 1"):
        est.pmf(0)
    with pytest.raises(ZkTypeError, match="whole periods"):
        est.pmf(1.5)
    with pytest.raises(ZkValueError, match="occurrence_scale"):
        est.pmf(3, occurrence_scale=[1.0, 1.0])
    with pytest.raises(ZkValueError, match="negative"):
        LeadTimeDemand().fit(-np.ones((1, 3)))
    with pytest.raises(ZkValueError, match=r"\[0, 1\]"):
        lead_time_pmf(1.2, ONE, 2)
    with pytest.raises(ZkValueError, match="sum to 1"):
        lead_time_pmf(0.5, [0.5, 0.6], 2)
    with pytest.raises(ZkValueError, match="n_series = 3"):
        lead_time_pmf(np.array([0.1, 0.2]), np.tile(ONE, (3, 1)), 2)


def test_recency_weights_by_hand() -> None:
    # ages 2, 1, 0 with half-life 1 period: 1/4, 1/2, 1; a missing period weighs 0 (hand calculation)
    np.testing.assert_array_equal(recency_weights(np.ones((1, 3), dtype=bool), 1.0), [[0.25, 0.5, 1.0]])
    np.testing.assert_array_equal(recency_weights([[True, False, True]], 2.0), [[0.5, 0.0, 1.0]])
    np.testing.assert_array_equal(recency_weights([[True, False]], None), [[1.0, 0.0]])


def test_half_life_weighted_occurrence_and_sizes_by_hand() -> None:
    # half-life 1, four periods: weights 1/8, 1/4, 1/2, 1 (ages 3..0); demands 2 (weight 1/8) and 4 (weight 1).
    # p = (1/8 + 1) / (15/8) = 0.6; mean size = (2/8 + 4) / (9/8) = 34/9; reliability-weighted variance
    # (1/8 (16/9)² + (2/9)²) / (9/8 - (65/64) / (9/8)) = (4/9) / (2/9) = 2 (two points: (4 - 2)² / 2 whatever the
    # weights); effective demands (9/8)² / (65/64) = 81/65, effective periods (15/8)² / (85/64) = 45/17.
    est = LeadTimeDemand(half_life=1.0).fit(np.array([[2.0, 0.0, 0.0, 4.0]]))
    assert est.p_[0] == pytest.approx(0.6, rel=1e-14)
    assert est.size_mean_[0] == pytest.approx(34 / 9, rel=1e-14)
    assert est.size_var_[0] == pytest.approx(2.0, rel=1e-12)
    assert est.effective_demands_[0] == pytest.approx(81 / 65, rel=1e-14)
    assert est.effective_periods_[0] == pytest.approx(45 / 17, rel=1e-14)
    assert est.n_demands_[0] == 2 and est.size_family_[0] == "poisson"  # 81/65 effective demands < min_sizes
    # the mean over L periods is L p mean size: 5 × 0.6 × 34/9 = 34/3
    assert est.mean(5)[0] == pytest.approx(34 / 3, rel=1e-8)
    emp = LeadTimeDemand(half_life=1.0, size="empirical").fit(np.array([[2.0, 0.0, 0.0, 4.0]]))
    np.testing.assert_allclose(emp.size_pmf_[0, :5], [0, 0, 1 / 9, 0, 8 / 9], atol=1e-15)  # weights 1/8 : 1


def test_half_life_none_is_the_plain_average() -> None:
    # property: no half-life = equal weights (p = demand periods / observed periods, sizes' mean and ddof=1
    # variance), and a very long half-life converges to it
    rng = np.random.default_rng(21)
    y = np.where(rng.random((40, 90)) < rng.uniform(0.05, 0.8, (40, 1)), 1 + rng.negative_binomial(1, 0.3, (40, 90)),
                 0.0)
    y[rng.random(y.shape) < 0.1] = np.nan
    est = LeadTimeDemand().fit(y)
    occ = np.nan_to_num(y) > 0
    np.testing.assert_array_equal(est.p_, occ.sum(axis=1) / (~np.isnan(y)).sum(axis=1))
    np.testing.assert_array_equal(est.effective_demands_, occ.sum(axis=1))
    for i in range(3):
        sz = y[i][occ[i]]
        assert est.size_mean_[i] == pytest.approx(sz.mean(), rel=1e-14)
        assert est.size_var_[i] == pytest.approx(sz.var(ddof=1), rel=1e-12)
    L = rng.integers(1, 9, 40)
    far = LeadTimeDemand(half_life=1e12).fit(y)
    np.testing.assert_allclose(far.pmf(L), est.pmf(L), atol=1e-9)
    np.testing.assert_array_equal(far.size_family_, est.size_family_)


def test_half_life_raises_quantile_after_a_level_shift() -> None:
    # 60 weeks at one demand of 1 every 5 weeks, then 20 weeks at a demand of 3 every other week: the recent
    # level is higher, so recency weighting must give a higher 95 % quantile over 4 weeks than equal weights
    y = np.r_[np.tile([1.0, 0, 0, 0, 0], 12), np.tile([3.0, 0], 10)][None, :]
    flat = LeadTimeDemand().fit(y)
    recent = LeadTimeDemand(half_life=8).fit(y)
    assert recent.p_[0] > flat.p_[0] and recent.size_mean_[0] > flat.size_mean_[0]
    assert recent.quantile(0.95, 4)[0] > flat.quantile(0.95, 4)[0]
    boot_flat = LeadTimeDemand(method="bootstrap", jitter=False, random_state=0).fit(y)
    boot_recent = LeadTimeDemand(method="bootstrap", jitter=False, half_life=8, random_state=0).fit(y)
    assert boot_recent.mean(4)[0] > boot_flat.mean(4)[0] + 1.0  # recent sizes 3 drawn far more often than 1


def test_half_life_bootstrap_weights_by_hand() -> None:
    # half-life 1: the transition into period t weighs 2^-(4 - t); y = 0 1 0 0 1 (ages 4..0).
    # From no demand: 0→1 (into t=1, weight 1/8), 0→0 (t=3, 1/2), 0→1 (t=4, 1): p01 = (1/8 + 1) / (13/8) = 9/13.
    # From demand: 1→0 (t=2, 1/4): p11 = 0. Sizes 1 (weight 1/8) and 9 (weight 1): with 2^-30 on the old size
    # instead, every draw is the recent 9.
    b = LeadTimeDemand(method="bootstrap", half_life=1.0).fit(np.array([[0.0, 1, 0, 0, 1]]))
    assert b.p01_[0] == pytest.approx(9 / 13, rel=1e-14) and b.p11_[0] == 0.0
    y = np.zeros((1, 32))
    y[0, 0], y[0, -1] = 1.0, 9.0
    d = LeadTimeDemand(method="bootstrap", half_life=1.0, jitter=False, n_samples=2000, random_state=4).fit(y)
    pmf = d.pmf(3)[0]
    assert set(np.flatnonzero(pmf)) <= {0, 9, 18, 27}


def test_half_life_must_be_positive() -> None:
    for bad in (0, -3.0, float("nan"), float("inf"), "26", True):
        with pytest.raises(ZkValueError, match="'half_life'"):
            LeadTimeDemand(half_life=bad).fit(np.ones((1, 4)))  # type: ignore[arg-type]
    assert "half_life=13" in repr(LeadTimeDemand(half_life=13))


# ---------------------------------------------------------------------------------------------- level uncertainty
def test_level_variance_hand_computed() -> None:
    # quarters at 2, 0, 2, 0 per week: block means var 4/3 (ddof=1), weekly var 52/51, v = 4/3 - (52/51)/13 = 64/51
    y = np.repeat([[2.0, 0.0, 2.0, 0.0]], 13, axis=1)
    assert level_variance(y, 13)[0] == pytest.approx(64 / 51, rel=1e-12)


def test_level_variance_zero_without_evidence() -> None:
    steady = np.tile([[0.0, 3.0]], 26)  # the same every block: no excess dispersion
    short = np.ones((1, 38))  # fewer than three full blocks of 13
    late = np.r_[np.full(20, np.nan), np.repeat([4.0, 0.0], 13), np.full(6, 1.0)][None, :]  # 2 full blocks observed
    assert level_variance(np.vstack([steady, np.zeros((1, 52))]), 13).tolist() == [0.0, 0.0]
    assert level_variance(short, 13).tolist() == [0.0]
    assert level_variance(late, 13).tolist() == [0.0]
    with pytest.raises(ZkValueError, match="block"):
        level_variance(steady, 1)


def test_gamma_level_nodes_mean_one_and_spread_grows() -> None:
    m, w = gamma_level_nodes([0.0, 0.1, 1.0])
    assert np.array_equal(m[0], np.ones(7))
    assert np.allclose((m * w).sum(axis=1), 1.0)
    spread = ((m - 1.0) ** 2 * w).sum(axis=1)
    assert spread[0] == 0.0 < spread[1] < spread[2] <= 1.0  # quantile nodes understate the gamma variance a little
    with pytest.raises(ZkValueError, match="level_var"):
        gamma_level_nodes([-0.1])


@pytest.mark.parametrize("mult", [0.3, 1.0, 1.7, 4.0])
def test_scale_level_multiplies_the_mean(mult: float) -> None:
    rng = np.random.default_rng(3)
    sz = np.r_[0.0, rng.random(6)]
    sz /= sz.sum()
    p = np.array([0.2, 0.6, 0.9])
    p2, sz2 = scale_level(p, np.tile(sz, (3, 1)), np.full(3, mult))
    mean = p * (sz @ np.arange(sz.size))
    mean2 = p2 * (sz2 @ np.arange(sz2.shape[1]))
    assert np.allclose(mean2, mult * mean)
    assert np.all(p2 <= 1.0) and np.allclose(sz2.sum(axis=1), 1.0) and np.all(sz2[:, 0] == 0.0)


def test_level_block_steady_series_keep_exact_pmf() -> None:
    rng = np.random.default_rng(11)
    steady = np.tile([[0.0, 2.0, 0.0, 1.0]], 13)  # the same pattern in every quarter: level_var_ = 0
    drift = (rng.random((1, 52)) < np.repeat([0.1, 0.6, 0.1, 0.6], 13)) * 3.0
    y = np.vstack([steady, drift])
    off = LeadTimeDemand(half_life=52).fit(y)
    on = LeadTimeDemand(half_life=52, level_block=13).fit(y)
    assert on.level_var_[0] == 0.0 and on.level_var_[1] > 0.0
    a, b = off.pmf(9), on.pmf(9)
    np.testing.assert_allclose(b[0, :a.shape[1]], a[0], rtol=0, atol=1e-13)  # FFT rounding only
    assert not b[0, a.shape[1]:].any()
    # the drifting series: same mean (gamma multipliers average 1), wider distribution
    assert on.mean(9)[1] == pytest.approx(off.mean(9)[1], rel=1e-9)
    assert on.var(9)[1] > 1.2 * off.var(9)[1]


def test_level_block_validated() -> None:
    with pytest.raises(ZkValueError, match="level_block"):
        LeadTimeDemand(level_block=1).fit(np.ones((1, 10)))
