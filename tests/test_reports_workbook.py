"""Restock and wear-part list workbooks on the demo data, read back cell by cell with openpyxl."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from zk_forecast.data import Store, demo, ingest
from zk_forecast.demand.panel import build_panel
from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.plan import plan
from zk_forecast.inventory.wearlist import wear_list
from zk_forecast.reports import (
    RESTOCK_HEADERS,
    Sheet,
    restock_table,
    restock_workbooks,
    wearlist_workbook,
    write_csv,
    write_workbook,
)

FORMULA = "=SUM(A1:A2)"


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("reports_demo")
    demo.generate(root / "raw", scale="small", seed=7)
    ingest(root / "raw", root / "store")
    read = Store(root / "store").read
    parts = read("parts").copy()
    panel = build_panel(read("part_issues"), parts)
    history = panel.to_long()
    history = history[history["y"].notna()]
    uids = pd.Index(sorted(history["unique_id"].unique()))
    pn = uids.str.split("|").str[0]
    p = parts.set_index("part_no")
    items = pd.DataFrame({
        "lead_time": np.ceil(p.loc[pn, "lead_time_days"].to_numpy(dtype=float) / 7).astype(int),
        "unit_cost": p.loc[pn, "unit_cost"].to_numpy(dtype=float),
        "pack_size": p.loc[pn, "pack_size"].to_numpy(dtype=float),
        "moq": p.loc[pn, "moq"].to_numpy(dtype=float),
    }, index=uids)
    policies = plan(history, items, fill_rate=0.95)
    # a formula-looking part name: it must come back as text, never as a formula
    target = str(policies.index[0]).split("|")[0]
    parts.loc[parts["part_no"] == target, "name"] = FORMULA
    wl = wear_list(read("part_issues"), read("parts"), read("machines"), tickets=read("tickets"),
                   component_parts=read("component_parts"))
    fleet = wear_list(read("part_issues"), read("parts"), read("machines"), tickets=read("tickets"),
                      component_parts=read("component_parts"), by="customer")
    return {"policies": policies, "stock": read("stock"), "parts": parts, "depots": read("depots"),
            "wl": wl, "fleet": fleet, "formula_part": target}


GENERATED = "2026-11-01 06:30:00"


def _write(d: dict, out: Path, lang: str = "zh") -> dict[str, Path]:
    ov = pd.DataFrame({"depot_id": ["PL01"], "part_no": [d["formula_part"]], "quantity": [7], "note": ["-季前备货"]})
    return restock_workbooks(d["policies"], d["stock"], d["parts"], out, wear_list=d["wl"], overrides=ov, lang=lang,
                             depots=d["depots"], generated_at=GENERATED)


def _list_sheet(path: Path) -> tuple:
    """The full list sheet (补货建议 / Restock) of a restock workbook and its header row number."""
    ws = openpyxl.load_workbook(path).worksheets[1]
    return ws, 3


def test_restock_workbook_cells(demo_inputs: dict, tmp_path: Path) -> None:
    d = demo_inputs
    paths = _write(d, tmp_path)
    assert set(paths) == {"YC01", "PL01", "QT01", "GY01"}
    ov = pd.DataFrame({"depot_id": ["PL01"], "part_no": [d["formula_part"]], "quantity": [7], "note": ["-季前备货"]})
    table = restock_table(d["policies"], d["stock"], d["parts"], depots=d["depots"], wear_list=d["wl"], overrides=ov)
    zh = RESTOCK_HEADERS["zh"]
    for depot, path in paths.items():
        ws, h = _list_sheet(path)
        assert ws.title == "补货建议"
        assert str(ws.cell(1, 1).value).startswith(depot)
        assert ws.cell(2, 1).value == "数据截至 2026-10-31\u3000生成时间 2026-11-01 06:30:00"
        header = [c.value for c in ws[h]]
        assert header == ["存货编码", "配件名称", "规格型号", "单位", "现存量", "在途", "欠件"]  \
            + (["分库调拨申请"] if depot == "YC01" else []) + ["库存位置", "再订货点", "最高库存", "建议订货量",
                                                            "最小起订量", "包装数", "单价", "订货金额", "来源",
                                                            "供应商", "原因", "预计满足率"]
        last = openpyxl.utils.get_column_letter(len(header))
        assert ws.freeze_panes == "A4"
        assert ws.auto_filter.ref == f"A3:{last}{ws.max_row}"
        assert ws.print_title_rows == "$3:$3" and ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        rows = table[table["depot_id"] == depot].reset_index(drop=True)
        assert ws.max_row == len(rows) + h
        col = {x: i for i, x in enumerate(header)}
        for i in range(min(5, len(rows))):
            r = rows.iloc[i]
            cells = ws[i + h + 1]
            assert cells[col["存货编码"]].value == r["part_no"]
            assert cells[col["配件名称"]].value == r["name"]
            assert cells[col["配件名称"]].data_type == "s"
            for k in ("on_hand", "on_order", "backorders", "position", "suggested_qty"):
                c = cells[col[zh[k]]]
                assert c.value == int(r[k]) and c.number_format == "0"
            # Yinchuan's position counts the branches' open requests (without a network: every branch line)
            assert cells[col["库存位置"]].value == r["on_hand"] + r["on_order"] - r["backorders"] \
                - r["branch_requests"]
            if depot == "YC01":
                branch = table[(table["depot_id"] != "YC01") & (table["part_no"] == r["part_no"])]
                assert r["branch_requests"] == branch["suggested_qty"].sum()
            else:
                assert r["branch_requests"] == 0
            c = cells[col["订货金额"]]
            assert c.number_format == "#,##0.00"
            assert c.value == pytest.approx(r["order_value"])
            fr = cells[col["预计满足率"]]
            if not math.isnan(r["expected_fill_rate"]):
                assert fr.number_format == "0.0%" and fr.value == pytest.approx(r["expected_fill_rate"])
            src = cells[col["来源"]].value
            assert src == ("供应商采购" if depot == "YC01" else "银川中心库调拨")
        # suggestion rule on every row of the table: at or below the reorder point (equal included)
        below = rows["position"] <= rows["reorder_point"].astype("float").fillna(-np.inf)
        has = rows["suggested_qty"] > 0
        assert (rows.loc[has, "reason"] != "").all()
        planner = rows["reason"].str.contains("计划员调整")  # an override replaces the rule's quantity
        assert rows.loc[below & ~planner & (rows["order_up_to"].astype(float) > rows["position"]), "reason"] \
            .str.contains("不高于再订货点").all()
        assert not rows["reason"].str.contains("^低于", regex=True).any()
        # widths: the CJK header column is at least as wide as its header (2 per character)
        assert ws.column_dimensions["B"].width >= 8
    # pack / MOQ rounding
    p = d["parts"].set_index("part_no")
    s = table[(table["suggested_qty"] > 0) & (table["source"] == "供应商采购")]  # transfers are not rounded
    pack = p.loc[s["part_no"], "pack_size"].to_numpy()
    moq = p.loc[s["part_no"], "moq"].to_numpy()
    assert (s["suggested_qty"].to_numpy() % pack == 0).all() and (s["suggested_qty"].to_numpy() >= moq).all()
    assert len(s) > 0 and (s["reason"].str.len() > 0).all()


def test_formula_looking_text_stays_text(demo_inputs: dict, tmp_path: Path) -> None:
    d = demo_inputs
    paths = _write(d, tmp_path)
    ws, h = _list_sheet(paths["PL01"])
    header = [c.value for c in ws[h]]
    found = [row for row in ws.iter_rows(min_row=h + 1) if row[0].value == d["formula_part"]]
    assert len(found) == 1
    name = found[0][1]
    assert name.value == FORMULA and name.data_type == "s" and name.quotePrefix
    reason = found[0][header.index("原因")]
    assert "计划员调整（-季前备货）" in reason.value and reason.data_type == "s"
    assert found[0][header.index("建议订货量")].value == 7  # a transfer from Yinchuan: not rounded to packs
    # raw XML: a shared string, no <f> element anywhere
    import zipfile
    with zipfile.ZipFile(paths["PL01"]) as z:
        blobs = {n: z.read(n) for n in z.namelist()}
    assert not any(b"<f>" in v for n, v in blobs.items() if n.startswith("xl/worksheets/"))
    assert any(b"=SUM(A1:A2)" in v for v in blobs.values())
    csv_text = paths["PL01"].with_suffix(".csv").read_bytes()
    assert csv_text.startswith(b"\xef\xbb\xbf")
    assert b"'=SUM(A1:A2)" in csv_text
    assert csv_text.decode("utf-8-sig").splitlines()[0].startswith("存货编码,配件名称,规格型号,单位,现存量")


def test_english_headers(demo_inputs: dict, tmp_path: Path) -> None:
    paths = _write(demo_inputs, tmp_path, lang="en")
    wb = openpyxl.load_workbook(paths["QT01"])
    assert wb.sheetnames == ["Order sheet", "Restock"]
    ws = wb.worksheets[1]
    assert ws["A2"].value == "Data as of 2026-10-31  Generated at 2026-11-01 06:30:00"
    header = [c.value for c in ws[3]]
    assert header[:5] == ["Part number", "Part name", "Specification", "Unit", "On hand"]
    assert ws.cell(4, header.index("Source") + 1).value == "transfer from Yinchuan"


def test_deterministic(demo_inputs: dict, tmp_path: Path) -> None:
    a = _write(demo_inputs, tmp_path / "a")
    b = _write(demo_inputs, tmp_path / "b")
    for k in a:
        assert a[k].read_bytes() == b[k].read_bytes()
        assert a[k].with_suffix(".csv").read_bytes() == b[k].with_suffix(".csv").read_bytes()
    w1 = wearlist_workbook(demo_inputs["wl"], tmp_path / "w1.xlsx", demo_inputs["fleet"], depots=demo_inputs["depots"])
    w2 = wearlist_workbook(demo_inputs["wl"], tmp_path / "w2.xlsx", demo_inputs["fleet"], depots=demo_inputs["depots"])
    assert w1.read_bytes() == w2.read_bytes()


def test_wearlist_workbook(demo_inputs: dict, tmp_path: Path) -> None:
    d = demo_inputs
    path = wearlist_workbook(d["wl"], tmp_path / "wear.xlsx", d["fleet"], depots=d["depots"])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["GY01 固原分库", "PL01 平罗分库", "QT01 青铜峡分库", "YC01 银川中心库", "客户机队"]
    ws = wb["YC01 银川中心库"]
    assert [c.value for c in ws[1]] == ["网点", "存货编码", "配件名称", "建议数量", "季节", "依据", "人工调整", "承诺等级"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:H")
    rep = d["wl"].to_report()
    yc = rep[rep["网点"] == "YC01"].reset_index(drop=True)
    for i in range(3):
        assert ws.cell(i + 2, 2).value == yc.loc[i, "存货编码"]
        assert ws.cell(i + 2, 4).value == int(yc.loc[i, "建议数量"])
        assert ws.cell(i + 2, 4).number_format == "0"
        assert ws.cell(i + 2, 8).value == "易损件 5 个工作日"
    fl = wb["客户机队"]
    assert fl.cell(1, 1).value == "客户" and str(fl.cell(2, 1).value).startswith("KH")


def test_writer_basics(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": ["+1", "-x", "@me", "普通"], "n": [1, 2, 3, 4], "m": [1.5, np.nan, 3.0, 4.0],
                       "s": [0.5, 0.25, 1.0, 0.0]})
    p = write_workbook(tmp_path / "x.xlsx", [Sheet("s/1", df, {"a": "名称"}, {"m": "money", "s": "share"})])
    ws = openpyxl.load_workbook(p).worksheets[0]
    assert ws.title == "s_1"
    assert [ws.cell(r, 1).value for r in range(2, 6)] == ["+1", "-x", "@me", "普通"]
    assert all(ws.cell(r, 1).data_type == "s" for r in range(2, 6))
    assert ws.cell(3, 3).value is None and ws.cell(2, 3).number_format == "#,##0.00"
    assert ws.cell(2, 4).number_format == "0.0%"
    c = write_csv(tmp_path / "x.csv", df, {"a": "名称"}).read_text(encoding="utf-8-sig")
    assert c.splitlines()[1] == "'+1,1,1.5,0.5"


def test_sheet_lines_above_totals_below_and_print_setup(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": ["x", "y"], "m": [1.5, 2.0]})
    sheet = Sheet("s", df, {"a": "名称", "m": "金额"}, {"m": "money"}, above=["标题", "数据截至 2026-10-31"],
                  below=[{"a": "合计", "m": 3.5}], layout="landscape")
    when = dt.datetime(2026, 11, 2, 5, 30, 0)
    ws = openpyxl.load_workbook(write_workbook(tmp_path / "x.xlsx", [sheet], created=when)).worksheets[0]
    assert [ws.cell(r, 1).value for r in range(1, 7)] == ["标题", "数据截至 2026-10-31", "名称", "x", "y", None]
    assert ws.cell(1, 1).font.b and ws.cell(3, 1).font.b and not ws.cell(4, 1).font.b
    assert ws.cell(7, 1).value == "合计" and ws.cell(7, 2).value == 3.5 and ws.cell(7, 2).font.b
    assert ws.cell(7, 2).number_format == "#,##0.00"
    assert ws.freeze_panes == "A4" and ws.auto_filter.ref == "A3:B5" and ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9  # A4
    assert ws.print_options.gridLines
    assert ws.parent.properties.created == when
    with pytest.raises(ZkValueError, match="layout"):
        Sheet("s", df, layout="sideways")
    with pytest.raises(ZkValueError, match="'zzz'"):
        Sheet("s", df, below=[{"zzz": 1}])
