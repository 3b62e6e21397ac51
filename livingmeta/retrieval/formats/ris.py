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

The text is cut into fields by one compiled pattern (a ``split`` at every line that starts
a field); only a file with something between records is read again field by field, to keep
the banners' links with their record and to name the line at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain

from livingmeta.retrieval.formats.errors import ImportFormatError, require_title_or_id
from livingmeta.retrieval.formats.fields import Bibliographic, RawRecord, gc_paused, to_record
from livingmeta.retrieval.formats.identity import trusted_accession
from livingmeta.retrieval.records import Record

# A field: tag, exactly two spaces (as the RIS spec has it, so that a wrapped abstract line
# such as "CI - confidence interval" is not a new field), "-", and the value with every
# following line that is not itself a field (wrapped text; after ER, whatever an exporter
# puts between records).
# (No possessive quantifiers: Python 3.11.2, Debian 12's, matches them wrongly.)
_FIELD = re.compile(r"^([A-Z][A-Z0-9])  -[ \t]?(.*(?:\n(?![A-Z][A-Z0-9]  -).*)*)", re.MULTILINE)
# The same fields as separators: splitting the text at them gives [before, tag, value, tag,
# value, ...], each value running to the next field like _FIELD's (the regex engine only
# stops at line breaks, instead of walking every character of the values).
_FIELD_START = re.compile(r"\n([A-Z][A-Z0-9])  -[ \t]?")
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
_TITLE_TAGS = ("TI", "T1", "CT", "BT")
_NONE: list[str] = []  # the missing tag's values (never mutated: only ever concatenated)
_TITLE_OR_ID = frozenset({"TI", "T1", "CT", "BT", "ID", "AN", "DO"})  # see _check
_BARE_PMID_TAGS = frozenset({"AN", "C2", "C5"})  # see _bare_pmid
_JOURNAL_TAGS = ("JF", "T2", "JO", "JA", "J2")
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

    The common case (every line a field, banners only between records) is one split at
    the fields' starts; anything unusual is read again line-aware, to raise the precise
    error.
    """
    first = _FIELD.search(text)
    if first is None or text[: first.start()].strip():
        return _read_precisely(text, name)
    first_line = text.count("\n", 0, first.start()) + 1
    records = _read_fast(_field_pairs(text, first), first_line)
    if records is None:
        return _read_precisely(text, name)
    for raw in records:  # values are never empty here: a present tag is a filled one
        if not raw.fields["TY"][0] or _TITLE_OR_ID.isdisjoint(raw.fields):
            _check(raw, name)  # raises, naming what is missing
    return records


def _field_pairs(text: str, first: re.Match[str]) -> Iterable[tuple[str, str]]:
    """``(tag, value)`` of every field of ``text``, whose first field is ``first``.

    Only blank text comes before ``first``; a field at the very start of the text has no
    line break before it, so the split leaves it in the first piece.
    """
    pieces = iter(_FIELD_START.split(text))
    next(pieces)  # blank, or the field that starts the text (``first``)
    head = [first.groups()] if first.start() == 0 else []
    return chain(head, zip(pieces, pieces, strict=True))


def _read_fast(pairs: Iterable[tuple[str, str]], first_line: int) -> list[RawRecord] | None:
    """Raw records from ``(tag, value)`` pairs; None when anything sits between records.

    Each pair is one line plus the lines its value continues over, so a record's first
    line is ``first_line`` + the pairs before it + the line breaks inside their values.
    """
    records: list[RawRecord] = []
    fields: dict[str, list[str]] | None = None
    breaks = first_line  # line of pair k = k + breaks
    for k, (tag, value) in enumerate(pairs):
        if tag != "ER" and tag != "TY" and fields is not None:
            if "\n" in value:
                breaks += value.count("\n")
                value = _unwrap(value)
            else:
                value = value.strip()
            if not value:
                continue  # an empty field says nothing
            if tag in fields:
                fields[tag].append(value)
            else:
                fields[tag] = [value]
        elif tag == "TY" and fields is None:
            fields = {"TY": [" ".join(value.split())]}
            records.append(RawRecord(len(records) + 1, k + breaks, fields))
            breaks += value.count("\n")
        elif tag == "ER" and fields is not None and not value.strip():
            breaks += value.count("\n")
            fields = None
        elif tag != "EF" or fields is not None or value.strip():
            return None  # banners, trailing fields or a broken file: read line by line
        else:
            breaks += value.count("\n")  # a closing EF
    return records if fields is None else None


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


def _unwrap(value: str) -> str:
    """A value wrapped over several lines as one line: ``" ".join(value.split())``.

    Wrapped abstracts are long and mostly single-spaced printable text (which has no
    whitespace but the ASCII space), where turning the line breaks into spaces gives the
    same; splitting them into words is kept for the rest.
    """
    joined = value.replace("\n", " ")
    if "  " not in joined and joined.isprintable():
        return joined.strip()
    return " ".join(value.split())


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
    """One raw RIS record as a :class:`Record`.

    Written for speed (imports of tens of thousands of records): tags are looked up with
    ``dict.get`` and lists joined with ``+`` rather than through helper calls.
    """
    f = raw.fields
    get = f.get
    links, pmid_texts, registry_texts, pmcid_texts = _grouped(f)
    notes = get("N1", _NONE)
    m3 = get("M3", _NONE)
    bib = Bibliographic(
        title=_first(f, _TITLE_TAGS) or "",
        abstracts=get("AB", _NONE) + get("N2", _NONE),  # some exporters repeat AB as N2
        authors=get("AU", _NONE) + get("A1", _NONE) or get("A3", _NONE) + get("A4", _NONE),
        dates=get("PY", _NONE) + get("Y1", _NONE) + get("DA", _NONE),  # never Y2 (access)
        journal=_first(f, _JOURNAL_TAGS),
        pmid=_bare_pmid(f) if _BARE_PMID_TAGS.intersection(f) else None,
        pmid_texts=pmid_texts,
        doi_texts=get("DO", _NONE) + m3 + notes + links,
        pmcid_texts=pmcid_texts + notes + links,
        registry_texts=registry_texts,
        links=links,
        publication_types=m3 + get("PT", _NONE),
        extra=_extra(raw, links),
    )
    eid = next(filter(None, map(_scopus_eid, links)), None) if "UR" in f else None
    ids = get("ID", _NONE) + get("AN", _NONE) + get("U2", _NONE)
    return to_record(bib, source, trusted_accession([*ids, eid]))


def _extra(raw: RawRecord, links: list[str]) -> dict[str, object]:
    """What a Record keeps of a RIS record beyond the shared fields (to_record drops the
    empty ones)."""
    get = raw.fields.get
    return {
        "ris_type": v[0] if (v := get("TY")) else None,
        "ris_line": raw.line,
        "keywords": get("KW"),
        "volume": v[0] if (v := get("VL")) else None,
        "issue": v[0] if (v := get("IS")) else None,
        "pages": "-".join(get("SP", _NONE) + get("EP", _NONE)) or None,
        "issn": v[0] if (v := get("SN")) else None,
        "language": v[0] if (v := get("LA")) else None,
        "database": _first(raw.fields, ("DB", "DP")),
        "accession": v[0] if (v := get("AN")) else None,
        "ris_id": v[0] if (v := get("ID")) else None,
        "urls": links,
    }


def _grouped(
    fields: dict[str, list[str]],
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(links, fields that may hold a PMID, a registration, a PMCID), in file order."""
    groups: tuple[list[str], list[str], list[str], list[str]] = ([], [], [], [])
    for tag in [tag for tag in fields if tag in _GROUPS]:  # the few that matter
        values = fields[tag]
        for k in _GROUPS[tag]:
            groups[k].extend(values)
    return groups


def _first(fields: dict[str, list[str]], tags: tuple[str, ...]) -> str | None:
    """The first value of the first of ``tags`` present (readers keep no empty values)."""
    for tag in tags:
        values = fields.get(tag)
        if values:
            return values[0]
    return None


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


def _bare_pmid(fields: dict[str, list[str]]) -> str | None:
    """A PMID in a field that holds nothing else, where the exporter is known to put it.

    PubMed and Ovid MEDLINE use ``AN``, Scopus ``C2``, Embase ``C5``. Other databases use
    ``AN`` for their own numbers (CINAHL's and Embase's are 9 digits, like future PMIDs),
    so an unlabelled number counts only when the database is not one of them.
    """
    numbers = {
        tag: values[0]
        for tag in ("AN", "C2", "C5")
        if (values := fields.get(tag)) and _DIGITS.match(values[0])
    }
    if not numbers:
        return None  # most records: nothing to weigh against the database
    database = " ".join(_values(fields, "DB", "DP"))
    accession = numbers.get("AN")
    if accession:
        if _PUBMED.search(database) and not _NOT_PUBMED.search(database):
            return accession.lstrip("0") or None
        if not _NOT_PUBMED.search(database) and len(accession) <= 8:
            return accession.lstrip("0") or None
    for tag, name in (("C2", "scopus"), ("C5", "embase")):
        value = numbers.get(tag)
        if value and name in database.lower():
            return value.lstrip("0") or None
    return None
