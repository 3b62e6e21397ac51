"""Rules of ``extraction.smk``: check the whole extraction table, then keep one outcome's
approved rows for the pooling and plotting steps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from livingmeta.approval import is_approved, require
from livingmeta.config import Review
from livingmeta.extraction import load_extraction, read_table, row_kinds
from livingmeta.files import write_json, write_text
from livingmeta.outcomes import Outcome
from livingmeta.review_check import extraction_file_problems
from livingmeta.screening.studies import read_studies
from livingmeta.study_scope import removal_reason, removed_from_files, removed_studies


def check_extraction(
    review: Review,
    *,
    extraction: str | Path,
    marker: str | Path,
    drafts: Sequence[str | Path] = (),
) -> None:
    """Validate the whole extraction table (data contract and approval columns) and the
    names of the extractors' ``drafts``, and write a marker; the screening step depends on
    it, so an invalid table stops the run before the screening outputs are replaced (the
    per-outcome checks guard the results)."""
    from livingmeta.roster import draft_problems, review_roster

    problems = extraction_file_problems(review, extraction)
    require(problems + draft_problems(drafts, review_roster(review)))
    write_json(marker, {"review": review.id})


def validate_outcome(
    review: Review,
    outcome: Outcome,
    *,
    extraction: str | Path,
    studies: str | Path,
    data: str | Path,
    queue: str | Path | None = None,
    decisions: str | Path | None = None,
) -> None:
    """Validate the review's *whole* extraction table, then write the outcome's rows that
    pass the approval gate to ``data``.

    The validated per-outcome file is what the pooling and plotting jobs read: a problem
    anywhere in the table stops here, before any result or figure could be replaced. Rows
    not yet approved or still to extract are left out; approved rows of outcomes a study
    did not report, and of studies removed by a recorded decision (a retraction in
    ``studies``; an exclusion after inclusion in ``decisions`` about records of the
    ``queue``), with the reason in ``left_out``, are kept so the analysis can name them.
    No approved data is not a problem: the file then holds no rows to pool (see
    :class:`~livingmeta.outcome_analysis.NoApprovedData`).
    """
    raw = read_table(extraction)
    require(extraction_file_problems(review, extraction, studies))
    frame = load_extraction(extraction, {o.name: o for o in review.outcomes})
    if "outcome" not in raw.columns:
        raw["outcome"] = outcome.name
    kinds = row_kinds(frame, {outcome.name: outcome}).to_numpy()
    keep = (frame["outcome"].to_numpy() == outcome.name) & is_approved(raw).to_numpy()
    keep &= kinds != "to_extract"
    if queue is None or decisions is None:
        gone = removed_studies(read_studies(studies))
    else:
        gone = removed_from_files(review, studies, queue, decisions)
    removed = {s["study_id"]: s for s in gone}
    rows = raw[keep].copy()
    rows["left_out"] = [
        removal_reason(removed[s]) if s in removed else "" for s in frame["study_id"][keep]
    ]
    write_text(data, rows.to_csv(index=False))
