"""Tests of zk_forecast.inventory.policy: exact kernels on discrete pmfs, (R, s, S) search, model vs simulator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from zk_forecast.demand.distributions import lead_time_pmf, scale_level
from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.policy import (
    add_undershoot,
    base_stock_fill_rate,
    compound_mixture_pmfs,
    critical_ratio,
    cycle_service_level,
    expected_backorders,
    expected_on_hand,
    mix_lead_times,
    order_quantity,
    reorder_policy,
    undershoot_pmf,
)
from zk_forecast.inventory.simulate import simulate_policy

PMF = np.array([[0.5, 0.25, 0.25]])


def test_expected_backorders_by_hand() -> None:
    # E[(D - S)^+] for D in {0, 1, 2} w.p. 1/2, 1/4, 1/4 (hand): S=-1: E[D]+1 = 1.75; S=0: 0.75; S=1: 0.25; S=2: 0
    pmf = np.repeat(PMF, 5, axis=0)
    np.testing.assert_allclose(expected_backorders(pmf, np.array([-1, 0, 1, 2, 9])), [1.75, 0.75, 0.25, 0, 0])


def test_expected_backorders_matches_poisson_loss() -> None:
    # Poisson(3): E[(D - S)^+] by direct summation with scipy (reference)
    k = np.arange(60)
    pmf = stats.poisson.pmf(k, 3.0)[None, :]
    for S in (0, 2, 5, 9):
        ref = float(np.sum(np.maximum(k - S, 0) * pmf[0]))
        assert expected_backorders(pmf, S)[0] == pytest.approx(ref, abs=1e-12)


def test_expected_on_hand_by_hand() -> None:
    # E[(S - D)^+]: S=2 → 2·0.5 + 1·0.25 = 1.25; S=0 → 0; S=5 → 5 - 0.75
    pmf = np.repeat(PMF, 3, axis=0)
    np.testing.assert_allclose(expected_on_hand(pmf, np.array([2, 0, 5])), [1.25, 0.0, 4.25])


def test_base_stock_fill_rate_by_hand() -> None:
    # Bernoulli(1/2) demand per period, L = 1, R = 1: D_L ~ Bern, D_{L+R} ~ Bin(2, 1/2).
    # S = 1: shortage = E[(D2 - 1)^+] - E[(D1 - 1)^+] = 0.25 - 0 → fill 1 - 0.25 / 0.5 = 0.5
    # S = 2: shortage 0 → 1;  S = 0: shortage = 1 - 0.5 = 0.5 → fill 0
    lr = np.repeat([[0.25, 0.5, 0.25]], 3, axis=0)
    lt = np.repeat([[0.5, 0.5]], 3, axis=0)
    np.testing.assert_allclose(base_stock_fill_rate(lr, lt, 0.5, np.array([1, 2, 0])), [0.5, 1.0, 0.0])
    assert base_stock_fill_rate(lr[:1], lt[:1], 0.0, 0)[0] == 1.0  # no demand: defined as 1


def test_cycle_service_level() -> None:
    np.testing.assert_allclose(cycle_service_level(np.repeat(PMF, 3, axis=0), np.array([-1, 1, 4])),
                               [0.0, 0.75, 1.0])


def test_undershoot_renewal_by_hand() -> None:
    # f = Bern(1/2) sizes 1: u(j) = 2 for all j → J uniform on 0..Q-1
    np.testing.assert_allclose(undershoot_pmf([[0.5, 0.5]], 3), [[1 / 3, 1 / 3, 1 / 3]])
    # f(0)=0, f(2)=1: cumulative demand hits 0, 2, 4, ... → J ∈ {0, 2} for Q = 4, each 1/2
    np.testing.assert_allclose(undershoot_pmf([[0.0, 0.0, 1.0]], 4), [[0.5, 0.0, 0.5, 0.0]])
    np.testing.assert_allclose(undershoot_pmf([[0.5, 0.5]], 1), [[1.0]])  # base stock


def test_add_undershoot_is_a_convolution() -> None:
    a = np.array([[0.5, 0.5]])
    j = np.array([[0.5, 0.5]])
    np.testing.assert_allclose(add_undershoot(a, j), [[0.25, 0.5, 0.25]])


def test_order_quantity_pack_moq_eoq() -> None:
    # MOQ 5, pack 4 → 8; EOQ sqrt(2·50·10/1) = 31.6 → 32 (pack 1)
    assert order_quantity(np.array([1.0]), moq=5, pack_size=4)[0] == 8
    assert order_quantity(np.array([10.0]), order_cost=50.0, holding_cost=1.0)[0] == 32
    assert order_quantity(np.array([0.0]))[0] == 1


def test_critical_ratio() -> None:
    # newsvendor ratio b / (b + hR) (Snyder & Shen 2019, eq. 4.27): 10 / (10 + 2·1) = 0.8333 (hand calculation)
    assert float(critical_ratio(2.0, 10.0)) == pytest.approx(10.0 / 12.0)
    with pytest.raises(ZkValueError, match="holding_cost"):
        critical_ratio(-1.0, 10.0)


def _pmfs(p: np.ndarray, size: np.ndarray, L: np.ndarray, R: int = 1) -> tuple[np.ndarray, ...]:
    lr = lead_time_pmf(p, size, L + R)
    lt = lead_time_pmf(p, size, np.maximum(L, 1))
    lt[L == 0] = 0.0
    lt[L == 0, 0] = 1.0
    return lr, lt, lead_time_pmf(p, size, np.full(p.size, R))


def test_reorder_policy_is_smallest_meeting_target() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.7, 300)
    L = rng.integers(0, 5, 300)
    lr, lt, r = _pmfs(p, np.array([0, 0.6, 0.3, 0.1]), L)
    res = reorder_policy(lr, lt, r, 0.9)
    assert np.all(res["fill_rate"] >= 0.9 - 1e-12)
    below = base_stock_fill_rate(lr, lt, res["mean_r"], res["order_up_to"] - 1)
    assert np.all(below < 0.9)
    assert np.all(res["reorder_point"] == res["order_up_to"] - 1)


def test_reorder_policy_cycle_target() -> None:
    lr = np.repeat([[0.25, 0.5, 0.25]], 2, axis=0)
    lt = np.repeat([[0.5, 0.5]], 2, axis=0)
    r = lt
    res = reorder_policy(lr, lt, r, np.array([0.7, 0.8]), service="cycle")
    np.testing.assert_array_equal(res["order_up_to"], [1, 2])  # P(D<=1) = 0.75, P(D<=2) = 1


def test_zero_demand_not_stocked() -> None:
    res = reorder_policy([[1.0]], [[1.0]], [[1.0]], 0.95, order_quantity=6)
    assert res["reorder_point"][0] == -1 and res["order_up_to"][0] == 0


def test_bad_target_and_service() -> None:
    with pytest.raises(ZkValueError, match="strictly between 0 and 1"):
        reorder_policy(PMF, PMF, PMF, 1.0)
    with pytest.raises(ZkValueError, match="service"):
        reorder_policy(PMF, PMF, PMF, 0.9, service="nope")


def test_mix_lead_times_exact() -> None:
    # L = 1 or 2 with 1/2 each, Bern(1/2) unit demand, R = 1: D_{L+R} = 1/2 Bin(2) + 1/2 Bin(3)
    def pmf_of(per: np.ndarray) -> np.ndarray:
        return lead_time_pmf(np.full(per.size, 0.5), [0.0, 1.0], per)

    lr, lt = mix_lead_times(pmf_of, np.array([[0.0, 0.5, 0.5]]), 1)
    np.testing.assert_allclose(lr[0, :4], 0.5 * np.array([0.25, 0.5, 0.25, 0]) + 0.5 * np.array([1, 3, 3, 1]) / 8)
    np.testing.assert_allclose(lt[0, :3], [0.375, 0.5, 0.125])


@pytest.mark.parametrize("Q", [1, 3])
def test_model_agrees_with_simulator(Q: int) -> None:
    """The exact (R, s, S) model (with undershoot) against a long seeded simulation."""
    rng = np.random.default_rng(11)
    n, T = 300, 4000
    p = rng.uniform(0.1, 0.6, n)
    L = rng.integers(0, 4, n)
    size = np.array([0, 0.5, 0.3, 0.2])
    lr, lt, r = _pmfs(p, size, L)
    res = reorder_policy(lr, lt, r, 0.9, order_quantity=Q)
    d = (rng.random((n, T)) < p[:, None]) * rng.choice(4, (n, T), p=size)
    sim = simulate_policy(d, res["reorder_point"], res["order_up_to"], L)
    assert sim.total["mean_item_fill_rate"] == pytest.approx(res["fill_rate"].mean(), abs=0.004)
    assert sim.total["cycle_service"] == pytest.approx(res["cycle_service"].mean(), abs=0.004)
    assert sim.items["avg_on_hand"].mean() == pytest.approx(res["on_hand"].mean(), rel=0.01)


def test_compound_mixture_equals_the_mixture_of_lead_time_demand_pmfs() -> None:
    # frequency-domain mixture vs the direct sum over lead-time values of LeadTimeDemand pmfs (same process)
    from zk_forecast.demand.distributions import LeadTimeDemand
    from zk_forecast.inventory.policy import compound_mixture_pmfs, mix_lead_times

    rng = np.random.default_rng(5)
    n, t = 30, 80
    y = ((rng.random((n, t)) < rng.uniform(0.05, 0.8, n)[:, None]) * rng.geometric(0.3, (n, t))).astype(float)
    est = LeadTimeDemand().fit(y)
    w = rng.dirichlet(np.ones(5), n) * (rng.random((n, 1)) < 0.7)
    w[w.sum(axis=1) == 0, 3] = 1.0  # some series with a fixed lead time of 3 periods
    w[0] = [1, 0, 0, 0, 0]  # L = 0
    for R in (1, 2):
        a, b, f = compound_mixture_pmfs(est.p_, est.size_pmf_, w, R)
        a0, b0 = mix_lead_times(est.pmf, w, R)
        f0 = est.pmf(np.full(n, R))
        for got, want in ((a, a0), (b, b0), (f, f0)):
            k = max(got.shape[1], want.shape[1])
            np.testing.assert_allclose(np.pad(got, ((0, 0), (0, k - got.shape[1]))),
                                       np.pad(want, ((0, 0), (0, k - want.shape[1]))), atol=5e-9)
            # (both fold an upper tail of at most 1e-9 into their last bin: one after mixing, one per lead time)
        np.testing.assert_allclose(a.sum(axis=1), 1.0)
        assert b[0, 0] == 1.0


def test_compound_mixture_level_hand_computed() -> None:
    # p = 1, size 1, L = 0, R = 1; level 0.5 → Bernoulli(0.5); level 1.5 → size 1.5 split 1/2 half-half.
    # Mixture with weights 1/2: P(D_R = 0, 1, 2) = (0.25, 0.5, 0.25).
    lr, lo, r = compound_mixture_pmfs([1.0], [[0.0, 1.0]], [[1.0]], 1, level_multipliers=[[0.5, 1.5]],
                                      level_weights=[[0.5, 0.5]])
    np.testing.assert_allclose(r[0, :3], [0.25, 0.5, 0.25], atol=1e-12)
    np.testing.assert_allclose(lr[0, :3], [0.25, 0.5, 0.25], atol=1e-12)
    assert lo[0, 0] == pytest.approx(1.0)


def test_compound_mixture_level_is_weighted_sum_and_ones_change_nothing() -> None:
    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.9, 4)
    sz = np.c_[np.zeros(4), rng.random((4, 5))]
    sz /= sz.sum(axis=1, keepdims=True)
    w = np.zeros((4, 4))
    w[np.arange(4), [0, 1, 2, 3]] = 1.0
    plain = compound_mixture_pmfs(p, sz, w, 2)
    ones = compound_mixture_pmfs(p, sz, w, 2, level_multipliers=np.ones((4, 3)), level_weights=np.full((4, 3), 1 / 3))
    for a, b in zip(plain, ones, strict=True):
        np.testing.assert_allclose(b[:, :a.shape[1]], a, rtol=0, atol=1e-13)
    m = np.array([[0.5, 1.0, 2.0]] * 4)
    wt = np.array([[0.2, 0.5, 0.3]] * 4)
    mixed = compound_mixture_pmfs(p, sz, w, 2, level_multipliers=m, level_weights=wt)
    for i in range(3):
        ref = sum(wt[0, j] * _padded(compound_mixture_pmfs(*scale_level(p, sz, m[:, j]), w, 2)[i], 60)
                  for j in range(3))
        np.testing.assert_allclose(_padded(mixed[i], 60), ref, atol=1e-9)
    with pytest.raises(ZkValueError, match="both"):
        compound_mixture_pmfs(p, sz, w, 2, level_multipliers=m)


def _padded(a: np.ndarray, K: int) -> np.ndarray:
    return np.pad(a, ((0, 0), (0, K - a.shape[1])))


def test_add_undershoot_equals_numpy_convolve_row_by_row() -> None:
    # rows of different supports (some undershoots trivial, one wider than the demand pmf)
    rng = np.random.default_rng(3)
    a = rng.random((40, 90))
    a[:, 60:] = 0.0
    a[5, 10:] = 0.0
    a /= a.sum(axis=1, keepdims=True)
    j = rng.random((40, 120))
    j[:10, 1:] = 0.0  # J = 0: the demand pmf itself
    j[10:20, 7:] = 0.0
    j /= j.sum(axis=1, keepdims=True)
    out = add_undershoot(a, j)
    assert out.shape == (40, 90 + 120 - 1)
    for i in range(40):
        ref = np.convolve(a[i], j[i])
        np.testing.assert_allclose(out[i], ref, rtol=1e-13, atol=1e-16)
