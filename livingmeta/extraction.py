"""The extraction table: reading, validating and turning it into study data per outcome.

Data contract (one row per study x outcome; see README "Data contract"):

- identity: ``study_id`` (or ``study`` in a minimal file), ``study_label``, ``year``,
  ``outcome`` (optional when the file holds one outcome), ``subgroup``, ``notes``;
- dichotomous: ``events_treat, total_treat, events_ctrl, total_ctrl``;
- continuous: ``mean_treat, sd_treat, n_treat, mean_ctrl, sd_ctrl, n_ctrl``;
- generic inverse variance: ``yi, se`` (analysis scale: log for ratios).

Validation collects every problem before anything is pooled, so invalid input stops the
run before any output is replaced.
"""

from __future__ import annotations

import codecs
import io
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from livingmeta.csvsafe import restore
from livingmeta.outcomes import ARM_COLUMNS, Outcome
from livingmeta.stats.data import DATA_TYPES, StudyData
from livingmeta.validation import InputError, Problem

COUNT_COLUMNS = {"events_treat", "total_treat", "events_ctrl", "total_ctrl", "n_treat", "n_ctrl"}
POSITIVE_COLUMNS = {"total_treat", "total_ctrl", "n_treat", "n_ctrl", "sd_treat", "sd_ctrl", "se"}
FIRST_DATA_ROW = 2  # spreadsheet numbering: the header is row 1


#: Name of the index :func:`read_table` gives its frames: spreadsheet row numbers.
ROW_INDEX = "spreadsheet_row"
#: Beyond these a number is a typing or export accident, not data (and would overflow
#: the pooling arithmetic into a misleading message).
MAX_COUNT = 1e9
MAX_MAGNITUDE = 1e12
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def read_table(
    path: str | Path, *, required: Iterable[str] = (), columns: Iterable[str] = ()
) -> pd.DataFrame:
    """Read a CSV as text (nothing coerced yet), so validation sees what the user typed.

    The index holds each row's spreadsheet row number (header = row 1, blank lines
    counted, rows with no value at all dropped), so every error names the row a reviewer
    sees in Excel. Cells neutralised against formula injection are restored. A column in
    ``required`` that is missing is an error (row 1); one in ``columns`` is added empty.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(str(path), None, None, "file not found")]) from None
    text = _decode(data, str(path))
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError([Problem(str(path), None, None, f"not a readable CSV: {exc}")]) from None
    frame.columns = [c.strip() for c in frame.columns]
    _refuse_other_separators(frame, str(path))
    frame = frame.apply(lambda col: col.map(restore).str.strip())
    frame.index = pd.RangeIndex(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame), name=ROW_INDEX)
    frame = frame[(frame != "").any(axis=1)] if len(frame.columns) else frame
    missing = [col for col in required if col not in frame.columns]
    if missing:
        raise InputError([Problem(str(path), 1, col, "column missing") for col in missing])
    for col in columns:
        if col not in frame.columns:
            frame[col] = ""
    return frame


def row_number(frame: pd.DataFrame, pos: int) -> int:
    """Spreadsheet row of the ``pos``-th row of ``frame`` (see :func:`read_table`); a frame
    built in memory counts from :data:`FIRST_DATA_ROW`."""
    if frame.index.name == ROW_INDEX:
        return int(frame.index[pos])
    return pos + FIRST_DATA_ROW


def _decode(data: bytes, file: str) -> str:
    """UTF-8 with or without BOM; anything else is refused with where and how to fix it."""
    fix = "save the file as CSV UTF-8 (Excel: File > Save As > CSV UTF-8)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(
            [Problem(file, None, None, f"not a readable CSV: it is UTF-16 text; {fix}")]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = f"not a readable CSV: byte 0x{data[exc.start]:02x} on line {line} is not UTF-8"
        raise InputError([Problem(file, line, None, f"{message}; {fix}")]) from None
    binary = _CONTROL.search(text)
    if binary:
        line = text[: binary.start()].count("\n") + 1
        raise InputError(
            [Problem(file, line, None, f"not a readable CSV: binary content on line {line}")]
        )
    return text


def _refuse_other_separators(frame: pd.DataFrame, file: str) -> None:
    """A one-column header holding ``;`` or a tab is a file saved by Excel in a locale
    with decimal commas (or as text): say so instead of "column missing"."""
    if len(frame.columns) != 1:
        return
    header = frame.columns[0]
    for sep, name in ((";", "semicolons"), ("\t", "tabs")):
        if sep in header:
            raise InputError(
                [
                    Problem(
                        file,
                        1,
                        None,
                        f"columns are separated by {name}, not commas (a spreadsheet saved "
                        "it in a locale that uses decimal commas?); save it as comma-"
                        "separated CSV UTF-8",
                    )
                ]
            )


def validate_extraction(
    frame: pd.DataFrame, file: str, outcomes: Mapping[str, Outcome]
) -> pd.DataFrame:
    """Check the table against the data contract; return it with typed columns.

    Raises
    ------
    InputError
        Listing every problem (file, row, column) found.
    """
    problems: list[Problem] = []
    frame = frame.copy()
    id_column = "study_id"
    if "study_id" not in frame.columns and "study" in frame.columns:
        frame["study_id"] = frame["study"]
        id_column = "study"
    if "study_label" not in frame.columns:
        frame["study_label"] = frame["study_id"] if "study_id" in frame.columns else ""
    if "outcome" not in frame.columns:
        if len(outcomes) == 1:
            frame["outcome"] = next(iter(outcomes))
        else:
            problems.append(
                Problem(file, None, "outcome", "column missing (the file has several outcomes)")
            )
    if "study_id" not in frame.columns:
        problems.append(Problem(file, None, "study_id", "column missing (or 'study')"))
    if problems:
        raise InputError(problems)

    used_outcomes = set(frame["outcome"]) & set(outcomes)
    needed = {col for name in used_outcomes for col in outcomes[name].arm_columns}
    for col in sorted(needed - set(frame.columns)):
        problems.append(Problem(file, None, col, "column missing"))
    if problems:
        raise InputError(problems)

    numeric = {col: pd.to_numeric(frame[col], errors="coerce") for col in _all_arm_columns(frame)}
    seen: dict[tuple[str, str], int] = {}
    for pos, record in enumerate(frame.to_dict("records")):
        rownum = row_number(frame, pos)
        problems += _check_row(record, rownum, file, outcomes, numeric, pos, id_column)
        key = (record["study_id"], record["outcome"])
        if key in seen:
            problems.append(
                Problem(
                    file,
                    rownum,
                    id_column,
                    f"duplicate study x outcome ({key[0]}, {key[1]}); first at row {seen[key]}",
                )
            )
        else:
            seen[key] = rownum
    problems += _subgroup_problems(frame, file)
    if problems:
        raise InputError(problems)

    for col, values in numeric.items():
        frame[col] = values
    if "year" in frame.columns:
        frame["year"] = pd.to_numeric(frame["year"], errors="coerce").astype("Int64")
    return frame


def _subgroup_problems(frame: pd.DataFrame, file: str) -> list[Problem]:
    """Within an outcome, either every row has a subgroup or none does (RevMan's rule:
    a study outside every subgroup would silently enter the test for differences)."""
    if "subgroup" not in frame.columns:
        return []
    problems = []
    for outcome in dict.fromkeys(frame["outcome"]):
        rows = frame["outcome"] == outcome
        labelled = frame.loc[rows, "subgroup"] != ""
        if labelled.any() and not labelled.all():
            for pos in labelled.index[~labelled]:
                problems.append(
                    Problem(
                        file,
                        row_number(frame, frame.index.get_loc(pos)),
                        "subgroup",
                        f"empty, but other rows of outcome {outcome!r} have a subgroup",
                    )
                )
    return problems


def _all_arm_columns(frame: pd.DataFrame) -> list[str]:
    cols = {c for group in ARM_COLUMNS.values() for c in group}
    return [c for c in frame.columns if c in cols]


def _check_row(
    record: dict[str, str],
    rownum: int,
    file: str,
    outcomes: Mapping[str, Outcome],
    numeric: Mapping[str, pd.Series],
    pos: int,
    id_column: str,
) -> list[Problem]:
    problems: list[Problem] = []

    def bad(column: str | None, message: str) -> None:
        problems.append(Problem(file, rownum, column, message))

    if not record["study_id"]:
        bad(id_column, "empty")
    name = record["outcome"]
    if name not in outcomes:
        allowed = ", ".join(sorted(outcomes)) or "(none declared)"
        bad("outcome", f"unknown outcome {name!r}; declared: {allowed}")
        return problems
    year = record.get("year", "")
    if year and not _is_integer_text(year):
        bad("year", f"{year!r} is not a year")
    outcome = outcomes[name]
    values: dict[str, float] = {}
    for col in outcome.arm_columns:
        text = record[col]
        value = numeric[col].iloc[pos]
        if text == "":
            bad(col, "empty")
        elif not math.isfinite(value):
            bad(col, f"{text!r} is not a number")
        elif col in COUNT_COLUMNS and value != int(value):
            bad(col, f"{text!r} is not a whole number")
        elif abs(value) > (MAX_COUNT if col in COUNT_COLUMNS else MAX_MAGNITUDE):
            limit = MAX_COUNT if col in COUNT_COLUMNS else MAX_MAGNITUDE
            bad(col, f"{text} is implausibly large (more than {limit:,.0f})")
        elif col in POSITIVE_COLUMNS and value <= 0:
            bad(col, f"must be greater than 0; got {text}")
        elif value < 0 and col.startswith("events"):
            bad(col, f"must not be negative; got {text}")
        else:
            values[col] = value
    for arm in ("treat", "ctrl"):
        events, total = values.get(f"events_{arm}"), values.get(f"total_{arm}")
        if events is not None and total is not None and events > total:
            bad(f"events_{arm}", f"{events:g} events exceed the total of {total:g}")
    return problems


def _is_integer_text(text: str) -> bool:
    try:
        return float(text) == int(float(text))
    except ValueError:
        return False


def load_extraction(path: str | Path, outcomes: Mapping[str, Outcome]) -> pd.DataFrame:
    """Read and validate an extraction table (raises ``InputError`` listing all problems)."""
    return validate_extraction(read_table(path), str(path), outcomes)


def outcome_data(frame: pd.DataFrame, outcome: Outcome) -> StudyData:
    """The validated rows of one outcome as a study-data container, in table order."""
    rows = frame[frame["outcome"] == outcome.name]
    labels = rows["study_label"].where(rows["study_label"] != "", rows["study_id"])
    years = tuple(None if pd.isna(y) else int(y) for y in rows.get("year", [None] * len(rows)))
    subgroup = tuple(
        s if s else None for s in rows.get("subgroup", pd.Series([""] * len(rows))).tolist()
    )
    arrays = [rows[col].to_numpy(dtype=np.float64) for col in outcome.arm_columns]
    cls = DATA_TYPES[outcome.type]
    return cls(tuple(labels), *arrays, year=years, subgroup=subgroup)


def outcomes_in(frame: pd.DataFrame, outcomes: Iterable[Outcome]) -> list[Outcome]:
    """The declared outcomes that have at least one row."""
    present = set(frame["outcome"])
    return [o for o in outcomes if o.name in present]


def outcome_digest(extraction: str | Path, outcome: Outcome, excluded: Iterable[str] = ()) -> str:
    """A fingerprint of one outcome's rows and options.

    Used as a Snakemake ``params`` value: editing one outcome's rows changes only that
    outcome's digest, so only its jobs rerun. Reads the raw text (never fails on invalid
    input: validation happens in the job, where it can be reported).
    """
    import hashlib
    import json

    hasher = hashlib.sha256(json.dumps(outcome.pool_options(), sort_keys=True).encode())
    hasher.update(outcome.label.encode())
    hasher.update(json.dumps(sorted(excluded)).encode())
    try:
        frame = read_table(extraction)
    except InputError as exc:
        hasher.update(str(exc).encode())
        return hasher.hexdigest()[:16]
    if "outcome" in frame.columns:
        frame = frame[frame["outcome"] == outcome.name]
    hasher.update(frame.to_csv(index=False).encode())
    return hasher.hexdigest()[:16]
