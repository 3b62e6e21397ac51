"""The batch Egger test and meta-regression give each analysis exactly the
single-analysis result (which the other tests hold to metafor)."""

from __future__ import annotations

import numpy as np
import pytest

from livingmeta.stats import NotEstimableError, egger_test, meta_regression
from livingmeta.stats.batch_regression import egger_batch, meta_regression_batch
from livingmeta.stats.metareg import fit_design

TOL = 1e-9


def simulated(n: int = 40, k: int = 12, seed: int = 7):
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.3, size=(n, k))
    x = rng.uniform(10, 60, size=(n, k))
    yi = -0.4 + 0.02 * (x - 35) + rng.normal(0, np.sqrt(vi + 0.05))
    yi[::3, -2:] = np.nan  # analyses with fewer studies
    vi[::3, -2:] = np.nan
    return yi, vi, x


def test_egger_batch_equals_single():
    yi, vi, _ = simulated()
    batch = egger_batch(yi, vi)
    for i in range(len(yi)):
        ok = np.isfinite(yi[i])
        single = egger_test(yi[i, ok], vi[i, ok])
        assert batch.k[i] == ok.sum() and batch.df[i] == single.df
        assert batch.statistic[i] == pytest.approx(single.statistic, rel=TOL)
        assert batch.p[i] == pytest.approx(single.p, rel=TOL)


@pytest.mark.parametrize("method", ["DL", "REML"])
def test_meta_regression_batch_equals_single(method):
    yi, vi, x = simulated()
    design = np.stack([np.ones_like(x), x], axis=-1)
    batch = meta_regression_batch(yi, vi, design, method)
    failed = 0
    for i in range(len(yi)):
        ok = np.isfinite(yi[i])
        try:
            single = meta_regression(yi[i, ok], vi[i, ok], {"x": x[i, ok]}, method)
        except NotEstimableError:
            # Fisher scoring oscillates here; metafor 3.8 stops with the same error.
            assert np.isnan(batch.tau2[i])
            failed += 1
            continue
        assert batch.tau2[i] == pytest.approx(single.tau2, rel=TOL, abs=1e-12)
        assert batch.qe[i] == pytest.approx(single.qe, rel=TOL)
        assert batch.qm[i] == pytest.approx(single.qm, rel=TOL)
        assert batch.qm_p[i] == pytest.approx(single.qm_p, rel=TOL)
        for j, coefficient in enumerate(single.coefficients):
            assert batch.estimate[i, j] == pytest.approx(coefficient.estimate, rel=TOL)
            assert batch.se[i, j] == pytest.approx(coefficient.se, rel=TOL)
            assert batch.p[i, j] == pytest.approx(coefficient.p, rel=TOL)
    assert failed <= 1


def test_shared_design_and_intercept_only():
    yi, vi, _ = simulated(n=5)
    yi, vi = yi[1:3, :10], vi[1:3, :10]
    batch = meta_regression_batch(yi, vi, np.ones((10, 1)), "REML")
    for i in range(2):
        single = fit_design(yi[i], vi[i], np.ones((10, 1)), ("intrcpt",), "REML")
        assert batch.estimate[i, 0] == pytest.approx(single.coefficients[0].estimate, rel=TOL)


def test_batch_refuses_paule_mandel():
    with pytest.raises(ValueError, match="DL or REML"):
        meta_regression_batch([[0.1, 0.2, 0.3]], [[0.1, 0.1, 0.1]], np.ones((3, 1)), "PM")
