"""One call for the workflow: queue the run's candidates, settle states, append studies.

Why one function: the rule's glue script should stay glue (unpack inputs, call one
package function); the order of the steps (queue first, so decisions about new records
validate; studies last, from the settled states) belongs to the package.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from livingmeta.config import Review
from livingmeta.screening.decisions import load_decisions
from livingmeta.screening.queue import append_to_queue, read_queue
from livingmeta.screening.settings import ScreeningSettings
from livingmeta.screening.status import ScreeningStatus, screening_status
from livingmeta.screening.studies import StudiesUpdate, update_studies


@dataclass(frozen=True, eq=False)
class ScreeningUpdate:
    """What :func:`update_screening` did and where screening stands afterwards."""

    queued: int
    status: ScreeningStatus
    studies: StudiesUpdate

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the status plus what this run appended and what needs a person."""
        out = self.status.to_dict()
        out["queued_this_run"] = self.queued
        out["new_studies"] = [dict(row) for row in self.studies.new_studies]
        out["new_reports_of_existing_studies"] = [
            {"record_id": r.record_id, "study_id": r.study_id}
            for r in self.studies.new_reports_of_existing
        ]
        return out


def update_screening(
    review: Review, candidate_rows: Iterable[dict[str, Any]], run_id: str
) -> ScreeningUpdate:
    """Append new candidates to the queue, validate decisions, append included studies.

    Parameters
    ----------
    review
        The review (its ``screening`` settings and folder).
    candidate_rows
        :func:`livingmeta.retrieval.candidate_export.candidate_rows` of this run.
    run_id
        Written in the queue's ``queued_in`` and the studies' ``included_in``.

    Raises
    ------
    InputError
        Invalid decisions or studies file (every problem listed). The queue has been
        appended by then, which is safe: appending is idempotent and loses nothing.
    """
    settings = ScreeningSettings.from_review(review)
    queued = append_to_queue(settings.queue, candidate_rows, run_id)
    queue = read_queue(settings.queue)
    decisions = load_decisions(
        settings.decisions, settings.exclusion_reasons, set(queue["record_id"]), settings.reviewers
    )
    status = screening_status(
        queue, decisions, settings.reviewers_required, settings.stages, settings.exclusion_reasons
    )
    studies = update_studies(settings.studies, status, queue, run_id)
    return ScreeningUpdate(queued, status, studies)


def new_records_status(review: Review) -> ScreeningStatus:
    """Screening status of the records found since the previous version, for PRISMA's
    'new studies' boxes (later reports of known studies are duplicates there)."""
    from livingmeta.retrieval.imports import PREVIOUS_VERSION

    settings = ScreeningSettings.from_review(review)
    queue = read_queue(settings.queue)
    new = queue[(queue["queued_in"] != PREVIOUS_VERSION) & (queue["status"] == "new")]
    decisions = load_decisions(
        settings.decisions, settings.exclusion_reasons, set(queue["record_id"]), settings.reviewers
    )
    return screening_status(
        new, decisions, settings.reviewers_required, settings.stages, settings.exclusion_reasons
    )
