"""Fuzzy title matching for deduplication: normalisation, blocking, similarity.

Why blocking: comparing every title with every other is O(n^2) and takes hours at 100,000
records. Near-duplicate titles share most of their words, so each title is compared only
with titles that share rare words with it, and only within a year of it; rapidfuzz's
``cdist`` then scores each small block in C.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterator

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

#: Titles shorter than this (after normalisation) are too generic to match on
#: ("Erratum", "Correction", "Editorial"): only ids can link them.
MIN_TITLE_CHARS = 20
MIN_TITLE_TOKENS = 3

#: A token this rare is a blocking key on its own (its block is small by definition);
#: commoner tokens only block in pairs, which keeps blocks small on large registries.
RARE_TOKEN_BLOCK = 50

_NON_WORD = re.compile(r"[\W_]+")


def normalise_title(title: str) -> str:
    """Casefold, strip accents and punctuation, and collapse spaces.

    Why: sources differ in case, punctuation, trailing full stops and the brackets PubMed
    puts round translated titles; none of that makes two titles different reports.
    """
    if not title.isascii():
        title = unicodedata.normalize("NFKD", title)
        title = "".join(ch for ch in title if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", title.casefold()).split())


def similar_title_pairs(
    titles: list[str],
    years: list[int | None],
    cutoff: float,
    block_keys: int = 3,
    *,
    later: tuple[int, float] = (0, 100.0),
) -> dict[tuple[int, int], float]:
    """All pairs with ``token_sort_ratio >= cutoff`` (0-100) and years within one, and,
    with ``later = (years, later_cutoff)``, pairs up to that many years apart whose score
    reaches ``later_cutoff`` (a conference abstract and the article published years
    later: same title, so a stricter cutoff costs nothing and keeps the work small).

    Blocking instead of all pairs: each title goes into the blocks keyed by every *pair*
    of its ``block_keys`` rarest tokens (document frequency), plus one block per rare
    token (at most :data:`RARE_TOKEN_BLOCK` titles). Only titles sharing a block are
    compared, with ``rapidfuzz.process.cdist`` per (block, year, year + 1). A near-duplicate
    shares most words, so a typo or a merged word still leaves it two rare tokens in common.
    """
    eligible = [_eligible(t) for t in titles]
    # token_sort_ratio(a, b) == ratio(sorted tokens of a, sorted tokens of b): sort once.
    keyed = [
        " ".join(sorted(t.split())) if ok else "" for t, ok in zip(titles, eligible, strict=True)
    ]
    frequency: Counter[str] = Counter()
    for t, ok in zip(titles, eligible, strict=True):
        if ok:
            frequency.update(set(t.split()))
    found: dict[tuple[int, int], float] = {}
    for members in _blocks(titles, eligible, frequency, block_keys):
        _compare_block(members, keyed, years, cutoff, found, later)
    return found


def _eligible(title: str) -> bool:
    """Whether a title is long enough to match on (see :data:`MIN_TITLE_CHARS`)."""
    return len(title) >= MIN_TITLE_CHARS and len(title.split()) >= MIN_TITLE_TOKENS


def _blocks(
    titles: list[str], eligible: list[bool], frequency: Counter[str], block_keys: int
) -> Iterator[list[int]]:
    """The blocks of :func:`similar_title_pairs` with two or more titles, members in order.

    Why integer keys in arrays: a backfill has hundreds of thousands of (key, title)
    memberships; a dict of tuples and lists would hold them as Python objects, the
    largest transient memory of a search step.
    """
    code = {token: k for k, token in enumerate(sorted(frequency), start=1)}
    width = len(code) + 1
    keys: array[int] = array("q")
    members: array[int] = array("q")
    for i, (title, ok) in enumerate(zip(titles, eligible, strict=True)):
        if not ok:
            continue
        toks = title.split()
        distinct = {t for t in toks if len(t) >= 3} or set(toks)
        rare = sorted(sorted(distinct, key=lambda t: (frequency[t], t))[:block_keys])
        for a, b in itertools.combinations(rare, 2):
            keys.append(code[a] * width + code[b])
            members.append(i)
        for token in rare:
            if frequency[token] <= RARE_TOKEN_BLOCK:
                keys.append(code[token] * width)
                members.append(i)
    order = np.argsort(np.frombuffer(keys, dtype=np.int64), kind="stable")
    sorted_keys = np.frombuffer(keys, dtype=np.int64)[order]
    sorted_members = np.frombuffer(members, dtype=np.int64)[order]
    del keys, members, order  # only the sorted copies stay while the blocks are compared
    starts, stops = _runs(sorted_keys)
    del sorted_keys
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        yield sorted_members[start:stop].tolist()


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop of every run of two or more equal values in a sorted array."""
    edges = np.flatnonzero(np.diff(values)) + 1
    starts = np.concatenate(([0], edges))
    stops = np.concatenate((edges, [len(values)]))
    shared = stops - starts > 1
    return starts[shared], stops[shared]


def _compare_block(
    members: list[int],
    keyed: list[str],
    years: list[int | None],
    cutoff: float,
    found: dict[tuple[int, int], float],
    later: tuple[int, float] = (0, 100.0),
) -> None:
    by_year: dict[int | None, list[int]] = defaultdict(list)
    for m in members:
        by_year[years[m]].append(m)
    for year, queries in by_year.items():
        if year is None:
            choices = members  # an unknown year may match any year
        else:
            choices = queries + by_year.get(year + 1, []) + by_year.get(None, [])
            farther = [c for gap in range(2, later[0] + 1) for c in by_year.get(year + gap, [])]
            if farther:
                _score_pairs(queries, farther, keyed, max(cutoff, later[1]), found)
        if len(choices) >= 2:
            _score_pairs(queries, choices, keyed, cutoff, found)


def _score_pairs(
    queries: list[int],
    choices: list[int],
    keyed: list[str],
    cutoff: float,
    found: dict[tuple[int, int], float],
) -> None:
    """Record every (query, choice) pair scoring at least ``cutoff``."""
    scores = cdist(
        [keyed[q] for q in queries],
        [keyed[c] for c in choices],
        scorer=fuzz.ratio,
        score_cutoff=cutoff,
        dtype=np.float32,
    )
    for qi, ci in zip(*np.nonzero(scores), strict=True):
        i, j = queries[qi], choices[ci]
        if i != j:
            key = (i, j) if i < j else (j, i)
            found[key] = max(found.get(key, 0.0), float(scores[qi, ci]))
