"""Service report on the demo data: sections, embedded charts, tables."""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path

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


def test_service_report_sections_and_images(store: Path, tmp_path: Path) -> None:
    path = write_service_report(store, "2026Q3", tmp_path)
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
