"""Rules of ``plot.smk``: an outcome's figures from its ``pooled.json`` (nothing is pooled
again), and its sequential monitoring across runs from the review's history. (The
estimate-over-time plots are drawn by the run report, which shows them.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.outcome_analysis import NO_APPROVED_DATA, OutcomeAnalysis, read_analysis
from livingmeta.outcomes import Outcome

PLOT_KINDS = ("forest", "cumulative", "leave_one_out")


def analysis_figure_kinds(review_spec: Mapping[str, Any], outcome_name: str) -> tuple[str, ...]:
    """Figures of the analyses beyond pooling of one outcome: the funnel plot, and the
    bubble plot when its ``analyses`` name exactly one covariate."""
    from livingmeta.analysis_settings import merged_analyses

    covariates = merged_analyses(review_spec, outcome_name).get("covariates") or []
    return ("funnel", "bubble") if len(covariates) == 1 else ("funnel",)


def plot_outcome(
    outcome: Outcome,
    *,
    pooled: str | Path,
    figures: Sequence[str | Path],
    dpi: int = 200,
    review: Review | None = None,
    risk_of_bias: str | Path | None = None,
) -> None:
    """Forest, cumulative, leave-one-out and funnel plots of one outcome, drawn from
    ``pooled`` into ``figures`` (``<folder>/<kind>.<format>`` each; a kind without a file
    is not drawn); with the ``review``'s settled ``risk_of_bias`` judgements, the forest
    plot shows RevMan's risk-of-bias columns when any study has one.

    One job draws every plot of an outcome: a job's start-up and imports (Python,
    matplotlib, scipy) cost far more than one figure does."""
    from livingmeta.plots import cumulative_plot, forest_plot, leave_one_out_plot

    analysis = read_analysis(pooled)
    if not isinstance(analysis, OutcomeAnalysis):
        _save_no_data(outcome, figures, dpi)
        return
    result = analysis.result
    columns = _rob_columns(review, outcome, risk_of_bias)
    drawings = {
        "forest": lambda: forest_plot(
            result,
            outcome,
            title=outcome.label,
            subgroups=analysis.subgroups,
            risk_of_bias=columns,
            sort=outcome.sort,
            axis_limits=outcome.axis_limits,
            footnotes=analysis.footnotes(),
        ),
        "cumulative": lambda: cumulative_plot(
            analysis.cumulative, outcome, title=f"{outcome.label}: cumulative by year"
        ),
        "leave_one_out": lambda: leave_one_out_plot(
            analysis.leave_one_out, result, outcome, title=f"{outcome.label}: leave-one-out"
        ),
        "funnel": lambda: _funnel_figure(outcome, analysis),
    }
    for kind, draw in drawings.items():
        files = [Path(f) for f in figures if Path(f).stem == kind]
        if files:
            _save(draw(), files, dpi)


def _rob_columns(review: Review | None, outcome: Outcome, judgements: str | Path | None) -> Any:
    """(tool, judgements by label) for the forest plot, None without settled ratings."""
    if review is None or judgements is None:
        return None
    from livingmeta.workflow.risk_of_bias import forest_columns, read_judgements

    return forest_columns(review, read_judgements(judgements), outcome.name)


def _save_no_data(outcome: Outcome, figures: Sequence[str | Path], dpi: int) -> None:
    """Placeholders for an outcome without approved data: each declared figure exists
    (so the workflow's outputs do not depend on the data) and says why it is empty."""
    from livingmeta.plots.note import note_figure

    message = f"{NO_APPROVED_DATA.capitalize()}: nothing to plot"
    _save(note_figure(message, title=outcome.label), [Path(f) for f in figures], dpi)


def _save(figure: object, files: Sequence[Path], dpi: int) -> None:
    """Save ``figure`` into each of ``files`` (the suffix gives the format)."""
    from livingmeta.plots import save_figure

    if files:
        save_figure(figure, files, dpi=dpi)


def _funnel_figure(outcome: Outcome, analysis: OutcomeAnalysis) -> Any:
    """The funnel plot of a pooled outcome (contour-enhanced when configured); below
    the small-study threshold its title says the tests were not assessed."""
    from livingmeta.plots import funnel_plot

    beyond = analysis.beyond_pooling
    contours = bool(beyond and beyond.settings.contours)
    note = (beyond.small_study_effects or {}).get("note") if beyond else None
    title = f"{outcome.label}\n{_funnel_note(note)}" if note else outcome.label
    return funnel_plot(analysis.result, contours=contours, title=title)


def _funnel_note(note: str) -> str:
    """The small-study note as the funnel plot's second title line."""
    return f"Small-study tests {note}" if note.startswith("not assessed") else note


def plot_bubble(
    outcome: Outcome, *, pooled: str | Path, figures: Sequence[str | Path], dpi: int = 200
) -> None:
    """The bubble plot of the outcome's meta-regression on its one numeric covariate, or
    a figure that says why there is none."""
    from livingmeta.plots import bubble_plot
    from livingmeta.plots.note import note_figure

    analysis = read_analysis(pooled)
    if not isinstance(analysis, OutcomeAnalysis):
        _save_no_data(outcome, figures, dpi)
        return
    beyond = analysis.beyond_pooling
    section = beyond.meta_regression if beyond else None
    fit = beyond.regression() if beyond else None
    moderator = _numbers(section["values"][section["covariates"][0]]) if section else None
    if section is None or fit is None or len(fit.coefficients) != 2 or moderator is None:
        why = (section or {}).get("note") or "needs one numeric covariate"
        figure = note_figure(f"No bubble plot: {why}", title=outcome.label)
    else:
        covariate = section["covariates"][0]
        figure = bubble_plot(
            section["yi"],
            section["vi"],
            moderator,
            fit,
            measure=outcome.measure,
            xlabel=covariate,
            title=outcome.label,
        )
    _save(figure, [Path(f) for f in figures], dpi)


def _numbers(values: Sequence[object]) -> list[float] | None:
    """The covariate's values as numbers, or None for a categorical covariate."""
    try:
        return [float(v) for v in values]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def plot_sequential(
    review: Review,
    outcome: Outcome,
    *,
    pooled: str | Path,
    history: str | Path,
    figures: Sequence[str | Path],
) -> None:
    """The sequential monitoring chart (TSA) of an outcome with ``sequential`` settings:
    its cumulative Z at every run of the review's ``history`` against the boundaries."""
    from livingmeta.report.history import read_history
    from livingmeta.report.monitoring import history_looks, monitoring_chart

    settings = review.sequential(outcome.name)
    if settings is None:
        raise ValueError(f"outcome {outcome.name} of {review.id} has no sequential settings")
    analysis = read_analysis(pooled)
    if not isinstance(analysis, OutcomeAnalysis):
        _save_no_data(outcome, figures, 200)
        return
    result = analysis.result
    looks = history_looks(read_history(history), review.id, outcome.name)
    where = f"reviews[{review.id}].outcomes[{outcome.name}].sequential"
    _, figure = monitoring_chart(outcome, settings, result, looks, where)
    _save(figure, [Path(f) for f in figures], 200)
