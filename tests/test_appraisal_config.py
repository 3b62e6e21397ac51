"""Config and history pieces of the appraisal steps: fragment schemas referenced from the
main schema, descriptive outcomes, sequential settings, history columns added later."""

from __future__ import annotations

import copy
import math

import pytest

from livingmeta.config import ConfigError, load_config, reviews, validate_config
from livingmeta.report.appraisal_view import restricted_markdown, restricted_text
from livingmeta.report.history import HISTORY_COLUMNS, read_history, update_history

BASE = {
    "reviews": [
        {
            "id": "r",
            "outcomes": [
                {"name": "death", "sequential": {"relative_risk_reduction": 0.2}},
                {"name": "reperfusion", "type": "descriptive", "arm": "treat"},
            ],
        }
    ]
}


def config(**review: object) -> dict:
    out = copy.deepcopy(BASE)
    out["reviews"][0].update(review)
    return out


def test_descriptive_outcomes_are_not_pooled_and_sequential_gets_defaults():
    review = reviews(validate_config(config()))["r"]
    assert [o.name for o in review.outcomes] == ["death"]
    assert [o["name"] for o in review.descriptive] == ["reperfusion"]
    assert review.descriptive[0]["kind"] == "n_of_N"
    assert review.sequential("death") == {
        "relative_risk_reduction": 0.2,
        "alpha": 0.05,
        "beta": 0.1,
        "spending": "obf",
        "heterogeneity": "diversity",
    }
    assert review.sequential("reperfusion") is None
    assert str(review.files.grade) == "reviews/r/grade.csv"


def test_sequential_needs_an_anticipated_effect():
    bad = config()
    bad["reviews"][0]["outcomes"][0]["sequential"] = {"alpha": 0.05}
    with pytest.raises(ConfigError, match=r"outcomes\[(0|death)\]\.sequential"):
        validate_config(bad)


def test_fragment_schemas_are_referenced_and_checked_once():
    with pytest.raises(ConfigError, match=r"\.risk_of_bias\.sensitivity: 'some'"):
        validate_config(
            config(risk_of_bias={"tools": [{"tool": "nos_cohort"}], "sensitivity": "some"})
        )
    with pytest.raises(ConfigError, match=r"\.risk_of_bias\.tools\[0\]\.tool: unknown"):
        validate_config(config(risk_of_bias={"tools": [{"tool": "nos"}]}))
    with pytest.raises(ConfigError, match=r"\.characteristics\.fields\[(0|a)\]\.kind"):
        validate_config(
            config(characteristics={"fields": [{"name": "a", "label": "A", "kind": "x"}]})
        )


def test_reference_config_declares_nos_and_the_papers_tables():
    from livingmeta.config import REPO_ROOT

    review = reviews(load_config(REPO_ROOT / "config" / "config.yaml"))["rescue_stenting"]
    tools = [(u["tool"], u.get("studies")) for u in review.spec["risk_of_bias"]["tools"]]
    assert tools == [("nos_cohort", None), ("nos_case_control", ["peng2019"])]
    names = [f["name"] for f in review.spec["characteristics"]["fields"]]
    assert names[:4] == ["country", "period", "design", "patients"]


def test_history_written_before_participants_and_z_still_reads(tmp_path):
    old = tmp_path / "history.csv"
    columns = [c for c in HISTORY_COLUMNS if c not in ("participants", "z", "certainty")]
    row = ["2026-01-01T000000Z", "2026-01-01", "r", "death", "OR", "2"] + ["0.5"] * 6
    old.write_text(",".join(columns) + "\n" + ",".join(row) + "\n")
    table = read_history(old)
    assert list(table.columns) == list(HISTORY_COLUMNS)
    assert table["participants"].isna().iloc[0] and math.isnan(table["z"].iloc[0])
    new = dict(zip(columns, row, strict=True)) | {"run_id": "2026-02-01T000000Z"}
    new |= {"date": "2026-02-01", "participants": 120, "z": -1.5, "certainty": "low"}
    table = update_history(old, [new])
    assert table["participants"].isna().iloc[0] and table["participants"].iloc[1] == 120
    assert old.read_text().splitlines()[0].endswith(",participants,z,certainty")
    assert list(table["certainty"]) == ["", "low"]  # empty: not recorded then


def test_restricted_analysis_texts():
    pooled = {
        "description": "studies not at high risk of bias",
        "status": "pooled",
        "result": {"k": 2, "measure": "OR", "estimate": 0.4, "ci_low": 0.2, "ci_high": 0.8},
    }
    assert (
        restricted_text(pooled)
        == "Studies not at high risk of bias: 2 studies, OR 0.40 [0.20, 0.80]"
    )
    waiting = {"description": "studies at low risk of bias", "status": "not yet assessed"}
    assert restricted_text(waiting) == "Studies at low risk of bias: not yet assessed"
    # Once any study is judged, what the restriction leaves out is named.
    removed = [{"study": "Li 2024", "judgement": "High risk"}]
    assert restricted_text(pooled | {"removed": removed}).endswith(
        "[0.20, 0.80]; left out: Li 2024 (High risk)"
    )
    empty = {**waiting, "status": "no studies left", "removed": removed}
    assert restricted_text(empty) == (
        "Studies at low risk of bias: no studies left; left out: Li 2024 (High risk)"
    )
    unrated = waiting | {"removed": [{"study": "Li 2024", "judgement": "not yet assessed"}]}
    assert restricted_text(unrated) == "Studies at low risk of bias: not yet assessed"
    assert restricted_markdown([]) == ""
    assert "- Death: Studies at low risk" in restricted_markdown([("Death", waiting)])


def test_monitoring_settings_that_do_not_fit_the_data_name_the_key():
    from livingmeta.outcomes import Outcome
    from livingmeta.report.monitoring import monitoring_chart
    from livingmeta.stats import pool
    from livingmeta.stats.data import ContinuousData

    data = ContinuousData(
        study=["a", "b"],
        mean_treat=[1.0, 2.0],
        sd_treat=[1.0, 1.0],
        n_treat=[20, 30],
        mean_ctrl=[0.5, 1.0],
        sd_ctrl=[1.0, 1.0],
        n_ctrl=[20, 30],
    )
    result = pool(data, measure="MD", method="IV", model="fixed")
    outcome = Outcome("pain", "Pain", type="continuous", measure="MD", method="IV")
    where = "reviews[r].outcomes[pain].sequential"
    with pytest.raises(ConfigError, match=r"outcomes\[pain\]\.sequential: give control_risk"):
        monitoring_chart(outcome, {"relative_risk_reduction": 0.2}, result, [], where)
    chart, _ = monitoring_chart(
        outcome, {"mean_difference": 0.5, "sd": 1.0, "heterogeneity": "none"}, result, [], where
    )
    assert chart.information_size == pytest.approx(4 * (1.959964 + 1.281552) ** 2 / 0.25, rel=1e-6)
