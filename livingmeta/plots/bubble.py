"""Bubble plot of a meta-regression on one numeric moderator (metafor's ``regplot``): each
study's effect against the moderator, the bubble's area proportional to its weight in the
random-effects fit ``1 / (vi + tau2)``, with the fitted line and its confidence band.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from livingmeta.formatting import MEASURE_NAMES
from livingmeta.plots.draw import INK, LINE_WIDTH, REFERENCE, SQUARE
from livingmeta.plots.layout import FONT_SIZE, font
from livingmeta.stats.distributions import Reference
from livingmeta.stats.metareg import MetaRegression

FIGSIZE = (4.5, 3.6)  # inches
MAX_BUBBLE = 400.0  # points^2 for the heaviest study


def bubble_plot(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    moderator: npt.ArrayLike,
    fit: MetaRegression,
    *,
    measure: str = "GIV",
    xlabel: str = "Moderator",
    title: str | None = None,
    fontsize: float = FONT_SIZE,
) -> Figure:
    """Bubble plot of ``fit``, a meta-regression on the single numeric ``moderator``.

    Effects are drawn on the analysis scale (log for OR and RR, as labelled).

    Returns
    -------
    matplotlib.figure.Figure
        On the Agg canvas, not registered with pyplot; write it with ``save_figure``.
    """
    if len(fit.coefficients) != 2:
        raise ValueError("a bubble plot shows a meta-regression on one numeric moderator")
    y, v, x = (np.asarray(a, dtype=np.float64) for a in (yi, vi, moderator))
    weights = 1.0 / (v + fit.tau2)
    fig = Figure(figsize=FIGSIZE)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.15, 0.15, 0.8, 0.72 if title else 0.78))
    ax.set_label("bubble")
    grid = np.linspace(float(x.min()), float(x.max()), 100)
    intercept, slope = fit.coefficients
    line = intercept.estimate + slope.estimate * grid
    half = _band_half_width(grid, intercept.se, slope.se, _covariance(fit, x, v), fit)
    ax.fill_between(grid, line - half, line + half, color=REFERENCE, alpha=0.5, linewidth=0)
    ax.plot(grid, line, color=INK, linewidth=LINE_WIDTH)
    ax.scatter(
        x,
        y,
        s=MAX_BUBBLE * weights / weights.max(),
        facecolors="none",
        edgecolors=SQUARE,
        linewidths=0.8,
    )
    scale = f"log {measure}" if measure in ("OR", "RR") else MEASURE_NAMES.get(measure, measure)
    ax.set_xlabel(xlabel, fontproperties=font(fontsize))
    ax.set_ylabel(scale, fontproperties=font(fontsize))
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    for label in ax.get_xticklabels() + ax.get_yticklabels():
        label.set_fontproperties(font(fontsize))
    if title:
        fig.text(0.5, 0.96, title, ha="center", va="top", fontproperties=font(fontsize, True))
    return fig


def _covariance(fit: MetaRegression, x: np.ndarray, v: np.ndarray) -> float:
    """Covariance of intercept and slope, from the weighted design (rescaled like the
    reported standard errors, so Knapp-Hartung fits get their wider band)."""
    w = 1.0 / (v + fit.tau2)
    X = np.column_stack([np.ones_like(x), x])
    vb = np.linalg.inv(X.T @ (X * w[:, None]))
    ratio = fit.coefficients[1].se ** 2 / vb[1, 1]
    return float(vb[0, 1] * ratio)


def _band_half_width(
    grid: np.ndarray, se0: float, se1: float, cov: float, fit: MetaRegression
) -> np.ndarray:
    reference = Reference(fit.qe_df if fit.test == "t" else None)
    crit = float(reference.ppf(0.975))
    return crit * np.sqrt(se0**2 + grid**2 * se1**2 + 2 * grid * cov)
