"""Funnel and bubble plots: what they draw, and that saving them is reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from livingmeta.plots import save_figure
from livingmeta.plots.bubble import bubble_plot
from livingmeta.plots.funnel import funnel_plot
from livingmeta.stats import escalc, meta_regression, pool
from tests.stats_reference import covariates_frame, dataset


def graph(fig: Figure, label: str):
    return next(ax for ax in fig.axes if ax.get_label() == label)


def test_funnel_draws_studies_against_reversed_standard_errors():
    result = pool(dataset("egger2001"), "OR", "IV", "fixed")
    ax = graph(funnel_plot(result, title="Mortality"), "funnel")
    points = ax.collections[-1].get_offsets()
    assert len(points) == result.k
    sei = np.sqrt([s.vi for s in result.studies if s.estimable])
    assert np.allclose(np.sort(points[:, 1]), np.sort(sei))
    assert np.allclose(np.sort(points[:, 0]), np.sort(np.exp([s.yi for s in result.studies])))
    low, high = ax.get_ylim()
    assert low > high == 0  # SE axis reversed: precise studies at the top
    assert ax.get_xscale() == "log"
    assert ax.get_ylabel() == "SE(log[OR])"


def test_pseudo_confidence_limits_meet_at_the_pooled_estimate():
    result = pool(dataset("normand1999"), "SMD", "IV", "random")
    ax = graph(funnel_plot(result), "funnel")
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 2
    for line in dashed:
        x, y = line.get_data()
        assert y[0] == 0 and x[0] == pytest.approx(result.estimate)
        assert abs(x[-1] - result.estimate) == pytest.approx(1.959964 * y[-1], rel=1e-6)
    assert ax.get_xscale() == "linear"


def test_contour_enhanced_shades_three_regions_around_the_null():
    result = pool(dataset("egger2001"), "OR", "IV", "fixed")
    ax = graph(funnel_plot(result, contours=True), "funnel")
    shaded = [c for c in ax.collections if c.get_label().startswith("P = ")]
    assert [c.get_label() for c in shaded] == ["P = 0.01", "P = 0.05", "P = 0.1"]
    assert len(ax.get_legend().get_texts()) == 4


def test_funnel_saves_byte_identical_files(tmp_path):
    result = pool(dataset("bcg"), "RR", "IV", "random", "REML")
    first = save_figure(funnel_plot(result), tmp_path / "a", ["png", "svg"])
    second = save_figure(funnel_plot(result), tmp_path / "b", ["png", "svg"])
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes() and a.stat().st_size > 1000


def test_bubble_plot_sizes_bubbles_by_random_effects_weight():
    es = escalc("RR", dataset("bcg"))
    ablat = covariates_frame()["ablat"].to_numpy(dtype=float)
    fit = meta_regression(es.yi, es.vi, {"ablat": ablat}, "REML")
    fig = bubble_plot(es.yi, es.vi, ablat, fit, measure="RR", xlabel="Absolute latitude")
    ax = graph(fig, "bubble")
    bubbles = ax.collections[-1]
    weights = 1 / (es.vi + fit.tau2)
    assert np.allclose(bubbles.get_sizes(), 400 * weights / weights.max())
    x, line = ax.lines[0].get_data()
    slope = fit.coefficients[1].estimate
    assert np.allclose(np.diff(line) / np.diff(x), slope)
    assert ax.get_ylabel() == "log RR"


def test_bubble_plot_needs_one_moderator():
    es = escalc("RR", dataset("bcg"))
    covariates = covariates_frame()
    fit = meta_regression(es.yi, es.vi, {c: covariates[c] for c in ("ablat", "year")}, "DL")
    with pytest.raises(ValueError, match="one numeric moderator"):
        bubble_plot(es.yi, es.vi, covariates["ablat"], fit)
