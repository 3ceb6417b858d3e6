"""Restock lists that follow the two-echelon network plan, and the order and transfer sheets, on the demo data.

The demo's network plan serves every part from Yinchuan (the branches are one or two working days away, within
both promises), so the branch lists hold transfer requests for what is owed only; a second plan that stocks some
parts at a branch checks that those get branch levels.
"""

from __future__ import annotations

import datetime as dt
import math
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from zk_forecast.data import Store, demo, ingest
from zk_forecast.demand.panel import build_panel
from zk_forecast.errors import ZkTypeError, ZkValueError
from zk_forecast.inventory.network import plan_network
from zk_forecast.inventory.plan import plan
from zk_forecast.inventory.wearlist import wear_list
from zk_forecast.reports.restock import (
    ORDER_COLUMNS,
    RESTOCK_HEADERS,
    restock_table,
    restock_workbooks,
    seasons_ahead,
)

GENERATED = "2026-11-02 05:30:00"


@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("restock_demo")
    demo.generate(root / "raw", scale="small", seed=7)
    ingest(root / "raw", root / "store")
    read = Store(root / "store").read
    parts, depots = read("parts"), read("depots")
    panel = build_panel(read("part_issues"), parts)
    history = panel.to_long()
    history = history[history["y"].notna()]
    uids = pd.Index(sorted(history["unique_id"].unique()))
    p = parts.set_index("part_no")
    pn = uids.str.split("|").str[0]
    items = pd.DataFrame({
        "lead_time": np.ceil(p.loc[pn, "lead_time_days"].to_numpy(dtype=float) / 7).astype(int),
        "unit_cost": p.loc[pn, "unit_cost"].to_numpy(dtype=float),
        "pack_size": p.loc[pn, "pack_size"].to_numpy(dtype=float),
        "moq": p.loc[pn, "moq"].to_numpy(dtype=float),
    }, index=uids)
    policies = plan(history, items, fill_rate=0.95)
    wl = wear_list(read("part_issues"), parts, read("machines"), tickets=read("tickets"),
                   component_parts=read("component_parts"), panel=panel)
    # the network plan as the nightly batch feeds it: mean weekly demand over the last 52 weeks
    recent = panel.values[:, -52:]
    seen = ~np.isnan(recent).all(axis=1)
    rate = np.nanmean(np.where(seen[:, None], recent, 0.0), axis=1)[seen]
    ids = pd.Index(panel.unique_id.astype(str))[seen]
    demand = pd.DataFrame({"part_no": ids.str.split("|").str[0], "depot_id": ids.str.split("|").str[1], "rate": rate})
    listed = set(wl.frame.loc[wl.frame["listed"], "part_no"].astype(str))
    net_parts = pd.DataFrame({"lead_time": np.ceil(p["lead_time_days"].to_numpy(dtype=float) / 7).astype(int),
                              "wear_list": [x in listed for x in p.index]}, index=p.index.astype(str))

    def network(transfer_days: dict[str, float]) -> pd.DataFrame:
        dep = pd.DataFrame({"role": ["central", "branch", "branch", "branch"],
                            "transfer_days": [0.0] + [transfer_days[b] for b in ("PL01", "QT01", "GY01")]},
                           index=pd.Index(["YC01", "PL01", "QT01", "GY01"], name="depot_id"))
        dep["transfer_time"] = np.ceil(dep["transfer_days"] / 5.0)
        return plan_network(demand, net_parts, dep).reset_index()

    return {"policies": policies, "stock": read("stock"), "parts": parts, "depots": depots, "wl": wl,
            "network": network({"PL01": 1.0, "QT01": 1.0, "GY01": 2.0}),
            # Guyuan six working days away: its wear-list parts miss the 5-day promise from Yinchuan
            "network_far": network({"PL01": 1.0, "QT01": 1.0, "GY01": 6.0})}


def _table(d: dict, network: str = "network", **kw: object) -> pd.DataFrame:
    return restock_table(d["policies"], d["stock"], d["parts"], depots=d["depots"], network=d[network],
                         wear_list=d["wl"], **kw)


def test_branch_lists_follow_the_network_plan(demo_plan: dict) -> None:
    d = demo_plan
    net = d["network"]
    assert not net.loc[net["depot_id"] != "YC01", "stocked"].any()  # the demo's plan stocks nothing at branches
    t = _table(d)
    branch = t[t["depot_id"] != "YC01"]
    # no branch line for a part the plan does not stock there, except what is owed: a transfer request
    assert len(branch) > 0
    assert (branch["backorders"] > 0).all()
    assert (branch["suggested_qty"] == (branch["backorders"] - branch["on_hand"] - branch["on_order"]).clip(lower=0)).all()
    assert (branch["source"] == "银川中心库调拨").all() and (branch["reason"] == "欠件（不备库，按需调拨）").all()
    assert branch["reorder_point"].isna().all() and not branch["stocked"].any()
    # the stock table's own count of owed branch rows: every one is listed
    st = d["stock"]
    owed = st[(st["depot_id"] != "YC01") & (st["backorders"] > st["on_hand"] + st["on_order"])]
    assert len(branch[branch["suggested_qty"] > 0]) == len(owed)


def test_stocked_branch_parts_get_branch_levels(demo_plan: dict) -> None:
    d = demo_plan
    net = d["network_far"]
    at_gy = net[(net["depot_id"] == "GY01") & net["stocked"]]
    assert len(at_gy) > 0
    t = _table(d, "network_far")
    gy = t[t["depot_id"] == "GY01"].set_index("part_no")
    held = set(at_gy["part_no"].astype(str))
    assert set(gy.index[gy["stocked"]]) <= held
    pol = d["policies"]
    for part in sorted(held & set(gy.index))[:20]:
        uid = f"{part}|GY01"
        if uid in pol.index and pol.loc[uid, "order_up_to"] > 0:
            assert gy.loc[part, "reorder_point"] == pol.loc[uid, "reorder_point"]
            assert gy.loc[part, "order_up_to"] == pol.loc[uid, "order_up_to"]
    not_held = gy[~gy.index.isin(held)]
    assert (not_held["backorders"] > 0).all()


def test_yinchuan_position_counts_branch_requests_and_echelon_levels(demo_plan: dict) -> None:
    d = demo_plan
    t = _table(d, review_period=1)
    yc = t[t["depot_id"] == "YC01"].set_index("part_no")
    req = t[(t["depot_id"] != "YC01") & (t["source"] == "银川中心库调拨")].groupby("part_no")["suggested_qty"].sum()
    req = req[req > 0]
    assert len(req) > 5
    got = yc.loc[req.index, "branch_requests"]
    assert (got == req).all()
    pos = yc["on_hand"] + yc["on_order"] - yc["backorders"] - yc["branch_requests"]
    assert (yc["position"] == pos).all()
    # echelon levels, by hand: own policy + ceil(sum of branch rates x Yinchuan's lead time [+ review period])
    net = d["network"]
    pol = d["policies"]
    checked = 0
    for part, g in net.groupby("part_no"):
        uid = f"{part}|YC01"
        if uid not in pol.index or part not in yc.index:
            continue
        draw = g.loc[g["depot_id"] != "YC01", "rate"].sum()
        L0 = float(g.loc[g["depot_id"] == "YC01", "lead_time"].iloc[0])
        assert yc.loc[part, "reorder_point"] == pol.loc[uid, "reorder_point"] + math.ceil(draw * L0 - 1e-9)
        assert yc.loc[part, "order_up_to"] == pol.loc[uid, "order_up_to"] + math.ceil(draw * (L0 + 1) - 1e-9)
        checked += 1
    assert checked > 100


def test_yinchuan_order_covers_branch_draw(demo_plan: dict) -> None:
    """A part the branches draw on: Yinchuan orders at least up to its echelon level from the position after
    the branches' requests (a rule-by-rule recount)."""
    d = demo_plan
    t = _table(d)
    yc = t[(t["depot_id"] == "YC01") & t["stocked"]]
    due = yc["position"] <= yc["reorder_point"]
    assert due.sum() > 0
    need = (yc["order_up_to"] - yc["position"]).where(due, 0).clip(lower=0)
    assert (yc.loc[due & (need > 0), "suggested_qty"] >= need[due & (need > 0)]).all()
    assert (yc.loc[~due & (yc["reason"].str.contains("不高于再订货点")), "suggested_qty"] == 0).all()


def test_transfer_allocation_from_yinchuan_stock(demo_plan: dict) -> None:
    t = _table(demo_plan)
    lines = t[(t["depot_id"] != "YC01") & (t["suggested_qty"] > 0)]
    assert ((lines["ship_now"] + lines["ship_later"]) == lines["suggested_qty"]).all()
    on_hand = t[t["depot_id"] == "YC01"].set_index("part_no")["on_hand"]
    shipped = lines.groupby("part_no")["ship_now"].sum()
    assert (shipped <= on_hand.reindex(shipped.index).fillna(0)).all()
    short = lines[lines["ship_later"] > 0]
    # a line waits only when Yinchuan's stock is used up by the lines ahead of it
    for part in short["part_no"].unique()[:20]:
        assert shipped.get(part, 0) == max(int(on_hand.get(part, 0)), 0)


def test_reasons_and_rounding(demo_plan: dict) -> None:
    t = _table(demo_plan)
    p = demo_plan["parts"].set_index("part_no")
    sup = t[(t["suggested_qty"] > 0) & (t["source"] == "供应商采购")]
    moq = p.loc[sup["part_no"], "moq"].to_numpy()
    pack = p.loc[sup["part_no"], "pack_size"].to_numpy()
    assert (sup["suggested_qty"].to_numpy() >= moq).all() and (sup["suggested_qty"].to_numpy() % pack == 0).all()
    # ordered beyond the order-up-to level: the reason says why (rounding, the wear list or the planner)
    above = sup[sup["position"] + sup["suggested_qty"] > sup["order_up_to"].astype(float)]
    assert len(above) > 0
    assert above["reason"].str.contains("最小起订量取整|包装取整|易损件清单最低量").all()
    # a rounding reason only where rounding changed the quantity: the raw need S - position (when the only rule)
    only_below = sup[sup["reason"] == "不高于再订货点"]
    raw = only_below["order_up_to"].astype(int) - only_below["position"]
    assert (only_below["suggested_qty"] == raw).all()
    assert not t["reason"].str.contains("低于").any()


def test_rules_by_hand() -> None:
    """Three parts at Yinchuan and one branch, quantities worked by hand."""
    depots = pd.DataFrame({"depot_id": ["C1", "B1"], "name": ["中心", "分库"], "role": ["central", "branch"]})
    parts = pd.DataFrame({"part_no": ["P", "Q", "R"], "name": ["p", "q", "r"], "uom": ["个", "件", "把"],
                          "supplier": ["S1", None, "S2"], "manufacturer": ["M1", "M2", "M3"],
                          "unit_cost": [2.0, 3.0, 4.0], "pack_size": [5, 5, 1], "moq": [4, 4, 0]})
    policies = pd.DataFrame({"reorder_point": [5, 5, 2], "order_up_to": [8, 12, 6]},
                            index=["P|C1", "Q|C1", "R|C1"])
    stock = pd.DataFrame({"depot_id": ["C1", "C1", "C1", "B1"], "part_no": ["P", "Q", "R", "R"],
                          "on_hand": [5, 5, 3, 0], "on_order": [0, 0, 0, 0], "backorders": [0, 0, 0, 2]})
    network = pd.DataFrame({"part_no": ["P", "Q", "R", "R"], "depot_id": ["C1", "C1", "C1", "B1"],
                            "stocked": [True, True, True, False], "rate": [0.0, 0.0, 0.0, 0.5],
                            "lead_time": [2.0, 2.0, 2.0, 1.0], "reorder_point": [0, 0, 0, -1],
                            "order_up_to": [0, 0, 0, 0]})
    t = restock_table(policies, stock, parts, depots=depots, network=network).set_index(["depot_id", "part_no"])
    # P: position 5 = reorder point 5 -> order 8 - 5 = 3, raised to the MOQ 4, then to one pack of 5
    assert t.loc[("C1", "P"), "suggested_qty"] == 5
    assert t.loc[("C1", "P"), "reason"] == "不高于再订货点；最小起订量取整；包装取整"
    # Q: 12 - 5 = 7 >= MOQ 4, two packs of 5 = 10; no supplier given: the manufacturer is shown
    assert t.loc[("C1", "Q"), "suggested_qty"] == 10 and t.loc[("C1", "Q"), "reason"] == "不高于再订货点；包装取整"
    assert t.loc[("C1", "Q"), "supplier"] == "M2" and t.loc[("C1", "P"), "supplier"] == "S1"
    # R at the branch: not stocked, 2 owed -> a transfer request of 2, not rounded
    assert t.loc[("B1", "R"), "suggested_qty"] == 2 and t.loc[("B1", "R"), "source"] == "银川中心库调拨"
    assert pd.isna(t.loc[("B1", "R"), "reorder_point"])
    # R at Yinchuan: levels 2 + ceil(0.5 x 2) = 3 and 6 + ceil(0.5 x 3) = 8; position 3 - 2 requested = 1 -> 7
    assert t.loc[("C1", "R"), "reorder_point"] == 3 and t.loc[("C1", "R"), "order_up_to"] == 8
    assert t.loc[("C1", "R"), "branch_requests"] == 2 and t.loc[("C1", "R"), "position"] == 1
    assert t.loc[("C1", "R"), "suggested_qty"] == 7
    # Yinchuan ships both now from its 3 on hand
    assert t.loc[("B1", "R"), "ship_now"] == 2 and t.loc[("B1", "R"), "ship_later"] == 0
    # no line for R at the branch once nothing is owed
    calm = stock.assign(backorders=0)
    t2 = restock_table(policies, calm, parts, depots=depots, network=network)
    assert not ((t2["depot_id"] == "B1") & (t2["part_no"] == "R")).any()


def test_season_ahead(demo_plan: dict) -> None:
    parts = pd.DataFrame({"part_no": ["A", "B", "C"], "lead_time_days": [21, 10, 45]})
    # by hand: 2026-05-20 + 21 d = 2026-06-10 (夏收); + 10 d = 05-30 (春播); + 45 d = 07-04 (夏收)
    assert seasons_ahead(parts, "2026-05-20").tolist() == ["wheat_harvest", "spring_sowing", "wheat_harvest"]
    assert seasons_ahead(parts, "2026-10-25").tolist() == ["winter", "winter", "winter"]
    d = demo_plan
    f = d["wl"].frame
    f = f[f["listed"] & (f["key"] == "YC01")]
    q = f.pivot_table(index="part_no", columns="season", values="quantity", aggfunc="max")
    # a part whose harvest quantity exceeds its other seasons' (or that is listed in the harvest only)
    other = q.drop(columns="wheat_harvest").max(axis=1).fillna(0)
    harvest = q["wheat_harvest"].dropna()
    part = (harvest - other.reindex(harvest.index)).idxmax()
    assert harvest[part] > other[part]
    by = {s: _table(d, season=s).set_index(["depot_id", "part_no"]).loc[("YC01", part)]
          for s in ("wheat_harvest", "winter")}
    before, after = by["wheat_harvest"], by["winter"]
    assert before["suggested_qty"] >= after["suggested_qty"]
    assert "易损件清单最低量（夏收）" in before["reason"] or before["position"] >= harvest[part]
    assert "夏收" not in after["reason"]
    # per part, from the date: the same as naming the season
    per_part = seasons_ahead(d["parts"], "2026-05-25")
    a = _table(d, season=per_part).set_index(["depot_id", "part_no"])
    one = _table(d, season="wheat_harvest").set_index(["depot_id", "part_no"])
    same = per_part[per_part == "wheat_harvest"].index
    rows = a.index.get_level_values("part_no").isin(same) & a.index.isin(one.index)
    pd.testing.assert_series_equal(a.loc[rows, "suggested_qty"], one.loc[a.index[rows], "suggested_qty"])


def test_wear_list_object_or_frame(demo_plan: dict) -> None:
    d = demo_plan
    a = _table(d)
    b = restock_table(d["policies"], d["stock"], d["parts"], depots=d["depots"], network=d["network"],
                      wear_list=d["wl"].frame)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ZkTypeError, match="WearList"):
        restock_table(d["policies"], d["stock"], d["parts"], depots=d["depots"], wear_list=[1, 2])


def test_central_depot_from_the_depots_table(demo_plan: dict) -> None:
    d = demo_plan
    with pytest.raises(ZkValueError, match="central"):
        restock_table(d["policies"], d["stock"], d["parts"], depots=d["depots"], central="PL01")
    two = d["depots"].assign(role=["central", "central", "branch", "branch"])
    with pytest.raises(ZkValueError, match="exactly one"):
        restock_table(d["policies"], d["stock"], d["parts"], depots=two)
    with pytest.raises(ZkValueError, match="depots"):
        restock_table(d["policies"], d["stock"], d["parts"])
    # a branch the network plan does not know: an error naming it, not a silent "not stocked"
    net = d["network"]
    with pytest.raises(ZkValueError, match="'QT01'.*network plan"):
        restock_table(d["policies"], d["stock"], d["parts"], depots=d["depots"], network=net[net["depot_id"] != "QT01"])


def _write(d: dict, out: Path, **kw: object) -> dict[str, Path]:
    return restock_workbooks(d["policies"], d["stock"], d["parts"], out, depots=d["depots"], network=d["network"],
                             wear_list=d["wl"], generated_at=GENERATED, **kw)


def test_order_sheet(demo_plan: dict, tmp_path: Path) -> None:
    d = demo_plan
    paths = _write(d, tmp_path)
    assert set(paths) == {"YC01", "PL01", "QT01", "GY01"}
    t = _table(d)
    wb = openpyxl.load_workbook(paths["YC01"])
    assert wb.sheetnames == ["订货单", "补货建议", "调拨单 GY01 固原分库", "调拨单 PL01 平罗分库", "调拨单 QT01 青铜峡分库"]
    ws = wb["订货单"]
    assert ws.cell(1, 1).value == "YC01 银川中心库 订货单"
    assert ws.cell(2, 1).value == "数据截至 2026-10-31\u3000生成时间 2026-11-02 05:30:00"
    zh = RESTOCK_HEADERS["zh"]
    header = [c.value for c in ws[3]]
    assert header == [zh[c] for c in ORDER_COLUMNS]
    assert header[4] == "建议订货量" and {"单位", "规格型号", "最小起订量", "包装数", "供应商"} <= set(header)
    assert ws.print_title_rows == "$3:$3" and ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    yc = t[(t["depot_id"] == "YC01") & (t["suggested_qty"] > 0)]
    rows = [r for r in ws.iter_rows(min_row=4, values_only=True)]
    lines = [r for r in rows[: len(yc)]]
    assert all(r[4] > 0 for r in lines) and {r[0] for r in lines} == set(yc["part_no"])
    assert rows[len(yc)] == (None,) * len(header)  # an empty row, then the totals
    totals = rows[len(yc) + 1:]
    col = header.index("订货金额")
    sup = header.index("供应商")
    per_supplier = {r[sup]: r[col] for r in totals[:-1]}
    expect = yc.groupby("supplier")["order_value"].sum()
    assert per_supplier.keys() == set(expect.index)
    for k, v in expect.items():
        assert per_supplier[k] == pytest.approx(v, abs=0.01)
    assert totals[-1][1] == f"合计（{len(yc)} 行）"
    assert totals[-1][col] == pytest.approx(yc["order_value"].sum(), abs=0.01)
    assert all(r[header.index("单位")] for r in lines) and all(r[sup] for r in lines)
    # the full list shows a part not stocked as such, never -1 or a blank level
    full = openpyxl.load_workbook(paths["PL01"])["补货建议"]
    fh = [c.value for c in full[3]]
    for r in full.iter_rows(min_row=4, values_only=True):
        assert r[fh.index("再订货点")] == "不备库（按需订货）" and r[fh.index("最高库存")] == "不备库（按需订货）"
    # a branch's order sheet holds transfer requests: no MOQ or pack size (they bind supplier orders only)
    bo = openpyxl.load_workbook(paths["PL01"])["订货单"]
    blines = [r for r in bo.iter_rows(min_row=4, values_only=True) if r[0] and r[4]]
    assert blines and all(r[5] is None and r[6] is None and r[10] == "银川中心库调拨" for r in blines)
    # the transfer sheet: what the branch asked for, what Yinchuan ships now and later
    tr = wb["调拨单 PL01 平罗分库"]
    th = [c.value for c in tr[3]]
    assert th == ["存货编码", "配件名称", "规格型号", "单位", "申请调拨数量", "银川现存量", "现在可发", "待到货后发", "原因"]
    pl = t[(t["depot_id"] == "PL01") & (t["suggested_qty"] > 0)].set_index("part_no")
    got = {r[0]: r for r in tr.iter_rows(min_row=4, values_only=True)}
    assert set(got) == set(pl.index)
    for part, r in got.items():
        assert r[4] == pl.loc[part, "suggested_qty"] and r[6] + r[7] == r[4]


def test_workbooks_deterministic_and_dated(demo_plan: dict, tmp_path: Path) -> None:
    d = demo_plan
    a = _write(d, tmp_path / "a")
    b = _write(d, tmp_path / "b")
    for k in a:
        assert a[k].read_bytes() == b[k].read_bytes()
        assert a[k].with_suffix(".csv").read_bytes() == b[k].with_suffix(".csv").read_bytes()
    wb = openpyxl.load_workbook(a["YC01"])
    assert wb.properties.created == dt.datetime(2026, 11, 2, 5, 30)
    with zipfile.ZipFile(a["YC01"]) as z:
        assert z.infolist()[0].date_time == (2026, 11, 2, 5, 30, 0)
    assert not any("过期" in str(ws.cell(3, 1).value) for ws in wb.worksheets)
    stale = _write(d, tmp_path / "s", stale=True)
    ws = openpyxl.load_workbook(stale["GY01"]).worksheets[0]
    assert ws.cell(3, 1).value.startswith("⚠ 数据已过期：库存数据截至 2026-10-31，距生成已 2 天")
    assert ws.cell(4, 1).value == "存货编码" and ws.freeze_panes == "A5"


def test_missing_unit_or_supplier_is_blank_and_warned(demo_plan: dict, tmp_path: Path) -> None:
    d = dict(demo_plan)
    t = _table(d)
    part = t[(t["depot_id"] == "YC01") & (t["suggested_qty"] > 0)]["part_no"].iloc[0]
    parts = d["parts"].copy()
    parts.loc[parts["part_no"] == part, ["supplier", "manufacturer", "uom"]] = None
    d["parts"] = parts
    said: list[str] = []
    paths = _write(d, tmp_path, warn=said.append)
    assert len(said) == 2 and all(part in s for s in said)
    assert "缺少单位" in said[0] and "缺少供应商" in said[1]
    ws = openpyxl.load_workbook(paths["YC01"])["订货单"]
    row = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == part)
    assert row[3] is None and row[9] is None
