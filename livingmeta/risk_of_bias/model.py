"""What a risk-of-bias tool is: levels, domains, signalling questions and its rules.

A tool is plain data plus two rules: one proposing a domain's judgement from the answers
to its signalling questions (the published algorithms of RoB 2 and the star thresholds of
Newcastle-Ottawa), and one proposing the overall judgement from the domains'. Tools
without an algorithm (ROBINS-I, custom tools) propose nothing for their domains, and the
assessor's judgement is taken as given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from livingmeta.risk_of_bias import OVERALL

#: Answers to RoB 2 and ROBINS-I signalling questions (``NA``: not applicable).
ANSWERS = ("Y", "PY", "PN", "N", "NI", "NA")
#: Risk classes every level maps to; they drive colours, symbols and sensitivity rules.
RISKS = ("low", "some", "high", "unknown")

Proposer = Callable[[Mapping[str, str]], str | None]


@dataclass(frozen=True)
class Level:
    """One judgement a domain can get (``key`` as written in files, ``label`` as printed).

    ``severity`` orders levels for the overall judgement (the worst domain decides);
    ``risk`` is the level's class (``low``, ``some``, ``high`` or ``unknown``), which the
    restricted sensitivity analysis and the plots' colours go by. An empty ``colour`` or
    ``symbol`` is robvis' for the risk class (:data:`RISK_STYLE`).
    """

    key: str
    label: str
    risk: str
    severity: int
    colour: str = ""
    symbol: str = ""

    def __post_init__(self) -> None:
        if self.risk not in RISKS:
            raise ValueError(f"level {self.key!r}: risk must be one of {', '.join(RISKS)}")
        colour, symbol = RISK_STYLE[self.risk]
        object.__setattr__(self, "colour", self.colour or colour)
        object.__setattr__(self, "symbol", self.symbol or symbol)


@dataclass(frozen=True)
class Question:
    """A signalling question (or a Newcastle-Ottawa item) and the answers it allows."""

    key: str
    text: str
    answers: tuple[str, ...] = ANSWERS


def questions(*pairs: tuple[str, str], answers: tuple[str, ...] = ANSWERS) -> tuple[Question, ...]:
    """Questions from ``(key, text)`` pairs, all allowing ``answers``."""
    return tuple(Question(key, text, answers) for key, text in pairs)


@dataclass(frozen=True)
class Domain:
    """A domain of bias; ``short`` is its heading in plots (``D1``, ``S``, ...)."""

    key: str
    label: str
    short: str
    questions: tuple[Question, ...] = ()

    def question(self, key: str) -> Question | None:
        """The question with ``key``, None if the domain declares no such question."""
        return next((q for q in self.questions if q.key == key), None)


def worst_level(levels: tuple[Level, ...], judgements: Mapping[str, str]) -> str | None:
    """The most severe of ``judgements`` (None when any is missing)."""
    by_key = {level.key: level for level in levels}
    chosen = [by_key[value] for value in judgements.values() if value in by_key]
    if not chosen or len(chosen) != len(judgements):
        return None
    return max(chosen, key=lambda level: level.severity).key


@dataclass(frozen=True, eq=False)  # holds functions: identity, not value, equality
class Tool:
    """A risk-of-bias tool.

    Parameters
    ----------
    key, label
        Its name in config and files, and as printed.
    levels
        The judgements, in the order legends list them.
    domains
        The domains, in the order plots show them (``overall`` is added by the tool).
    per_outcome
        True when judgements are made per result (RoB 2): assessment rows then name
        their outcome; otherwise a study's judgement holds for all its outcomes.
    proposers
        Domain key to the rule proposing its judgement from the answers to its questions.
    """

    key: str
    label: str
    levels: tuple[Level, ...]
    domains: tuple[Domain, ...]
    per_outcome: bool = False
    proposers: Mapping[str, Proposer] = field(default_factory=dict)

    def level(self, text: str) -> Level | None:
        """The level written as ``text`` (key or label, any case, spaces or underscores)."""
        wanted = _fold(text)
        return next((lv for lv in self.levels if wanted in (_fold(lv.key), _fold(lv.label))), None)

    def domain(self, key: str) -> Domain | None:
        """The domain with ``key`` (or its ``short`` heading), any case."""
        wanted = key.strip().casefold()
        return next(
            (d for d in self.domains if wanted in (d.key.casefold(), d.short.casefold())), None
        )

    @property
    def domain_keys(self) -> tuple[str, ...]:
        """Domain keys followed by ``overall``."""
        return (*(d.key for d in self.domains), OVERALL)

    def propose(self, domain: str, answers: Mapping[str, str]) -> str | None:
        """The judgement the tool's algorithm proposes for ``domain`` (None: no rule, or
        an answer the rule needs is missing)."""
        rule = self.proposers.get(domain)
        return rule(answers) if rule is not None else None

    def propose_overall(self, judgements: Mapping[str, str]) -> str | None:
        """The overall judgement: the most severe domain's (None until all are judged)."""
        if set(judgements) != {d.key for d in self.domains}:
            return None
        return worst_level(self.levels, judgements)


def _fold(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold()


# Colours and symbols of robvis (McGuinness & Higgins 2021), "cochrane" palette.
LOW_COLOUR = "#02C100"
SOME_COLOUR = "#E2DF07"
HIGH_COLOUR = "#BF0000"
CRITICAL_COLOUR = "#820000"
NO_INFORMATION_COLOUR = "#4EA1F7"
NOT_ASSESSED_COLOUR = "#D9D9D9"
DISPUTED_COLOUR = "#CDB5E8"
#: The colour and symbol of each risk class (a level may have its own, e.g. critical).
RISK_STYLE = {
    "low": (LOW_COLOUR, "+"),
    "some": (SOME_COLOUR, "-"),
    "high": (HIGH_COLOUR, "X"),
    "unknown": (NO_INFORMATION_COLOUR, "?"),
}


def three_levels(low: str, some: str, high: str, labels: tuple[str, str, str]) -> tuple[Level, ...]:
    """The usual low / intermediate / high scale with robvis' colours and symbols."""
    return (
        Level(low, labels[0], "low", 0),
        Level(some, labels[1], "some", 1),
        Level(high, labels[2], "high", 2),
    )
