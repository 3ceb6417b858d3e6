"""The fast report paths give the same bytes as the slow ones.

* the column-wise xlsx writer against openpyxl cell by cell (every zip entry, on frames with every kind of
  value: formula-like, white space, XML specials, control characters, NA, booleans, dates, big numbers);
* the column-wise csv writer against the field-by-field rule;
* the reports sharing the store's tables (and the component lives) against reports reading the store alone.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zk_forecast.data import Store, demo, ingest
from zk_forecast.reports import workbook as W
from zk_forecast.reports._tables import StoreTables, clear_store_tables, store_tables
from zk_forecast.reports.manufacturer import write_manufacturer_report
from zk_forecast.reports.scorecard import write_scorecard
from zk_forecast.reports.service_report import write_service_report
from zk_forecast.reports.workbook import Sheet


def _mixed(n: int = 130) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    texts = ["+1", "-x", "@me", "普通", "a&b<c>", " lead", "trail ", "", "  ", "tab\tx", "=SUM(A1)", "\x01ctl", "密封圈"]
    gaps = rng.uniform(size=n) < 0.2
    return pd.DataFrame({
        "a": [texts[i % len(texts)] for i in range(n)],
        "n": np.arange(n),
        "m": rng.normal(size=n) * 1e3,
        "s": rng.uniform(size=n),
        "f": np.where(gaps, np.nan, rng.normal(size=n)),
        "z": np.resize([0.0, -0.0, 1e-9, 2.5, 1e20, np.inf], n),
        "i64": pd.array(np.where(gaps, None, rng.integers(0, 10**6, n)), dtype="Int64"),
        "b": rng.uniform(size=n) < 0.5,
        "bn": pd.array(np.where(gaps, None, rng.uniform(size=n) < 0.5), dtype="boolean"),
        "str": pd.array(np.where(gaps, None, [f"s{i}" for i in range(n)]), dtype="string"),
        "obj": np.resize(np.array([1, 2.5, "x", None, True, dt.date(2024, 1, 2), np.nan, np.int64(7),
                                   pd.Timestamp("2024-03-01 10:30")], dtype=object), n),
        "d": pd.to_datetime(np.where(gaps, None, pd.Timestamp("2024-01-01")
                                     + pd.to_timedelta(rng.integers(0, 1000, n), "D"))),
        "big": rng.normal(size=n) * 1e17,
        # whole numbers mixed with text (a level, or "not stocked"), a huge one and a formula-like text
        "lvl": np.resize(np.array([3, "不备库（按需订货）", None, 10**20, -1, "-x"], dtype=object), n),
    })


def _slow(path: Path, sheets: list[Sheet], title: str | None) -> Path:
    titles, used = [], set()
    for sh in sheets:
        t, k = W._sheet_title(sh.name), 2
        while t in used:
            t, k = W._sheet_title(f"{sh.name[:27]}_{k}"), k + 1
        used.add(t)
        titles.append(t)
    W._write_openpyxl(path, titles, sheets, title)
    W.freeze_xlsx(path, W.FIXED_TIME, compresslevel=W.COMPRESS_LEVEL)
    return path


@pytest.mark.parametrize("case", ["kinds", "several", "dates", "above_below"])
def test_fast_xlsx_matches_openpyxl_bytes(case: str, tmp_path: Path) -> None:
    df = _mixed()
    sheets = {
        "kinds": [Sheet("s/1", df, {"a": "名称", "n": "=bad"},
                        {"m": "money", "s": "share", "n": "int", "b": "int", "obj": "int", "bn": "money",
                         "lvl": "int"})],
        "several": [Sheet("a", df[["n", "a"]]), Sheet("a", df[["m", "s"]], kinds={"m": "float", "s": "share"}),
                    Sheet("a", df.iloc[:0]), Sheet("x'y&z", df[["obj", "d", "z"]], kinds={"obj": "text"})],
        "dates": [Sheet("d", df[["d", "obj", "i64"]], kinds={"obj": "date", "i64": "text"})],
        # lines above the header (the first empty, one formula-like), totals below (one row empty), print setup
        "above_below": [Sheet("o", df, {"a": "名称"}, {"m": "money", "s": "share", "n": "int"},
                              above=["", "标题 title", "", "=not a formula", " 数据截至 2026-10-31"],
                              below=[{"a": "合计", "m": 12345.678, "s": 0.5, "n": 3}, {"a": "=x", "f": 2.0}, {}],
                              layout="landscape"),
                        Sheet("p", df[["n", "a"]], layout="portrait"),
                        Sheet("q", df[["m", "s"]].iloc[:0], {"m": "金额"}, {"s": "share"}, above=["空"],
                              below=[{"s": 0.25}])],
    }[case]
    fast = W.write_workbook(tmp_path / "fast.xlsx", sheets, title="T&<1>")
    slow = _slow(tmp_path / "slow.xlsx", sheets, "T&<1>")
    with zipfile.ZipFile(fast) as a, zipfile.ZipFile(slow) as b:
        assert a.namelist() == b.namelist()
        for name in b.namelist():
            assert a.read(name) == b.read(name), name
    assert fast.read_bytes() == slow.read_bytes()


def test_fast_xlsx_falls_back_without_columns(tmp_path: Path) -> None:
    p = W.write_workbook(tmp_path / "empty.xlsx", [Sheet("e", pd.DataFrame())])
    assert p.read_bytes() == _slow(tmp_path / "slow.xlsx", [Sheet("e", pd.DataFrame())], None).read_bytes()


def test_csv_columns_match_field_rule(tmp_path: Path) -> None:
    df = _mixed().assign(c=pd.Categorical(np.resize(list("abc"), 130)),
                         f32=np.resize(np.array([0.1, 2.0, np.nan], dtype=np.float32), 130))
    text = W.write_csv(tmp_path / "x.csv", df, {"a": "名称"}).read_bytes().decode("utf-8-sig")
    rows = text.split("\r\n")
    fields = [W._csv_field(v) for v in df.iloc[4].to_numpy(dtype=object)]
    import csv
    import io
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerow(fields)
    assert rows[5] + "\r\n" == expected.getvalue()
    for j in range(df.shape[1]):
        assert W._csv_column(df.iloc[:, j]) == [W._csv_field(v) for v in df.iloc[:, j].to_numpy(dtype=object)]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fast_reports")
    demo.generate(root / "raw", scale="small", seed=7)
    ingest(root / "raw", root / "store")
    return root / "store"


def test_shared_tables_give_the_same_reports(store: Path, tmp_path: Path) -> None:
    clear_store_tables()
    maker = str(Store(store).read("machines")["manufacturer"].dropna().astype(str).min())
    cut = [("SF-1004", "离合器", "2023-03-01")]
    # each report on its own (cache dropped before each), then all sharing the pre-read tables
    alone = []
    at = "2026-11-01 06:00"  # the run's time, as the nightly batch passes it
    for fn in (lambda o, t: write_service_report(store, "2026Q3", o, tables=t, generated_at=at),
               lambda o, t: write_scorecard(store, "2026Q3", o, cut_ins=cut, tables=t, generated_at=at),
               lambda o, t: write_manufacturer_report(store, maker, "2026Q3", o, cut_ins=cut, tables=t,
                                                      generated_at=at)):
        clear_store_tables()
        alone.append(fn(tmp_path / "alone", None).read_bytes())
    read = Store(store).read
    given = {t: read(t) for t in ("tickets", "machines", "part_issues", "parts")}
    before = {k: v.copy() for k, v in given.items()}
    shared = [write_service_report(store, "2026Q3", tmp_path / "shared", tables=given,
                                   generated_at=at).read_bytes(),
              write_scorecard(store, "2026Q3", tmp_path / "shared", cut_ins=cut, tables=given,
                              generated_at=at).read_bytes(),
              write_manufacturer_report(store, maker, "2026Q3", tmp_path / "shared", cut_ins=cut,
                                        tables=given, generated_at=at).read_bytes()]
    assert shared == alone
    for k, v in given.items():  # the caller's frames are left as they were
        pd.testing.assert_frame_equal(v, before[k])
    clear_store_tables()


def test_store_tables_reused_until_the_store_changes(store: Path, tmp_path: Path) -> None:
    clear_store_tables()
    a = store_tables(store)
    assert store_tables(store) is a
    t1 = a.get("machines")
    assert t1 is not None
    t1["extra"] = 1  # a report changing its copy leaves the shared frame alone
    assert "extra" not in a.get("machines").columns
    end = pd.Timestamp("2026-10-01")
    assert a.lives(end) is not a.lives(end) and a.lives(end).equals(a.lives(end))
    # rewriting a table (new mtime) gives a fresh reader
    p = store / "depots.parquet"
    st = p.stat()
    import os
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    b = store_tables(store)
    assert b is not a
    assert isinstance(store_tables(store, b), StoreTables) and store_tables(store, b) is b
    clear_store_tables()



def test_store_tables_read_only_the_columns_asked(store: Path, tmp_path: Path) -> None:
    full = Store(store).read("part_issues")
    st = StoreTables(store)
    few = st.get("part_issues", ["unit_price", "issued_on", "kind"])
    assert few is not None and list(few.columns) == ["issued_on", "kind", "unit_price"]  # the table's order
    pd.testing.assert_frame_equal(few, full[["issued_on", "kind", "unit_price"]])
    assert set(st._frames["part_issues"].columns) == {"issued_on", "kind", "unit_price"}  # nothing else read
    more = st.get("part_issues", ["kind", "depot_id"])  # one more column read, the others kept
    pd.testing.assert_frame_equal(more, full[["depot_id", "kind"]])
    pd.testing.assert_frame_equal(st.get("part_issues"), full)
    # a table rewritten between two reads of its columns is read afresh, whole (no rows of two versions)
    shutil.copytree(store, tmp_path / "copy")
    st2 = StoreTables(tmp_path / "copy")
    st2.get("machines", ["serial_no"])
    machines = Store(tmp_path / "copy").read("machines")
    Store(tmp_path / "copy").write("machines", machines.iloc[::-1].reset_index(drop=True))
    pd.testing.assert_frame_equal(st2.get("machines", ["model", "serial_no"]),
                                  machines.iloc[::-1].reset_index(drop=True)[["serial_no", "model"]])
    # tables handed in by the caller are returned whole
    given = StoreTables(store, {"parts": Store(store).read("parts")})
    assert list(given.get("parts", ["part_no"]).columns) == list(Store(store).read("parts").columns)
