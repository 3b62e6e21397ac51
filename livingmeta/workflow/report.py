"""Rules of ``report.smk``: the PRISMA 2020 flow diagram, the run report with the
review's history of estimates, and the portfolio's history table."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.files import ANALYSIS_SOFTWARE, software_versions, write_json, write_text
from livingmeta.outcome_analysis import OutcomeAnalysis


def draw_prisma(
    review: Review,
    *,
    status: str | Path,
    registry: str | Path,
    studies: str | Path,
    counts: str | Path,
    figures: Sequence[str | Path],
) -> dict[str, Any]:
    """PRISMA 2020 counts (JSON) and flow diagram (``figures``): records identified per
    source since the previous version (``registry``), screening of those records
    (``status``), and the previous version's and new ``studies``."""
    from livingmeta.plots import save_figure
    from livingmeta.report.prisma import assemble_counts, prisma_figure
    from livingmeta.retrieval.imports import PREVIOUS_VERSION
    from livingmeta.retrieval.registry import Registry
    from livingmeta.screening.studies import read_studies

    sources = [s["source"] for s in review.spec.get("searches", [])]
    identification = Registry.load(registry).identification_counts(
        sources, skip_run=PREVIOUS_VERSION
    )
    included = read_studies(studies)
    new_studies = int((included["included_in"] != PREVIOUS_VERSION).sum()) if len(included) else 0
    screening = json.loads(Path(status).read_text(encoding="utf-8"))
    numbers = assemble_counts(
        [identification],
        screening["prisma_new"],
        previous=review.spec.get("previous_version"),
        new_studies=new_studies,
    )
    save_figure(prisma_figure(numbers, title=review.title), list(figures))
    write_json(counts, numbers)
    return numbers


def report_run(
    review: Review,
    *,
    retrieval: str | Path,
    candidates: str | Path,
    status: str | Path,
    prisma: str | Path,
    pooled: Mapping[str, str | Path],
    forest: Mapping[str, str | Path],
    decisions: str | Path,
    history: str | Path,
    html: str | Path,
    changes: str | Path,
    archive: str | Path,
) -> dict[str, Any]:
    """Record this run's pooled estimates in the review's ``history`` and write the
    self-contained run report ("what changed since the last run", ``html``), its
    ``changes`` JSON, and a copy of the report as ``<archive>/<run id>.html``."""
    from livingmeta.blockers import blocker_lines
    from livingmeta.report.history import history_figure, history_row, update_history
    from livingmeta.report.run_report import write_run_report

    run = json.loads(Path(retrieval).read_text(encoding="utf-8"))
    screening = json.loads(Path(status).read_text(encoding="utf-8"))
    run_id, run_date = run["run_id"], run["run_id"][:10]
    after = {name: OutcomeAnalysis.read(path).display() for name, path in pooled.items()}
    previous, before = _previous_run(review.id, run_id, history)
    table = update_history(
        history,
        [history_row(run_id, run_date, review.id, name, result) for name, result in after.items()],
    )
    with open(candidates, newline="", encoding="utf-8") as handle:
        candidate_rows = list(csv.DictReader(handle))
    blockers = screening.get("blockers", {})
    context = {
        "review": {k: review.spec.get(k) for k in ("title", "question", "citation")}
        | {"id": review.id, "title": review.title},
        "run": {"id": run_id, "date": run_date, **previous},
        "software": software_versions(*ANALYSIS_SOFTWARE),
        "searches": review.spec.get("searches", []),
        "retrieval": run,
        "candidates": candidate_rows,
        "screening": {
            "decisions_since_last_run": _decisions_since(
                review, decisions, previous["previous_date"]
            ),
            "conflicts": sum(len(s["conflicts"]) for s in screening["stages"].values()),
            "newly_included": [
                {"study_id": s["study_id"], "label": s.get("study_label", s["study_id"])}
                for s in screening.get("new_studies", [])
            ],
        },
        "outcomes": [
            {
                "name": o.name,
                "label": o.label,
                "before": before.get(o.name),
                "after": after.get(o.name),
                "forest": forest.get(o.name),
                "history": history_figure(table, o.name, o.label, o.measure, review=review.id),
            }
            for o in review.outcomes
        ],
        "prisma": json.loads(Path(prisma).read_text(encoding="utf-8")),
        "invalid_data": bool(blockers.get("invalid")),
        "problems": blocker_lines(blockers) if blockers else [],
    }
    changed = write_run_report(context, html, changes)
    write_text(Path(archive) / f"{run_id}.html", Path(html).read_text(encoding="utf-8"))
    return changed


def _previous_run(
    review_id: str, run_id: str, history: str | Path
) -> tuple[dict[str, str | None], dict[str, dict[str, Any]]]:
    """The previous run of the review in ``history`` (id and date) and its estimates by
    outcome, in the shape of a result's display JSON (what the report compares)."""
    import pandas as pd

    from livingmeta.report.history import read_history

    table = read_history(history)
    earlier = table[(table["review"] == review_id) & (table["run_id"] != run_id)]
    last = earlier.sort_values(["date", "run_id"]).tail(1)
    if last.empty:
        return {"previous_id": None, "previous_date": None}, {}
    previous_id = str(last["run_id"].iloc[0])
    keys = ("measure", "k", "estimate", "ci_low", "ci_high", "p", "i2", "tau2")
    before = {
        row["outcome"]: {k: (None if pd.isna(row.get(k)) else row.get(k)) for k in keys}
        for row in earlier[earlier["run_id"] == previous_id].to_dict("records")
    }
    return {"previous_id": previous_id, "previous_date": str(last["date"].iloc[0])}, before


def _decisions_since(review: Review, decisions: str | Path, since: str | None) -> int:
    """Screening decisions dated after the previous run (all of them on a first run)."""
    from livingmeta.screening.decisions import load_decisions
    from livingmeta.screening.settings import ScreeningSettings

    reasons = ScreeningSettings.from_review(review).exclusion_reasons
    table = load_decisions(decisions, reasons)
    if since is None or table.empty:
        return len(table)
    return int((table["date"] > since[:10]).sum())


def collect_history(*, histories: Sequence[str | Path], table: str | Path) -> None:
    """Every review's history in one portfolio ``table`` (reviews without a history yet
    are left out)."""
    import pandas as pd

    from livingmeta.report.history import read_history

    frames = [read_history(path) for path in histories if Path(path).exists()]
    frame = pd.concat(frames, ignore_index=True) if frames else read_history(Path("/nonexistent"))
    write_text(table, frame.to_csv(index=False))
