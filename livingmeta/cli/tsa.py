"""``livingmeta tsa``: sequential monitoring boundaries for planned or past looks."""

from __future__ import annotations

import argparse
import json

HELP = "trial sequential analysis: monitoring (and futility) boundaries"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta tsa``."""
    from livingmeta.stats.sequential import SPENDING

    parser.description = (
        "Lan-DeMets alpha-spending boundaries at the given information fractions "
        "(accrued participants / required information size), and with --beta the "
        "beta-spending futility boundaries."
    )
    parser.add_argument(
        "--fractions",
        required=True,
        type=_fractions,
        help="information fractions of the looks, comma-separated (e.g. 0.2,0.4,0.6,0.8,1)",
    )
    parser.add_argument("--alpha", type=float, default=0.05, help="two-sided (default 0.05)")
    parser.add_argument("--beta", type=float, help="add futility boundaries for power 1 - beta")
    parser.add_argument("--spending", choices=SPENDING, default="obf", help="(default obf)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the boundaries as a table or JSON."""
    from livingmeta.stats.sequential import futility_bounds, monitoring_bounds

    bounds = monitoring_bounds(args.fractions, args.alpha, args.spending)
    result = bounds.to_dict()
    if args.beta is not None:
        futility, drift = futility_bounds(bounds, args.beta, args.spending)
        result["futility"], result["drift"] = list(futility), drift
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{'fraction':>9} {'upper':>8} {'lower':>8}"
        + (f" {'futility':>9}" * ("futility" in result))
    )
    for k, fraction in enumerate(result["fractions"]):
        line = f"{fraction:9.3f} {result['upper'][k]:8.3f} {result['lower'][k]:8.3f}"
        if "futility" in result:
            line += f" {result['futility'][k]:9.3f}"
        print(line)
    return 0


def _fractions(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
