"""Rule of ``search.smk``: run the review's saved searches over the days since the last
successful run, update its registry and search state, and hand new records over."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.files import write_json
from livingmeta.retrieval.update import (
    Clients,
    RetrievalError,
    RetrievalReport,
    RetrievalSettings,
    run_retrieval,
    saved_searches,
)


def search_review(
    review: Review,
    settings: Mapping[str, Any],
    *,
    run_date: str,
    state: str | Path,
    report: str | Path,
    candidates: str | Path,
    queue: str | Path | None = None,
    clients: Clients | None = None,
    now: Callable[[], datetime] | None = None,
) -> RetrievalReport:
    """Run the review's searches with the ``retrieval:`` ``settings``; update the
    registry, search state and snapshots in ``state``; write ``report`` and
    ``candidates``.

    Records an interrupted earlier run handed over that the screening ``queue`` lacks
    are handed over again (and counted as new) in this run.

    The run id is ``<run_date>T<HHMMSS>Z`` from ``now`` (the clock; with the environment
    variable ``SOURCE_DATE_EPOCH`` set, that fixed moment, so a rebuild is reproducible).

    Raises
    ------
    RetrievalError
        With ``strict: true``, after the state and report were saved, if a source failed.
    """
    log = logging.getLogger("search_review")
    options = RetrievalSettings.from_config(settings)
    from livingmeta.screening.queue import queued_ids

    clock = now or _clock()
    run_id = f"{run_date}T{clock():%H%M%S}Z"
    result = run_retrieval(
        review.id,
        state,
        saved_searches(review.spec),
        options,
        run_id=run_id,
        today=date.fromisoformat(run_date),
        clients=clients,
        candidates_path=candidates,
        already_queued=queued_ids(queue) if queue is not None else None,
        now=clock,
        log=log.info,
    )
    write_json(report, result.to_dict())
    for stale in result.stale:
        log.warning("stale source %s (last success: %s)", stale["search_id"], stale["since"])
    if options.strict and result.failed:
        names = ", ".join(f"{s.search_id} ({s.error})" for s in result.failed)
        raise RetrievalError(f"{review.id}: source(s) failed: {names}")
    return result


def _clock() -> Callable[[], datetime]:
    """The wall clock, or the fixed moment ``SOURCE_DATE_EPOCH`` names."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        moment = datetime.fromtimestamp(int(epoch), UTC)
        return lambda: moment
    return lambda: datetime.now(UTC)
