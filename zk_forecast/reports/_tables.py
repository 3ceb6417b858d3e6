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
from collections.abc import Mapping
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
        self._lives: dict[pd.Timestamp, pd.DataFrame] = {}
        self._present = set(self.store.tables()) | set(self._frames)

    def __contains__(self, name: object) -> bool:
        return name in self._present

    def names(self) -> set[str]:
        """Tables present (in the store or given)."""
        return set(self._present)

    def get(self, name: str) -> pd.DataFrame | None:
        """The table ``name`` (a shallow copy of the shared frame), or None when the store has none."""
        if name not in self._present:
            return None
        if name not in self._frames:
            self._frames[name] = self.store.read(name)
        return self._frames[name].copy(deep=False)

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
            hist = tickets[pd.to_datetime(tickets["reported_at"]) < key]
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

