"""The static results site: one folder of HTML pages, images and a stylesheet that can be
opened from ``file://`` or uploaded as it is to GitHub Pages (see :mod:`.build`)."""

from livingmeta.site.build import build_site
from livingmeta.site.pages import (
    IMAGE_KINDS,
    OutcomePage,
    ReviewPage,
    StudyLink,
    collect_images,
    outcome_from_results,
)

__all__ = [
    "IMAGE_KINDS",
    "OutcomePage",
    "ReviewPage",
    "StudyLink",
    "build_site",
    "collect_images",
    "outcome_from_results",
]
