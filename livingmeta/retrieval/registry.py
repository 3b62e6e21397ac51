"""The review's record registry: every record ever retrieved, across sources and runs.

Why a registry: a living review searches the same sources again and again with overlapping
windows, and users import exports that repeat PubMed. The registry is the one place that
knows which records were already seen and reported, so a run can hand reviewers only what
is genuinely new, and a repeated or interrupted run never loses or duplicates a candidate.

Records are never deleted. Upserting the same ``record_id`` again replaces the stored
version and remembers in which runs it was seen; deduplication only adds *links* between
records (:mod:`livingmeta.retrieval.dedup`), and clusters are the connected components of
those links, keyed by the trial's NCT id when there is one.

The files of the registry folder are described in
:mod:`livingmeta.retrieval.registry_files`.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from livingmeta.retrieval.dedup import (
    DECISIONS,
    DEFAULT_DOUBTFUL_THRESHOLD,
    DEFAULT_THRESHOLD,
    DoubtfulPair,
    Link,
    duplicate_groups,
    find_links,
    record_trials,
)
from livingmeta.retrieval.dedup import trial_aliases as _trial_aliases
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry_files import (
    Entry,
    StoredRegistry,
    read_folder,
    write_folder,
)

# How a record was handed to screening (``reported_as``).
CANDIDATE = "candidate"
DUPLICATE = "duplicate"
LINKED_TO_EXISTING = "linked_to_existing"
NEW = "new"


class StaleLinksError(RuntimeError):
    """Records changed since the last :meth:`Registry.deduplicate`; clusters would be wrong."""


@dataclass(frozen=True)
class UpsertResult:
    """What one :meth:`Registry.upsert` changed (each list sorted)."""

    new_record_ids: list[str]
    updated_record_ids: list[str]
    unchanged_record_ids: list[str]


@dataclass(frozen=True)
class Candidate:
    """One cluster with records not yet handed to screening.

    ``status`` is ``"new"`` when none of the cluster's records were reported before (screen
    it), or ``"linked_to_existing"`` when the new records are further reports of a study
    reviewers already have (``existing_record_ids``).
    """

    cluster_id: str
    status: str
    representative: str
    record_ids: tuple[str, ...]
    existing_record_ids: tuple[str, ...] = ()


class Registry:
    """Records, their run history, the links between them and the manual queue.

    Examples
    --------
    >>> reg = Registry()
    >>> rec = Record(record_id="pubmed:1", source="pubmed", title="A trial", pmid="1")
    >>> reg.upsert([rec], run_id="2026-01-01").new_record_ids
    ['pubmed:1']
    >>> reg.upsert([rec], run_id="2026-01-08").new_record_ids
    []
    >>> _ = reg.deduplicate()
    >>> [c.status for c in reg.new_candidates()]
    ['new']
    """

    def __init__(self, stored: StoredRegistry | None = None) -> None:
        self._s = stored if stored is not None else StoredRegistry()

    @property
    def threshold(self) -> float:
        """Fuzzy-link threshold used by the last :meth:`deduplicate`."""
        return self._s.threshold

    @property
    def doubtful_threshold(self) -> float:
        """Lower bound of the manual-queue band used by the last :meth:`deduplicate`."""
        return self._s.doubtful_threshold

    # -- records ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._s.entries)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._s.entries

    def entry(self, record_id: str) -> Entry:
        """The stored record and its history (``KeyError`` if unknown)."""
        return self._s.entries[record_id]

    def records(self) -> list[Record]:
        """All records, sorted by ``record_id``."""
        return [self._s.entries[rid].record for rid in sorted(self._s.entries)]

    @property
    def runs(self) -> tuple[str, ...]:
        """Run ids in the order they first upserted records."""
        return tuple(self._s.runs)

    def upsert(
        self, records: Iterable[Record], run_id: str, *, keep_existing: bool = False
    ) -> UpsertResult:
        """Add or replace records by ``record_id`` and note that ``run_id`` saw them.

        Re-adding an identical record only extends its ``seen_in``; a changed record
        (e.g. a ClinicalTrials.gov study that posted results) replaces the stored one.
        ``extra`` is stored but does not count as a change.

        Parameters
        ----------
        records
            Records from one or more sources.
        run_id
            Identifier of the current run (any non-empty string without newlines).
        keep_existing
            Never replace a stored record (imports): a known id only gains ``run_id`` in
            its ``seen_in`` and counts as unchanged, so an export can never alter a record
            reviewers already have, nor the richer copy a search stored.

        Returns
        -------
        UpsertResult
            Record ids that were new, updated or unchanged.
        """
        if not run_id or not run_id.strip() or "\n" in run_id:
            raise ValueError(f"run_id must be a non-empty single-line string, got {run_id!r}")
        if run_id not in self._s.runs:
            self._s.runs.append(run_id)
        new: set[str] = set()
        updated: set[str] = set()
        unchanged: set[str] = set()
        for record in records:
            rid = record.record_id
            entry = self._s.entries.get(rid)
            if entry is None:
                self._s.entries[rid] = Entry(record, [run_id])
                new.add(rid)
                continue
            if keep_existing:
                if rid not in new:
                    unchanged.add(rid)
                if run_id not in entry.seen_in:
                    entry.seen_in.append(run_id)
                continue
            if rid not in new:
                if entry.record != record:
                    updated.add(rid)
                    unchanged.discard(rid)
                elif rid not in updated:
                    unchanged.add(rid)
            entry.record = record
            if run_id not in entry.seen_in:
                entry.seen_in.append(run_id)
        if new or updated:
            self._s.links = None
        return UpsertResult(sorted(new), sorted(updated), sorted(unchanged))

    # -- links and clusters ---------------------------------------------------------------

    def deduplicate(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        doubtful_threshold: float = DEFAULT_DOUBTFUL_THRESHOLD,
    ) -> list[Link]:
        """Recompute all links from the records and the reviewers' decisions.

        Recomputing from scratch (rather than only for new records) keeps the result a
        function of the record set alone, so the order of runs cannot change clusters;
        it is fast enough for that (about 100,000 records in a few seconds).

        Parameters
        ----------
        threshold
            Title similarity (0-1) above which records with no shared id are linked.
        doubtful_threshold
            Lower bound of the band that goes to the manual queue instead.

        Returns
        -------
        list[Link]
            All links, sorted.
        """
        result = find_links(self.records(), threshold, doubtful_threshold, self._s.doubtful)
        self._s.links = list(result.links)
        self._s.doubtful = list(result.doubtful)
        self._s.threshold, self._s.doubtful_threshold = threshold, doubtful_threshold
        return list(self._s.links)

    @property
    def links(self) -> list[Link]:
        """Links from the last deduplication (raises :class:`StaleLinksError` if stale)."""
        return list(self._current_links())

    @property
    def doubtful(self) -> list[DoubtfulPair]:
        """The manual queue, decided pairs included."""
        return list(self._s.doubtful)

    def decide(
        self,
        record_a: str,
        record_b: str,
        decision: str,
        *,
        decided_by: str = "",
        decided_on: str = "",
    ) -> None:
        """Record a reviewer's ``"same"``/``"different"`` decision on a doubtful pair,
        signed (``decided_by``, ``decided_on``) so that the signature is kept with it.

        Takes effect at the next :meth:`deduplicate`; the same can be done by editing the
        ``decision`` column of ``doubtful.csv`` (or in the workspace's Duplicates screen).
        """
        if decision not in DECISIONS[1:]:
            raise ValueError(f"decision must be 'same' or 'different', got {decision!r}")
        a, b = sorted((record_a, record_b))
        signature = {"decision": decision, "decided_by": decided_by, "decided_on": decided_on}
        for k, pair in enumerate(self._s.doubtful):
            if (pair.record_a, pair.record_b) == (a, b):
                self._s.doubtful[k] = replace(pair, **signature)
                break
        else:
            self._s.doubtful.append(DoubtfulPair(a, b, "manual", 0.0, **signature))
        self._s.doubtful.sort()

    def clusters(self) -> dict[str, list[str]]:
        """Cluster id -> sorted member record ids, for every record (singletons included).

        A cluster is a connected component of the links. Its id is the trial's NCT id
        when the members point to exactly one trial (so all reports of a trial sit under
        it); otherwise the id of its earliest-seen record, which does not change when
        later records join.
        """
        parent = {rid: rid for rid in self._s.entries}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for link in self._current_links():
            ra, rb = find(link.record_a), find(link.record_b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        components: dict[str, list[str]] = defaultdict(list)
        for rid in sorted(self._s.entries):
            components[find(rid)].append(rid)

        aliases = _trial_aliases(e.record for e in self._s.entries.values())
        run_order = {run: k for k, run in enumerate(self._s.runs)}

        def seen(rid: str) -> tuple[int, str]:
            return (run_order[self._s.entries[rid].first_seen], rid)

        named: dict[str, list[str]] = {}
        # Oldest clusters first, so that an id clash (two clusters of one trial, kept apart
        # by a reviewer) renames the younger one and existing ids stay put.
        for members in sorted(components.values(), key=lambda ms: min(map(seen, ms))):
            trials = set().union(
                *(record_trials(self._s.entries[m].record, aliases) for m in members)
            )
            earliest = min(members, key=seen)
            cluster_id = next(iter(trials)) if len(trials) == 1 else earliest
            if cluster_id in named:
                cluster_id = f"{cluster_id}/{earliest}"
            named[cluster_id] = members
        return dict(sorted(named.items()))

    def duplicate_groups(self) -> list[list[str]]:
        """Groups of records that are one article (sorted; singletons included).

        A cluster is a study; within it, only records joined by duplicate links (same
        PMID or DOI, same title and citation, a reviewer's ``same``) are copies of one
        article. Records of a cluster in different groups are linked reports (a
        conference abstract and its article, a registration and its results paper).
        """
        return duplicate_groups(self._s.entries, self._current_links())

    def cluster_of(self) -> dict[str, str]:
        """Record id -> cluster id."""
        return {rid: cid for cid, members in self.clusters().items() for rid in members}

    # -- candidates and PRISMA --------------------------------------------------------------

    def new_candidates(self) -> list[Candidate]:
        """Clusters holding records never handed to screening, sorted by cluster id.

        "Not yet reported" rather than "first seen in this run" is what makes runs safe to
        repeat: records saved by a run that crashed before reporting come out next time,
        and records already reported never come out again. Call :meth:`mark_reported`
        once the candidate list is safely written.
        """
        candidates = []
        for cluster_id, members in self.clusters().items():
            pending = tuple(m for m in members if self._s.entries[m].reported_in is None)
            if not pending:
                continue
            existing = tuple(m for m in members if m not in pending)
            candidates.append(
                Candidate(
                    cluster_id=cluster_id,
                    status=LINKED_TO_EXISTING if existing else NEW,
                    representative=self._representative(pending),
                    record_ids=pending,
                    existing_record_ids=existing,
                )
            )
        return candidates

    def mark_reported(self, candidates: Iterable[Candidate], run_id: str) -> None:
        """Remember that ``candidates`` were handed to screening in ``run_id``.

        Records already marked keep their first report, so calling this twice is harmless.
        """
        for candidate in candidates:
            for rid in candidate.record_ids:
                entry = self._s.entries[rid]
                if entry.reported_in is not None:
                    continue
                entry.reported_in = run_id
                if candidate.status == LINKED_TO_EXISTING:
                    entry.reported_as = LINKED_TO_EXISTING
                else:
                    is_rep = rid == candidate.representative
                    entry.reported_as = CANDIDATE if is_rep else DUPLICATE

    def prisma_counts(self, run_id: str) -> dict[str, dict[str, int]]:
        """PRISMA flow numbers per source for one run.

        ``identified`` counts the source's records retrieved by the run; ``to_screen`` the
        ones that became a screening candidate; ``linked_reports`` other reports of a
        study (a conference abstract and its article: another article, not a copy),
        screened with their study rather than removed; ``duplicates_removed`` the rest
        (records seen before and copies of one article from other sources or the same
        run); ``pending`` records not yet reported (0 after :meth:`mark_reported`).
        ``identified == to_screen + linked_reports + duplicates_removed + pending``. A
        record is counted as new in the run that first retrieved it, so each candidate
        and each linked report is counted once across runs.
        """
        linked = self._linked_reports()
        counts: dict[str, dict[str, int]] = {}
        for rid in sorted(self._s.entries):
            entry = self._s.entries[rid]
            if run_id not in entry.seen_in:
                continue
            row = counts.setdefault(entry.record.source, _prisma_row())
            row["identified"] += 1
            if entry.reported_in is None:
                row["pending"] += 1
            elif entry.first_seen != run_id:
                row["duplicates_removed"] += 1
            else:
                row[_prisma_role(entry, rid in linked)] += 1
        return dict(sorted(counts.items()))

    def handed_over_but_not_queued(
        self, queued: set[str], *, skip_run: str | None = None
    ) -> list[Candidate]:
        """Candidates this registry handed over whose records are missing from the queue.

        The search step marks candidates as handed over when it writes ``candidates.csv``;
        if that file was lost before the records were queued (a failed strict run, an
        interrupted schedule, a retried job), they would never be offered again. Asking
        here makes the queue, not a transient file, the record of what reviewers received.
        Records reported in ``skip_run`` (the previous version's studies) are not asked for.
        """
        lost = sorted(
            record_id
            for record_id, entry in self._s.entries.items()
            if record_id not in queued
            and entry.reported_in not in (None, skip_run)
            and entry.reported_as in (CANDIDATE, LINKED_TO_EXISTING)
        )
        if not lost:  # the usual case: no clusters to build
            return []
        clusters = self.clusters()
        cluster_of = {rid: cid for cid, members in clusters.items() for rid in members}
        missing = []
        for record_id in lost:
            entry = self._s.entries[record_id]
            members = clusters[cluster_of[record_id]]
            same_run = tuple(m for m in members if self.entry(m).reported_in == entry.reported_in)
            earlier = tuple(m for m in members if m not in same_run)
            status = NEW if entry.reported_as == CANDIDATE else LINKED_TO_EXISTING
            missing.append(Candidate(cluster_of[record_id], status, record_id, same_run, earlier))
        return missing

    def identification_counts(
        self, sources: Iterable[str], *, skip_run: str | None = None
    ) -> dict[str, dict[str, int]]:
        """PRISMA identification numbers per source over every run (each record counted
        once, in the run that first retrieved it; overlapping windows are no new
        identification). Every source in ``sources`` has a row, with zeros until a search
        of it succeeds; records first seen in ``skip_run`` (the previous version) are left
        out."""
        counts = {source: _prisma_row() for source in sources}
        linked = self._linked_reports()
        for record in self.records():
            entry = self.entry(record.record_id)
            if skip_run is not None and entry.first_seen == skip_run:
                continue
            row = counts.setdefault(record.source, _prisma_row())
            row["identified"] += 1
            if entry.reported_in is None:
                row["pending"] += 1
            else:
                row[_prisma_role(entry, record.record_id in linked)] += 1
        return counts

    # -- persistence ------------------------------------------------------------------------

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Registry:
        """Read a registry folder; a missing folder gives an empty registry (first run).

        If the folder was left half-saved (``registry.json`` does not vouch for
        ``records.jsonl`` and ``links.csv``), the records are kept and the links marked
        stale, so that :meth:`clusters` refuses to answer until :meth:`deduplicate` runs.
        """
        return cls(read_folder(folder))

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write the registry folder (each file atomically, ``registry.json`` last)."""
        write_folder(folder, self._s)

    # -- internals --------------------------------------------------------------------------

    def _linked_reports(self) -> set[str]:
        """Reported records that are another report of a study, not a copy of an article.

        In each group of copies of one article (:meth:`duplicate_groups`) one record
        stands for the article: the screening candidate if the group has it, else the
        earliest reported. That record is a linked report when it is not the candidate
        (the study was handed over through another of its articles); the other members of
        the group are duplicates.
        """
        run_order = {run: k for k, run in enumerate(self._s.runs)}
        linked = set()
        for group in self.duplicate_groups():
            reported = [m for m in group if self._s.entries[m].reported_in is not None]
            if not reported:
                continue

            def rank(rid: str) -> tuple[bool, int, str]:
                entry = self._s.entries[rid]
                return (entry.reported_as != CANDIDATE, run_order.get(entry.first_seen, 0), rid)

            standing = min(reported, key=rank)
            if self._s.entries[standing].reported_as != CANDIDATE:
                linked.add(standing)
        return linked

    def _current_links(self) -> list[Link]:
        if self._s.links is None:
            raise StaleLinksError("records changed since the last deduplicate(); call it first")
        return self._s.links

    def _representative(self, record_ids: Iterable[str]) -> str:
        # The record a screener reads: one with an abstract, bibliographic before registry.
        def rank(rid: str) -> tuple[bool, bool, str]:
            record = self._s.entries[rid].record
            return (not record.abstract, record.trial is not None, rid)

        return min(record_ids, key=rank)


def _prisma_row() -> dict[str, int]:
    return {
        "identified": 0,
        "duplicates_removed": 0,
        "linked_reports": 0,
        "to_screen": 0,
        "pending": 0,
    }


def _prisma_role(entry: Entry, is_linked_report: bool) -> str:
    """Where a reported record goes in PRISMA: screened, linked report or duplicate."""
    if entry.reported_as == CANDIDATE:
        return "to_screen"
    return "linked_reports" if is_linked_report else "duplicates_removed"
