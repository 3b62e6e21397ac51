"""Benchmark: a first run that retrieves a large backfill, search step then screening step.

Why: a new living review of a broad question starts with tens of thousands of records,
and both steps of its first run must fit a small CI runner. The search step here is the
real one (``livingmeta.workflow.search.search_review``: registry upsert, deduplication,
candidates file, snapshots) with a PubMed client that hands back synthetic records (the
records of ``retrieval_dedup.py`` with abstracts of real length) instead of calling NCBI;
the screening step (``screen_new_records``) queues them all.

Each step runs in a fresh Python process, which reports its own peak resident memory
(``ru_maxrss``) and wall time.

Usage::

    python benchmarks/backfill.py [--records 100000] [--keep DIR]

The last lines are ``backfill_search_peak_mb=<n>``, ``backfill_search_seconds=<n>``,
``backfill_screen_peak_mb=<n>`` and ``backfill_screen_seconds=<n>``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

RUN_DATE = "2026-01-05"
ABSTRACT = (
    "Background: {t}. Methods: we randomly assigned adults to the intervention or to usual "
    "care; the primary outcome was assessed at 90 days by assessors unaware of the group. "
    "Results: of {k} participants enrolled, most completed follow-up; the intervention "
    "reduced the primary outcome, with similar rates of serious adverse events in both "
    "groups. Conclusions: these findings support further trials in broader populations. "
) * 2


@dataclass
class _Search:
    pmids: list[str]
    count: int
    query_translation: str = "synthetic"
    requests: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "pmids": self.pmids[:10]}


@dataclass
class _Fetched:
    records: tuple[Any, ...]
    batches: tuple[Any, ...] = ()
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()


class SyntheticPubmed:
    """Answers the search step like ``EutilsClient``, from synthetic records."""

    def __init__(self, n: int) -> None:
        from retrieval_dedup import synthetic_records

        self.records = [
            replace(r, abstract=ABSTRACT.format(t=r.title, k=k))
            for k, r in enumerate(synthetic_records(n))
        ]
        self.config = type("Config", (), {"api_key": None})()

    def search_window(self, query: str, start: Any, end: Any) -> _Search:
        ids = [r.record_id for r in self.records]
        return _Search(ids, len(ids))

    def efetch(self, pmids: Sequence[str], **_: Any) -> _Fetched:
        if len(pmids) != len(self.records):  # the watch list of a later run
            return _Fetched(())
        return _Fetched(tuple(self.records))


def review_in(folder: Path) -> Any:
    from livingmeta.config import reviews, validate_config

    (folder / "extraction.csv").write_text(
        "study_id,outcome,events_treat,total_treat,events_ctrl,total_ctrl,approved_by,approved_on\n"
    )
    search = {"id": "pm", "source": "pubmed", "query": "broad", "start_date": "2000-01-01"}
    spec = {"id": "b", "folder": str(folder), "outcomes": [{"name": "o"}], "searches": [search]}
    return reviews(validate_config({"reviews": [spec]}))["b"]


def run_step(step: str, folder: Path, n: int) -> dict[str, float]:
    """One step in this process; returns its wall time and this process' peak memory."""
    from livingmeta.retrieval.update import Clients
    from livingmeta.workflow.screening import screen_new_records
    from livingmeta.workflow.search import search_review

    review = review_in(folder)
    results = folder / "results"
    started = time.perf_counter()
    if step == "search":
        clients = Clients(pubmed=SyntheticPubmed(n))  # type: ignore[arg-type]
        started = time.perf_counter()  # the records are the server's, not the step's
        moment = datetime(2026, 1, 5, 6, tzinfo=UTC)
        search_review(
            review, {}, run_date=RUN_DATE, state=review.state,
            report=results / "report.json", candidates=results / "candidates.csv",
            queue=review.files.queue, clients=clients, now=lambda: moment,
        )  # fmt: skip
    else:
        screen_new_records(
            review, candidates=results / "candidates.csv", report=results / "report.json",
            status=results / "status.json", conflicts=results / "conflicts.csv",
            template=results / "template.csv", differences=results / "differences.csv",
        )  # fmt: skip
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 1), "peak_mb": round(peak_mb)}


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the review folder here")
    parser.add_argument("--step", choices=("search", "screen"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:  # the child process of one step
        print(json.dumps(run_step(args.step, args.folder, args.records)))
        return {}
    folder = args.keep or Path(tempfile.mkdtemp(prefix="livingmeta-backfill-"))
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, dict[str, float]] = {}
    try:
        for step in ("search", "screen"):
            command = [sys.executable, __file__, "--step", step, "--folder", str(folder)]
            command += ["--records", str(args.records)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            out[step] = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"backfill_records={args.records}")
    for step, figures in out.items():
        print(f"backfill_{step}_peak_mb={figures['peak_mb']:.0f}")
        print(f"backfill_{step}_seconds={figures['seconds']:.1f}")
    return out


if __name__ == "__main__":
    main()
