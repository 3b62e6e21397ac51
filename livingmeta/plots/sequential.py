"""The sequential monitoring chart of a living meta-analysis, as the TSA program draws it.

The x-axis is information: cumulative participants, with the required information size
(RIS) marked by a vertical line. The cumulative Z-curve joins the review's updates (one
point per update, labelled). Around it: the Lan-DeMets monitoring boundaries (crossing
one is firm evidence at the planned error), the inner futility wedge (inside it the
anticipated effect is unlikely), and the conventional ±1.96 lines, which the curve may
cross by chance when the data are looked at again and again.

Drawing only: the boundaries come from :mod:`livingmeta.stats.sequential`. The figure
is on the Agg canvas (not registered with pyplot); save it with
:func:`livingmeta.plots.save_figure`. Artists carry a ``label`` naming their role
(``z-curve``, ``monitoring-upper``, ``monitoring-lower``, ``futility-upper``,
``futility-lower``, ``futility-wedge``, ``conventional-upper``, ``conventional-lower``,
``ris``) for tests and callers.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from livingmeta.plots.draw import INK
from livingmeta.plots.layout import FONT_SIZE, font
from livingmeta.stats.sequential import planned_design

CONVENTIONAL_Z = 1.959963984540054
Z_LIMIT = 8.0  # the TSA program's chart stops at |Z| = 8; early O'Brien-Fleming bounds are higher
Z_CURVE = "#1f4e8c"
BOUNDARY = "#b22222"
FUTILITY = "#b22222"
CONVENTIONAL = "#2e7d32"
SIZE = (7.5, 4.8)  # inches


def sequential_plot(
    looks: Sequence[tuple[str, float, float]],
    information_size: float,
    *,
    alpha: float = 0.05,
    beta: float | None = 0.1,
    spending: str = "obf",
    title: str | None = None,
    favours: tuple[str, str] | None = None,
) -> Figure:
    """Draw the cumulative Z-curve against the monitoring boundaries.

    Parameters
    ----------
    looks
        ``(label, participants, z)`` per update, in order (as for
        :func:`livingmeta.stats.sequential.monitor`).
    information_size
        The (diversity-adjusted) required information size in participants.
    alpha, beta, spending
        The design (``beta=None``: no futility wedge).
    title
        Drawn above the chart.
    favours
        Texts for positive and negative Z (e.g. ``("Favours stenting", "Favours
        control")``), written at the top and bottom of the y-axis.

    Returns
    -------
    Figure
    """
    participants = [p for _, p, _ in looks]
    _, bounds, futility = planned_design(participants, information_size, alpha, beta, spending)
    fig = Figure(figsize=SIZE)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1, 0.12, 0.86, 0.78 if title else 0.84))
    x_end = max([information_size, *participants]) * 1.08
    wedge = False
    if bounds is not None:
        xs = [f * information_size for f in bounds.fractions]
        wedge = _draw_boundaries(ax, xs, bounds.upper, futility, x_end)
    _reference_lines(ax, information_size, x_end)
    _draw_z_curve(ax, looks)
    _axes_text(ax, x_end, favours)
    if title:
        fig.suptitle(title, fontproperties=font(FONT_SIZE + 2, bold=True))
    _legend(ax, wedge)
    return fig


def _reference_lines(ax, information_size: float, x_end: float) -> None:
    """The conventional ±1.96 lines, zero, and the RIS with its value."""
    for sign, role in ((1, "upper"), (-1, "lower")):
        ax.axhline(
            sign * CONVENTIONAL_Z,
            color=CONVENTIONAL,
            linestyle="--",
            linewidth=0.9,
            label=f"conventional-{role}",
        )
    ax.axhline(0.0, color=INK, linewidth=0.6, label="zero")
    ax.axvline(information_size, color=INK, linestyle=":", linewidth=0.9, label="ris")
    ax.text(
        information_size,
        Z_LIMIT * 0.97,
        f" RIS = {information_size:,.0f}",
        va="top",
        ha="left" if information_size < x_end * 0.8 else "right",
        fontproperties=font(FONT_SIZE),
        label="ris-text",
    )


def _axes_text(ax, x_end: float, favours: tuple[str, str] | None) -> None:
    """Limits, axis labels, tick fonts and the 'favours' texts."""
    ax.set_xlim(0, x_end)
    ax.set_ylim(-Z_LIMIT, Z_LIMIT)
    ax.set_xlabel("Cumulative number of participants", fontproperties=font(FONT_SIZE))
    ax.set_ylabel("Cumulative Z-score", fontproperties=font(FONT_SIZE))
    for tick in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        tick.set_fontproperties(font(FONT_SIZE - 1))
    if favours is not None:
        for text, y in zip(favours, (Z_LIMIT * 0.97, -Z_LIMIT * 0.97), strict=True):
            ax.text(
                0.01 * x_end,
                y,
                text,
                va="top" if y > 0 else "bottom",
                fontproperties=font(FONT_SIZE, bold=True),
                label="favours",
            )


def _draw_boundaries(ax, xs: list[float], upper: Sequence[float], futility, x_end: float) -> bool:
    """Monitoring boundaries and the futility wedge at the looks and the RIS; after the
    RIS every look is judged against the last boundary, drawn flat to the chart's end.
    Returns whether a futility wedge was drawn."""
    bx, bz = list(xs), [min(z, Z_LIMIT * 1.5) for z in upper]
    if x_end > bx[-1]:
        bx.append(x_end)
        bz.append(bz[-1])
    style = {"color": BOUNDARY, "linewidth": 1.4, "marker": "o", "markersize": 2.5}
    _mirrored(ax, bx, bz, "monitoring", markevery=list(range(len(xs))), **style)
    if futility is None:
        return False
    wedge = [(x, a) for x, a in zip(xs, futility, strict=True) if a > 0]
    if not wedge:
        return False
    wx, wz = [x for x, _ in wedge], [a for _, a in wedge]
    _mirrored(ax, wx, wz, "futility", color=FUTILITY, linewidth=1.0, linestyle="-.")
    ax.fill_between(wx, [-a for a in wz], wz, color=FUTILITY, alpha=0.08, label="futility-wedge")
    return True


def _mirrored(ax, xs: Sequence[float], zs: Sequence[float], role: str, **style) -> None:
    """A boundary and its mirror image below zero, labelled ``<role>-upper``/``-lower``."""
    for sign, side in ((1, "upper"), (-1, "lower")):
        ax.plot(xs, [sign * z for z in zs], label=f"{role}-{side}", **style)


def _draw_z_curve(ax, looks: Sequence[tuple[str, float, float]]) -> None:
    """The cumulative Z at each update, joined, each point labelled with its update."""
    xs = [p for _, p, _ in looks]
    zs = [max(-Z_LIMIT, min(Z_LIMIT, z)) for _, _, z in looks]
    ax.plot(
        xs,
        zs,
        color=Z_CURVE,
        linewidth=1.8,
        marker="s",
        markersize=4,
        label="z-curve",
        zorder=3,
    )
    for (label, x, _), z in zip(looks, zs, strict=True):
        ax.annotate(
            label,
            (x, z),
            xytext=(3, 5),
            textcoords="offset points",
            fontproperties=font(FONT_SIZE - 2),
            color=Z_CURVE,
            annotation_clip=True,
        )


def _legend(ax, with_futility: bool) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=Z_CURVE, linewidth=1.8, marker="s", markersize=4),
        Line2D([], [], color=BOUNDARY, linewidth=1.4),
        Line2D([], [], color=CONVENTIONAL, linestyle="--"),
    ]
    names = ["Cumulative Z-curve", "Monitoring boundaries", "Conventional boundaries (±1.96)"]
    if with_futility:
        handles.append(Line2D([], [], color=FUTILITY, linestyle="-."))
        names.append("Futility boundaries")
    ax.legend(handles, names, loc="lower right", prop=font(FONT_SIZE - 1), frameon=False)
