"""`livingmeta pool`: the JSON contract and error handling."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from livingmeta.cli import main
from livingmeta.config import REPO_ROOT

REVIEW_TABLE = str(REPO_ROOT / "reviews" / "rescue_stenting" / "extraction.csv")

JSON_KEYS = {
    "measure", "method", "model", "tau2_method", "hksj", "k", "estimate", "ci_low", "ci_high",
    "z", "p", "q", "df", "p_q", "i2", "tau2", "pi_low", "pi_high", "studies",
}  # fmt: skip


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_pool_json_matches_metafor_reference(capsys, reference_dir):
    argv = ["--measure", "RR", "--method", "IV", "--model", "random", "--tau2", "REML", "--hksj"]
    out = run_json(capsys, "pool", str(reference_dir / "bcg.csv"), *argv, "--json")
    expected = json.loads((reference_dir / "bcg.json").read_text())["results"]["RR"][
        "IV_random_REML_hksj"
    ]
    assert set(out) >= JSON_KEYS
    for key in ("estimate", "ci_low", "ci_high", "z", "p", "q", "tau2", "i2", "pi_low", "pi_high"):
        assert math.isclose(out[key], expected[key], rel_tol=1e-6), key
    assert out["k"] == expected["k"] and out["hksj"] is True and out["tau2_method"] == "REML"
    assert set(out["studies"][0]) >= {"study", "estimate", "ci_low", "ci_high", "weight"}
    assert math.isclose(sum(s["weight"] for s in out["studies"]), 100.0)


def test_pool_revman_mh_random_and_mh_exact(capsys, reference_dir):
    path = str(reference_dir / "egger2001.csv")
    ref = json.loads((reference_dir / "egger2001.json").read_text())["results"]["OR"]
    revman = run_json(
        capsys, "pool", path, "--measure", "OR", "--method", "MH", "--model", "random", "--json"
    )
    assert math.isclose(revman["estimate"], ref["MH_random_revman"]["estimate"], rel_tol=1e-6)
    exact = run_json(
        capsys,
        "pool",
        path,
        "--measure",
        "OR",
        "--method",
        "MH",
        "--model",
        "fixed",
        "--mh-exact",
        "--json",
    )
    assert math.isclose(exact["estimate"], ref["MH_fixed"]["estimate"], rel_tol=1e-6)
    assert exact["pi_low"] is None and exact["tau2_method"] is None


def test_pool_continuous_smd(capsys, reference_dir):
    out = run_json(
        capsys,
        "pool",
        str(reference_dir / "normand1999.csv"),
        "--measure",
        "SMD",
        "--model",
        "fixed",
        "--json",
    )
    ref = json.loads((reference_dir / "normand1999.json").read_text())["results"]["SMD"]["IV_fixed"]
    assert math.isclose(out["estimate"], ref["estimate"], rel_tol=1e-6)


def test_pool_selects_outcome_from_review_table(capsys):
    out = run_json(capsys, "pool", REVIEW_TABLE, "--measure", "OR", "--method", "MH",
                   "--outcome", "mortality_90d", "--json")  # fmt: skip
    assert round(out["estimate"], 6) == 0.385331 and round(out["i2"], 2) == 43.34


def test_pool_requires_outcome_when_several(capsys):
    assert main(["pool", REVIEW_TABLE, "--measure", "OR"]) == 2
    assert "use --outcome" in capsys.readouterr().err


def test_readable_table(capsys, reference_dir):
    assert (
        main(["pool", str(reference_dir / "hine1989.csv"), "--measure", "RD", "--method", "MH"])
        == 0
    )
    out = capsys.readouterr().out
    assert "RD [M-H, Random, 95% CI]" in out and "Heterogeneity: Tau²" in out and "Total" in out


def test_bad_input_exits_nonzero_with_report_on_stderr(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "study,events_treat,total_treat,events_ctrl,total_ctrl\nA,5,4,1,10\nB,x,10,1,10\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "livingmeta.cli", "pool", str(bad), "--measure", "OR", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{bad}, row 2, column 'events_treat': 5 events exceed the total of 4" in proc.stderr
    assert f"{bad}, row 3, column 'events_treat': 'x' is not a number" in proc.stderr


def test_invalid_choice_is_rejected_by_argparse():
    with pytest.raises(SystemExit) as info:
        main(["pool", "x.csv", "--measure", "HR"])
    assert info.value.code == 2


TAU2_REFERENCE = REPO_ROOT / "tests" / "reference" / "tau2_estimators.json"


def test_pool_level_90_matches_metafor(capsys, reference_dir):
    """``--level 90`` reaches every interval: CI, prediction interval and the Q-profile CI
    of tau2 (metafor ``rma(method = "ML", level = 90)``, ``predict()``, ``confint()``)."""
    path = str(reference_dir / "bcg.csv")
    argv = ["pool", path, "--measure", "RR", "--method", "IV", "--tau2", "ML", "--json"]
    out = run_json(capsys, *argv, "--level", "90")
    default = run_json(capsys, *argv)
    expected = json.loads(TAU2_REFERENCE.read_text())["datasets"]["bcg"]["results"]["RR"]
    fit, ci = expected["ML_level90"]["z"], expected["ML_level90"]["confint"]
    assert set(out) == set(default)  # the JSON keeps its keys
    assert out["level"] == pytest.approx(0.90) and default["level"] == 0.95
    for key in ("ci_low", "ci_high", "pi_low", "pi_high"):  # ratio scale in the JSON
        assert math.isclose(math.log(out[key]), fit[key], rel_tol=1e-4), key
    for key in ("tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high"):
        assert math.isclose(out[key], ci[key], rel_tol=1e-4), key
    assert out["estimate"] == default["estimate"] and out["ci_low"] > default["ci_low"]
    assert main([*argv[:-1], "--level", "90"]) == 0
    assert "RR [IV, Random (ML), 90% CI]" in capsys.readouterr().out


@pytest.mark.parametrize("level", ["0.9", "50", "100", "101", "-95", "nan", "ninety"])
def test_pool_rejects_an_invalid_level(level, capsys, reference_dir):
    with pytest.raises(SystemExit) as info:
        main(["pool", str(reference_dir / "bcg.csv"), "--measure", "RR", "--level", level])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --level: must be a confidence level in percent between 50 and 100" in err
    assert repr(level) in err


def test_pool_tau2_method_is_an_alias_of_tau2(capsys, reference_dir):
    path = str(reference_dir / "bcg.csv")
    base = ["pool", path, "--measure", "RR", "--json"]
    assert run_json(capsys, *base, "--tau2-method", "SJ") == run_json(capsys, *base, "--tau2", "SJ")
