"""Errors a person can act on: where (review id, outcome name, line and column) and what
to write instead; and the same report in the scheduled run's summary."""

from __future__ import annotations

import copy

import pytest

from livingmeta.cli import main
from livingmeta.config import ConfigError, load_config, validate_config
from livingmeta.schedule.run import validation_report_lines

CONFIG = {
    "reviews": [
        {"id": "rescue_stenting", "outcomes": [{"name": "mrs"}, {"name": "sich"}]},
    ]
}


def problems_of(config: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config(config, "config/config.yaml")
    return str(info.value)


def test_misspelt_key_names_review_and_outcome_and_suggests_the_key():
    config = copy.deepcopy(CONFIG)
    config["reviews"][0]["outcomes"][1]["lable"] = "Symptomatic haemorrhage"
    assert (
        "config/config.yaml: reviews[rescue_stenting].outcomes[sich]: 'lable' is not a key; "
        "did you mean 'label'?"
    ) in problems_of(config)


def test_unknown_key_with_nothing_close_lists_the_keys():
    config = copy.deepcopy(CONFIG)
    config["plots"] = {"colour": "red"}
    assert "plots: 'colour' is not a key; the keys are: formats, dpi" in problems_of(config)


def test_plot_formats_must_include_the_png_that_report_and_site_show():
    config = copy.deepcopy(CONFIG)
    config["plots"] = {"formats": ["svg", "pdf"]}
    assert "plots.formats: must include 'png'; got ['svg', 'pdf']" in problems_of(config)
    config["plots"] = {"formats": ["png"]}
    validate_config(config, "config/config.yaml")


def test_wrong_case_of_a_choice_suggests_the_right_one():
    config = copy.deepcopy(CONFIG)
    config["reviews"][0]["outcomes"][0]["measure"] = "or"
    message = problems_of(config)
    assert "reviews[rescue_stenting].outcomes[mrs].measure: 'or' is not one of" in message
    assert message.rstrip().endswith("did you mean 'OR'?")


def test_yaml_syntax_error_gives_file_line_and_column(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text("reviews:\n  - id: x\n    title: Stents: a review\n", encoding="utf-8")
    expected = r"config\.yaml, line 3, column 18: YAML syntax error: mapping values are not"
    with pytest.raises(ConfigError, match=expected):
        load_config(path)
    assert main(["validate", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 3, column 18: YAML syntax error" in err and "Traceback" not in err


def test_an_unclosed_bracket_is_named_where_it_opened(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("reviews:\n  - id: x\n    outcomes: [a, b\n    title: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).endswith(
        "config.yaml, line 4, column 10: YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence started at line 3, column 15)"
    )


def test_scheduled_run_summary_carries_each_problem_of_the_report():
    report = (
        "livingmeta validate: 2 problems found:\n"
        "  - reviews/r/studies.csv, row 2, column 'exclude_retracted': 'maybe' is not empty\n"
        "  - reviews/r/extraction.csv, row 7, column 'events_treat': 60 events exceed 48\n"
    )
    assert validation_report_lines(report) == [
        "reviews/r/studies.csv, row 2, column 'exclude_retracted': 'maybe' is not empty",
        "reviews/r/extraction.csv, row 7, column 'events_treat': 60 events exceed 48",
    ]
    many = "livingmeta validate: 30 problems found:\n" + "".join(f"  - p{i}\n" for i in range(30))
    lines = validation_report_lines(many)
    assert len(lines) == 21 and lines[-1] == "... and 10 more (see the log)"
