"""Absolute effects per 1,000 from a relative effect, as GRADEpro computes them.

A relative effect says little to a patient until it is applied to a risk: an odds ratio
of 0.5 is 50 fewer deaths per 1,000 when the risk without the intervention is 20%, and 5
fewer when it is 1%. The summary-of-findings table therefore shows, beside the pooled
ratio, the *assumed risk* without the intervention (by default the pooled control-arm
risk of the included studies: total events / total participants) and the *corresponding
risk* with it, each bound of the ratio's confidence interval carried through the same
formula (Cochrane Handbook 5.1, section 11.5.5; Handbook 6, chapter 14):

- risk ratio: ``ACR * RR``;
- odds ratio: ``ACR * OR / (1 - ACR + ACR * OR)``;
- hazard ratio (risk by a time point, proportional hazards): ``1 - (1 - ACR) ** HR``;
- risk difference: ``ACR + RD`` (the difference itself does not depend on the ACR).

Every formula increases with the effect, so the interval's bounds map to the corresponding
risk's bounds. Risks are kept as proportions; ``per_1000`` gives what tables print.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MEASURES = ("RR", "OR", "HR", "RD")


def corresponding_risk(measure: str, effect: float, assumed_risk: float) -> float:
    """The risk with the intervention for a relative ``effect`` applied to ``assumed_risk``.

    Parameters
    ----------
    measure
        ``RR``, ``OR``, ``HR`` (ratios, on the ratio scale) or ``RD`` (a difference of
        proportions).
    effect
        The effect (a ratio, or the risk difference).
    assumed_risk
        The risk without the intervention, a proportion in [0, 1].

    Examples
    --------
    The Cochrane Handbook's example (5.1, section 11.5.5): a risk ratio of 0.75 takes a
    control risk of 80% to 60%, and one of 20% to 15%.

    >>> [round(corresponding_risk("RR", 0.75, acr), 12) for acr in (0.8, 0.2)]
    [0.6, 0.15]
    >>> round(corresponding_risk("OR", 0.5, 0.2), 6)
    0.111111
    """
    _check(measure, assumed_risk)
    if measure == "RD":
        return min(1.0, max(0.0, assumed_risk + effect))
    if not effect >= 0:
        raise ValueError(f"a {measure} must be a non-negative ratio; got {effect}")
    if math.isinf(effect):
        return 1.0 if assumed_risk > 0 else 0.0
    if measure == "RR":
        return min(1.0, assumed_risk * effect)
    if measure == "OR":
        return assumed_risk * effect / (1 - assumed_risk + assumed_risk * effect)
    return 1.0 - (1.0 - assumed_risk) ** effect


@dataclass(frozen=True)
class AbsoluteEffect:
    """The assumed risk, the corresponding risk with its interval, and their difference.

    All values are proportions; :meth:`per_1000` converts for display.
    """

    measure: str
    assumed_risk: float
    risk: float
    risk_low: float
    risk_high: float

    @property
    def difference(self) -> tuple[float, float, float]:
        """Corresponding minus assumed risk, with its interval."""
        return tuple(r - self.assumed_risk for r in (self.risk, self.risk_low, self.risk_high))

    def per_1000(self) -> dict[str, float]:
        """Every value per 1,000 people (unrounded)."""
        difference, low, high = self.difference
        return {
            "assumed": 1000 * self.assumed_risk,
            "risk": 1000 * self.risk,
            "risk_low": 1000 * self.risk_low,
            "risk_high": 1000 * self.risk_high,
            "difference": 1000 * difference,
            "difference_low": 1000 * low,
            "difference_high": 1000 * high,
        }

    def to_dict(self) -> dict[str, float | str]:
        """JSON-ready: the proportions and the values per 1,000."""
        return {
            "measure": self.measure,
            "assumed_risk": self.assumed_risk,
            "risk": self.risk,
            "risk_low": self.risk_low,
            "risk_high": self.risk_high,
            "per_1000": self.per_1000(),
        }


def absolute_effect(
    measure: str, estimate: float, ci_low: float, ci_high: float, assumed_risk: float
) -> AbsoluteEffect:
    """The corresponding risk per 1,000 and its interval for a pooled effect.

    Parameters
    ----------
    measure
        ``RR``, ``OR``, ``HR`` or ``RD``.
    estimate, ci_low, ci_high
        The pooled effect and its confidence interval on the display scale (ratios as
        ratios, not logs).
    assumed_risk
        The risk without the intervention (see :func:`pooled_control_risk`).

    Examples
    --------
    >>> effect = absolute_effect("RR", 0.75, 0.6, 0.9, 0.2)
    >>> [round(v) for v in effect.per_1000().values()]
    [200, 150, 120, 180, -50, -80, -20]
    """
    low, mid, high = (
        corresponding_risk(measure, v, assumed_risk) for v in (ci_low, estimate, ci_high)
    )
    if not low <= mid <= high:
        raise ValueError(f"interval [{ci_low}, {ci_high}] does not contain {estimate}")
    return AbsoluteEffect(measure, assumed_risk, mid, low, high)


def pooled_control_risk(events: Sequence[float], totals: Sequence[float]) -> float:
    """The control-arm risk of the included studies: total events / total participants
    (GRADEpro's "study population" risk).

    >>> round(pooled_control_risk([4, 22, 3, 13], [23, 100, 14, 66]), 6)
    0.206897
    """
    n = float(sum(totals))
    if n <= 0 or len(events) != len(totals):
        raise ValueError("need as many event counts as totals, and participants")
    risk = float(sum(events)) / n
    if not 0 <= risk <= 1:
        raise ValueError(f"events exceed participants (risk {risk:g})")
    return risk


def _check(measure: str, assumed_risk: float) -> None:
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}; got {measure!r}")
    if not 0 <= assumed_risk <= 1:
        raise ValueError(f"assumed risk must be a proportion in [0, 1]; got {assumed_risk}")
