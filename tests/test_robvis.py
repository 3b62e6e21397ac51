"""Risk-of-bias figures: checked for what they show (artists, colours, labels)."""

from __future__ import annotations

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from livingmeta.plots import save_figure
from livingmeta.plots.rob_columns import (
    draw_rob_columns,
    draw_rob_legend,
    rob_columns_width,
    rob_legend_height,
)
from livingmeta.plots.robvis import summary_plot, traffic_light_plot
from livingmeta.risk_of_bias import DISPUTED, NOT_ASSESSED, OVERALL
from livingmeta.risk_of_bias.model import (
    DISPUTED_COLOUR,
    HIGH_COLOUR,
    LOW_COLOUR,
    NOT_ASSESSED_COLOUR,
    SOME_COLOUR,
)
from livingmeta.risk_of_bias.nos import nos_cohort
from livingmeta.risk_of_bias.rob2 import rob2

ROB2 = rob2()
JUDGEMENTS = {
    "Smith 2019": {"D1": "low", "D2": "some_concerns", "D3": "low", "D4": "low", "D5": "low"}
    | {OVERALL: "some_concerns"},
    "Jones 2020": {"D1": "high", "D2": "low", "D3": "low", "D4": "low", "D5": "low"}
    | {OVERALL: "high"},
}
STUDIES = ["Smith 2019", "Jones 2020", "Lee 2021"]  # Lee: not yet assessed


def patches_by_label(fig: Figure, prefix: str) -> dict[str, object]:
    return {
        p.get_label(): p for ax in fig.axes for p in ax.patches if p.get_label().startswith(prefix)
    }


def texts(fig: Figure, label: str) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts if t.get_label() == label]


def test_traffic_light_cells_have_the_judgements_colour():
    fig = traffic_light_plot(ROB2, STUDIES, JUDGEMENTS, title="Mortality")
    cells = patches_by_label(fig, "rob-cell:")
    assert len(cells) == 3 * 6  # 3 studies x (5 domains + overall)
    assert all(isinstance(c, Circle) for c in cells.values())
    colour = {k: to_hex(c.get_facecolor()).upper() for k, c in cells.items()}
    assert colour["rob-cell:Smith 2019:D1"] == LOW_COLOUR
    assert colour["rob-cell:Smith 2019:D2"] == SOME_COLOUR
    assert colour["rob-cell:Jones 2020:overall"] == HIGH_COLOUR
    assert colour["rob-cell:Lee 2021:D3"] == NOT_ASSESSED_COLOUR
    assert texts(fig, "rob-study") == STUDIES
    assert texts(fig, "rob-heading")[2:] == ["D1", "D2", "D3", "D4", "D5", "Overall"]
    # symbols: 12 judged cells, none for the 6 unassessed ones
    symbols = texts(fig, "rob-symbol")
    assert len(symbols) == 12 and symbols.count("X") == 2 and symbols.count("-") == 2
    legend = texts(fig, "rob-legend")
    assert "D1: Bias arising from the randomization process" in legend
    assert "X High risk" in legend and "Not yet assessed" in legend
    assert texts(fig, "title") == ["Mortality"]


def test_traffic_light_without_ratings_says_not_yet_assessed(tmp_path):
    fig = traffic_light_plot(nos_cohort(), ["Chang 2018"], {})
    colours = {
        to_hex(c.get_facecolor()).upper() for c in patches_by_label(fig, "rob-cell").values()
    }
    assert colours == {NOT_ASSESSED_COLOUR}
    assert texts(fig, "rob-symbol") == []
    assert texts(fig, "rob-heading")[2:] == ["S", "C", "O", "Overall"]
    written = save_figure(fig, tmp_path / "traffic_light", formats=("png", "svg", "pdf"))
    assert [p.suffix for p in written] == [".png", ".svg", ".pdf"]
    assert b"<text" not in written[1].read_bytes()  # glyphs as paths: no font needed to view


def test_traffic_light_marks_what_the_assessors_still_disagree_on():
    """A disputed domain is drawn apart from "not yet assessed", and said in the legend."""
    disputed = {"Lee 2021": {"D1": DISPUTED, "D2": "low"}}
    fig = traffic_light_plot(ROB2, STUDIES, JUDGEMENTS | disputed)
    cells = patches_by_label(fig, "rob-cell:")
    assert to_hex(cells["rob-cell:Lee 2021:D1"].get_facecolor()).upper() == DISPUTED_COLOUR
    assert to_hex(cells["rob-cell:Lee 2021:D3"].get_facecolor()).upper() == NOT_ASSESSED_COLOUR
    assert texts(fig, "rob-symbol").count("\u2260") == 1
    legend = texts(fig, "rob-legend")
    assert "\u2260 Assessors disagree (not yet settled)" in legend and "Not yet assessed" in legend
    only_disputed = traffic_light_plot(ROB2, ["Lee 2021"], {"Lee 2021": dict.fromkeys(
        ("D1", "D2", "D3", "D4", "D5", OVERALL), DISPUTED)})  # fmt: skip
    assert "Not yet assessed" not in texts(only_disputed, "rob-legend")


LONG_TITLE = "RoB 2 (effect of assignment): All-cause maternal mortality within 42 days of birth"


@pytest.mark.parametrize(
    "draw",
    [
        lambda: traffic_light_plot(ROB2, STUDIES, JUDGEMENTS, title=LONG_TITLE),
        lambda: summary_plot(ROB2, {"D1": {"low": 100.0}}, title=LONG_TITLE),
        # a short title: the legend's "Judgement (Newcastle-Ottawa scale ...)" is widest
        lambda: traffic_light_plot(nos_cohort(), ["Chang 2018"], {}, title="Death"),
    ],
    ids=["traffic_light", "summary", "legend_heading"],
)
def test_no_text_is_cut_at_the_figure_edge(draw):
    """Every text lies inside the figure (drawn with the bundled DejaVu Sans): a long
    title or legend heading widens the figure."""
    fig = draw()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    for shown in (t for ax in fig.axes for t in ax.texts):  # the legend's headings too
        box = shown.get_window_extent(renderer=canvas.get_renderer())
        assert box.x0 >= 0 and box.x1 <= fig.bbox.x1, shown.get_text()


def test_summary_bars_are_as_long_as_their_share():
    shares = {
        "D1": {"low": 60.0, "high": 40.0},
        OVERALL: {"some_concerns": 70.0, NOT_ASSESSED: 30.0},
    }
    fig = summary_plot(ROB2, shares, title="Mortality")
    bars = patches_by_label(fig, "rob-bar:")
    assert set(bars) == {
        "rob-bar:D1:low",
        "rob-bar:D1:high",
        "rob-bar:overall:some_concerns",
        f"rob-bar:overall:{NOT_ASSESSED}",
    }
    assert all(isinstance(b, Rectangle) for b in bars.values())
    low, high = bars["rob-bar:D1:low"], bars["rob-bar:D1:high"]
    assert low.get_width() / high.get_width() == pytest.approx(60 / 40)
    assert high.get_x() == pytest.approx(low.get_x() + low.get_width())  # stacked, low first
    assert to_hex(bars[f"rob-bar:overall:{NOT_ASSESSED}"].get_facecolor()).upper() == (
        NOT_ASSESSED_COLOUR
    )
    assert texts(fig, "rob-domain") == [
        "Bias arising from the randomization process",
        "Overall risk of bias",
    ]
    assert texts(fig, "rob-tick") == ["0%", "25%", "50%", "75%", "100%"]
    assert texts(fig, "rob-axis-label") == ["Share of the analysis' weight"]
    assert "Not yet assessed" in texts(fig, "rob-legend")


def test_forest_rob_columns_draw_one_symbol_per_domain_and_a_letter_legend():
    fig = Figure(figsize=(6, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 6)
    ax.set_ylim(3, 0)
    rows = [(1.0, "Smith 2019"), (1.2, "Jones 2020"), (1.4, None), (1.6, "Lee 2021")]
    draw_rob_columns(ax, ROB2, x=4.5, heading_y=0.6, rows=rows, judgements=JUDGEMENTS)
    draw_rob_legend(ax, ROB2, x=0.15, y=2.0, with_not_assessed=True)
    cells = patches_by_label(fig, "rob-cell:")
    assert len(cells) == 3 * 6  # the None row (a subtotal) gets none
    assert {round(c.center[1], 6) for c in cells.values()} == {1.0, 1.2, 1.6}
    xs = sorted({round(c.center[0], 6) for c in cells.values()})
    assert xs[0] > 4.5 and xs[-1] < 4.5 + rob_columns_width(ROB2)
    assert to_hex(cells["rob-cell:Jones 2020:D1"].get_facecolor()).upper() == HIGH_COLOUR
    assert texts(fig, "rob-letter") == ["A", "B", "C", "D", "E", "F"]
    legend = texts(fig, "rob-legend")
    assert legend[0] == "Risk of bias legend"
    assert legend[1] == "(A) Bias arising from the randomization process"
    assert legend[6] == "(F) Overall risk of bias"
    assert legend[-1] == "Grey: not yet assessed"
    assert rob_legend_height(ROB2, with_not_assessed=True) > rob_legend_height(ROB2)


def test_reference_review_has_its_form_and_no_ratings_so_everything_is_not_yet_assessed():
    import csv
    from pathlib import Path

    from livingmeta.risk_of_bias.consensus import load_folder
    from livingmeta.risk_of_bias.sensitivity import restricted_analysis, weight_shares
    from livingmeta.risk_of_bias.settings import settings_from_config
    from tests.test_risk_of_bias import MORTALITY, NOS_CONFIG, OPTIONS

    review = Path(__file__).resolve().parents[1] / "reviews" / "rescue_stenting"
    with (review / "studies.csv").open(encoding="utf-8") as handle:
        studies = [(r["study_id"], r["study_label"]) for r in csv.DictReader(handle)]
    settings = settings_from_config(NOS_CONFIG)
    status = load_folder(
        review / "risk_of_bias", settings, studies=[s for s, _ in studies], roster=["livingmeta"]
    )
    assert status.by_label(studies) == {label: {} for _, label in studies}
    restricted = restricted_analysis(
        MORTALITY, status.overall_levels(studies, "mortality_90d"), settings.sensitivity, **OPTIONS
    )
    assert restricted.status == NOT_ASSESSED and restricted.result is None
    groups = status.by_tool(studies)
    assert [(tool.key, len(group)) for tool, group in groups] == [
        ("nos_cohort", 3),
        ("nos_case_control", 1),
    ]
    for tool, group in groups:
        fig = traffic_light_plot(tool, [label for _, label in group], status.by_label(group))
        colours = {
            to_hex(c.get_facecolor()).upper() for c in patches_by_label(fig, "rob-cell").values()
        }
        assert colours == {NOT_ASSESSED_COLOUR}
    weights = {label: 25.0 for _, label in studies}
    shares = weight_shares(weights, status.by_label(studies), ["selection", OVERALL])
    assert shares[OVERALL] == {NOT_ASSESSED: 100.0}
    fig = summary_plot(nos_cohort(), shares)
    assert set(patches_by_label(fig, "rob-bar:")) == {
        f"rob-bar:selection:{NOT_ASSESSED}",
        f"rob-bar:overall:{NOT_ASSESSED}",
    }


def test_rob_columns_on_a_real_forest_plot(tmp_path):
    """How forest.py adds the columns: make room, draw, then draw the columns on top."""
    from livingmeta.plots import forest
    from livingmeta.plots.draw import GraphOptions, draw_figure
    from livingmeta.plots.layout import compute_layout
    from livingmeta.plots.rob_columns import draw_on_forest, make_room
    from livingmeta.stats import pool
    from tests.test_risk_of_bias import MORTALITY, OPTIONS

    result = pool(MORTALITY, **OPTIONS)
    rows = forest.forest_rows(result)
    scale = forest._scale(result, rows)
    plain = compute_layout(
        forest._columns(result, None),
        rows,
        title=None,
        favours=forest.DEFAULT_FAVOURS,
        scale=scale,
    )
    layout = make_room(plain, nos_cohort(), with_not_assessed=True)
    assert layout.width > plain.width and layout.height > plain.height
    fig = draw_figure(layout, rows, scale, GraphOptions(1.0, forest.effect_heading(result)))
    labels = iter(result.studies)
    studies = [next(labels).study if row.kind == "study" else None for row in rows]
    judgements = {"Chang 2018": {"selection": "fair", "comparability": "good"}}
    draw_on_forest(fig, layout, studies, nos_cohort(), judgements, with_not_assessed=True)
    cells = patches_by_label(fig, "rob-cell:")
    assert len(cells) == 4 * 4  # four studies x (3 categories + overall)
    graph = next(ax for ax in fig.axes if ax.get_label() == "forest-graph")
    right_of_graph = graph.get_position().x1 * layout.width
    assert min(c.center[0] for c in cells.values()) > right_of_graph
    chang_y = layout.row_y[studies.index("Chang 2018")]
    assert cells["rob-cell:Chang 2018:selection"].center[1] == chang_y
    assert to_hex(cells["rob-cell:Chang 2018:selection"].get_facecolor()).upper() == SOME_COLOUR
    assert to_hex(cells["rob-cell:Chang 2018:overall"].get_facecolor()).upper() == (
        NOT_ASSESSED_COLOUR
    )
    legend = texts(fig, "rob-legend")
    assert legend[:2] == ["Risk of bias legend", "(A) Selection"]
    assert all(t.get_position()[1] < layout.height for t in fig.axes[0].texts)
    save_figure(fig, tmp_path / "forest_rob.png")
