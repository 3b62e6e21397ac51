"""The review's included studies (``studies.csv``), appended as reports are included.

Why a study list apart from the records: a study (one trial) is often described by several
reports (a conference abstract, the main paper, a follow-up, a registry entry). The
extraction table is keyed by ``study_id``, so every included report must map to one study.
The workflow proposes a row for each newly included study and never rewrites the file:
reviewers own the ids, labels, notes and the ``exclude_retracted`` decision. A further
report of a study that already has a row is *reported*, not written, so a person adds its
record id to that row.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from livingmeta.extraction import read_table, row_number
from livingmeta.files import locked
from livingmeta.screening.csvfile import append_rows, read_existing
from livingmeta.screening.queue import split_ids
from livingmeta.screening.status import ScreeningStatus
from livingmeta.validation import InputError, Problem

STUDY_COLUMNS = (
    "study_id", "study_label", "year", "record_ids", "included_in", "exclude_retracted", "notes",
)  # fmt: skip
#: Columns a reviewer (or the workspace) may add: when and by whom ``exclude_retracted``
#: was decided. Read where present; the workflow never writes them.
DECISION_COLUMNS = ("decided_on", "decided_by")
EXCLUDE_RETRACTED = ("", "yes", "no")
_INITIALS = re.compile(r"^(?:[A-Z]{1,4}|(?:[A-Z]\.-?){1,4})$")  # "MA", or "M.A." (Embase)


@dataclass(frozen=True)
class ReportOfExisting:
    """An included report of a study that already has a row (add its id to that row)."""

    record_id: str
    study_id: str


@dataclass(frozen=True)
class StudiesUpdate:
    """What :func:`update_studies` appended (``new_studies``) and reported."""

    new_studies: tuple[dict[str, str], ...]
    new_reports_of_existing: tuple[ReportOfExisting, ...]


def read_studies(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate ``studies.csv`` (missing file: no study included yet).

    Raises
    ------
    InputError
        Every problem: missing ``study_id``/``record_ids`` column, empty or repeated
        ``study_id``, a year that is not a year, ``exclude_retracted`` other than empty,
        ``yes`` or ``no``, a record id listed under two studies.
    """
    file = str(path)
    if not Path(path).exists():
        return pd.DataFrame({col: pd.Series(dtype=str) for col in STUDY_COLUMNS})
    frame = read_table(path)
    missing = [c for c in ("study_id", "record_ids") if c not in frame.columns]
    if missing:
        raise InputError([Problem(file, 1, c, "column missing") for c in missing])
    for col in STUDY_COLUMNS:
        if col not in frame.columns:
            frame[col] = ""
    problems = []
    ids: dict[str, int] = {}
    owners: dict[str, tuple[str, int]] = {}
    for pos, rec in enumerate(frame.to_dict("records")):
        row = row_number(frame, pos)
        study_id = rec["study_id"]
        if not study_id:
            problems.append(Problem(file, row, "study_id", "empty"))
        elif study_id.casefold() in ids:
            message = f"duplicate study {study_id!r}; first at row {ids[study_id.casefold()]}"
            problems.append(Problem(file, row, "study_id", message))
        else:
            ids[study_id.casefold()] = row
        if rec["year"] and not re.fullmatch(r"\d{4}", rec["year"]):
            problems.append(Problem(file, row, "year", f"{rec['year']!r} is not a year"))
        if rec["exclude_retracted"].lower() not in EXCLUDE_RETRACTED:
            message = f"{rec['exclude_retracted']!r} is not empty, 'yes' or 'no'"
            problems.append(Problem(file, row, "exclude_retracted", message))
        for record_id in split_ids(rec["record_ids"]):
            if record_id in owners and owners[record_id][0] != study_id:
                other, other_row = owners[record_id]
                message = f"record {record_id!r} also belongs to {other!r} (row {other_row})"
                problems.append(Problem(file, row, "record_ids", message))
            owners.setdefault(record_id, (study_id, row))
    if problems:
        raise InputError(problems)
    return frame


def plan_studies(
    studies: pd.DataFrame, status: ScreeningStatus, queue: pd.DataFrame, run_id: str
) -> StudiesUpdate:
    """Rows to append and reports to flag, without writing (``livingmeta status`` uses it).

    Included reports are taken in queue order, so a study and its later report included in
    the same run give one row and one report of an existing study.
    """
    owner = {r: s for s, ids in zip(studies["study_id"], studies["record_ids"], strict=True)
             for r in split_ids(ids)}  # fmt: skip
    taken = {s.casefold() for s in studies["study_id"]}
    rows = {rec["record_id"]: rec for rec in queue.to_dict("records")}
    new, reports = [], []
    for report in status.included_reports:
        rec = rows[report.record_id]
        own = list(dict.fromkeys([report.record_id, *split_ids(rec.get("record_ids", ""))]))
        if any(r in owner for r in own):
            continue  # already a study row (e.g. a rerun, or a reviewer added it)
        linked = [*report.linked_to, *split_ids(rec.get("existing_record_ids", ""))]
        known = [owner[r] for r in linked if r in owner]
        if known:
            reports.append(ReportOfExisting(report.record_id, known[0]))
            continue
        family = first_author_family(rec.get("authors", "")) or _fallback_name(rec)
        year = rec.get("year", "") if re.fullmatch(r"\d{4}", rec.get("year", "")) else ""
        study_id = propose_study_id(family, year, taken)
        taken.add(study_id.casefold())
        notes = []
        if linked:
            notes.append(f"further report of {'; '.join(linked)} (not in studies.csv)")
        if rec.get("retracted", "").lower() == "yes":
            notes.append("retracted record: decide exclude_retracted")
        new.append(
            {
                "study_id": study_id,
                "study_label": f"{family} {year}".strip(),
                "year": year,
                "record_ids": "; ".join(own),
                "included_in": run_id,
                "exclude_retracted": "",
                "notes": "; ".join(notes),
            }
        )
        owner.update(dict.fromkeys(own, study_id))
    return StudiesUpdate(tuple(new), tuple(reports))


def update_studies(
    studies_path: str | os.PathLike[str],
    status: ScreeningStatus,
    queue: pd.DataFrame,
    run_id: str,
) -> StudiesUpdate:
    """Append a row per newly included study; existing bytes are kept exactly.

    Parameters
    ----------
    studies_path
        ``<review folder>/studies.csv``; created with a header when the first study is
        included.
    status
        From :func:`livingmeta.screening.status.screening_status`.
    queue
        The queue the status was computed from (titles, authors, years, linked ids).
    run_id
        Written in ``included_in``.

    Returns
    -------
    StudiesUpdate
        The appended rows and the included reports of studies that already have a row
        (reported on every run until a reviewer adds the record id to that row).

    Raises
    ------
    InputError
        If the existing ``studies.csv`` is invalid (nothing is written).
    """
    with locked(studies_path):
        studies = read_studies(studies_path)
        update = plan_studies(studies, status, queue, run_id)
        data, header, _ = read_existing(studies_path)
        append_rows(studies_path, STUDY_COLUMNS, update.new_studies, existing=(data, header))
    return update


def first_author_family(authors: str | Iterable[str]) -> str:
    """Family name of the first author: ``"Premat K; Lenck S"`` -> ``"Premat"``.

    Authors come as ``"Family Initials"`` (PubMed style); a trailing token of 1-4 capital
    letters (or dotted ones, ``"M.A."``) is taken as initials, so collective names are
    kept whole.
    """
    names = split_ids(authors) if isinstance(authors, str) else [a for a in authors if a]
    if not names:
        return ""
    parts = names[0].split()
    if len(parts) > 1 and _INITIALS.match(parts[-1]):
        parts = parts[:-1]
    return " ".join(parts)


def propose_study_id(family: str, year: str, taken: set[str]) -> str:
    """``family`` lower-cased without accents, spaces or punctuation, plus ``year``, made
    unique against ``taken`` (compared ignoring case) with a, b, ... then 2, 3, ..."""
    ascii_name = unicodedata.normalize("NFKD", family).encode("ascii", "ignore").decode()
    base = (re.sub(r"[^a-z0-9]", "", ascii_name.lower()) or "study") + year
    folded = {t.casefold() for t in taken}
    suffixes = ["", *"abcdefghijklmnopqrstuvwxyz"]
    for suffix in suffixes:
        if base + suffix not in folded:
            return base + suffix
    number = 2
    while f"{base}_{number}" in folded:
        number += 1
    return f"{base}_{number}"


def _fallback_name(rec: dict[str, str]) -> str:
    """A name for a record without authors (registry entries): its trial id, else 'Study'."""
    ids = split_ids(rec.get("nct_ids", ""))
    return ids[0] if ids else "Study"
