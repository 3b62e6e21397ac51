"""Forest plots (RevMan 5 style), cumulative and leave-one-out plots, funnel and bubble
plots, risk-of-bias figures (robvis style), the sequential monitoring chart (TSA style),
and saving them reproducibly.

Drawing only: every function takes finished results from :mod:`livingmeta.stats` and
returns a :class:`matplotlib.figure.Figure` on the Agg canvas, never registered with
pyplot (nothing is shown, nothing leaks between calls). Write figures with
:func:`save_figure`.

The names in ``__all__`` are importable from here; each is loaded from its module on
first use, so a step that only saves a figure does not pay for the forest plot's imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livingmeta.lazy import lazy_exports

if TYPE_CHECKING:
    from livingmeta.plots.bubble import bubble_plot
    from livingmeta.plots.forest import forest_plot, forest_rows
    from livingmeta.plots.funnel import funnel_plot
    from livingmeta.plots.robvis import summary_plot, traffic_light_plot
    from livingmeta.plots.save import render, save_figure
    from livingmeta.plots.sensitivity import cumulative_plot, leave_one_out_plot
    from livingmeta.plots.sequential import sequential_plot

#: Where each public name lives (module under :mod:`livingmeta.plots`).
_HOMES = {
    "bubble_plot": "bubble",
    "cumulative_plot": "sensitivity",
    "forest_plot": "forest",
    "forest_rows": "forest",
    "funnel_plot": "funnel",
    "leave_one_out_plot": "sensitivity",
    "render": "save",
    "save_figure": "save",
    "sequential_plot": "sequential",
    "summary_plot": "robvis",
    "traffic_light_plot": "robvis",
}

__all__ = [
    "bubble_plot",
    "cumulative_plot",
    "forest_plot",
    "forest_rows",
    "funnel_plot",
    "leave_one_out_plot",
    "render",
    "save_figure",
    "sequential_plot",
    "summary_plot",
    "traffic_light_plot",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
