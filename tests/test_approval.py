"""The approval gate: only approved rows of non-excluded studies are pooled; drafts of two
extractors are compared until an approved row settles them."""

from __future__ import annotations

import pandas as pd
import yaml

from livingmeta.approval import (
    approval_problems,
    compare_drafts,
    excluded_studies,
    extraction_template,
    read_drafts,
)
from livingmeta.cli import main
from livingmeta.config import REPO_ROOT, reviews, validate_config
from livingmeta.extraction import read_table
from livingmeta.outcomes import Outcome
from livingmeta.workflow.extraction import validate_outcome

OUTCOMES = {"death": Outcome("death", "Death"), "bleed": Outcome("bleed", "Bleeding")}
HEADER = "study_id,study_label,year,outcome,events_treat,total_treat,events_ctrl,total_ctrl,source,extractor,second_extractor,approved_by,approved_on,notes\n"


def files_of(review):
    """The files the validate_outcome rule declares."""
    return {"extraction": review.files.extraction, "studies": review.files.studies}


def make_review(tmp_path, rows: str, studies: str | None = None):
    folder = tmp_path / "reviews" / "r1"
    folder.mkdir(parents=True)
    (folder / "extraction.csv").write_text(HEADER + rows)
    if studies is not None:
        (folder / "studies.csv").write_text(studies)
    config = {
        "reviews": [
            {"id": "r1", "folder": str(folder), "outcomes": [{"name": "death"}, {"name": "bleed"}]}
        ]
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    return reviews(validate_config(config))["r1"]


def test_approval_columns_are_checked(tmp_path):
    frame = pd.DataFrame(
        {
            "approved_by": ["ann", "", "bob"],
            "approved_on": ["2026-01-02", "2026-01-03", "02/01/2026"],
        }
    )
    found = [(p.row, p.column, p.message) for p in approval_problems(frame, "x.csv")]
    assert found == [
        (3, "approved_by", "empty, but approved_on is set"),
        (4, "approved_on", "'02/01/2026' is not a date (YYYY-MM-DD)"),
    ]
    missing = approval_problems(pd.DataFrame({"study_id": ["a"]}), "x.csv")
    assert [(p.column, p.message) for p in missing] == [
        ("approved_by", "column missing (needed by the approval gate)"),
        ("approved_on", "column missing (needed by the approval gate)"),
    ]


def test_only_approved_rows_of_included_studies_are_pooled(tmp_path):
    review = make_review(
        tmp_path,
        "a,A 2001,2001,death,1,10,2,10,p3,x,y,ann,2026-01-02,\n"
        "b,B 2002,2002,death,2,10,3,10,p4,x,,,,awaiting approval\n"
        "c,C 2003,2003,death,3,10,4,10,p5,x,y,ann,2026-01-02,\n"
        "a,A 2001,2001,bleed,0,10,1,10,p3,x,y,ann,2026-01-02,\n",
        studies="study_id,study_label,year,record_ids,included_in,exclude_retracted,notes\n"
        "a,A 2001,2001,pubmed:1,run1,,\nb,B 2002,2002,pubmed:2,run1,,\n"
        "c,C 2003,2003,pubmed:3,run1,yes,retracted 2025\n",
    )
    assert excluded_studies(review.folder / "studies.csv") == {"c"}
    out = tmp_path / "death.csv"
    validate_outcome(review, review.outcome("death"), **files_of(review), data=out)
    written = read_table(out)
    pooled = written[written["left_out"] == ""]
    assert list(pooled["study_id"]) == ["a"]
    # the removed study is kept, with its reason, so the analysis can name it
    removed = written[written["left_out"] != ""]
    assert list(removed["study_id"]) == ["c"]
    assert removed["left_out"].iloc[0] == "retracted, decision recorded in studies.csv"


def test_drafts_differences_until_settled(tmp_path):
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    (drafts / "ann.csv").write_text(
        "study_id,outcome,events_treat,total_treat,events_ctrl,total_ctrl\na,death,1,10,2,10\nb,death,4,20,5,20\n"
    )
    (drafts / "bob.csv").write_text(
        "study_id,outcome,events_treat,total_treat,events_ctrl,total_ctrl\na,death,1.0,10,3,10\nb,death,4,20,5,21\n"
    )
    approved = pd.DataFrame(
        {
            "study_id": ["b"],
            "outcome": ["death"],
            "approved_by": ["cat"],
            "approved_on": ["2026-01-01"],
        }
    )
    diff = compare_drafts(read_drafts(drafts), approved, OUTCOMES)
    assert diff.to_dict("records") == [
        {"study_id": "a", "outcome": "death", "column": "events_ctrl", "ann": "2", "bob": "3"}
    ]


def test_template_lists_missing_study_outcome_rows():
    studies = pd.DataFrame(
        {"study_id": ["a", "n"], "study_label": ["A 2001", "N 2025"], "year": ["2001", "2025"]}
    )
    extraction = pd.DataFrame({"study_id": ["a", "a"], "outcome": ["death", "bleed"]})
    template = extraction_template(studies, extraction, OUTCOMES)
    assert template[["study_id", "outcome", "study_label"]].values.tolist() == [
        ["n", "death", "N 2025"],
        ["n", "bleed", "N 2025"],
    ]
    assert {"approved_by", "source", "events_treat"} <= set(template.columns)


def test_validate_command_reports_every_problem(tmp_path, capsys):
    make_review(tmp_path, "a,A 2001,2001,death,11,10,2,10,p3,x,,ann,,\n")
    assert main(["validate", "--config", str(tmp_path / "config.yaml")]) == 2
    err = capsys.readouterr().err
    assert "row 2, column 'approved_on': empty, but approved_by is set" in err
    assert "row 2, column 'events_treat': 11 events exceed the total of 10" in err


def test_validate_command_accepts_the_shipped_review(capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert main(["validate"]) == 0
    assert "rescue_stenting" in capsys.readouterr().out


def test_approval_date_must_exist():
    frame = pd.DataFrame({"approved_by": ["ann"], "approved_on": ["2024-13-45"]})
    [problem] = approval_problems(frame, "x.csv")
    assert problem.message == "'2024-13-45' is not a date (YYYY-MM-DD)"


def test_an_approval_date_in_the_future_is_a_typo():
    """A day ahead of this machine's clock passes (a reviewer east of it); a later date
    is refused whatever the clock says today."""
    from datetime import date, timedelta

    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    frame = pd.DataFrame({"approved_by": ["ann", "bob"], "approved_on": [tomorrow, "2999-01-02"]})
    [problem] = approval_problems(frame, "x.csv")
    assert (problem.row, problem.column) == (3, "approved_on")
    assert problem.message.startswith("2999-01-02 is in the future (today is ")
    assert problem.message.endswith("): a mistyped year?")
