"""GRADE as data: grade.csv validation, starting certainty, certainty, proposals, staleness."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from livingmeta.characteristics.extraction import load_characteristics
from livingmeta.grade import DOMAINS, DOWNGRADE_DOMAINS, NOT_ASSESSED
from livingmeta.grade.absolute import absolute_effect
from livingmeta.grade.certainty import (
    Start,
    certainty,
    designs_from_characteristics,
    starting_certainty,
)
from livingmeta.grade.proposals import grade_template, propose
from livingmeta.grade.ratings import GRADE_COLUMNS, load_ratings
from livingmeta.risk_of_bias.nos import LEVELS as NOS_LEVELS
from livingmeta.stats import BinaryData, pool
from livingmeta.stats.sequential import required_information_size
from livingmeta.validation import InputError
from tests.test_characteristics import SETTINGS as CHARACTERISTICS_SETTINGS

REVIEW = Path(__file__).resolve().parents[1] / "reviews" / "rescue_stenting"
ROSTER = ["alice", "bob"]
OUTCOMES = ["mortality_90d", "sich"]
APPROVED = {"assessor": "alice", "approved_by": "Bob", "approved_on": "2026-12-01"}
# The reference review's mortality data (shared/seed/extracted_2x2.csv).
MORTALITY = BinaryData(
    ("Baracchini 2017", "Chang 2018", "Cornelissen 2019", "Peng 2019"),
    [1, 6, 0, 21],
    [23, 48, 12, 66],
    [9, 19, 5, 29],
    [23, 100, 14, 66],
)
HIGH = Start("high", "randomised", "randomised trials: start at high")
LOW = Start("low", "observational", "observational studies: start at low")


def write_grade(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(GRADE_COLUMNS), restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def full_rating(outcome: str, **decisions: str) -> list[dict[str, str]]:
    """One approved row per reason to rate down ('not serious' unless given)."""
    rows = []
    for domain in DOWNGRADE_DOMAINS:
        decision = decisions.get(domain, "not serious")
        reason = "" if decision == "not serious" else f"reason for {domain}"
        rows.append({"outcome": outcome, "domain": domain, "decision": decision,
                     "reason": reason, **APPROVED})  # fmt: skip
    for domain in ("large_effect", "dose_response", "plausible_confounding"):
        if domain in decisions:
            rows.append({"outcome": outcome, "domain": domain, "decision": decisions[domain],
                         "reason": f"reason for {domain}", **APPROVED})  # fmt: skip
    return rows


def test_missing_file_means_nothing_rated(tmp_path: Path) -> None:
    assert load_ratings(tmp_path / "grade.csv", OUTCOMES, roster=ROSTER) == ()
    result = certainty("mortality_90d", LOW, ())
    assert result.level is None and result.label == NOT_ASSESSED
    assert result.missing == DOWNGRADE_DOMAINS


@pytest.mark.parametrize(
    ("start", "decisions", "expected"),
    [
        (HIGH, {}, "high"),
        (HIGH, {"risk_of_bias": "serious"}, "moderate"),
        (HIGH, {"imprecision": "very serious", "inconsistency": "serious"}, "very low"),
        (HIGH, {"risk_of_bias": "very_serious", "imprecision": "Very Serious"}, "very low"),
        (LOW, {}, "low"),
        (LOW, {"large_effect": "large"}, "moderate"),
        (LOW, {"large_effect": "very large", "dose_response": "yes"}, "high"),
        (LOW, {"imprecision": "serious", "large_effect": "large"}, "low"),
        # reasons to rate up are for non-randomised evidence only
        (HIGH, {"risk_of_bias": "serious", "large_effect": "large"}, "moderate"),
    ],
)
def test_certainty_from_the_start_and_the_approved_ratings(
    tmp_path: Path, start: Start, decisions: dict[str, str], expected: str
) -> None:
    path = write_grade(tmp_path / "grade.csv", full_rating("mortality_90d", **decisions))
    ratings = load_ratings(path, OUTCOMES, roster=ROSTER)
    result = certainty("mortality_90d", start, ratings)
    assert result.level == expected
    assert result.missing == ()
    assert len(result.reasons()) == sum(1 for d in decisions.values() if d != "not serious")


def test_reasons_become_footnotes(tmp_path: Path) -> None:
    path = write_grade(tmp_path / "grade.csv", full_rating("sich", imprecision="very serious"))
    result = certainty("sich", HIGH, load_ratings(path, OUTCOMES, roster=ROSTER))
    assert result.reasons() == [
        "Imprecision: rated down two levels (very serious). reason for imprecision"
    ]


def test_rating_up_randomised_evidence_is_shown_as_not_applied(tmp_path: Path) -> None:
    rows = full_rating("sich", large_effect="large")
    result = certainty("sich", HIGH, load_ratings(write_grade(tmp_path / "g.csv", rows), OUTCOMES))
    assert result.level == "high"
    assert [r.domain for r in result.ignored] == ["large_effect"]
    assert result.reasons() == ["Large effect: not applied (large): randomised evidence"]


def test_unapproved_or_incomplete_ratings_are_not_yet_assessed(tmp_path: Path) -> None:
    rows = full_rating("mortality_90d")
    rows[0].update(approved_by="", approved_on="")  # risk of bias not approved
    ratings = load_ratings(write_grade(tmp_path / "grade.csv", rows), OUTCOMES, roster=ROSTER)
    result = certainty("mortality_90d", HIGH, ratings)
    assert result.level is None and result.missing == ("risk_of_bias",)
    # the other outcome has no rating at all
    assert certainty("sich", HIGH, ratings).missing == DOWNGRADE_DOMAINS


def test_unknown_starting_level_is_not_assessed(tmp_path: Path) -> None:
    ratings = load_ratings(
        write_grade(tmp_path / "grade.csv", full_rating("sich")), OUTCOMES, roster=ROSTER
    )
    start = starting_certainty({"a": "randomised", "b": "observational"}, ["a", "b"])
    result = certainty("sich", start, ratings)
    assert result.level is None
    assert result.missing[0].startswith("starting level (randomised and observational")


def test_every_problem_names_file_row_and_column(tmp_path: Path) -> None:
    rows = [
        {"outcome": "mortality_90d", "domain": "risk of bias", "decision": "serious", **APPROVED},
        {"outcome": "mortality", "domain": "imprecision", "decision": "not serious", **APPROVED},
        {"outcome": "sich", "domain": "bias", "decision": "serious", **APPROVED},
        {"outcome": "sich", "domain": "inconsistency", "decision": "moderate", **APPROVED},
        {"outcome": "sich", "domain": "imprecision", "decision": "serious", "reason": "wide",
         "assessor": "carol", "approved_by": "alice", "approved_on": "2026-13-01"},
        {"outcome": "sich", "domain": "Imprecision", "decision": "not serious", **APPROVED},
        {"outcome": "sich", "domain": "large_effect", "decision": "huge", **APPROVED},
        {"outcome": "mrs", "domain": "inconsistancy", "decision": "serous", **APPROVED},
        {"outcome": "mortality_90d", "domain": "inconsistency", "decision": "serous",
         **APPROVED},
        {"outcome": "sich", "domain": "indirectness", "decision": "not serious",
         "assessor": "", "approved_by": "alice", "date": "yesterday"},
    ]  # fmt: skip
    path = write_grade(tmp_path / "grade.csv", rows)
    with pytest.raises(InputError) as caught:
        load_ratings(path, OUTCOMES, roster=ROSTER)
    found = {(p.row, p.column): p.message for p in caught.value.problems}
    assert all(p.file == str(path) for p in caught.value.problems)
    assert "needs its reason" in found[(2, "reason")]
    assert "unknown outcome 'mortality'" in found[(3, "outcome")]
    assert "'bias' is not one of" in found[(4, "domain")]
    assert "'moderate' for inconsistency" in found[(5, "decision")]
    assert found[(6, "assessor")] == (
        "'carol' is not a reviewer of this review; the roster is: alice, bob"
    )
    assert "is not a date" in found[(6, "approved_on")]
    assert found[(7, "domain")] == "second rating of imprecision for sich; first at row 6"
    assert "one of no, large, very large" in found[(8, "decision")]
    assert found[(9, "domain")].endswith("; did you mean 'inconsistency'?")
    assert found[(10, "decision")].endswith("; did you mean 'serious'?")
    assert "empty" in found[(11, "assessor")]
    assert "is not a date" in found[(11, "date")]
    assert "empty, but approved_by is set" in found[(11, "approved_on")]


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "grade.csv"
    path.write_text("outcome,domain\nsich,imprecision\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_ratings(path, OUTCOMES)
    assert {p.column for p in caught.value.problems} == {
        "decision",
        "approved_by",
        "approved_on",
    }


def test_reference_review_starts_low_from_its_designs() -> None:
    values = load_characteristics(REVIEW / "characteristics.csv", CHARACTERISTICS_SETTINGS)
    designs = designs_from_characteristics(values)
    assert designs == {
        "baracchini2017": "observational",
        "chang2018": "observational",
        "cornelissen2019": "observational",
        "peng2019": "observational",  # "Retrospective multicenter case-control study"
    }
    start = starting_certainty(designs, list(designs))
    assert (start.level, start.design) == ("low", "observational")


def test_starting_certainty_needs_every_design() -> None:
    assert starting_certainty({"a": "randomised"}, ["a"]).level == "high"
    unknown = starting_certainty({"a": "randomised", "b": None}, ["a", "b"])
    assert unknown.level is None and "b" in unknown.reason
    assert starting_certainty({}, []).level is None


def mortality_inputs(data: BinaryData = MORTALITY, levels=None):
    result = pool(data, "OR", method="MH", model="random")
    low, high = result.conf_int()
    control = sum(data.events_ctrl) / sum(data.total_ctrl)
    absolute = absolute_effect("OR", result.display(result.estimate), low, high, control)
    participants = int(sum(data.total_treat) + sum(data.total_ctrl))
    return result, propose(
        result,
        overall_levels=levels or {},
        absolute=absolute,
        participants=participants,
        thresholds=(-20.0, 20.0),
    )


def test_proposals_give_every_domain_its_inputs() -> None:
    good, fair, poor = NOS_LEVELS
    levels = {"Baracchini 2017": fair, "Chang 2018": poor, "Peng 2019": good}
    result, inputs = mortality_inputs(levels=levels)
    assert list(inputs) == list(DOMAINS)
    weights = {s.study: s.weight for s in result.studies}
    rob = inputs["risk_of_bias"].values
    assert rob["high"] == pytest.approx(weights["Chang 2018"])
    assert rob["some_or_unclear"] == pytest.approx(weights["Baracchini 2017"])
    assert rob["not_assessed"] == pytest.approx(weights["Cornelissen 2019"])
    inconsistency = inputs["inconsistency"].values
    assert inconsistency["i2"] == pytest.approx(result.i2)
    assert inconsistency["tau2"] == pytest.approx(result.tau2)
    assert inconsistency["pi_low"] is not None
    imprecision = inputs["imprecision"].values
    # GRADE's optimal information size: alpha 0.05, power 0.80, RRR 25%, control 62/203
    ois = required_information_size(
        control_risk=62 / 203, relative_risk_reduction=0.25, alpha=0.05, beta=0.2
    )
    assert imprecision["optimal_information_size"] == int(ois) + 1
    assert imprecision["participants"] == 352 and imprecision["ois_met"] is False
    assert imprecision["crosses_no_effect"] is False  # OR 0.39 [0.16, 0.93]
    assert imprecision["thresholds_crossed"] == [-20.0]  # 240 fewer to 14 fewer per 1,000
    assert inputs["publication_bias"].values == {"k": 4, "assessed": False}
    assert "fewer than 10" in inputs["publication_bias"].note
    assert inputs["large_effect"].values["estimate"] == pytest.approx(0.385331, rel=1e-5)


def test_a_rating_goes_stale_when_new_data_change_its_inputs(tmp_path: Path) -> None:
    _, before = mortality_inputs()
    rows = full_rating("mortality_90d", inconsistency="serious")
    for row in rows:
        row["inputs_digest"] = before[row["domain"]].digest
    ratings = load_ratings(write_grade(tmp_path / "grade.csv", rows), OUTCOMES, roster=ROSTER)
    digests = {d: i.digest for d, i in before.items()}
    assert certainty("mortality_90d", LOW, ratings, digests).stale == ()
    _, same = mortality_inputs()  # a rerun on the same data changes nothing
    assert {d: i.digest for d, i in same.items()} == digests
    grown = BinaryData(
        (*MORTALITY.study, "New 2025"),
        [*MORTALITY.events_treat, 10],
        [*MORTALITY.total_treat, 80],
        [*MORTALITY.events_ctrl, 20],
        [*MORTALITY.total_ctrl, 80],
    )
    _, after = mortality_inputs(grown)
    result = certainty("mortality_90d", LOW, ratings, {d: i.digest for d, i in after.items()})
    assert {"inconsistency", "imprecision"} <= set(result.stale)
    assert "indirectness" not in result.stale  # nothing computed, nothing changed
    assert result.level == "very low"  # the rating still stands until someone re-assesses


def test_template_offers_what_nobody_rated_with_its_digest(tmp_path: Path) -> None:
    _, inputs = mortality_inputs()
    rows = full_rating("mortality_90d")[:2]  # risk of bias and inconsistency rated
    ratings = load_ratings(write_grade(tmp_path / "grade.csv", rows), OUTCOMES, roster=ROSTER)
    template = grade_template({"mortality_90d": inputs}, ratings)
    assert [(r["outcome"], r["domain"]) for r in template] == [
        ("mortality_90d", "indirectness"),
        ("mortality_90d", "imprecision"),
        ("mortality_90d", "publication_bias"),
    ]
    assert [r["inputs_digest"] for r in template] == [
        inputs[d].digest for d in ("indirectness", "imprecision", "publication_bias")
    ]
    assert all(r["decision"] == "" and r["assessor"] == "" for r in template)
    assert "fewer than 10" in template[2]["notes"]
    # filled in by a person and approved, the rows are valid grade.csv rows
    for row in template:
        row.update(decision="not serious", **APPROVED)
    path = write_grade(tmp_path / "filled.csv", rows + template)
    digests = {d: i.digest for d, i in inputs.items()}
    result = certainty("mortality_90d", LOW, load_ratings(path, OUTCOMES), digests)
    assert result.level == "low" and result.stale == ()


def test_small_study_tests_are_shown_from_ten_studies() -> None:
    from livingmeta.stats.small_study import small_study_effects

    rng = np.random.default_rng(11)
    totals = rng.integers(30, 400, size=12)
    data = BinaryData(
        tuple(f"S{i}" for i in range(12)),
        rng.binomial(totals, 0.2),
        totals,
        rng.binomial(totals, 0.3),
        totals,
    )
    result = pool(data, "OR", method="MH", model="random")
    effects = small_study_effects(data, "OR", tests=("egger",))
    inputs = propose(result, small_study=effects)["publication_bias"]
    assert inputs.values["assessed"] is True and inputs.values["k"] == 12
    assert inputs.values["tests"]["egger"]["p"] == pytest.approx(effects.tests["egger"].p)
    assert inputs.note == f"egger P = {effects.tests['egger'].p:.3g}"
