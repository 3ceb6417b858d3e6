"""A small, safe, deterministic xlsx/csv writer on openpyxl for the report workbooks.

Every sheet gets: the header row (Chinese by default, through a header map chosen by the caller), a frozen header
row, an auto filter over the data, a number format per column kind and column widths from the longest text
(CJK characters count double).

Safe text
---------
openpyxl stores any string starting with ``=`` as a formula. A part name such as ``=SUM(A1:A2)`` or ``-密封圈``
must never be evaluated by Excel (formula injection), so every text cell whose first character is one of
``= + - @`` (or a tab / carriage return) is written as a plain string cell (``data_type = "s"``) with Excel's
quote prefix set: Excel shows the text as typed and never evaluates it. In the csv twin the same cells get a
leading apostrophe ``'`` (Excel's own text marker), the OWASP advice for csv files.

Speed
-----
:func:`write_workbook` writes the package column by column through :mod:`zk_forecast.reports._xlsxpkg` (the same
parts, byte for byte, that openpyxl writes cell by cell through :func:`write_sheet`, which stays the fallback and
the public per-worksheet API); :func:`write_csv` converts a column at a time, each distinct value once.

Determinism
-----------
Workbook properties (creator, created, modified) are fixed and the xlsx zip is rewritten with fixed timestamps
and entry order, so the same frames give byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast._xlsx import freeze_xlsx, write_xlsx_entries
from zk_forecast.errors import ZkValueError
from zk_forecast.reports import _xlsxpkg

__all__ = ["FIXED_TIME", "NUMBER_FORMATS", "Sheet", "display_width", "is_formula_like", "safe_csv_text",
           "write_csv", "write_sheet", "write_workbook"]

#: Fixed workbook timestamp (created / modified, zip entries) for byte-identical output.
FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)
#: Deflate level of the report workbooks: the fastest (a restock workbook of 20,000 lines deflates about 4x faster
#: than at zlib's default level 6, for about a third more bytes).
COMPRESS_LEVEL = 1

#: Column kind → Excel number format.
NUMBER_FORMATS: Mapping[str, str] = {
    "int": "0",
    "money": "#,##0.00",
    "share": "0.0%",
    "float": "0.00",
    "date": "yyyy-mm-dd",
    "text": "@",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_MIN_WIDTH, _MAX_WIDTH = 6.0, 60.0


def is_formula_like(text: str) -> bool:
    """True when Excel would read ``text`` as a formula (or a DDE payload): it starts with ``= + - @``, tab or CR."""
    return isinstance(text, str) and text.startswith(_FORMULA_START)


def safe_csv_text(text: str) -> str:
    """``text`` for a csv cell: formula-like text gets a leading apostrophe so Excel shows it as text."""
    return "'" + text if is_formula_like(text) else text


def display_width(text: str) -> int:
    """Display width of ``text`` in character cells: wide and full-width (CJK) characters count 2."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


@dataclass
class Sheet:
    """One sheet of a workbook.

    Attributes
    ----------
    name : str
        Sheet title (at most 31 characters; ``[]:*?/\\`` are replaced).
    frame : pandas.DataFrame
        The rows; the index is not written (reset it first to keep it).
    headers : mapping of column → header, optional
        Header shown for each column (e.g. Chinese); columns not in the map show their own name.
    kinds : mapping of column → kind, optional
        ``"int"``, ``"money"``, ``"share"``, ``"float"``, ``"date"`` or ``"text"`` (:data:`NUMBER_FORMATS`);
        columns not given are inferred from the dtype (integers ``int``, floats ``float``, dates ``date``,
        the rest ``text``).
    above : sequence of str, optional
        Lines written in bold in column A above the header row (a title, 数据截至 / 生成时间, a banner); an
        empty string leaves an empty row. The panes freeze under the header row; the filter starts at it.
    below : sequence of mapping of column → value, optional
        Rows written in bold under the table after one empty row (totals), each value under its column and
        formatted as the column's kind; columns not named stay empty. Not part of the filter range, not in the
        csv twin.
    layout : {"landscape", "portrait"}, optional
        Print setup: A4 in that orientation, fitted to one page wide (any number of pages tall), the header row
        repeated at the top of every printed page, the cell grid printed. None: the spreadsheet defaults.
    """

    name: str
    frame: pd.DataFrame
    headers: Mapping[str, str] | None = None
    kinds: Mapping[str, str] = field(default_factory=dict)
    above: Sequence[str] = ()
    below: Sequence[Mapping[str, Any]] = ()
    layout: str | None = None

    def __post_init__(self) -> None:
        if self.layout is not None and self.layout not in _xlsxpkg.LAYOUTS:
            raise ZkValueError(f"Sheet {self.name!r}: layout must be one of {list(_xlsxpkg.LAYOUTS)} or None; got "
                               f"{self.layout!r}. Fix: pass layout='landscape'.")
        cols = {str(c) for c in self.frame.columns}
        for i, row in enumerate(self.below):
            extra = sorted(str(k) for k in row if str(k) not in cols)
            if extra:
                raise ZkValueError(f"Sheet {self.name!r}: row {i} below the table names column {extra[0]!r}, "
                                   f"which the frame lacks; use one of {sorted(cols)}.")

    @property
    def header_row(self) -> int:
        """The header row's number (1-based) in the sheet."""
        return len(self.above) + 1

    def below_frame(self) -> pd.DataFrame:
        """The rows below the table as a frame of the table's columns (object values, None where empty)."""
        cols = [str(c) for c in self.frame.columns]
        data = {c: pd.Series([row.get(c) for row in self.below], dtype=object) for c in cols}
        return pd.DataFrame(data, columns=cols)


def _kind_of(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "text"
    if pd.api.types.is_integer_dtype(s):
        return "int"
    if pd.api.types.is_float_dtype(s):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    return "text"


def _value(v: Any, kind: str) -> Any:
    """A Python value openpyxl can store: numpy scalars unboxed, NA → None, timestamps → date/datetime."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            return None
        return int(round(f)) if kind == "int" and f == round(f) else f
    if isinstance(v, (bool, np.bool_)):
        return ("是" if v else "否") if kind == "text" else bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, pd.Timestamp):
        return v.date() if kind == "date" and v == v.normalize() else v.to_pydatetime()
    if isinstance(v, (int, float, dt.date, dt.datetime)):
        return v
    return _ILLEGAL.sub("", str(v))


def _sheet_title(name: str) -> str:
    t = re.sub(r"[\[\]:*?/\\]", "_", str(name))[:31]
    return t or "Sheet"


def _shown(v: Any, kind: str) -> str:
    if v is None:
        return ""
    if kind == "money" and isinstance(v, (int, float)):
        return f"{v:,.2f}"
    if kind == "share" and isinstance(v, (int, float)):
        return f"{100 * v:.1f}%"
    if kind == "float" and isinstance(v, float):
        return f"{v:.2f}"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def write_sheet(ws: Any, sheet: Sheet) -> None:
    """Fill an openpyxl worksheet from a :class:`Sheet`: lines above, headers, safe values, formats, freeze, filter,
    widths, the rows below and the print setup.

    Parameters
    ----------
    ws : openpyxl.worksheet.worksheet.Worksheet
        An empty worksheet of a normal (not write-only) workbook.
    sheet : Sheet
        Rows, header map and column kinds.
    """
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    df = sheet.frame
    cols = [str(c) for c in df.columns]
    headers = sheet.headers or {}
    kinds = _kinds(sheet, cols)
    widths = [float(display_width(str(headers.get(c, c)))) for c in cols]
    bold = Font(bold=True)
    h = sheet.header_row
    for r, line in enumerate(sheet.above, start=1):
        if line:
            cell = ws.cell(row=r, column=1)
            _set_text(cell, _ILLEGAL.sub("", str(line)))
            cell.font = bold
    for j, c in enumerate(cols, start=1):
        cell = ws.cell(row=h, column=j)
        _set_text(cell, _ILLEGAL.sub("", str(headers.get(c, c))))
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center")
    values = [df[c].to_numpy(dtype=object) for c in df.columns]
    for i in range(len(df)):
        r = h + i + 1
        for j, (col, kind) in enumerate(zip(values, kinds), start=1):
            v = _value(col[i], kind)
            cell = ws.cell(row=r, column=j)
            if isinstance(v, str):
                _set_text(cell, v)
            elif v is not None:
                cell.value = v
                if kind != "text":
                    cell.number_format = NUMBER_FORMATS[kind]
            if i < 2000:  # widths from the first rows are enough and keep big sheets fast
                widths[j - 1] = max(widths[j - 1], float(display_width(_shown(v, kind))))
    below = sheet.below_frame().to_numpy(dtype=object) if sheet.below else np.empty((0, len(cols)), dtype=object)
    for i, row in enumerate(below):
        r = h + len(df) + 2 + i
        for j, kind in enumerate(kinds, start=1):
            v = _value(row[j - 1], kind)
            if v is None:
                continue
            cell = ws.cell(row=r, column=j)
            if isinstance(v, str):
                _set_text(cell, v)
            else:
                cell.value = v
                if kind != "text":
                    cell.number_format = NUMBER_FORMATS[kind]
            cell.font = bold
            widths[j - 1] = max(widths[j - 1], float(display_width(_shown(v, kind))))
    ws.freeze_panes = f"A{h + 1}"
    if cols:
        last = get_column_letter(len(cols))
        ws.auto_filter.ref = f"A{h}:{last}{h + len(df)}"
    for j, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(_MAX_WIDTH, max(_MIN_WIDTH, w + 2.0))
    if sheet.layout is not None:
        ws.page_setup.orientation = sheet.layout
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = f"{h}:{h}"
        ws.print_options.gridLines = True


def _set_text(cell: Any, text: str) -> None:
    """Store ``text`` as a string cell; formula-like text gets data_type "s" and the quote prefix."""
    cell.value = text
    if is_formula_like(text):
        cell.data_type = "s"
        cell.quotePrefix = True


def write_workbook(path: str | Path, sheets: Sequence[Sheet], *, title: str | None = None,
                   created: dt.datetime | None = None) -> Path:
    """Write sheets to one xlsx file with fixed properties and zip timestamps (byte-identical reruns).

    Parameters
    ----------
    path : path-like
        Target ``.xlsx``; parent folders are created.
    sheets : sequence of Sheet
        In order; at least one.
    title : str, optional
        Workbook title property.
    created : datetime, optional
        The workbook's created / modified property and the zip entries' time [local time, to the second];
        default :data:`FIXED_TIME`. The clock is never read here.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if not sheets:
        raise ZkValueError("write_workbook needs at least one sheet.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    titles: list[str] = []
    used: set[str] = set()
    for sh in sheets:
        t = _sheet_title(sh.name)
        k = 2
        while t in used:
            t = _sheet_title(f"{sh.name[:27]}_{k}")
            k += 1
        used.add(t)
        titles.append(t)
    when = FIXED_TIME if created is None else _whole_seconds(created)
    try:
        entries = _fast_parts(titles, sheets, title, when)
    except _xlsxpkg.Unsupported:
        _write_openpyxl(path, titles, sheets, title, when)
        freeze_xlsx(path, when, compresslevel=COMPRESS_LEVEL)
    else:
        write_xlsx_entries(path, entries, when, compresslevel=COMPRESS_LEVEL)
    return path


def _whole_seconds(when: Any) -> dt.datetime:
    """A naive datetime to the second (a zip entry holds 1980-2107, to two seconds; the properties to one)."""
    t = pd.Timestamp(when)
    if t.tzinfo is not None:
        t = t.tz_localize(None)
    out = t.floor("s").to_pydatetime()
    if not 1980 <= out.year <= 2107:
        raise ZkValueError(f"created must lie in 1980-2107 (the xlsx zip format); got {when!r}.")
    return out


def _kinds(sheet: Sheet, cols: list[str]) -> list[str]:
    kinds = [sheet.kinds.get(c) or _kind_of(sheet.frame[c]) for c in cols]
    for k, c in zip(kinds, cols):
        if k not in NUMBER_FORMATS:
            raise ZkValueError(f"column {c!r} has kind {k!r}; use one of {sorted(NUMBER_FORMATS)}.")
    return kinds


def _column_widths(sheet: Sheet, cols: list[str], kinds: list[str]) -> list[float]:
    """Column widths as :func:`write_sheet` sets them: header and the first 2000 rows, CJK counted double."""
    headers = sheet.headers or {}
    out = []
    for j, (c, kind) in enumerate(zip(cols, kinds)):
        w = float(display_width(str(headers.get(c, c))))
        for v in [row.get(c) for row in sheet.below]:
            w = max(w, float(display_width(_shown(_value(v, kind), kind))))
        head = sheet.frame.iloc[:2000, j]
        arr = _plain_values(head)
        if arr is not None:  # one width per distinct value
            def width(v: Any, k: str = kind) -> int:
                return display_width(_shown(_value(v, k), k))

            shown = _xlsxpkg.per_unique(arr, width)
            w = max([w, *(float(x) for x in shown.tolist())])
        else:
            for v in head.to_numpy(dtype=object).tolist():
                w = max(w, float(display_width(_shown(_value(v, kind), kind))))
        out.append(min(_MAX_WIDTH, max(_MIN_WIDTH, w + 2.0)))
    return out


def _plain_values(s: pd.Series) -> np.ndarray | None:
    """The non-missing values of ``s`` as a float64, int64 or str-object array, or None for any other column."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf" and dtype.itemsize == 8:
        arr = s.to_numpy()
        return arr[~np.isnan(arr)] if dtype.kind == "f" else arr
    if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        obj = s.to_numpy(dtype=object)
        present = obj[~pd.isna(obj)]
        if all(type(v) is str for v in present.tolist()):
            return present
    return None


def _fast_parts(titles: list[str], sheets: Sequence[Sheet], title: str | None,
                created: dt.datetime) -> list[tuple[str, bytes]]:
    """The workbook's zip entries, written column-wise by :mod:`zk_forecast.reports._xlsxpkg`."""
    styles = _xlsxpkg.new_styles()
    parts, n_rows, n_cols = [], [], []
    for sh in sheets:
        df = sh.frame
        cols = [str(c) for c in df.columns]
        if not cols or len(set(cols)) != len(cols):
            raise _xlsxpkg.Unsupported("no columns or duplicate column names")
        kinds = _kinds(sh, cols)
        headers = sh.headers or {}
        head = [_ILLEGAL.sub("", str(headers.get(c, c))) for c in cols]
        converted = [_xlsxpkg.convert_column(df.iloc[:, j], k, NUMBER_FORMATS[k]) for j, k in enumerate(kinds)]
        below = None
        if sh.below:
            bf = sh.below_frame()
            below = [_xlsxpkg.convert_column(bf.iloc[:, j], k, NUMBER_FORMATS[k]) for j, k in enumerate(kinds)]
        above = [_ILLEGAL.sub("", str(line)) for line in sh.above]
        parts.append(_xlsxpkg.sheet_xml(styles, head, converted, len(df), _column_widths(sh, cols, kinds),
                                        above=above, below=below, layout=sh.layout))
        n_rows.append(len(df))
        n_cols.append(len(cols))
    return _xlsxpkg.workbook_parts(titles, parts, styles, n_rows, n_cols, title=title, created=created,
                                   header_rows=[sh.header_row for sh in sheets],
                                   print_titles=[sh.layout is not None for sh in sheets])


def _write_openpyxl(path: Path, titles: list[str], sheets: Sequence[Sheet], title: str | None,
                    created: dt.datetime = FIXED_TIME) -> None:
    """Cell-by-cell openpyxl writer: the fallback for frames the fast writer does not cover."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "zk_forecast"
    wb.properties.lastModifiedBy = "zk_forecast"
    wb.properties.created = created
    wb.properties.modified = created
    if title:
        wb.properties.title = title
    for t, sh in zip(titles, sheets):
        write_sheet(wb.create_sheet(t), sh)
    wb.save(path)


def write_csv(path: str | Path, frame: pd.DataFrame, headers: Mapping[str, str] | None = None) -> Path:
    """Write the csv twin of a sheet: UTF-8 with BOM (Excel opens Chinese correctly), ``\\r\\n`` line ends.

    Formula-like text gets a leading apostrophe (:func:`safe_csv_text`); NaN is an empty field; floats are
    written with up to 6 decimals.

    Parameters
    ----------
    path : path-like
        Target ``.csv``.
    frame : pandas.DataFrame
        Rows (index not written).
    headers : mapping of column → header, optional
        As :class:`Sheet`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    headers = headers or {}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([safe_csv_text(str(headers.get(str(c), str(c)))) for c in frame.columns])
    cols = [_csv_column(frame.iloc[:, j]) for j in range(frame.shape[1])]
    w.writerows(zip(*cols))
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return path


def _csv_field(v: Any) -> str:
    """One csv field: the value rules of :func:`_value`, floats with up to 6 decimals, safe text."""
    x = _value(v, "text" if isinstance(v, (bool, np.bool_)) else "any")
    if x is None:
        return ""
    if isinstance(x, float):
        return _csv_number(x)
    if isinstance(x, str):
        return safe_csv_text(x)
    if isinstance(x, dt.datetime):
        return x.isoformat(sep=" ")
    return str(x)


def _csv_number(x: float) -> str:
    """A finite float for csv: whole numbers without decimals, else up to 6 decimals without trailing zeros."""
    return f"{x:.6f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def _csv_column(s: pd.Series) -> list[str]:
    """The csv fields of one column (as :func:`_csv_field` per value, by dtype a column at a time)."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return [_csv_field(v) for v in s.to_numpy(dtype=object).tolist()]
    if pd.api.types.is_bool_dtype(dtype):
        na = s.isna().to_numpy()
        vals = s.fillna(False).to_numpy(dtype=bool)
        return np.where(na, "", np.where(vals, "是", "否")).tolist()
    if pd.api.types.is_integer_dtype(dtype) and not s.hasnans:
        return _xlsxpkg.per_unique(s.to_numpy(), str).tolist()
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        out = np.full(len(s), "", dtype=object)
        if pd.api.types.is_integer_dtype(dtype):  # nullable integers: exact digits
            ok = ~s.isna().to_numpy()
            out[ok] = [str(int(v)) for v in s.to_numpy(dtype=object)[ok].tolist()]
            return out.tolist()
        f = s.to_numpy(dtype=np.float64, na_value=np.nan)
        ok = np.isfinite(f)
        out[ok] = _xlsxpkg.per_unique(f[ok], _csv_number)
        return out.tolist()
    obj = s.to_numpy(dtype=object)
    if pd.api.types.is_string_dtype(dtype) or (isinstance(dtype, np.dtype) and dtype.kind == "O"):
        na = pd.isna(obj)
        present = obj[~na]
        types = {type(v) for v in present.tolist()}
        if types <= {str, int}:  # text, or whole numbers mixed with text
            out = np.full(len(obj), "", dtype=object)
            is_str = np.fromiter((type(v) is str for v in present.tolist()), dtype=bool, count=len(present))
            vals = np.empty(len(present), dtype=object)
            vals[is_str] = _xlsxpkg.per_unique(present[is_str], lambda t: safe_csv_text(_ILLEGAL.sub("", t)))
            if not is_str.all():
                vals[~is_str] = _xlsxpkg.per_unique(present[~is_str], str)
            out[~na] = vals
            return out.tolist()
    return [_csv_field(v) for v in obj.tolist()]
