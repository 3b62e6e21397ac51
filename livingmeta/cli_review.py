"""``livingmeta screen`` and ``livingmeta status``: screening at the terminal.

Why a terminal screener: dual independent screening needs each reviewer to see only the
records they have not decided, one at a time, and every decision must be kept even if the
terminal closes. ``screen`` appends each decision to ``screening/decisions.csv`` (atomic,
under a lock) the moment the key is pressed. ``status`` says where the review stands.

The lead's :func:`livingmeta.cli.build_parser` calls :func:`register` on its subparsers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import pandas as pd

from livingmeta.blockers import analysis_blockers, blocker_lines
from livingmeta.config import Review, load_config, reviews
from livingmeta.screening import LINKED_TO_EXISTING, STAGES
from livingmeta.screening.decisions import append_decision, load_decisions
from livingmeta.screening.queue import read_queue, split_ids
from livingmeta.screening.settings import ScreeningSettings
from livingmeta.screening.status import ScreeningStatus, screening_status
from livingmeta.screening.studies import StudiesUpdate, plan_studies, read_studies

#: ``read_key(prompt)`` returns the key (or line) typed, ``None`` at end of input.
KeyReader = Callable[[str], "str | None"]
DECISION_KEYS = {"i": "include", "e": "exclude", "m": "maybe"}
# Reason keys: 1-9 then letters (q is quit), so any key picks a reason in one keystroke.
REASON_KEYS = "123456789abcdefghijklmnoprstuvwxyz"
BACK_KEY, NO_REASON_KEY = "-", "0"
QUIT_KEYS = ("q", "\x03", "\x04")  # q, and Ctrl-C / Ctrl-D as a raw terminal sends them


@dataclass(frozen=True)
class Loaded:
    """Everything both commands read: the review, its settings and validated files."""

    review: Review
    settings: ScreeningSettings
    queue: pd.DataFrame
    decisions: pd.DataFrame
    studies: pd.DataFrame
    status: ScreeningStatus


def register(subparsers: Any) -> None:
    """Add ``screen`` and ``status`` to the ``livingmeta`` subcommands."""
    p = subparsers.add_parser(
        "screen",
        help="screen a review's queued records, one key per decision",
        description=(
            "Show the next record this reviewer has not decided at the stage and take a "
            "one-key decision: i include, e exclude (then a reason), m maybe, s skip, q quit. "
            "Each decision is saved at once to <folder>/screening/decisions.csv."
        ),
    )
    p.add_argument("--review", required=True, help="review id in the config")
    p.add_argument("--reviewer", required=True, help="your name as written in decisions.csv")
    p.add_argument("--stage", choices=STAGES, help="(default: first stage with records left)")
    p.add_argument("--config", default="config/config.yaml", help="(default config/config.yaml)")
    p.set_defaults(handler=cmd_screen)

    p = subparsers.add_parser(
        "status",
        help="where a review's screening stands",
        description=(
            "Per stage: records eligible, pending per reviewer, included, excluded by "
            "reason, conflicts with who said what, Cohen's kappa; and the included studies."
        ),
    )
    p.add_argument("--review", required=True, help="review id in the config")
    p.add_argument("--config", default="config/config.yaml", help="(default config/config.yaml)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_status)


def load_review(config_path: str, review_id: str) -> Loaded:
    """Read and validate the review's screening files (paths relative to the repo root).

    Raises
    ------
    ValueError
        Unknown review id or invalid screening settings.
    InputError
        Invalid queue, decisions or studies file (every problem listed).
    """
    portfolio = reviews(load_config(config_path))
    if review_id not in portfolio:
        raise ValueError(f"unknown review {review_id!r}; the config has {', '.join(portfolio)}")
    review = portfolio[review_id]
    settings = ScreeningSettings.from_review(review)
    queue = read_queue(settings.queue)
    decisions = load_decisions(
        settings.decisions, settings.exclusion_reasons, set(queue["record_id"])
    )
    studies = read_studies(settings.studies)
    status = screening_status(
        queue, decisions, settings.reviewers_required, settings.stages, settings.exclusion_reasons
    )
    return Loaded(review, settings, queue, decisions, studies, status)


def records_to_screen(loaded: Loaded, reviewer: str, stage: str) -> list[str]:
    """Records still pending at ``stage`` that ``reviewer`` has no independent row for."""
    states = loaded.status.states
    pending = states[(states["stage"] == stage) & (states["state"] == "pending")]["record_id"]
    d = loaded.decisions
    mine = d[(d["reviewer"] == reviewer) & (d["stage"] == stage) & (d["role"] == "independent")]
    decided = set(mine["record_id"])
    return [r for r in pending if r not in decided]


def cmd_screen(
    args: argparse.Namespace,
    read_key: KeyReader | None = None,
    today: dt.date | None = None,
    out: IO[str] | None = None,
) -> int:
    """Screen records one key at a time; each decision is appended as soon as it is made.

    ``read_key`` and ``today`` are injectable so tests drive a session with scripted keys.
    """
    out = out or sys.stdout
    read_key = read_key or default_reader()
    loaded = load_review(args.config, args.review)
    reviewer = args.reviewer.strip()
    if not reviewer:
        raise ValueError("--reviewer must not be empty")
    stages = loaded.settings.stages
    if args.stage and args.stage not in stages:
        raise ValueError(f"review {args.review} screens only at {', '.join(stages)}")
    stage = args.stage or next(
        (s for s in stages if records_to_screen(loaded, reviewer, s)), stages[0]
    )
    todo = records_to_screen(loaded, reviewer, stage)
    eligible = int((loaded.status.states["stage"] == stage).sum())
    rows = {rec["record_id"]: rec for rec in loaded.queue.to_dict("records")}
    saved = 0
    try:
        for position, record_id in enumerate(todo):
            out.write(describe_record(rows[record_id], loaded, width=_width()))
            out.write(f"\n{len(todo) - position} of {eligible} left at {stage} for {reviewer}\n")
            choice = _ask(read_key, stage, loaded.settings.exclusion_reasons, out)
            if choice is None:
                break
            if choice == "skip":
                continue
            decision, reason = choice
            append_decision(
                loaded.settings.decisions, record_id, stage, reviewer, decision, reason,
                date=today or dt.date.today(),
            )  # fmt: skip
            saved += 1
        else:
            out.write(f"\nNothing left to screen at {stage} for {reviewer}.\n")
    except KeyboardInterrupt:
        out.write(f"\nStopped. {saved} decision(s) saved to {loaded.settings.decisions}\n")
        return 130
    out.write(f"{saved} decision(s) saved to {loaded.settings.decisions}\n")
    return 0


def _ask(
    read_key: KeyReader, stage: str, reasons: tuple[str, ...], out: IO[str]
) -> tuple[str, str] | str | None:
    """One decision: ``(decision, reason)``, ``"skip"``, or ``None`` to quit."""
    while True:
        key = read_key("[i]nclude  [e]xclude  [m]aybe  [s]kip  [q]uit > ")
        if key is None:
            return None
        key = key.strip().lower()[:1]  # a typed word counts by its first letter
        if key in QUIT_KEYS:
            return None
        if key == "s":
            return "skip"
        if key in ("i", "m"):
            return DECISION_KEYS[key], ""
        if key == "e":
            reason = _ask_reason(read_key, stage, reasons, out)
            if reason is None:
                return None
            if reason != BACK_KEY:
                return "exclude", reason
            continue
        out.write("Press i, e, m, s or q.\n")


def _ask_reason(
    read_key: KeyReader, stage: str, reasons: tuple[str, ...], out: IO[str]
) -> str | None:
    """The exclusion reason (``""`` for none at title/abstract), ``BACK_KEY`` or ``None``."""
    keys = REASON_KEYS[: len(reasons)]
    lines = [f"  {k}  {reason}" for k, reason in zip(keys, reasons, strict=False)]
    optional = stage == "title_abstract"
    if optional:
        lines.append(f"  {NO_REASON_KEY}  no reason")
    out.write("Reason for excluding:\n" + "\n".join(lines) + "\n")
    while True:
        key = read_key(f"reason ({BACK_KEY} = back, q = quit) > ")
        if key is None or key.strip().lower()[:1] in QUIT_KEYS:
            return None
        key = key.strip().lower()
        if key == BACK_KEY:
            return BACK_KEY
        if optional and key == NO_REASON_KEY:
            return ""
        if key.isdigit() and len(key) > 1 and 1 <= int(key) <= len(reasons):
            return reasons[int(key) - 1]  # a typed number (line input)
        if len(key) == 1 and key in keys:
            return reasons[keys.index(key)]
        out.write(f"Choose one of {', '.join(keys)}{' or 0' if optional else ''}.\n")


def describe_record(rec: dict[str, str], loaded: Loaded, width: int = 80) -> str:
    """The record as a reviewer reads it: title, ids with links, abstract, wrapped."""

    def wrap(text: str, indent: str = "") -> list[str]:
        return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent) or [""]

    lines = ["", "-" * min(width, 80), *wrap(rec.get("title") or "(no title)")]
    where = " | ".join(x for x in (rec.get("year"), rec.get("journal")) if x)
    if where:
        lines.append(where)
    if rec.get("authors"):
        lines += wrap(rec["authors"])
    lines.append(f"record {rec['record_id']}")
    for pmid in split_ids(rec.get("pmids", "")):
        lines.append(f"PMID {pmid}  https://pubmed.ncbi.nlm.nih.gov/{pmid}/")
    for doi in split_ids(rec.get("dois", "")):
        lines.append(f"DOI {doi}  https://doi.org/{doi}")
    for nct in split_ids(rec.get("nct_ids", "")):
        lines.append(f"{nct}  https://clinicaltrials.gov/study/{nct}")
    if rec.get("retracted", "").lower() == "yes":
        lines.append("RETRACTED")
    if rec.get("status") == LINKED_TO_EXISTING:
        lines += wrap(_linked_text(rec, loaded))
    lines.append("")
    for paragraph in (rec.get("abstract") or "(no abstract)").splitlines():
        lines += wrap(paragraph.strip())
    return "\n".join(lines) + "\n"


def _linked_text(rec: dict[str, str], loaded: Loaded) -> str:
    existing = split_ids(rec.get("existing_record_ids", ""))
    studies = loaded.studies
    for study_id, label, ids in zip(
        studies["study_id"], studies["study_label"], studies["record_ids"], strict=True
    ):
        if set(split_ids(ids)) & set(existing):
            return f"Further report of included study {study_id} ({label or study_id})"
    queue = loaded.queue
    titles = queue[queue["record_id"].isin(existing)]["title"].tolist()
    about = f": {titles[0]}" if titles else ""
    return f"Further report of a study already queued ({'; '.join(existing)}){about}"


def cmd_status(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    """Print where the review's screening stands (``--json``: one object)."""
    out = out or sys.stdout
    loaded = load_review(args.config, args.review)
    status = loaded.status
    planned = plan_studies(loaded.studies, status, loaded.queue, "next run")
    blockers = analysis_blockers(loaded.review)
    if args.json:
        obj = status.to_dict()
        obj.update(
            blockers=blockers,
            review=loaded.review.id,
            queue=len(loaded.queue),
            studies=len(loaded.studies),
            proposed_studies=[s["study_id"] for s in planned.new_studies],
            reports_of_existing_studies=[
                {"record_id": r.record_id, "study_id": r.study_id}
                for r in planned.new_reports_of_existing
            ],
        )
        out.write(json.dumps(obj, indent=2, allow_nan=False) + "\n")
        return 0
    out.write(status_text(loaded, planned))
    lines = blocker_lines(blockers)
    out.write("\nWhat blocks the analysis:\n" if lines else "\nNothing blocks the analysis.\n")
    out.write("".join(f"  - {line}\n" for line in lines))
    return 0


def status_text(loaded: Loaded, planned: StudiesUpdate) -> str:
    """The readable ``livingmeta status`` report."""
    status, settings = loaded.status, loaded.settings
    lines = [
        f"Review {loaded.review.id}: {len(loaded.queue)} records in the queue, "
        f"{settings.reviewers_required} independent reviewer(s) required",
    ]
    for stage in status.stages:
        s, kappa = status.summary[stage], status.kappa[stage]
        lines += [
            "",
            f"{stage}: {s.eligible} eligible, {s.included} included, {s.excluded} excluded, "
            f"{s.conflicts} conflicts, {s.pending} pending",
        ]
        if s.excluded_by_reason:
            reasons = "; ".join(f"{r} {n}" for r, n in s.excluded_by_reason.items())
            lines.append(f"  excluded by reason: {reasons}")
        if s.pending_by_reviewer:
            who = ", ".join(f"{r} {n}" for r, n in s.pending_by_reviewer.items())
            lines.append(f"  pending per reviewer: {who}")
        if s.maybe_by_reviewer:
            who = ", ".join(f"{r} {n}" for r, n in sorted(s.maybe_by_reviewer.items()))
            lines.append(f"  marked maybe (edit the row in decisions.csv to decide): {who}")
        for conflict in (c for c in status.conflicts if c.stage == stage):
            lines.append(f"  conflict {conflict}")
        if kappa.kappa is None:
            lines.append(f"  kappa: not available ({kappa.n} shared decisions)")
        else:
            pair = " vs ".join(kappa.reviewers)
            lines.append(f"  kappa: {kappa.kappa:.2f} ({pair}, {kappa.n} records)")
    linked = sum(bool(r.linked_to) for r in status.included_reports)
    lines += [
        "",
        f"Included reports: {len(status.included_reports)} ({linked} of existing studies)",
        f"Included studies in {settings.studies}: {len(loaded.studies)}",
    ]
    if planned.new_studies:
        names = ", ".join(f"{s['study_id']} ({s['study_label']})" for s in planned.new_studies)
        lines.append(f"  to be added at the next workflow run: {names}")
    for report in planned.new_reports_of_existing:
        lines.append(
            f"  {report.record_id} is a further report of {report.study_id}: add it to that row"
        )
    return "\n".join(lines) + "\n"


def _width() -> int:
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def default_reader() -> KeyReader:
    """One key without Enter on a terminal; a line at a time otherwise (pipes, scripts)."""
    return read_tty_key if sys.stdin.isatty() else read_line


def read_line(prompt: str) -> str | None:
    """The next input line, stripped and echoed (``None`` at end of input)."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = sys.stdin.readline()
    sys.stdout.write(line.strip() + "\n")  # piped input is not echoed: keep the log readable
    return line.strip() if line else None


def read_tty_key(prompt: str) -> str | None:
    """One keypress in cbreak mode (Ctrl-C still interrupts); the terminal is restored.

    The bytes of one keypress are read together, so an arrow key's escape sequence is one
    (invalid) key rather than three keys that could pick a reason.
    """
    import termios
    import tty

    sys.stdout.write(prompt)
    sys.stdout.flush()
    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        data = os.read(fd, 32)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
    key = data.decode("utf-8", errors="replace")[:1]
    sys.stdout.write((key if key.isprintable() else "") + "\n")
    return key or None
