"""Checking every human-edited file of a review at once.

:func:`review_problems` is ``livingmeta validate``; the workflow's check rules run its two
halves (:func:`extraction_file_problems` in ``check_extraction``,
:func:`screening_and_assessment_problems` in ``check_screening``), so the command and the
workflow can never disagree about what is valid.
"""

from __future__ import annotations

from pathlib import Path

from livingmeta.config import Review
from livingmeta.validation import InputError, Problem, in_reading_order


def review_problems(review: Review) -> list[Problem]:
    """Every problem in the review's extraction table and screening files, and names off
    the roster in its assessments (risk of bias, GRADE, characteristics) and in the
    signatures of the registry's manual deduplication queue."""
    from livingmeta.retrieval.registry_files import DOUBTFUL_FILE
    from livingmeta.roster import draft_problems, file_problems, review_roster

    files = review.files
    problems = extraction_file_problems(review, files.extraction)
    problems += screening_and_assessment_problems(
        review, files.queue, files.decisions, files.studies
    )
    doubtful = files.registry / DOUBTFUL_FILE
    problems += file_problems(doubtful, ("decided_by",), review_roster(review))
    drafts = sorted(files.drafts.glob("*.csv")) if files.drafts.is_dir() else []
    problems += draft_problems(drafts, review_roster(review))
    seen = {(p.file, p.row, p.column, p.message) for p in problems}
    problems += [
        p for p in appraisal_problems(review) if (p.file, p.row, p.column, p.message) not in seen
    ]
    return in_reading_order(problems)


def appraisal_problems(review: Review) -> list[Problem]:
    """What the workflow's appraisal steps reject in the risk-of-bias files, the
    characteristics and the GRADE ratings (``settle_risk_of_bias``,
    ``tabulate_characteristics``, ``summarise_findings`` read them with these calls), so
    ``livingmeta validate`` finds it before a run does. Not checked while ``studies.csv``
    itself is invalid (its own problems say why)."""
    from livingmeta.characteristics.extraction import load_characteristics
    from livingmeta.grade.ratings import load_ratings
    from livingmeta.risk_of_bias.consensus import load_folder
    from livingmeta.roster import review_roster
    from livingmeta.workflow.characteristics import characteristics_settings, included_studies
    from livingmeta.workflow.risk_of_bias import settings_of

    files, roster = review.files, review_roster(review)
    outcomes = [o.name for o in review.outcomes]
    try:
        ids = [s for s, _ in included_studies(files.studies)]
    except InputError:
        return []
    checks = []
    if (settings := settings_of(review)) is not None:
        checks.append(
            lambda: load_folder(
                files.risk_of_bias, settings, roster=roster, studies=ids, outcomes=outcomes
            )
        )
    if (
        fields := characteristics_settings(review)[1]
    ) is not None and files.characteristics.exists():
        checks.append(
            lambda: load_characteristics(files.characteristics, fields, studies=ids, roster=roster)
        )
    if files.grade.exists():
        checks.append(lambda: load_ratings(files.grade, outcomes, roster=roster))
    problems: list[Problem] = []
    for check in checks:
        try:
            check()
        except InputError as error:
            problems += error.problems
    return problems


def screening_and_assessment_problems(
    review: Review, queue: str | Path, decisions: str | Path, studies: str | Path
) -> list[Problem]:
    """:func:`screening_problems`, then names off the roster in the review's assessments
    (risk of bias, GRADE, characteristics): what the workflow's ``check_screening`` runs."""
    from livingmeta.roster import assessment_problems

    problems = screening_problems(review, queue, decisions, studies)
    return problems + assessment_problems(review)


def extraction_file_problems(
    review: Review, extraction: str | Path, studies: str | Path | None = None
) -> list[Problem]:
    """Problems of the extraction table: data contract, approval columns, extractors
    and approvers on the roster, and rows of studies not included in ``studies``
    (default: the review's ``studies.csv``)."""
    from livingmeta.approval import extraction_problems
    from livingmeta.roster import EXTRACTION_PEOPLE, file_problems, review_roster

    problems = extraction_problems(extraction, {o.name: o for o in review.outcomes})
    problems += _not_included(review, extraction, studies)
    problems += file_problems(extraction, EXTRACTION_PEOPLE, review_roster(review))
    return in_reading_order(problems)


def _not_included(
    review: Review, extraction: str | Path, studies: str | Path | None
) -> list[Problem]:
    """Extraction rows of studies that are not included (see :mod:`livingmeta.study_scope`)."""
    from livingmeta.extraction import read_table
    from livingmeta.screening.settings import ScreeningSettings
    from livingmeta.study_scope import scope_problems

    try:
        frame = read_table(extraction)
    except InputError:
        return []  # reported by the data-contract check
    files = review.files
    reasons = ScreeningSettings.from_review(review).exclusion_reasons
    where = files.studies if studies is None else studies
    return scope_problems(frame, str(extraction), where, files.queue, files.decisions, reasons)


def screening_problems(
    review: Review, queue: str | Path, decisions: str | Path, studies: str | Path
) -> list[Problem]:
    """Problems of the screening files: the queue, the decisions (against the queue, the
    review's exclusion reasons and its roster) and the included studies, all at once."""
    from livingmeta.roster import file_problems, review_roster
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
        checks.insert(
            0,
            lambda: load_decisions(
                decisions, settings.exclusion_reasons, queue_ids, settings.reviewers
            ),
        )
    for check in checks:
        try:
            check()
        except InputError as exc:
            problems += exc.problems
    return problems + file_problems(studies, ("decided_by",), review_roster(review))
