"""Small-study effects tests and trim-and-fill against metafor (tests/reference/bias.json):
``regtest`` (lm and rma), ``ranktest``, ``regtest(predictor = "ninv")``, Harbord's test
(as R meta's metabias, written out in make_reference.R) and ``trimfill``."""

from __future__ import annotations

import numpy as np
import pytest

from livingmeta.stats import BinaryData, escalc
from livingmeta.stats.bias import (
    begg_test,
    egger_rma_test,
    egger_test,
    harbord_test,
    peters_test,
)
from livingmeta.stats.small_study import BIAS_TESTS, small_study_effects
from livingmeta.stats.trim_and_fill import trimfill
from tests.stats_reference import close, dataset, reference

RESULTS = reference("bias")["results"]
CASES = [
    (name, measure, fit)
    for name, measures in RESULTS.items()
    for measure, fits in measures.items()
    for fit in fits
]


def effects(name: str, measure: str):
    data = dataset(name)
    es = escalc(measure, data)
    ok = es.estimable
    if isinstance(data, BinaryData):
        n = data.total_treat + data.total_ctrl
    else:
        n = data.n_treat + data.n_ctrl
    return data, es.yi[ok], es.vi[ok], n[ok]


def test_every_dataset_and_fit_is_covered():
    assert len(CASES) >= 30
    assert {fit for _, _, fit in CASES} == {"EE", "DL", "REML", "PM"}
    assert {name for name, _, _ in CASES} >= {"bcg", "egger2001", "nielweise2007"}


@pytest.mark.parametrize(("name", "measure", "fit"), CASES, ids=["-".join(c) for c in CASES])
def test_tests_match_metafor(name, measure, fit):
    data, yi, vi, n = effects(name, measure)
    expected = RESULTS[name][measure][fit]
    got = {
        "egger": egger_test(yi, vi),
        "egger_rma": egger_rma_test(yi, vi, fit),
        "begg": begg_test(yi, vi),
        "peters": peters_test(yi, vi, n),
    }
    if measure == "OR":
        got["harbord"] = harbord_test(
            data.events_treat, data.total_treat, data.events_ctrl, data.total_ctrl
        )
    assert set(expected) - {"trimfill"} == set(got)
    for test, result in got.items():
        for key, value in expected[test].items():
            assert close(result.to_dict()[key], value), (test, key, result, value)


@pytest.mark.parametrize(("name", "measure", "fit"), CASES, ids=["-".join(c) for c in CASES])
def test_trimfill_matches_metafor(name, measure, fit):
    _, yi, vi, _ = effects(name, measure)
    expected = RESULTS[name][measure][fit]["trimfill"]
    got = trimfill(yi, vi, fit)
    assert got.k0 == expected["k0"]
    assert got.side == expected["side"]
    assert len(got.filled_yi) == got.k0
    for key in ("estimate", "ci_low", "ci_high", "tau2"):
        assert close(getattr(got, key), expected[key]), (key, getattr(got, key), expected[key])


def test_trimfill_fills_some_studies_somewhere():
    """The reference cases exercise both sides and a non-zero k0, so the mirror step runs."""
    sides = {RESULTS[n][m][f]["trimfill"]["side"] for n, m, f in CASES}
    assert sides == {"left", "right"}
    assert any(RESULTS[n][m][f]["trimfill"]["k0"] > 0 for n, m, f in CASES)


def test_begg_uses_normal_approximation_with_ties():
    yi = np.array([0.1, 0.1, 0.3, 0.5, 0.2, 0.8])
    vi = np.array([0.01, 0.02, 0.02, 0.05, 0.04, 0.09])
    result = begg_test(yi, vi)
    assert -1 <= result.statistic <= 1 and 0 < result.p <= 1


def test_too_few_studies_for_a_regression_test():
    with pytest.raises(ValueError, match="at least 3 studies"):
        egger_test([0.1, 0.2], [0.01, 0.02])


def test_cochrane_rule_below_ten_studies():
    result = small_study_effects(dataset("hine1989"), "OR", tests=BIAS_TESTS, with_trimfill=True)
    assert result.k == 6 and not result.assessed
    out = result.to_dict()
    assert out["note"] == "not assessed (k < 10)"
    assert out["tests"] == {} and out["trimfill"] is None


def test_lowered_threshold_runs_and_says_so():
    result = small_study_effects(dataset("hine1989"), "OR", "random", "DL", min_k=5)
    assert result.assessed and "lowered to 5" in result.note
    assert set(result.tests) == set(BIAS_TESTS)


def test_assessment_reproduces_metafor_and_reports_ratios():
    """egger2001 (k = 16), REML fit: the JSON of ``livingmeta bias`` holds metafor's values."""
    expected = RESULTS["egger2001"]["OR"]["REML"]
    out = small_study_effects(dataset("egger2001"), "OR", "random", "REML", with_trimfill=True)
    out = out.to_dict()
    assert out["assessed"] and out["note"] is None and out["k"] == 16
    for test in ("egger", "egger_rma", "begg", "peters", "harbord"):
        assert close(out["tests"][test]["p"], expected[test]["p"]), test
    assert out["tests"]["egger"]["df"] == 14
    tf = expected["trimfill"]
    assert out["trimfill"]["k0"] == tf["k0"] and out["trimfill"]["side"] == tf["side"]
    assert close(out["trimfill"]["estimate"], float(np.exp(tf["estimate"])))
    fixed = small_study_effects(dataset("egger2001"), "OR", "fixed", with_trimfill=True)
    assert close(fixed.tests["egger-rma"].p, RESULTS["egger2001"]["OR"]["EE"]["egger_rma"]["p"])


def test_tests_that_do_not_apply_are_listed_not_run():
    result = small_study_effects(dataset("normand1999"), "SMD", min_k=5)
    assert set(result.not_run) == {"peters", "harbord"}
    assert set(result.tests) == {"egger", "egger-rma", "begg"}
    rr = small_study_effects(dataset("egger2001"), "RR")
    assert "harbord" in rr.not_run and "peters" in rr.tests
