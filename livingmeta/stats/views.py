"""Two views of one outcome side by side: the review's configured analysis (RevMan 5
parity for the reference review) and the Cochrane 2025 methods view (the random-effects
methods Cochrane adopted for RevMan in 2025: REML tau2 with its Q-profile interval, the
Hartung-Knapp-Sidik-Jonkman CI and a t-based prediction interval). HKSJ is taken with the
ad hoc correction that never makes it narrower than the Wald CI, since plain HKSJ can be
several times narrower when the studies agree closely; ``hksj_adhoc=False`` gives plain
HKSJ.

Both views pool the same study effects (the review's ``convention``); only the
random-effects method differs. When the two views reach different conclusions (one CI
excludes the null, the other does not), :attr:`TwoViews.explanation` says in one
sentence why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livingmeta.stats.data import StudyData
from livingmeta.stats.pooling import pool
from livingmeta.stats.result import PooledResult
from livingmeta.stats.tau2_ci import Tau2Interval, tau2_confint

MODERN_TAU2 = "REML"
# The modern view's defaults: the ad hoc HKSJ correction (metafor test = "adhoc") and the
# prediction interval of metafor's predict() on such a fit, t on k - 1 df.
MODERN_HKSJ_ADHOC = True
MODERN_PI = "t-k1"


@dataclass(frozen=True)
class TwoViews:
    """The configured and the modern random-effects result with the modern tau2 interval."""

    configured: PooledResult
    modern: PooledResult
    tau2_interval: Tau2Interval | None
    explanation: str | None
    hksj_adhoc: bool = MODERN_HKSJ_ADHOC

    @property
    def conclusions_differ(self) -> bool:
        """True when exactly one of the two confidence intervals excludes the null."""
        return _significant(self.configured) != _significant(self.modern)


def _significant(result: PooledResult) -> bool:
    null = 0.0  # analysis scale: log ratios and differences alike
    return not (result.ci_low <= null <= result.ci_high)


def modern_view(
    data: StudyData,
    measure: str,
    convention: str = "metafor",
    pi_method: str = MODERN_PI,
    hksj_adhoc: bool = MODERN_HKSJ_ADHOC,
) -> PooledResult:
    """The Cochrane 2025 view alone: inverse variance, REML, HKSJ (ad hoc corrected by
    default) and a prediction interval on ``pi_method``.

    Notes
    -----
    Matches metafor ``rma(yi, vi, method = "REML", test = "adhoc")`` (``"knha"`` with
    ``hksj_adhoc=False``) and ``predict()`` on that fit for ``pi_method="t-k1"``.
    """
    return pool(
        data,
        measure,
        "IV",
        "random",
        MODERN_TAU2,
        hksj=True,
        hksj_adhoc=hksj_adhoc,
        pi_method=pi_method,
        convention=convention,
    )


def two_views(
    data: StudyData,
    configured: dict[str, Any],
    pi_method: str = MODERN_PI,
    hksj_adhoc: bool = MODERN_HKSJ_ADHOC,
) -> TwoViews:
    """Pool ``data`` with the configured options (``pool`` keyword arguments, e.g.
    ``Outcome.pool_options()``) and with :func:`modern_view` on the same study effects.

    Examples
    --------
    >>> from livingmeta.stats import BinaryData
    >>> data = BinaryData(("A", "B", "C"), [4, 6, 3], [123, 306, 231], [11, 29, 11],
    ...                   [139, 303, 220])
    >>> views = two_views(data, {"measure": "OR", "method": "MH", "model": "random"})
    >>> views.modern.tau2_method, views.modern.hksj, views.hksj_adhoc
    ('REML', True, True)
    """
    first = pool(data, **configured)
    convention = configured.get("convention", "metafor")
    modern = modern_view(data, first.measure, convention, pi_method, hksj_adhoc)
    interval = tau2_confint(modern) if modern.k > 1 else None
    explanation = None
    if _significant(first) != _significant(modern):
        explanation = _explain(first, modern, hksj_adhoc)
    return TwoViews(first, modern, interval, explanation, hksj_adhoc)


def _explain(configured: PooledResult, modern: PooledResult, adhoc: bool) -> str:
    """Why exactly one of the two intervals excludes no effect: the width of the modern
    interval (HKSJ's t and scale factor, REML's tau2) or where its estimate lies."""
    from livingmeta.formatting import MEASURE_NAMES  # the display layer, only when needed

    measure = MEASURE_NAMES.get(modern.measure, modern.measure).lower()
    wider = _width(modern) >= _width(configured)
    if _significant(configured):
        lead = (
            f"The configured analysis finds an effect on the {measure} but the modern view does not"
        )
        if not wider:
            return f"{lead}: {_moved(modern)} closer to no effect, despite its narrower interval."
        floor = ", never narrower than the Wald interval" if adhoc else ""
        return (
            f"{lead}: its Hartung-Knapp-Sidik-Jonkman interval (t on {modern.df} df, scaled by "
            f"the observed spread of the study effects{floor}) is wider than the configured "
            "interval and includes no effect."
        )
    lead = f"The modern view finds an effect on the {measure} that the configured analysis does not"
    if wider:
        return (
            f"{lead}: {_moved(modern)} further from no effect, which outweighs its wider interval."
        )
    if adhoc:
        return (
            f"{lead}: its REML tau2 ({modern.tau2:.3g}, against {configured.tau2:.3g}) and "
            "inverse-variance weights give a narrower interval even on the t distribution."
        )
    return (
        f"{lead}: its Hartung-Knapp-Sidik-Jonkman interval, scaled by how closely the study "
        "effects agree, is narrower than the configured interval."
    )


def _moved(modern: PooledResult) -> str:
    return f"its estimate, with the studies weighted by a REML tau2 of {modern.tau2:.3g}, lies"


def _width(result: PooledResult) -> float:
    return result.ci_high - result.ci_low
