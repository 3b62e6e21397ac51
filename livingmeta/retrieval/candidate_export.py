"""The screening hand-off: candidates from the registry as flat CSV or JSONL rows.

Why a separate, flat export: reviewers screen in a spreadsheet or a screening tool, which
want one row per candidate with the title and abstract to read, every id that helps them
recognise the study, and why the records of the row were grouped together.
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from livingmeta.csvsafe import cell
from livingmeta.files import atomic_open
from livingmeta.retrieval.records import normalise_doi
from livingmeta.retrieval.registry import Candidate, Registry

#: Column order of the export (also the key order of JSONL rows).
COLUMNS = (
    "cluster_id",
    "status",
    "record_id",
    "source",
    "title",
    "abstract",
    "year",
    "journal",
    "authors",
    "pmids",
    "dois",
    "nct_ids",
    "other_ids",
    "record_ids",
    "sources",
    "existing_record_ids",
    "links",
    "first_seen",
    "retracted",
)


def candidate_rows(registry: Registry, candidates: Iterable[Candidate]) -> list[dict[str, Any]]:
    """One row per candidate: the representative's text plus every member's ids
    (:func:`iter_candidate_rows` as a list).

    Parameters
    ----------
    registry
        The registry the candidates came from (deduplicated).
    candidates
        Usually ``registry.new_candidates()``.

    Returns
    -------
    list[dict[str, Any]]
        Rows keyed by :data:`COLUMNS`; list-valued fields are lists (joined with ``"; "``
        in CSV). ``links`` lists ``"record_a ~ record_b (reason score)"`` for every link
        touching the candidate's records.
    """
    return list(iter_candidate_rows(registry, candidates))


def iter_candidate_rows(
    registry: Registry, candidates: Iterable[Candidate]
) -> Iterator[dict[str, Any]]:
    """The rows of :func:`candidate_rows` one at a time (a backfill's rows are written
    as they are made, never held together)."""
    by_record: dict[str, list[str]] = defaultdict(list)
    for link in registry.links:
        text = f"{link.record_a} ~ {link.record_b} ({link.reason} {link.score:.2f})"
        by_record[link.record_a].append(text)
        by_record[link.record_b].append(text)
    for candidate in candidates:
        rep = registry.entry(candidate.representative)
        members = [registry.entry(rid) for rid in candidate.record_ids]
        every = members + [registry.entry(rid) for rid in candidate.existing_record_ids]
        links = sorted({t for rid in candidate.record_ids for t in by_record.get(rid, [])})
        yield {
            "cluster_id": candidate.cluster_id,
            "status": candidate.status,
            "record_id": candidate.representative,
            "source": rep.record.source,
            "title": rep.record.title,
            "abstract": rep.record.abstract,
            "year": rep.record.year,
            "journal": rep.record.journal,
            "authors": list(rep.record.authors),
            "pmids": _unique(e.record.pmid for e in every),
            "dois": _unique(normalise_doi(e.record.doi) for e in every),
            "nct_ids": _unique(n for e in every for n in e.record.nct_ids),
            "other_ids": _unique(o for e in every for o in e.record.other_ids),
            "record_ids": list(candidate.record_ids),
            "sources": _unique(e.record.source for e in members),
            "existing_record_ids": list(candidate.existing_record_ids),
            "links": links,
            "first_seen": min(e.first_seen for e in members),
            "retracted": any(e.record.retracted for e in every),
        }


def write_candidates(rows: Iterable[dict[str, Any]], path: str | os.PathLike[str]) -> None:
    """Write rows atomically as ``.csv`` or ``.jsonl`` (chosen by the file suffix),
    streamed into the temporary file so a backfill's candidates are never one text.

    Raises
    ------
    ValueError
        If the suffix is neither ``.csv`` nor ``.jsonl``.
    """
    target = Path(path)
    if target.suffix not in (".csv", ".jsonl"):
        raise ValueError(f"candidate export must end in .csv or .jsonl, got {target.name!r}")
    with atomic_open(target, "w", encoding="utf-8", newline="") as handle:
        if target.suffix == ".jsonl":
            for row in rows:
                handle.write(json.dumps({k: row[k] for k in COLUMNS}, ensure_ascii=False) + "\n")
            return
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([cell(row[k]) for k in COLUMNS])


def _unique(values: Iterable[str | None]) -> list[str]:
    return sorted({v for v in values if v})
