"""Print (or write) the body of the living update pull request from each review's
``results/<id>/report/changes.json`` (or ``retrieval/report.json`` until that exists)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from livingmeta.schedule import collect_for_pr, pr_body

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pr_body.py", description=__doc__)
    parser.add_argument("--workdir", type=Path, default=REPO_ROOT)
    parser.add_argument("--configfile", default="config/config.yaml")
    parser.add_argument("--run-id", help="shown in the body (e.g. the run's log name)")
    parser.add_argument("--exit-code", type=int, help="the scheduled run's exit code")
    parser.add_argument("--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    body = pr_body(
        collect_for_pr(args.workdir, args.configfile), run_id=args.run_id, exit_code=args.exit_code
    )
    if args.output:
        args.output.write_text(body, encoding="utf-8")
    else:
        sys.stdout.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
