"""Rules of ``extraction.smk``: check the whole extraction table, then keep one outcome's
approved rows for the pooling and plotting steps."""

from __future__ import annotations

from pathlib import Path

from livingmeta.approval import approval_problems, excluded_studies, is_approved, require
from livingmeta.config import Review
from livingmeta.extraction import load_extraction, read_table
from livingmeta.files import write_json, write_text
from livingmeta.outcomes import Outcome
from livingmeta.review_check import extraction_file_problems
from livingmeta.validation import InputError, Problem


def check_extraction(review: Review, *, extraction: str | Path, marker: str | Path) -> None:
    """Validate the whole extraction table (data contract and approval columns) and write
    a marker; the screening step depends on it, so an invalid table stops the run before
    the screening outputs are replaced (the per-outcome checks guard the results)."""
    require(extraction_file_problems(review, extraction))
    write_json(marker, {"review": review.id})


def validate_outcome(
    review: Review,
    outcome: Outcome,
    *,
    extraction: str | Path,
    studies: str | Path,
    data: str | Path,
) -> None:
    """Validate the review's *whole* extraction table, then write the outcome's rows that
    pass the approval gate to ``data``.

    The validated per-outcome file is what the pooling and plotting jobs read: a problem
    anywhere in the table stops here, before any result or figure could be replaced. Rows
    not yet approved, and studies excluded by a recorded decision in ``studies``, are
    left out.
    """
    raw = read_table(extraction)
    require(approval_problems(raw, str(extraction)))
    frame = load_extraction(extraction, {o.name: o for o in review.outcomes})
    if "outcome" not in raw.columns:
        raw["outcome"] = outcome.name
    keep = (frame["outcome"].to_numpy() == outcome.name) & is_approved(raw).to_numpy()
    keep &= ~frame["study_id"].isin(excluded_studies(studies)).to_numpy()
    rows = raw[keep]
    if rows.empty:
        problem = Problem(
            str(extraction), None, "outcome", f"no approved rows for {outcome.name!r}"
        )
        raise InputError([problem])
    write_text(data, rows.to_csv(index=False))
