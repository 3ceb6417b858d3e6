"""Tests of zk_forecast.failures.compare: did the fix work (equal-age before/after) and early-life failures.

The last tests run on the synthetic dealer (``zk_forecast.data.demo``): the planted design fix must be found, the
planted early-life defect flagged, and the unplanted model x component groups must rarely raise a false alarm.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from zk_forecast.data import Store, demo, ingest
from zk_forecast.errors import ZkValueError
from zk_forecast.failures.compare import (
    compare_before_after,
    compare_cut_in,
    early_life_test,
    early_life_tests,
    rate_ratio_test,
    weibull_lr_test,
)
from zk_forecast.failures.lifetimes import Weibull
from zk_forecast.failures.lives import build_lives


# ---------------------------------------------------------------------------------------- (a) rate ratio
@pytest.mark.parametrize(("xb", "eb", "xa", "ea"), [(20, 1000.0, 6, 800.0), (3, 50.0, 9, 120.0), (12, 10.0, 1, 30.0)])
def test_rate_ratio_one_band_is_binomial_test_with_clopper_pearson(xb: int, eb: float, xa: int, ea: float) -> None:
    """Hand reference: given n = xa + xb, xa ~ Bin(n, ea / (ea + eb)); scipy's exact binomtest and its
    Clopper-Pearson interval for p, mapped by theta = p / (1 - p) * eb / ea."""
    res = rate_ratio_test(xb, eb, xa, ea, level=0.9)
    bt = stats.binomtest(xa, xa + xb, ea / (ea + eb))
    ci = bt.proportion_ci(confidence_level=0.9, method="exact")
    assert res.p_value == pytest.approx(bt.pvalue, rel=1e-6)
    assert res.rate_ratio == pytest.approx((xa / ea) / (xb / eb), rel=1e-6)
    assert res.lower == pytest.approx(ci.low / (1 - ci.low) * eb / ea, rel=1e-5)
    assert res.upper == pytest.approx(ci.high / (1 - ci.high) * eb / ea, rel=1e-5)


def test_rate_ratio_edge_counts() -> None:
    none = rate_ratio_test(0, 100.0, 0, 50.0)  # documented answer: no evidence either way
    assert np.isnan(none.rate_ratio) and none.p_value == 1.0 and (none.lower, none.upper) == (0.0, np.inf)
    zero_after = rate_ratio_test(10, 100.0, 0, 100.0)
    assert zero_after.rate_ratio == 0.0 and zero_after.lower == 0.0 and 0 < zero_after.upper < 1
    assert zero_after.p_value == pytest.approx(2 * 0.5**10)
    all_after = rate_ratio_test(0, 100.0, 4, 100.0)
    assert all_after.upper == np.inf and all_after.lower > 0


def test_rate_ratio_bands_pool_strata() -> None:
    """Identical rate ratio in each band: the stratified estimate recovers it exactly."""
    res = rate_ratio_test([10, 20], [100.0, 100.0], [5, 10], [100.0, 100.0])
    assert res.rate_ratio == pytest.approx(0.5, rel=1e-9) and res.bands == 2


def test_rate_ratio_bad_input() -> None:
    with pytest.raises(ZkValueError, match="exposure after"):
        rate_ratio_test(3, 10.0, 0, 0.0)
    with pytest.raises(ZkValueError, match="whole numbers"):
        rate_ratio_test(2.5, 10.0, 1, 10.0)


# ----------------------------------------------------------------------------------------- (b) Weibull LR
def _weibull_lives(rng: np.random.Generator, n: int, shape: float, scale: float, horizon: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    t = scale * rng.weibull(shape, n)
    return np.minimum(t, horizon), (t > horizon).astype(float)


def test_weibull_lr_finds_scale_change_and_nests() -> None:
    rng = np.random.default_rng(5)
    tb, cb = _weibull_lives(rng, 150, 2.0, 1000.0, 1500.0)
    ta, ca = _weibull_lives(rng, 150, 2.0, 3000.0, 1500.0)
    res = weibull_lr_test(tb, ta, censored_before=cb, censored_after=ca)
    assert res.p_value < 1e-6 and res.dof == 1
    assert res.lower < 3.0 < res.upper
    pooled = Weibull().fit(np.r_[tb, ta], np.r_[cb, ca])
    assert res.loglik_null == pytest.approx(pooled.loglik_)
    both = weibull_lr_test(tb, ta, censored_before=cb, censored_after=ca, alternative="shape_and_scale")
    assert both.dof == 2 and both.statistic >= res.statistic - 1e-6


def test_weibull_lr_no_difference() -> None:
    rng = np.random.default_rng(8)
    tb, cb = _weibull_lives(rng, 120, 1.5, 800.0, 1200.0)
    ta, ca = _weibull_lives(rng, 120, 1.5, 800.0, 1200.0)
    res = weibull_lr_test(tb, ta, censored_before=cb, censored_after=ca)
    assert res.p_value > 0.05 and res.lower < 1.0 < res.upper


# ------------------------------------------------------------------------------------------------ early life
def test_early_life_flags_shape_below_one_only() -> None:
    rng = np.random.default_rng(2)
    t, c = _weibull_lives(rng, 80, 0.6, 2000.0, 3000.0)
    res = early_life_test(t, c)
    assert res.flagged and res.shape < 1 and res.p_value < 0.01
    assert "早期故障" in res.sentence_zh and "infant mortality" in res.sentence_en
    t, c = _weibull_lives(rng, 80, 2.0, 2000.0, 3000.0)
    ok = early_life_test(t, c)
    assert not ok.flagged and ok.p_value > 0.5
    few = early_life_test([5.0, 10.0, 20.0], [0, 1, 1])
    assert not few.flagged and "Too few failures" in few.sentence_en



@pytest.mark.parametrize("seed", [0, 1, 2])
def test_early_life_tests_equal_the_test_group_by_group(seed: int) -> None:
    # property: the grouped test gives each group what early_life_test gives its rows alone (to 1e-6, the printed
    # digits and the flag the same), for early-life and wear-out groups, left truncation, and groups with fewer
    # failures than the test needs
    rng = np.random.default_rng(seed)
    frames = []
    for g in range(12):
        n = int(rng.integers(2, 120))
        t, c = _weibull_lives(rng, n, float(rng.choice([0.5, 0.8, 1.0, 1.5, 3.0])), 2000.0, 4000.0)
        e = np.where(rng.uniform(size=n) < 0.3, t * rng.uniform(0.0, 0.9, n), 0.0)
        frames.append(pd.DataFrame({"model": f"M{g % 3}", "component": f"C{g}", "time": t, "censored": c,
                                    "entry": e}))
    lives = pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=seed)
    got = early_life_tests(lives, ["model", "component"], alpha=0.1, level=0.9)
    assert list(got.index) == sorted({(f"M{g % 3}", f"C{g}") for g in range(12)})
    for (model, comp), g in lives.groupby(["model", "component"]):
        ref = early_life_test(g["time"], g["censored"], g["entry"], alpha=0.1, level=0.9)
        row = got.loc[(model, comp)]
        for f in ("shape", "shape_lower", "shape_upper", "scale", "statistic", "p_value"):
            assert row[f] == pytest.approx(getattr(ref, f), rel=1e-6, abs=1e-12, nan_ok=True), f
        assert (row["failures"], row["flagged"], row["sentence_zh"], row["sentence_en"]) == (
            ref.failures, ref.flagged, ref.sentence_zh, ref.sentence_en)


def test_early_life_tests_bad_input_named() -> None:
    lives = pd.DataFrame({"model": ["A", "A"], "time": [10.0, -1.0], "censored": [0, 1], "entry": [0.0, 0.0]})
    with pytest.raises(ZkValueError, match="times must be finite ages > 0"):
        early_life_tests(lives, "model")
    with pytest.raises(ZkValueError, match=r"column\(s\) \['component'\]"):
        early_life_tests(lives, ["model", "component"])
    # every failure at one instant, no unit beyond it: the Weibull has no estimate, as early_life_test says
    step = pd.DataFrame({"model": "A", "time": [50.0, 50.0, 50.0, 20.0], "censored": [0, 0, 0, 1], "entry": 0.0})
    with pytest.raises(ZkValueError, match="same instant"):
        early_life_tests(step, "model")


# --------------------------------------------------------------------------------------------- before/after
def _frame(rng: np.random.Generator) -> pd.DataFrame:
    """Units built 2022-2024; the fix from 2023-03-01 triples the Weibull scale; newer units are younger."""
    build = pd.to_datetime("2022-01-01") + pd.to_timedelta(rng.integers(0, 1000, 300), unit="D")
    age_cap = (pd.Timestamp("2025-01-01") - build).days.to_numpy() * 3.0  # about 3 h a day [h]
    scale = np.where(build >= pd.Timestamp("2023-03-01"), 3000.0, 1000.0)
    t = scale * rng.weibull(2.0, build.size)
    serial = [f"SF{d:%y%m}{i:04d}" for i, d in enumerate(build)]
    return pd.DataFrame({"build_date": build, "serial_no": serial, "time": np.minimum(t, age_cap),
                         "censored": (t > age_cap).astype(int)})


def test_compare_cut_in_finds_fix_by_date_and_serial() -> None:
    df = _frame(np.random.default_rng(1))
    res = compare_cut_in(df, "2023-03-01")
    assert res.improved and res.rate_ratio < 0.6 and res.p_value < 0.01
    assert res.window == pytest.approx(min(df.time[df.build_date < "2023-03-01"].max(),
                                           df.time[df.build_date >= "2023-03-01"].max()))
    assert res.sentence_zh.startswith("在相同使用时长") and "切换后故障率降低" in res.sentence_zh
    assert "the failure rate fell by" in res.sentence_en
    assert res.weibull is not None and res.weibull.scale_ratio > 1
    assert list(res.summary["test"]) == ["exact conditional Poisson", "Weibull LR (scale)"]
    assert "<table" in res._repr_html_()
    by_serial = compare_cut_in(df, "SF2303", by="serial_no", age_bands=1)
    assert by_serial.improved and by_serial.rate.bands == 1


def test_compare_no_failures_at_all_is_documented_answer() -> None:
    res = compare_before_after([100.0, 200.0], [150.0], censored_before=[1, 1], censored_after=[1])
    assert not res.improved and res.weibull is None and np.isnan(res.rate_ratio) and res.p_value == 1.0
    assert "数据不足" in res.sentence_zh and "cannot tell" in res.sentence_en


def test_compare_cut_in_bad_input() -> None:
    df = _frame(np.random.default_rng(1))
    with pytest.raises(ZkValueError, match="outside the data: 'build_date' runs from 2022-01-0"):
        compare_cut_in(df, "2030-01-01")
    first = df.build_date.min().date()
    with pytest.raises(ZkValueError, match="No units before the cut-in"):
        compare_cut_in(df, str(first))
    with pytest.raises(ZkValueError, match="lacks column"):
        compare_cut_in(df, "2023-03-01", time="hours")
    with pytest.raises(ZkValueError, match="window .* is empty after"):
        compare_before_after([10.0, 20.0], [30.0], entry_after=[25.0], window=20.0)
    with pytest.raises(ZkValueError, match="No units after"):
        compare_before_after([10.0, 20.0], [])


# ------------------------------------------------------------------------------------------------- demo data
@pytest.fixture(scope="module")
def demo_lives(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict]:
    """Component lives in engine hours from the demo's tickets (zk_forecast.failures.lives.build_lives)."""
    root = tmp_path_factory.mktemp("demo")
    demo.generate(root / "raw", scale="small", seed=7)
    ingest(root / "raw", Store(root / "store"))
    store = Store(root / "store")
    truth = json.loads((root / "raw" / "ground_truth.json").read_text(encoding="utf-8"))
    lives = build_lives(store.read("tickets"), store.read("machines"), store.read("component_parts"))
    return lives, truth["planted_effects"]


def test_demo_planted_fix_and_early_life_found(demo_lives: tuple[pd.DataFrame, dict]) -> None:
    lives, planted = demo_lives
    fix = planted["design_fix"]
    sel = lives[(lives["model"] == fix["model"]) & (lives["component"] == fix["component"])]
    res = compare_cut_in(sel, fix["cut_in_build_date"])
    assert res.improved and res.p_value < 0.05 and res.rate_ratio < 1
    assert res.weibull is not None and res.weibull.p_value < 0.05 and res.weibull.scale_ratio > 1
    early = planted["early_life_defect"]
    sel = lives[(lives["model"] == early["model"]) & (lives["component"] == early["component"])]
    el = early_life_test(sel["time"], sel["censored"])
    assert el.flagged and el.shape_upper < 1


def test_demo_false_alarm_rate_on_unplanted_groups(demo_lives: tuple[pd.DataFrame, dict]) -> None:
    """At alpha 0.05 a true null gives alarms in about 5% of groups; with ~75 groups the count of alarms is
    about Binomial(75, 0.05) (mean 3.75, sd 1.9), so a rate above 0.15 (11 alarms, 3.9 sd above the mean) would
    mean a biased test, not bad luck. Unplanted shapes are 1.4-2.4, so early-life flags should be near 0."""
    lives, planted = demo_lives
    skip = {(planted[k]["model"], planted[k]["component"]) for k in ("design_fix", "early_life_defect")}
    cut = planted["design_fix"]["cut_in_build_date"]
    fix_alarms, early_alarms, tested = [], [], 0
    for (model, comp), g in lives.groupby(["model", "component"]):
        if (model, comp) in skip:
            continue
        early_alarms.append(early_life_test(g["time"], g["censored"]).flagged)
        if not ((g["build_date"] < cut).any() and (g["build_date"] >= cut).any()):
            continue  # the model was built on one side of the cut-in only: nothing to compare
        tested += 1
        fix_alarms.append(compare_cut_in(g, cut).p_value < 0.05)
    assert tested >= 50 and len(early_alarms) >= 60
    assert np.mean(fix_alarms) <= 0.15
    assert np.mean(early_alarms) <= 0.05
