"""Tests of demand classification (zk_forecast.demand.classify): hand-calculated values and properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from zk_forecast.demand.classify import ADI_CUTOFF, CV2_CUTOFF, adi_cv2, classify, sbc_category
from zk_forecast.demand.panel import Panel
from zk_forecast.errors import ZkTypeError, ZkValueError

NAN = np.nan
IDS = ["A|YC01", "B|YC01", "C|PL01", "D|PL01", "E|YC01", "F|YC01"]
Y = np.array([
    [0, 2, 0, 0, 4, 0],
    [NAN, NAN, 5, 5, 5, 5],
    [NAN, NAN, 1, 10, 1, 10],
    [NAN, NAN, 0, 9, 0, 1],
    [NAN, NAN, 0, 0, 3, 0],
    [NAN, NAN, 0, 0, 0, 0],
])


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(Y, index=pd.Index(IDS, name="unique_id"),
                        columns=pd.date_range("2024-01-01", periods=6, freq="W-MON"))


def test_golden_adi_cv2(frame: pd.DataFrame) -> None:
    c = classify(frame)
    # Hand calculation, over observed (non-NaN) periods:
    #   A: 6 periods, demands 2 and 4: ADI 6/2 = 3; sizes mean 3, var ((2-3)² + (4-3)²)/2 = 1, CV² 1/9
    #   B: 4 periods, 4 demands of 5: ADI 1, CV² 0
    #   C: 4 periods, sizes 1, 10, 1, 10: ADI 1; mean 5.5, var 4.5² = 20.25, CV² 20.25 / 30.25 = 0.66942
    #   D: 4 periods, sizes 9 and 1: ADI 2; mean 5, var 16, CV² 0.64
    #   E: one demand; F: none
    np.testing.assert_allclose(c["adi"], [3, 1, 1, 2, 4, NAN])
    np.testing.assert_allclose(c["cv2"], [1 / 9, 0, 20.25 / 30.25, 0.64, 0, NAN])
    assert list(c["sbc"]) == ["intermittent", "smooth", "erratic", "lumpy", "single", "no_demand"]
    assert list(c["n_periods"]) == [6, 4, 4, 4, 4, 4]
    assert list(c["n_demands"]) == [2, 4, 4, 2, 1, 0]
    assert list(c["part_no"]) == list("ABCDEF") and c.loc["C|PL01", "depot_id"] == "PL01"


def test_golden_xyz(frame: pd.DataFrame) -> None:
    c = classify(frame)
    # CV of per-period demand (ddof=0), by hand:
    #   A: mean 1, squared deviations 1,1,1,1,9,1 → var 14/6, CV = sqrt(2.3333) = 1.5275 → Z
    #   B: CV 0 → X;  C: mean 5.5, sd 4.5, CV 0.8182 → Y;  D: mean 2.5, var 57/4, CV 1.5100 → Z
    #   E: mean 0.75, values 0,0,3,0: sd 1.299, CV 1.7321 → Z;  F: no demand → NA
    np.testing.assert_allclose(c["cv"], [np.sqrt(14 / 6), 0, 4.5 / 5.5, np.sqrt(57 / 4) / 2.5, np.sqrt(3), NAN],
                               rtol=1e-12)
    assert list(c["xyz"].astype(object).fillna("-")) == ["Z", "X", "Y", "Z", "Z", "-"]
    tight = classify(frame, xyz_cutoffs=(0.9, 1.6))
    assert list(tight["xyz"].astype(object).fillna("-")) == ["Y", "X", "X", "Y", "Z", "-"]


def test_boundaries_go_to_the_smooth_side() -> None:
    assert 33 / 25 == ADI_CUTOFF  # 33 periods with 25 demands sit exactly on the ADI cut-off
    cat = sbc_category([1.32, 1.32 + 1e-9, 1.32, 1.0], [0.49, 0.49, 0.49 + 1e-9, 0.0], [5, 5, 5, 5])
    assert list(cat) == ["smooth", "intermittent", "erratic", "smooth"]
    y = np.zeros(33)
    y[:25] = 3.0
    assert classify(y[None, :])["sbc"].iloc[0] == "smooth"
    assert CV2_CUTOFF == 0.49


def test_abc_golden() -> None:
    # one period per year so the annual value is the demand itself: 10, 50, 4, 30, 6 (total 100)
    y = np.array([[10.0], [50.0], [4.0], [30.0], [6.0]])
    c = classify(y, unit_cost=1.0, periods_per_year=1.0)
    # ranked 50, 30, 10, 6, 4: value share before each = 0, .50, .80, .90, .96 → A, A, B, B, C
    assert list(c["abc"]) == ["B", "A", "C", "A", "B"]
    np.testing.assert_allclose(c["value_share"], [0.10, 0.50, 0.04, 0.30, 0.06])
    np.testing.assert_allclose(c["annual_value"], [10, 50, 4, 30, 6])
    wide = classify(y, unit_cost=1.0, periods_per_year=1.0, abc_cutoffs=(0.5, 0.9))
    assert list(wide["abc"]) == ["B", "A", "C", "B", "C"]


def test_abc_unit_cost_forms_and_depot_ranking(frame: pd.DataFrame) -> None:
    cost = pd.Series({"A": 100.0, "B": 1.0, "C": 1.0, "D": 1.0, "E": 1.0, "F": 1.0})
    by_part = classify(frame, unit_cost=cost)
    parts = pd.DataFrame({"part_no": list(cost.index), "unit_cost": cost.to_numpy()})
    by_table = classify(frame, unit_cost=parts)
    pd.testing.assert_frame_equal(by_part, by_table)
    # weekly: annual quantity = mean per period × 365.2425 / 7
    assert by_part.loc["A|YC01", "annual_quantity"] == pytest.approx(1.0 * 365.2425 / 7)
    assert by_part.loc["A|YC01", "abc"] == "A"
    assert by_part.loc["F|YC01", "abc"] == "C"  # zero value
    per_depot = classify(frame, unit_cost=cost, abc_by="depot_id")
    assert per_depot.loc["C|PL01", "abc"] == "A"  # top of PL01
    assert classify(frame)["abc"].isna().all()  # no cost: no class
    partial = classify(frame, unit_cost=pd.Series({"A": 5.0}))
    assert partial["abc"].isna().sum() == 5


def test_panel_input_uses_its_frequency() -> None:
    long = pd.DataFrame({"unique_id": ["P|X"] * 3, "ds": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
                         "y": [1.0, 0.0, 2.0]})
    c = classify(Panel.from_long(long, freq="MS"), unit_cost=2.0)
    assert c.loc["P|X", "annual_value"] == pytest.approx(1.0 * 12 * 2.0)


def test_bad_arguments(frame: pd.DataFrame) -> None:
    with pytest.raises(ZkValueError, match="abc_cutoffs"):
        classify(frame, abc_cutoffs=(0.95, 0.8))
    with pytest.raises(ZkValueError, match="xyz_cutoffs"):
        classify(frame, xyz_cutoffs=(1.0,))  # type: ignore[arg-type]
    with pytest.raises(ZkValueError, match="abc_by"):
        classify(frame, abc_by="part_no")
    with pytest.raises(ZkValueError, match="negative"):
        classify(-frame)
    with pytest.raises(ZkValueError, match="negative"):
        classify(frame, unit_cost=-1.0)
    with pytest.raises(ZkValueError, match="one value per series"):
        classify(frame, unit_cost=[1.0, 2.0])
    with pytest.raises(ZkTypeError):
        classify("y")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ properties
demand = hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 30)),
                    elements=st.sampled_from([0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 7.0, 20.0]))


@settings(max_examples=60, deadline=None)
@given(y=demand, c=st.floats(0.01, 1000.0))
def test_scaling_leaves_pattern_unchanged(y: np.ndarray, c: float) -> None:
    a, b = adi_cv2(y), adi_cv2(y * c)
    np.testing.assert_array_equal(a["adi"], b["adi"])
    np.testing.assert_allclose(a["cv2"], b["cv2"], rtol=1e-9, atol=1e-12)
    ca = sbc_category(a["adi"], a["cv2"], a["n_demands"])
    cb = sbc_category(b["adi"], b["cv2"], b["n_demands"])
    near = np.abs(np.nan_to_num(a["cv2"]) - CV2_CUTOFF) < 1e-9
    assert np.array_equal(ca[~near], cb[~near])


@settings(max_examples=60, deadline=None)
@given(y=demand, k=st.integers(1, 10))
def test_adding_zero_periods_raises_adi(y: np.ndarray, k: int) -> None:
    longer = np.concatenate([y, np.zeros((y.shape[0], k))], axis=1)
    before, after = adi_cv2(y)["adi"], adi_cv2(longer)["adi"]
    has = ~np.isnan(before)
    assert np.all(after[has] > before[has])
    assert np.all(np.isnan(after[~has]))
    np.testing.assert_allclose(adi_cv2(longer)["cv2"], adi_cv2(y)["cv2"], rtol=1e-12)  # sizes unchanged


@settings(max_examples=40, deadline=None)
@given(y=demand)
def test_missing_periods_are_skipped_not_zero(y: np.ndarray) -> None:
    padded = np.concatenate([np.full((y.shape[0], 3), np.nan), y], axis=1)
    a, b = adi_cv2(y), adi_cv2(padded)
    for key in ("adi", "cv2", "cv", "mean"):  # equal up to summation order
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-15)
