"""The extraction table: reading, validating and turning it into study data per outcome.

Data contract (one row per study x outcome; see README "Data contract"):

- identity: ``study_id`` (or ``study`` in a minimal file), ``study_label``, ``year``,
  ``outcome`` (optional when the file holds one outcome), ``comparison`` (which arms of a
  multi-arm trial), ``subgroup``, ``notes``;
- ``reported``: ``no`` when the study did not report the outcome (numbers empty,
  ``source`` saying where it was looked for); a row with every number empty and not
  marked so is still *to extract*, which is work to do rather than invalid data;
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
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from livingmeta.config_messages import did_you_mean
from livingmeta.csvsafe import restore
from livingmeta.outcomes import ARM_COLUMNS, MEASURES_OF_TYPE, Outcome
from livingmeta.stats.data import DATA_TYPES, StudyData
from livingmeta.validation import InputError, Problem, Report, not_a_number, row_reporter

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
REPORTED = ("", "yes", "no")


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
    # A large file (a backfill's queue) is held once, as UTF-8 bytes (a StringIO of it
    # would take four bytes a character), while pandas parses it.
    del data
    utf8 = io.BytesIO(text.encode("utf-8"))
    del text
    try:
        frame = pd.read_csv(
            utf8,
            encoding="utf-8",
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        message = "the file is empty: it needs at least its header row (see the README)"
        raise InputError([Problem(str(path), 1, None, message)]) from None
    except pd.errors.ParserError as exc:
        raise InputError([Problem(str(path), None, None, f"not a readable CSV: {exc}")]) from None
    del utf8
    frame.columns = [c.strip() for c in frame.columns]
    _refuse_other_separators(frame, str(path))
    for column in frame.columns:  # one column at a time: never two copies of the table
        frame[column] = frame[column].map(restore).str.strip()
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

    problems += _missing_arm_columns(file, frame, set(frame["outcome"]) & set(outcomes), outcomes)
    if problems:
        raise InputError(problems)

    numeric = {col: pd.to_numeric(frame[col], errors="coerce") for col in _all_arm_columns(frame)}
    seen: dict[tuple[str, str, str], int] = {}
    for pos, record in enumerate(frame.to_dict("records")):
        rownum = row_number(frame, pos)
        problems += _check_row(record, rownum, file, outcomes, numeric, pos, id_column)
        key = (record["study_id"], record["outcome"], record.get("comparison", ""))
        if key in seen:
            what = "study x outcome" + (" x comparison" if key[2] else "")
            listed = ", ".join(filter(None, key))
            hint = "" if key[2] else " (a multi-arm trial: tell its rows apart in 'comparison')"
            message = f"duplicate {what} ({listed}); first at row {seen[key]}{hint}"
            problems.append(Problem(file, rownum, id_column, message))
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


def _missing_arm_columns(
    file: str, frame: pd.DataFrame, used: set[str], outcomes: Mapping[str, Outcome]
) -> list[Problem]:
    """One problem per set of outcomes missing columns, naming every missing column and
    the header that has them: a table started with one outcome type's columns
    (``livingmeta new-review`` writes the dichotomous ones) lacks another type's."""
    missing: dict[tuple[str, ...], list[str]] = {}
    for col in sorted({c for name in used for c in outcomes[name].arm_columns}):
        if col not in frame.columns:
            needing = tuple(sorted(n for n in used if col in outcomes[n].arm_columns))
            missing.setdefault(needing, []).append(col)
    problems = []
    for needing, columns in missing.items():
        kinds = " and ".join(sorted({outcomes[name].type for name in needing}))
        names = ", ".join(repr(name) for name in needing)
        what = f"the {kinds} outcome{'s' if len(needing) > 1 else ''} {names}"
        needs = "need" if len(needing) > 1 else "needs"
        message = (
            f"column{'s' if len(columns) > 1 else ''} missing ({', '.join(columns)}): {what} "
            f"{needs} {', '.join(outcomes[needing[0]].arm_columns)} (in a review, "
            "results/<review>/extraction/template.csv has the full header)"
        )
        problems.append(Problem(file, None, columns[0], message + _other_columns(frame, kinds)))
    return problems


def _other_columns(frame: pd.DataFrame, kinds: str) -> str:
    """A hint when the file holds another outcome type's columns (a measure for events
    asked of means, or the other way round)."""
    for kind, columns in ARM_COLUMNS.items():
        if kind not in kinds and all(c in frame.columns for c in columns):
            *others, last = MEASURES_OF_TYPE[kind]
            measures = f"{', '.join(others)} or {last}" if others else last
            return f"; the file has the {kind} columns: pool them with {measures}"
    return ""


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
    bad = row_reporter(file, rownum, problems)
    if not record["study_id"]:
        bad(id_column, "empty")
    name = record["outcome"]
    if name not in outcomes:
        allowed = ", ".join(sorted(outcomes)) or "(none declared)"
        hint = did_you_mean(name, list(outcomes))
        bad("outcome", f"unknown outcome {name!r}; declared: {allowed}{hint}")
        return problems
    year = record.get("year", "")
    if year and not _is_integer_text(year):
        bad("year", f"{year!r} is not a year")
    outcome = outcomes[name]
    _numbers_of_another_type(record, outcome, bad)
    if not _has_numbers(record, outcome, bad):
        return problems
    values: dict[str, float] = {}
    empty_arm = _empty_arm(record, outcome.arm_columns, bad)
    for col in outcome.arm_columns:
        text = record[col]
        value = numeric[col].iloc[pos]
        if text == "":
            if empty_arm is None or not col.endswith(f"_{empty_arm}"):
                bad(col, "empty")
        elif not math.isfinite(value):
            bad(col, not_a_number(text))
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


def _numbers_of_another_type(record: Mapping[str, str], outcome: Outcome, bad: Any) -> None:
    """Events and totals in a continuous outcome's row, or means, SDs and Ns in a
    dichotomous one's: never pooled, so most likely typed in the wrong row or declared
    with the wrong ``type``. Generic outcomes may keep other numbers beside ``yi, se``."""
    if outcome.type not in ("dichotomous", "continuous"):
        return
    other = "continuous" if outcome.type == "dichotomous" else "dichotomous"
    filled = [col for col in ARM_COLUMNS[other] if record.get(col, "")]
    if filled:
        bad(
            filled[0],
            f"{other} numbers ({', '.join(filled)}) in a row of the {outcome.type} outcome "
            f"{outcome.name!r}, which reads {', '.join(outcome.arm_columns)}: move them to "
            "the right row, or give the outcome its type (config, or the measure: OR, RR, RD "
            "for events, MD, SMD for means)",
        )


def _has_numbers(record: Mapping[str, str], outcome: Outcome, bad: Any) -> bool:
    """Whether the row's numbers are to be checked: not for an outcome the study did not
    report (``reported: no``, which needs empty numbers and a ``source``), nor for a row
    still to extract (every number empty, not approved)."""
    reported = record.get("reported", "").lower()
    if reported not in REPORTED:
        bad("reported", f"{record['reported']!r} is not empty, 'yes' or 'no'")
    filled = [col for col in outcome.arm_columns if record[col] != ""]
    if reported == "no":
        for col in filled:
            bad(col, f"{record[col]!r} given, but reported is 'no' (empty it or set 'yes')")
        if not record.get("source", ""):
            bad("source", "empty: say where the outcome was looked for (reported is 'no')")
        return False
    if filled or reported == "yes":
        return True
    if record.get("approved_by", "") or record.get("approved_on", ""):
        first = outcome.arm_columns[0]
        bad(first, "empty, but the row is approved: fill in the numbers or set reported 'no'")
    return False


def row_kinds(frame: pd.DataFrame, outcomes: Mapping[str, Outcome]) -> pd.Series:
    """Each row's kind: ``data`` (numbers to pool), ``not_reported`` (``reported: no``) or
    ``to_extract`` (every number of its outcome empty). Works on the text table and on
    the validated one (where empty numbers are NaN)."""
    kinds = []
    for record in frame.to_dict("records"):
        outcome = outcomes.get(record.get("outcome", ""))
        if str(record.get("reported", "")).lower() == "no":
            kinds.append("not_reported")
        elif outcome is not None and all(_blank(record.get(c)) for c in outcome.arm_columns):
            kinds.append("to_extract")
        else:
            kinds.append("data")
    return pd.Series(kinds, index=frame.index, dtype=object)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


_ARM_NAMES = {"treat": "experimental", "ctrl": "control"}


def _empty_arm(record: dict[str, str], columns: Sequence[str], bad: Report) -> str | None:
    """The arm (``treat`` or ``ctrl``) whose numbers are all empty while the other arm's
    are given, reported once: a single-arm study is a common cause, and "empty" per column
    would not say that a comparison needs both arms."""
    for arm, other in (("treat", "ctrl"), ("ctrl", "treat")):
        mine = [c for c in columns if c.endswith(f"_{arm}")]
        theirs = [c for c in columns if c.endswith(f"_{other}")]
        if mine and all(record[c] == "" for c in mine) and any(record[c] for c in theirs):
            bad(
                mine[0],
                f"empty, as is every number of the {_ARM_NAMES[arm]} arm ({', '.join(mine)}): "
                "a comparison needs both arms; for a single-arm study set reported 'no' and "
                "say why in notes",
            )
            return arm
    return None


def _is_integer_text(text: str) -> bool:
    try:
        return float(text) == int(float(text))
    except ValueError:
        return False


def load_extraction(path: str | Path, outcomes: Mapping[str, Outcome]) -> pd.DataFrame:
    """Read and validate an extraction table (raises ``InputError`` listing all problems)."""
    return validate_extraction(read_table(path), str(path), outcomes)


def pooled_rows(frame: pd.DataFrame, outcome: Outcome) -> pd.DataFrame:
    """The validated rows of one outcome that are pooled: with numbers, and not left out
    of the analysis (a ``left_out`` reason, written by the approval step)."""
    rows = frame[frame["outcome"] == outcome.name]
    keep = row_kinds(rows, {outcome.name: outcome}) == "data"
    if "left_out" in rows.columns:
        keep &= rows["left_out"].fillna("").astype(str) == ""
    return rows[keep]


def study_labels(rows: pd.DataFrame) -> list[str]:
    """Plot labels: ``study_label`` (else the id), with the ``comparison`` added for a
    study that has several rows (the comparisons of a multi-arm trial)."""
    labels = rows["study_label"].where(rows["study_label"] != "", rows["study_id"]).tolist()
    if "comparison" not in rows.columns:
        return labels
    repeated = rows["study_id"].duplicated(keep=False).tolist()
    return [
        f"{label} ({comparison})" if again and comparison else label
        for label, comparison, again in zip(labels, rows["comparison"], repeated, strict=True)
    ]


def shared_controls(rows: pd.DataFrame, outcome: Outcome) -> list[str]:
    """Studies whose comparisons repeat the same control arm: its participants are counted
    twice (Cochrane Handbook 23.3.4 advises splitting the shared group between them).
    Rows whose ``shared_control`` says ``split`` were split on purpose (equal halves look
    alike) and are not flagged."""
    control = [c for c in outcome.arm_columns if c.endswith("_ctrl")]
    if not control or "comparison" not in rows.columns:
        return []
    if "shared_control" in rows.columns:
        rows = rows[rows["shared_control"].fillna("").astype(str).str.lower() != "split"]
    notes = []
    for _, group in rows.groupby("study_id", sort=False):
        if len(group) > 1 and len(group[control].drop_duplicates()) < len(group):
            label = study_labels(group.iloc[:1])[0]
            notes.append(
                f"{label}: the control group is shared by {len(group)} comparisons and "
                "counted in each; split it between them (Cochrane Handbook 23.3.4)"
            )
    return notes


def study_labels_by_id(path: str | Path) -> dict[str, list[str]]:
    """Each study's labels as the analyses print them: first its own (``study_label``,
    else its id), then those of its comparisons (a multi-arm trial's rows are labelled
    ``Label (comparison)``), so that judgements made per study reach every row of its
    forest plots; empty when the table cannot be read (its own check reports why)."""
    try:
        frame = read_table(path)
    except (InputError, OSError):
        return {}
    if "study_id" not in frame.columns:
        return {}
    frame = frame[frame["study_id"] != ""].copy()  # read_table has stripped every cell
    if "study_label" not in frame.columns:
        frame["study_label"] = ""
    own = study_labels(frame.drop(columns="comparison", errors="ignore"))
    found: dict[str, list[str]] = {}
    for study_id, label in zip(frame["study_id"], own, strict=True):
        found.setdefault(study_id, [label])
    groups = frame.groupby("outcome", sort=False) if "outcome" in frame.columns else [("", frame)]
    for _, rows in groups:
        for study_id, label in zip(rows["study_id"], study_labels(rows), strict=True):
            if label not in found[study_id]:
                found[study_id].append(label)
    return found


def outcome_data(frame: pd.DataFrame, outcome: Outcome) -> StudyData:
    """The pooled rows of one outcome (:func:`pooled_rows`) as a study-data container, in
    table order."""
    rows = pooled_rows(frame, outcome)
    labels = study_labels(rows)
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


def outcome_rows_text(extraction: str | Path, outcome: str) -> str:
    """One outcome's rows of the extraction table as CSV text (what its digest,
    :func:`livingmeta.fingerprints.outcome_digest`, is made of), or the reason the table
    cannot be read: never fails on invalid input, which its check reports."""
    try:
        frame = read_table(extraction)
    except InputError as exc:
        return str(exc)
    if "outcome" in frame.columns:
        frame = frame[frame["outcome"] == outcome]
    return str(frame.to_csv(index=False))
