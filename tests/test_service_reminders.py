"""Maintenance-due list on hand-made machines (hours-first, days-first, one-off first service, follow-ups).

Usage profile: tractors work 120 h every month, so a machine read on its profile has usage factor 1
(f = (H + 50) / (P + 50), lives.machine_hours). Hand calculation for M1: 600 h at 2024-06-01 (250 h service),
next due at 850 h; at as_of 2024-07-20 it has 600 + 120 + 120 * 19/31 = 793.55 h; 56.45 h more: 12 days of July
(46.45 h) then 120/31 h a day in August reach 56.45 h by the start of 4 August.
"""

from __future__ import annotations

import pandas as pd
import pytest

from zk_forecast.errors import ZkValueError
from zk_forecast.service import maintenance_due

AS_OF = "2024-07-20"


def _world() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    machines = pd.DataFrame({
        "serial_no": ["M1", "M2", "M3"], "model": ["T1"] * 3, "machine_type": ["tractor"] * 3,
        "depot_id": ["YC01", "PL01", "YC01"], "customer_id": ["C1", "C2", "C3"],
        "sale_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-07-10"]),
    })
    tickets = pd.DataFrame({
        "ticket_id": ["T-M1", "T-M2"], "serial_no": ["M1", "M2"], "kind": ["maintenance"] * 2,
        "reported_at": pd.to_datetime(["2024-06-01 09:00", "2024-03-01 09:00"]), "machine_hours": [600.0, 10.0],
    })
    plans = pd.DataFrame({
        "model": ["T1"] * 3, "service": ["首次保养(50小时)", "250小时保养", "250小时保养"],
        "interval_hours": [50.0, 250.0, 250.0], "interval_days": [30, 180, 180],
        "part_no": ["K1", "K1", "K2"], "quantity": [1, 1, 2],
    })
    issues = pd.DataFrame({"ticket_id": ["T-M1", "T-M1", "T-M2", "T-M2"], "part_no": ["K1", "K2", "K1", "K2"],
                           "kind": ["maintenance"] * 4})
    usage = pd.DataFrame([[120.0] * 12], index=pd.Index(["tractor"], name="machine_type"), columns=range(1, 13))
    return machines, tickets, plans, issues, usage


def test_hours_first_days_first_and_one_off() -> None:
    machines, tickets, plans, issues, usage = _world()
    r = maintenance_due(machines, tickets, plans, issues, as_of=AS_OF, horizon_days=45, follow_up_days=None,
                        usage=usage)
    t = r.table.set_index("serial_no")
    assert set(t.index) == {"M1", "M2", "M3"}
    # M1: hours first (4 Aug) before days (2024-06-01 + 180 d = 28 Nov)
    assert t.loc["M1", "service"] == "250小时保养" and t.loc["M1", "due_by"] == "hours"
    assert t.loc["M1", "due_date"] == pd.Timestamp("2024-08-04")
    assert t.loc["M1", "hours_now"] == pytest.approx(600 + 120 + 120 * 19 / 31) and t.loc["M1", "due_hours"] == 850.0
    # M2: light user (factor (10 + 50) / (240 + 50)); days first: 2024-03-01 + 180 d = 28 Aug
    assert t.loc["M2", "due_by"] == "days" and t.loc["M2", "due_date"] == pd.Timestamp("2024-08-28")
    assert t.loc["M2", "kit"] == "K1×1; K2×2"
    # M3: never serviced; its one-off first service is due by hours (about 39 h at as_of, 50 h within days)
    assert t.loc["M3", "service"] == "首次保养(50小时)" and t.loc["M3", "due_by"] == "hours"
    assert pd.Timestamp(AS_OF) < t.loc["M3", "due_date"] < pd.Timestamp("2024-07-25")
    assert not r.table["overdue"].any()
    # sorted by depot then due date; kits per depot
    assert r.table["serial_no"].tolist() == ["M2", "M3", "M1"]
    kits = r.kits.set_index(["depot_id", "part_no"])["quantity"].to_dict()
    assert kits == {("PL01", "K1"): 1, ("PL01", "K2"): 2, ("YC01", "K1"): 2, ("YC01", "K2"): 2}
    rep = r.to_report()
    assert list(rep.columns[:3]) == ["网点", "到期日期", "出厂编号"] and rep["到期依据"].iloc[0] == "按天数"


def test_window_and_follow_up() -> None:
    machines, tickets, plans, issues, usage = _world()
    r = maintenance_due(machines, tickets, plans, issues, as_of=AS_OF, horizon_days=20, follow_up_days=60,
                        usage=usage)
    t = r.table
    assert set(t.loc[t["task"] == "maintenance", "serial_no"]) == {"M1", "M3"}  # M2's 28 Aug is beyond 9 Aug
    fu = t[t["task"] == "follow_up"].set_index("serial_no")
    # last contact + 60 d: M2 2024-03-01 -> 30 Apr (overdue); M1 2024-06-01 -> 31 Jul; M3 sold 10 Jul -> 8 Sep
    assert set(fu.index) == {"M1", "M2"}
    assert fu.loc["M2", "due_date"] == pd.Timestamp("2024-04-30") and bool(fu.loc["M2", "overdue"])
    assert fu.loc["M1", "due_date"] == pd.Timestamp("2024-07-31")
    assert set(r.by_depot()) == {"PL01", "YC01"}


def test_without_issues_every_maintenance_counts_and_errors() -> None:
    machines, tickets, plans, _, usage = _world()
    r = maintenance_due(machines, tickets, plans, as_of=AS_OF, horizon_days=45, follow_up_days=None, usage=usage)
    assert set(r.table["serial_no"]) == {"M1", "M2", "M3"}
    with pytest.raises(ZkValueError, match=r"maintenance_plans table lacks column\(s\) \['interval_days'\]"):
        maintenance_due(machines, tickets, plans.drop(columns="interval_days"))
    with pytest.raises(ZkValueError, match="horizon_days"):
        maintenance_due(machines, tickets, plans, horizon_days=-1)
