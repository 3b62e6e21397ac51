"""A run is a search or a change of data, not a rebuild: rebuilding the same day with the
same estimates and no new records reuses the last run of the history."""

from __future__ import annotations

import pytest

from livingmeta.report.history import history_row, read_history, rebuilt_run, update_history

RESULT = {
    "measure": "OR", "k": 4, "estimate": 0.39123456789012345, "ci_low": 0.16, "ci_high": 0.93,
    "p": 0.0349, "i2": None, "tau2": 0.33, "z": -2.11,
}  # fmt: skip


@pytest.fixture
def history(tmp_path):
    path = tmp_path / "history.csv"
    row = history_row("2026-12-01T080000Z", "2026-12-01", "rs", "death", RESULT, 229)
    update_history(path, [row])
    return path


@pytest.fixture
def no_candidates(tmp_path):
    path = tmp_path / "candidates.csv"
    path.write_text("record_id,title\n", encoding="utf-8")
    return path


def test_same_day_rebuild_with_same_estimates_reuses_the_run(history, no_candidates):
    run = rebuilt_run(history, "rs", "2026-12-01", {"death": dict(RESULT)}, no_candidates)
    assert run == "2026-12-01T080000Z"
    update_history(history, [history_row(run, "2026-12-01", "rs", "death", RESULT)])
    assert list(read_history(history)["run_id"]) == ["2026-12-01T080000Z"]


@pytest.mark.parametrize(
    ("date", "change"),
    [
        ("2026-12-02", {}),  # another day: a new search
        ("2026-12-01", {"estimate": 0.4}),  # data changed
        ("2026-12-01", {"k": 5}),
        ("2026-12-01", {"i2": 12.0}),  # None before
    ],
)
def test_a_search_or_a_data_change_is_a_new_run(history, no_candidates, date, change):
    estimates = {"death": RESULT | change}
    assert rebuilt_run(history, "rs", date, estimates, no_candidates) is None


def test_a_new_certainty_the_same_day_is_a_new_run(tmp_path, no_candidates):
    history = tmp_path / "history.csv"
    row = history_row("2026-12-01T080000Z", "2026-12-01", "rs", "death", RESULT, 229, "low")
    update_history(history, [row])
    same = {"death": RESULT | {"certainty": "low"}}
    assert rebuilt_run(history, "rs", "2026-12-01", same, no_candidates) == "2026-12-01T080000Z"
    for level in ("moderate", "not assessed", ""):
        rated = {"death": RESULT | {"certainty": level}}
        assert rebuilt_run(history, "rs", "2026-12-01", rated, no_candidates) is None


def test_new_records_or_outcomes_make_a_new_run(history, no_candidates, tmp_path):
    found = tmp_path / "found.csv"
    found.write_text("record_id,title\npubmed:1,A trial\n", encoding="utf-8")
    assert rebuilt_run(history, "rs", "2026-12-01", {"death": RESULT}, found) is None
    both = {"death": RESULT, "sich": RESULT}
    assert rebuilt_run(history, "rs", "2026-12-01", both, no_candidates) is None
    assert rebuilt_run(history, "other", "2026-12-01", {"death": RESULT}, no_candidates) is None
    empty = tmp_path / "none.csv"
    assert rebuilt_run(empty, "rs", "2026-12-01", {"death": RESULT}, no_candidates) is None


def test_conclusion_changes_always_say_what_changed():
    from livingmeta.report.estimates import compare_estimates, describe_change
    from livingmeta.report.report_page import _estimate_changes

    before = {"measure": "OR", "k": 3, "estimate": 0.52, "ci_low": 0.31, "ci_high": 1.2}
    after = {"measure": "OR", "k": 4, "estimate": 0.45, "ci_low": 0.30, "ci_high": 0.68}
    gained = compare_estimates(before, after, outcome="death", label="Death")
    moved = compare_estimates(after, after | {"k": 5, "estimate": 0.46}, outcome="sich")
    assert describe_change(gained) == (
        "the confidence interval now excludes no effect (significance gained): "
        "OR 0.52 [0.31, 1.20] with 3 studies → 0.45 [0.30, 0.68] with 4 studies"
    )
    view = _estimate_changes({"estimate_changes": [gained, moved]})
    assert [c["label"] for c in view["conclusion_changes"]] == ["Death"]
    (updated,) = view["updated_estimates"]
    assert updated["label"] == "sich" and "conclusion is unchanged" in updated["text"]
    assert "with 4 studies → 0.46 [0.30, 0.68] with 5 studies" in updated["text"]


def test_run_report_names_removed_studies_and_what_changed():
    from tests.test_report import _busy_context, render_run_report

    context = _busy_context()
    context["removed"] = ["removed: Wang 2023, retracted, decision recorded on 2026-11-30"]
    html = render_run_report(context)
    assert "Removed from the analysis" in html
    assert "removed: Wang 2023, retracted, decision recorded on 2026-11-30" in html
    # Mortality moved from 0.55 [0.31, 1.02] to 0.39 [0.16, 0.93]: significance gained
    assert "Estimates whose conclusion changed" in html
    assert "(significance gained): OR 0.55 [0.31, 1.02] with 3 studies →" in html


def test_a_rerun_keeping_the_run_id_still_reports_the_studies_it_included(tmp_path):
    """A same-day rerun (nothing appended by its own screening step) reports the studies
    ``studies.csv`` records as included in the run whose id it keeps."""
    from livingmeta.workflow.report import _newly_included

    studies = tmp_path / "studies.csv"
    studies.write_text(
        "study_id,study_label,year,record_ids,included_in,exclude_retracted,notes\n"
        "peng2019,Peng 2019,2019,previous-version:peng2019,previous_version,,\n"
        "nguyen2026,Nguyen 2026,2026,pubmed:1,2026-12-01T080000Z,,\n"
        "li2026,Li 2026,2026,pubmed:2,2026-12-01T090000Z,,\n"
    )
    run_ids = {"2026-12-01T080000Z", "2026-12-01T093000Z"}
    assert _newly_included([], studies, run_ids) == [
        {"study_id": "nguyen2026", "label": "Nguyen 2026"}
    ]
    appended = [{"study_id": "nguyen2026", "study_label": "Nguyen 2026"}]
    assert _newly_included(appended, studies, run_ids) == _newly_included([], studies, run_ids)
    assert _newly_included(appended, tmp_path / "absent.csv", run_ids) == [
        {"study_id": "nguyen2026", "label": "Nguyen 2026"}
    ]


def test_decisions_made_after_a_run_the_same_day_are_new_to_the_next(tmp_path):
    """Decisions carry a day only: the previous run's archived count, not the date, says
    which are new; without it, those dated after the previous run's day."""
    import json

    import pandas as pd

    from livingmeta.workflow.report import _decisions_before

    table = pd.DataFrame({"date": ["2026-12-01", "2026-12-01", "2026-12-01"]})
    archive = tmp_path / "reports"
    archive.mkdir()
    # The 08:00 run saw one decision; two more were made later that day.
    (archive / "2026-12-01T080000Z.json").write_text(json.dumps({"decisions": 1}))
    assert _decisions_before(table, archive, "2026-12-01T180000Z", None) == 1
    assert _decisions_before(table, archive, "2026-12-01T070000Z", None) == 0  # first run
    (archive / "2026-12-01T080000Z.json").unlink()
    (archive / "2026-12-01T080000Z.html").write_text("<html>")
    assert _decisions_before(table, archive, "2026-12-01T180000Z", None) == 3  # by day
    assert _decisions_before(table, tmp_path / "none", "2026-12-02T080000Z", "2026-11-30") == 0
