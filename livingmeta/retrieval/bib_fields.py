"""Bibliographic fields normalised for matching: title, venue, volume, pages, authors.

Why: two exports of one article differ in case, punctuation, journal abbreviation
(``Ann.New York Acad.Sci.`` vs ``Annals of the New York Academy of Sciences``), page style
(``1006-16`` vs ``1006-1016``), author form (``van Kessel M`` vs ``Kessel ME``) and database
annotations in the title (``[Review] [33 refs]``, ``[Erratum appears in ...]``,
``(Structured abstract)``). Matching rules (:mod:`livingmeta.retrieval.pair_rules`) compare
these normalised fields, so each comparison here answers only "agree", "conflict" or
"unknown" and never guesses when a field is missing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from livingmeta.retrieval.records import Record
from livingmeta.retrieval.title_match import MIN_TITLE_CHARS, normalise_title

# Database annotations appended to titles: MEDLINE/Ovid "[Review] [33 refs]", "[Erratum
# appears in ...]" (sometimes cut before its closing bracket), "[Chinese]"; DARE's
# "(Structured abstract)" / "(Provisional abstract)" / "(Brief record)".
_TRAILING_BRACKET = re.compile(r"\s*\.?\s*\[[^\[\]]*\]?\s*\.?\s*$")
_DARE_LABEL = re.compile(
    r"\s*\((?:structured abstract|provisional abstract|brief record)\)\s*\.?\s*$",
    re.IGNORECASE,
)
# Titles of notices about an article: a notice is never the same record as the article.
_NOTICE = re.compile(
    r"^\W*(?:erratum|errata|corrigendum|corrigenda|correction|retraction|retracted|"
    r"withdrawn|expression of concern|comment on|comments on|reply|response to|"
    r"author reply|in reply)\b",
    re.IGNORECASE,
)
# Web of Science names a correction after the article it corrects: "Title (vol 142, pg 310,
# 2003)".
_CORRECTION_OF = re.compile(r"\(vol\.? \d+,? pg\.? \d+", re.IGNORECASE)
_REPLY = re.compile(r"(?:\s-|[:.(])\s*(?:authors?'?s? )?(?:reply|response)\W*$", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
# An electronic article number (PLOS "e12724", BMJ "c1804"): one number with a letter
# prefix. Supplement pages ("S99") are print pages and are not electronic numbers.
_ELOCATOR = re.compile(r"^\s*[A-RT-Za-rt-z]\d+\s*$")
_TRANSLATED_VENUE = re.compile(r"\[([^\]]{4,})\]")
#: Bracketed labels of the medium after a journal name, which name no journal.
_FORMAT_LABELS = frozenset(
    {"electronic resource", "electronic", "internet", "online", "print", "computer file"}
)
_VENUE_SEGMENT = re.compile(r"\s*[:/=(]\s*|\.\s*(?=[A-Z])")
# Words that journal abbreviations drop (ISO 4 omits articles, prepositions, conjunctions).
_VENUE_STOP = frozenset(
    {"the", "of", "and", "in", "for", "on", "a", "an", "de", "la", "le", "du", "des", "et"}
)
# RIS types of conference papers, and words that name a conference rather than a journal.
_CONFERENCE_TYPES = frozenset({"CONF", "CPAPER"})
_CONFERENCE_WORDS = frozenset(
    {"conference", "proceedings", "congress", "symposium", "meeting", "workshop"}
)
_NAME_PARTICLES = frozenset({"van", "von", "der", "den", "de", "del", "da", "di", "le", "la"})
_INITIALS = re.compile(r"^[A-Z][A-Z.\-]{0,5}$")

#: How many leading authors are compared. Exports truncate author lists differently
#: (Embase and EndNote often keep only the first few), so later authors prove nothing.
AUTHORS_COMPARED = 5


@dataclass(frozen=True)
class BibFields:
    """The parts of a record that matching compares, normalised once."""

    title: str
    numbers: tuple[str, ...]
    is_notice: bool
    year: int | None
    venue: tuple[str, ...]
    venue_head: tuple[str, ...]
    proceedings: bool
    volume: str | None
    pages: tuple[str, ...]
    first_page: str | None
    elocator: bool
    authors: frozenset[str]
    author_initials: frozenset[str]


class FieldTable(Sequence[BibFields]):
    """The :class:`BibFields` of a list of records, each built on first use.

    Why lazy: every record needs its title key for blocking, but only the records that
    meet a candidate need their venue, pages and authors normalised.
    """

    def __init__(self, records: Sequence[Record]) -> None:
        self._records = records
        self._built: dict[int, BibFields] = {}
        self.titles = [title_key(r.title or "") for r in records]

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> BibFields:  # type: ignore[override]
        fields = self._built.get(index)
        if fields is None:
            fields = bib_fields(self._records[index], self.titles[index])
            self._built[index] = fields
        return fields

    def citation_keys(self) -> dict[int, tuple[str, str]]:
        """(volume, first page) of every record that has both, for citation blocking."""
        keys = {}
        for k, record in enumerate(self._records):
            extra = record.extra
            if extra and extra.get("volume") and extra.get("pages") and self.titles[k]:
                volume, first = _leading_number(extra["volume"]), first_page(extra["pages"])
                if volume is not None and first is not None:
                    keys[k] = (volume, first)
        return keys


def is_notice(title: str) -> bool:
    """Whether a title is that of a notice about an article (erratum, reply, retraction)."""
    return bool(_NOTICE.match(title) or _REPLY.search(title) or _CORRECTION_OF.search(title))


def title_key(title: str) -> str:
    """The title as matching compares it: annotations stripped, then normalised."""
    return normalise_title(strip_title_annotations(title))


def bib_fields(record: Record, title: str | None = None) -> BibFields:
    """Normalise the fields of ``record`` that :mod:`pair_rules` compares.

    ``title`` is the record's :func:`title_key` when the caller already has it.
    """
    key = title_key(record.title or "") if title is None else title
    extra = record.extra or {}
    venue, venue_head, conference_name = _venue_parts(record.journal or "")
    families, initials = _author_parts(tuple(record.authors))
    ris_type = extra.get("ris_type")
    return BibFields(
        title=key,
        numbers=tuple(_DIGITS.findall(key)),
        is_notice=is_notice(record.title or ""),
        year=record.year,
        venue=venue,
        venue_head=venue_head,
        proceedings=conference_name
        or (isinstance(ris_type, str) and ris_type.strip().upper() in _CONFERENCE_TYPES),
        volume=_leading_number(extra.get("volume")),
        pages=page_numbers(extra.get("pages")),
        first_page=first_page(extra.get("pages")),
        elocator=bool(_ELOCATOR.match(str(extra.get("pages") or ""))),
        authors=families,
        author_initials=initials,
    )


# Copies of one article share their journal and authors, and a registry holds many records
# of each journal: normalising each distinct value once keeps large registries fast.
@lru_cache(maxsize=1 << 16)
def _venue_parts(journal: str) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """Words of the whole name, of its head (the part before a subtitle, or the English
    name MEDLINE gives in brackets after a transliterated one: "Xianggang yi xue za zhi
    [Hong Kong medical journal]"), and whether it names a conference."""
    translated = _TRANSLATED_VENUE.search(journal)
    if translated and normalise_title(translated[1]) in _FORMAT_LABELS:
        translated = None  # "Trials [Electronic Resource]" (Ovid): a format, not a name
    head_text = translated[1] if translated else _VENUE_SEGMENT.split(journal, maxsplit=1)[0]
    head = _venue_tokens(head_text)
    conference = not _CONFERENCE_WORDS.isdisjoint(normalise_title(journal).split())
    return _venue_tokens(journal), head, conference


@lru_cache(maxsize=1 << 16)
def _author_parts(authors: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    return author_families(authors), author_initials(authors)


def strip_title_annotations(title: str) -> str:
    """Remove trailing database annotations, keeping a title that is wholly bracketed.

    ``"Management of cervical lesions. [Review] [43 refs]"`` -> ``"Management of cervical
    lesions"``. What is left must still be a title (:data:`MIN_TITLE_CHARS`), so a
    translated title such as ``"[The use of cereton in stroke]"`` is kept whole.
    """
    text = title.strip()
    if not text.endswith(("]", ")", "].", ").")) and "[" not in text:
        return text
    while True:
        cut = _DARE_LABEL.sub("", text)
        cut = _TRAILING_BRACKET.sub("", cut)
        if cut == text or len(normalise_title(cut)) < MIN_TITLE_CHARS:
            return text
        text = cut


def first_page(pages: object) -> str | None:
    """The first page number of a page range (``"S99-S102"`` -> ``"99"``), if it has one."""
    if not isinstance(pages, str):
        return None
    match = _DIGITS.search(pages.partition("-")[0])
    return (match[0].lstrip("0") or "0") if match else None


def page_numbers(pages: object) -> tuple[str, ...]:
    """The first and last page as digit strings, an abbreviated last page expanded.

    ``"1006-16"`` -> ``("1006", "1016")``; ``"S99"`` -> ``("99",)``; ``"Suppl-48"`` ->
    ``("48",)``. Only digits are kept because prefixes (``S``, ``e``, ``L``) are spelled
    differently by different databases.
    """
    if not isinstance(pages, str) or not pages.strip():
        return ()
    first, _, last = pages.partition("-")
    start = _DIGITS.findall(first)
    end = _DIGITS.findall(last)
    numbers = []
    if start:
        numbers.append(start[0].lstrip("0") or "0")
    if end:
        tail = end[-1].lstrip("0") or "0"
        if start and len(tail) < len(numbers[0]):
            tail = numbers[0][: len(numbers[0]) - len(tail)] + tail
        if tail not in numbers:
            numbers.append(tail)
    return tuple(numbers)


def author_families(authors: Sequence[str]) -> frozenset[str]:
    """Family-name words of the first :data:`AUTHORS_COMPARED` authors.

    ``"van Kessel M"`` -> ``{"kessel"}``: initials and name particles are dropped, because
    databases disagree on both (``"De Joode EA"`` vs ``"Joode EA"``).
    """
    words: set[str] = set()
    for author in authors[:AUTHORS_COMPARED]:
        parts = author.split()
        if len(parts) > 1 and _INITIALS.match(parts[-1]):
            parts = parts[:-1]
        for word in normalise_title(" ".join(parts)).split():
            if len(word) >= 2 and word not in _NAME_PARTICLES:
                words.add(word)
    return frozenset(words)


def author_initials(authors: Sequence[str]) -> frozenset[str]:
    """The initial letters of every name part of each leading author, order ignored.

    ``"Wu CY"`` and ``"Ching-yi W"`` (one person, family and given names swapped by one
    database) both give ``"cwy"``; the family words of the two share nothing.
    """
    signatures = set()
    for author in authors[:AUTHORS_COMPARED]:
        letters = []
        for part in re.split(r"[\s\-]+", author.strip()):
            if _INITIALS.match(part) and part.isupper():
                letters.extend(ch for ch in part if ch.isalpha())
            elif part:
                letters.append(part[0])
        signature = "".join(sorted(normalise_title("".join(letters)).replace(" ", "")))
        if signature:
            signatures.add(signature)
    return frozenset(signatures)


def venues_compatible(a: BibFields, b: BibFields) -> bool | None:
    """Whether two venues can name the same journal; ``None`` if either is unknown.

    Compatible when one name's words are, in order, prefixes of the other's words (an
    ISO 4 abbreviation or a name with an added leading acronym), either for the whole name
    or for its part before a subtitle (``"CMAJ : Canadian Medical Association journal"``),
    or when a one-word name is the initials of the other (``JAMA``, ``BMJ``, ``PNAS``).
    """
    if not a.venue or not b.venue:
        return None
    if a.proceedings and b.proceedings and a.year is not None and a.year == b.year:
        # One conference goes by many names ("AMCIS 2017 Proceedings", "Americas
        # Conference on Information Systems"); within one year the names prove nothing.
        return None
    if _initialism(a.venue_head, b.venue) or _initialism(b.venue_head, a.venue):
        return True
    for x, y in ((a.venue, b.venue), (a.venue_head, b.venue_head), (a.venue_head, b.venue)):
        if x and y and (_abbreviates(x, y) or _abbreviates(y, x)):
            return True
    return _abbreviates(a.venue, b.venue_head) or _abbreviates(b.venue, a.venue_head)


def pages_agree(a: BibFields, b: BibFields) -> bool | None:
    """Whether two records start on the same page; ``None`` if that cannot be told.

    The same first page agrees. Ranges that only share some number (a letter ending on
    the page where its reply starts, ``"943-945"`` vs ``"945"``; a damaged range whose
    number ends the other's, ``"t-8"`` vs ``"2665-2668"``) prove nothing either way. An
    electronic article number against print pages (``"e12724"`` vs ``"1-6"``) is two
    numbering systems for one article, so it says nothing either.
    """
    if not a.pages or not b.pages:
        return None
    if a.first_page is not None and a.first_page == b.first_page:
        return True
    if any(x == y or x.endswith(y) or y.endswith(x) for x in a.pages for y in b.pages):
        return None
    return None if a.elocator != b.elocator else False


def volumes_agree(a: BibFields, b: BibFields) -> bool | None:
    """Whether volume numbers are equal (``None`` if either is unknown)."""
    if a.volume is None or b.volume is None:
        return None
    return a.volume == b.volume


def authors_agree(a: BibFields, b: BibFields) -> bool | None:
    """Whether the leading authors share a person (``None`` if either has no authors).

    A person is shared when a family word is, or when one author's initials are (the
    same name written family-first by one database and given-first by another).
    """
    if not a.authors or not b.authors:
        return None
    return bool(a.authors & b.authors or a.author_initials & b.author_initials)


def _venue_tokens(name: str) -> tuple[str, ...]:
    text = normalise_title(name.replace("&", " and "))
    return tuple(t for t in text.split() if t not in _VENUE_STOP)


def _abbreviates(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """Each word of ``short`` abbreviates, in order, a word of ``full`` (gaps allowed), the
    first word the first word: an abbreviation keeps the name's head, so "Stroke" is not
    "Topics in Stroke Rehabilitation". A leading acronym of the rest of ``full``
    ("CMAJ Canadian Medical Association Journal") may be skipped."""
    if not short or len(short) > len(full):
        return False
    if not _abbreviates_word(short[0], full[0]):
        if not _initialism(full[:1], full[1:]):
            return False
        full = full[1:]
    k = 0
    for word in short:
        while k < len(full) and not _abbreviates_word(word, full[k]):
            k += 1
        if k == len(full):
            return False
        k += 1
    return True


def _abbreviates_word(short: str, word: str) -> bool:
    """ISO 4 style: same first letter, then the short form's letters in order (``natl``)."""
    if short[0] != word[0] or len(short) > len(word):
        return False
    rest = iter(word[1:])
    return all(ch in rest for ch in short[1:])


def _initialism(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    return len(short) == 1 and len(full) > 1 and short[0] == "".join(w[0] for w in full)


def _leading_number(value: object) -> str | None:
    if value is None:
        return None
    match = _DIGITS.search(str(value))
    return (match[0].lstrip("0") or "0") if match else None
