"""What the review workspace works on: one review's files, the reviewer and the roster.

Why an adapter of its own: every path the app reads or writes comes from the config's
:class:`~livingmeta.config.ReviewFiles`, through this one module, and every write is
checked here to stay inside the review folder or its retrieval state folder (a form value
never becomes a path that leaves them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livingmeta.config import Review, ReviewFiles
    from livingmeta.screening.settings import ScreeningSettings

#: A name usable as a reviewer and as a file name (``risk_of_bias/<assessor>.csv``).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")


class OutsideReview(ValueError):
    """A write would land outside the review folder."""


@dataclass(frozen=True)
class Workspace:
    """One review opened in the app.

    Attributes
    ----------
    root
        Folder the config's relative paths start from (the repository).
    config
        The config file (absolute).
    review
        The review as declared in config.
    reviewer
        Who records every write, as spelt on the roster.
    roster
        Names allowed to decide, extract, assess and approve (compared ignoring case):
        the workflow accepts an approval by anyone on it, so the app does too.
    highlight
        Words highlighted in titles and abstracts while screening (``--highlight``, else
        the config's ``screening.highlight``).
    token
        Shared token every request must carry (needed off localhost).
    risk_of_bias
        The review's ``risk_of_bias`` config entry (tools, assessors required).
    """

    root: Path
    config: Path
    review: Review
    reviewer: str
    roster: tuple[str, ...]
    highlight: tuple[str, ...] = ()
    token: str | None = None
    risk_of_bias: Mapping[str, Any] | None = None

    @property
    def files(self) -> ReviewFiles:
        """The review's files, as absolute paths under :attr:`root`."""
        from livingmeta.config import ReviewFiles

        plain = self.review.files
        return ReviewFiles(
            self.root / plain.folder, self.root / plain.extraction, self.root / plain.state
        )

    @property
    def folder(self) -> Path:
        return self.files.folder

    @property
    def screening(self) -> ScreeningSettings:
        """The review's screening settings with absolute file paths."""
        from dataclasses import replace

        from livingmeta.screening.settings import ScreeningSettings

        settings = ScreeningSettings.from_review(self.review)
        files = self.files
        return replace(
            settings, queue=files.queue, decisions=files.decisions, studies=files.studies
        )

    def writable(self, path: Path) -> Path:
        """``path`` if it lies inside the review folder or its retrieval state folder
        (``state:``, which the config may put elsewhere), else :class:`OutsideReview`."""
        resolved = path.resolve()
        if not any(resolved.is_relative_to(f.resolve()) for f in (self.folder, self.files.state)):
            raise OutsideReview(f"{path} is outside the review folder {self.folder}")
        return resolved


def valid_name(name: str) -> str:
    """``name`` if it can be a reviewer and a file name (letters, digits, ``._-`` and
    spaces, no path separators), else ``ValueError``."""
    if not _NAME.match(name) or ".." in name:
        raise ValueError(f"{name!r} is not a usable reviewer name (letters, digits, . _ -)")
    return name


def roster_of(review: Review, decisions: Path, reviewer: str | None) -> tuple[str, ...]:
    """The configured roster (``screening.reviewers``), or, for a review without one, the
    names already in the decisions file plus ``reviewer``."""
    from livingmeta.roster import review_roster

    configured = review_roster(review)
    if configured:
        return configured
    names: dict[str, str] = {}
    if decisions.exists():
        from livingmeta.screening.csvfile import read_existing

        for row in read_existing(decisions)[2]:
            if row.get("reviewer"):
                names.setdefault(row["reviewer"].casefold(), row["reviewer"])
    if reviewer:
        names.setdefault(reviewer.strip().casefold(), reviewer.strip())
    return tuple(names.values())


def open_workspace(
    config_path: str | Path,
    review_id: str | None,
    reviewer: str,
    *,
    roster: Sequence[str] | None = None,
    highlight: Sequence[str] = (),
    token: str | None = None,
    root: str | Path | None = None,
    risk_of_bias: Mapping[str, Any] | None = None,
) -> Workspace:
    """Load the config and check the reviewer (paths relative to ``root``, by default the
    current folder, as for every other command).

    Raises
    ------
    ValueError
        Unknown review, a config with several reviews and no ``review_id``, or a reviewer
        not on the roster.
    """
    from livingmeta.config import choose_review, load_config, reviews
    from livingmeta.roster import on_roster

    root = Path(root or Path.cwd()).resolve()
    review = choose_review(reviews(load_config(root / config_path)), review_id)
    files = review.files
    names = tuple(roster) if roster else roster_of(review, root / files.decisions, reviewer)
    spelt = valid_name(on_roster(reviewer, names))
    spec = review.spec.get("screening") or {}
    words = tuple(highlight) or tuple(spec.get("highlight") or ())
    tools = review.spec.get("risk_of_bias") or risk_of_bias
    return Workspace(root, root / config_path, review, spelt, names, words, token, tools)
