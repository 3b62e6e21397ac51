"""A review's roster (``screening.reviewers``): who may decide, extract, assess and approve.

Why a roster: a reviewer's name is what dual review counts. A typo ("alcie") would
otherwise be a third reviewer whose decisions settle nothing, and an approval by a name
nobody recognises would let data reach the analysis unchecked. Names are compared
ignoring case everywhere; the roster's spelling is the one shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from livingmeta.validation import Problem, Report

if TYPE_CHECKING:
    import pandas as pd

    from livingmeta.config import Review

#: Columns naming people, per file of a review (a cell may list several, ``;``-separated).
EXTRACTION_PEOPLE = ("extractor", "second_extractor", "reconciled_by", "approved_by")
CHARACTERISTICS_PEOPLE = ("extractor", "approved_by")
GRADE_PEOPLE = ("assessor", "approved_by")
RISK_OF_BIAS_PEOPLE = ("agreed_by",)


def review_roster(review: Review) -> tuple[str, ...] | None:
    """The configured roster, stripped; ``None`` when the review has none.

    Raises
    ------
    ValueError
        A name given twice (ignoring case), naming the key.
    """
    names = (review.spec.get("screening") or {}).get("reviewers")
    if not names:
        return None
    roster = tuple(str(name).strip() for name in names)
    folded = [name.casefold() for name in roster]
    if len(set(folded)) != len(folded):
        raise ValueError(
            f"reviews[{review.id}].screening.reviewers: a name appears twice (case is "
            f"ignored) in {list(roster)}"
        )
    return roster


def not_a_reviewer(name: str, roster: Sequence[str]) -> str:
    """The message for a name that is not on the roster."""
    from livingmeta.config_messages import did_you_mean

    hint = "" if "," in name else did_you_mean(name, roster)  # a list has its own advice
    return f"{name!r} is not a reviewer of this review; the roster is: {', '.join(roster)}{hint}"


def report_off_roster(
    record: Mapping[str, str], columns: Iterable[str], roster: Sequence[str] | None, bad: Report
) -> None:
    """Report what :func:`signature_problems` finds in each of ``columns`` of a row (the
    row checks of characteristics, GRADE and risk of bias; ``livingmeta validate`` reads
    the same cells through :func:`frame_problems`)."""
    for column in columns:
        for message in signature_problems(record[column], roster):
            bad(column, message)


def on_roster(name: str, roster: Sequence[str]) -> str:
    """``name`` as the roster spells it (compared ignoring case).

    Raises
    ------
    ValueError
        "not a reviewer of this review; the roster is: ..." for any other name.
    """
    by_fold = {r.casefold(): r for r in roster}
    key = name.strip().casefold()
    if key not in by_fold:
        raise ValueError(not_a_reviewer(name.strip(), roster))
    return by_fold[key]


def names_in(cell: Any) -> list[str]:
    """The names of a cell (``"alice; bob"`` lists two)."""
    return [part.strip() for part in str(cell or "").split(";") if part.strip()]


def signature_problems(cell: Any, roster: Sequence[str] | None) -> list[str]:
    """What is wrong with a cell signed by reviewers (``alice; bob``: two who agreed).

    The one rule for every such cell, in the workflow's row checks and in ``livingmeta
    validate``: names are separated by ``;``, each is on the roster (compared ignoring
    case, as everywhere; :func:`signed_names` spells them as the roster does) and signs
    once, since a name given twice would count as two reviewers. Nothing to check
    without a roster; an empty cell is left to the column's own check.
    """
    if roster is None:
        return []
    known = {name.casefold() for name in roster}
    seen: set[str] = set()
    problems = []
    for name in names_in(cell):
        key = name.casefold()
        if key in seen:
            problems.append(f"{name!r} is named twice; each reviewer signs once")
        elif key not in known:
            hint = "; separate several names with ';'" if "," in name else ""
            problems.append(not_a_reviewer(name, roster) + hint)
        seen.add(key)
    return problems


def signed_names(cell: Any, roster: Sequence[str] | None) -> tuple[str, ...]:
    """The names of a signed cell as the roster spells them (as written without a
    roster, or for a name off it)."""
    return tuple(canonical_names(names_in(cell), roster))


def frame_problems(
    frame: pd.DataFrame, file: str, columns: Iterable[str], roster: Sequence[str] | None
) -> list[Problem]:
    """A problem for every cell of ``columns`` of ``frame`` that breaks the rule of
    :func:`signature_problems` (absent columns are skipped)."""
    from livingmeta.extraction import row_number

    if roster is None:
        return []
    present = [c for c in columns if c in frame.columns]
    problems = []
    for pos, record in enumerate(frame[present].to_dict("records")):
        for column in present:
            for message in signature_problems(record[column], roster):
                problems.append(Problem(file, row_number(frame, pos), column, message))
    return problems


def file_problems(
    path: str | Path, columns: Iterable[str], roster: Sequence[str] | None
) -> list[Problem]:
    """:func:`frame_problems` of a CSV file (a missing file has none; a file that cannot be
    read is left to the check that reads it)."""
    from livingmeta.extraction import read_table
    from livingmeta.validation import InputError

    if roster is None or not Path(path).is_file():
        return []
    try:
        frame = read_table(path)
    except InputError:
        return []
    return frame_problems(frame, str(path), columns, roster)


def assessment_problems(review: Review, roster: Sequence[str] | None = None) -> list[Problem]:
    """Names off the roster in the review's assessments: risk of bias (each assessor's
    file is named after them; ``agreed_by`` of the consensus), GRADE ratings and the
    characteristics of the included studies."""
    from livingmeta.risk_of_bias import CONSENSUS_FILE

    roster = review_roster(review) if roster is None else roster
    if roster is None:
        return []
    files = review.files
    problems = []
    folder = files.risk_of_bias
    known = {name.casefold() for name in roster}
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        if path.name == CONSENSUS_FILE:
            problems += file_problems(path, RISK_OF_BIAS_PEOPLE, roster)
        elif path.stem.casefold() not in known:
            message = f"assessor (the file's name): {not_a_reviewer(path.stem, roster)}"
            problems.append(Problem(str(path), None, None, message))
    problems += file_problems(files.grade, GRADE_PEOPLE, roster)
    problems += file_problems(files.characteristics, CHARACTERISTICS_PEOPLE, roster)
    return problems


def draft_problems(drafts: Sequence[str | Path], roster: Sequence[str] | None) -> list[Problem]:
    """Extractors' drafts (``extraction/<name>.csv``) named after someone off the roster."""
    known = {name.casefold() for name in roster or ()}
    problems = []
    for path in map(Path, drafts):
        if roster is not None and path.stem.casefold() not in known:
            message = f"extractor (the draft's name): {not_a_reviewer(path.stem, roster)}"
            problems.append(Problem(str(path), None, None, message))
    return problems


def canonical_names(names: Iterable[Any], roster: Sequence[str] | None) -> list[str]:
    """Each name as the roster spells it, or without a roster as first written (so
    ``Alice`` and ``alice`` count as one reviewer); unknown names are kept as written."""
    spelling = {r.casefold(): r for r in roster or ()}
    out = []
    for name in names:
        text = str(name).strip()
        out.append(spelling.setdefault(text.casefold(), text) if text else text)
    return out
