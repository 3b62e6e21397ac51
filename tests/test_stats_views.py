"""The configured view beside the Cochrane 2025 view (REML, Q-profile, HKSJ with the ad hoc
correction, t prediction interval), against metafor's ``rma(test = "adhoc")`` and
``predict()`` (tests/reference/heterogeneity_ci.json, revman5.json)."""

from __future__ import annotations

import pytest

from livingmeta.stats import pool, tau2_confint
from livingmeta.stats.views import modern_view, two_views
from tests.stats_reference import close, dataset, reference
from tests.test_stats_reference_review import seed_data

MODERN = reference("heterogeneity_ci")["results"]
REVMAN_MODERN = reference("revman5")["modern"]
CASES = [(name, measure) for name, measures in MODERN.items() for measure in measures]
REVMAN_CASES = [(name, m) for name, measures in REVMAN_MODERN.items() for m in measures]


def test_cases_cover_binary_and_continuous_measures():
    assert {m for _, m in CASES} == {"OR", "RR", "RD", "MD", "SMD"}
    assert {m for _, m in REVMAN_CASES} == {"RD", "SMD"}


def test_ad_hoc_correction_matters_in_the_reference_data():
    """Some cases have a Knapp-Hartung factor below 1, so the tests below can tell the
    ad hoc fit from the plain one."""
    widened = [
        (n, m)
        for n, m in CASES
        if MODERN[n][m]["REML"]["adhoc"]["se"] > MODERN[n][m]["REML"]["hksj_se"]
    ]
    assert len(widened) >= 3


@pytest.mark.parametrize(("name", "measure"), CASES, ids=["-".join(c) for c in CASES])
def test_modern_view_is_metafors_reml_adhoc_fit(name, measure):
    expected = MODERN[name][measure]["REML"]
    result = modern_view(dataset(name), measure)
    assert result.tau2_method == "REML" and result.statistic_name == "t"
    for key in ("se", "ci_low", "ci_high", "statistic", "p"):
        assert close(getattr(result, key), expected["adhoc"][key]), key
    # predict() on the same fit: t on k - 1 df around the ad hoc SE.
    assert close(result.pi_low, expected["pi_adhoc"][0])
    assert close(result.pi_high, expected["pi_adhoc"][1])


@pytest.mark.parametrize(("name", "measure"), CASES, ids=["-".join(c) for c in CASES])
def test_modern_view_options(name, measure):
    """Plain HKSJ (metafor test = "knha") and the t(k - 2) prediction interval."""
    expected = MODERN[name][measure]["REML"]
    plain = modern_view(dataset(name), measure, hksj_adhoc=False)
    assert close(plain.se, expected["hksj_se"])
    assert close(plain.pi_low, expected["pi_knha"][0])
    assert close(plain.pi_high, expected["pi_knha"][1])
    k2 = modern_view(dataset(name), measure, pi_method="t-k2")
    if expected.get("pi_adhoc_t_k2") is None:
        assert k2.pi_low is None
    else:
        assert close(k2.pi_low, expected["pi_adhoc_t_k2"][0])
        assert close(k2.pi_high, expected["pi_adhoc_t_k2"][1])


@pytest.mark.parametrize(("name", "measure"), REVMAN_CASES, ids=["-".join(c) for c in REVMAN_CASES])
def test_modern_view_pools_the_reviews_study_effects(name, measure):
    """With convention revman5 both views pool RevMan's RD / Hedges' g."""
    expected = REVMAN_MODERN[name][measure]
    configured = {"measure": measure, "method": "IV", "model": "random", "convention": "revman5"}
    modern = two_views(dataset(name), configured).modern
    for key in ("estimate", "se", "ci_low", "ci_high", "tau2", "pi_low", "pi_high"):
        assert close(getattr(modern, key), expected[key]), (key, getattr(modern, key))


def test_two_views_configured_and_modern():
    views = two_views(dataset("bcg"), {"measure": "OR", "method": "MH", "model": "random"})
    expected = MODERN["bcg"]["OR"]["REML"]
    assert views.configured.method == "MH" and views.configured.tau2_method == "DL"
    assert views.hksj_adhoc
    assert close(views.modern.tau2, expected["tau2"])
    assert close(views.modern.se, expected["adhoc"]["se"])
    assert close(views.tau2_interval.tau2_low, expected["tau2_ci_low"])
    assert views.explanation is None and not views.conclusions_differ


def test_ad_hoc_view_is_never_narrower_than_wald(seed_dir):
    """The reference review's sICH outcome: tau2 = 0 and studies that agree closely, so
    plain HKSJ would be 2.6 times narrower than the Wald interval."""
    data = seed_data(seed_dir)["sich"]
    wald = pool(data, "OR", "IV", "random", "REML")
    plain = modern_view(data, "OR", hksj_adhoc=False)
    adhoc = modern_view(data, "OR")
    assert plain.se < 0.5 * wald.se
    assert adhoc.se == pytest.approx(wald.se, rel=1e-12)
    assert adhoc.ci_high - adhoc.ci_low > wald.ci_high - wald.ci_low


def test_explanation_when_conclusions_differ(seed_dir):
    """The reference review's mortality outcome: significant with RevMan's DL z interval
    (OR 0.39 [0.16, 0.93]), not with HKSJ on 3 df."""
    data = seed_data(seed_dir)["mortality_90d"]
    configured = pool(data, "OR", "MH", "random")
    views = two_views(data, {"measure": "OR", "method": "MH", "model": "random"})
    assert (configured.ci_high < 0) != (views.modern.ci_high < 0)
    assert views.conclusions_differ
    assert "Hartung-Knapp-Sidik-Jonkman" in views.explanation
    assert "never narrower than the Wald interval" in views.explanation
    assert f"{views.modern.df} df" in views.explanation
    assert tau2_confint(views.modern).tau2_high > 0


def test_explanation_names_a_moved_estimate():
    """egger2001 (Egger 2001's magnesium trials): the fixed-effect OR is near 1, the
    random-effects one far below it with a wider interval; the sentence says the estimate
    moved, not that the interval narrowed."""
    views = two_views(dataset("egger2001"), {"measure": "OR", "method": "IV", "model": "fixed"})
    configured, modern = views.configured, views.modern
    assert views.conclusions_differ and modern.ci_high < 0 < configured.ci_high
    assert modern.ci_high - modern.ci_low > configured.ci_high - configured.ci_low
    assert "further from no effect" in views.explanation
    assert "narrower" not in views.explanation
