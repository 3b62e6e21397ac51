"""A review's screening settings (``screening:`` in its config entry) and file locations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.roster import review_roster
from livingmeta.screening import STAGES

#: Used when a review configures none: broad PICO-based reasons (Cochrane Handbook 4.6.5).
DEFAULT_EXCLUSION_REASONS = (
    "wrong population",
    "wrong intervention",
    "wrong comparator",
    "wrong outcomes",
    "wrong study design",
    "wrong publication type",
    "duplicate report",
    "full text not available",
    "other",
)
DEFAULT_REVIEWERS_REQUIRED = 2


@dataclass(frozen=True)
class ScreeningSettings:
    """How a review is screened and where its screening files live.

    Attributes
    ----------
    reviewers
        The roster (``screening.reviewers``), ``None`` when the review has none: names
        are then not checked.
    reviewers_required
        Independent decisions needed before a record's state at a stage is settled
        (2 = dual independent screening, the Cochrane standard).
    exclusion_reasons
        The reasons a reviewer may give for excluding (required at full text, where PRISMA
        reports excluded reports by reason).
    stages
        The stages used, in order; a review that screens full texts only sets
        ``[full_text]``.
    queue, decisions, studies
        ``<folder>/screening/queue.csv``, ``<folder>/screening/decisions.csv`` and
        ``<folder>/studies.csv``.
    """

    reviewers_required: int = DEFAULT_REVIEWERS_REQUIRED
    reviewers: tuple[str, ...] | None = None
    exclusion_reasons: tuple[str, ...] = DEFAULT_EXCLUSION_REASONS
    stages: tuple[str, ...] = STAGES
    queue: Path = Path("screening/queue.csv")
    decisions: Path = Path("screening/decisions.csv")
    studies: Path = Path("studies.csv")

    @classmethod
    def from_review(cls, review: Review) -> ScreeningSettings:
        """Read ``review.spec["screening"]`` (defaults where absent) and the file paths.

        Raises
        ------
        ValueError
            Naming the key, e.g. ``reviews[x].screening.reviewers_required: must be a whole
            number >= 1; got 0``.
        """
        spec = review.spec.get("screening") or {}
        where = f"reviews[{review.id}].screening"
        return cls(
            reviewers_required=_reviewers_required(spec, where),
            reviewers=review_roster(review),
            exclusion_reasons=_reasons(spec, where),
            stages=_stages(spec, where),
            queue=review.files.queue,
            decisions=review.files.decisions,
            studies=review.files.studies,
        )


def _reviewers_required(spec: Mapping[str, Any], where: str) -> int:
    value = spec.get("reviewers_required", DEFAULT_REVIEWERS_REQUIRED)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}.reviewers_required: must be a whole number >= 1; got {value!r}")
    return value


def _reasons(spec: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = spec.get("exclusion_reasons", DEFAULT_EXCLUSION_REASONS)
    if (
        isinstance(value, str)
        or not isinstance(value, (list, tuple))
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise ValueError(
            f"{where}.exclusion_reasons: must be a non-empty list of text; got {value!r}"
        )
    reasons = tuple(v.strip() for v in value)
    folded = [r.casefold() for r in reasons]
    if len(set(folded)) != len(folded):
        raise ValueError(f"{where}.exclusion_reasons: duplicate reason in {list(reasons)}")
    return reasons


def _stages(spec: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = spec.get("stages", STAGES)
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"{where}.stages: must be a non-empty list of {list(STAGES)}")
    unknown = [v for v in value if v not in STAGES]
    if unknown or len(set(value)) != len(value):
        raise ValueError(f"{where}.stages: each of {list(STAGES)} at most once; got {list(value)}")
    return tuple(s for s in STAGES if s in value)  # always in the order records pass them
