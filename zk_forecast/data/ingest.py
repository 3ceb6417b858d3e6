"""Ingest a folder of raw exports into the store, accounting for every row.

For each file: read it (encoding and format detected), find which canonical table it holds, map its headers,
apply the row rules, and merge the valid rows into the store. Tables load in dependency order (depots before
machines before tickets...), so foreign keys are checked against what is already known. Per file,
``rows_in == rows_loaded + rows_rejected``; rejected rows go to ``<store>/rejects/<file>.rejects.csv`` with the
row number, column, value and reason. A file that cannot be read at all is reported with one message and the
fix, and the other files still load.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from zk_forecast.data.mapping import ColumnMatch, FileRule, Mapping, header_score, identify_table, match_columns
from zk_forecast.data.readers import SUPPORTED_SUFFIXES, RawTable, read_export
from zk_forecast.data.store import Store, row_hash
from zk_forecast.data.validate import REJECT_COLUMNS, Checked, References, check_table
from zk_forecast.errors import ReadError, ZkError
from zk_forecast.schema import LOAD_ORDER, TABLES

__all__ = ["FileResult", "IngestResult", "ingest"]

_SKIP_PREFIXES = (".", "~$", "_")


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
                "rows_unchanged", "error"]
        return pd.DataFrame([{c: getattr(f, c) for c in cols} for f in self.files], columns=cols)

    def to_json(self) -> str:
        keys = ("file", "rows_in", "rows_loaded", "rows_rejected", "rejects_path", "error")
        extra = ("table", "rows_new", "rows_updated", "rows_unchanged", "unknown_columns", "warnings", "encoding")
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


def _escape_cell(v: object) -> object:
    """Keep a spreadsheet from evaluating a value as a formula when the rejects file is opened."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def _write_rejects(store: Store, label: str, frame: pd.DataFrame) -> str:
    out = store.path / "rejects"
    out.mkdir(parents=True, exist_ok=True)
    p = out / (label.replace("/", "__") + ".rejects.csv")
    f = frame.copy()
    f["value"] = f["value"].map(_escape_cell)
    f.to_csv(p, index=False, encoding="utf-8-sig", lineterminator="\n")
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

    for p in files:
        label = p.relative_to(raw_dir).as_posix()
        fr = FileResult(file=label)
        results.append(fr)
        rule = mp.rule_for(p.name) or mp.rule_for(label)
        if rule is not None and rule.skip:
            results.pop()
            skipped.append(label)
            continue
        try:
            raw = read_export(p, encoding=rule.encoding if rule else None, sheet=rule.sheet if rule else None,
                              header_score=lambda h: header_score(h, mp))
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
            pending[tname].append(_Pending(p, label, fr, raw, match, rule))
        except ZkError as exc:
            msg = str(exc)
            fr.error = msg if msg.startswith(p.name) else f"{p.name}: {msg}"
            fr.rows_loaded = fr.rows_rejected = 0

    refs = _initial_refs(st)
    for tname in LOAD_ORDER:
        if pending[tname]:
            _load_table(st, tname, pending[tname], mp, refs, today, now)
    return IngestResult(results, skipped, str(st.path))


def _load_table(
    st: Store, tname: str, items: list[_Pending], mp: Mapping, refs: References, today: _dt.date,
    now: _dt.datetime | None,
) -> None:
    table = TABLES[tname]
    key = list(table.key)
    accepted: list[pa.Table] = []
    owners: list[tuple[_Pending, np.ndarray]] = []
    seen_k: list[np.ndarray] = []
    seen_r: list[np.ndarray] = []
    seen_src: list[tuple[str, np.ndarray]] = []
    for item in items:
        fr = item.result
        assert item.raw is not None and item.match is not None
        try:
            checked = check_table(item.raw, table, item.match, mapping=mp, rule=item.rule, refs=refs, today=today,
                                  file_label=item.label)
        except ZkError as exc:
            fr.error = f"{item.label}: {exc}"
            continue
        data, rows, rejects = checked.data, checked.row_numbers, checked.rejects
        n_rej = checked.rows_rejected
        # the same key in two files of one batch: identical rows load once, conflicting rows are rejected
        if data.num_rows and seen_k:
            kh, rh = row_hash(data, key), row_hash(data, table.column_names)
            prev_k = np.concatenate(seen_k)
            prev_r = np.concatenate(seen_r)
            pos = pd.Index(prev_k).get_indexer(kh)
            hit = pos >= 0
            conflict = hit & (prev_r[np.where(hit, pos, 0)] != rh)
            dup = hit & ~conflict
            if conflict.any():
                files = [f for f, a in seen_src for _ in range(a.size)]
                prev_rows = np.concatenate([a for _, a in seen_src])
                extra = pd.DataFrame({
                    "file": item.label, "row": rows[conflict], "column": "/".join(key),
                    "value": [" | ".join(str(data.column(k)[int(i)].as_py()) for k in key)
                              for i in np.flatnonzero(conflict)],
                    "reason": [f"conflicts with row {prev_rows[pos[i]]} of {files[pos[i]]} in the same batch: one of "
                               "the two exports is wrong; correct it / 与同批另一文件的同一编号内容不同"
                               for i in np.flatnonzero(conflict)],
                })
                rejects = pd.concat([rejects, extra], ignore_index=True)
                n_rej += int(conflict.sum())
            keep = ~conflict
            fr.rows_unchanged += int(dup.sum())
            load = keep & ~dup
            data, rows = data.filter(pa.array(load)), rows[load]
            fr.rows_loaded = checked.rows_loaded - int(conflict.sum())
        else:
            fr.rows_loaded = checked.rows_loaded
        fr.rows_rejected = n_rej
        fr.warnings.extend(checked.warnings)
        if len(rejects):
            fr.rejects_path = _write_rejects(st, item.label, rejects)
        if data.num_rows:
            seen_k.append(row_hash(data, key))
            seen_r.append(row_hash(data, table.column_names))
            seen_src.append((item.label, rows))
            accepted.append(data)
            owners.append((item, np.full(data.num_rows, len(owners), dtype=np.int64)))
            for fk_t in {(fk.ref_table, fk.ref_column) for t in TABLES.values() for fk in t.foreign_keys}:
                if fk_t[0] == tname:
                    refs.add(tname, fk_t[1], data.column(fk_t[1]).to_pylist())
            if tname == "depots":
                from zk_forecast.data.ingest import _add_depot_names as _adn

                _adn(refs, data)
    if not accepted:
        return
    merged = pa.concat_tables(accepted)
    src = np.concatenate([o for _, o in owners])
    labels = [owners[i][0].label for i in range(len(owners))]
    counts, status = st.upsert(tname, merged, source=[labels[i] for i in src], now=now)
    for i, (item, _) in enumerate(owners):
        s = status[src == i]
        item.result.rows_new += int((s == 0).sum())
        item.result.rows_updated += int((s == 1).sum())
        item.result.rows_unchanged += int((s == 2).sum())
