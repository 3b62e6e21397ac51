"""RevMan 5-style forest plots of a :class:`~livingmeta.stats.PooledResult`.

Estimation and presentation are kept apart (as statsmodels' and lifelines' plotting
functions do): :func:`forest_plot` takes a finished result and only lays it out. The
work is done in three steps that can be tested on their own: :func:`forest_rows` turns
the result into table rows, :func:`~livingmeta.plots.layout.compute_layout` places them,
and :func:`~livingmeta.plots.draw.draw_figure` draws them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from matplotlib.figure import Figure

from livingmeta.formatting import (
    NOT_ESTIMABLE,
    effect_decimals,
    effect_heading,
    format_count,
    format_effect,
    format_interval,
    format_number,
    format_weight,
    heterogeneity_line,
    level_label,
    overall_effect_line,
    subgroup_difference_line,
)
from livingmeta.plots.draw import GraphOptions, draw_figure
from livingmeta.plots.layout import (
    FONT_SIZE,
    MAX_LABEL_WIDTH,
    Column,
    Mark,
    Row,
    Scale,
    choose_scale,
    compute_layout,
    fit_label,
    fixed_scale,
)
from livingmeta.plots.text import column_decimals
from livingmeta.stats.result import PooledResult, StudyResult, SubgroupResult

if TYPE_CHECKING:
    from collections.abc import Mapping

    from livingmeta.outcomes import Outcome
    from livingmeta.risk_of_bias.model import Tool

    #: A tool and the settled judgements ``{study label: {domain: level}}`` it drew.
    RiskOfBiasColumns = tuple[Tool, Mapping[str, Mapping[str, str]]]

DEFAULT_TREAT = "Experimental"
DEFAULT_CTRL = "Control"
DEFAULT_FAVOURS = ("Favours [experimental]", "Favours [control]")
NO_SUBGROUP = "Not classified"

SORT_KEYS: dict[str, Callable[[StudyResult], Any]] = {
    "study": lambda s: s.study.casefold(),
    "label": lambda s: s.study.casefold(),
    "year": lambda s: (s.year is None, s.year or 0, s.study.casefold()),
    "weight": lambda s: -s.weight,
    "effect": lambda s: (not s.estimable, s.yi if s.estimable else 0.0),
}
#: Orders an outcome's ``sort`` may name (``as_entered``: the extraction table's order).
SORT_ORDERS = ("year", "label", "weight", "as_entered")


def forest_plot(
    result: PooledResult,
    outcome: Outcome | None = None,
    *,
    title: str | None = None,
    subgroups: SubgroupResult | None = None,
    sort: str | None = None,
    max_label_width: float = MAX_LABEL_WIDTH,
    fontsize: float = FONT_SIZE,
    risk_of_bias: RiskOfBiasColumns | None = None,
    axis_limits: tuple[float, float] | None = None,
    footnotes: Sequence[str] = (),
) -> Figure:
    """A RevMan 5-style forest plot of one pooled analysis.

    Parameters
    ----------
    result
        The pooled analysis (``subgroups.overall`` when ``subgroups`` is given).
    outcome
        Supplies the arm names for the column headings and the "Favours ..." labels
        (``outcome.favours()``, which knows whether a high value is good or bad). Without
        it the labels are RevMan's generic "Favours [experimental]" / "[control]".
    title
        Printed above the table; journals usually want it in the caption instead.
    subgroups
        Shows each subgroup as a block with its subtotal, heterogeneity and test, and the
        test for subgroup differences at the end. Study weights stay those of the overall
        analysis, so they sum to 100% over the whole plot as in RevMan.
    sort
        Order of studies (within each subgroup): None or ``as_entered`` keeps the data's
        order; ``year`` (then label), ``label`` (or ``study``), ``weight`` (largest
        first) or ``effect``.
    max_label_width
        Inches allowed for study labels; longer ones are shortened with an ellipsis
        before a trailing year, so the table stays readable with long names.
    fontsize
        Points. The figure grows with the number of rows; the font never shrinks.
    risk_of_bias
        (tool, settled judgements by study label): RevMan's risk-of-bias columns right
        of the graph and their letter legend under the plot.
    axis_limits
        (low, high) of the effect axis on the display scale; by default the narrowest
        RevMan-style scale on which every interval fits.
    footnotes
        Lines under the table: studies not reporting the outcome, studies removed from
        the analysis, double-counted control groups.

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot; save it with :func:`save_figure`.
    """
    columns = _columns(result, outcome)
    rows = forest_rows(result, subgroups=subgroups, sort=sort)
    rows += [Row("note", note=line) for line in footnotes]
    studies = _row_studies(result, rows)
    rows = _fit_labels(rows, max_label_width, fontsize)
    scale = _scale(result, rows, axis_limits)
    favours = outcome.favours() if outcome is not None else DEFAULT_FAVOURS
    layout = compute_layout(
        columns, rows, title=title, favours=favours, fontsize=fontsize, scale=scale
    )
    options = GraphOptions(null=result.null_value, heading=effect_heading(result))
    if risk_of_bias is None:
        return draw_figure(layout, rows, scale, options)
    from livingmeta.plots.rob_columns import draw_on_forest, make_room

    tool, judgements = risk_of_bias
    missing = any(not judgements.get(s) for s in studies if s is not None)
    layout = make_room(layout, tool, with_not_assessed=missing)
    fig = draw_figure(layout, rows, scale, options)
    draw_on_forest(fig, layout, studies, tool, judgements, with_not_assessed=missing)
    return fig


def _row_studies(result: PooledResult, rows: Sequence[Row]) -> list[str | None]:
    """The study label (as the data name it) of each study row, None for other rows."""
    names = {_study_label(s): s.study for s in result.studies}
    return [names.get(r.cells.get("label", "")) if r.kind == "study" else None for r in rows]


# ---------------------------------------------------------------------- columns


def _arm_type(result: PooledResult) -> str | None:
    """Which per-arm data the studies carry: dichotomous, continuous, generic or none."""
    keys = set().union(*(s.data.keys() for s in result.studies)) if result.studies else set()
    if {"events_treat", "total_treat"} <= keys:
        return "dichotomous"
    if {"mean_treat", "n_treat"} <= keys:
        return "continuous"
    if {"yi", "se"} <= keys:
        return "generic"
    return None


def _columns(result: PooledResult, outcome: Outcome | None) -> list[Column]:
    treat = outcome.label_treat if outcome is not None else DEFAULT_TREAT
    ctrl = outcome.label_ctrl if outcome is not None else DEFAULT_CTRL
    arm = _arm_type(result)
    cols = [Column("label", "Study or Subgroup", align="left")]
    if arm == "dichotomous":
        for key, group in (("treat", treat), ("ctrl", ctrl)):
            cols += [
                Column(f"events_{key}", "Events", group=group, rule=True),
                Column(f"total_{key}", "Total", group=group, rule=True),
            ]
    elif arm == "continuous":
        for key, group in (("treat", treat), ("ctrl", ctrl)):
            cols += [
                Column(f"mean_{key}", "Mean", group=group, rule=True),
                Column(f"sd_{key}", "SD", group=group, rule=True),
                Column(f"n_{key}", "Total", group=group, rule=True),
            ]
    elif arm == "generic":
        name = effect_heading(result)[0]
        cols += [
            Column("yi", f"log[{name}]" if result.is_ratio else name),
            Column("se", "SE"),
        ]
    measure, method = effect_heading(result)
    cols += [Column("weight", "Weight"), Column("effect", method, group=measure, align="left")]
    return cols


# ---------------------------------------------------------------------- rows


def forest_rows(
    result: PooledResult,
    *,
    subgroups: SubgroupResult | None = None,
    sort: str | None = None,
) -> list[Row]:
    """The table rows of a forest plot, top to bottom, with their marks.

    Kept separate from drawing so the table's content (what a reader checks against the
    paper) is testable as data.
    """
    if sort is not None and sort != "as_entered" and sort not in SORT_KEYS:
        orders = ", ".join([*SORT_KEYS, "as_entered"])
        raise ValueError(f"sort must be one of {orders} or None; got {sort!r}")
    arm = _arm_type(result)
    formats = _cell_formats(result.studies, arm)
    decimals = effect_decimals(result)
    rows: list[Row] = []
    if subgroups is None:
        rows += [_study_row(result, s, formats, decimals) for s in _sorted(result.studies, sort)]
    else:
        for label, studies in _by_subgroup(result.studies).items():
            sub = subgroups.subgroups.get(label)
            rows.append(Row("subgroup", {"label": label or NO_SUBGROUP}, bold=True))
            rows += [_study_row(result, s, formats, decimals) for s in _sorted(studies, sort)]
            rows += _summary_rows(result, sub, studies, arm, "Subtotal")
            rows.append(Row("blank"))
    rows += _summary_rows(result, result, result.studies, arm, "Total")
    if subgroups is not None:
        rows.append(Row("note", note=subgroup_difference_line(subgroups)))
    return rows


def _sorted(studies: Sequence[StudyResult], sort: str | None) -> list[StudyResult]:
    if sort is None or sort == "as_entered":
        return list(studies)
    return sorted(studies, key=SORT_KEYS[sort])


def _by_subgroup(studies: Sequence[StudyResult]) -> dict[str, list[StudyResult]]:
    """Studies per subgroup label in order of first appearance (None pools as "",
    as :func:`livingmeta.stats.subgroups` does)."""
    groups: dict[str, list[StudyResult]] = {}
    for s in studies:
        groups.setdefault(s.subgroup or "", []).append(s)
    return groups


def _study_label(s: StudyResult) -> str:
    """``Author Year``: the year is appended unless the name already carries it."""
    if s.year is not None and str(s.year) not in s.study:
        return f"{s.study} {s.year}"
    return s.study


def _cell_formats(studies: Sequence[StudyResult], arm: str | None) -> dict[str, Callable]:
    """Formatter per arm-data column; means and SDs get the decimals their column needs."""
    formats: dict[str, Callable[[float], str]] = {}
    for s in studies:
        for key in s.data:
            formats.setdefault(key, format_count)
    if arm == "continuous":
        for key in ("mean_treat", "sd_treat", "mean_ctrl", "sd_ctrl"):
            d = column_decimals([s.data.get(key, math.nan) for s in studies])
            formats[key] = lambda v, d=d: format_number(v, d) if math.isfinite(v) else ""
    if arm == "generic":
        formats["yi"] = lambda v: format_number(v, 4)
        formats["se"] = lambda v: format_number(v, 4)
    return formats


def _study_row(
    result: PooledResult, s: StudyResult, formats: dict[str, Callable], decimals: int
) -> Row:
    cells = {"label": _study_label(s)}
    cells.update({k: formats[k](v) for k, v in s.data.items()})
    est, low, high = (result.display(v) for v in (s.yi, s.ci_low, s.ci_high))
    if not s.estimable or est is None or low is None or high is None:
        cells["effect"] = NOT_ESTIMABLE
        return Row("study", cells)
    cells["weight"] = format_weight(s.weight)
    cells["effect"] = format_effect(est, low, high, result.is_ratio, decimals)
    return Row("study", cells, Mark("square", est, low, high, s.weight))


def _summary_rows(
    full: PooledResult,
    pooled: PooledResult | None,
    studies: Sequence[StudyResult],
    arm: str | None,
    name: str,
) -> list[Row]:
    """``Total (95% CI)`` or ``Subtotal``, then prediction interval, total events,
    heterogeneity and the test for the overall effect."""
    kind = name.lower()
    cells = {"label": f"{name} ({level_label(full.level)})"}
    for key in _total_keys(arm):
        cells[key] = format_count(sum(s.data.get(key, 0.0) for s in studies))
    cells["weight"] = format_weight(sum(s.weight for s in studies))
    if pooled is None:
        cells["effect"] = NOT_ESTIMABLE
        return [Row(kind, cells, bold=True), *_event_rows(studies, arm)]
    est, (low, high) = shown(full, pooled.estimate), pooled.conf_int()
    decimals = effect_decimals(full)
    cells["effect"] = format_effect(est, low, high, full.is_ratio, decimals)
    rows = [Row(kind, cells, Mark("diamond", est, low, high), bold=True)]
    rows += _prediction_rows(pooled, decimals) if kind == "total" else []
    rows += _event_rows(studies, arm)
    rows.append(Row("note", note=heterogeneity_line(pooled)))
    rows.append(Row("note", note=overall_effect_line(pooled)))
    return rows


def shown(result: PooledResult, value: float) -> float:
    """A value on the display scale (NaN, never None, for a missing value)."""
    shown = result.display(value)
    return math.nan if shown is None else shown


def _total_keys(arm: str | None) -> tuple[str, ...]:
    return {"dichotomous": ("total_treat", "total_ctrl"), "continuous": ("n_treat", "n_ctrl")}.get(
        arm or "", ()
    )


def _prediction_rows(pooled: PooledResult, decimals: int) -> list[Row]:
    """The prediction interval (random effects, k >= 3: with fewer studies tau² is too
    poorly estimated for the interval to mean anything)."""
    low, high = pooled.predict()
    if pooled.model != "random" or pooled.k < 3 or low is None or high is None:
        return []
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    cells = {
        "label": "Prediction interval",
        "effect": format_interval(low, high, pooled.is_ratio, decimals),
    }
    mark = Mark("prediction", shown(pooled, pooled.estimate), low, high)
    return [Row("prediction", cells, mark)]


def _event_rows(studies: Sequence[StudyResult], arm: str | None) -> list[Row]:
    if arm != "dichotomous":
        return []
    cells = {"label": "Total events"}
    for key in ("events_treat", "events_ctrl"):
        cells[key] = format_count(sum(s.data.get(key, 0.0) for s in studies))
    return [Row("events", cells)]


def _fit_labels(rows: list[Row], max_width: float, fontsize: float) -> list[Row]:
    out = []
    for row in rows:
        label = row.cells.get("label")
        if label and row.kind in ("study", "subgroup"):
            fitted = fit_label(label, max_width, fontsize, row.bold)
            row = Row(row.kind, {**row.cells, "label": fitted}, row.mark, row.bold, row.note)
        out.append(row)
    return out


def _scale(
    result: PooledResult, rows: Sequence[Row], limits: tuple[float, float] | None = None
) -> Scale:
    """The configured ``limits``, else the axis on which every point estimate and every
    interval (studies, pooled, prediction) fits."""
    if limits is not None:
        return fixed_scale(float(limits[0]), float(limits[1]), result.is_ratio)
    marks = [r.mark for r in rows if r.mark is not None]
    must = [m.estimate for m in marks]
    must += [v for m in marks if m.kind == "diamond" for v in (m.low, m.high)]
    prefer = [v for m in marks if m.kind != "diamond" for v in (m.low, m.high)]
    return choose_scale(must, prefer, result.is_ratio, result.null_value)
