"""What each GRADE domain is judged on, computed from the live data: proposals, not decisions.

For every domain the pipeline gathers the numbers an assessor looks at (GRADE handbook;
Guyatt et al., J Clin Epidemiol 2011, GRADE guidelines 4-9) and a digest of them. The
digest is recorded with a rating (``inputs_digest`` in ``grade.csv``); when an update
changes the inputs, the digest changes and the rating is flagged as stale
(:func:`livingmeta.grade.certainty.is_stale`). Nothing here rates anything.

- risk of bias: the share of the pooled weight from studies at high risk, at some
  concerns or unclear risk, and not yet assessed (settled overall judgements);
- inconsistency: I², tau², the heterogeneity test and the prediction interval;
- imprecision: participants against the optimal information size (OIS: alpha 0.05,
  power 0.80, a relative risk reduction of 25% by default, GRADE guideline 6), and
  whether the confidence interval crosses no effect or the decision thresholds;
- publication bias: the small-study tests only when k >= 10 (Cochrane Handbook 13.3.5.4);
- large effect (non-randomised evidence): the ratio and its interval against GRADE's 2
  and 5 (0.5 and 0.2);
- indirectness, dose-response and plausible confounding: nothing to compute.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from livingmeta.grade import DOMAINS, DOWNGRADE_DOMAINS
from livingmeta.grade.absolute import AbsoluteEffect
from livingmeta.grade.ratings import GRADE_COLUMNS, Rating
from livingmeta.risk_of_bias import NOT_ASSESSED, OVERALL
from livingmeta.risk_of_bias.model import Level
from livingmeta.stats.result import PooledResult
from livingmeta.stats.small_study import SmallStudyEffects

#: Significant digits kept before hashing, so float noise never makes a rating stale.
DIGEST_DIGITS = 4
OIS_RELATIVE_RISK_REDUCTION = 0.25
OIS_ALPHA = 0.05
OIS_BETA = 0.2


@dataclass(frozen=True)
class DomainInputs:
    """The numbers behind one domain's rating and what they mean for it."""

    domain: str
    values: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def digest(self) -> str:
        """12 hex digits identifying ``values`` (rounded to :data:`DIGEST_DIGITS`)."""
        text = json.dumps(_rounded(dict(self.values)), sort_keys=True)
        return hashlib.sha256(f"{self.domain}:{text}".encode()).hexdigest()[:12]

    def to_dict(self) -> dict[str, Any]:
        return {"values": dict(self.values), "note": self.note, "digest": self.digest}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.{DIGEST_DIGITS}g}") if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def propose(
    result: PooledResult,
    *,
    overall_levels: Mapping[str, Level | None] | None = None,
    absolute: AbsoluteEffect | None = None,
    participants: int | None = None,
    thresholds: Sequence[float] = (),
    small_study: SmallStudyEffects | None = None,
    relative_risk_reduction: float = OIS_RELATIVE_RISK_REDUCTION,
) -> dict[str, DomainInputs]:
    """The inputs of every GRADE domain for one pooled outcome.

    Parameters
    ----------
    result
        The main analysis.
    overall_levels
        Settled overall risk-of-bias level by study label (None or missing: not yet
        assessed), as :meth:`RiskOfBiasStatus.overall_levels` gives them.
    absolute
        The absolute effect (for the OIS's control risk and the thresholds).
    participants
        Participants in the analysis.
    thresholds
        Decision thresholds on the absolute difference per 1,000 (e.g. ``(-20, 20)``
        for a minimal important difference of 20 per 1,000).
    small_study
        The outcome's small-study analysis.
    relative_risk_reduction
        Of the OIS.
    """
    inputs = {
        "risk_of_bias": risk_of_bias_inputs(result, overall_levels or {}),
        "inconsistency": inconsistency_inputs(result),
        "indirectness": DomainInputs(
            "indirectness",
            {},
            "judged against the question: population, intervention, "
            "comparator and outcome of the studies",
        ),
        "imprecision": imprecision_inputs(
            result, absolute, participants, thresholds, relative_risk_reduction
        ),
        "publication_bias": publication_bias_inputs(result, small_study),
        "large_effect": large_effect_inputs(result),
        "dose_response": DomainInputs("dose_response", {}, "judged from the studies' reports"),
        "plausible_confounding": DomainInputs(
            "plausible_confounding", {}, "judged from the studies' reports"
        ),
    }
    return {d: inputs[d] for d in DOMAINS}


def risk_of_bias_inputs(
    result: PooledResult, overall_levels: Mapping[str, Level | None]
) -> DomainInputs:
    """Percent of the pooled weight at each overall risk class."""
    from livingmeta.risk_of_bias.sensitivity import weight_shares

    weights = {s.study: s.weight for s in result.studies if s.estimable}
    classes = {
        study: {OVERALL: level.risk if level is not None else NOT_ASSESSED}
        for study, level in ((s, overall_levels.get(s)) for s in weights)
    }
    shares = weight_shares(weights, classes, [OVERALL])[OVERALL]
    values = {
        "high": shares.get("high", 0.0),
        "some_or_unclear": shares.get("some", 0.0) + shares.get("unknown", 0.0),
        "not_assessed": shares.get(NOT_ASSESSED, 0.0),
    }
    note = (
        f"{values['high']:.0f}% of the weight at high risk, {values['some_or_unclear']:.0f}% "
        f"at some concerns or unclear risk, {values['not_assessed']:.0f}% not yet assessed"
    )
    return DomainInputs("risk_of_bias", values, note)


def inconsistency_inputs(result: PooledResult) -> DomainInputs:
    """I², tau², the Q test's P and the prediction interval (display scale)."""
    from livingmeta.formatting import prediction_interval, result_i2

    shown = result.to_dict()
    values = {k: shown[k] for k in ("k", "i2", "tau2", "p_q", "pi_low", "pi_high")}
    interval = prediction_interval(result)
    note = f"I² {result_i2(result)}" + (f"; prediction interval {interval}" if interval else "")
    return DomainInputs("inconsistency", values, note)


def imprecision_inputs(
    result: PooledResult,
    absolute: AbsoluteEffect | None,
    participants: int | None,
    thresholds: Sequence[float],
    relative_risk_reduction: float,
) -> DomainInputs:
    """Participants against the OIS; the interval against no effect and the thresholds."""
    from livingmeta.stats.sequential import required_information_size

    low, high = result.conf_int()
    values: dict[str, Any] = {
        "participants": participants,
        "ci_low": low,
        "ci_high": high,
        "crosses_no_effect": bool(low < result.null_value < high),
    }
    notes = ["the interval includes no effect" if values["crosses_no_effect"] else ""]
    if absolute is not None and 0 < absolute.assumed_risk < 1:
        ois = required_information_size(
            control_risk=absolute.assumed_risk,
            relative_risk_reduction=relative_risk_reduction,
            alpha=OIS_ALPHA,
            beta=OIS_BETA,
        )
        values["optimal_information_size"] = math.ceil(ois)
        if participants is not None:
            values["ois_met"] = participants >= ois
            notes.append(f"{participants} of {math.ceil(ois)} participants (OIS)")
        per_1000 = absolute.per_1000()
        lo, hi = per_1000["difference_low"], per_1000["difference_high"]
        values["difference_per_1000"] = [lo, hi]
        crossed = [t for t in thresholds if lo < t < hi]
        values["thresholds_crossed"] = crossed
        if crossed:
            notes.append(f"the interval crosses the threshold(s) {crossed} per 1,000")
    return DomainInputs("imprecision", values, "; ".join(n for n in notes if n))


def publication_bias_inputs(
    result: PooledResult, small_study: SmallStudyEffects | None
) -> DomainInputs:
    """The small-study tests when there are at least ten studies, else why not."""
    if small_study is None or not small_study.assessed:
        min_k = small_study.min_k if small_study is not None else 10
        note = f"small-study tests not run: {result.k} studies (fewer than {min_k})"
        return DomainInputs("publication_bias", {"k": result.k, "assessed": False}, note)
    tests = {name: t.to_dict() for name, t in small_study.tests.items()}
    summary = "; ".join(f"{name} P = {t['p']:.3g}" for name, t in tests.items() if "p" in t)
    values = {"k": small_study.k, "assessed": True, "tests": tests}
    return DomainInputs("publication_bias", values, summary)


def large_effect_inputs(result: PooledResult) -> DomainInputs:
    """The ratio and its interval against GRADE's thresholds of a large effect."""
    if not result.is_ratio:
        return DomainInputs("large_effect", {}, "not a ratio measure")
    estimate = result.display(result.estimate)
    low, high = result.conf_int()
    values = {"estimate": estimate, "ci_low": low, "ci_high": high}
    note = "large: ratio > 2 or < 0.5; very large: > 5 or < 0.2 (GRADE guideline 9)"
    return DomainInputs("large_effect", values, note)


def grade_template(
    proposals: Mapping[str, Mapping[str, DomainInputs]],
    ratings: Sequence[Rating],
    domains: Sequence[str] = DOWNGRADE_DOMAINS,
) -> list[dict[str, str]]:
    """Rows of ``grade.csv`` still to fill: each outcome x domain nobody rated yet, with
    the digest of its current inputs and, in ``notes``, what they say. The decision,
    reason and assessor are left empty for a person.

    Parameters
    ----------
    proposals
        Outcome name -> :func:`propose`'s result.
    ratings
        The rows already in ``grade.csv`` (approved or not).
    domains
        Domains to offer (add the reasons to rate up for observational evidence).
    """
    rated = {(r.outcome, r.domain) for r in ratings}
    rows = []
    for outcome, inputs in proposals.items():
        for domain in domains:
            if (outcome, domain) in rated:
                continue
            row = dict.fromkeys(GRADE_COLUMNS, "")
            row.update(
                outcome=outcome,
                domain=domain,
                inputs_digest=inputs[domain].digest,
                notes=inputs[domain].note,
            )
            rows.append(row)
    return rows
