"""Tests of zk_forecast.failures.installed_base: renewal kernels and the installed-base parts forecaster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zk_forecast.errors import ZkValueError
from zk_forecast.failures.installed_base import (
    InstalledBaseForecaster,
    _renewal_kernel,
    _Table,
    expected_renewals,
    weibull_renewal_table,
)
from zk_forecast.failures.lives import build_lives

FLAT = pd.DataFrame([[100.0] * 12], index=pd.Index(["tractor"], name="machine_type"), columns=list(range(1, 13)))


# ---------------------------------------------------------------------------------------------------- kernels
def test_renewal_table_exponential_is_poisson() -> None:
    """Shape 1: renewals form a Poisson process, M(x) = x exactly (Cox, Renewal Theory, 1962, sec. 4.1)."""
    x, m = weibull_renewal_table([1.0], 6.0, 600)
    assert m[0] == pytest.approx(x, abs=1e-4)


@pytest.mark.parametrize("shape", [0.6, 2.0])
def test_renewal_table_matches_simulation(shape: float) -> None:
    rng = np.random.default_rng(3)
    arrivals = rng.weibull(shape, (100_000, 30)).cumsum(axis=1)
    x, m = weibull_renewal_table([shape], 3.0, 1024)
    for t in (0.5, 1.0, 3.0):
        sim = (arrivals <= t).sum(axis=1).mean()  # standard error < 0.005
        assert np.interp(t, x, m[0]) == pytest.approx(sim, abs=0.02)


def test_expected_renewals_delayed_process_matches_simulation() -> None:
    """Parts of age 800 h (shape 2, scale 1000 h), windows of 200 h: simulated residual life, then new parts."""
    rng = np.random.default_rng(11)
    age, k, eta = 800.0, 2.0, 1000.0
    u = np.arange(0.0, 2001.0, 200.0)
    # residual life given survival to `age`, by inversion of R(a + s) / R(a)
    v = rng.random(200_000)
    first = eta * ((age / eta) ** k - np.log(v)) ** (1 / k) - age
    times = first[:, None] + np.c_[np.zeros(v.size), eta * rng.weibull(k, (v.size, 15)).cumsum(axis=1)]
    sim = np.diff(np.stack([(times <= b).sum(axis=1).mean() for b in u]))
    got = expected_renewals([age], u[None, :], [k], [eta])[0]
    assert got == pytest.approx(sim, abs=0.01)
    # memoryless check: shape 1 gives hours / scale whatever the age. Hand value of the mid-point scheme for a
    # window of 0.4 scale: (1 - e^-0.4) * (1 + 0.2) = 0.3956 against the exact 0.4 (its 1 % discretisation error;
    # weekly windows are under 0.15 scale in practice, error < 0.2 %)
    exp = expected_renewals([0.0, 5000.0], np.tile(u, (2, 1)), [1.0, 1.0], [500.0, 500.0])
    assert exp[:, 0] == pytest.approx((1 - np.exp(-0.4)) * 1.2, rel=1e-3)
    assert exp == pytest.approx(np.full((2, u.size - 1), 200.0 / 500.0), rel=0.012)


def _renewal_reference(age: np.ndarray, hours: np.ndarray, shape: np.ndarray, scale: np.ndarray, curve: np.ndarray,
                       curves: np.ndarray, step: np.ndarray, tol: float = 1e-7) -> np.ndarray:
    """The former array version of the renewal kernel (one row per machine x draw), kept as the reference."""
    n, nb = hours.shape
    w = nb - 1
    z0 = (age / scale) ** shape
    surv = np.exp(z0[:, None] - ((age[:, None] + hours) / scale[:, None]) ** shape[:, None])
    p = surv[:, :-1] - surv[:, 1:]
    mid = 0.5 * (hours[:, :-1] + hours[:, 1:])
    cum = np.cumsum(p, axis=1)
    g = curves.shape[1] - 1
    live = np.flatnonzero((1.0 - surv[:, -1]) * curves[curve, -1] > tol)
    flat = curves.ravel()
    inv = 1.0 / step[curve[live]]
    base = curve[live] * (g + 1)
    h_l, mid_l, p_l = hours[live], mid[live], p[live]
    add = np.zeros((live.size, w))
    for i in range(w):
        pos = np.minimum((h_l[:, i + 1:] - mid_l[:, i: i + 1]) * inv[:, None], g - 1e-9)
        i0 = pos.astype(np.intp)
        wx = pos - i0
        idx = base[:, None] + i0
        later = flat[idx] + (flat[idx + 1] - flat[idx]) * wx
        add[:, i:] += p_l[:, i: i + 1] * later
    cum[live] += add
    return np.diff(cum, axis=1, prepend=0.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_renewal_kernel_equals_the_array_reference(seed: int) -> None:
    """Rows x draws of the compiled kernel agree with the array version on repeated rows, to rounding."""
    rng = np.random.default_rng(seed)
    n, n_groups, n_draws, w, n_grid = 37, 4, 6, 9, 64
    age = rng.uniform(0.0, 3000.0, n) * (rng.random(n) > 0.2)  # some new parts (age 0)
    work = rng.uniform(0.0, 400.0, (n, w)) * (rng.random((n, w)) < 0.6)  # idle windows (winter) included
    hours = np.c_[np.zeros(n), np.cumsum(work, axis=1)]
    hours[3] = 0.0  # a machine that does not work
    group = rng.integers(0, n_groups, n)
    shape = np.clip(rng.lognormal(np.log(2.0), 0.5, (n_groups, n_draws)), 0.2, 20.0)
    scale = rng.uniform(500.0, 5000.0, (n_groups, n_draws))
    curve = np.arange(n_groups * n_draws).reshape(n_groups, n_draws)
    span = np.maximum(np.bincount(group, weights=hours[:, -1], minlength=n_groups), 1.0)
    x_max = span[:, None] / scale
    curves = _Table(float(x_max.max()) * 1.001).curves(shape.ravel(), x_max.ravel(), n_grid)
    step = np.repeat(span, n_draws) / n_grid
    for tol in (1e-7, 0.05):  # 0.05 skips the later renewals of some rows
        got = _renewal_kernel(age, hours, group, shape, scale, curve, curves, step, tol=tol)
        ref = _renewal_reference(np.repeat(age, n_draws), np.repeat(hours, n_draws, axis=0),
                                 shape[group].ravel(), scale[group].ravel(), curve[group].ravel(), curves, step,
                                 tol).reshape(n, n_draws, w)
        # numpy's SIMD exp/** and numba's libm round differently, and exp(z0 - z) of cumulative hazards
        # z0 <= z scales a last-bit difference by z: 8 ulps of the largest cumulative value (>= 1) x (1 + z)
        ulp = np.spacing(max(1.0, float(np.abs(np.cumsum(ref, axis=-1)).max())))
        z = ((age[:, None] + hours[:, -1:]) / scale[group]) ** shape[group]  # per row and draw [-]
        bound = np.broadcast_to(8 * ulp * (1 + z)[:, :, None], ref.shape)
        np.testing.assert_array_less(np.abs(got - ref), bound)
        part = _renewal_kernel(age, hours, group, shape, scale, curve, curves, step, range(2, 5), tol=tol)
        np.testing.assert_array_equal(part, got[:, 2:5])  # one kernel, draws computed apart: the same bits


def test_expected_renewals_bad_hours() -> None:
    with pytest.raises(ZkValueError, match="start at 0 and not decrease"):
        expected_renewals([0.0], [[0.0, 10.0, 5.0]], [2.0], [100.0])


# ------------------------------------------------------------------------------------------------ forecaster
def _world(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Tractors on a flat 100 h/month profile; clutch Weibull(2, 600 h) renewed on failure; a pump that never
    failed; tickets carry exact hours."""
    rng = np.random.default_rng(seed)
    sale = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    machines = pd.DataFrame({"serial_no": [f"M{i:03d}" for i in range(n)], "manufacturer": "M", "model": "T1",
                             "machine_type": "tractor", "depot_id": np.where(np.arange(n) % 2, "D1", "D2"),
                             "sale_date": sale, "build_date": sale - pd.Timedelta(days=30)})
    as_of = pd.Timestamp("2025-01-01")
    rows = []
    for i, s in enumerate(sale):
        total = (as_of - s).days / 30.4375 * 100.0
        t = 600.0 * rng.weibull(2.0)
        while t < total:
            rows.append((machines["serial_no"][i], s + pd.Timedelta(days=t / 100.0 * 30.4375), "failure", "clutch", t))
            t += 600.0 * rng.weibull(2.0)
        rows.append((machines["serial_no"][i], s + pd.Timedelta(days=1), "installation", None, 100.0 / 30.4375))
    tickets = pd.DataFrame(rows, columns=["serial_no", "reported_at", "kind", "component", "machine_hours"])
    bom = pd.DataFrame({"model": ["T1", "T1", "T1"], "component": ["clutch", "clutch", "pump"],
                        "part_no": ["DISC", "BEARING", "PUMP"], "qty_per_replacement": [1, 2, 1]})
    lives = build_lives(tickets, machines, bom, as_of=as_of, usage=FLAT, history_start="2022-01-01")
    return machines, tickets, bom, lives


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return _world()


def test_forecaster_long_format_and_long_run_rate(world: tuple[pd.DataFrame, ...]) -> None:
    machines, _, bom, lives = world
    fc = InstalledBaseForecaster(level=(0.9,), n_draws=40, n_rep=20).fit(lives, machines, bom)
    out = fc.predict(8)
    assert list(out.columns) == ["unique_id", "ds", "installed_base", "installed_base-lo-90",
                                 "installed_base-hi-90"]
    assert set(out["unique_id"]) == {f"{p}|{d}" for p in ("DISC", "BEARING", "PUMP") for d in ("D1", "D2")}
    assert (out["ds"].dt.day_of_week == 0).all() and out["ds"].min() == pd.Timestamp("2025-01-06")
    assert (out["installed_base-lo-90"] <= out["installed_base-hi-90"]).all()
    by_part = out.assign(part=out["unique_id"].str.split("|").str[0]).groupby("part")["installed_base"].sum()
    assert by_part["BEARING"] == pytest.approx(2 * by_part["DISC"])  # qty_per_replacement
    # renewal theory: in the long run 1 / mean life replacements per hour; mean life = 600 * Gamma(1.5) = 531.7 h.
    # 60 machines x 100 h/month x 8 weeks (1.84 months) / 531.7 h = 20.8 discs, give or take the fitted scale
    assert 14 < by_part["DISC"] < 28
    assert by_part["PUMP"] < 0.2 * by_part["DISC"]  # never failed: Weibayes posterior mean, small
    again = InstalledBaseForecaster(level=(0.9,), n_draws=40, n_rep=20).fit(lives, machines, bom).predict(8)
    pd.testing.assert_frame_equal(out, again, check_exact=True)  # seeded: the same bits


def test_forecaster_monthly_future_sales_and_totals(world: tuple[pd.DataFrame, ...]) -> None:
    machines, _, bom, lives = world
    fc = InstalledBaseForecaster(level=(0.8, 0.95), n_draws=30, n_rep=10, freq="MS").fit(lives, machines, bom)
    base = fc.predict(3)
    assert list(base["ds"].drop_duplicates().dt.strftime("%Y-%m-%d")) == ["2025-01-01", "2025-02-01", "2025-03-01"]
    sales = pd.DataFrame({"ds": ["2025-01-01"], "model": ["T1"], "depot_id": ["D9"], "quantity": [50]})
    more = fc.predict(3, future_sales=sales)
    new = more[more["unique_id"] == "DISC|D9"]["installed_base"].to_numpy()
    # hand calculation: 50 new machines, 100 h in each month, the fitted clutch Weibull: 50 * (F(100) - F(0)),
    # 50 * (F(200) - F(100)), ...; renewals of the new parts add M(300 h) / F(300 h) - 1 = 2.8 % by 300 h, most of
    # it in the third month
    k, eta = fc.params_.loc[("T1", "clutch"), ["shape", "scale"]]
    f = 1 - np.exp(-((np.array([0.0, 100.0, 200.0, 300.0]) / eta) ** k))
    assert new == pytest.approx(50 * np.diff(f), rel=0.06) and new[2] > 50 * (f[3] - f[2])
    tot = fc.predict_totals(3)
    assert tot.loc["DISC", "installed_base"] == pytest.approx(
        base[base["unique_id"].str.startswith("DISC|")]["installed_base"].sum())
    assert (tot["installed_base-lo-95"] <= tot["installed_base-lo-80"]).all()
    assert (tot["installed_base-hi-80"] <= tot["installed_base-hi-95"]).all()


def test_forecaster_bad_input(world: tuple[pd.DataFrame, ...]) -> None:
    machines, _, bom, lives = world
    fc = InstalledBaseForecaster(n_draws=20, n_rep=2).fit(lives, machines, bom)
    with pytest.raises(ZkValueError, match="`h` must be an int >= 1"):
        fc.predict(0)
    with pytest.raises(ZkValueError, match="before the knowledge date"):
        fc.predict(4, as_of="2024-06-01")
    with pytest.raises(ZkValueError, match="not one of the forecast periods"):
        fc.predict(2, future_sales=pd.DataFrame({"ds": ["2030-01-06"], "model": ["T1"], "depot_id": ["D1"],
                                                 "quantity": [1]}))
    with pytest.raises(ZkValueError, match="not in the machines table"):
        fc.predict(2, future_sales=pd.DataFrame({"ds": ["2025-01-06"], "model": ["ZZ"], "depot_id": ["D1"],
                                                 "quantity": [1]}))
    with pytest.raises(ZkValueError, match="not fitted yet"):
        InstalledBaseForecaster().predict(3)
    with pytest.raises(ZkValueError, match="'n_draws' parameter"):
        InstalledBaseForecaster(n_draws=3).fit(lives, machines, bom)
    # documented answer: a model without component_parts lines is left out, with a warning naming it
    odd = pd.concat([machines, machines.iloc[:1].assign(serial_no="X1", model="T9")], ignore_index=True)
    with pytest.warns(UserWarning, match=r"T9"):
        fc2 = InstalledBaseForecaster(n_draws=20, n_rep=2).fit(lives, odd, bom)
    assert fc2.unmapped_models_ == ["T9"] and "X1" not in set(fc2.state_["serial_no"])
