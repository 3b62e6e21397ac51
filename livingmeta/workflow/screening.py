"""Rules of ``screening.smk``: check the reviewers' screening files, then queue the run's
candidates, settle screening states, append included studies and list what reviewers
must do next.

Human-edited files are only ever appended to (queue, studies), never rewritten; derived
files are written atomically after the work succeeded.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.files import write_json, write_text
from livingmeta.review_check import screening_and_assessment_problems
from livingmeta.validation import InputError


def check_screening(
    review: Review,
    *,
    queue: str | Path,
    decisions: str | Path,
    studies: str | Path,
    marker: str | Path,
) -> None:
    """Validate the reviewers' screening files and the names in their assessments (all
    problems at once, as ``livingmeta validate`` reports them); write a marker.

    A separate step so that invalid decisions stop the run before any screening output,
    report or figure is replaced (only this hidden marker is removed).
    """
    from livingmeta.screening.queue import read_queue

    problems = screening_and_assessment_problems(review, queue, decisions, studies)
    if problems:
        raise InputError(problems)
    write_json(marker, {"review": review.id, "queue": len(read_queue(queue))})


def screen_new_records(
    review: Review,
    *,
    candidates: str | Path,
    report: str | Path,
    status: str | Path,
    conflicts: str | Path,
    template: str | Path,
    differences: str | Path,
) -> dict[str, Any]:
    """Queue this run's ``candidates``, settle screening states, append included studies,
    and write the screening ``status``, the ``conflicts``, the extraction ``template``
    (rows still to extract) and the extractors' ``differences``.

    Records an interrupted run handed over without queueing them come back in the next
    run's ``candidates`` (the search step compares the registry with the queue), so this
    step never loads the registry: its memory does not grow with it.

    The review's queue, decisions, studies, registry, extraction table and drafts are the
    files of ``review.files``, which the rule declares.
    """
    import pandas as pd

    from livingmeta.approval import compare_drafts, extraction_template, read_drafts
    from livingmeta.blockers import analysis_blockers
    from livingmeta.extraction import read_table
    from livingmeta.screening.queue import read_queue
    from livingmeta.screening.studies import read_studies
    from livingmeta.screening.update import new_records_status, update_screening
    from livingmeta.study_scope import studies_in_analysis

    files = review.files
    run_id = json.loads(Path(report).read_text(encoding="utf-8"))["run_id"]
    with open(candidates, newline="", encoding="utf-8") as handle:
        # Streamed into the queue: a backfill's candidates are never all held at once.
        update = update_screening(review, csv.DictReader(handle), run_id)
    state = update.to_dict()
    state["run_id"] = run_id
    state["prisma_new"] = new_records_status(review).prisma
    state["blockers"] = analysis_blockers(review)

    outcomes = {o.name: o for o in review.outcomes}
    extraction = read_table(files.extraction)
    queue = read_queue(files.queue)
    included = studies_in_analysis(review, read_studies(files.studies))
    missing = extraction_template(included, extraction, outcomes, queue)
    disagreements = compare_drafts(read_drafts(files.drafts), extraction, outcomes)
    unsettled = pd.DataFrame(
        [
            {"record_id": c.record_id, "stage": c.stage, "decisions": "; ".join(map(str, c.votes))}
            for c in update.status.conflicts
        ],
        columns=["record_id", "stage", "decisions"],
    )
    write_text(template, missing.to_csv(index=False))
    write_text(differences, disagreements.to_csv(index=False))
    write_text(conflicts, unsettled.to_csv(index=False))
    write_json(status, state)
    return state
