"""``reviews/<id>/characteristics.csv``: reading and validating extracted characteristics.

One row per study x field x arm. Columns: ``study_id, field, arm, kind, value, spread,
low, high, total, percent, text, reported, footnote, source, extractor, approved_by,
approved_on, notes`` (see :data:`NEEDS` for the numbers each kind needs). ``reported: no``
with empty values and a ``source`` saying where it was checked marks what a paper does
not report. Like outcome data, a row reaches outputs only once a named person approved
it on a date, and an approved row needs its source.
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from livingmeta.approval import approval_problems
from livingmeta.characteristics import KINDS
from livingmeta.characteristics.fields import CharacteristicsSettings, Field
from livingmeta.characteristics.values import NEEDS, NUMBER_COLUMNS, Value
from livingmeta.extraction import read_table, row_number
from livingmeta.roster import CHARACTERISTICS_PEOPLE, report_off_roster
from livingmeta.validation import InputError, Problem, Report, not_a_number, row_reporter

CHARACTERISTICS_COLUMNS = (
    "study_id",
    "field",
    "arm",
    "kind",
    *NUMBER_COLUMNS,
    "text",
    "reported",
    "footnote",
    "source",
    "extractor",
    "approved_by",
    "approved_on",
    "notes",
)
REQUIRED_COLUMNS = ("study_id", "field", "approved_by", "approved_on")
COUNT_COLUMNS = ("value", "total")
#: A reported percentage may differ from n/N by rounding (or truncation) only.
PERCENT_TOLERANCE = 1.0


def load_characteristics(
    path: str | os.PathLike[str],
    settings: CharacteristicsSettings,
    *,
    studies: Collection[str] | None = None,
    roster: Sequence[str] | None = None,
) -> tuple[Value, ...]:
    """Read and validate ``characteristics.csv`` (every row; see :func:`approved`).

    Parameters
    ----------
    path
        The file; a missing file means nothing extracted yet.
    settings
        Declared fields and arms.
    studies
        Included study ids; None skips that check.
    roster
        The review's reviewers (``extractor`` and ``approved_by`` are checked against
        it, ignoring case); None skips that check.

    Raises
    ------
    InputError
        Every problem with file, row and column.
    """
    if not os.path.exists(path):
        return ()
    file = str(path)
    frame = read_table(path, required=REQUIRED_COLUMNS, columns=CHARACTERISTICS_COLUMNS)
    problems = approval_problems(frame, file)
    checker = _RowChecker(file, settings, studies, roster)
    values: list[Value] = []
    seen: dict[tuple[str, str, str], int] = {}
    for pos, record in enumerate(frame.to_dict("records")):
        row = row_number(frame, pos)
        value, found = checker.check(record, row)
        problems += found + _repeated(record, row, seen, file)
        if value is not None:
            values.append(value)
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.row or 0))
    return tuple(values)


def _repeated(
    record: dict[str, str], row: int, seen: dict[tuple[str, str, str], int], file: str
) -> list[Problem]:
    """A second row for the same study, field and arm (checked on every row)."""
    key = (record["study_id"], record["field"], record["arm"])
    if not key[0] or not key[1]:
        return []
    if key not in seen:
        seen[key] = row
        return []
    where = f"{key[1]} of {key[0]}" + (f" ({key[2]})" if key[2] else "")
    return [Problem(file, row, "field", f"second row for {where}; first at row {seen[key]}")]


def approved(values: Sequence[Value]) -> tuple[Value, ...]:
    """The rows that reach outputs."""
    return tuple(v for v in values if v.approved)


@dataclass(frozen=True)
class _RowChecker:
    file: str
    settings: CharacteristicsSettings
    studies: Collection[str] | None
    roster: Sequence[str] | None

    def check(self, record: dict[str, str], row: int) -> tuple[Value | None, list[Problem]]:
        problems: list[Problem] = []
        bad = row_reporter(self.file, row, problems)
        field = self._identity(record, bad)
        if field is None:
            return None, problems
        kind = record["kind"] or field.kind
        if kind not in KINDS:
            bad("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
            return None, problems
        reported = self._reported(record, kind, field, bad)
        report_off_roster(record, CHARACTERISTICS_PEOPLE, self.roster, bad)
        approved = bool(record["approved_by"] and record["approved_on"])
        if approved and not record["source"]:
            bad("source", "empty; an approved value needs the place it comes from")
        if problems:
            return None, problems
        numbers = {col: record[col] for col in NUMBER_COLUMNS}
        extracted = not reported or any(record[c] for c in (*NUMBER_COLUMNS, "text"))
        value = Value(
            study_id=record["study_id"],
            field=field.name,
            kind=kind,
            arm=record["arm"],
            reported=reported,
            text=record["text"],
            footnote=record["footnote"],
            source=record["source"],
            approved=approved and extracted,
            extracted=extracted,
            row=row,
            **numbers,
        )
        return value, problems

    def _identity(self, record: dict[str, str], bad: Report) -> Field | None:
        study, name, arm = record["study_id"], record["field"], record["arm"]
        if not study:
            bad("study_id", "empty")
        elif self.studies is not None and study not in self.studies:
            bad("study_id", f"study {study!r} is not an included study (studies.csv)")
        field = self.settings.field(name)
        if field is None:
            known = ", ".join(f.name for f in self.settings.fields)
            bad("field", f"unknown field {name!r}; declared: {known}")
            return None
        arms = [a.key for a in self.settings.arms]
        if arm and field.level == "study":
            bad("arm", f"{name} is a study-level field: leave arm empty")
        elif arm and arm not in arms:
            bad("arm", f"unknown arm {arm!r}; one of: {', '.join(arms)} (empty: every arm)")
        return field if study else None

    def _reported(self, record: dict[str, str], kind: str, field: Field, bad: Report) -> bool:
        flag = record["reported"].casefold()
        if not flag and not any(record[c] for c in (*NUMBER_COLUMNS, "text")):
            return True  # still to extract: work to do, not invalid data
        if flag not in ("", "yes", "no"):
            bad("reported", f"{record['reported']!r} is not yes or no (empty = yes)")
            return True
        if flag == "no":
            for col in (*NUMBER_COLUMNS, "text"):
                if record[col]:
                    bad(col, "must be empty when reported is no")
            if not record["source"]:
                bad("source", "empty; say where the value was looked for")
            return False
        _check_numbers(record, kind, bad)
        if kind in ("text", "choice") and not record["text"]:
            bad("text", "empty")
        if kind == "choice" and record["text"] and record["text"] not in field.choices:
            bad("text", f"{record['text']!r} is not one of {', '.join(field.choices)}")
        return True


def _check_numbers(record: dict[str, str], kind: str, bad: Report) -> None:
    """The numbers the kind needs are there, are numbers, and n <= N."""
    parsed: dict[str, float] = {}
    for col in NUMBER_COLUMNS:
        text = record[col]
        if not text:
            continue
        try:
            number = float(text)
        except ValueError:
            bad(col, not_a_number(text))
            continue
        if not math.isfinite(number):
            bad(col, not_a_number(text))
        elif col in COUNT_COLUMNS and kind == "n_of_N" and number != int(number):
            bad(col, f"{text!r} is not a whole number")
        else:
            parsed[col] = number
    for col in NEEDS[kind]:
        if not record[col]:
            bad(col, f"empty; a {kind} value needs {', '.join(NEEDS[kind])}")
    if kind == "median_iqr" and not record["spread"] and not (record["low"] and record["high"]):
        bad("low", "empty; a median_iqr value needs low and high (Q1, Q3) or spread (the IQR)")
    if kind == "n_of_N" and {"value", "total"} <= parsed.keys():
        _check_proportion(parsed, bad)


def _check_proportion(parsed: dict[str, float], bad: Report) -> None:
    n, total = parsed["value"], parsed["total"]
    if total <= 0 or n > total or n < 0:
        bad("value", f"{n:g} is not between 0 and the total {total:g}")
        return
    share = 100.0 * n / total
    if "percent" in parsed and abs(parsed["percent"] - share) >= PERCENT_TOLERANCE:
        bad("percent", f"{parsed['percent']:g}% does not match {n:g}/{total:g} = {share:.1f}%")
