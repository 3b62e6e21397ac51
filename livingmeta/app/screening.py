"""Screening screen: one record at a time, a one-key decision, undo, progress.

A reviewer sees only their own decisions here: another reviewer's decision on a record
is shown (on the conflicts screen) only once the record's independent decisions are in.
Decisions are appended to ``screening/decisions.csv`` with the same function as
``livingmeta screen``; undo appends a withdrawal row.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, redirect, render_template, request, url_for

from livingmeta.app.guard import StaleFile
from livingmeta.app.pages import versions, workspace

if TYPE_CHECKING:
    from livingmeta.cli.screening_state import Loaded

blueprint = Blueprint("screening", __name__, url_prefix="/screening")
VIEWS = ("next", "mine")


def load() -> Loaded:
    """The review's screening files, validated, with every record's state."""
    from livingmeta.cli.screening_state import Loaded
    from livingmeta.screening.decisions import load_decisions
    from livingmeta.screening.queue import read_queue
    from livingmeta.screening.status import screening_status
    from livingmeta.screening.studies import read_studies

    ws = workspace()
    settings = ws.screening
    queue = read_queue(settings.queue)
    reasons = settings.exclusion_reasons
    decisions = load_decisions(
        settings.decisions, reasons, set(queue["record_id"]), settings.reviewers
    )
    status = screening_status(
        queue, decisions, settings.reviewers_required, settings.stages, reasons
    )
    return Loaded(ws.review, settings, queue, decisions, read_studies(settings.studies), status)


def my_decisions(loaded: Loaded, stage: str) -> dict[str, dict[str, Any]]:
    """This reviewer's independent decisions in effect at ``stage``, by record id."""
    d = loaded.decisions
    reviewer = workspace().reviewer.casefold()
    mine = d[
        (d["reviewer"].str.casefold() == reviewer)
        & (d["stage"] == stage)
        & (d["role"] == "independent")
    ]
    return {rec["record_id"]: rec for rec in mine.to_dict("records")}


def links(record: dict[str, str]) -> list[tuple[str, str]]:
    """(label, URL) of the record's PubMed, DOI and ClinicalTrials.gov ids; only valid
    identifiers become links."""
    from livingmeta.links import ctgov_url, doi_url, pubmed_url
    from livingmeta.screening.queue import split_ids

    out = []
    for column, label, url in (
        ("pmids", "PMID {}", pubmed_url),
        ("dois", "DOI {}", doi_url),
        ("nct_ids", "{}", ctgov_url),
    ):
        for value in split_ids(record.get(column, "")):
            link = url(value)
            if link:
                out.append((label.format(value), link))
    return out


def linked_study(record: dict[str, str], loaded: Loaded) -> str | None:
    """For a further report of a study already queued or included, which study (as
    ``livingmeta screen`` says it)."""
    from livingmeta.screening import LINKED_TO_EXISTING
    from livingmeta.screening.queue import linked_report_text

    if record.get("status") != LINKED_TO_EXISTING:
        return None
    return linked_report_text(record, loaded.studies, loaded.queue)


def progress(loaded: Loaded, stage: str) -> list[dict[str, Any]]:
    """Per reviewer at ``stage``: decisions recorded and records still waiting for them."""
    d = loaded.decisions
    at_stage = d[(d["stage"] == stage) & (d["role"] == "independent")]
    waiting = loaded.status.summary[stage].pending_by_reviewer
    rows = []
    for name in workspace().roster:
        decided = int((at_stage["reviewer"].str.casefold() == name.casefold()).sum())
        left = next((n for r, n in waiting.items() if r.casefold() == name.casefold()), None)
        rows.append({"reviewer": name, "decided": decided, "waiting": left})
    return rows


def choose_stage(loaded: Loaded) -> str:
    from livingmeta.cli.screen import records_to_screen

    stages = loaded.settings.stages
    stage = request.values.get("stage")
    if stage in stages:
        return stage
    reviewer = workspace().reviewer
    return next((s for s in stages if records_to_screen(loaded, reviewer, s)), stages[0])


@blueprint.get("/")
def show(error: str | None = None, stale: StaleFile | None = None, code: int = 200) -> Any:
    """The next record to screen (or the one asked for), with progress and filters."""
    from livingmeta.cli.screen import records_to_screen

    loaded = load()
    stage = choose_stage(loaded)
    view = request.values.get("view") if request.values.get("view") in VIEWS else "next"
    mine = my_decisions(loaded, stage)
    todo = records_to_screen(loaded, workspace().reviewer, stage)
    record_id = request.values.get("record") or (todo[0] if todo else None)
    if record_id and record_id not in todo and record_id not in mine:
        abort(404, "no such record to screen at this stage")
    records = {rec["record_id"]: rec for rec in loaded.queue.to_dict("records")}
    record = records.get(record_id) if record_id else None
    _, seen = versions().read(loaded.settings.decisions)
    page = render_template(
        "screening.html",
        linked=linked_study(record, loaded) if record else None,
        stage=stage,
        stages=loaded.settings.stages,
        view=view,
        record=record,
        links=links(record) if record else [],
        mine=mine,
        my_records=[records[r] for r in mine if r in records],
        left=len(todo),
        summary=loaded.status.summary[stage],
        progress=progress(loaded, stage),
        reasons=loaded.settings.exclusion_reasons,
        seen=seen,
        error=error,
        stale=stale,
    )
    return page, code


def _not_decided_yet(record_id: str, stage: str) -> Callable[[bytes], None]:
    """A check for :func:`append_decision`: the reviewer has no decision in effect."""

    def check(_: bytes) -> None:
        if record_id in my_decisions(load(), stage):
            raise ValueError(f"you already decided {record_id} at {stage}; undo it first")

    return check


def guarded_append(
    write: Callable[[Path, Callable[[bytes], None]], Any],
    seen: str,
    also: Callable[[bytes], None] | None = None,
) -> Any:
    """Call ``write(path, check)`` on the decisions file; ``check`` (run under its lock)
    refuses the write when the file was edited, not only appended to, since ``seen``."""
    path = workspace().writable(workspace().screening.decisions)

    def check(now: bytes) -> None:
        versions().check(path, seen, now, append_only=True)
        if also is not None:
            also(now)

    return write(path, check)


@blueprint.post("/decide")
def decide() -> Any:
    """Append this reviewer's decision, then show the next record."""
    from livingmeta.screening.decisions import append_decision

    form = request.form
    record_id, stage = form.get("record", ""), form.get("stage", "")
    decision, _, reason = form.get("choice", "").partition("|")
    settings = workspace().screening
    if stage not in settings.stages or (reason and reason not in settings.exclusion_reasons):
        abort(400, "unknown stage or reason")
    if decision == "exclude" and stage == "full_text" and not reason:
        return show(error="a reason is needed to exclude at full text", code=422)
    if record_id not in set(load().queue["record_id"]):
        abort(400, "unknown record")
    try:
        guarded_append(
            lambda path, check: append_decision(
                path, record_id, stage, workspace().reviewer, decision, reason, check=check
            ),
            request.form.get("seen", ""),
            _not_decided_yet(record_id, stage),
        )
    except StaleFile as stale:
        return show(stale=stale, code=409)
    except ValueError as exc:
        return show(error=str(exc), code=409)
    return redirect(url_for("screening.show", stage=stage))


@blueprint.post("/undo")
def undo() -> Any:
    """Withdraw this reviewer's latest decision (or the one named) and show that record."""
    from livingmeta.screening.decisions import withdraw_decision

    reasons = workspace().screening.exclusion_reasons
    record_id = request.form.get("record") or None
    try:
        withdrawn = guarded_append(
            lambda path, check: withdraw_decision(
                path, reasons, workspace().reviewer, record_id, check=check
            ),
            request.form.get("seen", ""),
        )
    except StaleFile as stale:
        return show(stale=stale, code=409)
    if withdrawn is None:
        return show(error="nothing to undo", code=409)
    return redirect(
        url_for("screening.show", stage=withdrawn["stage"], record=withdrawn["record_id"])
    )
