"""Cost-optimal policies: newsvendor level, Zheng-Federgruen (s, S), Federgruen-Zheng Poisson (r, Q)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.costpolicy import (
    newsvendor_cost,
    newsvendor_level,
    optimal_poisson_rq,
    optimal_ss,
    poisson_rq_cost,
    ss_cost,
)
from zk_forecast.inventory.policy import critical_ratio

POISSON6 = stats.poisson.pmf(np.arange(60), 6.0)


def test_newsvendor_normal_snyder_shen_example_4_3() -> None:
    """Snyder & Shen (2019), *Fundamentals of Supply Chain Theory* 2nd ed., Example 4.3: h = 0.18, p = 0.70,
    D ~ N(50, 8^2): S* = 56.6040 (also stockpyl's documented ``newsvendor_normal`` output 56.60395592743389).
    The approximation 1 - h/p used before gave 55.2."""
    ratio = float(critical_ratio(0.18, 0.70))
    assert stats.norm.ppf(ratio, 50, 8) == pytest.approx(56.60395592743389, rel=1e-9)


def test_newsvendor_poisson_snyder_shen_example_4_7() -> None:
    """Snyder & Shen (2019) Example 4.7: D ~ Poisson(6), h = 1, p = 4: S* = 8, g(S*) = 3.5701069457709416 and
    g(5) = 6.590296024616343 (stockpyl's documented ``newsvendor_discrete`` outputs)."""
    assert int(newsvendor_level(POISSON6, 1.0, 4.0)[0]) == 8
    g = newsvendor_cost(np.array([[8, 5]]), POISSON6, 1.0, 4.0)[0]
    assert g[0] == pytest.approx(3.5701069457709416, rel=1e-10)
    assert g[1] == pytest.approx(6.590296024616343, rel=1e-10)


def test_newsvendor_level_is_the_cost_minimiser() -> None:
    # brute force over every level of G on a lumpy pmf, several cost pairs
    pmf = np.array([0.5, 0.1, 0.0, 0.25, 0.05, 0.1])
    for h, b in [(1.0, 1.0), (1.0, 9.0), (3.0, 1.0), (0.0, 1.0)]:
        levels = np.arange(-3, 9)
        g = newsvendor_cost(levels[None, :], pmf, h, b)[0]
        assert g[levels == newsvendor_level(pmf, h, b)[0]][0] == pytest.approx(g.min())


def test_newsvendor_cost_below_zero_is_linear() -> None:
    # y < 0: nothing on hand, E[(D - y)^+] = E[D] - y → G(y) = b (E[D] - y) (hand calculation: 4 · (6 + 2) = 32)
    assert newsvendor_cost(np.array([[-2]]), POISSON6, 1.0, 4.0)[0, 0] == pytest.approx(32.0)


def test_zheng_federgruen_snyder_shen_example_4_7() -> None:
    """Snyder & Shen (2019) Example 4.7 (solved with Algorithm 4.2, Zheng & Federgruen 1991): Poisson(6) demand per
    period, h = 1, p = 4, K = 5, no lead time: (s, S) = (4, 10), g = 8.034111561471642 (stockpyl's documented
    ``s_s_discrete_exact`` and ``s_s_cost_discrete`` outputs)."""
    s, S, c = optimal_ss(POISSON6, holding_cost=1.0, backorder_cost=4.0, order_cost=5.0)
    assert (int(s[0]), int(S[0])) == (4, 10)
    assert c[0] == pytest.approx(8.034111561471642, rel=1e-10)
    assert ss_cost(4, 10, POISSON6, holding_cost=1.0, backorder_cost=4.0, order_cost=5.0)[0] == pytest.approx(
        8.034111561471642, rel=1e-10)


def _brute_ss(f: np.ndarray, p: np.ndarray, h: float, b: float, K: float) -> tuple[int, int, float]:
    best = (0, 0, math.inf)
    for s, S in itertools.product(range(-6, 30), range(-5, 40)):
        if S <= s:
            continue
        c = float(ss_cost(s, S, f, p, holding_cost=h, backorder_cost=b, order_cost=K)[0])
        if c < best[2] - 1e-12:
            best = (s, S, c)
    return best


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_zheng_federgruen_matches_brute_force(seed: int) -> None:
    # random lumpy per-period pmf, lead time 0..2 periods (D_{L+1} = (L+1)-fold convolution), random costs
    rng = np.random.default_rng(seed)
    f = rng.dirichlet(np.ones(5) * 0.7)
    f = np.concatenate((f, np.zeros(1)))
    L = int(rng.integers(0, 3))
    p = f.copy()
    for _ in range(L):
        p = np.convolve(p, f)
    h, b, K = float(rng.uniform(0.2, 2)), float(rng.uniform(1, 20)), float(rng.uniform(0, 30))
    s, S, c = optimal_ss(f, p, holding_cost=h, backorder_cost=b, order_cost=K)
    _, _, c_brute = _brute_ss(f, p, h, b, K)
    assert c[0] == pytest.approx(c_brute, rel=1e-9, abs=1e-12)
    assert ss_cost(s, S, f, p, holding_cost=h, backorder_cost=b, order_cost=K)[0] == pytest.approx(c[0])


def test_optimal_ss_rows_are_independent_and_zero_demand_is_not_stocked() -> None:
    f = np.vstack([POISSON6, np.r_[1.0, np.zeros(59)], stats.poisson.pmf(np.arange(60), 2.0)])
    s, S, c = optimal_ss(f, holding_cost=1.0, backorder_cost=4.0, order_cost=[5.0, 5.0, 1.0])
    assert (int(s[0]), int(S[0])) == (4, 10)
    assert (int(s[1]), int(S[1]), float(c[1])) == (-1, 0, 0.0)
    s2, S2, _ = optimal_ss(f[2], holding_cost=1.0, backorder_cost=4.0, order_cost=1.0)
    assert (int(s[2]), int(S[2])) == (int(s2[0]), int(S2[0]))


def test_no_order_cost_gives_base_stock_at_the_newsvendor_level() -> None:
    s, S, _ = optimal_ss(POISSON6, holding_cost=1.0, backorder_cost=4.0, order_cost=0.0)
    assert int(S[0]) == 8 and int(s[0]) == 7


def test_poisson_rq_cost_hand_calculation() -> None:
    # D_L ~ Poisson(1): G(0) = b E[D] = 4; G(1) = h P(D = 0) + b (E[D] - 1 + P(D = 0)) = 5/e (hand calculation)
    # C(r = -1, Q = 2) = (K rate + G(0) + G(1)) / 2 with K = 3, rate = 1
    c = poisson_rq_cost(-1, 2, 1.0, 1.0, holding_cost=1.0, backorder_cost=4.0, order_cost=3.0)
    assert c[0] == pytest.approx((3.0 + 4.0 + 5.0 / math.e) / 2)


@pytest.mark.parametrize("rate,lead,h,b,K", [(1.0, 1.0, 1.0, 4.0, 3.0), (5.0, 2.0, 0.5, 10.0, 40.0),
                                             (0.3, 4.0, 2.0, 50.0, 15.0), (12.0, 0.5, 1.0, 9.0, 64.0)])
def test_federgruen_zheng_rq_matches_brute_force(rate: float, lead: float, h: float, b: float, K: float) -> None:
    r, Q, c = optimal_poisson_rq(rate, lead, holding_cost=h, backorder_cost=b, order_cost=K)
    grid = [(rr, qq) for rr in range(-10, 60) for qq in range(1, 80)]
    costs = poisson_rq_cost([g[0] for g in grid], [g[1] for g in grid], np.full(len(grid), rate), lead,
                            holding_cost=h, backorder_cost=b, order_cost=K)
    assert c[0] == pytest.approx(costs.min(), rel=1e-10)
    assert poisson_rq_cost(r, Q, rate, lead, holding_cost=h, backorder_cost=b, order_cost=K)[0] == \
        pytest.approx(c[0])


def test_rq_without_order_cost_is_base_stock() -> None:
    # K = 0: Q = 1 and r + 1 is the newsvendor level of Poisson(rate * L) with ratio b / (b + h)
    r, Q, _ = optimal_poisson_rq(6.0, 1.0, holding_cost=1.0, backorder_cost=4.0, order_cost=0.0)
    assert int(Q[0]) == 1 and int(r[0]) + 1 == 8


def test_bad_inputs_name_the_rule() -> None:
    with pytest.raises(ZkValueError, match="sum to 1"):
        optimal_ss([0.5, 0.2], holding_cost=1.0, backorder_cost=1.0, order_cost=1.0)
    with pytest.raises(ZkValueError, match="backorder_cost"):
        optimal_ss(POISSON6, holding_cost=1.0, backorder_cost=0.0, order_cost=1.0)
    with pytest.raises(ZkValueError, match="S must be above s"):
        ss_cost(5, 5, POISSON6, holding_cost=1.0, backorder_cost=1.0, order_cost=1.0)
    with pytest.raises(ZkValueError, match="rate"):
        optimal_poisson_rq(0.0, 1.0, holding_cost=1.0, backorder_cost=1.0, order_cost=1.0)
