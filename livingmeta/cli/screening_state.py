"""What ``livingmeta screen`` and ``livingmeta status`` both read: a review's screening files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from livingmeta.config import Review
    from livingmeta.screening.settings import ScreeningSettings
    from livingmeta.screening.status import ScreeningStatus


@dataclass(frozen=True)
class Loaded:
    """Everything both commands read: the review, its settings and validated files."""

    review: Review
    settings: ScreeningSettings
    queue: pd.DataFrame
    decisions: pd.DataFrame
    studies: pd.DataFrame
    status: ScreeningStatus


def load_review(config_path: str, review_id: str | None) -> Loaded:
    """Read and validate the review's screening files (paths relative to the repo root);
    without ``review_id``, those of the config's only review.

    Raises
    ------
    ValueError
        Unknown review id, no id for a config with several reviews, or invalid
        screening settings.
    InputError
        Invalid queue, decisions or studies file (every problem listed).
    """
    from livingmeta.config import choose_review, load_config, reviews
    from livingmeta.screening.decisions import load_decisions
    from livingmeta.screening.queue import read_queue
    from livingmeta.screening.settings import ScreeningSettings
    from livingmeta.screening.status import screening_status
    from livingmeta.screening.studies import read_studies

    review = choose_review(reviews(load_config(config_path)), review_id)
    settings = ScreeningSettings.from_review(review)
    queue = read_queue(settings.queue)
    decisions = load_decisions(
        settings.decisions, settings.exclusion_reasons, set(queue["record_id"]), settings.reviewers
    )
    studies = read_studies(settings.studies)
    status = screening_status(
        queue, decisions, settings.reviewers_required, settings.stages, settings.exclusion_reasons
    )
    return Loaded(review, settings, queue, decisions, studies, status)
