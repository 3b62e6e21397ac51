"""Checking every human-edited file of a review at once (``livingmeta validate``), so a
scheduled run can tell "invalid review data" apart from other failures before it starts."""

from __future__ import annotations

from livingmeta.approval import extraction_problems
from livingmeta.config import Review
from livingmeta.validation import InputError, Problem


def review_problems(review: Review) -> list[Problem]:
    """Every problem in the review's extraction table and screening files."""
    problems = extraction_problems(review.extraction, {o.name: o for o in review.outcomes})
    problems += _screening_problems(review)
    return problems


def _screening_problems(review: Review) -> list[Problem]:
    decisions = review.folder / "screening" / "decisions.csv"
    if not decisions.exists():
        return []
    from livingmeta.screening.decisions import load_decisions
    from livingmeta.screening.queue import read_queue
    from livingmeta.screening.settings import ScreeningSettings

    settings = ScreeningSettings.from_review(review)
    queue_path = review.folder / "screening" / "queue.csv"
    queue_ids = set(read_queue(queue_path)["record_id"]) if queue_path.exists() else set()
    try:
        load_decisions(decisions, settings.exclusion_reasons, queue_ids)
    except InputError as exc:
        return list(exc.problems)
    return []
