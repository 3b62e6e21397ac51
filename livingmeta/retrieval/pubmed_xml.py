"""Streaming parser for PubMed EFetch XML (``PubmedArticleSet``) into :class:`Record`.

Why a hand-written lxml parser instead of ``Bio.Entrez.read``:

* ``Entrez.read`` needs the exact DTD named in the DOCTYPE and tries to download it when it
  is missing, so every new NCBI DTD breaks offline runs (API_NOTES section 1.6). This parser
  needs no DTD at all.
* ``Entrez.read`` builds the whole response in memory and is slow (~425 records/s). Here
  ``lxml.etree.iterparse`` hands over one ``PubmedArticle`` at a time and each one is cleared
  once converted, so memory stays bounded whatever the file size.
* ``Entrez.read`` keeps inline markup (``<i>``, ``<sup>``) as literal tags, and a naive
  ElementTree ``.text`` silently cuts a title or abstract at its first inline element;
  ``itertext`` gives the full text.

The parser is strict: malformed or truncated XML, an NCBI ``<ERROR>`` body, or a document
that is not a ``PubmedArticleSet`` raise :class:`PubmedParseError`, because returning fewer
records than NCBI sent would make a living review silently miss studies.
"""

from __future__ import annotations

import calendar
import gzip
import io
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from lxml import etree

from livingmeta.retrieval.records import NCT_PATTERN, Record, normalise_doi

__all__ = [
    "SKIPPED_ELEMENTS",
    "TRIAL_REGISTRIES",
    "PubmedParseError",
    "iter_pubmed_records",
    "parse_medline_date",
    "parse_pubmed_xml",
]

PubmedSource = str | os.PathLike[str] | bytes | BinaryIO

_ARTICLE_TAGS = ("PubmedArticle", "PubmedBookArticle")
_ERROR_TAG = "ERROR"
_ROOT_TAG = "PubmedArticleSet"

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_YEAR_RE = re.compile(r"\b(1[5-9]\d\d|2\d\d\d)\b")
# "1998 Dec-1999 Jan", "2000 Jan-Feb", "2001 Dec 23-30", "2000 Spring", "1999-2000".
_MEDLINE_DATE_RE = re.compile(
    r"^\s*(?P<year>\d{4})(?:\s+(?P<month>[A-Za-z]+|\d{1,2})\b(?:\s+(?P<day>\d{1,2})\b)?)?"
)

# Trial registries among the DataBankList sources NLM curates ("MEDLINE Databank Sources"),
# lower-cased; the other databanks (GenBank, PDB, GEO, figshare, ...) are data deposits,
# not registrations, and go to ``extra["databanks"]``.
TRIAL_REGISTRIES = frozenset(
    name.lower()
    for name in (
        "ANZCTR",
        "ChiCTR",
        "CRiS",
        "CTIS",
        "CTRI",
        "DRKS",
        "EudraCT",
        "IRCT",
        "ISRCTN",
        "ITMCTR",
        "JapicCTI",
        "JMACCT",
        "JPRN",
        "jRCT",
        "LBCTR",
        "NTR",
        "PACTR",
        "ReBec",
        "REPEC",
        "RPCEC",
        "SLCTR",
        "TCTR",
        "UMIN CTR",
    )
)
_CTGOV = "clinicaltrials.gov"
_NCT_PREFILTER = re.compile(r"NCT\d{8}")

# History dates to fall back on when PubDate has no year, best first.
_HISTORY_FALLBACK = ("ppublish", "epublish", "aheadofprint", "pubmed", "entrez")

_NOTICE_FIELDS = {
    "RetractionIn": "retraction_notices",
    "ErratumIn": "errata",
    "ExpressionOfConcernIn": "concerns",
}


class PubmedParseError(ValueError):
    """PubMed XML that cannot be trusted to be complete.

    Raised for malformed or truncated XML, an NCBI ``<ERROR>`` response, or a document that
    is not a ``PubmedArticleSet``. The message names the input and, where known, the line and
    column, so a failed fetch can be found and re-run rather than half-imported.

    Attributes
    ----------
    source_name : str
        File path, ``"<bytes>"`` or the stream's name.
    line, column : int or None
        Position reported by libxml2, when there is one.
    records_before : int
        How many records were parsed before the problem (they are not a complete result).
    """

    def __init__(
        self,
        message: str,
        *,
        source_name: str,
        line: int | None = None,
        column: int | None = None,
        records_before: int = 0,
    ) -> None:
        where = f" at line {line}" if line is not None else ""
        if line is not None and column is not None:
            where += f", column {column}"
        super().__init__(
            f"{source_name}: {message}{where} (after {records_before} complete records)"
        )
        self.source_name = source_name
        self.line = line
        self.column = column
        self.records_before = records_before


# --------------------------------------------------------------------------- public API


def iter_pubmed_records(
    source: PubmedSource,
    *,
    record_source: str = "pubmed",
    huge_tree: bool = False,
    skip_unused: bool = True,
) -> Iterator[Record]:
    """Yield one :class:`Record` per ``PubmedArticle`` / ``PubmedBookArticle``, streaming.

    Parameters
    ----------
    source
        A path (``str`` or path-like; ``.gz`` files are decompressed), the XML document as
        ``bytes``, or a binary file object. A ``str`` is always a path, never XML text, so a
        PMID-like string cannot be mistaken for a document.
    record_source
        Value for :attr:`Record.source` (the search or import that produced the file).
    huge_tree
        Lift libxml2's safety limits (10 MB text nodes, nesting depth). Off by default: no
        real PubMed record comes near them, and they bound what a hostile document can make
        the parser allocate. File size is not limited either way (the parse streams).
    skip_unused
        Drop the subtrees no Record field uses (``SKIPPED_ELEMENTS``, the cited-reference
        lists) as raw bytes before parsing: about 2x faster on current EFetch output. Turn
        it off to have every byte checked by libxml2.

    Yields
    ------
    Record
        Records in document order. Elements are cleared as soon as each record is built, so
        memory does not grow with the file.

    Raises
    ------
    PubmedParseError
        On malformed/truncated XML, an ``<ERROR>`` body, or a non-``PubmedArticleSet`` root.
        Records already yielded are not a complete result in that case.
    """
    name = _source_name(source)
    handle, close = _open_source(source)
    try:
        yield from _iter_records(handle, name, record_source, huge_tree, skip_unused)
    finally:
        if close:
            handle.close()


def parse_pubmed_xml(
    source: PubmedSource,
    *,
    record_source: str = "pubmed",
    huge_tree: bool = False,
    skip_unused: bool = True,
) -> list[Record]:
    """Parse a whole EFetch response into a list (all or nothing).

    Use this for one EFetch batch (a few hundred records); use :func:`iter_pubmed_records`
    for large files. Either every record is returned or :class:`PubmedParseError` is raised.
    """
    return list(
        iter_pubmed_records(
            source, record_source=record_source, huge_tree=huge_tree, skip_unused=skip_unused
        )
    )


def parse_medline_date(text: str | None) -> tuple[str | None, int | None]:
    """Turn a free-text MEDLINE date into ``(ISO partial date, year)``.

    Handles ``MedlineDate`` and the nbib ``DP`` field: ``"2012 Jul 12"``,
    ``"1998 Dec-1999 Jan"`` (start month: the issue began then), ``"2000 Jan-Feb"``,
    ``"2000 Spring"`` (year only: seasons are hemisphere-dependent) and ``"1999-2000"``
    (first year). Returns ``(None, None)`` if no year can be found.
    """
    if not text:
        return None, None
    match = _MEDLINE_DATE_RE.match(text)
    if match is None:
        found = _YEAR_RE.search(text)
        if found is None:
            return None, None
        year = int(found.group(1))
        return f"{year:04d}", year
    year = int(match.group("year"))
    month = _month_number(match.group("month"))
    if month is None:
        return f"{year:04d}", year
    day = _valid_day(match.group("day"))
    return _iso(year, month, day), year


class _RecordError(Exception):
    """A structurally impossible article; re-raised as PubmedParseError with the input name."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def _iter_records(
    handle: Any, name: str, record_source: str, huge_tree: bool, skip_unused: bool
) -> Iterator[Record]:
    """The streaming loop behind :func:`iter_pubmed_records` (``handle`` is binary)."""
    context = etree.iterparse(
        _SkippingReader(handle) if skip_unused else handle,
        events=("end",),
        tag=(*_ARTICLE_TAGS, _ERROR_TAG),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge_tree,
        remove_comments=True,
        remove_pis=True,
    )
    count = 0
    try:
        for _event, elem in context:
            if count == 0:
                _check_root(elem.getroottree().getroot(), name, count)
            if elem.tag == _ERROR_TAG:
                raise PubmedParseError(
                    f"NCBI returned an error: {_text(elem) or '(empty ERROR element)'}",
                    source_name=name,
                    line=elem.sourceline,
                    records_before=count,
                )
            try:
                record = _build_record(elem, record_source)
            except _RecordError as exc:
                raise PubmedParseError(
                    str(exc), source_name=name, line=exc.line, records_before=count
                ) from None
            _release(elem)
            count += 1
            yield record
        _check_root(context.root, name, count)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        raise PubmedParseError(
            f"malformed or truncated PubMed XML ({exc.msg})",
            source_name=name,
            line=line,
            column=column,
            records_before=count,
        ) from exc


# --------------------------------------------------------------------------- input handling


def _source_name(source: PubmedSource) -> str:
    if isinstance(source, bytes | bytearray | memoryview):
        return "<bytes>"
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return str(getattr(source, "name", "<stream>"))


def _open_source(source: PubmedSource) -> tuple[Any, bool]:
    """Return a binary handle and whether we own (must close) it."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source)), True
    if isinstance(source, str) and source.lstrip().startswith("<"):
        raise TypeError("a str is a path; pass XML text as bytes (e.g. text.encode())")
    if isinstance(source, io.TextIOBase):
        raise TypeError("open the XML file in binary mode ('rb'): libxml2 decodes it itself")
    if isinstance(source, str | os.PathLike):
        path = os.fspath(source)
        if path.endswith(".gz"):
            return gzip.open(path, "rb"), True
        return open(path, "rb"), True  # closed by iter_pubmed_records
    return source, False


def _check_root(root: Any, name: str, count: int) -> None:
    if root is None:
        raise PubmedParseError("empty document", source_name=name, records_before=count)
    if root.tag == _ERROR_TAG or root.tag == "eFetchResult":
        message = _text(root.find(".//ERROR")) if root.tag != _ERROR_TAG else _text(root)
        raise PubmedParseError(
            f"NCBI returned an error: {message or '(no message)'}",
            source_name=name,
            records_before=count,
        )
    if root.tag != _ROOT_TAG:
        raise PubmedParseError(
            f"expected a <{_ROOT_TAG}> document (EFetch db=pubmed retmode=xml), found <{root.tag}>",
            source_name=name,
            records_before=count,
        )


def _release(elem: Any) -> None:
    """Free a finished article and any earlier siblings so the tree does not grow."""
    elem.clear(keep_tail=True)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


# --------------------------------------------------------------------------- byte pre-filter

# Subtrees the parser never reads. ReferenceList alone is ~70% of the bytes of a modern
# EFetch response; building libxml2 nodes for it costs more than everything else. Smaller
# subtrees (MeshHeadingList ~3%, AffiliationInfo ~5%) are not worth it: scanning for them
# and the per-region bookkeeping cost more than letting libxml2 parse them.
SKIPPED_ELEMENTS = ("ReferenceList",)
_TAG_END = frozenset(b" \t\r\n/>")
_SLASH = ord("/")
_LT = ord("<")
_ROOT_START = b"<" + _ROOT_TAG.encode()


class _SkippingReader:
    """Binary reader that drops whole subtrees (``SKIPPED_ELEMENTS``) before libxml2 sees them.

    Why: libxml2 builds a node for every element, and the cited-reference lists are most of
    a current EFetch response. Cutting them out as raw bytes (``bytes.find`` runs at memory
    speed) roughly doubles throughput.

    Why it is safe: inside the root element of a well-formed document a literal
    ``<ReferenceList`` can only be markup, because text and attribute values must escape
    ``<``. Comments and CDATA sections are the exception, so the filter switches itself off
    for good at the first ``<!`` after the root start tag (NCBI output has none; processing
    instructions inside the root, which NCBI never emits either, are not looked for).
    Nesting and self-closing ``<ReferenceList/>`` are handled, chunk boundaries anywhere are
    handled, and skipped bytes are replaced by their newlines so libxml2's line numbers stay
    true. A document truncated inside a skipped subtree still ends early, so it is still
    reported as truncated; only malformed markup *inside* a skipped subtree goes unnoticed,
    and it holds nothing a Record uses.
    """

    def __init__(
        self, raw: Any, tags: Iterable[str] = SKIPPED_ELEMENTS, chunk_size: int = 1 << 20
    ) -> None:
        self._raw = raw
        self._chunk_size = chunk_size
        self._tags = [(b"<" + t.encode(), b"</" + t.encode() + b">") for t in tags]
        # Bytes held back at a chunk end, so a tag cut in two is seen whole next time.
        self._keep = max(len(_ROOT_START), *(max(len(o), len(c)) for o, c in self._tags)) + 1
        self._pending = b""
        self._active = False  # inside the root element, where skipping is safe
        self._disabled = False
        self._skip: tuple[bytes, bytes, int] | None = None  # (open, close, depth)
        self._eof = False
        self._next: dict[bytes, int] = {}

    def read(self, size: int = -1) -> bytes:
        """Return the next filtered bytes (any length; b"" only at end of input)."""
        while not self._eof:
            chunk = self._raw.read(max(size, self._chunk_size))
            if not chunk:
                self._eof = True
                break
            data = self._pending + chunk if self._pending else chunk
            out = self._filter(data) if not self._disabled else data
            if self._disabled:
                self._pending = b""
            if out:
                return out
        out, self._pending = self._pending if self._skip is None else b"", b""
        return out

    def _filter(self, data: bytes) -> bytes:
        out: list[bytes] = []
        pos = 0
        self._pending = b""
        self._next = {}
        if not self._active:
            root = data.find(_ROOT_START)
            if root < 0:
                cut = max(0, len(data) - self._keep)
                self._pending = data[cut:]
                return data[:cut]
            self._active = True
            pos = root + 1
            out.append(data[:pos])
        while pos < len(data):
            if self._skip is not None:
                pos = self._skip_region(data, pos, out)
            else:
                pos = self._copy_until_region(data, pos, out)
            if pos < 0 or self._disabled:
                break
        return b"".join(out)

    def _find(self, data: bytes, pattern: bytes, pos: int) -> int:
        """``data.find(pattern, pos)``, remembered per buffer so each pattern scans it once."""
        cached = self._next.get(pattern)
        if cached is None or 0 <= cached < pos:
            cached = data.find(pattern, pos)
            self._next[pattern] = cached
        return cached

    def _find_markup_declaration(self, data: bytes, pos: int) -> int:
        """Next ``<!`` (comment or CDATA) at or after ``pos``, or -1.

        Searches for the rare ``!`` and checks the byte before: ``data.find(b"<!")`` is ~7x
        slower because ``<`` occurs every few bytes.
        """
        cached = self._next.get(b"<!")
        if cached is None or 0 <= cached < pos:
            i = data.find(b"!", max(pos, 1))
            while i >= 0 and data[i - 1] != _LT:
                i = data.find(b"!", i + 1)
            cached = self._next[b"<!"] = i if i < 0 else i - 1
        return cached

    def _copy_until_region(self, data: bytes, pos: int, out: list[bytes]) -> int:
        """Copy bytes up to the next skipped start tag and enter it; -1 = need more data."""
        special = self._find_markup_declaration(data, pos)
        best, best_tags = -1, self._tags[0]
        for tags in self._tags:
            i = self._find(data, tags[0], pos)
            if i >= 0 and (best < 0 or i < best):
                best, best_tags = i, tags
        if special >= 0 and (best < 0 or special < best):
            out.append(data[pos:])
            self._disabled = True
            return len(data)
        if best < 0:
            cut = max(pos, len(data) - self._keep)
            out.append(data[pos:cut])
            self._pending = data[cut:]
            return -1
        open_tag, close_tag = best_tags
        after = best + len(open_tag)
        end = data.find(b">", after) if after < len(data) else -1
        if end < 0:
            out.append(data[pos:best])
            self._pending = data[best:]
            return -1
        if data[after] not in _TAG_END:  # a longer tag name with the same prefix
            out.append(data[pos:after])
            return after
        out.append(data[pos:best])
        self._newlines(data, best, end + 1, out)
        if data[end - 1] != _SLASH:  # "<Tag/>" is complete already
            self._skip = (open_tag, close_tag, 1)
        return end + 1

    def _skip_region(self, data: bytes, pos: int, out: list[bytes]) -> int:
        """Drop bytes up to the matching end tag (nesting counted); -1 = need more data."""
        assert self._skip is not None
        open_tag, close_tag, depth = self._skip
        close = self._find(data, close_tag, pos)
        nested = self._find(data, open_tag, pos)
        if nested >= 0 and (close < 0 or nested < close):
            after = nested + len(open_tag)
            end = data.find(b">", after) if after < len(data) else -1
            if end < 0:
                self._newlines(data, pos, nested, out)
                self._pending = data[nested:]
                return -1
            if data[after] in _TAG_END and data[end - 1] != _SLASH:
                self._skip = (open_tag, close_tag, depth + 1)
            self._newlines(data, pos, end + 1, out)
            return end + 1
        if close < 0:
            cut = max(pos, len(data) - self._keep)
            self._newlines(data, pos, cut, out)
            self._pending = data[cut:]
            return -1
        end = close + len(close_tag)
        self._newlines(data, pos, end, out)
        self._skip = (open_tag, close_tag, depth - 1) if depth > 1 else None
        return end

    @staticmethod
    def _newlines(data: bytes, start: int, end: int, out: list[bytes]) -> None:
        count = data.count(b"\n", start, end)
        if count:
            out.append(b"\n" * count)


# --------------------------------------------------------------------------- element helpers
#
# Child loops instead of ``find``/``findtext``: lxml resolves every ``find`` path through
# ElementPath (about 2 µs a call), while iterating an element's children is ~5x cheaper.
# Each element is indexed once and then read from the dict.


def _index(elem: Any) -> dict[str, Any]:
    """``tag -> first child element with that tag`` (empty for ``None``)."""
    found: dict[str, Any] = {}
    if elem is not None:
        for child in elem:
            tag = child.tag
            if tag not in found:
                found[tag] = child
    return found


def _children(elem: Any, tag: str) -> Iterator[Any]:
    """Direct children with ``tag`` (none for ``None``)."""
    return elem.iterchildren(tag) if elem is not None else iter(())


def _text(elem: Any) -> str:
    """All text under ``elem`` (inline markup included) with whitespace collapsed."""
    if elem is None:
        return ""
    if len(elem):  # has inline markup children
        return " ".join("".join(elem.itertext()).split())
    return " ".join(elem.text.split()) if elem.text else ""


def _plain(elem: Any) -> str | None:
    """Stripped ``.text`` of a leaf element, or None."""
    if elem is None or elem.text is None:
        return None
    return elem.text.strip() or None


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


# --------------------------------------------------------------------------- dates


def _month_number(value: str | None) -> int | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        number = int(value)
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(value.lower().rstrip("."))


def _valid_day(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        day = int(value)
        return day if 1 <= day <= 31 else None
    return None


def _iso(year: int, month: int | None = None, day: int | None = None) -> str:
    """ISO partial date; a day that does not exist in that month (31 Sep) is dropped."""
    if month is None:
        return f"{year:04d}"
    if day is None or day > calendar.monthrange(year, month)[1]:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _season_month(season: str) -> int | None:
    """First month of a month range ("Jan-Mar" -> 1); None for named seasons.

    Named seasons ("Spring", "Winter-Spring") depend on the hemisphere and "Winter" spans a
    year boundary, so they are kept as year-only dates rather than guessed.
    """
    first = re.split(r"[-/\s]+", season.strip(), maxsplit=1)[0]
    return _MONTHS.get(first.lower().rstrip("."))


def _ymd_date(parts: dict[str, Any]) -> tuple[str | None, int | None]:
    """Date from the indexed children Year/Month/Day/Season of a date element."""
    year_text = _plain(parts.get("Year"))
    if not year_text or not year_text.isdigit():
        return None, None
    year = int(year_text)
    month = _month_number(_plain(parts.get("Month")))
    if month is None:
        season = _plain(parts.get("Season"))
        return _iso(year, _season_month(season) if season else None), year
    return _iso(year, month, _valid_day(_plain(parts.get("Day")))), year


def _pub_date(
    pub_date: Any, article_dates: Iterable[Any], history: Any, extra: dict[str, Any]
) -> tuple[str | None, int | None]:
    """Publication date in every DTD form, falling back to ArticleDate then history dates.

    ``PubDate`` is ``(Year, ((Month, Day?) | Season)?) | MedlineDate``; a PubDate without a
    usable year (rare, but the DTD allows it) must not leave the record undated, so the
    electronic publication date and then PubMed's own history dates are used instead.
    """
    if pub_date is not None:
        parts = _index(pub_date)
        iso, year = _ymd_date(parts)
        if year is None:
            medline_date = _plain(parts.get("MedlineDate"))
            if medline_date:
                extra["pub_date_raw"] = medline_date
                iso, year = parse_medline_date(medline_date)
        elif "Season" in parts:
            extra["pub_date_raw"] = f"{year} {_plain(parts['Season'])}"
        if year is not None:
            return iso, year
    for article_date in article_dates:
        iso, year = _ymd_date(_index(article_date))
        if year is not None:
            return iso, year
    dates = _history(history, _HISTORY_FALLBACK)
    for status in _HISTORY_FALLBACK:
        if status in dates:
            return dates[status]
    return None, None


def _history(history: Any, statuses: tuple[str, ...]) -> dict[str, tuple[str | None, int]]:
    """``PubStatus -> (ISO date, year)`` for the wanted statuses (first of each wins)."""
    dates: dict[str, tuple[str | None, int]] = {}
    for item in _children(history, "PubMedPubDate"):
        status = item.get("PubStatus")
        if status in statuses and status not in dates:
            iso, year = _ymd_date(_index(item))
            if year is not None:
                dates[status] = (iso, year)
    return dates


# --------------------------------------------------------------------------- fields


def _abstract(abstract: Any) -> str:
    """Abstract text with structured labels kept as ``"LABEL: text"`` lines."""
    parts = []
    for section in _children(abstract, "AbstractText"):
        text = _text(section)
        label = (section.get("Label") or "").strip()
        if label and label.upper() != "UNLABELLED":
            text = f"{label}: {text}" if text else f"{label}:"
        if text:
            parts.append(text)
    return "\n".join(parts)


def _authors(author_list: Any) -> tuple[str, ...]:
    """Authors as "Family Initials"; collective (group) names as they are written."""
    names = []
    for author in _children(author_list, "Author"):
        if author.get("ValidYN") == "N":  # superseded or misspelt entries NLM keeps
            continue
        family = initials = fore = collective = None
        for child in author:
            tag = child.tag
            if tag == "LastName":
                family = child.text
            elif tag == "Initials":
                initials = child.text
            elif tag == "ForeName":
                fore = child.text
            elif tag == "CollectiveName":
                collective = child
        family = family.strip() if family else None
        if not family:
            name = _text(collective)
            if name:
                names.append(name)
            continue
        initials = initials.strip() if initials else None
        if not initials and fore:
            initials = "".join(part[0] for part in fore.replace("-", " ").split())
        names.append(f"{family} {initials}" if initials else family)
    return tuple(names)


def _article_ids(id_list: Any) -> dict[str, str]:
    """``IdType -> value`` from the record's own ArticleIdList (never its ReferenceList)."""
    ids: dict[str, str] = {}
    for item in _children(id_list, "ArticleId"):
        id_type = item.get("IdType")
        value = _plain(item)
        if id_type and value and id_type not in ids:
            ids[id_type] = value
    return ids


def _doi(ids: dict[str, str], container: Any) -> str | None:
    """DOI from ArticleIdList, else from ``ELocationID[@EIdType="doi"]``."""
    doi = normalise_doi(ids.get("doi"))
    if doi is None:
        for location in _children(container, "ELocationID"):
            if location.get("EIdType") == "doi":
                doi = normalise_doi(location.text)
                if doi:
                    break
    return doi


def _pmcid(ids: dict[str, str]) -> str | None:
    value = ids.get("pmc") or ids.get("pmcid")
    if not value:
        return None
    value = value.upper()
    return value if value.startswith("PMC") else f"PMC{value}"


def _databanks(databank_list: Any) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """Split DataBankList into (NCT ids, other registry ids, other databank accessions)."""
    nct_ids: list[str] = []
    registry_ids: list[str] = []
    deposits: list[str] = []
    for bank in _children(databank_list, "DataBank"):
        parts = _index(bank)
        bank_name = " ".join((_plain(parts.get("DataBankName")) or "").split())
        key = bank_name.lower()
        for accession_elem in _children(parts.get("AccessionNumberList"), "AccessionNumber"):
            accession = _plain(accession_elem)
            if not accession:
                continue
            if key == _CTGOV and NCT_PATTERN.fullmatch(accession.upper()):
                nct_ids.append(accession.upper())
            elif key == _CTGOV or key in TRIAL_REGISTRIES:
                registry_ids.append(f"{bank_name}:{accession}")
            else:
                deposits.append(f"{bank_name}:{accession}")
    return _unique(nct_ids), _unique(registry_ids), deposits


def _comments_corrections(cc_list: Any) -> list[tuple[str, str | None, str | None]]:
    """``(RefType, PMID, RefSource)`` for every CommentsCorrections entry, in order."""
    links = []
    for item in _children(cc_list, "CommentsCorrections"):
        parts = _index(item)
        ref_source = " ".join((_plain(parts.get("RefSource")) or "").split()) or None
        links.append((item.get("RefType") or "", _plain(parts.get("PMID")), ref_source))
    return links


def _notices(links: list[tuple[str, str | None, str | None]]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {field: [] for field in _NOTICE_FIELDS.values()}
    for ref_type, pmid, _source in links:
        target = _NOTICE_FIELDS.get(ref_type)
        if target and pmid:
            found[target].append(pmid)
    return {field: _unique(values) for field, values in found.items()}


def _nct_in_text(title: str, abstract: str, nct_ids: tuple[str, ...]) -> tuple[str, ...]:
    """``NCT########`` mentioned in title/abstract but not already a DataBankList id."""
    text = f"{title}\n{abstract}"
    if _NCT_PREFILTER.search(text) is None:  # literal-prefix scan; \b defeats that
        return ()
    known = set(nct_ids)
    return _unique(nct for nct in NCT_PATTERN.findall(text) if nct not in known)


# --------------------------------------------------------------------------- record building


def _build_record(elem: Any, record_source: str) -> Record:
    if elem.tag == "PubmedBookArticle":
        return _build_book_record(elem, record_source)
    top = _index(elem)
    citation = top.get("MedlineCitation")
    if citation is None:
        raise _RecordError("PubmedArticle without MedlineCitation", elem.sourceline)
    cit = _index(citation)
    article = cit.get("Article")
    art = _index(article)
    journal = _index(art.get("Journal"))
    issue = _index(journal.get("JournalIssue"))
    data = _index(top.get("PubmedData"))
    extra: dict[str, Any] = {}
    pub_date, year = _pub_date(
        issue.get("PubDate"), _children(article, "ArticleDate"), data.get("History"), extra
    )
    _put(extra, "iso_abbreviation", _plain(journal.get("ISOAbbreviation")))
    _put(extra, "volume", _plain(issue.get("Volume")))
    _put(extra, "issue", _plain(issue.get("Issue")))
    _put(extra, "pages", _plain(_index(art.get("Pagination")).get("MedlinePgn")))
    _put(extra, "medline_status", citation.get("Status"))
    _put(extra, "publication_status", _plain(data.get("PublicationStatus")))
    # CRDT: when the record entered PubMed, the date "new since last run" windows use.
    entrez = _history(data.get("History"), ("entrez",)).get("entrez")
    _put(extra, "entrez_date", entrez[0] if entrez else None)
    return _assemble(
        elem=elem,
        record_source=record_source,
        pmid=_plain(cit.get("PMID")),
        title=_text(art.get("ArticleTitle")) or _text(art.get("VernacularTitle")),
        abstract=_abstract(art.get("Abstract")),
        pub_date=pub_date,
        year=year,
        journal=_text(journal.get("Title")) or None,
        author_list=art.get("AuthorList"),
        ids=_article_ids(data.get("ArticleIdList")),
        doi_container=article,
        databank_list=art.get("DataBankList"),
        cc_list=cit.get("CommentsCorrectionsList"),
        pub_types=_unique(
            _text(pt) for pt in _children(art.get("PublicationTypeList"), "PublicationType")
        ),
        extra=extra,
    )


def _build_book_record(elem: Any, record_source: str) -> Record:
    """PubmedBookArticle: NCBI Bookshelf documents (e.g. GeneReviews chapters, HTA reports)."""
    top = _index(elem)
    document = top.get("BookDocument")
    if document is None:
        raise _RecordError("PubmedBookArticle without BookDocument", elem.sourceline)
    doc = _index(document)
    book = _index(doc.get("Book"))
    data = _index(top.get("PubmedBookData"))
    extra: dict[str, Any] = {}
    book_title = _text(book.get("BookTitle"))
    title = _text(doc.get("ArticleTitle")) or book_title
    if book_title and title != book_title:
        extra["book_title"] = book_title
    _put(extra, "publisher", _text(_index(book.get("Publisher")).get("PublisherName")) or None)
    pub_date, year = _pub_date(book.get("PubDate"), (), data.get("History"), extra)
    ids = _article_ids(data.get("ArticleIdList"))
    for id_type, value in _article_ids(doc.get("ArticleIdList")).items():
        ids.setdefault(id_type, value)
    return _assemble(
        elem=elem,
        record_source=record_source,
        pmid=_plain(doc.get("PMID")),
        title=title,
        abstract=_abstract(doc.get("Abstract")),
        pub_date=pub_date,
        year=year,
        journal=None,
        # Chapter authors if given, else the book's.
        author_list=doc.get("AuthorList", book.get("AuthorList")),
        ids=ids,
        doi_container=document,
        databank_list=doc.get("DataBankList"),
        cc_list=doc.get("CommentsCorrectionsList"),
        pub_types=_unique(_text(pt) for pt in _children(document, "PublicationType")),
        extra=extra,
    )


def _put(extra: dict[str, Any], key: str, value: Any) -> None:
    if value:
        extra[key] = value


def _assemble(
    *,
    elem: Any,
    record_source: str,
    pmid: str | None,
    title: str,
    abstract: str,
    pub_date: str | None,
    year: int | None,
    journal: str | None,
    author_list: Any,
    ids: dict[str, str],
    doi_container: Any,
    databank_list: Any,
    cc_list: Any,
    pub_types: tuple[str, ...],
    extra: dict[str, Any],
) -> Record:
    """Combine the parts shared by journal and book articles into one Record."""
    if not pmid:
        raise _RecordError(f"<{elem.tag}> without a PMID", elem.sourceline)
    nct_ids, registry_ids, deposits = _databanks(databank_list)
    links = _comments_corrections(cc_list)
    notices = _notices(links)
    if deposits:
        extra["databanks"] = deposits
    extra["comments_corrections"] = links
    return Record(
        record_id=f"{record_source}:{pmid}",
        source=record_source,
        title=title,
        abstract=abstract,
        year=year,
        pub_date=pub_date,
        journal=journal,
        authors=_authors(author_list),
        pmid=pmid,
        doi=_doi(ids, doi_container),
        pmcid=_pmcid(ids),
        nct_ids=nct_ids,
        nct_ids_in_text=_nct_in_text(title, abstract, nct_ids),
        other_ids=registry_ids,
        publication_types=pub_types,
        retracted="Retracted Publication" in pub_types
        or any(link[0] == "RetractionIn" for link in links),
        retraction_notices=notices["retraction_notices"],
        errata=notices["errata"],
        concerns=notices["concerns"],
        extra=extra,
    )
