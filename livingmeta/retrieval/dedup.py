"""Record linkage: which records describe the same report, and which reports the same trial.

The registry (:mod:`livingmeta.retrieval.registry`) stores records; this module only decides
links between them, as a pure function of a set of records. Keeping it pure and driven by
the records sorted by ``record_id`` is what makes deduplication reproducible: the same
records give the same links whatever order or run they arrived in.

Evidence, strongest first:

* shared PMID, normalised DOI or other registry id (EudraCT, ISRCTN, ...);
* a shared NCT id in ``nct_ids`` (a ClinicalTrials.gov record's own id and aliases, or a
  PubMed ``DataBankList`` entry), and a ClinicalTrials.gov record's ``linked_pmids``
  (``BACKGROUND`` references are reading lists, not reports, and are ignored);
* ``nct_ids_in_text`` (an NCT number printed in the abstract): linked, but with the
  reason ``nct_in_text`` so that reviewers can see it is weaker evidence;
* fuzzy title similarity (rapidfuzz ``token_sort_ratio`` on normalised titles, years within
  one, same first-author family name when both have authors) for records with no shared id.

Links never merge two different trials: a union that would put two different NCT ids in one
cluster is refused and sent to the manual ``doubtful`` queue instead (a pooled analysis of
two trials stays its own report, linked to neither).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from livingmeta.retrieval.records import NCT_PATTERN, Record, normalise_doi
from livingmeta.retrieval.title_match import (
    first_author_family,
    normalise_title,
    similar_title_pairs,
)

# Link reasons, strongest first; the order is also the order links are applied in.
MANUAL = "manual"
PMID = "pmid"
DOI = "doi"
OTHER_ID = "other_id"
NCT = "nct"
LINKED_PMID = "linked_pmid"
NCT_IN_TEXT = "nct_in_text"
FUZZY_TITLE = "fuzzy_title"
EXACT_REASONS = (PMID, DOI, OTHER_ID, NCT, LINKED_PMID, NCT_IN_TEXT)

# Reasons a pair lands in the manual queue instead of being linked.
DOUBTFUL_SCORE = "fuzzy_title_doubtful"
DOUBTFUL_AUTHOR = "fuzzy_title_author_differs"
DOUBTFUL_IDS = "fuzzy_title_conflicting_ids"
DOUBTFUL_TRIALS = "conflicting_trials"

DEFAULT_THRESHOLD = 0.93
DEFAULT_DOUBTFUL_THRESHOLD = 0.85

#: Reviewer decisions accepted in the ``decision`` column of the doubtful queue.
DECISIONS = ("", "same", "different")

#: Prefixes of ``other_ids`` that name a trial registry ("" is a bare id such as
#: ``ISRCTN12345678``); the names used by PubMed DataBankList, ClinicalTrials.gov
#: ``secondaryIdInfos`` and the RIS/nbib importers.
_REGISTRY_NAMES = frozenset(
    {
        "",
        "anzctr",
        "chictr",
        "cris",
        "ctis",
        "ctri",
        "drks",
        "eudract",
        "eudract_number",
        "irct",
        "isrctn",
        "itmctr",
        "japiccti",
        "jmacct",
        "jprn",
        "jrct",
        "lbctr",
        "ntr",
        "pactr",
        "rebec",
        "registry",
        "repec",
        "rpcec",
        "slctr",
        "tctr",
        "umin ctr",
        "umin",
    }
)
_LINKED_PMID = re.compile(r"^\s*(?:(?P<kind>[A-Za-z_ ]+)\s*:)?\s*(?P<pmid>\d+)\s*$")


@dataclass(frozen=True, order=True)
class Link:
    """Evidence that two records belong together (``record_a < record_b``).

    ``score`` is 1.0 for id-based links and the title similarity (0-1) for fuzzy ones.
    """

    record_a: str
    record_b: str
    reason: str
    score: float = 1.0


@dataclass(frozen=True, order=True)
class DoubtfulPair:
    """A pair a human should look at; ``decision`` is ``""``, ``"same"`` or ``"different"``."""

    record_a: str
    record_b: str
    reason: str
    score: float
    decision: str = ""


@dataclass(frozen=True)
class DedupResult:
    """Everything :func:`find_links` decided: accepted links and the manual queue."""

    links: tuple[Link, ...]
    doubtful: tuple[DoubtfulPair, ...]


def trial_aliases(records: Iterable[Record]) -> dict[str, str]:
    """Map every NCT id a registry record carries (its aliases) to its current id."""
    aliases: dict[str, str] = {}
    for record in records:
        if not _is_registry_record(record):
            continue
        own = record.record_id.split(":", 1)[-1].upper()
        ids = [n.upper() for n in record.nct_ids]
        current = own if NCT_PATTERN.fullmatch(own) else (ids[0] if ids else None)
        if current is None:
            continue
        for nct in (current, *ids):
            aliases.setdefault(nct, current)
    return aliases


def record_trials(record: Record, aliases: Mapping[str, str]) -> frozenset[str]:
    """The trial(s) a record belongs to: its NCT ids, or its single in-text NCT id.

    Several in-text NCT ids (e.g. an abstract citing other trials) say nothing definite,
    so they give no trial.
    """
    strong = frozenset(aliases.get(n.upper(), n.upper()) for n in record.nct_ids)
    if strong:
        return strong
    weak = frozenset(aliases.get(n.upper(), n.upper()) for n in record.nct_ids_in_text)
    return weak if len(weak) == 1 else frozenset()


def find_links(
    records: Sequence[Record],
    threshold: float = DEFAULT_THRESHOLD,
    doubtful_threshold: float = DEFAULT_DOUBTFUL_THRESHOLD,
    decisions: Iterable[DoubtfulPair] = (),
    *,
    block_keys: int = 3,
) -> DedupResult:
    """Link records by shared ids, then by fuzzy title, without merging different trials.

    Parameters
    ----------
    records
        All records of the registry (any order; they are sorted by ``record_id`` here so
        the result does not depend on arrival order).
    threshold
        Minimum title similarity (0-1, rapidfuzz ``token_sort_ratio``) for an automatic
        fuzzy link.
    doubtful_threshold
        Pairs scoring in ``[doubtful_threshold, threshold)`` go to the manual queue.
    decisions
        Reviewer decisions from the manual queue: ``"same"`` pairs are linked (reason
        ``manual``) before anything else, ``"different"`` pairs are never linked. Decided
        pairs are returned in ``doubtful`` unchanged so that no human work is lost.
    block_keys
        How many of a title's rarest tokens form its blocking keys (every pair of them);
        a near-duplicate is found if it shares two of them, so a typo in one word does
        not hide it.

    Returns
    -------
    DedupResult
        Accepted links (sorted) and the doubtful queue (sorted).

    Raises
    ------
    ValueError
        If the thresholds are not ``0 < doubtful_threshold <= threshold <= 1``.
    """
    if not 0 < doubtful_threshold <= threshold <= 1:
        raise ValueError(
            "need 0 < doubtful_threshold <= threshold <= 1, got "
            f"threshold={threshold}, doubtful_threshold={doubtful_threshold}"
        )
    ordered = sorted(records, key=lambda r: r.record_id)
    ids = [r.record_id for r in ordered]
    index = {rid: i for i, rid in enumerate(ids)}
    aliases = trial_aliases(ordered)
    linker = _Linker(ids, [record_trials(r, aliases) for r in ordered])

    decided: dict[tuple[str, str], DoubtfulPair] = {}
    for pair in decisions:
        if pair.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {pair.decision!r}")
        a, b = sorted((pair.record_a, pair.record_b))
        if pair.decision:
            decided[(a, b)] = DoubtfulPair(a, b, pair.reason, pair.score, pair.decision)
    linker.blocked = {key for key, p in decided.items() if p.decision == "different"}
    for (a, b), pair in sorted(decided.items()):
        if pair.decision == "same" and a in index and b in index:
            linker.propose(index[a], index[b], MANUAL, 1.0, force=True)

    for reason, i, j in _exact_pairs(ordered, aliases):
        linker.propose(i, j, reason, 1.0)
    fuzzy = _fuzzy_candidates(ordered, threshold, doubtful_threshold, linker, block_keys)
    for i, j, score in fuzzy:
        linker.propose(i, j, FUZZY_TITLE, score)

    queue = dict(decided)
    for pair in linker.doubtful:
        key = (pair.record_a, pair.record_b)
        same_cluster = linker.find(index[key[0]]) == linker.find(index[key[1]])
        if key not in queue and not same_cluster:
            queue[key] = pair
    return DedupResult(tuple(sorted(linker.links)), tuple(sorted(queue.values())))


class _Linker:
    """Union-find over record indices that refuses to merge two different trials."""

    def __init__(self, ids: list[str], trials: list[frozenset[str]]) -> None:
        self.ids = ids
        self.parent = list(range(len(ids)))
        self.trials = trials  # per root: the trial ids of its component
        self.links: set[Link] = set()
        self.doubtful: list[DoubtfulPair] = []
        self.blocked: set[tuple[str, str]] = set()

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def propose(self, i: int, j: int, reason: str, score: float, *, force: bool = False) -> None:
        a, b = sorted((self.ids[i], self.ids[j]))
        if a == b or (a, b) in self.blocked:
            return
        ri, rj = self.find(i), self.find(j)
        ti, tj = self.trials[ri], self.trials[rj]
        if ri != rj and ti and tj and ti != tj and not force:
            pair = DoubtfulPair(a, b, f"{DOUBTFUL_TRIALS}:{reason}", round(score, 4))
            self.doubtful.append(pair)
            return
        self.links.add(Link(a, b, reason, round(score, 4)))
        if ri != rj:
            self.parent[rj] = ri
            self.trials[ri] = ti | tj


def _exact_pairs(records: list[Record], aliases: Mapping[str, str]) -> list[tuple[str, int, int]]:
    """Pairs sharing an id, as (reason, i, j), each group linked as a star to its hub."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    weak: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        if record.pmid:
            groups[(PMID, record.pmid.strip())].append(i)
        doi = normalise_doi(record.doi)
        if doi:
            groups[(DOI, doi)].append(i)
        for other in record.other_ids:
            key = _other_id_key(other)
            if key:
                groups[(OTHER_ID, key)].append(i)
        for nct in {aliases.get(n.upper(), n.upper()) for n in record.nct_ids}:
            groups[(NCT, nct)].append(i)
        if not record.nct_ids:
            mentioned = {aliases.get(n.upper(), n.upper()) for n in record.nct_ids_in_text}
            if len(mentioned) == 1:  # several mentions: cited trials, not its registration
                weak[mentioned.pop()].append(i)

    pairs: list[tuple[str, int, int]] = []
    for (reason, _key), members in groups.items():
        if len(members) > 1:
            hub = _hub(records, members)
            pairs.extend((reason, hub, m) for m in members if m != hub)
    pmid_hub = {key: _hub(records, m) for (reason, key), m in groups.items() if reason == PMID}
    for i, record in enumerate(records):
        if not _is_registry_record(record):
            continue
        for entry in record.linked_pmids:
            match = _LINKED_PMID.match(entry)
            if not match or (match["kind"] or "").strip().upper() == "BACKGROUND":
                continue
            hub = pmid_hub.get(match["pmid"])
            if hub is not None:
                pairs.append((LINKED_PMID, i, hub))
    for nct, members in weak.items():
        holders = groups.get((NCT, nct))
        hub = _hub(records, holders) if holders else _hub(records, members)
        pairs.extend((NCT_IN_TEXT, hub, m) for m in members if m != hub)
    order = {reason: k for k, reason in enumerate(EXACT_REASONS)}
    pairs.sort(key=lambda p: (order[p[0]], min(p[1], p[2]), max(p[1], p[2])))
    return pairs


def _hub(records: list[Record], members: list[int]) -> int:
    # A registry record is the natural hub of its trial; a report of several trials is
    # the worst hub (every link to it is refused, which would leave the group unlinked).
    return min(
        members,
        key=lambda m: (not _is_registry_record(records[m]), len(records[m].nct_ids) > 1, m),
    )


def _is_registry_record(record: Record) -> bool:
    return record.trial is not None or record.source == "ctgov"


def _other_id_key(value: str) -> str | None:
    """The comparable part of a registry id, or ``None`` if it should not link records.

    ``"ISRCTN:ISRCTN12345678"`` (PubMed DataBankList) and ``"ISRCTN12345678"``
    (ClinicalTrials.gov) are the same registration. Grant, sponsor and other non-registry
    numbers (``"NIH:R01..."``, ``"Other:001"``) never link: one grant funds many trials.
    """
    prefix, sep, ident = value.partition(":")
    if not sep:
        prefix, ident = "", value
    key = "".join(ident.split()).upper()
    if prefix.strip().lower() not in _REGISTRY_NAMES:
        return None
    return key if len(key) >= 6 and any(ch.isdigit() for ch in key) else None


def _fuzzy_candidates(
    records: list[Record],
    threshold: float,
    doubtful_threshold: float,
    linker: _Linker,
    block_keys: int,
) -> list[tuple[int, int, float]]:
    """Fuzzy pairs to link (sorted best first); doubtful ones go straight to the queue."""
    titles = [normalise_title(r.title or "") for r in records]
    years = [r.year for r in records]
    scored = similar_title_pairs(titles, years, doubtful_threshold * 100, block_keys)
    authors = [first_author_family(r.authors) for r in records]
    accepted: list[tuple[int, int, float]] = []
    for (i, j), raw in scored.items():
        if linker.find(i) == linker.find(j):
            continue
        if raw < 100 and titles[i].replace(" ", "") == titles[j].replace(" ", ""):
            # Only spacing differs ("randomizedcontrolled trial"): token_sort_ratio
            # punishes the merged word because it moves in the sort, but it is the same title.
            raw = 100.0
        score = raw / 100
        a, b = records[i], records[j]
        author_differs = bool(authors[i] and authors[j] and authors[i] != authors[j])
        ids_conflict = _ids_conflict(a, b)
        pair_ids = sorted((a.record_id, b.record_id))
        if score < threshold:
            if not author_differs and not ids_conflict:
                linker.doubtful.append(DoubtfulPair(*pair_ids, DOUBTFUL_SCORE, round(score, 4)))
        elif author_differs:
            linker.doubtful.append(DoubtfulPair(*pair_ids, DOUBTFUL_AUTHOR, round(score, 4)))
        elif ids_conflict:
            linker.doubtful.append(DoubtfulPair(*pair_ids, DOUBTFUL_IDS, round(score, 4)))
        else:
            accepted.append((i, j, score))
    accepted.sort(key=lambda p: (-p[2], p[0], p[1]))
    return accepted


def _ids_conflict(a: Record, b: Record) -> bool:
    # Two different PMIDs or DOIs are two different articles, however alike the titles.
    if a.pmid and b.pmid and a.pmid != b.pmid:
        return True
    doi_a, doi_b = normalise_doi(a.doi), normalise_doi(b.doi)
    return bool(doi_a and doi_b and doi_a != doi_b)
