"""The ``livingmeta`` command line.

``livingmeta pool FILE.csv --measure OR --method MH --model random [--json]`` pools one
outcome of an extraction table outside the workflow (for scripts and quick checks).
Exit codes: 0 success, 2 invalid input or options (report on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from livingmeta import __version__, cli_review
from livingmeta.config import ConfigError
from livingmeta.extraction import outcome_data, read_table, validate_extraction
from livingmeta.outcomes import ARM_COLUMNS, Outcome
from livingmeta.stats import pool
from livingmeta.stats.options import (
    BINARY_MEASURES,
    CONTINUOUS_MEASURES,
    MEASURES,
    METHODS,
    MODELS,
    TAU2_METHODS,
)
from livingmeta.stats.pooling import NotEstimableError
from livingmeta.summary import result_table
from livingmeta.validation import InputError

EXIT_INVALID = 2
IMPORT_FORMATS = ("ris", "nbib", "pubmed-xml", "ctgov-json")


def _outcome_type(measure: str, columns: Sequence[str]) -> str:
    """Dichotomous/continuous from the measure; generic when the file has ``yi, se`` only."""
    has_generic = set(ARM_COLUMNS["generic"]) <= set(columns)
    if (
        has_generic
        and not set(ARM_COLUMNS["dichotomous"]) <= set(columns)
        and not set(ARM_COLUMNS["continuous"]) <= set(columns)
    ):
        return "generic"
    if measure in BINARY_MEASURES:
        return "dichotomous"
    if measure in CONTINUOUS_MEASURES:
        return "continuous"
    return "generic"


def cmd_pool(args: argparse.Namespace) -> int:
    """Pool one outcome of a CSV file and print the result."""
    frame = read_table(args.file)
    if "outcome" in frame.columns:
        names = list(dict.fromkeys(frame["outcome"]))
        if args.outcome is None:
            if len(names) != 1:
                listed = ", ".join(names)
                raise ValueError(f"{args.file} holds several outcomes ({listed}); use --outcome")
            args.outcome = names[0]
        frame = frame[frame["outcome"] == args.outcome]
        if frame.empty:
            raise ValueError(
                f"{args.file} has no rows for outcome {args.outcome!r}; it has {', '.join(names)}"
            )
    name = args.outcome or "outcome"
    outcome = Outcome(
        name=name,
        label=name,
        type=_outcome_type(args.measure, list(frame.columns)),
        measure=args.measure,
        method=args.method,
        model=args.model,
        tau2_method=args.tau2,
        hksj=args.hksj,
        mh_exact=args.mh_exact,
    )
    frame = frame.drop(columns=["outcome"], errors="ignore")
    valid = validate_extraction(frame, args.file, {name: outcome})
    result = pool(outcome_data(valid, outcome), **outcome.pool_options())
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    else:
        print(result_table(result))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Add records exported from a database without an API (Embase, CENTRAL, WoS...)."""
    from livingmeta.retrieval.importers import read_records

    records = read_records(args.file, args.format, args.source)
    if args.dry_run:
        for record in records:
            if args.json:
                print(json.dumps(record.to_dict(), sort_keys=True, ensure_ascii=False))
            else:
                print(f"{record.record_id}\t{record.year or ''}\t{record.title[:80]}")
        print(
            f"{len(records)} records read from {args.file} (dry run: nothing changed)",
            file=sys.stderr,
        )
        return 0
    from livingmeta.config import load_config, reviews
    from livingmeta.retrieval.imports import import_records

    config = load_config(args.config)
    portfolio = reviews(config)
    review_id = args.review or (next(iter(portfolio)) if len(portfolio) == 1 else None)
    if review_id not in portfolio:
        raise ValueError(f"choose the review with --review ({', '.join(portfolio)})")
    summary = import_records(
        portfolio[review_id],
        config["retrieval"],
        records,
        args.source,
        str(args.file),
        previous_version=args.previous_version,
    )
    print(summary)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate the config and every review's human-edited files; exit 2 on any problem."""
    from livingmeta.config import load_config, reviews
    from livingmeta.review_check import review_problems

    portfolio = reviews(load_config(args.config))
    problems = [p for review in portfolio.values() for p in review_problems(review)]
    if problems:
        raise InputError(problems)
    print(f"{args.config}: valid; {len(portfolio)} review(s) checked: {', '.join(portfolio)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livingmeta",
        description="Living systematic reviews and meta-analyses.",
    )
    parser.add_argument("--version", action="version", version=f"livingmeta {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser(
        "pool",
        help="pool one outcome of an extraction CSV",
        description="Pool one outcome of an extraction table (see README, 'Data contract').",
    )
    p.add_argument("file", help="CSV with a 'study' (or 'study_id') column and the arm columns")
    p.add_argument("--measure", required=True, choices=MEASURES, help="effect measure")
    p.add_argument("--method", default="IV", choices=METHODS, help="pooling method (default IV)")
    p.add_argument("--model", default="random", choices=MODELS, help="(default random)")
    p.add_argument("--tau2", default="DL", choices=TAU2_METHODS, help="tau2 estimator (default DL)")
    p.add_argument("--hksj", action="store_true", help="Hartung-Knapp-Sidik-Jonkman CI")
    p.add_argument("--mh-exact", action="store_true", help="raw cells in the M-H estimate (rma.mh)")
    p.add_argument("--outcome", help="outcome to pool when the file has an 'outcome' column")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(handler=cmd_pool)

    p = commands.add_parser(
        "import",
        help="add records exported from another database to a review",
        description=(
            "Add exported records (RIS, MEDLINE/nbib, PubMed XML, ClinicalTrials.gov JSON) to a "
            "review's record registry, deduplicated against everything found so far; the next "
            "workflow run hands the new ones to screening."
        ),
    )
    p.add_argument("file", help="the exported file")
    p.add_argument("--format", required=True, choices=IMPORT_FORMATS, help="file format")
    p.add_argument("--source", required=True, help="database name, counted under it in PRISMA")
    p.add_argument("--review", help="review id (default: the only review in the config)")
    p.add_argument("--config", default="config/config.yaml", help="(default config/config.yaml)")
    p.add_argument("--dry-run", action="store_true", help="change nothing, print the records")
    p.add_argument(
        "--previous-version",
        action="store_true",
        help="the studies a published version of the review included (not screened again)",
    )
    p.add_argument("--json", action="store_true", help="with --dry-run: one JSON object per line")
    p.set_defaults(handler=cmd_import)

    p = commands.add_parser(
        "validate",
        help="check the config and every review's files",
        description="Check the config and all human-edited review files; report every problem.",
    )
    p.add_argument("--config", default="config/config.yaml", help="(default config/config.yaml)")
    p.set_defaults(handler=cmd_validate)

    cli_review.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``livingmeta`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (InputError, ConfigError, NotEstimableError, ValueError, OSError) as exc:
        print(f"livingmeta {args.command}: {exc}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
