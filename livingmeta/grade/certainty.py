"""Where the recorded ratings take an outcome's certainty, and whether they are stale.

The starting level follows the study designs (GRADE: randomised trials start at high,
observational studies at low), read from the characteristics data. From there each
approved rating moves it down (or, for non-randomised evidence, up), within high and
very low. An outcome is assessed only when every reason to rate down has an approved
rating; reasons to rate up that nobody recorded count as not used. Anything less is
:data:`~livingmeta.grade.NOT_ASSESSED`: the pipeline never fills a gap with a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from livingmeta.characteristics.values import Value
from livingmeta.grade import DOMAIN_LABELS, DOWNGRADE_DOMAINS, LEVELS, NOT_ASSESSED
from livingmeta.grade.ratings import Rating

DESIGNS = ("randomised", "observational")
STARTING_LEVEL = {"randomised": "high", "observational": "low"}
_NON_RANDOMISED = re.compile(r"non[-\s]?randomi[sz]ed|quasi[-\s]?randomi[sz]ed", re.I)
_RANDOMISED = re.compile(r"\brandomi[sz]ed\b|\bRCTs?\b", re.I)
_OBSERVATIONAL = re.compile(
    r"cohort|case[-\s]control|observational|registry|cross[-\s]sectional|case series|"
    r"before[-\s]after|interrupted time series",
    re.I,
)


def classify_design(text: str) -> str | None:
    """``randomised``, ``observational``, or None when ``text`` names neither.

    >>> classify_design("Prospective single-center cohort study")
    'observational'
    >>> classify_design("Randomized controlled trial"), classify_design("Non-randomised trial")
    ('randomised', 'observational')
    >>> classify_design("Trial") is None
    True
    """
    if _NON_RANDOMISED.search(text) or _OBSERVATIONAL.search(text):
        return "observational"
    if _RANDOMISED.search(text):
        return "randomised"
    return None


def designs_from_characteristics(
    values: Iterable[Value], field: str = "design"
) -> dict[str, str | None]:
    """Study id -> design class from the approved values of the characteristics ``field``
    (None: the design text names neither kind)."""
    return {
        v.study_id: classify_design(v.text)
        for v in values
        if v.field == field and v.approved and v.reported
    }


@dataclass(frozen=True)
class Start:
    """The starting certainty (None when it cannot be told) and why."""

    level: str | None
    design: str | None
    reason: str


def starting_certainty(designs: Mapping[str, str | None], studies: Sequence[str]) -> Start:
    """The starting level of the evidence from ``studies`` (ids), from their designs.

    Randomised trials only: high; observational studies only: low. A study whose design
    is not recorded or not recognised, or a mix of both kinds (which GRADE rates
    separately), gives no starting level.
    """
    unknown = [s for s in studies if designs.get(s) not in DESIGNS]
    if not studies:
        return Start(None, None, "no studies")
    if unknown:
        return Start(None, None, f"design not recorded or not recognised: {', '.join(unknown)}")
    kinds = {designs[s] for s in studies}
    if len(kinds) > 1:
        return Start(None, None, "randomised and observational studies: rate them separately")
    design = kinds.pop()
    word = "randomised trials" if design == "randomised" else "observational studies"
    return Start(STARTING_LEVEL[design], design, f"{word}: start at {STARTING_LEVEL[design]}")


@dataclass(frozen=True)
class Certainty:
    """An outcome's certainty: ``level`` None means not yet assessed (``missing`` says
    what is lacking); ``stale`` lists domains whose inputs changed since their rating;
    ``ignored`` holds reasons to rate up recorded for randomised evidence, which GRADE
    does not apply (shown, never silently counted)."""

    outcome: str
    start: Start
    level: str | None
    ratings: tuple[Rating, ...]
    missing: tuple[str, ...]
    stale: tuple[str, ...] = ()
    ignored: tuple[Rating, ...] = ()

    @property
    def label(self) -> str:
        """``moderate`` ... or ``not yet assessed``."""
        return self.level if self.level is not None else NOT_ASSESSED

    def reasons(self) -> list[str]:
        """One line per rating that moved the certainty: the summary table's footnotes."""
        lines = []
        for rating in self.ratings:
            if rating.steps:
                way = "down" if rating.steps < 0 else "up"
                count = "one level" if abs(rating.steps) == 1 else "two levels"
                label = DOMAIN_LABELS[rating.domain]
                lines.append(f"{label}: rated {way} {count} ({rating.decision}). {rating.reason}")
        for rating in self.ignored:
            label = DOMAIN_LABELS[rating.domain]
            lines.append(f"{label}: not applied ({rating.decision}): randomised evidence")
        return lines


def certainty(
    outcome: str,
    start: Start,
    ratings: Iterable[Rating],
    current_digests: Mapping[str, str] | None = None,
) -> Certainty:
    """Apply ``outcome``'s approved ratings to its starting level.

    Parameters
    ----------
    outcome
        The outcome name.
    start
        From :func:`starting_certainty`.
    ratings
        The review's ratings (any outcome; only approved ones of ``outcome`` count).
    current_digests
        Domain -> digest of its inputs now (:func:`livingmeta.grade.proposals.propose`);
        a rating recorded with another digest is listed in ``stale``.
    """
    mine = tuple(r for r in ratings if r.outcome == outcome and r.approved)
    ignored = tuple(r for r in mine if r.steps > 0 and start.design != "observational")
    applied = tuple(r for r in mine if r not in ignored)
    by_domain = {r.domain: r for r in mine}
    missing = [d for d in DOWNGRADE_DOMAINS if d not in by_domain]
    if start.level is None:
        missing.insert(0, f"starting level ({start.reason})")
    stale = tuple(
        r.domain for r in mine if current_digests is not None and is_stale(r, current_digests)
    )
    if missing:
        return Certainty(outcome, start, None, applied, tuple(missing), stale, ignored)
    steps = sum(r.steps for r in applied)
    index = min(len(LEVELS) - 1, max(0, LEVELS.index(start.level) - steps))
    return Certainty(outcome, start, LEVELS[index], applied, (), stale, ignored)


def is_stale(rating: Rating, current_digests: Mapping[str, str]) -> bool:
    """True when the inputs of ``rating``'s domain changed since it was recorded (a rating
    recorded without a digest cannot be checked, and is not flagged)."""
    now = current_digests.get(rating.domain)
    return bool(rating.inputs_digest) and now is not None and now != rating.inputs_digest
