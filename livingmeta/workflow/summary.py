"""Rule of ``summary.smk``: the review's summary table (Markdown + CSV) and a tidy CSV of
every pooled result, from the outcomes' ``pooled.json``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.files import write_text
from livingmeta.outcome_analysis import (
    NO_APPROVED_DATA,
    OutcomeAnalysis,
    read_analysis,
    result_json,
)

TIDY_KEYS = (
    "measure",
    "method",
    "model",
    "tau2_method",
    "hksj",
    "k",
    "estimate",
    "ci_low",
    "ci_high",
    "z",
    "p",
    "q",
    "df",
    "p_q",
    "i2",
    "tau2",
    "pi_low",
    "pi_high",
)


def summarise_review(
    review: Review,
    *,
    pooled: Sequence[str | Path],
    csv: str | Path,
    markdown: str | Path,
    tidy: str | Path,
) -> None:
    """One row per outcome (with the other model as sensitivity analysis) and one tidy
    row per outcome and model."""
    import pandas as pd

    from livingmeta.report.appraisal_view import restricted_markdown
    from livingmeta.summary import summary_frame, summary_markdown, summary_row

    rows, tidy_rows, sections, restricted = [], [], [], []
    notes: list[str] = []  # studies not reporting an outcome, removed, double counted
    waiting: list[str] = []  # outcomes without approved data (k = 0)
    for path in pooled:
        analysis = read_analysis(path)
        outcome = review.outcome(analysis.outcome["name"])
        if not isinstance(analysis, OutcomeAnalysis):
            waiting.append(f"- {outcome.label}: {NO_APPROVED_DATA}")
            notes += [f"- {outcome.label}: {line}" for line in analysis.footnotes()]
            continue
        if analysis.risk_of_bias is not None:
            restricted.append((outcome.label, analysis.risk_of_bias.to_json()))
        row = summary_row(outcome.label, analysis.display(), analysis.participants)
        other = analysis.sensitivity
        row["sensitivity"] = summary_row(outcome.label, result_json(other), None) if other else None
        row["beyond_pooling"] = _beyond_pooling(analysis, outcome.label, sections)
        notes += [f"- {outcome.label}: {line}" for line in analysis.footnotes()]
        rows.append(row)
        for result in analysis.fixed_vs_random.values():
            shown = result_json(result)
            keys = {key: shown[key] for key in TIDY_KEYS}
            tidy_rows.append({"review": review.id, "outcome": outcome.name, **keys})
    frame = summary_frame([_flat(row) for row in rows])
    write_text(csv, frame.to_csv(index=False))
    if waiting:
        sections.append("\n".join(["## Outcomes without approved data", "", *waiting, ""]))
    if notes:
        sections.append("\n".join(["## Studies not in the analyses", "", *notes, ""]))
    sections.append(restricted_markdown(restricted))
    write_text(markdown, "\n".join([summary_markdown(rows, review.title), *filter(None, sections)]))
    columns = ["review", "outcome", *TIDY_KEYS]
    write_text(tidy, pd.DataFrame(tidy_rows, columns=columns).to_csv(index=False))


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """The summary row with its sensitivity analysis as ``sensitivity_*`` columns and
    the analyses beyond pooling as their own columns."""
    sensitivity = row.get("sensitivity") or {}
    keys = ("method", "estimate", "ci_low", "ci_high", "p")
    extra = {f"sensitivity_{k}": sensitivity.get(k) for k in keys}
    nested = ("sensitivity", "beyond_pooling")
    return {
        **{k: v for k, v in row.items() if k not in nested},
        **extra,
        **(row.get("beyond_pooling") or {}),
    }


def _beyond_pooling(
    analysis: OutcomeAnalysis, label: str, sections: list[str]
) -> dict[str, Any] | None:
    """The outcome's summary columns of the analyses beyond pooling; appends its Markdown
    section to ``sections``."""
    from livingmeta.beyond_pooling_view import beyond_pooling_columns, beyond_pooling_markdown

    if analysis.beyond_pooling is None:
        return None
    pooled = analysis.to_json()
    sections.append(beyond_pooling_markdown(label, pooled))
    return beyond_pooling_columns(pooled)
