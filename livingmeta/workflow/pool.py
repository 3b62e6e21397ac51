"""Rule of ``pool.smk``: analyse one outcome from its validated rows into ``pooled.json``
(the :class:`~livingmeta.outcome_analysis.OutcomeAnalysis` every later step reads)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from livingmeta.beyond_pooling import BeyondPooling
from livingmeta.config import Review
from livingmeta.extraction import load_extraction, outcome_data, pooled_rows, shared_controls
from livingmeta.files import ANALYSIS_SOFTWARE, software_versions
from livingmeta.outcome_analysis import NoApprovedData, OutcomeAnalysis
from livingmeta.outcomes import Outcome
from livingmeta.stats import cumulative, fixed_and_random, leave_one_out, pool, subgroups
from livingmeta.stats.data import BinaryData, ContinuousData, StudyData
from livingmeta.stats.result import PooledResult, SubgroupResult
from livingmeta.validation import InputError, Problem


def pool_outcome(
    review: Review,
    outcome: Outcome,
    *,
    data: str | Path,
    pooled: str | Path,
    risk_of_bias: str | Path | None = None,
    analyses: Mapping[str, Any] | None = None,
) -> OutcomeAnalysis | NoApprovedData:
    """Analyse one outcome's validated rows (``data``) and write ``pooled`` atomically;
    with the settled ``risk_of_bias`` judgements, also the analysis restricted by them.
    Without rows to pool (k = 0) the outcome has :class:`NoApprovedData`."""
    frame = load_extraction(data, {outcome.name: outcome})
    if pooled_rows(frame, outcome).empty:
        empty = NoApprovedData(review.id, _outcome_json(outcome), left_out_studies(frame, outcome))
        empty.write(pooled)
        return empty
    analysis = analyse_outcome(review, outcome, data)
    if risk_of_bias is not None:
        analysis = replace(analysis, risk_of_bias=_restricted(review, outcome, data, risk_of_bias))
    if analyses is not None:
        analysis = replace(analysis, beyond_pooling=analyse_beyond_pooling(outcome, data, analyses))
    analysis.write(pooled)
    return analysis


def _restricted(
    review: Review, outcome: Outcome, data_path: str | Path, judgements: str | Path
) -> Any:
    """The main analysis on the studies the review's sensitivity rule keeps (None when
    the rule is ``none``)."""
    from livingmeta.risk_of_bias.sensitivity import restricted_analysis
    from livingmeta.workflow.risk_of_bias import overall_levels, read_judgements

    settled = read_judgements(judgements)
    if settled["sensitivity"] == "none":
        return None
    data = outcome_data(load_extraction(data_path, {outcome.name: outcome}), outcome)
    levels = overall_levels(review, settled, outcome.name)
    return restricted_analysis(data, levels, settled["sensitivity"], **outcome.pool_options())


def analyse_beyond_pooling(
    outcome: Outcome, data_path: str | Path, analyses: Mapping[str, Any]
) -> BeyondPooling:
    """The analyses beyond pooling of one outcome with its merged ``analyses`` settings
    (:func:`livingmeta.analysis_settings.merged_analyses`); a covariate that is not a
    column of the extraction table is an input problem."""
    from livingmeta.analysis_settings import AnalysisSettings
    from livingmeta.beyond_pooling import beyond_pooling

    settings = AnalysisSettings.from_config(analyses)
    frame = load_extraction(data_path, {outcome.name: outcome})
    rows = pooled_rows(frame, outcome)
    missing = [c for c in settings.covariates if c not in rows.columns]
    if missing:
        raise InputError(
            [
                Problem(str(data_path), None, c, f"{outcome.name}: covariate {c!r} is not a column")
                for c in missing
            ]
        )
    covariates = {c: rows[c].tolist() for c in settings.covariates}
    return beyond_pooling(outcome_data(frame, outcome), outcome, settings, covariates)


def analyse_outcome(review: Review, outcome: Outcome, data_path: str | Path) -> OutcomeAnalysis:
    """Everything the review reports for one outcome: the main analysis, fixed and random
    effects side by side, leave-one-out, cumulative by year and subgroups."""
    frame = load_extraction(data_path, {outcome.name: outcome})
    data = outcome_data(frame, outcome)
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
        outcome=_outcome_json(outcome),
        result=main,
        participants=_participants(data, main),
        fixed_vs_random=side_by_side,
        leave_one_out=leave_one_out(data, **options),
        cumulative=cumulative(data, **options),
        subgroups=_subgroups(data, outcome),
        provenance=_provenance(data_path),
        left_out=left_out_studies(frame, outcome),
        notes=tuple(shared_controls(pooled_rows(frame, outcome), outcome)),
    )


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    """The ``outcome`` key of ``pooled.json``: name, label and pooling options."""
    return {"name": outcome.name, "label": outcome.label, **outcome.pool_options()}


def left_out_studies(frame: Any, outcome: Outcome) -> tuple[dict[str, str], ...]:
    """Approved rows of the outcome that are not pooled, with the reason: the study did
    not report it, or was removed (``left_out``, written by ``validate_outcome``)."""
    from livingmeta.extraction import row_kinds, study_labels
    from livingmeta.outcome_analysis import NOT_REPORTED

    rows = frame[frame["outcome"] == outcome.name]
    kinds = row_kinds(rows, {outcome.name: outcome}).tolist()
    reasons = rows["left_out"].fillna("").astype(str) if "left_out" in rows.columns else None
    out = []
    for pos, label in enumerate(study_labels(rows)):
        reason = "" if reasons is None else reasons.iloc[pos]
        if reason:
            out.append({"study": label, "reason": reason})
        elif kinds[pos] == "not_reported":
            out.append({"study": label, "reason": NOT_REPORTED})
    return tuple(out)


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
