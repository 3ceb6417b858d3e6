"""Readers for raw exports: CSV (UTF-8, UTF-8 with BOM, GB18030/GBK, UTF-16) and xlsx, into string columns.

A reader does not interpret values: every cell comes back as text (or null when empty), with the spreadsheet row
number of each data row so that a reject can point the clerk at the exact row. The format is detected from the
bytes, not from the file extension, and so is the encoding.

Row counting: the data rows of a file are the rows from the one after the header down to the last row that has
any value. Trailing empty rows are not rows; an empty row between data rows is a row (it is rejected as blank).
Row numbers count lines as a spreadsheet does (the first line of the file is row 1); a record whose quoted value
holds line breaks has the number of the line it starts on, and the records after it keep their own line numbers.

Physical records: a CSV record is one line, unless a quoted value with line breaks joins a few lines into one
record of exactly the header's width. A quote that never closes (a remark that starts with ``"``) costs only its
own line, refused with its line number; the lines after it are read as rows, so ``rows_in`` counts every line.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import re
import threading
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from zk_forecast.errors import ReadError

__all__ = ["RawTable", "WorkbookLimits", "check_workbook", "detect_encoding", "read_export", "SUPPORTED_SUFFIXES"]

#: Names of export files. An .xls is listed so that it is not skipped unseen: an Excel 97-2003 workbook gets a
#: message to save it as .xlsx, and the tab-separated text that many ERPs name .xls is read as text.
SUPPORTED_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".xls")
HEADER_SCAN_ROWS = 30

_XLSX_MAGIC = b"PK\x03\x04"
#: What can escape from reading a damaged workbook: a bad zip, a bad deflate stream, XML cut short, a missing part.
_XLSX_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zlib.error, ElementTree.ParseError, KeyError, IndexError, AttributeError, OSError,
    ValueError, EOFError, TypeError,
)
_CSV_DEFAULT_LIMIT = 131072  # the csv module's field size limit unless raised
_CSV_LIMIT_LOCK = threading.Lock()
_LINE_END = re.compile(r"\r\n|\r|\n")
_LINE_SPLIT = re.compile(r"(\r\n|\r|\n)")  # the same, keeping each line end
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class RawTable:
    """The text content of one export.

    Attributes
    ----------
    path : Path
        The file read.
    headers : list of str
        Header cells as written in the file (stripped), in file order.
    data : pyarrow.Table
        One string column per header (duplicated or empty headers get unique placeholder names, see
        ``column_names``), one row per data row, null for an empty cell.
    column_names : list of str
        The names of ``data``'s columns, parallel to ``headers``.
    row_numbers : numpy.ndarray of int64
        Spreadsheet row number of each row of ``data`` [1-based].
    invalid_rows : list of (int, str, str)
        Rows that could not be split into the header's columns: (row number, text, reason).
    encoding : str
        The text encoding found (``"xlsx"`` for workbooks).
    header_row : int
        Spreadsheet row number of the header [1-based].
    notes : list of str
        Things the reader noticed and the user should know (an encoding that differed from the declared one...).
    """

    path: Path
    headers: list[str]
    data: pa.Table
    column_names: list[str]
    row_numbers: np.ndarray
    invalid_rows: list[tuple[int, str, str]] = field(default_factory=list)
    encoding: str = "utf-8"
    header_row: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        """Data rows in the file, including rows that could not be split [rows]."""
        return int(self.data.num_rows) + len(self.invalid_rows)


def normalize_header(text: str) -> str:
    """The form in which headers and aliases are compared: NFKC, lower case, letters/digits/CJK only."""
    t = unicodedata.normalize("NFKC", str(text)).lower()
    return "".join(ch for ch in t if ch.isalnum())


def detect_encoding(raw: bytes, declared: str | None = None) -> tuple[str, str, list[str]]:
    """Decode CSV bytes, detecting the encoding from the content.

    Parameters
    ----------
    raw : bytes
        The file content.
    declared : str, optional
        An encoding the mapping file declares; tried first. When it fails the content decides, and a note says so.

    Returns
    -------
    text : str
        The decoded text, without a byte-order mark.
    encoding : str
        ``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030``.
    notes : list of str
        A note when the declared encoding did not fit.
    """
    notes: list[str] = []
    if declared:
        try:
            text = raw.decode(declared)
            return text.lstrip("\ufeff"), declared, notes
        except (UnicodeDecodeError, LookupError) as exc:
            notes.append(
                f"declared encoding {declared!r} does not fit the file ({exc.__class__.__name__}); "
                "the encoding was detected from the content instead / 声明的编码与文件不符，已按内容识别"
            )
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig", notes
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16"), "utf-16", notes
    try:
        return raw.decode("utf-8"), "utf-8", notes
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030"), "gb18030", notes
    except UnicodeDecodeError as exc:
        raise ReadError(
            f"cannot decode the file as UTF-8 or GB18030 (byte {exc.start}); "
            "save it again from Excel as 'CSV UTF-8' / 无法识别文件编码，请另存为 UTF-8 CSV"
        ) from None


_HEAD_BYTES = 1 << 20
_HEAD_CHARS = 1 << 18


def _decode_head(head: bytes, codec: str, whole: bool) -> str | None:
    """Decode a sample of a file; a multibyte character cut at the end of the sample is not an error."""
    try:
        return head.decode(codec)
    except UnicodeDecodeError as exc:
        if not whole and exc.start >= len(head) - 4:
            try:
                return head[: exc.start].decode(codec)
            except UnicodeDecodeError:
                return None
        return None


def _sample_encoding(raw: bytes) -> tuple[str, str] | None:
    """Encoding from the first megabyte: (sample text, ``utf-8``/``utf-8-sig``/``gb18030``), or None for UTF-16.

    The reader then hands the bytes to arrow unchanged (or transcoding from GB18030); a later part of the file
    that does not fit makes arrow fail, and the reader falls back to decoding the whole file.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    bom = raw.startswith(b"\xef\xbb\xbf")
    body = raw[3:] if bom else raw
    head = body[:_HEAD_BYTES]
    whole = len(head) == len(body)
    text = _decode_head(head, "utf-8", whole)
    if text is not None:
        return text, "utf-8-sig" if bom else "utf-8"
    if bom:
        return None
    text = _decode_head(head, "gb18030", whole)
    if text is not None:
        return text, "gb18030"
    return None


def _unique_names(headers: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        base = h if h else f"__empty_{i + 1}"
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else f"{base}__dup{n}")
    return out


def _pick_header(rows: Sequence[Sequence[object]], score: Callable[[list[str]], int] | None) -> int:
    """Index of the header row among the first rows: the one ``score`` likes best, else the first non-empty."""
    best_i, best_s = -1, 0
    first_nonempty = -1
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
        if not cells:
            continue
        if first_nonempty < 0:
            first_nonempty = i
        if score is not None:
            s = score(cells)
            if s > best_s:
                best_i, best_s = i, s
    if best_i >= 0:
        return best_i
    return first_nonempty


def read_export(
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    header_score: Callable[[list[str]], int] | None = None,
    limits: WorkbookLimits | None = None,
) -> RawTable:
    """Read one export file into text columns.

    Parameters
    ----------
    path : str or Path
        A CSV or xlsx file; the format is taken from the content.
    encoding : str, optional
        Declared text encoding of a CSV; detected when absent or wrong.
    sheet : str, optional
        Worksheet to read from a workbook; by default the first sheet whose header ``header_score`` recognises.
    header_score : callable, optional
        Scores a candidate header row (list of cell texts); the best-scoring row among the first 30 is the header,
        so that title lines above the header are skipped.
    limits : WorkbookLimits, optional
        What a workbook may hold before it is read (default :class:`WorkbookLimits()`).

    Raises
    ------
    ReadError
        The file is empty, damaged, in an unsupported format or has no header row.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"{path.name}: cannot open the file ({exc.strerror}); check that it exists and is readable") from None
    if len(raw) == 0:
        raise ReadError(f"{path.name}: the file is empty (0 bytes); export it again / 文件为空，请重新导出")
    if raw.startswith(_OLE_MAGIC):
        raise ReadError(
            f"{path.name}: old Excel 97-2003 (.xls) format is not read; open it in Excel and save as .xlsx "
            "/ 不支持旧版 .xls 格式，请另存为 .xlsx"
        )
    if raw.startswith(_XLSX_MAGIC):
        return _read_xlsx(path, raw, sheet=sheet, header_score=header_score, limits=limits)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise ReadError(
            f"{path.name}: the file is named .xlsx but is not a workbook (it may be truncated or damaged); "
            "export it again / 文件已损坏或不完整，请重新导出"
        )
    return _read_csv(path, raw, encoding=encoding, header_score=header_score)


def _split_lines(lines: list[str], delim: str) -> list[list[str]]:
    """Split CSV lines with the csv module, whose field limit (131,072 characters) is raised for long cells."""
    longest = max((len(ln) for ln in lines), default=0) + 1
    if longest <= _CSV_DEFAULT_LIMIT:
        return list(csv.reader(lines, delimiter=delim))
    with _CSV_LIMIT_LOCK:  # the limit is global to the process and files are read in threads
        old = csv.field_size_limit(max(longest, csv.field_size_limit()))
        try:
            return list(csv.reader(lines, delimiter=delim))
        finally:
            csv.field_size_limit(old)


def _sniff_delimiter(sample_lines: list[str]) -> str:
    counts = {d: sum(line.count(d) for line in sample_lines) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv(
    path: Path, raw: bytes, *, encoding: str | None, header_score: Callable[[list[str]], int] | None
) -> RawTable:
    sampled = None if encoding else _sample_encoding(raw)
    if sampled is not None:  # the bytes go to the arrow reader as they are (transcoded there when GB18030)
        text, enc, notes = sampled[0], sampled[1], list[str]()
    else:
        text, enc, notes = detect_encoding(raw, encoding)
    if "\x00" in text[:4096]:
        raise ReadError(f"{path.name}: the file holds binary data, not text; export it again as CSV or xlsx")
    # \r\n (Windows), \n and a lone \r (old Mac exports) all end a line, as they do for the arrow reader below
    head_lines = _LINE_END.split(text[:_HEAD_CHARS], HEADER_SCAN_ROWS + 1)[:HEADER_SCAN_ROWS]
    delim = _sniff_delimiter([ln for ln in head_lines if ln.strip()][:10])
    try:
        head_rows = _split_lines(head_lines, delim)
    except csv.Error as exc:
        raise ReadError(f"{path.name}: cannot split the first lines into columns ({exc})") from None
    h = _pick_header(head_rows, header_score)
    if h < 0:
        raise ReadError(f"{path.name}: the file has no header row (only empty lines); export it again with headers")
    file_headers = [c.strip().lstrip("\ufeff") for c in head_rows[h]]
    headers = list(file_headers)
    while headers and not headers[-1]:
        headers.pop()
    # Empty header cells at the end of the line (a trailing delimiter, as many exports write on every line) are
    # read as columns too, so that lines ending in the same empty cells fit; a value under them is refused below.
    read_names = _unique_names(file_headers)
    names = read_names[: len(headers)]
    ncol, nread = len(names), len(read_names)
    arrow_encoding = "utf8"
    if sampled is not None:
        body = raw[3:] if enc == "utf-8-sig" else raw
        arrow_encoding = "gb18030" if enc == "gb18030" else "utf8"
    else:
        body = text.encode("utf-8")
    if not body.endswith((b"\n", b"\r")):  # arrow cannot skip a header line that has no line end
        body = body + (b"\n" if arrow_encoding == "utf8" else "\n".encode(enc))
    invalid: list[tuple[int | None, str, int]] = []

    def handler(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    def _read(threads: bool) -> pa.Table:
        invalid.clear()
        return pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(
                use_threads=threads, skip_rows=h + 1, column_names=read_names, block_size=1 << 22,
                skip_rows_after_names=0, encoding=arrow_encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim, invalid_row_handler=handler, ignore_empty_lines=False, newlines_in_values=True
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in read_names}, strings_can_be_null=True, null_values=[""],
                quoted_strings_can_be_null=True, include_columns=read_names,
            ),
        )

    try:
        try:
            table = _read(True)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            if sampled is None:
                raise
            # the sample looked like one encoding but a later part of the file is another: decode it all
            text, enc, notes = detect_encoding(raw, None)
            body, arrow_encoding, sampled = text.encode("utf-8"), "utf8", None
            if not body.endswith((b"\n", b"\r")):
                body = body + b"\n"
            table = _read(True)
        if any(num is None for num, _, _ in invalid):
            table = _read(False)
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise ReadError(f"{path.name}: the CSV cannot be parsed ({exc}); check quoting, or export it again") from None
    invalid_rows: list[tuple[int, str, str]] = []
    if table.num_rows + len(invalid) != _line_ends(body) - (h + 1):
        # Some record spans several lines: a quoted value with line breaks, or a quote that never closes and would
        # swallow the lines after it. Read record by record from the physical lines instead (see _by_lines).
        pieces = _LINE_SPLIT.split(body.decode(arrow_encoding))
        lines, ends = pieces[0::2][h + 1:], pieces[1::2][h + 1:]
        if lines and lines[-1] == "":
            lines.pop()
        table, invalid, row_numbers = _by_lines(lines, ends, h + 2, delim, read_names, invalid_rows)
    else:
        # Physical line numbers: data line i (0-based, valid or invalid) sits at line h + 2 + i.
        bad_lines = sorted({int(num) for num, _, _ in invalid if num is not None})
        total = table.num_rows + len(bad_lines)
        all_lines = np.arange(h + 2, h + 2 + total, dtype=np.int64)
        row_numbers = np.setdiff1d(all_lines, np.asarray(bad_lines, dtype=np.int64), assume_unique=True)
    # Rows short of values (trailing empty cells left out, as some exports do) are padded with empty cells, and
    # rows that only add empty cells are cut back; rows with more values than the header are rejected.
    short: list[tuple[int, list[str]]] = []
    for num, txt, actual in invalid:
        line = int(num) if num is not None else -1
        if line > 0:
            try:
                cells = _split_lines([txt], delim)[0]
            except (csv.Error, IndexError):
                cells = []
            if len(cells) == actual and not any(c.strip() for c in cells[ncol:]):
                short.append((line, (cells + [""] * nread)[:nread]))
                continue
        invalid_rows.append((line, txt, f"the row has {actual} values but the header has {ncol} columns / 列数与表头不符"))
    if short:
        extra = pa.table({n: pa.array([(r[j].strip() or None) for _, r in short], type=pa.string())
                          for j, n in enumerate(read_names)})
        table = pa.concat_tables([table, extra])
        row_numbers = np.concatenate([row_numbers, np.asarray([ln for ln, _ in short], dtype=np.int64)])
        order = np.argsort(row_numbers, kind="stable")
        table, row_numbers = table.take(pa.array(order)), row_numbers[order]
    if nread > ncol:
        table, row_numbers = _refuse_beyond_header(table, row_numbers, ncol, delim, invalid_rows)
    table, row_numbers = _drop_trailing_empty(table, row_numbers)
    return RawTable(path, headers, table, names, row_numbers, invalid_rows, enc, h + 1, notes)


#: Longest record a quoted value may stretch over [lines]; a quote still open after that many lines is broken.
MAX_RECORD_LINES = 50


def _line_ends(body: bytes) -> int:
    """Number of line ends (``\\r\\n``, ``\\n`` or a lone ``\\r``) in UTF-8 or GB18030 bytes."""
    return body.count(b"\n") + body.count(b"\r") - body.count(b"\r\n")


def _one_record(text: str, delim: str) -> list[str] | None:
    """The cells of ``text`` read as one CSV record, or None when a quoted value is still open at its end."""
    try:
        rows = list(csv.reader([text], delimiter=delim, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return None
        rows = list(csv.reader([text], delimiter=delim))  # a stray quote inside a value: read leniently
    return rows[0] if rows else [""]


def _by_lines(
    lines: list[str], ends: list[str], first: int, delim: str, names: list[str],
    invalid_rows: list[tuple[int, str, str]],
) -> tuple[pa.Table, list[tuple[int | None, str, int]], np.ndarray]:
    """Records of a CSV read from its physical lines, so that a broken quote costs at most its own line.

    A line whose quotes are balanced is one record. A line that opens a quote it does not close is joined with
    the lines after it until the quote closes, and the result is one record when it closes within
    :data:`MAX_RECORD_LINES` lines, none of the lines it takes in is a full row of its own (as many delimiters
    as the header and no quote), and it has exactly the header's number of values (a value with line breaks).
    Otherwise that line alone is refused (appended to ``invalid_rows`` with its line number and the reason) and
    reading goes on at the next line, so the rows after a stray quote are still read and counted.

    Returns the table of the records with as many values as ``names``, the other records as the reader's
    invalid rows ``(line, text, values)``, and the line number on which each record of the table starts.
    ``ends`` are the line ends after each line, kept inside a value that spans lines.
    """

    def joined(i: int, j: int) -> str:
        return "".join(lines[k] + ends[k] for k in range(i, j)) + lines[j]

    ncol = len(names)
    cols: list[list[str | None]] = [[] for _ in range(ncol)]
    nums: list[int] = []
    invalid: list[tuple[int | None, str, int]] = []
    longest = max((len(ln) for ln in lines), default=0) * 2 + 1
    with _CSV_LIMIT_LOCK:
        old = csv.field_size_limit(max(longest, csv.field_size_limit()))
        try:
            i, n = 0, len(lines)
            while i < n:
                line, j = lines[i], i
                cells = line.split(delim) if '"' not in line else _one_record(line, delim)
                while cells is None and j + 1 < n and j + 1 - i < MAX_RECORD_LINES:
                    j += 1
                    nxt = lines[j]
                    if '"' not in nxt and nxt.count(delim) == ncol - 1 and ncol > 1:
                        break  # the next line is a whole row of its own: the quote on line i is broken
                    cells = _one_record(joined(i, j), delim)
                if cells is None or (j > i and len(cells) != ncol):
                    invalid_rows.append((first + i, line[:200], "a quote opened in this row is never closed, so "
                                         "the row cannot be split into columns; the rows after it are read "
                                         "/ 本行引号未闭合，无法分列"))
                    i += 1
                    continue
                if len(cells) == ncol:
                    for k, c in enumerate(cells):
                        cols[k].append(c if c != "" else None)
                    nums.append(first + i)
                else:
                    invalid.append((first + i, joined(i, j), len(cells)))
                i = j + 1
        finally:
            csv.field_size_limit(old)
    table = pa.table({nm: pa.array(c, type=pa.string()) for nm, c in zip(names, cols)})
    return table, invalid, np.asarray(nums, dtype=np.int64)


def _refuse_beyond_header(
    table: pa.Table, row_numbers: np.ndarray, ncol: int, delim: str, invalid_rows: list[tuple[int, str, str]]
) -> tuple[pa.Table, np.ndarray]:
    """Drop the columns read past the last header; a row with a value there becomes an invalid row."""
    beyond = np.zeros(table.num_rows, dtype=bool)
    for col in table.columns[ncol:]:
        beyond |= pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(col)), 0), False).to_numpy(
            zero_copy_only=False)
    if beyond.any():
        for i in np.flatnonzero(beyond):
            cells = ["" if v is None else str(v) for v in (c[int(i)].as_py() for c in table.columns)]
            invalid_rows.append((int(row_numbers[i]), delim.join(cells),
                                 f"the row has values beyond the {ncol} header columns / 数据超出表头列数"))
        invalid_rows.sort(key=lambda r: r[0])
        table, row_numbers = table.filter(pa.array(~beyond)), row_numbers[~beyond]
    return table.select(list(range(ncol))), row_numbers


def _drop_trailing_empty(table: pa.Table, row_numbers: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    if table.num_rows == 0 or table.num_columns == 0:
        return table, row_numbers
    tail = min(table.num_rows, 64)
    last_rows = table.slice(table.num_rows - tail, tail)
    if not _all_empty_last(last_rows):
        return table, row_numbers
    nonempty = np.zeros(table.num_rows, dtype=bool)
    for col in table.columns:
        trimmed = pc.utf8_trim_whitespace(col)
        nonempty |= pc.fill_null(pc.greater(pc.utf8_length(trimmed), 0), False).to_numpy(zero_copy_only=False)
    idx = np.flatnonzero(nonempty)
    last = int(idx[-1]) + 1 if idx.size else 0
    if last == table.num_rows:
        return table, row_numbers
    return table.slice(0, last), row_numbers[:last]


def _all_empty_last(tail: pa.Table) -> bool:
    """True when the last row of ``tail`` has no value (so trailing empty rows may need dropping)."""
    last = tail.slice(tail.num_rows - 1, 1)
    return all(v is None or not str(v).strip() for v in (c[0].as_py() for c in last.columns))


def _cell_text(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v if v.strip() else None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, _dt.datetime):
        if v.hour == v.minute == v.second == v.microsecond == 0:
            return v.strftime("%Y-%m-%d")
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, _dt.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, _dt.time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, float):
        if v != v:  # NaN
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


@dataclass(frozen=True)
class WorkbookLimits:
    """What a workbook may hold before it is read; over a limit the file is refused with the reason.

    A workbook is a zip of XML parts, and the reader allocates by what the parts say: a sheet whose last cell is
    XFD1048576 is a grid of 17 billion cells, a part of whitespace can inflate a thousand times. These limits are
    checked by streaming through each part (never holding it whole) before the workbook is opened.

    Attributes
    ----------
    max_part_bytes : int, default 1 GiB
        Largest uncompressed size of one part [bytes], as declared and as actually inflated.
    max_ratio : float, default 200
        Largest inflate ratio (uncompressed / compressed size) of a part larger than 1 MiB [-]; worksheet XML
        compresses 5-30 times, a zip bomb about 1,000 times.
    max_cells : int, default 20,000,000
        Largest grid a sheet may span, rows × columns up to its last cell (declared or present) [cells].
    max_sparsity : float, default 100
        Largest ratio of that grid to the cells present, for grids over 1,000,000 cells [-].
    max_shared_strings_bytes : int, default 256 MiB
        Largest uncompressed shared-strings part [bytes].
    max_text_bytes : int, default 1 GiB
        Largest text the sheets' shared-string cells expand to, summed over the cells [bytes].
    """

    max_part_bytes: int = 1 << 30
    max_ratio: float = 200.0
    max_cells: int = 20_000_000
    max_sparsity: float = 100.0
    max_shared_strings_bytes: int = 256 << 20
    max_text_bytes: int = 1 << 30


_RATIO_FLOOR = 1 << 20  # parts smaller than this are not judged by their ratio
_CELL_OPEN = re.compile(rb"<\w+:c[\s>/]")  # a cell with a namespace prefix (``<x:c r=...>``), rare
# column letters / row digits of a cell reference (a literal start lets the regex engine skip ahead fast)
_CELL_COL = re.compile(rb" r=\"([A-Z]{1,3})[0-9]")
_CELL_ROW = re.compile(rb" r=\"[A-Z]{1,3}([0-9]{1,9})\"")
_SHARED_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?\bt=\"s\"[^>]*>\s*<(?:\w+:)?v>([0-9]{1,10})<")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([^\"]*)\"")
_SI_OPEN = re.compile(rb"<(?:\w+:)?si[\s>/]")
_SST_COUNT = re.compile(rb"<(?:\w+:)?sst\b[^>]*?\buniqueCount=\"([0-9]+)\"")


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _ref_size(ref: bytes) -> tuple[int, int]:
    """(rows, columns) up to the last cell of an A1 reference or range such as ``A1:XFD1048576``."""
    m = re.fullmatch(rb"\$?([A-Z]{1,3})\$?([0-9]{1,9})", ref.split(b":")[-1].strip())
    return (int(m.group(2)), _col_number(m.group(1))) if m else (0, 0)


class _PartScan:
    """Streams one zip part in blocks, counting inflated bytes, cut at tag ends so no tag is split."""

    def __init__(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, what: str) -> None:
        self.zf, self.info, self.cap, self.what = zf, info, cap, what
        self.size = 0

    def blocks(self) -> Iterator[bytes]:
        tail = b""
        with self.zf.open(self.info) as fh:
            while True:
                block = fh.read(1 << 20)
                if not block:
                    break
                self.size += len(block)
                if self.size > self.cap:
                    raise ReadError(f"{self.what} inflates past {self.cap:,} bytes")
                data = tail + block
                cut = data.rfind(b">") + 1
                tail = data[cut:]
                if len(tail) > (1 << 22):  # 4 MiB without a tag end is not XML a spreadsheet writes
                    raise ReadError(f"{self.what} has a run of 4 MiB without markup")
                yield data[:cut]
        if tail:
            yield tail


def check_workbook(raw: bytes, limits: WorkbookLimits | None = None) -> None:
    """Refuse a workbook whose parts would make the reader allocate far more than the file holds.

    Parameters
    ----------
    raw : bytes
        The xlsx file.
    limits : WorkbookLimits, optional
        The limits (default :class:`WorkbookLimits()`).

    Raises
    ------
    ReadError
        A limit is broken; the message names the part, the figure and the limit.
    """
    lim = limits or WorkbookLimits()
    zf = zipfile.ZipFile(io.BytesIO(raw))
    infos = zf.infolist()
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > lim.max_ratio * max(info.compress_size, 1):
            raise ReadError(f"part {info.filename} inflates {info.file_size / max(info.compress_size, 1):,.0f} times "
                            f"(limit {lim.max_ratio:g}): a zip bomb, not a spreadsheet")
        if info.file_size > lim.max_part_bytes:
            raise ReadError(f"part {info.filename} declares {info.file_size:,} bytes uncompressed, over the limit of "
                            f"{lim.max_part_bytes:,}")
    sst_lengths = np.zeros(0, dtype=np.int64)
    sst = [i for i in infos if i.filename.lower().rsplit("/", 1)[-1] == "sharedstrings.xml"]
    sheets = [i for i in infos if "/worksheets/" in i.filename.lower() and i.filename.lower().endswith(".xml")]
    for info in infos:
        if info in sst or info in sheets:
            continue
        scan = _PartScan(zf, info, min(lim.max_part_bytes, int(lim.max_ratio * max(info.compress_size, 1))
                                       + _RATIO_FLOOR), f"part {info.filename}")
        for _ in scan.blocks():
            pass
    for info in sst:
        scan = _PartScan(zf, info, min(lim.max_part_bytes, lim.max_shared_strings_bytes,
                                       int(lim.max_ratio * max(info.compress_size, 1)) + _RATIO_FLOOR),
                         f"the shared strings ({info.filename})")
        starts: list[np.ndarray] = []
        declared, offset = None, 0
        for block in scan.blocks():
            if declared is None:
                m = _SST_COUNT.search(block)
                declared = int(m.group(1)) if m else -1
            starts.append(offset + np.asarray([mt.start() for mt in _SI_OPEN.finditer(block)], dtype=np.int64))
            offset += len(block)
        pos = np.concatenate(starts + [np.asarray([offset], dtype=np.int64)])
        sst_lengths = np.diff(pos)  # the XML length of each string: an upper bound on its text
        if declared is not None and declared > 2 * sst_lengths.size + 1000:
            raise ReadError(f"the shared strings declare {declared:,} strings but hold {sst_lengths.size:,}")
    longest = int(sst_lengths.max()) if sst_lengths.size else 0
    for info in sheets:
        cap = min(lim.max_part_bytes, int(lim.max_ratio * max(info.compress_size, 1)) + _RATIO_FLOOR)
        scan = _PartScan(zf, info, cap, f"sheet part {info.filename}")
        cells, rows, cols, text = 0, 0, 0, 0
        declared_rows = declared_cols = 0
        for nb, block in enumerate(scan.blocks()):
            if nb == 0:  # the dimension element comes before the cells
                m = _DIMENSION.search(block)
                if m:
                    declared_rows, declared_cols = _ref_size(m.group(1))
            n_cells = block.count(b"<c ") + block.count(b"<c>")
            if b":c " in block or b":c>" in block:
                n_cells += len(_CELL_OPEN.findall(block))
            cells += n_cells
            letters = set(_CELL_COL.findall(block))
            if letters:
                cols = max(cols, _col_number(max(letters, key=lambda c: (len(c), c))))
                digits = set(_CELL_ROW.findall(block))
                rows = max(rows, int(max(digits, key=lambda d: (len(d), d)))) if digits else rows
            # the text shared-string cells expand to: bounded by cells x longest string, summed exactly only
            # when that bound could pass the limit
            if sst_lengths.size and n_cells * longest > lim.max_text_bytes - text:
                idx = _SHARED_CELL.findall(block)
                k = np.asarray([int(v) for v in idx], dtype=np.int64)
                text += int(sst_lengths[k[k < sst_lengths.size]].sum())
                if text > lim.max_text_bytes:
                    raise ReadError(f"sheet part {info.filename}: its shared-string cells expand to over "
                                    f"{lim.max_text_bytes:,} bytes of text")
            else:
                text += n_cells * longest if sst_lengths.size else 0
        area = max(rows * cols, declared_rows * declared_cols)
        if area > lim.max_cells:
            raise ReadError(f"sheet part {info.filename} spans {area:,} cells (up to row {max(rows, declared_rows):,}, "
                            f"column {max(cols, declared_cols):,}), over the limit of {lim.max_cells:,}")
        if area > 1_000_000 and area > lim.max_sparsity * max(cells, 1):
            raise ReadError(f"sheet part {info.filename} spans {area:,} cells but holds {cells:,}")


def _read_xlsx(
    path: Path, raw: bytes, *, sheet: str | None, header_score: Callable[[list[str]], int] | None,
    limits: WorkbookLimits | None = None,
) -> RawTable:
    # python-calamine (Rust) reads the cached cell values, like openpyxl's data_only mode, about 20 times faster;
    # rows and columns start at A1 (skip_empty_area=False) so that spreadsheet row numbers stay exact.
    from python_calamine import CalamineError, CalamineWorkbook

    damaged = _XLSX_ERRORS + (CalamineError,)
    try:
        check_workbook(raw, limits)
    except ReadError as exc:
        raise ReadError(
            f"{path.name}: the workbook is refused before reading: {exc}; export it again (a real workbook this "
            "large can be read with larger WorkbookLimits, ingest(workbook_limits=...)) / 工作簿超出安全上限，已拒收"
        ) from None
    except damaged as exc:
        raise ReadError(
            f"{path.name}: the workbook is damaged or incomplete ({exc.__class__.__name__}); "
            "export it again / 工作簿已损坏或不完整，请重新导出"
        ) from None
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        names_in_book = list(wb.sheet_names)
    except damaged as exc:
        raise ReadError(
            f"{path.name}: the workbook is damaged or incomplete ({exc.__class__.__name__}); "
            "export it again / 工作簿已损坏或不完整，请重新导出"
        ) from None
    try:
        if sheet is not None:
            if sheet not in names_in_book:
                raise ReadError(
                    f"{path.name}: there is no sheet {sheet!r}; the sheets are {', '.join(names_in_book)}. "
                    "Fix the sheet name in the mapping file."
                )
            candidates = [sheet]
        else:
            candidates = names_in_book
        chosen = None
        for title in candidates:
            try:
                rows = wb.get_sheet_by_name(title).to_python(skip_empty_area=False)
            except damaged as exc:
                raise ReadError(
                    f"{path.name}: sheet {title!r} cannot be read ({exc.__class__.__name__}); export it again"
                ) from None
            # text cells (most of them) kept as they are, the rest through _cell_text
            texts = [[v if type(v) is str and v and not v.isspace() else _cell_text(v) for v in r]
                     for r in rows]
            h = _pick_header(texts, header_score)
            if h < 0:
                continue
            cells = [c for c in (texts[h] or []) if c]
            if chosen is None or (header_score is not None and header_score(cells) > 0):
                chosen = (title, texts, h)
                if header_score is None or header_score(cells) > 0:
                    break
    finally:
        wb.close()
    if chosen is None:
        raise ReadError(f"{path.name}: the workbook has no sheet with a header row; export it again with headers")
    _title, texts, h = chosen
    headers = [(c or "").strip() for c in texts[h]]
    while headers and not headers[-1]:
        headers.pop()
    names = _unique_names(headers)
    body = texts[h + 1:]
    # drop trailing empty rows
    last = len(body)
    while last > 0 and not any(c is not None and str(c).strip() for c in body[last - 1]):
        last -= 1
    body = body[:last]
    ncol = len(names)
    cols: list[list[str | None]] = [[] for _ in range(ncol)]
    invalid: list[tuple[int, str, str]] = []
    keep_rows: list[int] = []
    for i, r in enumerate(body):
        extra = [c for c in r[ncol:] if c is not None and str(c).strip()]
        if extra:
            invalid.append((h + 2 + i, "\t".join("" if c is None else str(c) for c in r),
                            f"the row has values beyond the {ncol} header columns / 数据超出表头列数"))
            continue
        keep_rows.append(h + 2 + i)
        for j in range(ncol):
            cols[j].append(r[j] if j < len(r) else None)
    table = pa.table({n: pa.array(c, type=pa.string()) for n, c in zip(names, cols)}) if names else pa.table({})
    return RawTable(path, headers, table, names, np.asarray(keep_rows, dtype=np.int64), invalid, "xlsx", h + 1, [])
