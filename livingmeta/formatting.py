"""Numbers of a meta-analysis as people read them, in RevMan 5's conventions.

Every output that shows a pooled result (the ``livingmeta pool`` table, forest and
sensitivity plots, ``summary.md``, the run report and the results site) formats it with
these functions, so one estimate, interval or P value is printed the same way
everywhere. The conventions are RevMan 5's:

- effects and intervals with two decimals, ``0.39 [0.16, 0.93]``. Two departures, both
  where RevMan's output reads wrongly: a ratio below 0.005 keeps two significant digits
  (``0.0034``, where RevMan prints a zero odds ratio ``0.00``), and differences get up to
  four decimals when the pooled interval is too narrow to read at two;
- P values with two decimals from 0.01 up, then three and four, and below 0.0001 only a
  bound: ``P = 0.03``, ``P = 0.006``, ``P < 0.0001``, ``P < 0.00001``;
- I² in whole percent, ``Not applicable`` when it is undefined (one study); tau² with
  two decimals (``< 0.01`` for a small positive value); weights with one decimal;
- a study or pooled estimate that cannot be computed is ``Not estimable``.

Negative numbers use the typographic minus sign (U+2212), as matplotlib's tick labels
do, so the numbers of a figure's table agree with its axis and with every other output.

A *result* below is a :class:`~livingmeta.stats.PooledResult` or its JSON form (the
``to_dict()`` mapping, the ``result`` of ``pooled.json``), on the display scale.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livingmeta.stats.options import RATIO_MEASURES

if TYPE_CHECKING:
    from livingmeta.stats.result import PooledResult, SubgroupResult

MINUS = "\N{MINUS SIGN}"
SQUARED = "\N{SUPERSCRIPT TWO}"
INFINITY = "\N{INFINITY}"
NOT_ESTIMABLE = "Not estimable"
NOT_APPLICABLE = "Not applicable"
#: A value that could not be computed (no test possible).
MISSING = "NA"

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

# ---------------------------------------------------------------------- single numbers


def minus(text: str) -> str:
    """Replace the hyphen-minus signs of numbers with the typographic minus.

    >>> minus("-0.5 [-1.2, 0.3]") == f"{MINUS}0.5 [{MINUS}1.2, 0.3]"
    True
    """
    return re.sub(r"(?<![\w)])-(?=\d|inf)", MINUS, text)


def finite_number(value: Any) -> float | None:
    """A number read from JSON as a finite float; None for None, NaN, infinities and
    non-numbers (what is shown as "Not estimable" or "NA")."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _number(value: Any) -> float:
    """A float, NaN for None and non-numbers (infinities are kept)."""
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def format_number(value: float, decimals: int = 2) -> str:
    """A number with fixed decimals; infinities as ``∞``, never ``−0.00``.

    >>> format_number(0.3853)
    '0.39'
    >>> format_number(-0.001)
    '0.00'
    """
    if math.isnan(value):
        return MISSING
    if math.isinf(value):
        return INFINITY if value > 0 else f"{MINUS}{INFINITY}"
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return minus(text)


def format_ratio(value: float) -> str:
    """A ratio with two decimals, or two significant digits below 0.005.

    RevMan prints 0.0034 as "0.00", which reads as a zero odds ratio; two significant
    digits keep a tiny bound honest without widening every other cell.

    >>> format_ratio(0.934903)
    '0.93'
    >>> format_ratio(0.0034)
    '0.0034'
    """
    if math.isfinite(value) and 0 < value < 0.005:
        return f"{value:.2g}" if value >= 1e-4 else f"{value:.1e}"
    return format_number(value, 2)


def format_estimate(value: float, is_ratio: bool, decimals: int = 2) -> str:
    """One estimate or bound: :func:`format_ratio` for ratios, else ``decimals``."""
    return format_ratio(value) if is_ratio else format_number(value, decimals)


def format_effect(
    estimate: float | None,
    low: float | None,
    high: float | None,
    is_ratio: bool,
    decimals: int = 2,
) -> str:
    """An effect and its interval as RevMan shows them.

    >>> format_effect(0.385331, 0.158819, 0.934903, is_ratio=True)
    '0.39 [0.16, 0.93]'
    >>> format_effect(None, None, None, is_ratio=True)
    'Not estimable'
    """
    if estimate is None or low is None or high is None:
        return NOT_ESTIMABLE
    if math.isnan(estimate) or math.isnan(low) or math.isnan(high):
        return NOT_ESTIMABLE
    shown = (format_estimate(v, is_ratio, decimals) for v in (estimate, low, high))
    return "{} [{}, {}]".format(*shown)


def format_interval(low: float, high: float, is_ratio: bool, decimals: int = 2) -> str:
    """An interval alone (prediction intervals).

    >>> format_interval(0.0905, 1.6071, is_ratio=True)
    '[0.09, 1.61]'
    """
    bounds = (format_estimate(v, is_ratio, decimals) for v in (low, high))
    return "[{}, {}]".format(*bounds)


def interval_decimals(low: float | None, high: float | None, is_ratio: bool) -> int:
    """Decimals for differences: RevMan's two, more when the interval is too narrow to
    read at two (a risk difference of ``0.00 [0.00, 0.00]`` says nothing). Ratios always
    get two (see :func:`format_ratio`).

    >>> interval_decimals(-0.004, 0.003, is_ratio=False)
    3
    >>> interval_decimals(0.001, 0.002, is_ratio=True)
    2
    """
    if is_ratio or low is None or high is None:
        return 2
    width = high - low
    if not (math.isfinite(width) and width > 0):
        return 2
    return min(4, max(2, -math.floor(math.log10(width))))


def format_weight(weight: float) -> str:
    """A percentage weight with one decimal.

    >>> format_weight(13.66)
    '13.7%'
    """
    return f"{weight:.1f}%"


def format_p_value(p: float | None) -> str:
    """A P value without its relation, for a table column.

    Two decimals from 0.01 up, then three, four, and below 0.0001 only a bound, as
    RevMan prints them; ``NA`` when no test was possible.

    >>> [format_p_value(p) for p in (0.151, 0.0061, 0.00021, 0.00002, 1e-7, None)]
    ['0.15', '0.006', '0.0002', '< 0.0001', '< 0.00001', 'NA']
    """
    if p is None or math.isnan(p):
        return MISSING
    if p < 0.00001:
        return "< 0.00001"
    if p < 0.0001:
        return "< 0.0001"
    decimals = 2 if p >= 0.01 else 3 if p >= 0.001 else 4
    return f"{p:.{decimals}f}"


def _clause(name: str, value: str) -> str:
    """``P = 0.03`` or, for a bound, ``P < 0.0001``."""
    return f"{name} {value}" if value.startswith(("<", ">")) else f"{name} = {value}"


def format_p(p: float | None) -> str:
    """A P value with its relation, as in RevMan's text lines.

    >>> format_p(0.0349), format_p(0.00002), format_p(float("nan"))
    ('P = 0.03', 'P < 0.0001', 'P = NA')
    """
    return _clause("P", format_p_value(p))


def format_i2(i2: float | None, decimals: int = 0, *, studies: int | None = None) -> str:
    """I² in percent (whole percent; one decimal for subgroup tests); ``Not applicable``
    when it is undefined: no value, or fewer than two ``studies`` when that is given.

    >>> format_i2(43.34), format_i2(0.0), format_i2(None), format_i2(0.0, studies=1)
    ('43%', '0%', 'Not applicable', 'Not applicable')
    """
    if i2 is None or math.isnan(i2) or (studies is not None and studies < 2):
        return NOT_APPLICABLE
    if i2 <= 0:
        return "0%"
    return f"{i2:.{decimals}f}%"


def format_tau2(tau2: float | None) -> str:
    """Tau² with two decimals; a positive value that would print as 0.00 is ``< 0.01``.

    >>> format_tau2(0.3312), format_tau2(0.0), format_tau2(0.001)
    ('0.33', '0.00', '< 0.01')
    """
    if tau2 is None or math.isnan(tau2):
        return MISSING
    if 0 < tau2 < 0.005:
        return "< 0.01"
    return f"{tau2:.2f}"


def format_statistic(value: float | None) -> str:
    """A test statistic's absolute value with two decimals (Z, t, Chi²).

    >>> format_statistic(-2.1149), format_statistic(float("inf"))
    ('2.11', '∞')
    """
    if value is None or math.isnan(value):
        return MISSING
    if math.isinf(value):
        return INFINITY
    return f"{abs(value):.2f}"


def format_count(value: float) -> str:
    """An event count or total (integers stay integers, an empty cell stays empty).

    >>> format_count(12.0), format_count(12.5), format_count(float("nan"))
    ('12', '12.5', '')
    """
    if not math.isfinite(value):
        return ""
    return str(round(value)) if float(value).is_integer() else minus(f"{value:g}")


def level_label(level: float) -> str:
    """``95% CI`` for level 0.95.

    >>> level_label(0.95)
    '95% CI'
    """
    return f"{100 * level:g}% CI"


# ---------------------------------------------------------------------- results


@dataclass(frozen=True)
class _Shown:
    """What the formatters need of a result, whichever form it came in."""

    measure: str
    method: str
    model: str
    tau2_method: str | None
    hksj: bool
    level: float
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    pi_low: float | None
    pi_high: float | None
    statistic: float
    test: str
    p: float
    q: float
    df: int | None
    p_q: float
    i2: float
    tau2: float

    @property
    def is_ratio(self) -> bool:
        return self.measure in RATIO_MEASURES


#: Fields of :class:`_Shown` that a PooledResult holds under the same name and scale.
_SAME_NAMED = (
    "measure",
    "method",
    "model",
    "tau2_method",
    "hksj",
    "level",
    "statistic",
    "p",
    "q",
    "df",
    "p_q",
    "i2",
    "tau2",
)


def _shown(result: PooledResult | Mapping[str, Any]) -> _Shown:
    if isinstance(result, Mapping):
        return _from_mapping(result)
    low, high = result.conf_int()
    pi_low, pi_high = result.predict()
    return _Shown(
        **{name: getattr(result, name) for name in _SAME_NAMED},
        estimate=result.display(result.estimate),
        ci_low=low,
        ci_high=high,
        pi_low=pi_low,
        pi_high=pi_high,
        test=result.statistic_name,
    )


def _from_mapping(result: Mapping[str, Any]) -> _Shown:
    """The JSON form: the statistic's value is ``statistic`` (or its alias ``z``) and its
    kind ``test``; older files hold the kind in ``statistic``."""
    statistic, test = result.get("statistic"), result.get("test")
    if isinstance(statistic, str):
        statistic, test = result.get("z"), test or statistic
    elif statistic is None:
        statistic = result.get("z")
    df = result.get("df")
    return _Shown(
        measure=str(result.get("measure") or ""),
        method=str(result.get("method") or ""),
        model=str(result.get("model") or ""),
        tau2_method=result.get("tau2_method"),
        hksj=bool(result.get("hksj")),
        level=_number(result.get("level", 0.95)),
        estimate=finite_number(result.get("estimate")),
        ci_low=finite_number(result.get("ci_low")),
        ci_high=finite_number(result.get("ci_high")),
        pi_low=finite_number(result.get("pi_low")),
        pi_high=finite_number(result.get("pi_high")),
        statistic=_number(statistic),
        test=str(test or "z"),
        p=_number(result.get("p")),
        q=_number(result.get("q")),
        df=None if df is None else int(df),
        p_q=_number(result.get("p_q")),
        i2=_number(result.get("i2")),
        tau2=_number(result.get("tau2")),
    )


def is_ratio_measure(measure: str) -> bool:
    """True for OR and RR (shown as ratios, no effect at 1)."""
    return measure in RATIO_MEASURES


def effect_decimals(result: PooledResult | Mapping[str, Any]) -> int:
    """Decimals of a result's effects (its studies' and its pooled estimate's)."""
    r = _shown(result)
    return interval_decimals(r.ci_low, r.ci_high, r.is_ratio)


def pooled_effect(result: PooledResult | Mapping[str, Any]) -> str:
    """A result's pooled estimate and confidence interval, ``0.39 [0.16, 0.93]``."""
    r = _shown(result)
    decimals = interval_decimals(r.ci_low, r.ci_high, r.is_ratio)
    return format_effect(r.estimate, r.ci_low, r.ci_high, r.is_ratio, decimals)


def prediction_interval(result: PooledResult | Mapping[str, Any]) -> str | None:
    """A result's prediction interval, ``[0.09, 1.61]``; None without one."""
    r = _shown(result)
    if r.pi_low is None or r.pi_high is None:
        return None
    decimals = interval_decimals(r.ci_low, r.ci_high, r.is_ratio)
    return format_interval(r.pi_low, r.pi_high, r.is_ratio, decimals)


def result_i2(result: PooledResult | Mapping[str, Any]) -> str:
    """A result's I², ``Not applicable`` for a single study (df < 1)."""
    r = _shown(result)
    return format_i2(r.i2, studies=None if r.df is None else r.df + 1)


def method_model(method: str, model: str) -> str:
    """``M-H, Random``: RevMan's names of a method and a model."""
    names = (METHOD_NAMES.get(method, method), MODEL_NAMES.get(model, model))
    return ", ".join(name for name in names if name)


def effect_heading(result: PooledResult | Mapping[str, Any]) -> tuple[str, str]:
    """The two heading lines of RevMan's effect column: ``Odds Ratio`` and
    ``M-H, Random, 95% CI``."""
    r = _shown(result)
    measure = MEASURE_NAMES.get(r.measure, r.measure)
    return measure, f"{method_model(r.method, r.model)}, {level_label(r.level)}"


def describe_method(result: PooledResult | Mapping[str, Any]) -> str:
    """The method in full, e.g. ``M-H, Random, 95% CI`` or ``IV, Random (REML, HKSJ),
    95% CI``: RevMan's heading plus the tau² estimator and the HKSJ adjustment, which
    RevMan (DerSimonian-Laird only) never needed to name.

    >>> describe_method({"method": "IV", "model": "random", "tau2_method": "REML",
    ...                  "hksj": True, "level": 0.95})
    'IV, Random (REML, HKSJ), 95% CI'
    """
    r = _shown(result)
    extra = []
    if r.model == "random" and r.method == "IV":
        extra.append(r.tau2_method or "DL")
    if r.hksj:
        extra.append("HKSJ")
    suffix = f" ({', '.join(extra)})" if extra else ""
    return f"{method_model(r.method, r.model)}{suffix}, {level_label(r.level)}"


def heterogeneity_line(result: PooledResult | Mapping[str, Any]) -> str:
    """RevMan's heterogeneity line.

    >>> heterogeneity_line({"model": "random", "tau2": 0.3312, "q": 5.294, "df": 3,
    ...                     "p_q": 0.1515, "i2": 43.34})
    'Heterogeneity: Tau² = 0.33; Chi² = 5.29, df = 3 (P = 0.15); I² = 43%'
    >>> heterogeneity_line({"model": "fixed", "q": 0.0, "df": 0, "i2": None})
    'Heterogeneity: Not applicable'
    """
    r = _shown(result)
    if r.df is None or r.df < 1:
        return f"Heterogeneity: {NOT_APPLICABLE}"
    chi = f"Chi{SQUARED} = {format_statistic(r.q)}, df = {r.df} ({format_p(r.p_q)})"
    i2 = f"I{SQUARED} = {format_i2(r.i2)}"
    if r.model == "random":
        tau2 = _clause(f"Tau{SQUARED}", format_tau2(r.tau2))
        return f"Heterogeneity: {tau2}; {chi}; {i2}"
    return f"Heterogeneity: {chi}; {i2}"


def overall_effect_line(result: PooledResult | Mapping[str, Any]) -> str:
    """RevMan's test for the overall effect; with the HKSJ adjustment the statistic is a
    t on k - 1 df.

    >>> overall_effect_line({"statistic": -2.1149, "test": "z", "p": 0.0344})
    'Test for overall effect: Z = 2.11 (P = 0.03)'
    >>> overall_effect_line({"statistic": 2.1149, "test": "t", "df": 3, "p": 0.1246})
    'Test for overall effect: t = 2.11, df = 3 (P = 0.12)'
    """
    r = _shown(result)
    value = format_statistic(r.statistic)
    if r.test == "t":
        return f"Test for overall effect: t = {value}, df = {r.df} ({format_p(r.p)})"
    return f"Test for overall effect: Z = {value} ({format_p(r.p)})"


def subgroup_difference_line(sub: SubgroupResult) -> str:
    """``Test for subgroup differences: Chi² = 1.23, df = 1 (P = 0.27), I² = 18.7%``."""
    if sub.df_between < 1:
        return f"Test for subgroup differences: {NOT_APPLICABLE}"
    return (
        f"Test for subgroup differences: Chi{SQUARED} = {format_statistic(sub.q_between)}, "
        f"df = {sub.df_between} ({format_p(sub.p_between)}), "
        f"I{SQUARED} = {format_i2(sub.i2_between, 1)}"
    )
