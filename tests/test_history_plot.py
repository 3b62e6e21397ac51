"""The estimate-over-versions plot has readable axes: date labels that neither overlap nor
repeat however many runs there are, a log axis with a line at no effect for ratios, and a
y label naming the measure and the model. Checked on the Axes objects and on text extents
measured with the bundled font (DejaVu Sans, drawn from its file), never by eye."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from livingmeta.report.history import history_row
from livingmeta.report.history_plot import date_ticks, history_figure, y_label


def history(dates: list[str], estimates: list[float] | None = None) -> pd.DataFrame:
    """One row per run of outcome ``death`` (runs of one day keep their order)."""
    estimates = estimates or [0.5 + 0.01 * i for i in range(len(dates))]
    rows = []
    for i, (day, est) in enumerate(zip(dates, estimates, strict=True)):
        result = {
            "measure": "OR",
            "k": 2 + i // 10,
            "estimate": est,
            "ci_low": est / 2 if est > 0 else est - 1,
            "ci_high": est * 2 if est > 0 else est + 1,
            "p": 0.04,
            "i2": 10.0,
            "tau2": 0.01,
        }
        rows.append(history_row(f"{day}T{i:04d}", day, "rs", "death", result))
    return pd.DataFrame(rows)


def bursts(n: int) -> list[str]:
    """``n`` runs over about n / 5 days, several on some days."""
    days = pd.Timestamp("2026-01-01") + pd.to_timedelta(np.arange(n) // 5 * 3, unit="D")
    return [f"{d:%Y-%m-%d}" for d in days]


def extents(fig, texts):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in texts]


def assert_apart(fig, texts):
    for a, b in combinations(extents(fig, texts), 2):
        assert min(a.x1, b.x1) - max(a.x0, b.x0) <= 0.5 or min(a.y1, b.y1) - max(a.y0, b.y0) <= 0.5


def assert_inside(fig, texts):
    width, height = fig.canvas.get_width_height()
    for box in extents(fig, texts):
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height


@pytest.mark.parametrize("n", [1, 7, 40, 400])
@pytest.mark.parametrize("width", [3.2, 6.5])
def test_date_labels_neither_overlap_nor_repeat(n, width):
    dates = bursts(n)
    fig = history_figure(history(dates), "death", "Death", "OR", model="random", width=width)
    ax = fig.axes[0]
    ticks = [int(t) for t in ax.get_xticks()]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert 1 <= len(ticks) <= 7
    assert labels == [dates[i] for i in ticks]  # each tick sits on a run of its date
    assert len(set(labels)) == len(labels)
    assert all(i == 0 or dates[i - 1] != dates[i] for i in ticks)  # first run of the day
    assert ticks[0] == 0
    assert_apart(fig, ax.get_xticklabels())
    assert_inside(fig, [*ax.get_xticklabels(), ax.xaxis.label])
    if n >= 40:  # the axis is labelled along its length, not once
        assert len(ticks) >= (3 if width > 5 else 2) and ticks[-1] >= 0.6 * (n - 1)


def test_many_runs_on_one_day_label_the_date_once():
    assert date_ticks(["2026-03-04"] * 50, 5.0, 8.0) == [0]
    assert date_ticks([], 5.0, 8.0) == []


@pytest.mark.parametrize(
    ("measure", "model", "label", "scale", "null"),
    [
        ("OR", "random", "Odds Ratio, random effects\n(95% CI, log scale)", "log", 1.0),
        ("RR", "fixed", "Risk Ratio, fixed effect\n(95% CI, log scale)", "log", 1.0),
        ("MD", "random", "Mean Difference, random effects\n(95% CI)", "linear", 0.0),
    ],
)
def test_y_axis_names_measure_and_model_and_marks_no_effect(measure, model, label, scale, null):
    frame = history(bursts(12))
    if scale == "linear":
        for col in ("estimate", "ci_low", "ci_high"):
            frame[col] = np.log(frame[col])
    fig = history_figure(frame, "death", "Death", measure, model=model)
    ax = fig.axes[0]
    assert ax.get_ylabel() == label == y_label(measure, model)
    assert ax.get_yscale() == scale
    (line,) = [line for line in ax.lines if line.get_label() == "null"]
    assert set(line.get_ydata()) == {null}
    low, high = ax.get_ylim()
    assert low < null < high
    ticks = list(ax.get_yticks())
    assert null in ticks  # the no-effect value is labelled
    assert all(low <= t <= high for t in ticks)
    if scale == "log":
        assert len(ax.yaxis.get_minor_locator()()) == 0  # no unlabelled minor ticks
    assert_apart(fig, [*ax.get_yticklabels(), ax.yaxis.label])
    assert_inside(fig, [*ax.get_yticklabels(), ax.yaxis.label])


def test_wide_tick_labels_widen_the_margin_so_the_label_stays_on_the_figure():
    frame = history(bursts(6), [-12345.5 + 1000 * i for i in range(6)])
    narrow = history_figure(history(bursts(6)), "death", "Death", "OR", model="random")
    fig = history_figure(frame, "death", "Death", "MD", model="random")
    ax = fig.axes[0]
    assert ax.get_position().x0 > narrow.axes[0].get_position().x0
    assert_inside(fig, [*ax.get_yticklabels(), ax.yaxis.label])
    assert_apart(fig, [*ax.get_yticklabels(), ax.yaxis.label])


def test_without_a_model_the_label_names_the_measure():
    assert y_label("OR", None) == "Odds Ratio\n(95% CI, log scale)"
