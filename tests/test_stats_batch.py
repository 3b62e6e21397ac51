"""The vectorised batch path gives the same numbers as pooling one analysis at a time."""

from __future__ import annotations

import numpy as np
import pytest

from livingmeta.stats import BinaryData, NotEstimableError, pool
from livingmeta.stats.batch import pool_batch_binary
from livingmeta.stats.options import TAU2_METHODS


def simulated(n: int, k: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    n1 = rng.integers(10, 200, size=(n, k)).astype(float)
    n2 = rng.integers(10, 200, size=(n, k)).astype(float)
    a = rng.binomial(n1.astype(int), 0.2).astype(float)
    c = rng.binomial(n2.astype(int), rng.uniform(0.1, 0.4, size=(n, 1))).astype(float)
    return a, n1, c, n2


@pytest.mark.parametrize("tau2_method", TAU2_METHODS)
@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_batch_equals_single(measure, tau2_method):
    a, n1, c, n2 = simulated(25, 7)
    a[3, :2] = 0  # zero cells
    c[3, :1] = 0  # and one double zero
    batch = pool_batch_binary(a, n1, c, n2, measure, tau2_method)
    for i in range(a.shape[0]):
        data = BinaryData(tuple(map(str, range(7))), a[i], n1[i], c[i], n2[i])
        if np.isnan(batch.tau2[i]):  # not converged (DLIT often): pool() refuses instead
            with pytest.raises(NotEstimableError, match="did not converge"):
                pool(data, measure, "IV", "random", tau2_method)
            continue
        single = pool(data, measure, "IV", "random", tau2_method)
        assert batch.k[i] == single.k
        assert batch.estimate[i] == pytest.approx(single.estimate, rel=1e-10, abs=1e-14)
        assert batch.se[i] == pytest.approx(single.se, rel=1e-10)
        assert batch.tau2[i] == pytest.approx(single.tau2, rel=1e-10, abs=1e-14)
        assert batch.q[i] == pytest.approx(single.q, rel=1e-10)
        assert batch.i2[i] == pytest.approx(single.i2, rel=1e-10, abs=1e-12)
        assert batch.p[i] == pytest.approx(single.p, rel=1e-8)


def test_rows_padded_with_nan_pool_fewer_studies():
    a, n1, c, n2 = simulated(2, 5)
    for arr in (a, n1, c, n2):
        arr[1, 3:] = np.nan
    batch = pool_batch_binary(a, n1, c, n2, "OR", "REML")
    single = pool(
        BinaryData(("0", "1", "2"), a[1, :3], n1[1, :3], c[1, :3], n2[1, :3]),
        "OR",
        "IV",
        "random",
        "REML",
    )
    assert batch.k.tolist() == [5, 3]
    assert batch.estimate[1] == pytest.approx(single.estimate, rel=1e-12)
