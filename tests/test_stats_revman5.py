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
