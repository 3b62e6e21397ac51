"""Number and label formatting for forest plots, in RevMan 5's conventions.

Kept apart from the drawing code so the exact strings (what a reader compares with the
paper) can be tested without a figure. Negative numbers use the typographic minus sign
(U+2212), as matplotlib's tick labels do, so table and axis agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from livingmeta.stats.result import PooledResult, SubgroupResult

MINUS = "\N{MINUS SIGN}"
ELLIPSIS = "\N{HORIZONTAL ELLIPSIS}"
SQUARED = "\N{SUPERSCRIPT TWO}"

MEASURE_NAMES = {
    "OR": "Odds Ratio",
    "RR": "Risk Ratio",
    "RD": "Risk Difference",
    "MD": "Mean Difference",
    "SMD": "Std. Mean Difference",
    "GIV": "Effect",
}
METHOD_NAMES = {"MH": "M-H", "IV": "IV", "Peto": "Peto"}
MODEL_NAMES = {"fixed": "Fixed", "random": "Random"}

_TRAILING_YEAR = re.compile(r"^(?P<head>.*?)(?P<tail>[\s,]+\(?\d{4}[a-z]?\)?)$")


def minus(text: str) -> str:
    """Replace hyphen-minus signs of numbers with the typographic minus."""
    return re.sub(r"(?<![\w)])-(?=\d|inf)", MINUS, text)


def fmt_number(value: float, decimals: int = 2) -> str:
    """A table number with fixed decimals (RevMan prints effects with two)."""
    if not math.isfinite(value):
        return "∞" if value > 0 else f"{MINUS}∞"
    text = f"{value:.{decimals}f}"
    if float(text) == 0:  # no "−0.00"
        text = text.lstrip("-")
    return minus(text)


def fmt_ratio(value: float) -> str:
    """A ratio with two decimals, or two significant digits below 0.01.

    RevMan prints 0.0034 as "0.00", which reads as a zero odds ratio; two significant
    digits keep a tiny bound honest without widening every other cell.
    """
    if math.isfinite(value) and 0 < value < 0.005:
        return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"
    return fmt_number(value, 2)


def fmt_effect(value: float, low: float, high: float, is_ratio: bool, decimals: int = 2) -> str:
    """Effect and interval as RevMan shows them: ``0.39 [0.16, 0.93]``."""
    fmt = fmt_ratio if is_ratio else (lambda v: fmt_number(v, decimals))
    return f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def fmt_interval(low: float, high: float, is_ratio: bool, decimals: int = 2) -> str:
    """An interval alone: ``[0.09, 1.61]`` (prediction intervals)."""
    fmt = fmt_ratio if is_ratio else (lambda v: fmt_number(v, decimals))
    return f"[{fmt(low)}, {fmt(high)}]"


def effect_decimals(result: PooledResult) -> int:
    """Decimals for a plot's differences: RevMan's two, more when the pooled interval is
    too narrow to read at two (a risk difference of ``0.00 [0.00, 0.00]`` says nothing).
    Ratios always get two (see :func:`fmt_ratio`)."""
    low, high = result.conf_int()
    width = high - low
    if result.is_ratio or not (math.isfinite(width) and width > 0):
        return 2
    return min(4, max(2, -math.floor(math.log10(width))))


def fmt_weight(weight: float) -> str:
    """Percentage weight with one decimal, ``13.1%``."""
    return f"{weight:.1f}%"


def fmt_p(p: float) -> str:
    """A P value in RevMan 5's form, including the relation: ``P = 0.03``, ``P < 0.00001``.

    Two decimals from 0.01 up, then three, four, and below 0.0001 only a bound, as
    RevMan prints them; NaN (no test possible) gives ``P = NA``.
    """
    if math.isnan(p):
        return "P = NA"
    if p < 0.00001:
        return "P < 0.00001"
    if p < 0.0001:
        return "P < 0.0001"
    for decimals, floor in ((2, 0.01), (3, 0.001), (4, 0.0001)):
        if p >= floor:
            return f"P = {p:.{decimals}f}"
    raise AssertionError("unreachable")  # pragma: no cover


def fmt_i2(i2: float, decimals: int = 0) -> str:
    """I² in percent; RevMan rounds to whole percent (one decimal for subgroup tests)."""
    if i2 <= 0:
        return "0%"
    return f"{i2:.{decimals}f}%"


def fmt_tau2(tau2: float) -> str:
    """Tau² with two decimals; a positive value that would print as 0.00 says < 0.01."""
    if 0 < tau2 < 0.005:
        return "< 0.01"
    return f"= {tau2:.2f}"


def fmt_count(value: float) -> str:
    """An event count or total (integers stay integers)."""
    if not math.isfinite(value):
        return ""
    return str(round(value)) if float(value).is_integer() else minus(f"{value:g}")


def column_decimals(values: list[float], cap: int = 2) -> int:
    """Decimals needed to show every value of a column as entered (at most ``cap``), so a
    column of means lines up on the decimal point."""
    needed = 0
    for v in values:
        if not math.isfinite(v):
            continue
        for d in range(cap + 1):
            if abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)):
                break
        needed = max(needed, d)
    return needed


def effect_heading(result: PooledResult) -> tuple[str, str]:
    """The two heading lines of the effect columns: ``Odds Ratio`` and
    ``M-H, Random, 95% CI``."""
    measure = MEASURE_NAMES.get(result.measure, result.measure)
    method = METHOD_NAMES.get(result.method, result.method)
    model = MODEL_NAMES.get(result.model, result.model)
    return measure, f"{method}, {model}, {level_label(result.level)}"


def level_label(level: float) -> str:
    """``95% CI`` for level 0.95."""
    return f"{100 * level:g}% CI"


def heterogeneity_line(result: PooledResult) -> str:
    """RevMan's heterogeneity line, e.g.
    ``Heterogeneity: Tau² = 0.33; Chi² = 5.29, df = 3 (P = 0.15); I² = 43%``."""
    if result.df < 1:
        return "Heterogeneity: Not applicable"
    chi = f"Chi{SQUARED} = {result.q:.2f}, df = {result.df} ({fmt_p(result.p_q)})"
    i2 = f"I{SQUARED} = {fmt_i2(result.i2)}"
    if result.model == "random":
        return f"Heterogeneity: Tau{SQUARED} {fmt_tau2(result.tau2)}; {chi}; {i2}"
    return f"Heterogeneity: {chi}; {i2}"


def overall_effect_line(result: PooledResult) -> str:
    """``Test for overall effect: Z = 2.11 (P = 0.03)``; with the HKSJ adjustment the
    statistic is a t on k - 1 df: ``t = 2.11, df = 3 (P = 0.12)``."""
    stat = abs(result.statistic)
    value = "∞" if math.isinf(stat) else ("NA" if math.isnan(stat) else f"{stat:.2f}")
    if result.statistic_name == "t":
        return f"Test for overall effect: t = {value}, df = {result.df} ({fmt_p(result.p)})"
    return f"Test for overall effect: Z = {value} ({fmt_p(result.p)})"


def subgroup_difference_line(sub: SubgroupResult) -> str:
    """``Test for subgroup differences: Chi² = 1.23, df = 1 (P = 0.27), I² = 18.7%``."""
    if sub.df_between < 1:
        return "Test for subgroup differences: Not applicable"
    return (
        f"Test for subgroup differences: Chi{SQUARED} = {sub.q_between:.2f}, "
        f"df = {sub.df_between} ({fmt_p(sub.p_between)}), "
        f"I{SQUARED} = {fmt_i2(sub.i2_between, 1)}"
    )


def ellipsize(text: str, fits: Callable[[str], bool]) -> str:
    """Shorten ``text`` with an ellipsis until ``fits(text)``, keeping a trailing year.

    Study labels are "Author Year"; the year tells studies of one group apart, so the
    cut is made before it ("Very long consortium nam… 2019"), not at the end.
    """
    if fits(text):
        return text
    match = _TRAILING_YEAR.match(text)
    head, tail = (match["head"], match["tail"]) if match else (text, "")
    if tail and not fits(ELLIPSIS + tail):
        head, tail = text, ""
    lo, hi = 0, len(head)
    while lo < hi:  # longest prefix that fits
        mid = (lo + hi + 1) // 2
        if fits(head[:mid].rstrip() + ELLIPSIS + tail):
            lo = mid
        else:
            hi = mid - 1
    return head[:lo].rstrip() + ELLIPSIS + tail


def wrap(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Greedy word wrap by a measured-width predicate (a single long word stays whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and fits(f"{lines[-1]} {word}"):
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]
