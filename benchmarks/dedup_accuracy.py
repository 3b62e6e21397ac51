"""Benchmark: deduplication accuracy on human-labelled sets.

Why: a false merge silently drops a study from a review, a missed duplicate costs a
screener's time. Each labelled set in ``../shared/fixtures/dedup/`` (``<set>_records.csv``
and ``<set>_true_clusters.csv``, see its README) is deduplicated with the registry's
defaults and scored pairwise against the human labels.

Usage::

    python benchmarks/dedup_accuracy.py [--data DIR] [--set NAME_OR_DIR ...]
                                        [--without citation,journal,authors,year]

``--set`` names a set in ``--data`` or a folder of one's own labelled sets: either
``<set>_records.csv`` with ``<set>_true_clusters.csv`` (every such pair is scored), or
bib-dedupe's ``records_pre_merged.csv`` with ``merged_record_ids.csv`` (one set, named after
the folder). Records need ``ID`` and ``title``; ``year, author, pages, volume, number,
ENTRYTYPE, journal/booktitle, doi, abstract`` are used when present.

Per set it prints records, pairwise precision and recall, found groups that join unrelated
records (``false_merge_groups``), the manual-queue size and the seconds taken; then the
worst set's figures (``worst_precision``, ``worst_recall``); the last two lines are
``dedup_precision=<x>`` and ``dedup_recall=<y>``, pooled over all sets (pairs summed).
Linked reports (one study, two articles) are not merges: only duplicate groups are scored.

``--without`` scores the sets with fields removed from every record, as exports of other
databases lack them (``citation`` = volume, issue and pages): how the rules hold when the
evidence that tells a conference abstract from its article is missing.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
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


#: bib-dedupe's file names for a folder holding one labelled set.
BIB_DEDUPE_FILES = ("records_pre_merged.csv", "merged_record_ids.csv")


@dataclass(frozen=True)
class LabelledSet:
    """One labelled set: its name, records CSV and true-clusters CSV."""

    name: str
    records: Path
    clusters: Path


def labelled_sets(folder: Path) -> list[LabelledSet]:
    """The labelled sets in ``folder``: every ``<set>_records.csv`` with its clusters, or
    the folder itself in bib-dedupe's layout (:data:`BIB_DEDUPE_FILES`)."""
    records, clusters = (folder / name for name in BIB_DEDUPE_FILES)
    if records.is_file() and clusters.is_file():
        return [LabelledSet(folder.name, records, clusters)]
    found = []
    for path in sorted(folder.glob("*_records.csv")):
        truth = folder / path.name.replace("_records.csv", "_true_clusters.csv")
        if truth.is_file():
            found.append(LabelledSet(path.name.removesuffix("_records.csv"), path, truth))
    return found


def selected_sets(data: Path, wanted: Sequence[str] | None) -> list[LabelledSet]:
    """The sets to score: all of ``data``, or each ``--set`` (a set name in ``data``, or a
    folder of labelled sets, given as a path or as a subfolder of ``data``).

    Raises
    ------
    ValueError
        If a ``--set`` is neither, naming it.
    """
    if not wanted:
        return labelled_sets(data)
    chosen = []
    for item in wanted:
        by_name = [s for s in labelled_sets(data) if s.name == item] if data.is_dir() else []
        folder = next((f for f in (Path(item), data / item) if f.is_dir()), None)
        found = by_name or (labelled_sets(folder) if folder else [])
        if not found:
            raise ValueError(
                f"--set {item}: no set of that name in {data}, and no folder with "
                f"<set>_records.csv + <set>_true_clusters.csv or {' + '.join(BIB_DEDUPE_FILES)}"
            )
        chosen.extend(found)
    return chosen


#: Fields ``--without`` can remove: extra keys, or a Record attribute and its empty value.
REMOVABLE = {
    "citation": ("volume", "issue", "pages"),
    "journal": "journal",
    "authors": "authors",
    "year": "year",
}
_EMPTY = {"journal": None, "authors": (), "year": None}


def without(records: list, fields: Sequence[str]) -> list:
    """The records with ``fields`` (keys of :data:`REMOVABLE`) removed."""
    extra_keys = set(REMOVABLE["citation"]) if "citation" in fields else set()
    cleared = {f: _EMPTY[f] for f in fields if f != "citation"}
    return [
        dataclasses.replace(
            r, extra={k: v for k, v in r.extra.items() if k not in extra_keys}, **cleared
        )
        for r in records
    ]


def run_set(labelled: LabelledSet, removed: Sequence[str] = ()) -> tuple[PairwiseScore, int, float]:
    """Deduplicate one labelled set; return its score, manual-queue size and seconds."""
    records = without(read_labelled_records(labelled.records, source=labelled.name), removed)
    truth = read_true_groups(labelled.clusters)
    start = time.perf_counter()
    result = find_links(records)
    seconds = time.perf_counter() - start
    return score_result(records, result, truth), len(result.doubtful), seconds


def main(argv: Sequence[str] | None = None) -> tuple[float, float]:
    """Score every labelled set; print one line per set and the pooled figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        help="a set name in --data, or a folder of labelled sets (repeatable)",
    )
    parser.add_argument(
        "--without",
        default="",
        help=f"fields to remove from every record, comma-separated: {', '.join(REMOVABLE)}",
    )
    args = parser.parse_args(argv)
    removed = [f for f in args.without.split(",") if f]
    if unknown := sorted(set(removed) - set(REMOVABLE)):
        parser.error(f"--without: unknown field(s) {', '.join(unknown)}")
    try:
        sets = selected_sets(args.data, args.sets)
    except ValueError as error:
        parser.error(str(error))
    if not sets:
        parser.error(f"no <set>_records.csv with <set>_true_clusters.csv in {args.data}")
    scores = []
    for labelled in sets:
        score, queued, seconds = run_set(labelled, removed)
        scores.append(score)
        print(
            f"{labelled.name}: records={score.records} precision={score.precision:.4f} "
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
