"""Q-profile confidence interval for tau2 and the derived intervals for I2 and H2, as
metafor's ``confint(rma_fit)`` (Viechtbauer 2007; the Cochrane Handbook's method since the
2025 RevMan update).

The bounds are the tau2 values at which the generalised Q statistic equals the upper and
lower chi2 quantiles on k - p df, found with R's ``uniroot`` steps on metafor's interval
``[0, max(100, 10 tau2)]``; a bound that cannot be reached is truncated at 0 as metafor does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livingmeta.stats.distributions import chi2_isf, chi2_ppf
from livingmeta.stats.linear import intercept_only, residual_q, typical_variance
from livingmeta.stats.result import PooledResult
from livingmeta.stats.roots import uniroot

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Tau2Interval:
    """Confidence intervals of tau2, I2 (percent) and H2."""

    tau2_low: float
    tau2_high: float
    i2_low: float
    i2_high: float
    h2_low: float
    h2_high: float


def q_profile(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    tau2: float,
    level: float = 0.95,
    X: FloatArray | None = None,
) -> Tau2Interval:
    """Q-profile interval for tau2 of a random-effects model (``X`` for moderators).

    Examples
    --------
    >>> ci = q_profile([0.1, 0.5, -0.3, 0.9], [0.04, 0.05, 0.03, 0.06], tau2=0.15)
    >>> ci.tau2_low < 0.15 < ci.tau2_high
    True
    """
    y = np.asarray(yi, dtype=np.float64)
    v = np.asarray(vi, dtype=np.float64)
    design = intercept_only(len(y)) if X is None else X
    k, p = design.shape
    if k - p < 1:
        raise ValueError("the Q-profile interval needs more studies than coefficients")
    y = y - y.mean()
    lower_t, upper_t = min(0.0, tau2), max(100.0, 10 * tau2)
    alpha = 1 - level
    crit_high = float(chi2_isf(alpha / 2, k - p))
    crit_low = float(chi2_ppf(alpha / 2, k - p))

    def q_minus(target: float):
        return lambda t: residual_q(y, v, design, t) - target

    q_at_lower, q_at_upper = residual_q(y, v, design, lower_t), residual_q(y, v, design, upper_t)
    if q_at_lower < crit_low:
        low = high = lower_t
    else:
        high = upper_t if q_at_upper > crit_low else uniroot(q_minus(crit_low), lower_t, upper_t)
        low = np.nan
    if q_at_upper > crit_high:
        low = high = upper_t
    elif q_at_lower < crit_high:
        low = lower_t
    else:
        low = uniroot(q_minus(crit_high), lower_t, upper_t)
    vt = typical_variance(v, design)
    return Tau2Interval(
        tau2_low=float(low),
        tau2_high=float(high),
        i2_low=100 * low / (vt + low),
        i2_high=100 * high / (vt + high),
        h2_low=1 + low / vt,
        h2_high=1 + high / vt,
    )


def tau2_confint(result: PooledResult) -> Tau2Interval:
    """Q-profile interval of a pooled random-effects result, from its pooled studies.

    Matches metafor's ``confint(rma(yi, vi, method = ...))`` for inverse-variance fits.
    """
    if result.model != "random":
        raise ValueError("a tau2 interval needs a random-effects result")
    pooled = [s for s in result.studies if s.estimable]
    return q_profile([s.yi for s in pooled], [s.vi for s in pooled], result.tau2, result.level)
