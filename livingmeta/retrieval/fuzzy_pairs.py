"""Find pairs of records that may be the same article, and classify each one.

Why two kinds of blocking: a title search finds copies whose titles match, whatever their
metadata; a citation search (same volume and first page) finds copies whose titles were
cut, translated, or extended by a database ("[Review] [33 refs]", a dropped subtitle),
which no title threshold finds without also matching unrelated papers. Each candidate pair
is then classified by :func:`livingmeta.retrieval.pair_rules.classify_pair`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from livingmeta.retrieval.bib_fields import FieldTable
from livingmeta.retrieval.pair_rules import MAX_YEAR_GAP, Verdict, classify_pair
from livingmeta.retrieval.records import Record, normalise_doi
from livingmeta.retrieval.title_match import similar_title_pairs

#: A (volume, first page) block larger than this is not one page of one journal (a default
#: "1"/"1" filled in by an export, or page 1 of volume 1 of many journals): comparing all its
#: pairs would cost much and find little, so its records are left to title blocking.
MAX_CITATION_BLOCK = 50
#: A conference abstract and its article can be years apart (abstract 2006, article
#: 2009): titles this many years apart are compared too, at the "same title" threshold.
#: Years beyond :data:`~livingmeta.retrieval.pair_rules.MAX_YEAR_GAP` conflict, so such a
#: pair is at most a linked report, never a duplicate.
LINKED_REPORT_YEARS = 5


@dataclass(frozen=True)
class ScoredPair:
    """A candidate pair (``i < j``, indices into the sorted records) and its verdict."""

    i: int
    j: int
    score: float
    verdict: Verdict


def classified_pairs(
    records: Sequence[Record],
    fields: FieldTable,
    threshold: float,
    doubtful_threshold: float,
    block_keys: int,
) -> list[ScoredPair]:
    """Every candidate pair from title and citation blocking, with its verdict.

    Sorted best title score first, then by indices, so links are applied in a fixed order.
    """
    titles = fields.titles
    years = [r.year for r in records]
    later = (LINKED_REPORT_YEARS, threshold * 100)  # abstract now, article years later
    scored = similar_title_pairs(titles, years, doubtful_threshold * 100, block_keys, later=later)
    for pair in _citation_pairs(fields.citation_keys(), years):
        if pair not in scored:
            scored[pair] = _title_score(titles[pair[0]], titles[pair[1]])
    out = []
    for (i, j), raw in scored.items():
        if raw < 100 and titles[i].replace(" ", "") == titles[j].replace(" ", ""):
            # Only spacing differs ("randomizedcontrolled trial"): token_sort_ratio
            # punishes the merged word because it moves in the sort, but it is the same title.
            raw = 100.0
        verdict = classify_pair(
            fields[i],
            fields[j],
            raw / 100,
            ids_conflict=ids_conflict(records[i], records[j]),
            threshold=threshold,
            doubtful_threshold=doubtful_threshold,
        )
        out.append(ScoredPair(i, j, round(raw / 100, 4), verdict))
    out.sort(key=lambda p: (-p.score, p.i, p.j))
    return out


#: DOIs that name a database's record of an article, not the article: Cochrane CENTRAL
#: gives each of its records one (``10.1002/central/CN-01234567``), and its exports put the
#: record's page where other sources put the article's DOI.
RECORD_DOI_PREFIXES = ("10.1002/central/",)


def ids_conflict(a: Record, b: Record) -> bool:
    """Two different PMIDs or DOIs are two different articles, however alike the titles.

    A database record's DOI (:data:`RECORD_DOI_PREFIXES`) is not the article's: a CENTRAL
    record and the journal's record of one trial report carry two DOIs for one article.
    """
    if a.pmid and b.pmid and a.pmid.strip() != b.pmid.strip():
        return True
    doi_a, doi_b = article_doi(a), article_doi(b)
    return bool(doi_a and doi_b and doi_a != doi_b)


def article_doi(record: Record) -> str | None:
    """The record's normalised DOI, unless it is a database record's own DOI."""
    doi = normalise_doi(record.doi)
    return None if doi is None or doi.startswith(RECORD_DOI_PREFIXES) else doi


def _citation_pairs(
    keys: dict[int, tuple[str, str]], years: Sequence[int | None]
) -> list[tuple[int, int]]:
    """Pairs in the same volume starting on the same page, years within the allowed gap."""
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for k, key in keys.items():
        blocks[key].append(k)
    pairs = []
    for members in blocks.values():
        if not 1 < len(members) <= MAX_CITATION_BLOCK:
            continue
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                yi, yj = years[i], years[j]
                if yi is None or yj is None or abs(yi - yj) <= MAX_YEAR_GAP:
                    pairs.append((i, j))
    return pairs


def _title_score(a: str, b: str) -> float:
    return float(fuzz.token_sort_ratio(a, b))
