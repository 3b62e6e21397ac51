"""One outcome's analyses beyond the configured pooled result, as ``pooled.json`` stores
them: the two views (configured and modern), small-study effects with the Cochrane rule,
the zero-event sensitivity panel, meta-regression on the configured covariates and
subgroups under a common tau2.

Each section is kept as its display JSON (ratios back-transformed where the section says
``scale: ratio``, meta-regression coefficients on the analysis scale as metafor prints
them); :meth:`BeyondPooling.regression` rebuilds the fit for the bubble plot.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from livingmeta.analysis_settings import AnalysisSettings
from livingmeta.outcomes import Outcome
from livingmeta.stats.data import BinaryData, StudyData

SECTIONS = (
    "views",
    "small_study_effects",
    "zero_event_panel",
    "meta_regression",
    "subgroups_common_tau2",
)


@dataclass(frozen=True)
class BeyondPooling:
    """The sections of :data:`SECTIONS` (None when not run) and the settings used."""

    settings: AnalysisSettings
    views: dict[str, Any] | None
    small_study_effects: dict[str, Any]
    zero_event_panel: dict[str, Any] | None
    meta_regression: dict[str, Any] | None
    subgroups_common_tau2: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        """The top-level keys this adds to ``pooled.json``."""
        out = {name: getattr(self, name) for name in SECTIONS}
        return {"analysis_settings": self.settings.to_json(), **out}

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> BeyondPooling | None:
        """The sections back from a ``pooled.json`` object (None when it has none)."""
        settings = obj.get("analysis_settings")
        if settings is None:
            return None
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
        sections = {name: obj.get(name) for name in SECTIONS}
        return cls(settings=AnalysisSettings(**values), **sections)  # type: ignore[arg-type]

    def regression(self) -> Any:
        """The meta-regression fit (:class:`~livingmeta.stats.metareg.MetaRegression`),
        or None."""
        from livingmeta.stats.metareg import Coefficient, MetaRegression

        section = self.meta_regression
        if not section or section.get("fit") is None:
            return None
        fit = dict(section["fit"])
        fit["coefficients"] = tuple(Coefficient(**c) for c in fit["coefficients"])
        fit["qm_df"] = tuple(fit["qm_df"])
        fit["warnings"] = tuple(fit["warnings"])
        return MetaRegression(**{k: _float_back(v) for k, v in fit.items()})


def beyond_pooling(
    data: StudyData,
    outcome: Outcome,
    settings: AnalysisSettings,
    covariates: Mapping[str, Sequence[Any]] | None = None,
) -> BeyondPooling:
    """Run every analysis beyond pooling that ``settings`` asks for on one outcome.

    ``covariates`` maps each configured covariate to one value per row of ``data`` (None
    or "" when missing).
    """
    return BeyondPooling(
        settings=settings,
        views=_views(data, outcome, settings) if settings.modern_view else None,
        small_study_effects=_small_study(data, outcome, settings),
        zero_event_panel=_zero_events(data),
        meta_regression=_meta_regression(data, outcome, settings, covariates or {}),
        subgroups_common_tau2=_common_tau2(data, outcome, settings),
    )


def _views(data: StudyData, outcome: Outcome, settings: AnalysisSettings) -> dict[str, Any]:
    """The configured and the modern view with the Q-profile interval of tau2."""
    from livingmeta.outcome_analysis import result_json
    from livingmeta.stats import NotEstimableError, two_views

    try:
        views = two_views(
            data, outcome.pool_options(), settings.prediction_interval, settings.hksj_adhoc
        )
    except (NotEstimableError, ValueError) as exc:
        return {"configured": None, "modern": None, "note": f"not estimable: {exc}"}
    modern = result_json(views.modern)
    interval = views.tau2_interval
    for key in ("tau2_low", "tau2_high", "i2_low", "i2_high"):
        name = key.replace("_low", "_ci_low").replace("_high", "_ci_high")
        modern[name] = None if interval is None else _finite(getattr(interval, key))
    return {
        "configured": result_json(views.configured),
        "modern": modern,
        "prediction_interval": settings.prediction_interval,
        "hksj_adhoc": views.hksj_adhoc,
        "conclusions_differ": views.conclusions_differ,
        "explanation": views.explanation,
        "note": None,
    }


def _small_study(data: StudyData, outcome: Outcome, settings: AnalysisSettings) -> dict[str, Any]:
    """Tests and trim-and-fill on the outcome's model (the Cochrane rule in the result)."""
    from livingmeta.stats import small_study_effects

    tau2 = "DL" if outcome.method == "MH" else outcome.tau2_method
    result = small_study_effects(
        data,
        outcome.measure,
        model=outcome.model,
        tau2_method=tau2,
        tests=settings.bias_tests,
        with_trimfill=settings.trimfill,
        min_k=settings.min_k,
        convention=outcome.convention,
    )
    return _clean({**result.to_dict(), "threshold_lowered": settings.threshold_lowered})


def _zero_events(data: StudyData) -> dict[str, Any] | None:
    """The zero-event panel when some study has a zero (or full) arm, else None."""
    import numpy as np

    from livingmeta.stats import zero_event_panel
    from livingmeta.stats.zero_events import has_zero_events

    if not isinstance(data, BinaryData) or not has_zero_events(data):
        return None
    a, c = data.events_treat, data.events_ctrl
    double = int(np.sum((a == 0) & (c == 0)))
    single = int(np.sum((a == 0) ^ (c == 0)))
    rows = []
    for row in zero_event_panel(data):
        shown = _clean(row.to_dict())
        null = 1.0 if row.measure == "OR" else 0.0
        low, high = shown["ci_low"], shown["ci_high"]
        shown["excludes_null"] = None if low is None else not (low <= null <= high)
        rows.append(shown)
    verdicts = {r["excludes_null"] for r in rows if r["excludes_null"] is not None}
    return {
        "single_zero_studies": single,
        "double_zero_studies": double,
        "rows": rows,
        "conclusion_depends_on_method": len(verdicts) > 1,
    }


def _meta_regression(
    data: StudyData,
    outcome: Outcome,
    settings: AnalysisSettings,
    covariates: Mapping[str, Sequence[Any]],
) -> dict[str, Any] | None:
    """Mixed-effects meta-regression on the configured covariates (studies missing a
    value are left out, and named)."""
    from livingmeta.stats import escalc, meta_regression

    if not settings.covariates:
        return None
    es = escalc(outcome.measure, data, convention=outcome.convention)
    keep = [
        i
        for i in range(len(data.study))
        if es.estimable[i] and all(_present(covariates[c][i]) for c in settings.covariates)
    ]
    left_out = [data.study[i] for i in range(len(data.study)) if i not in keep]
    values = {c: _numbers_or_labels([covariates[c][i] for i in keep]) for c in settings.covariates}
    section: dict[str, Any] = {
        "covariates": list(settings.covariates),
        "scale": "log" if outcome.measure in ("OR", "RR") else "identity",
        "studies": [data.study[i] for i in keep],
        "left_out": left_out,
        "values": values,
        "yi": [float(es.yi[i]) for i in keep],
        "vi": [float(es.vi[i]) for i in keep],
        "fit": None,
        "note": None,
    }
    try:
        fit = meta_regression(
            section["yi"], section["vi"], values, "REML", settings.regression_test
        )
    except (ValueError, ArithmeticError) as exc:
        section["note"] = f"not estimable: {exc}"
        return section
    section["fit"] = _clean(fit.to_dict())
    return section


def _common_tau2(
    data: StudyData, outcome: Outcome, settings: AnalysisSettings
) -> dict[str, Any] | None:
    """Subgroups sharing one tau2 (REML), when configured and there are two subgroups."""
    import numpy as np

    from livingmeta.stats import subgroups_common_tau2

    if settings.subgroup_tau2 != "common" or len({s for s in data.subgroup if s}) < 2:
        return None
    try:
        result = subgroups_common_tau2(data, outcome.measure, "REML", convention=outcome.convention)
    except (ValueError, ArithmeticError) as exc:
        return {"groups": {}, "note": f"not estimable: {exc}"}
    show = np.exp if outcome.measure in ("OR", "RR") else (lambda x: x)
    groups = {
        name: {
            "k": g.k,
            "estimate": float(show(g.estimate)),
            "ci_low": float(show(g.ci_low)),
            "ci_high": float(show(g.ci_high)),
        }
        for name, g in result.groups.items()
    }
    return _clean(
        {
            "groups": groups,
            "tau2": result.tau2,
            "tau2_method": "REML",
            "q_between": result.q_between,
            "df_between": result.df_between,
            "p_between": result.p_between,
            "note": None,
        }
    )


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return str(value).strip() != "" and str(value) != "<NA>"


def _numbers_or_labels(values: Sequence[Any]) -> list[Any]:
    """A covariate's values as numbers (integers where whole) when all are numeric, else
    as labels of a categorical covariate."""
    try:
        numbers = [float(str(v)) for v in values]
    except ValueError:
        numbers = [math.nan]
    if not all(math.isfinite(x) for x in numbers):
        return [str(v).strip() for v in values]
    return [int(x) if x.is_integer() else x for x in numbers]


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _clean(obj: Any) -> Any:
    """``obj`` with non-finite floats as None (``pooled.json`` is strict JSON)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, float):
        return _finite(obj)
    return obj


def _float_back(value: Any) -> Any:
    """None (a non-finite number in the JSON) back to NaN for a float field."""
    return math.nan if value is None else value


__all__ = ["SECTIONS", "BeyondPooling", "beyond_pooling"]
