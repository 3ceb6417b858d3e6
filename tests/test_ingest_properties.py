"""Property tests of ingest: whatever the rows or bytes, it never raises, accounts for every row and loads only
rows that keep the rules.

Each example ingests one file into a copy of a store that already holds the reference tables (depots YC/PL,
parts P1-P3, machines M1-M2), so foreign keys have something to point at. Seeded and few examples, so that the
module runs in well under a minute.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import ISSUE_HEADER, KNOWN_DEPOTS, KNOWN_PARTS, TODAY, assert_accounting, write_references
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zk_forecast.data import IngestResult, Store, ingest

SETTINGS = settings(derandomize=True, max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# --- a store holding the reference tables, copied for each example ----------------------------------------------


@pytest.fixture(scope="module")
def reference_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("reference")
    store = base / "store"
    result = ingest(write_references(base / "raw"), store, today=TODAY)
    assert result.ok and all(f.rows_rejected == 0 for f in result.files)
    return store


class Sandbox:
    """A fresh raw folder and a copy of the reference store."""

    def __init__(self, reference: Path) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="zk-prop-")
        root = Path(self._dir.name)
        self.raw = root / "raw"
        self.raw.mkdir()
        self.store = root / "store"
        shutil.copytree(reference, self.store)

    def close(self) -> None:
        self._dir.cleanup()


@pytest.fixture
def sandbox(reference_store: Path) -> Iterator[callable]:  # type: ignore[valid-type]
    opened: list[Sandbox] = []

    def make() -> Sandbox:
        s = Sandbox(reference_store)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


# --- cell strategies: valid and invalid values of each column -----------------------------------------------------

_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
_garbage = st.one_of(_text, st.sampled_from(["", " ", "N/A", "—", "#REF!", "=1+2", "@x", "\t"]))
_dates = st.one_of(
    st.dates(min_value=dt.date(1985, 1, 1), max_value=dt.date(2025, 12, 31)).flatmap(
        lambda d: st.sampled_from([
            d.isoformat(), d.strftime("%Y/%m/%d"), f"{d.year}/{d.month}/{d.day}", f"{d.year}年{d.month}月{d.day}日",
            d.strftime("%Y%m%d"), d.strftime("%d/%m/%Y"), d.strftime("%Y-%m-%d 08:30:00"),
            str((d - dt.date(1899, 12, 30)).days),
        ])),
    st.sampled_from(["2024-02-30", "1899-01-01", "2024-13-01", "05/03/2024", "2999-01-01", "45356", "45356.75"]),
    _garbage,
)
_depots = st.one_of(st.sampled_from(["YC", "PL", "平罗分库", "银川中心库", " PL ", "GY", "固原分库", ""]), _garbage)
_parts = st.one_of(st.sampled_from(["P1", "P2", "P3", "P9", "p1", "", "P" * 61]), _garbage)
_quantities = st.one_of(
    st.integers(-20, 20).map(str),
    st.sampled_from(["1.5", "2.0", "１２", "1,000", "1,5", "-0", "1e2", "100001", "-100001", "'3", "¥2"]),
    _garbage,
)
_kinds = st.one_of(st.sampled_from(["维修领用", "保养领用", "零售", "调拨", "退库", "退货", "repair", "return",
                                    "counter_sale", "Transfer", "三包领用", ""]), _garbage)
_ids = st.one_of(st.sampled_from([f"I{i}" for i in range(6)]), _garbage)
_row = st.tuples(_ids, _dates, _depots, _parts, _quantities, _kinds)
_encodings = st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])


def _csv_bytes(rows: list[tuple[str, ...]], encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(ISSUE_HEADER)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def _check_result(result: IngestResult) -> None:
    assert_accounting(result)
    for f in result.files:
        if f.error is not None:
            assert "could not be processed" not in f.error, f.error  # an exception no rule foresaw
            assert f.error.startswith(f.file.rsplit("/", 1)[-1])


def _check_loaded_rows(store: Path) -> pd.DataFrame:
    s = Store(store).read("part_issues")
    if s.empty:
        return s
    q = s["quantity"]
    assert q.notna().all() and (q != 0).all()
    ret = s["kind"] == "return"
    assert (q[ret] < 0).all() and (q[~ret] > 0).all()
    assert set(s["kind"]) <= {"repair", "maintenance", "counter_sale", "transfer", "return"}
    assert set(s["depot_id"]) <= KNOWN_DEPOTS
    assert set(s["part_no"]) <= KNOWN_PARTS
    d = s["issued_on"]
    assert d.notna().all() and (d <= pd.Timestamp(TODAY)).all() and (d >= pd.Timestamp("1990-01-01")).all()
    assert (d == d.dt.normalize()).all()  # a date column holds days
    assert s["issue_id"].notna().all() and (s["issue_id"].str.strip() == s["issue_id"]).all()
    assert not s.duplicated(["issue_id", "part_no"]).any()
    return s


# --- properties -----------------------------------------------------------------------------------------------------


@settings(SETTINGS, max_examples=150)
@given(rows=st.lists(_row, max_size=25), encoding=_encodings)
def test_random_issue_rows_are_loaded_or_rejected_never_lost(sandbox, rows, encoding) -> None:
    box = sandbox()
    (box.raw / "出库明细.csv").write_bytes(_csv_bytes(rows, encoding))
    result = ingest(box.raw, box.store, today=TODAY)
    _check_result(result)
    (f,) = result.files
    if f.error is None:
        assert f.rows_in == len(rows)
        assert f.rows_new == f.rows_loaded  # the store held no issues before
    stored = _check_loaded_rows(box.store)
    assert len(stored) == f.rows_loaded
    if f.rows_rejected and f.error is None:
        rej = result.rejects()
        assert rej["row"].nunique() == f.rows_rejected  # every rejected row has a reason
        assert rej["reason"].notna().all() and (rej["reason"].str.len() > 0).all()


@SETTINGS
@given(rows=st.lists(_row, min_size=1, max_size=12), split=st.integers(0, 12), encoding=_encodings)
def test_two_files_of_one_run_account_for_every_row(sandbox, rows, split, encoding) -> None:
    box = sandbox()
    (box.raw / "出库明细_1.csv").write_bytes(_csv_bytes(rows[:split], encoding))
    (box.raw / "出库明细_2.csv").write_bytes(_csv_bytes(rows[split:] + rows[: split // 2], "utf-8"))
    result = ingest(box.raw, box.store, today=TODAY)
    _check_result(result)
    stored = _check_loaded_rows(box.store)
    assert len(stored) == sum(f.rows_new for f in result.files)
    again = ingest(box.raw, box.store, today=TODAY)  # the same exports again change nothing
    _check_result(again)
    assert all(f.rows_new == f.rows_updated == 0 for f in again.files)
    pd.testing.assert_frame_equal(Store(box.store).read("part_issues"), stored)


def _real_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(ISSUE_HEADER)
    for i in range(30):
        ws.append([f"I{i}", dt.datetime(2024, 3, 5), "YC", "P1", 1 + i % 3, "维修领用"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_XLSX = _real_xlsx()


def _mutate(blob: bytes, edits: list[tuple[float, int]], cut: float) -> bytes:
    b = bytearray(blob[: max(4, int(len(blob) * cut))])
    for where, value in edits:
        b[int(where * (len(b) - 1))] = value
    return bytes(b)


_bytes = st.one_of(
    st.binary(max_size=400),
    st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
    st.binary(max_size=200).map(lambda b: "出库单号,数量\n".encode() + b),
    st.tuples(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6), st.floats(0.05, 1.0)).map(
        lambda t: _mutate(_XLSX, *t)),
)


@settings(SETTINGS, max_examples=120)
@given(blob=_bytes, suffix=st.sampled_from([".csv", ".xlsx", ".txt"]))
def test_random_bytes_never_raise(sandbox, blob, suffix) -> None:
    box = sandbox()
    (box.raw / f"出库明细{suffix}").write_bytes(blob)
    result = ingest(box.raw, box.store, today=TODAY)
    _check_result(result)
    (f,) = result.files
    assert f.error is not None or f.rows_in == f.rows_loaded + f.rows_rejected
    _check_loaded_rows(box.store)


@SETTINGS
@given(edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=4))
def test_damaged_sheet_xml_never_raises(sandbox, edits) -> None:
    """Corrupt the worksheet inside an intact zip, so that the damage reaches openpyxl's XML parser."""
    box = sandbox()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_XLSX)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename.startswith("xl/worksheets/") or item.filename == "xl/sharedStrings.xml":
                data = _mutate(data, edits, 1.0)
            zout.writestr(item, data)
    (box.raw / "出库明细.xlsx").write_bytes(out.getvalue())
    result = ingest(box.raw, box.store, today=TODAY)
    _check_result(result)
    _check_loaded_rows(box.store)


_line = st.tuples(st.sampled_from(["YC", "PL"]), st.sampled_from(["P1", "P2", "P3"]), st.integers(1, 9))


@SETTINGS
@given(lines=st.lists(_line, min_size=1, max_size=15), keep=st.lists(st.booleans(), min_size=15, max_size=15),
       bad=st.lists(st.booleans(), min_size=15, max_size=15), switch=st.booleans())
def test_a_re_export_removes_exactly_its_dropped_lines_when_switched_on(sandbox, lines, keep, bad, switch) -> None:
    """Load an export, re-export a subset with some kept lines made invalid: with remove_dropped_lines the store
    holds the subset (a line rejected now keeps its row), without it every row; rows in = loaded + rejected."""
    box = sandbox()
    rows = [(f"I{i}", "2024-03-05", d, p, str(q), "维修领用") for i, (d, p, q) in enumerate(lines)]
    (box.raw / "出库明细.csv").write_bytes(_csv_bytes(rows, "utf-8"))
    _check_result(ingest(box.raw, box.store, today=TODAY))
    again = [(r[0], r[1], r[2], r[3], "x" if bad[i] else r[4], r[5]) for i, r in enumerate(rows) if keep[i]]
    (box.raw / "出库明细.csv").write_bytes(_csv_bytes(again, "utf-8"))
    result = ingest(box.raw, box.store, today=TODAY, remove_dropped_lines=switch)
    _check_result(result)
    (f,) = result.files
    assert (f.rows_in, f.rows_rejected) == (len(again), sum(r[4] == "x" for r in again))
    dropped = {r[0] for i, r in enumerate(rows) if not keep[i]}
    kept = {r[0] for r in rows} - (dropped if switch and f.rows_loaded else set())
    assert set(Store(box.store).read("part_issues")["issue_id"]) == kept
    assert f.rows_removed == len(dropped) - len(dropped & kept)
    assert sorted(k.split(" | ")[0] for k in f.removed) == sorted(dropped - kept)
    changes = Store(box.store).changes()
    assert sorted(changes.loc[changes["column"] == "*", "key"].str.split(" | ", regex=False).str[0]) == \
        sorted(dropped - kept)
