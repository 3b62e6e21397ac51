"""RevMan 5 conventions (tests/reference/revman5.json): the observed risk difference of
zero-cell studies with 0.5 only in its SE, the Greenland-Robins variance of the M-H risk
difference, and RevMan's Hedges' g; metafor's forms stay the default."""

from __future__ import annotations

import numpy as np
import pytest

from livingmeta.stats import escalc, pool
from tests.stats_reference import close, dataset, reference

REF = reference("revman5")
RESULTS = REF["results"]
CASES = [(name, measure) for name, measures in RESULTS.items() for measure in measures]
KEYS = {
    "IV_fixed": {"method": "IV", "model": "fixed"},
    "IV_random_DL": {"method": "IV", "model": "random", "tau2_method": "DL"},
    "MH_fixed": {"method": "MH", "model": "fixed"},
    "MH_random": {"method": "MH", "model": "random"},
}
FIELDS = ("k", "estimate", "se", "ci_low", "ci_high", "statistic", "p", "q", "tau2")


def test_zero_cell_datasets_are_covered():
    assert {"nielweise2007", "egger2001", "normand1999"} <= set(RESULTS)
    data = dataset("nielweise2007")
    assert np.any(data.events_treat == 0) and np.any(
        (data.events_treat == 0) & (data.events_ctrl == 0)
    )


@pytest.mark.parametrize(("name", "measure"), CASES, ids=["-".join(c) for c in CASES])
def test_study_effects(name, measure):
    expected = RESULTS[name][measure]["studies"]
    es = escalc(measure, dataset(name), convention="revman5")
    assert all(close(a, e) for a, e in zip(es.yi, expected["yi"], strict=True))
    assert all(close(a, e) for a, e in zip(es.vi, expected["vi"], strict=True))


@pytest.mark.parametrize(("name", "measure"), CASES, ids=["-".join(c) for c in CASES])
def test_pooled(name, measure):
    for key, expected in RESULTS[name][measure].items():
        if key == "studies":
            continue
        result = pool(dataset(name), measure, convention="revman5", **KEYS[key])
        for field in FIELDS:
            actual = getattr(result, field)
            assert close(actual, expected[field]), (key, field, actual, expected[field])


def test_observed_risk_difference_of_a_zero_cell_study():
    """0/20 vs 3/20 is -0.15 in RevMan (metafor's 0.5 correction gives -0.143)."""
    from livingmeta.stats import BinaryData

    data = BinaryData(("A",), [0], [20], [3], [20])
    assert escalc("RD", data, convention="revman5").yi[0] == pytest.approx(-0.15)
    assert escalc("RD", data).yi[0] == pytest.approx(0.5 / 21 - 3.5 / 21)


@pytest.mark.parametrize("name", ["bcg", "egger2001", "hine1989", "nielweise2007"])
def test_mh_rd_variance_options(name):
    """Sato's variance (metafor rma.mh) with the metafor convention and on request."""
    expected = REF["mh_rd_sato"][name]
    data = dataset(name)
    result = pool(data, "RD", "MH", "fixed", mh_exact=True)
    assert close(result.estimate, expected["estimate"]) and close(result.se, expected["se"])
    gr = pool(data, "RD", "MH", "fixed", convention="revman5")
    assert close(gr.se, RESULTS[name]["RD"]["MH_fixed"]["se"])
    sato = pool(
        data, "RD", "MH", "fixed", mh_exact=True, mh_rd_variance="sato", convention="revman5"
    )
    assert close(sato.se, expected["se"])


def test_mh_random_refuses_other_tau2_estimators():
    with pytest.raises(ValueError, match="DerSimonian-Laird"):
        pool(dataset("bcg"), "OR", "MH", "random", "REML")


def test_unknown_convention_is_refused():
    with pytest.raises(ValueError, match="convention must be one of metafor, revman5"):
        pool(dataset("bcg"), "OR", convention="stata")


BIAS = REF["bias"]
BIAS_CASES = [
    (name, measure, fit)
    for name, measures in BIAS.items()
    for measure, fits in measures.items()
    for fit in fits
]


def test_bias_cases_cover_zero_cell_rd_and_revmans_g():
    assert ("nielweise2007", "RD", "REML") in BIAS_CASES
    assert ("normand1999", "SMD", "DL") in BIAS_CASES


@pytest.mark.parametrize(
    ("name", "measure", "fit"), BIAS_CASES, ids=["-".join(c) for c in BIAS_CASES]
)
def test_small_study_effects_on_revmans_study_effects(name, measure, fit):
    """With convention revman5 the tests and trim-and-fill run on the effects the review
    pools (metafor's regtest, ranktest and trimfill on RevMan's RD and Hedges' g)."""
    from livingmeta.stats import small_study_effects

    expected = BIAS[name][measure][fit]
    result = small_study_effects(
        dataset(name), measure, tau2_method=fit, with_trimfill=True, min_k=3, convention="revman5"
    ).to_dict()
    for test in ("egger", "egger_rma", "begg", "peters"):
        if test not in expected:
            assert test not in result["tests"]
            continue
        for key, value in expected[test].items():
            assert close(result["tests"][test][key], value), (test, key)
    tf = result["trimfill"]
    assert tf["k0"] == expected["trimfill"]["k0"] and tf["side"] == expected["trimfill"]["side"]
    for key in ("estimate", "ci_low", "ci_high"):
        assert close(tf[key], expected["trimfill"][key]), key


def test_conventions_give_different_small_study_results():
    """The convention reaches the tests: zero-cell RDs move Egger's statistic."""
    from livingmeta.stats import small_study_effects

    def egger(convention):
        result = small_study_effects(
            dataset("nielweise2007"), "RD", tests=["egger"], min_k=3, convention=convention
        )
        return result.tests["egger"].statistic

    assert abs(egger("revman5") - egger("metafor")) > 1e-3


@pytest.mark.parametrize("convention", ["metafor", "revman5"])
def test_smd_of_one_participant_per_arm_is_not_estimable_without_warnings(convention):
    """No pooled SD exists: the study is not estimable, and numpy says nothing."""
    import warnings

    from livingmeta.stats.effects import continuous_effects

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        es = continuous_effects(
            "SMD", [1.0, 2.0], [1.0, 1.0], [1, 10], [0.0, 1.0], [1.0, 1.0], [1, 10], convention
        )
    assert es.estimable.tolist() == [False, True]
    assert np.isnan(es.yi[0]) and np.isfinite(es.yi[1])
