"""Rule of ``pool.smk``: analyse one outcome from its validated rows into ``pooled.json``
(the :class:`~livingmeta.outcome_analysis.OutcomeAnalysis` every later step reads)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.extraction import load_extraction, outcome_data
from livingmeta.files import ANALYSIS_SOFTWARE, software_versions
from livingmeta.outcome_analysis import OutcomeAnalysis
from livingmeta.outcomes import Outcome
from livingmeta.stats import cumulative, fixed_and_random, leave_one_out, pool, subgroups
from livingmeta.stats.data import BinaryData, ContinuousData, StudyData
from livingmeta.stats.result import PooledResult, SubgroupResult
from livingmeta.validation import InputError, Problem


def pool_outcome(
    review: Review, outcome: Outcome, *, data: str | Path, pooled: str | Path
) -> OutcomeAnalysis:
    """Analyse one outcome's validated rows (``data``) and write ``pooled`` atomically."""
    analysis = analyse_outcome(review, outcome, data)
    analysis.write(pooled)
    return analysis


def analyse_outcome(review: Review, outcome: Outcome, data_path: str | Path) -> OutcomeAnalysis:
    """Everything the review reports for one outcome: the main analysis, fixed and random
    effects side by side, leave-one-out, cumulative by year and subgroups."""
    data = outcome_data(load_extraction(data_path, {outcome.name: outcome}), outcome)
    options = outcome.pool_options()
    main = _pool(data, outcome, review.extraction)
    if outcome.method == "Peto":  # a fixed-effect method: no random-effects counterpart
        side_by_side = {"fixed": main}
    else:
        side_by_side = fixed_and_random(
            data, **{k: v for k, v in options.items() if k not in ("model", "hksj")}
        )
    return OutcomeAnalysis(
        review=review.id,
        outcome={"name": outcome.name, "label": outcome.label, **options},
        result=main,
        participants=_participants(data, main),
        fixed_vs_random=side_by_side,
        leave_one_out=leave_one_out(data, **options),
        cumulative=cumulative(data, **options),
        subgroups=_subgroups(data, outcome),
        provenance=_provenance(data_path),
    )


def _pool(data: StudyData, outcome: Outcome, file: str | Path) -> PooledResult:
    """Pool with the outcome's options; options the data cannot support (e.g. no
    Paule-Mandel root, nothing estimable) are reported as an input problem of the outcome."""
    try:
        return pool(data, **outcome.pool_options())
    except ValueError as exc:
        raise InputError([Problem(str(file), None, "outcome", f"{outcome.name}: {exc}")]) from None


def _subgroups(data: StudyData, outcome: Outcome) -> SubgroupResult | None:
    """The subgroup analysis when at least two subgroups can be pooled, else None."""
    if len({s for s in data.subgroup if s}) < 2:
        return None
    result = subgroups(data, **outcome.pool_options())
    return result if len(result.subgroups) > 1 else None


def _participants(data: StudyData, result: PooledResult) -> int | None:
    """Participants in the pooled studies (arm totals), None for generic data."""
    import numpy as np

    pooled = np.array([s.estimable for s in result.studies])
    if isinstance(data, BinaryData):
        return int((data.total_treat[pooled] + data.total_ctrl[pooled]).sum())
    if isinstance(data, ContinuousData):
        return int((data.n_treat[pooled] + data.n_ctrl[pooled]).sum())
    return None


def _provenance(data_path: str | Path) -> dict[str, Any]:
    """Where the numbers came from: input checksum and software versions."""
    return {
        "data": str(data_path),
        "data_sha256": hashlib.sha256(Path(data_path).read_bytes()).hexdigest(),
        **software_versions(*ANALYSIS_SOFTWARE),
    }
