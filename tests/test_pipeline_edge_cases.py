"""Outcomes the workflow must pool (or refuse clearly) without crashing: Peto, a single
study with HKSJ, only one subgroup estimable, and undefined exact M-H estimates."""

from __future__ import annotations

import json

import pytest

from livingmeta.config import ConfigError, reviews, validate_config
from livingmeta.validation import InputError
from livingmeta.workflow.extraction import validate_outcome
from livingmeta.workflow.pool import pool_outcome
from livingmeta.workflow.summary import summarise_review

HEADER = "study_id,study_label,year,outcome,events_treat,total_treat,events_ctrl,total_ctrl,subgroup,approved_by,approved_on\n"


def review_with(tmp_path, outcome: dict, rows: str):
    folder = tmp_path / "reviews" / "r"
    folder.mkdir(parents=True)
    (folder / "extraction.csv").write_text(HEADER + rows)
    config = validate_config(
        {"reviews": [{"id": "r", "folder": str(folder), "outcomes": [{"name": "o", **outcome}]}]}
    )
    return reviews(config)["r"]


def files_of(review):
    """The files the validate_outcome rule declares."""
    return {"extraction": review.files.extraction, "studies": review.files.studies}


def analyse(tmp_path, outcome: dict, rows: str) -> dict:
    review = review_with(tmp_path, outcome, rows)
    data = tmp_path / "o.csv"
    validate_outcome(review, review.outcome("o"), **files_of(review), data=data)
    pool_outcome(review, review.outcome("o"), data=data, pooled=tmp_path / "pooled.json")
    return json.loads((tmp_path / "pooled.json").read_text())


def test_peto_outcome_is_pooled_with_fixed_effect_only(tmp_path):
    rows = "a,A,2001,o,3,50,8,50,,x,2026-01-01\nb,B,2002,o,2,40,6,41,,x,2026-01-01\n"
    analysis = analyse(tmp_path, {"method": "Peto", "model": "fixed"}, rows)
    assert analysis["result"]["method"] == "Peto" and set(analysis["fixed_vs_random"]) == {"fixed"}
    review = review_with(tmp_path / "again", {"method": "Peto", "model": "fixed"}, rows)
    summarise_review(
        review,
        pooled=[tmp_path / "pooled.json"],
        csv=tmp_path / "s.csv",
        markdown=tmp_path / "s.md",
        tidy=tmp_path / "t.csv",
    )
    assert "Peto, Fixed" in (tmp_path / "s.md").read_text()


def test_single_study_with_hksj_reports_the_z_test(tmp_path):
    analysis = analyse(
        tmp_path, {"method": "IV", "hksj": True}, "a,A,2001,o,3,50,8,50,,x,2026-01-01\n"
    )
    result = analysis["result"]
    assert result["k"] == 1 and result["hksj"] is False and result["test"] == "z"
    assert result["ci_low"] < result["estimate"] < result["ci_high"]


def test_one_estimable_subgroup_means_no_subgroup_analysis(tmp_path):
    rows = (
        "a,A,2001,o,3,50,8,50,g1,x,2026-01-01\nb,B,2002,o,2,40,6,41,g1,x,2026-01-01\n"
        "c,C,2003,o,0,30,0,30,g2,x,2026-01-01\n"  # double zero: g2 cannot be pooled
    )
    analysis = analyse(tmp_path, {"method": "MH"}, rows)
    assert analysis["subgroups"] is None and analysis["result"]["k"] == 2


def test_undefined_exact_mh_is_an_input_problem_not_a_crash(tmp_path):
    rows = "a,A,2001,o,0,50,8,50,,x,2026-01-01\nb,B,2002,o,0,40,6,41,,x,2026-01-01\n"
    with pytest.raises(InputError, match="Mantel-Haenszel OR is undefined"):
        analyse(tmp_path, {"method": "MH", "model": "fixed", "mh_exact": True}, rows)


def test_hksj_with_fixed_effect_is_a_config_error():
    config = {"reviews": [{"id": "r", "outcomes": [{"name": "o", "model": "fixed", "hksj": True}]}]}
    with pytest.raises(ConfigError, match="hksj needs model random"):
        validate_config(config)


def test_minimal_table_with_study_column(tmp_path):
    folder = tmp_path / "reviews" / "r"
    folder.mkdir(parents=True)
    (folder / "extraction.csv").write_text(
        "study,events_treat,total_treat,events_ctrl,total_ctrl,approved_by,approved_on\nA,1,10,2,10,x,2026-01-01\n"
    )
    config = validate_config(
        {"reviews": [{"id": "r", "folder": str(folder), "outcomes": [{"name": "o"}]}]}
    )
    review = reviews(config)["r"]
    validate_outcome(review, review.outcome("o"), **files_of(review), data=tmp_path / "o.csv")
    assert "A" in (tmp_path / "o.csv").read_text()
