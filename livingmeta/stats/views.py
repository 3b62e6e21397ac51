"""Two views of one outcome side by side: the review's configured analysis (RevMan 5
parity for the reference review) and the Cochrane 2025 methods view (REML tau2 with its
Q-profile interval, Hartung-Knapp-Sidik-Jonkman CI, t-based prediction interval).

When the two views reach different conclusions (one CI excludes the null, the other does
not), :attr:`TwoViews.explanation` says in one sentence why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livingmeta.stats.data import StudyData
from livingmeta.stats.pooling import pool
from livingmeta.stats.result import PooledResult
from livingmeta.stats.tau2_ci import Tau2Interval, tau2_confint

MODERN_TAU2 = "REML"


@dataclass(frozen=True)
class TwoViews:
    """The configured and the modern random-effects result with the modern tau2 interval."""

    configured: PooledResult
    modern: PooledResult
    tau2_interval: Tau2Interval | None
    explanation: str | None

    @property
    def conclusions_differ(self) -> bool:
        """True when exactly one of the two confidence intervals excludes the null."""
        return _significant(self.configured) != _significant(self.modern)


def _significant(result: PooledResult) -> bool:
    null = 0.0  # analysis scale: log ratios and differences alike
    return not (result.ci_low <= null <= result.ci_high)


def two_views(data: StudyData, configured: dict[str, Any], pi_method: str = "t-k1") -> TwoViews:
    """Pool ``data`` with the configured options (``pool`` keyword arguments, e.g.
    ``Outcome.pool_options()``) and with the modern view: inverse variance, REML,
    HKSJ and a prediction interval on ``pi_method`` (``t-k1`` or ``t-k2``).

    Examples
    --------
    >>> from livingmeta.stats import BinaryData
    >>> data = BinaryData(("A", "B", "C"), [4, 6, 3], [123, 306, 231], [11, 29, 11],
    ...                   [139, 303, 220])
    >>> views = two_views(data, {"measure": "OR", "method": "MH", "model": "random"})
    >>> views.modern.tau2_method, views.modern.hksj
    ('REML', True)
    """
    first = pool(data, **configured)
    modern = pool(data, first.measure, "IV", "random", MODERN_TAU2, hksj=True, pi_method=pi_method)
    interval = tau2_confint(modern) if modern.k > 1 else None
    views = TwoViews(first, modern, interval, None)
    if not views.conclusions_differ:
        return views
    return TwoViews(first, modern, interval, _explain(first, modern))


def _explain(configured: PooledResult, modern: PooledResult) -> str:
    from livingmeta.formatting import MEASURE_NAMES  # the display layer, only when needed

    measure = MEASURE_NAMES.get(modern.measure, modern.measure).lower()
    if _significant(configured):
        return (
            f"The configured analysis finds an effect on the {measure} but the modern view "
            f"does not: its Hartung-Knapp-Sidik-Jonkman interval (t on {modern.df} df, "
            "scaled by the observed spread of the study effects) is wider than the "
            "z-based interval and includes no effect."
        )
    return (
        f"The modern view finds an effect on the {measure} that the configured analysis "
        "does not: its Hartung-Knapp-Sidik-Jonkman interval, scaled by how closely the "
        "study effects agree, is narrower than the z-based interval."
    )
