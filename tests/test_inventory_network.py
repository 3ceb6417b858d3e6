"""Tests of zk_forecast.inventory.network on a small hand-worked network."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.network import metric_delay, plan_network


def test_metric_delay_by_hand() -> None:
    # λ0 = 1, L0 = 2, S0 = 2: X ~ Poisson(2), EBO = E[X] - S0 + E[(S0 - X)^+] = 2 e^-2 + 1·2 e^-2 = 4 e^-2
    assert metric_delay([1.0], [2.0], [2])[0] == pytest.approx(4 * np.exp(-2))
    # λ0 = 0.5: EBO = E[(X - 0)^+] = 1 with S0 = 0, delay = 1 / 0.5 = 2 periods = the lead time
    assert metric_delay([0.5], [2.0], [0])[0] == pytest.approx(2.0)
    assert metric_delay([0.0], [2.0], [0])[0] == 0.0


def _net() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    demand = pd.DataFrame({"part_no": ["P1", "P1", "P1", "P2", "P2"], "depot_id": ["YC01", "PL", "GY", "PL", "GY"],
                           "rate": [0.5, 0.5, 0.5, 0.2, 0.1]})
    parts = pd.DataFrame({"lead_time": [2, 4], "wear_list": [True, False]}, index=["P1", "P2"])
    depots = pd.DataFrame({"role": ["central", "branch", "branch"], "transfer_time": [0, 1, 2],
                           "transfer_days": [0, 2, 6]}, index=["YC01", "PL", "GY"])
    return demand, parts, depots


def test_stocking_follows_promises() -> None:
    out = plan_network(*_net())
    # P1 is on the wear list (5 days): PL is 2 days from Yinchuan (+ a small METRIC delay) → central;
    # GY is 6 days away > 5 → stocked at the branch. P2 (15 days) is served centrally from both branches.
    assert out.loc[("P1", "PL"), "reason"] == "central" and not out.loc[("P1", "PL"), "stocked"]
    assert out.loc[("P1", "GY"), "reason"] == "promise" and out.loc[("P1", "GY"), "order_up_to"] >= 1
    assert out.loc[("P2", "GY"), "reason"] == "central"
    assert out.loc[("P2", "YC01"), "stocked"]  # central row added for a part demanded only at branches
    # central delay = METRIC with λ0 = 1.5, L0 = 2 and the central base stock
    S0 = out.loc[("P1", "YC01"), "order_up_to"]
    assert out.loc[("P1", "GY"), "central_delay"] == pytest.approx(metric_delay([1.5], [2], [S0])[0])
    assert out.loc[("P1", "GY"), "lead_time"] == pytest.approx(2 + out.loc[("P1", "GY"), "central_delay"])


def test_bad_network_input() -> None:
    d, p, dep = _net()
    with pytest.raises(ZkValueError, match="exactly one role 'central'"):
        plan_network(d, p, dep.assign(role="branch"))
    with pytest.raises(ZkValueError, match="'P9'"):
        plan_network(pd.concat([d, pd.DataFrame({"part_no": ["P9"], "depot_id": ["PL"], "rate": [1.0]})]), p, dep)


def test_poisson_pmf_equals_scipy_over_a_wide_range_of_means() -> None:
    # reference: scipy.stats.poisson.pmf on the same grid, the tail folded into the last bin as poisson_pmf does
    from scipy import stats

    from zk_forecast.inventory.network import poisson_pmf

    mu = np.r_[0.0, 1e-6, np.random.default_rng(2).gamma(0.3, 3.0, 9000), 40.0, 850.0]
    got = poisson_pmf(mu)
    ref = stats.poisson.pmf(np.arange(got.shape[1])[None, :], mu[:, None])
    ref[:, -1] += np.maximum(1.0 - ref.sum(axis=1), 0.0)
    # each block of similar means is cut at its own 1 - 1e-10 quantile: cells differ by at most that tail
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
    assert got[0, 0] == 1.0
