"""Rules of ``plot.smk``: an outcome's figures from its ``pooled.json`` (nothing is pooled
again), and its estimate across runs from the review's history."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from livingmeta.outcome_analysis import OutcomeAnalysis
from livingmeta.outcomes import Outcome

PLOT_KINDS = ("forest", "cumulative", "leave_one_out")


def plot_outcome(
    outcome: Outcome, *, pooled: str | Path, figures: Sequence[str | Path], dpi: int = 200
) -> None:
    """Forest, cumulative and leave-one-out plots of one outcome, drawn from ``pooled``
    into ``figures`` (``<folder>/<kind>.<format>`` each)."""
    from livingmeta.plots import cumulative_plot, forest_plot, leave_one_out_plot

    analysis = OutcomeAnalysis.read(pooled)
    result = analysis.result
    drawings = {
        "forest": lambda: forest_plot(
            result, outcome, title=outcome.label, subgroups=analysis.subgroups
        ),
        "cumulative": lambda: cumulative_plot(
            analysis.cumulative, outcome, title=f"{outcome.label}: cumulative by year"
        ),
        "leave_one_out": lambda: leave_one_out_plot(
            analysis.leave_one_out, result, outcome, title=f"{outcome.label}: leave-one-out"
        ),
    }
    for kind, draw in drawings.items():
        _save(draw(), [Path(f) for f in figures if Path(f).stem == kind], dpi)


def plot_history(
    review_id: str, outcome: Outcome, *, history: str | Path, figures: Sequence[str | Path]
) -> None:
    """The estimate-over-time plot of one outcome, from the review's ``history``."""
    from livingmeta.report.history import history_figure, read_history

    figure = history_figure(
        read_history(history), outcome.name, outcome.label, outcome.measure, review=review_id
    )
    _save(figure, [Path(f) for f in figures], 200)


def _save(figure: object, files: Sequence[Path], dpi: int) -> None:
    """Save ``figure`` into each of ``files`` (the suffix gives the format)."""
    from livingmeta.plots import save_figure

    if files:
        save_figure(figure, files, dpi=dpi)
