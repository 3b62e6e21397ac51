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

The work is split by responsibility: this module streams the document and checks it is
whole; :mod:`.pubmed_prefilter` drops unused subtrees as bytes before parsing;
:mod:`.pubmed_record` turns one article element into a Record, with its dates read by
:mod:`.pubmed_dates` and its elements by :mod:`.pubmed_elements`.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from typing import Any, BinaryIO

from lxml import etree

from livingmeta.retrieval.pubmed_dates import parse_medline_date
from livingmeta.retrieval.pubmed_elements import ROOT_TAG, all_text
from livingmeta.retrieval.pubmed_prefilter import SKIPPED_ELEMENTS, SkippingReader
from livingmeta.retrieval.pubmed_record import TRIAL_REGISTRIES, RecordError, build_record
from livingmeta.retrieval.records import Record

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


def _iter_records(
    handle: Any, name: str, record_source: str, huge_tree: bool, skip_unused: bool
) -> Iterator[Record]:
    """The streaming loop behind :func:`iter_pubmed_records` (``handle`` is binary)."""
    context = etree.iterparse(
        SkippingReader(handle) if skip_unused else handle,
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
                    f"NCBI returned an error: {all_text(elem) or '(empty ERROR element)'}",
                    source_name=name,
                    line=elem.sourceline,
                    records_before=count,
                )
            try:
                record = build_record(elem, record_source)
            except RecordError as exc:
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
        message = all_text(root.find(".//ERROR")) if root.tag != _ERROR_TAG else all_text(root)
        raise PubmedParseError(
            f"NCBI returned an error: {message or '(no message)'}",
            source_name=name,
            records_before=count,
        )
    if root.tag != ROOT_TAG:
        raise PubmedParseError(
            f"expected a <{ROOT_TAG}> document (EFetch db=pubmed retmode=xml), found <{root.tag}>",
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
