"""Rules of ``report.smk``: the PRISMA 2020 flow diagram, the run report with the
review's history of estimates and their plots, and the portfolio's history table."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from livingmeta.config import Review
from livingmeta.files import ANALYSIS_SOFTWARE, software_versions, write_json, write_text
from livingmeta.outcome_analysis import OutcomeAnalysis, read_analysis

#: Resolution of the estimate-over-time plots written as files (PNG).
HISTORY_DPI = 200


def draw_prisma(
    review: Review,
    *,
    status: str | Path,
    registry: str | Path,
    studies: str | Path,
    counts: str | Path,
    figures: Sequence[str | Path],
    queue: str | Path | None = None,
    decisions: str | Path | None = None,
) -> dict[str, Any]:
    """PRISMA 2020 counts (JSON) and flow diagram (``figures``): records identified per
    source since the previous version (``registry``), screening of those records
    (``status``), and the previous version's and new ``studies``. Studies removed after
    inclusion (a retraction decision in ``studies``; an exclusion in ``decisions`` of
    records of the ``queue``) are counted with their reason, not dropped."""
    from livingmeta.plots import save_figure
    from livingmeta.report.prisma import assemble_counts, prisma_figure
    from livingmeta.retrieval.imports import PREVIOUS_VERSION
    from livingmeta.retrieval.registry import Registry
    from livingmeta.screening.queue import read_queue
    from livingmeta.screening.studies import read_studies
    from livingmeta.study_scope import removed_from_files, removed_studies

    sources = [s["source"] for s in review.spec.get("searches", [])]
    identification = Registry.load(registry).identification_counts(
        sources, skip_run=PREVIOUS_VERSION
    )
    included = read_studies(studies)
    if queue is None or decisions is None:
        removed, records = removed_studies(included), None
    else:
        removed, records = removed_from_files(review, studies, queue, decisions), read_queue(queue)
    gone = {s["study_id"] for s in removed}
    new = included[(included["included_in"] != PREVIOUS_VERSION) & ~included["study_id"].isin(gone)]
    screening = json.loads(Path(status).read_text(encoding="utf-8"))
    previous = review.spec.get("previous_version")
    numbers = assemble_counts(
        [identification],
        screening["prisma_new"],
        previous=previous,
        new_studies=len(new),
        removed=_prisma_removals(removed, included, records, screening, previous is not None),
    )
    save_figure(prisma_figure(numbers, title=review.title), list(figures))
    write_json(counts, numbers)
    return numbers


def _prisma_removals(
    removed: list[dict[str, Any]],
    studies: Any,
    queue: Any,
    screening: Mapping[str, Any],
    updated: bool,
) -> list[dict[str, Any]]:
    """Each removed study as PRISMA counts it: in the previous version (its reports of
    that version) or found since (its reports the screening included; none when the
    screening itself excluded them, as it counted them already)."""
    from livingmeta.retrieval.imports import PREVIOUS_VERSION
    from livingmeta.screening.queue import split_ids

    record_ids = dict(zip(studies["study_id"], studies["record_ids"], strict=True))
    queued_in: dict[str, str] = {}
    new_records: set[str] = set()  # as new_records_status: queued since, not linked
    if queue is not None:
        queued_in = dict(zip(queue["record_id"], queue["queued_in"], strict=True))
        since = (queue["status"] == "new") & (queue["queued_in"] != PREVIOUS_VERSION)
        new_records = set(queue.loc[since, "record_id"])
    new_records &= {r["record_id"] for r in screening.get("included_reports", [])}
    out = []
    for study in removed:
        ids = split_ids(record_ids.get(study["study_id"], ""))
        reason = study["prisma_reason"]
        if study["included_in"] == PREVIOUS_VERSION:
            if updated:  # without a previous version the diagram has no such column
                own = [r for r in ids if queued_in.get(r, PREVIOUS_VERSION) == PREVIOUS_VERSION]
                reports = max(len(own), 1)  # every study has a report
                out.append({"reason": reason, "previous": True, "reports": reports})
        elif not study["by_screening"]:
            found = len(set(ids) & new_records)
            out.append({"reason": reason, "previous": False, "reports": found})
    return out


def _removed_lines(
    review: Review,
    studies: str | Path | None,
    queue: str | Path | None,
    decisions: str | Path,
) -> list[str]:
    """``removed: ...`` lines of the run report (retractions; with the ``queue``, also
    exclusions recorded after inclusion)."""
    from livingmeta.screening.studies import read_studies
    from livingmeta.study_scope import removed_from_files, removed_studies, removed_text

    if not studies:
        return []
    if queue is None:
        return removed_text(removed_studies(read_studies(studies)))
    return removed_text(removed_from_files(review, studies, queue, decisions))


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
    studies: str | Path | None = None,
    appraisal: Mapping[str, str | Path] | None = None,
    queue: str | Path | None = None,
    history_figures: Sequence[str | Path] = (),
) -> dict[str, Any]:
    """Record this run's pooled estimates in the review's ``history`` and write the
    self-contained run report ("what changed since the last run", ``html``), its
    ``changes`` JSON, a copy of the report as ``<archive>/<run id>.html`` (the
    review's ``reports/`` folder), and the estimate-over-time plots it shows into
    ``history_figures`` (``<outcome folder>/history.<format>``; drawn once, here, from
    the history just recorded). Studies removed by a decision in ``studies`` (or by an
    exclusion after inclusion in ``decisions``, given the ``queue``) are named.
    A same-day rebuild with nothing new keeps the last run's id (see
    :func:`~livingmeta.report.history.rebuilt_run`). The certainty of each outcome's
    evidence (``appraisal["appraisal_grade_inputs"]``, written by ``summarise_findings``)
    is recorded with its estimate, so a change of certainty since the previous run is a
    change of conclusion."""
    from livingmeta.blockers import pending_lines
    from livingmeta.report.history import rebuilt_run, update_history
    from livingmeta.report.history_plot import history_figure
    from livingmeta.report.run_report import write_run_report

    run = json.loads(Path(retrieval).read_text(encoding="utf-8"))
    screening = json.loads(Path(status).read_text(encoding="utf-8"))
    run_id, run_date = run["run_id"], run["run_id"][:10]
    read = {name: read_analysis(path) for name, path in pooled.items()}
    analyses = {n: a for n, a in read.items() if isinstance(a, OutcomeAnalysis)}
    after = {name: analysis.display() for name, analysis in analyses.items()}
    files = _appraisal_files(appraisal)
    levels = _certainty_levels(files.get("grade_inputs"))
    # A rebuild (results/ deleted, same day, nothing new) is not a run of its own; a new
    # certainty of the evidence is something new.
    recorded = {n: r | {"certainty": _history_certainty(levels, n)} for n, r in after.items()}
    run_id = rebuilt_run(history, review.id, run_date, recorded, candidates) or run_id
    beyond = {name: _beyond_pooling(path) for name, path in pooled.items()}
    previous, before = _previous_run(review.id, run_id, history)
    after = _with_certainty(after, before, levels)
    table = update_history(history, _history_rows(run_id, run_date, review.id, analyses, levels))
    with open(candidates, newline="", encoding="utf-8") as handle:
        candidate_rows = list(csv.DictReader(handle))
    blockers = screening.get("blockers", {})
    decisions_table = _decisions(review, decisions)
    decisions_total = len(decisions_table)
    context = {
        "review": {k: review.spec.get(k) for k in ("title", "question", "citation")}
        | {"id": review.id, "title": review.title},
        "run": {"id": run_id, "date": run_date, **previous},
        "software": software_versions(*ANALYSIS_SOFTWARE),
        "searches": review.spec.get("searches", []),
        "retrieval": run,
        "candidates": candidate_rows,
        "screening": {
            "decisions_since_last_run": max(
                0,
                decisions_total
                - _decisions_before(decisions_table, archive, run_id, previous["previous_date"]),
            ),
            "conflicts": sum(len(s["conflicts"]) for s in screening["stages"].values()),
            "newly_included": _newly_included(
                screening.get("new_studies", []), studies, {run_id, run["run_id"]}
            ),
        },
        "outcomes": [
            {
                "name": o.name,
                "label": o.label,
                "before": before.get(o.name),
                "after": after.get(o.name),
                "no_data": o.name in read and o.name not in analyses,
                "forest": forest.get(o.name),
                "beyond_pooling": beyond.get(o.name),
                "history": history_figure(
                    table, o.name, o.label, o.measure, review=review.id, model=o.model
                ),
            }
            for o in review.outcomes
        ],
        "prisma": json.loads(Path(prisma).read_text(encoding="utf-8")),
        "removed": _removed_lines(review, studies, queue, decisions),
        **appraisal_context(review, analyses, table, files),
        "invalid_data": bool(blockers.get("invalid")),
        # Only invalid data failed validation; the rest is reviewers' work still to do.
        "problems": list(blockers.get("invalid") or []),
        "pending": pending_lines(blockers, review.id) if blockers else [],
    }
    changed = write_run_report(context, html, changes)
    _save_history_figures(context["outcomes"], history_figures)
    write_text(Path(archive) / f"{run_id}.html", Path(html).read_text(encoding="utf-8"))
    write_json(Path(archive) / f"{run_id}.json", {"run_id": run_id, "decisions": decisions_total})
    return changed


def _save_history_figures(
    outcomes: Sequence[Mapping[str, Any]], figures: Sequence[str | Path]
) -> None:
    """Each outcome's estimate-over-time plot (the report's Figure) into its files."""
    from livingmeta.plots import save_figure

    by_outcome: dict[str, list[Path]] = {}
    for file in map(Path, figures):
        by_outcome.setdefault(file.parent.name, []).append(file)
    for outcome in outcomes:
        if files := by_outcome.get(outcome["name"]):
            save_figure(outcome["history"], files, dpi=HISTORY_DPI)


def _newly_included(
    appended: list[dict[str, Any]], studies: str | Path | None, run_ids: set[str]
) -> list[dict[str, str]]:
    """The studies this run included: those its screening step appended to ``studies``
    and those ``studies`` records as included in this run (``included_in``), so a
    same-day rerun that keeps the run's id reports them again instead of losing them."""
    from livingmeta.screening.studies import read_studies
    from livingmeta.validation import InputError

    rows = list(appended)
    if studies is not None and Path(studies).exists():
        with suppress(InputError):  # an invalid studies.csv is reported by its check
            table = read_studies(studies)
            if "included_in" in table.columns:
                rows += table[table["included_in"].isin(run_ids)].to_dict("records")
    found: dict[str, dict[str, str]] = {}
    for row in rows:
        sid = str(row["study_id"])
        found.setdefault(sid, {"study_id": sid, "label": str(row.get("study_label") or sid)})
    return list(found.values())


def _certainty_levels(path: str | Path | None) -> dict[str, str | None]:
    """Outcome -> its GRADE certainty (``high`` ... ``very low``; None: not yet assessed),
    from ``grade_inputs.json``; empty without the file (the certainty is then not known)."""
    if not path or not Path(path).exists():
        return {}
    return dict(json.loads(Path(path).read_text(encoding="utf-8")).get("certainty") or {})


def _history_rows(
    run_id: str,
    run_date: str,
    review_id: str,
    analyses: Mapping[str, OutcomeAnalysis],
    levels: Mapping[str, str | None],
) -> list[dict[str, Any]]:
    """This run's rows of the history: each pooled outcome's estimate, participants and
    certainty."""
    from livingmeta.report.history import history_row

    rows = []
    for name, analysis in analyses.items():
        certainty = _history_certainty(levels, name)
        result = analysis.display()
        rows.append(
            history_row(run_id, run_date, review_id, name, result, analysis.participants, certainty)
        )
    return rows


def _history_certainty(levels: Mapping[str, str | None], outcome: str) -> str:
    """The history's ``certainty`` cell: the level, ``not assessed``, or empty (not known)."""
    from livingmeta.report.history import NOT_ASSESSED

    if outcome not in levels:
        return ""
    return levels[outcome] or NOT_ASSESSED


def _with_certainty(
    after: Mapping[str, dict[str, Any]],
    before: Mapping[str, Mapping[str, Any]],
    levels: Mapping[str, str | None],
) -> dict[str, dict[str, Any]]:
    """The results with their ``certainty`` to compare with the previous run's: only when
    that run recorded one (or there was none), so a history written before the column
    reports no change of certainty."""
    out = {}
    for name, result in after.items():
        known = name in levels and (name not in before or "certainty" in before[name])
        out[name] = result | {"certainty": levels[name]} if known else result
    return out


def _beyond_pooling(path: str | Path) -> dict[str, Any] | None:
    """The outcome's analyses beyond pooling, formatted for the report (None if none)."""
    from livingmeta.beyond_pooling_view import beyond_pooling_view

    return beyond_pooling_view(json.loads(Path(path).read_text(encoding="utf-8")))


def _appraisal_files(inputs: Mapping[str, Any] | None) -> dict[str, str]:
    """The ``appraisal_<what>`` inputs of the rule, by ``<what>``."""
    prefix = "appraisal_"
    return {
        key.removeprefix(prefix): str(path)
        for key, path in (inputs or {}).items()
        if key.startswith(prefix)
    }


def appraisal_context(
    review: Review,
    analyses: Mapping[str, OutcomeAnalysis],
    table: Any,
    files: Mapping[str, str | Path],
) -> dict[str, Any]:
    """The run report's appraisal sections: sequential monitoring of the outcomes that
    declare it (``monitoring``, also in ``changes.json``) and the risk-of-bias,
    characteristics and summary-of-findings results named in ``files``."""
    from livingmeta.report.monitoring import history_looks, monitoring_chart

    charts = []
    for outcome in review.outcomes:
        settings = review.sequential(outcome.name)
        if settings is None or outcome.name not in analyses:
            continue
        looks = history_looks(table, review.id, outcome.name)
        where = f"reviews[{review.id}].outcomes[{outcome.name}].sequential"
        result = analyses[outcome.name].result
        chart, figure = monitoring_chart(outcome, settings, result, looks, where)
        charts.append({**chart.to_dict(), "figure": figure})
    out: dict[str, Any] = {}
    if charts:
        out["monitoring"] = charts
    if files:
        out["appraisal"] = {
            "files": dict(files),
            "restricted": {
                name: a.risk_of_bias.to_json()
                for name, a in analyses.items()
                if a.risk_of_bias is not None
            },
            "labels": {o.name: o.label for o in review.outcomes},
        }
    return out


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
        | _recorded_certainty(row.get("certainty"))
        for row in earlier[earlier["run_id"] == previous_id].to_dict("records")
    }
    return {"previous_id": previous_id, "previous_date": str(last["date"].iloc[0])}, before


def _recorded_certainty(cell: Any) -> dict[str, str | None]:
    """``{"certainty": level}`` as a history cell recorded it (None: not assessed); empty
    when the run did not record it."""
    import pandas as pd

    from livingmeta.report.history import NOT_ASSESSED

    if cell is None or pd.isna(cell) or not str(cell):
        return {}
    return {"certainty": None if str(cell) == NOT_ASSESSED else str(cell)}


def _archived_before(archive: str | Path, run_id: str) -> str | None:
    """The date of the latest run before ``run_id`` whose report is archived. Every run
    archives its report, while only runs with estimates add history rows: the history's
    date is the fallback when the archive is gone."""
    earlier = sorted(p.stem for p in Path(archive).glob("*.html") if p.stem < run_id)
    return earlier[-1][:10] if earlier else None


def _decisions(review: Review, decisions: str | Path) -> Any:
    """The review's screening decisions (every row: decisions, consensus, withdrawals)."""
    from livingmeta.screening.decisions import load_decisions
    from livingmeta.screening.settings import ScreeningSettings

    return load_decisions(decisions, ScreeningSettings.from_review(review).exclusion_reasons)


def _decisions_before(table: Any, archive: str | Path, run_id: str, history_date: Any) -> int:
    """How many of the decisions (``table``) the previous run had seen: the count it
    archived beside its report (``<run id>.json``), since decisions are dated by day only
    and a decision made after a run on the same day is new to the next; else those dated
    on or before the previous run's day (report archive, then history), 0 on a first run."""
    earlier = sorted(p for p in Path(archive).glob("*.json") if p.stem < run_id)
    if earlier:
        with suppress(ValueError, KeyError, TypeError, OSError):
            return int(json.loads(earlier[-1].read_text(encoding="utf-8"))["decisions"])
    since = _archived_before(archive, run_id) or history_date
    if since is None or table.empty:
        return 0
    return int((table["date"] <= str(since)[:10]).sum())


def collect_history(*, histories: Sequence[str | Path], table: str | Path) -> None:
    """Every review's history in one portfolio ``table`` (reviews without a history yet
    are left out)."""
    import pandas as pd

    from livingmeta.report.history import read_history

    frames = [read_history(path) for path in histories if Path(path).exists()]
    frame = pd.concat(frames, ignore_index=True) if frames else read_history(Path("/nonexistent"))
    write_text(table, frame.to_csv(index=False))
