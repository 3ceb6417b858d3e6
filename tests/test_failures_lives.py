"""Tests of zk_forecast.failures.lives: usage profile, hours at a date, and the life table per machine x component.

Reference numbers are hand calculations on a flat profile of 100 h in every month (so a machine's hours grow by
100 h per calendar month, spread evenly over the month's days).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zk_forecast.errors import ZkValueError
from zk_forecast.failures.groups import fit_groups
from zk_forecast.failures.lives import build_lives, machine_hours, usage_profile

FLAT = pd.DataFrame([[100.0] * 12], index=pd.Index(["tractor"], name="machine_type"), columns=list(range(1, 13)))


def _machines() -> pd.DataFrame:
    return pd.DataFrame({
        "serial_no": ["A", "B"], "manufacturer": ["M", "M"], "model": ["T1", "T1"],
        "machine_type": ["tractor", "tractor"], "depot_id": ["D1", "D2"],
        "sale_date": pd.to_datetime(["2024-01-01", "2024-01-01"]),
        "build_date": pd.to_datetime(["2023-12-01", "2023-12-01"]),
    })


def _tickets() -> pd.DataFrame:
    return pd.DataFrame({
        "ticket_id": ["t1", "t2", "t3", "t4"],
        "serial_no": ["A", "A", "A", "A"],
        "reported_at": pd.to_datetime(["2024-04-01", "2024-08-01", "2024-08-01", "2024-09-01"]),
        "kind": ["failure", "failure", "failure", "maintenance"],
        "component": ["clutch", "clutch", "clutch", None],
        "machine_hours": [300.0, 700.0, 700.0, 800.0],  # t3 duplicates t2: counted once
    })


BOM = pd.DataFrame({"model": ["T1", "T1"], "component": ["clutch", "pump"], "part_no": ["P1", "P2"],
                    "qty_per_replacement": [1, 2]})


def test_lives_by_hand() -> None:
    lives = build_lives(_tickets(), _machines(), BOM, as_of="2025-01-01", usage=FLAT, history_start="2024-01-01")
    a = lives[lives["serial_no"] == "A"].set_index(["component", "life_no"])
    # A's meter reads 800 h on 2024-09-01 = 8 months after the sale at exactly 100 h/month: factor 1;
    # 4 more months to 2025-01-01 -> 1200 h
    assert lives["usage_factor"].iloc[0] == pytest.approx(1.0)
    assert list(a.loc["clutch", "time"]) == pytest.approx([300.0, 400.0, 500.0])
    assert list(a.loc["clutch", "censored"]) == [0, 0, 1]
    assert list(a.loc["clutch", "start_hours"]) == pytest.approx([0.0, 300.0, 700.0])
    assert a.loc[("pump", 1), "time"] == pytest.approx(1200.0) and a.loc[("pump", 1), "censored"] == 1
    # B has no ticket: one censored life per component at 12 months x 100 h
    b = lives[lives["serial_no"] == "B"]
    assert list(b["component"]) == ["clutch", "pump"] and b["time"].to_numpy() == pytest.approx([1200.0] * 2)
    assert (lives["entry"] == 0).all() and not lives["hours_imputed"].any()
    # by default the records start at the first ticket (2024-04-01, 300 h): first lives are left-truncated there,
    # except where the life ended by then (A's first clutch failed at 300 h: entry 0)
    default = build_lives(_tickets(), _machines(), BOM, as_of="2025-01-01", usage=FLAT)
    assert list(default.loc[default["life_no"] == 1, "entry"]) == pytest.approx([0.0, 300.0, 300.0, 300.0])
    assert lives.attrs["as_of"] == pd.Timestamp("2025-01-01")
    assert list(lives.columns[:14]) == ["serial_no", "model", "manufacturer", "machine_type", "depot_id",
                                        "component", "build_date", "sale_date", "life_no", "start_hours",
                                        "end_hours", "time", "censored", "entry"]
    fit_groups(lives, ["model", "component"], "time", censored="censored", entry="entry")  # accepted as is


def test_as_of_cuts_the_history() -> None:
    lives = build_lives(_tickets(), _machines(), BOM, as_of="2024-06-01", usage=FLAT)
    a = lives[(lives["serial_no"] == "A") & (lives["component"] == "clutch")]
    # only the 300 h failure is known; the meter is extrapolated from it: 300 + 2 months x 100 h
    assert list(a["time"]) == pytest.approx([300.0, 200.0]) and list(a["censored"]) == [0, 1]


def test_missing_failure_hours_are_interpolated_and_flagged() -> None:
    t = _tickets()
    t.loc[0, "machine_hours"] = np.nan
    lives = build_lives(t, _machines(), BOM, as_of="2025-01-01", usage=FLAT, history_start="2024-01-01")
    first = lives[(lives["serial_no"] == "A") & (lives["component"] == "clutch")].iloc[0]
    # between the sale (0 h, 2024-01-01) and the 700 h reading of 2024-08-01: 3 of 7 profile months -> 300 h
    assert first["time"] == pytest.approx(300.0) and bool(first["hours_imputed"])


def test_left_truncation_when_records_start_late() -> None:
    lives = build_lives(_tickets(), _machines(), BOM, as_of="2025-01-01", usage=FLAT, history_start="2024-03-01")
    first = lives[(lives["serial_no"] == "B") & (lives["component"] == "pump")].iloc[0]
    assert first["entry"] == pytest.approx(200.0)  # B's hours on 2024-03-01: two months at 100 h
    later = lives[(lives["serial_no"] == "A") & (lives["component"] == "clutch") & (lives["life_no"] > 1)]
    assert (later["entry"] == 0).all()


def test_usage_profile_recovers_seasonal_hours() -> None:
    """Machines whose meters advance exactly on a known profile: NNLS returns that profile."""
    true = np.array([0, 0, 40, 80, 60, 20, 10, 0, 30, 50, 10, 0], float)
    dates = pd.date_range("2022-01-01", "2024-12-01", freq="MS")
    cum = np.r_[0.0, np.cumsum(np.tile(true, 3))][: len(dates)]
    rows = []
    for m in range(6):
        for i in range(1 + m, len(dates), 2 + m % 3):
            rows.append((f"S{m}", dates[i], cum[i]))
    t = pd.DataFrame(rows, columns=["serial_no", "reported_at", "machine_hours"])
    mach = pd.DataFrame({"serial_no": [f"S{m}" for m in range(6)], "model": "X", "machine_type": "seeder",
                         "sale_date": pd.Timestamp("2022-01-01")})
    prof = usage_profile(t, mach)
    assert prof.loc["seeder"].to_numpy() == pytest.approx(true, abs=1e-6)
    mh = machine_hours(t, mach, usage=prof, as_of="2025-01-01")
    assert mh["usage_factor"].to_numpy() == pytest.approx(1.0, abs=1e-9)
    assert mh["hours"].to_numpy() == pytest.approx(3 * true.sum())


def test_bad_input() -> None:
    t = _tickets()
    t.loc[1, "machine_hours"] = -5.0
    with pytest.raises(ZkValueError, match="Negative machine_hours -5.0 .* machine 'A'"):
        build_lives(t, _machines(), BOM, usage=FLAT)
    with pytest.raises(ZkValueError, match="is not after the start of the data"):
        build_lives(_tickets(), _machines(), BOM, as_of="2020-01-01", usage=FLAT)
    with pytest.raises(ZkValueError, match="lacks column"):
        build_lives(_tickets().drop(columns="kind"), _machines(), BOM, usage=FLAT)
    with pytest.raises(ZkValueError, match="no profile for machine type"):
        build_lives(_tickets(), _machines().assign(machine_type="combine"), BOM, usage=FLAT)
    with pytest.raises(ZkValueError, match="columns 1..12"):
        build_lives(_tickets(), _machines(), BOM, usage=FLAT.rename(columns={1: "jan"}))


def test_model_without_component_parts_gets_its_failed_components_only() -> None:
    """Documented answer: a model missing from component_parts has lives for the components seen failing."""
    m = _machines().assign(model=["T9", "T1"])
    lives = build_lives(_tickets(), m, BOM, usage=FLAT, as_of="2025-01-01")
    assert sorted(lives.loc[lives["serial_no"] == "A", "component"].unique()) == ["clutch"]
