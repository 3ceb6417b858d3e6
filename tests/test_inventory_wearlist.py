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


# ------------------------------------------------------------------------------------------ fast paths
def _random_panel(rng: np.random.Generator, n: int, t: int, fractional: bool = False) -> np.ndarray:
    """Intermittent weekly demand, listed from a random week (NaN before), a few gaps; whole or fractional."""
    occ = rng.random((n, t)) < rng.uniform(0.02, 0.6, n)[:, None]
    size = rng.geometric(rng.uniform(0.15, 0.9, n)[:, None], (n, t)).astype(float)
    if fractional:
        size = size * rng.choice([0.5, 1.25, 1.0], (n, t))
    v = np.where(occ, size, 0.0)
    v[np.arange(t)[None, :] < rng.integers(0, t // 2, n)[:, None]] = np.nan
    v[rng.random((n, t)) < 0.02] = np.nan
    v[: n // 10] = v[n // 10: 2 * (n // 10)][:, rng.permutation(t)]  # same weeks in another order
    return v


@pytest.mark.parametrize("block", [4096, 64])
@pytest.mark.parametrize("fractional", [False, True])
def test_history_stats_equal_adi_cv2_on_the_masked_panel(fractional: bool, block: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import zk_forecast.inventory.wearlist as wl
    from zk_forecast.demand import adi_cv2
    from zk_forecast.inventory.wearlist import _history_stats

    monkeypatch.setattr(wl, "_STATS_BLOCK", block)  # whole units are summed a block of series at a time
    rng = np.random.default_rng(3)
    v = _random_panel(rng, 400, 70, fractional)
    season_w = rng.integers(0, 4, 70)
    mean, freq, n_dem = _history_stats(v, season_w, 4)
    for i in range(4):
        st = adi_cv2(np.where((season_w == i)[None, :], v, np.nan))
        # bit for bit on any processor: sums of whole or quarter units are exact in any order, then one division
        np.testing.assert_array_equal(mean[i], st["mean"])  # NaN where no week observed
        has = st["n_periods"] > 0
        np.testing.assert_array_equal(freq[i], np.where(has, st["n_demands"] / np.maximum(st["n_periods"], 1), 0.0))
        np.testing.assert_array_equal(n_dem[i], st["n_demands"])


def test_history_quantiles_equal_one_fit_per_season(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sorted, de-duplicated weeks fitted in small blocks give the quantiles of one fit per season on the panel
    with the other seasons' weeks missing (the straightforward way)."""
    import zk_forecast.inventory.wearlist as wl
    from zk_forecast.demand import LeadTimeDemand

    monkeypatch.setattr(wl, "_FIT_BLOCK", 16)
    rng = np.random.default_rng(5)
    v = _random_panel(rng, 300, 80)
    season_w = np.repeat([0, 1, 2, 3], 20)[rng.permutation(80)]
    cover = rng.integers(1, 6, 300)
    _, _, n_dem = wl._history_stats(v, season_w, 4)
    rows_of = [np.sort(rng.choice(300, 200, replace=False)) for _ in range(4)]
    got = wl._history_quantiles(v, season_w, rows_of, n_dem, cover, 0.9)
    for i, r in enumerate(rows_of):
        vals = np.where((season_w == i)[None, :], v, np.nan)[r]
        has = n_dem[i, r] > 0
        ref = np.zeros(r.size, dtype=np.int64)
        ref[has] = LeadTimeDemand().fit(vals[has]).quantile(0.9, cover[r][has])
        np.testing.assert_array_equal(got[i], ref)
        assert got[i].dtype == np.int64


def test_candidates_listing_equals_the_merged_frames() -> None:
    """The listing rule on integer codes agrees with outer merges of the three signals (the frame way)."""
    from zk_forecast.demand.panel import Panel
    from zk_forecast.inventory.wearlist import _Candidates

    rng = np.random.default_rng(11)
    names = ["s0", "s1", "s2"]
    keys = [f"K{i}" for i in range(6)]
    parts_all = [f"P{i:02d}" for i in range(30)]
    pairs = pd.DataFrame([(k, p) for k in keys for p in parts_all]).sample(70, random_state=1)
    series = pd.DataFrame({"part_no": pairs[1].to_numpy(), "depot_id": pairs[0].to_numpy()})
    series.index = series["part_no"] + "|" + series["depot_id"]
    panel = Panel(np.zeros((70, 3)), series, pd.date_range("2024-01-01", periods=3, freq="W-MON"))
    h_mean = np.where(rng.random((3, 70)) < 0.1, np.nan, rng.exponential(0.4, (3, 70)))
    h_freq = rng.random((3, 70)) * 0.4

    def triples(m: int, col: str) -> pd.DataFrame:
        t = pd.DataFrame({"key": rng.choice(keys + ["K9"], m), "part_no": rng.choice(parts_all, m),
                          "season": rng.choice(names, m)}).drop_duplicates(ignore_index=True)
        return t.assign(**{col: np.where(rng.random(len(t)) < 0.1, np.nan, rng.exponential(0.4, len(t)))})

    fs, ibs = triples(60, "mean_failures"), triples(40, "mean_installed_base")
    critical = pd.Series(rng.random(30) < 0.4, index=parts_all)
    fits = pd.DataFrame({"key": rng.choice(keys, 50), "part_no": rng.choice(parts_all, 50)}).drop_duplicates()
    fits = fits.assign(fits_fleet=True)
    known = pd.Index(parts_all[:25])  # parts P25.. are not in the parts master
    weeks_of = np.array([13.0, 8.7, 30.4])

    c = _Candidates(panel, fs, ibs, names)
    keep = c.part_in(known) & c.listed(h_mean, h_freq, critical, fits, weeks_of, 1.0, 0.5, 0.2, 0.25)
    got = {(c.key_uniques[k], c.part_uniques[p], names[s])
           for k, p, s in zip(c.key[keep], c.part[keep], c.season[keep])}

    hist = pd.concat([pd.DataFrame({"key": panel.depot_id, "part_no": panel.part_no, "season": s,
                                    "mean_history": np.nan_to_num(h_mean[i]), "frequency": h_freq[i]})
                      for i, s in enumerate(names)], ignore_index=True)
    m = (hist.merge(fs, on=["key", "part_no", "season"], how="outer")
         .merge(ibs, on=["key", "part_no", "season"], how="outer").fillna({"mean_history": 0.0, "frequency": 0.0,
                                                                          "mean_failures": 0.0,
                                                                          "mean_installed_base": 0.0}))
    m = m[m["part_no"].isin(known)].merge(fits, on=["key", "part_no"], how="left")
    mw = m[["mean_history", "mean_failures", "mean_installed_base"]].to_numpy(float).max(axis=1)
    crit = m["part_no"].map(critical).to_numpy(bool) & m["fits_fleet"].notna().to_numpy(bool)
    sd = mw * m["season"].map(dict(zip(names, weeks_of))).to_numpy(float)
    listed = (mw >= 0.5) | (m["frequency"].to_numpy() >= 0.2) | (crit & (sd >= 0.25))
    want = set(zip(m["key"][listed], m["part_no"][listed], m["season"][listed]))
    assert got == want and len(want) > 10


def test_issues_by_customer_equals_the_serial_number_map() -> None:
    from zk_forecast.inventory.wearlist import _issues_by_customer

    issues = pd.DataFrame({"issued_on": pd.to_datetime(["2024-01-01"] * 6), "part_no": list("ABCDEF"),
                           "quantity": [1, 2, 3, 4, 5, 6], "kind": "repair", "depot_id": "D1",
                           "serial_no": ["S1", None, "S2", "S9", "S1", "S3"], "issue_id": list("123456")})
    machines = pd.DataFrame({"serial_no": ["S1", "S2", "S3"], "customer_id": ["C1", None, "C3"]})
    got = _issues_by_customer(issues, machines)
    cust = issues["serial_no"].map(machines.set_index("serial_no")["customer_id"])
    assert list(got["part_no"]) == ["A", "E", "F"]
    assert list(got["depot_id"]) == list(cust[cust.notna()].astype(str)) == ["C1", "C1", "C3"]
    assert list(got.index) == [0, 4, 5]
    assert len(_issues_by_customer(issues.drop(columns="serial_no"), machines)) == 0


def test_precomputed_panel_gives_the_same_list(demo_store: Store) -> None:
    from zk_forecast.demand import build_panel

    read = demo_store.read
    issues, parts, machines = read("part_issues"), read("parts"), read("machines")
    kw = {"tickets": read("tickets"), "component_parts": read("component_parts")}
    own = wear_list(issues, parts, machines, **kw)
    shared = wear_list(issues, parts, machines, panel=build_panel(issues, parts), **kw)
    pd.testing.assert_frame_equal(shared.frame, own.frame, check_exact=True)
    with pytest.raises(ZkValueError, match="panel"):
        wear_list(issues, parts, machines, panel=build_panel(issues, parts, freq="MS"), **kw)
    with pytest.raises(ZkValueError, match="panel"):
        wear_list(issues, parts, machines, panel=build_panel(issues, parts), as_of="2024-03-01", **kw)
    with pytest.raises(ZkValueError, match="by='depot'"):
        wear_list(issues, parts, machines, panel=build_panel(issues, parts), by="customer", **kw)


def test_no_issues_gives_the_model_based_list() -> None:
    c = _case()
    wl = wear_list(c["issues"].iloc[:0], c["parts"], c["machines"], tickets=c["tickets"],
                   component_parts=c["component_parts"], as_of="2024-12-31")
    assert set(wl.frame["part_no"]) == {"CRIT"} and (wl.frame["source"] == "failures").all()
