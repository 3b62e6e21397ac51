"""Between-study variance (tau2) estimators and heterogeneity statistics.

All functions reduce over the last axis, so ``yi`` of shape ``(k,)`` gives scalars and
``(n, k)`` gives ``n`` results at once (the batch path). Studies that are not pooled are
passed as ``w = 0`` (i.e. ``vi = inf``) with any finite ``yi``.

The estimators are metafor's ``rma(method = ...)`` ported step for step, so that results
agree with R to many digits, not just within the algorithms' tolerances: closed forms DL,
HE, HS, HSk and SJ (truncated at 0 as metafor), Fisher scoring for REML, ML and EB
(metafor's start, step-halving, 1e-5 stopping rule and 100 iterations), the same stopping
rule for the fixed-point iterations DLIT and SJIT, and R's ``uniroot`` for PM (alias MP)
and its median-unbiased variant PMM.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from livingmeta.stats.distributions import chi2_ppf, chi2_sf
from livingmeta.stats.roots import UNIROOT_TOL, uniroot

FloatArray = npt.NDArray[np.float64]

# metafor's defaults (rma.uni control): Fisher scoring stops when tau2 changes by less
# than 1e-5; uniroot-based estimators stop at R's default tolerance eps^0.25.
METAFOR_THRESHOLD = 1e-5
REML_MAX_ITER = 100


def weighted_mean(yi: FloatArray, w: FloatArray) -> FloatArray:
    """Inverse-variance weighted mean over the last axis."""
    return np.sum(w * yi, axis=-1) / np.sum(w, axis=-1)


def cochran_q(yi: FloatArray, w: FloatArray, centre: FloatArray | None = None) -> FloatArray:
    """Cochran's Q around ``centre`` (the weighted mean by default; RevMan's M-H
    heterogeneity uses the M-H estimate instead)."""
    if centre is None:
        centre = weighted_mean(yi, w)
    return np.sum(w * (yi - np.expand_dims(centre, -1)) ** 2, axis=-1)


def i_squared(q: FloatArray, df: FloatArray) -> FloatArray:
    """Higgins' I2 = max(0, (Q - df) / Q) in percent (0 when Q is 0).

    NaN when df < 1: with one study Q is 0 up to rounding (e.g. 1e-33), and
    (Q - 0) / Q would turn that noise into 100%.
    """
    q, df = np.asarray(q, dtype=np.float64), np.asarray(df, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(q > 0, (q - df) / q, 0.0)
    return np.where(df > 0, 100 * np.maximum(0.0, value), np.nan)


def i_squared_from_tau2(tau2: FloatArray, w: FloatArray, k: FloatArray) -> FloatArray:
    """metafor's I2 = tau2 / (tau2 + s2) with the 'typical' within-study variance s2
    (NaN for fewer than two studies, where it is undefined)."""
    sw, sw2 = np.sum(w, axis=-1), np.sum(w**2, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = (k - 1) * sw / (sw**2 - sw2)
        value = np.where(tau2 > 0, tau2 / (tau2 + s2), 0.0)
    return np.where(np.asarray(k) > 1, 100 * value, np.nan)


def q_p_value(q: FloatArray, df: FloatArray) -> FloatArray:
    """P value of Cochran's Q on ``df`` degrees of freedom (NaN when df is 0)."""
    df = np.asarray(df, dtype=np.float64)
    return np.where(df > 0, chi2_sf(q, np.maximum(df, 1)), np.nan)


def tau2_dl(yi: FloatArray, vi: FloatArray, q: FloatArray | None = None) -> FloatArray:
    """DerSimonian-Laird: ``max(0, (Q - df) / (sum w - sum w^2 / sum w))``.

    ``q`` may be given to use a Q computed around another centre (RevMan's M-H random
    effects takes Q around the M-H estimate).
    """
    w = _weights(vi, 0.0)
    k = np.sum(w > 0, axis=-1)
    if q is None:
        q = cochran_q(yi, w)
    sw = np.sum(w, axis=-1)
    denom = sw - np.sum(w**2, axis=-1) / sw
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.where(denom > 0, (q - (k - 1)) / denom, 0.0)
    return np.maximum(0.0, tau2)


def tau2_he(yi: FloatArray, vi: FloatArray) -> FloatArray:
    """Hedges' (method of moments, unweighted) estimator, floored at 0, as metafor's
    ``rma(method="HE")``: ``(sum (yi - mean)^2 - sum vi (k - 1) / k) / (k - 1)``. Also
    the starting value of metafor's Fisher scoring (REML, ML, EB)."""
    w = _weights(vi, 0.0)
    present = w > 0
    k = np.sum(present, axis=-1)
    mean = np.sum(np.where(present, yi, 0.0), axis=-1) / k
    rss = np.sum(np.where(present, (yi - np.expand_dims(mean, -1)) ** 2, 0.0), axis=-1)
    sum_v = np.sum(np.where(present, vi, 0.0), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.where(k > 1, (rss - sum_v * (k - 1) / k) / (k - 1), 0.0)
    return np.maximum(0.0, tau2)


def tau2_hs(yi: FloatArray, vi: FloatArray) -> FloatArray:
    """Hunter-Schmidt, as metafor's ``rma(method="HS")`` (its general form, Viechtbauer et
    al. 2015): ``max(0, (Q - k) / sum w)`` with fixed-effect weights. Subtracting k, not
    DL's k - 1, and dividing by ``sum w`` rather than DL's ``sum w - sum w^2 / sum w``
    makes it smaller than DL; 0 for a single study, as metafor.
    """
    w = _weights(vi, 0.0)
    k = np.sum(w > 0, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.where(k > 1, (cochran_q(yi, w) - k) / np.sum(w, axis=-1), 0.0)
    return np.maximum(0.0, tau2)


def tau2_hsk(yi: FloatArray, vi: FloatArray) -> FloatArray:
    """Hunter-Schmidt with metafor's small-sample correction (``rma(method="HSk")``):
    ``max(0, (Q k / (k - 1) - k) / sum w)``. Scaling Q by k / (k - 1) undoes most of
    HS's downward bias (HS subtracts k from a Q whose expectation is k - 1 at tau2 = 0).
    0 for a single study, as metafor.
    """
    w = _weights(vi, 0.0)
    k = np.sum(w > 0, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = (cochran_q(yi, w) * k / (k - 1) - k) / np.sum(w, axis=-1)
    return np.maximum(0.0, np.where(k > 1, tau2, 0.0))


def tau2_sj(yi: FloatArray, vi: FloatArray) -> FloatArray:
    """Sidik-Jonkman, metafor's default two-step form (``rma(method="SJ")``): the crude
    start ``tau2_0 = sum (yi - mean yi)^2 / k`` (metafor's ``var(yi) (k - 1) / k``), then
    ``tau2_0 Q(tau2_0) / (k - 1)`` with Q on weights ``1 / (vi + tau2_0)``. Positive
    whenever the effects differ at all, which is why it is never 0 on homogeneous data.
    """
    k, tau2_0 = _sj_start(yi, vi)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.where(k > 1, tau2_0 * cochran_q(yi, _weights(vi, tau2_0)) / (k - 1), 0.0)
    return np.maximum(0.0, tau2)


def _sj_start(yi: FloatArray, vi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The number of studies and Sidik-Jonkman's crude start ``sum (yi - mean yi)^2 / k``
    (metafor's ``var(yi) (k - 1) / k``), shared by SJ and SJIT."""
    present = _weights(vi, 0.0) > 0
    k = np.sum(present, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.sum(np.where(present, yi, 0.0), axis=-1) / k
        centred = np.where(present, yi - np.expand_dims(mean, -1), 0.0)
        return k, np.sum(centred**2, axis=-1) / k


def tau2_dlit(yi: FloatArray, vi: FloatArray, threshold: float = METAFOR_THRESHOLD) -> FloatArray:
    """Iterated DerSimonian-Laird, as metafor's ``rma(method="DLIT")``: from tau2 = 0,
    repeat DL's moment step ``max(0, (Q(tau2) - (k - 1)) / tr P(tau2))`` on the weights
    ``1 / (vi + tau2)`` until tau2 moves by at most ``threshold``.

    metafor keeps DL's ``k - 1`` where the moment equation on these weights has
    ``tr(P V)``, so the fixed point solves Q(tau2) = k - 1 + tau2 tr P(tau2): below the
    Paule-Mandel root (about half of it on normand1999 MD). The iteration often creeps:
    not converged after metafor's 100 iterations gives NaN, as for REML (metafor stops
    with "Iterative DL estimator did not converge").
    """
    k = np.sum(_weights(vi, 0.0) > 0, axis=-1)

    def step(tau2: FloatArray) -> FloatArray:
        w = _weights(vi, tau2)
        sw = np.sum(w, axis=-1)
        trace_p = sw - np.sum(w**2, axis=-1) / sw
        with np.errstate(divide="ignore", invalid="ignore"):
            new = np.where(k > 1, (cochran_q(yi, w) - (k - 1)) / trace_p, 0.0)
        return np.maximum(0.0, new)

    return _fixed_point(np.zeros(np.shape(k)), step, threshold)


def tau2_sjit(yi: FloatArray, vi: FloatArray, threshold: float = METAFOR_THRESHOLD) -> FloatArray:
    """Iterated Sidik-Jonkman, as metafor's ``rma(method="SJIT")``: from SJ's crude start,
    repeat SJ's step ``tau2 Q(tau2) / (k - 1)`` until tau2 moves by at most ``threshold``.

    A fixed point solves Paule-Mandel's Q(tau2) = k - 1; when Q(0) < k - 1 tau2 shrinks
    geometrically towards 0 and stops at a small positive value (never exactly 0). NaN
    after 100 iterations without converging, as for REML (metafor: "Iterative SJ
    estimator did not converge").
    """
    k, tau2_0 = _sj_start(yi, vi)

    def step(tau2: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(k > 1, tau2 * cochran_q(yi, _weights(vi, tau2)) / (k - 1), 0.0)

    return np.maximum(0.0, _fixed_point(np.where(k > 1, tau2_0, 0.0), step, threshold))


def _fixed_point(
    tau2: FloatArray, step: Callable[[FloatArray], FloatArray], threshold: float
) -> FloatArray:
    """metafor's DLIT and SJIT loop: ``tau2 = step(tau2)`` until it moves by at most
    ``threshold``, at most ``REML_MAX_ITER`` times (metafor's maxiter; its 101st pass
    fails). All analyses iterate together; one still moving at the end gets NaN."""
    tau2 = np.asarray(tau2, dtype=np.float64)
    active = np.ones(tau2.shape, dtype=bool)
    for _ in range(REML_MAX_ITER):
        new = step(tau2)
        moved = np.abs(new - tau2) > threshold
        tau2 = np.where(active, new, tau2)
        active &= moved
        if not np.any(active):
            break
    return np.where(active, np.nan, tau2)


def tau2_reml(yi: FloatArray, vi: FloatArray, threshold: float = METAFOR_THRESHOLD) -> FloatArray:
    """Restricted maximum likelihood, as metafor's ``rma(method="REML")``.

    Fisher scoring from the Hedges estimate, step-halving to stay non-negative, stopping
    when tau2 changes by less than ``threshold`` (metafor's default 1e-5, so the results
    agree with R digit for digit), then metafor's check that tau2 = 0 is not a better
    maximum. Vectorised: all analyses iterate together until each has converged; one
    that has not after ``REML_MAX_ITER`` iterations gets NaN.
    """
    tau2, active = _fisher_scoring(yi, vi, _reml_step, threshold)
    return _boundary_check(yi, vi, tau2, active, _reml_loglik, threshold)


def tau2_ml(yi: FloatArray, vi: FloatArray, threshold: float = METAFOR_THRESHOLD) -> FloatArray:
    """Maximum likelihood, as metafor's ``rma(method="ML")``: REML's Fisher scoring (same
    start, step-halving, stopping rule, iteration limit and NaN for non-convergence) with
    the ML step ``(y'PPy - sum w) / sum w^2``, then the same check against tau2 = 0 on the
    ML log-likelihood. ML ignores the loss of df to the mean, so it is below REML.
    """
    tau2, active = _fisher_scoring(yi, vi, _ml_step, threshold)
    return _boundary_check(yi, vi, tau2, active, _ml_loglik, threshold)


def tau2_eb(yi: FloatArray, vi: FloatArray, threshold: float = METAFOR_THRESHOLD) -> FloatArray:
    """Empirical Bayes (Morris 1983), as metafor's ``rma(method="EB")``: Fisher scoring
    with the step ``(Q(tau2) k / (k - 1) - k) / sum w``.

    Its fixed point solves Paule-Mandel's equation Q(tau2) = k - 1 (metafor's help: "the
    empirical Bayes estimator is actually identical to the Paule-Mandel estimator"), but
    metafor stops it by REML's 1e-5 rule rather than solving by ``uniroot``, and searches
    no bounded interval: so EB and PM agree to about 1e-5, not digit for digit, and EB
    has an estimate where PM's interval is too short. Ported as metafor runs it, so it
    matches metafor's EB, not its PM. No tau2 = 0 check (metafor has none for EB).
    """
    tau2, active = _fisher_scoring(yi, vi, _eb_step, threshold)
    return np.where(active, np.nan, tau2)


def _fisher_scoring(
    yi: FloatArray,
    vi: FloatArray,
    step_of: Callable[[FloatArray, FloatArray], FloatArray],
    threshold: float,
) -> tuple[FloatArray, np.ndarray]:
    """metafor's Fisher scoring loop for REML, ML and EB: from max(0, Hedges), steps
    ``step_of(yi, w)`` until each analysis moves by less than ``threshold``. Returns tau2
    and which analyses are still moving after ``REML_MAX_ITER`` iterations."""
    tau2 = np.array(tau2_he(yi, vi), dtype=np.float64)
    active = np.ones(tau2.shape, dtype=bool)
    for _ in range(REML_MAX_ITER):
        step = step_of(yi, _weights(vi, tau2))
        tau2, active = fisher_scoring_update(tau2, step, active, threshold)
        if not np.any(active):
            break
    return tau2, active


def _ypppy(yi: FloatArray, w: FloatArray) -> FloatArray:
    """``y'PPy`` of the intercept-only model: the squared weighted residuals."""
    resid = yi - np.expand_dims(weighted_mean(yi, w), -1)
    return np.sum((w * resid) ** 2, axis=-1)


def _reml_step(yi: FloatArray, w: FloatArray) -> FloatArray:
    """REML scoring step ``(y'PPy - tr P) / tr PP`` (0 where tr PP is 0: one study)."""
    sw = np.sum(w, axis=-1)
    sw2 = np.sum(w**2, axis=-1)
    ypy = _ypppy(yi, w)
    trace_p = sw - sw2 / sw
    trace_pp = sw2 - 2 * np.sum(w**3, axis=-1) / sw + sw2**2 / sw**2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(trace_pp > 0, (ypy - trace_p) / trace_pp, 0.0)


def _ml_step(yi: FloatArray, w: FloatArray) -> FloatArray:
    """ML scoring step ``(y'PPy - sum w) / sum w^2``; 0 for one study, where metafor
    does not iterate (its ``k1`` case: tau2 = 0)."""
    k = np.sum(w > 0, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = (_ypppy(yi, w) - np.sum(w, axis=-1)) / np.sum(w**2, axis=-1)
    return np.where(k > 1, step, 0.0)


def _eb_step(yi: FloatArray, w: FloatArray) -> FloatArray:
    """Empirical Bayes step ``(y'Py k / (k - 1) - k) / sum w``; 0 for one study."""
    k = np.sum(w > 0, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        step = (cochran_q(yi, w) * k / (k - 1) - k) / np.sum(w, axis=-1)
    return np.where(k > 1, step, 0.0)


def _boundary_check(
    yi: FloatArray,
    vi: FloatArray,
    tau2: FloatArray,
    active: np.ndarray,
    loglik: Callable[[FloatArray, FloatArray, FloatArray], FloatArray],
    threshold: float,
) -> FloatArray:
    """metafor's ``ll0check`` after ML or REML scoring: tau2 = 0 where the likelihood there
    beats the converged value by more than ``uniroot``'s tolerance (a local maximum)."""
    stuck = (loglik(yi, vi, np.zeros_like(tau2)) - loglik(yi, vi, tau2) > UNIROOT_TOL) & (
        tau2 > threshold
    )
    # Like metafor ("Fisher scoring algorithm did not converge"), no estimate is given for
    # an analysis still moving after the last iteration: NaN, which pool() reports.
    return np.where(active, np.nan, np.where(stuck, 0.0, tau2))


def fisher_scoring_update(
    tau2: FloatArray, step: FloatArray, active: np.ndarray, threshold: float = METAFOR_THRESHOLD
) -> tuple[FloatArray, np.ndarray]:
    """One Fisher scoring update of tau2 for the analyses still ``active``, as metafor
    takes it: the step is halved until tau2 stays non-negative, and an analysis stops
    once tau2 moves by less than ``threshold``. Returns the new tau2 and who is active.
    """
    step = np.where(active & np.isfinite(step), step, 0.0)
    while np.any(tau2 + step < 0):
        step = np.where(tau2 + step < 0, step / 2, step)
    new = tau2 + step
    return new, active & (np.abs(new - tau2) > threshold)


def _reml_loglik(yi: FloatArray, vi: FloatArray, tau2: FloatArray) -> FloatArray:
    """Restricted log-likelihood up to a constant (for metafor's local-maximum check):
    the likelihood less half the log of the mean's information."""
    sw = np.sum(_weights(vi, tau2), axis=-1)
    return _ml_loglik(yi, vi, tau2) - 0.5 * np.log(sw)


def _ml_loglik(yi: FloatArray, vi: FloatArray, tau2: FloatArray) -> FloatArray:
    """Log-likelihood up to a constant (for metafor's local-maximum check after ML):
    ``1/2 sum log w - 1/2 RSS``, the RSS being Q on the weights ``w``."""
    w = _weights(vi, tau2)
    return 0.5 * np.sum(np.log(np.where(w > 0, w, 1.0)), axis=-1) - 0.5 * cochran_q(yi, w)


def generalised_q(yi: FloatArray, vi: FloatArray, tau2: FloatArray | float) -> FloatArray:
    """Q with weights 1/(vi + tau2): Paule-Mandel solves generalised Q = k - 1."""
    return cochran_q(yi, _weights(vi, tau2))


def tau2_pm(yi: FloatArray, vi: FloatArray, tol: float = UNIROOT_TOL) -> FloatArray:
    """Paule-Mandel: the tau2 at which the generalised Q equals its expectation k - 1
    (0 when Q at tau2 = 0 is already below it).

    Solved as metafor does: R's ``uniroot`` steps (ported in :mod:`livingmeta.stats.roots`)
    on [0, max(100, 10 MAD(yi)^2)] to ``tol`` (R's default, eps^0.25), so the root is
    metafor's to many more digits than ``tol``; pass a smaller ``tol`` for the exact root.
    Analyses in a batch are solved one by one.
    """
    return _paule_mandel(yi, vi, lambda df: df, "Paule-Mandel", tol)


def tau2_pmm(yi: FloatArray, vi: FloatArray, tol: float = UNIROOT_TOL) -> FloatArray:
    """Median-unbiased Paule-Mandel, as metafor's ``rma(method="PMM")``: solves
    Q(tau2) = the median of chi2 on k - 1 df instead of its mean k - 1. The median is
    below the mean, so PMM >= PM: Q(tau2) falls as tau2 grows. Solved as :func:`tau2_pm`.
    """
    return _paule_mandel(yi, vi, lambda df: float(chi2_ppf(0.5, df)), "median Paule-Mandel", tol)


def _paule_mandel(
    yi: FloatArray, vi: FloatArray, target_of: Callable[[float], float], name: str, tol: float
) -> FloatArray:
    """Root of ``Q(tau2) = target_of(k - 1)`` as metafor's PM, MP and PMM (see tau2_pm)."""
    yi, vi = np.asarray(yi, dtype=np.float64), np.asarray(vi, dtype=np.float64)
    if yi.ndim > 1:
        flat = [
            _paule_mandel(y, v, target_of, name, tol)
            for y, v in zip(yi.reshape(-1, yi.shape[-1]), vi.reshape(-1, vi.shape[-1]), strict=True)
        ]
        return np.array(flat).reshape(yi.shape[:-1])
    present = np.isfinite(vi)
    if present.sum() < 2:  # metafor's k = 1 case: tau2 = 0
        return np.float64(0.0)
    target = target_of(present.sum() - 1.0)
    if generalised_q(yi, vi, 0.0) < target:
        return np.float64(0.0)
    y = yi[present]
    mad = 1.4826 * np.median(np.abs(y - np.median(y)))
    upper = max(100.0, 10 * mad**2)
    if generalised_q(yi, vi, upper) > target:
        raise ValueError(f"{name}: no root below tau2 = {upper:g}; use DL or REML")
    centred = yi - np.mean(y)  # metafor solves on mean-centred effects
    root = uniroot(lambda t: float(generalised_q(centred, vi, t)) - target, 0.0, upper, tol)
    return np.float64(root)


def estimate_tau2(method: str, yi: FloatArray, vi: FloatArray) -> FloatArray:
    """Dispatch on the tau2 method name (metafor's ``rma(method = ...)`` names)."""
    estimators = {
        "DL": tau2_dl,
        "REML": tau2_reml,
        "PM": tau2_pm,
        "ML": tau2_ml,
        "HE": tau2_he,
        "HS": tau2_hs,
        "SJ": tau2_sj,
        "EB": tau2_eb,
        "HSk": tau2_hsk,
        "DLIT": tau2_dlit,
        "SJIT": tau2_sjit,
        "PMM": tau2_pmm,
        "MP": tau2_pm,  # metafor's alias of PM
    }
    if method not in estimators:
        raise ValueError(f"tau2 method must be one of {', '.join(estimators)}; got {method!r}")
    return estimators[method](yi, vi)


def _weights(vi: FloatArray, tau2: FloatArray | float) -> FloatArray:
    """Weights 1/(vi + tau2), 0 for studies left out (vi = inf)."""
    return 1.0 / (vi + np.expand_dims(np.asarray(tau2, dtype=np.float64), -1))
