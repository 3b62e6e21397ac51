"""Status screen: what still blocks the analysis, the latest run report and forest plots,
and the command that reruns the workflow.

Results are served read-only from ``results/<review id>/`` (only report and figure
files; a path that leaves that folder is refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, render_template, send_from_directory

from livingmeta.app.pages import workspace
from livingmeta.validation import InputError

blueprint = Blueprint("status", __name__, url_prefix="/status")
SERVED = (".png", ".svg", ".html")
RERUN = "snakemake --cores 4"


def results() -> Path:
    return workspace().root / "results" / workspace().review.id


def blockers() -> dict[str, Any]:
    """Counts of what stops the analysis, and every invalid value (as ``validate`` says)."""
    from livingmeta.review_check import (
        extraction_file_problems,
        screening_and_assessment_problems,
    )

    ws, files = workspace(), workspace().files
    problems = screening_and_assessment_problems(
        ws.review, files.queue, files.decisions, files.studies
    )
    conflicts = pending = 0
    if not problems:
        from livingmeta.app.screening import load

        status = load().status
        conflicts = len(status.conflicts)
        pending = sum(s.pending for s in status.summary.values())
    if files.extraction.exists():
        problems += extraction_file_problems(ws.review, files.extraction)
    to_extract, unapproved, differences = _extraction_counts(files.extraction, files.studies)
    return {
        "conflicts": conflicts,
        "pending": pending,
        "to_extract": to_extract,
        "unapproved": unapproved,
        "differences": differences,
        "problems": problems,
    }


def _extraction_counts(extraction: Path, studies: Path) -> tuple[int, int, int]:
    """Study x outcome rows still to extract, rows not approved, and values on which the
    extractors' drafts differ for rows not yet approved (``differences.csv``'s lines)."""
    import pandas as pd

    from livingmeta.approval import compare_drafts, extraction_template, is_approved, read_drafts
    from livingmeta.extraction import read_table
    from livingmeta.screening.studies import read_studies
    from livingmeta.study_scope import studies_in_analysis

    columns = ("study_id", "outcome", "approved_by", "approved_on")
    try:
        if extraction.exists():
            table = read_table(extraction, columns=columns)
        else:
            table = pd.DataFrame({col: pd.Series(dtype=str) for col in columns})
        included = read_studies(studies)
        drafts = read_drafts(workspace().files.drafts)
    except InputError:
        return 0, 0, 0  # listed among the problems
    outcomes = {o.name: o for o in workspace().review.outcomes}
    differences = len(compare_drafts(drafts, table, outcomes))
    remaining = studies_in_analysis(workspace().review, included)
    to_extract = len(extraction_template(remaining, table, outcomes))
    return to_extract, int((~is_approved(table)).sum()), differences


@blueprint.get("/")
def show() -> Any:
    folder = results()
    plots = [
        (o, f"{o.name}/forest.png")
        for o in workspace().review.outcomes
        if (folder / o.name / "forest.png").is_file()
    ]
    report = "report/latest.html" if (folder / "report" / "latest.html").is_file() else None
    return render_template(
        "status.html", blockers=blockers(), plots=plots, report=report, rerun=RERUN
    )


@blueprint.get("/results/<path:name>")
def result_file(name: str) -> Any:
    """A figure or report of this review's latest run (read-only)."""
    if not name.endswith(SERVED):
        abort(404)
    return send_from_directory(results(), name)  # refuses paths leaving the folder
