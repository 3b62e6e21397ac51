"""The review's roster (``screening.reviewers``): every name in its files is checked
against it, ignoring case, by ``livingmeta validate`` and by the workflow's checks."""

from __future__ import annotations

import csv

import pytest

from livingmeta.app.workspace import open_workspace
from livingmeta.review_check import review_problems
from livingmeta.roster import on_roster, review_roster
from livingmeta.screening.decisions import load_decisions
from livingmeta.screening.settings import ScreeningSettings
from livingmeta.validation import InputError
from livingmeta.workflow.extraction import check_extraction
from livingmeta.workflow.screening import check_screening
from tests.app_fixtures import make_repo
from tests.test_review_check import review  # noqa: F401  (the reference review, copied)

ROSTER = "reviewer_1, reviewer_2, seed, livingmeta"


def set_cell(path, row, column, value):
    """Set one cell of a CSV (``row`` as a spreadsheet numbers it: header = 1)."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    rows[row - 1][rows[0].index(column)] = value
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def test_the_reference_review_names_its_roster(review):  # noqa: F811
    assert review_roster(review) == ("reviewer_1", "reviewer_2", "seed", "livingmeta")
    assert ScreeningSettings.from_review(review).reviewers == review_roster(review)
    assert review_problems(review) == []


def test_a_name_off_the_roster_is_an_error_in_every_file(review, tmp_path):  # noqa: F811
    files = review.files
    set_cell(files.decisions, 3, "reviewer", "reviewer_3")
    set_cell(files.decisions, 2, "reviewer", "REVIEWER_1")  # case is ignored
    set_cell(files.extraction, 2, "approved_by", "lvingmeta")
    set_cell(files.extraction, 3, "second_extractor", "Reviewer_1; bob")
    set_cell(files.characteristics, 3, "extractor", "sed")
    files.risk_of_bias.mkdir()
    (files.risk_of_bias / "mallory.csv").write_text("study_id,outcome,domain,question,answer\n")
    (files.risk_of_bias / "Reviewer_1.csv").write_text("study_id,outcome,domain,question,answer\n")
    (files.risk_of_bias / "consensus.csv").write_text(
        "study_id,agreed_by\nchang2018,reviewer_1; eve\n"
    )
    files.grade.write_text(
        "outcome,domain,decision,assessor,approved_by\nsich,imprecision,serious,seed,zed\n"
    )

    problems = review_problems(review)
    where = [(p.file, p.row, p.column) for p in problems]
    assert where == [
        (str(files.extraction), 2, "approved_by"),
        (str(files.extraction), 3, "second_extractor"),
        (str(files.decisions), 3, "reviewer"),
        (str(files.risk_of_bias / "consensus.csv"), 2, "agreed_by"),
        (str(files.risk_of_bias / "mallory.csv"), None, None),
        (str(files.grade), 2, "approved_by"),
        (str(files.characteristics), 3, "extractor"),
    ]
    messages = [p.message for p in problems]
    assert messages[0] == f"'lvingmeta' is not a reviewer of this review; the roster is: {ROSTER}"
    assert messages[1].startswith("'bob' is not") and messages[2].startswith("'reviewer_3' is not")
    assert messages[3].startswith("'eve' is not")
    assert messages[4].startswith("assessor (the file's name): 'mallory' is not a reviewer")

    # The workflow's checks report the same problems as `livingmeta validate`.
    with pytest.raises(InputError) as screening:
        check_screening(
            review, queue=files.queue, decisions=files.decisions, studies=files.studies,
            marker=tmp_path / "screening.json",
        )  # fmt: skip
    with pytest.raises(InputError) as extraction:
        check_extraction(review, extraction=files.extraction, marker=tmp_path / "e.json")
    assert extraction.value.problems + screening.value.problems == problems


def test_names_are_spelt_as_on_the_roster(review):  # noqa: F811
    files = review.files
    set_cell(files.decisions, 2, "reviewer", "Reviewer_1")
    settings = ScreeningSettings.from_review(review)
    frame = load_decisions(files.decisions, settings.exclusion_reasons, None, settings.reviewers)
    assert set(frame["reviewer"]) == {"reviewer_1", "reviewer_2"}
    assert on_roster(" REVIEWER_2 ", settings.reviewers) == "reviewer_2"
    with pytest.raises(
        ValueError, match=f"'alcie' is not a reviewer of this review; the roster is: {ROSTER}$"
    ):
        on_roster("alcie", settings.reviewers)


def test_a_roster_naming_someone_twice_is_refused(review):  # noqa: F811
    review.spec["screening"]["reviewers"] = ["Ann", "ann"]
    with pytest.raises(
        ValueError, match=r"reviews\[rescue_stenting\]\.screening\.reviewers: a name appears twice"
    ):
        ScreeningSettings.from_review(review)


def test_the_workspace_takes_its_roster_from_the_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_repo(tmp_path)
    config = tmp_path / "config" / "config.yaml"
    config.write_text(
        config.read_text().replace(
            "    screening:\n", "    screening:\n      reviewers: [Alice, bob]\n"
        )
    )
    ws = open_workspace("config/config.yaml", "demo", "ALICE")
    assert (ws.reviewer, ws.roster) == ("Alice", ("Alice", "bob"))
    decisions = tmp_path / "reviews/demo/screening/decisions.csv"
    decisions.write_text(
        "record_id,stage,reviewer,decision\npubmed:1,title_abstract,carol,include\n"
    )
    with pytest.raises(ValueError, match="'carol' is not a reviewer of this review"):
        open_workspace("config/config.yaml", "demo", "carol")  # names in the file do not count


def test_who_decided_on_a_retraction_is_on_the_roster(review):  # noqa: F811
    """``decided_by`` in studies.csv (the workspace signs a retraction decision) is a
    reviewer's name like any other."""
    studies = review.files.studies
    with open(studies, newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0] += ["decided_on", "decided_by"]
    rows[1] += ["2026-11-30", "Reviewer_2"]  # case is ignored
    rows[2] += ["2026-11-30", "mallory"]
    rows[3:] = [[*row, "", ""] for row in rows[3:]]
    with open(studies, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    problems = review_problems(review)
    assert [(p.file, p.row, p.column) for p in problems] == [(str(studies), 3, "decided_by")]
    assert (
        problems[0].message
        == f"'mallory' is not a reviewer of this review; the roster is: {ROSTER}"
    )
