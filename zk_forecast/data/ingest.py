"""Ingest a folder of raw exports into the store, accounting for every row.

For each file: read it (encoding and format detected), find which canonical table it holds, map its headers,
apply the row rules, and merge the valid rows into the store. Tables load in dependency order (depots before
machines before tickets...), so foreign keys are checked against what is already known. Per file,
``rows_in == rows_loaded + rows_rejected``; rejected rows go to ``<store>/rejects/<file>.rejects.csv`` with the
row number, column, value and reason. A file that cannot be read at all is reported with one message and the
fix, and the other files still load.

An export read again that no longer holds rows it loaded before (the store keeps each row's export and line) is
reported with a warning; the rows stay stored, unless ``remove_dropped_lines``: then they are removed, counted in
``rows_removed``, named in ``removed`` and logged in the store's change log, in the same commit as the export's
rows. A row whose line is rejected now, or whose export holds no valid row at all, is never removed.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from zk_forecast.data.mapping import (
    ColumnMatch,
    FileRule,
    Mapping,
    header_score,
    identify_table,
    match_columns,
)
from zk_forecast.data.readers import SUPPORTED_SUFFIXES, RawTable, WorkbookLimits, read_export
from zk_forecast.data.store import Store, key_codes, sha256_file
from zk_forecast.data.validate import REJECT_COLUMNS, Checked, References, check_table
from zk_forecast.errors import ReadError, ZkError, ZkValueError
from zk_forecast.names import FORMULA_START, safe_name
from zk_forecast.schema import LOAD_ORDER, TABLES, Table

__all__ = ["FileResult", "IngestResult", "RebuildRefused", "ingest", "rebuild", "sha256_file"]

_SKIP_PREFIXES = (".", "~$", "_")
_WORKERS = 2
_REF_COLUMNS = sorted({(fk.ref_table, fk.ref_column) for t in TABLES.values() for fk in t.foreign_keys})


@dataclass
class FileResult:
    """The accounting of one file: rows_in == rows_loaded + rows_rejected."""

    file: str
    table: str | None = None
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_new: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rejects_path: str | None = None
    error: str | None = None
    encoding: str | None = None
    unknown_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str | None = None
    unchanged_file: bool = False
    future_rejects: int = 0
    rows_removed: int = 0
    removed: list[str] = field(default_factory=list)


@dataclass
class IngestResult:
    """What :func:`ingest` did, file by file. Renders as a table in Jupyter."""

    files: list[FileResult]
    skipped: list[str] = field(default_factory=list)
    store: str = ""

    @property
    def ok(self) -> bool:
        """True when every file could be read (rows may still have been rejected)."""
        return all(f.error is None for f in self.files)

    def to_frame(self) -> pd.DataFrame:
        cols = ["file", "table", "rows_in", "rows_loaded", "rows_rejected", "rows_new", "rows_updated",
                "rows_unchanged", "unchanged_file", "error"]
        return pd.DataFrame([{c: getattr(f, c) for c in cols} for f in self.files], columns=cols)

    def to_json(self) -> str:
        keys = ("file", "rows_in", "rows_loaded", "rows_rejected", "rejects_path", "error")
        extra = ("table", "rows_new", "rows_updated", "rows_unchanged", "unknown_columns", "warnings", "encoding",
                 "unchanged_file", "sha256", "rows_removed", "removed")
        files = [{k: asdict(f)[k] for k in keys + extra} for f in self.files]
        return json.dumps({"files": files, "skipped": self.skipped}, ensure_ascii=False)

    def rejects(self) -> pd.DataFrame:
        """All reject lines of this run, read back from the rejects files."""
        frames = [pd.read_csv(f.rejects_path, encoding="utf-8-sig", dtype=str) for f in self.files if f.rejects_path]
        if not frames:
            return pd.DataFrame(columns=list(REJECT_COLUMNS))
        return pd.concat(frames, ignore_index=True)

    def __repr__(self) -> str:
        return self.to_frame().to_string(index=False)

    def _repr_html_(self) -> str:
        return str(self.to_frame()._repr_html_())


@dataclass
class _Pending:
    path: Path
    label: str
    result: FileResult
    raw: RawTable | None = None
    match: ColumnMatch | None = None
    rule: FileRule | None = None
    rejected: _RejectedKeys | None = None  # the keys of this run's rejected lines, as far as text tells


def _unexpected(label: str, exc: Exception) -> str:
    return (f"{label}: the file could not be processed ({exc.__class__.__name__}: {str(exc)[:200]}); the other files "
            "were loaded. Check the file, or report it with the file attached / 文件无法处理，其他文件已导入")


def _list_files(raw_dir: Path) -> tuple[list[Path], list[str]]:
    files, skipped = [], []
    for p in sorted(raw_dir.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(raw_dir).as_posix()
        if any(part.startswith(_SKIP_PREFIXES) for part in p.relative_to(raw_dir).parts):
            continue
        if p.suffix.lower() in SUPPORTED_SUFFIXES:
            files.append(p)
        else:
            skipped.append(rel)
    return files, skipped


def _write_rejects(store: Store, label: str, frame: pd.DataFrame) -> str:
    out = store.path / "rejects"
    out.mkdir(parents=True, exist_ok=True)
    p = out / (safe_name(label, max_bytes=200) + ".rejects.csv")  # sub/x.csv and sub__x.csv get two files
    f = frame.copy()
    for c in ("file", "column", "value", "reason"):  # text from the export: no cell may run as a formula
        col = f[c].astype(object)
        text = col.map(lambda v: isinstance(v, str), na_action="ignore").fillna(False).astype(bool)
        starts = text & col.where(text, "").astype(str).str.startswith(FORMULA_START)
        f[c] = col.where(~starts, "'" + col.where(starts, "").astype(str))
    f.to_csv(p, index=False, encoding="utf-8-sig", lineterminator="\r\n")  # CR and LF in values get quoted
    return str(p)


def _initial_refs(store: Store) -> References:
    refs = References()
    for t in TABLES.values():
        for fk in t.foreign_keys:
            key = (fk.ref_table, fk.ref_column)
            if key in refs.values:
                continue
            data = store.read_arrow(fk.ref_table)
            refs.add(fk.ref_table, fk.ref_column, data.column(fk.ref_column).to_pylist())
    depots = store.read_arrow("depots")
    _add_depot_names(refs, depots)
    return refs


def _add_depot_names(refs: References, depots: pa.Table) -> None:
    for did, name in zip(depots.column("depot_id").to_pylist(), depots.column("name").to_pylist()):
        if did and name:
            refs.depot_names[str(name)] = str(did)
            refs.depot_names[str(name).strip().lower()] = str(did)


def _inline_raw(table: str, rows: list[dict[str, str]], source: str) -> tuple[RawTable, ColumnMatch]:
    cols = list(TABLES[table].column_names)
    present = [c for c in cols if any(c in r for r in rows)]
    data = pa.table({c: pa.array([r.get(c) for r in rows], type=pa.string()) for c in present})
    raw = RawTable(Path(source), present, data, present, np.arange(1, len(rows) + 1, dtype=np.int64), encoding="toml")
    match = ColumnMatch(table, {c: c for c in present}, [], [c for c in TABLES[table].required if c not in present])
    return raw, match


def ingest(
    raw_dir: str | Path,
    store: Store | str | Path,
    *,
    mapping: Mapping | str | Path | None = None,
    today: _dt.date | None = None,
    now: _dt.datetime | None = None,
    skip_unchanged: bool = False,
    workbook_limits: WorkbookLimits | None = None,
    remove_dropped_lines: bool = False,
) -> IngestResult:
    """Load every export in ``raw_dir`` into ``store``.

    Parameters
    ----------
    raw_dir : str or Path
        Folder of exports (CSV or xlsx, searched recursively; names starting with ``.``, ``_`` or ``~$`` are
        ignored, other file types are listed as skipped).
    store : Store or path
        Where the canonical tables live.
    mapping : Mapping or path, optional
        A TOML mapping file for headers and files the built-in aliases do not know.
    today : datetime.date, optional
        Dates after this day are rejected as in the future (default: the clock's today).
    now : datetime, optional
        Time stamp for the change log (default: the clock).
    skip_unchanged : bool, default False
        Do not read again an export that this store already loaded byte for byte (same name, size and sha256,
        same mapping file and package version, its table still in the store, none of its rows rejected as dated
        in the future): its accounting is taken from the store's ingest log (``_ingested.json``) and it is
        reported with ``unchanged_file=True``. The nightly batch uses it, so that only the day's new or changed
        exports are read. A row of a new export that differs from one loaded from a skipped export is then a
        correction (logged in the change log), not a conflict between two exports of the same run.
    workbook_limits : WorkbookLimits, optional
        What a workbook may hold before it is read (:class:`zk_forecast.data.readers.WorkbookLimits`); a
        workbook over a limit is refused with the reason, the other files still load.
    remove_dropped_lines : bool, default False
        An export read again that no longer holds rows it loaded before: False keeps them in the store with a
        warning; True removes them (``rows_removed`` and ``removed`` of its :class:`FileResult`, a warning naming
        them, one change-log entry per row). Rows whose key is in another export of the run, or that may be
        among the export's rejected lines now, are kept; an export with no valid row removes nothing.

    Returns
    -------
    IngestResult
        One :class:`FileResult` per file; ``result.ok`` is False when a file could not be read.

    Raises
    ------
    ReadError
        ``raw_dir`` is not a folder.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise ReadError(f"raw folder {raw_dir} does not exist or is not a folder; pass the folder of the exports")
    st = store if isinstance(store, Store) else Store(store)
    mp = mapping if isinstance(mapping, Mapping) else (Mapping.load(mapping) if mapping is not None else Mapping())
    today = today or _dt.date.today()
    files, skipped = _list_files(raw_dir)
    pending: dict[str, list[_Pending]] = {t: [] for t in LOAD_ORDER}
    results: list[FileResult] = []

    for tname, rows in mp.rows.items():
        label = f"{Path(mp.source).name}:rows.{tname}"
        raw, match = _inline_raw(tname, rows, label)
        fr = FileResult(file=label, table=tname, encoding="toml", rows_in=len(rows))
        results.append(fr)
        pending[tname].append(_Pending(Path(label), label, fr, raw, match, None))

    todo: list[tuple[Path, str, FileResult, FileRule | None]] = []
    log = _IngestLog(st, mp) if skip_unchanged else None
    for p in files:
        label = p.relative_to(raw_dir).as_posix()
        rule = mp.rule_for(p.name) or mp.rule_for(label)
        if rule is not None and rule.skip:
            skipped.append(label)
            continue
        fr = FileResult(file=label)
        results.append(fr)
        if log is not None and log.unchanged(p, label, fr):
            continue
        todo.append((p, label, fr, rule))

    def open_one(job: tuple[Path, str, FileResult, FileRule | None]) -> tuple[str, _Pending] | None:
        p, label, fr, rule = job
        try:
            raw = read_export(p, encoding=rule.encoding if rule else None, sheet=rule.sheet if rule else None,
                              header_score=lambda h: header_score(h, mp), limits=workbook_limits)
            fr.encoding = raw.encoding
            fr.rows_in = raw.rows_in
            tname = rule.table if rule and rule.table else identify_table(p.name, raw.headers, mp)
            match = match_columns(TABLES[tname], raw.headers, raw.column_names, mp, rule)
            if match.missing:
                labels = [f"{c} ({TABLES[tname].column(c).label_zh})" for c in match.missing]
                raise ReadError(
                    f"the {tname} file lacks required column(s) {', '.join(labels)}; add them to the export or map "
                    "them in a mapping file / 缺少必需列"
                )
            fr.table = tname
            fr.unknown_columns = match.unknown
            fr.warnings.extend(raw.notes)
            return tname, _Pending(p, label, fr, raw, match, rule)
        except ZkError as exc:
            msg = str(exc)
            fr.error = msg if msg.startswith(p.name) else f"{p.name}: {msg}"
            return None
        except Exception as exc:  # a file no rule foresaw must not stop the other files
            fr.error = _unexpected(p.name, exc)
            return None

    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        for opened in pool.map(open_one, todo):
            if opened is not None:
                pending[opened[0]].append(opened[1])

    with st.lock(purpose="ingest"):  # one writer at a time: two ingests at once would lose each other's rows
        refs = _initial_refs(st)
        for tname in LOAD_ORDER:
            if pending[tname]:
                _load_table(st, tname, pending[tname], mp, refs, today, now, remove_dropped_lines)
        for fr in results:
            if fr.error is not None:  # nothing of an unreadable file is loaded: all its rows count as rejected
                fr.rows_loaded = fr.rows_new = fr.rows_updated = fr.rows_unchanged = 0
                fr.rows_rejected = fr.rows_in
        if log is not None:
            log.save([(raw_dir / fr.file, fr) for fr in results
                      if not fr.file.startswith(f"{Path(mp.source).name}:")])
    return IngestResult(results, skipped, str(st.path))


class RebuildRefused(ZkValueError):
    """A rebuild would drop rows whose exports are no longer in the raw folder."""


def rebuild(
    raw_dir: str | Path,
    store: Store | str | Path,
    *,
    mapping: Mapping | str | Path | None = None,
    force: bool = False,
    today: _dt.date | None = None,
    now: _dt.datetime | None = None,
    workbook_limits: WorkbookLimits | None = None,
) -> IngestResult:
    """Build the store's tables again from the exports in ``raw_dir``, refusing to drop rows silently.

    The way back from a damaged table (``zk-forecast ingest --rebuild``). Every export is ingested into a scratch
    store first; the tables replace the store's only when no stored row would be lost, i.e. when every key of
    every table comes back from an export still in ``raw_dir``. Rows from exports that were archived or deleted
    since stay unless ``force``. The replaced tables remain as their previous versions (``_previous/``); the
    change log is kept.

    Parameters
    ----------
    raw_dir : str or Path
        Folder of the exports.
    store : Store or path
        The store to rebuild.
    mapping : Mapping or path, optional
        As :func:`ingest`.
    force : bool, default False
        Drop the rows that no export in ``raw_dir`` holds any more.
    today, now, workbook_limits : optional
        As :func:`ingest`.

    Returns
    -------
    IngestResult
        The accounting of the exports, as :func:`ingest` gives it.

    Raises
    ------
    ReadError
        ``raw_dir`` is not a folder (nothing is changed).
    RebuildRefused
        Rows would be dropped and ``force`` is False (nothing is changed); the message says how many, of which
        tables, and from which exports they were loaded.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise ReadError(f"raw folder {raw_dir} does not exist; the store cannot be rebuilt without the exports "
                        "/ 原始导出目录不存在，无法重建")
    st = store if isinstance(store, Store) else Store(store)
    with st.lock(purpose="rebuild"):
        scratch = st.path / "_rebuild"
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            result = ingest(raw_dir, Store(scratch), mapping=mapping, today=today, now=now,
                            workbook_limits=workbook_limits)
            fresh = Store(scratch)
            lost: dict[str, dict[str, int]] = {}
            for name in TABLES:
                if not st.table_path(name).exists():
                    continue
                try:
                    old = st.row_sources(name)
                except ReadError:  # damaged beyond repair: its rows cannot be counted, the rebuild is the fix
                    continue
                new = fresh.row_sources(name)
                key = list(TABLES[name].key)
                old_codes, new_codes = key_codes([old.select(key), new.select(key).cast(old.select(key).schema)], key)
                gone = ~np.isin(old_codes, new_codes)
                if gone.any():
                    files = pd.Series(old.column("_file").to_pylist(), dtype=object)[gone].fillna("(export unknown)")
                    lost[name] = {str(k): int(v) for k, v in files.value_counts().sort_index().items()}
            total = sum(sum(v.values()) for v in lost.values())
            if total and not force:
                detail = "; ".join(f"{t} {sum(v.values()):,} (" + ", ".join(f"{f} {n:,}" for f, n in v.items()) + ")"
                                   for t, v in lost.items())
                raise RebuildRefused(
                    f"the rebuild would drop {total:,} stored rows that no export in {raw_dir} holds any more: "
                    f"{detail}. Put those exports back into the folder, or rebuild with --force (force=True) to "
                    f"drop them; nothing was changed / 重建将删除 {total} 行数据（其导出文件已不在目录中），"
                    "请放回这些导出文件，或使用 --force 确认删除；数据仓未改动")
            import pyarrow.parquet as pq

            for name in TABLES:
                if fresh.table_path(name).exists():
                    st._commit({name: pq.read_table(fresh.table_path(name))})
                elif st.table_path(name).exists():
                    st._commit({name: st.read_with_provenance(name).slice(0, 0)})
            (st.path / "_ingested.json").unlink(missing_ok=True)  # the next changed-only run reads every export
            if (scratch / "rejects").is_dir():
                (st.path / "rejects").mkdir(exist_ok=True)
                for f in result.files:
                    if f.rejects_path:
                        target = st.path / "rejects" / Path(f.rejects_path).name
                        os.replace(f.rejects_path, target)
                        f.rejects_path = str(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    result.store = str(st.path)
    return result


class _IngestLog:
    """``<store>/_ingested.json``: what each export loaded, by name, size and sha256 (``skip_unchanged``)."""

    NAME = "_ingested.json"

    def __init__(self, st: Store, mp: Mapping) -> None:
        from zk_forecast import __version__

        self.path = st.path / self.NAME
        self.st = st
        src = Path(mp.source)
        self.context = {"version": __version__,
                        "mapping": sha256_file(src) if src.is_file() else mp.source}
        self.entries: dict[str, dict[str, Any]] = {}
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("context") == self.context:
                self.entries = dict(doc.get("files", {}))
        except (OSError, ValueError, AttributeError):
            self.entries = {}

    def unchanged(self, path: Path, label: str, fr: FileResult) -> bool:
        """Fill ``fr`` from the log and return True when ``path`` was loaded before exactly as it is now.

        An entry that does not look as :meth:`save` writes it (a log edited by hand) means "read the file".
        """
        e = self.entries.get(label)
        try:
            if not e or e["bytes"] != path.stat().st_size or e["future_rejects"] != 0:
                return False
            table, rejects = e["table"], e["rejects_path"]
            if table not in TABLES or not self.st.table_path(table).exists():
                return False
            if rejects and not Path(rejects).exists():
                return False
            counts = [int(e[k]) for k in ("rows_in", "rows_loaded", "rows_rejected")]
        except (KeyError, TypeError, ValueError):
            return False
        sha = sha256_file(path)
        if sha != e["sha256"]:
            return False
        fr.table, fr.sha256, fr.unchanged_file, fr.encoding = table, sha, True, e.get("encoding")
        fr.rows_in, fr.rows_loaded, fr.rows_rejected = counts
        fr.rows_unchanged = fr.rows_loaded
        fr.rejects_path = rejects or None
        return True

    def save(self, done: list[tuple[Path, FileResult]]) -> None:
        files: dict[str, dict[str, Any]] = {}
        for path, fr in done:
            if fr.unchanged_file:
                files[fr.file] = self.entries[fr.file]
            elif fr.error is None and fr.table is not None and path.is_file():
                fr.sha256 = fr.sha256 or sha256_file(path)
                files[fr.file] = {"bytes": path.stat().st_size, "sha256": fr.sha256,
                                  "table": fr.table, "encoding": fr.encoding, "rows_in": fr.rows_in,
                                  "rows_loaded": fr.rows_loaded, "rows_rejected": fr.rows_rejected,
                                  "rejects_path": fr.rejects_path, "future_rejects": fr.future_rejects}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"context": self.context, "files": files}, ensure_ascii=False, indent=1,
                                  sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


def _load_table(
    st: Store, tname: str, items: list[_Pending], mp: Mapping, refs: References, today: _dt.date,
    now: _dt.datetime | None, remove_dropped: bool = False,
) -> None:
    table = TABLES[tname]
    def check_one(item: _Pending) -> Checked | None:
        assert item.raw is not None and item.match is not None
        try:
            return check_table(item.raw, table, item.match, mapping=mp, rule=item.rule, refs=refs, today=today,
                               file_label=item.label)
        except ZkError as exc:
            item.result.error = f"{item.label}: {exc}"
            return None
        except Exception as exc:  # a file no rule foresaw must not stop the other files
            item.result.error = _unexpected(item.label, exc)
            return None

    # files of one table are checked side by side, unless the table refers to itself (parts, depots)
    self_ref = any(fk.ref_table == tname for fk in table.foreign_keys)
    if self_ref or len(items) == 1:
        outcomes = [check_one(i) for i in items]
    else:
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            outcomes = list(pool.map(check_one, items))
    checked: list[tuple[_Pending, Checked]] = []
    for item, c in zip(items, outcomes):
        if c is not None and remove_dropped:
            item.rejected = _RejectedKeys.of(item, c, table)
        item.raw = None  # the text is no longer needed
        if c is None:
            continue
        checked.append((item, c))
        # later tables of this run may refer to these rows
        for ref_t, ref_c in _REF_COLUMNS:
            if ref_t == tname and c.data.num_rows:
                refs.add(tname, ref_c, pc.unique(c.data.column(ref_c)).to_pylist())
        if tname == "depots":
            _add_depot_names(refs, c.data)
    if not checked:
        return
    drop, extra_rejects, unchanged = _duplicates(table, [c for _, c in checked], [i.label for i, _ in checked])
    accepted: list[pa.Table] = []
    accepted_rows: list[np.ndarray] = []
    owners: list[_Pending] = []
    for k, (item, c) in enumerate(checked):
        fr = item.result
        rejects = pd.concat([c.rejects, extra_rejects[k]], ignore_index=True) if len(extra_rejects[k]) else c.rejects
        n_extra = int(len(extra_rejects[k]))
        fr.rows_rejected = c.rows_rejected + n_extra
        fr.rows_loaded = c.rows_loaded - n_extra
        fr.rows_unchanged += int(unchanged[k])
        fr.warnings.extend(c.warnings)
        if len(rejects):
            rejects = rejects.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
            fr.rejects_path = _write_rejects(st, item.label, rejects)
            fr.future_rejects = int(rejects["reason"].astype(str).str.contains("in the future", regex=False).sum())
        data = c.data.filter(pa.array(~drop[k])) if drop[k].any() else c.data
        if data.num_rows:
            accepted.append(data)
            accepted_rows.append(np.asarray(c.row_numbers, dtype=np.int64)[~drop[k]])
            owners.append(item)
    remove = _report_dropped_lines(st, table, checked, accepted, remove_dropped)
    if not accepted and remove is None:
        return
    if not accepted:  # nothing to add: the store only loses the dropped rows
        merged = _empty_canonical(table)
        _counts, _status = st.upsert(tname, merged, now=now, remove=remove)
        return
    merged = pa.concat_tables(accepted)
    src = np.concatenate([np.full(t.num_rows, i, dtype=np.int32) for i, t in enumerate(accepted)])
    labels = pa.DictionaryArray.from_arrays(pa.array(src), pa.array([o.label for o in owners], type=pa.string()))
    _counts, status = st.upsert(tname, merged, source=labels, rows=np.concatenate(accepted_rows), now=now,
                                remove=remove)
    for i, item in enumerate(owners):
        s = status[src == i]
        item.result.rows_new += int((s == 0).sum())
        item.result.rows_updated += int((s == 1).sum())
        item.result.rows_unchanged += int((s == 2).sum())


def _empty_canonical(table: Table) -> pa.Table:
    from zk_forecast.data.validate import arrow_type

    return pa.schema([(c.name, arrow_type(c)) for c in table.columns]).empty_table()


@dataclass(frozen=True)
class _RejectedKeys:
    """What the rejected lines of an export say about their keys, compared as stripped, case-folded text.

    A key's identifying columns (text columns that are no foreign key: ``issue_id``, ``receipt_id``, ``model``...)
    are matched together, line by line. A table without one (``stock``: a date and two ids that may be written as
    names) matches any of its text key columns on its own, which keeps more rows. ``unknown`` when the lines
    cannot be compared at all: then no row of the export may be removed.
    """

    columns: tuple[str, ...]
    together: bool
    lines: frozenset[tuple[str, ...]]
    unknown: bool = False

    @staticmethod
    def of(item: _Pending, c: Checked, table: Table) -> _RejectedKeys | None:
        if item.raw is None or item.match is None or not len(c.rejects):
            return None
        fks = {fk.column for fk in table.foreign_keys}
        text = [k for k in table.key if table.column(k).kind == "str"]
        ident = [k for k in text if k not in fks]
        cols = [k for k in (ident or text)
                if item.match.by_column.get(k) in item.raw.data.column_names]
        if not cols or (ident and len(cols) < len(ident)):
            return _RejectedKeys((), False, frozenset(), unknown=True)
        lines = pd.to_numeric(c.rejects["row"], errors="coerce").dropna().astype(np.int64).unique()
        idx = pa.array(np.flatnonzero(np.isin(np.asarray(item.raw.row_numbers, dtype=np.int64), lines)))
        cells = [[_fold(v) for v in item.raw.data.column(item.match.by_column[k]).take(idx).to_pylist()]
                 for k in cols]
        if ident:
            return _RejectedKeys(tuple(cols), True, frozenset(zip(*cells)))
        return _RejectedKeys(tuple(cols), False, frozenset((k, v) for k, col in zip(cols, cells) for v in col))

    def may_hold(self, row: dict[str, Any]) -> bool:
        """Whether a stored row (its key columns) may be the one on a rejected line."""
        if self.unknown:
            return True
        if self.together:
            return tuple(_fold(row[k]) for k in self.columns) in self.lines
        return any((k, _fold(row[k])) in self.lines for k in self.columns)


def _fold(v: Any) -> str:
    return "" if v is None else str(v).strip().casefold()


def _report_dropped_lines(
    st: Store, table: Table, checked: list[tuple[_Pending, Checked]], accepted: list[pa.Table], remove: bool,
) -> pa.Table | None:
    """Per export read again, the rows it loaded before that it no longer holds.

    Without ``remove`` they stay stored and each export gets a warning. With it, the rows that none of this run's
    exports holds, that cannot be among the export's rejected lines and whose export still has valid rows are
    returned (key columns and ``_file``) for :meth:`Store.upsert` to remove; the export's result counts and names
    them. Returns None when nothing is to be removed.
    """
    items = [item for item, _ in checked]
    if not items or not st.table_path(table.name).exists():
        return None
    labels = [i.label for i in items]
    stored = st.row_sources(table.name)
    mine = stored.filter(pc.fill_null(pc.is_in(stored.column("_file"), value_set=pa.array(labels)), False))
    if mine.num_rows == 0:
        return None
    key = list(table.key)
    fresh = pa.concat_tables([a.select(key) for a in accepted]) if accepted else mine.select(key).slice(0, 0)
    old_codes, new_codes = key_codes([mine.select(key), fresh.cast(mine.select(key).schema)], key)
    gone = ~np.isin(old_codes, new_codes)
    if not gone.any():
        return None
    lost = mine.filter(pa.array(gone))
    files = np.asarray(lost.column("_file").to_pylist(), dtype=object)
    key_cols = [lost.column(k).to_pylist() for k in key]
    key_text = [" | ".join(str(v) for v in row) for row in zip(*key_cols)]
    key_rows = [dict(zip(key, row)) for row in zip(*key_cols)]
    removable = np.zeros(lost.num_rows, dtype=bool)
    for item, c in checked:
        sel = np.flatnonzero(files == item.label)
        if sel.size == 0:
            continue
        if remove and c.data.num_rows:
            # a valid row of this export dropped as a duplicate still holds its key; a rejected line may too
            own = c.data.select(key).cast(lost.select(key).schema)
            lost_codes, own_codes = key_codes([lost.select(key).take(pa.array(sel)), own], key)
            ok = ~np.isin(lost_codes, own_codes)
            rejected = item.rejected
            if rejected is not None:
                ok &= np.asarray([not rejected.may_hold(key_rows[i]) for i in sel], dtype=bool)
            removable[sel[ok]] = True
        drop_sel = sel[removable[sel]]
        keep_sel = sel[~removable[sel]]
        fr = item.result
        if drop_sel.size:
            fr.rows_removed += int(drop_sel.size)
            fr.removed.extend(key_text[i] for i in drop_sel)
            sample = ", ".join(key_text[i] for i in drop_sel[:20]) + (" …" if drop_sel.size > 20 else "")
            fr.warnings.append(
                f"{drop_sel.size} row(s) loaded earlier from this export are no longer in it and were removed from "
                f"the store ({sample}); the change log records each (remove_dropped_lines) / 本文件比上次导入少了 "
                f"{drop_sel.size} 行，已按配置从数据仓删除，并记入变更记录")
        if keep_sel.size:
            sample = ", ".join(key_text[i] for i in keep_sel[:5]) + (" …" if keep_sel.size > 5 else "")
            fr.warnings.append(
                f"{keep_sel.size} row(s) loaded earlier from this export are no longer in it, or are rejected now "
                f"({sample}); they stay in the store: delete them there if the export is right / 本文件比上次导入少了 "
                f"{keep_sel.size} 行，这些行仍保留在数据仓中")
    if not removable.any():
        return None
    return lost.filter(pa.array(removable))


def _duplicates(
    table: Table, checked: list[Checked], labels: list[str]
) -> tuple[list[np.ndarray], list[pd.DataFrame], list[int]]:
    """Rows sharing a key, within a file and across the files of one run.

    Within a file, an exact duplicate line is rejected and its first occurrence kept; a key whose lines differ
    is rejected on every line. Across files, a row equal to one of an earlier file (by name) is an overlap of
    two exports and loads once; a row that differs is rejected, naming the other file, since which export is
    right cannot be told.

    Returns, per file: rows to leave out of the store, extra reject lines, and the count of overlapping rows.
    """
    key = list(table.key)
    codes = key_codes([c.data for c in checked], key)
    n_files = len(checked)
    drop = [np.zeros(c.data.num_rows, dtype=bool) for c in checked]
    rejects = [pd.DataFrame(columns=list(REJECT_COLUMNS)) for _ in checked]
    unchanged = [0] * n_files
    allc = np.concatenate(codes)
    if allc.size < 2:
        return drop, rejects, unchanged
    involved = np.flatnonzero(pd.Series(allc).duplicated(keep=False).to_numpy())
    if involved.size == 0:
        return drop, rejects, unchanged
    inv = np.zeros(allc.size, dtype=np.int64)
    inv[involved] = pd.factorize(allc[involved])[0]
    file_of = np.concatenate([np.full(c.data.num_rows, k, dtype=np.int64) for k, c in enumerate(checked)])
    local = np.concatenate([np.arange(c.data.num_rows, dtype=np.int64) for c in checked])
    frames = []
    for k, c in enumerate(checked):
        sel = involved[file_of[involved] == k]
        if sel.size:
            f = c.data.take(pa.array(local[sel])).to_pandas()
            f["_file"], f["_local"], f["_group"] = k, local[sel], inv[sel]
            f["_row"] = c.row_numbers[local[sel]]
            frames.append(f)
    d = pd.concat(frames, ignore_index=True)
    content = list(table.column_names)
    d["_content"] = pd.util.hash_pandas_object(d[content].astype(str), index=False).to_numpy()
    d = d.sort_values(["_group", "_file", "_local"], kind="stable").reset_index(drop=True)
    key_txt = d[key].astype(str).agg(" | ".join, axis=1).to_numpy()
    label = "/".join(table.column(k).label_zh or k for k in key)
    recs: list[list[dict[str, object]]] = [[] for _ in checked]
    # 1. within one file
    wf = d.groupby(["_group", "_file"], sort=False)
    n_var = wf["_content"].transform("nunique").to_numpy()
    first_row = wf["_row"].transform("first").to_numpy()
    is_first = ~d.duplicated(["_group", "_file"]).to_numpy()
    alive = np.ones(len(d), dtype=bool)
    for j in range(len(d)):
        k, loc, row = int(d.at[j, "_file"]), int(d.at[j, "_local"]), int(d.at[j, "_row"])
        if n_var[j] > 1:
            reason = (f"the key appears on several rows of this file with different values (first at row "
                      f"{first_row[j]}); keep one line per key / 同一编号出现多次且内容不同")
        elif not is_first[j]:
            reason = f"exact duplicate of row {first_row[j]} / 与第 {first_row[j]} 行重复"
        else:
            continue
        alive[j] = False
        drop[k][loc] = True
        recs[k].append({"file": labels[k], "row": row, "column": label, "value": key_txt[j], "reason": reason})
    # 2. across files: the first surviving occurrence (earliest file) stands
    a = d[alive]
    first_idx = a.groupby("_group", sort=False)["_content"].transform("first").to_numpy()
    first_file = a.groupby("_group", sort=False)["_file"].transform("first").to_numpy()
    first_r = a.groupby("_group", sort=False)["_row"].transform("first").to_numpy()
    for pos, j in enumerate(a.index.to_numpy()):
        k = int(d.at[j, "_file"])
        if k == first_file[pos]:
            continue
        loc = int(d.at[j, "_local"])
        drop[k][loc] = True
        if d.at[j, "_content"] == first_idx[pos]:
            unchanged[k] += 1
        else:
            recs[k].append({
                "file": labels[k], "row": int(d.at[j, "_row"]), "column": label, "value": key_txt[j],
                "reason": f"conflicts with row {first_r[pos]} of {labels[int(first_file[pos])]} in the same batch: "
                          "one of the two exports is wrong; correct it / 与同批另一文件的同一编号内容不同",
            })
    for k in range(n_files):
        if recs[k]:
            rejects[k] = pd.DataFrame(recs[k], columns=list(REJECT_COLUMNS))
    return drop, rejects, unchanged
