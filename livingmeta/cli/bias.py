"""``livingmeta bias``: tests for small-study effects and trim-and-fill on one outcome."""

from __future__ import annotations

import argparse
import json

HELP = "test one outcome for small-study effects (Egger, Begg, Peters, Harbord, trim-and-fill)"
TEST_CHOICES = ("egger", "egger-rma", "begg", "peters", "harbord", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta bias``."""
    from livingmeta.cli.pool import (
        add_convention_argument,
        add_input_arguments,
        add_table_arguments,
    )
    from livingmeta.stats.options import COCHRANE_MIN_K, MODELS, TAU2_METHODS

    parser.description = (
        "Funnel plot asymmetry tests on one outcome of an extraction table. Below "
        f"{COCHRANE_MIN_K} studies nothing is tested (Cochrane Handbook 13.3.5.4)."
    )
    p = parser
    add_table_arguments(p)
    p.add_argument("--method", default="IV", choices=("IV",), help="study effects (IV)")
    add_convention_argument(p)
    p.add_argument("--model", default="random", choices=MODELS, help="(default random)")
    p.add_argument(
        "--tau2", default="REML", choices=TAU2_METHODS, help="tau2 estimator (default REML)"
    )
    p.add_argument(
        "--test",
        action="append",
        choices=TEST_CHOICES,
        help="test to run (repeatable; default all)",
    )
    p.add_argument("--trimfill", action="store_true", help="add trim-and-fill (L0 estimator)")
    p.add_argument(
        "--min-k",
        type=int,
        default=COCHRANE_MIN_K,
        help=f"fewest studies to test (default {COCHRANE_MIN_K}, the Cochrane rule)",
    )
    add_input_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the tests and print them (``--json``: one JSON object)."""
    from livingmeta.cli.pool import load_outcome
    from livingmeta.stats.small_study import BIAS_TESTS, small_study_effects

    _, data, _ = load_outcome(args, method="IV", model=args.model, tau2_method=args.tau2)
    chosen = args.test or ["all"]
    tests = BIAS_TESTS if "all" in chosen else tuple(dict.fromkeys(chosen))
    result = small_study_effects(
        data,
        args.measure,
        args.model,
        args.tau2,
        tests,
        args.trimfill,
        args.min_k,
        convention=args.convention,
    )
    out = result.to_dict()
    if args.json:
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print(text_report(out))
    return 0


def text_report(out: dict) -> str:
    """The assessment as lines of text."""
    lines = [f"{out['measure']}: k = {out['k']}"]
    if out["note"]:
        lines.append(out["note"])
    for name, test in out["tests"].items():
        df = f" (df {test['df']})" if "df" in test else ""
        lines.append(f"{name}: statistic {test['statistic']:.4f}{df}, p = {test['p']:.4g}")
    for name, why in out["not_run"].items():
        lines.append(f"{name}: not run ({why})")
    tf = out["trimfill"]
    if tf:
        lines.append(
            f"trim-and-fill: {tf['k0']} studies filled on the {tf['side']}; "
            f"estimate {tf['estimate']:.4f} [{tf['ci_low']:.4f}, {tf['ci_high']:.4f}]"
        )
    return "\n".join(lines)
