"""Tests of zk_forecast.inventory.plan: the DataFrame face, priors, receipts, bad input, monotonicity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.plan import lead_time_from_receipts, plan

DS = pd.date_range("2024-01-01", periods=26, freq="W-MON")


def _history() -> pd.DataFrame:
    a = [0, 1, 0, 2] * 6 + [0, 1]
    b = [3, 0] * 13
    rows = [("A", d, y) for d, y in zip(DS, a, strict=True) if y > 0]  # absent periods = zero
    rows += [("B", d, y) for d, y in zip(DS, b, strict=True)]
    return pd.DataFrame(rows, columns=["unique_id", "ds", "y"])


def _items(**cols: list) -> pd.DataFrame:
    base = {"lead_time": [2, 1, 3, 1, 2], "unit_cost": [10.0, 20.0, 12.0, 5.0, 5.0],
            "category": ["c", "c", "c", "d", "d"], "critical": [False, False, False, True, False],
            "installed_base": [np.nan, np.nan, np.nan, np.nan, 0.3]}
    base.update(cols)
    return pd.DataFrame(base, index=pd.Index(["A", "B", "C", "D", "E"], name="unique_id"))


def test_every_item_planned_with_basis() -> None:
    out = plan(_history(), _items(), fill_rate=0.95)
    assert list(out.index) == ["A", "B", "C", "D", "E"]
    assert list(out["basis"]) == ["history", "history", "similar", "none", "installed_base"]
    for c in ("reorder_point", "order_up_to", "expected_fill_rate", "expected_on_hand", "expected_on_hand_value"):
        assert c in out.columns
    has = out["basis"] != "none"
    assert (out.loc[has, "expected_fill_rate"] >= 0.95 - 1e-12).all()
    # the critical item without any information keeps one unit; value = on hand × unit cost
    assert out.loc["D", "order_up_to"] == 1 and out.loc["D", "reorder_point"] == 0
    np.testing.assert_allclose(out["expected_on_hand_value"], out["expected_on_hand"] * _items()["unit_cost"])


def test_similar_prior_is_category_band_median() -> None:
    out = plan(_history(), _items(), fill_rate=0.9)
    # C (category c, cost 12: band floor(2 log10 12) = 2) shares the band with A (10) but not B (20 → band 2 too);
    # A's rate 0.75 (per period since first appearance 18/24... computed by plan) and B's 1.5: median of both
    rates = out.loc[["A", "B"], "mean_demand"]
    assert out.loc["C", "mean_demand"] == pytest.approx(float(np.median(rates)))


def test_non_critical_without_information_not_stocked() -> None:
    out = plan(_history(), _items(critical=[False] * 5, category=["c", "c", "c", "x", "d"]), fill_rate=0.9)
    assert out.loc["D", "basis"] == "none" and out.loc["D", "order_up_to"] == 0


def test_per_class_targets_and_item_override() -> None:
    items = _items(**{"class": ["wear", "other", "other", "other", "wear"], "fill_rate": [np.nan, 0.8, np.nan,
                                                                                         np.nan, np.nan]})
    out = plan(_history(), items, fill_rate={"wear": 0.98, "other": 0.9})
    assert list(out["target"]) == [0.98, 0.8, 0.9, 0.9, 0.98]
    with pytest.raises(ZkValueError, match="no target for class"):
        plan(_history(), items, fill_rate={"wear": 0.98})


def test_cost_service_and_moq() -> None:
    items = _items(holding_cost=[0.1] * 5, backorder_cost=[1.0] * 5, moq=[4, 1, 1, 1, 1])
    out = plan(_history(), items, service="cost")
    # newsvendor critical ratio b / (b + hR) = 1 / (1 + 0.1) (Snyder & Shen 2019, eq. 4.27; hand calculation)
    assert out["target"].iloc[0] == pytest.approx(1.0 / 1.1)
    assert out.loc["A", "order_quantity"] >= 4
    assert (out.loc[["A", "B"], "expected_cycle_service"] >= 1.0 / 1.1 - 1e-12).all()


def test_receipts_mixture_needs_more_stock() -> None:
    # A: parts master says 2 weeks; receipts measure 7, 14, 14, 21, 28 days → 1, 2, 2, 3, 4 weeks (mean 2.4)
    rec = pd.DataFrame({"part_no": ["A"] * 5, "depot_id": ["YC01"] * 5,
                        "ordered_on": pd.to_datetime(["2024-01-01"] * 5),
                        "received_on": pd.to_datetime(["2024-01-08", "2024-01-15", "2024-01-15", "2024-01-22",
                                                       "2024-01-29"])})
    lt = lead_time_from_receipts(rec, min_receipts=5)
    assert lt.loc["A|YC01", "lead_time_mean"] == pytest.approx(2.4)
    np.testing.assert_allclose(lt.loc["A|YC01", "lead_time_pmf"], [0, 0.2, 0.4, 0.2, 0.2])
    assert lead_time_from_receipts(rec, min_receipts=6).empty
    h = _history().replace({"A": "A|YC01", "B": "B|YC01"})
    items = _items().rename(index={"A": "A|YC01", "B": "B|YC01"})
    base = plan(h, items)
    meas = plan(h, items, receipts=rec)
    assert meas.loc["A|YC01", "lead_time_source"] == "receipts"
    assert meas.loc["A|YC01", "order_up_to"] >= base.loc["A|YC01", "order_up_to"]


@pytest.mark.parametrize(("col", "val", "msg"), [
    ("lead_time", -1, "lead_time"), ("lead_time", np.nan, "lead_time"), ("fill_rate", 1.2, "strictly between"),
    ("unit_cost", -3.0, "unit_cost"), ("pack_size", 0, "pack_size"), ("holding_cost", -1.0, "holding_cost")])
def test_bad_items_name_the_item(col: str, val: float, msg: str) -> None:
    items = _items()
    items[col] = items.get(col, pd.Series(np.nan, index=items.index)).astype(float)
    items.loc["B", col] = val
    with pytest.raises(ZkValueError, match=msg) as e:
        plan(_history(), items)
    assert "'B'" in str(e.value)


def test_bad_target_and_unknown_item() -> None:
    with pytest.raises(ZkValueError, match="strictly between"):
        plan(_history(), _items(), fill_rate=0.0)
    h = pd.concat([_history(), pd.DataFrame({"unique_id": ["Z"], "ds": [DS[0]], "y": [1]})])
    with pytest.raises(ZkValueError, match="'Z'.*not in items"):
        plan(h, _items())


@settings(max_examples=15, deadline=None)
@given(t1=st.floats(0.5, 0.99), dt=st.floats(0.0, 0.09), lt=st.integers(0, 6), dl=st.integers(0, 4))
def test_monotone_in_target_and_lead_time(t1: float, dt: float, lt: int, dl: int) -> None:
    h = _history()
    items = _items(lead_time=[lt] * 5)
    lo = plan(h, items, fill_rate=t1)
    hi = plan(h, items, fill_rate=min(t1 + dt, 0.995))
    assert (hi["reorder_point"] >= lo["reorder_point"]).all()
    longer = plan(h, _items(lead_time=[lt + dl] * 5), fill_rate=t1)
    assert (longer["reorder_point"] >= lo["reorder_point"]).all()


def test_window_fits_the_last_periods_only() -> None:
    # A: demand 5 in each of the first 10 weeks, then 16 weeks of zeros; B: 2 in every week.
    rows = [("A", d, 5.0) for d in DS[:10]] + [("A", d, 0.0) for d in DS[10:]]
    rows += [("B", d, 2.0) for d in DS]
    hist = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    items = pd.DataFrame({"lead_time": [1, 1], "unit_cost": [1.0, 1.0]}, index=pd.Index(["A", "B"]))
    full = plan(hist, items, fill_rate=0.95)
    last = plan(hist, items, fill_rate=0.95, window=16)
    # all history: A has p = 10/26 and size 5, so it is stocked; the last 16 weeks hold no demand of A
    assert full.loc["A", "order_up_to"] > 0 and full.loc["A", "mean_demand"] == pytest.approx(50 / 26)
    assert last.loc["A", "order_up_to"] == 0 and last.loc["A", "reorder_point"] == -1
    assert last.loc["A", "mean_demand"] == 0.0 and last.loc["A", "basis"] == "history"
    # B: 2 in every week of either window → the same fit and the same policy
    assert last.loc["B", "order_up_to"] == full.loc["B", "order_up_to"]
    assert last.loc["B", "mean_demand"] == full.loc["B", "mean_demand"] == 2.0
    # a window as long as the history changes nothing
    pd.testing.assert_frame_equal(plan(hist, items, fill_rate=0.95, window=26), full)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_window_must_be_positive_int(bad: object) -> None:
    with pytest.raises(ZkValueError, match="window"):
        plan(_history(), _items(), window=bad)  # type: ignore[arg-type]


def test_panel_history_gives_the_same_policies_as_long_history() -> None:
    # the nightly batch passes build_panel's Panel; a long frame of the same cells must give the same plan
    from zk_forecast.demand.panel import Panel

    rng = np.random.default_rng(11)
    n, t = 40, 60
    y = (rng.random((n, t)) < rng.uniform(0.05, 0.6, n)[:, None]) * rng.geometric(0.4, (n, t))
    ids = [f"P{i:03d}|YC01" for i in range(n)]
    ds = pd.date_range("2024-01-01", periods=t, freq="W-MON")
    long = pd.DataFrame({"unique_id": np.repeat(ids, t), "ds": np.tile(ds, n), "y": y.ravel().astype(float)})
    panel = Panel.from_long(long, freq="W-MON")
    items = pd.DataFrame({"lead_time": rng.integers(0, 6, n), "unit_cost": rng.uniform(5, 500, n)},
                         index=pd.Index(ids, name="unique_id"))
    a = plan(long, items, fill_rate=0.93)
    b = plan(panel, items, fill_rate=0.93)
    pd.testing.assert_frame_equal(a, b)


def test_panel_history_with_an_unknown_series_is_refused() -> None:
    from zk_forecast.demand.panel import Panel

    long = pd.DataFrame({"unique_id": ["A|YC01", "B|YC01"], "ds": pd.to_datetime(["2024-01-01"] * 2), "y": [1.0, 2.0]})
    items = pd.DataFrame({"lead_time": [1]}, index=pd.Index(["A|YC01"], name="unique_id"))
    with pytest.raises(ZkValueError, match="B\\|YC01"):
        plan(Panel.from_long(long), items)


def test_half_life_follows_a_level_rise() -> None:
    # A: 1 unit every 4th week for 20 weeks, then 2 units every week for 6 weeks (the level rose); B: 2 every week.
    a = [1.0, 0.0, 0.0, 0.0] * 5 + [2.0] * 6
    rows = [("A", d, y) for d, y in zip(DS, a, strict=True)] + [("B", d, 2.0) for d in DS]
    hist = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    items = pd.DataFrame({"lead_time": [2, 2], "unit_cost": [1.0, 1.0]}, index=pd.Index(["A", "B"]))
    flat = plan(hist, items, fill_rate=0.95, half_life=None)
    recent = plan(hist, items, fill_rate=0.95, half_life=4)
    assert recent.loc["A", "reorder_point"] > flat.loc["A", "reorder_point"]
    # B: the same demand in every week, whatever its weight → the same policy
    assert recent.loc["B", "reorder_point"] == flat.loc["B", "reorder_point"]
    assert recent.loc["B", "order_up_to"] == flat.loc["B", "order_up_to"]
    assert (recent["expected_fill_rate"] >= 0.95 - 1e-12).all()


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "52", True])
def test_half_life_must_be_positive(bad: object) -> None:
    with pytest.raises(ZkValueError, match="half_life"):
        plan(_history(), _items(), half_life=bad)  # type: ignore[arg-type]


def test_level_block_off_on_steady_history_same_policy_and_validated() -> None:
    # item A repeats the same pattern every quarter (no level drift detected): level_block changes nothing
    a = [0, 1, 0, 2] * 13
    ds = pd.date_range("2024-01-01", periods=52, freq="W-MON")
    hist = pd.DataFrame({"unique_id": "A", "ds": ds, "y": a})
    items = pd.DataFrame({"lead_time": [3]}, index=pd.Index(["A"], name="unique_id"))
    on = plan(hist, items, fill_rate=0.95)
    off = plan(hist, items, fill_rate=0.95, level_block=None)
    pd.testing.assert_frame_equal(on, off)
    # a level that doubles then halves each quarter is detected: more stock at the same target
    b = ([0, 1] * 6 + [0]) + ([2, 2] * 6 + [2]) + ([0, 1] * 6 + [0]) + ([2, 2] * 6 + [2])
    hist_b = pd.DataFrame({"unique_id": "A", "ds": ds, "y": b})
    assert plan(hist_b, items, fill_rate=0.95)["order_up_to"].iloc[0] > \
        plan(hist_b, items, fill_rate=0.95, level_block=None)["order_up_to"].iloc[0]
    with pytest.raises(ZkValueError, match="level_block"):
        plan(hist, items, level_block=1)


def test_cost_service_is_zheng_federgruen_on_the_plans_own_pmfs() -> None:
    from zk_forecast.demand.distributions import LeadTimeDemand
    from zk_forecast.inventory.costpolicy import optimal_ss, ss_cost

    rng = np.random.default_rng(21)
    y = rng.poisson([[0.8], [3.0]], (2, 104)).astype(float)
    ds = pd.date_range("2024-01-01", periods=104, freq="W-MON")
    hist = pd.DataFrame({"unique_id": np.repeat(["A", "B"], 104), "ds": np.tile(ds, 2), "y": y.ravel()})
    items = pd.DataFrame({"lead_time": [2, 1], "holding_cost": [0.2, 0.5], "backorder_cost": [5.0, 4.0],
                          "order_cost": [20.0, 8.0]}, index=["A", "B"])
    out = plan(hist, items, service="cost", half_life=None, level_block=None)
    est = LeadTimeDemand(half_life=None).fit(y)
    f, a = est.pmf(np.array([1, 1])), est.pmf(np.array([3, 2]))
    s, S, c = optimal_ss(f, a, holding_cost=[0.2, 0.5], backorder_cost=[5.0, 4.0], order_cost=[20.0, 8.0])
    assert list(out["reorder_point"]) == list(s) and list(out["order_up_to"]) == list(S)
    assert (out["order_quantity"] > 1).all()  # an order cost makes lots: not base stock
    # and no neighbouring policy is cheaper (Zheng & Federgruen 1991: the optimum of the exact cost)
    for ds_, dS in ((-1, 0), (1, 0), (0, -1), (0, 1), (1, 1), (-1, -1)):
        alt = ss_cost(s + ds_, np.maximum(S + dS, s + ds_ + 1), f, a, holding_cost=[0.2, 0.5],
                      backorder_cost=[5.0, 4.0], order_cost=[20.0, 8.0])
        assert (alt >= c - 1e-9).all()
