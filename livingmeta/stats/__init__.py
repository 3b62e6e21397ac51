"""The statistics engine: effect sizes (``escalc``), pooling (``pool``), heterogeneity and
the living-review analyses (leave-one-out, cumulative, subgroups).

Vocabulary follows R metafor so results can be checked against it: ``yi``/``vi`` for study
effects and variances on the analysis scale (log scale for ratios), ``tau2``, ``i2``, and
tau2 estimators ``DL``, ``REML``, ``PM``.
"""

from livingmeta.stats.analyses import cumulative, fixed_and_random, leave_one_out, subgroups
from livingmeta.stats.data import BinaryData, ContinuousData, GenericData, StudyData
from livingmeta.stats.effects import EffectSizes, escalc
from livingmeta.stats.pooling import pool
from livingmeta.stats.result import PooledResult, StudyResult, SubgroupResult

__all__ = [
    "BinaryData",
    "ContinuousData",
    "EffectSizes",
    "GenericData",
    "PooledResult",
    "StudyData",
    "StudyResult",
    "SubgroupResult",
    "cumulative",
    "escalc",
    "fixed_and_random",
    "leave_one_out",
    "pool",
    "subgroups",
]
