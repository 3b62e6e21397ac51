"""Risk-of-bias columns of a forest plot, as RevMan prints them.

One small coloured circle with its level's symbol per domain (and the overall judgement)
on each study row, headed by letters ``A``, ``B``, ...; a legend under the plot spells
out the letters: "(A) Bias arising from the randomization process". A study without a
settled judgement gets a grey circle without symbol, and the legend says "not yet
assessed".

The forest plot's own modules place everything; this module only draws into the table
axes they give it (inches from the figure's top-left corner, y downwards), so the
forest plot makes room with :func:`make_room` (the columns right of the graph, the legend
at the bottom), draws itself on the larger layout, then calls :func:`draw_on_forest`
(or, for another table-plus-graph figure, :func:`draw_rob_columns` and
:func:`draw_rob_legend` with its own positions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from string import ascii_uppercase

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from livingmeta.plots.draw import INK, draw_text
from livingmeta.plots.layout import COLUMN_GAP, FONT_SIZE, MARGIN, Layout, font, text_width
from livingmeta.plots.robvis import NOT_ASSESSED_LABEL, domain_headings, level_style
from livingmeta.risk_of_bias.model import Tool

LINE = 1.45  # legend line height in units of the font size
GAP = 0.05  # inches between circles


def _diameter(fontsize: float) -> float:
    return 1.1 * fontsize / 72


def rob_letters(tool: Tool) -> list[tuple[str, str, str]]:
    """(domain key, letter, label) of each column: the domains, then the overall judgement."""
    return [
        (key, ascii_uppercase[i], label) for i, (key, _, label) in enumerate(domain_headings(tool))
    ]


def rob_columns_width(tool: Tool, fontsize: float = FONT_SIZE) -> float:
    """Inches the columns take (heading "Risk of Bias" included)."""
    circles = len(rob_letters(tool)) * (_diameter(fontsize) + GAP)
    return max(circles, text_width("Risk of Bias", fontsize, bold=True))


def rob_legend_lines(tool: Tool, with_not_assessed: bool = False) -> list[str]:
    """The legend's lines: a title, then "(A) ..." per column."""
    lines = ["Risk of bias legend"]
    lines += [f"({letter}) {label}" for _, letter, label in rob_letters(tool)]
    if with_not_assessed:
        lines.append(f"Grey: {NOT_ASSESSED_LABEL.lower()}")
    return lines


def rob_legend_height(tool: Tool, fontsize: float = FONT_SIZE, **kwargs: bool) -> float:
    """Inches the legend takes."""
    return len(rob_legend_lines(tool, **kwargs)) * LINE * fontsize / 72


def draw_rob_columns(
    ax: Axes,
    tool: Tool,
    *,
    x: float,
    heading_y: float,
    rows: Sequence[tuple[float, str | None]],
    judgements: Mapping[str, Mapping[str, str]],
    fontsize: float = FONT_SIZE,
) -> None:
    """Draw the heading, the letters and one circle per domain on each study row.

    Parameters
    ----------
    ax
        The forest plot's table axes (inches, y downwards).
    x
        Left edge of the columns.
    heading_y
        Baseline of the column headings (the forest plot's lower heading line).
    rows
        (y, study label) of every table row; None for rows that are not studies.
    judgements
        Study label to its settled ``{domain key: level key}``.
    """
    letters = rob_letters(tool)
    size = _diameter(fontsize)
    centres = [x + (j + 0.5) * (size + GAP) for j in range(len(letters))]
    width = rob_columns_width(tool, fontsize)
    above = heading_y - LINE * fontsize / 72
    draw_text(
        ax,
        x + width / 2,
        above,
        "Risk of Bias",
        fontsize,
        ha="center",
        bold=True,
        label="rob-heading",
    )
    for cx, (_, letter, _) in zip(centres, letters, strict=True):
        draw_text(ax, cx, heading_y, letter, fontsize, ha="center", bold=True, label="rob-letter")
    for y, study in rows:
        if study is None:
            continue
        for cx, (key, _, _) in zip(centres, letters, strict=True):
            level = judgements.get(study, {}).get(key)
            colour, symbol, _ = level_style(tool, level)
            ax.add_patch(
                Circle(
                    (cx, y),
                    size / 2,
                    facecolor=colour,
                    edgecolor=INK,
                    lw=0.4,
                    label=f"rob-cell:{study}:{key}",
                )
            )
            if symbol:
                ax.text(
                    cx,
                    y,
                    symbol,
                    fontproperties=font(fontsize - 1, True),
                    color=INK,
                    ha="center",
                    va="center",
                    parse_math=False,
                    label="rob-symbol",
                )


def draw_rob_legend(
    ax: Axes,
    tool: Tool,
    *,
    x: float,
    y: float,
    fontsize: float = FONT_SIZE,
    with_not_assessed: bool = False,
) -> None:
    """Draw the legend from its first baseline ``y`` downwards."""
    step = LINE * fontsize / 72
    for i, text in enumerate(rob_legend_lines(tool, with_not_assessed)):
        draw_text(ax, x, y + i * step, text, fontsize, bold=i == 0, label="rob-legend")


def make_room(layout: Layout, tool: Tool, *, with_not_assessed: bool = False) -> Layout:
    """A forest plot's layout widened for the columns and lengthened for the legend."""
    width = COLUMN_GAP + rob_columns_width(tool, layout.fontsize)
    height = rob_legend_height(tool, layout.fontsize, with_not_assessed=with_not_assessed)
    return replace(layout, width=layout.width + width, height=layout.height + height)


def draw_on_forest(
    fig: Figure,
    layout: Layout,
    studies: Sequence[str | None],
    tool: Tool,
    judgements: Mapping[str, Mapping[str, str]],
    *,
    with_not_assessed: bool = False,
) -> None:
    """Draw the columns and legend on a forest plot drawn from ``make_room``'s layout.

    Parameters
    ----------
    fig
        The figure :func:`~livingmeta.plots.draw.draw_figure` returned.
    layout
        The layout :func:`make_room` returned (the one the figure was drawn from).
    studies
        One entry per table row (``layout.row_y``): the study's label as ``judgements``
        knows it (the full label, not one shortened to fit), None for other rows.
    """
    table = next(ax for ax in fig.axes if ax.get_label() == "forest-table")
    fontsize = layout.fontsize
    x = layout.width - MARGIN - rob_columns_width(tool, fontsize)
    rows = list(zip(layout.row_y, studies, strict=True))
    draw_rob_columns(
        table,
        tool,
        x=x,
        heading_y=layout.heading_y[1],
        rows=rows,
        judgements=judgements,
        fontsize=fontsize,
    )
    legend = rob_legend_height(tool, fontsize, with_not_assessed=with_not_assessed)
    y = layout.height - MARGIN - legend + LINE * fontsize / 72
    draw_rob_legend(
        table, tool, x=MARGIN, y=y, fontsize=fontsize, with_not_assessed=with_not_assessed
    )
