"""Store tables read once and shared between the reports of one run (service report, scorecard, manufacturers).

Each ``write_*`` report reads the store's big tables (tickets, machines, part issues, ...) and the scorecard and
every manufacturer report build the same component lives. :class:`StoreTables` reads each table at most once and
computes the lives once per period end; the ``write_*`` functions take one through their ``tables`` argument, or
share the last one built for the same store (:func:`store_tables`), checked against each table file's
modification time and size, so a store changed in between is read again.

Frames are handed out as shallow copies: with pandas' copy-on-write a report that assigns a column changes its
own copy only, never the shared table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["StoreTables", "clear_store_tables", "store_tables"]


class StoreTables:
    """The tables of one store, each read at most once, and the component lives per period end.

    Parameters
    ----------
    store_dir : str or Path
        The processed store.
    tables : mapping of table name → DataFrame, optional
        Tables already read (e.g. by the nightly batch, in canonical dtypes as ``Store.read`` gives them); the
        others are read from the store when first asked for.
    """

    def __init__(self, store_dir: str | Path, tables: Mapping[str, pd.DataFrame | None] | None = None) -> None:
        from zk_forecast.data import Store

        self.store = Store(store_dir)
        self._frames: dict[str, pd.DataFrame] = {k: v for k, v in (tables or {}).items() if v is not None}
        self._given = set(self._frames)
        self._read_sig: dict[str, tuple[int, int]] = {}
        self._lives: dict[pd.Timestamp, pd.DataFrame] = {}
        self._present = set(self.store.tables()) | set(self._frames)

    def __contains__(self, name: object) -> bool:
        return name in self._present

    def names(self) -> set[str]:
        """Tables present (in the store or given)."""
        return set(self._present)

    def get(self, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame | None:
        """The table ``name`` (a shallow copy of the shared frame), or None when the store has none.

        Parameters
        ----------
        name : str
            Canonical table.
        columns : sequence of str, optional
            Read only these columns (in the table's own column order): a report that uses a few columns of a
            big table (part issues, receipts) does not pay for converting the others. Columns read for one
            report are kept for the next; only the missing ones are read. A table handed in by the caller is
            returned whole.
        """
        if name not in self._present:
            return None
        if name in self._given:
            return self._frames[name].copy(deep=False)
        from zk_forecast.schema import get_table

        order = list(get_table(name).column_names)
        wanted = order if columns is None else [c for c in order if c in set(columns)]
        have = self._frames.get(name)
        missing = wanted if have is None else [c for c in wanted if c not in have.columns]
        if missing:
            sig = self._file_sig(name)
            if have is not None and self._read_sig.get(name) != sig:  # the file changed: read all afresh
                missing, have = [c for c in order if c in set(wanted) | set(have.columns)], None
            part = self.store.read(name, columns=missing)
            self._read_sig[name] = sig
            if have is None:
                have = part
            else:
                have = pd.concat([have, part], axis=1)
            self._frames[name] = have[[c for c in order if c in have.columns]]
        frame = self._frames[name]
        if list(frame.columns) == wanted:
            return frame.copy(deep=False)
        return pd.DataFrame({c: frame[c] for c in wanted}, copy=False)  # the same column arrays, not copies

    def _file_sig(self, name: str) -> tuple[int, int]:
        """Modification time and size of a table's file (columns read at different times must be of one file)."""
        try:
            st = os.stat(self.store.table_path(name))
        except OSError:
            return (0, 0)
        return (st.st_mtime_ns, st.st_size)

    def lives(self, end: pd.Timestamp) -> pd.DataFrame:
        """Component lives of all machines known at ``end``: ``build_lives`` on the tickets reported before it.

        Parameters
        ----------
        end : Timestamp
            The period end (exclusive) [date].

        Returns
        -------
        DataFrame
            :func:`zk_forecast.failures.build_lives` output (shallow copy), the same as the scorecard and the
            manufacturer reports compute on their own.
        """
        from zk_forecast.failures import build_lives

        key = pd.Timestamp(end)
        if key not in self._lives:
            tickets, machines = self.get("tickets"), self.get("machines")
            if tickets is None or machines is None:
                raise KeyError("lives need the tickets and machines tables")
            reported = tickets["reported_at"]
            if not pd.api.types.is_datetime64_any_dtype(reported):  # parse only text or objects
                reported = pd.to_datetime(reported)
            hist = tickets[reported < key]
            self._lives[key] = build_lives(hist, machines, self.get("component_parts"), as_of=key)
        return self._lives[key].copy(deep=False)


_SHARED: dict[str, Any] = {}


def _signature(store_dir: Path) -> tuple[tuple[str, int, int], ...]:
    out = []
    for p in sorted(store_dir.glob("*.parquet")):
        st = os.stat(p)
        out.append((p.name, st.st_mtime_ns, st.st_size))
    return tuple(out)


def store_tables(store_dir: str | Path, tables: Mapping[str, pd.DataFrame | None] | StoreTables | None = None
                 ) -> StoreTables:
    """The :class:`StoreTables` to use for ``store_dir``.

    Parameters
    ----------
    store_dir : str or Path
        The processed store.
    tables : StoreTables or mapping of table name → DataFrame, optional
        A :class:`StoreTables` is used as it is; a mapping gives tables already read (a new
        :class:`StoreTables` is made over them and shared for the next reports). Without it, the last one built
        for this store is reused when no table file changed since (path, modification time and size), so the
        reports of one run read each table once.

    Returns
    -------
    StoreTables
    """
    if isinstance(tables, StoreTables):
        return tables
    path = Path(store_dir).resolve()
    sig = (str(path), _signature(path))
    given = {k: id(v) for k, v in (tables or {}).items() if v is not None}
    if _SHARED.get("sig") == sig and (not given or _SHARED.get("given") == given):
        return _SHARED["tables"]
    st = StoreTables(path, tables)
    _SHARED.clear()
    _SHARED.update(sig=sig, given=given, tables=st)
    return st


def clear_store_tables() -> None:
    """Drop the shared tables (frees their memory; the next report reads the store again)."""
    _SHARED.clear()

