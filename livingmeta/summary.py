"""Pooled results as tables for people: the ``livingmeta pool`` table and the review's
summary (numbers formatted by :mod:`livingmeta.formatting`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from livingmeta.formatting import (
    NOT_ESTIMABLE,
    describe_method,
    effect_decimals,
    format_effect,
    format_i2,
    format_p,
    format_p_value,
    format_tau2,
    format_weight,
    heterogeneity_line,
    interval_decimals,
    is_ratio_measure,
    overall_effect_line,
    pooled_effect,
    prediction_interval,
)
from livingmeta.stats.result import PooledResult


def result_table(result: PooledResult) -> str:
    """A readable text table of studies and the pooled estimate (``livingmeta pool``)."""
    width = max([len("Total"), *(len(s.study) for s in result.studies)])
    header = f"{'Study':<{width}}  {'Weight':>7}  {result.measure} [{describe_method(result)}]"
    lines = [header, "-" * len(header)]
    decimals = effect_decimals(result)
    for s in result.studies:
        shown = (result.display(v) for v in (s.yi, s.ci_low, s.ci_high))
        effect = format_effect(*shown, result.is_ratio, decimals) if s.estimable else NOT_ESTIMABLE
        weight = format_weight(s.weight) if s.estimable else "-"
        lines.append(f"{s.study:<{width}}  {weight:>7}  {effect}")
    lines.append("-" * len(header))
    lines.append(f"{'Total':<{width}}  {format_weight(100):>7}  {pooled_effect(result)}")
    lines.append(heterogeneity_line(result))
    lines.append(overall_effect_line(result))
    interval = prediction_interval(result)
    if interval is not None:
        lines.append(f"{100 * result.level:g}% prediction interval: {interval}")
    return "\n".join(lines)


def summary_row(label: str, result: Mapping[str, Any], participants: int | None) -> dict[str, Any]:
    """One outcome's line of the summary table, from a result dict (display scale)."""
    return {
        "outcome": label,
        "studies": result["k"],
        "participants": participants,
        "measure": result["measure"],
        "method": describe_method(result),
        "estimate": result["estimate"],
        "ci_low": result["ci_low"],
        "ci_high": result["ci_high"],
        "p": result["p"],
        "i2": result["i2"],
        "tau2": result["tau2"],
        "p_heterogeneity": result["p_q"],
    }


#: What a summary says before any outcome has approved data to pool.
NO_DATA_YET = "No studies yet: no approved data yet, so no outcome was pooled."

#: Columns of the summary CSV (before the sensitivity and beyond-pooling columns).
SUMMARY_COLUMNS = (
    "outcome", "studies", "participants", "measure", "method", "estimate", "ci_low",
    "ci_high", "p", "i2", "tau2", "p_heterogeneity",
)  # fmt: skip


def summary_markdown(rows: Sequence[dict[str, Any]], title: str) -> str:
    """The summary table in Markdown, like a paper's abstract numbers."""
    lines = [
        f"# {title}",
        "",
        "| Outcome | Studies | Participants | Effect [95% CI] | P | I² | Tau² | Method "
        "| Sensitivity: other model |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    if not rows:
        lines += ["", NO_DATA_YET]
    for row in rows:
        participants = "" if row["participants"] is None else str(row["participants"])
        other = row.get("sensitivity")
        sensitivity = ""
        if other:
            sensitivity = f"{_row_effect(other)}, {format_p(other['p'])} ({other['method']})"
        i2 = format_i2(row["i2"], studies=row["studies"])
        lines.append(
            f"| {row['outcome']} | {row['studies']} | {participants} | {row['measure']} "
            f"{_row_effect(row)} | {format_p_value(row['p'])} | {i2} | {format_tau2(row['tau2'])} "
            f"| {row['method']} | {sensitivity} |"
        )
    return "\n".join(lines) + "\n"


def _row_effect(row: Mapping[str, Any]) -> str:
    """A summary row's estimate and CI, with the decimals its plot uses."""
    is_ratio = is_ratio_measure(row["measure"])
    decimals = interval_decimals(row["ci_low"], row["ci_high"], is_ratio)
    return format_effect(row["estimate"], row["ci_low"], row["ci_high"], is_ratio, decimals)


def summary_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The summary table as a DataFrame (for CSV); its header alone when nothing was
    pooled yet."""
    return pd.DataFrame(list(rows)) if rows else pd.DataFrame(columns=list(SUMMARY_COLUMNS))
