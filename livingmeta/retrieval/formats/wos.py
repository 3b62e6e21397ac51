"""Web of Science plain text (``FN Clarivate...``, ``PT J``, ``AU``... ``ER``, ``EF``).

Two-letter tags followed by one space; continuation lines are indented by three spaces and
hold one more author (``AU``, ``AF``...) or the rest of a wrapped title or abstract. ``DA``
is the export date and ``PY``/``PD`` the publication date.
"""

from __future__ import annotations

import re

from livingmeta.retrieval.formats.errors import ImportFormatError
from livingmeta.retrieval.formats.fields import Bibliographic, RawRecord, to_record
from livingmeta.retrieval.formats.identity import trusted_accession
from livingmeta.retrieval.records import Record

_TAG = re.compile(r"^([A-Z][A-Z0-9]) (.*)$")
_LIST_TAGS = frozenset({"AU", "AF", "BA", "BF", "CA", "GP", "BE", "C1", "C3", "CR", "RP", "EM"})


def parse_wos(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse Web of Science plain-text export into Records.

    Raises
    ------
    ImportFormatError
        For a line outside a record, a record without ``ER`` or one with neither a title
        nor an identifier.
    """
    return [_record(raw, source, name) for raw in _raw_records(text, name)]


def _raw_records(text: str, name: str) -> list[RawRecord]:
    records: list[RawRecord] = []
    current: RawRecord | None = None
    last: tuple[str, list[str]] | None = None
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if line.startswith("   ") and current is not None and last is not None:
            tag, values = last
            if tag in _LIST_TAGS:
                values.append(line.strip())
            else:
                values[-1] = f"{values[-1]} {line.strip()}"
            continue
        stripped = line.rstrip()
        if stripped == "ER" and current is not None:
            records.append(current)
            current, last = None, None
            continue
        if current is None and (stripped == "EF" or stripped[:3] in ("FN ", "VR ")):
            continue
        match = _TAG.match(stripped)
        if match is None:
            raise ImportFormatError(
                name, f"not a Web of Science tagged line: {line[:60]!r}", line=line_no,
                record=len(records) + 1,
            )  # fmt: skip
        tag = match.group(1)
        if current is None:
            current = RawRecord(len(records) + 1, line_no)
        values = current.fields.setdefault(tag, [])
        values.append(match.group(2).strip())
        last = (tag, values)
    if current is not None:
        raise ImportFormatError(
            name,
            f"record started at line {current.line} has no 'ER' line (truncated file?)",
            record=current.number,
        )
    return records


def _record(raw: RawRecord, source: str, name: str) -> Record:
    title = raw.title(name, ("TI",), ("DI", "UT"))
    accession = raw.first("UT")
    year = raw.first("PY") or raw.first("EY") or ""
    bib = Bibliographic(
        title=title,
        abstracts=raw.all("AB"),
        authors=raw.all("AU") or raw.all("AF") or raw.all("CA"),
        dates=[f"{raw.first('PD') or ''} {year}".strip(), raw.first("EA") or ""],
        journal=raw.first("SO") or raw.first("J9"),
        pmid=_digits(raw.first("PM")),
        doi_texts=raw.all("DI", "D2"),
        registry_texts=raw.all("FU", "FX"),
        publication_types=raw.all("DT"),
    )
    bib.extra = {
        "keywords": [k.strip() for k in "; ".join(raw.all("DE", "ID")).split(";") if k.strip()],
        "volume": raw.first("VL"),
        "issue": raw.first("IS"),
        "pages": "-".join(raw.all("BP", "EP")) or raw.first("AR"),
        "issn": raw.first("SN", "EI"),
        "language": raw.first("LA"),
        "accession": accession,
    }
    return to_record(bib, source, trusted_accession([accession]))


def _digits(value: str | None) -> str | None:
    return value.lstrip("0") or None if value and value.isdigit() else None
