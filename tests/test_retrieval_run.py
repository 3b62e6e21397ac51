"""A whole retrieval run against a local fake PubMed and ClinicalTrials.gov (127.0.0.1).

Proves the issue's promises: new records handed over once; nothing lost or duplicated
across repeated and interrupted runs; a failing source keeps its window, is reported
stale and never becomes "zero new records"; strict runs fail; the API key is never
written; snapshots replay; retractions of records already with reviewers are reported.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from livingmeta.config import Review
from livingmeta.retrieval.ctgov import CtgovClient
from livingmeta.retrieval.eutils import EutilsClient, EutilsConfig
from livingmeta.retrieval.http import HttpTransport, RateLimiter, RetryPolicy
from livingmeta.retrieval.registry import Registry
from livingmeta.retrieval.update import (
    Clients,
    RetrievalError,
    RetrievalSettings,
    SavedSearch,
    replay_records,
    run_retrieval,
)
from livingmeta.workflow.search import search_review
from tests.fakeserver import (
    CtgovPages,
    FakeServer,
    Fault,
    PubmedCorpus,
    Reply,
    chain_pages,
    minimal_study,
)

SECRET = "NCBI-KEY-0123456789abcdef0123"
SEARCHES = [
    SavedSearch("pm", "pubmed", query="stenting AND stroke", start_date=date(2024, 1, 1)),
    SavedSearch("ct", "ctgov", cond="stroke", intr="stent", start_date=date(2024, 1, 1)),
]
SETTINGS = RetrievalSettings()


def article(pmid: str, title: str, *, retracted_by: str | None = None) -> bytes:
    """A synthetic PubmedArticle (not a recording), optionally retracted."""
    cc = (
        f'<CommentsCorrectionsList><CommentsCorrections RefType="RetractionIn">'
        f"<RefSource>J 2025</RefSource><PMID>{retracted_by}</PMID></CommentsCorrections>"
        f"</CommentsCorrectionsList>"
        if retracted_by
        else ""
    )
    ptype = "Retracted Publication" if retracted_by else "Journal Article"
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">{pmid}</PMID>'
        f'<Article PubModel="Print"><Journal><JournalIssue><PubDate><Year>2024</Year></PubDate>'
        f"</JournalIssue><Title>J Stroke</Title></Journal><ArticleTitle>{title}</ArticleTitle>"
        f'<PublicationTypeList><PublicationType UI="D0">{ptype}</PublicationType></PublicationTypeList>'
        f"</Article>{cc}</MedlineCitation><PubmedData><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{pmid}</ArticleId></ArticleIdList></PubmedData></PubmedArticle>'
    ).encode()


TITLES = {
    "101": "Rescue stenting after failed thrombectomy: a cohort study of refractory occlusions",
    "102": "Intracranial angioplasty for large vessel occlusion refractory to stent retrievers",
}


@pytest.fixture
def server():
    with FakeServer() as fake:
        corpus = PubmedCorpus(
            {"101": date(2024, 1, 5), "102": date(2024, 2, 1)},
            {pmid: article(pmid, title) for pmid, title in TITLES.items()},
        )
        corpus.install(fake)
        fake.corpus = corpus
        fake.route(
            "/studies",
            CtgovPages(
                chain_pages([[minimal_study("NCT00000001")], [minimal_study("NCT00000002")]])
            ),
        )
        fake.route(
            "/version",
            lambda r: Reply.json({"apiVersion": "2.0.5", "dataTimestamp": "2024-03-01T09:00:00"}),
        )
        yield fake


def clients_for(server: FakeServer) -> Clients:
    def transport(source: str) -> HttpTransport:
        return HttpTransport(
            source,
            timeout=(1.0, 2.0),
            retry=RetryPolicy(max_attempts=2, initial=0.001, maximum=0.01, jitter=0.0),
            rate_limiter=RateLimiter(1e6, sleep=lambda s: None),
            sleep=lambda s: None,
        )

    config = EutilsConfig(base_url=server.url, email="lab@example.org", api_key=SECRET)
    return Clients(
        pubmed=EutilsClient(config, transport=transport("pubmed")),
        ctgov=CtgovClient(server.url, transport=transport("ctgov")),
    )


def run(server, state: Path, run_id: str, today: date, **kw):
    return run_retrieval(
        "r", state, SEARCHES, kw.pop("settings", SETTINGS), run_id=run_id, today=today,
        clients=clients_for(server), candidates_path=state.parent / f"candidates-{run_id}.csv", **kw,
    )  # fmt: skip


def candidates(state: Path, run_id: str) -> list[dict[str, str]]:
    with open(state.parent / f"candidates-{run_id}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def windows(state: Path) -> dict[str, str]:
    data = json.loads((state / "state.json").read_text())["searches"]
    return {k: v.get("window_end") for k, v in data.items()}


def test_first_run_hands_over_every_new_record_and_commits_windows(server, tmp_path):
    state = tmp_path / "state"
    report = run(server, state, "run1", date(2024, 3, 1))
    assert [s.status for s in report.searches] == ["ok", "ok"]
    assert report.new_candidates == 4 and report.stale == []
    assert {row["record_id"] for row in candidates(state, "run1")} == {
        "pubmed:101", "pubmed:102", "ctgov:NCT00000001", "ctgov:NCT00000002",
    }  # fmt: skip
    assert windows(state) == {"pm": "2024-03-01", "ct": "2024-03-01"}
    assert report.prisma["pubmed"]["identified"] == 2 and report.prisma["ctgov"]["to_screen"] == 2
    manifest = state / "snapshots" / "run1" / "manifest.json"
    assert manifest.exists() and not (manifest.stat().st_mode & 0o222)
    esearch = server.requests_to("/esearch.fcgi")[0].params["term"]
    assert "2024/01/01:2024/03/01[crdt]" in esearch


def test_repeated_run_over_the_same_window_adds_nothing(server, tmp_path):
    state = tmp_path / "state"
    run(server, state, "run1", date(2024, 3, 1))
    report = run(server, state, "run2", date(2024, 3, 1))
    assert report.new_candidates == 0 and candidates(state, "run2") == []
    assert len(Registry.load(state / "registry")) == 4
    assert report.prisma["pubmed"] == {
        "identified": 2,
        "duplicates_removed": 2,
        "linked_reports": 0,
        "to_screen": 0,
        "pending": 0,
    }


def test_failed_source_keeps_its_window_and_is_reported_stale(server, tmp_path):
    state = tmp_path / "state"
    run(server, state, "run1", date(2024, 3, 1))
    server.corpus.crdt["103"] = date(2024, 3, 5)
    server.corpus.articles["103"] = article(
        "103", "A third cohort of rescue stenting in basilar occlusion"
    )
    server.add_faults("/esearch.fcgi", Fault.status(500), Fault.status(503))
    server.route(
        "/version",
        lambda r: Reply.json({"apiVersion": "2.0.5", "dataTimestamp": "2024-03-08T09:00:00"}),
    )
    report = run(server, state, "run2", date(2024, 3, 8))
    pubmed, ctgov = report.searches
    assert pubmed.status == "failed" and "HTTP 503" in pubmed.error and ctgov.status == "ok"
    assert windows(state) == {"pm": "2024-03-01", "ct": "2024-03-08"}
    assert [s["search_id"] for s in report.stale] == ["pm"] and report.stale[0]["failing"]
    # Next run recovers the missed window: the new record arrives then, not lost.
    report3 = run(server, state, "run3", date(2024, 3, 9))
    assert report3.searches[0].window_start == "2024-02-27"
    assert [row["record_id"] for row in candidates(state, "run3")] == ["pubmed:103"]


@pytest.mark.parametrize(
    "fault",
    [
        Fault.truncate(0.6),
        Fault.body(b"<PubmedArticleSet><PubmedArticle><MedlineCit", content_type="text/xml"),
    ],
    ids=["truncated", "malformed"],
)
def test_bad_efetch_fails_the_source_not_zero_records(server, tmp_path, fault):
    state = tmp_path / "state"
    server.add_faults("/efetch.fcgi", fault, fault)
    report = run(server, state, "run1", date(2024, 3, 1))
    assert report.searches[0].status == "failed"
    assert windows(state).get("pm") is None  # failure recorded, no window committed
    assert {row["source"] for row in candidates(state, "run1")} == {"ctgov"}


def test_interrupted_run_loses_and_duplicates_nothing(server, tmp_path, monkeypatch):
    state = tmp_path / "state"
    original = Registry.save

    def crash(self, folder):
        raise KeyboardInterrupt("machine went down")

    monkeypatch.setattr(Registry, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        run(server, state, "run1", date(2024, 3, 1))
    assert not (state / "state.json").exists() or windows(state) == {}
    monkeypatch.setattr(Registry, "save", original)
    run(server, state, "run2", date(2024, 3, 1))
    ids = [row["record_id"] for row in candidates(state, "run2")]
    assert sorted(ids) == ["ctgov:NCT00000001", "ctgov:NCT00000002", "pubmed:101", "pubmed:102"]
    run(server, state, "run3", date(2024, 3, 1))
    assert candidates(state, "run3") == []


def test_api_key_is_sent_but_never_written(server, tmp_path):
    state = tmp_path / "state"
    server.add_faults(
        "/efetch.fcgi",
        Fault.status(429, retry_after="0", body=f'{{"api-key":"{SECRET}"}}'.encode()),
    )
    run(server, state, "run1", date(2024, 3, 1))
    assert any(SECRET in r.everything() for r in server.requests)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                import gzip

                data = gzip.decompress(data)
            assert SECRET.encode() not in data, path


def test_snapshot_replays_to_the_same_records(server, tmp_path):
    state = tmp_path / "state"
    run(server, state, "run1", date(2024, 3, 1))
    replayed = {r.record_id for r in replay_records(state / "snapshots" / "run1")}
    assert replayed == {r.record_id for r in Registry.load(state / "registry").records()}


def test_retraction_of_a_record_with_reviewers_is_reported(server, tmp_path):
    state = tmp_path / "state"
    run(server, state, "run1", date(2024, 3, 1))
    server.corpus.articles["101"] = article("101", TITLES["101"], retracted_by="999")
    report = run(server, state, "run2", date(2024, 3, 8))
    retracted = [c for c in report.changes if c["kind"] == "retracted"]
    assert retracted == [
        {"kind": "retracted", "record_id": "pubmed:101", "before": False, "after": True}
    ]
    assert {
        "kind": "retraction_notices",
        "record_id": "pubmed:101",
        "before": [],
        "after": ["999"],
    } in report.changes


def test_unchanged_ctgov_data_is_not_searched_again(server, tmp_path):
    state = tmp_path / "state"
    run(server, state, "run1", date(2024, 3, 1))
    before = len(server.requests_to("/studies"))
    report = run(server, state, "run2", date(2024, 3, 2))
    assert report.searches[1].status == "unchanged"
    assert len(server.requests_to("/studies")) == before


def test_strict_search_review_writes_report_then_fails(server, tmp_path):
    review = Review(
        "r", "R", tmp_path, tmp_path / "x.csv", tmp_path / "state", (), {"searches": []}
    )
    spec = {
        "searches": [{"id": "pm", "source": "pubmed", "query": "x", "start_date": "2024-01-01"}]
    }
    review = Review("r", "R", tmp_path, tmp_path / "x.csv", tmp_path / "state", (), spec)
    server.add_faults("/esearch.fcgi", Fault.status(500), Fault.status(500))
    with pytest.raises(RetrievalError, match="pm"):
        search_review(
            review, {"strict": True}, run_date="2024-03-01", state=review.state,
            report=tmp_path / "report.json", candidates=tmp_path / "c.csv",
            clients=clients_for(server),
        )  # fmt: skip
    assert json.loads((tmp_path / "report.json").read_text())["searches"][0]["status"] == "failed"


def test_trial_status_change_and_new_results_are_reported(server, tmp_path):
    state = tmp_path / "state"
    run(server, state, "run1", date(2024, 3, 1))
    completed = minimal_study("NCT00000001", overallStatus="COMPLETED")
    completed["hasResults"] = True
    server.route("/studies", CtgovPages(chain_pages([[completed]])))
    server.route(
        "/version",
        lambda r: Reply.json({"apiVersion": "2.0.5", "dataTimestamp": "2024-03-08T09:00:00"}),
    )
    report = run(server, state, "run2", date(2024, 3, 8))
    changes = {(c["kind"], c["record_id"]): (c["before"], c["after"]) for c in report.changes}
    assert changes[("overall_status", "ctgov:NCT00000001")] == ("RECRUITING", "COMPLETED")
    assert changes[("has_results", "ctgov:NCT00000001")] == (False, True)
    assert report.new_candidates == 0  # a known trial is reported as changed, not as new
