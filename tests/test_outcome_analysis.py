"""The one result contract: ``pooled.json`` round-trips exactly, says which test it used,
and figures drawn from it are the figures drawn from the pooling itself."""

from __future__ import annotations

import json
import math

import pytest

from livingmeta.outcome_analysis import OutcomeAnalysis, decode_result, encode_result
from livingmeta.outcomes import Outcome
from livingmeta.plots import forest_plot
from livingmeta.plots.save import render
from livingmeta.stats import BinaryData, cumulative, fixed_and_random, leave_one_out, pool
from livingmeta.stats import subgroups as pool_subgroups

OUTCOME = Outcome("mortality", "Mortality", measure="OR", method="MH", model="random")


@pytest.fixture
def data() -> BinaryData:
    return BinaryData(
        ("Baracchini", "Chang", "Cornelissen", "Delgado"),
        events_treat=[2, 7, 0, 8],
        total_treat=[20, 30, 10, 40],
        events_ctrl=[9, 10, 4, 14],
        total_ctrl=[21, 32, 11, 39],
        year=[2017, 2018, 2019, 2020],
        subgroup=["a", "a", "b", "b"],
    )


@pytest.fixture
def analysis(data: BinaryData) -> OutcomeAnalysis:
    options = OUTCOME.pool_options()
    return OutcomeAnalysis(
        review="r",
        outcome={"name": OUTCOME.name, "label": OUTCOME.label, **options},
        result=pool(data, **options),
        participants=203,
        fixed_vs_random=fixed_and_random(data, method="MH", measure="OR"),
        leave_one_out=leave_one_out(data, **options),
        cumulative=cumulative(data, **options),
        subgroups=pool_subgroups(data, **options),
        provenance={"data": "x.csv"},
    )


def test_json_round_trip_is_exact(analysis: OutcomeAnalysis) -> None:
    text = json.dumps(analysis.to_json(), allow_nan=False)  # strict JSON
    again = OutcomeAnalysis.from_json(json.loads(text))
    assert json.dumps(again.to_json(), allow_nan=False) == text  # floats by repr: exact
    assert again.result == analysis.result and again.subgroups == analysis.subgroups


def test_non_finite_values_survive(analysis: OutcomeAnalysis) -> None:
    single = analysis.leave_one_out[0][1]
    assert single is not None
    encoded = json.loads(json.dumps(encode_result(single), allow_nan=False))
    decoded = decode_result(encoded)
    for name in ("tau2", "i2", "q", "p_q"):
        before, after = getattr(single, name), getattr(decoded, name)
        assert before == after or (math.isnan(before) and math.isnan(after))


def test_statistic_value_and_test_kind_are_separate_keys(analysis: OutcomeAnalysis) -> None:
    result = analysis.to_json()["result"]
    assert result["test"] == "z"
    assert result["statistic"] == result["z"] == pytest.approx(analysis.result.statistic)
    hksj = pool(BinaryData(("a", "b", "c"), [2, 3, 4], [20, 20, 20], [5, 6, 8], [20, 20, 20]),
                measure="OR", method="IV", model="random", hksj=True)  # fmt: skip
    analysis_hksj = OutcomeAnalysis.from_json({**analysis.to_json()})
    assert analysis_hksj.display()["test"] == "z"
    shown = OutcomeAnalysis(**{**analysis.__dict__, "result": hksj}).display()
    assert shown["test"] == "t" and shown["statistic"] == pytest.approx(hksj.statistic)


def test_sensitivity_is_the_other_model(analysis: OutcomeAnalysis) -> None:
    assert analysis.result.model == "random"
    assert analysis.sensitivity == analysis.fixed_vs_random["fixed"]


def test_forest_plot_from_the_json_is_the_same_figure(analysis: OutcomeAnalysis) -> None:
    again = OutcomeAnalysis.from_json(json.loads(json.dumps(analysis.to_json())))

    def svg(a: OutcomeAnalysis) -> bytes:
        return render(forest_plot(a.result, OUTCOME, title="t", subgroups=a.subgroups), "svg")

    assert svg(again) == svg(analysis)
