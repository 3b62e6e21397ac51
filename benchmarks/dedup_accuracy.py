"""Benchmark: deduplication accuracy on human-labelled sets.

Why: a false merge silently drops a study from a review, a missed duplicate costs a
screener's time. Each labelled set in ``../shared/fixtures/dedup/`` (``<set>_records.csv``
and ``<set>_true_clusters.csv``, see its README) is deduplicated with the registry's
defaults and scored pairwise against the human labels.

Usage::

    python benchmarks/dedup_accuracy.py [--data DIR] [--set NAME ...]

Per set it prints records, pairwise precision and recall, found groups that join unrelated
records (``false_merge_groups``), the manual-queue size and the seconds taken; then the
worst set's figures (``worst_precision``, ``worst_recall``); the last two lines are
``dedup_precision=<x>`` and ``dedup_recall=<y>``, pooled over all sets (pairs summed).
Linked reports (one study, two articles) are not merges: only duplicate groups are scored.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from livingmeta.retrieval.dedup import find_links
from livingmeta.retrieval.dedup_scoring import (
    PairwiseScore,
    read_labelled_records,
    read_true_groups,
    score_result,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(
    os.environ.get("LIVINGMETA_SHARED", REPO_ROOT.parent / "shared"), "fixtures", "dedup"
)


def labelled_sets(folder: Path) -> list[str]:
    """Names of the labelled sets in ``folder`` (every ``<set>_records.csv`` with clusters)."""
    return sorted(
        p.name.removesuffix("_records.csv")
        for p in folder.glob("*_records.csv")
        if (folder / p.name.replace("_records.csv", "_true_clusters.csv")).exists()
    )


def run_set(folder: Path, name: str) -> tuple[PairwiseScore, int, float]:
    """Deduplicate one labelled set; return its score, manual-queue size and seconds."""
    records = read_labelled_records(folder / f"{name}_records.csv", source=name)
    truth = read_true_groups(folder / f"{name}_true_clusters.csv")
    start = time.perf_counter()
    result = find_links(records)
    seconds = time.perf_counter() - start
    return score_result(records, result, truth), len(result.doubtful), seconds


def main(argv: Sequence[str] | None = None) -> tuple[float, float]:
    """Score every labelled set; print one line per set and the pooled figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--set", dest="sets", action="append", help="only this set")
    args = parser.parse_args(argv)
    names = args.sets or labelled_sets(args.data)
    if not names:
        parser.error(f"no <set>_records.csv with <set>_true_clusters.csv in {args.data}")
    scores = []
    for name in names:
        score, queued, seconds = run_set(args.data, name)
        scores.append(score)
        print(
            f"{name}: records={score.records} precision={score.precision:.4f} "
            f"recall={score.recall:.4f} true_pairs={score.true_pairs} "
            f"found_pairs={score.found_pairs} false_merge_groups={score.false_merge_groups} "
            f"manual_queue={queued} ({queued / max(score.records, 1):.1%}) "
            f"seconds={seconds:.2f}"
        )
    correct = sum(s.correct_pairs for s in scores)
    found = sum(s.found_pairs for s in scores)
    true = sum(s.true_pairs for s in scores)
    precision = correct / found if found else 1.0
    recall = correct / true if true else 1.0
    print(f"worst_precision={min(s.precision for s in scores):.4f}")
    print(f"worst_recall={min(s.recall for s in scores):.4f}")
    print(f"dedup_precision={precision:.4f}")
    print(f"dedup_recall={recall:.4f}")
    return precision, recall


if __name__ == "__main__":
    main(sys.argv[1:])
