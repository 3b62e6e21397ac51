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
* for records with no shared id, title and citation: candidates come from title blocking
  and from the same volume and first page (:mod:`livingmeta.retrieval.fuzzy_pairs`), and
  :mod:`livingmeta.retrieval.pair_rules` decides whether each pair is a duplicate record, a
  linked report of the same study, doubtful (the manual queue) or different.

A PMID or DOI shared by records whose titles do not fit each other (a supplement's DOI on
its abstracts) links nothing and is queued. Links never merge two different trials: a union
that would put two different NCT ids in one cluster is refused and sent to the manual
``doubtful`` queue instead (a pooled analysis of two trials stays its own report, linked to
neither).

Two partitions come out of the links: clusters (studies: all links) and duplicate groups
(articles: :data:`DUPLICATE_REASONS` links only, :func:`duplicate_groups`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from livingmeta.retrieval.bib_fields import FieldTable
from livingmeta.retrieval.fuzzy_pairs import ScoredPair, classified_pairs, ids_conflict
from livingmeta.retrieval.pair_rules import (
    FUZZY_TITLE,
    SAME_CITATION,
    Citation,
    Outcome,
    compare_citation,
)
from livingmeta.retrieval.records import NCT_PATTERN, Record, normalise_doi
from livingmeta.retrieval.title_match import MIN_TITLE_TOKENS

# Link reasons, strongest first; the order is also the order links are applied in.
MANUAL = "manual"
PMID = "pmid"
DOI = "doi"
OTHER_ID = "other_id"
NCT = "nct"
LINKED_PMID = "linked_pmid"
NCT_IN_TEXT = "nct_in_text"
EXACT_REASONS = (PMID, DOI, OTHER_ID, NCT, LINKED_PMID, NCT_IN_TEXT)

#: Reasons that say two records are the same article (a duplicate record, removed in
#: PRISMA). Every other reason says they report the same study (linked reports: a
#: conference abstract and its article, a trial registration and its results paper), which
#: keeps both records in one cluster but removes neither as a duplicate.
DUPLICATE_REASONS = frozenset({MANUAL, PMID, DOI, FUZZY_TITLE, SAME_CITATION})

# Reasons a pair lands in the manual queue instead of being linked.
# (The reasons of fuzzy pairs are defined in :mod:`livingmeta.retrieval.pair_rules`.)
DOUBTFUL_TRIALS = "conflicting_trials"
DOUBTFUL_CHAIN = "duplicate_chain_conflict"
#: Suffix of ``pmid``/``doi``: an identifier shared by records whose titles do not fit.
ID_TITLE_DIFFERS = "_title_differs"

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
    """A pair a human should look at; ``decision`` is ``""``, ``"same"`` or ``"different"``,
    signed by the reviewer who made it (``decided_by``, ``decided_on``) when they did so
    in the workspace or by hand."""

    record_a: str
    record_b: str
    reason: str
    score: float
    decision: str = ""
    decided_by: str = ""
    decided_on: str = ""


@dataclass(frozen=True)
class DedupResult:
    """Everything :func:`find_links` decided: accepted links and the manual queue."""

    links: tuple[Link, ...]
    doubtful: tuple[DoubtfulPair, ...]


def duplicate_groups(record_ids: Iterable[str], links: Iterable[Link]) -> list[list[str]]:
    """Groups of records that are the same article: components of the duplicate links only.

    Clusters (all links) are studies; these groups are what PRISMA removes as duplicates.
    Every record is in exactly one group (singletons included), groups and members sorted.
    """
    parent = {rid: rid for rid in record_ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for link in links:
        if link.reason in DUPLICATE_REASONS:
            ra, rb = find(link.record_a), find(link.record_b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = defaultdict(list)
    for rid in sorted(parent):
        groups[find(rid)].append(rid)
    return sorted(groups.values())


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
    if record.nct_ids:
        return frozenset(aliases.get(n.upper(), n.upper()) for n in record.nct_ids)
    weak = frozenset(aliases.get(n.upper(), n.upper()) for n in record.nct_ids_in_text)
    return weak if len(weak) == 1 else _NO_TRIAL


#: The trials of a record without any: one shared object (an empty frozenset per record
#: of a backfill would cost 20 MB).
_NO_TRIAL: frozenset[str] = frozenset()


def find_links(
    records: Sequence[Record],
    threshold: float = DEFAULT_THRESHOLD,
    doubtful_threshold: float = DEFAULT_DOUBTFUL_THRESHOLD,
    decisions: Iterable[DoubtfulPair] = (),
    *,
    block_keys: int = 3,
) -> DedupResult:
    """Link records by shared ids, then by title and citation, without merging different trials.

    Parameters
    ----------
    records
        All records of the registry (any order; they are sorted by ``record_id`` here so
        the result does not depend on arrival order).
    threshold
        Minimum title similarity (0-1, rapidfuzz ``token_sort_ratio``) for "the same
        title" (:func:`~livingmeta.retrieval.pair_rules.classify_pair` decides the rest).
    doubtful_threshold
        Titles scoring in ``[doubtful_threshold, threshold)`` may go to the manual queue.
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
    fields = FieldTable(ordered)
    linker = _Linker(ordered, [record_trials(r, aliases) for r in ordered], fields)

    decided = _decided_pairs(decisions)
    linker.blocked = {key for key, p in decided.items() if p.decision == "different"}
    for (a, b), pair in sorted(decided.items()):
        if pair.decision == "same" and a in index and b in index:
            linker.propose(index[a], index[b], MANUAL, 1.0, force=True)

    for reason, i, j in _exact_pairs(ordered, aliases, fields, linker.doubtful):
        linker.propose(i, j, reason, 1.0)
    pairs = classified_pairs(ordered, fields, threshold, doubtful_threshold, block_keys)
    _apply_verdicts(pairs, linker)

    queue = dict(decided)
    for pair in linker.doubtful:
        key = (pair.record_a, pair.record_b)
        same_cluster = linker.find(index[key[0]]) == linker.find(index[key[1]])
        if key not in queue and not same_cluster:
            queue[key] = pair
    return DedupResult(tuple(sorted(linker.links)), tuple(sorted(queue.values())))


def _decided_pairs(decisions: Iterable[DoubtfulPair]) -> dict[tuple[str, str], DoubtfulPair]:
    decided: dict[tuple[str, str], DoubtfulPair] = {}
    for pair in decisions:
        if pair.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {pair.decision!r}")
        a, b = sorted((pair.record_a, pair.record_b))
        if pair.decision:
            decided[(a, b)] = replace(pair, record_a=a, record_b=b)
    return decided


def _apply_verdicts(pairs: list[ScoredPair], linker: _Linker) -> None:
    """Duplicates first (best title first), then linked reports; doubtful pairs queued.

    Pairs an identifier already made duplicates get no second, fuzzy link.
    """
    by_id = [linker.find_dup(k) for k in range(len(linker.ids))]
    for pair in pairs:
        if by_id[pair.i] == by_id[pair.j]:
            continue
        if pair.verdict.outcome is Outcome.DUPLICATE:
            linker.propose_duplicate(pair.i, pair.j, pair.verdict.reason, pair.score)
    for pair in pairs:
        if by_id[pair.i] == by_id[pair.j]:
            continue
        outcome, reason = pair.verdict.outcome, pair.verdict.reason
        if outcome is Outcome.LINKED_REPORT:
            if linker.find(pair.i) != linker.find(pair.j):
                linker.propose(pair.i, pair.j, reason, pair.score)
        elif outcome is Outcome.DOUBTFUL and linker.find_dup(pair.i) != linker.find_dup(pair.j):
            a, b = sorted((linker.ids[pair.i], linker.ids[pair.j]))
            linker.doubtful.append(DoubtfulPair(a, b, reason, pair.score))


class _Linker:
    """Union-find over record indices that refuses to merge two different trials.

    Two partitions are kept: clusters (studies: every accepted link) and duplicate groups
    (articles: duplicate links only, a refinement of the clusters). A fuzzy duplicate link
    that would put two records with conflicting citations or ids (different PMIDs or DOIs)
    into one duplicate group (a chain A~B~C through a B with no ids or pages, where A and C
    cannot be one article) is refused and queued instead.
    """

    def __init__(
        self, records: list[Record], trials: list[frozenset[str]], fields: FieldTable
    ) -> None:
        self.records = records
        self.ids = [r.record_id for r in records]
        self.fields = fields
        self.parent = list(range(len(records)))
        self.trials = trials  # per root: the trial ids of its component
        self.dup_parent = list(range(len(records)))
        self.dup_members: dict[int, list[int]] = {}
        self.links: set[Link] = set()
        self.doubtful: list[DoubtfulPair] = []
        self.blocked: set[tuple[str, str]] = set()

    def find(self, i: int) -> int:
        return _find(self.parent, i)

    def find_dup(self, i: int) -> int:
        return _find(self.dup_parent, i)

    def propose(self, i: int, j: int, reason: str, score: float, *, force: bool = False) -> bool:
        """Link ``i`` and ``j``; return whether the link was accepted."""
        a, b = sorted((self.ids[i], self.ids[j]))
        if a == b or (a, b) in self.blocked:
            return False
        ri, rj = self.find(i), self.find(j)
        ti, tj = self.trials[ri], self.trials[rj]
        if ri != rj and ti and tj and ti != tj and not force:
            pair = DoubtfulPair(a, b, f"{DOUBTFUL_TRIALS}:{reason}", round(score, 4))
            self.doubtful.append(pair)
            return False
        self.links.add(Link(a, b, reason, round(score, 4)))
        if ri != rj:
            self.parent[rj] = ri
            self.trials[ri] = ti | tj
        if reason in DUPLICATE_REASONS:
            self._merge_dup(i, j)
        return True

    def propose_duplicate(self, i: int, j: int, reason: str, score: float) -> None:
        """Propose a fuzzy duplicate link, guarded against chaining unrelated records."""
        di, dj = self.find_dup(i), self.find_dup(j)
        if di != dj and self._groups_conflict(di, dj):
            a, b = sorted((self.ids[i], self.ids[j]))
            self.doubtful.append(DoubtfulPair(a, b, DOUBTFUL_CHAIN, round(score, 4)))
            return
        self.propose(i, j, reason, score)

    def _members(self, root: int) -> list[int]:
        return self.dup_members.get(root, [root])

    def _groups_conflict(self, di: int, dj: int) -> bool:
        return any(
            compare_citation(self.fields[x], self.fields[y]) is Citation.CONFLICT
            or ids_conflict(self.records[x], self.records[y])
            for x in self._members(di)
            for y in self._members(dj)
        )

    def _merge_dup(self, i: int, j: int) -> None:
        di, dj = self.find_dup(i), self.find_dup(j)
        if di != dj:
            self.dup_parent[dj] = di
            self.dup_members[di] = self._members(di) + self.dup_members.pop(dj, [dj])


def _find(parent: list[int], i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


def _exact_pairs(
    records: list[Record],
    aliases: Mapping[str, str],
    fields: FieldTable,
    doubtful: list[DoubtfulPair],
) -> list[tuple[str, int, int]]:
    """Pairs sharing an id, as (reason, i, j), each group linked as a star to its hub.

    A PMID or DOI shared by records with clearly different titles (a supplement's DOI on
    every abstract in it, a book's DOI on its chapters) is not linked: the pair goes to
    ``doubtful`` instead (:func:`_star_by_title`).
    """
    groups = _IdGroups()
    weak: dict[str, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        for reason, key in _id_keys(record, aliases):
            groups.add(reason, key, i)
        if not record.nct_ids:
            mentioned = {aliases.get(n.upper(), n.upper()) for n in record.nct_ids_in_text}
            if len(mentioned) == 1:  # several mentions: cited trials, not its registration
                weak[mentioned.pop()].append(i)

    pairs: list[tuple[str, int, int]] = []
    for reason, members in groups.shared(records, aliases):
        hub = _hub(records, members)
        if reason in (PMID, DOI):
            pairs.extend(_star_by_title(reason, hub, members, records, fields.titles, doubtful))
        else:
            pairs.extend((reason, hub, m) for m in members if m != hub)
    for i, record in enumerate(records):
        if not _is_registry_record(record):
            continue
        for entry in record.linked_pmids:
            match = _LINKED_PMID.match(entry)
            if not match or (match["kind"] or "").strip().upper() == "BACKGROUND":
                continue
            holders = groups.members(PMID, match["pmid"])
            if holders:
                pairs.append((LINKED_PMID, i, _hub(records, holders)))
    for nct, members in weak.items():
        holders = groups.members(NCT, nct)
        hub = _hub(records, holders) if holders else _hub(records, members)
        pairs.extend((NCT_IN_TEXT, hub, m) for m in members if m != hub)
    order = {reason: k for k, reason in enumerate(EXACT_REASONS)}
    pairs.sort(key=lambda p: (order[p[0]], min(p[1], p[2]), max(p[1], p[2])))
    return pairs


def _id_keys(record: Record, aliases: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """The ids that link a record to every record sharing one, as (reason, key)."""
    if record.pmid:
        yield PMID, record.pmid.strip()
    doi = normalise_doi(record.doi)
    if doi:
        yield DOI, doi
    for other in record.other_ids:
        key = _other_id_key(other)
        if key:
            yield OTHER_ID, key
    for nct in {aliases.get(n.upper(), n.upper()) for n in record.nct_ids}:
        yield NCT, nct


class _IdGroups:
    """Record indices per (reason, key), compact: a key of one record holds a bare index.

    Why: nearly every record of a backfill has a PMID and a DOI of its own; a list and a
    tuple key for each would be the largest structure of deduplication.
    """

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, int | list[int]]] = {}

    def add(self, reason: str, key: str, index: int) -> None:
        table = self._tables.setdefault(reason, {})
        held = table.get(key)
        if held is None:
            table[key] = index
        elif isinstance(held, int):
            table[key] = [held, index]
        else:
            held.append(index)

    def members(self, reason: str, key: str) -> list[int]:
        held = self._tables.get(reason, {}).get(key)
        if held is None:
            return []
        return [held] if isinstance(held, int) else held

    def shared(
        self, records: Sequence[Record], aliases: Mapping[str, str]
    ) -> list[tuple[str, list[int]]]:
        """Groups of two or more, in the order their ids first occur in ``records``
        (which decides the reason a pair queued twice keeps)."""
        found = []
        for reason, table in self._tables.items():
            for key, held in table.items():
                if isinstance(held, list):
                    first = list(_id_keys(records[held[0]], aliases)).index((reason, key))
                    found.append(((held[0], first), reason, held))
        found.sort(key=lambda group: group[0])
        return [(reason, members) for _, reason, members in found]


def _star_by_title(
    reason: str,
    hub: int,
    members: list[int],
    records: list[Record],
    titles: list[str],
    doubtful: list[DoubtfulPair],
) -> list[tuple[str, int, int]]:
    """Link each member sharing the id to the first earlier member whose title fits it.

    A member whose title fits none of them is queued against the hub with the reason
    ``<reason>_title_differs``.
    """
    ordered = [hub, *sorted(m for m in members if m != hub)]
    pairs = []
    for k, m in enumerate(ordered[1:], start=1):
        fits = next((o for o in ordered[:k] if titles_fit(titles[o], titles[m])), None)
        if fits is not None:
            pairs.append((reason, fits, m))
            continue
        a, b = sorted((records[hub].record_id, records[m].record_id))
        doubtful.append(DoubtfulPair(a, b, f"{reason}{ID_TITLE_DIFFERS}", 1.0))
    return pairs


def titles_fit(a: str, b: str) -> bool:
    """Whether two titles can belong to one article: at least half of the shorter's words.

    Why half: copies of one article keep most words of the shorter title even when one is
    cut, translated in brackets or missing its subtitle; an abstract book's title and an
    abstract's, or a book's and a chapter's, share almost none. A title too short to judge
    (or missing) fits anything, since an identifier is then the only evidence there is.
    """
    words_a, words_b = set(a.split()), set(b.split())
    if min(len(words_a), len(words_b)) < MIN_TITLE_TOKENS:
        return True
    return 2 * len(words_a & words_b) >= min(len(words_a), len(words_b))


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
