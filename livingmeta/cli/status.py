"""``livingmeta status``: where a review's screening stands."""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, TYPE_CHECKING

from livingmeta.cli import add_review_options
from livingmeta.cli.screening_state import Loaded, load_review

if TYPE_CHECKING:
    from livingmeta.screening.studies import StudiesUpdate

HELP = "where a review's screening stands"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta status``."""
    parser.description = (
        "Per stage: records eligible, pending per reviewer, included, excluded by "
        "reason, conflicts with who said what, Cohen's kappa; and the included studies."
    )
    add_review_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, out: IO[str] | None = None) -> int:
    """Print where the review's screening stands (``--json``: one object)."""
    from livingmeta.blockers import analysis_blockers, blocker_lines
    from livingmeta.screening.studies import plan_studies

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
    lines = blocker_lines(blockers, loaded.review.id)
    # Screening is reported above: this is about the included studies' data.
    out.write(
        "\nWhat blocks the analysis of the included studies:\n"
        if lines
        else "\nNothing blocks the analysis of the included studies.\n"
    )
    out.write("".join(f"  - {line}\n" for line in lines))
    return 0


def status_text(loaded: Loaded, planned: StudiesUpdate) -> str:
    """The readable ``livingmeta status`` report."""
    from livingmeta.display import printable

    status, settings = loaded.status, loaded.settings
    titles = dict(zip(loaded.queue["record_id"], loaded.queue["title"], strict=True))
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
            lines.append(f"  conflict {printable(str(conflict))}")
            lines.append(f"    {printable(titles.get(conflict.record_id) or '(no title)')}")
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
