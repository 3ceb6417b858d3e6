"""The service layer on the demo data: the planted price difference and nothing else; KPI and reminder smoke."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from zk_forecast.data import Store, ingest
from zk_forecast.data.demo import generate
from zk_forecast.service import maintenance_due, price_differences, service_kpis


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict]:
    root = tmp_path_factory.mktemp("service_demo")
    generate(root / "raw", scale="small", seed=7)
    ingest(root / "raw", root / "store")
    truth = json.loads(Path(root / "raw" / "ground_truth.json").read_text(encoding="utf-8"))
    return Store(root / "store"), truth


def test_price_check_finds_planted_difference_only(demo: tuple[Store, dict]) -> None:
    store, truth = demo
    planted = truth["planted_effects"]["price_difference"]
    r = price_differences(store.read("part_issues"))
    assert set(r.summary["depot_id"]) == {planted["depot_id"]}
    assert set(r.summary["part_no"]) == set(planted["part_nos"])
    # unit prices are rounded to the fen after the x1.08 factor, so +8 % within 0.02 points
    assert r.table["difference_pct"].between(7.98, 8.02).all()


def test_kpis_smoke(demo: tuple[Store, dict]) -> None:
    store, _ = demo
    tickets, issues = store.read("tickets"), store.read("part_issues")
    k = service_kpis(tickets, issues, wear_list={"HT-YP001"})
    o = k.overall.iloc[0]
    assert o["onsite_calls"] > 500 and 0.3 < o["onsite_on_time_share"] < 1
    assert 0 < o["arrival_median_h"] < o["arrival_p90_h"] < 12
    assert o["loaners_owed"] == o["loaners_issued_late"] + o["loaners_missing"] > 0
    assert set(k.by_depot_month["depot_id"]) == {"YC01", "PL01", "QT01", "GY01"}
    assert k.by_depot_month["onsite_calls"].sum() == o["onsite_calls"]
    assert len(k.to_report("en", "by_engineer")) == len(k.by_engineer) > 0


def test_reminders_smoke(demo: tuple[Store, dict]) -> None:
    store, _ = demo
    r = maintenance_due(store.read("machines"), store.read("tickets"), store.read("maintenance_plans"),
                        store.read("part_issues"), horizon_days=30, follow_up_days=180)
    t = r.table
    assert {"maintenance", "follow_up"} <= set(t["task"])
    assert (t["due_date"] <= r.as_of + pd.Timedelta(days=30)).all()
    assert t.equals(t.sort_values(["depot_id", "due_date", "serial_no", "task", "service"], kind="stable"))
    assert (t.loc[t["task"] == "maintenance", "kit"] != "").all() and r.kits["quantity"].gt(0).all()
