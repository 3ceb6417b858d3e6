"""Byte-for-byte reproducible xlsx files.

openpyxl stamps the save time into ``docProps/core.xml`` and into every zip entry; a workbook written twice from the
same data therefore differs. :func:`freeze_xlsx` rewrites a saved workbook with a fixed time in both places and a
stable entry order, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from pathlib import Path

__all__ = ["freeze_xlsx", "write_xlsx_entries"]


def freeze_xlsx(path: Path, when: _dt.datetime, *, compresslevel: int | None = None) -> None:
    """Rewrite the xlsx at ``path`` so that its bytes depend only on its content.

    Parameters
    ----------
    path : Path
        A workbook saved by openpyxl; rewritten in place.
    when : datetime
        The time written as created/modified and as every zip entry's time stamp.
    compresslevel : int, optional
        Deflate level 1-9 as :func:`write_xlsx_entries`.
    """
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = []
    for name, data in entries:
        if name == "docProps/core.xml":
            data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
        out.append((name, data))
    write_xlsx_entries(path, out, when, compresslevel=compresslevel)


def write_xlsx_entries(path: Path, entries: list[tuple[str, bytes]], when: _dt.datetime, *,
                       compresslevel: int | None = None) -> None:
    """Write the parts of an xlsx package as a zip with fixed entry times and attributes, in the given order.

    Parameters
    ----------
    path : Path
        Target file (overwritten).
    entries : list of (name, bytes)
        Zip entry names and contents, in order.
    when : datetime
        Every zip entry's time stamp.
    compresslevel : int, optional
        Deflate level 1 (fastest) to 9 (smallest); default zlib's (6).
    """
    zip_time = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=zip_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, data, compresslevel=compresslevel)
    path.write_bytes(buf.getvalue())
