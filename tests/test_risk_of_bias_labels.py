"""Judgements reach the analyses' rows however the extraction labels a study: its own
``study_label`` (not the one the import proposed in ``studies.csv``), its id when the
label is blank, and every comparison of a multi-arm trial (``Label (comparison)``)."""

from __future__ import annotations

import csv

from livingmeta.extraction import study_labels_by_id
from livingmeta.workflow.risk_of_bias import overall_levels, read_judgements, settle_risk_of_bias

LOW_DOSE, HIGH_DOSE = "Chang 2018 (low dose)", "Chang 2018 (high dose)"


def test_labels_are_those_the_analyses_print(tmp_path):
    table = tmp_path / "extraction.csv"
    table.write_text(
        "study_id,study_label,outcome,comparison,events_treat\n"
        "chang2018,Chang 2018,sich,low dose,1\n"
        "chang2018,Chang 2018,sich,high dose,2\n"
        "peng2019,,sich,,3\n"
        "chang2018,Chang 2018,mortality_90d,,4\n"
    )
    assert study_labels_by_id(table) == {
        "chang2018": ["Chang 2018", LOW_DOSE, HIGH_DOSE],
        "peng2019": ["peng2019"],  # a blank label: the id, as the forest plot prints it
    }
    assert study_labels_by_id(tmp_path / "missing.csv") == {}


def test_every_comparison_of_a_judged_study_carries_its_judgement(review, tmp_path):
    folder = review.files.risk_of_bias
    folder.mkdir(exist_ok=True)
    for assessor in ("reviewer_1", "reviewer_2"):  # two agreeing assessors settle it
        with open(folder / f"{assessor}.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["study_id", "outcome", "domain", "question", "answer", "judgement"])
            for domain in ("selection", "comparability", "outcome", "overall"):
                writer.writerow(["chang2018", "", domain, "", "", "poor"])
    path = tmp_path / "judgements.json"
    settle_risk_of_bias(
        review,
        assessments=sorted(folder.glob("*.csv")),
        studies=review.files.studies,
        judgements=path,
        labels={"chang2018": ["Chang 2018", LOW_DOSE, HIGH_DOSE]},
    )
    settled = read_judgements(path)
    assert [s["label"] for s in settled["studies"]].count("Chang 2018") == 1  # shown once
    assert settled["aliases"] == {LOW_DOSE: "chang2018", HIGH_DOSE: "chang2018"}
    levels = overall_levels(review, settled, "sich")
    assert {
        label: levels[label].key for label in ("Chang 2018", LOW_DOSE, HIGH_DOSE)
    } == dict.fromkeys(("Chang 2018", LOW_DOSE, HIGH_DOSE), "poor")
    assert levels["Peng 2019"] is None  # not yet assessed
