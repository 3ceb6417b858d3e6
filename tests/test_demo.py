"""Tests of the synthetic dealer (zk_forecast.data.demo): files, headers, determinism and planted effects."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from zk_forecast.data import demo
from zk_forecast.errors import ZkValueError
from zk_forecast.schema import TABLES

# file name pattern → canonical table
FILE_TABLES = {
    "网点仓库": "depots", "客户档案": "customers", "配件档案": "parts", "整机台账": "machines", "部件用料": "component_parts",
    "保养计划": "maintenance_plans", "售后服务单": "tickets", "配件出库明细": "part_issues", "入库明细": "receipts",
    "库存快照": "stock",
}
REAL_BRANDS = ("东方红", "雷沃", "沃得", "久保田", "约翰迪尔", "中联", "常发", "五征", "凯斯", "纽荷兰", "克拉斯", "迪尔",
               "洋马", "道依茨", "爱科", "芬特", "麦赛福格森", "时风", "星光", "谷王", "John Deere", "Kubota", "Lovol",
               "CLAAS", "Case IH", "New Holland", "Yanmar")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.generate(tmp_path_factory.mktemp("demo") / "a", scale="small", seed=7).out_dir


@pytest.fixture(scope="module")
def summary(out: Path) -> demo.DemoSummary:
    return demo.generate(out.parent / "b", scale="small", seed=7)


@pytest.fixture(scope="module")
def truth(out: Path) -> dict:
    return json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))


def _encoding(path: Path) -> str:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def read(path: Path) -> pd.DataFrame:
    """Read an export as text (blank lines skipped, as a reader would)."""
    if path.suffix == ".xlsx":
        return pd.read_excel(path, dtype=object, engine="openpyxl")
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=_encoding(path))


@pytest.fixture(scope="module")
def issues(out: Path) -> pd.DataFrame:
    frames = [read(p) for p in sorted(out.glob("配件出库明细_*"))]
    df = pd.concat(frames, ignore_index=True)
    df["date"] = pd.to_datetime(df["出库日期"].map(_parse_date), errors="coerce")
    df["qty"] = pd.to_numeric(df["数量"])
    df["price"] = pd.to_numeric(df["单价"].astype(str).str.replace(",", ""))
    return df


def _parse_date(s: object) -> str:
    s = str(s).strip()
    if re.fullmatch(r"\d{5}", s):
        return str(np.datetime64("1899-12-30") + int(s))
    m = re.fullmatch(r"(\d{4})[年/-](\d{1,2})[月/-](\d{1,2})日?", s)
    return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}" if m else s[:10]


def test_scale_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ZkValueError, match=r"'medium'.*|small.*large"):
        demo.generate(tmp_path, scale="medium")


def test_files_exist_with_schema_headers(out: Path, summary: demo.DemoSummary) -> None:
    names = set(summary.files)
    for stem in FILE_TABLES:
        assert any(n.startswith(stem) for n in names), stem
    assert {f"配件出库明细_{y}" for y in range(2019, 2027)} <= {n.split(".")[0] for n in names}
    for name in names:
        table = TABLES[FILE_TABLES[next(s for s in FILE_TABLES if name.startswith(s))]]
        known = {h for c in table.columns for h in c.headers}
        header = list(read(out / name).columns)
        unknown = [h for h in header if h not in known]
        assert set(unknown) <= set(demo.EXTRA_COLUMNS), (name, unknown)
        for col in table.required:
            assert any(h in table.column(col).headers for h in header), (name, col)


def test_enum_labels_are_schema_aliases(out: Path) -> None:
    t = read(out / "售后服务单.csv")
    for header, col in (("服务方式", "channel"), ("服务类别", "kind"), ("故障原因", "cause")):
        aliases = TABLES["tickets"].column(col).value_aliases
        assert set(t[header][t[header] != ""]) <= set(aliases), header
    kinds = TABLES["part_issues"].column("kind").value_aliases
    assert set(read(out / "配件出库明细_2024.csv")["出库类别"]) == set(demo.ISSUE_KIND_ZH.values())
    assert set(demo.ISSUE_KIND_ZH.values()) <= set(kinds)
    m = read(out / "整机台账.xlsx")
    assert set(m["机器类别"]) <= set(TABLES["machines"].column("machine_type").value_aliases)
    p = read(out / "配件档案.xlsx")
    assert set(p["存货分类"]) <= set(TABLES["parts"].column("category").value_aliases)


def test_byte_identical_for_same_seed_and_different_for_another(out: Path, summary: demo.DemoSummary,
                                                                tmp_path: Path) -> None:
    for name in [*summary.files, "ground_truth.json"]:
        assert (out / name).read_bytes() == (summary.out_dir / name).read_bytes(), name
    other = demo.generate(tmp_path, scale="small", seed=8)
    assert (other.out_dir / "售后服务单.csv").read_bytes() != (out / "售后服务单.csv").read_bytes()
    assert (other.out_dir / "整机台账.xlsx").read_bytes() != (out / "整机台账.xlsx").read_bytes()


def test_row_counts_match_files(summary: demo.DemoSummary, truth: dict) -> None:
    for name, n in summary.files.items():
        path = summary.out_dir / name
        if path.suffix == ".xlsx":
            ws = load_workbook(path, read_only=True).worksheets[0]
            assert sum(1 for _ in ws.iter_rows(values_only=True)) - 1 == n, name
        else:
            assert len(read(path)) == n, name
    assert truth["files"] == summary.files


def test_encodings(out: Path) -> None:
    raw = (out / "客户档案.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gb18030").startswith("客户编码")
    assert (out / "售后服务单.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    encs = {_encoding(p) for p in out.glob("配件出库明细_*.csv")}
    assert encs == {"utf-8", "gb18030"}


def test_date_formats_are_mixed_and_unambiguous(issues: pd.DataFrame) -> None:
    s = issues["出库日期"].astype(str)
    assert s.str.fullmatch(r"\d{4}-\d{2}-\d{2}").mean() > 0.7
    assert s.str.contains("/").any() and s.str.contains("年").any() and s.str.fullmatch(r"\d{5}").any()
    assert not s.str.fullmatch(r"\d{1,2}[/-]\d{1,2}[/-]\d{4}").any()
    assert issues["date"].isna().sum() == 1  # the planted 2022-02-30
    assert issues["date"].max() <= pd.Timestamp("2026-10-31")


def test_planted_data_errors_are_where_ground_truth_says(out: Path, truth: dict) -> None:
    errors = truth["planted_data_errors"]
    assert 3 <= len(errors) < 10
    for e in errors:
        path = out / e["file"]
        if "blank" in e["reason"]:
            lines = path.read_bytes().split(b"\n")
            assert lines[e["line"] - 1] == b""
            continue
        df = read(path)
        row = df.iloc[e["row"] - 1]
        if "duplicated" in e["reason"]:
            assert row.equals(df.iloc[e["row"] - 2])
        elif "unknown part" in e["reason"]:
            parts = set(read(out / "配件档案.xlsx")["存货编码"])
            assert row["存货编码"] not in parts
        elif "完工时间" in e["reason"]:
            assert pd.to_datetime(row["完工时间"], format="mixed") < pd.to_datetime(row["报修时间"], format="mixed")
        elif "invalid date" in e["reason"]:
            assert row["出库日期"] == "2022-02-30"


def test_returns_negative_and_depot_names(issues: pd.DataFrame, out: Path) -> None:
    ret = issues[issues["出库类别"] == "退库"]
    assert len(ret) > 0 and (ret["qty"] < 0).all()
    assert (issues.loc[issues["出库类别"] != "退库", "qty"] > 0).all()
    names = set(read(out / "网点仓库.xlsx")["仓库名称"])
    assert set(issues["仓库"]) == names


def test_early_life_defect_fails_at_low_hours(out: Path, truth: dict) -> None:
    eff = truth["planted_effects"]["early_life_defect"]
    assert eff["shape"] < 1
    t = read(out / "售后服务单.csv")
    m = read(out / "整机台账.xlsx")[["出厂编号", "机型", "机器类别"]].drop_duplicates("出厂编号")
    t = t.merge(m, on="出厂编号")
    f = t[(t["服务类别"] == "故障维修") & (t["故障部位"] == eff["component"])]
    hours = pd.to_numeric(f["工作小时"])
    planted = hours[f["机型"] == eff["model"]]
    others = hours[(f["机型"] != eff["model"]) & f["机器类别"].isin(["联合收割机", "谷物联合收割机", "收割机", "玉米收获机"])]
    assert len(planted) >= 10 and len(others) >= 10
    # Weibull shape < 1: a falling hazard, so a large share of failures comes in the first hours
    assert (planted < 200).mean() > 0.2
    assert (planted < 200).mean() > 3 * (others < 200).mean()


def test_design_fix_lowers_failures(out: Path, truth: dict) -> None:
    fix = truth["planted_effects"]["design_fix"]
    assert fix["scale_h_after"] > fix["scale_h_before"]
    m = read(out / "整机台账.xlsx").drop_duplicates("出厂编号")
    m = m[m["机型"] == fix["model"]]
    built = pd.to_datetime(m["生产日期"].map(_parse_date))
    t = read(out / "售后服务单.csv")
    t["h"] = pd.to_numeric(t["工作小时"])
    reach = t.groupby("出厂编号")["h"].max()
    limit = 600.0
    f = t[(t["服务类别"] == "故障维修") & (t["故障部位"] == fix["component"]) & (t["h"] < limit)]
    failed = m["出厂编号"].isin(f["出厂编号"])
    exposed = m["出厂编号"].map(reach).fillna(0) >= limit
    before = failed[exposed & (built < pd.Timestamp(fix["cut_in_build_date"]))]
    after = failed[exposed & (built >= pd.Timestamp(fix["cut_in_build_date"]))]
    assert len(before) >= 5 and len(after) >= 5
    assert before.mean() > after.mean()


def test_price_difference_at_one_depot(issues: pd.DataFrame, truth: dict) -> None:
    eff = truth["planted_effects"]["price_difference"]
    sales = issues[issues["出库类别"] == "零售"]
    for part in eff["part_nos"]:
        s = sales[sales["存货编码"] == part]
        at = s.loc[s["仓库"] == eff["depot_name"], "price"]
        elsewhere = s.loc[s["仓库"] != eff["depot_name"], "price"]
        assert len(at) > 0 and len(elsewhere) > 0, part
        assert at.nunique() == 1 and elsewhere.nunique() == 1
        assert at.iloc[0] / elsewhere.iloc[0] == pytest.approx(eff["factor"], abs=0.01)
    other = sales[~sales["存货编码"].isin(eff["part_nos"])]
    assert (other.groupby("存货编码")["price"].nunique() == 1).all()


def test_superseded_part_issues_stop_at_the_date(issues: pd.DataFrame, out: Path, truth: dict) -> None:
    eff = truth["planted_effects"]["supersession"]
    cut = pd.Timestamp(eff["date"])
    old = issues[issues["存货编码"] == eff["old_part_no"]]
    new = issues[issues["存货编码"] == eff["new_part_no"]]
    assert len(old) > 20 and len(new) > 20
    assert old["date"].max() < cut <= new["date"].min()
    parts = read(out / "配件档案.xlsx").set_index("存货编码")
    assert parts.loc[eff["old_part_no"], "替代件号"] == eff["new_part_no"]


def test_seasonality_and_growth(issues: pd.DataFrame, out: Path) -> None:
    demand = issues[issues["出库类别"].isin(["维修领用", "保养领用", "零售"])]
    month = demand["date"].dt.month
    assert (month.isin([6, 7, 9, 10]).sum() / 4) > 1.5 * (month == 1).sum()
    t = read(out / "售后服务单.csv")
    fails = t[t["服务类别"] == "故障维修"]["报修时间"].str.replace("/", "-").str.slice(5, 7)
    assert fails.isin(["06", "07", "09", "10"]).sum() > 5 * fails.isin(["12", "01", "02"]).sum()
    m = read(out / "整机台账.xlsx").drop_duplicates("出厂编号")
    years = pd.to_datetime(m["购机日期"].map(_parse_date)).dt.year.value_counts().sort_index()
    assert years[2025] > years[2021] > years[2019]


def test_lead_times_longer_in_harvest(out: Path) -> None:
    r = read(out / "入库明细.csv")
    r = r[r["备注"] == "采购入库"]
    o = pd.to_datetime(r["订货日期"].map(_parse_date))
    lt = (pd.to_datetime(r["到货日期"].map(_parse_date)) - o).dt.days
    harvest = o.dt.month.isin([6, 7, 9, 10])
    assert lt[harvest].mean() > 1.2 * lt[~harvest].mean()


def test_no_real_brand_names(out: Path) -> None:
    for path in out.iterdir():
        if path.suffix == ".xlsx":
            text = read(path).to_csv(index=False)
        elif path.suffix == ".csv":
            text = path.read_bytes().decode(_encoding(path))
        else:
            text = path.read_text(encoding="utf-8")
        for brand in REAL_BRANDS:
            assert brand not in text, (path.name, brand)


def test_ground_truth_is_complete(truth: dict) -> None:
    for key in ("weibull", "usage", "counter_sales", "replenishment", "prices", "planted_effects",
                "planted_data_errors", "files", "manufacturers"):
        assert key in truth
    assert set(truth["planted_effects"]) == {"early_life_defect", "design_fix", "price_difference", "supersession"}
    assert truth["cause_share_manufacturer_failures"] > 0.7
