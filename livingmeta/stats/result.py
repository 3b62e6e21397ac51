"""Frozen result objects: what a pooled analysis found, apart from how it is shown."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livingmeta.stats.options import RATIO_MEASURES

if TYPE_CHECKING:
    import pandas as pd

#: The options of :func:`livingmeta.stats.pool` a :class:`PooledResult` records, in the
#: order ``to_dict`` gives them (``convention`` shapes the study effects, not the result).
POOL_OPTIONS = ("measure", "method", "model", "tau2_method", "hksj", "mh_exact")


def _display(measure: str, value: float | None) -> float | None:
    """Back-transform from the analysis scale (log for ratios) for display."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return math.exp(value) if measure in RATIO_MEASURES else value


def _finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class StudyResult:
    """One study's effect (analysis scale), its CI and its weight in the pooled estimate.

    ``weight`` is in percent and is 0 for a study that is shown but not pooled
    (``estimable`` False, e.g. a double-zero study for a ratio measure).
    """

    study: str
    yi: float
    vi: float
    ci_low: float
    ci_high: float
    weight: float
    estimable: bool
    corrected: bool
    year: int | None = None
    subgroup: str | None = None
    data: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class PooledResult:
    """A pooled estimate with heterogeneity statistics (metafor's ``rma`` object, frozen).

    Estimates and intervals are on the analysis scale (log for OR and RR); ``to_dict``
    and ``conf_int``/``predict`` give the display scale.
    """

    measure: str
    method: str
    model: str
    tau2_method: str | None
    hksj: bool
    mh_exact: bool
    level: float
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    statistic_name: str  # "z", or "t" with the HKSJ adjustment
    p: float
    q: float
    df: int
    p_q: float
    i2: float
    i2_tau2: float
    tau2: float
    pi_low: float | None
    pi_high: float | None
    studies: tuple[StudyResult, ...]

    @property
    def is_ratio(self) -> bool:
        """True for OR and RR (log analysis scale, ratio display scale, null at 1)."""
        return self.measure in RATIO_MEASURES

    @property
    def tau(self) -> float:
        """Between-study standard deviation."""
        return math.sqrt(self.tau2) if math.isfinite(self.tau2) else math.nan

    @property
    def null_value(self) -> float:
        """No-effect value on the display scale."""
        return 1.0 if self.is_ratio else 0.0

    def display(self, value: float | None) -> float | None:
        """A value on the display scale."""
        return _display(self.measure, value)

    def conf_int(self) -> tuple[float, float]:
        """Confidence interval of the pooled estimate, display scale."""
        return self.display(self.ci_low), self.display(self.ci_high)  # type: ignore[return-value]

    def predict(self) -> tuple[float | None, float | None]:
        """Prediction interval (random effects only), display scale."""
        return self.display(self.pi_low), self.display(self.pi_high)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``livingmeta pool --json`` (display scale, ``i2`` in percent)."""
        return {
            **{name: getattr(self, name) for name in POOL_OPTIONS},
            "level": self.level,
            "k": self.k,
            "estimate": _finite_or_none(self.display(self.estimate)),
            "ci_low": _finite_or_none(self.display(self.ci_low)),
            "ci_high": _finite_or_none(self.display(self.ci_high)),
            "se": _finite_or_none(self.se),
            "z": _finite_or_none(self.statistic),
            "statistic": self.statistic_name,
            "p": _finite_or_none(self.p),
            "q": _finite_or_none(self.q),
            "df": self.df,
            "p_q": _finite_or_none(self.p_q),
            "i2": _finite_or_none(self.i2),
            "i2_tau2": _finite_or_none(self.i2_tau2),
            "tau2": _finite_or_none(self.tau2),
            "tau": _finite_or_none(self.tau),
            "pi_low": _finite_or_none(self.display(self.pi_low)),
            "pi_high": _finite_or_none(self.display(self.pi_high)),
            "studies": [
                {
                    "study": s.study,
                    "estimate": _finite_or_none(self.display(s.yi)),
                    "ci_low": _finite_or_none(self.display(s.ci_low)),
                    "ci_high": _finite_or_none(self.display(s.ci_high)),
                    "weight": _finite_or_none(s.weight),
                    "estimable": s.estimable,
                    "corrected": s.corrected,
                }
                for s in self.studies
            ],
        }

    def summary_frame(self) -> pd.DataFrame:
        """Studies and the pooled row as a table on the display scale."""
        import pandas as pd

        rows = [
            {
                "study": s.study,
                "estimate": self.display(s.yi),
                "ci_low": self.display(s.ci_low),
                "ci_high": self.display(s.ci_high),
                "weight": s.weight,
            }
            for s in self.studies
        ]
        low, high = self.conf_int()
        rows.append(
            {
                "study": "Total",
                "estimate": self.display(self.estimate),
                "ci_low": low,
                "ci_high": high,
                "weight": 100.0,
            }
        )
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class SubgroupResult:
    """Per-subgroup pooled results, the overall result, and the test for subgroup
    differences (Q between subgroups, as RevMan: a chi2 test on the subgroup estimates)."""

    subgroups: dict[str, PooledResult]
    overall: PooledResult
    q_between: float
    df_between: int
    p_between: float
    i2_between: float
