"""Tests of the demand panel (zk_forecast.demand.panel): hand-built issues, long format, and the demo dealer."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zk_forecast.data import Store, demo, ingest
from zk_forecast.demand.classify import classify
from zk_forecast.demand.panel import Panel, build_panel, resolve_supersession
from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.schema import DEMAND_KINDS

NAN = np.nan


def issues_frame(rows: list[tuple[str, str, str, int, str]]) -> pd.DataFrame:
    """part_issues in canonical dtypes from (issued_on, depot_id, part_no, quantity, kind) tuples."""
    df = pd.DataFrame(rows, columns=["issued_on", "depot_id", "part_no", "quantity", "kind"])
    df.insert(0, "issue_id", [f"I{i}" for i in range(len(df))])
    return df.astype({"issued_on": "datetime64[ns]", "depot_id": "string", "part_no": "string",
                      "quantity": "Int64", "kind": "string", "issue_id": "string"})


# Four ISO weeks from Monday 2024-01-01. Hand calculation of the expected weekly panel:
#   P1|YC: wk1 repair 2 + counter_sale 1 = 3; wk2 only a transfer (not demand) = 0;
#          wk3 return -1 + maintenance 3 = 2; wk4 return -4 → net -4, clipped to 0 (4 added back)
#   P2|PL: P0 (P0 → P5 → P2) repair 1 in wk1, counter_sale 4 in wk3 → [1, 0, 4, 0]
#   P2|YC: P5 (P5 → P2) repair 2 in wk2 → [NaN, 2, 0, 0] (listed from wk2)
#   P1 at GY01 has only a transfer: no series.
ROWS = [
    ("2024-01-02", "YC01", "P1", 2, "repair"),
    ("2024-01-03", "YC01", "P1", 1, "counter_sale"),
    ("2024-01-10", "YC01", "P1", 5, "transfer"),
    ("2024-01-17", "YC01", "P1", -1, "return"),
    ("2024-01-18", "YC01", "P1", 3, "maintenance"),
    ("2024-01-24", "YC01", "P1", -4, "return"),
    ("2024-01-16", "PL01", "P2", 4, "counter_sale"),
    ("2024-01-01", "PL01", "P0", 1, "repair"),
    ("2024-01-09", "YC01", "P5", 2, "repair"),
    ("2024-01-11", "GY01", "P1", 3, "transfer"),
]
PARTS = pd.DataFrame({"part_no": ["P0", "P1", "P2", "P5"], "unit_cost": [10.0, 2.0, 10.0, 10.0],
                      "superseded_by": ["P5", None, None, "P2"]})


@pytest.fixture
def issues() -> pd.DataFrame:
    return issues_frame(ROWS)


def test_weekly_panel_golden(issues: pd.DataFrame) -> None:
    p = build_panel(issues, PARTS)
    assert list(p.unique_id) == ["P1|YC01", "P2|PL01", "P2|YC01"]
    assert list(p.series["part_no"]) == ["P1", "P2", "P2"]
    assert list(p.series["depot_id"]) == ["YC01", "PL01", "YC01"]
    assert list(p.periods.strftime("%Y-%m-%d")) == ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]
    expected = np.array([[3, 0, 2, 0], [1, 0, 4, 0], [NAN, 2, 0, 0]])
    np.testing.assert_array_equal(p.values, expected)
    assert p.freq == "W-MON"


def test_clipping_is_reported(issues: pd.DataFrame) -> None:
    p = build_panel(issues, PARTS)
    assert len(p.clipped) == 1
    row = p.clipped.iloc[0]
    assert (row["unique_id"], row["ds"], row["net"], row["clipped"]) == ("P1|YC01", pd.Timestamp("2024-01-22"), -4, 4)


def test_accounting(issues: pd.DataFrame) -> None:
    p = build_panel(issues, PARTS)
    r = p.report
    assert r is not None
    assert r.rows_in == len(ROWS) == r.rows_demand + r.rows_transfer + r.rows_outside_span
    assert (r.rows_transfer, r.rows_outside_span) == (2, 0)
    # demand quantity by hand: 2 + 1 - 1 + 3 - 4 + 4 + 1 + 2 = 8; clipped 4; in panel 12
    assert (r.quantity_demand, r.quantity_clipped, r.quantity_masked, r.quantity_in_panel) == (8, 4, 0, 12)
    assert np.nansum(p.values) == r.quantity_in_panel


def test_supersession_chain_reported(issues: pd.DataFrame) -> None:
    p = build_panel(issues, PARTS)
    m = p.supersession.set_index("part_no")
    assert m.loc["P0", "final_part_no"] == "P2" and m.loc["P0", "hops"] == 2
    assert m.loc["P5", "final_part_no"] == "P2" and m.loc["P5", "hops"] == 1
    assert (m.loc["P0", "rows"], m.loc["P0", "quantity"]) == (1, 1.0)
    assert not p.series["part_no"].isin(["P0", "P5"]).any()
    # without the parts table the old numbers keep their own series
    assert "P0|PL01" in build_panel(issues).unique_id


def test_supersession_cycle_is_an_error() -> None:
    parts = pd.DataFrame({"part_no": ["A", "B", "C"], "superseded_by": ["B", "C", "A"]})
    with pytest.raises(ZkValueError, match="cycle"):
        resolve_supersession(parts)


def test_monthly_nets_returns_within_the_month(issues: pd.DataFrame) -> None:
    p = build_panel(issues, PARTS, freq="month")
    assert p.freq == "MS" and list(p.periods) == [pd.Timestamp("2024-01-01")]
    # P1|YC over January: 2 + 1 - 1 + 3 - 4 = 1, nothing clipped
    np.testing.assert_array_equal(p.values[:, 0], [1, 5, 2])
    assert p.clipped.empty


def test_introduction_date_lists_earlier(issues: pd.DataFrame) -> None:
    parts = PARTS.assign(introduced_on=pd.to_datetime([None, None, "2024-01-03", None]))
    p = build_panel(issues, parts)
    np.testing.assert_array_equal(p.to_frame().loc["P2|YC01"].to_numpy(), [0, 2, 0, 0])


def test_missing_windows_stay_missing(issues: pd.DataFrame) -> None:
    missing = pd.DataFrame({"start": pd.to_datetime(["2024-01-15", "2024-01-22"]),
                            "end": pd.to_datetime(["2024-01-16", "2024-01-22"]),
                            "depot_id": ["PL01", None], "part_no": [None, "P1"]})
    p = build_panel(issues, PARTS, missing=missing)
    f = p.to_frame()
    assert np.isnan(f.loc["P2|PL01"].iloc[2]) and np.isnan(f.loc["P1|YC01"].iloc[3])
    assert f.loc["P2|YC01"].iloc[2] == 0  # another depot: untouched
    assert p.report is not None and p.report.quantity_masked == 4
    assert p.report.quantity_in_panel == np.nansum(p.values) == 8
    every = build_panel(issues, PARTS, missing=pd.DataFrame({"start": ["2024-01-08"], "end": ["2024-01-08"]}))
    assert np.isnan(every.values[:, 1]).all()


def test_span_arguments(issues: pd.DataFrame) -> None:
    p = build_panel(issues, PARTS, start="2024-01-08", end="2024-01-21")
    assert len(p.periods) == 2
    assert p.report is not None and p.report.rows_outside_span == 4  # wk1: 3 rows, wk4: 1 row


def test_long_round_trip(issues: pd.DataFrame) -> None:
    p = build_panel(issues, PARTS)
    long = p.to_long()
    assert list(long.columns) == ["unique_id", "ds", "y"]
    assert len(long) == int((~np.isnan(p.values)).sum()) == 11
    q = Panel.from_long(long, freq="W-MON")
    np.testing.assert_array_equal(q.values, p.values)
    assert list(q.series["depot_id"]) == list(p.series["depot_id"])
    sparse = long[long["y"] > 0]
    z = Panel.from_long(sparse, fill="zero")
    np.testing.assert_array_equal(z.to_frame().loc["P1|YC01"].to_numpy(), [3, 0, 2])


def test_from_long_rejects_bad_input() -> None:
    df = pd.DataFrame({"unique_id": ["A|X", "A|X"], "ds": pd.to_datetime(["2024-01-02", "2024-01-09"]), "y": [1, 2]})
    with pytest.raises(ZkValueError, match="not the start"):
        Panel.from_long(df)
    dup = pd.DataFrame({"unique_id": ["A|X", "A|X"], "ds": pd.to_datetime(["2024-01-01", "2024-01-01"]), "y": [1, 2]})
    with pytest.raises(ZkValueError, match="twice"):
        Panel.from_long(dup)
    with pytest.raises(ZkValueError, match="column 'y'"):
        Panel.from_long(dup.drop(columns="y"))


def test_bad_issues() -> None:
    with pytest.raises(ZkTypeError):
        build_panel([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ZkValueError, match="lacks columns"):
        build_panel(pd.DataFrame({"part_no": ["A"]}))
    bad = issues_frame([("2024-01-02", "YC01", "P1", 2, "gift")])
    with pytest.raises(ZkValueError, match="gift"):
        build_panel(bad)
    sep = issues_frame([("2024-01-02", "YC01", "P|1", 2, "repair")])
    with pytest.raises(ZkValueError, match="separates"):
        build_panel(sep)


def test_display_and_selection(issues: pd.DataFrame) -> None:
    p = build_panel(issues, PARTS)
    assert "3 series × 4 periods" in repr(p)
    page = p._repr_html_()
    assert "<table" in page and "3 series" in page and "P2|PL01" in page
    s = p.subset(["P2|YC01"])
    assert s.shape == (1, 4) and list(s.unique_id) == ["P2|YC01"]
    assert p.last(2).shape == (3, 2) and len(p.last(1).clipped) == 1
    with pytest.raises(ZkValueError):
        p.subset(["nope"])


def test_empty_issues() -> None:
    p = build_panel(issues_frame([]))
    assert p.shape == (0, 0)
    assert p.to_long().empty


@pytest.mark.parametrize("text", ["string[pyarrow]", "object"])
def test_text_storage_does_not_change_the_panel(issues: pd.DataFrame, text: str) -> None:
    # the store reads text as arrow-backed strings, hand-built frames hold Python strings or objects; a part
    # named only by transfer rows (here with the separator, which a series id could not hold) makes no series
    rows = [*ROWS, ("2024-01-12", "GY01", "P|X", 1, "transfer")]
    ref = build_panel(issues_frame(rows), PARTS)
    other = issues_frame(rows).astype({c: text for c in ("depot_id", "part_no", "kind")})
    p = build_panel(other, PARTS)
    np.testing.assert_array_equal(p.values, ref.values)
    pd.testing.assert_frame_equal(p.series, ref.series)
    pd.testing.assert_frame_equal(p.clipped, ref.clipped)
    pd.testing.assert_frame_equal(p.supersession, ref.supersession)
    assert p.report == ref.report
    bad = issues_frame([*rows, ("2024-01-12", "GY01", "P|X", 1, "repair")]).astype({"part_no": text})
    with pytest.raises(ZkValueError, match="separates part and depot"):
        build_panel(bad, PARTS)


# --------------------------------------------------------------------------------------- demo dealer
@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict]:
    root = tmp_path_factory.mktemp("demand_demo")
    summary = demo.generate(root / "raw", scale="small", seed=7)
    store = Store(root / "store")
    ingest(root / "raw", store, today=dt.date(2026, 11, 26))
    return store, json.loads(Path(summary.ground_truth).read_text(encoding="utf-8"))


def test_demo_panel_accounts_for_every_row(demo_store: tuple[Store, dict]) -> None:
    store, _ = demo_store
    issues = store.read("part_issues")
    parts = store.read("parts")
    p = build_panel(issues, parts)
    r = p.report
    assert r is not None
    assert r.rows_in == len(issues) == r.rows_demand + r.rows_transfer + r.rows_outside_span
    demand = issues[issues["kind"].isin(DEMAND_KINDS)]
    assert r.rows_demand == len(demand) and r.rows_outside_span == 0
    assert r.quantity_demand == float(demand["quantity"].sum())
    assert np.nansum(p.values) == pytest.approx(float(demand["quantity"].sum()) + p.clipped["clipped"].sum())


def test_demo_superseded_history_under_successor(demo_store: tuple[Store, dict]) -> None:
    store, _ = demo_store
    issues = store.read("part_issues")
    parts = store.read("parts")
    old = parts.loc[parts["superseded_by"].notna(), ["part_no", "superseded_by"]]
    assert len(old) == 1
    old_no, new_no = old.iloc[0]
    p = build_panel(issues, parts)
    assert not (p.series["part_no"] == old_no).any()
    mine = p.subset(np.flatnonzero(p.series["part_no"].to_numpy() == new_no))
    is_demand = issues["kind"].isin(DEMAND_KINDS)
    both = issues.loc[is_demand & issues["part_no"].isin([old_no, new_no])]
    own = issues.loc[is_demand & (issues["part_no"] == new_no)]
    # the successor's series start with the old part's first issue, before its own first issue
    assert mine.periods[np.argmax(~np.isnan(mine.values), axis=1).min()] < own["issued_on"].min()
    clipped = p.clipped.loc[p.clipped["unique_id"].isin(mine.unique_id), "clipped"].sum()
    assert np.nansum(mine.values) == pytest.approx(float(both["quantity"].sum()) + clipped)
    row = p.supersession.set_index("part_no").loc[old_no]
    assert row["final_part_no"] == new_no and row["rows"] > 0


def test_demo_classification_is_mostly_intermittent(demo_store: tuple[Store, dict]) -> None:
    store, _ = demo_store
    parts = store.read("parts")
    p = build_panel(store.read("part_issues"), parts)
    c = classify(p, unit_cost=parts)
    with_history = c[c["n_demands"] >= 2]
    share = with_history["sbc"].isin(["intermittent", "lumpy"]).mean()
    assert share > 0.8, c["sbc"].value_counts()
    assert c["abc"].notna().all()
