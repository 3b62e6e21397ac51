"""Tests for small-study effects (funnel plot asymmetry), as metafor and R meta run them.

- Egger: weighted regression of ``yi`` on its standard error, t test of the slope on
  k - 2 df (metafor ``regtest(model = "lm")``), or the mixed-effects version with the
  fit's tau2 estimator, z test (``regtest(model = "rma")``).
- Begg: Kendall's tau between standardised effects and variances (``ranktest``).
- Peters: the ``lm`` regression on 1 / total sample size (``regtest(predictor = "ninv")``).
- Harbord: the score-based test for odds ratios (R meta ``metabias(method.bias =
  "Harbord")``): regression of ``(O - E) / sqrt(V)`` on ``sqrt(V)``, t test of the intercept.

All take study effects on the analysis scale (log for ratios).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livingmeta.stats.distributions import t_sf
from livingmeta.stats.linear import wls
from livingmeta.stats.metareg import fit_design

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BiasTest:
    """One test's statistic (t, z, or Kendall's tau for Begg), its df and P value."""

    name: str
    statistic: float
    p: float
    df: int | None = None

    def to_dict(self) -> dict[str, float | int]:
        """``{"statistic", "p"}`` plus ``"df"`` for t tests."""
        out: dict[str, float | int] = {"statistic": self.statistic, "p": self.p}
        if self.df is not None:
            out["df"] = self.df
        return out


def _lm_test(y: FloatArray, X: FloatArray, weights: FloatArray, index: int, name: str) -> BiasTest:
    """t test of one coefficient of a weighted linear model (R ``summary(lm(...))``)."""
    k, p = X.shape
    if k <= p:
        raise ValueError(f"{name} needs at least {p + 1} studies; got {k}")
    fit = wls(y, weights, X)
    se = float(np.sqrt(fit.vb[index, index] * fit.rss / (k - p)))
    statistic = float(fit.beta[index]) / se
    return BiasTest(name, statistic, float(2 * t_sf(abs(statistic), k - p)), k - p)


def egger_test(yi: npt.ArrayLike, vi: npt.ArrayLike) -> BiasTest:
    """Egger's regression test (metafor ``regtest(model = "lm")``).

    Examples
    --------
    >>> round(egger_test([0.1, 0.3, 0.2, 0.6, 0.9], [0.01, 0.02, 0.04, 0.09, 0.16]).df)
    3
    """
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    X = np.column_stack([np.ones_like(y), np.sqrt(v)])
    return _lm_test(y, X, 1 / v, 1, "egger")


def egger_rma_test(yi: npt.ArrayLike, vi: npt.ArrayLike, tau2_method: str = "REML") -> BiasTest:
    """Egger's test as a mixed-effects meta-regression on the standard error, z test of the
    slope (metafor ``regtest(model = "rma")``; ``tau2_method="EE"`` for a fixed-effect fit)."""
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    X = np.column_stack([np.ones_like(y), np.sqrt(v)])
    slope = fit_design(y, v, X, ("intrcpt", "sei"), tau2_method).coefficients[1]
    return BiasTest("egger_rma", slope.statistic, slope.p)


def begg_test(yi: npt.ArrayLike, vi: npt.ArrayLike) -> BiasTest:
    """Begg and Mazumdar's rank correlation test (metafor ``ranktest``): Kendall's tau
    between ``(yi - theta) / sqrt(vi - 1 / sum w)`` and ``vi``, theta the fixed-effect
    estimate; exact P value unless there are ties (then the normal approximation, as R's
    ``cor.test``)."""
    from scipy.stats import kendalltau  # only here: scipy.stats costs 0.5 s to import

    y, v = np.asarray(yi, float), np.asarray(vi, float)
    w = 1 / v
    theta = float(np.sum(w * y) / np.sum(w))
    standardised = (y - theta) / np.sqrt(v - 1 / np.sum(w))
    ties = len(np.unique(standardised)) < len(y) or len(np.unique(v)) < len(v)
    result = kendalltau(standardised, v, method="asymptotic" if ties else "exact")
    return BiasTest("begg", float(result.statistic), float(result.pvalue))


def peters_test(yi: npt.ArrayLike, vi: npt.ArrayLike, n_total: npt.ArrayLike) -> BiasTest:
    """Peters' test: ``yi`` on 1 / total sample size, weights 1 / vi, t test of the slope
    (metafor ``regtest(model = "lm", predictor = "ninv")``)."""
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    X = np.column_stack([np.ones_like(y), 1 / np.asarray(n_total, float)])
    return _lm_test(y, X, 1 / v, 1, "peters")


def harbord_test(
    events_treat: npt.ArrayLike,
    total_treat: npt.ArrayLike,
    events_ctrl: npt.ArrayLike,
    total_ctrl: npt.ArrayLike,
) -> BiasTest:
    """Harbord's modified test for odds ratios (Harbord, Egger & Sterne 2006): the
    efficient score ``Z = O - E`` and its variance ``V`` per study (the Peto quantities,
    no continuity correction; studies with ``V = 0`` are left out), regression of
    ``Z / sqrt(V)`` on ``sqrt(V)``, t test of the intercept on k - 2 df."""
    a, n1 = np.asarray(events_treat, float), np.asarray(total_treat, float)
    c, n2 = np.asarray(events_ctrl, float), np.asarray(total_ctrl, float)
    n, m = n1 + n2, a + c
    z = a - n1 * m / n
    with np.errstate(divide="ignore", invalid="ignore"):
        v = n1 * n2 * m * (n - m) / (n**2 * (n - 1))
    keep = v > 0
    root_v = np.sqrt(v[keep])
    X = np.column_stack([np.ones_like(root_v), root_v])
    return _lm_test(z[keep] / root_v, X, np.ones_like(root_v), 0, "harbord")
