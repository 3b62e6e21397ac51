"""Score deduplication against human-labelled duplicate sets.

Why a module and not only a benchmark script: the benchmark scores whole labelled sets, and
a unit test scores a small sample with the same code, so the figures in the README and the
test measure the same thing.

The labelled sets use the format of CoLRev's bib-dedupe benchmark data: a records CSV
(``ID`` and ``title``, and any of ``year, author, pages, volume, number`` (or ``issue``),
``ENTRYTYPE, journal`` (or ``booktitle``), ``doi``, ``abstract``; authors as BibTeX
``"Family, Given and Family, Given"``) and a clusters CSV with one column ``merged_ids``
whose rows list the record ids of one true duplicate set, joined by ``;``. Every field a
set has is used, as an import would use it: a DOI a set carries links like a DOI in a
search result.
"""

from __future__ import annotations

import csv
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from livingmeta.retrieval.dedup import DedupResult, duplicate_groups
from livingmeta.retrieval.records import Record

#: Columns a records CSV must have; the others are read when present.
RECORD_COLUMNS = ("ID", "title")

# BibTeX entry types and the RIS type the importers store in ``extra["ris_type"]``.
_RIS_TYPES = {
    "article": "JOUR",
    "inproceedings": "CONF",
    "proceedings": "CONF",
    "conference": "CONF",
    "book": "BOOK",
    "inbook": "CHAP",
    "incollection": "CHAP",
    "phdthesis": "THES",
    "mastersthesis": "THES",
    "techreport": "RPRT",
}
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


@dataclass(frozen=True)
class PairwiseScore:
    """Pairwise agreement of found duplicate groups with the true ones.

    ``false_merge_groups`` counts found groups that join records of two or more true sets
    (each such group is one unrelated merge a reviewer would never see).
    """

    records: int
    true_pairs: int
    found_pairs: int
    correct_pairs: int
    false_merge_groups: int

    @property
    def precision(self) -> float:
        """Share of found pairs that are true duplicates (1.0 when nothing was merged)."""
        return self.correct_pairs / self.found_pairs if self.found_pairs else 1.0

    @property
    def recall(self) -> float:
        """Share of true duplicate pairs that were found (1.0 when there are none)."""
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def read_labelled_records(path: str | os.PathLike[str], source: str = "labelled") -> list[Record]:
    """Records of a labelled set's records CSV, as the importers would build them.

    Raises
    ------
    ValueError
        If a column is missing or a year is not a year; the message names file, row, field.
    """
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in RECORD_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        return [
            _record(row, source, path, n)
            for n, row in enumerate(reader, start=2)
            if not _blank(row)
        ]


def read_true_groups(path: str | os.PathLike[str]) -> list[frozenset[str]]:
    """True duplicate sets of a labelled set's clusters CSV (column ``merged_ids``)."""
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if "merged_ids" not in (reader.fieldnames or ()):
            raise ValueError(f"{path}: missing column merged_ids")
        return [
            frozenset(i.strip() for i in row["merged_ids"].split(";") if i.strip())
            for row in reader
        ]


def score_groups(
    record_ids: Iterable[str],
    found: Iterable[Iterable[str]],
    truth: Iterable[Iterable[str]],
) -> PairwiseScore:
    """Pairwise precision/recall of ``found`` groups against ``truth`` over ``record_ids``."""
    ids = set(record_ids)
    true_of = _group_index(truth, ids)
    found_of = _group_index(found, ids)
    found_groups = _members(found_of)
    true_pairs = sum(_n_pairs(len(m)) for m in _members(true_of).values())
    found_pairs = correct = false_merges = 0
    for members in found_groups.values():
        found_pairs += _n_pairs(len(members))
        by_truth: Mapping[str, int] = _count(true_of.get(m, m) for m in members)
        correct += sum(_n_pairs(n) for n in by_truth.values())
        false_merges += len(by_truth) > 1
    return PairwiseScore(len(ids), true_pairs, found_pairs, correct, false_merges)


def score_result(
    records: Iterable[Record], result: DedupResult, truth: Iterable[Iterable[str]]
) -> PairwiseScore:
    """Score the duplicate groups of a :class:`DedupResult` (linked reports are not merges)."""
    ids = [r.record_id for r in records]
    return score_groups(ids, duplicate_groups(ids, result.links), truth)


def _record(row: dict[str, str], source: str, path: Path, line: int) -> Record:
    if not (row.get("ID") or "").strip():
        raise ValueError(f"{path}: row {line}, field ID: empty")
    year_text = (row.get("year") or "").strip()
    year = None
    if year_text:
        match = _YEAR.search(year_text)
        if not match:
            raise ValueError(f"{path}: row {line}, field year: not a year: {year_text!r}")
        year = int(match[0])
    extra = {
        key: value
        for key, value in (
            ("volume", row.get("volume")),
            ("issue", row.get("number") or row.get("issue")),
            ("pages", row.get("pages")),
            ("ris_type", _RIS_TYPES.get((row.get("ENTRYTYPE") or "").strip().lower())),
        )
        if value and value.strip()
    }
    return Record(
        record_id=row["ID"],
        source=source,
        title=row.get("title") or "",
        year=year,
        abstract=(row.get("abstract") or "").strip(),
        journal=_text(row, "journal") or _text(row, "booktitle"),
        doi=_text(row, "doi"),
        authors=tuple(_author(a) for a in (row.get("author") or "").split(" and ") if a.strip()),
        extra=extra,
    )


def _blank(row: dict[str, str]) -> bool:
    """A row of empty fields only: a separator some sets put between groups of records."""
    return not any(isinstance(value, str) and value.strip() for value in row.values())


def _text(row: dict[str, str], column: str) -> str | None:
    return (row.get(column) or "").strip() or None


def _author(bibtex_name: str) -> str:
    """``"Zuna, R E"`` -> ``"Zuna RE"`` (the registry's ``Family Initials`` form)."""
    family, sep, given = bibtex_name.partition(",")
    if not sep:
        return " ".join(bibtex_name.split())
    initials = "".join(part[0] for part in re.split(r"[\s.\-]+", given) if part)
    return f"{' '.join(family.split())} {initials.upper()}".strip()


def _group_index(groups: Iterable[Iterable[str]], ids: set[str]) -> dict[str, str]:
    index: dict[str, str] = {}
    for members in groups:
        kept = sorted(m for m in members if m in ids)
        for m in kept:
            index[m] = kept[0]
    return index


def _members(index: Mapping[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for member, key in index.items():
        groups[key].append(member)
    return groups


def _count(keys: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for key in keys:
        counts[key] += 1
    return counts


def _n_pairs(n: int) -> int:
    return n * (n - 1) // 2
