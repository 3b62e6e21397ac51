"""Mantel-Haenszel and Peto pooled estimates for 2x2 tables.

Variances: Robins-Breslow-Greenland for the log OR, Greenland-Robins for the log RR and,
for the RD, Sato-Greenland-Robins (metafor's ``rma.mh``) or Greenland-Robins (RevMan 5,
``rd_variance="greenland-robins"``). By default the cells of zero-cell studies carry the
0.5 correction inside the M-H estimate, as RevMan 5 does for ratios; ``exact=True`` uses
the raw cells, as metafor's ``rma.mh`` does; ``rd_observed=True`` pools the observed study
RDs with weights from the corrected cells (R meta's RevMan 5 setting ``MH.exact = FALSE``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livingmeta.stats.effects import corrected_cells, double_zero
from livingmeta.stats.errors import NotEstimableError
from livingmeta.stats.options import MH_RD_VARIANCES, check_choice

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class FixedEstimate:
    """A fixed-effect estimate on the analysis scale with its standard error and the
    display weight of each study (percent; 0 for studies left out)."""

    estimate: float
    se: float
    weights: FloatArray


def _cells(
    events_treat: FloatArray,
    total_treat: FloatArray,
    events_ctrl: FloatArray,
    total_ctrl: FloatArray,
    exact: bool,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    a = np.asarray(events_treat, dtype=np.float64)
    c = np.asarray(events_ctrl, dtype=np.float64)
    b = np.asarray(total_treat, dtype=np.float64) - a
    d = np.asarray(total_ctrl, dtype=np.float64) - c
    if exact:
        return a, b, c, d
    a, b, c, d, _ = corrected_cells(a, b, c, d)
    return a, b, c, d


def mantel_haenszel(
    measure: str,
    events_treat: FloatArray,
    total_treat: FloatArray,
    events_ctrl: FloatArray,
    total_ctrl: FloatArray,
    include: BoolArray,
    exact: bool = False,
    rd_variance: str = "sato",
    rd_observed: bool = False,
) -> FixedEstimate:
    """M-H pooled OR, RR (log scale) or RD over the studies in ``include``."""
    check_choice("rd_variance", rd_variance, MH_RD_VARIANCES)
    counts = (events_treat, total_treat, events_ctrl, total_ctrl)
    a, b, c, d = (np.where(include, x, 0.0) for x in _cells(*counts, exact))
    n1, n2 = a + b, c + d
    n = np.where(include, n1 + n2, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = _pool_cells(measure, a, b, c, d, n1, n2, n, include)
        if measure != "RD":
            return pooled
        estimate = pooled.estimate
        if rd_observed:
            # R meta's MH.exact = FALSE: observed study RDs, weights from the corrected cells
            ra, rb, rc, rd = _cells(*counts, exact=True)
            observed = np.where(include, ra / (ra + rb) - rc / (rc + rd), 0.0)
            weights = np.where(include, n1 * n2 / n, 0.0)
            estimate = float(np.sum(weights * observed) / np.sum(weights))
        se = pooled.se
        if rd_variance == "greenland-robins":
            se = float(np.sqrt(greenland_robins_rd_variance(a, b, c, d)))
    return FixedEstimate(estimate, se, pooled.weights)


def greenland_robins_rd_variance(
    a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray
) -> FloatArray:
    """Greenland & Robins (1985) variance of the M-H risk difference, as RevMan 5 computes
    it: ``sum (a b n2^3 + c d n1^3) / (n1 n2 N^2) / (sum n1 n2 / N)^2`` (studies with all
    cells 0 contribute nothing)."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    present = n > 0
    safe = np.where(present, n1 * n2 * n**2, 1.0)
    numerator = np.where(present, (a * b * n2**3 + c * d * n1**3) / safe, 0.0)
    weights = np.where(present, n1 * n2 / np.where(present, n, 1.0), 0.0)
    return np.sum(numerator, axis=-1) / np.sum(weights, axis=-1) ** 2


def _pool_cells(
    measure: str,
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    d: FloatArray,
    n1: FloatArray,
    n2: FloatArray,
    n: FloatArray,
    include: BoolArray,
) -> FixedEstimate:
    if measure == "OR":
        r, s = a * d / n, b * c / n
        sr, ss = r.sum(), s.sum()
        p, q = (a + d) / n, (b + c) / n
        var = (
            np.sum(p * r) / (2 * sr**2)
            + np.sum(p * s + q * r) / (2 * sr * ss)
            + np.sum(q * s) / (2 * ss**2)
        )
        estimate, weights = np.log(sr / ss), s
    elif measure == "RR":
        r, s = a * n2 / n, c * n1 / n
        sr, ss = r.sum(), s.sum()
        var = np.sum((n1 * n2 * (a + c) - a * c * n) / n**2) / (sr * ss)
        estimate, weights = np.log(sr / ss), s
    elif measure == "RD":
        weights = n1 * n2 / n
        sw = weights.sum()
        estimate = np.sum((a * n2 - c * n1) / n) / sw
        var = (
            estimate
            * np.sum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2)
            + np.sum(a * (n2 - c) / n + c * (n1 - a) / n) / 2
        ) / sw**2
    else:
        raise ValueError(f"Mantel-Haenszel needs OR, RR or RD; got {measure!r}")
    weights = np.where(include, weights, 0.0)
    if not (np.isfinite(estimate) and np.isfinite(var) and weights.sum() > 0):
        # Only possible with raw cells (exact=True): e.g. no events in one arm anywhere.
        raise NotEstimableError(
            f"the Mantel-Haenszel {measure} is undefined for these counts (e.g. no events "
            "in one arm of every study); use the RevMan zero-cell correction (mh_exact off)"
        )
    return FixedEstimate(float(estimate), float(np.sqrt(var)), 100 * weights / weights.sum())


@dataclass(frozen=True)
class PetoComponents:
    """Per-study Peto quantities: observed minus expected events and hypergeometric
    variance. ``(o - e) / v`` is the study's Peto log OR with variance ``1 / v``."""

    o_minus_e: FloatArray
    variance: FloatArray


def peto_components(
    events_treat: FloatArray,
    total_treat: FloatArray,
    events_ctrl: FloatArray,
    total_ctrl: FloatArray,
) -> PetoComponents:
    """O - E and V per study (no continuity correction: Peto needs none)."""
    a = np.asarray(events_treat, dtype=np.float64)
    c = np.asarray(events_ctrl, dtype=np.float64)
    n1 = np.asarray(total_treat, dtype=np.float64)
    n2 = np.asarray(total_ctrl, dtype=np.float64)
    n = n1 + n2
    events = a + c
    expected = n1 * events / n
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = n1 * n2 * events * (n - events) / (n**2 * (n - 1))
    return PetoComponents(a - expected, np.nan_to_num(variance))


def peto_estimable(
    events_treat: FloatArray,
    total_treat: FloatArray,
    events_ctrl: FloatArray,
    total_ctrl: FloatArray,
) -> BoolArray:
    """Peto's OR is undefined for double-zero (and double-all) studies."""
    return ~double_zero(*_cells(events_treat, total_treat, events_ctrl, total_ctrl, exact=True))
