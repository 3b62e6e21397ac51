"""Zero-event sensitivity panel: how much a binary outcome's conclusion depends on the way
studies with zero events in an arm are handled.

Rows (all fixed effect, odds ratios unless stated):

- ``iv_half``: inverse variance with 0.5 added to every cell of a zero-cell study
  (RevMan's and metafor's default).
- ``mh_half``: Mantel-Haenszel with the same 0.5 inside the M-H estimate (RevMan 5's
  default for M-H).
- ``mh_uncorrected``: Mantel-Haenszel on the raw cells (metafor ``rma.mh``).
- ``tacc``: Mantel-Haenszel with the treatment-arm continuity correction of Sweeting,
  Sutton & Lambert (2004): corrections summing to 1, proportional to the reciprocal of the
  opposite arm's size (``n1 / N`` to the treatment cells, ``n2 / N`` to the control cells).
- ``peto``: Peto's one-step odds ratio.
- ``exact_conditional``: conditional maximum likelihood on the non-central hypergeometric
  likelihood (metafor ``rma.glmm(model = "CM.EL", method = "EE")``).
- ``rd_mh``: Mantel-Haenszel risk difference with double-zero studies kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from livingmeta.stats.data import BinaryData
from livingmeta.stats.distributions import norm_ppf, norm_sf
from livingmeta.stats.effects import double_zero
from livingmeta.stats.errors import NotEstimableError
from livingmeta.stats.mantel_haenszel import mantel_haenszel
from livingmeta.stats.pooling import pool

FloatArray = npt.NDArray[np.float64]
NEWTON_TOL = 1e-12
NEWTON_MAX_ITER = 100

PANEL_LABELS = {
    "iv_half": "Inverse variance, 0.5 added to zero-cell studies",
    "mh_half": "Mantel-Haenszel, 0.5 added to zero-cell studies",
    "mh_uncorrected": "Mantel-Haenszel, no correction",
    "tacc": "Mantel-Haenszel, treatment-arm continuity correction",
    "peto": "Peto odds ratio",
    "exact_conditional": "Conditional maximum likelihood (exact)",
    "rd_mh": "Risk difference (M-H), double zeros kept",
}


@dataclass(frozen=True)
class PanelRow:
    """One way of handling zero events: a fixed-effect estimate on the analysis scale
    (log for OR; ``measure`` says which)."""

    name: str
    measure: str
    k: int
    estimate: float
    se: float
    level: float = 0.95

    @property
    def ci(self) -> tuple[float, float]:
        """Wald confidence interval on the analysis scale."""
        half = float(norm_ppf(1 - (1 - self.level) / 2)) * self.se
        return self.estimate - half, self.estimate + half

    @property
    def p(self) -> float:
        """Two-sided P value of the z test."""
        return float(2 * norm_sf(abs(self.estimate / self.se)))

    def to_dict(self) -> dict[str, Any]:
        """Display scale (odds ratios exponentiated)."""
        scale = np.exp if self.measure == "OR" else (lambda x: x)
        low, high = self.ci
        return {
            "name": self.name,
            "label": PANEL_LABELS[self.name],
            "measure": self.measure,
            "k": self.k,
            "estimate": float(scale(self.estimate)),
            "ci_low": float(scale(low)),
            "ci_high": float(scale(high)),
            "p": self.p,
        }


def has_zero_events(data: BinaryData) -> bool:
    """True when some study has no events (or only events) in an arm."""
    a, c = data.events_treat, data.events_ctrl
    return bool(np.any((a == 0) | (c == 0) | (a == data.total_treat) | (c == data.total_ctrl)))


def zero_event_panel(data: BinaryData, level: float = 0.95) -> tuple[PanelRow, ...]:
    """All rows of the panel for one outcome (rows that cannot be estimated are left out)."""
    rows = []
    builders = {
        "iv_half": lambda: _from_pool(pool(data, "OR", "IV", "fixed")),
        "mh_half": lambda: _from_pool(pool(data, "OR", "MH", "fixed")),
        "mh_uncorrected": lambda: _from_pool(pool(data, "OR", "MH", "fixed", mh_exact=True)),
        "tacc": lambda: tacc_mantel_haenszel(data),
        "peto": lambda: _from_pool(pool(data, "OR", "Peto", "fixed")),
        "exact_conditional": lambda: conditional_odds_ratio(data),
        "rd_mh": lambda: _from_pool(pool(data, "RD", "MH", "fixed", mh_exact=True)),
    }
    for name, build in builders.items():
        try:
            k, estimate, se = build()
        except NotEstimableError:
            continue
        rows.append(PanelRow(name, "RD" if name == "rd_mh" else "OR", k, estimate, se, level))
    return tuple(rows)


def _from_pool(result: Any) -> tuple[int, float, float]:
    return result.k, result.estimate, result.se


def tacc_mantel_haenszel(data: BinaryData) -> tuple[int, float, float]:
    """M-H odds ratio with the treatment-arm continuity correction in zero-cell studies
    (double-zero studies left out)."""
    a, n1 = data.events_treat, data.total_treat
    c, n2 = data.events_ctrl, data.total_ctrl
    keep = ~double_zero(a, n1 - a, c, n2 - c)
    zero = (a == 0) | (c == 0) | (a == n1) | (c == n2)
    inc1 = np.where(zero, n1 / (n1 + n2), 0.0)
    inc2 = np.where(zero, n2 / (n1 + n2), 0.0)
    mh = mantel_haenszel("OR", a + inc1, n1 + 2 * inc1, c + inc2, n2 + 2 * inc2, keep, exact=True)
    return int(keep.sum()), mh.estimate, mh.se


def conditional_odds_ratio(data: BinaryData) -> tuple[int, float, float]:
    """Fixed-effect conditional maximum likelihood log odds ratio and its SE (observed
    information), by Newton's method on the non-central hypergeometric likelihood: the
    score is ``sum(a - E[a])`` and the information ``sum Var[a]``."""
    a, n1 = data.events_treat, data.total_treat
    c, n2 = data.events_ctrl, data.total_ctrl
    m = a + c
    informative = (m > 0) & (m < n1 + n2)
    if not informative.any():
        raise NotEstimableError("no study has events in exactly part of its participants")
    tables = [
        _Support(int(t), int(u), int(v))
        for t, u, v in zip(n1[informative], n2[informative], m[informative], strict=True)
    ]
    observed = float(np.sum(a[informative]))
    log_or = 0.0
    for _ in range(NEWTON_MAX_ITER):
        mean, information = _moments(tables, log_or)
        step = (observed - mean) / information
        log_or += step
        if abs(step) < NEWTON_TOL:
            break
    else:
        raise NotEstimableError("the conditional likelihood has no finite maximum")
    information = _moments(tables, log_or)[1]
    return len(tables), log_or, 1 / np.sqrt(information)


class _Support:
    """One study's possible treatment-arm event counts given its margins, and the log of
    their binomial-coefficient weights: Fisher's non-central hypergeometric distribution
    is ``C(n1, x) C(n2, m - x) exp(x log_or)``, normalised."""

    __slots__ = ("counts", "log_weights")

    def __init__(self, n1: int, n2: int, m: int) -> None:
        from scipy.special import gammaln

        x = np.arange(max(0, m - n2), min(n1, m) + 1, dtype=float)
        self.counts = x
        self.log_weights = -(
            gammaln(x + 1) + gammaln(n1 - x + 1) + gammaln(m - x + 1) + gammaln(n2 - m + x + 1)
        )


def _moments(tables: list[_Support], log_or: float) -> tuple[float, float]:
    """Sum over studies of the mean and variance of the treatment-arm events at
    ``log_or`` (exact sums over each study's support, scaled against overflow)."""
    mean = variance = 0.0
    for table in tables:
        log_p = table.log_weights + table.counts * log_or
        p = np.exp(log_p - log_p.max())
        p /= p.sum()
        centre = float(p @ table.counts)
        mean += centre
        variance += float(p @ (table.counts - centre) ** 2)
    return mean, variance
