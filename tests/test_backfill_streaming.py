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


def test_search_step_reads_only_the_record_ids_of_the_queue(tmp_path, monkeypatch):
    """A backfill's queue holds every abstract: the search step streams its ids instead of
    loading the table (neutralised cells restored, blank lines and empty ids skipped)."""
    import livingmeta.extraction
    import livingmeta.screening.queue
    from livingmeta.screening.queue import queued_ids

    def refuse(*args, **kwargs):
        raise AssertionError("the search step loaded the whole queue")

    monkeypatch.setattr(livingmeta.screening.queue, "read_queue", refuse)
    monkeypatch.setattr(livingmeta.extraction, "read_table", refuse)
    queue = tmp_path / "queue.csv"
    queue.write_text(
        "\ufefftitle, record_id \nA trial,pubmed:1\n\nB trial, '=embase:2\nC trial,\n",
        encoding="utf-8",
    )
    assert queued_ids(queue) == {"pubmed:1", "=embase:2"}
    assert queued_ids(tmp_path / "missing.csv") == set()


def test_search_step_names_the_queue_without_a_record_id_column(tmp_path):
    from livingmeta.screening.queue import queued_ids
    from livingmeta.validation import InputError

    queue = tmp_path / "queue.csv"
    queue.write_text("title,status\nA trial,new\n", encoding="utf-8")
    with pytest.raises(InputError, match="record_id"):
        queued_ids(queue)


def test_every_record_queued_builds_no_clusters(monkeypatch):
    """The search step asks for records handed over but never queued on every run; when
    every record is queued (the usual case) the registry's clusters are not built."""
    registry = Registry()
    records = [Record(f"pubmed:{k}", "pubmed", f"Trial number {k} of stenting", pmid=str(k))
               for k in range(3)]  # fmt: skip
    registry.upsert(records, "run1")
    registry.deduplicate()
    registry.mark_reported(registry.new_candidates(), "run1")

    def refuse(*args, **kwargs):
        raise AssertionError("clusters built although every record is queued")

    monkeypatch.setattr(Registry, "clusters", refuse)
    assert registry.handed_over_but_not_queued({r.record_id for r in records}) == []
    monkeypatch.undo()
    assert [c.record_ids for c in registry.handed_over_but_not_queued({"pubmed:0"})] == [
        ("pubmed:1",),
        ("pubmed:2",),
    ]
