"""Sequential monitoring of an outcome across the review's runs, from its history.

Each run is one look: its accrued participants and the pooled estimate's Z, as
``history.csv`` records them. The required information size comes from the outcome's
``sequential`` settings (anticipated effect, control risk, alpha, beta, heterogeneity
adjustment), with the control risk and the diversity D² taken from the current analysis
when not configured, as the TSA program does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livingmeta.stats.result import PooledResult


@dataclass(frozen=True)
class Monitoring:
    """An outcome's monitoring chart: the design and every look (see :func:`monitoring`)."""

    outcome: str
    label: str
    information_size: float
    diversity: float
    alpha: float
    beta: float
    spending: str
    looks: tuple[Any, ...]

    @property
    def status(self) -> str:
        """The last look's status (``not_significant`` when there is none)."""
        return self.looks[-1].status if self.looks else "not_significant"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for ``changes.json`` and the run report."""
        from livingmeta.stats.sequential import STATUS_TEXT

        last = self.looks[-1] if self.looks else None
        return {
            "outcome": self.outcome,
            "label": self.label,
            "status": self.status,
            "text": STATUS_TEXT[self.status],
            "information_size": round(self.information_size, 1),
            "diversity": round(self.diversity, 4),
            "participants": None if last is None else round(last.participants),
            "fraction": None if last is None else round(last.fraction, 4),
            "z": None if last is None else round(last.z, 4),
            "boundary": None if last is None else round(last.upper, 4),
            "alpha": self.alpha,
            "beta": self.beta,
            "spending": self.spending,
        }


def history_looks(history: Any, review: str, outcome: str) -> list[tuple[str, float, float]]:
    """(run date, participants, Z) of each run of ``outcome`` that recorded both."""
    rows = history[(history["review"] == review) & (history["outcome"] == outcome)]
    rows = rows.dropna(subset=["participants", "z"])
    return [
        (str(r["date"]), float(r["participants"]), float(r["z"])) for r in rows.to_dict("records")
    ]


def information_size(
    settings: Mapping[str, Any], result: PooledResult, control_risk: float | None
) -> tuple[float, float]:
    """(required information size, D² used) for the outcome's ``sequential`` settings."""
    from livingmeta.stats.sequential import diversity, required_information_size

    adjust = settings.get("heterogeneity", "diversity")
    if adjust == "diversity":
        studies = [s for s in result.studies if s.estimable]
        d2 = diversity([s.vi for s in studies], result.tau2) if len(studies) > 1 else 0.0
    else:
        d2 = 0.0 if adjust == "none" else float(adjust)
    d2 = min(max(d2, 0.0), 0.99)
    common = {"alpha": settings.get("alpha", 0.05), "beta": settings.get("beta", 0.1)}
    if "relative_risk_reduction" in settings:
        risk = settings.get("control_risk", control_risk)
        size = required_information_size(
            control_risk=risk,
            relative_risk_reduction=settings["relative_risk_reduction"],
            diversity=d2,
            **common,
        )
    else:
        size = required_information_size(
            mean_difference=settings["mean_difference"], sd=settings["sd"], diversity=d2, **common
        )
    return size, d2


def monitoring(
    name: str,
    label: str,
    settings: Mapping[str, Any],
    result: PooledResult,
    looks: list[tuple[str, float, float]],
    control_risk: float | None = None,
) -> Monitoring:
    """The outcome's monitoring chart: the design from ``settings`` and the current
    ``result``, and each look judged against the boundaries."""
    from livingmeta.stats.sequential import monitor

    size, d2 = information_size(settings, result, control_risk)
    alpha, beta = settings.get("alpha", 0.05), settings.get("beta", 0.1)
    spending = settings.get("spending", "obf")
    judged = monitor(looks, size, alpha=alpha, beta=beta, spending=spending)
    return Monitoring(name, label, size, d2, alpha, beta, spending, tuple(judged))


def control_risk_of(result: PooledResult) -> float | None:
    """The pooled control-arm risk of a dichotomous result's studies (None otherwise)."""
    events = total = 0.0
    for study in result.studies:
        if "events_ctrl" not in study.data or "total_ctrl" not in study.data:
            return None
        events += study.data["events_ctrl"]
        total += study.data["total_ctrl"]
    return events / total if total > 0 and 0 < events < total else None


def monitoring_chart(
    outcome: Any, settings: Mapping[str, Any], result: PooledResult, looks: list, where: str
) -> tuple[Monitoring, Any]:
    """The outcome's :class:`Monitoring` and its chart (a matplotlib Figure).

    Raises
    ------
    livingmeta.config.ConfigError
        Settings that do not fit the data (e.g. a relative risk reduction for a
        continuous outcome, or no control risk to compute the information size from),
        naming the config key ``where``.
    """
    from livingmeta.config import ConfigError
    from livingmeta.plots.sequential import sequential_plot

    try:
        chart = monitoring(
            outcome.name, outcome.label, settings, result, looks, control_risk_of(result)
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid config:\n  {where}: {exc}") from None
    figure = sequential_plot(
        looks,
        chart.information_size,
        alpha=chart.alpha,
        beta=chart.beta,
        spending=chart.spending,
        title=outcome.label,
    )
    return chart, figure
