"""RefWorks tagged format (legacy RefWorks, ProQuest, EBSCO and library catalogues).

A record opens with ``RT <reference type>`` (``RT Journal Article``) and ends at a blank
line (some exporters also write ``ER``). Every other line is a two-character tag, one
space and the value (``A1 Smith, John``; one author per ``A1`` line); ``PMID`` and
``PMCID`` are the only longer tags. A line without a tag continues the previous field.
Tags as RefWorks documents them: ``SR`` source type, ``ID`` the user's reference number,
``A1`` authors, ``T1`` title, ``JF``/``JO`` journal (full/abbreviated), ``YR`` year,
``FD`` free-form date, ``VO`` volume, ``IS`` issue, ``SP``/``OP`` first/other pages,
``K1`` keywords, ``AB`` abstract, ``NO`` notes, ``SN`` ISSN/ISBN, ``AN`` accession
number, ``LA`` language, ``DO`` DOI, ``UL``/``LK`` links, ``DB`` database.
"""

from __future__ import annotations

import re

from livingmeta.retrieval.formats.errors import ImportFormatError
from livingmeta.retrieval.formats.fields import Bibliographic, RawRecord, to_record
from livingmeta.retrieval.formats.identity import trusted_accession
from livingmeta.retrieval.formats.tagged import TaggedReader, lines
from livingmeta.retrieval.records import Record

_TAG = re.compile(r"^(PMCID|PMID|[A-Z][A-Z0-9])(?: (.*)|$)")
_DIGITS = re.compile(r"^\d{1,9}$")


def parse_refworks(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse RefWorks tagged text into Records.

    Raises
    ------
    ImportFormatError
        For text before the first ``RT`` line, a record that does not start with ``RT``
        or a record with neither a title nor an identifier.
    """
    return [_record(raw, source, name) for raw in _raw_records(text, name)]


def _raw_records(text: str, name: str) -> list[RawRecord]:
    reader = TaggedReader(name, _TAG)
    for line_no, line in lines(text):
        if not line.strip():
            reader.close()  # a blank line ends the record
        elif line.startswith("RT ") or line == "RT":
            reader.open(line_no).fields["RT"] = [line[3:].strip()]
        elif line == "ER" or line.startswith("ER "):
            reader.close()
        elif not reader.add(line, line_no):
            raise reader.fail(
                f"expected 'RT <reference type>' to open a record, got {line[:60]!r}", line_no
            )
    reader.close()
    return reader.records


def _record(raw: RawRecord, source: str, name: str) -> Record:
    if not raw.first("RT"):
        raise ImportFormatError(
            name, "empty 'RT' (reference type)", record=raw.number, line=raw.line
        )
    title = raw.title(name, ("T1", "OT", "T2"), ("DO", "PMID"))
    accession, pmid = raw.first("AN"), raw.first("PMID")
    links = raw.all("UL", "LK")
    bib = Bibliographic(
        title=title,
        abstracts=raw.all("AB"),
        authors=raw.all("A1") or raw.all("A2"),
        dates=[*raw.all("YR"), *(f"{d} {raw.first('YR') or ''}" for d in raw.all("FD"))],
        journal=raw.first("JF", "JO", "T2"),
        pmid=pmid if pmid and _DIGITS.match(pmid) else None,
        pmid_texts=raw.all("NO", "AN", "U1", "U2", "U3", "U4", "U5"),
        doi_texts=[*raw.all("DO"), *links],
        pmcid_texts=raw.all("PMCID", "NO"),
        registry_texts=raw.all("NO", "U1", "U2", "U3", "U4", "U5"),
        links=links,
        publication_types=raw.all("RT"),
    )
    bib.extra = {
        "keywords": [k.strip() for k in ";".join(raw.all("K1")).split(";") if k.strip()],
        "volume": raw.first("VO"),
        "issue": raw.first("IS"),
        "pages": "-".join(raw.all("SP", "OP")),
        "issn": raw.first("SN"),
        "language": raw.first("LA"),
        "database": raw.first("DB", "DS"),
        "accession": accession,
    }
    return to_record(bib, source, trusted_accession([accession]))
