"""An outcome without approved data yet (k = 0) is a state of the review, not invalid data:
every step writes its output and says "no approved data yet"."""

from __future__ import annotations

import json

import pytest

from livingmeta.outcome_analysis import NO_APPROVED_DATA, NoApprovedData, read_analysis
from livingmeta.report.changes import build_changes
from livingmeta.report.report_page import page_view
from livingmeta.workflow.extraction import validate_outcome
from livingmeta.workflow.plot import plot_bubble, plot_outcome
from livingmeta.workflow.pool import pool_outcome
from livingmeta.workflow.summary import summarise_review
from tests.test_approval import HEADER, files_of, make_review

STUDIES = "study_id,record_ids\na,pubmed:1\nb,pubmed:2\n"
#: ``a`` is still to be approved; ``b`` did not report death (approved).
ROWS = (
    "a,A 2001,2001,death,1,10,2,10,p3,x,,,,,\n"
    "b,B 2002,2002,death,,,,,checked table 2,x,,ann,2026-01-02,,no\n"
)


@pytest.fixture
def no_data(tmp_path):
    """The review, and the ``pooled.json`` of its outcome ``death`` without approved data."""
    review = make_review(tmp_path, "", STUDIES)
    review.files.extraction.write_text(HEADER.replace("\n", ",reported\n") + ROWS)
    outcome = review.outcome("death")
    data, pooled = tmp_path / "death.csv", tmp_path / "death" / "pooled.json"
    validate_outcome(review, outcome, **files_of(review), data=data)
    analysis = pool_outcome(review, outcome, data=data, pooled=pooled)
    return review, analysis, pooled


def test_the_outcome_is_pooled_as_no_approved_data(no_data):
    _, analysis, pooled = no_data
    assert isinstance(analysis, NoApprovedData)
    obj = json.loads(pooled.read_text())
    assert obj["result"] is None and obj["status"] == NO_APPROVED_DATA
    assert obj["left_out"] == [{"study": "B 2002", "reason": "not reported"}]
    assert read_analysis(pooled) == analysis
    assert analysis.footnotes() == ["Not reported by: B 2002."]


def test_every_figure_is_a_placeholder_that_says_so(no_data, tmp_path):
    review, _, pooled = no_data
    outcome = review.outcome("death")
    kinds = ("forest", "cumulative", "leave_one_out", "funnel", "bubble")
    figures = [tmp_path / "fig" / f"{kind}.svg" for kind in kinds]
    plot_outcome(outcome, pooled=pooled, figures=figures[:4], review=review)
    plot_bubble(outcome, pooled=pooled, figures=[figures[4]])
    for figure in figures:  # the note figure's size (4.5 x 1.2 in), not a plot's
        assert 'width="324pt" height="86.4pt"' in figure.read_text(), figure.name


def test_summary_and_report_say_no_approved_data_yet(no_data, tmp_path):
    review, _, pooled = no_data
    out = {k: tmp_path / f"summary.{k}" for k in ("csv", "md", "tidy")}
    summarise_review(review, pooled=[pooled], csv=out["csv"], markdown=out["md"], tidy=out["tidy"])
    markdown = out["md"].read_text()
    assert "No studies yet: no approved data yet" in markdown
    assert "- death: no approved data yet" in markdown
    assert "- death: Not reported by: B 2002." in markdown

    context = {
        "review": {"id": review.id, "title": review.title},
        "run": {"id": "2026-01-05T00:00:00Z", "date": "2026-01-05"},
        "outcomes": [{"name": "death", "label": "Death", "before": None, "after": None}],
    }
    flagged = build_changes(context)
    assert flagged["outcomes_not_pooled"] == ["death"] and flagged["needs_attention"]
    context["outcomes"][0]["no_data"] = True
    changes = build_changes(context)
    assert changes["outcomes_not_pooled"] == [] and changes["outcomes_without_data"] == ["death"]
    assert not changes["needs_attention"]
    view = page_view(context, changes)["outcomes"][0]
    assert view["flags"] == [("info", "No approved data yet")]
