"""Newcastle-Ottawa scale (Wells et al.) for cohort and case-control studies.

Stars are awarded per item (one at most, two for comparability); a category's judgement
and the overall one follow the AHRQ conversion used by most reviews (e.g. Penson et al.,
AHRQ 2012): *good* with 3-4 stars in selection, 1-2 in comparability and 2-3 in
outcome/exposure; *fair* with 2 in selection and the other two as for good; *poor* with
0-1 in selection, 0 in comparability or 0-1 in outcome/exposure. Judging each category
by those thresholds and taking the worst gives exactly that conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from livingmeta.risk_of_bias.model import Domain, Tool, questions, three_levels

GOOD, FAIR, POOR = "good", "fair", "poor"
LEVELS = three_levels(GOOD, FAIR, POOR, ("Good", "Fair", "Poor"))
ONE_STAR = ("0", "1")
TWO_STARS = ("0", "1", "2")


_items = partial(questions, answers=ONE_STAR)


_COMPARABILITY = Domain(
    "comparability",
    "Comparability",
    "C",
    _items(
        (
            "C1",
            "Comparability on the basis of the design or analysis (a star for the most "
            "important factor, a second for any additional factor)",
        ),
        answers=TWO_STARS,
    ),
)
COHORT_DOMAINS = (
    Domain(
        "selection",
        "Selection",
        "S",
        _items(
            ("S1", "Representativeness of the exposed cohort"),
            ("S2", "Selection of the non-exposed cohort"),
            ("S3", "Ascertainment of exposure"),
            ("S4", "Demonstration that the outcome of interest was not present at start"),
        ),
    ),
    _COMPARABILITY,
    Domain(
        "outcome",
        "Outcome",
        "O",
        _items(
            ("O1", "Assessment of outcome"),
            ("O2", "Was follow-up long enough for outcomes to occur"),
            ("O3", "Adequacy of follow-up of cohorts"),
        ),
    ),
)
CASE_CONTROL_DOMAINS = (
    Domain(
        "selection",
        "Selection",
        "S",
        _items(
            ("S1", "Is the case definition adequate"),
            ("S2", "Representativeness of the cases"),
            ("S3", "Selection of controls"),
            ("S4", "Definition of controls"),
        ),
    ),
    _COMPARABILITY,
    Domain(
        "exposure",
        "Exposure",
        "E",
        _items(
            ("E1", "Ascertainment of exposure"),
            ("E2", "Same method of ascertainment for cases and controls"),
            ("E3", "Non-response rate"),
        ),
    ),
)

# Lowest star count of each category's judgement: (good, fair); below fair is poor.
THRESHOLDS = {"selection": (3, 2), "comparability": (1, 1), "outcome": (2, 2), "exposure": (2, 2)}


def stars(domain: Domain, answers: Mapping[str, str]) -> int | None:
    """Stars of a category (None until every item is answered with an allowed count)."""
    total = 0
    for item in domain.questions:
        value = answers.get(item.key, "").strip()
        if value not in item.answers:
            return None
        total += int(value)
    return total


def total_stars(tool: Tool, answers: Mapping[str, Mapping[str, str]]) -> int | None:
    """A study's total (0-9) from ``{domain key: {item: stars}}``; None if incomplete."""
    total = 0
    for domain in tool.domains:
        count = stars(domain, answers.get(domain.key, {}))
        if count is None:
            return None
        total += count
    return total


def _category_rule(domain: Domain) -> Callable[[Mapping[str, str]], str | None]:
    good, fair = THRESHOLDS[domain.key]

    def propose(answers: Mapping[str, str]) -> str | None:
        count = stars(domain, answers)
        if count is None:
            return None
        return GOOD if count >= good else FAIR if count >= fair else POOR

    return propose


def _tool(key: str, label: str, domains: tuple[Domain, ...]) -> Tool:
    rules = {domain.key: _category_rule(domain) for domain in domains}
    return Tool(key=key, label=label, levels=LEVELS, domains=domains, proposers=rules)


def nos_cohort() -> Tool:
    """Newcastle-Ottawa scale for cohort studies (a study-level judgement)."""
    return _tool("nos_cohort", "Newcastle-Ottawa scale (cohort studies)", COHORT_DOMAINS)


def nos_case_control() -> Tool:
    """Newcastle-Ottawa scale for case-control studies (a study-level judgement)."""
    return _tool(
        "nos_case_control", "Newcastle-Ottawa scale (case-control studies)", CASE_CONTROL_DOMAINS
    )
