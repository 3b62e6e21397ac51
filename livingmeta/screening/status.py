"""Where screening stands: each record's state per stage, conflicts, PRISMA counts, kappa.

Rules (dual independent screening, Cochrane Handbook ch. 4):

- At a stage a record is ``included`` when at least ``reviewers_required`` independent
  decisions exist and all include, ``excluded`` when they all exclude, ``conflict`` when
  independent decisions disagree, ``pending`` otherwise.
- ``maybe`` counts as include at ``title_abstract`` (the record advances to full text so a
  doubt is resolved on the full text) but at ``full_text`` it means "not decided yet".
- A ``consensus`` decision settles the stage whatever the independent ones say (two
  consensus rows that disagree are a conflict).
- A record reaches a stage only when included at the previous one; included at the last
  stage means an included report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from livingmeta.screening import LINKED_TO_EXISTING, STAGES
from livingmeta.screening.kappa import Kappa, pair_kappa
from livingmeta.screening.queue import split_ids

NO_REASON = "(no reason given)"


@dataclass(frozen=True)
class Vote:
    """One decision as a reviewer entered it (``row``: its row in decisions.csv)."""

    reviewer: str
    decision: str
    reason: str = ""
    role: str = "independent"
    row: int | None = None

    def __str__(self) -> str:
        text = f"{self.reviewer}: {self.decision}"
        if self.reason:
            text += f" ({self.reason})"
        return text + (" [consensus]" if self.role == "consensus" else "")


@dataclass(frozen=True)
class Conflict:
    """A record whose decisions at a stage disagree, with who said what."""

    record_id: str
    stage: str
    votes: tuple[Vote, ...]

    def __str__(self) -> str:
        return f"{self.record_id} at {self.stage}: " + "; ".join(str(v) for v in self.votes)


@dataclass(frozen=True)
class StageSummary:
    """Counts at one stage (``screened`` = settled: included + excluded).

    ``pending_by_reviewer`` counts pending records a reviewer has no row for (what
    ``livingmeta screen`` offers them); ``maybe_by_reviewer`` counts pending full texts a
    reviewer marked ``maybe``, which they settle by editing their row.
    """

    stage: str
    eligible: int
    included: int
    excluded: int
    conflicts: int
    pending: int
    excluded_by_reason: dict[str, int] = field(default_factory=dict)
    pending_by_reviewer: dict[str, int] = field(default_factory=dict)
    maybe_by_reviewer: dict[str, int] = field(default_factory=dict)

    @property
    def screened(self) -> int:
        return self.included + self.excluded


@dataclass(frozen=True)
class IncludedReport:
    """A record included at the last stage; ``linked_to`` lists the record ids of the study
    it is a further report of (status ``linked_to_existing``), empty for a new study."""

    record_id: str
    linked_to: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)  # holds a DataFrame: compare fields, not objects
class ScreeningStatus:
    """The result of :func:`screening_status`.

    ``states`` has one row per record x stage the record reached: ``record_id, stage,
    state, reason`` (the exclusion reason counted for PRISMA).
    """

    reviewers_required: int
    stages: tuple[str, ...]
    states: pd.DataFrame
    conflicts: tuple[Conflict, ...]
    included_reports: tuple[IncludedReport, ...]
    summary: dict[str, StageSummary]
    kappa: dict[str, Kappa]
    reviewers: tuple[str, ...]

    def state(self, record_id: str, stage: str) -> str | None:
        """The record's state at ``stage``, ``None`` if it has not reached it."""
        rows = self.states[
            (self.states["record_id"] == record_id) & (self.states["stage"] == stage)
        ]
        return None if rows.empty else str(rows["state"].iloc[0])

    @property
    def prisma(self) -> dict[str, Any]:
        """PRISMA 2020 flow numbers (``None`` for a stage the review does not use)."""
        ta, ft = self.summary.get("title_abstract"), self.summary.get("full_text")
        last = self.summary[self.stages[-1]]
        return {
            "records_screened": ta.screened if ta else None,
            "records_excluded": ta.excluded if ta else None,
            "reports_assessed": ft.screened if ft else None,
            "reports_excluded": ft.excluded if ft else None,
            "reports_excluded_by_reason": dict(ft.excluded_by_reason) if ft else None,
            "reports_included": last.included,
            "reports_of_existing_studies": sum(bool(r.linked_to) for r in self.included_reports),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (for ``livingmeta status --json``)."""
        stages = {}
        for stage, summary in self.summary.items():
            kappa = self.kappa[stage]
            stages[stage] = {
                "eligible": summary.eligible,
                "screened": summary.screened,
                "included": summary.included,
                "excluded": summary.excluded,
                "excluded_by_reason": summary.excluded_by_reason,
                "pending": summary.pending,
                "pending_by_reviewer": summary.pending_by_reviewer,
                "maybe_by_reviewer": summary.maybe_by_reviewer,
                "conflicts": [
                    {"record_id": c.record_id, "decisions": [str(v) for v in c.votes]}
                    for c in self.conflicts
                    if c.stage == stage
                ],
                "kappa": kappa.kappa,
                "kappa_n": kappa.n,
                "kappa_reviewers": list(kappa.reviewers),
            }
        return {
            "reviewers_required": self.reviewers_required,
            "reviewers": list(self.reviewers),
            "stages": stages,
            "prisma": self.prisma,
            "included_reports": [
                {"record_id": r.record_id, "linked_to": list(r.linked_to)}
                for r in self.included_reports
            ],
        }


def effective(decision: str, stage: str) -> str | None:
    """What a decision counts as: ``maybe`` advances at title/abstract, is undecided later."""
    if decision == "maybe":
        return "include" if stage == "title_abstract" else None
    return decision


def screening_status(
    queue: pd.DataFrame,
    decisions: pd.DataFrame,
    reviewers_required: int,
    stages: tuple[str, ...] = STAGES,
    reasons: Sequence[str] = (),
) -> ScreeningStatus:
    """Settle every queued record's state per stage from the (validated) decisions.

    Parameters
    ----------
    queue
        From :func:`livingmeta.screening.queue.read_queue` (queue order is kept).
    decisions
        From :func:`livingmeta.screening.decisions.load_decisions`; decisions about
        records not in ``queue`` are ignored.
    reviewers_required
        Independent decisions needed to settle a stage.
    stages
        The stages the review uses, in order.
    reasons
        The configured exclusion reasons: ``excluded_by_reason`` lists them in this order
        (as PRISMA diagrams do), others after, most frequent first.
    """
    votes: dict[tuple[str, str], list[Vote]] = {}
    for rec in decisions.to_dict("records"):
        role = rec.get("role") or "independent"
        vote = Vote(rec["reviewer"], rec["decision"], rec.get("reason", ""), role, rec.get("row"))
        votes.setdefault((rec["record_id"], rec["stage"]), []).append(vote)
    reviewers = tuple(
        sorted({v.reviewer for vs in votes.values() for v in vs if v.role != "consensus"})
    )
    eligible = list(queue["record_id"])
    rows, conflicts, summary, kappa = [], [], {}, {}
    for stage in stages:
        counts: Counter[str] = Counter()
        excluded: Counter[str] = Counter()
        pending_by = dict.fromkeys(reviewers, 0)
        maybe_by: dict[str, int] = {}
        advanced = []
        for record_id in eligible:
            stage_votes = votes.get((record_id, stage), [])
            state, reason = _settle(stage_votes, stage, reviewers_required)
            rows.append({"record_id": record_id, "stage": stage, "state": state, "reason": reason})
            counts[state] += 1
            if state == "excluded":
                excluded[reason or NO_REASON] += 1
            elif state == "conflict":
                conflicts.append(Conflict(record_id, stage, tuple(stage_votes)))
            elif state == "included":
                advanced.append(record_id)
            else:
                decided = {v.reviewer for v in stage_votes if v.role == "independent"}
                for reviewer in pending_by:
                    pending_by[reviewer] += reviewer not in decided
                for v in stage_votes:
                    if v.role == "independent" and not effective(v.decision, stage):
                        maybe_by[v.reviewer] = maybe_by.get(v.reviewer, 0) + 1
        summary[stage] = StageSummary(
            stage, len(eligible), counts["included"], counts["excluded"], counts["conflict"],
            counts["pending"], _ordered(excluded, reasons), pending_by, maybe_by,
        )  # fmt: skip
        kappa[stage] = stage_kappa({r: votes.get((r, stage), []) for r in eligible}, stage)
        eligible = advanced
    linked = {
        rec["record_id"]: tuple(split_ids(rec["existing_record_ids"]))
        for rec in queue.to_dict("records")
        if rec.get("status") == LINKED_TO_EXISTING
    }
    included = tuple(IncludedReport(r, linked.get(r, ())) for r in eligible)
    states = pd.DataFrame(rows, columns=["record_id", "stage", "state", "reason"])
    return ScreeningStatus(
        reviewers_required, tuple(stages), states, tuple(conflicts), included, summary, kappa,
        reviewers,
    )  # fmt: skip


def _ordered(counts: Counter[str], reasons: Sequence[str]) -> dict[str, int]:
    rank = {reason: i for i, reason in enumerate(reasons)}
    items = counts.most_common()  # stable: ties keep first-seen order
    return dict(sorted(items, key=lambda item: rank.get(item[0], len(rank))))


def _settle(votes: list[Vote], stage: str, required: int) -> tuple[str, str]:
    """State and exclusion reason of one record at one stage."""
    consensus = [v for v in votes if v.role == "consensus" and effective(v.decision, stage)]
    deciding = consensus or [
        v for v in votes if v.role == "independent" and effective(v.decision, stage)
    ]
    kinds = {effective(v.decision, stage) for v in deciding}
    if len(kinds) > 1:
        return "conflict", ""
    if not consensus and len(deciding) < required:
        return "pending", ""
    if kinds == {"include"}:
        return "included", ""
    given = Counter(v.reason for v in deciding if v.reason)
    return "excluded", (given.most_common(1)[0][0] if given else "")


def stage_kappa(votes: dict[str, list[Vote]], stage: str) -> Kappa:
    """Cohen's kappa at ``stage``: independent decisions as they count there (``maybe``
    is include at title/abstract and left out at full text, where it is undecided)."""
    by_reviewer: dict[str, dict[str, str]] = {}
    for record_id, record_votes in votes.items():
        for v in record_votes:
            kind = effective(v.decision, stage)
            if v.role == "independent" and kind:
                by_reviewer.setdefault(v.reviewer, {})[record_id] = kind
    return pair_kappa(by_reviewer)
