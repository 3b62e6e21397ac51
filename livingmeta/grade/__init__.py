"""GRADE: certainty of the evidence and the summary-of-findings table.

Why a package of its own: the certainty of a body of evidence is a human judgement,
recorded as review data (``reviews/<id>/grade.csv``, approved like extraction rows), while
the absolute effects beside it are computed from the pooled result. The pipeline
*proposes*: it computes what each GRADE domain is judged on (share of weight at high
risk of bias, I², the optimal information size, ...) and flags a recorded rating whose
inputs have changed since; it never *decides* a rating. An outcome without a complete,
approved rating is shown as :data:`NOT_ASSESSED`.

Words: a *domain* is one of GRADE's reasons to rate down (risk of bias, inconsistency,
indirectness, imprecision, publication bias) or, for non-randomised evidence, to rate up
(large effect, dose-response, plausible confounding); a *rating* is the recorded decision
on one domain of one outcome, with its reason; the *certainty* is where the ratings take
the starting level (high for randomised, low for observational evidence).
"""

from __future__ import annotations

from livingmeta.risk_of_bias import NOT_ASSESSED

#: Certainty levels, best first; a level's index is how many steps below high it is.
LEVELS = ("high", "moderate", "low", "very low")
#: GRADE's reasons to rate down, in the order GRADEpro lists them.
DOWNGRADE_DOMAINS = (
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
)
#: Reasons to rate up, for non-randomised evidence only.
UPGRADE_DOMAINS = ("large_effect", "dose_response", "plausible_confounding")
DOMAINS = (*DOWNGRADE_DOMAINS, *UPGRADE_DOMAINS)
DOMAIN_LABELS = {
    "risk_of_bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
    "large_effect": "Large effect",
    "dose_response": "Dose-response gradient",
    "plausible_confounding": "Plausible confounding",
}

__all__ = [
    "DOMAINS",
    "DOMAIN_LABELS",
    "DOWNGRADE_DOMAINS",
    "LEVELS",
    "NOT_ASSESSED",
    "UPGRADE_DOMAINS",
]
