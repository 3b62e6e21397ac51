"""The normalised record shared by every source (PubMed, ClinicalTrials.gov, imports).

One flat, frozen type keeps parsers, deduplication and the reviewer queue decoupled:
parsers only produce ``Record``; everything downstream only consumes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import Any

NCT_PATTERN = re.compile(r"\bNCT\d{8}\b")
_DOI_PREFIXES = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def normalise_doi(doi: str | None) -> str | None:
    """Lower-case a DOI and strip resolver prefixes, so the same DOI always compares equal."""
    if not doi:
        return None
    cleaned = doi.strip()
    if not cleaned.startswith("10."):  # most DOIs come bare: no prefix to look for
        cleaned = _DOI_PREFIXES.sub("", cleaned).strip()
    cleaned = cleaned.rstrip(".").lower()
    return cleaned if cleaned.startswith("10.") else None


def nct_ids_in_text(texts: Iterable[str], known: Iterable[str] = ()) -> tuple[str, ...]:
    """NCT ids merely mentioned in ``texts`` (title, abstract) and not in ``known``, once
    each, in order: weaker evidence of a link than a registration.

    >>> nct_ids_in_text(["Trial NCT01234567", "see NCT07654321 and NCT01234567"], ["NCT07654321"])
    ('NCT01234567',)
    """
    texts = [text for text in texts if "NCT" in text]  # a literal scan first: cheap
    if not texts:
        return ()
    seen = set(known)
    found = (n for text in texts for n in NCT_PATTERN.findall(text) if n not in seen)
    return tuple(dict.fromkeys(found))


@dataclass(frozen=True, slots=True)
class TrialInfo:
    """Registry fields that only ClinicalTrials.gov records carry."""

    overall_status: str | None = None
    phases: tuple[str, ...] = ()
    study_type: str | None = None
    enrollment: int | None = None
    conditions: tuple[str, ...] = ()
    interventions: tuple[str, ...] = ()
    first_posted: str | None = None
    last_update_posted: str | None = None
    results_first_posted: str | None = None
    has_results: bool = False
    acronym: str | None = None
    official_title: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One record as a source returned it, normalised.

    ``record_id`` is ``"<source>:<id in that source>"`` (``pubmed:29845367``,
    ``ctgov:NCT02513394``, ``embase:<RIS ID or content hash>``) and is stable across runs,
    so re-running a search window upserts rather than duplicates.

    Registry ids come in two strengths: ``nct_ids`` (the record's own id, aliases, or a
    PubMed ``DataBankList`` entry) and ``nct_ids_in_text`` (an ``NCT\\d{8}`` pattern found in
    title/abstract, weaker evidence of a link).
    """

    record_id: str
    source: str
    title: str
    abstract: str = ""
    year: int | None = None
    pub_date: str | None = None  # ISO partial date: YYYY, YYYY-MM or YYYY-MM-DD
    journal: str | None = None
    authors: tuple[str, ...] = ()  # "Family Initials"
    pmid: str | None = None
    doi: str | None = None
    pmcid: str | None = None
    nct_ids: tuple[str, ...] = ()
    nct_ids_in_text: tuple[str, ...] = ()
    other_ids: tuple[str, ...] = ()  # other registries, "EudraCT:2015-...", "ISRCTN12345678"
    publication_types: tuple[str, ...] = ()
    retracted: bool = False
    retraction_notices: tuple[str, ...] = ()  # PMIDs of "RetractionIn" notices
    errata: tuple[str, ...] = ()  # PMIDs of "ErratumIn" notices
    concerns: tuple[str, ...] = ()  # PMIDs of "ExpressionOfConcernIn" notices
    linked_pmids: tuple[str, ...] = ()  # e.g. ClinicalTrials.gov references ("RESULT:123")
    trial: TrialInfo | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """Inverse of :meth:`to_dict`; unknown keys are ignored so old snapshots still load."""
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                continue
            if name == "trial" and isinstance(value, dict):
                trial_fields = {f.name for f in fields(TrialInfo)}
                value = TrialInfo(
                    **{
                        k: tuple(v) if isinstance(v, list) else v
                        for k, v in value.items()
                        if k in trial_fields
                    }
                )
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[name] = value
        return cls(**kwargs)
