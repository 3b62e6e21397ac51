"""tau2 estimators for a model with moderators (``rma(yi, vi, mods = ...)``).

The same estimators as :mod:`livingmeta.stats.heterogeneity`, written for a design matrix
``X`` and following metafor's ``rma.uni`` step by step (starting values, stopping rules,
root finder, centred effects), so that meta-regression and the tests built on it match
metafor. With ``X`` a column of ones they give the ordinary random-effects estimates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from livingmeta.stats.distributions import chi2_ppf
from livingmeta.stats.errors import NotEstimableError
from livingmeta.stats.heterogeneity import METAFOR_THRESHOLD, REML_MAX_ITER
from livingmeta.stats.linear import projection, residual_q, wls
from livingmeta.stats.roots import UNIROOT_TOL, uniroot

FloatArray = npt.NDArray[np.float64]
# A Fisher scoring step from the centred effects, P and the weights 1 / (vi + tau2).
StepFunction = Callable[[FloatArray, FloatArray, FloatArray], float]
LogLikelihood = Callable[[FloatArray, FloatArray, FloatArray, float], float]


def tau2_dl_design(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """DerSimonian-Laird: ``max(0, (QE - (k - p)) / tr(P))`` with fixed-effect weights."""
    k, p = X.shape
    q = residual_q(yi, vi, X, 0.0)
    return max(0.0, (q - (k - p)) / float(np.trace(projection(1.0 / vi, X))))


def tau2_he_design(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """Hedges' estimator (ordinary least squares residuals), not truncated: the starting
    value of the Fisher scoring (``max(0, .)``) and, truncated, :func:`tau2_he_floored`."""
    k, p = X.shape
    p_ols = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
    rss = float(yi @ p_ols @ yi)
    return (rss - float(np.trace(p_ols * vi))) / (k - p)


def tau2_he_floored(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """Hedges: ``max(0, (y'(I - H)y - tr((I - H)V)) / (k - p))`` (metafor ``"HE"``)."""
    return max(0.0, tau2_he_design(yi - yi.mean(), vi, X))


def tau2_hs_design(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """Hunter-Schmidt: ``max(0, (QE - k) / sum(1 / vi))``; metafor subtracts k, not
    k - p, with moderators too (its ``"HSk"`` rescales QE instead)."""
    k = X.shape[0]
    q = residual_q(yi - yi.mean(), vi, X, 0.0)
    return max(0.0, (q - k) / float(np.sum(1.0 / vi)))


def tau2_hsk_design(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """Hunter-Schmidt with metafor's correction (``"HSk"``): ``max(0, (QE k / (k - p) -
    k) / sum(1 / vi))``, QE scaled up for the k - p residual df it really has."""
    k, p = X.shape
    q = residual_q(yi - yi.mean(), vi, X, 0.0)
    return max(0.0, (k / (k - p) * q - k) / float(np.sum(1.0 / vi)))


def tau2_sj_design(yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """Sidik-Jonkman, two steps: ``tau2_0 = sum (yi - mean)^2 / k`` (ignoring the
    moderators, as metafor's crude start), then ``tau2_0 QE(tau2_0) / (k - p)``."""
    k, p = X.shape
    y = yi - yi.mean()
    tau2_0 = float(np.sum(y**2)) / k
    return max(0.0, tau2_0 * residual_q(y, vi, X, tau2_0) / (k - p))


def tau2_dlit_design(
    yi: FloatArray, vi: FloatArray, X: FloatArray, threshold: float = METAFOR_THRESHOLD
) -> float:
    """Iterated DerSimonian-Laird (metafor ``"DLIT"``): from 0, repeat
    ``max(0, (QE(tau2) - (k - p)) / tr P(tau2))`` until tau2 moves by at most
    ``threshold`` (metafor's update, so not the PM root: QE = k - p + tau2 tr P)."""
    k, p = X.shape
    y = yi - yi.mean()

    def step(tau2: float) -> float:
        P = projection(1.0 / (vi + tau2), X)
        return max(0.0, (float(y @ P @ y) - (k - p)) / float(np.trace(P)))

    return _fixed_point(0.0, step, "DLIT", threshold)


def tau2_sjit_design(
    yi: FloatArray, vi: FloatArray, X: FloatArray, threshold: float = METAFOR_THRESHOLD
) -> float:
    """Iterated Sidik-Jonkman (metafor ``"SJIT"``): from SJ's crude start, repeat
    ``tau2 QE(tau2) / (k - p)`` until tau2 moves by at most ``threshold``."""
    k, p = X.shape
    y = yi - yi.mean()
    tau2_0 = float(np.sum(y**2)) / k
    step = lambda tau2: tau2 * residual_q(y, vi, X, tau2) / (k - p)  # noqa: E731
    return max(0.0, _fixed_point(tau2_0, step, "SJIT", threshold))


def _fixed_point(tau2: float, step: Callable[[float], float], name: str, threshold: float) -> float:
    """metafor's DLIT and SJIT loop: ``tau2 = step(tau2)`` until it moves by at most
    ``threshold``; like metafor, no estimate when that takes more than ``REML_MAX_ITER``."""
    for _ in range(REML_MAX_ITER):
        old, tau2 = tau2, step(tau2)
        if abs(old - tau2) <= threshold:
            return tau2
    raise NotEstimableError(f"the {name} estimate of tau2 did not converge; try DL or PM")


def tau2_reml_design(
    yi: FloatArray, vi: FloatArray, X: FloatArray, threshold: float = METAFOR_THRESHOLD
) -> float:
    """REML by metafor's Fisher scoring (step ``(y'PPy - tr P) / tr PP``, halved while it
    would go below 0), then its check that tau2 = 0 is not the better maximum."""
    y = yi - yi.mean()
    tau2 = _fisher_scoring(y, vi, X, _reml_step, "REML", threshold)
    return _boundary_check(y, vi, X, tau2, _reml_loglik, threshold)


def tau2_ml_design(
    yi: FloatArray, vi: FloatArray, X: FloatArray, threshold: float = METAFOR_THRESHOLD
) -> float:
    """Maximum likelihood: REML's scoring with metafor's ML step ``(y'PPy - sum w) /
    sum w^2``, then the same check against tau2 = 0 on the ML log-likelihood."""
    y = yi - yi.mean()
    tau2 = _fisher_scoring(y, vi, X, _ml_step, "ML", threshold)
    return _boundary_check(y, vi, X, tau2, _ml_loglik, threshold)


def tau2_eb_design(
    yi: FloatArray, vi: FloatArray, X: FloatArray, threshold: float = METAFOR_THRESHOLD
) -> float:
    """Empirical Bayes: scoring with metafor's step ``(y'Py k / (k - p) - k) / sum w``,
    whose fixed point is Paule-Mandel's QE = k - p (reached to metafor's 1e-5 rule, so
    EB and PM agree to about that, not digit for digit). No tau2 = 0 check, as metafor."""
    k, p = X.shape

    def step(y: FloatArray, P: FloatArray, w: FloatArray) -> float:
        return (float(y @ P @ y) * k / (k - p) - k) / float(np.sum(w))

    return _fisher_scoring(yi - yi.mean(), vi, X, step, "EB", threshold)


def _fisher_scoring(
    y: FloatArray, vi: FloatArray, X: FloatArray, step_of: StepFunction, name: str, threshold: float
) -> float:
    """metafor's Fisher scoring for REML, ML and EB: from max(0, Hedges) add
    ``step_of(y, P, w)``, halved while tau2 would go below 0, until tau2 moves by at most
    ``threshold``; like metafor, no estimate when that takes more than ``REML_MAX_ITER``."""
    tau2 = max(0.0, tau2_he_design(y, vi, X))
    for _ in range(REML_MAX_ITER):  # metafor stops once iter > maxiter
        w = 1.0 / (vi + tau2)
        step = step_of(y, projection(w, X), w)
        if not np.isfinite(step):
            step = 0.0
        while tau2 + step < 0:
            step /= 2
        old, tau2 = tau2, tau2 + step
        if abs(old - tau2) <= threshold:
            return tau2
    raise NotEstimableError(f"the {name} estimate of tau2 did not converge; try DL or PM")


def _reml_step(y: FloatArray, P: FloatArray, w: FloatArray) -> float:
    Py = P @ y
    return (float(Py @ Py) - float(np.trace(P))) / float(np.sum(P * P))


def _ml_step(y: FloatArray, P: FloatArray, w: FloatArray) -> float:
    Py = P @ y
    return (float(Py @ Py) - float(np.sum(w))) / float(np.sum(w**2))


def _boundary_check(
    y: FloatArray,
    vi: FloatArray,
    X: FloatArray,
    tau2: float,
    loglik: LogLikelihood,
    threshold: float,
) -> float:
    """metafor's ``ll0check`` after ML or REML: 0 when the (restricted) likelihood at
    tau2 = 0 is higher by more than ``uniroot``'s tolerance (a local maximum)."""
    if loglik(y, vi, X, 0.0) - loglik(y, vi, X, tau2) > UNIROOT_TOL and tau2 > threshold:
        return 0.0
    return tau2


def _reml_loglik(y: FloatArray, vi: FloatArray, X: FloatArray, tau2: float) -> float:
    """Restricted log-likelihood up to a constant."""
    w = 1.0 / (vi + tau2)
    _, logdet = np.linalg.slogdet(X.T @ (X * w[:, None]))
    return _ml_loglik(y, vi, X, tau2) - 0.5 * logdet


def _ml_loglik(y: FloatArray, vi: FloatArray, X: FloatArray, tau2: float) -> float:
    """Log-likelihood up to a constant (``-1/2 sum log(vi + tau2) - 1/2 RSS``)."""
    fit = wls(y, 1.0 / (vi + tau2), X)
    return -0.5 * float(np.sum(np.log(vi + tau2))) - 0.5 * fit.rss


def tau2_pm_design(
    yi: FloatArray, vi: FloatArray, X: FloatArray, tol: float = UNIROOT_TOL
) -> float:
    """Paule-Mandel: the tau2 where the generalised QE equals ``k - p`` (R's uniroot on
    ``[0, max(100, 10 mad(yi)^2)]``, as metafor)."""
    k, p = X.shape
    return _paule_mandel(yi, vi, X, k - p, tol)


def tau2_pmm_design(
    yi: FloatArray, vi: FloatArray, X: FloatArray, tol: float = UNIROOT_TOL
) -> float:
    """Median-unbiased Paule-Mandel (metafor ``"PMM"``): QE equal to the median of chi2
    on k - p df rather than its mean, solved as :func:`tau2_pm_design`."""
    k, p = X.shape
    return _paule_mandel(yi, vi, X, float(chi2_ppf(0.5, k - p)), tol)


def _paule_mandel(
    yi: FloatArray, vi: FloatArray, X: FloatArray, target: float, tol: float
) -> float:
    """The tau2 where QE(tau2) = ``target``, 0 when QE(0) is below it (metafor's PM, PMM)."""
    y = yi - yi.mean()
    if residual_q(y, vi, X, 0.0) < target:
        return 0.0
    mad = 1.4826 * float(np.median(np.abs(yi - np.median(yi))))
    upper = max(100.0, 10 * mad**2)
    if residual_q(y, vi, X, upper) > target:
        raise NotEstimableError(f"Paule-Mandel: no root below tau2 = {upper:g}; use DL or REML")
    return uniroot(lambda t: residual_q(y, vi, X, t) - target, 0.0, upper, tol)


ESTIMATORS: dict[str, Callable[[FloatArray, FloatArray, FloatArray], float]] = {
    "DL": tau2_dl_design,
    "REML": tau2_reml_design,
    "PM": tau2_pm_design,
    "ML": tau2_ml_design,
    "HE": tau2_he_floored,
    "HS": tau2_hs_design,
    "SJ": tau2_sj_design,
    "EB": tau2_eb_design,
    "HSk": tau2_hsk_design,
    "DLIT": tau2_dlit_design,
    "SJIT": tau2_sjit_design,
    "PMM": tau2_pmm_design,
    "MP": tau2_pm_design,  # metafor's alias of PM
}


def tau2_design(method: str, yi: FloatArray, vi: FloatArray, X: FloatArray) -> float:
    """Dispatch on the tau2 method (``EE`` is the fixed-effect model: tau2 = 0).

    The estimators new beside DL, REML and PM (alias MP) refuse a model with as many
    coefficients as studies, as metafor does (they divide by k - p or iterate on nothing).
    """
    if method == "EE":
        return 0.0
    if method not in ESTIMATORS:
        raise ValueError(f"tau2 method must be one of EE, {', '.join(ESTIMATORS)}; got {method!r}")
    X = np.asarray(X, float)
    if method not in ("DL", "REML", "PM", "MP") and X.shape[0] <= X.shape[1]:
        raise NotEstimableError(
            f"{X.shape[0]} studies cannot estimate tau2 beside {X.shape[1]} coefficients"
        )
    return ESTIMATORS[method](np.asarray(yi, float), np.asarray(vi, float), X)
