"""Hostile files, races and faults: each attack that once got through, reproduced as a small test.

Files written where they must not be (a depot id that climbs out of the output folder, two names that map to one
file), rows lost without a word (a broken quote, two ingests at once, a rebuild, a kill between two writes),
crashes (workbook bombs) and small leaks (formula cells, control characters, tracebacks on the command line).
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import (
    DEPOT_HEADER,
    DEPOT_ROWS,
    ISSUE_HEADER,
    MACHINE_HEADER,
    MACHINE_ROWS,
    PART_HEADER,
    PART_ROWS,
    file_result,
    rejects_of,
    run,
    write_csv,
    write_references,
)

from zk_forecast.cli import main
from zk_forecast.data import Store

ISSUES = "出库明细.csv"
HOSTILE_DEPOT = "x/../../../../../../PWNED"


# --- 1. files written where they must not be ------------------------------------------------------------------------


def test_a_depot_id_with_a_path_is_rejected_at_ingest(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_csv(raw / "仓库档案.csv", DEPOT_HEADER, [*DEPOT_ROWS, [HOSTILE_DEPOT, "坏网点", "分库", "YC"]])
    result = run(raw, tmp_path / "store")
    f = file_result(result, "仓库档案.csv")
    assert f.rows_rejected == 1
    rej = rejects_of(result, "仓库档案.csv")
    assert rej["value"].tolist() == [HOSTILE_DEPOT] and "must not contain '/'" in rej["reason"][0]
    assert HOSTILE_DEPOT not in set(Store(tmp_path / "store").read("depots")["depot_id"])


def test_restock_files_of_a_hostile_depot_stay_in_the_output_folder(tmp_path: Path) -> None:
    # the id rule keeps such an id out at ingest; a store written by other means must still not write outside
    from zk_forecast.reports.from_store import write_restock_reports

    raw = write_references(tmp_path / "raw")
    write_csv(raw / ISSUES, ISSUE_HEADER, [[f"I{i}", f"2024-0{1 + i % 5}-{1 + i % 27:02d}", ("YC", "PL")[i % 2],
                                            f"P{1 + i % 3}", "2", "维修领用"] for i in range(60)])
    write_csv(raw / "库存.csv", ["盘点日期", "仓库", "存货编码", "现存量"],
              [["2024-05-31", d, p, "1"] for d in ("YC", "PL") for p in ("P1", "P2", "P3")])
    run(raw, tmp_path / "store")
    st = Store(tmp_path / "store")
    for name in ("depots", "part_issues", "stock"):
        df = st.read(name)
        df["depot_id"] = df["depot_id"].replace({"PL": HOSTILE_DEPOT})
        st.write(name, df)
    out = tmp_path / "a" / "b" / "c" / "d" / "e" / "f" / "g" / "out"
    # the night's steps need a transfer time for every branch in the network plan: this store's branches are not
    # in the example configuration's, so the lists are made without the network plan here
    from zk_forecast.config import EXAMPLE_CONFIG

    cfg = tmp_path / "zk.toml"
    cfg.write_text(EXAMPLE_CONFIG.replace("[network]\nenabled = true", "[network]\nenabled = false"), encoding="utf-8")
    assert "[network]\nenabled = false" in cfg.read_text(encoding="utf-8")
    written = write_restock_reports(tmp_path / "store", out, config=cfg)
    assert HOSTILE_DEPOT in written and written["YC"].name == "restock_YC.xlsx"  # a plain id keeps its name
    for p in written.values():
        assert p.resolve().parent == out.resolve() and p.exists()
    assert not list(tmp_path.rglob("PWNED*"))


@pytest.mark.parametrize(("a", "b"), [("潍柴(潍坊)", "潍柴（潍坊）"), ("潍柴动力股份有限公司" * 9, "潍柴动力股份有限公司" * 9 + "一")],
                         ids=["brackets", "long"])
def test_two_manufacturers_never_share_a_report_file(tmp_path: Path, a: str, b: str) -> None:
    from zk_forecast.reports.manufacturer import ManufacturerReport

    pa_ = ManufacturerReport(a, "2026Q3", "<html>a</html>", {}).write(tmp_path)
    pb = ManufacturerReport(b, "2026Q3", "<html>b</html>", {}).write(tmp_path)
    assert pa_ != pb and pa_.read_text(encoding="utf-8") == "<html>a</html>"
    assert pb.read_text(encoding="utf-8") == "<html>b</html>"


def test_two_raw_files_never_share_a_rejects_file(raw: Path, store_dir: Path) -> None:
    bad = [["I9", "2024-03-05", "YC", "P404", "1", "维修领用"]]
    write_csv(raw / "sub" / "x.csv", ISSUE_HEADER, bad)
    write_csv(raw / "sub__x.csv", ISSUE_HEADER, [["I8", "2024-03-05", "YC", "P405", "1", "维修领用"]])
    result = run(raw, store_dir)
    p1, p2 = file_result(result, "sub/x.csv").rejects_path, file_result(result, "sub__x.csv").rejects_path
    assert p1 and p2 and p1 != p2
    assert "P404" in Path(p1).read_text(encoding="utf-8-sig") and "P405" in Path(p2).read_text(encoding="utf-8-sig")
    assert Path(p1).parent == Path(p2).parent == store_dir / "rejects"


# --- 2. the series separator and control characters in ids --------------------------------------------------------


@pytest.mark.parametrize("part", ["P|1", "P/1", "P\\1", "P..1", "P\x001", "P\x1b1"],
                         ids=["bar", "slash", "backslash", "dotdot", "nul", "escape"])
def test_an_id_with_a_separator_or_a_control_character_is_rejected(raw: Path, store_dir: Path, part: str) -> None:
    # a NUL among the first 4 KB makes the whole file read as binary; past them it must still be caught
    filler = [[f"F{i:04d}", "填充件", "部件", "1", "1"] for i in range(300)]
    write_csv(raw / "配件档案.csv", PART_HEADER, [*PART_ROWS, *filler, [part, "坏件号", "部件", "1", "1"]])
    result = run(raw, store_dir)
    rej = rejects_of(result, "配件档案.csv")
    assert len(rej) == 1 and "must not contain" in rej["reason"][0] and "编号不能含有" in rej["reason"][0]
    assert part not in set(Store(store_dir).read("parts")["part_no"])


def test_nul_in_a_manufacturer_name_is_rejected(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_csv(raw / "仓库档案.csv", DEPOT_HEADER, DEPOT_ROWS)
    row = list(MACHINE_ROWS[0])
    row[0], row[1] = "SNUL1", "雷沃\x00重工"
    filler = [[f"SF{i:04d}", *MACHINE_ROWS[0][1:]] for i in range(300)]  # past the first 4 KB
    write_csv(raw / "整机台账.csv", MACHINE_HEADER, [*MACHINE_ROWS, *filler, row])
    result = run(raw, tmp_path / "store")
    rej = rejects_of(result, "整机台账.csv")
    assert len(rej) == 1 and "control character" in rej["reason"][0]
    makers = Store(tmp_path / "store").read("machines")["manufacturer"]
    assert not makers.str.contains("\x00", regex=False).any()


# --- 3. a broken quote swallows the rest of the file ---------------------------------------------------------------


def test_a_remark_starting_with_a_quote_costs_one_row_not_the_rest_of_the_file(raw: Path, store_dir: Path) -> None:
    header = [*ISSUE_HEADER, "备注"]
    lines = [",".join(header)]
    for i in range(1000):
        remark = '"急件，客户自提' if i == 10 else "正常"  # a quote that never closes
        lines.append(f"I{i},2024-03-05,YC,P{1 + i % 3},1,维修领用,{remark}")
    (raw / ISSUES).write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run(raw, store_dir)
    f = file_result(result, ISSUES)
    assert (f.rows_in, f.rows_loaded, f.rows_rejected) == (1000, 999, 1)
    rej = rejects_of(result, ISSUES)
    assert rej["row"].astype(int).tolist() == [12] and "quote" in rej["reason"][0]
    assert len(Store(store_dir).read("part_issues")) == 999


# --- 4. two ingests at once ---------------------------------------------------------------------------------------


def _issue_rows(tag: str, n: int) -> list[list[str]]:
    return [[f"{tag}{i}", f"2024-0{1 + i % 5}-{1 + i % 27:02d}", ("YC", "PL")[i % 2], f"P{1 + i % 3}",
             str(1 + i % 4), "维修领用"] for i in range(n)]


def test_two_ingests_at_once_lose_no_rows(tmp_path: Path) -> None:
    """Two `zk-forecast ingest` processes on one store, started together, each with its own issues export.

    The store already holds 300,000 issues, so that each merge (read, add, write) takes a while, as it does on a
    real store: without a lock both merges start from the same table and the second write drops the first's rows.
    """
    import zk_forecast

    store = tmp_path / "store"
    base = write_references(tmp_path / "base")
    write_csv(base / ISSUES, ISSUE_HEADER, _issue_rows("Z", 300000))
    run(base, store)
    env = dict(os.environ, PYTHONPATH=str(Path(zk_forecast.__file__).resolve().parents[1]))
    for pair in (("A", "B"), ("C", "D")):  # two rounds: a race that a slow start may miss once is met twice
        folders = []
        for tag in pair:
            raw = write_references(tmp_path / f"raw{tag}")
            write_csv(raw / ISSUES, ISSUE_HEADER, _issue_rows(tag, 20000))
            folders.append(raw)
        procs = [subprocess.Popen([sys.executable, "-m", "zk_forecast.cli", "ingest", str(raw), "--store",
                                   str(store), "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for raw in folders]
        outs = [p.communicate(timeout=600) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    issues = Store(store).read("part_issues")
    assert issues["issue_id"].str[0].value_counts().sort_index().to_dict() == {
        "A": 20000, "B": 20000, "C": 20000, "D": 20000, "Z": 300000}
    assert not (store / "_store.lock").exists()


# --- 5. a rebuild that drops rows of archived exports ---------------------------------------------------------------


def test_rebuild_refuses_to_drop_rows_of_archived_exports(raw: Path, store_dir: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    write_csv(raw / ISSUES, ISSUE_HEADER, _issue_rows("N", 50))
    write_csv(raw / "archive" / "2023.csv", ISSUE_HEADER, _issue_rows("OLD", 37))
    run(raw, store_dir)
    shutil.move(str(raw / "archive"), str(tmp_path / "archived_elsewhere"))
    before = Store(store_dir).read("part_issues")
    assert len(before) == 87

    code = main(["ingest", str(raw), "--store", str(store_dir), "--rebuild"])
    err = capsys.readouterr().err
    assert code == 2 and "would drop 37 stored rows" in err and "part_issues 37 (archive/2023.csv 37)" in err
    assert "--force" in err and "重建将删除 37 行" in err
    pd.testing.assert_frame_equal(Store(store_dir).read("part_issues"), before)  # nothing changed

    code = main(["ingest", str(raw), "--store", str(store_dir), "--rebuild", "--force"])
    capsys.readouterr()
    assert code == 0 and len(Store(store_dir).read("part_issues")) == 50


def test_rebuild_with_every_export_present_replaces_a_damaged_table(raw: Path, store_dir: Path) -> None:
    from zk_forecast.data.ingest import rebuild

    write_csv(raw / ISSUES, ISSUE_HEADER, _issue_rows("N", 50))
    run(raw, store_dir)
    Store(store_dir).table_path("part_issues").write_bytes(b"PAR1 not parquet")
    result = rebuild(raw, store_dir, today=dt.date(2024, 6, 1))
    assert result.ok and len(Store(store_dir).read("part_issues")) == 50
    assert Store(store_dir).verify()["part_issues"] == "ok"


# --- 6. a kill between the table and its change log ---------------------------------------------------------------

_KILL_AT_REPLACE = """
import os, signal, sys
import pyarrow as pa
from zk_forecast.data import store as store_mod
from zk_forecast.data.store import Store
n_replace = int(sys.argv[2])
real = os.replace
count = [0]
def replace_then_die(src, dst):
    if str(dst).endswith(".parquet") and "_previous" not in str(dst):
        if count[0] == n_replace:
            os.kill(os.getpid(), signal.SIGKILL)
        count[0] += 1
    real(src, dst)
store_mod.os.replace = replace_then_die
st = Store(sys.argv[1])
t = st.read_arrow("depots")
names = t.column("name").to_pylist()
t = t.set_column(t.schema.get_field_index("name"), "name", pa.array([n + "（改）" for n in names]))
st.upsert("depots", t, source=["fix.csv"] * t.num_rows)
"""


@pytest.mark.parametrize("kill_at", [0, 1], ids=["before-the-first-table", "between-table-and-change-log"])
def test_a_kill_between_table_and_change_log_leaves_both_or_neither(tmp_path: Path, kill_at: int) -> None:
    import zk_forecast

    raw = write_references(tmp_path / "raw")
    run(raw, tmp_path / "store")
    st = Store(tmp_path / "store")
    before = st.read("depots")
    env = dict(os.environ, PYTHONPATH=str(Path(zk_forecast.__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-c", _KILL_AT_REPLACE, str(tmp_path / "store"), str(kill_at)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr[-2000:]
    st.verify()  # the next start finishes (or drops) the interrupted write
    after, changes = st.read("depots"), st.changes()
    changed = not after.equals(before)
    assert changed == (len(changes) == len(before)), (after, changes)  # both or neither
    if changed:
        assert after["name"].str.endswith("（改）").all() and set(changes["file"]) == {"fix.csv"}


# --- 7. workbooks that make the reader allocate far more than the file holds ---------------------------------------


def _deflate_run(prefix: bytes, unit: bytes, repeats: int, suffix: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of prefix + unit * repeats + suffix without ever holding the inflated bytes.

    After a full flush the compressor starts afresh, so every repeat of ``unit`` compresses to the same bytes.
    Returns (compressed, crc32, uncompressed size).
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    one = c.compress(unit) + c.flush(zlib.Z_FULL_FLUSH)
    tail = c.compress(suffix) + c.flush()
    crc = zlib.crc32(prefix)
    for _ in range(repeats):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(suffix, crc)
    return head + one * repeats + tail, crc, len(prefix) + len(unit) * repeats + len(suffix)


def _zip(parts: dict[str, bytes | tuple[bytes, int, int]]) -> bytes:
    """A zip file of deflated parts; a tuple part is already deflated: (raw deflate, crc32, size)."""
    out, central = bytearray(), bytearray()
    for name, part in parts.items():
        if isinstance(part, bytes):
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            part = (c.compress(part) + c.flush(), zlib.crc32(part), len(part))
        data, crc, size = part
        fn = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(fn), 0) + fn
        out += data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                               len(fn), 0, 0, 0, 0, 0, offset) + fn
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(central), len(out), 0)
    return bytes(out + central + end)


def _book_parts(tmp_path: Path) -> dict[str, bytes | tuple[bytes, int, int]]:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["出库单号", "数量"])
    wb.active.append(["I1", 1])
    wb.save(tmp_path / "base.xlsx")
    with zipfile.ZipFile(tmp_path / "base.xlsx") as z:
        return {n: z.read(n) for n in z.namelist()}


_SHEET_HEAD = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
               b'<row r="1"><c r="A1" t="inlineStr"><is><t>Q</t></is></c></row>')


def _read_in_child(path: Path) -> subprocess.CompletedProcess[str]:
    """read_export in a child process with 6 GiB of address space, so a reader that blows up cannot take the
    test run (or the machine) with it."""
    import zk_forecast

    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))\n"
            "from zk_forecast.data.readers import read_export\n"
            "from zk_forecast.errors import ReadError\n"
            "try:\n"
            f"    read_export({str(path)!r})\n"
            "    print('READ')\n"
            "except ReadError as exc:\n"
            "    print('REFUSED', exc)\n")
    env = dict(os.environ, PYTHONPATH=str(Path(zk_forecast.__file__).resolve().parents[1]))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)


def test_a_2kb_workbook_with_one_cell_at_xfd1048576_is_refused(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["出库单号", "数量"])
    wb.active.cell(row=1048576, column=16384, value="x")
    wb.save(tmp_path / "far.xlsx")
    assert (tmp_path / "far.xlsx").stat().st_size < 8192
    done = _read_in_child(tmp_path / "far.xlsx")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("REFUSED far.xlsx: the workbook is refused before reading")
    assert "17,179,869,184 cells" in done.stdout and "工作簿超出安全上限" in done.stdout


def test_a_whitespace_zip_bomb_is_refused(tmp_path: Path) -> None:
    parts = _book_parts(tmp_path)
    parts["xl/worksheets/sheet1.xml"] = _deflate_run(_SHEET_HEAD, b" " * (1 << 20), 2000,
                                                     b"</sheetData></worksheet>")
    (tmp_path / "bomb.xlsx").write_bytes(_zip(parts))
    assert (tmp_path / "bomb.xlsx").stat().st_size < 4 << 20
    done = _read_in_child(tmp_path / "bomb.xlsx")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("REFUSED bomb.xlsx") and "zip bomb" in done.stdout


def test_a_shared_string_bomb_is_refused(tmp_path: Path) -> None:
    parts = _book_parts(tmp_path)
    si = b"<si><t>a</t></si>"
    unit = si * ((1 << 20) // len(si))
    n = 500 * ((1 << 20) // len(si))
    head = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
            % (n, n))
    parts["xl/sharedStrings.xml"] = _deflate_run(head, unit, 500, b"</sst>")
    parts["xl/worksheets/sheet1.xml"] = (_SHEET_HEAD.replace(b'</row>', b'<c r="B1" t="s"><v>0</v></c></row>')
                                         + b"</sheetData></worksheet>")
    rels = parts["xl/_rels/workbook.xml.rels"]
    assert isinstance(rels, bytes)
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(b"</Relationships>", (
        b'<Relationship Id="rIdSST" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sharedStrings"/></Relationships>'))
    types = parts["[Content_Types].xml"]
    assert isinstance(types, bytes)
    parts["[Content_Types].xml"] = types.replace(b"</Types>", (
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml"/></Types>'))
    (tmp_path / "sst.xlsx").write_bytes(_zip(parts))
    assert (tmp_path / "sst.xlsx").stat().st_size < 2 << 20
    done = _read_in_child(tmp_path / "sst.xlsx")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("REFUSED sst.xlsx") and "sharedStrings.xml" in done.stdout


def test_a_refused_workbook_is_one_file_error_and_the_other_files_load(raw: Path, store_dir: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(ISSUE_HEADER)
    wb.active.cell(row=1048576, column=16384, value="x")
    wb.save(raw / "出库.xlsx")
    write_csv(raw / ISSUES, ISSUE_HEADER, [["I1", "2024-03-05", "YC", "P1", "1", "维修领用"]])
    result = run(raw, store_dir)
    assert "refused before reading" in (file_result(result, "出库.xlsx").error or "")
    assert file_result(result, ISSUES).rows_loaded == 1


def test_workbook_limits_are_configurable(tmp_path: Path) -> None:
    import openpyxl

    from zk_forecast.data.readers import WorkbookLimits, read_export
    from zk_forecast.errors import ReadError

    wb = openpyxl.Workbook()
    wb.active.append(["出库单号", "数量"])
    for i in range(50):
        wb.active.append([f"I{i}", i])
    wb.save(tmp_path / "ok.xlsx")
    assert read_export(tmp_path / "ok.xlsx").rows_in == 50
    with pytest.raises(ReadError, match="over the limit of 60"):
        read_export(tmp_path / "ok.xlsx", limits=WorkbookLimits(max_cells=60))



def test_workbook_limits_from_the_config_reach_zk_forecast_ingest(raw: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(ISSUE_HEADER)
    for i in range(400):  # 401 rows x 6 columns = 2,406 cells: under the default limit, over a configured 2,000
        wb.active.append([f"I{i}", "2024-03-05", "YC", "P1", 1, "维修领用"])
    wb.save(raw / "出库.xlsx")
    cfg = tmp_path / "zk.toml"
    cfg.write_text('[paths]\nraw_dir = "raw"\nstore_dir = "store"\nruns_dir = "runs"\n\n[ingest]\nmax_cells = 2_000\n',
                   encoding="utf-8")
    code = main(["ingest", str(raw), "--store", str(tmp_path / "s1"), "--config", str(cfg)])
    out = capsys.readouterr().out
    assert code == 2 and "refused before reading" in out and "over the limit of 2,000" in out
    assert main(["ingest", str(raw), "--store", str(tmp_path / "s2")]) == 0  # the defaults read it
    assert len(Store(tmp_path / "s2").read("part_issues")) == 400
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("2_000", "0"), encoding="utf-8")
    assert main(["ingest", str(raw), "--store", str(tmp_path / "s3"), "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "ingest.max_cells" in err and "fix" in err and "配置错误" in err


# --- 8. memory bounded by the data's size, not by its largest quantity ---------------------------------------------

_WEAR_LIST_WITH_ONE_HUGE_ROW = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
import numpy as np, pandas as pd
from zk_forecast.inventory.wearlist import wear_list
rng = np.random.default_rng(8)
weeks = pd.date_range("2024-01-01", "2024-12-30", freq="W-MON")
rows = [(f"P{p}", w, int(rng.integers(1, 4))) for p in range(6000) for w in weeks[rng.random(len(weeks)) < 0.5]]
rows.append(("P0", weeks[20], 100000))  # one valid row: a bulk counter sale
issues = pd.DataFrame({"issue_id": [f"I{k}" for k in range(len(rows))], "issued_on": [r[1] for r in rows],
                       "depot_id": "D1", "part_no": [r[0] for r in rows], "quantity": [r[2] for r in rows],
                       "kind": "repair"})
parts = pd.DataFrame({"part_no": [f"P{p}" for p in range(6000)], "name": "件", "lead_time_days": 14,
                      "critical": False, "unit_cost": 10.0})
machines = pd.DataFrame({"serial_no": ["S1"], "model": ["M-1"], "depot_id": ["D1"], "customer_id": ["C1"],
                         "sale_date": pd.to_datetime(["2022-01-01"])})
wl = wear_list(issues, parts, machines, as_of="2024-12-31")
print("LISTED", len(wl.frame))
"""


def test_one_issue_row_of_100000_units_does_not_exhaust_memory() -> None:
    """6,000 parts of ordinary weekly demand and one row of 100,000 units, in 4 GiB of address space."""
    import zk_forecast

    env = dict(os.environ, PYTHONPATH=str(Path(zk_forecast.__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-c", _WEAR_LIST_WITH_ONE_HUGE_ROW], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-1500:]
    assert done.stdout.startswith("LISTED")


# --- 12. formula cells in every csv the package writes ------------------------------------------------------------


def _batch_csv_writer():  # type: ignore[no-untyped-def]
    """The batch's csv writer (``zk_forecast.batch.steps.write_csv``, or the run method of older layouts)."""
    try:
        from zk_forecast.batch.steps import write_csv as batch_write_csv

        return lambda frame, folder, name: batch_write_csv(frame, folder / name)
    except ImportError:
        from zk_forecast.pipeline import _Run

        return lambda frame, folder, name: _Run._csv(SimpleNamespace(dir=folder), frame, name)


def test_batch_csv_outputs_escape_formula_cells(tmp_path: Path) -> None:
    write = _batch_csv_writer()
    frame = pd.DataFrame({"unique_id": ["=1+2|YC01", "P1|YC01"], "part_no": ["=1+2", "@SUM(A1)"],
                          "y": [1.5, -2.0], "ds": pd.to_datetime(["2024-03-04", "2024-03-11"])})
    for name in ("forecasts.csv", "policies.csv", "network.csv"):
        write(frame, tmp_path, name)
        back = pd.read_csv(tmp_path / name, dtype=str)
        assert back["part_no"].tolist() == ["'=1+2", "'@SUM(A1)"]
        assert back["unique_id"].tolist() == ["'=1+2|YC01", "P1|YC01"]
        assert back["y"].tolist() == ["1.5", "-2"]


def test_the_file_column_of_a_rejects_file_is_escaped(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_csv(raw / "仓库档案.csv", DEPOT_HEADER, DEPOT_ROWS)
    write_csv(raw / "配件档案.csv", PART_HEADER, PART_ROWS)
    write_csv(raw / "=cmd.csv", ISSUE_HEADER, [["I1", "2024-03-05", "YC", "P404", "1", "维修领用"]])
    result = run(raw, tmp_path / "store")
    text = Path(file_result(result, "=cmd.csv").rejects_path or "").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[1].startswith("'=cmd.csv,")


# --- 12. operating-system errors on the command line --------------------------------------------------------------


def test_a_too_long_store_path_is_a_message_not_a_traceback(raw: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ingest", str(raw), "--store", str(tmp_path / ("s" * 300))])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "too long" in err and "过长" in err


def test_a_store_under_a_file_is_a_message_not_a_traceback(raw: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "plain_file").write_text("x", encoding="utf-8")
    code = main(["ingest", str(raw), "--store", str(tmp_path / "plain_file" / "store")])
    err = capsys.readouterr().err
    assert code == 2 and "not a folder" in err and "不是目录" in err


def test_a_read_only_folder_is_a_message_not_a_traceback(raw: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # root may write anywhere, so the refusal a read-only folder gives is made by hand
    ingest_mod = sys.modules["zk_forecast.data.ingest"]

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path / "ro"))

    monkeypatch.setattr(ingest_mod, "ingest", refuse)
    code = main(["ingest", str(raw), "--store", str(tmp_path / "ro")])
    err = capsys.readouterr().err
    assert code == 2 and "read-only" in err and "只读" in err and str(tmp_path / "ro") in err
