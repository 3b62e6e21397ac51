"""Rules of ``risk_of_bias.smk``: settle the assessors' judgements into one JSON every
later step reads, and draw the robvis-style figures from it.

Settling has no pooled input and pooling reads the settled judgements (for the analysis
restricted by risk of bias), while the weighted summary plots need the pooled weights:
hence two rules, ``settle_risk_of_bias`` before pooling and ``plot_risk_of_bias`` after.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.files import write_json
from livingmeta.risk_of_bias import NOT_ASSESSED

#: Name of the settled judgements under ``results/<id>/risk_of_bias/``.
JUDGEMENTS = "judgements.json"


def settings_of(review: Review) -> Any:
    """The review's risk-of-bias settings (None when it declares no tool)."""
    from livingmeta.risk_of_bias.settings import settings_from_config

    spec = review.spec.get("risk_of_bias")
    if spec is None:
        return None
    return settings_from_config(spec, source=f"reviews[{review.id}].risk_of_bias")


def figure_specs(review: Review) -> dict[str, tuple[str, Any, Any]]:
    """The review's risk-of-bias figures by stem (``results/<id>/risk_of_bias/<stem>.<ext>``):
    ``(kind, tool, outcome)`` with kind ``traffic_light`` (one per tool, or per tool and
    outcome for per-result tools such as RoB 2; outcome None otherwise) or ``summary``
    (the weighted summary of one outcome's studies rated with the tool)."""
    settings = settings_of(review)
    if settings is None:
        return {}
    specs: dict[str, tuple[str, Any, Any]] = {}
    for use in settings.uses:
        tool = use.tool
        if tool.per_outcome:
            for o in review.outcomes:
                specs[f"traffic_light_{tool.key}_{o.name}"] = ("traffic_light", tool, o)
        else:
            specs[f"traffic_light_{tool.key}"] = ("traffic_light", tool, None)
        for o in review.outcomes:
            specs[f"summary_{o.name}_{tool.key}"] = ("summary", tool, o)
    return specs


def settle_risk_of_bias(
    review: Review,
    *,
    assessments: Sequence[str | Path],
    studies: str | Path,
    judgements: str | Path,
    labels: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Compare the assessors' files (``assessments``, in the review's risk-of-bias folder)
    and write the settled judgements, by outcome and study label, to ``judgements``.

    A study's label is the one its extraction rows give (``labels``, by study id, from
    :func:`livingmeta.extraction.study_labels_by_id`), else ``studies``' own: the forest
    plots, the restricted analysis and GRADE find the judgements by the analyses' labels.
    The labels of a multi-arm trial's comparisons are ``aliases`` of the study: each
    carries the study's judgements, and the traffic-light plot shows the study once."""
    from livingmeta.risk_of_bias.consensus import load_folder
    from livingmeta.roster import review_roster
    from livingmeta.screening.studies import read_studies

    settings = settings_of(review)
    included = read_studies(studies)
    labels = labels or {}
    pairs, aliases = [], []
    for record in included.to_dict("records"):
        sid = str(record["study_id"])
        own, *comparisons = labels.get(sid) or [str(record.get("study_label") or sid)]
        pairs.append((sid, own))
        aliases += [(sid, label) for label in comparisons]
    folder = Path(assessments[0]).parent if assessments else review.files.risk_of_bias
    status = load_folder(
        folder,
        settings,
        roster=review_roster(review),
        studies=[s for s, _ in pairs],
        outcomes=[o.name for o in review.outcomes],
    )
    by_outcome = {o.name: status.by_label(pairs + aliases, o.name) for o in review.outcomes}
    by_study = status.by_label(pairs)
    tables = [by_study, *by_outcome.values()]
    rated = any(levels for table in tables for levels in table.values())
    out = {
        "status": "assessed" if rated else NOT_ASSESSED,
        "sensitivity": settings.sensitivity,
        "studies": [
            {"study_id": s, "label": label, "tool": _tool_key(settings, s)} for s, label in pairs
        ],
        "aliases": dict((label, sid) for sid, label in aliases),
        "judgements": by_outcome,
        "study_level": by_study,
        "disagreements": [str(d) for d in status.disagreements],
        # Drawn apart from "not yet assessed" in the traffic-light plots; never a judgement.
        "disputed": {o.name: status.disputed_by_label(pairs, o.name) for o in review.outcomes},
        "study_level_disputed": status.disputed_by_label(pairs),
        "pending": len(status.pending),
        "assessors": list(status.assessors),
    }
    write_json(judgements, out)
    return out


def _tool_key(settings: Any, study_id: str) -> str | None:
    tool = settings.tool_for(study_id)
    return tool.key if tool is not None else None


def read_judgements(path: str | Path) -> dict[str, Any]:
    """The settled judgements :func:`settle_risk_of_bias` wrote."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def forest_columns(review: Review, settled: Mapping[str, Any], outcome: str) -> Any:
    """(tool, judgements by label) for the forest plot of ``outcome``, or None when no
    study of it has a settled judgement or its studies are rated with different tools."""
    settings = settings_of(review)
    table = settled["judgements"].get(outcome, {})
    if settings is None or not any(table.values()):
        return None
    tools = {s["tool"] for s in settled["studies"] if s["label"] in table}
    if len(tools) != 1 or None in tools:
        return None
    study_id = next(s["study_id"] for s in settled["studies"] if s["label"] in table)
    return settings.tool_for(study_id), table


def overall_levels(review: Review, settled: Mapping[str, Any], outcome: str) -> dict[str, Any]:
    """Settled overall level by study label (None: not yet assessed) for ``outcome``."""
    from livingmeta.risk_of_bias import OVERALL

    settings = settings_of(review)
    table = settled["judgements"].get(outcome, {})
    levels: dict[str, Any] = {}
    for label, study_id in labelled_studies(settled):
        tool = settings.tool_for(study_id)
        key = table.get(label, {}).get(OVERALL)
        levels[label] = tool.level(key) if tool is not None and key else None
    return levels


def labelled_studies(settled: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, study id) of every label the analyses use: each study's own and its
    comparisons' (``aliases``; absent in judgements written before they existed)."""
    own = [(s["label"], s["study_id"]) for s in settled["studies"]]
    return own + list((settled.get("aliases") or {}).items())


def plot_risk_of_bias(
    review: Review,
    *,
    judgements: str | Path,
    pooled: Mapping[str, str | Path],
    figures: Sequence[str | Path],
    dpi: int = 200,
) -> None:
    """Draw the review's risk-of-bias figures into ``figures``
    (``<stem>.<format>``, a stem of :func:`figure_specs` each): traffic-light plots
    (study x domain) and weighted summary plots (share of an outcome's weight at each
    judgement, per domain). One job draws them all: its start-up and imports cost more
    than a figure."""
    from livingmeta.outcome_analysis import read_analysis
    from livingmeta.plots import save_figure

    specs = figure_specs(review)
    settled = read_judgements(judgements)
    by_stem: dict[str, list[Path]] = {}
    for file in map(Path, figures):
        by_stem.setdefault(file.stem, []).append(file)
    unknown = sorted(set(by_stem) - set(specs))
    if unknown:
        raise ValueError(f"not a risk-of-bias figure of {review.id}: {', '.join(unknown)}")
    analyses = {name: read_analysis(path) for name, path in pooled.items()}
    for stem, files in by_stem.items():
        save_figure(_figure(specs[stem], settled, analyses), files, dpi=dpi)


def _figure(spec: tuple[str, Any, Any], settled: Mapping[str, Any], analyses: Any) -> Any:
    """One figure of :func:`figure_specs` from the settled judgements and the outcomes'
    pooled analyses (their weights)."""
    from livingmeta.outcome_analysis import NO_APPROVED_DATA, OutcomeAnalysis
    from livingmeta.plots.note import note_figure
    from livingmeta.plots.robvis import summary_plot, traffic_light_plot
    from livingmeta.risk_of_bias.sensitivity import weight_shares

    kind, tool, outcome = spec
    labels = [s["label"] for s in settled["studies"] if s["tool"] == tool.key]
    ids = {s["study_id"] for s in settled["studies"] if s["tool"] == tool.key}
    weighted = [label for label, sid in labelled_studies(settled) if sid in ids]
    if outcome is None:
        table = settled["study_level"]
    else:
        table = settled["judgements"].get(outcome.name, {})
    if kind == "traffic_light":
        title = tool.label + (f": {outcome.label}" if outcome is not None else "")
        return traffic_light_plot(
            tool, labels, _with_disputed(table, settled, outcome), title=title
        )
    analysis = analyses[outcome.name]
    if not isinstance(analysis, OutcomeAnalysis):
        return note_figure(f"{NO_APPROVED_DATA.capitalize()}: no weights", title=outcome.label)
    weights = {s.study: s.weight for s in analysis.result.studies if s.study in weighted}
    shares = weight_shares(weights, table, list(tool.domain_keys))
    return summary_plot(tool, _with_empty(shares, tool), title=f"{outcome.label}: {tool.label}")


def _with_disputed(
    table: Mapping[str, Mapping[str, str]], settled: Mapping[str, Any], outcome: Any
) -> dict[str, dict[str, str]]:
    """The settled judgements with each disputed domain marked :data:`DISPUTED`, so the
    traffic-light plot tells reviewers where the assessors still disagree (absent in
    judgements written before disputes were recorded)."""
    from livingmeta.risk_of_bias import DISPUTED

    if outcome is None:
        disputed = settled.get("study_level_disputed") or {}
    else:
        disputed = (settled.get("disputed") or {}).get(outcome.name, {})
    labels = set(table) | set(disputed)
    return {
        label: {**dict.fromkeys(disputed.get(label, ()), DISPUTED), **table.get(label, {})}
        for label in labels
    }


def _with_empty(shares: dict[str, dict[str, float]], tool: Any) -> dict[str, dict[str, float]]:
    """Every domain with at least a 100% "not yet assessed" bar when no study is weighted."""
    return {key: shares.get(key) or {NOT_ASSESSED: 100.0} for key in tool.domain_keys}
