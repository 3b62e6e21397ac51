"""Recognise an export's format from its first few kilobytes (``--format auto``)."""

from __future__ import annotations

import re

from livingmeta.retrieval.formats.errors import ImportFormatError

_SAMPLE_CHARS = 65536
_RULES = (
    ("pubmed-xml", re.compile(r"<(?:PubmedArticleSet|PubmedArticle|PubmedBookArticle)\b")),
    ("endnote-xml", re.compile(r"<xml>\s*<records>|<records>\s*<record>", re.IGNORECASE)),
    # Before ctgov-json: an abstract_inverted_index may hold the word "studies" as a key.
    (
        "openalex-json",
        re.compile(r"^\s*[\[{].*\"(?:abstract_inverted_index|authorships)\"", re.DOTALL),
    ),
    ("ctgov-json", re.compile(r"^\s*[\[{].*\"(?:protocolSection|studies)\"", re.DOTALL)),
    ("wos", re.compile(r"^(?:FN |VR |PT [A-Z]\n)", re.MULTILINE)),
    ("ris", re.compile(r"^TY  -", re.MULTILINE)),
    ("nbib", re.compile(r"^PMID- ?\d", re.MULTILINE)),
    ("enw", re.compile(r"^%0 \S", re.MULTILINE)),
    ("refworks", re.compile(r"^RT [A-Z][^\n]*\n(?:[A-Z][A-Z0-9] |PMID )", re.MULTILINE)),
    (
        "cochrane-txt",
        re.compile(r"^Record\s*#\s*1\s+of\s+\d+[ \t]*\n\s*[A-Z][A-Z0-9]{1,3}:", re.MULTILINE),
    ),
    ("bibtex", re.compile(r"^\s*@[A-Za-z]+\s*[{(]", re.MULTILINE)),
)
_TABLE_HEADER = re.compile(r"title", re.IGNORECASE)


def detect_format(text: str, name: str) -> str:
    """The format name of an export's decoded text (see ``importers.ALLOWED_FORMATS``).

    Raises
    ------
    ImportFormatError
        When the content matches no supported format.
    """
    text = text[:_SAMPLE_CHARS]
    if not text.strip():
        return "ris"  # an empty export: no records, in any format
    for fmt, pattern in _RULES:
        if pattern.search(text):
            return fmt
    if _TABLE_HEADER.search(text[:4096]):  # a header row naming a title column, near the top
        return "csv"
    raise ImportFormatError(
        name,
        "format not recognised (expected RIS, MEDLINE/nbib, PubMed XML, EndNote XML, "
        "ClinicalTrials.gov JSON, OpenAlex JSON, CSV/TSV with a title column, Excel .xlsx, "
        "Web of Science plain text, EndNote tagged .enw, BibTeX, RefWorks tagged or Cochrane "
        "Library plain text); pass --format explicitly",
    )
