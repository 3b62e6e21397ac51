"""Edit rows of a CSV file the way a careful hand-edit would: only the rows that change
are rewritten, every other byte (quoting, line endings, extra columns, BOM) is kept.

Why not rewrite the table: the review's files are version-controlled and edited in
spreadsheets too, so a saved form must produce the one-line diff a person would have made.
Cells are written with :func:`livingmeta.csvsafe.cell` like every file livingmeta writes.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from livingmeta.csvsafe import cell, restore

#: Decides whether a row (column -> text) is one to replace.
Match = Callable[[Mapping[str, str]], bool]


@dataclass(frozen=True)
class Record:
    """One CSV record: its cells as read and its exact text (one or more lines)."""

    values: dict[str, str]
    raw: str


def split(data: bytes) -> tuple[str, list[str], str, list[Record]]:
    """``(bom, header, header_raw, records)`` of a CSV file's bytes."""
    bom = codecs.BOM_UTF8.decode() if data.startswith(codecs.BOM_UTF8) else ""
    text = data.decode("utf-8-sig")
    consumed: list[str] = []

    def lines() -> Any:
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    out: list[tuple[list[str], str]] = []
    for values in csv.reader(lines()):
        out.append((values, "".join(consumed)))
        consumed.clear()
    if consumed and out:  # trailing text the reader did not turn into a record
        out[-1] = (out[-1][0], out[-1][1] + "".join(consumed))
    if not out:
        return bom, [], "", []
    header = [h.strip() for h in out[0][0]]
    records = [
        Record(dict(zip(header, (restore(v).strip() for v in values), strict=False)), raw)
        for values, raw in out[1:]
    ]
    return bom, header, out[0][1], records


def replace_rows(
    data: bytes,
    columns: Sequence[str],
    match: Match,
    rows: Sequence[Mapping[str, Any]],
) -> bytes:
    """The file with the rows that ``match`` replaced by ``rows`` (at the first match's
    place; appended when none matches). A new or empty file gets ``columns`` as header;
    an existing file keeps its header, and a column it lacks is added at its end."""
    bom, header, header_raw, records = split(data)
    newline = "\r\n" if header_raw.endswith("\r\n") else "\n"
    if not header:
        header = list(columns)
        header_raw = csv_line(header, newline, neutral=False)
    missing = [c for c in columns if c not in header and any(str(r.get(c) or "") for r in rows)]
    if missing:  # as a spreadsheet would: the new column is added to every row
        width, empty = len(header), [""] * len(missing)
        header = [*header, *missing]
        header_raw = _widened(header_raw, width, missing)
        records = [Record(r.values, _widened(r.raw, width, empty)) for r in records]
    new = [csv_line([r.get(c, "") for c in header], newline) for r in rows]
    body: list[str] = []
    placed = False
    for record in records:
        if not match(record.values):
            body.append(record.raw)
        elif not placed:
            body += new
            placed = True
    if not placed:
        if body and not body[-1].endswith(("\n", "\r")):
            body[-1] += newline
        elif not body and not header_raw.endswith(("\n", "\r")):
            header_raw += newline
        body += new
    return (bom + header_raw + "".join(body)).encode("utf-8")


def _widened(raw: str, width: int, added: Sequence[str]) -> str:
    """A record's text (the header's too) with the ``added`` cells after its first
    ``width``, its own bytes kept (quoting, line ending). Cells beyond ``width`` (unnamed
    until now) stay after the new columns, so no new column takes them over; a blank line
    stays blank."""
    fields = next(csv.reader(io.StringIO(raw, newline="")), [])
    body = raw.rstrip("\r\n")
    ending = raw[len(body) :]
    if not fields:
        return raw
    if len(fields) > width:
        return csv_line([*fields[:width], *added, *fields[width:]], "", neutral=False) + ending
    padding = [""] * (width - len(fields))
    return body + csv_line(["", *padding, *added], "", neutral=False) + ending


def csv_line(values: Sequence[Any], newline: str, *, neutral: bool = True) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow([cell(v) if neutral else str(v) for v in values])
    return buffer.getvalue()
