"""Funnel plots in RevMan 5's style: each study's effect (x; log axis for ratios) against
its standard error (y, 0 at the top), a vertical line at the pooled estimate and dashed
pseudo 95% confidence limits ``estimate +- 1.96 SE``.

The contour-enhanced version (Peters et al. 2008) shades, around the null instead, where a
study would reach P < 0.10, 0.05 and 0.01: asymmetry from missing studies in the white
(non-significant) region suggests publication bias; missing studies in the shaded regions
suggest other causes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from livingmeta.formatting import MEASURE_NAMES
from livingmeta.plots.draw import INK, LINE_WIDTH, SQUARE
from livingmeta.plots.layout import FONT_SIZE, Scale, choose_scale, font, tick_label
from livingmeta.stats.distributions import norm_ppf
from livingmeta.stats.result import PooledResult

FIGSIZE = (4.5, 4.0)  # inches
#: Shade beyond the 99% limits (P < 0.01), then (P value, shade inside its limits): 0.01 to
#: 0.05, 0.05 to 0.10, and white where P > 0.10.
OUTER_SHADE = "#8c8c8c"
CONTOURS = ((0.01, "#b8b8b8"), (0.05, "#e0e0e0"), (0.10, "#ffffff"))
SE_MARGIN = 1.05  # the y axis runs a little past the largest standard error


def funnel_plot(
    result: PooledResult,
    *,
    contours: bool = False,
    title: str | None = None,
    fontsize: float = FONT_SIZE,
) -> Figure:
    """Funnel plot of a pooled result's studies (those that were pooled).

    Parameters
    ----------
    result
        From :func:`livingmeta.stats.pool`.
    contours
        Contour-enhanced: shade the 90%, 95% and 99% significance regions around the null.
    title
        Printed above the plot.
    fontsize
        Points.

    Returns
    -------
    matplotlib.figure.Figure
        On the Agg canvas, not registered with pyplot; write it with ``save_figure``.
    """
    pooled = [s for s in result.studies if s.estimable]
    if not pooled:
        raise ValueError("a funnel plot needs at least one pooled study")
    yi = np.array([s.yi for s in pooled])
    sei = np.sqrt([s.vi for s in pooled])
    top = float(sei.max()) * SE_MARGIN
    z = float(norm_ppf(0.975))
    centre = result.estimate
    low_edge = min(float(yi.min()), result.estimate - z * top)
    high_edge = max(float(yi.max()), result.estimate + z * top)
    show = np.exp if result.is_ratio else (lambda x: x)
    scale = choose_scale([show(low_edge), show(high_edge)], [], result.is_ratio, result.null_value)

    fig = Figure(figsize=FIGSIZE)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.16, 0.14, 0.78, 0.74 if title else 0.8))
    ax.set_label("funnel")
    se_grid = np.linspace(0.0, top, 200)
    if contours:
        _shade_contours(ax, se_grid, show)
    ax.plot(show(centre - z * se_grid), se_grid, linestyle="--", color=INK, linewidth=LINE_WIDTH)
    ax.plot(show(centre + z * se_grid), se_grid, linestyle="--", color=INK, linewidth=LINE_WIDTH)
    ax.axvline(show(result.estimate), color=INK, linewidth=LINE_WIDTH, label="pooled estimate")
    ax.scatter(
        show(yi), sei, s=18, marker="s", facecolors="none", edgecolors=SQUARE, linewidths=0.8
    )
    _axes(ax, scale, top, result.measure, result.is_ratio, fontsize)
    if contours:
        _contour_legend(ax, fontsize)
    if title:
        fig.text(0.5, 0.96, title, ha="center", va="top", fontproperties=font(fontsize, True))
    return fig


def _shade_contours(ax: Axes, se_grid: np.ndarray, show: Callable[[Any], Any]) -> None:
    """Where a study would reach P < 0.01, 0.05, 0.10 against the null (darkest first)."""
    ax.set_facecolor(OUTER_SHADE)
    for p, shade in CONTOURS:
        half = float(norm_ppf(1 - p / 2)) * se_grid
        ax.fill_betweenx(
            se_grid, show(-half), show(half), color=shade, linewidth=0, label=f"P = {p:g}"
        )


def _contour_legend(ax: Axes, fontsize: float) -> None:
    from matplotlib.patches import Patch

    labels = ("P < 0.01", "0.01 < P < 0.05", "0.05 < P < 0.10", "P > 0.10")
    shades = (OUTER_SHADE, *(shade for _, shade in CONTOURS))
    handles = [Patch(facecolor=c, edgecolor=INK, linewidth=0.3) for c in shades]
    ax.legend(
        handles, labels, loc="lower right", prop=font(fontsize * 0.85), frameon=True,
        framealpha=1.0, edgecolor=INK,
    )  # fmt: skip


def _axes(
    ax: Axes, scale: Scale, top: float, measure: str, is_ratio: bool, fontsize: float
) -> None:
    if scale.log:
        ax.set_xscale("log")
    ax.set_xlim(scale.low, scale.high)
    ax.set_ylim(top, 0.0)
    ax.xaxis.set_major_locator(FixedLocator(scale.ticks))
    ax.xaxis.set_major_formatter(FixedFormatter([tick_label(t) for t in scale.ticks]))
    ax.xaxis.set_minor_locator(NullLocator())
    scale_name = f"log[{measure}]" if is_ratio else measure
    ax.set_xlabel(MEASURE_NAMES.get(measure, measure), fontproperties=font(fontsize))
    ax.set_ylabel(f"SE({scale_name})", fontproperties=font(fontsize))
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=fontsize, width=LINE_WIDTH, colors=INK)
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        label.set_fontproperties(font(fontsize))
