"""Records from files exported elsewhere: Embase, Cochrane CENTRAL, Web of Science, PubMed.

A living review searches sources that have no usable API (Embase, CENTRAL, WoS), so their
results come in as exported files. Each format is turned into the same :class:`Record` the
API clients produce, so deduplication and screening never care where a record came from.

Formats (``fmt``):

``ris``
    RIS tagged format (``TY  - JOUR`` ... ``ER  -``), as exported by Embase/Ovid, the
    Cochrane Library, Web of Science, Scopus and reference managers.
``nbib``
    MEDLINE/PubMed tagged format (``PMID- ``, ``TI  - ``, continuation lines indented by six
    spaces), PubMed's "Save > PubMed format" (.nbib, .txt).
``pubmed-xml``
    PubMed XML (EFetch or "Save > XML"), via :mod:`livingmeta.retrieval.pubmed_xml`.
``ctgov-json``
    ClinicalTrials.gov API v2 JSON: one study, a list of studies or a ``/studies`` page.

Record ids are stable across re-imports of the same export and stay per source: a record
with a PMID is ``<source>:<PMID>`` (the registry links it to the PubMed search's
``pubmed:<PMID>`` by the shared PMID, so neither replaces the other). Without a PMID it is
``<source>:<RIS ID or AN>``, else ``<source>:sha1-<16 hex>`` over the normalised title,
year and first author.

Bad input raises :class:`ImportFormatError` naming the file, the record number and line and
what is wrong: a half-read export must not pass for a complete one.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livingmeta.retrieval.pubmed_xml import (
    TRIAL_REGISTRIES,
    PubmedParseError,
    parse_medline_date,
    parse_pubmed_xml,
)
from livingmeta.retrieval.records import NCT_PATTERN, Record, normalise_doi

__all__ = [
    "ALLOWED_FORMATS",
    "ImportFormatError",
    "parse_nbib",
    "parse_ris",
    "read_records",
]

ALLOWED_FORMATS = ("ris", "nbib", "pubmed-xml", "ctgov-json")


class ImportFormatError(ValueError):
    """An import file that does not match its declared format.

    Attributes
    ----------
    path : str
        The file (or ``"<string>"``).
    record : int or None
        1-based number of the offending record in the file, when known.
    line : int or None
        1-based line number, when known.
    """

    def __init__(
        self, path: str, message: str, *, record: int | None = None, line: int | None = None
    ) -> None:
        where = []
        if record is not None:
            where.append(f"record {record}")
        if line is not None:
            where.append(f"line {line}")
        location = f" ({', '.join(where)})" if where else ""
        super().__init__(f"{path}{location}: {message}")
        self.path = path
        self.record = record
        self.line = line


# --------------------------------------------------------------------------- entry point


def read_records(path: str | os.PathLike[str], fmt: str, source: str) -> list[Record]:
    """Read every record of an exported file.

    Parameters
    ----------
    path
        The export file.
    fmt
        One of :data:`ALLOWED_FORMATS`.
    source
        Where the export came from (``"embase"``, ``"central"``, ``"wos"``...); becomes
        :attr:`Record.source` and the prefix of ids that are not PMIDs.

    Returns
    -------
    list of Record
        In file order. All or nothing: any bad record raises.

    Raises
    ------
    ValueError
        For an unknown ``fmt`` (the message lists the allowed ones).
    ImportFormatError
        For content that does not parse as ``fmt``.
    """
    readers: dict[str, Callable[[Path, str], list[Record]]] = {
        "ris": _read_ris,
        "nbib": _read_nbib,
        "pubmed-xml": _read_pubmed_xml,
        "ctgov-json": _read_ctgov_json,
    }
    key = fmt.strip().lower() if isinstance(fmt, str) else fmt
    if key not in readers:
        raise ValueError(f"unknown import format {fmt!r}; allowed: {', '.join(ALLOWED_FORMATS)}")
    if not source or not isinstance(source, str):
        raise ValueError("source must be a non-empty string, e.g. 'embase'")
    return readers[key](Path(path), source)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":  # gzip magic: exports are often stored compressed
            data = gzip.decompress(data)
    except (OSError, EOFError) as exc:
        raise ImportFormatError(str(path), f"cannot read file: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFormatError(
            str(path),
            f"not UTF-8 (byte {exc.start}); re-export the file as UTF-8",
            line=line,
        ) from exc


def _read_ris(path: Path, source: str) -> list[Record]:
    return parse_ris(_read_text(path), source, name=str(path))


def _read_nbib(path: Path, source: str) -> list[Record]:
    return parse_nbib(_read_text(path), source, name=str(path))


def _read_pubmed_xml(path: Path, source: str) -> list[Record]:
    try:
        return parse_pubmed_xml(path, record_source=source)
    except PubmedParseError as exc:
        message = str(exc).removeprefix(f"{exc.source_name}: ")
        raise ImportFormatError(
            str(path),
            f"invalid PubMed XML: {message}",
            line=exc.line,
            record=exc.records_before + 1,
        ) from exc
    except OSError as exc:
        raise ImportFormatError(str(path), f"cannot read file: {exc}") from exc


def _read_ctgov_json(path: Path, source: str) -> list[Record]:
    # Imported lazily: the ClinicalTrials.gov client is a separate module.
    from livingmeta.retrieval.ctgov import parse_study

    text = _read_text(path)
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFormatError(str(path), f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
    studies = _ctgov_studies(payload, str(path))
    records = []
    for number, study in enumerate(studies, start=1):
        if not isinstance(study, dict):
            raise ImportFormatError(
                str(path), f"expected a study object, got {type(study).__name__}", record=number
            )
        try:
            records.append(parse_study(study, source))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ImportFormatError(str(path), f"invalid study: {exc}", record=number) from exc
    return records


def _ctgov_studies(payload: Any, name: str) -> list[Any]:
    """Accept one study, a list of studies, or a ``/studies`` page."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        if isinstance(payload.get("studies"), list):
            return payload["studies"]
        if "protocolSection" in payload:
            return [payload]
    raise ImportFormatError(
        name,
        "not ClinicalTrials.gov v2 JSON: expected a study object (with protocolSection), "
        "a list of studies, or a /studies page with a 'studies' list",
    )


# --------------------------------------------------------------------------- shared helpers


@dataclass
class _Raw:
    """One tagged record as read: ``tag -> [values]`` plus where it started."""

    number: int
    line: int
    fields: dict[str, list[str]] = field(default_factory=dict)
    last_tag: str | None = None

    def add(self, tag: str, value: str) -> None:
        self.fields.setdefault(tag, []).append(value)
        self.last_tag = tag

    def extend_last(self, text: str) -> None:
        assert self.last_tag is not None
        values = self.fields[self.last_tag]
        values[-1] = f"{values[-1]} {text}".strip() if values[-1] else text

    def first(self, *tags: str) -> str | None:
        for tag in tags:
            for value in self.fields.get(tag, ()):
                value = _clean(value)
                if value:
                    return value
        return None

    def all(self, *tags: str) -> list[str]:
        return [v for tag in tags for v in (_clean(x) for x in self.fields.get(tag, ())) if v]


def _clean(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _stable_hash(title: str, year: int | None, authors: tuple[str, ...]) -> str:
    """Short content hash that survives re-exports (case, accents, punctuation, spacing)."""
    first_family = authors[0].split()[0] if authors else ""
    text = f"{_normalise_for_hash(title)}|{year or ''}|{_normalise_for_hash(first_family)}"
    return "sha1-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _normalise_for_hash(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def _record_id(source: str, pmid: str | None, native_id: str | None, hash_id: str) -> str:
    # Ids stay per source (the registry links records by PMID): an Embase export of an
    # article must not replace the PubMed record, which may carry more (DataBankList).
    if pmid:
        return f"{source}:{pmid}"
    if native_id:
        return f"{source}:{'_'.join(native_id.split())}"
    return f"{source}:{hash_id}"


def _nct_in_text(texts: Iterable[str], known: Iterable[str]) -> tuple[str, ...]:
    seen = set(known)
    return _unique(n for text in texts for n in NCT_PATTERN.findall(text) if n not in seen)


# Trial registry identifiers seen in export fields: registry name -> pattern (the match,
# or its group 1 when there is one, is the id).
_REGISTRY_PATTERNS = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "ISRCTN": r"\bISRCTN\d{8}\b",
        "EudraCT": r"\b(\d{4}-\d{6}-\d{2})\b",
        "ANZCTR": r"\bACTRN\d{14}\b",
        "ChiCTR": r"\bChiCTR[-A-Z0-9]{6,}\b",
        "DRKS": r"\bDRKS\d{8}\b",
        "CTRI": r"\bCTRI/\d{4}/\d{2,3}/\d{6}\b",
        "UMIN CTR": r"\bUMIN\d{9}\b",
        "NTR": r"\bNTR\d{3,5}\b",
        "PACTR": r"\bPACTR\d{15}\b",
        "IRCT": r"\bIRCT\d{8,}N\d+\b",
    }.items()
}
_REGISTRY_LABEL = re.compile(
    r"clinicaltrials\.gov|\bct\.gov\b|\bctg\b|trial\s*regist|regist(?:ry|ration|ered)"
    r"|\bnct\s*(?:number|id|no)|\btrial\s*(?:id|number)",
    re.IGNORECASE,
)
_ONLY_IDS = re.compile(r"^[\s,;:/A-Z0-9-]*$")


def _registry_ids(values: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(NCT ids, other registry ids) from fields that are clearly about registration.

    A field counts when it names a registry or registration ("ClinicalTrials.gov:
    NCT01234567", "Trial registration: ISRCTN12345678") or holds nothing but identifiers
    ("NCT01234567"). An id merely mentioned in a free-text note is not trusted as the
    record's own registration.
    """
    nct: list[str] = []
    other: list[str] = []
    for value in values:
        upper = value.upper()
        if not (_REGISTRY_LABEL.search(value) or _ONLY_IDS.match(upper)):
            continue
        nct.extend(NCT_PATTERN.findall(upper))
        for name, pattern in _REGISTRY_PATTERNS.items():
            other.extend(f"{name}:{m.group(m.lastindex or 0)}" for m in pattern.finditer(value))
    return _unique(nct), _unique(other)


# --------------------------------------------------------------------------- RIS

# Exactly two spaces, as the RIS spec has it: a wrapped abstract line such as
# "CI - confidence interval" must not be read as a new field.
_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
# Some exporters (Elsevier, Scopus) put "Provider: ..." lines before the first record; WoS
# ends files with "EF".
_RIS_HEADER = re.compile(r"^[A-Za-z][\w .-]*:")
_RETRACTED_TITLE = re.compile(r"^\W*retracted(?:\s+article)?\W*[:.\]]", re.IGNORECASE)
_PMID_LABELLED = re.compile(r"\b(?:PMID|PUBMED(?:\s*ID)?|MEDLINE)\b\s*[:#=]?\s*(\d{1,9})\b", re.I)
_PUBMED_URL = re.compile(
    r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/|[?&]list_uids=)(\d{1,9})\b"
)
_DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_PMCID = re.compile(r"\bPMC\d{4,9}\b")
_RIS_DATE = re.compile(r"(\d{4})(?:[/-](\d{1,2})?(?:[/-](\d{1,2})?)?)?")
_RIS_URL_TAGS = ("UR", "L1", "L2", "L3", "L4", "LK", "US")
_RIS_REGISTRY_TAGS = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "N1", "M1", "M2", "XR")
_RIS_PMID_TAGS = ("AN", "C5", "M2", "N1", "ID", "XR", "PM", "U1", "U2", "U3", "U4", "U5", "CN")


def parse_ris(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse RIS text into Records.

    Why strict: RIS has no checksum or record count, so a missing ``ER`` or a stray line is
    the only sign that an export was cut or mangled; those raise instead of being guessed at.
    Lines that are not ``XX  - value`` continue the previous field (wrapped abstracts).
    """
    return [_ris_record(raw, source) for raw in _ris_raw_records(text, name)]


def _ris_raw_records(text: str, name: str) -> Iterator[_Raw]:
    current: _Raw | None = None
    number = 0
    line_no = 0
    for line_no, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.rstrip()
        match = _RIS_TAG.match(line)
        if match is None:
            if not line.strip():
                continue
            if current is None and (
                line.strip() == "EF" or (number == 0 and _RIS_HEADER.match(line))
            ):
                continue
            if current is None or current.last_tag is None:
                raise ImportFormatError(
                    name,
                    f"text outside a record (expected 'TY  - '): {line[:60]!r}",
                    record=number + 1 if current is None else current.number,
                    line=line_no,
                )
            current.extend_last(line.strip())
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag == "TY":
            if current is not None:
                raise ImportFormatError(
                    name,
                    f"new 'TY' before 'ER' closed the record started at line {current.line}",
                    record=current.number,
                    line=line_no,
                )
            number += 1
            current = _Raw(number=number, line=line_no)
            current.add(tag, value)
        elif current is None and tag == "EF":
            continue
        elif current is None:
            raise ImportFormatError(
                name,
                f"field {tag!r} outside a record (missing 'TY  - ' line?)",
                record=number + 1,
                line=line_no,
            )
        elif tag == "ER":
            _check_ris_record(current, name)
            yield current
            current = None
        else:
            current.add(tag, value)
    if current is not None:
        raise ImportFormatError(
            name,
            f"record started at line {current.line} has no 'ER  -' line (truncated file?)",
            record=current.number,
            line=line_no,
        )


def _check_ris_record(raw: _Raw, name: str) -> None:
    if not raw.first("TY"):
        raise ImportFormatError(
            name, "empty 'TY' (reference type)", record=raw.number, line=raw.line
        )
    if not (raw.first("TI", "T1", "CT", "BT") or raw.first("ID", "AN", "DO")):
        raise ImportFormatError(
            name, "record has neither a title nor an identifier", record=raw.number, line=raw.line
        )


def _ris_record(raw: _Raw, source: str) -> Record:
    title = raw.first("TI", "T1", "CT") or raw.first("BT") or ""
    abstract = "\n".join(_unique(raw.all("AB", "N2")))  # some exporters repeat AB as N2
    authors = tuple(_format_author(a) for a in raw.all("AU", "A1")) or tuple(raw.all("A3", "A4"))
    pub_date, year = _ris_date(raw.all("DA", "PY", "Y1", "Y2"))
    pmid = _ris_pmid(raw)
    doi = _ris_doi(raw)
    nct_ids, other_ids = _registry_ids(raw.all(*_RIS_REGISTRY_TAGS))
    pub_types = _unique(raw.all("M3", "PT"))
    native = raw.first("ID") or (raw.first("AN") if not pmid else None)
    extra: dict[str, Any] = {"ris_type": raw.first("TY"), "ris_line": raw.line}
    _put(extra, "keywords", raw.all("KW"))
    _put(extra, "volume", raw.first("VL"))
    _put(extra, "issue", raw.first("IS"))
    _put(extra, "pages", "-".join(raw.all("SP", "EP")) or None)
    _put(extra, "issn", raw.first("SN"))
    _put(extra, "language", raw.first("LA"))
    _put(extra, "database", raw.first("DB", "DP"))
    _put(extra, "accession", raw.first("AN"))
    _put(extra, "ris_id", raw.first("ID"))
    _put(extra, "urls", raw.all(*_RIS_URL_TAGS))
    return Record(
        record_id=_record_id(source, pmid, native, _stable_hash(title, year, authors)),
        source=source,
        title=title,
        abstract=abstract,
        year=year,
        pub_date=pub_date,
        journal=raw.first("JF", "T2", "JO", "JA", "J2"),
        authors=authors,
        pmid=pmid,
        doi=doi,
        pmcid=_first_match(_PMCID, raw.all("C2", "N1", *_RIS_URL_TAGS)),
        nct_ids=nct_ids,
        nct_ids_in_text=_nct_in_text((title, abstract), nct_ids),
        other_ids=other_ids,
        publication_types=pub_types,
        retracted=any("retracted publication" in t.lower() for t in pub_types)
        or bool(_RETRACTED_TITLE.match(title)),
        extra=extra,
    )


def _put(extra: dict[str, Any], key: str, value: Any) -> None:
    if value:
        extra[key] = value


def _first_match(pattern: re.Pattern[str], values: Iterable[str]) -> str | None:
    for value in values:
        match = pattern.search(value)
        if match:
            return match.group(match.lastindex or 0)
    return None


def _format_author(name: str) -> str:
    """``"Smith, John R."`` -> ``"Smith JR"``; names without a comma are kept as given."""
    if "," not in name:
        return name
    family, _, given = name.partition(",")
    given = given.split(",")[0]  # drop suffixes such as ", Jr."
    initials = "".join(
        part[0].upper() for part in re.split(r"[\s.\-]+", given) if part and part[0].isalpha()
    )
    family = family.strip()
    return f"{family} {initials}" if initials else family


def _ris_date(values: Iterable[str]) -> tuple[str | None, int | None]:
    """Best date among DA/PY/Y1: the one with the most parts (``2020/05/12/`` > ``2020``)."""
    best: tuple[str | None, int | None] = (None, None)
    for value in values:
        match = _RIS_DATE.search(value)
        if not match:
            continue
        year = int(match.group(1))
        month = int(match.group(2)) if match.group(2) else None
        day = int(match.group(3)) if match.group(3) else None
        if month is not None and not 1 <= month <= 12:
            month = day = None
        if day is not None and not 1 <= day <= 31:
            day = None
        iso = (
            f"{year:04d}"
            + (f"-{month:02d}" if month else "")
            + (f"-{day:02d}" if month and day else "")
        )
        if best[0] is None or len(iso) > len(best[0]):
            best = (iso, year)
    return best


def _ris_pmid(raw: _Raw) -> str | None:
    accession = raw.first("AN")
    if accession and accession.isdigit() and len(accession) <= 9:
        return accession.lstrip("0") or None  # Ovid / PubMed RIS put the PMID in AN
    labelled = _first_match(_PMID_LABELLED, raw.all(*_RIS_PMID_TAGS))
    if labelled:
        return labelled.lstrip("0") or None
    found = _first_match(_PUBMED_URL, raw.all(*_RIS_URL_TAGS))
    return found.lstrip("0") or None if found else None


def _ris_doi(raw: _Raw) -> str | None:
    for value in raw.all("DO", "M3", "N1", *_RIS_URL_TAGS):
        match = _DOI_IN_TEXT.search(value) if "10." in value else None
        if match:
            doi = normalise_doi(match.group(1))
            if doi:
                return doi
    return None


# --------------------------------------------------------------------------- nbib (MEDLINE)

_NBIB_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,2}- ?(.*)$")
_NBIB_CONTINUATION = "      "
_NBIB_LINK_TYPES = {
    "CIN": "CommentIn",
    "CON": "CommentOn",
    "EIN": "ErratumIn",
    "EFR": "ErratumFor",
    "RIN": "RetractionIn",
    "ROF": "RetractionOf",
    "ECI": "ExpressionOfConcernIn",
    "ECF": "ExpressionOfConcernFor",
    "UIN": "UpdateIn",
    "UOF": "UpdateOf",
    "CRI": "CorrectedandRepublishedIn",
    "CRF": "CorrectedandRepublishedFrom",
    "RRI": "RetractedandRepublishedIn",
    "RRF": "RetractedandRepublishedFrom",
    "RPI": "RepublishedIn",
    "RPF": "RepublishedFrom",
    "SPIN": "SummaryForPatientsIn",
    "ORI": "OriginalReportIn",
}
_NBIB_PMID_REF = re.compile(r"\bPMID:\s*(\d{1,9})\b")
_NBIB_ID_TYPE = re.compile(r"^(.*?)\s*\[(\w+)\]$")
_NBIB_SI = re.compile(r"^\s*([^/]+?)\s*/\s*(.+?)\s*$")


def parse_nbib(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse MEDLINE/PubMed tagged text (``.nbib``) into Records.

    Records are separated by blank lines (or a new ``PMID-`` line); a line indented by six
    spaces continues the previous field. Every record must carry a PMID: a PubMed export
    always does, so a record without one means the file is not what it claims to be.
    """
    return [_nbib_record(raw, source) for raw in _nbib_raw_records(text, name)]


def _nbib_raw_records(text: str, name: str) -> Iterator[_Raw]:
    current: _Raw | None = None
    number = 0
    for line_no, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.rstrip()
        if not line:
            if current is not None:
                yield _checked_nbib(current, name)
                current = None
            continue
        if raw_line.startswith(_NBIB_CONTINUATION) and current is not None:
            if current.last_tag is None:
                raise ImportFormatError(
                    name, "continuation line before any field", record=current.number, line=line_no
                )
            current.extend_last(line.strip())
            continue
        match = _NBIB_TAG.match(line)
        if match is None:
            raise ImportFormatError(
                name,
                f"not a MEDLINE tagged line ('TAG - value' or 6-space continuation): {line[:60]!r}",
                record=number + (current is None),
                line=line_no,
            )
        tag, value = match.group(1), match.group(2).strip()
        if tag == "PMID" and current is not None and "PMID" in current.fields:
            yield _checked_nbib(current, name)
            current = None
        if current is None:
            number += 1
            current = _Raw(number=number, line=line_no)
        current.add(tag, value)
    if current is not None:
        yield _checked_nbib(current, name)


def _checked_nbib(raw: _Raw, name: str) -> _Raw:
    pmid = raw.first("PMID")
    if not pmid or not pmid.isdigit():
        raise ImportFormatError(
            name, f"record without a numeric PMID (got {pmid!r})", record=raw.number, line=raw.line
        )
    if not (raw.first("TI", "BTI", "VTI")):
        raise ImportFormatError(
            name, f"PMID {pmid} has no title (TI)", record=raw.number, line=raw.line
        )
    return raw


def _nbib_record(raw: _Raw, source: str) -> Record:
    pmid = raw.first("PMID") or ""
    title = raw.first("TI", "BTI", "VTI") or ""
    abstract = raw.first("AB") or ""
    authors = tuple(raw.all("AU")) + tuple(raw.all("CN"))
    pub_date, year = parse_medline_date(raw.first("DP"))
    ids = _nbib_ids(raw.all("AID", "LID"))
    nct_ids, other_ids = _nbib_databanks(raw.all("SI"))
    links = _nbib_links(raw)
    pub_types = _unique(raw.all("PT"))
    extra: dict[str, Any] = {"comments_corrections": links}
    _put(extra, "iso_abbreviation", raw.first("TA"))
    _put(extra, "volume", raw.first("VI"))
    _put(extra, "issue", raw.first("IP"))
    _put(extra, "pages", raw.first("PG"))
    _put(extra, "medline_status", raw.first("STAT"))
    _put(extra, "pub_date_raw", raw.first("DP"))
    _put(extra, "entrez_date", _nbib_entrez_date(raw))
    _put(extra, "language", raw.first("LA"))

    def linked(ref_type: str) -> tuple[str, ...]:
        return _unique(pmid for kind, pmid, _ in links if kind == ref_type)

    return Record(
        record_id=f"{source}:{pmid}",
        source=source,
        title=title,
        abstract=abstract,
        year=year,
        pub_date=pub_date,
        journal=raw.first("JT", "TA"),
        authors=authors,
        pmid=pmid,
        doi=normalise_doi(ids.get("doi")),
        pmcid=_first_match(_PMCID, raw.all("PMC")),
        nct_ids=nct_ids,
        nct_ids_in_text=_nct_in_text((title, abstract), nct_ids),
        other_ids=other_ids,
        publication_types=pub_types,
        retracted="Retracted Publication" in pub_types or bool(raw.all("RIN")),
        retraction_notices=linked("RetractionIn"),
        errata=linked("ErratumIn"),
        concerns=linked("ExpressionOfConcernIn"),
        extra=extra,
    )


def _nbib_ids(values: Iterable[str]) -> dict[str, str]:
    """``"10.1056/NEJMoa1203421 [doi]"`` -> ``{"doi": "10.1056/NEJMoa1203421"}``."""
    ids: dict[str, str] = {}
    for value in values:
        match = _NBIB_ID_TYPE.match(value)
        if match:
            ids.setdefault(match.group(2).lower(), match.group(1))
    return ids


def _nbib_databanks(values: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``SI - ClinicalTrials.gov/NCT01245062`` (the nbib form of DataBankList)."""
    nct: list[str] = []
    other: list[str] = []
    for value in values:
        match = _NBIB_SI.match(value)
        if not match:
            continue
        bank, accession = match.group(1), match.group(2)
        if bank.lower() == "clinicaltrials.gov" and NCT_PATTERN.fullmatch(accession.upper()):
            nct.append(accession.upper())
        elif bank.lower() != "clinicaltrials.gov" and _is_registry(bank):
            other.append(f"{bank}:{accession}")
    return _unique(nct), _unique(other)


def _is_registry(bank: str) -> bool:
    return bank.lower() in TRIAL_REGISTRIES


def _nbib_links(raw: _Raw) -> list[tuple[str, str | None, str | None]]:
    links = []
    for tag, ref_type in _NBIB_LINK_TYPES.items():
        for value in raw.all(tag):
            match = _NBIB_PMID_REF.search(value)
            links.append((ref_type, match.group(1) if match else None, value))
    return links


def _nbib_entrez_date(raw: _Raw) -> str | None:
    for value in raw.all("PHST"):
        if value.endswith("[entrez]"):
            return _ris_date([value])[0]
    crdt = raw.first("CRDT", "EDAT")
    return _ris_date([crdt])[0] if crdt else None
