"""Rule of ``summary.smk``: the review's summary table (Markdown + CSV) and a tidy CSV of
every pooled result, from the outcomes' ``pooled.json``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.files import write_text
from livingmeta.outcome_analysis import OutcomeAnalysis, result_json

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

    from livingmeta.summary import summary_frame, summary_markdown, summary_row

    rows, tidy_rows = [], []
    for path in pooled:
        analysis = OutcomeAnalysis.read(path)
        outcome = review.outcome(analysis.outcome["name"])
        row = summary_row(outcome.label, analysis.display(), analysis.participants)
        other = analysis.sensitivity
        row["sensitivity"] = summary_row(outcome.label, result_json(other), None) if other else None
        rows.append(row)
        for result in analysis.fixed_vs_random.values():
            shown = result_json(result)
            keys = {key: shown[key] for key in TIDY_KEYS}
            tidy_rows.append({"review": review.id, "outcome": outcome.name, **keys})
    frame = summary_frame([_flat(row) for row in rows])
    write_text(csv, frame.to_csv(index=False))
    write_text(markdown, summary_markdown(rows, review.title))
    write_text(tidy, pd.DataFrame(tidy_rows).to_csv(index=False))


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """The summary row with its sensitivity analysis as ``sensitivity_*`` columns."""
    sensitivity = row.get("sensitivity") or {}
    keys = ("method", "estimate", "ci_low", "ci_high", "p")
    extra = {f"sensitivity_{k}": sensitivity.get(k) for k in keys}
    return {**{k: v for k, v in row.items() if k != "sensitivity"}, **extra}
