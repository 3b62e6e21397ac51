"""PubMed XML exports (EFetch or "Save > XML"), read by the PubMed search's own parser."""

from __future__ import annotations

from pathlib import Path

from livingmeta.retrieval.formats.errors import ImportFormatError
from livingmeta.retrieval.records import Record


def read_pubmed_xml(path: Path, source: str) -> list[Record]:
    """Every article of a ``PubmedArticleSet`` file, ids ``<source>:<PMID>``."""
    from livingmeta.retrieval.pubmed_xml import PubmedParseError, parse_pubmed_xml

    try:
        return parse_pubmed_xml(path, record_source=source)
    except PubmedParseError as exc:
        message = str(exc).removeprefix(f"{exc.source_name}: ")
        raise ImportFormatError(
            str(path),
            f"invalid PubMed XML: {message}",
            line=exc.line,
            record=exc.records_before + 1,
        ) from exc
    except OSError as exc:
        raise ImportFormatError(str(path), f"cannot read file: {exc}") from exc
