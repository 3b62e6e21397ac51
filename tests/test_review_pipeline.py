"""Hand-over from retrieval to screening survives a lost candidates file: the next run's
search step hands the records over again, and screening queues them once."""

from __future__ import annotations

import json

from livingmeta.config import reviews, validate_config
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Registry
from livingmeta.screening.queue import read_queue
from livingmeta.workflow.screening import screen_new_records
from livingmeta.workflow.search import search_review


def test_candidates_handed_over_but_lost_are_queued_once(tmp_path):
    folder = tmp_path / "reviews" / "r"
    folder.mkdir(parents=True)
    (folder / "extraction.csv").write_text(
        "study_id,outcome,events_treat,total_treat,events_ctrl,total_ctrl,approved_by,approved_on\n"
    )
    review = reviews(
        validate_config(
            {"reviews": [{"id": "r", "folder": str(folder), "outcomes": [{"name": "o"}]}]}
        )
    )["r"]
    registry = Registry()
    registry.upsert(
        [
            Record(
                "pubmed:1",
                "pubmed",
                "Rescue stenting after failed thrombectomy in a cohort",
                pmid="1",
                doi="10.1/a",
            ),
            Record(
                "embase:x",
                "embase",
                "Rescue stenting after failed thrombectomy in a cohort",
                doi="10.1/A",
            ),
            Record("pubmed:2", "pubmed", "Angioplasty alone for refractory occlusion", pmid="2"),
        ],
        "run1",
    )
    registry.deduplicate()
    registry.mark_reported(registry.new_candidates(), "run1")  # the search step handed them over...
    registry.save(review.state / "registry")
    # ...but its candidates file was lost before queueing.
    candidates, report = tmp_path / "candidates.csv", tmp_path / "report.json"
    outputs = {
        name: tmp_path / f"{name}.out"
        for name in ("status", "conflicts", "template", "differences")
    }

    def run(run_date: str) -> None:  # offline: the search step only hands over
        search_review(
            review, {"enabled": False}, run_date=run_date, state=review.state,
            report=report, candidates=candidates, queue=review.files.queue,
        )  # fmt: skip
        screen_new_records(review, candidates=candidates, report=report, **outputs)

    run("2026-01-08")
    assert json.loads(report.read_text())["new_candidates"] == 2
    queue = read_queue(folder / "screening" / "queue.csv")
    assert len(queue) == 2  # one row per cluster, the two reports of one article together
    grouped = [set(ids.split("; ")) for ids in queue["record_ids"]]
    assert {"pubmed:1", "embase:x"} in grouped and {"pubmed:2"} in grouped
    run("2026-01-15")
    assert json.loads(report.read_text())["new_candidates"] == 0
    assert len(read_queue(folder / "screening" / "queue.csv")) == 2
