"""Risk of bias as data: tools, config, dual assessment, consensus, restricted analysis."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from livingmeta.config import ConfigError
from livingmeta.risk_of_bias import NOT_ASSESSED, OVERALL
from livingmeta.risk_of_bias.assessments import ASSESSMENT_COLUMNS, load_assessment
from livingmeta.risk_of_bias.consensus import load_folder, overall_kappa
from livingmeta.risk_of_bias.nos import nos_case_control, nos_cohort, total_stars
from livingmeta.risk_of_bias.robins_i import robins_i
from livingmeta.risk_of_bias.sensitivity import (
    RestrictedAnalysis,
    restricted_analysis,
    weight_shares,
)
from livingmeta.risk_of_bias.settings import settings_from_config
from livingmeta.stats import BinaryData, pool
from livingmeta.validation import InputError

ROSTER = ["alice", "bob", "carol"]
STUDIES = ["baracchini2017", "chang2018", "cornelissen2019", "peng2019"]
NOS_CONFIG = {
    "tools": [
        {"tool": "nos_cohort"},
        {"tool": "nos_case_control", "studies": ["peng2019"]},
    ]
}
GOOD_COHORT = {"S1": "1", "S2": "1", "S3": "1", "S4": "1", "C1": "2", "O1": "1", "O2": "1"}


def write_rows(path: Path, rows: list[dict[str, str]], columns=ASSESSMENT_COLUMNS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def nos_rows(study: str, stars: dict[str, str], **extra: str) -> list[dict[str, str]]:
    domains = {"S": "selection", "C": "comparability", "O": "outcome", "E": "exposure"}
    return [
        {"study_id": study, "domain": domains[item[0]], "question": item, "answer": n, **extra}
        for item, n in stars.items()
    ]


# ---------------------------------------------------------------- tools


@pytest.mark.parametrize(
    ("selection", "comparability", "outcome", "expected"),
    [
        (4, 2, 3, "good"),
        (3, 1, 2, "good"),
        (2, 2, 3, "fair"),  # 2 stars in selection, the others as for good
        (2, 1, 2, "fair"),
        (1, 2, 3, "poor"),  # 0-1 in selection
        (4, 0, 3, "poor"),  # none in comparability
        (4, 2, 1, "poor"),  # 0-1 in outcome
        (2, 0, 1, "poor"),
    ],
)
def test_newcastle_ottawa_ahrq_conversion(selection, comparability, outcome, expected):
    # AHRQ thresholds (good / fair / poor) as stated in the nos module's docstring.
    tool = nos_cohort()
    answers = {
        "selection": {f"S{i}": str(int(i <= selection)) for i in range(1, 5)},
        "comparability": {"C1": str(comparability)},
        "outcome": {f"O{i}": str(int(i <= outcome)) for i in range(1, 4)},
    }
    levels = {d: tool.propose(d, answers[d]) for d in answers}
    assert tool.propose_overall(levels) == expected
    assert total_stars(tool, answers) == selection + comparability + outcome


def test_newcastle_ottawa_case_control_has_exposure_not_outcome():
    tool = nos_case_control()
    assert [d.key for d in tool.domains] == ["selection", "comparability", "exposure"]
    assert tool.domain("E").questions[2].text == "Non-response rate"
    assert not tool.per_outcome


def test_incomplete_stars_propose_nothing():
    tool = nos_cohort()
    assert tool.propose("selection", {"S1": "1", "S2": "1"}) is None
    assert tool.propose("comparability", {"C1": "3"}) is None  # at most two stars


def test_robins_i_overall_rule():
    tool = robins_i()
    base = {f"D{i}": "low" for i in range(1, 8)}
    assert tool.propose_overall(base) == "low"
    assert tool.propose_overall(base | {"D2": "moderate"}) == "moderate"
    assert tool.propose_overall(base | {"D2": "moderate", "D5": "no_information"}) == (
        "no_information"
    )
    assert tool.propose_overall(base | {"D3": "serious", "D5": "no_information"}) == "serious"
    assert tool.propose_overall(base | {"D3": "serious", "D1": "critical"}) == "critical"
    assert tool.propose("D1", {"1.1": "Y"}) is None  # no published algorithm
    assert tool.level("No information").key == "no_information"


# ---------------------------------------------------------------- config


def test_settings_assign_tools_to_studies():
    settings = settings_from_config(NOS_CONFIG)
    assert settings.tool_for("peng2019").key == "nos_case_control"
    assert settings.tool_for("chang2018").key == "nos_cohort"
    assert settings.assessors_required == 2  # schema default
    assert settings.sensitivity == "not_high"


def test_custom_tool_from_config():
    settings = settings_from_config(
        {
            "tools": [{"tool": "jadad_like"}],
            "custom_tools": [
                {
                    "id": "jadad_like",
                    "label": "Our checklist",
                    "per_outcome": True,
                    "levels": [
                        {"key": "ok", "label": "Adequate", "risk": "low"},
                        {"key": "unclear", "label": "Unclear", "risk": "unknown"},
                        {"key": "bad", "label": "Inadequate", "risk": "high", "colour": "#123456"},
                    ],
                    "domains": [{"key": "blinding", "label": "Blinding", "short": "B"}],
                }
            ],
            "sensitivity": "low_only",
        }
    )
    tool = settings.tool_for("anything")
    assert tool.per_outcome and tool.level("inadequate").colour == "#123456"
    assert tool.level("unclear").symbol == "?"
    assert tool.propose_overall({"blinding": "unclear"}) == "unclear"


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ({"tools": [{"tool": "rob3"}]}, r"tools\[0\]\.tool: unknown tool 'rob3'"),
        ({"tools": [{"tool": "rob2", "effect": "itt"}]}, r"tools\[0\]\.effect: 'itt'"),
        ({"tools": [{"tool": "rob2"}, {"tool": "robins_i"}]}, "only one can be the default"),
        (
            {"tools": [{"tool": "rob2", "studies": ["a"]}, {"tool": "robins_i", "studies": ["a"]}]},
            r"tools\[1\]\.studies: 'a' is already rated by tools\[0\]",
        ),
        ({"tools": [{"tool": "nos_cohort", "outcomes": ["x"]}]}, "rates whole studies"),
        ({"tools": [{"tool": "rob2"}], "sensitivity": "low"}, "sensitivity: 'low'"),
        ({"tools": []}, r"risk_of_bias\.tools: \[\] should be non-empty"),
        (
            {
                "tools": [{"tool": "mine"}],
                "custom_tools": [
                    {
                        "id": "mine",
                        "label": "Mine",
                        "levels": [{"key": "ok", "label": "OK", "risk": "low"}] * 2,
                        "domains": [{"key": "overall", "label": "All"}],
                    }
                ],
            },
            r"custom_tools\[0\]\.levels: keys must be unique",
        ),
    ],
)
def test_invalid_config_names_the_key(fragment, message):
    with pytest.raises(ConfigError, match=message):
        settings_from_config(fragment, source="risk_of_bias")


# ---------------------------------------------------------------- one assessor's file


def test_answers_propose_judgements_and_overall(tmp_path):
    rows = nos_rows("chang2018", GOOD_COHORT | {"O3": "0"}, support="Table 1", page="960")
    path = write_rows(tmp_path / "alice.csv", rows)
    assessment = load_assessment(path, settings_from_config(NOS_CONFIG), roster=ROSTER)
    levels = {j.domain: j.level for j in assessment.judgements}
    assert levels == {"selection": "good", "comparability": "good", "outcome": "good"} | {
        OVERALL: "good"
    }
    assert assessment.assessor == "alice"


def test_rob2_judgement_rows_and_overrides(tmp_path):
    settings = settings_from_config({"tools": [{"tool": "rob2"}]})
    rows = [
        {"study_id": "s1", "outcome": "death", "domain": "D1", "question": q, "answer": a}
        for q, a in (("1.1", "Y"), ("1.2", "Y"), ("1.3", "N"))
    ]
    rows.append(
        {"study_id": "s1", "outcome": "death", "domain": "D1", "judgement": "Some concerns"}
    )
    path = write_rows(tmp_path / "bob.csv", rows)
    with pytest.raises(InputError) as caught:
        load_assessment(path, settings, roster=ROSTER, outcomes=["death"])
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (5, "override_reason")
    assert "proposes 'low'" in problem.message

    rows[-1]["override_reason"] = "allocation by a research nurse who knew the next envelope"
    write_rows(path, rows)
    (d1,) = load_assessment(path, settings, roster=ROSTER, outcomes=["death"]).judgements
    assert (d1.level, d1.proposed, d1.overridden) == ("some_concerns", "low", True)


def test_every_problem_names_file_row_and_column(tmp_path):
    settings = settings_from_config(NOS_CONFIG)
    rows = [
        {"study_id": "logallo2017", "domain": "selection", "question": "S1", "answer": "1"},
        {"study_id": "chang2018", "domain": "blinding", "judgement": "good"},
        {"study_id": "chang2018", "domain": "selection", "question": "S9", "answer": "1"},
        {"study_id": "chang2018", "domain": "selection", "question": "S1", "answer": "yes"},
        {"study_id": "chang2018", "domain": "C", "judgement": "excellent"},
        {"study_id": "chang2018", "outcome": "sich", "domain": "overall", "judgement": "good"},
        {"study_id": "chang2018", "domain": "overall", "judgement": "good", "date": "2026-13-01"},
    ]
    path = write_rows(tmp_path / "alcie.csv", rows)
    with pytest.raises(InputError) as caught:
        load_assessment(path, settings, roster=ROSTER, studies=STUDIES)
    found = [(p.row, p.column) for p in caught.value.problems]
    assert found == [
        (None, None),  # the assessor is not on the roster
        (2, "study_id"),
        (3, "domain"),
        (4, "question"),
        (5, "answer"),
        (6, "judgement"),
        (7, "outcome"),
        (8, "date"),
    ]
    messages = [p.message for p in caught.value.problems]
    assert messages[0].startswith(
        "assessor (the file's name): 'alcie' is not a reviewer of this review; the roster is: "
        "alice, bob, carol; did you mean 'alice'?"
    )
    assert "not an included study" in messages[1]
    assert all(p.file == str(path) for p in caught.value.problems)


def test_a_second_judgement_of_the_same_domain_is_an_error(tmp_path):
    rows = [{"study_id": "chang2018", "domain": "overall", "judgement": "fair"}] * 2
    path = write_rows(tmp_path / "alice.csv", rows)
    with pytest.raises(InputError, match="row 3, column 'judgement': second judgement"):
        load_assessment(path, settings_from_config(NOS_CONFIG))


# ---------------------------------------------------------------- dual assessment


def test_dual_assessment_conflict_then_consensus(tmp_path):
    settings = settings_from_config(NOS_CONFIG)
    folder = tmp_path / "risk_of_bias"
    folder.mkdir()
    alice = nos_rows("chang2018", GOOD_COHORT | {"O3": "1"}) + nos_rows(
        "cornelissen2019", GOOD_COHORT | {"O3": "1"}
    )
    bob_chang = GOOD_COHORT | {"S1": "0", "S2": "0", "O3": "1"}  # selection 2 stars: fair
    bob = nos_rows("chang2018", bob_chang) + nos_rows("cornelissen2019", GOOD_COHORT | {"O3": "0"})
    write_rows(folder / "alice.csv", alice)
    write_rows(folder / "bob.csv", bob)

    status = load_folder(folder, settings, roster=ROSTER, studies=STUDIES)
    assert status.assessors == ("alice", "bob")
    assessments = [load_assessment(folder / f"{n}.csv", settings) for n in ("alice", "bob")]
    assert overall_kappa(settings, assessments) == (0.0, 2)  # p_o = 1/2, p_e = 1/2
    assert [str(d) for d in status.disagreements] == [
        "chang2018, selection: alice: good; bob: fair",
        "chang2018, overall: alice: good; bob: fair",
    ]
    assert status.judgements("chang2018", "sich") == {"comparability": "good", "outcome": "good"}
    assert status.overall("chang2018") is None  # only consensus reaches outputs
    assert status.overall("cornelissen2019", "mrs0_2_90d") == "good"  # agreed
    assert status.judgements("peng2019") == {}  # nobody rated it: not yet assessed
    # What is disputed, for the traffic-light plot (a whole-study tool: any outcome).
    assert status.disputed("chang2018", "sich") == ["selection", OVERALL]
    assert status.disputed_by_label([("chang2018", "Chang"), ("cornelissen2019", "C")]) == {
        "Chang": ["selection", OVERALL]
    }

    consensus = [
        {
            "study_id": "chang2018",
            "domain": "selection",
            "judgement": "fair",
            "support": "consecutive patients of 16 centres; non-exposed from the same registry",
            "agreed_by": "alice; Bob",
            "date": "2026-12-01",
        }
    ]
    write_rows(folder / "consensus.csv", consensus, (*ASSESSMENT_COLUMNS, "agreed_by"))
    status = load_folder(folder, settings, roster=ROSTER, studies=STUDIES)
    assert status.disagreements == () and status.disputed("chang2018") == []
    assert status.overall("chang2018") == "fair"  # proposed from the settled domains
    assert status.settled[("chang2018", "", "selection")].how == "consensus"
    assert status.settled[("chang2018", "", OVERALL)].how == "proposal"


def test_one_assessor_leaves_judgements_pending(tmp_path):
    folder = tmp_path / "rob"
    folder.mkdir()
    write_rows(folder / "alice.csv", nos_rows("chang2018", GOOD_COHORT | {"O3": "1"}))
    status = load_folder(folder, settings_from_config(NOS_CONFIG), roster=ROSTER)
    assert status.settled == {}
    assert ("chang2018", "", OVERALL) in status.pending


def test_consensus_needs_names_on_the_roster(tmp_path):
    folder = tmp_path / "rob"
    folder.mkdir()
    rows = [{"study_id": "chang2018", "domain": "overall", "judgement": "fair", "agreed_by": "dan"}]
    write_rows(folder / "consensus.csv", rows, (*ASSESSMENT_COLUMNS, "agreed_by"))
    with pytest.raises(InputError, match="row 2, column 'agreed_by': 'dan' is not a reviewer"):
        load_folder(folder, settings_from_config(NOS_CONFIG), roster=ROSTER)


def test_missing_folder_means_nothing_assessed(tmp_path):
    status = load_folder(tmp_path / "absent", settings_from_config(NOS_CONFIG))
    assert status.settled == {} and status.disagreements == () and status.pending == ()


# ---------------------------------------------------------------- restricted analysis

MORTALITY = BinaryData(  # the reference review's mortality counts (seed/extracted_2x2.csv)
    ("Baracchini 2017", "Chang 2018", "Cornelissen 2019", "Peng 2019"),
    [1, 6, 0, 21],
    [23, 48, 12, 66],
    [9, 19, 5, 29],
    [23, 100, 14, 66],
)
OPTIONS = {"measure": "OR", "method": "MH", "model": "random"}


def test_restricted_analysis_pools_the_kept_studies_only():
    levels = {lv.key: lv for lv in nos_cohort().levels}
    overall = {
        "Baracchini 2017": levels["good"],
        "Chang 2018": levels["fair"],
        "Cornelissen 2019": levels["poor"],
        "Peng 2019": None,
    }
    restricted = restricted_analysis(MORTALITY, overall, "not_high", **OPTIONS)
    assert restricted.status == "pooled"
    assert restricted.kept == ("Baracchini 2017", "Chang 2018")
    assert restricted.removed == (("Cornelissen 2019", "Poor"), ("Peng 2019", NOT_ASSESSED))
    expected = pool(MORTALITY.take([0, 1]), **OPTIONS)
    assert restricted.result.estimate == expected.estimate
    assert restricted.result.k == 2
    low_only = restricted_analysis(MORTALITY, overall, "low_only", **OPTIONS)
    assert low_only.kept == ("Baracchini 2017",)
    written = json.loads(json.dumps(low_only.to_json(), allow_nan=False))
    assert written["result"]["k"] == 1 and written["result"]["test"] == "z"
    again = RestrictedAnalysis.from_json(written)  # lossless round trip
    assert again.result.estimate == low_only.result.estimate
    assert again.to_json() == low_only.to_json()


def test_restricted_analysis_without_ratings_claims_nothing():
    restricted = restricted_analysis(MORTALITY, {}, "low_only", **OPTIONS)
    assert restricted.status == NOT_ASSESSED
    assert restricted.result is None
    assert restricted.to_json()["removed"][0] == {
        "study": "Baracchini 2017",
        "judgement": NOT_ASSESSED,
    }


def test_weight_shares_sum_to_100_per_domain():
    shares = weight_shares(
        {"A": 30.0, "B": 50.0, "C": 20.0},
        {"A": {"D1": "low", OVERALL: "low"}, "B": {"D1": "high", OVERALL: "high"}},
        ["D1", OVERALL],
    )
    assert shares["D1"] == pytest.approx({"low": 30.0, "high": 50.0, NOT_ASSESSED: 20.0})
    assert sum(shares[OVERALL].values()) == pytest.approx(100.0)
