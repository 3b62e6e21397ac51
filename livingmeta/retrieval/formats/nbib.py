"""MEDLINE/PubMed tagged format (``PMID- ``, ``TI  - ``; PubMed's "Save > PubMed format").

Records are separated by blank lines (or a new ``PMID-`` line); a line indented by six
spaces continues the previous field. Every record must carry a PMID: a PubMed export
always does, so a record without one means the file is not what it claims to be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from livingmeta.retrieval.formats.errors import ImportFormatError
from livingmeta.retrieval.formats.fields import (
    RawRecord,
    best_date,
    first_match,
    strip_markup,
    unique,
)
from livingmeta.retrieval.formats.identity import record_id
from livingmeta.retrieval.records import NCT_PATTERN, Record, nct_ids_in_text, normalise_doi

_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,2}- ?(.*)$")
_CONTINUATION = "      "
_LINK_TYPES = {
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
_PMID_REF = re.compile(r"\bPMID:\s*(\d{1,9})\b")
_ID_TYPE = re.compile(r"^(.*?)\s*\[(\w+)\]$")
_DATABANK = re.compile(r"^\s*([^/]+?)\s*/\s*(.+?)\s*$")
_PMCID = re.compile(r"\bPMC\d{4,9}\b")


def parse_nbib(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse MEDLINE/PubMed tagged text (``.nbib``) into Records.

    Raises
    ------
    ImportFormatError
        For a line that is neither a field nor a continuation, or a record without a
        numeric PMID or a title.
    """
    return [nbib_record(raw, source) for raw in _raw_records(text, name)]


def _raw_records(text: str, name: str) -> Iterator[RawRecord]:
    current: RawRecord | None = None
    last: list[str] | None = None
    number = 0
    # split("\n"), not splitlines(): an abstract may hold U+2028 and other line separators.
    for line_no, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.rstrip()
        if not line:
            if current is not None:
                yield _checked(current, name)
                current = None
            continue
        if raw_line.startswith(_CONTINUATION) and current is not None:
            if last is None:
                raise ImportFormatError(
                    name, "continuation line before any field", record=current.number, line=line_no
                )
            last[-1] = f"{last[-1]} {line.strip()}".strip()
            continue
        match = _TAG.match(line)
        if match is None:
            raise ImportFormatError(
                name,
                f"not a MEDLINE tagged line ('TAG - value' or 6-space continuation): {line[:60]!r}",
                record=number + (current is None),
                line=line_no,
            )
        tag, value = match.group(1), match.group(2).strip()
        if tag == "PMID" and current is not None and "PMID" in current.fields:
            yield _checked(current, name)
            current = None
        if current is None:
            number += 1
            current = RawRecord(number=number, line=line_no)
        last = current.fields.setdefault(tag, [])
        last.append(value)
    if current is not None:
        yield _checked(current, name)


def _checked(raw: RawRecord, name: str) -> RawRecord:
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


def nbib_record(raw: RawRecord, source: str) -> Record:
    """One MEDLINE record as a :class:`Record` (the same fields the PubMed XML parser fills)."""
    from livingmeta.retrieval.pubmed_xml import parse_medline_date

    pmid = raw.first("PMID") or ""
    title = strip_markup(raw.first("TI", "BTI", "VTI"))
    abstract = strip_markup(raw.first("AB"))
    pub_date, year = parse_medline_date(raw.first("DP"))
    ids = _article_ids(raw.all("AID", "LID"))
    nct_ids, other_ids = _databanks(raw.all("SI"))
    links = _links(raw)
    pub_types = unique(raw.all("PT"))
    extra: dict[str, Any] = {
        "comments_corrections": links,
        "iso_abbreviation": raw.first("TA"),
        "volume": raw.first("VI"),
        "issue": raw.first("IP"),
        "pages": raw.first("PG"),
        "medline_status": raw.first("STAT"),
        "pub_date_raw": raw.first("DP"),
        "entrez_date": _entrez_date(raw),
        "language": raw.first("LA"),
    }

    def linked(ref_type: str) -> tuple[str, ...]:
        return unique(pmid for kind, pmid, _ in links if kind == ref_type)

    authors = tuple(raw.all("AU")) + tuple(raw.all("CN"))
    return Record(
        record_id=record_id(source, pmid, None, title, year, authors),
        source=source,
        title=title,
        abstract=abstract,
        year=year,
        pub_date=pub_date,
        journal=raw.first("JT", "TA"),
        authors=authors,
        pmid=pmid,
        doi=normalise_doi(ids.get("doi")),
        pmcid=first_match(_PMCID, raw.all("PMC")),
        nct_ids=nct_ids,
        nct_ids_in_text=nct_ids_in_text((title, abstract), nct_ids),
        other_ids=other_ids,
        publication_types=pub_types,
        retracted="Retracted Publication" in pub_types or bool(raw.all("RIN")),
        retraction_notices=linked("RetractionIn"),
        errata=linked("ErratumIn"),
        concerns=linked("ExpressionOfConcernIn"),
        extra={k: v for k, v in extra.items() if v or k == "comments_corrections"},
    )


def _article_ids(values: Iterable[str]) -> dict[str, str]:
    """``"10.1056/NEJMoa1203421 [doi]"`` -> ``{"doi": "10.1056/NEJMoa1203421"}``."""
    ids: dict[str, str] = {}
    for value in values:
        match = _ID_TYPE.match(value)
        if match:
            ids.setdefault(match.group(2).lower(), match.group(1))
    return ids


def _databanks(values: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``SI - ClinicalTrials.gov/NCT01245062`` (the nbib form of DataBankList)."""
    from livingmeta.retrieval.pubmed_xml import TRIAL_REGISTRIES

    nct: list[str] = []
    other: list[str] = []
    for value in values:
        match = _DATABANK.match(value)
        if not match:
            continue
        bank, accession = match.group(1), match.group(2)
        if bank.lower() == "clinicaltrials.gov" and NCT_PATTERN.fullmatch(accession.upper()):
            nct.append(accession.upper())
        elif bank.lower() != "clinicaltrials.gov" and bank.lower() in TRIAL_REGISTRIES:
            other.append(f"{bank}:{accession}")
    return unique(nct), unique(other)


def _links(raw: RawRecord) -> list[tuple[str, str | None, str | None]]:
    links = []
    for tag, ref_type in _LINK_TYPES.items():
        for value in raw.all(tag):
            match = _PMID_REF.search(value)
            links.append((ref_type, match.group(1) if match else None, value))
    return links


def _entrez_date(raw: RawRecord) -> str | None:
    for value in raw.all("PHST"):
        if value.endswith("[entrez]"):
            return best_date([value])[0]
    crdt = raw.first("CRDT", "EDAT")
    return best_date([crdt])[0] if crdt else None
