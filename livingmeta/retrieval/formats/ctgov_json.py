"""ClinicalTrials.gov API v2 JSON: one study, a list of studies, or a ``/studies`` page."""

from __future__ import annotations

from livingmeta.retrieval.formats.errors import ImportFormatError
from livingmeta.retrieval.formats.text import json_items
from livingmeta.retrieval.records import Record


def parse_ctgov_json(text: str, source: str, *, name: str = "<string>") -> list[Record]:
    """Every study in the JSON text, ids ``<source>:<NCT id>``."""
    from livingmeta.retrieval.ctgov import parse_study  # the search client's own parser

    studies = json_items(
        text,
        name,
        "studies",
        lambda study: "protocolSection" in study,
        "not ClinicalTrials.gov v2 JSON: expected a study object (with protocolSection), "
        "a list of studies, or a /studies page with a 'studies' list",
    )
    records = []
    for number, study in enumerate(studies, start=1):
        if not isinstance(study, dict):
            raise ImportFormatError(
                name, f"expected a study object, got {type(study).__name__}", record=number
            )
        try:
            records.append(parse_study(study, source))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ImportFormatError(name, f"invalid study: {exc}", record=number) from exc
    return records
