"""Fast xlsx writer of the report workbooks: the package parts are written as text, a column at a time.

openpyxl builds one Python object per cell (value, style, coordinate) and serialises them one by one, which takes
tens of seconds for the restock workbooks of a large network (4 × 20,000 rows × 14 columns). This module writes
the same SpreadsheetML directly: every column is converted once (numbers formatted, text cleaned, escaped and
checked for formula-like starts over the whole column), then the rows are joined.

The parts follow openpyxl's own layout element for element and in the same order (inline strings, one cell
format per combination of number format / quote prefix / header style, registered in the order the cells are
written, openpyxl's default theme and cell-value rules), so a workbook written here reads back exactly like one
written cell by cell with openpyxl, and for the usual frames is byte-identical to it.

Only :mod:`zk_forecast.reports.workbook` uses this module; it falls back to openpyxl for frames it does not cover
(no columns, time zone aware timestamps).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from zk_forecast.errors import ZkValueError

__all__ = ["LAYOUTS", "Unsupported", "column_letter", "workbook_parts"]

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"

#: Built-in Excel number format ids (the subset the report workbooks can use).
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10, "@": 49}
#: Format openpyxl gives a cell whose value is a date / datetime and whose format is not a date format yet.
_DATE_DEFAULT = {dt.datetime: "yyyy-mm-dd h:mm:ss", dt.date: "yyyy-mm-dd"}
_EPOCH = dt.datetime(1899, 12, 30)

# cell types of the column arrays
_EMPTY, _STR, _NUM, _BOOL, _EMPTY_STR = 0, 1, 2, 3, 4
# cell looks: plain, header (bold, centred), bold (the lines above and the totals below a table)
_PLAIN, _HEADER, _BOLD = 0, 1, 2
#: Page layouts of :func:`sheet_xml`: A4 in that orientation, one page wide, the header row on every page, the grid
#: printed.
LAYOUTS = ("landscape", "portrait")
#: First characters that make text formula-like (as ``workbook.is_formula_like``).
_FORMULA_FIRST = frozenset("=+-@\t\r")


class Unsupported(Exception):
    """A frame this writer does not cover; the caller writes it with openpyxl instead."""


def column_letter(j: int) -> str:
    """Excel column letters of the 1-based column ``j`` (1 → ``A``, 27 → ``AA``)."""
    out = ""
    while j > 0:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _esc(text: str) -> str:
    """Escape character data (as ElementTree does: ``& < >`` only)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _esc_attr(text: str) -> str:
    """Escape an attribute value (as ElementTree does)."""
    text = _esc(text)
    for a, b in (('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;")):
        if a in text:
            text = text.replace(a, b)
    return text


def _num_text(x: float | int) -> str:
    """A number as openpyxl writes it (``%.16g``)."""
    return f"{x:.16g}"


def _excel_serial(v: dt.date) -> float:
    """Excel serial day number of a date or naive datetime (1900 date system, as openpyxl's ``to_excel``)."""
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            raise Unsupported("time zone aware timestamp")
        d = v
    else:
        d = dt.datetime.combine(v, dt.time())
    days = (d - _EPOCH).days
    if 0 < days <= 60:
        days -= 1
    t = d.time()
    frac = (t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 10**6) / 86400
    return days + frac


def per_unique(values: np.ndarray, fn: Callable[[Any], Any]) -> np.ndarray:
    """``fn`` of every element of a 1-D array, computed once per distinct value (floats told apart bit by bit).

    Parameters
    ----------
    values : numpy.ndarray
        Floats, integers or an object array of str.
    fn : callable
        Applied to the Python value (``float``, ``int`` or ``str``).

    Returns
    -------
    numpy.ndarray of object
        ``fn(v)`` for each element, in order.
    """
    if len(values) == 0:
        return np.empty(0, dtype=object)
    keys = values.view(np.int64) if values.dtype == np.float64 else values
    codes, uniq = pd.factorize(keys)
    uniq = np.asarray(uniq)
    if values.dtype == np.float64:
        uniq = uniq.view(np.float64)
    out = np.empty(len(uniq), dtype=object)
    out[:] = [fn(u) for u in uniq.tolist()]
    return out[codes]


class _Column:
    """One converted column: per cell its type, text (escaped XML text or number text) and style key index.

    ``keys`` lists the style keys ``(number format or None, quote prefix)`` the cells refer to; ``events`` lists,
    per cell with a date value, the number formats openpyxl assigns to it in order (for the format id order).
    """

    def __init__(self, n: int) -> None:
        self.typ = np.zeros(n, dtype=np.int8)
        self.text = np.full(n, "", dtype=object)
        self.style = np.zeros(n, dtype=np.int16)
        self.keys: list[tuple[str | None, bool]] = [(None, False)]
        self.events: dict[int, tuple[str, ...]] = {}

    def key(self, k: tuple[str | None, bool]) -> int:
        if k not in self.keys:
            self.keys.append(k)
        return self.keys.index(k)


def _string_xml(s: str) -> str:
    """Inline-string content ``<t>...</t>`` of a non-empty text (escaped; white space kept at the ends)."""
    e = _esc(s)
    if s[0].isspace() or s[-1].isspace():
        stripped = s.strip()
        if stripped and stripped != s:
            return '<t xml:space="preserve">' + e + "</t>"
    return "<t>" + e + "</t>"


def _string_cells(col: _Column, idx: np.ndarray, texts: Sequence[str], quote_key: int) -> None:
    """Fill string cells ``idx`` with ``texts`` (already cleaned of illegal characters).

    Formula-like text (``= + - @``, tab, CR first) gets the quote-prefix format; text with leading or trailing
    white space gets ``xml:space="preserve"``; the empty string is an empty inline-string cell. Each distinct
    text is converted once.
    """
    if len(idx) == 0:
        return
    arr = np.empty(len(texts), dtype=object)
    arr[:] = list(texts)
    codes, uniq_index = pd.factorize(arr)
    uniq = list(uniq_index)
    u_typ = np.array([_STR if u else _EMPTY_STR for u in uniq], dtype=np.int8)
    u_text = np.empty(len(uniq), dtype=object)
    u_text[:] = [_string_xml(u) if u else "" for u in uniq]
    u_quote = np.array([bool(u) and u[0] in _FORMULA_FIRST for u in uniq], dtype=bool)
    col.typ[idx] = u_typ[codes]
    col.text[idx] = u_text[codes]
    col.style[idx[u_quote[codes]]] = quote_key


def convert_column(s: pd.Series, kind: str, fmt: str) -> _Column:
    """Convert one frame column as :func:`zk_forecast.reports.workbook.write_sheet` would store its cells.

    Parameters
    ----------
    s : pandas.Series
        The column.
    kind : str
        Its kind (``"int"``, ``"money"``, ..., ``"text"``).
    fmt : str
        The number format of ``kind``.

    Returns
    -------
    _Column
    """
    from zk_forecast.reports.workbook import _ILLEGAL, _value

    n = len(s)
    col = _Column(n)
    num_key = col.key((None if kind == "text" else fmt, False))
    quote_key = col.key((None, True))
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        na = s.isna().to_numpy()
        vals = s.fillna(False).to_numpy(dtype=bool)
        ok = ~na
        if kind == "text":
            idx = np.flatnonzero(ok)
            _string_cells(col, idx, np.where(vals[idx], "是", "否").tolist(), quote_key)
        else:
            col.typ[ok] = _BOOL
            col.style[ok] = num_key
            col.text[ok] = np.where(vals[ok], "1", "0").astype(object)
        return col
    if (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype)) \
            and not isinstance(dtype, pd.CategoricalDtype):
        if pd.api.types.is_integer_dtype(dtype) and not s.hasnans:
            arr = s.to_numpy()
            idx = np.arange(n)
            nums = per_unique(arr, _num_text)
        else:
            f = s.to_numpy(dtype=np.float64, na_value=np.nan)
            idx = np.flatnonzero(np.isfinite(f))
            nums = per_unique(f[idx], _num_text)
        col.typ[idx] = _NUM
        col.style[idx] = num_key
        col.text[idx] = nums
        return col
    obj = s.to_numpy(dtype=object)
    if pd.api.types.is_string_dtype(dtype) or (isinstance(dtype, np.dtype) and dtype.kind == "O"):
        na = pd.isna(obj)
        present = obj[~na]
        types = {type(v) for v in present.tolist()}
        if types <= {str, int}:  # text, or whole numbers mixed with text (a level or "not stocked")
            idx = np.flatnonzero(~na)
            is_str = np.fromiter((type(v) is str for v in present.tolist()), dtype=bool, count=len(present))
            texts: list[str] = present[is_str].tolist()
            if _ILLEGAL.search("".join(texts)):
                texts = [_ILLEGAL.sub("", t) for t in texts]
            _string_cells(col, idx[is_str], texts, quote_key)
            if not is_str.all():
                num_idx = idx[~is_str]
                col.typ[num_idx] = _NUM
                col.style[num_idx] = num_key
                col.text[num_idx] = per_unique(present[~is_str], _num_text)
            return col
    # general case: every value through the openpyxl-value rules
    str_idx: list[int] = []
    str_texts: list[str] = []
    for i, v in enumerate(obj.tolist()):
        x = _value(v, kind)
        if x is None:
            continue
        if isinstance(x, str):
            str_idx.append(i)
            str_texts.append(x)
        elif isinstance(x, bool):
            col.typ[i] = _BOOL
            col.text[i] = "1" if x else "0"
            col.style[i] = num_key
        elif isinstance(x, (int, float)):
            if isinstance(x, float) and not math.isfinite(x):
                continue
            col.typ[i] = _NUM
            col.text[i] = _num_text(x)
            col.style[i] = num_key
        elif isinstance(x, dt.date):
            default = _DATE_DEFAULT[dt.datetime if isinstance(x, dt.datetime) else dt.date]
            col.typ[i] = _NUM
            col.text[i] = _num_text(_excel_serial(x))
            col.style[i] = col.key((default if kind == "text" else fmt, False))
            col.events[i] = (default,) if kind == "text" else (default, fmt)
        else:  # pragma: no cover - _value returns only the types above
            raise Unsupported(f"value of type {type(x).__name__}")
    _string_cells(col, np.asarray(str_idx, dtype=np.intp), str_texts, quote_key)
    return col


class _Styles:
    """Cell formats in the order openpyxl registers them: number formats at assignment, cell formats at write."""

    def __init__(self) -> None:
        self.custom: list[str] = []  # custom number formats, ids 164, 165, ...
        self.xfs: list[tuple[int, bool, int]] = [(0, False, _PLAIN)]  # (numFmtId, quote prefix, look)

    def fmt_id(self, fmt: str | None) -> int:
        if fmt is None:
            return 0
        if fmt in _BUILTIN_FORMATS:
            return _BUILTIN_FORMATS[fmt]
        if fmt not in self.custom:
            self.custom.append(fmt)
        return 164 + self.custom.index(fmt)

    def xf(self, key: tuple[int, bool, int]) -> int:
        if key not in self.xfs:
            self.xfs.append(key)
        return self.xfs.index(key)

    def xml(self) -> str:
        nf = "".join(f'<numFmt numFmtId="{164 + i}" formatCode="{_esc_attr(f)}" />' for i, f in enumerate(self.custom))
        bold = any(h for _, _, h in self.xfs)  # any header (1) or bold (2) cell
        fonts = ('<font><name val="Calibri" /><family val="2" /><color theme="1" /><sz val="11" /><scheme val="minor" />'
                 "</font>" + ("<font><b val=\"1\" /></font>" if bold else ""))
        xfs = []
        for fid, quote, look in self.xfs:
            q = "1" if quote else "0"
            if look == _BOLD:
                xfs.append(f'<xf numFmtId="{fid}" fontId="1" fillId="0" borderId="0" pivotButton="0" quotePrefix="{q}" '
                           'xfId="0" />')
            elif look == _HEADER:
                xfs.append(f'<xf numFmtId="{fid}" fontId="1" fillId="0" borderId="0" applyAlignment="1" pivotButton="0" '
                           f'quotePrefix="{q}" xfId="0"><alignment horizontal="center" vertical="center" /></xf>')
            else:
                xfs.append(f'<xf numFmtId="{fid}" fontId="0" fillId="0" borderId="0" pivotButton="0" quotePrefix="{q}" '
                           'xfId="0" />')
        nfs = f'<numFmts count="{len(self.custom)}">{nf}</numFmts>' if self.custom else '<numFmts count="0" />'
        return (f'<styleSheet xmlns="{_MAIN}">{nfs}<fonts count="{2 if bold else 1}">{fonts}</fonts>'
                '<fills count="2"><fill><patternFill /></fill><fill><patternFill patternType="gray125" /></fill></fills>'
                '<borders count="1"><border><left /><right /><top /><bottom /><diagonal /></border></borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" /></cellStyleXfs>'
                f'<cellXfs count="{len(self.xfs)}">{"".join(xfs)}</cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0" hidden="0" /></cellStyles>'
                '<tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16" />'
                f"<colors><indexedColors>{_INDEXED}</indexedColors></colors></styleSheet>")


_INDEXED = "".join(f'<rgbColor rgb="{c}" />' for c in (
    "00000000 00FFFFFF 00FF0000 0000FF00 000000FF 00FFFF00 00FF00FF 0000FFFF 00000000 00FFFFFF 00FF0000 0000FF00 "
    "000000FF 00FFFF00 00FF00FF 0000FFFF 00800000 00008000 00000080 00808000 00800080 00008080 00C0C0C0 00808080 "
    "009999FF 00993366 00FFFFCC 00CCFFFF 00660066 00FF8080 000066CC 00CCCCFF 00000080 00FF00FF 00FFFF00 0000FFFF "
    "00800080 00800000 00008080 000000FF 0000CCFF 00CCFFFF 00CCFFCC 00FFFF99 0099CCFF 00FF99CC 00CC99FF 00FFCC99 "
    "003366FF 0033CCCC 0099CC00 00FFCC00 00FF9900 00FF6600 00666699 00969696 00003366 00339966 00003300 00333300 "
    "00993300 00993366 00333399 00333333").split())


def _first_use_order(codes: list[np.ndarray], n_rows: int) -> list[int]:
    """Distinct non-zero codes of a row-major cell grid (one array per column) in the order they first occur."""
    m = len(codes)
    first: dict[int, int] = {}
    for j, c in enumerate(codes):
        vals, pos = np.unique(c, return_index=True)
        for v, p in zip(vals.tolist(), pos.tolist()):
            if v == 0:
                continue
            flat = p * m + j
            if v not in first or flat < first[v]:
                first[v] = flat
    return sorted(first, key=first.__getitem__)


def _register_formats(styles: _Styles, columns: list[_Column], n: int) -> None:
    """Register the custom number formats of ``n`` rows of cells in the order openpyxl assigns them (row-major,
    a date cell assigning its default format first)."""
    m = len(columns)
    fmt_first: dict[str, int] = {}
    for j, c in enumerate(columns):
        for k_i, (fmt, _) in enumerate(c.keys):
            if fmt is None or fmt in _BUILTIN_FORMATS:
                continue
            cells = np.flatnonzero(c.style == k_i)
            if len(cells):
                p = int(cells[0]) * m * 2 + j * 2 + 1
                fmt_first[fmt] = min(fmt_first.get(fmt, p), p)
        for i, ev in c.events.items():
            for slot, fmt in enumerate(ev):
                if fmt not in _BUILTIN_FORMATS:
                    p = i * m * 2 + j * 2 + slot
                    fmt_first[fmt] = min(fmt_first.get(fmt, p), p)
    for fmt in sorted(fmt_first, key=fmt_first.__getitem__):
        styles.fmt_id(fmt)


def _register_cells(styles: _Styles, columns: list[_Column], n: int, look: int) -> list[list[str]]:
    """Register the cell formats of ``n`` rows of cells in first-use order; the ``s`` attribute per column × key."""
    gkey = [[(styles.fmt_id(f), q, look) for f, q in c.keys] for c in columns]
    # codes: per column, the local key index; map (column, key) → a grid-wide code to find first uses
    code_of: dict[tuple[int, bool, int], int] = {}
    grid: list[np.ndarray] = []
    for j, c in enumerate(columns):
        table = np.zeros(len(c.keys), dtype=np.int32)
        for k_i, gk in enumerate(gkey[j]):
            if gk == (0, False, _PLAIN):
                continue
            table[k_i] = code_of.setdefault(gk, len(code_of) + 1)
        grid.append(table[c.style])
    inv = {v: k for k, v in code_of.items()}
    for code in _first_use_order(grid, n):
        styles.xf(inv[code])
    sattr: list[list[str]] = []
    for j in range(len(columns)):
        row_attrs = []
        for gk in gkey[j]:  # keys no cell uses stay unregistered
            x = styles.xfs.index(gk) if gk in styles.xfs else 0
            row_attrs.append(f' s="{x}"' if x else "")
        sattr.append(row_attrs)
    return sattr


_TAILS = {_STR: ' t="inlineStr"><is>{}</is></c>', _NUM: ' t="n"><v>{}</v></c>', _BOOL: ' t="b"><v>{}</v></c>',
          _EMPTY_STR: ' t="inlineStr" />{}'}


def _cells(columns: list[_Column], sattr: list[list[str]], letters: list[str], rows: list[str]) -> list[list[str]]:
    """The ``<c>`` elements of every column (an empty string for an empty cell)."""
    n = len(rows)
    cells_by_col = []
    for j, c in enumerate(columns):
        L = letters[j]
        attrs = sattr[j]
        text = c.text.tolist()
        combos = np.unique(c.typ.astype(np.int32) * 4096 + c.style.astype(np.int32)) if n else np.array([], int)
        if len(combos) == 1 and int(combos[0]) // 4096 != _EMPTY:
            # one cell type and one format in the whole column: a single template
            kind_id, sty = divmod(int(combos[0]), 4096)
            head, tail = (f'"{attrs[sty]}' + _TAILS[kind_id]).split("{}")
            out = [f'<c r="{L}{r}{head}{x}{tail}' for r, x in zip(rows, text)]
        else:
            typ = c.typ.tolist()
            stl = c.style.tolist()
            split = {k: v.split("{}") for k, v in _TAILS.items()}
            out = []
            for i in range(n):
                if typ[i] == _EMPTY:
                    out.append("")
                else:
                    head, tail = split[typ[i]]
                    out.append(f'<c r="{L}{rows[i]}"{attrs[stl[i]]}{head}{text[i]}{tail}')
        cells_by_col.append(out)
    return cells_by_col


def _inline(ref: str, x: int, text: str) -> str:
    """A header or note cell: inline string ``text`` with format ``x``."""
    s = f' s="{x}"' if x else ""
    if text == "":
        return f'<c r="{ref}"{s} t="inlineStr" />'
    stripped = text.strip()
    t = ('<t xml:space="preserve">' if stripped and stripped != text else "<t>") + _esc(text) + "</t>"
    return f'<c r="{ref}"{s} t="inlineStr"><is>{t}</is></c>'


def sheet_xml(styles: _Styles, headers: list[str], columns: list[_Column], n: int, widths: list[float], *,
              above: Sequence[str] = (), below: list[_Column] | None = None, layout: str | None = None) -> str:
    """The worksheet part of one sheet, registering its formats in ``styles``.

    Rows: the ``above`` lines (bold text in column A; an empty line is an empty row), the header row, ``n`` data
    rows, then, after one empty row, the ``below`` rows (bold; one converted column per frame column). The panes
    freeze under the header row and the auto-filter spans the header and data rows. ``layout`` (:data:`LAYOUTS`)
    sets A4 in that orientation, fitted to one page wide, with the cell grid printed.
    """
    from zk_forecast.reports.workbook import is_formula_like

    m = len(columns)
    letters = [column_letter(j + 1) for j in range(m)]
    h = len(above) + 1  # the header row
    nb = len(below[0].typ) if below else 0
    filled = np.flatnonzero(np.any([c.typ != _EMPTY for c in below], axis=0)) if nb and below else np.array([], int)
    last_row = h + n + (int(filled[-1]) + 2 if len(filled) else 0)  # rows below that hold no cell do not count
    first_row = next((r for r, line in enumerate(above, 1) if line), h)
    if layout is not None and layout not in LAYOUTS:
        raise ZkValueError(f"layout must be one of {LAYOUTS} or None; got {layout!r}.")
    # number formats are assigned cell by cell, row-major: the data rows, then the rows below
    _register_formats(styles, columns, n)
    if below:
        if any(c.events for c in below):
            raise Unsupported("dates in the rows below the table")
        _register_formats(styles, below, nb)
    # cell formats are registered when the cells are written: the lines above, the header row, the data rows
    for line in above:
        if line:
            styles.xf((0, is_formula_like(line), _BOLD))
    for head_text in headers:
        styles.xf((0, is_formula_like(head_text), _HEADER))
    sattr = _register_cells(styles, columns, n, _PLAIN)
    battr = _register_cells(styles, below, nb, _BOLD) if below else []

    fit = '<pageSetUpPr fitToPage="1" />' if layout else "<pageSetUpPr />"
    parts = [f'<worksheet xmlns="{_MAIN}"><sheetPr><outlinePr summaryBelow="1" summaryRight="1" />{fit}'
             f'</sheetPr><dimension ref="A{first_row}:{letters[-1]}{last_row}" /><sheetViews><sheetView workbookViewId="0">'
             f'<pane ySplit="{h}" topLeftCell="A{h + 1}" activePane="bottomLeft" state="frozen" />'
             '<selection pane="bottomLeft" activeCell="A1" sqref="A1" /></sheetView></sheetViews>'
             '<sheetFormatPr baseColWidth="8" defaultRowHeight="15" /><cols>']
    parts += [f'<col width="{_num_text(w)}" customWidth="1" min="{j}" max="{j}" />' for j, w in enumerate(widths, 1)]
    parts.append("</cols><sheetData>")
    for r, line in enumerate(above, 1):
        if line:
            x = styles.xf((0, is_formula_like(line), _BOLD))
            parts.append(f'<row r="{r}">' + _inline(f"A{r}", x, line) + "</row>")
    parts.append(f'<row r="{h}">')
    for L, head_text in zip(letters, headers):
        parts.append(_inline(f"{L}{h}", styles.xf((0, is_formula_like(head_text), _HEADER)), head_text))
    parts.append("</row>")
    rows = [str(i) for i in range(h + 1, h + n + 1)]
    if m:
        for rn, row_cells in zip(rows, zip(*_cells(columns, sattr, letters, rows))):
            parts.append(f'<row r="{rn}">' + "".join(row_cells) + "</row>")
    if below:
        brows = [str(i) for i in range(h + n + 2, h + n + 2 + nb)]
        for rn, row_cells in zip(brows, zip(*_cells(below, battr, letters, brows))):
            if any(row_cells):
                parts.append(f'<row r="{rn}">' + "".join(row_cells) + "</row>")
    grid = '<printOptions gridLines="1" />' if layout else ""
    parts.append(f'</sheetData><autoFilter ref="A{h}:{letters[-1]}{h + n}" />{grid}<pageMargins left="0.75" '
                 'right="0.75" top="1" bottom="1" header="0.5" footer="0.5" />')
    if layout:
        parts.append(f'<pageSetup orientation="{layout}" paperSize="9" fitToHeight="0" fitToWidth="1" />')
    parts.append("</worksheet>")
    return "".join(parts)


def workbook_parts(titles: list[str], sheets: list[str], styles: _Styles, n_rows: list[int], n_cols: list[int], *,
                   title: str | None, created: dt.datetime, creator: str = "zk_forecast",
                   header_rows: list[int] | None = None,
                   print_titles: list[bool] | None = None) -> list[tuple[str, bytes]]:
    """All zip entries of the workbook, in openpyxl's order.

    Parameters
    ----------
    titles : list of str
        Sheet titles (unique, valid).
    sheets : list of str
        Worksheet parts from :func:`sheet_xml`.
    styles : _Styles
        The formats the sheets registered.
    n_rows, n_cols : list of int
        Data rows and columns per sheet (for the auto-filter names).
    title : str, optional
        Workbook title property.
    created : datetime
        Created / modified time.
    creator : str
        Creator and last-modified-by.
    header_rows : list of int, optional
        The header row of each sheet (1-based; default 1): the auto-filter names start there.
    print_titles : list of bool, optional
        Per sheet, whether its header row is repeated on every printed page.

    Returns
    -------
    list of (name, bytes)
    """
    import openpyxl
    from openpyxl.writer.theme import theme_xml

    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    app = ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           f"<Application>Microsoft Excel Compatible / Openpyxl {openpyxl.__version__}</Application>"
           "<AppVersion>3.1</AppVersion></Properties>")
    core = ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:creator>{_esc(creator)}</dc:creator>" + (f"<dc:title>{_esc(title)}</dc:title>" if title else "")
            + f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            f"<cp:lastModifiedBy>{_esc(creator)}</cp:lastModifiedBy></cp:coreProperties>")
    k = len(sheets)
    sheet_tags = "".join(f'<sheet name="{_esc_attr(t)}" sheetId="{i}" state="visible" r:id="rId{i}" />'
                         for i, t in enumerate(titles, 1))
    heads = header_rows or [1] * k
    repeat = print_titles or [False] * k
    names = ""
    for i, (t, r, c, h, rep) in enumerate(zip(titles, n_rows, n_cols, heads, repeat)):
        quoted = _esc(chr(39) + t.replace(chr(39), chr(39) * 2) + chr(39))
        names += (f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                  f"{quoted}!$A${h}:${column_letter(c)}${h + r}</definedName>")
        if rep:
            names += f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{quoted}!${h}:${h}</definedName>'

    workbook = (f'<workbook xmlns:r="{_REL}" xmlns="{_MAIN}"><workbookPr /><workbookProtection /><bookViews>'
                '<workbookView visibility="visible" minimized="0" showHorizontalScroll="1" showVerticalScroll="1" '
                'showSheetTabs="1" tabRatio="600" firstSheet="0" activeTab="0" autoFilterDateGrouping="1" />'
                f"</bookViews><sheets>{sheet_tags}</sheets>"
                + (f"<definedNames>{names}</definedNames>" if names else "<definedNames />")
                + '<calcPr calcId="124519" fullCalcOnLoad="1" /></workbook>')
    wb_rels = (f'<Relationships xmlns="{_PKG_REL}">'
               + "".join(f'<Relationship Type="{_REL}/worksheet" Target="/xl/worksheets/sheet{i}.xml" Id="rId{i}" />'
                         for i in range(1, k + 1))
               + f'<Relationship Type="{_REL}/styles" Target="styles.xml" Id="rId{k + 1}" />'
               f'<Relationship Type="{_REL}/theme" Target="theme/theme1.xml" Id="rId{k + 2}" /></Relationships>')
    rels = (f'<Relationships xmlns="{_PKG_REL}"><Relationship Type="{_REL}/officeDocument" Target="xl/workbook.xml" '
            'Id="rId1" /><Relationship Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml" Id="rId2" />'
            f'<Relationship Type="{_REL}/extended-properties" Target="docProps/app.xml" Id="rId3" /></Relationships>')
    types = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />'
             '<Default Extension="xml" ContentType="application/xml" />'
             f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml" />'
             f'<Override PartName="/xl/theme/theme1.xml" ContentType="{_CT}.theme+xml" />'
             '<Override PartName="/docProps/core.xml" '
             'ContentType="application/vnd.openxmlformats-package.core-properties+xml" />'
             f'<Override PartName="/docProps/app.xml" ContentType="{_CT}.extended-properties+xml" />'
             + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                       f'ContentType="{_CT}.spreadsheetml.worksheet+xml" />' for i in range(1, k + 1))
             + f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.spreadsheetml.sheet.main+xml" /></Types>')
    out = [("docProps/app.xml", app), ("docProps/core.xml", core), ("xl/theme/theme1.xml", theme_xml)]
    out += [(f"xl/worksheets/sheet{i}.xml", s) for i, s in enumerate(sheets, 1)]
    out += [("xl/styles.xml", styles.xml()), ("_rels/.rels", rels), ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", wb_rels), ("[Content_Types].xml", types)]
    return [(name, text.encode("utf-8")) for name, text in out]


def new_styles() -> _Styles:
    """An empty format registry for one workbook."""
    return _Styles()
