"""Many random-effects meta-analyses at once, vectorised with numpy.

For simulation studies and portfolio-wide re-pooling: ``N`` analyses of up to ``k``
studies each are pooled in array operations, with the same effect-size and tau2 code as
:func:`livingmeta.stats.pool` (so the results are identical, not approximately equal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livingmeta.stats.distributions import norm_ppf, norm_sf
from livingmeta.stats.effects import binary_effects
from livingmeta.stats.heterogeneity import cochran_q, estimate_tau2, i_squared, weighted_mean
from livingmeta.stats.options import BINARY_MEASURES, TAU2_METHODS, check_choice

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BatchResult:
    """Pooled random-effects results of ``N`` analyses (analysis scale), one entry each."""

    k: npt.NDArray[np.int64]
    estimate: FloatArray
    se: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    z: FloatArray
    p: FloatArray
    q: FloatArray
    i2: FloatArray
    tau2: FloatArray


def pool_batch_binary(
    events_treat: npt.ArrayLike,
    total_treat: npt.ArrayLike,
    events_ctrl: npt.ArrayLike,
    total_ctrl: npt.ArrayLike,
    measure: str = "OR",
    tau2_method: str = "REML",
    level: float = 0.95,
) -> BatchResult:
    """Inverse-variance random-effects pooling of ``N`` analyses given as ``(N, k)`` arrays
    of 2x2 counts (rows padded with NaN where an analysis has fewer studies).

    Every tau2 method of :func:`livingmeta.stats.pool` is accepted: the closed forms, the
    Fisher scoring ones (REML, ML, EB) and the fixed-point ones (DLIT, SJIT) run
    vectorised, PM, MP and PMM row by row. An analysis whose iteration does not converge
    gets NaN (where ``pool()`` raises ``NotEstimableError``).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([[4, 6, 3], [1, 2, 3]]); n = np.full((2, 3), 100)
    >>> c = np.array([[11, 29, 11], [2, 2, 2]])
    >>> pool_batch_binary(a, n, c, n, "OR", "DL").k.tolist()
    [3, 3]
    """
    check_choice("measure", measure, BINARY_MEASURES)
    check_choice("tau2_method", tau2_method, TAU2_METHODS)
    arrays = [
        np.atleast_2d(np.asarray(x, dtype=np.float64))
        for x in (events_treat, total_treat, events_ctrl, total_ctrl)
    ]
    padded = np.isnan(arrays[0])
    with np.errstate(invalid="ignore"):
        es = binary_effects(measure, *arrays)
    include = es.estimable & ~padded & np.isfinite(es.vi)
    y = np.where(include, es.yi, 0.0)
    v = np.where(include, es.vi, np.inf)
    k = include.sum(axis=-1)
    tau2 = estimate_tau2(tau2_method, y, v)
    w = 1.0 / (v + tau2[:, None])
    estimate = weighted_mean(y, w)
    se = 1.0 / np.sqrt(w.sum(axis=-1))
    q = cochran_q(y, 1.0 / v)
    crit = norm_ppf(1 - (1 - level) / 2)
    z = estimate / se
    return BatchResult(
        k=k,
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        z=z,
        p=2 * norm_sf(np.abs(z)),
        q=q,
        i2=i_squared(q, k - 1),
        tau2=tau2,
    )
