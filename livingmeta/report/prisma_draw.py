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
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from livingmeta.plots.draw import draw_text
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


@dataclass
class _Diagram:
    width: float
    height: float
    boxes: list[Box]
    arrows: list[list[tuple[float, float]]]
    phases: list[tuple[str, float, float]]  # label, top, bottom
    bar_x: float
    title: list[str]


def _layout(c: dict[str, Any], size: float, title: str | None) -> _Diagram:
    updated = c["previous"] is not None
    x = MARGIN + BAR_WIDTH + 0.15
    x_prev = x if updated else None
    x_main = x + (WIDTH_PREVIOUS + COLUMN_GAP if updated else 0.0)
    x_side = x_main + WIDTH_MAIN + COLUMN_GAP
    width = x_side + WIDTH_SIDE + MARGIN

    y = MARGIN
    title_lines = _wrap(title, width - 2 * MARGIN, size + 1.5, True) if title else []
    y += len(title_lines) * PITCH * (size + 1.5) / 72 + (0.1 if title_lines else 0.0)

    def box(role: str, x0: float, w: float, items: list[tuple[str, int, bool]], **kw: Any) -> Box:
        return Box(role, x0, w, _paragraphs(items, w, size), **kw)

    # Headings
    heading = (
        "Identification of new studies via databases and registers"
        if updated
        else ("Identification of studies via databases and registers")
    )
    headers = [
        box(
            "heading",
            x_main,
            x_side + WIDTH_SIDE - x_main,
            [(heading, 0, True)],
            fill=HEADER_NEW,
            center=True,
        )
    ]
    if updated:
        headers.append(
            box(
                "heading-previous",
                x_prev,
                WIDTH_PREVIOUS,
                [("Previous studies", 0, True)],
                fill=HEADER_PREVIOUS,
                center=True,
            )
        )
    rows: list[list[Box]] = [headers]

    # Identification
    ident = [
        box(
            "identified",
            x_main,
            WIDTH_MAIN,
            [("Records identified from:", 0, False)]
            + [(_n(name, n), 1, False) for name, n in c["identified"].items()],
        )
    ]
    ident.append(
        box(
            "removed",
            x_side,
            WIDTH_SIDE,
            [
                ("Records removed before screening:", 0, False),
                (_n("Duplicate records removed", c["duplicates_removed"]), 1, False),
                (
                    _n(
                        "Records marked as ineligible by automation tools",
                        c["records_removed_automation"],
                    ),
                    1,
                    False,
                ),
                (_n("Records removed for other reasons", c["records_removed_other"]), 1, False),
            ],
        )
    )
    if updated:
        prev = c["previous"]
        ident.append(
            box(
                "previous",
                x_prev,
                WIDTH_PREVIOUS,
                [
                    (
                        _n("Studies included in previous version of review", prev["studies"]),
                        0,
                        False,
                    ),
                    ("", 0, False),
                    (
                        _n(
                            "Reports of studies included in previous version of review",
                            prev["reports"],
                        ),
                        0,
                        False,
                    ),
                ],
            )
        )
    rows.append(ident)

    # Screening
    reasons = c["excluded_full_text"]
    excluded_items = (
        [("Reports excluded:", 0, False)] + [(_n(r, n), 1, False) for r, n in reasons.items()]
        if reasons
        else [(_n("Reports excluded", 0), 0, False)]
    )
    if c["reports_awaiting_assessment"]:
        excluded_items.append(
            (_n("Reports awaiting assessment", c["reports_awaiting_assessment"]), 0, False)
        )
    screened_items = [(_n("Records excluded", c["excluded_screening"]), 0, False)]
    if c["records_awaiting_screening"]:
        screened_items.append(
            (_n("Records awaiting screening", c["records_awaiting_screening"]), 0, False)
        )
    screening = [
        [
            box(
                "screened", x_main, WIDTH_MAIN, [(_n("Records screened", c["screened"]), 0, False)]
            ),
            box("excluded_screening", x_side, WIDTH_SIDE, screened_items),
        ],
        [
            box(
                "reports_sought",
                x_main,
                WIDTH_MAIN,
                [(_n("Reports sought for retrieval", c["reports_sought"]), 0, False)],
            ),
            box(
                "reports_not_retrieved",
                x_side,
                WIDTH_SIDE,
                [(_n("Reports not retrieved", c["reports_not_retrieved"]), 0, False)],
            ),
        ],
        [
            box(
                "reports_assessed",
                x_main,
                WIDTH_MAIN,
                [(_n("Reports assessed for eligibility", c["reports_assessed"]), 0, False)],
            ),
            box("excluded_full_text", x_side, WIDTH_SIDE, excluded_items),
        ],
    ]
    rows += screening

    # Included
    if updated:
        rows.append(
            [
                box(
                    "new_included",
                    x_main,
                    WIDTH_MAIN,
                    [
                        (_n("New studies included in review", c["new_studies"]), 0, False),
                        (_n("Reports of new included studies", c["new_reports"]), 0, False),
                    ],
                )
            ]
        )
        rows.append(
            [
                box(
                    "total_included",
                    x_main,
                    WIDTH_MAIN,
                    [
                        (_n("Total studies included in review", c["total_studies"]), 0, False),
                        (_n("Reports of total included studies", c["total_reports"]), 0, False),
                    ],
                )
            ]
        )
    else:
        rows.append(
            [
                box(
                    "included",
                    x_main,
                    WIDTH_MAIN,
                    [
                        (_n("Studies included in review", c["new_studies"]), 0, False),
                        (_n("Reports of included studies", c["new_reports"]), 0, False),
                    ],
                )
            ]
        )

    # Place rows: every box of a row as tall as the row's tallest; phase labels must fit.
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
    height = y - ROW_GAP + MARGIN

    by_role = {b.role: b for b in boxes}
    main_flow = ["identified", "screened", "reports_sought", "reports_assessed"]
    main_flow += ["new_included", "total_included"] if updated else ["included"]
    arrows: list[list[tuple[float, float]]] = []
    for a, b in pairwise(main_flow):
        cx = x_main + WIDTH_MAIN / 2
        arrows.append([(cx, by_role[a].y + by_role[a].height), (cx, by_role[b].y)])
    for left, right in (
        ("identified", "removed"),
        ("screened", "excluded_screening"),
        ("reports_sought", "reports_not_retrieved"),
        ("reports_assessed", "excluded_full_text"),
    ):
        mid = by_role[left].y + by_role[left].height / 2
        arrows.append([(x_main + WIDTH_MAIN, mid), (by_role[right].x, mid)])
    if updated:
        prev, total = by_role["previous"], by_role["total_included"]
        cx = x_prev + WIDTH_PREVIOUS / 2
        mid = total.y + total.height / 2
        arrows.append([(cx, prev.y + prev.height), (cx, mid), (x_main, mid)])

    phases = [
        ("Identification", tops[1], bottoms[1]),
        ("Screening", tops[2], bottoms[4]),
        ("Included", tops[5], bottoms[-1]),
    ]
    return _Diagram(width, height, boxes, arrows, phases, MARGIN, title_lines)


# ---------------------------------------------------------------------- drawing


def draw(counts: dict[str, Any], title: str | None = None, fontsize: float = FONT_SIZE) -> Figure:
    """Draw validated counts (:func:`livingmeta.report.prisma.validate_counts`)."""
    diagram = _layout(counts, fontsize, title)
    fig = Figure(figsize=(diagram.width, diagram.height))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, diagram.width)
    ax.set_ylim(diagram.height, 0)
    ax.set_axis_off()
    ax.set_label("prisma")
    pitch = PITCH * fontsize / 72

    for i, text in enumerate(diagram.title):
        y = MARGIN + i * PITCH * (fontsize + 1.5) / 72
        _text(ax, MARGIN, y, text, fontsize + 1.5, bold=True, label="title")
    for name, top, bottom in diagram.phases:
        ax.add_patch(
            FancyBboxPatch(
                (diagram.bar_x, top),
                BAR_WIDTH,
                bottom - top,
                boxstyle="round,pad=0,rounding_size=0.06",
                facecolor=PHASE,
                edgecolor="none",
                label=f"phase:{name}",
            )
        )
        ax.text(
            diagram.bar_x + BAR_WIDTH / 2,
            (top + bottom) / 2,
            name,
            rotation=90,
            ha="center",
            va="center",
            fontproperties=font(fontsize, True),
            color=INK,
            parse_math=False,
            label=f"phase:{name}",
        )
    for b in diagram.boxes:
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
        block = len(b.lines) * pitch
        top = b.y + (b.height - block) / 2  # text block centred vertically in its box
        for i, line in enumerate(b.lines):
            if not line.text:
                continue
            y = top + i * pitch + pitch / 2
            if b.center:
                _text(
                    ax,
                    b.x + b.width / 2,
                    y,
                    line.text,
                    fontsize,
                    bold=line.bold,
                    label=b.role,
                    ha="center",
                )
            else:
                _text(
                    ax,
                    b.x + PAD + line.indent,
                    y,
                    line.text,
                    fontsize,
                    bold=line.bold,
                    label=b.role,
                )
    for points in diagram.arrows:
        _arrow(ax, points)
    return fig


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
