"""A "conclusion changed" entry always states what changed, from what to what: the
significance (and why, when the interval is gone), the direction (which side of no
effect), the effect measure (each estimate on its own scale) and the certainty of the
evidence when it is known, in the run report and in ``changes.json``."""

from __future__ import annotations

import pytest

from livingmeta.report.changes import build_changes
from livingmeta.report.estimates import compare_estimates, conclusion_changed, describe_change


def result(estimate, low, high, measure="OR", k=4):
    return {"measure": measure, "estimate": estimate, "ci_low": low, "ci_high": high, "k": k}


NOT_SIGNIFICANT = result(0.52, 0.31, 1.20, k=3)
SIGNIFICANT = result(0.45, 0.30, 0.68)
HARM = result(1.40, 1.10, 1.80, k=5)

#: (before, after, the phrase naming the change, the estimates it must print)
BRANCHES = {
    "significance gained": (
        NOT_SIGNIFICANT,
        SIGNIFICANT,
        "the confidence interval now excludes no effect (significance gained)",
        "OR 0.52 [0.31, 1.20] with 3 studies → 0.45 [0.30, 0.68] with 4 studies",
    ),
    "significance lost": (
        SIGNIFICANT,
        NOT_SIGNIFICANT,
        "the confidence interval now includes no effect (significance lost)",
        "OR 0.45 [0.30, 0.68] with 4 studies → 0.52 [0.31, 1.20] with 3 studies",
    ),
    "interval gone": (
        SIGNIFICANT,
        result(None, None, None, k=0),
        "no confidence interval can be estimated any more (significance lost: no estimable study)",
        "OR 0.45 [0.30, 0.68] with 4 studies →",
    ),
    "direction": (
        SIGNIFICANT,
        HARM,
        "the estimate crossed the line of no effect (direction reversed: below 1 → above 1)",
        "OR 0.45 [0.30, 0.68] with 4 studies → 1.40 [1.10, 1.80] with 5 studies",
    ),
    "direction on a difference": (
        result(-2.0, -3.0, -1.0, "MD"),
        result(1.5, 0.5, 2.5, "MD", k=5),
        "(direction reversed: below 0 → above 0)",
        "MD −2.00 [−3.00, −1.00] with 4 studies → 1.50 [0.50, 2.50] with 5 studies",
    ),
    "measure": (
        SIGNIFICANT,
        result(0.60, 0.45, 0.80, "RR"),
        "the effect measure changed (OR → RR)",
        "OR 0.45 [0.30, 0.68] with 4 studies → RR 0.60 [0.45, 0.80] with 4 studies",
    ),
    "certainty": (
        SIGNIFICANT | {"certainty": "moderate"},
        SIGNIFICANT | {"certainty": "low"},
        "the certainty of the evidence changed (moderate → low)",
        "OR 0.45 [0.30, 0.68] with 4 studies → 0.45 [0.30, 0.68] with 4 studies",
    ),
    "certainty first assessed": (
        SIGNIFICANT,
        SIGNIFICANT | {"certainty": "high"},
        "the certainty of the evidence changed (not assessed → high)",
        "→ 0.45 [0.30, 0.68] with 4 studies",
    ),
}


@pytest.mark.parametrize("branch", list(BRANCHES))
def test_every_change_of_conclusion_says_what_changed(branch):
    before, after, phrase, estimates = BRANCHES[branch]
    comparison = compare_estimates(before, after, outcome="death", label="Death")
    assert conclusion_changed(comparison)
    text = describe_change(comparison)
    assert phrase in text
    assert estimates in text
    assert "conclusion is unchanged" not in text


def test_several_changes_are_all_stated():
    comparison = compare_estimates(
        NOT_SIGNIFICANT | {"certainty": "low"}, HARM | {"certainty": "moderate"}
    )
    text = describe_change(comparison)
    for phrase in (
        "significance gained",
        "direction reversed: below 1 → above 1",
        "low → moderate",
    ):
        assert phrase in text


def test_an_update_without_a_change_of_conclusion_says_so():
    comparison = compare_estimates(SIGNIFICANT, SIGNIFICANT | {"estimate": 0.47, "k": 5})
    assert comparison["changed"] and not conclusion_changed(comparison)
    assert describe_change(comparison) == (
        "the estimate was updated; the conclusion is unchanged: "
        "OR 0.45 [0.30, 0.68] with 4 studies → 0.47 [0.30, 0.68] with 5 studies"
    )


def test_a_new_outcome_states_its_first_estimate():
    comparison = compare_estimates(None, SIGNIFICANT)
    assert not conclusion_changed(comparison)
    assert (
        describe_change(comparison) == "first pooled estimate: OR 0.45 [0.30, 0.68] with 4 studies"
    )


def test_certainty_keys_only_when_certainty_is_known():
    assert "certainty_changed" not in compare_estimates(SIGNIFICANT, SIGNIFICANT)
    unchanged = compare_estimates(
        SIGNIFICANT | {"certainty": "low"}, SIGNIFICANT | {"certainty": "low"}
    )
    assert unchanged["certainty_changed"] is False and not unchanged["changed"]


def test_changes_json_states_what_changed():
    context = {
        "review": {"id": "rs", "title": "Rescue stenting"},
        "run": {"id": "2026-12-02T080000Z", "date": "2026-12-02"},
        "outcomes": [
            {"name": "death", "label": "Death", "before": NOT_SIGNIFICANT, "after": HARM},
            {"name": "sich", "label": "sICH", "before": None, "after": SIGNIFICANT},
            {"name": "same", "label": "Same", "before": SIGNIFICANT, "after": SIGNIFICANT},
        ],
    }
    changes = build_changes(context)
    death, sich = changes["estimate_changes"]  # the unchanged outcome is not listed
    assert death["conclusion_changed"] and not sich["conclusion_changed"]
    assert death["what_changed"] == (
        "the confidence interval now excludes no effect (significance gained); the "
        "estimate crossed the line of no effect (direction reversed: below 1 → above 1): "
        "OR 0.52 [0.31, 1.20] with 3 studies → 1.40 [1.10, 1.80] with 5 studies"
    )
    assert sich["what_changed"] == "first pooled estimate: OR 0.45 [0.30, 0.68] with 4 studies"


# ---------------------------------------------------------------- certainty in the history

HISTORY_RESULT = SIGNIFICANT | {"p": 0.001, "i2": 0.0, "tau2": 0.0, "z": -3.2}


def compared_with_history(history, levels, run_id="2026-12-02T080000Z"):
    """What ``report_run`` compares for ``death``: the previous run's estimate read back
    from ``history``, and this run's with the certainty ``levels`` of grade_inputs.json."""
    from livingmeta.workflow.report import _previous_run, _with_certainty

    _, before = _previous_run("rs", run_id, history)
    after = _with_certainty({"death": dict(HISTORY_RESULT)}, before, levels)
    return compare_estimates(before["death"], after["death"], outcome="death", label="Death")


def record(history, certainty, run_id="2026-12-01T080000Z"):
    from livingmeta.report.history import history_row, update_history

    row = history_row(run_id, run_id[:10], "rs", "death", HISTORY_RESULT, 120, certainty)
    update_history(history, [row])


@pytest.mark.parametrize(
    ("recorded", "now", "phrase"),
    [
        ("low", "moderate", "the certainty of the evidence changed (low → moderate)"),
        ("not assessed", "low", "the certainty of the evidence changed (not assessed → low)"),
        ("high", None, "the certainty of the evidence changed (high → not assessed)"),
    ],
)
def test_a_change_of_certainty_since_the_last_run_is_read_from_the_history(
    tmp_path, recorded, now, phrase
):
    history = tmp_path / "history.csv"
    record(history, recorded)
    comparison = compared_with_history(history, {"death": now})
    assert conclusion_changed(comparison)
    assert phrase in describe_change(comparison)


def test_the_same_or_an_unrecorded_certainty_is_no_change(tmp_path):
    history = tmp_path / "history.csv"
    record(history, "not assessed")
    same = compared_with_history(history, {"death": None})
    assert "certainty_changed" not in same and not same["changed"]  # changes.json as before
    record(history, "low")
    assert not compared_with_history(history, {"death": "low"})["changed"]
    # A history written before the certainty column: nothing to compare with.
    old = tmp_path / "old.csv"
    lines = history.read_text(encoding="utf-8").splitlines()
    old.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n", encoding="utf-8")
    assert not old.read_text(encoding="utf-8").splitlines()[0].endswith("certainty")
    unknown = compared_with_history(old, {"death": "moderate"})
    assert "certainty_changed" not in unknown and not conclusion_changed(unknown)


def test_the_history_records_the_certainty_and_reads_old_files(tmp_path):
    from livingmeta.report.history import HISTORY_COLUMNS, read_history
    from livingmeta.workflow.report import _history_certainty

    assert [_history_certainty({"death": v}, "death") for v in ("low", None)] == [
        "low",
        "not assessed",
    ]
    assert _history_certainty({}, "death") == ""  # no summary of findings: not known
    history = tmp_path / "history.csv"
    record(history, "very low")
    assert history.read_text(encoding="utf-8").splitlines()[1].endswith(",very low")
    columns = [c for c in HISTORY_COLUMNS if c != "certainty"]
    old = tmp_path / "old.csv"
    old.write_text(
        ",".join(columns) + "\n" + "r1,2026-01-01,rs,death,OR,2" + ",0.5" * 6 + ",120,-1.5\n"
    )
    table = read_history(old)
    assert list(table.columns) == list(HISTORY_COLUMNS) and table["certainty"].iloc[0] == ""
