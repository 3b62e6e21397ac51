"""I² is undefined for one study: ``null`` in pooled.json and "Not applicable" wherever it
is shown (pool table, summary, forest plot)."""

from __future__ import annotations

import json

from livingmeta.cli import main
from livingmeta.config import reviews, validate_config
from livingmeta.workflow.extraction import validate_outcome
from livingmeta.workflow.pool import pool_outcome
from livingmeta.workflow.summary import summarise_review

HEADER = "study_id,study_label,year,outcome,events_treat,total_treat,events_ctrl,total_ctrl"
# y = log OR of one study; with these cells Q is rounding noise above 0, which once gave 100%
ROW = "a,A 2001,2001,o,1,30,5,31"


def test_one_study_i2_is_null_and_not_applicable(tmp_path, capsys):
    folder = tmp_path / "reviews" / "r"
    folder.mkdir(parents=True)
    (folder / "extraction.csv").write_text(
        f"{HEADER},approved_by,approved_on\n{ROW},x,2026-01-01\n", encoding="utf-8"
    )
    config = validate_config(
        {"reviews": [{"id": "r", "folder": str(folder), "outcomes": [{"name": "o"}]}]}
    )
    review = reviews(config)["r"]
    files = {"extraction": review.files.extraction, "studies": review.files.studies}
    validate_outcome(review, review.outcome("o"), **files, data=tmp_path / "o.csv")
    pooled = tmp_path / "pooled.json"
    pool_outcome(review, review.outcome("o"), data=tmp_path / "o.csv", pooled=pooled)
    result = json.loads(pooled.read_text())["result"]
    assert result["k"] == 1 and result["i2"] is None and result["i2_tau2"] is None
    paths = {"csv": tmp_path / "s.csv", "markdown": tmp_path / "s.md", "tidy": tmp_path / "t.csv"}
    summarise_review(review, pooled=[pooled], **paths)
    assert "| Not applicable |" in (tmp_path / "s.md").read_text()
    table = tmp_path / "one.csv"
    table.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
    assert main(["pool", str(table), "--measure", "OR"]) == 0
    shown = capsys.readouterr().out
    assert "I² = Not applicable" in shown or "Heterogeneity: Not applicable" in shown
    assert "100%" not in shown
