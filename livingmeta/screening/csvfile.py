"""Append-only CSV files: new rows go after the existing bytes, which are never rewritten.

Why not ``DataFrame.to_csv``: the screening files are edited by people in spreadsheets.
Rewriting them would reformat quoting, line endings and number formats, reorder columns
and silently drop whatever a reviewer added. Appending the new lines to the exact old
bytes (written atomically, under a lock so two ``livingmeta screen`` sessions cannot lose
each other's rows) keeps every keystroke a reviewer made.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from livingmeta.csvsafe import cell, restore
from livingmeta.files import atomic_open


def read_existing(path: str | os.PathLike[str]) -> tuple[bytes, list[str], list[dict[str, str]]]:
    """The file's bytes, its header and its rows as text (empty when missing or empty)."""
    target = Path(path)
    data = target.read_bytes() if target.exists() else b""
    if not data.strip():
        return data, [], []
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    header = [h.strip() for h in next(reader, [])]
    rows = [
        dict(zip(header, (restore(v).strip() for v in values), strict=False)) for values in reader
    ]
    return data, header, [r for r in rows if any(r.values())]


def append_rows(
    path: str | os.PathLike[str],
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    existing: tuple[bytes, list[str]] | None = None,
) -> int:
    """Append ``rows`` to ``path`` atomically, keeping its existing bytes exactly.

    Parameters
    ----------
    path
        The CSV file; created with ``columns`` as header when missing or empty.
    columns
        Header of a new file. An existing file keeps its own header (a reviewer may have
        added or reordered columns): new rows are written in that order, extra columns
        left empty.
    rows
        Mappings from column name to value (see :func:`livingmeta.csvsafe.cell`).
    existing
        ``(bytes, header)`` already read under the caller's lock, to avoid reading twice.

    Returns
    -------
    int
        Number of rows appended (nothing is written when there are none).
    """
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    data, header = existing if existing is not None else read_existing(path)[:2]
    first_line = data.split(b"\n", 1)[0]
    newline = "\r\n" if first_line.endswith(b"\r") else "\n"
    count = 0
    # Streamed into the temporary file: a backfill's rows are never held as one text.
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator=newline)
        if not header:
            header = list(columns)
            writer.writerow(header)
        else:
            handle.flush()
            handle.buffer.write(data)
            if not data.endswith(b"\n"):
                handle.write(newline)
        for row in itertools.chain((first,), rows):
            writer.writerow([cell(row.get(col)) for col in header])
            count += 1
    return count
