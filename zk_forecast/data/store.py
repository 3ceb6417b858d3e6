"""The store: one parquet file per canonical table, written atomically, merged by key.

``Store("data/processed")`` holds ``<table>.parquet`` for each canonical table and ``_changes.parquet``, the log
of corrected rows (a row whose key was stored before with other values: which column changed, from what, to
what, from which file, when). A table is written to a temporary file in the same folder and moved over the old
one in one step, so a crash leaves either the old table or the new one, never half of one.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from collections.abc import Sequence
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

__all__ = ["Store", "UpsertCounts", "key_codes", "rows_equal"]

CHANGES = "_changes"
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
    """What a merge did: rows that were new, rows that replaced a stored row, rows identical to a stored row."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0


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

        ``columns`` reads only those columns (less memory and time for wide tables).

        Raises
        ------
        ReadError
            The parquet file is damaged; the message says to rebuild the store from the raw exports.
        """
        t = get_table(name)
        p = self.table_path(name)
        if columns is not None:
            unknown = [c for c in columns if c not in t.column_names]
            if unknown:
                raise ZkValueError(f"table {name} has no column(s) {unknown}; its columns are {list(t.column_names)}.")
        if not p.exists():
            empty = _arrow_schema(t).empty_table()
            return empty if columns is None else empty.select(list(columns))
        try:
            data = pq.read_table(p, columns=None if columns is None else list(columns))
        except (pa.ArrowException, OSError) as exc:
            raise ReadError(
                f"store table {p} is damaged ({exc.__class__.__name__}); delete it and ingest the raw exports "
                "again / 数据表已损坏，请删除后重新导入"
            ) from None
        return data

    def read(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """A table as a pandas DataFrame with the canonical dtypes (nullable ints, floats, booleans, strings).

        ``columns`` reads only those columns.
        """
        t = get_table(name)
        data = self.read_arrow(name, columns)
        df = data.to_pandas(types_mapper={pa.string(): pd.StringDtype(), pa.int64(): pd.Int64Dtype(),
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
        return pq.read_table(p).to_pandas()

    def _write(self, name: str, data: pa.Table) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.table_path(name)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.path)
        os.close(fd)
        try:
            pq.write_table(data, tmp, compression="zstd", row_group_size=1 << 20)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        try:
            dfd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:  # pragma: no cover - directories cannot be fsynced on some file systems
            pass

    def write(self, name: str, data: pa.Table | pd.DataFrame) -> None:
        """Replace a whole table (atomically)."""
        t = get_table(name)
        schema = _arrow_schema(t)
        if isinstance(data, pd.DataFrame):
            missing = [c for c in t.column_names if c not in data.columns]
            if missing:
                raise SchemaError(f"cannot store {name}: columns {missing} are missing; add them (they may be empty)")
            data = pa.Table.from_pandas(data[list(t.column_names)], schema=schema, preserve_index=False)
        self._write(name, data.select(list(t.column_names)).cast(schema))

    def upsert(
        self, name: str, data: pa.Table, *, source: Any = None, now: _dt.datetime | None = None
    ) -> tuple[UpsertCounts, np.ndarray]:
        """Merge rows into a table by its key.

        A row whose key is new is added; a row equal to the stored row changes nothing; a row with a stored key
        and other values replaces the stored row, and each changed column is logged in ``_changes``.

        Parameters
        ----------
        name : str
            Canonical table.
        data : pyarrow.Table
            Rows in canonical columns and types, keys unique.
        source : sequence of str, optional
            The file each row came from (for the change log).
        now : datetime, optional
            Time stamp of the change log entries (default: the clock).

        Returns
        -------
        counts : UpsertCounts
        status : numpy.ndarray of int8
            Per row of ``data``: 0 new, 1 updated, 2 unchanged.
        """
        t = get_table(name)
        schema = _arrow_schema(t)
        data = data.select(list(t.column_names)).cast(schema)
        old = self.read_arrow(name)
        if old.num_rows == 0:
            self._write(name, data)
            return UpsertCounts(new=data.num_rows), np.zeros(data.num_rows, dtype=np.int8)
        old = old.select(list(t.column_names)).cast(schema)
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
                                           [str(source[i]) for i in upd] if source is not None else [""] * upd.size,
                                           now)
        drop = np.zeros(old.num_rows, dtype=bool)
        drop[pos[upd]] = True
        add = np.flatnonzero(status != 2)
        if add.size:
            merged = pa.concat_tables([old.filter(pa.array(~drop)), data.take(pa.array(add))])
            self._write(name, merged)
        if records:  # logged only once the table holds the corrections
            self._append_changes(records)
        counts = UpsertCounts(new=int((status == 0).sum()), updated=int(upd.size), unchanged=int((status == 2).sum()))
        return counts, status

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

    def _append_changes(self, records: list[dict[str, Any]]) -> None:
        add = pa.Table.from_pylist(records, schema=_CHANGE_SCHEMA)
        p = self.table_path(CHANGES)
        prev = pq.read_table(p) if p.exists() else _CHANGE_SCHEMA.empty_table()
        self._write(CHANGES, pa.concat_tables([prev.cast(_CHANGE_SCHEMA), add]))
