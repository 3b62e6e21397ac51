"""The exit code of a run from everything it found; the most urgent code wins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from livingmeta.report.run_report import CHANGE_KINDS
from livingmeta.schedule.exit_codes import (
    EXIT_CHANGES,
    EXIT_ERROR,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_STALE,
    PRECEDENCE,
    ExitCode,
)
from livingmeta.schedule.findings import KIND_LABELS, ReviewChanges
from livingmeta.schedule.snakemake_log import FailedJob, is_invalid_data


@dataclass
class Decision:
    """The exit code of a run and every reason behind it (most urgent code wins)."""

    code: ExitCode
    reasons: list[str]
    reviews: list[ReviewChanges] = field(default_factory=list)
    failed_jobs: list[FailedJob] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.code = ExitCode(self.code)

    @property
    def meaning(self) -> str:
        return self.code.meaning

    @property
    def has_changes(self) -> bool:
        return any(r.has_changes for r in self.reviews)

    @property
    def changed_reviews(self) -> list[str]:
        return [r.review for r in self.reviews if r.has_changes]

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": int(self.code),
            "meaning": self.meaning,
            "has_changes": self.has_changes,
            "reasons": self.reasons,
            "reviews": [r.to_dict() for r in self.reviews],
            "failed_jobs": [asdict(j) | {"review": j.review} for j in self.failed_jobs],
        }


def decide(
    reviews: Sequence[ReviewChanges],
    *,
    snakemake_returncode: int = 0,
    failed_jobs: Sequence[FailedJob] = (),
    invalid: Sequence[str] = (),
    strict: bool = False,
) -> Decision:
    """The exit code of a run from what it found (see :mod:`livingmeta.schedule`).

    Parameters
    ----------
    reviews
        Findings per review (:func:`read_review_changes`; for a review with nothing
        new, its lasting source problems: :func:`read_source_problems`).
    snakemake_returncode
        Snakemake's exit status: non-zero with no failed job explained below is an
        unexpected error (e.g. a crash before any job ran).
    failed_jobs
        Jobs Snakemake reported as failed (:func:`parse_failed_jobs`). Validation failures
        give 30; a failed ``search_review`` in a ``strict`` run gives 20 (the source
        failure it was asked to make loud); anything else gives 1.
    invalid
        Validation problems found before Snakemake ran (invalid config,
        ``livingmeta validate``): each gives 30.
    strict
        Whether the run was strict (``retrieval.strict``).

    Returns
    -------
    Decision
        The most urgent code by :data:`PRECEDENCE` and the reasons for every code found.
    """
    found: dict[int, list[str]] = {}

    def add(code: int, reason: str) -> None:
        found.setdefault(code, []).append(reason)

    for message in invalid:
        add(EXIT_INVALID, message)
    for review in reviews:
        if review.has_changes:
            parts = [
                f"{review.counts[kind]} {KIND_LABELS[kind].lower()}"
                for kind in CHANGE_KINDS
                if review.counts[kind]
            ]
            add(EXIT_CHANGES, f"{review.review}: " + (", ".join(parts) or "changes"))
        for kind in ("failed_sources", "stale_sources"):
            if review.counts[kind]:
                add(EXIT_STALE, f"{review.review}: {review.counts[kind]} {kind.replace('_', ' ')}")
        if review.counts["invalid_data"]:
            add(EXIT_INVALID, f"{review.review}: invalid data")
    for job in failed_jobs:
        where = f"{job.rule} ({job.log})" if job.log else job.rule
        if is_invalid_data(job):
            add(EXIT_INVALID, f"invalid data: {where}")
        elif job.rule == "search_review" and strict:
            add(EXIT_STALE, f"strict retrieval failed: {where}")
        else:
            add(EXIT_ERROR, f"job failed: {where}")
    if snakemake_returncode != 0 and not failed_jobs and EXIT_INVALID not in found:
        add(EXIT_ERROR, f"snakemake exited with status {snakemake_returncode}")
    code = next(c for c in PRECEDENCE if c in found or c == EXIT_OK)
    reasons = [r for c in PRECEDENCE for r in found.get(c, [])]
    return Decision(code, reasons, list(reviews), list(failed_jobs))


def update_scope(review_ids: Sequence[str]) -> str:
    """The name in the update branch ``living-update/<scope>``: the review's id when the
    config holds one review, ``all`` otherwise. Fixed per config (not per run) so that
    successive runs update ONE pull request instead of opening new ones."""
    return review_ids[0] if len(review_ids) == 1 else "all"


def summary_text(decision: Decision, *, run_id: str | None = None) -> str:
    """A short plain-text summary (console, e-mail, webhook ``text``)."""
    head = f"livingmeta scheduled run{f' {run_id}' if run_id else ''}: "
    lines = [head + f"{decision.meaning} (exit code {decision.code})"]
    lines += [f"- {reason}" for reason in decision.reasons]
    return "\n".join(lines)
