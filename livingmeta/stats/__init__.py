"""The statistics engine: effect sizes (``escalc``), pooling (``pool``), heterogeneity and
the living-review analyses (leave-one-out, cumulative, subgroups), meta-regression, tests
for small-study effects with trim-and-fill, Q-profile intervals for tau2 and the
zero-event sensitivity panel, and sequential monitoring across a review's updates.

Vocabulary follows R metafor so results can be checked against it: ``yi``/``vi`` for study
effects and variances on the analysis scale (log scale for ratios), ``tau2``, ``i2``, and
tau2 estimators ``DL``, ``REML``, ``PM``.
"""

from typing import TYPE_CHECKING

from livingmeta.lazy import lazy_exports

if TYPE_CHECKING:
    from livingmeta.stats.analyses import (
        CommonTau2Subgroups,
        cumulative,
        fixed_and_random,
        leave_one_out,
        subgroups,
        subgroups_common_tau2,
    )
    from livingmeta.stats.bias import (
        BiasTest,
        begg_test,
        egger_rma_test,
        egger_test,
        harbord_test,
        peters_test,
    )
    from livingmeta.stats.data import BinaryData, ContinuousData, GenericData, StudyData
    from livingmeta.stats.effects import EffectSizes, escalc
    from livingmeta.stats.errors import NotEstimableError
    from livingmeta.stats.metareg import MetaRegression, meta_regression
    from livingmeta.stats.pooling import pool, prediction_interval
    from livingmeta.stats.result import PooledResult, StudyResult, SubgroupResult
    from livingmeta.stats.sequential import (
        SequentialBounds,
        diversity,
        futility_bounds,
        monitor,
        monitoring_bounds,
        required_information_size,
    )
    from livingmeta.stats.small_study import SmallStudyEffects, small_study_effects
    from livingmeta.stats.tau2_ci import Tau2Interval, q_profile, tau2_confint
    from livingmeta.stats.trim_and_fill import TrimFill, trimfill
    from livingmeta.stats.views import TwoViews, modern_view, two_views
    from livingmeta.stats.zero_events import PanelRow, zero_event_panel

#: Where each public name lives (module under :mod:`livingmeta.stats`). Loaded on first
#: use, so a module that needs one option constant does not pay for scipy and pandas.
_HOMES = {
    "BiasTest": "bias",
    "BinaryData": "data",
    "CommonTau2Subgroups": "analyses",
    "ContinuousData": "data",
    "EffectSizes": "effects",
    "GenericData": "data",
    "MetaRegression": "metareg",
    "NotEstimableError": "errors",
    "PanelRow": "zero_events",
    "PooledResult": "result",
    "SequentialBounds": "sequential",
    "SmallStudyEffects": "small_study",
    "StudyData": "data",
    "StudyResult": "result",
    "SubgroupResult": "result",
    "Tau2Interval": "tau2_ci",
    "TrimFill": "trim_and_fill",
    "TwoViews": "views",
    "begg_test": "bias",
    "cumulative": "analyses",
    "diversity": "sequential",
    "egger_rma_test": "bias",
    "egger_test": "bias",
    "escalc": "effects",
    "fixed_and_random": "analyses",
    "futility_bounds": "sequential",
    "harbord_test": "bias",
    "leave_one_out": "analyses",
    "meta_regression": "metareg",
    "modern_view": "views",
    "monitor": "sequential",
    "monitoring_bounds": "sequential",
    "peters_test": "bias",
    "pool": "pooling",
    "prediction_interval": "pooling",
    "q_profile": "tau2_ci",
    "required_information_size": "sequential",
    "small_study_effects": "small_study",
    "subgroups": "analyses",
    "subgroups_common_tau2": "analyses",
    "tau2_confint": "tau2_ci",
    "trimfill": "trim_and_fill",
    "two_views": "views",
    "zero_event_panel": "zero_events",
}

__all__ = [
    "BiasTest",
    "BinaryData",
    "CommonTau2Subgroups",
    "ContinuousData",
    "EffectSizes",
    "GenericData",
    "MetaRegression",
    "NotEstimableError",
    "PanelRow",
    "PooledResult",
    "SequentialBounds",
    "SmallStudyEffects",
    "StudyData",
    "StudyResult",
    "SubgroupResult",
    "Tau2Interval",
    "TrimFill",
    "TwoViews",
    "begg_test",
    "cumulative",
    "diversity",
    "egger_rma_test",
    "egger_test",
    "escalc",
    "fixed_and_random",
    "futility_bounds",
    "harbord_test",
    "leave_one_out",
    "meta_regression",
    "modern_view",
    "monitor",
    "monitoring_bounds",
    "peters_test",
    "pool",
    "prediction_interval",
    "q_profile",
    "required_information_size",
    "small_study_effects",
    "subgroups",
    "subgroups_common_tau2",
    "tau2_confint",
    "trimfill",
    "two_views",
    "zero_event_panel",
]

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
