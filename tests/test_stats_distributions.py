"""The scipy.special-based distribution functions give scipy.stats' values to the last bit
(so the pinned outputs do not move), on a grid that includes each function's edges."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from livingmeta.stats import distributions as d

#: Values of a statistic: both infinities, signed zeros, tiny and huge ones, NaN.
X = np.array([-np.inf, -40.0, -8.5, -3.0, -1.959963984540054, -0.5, -0.0, 0.0, 1e-300])
X = np.append(X, [1e-12, 0.25, 0.5, 1.0, 1.96, 2.0, 3.84, 7.5, 30.0, 1e3, 1e300, np.inf, np.nan])
#: Probabilities: both ends, near them, outside [0, 1], NaN.
Q = np.array([0.0, 1e-300, 1e-12, 0.001, 0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975, 0.995])
Q = np.append(Q, [1 - 1e-12, 1.0, -0.1, 1.1, np.nan])
DF = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 7.0, 29.0, 1e4, np.inf])


def assert_same_bits(got: object, expected: object) -> None:
    """Equal values, NaN where NaN, the same sign of zero and the same type (a NaN's
    sign bit is not compared: no output shows it)."""
    got_array, expected_array = np.asarray(got), np.asarray(expected)
    assert type(got) is type(expected)
    assert got_array.dtype == expected_array.dtype
    np.testing.assert_array_equal(got_array, expected_array)
    numbers = ~np.isnan(expected_array)
    np.testing.assert_array_equal(
        np.signbit(got_array[numbers]), np.signbit(expected_array[numbers])
    )


@pytest.mark.parametrize(
    ("ours", "theirs", "grid"),
    [
        (d.norm_pdf, stats.norm.pdf, X),
        (d.norm_cdf, stats.norm.cdf, X),
        (d.norm_sf, stats.norm.sf, X),
        (d.norm_ppf, stats.norm.ppf, Q),
        (d.norm_isf, stats.norm.isf, Q),
    ],
)
def test_normal_functions_are_scipy_stats_bit_for_bit(ours, theirs, grid) -> None:
    with np.errstate(over="ignore"):  # the density squares 1e300, in scipy.stats too
        assert_same_bits(ours(grid), theirs(grid))
        for value in grid:
            assert_same_bits(ours(float(value)), theirs(float(value)))


@pytest.mark.parametrize(
    ("ours", "theirs", "grid"),
    [
        (d.t_sf, stats.t.sf, X),
        (d.t_ppf, stats.t.ppf, Q),
        (d.chi2_sf, stats.chi2.sf, X),
        (d.chi2_ppf, stats.chi2.ppf, Q),
        (d.chi2_isf, stats.chi2.isf, Q),
    ],
)
def test_one_df_functions_are_scipy_stats_bit_for_bit(ours, theirs, grid) -> None:
    x, df = np.meshgrid(grid, DF)
    assert_same_bits(ours(x, df), theirs(x, df))
    for value in grid:
        for n in (1, 4, 5.5):
            assert_same_bits(ours(float(value), n), theirs(float(value), n))


def test_f_sf_is_scipy_stats_bit_for_bit() -> None:
    x, dfn, dfd = np.meshgrid(X, DF, DF)
    assert_same_bits(d.f_sf(x, dfn, dfd), stats.f.sf(x, dfn, dfd))
    for value in X:
        assert_same_bits(d.f_sf(float(value), 2, 7), stats.f.sf(float(value), 2, 7))


@pytest.mark.parametrize("df", [None, 1, 3, 17.5])
def test_reference_is_the_frozen_distribution(df) -> None:
    frozen = stats.norm() if df is None else stats.t(df)
    reference = d.Reference(df)
    for q in Q:
        assert_same_bits(reference.ppf(float(q)), frozen.ppf(float(q)))
    for x in X:
        assert_same_bits(reference.sf(abs(float(x))), frozen.sf(abs(float(x))))
    assert_same_bits(reference.sf(X), frozen.sf(X))


@pytest.mark.parametrize("seed", range(5))
def test_ordinal_ranks_are_scipy_rankdata(seed) -> None:
    from livingmeta.stats.trim_and_fill import ordinal_ranks

    values = np.random.default_rng(seed).integers(0, 6, size=25) / 4  # many ties
    expected = stats.rankdata(values, method="ordinal")
    got = ordinal_ranks(values)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
