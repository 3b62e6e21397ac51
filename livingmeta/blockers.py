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
    extraction_problems,
    extraction_template,
    is_approved,
    read_drafts,
)
from livingmeta.config import Review
from livingmeta.extraction import read_table
from livingmeta.retrieval.registry import Registry
from livingmeta.validation import InputError


def analysis_blockers(review: Review) -> dict[str, Any]:
    """Every blocker of the review's analysis, JSON-ready (lists of small dicts)."""
    from livingmeta.screening.studies import read_studies

    outcomes = {o.name: o for o in review.outcomes}
    studies = read_studies(review.files.studies)
    problems = [str(p) for p in extraction_problems(review.extraction, outcomes)]
    try:
        extraction = read_table(review.extraction)
    except InputError:
        extraction = None
    missing = unapproved = []
    differences = 0
    if extraction is not None:
        template = extraction_template(studies, extraction, outcomes)
        missing = template[["study_id", "outcome"]].to_dict("records")
        if "approved_by" in extraction.columns and "approved_on" in extraction.columns:
            pending = extraction[~is_approved(extraction)]
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
    registry = Registry.load(review.files.registry)
    out = []
    for study in studies.to_dict("records"):
        for record_id in filter(None, (r.strip() for r in study["record_ids"].split(";"))):
            try:
                record = registry.entry(record_id).record
            except KeyError:
                continue
            if record.retracted:
                decision = study.get("exclude_retracted", "")
                out.append(
                    {"study_id": study["study_id"], "record_id": record_id, "decision": decision}
                )
    return out


def blocker_lines(blockers: dict[str, Any]) -> list[str]:
    """The blockers as readable lines (empty when nothing blocks the analysis)."""
    lines = [f"invalid data: {p}" for p in blockers["invalid"]]
    lines += [
        f"extraction row missing: {r['study_id']} x {r['outcome']}"
        for r in blockers["missing_rows"]
    ]
    lines += [
        f"not approved yet: {r['study_id']} x {r['outcome']}" for r in blockers["unapproved_rows"]
    ]
    if blockers["unreconciled_differences"]:
        lines.append(
            f"{blockers['unreconciled_differences']} values differ between extractors "
            "(see results/<id>/extraction/differences.csv)"
        )
    for r in blockers["retracted"]:
        if not r["decision"]:
            lines.append(
                f"retracted report {r['record_id']} of included study {r['study_id']}: "
                "record a decision in studies.csv (exclude_retracted yes/no)"
            )
    return lines
