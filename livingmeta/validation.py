"""Problems found in input files, collected and reported all at once.

A reviewer fixing a spreadsheet wants every problem in one go, each with the file, the
row (as numbered in a spreadsheet, header = row 1) and the column, not one per run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

#: Exit status of a command or workflow job that refused invalid input (its report names
#: file, row and field); the scheduled run reads it as "invalid data".
EXIT_INVALID_INPUT = 2
#: What a workflow job's log puts before the report of invalid input it refused
#: (:mod:`livingmeta.rulelog` writes it; the scheduled run reads it).
INVALID_INPUT_LOGGED = "invalid input: "
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


def in_reading_order(problems: list[Problem]) -> list[Problem]:
    """``problems`` by file (in the order the files first appear), then row (problems of
    the whole file first), so a reviewer fixes a file top to bottom; stable otherwise."""
    files = {name: i for i, name in enumerate(dict.fromkeys(p.file for p in problems))}
    return sorted(problems, key=lambda p: (files[p.file], -1 if p.row is None else p.row))


#: Files a problem of the row being checked: ``bad(column, message)``.
Report = Callable[[str, str], None]


def row_reporter(file: str, row: int, found: list[Problem]) -> Report:
    """A :data:`Report` appending each problem of ``row`` of ``file`` to ``found``, so a
    row's checks name the column and the message only."""

    def bad(column: str, message: str) -> None:
        found.append(Problem(file, row, column, message))

    return bad


def not_a_number(text: str) -> str:
    """The message for a cell that is not a number, with the fix for a decimal comma
    (``450,5``: spreadsheets in many languages write it)."""
    stripped = text.strip()
    if re.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+", stripped):  # 1,000: thousands or 1.000?
        whole, point = stripped.replace(",", ""), stripped.replace(",", ".", 1)
        return (
            f"{text!r} is not a number (write {whole} without a thousands separator, or "
            f"{point} if the comma is a decimal comma)"
        )
    if re.fullmatch(r"[-+]?\d+,\d+", stripped):
        return f"{text!r} is not a number (write decimals with a point: {text.replace(',', '.')})"
    return f"{text!r} is not a number"


def is_date(text: str) -> bool:
    """A real calendar date written YYYY-MM-DD (the form every dated column takes)."""
    if not _DATE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


class InputError(ValueError):
    """Invalid input; ``problems`` lists everything found, in file order."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        count = len(self.problems)
        lines = [f"{count} problem{'s' if count != 1 else ''} found:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))

    def __reduce__(self) -> tuple[type[InputError], tuple[list[Problem]]]:
        # Pickled with its problems (a forked job sends its refusal to Snakemake's process).
        return (type(self), (self.problems,))
