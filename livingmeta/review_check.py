"""Checking every human-edited file of a review at once.

:func:`review_problems` is ``livingmeta validate``; the workflow's check rules run its two
halves (:func:`extraction_file_problems` in ``check_extraction``,
:func:`screening_problems` in ``check_screening``), so the command and the workflow can
never disagree about what is valid.
"""

from __future__ import annotations

from pathlib import Path

from livingmeta.config import Review
from livingmeta.validation import InputError, Problem


def review_problems(review: Review) -> list[Problem]:
    """Every problem in the review's extraction table and screening files."""
    files = review.files
    problems = extraction_file_problems(review, files.extraction)
    problems += screening_problems(review, files.queue, files.decisions, files.studies)
    return problems


def extraction_file_problems(review: Review, extraction: str | Path) -> list[Problem]:
    """Problems of the extraction table: data contract and approval columns."""
    from livingmeta.approval import extraction_problems

    return extraction_problems(extraction, {o.name: o for o in review.outcomes})


def screening_problems(
    review: Review, queue: str | Path, decisions: str | Path, studies: str | Path
) -> list[Problem]:
    """Problems of the screening files: the queue, the decisions (against the queue and
    the review's exclusion reasons) and the included studies, all reported at once."""
    from livingmeta.screening.decisions import load_decisions
    from livingmeta.screening.queue import read_queue
    from livingmeta.screening.settings import ScreeningSettings
    from livingmeta.screening.studies import read_studies

    settings = ScreeningSettings.from_review(review)
    problems: list[Problem] = []
    try:
        queue_ids = set(read_queue(queue)["record_id"])
    except InputError as exc:
        problems += exc.problems
        queue_ids = None
    checks = [lambda: read_studies(studies)]
    if queue_ids is not None:
        checks.insert(0, lambda: load_decisions(decisions, settings.exclusion_reasons, queue_ids))
    for check in checks:
        try:
            check()
        except InputError as exc:
            problems += exc.problems
    return problems
