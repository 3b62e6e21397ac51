"""tau2 estimators for a model with moderators (``rma(yi, vi, mods = ...)``).

The same estimators as :mod:`livingmeta.stats.heterogeneity`, written for a design matrix
``X`` and following metafor's ``rma.uni`` step by step (starting values, stopping rules,
root finder), so that meta-regression and the tests built on it match metafor. With ``X``
a column of ones they give the ordinary random-effects estimates.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from livingmeta.stats.errors import NotEstimableError
from livingmeta.stats.heterogeneity import METAFOR_THRESHOLD, REML_MAX_ITER
from livingmeta.stats.linear import projection, residual_q, wls
from livingmeta.stats.roots import UNIROOT_TOL, uniroot

FloatArray = npt.NDArray[np.float64]


def tau2_dl_design(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """DerSimonian-Laird: ``max(0, (QE - (k - p)) / tr(P))`` with fixed-effect weights."""
    k, p = X.shape
    q = residual_q(yi, vi, X, 0.0)
    return max(0.0, (q - (k - p)) / float(np.trace(projection(1.0 / vi, X))))


def tau2_he_design(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """Hedges' estimator (ordinary least squares residuals), REML's starting value."""
    k, p = X.shape
    p_ols = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
    rss = float(yi @ p_ols @ yi)
    return (rss - float(np.trace(p_ols * vi))) / (k - p)


def tau2_reml_design(
    yi: FloatArray, vi: FloatArray, X: FloatArray, threshold: float = METAFOR_THRESHOLD
) -> float:
    """REML by metafor's Fisher scoring (step ``(y'PPy - tr P) / tr PP``, halved while it
    would go below 0), then its check that tau2 = 0 is not the better maximum."""
    y = yi - yi.mean()
    tau2 = max(0.0, tau2_he_design(y, vi, X))
    for _ in range(REML_MAX_ITER + 1):
        P = projection(1.0 / (vi + tau2), X)
        Py = P @ y
        step = (float(Py @ Py) - float(np.trace(P))) / float(np.sum(P * P))
        if not np.isfinite(step):
            step = 0.0
        while tau2 + step < 0:
            step /= 2
        old, tau2 = tau2, tau2 + step
        if abs(old - tau2) <= threshold:
            break
    else:
        raise NotEstimableError("the REML estimate of tau2 did not converge; try DL or PM")
    if _reml_loglik(y, vi, X, 0.0) - _reml_loglik(y, vi, X, tau2) > UNIROOT_TOL and (
        tau2 > threshold
    ):
        return 0.0
    return tau2


def _reml_loglik(y: FloatArray, vi: FloatArray, X: FloatArray, tau2: float) -> float:
    """Restricted log-likelihood up to a constant."""
    w = 1.0 / (vi + tau2)
    fit = wls(y, w, X)
    _, logdet = np.linalg.slogdet(X.T @ (X * w[:, None]))
    return -0.5 * float(np.sum(np.log(vi + tau2))) - 0.5 * logdet - 0.5 * fit.rss


def tau2_pm_design(
    yi: FloatArray, vi: FloatArray, X: FloatArray, tol: float = UNIROOT_TOL
) -> float:
    """Paule-Mandel: the tau2 where the generalised QE equals ``k - p`` (R's uniroot on
    ``[0, max(100, 10 mad(yi)^2)]``, as metafor)."""
    k, p = X.shape
    y = yi - yi.mean()
    target = k - p
    if residual_q(y, vi, X, 0.0) < target:
        return 0.0
    mad = 1.4826 * float(np.median(np.abs(yi - np.median(yi))))
    upper = max(100.0, 10 * mad**2)
    if residual_q(y, vi, X, upper) > target:
        raise NotEstimableError(f"Paule-Mandel: no root below tau2 = {upper:g}; use DL or REML")
    return uniroot(lambda t: residual_q(y, vi, X, t) - target, 0.0, upper, tol)


def tau2_design(method: str, yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """Dispatch on the tau2 method (``EE`` is the fixed-effect model: tau2 = 0)."""
    if method == "EE":
        return 0.0
    estimators = {"DL": tau2_dl_design, "REML": tau2_reml_design, "PM": tau2_pm_design}
    if method not in estimators:
        raise ValueError(f"tau2 method must be one of EE, {', '.join(estimators)}; got {method!r}")
    return estimators[method](np.asarray(yi, float), np.asarray(vi, float), np.asarray(X, float))
