"""``livingmeta screen``: screen a review's queued records, one key per decision.

Why a terminal screener: dual independent screening needs each reviewer to see only the
records they have not decided, one at a time, and every decision must be kept even if the
terminal closes. Each decision is appended to ``screening/decisions.csv`` (atomic, under a
lock) the moment the key is pressed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import shutil
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from livingmeta.cli import add_review_options
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
#: What the key ``u`` asks for: withdraw the reviewer's last decision.
UNDO = "undo"
#: The keys ``livingmeta screen`` offers (and ``q``), with their labels in the prompt.
SCREEN_KEYS = "iemsu"
KEY_LABELS = {"i": "[i]nclude", "e": "[e]xclude", "m": "[m]aybe", "s": "[s]kip", "u": "[u]ndo"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta screen``."""
    parser.description = (
        "Show the next record this reviewer has not decided at the stage and take a "
        "one-key decision: i include, e exclude (then a reason), m maybe, s skip, u undo "
        "(withdraw your last decision), q quit. Each decision is saved at once to "
        "<folder>/screening/decisions.csv; an undo appends a withdrawal row."
    )
    add_review_options(parser, reviewer="your name, on the review's roster")
    parser.add_argument("--stage", choices=STAGES, help="(default: first stage with records left)")
    parser.set_defaults(handler=run)


def records_to_screen(loaded: Loaded, reviewer: str, stage: str) -> list[str]:
    """Records still pending at ``stage`` that ``reviewer`` (any case) has no independent
    row for."""
    states = loaded.status.states
    pending = states[(states["stage"] == stage) & (states["state"] == "pending")]["record_id"]
    d = loaded.decisions
    me = d["reviewer"].str.casefold() == reviewer.strip().casefold()
    mine = d[me & (d["stage"] == stage) & (d["role"] == "independent")]
    decided = set(mine["record_id"])
    return [r for r in pending if r not in decided]


@dataclass(frozen=True)
class Console:
    """Where an interactive command reads keys, dates what it records and writes."""

    read_key: KeyReader
    today: dt.date
    out: IO[str]


def interactive(command: Callable[[argparse.Namespace, Console], int]) -> Callable[..., int]:
    """``command`` as a handler ``run(args, read_key=None, today=None, out=None)``: keys
    from the terminal, today's date and stdout, unless a test injects scripted keys, a
    date and a buffer."""

    @functools.wraps(command)
    def run(
        args: argparse.Namespace,
        read_key: KeyReader | None = None,
        today: dt.date | None = None,
        out: IO[str] | None = None,
    ) -> int:
        console = Console(read_key or default_reader(), today or dt.date.today(), out or sys.stdout)
        return command(args, console)

    return run


@interactive
def run(args: argparse.Namespace, console: Console) -> int:
    """Screen records one key at a time; each decision is appended as soon as it is made."""
    out = console.out
    loaded = load_review(args.config, args.review)
    reviewer = reviewer_name(args.reviewer, loaded)
    stages = loaded.settings.stages
    if args.stage and args.stage not in stages:
        raise ValueError(f"review {loaded.review.id} screens only at {', '.join(stages)}")
    stage = args.stage or next(
        (s for s in stages if records_to_screen(loaded, reviewer, s)), stages[0]
    )
    session = Session(loaded, reviewer, stage, console.today, out)
    try:
        session.screen(records_to_screen(loaded, reviewer, stage), console.read_key)
    except KeyboardInterrupt:
        out.write(f"\nStopped. {session.saved} decision(s) saved to {loaded.settings.decisions}\n")
        return 130
    withdrawn = f", {session.withdrawn} withdrawn" if session.withdrawn else ""
    out.write(f"{session.saved} decision(s) saved{withdrawn} to {loaded.settings.decisions}\n")
    lines = conflict_lines(load_review(args.config, args.review), stage)
    if lines:
        how = f"settle them with `livingmeta resolve --review {loaded.review.id}`"
        out.write(f"\nConflicts at {stage} ({how}):\n" + "".join(f"{x}\n" for x in lines))
    return 0


def reviewer_name(name: str, loaded: Loaded) -> str:
    """``name`` as the review's roster spells it (any name when the review has no roster).

    Raises
    ------
    ValueError
        An empty name, or "'alcie' is not a reviewer of this review; the roster is: ...".
    """
    from livingmeta.roster import on_roster

    if not name.strip():
        raise ValueError("--reviewer must not be empty")
    roster = loaded.settings.reviewers
    return on_roster(name, roster) if roster else name.strip()


@dataclass
class Session:
    """One reviewer screening one stage: what they decided and withdrew so far."""

    loaded: Loaded
    reviewer: str
    stage: str
    today: dt.date
    out: IO[str]
    saved: int = 0
    withdrawn: int = 0

    def screen(self, todo: list[str], read_key: KeyReader) -> None:
        """Offer each record of ``todo`` in turn until the list ends or the reviewer quits;
        an undo offers the withdrawn record again."""
        from livingmeta.screening.decisions import append_decision

        settings, out = self.loaded.settings, self.out
        rows = {rec["record_id"]: rec for rec in self.loaded.queue.to_dict("records")}
        eligible = int((self.loaded.status.states["stage"] == self.stage).sum())
        position = 0
        while True:
            if position < len(todo):
                record_id = todo[position]
                out.write(describe_record(rows[record_id], self.loaded, width=terminal_width()))
                left = len(todo) - position
                out.write(f"\n{left} of {eligible} left at {self.stage} for {self.reviewer}\n")
                choice = ask_decision(read_key, self.stage, settings.exclusion_reasons, out)
            else:
                out.write(f"\nNothing left to screen at {self.stage} for {self.reviewer}.\n")
                if not self.saved:
                    return
                choice = _ask_at_end(read_key, out)
            if choice is None:
                return
            if choice == UNDO:
                back = self.undo()
                if back is not None and back in rows and back not in todo[position:]:
                    todo.insert(position, back)
            elif choice == "skip":
                position += 1
            else:
                decision, reason = choice
                append_decision(
                    settings.decisions, record_id, self.stage, self.reviewer, decision, reason,
                    date=self.today,
                )  # fmt: skip
                self.saved += 1
                position += 1

    def undo(self) -> str | None:
        """Withdraw the reviewer's last decision in effect (a withdrawal row is appended);
        the record to offer again, if it is at this stage."""
        from livingmeta.screening.decisions import withdraw_decision

        settings = self.loaded.settings
        last = withdraw_decision(
            settings.decisions, settings.exclusion_reasons, self.reviewer, date=self.today
        )
        if last is None:
            self.out.write(f"Nothing to undo: {self.reviewer} has no decision in effect.\n")
            return None
        self.withdrawn += 1
        self.out.write(
            f"Withdrawn: {last['decision']} of {last['record_id']} at {last['stage']} "
            "(recorded as a withdrawal row).\n"
        )
        return last["record_id"] if last["stage"] == self.stage else None


def conflict_lines(loaded: Loaded, stage: str | None = None) -> list[str]:
    """Each open conflict (at ``stage``, or all): its record's id and title, then who
    decided what."""
    from livingmeta.display import printable

    titles = dict(zip(loaded.queue["record_id"], loaded.queue["title"], strict=True))
    lines = []
    for conflict in loaded.status.conflicts:
        if stage is None or conflict.stage == stage:
            title = printable(titles.get(conflict.record_id) or "(no title)")
            at = "" if stage else f" at {conflict.stage}"
            lines.append(f"  {conflict.record_id}{at}: {title}")
            lines.append("    " + "; ".join(printable(str(v)) for v in conflict.votes))
    return lines


def ask_decision(
    read_key: KeyReader,
    stage: str,
    reasons: tuple[str, ...],
    out: IO[str],
    keys: str = SCREEN_KEYS,
    prefix: str = "",
) -> tuple[str, str] | str | None:
    """One decision: ``(decision, reason)``, ``"skip"``, :data:`UNDO`, or ``None`` to quit.

    ``keys`` are the keys offered besides ``q`` (``livingmeta resolve`` offers no maybe
    and no undo); ``prefix`` starts the prompt.
    """
    prompt = prefix + "  ".join(KEY_LABELS[k] for k in keys) + "  [q]uit > "
    while True:
        key = read_key(prompt)
        if key is None:
            return None
        key = key.strip().lower()[:1]  # a typed word counts by its first letter
        if key in QUIT_KEYS:
            return None
        if key not in keys:
            out.write(f"Press {', '.join(keys)} or q.\n")
        elif key == "s":
            return "skip"
        elif key == "u":
            return UNDO
        elif key in DECISION_KEYS and key != "e":
            return DECISION_KEYS[key], ""
        else:
            reason = ask_reason(read_key, stage, reasons, out)
            if reason is None:
                return None
            if reason != BACK_KEY:
                return "exclude", reason


def _ask_at_end(read_key: KeyReader, out: IO[str]) -> str | None:
    """After the last record: :data:`UNDO`, or ``None`` to finish."""
    while True:
        key = read_key("[u]ndo your last decision  [q]uit > ")
        if key is None or key.strip().lower()[:1] in QUIT_KEYS:
            return None
        if key.strip().lower()[:1] == "u":
            return UNDO
        out.write("Press u or q.\n")


def ask_reason(
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
    from livingmeta.screening.queue import linked_report_text, split_ids

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
        lines += wrap(printable(linked_report_text(rec, loaded.studies, loaded.queue)))
    lines.append("")
    for paragraph in (rec.get("abstract") or "(no abstract)").splitlines():
        lines += wrap(paragraph.strip())
    return "\n".join(lines) + "\n"


def terminal_width() -> int:
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
