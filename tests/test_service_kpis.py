"""Service KPIs on hand-made tickets with known answers (working days counted by hand on the 2024 calendar).

2024 National Day: 1-7 October off; Sunday 29 September and Saturday 12 October were working days (调休).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zk_forecast.calendar import working_days_between
from zk_forecast.errors import ZkValueError
from zk_forecast.service import Promises, service_kpis


def _tickets() -> pd.DataFrame:
    ts = pd.Timestamp
    rows = [
        # id, depot, reported, arrival [h], resolved, channel, warranty, loaner, engineer
        ("A", "YC01", ts("2024-09-27 10:00"), 1.5, ts("2024-10-08 16:00"), "onsite", True, False, "王工"),
        ("B", "YC01", ts("2024-10-08 09:00"), 2.0, ts("2024-10-14 12:00"), "onsite", True, True, "王工"),
        ("C", "YC01", ts("2024-09-30 08:00"), 3.0, ts("2024-10-09 18:00"), "onsite", True, False, "李工"),
        ("D", "PL01", ts("2024-09-26 11:00"), 0.5, ts("2024-10-08 10:00"), "onsite", False, False, "李工"),
        ("E", "PL01", ts("2024-10-09 14:00"), np.nan, ts("2024-10-14 09:00"), "phone", True, False, None),
    ]
    df = pd.DataFrame(rows, columns=["ticket_id", "depot_id", "reported_at", "arr_h", "resolved_at", "channel",
                                     "in_warranty", "loaner_issued", "engineer"])
    df["arrived_at"] = df["reported_at"] + pd.to_timedelta(df.pop("arr_h"), unit="h")
    df["kind"] = "failure"
    df["in_warranty"] = df["in_warranty"].astype("boolean")
    df["loaner_issued"] = df["loaner_issued"].astype("boolean")
    return df


def _issues() -> pd.DataFrame:
    return pd.DataFrame({
        "issue_id": ["I1", "I2", "I3", "I4", "I5"],
        "ticket_id": ["A", "B", "C", "C", "ZZ"],
        "part_no": ["W1", "X9", "W1", "W1", "W1"],
        "issued_on": pd.to_datetime(["2024-10-08", "2024-10-31", "2024-10-16", "2024-10-16", "2024-10-16"]),
        "kind": ["repair", "repair", "repair", "transfer", "repair"],
        "quantity": [1, 1, 1, 5, 1],
    })


def test_hand_counted_working_days() -> None:
    # the counts the expectations below rest on (start day excluded, end day included)
    assert working_days_between("2024-09-27", "2024-10-08") == 3  # Sun 29 Sep, Mon 30 Sep, Tue 8 Oct
    assert working_days_between("2024-10-08", "2024-10-14") == 5  # 9, 10, 11, Sat 12, 14 Oct
    assert working_days_between("2024-09-30", "2024-10-09") == 2  # 8, 9 Oct
    assert working_days_between("2024-09-26", "2024-10-08") == 4  # 27, 29, 30 Sep, 8 Oct
    assert working_days_between("2024-10-09", "2024-10-14") == 4  # 10, 11, Sat 12, 14 Oct
    assert working_days_between("2024-10-08", "2024-10-31") == 18
    assert working_days_between("2024-09-30", "2024-10-16") == 8


def test_overall_against_hand_answers() -> None:
    k = service_kpis(_tickets(), _issues(), wear_list={"W1"})
    o = k.overall.iloc[0]
    assert o["onsite_calls"] == 4  # E was a phone call
    assert o["onsite_on_time_share"] == pytest.approx(0.75)  # 1.5, 2.0 (boundary counts), 0.5 of 1.5/2/3/0.5
    assert o["arrival_median_h"] == pytest.approx(1.75)
    assert o["arrival_p90_h"] == pytest.approx(2.7)  # linear: 2 + 0.7 * (3 - 2)
    assert o["warranty_repairs"] == 4 and o["other_repairs"] == 1
    assert o["warranty_repairs_on_time_share"] == pytest.approx(0.5)  # A (3) and C (2) on time; B (5), E (4) late
    assert o["other_repairs_on_time_share"] == pytest.approx(1.0)  # D: 4 <= 5
    assert (o["loaners_owed"], o["loaners_issued_late"], o["loaners_missing"], o["loaners_extra"]) == (2, 1, 1, 0)
    # parts: A's W1 after 3 wd (<= 5), C's W1 after 8 wd (> 5), B's X9 after 18 wd (> 15); transfer and the
    # line naming an unknown ticket are left out
    assert (o["wear_part_lines"], o["other_part_lines"]) == (2, 1)
    assert o["wear_parts_on_time_share"] == pytest.approx(0.5)
    assert o["other_parts_on_time_share"] == pytest.approx(0.0)
    assert k.overall.attrs["parts_unlinked"] == 1
    rp = k.events["repairs"].set_index("ticket_id")
    assert rp["working_days"].to_dict() == {"A": 3, "B": 5, "C": 2, "D": 4, "E": 4}


def test_per_depot_month_and_engineer() -> None:
    k = service_kpis(_tickets(), _issues(), wear_list=pd.DataFrame({"depot_id": ["YC01"], "part_no": ["W1"]}))
    bdm = k.by_depot_month.set_index(["depot_id", "month"])
    sep, oct_ = pd.Timestamp("2024-09-01"), pd.Timestamp("2024-10-01")
    assert bdm.loc[("YC01", sep), "warranty_repairs"] == 2  # A, C
    assert bdm.loc[("YC01", oct_), "loaners_issued_late"] == 1  # B
    assert bdm.loc[("PL01", oct_), "loaners_missing"] == 1  # E
    assert np.isnan(bdm.loc[("PL01", oct_), "onsite_on_time_share"])  # a phone call only
    eng = k.by_engineer.set_index(["depot_id", "engineer"])
    assert set(eng.index) == {("YC01", "王工"), ("YC01", "李工"), ("PL01", "李工")}  # E has no engineer
    assert eng.loc[("YC01", "王工"), "onsite_on_time_share"] == pytest.approx(1.0)
    assert eng.loc[("YC01", "李工"), "arrival_median_h"] == pytest.approx(3.0)
    assert eng.loc[("YC01", "李工"), "wear_parts_on_time_share"] == pytest.approx(0.0)  # C's W1 after 8 wd


def test_promises_override_changes_measure_and_labels() -> None:
    k = service_kpis(_tickets(), promises={"warranty_repair_working_days": 5, "on_site_hours": 3})
    assert k.overall.iloc[0]["warranty_repairs_on_time_share"] == pytest.approx(1.0)
    assert k.overall.iloc[0]["loaners_extra"] == 1  # B's loaner is no longer owed
    zh = k.to_report("zh", "overall")
    assert "3小时内到场占比 (%)" in zh.columns and zh["3小时内到场占比 (%)"].iloc[0] == 100.0
    assert "share on site within 3 h (%)" in k.to_report("en", "overall").columns
    assert "<table" in k._repr_html_()
    assert isinstance(k.promises, Promises)


def test_open_repair_late_at_as_of_owes_loaner() -> None:
    t = _tickets()
    t.loc[t["ticket_id"] == "C", "resolved_at"] = pd.NaT
    k = service_kpis(t, as_of="2024-10-11")  # C open: 8, 9, 10, 11 Oct = 4 working days > 3
    o = k.overall.iloc[0]
    assert o["repairs_open"] == 1 and o["warranty_repairs"] == 3 and o["loaners_missing"] == 2


def test_missing_column_names_it_and_the_fix() -> None:
    with pytest.raises(ZkValueError, match=r"lacks column\(s\) \['reported_at'\].*Fix"):
        service_kpis(_tickets().drop(columns="reported_at"))
    with pytest.raises(ZkValueError, match="issued_on"):
        service_kpis(_tickets(), _issues().drop(columns="issued_on"))


def _wear_frame(season: str, listed: bool = True) -> pd.DataFrame:
    """A wear-part list frame as WearList.frame has it: W1 listed at YC01 for one season."""
    return pd.DataFrame({"key": ["YC01"], "part_no": ["W1"], "season": [season], "listed": [listed]})


def test_wear_list_per_season_and_depot() -> None:
    # every part line of the hand-made tickets falls in September-October: the autumn harvest (8-10) of
    # FARMING_SEASONS. W1 listed at YC01 for autumn: A's and C's W1 lines are wear-list lines (as with {"W1"});
    # listed for winter only, or listed = false: both are held to the other-parts promise
    autumn = service_kpis(_tickets(), _issues(), wear_list=_wear_frame("autumn_harvest")).overall.iloc[0]
    assert (autumn["wear_part_lines"], autumn["other_part_lines"]) == (2, 1)
    assert autumn["wear_parts_on_time_share"] == pytest.approx(0.5)
    for wl in (_wear_frame("winter"), _wear_frame("autumn_harvest", listed=False)):
        o = service_kpis(_tickets(), _issues(), wear_list=wl).overall.iloc[0]
        assert (o["wear_part_lines"], o["other_part_lines"]) == (0, 3)
        assert o["other_parts_on_time_share"] == pytest.approx(2 / 3)  # 3 and 8 wd <= 15, 18 > 15
    # listed at another depot: not on the list at YC01
    other = _wear_frame("autumn_harvest").assign(key="PL01")
    assert service_kpis(_tickets(), _issues(), wear_list=other).overall.iloc[0]["wear_part_lines"] == 0


def test_wear_list_object_is_accepted() -> None:
    from zk_forecast.inventory.wearlist import WearList

    frame = _wear_frame("autumn_harvest")
    by_frame = service_kpis(_tickets(), _issues(), wear_list=frame).overall
    by_object = service_kpis(_tickets(), _issues(), wear_list=WearList(frame, pd.DataFrame(), "depot", {})).overall
    pd.testing.assert_frame_equal(by_frame, by_object)
    with pytest.raises(ZkValueError, match="per customer"):
        service_kpis(_tickets(), _issues(), wear_list=WearList(frame, pd.DataFrame(), "customer", {}))


def test_how_late_each_event_was() -> None:
    k = service_kpis(_tickets(), _issues(), wear_list={"W1"})
    on = k.events["onsite"].set_index("ticket_id")["hours_late"].to_dict()
    assert on == pytest.approx({"A": 0.0, "B": 0.0, "C": 1.0, "D": 0.0})  # C arrived after 3 h, promise 2 h
    rp = k.events["repairs"].set_index("ticket_id")["working_days_late"].to_dict()
    assert rp == {"A": 0, "B": 2, "C": 0, "D": 0, "E": 1}  # B 5 and E 4 working days against 3
    pt = k.events["parts"]
    late = dict(zip(pt["ticket_id"] + ":" + pt["part_no"], pt["working_days_late"], strict=True))
    assert late == {"A:W1": 0, "B:X9": 3, "C:W1": 3}  # 18 against 15, 8 against 5
    assert set(k.events["repairs"]["serial_no"].isna()) == {True}  # no serial_no column: unknown machines


def test_wear_list_drawn_up_with_its_own_seasons() -> None:
    # a WearList drawn up with custom seasons (wear_list(seasons=...)) is matched with them: here September and
    # October belong to "harvest", where W1 is listed
    from zk_forecast.inventory.wearlist import WearList

    frame = _wear_frame("harvest")
    seasons = {"harvest": (9, 10), "rest": (1, 2, 3, 4, 5, 6, 7, 8, 11, 12)}
    wl = WearList(frame, pd.DataFrame(), "depot", {"seasons": seasons})
    o = service_kpis(_tickets(), _issues(), wear_list=wl).overall.iloc[0]
    assert (o["wear_part_lines"], o["other_part_lines"]) == (2, 1)
    # the same frame alone is matched with the calendar's seasons, where "harvest" is no season
    assert service_kpis(_tickets(), _issues(), wear_list=frame).overall.iloc[0]["wear_part_lines"] == 0
