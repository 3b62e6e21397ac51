"""``livingmeta validate``: check the config and every review's human-edited files."""

from __future__ import annotations

import argparse

from livingmeta.cli import add_config_option

HELP = "check the config and every review's files"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta validate``."""
    parser.description = "Check the config and all human-edited review files; report every problem."
    add_config_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate the config and every review's human-edited files; exit 2 on any problem."""
    from livingmeta.config import load_config, reviews
    from livingmeta.review_check import review_problems
    from livingmeta.validation import InputError

    portfolio = reviews(load_config(args.config))
    problems = [p for review in portfolio.values() for p in review_problems(review)]
    if problems:
        raise InputError(problems)
    print(f"{args.config}: valid; {len(portfolio)} review(s) checked: {', '.join(portfolio)}")
    return 0
