"""Age replacement (Barlow-Proschan) and the maintenance-plan interval review."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

from zk_forecast.errors import ZkValueError
from zk_forecast.failures import Exponential, LogNormal, Weibull
from zk_forecast.failures.maintenance import (
    age_replacement_cost_rate,
    optimal_replacement_age,
    review_maintenance_intervals,
    weibull_age_replacement,
)


def test_cost_rate_by_quadrature() -> None:
    # C(T) = (cp R + cf F) / int_0^T R, the renewal-reward cost rate (Barlow & Proschan 1965, ch. 4 §2), by quad
    k, eta, cp, cf, T = 2.5, 1000.0, 1.0, 5.0, 400.0
    R = lambda t: math.exp(-((t / eta) ** k))  # noqa: E731
    expect = (cp * R(T) + cf * (1 - R(T))) / integrate.quad(R, 0, T)[0]
    assert age_replacement_cost_rate(T, k, eta, cp, cf) == pytest.approx(expect, rel=1e-10)
    # run to failure: cf / MTTF, MTTF = eta Gamma(1 + 1/k)
    assert age_replacement_cost_rate(np.inf, k, eta, cp, cf) == pytest.approx(cf / (eta * special.gamma(1.4)))


@settings(max_examples=30, deadline=None)
@given(st.floats(1.3, 6.0), st.floats(2.0, 50.0))
def test_optimum_meets_barlow_proschan_condition(shape: float, ratio: float) -> None:
    """Barlow & Proschan (1965) Theorem 4.2.3: at T*, h(T) int_0^T R - F(T) = cp / (cf - cp); and no age on a fine
    grid costs less."""
    eta, cp, cf = 800.0, 10.0, 10.0 * ratio
    T, rate, rtf = (float(v[0]) for v in weibull_age_replacement(shape, eta, cp, cf))
    R = lambda t: math.exp(-((t / eta) ** shape))  # noqa: E731
    h = shape / eta * (T / eta) ** (shape - 1)
    lhs = h * integrate.quad(R, 0, T, points=[min(eta, T) / 2], limit=200)[0] - (1 - R(T))
    assert lhs == pytest.approx(cp / (cf - cp), rel=1e-6)
    grid = np.geomspace(T / 20, T * 20, 4001)
    assert rate <= age_replacement_cost_rate(grid, shape, eta, cp, cf).min() + 1e-12
    assert rate <= rtf


def test_scale_invariance_and_monotone_in_costs() -> None:
    # T* / scale depends only on the shape and cf / cp (dimensional analysis); dearer failures: replace sooner
    a1 = weibull_age_replacement(2.0, 100.0, 1.0, 10.0)[0][0]
    a2 = weibull_age_replacement(2.0, 5000.0, 3.0, 30.0)[0][0]
    assert a1 / 100.0 == pytest.approx(a2 / 5000.0, rel=1e-9)
    ages = weibull_age_replacement(np.full(4, 2.0), 100.0, 1.0, np.array([2.0, 5.0, 20.0, 100.0]))[0]
    assert np.all(np.diff(ages) < 0)


def test_no_planned_replacement_without_wear_out() -> None:
    # shape <= 1: the hazard does not rise, planned replacement never pays (Barlow & Proschan): T* = inf
    age, rate, rtf = weibull_age_replacement([0.8, 1.0], [500.0, 500.0], 1.0, 5.0)
    assert np.all(np.isinf(age)) and np.allclose(rate, rtf)
    e = Exponential().fit([100.0, 200.0, 300.0, 400.0])
    res = optimal_replacement_age(e, 1.0, 5.0)
    assert math.isinf(res.age) and res.cost_rate == pytest.approx(5.0 / e.scale_, rel=1e-6)
    assert res.saving == pytest.approx(0.0, abs=1e-9)


def test_optimal_replacement_age_any_model_agrees_with_closed_form() -> None:
    rng = np.random.default_rng(5)
    t = 1000.0 * rng.weibull(2.5, 80)
    w = Weibull().fit(t)
    res = optimal_replacement_age(w, 1.0, 5.0)
    age = weibull_age_replacement(w.shape_, w.scale_, 1.0, 5.0)[0][0]
    assert res.age == pytest.approx(age)
    # lognormal: the numeric path against a brute-force minimum by quadrature
    ln = LogNormal().fit(t)
    res_ln = optimal_replacement_age(ln, 1.0, 5.0)
    R = lambda x: float(ln.reliability(np.array([x]))[0])  # noqa: E731

    def cost(T: float) -> float:
        return (1.0 * R(T) + 5.0 * (1 - R(T))) / integrate.quad(R, 0, T, limit=200)[0]

    grid = np.linspace(res_ln.age * 0.5, res_ln.age * 1.5, 201)
    brute = min(cost(g) for g in grid)
    assert res_ln.cost_rate <= brute + 1e-9
    assert res_ln.cost_rate == pytest.approx(cost(res_ln.age), rel=1e-6)
    ax = res_ln.plot()
    assert ax.get_xlabel().startswith("planned replacement age")


def test_bad_costs() -> None:
    with pytest.raises(ZkValueError, match="cost_failure"):
        weibull_age_replacement(2.0, 100.0, 5.0, 5.0)
    with pytest.raises(ZkValueError, match="fitted life model"):
        optimal_replacement_age("weibull", 1.0, 5.0)  # type: ignore[arg-type]


def _tables() -> tuple[pd.DataFrame, ...]:
    plans = pd.DataFrame({"model": ["M1"] * 4 + ["M2"] * 2,
                          "service": ["250h", "250h", "500h", "500h", "300h", "300h"],
                          "interval_hours": [250.0, 250.0, 500.0, 500.0, 300.0, 300.0],
                          "interval_days": [180, 180, 365, 365, 365, 365],
                          "part_no": ["OIL", "BELT", "BELT", "CHAIN", "CHAIN2", "GREASE"],
                          "quantity": [1, 1, 1, 1, 1, 2]})
    bom = pd.DataFrame({"model": ["M1", "M1", "M1", "M2"], "component": ["belt", "chain", "chain", "chain"],
                        "part_no": ["BELT", "CHAIN", "PIN", "CHAIN2"], "qty_per_replacement": [1, 1, 4, 1]})
    fits = pd.DataFrame({"model": ["M1", "M1", "M2"], "component": ["belt", "chain", "chain"],
                         "status": ["ok", "ok", "ok"], "shape": [2.0, 3.0, 0.9],
                         "scale": [2000.0, 600.0, 900.0]}).set_index(["model", "component"])
    parts = pd.DataFrame({"part_no": ["OIL", "BELT", "CHAIN", "PIN", "CHAIN2", "GREASE"],
                          "unit_cost": [50.0, 40.0, 100.0, 5.0, 80.0, 10.0]})
    return plans, bom, fits, parts


def test_review_maintenance_intervals_hand_checked() -> None:
    plans, bom, fits, parts = _tables()
    out = review_maintenance_intervals(plans, bom, fits, parts, failure_extra_cost=500.0,
                                       hours_per_season={"M1": 300.0, "M2": 200.0})
    assert list(out["part_no"]) == ["BELT", "CHAIN", "CHAIN2"]
    belt = out.set_index("part_no").loc["BELT"]
    # the belt is in the 250 h and 500 h kits: replaced every 250 h; cp = 40, cf = 40 + 500 (hand calculation)
    assert belt["interval_hours"] == 250.0 and belt["service"] == "250h"
    assert (belt["cost_preventive"], belt["cost_failure"]) == (40.0, 540.0)
    t_star = weibull_age_replacement(2.0, 2000.0, 40.0, 540.0)[0][0]
    assert belt["optimal_age"] == pytest.approx(t_star)
    assert belt["verdict"] == ("偏短" if 250.0 < t_star else "偏长") or belt["verdict"] == "合适"
    plan_rate = age_replacement_cost_rate(250.0, 2.0, 2000.0, 40.0, 540.0)
    opt_rate = age_replacement_cost_rate(t_star, 2.0, 2000.0, 40.0, 540.0)
    assert belt["excess_per_100_machines_season"] == pytest.approx((plan_rate - opt_rate) * 300.0 * 100.0)
    # the chain's failure replaces the chain and 4 pins: cf = 100 + 4 * 5 + 500
    chain = out.set_index("part_no").loc["CHAIN"]
    assert chain["cost_failure"] == 620.0
    # shape 0.9: no planned replacement pays, every interval is too short
    c2 = out.set_index("part_no").loc["CHAIN2"]
    assert math.isinf(c2["optimal_age"]) and c2["verdict"] == "偏短" and c2["verdict_en"] == "too short"
    assert c2["excess_per_100_machines_season"] > 0
    skipped = out.attrs["not_reviewed"]
    assert set(skipped["part_no"]) == {"OIL", "GREASE"}
    assert out["excess_per_100_machines_season"].ge(-1e-9).all()


def test_review_verdict_about_right_at_the_optimum() -> None:
    plans, bom, fits, parts = _tables()
    t_star = weibull_age_replacement(3.0, 600.0, 100.0, 620.0)[0][0]
    plans.loc[plans["part_no"] == "CHAIN", "interval_hours"] = round(t_star)
    out = review_maintenance_intervals(plans, bom, fits, parts, failure_extra_cost=500.0, hours_per_season=300.0)
    chain = out.set_index("part_no").loc["CHAIN"]
    assert chain["verdict"] == "合适" and chain["excess_per_100_machines_season"] < 1.0
    with pytest.raises(ZkValueError, match="hours_per_season"):
        review_maintenance_intervals(plans, bom, fits, parts, failure_extra_cost=500.0, hours_per_season={"M1": 1.0})
