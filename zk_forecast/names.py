"""Safe file names and safe text cells for everything the package writes from data.

A depot id, a manufacturer or an export's relative path ends up in a file name; a part number ends up in a csv
cell. Both come from exports nobody here controls, so both go through one function each:

* :func:`safe_name` turns any text into one file-name component: an allow-list of characters (letters of any
  script, CJK included, digits, ``-``, ``_``, ``.``), a cap on its length in UTF-8 bytes, and, whenever the text
  had to be changed, ``~`` and a short hash of the original. A name that needed no change is the text itself
  (``YC01`` stays ``YC01``); a changed one always carries the hash, and ``~`` never appears in an unchanged
  one, so two different texts never get one name (``潍柴(潍坊)`` and ``潍柴（潍坊）`` differ by their hash).
* :func:`escape_formula` keeps a spreadsheet from running a cell as a formula (text starting with ``=``,
  ``+``, ``-``, ``@``, tab or carriage return gets a leading apostrophe); :func:`escape_formula_arrow` does the
  same to a whole arrow string column.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

__all__ = ["FORMULA_START", "MAX_NAME_BYTES", "escape_formula", "escape_formula_arrow", "safe_name"]

#: Longest name :func:`safe_name` returns [bytes of UTF-8]; file systems allow 255 bytes for a whole name, and
#: the callers add a prefix and a suffix (``manufacturer_`` ... ``_2026Q3.html``).
MAX_NAME_BYTES = 120
#: First characters that make a spreadsheet read a cell as a formula (or a DDE payload).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_HASH_CHARS = 10  # 40 bits of sha256
_EXTRA_ALLOWED = frozenset("-_.")
# names Windows refuses as file names whatever the extension
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(10)] + [f"lpt{i}" for i in range(10)]
)


def _allowed(ch: str) -> bool:
    if ch in _EXTRA_ALLOWED:
        return True
    # letters and digits of any script (CJK ideographs are letters, category Lo); marks, symbols, punctuation,
    # spaces, separators and control characters are not
    return unicodedata.category(ch)[0] in ("L", "N")


def _is_safe(text: str, max_bytes: int) -> bool:
    return (
        bool(text)
        and not text.startswith((".", "-"))
        and not text.endswith(".")
        and len(text.encode("utf-8")) <= max_bytes
        and text.split(".")[0].lower() not in _RESERVED
        and all(_allowed(ch) for ch in text)
    )


def safe_name(text: Any, *, max_bytes: int = MAX_NAME_BYTES) -> str:
    """One file-name component made from ``text``, safe on every file system and distinct for distinct texts.

    Parameters
    ----------
    text : str (or any value, taken as ``str(text)``)
        A depot id, a manufacturer, a relative path...
    max_bytes : int, default 120
        Longest result [bytes of UTF-8]; at least 32.

    Returns
    -------
    str
        ``text`` itself when it already is a safe name (letters of any script, digits, ``-``, ``_``, ``.``; not
        starting with ``.`` or ``-``; not a Windows device name; within ``max_bytes``). Otherwise every other
        character replaced by ``_``, cut to fit ``max_bytes`` (never inside a character), then ``~`` and 10 hex
        digits of the sha256 of the original text: ``x/../PWNED`` gives ``x_.._PWNED~<hash>``, never a path.

    Examples
    --------
    >>> safe_name("YC01")
    'YC01'
    >>> safe_name("潍柴(潍坊)") != safe_name("潍柴（潍坊）")
    True
    """
    from zk_forecast.errors import ZkValueError

    if max_bytes < 32:
        raise ZkValueError(f"max_bytes must be at least 32 (a hash suffix takes 11); got {max_bytes}.")
    s = str(text)
    if _is_safe(s, max_bytes):
        return s
    digest = hashlib.sha256(s.encode("utf-8", errors="surrogatepass")).hexdigest()[:_HASH_CHARS]
    body = "".join(ch if _allowed(ch) else "_" for ch in s).lstrip(".-")
    room = max_bytes - _HASH_CHARS - 1
    cut = body.encode("utf-8")[:room].decode("utf-8", errors="ignore")  # never half a character
    return f"{cut}~{digest}"


def escape_formula(text: Any) -> Any:
    """``text`` with a leading apostrophe when a spreadsheet would read it as a formula; other values unchanged.

    Parameters
    ----------
    text : str or any value
        A cell about to be written to a csv file.
    """
    if isinstance(text, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def escape_formula_arrow(values: Any) -> Any:
    """:func:`escape_formula` over a pyarrow string array or chunked array (other types returned unchanged)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return values
    starts = pc.fill_null(pc.match_substring_regex(values, r"^[=+\-@\t\r]"), False)
    if not pc.any(starts).as_py():
        return values
    quoted = pc.binary_join_element_wise(pa.scalar("'", values.type), values, pa.scalar("", values.type))
    return pc.if_else(starts, quoted, values)
