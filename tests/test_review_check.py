"""One check for `livingmeta validate` and the workflow's check rules: a review's files
are found through ``ReviewFiles``, and the command and the rules report the same problems."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from livingmeta.config import REPO_ROOT, load_config, reviews
from livingmeta.review_check import review_problems
from livingmeta.validation import InputError
from livingmeta.workflow.extraction import check_extraction
from livingmeta.workflow.screening import check_screening


@pytest.fixture
def review(tmp_path, monkeypatch):
    """The reference review in a folder of its own."""
    shutil.copytree(REPO_ROOT / "reviews", tmp_path / "reviews")
    shutil.copy2(REPO_ROOT / "config" / "config.yaml", tmp_path / "config.yaml")
    monkeypatch.chdir(tmp_path)
    return reviews(load_config("config.yaml"))["rescue_stenting"]


def test_review_files_name_every_file_of_the_review(review):
    files = review.files
    folder = Path("reviews/rescue_stenting")
    assert files.extraction == folder / "extraction.csv"
    assert files.studies == folder / "studies.csv"
    assert (files.queue, files.decisions) == (
        folder / "screening" / "queue.csv",
        folder / "screening" / "decisions.csv",
    )
    assert files.drafts == folder / "extraction"
    assert files.history == folder / "history.csv"
    assert files.registry == folder / "retrieval" / "registry"
    assert files.search_state == folder / "retrieval" / "state.json"
    assert files.snapshots == folder / "retrieval" / "snapshots"
    assert files.imports_log == folder / "retrieval" / "imports.log"
    assert files.risk_of_bias == folder / "risk_of_bias"
    assert files.characteristics == folder / "characteristics.csv"
    assert files.existing("studies", "history") == [str(folder / "studies.csv")]


def test_reference_review_is_valid(review, tmp_path):
    assert review_problems(review) == []
    files = review.files
    check_screening(
        review, queue=files.queue, decisions=files.decisions, studies=files.studies,
        marker=tmp_path / "screening.json",
    )  # fmt: skip
    check_extraction(review, extraction=files.extraction, marker=tmp_path / "extraction.json")


def test_validate_and_the_screening_check_report_the_same_problem(review, tmp_path):
    studies = review.files.studies
    lines = studies.read_text().splitlines()
    fields = lines[1].split(",")
    fields[5] = "maybe"  # exclude_retracted must be yes, no or empty
    studies.write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\n")
    problems = review_problems(review)
    assert any(p.column == "exclude_retracted" and p.row == 2 for p in problems), problems
    files = review.files
    with pytest.raises(InputError) as raised:
        check_screening(
            review, queue=files.queue, decisions=files.decisions, studies=files.studies,
            marker=tmp_path / "screening.json",
        )  # fmt: skip
    assert [str(p) for p in raised.value.problems] == [str(p) for p in problems]
    assert not (tmp_path / "screening.json").exists()


def test_validate_and_the_extraction_check_report_the_same_problem(review, tmp_path):
    table = review.files.extraction
    text = table.read_text().splitlines()
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("events_treat")] = "999"  # more events than patients
    table.write_text("\n".join([text[0], ",".join(row), *text[2:]]) + "\n")
    problems = review_problems(review)
    assert any(p.column == "events_treat" and p.row == 2 for p in problems), problems
    with pytest.raises(InputError) as raised:
        check_extraction(review, extraction=table, marker=tmp_path / "extraction.json")
    assert [str(p) for p in raised.value.problems] == [str(p) for p in problems]


def test_problems_are_listed_in_reading_order(review):
    """A file's problems come top to bottom whatever check found them: a name off the
    roster in row 2 before a count in row 5, before the next file's."""
    table = review.files.extraction
    lines = table.read_text().splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    rows[3][header.index("events_treat")] = "999"  # row 5: more events than patients
    rows[0][header.index("approved_by")] = "alcie"  # row 2: off the roster
    table.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    decisions = review.files.decisions
    decisions.write_text(decisions.read_text().replace("reviewer_1", "revewer_1", 1))
    where = [(p.file, p.row, p.column) for p in review_problems(review)]
    assert where[:2] == [(str(table), 2, "approved_by"), (str(table), 5, "events_treat")]
    assert [f for f, _, _ in where[2:]] == [str(decisions)] * len(where[2:])
