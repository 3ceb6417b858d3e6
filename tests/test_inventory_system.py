"""System targets: plan(objective="system"), the budget curve on the same engine, on-time service."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zk_forecast.errors import ZkValueError
from zk_forecast.inventory import budget_curve, plan, simulate_policy
from zk_forecast.inventory.system import LevelTables, _hull_blocks, allocate, level_tables


def _history(rates: np.ndarray, T: int = 104, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """Long weekly Poisson history of ``len(rates)`` items (ids i0, i1, ...) and the wide array."""
    rng = np.random.default_rng(seed)
    y = rng.poisson(rates[:, None], (rates.size, T)).astype(np.float64)
    ds = pd.date_range("2024-01-01", periods=T, freq="W-MON")
    ids = [f"i{i}" for i in range(rates.size)]
    long = pd.DataFrame({"unique_id": np.repeat(ids, T), "ds": np.tile(ds, rates.size), "y": y.ravel()})
    return long, y


def _items(n: int, cost: np.ndarray, lead: int = 2, **cols: object) -> pd.DataFrame:
    return pd.DataFrame({"lead_time": lead, "unit_cost": cost, **cols}, index=[f"i{i}" for i in range(n)])


@pytest.fixture(scope="module")
def ten() -> tuple[pd.DataFrame, pd.DataFrame]:
    rates = np.array([0.2, 0.5, 1.0, 2.0, 4.0, 0.1, 0.8, 3.0, 1.5, 0.3])
    cost = np.array([500.0, 20.0, 80.0, 5.0, 12.0, 900.0, 150.0, 2.0, 40.0, 300.0])
    long, _ = _history(rates)
    return long, _items(10, cost)


def _system_fill(pol: pd.DataFrame) -> float:
    """The demand-weighted expected fill rate of all items, as plan reports it (weights: the fitted pmfs)."""
    g = pol.attrs["groups"]
    return float((g["expected_fill_rate"] * g["forecast_demand"]).sum() / g["forecast_demand"].sum())


def test_two_items_the_cheap_one_carries_the_service() -> None:
    # hand check: same demand, one part 100x dearer; the cheapest way to 90 % over both is to fill the cheap one
    # (nearly) completely and hold less of the dear one than a per-item 90 % would
    long, _ = _history(np.array([1.0, 1.0]))
    items = _items(2, np.array([1.0, 100.0]))
    sys_ = plan(long, items, fill_rate=0.9, objective="system")
    per = plan(long, items, fill_rate=0.9)
    assert sys_.loc["i0", "order_up_to"] > per.loc["i0", "order_up_to"]
    assert sys_.loc["i1", "order_up_to"] < per.loc["i1", "order_up_to"]
    assert _system_fill(sys_) >= 0.9 - 1e-12
    assert sys_["expected_on_hand_value"].sum() < per["expected_on_hand_value"].sum()
    g = sys_.attrs["groups"]
    mu = sys_["forecast_demand"].to_numpy()  # the group's weights are the fitted distributions' means
    assert g.loc["all", "expected_fill_rate"] == pytest.approx(
        (mu * sys_["expected_fill_rate"].to_numpy()).sum() / mu.sum(), abs=1e-12)
    assert bool(g.loc["all", "reached"])


def test_system_meets_target_with_less_money_than_per_item(ten: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    long, items = ten
    for tg in (0.85, 0.9, 0.95, 0.98):
        per = plan(long, items, fill_rate=tg)
        reached = _system_fill(per)
        sys_ = plan(long, items, fill_rate=min(reached, 0.999), objective="system")
        assert _system_fill(sys_) >= min(reached, 0.999) - 1e-12
        # never more money than the per-item plan at the same expected system fill rate (module notes: the greedy
        # may pass the target by one hull step; its largest step costs less than the saving here)
        assert sys_["expected_on_hand_value"].sum() <= per["expected_on_hand_value"].sum() + 1e-6


def test_higher_target_never_lowers_a_level(ten: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    long, items = ten
    prev = None
    prev_fill = 0.0
    for tg in (0.5, 0.7, 0.8, 0.9, 0.95, 0.99):
        pol = plan(long, items, fill_rate=tg, objective="system")
        fill = _system_fill(pol)
        assert fill >= prev_fill - 1e-12  # more budget never lowers the system fill rate
        if prev is not None:
            assert (pol["order_up_to"].to_numpy() >= prev).all()
        prev, prev_fill = pol["order_up_to"].to_numpy(), fill


def test_groups_each_keep_their_own_promise(ten: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    long, items = ten
    items = items.assign(group=["YC01|wear"] * 5 + ["PL01|other"] * 5)
    pol = plan(long, items, fill_rate={"YC01|wear": 0.97, "PL01|other": 0.85}, objective="system")
    g = pol.attrs["groups"]
    assert list(g.index) == ["PL01|other", "YC01|wear"]
    assert g.loc["YC01|wear", "expected_fill_rate"] >= 0.97 - 1e-12
    assert g.loc["PL01|other", "expected_fill_rate"] >= 0.85 - 1e-12
    assert set(pol["group"]) == {"YC01|wear", "PL01|other"}
    assert (pol.loc[pol["group"] == "YC01|wear", "target"] == 0.97).all()
    # raising one group's target never lowers a level in that group and leaves the other group alone
    hi = plan(long, items, fill_rate={"YC01|wear": 0.99, "PL01|other": 0.85}, objective="system")
    w = (pol["group"] == "YC01|wear").to_numpy()
    assert (hi["order_up_to"].to_numpy()[w] >= pol["order_up_to"].to_numpy()[w]).all()
    assert (hi["order_up_to"].to_numpy()[~w] == pol["order_up_to"].to_numpy()[~w]).all()


def test_floor_keeps_an_expensive_part_stocked(ten: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    long, items = ten
    free = plan(long, items, fill_rate=0.9, objective="system")
    assert free.loc["i5", "expected_fill_rate"] < 0.9  # the 900-yuan slow mover is starved without a floor
    floored = plan(long, items.assign(min_fill_rate=[0.0] * 5 + [0.95] + [0.0] * 4), fill_rate=0.9,
                   objective="system")
    assert floored.loc["i5", "expected_fill_rate"] >= 0.95 - 1e-12


def test_group_without_demand_stocks_nothing() -> None:
    long, _ = _history(np.array([1.0, 2.0]))
    long = pd.concat([long, pd.DataFrame({"unique_id": "i2", "ds": long["ds"].iloc[:5], "y": 0.0})])
    items = _items(3, np.array([10.0, 10.0, 10.0]), group=["a", "a", "b"])
    pol = plan(long, items, fill_rate=0.9, objective="system")
    assert pol.loc["i2", "reorder_point"] == -1 and pol.loc["i2", "order_up_to"] == 0
    assert np.isnan(pol.attrs["groups"].loc["b", "expected_fill_rate"])


def test_on_time_with_promise_zero_is_the_fill_rate(ten: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    long, items = ten
    a = plan(long, items, fill_rate=0.93)
    b = plan(long, items.assign(promise_periods=0), fill_rate=0.93, service="on_time")
    assert (a["order_up_to"] == b["order_up_to"]).all()
    np.testing.assert_allclose(b["expected_fill_rate"], a["expected_fill_rate"], atol=1e-9)
    np.testing.assert_allclose(b["expected_on_hand"], a["expected_on_hand"], atol=1e-9)


def test_on_time_promise_beyond_the_lead_time_needs_no_stock(ten: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    long, items = ten  # lead time 2: an order placed at once arrives within 3 periods
    pol = plan(long, items.assign(promise_periods=3), fill_rate=0.95, service="on_time", objective="system")
    assert (pol["reorder_point"] == -1).all()
    np.testing.assert_allclose(pol["expected_fill_rate"], 1.0)


def test_on_time_promise_matches_the_replay() -> None:
    rates = np.array([0.5, 1.0, 2.0, 3.0, 0.7, 1.4])
    long, _ = _history(rates, T=104)
    items = _items(6, np.array([10.0, 20.0, 5.0, 8.0, 30.0, 12.0]), lead=4, promise_periods=2)
    pol = plan(long, items, fill_rate=0.9, service="on_time", objective="system", half_life=None,
               level_block=None)
    _, future = _history(rates, T=2000, seed=11)
    sim = simulate_policy(future, pol["reorder_point"], pol["order_up_to"], 4, warmup=20, promise_periods=2)
    promised = _system_fill(pol)
    assert sim.total["on_time"] == pytest.approx(promised, abs=0.02)
    assert sim.total["on_time"] >= sim.total["fill_rate"]


def test_system_fill_rate_matches_the_replay() -> None:
    rates = np.array([0.3, 0.8, 1.5, 2.5, 4.0, 0.6, 1.1, 0.2])
    long, _ = _history(rates, T=156)
    items = _items(8, np.array([200.0, 40.0, 15.0, 6.0, 3.0, 90.0, 25.0, 400.0]), lead=3)
    pol = plan(long, items, fill_rate=0.92, objective="system", half_life=None, level_block=None)
    _, future = _history(rates, T=3000, seed=5)
    sim = simulate_policy(future, pol["reorder_point"], pol["order_up_to"], 3, warmup=20,
                          unit_cost=items["unit_cost"])
    assert sim.total["fill_rate"] == pytest.approx(_system_fill(pol), abs=0.015)
    # on hand is the level minus the lead-time demand: a small error in the fitted mean moves it by a larger share
    assert sim.total["avg_on_hand_value"] == pytest.approx(pol["expected_on_hand_value"].sum(), rel=0.15)


def test_budget_curve_points_are_system_plans(ten: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    long, items = ten
    c = budget_curve(long, items)
    f = c.frame
    assert (np.diff(f["fill_rate"].to_numpy()) >= -1e-12).all()
    assert (np.diff(f["investment"].to_numpy()) >= -1e-9).all()
    for j in np.linspace(5, len(f) - 2, 6).astype(int):
        fr = float(f["fill_rate"].iloc[j])
        if not 0 < fr < 1 or f["fill_rate"].iloc[j + 1] <= fr + 1e-12:
            continue
        pol = plan(long, items, fill_rate=fr, objective="system")
        alloc = c.allocation(float(f["investment"].iloc[j]))
        assert (pol["order_up_to"].loc[alloc.index].to_numpy() == alloc.to_numpy()).all()
        assert pol["expected_on_hand_value"].sum() == pytest.approx(f["investment"].iloc[j], rel=1e-9, abs=1e-6)


def test_hull_merges_rising_ratios() -> None:
    # one series, levels with fill rate 0, 1, 4, 4.5 (weight 1) and on hand 0, 1, 2, 3 (cost 1): steps (gain, cost)
    # (1, 1), (3, 1), (0.5, 1) have ratios 1, 3, 0.5 -> the first two merge into (4, 2), ratio 2
    ser, length, gain, cost, ratio = _hull_blocks(np.array([0, 4]), np.array([0.0, 1.0, 4.0, 4.5]),
                                                  np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0]), np.array([1.0]))
    assert list(length) == [2, 1] and list(ser) == [0, 0]
    np.testing.assert_allclose(gain, [4.0, 0.5])
    np.testing.assert_allclose(cost, [2.0, 1.0])
    np.testing.assert_allclose(ratio, [2.0, 0.5])
    # a step that buys nothing for nothing leads into the next; equal ratios merge; service at no cost is inf
    ser, length, gain, cost, ratio = _hull_blocks(np.array([0, 5]), np.array([0.0, 0.0, 0.2, 0.4, 0.5]),
                                                  np.array([0.0, 0.0, 0.0, 1.0, 3.0]), np.array([1.0]),
                                                  np.array([1.0]))
    assert list(length) == [2, 1, 1] and ratio[0] == np.inf
    np.testing.assert_allclose(ratio[1:], [0.2, 0.05])


def test_allocate_reaches_the_target_exactly_on_a_hand_example() -> None:
    # two series, fill rate per level given by hand (0, 0.5, 0.9, 1.0) and (0, 0.8, 1.0), on hand 0, 0.5, 1.3, 2.2
    # and 0, 0.3, 1.1; equal demand weights; unit costs 1 and 1. Target 0.85 on average: ratios per step are
    # (0.25/0.5, 0.2/0.8, 0.05/0.9) and (0.4/0.3, 0.1/0.8) -> take B1 (0.4), A1 (0.25), then A2 (0.2) reaches
    # 0.5*(0.9) + 0.5*(0.8) = 0.85.
    tab = LevelTables(np.array([0, 0]), np.array([0, 4, 7]), np.array([0, 0.5, 0.9, 1.0, 0, 0.8, 1.0]),
                      np.zeros(7), np.array([0, 0.5, 1.3, 2.2, 0, 0.3, 1.1]), np.array([1.0, 1.0]))
    level, reached = allocate(tab, np.array([1.0, 1.0]), np.array([0, 0]), np.array([0.85]))
    assert list(level) == [2, 1] and reached.all()


def test_level_tables_floor_and_no_demand() -> None:
    pmf = np.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0]])
    t = level_tables(pmf, np.array([[1.0], [1.0]]), pmf, np.array([1, 1]), np.array([0.6, 0.0]))
    assert t.s_lo[1] == 0 and np.diff(t.offsets)[1] == 1
    assert t.fill_rate[t.offsets[0]] >= 0.6


@pytest.mark.parametrize("kwargs, match", [
    ({"objective": "best"}, "objective"),
    ({"objective": "system", "fill_rate": 1.2}, "strictly between 0 and 1"),
    ({"objective": "system", "fill_rate": {"x": 0.9}}, "no fill-rate target for group 'all'"),
    ({"objective": "system", "service": "cost"}, "service='cost'"),
    ({"service": "on_time"}, "promise_periods"),
])
def test_bad_settings_are_named(ten: tuple[pd.DataFrame, pd.DataFrame], kwargs: dict, match: str) -> None:
    long, items = ten
    with pytest.raises(ZkValueError, match=match):
        plan(long, items, **kwargs)


def test_bad_items_are_named(ten: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    long, items = ten
    with pytest.raises(ZkValueError, match="i3"):
        plan(long, items.assign(unit_cost=[1.0, 2.0, 3.0, np.nan] + [1.0] * 6), objective="system")
    with pytest.raises(ZkValueError, match="min_fill_rate"):
        plan(long, items.assign(min_fill_rate=1.5), objective="system")
    with pytest.raises(ZkValueError, match="unit_cost"):
        plan(long, items.drop(columns="unit_cost"), objective="system")


def test_integer_index_keeps_its_labels_and_order() -> None:
    long, _ = _history(np.array([1.0, 2.0, 0.5]))
    long["unique_id"] = long["unique_id"].str[1:].astype(int)
    items = pd.DataFrame({"lead_time": 1, "unit_cost": 5.0}, index=pd.Index([2, 0, 1]))
    for obj in ("item", "system"):
        pol = plan(long, items, objective=obj)
        assert list(pol.index) == [2, 0, 1] and pol.index.dtype == items.index.dtype
        assert pol["order_up_to"].notna().all()


def test_backtest_puts_the_promise_beside_the_replay() -> None:
    rng = np.random.default_rng(12)
    rates = rng.uniform(0.2, 3.0, 60)
    long, _ = _history(rates, T=156, seed=8)
    items = _items(60, rng.uniform(2.0, 80.0, 60), lead=2, group=["a"] * 30 + ["b"] * 30)
    pol = plan(long, items, fill_rate=0.9, objective="system", half_life=None, level_block=None,
               backtest={"origins": [52, 78, 104], "horizon": 52})
    bt = pol.attrs["backtest"]
    assert list(bt.columns[:4]) == ["origin", "group", "promised", "achieved"]
    assert len(bt) == 6 and set(bt["group"]) == {"a", "b"}
    assert (bt["promised"] >= 0.9 - 1e-9).all()
    # stationary demand: what was promised at each origin is what the next year achieved, within sampling noise
    # (the rates are estimated from 52-104 weeks, so each origin's promise carries the estimates' error)
    assert (bt["achieved"] - bt["promised"]).abs().max() < 0.05
    pooled = (bt["achieved"] * bt["demand"]).sum() / bt["demand"].sum()
    assert pooled == pytest.approx(0.9, abs=0.025)


def test_widening_measures_level_drift_and_raises_stock() -> None:
    from zk_forecast.inventory.calibrate import level_widening

    rng = np.random.default_rng(4)
    steady = rng.poisson(2.0, (300, 104)).astype(np.float64)
    assert level_widening(steady, np.full(300, 3), level_block=None) < 0.02
    # levels that jump every quarter by a factor drawn around 1: the past's errors exceed independent weeks
    jumps = np.repeat(rng.gamma(2.0, 0.5, (300, 8)), 13, axis=1)
    drifting = rng.poisson(2.0 * jumps).astype(np.float64)
    assert level_widening(drifting, np.full(300, 3), level_block=None) > 0.1
    long, _ = _history(np.array([0.5, 1.0, 2.0]))
    items = _items(3, np.array([10.0, 20.0, 5.0]))
    a = plan(long, items, fill_rate=0.95, level_block=None)
    b = plan(long, items, fill_rate=0.95, level_block=None, widen=0.3)
    assert (b["order_up_to"] >= a["order_up_to"]).all() and (b["order_up_to"] > a["order_up_to"]).any()
    assert b.attrs["widening"] == 0.3 and a.attrs["widening"] == 0.0
    with pytest.raises(ZkValueError, match="widen"):
        plan(long, items, widen="sometimes")


def test_evaluate_levels_reproduces_the_plan(ten: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from zk_forecast.inventory.plan import evaluate_levels

    long, items = ten
    for obj in ("item", "system"):
        pol = plan(long, items, fill_rate=0.93, objective=obj)
        ev = evaluate_levels(long, items, pol["order_up_to"], pol["reorder_point"])
        stocked = (pol["order_up_to"] > 0).to_numpy()
        np.testing.assert_allclose(ev["expected_fill_rate"].to_numpy()[stocked],
                                   pol["expected_fill_rate"].to_numpy()[stocked], atol=1e-9)
        np.testing.assert_allclose(ev["expected_on_hand_value"].to_numpy()[stocked],
                                   pol["expected_on_hand_value"].to_numpy()[stocked], rtol=1e-9, atol=1e-9)
        assert ev.attrs["groups"]["expected_fill_rate"].iloc[0] == pytest.approx(
            pol.attrs["groups"]["expected_fill_rate"].iloc[0], abs=1e-9)
    # today's stock as a Series over part of the items: the others hold nothing
    ev = evaluate_levels(long, items, pd.Series({"i0": 2, "i3": 5}))
    assert ev.loc["i1", "order_up_to"] == 0 and ev.loc["i3", "expected_fill_rate"] > 0


def test_system_groups_one_promise_per_depot_and_class() -> None:
    from zk_forecast.inventory.plan import system_groups

    items = pd.DataFrame({"lead_time": 1, "unit_cost": 5.0, "class": ["wear_list", "other", "wear_list"]},
                         index=["A|YC01", "B|YC01", "A|GY01"])
    out, fill = system_groups(items, {"wear_list": 0.95, "other": 0.9}, floor={"wear_list": 0.8})
    assert list(out["group"]) == ["YC01|wear_list", "YC01|other", "GY01|wear_list"]
    assert fill == {"GY01|wear_list": 0.95, "YC01|other": 0.9, "YC01|wear_list": 0.95}
    assert list(out["min_fill_rate"]) == [0.8, 0.0, 0.8]
    with pytest.raises(ZkValueError, match="no target for class 'other'"):
        system_groups(items, {"wear_list": 0.95})


def _harvest_history(end: str, years: int = 3, seed: int = 2) -> pd.DataFrame:
    """Weekly history of one part at two depots ending at ``end``: demand 5x as frequent in weeks 23-43."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(end=pd.Timestamp(end), periods=52 * years, freq="W-MON")
    week = np.minimum((ds.day_of_year.to_numpy() - 1) // 7, 51)
    rate = np.where((week >= 22) & (week <= 42), 2.5, 0.5)
    rows = []
    for depot in ("YC01", "GY01"):
        rows.append(pd.DataFrame({"unique_id": f"CUT01|{depot}", "ds": ds, "y": rng.poisson(rate).astype(float)}))
    return pd.concat(rows, ignore_index=True)


def test_season_ahead_ramps_up_before_harvest_and_down_after() -> None:
    items = pd.DataFrame({"lead_time": 3, "unit_cost": 10.0}, index=["CUT01|YC01", "CUT01|GY01"])
    before = _harvest_history("2026-05-18")  # the next weeks are harvest weeks
    after = _harvest_history("2026-11-02")   # the next weeks are winter
    for hist, direction in ((before, 1), (after, -1)):
        flat = plan(hist, items, fill_rate=0.95, level_block=None)
        seas = plan(hist, items, fill_rate=0.95, level_block=None, season_length=52)
        scale = seas.attrs["season_scale"]
        assert (np.sign(scale - 1.0) == direction).all()
        assert (np.sign(seas["order_up_to"] - flat["order_up_to"]) == direction).all()
        # the demand the promise is weighed by follows the season too
        assert (np.sign(seas["forecast_demand"] - flat["forecast_demand"]) == direction).all()
    # lead time 3 + review 1: the order covers season positions 20-23 (weeks of 2026-05-25 .. 06-15), two low weeks
    # (rate 0.5) and two harvest weeks (2.5) against a year's mean rate of 68/52: true ratio 1.5 / 1.308 = 1.15.
    # The profile's 5-week circular smoothing lifts the two weeks before the harvest, so the index lies between
    # that ratio and the harvest's own (2.5 / 1.308 = 1.91)
    s = plan(before, items, level_block=None, season_length=52).attrs["season_scale"]
    assert 1.15 < float(s.iloc[0]) < 1.91


def test_protection_scale_is_one_without_a_season() -> None:
    from zk_forecast.demand.panel import Panel
    from zk_forecast.inventory.season import protection_scale

    rng = np.random.default_rng(9)
    ds = pd.date_range("2023-01-02", periods=156, freq="W-MON")
    y = rng.poisson(2.0, (40, 156)).astype(float)
    ids = pd.Index([f"P{i}|YC01" for i in range(40)], name="unique_id")
    panel = Panel(y, pd.DataFrame({"part_no": [f"P{i}" for i in range(40)], "depot_id": "YC01"}, index=ids), ds,
                  "W-MON")
    s = protection_scale(panel, np.full(40, 4), season_length=52)
    assert np.abs(s - 1.0).max() < 0.25 and abs(s.mean() - 1.0) < 0.05
    with pytest.raises(ZkValueError, match="season_length"):
        protection_scale(panel, np.full(40, 4), season_length=7)


def test_level_tables_equal_the_per_level_formulas() -> None:
    # every run of levels against policy.base_stock_fill_rate / cycle_service_level / expected_on_hand evaluated
    # level by level on D + J (lots of 1 to 6, floors, one series without demand)
    from zk_forecast.inventory.policy import (
        add_undershoot,
        base_stock_fill_rate,
        cycle_service_level,
        expected_on_hand,
        undershoot_pmf,
    )

    rng = np.random.default_rng(11)
    n = 30
    f = rng.random((n, 6)) * (rng.random((n, 6)) < 0.6)
    f[:, 0] += 0.5
    f[7] = [1.0, 0, 0, 0, 0, 0]  # no demand
    f /= f.sum(axis=1, keepdims=True)
    lead = rng.integers(1, 4, n)
    # D_R with pmf f; D_L and D_{L+R} as sums of L and L + 1 independent periods (exact convolutions)
    b = np.zeros((n, 40))
    a = np.zeros((n, 46))
    for i in range(n):
        x = np.array([1.0])
        for _ in range(lead[i]):
            x = np.convolve(x, f[i])
        b[i, : x.size] = x
        y = np.convolve(x, f[i])
        a[i, : y.size] = y
    q = rng.integers(1, 7, n)
    floor = np.where(rng.random(n) < 0.3, 0.9, 0.0)
    t = level_tables(a, b, f, q, floor)
    J = undershoot_pmf(f, q)
    A, B = add_undershoot(a, J), add_undershoot(b, J)
    mean_r = f @ np.arange(f.shape[1])
    for i in range(n):
        lv = np.arange(t.s_lo[i], t.s_lo[i] + t.offsets[i + 1] - t.offsets[i])
        rows = np.full(lv.size, i)
        sl = slice(t.offsets[i], t.offsets[i + 1])
        np.testing.assert_allclose(t.fill_rate[sl], np.maximum.accumulate(
            base_stock_fill_rate(A[rows], B[rows], mean_r[rows], lv)), rtol=0, atol=1e-12)
        np.testing.assert_allclose(t.cycle_service[sl], cycle_service_level(A[rows], lv), rtol=0, atol=1e-12)
        np.testing.assert_allclose(t.on_hand[sl], expected_on_hand(A[rows], lv), rtol=0, atol=1e-12)
        assert t.s_lo[i] >= q[i] - 1
        if mean_r[i] > 0 and floor[i] > 0:
            assert t.fill_rate[t.offsets[i]] >= floor[i] - 1e-12
        if mean_r[i] > 0:
            assert t.fill_rate[t.offsets[i + 1] - 1] >= 1 - 1e-6 - 1e-12
    assert t.offsets[8] - t.offsets[7] == 1  # no demand: one level, Q - 1
