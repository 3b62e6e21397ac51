"""The normal, t, chi-squared and F distribution functions the statistics use.

Each is the :mod:`scipy.special` function that :mod:`scipy.stats` itself calls for it
(``norm.sf(x)`` is ``ndtr(-x)``, ``t.ppf(q, df)`` is ``stdtrit(df, q)``, ...), so the
numbers are identical to the last bit, without importing :mod:`scipy.stats`: that
import costs a workflow job (one new process per outcome) about 0.5 s of CPU more than
:mod:`scipy.special`, far more than its statistics. ``tests/test_stats_distributions.py``
checks the identity against :mod:`scipy.stats` on a grid with its edge cases.

Outside each function's domain (``df <= 0``, a probability outside [0, 1]) the values
are NaN where scipy.stats' are; the statistics never ask for those.

Examples
--------
>>> round(float(norm_ppf(0.975)), 6)
1.959964
>>> round(float(2 * t_sf(2.0, 10)), 6)
0.073388
>>> bool(Reference(None).ppf(0.975) == norm_ppf(0.975))
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

ArrayLike = npt.ArrayLike
Values = np.ndarray | np.float64
_NORM_PDF_C = np.sqrt(2 * np.pi)


def _survival(
    x: ArrayLike, ok: ArrayLike, low: float, inside: Callable[[np.ndarray], Values]
) -> Values:
    """scipy.stats' wrapper around a survival function: NaN for NaN ``x`` or invalid
    parameters (``ok`` false), 1 at and below the support's lower end ``low``, 0 at
    +inf, else ``inside(x)``."""
    x = np.asarray(x, dtype=float)
    value = np.where(x <= low, 1.0, np.where(x == np.inf, 0.0, inside(x)))
    return np.where(np.asarray(ok) & ~np.isnan(x), value, np.nan)[()]


def _quantile(
    q: ArrayLike, ok: ArrayLike, at_0: float, at_1: float, inside: Callable[[np.ndarray], Values]
) -> Values:
    """scipy.stats' wrapper around a quantile function: ``at_0`` and ``at_1`` at q = 0
    and 1, ``inside(q) + 0.0`` between (its ``ppf * scale + loc``: -0.0 becomes 0.0),
    NaN elsewhere or for invalid parameters."""
    q = np.asarray(q, dtype=float)
    value = np.where(q == 0, at_0, np.where(q == 1, at_1, inside(q) + 0.0))
    return np.where(np.asarray(ok) & (q >= 0) & (q <= 1), value, np.nan)[()]


def norm_pdf(x: ArrayLike) -> Values:
    """``scipy.stats.norm.pdf(x)``, with its formula."""
    x = np.asarray(x, dtype=float)
    return (np.exp(-(x**2) / 2.0) / _NORM_PDF_C)[()]


def norm_cdf(x: ArrayLike) -> Values:
    """``scipy.stats.norm.cdf(x)``."""
    return special.ndtr(x)


def norm_sf(x: ArrayLike) -> Values:
    """``scipy.stats.norm.sf(x)``."""
    return special.ndtr(np.negative(x))


def norm_ppf(q: ArrayLike) -> Values:
    """``scipy.stats.norm.ppf(q)``."""
    return _quantile(q, True, -np.inf, np.inf, special.ndtri)


def norm_isf(q: ArrayLike) -> Values:
    """``scipy.stats.norm.isf(q)``."""
    return _quantile(q, True, np.inf, -np.inf, lambda p: -special.ndtri(p))


def t_sf(x: ArrayLike, df: ArrayLike) -> Values:
    """``scipy.stats.t.sf(x, df)``."""
    return _survival(x, np.greater(df, 0), -np.inf, lambda v: special.stdtr(df, -v))


def t_ppf(q: ArrayLike, df: ArrayLike) -> Values:
    """``scipy.stats.t.ppf(q, df)``."""
    return _quantile(q, np.greater(df, 0), -np.inf, np.inf, lambda p: special.stdtrit(df, p))


def chi2_sf(x: ArrayLike, df: ArrayLike) -> Values:
    """``scipy.stats.chi2.sf(x, df)``."""
    return _survival(x, np.greater(df, 0), 0.0, lambda v: special.chdtrc(df, v))


def chi2_ppf(q: ArrayLike, df: ArrayLike) -> Values:
    """``scipy.stats.chi2.ppf(q, df)``."""
    inside = lambda p: 2 * special.gammaincinv(np.divide(df, 2), p)  # noqa: E731
    return _quantile(q, np.greater(df, 0), 0.0, np.inf, inside)


def chi2_isf(q: ArrayLike, df: ArrayLike) -> Values:
    """``scipy.stats.chi2.isf(q, df)``."""
    return _quantile(q, np.greater(df, 0), np.inf, 0.0, lambda p: special.chdtri(df, p))


def f_sf(x: ArrayLike, dfn: ArrayLike, dfd: ArrayLike) -> Values:
    """``scipy.stats.f.sf(x, dfn, dfd)``."""
    ok = np.greater(dfn, 0) & np.greater(dfd, 0)
    return _survival(x, ok, 0.0, lambda v: special.fdtrc(dfn, dfd, v))


@dataclass(frozen=True)
class Reference:
    """The reference distribution of a test statistic: the standard normal (``df`` None)
    or Student's t with ``df`` degrees of freedom (``scipy.stats.norm()`` or
    ``scipy.stats.t(df)``, for their ``ppf`` and ``sf``)."""

    df: float | None = None

    def ppf(self, q: ArrayLike) -> Values:
        """Quantile function."""
        return norm_ppf(q) if self.df is None else t_ppf(q, self.df)

    def sf(self, x: ArrayLike) -> Values:
        """Survival function (1 - cdf)."""
        return norm_sf(x) if self.df is None else t_sf(x, self.df)
