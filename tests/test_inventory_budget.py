"""Budget curve by marginal analysis (Sherbrooke 2004, ch. 2): a hand-worked example and monotonicity properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.budget import budget_curve
from zk_forecast.inventory.policy import base_stock_fill_rate, expected_backorders


def test_hand_worked_two_parts() -> None:
    """Hand calculation.

    Part A: 100 CNY, demand 0/1/2 w.p. 0.5/0.3/0.2 -> EBO(0) = 0.7, Δ(0) = P(D>0) = 0.5, Δ(1) = P(D>1) = 0.2.
    Part B: 50 CNY, demand 0/1 w.p. 0.6/0.4 -> EBO(0) = 0.4, Δ(0) = 0.4.
    Ratios per yuan: B0 0.008 > A0 0.005 > A1 0.002, so the curve is B, A, A.
    Fill rate with no lead time (1 - EBO/E[D]), weights 0.7 and 0.4: after B: 0.4/1.1; after A: (0.7 × (1 - 0.2/0.7)
    + 0.4)/1.1 = 0.9/1.1; after the second A: 1.
    """
    c = budget_curve([[0.5, 0.3, 0.2], [0.6, 0.4, 0.0]], [100.0, 50.0], ids=["A", "B"])
    f = c.frame
    assert f["investment"].tolist() == [0.0, 50.0, 150.0, 250.0]
    assert f["unique_id"].tolist()[1:] == ["B", "A", "A"]
    assert f["backorders"].to_numpy() == pytest.approx([1.1, 0.7, 0.2, 0.0], abs=1e-12)
    assert f["fill_rate"].to_numpy() == pytest.approx([0.0, 0.4 / 1.1, 0.9 / 1.1, 1.0])
    assert f["ratio"].to_numpy()[1:] == pytest.approx([0.008, 0.005, 0.002])
    assert c.allocation(120).to_dict() == {"A": 0, "B": 1}
    assert c.allocation(150).to_dict() == {"A": 1, "B": 1}
    assert c.allocation(1e6).to_dict() == {"A": 2, "B": 1}
    assert c.least_investment(0.8) == 150.0
    assert c.least_investment(0.3) == 50.0
    with pytest.raises(ZkValueError, match="below the starting"):
        c.allocation(-1)


def _poisson_pmfs(lams: np.ndarray, K: int = 40) -> np.ndarray:
    p = stats.poisson.pmf(np.arange(K)[None, :], lams[:, None])
    return p / p.sum(axis=1, keepdims=True)


def test_greedy_order_equals_unit_by_unit_greedy() -> None:
    """The sorted order is the order a loop adding one unit at a time would take (convex curves)."""
    rng = np.random.default_rng(11)
    lam = rng.uniform(0.1, 4.0, 12)
    cost = rng.uniform(10, 500, 12)
    pmf = _poisson_pmfs(lam, 30)
    c = budget_curve(pmf, cost)
    S = np.zeros(12, dtype=np.int64)
    for step in range(60):  # reference: the textbook loop
        gain = expected_backorders(pmf, S) - expected_backorders(pmf, S + 1)
        i = int(np.argmax(gain / cost))
        assert c.frame["unique_id"].iloc[step + 1] == i
        S[i] += 1


def test_periodic_fill_rate_matches_the_policy_kernel() -> None:
    lam_r = np.array([0.3, 1.2, 2.0])
    L = np.array([2, 1, 3])
    pmf_lr = _poisson_pmfs(lam_r * (L + 1))
    pmf_l = _poisson_pmfs(lam_r * L)
    c = budget_curve(pmf_lr, [10.0, 20.0, 5.0], pmf_l=pmf_l, mean_r=lam_r, ids=["a", "b", "c"])
    for budget in (0, 40, 150, 400):
        S = c.allocation(budget).to_numpy()
        fr = base_stock_fill_rate(pmf_lr, pmf_l, lam_r, S)
        j = int(np.searchsorted(c.frame["investment"], budget + 1e-9, side="right") - 1)
        assert c.frame["fill_rate"].iloc[j] == pytest.approx(float(lam_r @ fr / lam_r.sum()), abs=1e-9)
        assert c.frame["investment"].iloc[j] == pytest.approx(float(S @ [10.0, 20.0, 5.0]))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(0, 10_000), st.lists(st.floats(0, 3000), min_size=2, max_size=6))
def test_more_budget_never_lowers_the_fill_rate(n: int, seed: int, budgets: list[float]) -> None:
    rng = np.random.default_rng(seed)
    raw = rng.dirichlet(np.full(8, 0.4), size=n)  # arbitrary demand pmfs, lumpy included
    cost = rng.choice([0.0, 5.0, 80.0, 600.0], size=n)
    c = budget_curve(raw, cost)
    fr = c.frame["fill_rate"].to_numpy()
    assert np.all(np.diff(fr) >= -1e-12)
    assert np.all(np.diff(c.frame["backorders"].to_numpy()) <= 1e-12)
    achieved = []
    for b in sorted(budgets):
        S = c.allocation(b).to_numpy()
        mean = raw @ np.arange(8)
        fr_b = base_stock_fill_rate(raw, np.ones((n, 1)), mean, S)
        achieved.append(float(mean @ fr_b / mean.sum()) if mean.sum() > 0 else 1.0)
        assert float(cost @ S) <= b + 1e-6
    assert np.all(np.diff(achieved) >= -1e-12)


def test_least_investment_is_the_first_point_reaching_the_target() -> None:
    pmf = _poisson_pmfs(np.array([0.5, 1.0, 3.0]))
    c = budget_curve(pmf, [100.0, 30.0, 8.0])
    inv = c.least_investment(0.95)
    f = c.frame
    assert f.loc[f["investment"] == inv, "fill_rate"].iloc[0] >= 0.95
    assert (f.loc[f["investment"] < inv, "fill_rate"] < 0.95).all()
    with pytest.raises(ZkValueError, match="not reachable"):
        budget_curve(pmf, [1.0, 1.0, 1.0], s_max=1).least_investment(0.99)


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ZkValueError, match="unit_cost"):
        budget_curve([[0.5, 0.5]], [-1.0])
    with pytest.raises(ZkValueError, match="sum to 1"):
        budget_curve([[0.5, 0.4]], [1.0])


def test_repr_and_plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    c = budget_curve(_poisson_pmfs(np.array([0.5, 2.0])), [10.0, 30.0], ids=["x|YC01", "y|PL01"])
    assert "BudgetCurve(2 series" in repr(c)
    assert "<table" in c._repr_html_()
    ax = c.plot(backorders=True)
    assert ax.get_xlabel().startswith("investment")
    assert isinstance(c.summary(), pd.DataFrame)
