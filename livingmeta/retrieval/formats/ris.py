"""RIS (``TY  - JOUR`` ... ``ER  -``): Embase, Ovid, Cochrane CENTRAL, Web of Science,
Scopus, CINAHL, ProQuest, Dimensions, Lens and every reference manager (EndNote, Zotero,
Mendeley, RefWorks, Citavi, EPPI-Reviewer, Rayyan).

Why strict: RIS has no checksum or record count, so a missing ``ER`` or a stray line is the
only sign that an export was cut or mangled; those raise instead of being guessed at. What
exporters put *between* records is known and skipped: Ovid's record numbers (``1.``) and
its ``NL  -`` and "Link to the Ovid Full Text" lines after ``ER`` (kept with the record
they follow, as they carry its accession number), the Cochrane Library's ``Record #3 of 18``,
``Provider:`` and ``Content:`` banners, and Web of Science's closing ``EF``. Lines that are
not ``XX  - value`` inside a record continue the previous field (wrapped abstracts).

The text is split into fields by one compiled pattern (``findall``); only a file with
something between records is read again field by field, to keep the banners' links with
their record and to name the line at fault.
"""

from __future__ import annotations

import re

from livingmeta.retrieval.formats.errors import ImportFormatError, require_title_or_id
from livingmeta.retrieval.formats.fields import Bibliographic, RawRecord, gc_paused, to_record
from livingmeta.retrieval.formats.identity import trusted_accession
from livingmeta.retrieval.records import Record

# A field: tag, exactly two spaces (as the RIS spec has it, so that a wrapped abstract line
# such as "CI - confidence interval" is not a new field), "-", and the value with every
# following line that is not itself a field (wrapped text; after ER, whatever an exporter
# puts between records).
_FIELD = re.compile(r"^([A-Z][A-Z0-9])  -[ \t]?(.*(?:\n(?![A-Z][A-Z0-9]  -).*)*)", re.MULTILINE)
_BETWEEN_RECORDS = re.compile(
    r"^(?:\d+\.?|<\d+>|EF|Record\s*#\s*\d+\s+of\s+\d+.*|[A-Za-z][\w .&()/'-]*:.*|https?://\S+)$",
    re.IGNORECASE,
)
# Tags some exporters write after ER that still belong to the record before (Ovid).
_TRAILING_TAGS = frozenset({"NL", "UR", "L1", "L2", "L3", "L4", "LK"})
_URL_TAGS = ("UR", "L1", "L2", "L3", "L4", "LK", "US", "trailing")
_REGISTRY_TAGS = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "N1", "M1", "M2", "XR")
_PMID_TAGS = ("AN", "C3", "C5", "M2", "N1", "ID", "XR", "PM", "U1", "U2", "U3", "U4", "U5", "CN")
_PMCID_TAGS = ("C2", "U1", "U2", "U3", "U4", "U5")
# Tag -> the groups of _grouped() it belongs to (links, PMID, registration, PMCID).
_GROUPS = {
    tag: tuple(
        k
        for k, group in enumerate((_URL_TAGS, _PMID_TAGS, _REGISTRY_TAGS, _PMCID_TAGS))
        if tag in group
    )
    for tag in {*_URL_TAGS, *_PMID_TAGS, *_REGISTRY_TAGS, *_PMCID_TAGS}
}
_NOT_PUBMED = re.compile(
    r"embase|emed|psyc|cinahl|cin\d|scopus|web of science|wos|proquest|eric|lens|dimensions",
    re.IGNORECASE,
)
_PUBMED = re.compile(r"medline|pubmed|\bnlm\b", re.IGNORECASE)
_DIGITS = re.compile(r"^\d{1,9}$")
_SCOPUS_EID = re.compile(r"[?&]eid=(2-s2\.0-\d+)")


def parse_ris(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse RIS text into Records (ids per :mod:`~livingmeta.retrieval.formats.identity`).

    Raises
    ------
    ImportFormatError
        For a record without ``ER``, text outside records that no exporter writes, or a
        record with neither a title nor an identifier.
    """
    with gc_paused():
        return [ris_record(raw, source) for raw in read_raw_records(text, name)]


def read_raw_records(text: str, name: str) -> list[RawRecord]:
    """Split RIS text (``\\n`` line ends) into raw records.

    The common case (every line a field, banners only between records) takes one
    ``findall``; anything unusual is read again line-aware, to raise the precise error.
    """
    first = _FIELD.search(text)
    if first is None or text[: first.start()].strip():
        return _read_precisely(text, name)
    records = _read_fast(_FIELD.findall(text, first.start()))
    if records is None:
        return _read_precisely(text, name)
    _number_lines(records, text)
    for raw in records:
        _check(raw, name)
    return records


def _read_fast(pairs: list[tuple[str, str]]) -> list[RawRecord] | None:
    """Raw records from ``(tag, value)`` pairs; None when anything sits between records."""
    records: list[RawRecord] = []
    fields: dict[str, list[str]] | None = None
    for tag, value in pairs:
        if fields is not None and tag != "ER" and tag != "TY":
            value = " ".join(value.split()) if "\n" in value else value.strip()
            if not value:
                continue  # an empty field says nothing
            values = fields.get(tag)
            if values is None:
                fields[tag] = [value]
            else:
                values.append(value)
        elif tag == "TY" and fields is None:
            fields = {"TY": [" ".join(value.split())]}
            records.append(RawRecord(len(records) + 1, 0, fields))
        elif tag == "ER" and fields is not None and not value.strip():
            fields = None
        elif tag != "EF" or fields is not None or value.strip():
            return None  # banners, trailing fields or a broken file: read line by line
    return records if fields is None else None


def _number_lines(records: list[RawRecord], text: str) -> None:
    """Each record's first line number (``str.find`` over the ``TY`` lines: fast)."""
    line, counted = 1, 0
    position = 0 if text.startswith("TY  -") else text.find("\nTY  -") + 1
    for raw in records:
        line += text.count("\n", counted, position)
        counted = position
        raw.line = line
        position = text.find("\nTY  -", position + 1) + 1


def _read_precisely(text: str, name: str) -> list[RawRecord]:
    reader = _Reader(text, name)
    first = _FIELD.search(text)
    reader.between(text[: first.start() if first else len(text)], 0)
    for match in _FIELD.finditer(text, first.start() if first else len(text)):
        reader.field(match.group(1), match.group(2), match.start(2))
    return reader.finish()


class _Reader:
    """State of one pass over a RIS text."""

    def __init__(self, text: str, name: str) -> None:
        self.text, self.name = text, name
        self.records: list[RawRecord] = []
        self.current: RawRecord | None = None
        self.counted_to, self.line_no = 0, 1

    def line_at(self, offset: int) -> int:
        self.line_no += self.text.count("\n", self.counted_to, offset)
        self.counted_to = offset
        return self.line_no

    def fail(self, message: str, offset: int, record: int) -> ImportFormatError:
        line = self.text.count("\n", 0, offset) + 1
        return ImportFormatError(self.name, message, record=record, line=line)

    def field(self, tag: str, value: str, offset: int) -> None:
        current = self.current
        if current is not None and tag != "TY" and tag != "ER":
            value = _clean_value(value)
            if value:  # an empty field says nothing
                current.fields.setdefault(tag, []).append(value)
        elif tag == "TY":
            if current is not None:
                raise self.fail(
                    f"new 'TY' before 'ER' closed the record started at line {current.line}",
                    offset,
                    current.number,
                )
            line = self.line_at(offset)
            self.current = RawRecord(len(self.records) + 1, line, {"TY": [_clean_value(value)]})
        else:
            self.outside(tag, value, offset)

    def outside(self, tag: str, value: str, offset: int) -> None:
        """ER, or a field after ER: what follows it on later lines is between records."""
        own, _, rest = value.partition("\n")
        if tag == "ER" and self.current is not None:
            _check(self.current, self.name)
            self.records.append(self.current)
            self.current = None
        elif tag in _TRAILING_TAGS and self.records:
            self.records[-1].fields.setdefault(tag, []).append(own.strip())
        elif tag != "EF":
            raise self.fail(
                f"field {tag!r} outside a record (missing 'TY  - ' line?)",
                offset,
                len(self.records) + 1,
            )
        if rest.strip():
            self.between(rest, offset + len(own) + 1)

    def between(self, chunk: str, offset: int) -> None:
        """Lines between records: banners, numbers and links, or a broken file."""
        if not chunk.strip():
            return
        for line in chunk.split("\n"):
            stripped = line.strip()
            if stripped and not _BETWEEN_RECORDS.match(stripped):
                raise self.fail(
                    f"text outside a record (expected 'TY  - '): {stripped[:60]!r}",
                    offset,
                    len(self.records) + 1,
                )
            if self.records and ("http" in stripped or "=" in stripped):
                self.records[-1].fields.setdefault("trailing", []).append(stripped)
            offset += len(line) + 1

    def finish(self) -> list[RawRecord]:
        if self.current is not None:
            lines = self.text.count("\n") + (0 if self.text.endswith("\n") else 1)
            raise ImportFormatError(
                self.name,
                f"record started at line {self.current.line} has no 'ER  -' line (truncated file?)",
                record=self.current.number,
                line=lines,
            )
        return self.records


def _clean_value(value: str) -> str:
    if "\n" in value or "  " in value or "\t" in value:
        return " ".join(value.split())
    return value.strip()


def _check(raw: RawRecord, name: str) -> None:
    if not raw.first("TY"):
        raise ImportFormatError(
            name, "empty 'TY' (reference type)", record=raw.number, line=raw.line
        )
    ids = (raw.first("TI", "T1", "CT", "BT"), raw.first("ID", "AN", "DO"))
    require_title_or_id(name, ids, record=raw.number, line=raw.line)


def ris_record(raw: RawRecord, source: str) -> Record:
    """One raw RIS record as a :class:`Record`."""
    f = raw.fields
    database = " ".join(_values(f, "DB", "DP"))
    links, pmid_texts, registry_texts, pmcid_texts = _grouped(f)
    notes = f.get("N1", [])
    bib = Bibliographic(
        title=raw.first("TI", "T1", "CT") or raw.first("BT") or "",
        abstracts=_values(f, "AB", "N2"),  # some exporters repeat AB as N2
        authors=_values(f, "AU", "A1") or _values(f, "A3", "A4"),
        dates=_values(f, "PY", "Y1", "DA"),  # never Y2: an access or entry date
        journal=raw.first("JF", "T2", "JO", "JA", "J2"),
        pmid=_bare_pmid(raw, database),
        pmid_texts=pmid_texts,
        doi_texts=[*_values(f, "DO", "M3"), *notes, *links],
        pmcid_texts=[*pmcid_texts, *notes, *links],
        registry_texts=registry_texts,
        links=links,
        publication_types=_values(f, "M3", "PT"),
    )
    bib.extra = {
        "ris_type": _one(f, "TY"),
        "ris_line": raw.line,
        "keywords": f.get("KW"),
        "volume": _one(f, "VL"),
        "issue": _one(f, "IS"),
        "pages": "-".join(_values(f, "SP", "EP")) or None,
        "issn": _one(f, "SN"),
        "language": _one(f, "LA"),
        "database": raw.first("DB", "DP"),
        "accession": _one(f, "AN"),
        "ris_id": _one(f, "ID"),
        "urls": links,
    }
    eid = next(filter(None, map(_scopus_eid, links)), None) if "UR" in f else None
    accession = trusted_accession([*_values(f, "ID", "AN", "U2"), eid])
    return to_record(bib, source, accession)


def _grouped(
    fields: dict[str, list[str]],
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(links, fields that may hold a PMID, a registration, a PMCID), in file order: one
    pass over the record's tags instead of a lookup per possible tag."""
    groups: tuple[list[str], list[str], list[str], list[str]] = ([], [], [], [])
    for tag, values in fields.items():
        for k in _GROUPS.get(tag, ()):
            groups[k].extend(values)
    return groups


def _one(fields: dict[str, list[str]], tag: str) -> str | None:
    """The first value of one tag (empty values are dropped with the rest of ``extra``)."""
    values = fields.get(tag)
    return values[0] if values else None


def _values(fields: dict[str, list[str]], *tags: str) -> list[str]:
    """The values of ``tags`` in order (never empty strings: the reader drops those)."""
    found: list[str] = []
    for tag in tags:
        values = fields.get(tag)
        if values:
            found += values
    return found


def _scopus_eid(link: str) -> str | None:
    match = _SCOPUS_EID.search(link) if "eid=" in link else None
    return match.group(1) if match else None


def _bare_pmid(raw: RawRecord, database: str) -> str | None:
    """A PMID in a field that holds nothing else, where the exporter is known to put it.

    PubMed and Ovid MEDLINE use ``AN``, Scopus ``C2``, Embase ``C5``. Other databases use
    ``AN`` for their own numbers (CINAHL's and Embase's are 9 digits, like future PMIDs),
    so an unlabelled number counts only when the database is not one of them.
    """
    accession = raw.first("AN")
    if accession and _DIGITS.match(accession):
        if _PUBMED.search(database) and not _NOT_PUBMED.search(database):
            return accession.lstrip("0") or None
        if not _NOT_PUBMED.search(database) and len(accession) <= 8:
            return accession.lstrip("0") or None
    for tag, name in (("C2", "scopus"), ("C5", "embase")):
        value = raw.first(tag)
        if value and _DIGITS.match(value) and name in database.lower():
            return value.lstrip("0") or None
    return None
