"""Forest plots (RevMan 5 style), cumulative and leave-one-out plots, and saving them
reproducibly.

Drawing only: every function takes finished results from :mod:`livingmeta.stats` and
returns a :class:`matplotlib.figure.Figure` on the Agg canvas, never registered with
pyplot (nothing is shown, nothing leaks between calls). Write figures with
:func:`save_figure`.
"""

from livingmeta.plots.forest import forest_plot, forest_rows
from livingmeta.plots.save import render, save_figure
from livingmeta.plots.sensitivity import cumulative_plot, leave_one_out_plot

__all__ = [
    "cumulative_plot",
    "forest_plot",
    "forest_rows",
    "leave_one_out_plot",
    "render",
    "save_figure",
]
