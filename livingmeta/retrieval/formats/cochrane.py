"""Cochrane Library plain-text export (CENTRAL "Export selected citation(s)" > Plain text).

Each record opens with a ``Record #3 of 18`` banner; the file may start with
``Provider:``/``Content:`` lines. Fields are ``TAG: value`` lines (``ID: CN-02088836``,
``AU: Doe J`` one author a line, ``TI:``, ``SO:`` the journal, ``YR:``, ``VL:``, ``NO:``
the issue, ``PG:``, ``XR:`` other databases' numbers, ``PM: PUBMED 31617467``, ``DOI:``,
``KY:`` keywords, ``PT:`` publication types, ``AB:``, ``US:`` the record's link); a line
without a tag continues the previous field. A CENTRAL record's link holds the DOI of the
CENTRAL record (``10.1002/central/CN-...``), not of the article, so no DOI is read from it.

Inside an abstract only the export's own tags (:data:`TAGS`) open a field: an abstract
wrapped onto a line that starts like a tag (``CI: 0.5 to 0.9``, ``OR: 1.2``, ``HR: ...``)
is still the abstract. Elsewhere any tag-shaped line opens a field, so a tag this reader
does not know is kept apart (and unused) instead of being glued onto the field before it.

The banners number the records, so a cut file is detected: numbers must run 1, 2, 3...
and the last must be the total the banners announce.
"""

from __future__ import annotations

import re

from livingmeta.retrieval.formats.errors import ImportFormatError
from livingmeta.retrieval.formats.fields import Bibliographic, RawRecord, to_record
from livingmeta.retrieval.formats.identity import trusted_accession
from livingmeta.retrieval.formats.tagged import TaggedReader, lines
from livingmeta.retrieval.records import Record

#: The field tags of the Cochrane Library plain-text export: those listed in the module
#: docstring, the spellings of a DOI, link, ISSN and language this reader also accepts
#: (``DO UR IS SN LA``), and ``CC:`` (Cochrane groups) and ``PB:`` (publisher), kept as
#: fields though not read. A tag missing here would be read as the previous field's text.
TAGS = frozenset(
    {"ID", "AU", "TI", "SO", "YR", "VL", "NO", "PG", "XR", "PM", "PT", "KY", "DOI", "AB", "US"}
    | {"CC", "PB", "DO", "UR", "IS", "SN", "LA"}
)
_TAG = re.compile(rf"^({'|'.join(sorted(TAGS, key=lambda t: (-len(t), t)))}):[ \t]?(.*)$")
_ANY_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}):[ \t]?(.*)$")
#: Free text, where a wrapped line may start like a tag.
FREE_TEXT = frozenset({"AB"})
#: A CENTRAL record's page (``US:``) carries the record's DOI, not the article's.
_CENTRAL_PAGE = "/10.1002/central/"
_BANNER = re.compile(r"^\s*Record\s*#\s*(\d+)\s+of\s+(\d+)\s*$", re.IGNORECASE)
_PREAMBLE = re.compile(r"^(?:Provider|Content|Date|Database|Search)\b[^:]*:", re.IGNORECASE)


def parse_cochrane(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse a Cochrane Library plain-text export into Records.

    Raises
    ------
    ImportFormatError
        For text outside a record, records numbered out of order, fewer records than the
        banners announce, or a record with neither a title nor an identifier.
    """
    return [_record(raw, source, name) for raw in _raw_records(text, name)]


def _raw_records(text: str, name: str) -> list[RawRecord]:
    reader = TaggedReader(name, _TAG)
    total: int | None = None
    for line_no, line in lines(text):
        banner = _BANNER.match(line)
        if banner:
            number, total = int(banner.group(1)), int(banner.group(2))
            reader.open(line_no)
            if number != reader.current.number:  # type: ignore[union-attr]
                raise reader.fail(f"'Record #{number}' out of order", line_no)
            continue
        if not line.strip():
            continue  # blank lines separate fields' groups as well as records
        reader.tag = _TAG if reader.last_tag in FREE_TEXT else _ANY_TAG
        if not reader.add(line, line_no) and not _PREAMBLE.match(line):
            raise reader.fail(
                f"text outside a record (expected 'Record #1 of N'): {line[:60]!r}", line_no
            )
    reader.close()
    if total is not None and len(reader.records) != total:
        raise ImportFormatError(
            name,
            f"{len(reader.records)} records but the banners announce {total} (truncated file?)",
            record=len(reader.records),
        )
    return reader.records


def _record(raw: RawRecord, source: str, name: str) -> Record:
    title = raw.title(name, ("TI",), ("ID", "DOI", "DO"))
    accession, doi_texts = raw.first("ID"), raw.all("DOI", "DO")
    links = raw.all("US", "UR")
    article_links = [link for link in links if _CENTRAL_PAGE not in link.lower()]
    bib = Bibliographic(
        title=title,
        abstracts=raw.all("AB"),
        authors=[a.strip() for value in raw.all("AU") for a in value.split(";") if a.strip()],
        dates=raw.all("YR"),
        journal=raw.first("SO"),
        pmid_texts=raw.all("PM", "XR"),
        doi_texts=[*doi_texts, *article_links],
        registry_texts=raw.all("XR", "CR", "TR"),
        links=links,
        publication_types=[t.strip() for value in raw.all("PT") for t in value.split(";")],
    )
    bib.extra = {
        "keywords": [k.strip() for k in ";".join(raw.all("KY")).split(";") if k.strip()],
        "volume": raw.first("VL"),
        "issue": raw.first("NO"),
        "pages": raw.first("PG"),
        "issn": raw.first("IS", "SN"),
        "language": raw.first("LA"),
        "accession": accession,
    }
    return to_record(bib, source, trusted_accession([accession]))
