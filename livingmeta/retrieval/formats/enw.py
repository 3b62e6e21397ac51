"""EndNote/Refer tagged text (``%0 Journal Article``, ``%T``, ``%A``...; ``.enw``).

Google Scholar's "EndNote" link and many library catalogues write it. A record starts at
``%0``; lines without a ``%`` tag continue the previous field.
"""

from __future__ import annotations

import re

from livingmeta.retrieval.formats.errors import ImportFormatError
from livingmeta.retrieval.formats.fields import Bibliographic, RawRecord, to_record
from livingmeta.retrieval.formats.identity import trusted_accession
from livingmeta.retrieval.records import Record

_TAG = re.compile(r"^%(\S) ?(.*)$")


def parse_enw(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse EndNote tagged text into Records.

    Raises
    ------
    ImportFormatError
        For text before the first ``%0`` line or a record with neither a title nor an
        identifier.
    """
    return [_record(raw, source, name) for raw in _raw_records(text, name)]


def _raw_records(text: str, name: str) -> list[RawRecord]:
    records: list[RawRecord] = []
    last: list[str] | None = None
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        match = _TAG.match(line)
        if match and match.group(1) == "0":
            records.append(RawRecord(len(records) + 1, line_no))
        if not records:
            raise ImportFormatError(
                name, f"text before the first '%0' line: {line[:60]!r}", record=1, line=line_no
            )
        if match is None:
            if last is None:
                raise ImportFormatError(name, "text outside a field", record=len(records))
            last[-1] = f"{last[-1]} {line.strip()}"
            continue
        last = records[-1].fields.setdefault(match.group(1), [])
        last.append(match.group(2).strip())
    return records


def _record(raw: RawRecord, source: str, name: str) -> Record:
    title = raw.title(name, ("T",), ("R", "M"))
    accession = raw.first("M")
    bib = Bibliographic(
        title=title,
        abstracts=raw.all("X"),
        authors=raw.all("A"),
        dates=raw.all("D", "8"),
        journal=raw.first("J") or raw.first("B"),
        pmid_texts=raw.all("Z", "M", "1", "2"),
        doi_texts=raw.all("R", "U"),
        pmcid_texts=raw.all("Z", "1", "2"),
        registry_texts=raw.all("Z", "1", "2"),
        links=raw.all("U"),
        publication_types=raw.all("0", "9"),
    )
    bib.extra = {
        "keywords": raw.all("K"),
        "volume": raw.first("V"),
        "issue": raw.first("N"),
        "pages": raw.first("P"),
        "issn": raw.first("@"),
        "language": raw.first("G"),
        "accession": accession,
    }
    return to_record(bib, source, trusted_accession([accession]))
