"""What changed in one outcome's pooled estimate between two runs.

A living review's readers need to know, first, whether an update changed the conclusion:
did the confidence interval start (or stop) excluding no effect, or did the point estimate
move to the other side of it? :func:`compare_estimates` answers that from two
``PooledResult.to_dict()`` dicts (the ``result`` of two runs' ``pooled.json``), on the
display scale, where the null is 1 for ratio measures (OR, RR) and 0 otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from livingmeta.formatting import finite_number
from livingmeta.outcome_analysis import main_result
from livingmeta.stats.options import RATIO_MEASURES

#: Keys of :func:`compare_estimates`' result, in order (also the columns of tables).
COMPARISON_KEYS = (
    "outcome",
    "label",
    "measure",
    "measure_before",
    "null",
    "new",
    "k_before",
    "k_after",
    "estimate_before",
    "ci_low_before",
    "ci_high_before",
    "p_before",
    "estimate_after",
    "ci_low_after",
    "ci_high_after",
    "p_after",
    "significant_before",
    "significant_after",
    "significance_changed",
    "significance",
    "direction_before",
    "direction_after",
    "direction_changed",
    "measure_changed",
    "updated",
    "changed",
)


def null_value(measure: str) -> float:
    """No effect on the display scale: 1 for ratios, 0 for differences."""
    return 1.0 if measure in RATIO_MEASURES else 0.0


def _significant(result: Mapping[str, Any], null: float) -> bool | None:
    """True if the CI excludes the null; None if there is no interval."""
    low, high = finite_number(result.get("ci_low")), finite_number(result.get("ci_high"))
    if low is None or high is None:
        return None
    return low > null or high < null


def _direction(result: Mapping[str, Any], null: float) -> int | None:
    """-1 below the null, +1 above, 0 on it; None without an estimate."""
    estimate = finite_number(result.get("estimate"))
    if estimate is None:
        return None
    return (estimate > null) - (estimate < null)


def compare_estimates(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    *,
    outcome: str | None = None,
    label: str | None = None,
) -> dict[str, Any]:
    """Compare one outcome's pooled result before and after an update.

    Parameters
    ----------
    before
        The previous run's ``PooledResult.to_dict()`` (or its whole ``pooled.json``), or
        ``None`` if the outcome was not pooled before (a new outcome, or the first run).
    after
        This run's result, in the same form.
    outcome, label
        The outcome's name and label, copied into the result for reports.

    Returns
    -------
    dict
        Keys :data:`COMPARISON_KEYS`. ``significant_*`` is True when the CI excludes the
        null (None when there is no CI, e.g. no estimable study); ``significance`` is
        ``"gained"``, ``"lost"`` or ``None``; ``direction_*`` is -1, 0 or +1 (estimate
        below, on or above the null); ``direction_changed`` is True when the estimate
        crossed the null (from one side to the other, not merely onto it);
        ``measure_changed`` when the effect measure differs (the config changed);
        ``updated`` when the estimate or its number of studies moved (new data reached
        the analysis); ``changed`` when anything worth a reader's attention happened: a
        new outcome, an update, a significance or direction change or a changed measure.
        ``measure_before`` is the previous run's measure (None for a new outcome). When
        either result carries a GRADE ``certainty`` (``high`` ... ``very low``), the keys
        ``certainty_before``, ``certainty_after`` and ``certainty_changed`` are added (a
        change of certainty is a change of conclusion too).
    """
    post = main_result(after)
    if post is None:
        raise ValueError("compare_estimates needs an 'after' result")
    pre = main_result(before)
    measure = str(post.get("measure", ""))
    null = null_value(measure)
    out: dict[str, Any] = dict.fromkeys(COMPARISON_KEYS)
    out.update(
        outcome=outcome,
        label=label,
        measure=measure,
        null=null,
        new=pre is None,
        **_side(post, null, "after"),
        significance_changed=False,
        direction_changed=False,
        measure_changed=False,
    )
    sig_after, dir_after = out["significant_after"], out["direction_after"]
    if pre is not None:
        pre_measure = str(pre.get("measure", measure))
        out.update(_side(pre, null_value(pre_measure), "before"))
        out["measure_changed"] = pre_measure != measure
        out["measure_before"] = pre_measure
        sig_before, dir_before = out["significant_before"], out["direction_before"]
        if bool(sig_before) != bool(sig_after):
            out["significance_changed"] = True
            out["significance"] = "gained" if sig_after else "lost"
        out["direction_changed"] = (
            dir_before is not None and dir_after is not None and dir_before * dir_after < 0
        )
        out["updated"] = pre.get("k") != post.get("k") or not _same(
            out["estimate_before"], out["estimate_after"]
        )
    if (pre or {}).get("certainty") or post.get("certainty"):
        out["certainty_before"] = (pre or {}).get("certainty")
        out["certainty_after"] = post.get("certainty")
        out["certainty_changed"] = pre is not None and (
            out["certainty_before"] != out["certainty_after"]
        )
    out["changed"] = bool(
        out["new"]
        or out["updated"]
        or out["significance_changed"]
        or out["direction_changed"]
        or out["measure_changed"]
        or out.get("certainty_changed")
    )
    return out


def _side(result: Mapping[str, Any], null: float, when: str) -> dict[str, Any]:
    """One result's half of the comparison: its keys end in ``_before`` or ``_after``."""
    return {
        f"k_{when}": result.get("k"),
        f"estimate_{when}": finite_number(result.get("estimate")),
        f"ci_low_{when}": finite_number(result.get("ci_low")),
        f"ci_high_{when}": finite_number(result.get("ci_high")),
        f"p_{when}": finite_number(result.get("p")),
        f"significant_{when}": _significant(result, null),
        f"direction_{when}": _direction(result, null),
    }


def _same(a: float | None, b: float | None) -> bool:
    """Equal estimates (to the precision a CSV round trip keeps)."""
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def conclusion_changed(comparison: Mapping[str, Any]) -> bool:
    """Whether a :func:`compare_estimates` result changed the conclusion (significance,
    direction, effect measure or certainty of the evidence), not only moved the
    estimate."""
    return not comparison.get("new") and bool(
        comparison.get("significance_changed")
        or comparison.get("direction_changed")
        or comparison.get("measure_changed")
        or comparison.get("certainty_changed")
    )


def describe_change(comparison: Mapping[str, Any]) -> str:
    """What changed, in words, always with the estimates before and after:
    ``the confidence interval now excludes no effect (significance gained): OR 0.52
    [0.31, 0.88] with 3 studies → 0.45 [0.30, 0.68] with 4 studies``.

    Every kind of change names its before and after: significance (the interval and no
    effect), direction (which side of no effect), the effect measure (its names, each
    estimate printed on its own scale) and the certainty of the evidence when the
    comparison carries it; a new outcome states its first estimate.
    """
    c = comparison
    if c.get("new"):
        return f"first pooled estimate: {c.get('measure')} {_shown(c, 'after')}"
    parts = _what_changed(c)
    if not parts:
        parts.append("the estimate was updated; the conclusion is unchanged")
    before_measure = c.get("measure_before") or c.get("measure")
    if before_measure != c.get("measure"):
        estimates = (
            f"{before_measure} {_shown(c, 'before', before_measure)} → "
            f"{c.get('measure')} {_shown(c, 'after')}"
        )
    else:
        estimates = f"{c.get('measure')} {_shown(c, 'before')} → {_shown(c, 'after')}"
    return f"{'; '.join(parts)}: {estimates}"


def _what_changed(c: Mapping[str, Any]) -> list[str]:
    """One phrase per change of conclusion, each saying from what to what."""
    parts = []
    if c.get("significance") == "gained":
        parts.append("the confidence interval now excludes no effect (significance gained)")
    elif c.get("significance") == "lost" and c.get("significant_after") is None:
        parts.append(
            "no confidence interval can be estimated any more (significance lost: no "
            "estimable study)"
        )
    elif c.get("significance") == "lost":
        parts.append("the confidence interval now includes no effect (significance lost)")
    if c.get("direction_changed"):
        null = _null_text(c.get("null"))
        sides = {-1: f"below {null}", 1: f"above {null}"}
        parts.append(
            "the estimate crossed the line of no effect (direction reversed: "
            f"{sides.get(c.get('direction_before'), '?')} → "
            f"{sides.get(c.get('direction_after'), '?')})"
        )
    if c.get("measure_changed"):
        before = c.get("measure_before") or "?"
        parts.append(f"the effect measure changed ({before} → {c.get('measure')})")
    if c.get("certainty_changed"):
        before = c.get("certainty_before") or "not assessed"
        after = c.get("certainty_after") or "not assessed"
        parts.append(f"the certainty of the evidence changed ({before} → {after})")
    return parts


def _null_text(null: Any) -> str:
    return "1" if null == 1 else "0"


def _shown(c: Mapping[str, Any], when: str, measure: str | None = None) -> str:
    """``0.45 [0.30, 0.68] with 4 studies`` (the measure's scale decides the decimals)."""
    from livingmeta.formatting import format_effect, interval_decimals

    is_ratio = (measure or c.get("measure")) in RATIO_MEASURES
    low, high = c.get(f"ci_low_{when}"), c.get(f"ci_high_{when}")
    decimals = interval_decimals(low, high, is_ratio)
    effect = format_effect(c.get(f"estimate_{when}"), low, high, is_ratio, decimals)
    k = c.get(f"k_{when}")
    return effect if k is None else f"{effect} with {k} stud{'y' if k == 1 else 'ies'}"
