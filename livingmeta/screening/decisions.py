"""Reviewers' screening decisions (``screening/decisions.csv``): validation and appending.

One row per reviewer x record x stage. The file is edited by people (a reviewer changing
their mind edits their row) and appended by ``livingmeta screen``; it is validated as a
whole, every problem reported at once with its row and column, before any state is
computed from it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from livingmeta.extraction import read_table, row_number
from livingmeta.files import locked
from livingmeta.roster import canonical_names, not_a_reviewer
from livingmeta.screening import DECISIONS, ROLES, STAGES
from livingmeta.screening.csvfile import append_rows, read_existing
from livingmeta.validation import InputError, Problem, is_date, row_reporter

#: Column order of the file (``livingmeta screen`` creates it with this header).
DECISION_COLUMNS = ("record_id", "stage", "reviewer", "decision", "reason", "date", "role", "note")
REQUIRED_COLUMNS = ("record_id", "stage", "reviewer", "decision")
#: A row with this decision withdraws the same reviewer's row in effect for the record,
#: stage and role (an undo that keeps the history: nothing is deleted).
WITHDRAW = "withdraw"


def load_decisions(
    path: str | os.PathLike[str],
    reasons: Sequence[str],
    queue_ids: set[str] | None = None,
    roster: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read and validate the decisions file.

    Parameters
    ----------
    path
        ``screening/decisions.csv``; a missing file means no decisions yet.
    reasons
        The review's exclusion reasons. A ``reason`` must be one of them (matched ignoring
        case, returned as configured); it is required when excluding at ``full_text``.
    queue_ids
        The queue's ``record_id`` values; ``None`` skips that check.
    roster
        The review's reviewers (``screening.reviewers``); a ``reviewer`` must be one of
        them, ignoring case. ``None`` skips that check.

    Returns
    -------
    pandas.DataFrame
        :data:`DECISION_COLUMNS` (plus any column a reviewer added) as text, with ``stage``,
        ``decision`` and ``role`` lower-cased, an empty ``role`` filled as
        ``independent``, ``reviewer`` spelt as on the roster (without one, as first
        written: names are compared ignoring case), and ``row``: the spreadsheet row
        number, to point people at it.
        Only rows in effect: a :data:`WITHDRAW` row and the row it withdraws are left out.

    Raises
    ------
    InputError
        Listing every problem: missing column, unknown record, bad stage, decision, role
        or date, missing or unknown reason, a reviewer not on the roster, and a reviewer's
        second row for the same record, stage and role.
    """
    file = str(path)
    if not Path(path).exists():
        frame = pd.DataFrame({col: pd.Series(dtype=str) for col in DECISION_COLUMNS})
        frame["row"] = pd.Series(dtype=int)
        return frame
    frame = read_table(path, required=REQUIRED_COLUMNS, columns=DECISION_COLUMNS)
    for col in ("stage", "decision", "role"):
        frame[col] = frame[col].str.lower()
    frame["role"] = frame["role"].where(frame["role"] != "", "independent")
    spelt = canonical_names(frame["reviewer"], roster)
    frame["reviewer"] = pd.Series(spelt, index=frame.index, dtype=str)
    known = None if roster is None else {name.casefold() for name in roster}
    by_fold = {r.strip().casefold(): r.strip() for r in reasons}
    problems: list[Problem] = []
    in_effect: dict[tuple[str, str, str, str], int] = {}
    withdrawn: set[int] = set()
    for pos, record in enumerate(frame.to_dict("records")):
        row = row_number(frame, pos)
        problems += _check_row(record, row, file, by_fold, queue_ids)
        if known is not None and record["reviewer"].casefold() not in known | {""}:
            message = not_a_reviewer(record["reviewer"], roster or ())
            problems.append(Problem(file, row, "reviewer", message))
        key = (record["record_id"], record["stage"], record["reviewer"], record["role"])
        if not all(key):
            continue
        if record["decision"] == WITHDRAW:
            if key in in_effect:
                withdrawn.update((in_effect.pop(key), row))
            else:
                message = f"withdraws nothing: {key[2]!r} has no {key[3]} decision in effect"
                problems.append(Problem(file, row, "decision", f"{message} for {key[0]!r}"))
        elif key in in_effect:
            message = (
                f"second {key[3]} decision by {key[2]!r} for record {key[0]!r} at {key[1]}; "
                f"first at row {in_effect[key]} (edit that row, or withdraw it first)"
            )
            problems.append(Problem(file, row, "reviewer", message))
        else:
            in_effect[key] = row
    if problems:
        raise InputError(problems)
    frame["reason"] = [by_fold.get(r.casefold(), r) for r in frame["reason"]]
    frame["row"] = [row_number(frame, pos) for pos in range(len(frame))]
    return frame[~frame["row"].isin(withdrawn)]


def _check_row(
    record: dict[str, str],
    row: int,
    file: str,
    reasons: dict[str, str],
    queue_ids: set[str] | None,
) -> list[Problem]:
    problems: list[Problem] = []
    bad = row_reporter(file, row, problems)
    for col in REQUIRED_COLUMNS:
        if not record[col]:
            bad(col, "empty")
    record_id, stage, decision = record["record_id"], record["stage"], record["decision"]
    if record_id and queue_ids is not None and record_id not in queue_ids:
        bad("record_id", f"unknown record {record_id!r}: not in the screening queue")
    if stage and stage not in STAGES:
        bad("stage", f"{stage!r} is not one of {', '.join(STAGES)}")
    if decision and decision not in (*DECISIONS, WITHDRAW):
        bad("decision", f"{decision!r} is not one of {', '.join((*DECISIONS, WITHDRAW))}")
    if record["role"] not in ROLES:
        bad("role", f"{record['role']!r} is not one of {', '.join(ROLES)} (empty = independent)")
    date = record["date"]
    if date and not is_date(date):
        bad("date", f"{date!r} is not a date written YYYY-MM-DD")
    reason = record["reason"]
    allowed = "; ".join(reasons.values())
    if reason and reason.casefold() not in reasons:
        bad("reason", f"unknown reason {reason!r}; configured: {allowed}")
    elif reason and decision in ("include", "maybe", WITHDRAW):
        bad("reason", f"a reason is given only when excluding (decision is {decision!r})")
    elif not reason and decision == "exclude" and stage == "full_text":
        bad("reason", f"required when excluding at full_text; one of: {allowed}")
    return problems


def append_decision(
    path: str | os.PathLike[str],
    record_id: str,
    stage: str,
    reviewer: str,
    decision: str,
    reason: str = "",
    date: dt.date | str | None = None,
    role: str = "independent",
    note: str = "",
    check: Callable[[bytes], None] | None = None,
) -> None:
    """Append one decision atomically, creating the file with its header if missing.

    Why one row at a time: ``livingmeta screen`` calls this after every keystroke, so a
    closed terminal loses nothing; the existing bytes (a reviewer's edits) are kept.
    ``check`` is called under the lock with the file's current bytes; whatever it raises
    refuses the append (the review workspace uses it to detect edits made meanwhile).

    Raises
    ------
    ValueError
        If ``stage``, ``decision`` or ``role`` is not an allowed value, or ``reviewer``
        or ``record_id`` is empty.
    """
    if stage not in STAGES or decision not in (*DECISIONS, WITHDRAW) or role not in ROLES:
        raise ValueError(
            f"stage must be one of {STAGES}, decision one of {DECISIONS}, role one of {ROLES}; "
            f"got {stage!r}, {decision!r}, {role!r}"
        )
    if not record_id.strip() or not reviewer.strip():
        raise ValueError("record_id and reviewer must not be empty")
    when = date if date is not None else dt.date.today()
    row = {
        "record_id": record_id,
        "stage": stage,
        "reviewer": reviewer.strip(),
        "decision": decision,
        "reason": reason,
        "date": when.isoformat() if isinstance(when, dt.date) else when,
        "role": role,
        "note": note,
    }
    with locked(path):
        data, header, _ = read_existing(path)
        if check is not None:
            check(data)
        append_rows(path, DECISION_COLUMNS, [row], existing=(data, header))


def withdraw_decision(
    path: str | os.PathLike[str],
    reasons: Sequence[str],
    reviewer: str,
    record_id: str | None = None,
    date: dt.date | str | None = None,
    check: Callable[[bytes], None] | None = None,
) -> dict[str, str] | None:
    """Undo ``reviewer``'s decision on ``record_id`` (default: their latest independent
    decision still in effect) by appending a :data:`WITHDRAW` row; nothing is deleted.
    ``check`` is as for :func:`append_decision`.

    Returns
    -------
    dict or None
        The withdrawn row (``record_id``, ``stage``, ``decision``, ...), ``None`` when the
        reviewer has no such decision in effect.
    """
    with locked(path):
        data, header, _ = read_existing(path)
        if check is not None:
            check(data)
        frame = load_decisions(path, reasons)
        who = reviewer.strip().casefold()
        mine = frame[(frame["reviewer"].str.casefold() == who) & (frame["role"] == "independent")]
        if record_id is not None:
            mine = mine[mine["record_id"] == record_id]
        if mine.empty:
            return None
        last = {k: str(v) for k, v in mine.iloc[-1].to_dict().items()}
        row = {
            "record_id": last["record_id"],
            "stage": last["stage"],
            "reviewer": last["reviewer"],  # as spelt in the row it withdraws
            "decision": WITHDRAW,
            "date": _iso(date),
            "role": "independent",
        }
        append_rows(path, DECISION_COLUMNS, [row], existing=(data, header))
        return last


def _iso(date: dt.date | str | None) -> str:
    when = date if date is not None else dt.date.today()
    return when.isoformat() if isinstance(when, dt.date) else when
