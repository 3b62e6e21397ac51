"""The ``livingmeta`` command line: one module per subcommand.

``livingmeta pool FILE.csv --measure OR --method MH --model random [--json]`` pools one
outcome of an extraction table outside the workflow (for scripts and quick checks).
Exit codes: 0 success, 2 invalid input or options (report on stderr).

Adding a subcommand is one module here plus its name in :data:`SUBCOMMANDS`. The module
defines ``HELP`` (the one-line summary) and ``add_arguments(parser)``, which adds the
options and sets ``handler``; the command's name is the module's name with ``_`` read as
``-`` and a trailing ``_`` dropped (``import_`` is ``livingmeta import``); the options
every review command shares come from :func:`add_review_options`. Modules import
heavy libraries (pandas, scipy, ...) inside their functions: every module is imported to
list the commands, and ``livingmeta --help`` must start at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection, Sequence
from importlib import import_module
from types import ModuleType

from livingmeta import __version__
from livingmeta.validation import EXIT_INVALID_INPUT

#: Modules of :mod:`livingmeta.cli`, one per subcommand, in the order ``--help`` lists them.
SUBCOMMANDS = (
    "pool", "bias", "import_", "validate", "screen", "resolve", "status", "tsa", "review",
    "new_review",
)  # fmt: skip


#: The config a command reads unless ``--config`` names another.
DEFAULT_CONFIG = "config/config.yaml"


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """``--config``: the workflow config a command reads."""
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=f"(default {DEFAULT_CONFIG})")


def add_review_options(parser: argparse.ArgumentParser, reviewer: str | None = None) -> None:
    """``--review`` and ``--config`` of a command working on one review of the config, and
    ``--reviewer`` (required, with the help ``reviewer``) when it works in a reviewer's name.
    """
    parser.add_argument("--review", help="review id in the config (default: the only one)")
    if reviewer is not None:
        parser.add_argument("--reviewer", required=True, help=reviewer)
    add_config_option(parser)


def command_name(module_name: str) -> str:
    """The subcommand a module implements (``import_`` -> ``import``, ``new_review`` ->
    ``new-review``)."""
    return module_name.rstrip("_").replace("_", "-")


def subcommand_modules() -> dict[str, ModuleType]:
    """Each subcommand's name and module, in :data:`SUBCOMMANDS` order."""
    return {command_name(name): import_module(f"{__name__}.{name}") for name in SUBCOMMANDS}


def add_subcommands(
    commands: argparse._SubParsersAction, only: Collection[str] | None = None
) -> None:
    """Add the subcommands to ``commands``; only those in ``only`` get their options.

    Options are what may need heavier imports (choices from the statistics package), so a
    command line builds them for the one command it runs.
    """
    for name, module in subcommand_modules().items():
        parser = commands.add_parser(name, help=module.HELP)
        if only is None or name in only:
            module.add_arguments(parser)


def build_parser(only: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The ``livingmeta`` parser; with ``only``, just those subcommands get their options."""
    parser = argparse.ArgumentParser(
        prog="livingmeta",
        description="Living systematic reviews and meta-analyses.",
    )
    parser.add_argument("--version", action="version", version=f"livingmeta {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_subcommands(commands, only)
    return parser


def requested_command(argv: Sequence[str]) -> tuple[str, ...]:
    """The subcommand named on the command line (the first word that is not an option)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return (first,) if first else ()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``livingmeta`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(only=requested_command(argv)).parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, OSError) as exc:  # InputError, ConfigError, NotEstimableError too
        print(f"livingmeta {args.command}: {exc}", file=sys.stderr)
        return EXIT_INVALID_INPUT
