"""`livingmeta pool` on metafor datasets whose study labels repeat (multi-arm trials,
strata): every row is a separate comparison, as in metafor, labelled distinctly, with a
warning. Reference values: tests/reference/make_repeated_labels.R."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from livingmeta.cli import main

REFERENCE = Path(__file__).parent / "reference"
R = json.loads((REFERENCE / "repeated_labels.json").read_text(encoding="utf-8"))
DATASETS = ("anand1999", "hartmannboyce2018", "axfors2021")
FITS = {  # R fit -> livingmeta pool options
    "DL": ["--method", "IV", "--model", "random", "--tau2", "DL"],
    "REML": ["--method", "IV", "--model", "random", "--tau2", "REML"],
    "MH": ["--method", "MH", "--model", "fixed", "--mh-exact"],
}


def pooled(capsys, dataset: str, measure: str, options: list[str]) -> tuple[dict, str]:
    path = str(REFERENCE / f"{dataset}.csv")
    assert main(["pool", path, "--measure", measure, *options, "--json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("measure", ["OR", "RR"])
@pytest.mark.parametrize("fit", ["DL", "REML", "MH"])
def test_repeated_labels_pool_as_metafor(capsys, dataset, measure, fit):
    out, _ = pooled(capsys, dataset, measure, FITS[fit])
    expected = R[dataset][measure][fit]
    rel = 1e-4 if fit == "REML" else 1e-6
    for key in ("estimate", "ci_low", "ci_high"):
        assert math.log(out[key]) == pytest.approx(expected[key], rel=rel), key
    if fit != "MH":
        assert out["k"] == expected["k"]
        assert out["tau2"] == pytest.approx(expected["tau2"], rel=rel, abs=1e-10)
        assert out["i2_tau2"] == pytest.approx(expected["i2"], rel=rel, abs=1e-8)


@pytest.mark.parametrize("dataset", DATASETS)
def test_repeated_labels_are_numbered_and_warned(capsys, dataset):
    out, err = pooled(capsys, dataset, "RR", FITS["DL"])
    labels = [s["study"] for s in out["studies"]]
    assert len(labels) == len(set(labels))
    numbered = [label for label in labels if label.endswith(" (2)")]
    assert len(numbered) >= 1
    for label in numbered:
        study = label.removesuffix(" (2)")
        assert study in labels
        assert f"study {study!r} is on rows" in err
    assert err.count("warning") == len(numbered)
    assert "Cochrane Handbook 23.3.4" in err


def test_third_arm_of_piper_2009_is_numbered_3(capsys):
    out, err = pooled(capsys, "hartmannboyce2018", "RR", FITS["DL"])
    labels = [s["study"] for s in out["studies"]]
    assert {"Piper 2009", "Piper 2009 (2)", "Piper 2009 (3)"} <= set(labels)
    assert "'Piper 2009' is on rows 95, 120, 134" in err


def test_unique_labels_give_no_warning(capsys, reference_dir):
    _, err = pooled(capsys, "axfors2021", "RR", FITS["MH"])
    assert err
    path = str(reference_dir / "bcg.csv")
    assert main(["pool", path, "--measure", "RR", "--json"]) == 0
    assert capsys.readouterr().err == ""
