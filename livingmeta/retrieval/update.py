"""One scheduled retrieval run of a review: search every saved search over its window,
snapshot what the sources said, upsert and deduplicate, and hand over new candidates.

A source that fails (network, HTTP, malformed or truncated response, counts that do not
add up) fails *alone*: its window is not committed, the failure is recorded, and the rest
of the run goes on with the last good state, which the report marks as stale. With
``strict`` the run raises instead, so a scheduled job can fail loudly.

Order of writes (crash safety): snapshot files -> candidates file -> registry -> state.
Records saved but not yet reported come out as candidates next time; a window is only
committed after the registry holding its records was saved. A run that raises finalises
its snapshot as failed; one killed outright leaves a folder without a manifest, which the
next run finalises as failed (:func:`~livingmeta.retrieval.snapshots.finalise_abandoned`).
Records handed over by a run that died before they reached the screening queue are
handed over again, and counted as new, by the next run that is given the queue.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from livingmeta.files import locked
from livingmeta.retrieval.candidate_export import iter_candidate_rows, write_candidates
from livingmeta.retrieval.ctgov import CtgovClient
from livingmeta.retrieval.eutils import EutilsClient, EutilsConfig
from livingmeta.retrieval.http import SourceError
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Candidate, Registry
from livingmeta.retrieval.search_state import SearchState, SearchWindow
from livingmeta.retrieval.snapshots import SnapshotWriter, finalise_abandoned, replay

SOURCES = ("pubmed", "ctgov")
#: ``report.json`` change kind for PMIDs EFetch returned without being asked for.
UNEXPECTED = "unexpected_from_pubmed"
WATCHED_FIELDS = ("retracted", "retraction_notices", "errata", "concerns")
TRIAL_FIELDS = ("overall_status", "has_results", "results_first_posted")


class RetrievalError(RuntimeError):
    """A strict run had a failing source."""


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


@dataclass(frozen=True)
class RetrievalSettings:
    """The ``retrieval:`` block of the config (see config/README.md)."""

    enabled: bool = True
    email: str | None = None
    tool: str = "livingmeta"
    api_key_env: str = "NCBI_API_KEY"
    overlap_days: int = 3
    stale_after_days: int = 8
    threshold: float = 0.93
    doubtful_threshold: float = 0.85
    strict: bool = False

    @classmethod
    def from_config(cls, spec: Mapping[str, Any] | None) -> RetrievalSettings:
        spec = dict(spec or {})
        dedup = spec.pop("dedup", {}) or {}
        known = {k: v for k, v in spec.items() if k in cls.__dataclass_fields__}
        return cls(
            **known, **{k: v for k, v in dedup.items() if k in ("threshold", "doubtful_threshold")}
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
class RetrievalReport:
    """What a retrieval run did: per search, candidates, changes to watched records,
    stale sources and PRISMA counts. ``to_dict`` is ``report.json``."""

    review: str
    run_id: str
    started_at: str
    finished_at: str = ""
    searches: list[SourceReport] = field(default_factory=list)
    new_candidates: int = 0
    linked_to_existing: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(default_factory=list)
    prisma: dict[str, dict[str, int]] = field(default_factory=dict)
    doubtful_pairs: int = 0
    carried_over: int = 0
    finalised_abandoned: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.searches if s.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def saved_searches(review_spec: Mapping[str, Any]) -> list[SavedSearch]:
    """The review's saved searches, in config order."""
    return [SavedSearch.from_config(s) for s in review_spec.get("searches", [])]


def run_retrieval(
    review_id: str,
    state_dir: str | os.PathLike[str],
    searches: Sequence[SavedSearch],
    settings: RetrievalSettings,
    *,
    run_id: str,
    today: date,
    clients: Clients | None = None,
    candidates_path: str | os.PathLike[str],
    already_queued: Iterable[str] | None = None,
    now: Callable[[], datetime] | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> RetrievalReport:
    """Run every saved search of one review and update its registry (see module doc).

    ``already_queued`` (the record ids of the screening queue) lets the run carry over
    records an interrupted earlier run handed over that never reached the queue: they
    are written to the candidates file again and counted as new in this run, the one
    that puts them in front of reviewers. ``None`` skips that check.

    A failing source is reported (``report.failed``), not raised: see
    :func:`livingmeta.workflow.search.search_review` for ``strict`` runs.
    """
    # One writer of the registry at a time (a `livingmeta import` waits for the run).
    with locked(Path(state_dir) / "registry" / "records.jsonl"):
        abandoned = finalise_abandoned(state_dir, run_id)
        if abandoned:
            log(f"finalised as failed the snapshots interrupted runs left: {', '.join(abandoned)}")
        clients = clients or (Clients.from_settings(settings) if settings.enabled else Clients())
        clock = now or (lambda: datetime.now(UTC))
        report = RetrievalReport(review_id, run_id, _iso(clock()))
        report.finalised_abandoned = abandoned
        writer = SnapshotWriter(state_dir, run_id, secrets=clients.secrets(), now=clock)
        with writer:  # an exception finalises what was received as a failed snapshot
            _run_retrieval(
                report, Path(state_dir), searches, settings, writer, today=today,
                clients=clients, candidates_path=candidates_path,
                already_queued=already_queued, clock=clock, log=log,
            )  # fmt: skip
        return report


def _run_retrieval(
    report: RetrievalReport,
    state_dir: Path,
    searches: Sequence[SavedSearch],
    settings: RetrievalSettings,
    writer: SnapshotWriter,
    *,
    today: date,
    clients: Clients,
    candidates_path: str | os.PathLike[str],
    already_queued: Iterable[str] | None,
    clock: Callable[[], datetime],
    log: Callable[[str], None],
) -> None:
    run_id = report.run_id
    state = SearchState.load(state_dir / "state.json")
    registry = Registry.load(state_dir / "registry")
    records, staged = _search_all(
        report, searches, settings, state, clients, writer, today, clock, log
    )
    pubmed_ok = any(
        s.source == "pubmed" and s.status in ("ok", "unchanged") for s in report.searches
    )
    if pubmed_ok and clients.pubmed is not None:
        records += _recheck_watched(registry, clients.pubmed, writer, report, clock, log)

    before = {r.record_id: _watched_state(registry, r.record_id) for r in records}
    if records:  # a run that retrieved nothing (offline) leaves the registry as it was
        registry.upsert(records, run_id)
    registry.deduplicate(settings.threshold, settings.doubtful_threshold)
    report.changes += _changes(registry, before)
    candidates = registry.new_candidates()
    carried = _carried_over(registry, already_queued, candidates)
    if carried:
        log(f"{len(carried)} records handed over by an interrupted run are handed over again")
    write_candidates(iter_candidate_rows(registry, [*candidates, *carried]), candidates_path)
    registry.mark_reported(candidates, run_id)
    registry.save(state_dir / "registry")
    if writer.root.exists():  # nothing answered (e.g. offline): no empty snapshot
        writer.finalise()
    if staged:
        state.commit_windows(
            [w for w, _, _ in staged],
            run_id=run_id,
            at=clock(),
            sources={w.search_id: s for w, s, _ in staged},
            data_timestamps={w.search_id: t for w, _, t in staged if t},
        )
    handed = [*candidates, *carried]
    report.new_candidates = sum(c.status == "new" for c in handed)
    report.linked_to_existing = sum(c.status != "new" for c in handed)
    report.carried_over = len(carried)
    report.doubtful_pairs = len(registry.doubtful)
    report.prisma = registry.prisma_counts(run_id)
    report.stale = _stale(state, searches, settings, clock)
    report.finished_at = _iso(clock())


def _search_all(
    report: RetrievalReport,
    searches: Sequence[SavedSearch],
    settings: RetrievalSettings,
    state: SearchState,
    clients: Clients,
    writer: SnapshotWriter,
    today: date,
    clock: Callable[[], datetime],
    log: Callable[[str], None],
) -> tuple[list[Record], list[tuple[SearchWindow, str, str | None]]]:
    """Run each saved search; a failing source fails alone (recorded in ``state``)."""
    records: list[Record] = []
    staged: list[tuple[SearchWindow, str, str | None]] = []
    for search in searches:
        window = state.next_window(search.id, today, settings.overlap_days, search.start_date)
        entry = SourceReport(
            search.id, search.source, "disabled", _day(window.start), _day(window.end)
        )
        report.searches.append(entry)
        if not settings.enabled:
            log(f"{search.id}: retrieval disabled in config; using the last saved state")
            continue
        since = entry.window_start or "the start"
        log(f"{search.id}: searching {search.source} from {since} to {entry.window_end}")
        try:
            found, stamp = _run_search(search, window, clients, writer, state, entry, clock)
        except (SourceError, ValueError) as exc:
            entry.status, entry.error = "failed", str(exc)
            state.record_failure([search.id], run_id=report.run_id, at=clock(), error=str(exc))
            log(f"{search.id}: FAILED: {exc}")
            continue
        records += found
        staged.append((window, search.source, stamp))
        report.changes += _unexpected_changes(search.id, entry.unexpected)
        log(f"{search.id}: {entry.status}, {entry.identified} records")
        if entry.unexpected:
            log(f"{search.id}: refused {len(entry.unexpected)} records EFetch sent unasked")
    return records, staged


def _carried_over(
    registry: Registry, already_queued: Iterable[str] | None, candidates: Sequence[Candidate]
) -> list[Candidate]:
    """Candidates an earlier run handed over that the screening queue never received."""
    if already_queued is None:
        return []
    from livingmeta.retrieval.imports import PREVIOUS_VERSION

    pending = {rid for c in candidates for rid in c.record_ids}
    return registry.handed_over_but_not_queued(
        set(already_queued) | pending, skip_run=PREVIOUS_VERSION
    )


def _unexpected_changes(search_id: str, pmids: Sequence[str]) -> list[dict[str, Any]]:
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


def _stale(
    state: SearchState,
    searches: Sequence[SavedSearch],
    settings: RetrievalSettings,
    clock: Callable[[], datetime],
) -> list[dict[str, Any]]:
    configured = {s.id: s.source for s in searches}
    stale = state.stale_sources(
        clock(), timedelta(days=settings.stale_after_days), [s.id for s in searches]
    )
    return [
        {
            "search_id": s.search_id,
            "source": s.source or configured.get(s.search_id),
            "since": None if s.since is None else _iso(s.since),
            "failing": s.failing,
            "error": s.error,
        }
        for s in stale.values()
    ]


def _run_search(
    search: SavedSearch,
    window: SearchWindow,
    clients: Clients,
    writer: SnapshotWriter,
    state: SearchState,
    entry: SourceReport,
    clock: Callable[[], datetime],
) -> tuple[list[Record], str | None]:
    if search.source == "pubmed":
        if clients.pubmed is None or not search.query:
            raise ValueError(f"search {search.id}: no PubMed client or query")
        started = clock()
        start = window.start or date(1800, 1, 1)
        result = clients.pubmed.search_window(search.query, start, window.end)
        writer.add_response(
            "pubmed",
            result.requests[0] if result.requests else {},
            _json_bytes(result.to_dict()),
            started_at=started,
            count=len(result.pmids),
            total_count=result.count,
            query_translation=result.query_translation,
            extra={
                "search_id": search.id,
                "kind": "esearch",
                "window": [_day(window.start), _day(window.end)],
            },
        )
        fetched = clients.pubmed.efetch(result.pmids) if result.pmids else None
        for batch in fetched.batches if fetched else ():
            writer.add_response(
                "pubmed", batch.request, batch.content, started_at=started, count=len(batch.pmids),
                extra={"search_id": search.id, "kind": "efetch"},
            )  # fmt: skip
        entry.status, entry.total_count = "ok", result.count
        entry.query_translation = result.query_translation
        entry.unexpected = list(fetched.unexpected) if fetched else []
        found = list(fetched.records) if fetched else []
        entry.identified = len(found)
        return found, None
    if search.source == "ctgov":
        if clients.ctgov is None:
            raise ValueError(f"search {search.id}: no ClinicalTrials.gov client")
        started = clock()
        version = clients.ctgov.version()
        if state.data_unchanged(search.id, version.data_timestamp):
            entry.status = "unchanged"
            return [], version.data_timestamp
        result = clients.ctgov.search(
            cond=search.cond,
            intr=search.intr,
            term=search.term,
            since=window.start,
            until=window.end,
        )
        for page in result.pages:
            writer.add_response(
                "ctgov", page.request, page.content, started_at=started, count=page.n_studies,
                total_count=result.total_count,
                extra={"search_id": search.id, "data_timestamp": version.data_timestamp,
                       "next_page_token": page.next_page_token},
            )  # fmt: skip
        entry.status, entry.total_count, entry.identified = (
            "ok",
            result.total_count,
            len(result.records),
        )
        return list(result.records), version.data_timestamp
    raise ValueError(f"search {search.id}: unknown source {search.source!r}")


def _recheck_watched(
    registry: Registry,
    client: EutilsClient,
    writer: SnapshotWriter,
    report: RetrievalReport,
    clock: Callable[[], datetime],
    log: Callable[[str], None],
) -> list[Record]:
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
    if not stored:
        return []
    started = clock()
    try:
        fetched = client.efetch(sorted(stored), allow_missing=True)
    except (SourceError, ValueError) as exc:
        log(f"watch list: FAILED: {exc}")
        report.changes.append({"kind": "watch_list_failed", "error": str(exc)})
        return []
    for batch in fetched.batches:
        writer.add_response("pubmed", batch.request, batch.content, started_at=started,
                            count=len(batch.pmids), extra={"kind": "watch_list"})  # fmt: skip
    for pmid in fetched.missing:
        for record in stored[pmid]:
            report.changes.append({"kind": "missing_from_pubmed", "record_id": record.record_id})
    report.changes += _unexpected_changes("watch_list", fetched.unexpected)
    log(f"watch list: {len(stored)} PMIDs re-checked, {len(fetched.missing)} missing")
    notices = {r.pmid: {name: getattr(r, name) for name in WATCHED_FIELDS} for r in fetched.records}
    return [
        replace(record, **notices[pmid])
        for pmid, records in stored.items()
        if pmid in notices
        for record in records
    ]


def _watched_state(registry: Registry, record_id: str) -> dict[str, Any] | None:
    try:
        record = registry.entry(record_id).record
    except KeyError:
        return None
    return _state_of(record)


def _state_of(record: Record) -> dict[str, Any]:
    state = {name: getattr(record, name) for name in WATCHED_FIELDS}
    if record.trial is not None:
        state.update({name: getattr(record.trial, name) for name in TRIAL_FIELDS})
    return state


def _changes(
    registry: Registry, before: Mapping[str, dict[str, Any] | None]
) -> list[dict[str, Any]]:
    """Retractions, errata, concerns, trial status and results changes of known records."""
    changes = []
    for record_id, old in sorted(before.items()):
        if old is None:
            continue
        new = _state_of(registry.entry(record_id).record)
        for name, value in new.items():
            if old.get(name) != value:
                changes.append(
                    {
                        "kind": name,
                        "record_id": record_id,
                        "before": _plain(old.get(name)),
                        "after": _plain(value),
                    }
                )
    return changes


def replay_records(snapshot_dir: str | os.PathLike[str]) -> list[Record]:
    """Re-parse a past run's raw responses into records (EFetch XML and CT.gov pages)."""
    from livingmeta.retrieval.ctgov import parse_page, parse_study
    from livingmeta.retrieval.pubmed_xml import parse_pubmed_xml

    out: list[Record] = []
    for meta, raw in replay(snapshot_dir):
        kind = (meta.get("extra") or {}).get("kind")
        if meta["source"] == "pubmed" and kind in ("efetch", "watch_list"):
            out += parse_pubmed_xml(raw)
        elif meta["source"] == "ctgov":
            out += [parse_study(s) for s in parse_page(raw).get("studies", [])]
    return out


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _json_bytes(obj: Any) -> bytes:
    import json

    return json.dumps(obj, indent=2, sort_keys=True, default=str).encode("utf-8")


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


__all__: Iterable[str] = (
    "Clients",
    "RetrievalError",
    "RetrievalReport",
    "RetrievalSettings",
    "SavedSearch",
    "replay_records",
    "run_retrieval",
    "saved_searches",
)
