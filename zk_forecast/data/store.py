"""The store: one parquet file per canonical table, written atomically, merged by key, checked on read.

``Store("data/processed")`` holds ``<table>.parquet`` for each canonical table and ``_changes.parquet``, the log
of corrected rows (a row whose key was stored before with other values: which column changed, from what, to
what, from which file, when; a row removed because the export it came from no longer holds it is one entry with
column ``*``, ``old`` the row as JSON and ``new`` empty). Beside them:

* ``_store.json``, the manifest: the sha256, row count and size of every table as last written, and of its
  previous version. Every read checks the file against it (and parquet's page checksums); :meth:`Store.verify`
  checks them all.
* ``_previous/<table>.parquet``, each table's previous version. A table found damaged is restored from it (the
  ingest log is then dropped, so that the next ingest reads every export again and brings back the last rows).
* ``_store.lock``, taken by every writer (:meth:`Store.lock`, ingest takes it, the nightly batch may too): created
  in one step with its content (pid, host, time), so a lock is never seen empty; a lock whose process is gone is
  stale and cleared, an unreadable one younger than :data:`LOCK_GRACE` seconds is not.
* ``_journal.json`` while a write is committed: the new files are written beside the old ones first, then the
  journal names them, then they replace the old ones. A crash before the journal leaves the old tables; after it,
  the next writer (or :meth:`Store.verify`) finishes the replacement. A table and its change-log entries are
  committed together, so a kill leaves both or neither.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from zk_forecast.errors import ReadError, SchemaError, ZkValueError
from zk_forecast.schema import TABLES, Table, get_table

#: the pandas dtype of the string columns read from the store
_STRING = pd.StringDtype("pyarrow")

__all__ = ["LOCK_GRACE", "Store", "StoreLockedError", "UpsertCounts", "fsync_dir", "key_codes", "rows_equal",
           "sha256_file"]

CHANGES = "_changes"
MANIFEST = "_store.json"
JOURNAL = "_journal.json"
LOCK = "_store.lock"
PREVIOUS = "_previous"
INGEST_LOG = "_ingested.json"  # written by data.ingest; dropped when a table is restored
#: An unreadable lock file younger than this is taken as held (its writer may be between create and write) [s].
LOCK_GRACE = 30.0
_HELD: dict[str, int] = {}  # store path -> how many nested Store.lock() of this process hold it
_HELD_GUARD = threading.Lock()


class StoreLockedError(ZkValueError):
    """Another process holds the store's lock and did not let go within the wait."""
_CHANGE_SCHEMA = pa.schema([
    ("table", pa.string()), ("key", pa.string()), ("column", pa.string()), ("old", pa.string()),
    ("new", pa.string()), ("file", pa.string()), ("changed_at", pa.timestamp("s")),
])


def key_codes(tables: Sequence[pa.Table], columns: Sequence[str]) -> list[np.ndarray]:
    """Integer codes for the key ``columns`` of each row, equal exactly when the keys are equal.

    The codes are consistent across all ``tables`` (each column is dictionary-encoded over all of them at once),
    so rows of different files or of the store and a new export can be matched by code. Vectorised: one hash
    pass per key column, no Python loop over rows.
    """
    sizes = [t.num_rows for t in tables]
    combined: np.ndarray | None = None
    for name in columns:
        chunks = [c for t in tables for c in t.column(name).chunks]
        arr = pa.chunked_array(chunks, type=tables[0].schema.field(name).type).combine_chunks()
        enc = arr.dictionary_encode()
        card = len(enc.dictionary) + 1
        codes = enc.indices.fill_null(card - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        if combined is None:
            combined = codes
        else:
            if int(combined.max(initial=0)) + 1 > (2**62) // card:
                combined = np.unique(combined, return_inverse=True)[1].astype(np.int64)
            combined = combined * card + codes
    if combined is None:
        combined = np.zeros(sum(sizes), dtype=np.int64)
    return list(np.split(combined, np.cumsum(sizes)[:-1]))


def rows_equal(a: pa.Table, b: pa.Table) -> np.ndarray:
    """Element-wise equality of two tables of the same columns and length (null equals null)."""
    same = np.ones(a.num_rows, dtype=bool)
    for name in a.column_names:
        x, y = a.column(name), b.column(name)
        eq = pc.fill_null(pc.equal(x, y), False)
        both_null = pc.and_(pc.is_null(x), pc.is_null(y))
        same &= pc.or_(eq, both_null).to_numpy(zero_copy_only=False)
    return same


@dataclass
class UpsertCounts:
    """What a merge did: rows that were new, rows that replaced a stored row, rows identical to a stored row, and
    stored rows removed (``upsert(remove=...)``)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


def _arrow_schema(t: Table) -> pa.Schema:
    from zk_forecast.data.validate import arrow_type

    return pa.schema([(c.name, arrow_type(c)) for c in t.columns])


class Store:
    """Parquet tables of the canonical schema in one folder.

    Parameters
    ----------
    path : str or Path
        The folder (created when missing), e.g. ``data/processed``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def table_path(self, name: str) -> Path:
        return self.path / f"{name}.parquet"

    def tables(self) -> list[str]:
        """Canonical tables present in the store."""
        return [t for t in TABLES if self.table_path(t).exists()]

    def read_arrow(self, name: str, columns: Sequence[str] | None = None) -> pa.Table:
        """A table as arrow, in canonical types; an empty table when the store has none yet.

        ``columns`` reads only those columns (less memory and time for wide tables). The file is checked against
        the sha256 the manifest recorded for it and read with parquet's page checksums verified; a damaged table
        is restored from its previous version (under the store's lock) and read again.

        Raises
        ------
        ReadError
            The table is damaged and has no sound previous version; the message says how to rebuild it.
        """
        t = get_table(name)
        if columns is not None:
            unknown = [c for c in columns if c not in t.column_names]
            if unknown:
                raise ZkValueError(f"table {name} has no column(s) {unknown}; its columns are {list(t.column_names)}.")
        cols = list(t.column_names) if columns is None else list(columns)
        if not self.table_path(name).exists():
            return _arrow_schema(t).empty_table().select(cols)
        try:
            return self._read_checked(name, cols)
        except _Damaged:
            pass
        with self.lock(purpose=f"restore {name}"):  # a writer may have been half way: look again under the lock
            try:
                return self._read_checked(name, cols)
            except _Damaged as exc:
                self._restore(name, str(exc))
            return self._read_checked(name, cols)

    def _read_checked(self, name: str, columns: list[str] | None) -> pa.Table:
        """Read a parquet file after checking it against the manifest; :class:`_Damaged` when it does not fit."""
        p = self.table_path(name)
        entry = self._manifest().get("tables", {}).get(name)
        if entry is not None and sha256_file(p) != entry.get("sha256"):
            raise _Damaged(f"store table {p} does not match the sha256 recorded when it was written")
        try:
            return pq.read_table(p, columns=columns, page_checksum_verification=True)
        except (pa.ArrowException, OSError) as exc:
            raise _Damaged(f"store table {p} is damaged ({exc.__class__.__name__})") from None

    def _restore(self, name: str, why: str) -> None:
        """Put a damaged table's previous version back (the lock is held); ReadError when there is none."""
        prev = self.path / PREVIOUS / f"{name}.parquet"
        entry = self._manifest().get("previous", {}).get(name)
        if not prev.exists() or entry is None or sha256_file(prev) != entry.get("sha256"):
            raise ReadError(
                f"{why}, and it has no sound previous version; run `zk-forecast ingest --rebuild` to rebuild the "
                "store from the raw exports / 数据表已损坏且无可用的上一版本，请运行 zk-forecast ingest --rebuild 重建"
            )
        tmp = self.path / f".{name}.restore.tmp"
        with open(prev, "rb") as src, open(tmp, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, self.table_path(name))
        doc = self._manifest()
        doc.setdefault("tables", {})[name] = dict(entry)
        doc.setdefault("restored", []).append({"table": name, "reason": why,
                                               "at": _dt.datetime.now().isoformat(timespec="seconds")})
        _atomic_json(self.path / MANIFEST, doc)
        # the rows of the lost version come back from their exports: the next ingest reads every export again
        (self.path / INGEST_LOG).unlink(missing_ok=True)
        fsync_dir(self.path)

    def verify(self, *, repair: bool = True) -> dict[str, str]:
        """Check every table against the sha256 recorded when it was written; restore damaged ones.

        The nightly batch calls it at the start of a run. It also finishes a write that a crash interrupted
        after its commit point (see the module docs).

        Parameters
        ----------
        repair : bool, default True
            Restore a damaged table from its previous version (taking the store's lock).

        Returns
        -------
        dict of str to str
            Per table present: ``"ok"``, ``"restored"`` (it was damaged, its previous version is back; the next
            ingest reads every export again) or ``"unrecorded"`` (written before the manifest existed).

        Raises
        ------
        ReadError
            A table is damaged and cannot be restored (or ``repair`` is False); the message names it and the fix.
        """
        out: dict[str, str] = {}
        with self.lock(purpose="verify") if repair else contextlib.nullcontext():
            doc = self._manifest()
            for name in [*TABLES, CHANGES]:
                p = self.table_path(name)
                if not p.exists():
                    continue
                entry = doc.get("tables", {}).get(name)
                if entry is None:
                    out[name] = "unrecorded"
                    continue
                if sha256_file(p) == entry.get("sha256"):
                    out[name] = "ok"
                    continue
                why = f"store table {p} does not match the sha256 recorded when it was written"
                if not repair:
                    raise ReadError(f"{why}; run Store.verify() to restore its previous version / 数据表校验失败")
                self._restore(name, why)
                out[name] = "restored"
        return out

    # ---------------------------------------------------------------------------------------------- the lock
    @contextlib.contextmanager
    def lock(self, *, timeout: float = 600.0, purpose: str = "write") -> Iterator[None]:
        """Hold the store's lock: one writer at a time (ingest, a rebuild, the nightly batch).

        The lock file is created in one step with its content (written to a temporary file, then linked into
        place), so another process never reads it empty. A lock whose process is gone (same host) is stale and
        cleared; an unreadable lock younger than :data:`LOCK_GRACE` seconds counts as held. Nested calls in one
        process share the lock. On entry a write that a crash interrupted after its commit point is finished.

        Parameters
        ----------
        timeout : float, default 600
            How long to wait for another holder [s].
        purpose : str
            Written into the lock file (shown to whoever waits).

        Raises
        ------
        StoreLockedError
            Another process still holds the lock after ``timeout`` seconds.
        """
        key = str(self.path.resolve())
        with _HELD_GUARD:
            nested = _HELD.get(key, 0) > 0
            if nested:
                _HELD[key] += 1
        if nested:
            try:
                yield
            finally:
                with _HELD_GUARD:
                    _HELD[key] -= 1
            return
        self.path.mkdir(parents=True, exist_ok=True)
        lock = self.path / LOCK
        me = {"pid": os.getpid(), "host": socket.gethostname(), "purpose": purpose,
              "started_at": _dt.datetime.now().isoformat(timespec="seconds")}
        deadline = time.monotonic() + timeout
        while not _try_lock(lock, me):
            holder = _read_lock(lock)
            if isinstance(holder, tuple):  # stale: (_STALE, identity of the file judged)
                _break_stale(lock, holder[1])
                continue
            if time.monotonic() >= deadline:
                info = holder if isinstance(holder, dict) else {}
                raise StoreLockedError(
                    f"the store {self.path} is in use by pid {info.get('pid', '?')} on {info.get('host', '?')} "
                    f"({info.get('purpose', '?')}, since {info.get('started_at', '?')}); wait for it to finish, "
                    f"or delete {lock} if that process is gone / 数据仓正被其他进程使用，请稍后再试")
            time.sleep(0.1)
        with _HELD_GUARD:
            _HELD[key] = 1
        try:
            self._recover()
            yield
        finally:
            with _HELD_GUARD:
                _HELD[key] = 0
            with contextlib.suppress(OSError):
                if _read_lock(lock) == me:
                    lock.unlink()

    def _holds_lock(self) -> bool:
        with _HELD_GUARD:
            return _HELD.get(str(self.path.resolve()), 0) > 0

    # ---------------------------------------------------------------------------------------------- commits
    def _manifest(self) -> dict[str, Any]:
        try:
            doc = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
            return doc if isinstance(doc, dict) else {}
        except (OSError, ValueError):
            return {}

    def _recover(self) -> None:
        """Finish a commit whose journal was written (roll forward); remove temporary files of an unfinished one."""
        journal = self.path / JOURNAL
        doc: dict[str, Any] | None = None
        try:
            doc = json.loads(journal.read_text(encoding="utf-8"))
        except FileNotFoundError:
            doc = None
        except (OSError, ValueError):  # a journal cut short was never the commit point (it is written atomically)
            journal.unlink(missing_ok=True)
        if doc is not None:
            self._apply(doc)
        for p in self.path.glob(".*.tmp"):
            p.unlink(missing_ok=True)

    def _apply(self, doc: dict[str, Any]) -> None:
        """Carry out a journal: each new file replaces its table (the old one becomes the previous version)."""
        prev_dir = self.path / PREVIOUS
        prev_dir.mkdir(exist_ok=True)
        for name, tmp_name in doc["files"].items():
            tmp, target = self.path / tmp_name, self.table_path(name)
            if not tmp.exists():
                continue  # already in place
            if target.exists():
                os.replace(target, prev_dir / f"{name}.parquet")
            os.replace(tmp, target)
        fsync_dir(prev_dir)
        _atomic_json(self.path / MANIFEST, doc["manifest"])
        (self.path / JOURNAL).unlink(missing_ok=True)
        fsync_dir(self.path)

    def _commit(self, tables: dict[str, pa.Table]) -> None:
        """Write several tables as one change: all of them, or (after a crash before the journal) none."""
        with self.lock(purpose="write"):
            written: dict[str, str] = {}
            try:
                doc = self._manifest()
                doc.setdefault("tables", {})
                doc.setdefault("previous", {})
                for name, data in tables.items():
                    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.path)
                    os.close(fd)
                    written[name] = tmp
                    pq.write_table(data, tmp, compression="zstd", row_group_size=1 << 20, write_page_checksum=True)
                    with open(tmp, "rb") as fh:
                        os.fsync(fh.fileno())
                    if self.table_path(name).exists() and name in doc["tables"]:
                        doc["previous"][name] = doc["tables"][name]
                    else:
                        doc["previous"].pop(name, None)
                    doc["tables"][name] = {"sha256": sha256_file(Path(tmp)), "rows": data.num_rows,
                                           "bytes": os.path.getsize(tmp)}
                journal = {"files": {n: Path(t).name for n, t in written.items()}, "manifest": doc}
                _atomic_json(self.path / JOURNAL, journal)  # the commit point
            except BaseException:
                for tmp in written.values():
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                raise
            self._apply(journal)

    def read(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """A table as a pandas DataFrame with the canonical dtypes (nullable ints, floats, booleans, strings).

        ``columns`` reads only those columns.
        """
        t = get_table(name)
        data = self.read_arrow(name, columns)
        # strings stay in Arrow memory (pandas' "string" dtype, pyarrow storage): about a quarter of the memory of
        # one Python object per value, and no per-value conversion on read
        df = data.to_pandas(types_mapper={pa.string(): _STRING, pa.int64(): pd.Int64Dtype(),
                                          pa.float64(): pd.Float64Dtype(), pa.bool_(): pd.BooleanDtype()}.get)
        for c in t.columns:
            if c.kind in ("date", "datetime") and c.name in df.columns:
                df[c.name] = df[c.name].astype("datetime64[ns]")
        return df

    def changes(self) -> pd.DataFrame:
        """The log of corrected rows: table, key, column, old, new, file, changed_at."""
        p = self.table_path(CHANGES)
        if not p.exists():
            return _CHANGE_SCHEMA.empty_table().to_pandas()
        return self._read_checked(CHANGES, None).to_pandas()

    def write(self, name: str, data: pa.Table | pd.DataFrame) -> None:
        """Replace a whole table (atomically)."""
        t = get_table(name)
        schema = _arrow_schema(t)
        if isinstance(data, pd.DataFrame):
            missing = [c for c in t.column_names if c not in data.columns]
            if missing:
                raise SchemaError(f"cannot store {name}: columns {missing} are missing; add them (they may be empty)")
            data = pa.Table.from_pandas(data[list(t.column_names)], schema=schema, preserve_index=False)
        self._commit({name: data.select(list(t.column_names)).cast(schema)})

    def upsert(
        self, name: str, data: pa.Table, *, source: Any = None, now: _dt.datetime | None = None,
        rows: Any = None, remove: pa.Table | None = None,
    ) -> tuple[UpsertCounts, np.ndarray]:
        """Merge rows into a table by its key (and remove stored rows, in the same commit).

        A row whose key is new is added; a row equal to the stored row changes nothing; a row with a stored key
        and other values replaces the stored row, and each changed column is logged in ``_changes``.

        Parameters
        ----------
        name : str
            Canonical table.
        data : pyarrow.Table
            Rows in canonical columns and types, keys unique.
        source : sequence of str or pyarrow array of str, optional
            The file each row came from (for the change log and the rows' provenance); a dictionary array of the
            file labels is the cheapest form for millions of rows.
        rows : sequence of int, optional
            The line of that file each row came from (provenance).
        now : datetime, optional
            Time stamp of the change log entries (default: the clock).
        remove : pyarrow.Table, optional
            Key columns of stored rows to delete, with an optional ``_file`` column (the export that no longer
            holds the row, written to the change log). A key also in ``data``, or not stored, is left alone. Each
            removed row is logged in ``_changes`` (column ``*``, ``old`` the row as JSON, ``new`` empty),
            committed with the table.

        Returns
        -------
        counts : UpsertCounts
        status : numpy.ndarray of int8
            Per row of ``data``: 0 new, 1 updated, 2 unchanged.
        """
        t = get_table(name)
        schema = _arrow_schema(t)
        data = data.select(list(t.column_names)).cast(schema)
        n = data.num_rows
        if source is None:
            files = pa.nulls(n, pa.string())
        elif isinstance(source, (pa.Array, pa.ChunkedArray)):
            files = pc.cast(source, pa.string())  # a dictionary array of labels decodes in one step
        else:
            files = pa.array(np.asarray(source, dtype=object), type=pa.string())
        prov = pa.table({
            "_file": files,
            "_row": pa.array(np.asarray(rows, dtype=np.int64)) if rows is not None else pa.nulls(n, pa.int64()),
        })
        with self.lock(purpose=f"upsert {name}"):
            old_full = self.read_with_provenance(name)
            if old_full.num_rows == 0:
                self._commit({name: _with_provenance(data, prov)})
                return UpsertCounts(new=data.num_rows), np.zeros(data.num_rows, dtype=np.int8)
            old = old_full.select(list(t.column_names)).cast(schema)
            key = list(t.key)
            old_codes, new_codes = key_codes([old, data], key)
            pos = pd.Index(old_codes).get_indexer(new_codes)
            hit = pos >= 0
            status = np.zeros(data.num_rows, dtype=np.int8)
            if hit.any():
                hit_idx = np.flatnonzero(hit)
                same = rows_equal(old.take(pa.array(pos[hit_idx])), data.take(pa.array(hit_idx)))
                status[hit_idx[same]] = 2
                status[hit_idx[~same]] = 1
            upd = np.flatnonzero(status == 1)
            records = []
            if upd.size:
                records = self._change_records(t, old.take(pa.array(pos[upd])), data.take(pa.array(upd)),
                                               [str(f) for f in files.take(pa.array(upd)).to_pylist()]
                                               if source is not None else [""] * upd.size, now)
            drop = np.zeros(old.num_rows, dtype=bool)
            drop[pos[upd]] = True
            gone = self._removed(t, old, data, remove)
            if gone.any():
                records += self._removal_records(t, old_full, gone, remove, now)
            drop |= gone
            add = np.flatnonzero(status != 2)
            out: dict[str, pa.Table] = {}
            if add.size or gone.any():
                kept = old_full.filter(pa.array(~drop))
                out[name] = pa.concat_tables([kept, _with_provenance(data, prov).take(pa.array(add))])
            if records:  # committed with the table: a kill leaves both or neither
                out[CHANGES] = self._changes_with(records)
            if out:
                self._commit(out)
        counts = UpsertCounts(new=int((status == 0).sum()), updated=int(upd.size), unchanged=int((status == 2).sum()),
                              removed=int(gone.sum()))
        return counts, status

    @staticmethod
    def _removed(t: Table, old: pa.Table, data: pa.Table, remove: pa.Table | None) -> np.ndarray:
        """Mask of the stored rows ``old`` named by ``remove`` and absent from ``data``."""
        if remove is None or remove.num_rows == 0:
            return np.zeros(old.num_rows, dtype=bool)
        key = list(t.key)
        missing = [k for k in key if k not in remove.column_names]
        if missing:
            raise ZkValueError(f"upsert(remove=...) lacks the key column(s) {missing} of table {t.name}; pass the "
                               f"key columns {key} of the rows to remove.")
        rm = remove.select(key).cast(old.select(key).schema)
        old_codes, new_codes, rm_codes = key_codes([old.select(key), data.select(key), rm], key)
        return np.isin(old_codes, rm_codes) & ~np.isin(old_codes, new_codes)

    @staticmethod
    def _removal_records(
        t: Table, old_full: pa.Table, gone: np.ndarray, remove: pa.Table | None, now: _dt.datetime | None
    ) -> list[dict[str, Any]]:
        """One change-log entry per removed row: column ``*``, the row as JSON in ``old``."""
        stamp = (now or _dt.datetime.now()).replace(microsecond=0)
        rows = old_full.filter(pa.array(gone)).to_pylist()
        by_key: dict[str, str] = {}
        if remove is not None and "_file" in remove.column_names:
            for r in remove.select([*t.key, "_file"]).to_pylist():
                by_key[" | ".join(str(r[k]) for k in t.key)] = r["_file"] or ""
        recs = []
        for r in rows:
            key = " | ".join(str(r[k]) for k in t.key)
            values = {c: (None if r[c] is None else str(r[c])) for c in (*t.column_names, "_file", "_row")}
            recs.append({"table": t.name, "key": key, "column": "*", "old": json.dumps(values, ensure_ascii=False),
                         "new": None, "file": by_key.get(key, ""), "changed_at": stamp})
        return recs

    def row_sources(self, name: str) -> pa.Table:
        """The key columns of a table with ``_file``, the export each row was last loaded from (null if unknown)."""
        t = get_table(name)
        cols = list(t.key)
        if not self.table_path(name).exists():
            return _with_provenance(_arrow_schema(t).empty_table(), None).select([*cols, "_file"])
        self.read_arrow(name, cols)  # checks the file (and restores it when damaged)
        names = pq.read_schema(self.table_path(name)).names
        if "_file" in names:
            return self._read_checked(name, [*cols, "_file"])
        keys = self._read_checked(name, cols)
        return keys.append_column("_file", pa.nulls(keys.num_rows, pa.string()))

    def read_with_provenance(self, name: str) -> pa.Table:
        """A table in canonical columns plus ``_file`` (the export each row was last loaded from) and ``_row``
        (its line there); both null for rows written without them (by :meth:`write`, or before they were kept)."""
        t = get_table(name)
        schema = _arrow_schema(t)
        if not self.table_path(name).exists():
            return _with_provenance(schema.empty_table(), None)
        self.read_arrow(name, [t.column_names[0]])  # checks the file (and restores it when damaged)
        full = self._read_checked(name, None)
        base = full.select(list(t.column_names)).cast(schema)
        if "_file" in full.column_names and "_row" in full.column_names:
            return _with_provenance(base, full.select(["_file", "_row"]).cast(_PROVENANCE))
        return _with_provenance(base, None)

    def _change_records(
        self, t: Table, old: pa.Table, new: pa.Table, files: list[str], now: _dt.datetime | None
    ) -> list[dict[str, Any]]:
        stamp = (now or _dt.datetime.now()).replace(microsecond=0)
        o = old.to_pandas()
        n = new.to_pandas()
        recs = []
        for i in range(len(n)):
            key = " | ".join(str(n.iloc[i][k]) for k in t.key)
            for c in t.column_names:
                a, b = o.iloc[i][c], n.iloc[i][c]
                if (pd.isna(a) and pd.isna(b)) or (not pd.isna(a) and not pd.isna(b) and a == b):
                    continue
                recs.append({"table": t.name, "key": key, "column": c, "old": None if pd.isna(a) else str(a),
                             "new": None if pd.isna(b) else str(b), "file": files[i], "changed_at": stamp})
        return recs

    def _changes_with(self, records: list[dict[str, Any]]) -> pa.Table:
        """The change log with ``records`` appended."""
        add = pa.Table.from_pylist(records, schema=_CHANGE_SCHEMA)
        p = self.table_path(CHANGES)
        prev = self._read_checked(CHANGES, None) if p.exists() else _CHANGE_SCHEMA.empty_table()
        return pa.concat_tables([prev.cast(_CHANGE_SCHEMA), add])


_PROVENANCE = pa.schema([("_file", pa.string()), ("_row", pa.int64())])


class _Damaged(Exception):
    """A store file that does not match its manifest or fails its page checksums (internal)."""


def _with_provenance(data: pa.Table, prov: pa.Table | None) -> pa.Table:
    if prov is None:
        prov = _PROVENANCE.empty_table() if data.num_rows == 0 else pa.table(
            {"_file": pa.nulls(data.num_rows, pa.string()), "_row": pa.nulls(data.num_rows, pa.int64())})
    return pa.table([*data.columns, *prov.columns], names=[*data.column_names, *prov.column_names])


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes (read in 1 MB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries to disk (no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - directories cannot be fsynced on some file systems
        pass
    finally:
        os.close(fd)


def _atomic_json(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


_STALE = object()


def _try_lock(lock: Path, me: dict[str, Any]) -> bool:
    """Create ``lock`` holding ``me`` in one step: a fully written temporary file linked into place."""
    tmp = lock.with_name(f".{lock.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(me, fh)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, lock)
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: exclusive create, content written at once
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _read_lock(lock: Path) -> Any:
    """The holder's record; ``(_STALE, identity)`` when its process is gone; None when the lock vanished."""
    try:
        st = lock.stat()
        text = lock.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    ident = (st.st_ino, st.st_mtime_ns)
    try:
        info = json.loads(text)
        pid = int(info["pid"])
    except (ValueError, KeyError, TypeError):
        # unreadable: held while young (never read as pid 0), stale after the grace period
        return {} if time.time() - st.st_mtime < LOCK_GRACE else (_STALE, ident)
    if info.get("host") != socket.gethostname():
        return info  # another machine's process cannot be checked: held
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return (_STALE, ident)
    except PermissionError:
        return info
    return info


def _break_stale(lock: Path, judged: tuple[int, int]) -> None:
    """Remove a stale lock, making sure it is the one judged stale (not a fresh one taken meanwhile)."""
    aside = lock.with_name(f".{lock.name}.stale.{os.getpid()}.tmp")
    try:
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    after = aside.stat()
    if (after.st_ino, after.st_mtime_ns) != judged:
        with contextlib.suppress(FileExistsError):
            os.link(aside, lock)  # someone took the lock between the two looks: give it back
    aside.unlink(missing_ok=True)
