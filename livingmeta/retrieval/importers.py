"""Records from files exported elsewhere: Embase, Cochrane CENTRAL, Web of Science, Scopus...

A living review searches sources that have no usable API (Embase, CENTRAL, WoS), so their
results come in as exported files. Each format is turned into the same :class:`Record` the
API clients produce, so deduplication and screening never care where a record came from.
The readers live in :mod:`livingmeta.retrieval.formats`, one module per format:

``ris``
    RIS (``TY  - JOUR`` ... ``ER  -``): Embase, Ovid, Cochrane CENTRAL, Web of Science,
    Scopus, CINAHL, ProQuest, Dimensions, Lens, and reference managers (EndNote, Zotero,
    Mendeley, RefWorks, Citavi, EPPI-Reviewer, Rayyan).
``nbib``
    MEDLINE/PubMed tagged format (PubMed's "Save > PubMed format", .nbib/.txt).
``pubmed-xml``
    PubMed XML (EFetch or "Save > XML").
``ctgov-json``
    ClinicalTrials.gov API v2 JSON: one study, a list of studies, or a ``/studies`` page.
``endnote-xml``
    EndNote XML (File > Export > XML), also written by Citavi and EPPI-Reviewer.
``csv``
    Comma-, semicolon- or tab-separated tables with a header row: Rayyan, Covidence, Scopus,
    Web of Science tab-delimited, Lens, OpenAlex, Dimensions, Publish or Perish...
``wos``
    Web of Science plain text (``FN``/``PT``/``AU`` ... ``ER``).
``enw``
    EndNote/Refer tagged text (``%0 Journal Article``, ``%T``...), e.g. Google Scholar.
``bibtex``
    BibTeX (Google Scholar, Zotero, Mendeley, JabRef).
``refworks``
    RefWorks tagged format (``RT Journal Article``, ``A1``, ``T1``...).
``cochrane-txt``
    Cochrane Library plain-text export (``Record #1 of N``, ``ID: CN-...``, ``TI:``...).
``openalex-json``
    OpenAlex API JSON: a ``/works`` page, a list of works or one work.
``xlsx``
    The first sheet of an Excel workbook, read like ``csv`` (Rayyan, Covidence, Scopus).
``auto``
    Recognise the format from the file's content.

Record ids (:mod:`livingmeta.retrieval.formats.identity`) are stable across re-imports and
never shared by two different records: ``<source>:<PMID>``, else a database's own unique
accession number, else a content hash; repeats inside one file get ``~2``, ``~3``...

Bad input raises :class:`ImportFormatError` naming the file, the record number and line and
what is wrong: a half-read export must not pass for a complete one.
"""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path

from livingmeta.retrieval.formats import FORMATS
from livingmeta.retrieval.formats.detect import detect_format
from livingmeta.retrieval.formats.errors import ImportFormatError
from livingmeta.retrieval.formats.fields import gc_paused
from livingmeta.retrieval.formats.identity import canonical_source, number_repeats
from livingmeta.retrieval.formats.nbib import parse_nbib
from livingmeta.retrieval.formats.ris import parse_ris
from livingmeta.retrieval.formats.text import decode, is_xlsx, read_bytes, refuse_binary
from livingmeta.retrieval.records import Record

__all__ = [
    "ALLOWED_FORMATS",
    "ImportFormatError",
    "detect_format",
    "parse_nbib",
    "parse_ris",
    "read_records",
]

ALLOWED_FORMATS = FORMATS

# Format -> (module of livingmeta.retrieval.formats, its parser, what the parser reads),
# imported only when used. XML declares its own encoding and Excel is binary: they get
# the bytes (PubMed XML, streamed, the path); every other format gets the decoded text.
_PARSERS: dict[str, tuple[str, str, str]] = {
    "ris": ("ris", "parse_ris", "text"),
    "nbib": ("nbib", "parse_nbib", "text"),
    "pubmed-xml": ("pubmed", "read_pubmed_xml", "path"),
    "ctgov-json": ("ctgov_json", "parse_ctgov_json", "text"),
    "openalex-json": ("openalex", "parse_openalex", "text"),
    "endnote-xml": ("endnote_xml", "parse_endnote_xml", "bytes"),
    "csv": ("tables", "parse_table", "text"),
    "xlsx": ("tables", "parse_xlsx", "bytes"),
    "wos": ("wos", "parse_wos", "text"),
    "enw": ("enw", "parse_enw", "text"),
    "bibtex": ("bibtex", "parse_bibtex", "text"),
    "refworks": ("refworks", "parse_refworks", "text"),
    "cochrane-txt": ("cochrane", "parse_cochrane", "text"),
}


def read_records(path: str | os.PathLike[str], fmt: str, source: str) -> list[Record]:
    """Read every record of an exported file.

    Parameters
    ----------
    path
        The export file (may be gzip-compressed; UTF-8, UTF-16 or a legacy code page).
    fmt
        One of :data:`ALLOWED_FORMATS`.
    source
        Where the export came from (``"embase"``, ``"central"``, ``"wos"``...); becomes
        :attr:`Record.source` and the prefix of ids, trimmed and lower-cased
        (``"PubMed"`` is the PubMed search's ``"pubmed"``).

    Returns
    -------
    list of Record
        In file order, one per record in the file (repeats included, with ``~n`` ids).
        All or nothing: any bad record raises.

    Raises
    ------
    ValueError
        For an unknown ``fmt`` (the message lists the allowed ones) or an empty source.
    ImportFormatError
        For content that does not parse as ``fmt``.
    """
    key = fmt.strip().lower() if isinstance(fmt, str) else fmt
    if key not in ALLOWED_FORMATS:
        raise ValueError(f"unknown import format {fmt!r}; allowed: {', '.join(ALLOWED_FORMATS)}")
    source = canonical_source(source)
    path = Path(path)
    data = read_bytes(path)
    if key != "xlsx" and is_xlsx(data):
        if key != "auto":
            raise ImportFormatError(
                str(path), f"an Excel workbook, not {key}; import it with --format xlsx (or auto)"
            )
        key = "xlsx"
    if key != "xlsx":
        refuse_binary(data, str(path))
    text = "" if key != "auto" and _PARSERS[key][2] != "text" else decode(data, str(path)).text
    if key == "auto":
        key = detect_format(text, str(path))
    module, function, reads = _PARSERS[key]
    parser = getattr(import_module(f"livingmeta.retrieval.formats.{module}"), function)
    with gc_paused():
        if reads == "path":
            records = parser(path, source)
        else:
            records = parser(data if reads == "bytes" else text, source, name=str(path))
        return number_repeats(records)
