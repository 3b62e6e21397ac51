"""``livingmeta pool``: pool one outcome of an extraction table outside the workflow."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

HELP = "pool one outcome of an extraction CSV"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta pool``; the choices come from the statistics options."""
    from livingmeta.outcomes import Outcome
    from livingmeta.stats.options import (
        METHODS,
        MODELS,
        PI_METHODS,
        TAU2_METHODS,
    )

    parser.description = "Pool one outcome of an extraction table (see README, 'Data contract')."
    p = parser
    add_table_arguments(p)
    p.add_argument(
        "--method",
        choices=METHODS,
        help=f"pooling method (default as in config: {Outcome.method} for OR, RR and RD; IV "
        "for the others and with --tau2 or --mods)",
    )
    p.add_argument(
        "--model", default=Outcome.model, choices=MODELS, help=f"(default {Outcome.model})"
    )
    p.add_argument(
        "--tau2",
        "--tau2-method",
        dest="tau2",
        choices=TAU2_METHODS,
        help="tau2 estimator as metafor's rma(method=): DL DerSimonian-Laird, REML, PM "
        "Paule-Mandel, ML, HE Hedges, HS Hunter-Schmidt, SJ Sidik-Jonkman, EB empirical "
        "Bayes, HSk corrected HS, DLIT and SJIT iterated DL and SJ, PMM median-unbiased PM, "
        f"MP alias of PM (default {Outcome.tau2_method}); given, --json adds its Q-profile "
        "CI (IV random)",
    )
    p.add_argument(
        "--level",
        type=level_percent,
        default=95.0,
        metavar="PERCENT",
        help="confidence level of the CIs and the prediction interval, in percent, "
        "50 < PERCENT < 100 (default 95)",
    )
    p.add_argument("--hksj", action="store_true", help="Hartung-Knapp-Sidik-Jonkman CI")
    p.add_argument("--hksj-adhoc", action="store_true", help="HKSJ never narrower than the Wald CI")
    p.add_argument("--pi", choices=PI_METHODS, help="prediction interval: z, t on k-1 or k-2 df")
    add_convention_argument(p)
    p.add_argument("--mh-exact", action="store_true", help="raw cells in the M-H estimate (rma.mh)")
    p.add_argument(
        "--mods",
        action="append",
        metavar="COLUMN",
        help="meta-regression on this column (repeat for several; IV effects)",
    )
    add_input_arguments(p)
    p.set_defaults(handler=run)


def level_percent(text: str) -> float:
    """``--level``: a confidence level in percent, strictly between 50 and 100. Percent,
    not a fraction, because that is how levels are quoted (and metafor's ``level = 90``);
    the bounds catch ``--level 0.9`` (a fraction) and 100 (an unbounded interval). An
    invalid value is argparse's error: usage on stderr, exit status 2."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 50 < value < 100:  # also rejects nan and inf
        raise argparse.ArgumentTypeError(
            f"must be a confidence level in percent between 50 and 100 (exclusive), e.g. 90 "
            f"or 95; got {text!r}"
        )
    return value


def add_convention_argument(parser: argparse.ArgumentParser) -> None:
    """``--convention``: the study effects' formulas (shared by ``pool`` and ``bias``)."""
    from livingmeta.stats.options import CONVENTIONS

    parser.add_argument(
        "--convention",
        default="metafor",
        choices=CONVENTIONS,
        help="zero-cell RD, Hedges' g and M-H RD variance as metafor (default) or RevMan 5",
    )


def add_table_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared with ``livingmeta bias``: the extraction table and its measure."""
    from livingmeta.stats.options import MEASURES

    p.add_argument("file", help="CSV with a 'study' (or 'study_id') column and the arm columns")
    p.add_argument("--measure", required=True, choices=MEASURES, help="effect measure")


def add_input_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared with ``livingmeta bias``: which outcome, and JSON output."""
    p.add_argument("--outcome", help="outcome to use when the file has an 'outcome' column")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")


def outcome_type(measure: str, columns: Sequence[str]) -> str:
    """Dichotomous/continuous from the measure; generic when the file has ``yi, se`` only."""
    from livingmeta.outcomes import ARM_COLUMNS
    from livingmeta.stats.options import BINARY_MEASURES, CONTINUOUS_MEASURES

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


def load_outcome(args: argparse.Namespace, **options: object) -> tuple[Any, Any, Any]:
    """The outcome named by ``--outcome`` (or the file's only one): the ``Outcome``, its
    study data and its validated rows (table order, spreadsheet row numbers as index)."""
    from livingmeta.extraction import (
        outcome_data,
        pooled_rows,
        read_table,
        validate_extraction,
    )
    from livingmeta.outcomes import Outcome

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
    frame = number_repeated_studies(frame, str(args.file))
    name = args.outcome or "outcome"
    outcome = Outcome(
        name=name,
        label=name,
        type=outcome_type(args.measure, list(frame.columns)),
        measure=args.measure,
        **options,  # type: ignore[arg-type]
    )
    frame = frame.drop(columns=["outcome"], errors="ignore")
    valid = validate_extraction(frame, args.file, {name: outcome})
    return outcome, outcome_data(valid, outcome), pooled_rows(valid, outcome)


def number_repeated_studies(frame: Any, file: str) -> Any:
    """Rows that repeat a study (a multi-arm trial's comparisons, strata) kept as separate
    comparisons, as metafor does: the second is labelled ``Piper 2009 (2)``, and so on,
    with a warning on stderr, since a control group shared by two comparisons is counted
    twice (Cochrane Handbook 23.3.4: split it, or combine the arms)."""
    import sys

    column = "study_id" if "study_id" in frame.columns else "study"
    if column not in frame.columns:
        return frame
    keys = [frame[column]]
    keys += [frame[c] for c in ("outcome", "comparison") if c in frame.columns]
    repeat = frame.groupby(keys, sort=False).cumcount().to_numpy() + 1
    if (repeat == 1).all():
        return frame
    frame = frame.copy()
    suffix = [f" ({n})" if n > 1 else "" for n in repeat]
    for label_column in dict.fromkeys((column, "study_label")):
        if label_column in frame.columns:
            frame[label_column] = [
                f"{v}{s}" for v, s in zip(frame[label_column], suffix, strict=True)
            ]
    for study in dict.fromkeys(frame[column][repeat == 2].str.removesuffix(" (2)")):
        rows = [
            int(r) for r, v in zip(frame.index, frame[column], strict=True) if _same_study(v, study)
        ]
        print(
            f"livingmeta: warning: {file}: study {study!r} is on rows "
            f"{', '.join(map(str, rows))}; each row is pooled as a separate comparison "
            f"(labelled {study!r}, '{study} (2)', ...). A control group they share is "
            "counted twice: split it between the comparisons or combine the arms "
            "(Cochrane Handbook 23.3.4).",
            file=sys.stderr,
        )
    return frame


def _same_study(label: str, study: str) -> bool:
    """``label`` is ``study`` or ``study (n)``."""
    import re

    return label == study or re.fullmatch(re.escape(study) + r" \(\d+\)", label) is not None


def default_method(args: argparse.Namespace) -> str:
    """The config's default method (M-H) where it applies (OR, RR, RD), else IV; IV too
    when a tau2 estimator or a moderator is asked for, which only IV has."""
    from livingmeta.outcomes import Outcome
    from livingmeta.stats.options import BINARY_MEASURES

    if args.measure not in BINARY_MEASURES or args.tau2 or args.mods:
        return "IV"
    return Outcome.method


def run(args: argparse.Namespace) -> int:
    """Pool one outcome of a CSV file and print the result."""
    from livingmeta.outcome_analysis import result_json
    from livingmeta.outcomes import Outcome
    from livingmeta.stats import pool
    from livingmeta.summary import result_table

    outcome, data, rows = load_outcome(
        args,
        method=args.method or default_method(args),
        model=args.model,
        tau2_method=args.tau2 or Outcome.tau2_method,
        hksj=args.hksj or args.hksj_adhoc,
        mh_exact=args.mh_exact,
        convention=args.convention,
    )
    result = pool(
        data,
        **outcome.pool_options(),
        hksj_adhoc=args.hksj_adhoc,
        pi_method=args.pi,
        level=args.level / 100,
    )
    out = result_json(result)
    out |= {
        key: value
        for key, value in (
            ("hksj_adhoc", args.hksj_adhoc or None),
            ("pi_method", args.pi),
            ("convention", None if args.convention == "metafor" else args.convention),
        )
        if value is not None
    }
    if args.tau2 and result.model == "random" and result.method == "IV" and result.k > 1:
        out |= tau2_interval_keys(result)
    if args.mods:
        out |= meta_regression_keys(args, data, rows)
    if args.json:
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print(result_table(result))
        if args.mods:
            print(regression_table(out))
    return 0


def tau2_interval_keys(result: Any) -> dict[str, float]:
    """Q-profile confidence limits of tau2 and I2 (metafor ``confint``)."""
    from livingmeta.stats import tau2_confint

    ci = tau2_confint(result)
    return {
        "tau2_ci_low": ci.tau2_low,
        "tau2_ci_high": ci.tau2_high,
        "i2_ci_low": ci.i2_low,
        "i2_ci_high": ci.i2_high,
    }


def meta_regression_keys(args: argparse.Namespace, data: Any, rows: Any) -> dict[str, Any]:
    """``coefficients``, ``qm``, ``qm_df``, ``qm_p``, ``r2`` (and the residual
    heterogeneity) of the meta-regression on the ``--mods`` columns."""
    from livingmeta.stats import escalc, meta_regression
    from livingmeta.validation import InputError, Problem

    es = escalc(args.measure, data, convention=args.convention)
    keep = es.estimable
    mods: dict[str, list[str]] = {}
    problems = []
    for column in args.mods:
        if column not in rows.columns:
            problems.append(Problem(str(args.file), None, column, "moderator column missing"))
            continue
        values = rows[column].astype(str).str.strip()
        problems += [
            Problem(str(args.file), int(row), column, "moderator value missing")
            for row, value in values[keep].items()
            if value in ("", "nan", "NA")
        ]
        mods[column] = values[keep].tolist()
    if problems:
        raise InputError(problems)
    test = "knha" if (args.hksj or args.hksj_adhoc) else "z"
    tau2_method = "EE" if args.model == "fixed" else (args.tau2 or "DL")
    level = args.level / 100
    fit = meta_regression(es.yi[keep], es.vi[keep], mods, tau2_method, test, level).to_dict()
    keys = ("qm", "qm_df", "qm_p", "r2", "qe", "qe_df", "qe_p", "tau2", "i2", "warnings")
    return {"coefficients": fit["coefficients"]} | {
        f"mods_{key}" if key in ("tau2", "i2") else key: fit[key] for key in keys
    }


def regression_table(out: dict[str, Any]) -> str:
    """The meta-regression coefficients as text."""
    lines = ["", "Meta-regression (analysis scale)"]
    lines.append(f"{'':<16}{'estimate':>10}{'se':>10}{'ci_low':>10}{'ci_high':>10}{'p':>10}")
    for c in out["coefficients"]:
        values = "".join(f"{c[k]:>10.4f}" for k in ("estimate", "se", "ci_low", "ci_high", "p"))
        lines.append(f"{c['name']:<16}{values}")
    df = ", ".join(str(d) for d in out["qm_df"])
    r2 = "" if out["r2"] is None else f"; R2 = {out['r2']:.1f}%"
    lines.append(f"QM({df}) = {out['qm']:.4f}, p = {out['qm_p']:.4g}{r2}")
    lines += out["warnings"]
    return "\n".join(lines)
