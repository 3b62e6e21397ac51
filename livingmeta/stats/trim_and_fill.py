"""Duval and Tweedie's trim-and-fill, step for step as metafor's ``trimfill(rma_fit)``.

The side of the missing studies is chosen as metafor does (the sign of the slope of a
meta-regression on the standard error: studies are missing on the left when it is
positive); the number missing ``k0`` is estimated with L0, trimming the most extreme
studies and re-estimating until ``k0`` is stable; the trimmed studies are then mirrored
around the trimmed estimate and the model is fitted again to all studies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from livingmeta.stats.linear import intercept_only
from livingmeta.stats.metareg import fit_design

FloatArray = npt.NDArray[np.float64]
MAX_ITER = 100


@dataclass(frozen=True)
class TrimFill:
    """Trim-and-fill result on the analysis scale; ``filled_yi``/``filled_vi`` are the
    imputed studies."""

    k0: int
    side: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    tau2: float
    filled_yi: tuple[float, ...]
    filled_vi: tuple[float, ...]

    def to_dict(self, ratio: bool = False) -> dict[str, Any]:
        """``{"k0", "side", "estimate", "ci_low", "ci_high"}``; ratios back-transformed."""
        scale = np.exp if ratio else (lambda x: x)
        return {
            "k0": self.k0,
            "side": self.side,
            "estimate": float(scale(self.estimate)),
            "ci_low": float(scale(self.ci_low)),
            "ci_high": float(scale(self.ci_high)),
        }


def _fit(yi: FloatArray, vi: FloatArray, tau2_method: str, level: float) -> tuple[float, ...]:
    fit = fit_design(yi, vi, intercept_only(len(yi)), ("intrcpt",), tau2_method, "z", level)
    c = fit.coefficients[0]
    return c.estimate, c.se, c.ci_low, c.ci_high, fit.tau2


def missing_side(yi: FloatArray, vi: FloatArray, tau2_method: str) -> str:
    """``left`` when the slope of ``yi`` on ``sqrt(vi)`` is >= 0, else ``right``."""
    X = np.column_stack([np.ones_like(yi), np.sqrt(vi)])
    slope = fit_design(yi, vi, X, ("intrcpt", "sei"), tau2_method).coefficients[1].estimate
    return "right" if slope < 0 else "left"


def ordinal_ranks(x: FloatArray) -> npt.NDArray[np.int64]:
    """Ranks 1..k, ties in order of appearance: ``scipy.stats.rankdata(x, "ordinal")``
    for finite ``x`` (the same stable sort) without importing scipy.stats.

    >>> ordinal_ranks(np.array([0.3, 0.1, 0.3, 0.2])).tolist()
    [3, 1, 4, 2]
    """
    ranks = np.empty(len(x), dtype=np.int64)
    ranks[np.argsort(x, kind="stable")] = np.arange(1, len(x) + 1)
    return ranks


def l0_missing(yi_sorted: FloatArray, vi_sorted: FloatArray, tau2_method: str) -> tuple[int, float]:
    """Iterate the L0 estimator on effects sorted ascending (missing side on the left)."""
    k = len(yi_sorted)
    k0, previous = 0, -1
    beta = 0.0
    for _ in range(MAX_ITER):
        if k0 == previous:
            return k0, beta
        previous = k0
        beta = _fit(yi_sorted[: k - k0], vi_sorted[: k - k0], tau2_method, 0.95)[0]
        centred = yi_sorted - beta
        ranks = ordinal_ranks(np.abs(centred))
        signed = np.sign(centred) * ranks
        wilcoxon = float(np.sum(signed[signed > 0]))
        estimate = (4 * wilcoxon - k * (k + 1)) / (2 * k - 1)
        k0 = max(0, int(np.round(estimate)))
    raise ValueError("trim-and-fill did not converge")


def trimfill(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    tau2_method: str = "REML",
    side: str | None = None,
    level: float = 0.95,
) -> TrimFill:
    """Trim-and-fill sensitivity analysis (metafor ``trimfill(rma(yi, vi, method =
    tau2_method))``; ``tau2_method="EE"`` for a fixed-effect fit).

    Examples
    --------
    >>> tf = trimfill([0.1, 0.3, 0.2, 0.6, 0.9], [0.01, 0.02, 0.04, 0.09, 0.16], "EE")
    >>> tf.side, tf.k0 >= 0
    ('left', True)
    """
    y, v = np.asarray(yi, float), np.asarray(vi, float)
    if len(y) < 2:
        raise ValueError("trim-and-fill needs at least 2 studies")
    side = side or missing_side(y, v, tau2_method)
    if side not in ("left", "right"):
        raise ValueError(f"side must be left or right; got {side!r}")
    flip = -1.0 if side == "right" else 1.0
    order = np.argsort(flip * y, kind="stable")
    k0, beta = l0_missing(flip * y[order], v[order], tau2_method)
    k = len(y)
    top = order[k - k0 :]
    filled_yi = 2 * flip * beta - y[top]
    filled_vi = v[top]
    estimate, se, low, high, tau2 = _fit(
        np.concatenate([y, filled_yi]), np.concatenate([v, filled_vi]), tau2_method, level
    )
    return TrimFill(
        k0,
        side,
        estimate,
        se,
        low,
        high,
        tau2,
        tuple(map(float, filled_yi)),
        tuple(map(float, filled_vi)),
    )
