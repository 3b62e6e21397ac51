"""Ids of imported records: stable across re-exports, never shared by two different records.

Reference managers number the records of every export 1..N, so their record numbers are
no identity: two exports under one source would overwrite each other. An imported record's
id is ``<source>:<key>`` where the key is, in order of preference,

* the PMID (one PMID is one record: an import under ``--source PubMed`` and the PubMed
  search share the ``pubmed:`` prefix);
* a database accession number that is unique in its database (Cochrane ``CN-``, Web of
  Science ``WOS:``, Scopus ``2-s2.0-``, Embase ``L...``, PsycINFO, Dimensions, Lens,
  OpenAlex, Rayyan, ERIC ids);
* ``sha1-<16 hex>`` over the normalised title, year, first author, DOI, journal, volume
  and first page, which survives re-exports with different case, accents, punctuation
  and spacing.

The second and later copies of one record inside one file get ``~2``, ``~3``... appended:
they are duplicates, and PRISMA counts every record the file held. Re-reading the same file
gives the same ids, so re-importing it changes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Iterable

from livingmeta.retrieval.records import Record

# Names of the sources the workflow also searches, by the names people give their exports.
_SEARCHED_SOURCES = {
    "pubmed": "pubmed",
    "medline/pubmed": "pubmed",
    "pubmed/medline": "pubmed",
    "clinicaltrials.gov": "ctgov",
    "ct.gov": "ctgov",
    "ctgov": "ctgov",
}
REPEAT_SEPARATOR = "~"

_ACCESSION = re.compile(
    r"^(?:CN-\d{4,}|WOS:\d{9,}|2-s2\.0-\d{6,}|L\d{8,}|pub\.\d{6,}|\d{4}-\d{5}-\d{3}"
    r"|\d{3}-\d{3}-\d{3}-\d{3}-\d{3}|W\d{5,}|rayyan-\d{5,}|E[DJ]\d{6,})$",
    re.IGNORECASE,
)
_NOT_ALNUM = re.compile(r"[\W_]+")
# ASCII bytes that are not a lower-case letter or a digit: deleted in one C call.
_ASCII_NOT_ALNUM = bytes(b for b in range(256) if not (97 <= b <= 122 or 48 <= b <= 57))
_OPENALEX_URL = re.compile(r"^https?://openalex\.org/(W\d+)$", re.IGNORECASE)


def canonical_source(source: str) -> str:
    """The id prefix and PRISMA name of a source: trimmed, lower case, no spaces.

    ``"PubMed"`` and ``"pubmed"`` are one source, as are ``"Web of Science"`` and
    ``"web-of-science"``; an export of a searched source (PubMed, ClinicalTrials.gov) gets
    the search's name, so one PMID or NCT id is one record.
    """
    if not isinstance(source, str) or not source.strip():
        raise ValueError("source must be a non-empty string, e.g. 'embase'")
    name = "-".join(source.strip().lower().split())
    return _SEARCHED_SOURCES.get(name, name)


def trusted_accession(values: Iterable[str | None]) -> str | None:
    """The first value shaped like a database's own unique accession number."""
    for value in values:
        if not value:
            continue
        value = value.strip()
        url = _OPENALEX_URL.match(value) if "://" in value else None
        if url:
            return url.group(1)
        if _ACCESSION.match(value):
            return value
    return None


def record_id(
    source: str,
    pmid: str | None,
    accession: str | None,
    title: str,
    year: int | None,
    authors: Iterable[str],
    details: Iterable[str | None] = (),
) -> str:
    """``<source>:<PMID | accession | content hash>`` (see the module docstring).

    ``details`` (DOI, journal, volume, first page) go into the hash too, so that two
    different records with a generic title ("Erratum", "Correction") keep apart.
    """
    if pmid:
        return f"{source}:{pmid}"
    if accession:
        return f"{source}:{accession}"
    return f"{source}:{content_hash(title, year, tuple(authors), tuple(details))}"


def content_hash(
    title: str, year: int | None, authors: tuple[str, ...], details: tuple[str | None, ...] = ()
) -> str:
    """Short content hash that survives re-exports (case, accents, punctuation, spacing)."""
    first_family = authors[0].split()[0] if authors and authors[0] else ""
    parts = [_normalise(title), str(year or ""), _normalise(first_family)]
    parts += [_normalise(detail) for detail in details if detail]
    return "sha1-" + hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:16]


def _normalise(text: str) -> str:
    """Case-folded letters and digits only, accents removed (NFKD, then marks dropped)."""
    if text.isascii():  # most titles: bytes.translate is ten times faster than re.sub
        return text.lower().encode("ascii").translate(None, _ASCII_NOT_ALNUM).decode("ascii")
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKD", text.casefold()))


def number_repeats(records: list[Record]) -> list[Record]:
    """Give the 2nd, 3rd... record with an id already used in the file ``<id>~2``, ``~3``."""
    seen: dict[str, int] = {}
    out = []
    for record in records:
        count = seen.get(record.record_id, 0) + 1
        seen[record.record_id] = count
        if count > 1:
            record = dataclasses.replace(
                record, record_id=f"{record.record_id}{REPEAT_SEPARATOR}{count}"
            )
        out.append(record)
    return out
