"""The screening queue: every candidate ever handed to reviewers, appended run by run.

Why append-only: the queue is the reviewers' shared list of what to screen; a run must
never reorder it, drop a row or undo what someone typed into it. Each run adds the
candidates whose ``record_id`` (the representative record of the candidate, stable across
runs) is not in the queue yet, so rerunning a retrieval step adds nothing twice.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from livingmeta.extraction import read_table, row_number
from livingmeta.files import locked
from livingmeta.retrieval.candidate_export import COLUMNS
from livingmeta.screening.csvfile import append_rows, read_existing
from livingmeta.validation import InputError, Problem

#: Queue columns: the candidate export's columns plus the run that queued the row.
QUEUE_COLUMNS = (*COLUMNS, "queued_in")


def append_to_queue(
    queue_path: str | os.PathLike[str], candidate_rows: Iterable[dict[str, Any]], run_id: str
) -> int:
    """Append the candidates not queued yet; the existing bytes are kept exactly.

    Parameters
    ----------
    queue_path
        ``<review folder>/screening/queue.csv``; created with a header when missing.
    candidate_rows
        Rows from :func:`livingmeta.retrieval.candidate_export.candidate_rows` (lists are
        joined with ``"; "``, booleans written ``yes``/``no``, as the candidate export).
        Candidates of status ``linked_to_existing`` are queued too, so reviewers see the
        later report with its link to the study they already have.
    run_id
        Written in ``queued_in`` of the new rows.

    Returns
    -------
    int
        Number of rows appended (0 on a rerun with the same candidates).

    Raises
    ------
    InputError
        If an existing queue has no ``record_id`` column (it cannot be keyed).
    """
    with locked(queue_path):
        data, header, rows = read_existing(queue_path)
        if header and "record_id" not in header:
            raise InputError([Problem(str(queue_path), 1, "record_id", "column missing")])
        queued = {row.get("record_id", "") for row in rows}
        del rows

        def new_rows() -> Iterator[dict[str, Any]]:  # streamed: a backfill is never held
            for row in candidate_rows:
                record_id = str(row["record_id"])
                if record_id and record_id not in queued:
                    queued.add(record_id)
                    yield {**row, "queued_in": run_id}

        return append_rows(queue_path, QUEUE_COLUMNS, new_rows(), existing=(data, header))


def read_queue(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The queue as text columns (a missing file is an empty queue: nothing retrieved yet).

    Every :data:`QUEUE_COLUMNS` column is present (empty when a reviewer removed it) and
    columns a reviewer added are kept.

    Raises
    ------
    InputError
        If ``record_id`` is missing, empty or repeated (each problem with its row).
    """
    path = Path(path)
    if not path.exists():
        return pd.DataFrame({col: pd.Series(dtype=str) for col in QUEUE_COLUMNS})
    frame = read_table(path)
    if "record_id" not in frame.columns:
        raise InputError([Problem(str(path), 1, "record_id", "column missing")])
    problems = []
    first: dict[str, int] = {}
    for pos, record_id in enumerate(frame["record_id"]):
        row = row_number(frame, pos)
        if not record_id:
            problems.append(Problem(str(path), row, "record_id", "empty"))
        elif record_id in first:
            message = f"record {record_id!r} queued twice; first at row {first[record_id]}"
            problems.append(Problem(str(path), row, "record_id", message))
        else:
            first[record_id] = row
    if problems:
        raise InputError(problems)
    for col in QUEUE_COLUMNS:
        if col not in frame.columns:
            frame[col] = ""
    return frame


def split_ids(text: str) -> list[str]:
    """``"pubmed:1; pubmed:2"`` -> ``["pubmed:1", "pubmed:2"]`` (list cells of the queue)."""
    return [part.strip() for part in str(text or "").split(";") if part.strip()]


def linked_report_text(record: dict[str, str], studies: pd.DataFrame, queue: pd.DataFrame) -> str:
    """What a further report of a known study belongs to, as reviewers are told: the
    included study it reports, or the queued record(s) it was linked to."""
    existing = split_ids(record.get("existing_record_ids", ""))
    for study_id, label, ids in zip(
        studies["study_id"], studies["study_label"], studies["record_ids"], strict=True
    ):
        if set(split_ids(ids)) & set(existing):
            return f"Further report of included study {study_id} ({label or study_id})"
    titles = queue[queue["record_id"].isin(existing)]["title"].tolist()
    about = f": {titles[0]}" if titles else ""
    return f"Further report of a study already queued ({'; '.join(existing)}){about}"


def queued_ids(queue: str | Path) -> set[str]:
    """Record ids already in the screening queue (none before the first run).

    Read row by row, only the ``record_id`` column: a backfill's queue holds every
    abstract, which a table of the whole file would hold at once (the workflow's
    ``check_screening`` rule has validated the file before the steps that use this).
    """
    from livingmeta.csvsafe import restore

    path = Path(queue)
    if not path.exists():
        return set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        try:
            header = [name.strip() for name in next(reader, [])]
            if "record_id" not in header:
                raise InputError([Problem(str(path), 1, "record_id", "column missing")])
            column = header.index("record_id")
            cells = (row[column] for row in reader if len(row) > column)
            return {rid for rid in (restore(c).strip() for c in cells) if rid}
        except UnicodeDecodeError:
            message = "not a readable CSV: not UTF-8 text"
            raise InputError([Problem(str(path), reader.line_num + 1, None, message)]) from None
