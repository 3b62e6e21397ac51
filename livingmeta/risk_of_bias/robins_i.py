"""ROBINS-I (Sterne et al., BMJ 2016;355:i4919): seven domains and the overall rule.

The 2016 tool publishes no algorithm from signalling questions to domain judgements, so
assessors judge each domain themselves (answers can still be recorded as support). The
overall judgement follows the tool's guidance: critical if any domain is critical,
serious if any is serious, otherwise no information if any domain lacks information,
otherwise moderate unless every domain is low.
"""

from __future__ import annotations

from livingmeta.risk_of_bias.model import CRITICAL_COLOUR, Domain, Level, Tool

# Severity puts "no information" between moderate and serious, as the overall rule does.
LEVELS = (
    Level("low", "Low", "low", 0),
    Level("moderate", "Moderate", "some", 1),
    Level("serious", "Serious", "high", 3),
    Level("critical", "Critical", "high", 4, CRITICAL_COLOUR, "!"),
    Level("no_information", "No information", "unknown", 2),
)

DOMAINS = (
    Domain("D1", "Bias due to confounding", "D1"),
    Domain("D2", "Bias in selection of participants into the study", "D2"),
    Domain("D3", "Bias in classification of interventions", "D3"),
    Domain("D4", "Bias due to deviations from intended interventions", "D4"),
    Domain("D5", "Bias due to missing data", "D5"),
    Domain("D6", "Bias in measurement of outcomes", "D6"),
    Domain("D7", "Bias in selection of the reported result", "D7"),
)


def robins_i() -> Tool:
    """The ROBINS-I tool (judged per result, like RoB 2)."""
    return Tool(key="robins_i", label="ROBINS-I", levels=LEVELS, domains=DOMAINS, per_outcome=True)
