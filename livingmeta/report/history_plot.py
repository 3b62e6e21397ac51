"""The plot of a pooled estimate's history across runs (the table is
:mod:`livingmeta.report.history`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, MaxNLocator, NullLocator
from matplotlib.transforms import offset_copy

from livingmeta.formatting import MEASURE_NAMES, MINUS
from livingmeta.plots.layout import font, text_width
from livingmeta.report.estimates import null_value
from livingmeta.stats.options import RATIO_MEASURES

FONT_SIZE = 8.0
POINT = "#1f4e8c"  # as the forest plots' squares
NULL_LINE = "#555555"


def history_figure(
    frame: pd.DataFrame,
    outcome: str,
    label: str,
    measure: str,
    *,
    review: str | None = None,
    model: str | None = None,
    width: float = 6.5,
    fontsize: float = FONT_SIZE,
) -> Figure:
    """The pooled estimate and its CI at every run, oldest first.

    Parameters
    ----------
    frame
        The history table (:func:`~livingmeta.report.history.read_history`); rows of
        other outcomes (and of other reviews when ``review`` is given) are ignored.
    outcome, label, measure
        Which outcome to plot, its title, and its measure (log axis for OR and RR, the
        null line at 1 for them and at 0 otherwise).
    model
        ``random`` or ``fixed``: named in the y label with the measure, so the plot
        says which estimate it follows.
    width, fontsize
        Figure width in inches and text size in points.

    Returns
    -------
    Figure
        On the Agg canvas, not registered with pyplot. Runs are evenly spaced (the x axis
        is the run, labelled with its date on at most seven ticks, as many as fit side by
        side, each date once), so a burst of runs on one day stays readable; the left
        margin grows with the y tick labels so the two-line y label stays on the figure;
        the number of studies ``k`` is printed above the plot wherever it changes,
        skipping labels that would collide.
    """
    data = frame[frame["outcome"] == outcome]
    if review is not None:
        data = data[data["review"] == review]
    data = data.sort_values(["date", "run_id"], kind="mergesort")
    is_ratio = measure in RATIO_MEASURES
    null = null_value(measure)
    n = len(data)
    fig, ax, plot_width = _figure_with_axes(label, width, fontsize)
    low, high = _draw_estimates(ax, data, is_ratio, null)
    _y_axis(ax, low, high, null, is_ratio, y_label(measure, model), fontsize)
    plot_width = _fit_left_margin(fig, ax, fontsize)
    ax.set_xlim(-0.6, max(n - 1, 0) + 0.6)
    _x_axis(ax, data, fontsize, plot_width)
    _k_labels(ax, fig, data, fontsize, plot_width)
    if n == 0:
        ax.text(
            0.5,
            0.5,
            "No pooled estimate yet",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontproperties=font(fontsize),
            parse_math=False,
            label="empty",
        )
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


def y_label(measure: str, model: str | None) -> str:
    """``Odds Ratio, random effects`` over ``(95% CI, log scale)``: what the points are
    and how the axis is drawn."""
    name = MEASURE_NAMES.get(measure, measure)
    effects = {"random": "random effects", "fixed": "fixed effect"}.get(model or "", model)
    scale = ", log scale" if measure in RATIO_MEASURES else ""
    return f"{name}, {effects}\n(95% CI{scale})" if effects else f"{name}\n(95% CI{scale})"


def _fit_left_margin(fig: Figure, ax: Any, fontsize: float) -> float:
    """Move the axes' left edge so the widest y tick label and the two-line y label fit
    (never less than the default); returns the axes' width in inches."""
    width, _ = fig.get_size_inches()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    ticks = max((text_width(t, fontsize) for t in labels), default=0.0)
    lines = ax.yaxis.label.get_text().count("\n") + 1
    needed = 0.12 + lines * fontsize * 1.25 / 72 + 0.08 + ticks + 0.06
    box = ax.get_position()
    left = max(box.x0 * width, needed)
    ax.set_position((left / width, box.y0, box.x1 - left / width, box.height))
    return (box.x1 - left / width) * width


def _figure_with_axes(label: str, width: float, fontsize: float) -> tuple[Figure, Any, float]:
    """The figure with its title and the plot's axes, margins sized for the text around
    them; also the axes' width in inches."""
    line = fontsize * 1.35 / 72
    top, bottom, left = 3.2 * line + 0.1, 3 * line + 0.15, 0.7
    right = max(0.2, text_width("2026-11-25", fontsize) / 2 + 0.05)  # last date label fits
    height = 2.2 + top + bottom
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    ax = fig.add_axes(
        (left / width, bottom / height, 1 - (left + right) / width, 1 - (top + bottom) / height)
    )
    ax.set_label("history")
    fig.text(
        0.1 / width,
        1 - 0.1 / height,
        label,
        fontproperties=font(fontsize + 1, True),
        va="top",
        ha="left",
        parse_math=False,
        label="title",
    )
    return fig, ax, width - left - right


def _draw_estimates(
    ax: Any, data: pd.DataFrame, is_ratio: bool, null: float
) -> tuple[np.ndarray, np.ndarray]:
    """The null line, and each run's estimate and CI (runs evenly spaced); returns the
    bounds that could be drawn, which set the y axis."""
    n = len(data)
    x = np.arange(n, dtype=float)
    est = data["estimate"].to_numpy(dtype=float)
    low = data["ci_low"].to_numpy(dtype=float)
    high = data["ci_high"].to_numpy(dtype=float)
    ok = np.isfinite(est) & np.isfinite(low) & np.isfinite(high)
    if is_ratio:
        ok &= (est > 0) & (low > 0) & (high > 0)
        ax.set_yscale("log")
    ax.axhline(null, color=NULL_LINE, linewidth=0.8, linestyle=(0, (4, 3)), label="null")
    if ok.any():
        segments = [
            ((xi, lo), (xi, hi)) for xi, lo, hi in zip(x[ok], low[ok], high[ok], strict=True)
        ]
        ax.add_collection(LineCollection(segments, colors=POINT, linewidths=1.0, label="ci"))
        size = max(2.0, min(6.0, 300.0 / max(n, 1)))
        ax.plot(
            x[ok],
            est[ok],
            color=POINT,
            linewidth=0.6,
            marker="s",
            markersize=size,
            label="estimate",
        )
    return low[ok], high[ok]


def _y_axis(
    ax: Any,
    low: np.ndarray,
    high: np.ndarray,
    null: float,
    is_ratio: bool,
    label: str,
    fontsize: float,
) -> None:
    values = np.concatenate([low, high, [null]])
    lo, hi = float(values.min()), float(values.max())
    if is_ratio:
        lo, hi = lo / 1.25, hi * 1.25
        ticks = [m * 10.0**e for e in range(-4, 5) for m in (1, 2, 5) if lo <= m * 10.0**e <= hi]
        if len(ticks) < 4:  # narrow range: finer steps
            ticks = [
                m * 10.0**e
                for e in range(-4, 5)
                for m in (1, 1.5, 2, 3, 5, 7)
                if lo <= m * 10.0**e <= hi
            ]
        if len(ticks) > 7:  # wide range: powers of ten only
            ticks = [t for t in ticks if math.isclose(math.log10(t), round(math.log10(t)))]
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_yticklabels([_tick(t) for t in ticks])
    else:
        pad = 0.08 * (hi - lo) if hi > lo else 1.0
        lo, hi = lo - pad, hi + pad
        ticks = [t for t in MaxNLocator(6).tick_values(lo, hi) if lo <= t <= hi]
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        ax.set_yticklabels([_tick(t) for t in ticks])
    ax.set_ylabel(label, fontproperties=font(fontsize), linespacing=1.25)
    for tick in ax.get_yticklabels():
        tick.set_fontproperties(font(fontsize))


def _tick(value: float) -> str:
    text = f"{value:g}" if value != 0 else "0"
    return text.replace("-", MINUS)


def _x_axis(ax: Any, data: pd.DataFrame, fontsize: float, axis_width: float) -> None:
    dates = [str(d)[:10] for d in data["date"]]
    ticks = date_ticks(dates, axis_width, fontsize)
    ax.set_xticks(ticks)
    ax.set_xticklabels([dates[i] for i in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    for tick in ax.get_xticklabels():
        tick.set_fontproperties(font(fontsize))
    ax.set_xlabel("Run (date)", fontproperties=font(fontsize))


def date_ticks(dates: list[str], axis_width: float, fontsize: float) -> list[int]:
    """Runs whose date labels the x axis: the first run of a date, evenly chosen, at
    most seven and no more than fit side by side (a label's width plus a gap each), so
    labels neither overlap nor repeat a date however many runs there are."""
    firsts = [i for i, d in enumerate(dates) if i == 0 or d != dates[i - 1]]
    if not firsts:
        return []
    n = len(dates)
    label = max(text_width(d, fontsize) for d in dates) + 0.2
    per_run = axis_width / (n - 1 + 1.2)  # inches per run, as the x limits
    count = min(len(firsts), 7, max(1, int(axis_width / label)))
    targets = np.linspace(0, n - 1, count)
    nearest = [min(firsts, key=lambda i, t=t: (abs(i - t), i)) for t in targets]
    chosen: list[int] = []
    for i in dict.fromkeys(nearest):
        if not chosen or (i - chosen[-1]) * per_run >= label:
            chosen.append(i)
    return chosen


def _k_labels(ax: Any, fig: Figure, data: pd.DataFrame, fontsize: float, axis_width: float) -> None:
    """``k = 4`` above the plot at the first run and wherever k changes, if it fits."""
    n = len(data)
    if n == 0:
        return
    per_run = axis_width / (n - 1 + 1.2)  # inches per run along the axis
    where = offset_copy(ax.get_xaxis_transform(), fig=fig, y=4, units="points")
    last_i: int | None = None
    last_w = 0.0
    previous: Any = object()
    for i, k in enumerate(data["k"]):
        k = None if pd.isna(k) else int(k)
        if k == previous:
            continue
        previous = k
        text = f"k = {'?' if k is None else k}" if last_i is None else f"{'?' if k is None else k}"
        w = text_width(text, fontsize)
        if last_i is not None and (i - last_i) * per_run < (w + last_w) / 2 + 0.08:
            continue
        ax.text(
            i,
            1,
            text,
            transform=where,
            ha="center",
            va="bottom",
            fontproperties=font(fontsize),
            parse_math=False,
            clip_on=False,
            label="k",
        )
        last_i, last_w = i, w
