"""The run report: one self-contained HTML page per run, and its ``changes.json``.

Why one file: the page is e-mailed, attached to an issue or archived with the run, and
must read the same years later, offline. So CSS is inline, every image is a ``data:`` URI
and there is no JavaScript. Titles, abstracts, author names and queries come from outside
(PubMed, ClinicalTrials.gov, reviewers' files) and are untrusted: the template is rendered
with autoescaping on, and links are built here from validated identifiers only.

``changes.json`` (:func:`build_changes`) is the same summary for machines: a scheduler
reads ``has_changes`` and ``needs_attention`` to decide whether to notify anyone
(:mod:`livingmeta.schedule` reads the same keys).

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
      "candidates_total": 1234,            # optional: all candidates when the list
                                           # given is a sample
    }

Counts that appear in two places are taken from the more specific one: the number of new
candidates is ``len(candidates)`` (or ``candidates_total``) when candidates are given,
``retrieval["new_candidates"]`` otherwise.
"""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from matplotlib.figure import Figure

from livingmeta.atomic import write_json, write_text
from livingmeta.links import ctgov_url, doi_url, pubmed_url
from livingmeta.plots.save import render
from livingmeta.plots.text import (
    MEASURE_NAMES,
    METHOD_NAMES,
    MODEL_NAMES,
    fmt_effect,
    fmt_i2,
    fmt_p,
)
from livingmeta.report.estimates import compare_estimates
from livingmeta.report.prisma import prisma_figure, validate_counts

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE = "run_report.html.j2"
MAX_CANDIDATES = 200  # listed in the page; the rest are in the candidates file
MAX_ABSTRACT = 600  # characters of an abstract shown
MAX_ERROR = 240  # characters of a source's error message shown

RETRACTION_KINDS = ("retracted", "retraction_notices")
NOTICE_KINDS = (*RETRACTION_KINDS, "errata", "concerns")  # publication notices
WATCH_FAILED = "watch_list_failed"
TRIAL_KINDS = ("overall_status", "has_results", "results_first_posted")
CHANGE_NAMES = {
    "retracted": "Retracted",
    "retraction_notices": "Retraction notice",
    "errata": "Erratum",
    "concerns": "Expression of concern",
    "overall_status": "Trial status",
    "has_results": "Trial results posted",
    "results_first_posted": "Trial results first posted",
    "missing_from_pubmed": "No longer found in PubMed",
    "watch_list_failed": "Re-check of included records failed",
}

QUERY_NAMES = {"query": "Query", "cond": "Condition", "intr": "Intervention", "term": "Other terms"}

#: (count, level, singular, plural) of the "What changed" badges, most urgent first.
BADGES = (
    (
        "flipped",
        "alert",
        "estimate changed significance or direction",
        "estimates changed significance or direction",
    ),
    ("retracted", "alert", "retraction", "retractions"),
    ("invalid", "alert", "data validation failure", "data validation failures"),
    ("not_pooled", "alert", "outcome not pooled", "outcomes not pooled"),
    ("failed", "notice", "source failed", "sources failed"),
    ("stale", "notice", "stale source", "stale sources"),
    ("included", "notice", "newly included study", "newly included studies"),
    ("errata", "notice", "erratum or expression of concern", "errata or expressions of concern"),
    ("trials", "notice", "trial status change", "trial status changes"),
    ("other", "notice", "other change to a known record", "other changes to known records"),
    ("conflicts", "notice", "screening conflict", "screening conflicts"),
    (
        "candidates",
        "info",
        "new candidate waiting for screening",
        "new candidates waiting for screening",
    ),
    ("decisions", "info", "decision since last run", "decisions since last run"),
    (
        "new_outcomes",
        "info",
        "outcome pooled for the first time",
        "outcomes pooled for the first time",
    ),
)


# ---------------------------------------------------------------------- changes.json


#: ``changes.json`` findings that reviewers act on (``has_changes``; a scheduler's
#: "changes for reviewers").
CHANGE_KINDS: tuple[str, ...] = (
    "new_candidates",
    "retractions",
    "trial_changes",
    "estimate_changes",
    "newly_included",
    "conflicts",
    "other_changes",
)
#: Findings that maintainers act on (``needs_attention``).
PROBLEM_KINDS: tuple[str, ...] = ("stale_sources", "failed_sources", "invalid_data")


def build_changes(context: Mapping[str, Any]) -> dict[str, Any]:
    """The machine-readable summary of a run (``changes.json``).

    The keys and their meaning follow what :mod:`livingmeta.schedule` reads to choose its
    exit code: findings for reviewers (``has_changes``, exit 10) are kept apart from
    problems for maintainers (``needs_attention``: failed or stale sources, invalid data).

    Parameters
    ----------
    context
        The report context (module docstring).

    Returns
    -------
    dict
        JSON-friendly, with the keys

        - ``review``, ``run_id``, ``date``, ``previous_run_id``;
        - ``new_candidates`` (int), ``decisions_since_last_run`` (int), ``conflicts``
          (int), ``newly_included`` (list, as given in ``screening``);
        - ``retractions``: the retrieval report's publication notices (``kind``
          ``retracted``, ``retraction_notices``, ``errata`` or ``concerns``);
          ``trial_changes`` (``overall_status``, ``has_results``,
          ``results_first_posted``); ``other_changes`` (e.g. ``missing_from_pubmed``);
          each item as in ``report.json`` (``kind, record_id, before, after``);
        - ``estimate_changes``: the :func:`compare_estimates` dicts with ``changed`` true
          (new outcome, significance gained or lost, direction reversed, measure changed);
          ``outcomes_not_pooled``: names of outcomes without a result this run;
        - ``stale_sources`` (``search_id, since, failing``), ``failed_sources``
          (``search_id, source, error``; a failed re-check of watched records is listed
          as ``search_id`` ``watch_list``), ``invalid_data`` (bool);
        - ``has_changes``: any of new candidates, notices, trial changes, estimate
          changes, newly included studies, conflicts or other changes, i.e. something
          reviewers should look at (the reviewers' own decisions alone are not);
        - ``needs_attention``: failed or stale sources, invalid data, unpooled outcomes.

        Both booleans false means nothing happened that anyone needs to hear about.
    """
    review, run = _require(context)
    retrieval = context.get("retrieval") or {}
    screening = context.get("screening") or {}
    changes = list(retrieval.get("changes") or [])
    comparisons, not_pooled = _comparisons(context)
    known = (*NOTICE_KINDS, *TRIAL_KINDS, WATCH_FAILED)
    failed = [
        {"search_id": s.get("search_id"), "source": s.get("source"), "error": s.get("error")}
        for s in retrieval.get("searches") or []
        if s.get("status") == "failed"
    ]
    failed += [
        {"search_id": "watch_list", "source": None, "error": c.get("error")}
        for c in changes
        if c.get("kind") == WATCH_FAILED
    ]
    out: dict[str, Any] = {
        "review": review["id"],
        "run_id": run["id"],
        "date": run["date"],
        "previous_run_id": run.get("previous_id"),
        "new_candidates": _new_candidates(context),
        "decisions_since_last_run": int(screening.get("decisions_since_last_run") or 0),
        "conflicts": int(screening.get("conflicts") or 0),
        "newly_included": list(screening.get("newly_included") or []),
        "retractions": [c for c in changes if c.get("kind") in NOTICE_KINDS],
        "trial_changes": [c for c in changes if c.get("kind") in TRIAL_KINDS],
        "other_changes": [c for c in changes if c.get("kind") not in known],
        "estimate_changes": [c for c in comparisons if c["changed"]],
        "outcomes_not_pooled": not_pooled,
        "stale_sources": [
            {
                "search_id": s.get("search_id"),
                "since": s.get("since"),
                "failing": bool(s.get("failing")),
            }
            for s in retrieval.get("stale") or []
        ],
        "failed_sources": failed,
        "invalid_data": bool(context.get("invalid_data")) or bool(context.get("problems")),
    }
    out["has_changes"] = any(out[key] for key in CHANGE_KINDS)
    out["needs_attention"] = any(out[key] for key in (*PROBLEM_KINDS, "outcomes_not_pooled"))
    return out


def _require(context: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    problems = []
    review, run = context.get("review"), context.get("run")
    if not isinstance(review, Mapping):
        problems.append("'review' (a mapping with id and title) is required")
    else:
        problems += [f"'review.{k}' is required" for k in ("id", "title") if not review.get(k)]
    if not isinstance(run, Mapping):
        problems.append("'run' (a mapping with id and date) is required")
    else:
        problems += [f"'run.{k}' is required" for k in ("id", "date") if not run.get(k)]
    if problems:
        raise ValueError("invalid run report context: " + "; ".join(problems))
    return review, run  # type: ignore[return-value]


def _new_candidates(context: Mapping[str, Any]) -> int:
    if context.get("candidates_total") is not None:
        return int(context["candidates_total"])
    if context.get("candidates") is not None:
        return len(context["candidates"])
    return int((context.get("retrieval") or {}).get("new_candidates") or 0)


def _comparisons(context: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    comparisons, not_pooled = [], []
    for outcome in context.get("outcomes") or []:
        if outcome.get("after") is None:
            not_pooled.append(outcome["name"])
            continue
        comparisons.append(
            compare_estimates(
                outcome.get("before"),
                outcome["after"],
                outcome=outcome["name"],
                label=outcome.get("label") or outcome["name"],
            )
        )
    return comparisons, not_pooled


# ---------------------------------------------------------------------- HTML


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
    return _environment().get_template(TEMPLATE).render(**_page(context, changes))


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


# ---------------------------------------------------------------------- view model


def _page(context: Mapping[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    review, run = context["review"], context["run"]
    retrieval = context.get("retrieval") or {}
    comparisons = {c["outcome"]: c for c in _comparisons(context)[0]}
    outcomes = [_outcome_view(o, comparisons.get(o["name"])) for o in context.get("outcomes") or []]
    prisma_counts = context.get("prisma")
    prisma = None
    if context.get("prisma_image") is not None or prisma_counts:
        counts = validate_counts(prisma_counts) if prisma_counts else None
        image = context.get("prisma_image")
        if image is None and counts is not None:
            image = prisma_figure(counts)
        prisma = {"src": data_uri(image), "counts": _prisma_rows(counts) if counts else []}
    candidates = list(context.get("candidates") or [])
    return {
        "review": {
            "id": str(review["id"]),
            "title": str(review["title"]),
            "question": review.get("question"),
            "citation": review.get("citation"),
        },
        "run": {
            "id": str(run["id"]),
            "date": str(run["date"]),
            "previous_id": run.get("previous_id"),
            "previous_date": run.get("previous_date"),
        },
        "software": sorted((str(k), str(v)) for k, v in (context.get("software") or {}).items()),
        "changes": changes,
        "badges": _badges(changes),
        "outcomes": outcomes,
        "prisma": prisma,
        "sources": [_source_view(s) for s in retrieval.get("searches") or []],
        "stale": [
            {
                "search_id": s.get("search_id"),
                "since": s.get("since") or "never succeeded",
                "failing": bool(s.get("failing")),
                "error": _clip(s.get("error"), MAX_ERROR),
            }
            for s in retrieval.get("stale") or []
        ],
        "record_changes": [
            _record_change(c)
            for c in (changes["retractions"] + changes["trial_changes"] + changes["other_changes"])
        ],
        "candidates": [_candidate_view(c) for c in candidates[:MAX_CANDIDATES]],
        "candidates_more": max(0, changes["new_candidates"] - min(len(candidates), MAX_CANDIDATES)),
        "newly_included": [_included_view(s) for s in changes["newly_included"]],
        "searches": [_search_view(s, retrieval) for s in context.get("searches") or []],
        "problems": [str(p) for p in context.get("problems") or []],
        "screening": context.get("screening") or {},
    }


def _badges(changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The "What changed" badges, most urgent first; ``level`` is ``alert``, ``notice``
    or ``info`` (the text says it too, so the page reads the same in black and white)."""
    estimates = changes["estimate_changes"]
    notices = changes["retractions"]
    counts = {
        "flipped": sum(1 for c in estimates if c["significance_changed"] or c["direction_changed"]),
        "retracted": sum(1 for c in notices if c.get("kind") in RETRACTION_KINDS),
        "invalid": int(changes["invalid_data"]),
        "not_pooled": len(changes["outcomes_not_pooled"]),
        "failed": len(changes["failed_sources"]),
        "stale": len(changes["stale_sources"]),
        "included": len(changes["newly_included"]),
        "errata": sum(1 for c in notices if c.get("kind") not in RETRACTION_KINDS),
        "trials": len(changes["trial_changes"]),
        "other": len(changes["other_changes"]),
        "conflicts": changes["conflicts"],
        "candidates": changes["new_candidates"],
        "decisions": changes["decisions_since_last_run"],
        "new_outcomes": sum(1 for c in estimates if c["new"]),
    }
    return [
        {"level": level, "count": counts[key], "text": one if counts[key] == 1 else many}
        for key, level, one, many in BADGES
        if counts[key]
    ]


def _fmt(value: Any, low: Any, high: Any, measure: str) -> str:
    if value is None or low is None or high is None:
        return "not estimable"
    return fmt_effect(float(value), float(low), float(high), measure in ("OR", "RR"))


def _outcome_view(outcome: Mapping[str, Any], cmp: dict[str, Any] | None) -> dict[str, Any]:
    after = _inner(outcome.get("after"))
    label = str(outcome.get("label") or outcome["name"])
    view: dict[str, Any] = {
        "name": str(outcome["name"]),
        "label": label,
        "pooled": after is not None,
        "flags": [],
        "forest": data_uri(outcome.get("forest")),
        "history": data_uri(outcome.get("history")),
        "history_alt": f"Pooled estimate of {label} with 95% CI at every run",
    }
    if after is None or cmp is None:
        view["flags"].append(("alert", "Not pooled this run"))
        view.update(
            measure=outcome.get("measure") or "", before="", after="", k="", p="", i2="", model=""
        )
        before = _inner(outcome.get("before"))
        if before is not None:
            view["before"] = _fmt(
                before.get("estimate"),
                before.get("ci_low"),
                before.get("ci_high"),
                str(before.get("measure")),
            )
        view["alt"] = f"{label}: not pooled in this run"
        return view
    measure = cmp["measure"]
    view["measure"] = MEASURE_NAMES.get(measure, measure)
    method = METHOD_NAMES.get(str(after.get("method")), after.get("method") or "")
    model = MODEL_NAMES.get(str(after.get("model")), after.get("model") or "")
    view["model"] = ", ".join(str(part) for part in (method, model) if part)
    view["after"] = _fmt(cmp["estimate_after"], cmp["ci_low_after"], cmp["ci_high_after"], measure)
    view["before"] = (
        "—"
        if cmp["new"]
        else _fmt(cmp["estimate_before"], cmp["ci_low_before"], cmp["ci_high_before"], measure)
    )
    view["k"] = f"{cmp['k_after']}" if cmp["new"] else f"{cmp['k_before']} → {cmp['k_after']}"
    p = cmp["p_after"]
    view["p"] = fmt_p(p) if p is not None else "P = NA"
    i2 = _number(after.get("i2"))
    view["i2"] = fmt_i2(i2) if i2 is not None else ""
    if cmp["new"]:
        view["flags"].append(("info", "New outcome"))
    if cmp["significance"] == "gained":
        view["flags"].append(("alert", "Significance gained: CI now excludes no effect"))
    if cmp["significance"] == "lost":
        view["flags"].append(("alert", "Significance lost: CI now includes no effect"))
    if cmp["direction_changed"]:
        view["flags"].append(("alert", "Direction reversed: estimate crossed no effect"))
    if cmp["measure_changed"]:
        view["flags"].append(("notice", "Effect measure changed"))
    if not cmp["new"] and cmp["k_before"] != cmp["k_after"]:
        view["flags"].append(("info", "Studies added or removed"))
    view["alt"] = (
        f"Forest plot of {label}: pooled {view['measure']} {view['after']}, "
        f"{cmp['k_after']} studies"
    )
    view["history_alt"] = f"Pooled {view['measure']} of {label} with 95% CI at every run"
    return view


def _inner(pooled: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if pooled is None:
        return None
    inner = pooled.get("result")
    return inner if isinstance(inner, Mapping) else pooled


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _prisma_rows(counts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The diagram's numbers as a list: the text alternative of the image."""
    rows = []
    if counts["previous"]:
        rows.append(("Studies included in previous version", str(counts["previous"]["studies"])))
        rows.append(("Reports of those studies", str(counts["previous"]["reports"])))
    rows += [(f"Records identified: {k}", str(v)) for k, v in counts["identified"].items()]
    rows += [
        ("Duplicate records removed", str(counts["duplicates_removed"])),
        (
            "Records marked as ineligible by automation tools",
            str(counts["records_removed_automation"]),
        ),
        ("Records removed for other reasons", str(counts["records_removed_other"])),
        ("Records screened", str(counts["screened"])),
        ("Records excluded", str(counts["excluded_screening"])),
        ("Reports sought for retrieval", str(counts["reports_sought"])),
        ("Reports not retrieved", str(counts["reports_not_retrieved"])),
        ("Reports assessed for eligibility", str(counts["reports_assessed"])),
    ]
    rows += [(f"Reports excluded: {k}", str(v)) for k, v in counts["excluded_full_text"].items()]
    if counts["previous"]:
        rows += [
            ("New studies included in review", str(counts["new_studies"])),
            ("Reports of new included studies", str(counts["new_reports"])),
        ]
    else:
        rows += [
            ("Studies included in review", str(counts["new_studies"])),
            ("Reports of included studies", str(counts["new_reports"])),
        ]
    if counts["previous"]:
        rows += [
            ("Total studies included", str(counts["total_studies"])),
            ("Reports of total included studies", str(counts["total_reports"])),
        ]
    return rows


def _source_view(search: Mapping[str, Any]) -> dict[str, Any]:
    start, end = search.get("window_start"), search.get("window_end")
    return {
        "search_id": search.get("search_id"),
        "source": search.get("source"),
        "status": str(search.get("status") or "unknown"),
        "window": f"{start or '…'} to {end or '…'}" if (start or end) else "",
        "identified": search.get("identified"),
        "total_count": search.get("total_count"),
        "error": _clip(search.get("error"), MAX_ERROR),
    }


def _search_view(search: Mapping[str, Any], retrieval: Mapping[str, Any]) -> dict[str, Any]:
    parts = [(name, search.get(name)) for name in ("query", "cond", "intr", "term")]
    report = next(
        (s for s in retrieval.get("searches") or [] if s.get("search_id") == search.get("id")),
        {},
    )
    return {
        "id": search.get("id"),
        "source": search.get("source"),
        "start_date": search.get("start_date"),
        "query": [(QUERY_NAMES[name], " ".join(str(v).split())) for name, v in parts if v],
        "translation": report.get("query_translation"),
        "window": _source_view(report)["window"] if report else "",
        "identified": report.get("identified"),
    }


def _record_change(change: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(change.get("kind"))
    record_id = str(change.get("record_id") or "")
    return {
        "kind": CHANGE_NAMES.get(kind, kind),
        "record_id": record_id,
        "href": _record_link(record_id),
        "before": _value(change.get("before")),
        "after": _value(change.get("after")),
        "error": _clip(change.get("error"), MAX_ERROR),
        "severity": "alert" if kind in RETRACTION_KINDS else "notice",
    }


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _record_link(record_id: str) -> str | None:
    source, _, local = record_id.partition(":")
    if source == "pubmed":
        return pubmed_url(local)
    if source == "ctgov":
        return ctgov_url(local)
    return None


def _as_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    return [str(v) for v in value if v is not None and str(v).strip()]


def _ids(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    ids = []
    for pmid in _as_list(item.get("pmids")):
        ids.append({"text": f"PMID {pmid}", "href": pubmed_url(pmid)})
    for doi in _as_list(item.get("dois")):
        ids.append({"text": f"doi:{doi}", "href": doi_url(doi)})
    for nct in _as_list(item.get("nct_ids")):
        ids.append({"text": nct, "href": ctgov_url(nct)})
    return ids


def _candidate_view(row: Mapping[str, Any]) -> dict[str, Any]:
    authors = _as_list(row.get("authors"))
    shown = ", ".join(authors[:3]) + (", et al." if len(authors) > 3 else "")
    year = row.get("year")
    year_text = (
        ""
        if year is None or (isinstance(year, float) and math.isnan(year))
        else str(int(year) if isinstance(year, float) else year)
    )
    retracted = row.get("retracted")
    return {
        "title": str(row.get("title") or "(no title)"),
        "authors": shown,
        "journal": str(row.get("journal") or ""),
        "year": year_text,
        "abstract": _clip(row.get("abstract"), MAX_ABSTRACT),
        "ids": _ids(row),
        "record_id": str(row.get("record_id") or ""),
        "status": str(row.get("status") or ""),
        "retracted": retracted is True or str(retracted).lower() in ("yes", "true", "1"),
    }


def _included_view(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        return {"label": str(item), "ids": [], "outcomes": ""}
    return {
        "label": str(item.get("label") or item.get("study_id") or ""),
        "ids": _ids(item),
        "outcomes": ", ".join(_as_list(item.get("outcomes"))),
    }


def _clip(text: Any, limit: int) -> str:
    if text is None:
        return ""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------------- links and images


def data_uri(image: Any) -> str | None:
    """A ``data:`` URI of an image: a path to a PNG or SVG file, its bytes, or a Figure
    (rendered to PNG). None gives None (the section says there is no image)."""
    if image is None:
        return None
    if isinstance(image, Figure):
        data, mime = render(image, "png", dpi=150), "image/png"
    elif isinstance(image, bytes | bytearray):
        data = bytes(image)
        mime = "image/png" if data.startswith(b"\x89PNG") else "image/svg+xml"
    elif isinstance(image, str | os.PathLike):
        path = Path(image)
        data = path.read_bytes()
        mime = {".png": "image/png", ".svg": "image/svg+xml"}.get(path.suffix.lower())
        if mime is None:
            raise ValueError(f"report images must be .png or .svg files, got {path}")
    else:
        raise TypeError(f"not an image: {type(image).__name__}")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


__all__: Sequence[str] = [
    "build_changes",
    "ctgov_url",
    "data_uri",
    "doi_url",
    "pubmed_url",
    "render_run_report",
    "write_run_report",
]
