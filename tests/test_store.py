"""Tests for zk_forecast.data.store: parquet tables merged by key, corrections logged, writes atomic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ISSUE_HEADER, TODAY, file_result, run, write_csv

from zk_forecast.data import Store, ingest
from zk_forecast.errors import ReadError, SchemaError, ZkValueError

ISSUES = "出库明细.csv"
MARCH = [
    ["I1", "2024-03-05", "YC", "P1", "2", "维修领用"],
    ["I2", "2024-03-06", "PL", "P2", "1", "保养领用"],
    ["I3", "2024-03-07", "PL", "P3", "-1", "退库"],
]
NOW = dt.datetime(2024, 6, 1, 8, 30)


def _issues(raw: Path, rows: list[list[str]]) -> None:
    write_csv(raw / ISSUES, ISSUE_HEADER, rows)


def _temp_files(store_dir: Path) -> list[Path]:
    return [p for p in store_dir.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]


def test_ingesting_the_same_folder_twice_adds_nothing(raw: Path, store_dir: Path) -> None:
    _issues(raw, MARCH)
    first = run(raw, store_dir, now=NOW)
    assert file_result(first, ISSUES).rows_new == 3
    before = {t: Store(store_dir).read(t) for t in ("depots", "parts", "machines", "part_issues")}
    second = run(raw, store_dir, now=NOW)
    for f in second.files:
        assert f.error is None
        assert (f.rows_new, f.rows_updated) == (0, 0), f
        assert f.rows_unchanged == f.rows_loaded == f.rows_in, f
    for t, df in before.items():
        pd.testing.assert_frame_equal(Store(store_dir).read(t), df)
    assert Store(store_dir).changes().empty


def test_a_newer_export_with_one_more_row_adds_one(raw: Path, store_dir: Path) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    _issues(raw, [*MARCH, ["I4", "2024-03-08", "YC", "P1", "5", "零售"]])
    result = run(raw, store_dir, now=NOW)
    f = file_result(result, ISSUES)
    assert (f.rows_loaded, f.rows_new, f.rows_updated, f.rows_unchanged) == (4, 1, 0, 3)
    s = Store(store_dir).read("part_issues")
    assert sorted(s["issue_id"]) == ["I1", "I2", "I3", "I4"]


def test_a_corrected_row_replaces_the_old_one_and_is_logged(raw: Path, store_dir: Path, tmp_path: Path) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    later = tmp_path / "later"
    write_csv(later / "出库明细_更正.csv", ISSUE_HEADER, [["I2", "2024-03-06", "PL", "P2", "4", "保养领用"]])
    result = run(later, store_dir, now=NOW)
    f = file_result(result, "出库明细_更正.csv")
    assert (f.rows_new, f.rows_updated, f.rows_unchanged) == (0, 1, 0)
    s = Store(store_dir).read("part_issues").set_index("issue_id")
    assert len(s) == 3 and s.loc["I2", "quantity"] == 4 and s.loc["I1", "quantity"] == 2
    ch = Store(store_dir).changes()
    assert len(ch) == 1
    row = ch.iloc[0]
    assert (row["table"], row["column"], row["old"], row["new"]) == ("part_issues", "quantity", "1", "4")
    assert "I2" in row["key"] and "P2" in row["key"]
    assert row["file"] == "出库明细_更正.csv"
    assert pd.Timestamp(row["changed_at"]) == pd.Timestamp(NOW)


def test_correcting_a_row_back_logs_both_changes(raw: Path, store_dir: Path, tmp_path: Path) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    fix = [["I1", "2024-03-05", "YC", "P1", "3", "维修领用"]]
    write_csv(tmp_path / "a" / "出库明细.csv", ISSUE_HEADER, fix)
    run(tmp_path / "a", store_dir, now=NOW)
    run(raw, store_dir, now=NOW)  # the original export again: the original value returns
    ch = Store(store_dir).changes()
    assert list(zip(ch["old"], ch["new"])) == [("2", "3"), ("3", "2")]
    assert Store(store_dir).read("part_issues").set_index("issue_id").loc["I1", "quantity"] == 2


def _crash_halfway(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make pyarrow.parquet.write_table write half a file and then fail, as a full disk or a kill would."""
    real = pq.write_table
    paths: list[str] = []

    def broken(table: pa.Table, where: object, *args: object, **kwargs: object) -> None:
        real(table, where, *args, **kwargs)
        p = Path(str(where))
        blob = p.read_bytes()
        p.write_bytes(blob[: len(blob) // 2])
        paths.append(str(p))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", broken)
    return paths


def test_a_crash_during_write_leaves_the_old_table_and_no_temp_file(raw: Path, store_dir: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    store = Store(store_dir)
    old = store.read("part_issues")
    old_bytes = store.table_path("part_issues").read_bytes()
    new = store.read_arrow("part_issues")
    new = new.set_column(new.schema.get_field_index("quantity"), "quantity", pa.array([9, 9, -9], pa.int64()))

    written = _crash_halfway(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        store.upsert("part_issues", new, now=NOW)
    assert written and all(Path(p).parent == store_dir for p in written)  # the temp file, never the table
    assert store.table_path("part_issues").read_bytes() == old_bytes
    pd.testing.assert_frame_equal(store.read("part_issues"), old)
    assert _temp_files(store_dir) == []


def test_a_crash_during_ingest_leaves_the_old_tables(raw: Path, store_dir: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    store = Store(store_dir)
    old = {t: store.read(t) for t in store.tables()}
    later = tmp_path / "later"
    write_csv(later / ISSUES, ISSUE_HEADER, [*MARCH, ["I4", "2024-03-08", "YC", "P1", "5", "零售"]])
    _crash_halfway(monkeypatch)
    try:
        ingest(later, store_dir, today=TODAY, now=NOW)
    except OSError:
        pass  # a crash may end the run; what matters is what is left on disk
    monkeypatch.undo()
    for t, df in old.items():
        pd.testing.assert_frame_equal(store.read(t), df)
    assert _temp_files(store_dir) == []
    result = run(later, store_dir, now=NOW)  # the next run recovers
    assert file_result(result, ISSUES).rows_new == 1


def test_a_crash_on_the_first_write_leaves_no_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path / "store")
    _crash_halfway(monkeypatch)
    with pytest.raises(OSError):
        store.write("depots", pd.DataFrame({"depot_id": ["YC"], "name": ["银川"], "role": ["central"],
                                            "parent_id": [None], "latitude": [38.5], "longitude": [106.2]}))
    assert store.tables() == [] and _temp_files(store.path) == []


def test_write_and_read_keep_the_canonical_dtypes(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    df = pd.DataFrame({
        "issue_id": ["I1", "I2"], "issued_on": pd.to_datetime(["2024-03-05", "2024-03-06"]),
        "depot_id": ["YC", "PL"], "part_no": ["P1", "P2"], "quantity": [2, -1],
        "kind": ["repair", "return"], "unit_price": [35.5, None], "ticket_id": [None, "T1"], "serial_no": [None, None],
    })
    store.write("part_issues", df)
    back = store.read("part_issues")
    assert dict(back.dtypes.astype(str)) == {
        "issue_id": "string", "issued_on": "datetime64[ns]", "depot_id": "string", "part_no": "string",
        "quantity": "Int64", "kind": "string", "unit_price": "Float64", "ticket_id": "string", "serial_no": "string",
    }
    assert back["quantity"].tolist() == [2, -1] and back["unit_price"].isna().tolist() == [False, True]
    assert store.tables() == ["part_issues"]


def test_write_refuses_a_frame_missing_columns(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="missing"):
        Store(tmp_path).write("depots", pd.DataFrame({"depot_id": ["YC"]}))


def test_reading_an_absent_table_gives_an_empty_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    assert store.read("parts").empty and list(store.read("parts").columns)[0] == "part_no"
    assert store.changes().empty and "changed_at" in store.changes().columns


def test_a_damaged_table_raises_read_error(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.table_path("parts").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ReadError, match="damaged"):
        store.read("parts")


def test_a_damaged_store_table_during_ingest(raw: Path, store_dir: Path) -> None:
    """A parquet file broken outside zk_forecast: the run says so instead of a traceback, or rebuilds it."""
    store_dir.mkdir()
    Store(store_dir).table_path("parts").write_bytes(b"garbage")
    try:
        result = ingest(raw, store_dir, today=TODAY)
    except ReadError as exc:
        assert "parts.parquet" in str(exc) and "damaged" in str(exc)
    else:
        assert not result.ok or len(Store(store_dir).read("parts")) == 3


def test_upsert_directly(tmp_path: Path) -> None:
    store = Store(tmp_path)
    t = pa.table({"depot_id": ["YC", "PL"], "name": ["银川", "平罗"], "role": ["central", "branch"],
                  "parent_id": [None, "YC"], "latitude": [38.5, None], "longitude": [106.2, None]})
    counts, status = store.upsert("depots", t, now=NOW)
    assert (counts.new, counts.updated, counts.unchanged) == (2, 0, 0) and status.tolist() == [0, 0]
    t2 = pa.table({"depot_id": ["PL", "GY"], "name": ["平罗分库", "固原"], "role": ["branch", "branch"],
                   "parent_id": ["YC", "YC"], "latitude": [None, 36.0], "longitude": [None, 106.3]})
    counts, status = store.upsert("depots", t2, source=["b.csv", "b.csv"], now=NOW)
    assert (counts.new, counts.updated, counts.unchanged) == (1, 1, 0) and status.tolist() == [1, 0]
    s = store.read("depots").set_index("depot_id")
    assert s.loc["PL", "name"] == "平罗分库" and len(s) == 3
    ch = store.changes()
    assert list(zip(ch["key"], ch["column"], ch["old"], ch["new"], ch["file"])) == [
        ("PL", "name", "平罗", "平罗分库", "b.csv")]
    counts, status = store.upsert("depots", t2, now=NOW)
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 2)
    assert _temp_files(tmp_path) == []


def test_a_crash_writing_the_table_logs_no_change(raw: Path, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    store = Store(store_dir)
    old_bytes = store.table_path("part_issues").read_bytes()
    new = store.read_arrow("part_issues")
    new = new.set_column(new.schema.get_field_index("quantity"), "quantity", pa.array([9, 9, -9], pa.int64()))
    real = pq.write_table
    calls: list[str] = []

    def crash_on_the_table(table: pa.Table, where: object, *args: object, **kwargs: object) -> None:
        calls.append(str(where))
        if "part_issues" in Path(str(where)).name:
            raise OSError(28, "No space left on device")
        real(table, where, *args, **kwargs)

    monkeypatch.setattr(pq, "write_table", crash_on_the_table)
    with pytest.raises(OSError):
        store.upsert("part_issues", new, now=NOW)
    monkeypatch.undo()
    assert store.table_path("part_issues").read_bytes() == old_bytes
    assert _temp_files(store_dir) == []
    assert store.changes().empty, "the log names corrections the table does not hold"


def test_read_selected_columns(tmp_path: Path) -> None:
    st = Store(tmp_path / "store")
    st.upsert("depots", pa.table({"depot_id": ["YC", "PL"], "name": ["银川", "平罗"], "role": ["central", "branch"],
                                  "parent_id": [None, "YC"], "latitude": [38.5, None], "longitude": [106.2, None]}),
              now=NOW)
    got = st.read("depots", columns=("depot_id", "latitude"))
    assert list(got.columns) == ["depot_id", "latitude"] and sorted(got["depot_id"]) == ["PL", "YC"]
    assert list(Store(tmp_path / "empty").read("tickets", columns=("ticket_id",)).columns) == ["ticket_id"]
    with pytest.raises(ZkValueError, match="no column"):
        st.read("depots", columns=("nope",))


def test_skip_unchanged_reads_only_new_or_changed_exports(raw: Path, store_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # night 1 loads everything; night 2 with the same folder reads nothing; night 3 reads only the changed file
    import sys

    ing = sys.modules["zk_forecast.data.ingest"]  # the module (the package exports the function of that name)
    _issues(raw, MARCH)
    first = run(raw, store_dir, now=NOW, skip_unchanged=True)
    assert not any(f.unchanged_file for f in first.files)
    assert all(f.sha256 and len(f.sha256) == 64 for f in first.files)
    before = Store(store_dir).read("part_issues")
    opened: list[str] = []
    real = ing.read_export

    def spy(path: Path, **kw: object) -> object:
        opened.append(Path(path).name)
        return real(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(ing, "read_export", spy)
    second = run(raw, store_dir, now=NOW, skip_unchanged=True)
    assert opened == []
    for a, b in zip(first.files, second.files):
        assert b.unchanged_file and (b.rows_in, b.rows_loaded, b.rows_rejected) == (a.rows_in, a.rows_loaded,
                                                                                     a.rows_rejected)
        assert b.rows_unchanged == b.rows_loaded and b.sha256 == a.sha256
    pd.testing.assert_frame_equal(Store(store_dir).read("part_issues"), before)
    _issues(raw, [*MARCH, ["I4", "2024-03-08", "YC", "P1", "5", "零售"]])
    third = run(raw, store_dir, now=NOW, skip_unchanged=True)
    assert opened == [ISSUES]
    f = file_result(third, ISSUES)
    assert not f.unchanged_file and (f.rows_new, f.rows_unchanged) == (1, 3)


def test_skip_unchanged_reads_again_when_the_table_or_the_log_is_gone(raw: Path, store_dir: Path) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW, skip_unchanged=True)
    Store(store_dir).table_path("part_issues").unlink()  # a table deleted by hand
    again = run(raw, store_dir, now=NOW, skip_unchanged=True)
    f = file_result(again, ISSUES)
    assert not f.unchanged_file and f.rows_new == 3
    assert sorted(Store(store_dir).read("part_issues")["issue_id"]) == ["I1", "I2", "I3"]
    (store_dir / "_ingested.json").write_text("{not json", encoding="utf-8")  # a damaged log: read everything
    assert not any(f.unchanged_file for f in run(raw, store_dir, now=NOW, skip_unchanged=True).files)


def test_skip_unchanged_rereads_a_file_with_rows_dated_in_the_future(raw: Path, store_dir: Path) -> None:
    # a row rejected as future-dated may be valid on a later day: that export is always read again
    _issues(raw, [*MARCH, ["I9", "2024-06-20", "YC", "P1", "1", "零售"]])
    first = run(raw, store_dir, now=NOW, skip_unchanged=True)
    assert file_result(first, ISSUES).rows_rejected == 1
    later = run(raw, store_dir, now=NOW, skip_unchanged=True, today=dt.date(2024, 6, 30))
    f = file_result(later, ISSUES)
    assert not f.unchanged_file and f.rows_rejected == 0 and f.rows_new == 1


# --- manifest, previous versions, page checksums ------------------------------------------------------------------


def _depots(names: list[str]) -> pa.Table:
    n = len(names)
    return pa.table({"depot_id": [f"D{i}" for i in range(n)], "name": names, "role": ["branch"] * n,
                     "parent_id": pa.nulls(n, pa.string()), "latitude": [38.0 + i for i in range(n)],
                     "longitude": pa.nulls(n, pa.float64())})


def test_every_write_keeps_the_previous_version_and_records_sha256(tmp_path: Path) -> None:
    import hashlib
    import json

    st = Store(tmp_path / "s")
    st.upsert("depots", _depots(["甲", "乙"]), now=NOW)
    first = st.table_path("depots").read_bytes()
    st.upsert("depots", _depots(["甲", "乙", "丙"]), now=NOW)
    assert (tmp_path / "s" / "_previous" / "depots.parquet").read_bytes() == first
    doc = json.loads((tmp_path / "s" / "_store.json").read_text(encoding="utf-8"))
    assert doc["tables"]["depots"]["sha256"] == hashlib.sha256(st.table_path("depots").read_bytes()).hexdigest()
    assert doc["previous"]["depots"]["sha256"] == hashlib.sha256(first).hexdigest()
    assert doc["tables"]["depots"]["rows"] == 3
    assert pq.ParquetFile(st.table_path("depots")).metadata.num_rows == 3
    assert st.verify() == {"depots": "ok"}


def test_flipped_bytes_never_read_back_as_other_values(tmp_path: Path) -> None:
    """Every single flipped byte of a stored table is caught; the previous version comes back instead."""
    import numpy as np

    st = Store(tmp_path / "s")
    st.upsert("depots", _depots([f"网点{i}" for i in range(40)]), now=NOW)
    expect_old = st.read("depots")
    st.upsert("depots", _depots([f"网点{i}" for i in range(60)]), now=NOW)
    expect_new = st.read("depots")
    saved = {p: p.read_bytes() for p in (st.table_path("depots"), st.path / "_store.json",
                                        st.path / "_previous" / "depots.parquet")}
    good = saved[st.table_path("depots")]
    rng = np.random.default_rng(14)
    restored = 0
    for pos in rng.choice(len(good), size=300, replace=False):
        bad = bytearray(good)
        bad[pos] ^= 1 << int(rng.integers(8))
        st.table_path("depots").write_bytes(bytes(bad))
        got = st.read("depots")
        if not got.equals(expect_new):
            pd.testing.assert_frame_equal(got, expect_old)
            restored += 1
        for p, blob in saved.items():
            p.write_bytes(blob)
    assert restored == 300  # the sha256 check sees every flip, whatever the page checksums would say


def test_verify_restores_a_damaged_table_and_drops_the_ingest_log(raw: Path, store_dir: Path) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW, skip_unchanged=True)
    _issues(raw, [*MARCH, ["I4", "2024-03-08", "YC", "P1", "5", "零售"]])
    run(raw, store_dir, now=NOW, skip_unchanged=True)
    p = Store(store_dir).table_path("part_issues")
    p.write_bytes(p.read_bytes()[:-20] + b"x" * 20)
    assert Store(store_dir).verify()["part_issues"] == "restored"
    assert len(Store(store_dir).read("part_issues")) == 3  # the previous version
    assert not (store_dir / "_ingested.json").exists()
    result = run(raw, store_dir, now=NOW, skip_unchanged=True)  # every export is read again
    assert file_result(result, ISSUES).rows_new == 1 and len(Store(store_dir).read("part_issues")) == 4


def test_a_damaged_table_without_a_previous_version_names_the_rebuild(tmp_path: Path) -> None:
    st = Store(tmp_path / "s")
    st.upsert("depots", _depots(["甲"]), now=NOW)
    st.table_path("depots").write_bytes(b"PAR1 garbage PAR1")
    with pytest.raises(ReadError, match="rebuild"):
        st.read("depots")
    with pytest.raises(ReadError, match="rebuild"):
        st.verify()


def test_page_checksums_are_written(tmp_path: Path) -> None:
    st = Store(tmp_path / "s")
    st.upsert("depots", _depots(["甲", "乙"]), now=NOW)
    meta = pq.ParquetFile(st.table_path("depots")).metadata
    assert meta.num_row_groups == 1
    # a page whose bytes change is refused by the checksum even when nothing else looks at the file
    (tmp_path / "s" / "_store.json").unlink()
    raw_bytes = bytearray(st.table_path("depots").read_bytes())
    data_at = raw_bytes.index("乙".encode())
    raw_bytes[data_at] ^= 0x01
    st.table_path("depots").write_bytes(bytes(raw_bytes))
    with pytest.raises(ReadError):
        st.read("depots")


# --- the lock ------------------------------------------------------------------------------------------------------


def test_an_empty_young_lock_is_held_and_an_old_one_is_stale(tmp_path: Path) -> None:
    import os

    from zk_forecast.data.store import LOCK_GRACE, StoreLockedError

    st = Store(tmp_path / "s")
    st.path.mkdir()
    lock = st.path / "_store.lock"
    lock.write_bytes(b"")  # as a lock file looks between its creation and its first write
    with pytest.raises(StoreLockedError, match="in use"):
        with st.lock(timeout=0.3):
            pass
    old = lock.stat().st_mtime - LOCK_GRACE - 5
    os.utime(lock, (old, old))
    with st.lock(timeout=0.3):
        assert lock.read_text(encoding="utf-8").startswith("{")
    assert not lock.exists()


def test_a_lock_of_a_dead_process_is_cleared_and_a_live_one_is_held(tmp_path: Path) -> None:
    import json
    import socket
    import subprocess
    import sys

    from zk_forecast.data.store import StoreLockedError

    st = Store(tmp_path / "s")
    st.path.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        info = {"pid": child.pid, "host": socket.gethostname(), "started_at": "x", "purpose": "test"}
        (st.path / "_store.lock").write_text(json.dumps(info), encoding="utf-8")
        with pytest.raises(StoreLockedError, match=f"pid {child.pid}"):
            with st.lock(timeout=0.3):
                pass
    finally:
        child.kill()
        child.wait()
    with st.lock(timeout=5):  # the same lock file, its process gone
        pass


def test_the_lock_is_shared_by_nested_holders_of_one_process(tmp_path: Path) -> None:
    st = Store(tmp_path / "s")
    with st.lock(), Store(tmp_path / "s").lock(timeout=0.1):
        st.upsert("depots", _depots(["甲"]), now=NOW)
    assert not (tmp_path / "s" / "_store.lock").exists()


# --- provenance and dropped lines ---------------------------------------------------------------------------------


def test_rows_keep_the_export_and_line_they_came_from(raw: Path, store_dir: Path) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    prov = Store(store_dir).read_with_provenance("part_issues").to_pandas().sort_values("issue_id")
    assert prov["_file"].tolist() == [ISSUES] * 3 and prov["_row"].tolist() == [2, 3, 4]
    assert "_file" not in Store(store_dir).read("part_issues").columns


def test_a_re_export_that_drops_a_line_says_so(raw: Path, store_dir: Path) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    _issues(raw, [MARCH[0], MARCH[2]])
    result = run(raw, store_dir, now=NOW)
    warn = [w for w in file_result(result, ISSUES).warnings if "no longer in it" in w]
    assert len(warn) == 1 and warn[0].startswith("1 row(s)") and "I2 | P2" in warn[0] and "少了 1 行" in warn[0]
    assert len(Store(store_dir).read("part_issues")) == 3  # kept, and said


def test_a_re_export_that_drops_a_line_removes_it_when_asked(raw: Path, store_dir: Path) -> None:
    import json

    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    _issues(raw, [MARCH[0], MARCH[2]])  # the re-export lost I2's line
    kept = file_result(run(raw, store_dir, now=NOW), ISSUES)  # the default: kept, with the warning
    assert kept.rows_removed == 0 and any("stay in the store" in w for w in kept.warnings)
    assert len(Store(store_dir).read("part_issues")) == 3 and Store(store_dir).changes().empty
    later = NOW + dt.timedelta(days=1)
    f = file_result(run(raw, store_dir, now=later, remove_dropped_lines=True), ISSUES)  # run() checks the accounting
    assert (f.rows_in, f.rows_loaded, f.rows_rejected, f.rows_removed, f.removed) == (2, 2, 0, 1, ["I2 | P2"])
    said = [w for w in f.warnings if "removed from the store" in w]
    assert len(said) == 1 and said[0].startswith("1 row(s)") and "I2 | P2" in said[0] and "已按配置从数据仓删除" in said[0]
    assert not any("stay in the store" in w for w in f.warnings)
    assert sorted(Store(store_dir).read("part_issues")["issue_id"]) == ["I1", "I3"]
    ch = Store(store_dir).changes()
    assert len(ch) == 1
    row = ch.iloc[0]
    assert (row["table"], row["column"], row["file"]) == ("part_issues", "*", ISSUES) and pd.isna(row["new"])
    assert "I2" in row["key"] and "P2" in row["key"] and pd.Timestamp(row["changed_at"]) == pd.Timestamp(later)
    old = json.loads(row["old"])
    assert (old["quantity"], old["kind"], old["_file"], old["_row"]) == ("1", "maintenance", ISSUES, "3")
    again = file_result(run(raw, store_dir, now=later, remove_dropped_lines=True), ISSUES)
    assert again.rows_removed == 0 and not any("no longer in it" in w for w in again.warnings)
    assert len(Store(store_dir).changes()) == 1


def test_a_line_rejected_now_is_kept_not_removed(raw: Path, store_dir: Path) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    _issues(raw, [MARCH[0], ["I2", "2024-03-06", "PL", "P2", "two", "保养领用"], MARCH[2]])
    f = file_result(run(raw, store_dir, now=NOW, remove_dropped_lines=True), ISSUES)
    assert (f.rows_rejected, f.rows_removed) == (1, 0)
    assert any("stay in the store" in w and "I2 | P2" in w for w in f.warnings)
    assert len(Store(store_dir).read("part_issues")) == 3 and Store(store_dir).changes().empty


def test_a_key_another_export_of_the_run_holds_is_not_removed(raw: Path, store_dir: Path) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    _issues(raw, [MARCH[0], MARCH[2]])
    write_csv(raw / "出库明细_补.csv", ISSUE_HEADER, [MARCH[1]])
    result = run(raw, store_dir, now=NOW, remove_dropped_lines=True)
    assert all(f.rows_removed == 0 for f in result.files)
    assert len(Store(store_dir).read("part_issues")) == 3 and Store(store_dir).changes().empty


def test_an_export_without_a_valid_row_removes_nothing(raw: Path, store_dir: Path) -> None:
    _issues(raw, MARCH)
    run(raw, store_dir, now=NOW)
    _issues(raw, [])  # a header and nothing else: more likely a failed export than a deletion of every line
    f = file_result(run(raw, store_dir, now=NOW, remove_dropped_lines=True), ISSUES)
    assert f.rows_removed == 0 and any(w.startswith("3 row(s)") and "stay in the store" in w for w in f.warnings)
    assert len(Store(store_dir).read("part_issues")) == 3


def test_upsert_removes_named_rows_and_logs_them_in_the_same_commit(tmp_path: Path) -> None:
    import json

    def depots(ids: list[str]) -> pa.Table:
        t = _depots(ids)
        return t.set_column(0, "depot_id", pa.array(ids))

    st = Store(tmp_path / "s")
    st.upsert("depots", depots(["甲", "乙", "丙"]), source=["d.csv"] * 3, rows=[2, 3, 4], now=NOW)
    remove = pa.table({"depot_id": ["甲", "乙", "无"], "_file": ["d.csv"] * 3})
    counts, status = st.upsert("depots", depots(["乙"]).set_column(4, "latitude", pa.array([39.0])),
                               source=["d.csv"], rows=[2], now=NOW, remove=remove)
    assert (counts.new, counts.updated, counts.unchanged, counts.removed) == (0, 0, 1, 1) and status.tolist() == [2]
    assert sorted(st.read("depots")["depot_id"]) == ["丙", "乙"]  # 乙 is in the data, 无 was never stored
    ch = st.changes()
    assert ch["key"].tolist() == ["甲"] and ch["column"].tolist() == ["*"] and ch["file"].tolist() == ["d.csv"]
    manifest = json.loads((tmp_path / "s" / "_store.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["depots"]["rows"] == 2 and manifest["tables"]["_changes"]["rows"] == 1
    with pytest.raises(ZkValueError, match="lacks the key column"):
        st.upsert("depots", depots(["乙"]), remove=pa.table({"name": ["x"]}))


def test_a_rejected_line_keeps_only_its_own_row(raw: Path, store_dir: Path) -> None:
    rows = [["I1", "2024-03-05", "YC", "P1", "2", "维修领用"], ["I2", "2024-03-06", "YC", "P1", "1", "维修领用"],
            MARCH[2]]
    _issues(raw, rows)
    run(raw, store_dir, now=NOW)
    _issues(raw, [[*rows[0][:4], "two", rows[0][5]], rows[2]])  # I1 rejected now, I2 (the same part) deleted
    f = file_result(run(raw, store_dir, now=NOW, remove_dropped_lines=True), ISSUES)
    assert (f.rows_rejected, f.rows_removed, f.removed) == (1, 1, ["I2 | P1"])
    assert sorted(Store(store_dir).read("part_issues")["issue_id"]) == ["I1", "I3"]
    assert any(w.startswith("1 row(s)") and "I1 | P1" in w and "stay in the store" in w for w in f.warnings)
