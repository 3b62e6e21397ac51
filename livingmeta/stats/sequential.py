"""Sequential monitoring of a living meta-analysis (trial sequential analysis).

A living review tests its hypothesis again at every update. Read against the usual 1.96,
repeated looks at accumulating data turn noise into "significant" results far more often
than 5% of the time. Group-sequential monitoring boundaries keep the overall type I error
at ``alpha`` however many looks there are, by *spending* alpha as information accrues
(Lan and DeMets 1983); futility boundaries spend ``beta`` the same way. The information
axis is the fraction of the required information size (RIS) reached, in participants.

Conventions follow group-sequential software (rpact, gsDesign, the TSA program of the
Copenhagen Trial Unit): a two-sided test at level ``alpha`` spends ``alpha / 2`` on each
side; for five equally spaced looks and alpha = 0.05 the O'Brien-Fleming-type bounds are
4.877, 3.357, 2.680, 2.290 and 2.031.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SPENDING = ("obf", "pocock")
#: Grid points per unit of the score scale in the recursive integration. The density
#: between looks is smooth, so Simpson's rule on this grid is accurate to about 1e-9 in
#: crossing probabilities (checked against rpact to 1e-6 in the tests).
GRID_PER_UNIT = 100


@dataclass(frozen=True)
class SequentialBounds:
    """Monitoring boundaries on the Z scale at each look.

    ``upper``/``lower`` are the efficacy boundaries (cross one and the result is
    significant with the overall error controlled); ``futility`` (if computed) the inner
    wedge: a two-sided Z inside ``(-futility, futility)`` says the anticipated effect is
    unlikely. ``alpha_spent`` is the cumulative two-sided alpha spent by each look.
    """

    fractions: tuple[float, ...]
    upper: tuple[float, ...]
    lower: tuple[float, ...]
    alpha_spent: tuple[float, ...]
    alpha: float
    spending: str
    futility: tuple[float, ...] | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: the keys ``livingmeta tsa --json`` prints."""
        out: dict[str, object] = {
            "fractions": list(self.fractions),
            "upper": list(self.upper),
            "lower": list(self.lower),
            "alpha": self.alpha,
            "spending": self.spending,
            "alpha_spent": list(self.alpha_spent),
        }
        if self.futility is not None:
            out["futility"] = list(self.futility)
        return out


def alpha_spending(t: Sequence[float] | np.ndarray, alpha: float, spending: str = "obf"):
    """Cumulative alpha spent on one side by information fraction ``t``.

    ``obf``: Lan-DeMets O'Brien-Fleming type, ``2 - 2 Phi(z_{1-alpha/2} / sqrt(t))``;
    ``pocock``: Lan-DeMets Pocock type, ``alpha log(1 + (e - 1) t)``. ``alpha`` here is
    the one-sided level (half the two-sided one).

    >>> [float(f"{a:.3g}") for a in alpha_spending([0.2, 1.0], 0.025)]
    [5.39e-07, 0.025]
    """
    from livingmeta.stats.distributions import norm_isf, norm_sf

    _check_spending(spending)
    t = np.clip(np.asarray(t, dtype=float), 0.0, 1.0)
    if spending == "pocock":
        return alpha * np.log1p((math.e - 1) * t)
    with np.errstate(divide="ignore"):
        return np.where(t > 0, 2 * norm_sf(norm_isf(alpha / 2) / np.sqrt(t)), 0.0)


def monitoring_bounds(
    fractions: Sequence[float], alpha: float = 0.05, spending: str = "obf"
) -> SequentialBounds:
    """Two-sided Lan-DeMets efficacy boundaries at the given information fractions.

    Parameters
    ----------
    fractions
        Information fractions of the looks, increasing, in (0, 1]; values above 1 (more
        information than required) are treated as 1 for spending.
    alpha
        Two-sided overall type I error.
    spending
        ``obf`` (O'Brien-Fleming type, the TSA default) or ``pocock``.

    Returns
    -------
    SequentialBounds
        ``upper[k]`` is found so that the probability under H0 of first crossing at look
        ``k`` equals the alpha spent between looks ``k-1`` and ``k``, by the recursive
        numerical integration of Armitage, McPherson and Rowe (Jennison and Turnbull
        2000, ch. 19).

    Notes
    -----
    Matches rpact ``getDesignGroupSequential(sided = 2, typeOfDesign = "asOF"/"asP")``.

    >>> b = monitoring_bounds([0.2, 0.4, 0.6, 0.8, 1.0])
    >>> [round(z, 3) for z in b.upper]
    [4.877, 3.357, 2.68, 2.29, 2.031]
    """
    from scipy.optimize import brentq

    from livingmeta.stats.distributions import norm_isf

    t = _check_fractions(fractions, alpha)
    spent = 2 * alpha_spending(np.minimum(t, 1.0), alpha / 2, spending)
    upper: list[float] = []
    grid = weights = density = None
    previous_t, previous_spent = 0.0, 0.0
    for tk, total in zip(t, spent, strict=True):
        target = float(total - previous_spent)
        step = math.sqrt(tk - previous_t)
        if grid is None:
            b = step * norm_isf(max(target, 1e-300) / 2)
        elif target <= 0:
            b = math.inf
        else:

            def excess(b: float, g=grid, w=weights, f=density, s=step, goal=target) -> float:
                return _cross_probability(g, w, f, s, b) - goal

            hi = math.sqrt(tk) * 40
            b = brentq(excess, 1e-9, hi, xtol=1e-13, rtol=1e-13)
        upper.append(float(b / math.sqrt(tk)))
        grid, weights, density = _next_density(grid, weights, density, step, min(b, 40 * step))
        previous_t, previous_spent = float(tk), float(total)
    return SequentialBounds(
        fractions=tuple(float(x) for x in t),
        upper=tuple(upper),
        lower=tuple(-u for u in upper),
        alpha_spent=tuple(float(s) for s in spent),
        alpha=alpha,
        spending=spending,
    )


def futility_bounds(bounds: SequentialBounds, beta: float = 0.1, spending: str = "obf"):
    """Non-binding beta-spending futility bounds for ``bounds``, and the design drift.

    Under the anticipated effect, the probability of first falling below ``a_k`` at look
    ``k`` equals the beta spent between looks ``k-1`` and ``k``; the drift (the expected
    Z at full information) is the one for which the last futility bound meets the last
    efficacy bound, so the design has power ``1 - beta``. The efficacy bounds are not
    changed (non-binding: stopping for futility is the reviewers' choice, not a rule).

    Returns
    -------
    tuple
        ``(futility, drift)``: one futility bound per look on the Z scale (the upper
        direction; the two-sided inner wedge is ``(-a_k, a_k)`` where ``a_k > 0``), and
        the drift.

    Notes
    -----
    Matches rpact ``getDesignGroupSequential(sided = 1, alpha = alpha / 2, beta,
    typeOfDesign = "asOF", typeBetaSpending = "bsOF")`` (futility bounds and the last
    critical value).
    """
    from scipy.optimize import brentq

    from livingmeta.stats.distributions import norm_isf

    if not 0 < beta < 1:
        raise ValueError(f"beta must be between 0 and 1; got {beta}")
    t = np.minimum(np.asarray(bounds.fractions), 1.0)
    spent = alpha_spending(t, beta, spending)
    c = np.asarray(bounds.upper)
    fixed = norm_isf(bounds.alpha / 2) + norm_isf(beta)

    def gap(d: float) -> float:  # increasing in the drift; +inf capped for the root finder
        return min(_futility_for_drift(t, c, spent, d)[-1], 1e3) - c[-1]

    drift = brentq(gap, fixed * 0.5, fixed * 3, xtol=1e-12)
    return tuple(_futility_for_drift(t, c, spent, drift)), float(drift)


def _futility_for_drift(t: np.ndarray, c: np.ndarray, spent: np.ndarray, drift: float):
    from scipy.optimize import brentq

    from livingmeta.stats.distributions import norm_cdf, norm_ppf

    bounds: list[float] = []
    grid = weights = density = None
    previous_t, previous_spent = 0.0, 0.0
    for k, tk in enumerate(t):
        step, shift = math.sqrt(tk - previous_t), drift * (tk - previous_t)
        target = float(spent[k] - previous_spent)
        if k > 0 and grid is None:  # every path stopped already: nothing left to spend
            x = math.inf
        elif grid is None:
            x = shift + step * norm_ppf(target)
        else:
            mass = weights * density

            def below(x: float, g=grid, m=mass, s=step, d=shift, goal=target) -> float:
                return float(np.sum(m * norm_cdf((x - g - d) / s))) - goal

            lo, hi = grid[0] + shift - 40 * step, grid[-1] + shift + 40 * step
            x = brentq(below, lo, hi, xtol=1e-13) if below(hi) > 0 else math.inf
        bounds.append(float(x / math.sqrt(tk)))
        top = c[k] * math.sqrt(tk)
        if x < top:
            grid, weights, density = _next_density(
                grid, weights, density, step, top, lo=x, shift=shift
            )
        else:
            grid = weights = density = None
        previous_t, previous_spent = float(tk), float(spent[k])
    return bounds


def diversity(vi: Sequence[float], tau2: float) -> float:
    """Diversity D² (Wetterslev 2009): the share of the random-effects variance of the
    pooled estimate that heterogeneity adds, ``(V_R - V_F) / V_R``.

    ``vi`` are the studies' sampling variances and ``tau2`` the between-study variance
    (DerSimonian-Laird in the TSA program). D² >= I² always.
    """
    v = np.asarray(vi, dtype=float)
    if v.size == 0 or np.any(v <= 0) or tau2 < 0:
        raise ValueError("vi must be positive and tau2 non-negative")
    fixed = 1.0 / np.sum(1.0 / v)
    random = 1.0 / np.sum(1.0 / (v + tau2))
    return float((random - fixed) / random)


def required_information_size(
    *,
    control_risk: float | None = None,
    relative_risk_reduction: float | None = None,
    mean_difference: float | None = None,
    sd: float | None = None,
    alpha: float = 0.05,
    beta: float = 0.1,
    diversity: float = 0.0,
) -> float:
    """Participants a meta-analysis needs to detect the anticipated effect (both arms).

    Dichotomous outcomes: ``4 (z_{1-alpha/2} + z_{1-beta})² p(1-p) / delta²`` with the
    control risk ``P_C``, the intervention risk ``P_E = P_C (1 - RRR)``, ``delta = P_C -
    P_E`` and ``p`` their mean; continuous outcomes: ``4 (z + z)² sd² / MD²``. Both are
    multiplied by the heterogeneity adjustment ``1 / (1 - D²)`` (the TSA manual's
    diversity-adjusted RIS).

    >>> round(required_information_size(control_risk=0.2, relative_risk_reduction=0.2))
    3877
    """
    from livingmeta.stats.distributions import norm_isf

    if not 0 <= diversity < 1:
        raise ValueError(f"diversity must be in [0, 1); got {diversity}")
    z = norm_isf(alpha / 2) + norm_isf(beta)
    if control_risk is not None and relative_risk_reduction is not None:
        if not 0 < control_risk < 1 or not 0 < abs(relative_risk_reduction) < 1:
            raise ValueError("control_risk and relative_risk_reduction must be in (0, 1)")
        p_e = control_risk * (1 - relative_risk_reduction)
        p = (control_risk + p_e) / 2
        size = 4 * z**2 * p * (1 - p) / (control_risk - p_e) ** 2
    elif mean_difference is not None and sd is not None:
        if mean_difference == 0 or sd <= 0:
            raise ValueError("mean_difference must be non-zero and sd positive")
        size = 4 * z**2 * sd**2 / mean_difference**2
    else:
        raise ValueError(
            "give control_risk and relative_risk_reduction (dichotomous) "
            "or mean_difference and sd (continuous)"
        )
    return float(size / (1 - diversity))


@dataclass(frozen=True)
class Look:
    """One update of a review on the sequential monitoring chart."""

    label: str
    participants: float
    fraction: float
    z: float
    upper: float
    futility: float | None
    status: str

    def to_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


#: What each status means, for reports.
STATUS_TEXT = {
    "crossed_monitoring": "crossed the monitoring boundary: firm evidence at the planned error",
    "crossed_futility": "inside the futility wedge: the anticipated effect is unlikely",
    "conventional_only": "significant only by the conventional 1.96, not by the monitoring "
    "boundary: not yet firm evidence",
    "not_significant": "not significant",
}


def monitor(
    looks: Sequence[tuple[str, float, float]],
    information_size: float,
    alpha: float = 0.05,
    beta: float | None = 0.1,
    spending: str = "obf",
) -> list[Look]:
    """Place each update's cumulative Z on the monitoring chart and say what it crossed.

    Parameters
    ----------
    looks
        ``(label, participants, z)`` per update, in order: the accrued participants and
        the pooled estimate's Z (estimate / SE, on the log scale for ratios).
    information_size
        The (diversity-adjusted) required information size in participants.
    alpha, beta, spending
        Design of the boundaries (``beta=None``: no futility boundaries).

    Notes
    -----
    An update that added no participants is the same look as the one before. Once the
    accrued information reaches the required size, every later look is judged against the
    boundary at full information (all alpha is spent there).
    """
    fractions, bounds, futility = planned_design(
        [participants for _, participants, _ in looks], information_size, alpha, beta, spending
    )
    if not fractions:
        return []
    out = []
    for label, participants, z in looks:
        f = min(participants / information_size, 1.0)
        k = fractions.index(max(x for x in fractions if x <= f))
        upper = bounds.upper[k]
        wedge = futility[k] if futility is not None and futility[k] > 0 else None
        if abs(z) >= upper:
            status = "crossed_monitoring"
        elif wedge is not None and abs(z) < wedge:
            status = "crossed_futility"
        elif abs(z) >= 1.959963984540054:
            status = "conventional_only"
        else:
            status = "not_significant"
        out.append(
            Look(label, participants, participants / information_size, z, upper, wedge, status)
        )
    return out


def planned_design(
    participants: Sequence[float],
    information_size: float,
    alpha: float = 0.05,
    beta: float | None = 0.1,
    spending: str = "obf",
) -> tuple[list[float], SequentialBounds | None, tuple[float, ...] | None]:
    """The design the looks at ``participants`` are judged against.

    Returns the distinct information fractions of the looks (capped at 1, increasing),
    the boundaries at those fractions followed by the one at full information when it is
    not reached yet, and the futility bounds at the same fractions (None without
    ``beta``). No looks: ``([], None, None)``.
    """
    if information_size <= 0:
        raise ValueError("information_size must be positive")
    fractions: list[float] = []
    for accrued in participants:
        f = min(accrued / information_size, 1.0)
        if not fractions or f > fractions[-1]:
            fractions.append(f)
    if not fractions:
        return [], None, None
    # The design runs to the required information size even before it is reached: the
    # futility drift is the one of that full design (earlier bounds do not depend on it).
    planned = fractions if fractions[-1] >= 1.0 else [*fractions, 1.0]
    bounds = monitoring_bounds(planned, alpha, spending)
    futility = futility_bounds(bounds, beta, spending)[0] if beta is not None else None
    return fractions, bounds, futility


def _cross_probability(grid, weights, density, step: float, b: float) -> float:
    """P(|S_k| >= b and no earlier crossing), with ``S_k = S_{k-1} + N(0, step^2)``."""
    from livingmeta.stats.distributions import norm_cdf, norm_sf

    tails = norm_sf((b - grid) / step) + norm_cdf((-b - grid) / step)
    return float(np.sum(weights * density * tails))


def _next_density(
    grid, weights, density, step: float, b: float, lo: float | None = None, shift: float = 0.0
):
    """Sub-density of the score on ``(lo, b)`` (``lo = -b`` by default) after one more
    increment ``N(shift, step^2)``, or the first one when ``grid`` is None."""
    from livingmeta.stats.distributions import norm_pdf

    lo = -b if lo is None else lo
    n = max(int((b - lo) * GRID_PER_UNIT / max(step, 1e-3)), 200) | 1  # odd: Simpson
    new_grid = np.linspace(lo, b, n)
    new_weights = _simpson_weights(n, (b - lo) / (n - 1))
    if grid is None:
        new_density = norm_pdf((new_grid - shift) / step) / step
    else:
        kernel = norm_pdf((new_grid[:, None] - grid[None, :] - shift) / step) / step
        new_density = kernel @ (weights * density)
    return new_grid, new_weights, new_density


def _simpson_weights(n: int, h: float) -> np.ndarray:
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w * h / 3


def _check_spending(spending: str) -> None:
    if spending not in SPENDING:
        raise ValueError(f"spending must be one of {', '.join(SPENDING)}; got {spending!r}")


def _check_fractions(fractions: Sequence[float], alpha: float) -> np.ndarray:
    t = np.asarray(fractions, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError("fractions must be a non-empty list of information fractions")
    if not np.all(np.isfinite(t)) or np.any(t <= 0) or np.any(np.diff(t) <= 0):
        raise ValueError(
            "fractions must be positive and increasing (looks separated by commas, decimals "
            f"with a point: 0.25,0.5,1); got {', '.join(f'{x:g}' for x in t)}"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha}")
    return t
