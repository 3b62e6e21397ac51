"""``livingmeta bias`` and the analyses ``livingmeta pool`` gained (``--mods``, ``--pi``,
``--hksj-adhoc``, Q-profile keys, ``--convention``): JSON against the R reference values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from livingmeta.cli import main
from tests.conftest import SHARED_DIR
from tests.stats_reference import LOCAL_DIR, close, covariates_frame, reference

BIAS = reference("bias")["results"]
HETEROGENEITY = reference("heterogeneity_ci")["results"]
METAREG = reference("metareg")["metareg"]
EGGER = str(SHARED_DIR / "reference" / "egger2001.csv")
HINE = str(SHARED_DIR / "reference" / "hine1989.csv")


def run_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_bias_json_contract(capsys):
    out = run_json(
        capsys, "bias", EGGER, "--measure", "OR", "--tau2", "REML", "--trimfill", "--json"
    )
    expected = BIAS["egger2001"]["OR"]["REML"]
    assert out["k"] == 16 and out["assessed"]
    assert set(out["tests"]) == {"egger", "egger_rma", "begg", "peters", "harbord"}
    assert set(out["tests"]["egger"]) == {"statistic", "df", "p"}
    assert set(out["tests"]["egger_rma"]) == {"statistic", "p"}
    for name, test in out["tests"].items():
        for key, value in test.items():
            assert close(value, expected[name][key]), (name, key)
    tf = out["trimfill"]
    assert set(tf) == {"k0", "side", "estimate", "ci_low", "ci_high"}
    assert tf["k0"] == expected["trimfill"]["k0"] and tf["side"] == expected["trimfill"]["side"]
    assert close(tf["ci_low"], float(np.exp(expected["trimfill"]["ci_low"])))


def test_bias_fixed_model_is_metafors_equal_effects_fit(capsys):
    out = run_json(
        capsys, "bias", EGGER, "--measure", "RR", "--model", "fixed", "--test", "egger-rma",
        "--test", "begg", "--json",
    )  # fmt: skip
    assert set(out["tests"]) == {"egger_rma", "begg"}
    assert close(out["tests"]["egger_rma"]["p"], BIAS["egger2001"]["RR"]["EE"]["egger_rma"]["p"])


def test_bias_below_ten_studies_is_not_assessed(capsys):
    out = run_json(capsys, "bias", HINE, "--measure", "OR", "--trimfill", "--json")
    assert out["note"] == "not assessed (k < 10)"
    assert out["tests"] == {} and out["trimfill"] is None
    out = run_json(capsys, "bias", HINE, "--measure", "OR", "--min-k", "5", "--json")
    assert out["assessed"] and "lowered to 5" in out["note"]


def test_bias_text_output(capsys):
    assert main(["bias", EGGER, "--measure", "OR", "--test", "egger", "--trimfill"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("OR: k = 16") and "egger: statistic" in text
    assert "trim-and-fill:" in text


def test_bias_rejects_bad_options(capsys):
    with pytest.raises(SystemExit):
        main(["bias", EGGER, "--measure", "OR", "--test", "funnel"])
    assert main(["bias", EGGER, "--measure", "OR", "--min-k", "2"]) == 2
    assert "min_k must be at least 3" in capsys.readouterr().err


def test_pool_q_profile_keys_only_with_tau2(capsys):
    bcg = str(SHARED_DIR / "reference" / "bcg.csv")
    plain = run_json(capsys, "pool", bcg, "--measure", "RR", "--json")
    assert "tau2_ci_low" not in plain
    out = run_json(capsys, "pool", bcg, "--measure", "RR", "--tau2", "PM", "--json")
    expected = HETEROGENEITY["bcg"]["RR"]["PM"]
    for key in ("tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high"):
        assert close(out[key], expected[key]), key


def test_pool_prediction_interval_and_adhoc(capsys):
    bcg = str(SHARED_DIR / "reference" / "bcg.csv")
    expected = HETEROGENEITY["bcg"]["OR"]["REML"]
    out = run_json(
        capsys, "pool", bcg, "--measure", "OR", "--tau2", "REML", "--pi", "t-k2", "--json"
    )
    assert close(out["pi_low"], float(np.exp(expected["pi_t_k2"][0])))
    assert close(out["pi_high"], float(np.exp(expected["pi_t_k2"][1])))
    out = run_json(
        capsys, "pool", bcg, "--measure", "OR", "--tau2", "REML", "--hksj-adhoc", "--json"
    )
    assert out["hksj"] and out["test"] == "t" and out["statistic"] == out["z"]
    assert close(out["ci_low"], float(np.exp(expected["adhoc"]["ci_low"])))


@pytest.fixture
def bcg_with_covariates(tmp_path):
    frame = pd.read_csv(SHARED_DIR / "reference" / "bcg.csv")
    covariates = covariates_frame()
    path = tmp_path / "bcg_mods.csv"
    frame.assign(ablat=covariates["ablat"], alloc=covariates["alloc"]).to_csv(path, index=False)
    return str(path)


def test_pool_mods_json(capsys, bcg_with_covariates):
    out = run_json(
        capsys, "pool", bcg_with_covariates, "--measure", "RR", "--tau2", "REML",
        "--mods", "ablat", "--json",
    )  # fmt: skip
    expected = METAREG["ablat"]["REML"]["z"]
    assert [c["name"] for c in out["coefficients"]] == ["intrcpt", "ablat"]
    for got, want in zip(out["coefficients"], expected["coefficients"], strict=True):
        assert set(got) == {"name", "estimate", "se", "ci_low", "ci_high", "statistic", "p"}
        for key in ("estimate", "se", "ci_low", "ci_high", "statistic", "p"):
            assert close(got[key], want[key]), key
    for key in ("qm", "qm_p", "r2"):
        assert close(out[key], expected[key]), key
    assert out["qm_df"] == [1]
    assert close(out["estimate"], float(np.exp(-0.7145323)), 1e-6)  # the pooled RR stays


def test_pool_categorical_mods_with_knapp_hartung(capsys, bcg_with_covariates):
    out = run_json(
        capsys, "pool", bcg_with_covariates, "--measure", "RR", "--tau2", "DL", "--hksj",
        "--mods", "alloc", "--json",
    )  # fmt: skip
    expected = METAREG["alloc"]["DL"]["knha"]
    assert out["qm_df"] == expected["qm_df"]
    assert close(out["qm"], expected["qm"]) and close(out["qm_p"], expected["qm_p"])
    assert out["warnings"]  # 13 studies for 2 dummy covariates


def test_pool_mods_missing_column_names_file_and_column(capsys, bcg_with_covariates):
    code = main(["pool", bcg_with_covariates, "--measure", "RR", "--mods", "latitude"])
    assert code == 2
    err = capsys.readouterr().err
    assert "bcg_mods.csv" in err and "latitude" in err


def test_pool_revman5_convention(capsys):
    path = str(LOCAL_DIR / "nielweise2007.csv")
    out = run_json(
        capsys, "pool", path, "--measure", "RD", "--method", "MH", "--model", "fixed",
        "--convention", "revman5", "--json",
    )  # fmt: skip
    expected = reference("revman5")["results"]["nielweise2007"]["RD"]["MH_fixed"]
    assert close(out["estimate"], expected["estimate"]) and close(out["se"], expected["se"])


def test_bias_revman5_convention_tests_revmans_study_effects(capsys):
    """``--convention revman5`` runs the tests on RevMan's RD (zero cells kept), as the
    workflow does for a revman5 review: metafor's regtest/ranktest on those effects."""
    path = str(LOCAL_DIR / "nielweise2007.csv")
    argv = ["bias", path, "--measure", "RD", "--tau2", "REML", "--min-k", "3", "--json"]
    revman = run_json(capsys, *argv, "--convention", "revman5")
    expected = reference("revman5")["bias"]["nielweise2007"]["RD"]["REML"]
    for name in ("egger", "egger_rma", "begg"):
        for key, value in expected[name].items():
            assert close(revman["tests"][name][key], value), (name, key)
    metafor = run_json(capsys, *argv)
    assert not close(metafor["tests"]["egger"]["statistic"], expected["egger"]["statistic"])
