"""RoB 2 (Sterne et al., BMJ 2019;366:l4898): domains, signalling questions, algorithms.

The algorithms are those of the tool's full guidance (riskofbias.info, version of
22 August 2019), one per domain, mapping the answers ``Y``/``PY`` (yes), ``N``/``PN``
(no) and ``NI`` (no information) to a proposed judgement. Domain 2 has two variants:
the effect of assignment to the intervention (the usual one) and of adhering to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from livingmeta.risk_of_bias.model import Domain, Proposer, Tool, questions, three_levels

LOW, SOME, HIGH = "low", "some_concerns", "high"
LEVELS = three_levels(LOW, SOME, HIGH, ("Low risk", "Some concerns", "High risk"))

YES, NO, NO_INFO, NOT_APPLICABLE = "yes", "no", "ni", "na"
_CLASS = {"Y": YES, "PY": YES, "N": NO, "PN": NO, "NI": NO_INFO, "NA": NOT_APPLICABLE}


class _Unanswered(Exception):
    """A question the algorithm needs on this path has no usable answer."""


def _ans(answers: Mapping[str, str], key: str) -> str:
    """The class of the answer to ``key``: yes, no, ni or na."""
    found = _CLASS.get(answers.get(key, "").strip().upper())
    if found is None:
        raise _Unanswered(key)
    return found


def _needed(answers: Mapping[str, str], key: str) -> str:
    """An answer that must be yes, no or no information on this path (NA is not an answer)."""
    found = _ans(answers, key)
    if found == NOT_APPLICABLE:
        raise _Unanswered(key)
    return found


def _proposer(rule: Callable[[Mapping[str, str]], str]) -> Proposer:
    """The rule, answering None instead of failing when an answer it needs is missing."""

    def propose(answers: Mapping[str, str]) -> str | None:
        try:
            return rule(answers)
        except _Unanswered:
            return None

    propose.__doc__ = rule.__doc__
    return propose


def randomization(a: Mapping[str, str]) -> str:
    """Domain 1: concealment (1.2) first, then sequence (1.1) and baseline imbalance (1.3)."""
    concealed = _needed(a, "1.2")
    if concealed == NO:
        return HIGH
    if concealed == NO_INFO:
        return HIGH if _needed(a, "1.3") == YES else SOME
    if _needed(a, "1.1") == NO:
        return SOME
    return SOME if _needed(a, "1.3") == YES else LOW


def deviations_assignment(a: Mapping[str, str]) -> str:
    """Domain 2, effect of assignment: part 1 (2.1-2.5) and part 2 (2.6-2.7); high if
    either part is high, low if both are low."""
    parts = (_assignment_deviations(a), _assignment_analysis(a))
    if HIGH in parts:
        return HIGH
    return LOW if parts == (LOW, LOW) else SOME


def _assignment_deviations(a: Mapping[str, str]) -> str:
    if _needed(a, "2.1") == NO and _needed(a, "2.2") == NO:
        return LOW
    context = _needed(a, "2.3")
    if context != YES:
        return LOW if context == NO else SOME
    if _needed(a, "2.4") == NO:
        return SOME
    return SOME if _needed(a, "2.5") == YES else HIGH


def _assignment_analysis(a: Mapping[str, str]) -> str:
    if _needed(a, "2.6") == YES:
        return LOW
    return SOME if _needed(a, "2.7") == NO else HIGH


def deviations_adherence(a: Mapping[str, str]) -> str:
    """Domain 2, effect of adhering: awareness (2.1, 2.2), balance of non-protocol
    interventions (2.3), implementation and adherence (2.4, 2.5), analysis (2.6)."""
    aware = not (_needed(a, "2.1") == NO and _needed(a, "2.2") == NO)
    if aware and _ans(a, "2.3") in (NO, NO_INFO):
        return _adherence_analysis(a)
    if _ans(a, "2.4") in (NO, NOT_APPLICABLE) and _ans(a, "2.5") in (NO, NOT_APPLICABLE):
        return LOW
    return _adherence_analysis(a)


def _adherence_analysis(a: Mapping[str, str]) -> str:
    return SOME if _needed(a, "2.6") == YES else HIGH


def missing_data(a: Mapping[str, str]) -> str:
    """Domain 3: complete data (3.1), evidence of no bias (3.2), missingness that could
    (3.3) or likely did (3.4) depend on the true value."""
    if _needed(a, "3.1") == YES:
        return LOW
    if _needed(a, "3.2") == YES:
        return LOW
    if _needed(a, "3.3") == NO:
        return LOW
    return SOME if _needed(a, "3.4") == NO else HIGH


def measurement(a: Mapping[str, str]) -> str:
    """Domain 4: method (4.1), differences between groups (4.2), then assessors' awareness
    (4.3) and its possible (4.4) and likely (4.5) influence. With no information on 4.2
    the best reachable judgement is some concerns."""
    if _needed(a, "4.1") == YES:
        return HIGH
    differ = _needed(a, "4.2")
    if differ == YES:
        return HIGH
    best = LOW if differ == NO else SOME
    if _needed(a, "4.3") == NO or _needed(a, "4.4") == NO:
        return best
    return SOME if _needed(a, "4.5") == NO else HIGH


def selection(a: Mapping[str, str]) -> str:
    """Domain 5: selection from multiple measurements (5.2) or analyses (5.3), then a
    pre-specified analysis plan (5.1)."""
    chosen = (_needed(a, "5.2"), _needed(a, "5.3"))
    if YES in chosen:
        return HIGH
    if NO_INFO in chosen:
        return SOME
    return LOW if _needed(a, "5.1") == YES else SOME


D1 = Domain(
    "D1",
    "Bias arising from the randomization process",
    "D1",
    questions(
        ("1.1", "Was the allocation sequence random?"),
        (
            "1.2",
            "Was the allocation sequence concealed until participants were enrolled "
            "and assigned to interventions?",
        ),
        (
            "1.3",
            "Did baseline differences between intervention groups suggest a problem "
            "with the randomization process?",
        ),
    ),
)
_AWARENESS = (
    ("2.1", "Were participants aware of their assigned intervention during the trial?"),
    (
        "2.2",
        "Were carers and people delivering the interventions aware of participants' "
        "assigned intervention during the trial?",
    ),
)
D2_ASSIGNMENT = Domain(
    "D2",
    "Bias due to deviations from intended interventions",
    "D2",
    questions(
        *_AWARENESS,
        (
            "2.3",
            "Were there deviations from the intended intervention that arose because "
            "of the trial context?",
        ),
        ("2.4", "Were these deviations likely to have affected the outcome?"),
        ("2.5", "Were these deviations from intended intervention balanced between groups?"),
        (
            "2.6",
            "Was an appropriate analysis used to estimate the effect of assignment "
            "to intervention?",
        ),
        (
            "2.7",
            "Was there potential for a substantial impact (on the result) of the "
            "failure to analyse participants in the group to which they were randomized?",
        ),
    ),
)
D2_ADHERENCE = Domain(
    "D2",
    "Bias due to deviations from intended interventions",
    "D2",
    questions(
        *_AWARENESS,
        ("2.3", "Were important non-protocol interventions balanced across intervention groups?"),
        (
            "2.4",
            "Were there failures in implementing the intervention that could have "
            "affected the outcome?",
        ),
        (
            "2.5",
            "Was there non-adherence to the assigned intervention regimen that could "
            "have affected participants' outcomes?",
        ),
        (
            "2.6",
            "Was an appropriate analysis used to estimate the effect of adhering to "
            "the intervention?",
        ),
    ),
)
D3 = Domain(
    "D3",
    "Bias due to missing outcome data",
    "D3",
    questions(
        (
            "3.1",
            "Were data for this outcome available for all, or nearly all, participants randomized?",
        ),
        ("3.2", "Is there evidence that the result was not biased by missing outcome data?"),
        ("3.3", "Could missingness in the outcome depend on its true value?"),
        ("3.4", "Is it likely that missingness in the outcome depended on its true value?"),
    ),
)
D4 = Domain(
    "D4",
    "Bias in measurement of the outcome",
    "D4",
    questions(
        ("4.1", "Was the method of measuring the outcome inappropriate?"),
        (
            "4.2",
            "Could measurement or ascertainment of the outcome have differed between "
            "intervention groups?",
        ),
        ("4.3", "Were outcome assessors aware of the intervention received by study participants?"),
        (
            "4.4",
            "Could assessment of the outcome have been influenced by knowledge of "
            "intervention received?",
        ),
        (
            "4.5",
            "Is it likely that assessment of the outcome was influenced by knowledge "
            "of intervention received?",
        ),
    ),
)
D5 = Domain(
    "D5",
    "Bias in selection of the reported result",
    "D5",
    questions(
        (
            "5.1",
            "Were the data that produced this result analysed in accordance with a "
            "pre-specified analysis plan that was finalized before unblinded outcome "
            "data were available for analysis?",
        ),
        (
            "5.2",
            "Is the numerical result being assessed likely to have been selected, on "
            "the basis of the results, from multiple eligible outcome measurements "
            "within the outcome domain?",
        ),
        ("5.3", "... from multiple eligible analyses of the data?"),
    ),
)


def rob2(effect: str = "assignment") -> Tool:
    """The RoB 2 tool for individually randomized parallel-group trials.

    Parameters
    ----------
    effect
        ``assignment`` (intention to treat; the default) or ``adherence`` (per protocol):
        selects domain 2's questions and algorithm.
    """
    if effect not in ("assignment", "adherence"):
        raise ValueError(f"effect must be 'assignment' or 'adherence'; got {effect!r}")
    adherence = effect == "adherence"
    d2 = D2_ADHERENCE if adherence else D2_ASSIGNMENT
    d2_rule = deviations_adherence if adherence else deviations_assignment
    rules = {"D1": randomization, "D2": d2_rule, "D3": missing_data}
    rules |= {"D4": measurement, "D5": selection}
    return Tool(
        key="rob2",
        label=f"RoB 2 (effect of {effect})",
        levels=LEVELS,
        domains=(D1, d2, D3, D4, D5),
        per_outcome=True,
        proposers={key: _proposer(rule) for key, rule in rules.items()},
    )
