"""The sensitivity analysis restricted by risk of bias, and the weight per judgement.

Why here and not in :mod:`livingmeta.stats`: which studies stay is a risk-of-bias
decision (the review's ``sensitivity`` rule applied to settled overall judgements);
the pooling itself is the main analysis' own, called unchanged on fewer studies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from livingmeta.outcome_analysis import decode_result, encode_result, result_json
from livingmeta.risk_of_bias import NOT_ASSESSED
from livingmeta.risk_of_bias.model import Level
from livingmeta.stats.data import StudyData
from livingmeta.stats.result import PooledResult

RULES = {
    "low_only": "studies at low risk of bias",
    "not_high": "studies not at high risk of bias",
}


@dataclass(frozen=True)
class RestrictedAnalysis:
    """The main analysis repeated on the studies the rule keeps.

    ``status`` is ``pooled``, ``not yet assessed`` (no study has a settled overall
    judgement: nothing is claimed), ``no studies left`` or ``not estimable``.
    ``removed`` pairs each left-out study with its judgement (or ``not yet assessed``).
    """

    rule: str
    status: str
    kept: tuple[str, ...]
    removed: tuple[tuple[str, str], ...]
    result: PooledResult | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, for ``pooled.json`` beside the main result: ``result`` on the display
        scale as the main result is written, ``exact`` losslessly (analysis scale)."""
        return {
            "rule": self.rule,
            "description": RULES[self.rule],
            "status": self.status,
            "kept": list(self.kept),
            "removed": [{"study": s, "judgement": j} for s, j in self.removed],
            "result": result_json(self.result) if self.result is not None else None,
            "exact": encode_result(self.result) if self.result is not None else None,
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> RestrictedAnalysis:
        """The object :meth:`to_json` wrote."""
        exact = obj.get("exact")
        return cls(
            rule=obj["rule"],
            status=obj["status"],
            kept=tuple(obj["kept"]),
            removed=tuple((r["study"], r["judgement"]) for r in obj["removed"]),
            result=decode_result(exact) if exact is not None else None,
        )


def keeps(level: Level, rule: str) -> bool:
    """Whether ``rule`` keeps a study judged at ``level`` overall."""
    if rule == "low_only":
        return level.risk == "low"
    if rule == "not_high":
        return level.risk in ("low", "some")
    raise ValueError(f"rule must be one of {', '.join(RULES)}; got {rule!r}")


def restricted_analysis(
    data: StudyData,
    overall: Mapping[str, Level | None],
    rule: str,
    **pool_options: Any,
) -> RestrictedAnalysis:
    """Pool again with only the studies ``rule`` keeps.

    Parameters
    ----------
    data
        The outcome's study data, as for the main analysis.
    overall
        Settled overall level by study label (``data.study``); missing or None means
        not yet assessed, and such a study is left out (it is not known to be at low risk).
    rule
        ``low_only`` or ``not_high`` (the review's ``risk_of_bias.sensitivity``).
    **pool_options
        Passed to :func:`livingmeta.stats.pool` (measure, method, model, ...), the same as
        the main analysis'.
    """
    from livingmeta.stats import pool
    from livingmeta.stats.errors import NotEstimableError

    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(RULES)}; got {rule!r}")
    kept_index, removed = [], []
    for i, study in enumerate(data.study):
        level = overall.get(study)
        if level is not None and keeps(level, rule):
            kept_index.append(i)
        else:
            removed.append((study, level.label if level is not None else NOT_ASSESSED))
    kept = tuple(data.study[i] for i in kept_index)
    if all(overall.get(study) is None for study in data.study):
        return RestrictedAnalysis(rule, NOT_ASSESSED, (), tuple(removed))
    if not kept_index:
        return RestrictedAnalysis(rule, "no studies left", kept, tuple(removed))
    try:
        result = pool(data.take(kept_index), **pool_options)
    except NotEstimableError:
        return RestrictedAnalysis(rule, "not estimable", kept, tuple(removed))
    return RestrictedAnalysis(rule, "pooled", kept, tuple(removed), result)


def weight_shares(
    weights: Mapping[str, float],
    judgements: Mapping[str, Mapping[str, str]],
    domains: Sequence[str],
) -> dict[str, dict[str, float]]:
    """Share of the total weight (percent) at each level, per domain.

    Parameters
    ----------
    weights
        Study label to its weight in the pooled result (any scale; normalised here).
    judgements
        Study label to its settled ``{domain: level key}``.
    domains
        Domain keys to report (``overall`` included when wanted).

    Returns
    -------
    dict
        ``{domain: {level key or "not yet assessed": percent}}``, shares summing to 100
        per domain (robvis' weighted summary plot).
    """
    total = sum(w for w in weights.values() if w > 0)
    shares: dict[str, dict[str, float]] = {}
    for domain in domains:
        row: dict[str, float] = {}
        for study, weight in weights.items():
            if weight <= 0 or total <= 0:
                continue
            level = judgements.get(study, {}).get(domain, NOT_ASSESSED)
            row[level] = row.get(level, 0.0) + 100.0 * weight / total
        shares[domain] = row
    return shares
