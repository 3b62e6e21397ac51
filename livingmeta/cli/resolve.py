"""``livingmeta resolve``: settle screening conflicts from the terminal.

Why: two reviewers who disagree discuss the record and agree; that agreement is a
``consensus`` row in ``screening/decisions.csv`` (appended, never an edit of their rows),
which settles the stage whatever the independent decisions say.
"""

from __future__ import annotations

import argparse

from livingmeta.cli import add_review_options
from livingmeta.cli.screen import (
    Console,
    ask_decision,
    describe_record,
    interactive,
    reviewer_name,
    terminal_width,
)
from livingmeta.cli.screening_state import load_review
from livingmeta.screening import STAGES

HELP = "settle screening conflicts with a consensus decision"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta resolve``."""
    parser.description = (
        "Show each record whose reviewers disagree, with who decided what, and record the "
        "agreed decision: i include, e exclude (then a reason), s skip, q quit. Each "
        "consensus is appended at once to <folder>/screening/decisions.csv."
    )
    add_review_options(parser, reviewer="who records the consensus (on the roster)")
    parser.add_argument("--stage", choices=STAGES, help="(default: every stage)")
    parser.set_defaults(handler=run)


@interactive
def run(args: argparse.Namespace, console: Console) -> int:
    """Offer each open conflict in turn and append the consensus row chosen."""
    from livingmeta.display import printable
    from livingmeta.screening.decisions import append_decision

    out, read_key = console.out, console.read_key
    loaded = load_review(args.config, args.review)
    reviewer = reviewer_name(args.reviewer, loaded)
    settings = loaded.settings
    conflicts = [c for c in loaded.status.conflicts if args.stage in (None, c.stage)]
    rows = {rec["record_id"]: rec for rec in loaded.queue.to_dict("records")}
    settled = 0
    for position, conflict in enumerate(conflicts):
        out.write(describe_record(rows[conflict.record_id], loaded, width=terminal_width()))
        out.write(f"\nConflict at {conflict.stage} ({len(conflicts) - position} left):\n")
        out.write("".join(f"  {printable(str(vote))}\n" for vote in conflict.votes))
        choice = ask_decision(
            read_key, conflict.stage, settings.exclusion_reasons, out, "ies", "consensus: "
        )
        if choice is None:
            break
        if choice == "skip":
            continue
        decision, reason = choice
        append_decision(
            settings.decisions, conflict.record_id, conflict.stage, reviewer, decision, reason,
            date=console.today, role="consensus",
        )  # fmt: skip
        settled += 1
    else:
        out.write("\nNo conflict left to settle.\n" if not conflicts else "\nAll conflicts seen.\n")
    out.write(f"{settled} consensus decision(s) saved to {settings.decisions}\n")
    return 0
