"""Weighted least squares on a design matrix: the algebra shared by meta-regression, the
Q-profile interval, Egger's mixed-effects test and trim-and-fill's side choice.

Names follow metafor's ``rma.uni`` source: ``X`` the k x p design, ``W`` the diagonal of
weights ``1 / (vi + tau2)``, ``P = W - W X (X' W X)^-1 X' W`` so that ``y' P y`` is the
(generalised) residual Q.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class WlsFit:
    """Coefficients, their covariance ``(X' W X)^-1`` and the weighted residual sum of
    squares of one weighted least squares fit."""

    beta: FloatArray
    vb: FloatArray
    rss: float


def wls(yi: FloatArray, weights: FloatArray, X: FloatArray) -> WlsFit:
    """Weighted least squares of ``yi`` on ``X`` with weights ``weights``."""
    xtw = X.T * weights
    vb = np.linalg.inv(xtw @ X)
    beta = vb @ (xtw @ yi)
    resid = yi - X @ beta
    return WlsFit(beta, vb, float(np.sum(weights * resid**2)))


def projection(weights: FloatArray, X: FloatArray) -> FloatArray:
    """metafor's ``P = W - W X (X' W X)^-1 X' W``."""
    wx = X * weights[:, None]
    return np.diag(weights) - wx @ np.linalg.solve(X.T @ wx, wx.T)


def residual_q(yi: FloatArray, vi: FloatArray, X: FloatArray, tau2: float) -> float:
    """Generalised residual Q, ``y' P y`` with weights ``1 / (vi + tau2)``."""
    return wls(yi, 1.0 / (vi + tau2), X).rss


def typical_variance(vi: FloatArray, X: FloatArray) -> float:
    """metafor's 'typical' within-study variance ``(k - p) / tr(P)`` (fixed-effect
    weights), the denominator of I2 and H2."""
    k, p = X.shape
    return (k - p) / float(np.trace(projection(1.0 / vi, X)))


def intercept_only(k: int) -> FloatArray:
    """The design matrix of a model without moderators."""
    return np.ones((k, 1))
