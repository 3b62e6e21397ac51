"""The sequential monitoring chart: what it draws, checked on its artists."""

from __future__ import annotations

import numpy as np
import pytest

from livingmeta.plots.save import render
from livingmeta.plots.sequential import CONVENTIONAL_Z, Z_LIMIT, sequential_plot
from livingmeta.stats.sequential import futility_bounds, monitor, monitoring_bounds

LOOKS = [("2017", 300.0, 1.0), ("2019", 700.0, 2.0), ("2021", 1200.0, 2.2)]
RIS = 1000.0


def lines(fig) -> dict:
    (ax,) = fig.axes
    return {line.get_label(): line for line in ax.get_lines()}


def test_z_curve_boundaries_and_conventional_lines() -> None:
    fig = sequential_plot(LOOKS, RIS, title="Mortality", favours=("Favours A", "Favours B"))
    drawn = lines(fig)
    z_curve = drawn["z-curve"]
    assert list(z_curve.get_xdata()) == [300.0, 700.0, 1200.0]
    assert list(z_curve.get_ydata()) == [1.0, 2.0, 2.2]
    # boundaries at the looks and at the RIS, as monitor() judges them, then flat beyond
    judged = monitor(LOOKS, RIS)
    upper = drawn["monitoring-upper"]
    assert list(upper.get_xdata()) == pytest.approx([300.0, 700.0, 1000.0, 1200.0 * 1.08])
    expected = monitoring_bounds([0.3, 0.7, 1.0]).upper
    assert list(upper.get_ydata()) == pytest.approx([*expected, expected[-1]])
    assert upper.get_ydata()[0] == pytest.approx(judged[0].upper)
    assert upper.get_ydata()[2] == pytest.approx(judged[2].upper)  # beyond the RIS
    assert list(drawn["monitoring-lower"].get_ydata()) == pytest.approx(
        [-z for z in upper.get_ydata()]
    )
    for role, sign in (("upper", 1), ("lower", -1)):
        assert set(drawn[f"conventional-{role}"].get_ydata()) == {sign * CONVENTIONAL_Z}
    assert set(drawn["ris"].get_xdata()) == {RIS}
    (ax,) = fig.axes
    texts = {t.get_label(): t.get_text() for t in ax.texts if t.get_label().startswith(("ris",))}
    assert texts == {"ris-text": " RIS = 1,000"}
    assert [t.get_text() for t in ax.texts if t.get_label() == "favours"] == [
        "Favours A",
        "Favours B",
    ]
    annotations = [t.get_text() for t in ax.texts if t.get_text() in {"2017", "2019", "2021"}]
    assert annotations == ["2017", "2019", "2021"]
    assert ax.get_xlabel() == "Cumulative number of participants"
    assert ax.get_ylabel() == "Cumulative Z-score"
    assert ax.get_ylim() == (-Z_LIMIT, Z_LIMIT)
    assert fig.texts[0].get_text() == "Mortality"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "Cumulative Z-curve",
        "Monitoring boundaries",
        "Conventional boundaries (±1.96)",
        "Futility boundaries",
    ]


def test_futility_wedge_follows_beta_spending() -> None:
    fig = sequential_plot(LOOKS, RIS, beta=0.1)
    drawn = lines(fig)
    bounds = monitoring_bounds([0.3, 0.7, 1.0])
    futility, _ = futility_bounds(bounds, 0.1)
    inside = [(x, a) for x, a in zip((300.0, 700.0, 1000.0), futility, strict=True) if a > 0]
    wedge = drawn["futility-upper"]
    assert list(wedge.get_xdata()) == [x for x, _ in inside]
    assert list(wedge.get_ydata()) == pytest.approx([a for _, a in inside])
    assert list(drawn["futility-lower"].get_ydata()) == pytest.approx([-a for _, a in inside])
    # the wedge closes on the monitoring boundary at the RIS (power 1 - beta)
    assert wedge.get_ydata()[-1] == pytest.approx(bounds.upper[-1], rel=1e-6)
    (ax,) = fig.axes
    assert [c.get_label() for c in ax.collections] == ["futility-wedge"]


def test_without_beta_there_is_no_futility_wedge() -> None:
    fig = sequential_plot(LOOKS, RIS, beta=None)
    assert not any(label.startswith("futility") for label in lines(fig))
    (ax,) = fig.axes
    assert len(ax.collections) == 0
    assert "Futility boundaries" not in [t.get_text() for t in ax.get_legend().get_texts()]


def test_extreme_values_stay_on_the_chart_and_renders_reproducibly() -> None:
    looks = [("first", 20.0, 9.5)]  # the first OBF bound at 2% of the RIS is far above 8
    fig = sequential_plot(looks, RIS)
    drawn = lines(fig)
    assert drawn["z-curve"].get_ydata()[0] == Z_LIMIT
    assert np.all(np.abs(drawn["monitoring-upper"].get_ydata()) <= Z_LIMIT * 1.5)
    again = sequential_plot(looks, RIS)
    assert render(fig, "svg") == render(again, "svg")


def test_invalid_information_size_is_refused() -> None:
    with pytest.raises(ValueError, match="information_size must be positive"):
        sequential_plot(LOOKS, 0)
