"""``livingmeta import``: add records exported from a database without an API."""

from __future__ import annotations

import argparse
import json
import sys

from livingmeta.cli import add_review_options
from livingmeta.retrieval.formats import FORMATS as IMPORT_FORMATS

HELP = "add records exported from another database to a review"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta import``."""
    parser.description = (
        "Add exported records (RIS, MEDLINE/nbib, PubMed XML, ClinicalTrials.gov JSON, "
        "EndNote XML, CSV/TSV tables and Excel workbooks, Web of Science plain text, EndNote "
        ".enw, BibTeX, RefWorks tagged, Cochrane Library plain text, OpenAlex JSON) to a "
        "review's record registry, deduplicated against everything found so far; the next "
        "workflow run hands the new ones to screening. Importing the same file again "
        "changes nothing, and an import never changes a record already stored."
    )
    p = parser
    p.add_argument("file", help="the exported file")
    p.add_argument(
        "--format",
        default="auto",
        choices=IMPORT_FORMATS,
        help="file format (default: recognised from the content)",
    )
    p.add_argument("--source", required=True, help="database name, counted under it in PRISMA")
    add_review_options(p)
    p.add_argument("--dry-run", action="store_true", help="change nothing, print the records")
    p.add_argument(
        "--previous-version",
        action="store_true",
        help="the studies a published version of the review included (not screened again)",
    )
    p.add_argument("--json", action="store_true", help="with --dry-run: one JSON object per line")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
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
    from livingmeta.config import choose_review, load_config, reviews
    from livingmeta.retrieval.imports import import_records

    config = load_config(args.config)
    summary = import_records(
        choose_review(reviews(config), args.review),
        config["retrieval"],
        records,
        args.source,
        str(args.file),
        previous_version=args.previous_version,
    )
    print(summary)
    return 0
