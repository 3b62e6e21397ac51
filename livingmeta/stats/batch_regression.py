"""Egger's test and meta-regression for many analyses at once, vectorised with numpy.

``N`` analyses of up to ``k`` studies are given as ``(N, k)`` arrays padded with NaN; the
same algebra as :func:`livingmeta.stats.egger_test` and
:func:`livingmeta.stats.meta_regression` runs on stacked matrices, so each row's result
equals the single-analysis one (checked in the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livingmeta.stats.distributions import chi2_sf, norm_sf, t_sf
from livingmeta.stats.heterogeneity import (
    METAFOR_THRESHOLD,
    REML_MAX_ITER,
    fisher_scoring_update,
)
from livingmeta.stats.roots import UNIROOT_TOL

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class BatchEgger:
    """Egger's test per analysis: slope t statistic, its df (k - 2) and P value."""

    k: npt.NDArray[np.int64]
    statistic: FloatArray
    df: npt.NDArray[np.int64]
    p: FloatArray


def egger_batch(yi: npt.ArrayLike, vi: npt.ArrayLike) -> BatchEgger:
    """Egger's regression test (metafor ``regtest(model = "lm")``) for each row.

    Examples
    --------
    >>> out = egger_batch([[0.1, 0.3, 0.2, 0.6], [0.5, 0.4, 0.2, float("nan")]],
    ...                   [[0.01, 0.02, 0.04, 0.09], [0.02, 0.03, 0.05, float("nan")]])
    >>> out.df.tolist()
    [2, 1]
    """
    y = np.atleast_2d(np.asarray(yi, dtype=np.float64))
    v = np.atleast_2d(np.asarray(vi, dtype=np.float64))
    present = np.isfinite(y) & np.isfinite(v)
    w = np.where(present, 1 / np.where(present, v, 1.0), 0.0)
    x = np.where(present, np.sqrt(np.where(present, v, 0.0)), 0.0)
    y = np.where(present, y, 0.0)
    s0, s1, s2 = w.sum(-1), (w * x).sum(-1), (w * x * x).sum(-1)
    sy, sxy = (w * y).sum(-1), (w * x * y).sum(-1)
    det = s0 * s2 - s1**2
    slope = (s0 * sxy - s1 * sy) / det
    intercept = (s2 * sy - s1 * sxy) / det
    rss = (w * (y - intercept[:, None] - slope[:, None] * x) ** 2).sum(-1)
    k = present.sum(-1)
    df = k - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = slope / np.sqrt(s0 / det * rss / df)
        p = np.where(df > 0, 2 * t_sf(np.abs(statistic), np.maximum(df, 1)), np.nan)
    return BatchEgger(k, statistic, df, p)


@dataclass(frozen=True)
class BatchMetaRegression:
    """Meta-regressions of ``N`` analyses: ``(N, p)`` coefficients with z tests, and per
    analysis tau2, QE and the omnibus QM (chi2 on p - 1 df)."""

    k: npt.NDArray[np.int64]
    estimate: FloatArray
    se: FloatArray
    p: FloatArray
    tau2: FloatArray
    qe: FloatArray
    qm: FloatArray
    qm_p: FloatArray


def meta_regression_batch(
    yi: npt.ArrayLike, vi: npt.ArrayLike, X: npt.ArrayLike, tau2_method: str = "REML"
) -> BatchMetaRegression:
    """Mixed-effects meta-regression of each row of ``yi`` on the design ``X`` (``(N, k,
    p)``, or ``(k, p)`` shared by all; first column the intercept), tau2 by ``DL`` or
    ``REML`` as :func:`livingmeta.stats.meta_regression` computes them."""
    y = np.atleast_2d(np.asarray(yi, dtype=np.float64))
    v = np.atleast_2d(np.asarray(vi, dtype=np.float64))
    design = np.asarray(X, dtype=np.float64)
    if design.ndim == 2:
        design = np.broadcast_to(design, (*y.shape, design.shape[-1]))
    present = np.isfinite(y) & np.isfinite(v)
    design = np.where(present[..., None], design, 0.0)
    y = np.where(present, y, 0.0)
    v = np.where(present, v, np.inf)
    k = present.sum(-1)
    p = design.shape[-1]
    if tau2_method == "DL":
        tau2 = _tau2_dl(y, v, design, k, p)
    elif tau2_method == "REML":
        tau2 = _tau2_reml(y, v, design, present)
    else:
        raise ValueError(
            f"tau2_method must be DL or REML in the batch path; got {tau2_method!r} "
            "(meta_regression() fits one analysis with any tau2 method)"
        )
    beta, vb, _ = _wls(y, 1 / (v + tau2[:, None]), design)
    se = np.sqrt(np.diagonal(vb, axis1=-2, axis2=-1))
    moderators = beta[:, 1:]
    if p > 1:
        solved = np.linalg.solve(vb[:, 1:, 1:], moderators[..., None])[..., 0]
        qm = np.einsum("ni,ni->n", moderators, solved)
    else:
        qm = np.full(len(y), np.nan)
    return BatchMetaRegression(
        k=k,
        estimate=beta,
        se=se,
        p=2 * norm_sf(np.abs(beta / se)),
        tau2=tau2,
        qe=_wls(y, 1 / v, design)[2],
        qm=qm,
        qm_p=chi2_sf(qm, max(p - 1, 1)) if p > 1 else qm,
    )


def _wls(y: FloatArray, w: FloatArray, X: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Batched weighted least squares: coefficients, ``(X'WX)^-1`` and weighted RSS."""
    xtw = np.swapaxes(X, -1, -2) * w[:, None, :]
    vb = np.linalg.inv(xtw @ X)
    beta = np.einsum("nij,nj->ni", vb, np.einsum("nij,nj->ni", xtw, y))
    resid = y - np.einsum("nij,nj->ni", X, beta)
    return beta, vb, (w * resid**2).sum(-1)


def _projection(w: FloatArray, X: FloatArray) -> FloatArray:
    wx = X * w[..., None]
    a = np.swapaxes(X, -1, -2) @ wx
    return np.einsum("ni,ij->nij", w, np.eye(w.shape[-1])) - wx @ np.linalg.solve(
        a, np.swapaxes(wx, -1, -2)
    )


def _tau2_dl(y: FloatArray, v: FloatArray, X: FloatArray, k: np.ndarray, p: int) -> FloatArray:
    P = _projection(1 / v, X)
    q = np.einsum("ni,nij,nj->n", y, P, y)
    return np.maximum(0.0, (q - (k - p)) / np.trace(P, axis1=-2, axis2=-1))


def _tau2_reml(y: FloatArray, v: FloatArray, X: FloatArray, present: np.ndarray) -> FloatArray:
    """Fisher scoring from the Hedges estimate, per row until each converges (metafor)."""
    k = present.sum(-1)
    mean = y.sum(-1) / k
    yc = np.where(present, y - mean[:, None], 0.0)
    tau2 = np.maximum(0.0, _tau2_he(yc, v, X, present))
    active = np.ones(len(y), dtype=bool)
    for _ in range(REML_MAX_ITER + 1):
        P = _projection(1 / (v + tau2[:, None]), X)
        py = np.einsum("nij,nj->ni", P, yc)
        step = ((py * py).sum(-1) - np.trace(P, axis1=-2, axis2=-1)) / (P * P).sum((-2, -1))
        tau2, active = fisher_scoring_update(tau2, step, active)
        if not active.any():
            break
    stuck = (_reml_loglik(yc, v, X, 0 * tau2) - _reml_loglik(yc, v, X, tau2) > UNIROOT_TOL) & (
        tau2 > METAFOR_THRESHOLD
    )
    return np.where(active, np.nan, np.where(stuck, 0.0, tau2))


def _tau2_he(y: FloatArray, v: FloatArray, X: FloatArray, present: np.ndarray) -> FloatArray:
    mask = present.astype(float)
    P = _projection(mask, X)
    rss = np.einsum("ni,nij,nj->n", y, P, y)
    trace_pv = (np.diagonal(P, axis1=-2, axis2=-1) * np.where(present, v, 0.0)).sum(-1)
    return (rss - trace_pv) / (present.sum(-1) - X.shape[-1])


def _reml_loglik(y: FloatArray, v: FloatArray, X: FloatArray, tau2: FloatArray) -> FloatArray:
    w = 1 / (v + tau2[:, None])
    _, _, rss = _wls(y, w, X)
    xtwx = np.swapaxes(X, -1, -2) @ (X * w[..., None])
    logdet = np.linalg.slogdet(xtwx)[1]
    total_variance = v + tau2[:, None]
    log_v = np.where(w > 0, np.log(np.where(w > 0, total_variance, 1.0)), 0.0).sum(-1)
    return -0.5 * log_v - 0.5 * logdet - 0.5 * rss
