"""The Cochrane 2025 view against metafor (tests/reference/heterogeneity_ci.json):
Q-profile intervals for tau2, I2 and H2 (``confint``), HKSJ with the ad hoc correction
(``test = "adhoc"``), prediction intervals on z, t(k - 1) and t(k - 2), and the tau2
estimators themselves (Paule-Mandel on metafor's root)."""

from __future__ import annotations

import pytest

from livingmeta.stats import pool
from livingmeta.stats.pooling import prediction_interval
from livingmeta.stats.tau2_ci import tau2_confint
from tests.stats_reference import close, dataset, reference

RESULTS = reference("heterogeneity_ci")["results"]
CASES = [
    (name, measure, method)
    for name, measures in RESULTS.items()
    for measure, methods in measures.items()
    for method in methods
]
# The interval ends are R's uniroot roots (tolerance eps^0.25); taking the same steps
# lands on the same points, so they are held to the closed-form tolerance too.
CI_KEYS = ("tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high", "h2_ci_low", "h2_ci_high")


def fit(name, measure, method, **options):
    return pool(dataset(name), measure, "IV", "random", method, **options)


def test_cases_cover_all_datasets_and_estimators():
    assert len(CASES) == 42
    assert {m for _, _, m in CASES} == {"DL", "REML", "PM"}


@pytest.mark.parametrize(("name", "measure", "method"), CASES, ids=["-".join(c) for c in CASES])
def test_tau2_and_q_profile_interval(name, measure, method):
    expected = RESULTS[name][measure][method]
    result = fit(name, measure, method)
    assert close(result.tau2, expected["tau2"]), (result.tau2, expected["tau2"])
    assert close(result.i2_tau2, expected["i2"])
    ci = tau2_confint(result)
    got = dict(
        zip(
            CI_KEYS,
            (ci.tau2_low, ci.tau2_high, ci.i2_low, ci.i2_high, ci.h2_low, ci.h2_high),
            strict=True,
        )
    )
    for key in CI_KEYS:
        assert close(got[key], expected[key]), (key, got[key], expected[key])


@pytest.mark.parametrize(("name", "measure", "method"), CASES, ids=["-".join(c) for c in CASES])
def test_hksj_adhoc(name, measure, method):
    expected = RESULTS[name][measure][method]
    result = fit(name, measure, method, hksj_adhoc=True)
    plain = fit(name, measure, method, hksj=True)
    for key, value in expected["adhoc"].items():
        actual = {
            "se": result.se,
            "ci_low": result.ci_low,
            "ci_high": result.ci_high,
            "statistic": result.statistic,
            "p": result.p,
        }[key]
        assert close(actual, value), (key, actual, value)
    assert close(plain.se, expected["hksj_se"])
    assert result.se >= fit(name, measure, method).se * (1 - 1e-12)


@pytest.mark.parametrize(("name", "measure", "method"), CASES, ids=["-".join(c) for c in CASES])
def test_prediction_interval_variants(name, measure, method):
    expected = RESULTS[name][measure][method]
    for pi_method, key in (("z", "pi_z"), ("t-k1", "pi_t_k1"), ("t-k2", "pi_t_k2")):
        result = fit(name, measure, method, pi_method=pi_method)
        if expected.get(key) is None:
            assert result.pi_low is None and result.pi_high is None
            continue
        assert close(result.pi_low, expected[key][0]), (pi_method, result.pi_low)
        assert close(result.pi_high, expected[key][1]), (pi_method, result.pi_high)


def test_default_prediction_interval_is_metafors():
    """z for plain fits and t on k - 1 df with HKSJ, as metafor's predict()."""
    result = fit("bcg", "OR", "REML")
    assert (result.pi_low, result.pi_high) == prediction_interval(
        result.estimate, result.se, result.tau2, result.k, method="z"
    )
    hksj = fit("bcg", "OR", "REML", hksj=True)
    assert (hksj.pi_low, hksj.pi_high) == prediction_interval(
        hksj.estimate, hksj.se, hksj.tau2, hksj.k, method="t-k1"
    )


def test_paule_mandel_lands_on_metafors_root_tightly():
    """Same uniroot steps: far closer than uniroot's own tolerance (about 1.2e-4)."""
    worst = 0.0
    for name, measure, method in CASES:
        if method == "PM":
            expected = RESULTS[name][measure][method]["tau2"]
            if expected > 0:
                worst = max(worst, abs(fit(name, measure, method).tau2 - expected) / expected)
    assert worst < 1e-8


def test_tau2_interval_needs_random_effects():
    with pytest.raises(ValueError, match="random-effects"):
        tau2_confint(pool(dataset("bcg"), "OR", "IV", "fixed"))
