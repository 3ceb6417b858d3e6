"""Which canonical table a file holds, and which of its headers is which canonical column.

The built-in aliases of :mod:`zk_forecast.schema` know the headers of the common Chinese ERP and service-system
exports and their English twins. A mapping file (TOML) adds the rest without code::

    # extra header aliases, per table and column
    [aliases.parts]
    part_no = ["物料号", "Material"]

    # extra value labels of an enum column
    [values.part_issues.kind]
    "三包领用" = "repair"

    # rules for files whose names match a glob pattern (first match wins)
    [[file]]
    pattern = "PdM_machines.csv"
    table = "machines"              # which canonical table the file holds
    encoding = "utf-8"              # optional: declared encoding (detected when wrong)
    sheet = "Sheet1"                # optional: worksheet of a workbook
    dayfirst = false                # optional: how to read 05/03/2024 (else such dates are rejected as ambiguous)
    skip = false                    # true: the file is known and deliberately not loaded
    [file.columns]                  # header in the file -> canonical column
    machineID = "serial_no"
    [file.constants]                # canonical column -> one value for every row
    manufacturer = "Contoso"
    [file.templates]                # canonical column -> text built from the file's columns
    serial_no = "M{machineID}"
    [file.derive.sale_date]         # a date counted back from a reference date by an age column
    age = "age"
    unit = "years"                  # years | months | days
    before = "2015-01-01"

    # rows that no export holds (a depot of a foreign data set, say)
    [[rows.depots]]
    depot_id = "AZ"
    name = "Fleet"
    role = "central"
"""

from __future__ import annotations

import fnmatch
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zk_forecast.data.readers import normalize_header
from zk_forecast.errors import ConfigError, ReadError
from zk_forecast.schema import TABLES, Table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["ColumnMatch", "FileRule", "Mapping", "builtin_mapping", "identify_table", "match_columns"]

_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Derivation:
    """A date column computed as ``before`` minus ``age`` [``unit``]."""

    age: str
    unit: str
    before: str


@dataclass(frozen=True)
class FileRule:
    """What the mapping file says about the files matching ``pattern``."""

    pattern: str
    table: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    dayfirst: bool | None = None
    skip: bool = False
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)
    derive: dict[str, Derivation] = field(default_factory=dict)


@dataclass
class Mapping:
    """Column, value and file rules beyond the built-in aliases. ``Mapping()`` is the built-in mapping alone."""

    aliases: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    files: list[FileRule] = field(default_factory=list)
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    source: str = "<built-in>"

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        """Read and validate a TOML mapping file.

        Raises
        ------
        ConfigError
            The file is missing, not TOML, or names a table or column the schema does not have.
        """
        p = Path(path)
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"mapping file {p}: cannot read it ({exc.strerror}); check the --mapping path") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"mapping file {p}: not valid TOML ({exc}); fix the line it names") from None
        return cls.from_dict(doc, source=str(p))

    @classmethod
    def from_dict(cls, doc: dict[str, Any], source: str = "<dict>") -> Mapping:
        known = {"aliases", "values", "file", "rows"}
        unknown = set(doc) - known
        if unknown:
            raise ConfigError(
                f"mapping file {source}: unknown section(s) {sorted(unknown)}; the sections are {sorted(known)}"
            )
        m = cls(source=source)
        for tname, cols in doc.get("aliases", {}).items():
            t = _table(tname, source)
            m.aliases[tname] = {}
            for col, al in cols.items():
                _column(t, col, source, "aliases")
                m.aliases[tname][col] = [al] if isinstance(al, str) else [str(a) for a in al]
        for tname, cols in doc.get("values", {}).items():
            t = _table(tname, source)
            m.values[tname] = {}
            for col, labels in cols.items():
                c = t.column(_column(t, col, source, "values"))
                for label, code in labels.items():
                    if c.kind == "enum" and code not in c.values:
                        raise ConfigError(
                            f"mapping file {source}: [values.{tname}.{col}] maps {label!r} to {code!r}, which is "
                            f"not one of {list(c.values)}; use one of those codes"
                        )
                m.values[tname][col] = {str(k): str(v) for k, v in labels.items()}
        for i, f in enumerate(doc.get("file", [])):
            m.files.append(_file_rule(f, i, source))
        for tname, rows in doc.get("rows", {}).items():
            t = _table(tname, source)
            for r in rows:
                for col in r:
                    _column(t, col, source, f"rows.{tname}")
            m.rows[tname] = [{k: str(v) for k, v in r.items()} for r in rows]
        return m

    def rule_for(self, file_name: str) -> FileRule | None:
        """The first file rule whose pattern matches ``file_name`` (case-insensitive glob), or None."""
        for r in self.files:
            if fnmatch.fnmatch(file_name.lower(), r.pattern.lower()):
                return r
        return None

    def headers_for(self, table: Table) -> dict[str, str]:
        """Normalised header -> canonical column, built-in aliases plus this mapping's."""
        cache = self.__dict__.setdefault("_headers_cache", {})
        if table.name not in cache:
            cache[table.name] = self._headers_for(table)
        return dict(cache[table.name])

    def _headers_for(self, table: Table) -> dict[str, str]:
        out: dict[str, str] = {}
        for c in table.columns:
            for h in c.headers:
                out.setdefault(normalize_header(h), c.name)
        for col, al in self.aliases.get(table.name, {}).items():
            for h in al:
                out[normalize_header(h)] = col
        return out

    def value_aliases(self, table: str, column: str) -> dict[str, str]:
        """Export label -> canonical value for one column: the schema's labels plus this mapping's."""
        base = dict(TABLES[table].column(column).value_aliases)
        base.update(self.values.get(table, {}).get(column, {}))
        return base


def _table(name: str, source: str) -> Table:
    if name not in TABLES:
        raise ConfigError(f"mapping file {source}: there is no table {name!r}; the tables are {', '.join(TABLES)}")
    return TABLES[name]


def _column(t: Table, col: str, source: str, where: str) -> str:
    if col not in t.column_names:
        raise ConfigError(
            f"mapping file {source}: [{where}] names column {col!r}, which table {t.name!r} does not have; "
            f"its columns are {', '.join(t.column_names)}"
        )
    return col


def _file_rule(f: dict[str, Any], i: int, source: str) -> FileRule:
    where = f"file #{i + 1}"
    if "pattern" not in f:
        raise ConfigError(f"mapping file {source}: [[file]] {where} has no 'pattern'; add pattern = \"name*.csv\"")
    allowed = {"pattern", "table", "encoding", "sheet", "dayfirst", "skip", "columns", "constants", "templates", "derive"}
    extra = set(f) - allowed
    if extra:
        raise ConfigError(f"mapping file {source}: [[file]] {f['pattern']!r} has unknown keys {sorted(extra)}; "
                          f"the keys are {sorted(allowed)}")
    table = f.get("table")
    if table is None and not f.get("skip", False):
        raise ConfigError(f"mapping file {source}: [[file]] {f['pattern']!r} needs table = \"...\" or skip = true")
    t = _table(table, source) if table else None
    cols = {str(k): str(v) for k, v in f.get("columns", {}).items()}
    consts = {str(k): str(v) for k, v in f.get("constants", {}).items()}
    templ = {str(k): str(v) for k, v in f.get("templates", {}).items()}
    derive: dict[str, Derivation] = {}
    for col, d in f.get("derive", {}).items():
        unit = d.get("unit", "years")
        if unit not in ("years", "months", "days") or "age" not in d or "before" not in d:
            raise ConfigError(
                f"mapping file {source}: [file.derive.{col}] of {f['pattern']!r} needs age = \"<column>\", "
                "before = \"YYYY-MM-DD\" and unit = years|months|days"
            )
        derive[str(col)] = Derivation(str(d["age"]), unit, str(d["before"]))
    if t is not None:
        for canon in list(cols.values()) + list(consts) + list(templ) + list(derive):
            _column(t, canon, source, f"file {f['pattern']}")
    return FileRule(
        pattern=str(f["pattern"]), table=table, encoding=f.get("encoding"), sheet=f.get("sheet"),
        dayfirst=f.get("dayfirst"), skip=bool(f.get("skip", False)), columns=cols, constants=consts,
        templates=templ, derive=derive,
    )


@dataclass
class ColumnMatch:
    """How the headers of one file map onto a canonical table."""

    table: str
    by_column: dict[str, str]  # canonical column -> data column name in the RawTable
    unknown: list[str]  # headers that map to nothing (kept out of the store)
    missing: list[str]  # required canonical columns with no header, constant, template or derivation


def match_columns(
    table: Table, headers: list[str], names: list[str], mapping: Mapping, rule: FileRule | None = None
) -> ColumnMatch:
    """Map a file's headers onto ``table``'s columns.

    Raises
    ------
    ReadError
        Two headers map onto the same canonical column (the message names both and the fix).
    """
    lookup = mapping.headers_for(table)
    explicit = {normalize_header(k): v for k, v in (rule.columns if rule else {}).items()}
    by_column: dict[str, str] = {}
    header_of: dict[str, str] = {}
    unknown: list[str] = []
    overridden: set[str] = set()
    used_by_rule: set[str] = set()
    if rule is not None:
        overridden = set(rule.constants) | set(rule.templates) | set(rule.derive)
        for t in rule.templates.values():
            used_by_rule.update(normalize_header(f) for f in template_fields(t))
        used_by_rule.update(normalize_header(d.age) for d in rule.derive.values())
    for h, n in zip(headers, names):
        key = normalize_header(h)
        canon = explicit.get(key) or lookup.get(key)
        if canon in overridden and key not in explicit:
            canon = None  # the mapping file builds this column another way
        if canon is None:
            if h and key not in used_by_rule and h not in unknown:
                unknown.append(h)
            continue
        if canon in by_column:
            raise ReadError(
                f"headers {header_of[canon]!r} and {h!r} both map to column {canon!r}; remove one from the export, "
                f"or map one of them to another column in the mapping file / 两列对应同一字段"
            )
        by_column[canon] = n
        header_of[canon] = h
    provided = set(by_column)
    if rule is not None:
        provided |= set(rule.constants) | set(rule.templates) | set(rule.derive)
    missing = [c for c in table.required if c not in provided]
    return ColumnMatch(table.name, by_column, unknown, missing)


def header_score(headers: list[str], mapping: Mapping) -> int:
    """How many of ``headers`` are known headers of the best-fitting table (to find the header row)."""
    best = 0
    norm = [normalize_header(h) for h in headers]
    for t in TABLES.values():
        lookup = mapping.headers_for(t)
        best = max(best, sum(1 for h in norm if h in lookup))
    return best


def identify_table(file_name: str, headers: list[str], mapping: Mapping) -> str:
    """The canonical table a file holds, from its headers and then its name.

    The table must find all its required columns among the headers; among those, the one matching most headers
    wins, and a file-name hint breaks ties.

    Raises
    ------
    ReadError
        No table fits, or two fit equally well; the message says what was missing and how to fix it.
    """
    norm = [normalize_header(h) for h in headers]
    scored = []
    for t in TABLES.values():
        lookup = mapping.headers_for(t)
        matched = {lookup[h] for h in norm if h in lookup}
        missing = [c for c in t.required if c not in matched]
        hint = any(normalize_header(x) in normalize_header(file_name) for x in t.file_hints)
        scored.append((not missing, len(matched), hint, t.name, missing))
    complete = [s for s in scored if s[0]]
    if not complete:
        near = max(scored, key=lambda s: (s[2], s[1] - len(s[4])))
        labels = [f"{c} ({TABLES[near[3]].column(c).label_zh})" for c in near[4]]
        raise ReadError(
            f"cannot tell which table this file holds: closest is {near[3]!r}, which needs the missing "
            f"column(s) {', '.join(labels)}. Add them to the export, or map the file in a mapping file "
            "([[file]] pattern/table/columns) / 无法识别文件内容，缺少必需列"
        )
    complete.sort(key=lambda s: (s[1], s[2]), reverse=True)
    if len(complete) > 1 and complete[0][1:3] == complete[1][1:3]:
        raise ReadError(
            f"the headers fit both {complete[0][3]!r} and {complete[1][3]!r}; name the table in a mapping file "
            "([[file]] pattern = ..., table = ...)"
        )
    return str(complete[0][3])


def template_fields(template: str) -> list[str]:
    """Names of the ``{column}`` placeholders of a template."""
    return _TEMPLATE_FIELD.findall(template)


def builtin_mapping(name: str) -> Path:
    """Path of a mapping file shipped with the package (``zk_forecast/mappings/<name>.toml``).

    Raises
    ------
    ConfigError
        There is no such mapping; the message lists the ones there are.
    """
    folder = Path(__file__).resolve().parent.parent / "mappings"
    p = folder / f"{name}.toml"
    if not p.exists():
        have = sorted(q.stem for q in folder.glob("*.toml"))
        raise ConfigError(f"there is no built-in mapping {name!r}; the built-in mappings are {have}")
    return p
