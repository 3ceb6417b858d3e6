"""Row rules of :mod:`zk_forecast.schema` applied to one file's text columns: every row loaded or rejected.

The work is vectorised over rows: each column is dictionary-encoded and its distinct values parsed once, the
row-level rules (required values, ranges, time order, sign of quantities, unique keys, known depots, parts and
machines) run as array operations. Each problem becomes one reject line (file, row, column, value, reason); a
row with any problem is rejected whole, so rows in = rows loaded + rows rejected.
"""

from __future__ import annotations

import datetime as _dt
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from zk_forecast.data.mapping import ColumnMatch, FileRule, template_fields
from zk_forecast.data.mapping import Mapping as ColumnMapping
from zk_forecast.data.parse import parse_bool, parse_date, parse_number
from zk_forecast.data.readers import RawTable
from zk_forecast.schema import (
    BOOL_FALSE,
    BOOL_TRUE,
    ID_FORBIDDEN,
    IDENTIFIER_COLUMNS,
    TEXT_FORBIDDEN,
    Column,
    Table,
)

__all__ = ["REJECT_COLUMNS", "Checked", "References", "check_table"]

REJECT_COLUMNS = ("file", "row", "column", "value", "reason")

_ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "enum": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.timestamp("ns"),
    "datetime": pa.timestamp("ns"),
    "bool": pa.bool_(),
}


def arrow_type(column: Column) -> pa.DataType:
    """The arrow type a canonical column is stored as."""
    return _ARROW_TYPES[column.kind]


@dataclass
class References:
    """Known keys for foreign-key checks: ``values[(table, column)]`` and depot names -> depot ids."""

    values: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    depot_names: dict[str, str] = field(default_factory=dict)

    def known(self, table: str, column: str) -> set[str]:
        return self.values.get((table, column), set())

    def add(self, table: str, column: str, new: Any) -> None:
        self.values.setdefault((table, column), set()).update(str(v) for v in new if v is not None)


@dataclass
class Checked:
    """The outcome of checking one file."""

    table: str
    data: pa.Table  # valid rows in canonical columns and types
    row_numbers: np.ndarray  # spreadsheet row of each valid row
    rejects: pd.DataFrame  # one line per problem: REJECT_COLUMNS
    rows_in: int
    rows_rejected: int
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return int(self.data.num_rows)


class _Problems:
    """Collects problems as (row index, column label, value, reason) in arrays, one batch per rule."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.bad = np.zeros(n, dtype=bool)
        self.parts: list[tuple[np.ndarray, str, Any, Any]] = []

    def add(self, mask: np.ndarray, column: str, values: Any, reasons: Any) -> None:
        """Record problems for the rows in ``mask``.

        ``values``: a str for all, a per-row numpy array, or a per-row arrow array (only the masked rows are
        converted). ``reasons``: a str for all, a per-row array, or ``(reasons per distinct value, index per row)``.
        """
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return
        self.bad[idx] = True
        if isinstance(values, str):
            v: Any = values
        elif isinstance(values, (pa.Array, pa.ChunkedArray)):
            v = np.asarray(values.take(pa.array(idx)).to_pylist(), dtype=object)
        else:
            v = np.asarray(values, dtype=object)[idx]
        if isinstance(reasons, str):
            r: Any = reasons
        elif isinstance(reasons, tuple):
            r = reasons[0][reasons[1][idx]]
        else:
            r = np.asarray(reasons, dtype=object)[idx]
        self.parts.append((idx, column, v, r))

    def frame(self, file: str, rows: np.ndarray) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in REJECT_COLUMNS})
        chunks = []
        for idx, col, v, r in self.parts:
            chunks.append(pd.DataFrame({
                "file": file, "row": rows[idx], "column": col,
                "value": v if not isinstance(v, str) else np.full(idx.size, v, dtype=object),
                "reason": r if not isinstance(r, str) else np.full(idx.size, r, dtype=object),
            }))
        out = pd.concat(chunks, ignore_index=True)
        return out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def _combine(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _clean_text(arr: pa.Array) -> pa.Array:
    """Trim whitespace; empty strings become null."""
    t = pc.utf8_trim_whitespace(arr)
    empty = pc.equal(t, "")
    if not pc.any(empty).as_py():
        return t
    return pc.if_else(empty, pa.scalar(None, pa.string()), t)


class Parsed:
    """A parsed column: values per row, a mask of rows that failed, and their reasons (per distinct value)."""

    def __init__(self, values: pa.Array, bad: np.ndarray | None = None,
                 reasons: tuple[np.ndarray, np.ndarray] | np.ndarray | None = None) -> None:
        self.values = values
        self.bad = bad
        self.reasons = reasons


def _clean_dict(arr: pa.Array) -> pa.DictionaryArray:
    """Dictionary-encode, then trim the distinct values; empty ones become null."""
    enc = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    d = pc.utf8_trim_whitespace(enc.dictionary)
    empty = pc.equal(d, "")
    idx = enc.indices
    if pc.any(empty).as_py():
        idx = pc.if_else(pc.take(empty, idx), pa.scalar(None, idx.type), idx)
    return pa.DictionaryArray.from_arrays(idx, d)


def _plain(arr: pa.Array) -> pa.Array:
    """A dictionary-encoded string column back to plain strings."""
    return arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr


def _per_unique(arr: pa.Array, fn: Callable[[str], tuple[Any, str | None]], out_type: pa.DataType) -> Parsed:
    """Apply ``fn`` once to each distinct value of ``arr``."""
    enc = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    uniques = enc.dictionary.to_pylist()
    results = [fn(u) for u in uniques]
    vals = pa.array([r[0] for r in results], type=out_type)
    reasons_u = np.array([r[1] for r in results] + [None], dtype=object)
    bad_u = np.array([r[1] is not None for r in results] + [False], dtype=bool)
    idx_np = pc.fill_null(enc.indices, len(uniques)).to_numpy(zero_copy_only=False)
    return Parsed(pc.take(vals, enc.indices), bad_u[idx_np], (reasons_u, idx_np))


_PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)$"
_GROUPED_NUMBER = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"


def _parse_numbers(text: pa.Array, fn: Callable[[str], tuple[Any, str | None]], out_type: pa.DataType,
                   col: Column) -> Parsed:
    """Numbers: plain decimal text is cast in one vectorised step; only the rest goes through ``fn``."""
    if pa.types.is_dictionary(text.type):  # parse the distinct values, then spread them over the rows
        d = _parse_numbers(text.dictionary, fn, out_type, col)
        idx = pc.fill_null(text.indices, len(text.dictionary)).to_numpy(zero_copy_only=False)
        values = pc.take(d.values, text.indices)
        if d.bad is None or not d.bad.any():
            return Parsed(values)
        bad_d = np.append(d.bad, False)
        tail = np.array([None], dtype=object)
        if isinstance(d.reasons, tuple):
            reasons_d = np.concatenate([d.reasons[0][d.reasons[1]], tail])
        else:
            reasons_d = np.concatenate([np.asarray(d.reasons, dtype=object), tail])
        return Parsed(values, bad_d[idx], (reasons_d, idx))
    try:  # the common case: every value is plain decimal text
        cast = pc.cast(text, pa.float64())
    except pa.ArrowInvalid:
        plain = pc.fill_null(pc.match_substring_regex(text, _PLAIN_NUMBER), False)
        grouped = pc.fill_null(pc.match_substring_regex(text, _GROUPED_NUMBER), False)
        if not pc.all(pc.or_(pc.or_(plain, grouped), pc.is_null(text))).as_py():
            return _per_unique(text, fn, out_type)
        cast = pc.cast(pc.if_else(grouped, pc.replace_substring(text, ",", ""), text), pa.float64())  # 1,234.5
    v = cast.to_numpy(zero_copy_only=False)
    n = len(v)
    reasons = np.full(n, None, dtype=object)
    with np.errstate(invalid="ignore"):
        reasons[np.isinf(v) | (np.isnan(v) & pc.is_valid(text).to_numpy(zero_copy_only=False))] = (
            "not a finite number / 不是有效数字")
        if out_type == pa.int64():
            frac = np.isfinite(v) & (v != np.floor(v))
            reasons[frac & (reasons == None)] = f"fractional value where whole {col.unit or 'numbers'} are required / 须为整数"  # noqa: E711
        if col.min is not None:
            reasons[(v < col.min) & (reasons == None)] = f"below the minimum {col.min:g} {col.unit} / 小于下限"  # noqa: E711
        if col.max is not None:
            reasons[(v > col.max) & (reasons == None)] = f"above the maximum {col.max:g} {col.unit} / 大于上限"  # noqa: E711
    bad = reasons != None  # noqa: E711
    mask = pa.array(np.isnan(v) | bad)
    if out_type == pa.int64():
        vals = pc.cast(pa.array(np.where(np.isfinite(v) & ~bad, v, 0.0)), pa.int64(), safe=False)
    else:
        vals = pa.array(np.where(bad, 0.0, v))
    values = pc.if_else(mask, pa.scalar(None, out_type), vals)
    return Parsed(values, bad, reasons)


def _column_source(raw: RawTable, match: ColumnMatch, rule: FileRule | None, col: str, n: int) -> pa.Array | None:
    """The text of canonical column ``col`` for every row: from a header, a template, a derivation or a constant."""
    if col in match.by_column:
        return _combine(raw.data.column(match.by_column[col]))
    if rule is None:
        return None
    if col in rule.templates:
        return _template(raw, rule.templates[col], n)
    if col in rule.derive:
        d = rule.derive[col]
        age = _source_by_header(raw, d.age)
        return _derive_date(age, d.unit, d.before)
    if col in rule.constants:
        return pa.array(np.full(n, rule.constants[col], dtype=object), type=pa.string())
    return None


def _source_by_header(raw: RawTable, header: str) -> pa.Array:
    for h, name in zip(raw.headers, raw.column_names):
        if h == header:
            return _combine(raw.data.column(name))
    from zk_forecast.errors import ReadError

    raise ReadError(
        f"the mapping file names column {header!r}, which the file does not have; its headers are "
        f"{', '.join(raw.headers)}"
    )


def _template(raw: RawTable, template: str, n: int) -> pa.Array:
    pieces: list[Any] = []
    pos = 0
    for f in template_fields(template):
        start = template.index("{" + f + "}", pos)
        if start > pos:
            pieces.append(template[pos:start])
        pieces.append(_clean_text(_source_by_header(raw, f)))
        pos = start + len(f) + 2
    if pos < len(template):
        pieces.append(template[pos:])
    arrays = [p if isinstance(p, pa.Array) else pa.array(np.full(n, p, dtype=object), type=pa.string()) for p in pieces]
    if len(arrays) == 1:
        return arrays[0]
    return pc.binary_join_element_wise(*arrays, "", null_handling="emit_null")


def _derive_date(age: pa.Array, unit: str, before: str) -> pa.Array:
    ref, reason = parse_date(before)
    if ref is None:
        from zk_forecast.errors import ConfigError

        raise ConfigError(f"derive: before = {before!r} is not a date ({reason})")

    def one(text: str) -> tuple[str | None, str | None]:
        v, _ = parse_number(text)
        if v is None:
            return None, None
        if unit == "days":
            d = ref - _dt.timedelta(days=v)
        else:
            months = round(v * (12 if unit == "years" else 1))
            y, m = divmod(ref.year * 12 + ref.month - 1 - months, 12)
            d = ref.replace(year=y, month=m + 1, day=min(ref.day, 28))
        return d.strftime("%Y-%m-%d"), None

    return _per_unique(_clean_text(age), one, pa.string()).values


def check_table(
    raw: RawTable,
    table: Table,
    match: ColumnMatch,
    *,
    mapping: ColumnMapping,
    rule: FileRule | None,
    refs: References,
    today: _dt.date,
    file_label: str | None = None,
) -> Checked:
    """Apply every row rule of ``table`` to one file.

    Parameters
    ----------
    raw : RawTable
        The file's text, from :func:`zk_forecast.data.readers.read_export`.
    table : Table
        The canonical table the file holds.
    match : ColumnMatch
        Which data column is which canonical column.
    mapping : Mapping
        Value aliases beyond the schema's.
    rule : FileRule or None
        The mapping file's rule for this file (constants, templates, dayfirst).
    refs : References
        Keys known so far, for foreign keys.
    today : datetime.date
        Dates after this day are in the future and rejected.
    file_label : str, optional
        File name written in the rejects (default: the file's name).
    """
    label = file_label or raw.path.name
    n = int(raw.data.num_rows)
    probs = _Problems(n)
    rows = raw.row_numbers
    dayfirst = rule.dayfirst if rule else None
    limit_dt = _dt.datetime.combine(today, _dt.time(23, 59, 59))
    header_of = {c: h for h, c0 in zip(raw.headers, raw.column_names) for c, nm in match.by_column.items() if nm == c0}

    # blank rows: every cell of the file empty
    cleaned: dict[str, pa.Array] = {}
    blank = np.ones(n, dtype=bool)
    mapped = set(match.by_column.values())
    # columns whose distinct values are few are dictionary-encoded once: trimming, parsing and foreign-key look-ups
    # then work on the distinct values only
    fk_cols = {fk.column for fk in table.foreign_keys}
    as_dict = {match.by_column[c.name] for c in table.columns if c.name in match.by_column
               and (c.kind in ("enum", "bool", "date", "datetime", "int", "float") or c.name in fk_cols)}
    for name in raw.column_names:
        if name in mapped:
            col_raw = _combine(raw.data.column(name))
            cleaned[name] = _clean_dict(col_raw) if name in as_dict else _clean_text(col_raw)
            blank &= pc.is_null(cleaned[name]).to_numpy(zero_copy_only=False)
        else:  # a column kept out of the store only needs to be empty for the row to be blank
            blank &= pc.is_null(raw.data.column(name)).to_numpy(zero_copy_only=False)
    probs.add(blank, "*", "", "blank row / 空行")

    out: dict[str, pa.Array] = {}
    for col in table.columns:
        if col.name in match.by_column:
            text = cleaned[match.by_column[col.name]]
        else:
            src = _column_source(raw, match, rule, col.name, n)
            if src is None:
                out[col.name] = pa.nulls(n, type=arrow_type(col))
                continue
            text = _clean_text(src)
        labels = mapping.value_aliases(table.name, col.name) if (
            col.value_aliases or mapping.values.get(table.name, {}).get(col.name)) else {}
        parsed = _parse_column(text, col, labels, dayfirst=dayfirst, limit=limit_dt)
        if parsed.bad is not None and parsed.bad.any():
            probs.add(parsed.bad & ~blank, header_of.get(col.name, col.name), text, parsed.reasons)
        out[col.name] = parsed.values

    for col in table.columns:
        if col.required:
            missing = pc.is_null(out[col.name]).to_numpy(zero_copy_only=False) & ~blank
            already = _already_reported(probs, header_of.get(col.name, col.name))
            probs.add(missing & ~already, header_of.get(col.name, col.name), "", "required value missing / 必填项为空")

    _table_rules(table, out, probs, header_of)
    _time_order(table, out, probs, header_of)
    warnings: list[str] = []
    _foreign_keys(table, out, probs, header_of, refs, warnings)
    data = pa.table({c.name: _plain(out[c.name]) for c in table.columns})

    keep = ~probs.bad
    rejects = probs.frame(label, rows)
    for num, text, reason in raw.invalid_rows:
        rejects = pd.concat([rejects, pd.DataFrame([{"file": label, "row": num, "column": "*", "value": text[:200],
                                                     "reason": reason}])], ignore_index=True)
    rejects = rejects.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
    valid = data.filter(pa.array(keep))
    return Checked(
        table=table.name, data=valid, row_numbers=rows[keep], rejects=rejects, rows_in=raw.rows_in,
        rows_rejected=int(probs.bad.sum()) + len(raw.invalid_rows), warnings=warnings,
    )


def _already_reported(probs: _Problems, column: str) -> np.ndarray:
    m = np.zeros(probs.n, dtype=bool)
    for idx, col, _, _ in probs.parts:
        if col == column:
            m[idx] = True
    return m


def _norm_label(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip().lower()


_ID_REASON = ("an id must not contain '/', '\\', '..', '|' (the series separator) or a control character such as "
              "NUL: it would reach file names and series ids; correct the id in the export "
              "/ 编号不能含有 / \\ .. | 或控制字符，请在导出文件中更正")
_TEXT_REASON = ("control character (such as NUL) in the text; remove it from the export "
                "/ 文本含有控制字符（如 NUL），请在导出文件中删除")


def _parse_column(
    text: pa.Array, col: Column, labels: Mapping[str, str], *, dayfirst: bool | None, limit: _dt.datetime
) -> Parsed:
    kind = col.kind
    if kind == "str":
        def per_row(fn: Callable[[pa.Array], pa.Array]) -> np.ndarray:
            """A boolean test over the text, run on the distinct values of a dictionary-encoded column."""
            if pa.types.is_dictionary(text.type):
                return pc.fill_null(pc.take(fn(text.dictionary), text.indices), False).to_numpy(zero_copy_only=False)
            return pc.fill_null(fn(text), False).to_numpy(zero_copy_only=False)

        too_long = per_row(lambda a: pc.greater(pc.utf8_length(a), col.max_length))
        forbidden = ID_FORBIDDEN if col.name in IDENTIFIER_COLUMNS else TEXT_FORBIDDEN
        bad_chars = per_row(lambda a: pc.match_substring_regex(a, forbidden)) & ~too_long
        if too_long.any() or bad_chars.any():
            reasons = np.full(len(too_long), None, dtype=object)
            reasons[too_long] = f"text longer than {col.max_length} characters / 文本过长"
            reasons[bad_chars] = (_ID_REASON if col.name in IDENTIFIER_COLUMNS else _TEXT_REASON)
            return Parsed(text, too_long | bad_chars, reasons)
        return Parsed(text)
    norm_labels = {_norm_label(k): v for k, v in labels.items()}

    if kind == "enum":
        codes = {v: v for v in col.values}

        def fn(s: str) -> tuple[Any, str | None]:
            k = _norm_label(s)
            if k in codes:
                return k, None
            if k in norm_labels:
                return norm_labels[k], None
            shown = "、".join(list(labels)[:8])
            return None, f"unknown value: use one of {', '.join(col.values)} (or {shown}) / 取值不在允许范围"


        return _per_unique(text, fn, pa.string())
    if kind == "bool":
        return _per_unique(text, lambda s: parse_bool(s, BOOL_TRUE, BOOL_FALSE), pa.bool_())
    if kind in ("int", "float"):
        lo, hi = col.min, col.max

        def num(s: str) -> tuple[Any, str | None]:
            k = _norm_label(s)
            v, reason = (float(norm_labels[k]), None) if k in norm_labels else parse_number(s)
            if v is None:
                return None, reason
            if kind == "int":
                if v != int(v):
                    return None, f"fractional value where whole {col.unit or 'numbers'} are required / 须为整数"
            if lo is not None and v < lo:
                return None, f"below the minimum {lo:g} {col.unit} / 小于下限".replace("  ", " ")
            if hi is not None and v > hi:
                return None, f"above the maximum {hi:g} {col.unit} / 大于上限".replace("  ", " ")
            return (int(v) if kind == "int" else v), None

        return _parse_numbers(text, num, pa.int64() if kind == "int" else pa.float64(), col)

    def date(s: str) -> tuple[Any, str | None]:
        v, reason = parse_date(s, dayfirst=dayfirst)
        if v is None:
            return None, reason
        if kind == "date":
            v = v.replace(hour=0, minute=0, second=0)
        if v > limit:
            return None, f"date in the future (after {limit.date().isoformat()}) / 日期晚于今天"
        return v, None

    return _per_unique(text, date, pa.timestamp("ns"))


def _np(a: pa.Array) -> np.ndarray:
    return a.to_numpy(zero_copy_only=False)


def _table_rules(
    table: Table, out: dict[str, pa.Array], probs: _Problems, header_of: dict[str, str]
) -> None:
    if table.name != "part_issues":
        return
    kind = out["kind"]
    qty = out["quantity"]
    is_return = pc.fill_null(pc.equal(kind, "return"), False)
    neg = pc.fill_null(pc.less(qty, 0), False)
    zero = pc.fill_null(pc.equal(qty, 0), False)
    qlabel = header_of.get("quantity", "quantity")
    probs.add(_np(pc.and_(neg, pc.invert(is_return))), qlabel, pc.cast(qty, pa.string()),
              "negative quantity is allowed only for returns (退库); a return may be written either sign "
              "/ 仅退库可为负数")
    probs.add(_np(zero), qlabel, "0", "quantity is zero: a line moves at least one unit / 数量为零")
    # returns are stored negative whichever sign the export used
    out["quantity"] = pc.if_else(is_return, pc.negate(pc.abs(qty)), qty)


def _time_order(
    table: Table, out: dict[str, pa.Array], probs: _Problems, header_of: dict[str, str]
) -> None:
    for early, late in table.time_order:
        a, b = out[early], out[late]
        wrong = _np(pc.fill_null(pc.greater(a, b), False))
        if wrong.any():
            la, lb = header_of.get(early, early), header_of.get(late, late)
            idx = pa.array(np.flatnonzero(wrong))
            fmt = "%Y-%m-%d %H:%M" if table.column(early).kind == "datetime" else "%Y-%m-%d"
            pairs = zip(pc.strftime(a.take(idx), format=fmt).to_pylist(), pc.strftime(b.take(idx), format=fmt).to_pylist())
            vals = np.empty(len(wrong), dtype=object)
            vals[np.flatnonzero(wrong)] = [f"{x} > {y}" for x, y in pairs]
            probs.add(wrong, f"{la}/{lb}", vals, f"{lb} is before {la}: times must run forward / 时间顺序颠倒")


def _foreign_keys(
    table: Table,
    out: dict[str, pa.Array],
    probs: _Problems,
    header_of: dict[str, str],
    refs: References,
    warnings: list[str],
) -> None:
    """Values must name a known row of the referenced table; depot names are turned into depot ids."""
    names_zh = {"depots": "网点", "parts": "配件", "machines": "机器", "customers": "客户", "tickets": "服务单"}
    for fk in table.foreign_keys:
        vals = out[fk.column]
        if vals.null_count == len(vals):
            continue
        known = refs.known(fk.ref_table, fk.ref_column)
        if fk.ref_table == table.name:  # self reference: the file's own keys count
            known = known | {v for v in _np(_plain(out[fk.ref_column])) if v is not None}
        to_id = refs.depot_names if fk.ref_table == "depots" else {}
        enc = vals if pa.types.is_dictionary(vals.type) else pc.dictionary_encode(vals)
        uniques = enc.dictionary.to_pylist()
        mapped: list[str | None] = []
        ok: list[bool] = []
        for u in uniques:
            v = u if u in known else to_id.get(u, to_id.get(_norm_label(u)))
            mapped.append(v if v is not None else u)
            ok.append(v is not None and v in known)
        if mapped != uniques:
            out[fk.column] = pc.take(pa.array(mapped, type=pa.string()), enc.indices)
        if all(ok):
            continue
        idx = pc.fill_null(enc.indices, len(uniques)).to_numpy(zero_copy_only=False)
        bad = ~np.array(ok + [True], dtype=bool)[idx]
        label = header_of.get(fk.column, fk.column)
        what = {"depots": "depot", "parts": "part", "machines": "machine", "customers": "customer",
                "tickets": "ticket"}.get(fk.ref_table, fk.ref_table)
        if fk.soft:
            n_bad = int(bad.sum())
            warnings.append(f"{n_bad} row(s) name a {what} not in the {fk.ref_table} table (column {label}); "
                            f"the rows are loaded / {n_bad} 行引用的{names_zh.get(fk.ref_table, '')}不存在，已照常导入")
            continue
        sample = ", ".join(sorted(known)[:6]) + (" …" if len(known) > 6 else "")
        reason = (f"unknown {what}: not in the {fk.ref_table} table (known: {sample or 'none'}); "
                  f"add it to the {fk.ref_table} export first / 未知{names_zh.get(fk.ref_table, '')}")
        probs.add(bad, label, vals, reason)
