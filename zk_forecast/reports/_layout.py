"""Fixed margins for the report charts, computed from the labels instead of by matplotlib's layout engine.

matplotlib's constrained layout measures every text of a figure in an extra drawing pass before the real one;
for the report charts (one figure per manufacturer and chart kind, every night) that pass costs about a third of
the drawing time. The charts here know their labels, so the margins are computed from them: the width of a label
is estimated from its characters (a CJK character one em, any other character 0.62 em, a safe upper bound for
the sans-serif fonts the reports use), and the axes are placed with those margins [inches].
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

__all__ = ["blank_figure", "placed_figure", "place_axes", "set_title", "text_height_in", "text_width_in"]

_WIDE = ("W", "F")
_NARROW_EM = 0.62


def text_width_in(texts: Iterable[Any], fontsize: float) -> float:
    """Estimated width of the widest line of ``texts`` at ``fontsize`` [points] [inches]."""
    widest = 0.0
    for text in texts:
        for line in str(text).split("\n"):
            ems = sum(1.0 if unicodedata.east_asian_width(ch) in _WIDE else _NARROW_EM for ch in line)
            widest = max(widest, ems)
    return widest * float(fontsize) / 72.0


def text_height_in(fontsize: float, lines: int = 1) -> float:
    """Height of ``lines`` lines of text at ``fontsize`` [points] [inches] (line spacing 1.2)."""
    return 1.2 * lines * float(fontsize) / 72.0


def placed_figure(width: float, height: float) -> tuple[Any, Any]:
    """A figure with one axes and no layout engine (placed by :func:`place_axes`), CJK font set up.

    :func:`zk_forecast.reports.charts.new_figure` gives its figures matplotlib's constrained layout; a figure with
    any layout engine (even after ``set_layout_engine("none")``) is drawn twice when saved, the first time only to
    run the engine. These figures have none.

    Parameters
    ----------
    width, height : float [in]
        Figure size.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
    """
    fig = blank_figure(width, height)
    return fig, fig.add_subplot()


def blank_figure(width: float, height: float) -> Any:
    """A figure without axes and without a layout engine, CJK font set up (add the subplots, then place them).

    Parameters
    ----------
    width, height : float [in]
        Figure size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from zk_forecast.reports.charts import CHART_DPI, setup_cjk_font

    setup_cjk_font()
    fig = Figure(figsize=(float(width), float(height)), dpi=CHART_DPI, layout=None)
    FigureCanvasAgg(fig)
    return fig


def place_axes(fig: Any, *, left: float, right: float, bottom: float, top: float, wspace: float = 0.0,
               cols: int = 1) -> None:
    """Turn off the figure's layout engine and place its subplots with these margins [inches].

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure from :func:`zk_forecast.reports.charts.new_figure`.
    left, right, bottom, top : float [in]
        Space between the figure's edges and the axes (room for tick labels, axis labels, titles).
    wspace : float [in]
        Space between side-by-side subplots.
    cols : int
        Number of side-by-side subplots (a twin axes shares its subplot's place).
    """
    w, h = fig.get_size_inches()
    if fig.get_layout_engine() is not None:
        fig.set_layout_engine("none")
    n_cols = max(1, int(cols))
    axes_w = max(w - left - right - wspace * (n_cols - 1), 0.1 * w)
    fig.subplots_adjust(left=min(left / w, 0.6), right=max(1.0 - right / w, 0.4), bottom=min(bottom / h, 0.6),
                        top=max(1.0 - top / h, 0.4), wspace=(wspace / (axes_w / n_cols)) if n_cols > 1 else None)


def set_title(ax: Any, text: str, **kwargs: Any) -> None:
    """``ax.set_title(text)`` at the place matplotlib would find for it, without the search.

    Left to itself, matplotlib places a title at every draw: it measures the tick labels of the axes and of its
    twins, to lift the title over anything drawn above the axes. The report charts draw nothing there (no top
    ticks or labels, no offset text), so the title stays at ``y = 1`` (the usual pad above the axes); giving
    that place skips the measuring, about a fifth of a chart's drawing time, for the same pixels.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    text : str
    **kwargs :
        Text properties (``fontsize``...), as ``Axes.set_title`` takes them.
    """
    ax.set_title(text, y=1.0, **kwargs)
