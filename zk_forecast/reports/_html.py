"""Shared helpers of the HTML reports: escaping, tables from DataFrames, sections, a print-friendly page.

Every report is one self-contained file: the CSS sits inline, charts are ``data:`` URIs, nothing is fetched from
the network. All text passes through :func:`esc`; tables are built cell by cell (never ``DataFrame.to_html`` with
``escape=False``), so a part name such as ``<script>`` shows as text.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from zk_forecast.errors import ZkValueError

__all__ = ["CSS", "Period", "esc", "figure_block", "heading", "page", "paragraph", "parse_period", "section", "write_page",
           "table_html"]

#: Print-friendly CSS: A4 portrait, tables that do not split rows, sections that start on a fresh page in print.
CSS = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",
sans-serif;margin:24px auto;max-width:1000px;color:#222;line-height:1.45;font-size:14px}
h1{font-size:22px;border-bottom:2px solid #2b5d8a;padding-bottom:6px}
h2{font-size:18px;color:#2b5d8a;margin-top:28px;border-bottom:1px solid #ccd}
.en{color:#666;font-weight:normal;font-size:0.8em;margin-left:8px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:12.5px}
th,td{border:1px solid #bbb;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#eef2f7}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#fafafa}
img{max-width:100%;height:auto}
.note{color:#555;font-size:12.5px}
.flag{color:#a00;font-weight:bold}
.ok{color:#060;font-weight:bold}
.meta td{border:none;padding:1px 10px 1px 0}
@page{size:A4;margin:14mm}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid;page-break-after:avoid}
section{break-inside:auto}table,img,figure{break-inside:avoid;page-break-inside:avoid}
tr{break-inside:avoid;page-break-inside:avoid}a{color:inherit;text-decoration:none}}
"""


def esc(value: Any) -> str:
    """Escape any value for HTML text or attribute use (``None`` and NA become an empty string).

    Parameters
    ----------
    value : Any
        The value to show.

    Returns
    -------
    str
    """
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(value), quote=True)


def _cell(value: Any, digits: int) -> tuple[str, bool]:
    """Text of one table cell and whether it is numeric (right-aligned)."""
    if isinstance(value, bool):
        return ("是 yes" if value else "否 no"), False
    if isinstance(value, pd.Timestamp):
        return ("" if pd.isna(value) else value.strftime("%Y-%m-%d")), False
    if isinstance(value, int | float) and not isinstance(value, bool):
        f = float(value)
        if math.isnan(f):
            return "", True
        if f.is_integer() and abs(f) < 1e15 and (isinstance(value, int) or digits == 0):
            return f"{int(f):,d}", True
        return f"{f:,.{digits}f}", True
    return esc(value), False


def table_html(df: pd.DataFrame, *, digits: int | Mapping[str, int] = 2, table_id: str | None = None,
               max_rows: int | None = None) -> str:
    """An HTML table from a DataFrame: header from the column names, every cell escaped, numbers right-aligned.

    Parameters
    ----------
    df : DataFrame
        The table; its index is ignored (reset it first to show it).
    digits : int or mapping of column → int
        Decimals of float cells.
    table_id : str, optional
        ``id`` attribute of the table.
    max_rows : int, optional
        Show at most this many rows (a note says how many were left out).

    Returns
    -------
    str
    """
    shown = df if max_rows is None else df.head(max_rows)
    attr = f' id="{esc(table_id)}"' if table_id else ""
    out = [f"<table{attr}><thead><tr>"]
    out += [f"<th>{esc(c)}</th>" for c in shown.columns]
    out.append("</tr></thead><tbody>")
    cols = list(shown.columns)
    for row in shown.itertuples(index=False, name=None):
        out.append("<tr>")
        for c, v in zip(cols, row):
            d = digits.get(str(c), 2) if isinstance(digits, Mapping) else digits
            if hasattr(v, "item") and not isinstance(v, str):
                v = v.item()
            text, num = _cell(v, d)
            out.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if max_rows is not None and len(df) > max_rows:
        out.append(f'<p class="note">另有 {len(df) - max_rows} 行未列出 / {len(df) - max_rows} more rows not shown</p>')
    return "".join(out)


def heading(zh: str, en: str, level: int = 2) -> str:
    """A bilingual heading: Chinese first, the English subtitle smaller."""
    return f'<h{level}>{esc(zh)}<span class="en">{esc(en)}</span></h{level}>'


def paragraph(zh: str, en: str | None = None, cls: str = "note") -> str:
    """A paragraph with the Chinese text and, on its own line, the English one."""
    body = esc(zh) + ("" if not en else "<br>" + esc(en))
    return f'<p class="{esc(cls)}">{body}</p>'


def figure_block(data_uri: str, alt: str) -> str:
    """An embedded chart (a ``data:image/png;base64`` URI) with its alt text."""
    if not data_uri.startswith("data:image/png;base64,"):
        raise ZkValueError("A chart must be a 'data:image/png;base64,' URI so the report stays self-contained.")
    return f'<figure><img src="{data_uri}" alt="{esc(alt)}"></figure>'


def section(section_id: str, zh: str, en: str, body: Iterable[str]) -> str:
    """A ``<section id=...>`` with its bilingual heading and already-rendered body parts."""
    return f'<section id="{esc(section_id)}">' + heading(zh, en) + "".join(body) + "</section>"


def page(title: str, header: str, sections: Sequence[str], lang: str = "zh-CN") -> str:
    """The whole self-contained HTML document.

    Parameters
    ----------
    title : str
        ``<title>`` text (escaped here).
    header : str
        Rendered HTML placed above the sections (title block).
    sections : sequence of str
        Rendered sections.
    lang : str
        ``lang`` attribute of the document.

    Returns
    -------
    str
    """
    return ("<!DOCTYPE html>\n"
            f'<html lang="{esc(lang)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n"
            + header + "\n" + "\n".join(sections) + "\n</body></html>\n")


class Period:
    """A reporting period: a year (``2026``), a quarter (``2026Q3``) or a month (``2026-07``).

    Attributes
    ----------
    label : str
        The canonical label (``"2026Q3"``, ``"2026-07"``, ``"2026"``).
    start, end : Timestamp
        First day, and the day after the last day (exclusive).
    """

    def __init__(self, label: str, start: pd.Timestamp, end: pd.Timestamp) -> None:
        self.label = label
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        return f"Period({self.label!r}, {self.start.date()} – {self.end.date()})"

    @property
    def months(self) -> pd.DatetimeIndex:
        """Month starts inside the period."""
        return pd.date_range(self.start, self.end - pd.Timedelta(days=1), freq="MS")


_PERIOD_RE = re.compile(r"^\s*(\d{4})(?:\s*[-]?\s*[Qq]([1-4])|-(\d{1,2}))?\s*$")


def write_page(out_dir: str | Path, name: str, html: str) -> Path:
    """Write ``html`` as ``<out_dir>/<name>.html`` (UTF-8, folder created) and return the path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return path


def parse_period(period: Any) -> Period:
    """Parse ``"2026Q3"``, ``"2026-Q3"``, ``"2026-07"`` or ``"2026"`` into a :class:`Period`.

    Parameters
    ----------
    period : str or int
        The period label.

    Returns
    -------
    Period

    Raises
    ------
    ZkValueError
        Anything else; the message gives the accepted forms.
    """
    text = str(period) if isinstance(period, str | int) and not isinstance(period, bool) else None
    m = _PERIOD_RE.match(text) if text is not None else None
    bad = (f"The period {period!r} is not a year, quarter or month. Rule: give 'YYYY' (e.g. '2026'), 'YYYYQn' "
           f"(e.g. '2026Q3') or 'YYYY-MM' (e.g. '2026-07').")
    if m is None:
        raise ZkValueError(bad)
    year = int(m.group(1))
    if not 1900 <= year <= 2200:
        raise ZkValueError(bad)
    if m.group(2):
        q = int(m.group(2))
        start = pd.Timestamp(year=year, month=3 * q - 2, day=1)
        return Period(f"{year}Q{q}", start, start + pd.DateOffset(months=3))
    if m.group(3):
        month = int(m.group(3))
        if not 1 <= month <= 12:
            raise ZkValueError(bad)
        start = pd.Timestamp(year=year, month=month, day=1)
        return Period(f"{year}-{month:02d}", start, start + pd.DateOffset(months=1))
    start = pd.Timestamp(year=year, month=1, day=1)
    return Period(f"{year}", start, start + pd.DateOffset(years=1))
