"""Unattended runs recover from crashes without losing or hiding records.

Against a local fake PubMed (127.0.0.1): a search step that dies finalises its snapshot
as failed; the next run finalises what a killed run left; records handed over by a run
that died before screening are reported as new by the run that queues them; records
EFetch sends unasked are refused and reported; report.json and changes.json agree.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from livingmeta.config import reviews, validate_config
from livingmeta.report.changes import build_changes
from livingmeta.retrieval.candidate_export import candidate_rows
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Registry
from livingmeta.retrieval.snapshots import SnapshotWriter, verify_snapshot
from livingmeta.rulelog import KEPT_FAILED_LOGS, keep_failed_log, run_rule
from livingmeta.screening.queue import read_queue
from livingmeta.workflow.screening import screen_new_records
from livingmeta.workflow.search import search_review
from tests.fakeserver import FakeServer, PubmedCorpus, Reply
from tests.test_retrieval_run import TITLES, article, clients_for


@pytest.fixture
def server():
    with FakeServer() as fake:
        corpus = PubmedCorpus(
            {"101": date(2024, 1, 5), "102": date(2024, 2, 1)},
            {pmid: article(pmid, title) for pmid, title in TITLES.items()},
        )
        corpus.install(fake)
        yield fake


@pytest.fixture
def review(tmp_path):
    folder = tmp_path / "reviews" / "r"
    folder.mkdir(parents=True)
    (folder / "extraction.csv").write_text(
        "study_id,outcome,events_treat,total_treat,events_ctrl,total_ctrl,approved_by,approved_on\n"
    )
    search = {"id": "pm", "source": "pubmed", "query": "stenting", "start_date": "2024-01-01"}
    spec = {"id": "r", "folder": str(folder), "outcomes": [{"name": "o"}], "searches": [search]}
    return reviews(validate_config({"reviews": [spec]}))["r"]


def search(review, server, results: Path, run_date: str) -> dict:
    """The search step of one run, as the rule calls it (with the review's queue)."""
    moment = datetime.fromisoformat(f"{run_date}T06:00:00+00:00").astimezone(UTC)
    search_review(
        review, {}, run_date=run_date, state=review.state,
        report=results / "report.json", candidates=results / "candidates.csv",
        queue=review.files.queue, clients=clients_for(server), now=lambda: moment,
    )  # fmt: skip
    return json.loads((results / "report.json").read_text())


def screen(review, results: Path) -> dict:
    """The screening step of one run, as the rule calls it."""
    return screen_new_records(
        review, candidates=results / "candidates.csv", report=results / "report.json",
        status=results / "status.json", conflicts=results / "conflicts.csv",
        template=results / "template.csv", differences=results / "differences.csv",
    )  # fmt: skip


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def changes_for(review, report: dict, candidates: list[dict[str, str]]) -> dict:
    context = {
        "review": {"id": review.id, "title": review.title},
        "run": {"id": report["run_id"], "date": report["run_id"][:10]},
        "retrieval": report,
        "candidates": candidates,
    }
    return build_changes(context)


def test_run_killed_between_search_and_screening_reports_records_as_new_next_run(
    review, server, tmp_path
):
    first = search(review, server, tmp_path / "run1", "2024-03-01")
    assert first["new_candidates"] == 2
    # The run dies here: the registry marked both records as handed over, the queue has
    # never seen them, and the results folder of the dead run is gone.
    second_dir = tmp_path / "run2"
    second = search(review, server, second_dir, "2024-03-02")
    assert second["new_candidates"] == 2 and second["carried_over"] == 2
    handed = rows(second_dir / "candidates.csv")
    assert {row["record_id"] for row in handed} == {"pubmed:101", "pubmed:102"}
    assert screen(review, second_dir)["queued_this_run"] == 2
    assert set(read_queue(review.files.queue)["record_id"]) == {"pubmed:101", "pubmed:102"}
    assert changes_for(review, second, handed)["new_candidates"] == second["new_candidates"]

    third_dir = tmp_path / "run3"
    third = search(review, server, third_dir, "2024-03-03")
    assert third["new_candidates"] == 0 and third["carried_over"] == 0
    assert screen(review, third_dir)["queued_this_run"] == 0
    assert len(read_queue(review.files.queue)) == 2


def test_report_json_and_changes_json_count_linked_reports_alike(review):
    registry = Registry()
    known = Record("pubmed:1", "pubmed", "Rescue stenting in refractory occlusion", pmid="1")
    registry.upsert([known], "run1")
    registry.deduplicate()
    registry.mark_reported(registry.new_candidates(), "run1")
    again = Record("embase:x", "embase", "Rescue stenting in refractory occlusion", pmid="1")
    other = Record("pubmed:2", "pubmed", "Angioplasty alone for refractory occlusion", pmid="2")
    registry.upsert([again, other], "run2")
    registry.deduplicate()
    candidates = registry.new_candidates()
    report = {
        "run_id": "2024-03-02T060000Z",
        "new_candidates": sum(c.status == "new" for c in candidates),
        "linked_to_existing": sum(c.status != "new" for c in candidates),
    }
    changes = changes_for(review, report, candidate_rows(registry, candidates))
    assert (changes["new_candidates"], changes["linked_reports"]) == (1, 1)
    assert changes["has_changes"]


def test_efetch_records_not_asked_for_are_refused_and_reported(review, server, tmp_path):
    def efetch_with_extra(request):
        ids = [i for i in request.params.get("id", "").split(",") if i]
        body = b"".join(article(i, TITLES[i]) for i in ids) + article("999", "Not asked for")
        return Reply.xml(b"<PubmedArticleSet>" + body + b"</PubmedArticleSet>")

    server.route("/efetch.fcgi", efetch_with_extra)
    report = search(review, server, tmp_path, "2024-03-01")
    assert report["searches"][0]["unexpected"] == ["999"]
    refused = [c for c in report["changes"] if c["kind"] == "unexpected_from_pubmed"]
    assert [c["record_id"] for c in refused] == ["pubmed:999"]
    assert "pubmed:999" not in Registry.load(review.state / "registry")
    handed = rows(tmp_path / "candidates.csv")
    assert "pubmed:999" not in {row["record_id"] for row in handed}
    changes = changes_for(review, report, handed)
    assert [c["record_id"] for c in changes["other_changes"]] == ["pubmed:999"]


def test_search_step_that_dies_finalises_its_snapshot_as_failed(
    review, server, tmp_path, monkeypatch
):
    def crash(self, *args, **kwargs):
        raise MemoryError("out of memory while deduplicating")

    monkeypatch.setattr(Registry, "deduplicate", crash)
    with pytest.raises(MemoryError):
        search(review, server, tmp_path, "2024-03-01")
    [folder] = (review.state / "snapshots").iterdir()
    manifest = verify_snapshot(folder)
    assert manifest["status"] == "failed" and "MemoryError" in manifest["error"]


def test_next_run_finalises_the_snapshot_a_killed_run_left(review, server, tmp_path, caplog):
    killed = SnapshotWriter(review.state, "2024-02-29T060000Z")
    killed.add_response("pubmed", {}, b"<eSearchResult/>", started_at=datetime.now(UTC))
    assert not (killed.root / "manifest.json").exists()  # killed before finalising
    with caplog.at_level(logging.INFO, logger="search_review"):
        report = search(review, server, tmp_path, "2024-03-01")
    assert report["finalised_abandoned"] == ["2024-02-29T060000Z"]
    assert verify_snapshot(killed.root)["status"] == "failed"
    assert "2024-02-29T060000Z" in caplog.text and "finalised" in caplog.text
    assert verify_snapshot(review.state / "snapshots" / report["run_id"])["status"] == "complete"


def test_job_log_of_a_failed_run_survives_the_next_run(tmp_path):
    log = tmp_path / "logs" / "search_review" / "r.log"

    def fail() -> None:
        raise RuntimeError("ClinicalTrials.gov answered nonsense")

    with pytest.raises(RuntimeError):
        run_rule(log, "search_review", fail)
    log.unlink()  # as Snakemake does before it runs the job again
    run_rule(log, "search_review", lambda: None)
    [kept] = log.parent.glob("r.*.failed.log")
    assert "ClinicalTrials.gov answered nonsense" in kept.read_text()
    assert log.read_text().rstrip().endswith("search_review: done")
    run_rule(log, "search_review", lambda: None)  # a successful log is simply replaced
    assert list(log.parent.glob("r.*.failed.log")) == [kept]


def test_only_the_newest_failed_logs_are_kept(tmp_path):
    log = tmp_path / "r.log"
    for attempt in range(KEPT_FAILED_LOGS + 3):
        log.write_text(f"attempt {attempt} killed mid-job\n")
        os.utime(log, (attempt * 60, attempt * 60))
        keep_failed_log(log)
    kept = sorted(p.read_text() for p in tmp_path.glob("r.*.failed.log"))
    assert len(kept) == KEPT_FAILED_LOGS and "attempt 2 killed" not in "".join(kept)
    assert log.read_text() == f"attempt {KEPT_FAILED_LOGS + 2} killed mid-job\n"  # a copy
