"""Risk-of-bias figures as robvis draws them (McGuinness & Higgins, Res Synth Methods 2021).

- :func:`traffic_light_plot`: one row per study, one coloured circle per domain and the
  overall judgement, each with its level's symbol; a legend of domains and levels below.
- :func:`summary_plot`: one horizontal bar per domain, split by the share of the
  analysis' weight (or of the studies) at each level.

Only settled judgements are passed in; a study or domain without one is drawn in grey
as "Not yet assessed", never as a judgement, and one the assessors still disagree on
(level key :data:`~livingmeta.risk_of_bias.DISPUTED`) in lilac as "Assessors disagree".
Drawing only, like the forest plots: the figures are on the Agg canvas, not registered
with pyplot; save them with :func:`livingmeta.plots.save_figure`. Artists carry a
``label`` naming their role (``rob-cell:<study>:<domain>``, ``rob-bar:<domain>:<level>``)
for tests and callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from livingmeta.plots.draw import INK, draw_text, inch_figure
from livingmeta.plots.layout import FONT_SIZE, MARGIN, font, text_width
from livingmeta.risk_of_bias import DISPUTED, NOT_ASSESSED, OVERALL
from livingmeta.risk_of_bias.model import DISPUTED_COLOUR, NOT_ASSESSED_COLOUR, Level, Tool

NOT_ASSESSED_LABEL = "Not yet assessed"
DISPUTED_STYLE = (DISPUTED_COLOUR, "\u2260", "Assessors disagree (not yet settled)")
CELL = 0.32  # inches between circle centres
RADIUS = 0.13  # inches
BAR_HEIGHT = 0.6  # of the row pitch
SUMMARY_WIDTH = 4.0  # inches of the bar area


def level_style(tool: Tool, key: str | None) -> tuple[str, str, str]:
    """Colour, symbol and label of a level key (grey, no symbol, for not assessed)."""
    if key == DISPUTED:
        return DISPUTED_STYLE
    level: Level | None = tool.level(key) if key and key != NOT_ASSESSED else None
    if level is None:
        return NOT_ASSESSED_COLOUR, "", NOT_ASSESSED_LABEL
    return level.colour, level.symbol, level.label


def domain_headings(tool: Tool) -> list[tuple[str, str, str]]:
    """(key, heading, label) of each domain, then ``overall``."""
    rows = [(d.key, d.short, d.label) for d in tool.domains]
    return [*rows, (OVERALL, "Overall", "Overall risk of bias")]


def _legend_entries(tool: Tool, used: set[str | None]) -> list[tuple[str, str, str]]:
    """(colour, symbol, label) of every level, and of 'not yet assessed' when drawn."""
    entries = [(lv.colour, lv.symbol, lv.label) for lv in tool.levels]
    if DISPUTED in used:
        entries.append(DISPUTED_STYLE)
    if any(key != DISPUTED and (key is None or tool.level(key) is None) for key in used):
        entries.append((NOT_ASSESSED_COLOUR, "", NOT_ASSESSED_LABEL))
    return entries


def traffic_light_plot(
    tool: Tool,
    studies: Sequence[str],
    judgements: Mapping[str, Mapping[str, str]],
    *,
    title: str | None = None,
    fontsize: float = FONT_SIZE,
) -> Figure:
    """Study x domain grid of settled judgements (robvis' ``rob_traffic_light``).

    Parameters
    ----------
    tool
        The tool the studies were rated with (its domains give the columns).
    studies
        Study labels, top to bottom.
    judgements
        Study label to ``{domain key: level key}`` (``overall`` included; ``DISPUTED``
        where the assessors disagree); what is missing is drawn as not yet assessed.
    title
        Printed above the grid.
    fontsize
        Points; the figure grows with the number of studies.
    """
    headings = domain_headings(tool)
    line = 1.45 * fontsize / 72
    label_width = max([text_width(s, fontsize) for s in studies] + [text_width("Study", fontsize)])
    grid_x = MARGIN + label_width + 0.2
    widths = [max(CELL, text_width(h, fontsize, bold=True) + 0.1) for _, h, _ in headings]
    centres = [grid_x + sum(widths[:j]) + widths[j] / 2 for j in range(len(widths))]
    used = {judgements.get(s, {}).get(key) for s in studies for key, _, _ in headings}
    legend = _legend_entries(tool, used)
    legend_lines = len(headings) + len(legend) + 2
    top = MARGIN + (2 * line if title else 0) + 2 * line
    width = max(
        grid_x + sum(widths) + MARGIN,
        _legend_width(tool, headings, fontsize),
        _title_width(title, fontsize),
    )
    height = top + CELL * len(studies) + 0.2 + legend_lines * line + MARGIN
    fig, ax = inch_figure(width, height, "robvis")
    if title:
        draw_text(ax, MARGIN, MARGIN + line, title, fontsize + 1, bold=True, label="title")
    span = (grid_x, grid_x + sum(widths))
    draw_text(
        ax,
        sum(span) / 2,
        top - 1.4 * line,
        "Risk of bias domains",
        fontsize,
        ha="center",
        bold=True,
        label="rob-heading",
    )
    draw_text(ax, MARGIN, top - 0.4 * line, "Study", fontsize, bold=True, label="rob-heading")
    for x, (_, heading, _) in zip(centres, headings, strict=True):
        draw_text(
            ax, x, top - 0.4 * line, heading, fontsize, ha="center", bold=True, label="rob-heading"
        )
    for i, study in enumerate(studies):
        y = top + CELL * (i + 0.5)
        draw_text(ax, MARGIN, y, study, fontsize, va="center", label="rob-study")
        for x, (key, _, _) in zip(centres, headings, strict=True):
            level = judgements.get(study, {}).get(key)
            _light(ax, tool, (x, y), level, f"rob-cell:{study}:{key}", fontsize)
    y = top + CELL * len(studies) + 0.2 + line
    _draw_legend(ax, tool, headings, legend, y, line, fontsize)
    return fig


def _light(
    ax: Axes, tool: Tool, xy: tuple[float, float], level: str | None, label: str, size: float
) -> None:
    x, y = xy
    colour, symbol, _ = level_style(tool, level)
    ax.add_patch(Circle((x, y), RADIUS, facecolor=colour, edgecolor=INK, lw=0.5, label=label))
    if symbol:
        ax.text(
            x,
            y,
            symbol,
            fontproperties=font(size + 1, True),
            color=INK,
            ha="center",
            va="center",
            parse_math=False,
            label="rob-symbol",
        )


def _title_width(title: str | None, fontsize: float) -> float:
    """Inches the title needs (the figure widens rather than cut a long outcome name)."""
    return 2 * MARGIN + text_width(title, fontsize + 1, bold=True) if title else 0.0


def _legend_width(tool: Tool, headings: Sequence[tuple[str, str, str]], fontsize: float) -> float:
    """Inches the legend needs: its widest domain line or its bold judgement heading."""
    widest = max(text_width(f"{h}: {label}", fontsize) for _, h, label in headings)
    heading = text_width(_judgement_heading(tool), fontsize, bold=True)
    return 2 * MARGIN + max(0.2 + widest, heading)


def _judgement_heading(tool: Tool) -> str:
    return f"Judgement ({tool.label}):"


def _draw_legend(
    ax: Axes,
    tool: Tool,
    headings: Sequence[tuple[str, str, str]],
    entries: Sequence[tuple[str, str, str]],
    y: float,
    line: float,
    fontsize: float,
) -> None:
    draw_text(ax, MARGIN, y, "Domains:", fontsize, bold=True, label="rob-legend")
    for key, heading, label in headings:
        if key == OVERALL:
            continue
        y += line
        draw_text(ax, MARGIN, y, f"{heading}: {label}", fontsize, label="rob-legend")
    y += 1.5 * line
    draw_text(ax, MARGIN, y, _judgement_heading(tool), fontsize, bold=True, label="rob-legend")
    for colour, symbol, label in entries:
        y += line
        _key_dot(ax, MARGIN + 0.07, y, colour, label)
        draw_text(
            ax,
            MARGIN + 0.2,
            y,
            f"{symbol} {label}".strip(),
            fontsize,
            va="center",
            label="rob-legend",
        )


def _key_dot(ax: Axes, x: float, y: float, colour: str, label: str) -> None:
    """A legend's coloured dot for the level called ``label``."""
    dot = Circle((x, y), 0.06, facecolor=colour, edgecolor=INK, lw=0.5, label=f"rob-key:{label}")
    ax.add_patch(dot)


def summary_plot(
    tool: Tool,
    shares: Mapping[str, Mapping[str, float]],
    *,
    title: str | None = None,
    weighted: bool = True,
    fontsize: float = FONT_SIZE,
) -> Figure:
    """Share of weight (or studies) at each level, one bar per domain (robvis' ``rob_summary``).

    Parameters
    ----------
    tool
        The tool (domain labels, level order and colours).
    shares
        ``{domain key: {level key or "not yet assessed": percent}}``, from
        :func:`livingmeta.risk_of_bias.sensitivity.weight_shares`.
    title
        Usually the outcome's label (the weights are the outcome's).
    weighted
        Only words the axis: percent of the analysis' weight, or of the studies.
    """
    headings = [h for h in domain_headings(tool) if h[0] in shares]
    labels = [label for _, _, label in headings]
    line = 1.45 * fontsize / 72
    label_width = max(text_width(s, fontsize) for s in labels)
    legend = _legend_entries(tool, {k for s in shares.values() for k in s})
    x0 = MARGIN + label_width + 0.15
    top = MARGIN + (2 * line if title else line)
    height = top + CELL * len(headings) + 5 * line + MARGIN
    width = max(x0 + SUMMARY_WIDTH + 0.3 + MARGIN, _title_width(title, fontsize))
    fig, ax = inch_figure(width, height, "robvis")
    if title:
        draw_text(ax, MARGIN, MARGIN + line, title, fontsize + 1, bold=True, label="title")
    order = [*(lv.key for lv in tool.levels), NOT_ASSESSED]
    for i, (key, _, label) in enumerate(headings):
        y = top + CELL * (i + 0.5)
        draw_text(ax, x0 - 0.1, y, label, fontsize, ha="right", va="center", label="rob-domain")
        left = x0
        for level in order:
            share = shares[key].get(level, 0.0)
            if share <= 0:
                continue
            colour = level_style(tool, level)[0]
            size = SUMMARY_WIDTH * share / 100
            bar = Rectangle((left, y - BAR_HEIGHT * CELL / 2), size, BAR_HEIGHT * CELL)
            bar.set(facecolor=colour, edgecolor=INK, lw=0.5, label=f"rob-bar:{key}:{level}")
            ax.add_patch(bar)
            left += size
    _summary_axis(ax, x0, top + CELL * len(headings), line, fontsize, weighted)
    _summary_legend(ax, legend, x0, top + CELL * len(headings) + 3.8 * line, fontsize)
    return fig


def _summary_axis(
    ax: Axes, x0: float, y: float, line: float, fontsize: float, weighted: bool
) -> None:
    ax.plot([x0, x0 + SUMMARY_WIDTH], [y, y], color=INK, lw=0.5, label="rob-axis")
    for pct in (0, 25, 50, 75, 100):
        x = x0 + SUMMARY_WIDTH * pct / 100
        ax.plot([x, x], [y, y + 0.04], color=INK, lw=0.5)
        draw_text(ax, x, y + line, f"{pct}%", fontsize, ha="center", label="rob-tick")
    what = "of the analysis' weight" if weighted else "of studies"
    draw_text(
        ax,
        x0 + SUMMARY_WIDTH / 2,
        y + 2 * line,
        f"Share {what}",
        fontsize,
        ha="center",
        label="rob-axis-label",
    )


def _summary_legend(
    ax: Axes, entries: Sequence[tuple[str, str, str]], x0: float, y: float, fontsize: float
) -> None:
    x = x0
    for colour, _, label in entries:
        _key_dot(ax, x + 0.06, y, colour, label)
        draw_text(ax, x + 0.16, y, label, fontsize, va="center", label="rob-legend")
        x += 0.16 + text_width(label, fontsize) + 0.2
