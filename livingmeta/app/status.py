"""Status screen: what still blocks the analysis, the latest run report and forest plots,
and the command that reruns the workflow.

The blockers are read with the workflow's own code: screening status, extraction
template and approval gate, ``load_characteristics`` (as ``tabulate_characteristics``
reads ``characteristics.csv``) and :func:`livingmeta.blockers.retracted_reports`; the
undecided pairs of the registry's manual queue as the duplicates screen reads them. A
retracted report of an included study is decided here (``exclude_retracted`` in
``studies.csv``, see :mod:`livingmeta.app.retractions`).

Results are served read-only from ``results/<review id>/`` (only report and figure
files; a path that leaves that folder is refused)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, render_template, send_from_directory

from livingmeta.app.pages import versions, workspace
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
    characteristics = characteristics_blockers()
    problems += characteristics["problems"]
    return {
        "conflicts": conflicts,
        "pending": pending,
        "to_extract": to_extract,
        "unapproved": unapproved,
        "differences": differences,
        "problems": problems,
        "characteristics": characteristics,
        "retracted": retracted(),
        "duplicates": undecided_pairs(),
    }


def undecided_pairs() -> int:
    """Pairs of the registry's manual deduplication queue nobody has decided yet."""
    from livingmeta.app.duplicates import queue_path, read_pairs

    path = queue_path()
    return sum(not p.decision for p in read_pairs(path.read_bytes())[0]) if path.exists() else 0


def retracted() -> list[dict[str, str]]:
    """Retracted reports of included studies, with the decision recorded (empty: none)."""
    from livingmeta.blockers import retracted_reports
    from livingmeta.screening.studies import read_studies

    ws = workspace()
    review = replace(  # the registry under the workspace's root, whatever the cwd
        ws.review, folder=ws.root / ws.review.folder, state=ws.root / ws.review.state
    )
    try:
        return retracted_reports(review, read_studies(ws.files.studies))
    except InputError:
        return []  # listed among the problems


def characteristics_blockers() -> dict[str, Any]:
    """Characteristics still to extract (study x field without a value), values not
    approved, and the file's problems, read as ``tabulate_characteristics`` reads them
    (declared fields, included studies, roster); ``declared`` False when there are none."""
    from livingmeta.app.extraction import shown_path, studies
    from livingmeta.characteristics.extraction import load_characteristics
    from livingmeta.roster import review_roster
    from livingmeta.validation import Problem
    from livingmeta.workflow.characteristics import characteristics_settings, included_studies

    review, path = workspace().review, workspace().files.characteristics
    out: dict[str, Any] = {"declared": False, "missing": [], "unapproved": [], "problems": []}
    settings = characteristics_settings(review)[1]
    if settings is None:
        return out
    out["declared"] = True
    try:
        ids = [s for s, _ in included_studies(workspace().files.studies)]
        values = load_characteristics(path, settings, studies=ids, roster=review_roster(review))
    except InputError as exc:  # studies.csv's own problems are listed by the screening check
        shown = shown_path(path)
        out["problems"] = [
            Problem(shown, p.row, p.column, p.message) for p in exc.problems if p.file == str(path)
        ]
        return out
    done = {(v.study_id, v.field) for v in values if v.extracted}
    out["missing"] = [
        (s["study_id"], f.name)
        for s in studies()
        for f in settings.fields
        if (s["study_id"], f.name) not in done
    ]
    out["unapproved"] = [
        (v.study_id, v.field + (f" ({v.arm})" if v.arm else ""))
        for v in values
        if v.extracted and not v.approved
    ]
    return out


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
def show(**context: Any) -> Any:
    """The page; ``context`` carries a refused decision's problems or stale file."""
    folder = results()
    plots = [
        (o, f"{o.name}/forest.png")
        for o in workspace().review.outcomes
        if (folder / o.name / "forest.png").is_file()
    ]
    report = "report/latest.html" if (folder / "report" / "latest.html").is_file() else None
    code = context.pop("code", 200)
    seen = versions().read(workspace().files.studies)[1]
    page = render_template(
        "status.html", blockers=blockers(), plots=plots, report=report, rerun=RERUN,
        seen=seen, **context,
    )  # fmt: skip
    return page, code


@blueprint.get("/results/<path:name>")
def result_file(name: str) -> Any:
    """A figure or report of this review's latest run (read-only)."""
    if not name.endswith(SERVED):
        abort(404)
    return send_from_directory(results(), name)  # refuses paths leaving the folder
