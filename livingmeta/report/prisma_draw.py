"""Layout and drawing of the PRISMA 2020 flow diagram (counts already validated).

Kept apart from :mod:`livingmeta.report.prisma`, which owns the counts contract: here
everything is geometry. Boxes are placed in inches from the top-left corner, their text
wrapped by measured width (:func:`livingmeta.plots.layout.text_width`) so boxes grow with
their text and nothing overlaps; the figure is drawn on the Agg canvas without pyplot,
in the forest plots' font.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from livingmeta.plots.draw import draw_text, inch_figure
from livingmeta.plots.layout import font, text_width

_text = functools.partial(draw_text, va="center")

FONT_SIZE = 8.5  # points
PITCH = 1.3  # line height in units of the font size
PAD = 0.08  # inches between a box's edge and its text
INDENT = 0.14  # inches per indent level (list items inside a box)
MARGIN = 0.15  # inches around the figure
ROW_GAP = 0.3  # inches between rows: room for the arrow
COLUMN_GAP = 0.45  # inches between the main column and the exclusion column
BAR_WIDTH = 0.3  # inches of the phase bars ("Identification", "Screening", "Included")
WIDTH_PREVIOUS = 1.9
WIDTH_MAIN = 2.5
WIDTH_SIDE = 2.9
NBSP = "\N{NO-BREAK SPACE}"

INK = "#000000"
HEADER_NEW = "#fbe5a2"  # the template's yellow heading, lighter so it prints well
HEADER_PREVIOUS = "#d9d9d9"
PHASE = "#c9dcf0"
LINE_WIDTH = 0.8


# ---------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Line:
    """One line of text in a box, at an indent (in inches from the box's text edge)."""

    text: str
    indent: float = 0.0
    bold: bool = False


@dataclass
class Box:
    """A box of the diagram in inches from the top-left corner; ``role`` names it for
    callers and tests (``screened``, ``excluded_full_text`` ...)."""

    role: str
    x: float
    width: float
    lines: list[Line] = field(default_factory=list)
    y: float = 0.0
    height: float = 0.0
    fill: str = "white"
    center: bool = False


def _n(label: str, value: int) -> str:
    """``label (n = value)`` with no-break spaces inside the count, so wrapping never
    separates a number from its ``n =``."""
    return f"{label} (n{NBSP}={NBSP}{value})"


def _wrap(text: str, width: float, size: float, bold: bool) -> list[str]:
    """Greedy word wrap on ordinary spaces (no-break spaces hold)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and text_width(f"{lines[-1]} {word}", size, bold) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _paragraphs(items: list[tuple[str, int, bool]], width: float, size: float) -> list[Line]:
    """Wrap ``(text, indent level, bold)`` items; continuation lines hang one level in."""
    lines: list[Line] = []
    for text, level, bold in items:
        if not text:
            lines.append(Line(""))
            continue
        indent = level * INDENT
        for i, part in enumerate(_wrap(text, width - 2 * PAD - indent - INDENT, size, bold)):
            lines.append(Line(part, indent + (INDENT if i else 0.0), bold))
    return lines


def _content_height(lines: list[Line], size: float) -> float:
    return 2 * PAD + len(lines) * PITCH * size / 72


Items = list[tuple[str, int, bool]]


@dataclass
class _Diagram:
    width: float
    height: float
    boxes: list[Box]
    arrows: list[list[tuple[float, float]]]
    phases: list[tuple[str, float, float]]  # label, top, bottom
    bar_x: float
    title: list[str]


@dataclass(frozen=True)
class _Columns:
    """Left edges (inches) of the diagram's columns and its total width; the column of
    previous studies exists only in an updated review."""

    updated: bool
    previous: float
    main: float
    side: float
    width: float


def _columns(updated: bool) -> _Columns:
    x = MARGIN + BAR_WIDTH + 0.15
    main = x + (WIDTH_PREVIOUS + COLUMN_GAP if updated else 0.0)
    side = main + WIDTH_MAIN + COLUMN_GAP
    return _Columns(updated, x, main, side, side + WIDTH_SIDE + MARGIN)


def _box(role: str, x: float, width: float, items: Items, size: float, **kw: Any) -> Box:
    return Box(role, x, width, _paragraphs(items, width, size), **kw)


def _layout(c: dict[str, Any], size: float, title: str | None) -> _Diagram:
    """Boxes by phase, rows placed top to bottom, then the arrows between them."""
    cols = _columns(c["previous"] is not None)
    y = MARGIN
    title_lines = _wrap(title, cols.width - 2 * MARGIN, size + 1.5, True) if title else []
    y += len(title_lines) * PITCH * (size + 1.5) / 72 + (0.1 if title_lines else 0.0)
    rows = [
        _heading_row(cols, size),
        _identification_row(c, cols, size),
        *_screening_rows(c, cols, size),
        *_included_rows(c, cols, size),
    ]
    boxes, tops, bottoms, height = _place_rows(rows, y, size, cols.updated)
    phases = [
        ("Identification", tops[1], bottoms[1]),
        ("Screening", tops[2], bottoms[4]),
        ("Included", tops[5], bottoms[-1]),
    ]
    arrows = _arrows({b.role: b for b in boxes}, cols)
    return _Diagram(cols.width, height, boxes, arrows, phases, MARGIN, title_lines)


def _heading_row(cols: _Columns, size: float) -> list[Box]:
    heading = (
        "Identification of new studies via databases and registers"
        if cols.updated
        else ("Identification of studies via databases and registers")
    )
    width = cols.side + WIDTH_SIDE - cols.main
    headers = [
        _box("heading", cols.main, width, [(heading, 0, True)], size, fill=HEADER_NEW, center=True)
    ]
    if cols.updated:
        headers.append(
            _box(
                "heading-previous",
                cols.previous,
                WIDTH_PREVIOUS,
                [("Previous studies", 0, True)],
                size,
                fill=HEADER_PREVIOUS,
                center=True,
            )
        )
    return headers


def _identification_row(c: dict[str, Any], cols: _Columns, size: float) -> list[Box]:
    identified: Items = [("Records identified from:", 0, False)]
    identified += [(_n(name, n), 1, False) for name, n in c["identified"].items()]
    automation = "Records marked as ineligible by automation tools"
    removed: Items = [
        ("Records removed before screening:", 0, False),
        (_n("Duplicate records removed", c["duplicates_removed"]), 1, False),
        (_n(automation, c["records_removed_automation"]), 1, False),
        (_n("Records removed for other reasons", c["records_removed_other"]), 1, False),
    ]
    row = [
        _box("identified", cols.main, WIDTH_MAIN, identified, size),
        _box("removed", cols.side, WIDTH_SIDE, removed, size),
    ]
    if cols.updated:
        prev = c["previous"]
        reports = "Reports of studies included in previous version of review"
        previous: Items = [
            (_n("Studies included in previous version of review", prev["studies"]), 0, False),
            ("", 0, False),
            (_n(reports, prev["reports"]), 0, False),
        ]
        previous += _removed_previous_items(c)
        row.append(_box("previous", cols.previous, WIDTH_PREVIOUS, previous, size))
    return row


def _removed_previous_items(c: dict[str, Any]) -> Items:
    """Previous studies removed in this update (a retraction, an exclusion after
    inclusion), by reason, so the total's arithmetic shows on the diagram."""
    gone = c.get("removed_previous") or {}
    if not gone:
        return []
    items: Items = [("", 0, False)]
    items.append((_n("Removed from the review in this update", sum(gone.values())) + ":", 0, False))
    items += [(_n(reason, n), 1, False) for reason, n in gone.items()]
    items.append((_n("Reports of removed studies", c["removed_previous_reports"]), 0, False))
    return items


def _screening_rows(c: dict[str, Any], cols: _Columns, size: float) -> list[list[Box]]:
    reasons = c["excluded_full_text"]
    excluded_items: Items = (
        [("Reports excluded:", 0, False)] + [(_n(r, n), 1, False) for r, n in reasons.items()]
        if reasons
        else [(_n("Reports excluded", 0), 0, False)]
    )
    if c["reports_awaiting_assessment"]:
        excluded_items.append(
            (_n("Reports awaiting assessment", c["reports_awaiting_assessment"]), 0, False)
        )
    screened_items: Items = [(_n("Records excluded", c["excluded_screening"]), 0, False)]
    if c["records_awaiting_screening"]:
        screened_items.append(
            (_n("Records awaiting screening", c["records_awaiting_screening"]), 0, False)
        )

    def main(role: str, label: str, key: str) -> Box:
        return _box(role, cols.main, WIDTH_MAIN, [(_n(label, c[key]), 0, False)], size)

    screened = main("screened", "Records screened", "screened")
    if c.get("linked_reports"):
        linked = _n("Further reports of the same studies", c["linked_reports"])
        screened = _box(
            "screened",
            cols.main,
            WIDTH_MAIN,
            [(_n("Records screened", c["screened"]), 0, False), (linked, 1, False)],
            size,
        )

    not_retrieved = [(_n("Reports not retrieved", c["reports_not_retrieved"]), 0, False)]
    return [
        [
            screened,
            _box("excluded_screening", cols.side, WIDTH_SIDE, screened_items, size),
        ],
        [
            main("reports_sought", "Reports sought for retrieval", "reports_sought"),
            _box("reports_not_retrieved", cols.side, WIDTH_SIDE, not_retrieved, size),
        ],
        [
            main("reports_assessed", "Reports assessed for eligibility", "reports_assessed"),
            _box("excluded_full_text", cols.side, WIDTH_SIDE, excluded_items, size),
        ],
    ]


def _included_rows(c: dict[str, Any], cols: _Columns, size: float) -> list[list[Box]]:
    def included(role: str, studies: str, reports: str, prefix: str) -> list[Box]:
        items: Items = [
            (_n(studies, c[f"{prefix}_studies"]), 0, False),
            (_n(reports, c[f"{prefix}_reports"]), 0, False),
        ]
        return [_box(role, cols.main, WIDTH_MAIN, items, size)]

    if cols.updated:
        return [
            included(
                "new_included",
                "New studies included in review",
                "Reports of new included studies",
                "new",
            ),
            included(
                "total_included",
                "Total studies included in review",
                "Reports of total included studies",
                "total",
            ),
        ]
    return [
        included("included", "Studies included in review", "Reports of included studies", "new")
    ]


def _place_rows(
    rows: list[list[Box]], y: float, size: float, updated: bool
) -> tuple[list[Box], list[float], list[float], float]:
    """Every box of a row as tall as the row's tallest; phase labels must fit. Returns the
    boxes in drawing order, each row's top and bottom, and the diagram's height."""
    phase_min = {
        name: text_width(name, size, True) + 0.2
        for name in ("Identification", "Screening", "Included")
    }
    boxes: list[Box] = []
    tops: list[float] = []
    bottoms: list[float] = []
    for i, row in enumerate(rows):
        height = max(_content_height(b.lines, size) for b in row)
        if i == 1:
            height = max(height, phase_min["Identification"])
        if i == len(rows) - 1 and not updated:
            height = max(height, phase_min["Included"])
        for b in row:
            b.y, b.height = y, height
        boxes += row
        tops.append(y)
        bottoms.append(y + height)
        y += height + (ROW_GAP if i else 0.18)
    return boxes, tops, bottoms, y - ROW_GAP + MARGIN


def _arrows(by_role: dict[str, Box], cols: _Columns) -> list[list[tuple[float, float]]]:
    """Down the main column, across to each exclusion box, and from the previous studies
    to the total."""
    main_flow = ["identified", "screened", "reports_sought", "reports_assessed"]
    main_flow += ["new_included", "total_included"] if cols.updated else ["included"]
    arrows: list[list[tuple[float, float]]] = []
    for a, b in pairwise(main_flow):
        cx = cols.main + WIDTH_MAIN / 2
        arrows.append([(cx, by_role[a].y + by_role[a].height), (cx, by_role[b].y)])
    for left, right in (
        ("identified", "removed"),
        ("screened", "excluded_screening"),
        ("reports_sought", "reports_not_retrieved"),
        ("reports_assessed", "excluded_full_text"),
    ):
        mid = by_role[left].y + by_role[left].height / 2
        arrows.append([(cols.main + WIDTH_MAIN, mid), (by_role[right].x, mid)])
    if cols.updated:
        prev, total = by_role["previous"], by_role["total_included"]
        cx = cols.previous + WIDTH_PREVIOUS / 2
        mid = total.y + total.height / 2
        arrows.append([(cx, prev.y + prev.height), (cx, mid), (cols.main, mid)])
    return arrows


# ---------------------------------------------------------------------- drawing


def draw(counts: dict[str, Any], title: str | None = None, fontsize: float = FONT_SIZE) -> Figure:
    """Draw validated counts (:func:`livingmeta.report.prisma.validate_counts`)."""
    diagram = _layout(counts, fontsize, title)
    fig, ax = inch_figure(diagram.width, diagram.height, "prisma")
    for i, text in enumerate(diagram.title):
        y = MARGIN + i * PITCH * (fontsize + 1.5) / 72
        _text(ax, MARGIN, y, text, fontsize + 1.5, bold=True, label="title")
    for name, top, bottom in diagram.phases:
        _draw_phase(ax, diagram.bar_x, name, top, bottom, fontsize)
    for b in diagram.boxes:
        _draw_box(ax, b, fontsize)
    for points in diagram.arrows:
        _arrow(ax, points)
    return fig


def _draw_phase(ax: Axes, x: float, name: str, top: float, bottom: float, size: float) -> None:
    """A phase bar ("Identification", "Screening", "Included") with its rotated label."""
    ax.add_patch(
        FancyBboxPatch(
            (x, top),
            BAR_WIDTH,
            bottom - top,
            boxstyle="round,pad=0,rounding_size=0.06",
            facecolor=PHASE,
            edgecolor="none",
            label=f"phase:{name}",
        )
    )
    ax.text(
        x + BAR_WIDTH / 2,
        (top + bottom) / 2,
        name,
        rotation=90,
        ha="center",
        va="center",
        fontproperties=font(size, True),
        color=INK,
        parse_math=False,
        label=f"phase:{name}",
    )


def _draw_box(ax: Axes, b: Box, size: float) -> None:
    """A box and its lines, the text block centred vertically."""
    rounded = b.role.startswith("heading")
    ax.add_patch(
        FancyBboxPatch(
            (b.x, b.y),
            b.width,
            b.height,
            boxstyle="round,pad=0,rounding_size=0.06" if rounded else "square,pad=0",
            facecolor=b.fill,
            edgecolor="none" if rounded else INK,
            linewidth=LINE_WIDTH,
            label=b.role,
        )
    )
    pitch = PITCH * size / 72
    top = b.y + (b.height - len(b.lines) * pitch) / 2
    for i, line in enumerate(b.lines):
        if not line.text:
            continue
        y = top + i * pitch + pitch / 2
        if b.center:
            x, align = b.x + b.width / 2, "center"
        else:
            x, align = b.x + PAD + line.indent, "left"
        _text(ax, x, y, line.text, size, bold=line.bold, label=b.role, ha=align)


def _arrow(ax: Axes, points: list[tuple[float, float]]) -> None:
    codes = [Path.MOVETO] + [Path.LINETO] * (len(points) - 1)
    ax.add_patch(
        FancyArrowPatch(
            path=Path(points, codes),
            arrowstyle="-|>,head_length=0.5,head_width=0.25",
            mutation_scale=10,
            color=INK,
            linewidth=LINE_WIDTH,
            shrinkA=0,
            shrinkB=0,
            label="arrow",
        )
    )


def figure_texts(fig: Figure) -> list[str]:
    """Every text drawn on a PRISMA figure, no-break spaces as plain spaces (for tests
    and for an accessible text alternative)."""
    return [t.get_text().replace(NBSP, " ") for ax in fig.axes for t in ax.texts]
