"""Study-level effect sizes and variances, as metafor's ``escalc`` computes them.

Zero-cell rule (RevMan 5 and metafor's default ``add=1/2, to="only0"``): 0.5 is added to
all four cells of a study that has a zero cell. Double-zero rule: a study with no events
(or only events) in both arms carries no information on a ratio scale and is *not
estimable* for OR and RR (shown, not pooled); it is kept for RD, where zero is a real
difference.

``convention="revman5"`` switches to RevMan 5's formulas where they differ from metafor's:
the risk difference of a zero-cell study is the observed one (0.5 enters only its
variance), and Hedges' g uses the approximate correction ``J = 1 - 3 / (4N - 9)`` with
variance ``N / (n1 n2) + g^2 / (2 (N - 3.94))``.

Every function works element-wise on arrays of any shape, so the batch path (many
meta-analyses at once) and the single-analysis path share one implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from livingmeta.stats.data import BinaryData, ContinuousData, GenericData, StudyData
from livingmeta.stats.options import (
    BINARY_MEASURES,
    CONTINUOUS_MEASURES,
    CONVENTIONS,
    check_choice,
)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

CONTINUITY = 0.5


@dataclass(frozen=True)
class EffectSizes:
    """Effects on the analysis scale (log for OR/RR) with variances.

    ``estimable`` is False where a study cannot be pooled (double zero for ratios); there
    ``yi`` and ``vi`` are NaN. ``corrected`` marks studies that received the 0.5 correction.
    """

    measure: str
    yi: FloatArray
    vi: FloatArray
    estimable: BoolArray
    corrected: BoolArray

    @property
    def sei(self) -> FloatArray:
        """Standard errors."""
        return np.sqrt(self.vi)


def corrected_cells(
    a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray, add: float = CONTINUITY
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, BoolArray]:
    """The 2x2 cells with ``add`` added to every cell of zero-cell studies.

    Returns the four corrected cells and the mask of corrected studies.
    """
    has_zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    inc = np.where(has_zero, add, 0.0)
    return a + inc, b + inc, c + inc, d + inc, has_zero


def double_zero(a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray) -> BoolArray:
    """Studies with no events, or only events, in both arms."""
    return ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))


def binary_effects(
    measure: str,
    events_treat: FloatArray,
    total_treat: FloatArray,
    events_ctrl: FloatArray,
    total_ctrl: FloatArray,
    add: float = CONTINUITY,
    convention: str = "metafor",
) -> EffectSizes:
    """Log odds ratio, log risk ratio or risk difference per study (metafor ``escalc``;
    ``convention="revman5"``: the observed risk difference of zero-cell studies).

    Examples
    --------
    >>> import numpy as np
    >>> es = binary_effects("OR", np.array([4.0]), np.array([123.0]),
    ...                     np.array([11.0]), np.array([139.0]))
    >>> round(float(np.exp(es.yi[0])), 4)
    0.3911
    """
    check_choice("measure", measure, BINARY_MEASURES)
    check_choice("convention", convention, CONVENTIONS)
    a = np.asarray(events_treat, dtype=np.float64)
    c = np.asarray(events_ctrl, dtype=np.float64)
    b = np.asarray(total_treat, dtype=np.float64) - a
    d = np.asarray(total_ctrl, dtype=np.float64) - c
    a1, b1, c1, d1, corrected = corrected_cells(a, b, c, d, add)
    n1, n2 = a1 + b1, c1 + d1
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(a1 * d1 / (b1 * c1))
            vi = 1 / a1 + 1 / b1 + 1 / c1 + 1 / d1
        elif measure == "RR":
            yi = np.log((a1 / n1) / (c1 / n2))
            vi = 1 / a1 - 1 / n1 + 1 / c1 - 1 / n2
        else:  # RD
            p1, p2 = a1 / n1, c1 / n2
            yi = a / (a + b) - c / (c + d) if convention == "revman5" else p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    estimable = np.ones(a.shape, dtype=bool) if measure == "RD" else ~double_zero(a, b, c, d)
    yi = np.where(estimable, yi, np.nan)
    vi = np.where(estimable, vi, np.nan)
    return EffectSizes(measure, yi, vi, estimable, corrected & estimable)


def hedges_correction(df: FloatArray) -> FloatArray:
    """Exact small-sample correction factor J(df) for Hedges' g (as metafor)."""
    df = np.asarray(df, dtype=np.float64)
    return np.exp(gammaln(df / 2) - 0.5 * np.log(df / 2) - gammaln((df - 1) / 2))


def _hedges_g(
    difference: FloatArray,
    s1: FloatArray,
    n1: FloatArray,
    s2: FloatArray,
    n2: FloatArray,
    convention: str,
) -> tuple[FloatArray, FloatArray]:
    """Hedges' g and its variance (see :func:`continuous_effects`). A study with one
    participant per arm has no pooled SD: NaN (not estimable), without numpy warnings."""
    total = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled_sd = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (total - 2))
        if convention == "revman5":
            yi = (1 - 3 / (4 * total - 9)) * difference / pooled_sd
            return yi, total / (n1 * n2) + yi**2 / (2 * (total - 3.94))
        yi = hedges_correction(total - 2) * difference / pooled_sd
        return yi, 1 / n1 + 1 / n2 + yi**2 / (2 * total)


def continuous_effects(
    measure: str,
    mean_treat: FloatArray,
    sd_treat: FloatArray,
    n_treat: FloatArray,
    mean_ctrl: FloatArray,
    sd_ctrl: FloatArray,
    n_ctrl: FloatArray,
    convention: str = "metafor",
) -> EffectSizes:
    """Mean difference, or standardised mean difference as Hedges' g: metafor's exact
    correction with the large-sample variance (``vtype="LS"``) ``1/n1 + 1/n2 + g^2 /
    (2 (n1 + n2))``, or with ``convention="revman5"`` RevMan 5's approximations."""
    check_choice("measure", measure, CONTINUOUS_MEASURES)
    check_choice("convention", convention, CONVENTIONS)
    m1, s1, n1 = (np.asarray(x, dtype=np.float64) for x in (mean_treat, sd_treat, n_treat))
    m2, s2, n2 = (np.asarray(x, dtype=np.float64) for x in (mean_ctrl, sd_ctrl, n_ctrl))
    if measure == "MD":
        yi = m1 - m2
        vi = s1**2 / n1 + s2**2 / n2
    else:
        yi, vi = _hedges_g(m1 - m2, s1, n1, s2, n2, convention)
    ok = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    return EffectSizes(measure, yi, vi, ok, np.zeros(yi.shape, dtype=bool))


def generic_effects(yi: FloatArray, se: FloatArray) -> EffectSizes:
    """Effects given directly (generic inverse variance), ``vi = se^2``."""
    yi = np.asarray(yi, dtype=np.float64)
    vi = np.asarray(se, dtype=np.float64) ** 2
    ok = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    return EffectSizes("GIV", yi, vi, ok, np.zeros(yi.shape, dtype=bool))


def escalc(
    measure: str, data: StudyData, add: float = CONTINUITY, convention: str = "metafor"
) -> EffectSizes:
    """Effect sizes for any study data container (dispatch on its type)."""
    # arm_columns() follows each container's ARRAYS, the order of the effect functions'
    # arm parameters (events/totals, or mean, SD and n per arm).
    if isinstance(data, BinaryData):
        return binary_effects(measure, *data.arm_columns().values(), add, convention)
    if isinstance(data, ContinuousData):
        return continuous_effects(measure, *data.arm_columns().values(), convention)
    if isinstance(data, GenericData):
        if measure not in ("GIV", "MD", "SMD", "OR", "RR", "RD"):
            raise ValueError(f"unknown measure {measure!r}")
        return generic_effects(data.yi, data.se)
    raise TypeError(f"unsupported data type {type(data).__name__}")
