"""Forest, cumulative and leave-one-out plots: what they show, not how the pixels look.

The figures are inspected through their artists: the text of each table cell (tagged
with ``row kind:column`` labels), the squares' sizes, the arrows of clipped intervals,
the axis scale, and text bounding boxes from the renderer for the legibility checks.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.text import Text

from livingmeta.formatting import format_p, overall_effect_line
from livingmeta.outcomes import Outcome
from livingmeta.plots import cumulative_plot, forest_plot, leave_one_out_plot, save_figure
from livingmeta.plots.layout import choose_scale
from livingmeta.stats import (
    BinaryData,
    ContinuousData,
    GenericData,
    cumulative,
    leave_one_out,
    pool,
    subgroups,
)
from livingmeta.stats.result import PooledResult

MH_RANDOM = {"measure": "OR", "method": "MH", "model": "random"}
BCG_YEAR = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]
BCG_ALLOC = ["random"] * 4 + ["alternate"] * 2 + ["random"] * 3 + ["systematic"] * 4
MORTALITY = Outcome(
    "mortality_90d", "Mortality at 90 days", label_treat="Stenting", label_ctrl="Medical care"
)


# ---------------------------------------------------------------------- data


@pytest.fixture(scope="module")
def mortality(seed_dir: Path) -> BinaryData:
    d = pd.read_csv(seed_dir / "extracted_2x2.csv").query("outcome == 'mortality_90d'")
    return BinaryData(
        tuple(d.study),
        d.events_pis,
        d.total_pis,
        d.events_ctrl,
        d.total_ctrl,
        year=tuple(int(y) for y in d.year),
    )


@pytest.fixture(scope="module")
def mortality_result(mortality: BinaryData) -> PooledResult:
    return pool(mortality, **MH_RANDOM)


@pytest.fixture(scope="module")
def seed_figure(mortality_result: PooledResult) -> Figure:
    return forest_plot(mortality_result, MORTALITY, title="Mortality at 90 days")


@pytest.fixture(scope="module")
def bcg(reference_dir: Path) -> BinaryData:
    b = pd.read_csv(reference_dir / "bcg.csv")
    return BinaryData(
        tuple(b.study),
        b.events_treat,
        b.total_treat,
        b.events_ctrl,
        b.total_ctrl,
        year=tuple(BCG_YEAR),
        subgroup=tuple(BCG_ALLOC),
    )


@pytest.fixture(scope="module")
def normand(reference_dir: Path) -> ContinuousData:
    n = pd.read_csv(reference_dir / "normand1999.csv")
    return ContinuousData(
        tuple(n.study), n.mean_treat, n.sd_treat, n.n_treat, n.mean_ctrl, n.sd_ctrl, n.n_ctrl
    )


# ---------------------------------------------------------------------- helpers


def texts(fig: Figure, label: str | None = None) -> list[Text]:
    """Visible non-empty texts, optionally only those whose artist label matches
    (``study:label``; a label without ``:`` matches any row kind or column)."""
    found = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    if label is None:
        return found
    return [t for t in found if t.get_label() == label or label in t.get_label().split(":")]


def strings(fig: Figure, label: str | None = None) -> list[str]:
    return [t.get_text() for t in texts(fig, label)]


def graph(fig: Figure):
    (ax,) = [a for a in fig.axes if a.get_label() == "forest-graph"]
    return ax


def squares(fig: Figure) -> PathCollection | None:
    found = [c for c in graph(fig).collections if c.get_label() == "study-squares"]
    return found[0] if found else None


def arrows(fig: Figure) -> list[Line2D]:
    return [line for line in graph(fig).lines if line.get_label() == "ci-arrow"]


def percent(text: str) -> float:
    return float(text.rstrip("%"))


def bcg_subgroups(bcg: BinaryData):
    return subgroups(bcg, measure="RR", method="IV", model="random")


# ---------------------------------------------------------------------- the seed review


def test_seed_table_has_the_published_numbers(seed_figure: Figure) -> None:
    shown = strings(seed_figure)
    assert "0.39 [0.16, 0.93]" in shown  # published OR 0.39 [0.16-0.93]
    assert "Heterogeneity: Tau² = 0.33; Chi² = 5.29, df = 3 (P = 0.15); I² = 43%" in shown
    assert "Test for overall effect: Z = 2.11 (P = 0.03)" in shown
    labels = strings(seed_figure, "study:label")
    assert labels == ["Baracchini 2017", "Chang 2018", "Cornelissen 2019", "Peng 2019"]
    # totals and total events: 149 vs 203 participants, 28 vs 62 deaths
    assert strings(seed_figure, "total:total_treat") == ["149"]
    assert strings(seed_figure, "total:total_ctrl") == ["203"]
    assert strings(seed_figure, "events:events_treat") == ["28"]
    assert strings(seed_figure, "events:events_ctrl") == ["62"]
    assert strings(seed_figure, "total:weight") == ["100.0%"]


def test_seed_weights_sum_to_100_and_match_the_result(
    seed_figure: Figure, mortality_result: PooledResult
) -> None:
    weights = [percent(s) for s in strings(seed_figure, "study:weight")]
    assert sum(weights) == pytest.approx(100.0, abs=0.15)
    assert weights == [round(s.weight, 1) for s in mortality_result.studies]


def test_headings_name_arms_measure_and_model(seed_figure: Figure) -> None:
    shown = set(strings(seed_figure))
    assert {"Stenting", "Medical care", "Events", "Total", "Weight", "Odds Ratio"} <= shown
    assert "M-H, Random, 95% CI" in shown
    assert {"Favours Stenting", "Favours Medical care"} <= shown
    assert "Mortality at 90 days" in shown


def test_generic_favours_labels_without_outcome(mortality_result: PooledResult) -> None:
    fig = forest_plot(mortality_result)
    shown = strings(fig)
    # A label may wrap onto two lines; read each side's lines top to bottom.
    sides: dict[float, list[Text]] = {}
    for t in texts(fig, "favours"):
        sides.setdefault(round(t.get_position()[0], 6), []).append(t)
    favours = [
        " ".join(t.get_text() for t in sorted(lines, key=lambda t: t.get_position()[1]))
        for _, lines in sorted(sides.items())
    ]
    assert favours == ["Favours [experimental]", "Favours [control]"]
    assert "Experimental" in shown and "Control" in shown


def test_favours_follow_the_outcome_direction(mortality_result: PooledResult) -> None:
    good = Outcome("mrs", "mRS 0-2", direction="higher_is_better", label_treat="Stenting")
    labels = [t for t in texts(forest_plot(mortality_result, good), "favours")]
    left, right = sorted(labels, key=lambda t: t.get_position()[0])
    # a good outcome: an odds ratio above 1 favours the treatment
    assert (left.get_text(), right.get_text()) == ("Favours Control", "Favours Stenting")


def test_one_square_per_estimable_study_with_area_growing_with_weight(
    seed_figure: Figure, mortality_result: PooledResult
) -> None:
    collection = squares(seed_figure)
    assert collection is not None
    sizes = collection.get_sizes()
    assert len(sizes) == len(collection.get_offsets()) == 4
    weights = np.array([s.weight for s in mortality_result.studies])
    order = np.argsort(weights)
    assert np.all(np.diff(sizes[order]) > 0)
    # area proportional to weight (the smallest study here is above the visibility floor)
    np.testing.assert_allclose(sizes / weights, sizes[0] / weights[0], rtol=1e-9)
    # squares sit at the study estimates
    expected = [math.exp(s.yi) for s in mortality_result.studies]
    np.testing.assert_allclose(collection.get_offsets()[:, 0], expected)


def test_pooled_diamond_spans_the_confidence_interval(
    seed_figure: Figure, mortality_result: PooledResult
) -> None:
    (diamond,) = [p for p in graph(seed_figure).patches if p.get_label() == "diamond:total"]
    assert isinstance(diamond, Polygon)
    xs = diamond.get_xy()[:, 0]
    low, high = mortality_result.conf_int()
    assert xs.min() == pytest.approx(low) and xs.max() == pytest.approx(high)
    assert xs[1] == pytest.approx(math.exp(mortality_result.estimate))  # the diamond's tip


def test_every_interval_fits_the_default_axis(
    seed_figure: Figure, mortality_result: PooledResult
) -> None:
    low, high = graph(seed_figure).get_xlim()
    assert (low, high) == pytest.approx((0.001, 1000.0))  # Cornelissen's CI reaches 0.0034
    for s in mortality_result.studies:
        assert low <= math.exp(s.ci_low) and math.exp(s.ci_high) <= high
    assert arrows(seed_figure) == []


def test_axis_limits_from_config_clip_intervals_with_arrows(
    mortality_result: PooledResult,
) -> None:
    fig = forest_plot(mortality_result, axis_limits=(0.05, 20))
    low, high = graph(fig).get_xlim()
    assert (low, high) == pytest.approx((0.05, 20.0))
    assert [t.get_text() for t in graph(fig).get_xticklabels() if t.get_text()] == [
        "0.05", "0.2", "1", "5", "20",
    ]  # fmt: skip
    clipped_low = [s for s in mortality_result.studies if math.exp(s.ci_low) < low]
    clipped_high = [s for s in mortality_result.studies if math.exp(s.ci_high) > high]
    assert clipped_low, "the seed data should have an interval beyond the axis (Cornelissen)"
    found = arrows(fig)
    assert len(found) == len(clipped_low) + len(clipped_high)
    assert all(line.get_xdata()[0] in (low, high) for line in found)


def test_no_arrows_when_every_interval_fits(normand: ContinuousData) -> None:
    fig = forest_plot(pool(normand, "MD", "IV", "random"))
    low, high = graph(fig).get_xlim()
    result = pool(normand, "MD", "IV", "random")
    assert all(low <= s.ci_low and s.ci_high <= high for s in result.studies)
    assert arrows(fig) == []


def test_prediction_interval_row_for_random_effects_with_three_studies(
    seed_figure: Figure, mortality: BinaryData, mortality_result: PooledResult
) -> None:
    low, high = mortality_result.predict()
    assert strings(seed_figure, "prediction:effect") == [f"[{low:.2f}, {high:.2f}]"]
    bars = [p for p in graph(seed_figure).patches if p.get_label() == "prediction-interval"]
    assert len(bars) == 1
    fixed = forest_plot(pool(mortality, "OR", "MH", "fixed"))
    assert strings(fixed, "prediction:effect") == []
    assert "Heterogeneity: Chi² = 5.29, df = 3 (P = 0.15); I² = 43%" in strings(fixed)
    two = forest_plot(pool(mortality.take([0, 1]), **MH_RANDOM))
    assert strings(two, "prediction:effect") == []  # k < 3: no prediction interval


def test_double_zero_study_is_shown_as_not_estimable() -> None:
    data = BinaryData(
        ("Zero 2001", "A 2003", "B 2005", "C 2008"),
        [0, 4, 6, 10],
        [30, 50, 60, 80],
        [0, 9, 12, 15],
        [30, 50, 60, 80],
    )
    fig = forest_plot(pool(data, **MH_RANDOM))
    effects = strings(fig, "study:effect")
    assert effects[0] == "Not estimable"
    assert all(re.fullmatch(r"\d\.\d\d \[\d\.\d\d, \d\.\d\d\]", e) for e in effects[1:])
    assert len(strings(fig, "study:weight")) == 3  # no weight for the double-zero study
    assert len(squares(fig).get_offsets()) == 3
    assert strings(fig, "study:events_treat")[0] == "0"  # its data are still shown


@pytest.mark.parametrize(
    ("measure", "scale", "null"), [("OR", "log", 1.0), ("RR", "log", 1.0), ("RD", "linear", 0.0)]
)
def test_axis_scale_follows_the_measure(
    mortality: BinaryData, measure: str, scale: str, null: float
) -> None:
    fig = forest_plot(pool(mortality, measure, "MH", "random"))
    ax = graph(fig)
    assert ax.get_xscale() == scale
    (line,) = [line for line in ax.lines if line.get_label() == "null-line"]
    assert line.get_xdata()[0] == null
    low, high = ax.get_xlim()
    assert low < null < high
    ticks = list(ax.get_xticks())
    assert null in ticks and ticks[0] == pytest.approx(low) and ticks[-1] == pytest.approx(high)


def test_continuous_plot_has_mean_sd_total_columns(normand: ContinuousData) -> None:
    result = pool(normand, "MD", "IV", "random")
    fig = forest_plot(result)
    assert graph(fig).get_xscale() == "linear"
    assert strings(fig, "study:mean_treat")[0] == "55"
    assert strings(fig, "study:sd_ctrl")[0] == "64"
    assert strings(fig, "total:n_treat") == [str(int(sum(normand.n_treat)))]
    assert strings(fig, "events:events_treat") == []  # no "Total events" row
    assert {"Mean", "SD", "Total", "Mean Difference", "IV, Random, 95% CI"} <= set(strings(fig))
    low, high = result.conf_int()
    est = result.display(result.estimate)
    assert strings(fig, "total:effect") == [
        f"{est:.2f} [{low:.2f}, {high:.2f}]".replace("-", "\N{MINUS SIGN}")
    ]


def test_hksj_reports_a_t_statistic(mortality: BinaryData) -> None:
    result = pool(mortality, "OR", "IV", "random", hksj=True)
    line = overall_effect_line(result)
    assert line.startswith("Test for overall effect: t = ") and "df = 3" in line
    assert line in strings(forest_plot(result))


def test_generic_data_show_log_effect_and_se() -> None:
    data = GenericData(("A 2001", "B $5$ 2003", "C 2010"), [-0.69, -0.22, 0.26], [0.3, 0.2, 0.5])
    fig = forest_plot(pool(data, "OR", "IV", "random"))
    assert {"log[Odds Ratio]", "SE", "IV, Random, 95% CI"} <= set(strings(fig))
    assert strings(fig, "study:yi")[0] == "\N{MINUS SIGN}0.6900"
    assert strings(fig, "study:se") == ["0.3000", "0.2000", "0.5000"]
    assert "B $5$ 2003" in strings(fig, "study:label")  # shown verbatim, not as mathtext
    assert all(not t.get_parse_math() for t in texts(fig, "study:label"))


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.151, "P = 0.15"),
        (0.034961, "P = 0.03"),
        (0.0061, "P = 0.006"),
        (0.00021, "P = 0.0002"),
        (1.89e-5, "P < 0.0001"),
        (3e-9, "P < 0.00001"),
    ],
)
def test_p_values_in_revman_format(p: float, text: str) -> None:
    assert format_p(p) == text


def test_sort_orders_studies(mortality_result: PooledResult) -> None:
    fig = forest_plot(mortality_result, sort="weight")
    assert strings(fig, "study:label") == [
        "Peng 2019",
        "Chang 2018",
        "Baracchini 2017",
        "Cornelissen 2019",
    ]
    with pytest.raises(ValueError, match="sort"):
        forest_plot(mortality_result, sort="colour")


# ---------------------------------------------------------------------- subgroups


def test_subgroup_blocks_with_subtotals_and_the_test_for_differences(bcg: BinaryData) -> None:
    sub = bcg_subgroups(bcg)
    fig = forest_plot(sub.overall, subgroups=sub)
    assert strings(fig, "subgroup:label") == ["random", "alternate", "systematic"]
    subtotals = strings(fig, "subtotal:effect")
    expected = []
    for result in sub.subgroups.values():
        low, high = result.conf_int()
        expected.append(f"{math.exp(result.estimate):.2f} [{low:.2f}, {high:.2f}]")
    assert subtotals == expected
    assert strings(fig, "subtotal:label") == ["Subtotal (95% CI)"] * 3
    line = (
        f"Test for subgroup differences: Chi² = {sub.q_between:.2f}, df = 2 "
        f"({format_p(sub.p_between)}), I² = "
    )
    assert any(s.startswith(line) for s in strings(fig, "note"))
    # one heterogeneity line per subgroup plus the overall one
    assert sum(s.startswith("Heterogeneity:") for s in strings(fig, "note")) == 4
    # study weights are the overall analysis's: they and the subtotals sum to 100%
    assert sum(percent(s) for s in strings(fig, "study:weight")) == pytest.approx(100, abs=0.3)
    assert sum(percent(s) for s in strings(fig, "subtotal:weight")) == pytest.approx(100, abs=0.2)
    assert len(squares(fig).get_offsets()) == bcg.k
    diamonds = [p for p in graph(fig).patches if p.get_label().startswith("diamond:")]
    assert len(diamonds) == 4


# ---------------------------------------------------------------------- legibility


@pytest.fixture(scope="module")
def many_studies() -> tuple[Figure, list[str]]:
    rng = np.random.default_rng(20)
    k = 60
    names = [
        (f"Randomised Evaluation of Stenting Collaborative Group Trial Number {i:02d} " * 2)[:75]
        + f" {1990 + i % 30}"
        for i in range(k)
    ]
    assert all(len(n) == 80 for n in names)
    total_t, total_c = rng.integers(30, 300, k), rng.integers(30, 300, k)
    data = BinaryData(
        tuple(names),
        rng.binomial(total_t, 0.15),
        total_t,
        rng.binomial(total_c, 0.2),
        total_c,
    )
    return forest_plot(pool(data, **MH_RANDOM)), names


def test_many_long_named_studies_stay_legible(many_studies: tuple[Figure, list[str]]) -> None:
    fig, names = many_studies
    width, height = fig.get_size_inches()
    assert width < 12 and height < 22  # grows with rows, but stays a printable page
    renderer = fig.canvas.get_renderer()
    labels = texts(fig, "study:label")
    assert len(labels) == 60
    assert all(t.get_fontsize() >= 7 for t in labels)
    # shortened with an ellipsis, keeping the year that tells the studies apart
    for t, name in zip(labels, names, strict=True):
        assert t.get_text().endswith(name[-4:]) and "…" in t.get_text()
    # row labels do not overlap each other vertically, and keep some leading between them
    boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: -b.y1)
    for upper, lower in pairwise(boxes):
        assert upper.y0 - lower.y1 >= 0.3 * upper.height
    # nor any other text of their row, nor the graph; and nothing leaves the figure
    rows = defaultdict(list)
    for t in texts(fig):
        rows[round(t.get_position()[1], 6)].append(t.get_window_extent(renderer))
    graph_left = graph(fig).get_window_extent(renderer).x0
    for label in labels:
        row = sorted(rows[round(label.get_position()[1], 6)], key=lambda b: b.x0)
        for left, right in pairwise(row):
            assert left.x1 <= right.x0
        assert row[-1].x1 < graph_left
    fig_box = fig.bbox
    for t in texts(fig):
        box = t.get_window_extent(renderer)
        assert fig_box.x0 <= box.x0 and box.x1 <= fig_box.x1, t.get_text()
        assert fig_box.y0 <= box.y0 and box.y1 <= fig_box.y1, t.get_text()


def test_notes_do_not_run_into_the_axis(mortality_result: PooledResult) -> None:
    fig = forest_plot(mortality_result)
    renderer = fig.canvas.get_renderer()
    ticks = [t.get_window_extent(renderer) for t in graph(fig).get_xticklabels()]
    for note in texts(fig, "note"):
        assert note.get_window_extent(renderer).x1 < min(b.x0 for b in ticks)


def test_scale_fits_estimates_and_every_interval() -> None:
    scale = choose_scale([0.07, 0.6, 0.16, 0.93], [0.0034, 1.64], is_ratio=True, null=1.0)
    assert (scale.low, scale.high, scale.log) == (0.001, 1000.0, True)
    scale = choose_scale([0.07, 0.6, 0.16, 0.93], [0.05, 1.64], is_ratio=True, null=1.0)
    assert (scale.low, scale.high) == (0.05, 20.0)
    scale = choose_scale([-71, 11], [-95, 30], is_ratio=False, null=0.0)
    assert (scale.low, scale.high) == (-100, 100) and scale.ticks == (-100, -50, 0, 50, 100)


# ---------------------------------------------------------------------- saving


def test_saving_twice_gives_identical_files(tmp_path: Path, mortality_result: PooledResult) -> None:
    first = save_figure(forest_plot(mortality_result, MORTALITY), tmp_path / "a" / "forest")
    second = save_figure(forest_plot(mortality_result, MORTALITY), tmp_path / "b" / "forest")
    assert [p.name for p in first] == ["forest.png", "forest.svg", "forest.pdf"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert b"CreationDate" not in first[2].read_bytes()
    assert b"<dc:date>" not in first[1].read_bytes()
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporaries


def test_save_figure_takes_explicit_paths_and_closes_the_figure(
    tmp_path: Path, mortality_result: PooledResult
) -> None:
    fig = forest_plot(mortality_result)
    written = save_figure(fig, [tmp_path / "x.svg", tmp_path / "y.png"])
    assert written == [tmp_path / "x.svg", tmp_path / "y.png"]
    assert (tmp_path / "y.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.axes == []
    with pytest.raises(ValueError, match="format"):
        save_figure(forest_plot(mortality_result), [tmp_path / "z.jpg"])


# ---------------------------------------------------------------------- sensitivity plots


def test_cumulative_plot_has_one_row_per_step(mortality: BinaryData) -> None:
    steps = cumulative(mortality, **MH_RANDOM)
    fig = cumulative_plot(steps, MORTALITY)
    labels = strings(fig, "step:label")
    assert len(labels) == len(steps) == 4
    assert labels[0] == steps[0][0] and labels[1] == f"+ {steps[1][0]}"
    assert strings(fig, "step:k") == ["1", "2", "3", "4"]
    assert strings(fig, "step:year") == ["2017", "2018", "2019", "2019"]
    assert strings(fig, "step:effect")[-1] == "0.39 [0.16, 0.93]"  # all studies = the total
    points = [c for c in graph(fig).collections if c.get_label() == "estimate-points"]
    assert len(points[0].get_offsets()) == 4


def test_leave_one_out_plot_has_one_row_per_study_and_the_full_estimate(
    mortality: BinaryData, mortality_result: PooledResult
) -> None:
    results = leave_one_out(mortality, **MH_RANDOM)
    fig = leave_one_out_plot(results, mortality_result, MORTALITY)
    assert strings(fig, "step:label") == [
        "Baracchini 2017",
        "Chang 2018",
        "Cornelissen 2019",
        "Peng 2019",
    ]
    assert strings(fig, "step:k") == ["3"] * 4
    assert strings(fig, "all:effect") == ["0.39 [0.16, 0.93]"]
    ax = graph(fig)
    (band,) = [p for p in ax.patches if p.get_label() == "reference-band"]
    low, high = mortality_result.conf_int()
    assert band.get_x() == pytest.approx(low)
    assert band.get_x() + band.get_width() == pytest.approx(high)
    (line,) = [line for line in ax.lines if line.get_label() == "reference-line"]
    assert line.get_xdata()[0] == pytest.approx(math.exp(mortality_result.estimate))


def test_sensitivity_rows_without_a_result_say_not_estimable(
    mortality_result: PooledResult,
) -> None:
    fig = cumulative_plot([("Zero 2000", None), ("Real 2001", mortality_result)])
    assert strings(fig, "step:effect") == ["Not estimable", "0.39 [0.16, 0.93]"]
