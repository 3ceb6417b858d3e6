"""Hand-worked cases of the simulator's event order (zk_forecast.inventory.simulate).

Each table lists, per period t: start on hand after receipt, backorders served, demand, served at once,
end on hand OH, end backorders BO, inventory position IP at review, order placed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.simulate import simulate, simulate_policy


def test_base_stock_lead_time_one() -> None:
    # s=1, S=2, L=1 (order in t available from t+2), start OH=2.
    # t | recv | OH after recv | demand | served | OH | BO | IP=OH+OO-BO | order | arrives
    # 0 |  0   | 2             | 1      | 1      | 1  | 0  | 1 <= 1      | 1     | t=2
    # 1 |  0   | 1             | 2      | 1      | 0  | 1  | 0+1-1=0     | 2     | t=3
    # 2 |  1   | 1 → BO served 1 → 0 | 0 | 0   | 0  | 0  | 0+2-0=2     | -     |
    # 3 |  2   | 2             | 0      | 0      | 2  | 0  | 2           | -     |
    r = simulate_policy([[1, 2, 0, 0]], [1], [2], [1])
    np.testing.assert_array_equal(r.on_hand[0], [1, 0, 0, 2])
    np.testing.assert_array_equal(r.backorders[0], [0, 1, 0, 0])
    assert r.items["served"].iloc[0] == 2 and r.items["fill_rate"].iloc[0] == pytest.approx(2 / 3)
    assert r.items["orders"].iloc[0] == 2 and r.items["units_ordered"].iloc[0] == 3
    # cycle ends: review t0 → end t0 + L + R = t0 + 2: periods 2, 3 both end without backorders
    assert r.items["cycle_service"].iloc[0] == 1.0
    assert r.items["avg_on_hand"].iloc[0] == pytest.approx(3 / 4)


def test_lead_time_zero_arrives_next_period() -> None:
    # s=0, S=1, L=0: order at t available at t+1.
    # t | OH start | demand | OH | IP | order
    # 0 | 1        | 1      | 0  | 0  | 1 (arrives t=1)
    # 1 | 1        | 1      | 0  | 0  | 1
    r = simulate_policy([[1, 1]], [0], [1], [0])
    np.testing.assert_array_equal(r.on_hand[0], [0, 0])
    assert r.items["fill_rate"].iloc[0] == 1.0


def test_backorders_served_before_new_demand() -> None:
    # s=-1, S=0, L=0, start OH 0: all demand is backordered, order each period arrives next period.
    # t | recv | BO start | served BO | demand | served now | BO end | IP | order
    # 0 | 0    | 0        | 0         | 2      | 0          | 2      | -2 | 2
    # 1 | 2    | 2        | 2         | 1      | 0          | 1      | -1 | 1
    # 2 | 1    | 1        | 1         | 0      | 0          | 0      | 0  | -
    r = simulate_policy([[2, 1, 0]], [-1], [0], [0])
    np.testing.assert_array_equal(r.backorders[0], [2, 1, 0])
    assert r.items["served"].iloc[0] == 0 and r.items["units_ordered"].iloc[0] == 3


def test_pack_and_moq_rounding() -> None:
    # s=2, S=5, start OH 5, demand 4 at t=0: IP 1 → S - IP = 4, MOQ 6 → 6, pack 4 → 8.
    r = simulate_policy([[4, 0, 0]], [2], [5], [1], moq=6, pack_size=4)
    assert r.items["units_ordered"].iloc[0] == 8
    np.testing.assert_array_equal(r.on_hand[0], [1, 1, 9])  # arrives t = 0 + 1 + 1


def test_review_period_two() -> None:
    # R=2: reviews at t = 1, 3. s=1, S=3, L=0, start OH 3.
    # t | demand | OH | review? | IP | order (arrives)
    # 0 | 2      | 1  | no      |    |
    # 1 | 0      | 1  | yes     | 1  | 2 (t=2)
    # 2 | 1      | 2  | no      |    |
    # 3 | 1      | 1  | yes     | 1  | 2 (t=4)
    r = simulate_policy([[2, 0, 1, 1]], [1], [3], [0], review_period=2)
    np.testing.assert_array_equal(r.on_hand[0], [1, 1, 2, 1])
    assert r.items["orders"].iloc[0] == 2


def test_totals_and_value() -> None:
    r = simulate_policy([[1, 0], [0, 0]], [0, 0], [1, 1], [0, 0], unit_cost=[10.0, 2.0])
    assert r.total["fill_rate"] == 1.0
    assert np.isnan(r.items["fill_rate"].iloc[1])  # no demand
    # series 0: OH 0 then 1 (order arrives t=1) → avg 0.5 × 10; series 1: 1 × 2
    assert r.total["avg_on_hand_value"] == pytest.approx(5.0 + 2.0)


def test_bad_input() -> None:
    with pytest.raises(ZkValueError, match="pack_size"):
        simulate_policy([[1]], [0], [1], [0], pack_size=0)
    with pytest.raises(ZkValueError, match="order_up_to must exceed"):
        simulate_policy([[1]], [1], [1], [0])
    with pytest.raises(ZkValueError, match="lead_time"):
        simulate_policy([[1]], [0], [1], [-1])


def test_simulate_frames() -> None:
    pol = pd.DataFrame({"reorder_point": [0], "order_up_to": [1], "lead_time": [0]}, index=["A|YC01"])
    dem = pd.DataFrame([[1, 1]], index=["A|YC01"])
    assert simulate(pol, dem).total["fill_rate"] == 1.0
    with pytest.raises(ZkValueError, match="without a policy"):
        simulate(pol, pd.DataFrame([[1]], index=["B|YC01"]))


def test_warmup_periods_are_replayed_but_not_measured() -> None:
    # The case of test_base_stock_lead_time_one (s=1, S=2, L=1, demand 1, 2, 0, 0) with warmup=1:
    # period 0 still happens (order of 1 placed, arrives t=2) but only periods 1..3 are measured.
    # measured: demand 2 (t=1), served at once 1; orders: t=1 only (2 units); OH end 0, 0, 2 → 2/3;
    # cycle ends t = t0 + 2 with t0 >= 0 and t >= 1: t = 2, 3, both without backorders.
    r = simulate_policy([[1, 2, 0, 0]], [1], [2], [1], warmup=1)
    np.testing.assert_array_equal(r.on_hand[0], [1, 0, 0, 2])  # the full replay is kept
    it = r.items.iloc[0]
    assert it["demand"] == 2 and it["served"] == 1 and it["fill_rate"] == pytest.approx(0.5)
    assert it["orders"] == 1 and it["units_ordered"] == 2
    assert it["avg_on_hand"] == pytest.approx(2 / 3) and it["cycle_service"] == 1.0
    # backorders carried in from the warm-up are served first and count neither as demand nor as served:
    # s=-1, S=0, L=0, demand 2, 1: t=0 backorders 2 (warm-up); t=1 receives 2, serves the backorder, then the
    # demand of 1 waits → measured demand 1, served 0.
    r2 = simulate_policy([[2, 1]], [-1], [0], [0], warmup=1)
    assert r2.items["demand"].iloc[0] == 1 and r2.items["served"].iloc[0] == 0


@pytest.mark.parametrize("bad", [-1, 4, 1.5, True])
def test_warmup_must_leave_periods(bad: object) -> None:
    with pytest.raises(ZkValueError, match="warmup"):
        simulate_policy([[1, 2, 0, 0]], [1], [2], [1], warmup=bad)  # type: ignore[arg-type]


def test_orders_do_not_depend_on_the_level() -> None:
    # Started at position S, the position minus S follows demand and S - s (with pack and MOQ) only: shifting
    # s and S together moves on hand but places the same orders (why two methods with the same lot sizes report
    # the same order counts in bench_inventory).
    rng = np.random.default_rng(3)
    d = rng.poisson(2.0, (20, 60)) * (rng.random((20, 60)) < 0.4)
    s = rng.integers(0, 10, 20)
    q = rng.integers(1, 8, 20)
    lt = rng.integers(0, 5, 20)
    a = simulate_policy(d, s, s + q, lt, pack_size=3, moq=4)
    b = simulate_policy(d, s + 7, s + 7 + q, lt, pack_size=3, moq=4)
    np.testing.assert_array_equal(a.items["orders"], b.items["orders"])
    np.testing.assert_array_equal(a.items["units_ordered"], b.items["units_ordered"])
    assert (b.items["fill_rate"] >= a.items["fill_rate"] - 1e-12).all()
