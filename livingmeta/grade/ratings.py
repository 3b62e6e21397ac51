"""``reviews/<id>/grade.csv``: the recorded GRADE ratings, read and validated.

One row per outcome x domain. Columns: ``outcome, domain, decision, reason, assessor,
date, inputs_digest, approved_by, approved_on, notes``.

- ``decision`` for a reason to rate down: ``not serious``, ``serious`` (one level) or
  ``very serious`` (two); for ``large_effect``: ``no``, ``large`` (up one) or ``very
  large`` (up two); for ``dose_response`` and ``plausible_confounding``: ``no`` or
  ``yes`` (up one). Spaces or underscores, any case.
- ``reason`` is required for every decision that moves the certainty: it becomes the
  summary-of-findings table's footnote.
- ``inputs_digest`` is the digest of the inputs the assessor saw (printed with each
  proposal, see :mod:`livingmeta.grade.proposals`); when new data change them, the
  rating is flagged as stale.
- Like extraction rows, a rating counts only once a named person approved it on a date;
  ``assessor`` and ``approved_by`` must be on the review's roster.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from livingmeta.approval import approval_problems
from livingmeta.config_messages import did_you_mean
from livingmeta.extraction import read_table, row_number
from livingmeta.grade import DOMAINS, DOWNGRADE_DOMAINS
from livingmeta.roster import GRADE_PEOPLE, report_off_roster
from livingmeta.validation import InputError, Problem, Report, is_date, row_reporter

GRADE_COLUMNS = (
    "outcome",
    "domain",
    "decision",
    "reason",
    "assessor",
    "date",
    "inputs_digest",
    "approved_by",
    "approved_on",
    "notes",
)
REQUIRED_COLUMNS = ("outcome", "domain", "decision", "approved_by", "approved_on")
#: Decision -> levels it moves the certainty (negative: rated down).
DOWNGRADE_DECISIONS = {"not serious": 0, "serious": -1, "very serious": -2}
UPGRADE_DECISIONS = {
    "large_effect": {"no": 0, "large": 1, "very large": 2},
    "dose_response": {"no": 0, "yes": 1},
    "plausible_confounding": {"no": 0, "yes": 1},
}


@dataclass(frozen=True)
class Rating:
    """One validated row: ``steps`` is how many levels it moves the certainty."""

    outcome: str
    domain: str
    decision: str
    steps: int
    reason: str = ""
    assessor: str = ""
    inputs_digest: str = ""
    approved: bool = False
    row: int | None = None


def decisions_for(domain: str) -> dict[str, int]:
    """The decisions allowed for ``domain`` and the levels each moves."""
    if domain in DOWNGRADE_DOMAINS:
        return DOWNGRADE_DECISIONS
    return UPGRADE_DECISIONS[domain]


def load_ratings(
    path: str | os.PathLike[str],
    outcomes: Collection[str],
    *,
    roster: Sequence[str] | None = None,
) -> tuple[Rating, ...]:
    """Read and validate ``grade.csv`` (a missing file: nothing rated yet).

    Parameters
    ----------
    path
        The file.
    outcomes
        The review's outcome names.
    roster
        The review's reviewers; ``assessor`` and ``approved_by`` are checked against it
        ignoring case (None skips the check).

    Raises
    ------
    InputError
        Every problem, each with file, row and column.
    """
    if not os.path.exists(path):
        return ()
    file = str(path)
    frame = read_table(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError([Problem(file, 1, c, "column missing") for c in missing])
    for column in GRADE_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    problems = approval_problems(frame, file)
    ratings: list[Rating] = []
    seen: dict[tuple[str, str], int] = {}
    for pos, record in enumerate(frame.to_dict("records")):
        row = row_number(frame, pos)
        found: list[Problem] = []
        rating = _check_row(record, row, outcomes, roster, row_reporter(file, row, found))
        key = (record["outcome"], _domain_key(record["domain"]))
        if all(key) and key in seen:
            message = f"second rating of {key[1]} for {key[0]}; first at row {seen[key]}"
            found.append(Problem(file, row, "domain", message))
        seen.setdefault(key, row)
        problems += found
        if rating is not None and not found:
            ratings.append(rating)
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.row or 0))
    return tuple(ratings)


def _check_row(
    record: dict[str, str],
    row: int,
    outcomes: Collection[str],
    roster: Sequence[str] | None,
    bad: Report,
) -> Rating | None:
    outcome, domain = record["outcome"], _domain_key(record["domain"])
    if not outcome:
        bad("outcome", "empty")
    elif outcome not in outcomes:
        hint = did_you_mean(outcome, sorted(outcomes))
        bad(
            "outcome", f"unknown outcome {outcome!r}; declared: {', '.join(sorted(outcomes))}{hint}"
        )
    if domain not in DOMAINS:
        hint = did_you_mean(domain, DOMAINS)
        bad("domain", f"{record['domain']!r} is not one of {', '.join(DOMAINS)}{hint}")
        return None
    allowed = decisions_for(domain)
    decision = _decision_key(record["decision"])
    if decision not in allowed:
        hint = did_you_mean(decision, list(allowed))
        bad("decision", f"{record['decision']!r} for {domain}: one of {', '.join(allowed)}{hint}")
        return None
    steps = allowed[decision]
    if steps and not record["reason"]:
        bad("reason", f"empty; '{decision}' needs its reason (the table's footnote)")
    if record["date"] and not is_date(record["date"]):
        bad("date", f"{record['date']!r} is not a date (YYYY-MM-DD)")
    _check_people(record, roster, bad)
    return Rating(
        outcome=outcome,
        domain=domain,
        decision=decision,
        steps=steps,
        reason=record["reason"],
        assessor=record["assessor"],
        inputs_digest=record["inputs_digest"],
        approved=bool(record["approved_by"] and record["approved_on"]),
        row=row,
    )


def _check_people(record: dict[str, str], roster: Sequence[str] | None, bad: Report) -> None:
    if not record["assessor"]:
        bad("assessor", "empty; name who made the rating")
    report_off_roster(record, GRADE_PEOPLE, roster, bad)


def _domain_key(text: str) -> str:
    """``Risk of bias`` and ``risk_of_bias`` name the same domain."""
    return "_".join(text.replace("_", " ").split()).casefold()


def _decision_key(text: str) -> str:
    """``Very serious`` and ``very_serious`` are the same decision."""
    return " ".join(text.replace("_", " ").split()).casefold()
