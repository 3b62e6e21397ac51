"""``changes.json``: the machine-readable summary of a run, which a scheduler reads to
decide whom to notify (``has_changes`` for reviewers, ``needs_attention`` for
maintainers; :mod:`livingmeta.schedule` reads the same keys)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livingmeta.report.estimates import compare_estimates, conclusion_changed, describe_change

RETRACTION_KINDS = ("retracted", "retraction_notices")
NOTICE_KINDS = (*RETRACTION_KINDS, "errata", "concerns")  # publication notices
WATCH_FAILED = "watch_list_failed"
TRIAL_KINDS = ("overall_status", "has_results", "results_first_posted")

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
        The report context (:mod:`livingmeta.report.run_report`'s docstring).

    Returns
    -------
    dict
        JSON-friendly, with the keys

        - ``review``, ``run_id``, ``date``, ``previous_run_id``;
        - ``new_candidates`` (int: candidates of studies new to the review, as
          ``report.json``'s ``new_candidates``), ``linked_reports`` (int: further reports
          of known studies, ``report.json``'s ``linked_to_existing``),
          ``decisions_since_last_run`` (int), ``conflicts``
          (int), ``newly_included`` (list, as given in ``screening``);
        - ``retractions``: the retrieval report's publication notices (``kind``
          ``retracted``, ``retraction_notices``, ``errata`` or ``concerns``);
          ``trial_changes`` (``overall_status``, ``has_results``,
          ``results_first_posted``); ``other_changes`` (e.g. ``missing_from_pubmed``);
          each item as in ``report.json`` (``kind, record_id, before, after``);
        - ``estimate_changes``: the :func:`compare_estimates` dicts with ``changed`` true
          (new outcome, significance gained or lost, direction reversed, measure changed),
          each with ``conclusion_changed`` (:func:`conclusion_changed`) and
          ``what_changed``, the change in words with the estimates before and after
          (:func:`describe_change`), so every reader of the file can say what changed;
          ``outcomes_not_pooled``: names of outcomes without a result this run;
          ``outcomes_without_data``: outcomes with no approved data yet (not a problem);
        - ``stale_sources`` (``search_id, since, failing``), ``failed_sources``
          (``search_id, source, error``; a failed re-check of watched records is listed
          as ``search_id`` ``watch_list``), ``invalid_data`` (bool);
        - ``sequential_monitoring`` (only for outcomes with ``sequential`` settings): per
          outcome the last look's ``status`` (``crossed_monitoring``, ``crossed_futility``,
          ``conventional_only``: significant by 1.96 only, ``not_significant``), its
          ``text``, ``z``, ``boundary``, ``fraction`` and the ``information_size``;
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
    comparisons, not_pooled = outcome_comparisons(context)
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
        **_candidate_counts(context),
        "decisions_since_last_run": int(screening.get("decisions_since_last_run") or 0),
        "conflicts": int(screening.get("conflicts") or 0),
        "newly_included": list(screening.get("newly_included") or []),
        "retractions": [c for c in changes if c.get("kind") in NOTICE_KINDS],
        "trial_changes": [c for c in changes if c.get("kind") in TRIAL_KINDS],
        "other_changes": [c for c in changes if c.get("kind") not in known],
        "estimate_changes": [_stated(c) for c in comparisons if c["changed"]],
        "outcomes_not_pooled": not_pooled,
        "outcomes_without_data": [
            o["name"] for o in context.get("outcomes") or [] if o.get("no_data")
        ],
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
    if context.get("monitoring"):
        out["sequential_monitoring"] = [
            {k: v for k, v in m.items() if k != "figure"} for m in context["monitoring"]
        ]
    out["has_changes"] = any(out[key] for key in (*CHANGE_KINDS, "linked_reports"))
    out["needs_attention"] = any(out[key] for key in (*PROBLEM_KINDS, "outcomes_not_pooled"))
    return out


def _stated(comparison: dict[str, Any]) -> dict[str, Any]:
    """A changed estimate with whether its conclusion changed and what changed, in words."""
    return comparison | {
        "conclusion_changed": conclusion_changed(comparison),
        "what_changed": describe_change(comparison),
    }


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


def _candidate_counts(context: Mapping[str, Any]) -> dict[str, int]:
    """New studies' candidates and further reports of known studies, counted the way
    ``report.json`` counts them (a candidate row's ``status``; rows without one are new)."""
    retrieval = context.get("retrieval") or {}
    linked = int(retrieval.get("linked_to_existing") or 0)
    if context.get("candidates_total") is not None:
        return {"new_candidates": int(context["candidates_total"]), "linked_reports": linked}
    if context.get("candidates") is not None:
        rows = context["candidates"]
        linked = sum(1 for row in rows if (row.get("status") or "new") != "new")
        return {"new_candidates": len(rows) - linked, "linked_reports": linked}
    return {"new_candidates": int(retrieval.get("new_candidates") or 0), "linked_reports": linked}


def outcome_comparisons(context: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The outcomes' estimate comparisons, and the outcomes not pooled this run (an outcome
    without approved data yet, ``no_data``, is neither: it is work to do, not a problem)."""
    comparisons, not_pooled = [], []
    for outcome in context.get("outcomes") or []:
        if outcome.get("no_data"):
            continue
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
