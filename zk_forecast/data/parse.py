"""Parsers for one cell of text: numbers, dates, booleans and codes, each returning a value or a reason.

They run once per distinct value of a column (columns are dictionary-encoded first), so a column of two million
rows with two thousand distinct dates costs two thousand parses. Every failure comes back as a reason in the
form users read: what is wrong and how to fix it, in Chinese and English.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata

__all__ = ["parse_bool", "parse_date", "parse_number"]

EXCEL_EPOCH = _dt.datetime(1899, 12, 30)
MIN_YEAR = 1990
_SERIAL_MIN, _SERIAL_MAX = 32874, 73051  # 1990-01-01 .. 2099-12-31 as Excel serial numbers

_TIME = r"(?:[ T]\s*(\d{1,2})\s*[:时点]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2})(?:\.\d+)?)?\s*[秒分]?)?"
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME + r"\s*$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})" + _TIME + r"\s*$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_PLAIN = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_STRIP = str.maketrans("", "", " ¥$元'\u00a0\u3000")


def parse_number(text: str) -> tuple[float | None, str | None]:
    """Read a number written as exports write them.

    Accepts full-width digits (１２３), thousands separators in groups of three (1,234.50), a currency sign or
    元, and a leading apostrophe (Excel's text marker). A comma that is not a thousands separator is refused,
    because 1,5 may mean one and a half or fifteen.

    Returns
    -------
    value : float or None
    reason : str or None
        Why the text is not a number (None when it is).
    """
    t = unicodedata.normalize("NFKC", text).strip().translate(_STRIP)
    if _PLAIN.match(t):
        v = float(t)
    elif _THOUSANDS.match(t):
        v = float(t.replace(",", ""))
    elif "," in t and _PLAIN.match(t.replace(",", ".")):
        return None, "comma is not a decimal point here: write 1.5, or 1,234 for thousands / 逗号不能作小数点"
    else:
        return None, "not a number / 不是数字"
    if not math.isfinite(v):
        return None, "not a finite number / 不是有效数字"
    return v, None


def parse_bool(text: str, true_words: tuple[str, ...], false_words: tuple[str, ...]) -> tuple[bool | None, str | None]:
    """Read yes/no: 是/否, Y/N, true/false, 1/0 and the other words in the schema's lists."""
    t = unicodedata.normalize("NFKC", text).strip().lower()
    if t in true_words:
        return True, None
    if t in false_words:
        return False, None
    return None, "not yes/no: write 是 or 否 (Y/N) / 应填写 是 或 否"


def _build(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> tuple[_dt.datetime | None, str | None]:
    try:
        value = _dt.datetime(y, m, d, hh, mm, ss)
    except ValueError:
        return None, "impossible date or time (no such day) / 日期不存在"
    if y < MIN_YEAR:
        return None, f"implausible date: before {MIN_YEAR} / 日期早于 {MIN_YEAR} 年"
    return value, None


def _int_or_zero(s: str | None) -> int:
    return int(s) if s else 0


def parse_date(text: str, *, dayfirst: bool | None = None) -> tuple[_dt.datetime | None, str | None]:
    """Read a date or date-time in the formats Chinese exports mix.

    ``2024-03-05``, ``2024/3/5``, ``2024.3.5``, ``2024年3月5日``, ``20240305``, each optionally followed by a time
    (``14:30``, ``14:30:00``, ``14时30分``, ISO ``T14:30:00.000``), and Excel serial day numbers (``45356``, with a
    fraction for the time of day). Day-first or month-first dates with the year last (``05/03/2024``) are
    ambiguous and refused unless ``dayfirst`` says which order the export uses.

    Parameters
    ----------
    text : str
        The cell text.
    dayfirst : bool, optional
        For year-last dates: True reads 05/03/2024 as 5 March, False as 3 May, None refuses them.

    Returns
    -------
    value : datetime or None
    reason : str or None
    """
    t = unicodedata.normalize("NFKC", text).strip().lstrip("'")
    m = _YMD.match(t)
    if m:
        g = m.groups()
        return _build(int(g[0]), int(g[1]), int(g[2]), _int_or_zero(g[3]), _int_or_zero(g[4]), _int_or_zero(g[5]))
    m = _COMPACT.match(t)
    if m:
        return _build(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if _SERIAL.match(t):
        serial = float(t)
        if not (_SERIAL_MIN <= serial <= _SERIAL_MAX):
            return None, "number out of the range of Excel dates 1990-2099 / 日期序号超出范围"
        value = EXCEL_EPOCH + _dt.timedelta(days=serial)
        return value.replace(microsecond=0), None
    m = _DMY.match(t)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        hh, mm, ss = _int_or_zero(m.group(4)), _int_or_zero(m.group(5)), _int_or_zero(m.group(6))
        if dayfirst is None:
            return None, (
                "ambiguous day/month order; write YYYY-MM-DD, or set dayfirst in the mapping file "
                "/ 日月顺序不明确，请用 年-月-日"
            )
        return _build(y, b, a, hh, mm, ss) if dayfirst else _build(y, a, b, hh, mm, ss)
    return None, "not a date: write YYYY-MM-DD (2024-03-05) / 不是日期，请用 年-月-日"
