"""``livingmeta screen``: screen a review's queued records, one key per decision.

Why a terminal screener: dual independent screening needs each reviewer to see only the
records they have not decided, one at a time, and every decision must be kept even if the
terminal closes. Each decision is appended to ``screening/decisions.csv`` (atomic, under a
lock) the moment the key is pressed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import textwrap
from collections.abc import Callable
from typing import IO

from livingmeta.cli.screening_state import Loaded, load_review
from livingmeta.screening import LINKED_TO_EXISTING, STAGES

HELP = "screen a review's queued records, one key per decision"
#: ``read_key(prompt)`` returns the key (or line) typed, ``None`` at end of input.
KeyReader = Callable[[str], "str | None"]
DECISION_KEYS = {"i": "include", "e": "exclude", "m": "maybe"}
# Reason keys: 1-9 then letters (q is quit), so any key picks a reason in one keystroke.
REASON_KEYS = "123456789abcdefghijklmnoprstuvwxyz"
BACK_KEY, NO_REASON_KEY = "-", "0"
QUIT_KEYS = ("q", "\x03", "\x04")  # q, and Ctrl-C / Ctrl-D as a raw terminal sends them


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta screen``."""
    parser.description = (
        "Show the next record this reviewer has not decided at the stage and take a "
        "one-key decision: i include, e exclude (then a reason), m maybe, s skip, q quit. "
        "Each decision is saved at once to <folder>/screening/decisions.csv."
    )
    p = parser
    p.add_argument("--review", required=True, help="review id in the config")
    p.add_argument("--reviewer", required=True, help="your name as written in decisions.csv")
    p.add_argument("--stage", choices=STAGES, help="(default: first stage with records left)")
    p.add_argument("--config", default="config/config.yaml", help="(default config/config.yaml)")
    p.set_defaults(handler=run)


def records_to_screen(loaded: Loaded, reviewer: str, stage: str) -> list[str]:
    """Records still pending at ``stage`` that ``reviewer`` has no independent row for."""
    states = loaded.status.states
    pending = states[(states["stage"] == stage) & (states["state"] == "pending")]["record_id"]
    d = loaded.decisions
    mine = d[(d["reviewer"] == reviewer) & (d["stage"] == stage) & (d["role"] == "independent")]
    decided = set(mine["record_id"])
    return [r for r in pending if r not in decided]


def run(
    args: argparse.Namespace,
    read_key: KeyReader | None = None,
    today: dt.date | None = None,
    out: IO[str] | None = None,
) -> int:
    """Screen records one key at a time; each decision is appended as soon as it is made.

    ``read_key`` and ``today`` are injectable so tests drive a session with scripted keys.
    """
    from livingmeta.screening.decisions import append_decision

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
    """The record as a reviewer reads it: title, ids with links, abstract, wrapped.

    Every field comes from a server or an export, so escape sequences and bidi overrides
    are shown rather than obeyed, and only well-formed DOIs become links.
    """
    from livingmeta.display import printable
    from livingmeta.links import ctgov_url, doi_url, pubmed_url
    from livingmeta.screening.queue import split_ids

    rec = {k: printable(v or "", keep_newlines=k == "abstract") for k, v in rec.items()}

    def wrap(text: str, indent: str = "") -> list[str]:
        return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent) or [""]

    lines = ["", "-" * min(width, 80), *wrap(rec.get("title") or "(no title)")]
    where = " | ".join(x for x in (rec.get("year"), rec.get("journal")) if x)
    if where:
        lines.append(where)
    if rec.get("authors"):
        lines += wrap(rec["authors"])
    lines.append(f"record {rec['record_id']}")
    for kind, key, url in (
        ("PMID ", "pmids", pubmed_url),
        ("DOI ", "dois", doi_url),
        ("", "nct_ids", ctgov_url),
    ):
        for identifier in split_ids(rec.get(key, "")):
            link = url(identifier)
            lines.append(f"{kind}{identifier}  {link}" if link else f"{kind}{identifier} (invalid)")
    if rec.get("retracted", "").lower() == "yes":
        lines.append("RETRACTED")
    if rec.get("status") == LINKED_TO_EXISTING:
        lines += wrap(_linked_text(rec, loaded))
    lines.append("")
    for paragraph in (rec.get("abstract") or "(no abstract)").splitlines():
        lines += wrap(paragraph.strip())
    return "\n".join(lines) + "\n"


def _linked_text(rec: dict[str, str], loaded: Loaded) -> str:
    from livingmeta.screening.queue import split_ids

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
