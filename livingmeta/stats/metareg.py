"""Mixed-effects meta-regression, as metafor's ``rma(yi, vi, mods = ~ ..., test = ...)``.

Coefficients with SE, CI and test (z, or t on k - p df with the Knapp-Hartung adjustment),
the omnibus test of the moderators (QM: chi2 on m df, or F on (m, k - p) df), residual
heterogeneity (QE, tau2, I2, H2) and R2, the proportional reduction of tau2 against the
model without moderators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from livingmeta.stats.distributions import Reference, chi2_sf, f_sf
from livingmeta.stats.errors import NotEstimableError
from livingmeta.stats.linear import intercept_only, residual_q, typical_variance, wls
from livingmeta.stats.tau2_design import tau2_design

FloatArray = npt.NDArray[np.float64]
REGRESSION_TESTS = ("z", "knha")
# Cochrane Handbook 10.11.4: meta-regression needs about ten studies per covariate.
STUDIES_PER_COVARIATE = 10


@dataclass(frozen=True)
class Coefficient:
    """One model coefficient (analysis scale) with its test and confidence interval."""

    name: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p: float


@dataclass(frozen=True)
class MetaRegression:
    """A fitted meta-regression (metafor's ``rma`` object with moderators, frozen)."""

    k: int
    tau2_method: str
    test: str  # "z", or "t" with the Knapp-Hartung adjustment
    coefficients: tuple[Coefficient, ...]
    qm: float
    qm_df: tuple[int, ...]  # (m,) for the chi2 test, (m, k - p) for the F test
    qm_p: float
    qe: float
    qe_df: int
    qe_p: float
    tau2: float
    i2: float
    h2: float
    r2: float | None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``livingmeta pool --mods`` (analysis scale)."""
        out = asdict(self)
        out["coefficients"] = [asdict(c) for c in self.coefficients]
        out["qm_df"] = list(self.qm_df)
        out["warnings"] = list(self.warnings)
        return out


def design_matrix(
    mods: Mapping[str, Sequence[Any]], intercept: bool = True
) -> tuple[FloatArray, tuple[str, ...]]:
    """The design matrix and column names of R's ``model.matrix(~ a + b)``.

    Numeric columns enter as they are; text columns as dummy variables against their
    first level in sorted order (R's factor coding), named column + level (``allocrandom``).
    """
    columns: list[FloatArray] = []
    names: list[str] = []
    k = len(next(iter(mods.values()))) if mods else 0
    if intercept:
        columns.append(np.ones(k))
        names.append("intrcpt")
    for name, values in mods.items():
        values = list(values)
        if len(values) != k:
            raise ValueError(f"moderator {name} has {len(values)} values for {k} studies")
        numeric = _as_numbers(values)
        if numeric is not None:
            columns.append(numeric)
            names.append(name)
            continue
        levels = sorted({str(v) for v in values})
        for level in levels[1:] if intercept else levels:
            columns.append(np.array([str(v) == level for v in values], dtype=float))
            names.append(f"{name}{level}")
    return np.column_stack(columns), tuple(names)


def _as_numbers(values: list[Any]) -> FloatArray | None:
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        return None


def meta_regression(
    yi: npt.ArrayLike,
    vi: npt.ArrayLike,
    mods: Mapping[str, Sequence[Any]],
    tau2_method: str = "REML",
    test: str = "z",
    level: float = 0.95,
) -> MetaRegression:
    """Fit a mixed-effects meta-regression of ``yi`` on the moderators ``mods``.

    Parameters
    ----------
    yi, vi
        Study effects (analysis scale) and their sampling variances.
    mods
        Moderator name -> one value per study (numbers, or labels for a categorical one).
    tau2_method
        ``DL``, ``REML``, ``PM``, ``ML``, ``HE``, ``HS``, ``SJ``, ``EB``, ``HSk``,
        ``DLIT``, ``SJIT``, ``PMM``, ``MP`` (or ``EE`` for a fixed-effects
        meta-regression).
    test
        ``z`` (Wald) or ``knha`` (Knapp-Hartung: t and F tests on k - p df).

    Returns
    -------
    MetaRegression

    Notes
    -----
    Matches metafor 3.8 ``rma(yi, vi, mods = ~ ..., method = tau2_method, test = test)``.

    Examples
    --------
    >>> fit = meta_regression([-0.9, -1.6, -1.4, -0.2], [0.3, 0.2, 0.4, 0.1],
    ...                       {"lat": [44, 55, 42, 13]}, "DL")
    >>> [c.name for c in fit.coefficients]
    ['intrcpt', 'lat']
    """
    X, names = design_matrix(mods)
    return fit_design(
        np.asarray(yi, float), np.asarray(vi, float), X, names, tau2_method, test, level
    )


def fit_design(
    yi: FloatArray,
    vi: FloatArray,
    X: FloatArray,
    names: Sequence[str],
    tau2_method: str = "REML",
    test: str = "z",
    level: float = 0.95,
) -> MetaRegression:
    """Meta-regression on a ready design matrix (first column the intercept)."""
    if test not in REGRESSION_TESTS:
        raise ValueError(f"test must be one of {', '.join(REGRESSION_TESTS)}; got {test!r}")
    k, p = X.shape
    if k <= p:
        raise ValueError(f"{k} studies cannot estimate {p} coefficients")
    tau2 = tau2_design(tau2_method, yi, vi, X)
    fit = wls(yi, 1.0 / (vi + tau2), X)
    vb = fit.vb
    if test == "knha":
        vb = vb * (fit.rss / (k - p) if fit.rss > np.finfo(float).eps else 0.0)
    coefficients = _coefficients(fit.beta, vb, names, test, k - p, level)
    qm, qm_df, qm_p = _omnibus(fit.beta[1:], vb[1:, 1:], test, k - p)
    qe = max(0.0, residual_q(yi, vi, X, 0.0))
    i2, h2 = _heterogeneity(vi, X, tau2_method, tau2, qe)
    return MetaRegression(
        k=k,
        tau2_method=tau2_method,
        test="t" if test == "knha" else "z",
        coefficients=coefficients,
        qm=qm,
        qm_df=qm_df,
        qm_p=qm_p,
        qe=qe,
        qe_df=k - p,
        qe_p=float(chi2_sf(qe, k - p)),
        tau2=tau2,
        i2=i2,
        h2=h2,
        r2=_r2(yi, vi, X, tau2_method, tau2) if p > 1 else None,
        warnings=_warnings(k, p),
    )


def _coefficients(
    beta: FloatArray, vb: FloatArray, names: Sequence[str], test: str, df: int, level: float
) -> tuple[Coefficient, ...]:
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = beta / se
    reference = Reference(df if test == "knha" else None)
    crit = float(reference.ppf(1 - (1 - level) / 2))
    return tuple(
        Coefficient(
            name=names[i],
            estimate=float(beta[i]),
            se=float(se[i]),
            ci_low=float(beta[i] - crit * se[i]),
            ci_high=float(beta[i] + crit * se[i]),
            statistic=float(statistic[i]),
            p=float(2 * reference.sf(abs(statistic[i]))),
        )
        for i in range(len(beta))
    )


def _omnibus(
    beta: FloatArray, vb: FloatArray, test: str, df: int
) -> tuple[float, tuple[int, ...], float]:
    """QM: Wald test that all moderator coefficients are 0 (chi2, or F for Knapp-Hartung)."""
    m = len(beta)
    if m == 0:
        return float("nan"), (0,), float("nan")
    qm = float(beta @ np.linalg.solve(vb, beta))
    if test == "knha":
        return qm / m, (m, df), float(f_sf(qm / m, m, df))
    return qm, (m,), float(chi2_sf(qm, m))


def _heterogeneity(
    vi: FloatArray, X: FloatArray, tau2_method: str, tau2: float, qe: float
) -> tuple[float, float]:
    """Residual I2 (percent) and H2: from tau2 and the typical within-study variance, or
    for a fixed-effects model from QE, as metafor reports them."""
    k, p = X.shape
    if tau2_method == "EE":
        return max(0.0, 100 * (qe - (k - p)) / qe) if qe > 0 else 0.0, qe / (k - p)
    vt = typical_variance(vi, X)
    return 100 * tau2 / (vt + tau2), tau2 / vt + 1


def _r2(
    yi: FloatArray, vi: FloatArray, X: FloatArray, tau2_method: str, tau2: float
) -> float | None:
    """metafor's pseudo-R2: ``max(0, 100 (tau2_0 - tau2) / tau2_0)`` against the model
    without moderators (0 when that model has no heterogeneity; None, metafor's NA, when
    it has no estimate, e.g. DLIT not converging there); for a fixed-effects model the
    adjusted R2 of the weighted regression, in percent."""
    if tau2_method == "EE":
        k, p = X.shape
        w = 1.0 / vi
        centre = float(np.sum(w * yi) / np.sum(w))
        explained = 1 - wls(yi, w, X).rss / float(np.sum(w * (yi - centre) ** 2))
        return max(0.0, 100 * (1 - (1 - explained) * (k - 1) / (k - p)))
    try:
        tau2_0 = tau2_design(tau2_method, yi, vi, intercept_only(len(yi)))
    except NotEstimableError:  # metafor: try(rma.uni(...)) fails, R2 <- NA
        return None
    if tau2_0 == 0:
        return 0.0
    return max(0.0, 100 * (tau2_0 - tau2) / tau2_0)


def _warnings(k: int, p: int) -> tuple[str, ...]:
    covariates = p - 1
    if covariates and k < STUDIES_PER_COVARIATE * covariates:
        return (
            f"{k} studies for {covariates} covariate(s): fewer than "
            f"{STUDIES_PER_COVARIATE} per covariate (Cochrane Handbook 10.11.4)",
        )
    return ()
