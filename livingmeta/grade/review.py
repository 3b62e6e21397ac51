"""One outcome's row of the summary of findings, from everything a run already has.

The step that writes a review's summary-of-findings table calls :func:`assess_outcome`
once per pooled outcome and :func:`livingmeta.grade.sof.build_summary` on the rows: the
inputs of each GRADE domain are computed, the recorded ratings applied (or the outcome
left "not yet assessed"), and stale ratings flagged, in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from livingmeta.grade.certainty import Start, certainty
from livingmeta.grade.proposals import OIS_RELATIVE_RISK_REDUCTION, DomainInputs, propose
from livingmeta.grade.ratings import Rating
from livingmeta.grade.sof import OutcomeEvidence, outcome_evidence
from livingmeta.risk_of_bias.model import Level
from livingmeta.stats.data import StudyData
from livingmeta.stats.result import PooledResult
from livingmeta.stats.small_study import SmallStudyEffects


@dataclass(frozen=True)
class OutcomeAssessment:
    """The table row's evidence and the inputs proposed for each GRADE domain."""

    evidence: OutcomeEvidence
    proposals: Mapping[str, DomainInputs]


def assess_outcome(
    name: str,
    label: str,
    data: StudyData,
    result: PooledResult,
    *,
    start: Start,
    ratings: Sequence[Rating] = (),
    overall_levels: Mapping[str, Level | None] | None = None,
    small_study: SmallStudyEffects | None = None,
    assumed_risk: float | None = None,
    assumed_source: str | None = None,
    thresholds: Sequence[float] = (),
    relative_risk_reduction: float = OIS_RELATIVE_RISK_REDUCTION,
) -> OutcomeAssessment:
    """Evidence, certainty and proposals of the outcome ``name``.

    Parameters
    ----------
    name, label
        The outcome's name (as in ``grade.csv``) and its printed label.
    data, result
        Its study data and main analysis.
    start
        The starting certainty of its studies
        (:func:`~livingmeta.grade.certainty.starting_certainty`).
    ratings
        The review's validated ``grade.csv`` rows (any outcome).
    overall_levels, small_study, thresholds, relative_risk_reduction
        As for :func:`~livingmeta.grade.proposals.propose`.
    assumed_risk, assumed_source
        A configured assumed risk and where it comes from (default: the pooled
        control-arm risk).
    """
    evidence = outcome_evidence(label, data, result, None, assumed_risk, assumed_source)
    proposals = propose(
        result,
        overall_levels=overall_levels,
        absolute=evidence.absolute,
        participants=evidence.participants,
        thresholds=thresholds,
        small_study=small_study,
        relative_risk_reduction=relative_risk_reduction,
    )
    digests = {domain: inputs.digest for domain, inputs in proposals.items()}
    rated = certainty(name, start, ratings, digests)
    return OutcomeAssessment(replace(evidence, certainty=rated), proposals)
