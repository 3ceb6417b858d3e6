"""Files a planner hands the package besides the ERP exports, and the dates the store's tables reach.

* :func:`read_table` / :func:`write_table`: a CSV, parquet or xlsx file by its extension (``zk-forecast plan``'s
  history and items in, policies out; data first, destination last).
* :func:`read_overrides_file`: the planner's wear-list overrides (CSV or xlsx, read as the ERP readers read
  exports) into the canonical columns of :func:`zk_forecast.inventory.wearlist.read_overrides`.
* :func:`read_promises`: the ``[promises]`` section of a TOML file as
  :class:`~zk_forecast.service.commitments.Promises`.
* :func:`table_dates`: each store table's as-of date (the latest date in it), from the parquet footers.

The engines take DataFrames and objects; only this module, the other ``data/`` readers, ``reports/`` writers,
the batch and the CLI touch files.
"""

from __future__ import annotations

import datetime as _dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from zk_forecast.errors import ConfigError, ReadError, ZkValueError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

if TYPE_CHECKING:  # pragma: no cover
    from zk_forecast.data.store import Store
    from zk_forecast.service.commitments import Promises

__all__ = ["AS_OF_COLUMNS", "read_overrides_file", "read_promises", "read_table", "table_dates", "write_table"]

#: The date column whose latest value is a table's as-of date (tables without one have no date).
AS_OF_COLUMNS: dict[str, str] = {
    "part_issues": "issued_on",
    "stock": "as_of",
    "tickets": "reported_at",
    "receipts": "received_on",
    "machines": "sale_date",
}

_READERS = (".csv", ".parquet", ".pq", ".xlsx", ".xls")
_WRITERS = (".csv", ".parquet", ".pq", ".xlsx")


def read_table(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV, parquet or xlsx file by its extension.

    Parameters
    ----------
    path : path
        ``.csv``, ``.parquet`` / ``.pq`` or ``.xlsx`` / ``.xls``.
    **kwargs
        Passed to :func:`pandas.read_csv` or :func:`pandas.read_excel`.

    Raises
    ------
    ReadError
        The file does not exist or its extension is none of these.
    """
    p = Path(path)
    ext = p.suffix.lower()
    if not p.is_file():
        raise ReadError(f"file {str(p)!r} does not exist; fix: check the path / 文件不存在，请检查路径")
    if ext == ".csv":
        return pd.read_csv(p, **kwargs)
    if ext in (".parquet", ".pq"):
        return pd.read_parquet(p)
    if ext in (".xlsx", ".xls"):
        if ext == ".xlsx":
            kwargs.setdefault("engine", "openpyxl")  # the reader pandas 2 uses (pandas 3 would switch engines)
        return pd.read_excel(p, **kwargs)
    raise ReadError(f"cannot read {str(p)!r}: the extension must be one of {', '.join(_READERS)}; fix: save it "
                    f"as .csv, .parquet or .xlsx / 请使用 .csv、.parquet 或 .xlsx 文件")


def write_table(frame: pd.DataFrame, path: str | Path, *, index: bool = True) -> Path:
    """Write ``frame`` as CSV, parquet or xlsx by the extension of ``path``, through a temporary file.

    Parameters
    ----------
    frame : pandas.DataFrame
    path : path
        ``.csv``, ``.parquet`` / ``.pq`` or ``.xlsx``; replaced only once fully written.
    index : bool, default True
        Write the index (e.g. ``unique_id`` of policies).

    Returns
    -------
    Path
    """
    dest = Path(path)
    ext = dest.suffix.lower()
    if ext not in _WRITERS:
        raise ZkValueError(f"cannot write {str(dest)!r}: the extension must be one of {', '.join(_WRITERS)}; fix: "
                           f"name the output .csv, .parquet or .xlsx / 输出文件请使用 .csv、.parquet 或 .xlsx")
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        if ext == ".csv":
            frame.to_csv(tmp, index=index)
        elif ext in (".parquet", ".pq"):
            frame.to_parquet(tmp, index=index)
        else:
            frame.to_excel(tmp, engine="openpyxl", index=index)
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def read_overrides_file(path: str | Path) -> pd.DataFrame:
    """The planner's wear-list overrides from a CSV or xlsx file, in canonical columns.

    The file is read as an ERP export is (encodings, workbooks: :func:`zk_forecast.data.readers.read_export`);
    ``row`` is the spreadsheet row of each override.

    Returns
    -------
    pandas.DataFrame
        As :func:`zk_forecast.inventory.wearlist.read_overrides` returns it (strings, unvalidated).
    """
    from zk_forecast.data.readers import read_export
    from zk_forecast.inventory.wearlist import read_overrides

    raw = read_export(path)
    df = raw.data.to_pandas()
    df.columns = raw.headers
    out = read_overrides(df)
    out["row"] = np.asarray(raw.row_numbers)
    return out


def read_promises(path: str | Path, section: str = "promises") -> Promises:
    """The service promises from the ``[section]`` of a TOML file (a file without it gives the defaults).

    Raises
    ------
    ConfigError
        The file cannot be read or parsed, the section is not a table, or a key or value is invalid.
    """
    from collections.abc import Mapping

    from zk_forecast.service.commitments import Promises

    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the promises from {str(path)!r}: {exc}; fix: check the TOML file "
                          f"/ 无法读取服务承诺配置，请检查 TOML 文件") from exc
    part = data.get(section, {})
    if not isinstance(part, Mapping):
        raise ConfigError(f"[{section}] in {str(path)!r} must be a table of key = value lines; got {part!r}; fix: "
                          f"write it as a [{section}] section / [{section}] 必须是键值表")
    return Promises.from_mapping(part)


def _column_max(path: Path, column: str) -> Any:
    """The largest value of ``column`` from the parquet footer's statistics (None without statistics)."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    names = [meta.schema.column(i).name for i in range(meta.num_columns)]
    if column not in names:
        return None
    j = names.index(column)
    best = None
    for g in range(meta.num_row_groups):
        st = meta.row_group(g).column(j).statistics
        if st is None or not st.has_min_max:
            if meta.row_group(g).num_rows:
                return _read_max(path, column)
            continue
        best = st.max if best is None else max(best, st.max)
    return best


def _read_max(path: Path, column: str) -> Any:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    return pc.max(pq.read_table(path, columns=[column]).column(column)).as_py()


def table_dates(store: Store) -> dict[str, _dt.date | None]:
    """Each dated store table's as-of date: the latest date in its :data:`AS_OF_COLUMNS` column.

    Parameters
    ----------
    store : Store

    Returns
    -------
    dict
        Table name → :class:`datetime.date` (None for an empty table), for the tables present, in name order.
    """
    out: dict[str, _dt.date | None] = {}
    tables = set(store.tables())
    for name in sorted(AS_OF_COLUMNS):
        if name not in tables:
            continue
        value = _column_max(store.table_path(name), AS_OF_COLUMNS[name])
        if value is None:
            out[name] = None
        else:
            out[name] = pd.Timestamp(value).date()
    return out
