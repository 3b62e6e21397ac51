"""``pool``: one outcome's meta-analysis, as RevMan 5 and metafor compute it.

Methods
-------
IV
    Inverse variance on ``escalc`` effects; fixed effect, or random effects with tau2 by
    DL, REML or PM (metafor ``rma``).
MH
    Mantel-Haenszel (``metafor::rma.mh``). Fixed: the M-H estimate. Random: RevMan 5's
    method, DerSimonian-Laird tau2 from Q around the M-H estimate, then inverse-variance
    weights ``1 / (vi + tau2)`` on the study effects.
Peto
    Peto's one-step odds ratio (fixed effect only).

Zero cells get 0.5 in every cell of the study, for study effects and (RevMan 5 default,
``mh_exact=False``) inside the M-H estimate; ``mh_exact=True`` uses raw cells in the M-H
estimate like ``rma.mh``. Double-zero studies are shown but not pooled for OR and RR.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from livingmeta.stats.data import BinaryData, StudyData
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
from livingmeta.stats.mantel_haenszel import mantel_haenszel, peto_components, peto_estimable
from livingmeta.stats.options import check_options
from livingmeta.stats.result import PooledResult, StudyResult


def study_effects(measure: str, method: str, data: StudyData) -> EffectSizes:
    """The study effects that the given method pools (Peto's own effects for Peto)."""
    if method != "Peto":
        return escalc(measure, data)
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
) -> PooledResult:
    """Pool one outcome's studies.

    Parameters
    ----------
    data
        ``BinaryData``, ``ContinuousData`` or ``GenericData`` for one outcome.
    measure
        ``OR``, ``RR``, ``RD`` (dichotomous), ``MD``, ``SMD`` (continuous), or any of
        them / ``GIV`` for generic data (``yi`` on the analysis scale, log for ratios).
    method
        ``IV``, ``MH`` or ``Peto``.
    model
        ``fixed`` or ``random``.
    tau2_method
        ``DL``, ``REML`` or ``PM`` (IV random effects; M-H random always uses DL).
    hksj
        Hartung-Knapp-Sidik-Jonkman t-based CI and test (random effects).
    mh_exact
        Raw cells in the M-H estimate (metafor ``rma.mh``) instead of RevMan's corrected ones.
    level
        Confidence level of all intervals.

    Returns
    -------
    PooledResult

    Raises
    ------
    ValueError
        For options that do not fit the data or each other.
    NotEstimableError
        When no study can be pooled.

    Notes
    -----
    Matches metafor 3.8 ``rma``/``rma.mh``/``rma.peto`` and RevMan 5 (see the README's
    methods section); checked against both in the test suite.

    Examples
    --------
    >>> from livingmeta.stats import BinaryData, pool
    >>> data = BinaryData(("A", "B"), [4, 6], [123, 306], [11, 29], [139, 303])
    >>> round(pool(data, "OR", "MH", "fixed").conf_int()[1], 3)
    0.492
    """
    check_options(measure, method, model, tau2_method)
    if method in ("MH", "Peto") and not isinstance(data, BinaryData):
        raise ValueError(f"method {method} needs dichotomous data (events and totals per arm)")
    if hksj and model != "random":
        raise ValueError("the HKSJ adjustment applies to random-effects models only")

    es = study_effects(measure, method, data)
    include = es.estimable
    k = int(include.sum())
    if k == 0:
        raise NotEstimableError("no study can be pooled (all are double-zero or invalid)")
    y = np.where(include, es.yi, 0.0)
    v = np.where(include, es.vi, np.inf)
    w = 1.0 / v
    df = k - 1

    mh = None
    if method == "MH":
        assert isinstance(data, BinaryData)
        mh = mantel_haenszel(
            measure,
            data.events_treat,
            data.total_treat,
            data.events_ctrl,
            data.total_ctrl,
            include,
            exact=mh_exact,
        )
        q = float(cochran_q(y, w, np.float64(mh.estimate)))
    else:
        q = float(cochran_q(y, w))

    if model == "fixed":
        tau2 = 0.0
        if mh is not None:
            estimate, se, weights = mh.estimate, mh.se, mh.weights
        else:
            estimate = float(weighted_mean(y, w))
            se = float(1 / np.sqrt(w.sum()))
            weights = 100 * w / w.sum()
        pooled_w = w
    else:
        if method == "MH":
            tau2 = float(tau2_dl(y, v, q=np.float64(q)))
        else:
            tau2 = float(estimate_tau2(tau2_method, y, v))
            if not np.isfinite(tau2):
                raise NotEstimableError(
                    f"the {tau2_method} estimate of tau2 did not converge; try DL or PM"
                )
        pooled_w = 1.0 / (v + tau2)
        estimate = float(weighted_mean(y, pooled_w))
        se = float(1 / np.sqrt(pooled_w.sum()))
        weights = 100 * pooled_w / pooled_w.sum()

    alpha = 1 - level
    hksj = hksj and df > 0  # undefined for a single study: the z-based test is reported
    if hksj:
        s2 = float(np.sum(pooled_w * (y - estimate) ** 2)) / df
        se = float(np.sqrt(s2 / pooled_w.sum()))
        reference = stats.t(df)
    else:
        reference = stats.norm()
    # A zero SE (HKSJ with identical study effects) gives an infinite statistic, as in R.
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = float(np.float64(estimate) / np.float64(se))
    crit = float(reference.ppf(1 - alpha / 2))
    p = float(2 * reference.sf(abs(statistic)))

    pi_low = pi_high = None
    if model == "random":
        half = crit * np.sqrt(se**2 + tau2)
        pi_low, pi_high = estimate - half, estimate + half

    z_study = float(stats.norm.ppf(1 - alpha / 2))
    i2 = float(i_squared(q, df))
    i2_tau2 = i2 if model == "fixed" else float(i_squared_from_tau2(tau2, w, k))
    return PooledResult(
        measure=measure,
        method=method,
        model=model,
        tau2_method=None if model == "fixed" else ("DL" if method == "MH" else tau2_method),
        hksj=hksj,
        mh_exact=mh_exact,
        level=level,
        k=k,
        estimate=estimate,
        se=se,
        ci_low=estimate - crit * se,
        ci_high=estimate + crit * se,
        statistic=float(statistic),
        statistic_name="t" if hksj else "z",
        p=p,
        q=q,
        df=df,
        p_q=float(q_p_value(q, df)),
        i2=i2,
        i2_tau2=i2_tau2,
        tau2=tau2,
        pi_low=None if pi_low is None else float(pi_low),
        pi_high=None if pi_high is None else float(pi_high),
        studies=_study_results(data, es, weights, z_study),
    )


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
