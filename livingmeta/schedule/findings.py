"""What each review's run found, read from its run report or retrieval report.

Per review: ``results/<id>/report/changes.json`` (the run report) when it was written by
this run, otherwise ``results/<id>/retrieval/report.json`` (the retrieval report: new
candidates, changed watched records, failed and stale searches). Files older than the
start of the run are ignored, so a second run on the same day does not announce the same
candidates again; a source that failed or is stale is a state, not news, and is reported
by every run until a search succeeds (:func:`read_source_problems`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from livingmeta.report.run_report import CHANGE_KINDS, PROBLEM_KINDS

#: Human-readable labels of the findings, for summaries and pull request bodies.
KIND_LABELS: dict[str, str] = {
    "new_candidates": "New candidates",
    "retractions": "Retraction notices",
    "trial_changes": "Trial changes",
    "estimate_changes": "Estimate changes",
    "newly_included": "Newly included",
    "conflicts": "Conflicts",
    "other_changes": "Other changes",
    "stale_sources": "Stale sources",
    "failed_sources": "Failed sources",
    "invalid_data": "Invalid data",
}

# report.json change kinds (retrieval.source_search.WATCHED_FIELDS, retrieval.update.TRIAL_FIELDS).
_PUBLICATION_NOTICES = frozenset({"retracted", "retraction_notices", "errata", "concerns"})
_TRIAL_FIELDS = frozenset({"overall_status", "has_results", "results_first_posted"})


@dataclass
class ReviewChanges:
    """What one review's run found, normalised from ``changes.json`` or ``report.json``.

    ``counts`` has every kind of :data:`CHANGE_KINDS` and :data:`PROBLEM_KINDS`; ``items``
    keeps the listed records (or messages) where the source file gave them.
    """

    review: str
    source: str
    run_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    items: dict[str, list[Any]] = field(default_factory=dict)
    has_changes: bool = False

    def __post_init__(self) -> None:
        for kind in (*CHANGE_KINDS, *PROBLEM_KINDS):
            self.counts.setdefault(kind, len(self.items.get(kind, [])))
            self.items.setdefault(kind, [])

    @property
    def has_problems(self) -> bool:
        return any(self.counts[kind] for kind in PROBLEM_KINDS)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count_and_items(value: Any) -> tuple[int, list[Any]]:
    """A field of ``changes.json`` may be a count, a list or a mapping: accept all three."""
    if value is None or value is False:
        return 0, []
    if value is True:
        return 1, []
    if isinstance(value, int | float):
        return int(value), []
    if isinstance(value, Mapping):
        return len(value), [{"name": k, "value": v} for k, v in value.items()]
    if isinstance(value, list | tuple):
        return len(value), list(value)
    return 1, [value]


def from_changes_json(data: Mapping[str, Any]) -> ReviewChanges:
    """Normalise a run report (``results/<id>/report/changes.json``).

    ``has_changes`` is taken from the file when it says so (the run report knows best what
    reviewers must see); otherwise it is true when any kind of :data:`CHANGE_KINDS` is
    non-empty.
    """
    counts: dict[str, int] = {}
    items: dict[str, list[Any]] = {}
    for kind in (*CHANGE_KINDS, *PROBLEM_KINDS):
        counts[kind], items[kind] = _count_and_items(data.get(kind))
    has_changes = bool(data["has_changes"]) if "has_changes" in data else None
    return _review_changes(data, "changes.json", counts, items, has_changes)


def from_retrieval_report(data: Mapping[str, Any]) -> ReviewChanges:
    """Normalise a retrieval report (``results/<id>/retrieval/report.json``), the fallback
    until the run report exists: new candidates, changes to watched records (retractions,
    errata, concerns, trial status and results), failed searches and stale sources."""
    items: dict[str, list[Any]] = {kind: [] for kind in (*CHANGE_KINDS, *PROBLEM_KINDS)}
    for change in data.get("changes") or []:
        kind = change.get("kind")
        if kind in _PUBLICATION_NOTICES:
            items["retractions"].append(change)
        elif kind in _TRIAL_FIELDS:
            items["trial_changes"].append(change)
        elif kind == "watch_list_failed":
            items["failed_sources"].append({"search_id": "watch_list", **change})
        else:
            items["other_changes"].append(change)
    for search in data.get("searches") or []:
        if search.get("status") == "failed":
            items["failed_sources"].append(
                {k: search.get(k) for k in ("search_id", "source", "error")}
            )
    items["stale_sources"] = list(data.get("stale") or [])
    new, new_items = _count_and_items(data.get("new_candidates"))
    counts = {kind: len(values) for kind, values in items.items()}
    counts["new_candidates"] = new
    items["new_candidates"] = new_items
    return _review_changes(data, "report.json", counts, items)


def _review_changes(
    data: Mapping[str, Any],
    source: str,
    counts: dict[str, int],
    items: dict[str, list[Any]],
    has_changes: bool | None = None,
) -> ReviewChanges:
    """The findings read from ``source``, with its review and run id; ``has_changes``
    (None: true when any kind of :data:`CHANGE_KINDS` was found)."""
    if has_changes is None:
        has_changes = any(counts[kind] for kind in CHANGE_KINDS)
    review, run_id = str(data.get("review", "?")), data.get("run_id")
    return ReviewChanges(review, source, run_id, counts, items, has_changes)


def read_review_changes(
    workdir: str | os.PathLike[str], review_id: str, since: float | None = None
) -> ReviewChanges | None:
    """The findings of one review: its ``changes.json`` if present (and written at or
    after ``since``, a POSIX time), else its ``report.json`` under the same condition,
    else None (this run produced nothing new for it)."""
    results = Path(workdir) / "results" / review_id
    candidates: tuple[tuple[Path, Callable[[Mapping[str, Any]], ReviewChanges]], ...] = (
        (results / "report" / "changes.json", from_changes_json),
        (results / "retrieval" / "report.json", from_retrieval_report),
    )
    for path, parse in candidates:
        if not path.is_file() or (since is not None and path.stat().st_mtime < since):
            continue
        changes = parse(json.loads(path.read_text(encoding="utf-8")))
        changes.review = review_id
        return changes
    return None


#: Findings that last until a search succeeds: searches rerun once a day, so a second run
#: the same day has the same sources missing.
SOURCE_PROBLEMS = ("failed_sources", "stale_sources")


def read_source_problems(workdir: str | os.PathLike[str], review_id: str) -> ReviewChanges | None:
    """The failed and stale sources of the review's latest retrieval report, however old
    (nothing else of it), or None when it has none: results built on them may miss
    records, whether or not this run searched. A report that cannot be read is a failed
    source too (naming the file), not a crash of the run: every run reads it."""
    from livingmeta.files import read_json

    path = Path(workdir) / "results" / review_id / "retrieval" / "report.json"
    try:
        data = read_json(path)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        found = from_retrieval_report(data)
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        unreadable = {"search_id": "retrieval report", "source": str(path), "error": str(exc)}
        found = ReviewChanges(review_id, "report.json", items={"failed_sources": [unreadable]})
    if not any(found.counts[kind] for kind in SOURCE_PROBLEMS):
        return None
    items = {kind: found.items[kind] for kind in SOURCE_PROBLEMS}
    counts = {kind: found.counts[kind] for kind in SOURCE_PROBLEMS}
    return ReviewChanges(review_id, found.source, found.run_id, counts, items, has_changes=False)


def collect_for_pr(
    workdir: str | os.PathLike[str], configfile: str = "config/config.yaml"
) -> list[ReviewChanges]:
    """Every review's current findings (no freshness filter: in CI the checkout is fresh),
    for :func:`pr_body`."""
    import livingmeta.config as lm_config

    config = lm_config.load_config(Path(workdir) / configfile)
    return [
        changes
        for review_id in lm_config.reviews(config)
        if (changes := read_review_changes(workdir, review_id)) is not None
    ]
