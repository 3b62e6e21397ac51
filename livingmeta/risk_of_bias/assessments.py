"""One assessor's risk-of-bias file: reading, validating and turning it into judgements.

``reviews/<id>/risk_of_bias/<assessor>.csv`` (the file's name is the assessor's), one row
per answer or judgement:

- an *answer* row names a ``question`` (a signalling question such as ``1.2``, or a
  Newcastle-Ottawa item such as ``S1``) and its ``answer`` (``Y``/``PY``/``PN``/``N``/
  ``NI``/``NA``, or a number of stars);
- a *judgement* row leaves ``question`` empty and gives the domain's ``judgement``
  (a level of the tool). Without one, the tool's algorithm proposes the judgement from
  the answers; a judgement that differs from the proposal needs an ``override_reason``.
  Domain ``overall`` is proposed as the worst domain's.

``support`` (a quote) and ``page`` say where each answer or judgement comes from.
``consensus.csv`` has the same columns plus ``agreed_by``: the assessors who settled it.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from livingmeta.config_messages import did_you_mean
from livingmeta.extraction import read_table, row_number
from livingmeta.risk_of_bias import CONSENSUS_FILE, OVERALL
from livingmeta.risk_of_bias.model import ANSWERS, Tool
from livingmeta.risk_of_bias.settings import RiskOfBiasSettings
from livingmeta.roster import (
    RISK_OF_BIAS_PEOPLE,
    names_in,
    not_a_reviewer,
    report_off_roster,
    signed_names,
)
from livingmeta.validation import InputError, Problem, Report, is_date, row_reporter

ASSESSMENT_COLUMNS = (
    "study_id",
    "outcome",
    "domain",
    "question",
    "answer",
    "judgement",
    "override_reason",
    "support",
    "page",
    "date",
    "note",
)
CONSENSUS_COLUMNS = (*ASSESSMENT_COLUMNS, "agreed_by")
REQUIRED_COLUMNS = ("study_id", "domain")

#: (study_id, outcome, domain); outcome is "" for tools that rate whole studies.
Key = tuple[str, str, str]


@dataclass(frozen=True)
class Judgement:
    """A domain's (or the overall) judgement as one file states it.

    ``level`` is the judgement given, or else the one ``proposed`` by the tool's
    algorithm; ``row`` points at the judgement row (None when only proposed).
    """

    study_id: str
    outcome: str
    domain: str
    level: str
    proposed: str | None = None
    override_reason: str = ""
    support: str = ""
    page: str = ""
    assessor: str = ""
    file: str = ""
    row: int | None = None

    @property
    def key(self) -> Key:
        return (self.study_id, self.outcome, self.domain)

    @property
    def overridden(self) -> bool:
        """True when the assessor departed from the algorithm's proposal."""
        return self.proposed is not None and self.level != self.proposed


@dataclass(frozen=True)
class Assessment:
    """One file's judgements, and the answers behind them (``{key: {question: answer}}``)."""

    assessor: str
    file: str
    judgements: tuple[Judgement, ...]
    answers: dict[Key, dict[str, str]] = field(default_factory=dict)
    agreed_by: dict[Key, tuple[str, ...]] = field(default_factory=dict)

    def by_key(self) -> dict[Key, Judgement]:
        return {j.key: j for j in self.judgements}


@dataclass
class _Parsed:
    """Rows of one file, sorted by role, while it is being read."""

    answers: dict[Key, dict[str, str]] = field(default_factory=dict)
    rows: dict[Key, dict[str, Any]] = field(default_factory=dict)
    tools: dict[tuple[str, str], Tool] = field(default_factory=dict)
    agreed_by: dict[Key, tuple[str, ...]] = field(default_factory=dict)


def load_assessment(
    path: str | os.PathLike[str],
    settings: RiskOfBiasSettings,
    *,
    roster: Sequence[str] | None = None,
    studies: Collection[str] | None = None,
    outcomes: Collection[str] | None = None,
) -> Assessment:
    """Read and validate one assessor's file (or ``consensus.csv``).

    Parameters
    ----------
    path
        ``risk_of_bias/<assessor>.csv``; its stem is the assessor's name.
    settings
        Which tool rates which study (:func:`settings_from_config`).
    roster
        The review's reviewers (compared ignoring case); None skips the check.
    studies, outcomes
        Included study ids and declared outcome names; None skips those checks.

    Raises
    ------
    InputError
        Every problem with file, row and column: unknown study, outcome, domain, question,
        answer or level, a second row for the same thing, a judgement departing from the
        algorithm without a reason, an assessor not on the roster.
    """
    file = str(path)
    consensus = Path(path).name == CONSENSUS_FILE
    assessor = "consensus" if consensus else Path(path).stem
    required = (*REQUIRED_COLUMNS, "agreed_by") if consensus else REQUIRED_COLUMNS
    frame = read_table(path, required=required, columns=CONSENSUS_COLUMNS)
    problems = _roster_problems(assessor, file, roster, consensus)
    parsed = _Parsed()
    checks = _RowChecks(file, settings, roster, studies, outcomes, consensus)
    for pos, record in enumerate(frame.to_dict("records")):
        problems += checks.check(record, row_number(frame, pos), parsed)
    if problems:
        raise InputError(problems)
    judgements, problems = _judgements(parsed, assessor, file)
    if problems:
        raise InputError(problems)
    return Assessment(assessor, file, tuple(judgements), parsed.answers, parsed.agreed_by)


def _roster_problems(
    assessor: str, file: str, roster: Sequence[str] | None, consensus: bool
) -> list[Problem]:
    if consensus or roster is None or assessor.casefold() in {r.casefold() for r in roster}:
        return []
    # Worded as livingmeta validate's roster check, which reports the same file.
    message = f"assessor (the file's name): {not_a_reviewer(assessor, roster)}"
    return [Problem(file, None, None, message)]


@dataclass(frozen=True)
class _RowChecks:
    file: str
    settings: RiskOfBiasSettings
    roster: Sequence[str] | None
    studies: Collection[str] | None
    outcomes: Collection[str] | None
    consensus: bool

    def check(self, record: dict[str, str], row: int, parsed: _Parsed) -> list[Problem]:
        """Problems of one row; a valid row is filed into ``parsed``."""
        problems: list[Problem] = []
        bad = row_reporter(self.file, row, problems)
        tool = self._study(record, bad)
        if tool is None:
            return problems
        outcome = self._outcome(record, tool, bad)
        domain = self._domain(record, tool, bad)
        if record["date"] and not is_date(record["date"]):
            bad("date", f"{record['date']!r} is not a date written YYYY-MM-DD")
        if self.consensus:
            self._agreed_by(record, bad)
        if problems or outcome is None or domain is None:
            return problems
        key = (record["study_id"], outcome, domain)
        parsed.tools[key[:2]] = tool
        if record["question"]:
            self._answer(record, tool, domain, key, parsed, bad)
        else:
            self._judgement(record, tool, key, row, parsed, bad)
        if self.consensus and not problems:
            parsed.agreed_by[key] = signed_names(record["agreed_by"], self.roster)
        return problems

    def _study(self, record: dict[str, str], bad: Report) -> Tool | None:
        study = record["study_id"]
        if not study:
            bad("study_id", "empty")
            return None
        if self.studies is not None and study not in self.studies:
            bad("study_id", f"study {study!r} is not an included study (studies.csv)")
            return None
        tool = self.settings.tool_for(study)
        if tool is None:
            bad("study_id", f"no tool of risk_of_bias.tools rates study {study!r}")
        return tool

    def _outcome(self, record: dict[str, str], tool: Tool, bad: Report) -> str | None:
        outcome = record["outcome"]
        if not tool.per_outcome:
            if outcome:
                bad("outcome", f"{tool.label} rates whole studies: leave outcome empty")
                return None
            return ""
        if not outcome:
            bad("outcome", f"empty; {tool.label} rates each outcome's result")
            return None
        if self.outcomes is not None and outcome not in self.outcomes:
            hint = did_you_mean(outcome, self.outcomes)
            bad(
                "outcome",
                f"unknown outcome {outcome!r}; declared: {', '.join(self.outcomes)}{hint}",
            )
            return None
        if not self.settings.rates_outcome(record["study_id"], outcome):
            bad("outcome", f"outcome {outcome!r} is not rated (risk_of_bias.tools outcomes)")
            return None
        return outcome

    def _domain(self, record: dict[str, str], tool: Tool, bad: Report) -> str | None:
        text = record["domain"]
        if text.casefold() == OVERALL:
            return OVERALL
        domain = tool.domain(text) if text else None
        if domain is None:
            allowed = ", ".join(tool.domain_keys)
            bad("domain", f"{text!r} is not a domain of {tool.label}; one of: {allowed}")
            return None
        return domain.key

    def _agreed_by(self, record: dict[str, str], bad: Report) -> None:
        if not names_in(record["agreed_by"]):
            bad("agreed_by", "empty; name the assessors who agreed, separated by ';'")
        report_off_roster(record, RISK_OF_BIAS_PEOPLE, self.roster, bad)

    def _answer(
        self,
        record: dict[str, str],
        tool: Tool,
        domain: str,
        key: Key,
        parsed: _Parsed,
        bad: Report,
    ) -> None:
        question, answer = record["question"], record["answer"].strip()
        if domain == OVERALL:
            bad("question", "the overall judgement has no questions")
            return
        if record["judgement"]:
            bad("judgement", "give the judgement on its own row (question empty)")
        declared = tool.domain(domain)
        spec = declared.question(question) if declared else None
        if declared is not None and declared.questions and spec is None:
            keys = ", ".join(q.key for q in declared.questions)
            bad("question", f"{question!r} is not a question of {domain}; one of: {keys}")
            return
        allowed = spec.answers if spec is not None else ANSWERS
        if answer.upper() not in allowed:
            bad("answer", f"{answer!r} is not one of {', '.join(allowed)}")
            return
        answers = parsed.answers.setdefault(key, {})
        if question in answers:
            bad("question", f"second answer to {question} for {_where(key)}")
            return
        answers[question] = answer.upper()

    def _judgement(
        self, record: dict[str, str], tool: Tool, key: Key, row: int, parsed: _Parsed, bad: Report
    ) -> None:
        text = record["judgement"]
        if text and tool.level(text) is None:
            levels = ", ".join(level.key for level in tool.levels)
            bad("judgement", f"{text!r} is not a level of {tool.label}; one of: {levels}")
            return
        if key in parsed.rows:
            first = parsed.rows[key]["row"]
            bad("judgement", f"second judgement of {_where(key)}; first at row {first}")
            return
        parsed.rows[key] = {**record, "row": row, "level": tool.level(text).key if text else ""}


def _where(key: Key) -> str:
    study, outcome, domain = key
    return f"{domain} of {study}" + (f" ({outcome})" if outcome else "")


def _judgements(parsed: _Parsed, assessor: str, file: str) -> tuple[list[Judgement], list[Problem]]:
    """Each domain's judgement (given or proposed), then the overall one, per result."""
    judgements: list[Judgement] = []
    problems: list[Problem] = []
    for (study, outcome), tool in parsed.tools.items():
        levels: dict[str, str] = {}
        for domain in tool.domains:
            key = (study, outcome, domain.key)
            proposed = tool.propose(domain.key, parsed.answers.get(key, {}))
            judgement = _settle(key, proposed, parsed.rows.get(key), assessor, file, problems)
            if judgement is not None:
                levels[domain.key] = judgement.level
                judgements.append(judgement)
        key = (study, outcome, OVERALL)
        proposed = tool.propose_overall(levels)
        judgement = _settle(key, proposed, parsed.rows.get(key), assessor, file, problems)
        if judgement is not None:
            judgements.append(judgement)
    return judgements, problems


def _settle(
    key: Key,
    proposed: str | None,
    row: dict[str, Any] | None,
    assessor: str,
    file: str,
    problems: list[Problem],
) -> Judgement | None:
    given = row["level"] if row else ""
    level = given or proposed
    if not level:
        return None
    reason = row["override_reason"] if row else ""
    if given and proposed and given != proposed and not reason:
        message = (
            f"the tool's algorithm proposes {proposed!r} for {_where(key)} from the answers; "
            f"judging {given!r} needs a reason"
        )
        problems.append(Problem(file, row["row"], "override_reason", message))
    return Judgement(
        *key,
        level=level,
        proposed=proposed,
        override_reason=reason,
        support=row["support"] if row else "",
        page=row["page"] if row else "",
        assessor=assessor,
        file=file,
        row=row["row"] if row else None,
    )
