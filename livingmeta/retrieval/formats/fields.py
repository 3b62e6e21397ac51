"""Field helpers every bibliographic format shares: cleaning, authors, dates, identifiers.

Each reader (RIS, EndNote XML, CSV tables, ...) maps its own field names onto
:class:`Bibliographic`, and :func:`to_record` turns that into a :class:`Record` the same way
for all of them, so a DOI, a PMID or a trial registration is recognised identically
whatever the export.
"""

from __future__ import annotations

import gc
import html
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any
from urllib.parse import unquote

from livingmeta.retrieval.formats.errors import require_title_or_id
from livingmeta.retrieval.formats.identity import record_id
from livingmeta.retrieval.records import NCT_PATTERN, Record, nct_ids_in_text, normalise_doi

# Inline markup that publishers and databases leave in titles and abstracts (HTML, JATS,
# MathML): removed, keeping the text inside. Other "<...>" (e.g. "<5 mg") is text.
_MARKUP = re.compile(
    r"</?(?:i|b|u|em|strong|sup|sub|scp|sc|small|span|font|p|br|div|a|inf|italic|bold|"
    r"underline|monospace|roman|sans-serif|named-content|styled-content|ext-link|xref|"
    r"inline-formula|tex-math|mml:[a-z]+|math|mi|mo|mn|mrow|msub|msup|mtext|mfrac)"
    r"(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_RETRACTED_TITLE = re.compile(r"^\W*retracted(?:\s+article)?\W*[:.\]]", re.IGNORECASE)
_PMID_LABELLED = re.compile(
    r"\b(?:PMID|PUBMED(?:\s*ID)?|MEDLINE)\b\s*[:#=]?\s*(\d{1,9})\b", re.IGNORECASE
)
_PMID_SUFFIXED = re.compile(r"\b(\d{1,9})\s*\[PMID\]", re.IGNORECASE)
_PUBMED_URL = re.compile(
    r"(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/|[?&]list_uids=)(\d{1,9})\b"
)
# Ovid links name the database (D=medl, D=prem, D=mesx...) and its accession number.
_OVID_DATABASE = re.compile(r"[?&]D=([a-z]+)", re.IGNORECASE)
_OVID_ACCESSION = re.compile(r"[?&]AN=(\d{1,9})(?![\d-])")
_OVID_MEDLINE = re.compile(r"^(?:med|mes|prem|pmnm)", re.IGNORECASE)
_DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.IGNORECASE)
_DOI_IN_URL = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>&?#]+)", re.IGNORECASE)
_PMCID = re.compile(r"\bPMC\d{4,9}\b")
_DATE = re.compile(r"(1[5-9]\d\d|20\d\d)(?:[/-](\d{1,2})?(?:[/-](\d{1,2})?)?)?")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_MONTH_NAME = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.I)

# Trial registry identifiers seen in export fields: registry name -> pattern (the match,
# or its group 1 when there is one, is the id).
_REGISTRY_NAMES = (
    "ISRCTN", "EudraCT", "ANZCTR", "ChiCTR", "DRKS", "CTRI", "UMIN CTR", "NTR", "PACTR", "IRCT",
)  # fmt: skip
# One pattern with a group per registry (group k+1 is _REGISTRY_NAMES[k]): one scan.
_REGISTRY_IDS = re.compile(
    "|".join(
        f"({pattern})"
        for pattern in (
            r"\bISRCTN\d{8}\b",
            r"\b\d{4}-\d{6}-\d{2}\b",
            r"\bACTRN\d{14}\b",
            r"\bChiCTR[-A-Z0-9]{6,}\b",
            r"\bDRKS\d{8}\b",
            r"\bCTRI/\d{4}/\d{2,3}/\d{6}\b",
            r"\bUMIN\d{9}\b",
            r"\bNTR\d{3,5}\b",
            r"\bPACTR\d{15}\b",
            r"\bIRCT\d{8,}N\d+\b",
        )
    ),
    re.IGNORECASE,
)
# Every id above except EudraCT's (which has "-") contains one of these, upper-cased:
# ISRCTN/IRCT "RCT", ACTRN/ChiCTR/CTRI/PACTR "CTR", NTR, DRKS, UMIN, and NCT.
_REGISTRY_PARTS = ("NCT", "RCT", "CTR", "NTR", "DRKS", "UMIN")
# Phrases that name a registry or registration, in lower-cased text. Each starts with a
# literal, which the regex engine finds fast; those marked need a word boundary before.
_REGISTRY_LABELS = tuple(
    (re.compile(pattern), boundary)
    for pattern, boundary in (
        (r"clinicaltrials\.gov", False),
        (r"ct\.gov\b", True),
        (r"ctg\b", True),
        (r"trial\s*regist", False),
        (r"regist(?:ry|ration|ered)", False),
        (r"nct\s*(?:number|id|no)", True),
        (r"trial\s*(?:id|number)", True),
    )
)
_ONLY_IDS = re.compile(r"^[\s,;:/A-Z0-9-]*$", re.IGNORECASE)
_SPACED_INITIALS = re.compile(r"^(\S.*?) ([A-Z](?: [A-Z])+)$")
# Embase and Ovid write "Eloubeidi M.A.", "Khoury T.", "de Hoon J.-P.".
_DOTTED_INITIALS = re.compile(r"^(\S.*?) ((?:[A-Z]\.-? ?){1,4})$")
# Record types of other formats (EndNote, BibTeX, WoS, tables) -> RIS type, first match.
_RIS_TYPES = (
    (("conference", "proceeding", "meeting abstract", "congress", "cpaper"), "CONF"),
    (("chapter", "inbook", "incollection", "book section", "book, section"), "CHAP"),
    (("thesis", "dissertation"), "THES"),
    (("book",), "BOOK"),
    (("journal", "article", "review", "letter", "editorial"), "JOUR"),
)
# Authors and dates recur across the records of an export (consortia, prolific groups,
# "2011/04//"): each is parsed once. Cleared when full, to bound memory.
_AUTHOR_CACHE: dict[str, str] = {}
_DATE_CACHE: dict[str, str | None] = {}
_CACHE_SIZE = 100_000


@dataclass
class Bibliographic:
    """What a bibliographic export says about one record, in the exporter's own words.

    ``dates`` are in order of trust (publication year field first); ``pmid_texts`` and
    ``registry_texts`` are fields that may hold a labelled PMID or a trial registration;
    ``links`` are URLs. :func:`to_record` interprets them.
    """

    title: str = ""
    abstracts: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    journal: str | None = None
    pmid: str | None = None
    pmid_texts: list[str] = field(default_factory=list)
    doi_texts: list[str] = field(default_factory=list)
    pmcid_texts: list[str] = field(default_factory=list)
    registry_texts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    publication_types: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RawRecord:
    """One record of a tagged format (RIS, MEDLINE, WoS): ``tag -> [values]``, and where."""

    number: int
    line: int
    fields: dict[str, list[str]] = field(default_factory=dict)

    def first(self, *tags: str) -> str | None:
        """First non-empty value among ``tags`` (in the order given)."""
        for tag in tags:
            for value in self.fields.get(tag, ()):
                if value:
                    return value
        return None

    def all(self, *tags: str) -> list[str]:
        """Every non-empty value of ``tags``."""
        return [v for tag in tags for v in self.fields.get(tag, ()) if v]

    def title(self, name: str, title_tags: tuple[str, ...], id_tags: tuple[str, ...]) -> str:
        """The first of ``title_tags``; refuses (naming ``name``, the record and its line) a
        record with neither a title nor any of ``id_tags``: it could not be screened."""
        title = self.first(*title_tags) or ""
        ids = (title, *(self.first(tag) for tag in id_tags))
        require_title_or_id(name, ids, record=self.number, line=self.line)
        return title


def to_record(bib: Bibliographic, source: str, accession: str | None = None) -> Record:
    """A :class:`Record` from what an export said, with its id (see ``identity``).

    ``accession`` is the database's own record number when it is unique in that database
    (:func:`~livingmeta.retrieval.formats.identity.trusted_accession`).
    """
    title = strip_markup(bib.title)
    abstracts = bib.abstracts
    if len(abstracts) == 1:  # the usual case: no need to drop repeats
        abstract = strip_markup(abstracts[0])
    else:
        abstract = "\n".join(unique(strip_markup(a) for a in abstracts))
    pub_date, year = best_date(bib.dates)
    nct_ids, other_ids = registry_ids(bib.registry_texts)
    pub_types = unique(bib.publication_types)
    authors = format_authors(bib.authors)
    pmid = bib.pmid or find_pmid(bib.pmid_texts, bib.links)
    doi = find_doi(bib.doi_texts)
    journal = strip_markup(bib.journal) or None
    extra = dict(filter(itemgetter(1), bib.extra.items()))  # the filled ones
    details = (doi, journal, extra.get("volume"), _first_page(extra.get("pages")))
    if "ris_type" not in extra and (kind := ris_type(pub_types)):
        extra["ris_type"] = kind
    return Record(
        record_id=record_id(source, pmid, accession, title, year, authors, details),
        source=source,
        title=title,
        abstract=abstract,
        year=year,
        pub_date=pub_date,
        journal=journal,
        authors=authors,
        pmid=pmid,
        doi=doi,
        pmcid=find_pmcid([*bib.pmcid_texts, *bib.links]),
        nct_ids=nct_ids,
        nct_ids_in_text=nct_ids_in_text((title, abstract), nct_ids),
        other_ids=other_ids,
        publication_types=pub_types,
        retracted=_is_retracted(title, pub_types),
        extra=extra,
    )


def _is_retracted(title: str, publication_types: tuple[str, ...]) -> bool:
    if publication_types and "retracted publication" in "\n".join(publication_types).lower():
        return True
    return bool(_RETRACTED_TITLE.match(title))


def _first_page(pages: Any) -> str | None:
    return str(pages).split("-", 1)[0] if pages else None


def ris_type(publication_types: Iterable[str]) -> str | None:
    """The RIS type (``JOUR``, ``CONF``...) a non-RIS export's record type corresponds to.

    Deduplication tells a conference abstract from its later article by it, whatever the
    format the record came in.
    """
    text = " ".join(publication_types).lower()
    for words, code in _RIS_TYPES:
        if any(word in text for word in words):
            return code
    return None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a parser builds many small objects.

    Records hold no reference cycles, yet every few hundred allocations the collector
    scans all of them again: about a third of the time of a large import. On the way out
    the objects go straight to the oldest generation (``gc.freeze`` then ``unfreeze``, two
    list splices); left young, they would all be scanned at the next allocation. The
    ``unfreeze`` also thaws what a caller froze on purpose (before a fork): nothing in
    livingmeta does, and such a caller should not import inside this context.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def clean(text: str | None) -> str:
    """Collapse runs of whitespace (wrapped lines) into single spaces."""
    return " ".join(text.split()) if text else ""


def unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """Non-empty values, first occurrence kept, order kept."""
    return tuple(dict.fromkeys(v for v in values if v))


def strip_markup(text: str | None) -> str:
    """Drop inline HTML/JATS/MathML tags and decode entities (``<scp>NLP</scp>`` -> NLP)."""
    if not text:
        return ""
    if "<" in text:
        text = _MARKUP.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    if text.isascii():
        plain = "  " not in text and "\n" not in text and "\t" not in text
    else:  # printable text has no whitespace but the ASCII space (str.isprintable)
        plain = "  " not in text and text.isprintable()
    return text.strip() if plain else clean(text)


def format_authors(names: Iterable[str]) -> tuple[str, ...]:
    """Every name through :func:`format_author`, the empty ones dropped."""
    names = list(names)
    formatted = list(map(_AUTHOR_CACHE.get, names))  # in C: most names were seen before
    if None in formatted:
        formatted = [
            f if f is not None else format_author(n) for f, n in zip(formatted, names, strict=True)
        ]
    return tuple(filter(None, formatted))


def format_author(name: str) -> str:
    """``"Smith, John R."`` -> ``"Smith JR"``; names without a comma are kept as given."""
    formatted = _AUTHOR_CACHE.get(name)
    if formatted is None:
        if len(_AUTHOR_CACHE) > _CACHE_SIZE:
            _AUTHOR_CACHE.clear()
        formatted = _AUTHOR_CACHE[name] = _format_author(name)
    return formatted


def _format_author(name: str) -> str:
    if "," not in name:
        return _spaced_initials(clean(name))
    family, _, given = name.partition(",")
    given = given.split(",", 1)[0]  # drop suffixes such as ", Jr."
    if given.strip().lower() == "null":  # Citavi's placeholder for a missing given name
        given = ""
    initials = "".join(
        part if part.isupper() and len(part) <= 3 else part[0].upper()  # "BJ" is two
        for part in given.replace(".", " ").replace("-", " ").split()
        if part[0].isalpha()
    )
    family = clean(family)
    return f"{family} {initials}" if initials else family


def _spaced_initials(name: str) -> str:
    """``"Brownstein C D"`` (EPPI-Reviewer) -> ``"Brownstein CD"`` and ``"Eloubeidi M.A."``
    (Embase) -> ``"Eloubeidi MA"``, as PubMed writes them; other names unchanged."""
    match = _SPACED_INITIALS.match(name) or _DOTTED_INITIALS.match(name)
    if match is None:
        return name
    return f"{match.group(1)} {re.sub(r'[ .-]', '', match.group(2))}"


def best_date(values: Iterable[str]) -> tuple[str | None, int | None]:
    """(ISO partial date, year) from date fields in order of trust.

    The year comes from the first field that has one: exporters put the publication year
    first and access or entry dates later, and those must never override it. The date is
    the most detailed value that agrees with that year (``2020/05/12/`` over ``2020``).
    """
    year: str | None = None
    best: str | None = None
    cache = _DATE_CACHE
    for value in values:
        iso = cache.get(value, "")
        if iso == "":
            if len(cache) > _CACHE_SIZE:
                cache.clear()
            iso = cache[value] = _iso_date(value)
        if iso is None:
            continue
        if year is None:
            year = iso[:4]
        if iso.startswith(year) and (best is None or len(iso) > len(best)):
            best = iso
    return best, None if year is None else int(year)


def _iso_date(value: str) -> str | None:
    if len(value) == 4 and value.isdigit():  # the usual PY: a bare year
        return value if "1500" <= value < "2100" else None
    match = _DATE.search(value)
    if not match:
        return None
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if month is None and match.end() == match.start() + 4:
        named = _MONTH_NAME.search(value)
        month = _MONTHS[named.group(1).lower()] if named else None
    if month is not None and not 1 <= month <= 12:
        month = day = None
    if day is not None and not 1 <= day <= 31:
        day = None
    return (
        f"{year:04d}"
        + (f"-{month:02d}" if month else "")
        + (f"-{day:02d}" if month and day else "")
    )


def first_match(pattern: re.Pattern[str], values: Iterable[str]) -> str | None:
    """Group 1 (or the whole match) of the first value ``pattern`` finds something in."""
    for value in values:
        match = pattern.search(value)
        if match:
            return match.group(match.lastindex or 0)
    return None


def find_pmid(texts: Iterable[str], links: Iterable[str] = ()) -> str | None:
    """A PMID labelled as one (``PMID: 123``, ``PUBMED 123``, ``123 [PMID]``) or in a link.

    A bare number is not trusted: databases number their own records too.
    """
    joined = "\n".join(texts)
    lower = joined.lower()
    found = None
    if "pmid" in lower:
        found = first_match(_PMID_SUFFIXED, [joined])
    if not found and ("pmid" in lower or "pubmed" in lower or "medline" in lower):
        found = first_match(_PMID_LABELLED, [joined])
    if not found:
        url = "\n".join(links)
        if "pubmed" in url or "list_uids" in url:
            found = first_match(_PUBMED_URL, [url])
        if not found and "AN=" in url:
            found = ovid_medline_pmid(url.split("\n"))
    return (found.lstrip("0") or None) if found else None


def find_pmcid(texts: Iterable[str]) -> str | None:
    """A PMCID (``PMC1234567``, also as ``PMC1234567 [PMCID]``)."""
    joined = "\n".join(texts)
    return first_match(_PMCID, [joined]) if "PMC" in joined else None


def ovid_medline_pmid(links: Iterable[str]) -> str | None:
    """The accession number of an Ovid MEDLINE link (``D=medl...&AN=39012781``): a PMID."""
    for link in links:
        database = _OVID_DATABASE.search(link)
        accession = _OVID_ACCESSION.search(link)
        if database and accession and _OVID_MEDLINE.match(database.group(1)):
            return accession.group(1)
    return None


def find_doi(values: Iterable[str]) -> str | None:
    """The first DOI in the values: a whole field, ``doi:``/resolver-prefixed, in a URL.

    A field that is one DOI is taken whole (old SICI DOIs contain ``<``, ``>`` and ``;``);
    inside a URL the DOI ends at the next query parameter.
    """
    for value in values:
        if "10." not in value:
            continue
        whole = normalise_doi(value) if " " not in value else None
        if whole and "://" not in whole:
            return whole
        in_url = "://" in value
        text = unquote(value) if in_url else value
        match = (_DOI_IN_URL if in_url else _DOI_IN_TEXT).search(text)
        doi = normalise_doi(match.group(1)) if match else None
        if doi:
            return doi
    return None


def _is_labelled(lower: str) -> bool:
    """Whether a field (lower case) names a registry or registration ("trial
    registration: ...")."""
    for pattern, boundary in _REGISTRY_LABELS:
        for match in pattern.finditer(lower):
            start = match.start()
            if not boundary or start == 0 or not lower[start - 1].isalnum():
                return True
    return False


def registry_ids(values: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(NCT ids, other registry ids) from fields that are clearly about registration.

    A field counts when it names a registry or registration ("ClinicalTrials.gov:
    NCT01234567", "Trial registration: ISRCTN12345678") or holds nothing but identifiers
    ("NCT01234567"). An id merely mentioned in a free-text note is not trusted as the
    record's own registration.
    """
    values = [v for v in values if v]
    if not values:
        return (), ()
    # Lower-cased once: a Scopus note (N1) can hold a whole reference list.
    lowered = [v.lower() for v in values]
    joined = "\n".join(lowered)
    labelled = (  # every registry label contains one of these (see _REGISTRY_LABELS)
        "trial" in joined
        or "regist" in joined
        or "nct" in joined
        or "ctg" in joined
        or "ct.gov" in joined
    )
    if not labelled:
        # No field names a registry: only fields holding nothing but identifiers count
        # (no registry number is digits alone or shorter than six characters).
        values = [v for v in values if len(v) >= 6 and not v.isdigit() and _ONLY_IDS.match(v)]
        if not values:
            return (), ()
        lowered = [v.lower() for v in values]
    nct: list[str] = []
    other: list[tuple[int, str]] = []
    for value, lower in zip(values, lowered, strict=True):
        if labelled and not (_is_labelled(lower) or _ONLY_IDS.match(value)):
            continue
        upper = value.upper()
        if "-" not in value and not any(part in upper for part in _REGISTRY_PARTS):
            continue  # no registry id can be in it: skip the slow scan
        nct.extend(NCT_PATTERN.findall(upper))
        other.extend((m.lastindex or 0, m.group(0)) for m in _REGISTRY_IDS.finditer(value))
    other.sort(key=lambda found: found[0])  # registry by registry, as they are listed
    return unique(nct), unique(f"{_REGISTRY_NAMES[k - 1]}:{id_}" for k, id_ in other)
