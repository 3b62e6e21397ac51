"""Rule of ``grade.smk``: the review's GRADE summary-of-findings table
(``summary_of_findings.{md,csv,html,docx}``) and the inputs proposed for each GRADE domain
(``grade_inputs.json``), from the pooled results and the recorded ratings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.files import write_json
from livingmeta.outcomes import Outcome

SOF_FORMATS = ("md", "csv", "html", "docx")


def summarise_findings(
    review: Review,
    *,
    pooled: Mapping[str, str | Path],
    data: Mapping[str, str | Path],
    studies: str | Path,
    characteristics: Sequence[str | Path],
    grade: Sequence[str | Path],
    judgements: Sequence[str | Path],
    tables: Sequence[str | Path],
    inputs: str | Path,
) -> None:
    """One row per pooled outcome (none for an outcome without approved data yet):
    participants (studies), relative and absolute effects, certainty from the recorded
    ratings in ``grade`` (absent: "not yet assessed"), with the starting level from the
    studies' designs in ``characteristics``; every table format into ``tables``, and the
    proposed domain inputs and each outcome's certainty (``high`` ... ``very low``; null:
    not yet assessed; the run report records it in the history) into ``inputs``."""
    from livingmeta.grade.ratings import load_ratings
    from livingmeta.grade.sof import build_summary, write_summary
    from livingmeta.outcome_analysis import OutcomeAnalysis, read_analysis
    from livingmeta.roster import review_roster

    names = [o.name for o in review.outcomes]
    ratings = load_ratings(grade[0], names, roster=review_roster(review)) if grade else ()
    designs = _designs(review, characteristics, studies)
    settled = _settled(judgements)
    rows, proposed, levels = [], {}, {}
    for outcome in review.outcomes:
        if not isinstance(read_analysis(pooled[outcome.name]), OutcomeAnalysis):
            continue  # no approved data yet: nothing to summarise
        assessment = _assess(review, outcome, pooled, data, designs, ratings, settled)
        rows.append(assessment.evidence)
        proposed[outcome.name] = {k: v.to_dict() for k, v in assessment.proposals.items()}
        rated = assessment.evidence.certainty
        levels[outcome.name] = rated.level if rated is not None else None
    summary = build_summary(f"Summary of findings: {review.title}", rows)
    stem = str(Path(tables[0]).with_suffix(""))
    write_summary(summary, stem, [Path(t).suffix.lstrip(".") for t in tables])
    write_json(inputs, {"review": review.id, "outcomes": proposed, "certainty": levels})


def _assess(
    review: Review,
    outcome: Outcome,
    pooled: Mapping[str, str | Path],
    data: Mapping[str, str | Path],
    designs: Mapping[str, str | None],
    ratings: Sequence[Any],
    settled: Mapping[str, Any] | None,
) -> Any:
    from livingmeta.extraction import load_extraction, outcome_data
    from livingmeta.grade.certainty import starting_certainty
    from livingmeta.grade.review import assess_outcome
    from livingmeta.outcome_analysis import OutcomeAnalysis
    from livingmeta.workflow.risk_of_bias import overall_levels

    frame = load_extraction(data[outcome.name], {outcome.name: outcome})
    result = OutcomeAnalysis.read(pooled[outcome.name]).result
    levels = overall_levels(review, settled, outcome.name) if settled else None
    assumed = review.spec.get("grade", {}).get("assumed_risks", {}).get(outcome.name)
    return assess_outcome(
        outcome.name,
        outcome.label,
        outcome_data(frame, outcome),
        result,
        start=starting_certainty(designs, evidence_studies(frame, outcome)),
        ratings=ratings,
        overall_levels=levels,
        assumed_risk=assumed,
        assumed_source="configured risk (config: grade.assumed_risks)" if assumed else None,
    )


def evidence_studies(frame: Any, outcome: Outcome) -> list[str]:
    """The studies whose data are pooled for ``outcome``: a study left out of the analysis
    (removed after inclusion, or not reporting the outcome) does not set the starting
    level of the evidence."""
    from livingmeta.extraction import pooled_rows

    return list(dict.fromkeys(pooled_rows(frame, outcome)["study_id"]))


def _designs(
    review: Review, characteristics: Sequence[str | Path], studies: str | Path
) -> dict[str, str | None]:
    """Study id -> design class from the approved ``design`` characteristic."""
    from livingmeta.characteristics.extraction import load_characteristics
    from livingmeta.grade.certainty import designs_from_characteristics
    from livingmeta.workflow.characteristics import characteristics_settings, included_studies

    _, fields = characteristics_settings(review)
    if not characteristics or fields is None:
        return {}
    ids = [s for s, _ in included_studies(studies)]
    return designs_from_characteristics(
        load_characteristics(characteristics[0], fields, studies=ids)
    )


def _settled(judgements: Sequence[str | Path]) -> dict[str, Any] | None:
    from livingmeta.workflow.risk_of_bias import read_judgements

    return read_judgements(judgements[0]) if judgements else None
