"""The run report: one self-contained HTML page per run, and its ``changes.json``.

Why one file: the page is e-mailed, attached to an issue or archived with the run, and
must read the same years later, offline. So CSS is inline, every image is a ``data:`` URI
and there is no JavaScript. Titles, abstracts, author names and queries come from outside
(PubMed, ClinicalTrials.gov, reviewers' files) and are untrusted: the template is rendered
with autoescaping on, and links are built here from validated identifiers only.

``changes.json`` (:func:`build_changes`, in :mod:`.changes`) is the same summary for
machines: a scheduler reads ``has_changes`` and ``needs_attention`` to decide whether to
notify anyone (:mod:`livingmeta.schedule` reads the same keys). What the page shows is
prepared by :mod:`.report_page`.

The context contract
--------------------
:func:`render_run_report` and :func:`build_changes` take one dict. Only ``review`` and
``run`` are required; a missing optional key means "nothing to report" for its section.
``image`` below is a path (``str`` or ``os.PathLike``) to a ``.png`` or ``.svg`` file, the
file's bytes, or a matplotlib ``Figure`` (rendered to PNG)::

    {
      "review": {                          # required
        "id": "rescue_stenting",           # required
        "title": "Rescue intracranial stenting ...",   # required
        "question": "In adults with ...",  # optional
        "citation": "Premat K, ...",       # optional
      },
      "run": {                             # required
        "id": "2026-11-25T091853Z",        # required: the run id of report.json
        "date": "2026-11-25",              # required: ISO date or date-time of the run
        "previous_id": "2026-11-18T...",   # optional: the run compared against
        "previous_date": "2026-11-18",     # optional
      },
      "software": {"livingmeta": "0.1.0", "python": "3.11.7", ...},  # optional
      "searches": [                        # optional: saved searches from the config
        {"id": "pubmed_x", "source": "pubmed", "query": "...", "start_date": "2015-01-01"},
        {"id": "ctgov_x", "source": "ctgov", "cond": "...", "intr": "...", "term": "..."},
      ],
      "retrieval": {...},                  # optional: the run's retrieval report.json as
                                           # written (searches, stale, changes,
                                           # new_candidates, prisma, ...)
      "candidates": [ {...}, ... ],        # optional: candidates waiting for screening,
                                           # rows of candidate_export (cluster_id, status,
                                           # record_id, title, abstract, year, journal,
                                           # authors, pmids, dois, nct_ids, retracted);
                                           # list fields as lists or "; "-joined strings
      "screening": {                       # optional
        "decisions_since_last_run": 12,    # screening/eligibility decisions recorded
        "conflicts": 1,                    # disagreements awaiting resolution
        "newly_included": [                # studies included since the last run
          {"study_id": "Smith 2026", "label": "Smith 2026",
           "pmids": ["..."], "dois": ["..."], "nct_ids": ["..."], "outcomes": ["..."]},
        ],
      },
      "outcomes": [                        # optional: in config order
        {"name": "mortality_90d", "label": "Mortality at 90 days",
         "before": {...} | None,           # previous run's PooledResult.to_dict() or
                                           # pooled.json; None: not pooled before
         "after": {...} | None,            # this run's; None: not pooled this run
         "forest": image | None, "history": image | None},
      ],
      "prisma": {...} | None,              # PRISMA counts (livingmeta.report.prisma);
                                           # drawn and embedded, and listed as text
      "prisma_image": image | None,        # a ready-made diagram instead
      "invalid_data": False,               # optional: data failed validation this run
      "problems": ["..."],                 # optional: the validation messages
      "pending": ["..."],                  # optional: reviewers' work still to do
                                           # (rows to extract or approve, ...)
      "candidates_total": 1234,            # optional: all candidates when the list
                                           # given is a sample
    }

Counts that appear in two places are taken from the more specific one: the number of new
candidates is the candidate rows whose ``status`` is ``new`` (or ``candidates_total``)
when candidates are given, ``retrieval["new_candidates"]`` otherwise; further reports of
known studies (``linked_to_existing`` rows) are counted apart, as ``report.json`` does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from livingmeta.files import write_json, write_text
from livingmeta.links import ctgov_url, doi_url, pubmed_url
from livingmeta.report.changes import CHANGE_KINDS, PROBLEM_KINDS, build_changes
from livingmeta.report.report_page import data_uri, page_view

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "run_report.html.j2"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_run_report(context: Mapping[str, Any]) -> str:
    """The run report as one self-contained HTML page.

    Parameters
    ----------
    context
        The dict of the module docstring.

    Returns
    -------
    str
        HTML5 with inline CSS and images as ``data:`` URIs; every text from the context
        is escaped. Deterministic: the same context gives the same string.

    Raises
    ------
    ValueError
        If ``review``/``run`` lack their required keys, or the PRISMA counts are
        inconsistent.
    """
    return _render(context, build_changes(context))


def _render(context: Mapping[str, Any], changes: dict[str, Any]) -> str:
    return _environment().get_template(TEMPLATE).render(**page_view(context, changes))


def write_run_report(
    context: Mapping[str, Any],
    html_path: str | os.PathLike[str],
    changes_path: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Render and write the report (and ``changes.json``) atomically; return the changes.

    Both are computed before either file is touched, so a failure leaves the previous
    report in place.
    """
    changes = build_changes(context)
    html = _render(context, changes)
    write_text(html_path, html)
    if changes_path is not None:
        write_json(changes_path, changes)
    return changes


__all__: Sequence[str] = [
    "CHANGE_KINDS",
    "PROBLEM_KINDS",
    "build_changes",
    "ctgov_url",
    "data_uri",
    "doi_url",
    "pubmed_url",
    "render_run_report",
    "write_run_report",
]
