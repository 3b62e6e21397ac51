"""What stands between the review's files and an updated analysis: extraction rows still
missing, rows not approved, extractors' disagreements not reconciled, invalid data, and
retracted reports of included studies without a recorded decision.

Used by ``livingmeta status`` and by the workflow's screening step (``status.json``), so
reviewers see the same list wherever they look.
"""

from __future__ import annotations

from typing import Any

from livingmeta.approval import (
    compare_drafts,
    extraction_template,
    is_approved,
    read_drafts,
)
from livingmeta.config import Review
from livingmeta.extraction import read_table, row_kinds
from livingmeta.retrieval.registry_files import iter_entries
from livingmeta.review_check import extraction_file_problems
from livingmeta.study_scope import studies_in_analysis
from livingmeta.validation import InputError


def analysis_blockers(review: Review) -> dict[str, Any]:
    """Every blocker of the review's analysis, JSON-ready (lists of small dicts)."""
    from livingmeta.screening.studies import read_studies

    outcomes = {o.name: o for o in review.outcomes}
    studies = read_studies(review.files.studies)
    problems = [str(p) for p in extraction_file_problems(review, review.extraction)]
    try:
        extraction = read_table(review.extraction)
    except InputError:
        extraction = None
    missing = unapproved = []
    differences = 0
    if extraction is not None:
        template = extraction_template(studies_in_analysis(review, studies), extraction, outcomes)
        missing = template[["study_id", "outcome"]].to_dict("records")
        started = extraction
        if {"study_id", "outcome"} <= set(extraction.columns):
            # rows with every number empty (and not marked not reported): still to extract
            blank = (row_kinds(extraction, outcomes) == "to_extract").to_numpy()
            missing += extraction[blank][["study_id", "outcome"]].to_dict("records")
            started = extraction[~blank]
        if "approved_by" in extraction.columns and "approved_on" in extraction.columns:
            pending = started[~is_approved(started)]
            unapproved = pending[["study_id", "outcome"]].to_dict("records")
        drafts = read_drafts(review.files.drafts)
        differences = len(compare_drafts(drafts, extraction, outcomes))
    return {
        "invalid": problems,
        "missing_rows": missing,
        "unapproved_rows": unapproved,
        "unreconciled_differences": differences,
        "retracted": retracted_reports(review, studies),
    }


def retracted_reports(review: Review, studies: Any) -> list[dict[str, str]]:
    """Retracted records among the included studies' reports, with the recorded decision
    (``exclude_retracted``: empty means nobody has decided yet)."""
    rows = studies.to_dict("records")
    wanted = {r.strip() for study in rows for r in study["record_ids"].split(";") if r.strip()}
    retracted = {  # streamed: the registry of a large backfill is never held whole
        entry.record.record_id
        for entry in iter_entries(review.files.registry)
        if entry.record.retracted and entry.record.record_id in wanted
    }
    out = []
    for study in rows:
        for record_id in filter(None, (r.strip() for r in study["record_ids"].split(";"))):
            if record_id in retracted:
                decision = study.get("exclude_retracted", "")
                out.append(
                    {"study_id": study["study_id"], "record_id": record_id, "decision": decision}
                )
    return out


def blocker_lines(blockers: dict[str, Any], review_id: str = "<id>") -> list[str]:
    """The blockers as readable lines (empty when nothing blocks the analysis): invalid
    data first, then the work still to do (:func:`pending_lines`)."""
    return [f"invalid data: {p}" for p in blockers["invalid"]] + pending_lines(blockers, review_id)


def pending_lines(blockers: dict[str, Any], review_id: str = "<id>") -> list[str]:
    """The reviewers' work still to do before the estimates are complete: rows to extract
    or approve, extractors' values to reconcile, retracted reports to decide. Not invalid
    data: the estimates are updated from what is approved."""
    lines = [f"to extract: {r['study_id']} x {r['outcome']}" for r in blockers["missing_rows"]]
    lines += [
        f"not approved yet: {r['study_id']} x {r['outcome']}" for r in blockers["unapproved_rows"]
    ]
    differing = blockers["unreconciled_differences"]
    if differing:
        values = "1 value differs" if differing == 1 else f"{differing} values differ"
        lines.append(
            f"{values} between extractors (see results/{review_id}/extraction/differences.csv)"
        )
    for r in blockers["retracted"]:
        if not r["decision"]:
            lines.append(
                f"retracted report {r['record_id']} of included study {r['study_id']}: "
                "record a decision in studies.csv (exclude_retracted yes/no)"
            )
    return lines
