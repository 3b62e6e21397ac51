"""A figure that only says why there is no plot (e.g. a bubble plot of a meta-regression
that could not be fitted): the workflow's declared figure exists and tells the reader why."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from livingmeta.plots.layout import FONT_SIZE, font

FIGSIZE = (4.5, 1.2)  # inches


def note_figure(message: str, *, title: str | None = None, fontsize: float = FONT_SIZE) -> Figure:
    """A small figure with ``title`` (bold) over ``message``."""
    fig = Figure(figsize=FIGSIZE)
    FigureCanvasAgg(fig)
    if title:
        fig.text(0.5, 0.75, title, ha="center", va="center", fontproperties=font(fontsize, True))
    fig.text(0.5, 0.4, message, ha="center", va="center", fontproperties=font(fontsize))
    return fig
