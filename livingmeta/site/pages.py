"""What a site page shows, as the workflow hands it over: one dataclass per review, outcome
and study, and helpers that fill them from the standard ``results/<id>/<outcome>/`` folder."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Figures an outcome can have, in the order the page shows them.
IMAGE_KINDS: tuple[str, ...] = (
    "forest",
    "history",
    "cumulative",
    "leave_one_out",
    "funnel",
    "bubble",
    "sequential",
)
#: File formats of a figure; the first one present is shown, every one is offered.
IMAGE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")


@dataclass(frozen=True)
class StudyLink:
    """One included study and the identifiers that link to it.

    Parameters
    ----------
    study_id
        The stable ``study_id`` of the extraction table (shown, so readers can cite it).
    label
        How plots name the study, e.g. ``Peng 2019``.
    year
        Publication year, if known.
    pmids, dois, nct_ids
        Identifiers of its reports and registration. Only well-formed ones become links
        (PubMed, doi.org, ClinicalTrials.gov); others are shown as plain text.
    """

    study_id: str
    label: str
    year: int | str | None = None
    pmids: Sequence[str] = ()
    dois: Sequence[str] = ()
    nct_ids: Sequence[str] = ()


@dataclass(frozen=True)
class OutcomePage:
    """One outcome of a review, as the workflow left it.

    Parameters
    ----------
    name
        The outcome's ``name`` in config; it becomes the folder of its figures.
    label
        Its readable label, e.g. ``Mortality at 90 days``.
    pooled
        The content of its ``pooled.json`` (``result``, ``participants``, ``provenance``
        ...). Empty when the outcome could not be pooled yet: the page says so.
    images
        Figure files by ``"<kind>.<format>"``, kinds in :data:`IMAGE_KINDS` and formats in
        :data:`IMAGE_FORMATS`, e.g. ``{"forest.png": Path(...), "forest.svg": ...}``. Any
        may be missing; a given path must exist. :func:`collect_images` builds this from
        a results folder.
    """

    name: str
    label: str
    pooled: Mapping[str, Any] = field(default_factory=dict)
    images: Mapping[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewPage:
    """One review of the portfolio: everything its page shows.

    Parameters
    ----------
    id
        The review id of the config; it becomes the review's folder in the site.
    title, question, citation
        From the config. ``question`` and ``citation`` are optional.
    outcomes
        In the order the page shows them (config order).
    prisma
        The PRISMA 2020 flow diagram, a ``.png`` (shown) or ``.svg`` file; files with the
        same name and the other suffixes (``prisma.svg``, ``prisma.pdf``) beside it are
        offered as downloads.
    report
        The latest run report (a self-contained HTML file), copied as ``report.html``.
    studies
        The included studies, in the order they are listed.
    provenance
        What produced these results: run id, dates, software versions. Shown in the
        order given; a nested mapping (e.g. ``{"software": {"python": "3.11.7"}}``) is
        shown as one line of ``name value`` pairs.
    stale_sources
        The ``stale`` entries of the retrieval ``report.json`` (``search_id``,
        ``source``, ``since``, ``error``): sources whose latest search failed, so
        readers know the evidence may be older than the page's date.
    updated
        The date the results were last updated (the data's own date, never the build
        time, so that rebuilding changes nothing).
    appraisal
        The review's ``summary_of_findings`` and ``characteristics`` tables (HTML files
        their packages wrote, text escaped) and ``risk_of_bias`` figures (PNG paths);
        any may be missing.
    """

    id: str
    title: str
    question: str | None = None
    citation: str | None = None
    outcomes: Sequence[OutcomePage] = ()
    prisma: Path | None = None
    report: Path | None = None
    studies: Sequence[StudyLink] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)
    stale_sources: Sequence[Mapping[str, Any]] = ()
    updated: str = ""
    appraisal: Mapping[str, Any] = field(default_factory=dict)


def collect_images(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """The standard figure files that exist in an outcome's results folder.

    Why: the workflow writes ``forest.png`` etc. under ``results/<id>/<outcome>/`` and
    some (the history plot before a second run) may not exist yet; this gives exactly
    the ``images`` mapping :class:`OutcomePage` expects, with only files that exist.

    Parameters
    ----------
    folder
        An outcome's results folder.

    Returns
    -------
    dict[str, Path]
        ``{"forest.png": folder / "forest.png", ...}`` in :data:`IMAGE_KINDS` then
        :data:`IMAGE_FORMATS` order; other files in the folder are ignored.
    """
    folder = Path(folder)
    return {
        f"{kind}.{fmt}": folder / f"{kind}.{fmt}"
        for kind in IMAGE_KINDS
        for fmt in IMAGE_FORMATS
        if (folder / f"{kind}.{fmt}").is_file()
    }


def outcome_from_results(
    folder: str | os.PathLike[str], name: str | None = None, label: str | None = None
) -> OutcomePage:
    """An :class:`OutcomePage` from a ``results/<id>/<outcome>/`` folder.

    Parameters
    ----------
    folder
        The outcome's results folder (``pooled.json`` and the figures).
    name, label
        Default to the folder name and the label recorded in ``pooled.json``; pass the
        config's values to be independent of what an older run recorded.

    Returns
    -------
    OutcomePage
        With ``pooled`` empty when ``pooled.json`` is missing: the page then says "not
        pooled yet" rather than failing, because a newly declared outcome must not take
        the whole site down.
    """
    folder = Path(folder)
    pooled_file = folder / "pooled.json"
    pooled: dict[str, Any] = {}
    if pooled_file.is_file():
        pooled = json.loads(pooled_file.read_text(encoding="utf-8"))
    name = name or folder.name
    recorded = (pooled.get("outcome") or {}).get("label") if pooled else None
    return OutcomePage(
        name=name, label=label or recorded or name, pooled=pooled, images=collect_images(folder)
    )
