"""``pool``: one outcome's meta-analysis, as RevMan 5 and metafor compute it.

Methods
-------
IV
    Inverse variance on ``escalc`` effects; fixed effect, or random effects with tau2 by
    any of metafor ``rma``'s DL, REML, PM (alias MP), ML, HE, HS, SJ, EB, HSk, DLIT, SJIT
    or PMM (see :mod:`livingmeta.stats.heterogeneity`).
MH
    Mantel-Haenszel (``metafor::rma.mh``). Fixed: the M-H estimate. Random: RevMan 5's
    method, DerSimonian-Laird tau2 from Q around the M-H estimate, then inverse-variance
    weights ``1 / (vi + tau2)`` on the study effects.
Peto
    Peto's one-step odds ratio (fixed effect only).

Zero cells get 0.5 in every cell of the study, for study effects and (RevMan 5 default,
``mh_exact=False``) inside the M-H estimate; ``mh_exact=True`` uses raw cells in the M-H
estimate like ``rma.mh``. Double-zero studies are shown but not pooled for OR and RR.
``convention="revman5"`` uses RevMan 5's formulas where they differ from metafor's (see
:mod:`livingmeta.stats.effects`): the observed RD of zero-cell studies, RevMan's Hedges' g
and the Greenland-Robins variance of the M-H RD.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from livingmeta.stats.data import BinaryData, StudyData
from livingmeta.stats.distributions import Reference, norm_ppf, t_ppf
from livingmeta.stats.effects import EffectSizes, escalc
from livingmeta.stats.errors import NotEstimableError
from livingmeta.stats.heterogeneity import (
    cochran_q,
    estimate_tau2,
    i_squared,
    i_squared_from_tau2,
    q_p_value,
    tau2_dl,
    weighted_mean,
)
from livingmeta.stats.mantel_haenszel import (
    FixedEstimate,
    mantel_haenszel,
    peto_components,
    peto_estimable,
)
from livingmeta.stats.options import (
    CONVENTIONS,
    MH_RD_VARIANCES,
    PI_METHODS,
    check_choice,
    check_options,
)
from livingmeta.stats.result import PooledResult, StudyResult


def study_effects(
    measure: str, method: str, data: StudyData, convention: str = "metafor"
) -> EffectSizes:
    """The study effects that the given method pools (Peto's own effects for Peto)."""
    if method != "Peto":
        return escalc(measure, data, convention=convention)
    assert isinstance(data, BinaryData)  # guaranteed by check_options + pool's type check
    comps = peto_components(data.events_treat, data.total_treat, data.events_ctrl, data.total_ctrl)
    ok = peto_estimable(data.events_treat, data.total_treat, data.events_ctrl, data.total_ctrl)
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.where(ok, comps.o_minus_e / comps.variance, np.nan)
        vi = np.where(ok, 1 / comps.variance, np.nan)
    return EffectSizes("OR", yi, vi, ok, np.zeros(ok.shape, dtype=bool))


def pool(
    data: StudyData,
    measure: str,
    method: str = "IV",
    model: str = "random",
    tau2_method: str = "DL",
    hksj: bool = False,
    mh_exact: bool = False,
    level: float = 0.95,
    *,
    convention: str = "metafor",
    mh_rd_variance: str | None = None,
    hksj_adhoc: bool = False,
    pi_method: str | None = None,
) -> PooledResult:
    """Pool one outcome's studies (the methods are in this module's docstring).

    Parameters
    ----------
    data
        ``BinaryData``, ``ContinuousData`` or ``GenericData`` for one outcome.
    measure
        ``OR``, ``RR``, ``RD`` (binary), ``MD``, ``SMD`` (continuous), or any of them /
        ``GIV`` for generic data (``yi`` on the analysis scale, log for ratios).
    method, model, tau2_method
        ``IV``, ``MH`` or ``Peto``; ``fixed`` or ``random``; ``DL``, ``REML``, ``PM``,
        ``ML``, ``HE``, ``HS``, ``SJ``, ``EB``, ``HSk``, ``DLIT``, ``SJIT``, ``PMM`` or
        ``MP`` (metafor's names, MP its alias of PM; M-H random effects is RevMan's DL
        and refuses the others).
    hksj, hksj_adhoc
        Hartung-Knapp-Sidik-Jonkman t-based CI and test (random effects); ``hksj_adhoc``
        floors its scale factor at 1 so the CI is never narrower than the Wald CI
        (metafor ``test = "adhoc"``) and implies ``hksj``.
    mh_exact
        Raw cells in the M-H estimate (metafor ``rma.mh``) instead of RevMan's corrected ones.
    level
        Confidence level of all intervals.
    convention, mh_rd_variance
        ``metafor`` or ``revman5``: whose formulas for zero-cell RDs, Hedges' g and the M-H
        RD variance (``sato`` or ``greenland-robins``; by default the convention's).
    pi_method
        Prediction interval ``z``, ``t-k1`` or ``t-k2`` (random effects); by default as
        metafor's ``predict()``: z, or t on k - 1 df with HKSJ.

    Raises
    ------
    ValueError
        For options that do not fit the data or each other.
    NotEstimableError
        When no study can be pooled, or an iterative tau2 estimator (REML, ML, EB, DLIT,
        SJIT) does not converge in metafor's 100 iterations.

    Notes
    -----
    Matches metafor 3.8 ``rma``/``rma.mh``/``rma.peto`` and RevMan 5 (see the README's
    methods section); checked against both in the test suite.

    Examples
    --------
    >>> from livingmeta.stats import BinaryData, pool
    >>> data = BinaryData(("A", "B"), [4, 6], [123, 306], [11, 29], [139, 303])
    >>> round(pool(data, "OR", "MH", "fixed").conf_int()[1], 3)
    0.488
    """
    hksj = hksj or hksj_adhoc
    _check_pool_options(data, measure, method, model, tau2_method, hksj, convention)
    _check_optional_choices(
        pi_method=(pi_method, PI_METHODS), mh_rd_variance=(mh_rd_variance, MH_RD_VARIANCES)
    )
    es = study_effects(measure, method, data, convention)
    fit = _fit(data, es, measure, method, model, tau2_method, mh_exact, convention, mh_rd_variance)
    k, q, tau2, estimate, se = fit.k, fit.q, fit.tau2, fit.estimate, fit.se
    hksj = hksj and k > 1  # undefined for a single study: the z-based test is reported
    if hksj:
        se = _hksj_se(fit.y, 1.0 / (fit.v + tau2), estimate, se, hksj_adhoc)
    inference = _inference(estimate, se, k - 1 if hksj else None, level)
    pi_low, pi_high = (None, None)
    if model == "random":
        pi_low, pi_high = prediction_interval(
            estimate, se, tau2, k, level, pi_method or ("t-k1" if hksj else "z")
        )
    i2 = float(i_squared(q, k - 1))
    return PooledResult(
        measure=measure,
        method=method,
        model=model,
        tau2_method=None if model == "fixed" else tau2_method,
        hksj=hksj,
        mh_exact=mh_exact,
        level=level,
        k=k,
        estimate=estimate,
        se=se,
        **inference,
        q=q,
        df=k - 1,
        p_q=float(q_p_value(q, k - 1)),
        i2=i2,
        i2_tau2=i2 if model == "fixed" else float(i_squared_from_tau2(tau2, 1 / fit.v, k)),
        tau2=tau2,
        pi_low=pi_low,
        pi_high=pi_high,
        studies=_study_results(data, es, fit.weights, float(norm_ppf(1 - (1 - level) / 2))),
    )


def _check_pool_options(
    data: StudyData,
    measure: str,
    method: str,
    model: str,
    tau2_method: str,
    hksj: bool,
    convention: str,
) -> None:
    """Reject options that do not fit each other or the data."""
    check_options(measure, method, model, tau2_method)
    check_choice("convention", convention, CONVENTIONS)
    if method in ("MH", "Peto") and not isinstance(data, BinaryData):
        raise ValueError(f"method {method} needs binary data (events and totals per arm)")
    if hksj and model != "random":
        raise ValueError("the HKSJ adjustment applies to random-effects models only")


def _check_optional_choices(**options: tuple[str | None, tuple[str, ...]]) -> None:
    """``name=(value, allowed)``: a value that is given must be one of the allowed."""
    for name, (value, allowed) in options.items():
        if value is not None:
            check_choice(name, value, allowed)


class _Fit(NamedTuple):
    """The pooled estimate before the HKSJ adjustment, with what it was computed from."""

    y: np.ndarray  # study effects, 0 where not pooled
    v: np.ndarray  # their variances, inf where not pooled
    k: int
    q: float
    tau2: float
    estimate: float
    se: float
    weights: np.ndarray


def _fit(
    data: StudyData,
    es: EffectSizes,
    measure: str,
    method: str,
    model: str,
    tau2_method: str,
    mh_exact: bool,
    convention: str,
    mh_rd_variance: str | None,
) -> _Fit:
    """Q, tau2 and the fixed (IV or M-H) or random-effects estimate of the estimable studies."""
    include = es.estimable
    k = int(include.sum())
    if k == 0:
        raise NotEstimableError("no study can be pooled (all are double-zero or invalid)")
    y = np.where(include, es.yi, 0.0)
    v = np.where(include, es.vi, np.inf)
    mh = None
    if method == "MH":
        assert isinstance(data, BinaryData)
        mh = _mantel_haenszel(data, measure, include, mh_exact, convention, mh_rd_variance)
    q = float(cochran_q(y, 1.0 / v, None if mh is None else np.float64(mh.estimate)))
    if model == "fixed" and mh is not None:
        return _Fit(y, v, k, q, 0.0, mh.estimate, mh.se, mh.weights)
    tau2 = 0.0 if model == "fixed" else _random_tau2(method, tau2_method, y, v, q)
    return _Fit(y, v, k, q, tau2, *_inverse_variance(y, 1.0 / (v + tau2)))


def _inference(estimate: float, se: float, t_df: int | None, level: float) -> dict[str, Any]:
    """CI, test statistic and P value: on the normal, or on t with ``t_df`` df (HKSJ)."""
    reference = Reference(t_df)
    # A zero SE (HKSJ with identical study effects) gives an infinite statistic, as in R.
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = float(np.float64(estimate) / np.float64(se))
    crit = float(reference.ppf(1 - (1 - level) / 2))
    return {
        "ci_low": estimate - crit * se,
        "ci_high": estimate + crit * se,
        "statistic": statistic,
        "statistic_name": "z" if t_df is None else "t",
        "p": float(2 * reference.sf(abs(statistic))),
    }


def _mantel_haenszel(
    data: BinaryData,
    measure: str,
    include: np.ndarray,
    mh_exact: bool,
    convention: str,
    rd_variance: str | None,
) -> FixedEstimate:
    """The M-H estimate with the convention's cells and RD variance."""
    if rd_variance is None:
        rd_variance = "greenland-robins" if convention == "revman5" else "sato"
    return mantel_haenszel(
        measure,
        data.events_treat,
        data.total_treat,
        data.events_ctrl,
        data.total_ctrl,
        include,
        exact=mh_exact,
        rd_variance=rd_variance,
        rd_observed=convention == "revman5",
    )


def _inverse_variance(y: np.ndarray, w: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Weighted mean, its standard error and the weights in percent."""
    return float(weighted_mean(y, w)), float(1 / np.sqrt(w.sum())), 100 * w / w.sum()


def _random_tau2(method: str, tau2_method: str, y: np.ndarray, v: np.ndarray, q: float) -> float:
    """tau2 of a random-effects fit: RevMan's DL from Q around the M-H estimate for MH."""
    if method == "MH":
        return float(tau2_dl(y, v, q=np.float64(q)))
    tau2 = float(estimate_tau2(tau2_method, y, v))
    if not np.isfinite(tau2):
        raise NotEstimableError(
            f"the {tau2_method} estimate of tau2 did not converge; try DL or PM"
        )
    return tau2


def _hksj_se(y: np.ndarray, w: np.ndarray, estimate: float, se: float, adhoc: bool) -> float:
    """Knapp-Hartung standard error; the ad hoc version never goes below the Wald SE."""
    s2 = float(np.sum(w * (y - estimate) ** 2)) / (np.count_nonzero(w) - 1)
    if adhoc:
        s2 = max(1.0, s2)
    return float(np.sqrt(s2)) * se


def prediction_interval(
    estimate: float, se: float, tau2: float, k: int, level: float = 0.95, method: str = "z"
) -> tuple[float | None, float | None]:
    """Prediction interval for the effect in a new study: ``estimate +- crit sqrt(tau2 +
    se^2)`` with crit from the normal (``z``), or t on k - 1 (``t-k1``) or k - 2 (``t-k2``)
    df; ``(None, None)`` where the df are not positive."""
    check_choice("pi_method", method, PI_METHODS)
    alpha = 1 - level
    if method == "z":
        crit = float(norm_ppf(1 - alpha / 2))
    else:
        df = k - (1 if method == "t-k1" else 2)
        if df < 1:
            return None, None
        crit = float(t_ppf(1 - alpha / 2, df))
    half = crit * float(np.sqrt(se**2 + tau2))
    return estimate - half, estimate + half


def _study_results(
    data: StudyData, es: EffectSizes, weights: np.ndarray, z: float
) -> tuple[StudyResult, ...]:
    half = z * np.sqrt(es.vi)
    columns = data.arm_columns()
    return tuple(
        StudyResult(
            study=data.study[i],
            yi=float(es.yi[i]),
            vi=float(es.vi[i]),
            ci_low=float(es.yi[i] - half[i]),
            ci_high=float(es.yi[i] + half[i]),
            weight=float(weights[i]) if es.estimable[i] else 0.0,
            estimable=bool(es.estimable[i]),
            corrected=bool(es.corrected[i]),
            year=data.year[i],
            subgroup=data.subgroup[i],
            data={name: float(values[i]) for name, values in columns.items()},
        )
        for i in range(data.k)
    )
