"""Reporting a living review's update: the PRISMA 2020 flow diagram, what changed in the
pooled estimates since the last run, the estimates' history across runs, and a
self-contained HTML run report with its machine-readable ``changes.json``.

Drawing functions return matplotlib figures on the Agg canvas (save them with
:func:`livingmeta.plots.save_figure`); everything else takes and returns plain,
JSON-friendly dicts so the workflow can pass them through files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livingmeta.lazy import lazy_exports

if TYPE_CHECKING:
    from livingmeta.report.estimates import compare_estimates
    from livingmeta.report.history import history_row, read_history, update_history
    from livingmeta.report.history_plot import history_figure
    from livingmeta.report.prisma import assemble_counts, prisma_figure, validate_counts
    from livingmeta.report.run_report import build_changes, render_run_report, write_run_report

#: Where each public name lives (module under :mod:`livingmeta.report`), loaded on first
#: use: a step that writes the history table does not pay for matplotlib.
_HOMES = {
    "assemble_counts": "prisma",
    "build_changes": "run_report",
    "compare_estimates": "estimates",
    "history_figure": "history_plot",
    "history_row": "history",
    "prisma_figure": "prisma",
    "read_history": "history",
    "render_run_report": "run_report",
    "update_history": "history",
    "validate_counts": "prisma",
    "write_run_report": "run_report",
}

__all__ = [
    "assemble_counts",
    "build_changes",
    "compare_estimates",
    "history_figure",
    "history_row",
    "prisma_figure",
    "read_history",
    "render_run_report",
    "update_history",
    "validate_counts",
    "write_run_report",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
