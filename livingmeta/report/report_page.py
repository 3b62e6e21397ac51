"""What the run report's page shows: the view model its template renders, built from the
report context (:mod:`livingmeta.report.run_report`) and its ``changes.json``.

Every number is formatted by :mod:`livingmeta.formatting`; every link is built from a
validated identifier; images are embedded as ``data:`` URIs so the page stands alone.
"""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from livingmeta.formatting import (
    MEASURE_NAMES,
    finite_number,
    format_effect,
    format_p,
    interval_decimals,
    is_ratio_measure,
    method_model,
    result_i2,
)
from livingmeta.links import ctgov_url, doi_url, pubmed_url
from livingmeta.outcome_analysis import main_result
from livingmeta.plots.save import render
from livingmeta.report.changes import RETRACTION_KINDS, outcome_comparisons
from livingmeta.report.prisma import prisma_figure, validate_counts

MAX_CANDIDATES = 200  # listed in the page; the rest are in the candidates file
MAX_ABSTRACT = 600  # characters of an abstract shown
MAX_ERROR = 240  # characters of a source's error message shown

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
    "unexpected_from_pubmed": "Refused: sent by PubMed without being asked for",
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
    (
        "certainty",
        "notice",
        "change of certainty of the evidence",
        "changes of certainty of the evidence",
    ),
    (
        "updated",
        "notice",
        "estimate updated (conclusion unchanged)",
        "estimates updated (conclusions unchanged)",
    ),
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


def _estimate_changes(changes: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Changed estimates in words (``conclusion_changes``: significance, direction or
    measure; ``updated_estimates``: the estimate moved, the conclusion did not)."""
    from livingmeta.report.estimates import conclusion_changed, describe_change

    listed = [c for c in changes.get("estimate_changes") or [] if not c.get("new")]
    return {
        key: [
            {"label": str(c.get("label") or c.get("outcome")), "text": describe_change(c)}
            for c in listed
            if conclusion_changed(c) == wanted
        ]
        for key, wanted in (("conclusion_changes", True), ("updated_estimates", False))
    }


def page_view(context: Mapping[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    from livingmeta.report.appraisal_view import appraisal_view

    review, run = context["review"], context["run"]
    retrieval = context.get("retrieval") or {}
    comparisons = {c["outcome"]: c for c in outcome_comparisons(context)[0]}
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
        **_estimate_changes(changes),
        "removed": [str(line) for line in context.get("removed") or []],
        "badges": _badges(changes),
        "outcomes": outcomes,
        "appraisal": appraisal_view(context),
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
        "candidates_more": max(
            0,
            changes["new_candidates"]
            + changes["linked_reports"]
            - min(len(candidates), MAX_CANDIDATES),
        ),
        "newly_included": [_included_view(s) for s in changes["newly_included"]],
        "searches": [_search_view(s, retrieval) for s in context.get("searches") or []],
        "problems": [str(p) for p in context.get("problems") or []],
        "pending": [str(p) for p in context.get("pending") or []],
        "screening": context.get("screening") or {},
    }


def _badges(changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The "What changed" badges, most urgent first; ``level`` is ``alert``, ``notice``
    or ``info`` (the text says it too, so the page reads the same in black and white)."""
    estimates = changes["estimate_changes"]
    notices = changes["retractions"]
    flipped = [c for c in estimates if c["significance_changed"] or c["direction_changed"]]
    counts = {
        "flipped": len(flipped),
        "certainty": sum(1 for c in estimates if c.get("certainty_changed")),
        # moved (or measured otherwise) without changing the conclusion
        "updated": sum(
            1
            for c in estimates
            if (c["updated"] or c["measure_changed"]) and not c["new"] and c not in flipped
        ),
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
    is_ratio = is_ratio_measure(measure)
    low, high = finite_number(low), finite_number(high)
    decimals = interval_decimals(low, high, is_ratio)
    return format_effect(finite_number(value), low, high, is_ratio, decimals)


def _outcome_view(outcome: Mapping[str, Any], cmp: dict[str, Any] | None) -> dict[str, Any]:
    after = main_result(outcome.get("after"))
    label = str(outcome.get("label") or outcome["name"])
    view: dict[str, Any] = {
        "name": str(outcome["name"]),
        "label": label,
        "pooled": after is not None,
        "flags": [],
        "forest": data_uri(outcome.get("forest")),
        "history": data_uri(outcome.get("history")),
        "history_alt": f"Pooled estimate of {label} with 95% CI at every run",
        "beyond_pooling": outcome.get("beyond_pooling"),
    }
    if after is None or cmp is None:
        no_data = bool(outcome.get("no_data"))
        flag = ("info", "No approved data yet") if no_data else ("alert", "Not pooled this run")
        view["flags"].append(flag)
        view.update(
            measure=outcome.get("measure") or "", before="", after="", k="", p="", i2="", model=""
        )
        before = main_result(outcome.get("before"))
        if before is not None:
            view["before"] = _fmt(
                before.get("estimate"),
                before.get("ci_low"),
                before.get("ci_high"),
                str(before.get("measure")),
            )
        view["alt"] = f"{label}: " + (
            "no approved data yet" if no_data else "not pooled in this run"
        )
        return view
    measure = cmp["measure"]
    view["measure"] = MEASURE_NAMES.get(measure, measure)
    view["model"] = method_model(str(after.get("method") or ""), str(after.get("model") or ""))
    view["after"] = _fmt(cmp["estimate_after"], cmp["ci_low_after"], cmp["ci_high_after"], measure)
    view["before"] = (
        "—"
        if cmp["new"]
        else _fmt(cmp["estimate_before"], cmp["ci_low_before"], cmp["ci_high_before"], measure)
    )
    view["k"] = f"{cmp['k_after']}" if cmp["new"] else f"{cmp['k_before']} → {cmp['k_after']}"
    p = cmp["p_after"]
    view["p"] = format_p(p)
    view["i2"] = result_i2(after)
    if cmp["new"]:
        view["flags"].append(("info", "New outcome"))
    if cmp["significance"] == "gained":
        view["flags"].append(("alert", "Significance gained: CI now excludes no effect"))
    if cmp["significance"] == "lost":
        view["flags"].append(("alert", "Significance lost: CI now includes no effect"))
    if cmp["direction_changed"]:
        view["flags"].append(("alert", "Direction reversed: estimate crossed no effect"))
    if cmp["measure_changed"]:
        before = cmp.get("measure_before") or "?"
        view["flags"].append(("notice", f"Effect measure changed: {before} → {cmp['measure']}"))
    if not cmp["new"] and cmp["k_before"] != cmp["k_after"]:
        view["flags"].append(("info", "Studies added or removed"))
    view["alt"] = (
        f"Forest plot of {label}: pooled {view['measure']} {view['after']}, "
        f"{cmp['k_after']} studies"
    )
    view["history_alt"] = f"Pooled {view['measure']} of {label} with 95% CI at every run"
    return view


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
        ("Further reports of the same studies", str(counts.get("linked_reports", 0))),
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
