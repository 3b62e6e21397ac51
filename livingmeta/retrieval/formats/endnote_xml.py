"""EndNote XML (File > Export > XML), as EndNote, Citavi and EPPI-Reviewer write it.

``<xml><records><record>`` with ``<titles><title>``, ``<contributors><authors><author>``,
``<dates><year>``, ``<periodical><full-title>``, ``<electronic-resource-num>`` (the DOI),
``<accession-num>`` and ``<remote-database-name>``; text may sit inside ``<style>``
elements, so every value is the element's whole text.
"""

from __future__ import annotations

import re
from typing import Any

from livingmeta.retrieval.formats.errors import ImportFormatError, require_title_or_id
from livingmeta.retrieval.formats.fields import Bibliographic, clean, to_record
from livingmeta.retrieval.formats.identity import trusted_accession
from livingmeta.retrieval.records import Record

_PUBMED = re.compile(r"medline|pubmed|\bnlm\b", re.IGNORECASE)
_DIGITS = re.compile(r"^\d{1,9}$")
# Element path (below <record>) -> field name.
_PATHS = {
    "ref-type": "type",
    "contributors/authors/author": "author",
    "titles/title": "title",
    "titles/secondary-title": "secondary_title",
    "periodical/full-title": "journal",
    "periodical/abbr-1": "journal_abbreviation",
    "dates/year": "year",
    "dates/pub-dates/date": "date",
    "abstract": "abstract",
    "pages": "pages",
    "volume": "volume",
    "number": "issue",
    "keywords/keyword": "keyword",
    "isbn": "issn",
    "accession-num": "accession",
    "electronic-resource-num": "doi",
    "urls/related-urls/url": "url",
    "urls/web-urls/url": "url",
    "notes": "notes",
    "remote-database-name": "database",
    "remote-database-provider": "database",
    "language": "language",
    "work-type": "type",
    "custom1": "custom",
    "custom2": "custom",
    "custom3": "custom",
    "custom4": "custom",
    "custom5": "custom",
    "custom6": "custom",
    "custom7": "custom",
}


def parse_endnote_xml(data: bytes, source: str, *, name: str = "<string>") -> list[Record]:
    """Parse EndNote XML bytes into Records.

    Raises
    ------
    ImportFormatError
        For malformed XML (naming the line), a document without ``<record>`` elements
        that is not empty, or a record with neither a title nor an identifier.
    """
    import io

    from lxml import etree

    records = []
    context = etree.iterparse(
        io.BytesIO(data), events=("end",), tag="record", resolve_entities=False, no_network=True
    )
    try:
        for number, (_, elem) in enumerate(context, start=1):
            records.append(_record(_fields(elem), source, name, number, elem.sourceline))
            elem.clear()
    except etree.XMLSyntaxError as exc:
        raise ImportFormatError(
            name, f"invalid EndNote XML: {exc.msg}", record=len(records) + 1, line=exc.lineno
        ) from exc
    return records


def _fields(elem: Any) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for path, field_name in _PATHS.items():
        for found in elem.iterfind(path):
            value = clean("".join(found.itertext()))
            if path == "ref-type" and found.get("name"):
                value = found.get("name")
            if value:
                fields.setdefault(field_name, []).append(value)
    return fields


def _record(
    fields: dict[str, list[str]], source: str, name: str, number: int, line: int | None
) -> Record:
    def first(key: str) -> str | None:
        return next(iter(fields.get(key, ())), None)

    title = first("title") or ""
    accession = first("accession")
    require_title_or_id(name, (title, first("doi"), accession), record=number, line=line)
    database = " ".join(fields.get("database", ()))
    pmid = (
        accession if accession and _DIGITS.match(accession) and _PUBMED.search(database) else None
    )
    notes = fields.get("notes", []) + fields.get("custom", [])
    bib = Bibliographic(
        title=title,
        abstracts=fields.get("abstract", []),
        authors=fields.get("author", []),
        dates=fields.get("year", []) + fields.get("date", []),
        journal=first("journal") or first("secondary_title") or first("journal_abbreviation"),
        pmid=pmid,
        pmid_texts=notes,
        doi_texts=fields.get("doi", []) + fields.get("url", []),
        pmcid_texts=notes,
        registry_texts=notes,
        links=fields.get("url", []),
        publication_types=fields.get("type", []),
    )
    bib.extra = {
        "endnote_record": number,
        "keywords": fields.get("keyword", []),
        "volume": first("volume"),
        "issue": first("issue"),
        "pages": first("pages"),
        "issn": first("issn"),
        "language": first("language"),
        "database": database or None,
        "accession": accession,
    }
    return to_record(bib, source, trusted_accession([accession]))
