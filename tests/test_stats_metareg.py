"""Meta-regression and subgroups with a common tau2 against metafor
(tests/reference/metareg.json: bcg log risk ratios with its covariates)."""

from __future__ import annotations

import pytest

from livingmeta.stats import escalc, subgroups
from livingmeta.stats.analyses import subgroups_common_tau2
from livingmeta.stats.metareg import design_matrix, meta_regression
from livingmeta.stats.tau2_ci import q_profile
from tests.stats_reference import close, covariates_frame, dataset, reference

REF = reference("metareg")
FORMULAS = {"ablat": ["ablat"], "ablat_year": ["ablat", "year"], "alloc": ["alloc"]}
CASES = [
    (mods, method, test)
    for mods, methods in REF["metareg"].items()
    for method, tests in methods.items()
    for test in tests
]
SCALARS = ("qm", "qm_p", "qe", "qe_df", "qe_p", "tau2", "i2", "h2", "r2", "k")


def bcg_effects():
    es = escalc("RR", dataset("bcg"))
    return es.yi, es.vi


def test_all_formulas_methods_and_tests_covered():
    assert set(REF["metareg"]) == set(FORMULAS)
    assert len(CASES) == 21  # DL, REML, PM with z and knha, and EE, per formula


@pytest.mark.parametrize(("mods", "method", "test"), CASES, ids=["-".join(c) for c in CASES])
def test_meta_regression_matches_metafor(mods, method, test):
    yi, vi = bcg_effects()
    covariates = covariates_frame()
    fit = meta_regression(
        yi, vi, {c: list(covariates[c]) for c in FORMULAS[mods]}, method, test
    ).to_dict()
    expected = REF["metareg"][mods][method][test]
    for key in SCALARS:
        assert close(fit[key], expected[key]), (key, fit[key], expected[key])
    # metafor gives QMdf = c(m, NA) for the chi2 test
    assert fit["qm_df"] == [df for df in expected["qm_df"] if df is not None]
    assert fit["test"] == ("t" if test == "knha" else "z")
    assert [c["name"] for c in fit["coefficients"]] == [c["name"] for c in expected["coefficients"]]
    for got, want in zip(fit["coefficients"], expected["coefficients"], strict=True):
        for key in ("estimate", "se", "statistic", "p", "ci_low", "ci_high"):
            assert close(got[key], want[key]), (got["name"], key, got[key], want[key])


@pytest.mark.parametrize("mods", list(FORMULAS))
@pytest.mark.parametrize("method", ["DL", "REML", "PM"])
def test_q_profile_interval_with_moderators(mods, method):
    yi, vi = bcg_effects()
    covariates = covariates_frame()
    X, _ = design_matrix({c: list(covariates[c]) for c in FORMULAS[mods]})
    expected = REF["metareg"][mods][method]["z"]
    ci = q_profile(yi, vi, expected["tau2"], X=X)
    assert close(ci.tau2_low, expected["tau2_ci"][0]) and close(
        ci.tau2_high, expected["tau2_ci"][1]
    )
    assert close(ci.i2_low, expected["i2_ci"][0]) and close(ci.i2_high, expected["i2_ci"][1])


def test_design_matrix_codes_text_like_r_factors():
    X, names = design_matrix({"alloc": ["random", "alternate", "systematic", "random"]})
    assert names == ("intrcpt", "allocrandom", "allocsystematic")
    assert X.tolist() == [[1, 1, 0], [1, 0, 0], [1, 0, 1], [1, 1, 0]]


def test_warns_below_ten_studies_per_covariate():
    yi, vi = bcg_effects()
    covariates = covariates_frame()
    fit = meta_regression(yi, vi, {"ablat": list(covariates["ablat"])}, "REML")
    assert fit.warnings == ()
    fit = meta_regression(yi, vi, {c: list(covariates[c]) for c in ("ablat", "year")}, "REML")
    assert "fewer than 10 per covariate" in fit.warnings[0]


@pytest.mark.parametrize("method", ["DL", "REML"])
def test_subgroups_separate_tau2_match_metafor(method):
    expected = REF["subgroups"][method]["separate"]
    result = subgroups(
        dataset("bcg", subgroup="alloc"),
        measure="RR",
        method="IV",
        model="random",
        tau2_method=method,
    )
    assert set(result.subgroups) == set(expected["groups"])
    for label, group in result.subgroups.items():
        want = expected["groups"][label]
        for key in ("estimate", "se", "ci_low", "ci_high", "tau2"):
            assert close(getattr(group, key), want[key], 1e-6), (label, key)
    assert close(result.q_between, expected["q_between"])
    assert result.df_between == expected["df_between"]
    assert close(result.p_between, expected["p_between"])


@pytest.mark.parametrize("method", ["DL", "REML"])
def test_subgroups_common_tau2_match_metafor(method):
    expected = REF["subgroups"][method]["common"]
    result = subgroups_common_tau2(dataset("bcg", subgroup="alloc"), "RR", method)
    assert close(result.tau2, expected["tau2"])
    want = {g["name"]: g for g in expected["groups"]}
    assert set(result.groups) == set(want)
    for label, group in result.groups.items():
        for key in ("estimate", "se", "ci_low", "ci_high"):
            assert close(getattr(group, key), want[label][key]), (label, key)
    assert close(result.q_between, expected["q_between"])
    assert result.df_between == expected["df_between"]
    assert close(result.p_between, expected["p_between"])
