"""Drawing a computed :class:`~livingmeta.plots.layout.Layout` onto a matplotlib figure.

Nothing here decides *what* to show or *where*; it only turns rows, columns and marks
into artists. Two axes share one coordinate system in inches from the top-left corner:
an invisible full-figure axes for the table text, and the graph column's axes, whose
x-axis is the effect scale. Artists get a ``label`` naming their role (``study:label``,
``study-squares``, ``ci-arrow`` ...) so tests and callers can find them; labels never
reach the output files, unlike ``gid``, which would write duplicate SVG ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Polygon, Rectangle
from matplotlib.path import Path
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from livingmeta.plots.layout import MARGIN, Layout, Row, Scale, font, group_spans, tick_label

INK = "#000000"
SQUARE = "#1f4e8c"  # study squares: a dark blue that prints as dark grey
CI_LINE = "#000000"
PREDICTION = "#b22222"
REFERENCE = "#9fb8d8"
LINE_WIDTH = 0.75
SQUARE_MIN_SIDE = 2.5  # points: a 0.1% study stays visible
SQUARE_MAX_SIDE = 0.7  # of the row pitch: the heaviest study still leaves its row's gap

# Arrowheads with the tip at the marker's origin, so the tip sits exactly on the axis limit.
_RIGHT = Path([(0, 0), (-1, 0.5), (-1, -0.5), (0, 0)], closed=True)
_LEFT = Path([(0, 0), (1, 0.5), (1, -0.5), (0, 0)], closed=True)


@dataclass(frozen=True)
class GraphOptions:
    """What the graph column shows besides the marks.

    ``reference`` is a vertical line at an effect (the full estimate in a leave-one-out
    plot); ``band`` a shaded interval behind the marks (its confidence interval).
    """

    null: float
    heading: tuple[str, str]
    reference: float | None = None
    band: tuple[float, float] | None = None


def inch_figure(width: float, height: float, label: str) -> tuple[Figure, Axes]:
    """A figure of ``width`` x ``height`` inches and an invisible axes over all of it in
    inches from the top-left corner, where tables and diagrams are placed (Agg canvas, no
    pyplot: nothing is registered globally, nothing needs closing)."""
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    ax.set_label(label)
    return fig, ax


def new_figure(layout: Layout) -> tuple[Figure, Axes, Axes]:
    """A figure of the layout's size with its table (:func:`inch_figure`) and graph axes."""
    fig, table = inch_figure(layout.width, layout.height, "forest-table")
    (x0, x1), (y0, y1) = layout.graph_x, layout.graph_y
    graph = fig.add_axes(
        (
            x0 / layout.width,
            1 - y1 / layout.height,
            (x1 - x0) / layout.width,
            (y1 - y0) / layout.height,
        )
    )
    graph.set_ylim(y1, y0)
    graph.set_label("forest-graph")
    graph.patch.set_visible(False)
    return fig, table, graph


def draw_figure(layout: Layout, rows: Sequence[Row], scale: Scale, options: GraphOptions) -> Figure:
    """Draw title, headings, table cells, marks and axis; return the figure."""
    fig, table, graph = new_figure(layout)
    _draw_title(table, layout)
    _draw_headings(table, layout, options.heading)
    _draw_cells(table, layout, rows)
    _setup_axis(graph, scale, layout.fontsize)
    _draw_reference(graph, layout, options)
    _draw_marks(graph, layout, rows, scale)
    _draw_favours(table, layout)
    return fig


def draw_text(
    ax: Axes,
    x: float,
    y: float,
    s: str,
    size: float,
    *,
    ha: str = "left",
    va: str = "center_baseline",
    bold: bool = False,
    label: str = "",
) -> None:
    """Text in the plots' font and ink; ``label`` names the artist's role for tests."""
    ax.text(
        x,
        y,
        s,
        fontproperties=font(size, bold),
        parse_math=False,  # study names may contain "$"
        color=INK,
        ha=ha,
        va=va,
        label=label,
    )


def _draw_title(ax: Axes, layout: Layout) -> None:
    line = (layout.fontsize + 2) * 1.3 / 72
    for i, s in enumerate(layout.title_lines):
        y = layout.title_y + i * line
        draw_text(ax, MARGIN, y, s, layout.fontsize + 1, bold=True, label="title")


def _draw_headings(ax: Axes, layout: Layout, graph_heading: tuple[str, str]) -> None:
    fs, (top, bottom) = layout.fontsize, layout.heading_y
    for x0, x1, label, rule in group_spans(layout.columns):
        draw_text(ax, (x0 + x1) / 2, top, label, fs, ha="center", bold=True, label="heading")
        if rule:  # booktabs-style rule under a heading shared by several columns
            y = (top + bottom) / 2 + 0.1 * layout.pitch
            ax.plot([x0, x1], [y, y], color=INK, lw=0.5, solid_capstyle="butt")
    for col in layout.columns:
        draw_text(ax, col.anchor, bottom, col.heading, fs, ha=col.align, bold=True, label="heading")
    gx = sum(layout.graph_x) / 2
    for y, text in zip((top, bottom), graph_heading, strict=True):
        draw_text(ax, gx, y, text, fs, ha="center", bold=True, label="heading")
    ax.plot(
        [MARGIN, layout.graph_x[1]],
        [layout.rule_y] * 2,
        color=INK,
        lw=0.6,
        solid_capstyle="butt",
        label="heading-rule",
    )


def _draw_cells(ax: Axes, layout: Layout, rows: Sequence[Row]) -> None:
    fs = layout.fontsize
    for row, y in zip(rows, layout.row_y, strict=True):
        if row.note:
            draw_text(ax, MARGIN, y, row.note, fs, label=f"{row.kind}:note")
            continue
        for col in layout.columns:
            text = row.cells.get(col.key, "")
            if text:
                label = f"{row.kind}:{col.key}"
                draw_text(ax, col.anchor, y, text, fs, ha=col.align, bold=row.bold, label=label)


def _setup_axis(ax: Axes, scale: Scale, fontsize: float) -> None:
    if scale.log:
        ax.set_xscale("log")
    ax.set_xlim(scale.low, scale.high)
    ax.xaxis.set_major_locator(FixedLocator(scale.ticks))
    ax.xaxis.set_major_formatter(FixedFormatter([tick_label(t) for t in scale.ticks]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_locator(NullLocator())
    ax.yaxis.set_minor_locator(NullLocator())
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_linewidth(LINE_WIDTH)
    ax.tick_params(
        axis="x",
        direction="out",
        length=3,
        width=LINE_WIDTH,
        pad=2,
        labelsize=fontsize,
        colors=INK,
    )
    for label in ax.get_xticklabels():
        label.set_fontproperties(font(fontsize))


def _draw_reference(ax: Axes, layout: Layout, options: GraphOptions) -> None:
    y0, y1 = layout.graph_y
    ax.plot(
        [options.null] * 2,
        [y0, y1],
        color=INK,
        lw=LINE_WIDTH,
        label="null-line",
        solid_capstyle="butt",
        zorder=1,
    )
    if options.band is not None:
        ax.axvspan(
            *options.band, color=REFERENCE, alpha=0.35, lw=0, label="reference-band", zorder=0
        )
    if options.reference is not None:
        ax.plot(
            [options.reference] * 2,
            [y0, y1],
            color="#3a5f9a",
            lw=LINE_WIDTH,
            ls=(0, (4, 2)),
            label="reference-line",
            zorder=1,
        )


def _draw_marks(ax: Axes, layout: Layout, rows: Sequence[Row], scale: Scale) -> None:
    """Squares, points, diamonds and prediction bars, with each interval clipped to the
    axis and an arrowhead where it runs on beyond it."""
    max_side = SQUARE_MAX_SIDE * layout.pitch * 72
    w_max = max((r.mark.weight for r in rows if r.mark and r.mark.kind == "square"), default=0.0)
    squares: list[tuple[float, float, float]] = []
    points: list[tuple[float, float]] = []
    segments = []
    for row, y in zip(rows, layout.row_y, strict=True):
        mark = row.mark
        if mark is None:
            continue
        low, high = max(mark.low, scale.low), min(mark.high, scale.high)
        if mark.kind == "diamond":
            _diamond(ax, mark.estimate, low, high, y, 0.36 * layout.pitch, row.kind)
        elif mark.kind == "prediction":
            _prediction_bar(ax, low, high, y, 0.22 * layout.pitch)
        else:
            if low < high:
                segments.append([(low, y), (high, y)])
            if scale.contains(mark.estimate) and mark.kind == "square":
                squares.append((mark.estimate, y, square_area(mark.weight, w_max, max_side)))
            elif scale.contains(mark.estimate):
                points.append((mark.estimate, y))
        color = PREDICTION if mark.kind == "prediction" else INK
        for value, limit, path in ((mark.low, scale.low, _LEFT), (mark.high, scale.high, _RIGHT)):
            if not scale.contains(value):
                _arrow(ax, limit, y, path, color)
    ax.add_collection(
        LineCollection(
            segments,
            colors=CI_LINE,
            linewidths=LINE_WIDTH,
            label="ci-lines",
            zorder=2,
            capstyle="butt",
        )
    )
    _scatter(ax, squares, "study-squares")
    _scatter(ax, [(x, y, (0.45 * max_side) ** 2) for x, y in points], "estimate-points")
    ax.set_xlim(scale.low, scale.high)  # adding collections must not move the limits


def square_area(weight: float, max_weight: float, max_side: float) -> float:
    """Marker area (points²) proportional to the study's weight, the heaviest study
    getting ``max_side``; a floor keeps studies of tiny weight visible."""
    side = max_side * np.sqrt(weight / max_weight) if max_weight > 0 else max_side
    return max(SQUARE_MIN_SIDE, side) ** 2


def _scatter(ax: Axes, marks: list[tuple[float, float, float]], label: str) -> None:
    if marks:
        x, y, s = zip(*marks, strict=True)
        ax.scatter(x, y, s=s, marker="s", color=SQUARE, linewidths=0, label=label, zorder=3)


def _prediction_bar(ax: Axes, low: float, high: float, y: float, h: float) -> None:
    ax.add_patch(
        Rectangle(
            (low, y - h / 2),
            high - low,
            h,
            facecolor=PREDICTION,
            edgecolor="none",
            label="prediction-interval",
            zorder=3,
        )
    )


def _diamond(ax: Axes, est: float, low: float, high: float, y: float, h: float, kind: str) -> None:
    ax.add_patch(
        Polygon(
            [(low, y), (est, y - h), (high, y), (est, y + h)],
            closed=True,
            facecolor=INK,
            edgecolor=INK,
            lw=0.5,
            joinstyle="miter",
            label=f"diamond:{kind}",
            zorder=3,
        )
    )


def _arrow(ax: Axes, x: float, y: float, path: Path, color: str) -> None:
    ax.add_line(
        Line2D(
            [x],
            [y],
            marker=MarkerStyle(path),
            markersize=6.5,
            color=color,
            lw=0,
            markeredgewidth=0,
            label="ci-arrow",
            clip_on=False,
            zorder=4,
        )
    )


def _draw_favours(ax: Axes, layout: Layout) -> None:
    x0, width = layout.graph_x[0], layout.graph_x[1] - layout.graph_x[0]
    line = layout.fontsize * 1.25 / 72
    for lines, centre in zip(layout.favours, layout.favours_fractions, strict=True):
        for i, s in enumerate(lines):
            draw_text(
                ax,
                x0 + centre * width,
                layout.favours_y + i * line,
                s,
                layout.fontsize,
                ha="center",
                va="top",
                label="favours",
            )
