"""One saved search against its source, with every response kept as a snapshot.

Why apart from the run (:mod:`livingmeta.retrieval.update`): the run decides what happens
to records (registry, deduplication, hand-over, search windows); this module only asks
PubMed and ClinicalTrials.gov, records what they answered (the snapshot writer) and how
each search went (:class:`SourceReport`). The watch list -- re-fetching records reviewers
already have, for retractions and errata -- asks PubMed the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from livingmeta.retrieval.ctgov import CtgovClient
from livingmeta.retrieval.eutils import EutilsClient, EutilsConfig
from livingmeta.retrieval.http import SourceError
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Registry
from livingmeta.retrieval.search_state import SearchState, SearchWindow
from livingmeta.retrieval.snapshots import SnapshotWriter

if TYPE_CHECKING:
    from livingmeta.retrieval.update import RetrievalSettings

#: ``report.json`` change kind for PMIDs EFetch returned without being asked for.
UNEXPECTED = "unexpected_from_pubmed"
WATCHED_FIELDS = ("retracted", "retraction_notices", "errata", "concerns")


@dataclass(frozen=True)
class SavedSearch:
    """A saved search from the review's config (``searches:``)."""

    id: str
    source: str
    query: str | None = None
    cond: str | None = None
    intr: str | None = None
    term: str | None = None
    start_date: date | None = None

    @classmethod
    def from_config(cls, spec: Mapping[str, Any]) -> SavedSearch:
        start = spec.get("start_date")
        return cls(
            id=spec["id"],
            source=spec["source"],
            query=spec.get("query"),
            cond=spec.get("cond"),
            intr=spec.get("intr"),
            term=spec.get("term"),
            start_date=date.fromisoformat(str(start)) if start else None,
        )


@dataclass
class Clients:
    """The source clients of a run (tests inject ones pointing at a local fake server)."""

    pubmed: EutilsClient | None = None
    ctgov: CtgovClient | None = None

    @classmethod
    def from_settings(
        cls, settings: RetrievalSettings, environ: Mapping[str, str] | None = None
    ) -> Clients:
        config = EutilsConfig.from_env(
            email=settings.email,
            tool=settings.tool,
            api_key_env=settings.api_key_env,
            environ=environ,
        )
        return cls(pubmed=EutilsClient(config), ctgov=CtgovClient())

    def secrets(self) -> tuple[str, ...]:
        key = self.pubmed.config.api_key if self.pubmed else None
        return (key,) if key else ()


@dataclass
class SourceReport:
    """How one saved search went in this run."""

    search_id: str
    source: str
    status: str  # ok | unchanged | failed | disabled
    window_start: str | None = None
    window_end: str | None = None
    identified: int = 0
    total_count: int | None = None
    query_translation: str | None = None
    error: str | None = None
    unexpected: list[str] = field(default_factory=list)


@dataclass
class SourceRun:
    """What the searches of one run share: the clients, the snapshot writer, the search
    state (windows, source health), the clock, the run's log and the ``report.json``
    changes they add to."""

    run_id: str
    clients: Clients
    writer: SnapshotWriter
    state: SearchState
    clock: Callable[[], datetime]
    log: Callable[[str], None]
    changes: list[dict[str, Any]] = field(default_factory=list)


def run_search(
    run: SourceRun, search: SavedSearch, window: SearchWindow, entry: SourceReport
) -> tuple[list[Record], str | None]:
    """The records of one search over ``window`` and the source's data timestamp (CT.gov);
    ``entry`` says how it went. Raises :class:`SourceError` or ``ValueError`` on failure."""
    if search.source == "pubmed":
        return _search_pubmed(run, search, window, entry), None
    if search.source == "ctgov":
        return _search_ctgov(run, search, window, entry)
    raise ValueError(f"search {search.id}: unknown source {search.source!r}")


def _search_pubmed(
    run: SourceRun, search: SavedSearch, window: SearchWindow, entry: SourceReport
) -> list[Record]:
    client = run.clients.pubmed
    if client is None or not search.query:
        raise ValueError(f"search {search.id}: no PubMed client or query")
    started = run.clock()
    result = client.search_window(search.query, window.start or date(1800, 1, 1), window.end)
    run.writer.add_response(
        "pubmed",
        result.requests[0] if result.requests else {},
        _json_bytes(result.to_dict()),
        started_at=started,
        count=len(result.pmids),
        total_count=result.count,
        query_translation=result.query_translation,
        extra={"search_id": search.id, "kind": "esearch", "window": _window_days(window)},
    )
    fetched = client.efetch(result.pmids) if result.pmids else None
    for batch in fetched.batches if fetched else ():
        run.writer.add_response(
            "pubmed", batch.request, batch.content, started_at=started, count=len(batch.pmids),
            extra={"search_id": search.id, "kind": "efetch"},
        )  # fmt: skip
    entry.status, entry.total_count = "ok", result.count
    entry.query_translation = result.query_translation
    entry.unexpected = list(fetched.unexpected) if fetched else []
    found = list(fetched.records) if fetched else []
    entry.identified = len(found)
    return found


def _search_ctgov(
    run: SourceRun, search: SavedSearch, window: SearchWindow, entry: SourceReport
) -> tuple[list[Record], str | None]:
    client = run.clients.ctgov
    if client is None:
        raise ValueError(f"search {search.id}: no ClinicalTrials.gov client")
    started = run.clock()
    version = client.version()
    if run.state.data_unchanged(search.id, version.data_timestamp):
        entry.status = "unchanged"
        return [], version.data_timestamp
    result = client.search(
        cond=search.cond, intr=search.intr, term=search.term, since=window.start, until=window.end
    )
    for page in result.pages:
        run.writer.add_response(
            "ctgov", page.request, page.content, started_at=started, count=page.n_studies,
            total_count=result.total_count,
            extra={"search_id": search.id, "data_timestamp": version.data_timestamp,
                   "next_page_token": page.next_page_token},
        )  # fmt: skip
    entry.status, entry.total_count = "ok", result.total_count
    entry.identified = len(result.records)
    return list(result.records), version.data_timestamp


def recheck_watched(run: SourceRun, registry: Registry) -> list[Record]:
    """Re-fetch the PubMed record of every record already handed to reviewers (whatever
    source it came from, if it has a PMID), to catch retractions, errata and expressions
    of concern published since. Missing PMIDs are reported, not dropped.

    The notices are copied onto the stored records (same ids), so the watch list never
    adds records of its own: it is not a search, and PRISMA must not count it as one.
    """
    stored: dict[str, list[Record]] = {}
    for record in registry.records():
        if registry.entry(record.record_id).reported_in and record.pmid:
            stored.setdefault(record.pmid, []).append(record)
    if not stored or run.clients.pubmed is None:
        return []
    started = run.clock()
    try:
        fetched = run.clients.pubmed.efetch(sorted(stored), allow_missing=True)
    except (SourceError, ValueError) as exc:
        run.log(f"watch list: FAILED: {exc}")
        run.changes.append({"kind": "watch_list_failed", "error": str(exc)})
        return []
    for batch in fetched.batches:
        run.writer.add_response("pubmed", batch.request, batch.content, started_at=started,
                                count=len(batch.pmids), extra={"kind": "watch_list"})  # fmt: skip
    for pmid in fetched.missing:
        for record in stored[pmid]:
            run.changes.append({"kind": "missing_from_pubmed", "record_id": record.record_id})
    run.changes += unexpected_changes("watch_list", fetched.unexpected)
    run.log(f"watch list: {len(stored)} PMIDs re-checked, {len(fetched.missing)} missing")
    notices = {r.pmid: {name: getattr(r, name) for name in WATCHED_FIELDS} for r in fetched.records}
    return [
        replace(record, **notices[pmid])
        for pmid, records in stored.items()
        if pmid in notices
        for record in records
    ]


def unexpected_changes(search_id: str, pmids: Sequence[str]) -> list[dict[str, Any]]:
    """``report.json`` changes for records EFetch returned without being asked for."""
    return [
        {
            "kind": UNEXPECTED,
            "record_id": f"pubmed:{pmid}",
            "search_id": search_id,
            "before": None,
            "after": "refused: returned by EFetch without being requested",
        }
        for pmid in pmids
    ]


def day(value: date | None) -> str | None:
    """A date as ISO text (``None`` stays ``None``: an open end of a window)."""
    return None if value is None else value.isoformat()


def _window_days(window: SearchWindow) -> list[str | None]:
    return [day(window.start), day(window.end)]


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True, default=str).encode("utf-8")
