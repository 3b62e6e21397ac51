"""RoB 2's algorithms against the tool's published decision rules.

Source of every expected judgement: the algorithm figures of the RoB 2 full guidance
(Higgins, Savović, Page, Sterne; riskofbias.info, version of 22 August 2019; Sterne et al.
BMJ 2019;366:l4898). Each case follows one path of a figure; together they cover every
arrow of every domain's figure, and the overall criteria of the tool's Table 2.
"""

from __future__ import annotations

import pytest

from livingmeta.risk_of_bias.rob2 import HIGH, LOW, SOME, rob2

ASSIGNMENT = rob2("assignment")
ADHERENCE = rob2("adherence")


def _answers(text: str) -> dict[str, str]:
    """``"1.1=Y 1.2=PN"`` -> ``{"1.1": "Y", "1.2": "PN"}``."""
    return dict(pair.split("=") for pair in text.split())


# Domain 1, randomization process: 1.2 concealment first.
DOMAIN_1 = [
    ("1.1=Y 1.2=N 1.3=N", HIGH),  # not concealed
    ("1.1=Y 1.2=PN 1.3=NI", HIGH),
    ("1.1=Y 1.2=NI 1.3=Y", HIGH),  # no information on concealment + imbalance
    ("1.1=Y 1.2=NI 1.3=PY", HIGH),
    ("1.1=Y 1.2=NI 1.3=N", SOME),
    ("1.1=N 1.2=NI 1.3=NI", SOME),
    ("1.1=N 1.2=Y 1.3=N", SOME),  # concealed, sequence not random
    ("1.1=PN 1.2=PY 1.3=Y", SOME),
    ("1.1=Y 1.2=Y 1.3=Y", SOME),  # concealed, random, imbalance
    ("1.1=PY 1.2=Y 1.3=PY", SOME),
    ("1.1=Y 1.2=Y 1.3=N", LOW),
    ("1.1=NI 1.2=PY 1.3=PN", LOW),  # no information on the sequence is not a concern
    ("1.1=Y 1.2=Y 1.3=NI", LOW),
]

# Domain 2, effect of assignment: part 1 (2.1-2.5) and part 2 (2.6-2.7).
DOMAIN_2_ASSIGNMENT = [
    ("2.1=N 2.2=PN 2.6=Y", LOW),  # blinded, appropriate analysis
    ("2.1=N 2.2=N 2.6=N 2.7=N", SOME),
    ("2.1=N 2.2=N 2.6=NI 2.7=PN", SOME),
    ("2.1=N 2.2=N 2.6=PN 2.7=Y", HIGH),
    ("2.1=N 2.2=N 2.6=N 2.7=NI", HIGH),
    ("2.1=Y 2.2=N 2.3=N 2.6=Y", LOW),  # aware, no deviations from trial context
    ("2.1=NI 2.2=N 2.3=PN 2.6=PY", LOW),
    ("2.1=Y 2.2=Y 2.3=NI 2.6=Y", SOME),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=N 2.6=Y", SOME),
    ("2.1=N 2.2=Y 2.3=PY 2.4=PN 2.6=Y", SOME),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=Y 2.5=Y 2.6=Y", SOME),  # balanced deviations
    ("2.1=Y 2.2=Y 2.3=Y 2.4=Y 2.5=N 2.6=Y", HIGH),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=NI 2.5=NI 2.6=Y", HIGH),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=PY 2.5=PN 2.6=Y", HIGH),
    ("2.1=Y 2.2=Y 2.3=NI 2.6=N 2.7=N", SOME),  # some + some
    ("2.1=Y 2.2=Y 2.3=NI 2.6=N 2.7=Y", HIGH),  # some + high
    ("2.1=Y 2.2=Y 2.3=Y 2.4=Y 2.5=N 2.6=PY", HIGH),  # high + low
]

# Domain 2, effect of adhering.
DOMAIN_2_ADHERENCE = [
    ("2.1=N 2.2=N 2.4=N 2.5=N", LOW),  # blinded, no failures, adherent
    ("2.1=PN 2.2=N 2.4=NA 2.5=PN", LOW),
    ("2.1=N 2.2=N 2.4=Y 2.5=N 2.6=Y", SOME),
    ("2.1=N 2.2=N 2.4=N 2.5=NI 2.6=PY", SOME),
    ("2.1=N 2.2=N 2.4=PY 2.5=N 2.6=N", HIGH),
    ("2.1=Y 2.2=N 2.3=N 2.6=Y", SOME),  # aware, unbalanced co-interventions
    ("2.1=Y 2.2=Y 2.3=NI 2.6=NI", HIGH),
    ("2.1=Y 2.2=Y 2.3=PN 2.6=PN", HIGH),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=N 2.5=N", LOW),
    ("2.1=NI 2.2=N 2.3=NA 2.4=PN 2.5=NA", LOW),
    ("2.1=Y 2.2=Y 2.3=PY 2.4=N 2.5=Y 2.6=Y", SOME),
    ("2.1=Y 2.2=Y 2.3=Y 2.4=NI 2.5=N 2.6=N", HIGH),
]

# Domain 3, missing outcome data.
DOMAIN_3 = [
    ("3.1=Y", LOW),
    ("3.1=PY", LOW),
    ("3.1=N 3.2=Y", LOW),
    ("3.1=NI 3.2=PY", LOW),
    ("3.1=N 3.2=N 3.3=N", LOW),
    ("3.1=PN 3.2=PN 3.3=PN", LOW),
    ("3.1=N 3.2=N 3.3=Y 3.4=N", SOME),
    ("3.1=N 3.2=N 3.3=NI 3.4=PN", SOME),
    ("3.1=N 3.2=N 3.3=Y 3.4=Y", HIGH),
    ("3.1=N 3.2=N 3.3=PY 3.4=NI", HIGH),
    ("3.1=NI 3.2=N 3.3=NI 3.4=PY", HIGH),
]

# Domain 4, measurement of the outcome.
DOMAIN_4 = [
    ("4.1=Y", HIGH),  # inappropriate method
    ("4.1=PY 4.2=N", HIGH),
    ("4.1=N 4.2=Y", HIGH),  # measurement differed between groups
    ("4.1=NI 4.2=PY", HIGH),
    ("4.1=N 4.2=N 4.3=N", LOW),  # blinded assessors
    ("4.1=N 4.2=PN 4.3=Y 4.4=N", LOW),
    ("4.1=N 4.2=N 4.3=NI 4.4=PN", LOW),
    ("4.1=N 4.2=N 4.3=Y 4.4=Y 4.5=N", SOME),
    ("4.1=N 4.2=N 4.3=Y 4.4=NI 4.5=PN", SOME),
    ("4.1=N 4.2=N 4.3=Y 4.4=Y 4.5=Y", HIGH),
    ("4.1=N 4.2=N 4.3=PY 4.4=PY 4.5=NI", HIGH),
    ("4.1=N 4.2=NI 4.3=N", SOME),  # no information on 4.2: at best some concerns
    ("4.1=PN 4.2=NI 4.3=Y 4.4=N", SOME),
    ("4.1=N 4.2=NI 4.3=NI 4.4=Y 4.5=N", SOME),
    ("4.1=N 4.2=NI 4.3=Y 4.4=Y 4.5=Y", HIGH),
    ("4.1=N 4.2=NI 4.3=Y 4.4=NI 4.5=NI", HIGH),
]

# Domain 5, selection of the reported result: 5.2 and 5.3 first.
DOMAIN_5 = [
    ("5.1=Y 5.2=Y 5.3=N", HIGH),
    ("5.1=Y 5.2=N 5.3=PY", HIGH),
    ("5.1=N 5.2=NI 5.3=Y", HIGH),  # either Y/PY: high, whatever the other says
    ("5.1=Y 5.2=N 5.3=N", LOW),
    ("5.1=PY 5.2=PN 5.3=N", LOW),
    ("5.1=N 5.2=N 5.3=N", SOME),  # no pre-specified plan
    ("5.1=NI 5.2=PN 5.3=PN", SOME),
    ("5.1=Y 5.2=NI 5.3=N", SOME),  # at least one NI, neither Y/PY
    ("5.1=Y 5.2=N 5.3=NI", SOME),
    ("5.1=Y 5.2=NI 5.3=NI", SOME),
]


@pytest.mark.parametrize(
    ("domain", "tool", "answers", "expected"),
    [("D1", ASSIGNMENT, a, e) for a, e in DOMAIN_1]
    + [("D2", ASSIGNMENT, a, e) for a, e in DOMAIN_2_ASSIGNMENT]
    + [("D2", ADHERENCE, a, e) for a, e in DOMAIN_2_ADHERENCE]
    + [("D3", ASSIGNMENT, a, e) for a, e in DOMAIN_3]
    + [("D4", ASSIGNMENT, a, e) for a, e in DOMAIN_4]
    + [("D5", ASSIGNMENT, a, e) for a, e in DOMAIN_5],
)
def test_domain_algorithm_follows_the_published_figure(domain, tool, answers, expected):
    assert tool.propose(domain, _answers(answers)) == expected


@pytest.mark.parametrize(
    ("domain", "answers"),
    [
        ("D1", "1.1=Y 1.3=N"),  # 1.2 is where the figure starts
        ("D1", "1.2=Y 1.3=N"),  # concealed: 1.1 is needed next
        ("D2", "2.1=Y 2.2=Y 2.6=Y"),  # aware: 2.3 needed
        ("D3", "3.1=N 3.2=N"),
        ("D4", "4.1=N 4.2=N 4.3=Y"),
        ("D5", "5.2=N 5.3=N"),
    ],
)
def test_a_missing_answer_on_the_path_proposes_nothing(domain, answers):
    assert ASSIGNMENT.propose(domain, _answers(answers)) is None


def test_answers_off_the_path_do_not_matter():
    answers = _answers("2.1=N 2.2=N 2.3=NA 2.4=NA 2.5=NA 2.6=Y 2.7=NA")
    assert ASSIGNMENT.propose("D2", answers) == LOW


def test_not_applicable_where_the_path_needs_an_answer_proposes_nothing():
    assert ASSIGNMENT.propose("D1", _answers("1.1=Y 1.2=NA 1.3=N")) is None
    assert ASSIGNMENT.propose("D3", _answers("3.1=NA")) is None


def test_answers_are_read_ignoring_case_and_spaces():
    assert ASSIGNMENT.propose("D1", {"1.1": " y", "1.2": "py ", "1.3": "n"}) == LOW


@pytest.mark.parametrize(
    ("domains", "expected"),
    [
        ({"D1": LOW, "D2": LOW, "D3": LOW, "D4": LOW, "D5": LOW}, LOW),
        ({"D1": LOW, "D2": SOME, "D3": LOW, "D4": LOW, "D5": LOW}, SOME),
        ({"D1": SOME, "D2": SOME, "D3": SOME, "D4": LOW, "D5": LOW}, SOME),
        ({"D1": LOW, "D2": LOW, "D3": HIGH, "D4": LOW, "D5": SOME}, HIGH),
    ],
)
def test_overall_is_high_if_any_domain_is_high_low_only_if_all_are_low(domains, expected):
    assert ASSIGNMENT.propose_overall(domains) == expected


def test_overall_waits_for_every_domain():
    assert ASSIGNMENT.propose_overall({"D1": LOW, "D2": LOW}) is None


def test_rob2_rejects_an_unknown_effect():
    with pytest.raises(ValueError, match="assignment"):
        rob2("per_protocol")
