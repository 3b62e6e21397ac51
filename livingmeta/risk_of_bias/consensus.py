"""Comparing independent assessments and settling them, as dual screening does.

A judgement is *settled* when a ``consensus.csv`` row gives it, or when the required
number of independent assessors gave the same level. Independent levels that differ
are a *disagreement*, listed until a consensus row settles it; fewer assessors than
required leave it *pending*. The overall judgement of a result whose domains are all
settled, and which no assessor overrode, is the tool's proposal from the settled
domains (so settling one domain does not need a second consensus row for the overall).
Only settled judgements reach outputs.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from livingmeta.risk_of_bias import CONSENSUS_FILE, OVERALL
from livingmeta.risk_of_bias.assessments import Assessment, Judgement, Key, load_assessment
from livingmeta.risk_of_bias.model import Level, Tool
from livingmeta.risk_of_bias.settings import RiskOfBiasSettings
from livingmeta.validation import InputError, Problem


@dataclass(frozen=True)
class Disagreement:
    """Independent judgements of one domain that differ: ``levels`` is (assessor, level)."""

    study_id: str
    outcome: str
    domain: str
    levels: tuple[tuple[str, str], ...]

    @property
    def key(self) -> Key:
        return (self.study_id, self.outcome, self.domain)

    def __str__(self) -> str:
        where = self.study_id + (f" ({self.outcome})" if self.outcome else "")
        said = "; ".join(f"{who}: {level}" for who, level in self.levels)
        return f"{where}, {self.domain}: {said}"


@dataclass(frozen=True)
class Settled:
    """A settled judgement and how: ``consensus``, ``agreement`` or ``proposal``."""

    level: str
    how: str
    judgements: tuple[Judgement, ...]


@dataclass(frozen=True, eq=False)
class RiskOfBiasStatus:
    """Where the risk-of-bias assessment of a review stands (see the module docstring)."""

    settings: RiskOfBiasSettings
    settled: dict[Key, Settled]
    disagreements: tuple[Disagreement, ...]
    pending: tuple[Key, ...]
    assessors: tuple[str, ...]

    def _rated(self, study_id: str, outcome: str) -> tuple[Tool, str] | None:
        """The tool rating a study and the outcome key its judgements are kept under
        (``""`` for a tool rating whole studies); None when the result is not rated."""
        tool = self.settings.tool_for(study_id)
        if tool is None:
            return None
        if tool.per_outcome and not self.settings.rates_outcome(study_id, outcome):
            return None
        return tool, outcome if tool.per_outcome else ""

    def judgements(self, study_id: str, outcome: str = "") -> dict[str, str]:
        """Settled levels of a study's result by domain key (``overall`` included).

        For a tool that rates whole studies the study's judgements are returned
        whatever ``outcome`` is asked for; nothing settled gives an empty mapping.
        """
        if (rated_by := self._rated(study_id, outcome)) is None:
            return {}
        tool, rated = rated_by
        found = {}
        for domain in tool.domain_keys:
            settled = self.settled.get((study_id, rated, domain))
            if settled is not None:
                found[domain] = settled.level
        return found

    def disputed(self, study_id: str, outcome: str = "") -> list[str]:
        """Domain keys of a study's result whose independent judgements differ, unsettled
        (chosen as :meth:`judgements` chooses the outcome)."""
        if (rated_by := self._rated(study_id, outcome)) is None:
            return []
        rated = rated_by[1]
        return [
            d.domain for d in self.disagreements if (d.study_id, d.outcome) == (study_id, rated)
        ]

    def disputed_by_label(
        self, studies: Sequence[tuple[str, str]], outcome: str = ""
    ) -> dict[str, list[str]]:
        """Disputed domains by study label (``studies``: id, label); undisputed left out."""
        found = {label: self.disputed(study_id, outcome) for study_id, label in studies}
        return {label: domains for label, domains in found.items() if domains}

    def overall(self, study_id: str, outcome: str = "") -> str | None:
        """The settled overall level of a study's result, None if not settled."""
        return self.judgements(study_id, outcome).get(OVERALL)

    def by_label(
        self, studies: Sequence[tuple[str, str]], outcome: str = ""
    ) -> dict[str, dict[str, str]]:
        """Settled judgements by study label (``studies``: id, label), for the plots."""
        return {label: self.judgements(study_id, outcome) for study_id, label in studies}

    def overall_levels(
        self, studies: Sequence[tuple[str, str]], outcome: str = ""
    ) -> dict[str, Level | None]:
        """Settled overall level by study label (None: not yet assessed), as
        :func:`~livingmeta.risk_of_bias.sensitivity.restricted_analysis` takes them."""
        levels: dict[str, Level | None] = {}
        for study_id, label in studies:
            tool, key = self.settings.tool_for(study_id), self.overall(study_id, outcome)
            levels[label] = tool.level(key) if tool is not None and key else None
        return levels

    def by_tool(
        self, studies: Sequence[tuple[str, str]]
    ) -> list[tuple[Tool, list[tuple[str, str]]]]:
        """Studies grouped by the tool rating them (one traffic-light plot per tool)."""
        groups: dict[str, tuple[Tool, list[tuple[str, str]]]] = {}
        for study in studies:
            tool = self.settings.tool_for(study[0])
            if tool is not None:
                groups.setdefault(tool.key, (tool, []))[1].append(study)
        return list(groups.values())


def overall_kappa(
    settings: RiskOfBiasSettings, assessments: Sequence[Assessment]
) -> tuple[float | None, int]:
    """Cohen's kappa of the first two assessors' independent overall judgements.

    Judgements are compared by risk class (low, some, high, unknown), so studies rated
    with different tools count together. Returns the kappa (None when undefined, as in
    :func:`livingmeta.screening.kappa.cohens_kappa`) and the number of results compared.
    """
    from livingmeta.risk_of_bias.model import RISKS
    from livingmeta.screening.kappa import cohens_kappa

    if len(assessments) < 2:
        return None, 0
    first, second = (a.by_key() for a in assessments[:2])
    index = {risk: i for i, risk in enumerate(RISKS)}
    table = [[0] * len(RISKS) for _ in RISKS]
    shared = [k for k in first.keys() & second.keys() if k[2] == OVERALL]
    for key in shared:
        tool = settings.tool_for(key[0])
        a, b = (tool.level(j[key].level) if tool else None for j in (first, second))
        if a is not None and b is not None:
            table[index[a.risk]][index[b.risk]] += 1
    return cohens_kappa(table), len(shared)


def compare(
    settings: RiskOfBiasSettings,
    assessments: Sequence[Assessment],
    consensus: Assessment | None = None,
) -> RiskOfBiasStatus:
    """Settle what the assessors agree on, list what they do not.

    Parameters
    ----------
    settings
        Gives the tools and ``assessors_required``.
    assessments
        One per independent assessor.
    consensus
        The ``consensus.csv`` rows, which settle whatever they name.
    """
    by_key: dict[Key, list[Judgement]] = {}
    for assessment in assessments:
        for judgement in assessment.judgements:
            by_key.setdefault(judgement.key, []).append(judgement)
    agreed = consensus.by_key() if consensus is not None else {}
    settled: dict[Key, Settled] = {
        k: Settled(j.level, "consensus", (j,)) for k, j in agreed.items()
    }
    disagreements, pending = [], []
    for key in sorted(by_key.keys() - agreed.keys(), key=_order):
        judgements = by_key[key]
        levels = {j.level for j in judgements}
        if len(levels) > 1:
            if key[2] == OVERALL and _proposal(settings, key, judgements, settled):
                continue
            said = tuple((j.assessor, j.level) for j in judgements)
            disagreements.append(Disagreement(*key, levels=said))
        elif len(judgements) >= settings.assessors_required:
            settled[key] = Settled(judgements[0].level, "agreement", tuple(judgements))
        else:
            pending.append(key)
    return RiskOfBiasStatus(
        settings=settings,
        settled=settled,
        disagreements=tuple(disagreements),
        pending=tuple(pending),
        assessors=tuple(a.assessor for a in assessments),
    )


def _order(key: Key) -> tuple[str, str, bool, str]:
    # overall last within a result, so it sees its settled domains
    return (key[0], key[1], key[2] == OVERALL, key[2])


def _proposal(
    settings: RiskOfBiasSettings,
    key: Key,
    judgements: Sequence[Judgement],
    settled: dict[Key, Settled],
) -> bool:
    """Settle an overall judgement from the settled domains when nobody overrode it."""
    tool = settings.tool_for(key[0])
    if tool is None or any(j.overridden for j in judgements):
        return False
    domains = {d.key: settled.get((key[0], key[1], d.key)) for d in tool.domains}
    if any(s is None for s in domains.values()):
        return False
    level = tool.propose_overall({k: s.level for k, s in domains.items() if s is not None})
    if level is None:
        return False
    settled[key] = Settled(level, "proposal", tuple(judgements))
    return True


def load_folder(
    folder: str | os.PathLike[str],
    settings: RiskOfBiasSettings,
    *,
    roster: Sequence[str] | None = None,
    studies: Collection[str] | None = None,
    outcomes: Collection[str] | None = None,
) -> RiskOfBiasStatus:
    """Read every assessor's file of ``folder`` and ``consensus.csv``, and compare them.

    A missing or empty folder means nothing is assessed yet. Every file is validated
    before anything is compared; all problems are raised together.

    Raises
    ------
    InputError
        Listing the problems of every file (see :func:`load_assessment`).
    """
    files = sorted(Path(folder).glob("*.csv")) if Path(folder).is_dir() else []
    assessments: list[Assessment] = []
    consensus: Assessment | None = None
    problems: list[Problem] = []
    for path in files:
        try:
            assessment = load_assessment(
                path, settings, roster=roster, studies=studies, outcomes=outcomes
            )
        except InputError as exc:
            problems += exc.problems
            continue
        if path.name == CONSENSUS_FILE:
            consensus = assessment
        else:
            assessments.append(assessment)
    if problems:
        raise InputError(problems)
    return compare(settings, assessments, consensus)
