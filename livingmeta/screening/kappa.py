"""Inter-rater agreement of screening decisions: Cohen's kappa.

Why report it: PRISMA and the Cochrane Handbook ask for the agreement between screeners;
a low kappa early in a review says the eligibility criteria need discussing before
hundreds of records are screened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

#: The categories compared (``maybe`` is mapped before: see ``status.effective``).
CATEGORIES = ("include", "exclude")


@dataclass(frozen=True)
class Kappa:
    """Cohen's kappa of the two independent reviewers who decided most records in common.

    ``kappa`` is ``None`` when fewer than 2 shared decisions exist or it is undefined (both
    reviewers used one category only); ``n`` is the number of records it is based on.
    """

    kappa: float | None
    n: int
    reviewers: tuple[str, ...] = ()


def pair_kappa(by_reviewer: Mapping[str, Mapping[str, str]]) -> Kappa:
    """Kappa of the pair of reviewers with the most records decided in common.

    Parameters
    ----------
    by_reviewer
        ``{reviewer: {record_id: "include" | "exclude"}}``.

    Notes
    -----
    Kappa is defined for two raters; with three or more the pair sharing most records is
    used (ties: first pair in name order), and its number of records is reported with it.
    """
    best: tuple[int, tuple[str, ...]] = (0, ())
    for a, b in combinations(sorted(by_reviewer), 2):
        shared = len(by_reviewer[a].keys() & by_reviewer[b].keys())
        if shared > best[0]:
            best = (shared, (a, b))
    n, pair = best
    if n < 2:
        return Kappa(None, n, pair)
    a, b = (by_reviewer[name] for name in pair)
    index = {category: i for i, category in enumerate(CATEGORIES)}
    table = [[0] * len(CATEGORIES) for _ in CATEGORIES]
    for record_id in a.keys() & b.keys():
        table[index[a[record_id]]][index[b[record_id]]] += 1
    return Kappa(cohens_kappa(table), n, pair)


def cohens_kappa(table: Sequence[Sequence[int]]) -> float | None:
    """Cohen's kappa of a square confusion table (rows: rater A, columns: rater B).

    Returns
    -------
    float or None
        ``(p_o - p_e) / (1 - p_e)``, as ``statsmodels.stats.inter_rater.cohens_kappa``;
        ``None`` for an empty table or when ``p_e == 1`` (both raters used one and the
        same category), where statsmodels returns NaN with a RuntimeWarning.

    Examples
    --------
    >>> round(cohens_kappa([[20, 5], [10, 15]]), 12)  # p_o = 0.7, p_e = 0.5
    0.4
    """
    k = len(table)
    n = sum(sum(row) for row in table)
    if n == 0:
        return None
    p_o = sum(table[i][i] for i in range(k)) / n
    rows = [sum(table[i]) / n for i in range(k)]
    cols = [sum(table[i][j] for i in range(k)) / n for j in range(k)]
    p_e = sum(r * c for r, c in zip(rows, cols, strict=True))
    if p_e >= 1.0:
        return None
    return (p_o - p_e) / (1.0 - p_e)
