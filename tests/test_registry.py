"""Record registry and deduplication: links, clusters, candidates across runs, PRISMA, files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livingmeta.retrieval.candidate_export import COLUMNS, candidate_rows, write_candidates
from livingmeta.retrieval.records import Record, TrialInfo
from livingmeta.retrieval.registry import (
    LINKED_TO_EXISTING,
    NEW,
    Registry,
    StaleLinksError,
)
from livingmeta.retrieval.title_match import normalise_title

TITLE = "Dapagliflozin in patients with heart failure and reduced ejection fraction"
# token_sort_ratio with TITLE is 0.899: in the default doubtful band [0.85, 0.93).
SIMILAR = "Dapagliflozin in patients with chronic heart failure and preserved ejection fraction"
OTHER_TITLE = "Cognitive behavioural therapy for insomnia in older adults with chronic pain"


def pubmed(pmid: str, title: str = TITLE, **kw) -> Record:
    kw.setdefault("year", 2019)
    kw.setdefault("authors", ("McMurray JJV", "Solomon SD"))
    kw.setdefault("abstract", "Background: ...")
    return Record(record_id=f"pubmed:{pmid}", source="pubmed", title=title, pmid=pmid, **kw)


def ctgov(nct: str, title: str = "A Study of Something", **kw) -> Record:
    kw.setdefault("nct_ids", (nct,))
    kw.setdefault("trial", TrialInfo())
    return Record(record_id=f"ctgov:{nct}", source="ctgov", title=title, **kw)


def imported(key: str, title: str = TITLE, source: str = "embase", **kw) -> Record:
    kw.setdefault("year", 2019)
    kw.setdefault("authors", ("McMurray J",))
    return Record(record_id=f"{source}:{key}", source=source, title=title, **kw)


def deduplicated(*records: Record, run_id: str = "run1") -> Registry:
    registry = Registry()
    registry.upsert(records, run_id)
    registry.deduplicate()
    return registry


def reasons_between(registry: Registry, a: str, b: str) -> set[str]:
    x, y = sorted((a, b))
    return {link.reason for link in registry.links if (link.record_a, link.record_b) == (x, y)}


def partition(registry: Registry) -> set[frozenset[str]]:
    return {frozenset(members) for members in registry.clusters().values()}


# -- exact-key links ------------------------------------------------------------------------


def test_shared_pmid_links_pubmed_and_imported_record():
    reg = deduplicated(pubmed("31535829"), imported("e1", title="Other words", pmid="31535829"))
    assert reasons_between(reg, "pubmed:31535829", "embase:e1") == {"pmid"}


@pytest.mark.parametrize(
    "variant",
    [
        "https://doi.org/10.1056/NEJMoa1911303",
        "doi: 10.1056/nejmoa1911303",
        "10.1056/NEJMOA1911303.",
    ],
)
def test_doi_case_and_prefix_variants_link(variant):
    reg = deduplicated(
        pubmed("1", title=TITLE, doi="10.1056/NEJMoa1911303"),
        imported("e1", title=TITLE.upper(), doi=variant),
    )
    assert reasons_between(reg, "pubmed:1", "embase:e1") == {"doi"}


def test_different_dois_do_not_link():
    reg = deduplicated(
        pubmed("1", title=TITLE, doi="10.1056/x1"),
        imported("e1", title=OTHER_TITLE, doi="10.1056/x2"),
    )
    assert reg.links == []
    assert len(reg.clusters()) == 2


def test_registry_ids_link_across_prefix_styles_but_grant_numbers_do_not():
    reg = deduplicated(
        pubmed("1", other_ids=("ISRCTN:ISRCTN12345678",)),
        ctgov("NCT00000001", other_ids=("ISRCTN12345678", "NIH:R01HL123456")),
        ctgov("NCT00000002", other_ids=("NIH:R01HL123456",)),
        imported("e1", title=OTHER_TITLE, other_ids=("EudraCT:2014-005181-30",)),
        pubmed("2", title="Zinc for diarrhoea in children", other_ids=("EudraCT:2014-005181-30",)),
    )
    assert reasons_between(reg, "ctgov:NCT00000001", "pubmed:1") == {"other_id"}
    assert reasons_between(reg, "embase:e1", "pubmed:2") == {"other_id"}
    assert reg.cluster_of()["ctgov:NCT00000002"] == "NCT00000002"
    assert reg.clusters()["NCT00000002"] == ["ctgov:NCT00000002"]


def test_databank_nct_groups_publication_under_the_trial():
    reg = deduplicated(pubmed("1", nct_ids=("NCT03036124",)), ctgov("NCT03036124"))
    assert reasons_between(reg, "pubmed:1", "ctgov:NCT03036124") == {"nct"}
    assert reg.clusters() == {"NCT03036124": ["ctgov:NCT03036124", "pubmed:1"]}


def test_linked_pmids_link_trial_to_its_result_publication_but_not_background():
    reg = deduplicated(
        ctgov("NCT03036124", linked_pmids=("RESULT:1", "BACKGROUND:2")),
        pubmed("1", title=TITLE),
        pubmed("2", title=OTHER_TITLE),
    )
    assert reasons_between(reg, "ctgov:NCT03036124", "pubmed:1") == {"linked_pmid"}
    assert reasons_between(reg, "ctgov:NCT03036124", "pubmed:2") == set()
    assert reg.cluster_of()["pubmed:1"] == "NCT03036124"
    assert reg.cluster_of()["pubmed:2"] == "pubmed:2"


def test_nct_in_text_is_a_weak_link_and_ambiguous_mentions_are_ignored():
    reg = deduplicated(
        ctgov("NCT03036124"),
        pubmed("1", title=TITLE, nct_ids_in_text=("NCT03036124",)),
        pubmed("2", title=OTHER_TITLE, nct_ids_in_text=("NCT03036124", "NCT00000001")),
    )
    assert reasons_between(reg, "ctgov:NCT03036124", "pubmed:1") == {"nct_in_text"}
    assert reg.cluster_of()["pubmed:2"] == "pubmed:2"


def test_nct_alias_of_a_registry_record_maps_to_its_current_id():
    reg = deduplicated(
        ctgov("NCT03036124", nct_ids=("NCT03036124", "NCT02999999")),
        pubmed("1", nct_ids=("NCT02999999",)),
    )
    assert reg.clusters() == {"NCT03036124": ["ctgov:NCT03036124", "pubmed:1"]}


def test_report_of_two_trials_does_not_merge_them_and_is_queued():
    reg = deduplicated(
        ctgov("NCT00000001"),
        ctgov("NCT00000002"),
        pubmed("1", title=TITLE, nct_ids=("NCT00000001",)),
        pubmed("9", title=OTHER_TITLE, nct_ids=("NCT00000001", "NCT00000002")),
    )
    clusters = reg.clusters()
    assert clusters["NCT00000001"] == ["ctgov:NCT00000001", "pubmed:1"]
    assert clusters["NCT00000002"] == ["ctgov:NCT00000002"]
    assert ["pubmed:9"] in clusters.values()
    queued = {(p.record_a, p.record_b, p.reason) for p in reg.doubtful}
    assert ("ctgov:NCT00000001", "pubmed:9", "conflicting_trials:nct") in queued


def test_reports_of_one_trial_link_even_when_a_pooled_report_shares_its_nct():
    reg = deduplicated(
        pubmed("1", title=TITLE, nct_ids=("NCT00000001",)),
        pubmed("2", title=OTHER_TITLE, nct_ids=("NCT00000001",)),
        pubmed(
            "0",
            title="Pooled analysis of two zinc trials in children",
            nct_ids=(
                "NCT00000001",
                "NCT00000002",
            ),
        ),
    )
    assert reg.clusters()["NCT00000001"] == ["pubmed:1", "pubmed:2"]
    assert reg.cluster_of()["pubmed:0"] == "pubmed:0"


# -- fuzzy links and the manual queue -------------------------------------------------------


def test_fuzzy_title_links_case_punctuation_and_year_variants():
    reg = deduplicated(
        pubmed("1"),
        imported("e1", title=TITLE.upper() + ".", year=2020),
        imported("c1", title=TITLE.replace("heart failure", "heart-failure"), source="cochrane"),
    )
    assert reasons_between(reg, "embase:e1", "pubmed:1") == {"fuzzy_title"}
    assert len(reg.clusters()) == 1
    assert all(link.score >= 0.93 for link in reg.links)


def test_fuzzy_title_years_apart_is_at_most_a_linked_report():
    reg = deduplicated(pubmed("1", year=2019), imported("e1", year=2021))
    assert {link.reason for link in reg.links} == {"linked_report"}  # never a duplicate
    assert reg.duplicate_groups() == [["embase:e1"], ["pubmed:1"]]
    assert reg.doubtful == []
    far = deduplicated(pubmed("1", year=2012), imported("e1", year=2021))
    assert far.links == []


def test_same_title_with_different_first_author_goes_to_the_queue():
    reg = deduplicated(pubmed("1"), imported("e1", authors=("Packer M",)))
    assert reg.links == []
    assert [(p.record_a, p.record_b, p.reason) for p in reg.doubtful] == [
        ("embase:e1", "pubmed:1", "fuzzy_title_author_differs")
    ]


def test_same_title_with_different_pmids_is_not_linked_automatically():
    reg = deduplicated(pubmed("1"), pubmed("2"))
    assert reg.links == []
    assert [p.reason for p in reg.doubtful] == ["fuzzy_title_conflicting_ids"]


def test_doubtful_band_is_queued_not_linked():
    reg = deduplicated(pubmed("1"), imported("e1", title=SIMILAR))
    assert reg.links == []
    (pair,) = reg.doubtful
    assert pair.reason == "fuzzy_title_doubtful"
    assert 0.85 <= pair.score < 0.93


def test_threshold_parameter_controls_fuzzy_linking():
    reg = Registry()
    reg.upsert([pubmed("1"), imported("e1", title=SIMILAR)], "run1")
    links = reg.deduplicate(threshold=0.85, doubtful_threshold=0.80)
    assert [link.reason for link in links] == ["fuzzy_title"]
    with pytest.raises(ValueError, match="doubtful_threshold"):
        reg.deduplicate(threshold=0.8, doubtful_threshold=0.9)


def test_generic_short_titles_never_link_by_title():
    reg = deduplicated(pubmed("1", title="Erratum."), imported("e1", title="Erratum"))
    assert reg.links == []
    assert reg.doubtful == []


def test_merged_words_score_by_the_space_free_ratio():
    reg = deduplicated(
        pubmed("1"), imported("e1", title=TITLE.replace("heart failure", "heartfailure"))
    )
    assert reasons_between(reg, "embase:e1", "pubmed:1") == {"fuzzy_title"}


def test_reviewer_decisions_are_obeyed_and_kept(tmp_path: Path):
    reg = deduplicated(pubmed("1"), imported("e1", title=SIMILAR), imported("e2", title=TITLE))
    assert reasons_between(reg, "embase:e2", "pubmed:1") == {"fuzzy_title"}
    reg.decide("embase:e1", "pubmed:1", "same")
    reg.decide("pubmed:1", "embase:e2", "different")
    reg.deduplicate()
    assert reasons_between(reg, "embase:e1", "pubmed:1") == {"manual"}
    assert reasons_between(reg, "embase:e2", "pubmed:1") == set()
    reg.save(tmp_path)
    again = Registry.load(tmp_path)
    again.deduplicate()
    assert again.links == reg.links
    assert {(p.record_a, p.record_b, p.decision) for p in again.doubtful} >= {
        ("embase:e1", "pubmed:1", "same"),
        ("embase:e2", "pubmed:1", "different"),
    }


def test_decision_typed_into_doubtful_csv_is_read(tmp_path: Path):
    reg = deduplicated(pubmed("1"), imported("e1", authors=("Packer M",)))
    reg.save(tmp_path)
    path = tmp_path / "doubtful.csv"
    rows = list(csv.DictReader(path.open()))
    rows[0]["decision"] = "Same"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    loaded = Registry.load(tmp_path)
    loaded.deduplicate()
    assert reasons_between(loaded, "embase:e1", "pubmed:1") == {"manual"}
    rows[0]["decision"] = "maybe"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(ValueError, match="maybe"):
        Registry.load(tmp_path)


def test_a_signed_decision_keeps_its_signature_through_later_runs(tmp_path: Path):
    """Who decided a doubtful pair, and when, survives every later save (each search run
    rewrites doubtful.csv), as the decision itself does."""
    reg = deduplicated(pubmed("1"), imported("e1", title=SIMILAR))
    reg.decide("embase:e1", "pubmed:1", "same", decided_by="alice", decided_on="2026-12-01")
    reg.deduplicate()
    reg.save(tmp_path)
    later = Registry.load(tmp_path)
    later.upsert([imported("e9", title="An unrelated trial of something else")], "run2")
    later.deduplicate()
    later.save(tmp_path)
    rows = list(csv.DictReader((tmp_path / "doubtful.csv").open()))
    assert [(r["decision"], r["decided_by"], r["decided_on"]) for r in rows] == [
        ("same", "alice", "2026-12-01")
    ]


def test_a_queue_written_before_signatures_existed_is_read(tmp_path: Path):
    reg = deduplicated(pubmed("1"), imported("e1", title=SIMILAR))
    reg.save(tmp_path)
    path = tmp_path / "doubtful.csv"
    (row,) = list(csv.DictReader(path.open()))
    path.write_text(
        "record_a,record_b,reason,score,decision\n"
        f"{row['record_a']},{row['record_b']},{row['reason']},{row['score']},different\n"
    )
    (pair,) = Registry.load(tmp_path).doubtful
    assert (pair.decision, pair.decided_by, pair.decided_on) == ("different", "", "")


def test_blocking_finds_a_typo_duplicate_among_many_records():
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"]
    records = [
        pubmed(str(k), title=f"{words[k % 9]} {words[(k * 7) % 9]} trial number {k} of drug x{k}")
        for k in range(2000)
    ]
    typo = records[1234].title.replace("number", "numbr")
    reg = deduplicated(*records, imported("e1", title=typo, authors=("McMurray J",)))
    assert reg.cluster_of()["embase:e1"] == reg.cluster_of()["pubmed:1234"]
    assert len(reg.clusters()) == 2000


def test_normalise_title_ignores_case_accents_and_punctuation():
    assert normalise_title("Étude [Randomised]: Café-au-lait!") == "etude randomised cafe au lait"


# -- upserts, runs and candidates -----------------------------------------------------------


def test_records_are_never_deleted_and_updates_keep_first_seen():
    reg = Registry()
    first = ctgov("NCT00000001", trial=TrialInfo(overall_status="RECRUITING"))
    assert reg.upsert([first, pubmed("1")], "run1").new_record_ids == [
        "ctgov:NCT00000001",
        "pubmed:1",
    ]
    changed = ctgov("NCT00000001", trial=TrialInfo(overall_status="COMPLETED"))
    result = reg.upsert([changed], "run2")
    assert result.updated_record_ids == ["ctgov:NCT00000001"]
    assert result.new_record_ids == []
    entry = reg.entry("ctgov:NCT00000001")
    assert entry.record.trial.overall_status == "COMPLETED"
    assert (entry.first_seen, entry.last_seen) == ("run1", "run2")
    reg.deduplicate()
    assert len(reg) == 2
    assert sorted(m for ms in reg.clusters().values() for m in ms) == [
        "ctgov:NCT00000001",
        "pubmed:1",
    ]


def test_same_records_twice_give_no_new_candidates_the_second_time():
    records = [pubmed("1"), imported("e1"), pubmed("2", title=OTHER_TITLE)]
    reg = Registry()
    reg.upsert(records, "run1")
    reg.deduplicate()
    first = reg.new_candidates()
    assert [(c.status, c.record_ids) for c in first] == [
        (NEW, ("embase:e1", "pubmed:1")),
        (NEW, ("pubmed:2",)),
    ]
    reg.mark_reported(first, "run1")
    result = reg.upsert(records, "run2")
    assert result.new_record_ids == [] and result.updated_record_ids == []
    assert result.unchanged_record_ids == ["embase:e1", "pubmed:1", "pubmed:2"]
    reg.deduplicate()
    assert reg.new_candidates() == []


def test_new_report_of_a_known_study_is_linked_not_new():
    reg = Registry()
    reg.upsert([ctgov("NCT00000001"), pubmed("1", nct_ids=("NCT00000001",))], "run1")
    reg.deduplicate()
    reg.mark_reported(reg.new_candidates(), "run1")
    reg.upsert([pubmed("2", title=OTHER_TITLE, nct_ids=("NCT00000001",))], "run2")
    reg.upsert(
        [imported("e9", title="Completely unrelated new randomised trial title here")], "run2"
    )
    reg.deduplicate()
    candidates = {c.cluster_id: c for c in reg.new_candidates()}
    linked = candidates["NCT00000001"]
    assert linked.status == LINKED_TO_EXISTING
    assert linked.record_ids == ("pubmed:2",)
    assert linked.existing_record_ids == ("ctgov:NCT00000001", "pubmed:1")
    assert candidates["embase:e9"].status == NEW


def test_interrupted_run_loses_and_duplicates_nothing(tmp_path: Path):
    records = [pubmed("1"), imported("e1"), ctgov("NCT00000001")]
    reg = Registry.load(tmp_path)
    reg.upsert(records, "run1")
    reg.deduplicate()
    reg.save(tmp_path)  # ... and the run dies before the candidates are handed over
    retry = Registry.load(tmp_path)
    retry.upsert(records, "run2")  # the next run re-retrieves the same window
    retry.deduplicate()
    candidates = retry.new_candidates()
    assert sorted(r for c in candidates for r in c.record_ids) == sorted(
        r.record_id for r in records
    )
    retry.mark_reported(candidates, "run2")
    retry.save(tmp_path)
    last = Registry.load(tmp_path)
    last.upsert(records, "run2")  # the same run repeated
    last.deduplicate()
    assert last.new_candidates() == []
    assert len(last) == 3
    assert last.entry("pubmed:1").seen_in == ["run1", "run2"]


def test_prisma_counts_per_source():
    reg = Registry()
    reg.upsert([pubmed("1"), pubmed("2", title=OTHER_TITLE)], "run1")
    reg.deduplicate()
    reg.mark_reported(reg.new_candidates(), "run1")
    reg.upsert(
        [
            pubmed("2", title=OTHER_TITLE),  # seen before (overlapping window)
            pubmed("3", title="A new trial of something else entirely in adults"),
            imported("e1"),  # copy of pubmed:1, known
            imported("e3", title="A new trial of something else entirely in adults"),  # same run
            ctgov("NCT00000009", title="Registry entry for an unpublished study of zinc"),
        ],
        "run2",
    )
    reg.deduplicate()
    assert reg.prisma_counts("run2")["pubmed"]["pending"] == 1  # pubmed:3
    reg.mark_reported(reg.new_candidates(), "run2")
    counts = reg.prisma_counts("run2")
    assert counts == {
        "ctgov": {
            "identified": 1,
            "duplicates_removed": 0,
            "to_screen": 1,
            "pending": 0,
            "linked_reports": 0,
        },
        "embase": {
            "identified": 2,
            "duplicates_removed": 2,
            "to_screen": 0,
            "pending": 0,
            "linked_reports": 0,
        },
        "pubmed": {
            "identified": 2,
            "duplicates_removed": 1,
            "to_screen": 1,
            "pending": 0,
            "linked_reports": 0,
        },
    }
    assert reg.prisma_counts("run1") == {
        "pubmed": {
            "identified": 2,
            "duplicates_removed": 0,
            "to_screen": 2,
            "pending": 0,
            "linked_reports": 0,
        }
    }


def test_clusters_refuse_to_answer_when_links_are_stale():
    reg = deduplicated(pubmed("1"))
    reg.upsert([imported("e1")], "run2")
    with pytest.raises(StaleLinksError):
        reg.clusters()


# -- files ----------------------------------------------------------------------------------


def _sample_registry() -> Registry:
    reg = Registry()
    reg.upsert(
        [
            pubmed("1", doi="10.1/x", nct_ids=("NCT00000001",), extra={"mesh": ["Heart"]}),
            imported("e1", title="Résumé: ünïcode title of a trial, with commas", doi="doi:10.1/X"),
            ctgov("NCT00000001", trial=TrialInfo(phases=("PHASE3",), enrollment=10)),
            imported("e2", authors=("Packer M",)),
        ],
        "2026-01-01",
    )
    reg.deduplicate()
    reg.mark_reported(reg.new_candidates(), "2026-01-01")
    return reg


def test_save_load_round_trip_is_byte_stable(tmp_path: Path):
    reg = _sample_registry()
    reg.save(tmp_path / "a")
    loaded = Registry.load(tmp_path / "a")
    loaded.save(tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == ["doubtful.csv", "links.csv", "records.jsonl", "registry.json"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert loaded.clusters() == reg.clusters()
    assert loaded.records() == reg.records()
    assert loaded.entry("pubmed:1").record.extra == {"mesh": ["Heart"]}
    line = json.loads((tmp_path / "a" / "records.jsonl").read_text().splitlines()[0])
    assert set(line) == {"record", "seen_in", "reported_in", "reported_as"}


def test_half_finished_save_is_detected_and_links_recomputed(tmp_path: Path):
    old, new = tmp_path / "registry", tmp_path / "complete"
    reg = _sample_registry()
    reg.save(old)
    reg.upsert([imported("e3")], "2026-01-08")
    reg.deduplicate()
    reg.save(new)
    # A crash after records.jsonl was replaced but before links.csv and registry.json were.
    (old / "records.jsonl").write_bytes((new / "records.jsonl").read_bytes())
    loaded = Registry.load(old)
    assert "embase:e3" in loaded
    assert "2026-01-08" in loaded.runs
    with pytest.raises(StaleLinksError):
        loaded.clusters()
    loaded.deduplicate()
    assert loaded.cluster_of()["embase:e3"] == loaded.cluster_of()["pubmed:1"]
    assert loaded.clusters() == reg.clusters()


def test_candidate_export_csv_and_jsonl(tmp_path: Path):
    reg = Registry()
    reg.upsert([pubmed("1", doi="10.1/x", nct_ids=("NCT00000001",)), ctgov("NCT00000001")], "r1")
    reg.upsert([imported("e1", doi="https://doi.org/10.1/X", abstract="")], "r1")
    reg.deduplicate()
    rows = candidate_rows(reg, reg.new_candidates())
    (row,) = rows
    assert row["cluster_id"] == "NCT00000001"
    assert row["record_id"] == "pubmed:1"  # the one with an abstract
    assert row["record_ids"] == ["ctgov:NCT00000001", "embase:e1", "pubmed:1"]
    assert row["dois"] == ["10.1/x"] and row["pmids"] == ["1"]
    assert row["first_seen"] == "r1"
    assert any("(doi 1.00)" in link for link in row["links"])
    write_candidates(rows, tmp_path / "c.csv")
    write_candidates(rows, tmp_path / "c.jsonl")
    (csv_row,) = list(csv.DictReader((tmp_path / "c.csv").open()))
    assert tuple(csv_row) == COLUMNS
    assert csv_row["record_ids"] == "ctgov:NCT00000001; embase:e1; pubmed:1"
    assert json.loads((tmp_path / "c.jsonl").read_text()) == row
    with pytest.raises(ValueError, match=r"\.csv or \.jsonl"):
        write_candidates(rows, tmp_path / "c.txt")


# -- invariants -----------------------------------------------------------------------------

_TITLES = [
    TITLE,
    TITLE.upper(),
    OTHER_TITLE,
    OTHER_TITLE + ".",
    "Zinc supplementation and diarrhoea duration in children under five",
]
_record_strategy = st.builds(
    lambda kind, k, title, year, doi, nct: (
        ctgov(f"NCT0000000{nct}", title=title)
        if kind == "ctgov"
        else Record(
            record_id=f"{kind}:{k}",
            source=kind,
            title=title,
            year=year,
            pmid=str(k) if kind == "pubmed" else None,
            doi=doi,
            nct_ids=(f"NCT0000000{nct}",) if kind == "pubmed" and nct < 3 else (),
        )
    ),
    kind=st.sampled_from(["pubmed", "embase", "ctgov"]),
    k=st.integers(0, 6),
    title=st.sampled_from(_TITLES),
    year=st.sampled_from([2018, 2019, 2020, None]),
    doi=st.sampled_from([None, "10.1/a", "https://doi.org/10.1/A", "10.1/b"]),
    nct=st.integers(0, 5),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(_record_strategy, max_size=12), data=st.data())
def test_order_and_split_of_upserts_do_not_change_clusters(records, data):
    unique = list({r.record_id: r for r in records}.values())
    reference = deduplicated(*unique)
    shuffled = data.draw(st.permutations(unique))
    cut = data.draw(st.integers(0, len(shuffled)))
    other = Registry()
    other.upsert(shuffled[:cut], "early")
    other.upsert(shuffled[cut:], "late")
    other.upsert(shuffled[: cut // 2], "late")  # overlap: re-seen records
    other.deduplicate()
    assert partition(other) == partition(reference)
    assert other.links == reference.links
    assert len(other) == len(unique)
