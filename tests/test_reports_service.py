"""Service report on the demo data: sections, embedded charts, tables, every promise measured.

Ground truth of the demo (``ground_truth.json``, ``planted_effects.price_difference``): depot GY01 (固原分库) sells
eight parts at 1.08 x the price of the other depots; the demo's data end on 2026-10-31.
"""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from zk_forecast.data import Store, demo, ingest
from zk_forecast.errors import ZkValueError
from zk_forecast.reports.service_report import SERVICE_SECTION_IDS, service_report, write_service_report


class _Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.tables = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id") or "")
        elif tag == "img":
            self.images.append(a.get("src") or "")
        elif tag == "table":
            self.tables += 1


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo_service_report")
    demo.generate(root / "raw", scale="small", seed=7)
    ingest(root / "raw", root / "store")
    return root / "store"


AT = "2026-11-01 06:00:00"  # the run's time, as the nightly batch passes it


def test_service_report_sections_and_images(store: Path, tmp_path: Path) -> None:
    path = write_service_report(store, "2026Q3", tmp_path, generated_at=AT)
    doc = path.read_text(encoding="utf-8")
    p = _Parsed()
    p.feed(doc)
    assert list(p.sections) == list(SERVICE_SECTION_IDS)
    assert len(p.images) == 2
    for src in p.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1], validate=True).startswith(b"\x89PNG\r\n\x1a\n")
    assert p.tables >= 3
    assert "@media print" in doc and "2 小时内到场" in doc


def test_service_report_rows_and_defaults(store: Path) -> None:
    s = Store(store)
    rep = service_report(s.read("tickets"), s.read("part_issues"), "2026-07")
    assert set(rep.by_depot_month["month"].dt.strftime("%Y-%m")) == {"2026-07"}
    assert rep.by_depot_month["depot_id"].is_monotonic_increasing
    default = service_report(s.read("tickets"), None)
    assert default.by_depot_month["month"].nunique() == 12
    with pytest.raises(ZkValueError, match="No service tickets"):
        service_report(s.read("tickets"), None, "2001")
    with pytest.raises(ZkValueError, match="YYYYQn"):
        service_report(s.read("tickets"), None, "2026Q9")


def test_service_report_uses_the_calendar_it_is_given(store: Path) -> None:
    # a calendar that declares every day of 2026 Q3 a holiday stretches every repair to 0 working days,
    # so every repair finished in the quarter counts as on time; the default calendar does not
    import datetime as dt

    from zk_forecast.calendar import WorkingCalendar

    s = Store(store)
    tickets = s.read("tickets")
    base = service_report(tickets, None, "2026Q3")
    days = [dt.date(2026, 7, 1) + dt.timedelta(days=i) for i in range(92)]
    off = service_report(tickets, None, "2026Q3", calendar=WorkingCalendar(holidays=days))
    col = "other_repairs_on_time_share"
    before = base.by_depot_month[col].mean()
    after = off.by_depot_month[col].mean()
    assert after > before


@pytest.fixture(scope="module")
def tables(store: Path) -> dict[str, pd.DataFrame]:
    s = Store(store)
    return {t: s.read(t) for t in s.tables()}


@pytest.fixture(scope="module")
def wear(tables: dict[str, pd.DataFrame]) -> Any:
    from zk_forecast.inventory.wearlist import wear_list

    t = tables
    return wear_list(t["part_issues"], t["parts"], t["machines"], tickets=t["tickets"],
                     component_parts=t["component_parts"])


@pytest.fixture(scope="module")
def q3(tables: dict[str, pd.DataFrame], wear: Any) -> Any:
    t = tables
    return service_report(t["tickets"], t["part_issues"], "2026Q3", wear_list=wear, depots=t["depots"],
                          machines=t["machines"], parts=t["parts"], generated_at=AT)


def test_wear_list_promise_is_measured(tables: dict[str, pd.DataFrame], wear: Any, q3: Any) -> None:
    net = q3.totals.iloc[-1]
    assert pd.isna(net["depot_id"])
    assert net["wear_part_lines"] > 0 and 0 < net["wear_parts_on_time_share"] < 1
    # the WearList object and its frame measure the same
    t = tables
    by_frame = service_report(t["tickets"], t["part_issues"], "2026Q3", wear_list=wear.frame, generated_at=AT)
    pd.testing.assert_frame_equal(by_frame.totals, q3.totals)
    # recount from the events: the quarter's part lines, wear-list lines on time within 5 working days
    pt = q3.kpis.events["parts"]
    pt = pt[(pt["month"] >= "2026-07-01") & (pt["month"] < "2026-10-01")]
    wl = pt[pt["on_wear_list"]]
    assert net["wear_part_lines"] == len(wl) and net["other_part_lines"] == len(pt) - len(wl)
    assert net["wear_parts_on_time_share"] == pytest.approx((wl["working_days"] <= 5).mean())
    # per-depot counts add up to the network's
    assert q3.totals.iloc[:-1]["wear_part_lines"].sum() == net["wear_part_lines"]
    # without a list the 5-day promise is not measured, and the page says so
    none = service_report(t["tickets"], t["part_issues"], "2026Q3", generated_at=AT)
    assert none.totals["wear_part_lines"].sum() == 0
    assert "未提供易损件清单" in none.html and "not measured" in none.html
    assert "本次运行的易损件清单" in q3.html


def test_lists_of_missed_promises(q3: Any) -> None:
    ev = q3.kpis.events
    inq = {k: v[(v["month"] >= "2026-07-01") & (v["month"] < "2026-10-01")] for k, v in ev.items()}
    net = q3.totals.iloc[-1]
    # one row per event that missed its promise, as many as the shares imply
    assert len(q3.missed["onsite"]) == round(net["onsite_calls"] * (1 - net["onsite_on_time_share"]))
    assert len(q3.missed["wear_parts"]) == round(net["wear_part_lines"] * (1 - net["wear_parts_on_time_share"]))
    assert len(q3.missed["other_parts"]) == round(net["other_part_lines"] * (1 - net["other_parts_on_time_share"]))
    rp = inq["repairs"]
    assert len(q3.missed["warranty_repairs"]) + len(q3.missed["other_repairs"]) == int(rp["late"].sum())
    for key, late in (("onsite", "hours_late"), ("warranty_repairs", "working_days_late"),
                      ("other_repairs", "working_days_late"), ("wear_parts", "working_days_late"),
                      ("other_parts", "working_days_late")):
        df = q3.missed[key]
        assert len(df) and (df[late] > 0).all(), key
        assert df[late].is_monotonic_decreasing, key
        assert {"ticket_id", "depot", "serial_no", "model"} <= set(df.columns)
        assert (df["model"] != "").all() and df["depot"].isin(["银川中心库", "平罗分库", "青铜峡分库", "固原分库"]).all()
    wp = q3.missed["wear_parts"]
    assert ((wp["working_days"] - 5) == wp["working_days_late"]).all()
    row = q3.missed["other_parts"].iloc[0]
    assert row["ticket_id"] in q3.html and row["part_no"] in q3.html


def test_depots_by_name(q3: Any) -> None:
    tot = q3.html.split('id="totals-table"')[1].split("</table>")[0]
    for name in ("银川中心库", "平罗分库", "青铜峡分库", "固原分库", "全网 network"):
        assert name in tot
    for code in ("YC01", "PL01", "QT01", "GY01"):
        assert code not in tot


def test_one_price_section(q3: Any) -> None:
    # planted: GY01 sells eight parts 8 % dearer
    sm = q3.prices.summary
    assert len(sm) and set(sm["depot_id"]) == {"GY01"}
    assert sm["median_difference_pct"].between(7.5, 8.5).all()
    assert set(sm["part_no"]) <= {"HT-000008", "LL-000018", "FC-000045", "HT-000048", "FC-000055", "YL-000061",
                                  "HT-000069", "FC-000139"}
    sec = q3.html.split('<section id="prices">')[1].split("</section>")[0]
    assert "固原分库" in sec and "One-price check" in sec
    assert all(p in sec for p in sm["part_no"])


def test_period_past_the_data_end_is_refused(tables: dict[str, pd.DataFrame]) -> None:
    t = tables
    with pytest.raises(ZkValueError, match="2026-10-31") as info:
        service_report(t["tickets"], t["part_issues"], "2026Q4", generated_at=AT)
    assert "2026Q4" in str(info.value) and "超出" in str(info.value)
    # the last full month is fine; a data date given by the caller moves the end
    assert service_report(t["tickets"], t["part_issues"], "2026-10", generated_at=AT).period == "2026-10"
    with pytest.raises(ZkValueError, match="2026-09-15"):
        service_report(t["tickets"], t["part_issues"], "2026-09", as_of="2026-09-15", generated_at=AT)


def test_data_dates_seasons_and_banner(tables: dict[str, pd.DataFrame], q3: Any) -> None:
    assert "数据截至 Data as of</td><td>2026-10-31" in q3.html
    assert "生成时间 Generated at</td><td>2026-11-01 06:00:00" in q3.html
    assert "stale-banner" not in q3.html
    # Q3: the wheat harvest (Jun-Jul) and the autumn harvest (Aug-Oct) only
    sec = q3.html.split('<section id="seasons">')[1].split("</section>")[0]
    assert "夏收" in sec and "秋收" in sec and "春播" not in sec and "冬季" not in sec
    t = tables
    old = service_report(t["tickets"], None, "2026Q3", generated_at="2026-12-05 06:00", stale=True)
    assert "stale-banner" in old.html and "35 天" in old.html
    a = service_report(t["tickets"], t["part_issues"], "2026Q3", generated_at=AT).html
    b = service_report(t["tickets"], t["part_issues"], "2026Q3", generated_at=AT).html
    assert a == b


def test_loaners_owed_when_warranty_repairs_run_late(q3: Any) -> None:
    # the warranty promise: done within 3 working days, else a loaner. Owed = warranty repairs past 3 working
    # days (done late, or open and already past it at the data date); missing = owed and not issued
    net = q3.totals.iloc[-1]
    late = q3.missed["warranty_repairs"]
    assert net["loaners_owed"] == len(late)
    assert net["loaners_missing"] == int((~late["loaner_issued"]).sum())
    assert q3.totals.iloc[:-1]["loaners_owed"].sum() == net["loaners_owed"]
