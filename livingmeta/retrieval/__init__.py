"""Evidence retrieval: searching PubMed and ClinicalTrials.gov, importing exported records,
snapshots of what each source said, and the cross-source record registry.

The public API is listed in ``__all__`` and importable from here; each name is loaded from
its module on first use, so ``import livingmeta.retrieval`` costs nothing (the clients
need requests, the PubMed parser lxml):

Clients
    :class:`EutilsClient` (with :class:`EutilsConfig`) for PubMed's E-utilities,
    :class:`CtgovClient` for the ClinicalTrials.gov API v2; both raise
    :class:`SourceError` when a source fails.
Parsers
    :func:`parse_pubmed_xml` / :func:`iter_pubmed_records` (EFetch XML, raising
    :class:`PubmedParseError`), :func:`parse_study` (one ClinicalTrials.gov study) and
    :func:`read_records` (exported files: RIS, MEDLINE, PubMed XML, ClinicalTrials.gov
    JSON...). All return :class:`Record` objects.
Registry
    :class:`Registry`, every record a review has seen, deduplicated across sources, and
    :func:`import_records`, which adds an export to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livingmeta.lazy import lazy_exports

if TYPE_CHECKING:
    from livingmeta.retrieval.ctgov import CtgovClient, parse_study
    from livingmeta.retrieval.eutils import EutilsClient, EutilsConfig
    from livingmeta.retrieval.http import SourceError
    from livingmeta.retrieval.importers import read_records
    from livingmeta.retrieval.imports import import_records
    from livingmeta.retrieval.pubmed_xml import (
        PubmedParseError,
        iter_pubmed_records,
        parse_pubmed_xml,
    )
    from livingmeta.retrieval.records import Record
    from livingmeta.retrieval.registry import Registry

#: Where each public name lives (module under :mod:`livingmeta.retrieval`).
_HOMES = {
    "CtgovClient": "ctgov",
    "EutilsClient": "eutils",
    "EutilsConfig": "eutils",
    "PubmedParseError": "pubmed_xml",
    "Record": "records",
    "Registry": "registry",
    "SourceError": "http",
    "import_records": "imports",
    "iter_pubmed_records": "pubmed_xml",
    "parse_pubmed_xml": "pubmed_xml",
    "parse_study": "ctgov",
    "read_records": "importers",
}

__all__ = [
    "CtgovClient",
    "EutilsClient",
    "EutilsConfig",
    "PubmedParseError",
    "Record",
    "Registry",
    "SourceError",
    "import_records",
    "iter_pubmed_records",
    "parse_pubmed_xml",
    "parse_study",
    "read_records",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
