"""Make the CJK chart font shipped in ``zk_forecast/fonts/`` (a subset of Noto Sans CJK SC Regular).

Source: Debian's ``fonts-noto-cjk`` package (``NotoSansCJK-Regular.ttc``, face "Noto Sans CJK SC"), under the SIL
Open Font License 1.1 (its licence text is ``zk_forecast/fonts/OFL.txt``, taken from the package's
``/usr/share/doc/fonts-noto-cjk/copyright``). The subset keeps:

* printable ASCII, Latin-1, Greek, general punctuation, super- and subscripts, letterlike symbols, arrows,
  math signs, circled numbers and geometric shapes;
* CJK symbols and punctuation (U+3000-U+303F) and half/full-width forms (U+FF00-U+FFEF);
* every Chinese character of GB 2312 (the 6,763 hanzi of simplified Chinese business text: names of
  manufacturers, components, depots and counties fall within it);
* every other CJK character that appears in the package's own source (report labels).

The family is renamed "ZK Noto Sans SC Subset" (a modified version under the licence; no reserved name is used),
so that it never shadows a full Noto Sans CJK SC installed on the system. Hinting is dropped (charts are
rendered as anti-aliased PNG). The output is deterministic for the same input file.

Usage::

    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb x
    python tools/subset_cjk_font.py x/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
        zk_forecast/fonts/ZKNotoSansSC-Subset.otf
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FAMILY = "ZK Noto Sans SC Subset"
SOURCE_FACE = "Noto Sans CJK SC"


def _gb2312_hanzi() -> set[int]:
    out: set[int] = set()
    for hi in range(0xB0, 0xF8):  # rows 16-87: the hanzi
        for lo in range(0xA1, 0xFF):
            try:
                out.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return out


def _source_cjk(root: Path) -> set[int]:
    pattern = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
    out: set[int] = set()
    for p in sorted(root.rglob("*.py")):
        out.update(ord(ch) for ch in pattern.findall(p.read_text(encoding="utf-8")))
    return out


def codepoints(package_root: Path) -> list[int]:
    """The code points kept in the subset (sorted)."""
    keep: set[int] = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    keep |= set(range(0x0370, 0x0400))  # Greek (Weibull beta and eta)
    keep |= set(range(0x2000, 0x20A0)) | set(range(0x2100, 0x2150)) | set(range(0x2190, 0x2300))
    keep |= set(range(0x2460, 0x2500)) | set(range(0x25A0, 0x2600))  # circled numbers, geometric shapes
    keep |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))
    keep |= _gb2312_hanzi() | _source_cjk(package_root)
    return sorted(keep)


def main(argv: list[str] | None = None) -> int:
    from fontTools import subset
    from fontTools.ttLib import TTCollection

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = Path(args[0]), Path(args[1])
    faces = TTCollection(str(src)).fonts
    font = next(f for f in faces if f["name"].getDebugName(1) == SOURCE_FACE)
    options = subset.Options()
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.layout_features = ["kern", "vert", "palt"]
    sub = subset.Subsetter(options)
    sub.populate(unicodes=codepoints(Path(__file__).resolve().parents[1] / "zk_forecast"))
    sub.subset(font)
    names = font["name"]
    for rec in list(names.names):
        if rec.nameID in (1, 4, 16):
            rec.string = FAMILY
        elif rec.nameID == 3:
            rec.string = f"{FAMILY} (subset of {SOURCE_FACE} Regular)"
        elif rec.nameID == 6:
            rec.string = FAMILY.replace(" ", "") + "-Regular"
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [FAMILY.replace(" ", "") + "-Regular"]
        cff.topDictIndex[0].FullName = FAMILY
        cff.topDictIndex[0].FamilyName = FAMILY
    font.recalcTimestamp = False  # keep the source's dates: the same input gives the same bytes
    dst.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(dst))
    print(f"{dst}: {dst.stat().st_size} bytes, {len(font.getGlyphOrder())} glyphs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
