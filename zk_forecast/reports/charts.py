"""Charts for the reports: matplotlib figures whose Chinese labels render, embedded as PNG data URIs.

Font
----
:func:`setup_cjk_font` finds a font with the CJK glyphs the reports need, registers it with matplotlib and
puts it first in ``font.sans-serif`` (DejaVu Sans stays behind it as the fallback for any other glyph).
Where it looks, in order:

1. ``ZK_FORECAST_CJK_FONT``: a font file (``.ttf``, ``.otf``, ``.ttc``) named by the environment variable;
2. the system's own Chinese fonts, by family: Microsoft YaHei, PingFang SC, Noto Sans CJK SC, WenQuanYi Micro
   Hei, WenQuanYi Zen Hei (found through matplotlib's font list), then Windows' font files (``msyh.ttc``,
   ``msyh.ttf``, ``simhei.ttf`` in ``%WINDIR%\\Fonts``);
3. the font shipped in the package, ``zk_forecast/fonts/ZKNotoSansSC-Subset.otf``: a subset of Noto Sans CJK SC
   (every GB 2312 hanzi, CJK punctuation and the package's own labels) from Debian's ``fonts-noto-cjk``, under
   the SIL Open Font License 1.1 (``zk_forecast/fonts/OFL.txt``; made by ``tools/subset_cjk_font.py``), so that
   a fresh ``pip install`` renders Chinese without system packages.

Figures are drawn on matplotlib's Agg canvas through :class:`matplotlib.figure.Figure` (never through
``pyplot``), so building a report changes no global backend and leaks no open figures.
"""

from __future__ import annotations

import base64
import io
import os
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zk_forecast.errors import ZkValueError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["CHART_DPI", "cjk_font_path", "figure_to_data_uri", "missing_glyphs", "new_figure", "plain_log_axis",
           "setup_cjk_font"]

CHART_DPI = 110
"""Resolution of embedded PNG charts [dots per inch]; fixed so that the same figure gives the same bytes."""

PNG_COMPRESS_LEVEL = 1
"""zlib level of the embedded PNG charts: the charts are flat colours on white, which the fastest level packs
within 2 % of the default level 6 at about half the encoding time (zlib is deterministic: same pixels, same
bytes)."""

_ENV = "ZK_FORECAST_CJK_FONT"
_WINDOWS_FONTS = ("msyh.ttc", "msyh.ttf", "simhei.ttf")
_SYSTEM_FAMILIES = ("Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei",
                    "WenQuanYi Zen Hei")
_PACKAGE_FONT = ("zk_forecast", "fonts/ZKNotoSansSC-Subset.otf")


def _system_candidate() -> Path | None:
    """The first of :data:`_SYSTEM_FAMILIES` installed on this machine (matplotlib's font list), if any."""
    from matplotlib import font_manager

    for family in _SYSTEM_FAMILIES:
        try:
            found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        p = Path(found)
        if p.is_file() and font_manager.FontProperties(fname=str(p)).get_name() == family:
            return p
    return None


def _windows_candidates() -> list[Path]:
    root = os.environ.get("WINDIR") or os.environ.get("SystemRoot")
    if not root:
        return [Path("C:/Windows/Fonts") / f for f in _WINDOWS_FONTS] if sys.platform == "win32" else []
    return [Path(root) / "Fonts" / f for f in _WINDOWS_FONTS]


def _package_candidate() -> Path | None:
    pkg, rel = _PACKAGE_FONT
    try:
        root = resources.files(pkg)
    except ModuleNotFoundError:
        return None
    target = root.joinpath(*rel.split("/"))
    try:
        path = Path(str(target))
    except TypeError:  # pragma: no cover - zipped installs are not supported by setuptools wheels here
        return None
    return path if path.is_file() else None


def cjk_font_path() -> Path:
    """The font file :func:`setup_cjk_font` uses.

    Returns
    -------
    pathlib.Path
        First existing of: ``$ZK_FORECAST_CJK_FONT``; a system Chinese font (Microsoft YaHei, PingFang SC,
        Noto Sans CJK SC, WenQuanYi; then Windows' font files); the Noto Sans CJK SC subset shipped in the
        package.

    Raises
    ------
    ZkValueError
        No CJK font was found (中文字体缺失).
    """
    env = os.environ.get(_ENV)
    if env:
        p = Path(env)
        if not p.is_file():
            raise ZkValueError(f"{_ENV}={env!r} is not a font file; point it to a .ttf/.otf/.ttc file "
                               f"(环境变量 {_ENV} 指向的字体文件不存在).")
        return p
    p_sys = _system_candidate()
    if p_sys is not None:
        return p_sys
    for p in _windows_candidates():
        if p.is_file():
            return p
    p_pkg = _package_candidate()
    if p_pkg is not None:
        return p_pkg
    raise ZkValueError("no CJK font found for the charts; reinstall zk-forecast (it ships "
                       "zk_forecast/fonts/ZKNotoSansSC-Subset.otf) or set ZK_FORECAST_CJK_FONT to a Chinese font file "
                       "(未找到中文字体：请重新安装 zk-forecast 或设置 ZK_FORECAST_CJK_FONT).")


@lru_cache(maxsize=4)
def _register(path: str) -> str:
    from matplotlib import font_manager

    font_manager.fontManager.addfont(path)
    return str(font_manager.FontProperties(fname=path).get_name())


def setup_cjk_font() -> str:
    """Configure matplotlib so that Chinese labels render.

    Registers the font of :func:`cjk_font_path` with ``matplotlib.font_manager.fontManager``, puts its family
    first in ``rcParams["font.sans-serif"]``, selects ``sans-serif`` and draws minus signs as ``-`` (every
    font has that glyph). Safe to call repeatedly.

    Returns
    -------
    str
        The font family name used, e.g. ``"ZK Noto Sans SC Subset"`` or ``"Microsoft YaHei"``.
    """
    import matplotlib

    family = _register(str(cjk_font_path()))
    rc = matplotlib.rcParams
    rest = [f for f in rc["font.sans-serif"] if f != family]
    rc["font.sans-serif"] = [family, *rest]
    rc["font.family"] = ["sans-serif"]
    rc["axes.unicode_minus"] = False
    rc["svg.hashsalt"] = "zk_forecast"
    return family


def new_figure(width: float = 8, height: float = 4.5) -> tuple[Figure, Axes]:
    """A new figure with one axes, on the Agg canvas, with the CJK font set up.

    Parameters
    ----------
    width, height : float, default 8 × 4.5
        Figure size [inches].

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        Not registered with ``pyplot``: nothing to close but :func:`figure_to_data_uri` does no harm.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    setup_cjk_font()
    fig = Figure(figsize=(float(width), float(height)), dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    return fig, ax


def figure_to_data_uri(fig: Any, *, dpi: int = CHART_DPI) -> str:
    """Render ``fig`` as a PNG ``data:`` URI for a self-contained HTML page, then close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        From :func:`new_figure` (or ``pyplot``).
    dpi : int, default CHART_DPI
        Resolution [dots per inch].

    Returns
    -------
    str
        ``"data:image/png;base64,..."``; PNG metadata (software name and version) is left out, so the same
        figure gives the same string on every run; zlib level :data:`PNG_COMPRESS_LEVEL`.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white",
                pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def missing_glyphs(text: str, font_path: str | os.PathLike[str] | None = None) -> set[str]:
    """The characters of ``text`` that the CJK font has no glyph for (whitespace ignored).

    Parameters
    ----------
    text : str
        Labels to check.
    font_path : path-like, optional
        Font file; default :func:`cjk_font_path`.

    Returns
    -------
    set of str
        Empty when every character has a glyph in the font's character map.
    """
    from matplotlib.ft2font import FT2Font

    font = FT2Font(str(font_path if font_path is not None else cjk_font_path()))
    cmap = font.get_charmap()
    return {ch for ch in set(text) if not ch.isspace() and ord(ch) not in cmap}


def _plain_number(x: float, _pos: Any = None) -> str:
    """``1,000`` / ``250`` / ``1.5`` / ``0.5``: a tick label without powers of ten."""
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def plain_log_axis(axis: Any, values: Any, *, max_ticks: int = 6, margin: float = 1.25) -> list[float]:
    """Set a logarithmic axis to plain-number labels (``0.5, 1, 2, 5``, ``1,000, 2,000, 5,000``).

    matplotlib labels log axes as powers of ten (``10^3``, and ``2x10^0`` on its minor ticks), which a reader of
    a report should not have to decode. This sets the axis limits to the positive finite ``values`` widened by
    ``margin``, puts the major ticks at 1-2-5 steps inside them (finer steps for a narrow span, coarser for a
    wide one), labels them as plain numbers and draws no minor ticks.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        ``ax.xaxis`` or ``ax.yaxis`` of an axes whose scale is already ``"log"``.
    values : array-like of float
        The values drawn on the axis (NaN, inf and values <= 0 ignored).
    max_ticks : int, default 6
        Largest number of labelled ticks.
    margin : float [-], default 1.25
        Factor the limits extend beyond the smallest and largest value.

    Returns
    -------
    list of float
        The tick positions (empty when no value was usable; the axis is then left as it was).
    """
    import math

    import numpy as np
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return []
    lo, hi = float(v.min()) / margin, float(v.max()) * margin
    e0, e1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    ticks: list[float] = []
    for steps in ((1, 1.5, 2, 3, 5, 7), (1, 2, 5), (1, 3), (1,)):
        cand = [float(f"{m * 10.0 ** e:.12g}") for e in range(e0, e1 + 1) for m in steps]
        ticks = [t for t in cand if lo <= t <= hi]
        if len(ticks) <= max_ticks:
            break
    if len(ticks) > max_ticks:  # a span of more than max_ticks decades: every k-th power of ten
        k = math.ceil(len(ticks) / max_ticks)
        ticks = ticks[::k]
    if len(ticks) < 2:
        ticks = sorted({float(f"{lo:.2g}"), *ticks, float(f"{hi:.2g}")})
    if axis.axis_name == "x":
        axis.axes.set_xlim(lo, hi)
    else:
        axis.axes.set_ylim(lo, hi)
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(_plain_number))
    axis.set_minor_locator(NullLocator())  # unlabelled minor ticks only cost drawing time
    axis.set_minor_formatter(NullFormatter())
    return ticks
