"""ROBINS-I (Sterne et al., BMJ 2016;355:i4919): seven domains, their signalling questions
and the overall rule.

The 34 signalling questions (1.1-1.8, 2.1-2.5, 3.1-3.3, 4.1-4.6, 5.1-5.5, 6.1-6.4,
7.1-7.3) are worded as in the tool's published template (riskofbias.info, 2016: "The Risk
Of Bias In Non-randomized Studies of Interventions (ROBINS-I) assessment tool, version for
cohort-type studies") and its detailed guidance (Sterne, Higgins, Elbers, Reeves, October
2016), checked against the template as reproduced in Cochrane reviews that used it (e.g.
CD010682, 2021). Domain 7's shared stem ("Is the reported effect estimate likely to be
selected, on the basis of the results, from ...") is written out in each question. A
condition the template writes into a question ("If Y/PY to 1.4: ...") is kept in its text;
the template's routing between questions is not: after N/PN to 1.1 no further question of
domain 1 is needed; N/PN to 1.2 or 1.3 leads to the baseline-confounding questions
1.4-1.6, Y/PY to 1.3 to 1.7-1.8; 4.1-4.2 are answered when the effect of interest is that
of assignment to intervention, 4.3-4.6 when it is that of starting and adhering to it.

Answers are those the template offers: Y/PY/PN/N for 1.1 (no "no information"), ``NA``
also for the conditional questions and for all of domain 1 after 1.1 and domain 4, whose
questions the routing may skip, Y/PY/PN/N/NI for the others.

The 2016 tool publishes no algorithm from signalling questions to domain judgements, so
assessors judge each domain themselves and the answers are recorded as support. The
overall judgement follows the tool's guidance: critical if any domain is critical,
serious if any is serious, otherwise no information if any domain lacks information,
otherwise moderate unless every domain is low.
"""

from __future__ import annotations

from livingmeta.risk_of_bias.model import (
    ANSWERS,
    CRITICAL_COLOUR,
    Domain,
    Level,
    Question,
    Tool,
    questions,
)

# Severity puts "no information" between moderate and serious, as the overall rule does.
LEVELS = (
    Level("low", "Low", "low", 0),
    Level("moderate", "Moderate", "some", 1),
    Level("serious", "Serious", "high", 3),
    Level("critical", "Critical", "high", 4, CRITICAL_COLOUR, "!"),
    Level("no_information", "No information", "unknown", 2),
)

#: Answers to the questions asked of every study (no "not applicable").
ASKED = tuple(a for a in ANSWERS if a != "NA")
#: Answers to question 1.1, which the template offers without "no information".
CONFOUNDING_ANSWERS = ("Y", "PY", "PN", "N")
_REPORTED = "Is the reported effect estimate likely to be selected, on the basis of the results,"
_MEASURED = (
    "Were confounding domains that were controlled for measured validly and reliably by the "
    "variables available in this study?"
)


def _asked(*pairs: tuple[str, str]) -> tuple[Question, ...]:
    """Questions asked of every study: NA is not one of their answers."""
    return questions(*pairs, answers=ASKED)


D1_CONFOUNDING = (
    Question(
        "1.1",
        "Is there potential for confounding of the effect of intervention in this study?",
        CONFOUNDING_ANSWERS,
    ),
    *questions(
        (
            "1.2",
            "If Y/PY to 1.1: Was the analysis based on splitting participants' follow up "
            "time according to intervention received?",
        ),
        (
            "1.3",
            "Were intervention discontinuations or switches likely to be related to factors "
            "that are prognostic for the outcome?",
        ),
        (
            "1.4",
            "Did the authors use an appropriate analysis method that controlled for all the "
            "important confounding domains?",
        ),
        ("1.5", f"If Y/PY to 1.4: {_MEASURED}"),
        (
            "1.6",
            "Did the authors control for any post-intervention variables that could have "
            "been affected by the intervention?",
        ),
        (
            "1.7",
            "Did the authors use an appropriate analysis method that controlled for all the "
            "important confounding domains and for time-varying confounding?",
        ),
        ("1.8", f"If Y/PY to 1.7: {_MEASURED}"),
    ),
)
D2_SELECTION = (
    *_asked(
        (
            "2.1",
            "Was selection of participants into the study (or into the analysis) based on "
            "participant characteristics observed after the start of intervention?",
        ),
    ),
    *questions(
        (
            "2.2",
            "If Y/PY to 2.1: Were the post-intervention variables that influenced selection "
            "likely to be associated with intervention?",
        ),
        (
            "2.3",
            "If Y/PY to 2.2: Were the post-intervention variables that influenced selection "
            "likely to be influenced by the outcome or a cause of the outcome?",
        ),
    ),
    *_asked(
        ("2.4", "Do start of follow-up and start of intervention coincide for most participants?")
    ),
    *questions(
        (
            "2.5",
            "If Y/PY to 2.2 and 2.3, or N/PN to 2.4: Were adjustment techniques used that "
            "are likely to correct for the presence of selection biases?",
        ),
    ),
)
D3_CLASSIFICATION = _asked(
    ("3.1", "Were intervention groups clearly defined?"),
    (
        "3.2",
        "Was the information used to define intervention groups recorded at the start of "
        "the intervention?",
    ),
    (
        "3.3",
        "Could classification of intervention status have been affected by knowledge of "
        "the outcome or risk of the outcome?",
    ),
)
# Which half of domain 4 applies depends on the effect of interest (assignment: 4.1-4.2;
# starting and adhering: 4.3-4.6), so each of its questions may be not applicable.
D4_DEVIATIONS = questions(
    (
        "4.1",
        "Were there deviations from the intended intervention beyond what would be "
        "expected in usual practice?",
    ),
    (
        "4.2",
        "If Y/PY to 4.1: Were these deviations from intended intervention unbalanced "
        "between groups and likely to have affected the outcome?",
    ),
    ("4.3", "Were important co-interventions balanced across intervention groups?"),
    ("4.4", "Was the intervention implemented successfully for most participants?"),
    ("4.5", "Did study participants adhere to the assigned intervention regimen?"),
    (
        "4.6",
        "If N/PN to 4.3, 4.4 or 4.5: Was an appropriate analysis used to estimate the "
        "effect of starting and adhering to the intervention?",
    ),
)
_AFTER_MISSING = "If PN/N to 5.1, or Y/PY to 5.2 or 5.3:"
D5_MISSING = (
    *_asked(
        ("5.1", "Were outcome data available for all, or nearly all, participants?"),
        ("5.2", "Were participants excluded due to missing data on intervention status?"),
        (
            "5.3",
            "Were participants excluded due to missing data on other variables needed for "
            "the analysis?",
        ),
    ),
    *questions(
        (
            "5.4",
            f"{_AFTER_MISSING} Are the proportion of participants and reasons for missing "
            "data similar across interventions?",
        ),
        (
            "5.5",
            f"{_AFTER_MISSING} Is there evidence that results were robust to the presence "
            "of missing data?",
        ),
    ),
)
D6_MEASUREMENT = _asked(
    (
        "6.1",
        "Could the outcome measure have been influenced by knowledge of the intervention received?",
    ),
    ("6.2", "Were outcome assessors aware of the intervention received by study participants?"),
    ("6.3", "Were the methods of outcome assessment comparable across intervention groups?"),
    (
        "6.4",
        "Were any systematic errors in measurement of the outcome related to intervention "
        "received?",
    ),
)
D7_REPORTING = _asked(
    ("7.1", f"{_REPORTED} from multiple outcome measurements within the outcome domain?"),
    ("7.2", f"{_REPORTED} from multiple analyses of the intervention-outcome relationship?"),
    ("7.3", f"{_REPORTED} from different subgroups?"),
)

DOMAINS = (
    Domain("D1", "Bias due to confounding", "D1", D1_CONFOUNDING),
    Domain("D2", "Bias in selection of participants into the study", "D2", D2_SELECTION),
    Domain("D3", "Bias in classification of interventions", "D3", D3_CLASSIFICATION),
    Domain("D4", "Bias due to deviations from intended interventions", "D4", D4_DEVIATIONS),
    Domain("D5", "Bias due to missing data", "D5", D5_MISSING),
    Domain("D6", "Bias in measurement of outcomes", "D6", D6_MEASUREMENT),
    Domain("D7", "Bias in selection of the reported result", "D7", D7_REPORTING),
)


def robins_i() -> Tool:
    """The ROBINS-I tool (judged per result, like RoB 2)."""
    return Tool(key="robins_i", label="ROBINS-I", levels=LEVELS, domains=DOMAINS, per_outcome=True)
