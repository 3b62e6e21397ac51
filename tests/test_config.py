"""Config validation: defaults filled in, invalid keys named."""

from __future__ import annotations

import copy

import pytest
import yaml

from livingmeta.config import REPO_ROOT, ConfigError, load_config, reviews, validate_config

MINIMAL = {"reviews": [{"id": "r1", "outcomes": [{"name": "death"}]}]}


def test_shipped_config_is_valid_and_names_the_reference_review():
    config = load_config(REPO_ROOT / "config" / "config.yaml")
    review = reviews(config)["rescue_stenting"]
    assert [o.name for o in review.outcomes] == ["mrs0_2_90d", "mortality_90d", "sich"]
    assert all(
        o.method == "MH" and o.model == "random" and o.measure == "OR" for o in review.outcomes
    )
    assert review.extraction.as_posix() == "reviews/rescue_stenting/extraction.csv"


def test_defaults_are_filled_in():
    config = validate_config(copy.deepcopy(MINIMAL))
    outcome = config["reviews"][0]["outcomes"][0]
    assert outcome["measure"] == "OR" and outcome["method"] == "MH" and outcome["model"] == "random"
    assert config["plots"]["formats"] == ["png", "svg", "pdf"]
    review = reviews(config)["r1"]
    assert review.folder.as_posix() == "reviews/r1"
    assert review.outcomes[0].favours() == ("Favours Treatment", "Favours Control")


@pytest.mark.parametrize(
    ("measure", "given", "expected"),
    [
        ("MD", {}, ("continuous", "IV")),
        ("SMD", {}, ("continuous", "IV")),
        ("GIV", {}, ("generic", "IV")),
        ("RR", {}, ("dichotomous", "MH")),
        ("GIV", {"type": "generic", "method": "MH"}, None),  # what is given is kept
        ("MD", {"method": "IV", "type": "continuous"}, ("continuous", "IV")),
    ],
)
def test_type_and_method_left_out_follow_the_measure(measure, given, expected):
    """``measure: MD`` alone is a continuous outcome pooled by inverse variance, not the
    schema's dichotomous Mantel-Haenszel default, which would be refused."""
    config = copy.deepcopy(MINIMAL)
    config["reviews"][0]["outcomes"][0].update(measure=measure, **given)
    if expected is None:
        with pytest.raises(ConfigError, match="method MH needs a binary measure"):
            validate_config(config)
        return
    outcome = validate_config(config)["reviews"][0]["outcomes"][0]
    assert (outcome["type"], outcome["method"]) == expected


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["reviews"][0]["outcomes"][0].update(measure="XX"),
            "reviews[r1].outcomes[death].measure: 'XX' is not one of",
        ),
        (
            lambda c: c["reviews"][0].update(colour="red"),
            "reviews[r1]: 'colour' is not a key; the keys are: id, title",
        ),
        (
            lambda c: c["reviews"][0].pop("outcomes"),
            "reviews[r1]: 'outcomes' is a required property",
        ),
        (
            lambda c: c["reviews"][0].update(id="has space"),
            "reviews[has space].id: 'has space' does not match",
        ),
        (lambda c: c.update(plots={"dpi": 10}), "plots.dpi: 10 is less than the minimum of 50"),
        (
            lambda c: c["reviews"][0]["outcomes"][0].update(method="Peto", measure="RR"),
            "reviews[r1].outcomes[death]: method Peto gives odds ratios only",
        ),
        (
            lambda c: c["reviews"][0]["outcomes"][0].update(type="continuous"),
            "reviews[r1].outcomes[death]: outcome death: a continuous outcome needs MD or SMD",
        ),
        (
            lambda c: c["reviews"].append(copy.deepcopy(c["reviews"][0])),
            "reviews[1].id: duplicate review id 'r1'",
        ),
    ],
)
def test_invalid_config_names_the_key(change, expected):
    config = copy.deepcopy(MINIMAL)
    change(config)
    with pytest.raises(ConfigError) as info:
        validate_config(config, "config/config.yaml")
    assert f"config/config.yaml: {expected}" in str(info.value)


def test_load_config_reads_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(MINIMAL))
    assert load_config(path)["reviews"][0]["id"] == "r1"


def test_a_command_s_review_is_chosen_by_id_with_a_suggestion():
    from livingmeta.config import choose_review

    config = validate_config(copy.deepcopy(MINIMAL))
    config["reviews"].append({**copy.deepcopy(config["reviews"][0]), "id": "tnk_stroke"})
    portfolio = reviews(config)
    assert choose_review(portfolio, "tnk_stroke").id == "tnk_stroke"
    with pytest.raises(ValueError, match="unknown review 'tnk-stroke'; the config has r1, "
                       "tnk_stroke; did you mean 'tnk_stroke'"):  # fmt: skip
        choose_review(portfolio, "tnk-stroke")
    with pytest.raises(ValueError, match="several reviews; name one with --review: r1"):
        choose_review(portfolio, None)
    assert choose_review({"r1": portfolio["r1"]}, None).id == "r1"
    with pytest.raises(ValueError, match="the config declares no review"):
        choose_review({}, None)
