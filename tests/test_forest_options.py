"""Per-outcome forest plot options: study order (``sort``) and ``axis_limits``, from config."""

from __future__ import annotations

import pytest

from livingmeta.config import reviews, validate_config
from livingmeta.outcomes import Outcome
from livingmeta.plots.forest import forest_rows
from livingmeta.plots.layout import fixed_scale
from livingmeta.stats import BinaryData, pool

DATA = BinaryData(
    ("Zhu", "Adams", "Baker", "Cole"),
    [4, 6, 3, 9],
    [40, 60, 30, 50],
    [8, 9, 6, 12],
    [41, 59, 30, 50],
    year=(2019, 2021, 2019, None),
)


def labels(sort):
    rows = forest_rows(pool(DATA, "OR", "MH", "random"), sort=sort)
    return [r.cells["label"] for r in rows if r.kind == "study"]


def test_sort_orders():
    assert labels("year") == ["Baker 2019", "Zhu 2019", "Adams 2021", "Cole"]
    assert labels("label") == ["Adams 2021", "Baker 2019", "Cole", "Zhu 2019"]
    assert labels("as_entered") == labels(None) == ["Zhu 2019", "Adams 2021", "Baker 2019", "Cole"]
    weights = labels("weight")
    assert weights[0] == "Cole" and len(weights) == 4


def config_outcome(**spec):
    config = validate_config({"reviews": [{"id": "r", "outcomes": [{"name": "o", **spec}]}]})
    return reviews(config)["r"].outcome("o")


def test_sort_and_axis_limits_come_from_config():
    assert config_outcome().sort == "year" and config_outcome().axis_limits is None
    outcome = config_outcome(sort="as_entered", axis_limits=[0.1, 10])
    assert outcome.sort == "as_entered" and outcome.axis_limits == (0.1, 10.0)
    with pytest.raises(ValueError, match="axis_limits"):
        Outcome("o", "O", axis_limits=(0.0, 10.0))
    with pytest.raises(ValueError, match="sort"):
        Outcome("o", "O", sort="colour")


def test_fixed_scales():
    scale = fixed_scale(0.1, 10, is_ratio=True)
    assert scale.log and scale.ticks == (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
    scale = fixed_scale(0.05, 3, is_ratio=True)
    assert (scale.low, scale.high) == (0.05, 3) and 1.0 in scale.ticks
    linear = fixed_scale(-2, 6, is_ratio=False)
    assert linear.ticks == (-2, 0, 2, 4, 6) and not linear.log
    with pytest.raises(ValueError, match="above 0"):
        fixed_scale(0, 2, is_ratio=True)
