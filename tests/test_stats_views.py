"""The configured view beside the Cochrane 2025 view (REML, Q-profile, HKSJ, t PI)."""

from __future__ import annotations

from livingmeta.stats import pool, tau2_confint
from livingmeta.stats.views import two_views
from tests.stats_reference import close, dataset, reference
from tests.test_stats_reference_review import seed_data

MODERN = reference("heterogeneity_ci")["results"]


def test_modern_view_is_metafors_reml_knha_fit():
    views = two_views(dataset("bcg"), {"measure": "OR", "method": "MH", "model": "random"})
    expected = MODERN["bcg"]["OR"]["REML"]
    assert views.configured.method == "MH" and views.configured.tau2_method == "DL"
    assert views.modern.tau2_method == "REML" and views.modern.statistic_name == "t"
    assert close(views.modern.tau2, expected["tau2"])
    assert close(views.modern.se, expected["hksj_se"])
    assert close(views.tau2_interval.tau2_low, expected["tau2_ci_low"])
    assert views.explanation is None and not views.conclusions_differ


def test_explanation_when_conclusions_differ(seed_dir):
    """The reference review's mortality outcome: significant with RevMan's DL z interval
    (OR 0.39 [0.16, 0.93]), not with HKSJ on 3 df."""
    data = seed_data(seed_dir)["mortality_90d"]
    configured = pool(data, "OR", "MH", "random")
    views = two_views(data, {"measure": "OR", "method": "MH", "model": "random"})
    assert (configured.ci_high < 0) != (views.modern.ci_high < 0)
    assert views.conclusions_differ
    assert "Hartung-Knapp-Sidik-Jonkman" in views.explanation
    assert f"{views.modern.df} df" in views.explanation
    assert tau2_confint(views.modern).tau2_high > 0
