"""Wear-part list (易损件清单): the scoring rule on a hand-made case, overrides, rejects and a demo smoke test."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zk_forecast.data import Store, demo, ingest
from zk_forecast.errors import ZkValueError
from zk_forecast.inventory.wearlist import REPORT_COLUMNS, read_overrides, wear_list


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The small demo, generated and ingested once per session (shared with the other inventory tests)."""
    root = tmp_path_factory.getbasetemp() / "inventory_demo"
    if not (root / "store").exists():
        demo.generate(root / "raw", scale="small", seed=7)
        ingest(root / "raw", root / "store")
    return Store(root / "store")


def _case() -> dict[str, pd.DataFrame]:
    """Two years of weekly history at depot D1 (Mondays 2023-01-02 .. 2024-12-30).

    * ``OFTEN``: 1 unit every week -> mean 1.0/week >= 0.5: listed in every season (demand clause).
    * ``SOMETIMES``: 1 unit every 4th week -> mean 0.25 < 0.5 but frequency 25 % >= 20 %: listed (frequency).
    * ``RARE``: 1 unit once a year in July -> mean ~0.06, frequency ~6 %: not listed.
    * ``CRIT``: critical, fits model M-1 owned at D1, failures 2 per summer on 1 machine: critical clause.
    * ``CRIT2``: critical but fits a model nobody at D1 owns: not listed.
    """
    weeks = pd.date_range("2023-01-02", "2024-12-30", freq="W-MON")
    rows = []
    for i, w in enumerate(weeks):
        rows.append(("OFTEN", w, 1))
        if i % 4 == 0:
            rows.append(("SOMETIMES", w, 1))
        if w.month == 7 and w.day <= 7:
            rows.append(("RARE", w, 1))
    issues = pd.DataFrame({"issue_id": [f"I{k}" for k in range(len(rows))],
                           "issued_on": [r[1] for r in rows], "depot_id": "D1", "part_no": [r[0] for r in rows],
                           "quantity": [r[2] for r in rows], "kind": "repair"})
    parts = pd.DataFrame({"part_no": ["OFTEN", "SOMETIMES", "RARE", "CRIT", "CRIT2"],
                          "name": ["机油滤清器", "三角带", "割刀", "液压泵", "发动机"],
                          "lead_time_days": [7, 7, 7, 14, 14], "critical": [False, False, False, True, True],
                          "unit_cost": [20.0, 50.0, 80.0, 900.0, 5000.0]})
    machines = pd.DataFrame({"serial_no": ["S1"], "model": ["M-1"], "depot_id": ["D1"], "customer_id": ["C1"],
                             "sale_date": pd.to_datetime(["2022-01-01"])})
    component_parts = pd.DataFrame({"model": ["M-1", "M-2"], "component": ["液压泵", "发动机"],
                                    "part_no": ["CRIT", "CRIT2"], "qty_per_replacement": [1, 1]})
    tickets = pd.DataFrame({"ticket_id": ["T1", "T2", "T3", "T4"], "serial_no": "S1", "kind": "failure",
                            "component": "液压泵",
                            "reported_at": pd.to_datetime(["2023-06-12", "2023-07-10", "2024-06-10",
                                                           "2024-07-08"])})
    return {"issues": issues, "parts": parts, "machines": machines, "component_parts": component_parts,
            "tickets": tickets}


def _wl(**kw: object) -> pd.DataFrame:
    c = _case()
    return wear_list(c["issues"], c["parts"], c["machines"], tickets=c["tickets"],
                     component_parts=c["component_parts"], as_of="2024-12-31", **kw)  # type: ignore[arg-type]


def test_scoring_rule_on_a_hand_made_case() -> None:
    f = _wl().frame
    listed = f[f["listed"]]
    by_part = listed.groupby("part_no")["season"].apply(set).to_dict()
    assert by_part["OFTEN"] == {"spring_sowing", "wheat_harvest", "autumn_harvest", "winter"}
    assert by_part["SOMETIMES"] == {"spring_sowing", "wheat_harvest", "autumn_harvest", "winter"}
    assert "RARE" not in by_part and "CRIT2" not in by_part
    # CRIT: 4 failures in the Jun-Jul weeks of 2 years on 1 machine -> about 4 / (2 × ~8.7 weeks) per week
    assert by_part["CRIT"] == {"wheat_harvest"}
    crit = listed.set_index("part_no").loc["CRIT"]
    assert crit["rule_critical"] and not crit["rule_demand"] and crit["source"] == "failures"
    assert crit["mean_week"] == pytest.approx(4 / 17, rel=0.15)
    often = listed[(listed["part_no"] == "OFTEN") & (listed["season"] == "winter")].iloc[0]
    assert often["mean_week"] == pytest.approx(1.0) and often["frequency"] == pytest.approx(1.0)
    assert often["rule_demand"] and often["quantity"] == 2  # 1/week every week over 1 + 1 weeks: 2 units
    some = listed[(listed["part_no"] == "SOMETIMES") & (listed["season"] == "winter")].iloc[0]
    assert some["rule_frequency"] and not some["rule_demand"]
    assert "需求频率" in some["basis"] and "frequency" in some["basis"]


def test_thresholds_move_the_list() -> None:
    f = _wl(min_frequency=0.45).frame
    assert "SOMETIMES" not in set(f.loc[f["listed"], "part_no"])


def test_report_has_chinese_columns() -> None:
    rep = _wl().to_report()
    assert list(rep.columns) == list(REPORT_COLUMNS.values())
    assert set(rep["季节"]) <= {"春播", "夏收", "秋收", "冬季"}
    assert len(_wl().to_report(season="夏收")) < len(rep)


def test_overrides_force_in_out_and_clamp(tmp_path: Path) -> None:
    path = tmp_path / "调整.csv"
    pd.DataFrame({
        "网点": ["D1", "D1", "D1", "D1"],
        "存货编码": ["RARE", "OFTEN", "SOMETIMES", "CRIT"],
        "操作": ["强制列入", "", "强制剔除", ""],
        "最小数量": ["3", "5", "", ""],
        "最大数量": ["", "6", "", "0"],
        "备注": ["收获季备货", "大客户", "改用新件", ""],
        "季节": ["夏收", "", "", ""],
    }).to_csv(path, index=False, encoding="gb18030")
    wl = _wl(overrides=path)
    f = wl.frame.set_index(["part_no", "season"])
    assert len(wl.rejects) == 0
    rare = f.loc[("RARE", "wheat_harvest")]
    assert rare["listed"] and rare["quantity"] == 3 and "收获季备货" in rare["override"]
    assert ("RARE", "winter") not in f.index  # the override named one season only
    assert (f.loc["OFTEN", "quantity"] == 5).all()  # computed 2, min 5, max 6
    assert f.loc["OFTEN", "override"].str.contains("大客户").all()
    out = f.loc["SOMETIMES"]
    assert (~out["listed"]).all() and (out["quantity"] == 0).all()
    assert out["override"].str.startswith("强制剔除").all()  # still shown to the planner
    assert f.loc[("CRIT", "wheat_harvest"), "quantity"] == 0  # max 0 clamps
    rep = wl.to_report()
    assert rep["人工调整"].str.contains("改用新件").any()


def test_unknown_part_in_overrides_is_rejected_with_a_reason() -> None:
    ov = pd.DataFrame({"depot_id": ["D1", "D1", "ZZ", "D1", "D1", "D1"],
                       "part_no": ["NOPE", "OFTEN", "OFTEN", "OFTEN", "RARE", "RARE"],
                       "action": ["force_in", "force_in", "force_in", "delete", "force_in", "force_in"],
                       "min_qty": ["", "4", "", "", "x", ""], "max_qty": ["", "2", "", "", "", ""],
                       "note": ["", "", "", "", "", ""]})
    wl = _wl(overrides=ov)
    rej = wl.rejects.set_index("row")["reason"]
    assert "不在配件档案" in rej[2] and "unknown part" in rej[2]
    assert "min_qty > max_qty" in rej[3]
    assert "unknown depot" in rej[4]
    assert "action" in rej[5]
    assert "min_qty" in rej[6]
    assert 7 not in rej.index  # a valid force_in of RARE (row 6 was rejected, so row 7 is not a repeat)
    assert len(wl.rejects) + 1 == len(ov)  # rows in = applied + rejected


def test_read_overrides_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "overrides.xlsx"
    pd.DataFrame({"depot_id": ["D1"], "part_no": ["RARE"], "action": ["force_in"], "min_qty": [2],
                  "max_qty": [None], "note": ["test"]}).to_excel(path, index=False)
    ov = read_overrides(path)
    assert ov.loc[0, "part_no"] == "RARE" and ov.loc[0, "row"] == 2 and ov.loc[0, "min_qty"] in ("2", "2.0")


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ZkValueError, match="by"):
        _wl(by="county")
    with pytest.raises(ZkValueError, match="every month"):
        _wl(seasons={"summer": (6, 7, 8)})


def test_demo_smoke(demo_store: Store) -> None:
    read = demo_store.read
    wl = wear_list(read("part_issues"), read("parts"), read("machines"), tickets=read("tickets"),
                   component_parts=read("component_parts"))
    f = wl.frame[wl.frame["listed"]]
    assert set(f["key"]) == {"YC01", "PL01", "QT01", "GY01"}
    for depot, g in f.groupby("key"):
        assert len(g[g["season"] == "wheat_harvest"]) > 0, depot
    summer = f[f["season"] == "wheat_harvest"]
    # combine header knives (割台 CUT) and threshing parts (脱粒滚筒 THR) are on the summer list
    assert summer["part_no"].str.contains("-CUT0").any() and summer["part_no"].str.contains("-THR0").any()
    assert (f["quantity"] >= 1).all()
    fleet = wear_list(read("part_issues"), read("parts"), read("machines"), tickets=read("tickets"),
                      component_parts=read("component_parts"), by="customer")
    assert fleet.frame["key"].str.startswith("KH").all() and len(fleet.frame) > 0
    assert list(fleet.to_report().columns)[0] == "客户"
    assert np.isfinite(wl.frame["mean_week"]).all()
