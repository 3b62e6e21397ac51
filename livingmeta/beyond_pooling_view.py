"""The analyses beyond pooling of one outcome as formatted text, for the summary, the run
report and the site (one wording everywhere, numbers from :mod:`livingmeta.formatting`).

Everything is read from the display JSON of ``pooled.json`` (the sections of
:class:`livingmeta.beyond_pooling.BeyondPooling`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from livingmeta.formatting import (
    describe_method,
    format_effect,
    format_i2,
    format_p,
    format_p_value,
    format_tau2,
    interval_decimals,
    is_ratio_measure,
    pooled_effect,
    prediction_interval,
    result_i2,
)

TEST_NAMES = {
    "egger": "Egger's regression test (weighted linear model)",
    "egger_rma": "Egger's test, mixed-effects form",
    "begg": "Begg's rank correlation (Kendall's tau)",
    "peters": "Peters' test",
    "harbord": "Harbord's score test",
}
CONVENTION_NAMES = {"revman5": "RevMan 5 formulas", "metafor": "metafor formulas"}


def beyond_pooling_view(pooled: Mapping[str, Any]) -> dict[str, Any] | None:
    """The formatted sections of one outcome's ``pooled.json`` object (None when it has
    no analyses beyond pooling)."""
    if not pooled or "analysis_settings" not in pooled:
        return None
    measure = pooled["result"]["measure"]
    return {
        "views": _views(pooled.get("views"), pooled.get("outcome") or {}),
        "small_study": _small_study(pooled["small_study_effects"], measure),
        "zero_events": _zero_events(pooled.get("zero_event_panel")),
        "meta_regression": _meta_regression(pooled.get("meta_regression")),
        "common_tau2": _common_tau2(pooled.get("subgroups_common_tau2"), measure),
    }


def _views(views: Mapping[str, Any] | None, outcome: Mapping[str, Any]) -> dict[str, Any] | None:
    if not views:
        return None
    if views.get("configured") is None:
        return {"rows": [], "explanation": None, "note": views.get("note")}
    convention = CONVENTION_NAMES.get(outcome.get("convention", "metafor"), "")
    hksj = "HKSJ ad hoc" if views.get("hksj_adhoc", True) else "HKSJ"
    rows = [
        _view_row(f"Configured ({convention})", views["configured"]),
        _view_row(f"Modern (REML, Q-profile, {hksj}, t PI)", views["modern"]),
    ]
    return {"rows": rows, "explanation": views.get("explanation"), "note": None}


def _view_row(name: str, result: Mapping[str, Any]) -> dict[str, str]:
    tau2_ci = ""
    if result.get("tau2_ci_low") is not None and result.get("tau2_ci_high") is not None:
        tau2_ci = f" [{format_tau2(result['tau2_ci_low'])}, {format_tau2(result['tau2_ci_high'])}]"
    i2_ci = ""
    if result.get("i2_ci_low") is not None and result.get("i2_ci_high") is not None:
        i2_ci = f" [{format_i2(result['i2_ci_low'])}, {format_i2(result['i2_ci_high'])}]"
    return {
        "view": name,
        "method": describe_method(result),
        "effect": pooled_effect(result),
        "p": format_p_value(result.get("p")),
        "tau2": format_tau2(result.get("tau2")) + tau2_ci,
        "i2": result_i2(result) + i2_ci,
        "prediction": prediction_interval(result) or "",
    }


def _small_study(section: Mapping[str, Any], measure: str) -> dict[str, Any]:
    note = section.get("note")
    if not section.get("assessed"):
        return {"note": f"Small-study effects: {note}.", "tests": [], "trimfill": None}
    tests = [
        {"name": TEST_NAMES.get(name, name), "result": _test_text(test)}
        for name, test in section.get("tests", {}).items()
    ]
    tests += [
        {"name": TEST_NAMES.get(name, name), "result": f"not run: {why}"}
        for name, why in section.get("not_run", {}).items()
    ]
    filled = section.get("trimfill")
    trimfill = None
    if filled:
        effect = _effect(filled, measure)
        trimfill = (
            f"Trim-and-fill (L0, sensitivity analysis): {filled['k0']} studies imputed on the "
            f"{filled['side']} side; adjusted estimate {effect}"
        )
    text = f"Small-study effects ({section['k']} studies)"
    return {
        "note": f"{text}: {note}." if note else f"{text}.",
        "tests": tests,
        "trimfill": trimfill,
    }


def _test_text(test: Mapping[str, Any]) -> str:
    statistic = test.get("statistic")
    shown = "NA" if statistic is None else f"{statistic:.2f}".replace("-", "\u2212")
    df = f" (df = {test['df']})" if test.get("df") is not None else ""
    return f"statistic = {shown}{df}, {format_p(test.get('p'))}"


def _zero_events(panel: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not panel:
        return None
    rows = [
        {
            "method": row["label"],
            "measure": row["measure"],
            "k": row["k"],
            "effect": _effect(row, row["measure"]),
            "p": format_p_value(row.get("p")),
        }
        for row in panel["rows"]
    ]
    verdict = (
        "The conclusion depends on how zero events are handled: some methods' 95% CIs "
        "exclude no effect and others do not."
        if panel["conclusion_depends_on_method"]
        else "All methods agree on whether the 95% CI excludes no effect."
    )
    caption = (
        f"{panel['single_zero_studies']} single-zero and {panel['double_zero_studies']} "
        "double-zero studies; fixed-effect estimates"
    )
    return {"caption": caption, "rows": rows, "verdict": verdict}


def _meta_regression(section: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not section:
        return None
    covariates = ", ".join(section["covariates"])
    left_out = section.get("left_out") or []
    notes = [f"Left out (no value or not estimable): {', '.join(left_out)}."] if left_out else []
    fit = section.get("fit")
    if fit is None:
        return {"covariates": covariates, "rows": [], "notes": [*notes, section.get("note") or ""]}
    scale = " (log scale)" if section.get("scale") == "log" else ""
    rows = [
        {
            "name": c["name"],
            "effect": format_effect(c["estimate"], c["ci_low"], c["ci_high"], False, 3),
            "p": format_p_value(c.get("p")),
        }
        for c in fit["coefficients"]
    ]
    qm_df = ", ".join(str(d) for d in fit["qm_df"])
    r2 = "" if fit.get("r2") is None else f"; R\u00b2 = {fit['r2']:.0f}%"
    notes += [
        f"Coefficients{scale} with 95% CI; {fit['k']} studies, tau\u00b2 by "
        f"{fit['tau2_method']}, {'Knapp-Hartung t' if fit['test'] == 't' else 'z'} tests.",
        f"Test of moderators: QM = {fit['qm']:.2f} (df = {qm_df}), {format_p(fit['qm_p'])}; "
        f"residual tau\u00b2 = {format_tau2(fit['tau2'])}, I\u00b2 = {format_i2(fit['i2'])}{r2}.",
        *fit.get("warnings", []),
    ]
    return {"covariates": covariates, "rows": rows, "notes": notes}


def _common_tau2(section: Mapping[str, Any] | None, measure: str) -> dict[str, Any] | None:
    if not section:
        return None
    if section.get("note"):
        return {"rows": [], "test": section["note"]}
    rows = [
        {"group": name, "k": g["k"], "effect": _effect(g, measure)}
        for name, g in section["groups"].items()
    ]
    test = (
        f"Common tau\u00b2 ({section['tau2_method']}) = {format_tau2(section['tau2'])}; test for "
        f"subgroup differences: Chi\u00b2 = {section['q_between']:.2f}, "
        f"df = {section['df_between']} ({format_p(section['p_between'])})"
    )
    return {"rows": rows, "test": test}


def _effect(values: Mapping[str, Any], measure: str) -> str:
    ratio = is_ratio_measure(measure)
    decimals = interval_decimals(values.get("ci_low"), values.get("ci_high"), ratio)
    return format_effect(
        values.get("estimate"), values.get("ci_low"), values.get("ci_high"), ratio, decimals
    )


def beyond_pooling_markdown(label: str, pooled: Mapping[str, Any]) -> str:
    """The outcome's analyses beyond pooling as a Markdown section of ``summary.md``."""
    view = beyond_pooling_view(pooled)
    if view is None:
        return ""
    lines = [f"## {label}: analyses beyond pooling", ""]
    views = view["views"]
    if views and views["rows"]:
        lines += [
            "| View | Method | Effect [95% CI] | P | Tau² [95% CI] | I² [95% CI] "
            "| Prediction interval |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in views["rows"]:
            lines.append(
                f"| {r['view']} | {r['method']} | {r['effect']} | {r['p']} | {r['tau2']} "
                f"| {r['i2']} | {r['prediction']} |"
            )
        lines += [""] + ([views["explanation"], ""] if views["explanation"] else [])
    small = view["small_study"]
    lines += [small["note"], ""]
    lines += [f"- {t['name']}: {t['result']}" for t in small["tests"]]
    lines += [f"- {small['trimfill']}"] if small["trimfill"] else []
    lines += [""] if small["tests"] else []
    lines += _zero_event_markdown(view["zero_events"])
    lines += _regression_markdown(view["meta_regression"])
    common = view["common_tau2"]
    if common:
        lines += ["Subgroups with a common tau²:", ""]
        lines += [f"- {r['group']} ({r['k']} studies): {r['effect']}" for r in common["rows"]]
        lines += [f"- {common['test']}", ""]
    return "\n".join(lines) + "\n"


def _zero_event_markdown(zero: Mapping[str, Any] | None) -> list[str]:
    if not zero:
        return []
    lines = [f"Zero-event sensitivity panel ({zero['caption']}):", ""]
    lines += ["| Method | Measure | Studies | Effect [95% CI] | P |", "|---|---|---|---|---|"]
    lines += [
        f"| {r['method']} | {r['measure']} | {r['k']} | {r['effect']} | {r['p']} |"
        for r in zero["rows"]
    ]
    return [*lines, "", zero["verdict"], ""]


def _regression_markdown(reg: Mapping[str, Any] | None) -> list[str]:
    if not reg:
        return []
    lines = [f"Meta-regression on {reg['covariates']}:", ""]
    lines += [f"- {r['name']}: {r['effect']}, P = {r['p']}" for r in reg["rows"]]
    lines += [f"- {note}" for note in reg["notes"] if note]
    return [*lines, ""]


def beyond_pooling_columns(pooled: Mapping[str, Any]) -> dict[str, Any]:
    """The modern view's numbers and the small-study note as columns of ``summary.csv``
    (empty when the outcome has no analyses beyond pooling)."""
    views = pooled.get("views") or {}
    modern = views.get("modern") or {}
    small = pooled.get("small_study_effects") or {}
    keys = ("estimate", "ci_low", "ci_high", "p", "tau2", "tau2_ci_low", "tau2_ci_high")
    return {
        **{f"modern_{k}": modern.get(k) for k in (*keys, "pi_low", "pi_high")},
        "views_differ": views.get("conclusions_differ"),
        "small_study": small.get("note") or ("assessed" if small.get("assessed") else None),
    }


__all__ = ["beyond_pooling_columns", "beyond_pooling_markdown", "beyond_pooling_view"]
