"""Adding exported records to a review's registry (``livingmeta import``).

Imported records go through the same registry and deduplication as searched ones and are
counted under their ``source`` in PRISMA. They are not reported here: the next
``search_review`` job hands every record not yet reported to screening, and the line this
writes to ``imports.log`` makes Snakemake rerun that job.

An import never changes a stored record (:meth:`Registry.upsert` with ``keep_existing``):
records already known keep the version reviewers saw. Importing the same file again (same
bytes, recognised by its SHA-256 in ``imports.log``) changes nothing at all.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.retrieval.dedup import DEFAULT_DOUBTFUL_THRESHOLD, DEFAULT_THRESHOLD
from livingmeta.retrieval.formats.identity import canonical_source
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Registry
from livingmeta.retrieval.registry_files import registry_lock

PREVIOUS_VERSION = "previous_version"
_LOGGED_DIGEST = re.compile(r"\bsha256=([0-9a-f]{64})\b")


@dataclass(frozen=True)
class ImportCounts:
    """Where every record read from one file went; the parts add up to ``read``.

    ``known``: its id was already in the registry (an earlier export or search had it).
    Of the new records, ``linked`` joined records known before (by link reason),
    ``in_file_duplicates`` duplicate another new record of the same file, and
    ``new_studies`` are the rest. ``doubtful`` counts undecided manual-queue pairs
    involving the new records.
    """

    read: int
    known: int
    linked: dict[str, int] = field(default_factory=dict)
    in_file_duplicates: int = 0
    new_studies: int = 0
    doubtful: int = 0

    @property
    def new(self) -> int:
        """Records the registry did not hold before."""
        return self.read - self.known

    def describe(self) -> str:
        """One sentence per part, in words a reviewer understands."""
        reasons = ", ".join(f"{n} by {why}" for why, n in sorted(self.linked.items()))
        linked = sum(self.linked.values())
        text = (
            f"{self.new} new, {self.known} already known (same record id: in an earlier "
            f"import or search). Of the new: {self.new_studies} new studies, {linked} linked "
            f"to known records" + (f" ({reasons})" if reasons else "") + ", "
            f"{self.in_file_duplicates} duplicates of another record in this file."
        )
        if self.doubtful:
            text += f" {self.doubtful} pairs await a decision in doubtful.csv."
        return text


def import_records(
    review: Review,
    settings: Mapping[str, Any],
    records: Sequence[Record],
    source: str,
    file: str,
    now: datetime | None = None,
    previous_version: bool = False,
) -> str:
    """Upsert ``records`` into the review's registry and deduplicate; return a summary.

    With ``previous_version`` the records are the studies a published version of the
    review already screened and included: they are registered as already handed over
    (run id ``previous_version``), so later searches link new reports to them instead of
    offering them for screening again.
    """
    moment = now or datetime.now(UTC)
    source = canonical_source(source)
    digest = _file_digest(file)
    files = review.files
    log = files.imports_log
    with registry_lock(files.registry):
        earlier = _earlier_import(log, digest)
        if earlier is not None:
            return (
                f"{file} was already imported into review {review.id} ({earlier}): "
                f"0 new records; nothing changed."
            )
        run_id = (
            PREVIOUS_VERSION if previous_version else f"import-{source}-{moment:%Y%m%dT%H%M%SZ}"
        )
        dedup = settings.get("dedup", {})
        counts = _upsert(files.registry, dedup, records, run_id, previous=previous_version)
        line = (
            f"{moment.isoformat()} {run_id} file={file} records={counts.read} "
            f"new={counts.new} updated=0" + (f" sha256={digest}" if digest else "") + "\n"
        )
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(line)
    if previous_version:
        after = (
            "Registered as the previous version's studies (not screened again). PRISMA "
            "counts them once the review's config says how many there were: "
            "previous_version: {studies: N, reports: M}."
        )
    else:
        after = "The next workflow run hands the new ones to screening."
    if not counts.read:
        after = f"Warning: the file holds no records (an empty export?). {after}"
    return (
        f"{counts.read} records read from {file} and imported into review {review.id} as "
        f"{run_id}: {counts.describe()} {after}"
    )


def _file_digest(file: str) -> str | None:
    try:
        return hashlib.sha256(Path(file).read_bytes()).hexdigest()
    except OSError:
        return None


def _earlier_import(log: Path, digest: str | None) -> str | None:
    """The log line of an earlier import of the same bytes, if any."""
    if digest is None or not log.exists():
        return None
    for line in log.read_text(encoding="utf-8").splitlines():
        match = _LOGGED_DIGEST.search(line)
        if match and match.group(1) == digest:
            stamp, _, rest = line.partition(" ")
            return f"run {rest.split(' ', 1)[0]} at {stamp}"
    return None


def _upsert(
    folder: Path,
    dedup: Mapping[str, Any],
    records: Sequence[Record],
    run_id: str,
    *,
    previous: bool,
) -> ImportCounts:
    """Upsert into the registry ``folder`` and deduplicate with the ``dedup:`` settings."""
    registry = Registry.load(folder)
    known_before = {r.record_id for r in records if r.record_id in registry}
    registry.upsert(records, run_id, keep_existing=True)
    registry.deduplicate(
        dedup.get("threshold", DEFAULT_THRESHOLD),
        dedup.get("doubtful_threshold", DEFAULT_DOUBTFUL_THRESHOLD),
    )
    counts = count_outcomes(registry, records, known_before)
    if previous:
        ids = {r.record_id for r in records}
        registry.mark_reported(
            [c for c in registry.new_candidates() if set(c.record_ids) <= ids], run_id
        )
    registry.save(folder)
    return counts


def count_outcomes(
    registry: Registry, records: Sequence[Record], known_before: set[str]
) -> ImportCounts:
    """Sort every record read into exactly one part of :class:`ImportCounts`.

    ``registry`` is deduplicated and holds ``records``; ``known_before`` are the ids of
    ``records`` that it held before the import.
    """
    cluster_of = registry.cluster_of()
    clusters = registry.clusters()
    file_ids = {r.record_id for r in records}
    existing = {rid for rid in cluster_of if rid not in file_ids} | known_before
    reasons: dict[frozenset[str], str] = {}
    for link in registry.links:
        reasons.setdefault(frozenset((link.record_a, link.record_b)), link.reason)
    linked: Counter[str] = Counter()
    in_file = fresh = 0
    seen_new: set[str] = set()
    new_ids: set[str] = set()
    for record in records:
        rid = record.record_id
        if rid in known_before or rid in seen_new:
            continue
        seen_new.add(rid)
        new_ids.add(rid)
        members = clusters[cluster_of[rid]]
        prior = [m for m in members if m in existing]
        if prior:
            direct = (reasons.get(frozenset((rid, m))) for m in prior)
            linked[next((r for r in direct if r), "a chain of links")] += 1
        elif any(m in seen_new and m != rid for m in members):
            in_file += 1
        else:
            fresh += 1
    doubtful = sum(
        1
        for pair in registry.doubtful
        if not pair.decision and (pair.record_a in new_ids or pair.record_b in new_ids)
    )
    return ImportCounts(
        read=len(records),
        known=len(records) - len(new_ids),
        linked=dict(linked),
        in_file_duplicates=in_file,
        new_studies=fresh,
        doubtful=doubtful,
    )
