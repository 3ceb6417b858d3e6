"""Shared fixtures for the ingestion tests: small reference exports and helpers to write and check files.

The reference exports are what a Ningxia dealer's ERP would give: two depots (the Yinchuan central warehouse and
the Pingluo branch), three parts and two machines, so that issue and ticket files have something to refer to.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import settings

from zk_forecast.data import FileResult, IngestResult, Store, ingest

# Property tests draw the same examples on every run (CI must not pass or fail by luck); set
# HYPOTHESIS_PROFILE=explore to search new examples while developing.
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: The "today" of every ingest in the tests: dates after it are in the future.
TODAY = dt.date(2024, 6, 1)

DEPOT_HEADER = ["仓库编码", "仓库名称", "类型", "上级仓库"]
DEPOT_ROWS = [
    ["YC", "银川中心库", "中心库", ""],
    ["PL", "平罗分库", "分库", "YC"],
]
PART_HEADER = ["存货编码", "存货名称", "存货分类", "参考成本", "采购周期(天)"]
PART_ROWS = [
    ["P1", "机油滤清器", "消耗材料", "25.5", "7"],
    ["P2", "三角带", "部件", "80", "14"],
    ["P3", "割刀", "部件", "120", "30"],
]
MACHINE_HEADER = ["出厂编号", "生产厂家", "机型", "所属网点", "购机日期"]
MACHINE_ROWS = [
    ["M1", "雷沃", "M1004", "YC", "2022-04-01"],
    ["M2", "约翰迪尔", "W80", "PL", "2023-05-20"],
]
ISSUE_HEADER = ["出库单号", "出库日期", "仓库", "存货编码", "数量", "出库类别"]

KNOWN_DEPOTS = {"YC", "PL"}
KNOWN_PARTS = {"P1", "P2", "P3"}


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """CSV text (``\\n`` line ends, minimal quoting) of a header and rows."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_csv(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[object]], encoding: str = "utf-8"
) -> Path:
    """Write a CSV export in ``encoding`` (``utf-8-sig`` writes a BOM)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_text(header, rows).encode(encoding))
    return path


def write_references(folder: Path, *, machines: bool = True) -> Path:
    """Write the depots, parts (and machines) exports into ``folder``."""
    write_csv(folder / "仓库档案.csv", DEPOT_HEADER, DEPOT_ROWS)
    write_csv(folder / "配件档案.csv", PART_HEADER, PART_ROWS)
    if machines:
        write_csv(folder / "整机台账.csv", MACHINE_HEADER, MACHINE_ROWS)
    return folder


def run(raw: Path, store: Path | Store, **kw: object) -> IngestResult:
    """Ingest with the tests' today and check the accounting of every file."""
    kw.setdefault("today", TODAY)
    result = ingest(raw, store, **kw)  # type: ignore[arg-type]
    assert_accounting(result)
    return result


def assert_accounting(result: IngestResult) -> None:
    """rows in = rows loaded + rows rejected, for every file; a file with an error loaded nothing."""
    for f in result.files:
        assert f.rows_in == f.rows_loaded + f.rows_rejected, f
        assert min(f.rows_in, f.rows_loaded, f.rows_rejected) >= 0, f
        if f.error is not None:
            assert f.rows_loaded == 0, f
        else:
            assert f.rows_new + f.rows_updated + f.rows_unchanged == f.rows_loaded, f


def file_result(result: IngestResult, name: str) -> FileResult:
    """The FileResult of the file called ``name`` (relative to the raw folder)."""
    hits = [f for f in result.files if f.file == name]
    assert len(hits) == 1, [f.file for f in result.files]
    return hits[0]


def rejects_of(result: IngestResult, name: str) -> pd.DataFrame:
    """The reject lines of one file, read back from its rejects CSV."""
    rej = result.rejects()
    return rej[rej["file"] == name].reset_index(drop=True)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """A raw folder holding the reference exports (depots, parts, machines)."""
    return write_references(tmp_path / "raw")


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"
