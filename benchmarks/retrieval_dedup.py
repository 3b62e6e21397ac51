"""Benchmark: upsert + deduplicate 100,000 synthetic records on one core.

Why: the registry recomputes all links on every run (so that run order cannot change the
clusters), which is only affordable if a large backfill deduplicates in seconds. The
synthetic set mimics what the registry meets: PubMed-like titles, about 15 % duplicates
(case, punctuation, a typo, DOI resolver prefixes, a missing DOI, a year off by one) coming
from other sources, and ClinicalTrials.gov records linked through DataBankList NCT ids.

Usage::

    python benchmarks/retrieval_dedup.py [--records 100000] [--seed 1]

The last line printed is ``dedup_100k_seconds=<n>`` (upsert + deduplicate, wall clock).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections.abc import Sequence

from livingmeta.retrieval.records import Record, TrialInfo
from livingmeta.retrieval.registry import Registry

_DESIGNS = (
    "a randomized controlled trial",
    "a double-blind placebo-controlled trial",
    "a multicentre randomised trial",
    "a pragmatic cluster randomised trial",
    "a phase III trial",
    "an open-label randomized study",
    "a pilot randomised trial",
    "results of a noninferiority trial",
)
_FRAMES = (
    "{i} versus {c} for {d} in {p}: {design}",
    "Effect of {i} on {o} in {p} with {d}: {design}",
    "{i} or {c} in {d} ({acr}): {design}",
    "Efficacy and safety of {i} compared with {c} in {p} with {d}",
    "Long-term {o} after {i} for {d}: {design}",
    "{i} added to {c} and {o} among {p} with {d}",
)
_STEMS = [
    "metfor",
    "dapagli",
    "empagli",
    "semaglu",
    "atorva",
    "rosuva",
    "amlodi",
    "ramip",
    "apixa",
    "rivaroxa",
    "warfa",
    "aspi",
    "clopido",
    "ticagre",
    "insu",
    "lirag",
    "sitag",
    "cana",
    "ezeti",
    "bempe",
    "spirono",
    "sacubi",
    "ivabra",
    "digo",
    "furose",
    "tolvap",
    "dexame",
    "hydrocorti",
    "tocili",
    "baricit",
    "remdesi",
    "ivermec",
    "azithro",
    "doxy",
    "cefazo",
    "vancomy",
    "linezo",
    "parace",
    "ibupro",
    "ketami",
    "dexmedeto",
    "propo",
]
_SUFFIXES = ("min", "zole", "pril", "sartan", "mab", "tinib", "parin", "statin", "cillin", "ide")
_CONDITIONS = [
    "type 2 diabetes",
    "heart failure",
    "atrial fibrillation",
    "septic shock",
    "COVID-19",
    "acute kidney injury",
    "chronic kidney disease",
    "hypertension",
    "stroke",
    "asthma",
    "COPD exacerbation",
    "community-acquired pneumonia",
    "major depression",
    "knee osteoarthritis",
    "postoperative pain",
    "delirium",
    "acute myocardial infarction",
    "obesity",
    "migraine",
    "rheumatoid arthritis",
    "psoriasis",
    "ulcerative colitis",
    "Crohn's disease",
    "sepsis",
]
_OUTCOMES = [
    "mortality",
    "hospitalisation",
    "glycaemic control",
    "quality of life",
    "pain",
    "cardiovascular events",
    "renal function",
    "length of stay",
    "relapse",
    "remission",
    "exacerbations",
    "cognitive decline",
    "bleeding",
    "weight loss",
    "blood pressure",
]
_POPULATIONS = [
    "older adults",
    "children",
    "adolescents",
    "pregnant women",
    "critically ill patients",
    "outpatients",
    "veterans",
    "nursing home residents",
    "patients undergoing surgery",
    "people living with HIV",
    "South Asian adults",
    "rural primary care patients",
]
_FAMILIES = [
    "Smith",
    "Garcia",
    "Müller",
    "Rossi",
    "Nguyen",
    "Kim",
    "Wang",
    "Li",
    "Patel",
    "Jones",
    "Brown",
    "Dubois",
    "Silva",
    "Kowalski",
    "Johansson",
    "Tanaka",
    "Okafor",
    "van der Berg",
    "O'Connor",
    "Hernández",
    "Cohen",
    "Ivanova",
    "Yilmaz",
    "Andersen",
    "Costa",
    "Sato",
]


def synthetic_records(n: int, seed: int = 1, duplicate_share: float = 0.15) -> list[Record]:
    """``n`` records: originals plus ~``duplicate_share`` varied copies and trial records."""
    rng = random.Random(seed)
    n_dup = int(n * duplicate_share)
    n_trials = n // 20
    n_orig = n - n_dup - n_trials
    originals = [_original(k, rng) for k in range(n_orig)]
    records = list(originals)
    for k in range(n_dup):
        records.append(_variant(rng.choice(originals), k, rng))
    with_nct = [r for r in originals if r.nct_ids]
    for k in range(n_trials):
        if k < len(with_nct) and rng.random() < 0.8:
            nct = with_nct[k].nct_ids[0]
            linked = (f"RESULT:{with_nct[k].pmid}",)
        else:
            nct, linked = f"NCT{90000000 + k:08d}", ()
        records.append(
            Record(
                record_id=f"ctgov:{nct}",
                source="ctgov",
                title=_title(rng) + f" ({k})",
                year=rng.randint(2000, 2026),
                nct_ids=(nct,),
                linked_pmids=linked,
                extra={"truth": with_nct[k].record_id} if linked else {},
                trial=TrialInfo(overall_status="COMPLETED", study_type="INTERVENTIONAL"),
            )
        )
    rng.shuffle(records)
    return records


def _title(rng: random.Random) -> str:
    drug = lambda: rng.choice(_STEMS) + rng.choice(_SUFFIXES)  # noqa: E731
    return rng.choice(_FRAMES).format(
        i=drug().capitalize(),
        c=drug(),
        d=rng.choice(_CONDITIONS),
        p=rng.choice(_POPULATIONS),
        o=rng.choice(_OUTCOMES),
        design=rng.choice(_DESIGNS),
        acr=f"{rng.choice('ABCDEFGHKLMPRST')}{rng.choice('AEIOU')}{rng.randint(1, 999)}",
    )


def _original(k: int, rng: random.Random) -> Record:
    pmid = str(10_000_000 + k)
    has_nct = rng.random() < 0.06
    return Record(
        record_id=f"pubmed:{pmid}",
        source="pubmed",
        title=_title(rng) + ".",
        abstract="Background: ...",
        year=rng.randint(1995, 2026),
        authors=(f"{rng.choice(_FAMILIES)} {rng.choice('ABCDEJKLMS')}",),
        pmid=pmid,
        doi=f"10.{1000 + k % 9000}/j.x.{k}" if rng.random() < 0.85 else None,
        nct_ids=(f"NCT{k:08d}",) if has_nct else (),
    )


def _variant(original: Record, k: int, rng: random.Random) -> Record:
    title = original.title
    roll = rng.random()
    if roll < 0.3:
        title = title.upper().rstrip(".")
    elif roll < 0.55:
        title = title.replace(":", " -").replace(",", "")
    elif roll < 0.75 and len(title) > 30:
        cut = rng.randrange(5, len(title) - 5)
        title = title[:cut] + title[cut + 1 :]  # one-letter typo
    doi = original.doi
    if doi and rng.random() < 0.5:
        doi = rng.choice(("https://doi.org/", "doi:", "http://dx.doi.org/")) + doi.upper()
    elif rng.random() < 0.4:
        doi = None
    year = original.year if rng.random() < 0.85 else (original.year or 2000) + rng.choice((-1, 1))
    source = rng.choice(("embase", "cochrane"))
    return Record(
        record_id=f"{source}:{k}",
        source=source,
        title=title,
        year=year,
        authors=original.authors,
        doi=doi,
        extra={"truth": original.record_id},
    )


def cluster_quality(registry: Registry) -> tuple[float, float]:
    """Pairwise precision and recall of the clusters against the generator's truth."""
    truth = {r.record_id: r.extra.get("truth", r.record_id) for r in registry.records()}
    found = registry.cluster_of()
    true_pairs = _pairs(truth)
    found_pairs = _pairs(found)
    hits = len(true_pairs & found_pairs)
    return hits / max(len(found_pairs), 1), hits / max(len(true_pairs), 1)


def _pairs(assignment: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = {}
    for rid, key in assignment.items():
        groups.setdefault(key, []).append(rid)
    return {
        (a, b)
        for members in groups.values()
        for i, a in enumerate(sorted(members))
        for b in sorted(members)[i + 1 :]
    }


def main(argv: Sequence[str] | None = None) -> float:
    """Run the benchmark; print timings and peak memory; return the seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    records = synthetic_records(args.records, args.seed)
    start = time.perf_counter()
    registry = Registry()
    registry.upsert(records, run_id="bench")
    upserted = time.perf_counter()
    links = registry.deduplicate()
    done = time.perf_counter()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    clusters = registry.clusters()
    precision, recall = cluster_quality(registry)
    reasons: dict[str, int] = {}
    for link in links:
        reasons[link.reason] = reasons.get(link.reason, 0) + 1
    seconds = done - start
    print(f"records={len(records)} clusters={len(clusters)} links={len(links)}")
    print(f"links_by_reason={dict(sorted(reasons.items()))} doubtful={len(registry.doubtful)}")
    print(f"pairwise_precision={precision:.4f} pairwise_recall={recall:.4f}")
    print(f"upsert_seconds={upserted - start:.2f} deduplicate_seconds={done - upserted:.2f}")
    print(f"peak_rss_mb={peak_mb:.0f} (whole process, synthetic records included)")
    label = "100k" if args.records == 100_000 else str(args.records)
    print(f"dedup_{label}_seconds={seconds:.2f}")
    return seconds


if __name__ == "__main__":
    main(sys.argv[1:])
