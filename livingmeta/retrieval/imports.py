"""Adding exported records to a review's registry (``livingmeta import``).

Imported records go through the same registry and deduplication as searched ones and are
counted under their ``source`` in PRISMA. They are not reported here: the next
``search_review`` job hands every record not yet reported to screening, and the line this
writes to ``imports.log`` makes Snakemake rerun that job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from livingmeta.config import Review
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Registry, UpsertResult
from livingmeta.screening.csvfile import locked

IMPORTS_LOG = "imports.log"
PREVIOUS_VERSION = "previous_version"


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
    run_id = PREVIOUS_VERSION if previous_version else f"import-{source}-{moment:%Y%m%dT%H%M%SZ}"
    with locked(review.state / "registry" / "records.jsonl"):
        result = _upsert(review, settings, records, run_id, previous_version)
    line = (
        f"{moment.isoformat()} {run_id} file={file} records={len(records)} "
        f"new={len(result.new_record_ids)} updated={len(result.updated_record_ids)}\n"
    )
    with open(review.state / IMPORTS_LOG, "a", encoding="utf-8") as handle:
        handle.write(line)
    return (
        f"{len(records)} records from {file} imported into review {review.id} as {run_id}: "
        f"{len(result.new_record_ids)} new, {len(result.updated_record_ids)} updated, "
        f"{len(result.unchanged_record_ids)} already known. "
        + (
            "Registered as the previous version's studies (not screened again)."
            if previous_version
            else "The next workflow run hands the new ones to screening."
        )
    )


def _upsert(
    review: Review,
    settings: Mapping[str, Any],
    records: Sequence[Record],
    run_id: str,
    previous_version: bool,
) -> UpsertResult:
    registry = Registry.load(review.state / "registry")
    result = registry.upsert(records, run_id)
    dedup = settings.get("dedup", {})
    registry.deduplicate(dedup.get("threshold", 0.93), dedup.get("doubtful_threshold", 0.85))
    if previous_version:
        ids = {r.record_id for r in records}
        registry.mark_reported(
            [c for c in registry.new_candidates() if set(c.record_ids) <= ids], run_id
        )
    registry.save(review.state / "registry")
    return result
