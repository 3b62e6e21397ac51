"""Sensitivity and living-review analyses built on ``pool``: fixed vs random side by side,
leave-one-out, cumulative (by year), and subgroups with the test for differences (each
subgroup with its own tau2, or one tau2 common to all)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from livingmeta.stats.data import StudyData
from livingmeta.stats.distributions import chi2_sf, norm_ppf
from livingmeta.stats.effects import escalc
from livingmeta.stats.heterogeneity import i_squared
from livingmeta.stats.linear import wls
from livingmeta.stats.metareg import design_matrix
from livingmeta.stats.pooling import NotEstimableError, pool
from livingmeta.stats.result import PooledResult, SubgroupResult
from livingmeta.stats.tau2_design import tau2_design


def fixed_and_random(data: StudyData, **options: Any) -> dict[str, PooledResult]:
    """The same analysis under both models (papers often report both)."""
    return {model: pool(data, **{**options, "model": model}) for model in ("fixed", "random")}


def leave_one_out(data: StudyData, **options: Any) -> list[tuple[str, PooledResult | None]]:
    """Pooled result with each study omitted in turn (None where nothing is left to pool)."""
    out: list[tuple[str, PooledResult | None]] = []
    for i, name in enumerate(data.study):
        rest = [j for j in range(data.k) if j != i]
        out.append((name, _try_pool(lambda d: pool(d, **options), data.take(rest))))
    return out


def cumulative(data: StudyData, **options: Any) -> list[tuple[str, PooledResult | None]]:
    """Pooled result as studies accumulate in order of year (stable for ties and for
    studies without a year, which come last) — how the evidence grew."""
    years = np.array([np.inf if y is None else y for y in data.year], dtype=float)
    order = np.argsort(years, kind="stable")
    return [
        (data.study[order[i]], _try_pool(lambda d: pool(d, **options), data.take(order[: i + 1])))
        for i in range(data.k)
    ]


def subgroups(data: StudyData, **options: Any) -> SubgroupResult:
    """Pool within each subgroup and test for subgroup differences.

    The test is RevMan's: Q between = sum over subgroups of w_g (theta_g - theta)^2 with
    w_g = 1 / se_g^2 and theta their weighted mean, on (number of subgroups - 1) df.
    """
    labels = [s if s is not None else "" for s in data.subgroup]
    groups: dict[str, PooledResult] = {}
    for label in dict.fromkeys(labels):
        idx = [i for i, s in enumerate(labels) if s == label]
        result = _try_pool(lambda d: pool(d, **options), data.take(idx))
        if result is not None:
            groups[label] = result
    overall = pool(data, **options)
    est = np.array([g.estimate for g in groups.values()])
    w = np.array([1 / g.se**2 for g in groups.values()])
    df = len(groups) - 1
    if df > 0:
        centre = np.sum(w * est) / np.sum(w)
        q = float(np.sum(w * (est - centre) ** 2))
        p = float(chi2_sf(q, df))
    else:
        q, p = 0.0, float("nan")
    return SubgroupResult(groups, overall, q, df, p, float(i_squared(q, df)))


@dataclass(frozen=True)
class GroupEstimate:
    """One subgroup's estimate under a common tau2 (analysis scale)."""

    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class CommonTau2Subgroups:
    """Subgroups under random effects with one tau2 for all (metafor ``rma(yi, vi, mods =
    ~ group)``) and the test for subgroup differences (its QM)."""

    groups: dict[str, GroupEstimate]
    tau2: float
    q_between: float
    df_between: int
    p_between: float


def subgroups_common_tau2(
    data: StudyData,
    measure: str,
    tau2_method: str = "REML",
    level: float = 0.95,
    convention: str = "metafor",
) -> CommonTau2Subgroups:
    """Inverse-variance random-effects subgroups sharing one tau2, estimated from the model
    with a mean per subgroup; the subgroup means are weighted by ``1 / (vi + tau2)``.

    The test for differences is the Wald test that the subgroup means are equal, on
    (number of subgroups - 1) df, which is the between-subgroup Q of these estimates.
    """
    es = escalc(measure, data, convention=convention)
    ok = es.estimable
    labels = [("" if s is None else s) for s, keep in zip(data.subgroup, ok, strict=True) if keep]
    yi, vi = es.yi[ok], es.vi[ok]
    X, _ = design_matrix({"group": labels})
    tau2 = tau2_design(tau2_method, yi, vi, X)
    w = 1.0 / (vi + tau2)
    crit = float(norm_ppf(1 - (1 - level) / 2))
    groups: dict[str, GroupEstimate] = {}
    for label in dict.fromkeys(labels):
        members = np.array([g == label for g in labels])
        fit = wls(yi[members], w[members], np.ones((int(members.sum()), 1)))
        estimate, se = float(fit.beta[0]), float(np.sqrt(fit.vb[0, 0]))
        groups[label] = GroupEstimate(
            int(members.sum()), estimate, se, estimate - crit * se, estimate + crit * se
        )
    est = np.array([g.estimate for g in groups.values()])
    wg = np.array([1 / g.se**2 for g in groups.values()])
    df = len(groups) - 1
    q = float(np.sum(wg * (est - np.sum(wg * est) / np.sum(wg)) ** 2)) if df > 0 else 0.0
    p = float(chi2_sf(q, df)) if df > 0 else float("nan")
    return CommonTau2Subgroups(groups, tau2, q, df, p)


def _try_pool(run: Callable[[StudyData], PooledResult], data: StudyData) -> PooledResult | None:
    try:
        return run(data)
    except NotEstimableError:
        return None
