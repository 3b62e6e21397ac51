"""Invariants of the pooling engine, checked on generated data (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livingmeta.stats import BinaryData, ContinuousData, GenericData, pool
from livingmeta.stats.pooling import NotEstimableError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONFIGS = [
    {"method": "MH", "model": "fixed"},
    {"method": "MH", "model": "random"},
    {"method": "IV", "model": "fixed"},
    {"method": "IV", "model": "random", "tau2_method": "DL"},
    {"method": "IV", "model": "random", "tau2_method": "REML"},
    {"method": "IV", "model": "random", "tau2_method": "PM", "hksj": True},
    {"method": "Peto", "model": "fixed"},
]


@st.composite
def two_by_two(draw, min_k=2, max_k=8):
    """Trials with informative counts (no double zeros)."""
    k = draw(st.integers(min_k, max_k))
    rows = []
    for _ in range(k):
        n1, n2 = draw(st.integers(5, 300)), draw(st.integers(5, 300))
        a, c = draw(st.integers(0, n1)), draw(st.integers(0, n2))
        if (a == 0 and c == 0) or (a == n1 and c == n2):
            a = 1
        rows.append((a, n1, c, n2))
    a, n1, c, n2 = map(list, zip(*rows, strict=True))
    return BinaryData(tuple(f"s{i}" for i in range(k)), a, n1, c, n2)


@pytest.mark.parametrize("options", CONFIGS, ids=lambda o: "-".join(map(str, o.values())))
@SETTINGS
@given(data=two_by_two(), seed=st.integers(0, 2**32 - 1))
def test_study_order_does_not_matter(options, data, seed):
    order = np.random.default_rng(seed).permutation(data.k)
    if (
        options.get("hksj")
        and len({tuple(r) for r in np.column_stack(list(data.arm_columns().values()))}) == 1
    ):
        return  # identical studies: HKSJ's SE is 0
    a = pool(data, "OR", **options)
    b = pool(data.take(order), "OR", **options)
    for field in ("estimate", "se", "q", "tau2", "i2", "p"):
        assert getattr(b, field) == pytest.approx(getattr(a, field), rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("measure", ["OR", "RR"])
@pytest.mark.parametrize("options", CONFIGS[:4], ids=lambda o: "-".join(map(str, o.values())))
@SETTINGS
@given(data=two_by_two())
def test_swapping_arms_inverts_a_ratio(measure, options, data):
    a = pool(data, measure, **options)
    b = pool(data.swap_arms(), measure, **options)
    assert b.estimate == pytest.approx(-a.estimate, abs=1e-9)
    assert b.ci_low == pytest.approx(-a.ci_high, abs=1e-9)
    assert b.q == pytest.approx(a.q, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
@pytest.mark.parametrize("options", CONFIGS, ids=lambda o: "-".join(map(str, o.values())))
@SETTINGS
@given(k=st.integers(1, 6), n=st.integers(1, 50), zeros=st.data())
def test_results_finite_with_zero_cells(measure, options, k, n, zeros):
    if options["method"] == "Peto" and measure != "OR":
        return
    # Every study has a zero cell in the treatment arm (0 events or all events).
    a = [zeros.draw(st.sampled_from([0, n])) for _ in range(k)]
    c = [zeros.draw(st.integers(1, n)) for _ in range(k)]
    data = BinaryData(tuple(f"s{i}" for i in range(k)), a, [n] * k, c, [n + 1] * k)
    if options.get("hksj") and (k < 2 or len(set(zip(a, c, strict=True))) == 1):
        return  # HKSJ is undefined for one study and degenerate (zero SE) for identical ones
    try:
        result = pool(data, measure, **options)
    except NotEstimableError:
        return
    values = [result.estimate, result.se, result.ci_low, result.ci_high, result.q, result.tau2]
    assert all(math.isfinite(v) for v in values), values
    weights = [s.weight for s in result.studies]
    assert sum(weights) == pytest.approx(100.0)


def test_double_zero_shown_not_pooled_for_ratios_kept_for_rd():
    data = BinaryData(("a", "b", "dz"), [3, 5, 0], [20, 30, 15], [6, 9, 0], [20, 31, 14])
    for measure in ("OR", "RR"):
        result = pool(data, measure, "MH", "fixed")
        assert result.k == 2
        dz = result.studies[2]
        assert not dz.estimable and dz.weight == 0 and math.isnan(dz.yi)
    rd = pool(data, "RD", "MH", "fixed")
    assert (
        rd.k == 3
        and rd.studies[2].estimable
        and rd.studies[2].yi == pytest.approx(0.5 / 16 - 0.5 / 15)
    )


def test_all_double_zero_is_not_estimable():
    data = BinaryData(("a", "b"), [0, 0], [10, 12], [0, 0], [11, 9])
    with pytest.raises(NotEstimableError):
        pool(data, "OR", "MH", "random")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"measure": "XX"}, "measure must be one of"),
        ({"method": "Bayes"}, "method must be one of"),
        ({"model": "mixed"}, "model must be one of"),
        ({"tau2_method": "GENQ"}, "tau2_method must be one of"),
        ({"method": "Peto", "measure": "RR"}, "Peto gives odds ratios only"),
        ({"method": "Peto", "model": "random"}, "fixed-effect method"),
        ({"model": "fixed", "hksj": True}, "random-effects models only"),
    ],
)
def test_bad_options_are_rejected_with_the_allowed_values(kwargs, message):
    data = BinaryData(("a", "b"), [1, 2], [10, 10], [3, 4], [10, 10])
    options = {"measure": "OR", "method": "IV", "model": "random", **kwargs}
    with pytest.raises(ValueError, match=message):
        pool(data, **options)


def test_mh_needs_dichotomous_data():
    data = ContinuousData(("a", "b"), [1, 2], [1, 1], [10, 10], [0, 0], [1, 1], [10, 10])
    with pytest.raises(ValueError, match="measure"):
        pool(data, "MD", method="MH")


def test_generic_inverse_variance_equals_iv_on_the_same_effects():
    data = BinaryData(("a", "b", "c"), [4, 6, 3], [123, 306, 231], [11, 29, 11], [139, 303, 220])
    iv = pool(data, "OR", "IV", "random", "REML")
    generic = GenericData(
        data.study, [s.yi for s in iv.studies], [math.sqrt(s.vi) for s in iv.studies]
    )
    giv = pool(generic, "OR", "IV", "random", "REML")
    assert giv.estimate == pytest.approx(iv.estimate, rel=1e-12)
    assert giv.conf_int() == pytest.approx(iv.conf_int(), rel=1e-12)


def test_single_study_pools_to_itself():
    data = BinaryData(("only",), [4], [40], [9], [41])
    result = pool(data, "OR", "MH", "random")
    assert result.k == 1 and result.df == 0 and result.tau2 == 0
    assert math.isnan(result.i2) and math.isnan(result.i2_tau2)
    assert result.to_dict()["i2"] is None and result.to_dict()["i2_tau2"] is None
    assert result.estimate == pytest.approx(result.studies[0].yi)


def test_i2_of_one_study_is_undefined_even_when_q_is_rounding_noise():
    from livingmeta.stats.heterogeneity import cochran_q, i_squared

    # one study with y = 0.1, w = 3: the weighted mean is off in the last bit
    q = cochran_q(np.array([0.1]), np.array([3.0]))
    assert q > 0
    assert math.isnan(i_squared(q, 0))
    assert i_squared(np.array([q, 3.0]), np.array([0, 1])).tolist()[1] == pytest.approx(100 * 2 / 3)


def test_reml_that_does_not_converge_is_reported(monkeypatch):
    import livingmeta.stats.heterogeneity as heterogeneity

    # heterogeneous trials (four of metadat's dat.bcg): one Fisher step cannot converge
    data = BinaryData(
        ("a", "b", "c", "d"),
        [4, 6, 62, 505],
        [123, 306, 13598, 88391],
        [11, 29, 248, 499],
        [139, 303, 12867, 88391],
    )
    monkeypatch.setattr(heterogeneity, "REML_MAX_ITER", 1)
    with pytest.raises(NotEstimableError, match="REML estimate of tau2 did not converge"):
        pool(data, "OR", "IV", "random", "REML")
