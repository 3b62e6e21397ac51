"""Cumulative and leave-one-out plots: one pooled estimate per row.

They answer the living-review questions "how did the evidence grow?" and "does one study
drive the result?". Each row is a whole meta-analysis, so rows carry k, I² and P next
to the estimate, and marks are unweighted points rather than weighted squares.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from livingmeta.formatting import (
    NOT_ESTIMABLE,
    SQUARED,
    effect_decimals,
    effect_heading,
    format_effect,
    format_i2,
    format_p_value,
    level_label,
)
from livingmeta.plots.draw import GraphOptions, draw_figure
from livingmeta.plots.forest import DEFAULT_FAVOURS, shown
from livingmeta.plots.layout import (
    FONT_SIZE,
    MAX_LABEL_WIDTH,
    Column,
    Mark,
    Row,
    choose_scale,
    compute_layout,
    fit_label,
)
from livingmeta.stats.result import PooledResult

if TYPE_CHECKING:
    from livingmeta.outcomes import Outcome

Steps = Sequence[tuple[str, PooledResult | None]]


def cumulative_plot(
    steps: Steps,
    outcome: Outcome | None = None,
    *,
    title: str | None = None,
    fontsize: float = FONT_SIZE,
) -> Figure:
    """Cumulative meta-analysis: row i is the pooled estimate of the first i studies.

    Parameters
    ----------
    steps
        ``livingmeta.stats.cumulative(...)``: (study added, pooled result or None when
        nothing was estimable yet), in the order studies were added (by year).
    outcome
        Supplies the "Favours ..." labels.
    title
        Printed above the table.
    fontsize
        Points; the figure grows with the rows.
    """
    reference = _first_result(steps)
    rows = []
    for i, (name, result) in enumerate(steps):
        year = _year_of(name, result)
        label = fit_label(name if i == 0 else f"+ {name}", MAX_LABEL_WIDTH, fontsize)
        rows.append(_pooled_row("step", label, result, {"year": "" if year is None else str(year)}))
    rows.append(Row("blank"))
    rows.append(Row("note", note="Each row pools that study with all studies above it."))
    columns = [Column("label", "Study added", align="left"), Column("year", "Year")]
    return _plot(columns, rows, reference, outcome, title, fontsize)


def leave_one_out_plot(
    results: Steps,
    full: PooledResult,
    outcome: Outcome | None = None,
    *,
    title: str | None = None,
    fontsize: float = FONT_SIZE,
) -> Figure:
    """Leave-one-out analysis: row i is the pooled estimate without study i.

    The full analysis is drawn as a dashed line with its confidence interval as a shaded
    band, so a row whose estimate leaves the band points at an influential study; the
    last row repeats the full estimate as a diamond.

    Parameters
    ----------
    results
        ``livingmeta.stats.leave_one_out(...)``: (study omitted, pooled result or None).
    full
        The analysis of all studies.
    outcome
        Supplies the "Favours ..." labels.
    title
        Printed above the table.
    fontsize
        Points; the figure grows with the rows.
    """
    years = {s.study: s.year for s in full.studies}
    rows = []
    for name, result in results:
        year = years.get(name)
        label = name if year is None or str(year) in name else f"{name} {year}"
        rows.append(_pooled_row("step", fit_label(label, MAX_LABEL_WIDTH, fontsize), result, {}))
    rows.append(Row("blank"))
    all_row = _pooled_row("all", "All studies", full, {})
    mark = all_row.mark
    assert mark is not None
    rows.append(
        Row("all", all_row.cells, Mark("diamond", mark.estimate, mark.low, mark.high), bold=True)
    )
    rows.append(Row("note", note="Each row pools all studies except the one named."))
    band_note = f"Dashed line and band: estimate and {level_label(full.level)} of all studies."
    rows.append(Row("note", note=band_note))
    columns = [Column("label", "Study omitted", align="left")]
    band = full.conf_int()
    return _plot(columns, rows, full, outcome, title, fontsize, full=full, band=band)


def _first_result(steps: Steps) -> PooledResult:
    result = next((r for _, r in steps if r is not None), None)
    if result is None:
        raise ValueError("no step has a pooled result to plot")
    return result


def _year_of(name: str, result: PooledResult | None) -> int | None:
    if result is None:
        return None
    return next((s.year for s in result.studies if s.study == name), None)


def _pooled_row(kind: str, label: str, result: PooledResult | None, extra: dict[str, str]) -> Row:
    cells = {"label": label, **extra}
    if result is None:
        return Row(kind, {**cells, "effect": NOT_ESTIMABLE})
    est, (low, high) = shown(result, result.estimate), result.conf_int()
    cells.update(
        k=str(result.k),
        i2=format_i2(result.i2) if result.df > 0 else "\N{EN DASH}",
        p=format_p_value(result.p),
        effect=format_effect(est, low, high, result.is_ratio, effect_decimals(result)),
    )
    return Row(kind, cells, Mark("point", est, low, high))


def _plot(
    columns: list[Column],
    rows: list[Row],
    reference: PooledResult,
    outcome: Outcome | None,
    title: str | None,
    fontsize: float,
    *,
    full: PooledResult | None = None,
    band: tuple[float, float] | None = None,
) -> Figure:
    measure, method = effect_heading(reference)
    columns = [
        *columns,
        Column("k", "k"),
        Column("i2", f"I{SQUARED}"),
        Column("p", "P"),
        Column("effect", method, group=measure, align="left"),
    ]
    marks = [r.mark for r in rows if r.mark is not None]
    must = [m.estimate for m in marks] + list(band or ())
    prefer = [v for m in marks for v in (m.low, m.high)]
    scale = choose_scale(must, prefer, reference.is_ratio, reference.null_value)
    favours = outcome.favours() if outcome is not None else DEFAULT_FAVOURS
    layout = compute_layout(
        columns, rows, title=title, favours=favours, fontsize=fontsize, scale=scale
    )
    options = GraphOptions(
        null=reference.null_value,
        heading=(measure, method),
        reference=None if full is None else full.display(full.estimate),
        band=band,
    )
    return draw_figure(layout, rows, scale, options)
