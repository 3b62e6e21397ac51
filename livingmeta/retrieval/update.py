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
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from livingmeta.config import RetrievalFiles
from livingmeta.retrieval.candidate_export import iter_candidate_rows, write_candidates
from livingmeta.retrieval.dedup import DEFAULT_DOUBTFUL_THRESHOLD, DEFAULT_THRESHOLD
from livingmeta.retrieval.http import SourceError
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Candidate, Registry
from livingmeta.retrieval.registry_files import registry_lock
from livingmeta.retrieval.search_state import SearchState, SearchWindow
from livingmeta.retrieval.snapshots import SnapshotWriter, finalise_abandoned, replay
from livingmeta.retrieval.source_search import (
    WATCHED_FIELDS,
    Clients,
    SavedSearch,
    SourceReport,
    SourceRun,
    day,
    recheck_watched,
    run_search,
    unexpected_changes,
)

SOURCES = ("pubmed", "ctgov")
TRIAL_FIELDS = ("overall_status", "has_results", "results_first_posted")


class RetrievalError(RuntimeError):
    """A strict run had a failing source."""


@dataclass(frozen=True)
class RetrievalSettings:
    """The ``retrieval:`` block of the config (see config/README.md)."""

    enabled: bool = True
    email: str | None = None
    tool: str = "livingmeta"
    api_key_env: str = "NCBI_API_KEY"
    overlap_days: int = 3
    stale_after_days: int = 8
    threshold: float = DEFAULT_THRESHOLD
    doubtful_threshold: float = DEFAULT_DOUBTFUL_THRESHOLD
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
    state: RetrievalFiles | str | os.PathLike[str],
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

    ``state`` is the review's retrieval state folder (``ReviewFiles.state``, which the
    rule gives the step) or its :class:`~livingmeta.config.RetrievalFiles`.

    A failing source is reported (``report.failed``), not raised: see
    :func:`livingmeta.workflow.search.search_review` for ``strict`` runs.
    """
    files = state if isinstance(state, RetrievalFiles) else RetrievalFiles(Path(state))
    # One writer of the registry at a time (a `livingmeta import` waits for the run).
    with registry_lock(files.registry):
        abandoned = finalise_abandoned(files.state, run_id)
        if abandoned:
            log(f"finalised as failed the snapshots interrupted runs left: {', '.join(abandoned)}")
        clients = clients or (Clients.from_settings(settings) if settings.enabled else Clients())
        clock = now or (lambda: datetime.now(UTC))
        report = RetrievalReport(review_id, run_id, _iso(clock()))
        report.finalised_abandoned = abandoned
        writer = SnapshotWriter(files.state, run_id, secrets=clients.secrets(), now=clock)
        with writer:  # an exception finalises what was received as a failed snapshot
            state = SearchState.load(files.search_state)
            run = SourceRun(run_id, clients, writer, state, clock, log, changes=report.changes)
            _run_retrieval(
                run, report, files, searches, settings, today=today,
                candidates_path=candidates_path, already_queued=already_queued,
            )  # fmt: skip
        return report


def _run_retrieval(
    run: SourceRun,
    report: RetrievalReport,
    files: RetrievalFiles,
    searches: Sequence[SavedSearch],
    settings: RetrievalSettings,
    *,
    today: date,
    candidates_path: str | os.PathLike[str],
    already_queued: Iterable[str] | None,
) -> None:
    state = run.state
    registry = Registry.load(files.registry)
    records, staged = _search_all(run, report, searches, settings, today)
    if any(s.source == "pubmed" and s.status in ("ok", "unchanged") for s in report.searches):
        records += recheck_watched(run, registry)

    before = _stored_states(registry, records)
    if records:  # a run that retrieved nothing (offline) leaves the registry as it was
        registry.upsert(records, run.run_id)
    registry.deduplicate(settings.threshold, settings.doubtful_threshold)
    report.changes += _changes(registry, before)
    candidates = registry.new_candidates()
    carried = _carried_over(registry, already_queued, candidates)
    if carried:
        run.log(f"{len(carried)} records handed over by an interrupted run are handed over again")
    write_candidates(iter_candidate_rows(registry, [*candidates, *carried]), candidates_path)
    registry.mark_reported(candidates, run.run_id)
    registry.save(files.registry)
    if run.writer.root.exists():  # nothing answered (e.g. offline): no empty snapshot
        run.writer.finalise()
    if staged:
        state.commit_windows(
            [w for w, _, _ in staged],
            run_id=run.run_id,
            at=run.clock(),
            sources={w.search_id: s for w, s, _ in staged},
            data_timestamps={w.search_id: t for w, _, t in staged if t},
        )
    handed = [*candidates, *carried]
    report.new_candidates = sum(c.status == "new" for c in handed)
    report.linked_to_existing = sum(c.status != "new" for c in handed)
    report.carried_over = len(carried)
    report.doubtful_pairs = len(registry.doubtful)
    report.prisma = registry.prisma_counts(run.run_id)
    report.stale = _stale(state, searches, settings, run.clock)
    report.finished_at = _iso(run.clock())


def _search_all(
    run: SourceRun,
    report: RetrievalReport,
    searches: Sequence[SavedSearch],
    settings: RetrievalSettings,
    today: date,
) -> tuple[list[Record], list[tuple[SearchWindow, str, str | None]]]:
    """Run each saved search; a failing source fails alone (recorded in the state)."""
    state = run.state
    records: list[Record] = []
    staged: list[tuple[SearchWindow, str, str | None]] = []
    for search in searches:
        window = state.next_window(search.id, today, settings.overlap_days, search.start_date)
        entry = SourceReport(
            search.id, search.source, "disabled", day(window.start), day(window.end)
        )
        report.searches.append(entry)
        if not settings.enabled:
            run.log(f"{search.id}: retrieval disabled in config; using the last saved state")
            continue
        since = entry.window_start or "the start"
        run.log(f"{search.id}: searching {search.source} from {since} to {entry.window_end}")
        try:
            found, stamp = run_search(run, search, window, entry)
        except (SourceError, ValueError) as exc:
            entry.status, entry.error = "failed", str(exc)
            state.record_failure([search.id], run_id=run.run_id, at=run.clock(), error=str(exc))
            run.log(f"{search.id}: FAILED: {exc}")
            continue
        records += found
        staged.append((window, search.source, stamp))
        report.changes += unexpected_changes(search.id, entry.unexpected)
        run.log(f"{search.id}: {entry.status}, {entry.identified} records")
        if entry.unexpected:
            run.log(f"{search.id}: refused {len(entry.unexpected)} records EFetch sent unasked")
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


def _stored_states(registry: Registry, records: Iterable[Record]) -> dict[str, dict[str, Any]]:
    """The watched state of each stored record that comes back different: only those can
    change (a backfill's records all come back, and a state of each would be held)."""
    states: dict[str, dict[str, Any]] = {}
    for record in records:
        rid = record.record_id
        if rid in registry and rid not in states and registry.entry(rid).record != record:
            states[rid] = _state_of(registry.entry(rid).record)
    return states


def _state_of(record: Record) -> dict[str, Any]:
    state = {name: getattr(record, name) for name in WATCHED_FIELDS}
    if record.trial is not None:
        state.update({name: getattr(record.trial, name) for name in TRIAL_FIELDS})
    return state


def _changes(registry: Registry, before: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Retractions, errata, concerns, trial status and results changes of known records."""
    changes = []
    for record_id, old in sorted(before.items()):
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
