"""Formatting pooled results for people: readable tables, numbers as papers print them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from livingmeta.stats.result import PooledResult


def format_p(p: float | None) -> str:
    """P values as RevMan prints them (``< 0.00001`` below that, else 2-5 decimals)."""
    if p is None or not math.isfinite(p):
        return "n/a"
    if p < 0.00001:
        return "< 0.00001"
    if p < 0.001:
        return f"{p:.5f}"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def format_effect(
    estimate: float | None, low: float | None, high: float | None, digits: int = 2
) -> str:
    """``0.39 [0.16, 0.93]``."""
    if estimate is None or low is None or high is None:
        return "Not estimable"
    return f"{estimate:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def describe_method(result: PooledResult | Mapping[str, Any]) -> str:
    """RevMan's column header, e.g. ``M-H, Random, 95% CI`` (from a result or its dict)."""
    r = result.to_dict() if isinstance(result, PooledResult) else result
    method = {"MH": "M-H", "IV": "IV", "Peto": "Peto"}[r["method"]]
    model = "Random" if r["model"] == "random" else "Fixed"
    extra = []
    if r["model"] == "random" and r["method"] == "IV":
        extra.append(r["tau2_method"] or "DL")
    if r["hksj"]:
        extra.append("HKSJ")
    suffix = f" ({', '.join(extra)})" if extra else ""
    return f"{method}, {model}{suffix}, {round(r['level'] * 100)}% CI"


def result_table(result: PooledResult) -> str:
    """A readable text table of studies and the pooled estimate (``livingmeta pool``)."""
    width = max([len("Total"), *(len(s.study) for s in result.studies)])
    header = f"{'Study':<{width}}  {'Weight':>7}  {result.measure} [{describe_method(result)}]"
    lines = [header, "-" * len(header)]
    for s in result.studies:
        effect = format_effect(
            result.display(s.yi), result.display(s.ci_low), result.display(s.ci_high)
        )
        weight = f"{s.weight:6.1f}%" if s.estimable else "      -"
        lines.append(f"{s.study:<{width}}  {weight}  {effect}")
    low, high = result.conf_int()
    lines.append("-" * len(header))
    total = format_effect(result.display(result.estimate), low, high)
    lines.append(f"{'Total':<{width}}  {100:6.1f}%  {total}")
    lines.append(heterogeneity_line(result))
    lines.append(overall_effect_line(result))
    if result.pi_low is not None:
        pi_low, pi_high = result.predict()
        lines.append(f"95% prediction interval: [{pi_low:.2f}, {pi_high:.2f}]")
    return "\n".join(lines)


def heterogeneity_line(result: PooledResult) -> str:
    """``Heterogeneity: Tau² = 0.33; Chi² = 5.29, df = 3 (P = 0.15); I² = 43%``."""
    parts = []
    if result.model == "random":
        parts.append(f"Tau² = {result.tau2:.2f}; ")
    p_q = format_p(result.p_q)
    parts.append(f"Chi² = {result.q:.2f}, df = {result.df} (P = {p_q}); I² = {result.i2:.0f}%")
    return "Heterogeneity: " + "".join(parts).replace("(P = < ", "(P < ")


def overall_effect_line(result: PooledResult) -> str:
    """``Test for overall effect: Z = 2.11 (P = 0.03)``."""
    name = "T" if result.statistic_name == "t" else "Z"
    p = format_p(result.p)
    relation = "P < 0.00001" if p.startswith("<") else f"P = {p}"
    return f"Test for overall effect: {name} = {abs(result.statistic):.2f} ({relation})"


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


def summary_markdown(rows: Sequence[dict[str, Any]], title: str) -> str:
    """The summary table in Markdown, like a paper's abstract numbers."""
    lines = [
        f"# {title}",
        "",
        "| Outcome | Studies | Participants | Effect [95% CI] | P | I² | Tau² | Method "
        "| Sensitivity: other model |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        effect = format_effect(row["estimate"], row["ci_low"], row["ci_high"])
        participants = "" if row["participants"] is None else str(row["participants"])
        other = row.get("sensitivity")
        sensitivity = ""
        if other:
            other_effect = format_effect(other["estimate"], other["ci_low"], other["ci_high"])
            sensitivity = f"{other_effect}, P {format_p(other['p'])} ({other['method']})"
        lines.append(
            f"| {row['outcome']} | {row['studies']} | {participants} | {row['measure']} {effect} "
            f"| {format_p(row['p'])} | {row['i2']:.0f}% | {row['tau2']:.2f} | {row['method']} "
            f"| {sensitivity} |"
        )
    return "\n".join(lines) + "\n"


def summary_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The summary table as a DataFrame (for CSV)."""
    return pd.DataFrame(list(rows))
