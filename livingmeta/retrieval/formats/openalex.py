"""OpenAlex API JSON: a ``/works`` page (``{"meta": ..., "results": [work, ...]}``), a list
of works, or one work.

Fields of the Work object as OpenAlex documents them: ``id`` (``https://openalex.org/W...``,
the accession), ``doi`` (as a ``https://doi.org/`` URL), ``title``/``display_name``,
``publication_year``, ``publication_date``, ``ids`` (``pmid`` and ``pmcid`` as URLs),
``authorships[].author.display_name`` (or ``raw_author_name``),
``primary_location.source.display_name`` (the journal), ``biblio`` (volume, issue,
first and last page), ``type``, ``language``, ``is_retracted``, ``keywords``, and the
abstract as ``abstract_inverted_index`` (word -> positions), rebuilt into text here.
"""

from __future__ import annotations

from typing import Any

from livingmeta.retrieval.formats.errors import ImportFormatError, require_title_or_id
from livingmeta.retrieval.formats.fields import Bibliographic, to_record
from livingmeta.retrieval.formats.identity import trusted_accession
from livingmeta.retrieval.formats.text import json_items
from livingmeta.retrieval.records import Record


def parse_openalex(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Every work in OpenAlex JSON text, ids ``<source>:<PMID>`` or ``<source>:W...``.

    Raises
    ------
    ImportFormatError
        For invalid JSON, a payload that holds no works, or a work whose fields have the
        wrong type (the message names the record and the field).
    """
    works = json_items(
        text,
        name,
        "results",
        lambda work: "id" in work and ("title" in work or "display_name" in work),
        "not OpenAlex JSON: expected a work, a list of works, or a /works page with a "
        "'results' list",
    )
    return [
        _record(_Work(work, name, number), source) for number, work in enumerate(works, start=1)
    ]


class _Work:
    """Typed access to one work's fields; a wrong type names the record and field."""

    def __init__(self, work: Any, name: str, number: int) -> None:
        if not isinstance(work, dict):
            raise ImportFormatError(
                name, f"expected a work object, got {type(work).__name__}", record=number
            )
        self.work, self.name, self.number = work, name, number

    def fail(self, field: str, message: str) -> ImportFormatError:
        return ImportFormatError(self.name, f"field {field!r}: {message}", record=self.number)

    def get(self, path: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        """The value at a dotted path (``primary_location.source.display_name``)."""
        value: Any = self.work
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
            if value is None:
                return default
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(path, f"expected {_kind_name(kind)}, got {type(value).__name__}")
        return value

    def text(self, path: str) -> str:
        value = self.get(path, (str, int))
        return "" if value is None else str(value)

    def authors(self) -> list[str]:
        names = []
        for k, authorship in enumerate(self.get("authorships", list, [])):
            if not isinstance(authorship, dict):
                raise self.fail(f"authorships[{k}]", "expected an object")
            author = authorship.get("author") or {}
            name = (author.get("display_name") if isinstance(author, dict) else None) or (
                authorship.get("raw_author_name")
            )
            if name:
                names.append(str(name))
        return names

    def abstract(self) -> str:
        """The text of ``abstract_inverted_index`` (``{"word": [0, 5], ...}``)."""
        index = self.get("abstract_inverted_index", dict, {})
        placed: dict[int, str] = {}
        for word, positions in index.items():
            if not isinstance(positions, list) or not all(
                isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in positions
            ):
                raise self.fail(
                    "abstract_inverted_index",
                    f"positions of {word!r} must be a list of non-negative integers",
                )
            for position in positions:
                placed[position] = word
        return " ".join(placed[p] for p in sorted(placed))


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _record(work: _Work, source: str) -> Record:
    title = work.text("title") or work.text("display_name")
    doi, openalex_id = work.text("doi"), work.text("id")
    pmid_url, pmcid_url = work.text("ids.pmid"), work.text("ids.pmcid")
    require_title_or_id(work.name, (title, doi, openalex_id), record=work.number, line=None)
    pmcid = pmcid_url.rstrip("/").rsplit("/", 1)[-1]
    types = [work.text("type"), work.text("type_crossref")]
    if work.get("is_retracted", bool, False):
        types.append("Retracted Publication")
    pages = "-".join(filter(None, (work.text("biblio.first_page"), work.text("biblio.last_page"))))
    bib = Bibliographic(
        title=title,
        abstracts=[work.abstract()],
        authors=work.authors(),
        dates=[work.text("publication_year"), work.text("publication_date")],
        journal=work.text("primary_location.source.display_name") or None,
        pmid=_trailing_number(pmid_url),
        doi_texts=[doi, work.text("ids.doi")],
        pmcid_texts=[f"PMC{pmcid}" if pmcid.isdigit() else pmcid],
        publication_types=types,
    )
    bib.extra = {
        "keywords": _keywords(work),
        "volume": work.text("biblio.volume"),
        "issue": work.text("biblio.issue"),
        "pages": pages,
        "issn": work.text("primary_location.source.issn_l"),
        "language": work.text("language"),
        "accession": openalex_id,
    }
    return to_record(bib, source, trusted_accession([openalex_id]))


def _trailing_number(url: str) -> str | None:
    """``https://pubmed.ncbi.nlm.nih.gov/31617467`` -> ``31617467``."""
    last = url.rstrip("/").rsplit("/", 1)[-1]
    return last.lstrip("0") or None if last.isdigit() and len(last) <= 9 else None


def _keywords(work: _Work) -> list[str]:
    words = []
    for keyword in work.get("keywords", list, []):
        text = keyword.get("display_name") if isinstance(keyword, dict) else keyword
        if isinstance(text, str) and text.strip():
            words.append(text.strip())
    return words
