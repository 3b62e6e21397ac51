"""Small-study effects of one outcome, with the Cochrane rule enforced: below ten studies
the tests are not run and the result says "not assessed (k < 10)" (Cochrane Handbook
13.3.5.4: with fewer studies the tests are too weak to tell chance from asymmetry). The
threshold can be lowered (for teaching); the result then says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from livingmeta.stats import bias
from livingmeta.stats.bias import BiasTest
from livingmeta.stats.data import BinaryData, StudyData
from livingmeta.stats.effects import escalc
from livingmeta.stats.options import (
    BIAS_TESTS,
    COCHRANE_MIN_K,
    CONVENTIONS,
    MODELS,
    RATIO_MEASURES,
    TAU2_METHODS,
    check_choice,
)
from livingmeta.stats.trim_and_fill import TrimFill, trimfill


@dataclass(frozen=True)
class SmallStudyEffects:
    """Tests for funnel plot asymmetry and trim-and-fill, or why they were not run."""

    measure: str
    k: int
    min_k: int
    tests: dict[str, BiasTest] = field(default_factory=dict)
    trimfill: TrimFill | None = None
    not_run: dict[str, str] = field(default_factory=dict)  # test -> reason

    @property
    def assessed(self) -> bool:
        """False below the study threshold."""
        return self.k >= self.min_k

    @property
    def note(self) -> str | None:
        """ "not assessed (k < 10)", or that the threshold was lowered."""
        if not self.assessed:
            return f"not assessed (k < {self.min_k})"
        if self.min_k < COCHRANE_MIN_K:
            return (
                f"threshold lowered to {self.min_k} studies "
                f"(Cochrane Handbook: at least {COCHRANE_MIN_K})"
            )
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``livingmeta bias --json`` (trim-and-fill ratios on the ratio scale)."""
        return {
            "measure": self.measure,
            "k": self.k,
            "min_k": self.min_k,
            "assessed": self.assessed,
            "note": self.note,
            "tests": {name.replace("-", "_"): t.to_dict() for name, t in self.tests.items()},
            "not_run": {name.replace("-", "_"): why for name, why in self.not_run.items()},
            "trimfill": None
            if self.trimfill is None
            else self.trimfill.to_dict(self.measure in RATIO_MEASURES),
        }


def small_study_effects(
    data: StudyData,
    measure: str,
    model: str = "random",
    tau2_method: str = "REML",
    tests: Sequence[str] = BIAS_TESTS,
    with_trimfill: bool = False,
    min_k: int = COCHRANE_MIN_K,
    *,
    convention: str = "metafor",
) -> SmallStudyEffects:
    """Run the requested tests (and trim-and-fill) on one outcome's study effects.

    The study effects are the ones the outcome pools: zero cells as in pooling (0.5
    added to the cells of zero-cell studies, double-zero studies left out for OR and RR)
    and the review's ``convention`` (``revman5``: the observed zero-cell RD and RevMan's
    Hedges' g, as RevMan's funnel plot; OR and RR are the same in both). Harbord's test
    uses the 2x2 counts and no convention. ``model="fixed"`` fits metafor's
    ``method = "EE"`` for the mixed-effects Egger test and trim-and-fill; otherwise
    ``tau2_method``.

    Examples
    --------
    >>> from livingmeta.stats import BinaryData
    >>> data = BinaryData(("A", "B", "C"), [4, 6, 3], [123, 306, 231], [11, 29, 11],
    ...                   [139, 303, 220])
    >>> small_study_effects(data, "OR").note
    'not assessed (k < 10)'
    """
    check_choice("model", model, MODELS)
    check_choice("tau2_method", tau2_method, TAU2_METHODS)
    check_choice("convention", convention, CONVENTIONS)
    for name in tests:
        check_choice("test", name, BIAS_TESTS)
    if min_k < 3:
        raise ValueError(f"min_k must be at least 3 (a regression needs 3 studies); got {min_k}")
    es = escalc(measure, data, convention=convention)
    ok = es.estimable
    yi, vi = es.yi[ok], es.vi[ok]
    k = int(ok.sum())
    if k < min_k:
        return SmallStudyEffects(measure, k, min_k)
    fit = "EE" if model == "fixed" else tau2_method
    results: dict[str, BiasTest] = {}
    not_run: dict[str, str] = {}
    for name in tests:
        reason = _not_applicable(name, data, measure)
        if reason:
            not_run[name] = reason
        else:
            results[name] = _run(name, data, yi, vi, ok, fit)
    filled = trimfill(yi, vi, fit) if with_trimfill else None
    return SmallStudyEffects(measure, k, min_k, results, filled, not_run)


def _not_applicable(name: str, data: StudyData, measure: str) -> str | None:
    if name == "harbord" and not (isinstance(data, BinaryData) and measure == "OR"):
        return "Harbord's test is for odds ratios from 2x2 counts"
    if name == "peters" and not isinstance(data, BinaryData):
        return "Peters' test is for binary outcomes"
    return None


def _run(
    name: str, data: StudyData, yi: np.ndarray, vi: np.ndarray, ok: np.ndarray, fit: str
) -> BiasTest:
    if name == "egger":
        return bias.egger_test(yi, vi)
    if name == "egger-rma":
        return bias.egger_rma_test(yi, vi, fit)
    if name == "begg":
        return bias.begg_test(yi, vi)
    assert isinstance(data, BinaryData)  # _not_applicable keeps the others out
    if name == "peters":
        return bias.peters_test(yi, vi, (data.total_treat + data.total_ctrl)[ok])
    return bias.harbord_test(data.events_treat, data.total_treat, data.events_ctrl, data.total_ctrl)
