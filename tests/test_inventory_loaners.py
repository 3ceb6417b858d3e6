"""Loaner pool (周转件): Palm's theorem quantiles, Erlang B, the M_t/G/∞ load and a demo smoke test.

Reference numbers are hand calculations from the Poisson pmf (checked against scipy.stats.poisson) and the
Erlang B recursion ``B(n) = a B(n-1) / (n + a B(n-1))``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from zk_forecast.data import Store, demo, ingest
from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.loaners import (
    LoanerPool,
    erlang_b,
    late_repairs,
    loaner_pool,
    pool_probabilities,
    pool_size,
    time_varying_load,
)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The small demo, generated and ingested once per session (shared with the other inventory tests)."""
    root = tmp_path_factory.getbasetemp() / "inventory_demo"
    if not (root / "store").exists():
        demo.generate(root / "raw", scale="small", seed=7)
        ingest(root / "raw", root / "store")
    return Store(root / "store")


# ------------------------------------------------------------------------------------------------ kernels
def test_pool_size_hand_calculation_load_2() -> None:
    # Poisson(2): P(N<=4) = 7e^-2 = 0.9473, P(N<=5) = 0.9834 (hand, = scipy.stats.poisson.cdf)
    assert stats.poisson.cdf(4, 2.0) == pytest.approx(7 * np.exp(-2), rel=1e-12)
    assert int(pool_size(2.0, 0.95, "ready")) == 5
    assert int(pool_size(2.0, 0.95, "fill")) == 6  # a late customer needs N <= n - 1
    assert int(pool_size(2.0, 0.94, "ready")) == 4


@pytest.mark.parametrize("load", [0.05, 0.3, 1.0, 2.7, 8.0, 25.0])
@pytest.mark.parametrize("target", [0.8, 0.9, 0.95, 0.99])
def test_pool_size_is_the_poisson_quantile(load: float, target: float) -> None:
    n_ready = int(pool_size(load, target, "ready"))
    assert stats.poisson.cdf(n_ready, load) >= target
    assert n_ready == 0 or stats.poisson.cdf(n_ready - 1, load) < target
    n_fill = int(pool_size(load, target, "fill"))
    p = pool_probabilities(n_fill, load)
    assert p["p_fill"] >= target and n_fill == n_ready + 1
    n_erl = int(pool_size(load, target, "erlang"))
    assert 1 - erlang_b(n_erl, load) >= target - 1e-12
    assert n_erl == 0 or 1 - erlang_b(n_erl - 1, load) < target
    assert n_erl <= n_fill  # B(n, a) <= P(N >= n)


def test_zero_load_needs_no_loaner() -> None:
    assert pool_size([0.0, 0.0], 0.99, "fill").tolist() == [0, 0]
    assert float(erlang_b(0, 0.0)) == 0.0


def test_erlang_b_recursion() -> None:
    a = 1.7
    b = 1.0
    for n in range(1, 8):  # B(n) = a B(n-1) / (n + a B(n-1)), B(0) = 1
        b = a * b / (n + a * b)
        assert float(erlang_b(n, a)) == pytest.approx(b, rel=1e-12)


def test_bad_target_is_a_clear_error() -> None:
    with pytest.raises(ZkValueError, match="target"):
        pool_size(1.0, 1.0)
    with pytest.raises(ZkValueError, match="criterion"):
        pool_size(1.0, 0.9, "nearest")


def test_time_varying_equals_stationary_for_constant_rate() -> None:
    rng = np.random.default_rng(3)
    d = rng.gamma(2.0, 6.0, size=200)  # loan durations [days]
    m = time_varying_load(np.full(365, 0.2), d)
    assert np.allclose(m, 0.2 * d.mean(), rtol=1e-12)  # Palm: λ E[T] on every day
    assert (pool_size(m, 0.95) == pool_size(0.2 * d.mean(), 0.95)).all()


def test_time_varying_load_follows_a_step() -> None:
    # λ = 1/day on days 100..199 only, loans of exactly 10 days: m = 10 inside after 10 days, 0 well after
    rate = np.zeros(365)
    rate[100:200] = 1.0
    m = time_varying_load(rate, np.array([10.0]))
    assert m[150] == pytest.approx(10.0)
    assert m[95] == pytest.approx(0.0) and m[215] == pytest.approx(0.0)
    assert m[104] == pytest.approx(5.0)  # 5 arrivals so far, each out for a full day


def test_time_varying_wraps_around_the_year() -> None:
    rate = np.zeros(365)
    rate[360:] = 1.0
    m = time_varying_load(rate, np.array([20.0]))
    assert m[5] == pytest.approx(5.0)  # December's loans still out in January


# ------------------------------------------------------------------------------------------- estimation
def _tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    machines = pd.DataFrame({
        "serial_no": ["M1", "M2"], "model": ["X-1", "Y-1"], "machine_type": ["combine", "tractor"],
        "sale_date": pd.to_datetime(["2024-01-01", "2024-01-01"]), "warranty_months": [24, 24],
        "depot_id": ["YC01", "PL01"],
    })
    tickets = pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3", "T4"], "serial_no": ["M1", "M1", "M2", "M2"],
        "kind": ["failure", "failure", "failure", "maintenance"], "in_warranty": [True, True, True, True],
        # T1 Mon 2024-06-03 -> deadline end of Thu 06-06; resolved Mon 06-10 = 4 working days: late, 3.5 days
        # T2 resolved within 3 working days; T3 National Day 2024: Sep 30 -> Oct 8 is 1 working day: not late
        "reported_at": pd.to_datetime(["2024-06-03 09:00", "2024-07-01 09:00", "2024-09-30 09:00",
                                       "2024-06-03 09:00"]),
        "resolved_at": pd.to_datetime(["2024-06-10 12:00", "2024-07-03 09:00", "2024-10-08 09:00",
                                       "2024-06-20 09:00"]),
        "loaner_issued": [True, False, False, False],
    })
    return tickets, machines


def test_late_repairs_use_the_chinese_working_day_calendar() -> None:
    tickets, _ = _tiny()
    late = late_repairs(tickets)
    assert late["ticket_id"].tolist() == ["T1"]
    assert late["deadline"].iloc[0] == pd.Timestamp("2024-06-07")
    assert late["loan_days"].iloc[0] == pytest.approx(3.5)  # Fri 00:00 -> Mon 12:00


def test_pool_fit_on_a_tiny_fleet() -> None:
    tickets, machines = _tiny()
    pool = LoanerPool(target=0.9, as_of="2024-12-31").fit(tickets, machines)
    s = pool.summary_
    assert s.loc["combine", "n_late"] == 1 and s.loc["tractor", "n_late"] == 0
    expo = (pd.Timestamp("2024-12-31") - pd.Timestamp("2024-06-03")).days + 1  # ticket history span
    assert s.loc["combine", "exposure_machine_days"] == expo
    assert s.loc["combine", "rate_per_day"] == pytest.approx(1 / expo)  # one machine in warranty
    assert s.loc["combine", "load"] == pytest.approx(3.5 / expo)
    assert s.loc["tractor", "pool_size"] == 0 and s.loc["combine", "pool_size"] == 1
    assert s.loc["combine", "loaners_issued"] == 1
    assert "<table" in pool._repr_html_()


def test_demo_smoke(demo_store: Store) -> None:
    tickets, machines = demo_store.read("tickets"), demo_store.read("machines")
    out = loaner_pool(tickets, machines, target=0.95)
    assert set(out.index) == {"baler", "combine", "seeder", "tractor"}
    assert (out["pool_size"] >= 1).all()
    assert (out["pool_size_peak"] >= out["pool_size"] - 1).all()
    # combines peak in the harvest (Jun-Oct), not in February
    monthly = out.loc["combine", [f"m{m:02d}" for m in range(1, 13)]].to_numpy()
    assert monthly[5:10].max() > monthly[1]
    assert (out["p_fill"] >= 0.95).all()
