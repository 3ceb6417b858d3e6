"""Manufacturer feedback report and scorecard on the demo data: planted early-life defect and design fix.

Ground truth of the demo (``zk_forecast.data.demo``, ``ground_truth.json``): ML-4YZ-4 液压泵 has an early-life
defect (Weibull shape 0.6); SF-1004 离合器 was fixed from build date 2023-03-01 (scale × 3).
"""

from __future__ import annotations

import base64
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
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
AT = "2026-11-01 06:00:00"  # the run's time, as the nightly batch passes it


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
                                                           "cut_in": ["2023-03-01"]}), generated_at=AT)
    doc = path.read_text(encoding="utf-8")
    p = _parse(doc)
    text = p.text("fixes")
    assert "SF-1004" in text and "离合器" in text
    assert "有效 worked" in text and "降低" in text and "fell by" in text
    _check_images(p)
    # the same inputs give the same bytes
    again = write_manufacturer_report(store, maker, "2026Q3", tmp_path / "again",
                                      cut_ins=[("SF-1004", "离合器", "2023-03-01")], generated_at=AT)
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


def test_scorecard_seasons_of_the_period_only(tables: dict[str, pd.DataFrame], store: Path, tmp_path: Path) -> None:
    # Q3 (Jul-Sep) overlaps the wheat harvest (Jun-Jul) and the autumn harvest (Aug-Oct) of FARMING_SEASONS only:
    # no 春播 or winter column, and the two season columns add up to the quarter's total (the seasons partition
    # the months)
    from zk_forecast.reports.scorecard import manufacturer_scorecard, write_scorecard

    sc = manufacturer_scorecard(tables["tickets"], tables["machines"], "2026Q3", generated_at=AT)
    seasons = [c for c in sc.table.columns if c.startswith("per_100_")]
    assert seasons == ["per_100_wheat_harvest", "per_100_autumn_harvest"]
    t = sc.table.dropna(subset=["per_100"])
    assert (t[seasons].sum(axis=1) - t["per_100"]).abs().max() < 1e-9
    doc = write_scorecard(store, "2026Q3", tmp_path, generated_at=AT).read_text(encoding="utf-8")
    assert "春播" not in doc and "冬季" not in doc and "夏收" in doc and "秋收" in doc
    assert "数据截至 Data as of</td><td>2026-10-31" in doc and "生成时间 Generated at</td><td>2026-11-01 06:00:00" in doc


def _other_makers_terms(store: Path, maker: str) -> set[str]:
    """Names, models and part numbers of every manufacturer but ``maker``."""
    s = Store(store)
    m, parts = s.read("machines"), s.read("parts")
    others = m[m["manufacturer"].astype(str) != maker]
    terms = set(others["manufacturer"].astype(str)) | set(others["model"].astype(str))
    other_names = set(others["manufacturer"].astype(str))
    terms |= set(parts.loc[parts["manufacturer"].astype(str).isin(other_names), "part_no"].astype(str))
    return terms


def _leaks(text: str, terms: set[str]) -> list[str]:
    return sorted(t for t in terms if t in text)


def test_each_manufacturer_sees_only_its_own_data(store: Path, tmp_path: Path) -> None:
    # every manufacturer report of the demo, with a design fix listed for every model of every manufacturer (the
    # nightly batch passes one list to all reports): no other manufacturer's name, model or part number in any
    # file written, nor in its file name
    machines = Store(store).read("machines")
    models = sorted(machines["model"].astype(str).unique())
    cut = [(mo, "离合器", "2023-03-01") for mo in models]
    makers = sorted(machines["manufacturer"].astype(str).unique())
    assert len(makers) >= 2
    for maker in makers:
        out = tmp_path / maker
        path = write_manufacturer_report(store, maker, "2026Q3", out, cut_ins=cut, generated_at=AT)
        terms = _other_makers_terms(store, maker)
        files = sorted(p for p in out.iterdir() if p.suffix in (".html", ".csv", ".xlsx"))
        assert files == [path]
        for f in files:
            assert not _leaks(f.name, terms), f.name
            if f.suffix == ".xlsx":  # the sheets and shared strings of a workbook are XML inside a zip
                import zipfile

                with zipfile.ZipFile(f) as z:
                    text = "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
            else:
                text = f.read_text(encoding="utf-8")
            assert not _leaks(text, terms), (maker, f.name, _leaks(text, terms))
        own = set(machines.loc[machines["manufacturer"] == maker, "model"].astype(str))
        assert any(mo in path.read_text(encoding="utf-8") for mo in own)
    # the scan finds a leak where there is one: the scorecard names every manufacturer
    from zk_forecast.reports.scorecard import write_scorecard

    sc = write_scorecard(store, "2026Q3", tmp_path / "sc", generated_at=AT).read_text(encoding="utf-8")
    assert _leaks(sc, _other_makers_terms(store, makers[0]))


def test_fault_codes_first_and_latest(tables: dict[str, pd.DataFrame]) -> None:
    maker = _maker(tables, "ML-4YZ-4")
    rep = manufacturer_report(tables["tickets"], tables["machines"], maker, "2026Q3", generated_at=AT)
    faults, pareto = rep.tables["faults"], rep.tables["pareto"]
    assert len(faults) and faults["fault_code"].str.len().gt(0).all()
    # recount from the tickets: the period's failure tickets of the maker's machines per model x component x code
    t, m = tables["tickets"], tables["machines"]
    mm = m[m["manufacturer"] == maker][["serial_no", "model"]]
    f = t[(t["kind"] == "failure") & (t["reported_at"] >= "2026-07-01") & (t["reported_at"] < "2026-10-01")]
    f = f.merge(mm, on="serial_no")
    recount = f.groupby(["model", "component", "fault_code"]).size()
    got = faults.set_index(["model", "component", "fault_code"])["failures"]
    assert got.sort_index().to_dict() == recount.sort_index().to_dict()
    # per component: code counts add up to the Pareto's failures, shares to 1; first <= latest, both in the period
    by_comp = faults.groupby(["model", "component"])
    assert by_comp["failures"].sum().to_dict() == pareto.set_index(["model", "component"])["failures"].to_dict()
    assert (by_comp["share"].sum() - 1).abs().max() < 1e-9
    for frame in (faults, pareto):
        assert (frame["first_failure"] <= frame["latest_failure"]).all()
        assert frame["first_failure"].min() >= pd.Timestamp("2026-07-01")
        assert frame["latest_failure"].max() < pd.Timestamp("2026-10-01")
    p = _parse(rep.html)
    code = faults["fault_code"].iloc[0]
    assert code in p.text("faults") and "故障代码" in p.text("faults")


def test_data_dates_and_stale_banner(tables: dict[str, pd.DataFrame]) -> None:
    maker = _maker(tables, "SF-1004")
    fresh = manufacturer_report(tables["tickets"], tables["machines"], maker, "2026Q3", generated_at=AT)
    # default as_of: the latest report date of the demo's tickets (ground truth end date 2026-10-31)
    assert "数据截至 Data as of</td><td>2026-10-31" in fresh.html
    assert "生成时间 Generated at</td><td>2026-11-01 06:00:00" in fresh.html
    assert "stale-banner" not in fresh.html
    old = manufacturer_report(tables["tickets"], tables["machines"], maker, "2026Q3", as_of="2026-10-01",
                              generated_at="2026-11-05 06:00", stale=True)
    assert "stale-banner" in old.html and "2026-10-01" in old.html and "35 天" in old.html
    with pytest.raises(ZkValueError, match="generated_at"):
        manufacturer_report(tables["tickets"], tables["machines"], maker, "2026Q3", generated_at="not a date")


def test_weibull_axes_are_plain_numbers() -> None:
    # a log axis labelled by plain_log_axis shows 1-2-5 numbers, never powers of ten (2x10^0, 10^3)
    from zk_forecast.reports.charts import new_figure, plain_log_axis

    fig, ax = new_figure(4, 3)
    ax.set_xscale("log")
    # limits 512 and 9,875: the fine steps give 7 ticks (700 ... 7,000) > 6, the 1-2-5 steps three
    ticks = plain_log_axis(ax.xaxis, [640.0, 1300.0, 7900.0])
    assert ticks == [1000.0, 2000.0, 5000.0]
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels == ["1,000", "2,000", "5,000"]
    assert not [t.get_text() for t in ax.xaxis.get_minorticklabels() if t.get_text()]
    fig2, ax2 = new_figure(4, 3)
    ax2.set_yscale("log")
    # hand count: limits 0.45 / 1.25 = 0.36 and 3.2 x 1.25 = 4; the fine steps (1, 1.5, 2, 3, 5, 7) give six
    # ticks inside, not more than max_ticks = 6
    assert plain_log_axis(ax2.yaxis, [0.45, 0.8, 3.2]) == [0.5, 0.7, 1.0, 1.5, 2.0, 3.0]
    fig2.canvas.draw()
    assert [t.get_text() for t in ax2.get_yticklabels() if t.get_text()] == ["0.5", "0.7", "1", "1.5", "2", "3"]
    assert plain_log_axis(ax2.yaxis, [float("nan"), -1.0]) == []


def test_trend_uses_the_season_table(early_report: Any) -> None:
    from zk_forecast.calendar import FARMING_SEASONS

    trend = early_report.tables["trend"]
    label = {m: s.label for s in FARMING_SEASONS for m in s.months}
    assert (trend["season"] == trend["month"].dt.month.map(label)).all()
    text = _parse(early_report.html).text("trend")
    assert "秋收（8–10月）" in text and "春播（3–5月）" in text


def test_maintenance_review_and_hazard_ratios(store: Path, tables: dict[str, pd.DataFrame]) -> None:
    """The maintenance-interval review holds this manufacturer's models only, one table per model, with the
    verdicts of review_maintenance_intervals; the hazard-ratio section has one plain-language line per term."""
    s = Store(store)
    maker = _maker(tables, "ML-4YZ-4")
    own = set(tables["machines"].loc[tables["machines"]["manufacturer"] == maker, "model"].astype(str))
    rep = manufacturer_report(tables["tickets"], tables["machines"], maker, "2026Q3",
                              component_parts=tables["component_parts"], maintenance_plans=s.read("maintenance_plans"),
                              parts=s.read("parts"), depots=s.read("depots"), generated_at=AT)
    mt = rep.tables["maintenance"]
    assert len(mt) > 0 and set(mt["model"]) <= own
    assert set(mt["verdict_en"]) <= {"too short", "about right", "too long"}
    assert (mt["optimal_age"] > 0).all()
    p = _parse(rep.html)
    text = p.text("maintenance")
    for model in mt["model"].unique():
        assert model in text
    assert "extra per 100 machines per season" in text
    hz = rep.tables["hazards"]
    assert list(hz["covariate"].unique()) == ["hours_per_season", "build_year", "depot", "warranty_months"]
    assert (hz["n_failures"] > 0).all()
    hz_text = p.text("hazards")
    for line in hz["text_zh"]:
        assert line in hz_text
    assert "每季多用 100 小时：故障风险 ×" in hz_text and "every 100 extra hours per season: hazard x" in hz_text
    # without plans and prices the section says so instead of showing an empty table
    bare = manufacturer_report(tables["tickets"], tables["machines"], maker, "2026Q3",
                               component_parts=tables["component_parts"], generated_at=AT)
    assert bare.tables["maintenance"].empty
    assert "The store has no maintenance plans or part prices" in _parse(bare.html).text("maintenance")


def test_early_life_counts_recounted_group_by_group(tables: dict[str, pd.DataFrame], store: Path,
                                                    early_report: Any) -> None:
    # the scorecard's early-life problems per manufacturer and a manufacturer report's early-life table, recounted
    # with early_life_test on each model x component's lives (known at the end of the period) one at a time
    from zk_forecast.failures import build_lives, early_life_test
    from zk_forecast.reports.scorecard import manufacturer_scorecard

    end = pd.Timestamp("2026-10-01")
    tk = tables["tickets"]
    lives = build_lives(tk[tk["reported_at"] < end], tables["machines"], tables["component_parts"], as_of=end)
    problems: dict[str, int] = {}
    tests = {}
    for (maker, model, comp), g in lives.groupby(["manufacturer", "model", "component"], sort=True):
        r = early_life_test(g["time"], g["censored"], g["entry"])
        tests[(model, comp)] = r
        problems[str(maker)] = problems.get(str(maker), 0) + int(
            r.flagged or (np.isfinite(r.shape_upper) and r.shape_upper < 1.0))
    sc = manufacturer_scorecard(tk, tables["machines"], "2026Q3", component_parts=tables["component_parts"],
                                lives=lives).table.set_index("manufacturer")
    assert sc["early_life_problems"].to_dict() == {m: problems.get(m, 0) for m in sc.index}
    early = early_report.tables["early_life"]
    assert len(early) == sum(1 for k in tests if k[0] in set(early["model"]))
    for row in early.itertuples(index=False):
        r = tests[(row.model, row.component)]
        assert row.failures == r.failures and row.sentence_en == r.sentence_en
        assert row.flagged == bool(r.flagged or (np.isfinite(r.shape_upper) and r.shape_upper < 1.0))
        assert row.shape == pytest.approx(r.shape, rel=1e-6, nan_ok=True)
