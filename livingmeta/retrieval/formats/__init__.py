"""Readers for the files databases and reference managers export, one module per format.

Every reader turns its format into the same :class:`~livingmeta.retrieval.records.Record`
the search clients produce; ids follow :mod:`.identity`. The entry point is
:func:`livingmeta.retrieval.importers.read_records`; this module only names the formats,
so the command line can list them without loading any reader.
"""

FORMATS = (
    "auto",
    "ris",
    "nbib",
    "pubmed-xml",
    "ctgov-json",
    "endnote-xml",
    "csv",
    "wos",
    "enw",
    "bibtex",
    "refworks",
    "cochrane-txt",
    "openalex-json",
    "xlsx",
)
