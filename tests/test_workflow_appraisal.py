"""Risk of bias, characteristics, GRADE and sequential monitoring through the workflow.

The repository's workflow is run offline on a copy with, beside the reference review
(its NOS tools declared and nobody's ratings: "not yet assessed"), a small synthetic
review with dual risk-of-bias ratings (one study good, one poor, one in disagreement), a
characteristics table, a descriptive outcome, and sequential monitoring of its pooled
outcome over a history of two runs.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
import yaml

from livingmeta.characteristics.extraction import CHARACTERISTICS_COLUMNS
from livingmeta.report.history import HISTORY_COLUMNS
from livingmeta.risk_of_bias import DISPUTED
from livingmeta.risk_of_bias.assessments import ASSESSMENT_COLUMNS
from livingmeta.workflow.risk_of_bias import _with_disputed
from tests.test_reference_outputs import closed_port
from tests.workflow_copy import copy_workflow, run_snakemake

pytestmark = pytest.mark.slow

RUN_DATE = "2026-12-02"
GOOD = {"S1": "1", "S2": "1", "S3": "1", "S4": "1", "C1": "2", "O1": "1", "O2": "1", "O3": "1"}
POOR = GOOD | {"S2": "0", "S3": "0", "S4": "0"}  # one star in selection: poor
FAIR = GOOD | {"S1": "0", "S2": "0"}  # two stars in selection: fair
STUDIES = [("s1", "Alpha 2019", "2019"), ("s2", "Beta 2020", "2020"), ("s3", "Gamma 2021", "2021")]
EXTRACTION_COLUMNS = (
    *("study_id", "study_label", "year", "outcome"),
    *("events_treat", "total_treat", "events_ctrl", "total_ctrl"),
    *("source", "extractor", "approved_by", "approved_on"),
)
DEATHS = {"s1": (10, 100, 20, 100), "s2": (8, 60, 15, 60), "s3": (12, 90, 18, 90)}
#: studies.csv labels a study as the import did ("Surname I. year"); the extraction's
#: label is the one the analyses print, and the judgements must follow it.
IMPORTED_LABELS = {"s3": "Gamma G. 2021"}
SYNTHETIC = {
    "id": "synthetic",
    "title": "Synthetic review",
    "folder": "reviews/synthetic",
    "outcomes": [
        {
            "name": "death",
            "label": "Death",
            "type": "dichotomous",
            "measure": "RR",
            "method": "MH",
            "model": "fixed",
            "groups": {"treat": "Stent", "ctrl": "Control"},
            "sequential": {"relative_risk_reduction": 0.3, "beta": 0.2, "heterogeneity": "none"},
        },
        {
            "name": "reperfusion",
            "label": "Successful reperfusion",
            "type": "descriptive",
            "kind": "n_of_N",
            "arm": "treat",
        },
    ],
    "risk_of_bias": {"tools": [{"tool": "nos_cohort"}], "sensitivity": "not_high"},
    "characteristics": {
        "fields": [
            {"name": "design", "label": "Study design", "kind": "text"},
            {"name": "age", "label": "Age, mean (SD)", "kind": "mean_sd", "level": "arm"},
        ]
    },
}


def write_csv(path: Path, columns, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), restval="")
        writer.writeheader()
        writer.writerows(rows)


def nos_rows(study: str, stars: dict[str, str]) -> list[dict[str, str]]:
    domains = {"S": "selection", "C": "comparability", "O": "outcome"}
    return [
        {"study_id": study, "domain": domains[item[0]], "question": item, "answer": n}
        for item, n in stars.items()
    ]


def write_synthetic_review(root: Path) -> None:
    folder = root / "reviews" / "synthetic"
    write_csv(
        folder / "studies.csv",
        ("study_id", "study_label", "year", "record_ids", "included_in"),
        [
            {
                "study_id": s,
                "study_label": IMPORTED_LABELS.get(s, label),
                "year": year,
                "record_ids": f"previous-version:{s}",
                "included_in": "previous_version",
            }
            for s, label, year in STUDIES
        ],
    )
    approval = {"source": "Table 1", "extractor": "alice", "approved_by": "bob"}
    write_csv(
        folder / "extraction.csv",
        EXTRACTION_COLUMNS,
        [
            {
                "study_id": s,
                "study_label": label,
                "year": year,
                "outcome": "death",
                **dict(zip(EXTRACTION_COLUMNS[4:8], DEATHS[s], strict=True)),
                **approval,
                "approved_on": "2026-11-30",
            }
            for s, label, year in STUDIES
        ],
    )
    approved = {**approval, "approved_on": "2026-11-30"}
    characteristics = [
        {"study_id": s, "field": "design", "text": "Prospective cohort study", **approved}
        for s, _, _ in STUDIES
    ]
    characteristics += [
        {"study_id": "s1", "field": "age", "arm": "treat", "value": "70", "spread": "16.9"},
        {"study_id": "s1", "field": "age", "arm": "ctrl", "value": "74", "spread": "8.3"},
        {"study_id": "s1", "field": "reperfusion", "arm": "treat", "value": "31", "total": "48"},
        {"study_id": "s2", "field": "reperfusion", "arm": "treat", "value": "22", "total": "23"},
    ]
    characteristics = [row | approved for row in characteristics]
    write_csv(folder / "characteristics.csv", CHARACTERISTICS_COLUMNS, characteristics)
    rob = folder / "risk_of_bias"
    alice = nos_rows("s1", GOOD) + nos_rows("s2", POOR) + nos_rows("s3", GOOD)
    bob = nos_rows("s1", GOOD) + nos_rows("s2", POOR) + nos_rows("s3", FAIR)
    write_csv(rob / "alice.csv", ASSESSMENT_COLUMNS, alice)
    write_csv(rob / "bob.csv", ASSESSMENT_COLUMNS, bob)
    earlier = {
        "run_id": "2026-06-01T000000Z",
        "date": "2026-06-01",
        "review": "synthetic",
        "outcome": "death",
        "measure": "RR",
        "k": "2",
        "estimate": "0.5",
        "ci_low": "0.3",
        "ci_high": "0.9",
        "p": "0.02",
        "participants": "320",
        "z": "-2.3",
    }
    write_csv(folder / "history.csv", HISTORY_COLUMNS, [earlier])


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    root = copy_workflow(tmp_path_factory.mktemp("appraisal"))
    config_path = root / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["reviews"].append(SYNTHETIC)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    write_synthetic_review(root)
    offline = f"http://127.0.0.1:{closed_port()}"
    env = {**os.environ, "LIVINGMETA_EUTILS_URL": offline, "LIVINGMETA_CTGOV_URL": offline}
    run_snakemake(root, RUN_DATE, env)
    return root / "results"


def test_reference_review_is_not_yet_assessed(results):
    review = results / "rescue_stenting"
    settled = json.loads((review / "risk_of_bias" / "judgements.json").read_text())
    assert settled["status"] == "not yet assessed"
    assert {s["tool"] for s in settled["studies"]} == {"nos_cohort", "nos_case_control"}
    restricted = json.loads((review / "mortality_90d" / "pooled.json").read_text())["risk_of_bias"]
    assert restricted["status"] == "not yet assessed" and restricted["result"] is None
    assert (
        "Studies not at high risk of bias: not yet assessed" in (review / "summary.md").read_text()
    )
    for stem in ("traffic_light_nos_cohort", "summary_sich_nos_case_control"):
        assert (review / "risk_of_bias" / f"{stem}.png").stat().st_size > 1000
    report = (review / "report" / "latest.html").read_text()
    assert "Not yet assessed: no study has a settled judgement." in report


def test_reference_review_tables(results):
    review = results / "rescue_stenting"
    table = (review / "characteristics.md").read_text()
    assert "| Baracchini 2017 | Italy | 2014-2016 |" in table
    assert "70 (16.9)" in table and "4/23 (17.4%)" in table
    sof = (review / "summary_of_findings.md").read_text()
    assert "| Mortality at 90 days | 352 (4 studies) | OR 0.39 \\[0.16, 0.93\\]" in sof
    assert "161 fewer per 1,000 (from 240 fewer to 14 fewer)" in sof
    assert sof.count("Not yet assessed") == 3
    assert (review / "summary_of_findings.docx").read_bytes()[:2] == b"PK"
    proposals = json.loads((review / "grade_inputs.json").read_text())
    assert set(proposals["outcomes"]) == {"mrs0_2_90d", "mortality_90d", "sich"}
    assert proposals["certainty"] == dict.fromkeys(proposals["outcomes"])  # not yet assessed
    page = (results / "site" / "rescue_stenting" / "index.html").read_text()
    assert "Summary of findings (GRADE)" in page and "Characteristics of included studies" in page


def test_restricted_analysis_keeps_studies_not_at_high_risk(results):
    pooled = json.loads((results / "synthetic" / "death" / "pooled.json").read_text())
    restricted = pooled["risk_of_bias"]
    assert restricted["status"] == "pooled"
    assert restricted["kept"] == ["Alpha 2019"]
    assert restricted["removed"] == [
        {"study": "Beta 2020", "judgement": "Poor"},
        {"study": "Gamma 2021", "judgement": "not yet assessed"},
    ]
    assert restricted["result"]["k"] == 1
    assert restricted["result"]["estimate"] == pytest.approx(0.5)  # 10/100 vs 20/100
    left_out = "left out: Beta 2020 (Poor), Gamma 2021 (not yet assessed)"
    assert left_out in (results / "synthetic" / "summary.md").read_text()
    page = (results / "site" / "synthetic" / "index.html").read_text()
    assert "Sensitivity analysis restricted by risk of bias.</strong> Studies not" in page
    assert left_out in page


def test_disagreement_is_listed_and_only_settled_judgements_reach_outputs(results):
    settled = json.loads((results / "synthetic" / "risk_of_bias" / "judgements.json").read_text())
    assert settled["status"] == "assessed"
    assert "s3, selection: alice: good; bob: fair" in settled["disagreements"]
    death = settled["judgements"]["death"]
    assert death["Alpha 2019"]["overall"] == "good"
    assert death["Beta 2020"]["overall"] == "poor"
    assert "overall" not in death["Gamma 2021"]
    # The traffic-light plots mark it apart from "not yet assessed".
    assert settled["study_level_disputed"] == {"Gamma 2021": ["selection", "overall"]}
    assert settled["disputed"]["death"] == settled["study_level_disputed"]
    drawn = _with_disputed(settled["study_level"], settled, None)
    assert drawn["Gamma 2021"]["selection"] == DISPUTED
    assert (
        drawn["Gamma 2021"]["comparability"]
        == settled["study_level"]["Gamma 2021"]["comparability"]
    )
    assert drawn["Alpha 2019"] == settled["study_level"]["Alpha 2019"]
    report = (results / "synthetic" / "report" / "latest.html").read_text()
    assert "s3, selection: alice: good; bob: fair" in report


def test_forest_plot_gets_risk_of_bias_columns(results):
    from livingmeta.outcome_analysis import OutcomeAnalysis
    from livingmeta.outcomes import Outcome
    from livingmeta.plots import forest_plot
    from livingmeta.site.folder import png_size

    folder = results / "synthetic" / "death"
    analysis = OutcomeAnalysis.read(folder / "pooled.json")
    outcome = Outcome.from_config(SYNTHETIC["outcomes"][0])
    plain = forest_plot(analysis.result, outcome, title=outcome.label)
    width, height = png_size(folder / "forest.png")
    plain_width, plain_height = (plain.get_size_inches() * 200).round()
    assert width > plain_width and height > plain_height
    site = results / "site" / "synthetic"
    assert (site / "risk_of_bias" / "traffic_light_nos_cohort.png").is_file()
    assert 'id="risk-of-bias"' in (site / "index.html").read_text()


def test_characteristics_and_descriptive_outcome(results):
    review = results / "synthetic"
    table = (review / "characteristics.csv").read_text()
    assert "Prospective cohort study" in table and "70 (16.9)" in table
    described = json.loads((review / "descriptive.json").read_text())["outcomes"]
    assert described == [
        {
            "name": "reperfusion",
            "label": "Successful reperfusion",
            "arm": "treat",
            "per_study": [
                {"study": "Alpha 2019", "value": "31/48 (64.6%)"},
                {"study": "Beta 2020", "value": "22/23 (95.7%)"},
            ],
            "range": "64.6% to 95.7%",
        }
    ]
    assert "Range across studies: 64.6% to 95.7%" in (review / "report" / "latest.html").read_text()
    page = (results / "site" / "synthetic" / "index.html").read_text()
    assert "<h3>Successful reperfusion (treat)</h3>" in page
    assert "<li>Beta 2020: 22/23 (95.7%)</li>" in page
    assert "Range across studies: 64.6% to 95.7%" in page


def test_summary_of_findings_starts_observational_evidence_low(results):
    proposals = json.loads((results / "synthetic" / "grade_inputs.json").read_text())
    assert "risk_of_bias" in proposals["outcomes"]["death"]
    sof = (results / "synthetic" / "summary_of_findings.csv").read_text()
    assert "Death" in sof and "RR" in sof


def test_sequential_monitoring_in_history_report_and_changes(results, tmp_path):
    from livingmeta.report.history import read_history
    from livingmeta.stats.sequential import monitor, required_information_size

    history = read_history(results.parent / "reviews" / "synthetic" / "history.csv")
    death = history[history["outcome"] == "death"]
    assert list(death["participants"]) == [320.0, 500.0]
    # The certainty summarise_findings settled is recorded with the estimate (the earlier
    # run, written without it, is "not recorded": no change of certainty to report).
    assert list(death["certainty"]) == ["", "not assessed"]
    z_now = float(death["z"].iloc[-1])
    changes = json.loads((results / "synthetic" / "report" / "changes.json").read_text())
    assert all("certainty_changed" not in c for c in changes["estimate_changes"])
    [status] = changes["sequential_monitoring"]
    control = (20 + 15 + 18) / 250
    size = required_information_size(control_risk=control, relative_risk_reduction=0.3, beta=0.2)
    assert status["information_size"] == pytest.approx(size, abs=0.05)
    looks = [("2026-06-01", 320.0, -2.3), (RUN_DATE, 500.0, z_now)]
    expected = monitor(looks, size, alpha=0.05, beta=0.2)[-1]
    assert status["status"] == expected.status
    assert status["boundary"] == pytest.approx(expected.upper, abs=1e-4)
    assert "rescue_stenting" not in json.dumps(changes["sequential_monitoring"])
    report = (results / "synthetic" / "report" / "latest.html").read_text()
    assert "Sequential monitoring" in report
    for ext in ("png", "svg"):
        assert (results / "synthetic" / "death" / f"sequential.{ext}").stat().st_size > 1000
    assert (results / "site" / "synthetic" / "death" / "sequential.png").is_file()
    reference = json.loads((results / "rescue_stenting" / "report" / "changes.json").read_text())
    assert "sequential_monitoring" not in reference
