"""The registry and queue steps stream: the registry file is read and written line by
line, and the screening step never loads the registry (benchmarks/backfill.py measures
the memory of a large backfill; these tests check, at small scale, that the streaming
paths are the ones used)."""

from __future__ import annotations

import json

import pytest

from livingmeta.config import reviews, validate_config
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Registry
from livingmeta.retrieval.registry_files import iter_entries
from livingmeta.workflow.screening import screen_new_records


def test_registry_round_trips_titles_with_unicode_line_separators(tmp_path):
    title = "Rescue stenting\u2028after failed thrombectomy\u0085in a cohort"
    registry = Registry()
    registry.upsert([Record("pubmed:1", "pubmed", title, pmid="1")], "run1")
    registry.deduplicate()
    registry.save(tmp_path)
    assert [e.record.title for e in iter_entries(tmp_path)] == [title]
    loaded = Registry.load(tmp_path)
    assert loaded.entry("pubmed:1").record.title == title
    assert loaded.clusters() == {"pubmed:1": ["pubmed:1"]}  # links vouched for: not stale


def test_screening_step_never_loads_the_registry(tmp_path, monkeypatch):
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "extraction.csv").write_text(
        "study_id,outcome,events_treat,total_treat,events_ctrl,total_ctrl,approved_by,approved_on\n"
    )
    spec = {"id": "r", "folder": str(folder), "outcomes": [{"name": "o"}]}
    review = reviews(validate_config({"reviews": [spec]}))["r"]
    registry = Registry()
    registry.upsert([Record("pubmed:1", "pubmed", "A trial of stenting", pmid="1")], "run1")
    registry.deduplicate()
    registry.save(review.files.registry)
    (tmp_path / "candidates.csv").write_text("record_id,status,title\npubmed:1,new,A trial\n")
    (tmp_path / "report.json").write_text(json.dumps({"run_id": "run1"}))

    def refuse(*args, **kwargs):
        raise AssertionError("the screening step loaded the whole registry")

    monkeypatch.setattr(Registry, "load", refuse)
    state = screen_new_records(
        review, candidates=tmp_path / "candidates.csv", report=tmp_path / "report.json",
        status=tmp_path / "status.json", conflicts=tmp_path / "conflicts.csv",
        template=tmp_path / "template.csv", differences=tmp_path / "differences.csv",
    )  # fmt: skip
    assert state["queued_this_run"] == 1


@pytest.mark.parametrize("count", [0, 3])
def test_iter_entries_yields_nothing_without_a_file_and_every_record_with_one(tmp_path, count):
    registry = Registry()
    registry.upsert(
        [Record(f"pubmed:{k}", "pubmed", f"Trial number {k}", pmid=str(k)) for k in range(count)],
        "run1",
    )
    registry.deduplicate()
    if count:
        registry.save(tmp_path)
    assert [e.record.record_id for e in iter_entries(tmp_path)] == [
        f"pubmed:{k}" for k in range(count)
    ]
