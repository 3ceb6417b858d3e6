"""Manufacturer feedback report and scorecard on the demo data: planted early-life defect and design fix.

Ground truth of the demo (``zk_forecast.data.demo``, ``ground_truth.json``): ML-4YZ-4 液压泵 has an early-life
defect (Weibull shape 0.6); SF-1004 离合器 was fixed from build date 2023-03-01 (scale × 3).
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
from zk_forecast.reports._html import esc, parse_period, table_html
from zk_forecast.reports.manufacturer import (
    SECTION_IDS,
    manufacturer_report,
    normalize_cut_ins,
    write_manufacturer_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Parsed(HTMLParser):
    """Collects section ids, image sources, table ids/counts, the text of each section."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self.images: list[str] = []
        self.tables = 0
        self.links: list[str] = []
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self._current = a.get("id") or ""
            self.sections[self._current] = []
        elif tag == "img":
            self.images.append(a.get("src") or "")
        elif tag == "table":
            self.tables += 1
        elif tag in ("link", "script"):
            self.links.append(tag)
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self.sections[self._current].append(data)

    def text(self, section_id: str) -> str:
        return "".join(self.sections[section_id])


def _parse(doc: str) -> _Parsed:
    p = _Parsed()
    p.feed(doc)
    p.close()
    return p


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo_reports")
    demo.generate(root / "raw", scale="small", seed=7)
    ingest(root / "raw", root / "store")
    return root / "store"


@pytest.fixture(scope="module")
def tables(store: Path) -> dict[str, pd.DataFrame]:
    s = Store(store)
    return {t: s.read(t) for t in ("tickets", "machines", "component_parts")}


def _maker(tables: dict[str, pd.DataFrame], model: str) -> str:
    m = tables["machines"]
    return str(m.loc[m["model"] == model, "manufacturer"].iloc[0])


def _check_images(p: _Parsed) -> None:
    assert p.images, "the report embeds charts"
    for src in p.images:
        assert src.startswith("data:image/png;base64,")
        raw = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert raw.startswith(PNG_MAGIC)


@pytest.fixture(scope="module")
def early_report(tables: dict[str, pd.DataFrame]) -> Any:
    return manufacturer_report(tables["tickets"], tables["machines"], _maker(tables, "ML-4YZ-4"), "2026Q3",
                               component_parts=tables["component_parts"])


def test_early_life_defect_is_flagged(early_report: Any) -> None:
    early = early_report.tables["early_life"]
    flagged = early[early["flagged"]]
    assert ("ML-4YZ-4", "液压泵") in set(zip(flagged["model"], flagged["component"]))
    row = flagged[(flagged["model"] == "ML-4YZ-4") & (flagged["component"] == "液压泵")].iloc[0]
    assert row["shape_hi"] < 1.0  # planted shape 0.6
    # first improvement request: the early-life defect
    req = early_report.tables["requests"]
    assert (req.iloc[0]["model"], req.iloc[0]["component"]) == ("ML-4YZ-4", "液压泵")
    p = _parse(early_report.html)
    assert "ML-4YZ-4" in p.text("early-life") and "液压泵" in p.text("early-life")
    assert "早期故障" in p.text("early-life")


def test_sections_images_tables(early_report: Any) -> None:
    p = _parse(early_report.html)
    assert set(SECTION_IDS) <= set(p.sections)
    _check_images(p)
    assert len(p.images) >= 3  # Pareto, trend, Weibull shapes
    assert p.tables >= 6
    assert not p.links, "self-contained: no scripts, stylesheets or links"
    assert "@media print" in early_report.html
    assert "Failures per 100 machines" in p.text("pareto")
    pareto = early_report.tables["pareto"]
    assert pareto["per_100"].is_monotonic_decreasing
    assert pareto["cum_share"].iloc[-1] == pytest.approx(1.0)


def test_design_fix_worked(tables: dict[str, pd.DataFrame], store: Path, tmp_path: Path) -> None:
    maker = _maker(tables, "SF-1004")
    path = write_manufacturer_report(store, maker, "2026Q3", tmp_path,
                                     cut_ins=pd.DataFrame({"model": ["SF-1004"], "component": ["离合器"],
                                                           "cut_in": ["2023-03-01"]}))
    doc = path.read_text(encoding="utf-8")
    p = _parse(doc)
    text = p.text("fixes")
    assert "SF-1004" in text and "离合器" in text
    assert "有效 worked" in text and "降低" in text and "fell by" in text
    _check_images(p)
    # the same inputs give the same bytes
    again = write_manufacturer_report(store, maker, "2026Q3", tmp_path / "again",
                                      cut_ins=[("SF-1004", "离合器", "2023-03-01")])
    assert again.read_bytes() == path.read_bytes()


def test_fix_result_table(tables: dict[str, pd.DataFrame]) -> None:
    rep = manufacturer_report(tables["tickets"], tables["machines"], _maker(tables, "SF-1004"), "2026",
                              cut_ins=[("SF-1004", "离合器", "2023-03-01")])
    fx = rep.tables["fixes"]
    assert fx["worked"].tolist() == [True]
    assert fx["rate_ratio"].iloc[0] < 0.5


@pytest.mark.parametrize("bad", ["2026Q5", "26Q3", "2026-13", "Q3 2026", "", "2026/07", None, 3.5])
def test_bad_period(tables: dict[str, pd.DataFrame], bad: Any) -> None:
    with pytest.raises(ZkValueError, match="YYYYQn"):
        manufacturer_report(tables["tickets"], tables["machines"], _maker(tables, "SF-1004"), bad)


def test_unknown_manufacturer(tables: dict[str, pd.DataFrame]) -> None:
    known = sorted(tables["machines"]["manufacturer"].unique())
    with pytest.raises(ZkValueError, match="Unknown manufacturer") as info:
        manufacturer_report(tables["tickets"], tables["machines"], "不存在厂", "2026Q3")
    for name in known:
        assert name in str(info.value)


def test_parse_period_forms() -> None:
    q = parse_period("2026Q3")
    assert (q.label, q.start, q.end) == ("2026Q3", pd.Timestamp("2026-07-01"), pd.Timestamp("2026-10-01"))
    m = parse_period("2026-07")
    assert (m.label, m.end) == ("2026-07", pd.Timestamp("2026-08-01"))
    y = parse_period(2026)
    assert (y.label, y.start, y.end) == ("2026", pd.Timestamp("2026-01-01"), pd.Timestamp("2027-01-01"))
    assert len(q.months) == 3


def test_escaping() -> None:
    html = table_html(pd.DataFrame({"名称 name": ["<script>alert(1)</script>", "A&B"], "x": [1.5, float("nan")]}))
    assert "<script>" not in html and "&lt;script&gt;" in html and "A&amp;B" in html
    assert esc(None) == "" and esc('"') == "&quot;"


def test_cut_in_list_forms() -> None:
    a = normalize_cut_ins([("SF-1004", "离合器", "2023-03-01")])
    b = normalize_cut_ins([{"model": "SF-1004", "component": "离合器", "cut_in": "2023-03-01"}])
    pd.testing.assert_frame_equal(a, b)
    assert a["cut_in"].iloc[0] == pd.Timestamp("2023-03-01")
    with pytest.raises(ZkValueError, match="cut_in"):
        normalize_cut_ins(pd.DataFrame({"model": ["x"]}))


def test_scorecard(tables: dict[str, pd.DataFrame], store: Path, tmp_path: Path) -> None:
    from zk_forecast.reports.scorecard import SCORECARD_COLUMNS, manufacturer_scorecard, write_scorecard

    s = Store(store)
    sc = manufacturer_scorecard(tables["tickets"], tables["machines"], "2026", part_issues=s.read("part_issues"),
                                parts=s.read("parts"), receipts=s.read("receipts"),
                                component_parts=tables["component_parts"],
                                cut_ins=[("SF-1004", "离合器", "2023-03-01")])
    t = sc.table.set_index("manufacturer")
    assert list(sc.table.columns) == list(SCORECARD_COLUMNS)
    assert sorted(t.index) == sorted(tables["machines"]["manufacturer"].unique())
    assert t.loc[_maker(tables, "ML-4YZ-4"), "early_life_problems"] >= 1
    assert t.loc[_maker(tables, "SF-1004"), "fixes_worked"] == 1
    assert (t["lead_time_mean_days"] > 0).all() and (t["receipts"] > 0).all()
    assert (t["warranty_parts_cost_per_machine"] >= 0).all()
    path = write_scorecard(store, "2026Q3", tmp_path)
    p = _parse(path.read_text(encoding="utf-8"))
    assert {"scorecard", "seasons", "method"} <= set(p.sections)
    _check_images(p)
