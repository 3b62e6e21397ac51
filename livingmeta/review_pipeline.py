"""What the review-workflow rules do: screening hand-over, PRISMA, the run report with
its history, and the results site. Plain functions; the Snakemake scripts only call them.

Human-edited files are only ever appended to (queue, studies) and never rewritten;
derived files go to ``results/``, written atomically after the work succeeded.
"""

from __future__ import annotations

import csv
import json
import platform
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from livingmeta import __version__
from livingmeta.approval import (
    compare_drafts,
    extraction_problems,
    extraction_template,
    read_drafts,
)
from livingmeta.atomic import write_json, write_text
from livingmeta.blockers import DRAFTS_FOLDER, analysis_blockers, blocker_lines
from livingmeta.config import Review
from livingmeta.extraction import read_table
from livingmeta.plots import save_figure
from livingmeta.retrieval.imports import PREVIOUS_VERSION
from livingmeta.retrieval.registry import Registry
from livingmeta.screening.decisions import load_decisions
from livingmeta.screening.queue import read_queue
from livingmeta.screening.settings import ScreeningSettings
from livingmeta.screening.status import screening_status
from livingmeta.screening.studies import read_studies
from livingmeta.screening.update import update_screening
from livingmeta.validation import InputError

HISTORY_FILE = "history.csv"


def history_path(review: Review) -> Path:
    """Pooled estimates of every run: review state, committed with the review's files."""
    return review.folder / HISTORY_FILE


# -- screening ------------------------------------------------------------------------


def check_screening(review: Review, marker: str | Path) -> None:
    """Validate the reviewers' screening files (all problems at once); write a marker.

    A separate step so that invalid decisions stop the run before any screening output,
    report or figure is replaced (only this hidden marker is removed).
    """
    settings = ScreeningSettings.from_review(review)
    queue = read_queue(settings.queue)
    problems = []
    for check in (
        lambda: load_decisions(
            settings.decisions, settings.exclusion_reasons, set(queue["record_id"])
        ),
        lambda: read_studies(settings.studies),
    ):
        try:
            check()
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    write_json(marker, {"review": review.id, "queue": len(queue)})


def check_extraction(review: Review, marker: str | Path) -> None:
    """Validate the whole extraction table (data contract and approval columns) and write
    a marker; the screening step depends on it, so an invalid table stops the run before
    the screening outputs are replaced (the per-outcome checks guard the results)."""
    problems = extraction_problems(review.extraction, {o.name: o for o in review.outcomes})
    if problems:
        raise InputError(problems)
    write_json(marker, {"review": review.id})


def screen_new_records(
    review: Review,
    candidates_csv: str | Path,
    retrieval_report: str | Path,
    status_json: str | Path,
    conflicts_csv: str | Path,
    template_csv: str | Path,
    differences_csv: str | Path,
) -> dict[str, Any]:
    """Queue this run's candidates, settle screening states, append included studies,
    and list what reviewers must do next (conflicts, extraction rows, disagreements)."""
    run_id = json.loads(Path(retrieval_report).read_text(encoding="utf-8"))["run_id"]
    with open(candidates_csv, newline="", encoding="utf-8") as handle:
        candidates = list(csv.DictReader(handle))
    candidates += handed_over_but_not_queued(review, {c["record_id"] for c in candidates})
    update = update_screening(review, candidates, run_id)
    status = update.to_dict()
    status["run_id"] = run_id
    status["prisma_new"] = _new_records_status(review).prisma
    status["blockers"] = analysis_blockers(review)

    outcomes = {o.name: o for o in review.outcomes}
    extraction = read_table(review.extraction)
    template = extraction_template(
        read_studies(review.folder / "studies.csv"), extraction, outcomes
    )
    differences = compare_drafts(read_drafts(review.folder / DRAFTS_FOLDER), extraction, outcomes)
    conflicts = pd.DataFrame(
        [
            {"record_id": c.record_id, "stage": c.stage, "decisions": "; ".join(map(str, c.votes))}
            for c in update.status.conflicts
        ],
        columns=["record_id", "stage", "decisions"],
    )
    write_text(template_csv, template.to_csv(index=False))
    write_text(differences_csv, differences.to_csv(index=False))
    write_text(conflicts_csv, conflicts.to_csv(index=False))
    write_json(status_json, status)
    return status


def handed_over_but_not_queued(review: Review, pending: set[str]) -> list[dict[str, Any]]:
    """Candidates the registry has handed over that are missing from the queue.

    The search step marks candidates as handed over when it writes ``candidates.csv``;
    if that file was lost before this step queued it (a failed strict run, an
    interrupted schedule, a retried job), the registry would never offer those records
    again. Recomputing them here makes the queue, not a transient file, the record of
    what reviewers received.
    """
    from livingmeta.retrieval.candidate_export import candidate_rows
    from livingmeta.retrieval.registry import CANDIDATE, LINKED_TO_EXISTING, NEW, Candidate

    settings = ScreeningSettings.from_review(review)
    queued = set(read_queue(settings.queue)["record_id"]) | pending
    registry = Registry.load(review.state / "registry")
    if not len(registry):
        return []
    cluster_of = registry.cluster_of()
    clusters = registry.clusters()
    missing = []
    for record in registry.records():
        entry = registry.entry(record.record_id)
        if (
            record.record_id in queued
            or entry.reported_in in (None, PREVIOUS_VERSION)
            or entry.reported_as not in (CANDIDATE, LINKED_TO_EXISTING)
        ):
            continue
        members = clusters[cluster_of[record.record_id]]
        same_run = tuple(m for m in members if registry.entry(m).reported_in == entry.reported_in)
        earlier = tuple(m for m in members if m not in same_run)
        status = NEW if entry.reported_as == CANDIDATE else LINKED_TO_EXISTING
        missing.append(
            Candidate(cluster_of[record.record_id], status, record.record_id, same_run, earlier)
        )
    return candidate_rows(registry, missing)


def _new_records_status(review: Review) -> Any:
    """Screening status of the records found since the previous version, for PRISMA's
    'new studies' boxes (later reports of known studies are duplicates there)."""
    settings = ScreeningSettings.from_review(review)
    queue = read_queue(settings.queue)
    new = queue[(queue["queued_in"] != PREVIOUS_VERSION) & (queue["status"] == "new")]
    decisions = load_decisions(
        settings.decisions, settings.exclusion_reasons, set(queue["record_id"])
    )
    return screening_status(
        new, decisions, settings.reviewers_required, settings.stages, settings.exclusion_reasons
    )


# -- PRISMA -----------------------------------------------------------------------------


def prisma_counts(review: Review, status: Mapping[str, Any]) -> dict[str, Any]:
    """PRISMA 2020 counts: records identified per source in every run since the previous
    version (registry), screening of those records, and the previous version's studies."""
    from livingmeta.report.prisma import assemble_counts

    registry = Registry.load(review.state / "registry")
    # Every configured source gets its box, with 0 until a search of it succeeds.
    identification: dict[str, dict[str, int]] = {
        s["source"]: {"identified": 0, "duplicates_removed": 0, "to_screen": 0, "pending": 0}
        for s in review.spec.get("searches", [])
    }
    # Each record counts once, in the run that first retrieved it (overlapping windows
    # retrieve records again; that is not a new identification).
    for record in registry.records():
        entry = registry.entry(record.record_id)
        if entry.first_seen == PREVIOUS_VERSION:
            continue
        row = identification.setdefault(
            record.source, {"identified": 0, "duplicates_removed": 0, "to_screen": 0, "pending": 0}
        )
        row["identified"] += 1
        if entry.reported_in is None:
            row["pending"] += 1
        elif entry.reported_as == "candidate":
            row["to_screen"] += 1
        else:
            row["duplicates_removed"] += 1
    runs = [identification]
    studies = read_studies(review.folder / "studies.csv")
    new_studies = int((studies["included_in"] != PREVIOUS_VERSION).sum()) if len(studies) else 0
    return assemble_counts(
        runs,
        status["prisma_new"],
        previous=review.spec.get("previous_version"),
        new_studies=new_studies,
    )


def write_prisma(
    review: Review,
    status_json: str | Path,
    counts_json: str | Path,
    stem: str | Path,
    formats: Sequence[str],
) -> dict[str, Any]:
    """The PRISMA 2020 flow diagram (figure files) and its counts (JSON)."""
    from livingmeta.report.prisma import prisma_figure

    counts = prisma_counts(review, json.loads(Path(status_json).read_text(encoding="utf-8")))
    save_figure(prisma_figure(counts, title=review.title), stem, formats=formats)
    write_json(counts_json, counts)
    return counts


# -- run report and history ---------------------------------------------------------------


def write_run_report(
    review: Review,
    *,
    retrieval_report: str | Path,
    candidates_csv: str | Path,
    status_json: str | Path,
    prisma_json: str | Path,
    pooled: Mapping[str, str | Path],
    forest: Mapping[str, str | Path],
    html_path: str | Path,
    changes_path: str | Path,
) -> dict[str, Any]:
    """Record this run's pooled estimates in the review's history and write the
    self-contained run report ("what changed since the last run") and ``changes.json``.

    The report is also archived as ``report/runs/<run id>.html`` beside ``html_path``.
    """
    from livingmeta.report.history import history_figure, history_row, read_history, update_history
    from livingmeta.report.run_report import write_run_report as write_report

    retrieval = json.loads(Path(retrieval_report).read_text(encoding="utf-8"))
    status = json.loads(Path(status_json).read_text(encoding="utf-8"))
    run_id, run_date = retrieval["run_id"], retrieval["run_id"][:10]
    after = {
        name: json.loads(Path(path).read_text(encoding="utf-8")) for name, path in pooled.items()
    }

    history = read_history(history_path(review))
    earlier = history[(history["review"] == review.id) & (history["run_id"] != run_id)]
    previous = earlier.sort_values(["date", "run_id"]).tail(1)
    previous_id = None if previous.empty else str(previous["run_id"].iloc[0])
    before = {
        row["outcome"]: row for row in earlier[earlier["run_id"] == previous_id].to_dict("records")
    }
    history = update_history(
        history_path(review),
        [history_row(run_id, run_date, review.id, name, result) for name, result in after.items()],
    )

    with open(candidates_csv, newline="", encoding="utf-8") as handle:
        candidates = list(csv.DictReader(handle))
    decisions = _decisions_since(review, None if previous.empty else str(previous["date"].iloc[0]))
    blockers = status.get("blockers", {})
    context = {
        "review": {k: review.spec.get(k) for k in ("title", "question", "citation")}
        | {"id": review.id, "title": review.title},
        "run": {
            "id": run_id,
            "date": run_date,
            "previous_id": previous_id,
            "previous_date": None if previous.empty else str(previous["date"].iloc[0]),
        },
        "software": software_versions(),
        "searches": review.spec.get("searches", []),
        "retrieval": retrieval,
        "candidates": candidates,
        "screening": {
            "decisions_since_last_run": decisions,
            "conflicts": sum(len(s["conflicts"]) for s in status["stages"].values()),
            "newly_included": [
                {"study_id": s["study_id"], "label": s.get("study_label", s["study_id"])}
                for s in status.get("new_studies", [])
            ],
        },
        "outcomes": [
            {
                "name": o.name,
                "label": o.label,
                "before": _history_result(before.get(o.name)),
                "after": after[o.name].get("result") if o.name in after else None,
                "forest": forest.get(o.name),
                "history": history_figure(history, o.name, o.label, o.measure, review=review.id),
            }
            for o in review.outcomes
        ],
        "prisma": json.loads(Path(prisma_json).read_text(encoding="utf-8")),
        "invalid_data": bool(blockers.get("invalid")),
        "problems": blocker_lines(blockers) if blockers else [],
    }
    changes = write_report(context, html_path, changes_path)
    archive = Path(html_path).parent / "runs" / f"{run_id}.html"
    write_text(archive, Path(html_path).read_text(encoding="utf-8"))
    return changes


def _history_result(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A history row in the shape of ``PooledResult.to_dict()`` (what the report compares)."""
    if row is None:
        return None
    keys = ("measure", "k", "estimate", "ci_low", "ci_high", "p", "i2", "tau2")
    return {k: (None if pd.isna(row.get(k)) else row.get(k)) for k in keys}


def _decisions_since(review: Review, since: str | None) -> int:
    """Screening decisions dated after the previous run (all of them on a first run)."""
    settings = ScreeningSettings.from_review(review)
    decisions = load_decisions(settings.decisions, settings.exclusion_reasons)
    if since is None or decisions.empty:
        return len(decisions)
    return int((decisions["date"] > since[:10]).sum())


def write_history_plot(
    review: Review, outcome_name: str, stem: str | Path, formats: Sequence[str]
) -> None:
    """The estimate-over-time plot of one outcome, from the review's history."""
    from livingmeta.report.history import history_figure, read_history

    outcome = review.outcome(outcome_name)
    figure = history_figure(
        read_history(history_path(review)),
        outcome.name,
        outcome.label,
        outcome.measure,
        review=review.id,
    )
    save_figure(figure, stem, formats=formats)


def collect_history(reviews: Sequence[Review], path: str | Path) -> None:
    """Every review's history in one portfolio table (``results/history.csv``)."""
    from livingmeta.report.history import read_history

    frames = [read_history(history_path(r)) for r in reviews if history_path(r).exists()]
    frame = pd.concat(frames, ignore_index=True) if frames else read_history(Path("/nonexistent"))
    write_text(path, frame.to_csv(index=False))


def software_versions() -> dict[str, str]:
    """Versions that produced the numbers (for provenance)."""
    import matplotlib
    import numpy
    import scipy

    return {
        "livingmeta": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "matplotlib": matplotlib.__version__,
    }


# -- site ---------------------------------------------------------------------------------


def review_page(review: Review, results: str | Path = "results") -> Any:
    """The site's page of one review, from its results folder and files."""
    from livingmeta.site import OutcomePage, ReviewPage, StudyLink, collect_images

    root = Path(results) / review.id
    outcomes = []
    for o in review.outcomes:
        folder = root / o.name
        pooled_path = folder / "pooled.json"
        pooled = json.loads(pooled_path.read_text(encoding="utf-8")) if pooled_path.exists() else {}
        outcomes.append(OutcomePage(o.name, o.label, pooled, collect_images(folder)))
    registry = Registry.load(review.state / "registry")
    studies = []
    for study in read_studies(review.folder / "studies.csv").to_dict("records"):
        records = []
        for rid in filter(None, (r.strip() for r in study["record_ids"].split(";"))):
            try:
                records.append(registry.entry(rid).record)
            except KeyError:
                continue
        studies.append(
            StudyLink(
                study["study_id"],
                study.get("study_label") or study["study_id"],
                study.get("year") or None,
                tuple(r.pmid for r in records if r.pmid),
                tuple(r.doi for r in records if r.doi),
                tuple(n for r in records for n in r.nct_ids),
            )
        )
    report_path = root / "retrieval" / "report.json"
    retrieval = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else {}
    prisma = root / "prisma.png"
    latest = root / "report" / "latest.html"
    return ReviewPage(
        id=review.id,
        title=review.title,
        question=review.spec.get("question"),
        citation=review.spec.get("citation"),
        outcomes=outcomes,
        prisma=prisma if prisma.exists() else None,
        report=latest if latest.exists() else None,
        studies=studies,
        provenance={"run": retrieval.get("run_id"), "software": software_versions()},
        stale_sources=retrieval.get("stale", []),
        updated=str(retrieval.get("run_id", ""))[:10] or date.today().isoformat(),
    )


def write_site(
    reviews: Sequence[Review], out_dir: str | Path, results: str | Path = "results"
) -> None:
    """The static results site of the whole portfolio."""
    from livingmeta.site import build_site

    build_site([review_page(r, results) for r in reviews], out_dir)
