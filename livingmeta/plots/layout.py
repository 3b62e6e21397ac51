"""Geometry of a table-plus-graph figure, computed before anything is drawn.

A forest plot is a table whose last column is a graph. Everything here is plain data:
the rows and their cells (:class:`Row`), the columns (:class:`Column`), the effect axis
(:class:`Scale`) and where each of them lands on the page (:class:`Layout`), all in
inches from the top-left corner. Text is measured from the font's glyph outlines,
so columns are exactly as wide as their widest cell and the figure grows with the number
of rows instead of the font shrinking.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import matplotlib as mpl
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.textpath import text_to_path

from livingmeta.plots.text import MINUS, ellipsize, wrap

DEFAULT_FONT = "DejaVu Sans"  # ships with matplotlib, so every machine draws the same glyphs
FONT_SIZE = 8.0  # points; RevMan prints forest plots at about this size
ROW_PITCH = 1.6  # row height in units of the font size
COLUMN_GAP = 0.14  # inches between columns
MARGIN = 0.15  # inches around the figure
GRAPH_WIDTH = 2.6  # inches of the graphical column
MAX_LABEL_WIDTH = 2.6  # inches before a study label is shortened with an ellipsis
HINTING_SLACK = 1.04  # raster text can be this much wider than its outline
TICK_SPACE = 17.0  # points below the graph for ticks and their labels

# Symmetric ratio scales RevMan offers, with its tick positions.
RATIO_SCALES: dict[float, tuple[float, ...]] = {
    2.0: (0.5, 0.7, 1.0, 1.5, 2.0),
    5.0: (0.2, 0.5, 1.0, 2.0, 5.0),
    10.0: (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0),
    20.0: (0.05, 0.2, 1.0, 5.0, 20.0),
    50.0: (0.02, 0.1, 1.0, 10.0, 50.0),
    100.0: (0.01, 0.1, 1.0, 10.0, 100.0),
    1000.0: (0.001, 0.1, 1.0, 10.0, 1000.0),
}


@dataclass(frozen=True)
class Mark:
    """What the graph column shows on one row (display scale values).

    ``kind`` is ``square`` (a study, sized by ``weight``), ``diamond`` (a pooled
    estimate), ``point`` (an unweighted estimate, for sensitivity plots) or
    ``prediction`` (a prediction interval bar).
    """

    kind: str
    estimate: float
    low: float
    high: float
    weight: float = 0.0


@dataclass(frozen=True)
class Row:
    """One table row: text per column key, an optional mark, and its role.

    ``note`` rows (heterogeneity, tests) hold a single text that runs across the table
    columns, as in RevMan; ``kind`` lets drawing and tests tell rows apart.
    """

    kind: str
    cells: dict[str, str] = field(default_factory=dict)
    mark: Mark | None = None
    bold: bool = False
    note: str = ""


@dataclass(frozen=True)
class Column:
    """A table column. ``group`` is a heading shared by adjacent columns (the arm name
    over Events and Total); ``rule`` underlines that shared heading."""

    key: str
    heading: str
    group: str = ""
    align: str = "right"
    rule: bool = False
    width: float = 0.0
    x: float = 0.0

    @property
    def anchor(self) -> float:
        """x of the text anchor for the column's alignment."""
        return {"left": self.x, "right": self.x + self.width}.get(
            self.align, self.x + self.width / 2
        )


@dataclass(frozen=True)
class Scale:
    """The effect axis: limits, ticks and whether it is logarithmic."""

    low: float
    high: float
    ticks: tuple[float, ...]
    log: bool

    def contains(self, value: float) -> bool:
        """True if ``value`` lies within the limits (a tolerance keeps limit values in)."""
        tol = 1e-9 * max(abs(self.low), abs(self.high))
        return self.low - tol <= value <= self.high + tol

    def fraction(self, value: float) -> float:
        """Position of ``value`` across the axis, 0 at the left limit and 1 at the right."""
        if self.log:
            return math.log(value / self.low) / math.log(self.high / self.low)
        return (value - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class Layout:
    """Where everything goes, in inches from the figure's top-left corner."""

    width: float
    height: float
    fontsize: float
    pitch: float
    columns: tuple[Column, ...]
    row_y: tuple[float, ...]
    title_lines: tuple[str, ...]
    title_y: float
    heading_y: tuple[float, float]
    rule_y: float
    graph_x: tuple[float, float]
    graph_y: tuple[float, float]
    favours: tuple[tuple[str, ...], tuple[str, ...]]
    favours_fractions: tuple[float, float]
    favours_y: float


# ---------------------------------------------------------------------- measuring text


_font_override: str | None = None


def use_font(family: str | None) -> None:
    """Draw every later figure in ``family`` (a font installed on this machine), or in
    matplotlib's bundled DejaVu Sans again with ``None``.

    The default is the bundled font, not whatever the system offers, so that the same
    inputs give the same layout, SVG and PDF bytes on every machine; a review that names
    another font (a journal's house style) opts out of that guarantee knowingly.
    """
    global _font_override
    if family is not None and family != DEFAULT_FONT:
        installed = {f.name for f in fontManager.ttflist}
        if family not in installed:
            raise ValueError(
                f"font {family!r} is not installed; installed fonts include "
                f"{', '.join(sorted(installed)[:12])}"
            )
    _font_override = None if family == DEFAULT_FONT else family
    font.cache_clear()
    text_width.cache_clear()


def font_family() -> str:
    """The family figures are drawn in (see :func:`use_font`)."""
    return _font_override or DEFAULT_FONT


@lru_cache(maxsize=8)
def font(size: float = FONT_SIZE, bold: bool = False) -> FontProperties:
    """The plots' font at ``size`` points.

    By default the font file is matplotlib's own copy of DejaVu Sans, named by path, so a
    system-wide DejaVu of another version (or an Arial) can never change the metrics.
    """
    weight = "bold" if bold else "normal"
    if _font_override is not None:
        return FontProperties(family=_font_override, size=size, weight=weight)
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = Path(mpl.get_data_path(), "fonts", "ttf", name)
    return FontProperties(fname=path, size=size, weight=weight)


@lru_cache(maxsize=65536)
def text_width(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    """Width of ``text`` in inches (mathtext off, as the plots draw it).

    Measured from the unhinted glyph outlines, which is what SVG and PDF draw; raster
    output hints glyphs to the pixel grid and comes out a few percent wider or narrower
    depending on the dpi, hence the :data:`HINTING_SLACK` margin.
    """
    if not text:
        return 0.0
    width, _, _ = text_to_path.get_text_width_height_descent(text, font(size, bold), ismath=False)
    return HINTING_SLACK * width / 72


# ---------------------------------------------------------------------- axis scale


def choose_scale(
    must: Iterable[float], prefer: Iterable[float], is_ratio: bool, null: float
) -> Scale:
    """The narrowest symmetric RevMan-style scale that shows every ``must`` value and
    every ``prefer`` value.

    ``must`` holds what a reader needs to see (point estimates, pooled intervals);
    ``prefer`` the study and prediction intervals, which fit too, so that no interval is
    cut short by default (an outcome's ``axis_limits`` narrows the axis on purpose; cut
    intervals then end in arrows). Only an interval beyond the widest scale (10^12 for
    ratios) is cut.
    """
    must_extent = _extent(must, is_ratio, null)
    prefer_extent = max(must_extent, _extent(prefer, is_ratio, null))
    candidates = _ratio_candidates() if is_ratio else _linear_candidates(must_extent, prefer_extent)
    pick = next(
        (c for c in candidates if c >= prefer_extent * (1 - 1e-9)),
        candidates[-1],
    )
    if is_ratio:
        ticks = RATIO_SCALES.get(pick) or tuple(10.0**e for e in _log_ticks(pick))
        return Scale(1 / pick, pick, ticks, log=True)
    ticks = tuple(null + f * pick for f in (-1.0, -0.5, 0.0, 0.5, 1.0))
    return Scale(null - pick, null + pick, ticks, log=False)


def fixed_scale(low: float, high: float, is_ratio: bool) -> Scale:
    """The axis an outcome's ``axis_limits`` asks for: log for ratios, with RevMan's ticks
    when the limits are one of its symmetric scales, else ticks at powers of ten (ratios)
    or five evenly spaced ones."""
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"axis_limits must be two increasing numbers; got {low}, {high}")
    if is_ratio:
        if low <= 0:
            raise ValueError(f"axis_limits of a ratio must be above 0; got {low}")
        if math.isclose(low * high, 1.0) and high in RATIO_SCALES:
            return Scale(low, high, RATIO_SCALES[high], log=True)
        powers = range(math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9) + 1)
        ticks = sorted({low, high, *(10.0**e for e in powers)})
        return Scale(low, high, tuple(ticks), log=True)
    step = (high - low) / 4
    return Scale(low, high, tuple(low + i * step for i in range(5)), log=False)


def _extent(values: Iterable[float], is_ratio: bool, null: float) -> float:
    """Largest distance from the null (as a ratio for ratio scales)."""
    extent = 1.0 if is_ratio else 0.0
    for v in values:
        if v is None or not math.isfinite(v) or (is_ratio and v <= 0):
            continue
        extent = max(extent, max(v, 1 / v) if is_ratio else abs(v - null))
    return extent


def _ratio_candidates() -> list[float]:
    return [*RATIO_SCALES, *(10.0**e for e in range(4, 13))]


def _log_ticks(limit: float) -> list[int]:
    """Exponents of the ticks of a wide ratio scale: about five, symmetric about 0."""
    top = round(math.log10(limit))
    step = max(1, top // 2)
    return sorted({-top, *range(-top + step, top, step), top} | {0})


def _linear_candidates(must: float, prefer: float) -> list[float]:
    """Half-widths 1, 2, 5 x 10^n from below the ``must`` extent to beyond ``prefer``."""
    low = must if must > 0 else (prefer if prefer > 0 else 1.0)
    first = math.floor(math.log10(low)) - 1
    last = math.floor(math.log10(max(prefer, low))) + 1
    return [m * 10.0**e for e in range(first, last + 1) for m in (1.0, 2.0, 5.0)]


def tick_label(value: float) -> str:
    """A tick label without trailing zeros (0.05, 1, 20, −10)."""
    if value == 0:
        return "0"
    text = f"{value:.6f}".rstrip("0").rstrip(".") if abs(value) >= 1e-4 else f"{value:g}"
    return text.replace("-", MINUS)


# ---------------------------------------------------------------------- layout


def fit_label(text: str, max_width: float, size: float, bold: bool = False) -> str:
    """``text`` shortened with an ellipsis to at most ``max_width`` inches."""
    return ellipsize(text, lambda s: text_width(s, size, bold) <= max_width)


def compute_layout(
    columns: Sequence[Column],
    rows: Sequence[Row],
    *,
    title: str | None,
    favours: tuple[str, str],
    fontsize: float = FONT_SIZE,
    graph_width: float = GRAPH_WIDTH,
    scale: Scale,
) -> Layout:
    """Place columns, rows, title, graph and axis labels; return the figure geometry.

    Columns are as wide as their widest cell or heading. Notes run under the table
    columns, and the graph starts only after the longest note so the two never touch.
    Vertical space below the last mark is at least what the axis ticks and the
    "Favours" labels need.
    """
    pitch = ROW_PITCH * fontsize / 72
    placed = _place_columns(columns, rows, fontsize)
    table_right = placed[-1].x + placed[-1].width if placed else MARGIN
    notes = max((text_width(r.note, fontsize) for r in rows if r.note), default=0.0)
    # notes share rows with the axis; the first tick label sticks out left of the graph
    first_tick = text_width(tick_label(scale.ticks[0]), fontsize) / 2
    graph_x0 = max(table_right + 2 * COLUMN_GAP, MARGIN + notes + COLUMN_GAP + first_tick)
    # the last tick label is centred on the right end of the axis and sticks out by half
    overhang = text_width(tick_label(scale.ticks[-1]), fontsize) / 2
    width = graph_x0 + graph_width + max(MARGIN, overhang + 0.05)
    title_lines = tuple(
        wrap(title, lambda s: text_width(s, fontsize + 1, True) <= width - 2 * MARGIN)
        if title
        else ()
    )

    y = MARGIN
    title_y = y + 0.5 * pitch
    y += len(title_lines) * (fontsize + 2) * 1.3 / 72 + (0.4 * pitch if title_lines else 0)
    heading_y = (y + 0.5 * pitch, y + 1.5 * pitch)
    rule_y = y + 2.15 * pitch
    first_row = rule_y + 0.25 * pitch
    row_y = tuple(first_row + (i + 0.5) * pitch for i in range(len(rows)))

    marked = [i for i, r in enumerate(rows) if r.mark is not None]
    last = (marked[-1] if marked else len(rows) - 1) + 1
    graph_y = (rule_y, first_row + last * pitch)
    null = _null_fraction(scale)
    half = (null * graph_width, (1 - null) * graph_width)
    fav = (
        tuple(balanced_wrap(favours[0], half[0] - 0.04, fontsize)),
        tuple(balanced_wrap(favours[1], half[1] - 0.04, fontsize)),
    )
    favours_y = graph_y[1] + (TICK_SPACE + 0.6 * fontsize) / 72
    favours_bottom = favours_y + max(len(f) for f in fav) * fontsize * 1.25 / 72
    rows_bottom = first_row + len(rows) * pitch
    height = max(rows_bottom, favours_bottom) + MARGIN
    return Layout(
        width=width,
        height=height,
        fontsize=fontsize,
        pitch=pitch,
        columns=tuple(placed),
        row_y=row_y,
        title_lines=title_lines,
        title_y=title_y,
        heading_y=heading_y,
        rule_y=rule_y,
        graph_x=(graph_x0, graph_x0 + graph_width),
        graph_y=graph_y,
        favours=fav,
        favours_fractions=(null / 2, (1 + null) / 2),
        favours_y=favours_y,
    )


def balanced_wrap(text: str, max_width: float, size: float) -> list[str]:
    """Wrap to the fewest lines that fit ``max_width``, then even out their lengths, so
    "Favours specialist care" breaks as "Favours / specialist care", not leaving one
    orphan word on the last line."""
    lines = wrap(text, lambda s: text_width(s, size) <= max_width)
    if len(lines) < 2:
        return lines
    lo, hi = 0.0, max_width
    for _ in range(20):  # narrowest width that still needs no more lines
        mid = (lo + hi) / 2
        trial = wrap(text, lambda s, m=mid: text_width(s, size) <= m)
        lo, hi = (lo, mid) if len(trial) <= len(lines) else (mid, hi)
    return wrap(text, lambda s: text_width(s, size) <= hi)


def _null_fraction(scale: Scale) -> float:
    """Where the null line falls across the graph (the "Favours" labels flank it)."""
    null = 1.0 if scale.log else 0.0
    return scale.fraction(null) if scale.contains(null) else 0.5


def _place_columns(columns: Sequence[Column], rows: Sequence[Row], size: float) -> list[Column]:
    """Widths from the widest cell or heading; shared group headings widen their span."""
    widths = []
    for col in columns:
        cells = [text_width(r.cells.get(col.key, ""), size, r.bold) for r in rows]
        widths.append(max([text_width(col.heading, size, True), *cells]))
    for start, stop, label in _groups(columns):
        span = sum(widths[start:stop]) + COLUMN_GAP * (stop - start - 1)
        need = text_width(label, size, True) + 0.1 - span
        if need > 0:
            for i in range(start, stop):
                widths[i] += need / (stop - start)
    placed, x = [], MARGIN
    for col, w in zip(columns, widths, strict=True):
        placed.append(replace(col, width=w, x=x))
        x += w + COLUMN_GAP
    return placed


def _groups(columns: Sequence[Column]) -> list[tuple[int, int, str]]:
    """Runs of adjacent columns sharing a non-empty group heading: (start, stop, label)."""
    runs: list[tuple[int, int, str]] = []
    for i, col in enumerate(columns):
        if not col.group:
            continue
        if runs and runs[-1][1] == i and runs[-1][2] == col.group:
            runs[-1] = (runs[-1][0], i + 1, col.group)
        else:
            runs.append((i, i + 1, col.group))
    return runs


def group_spans(columns: Sequence[Column]) -> list[tuple[float, float, str, bool]]:
    """Placed group headings: (x0, x1, label, underline)."""
    return [
        (
            columns[a].x,
            columns[b - 1].x + columns[b - 1].width,
            label,
            any(c.rule for c in columns[a:b]),
        )
        for a, b, label in _groups(columns)
    ]


__all__ = [
    "Column",
    "Layout",
    "Mark",
    "Row",
    "Scale",
    "choose_scale",
    "compute_layout",
    "fit_label",
    "group_spans",
    "text_width",
    "tick_label",
]
