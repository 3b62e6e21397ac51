"""Outcome declarations: what each end point is and how it is analysed.

Declared once per review in config (see ``config/README.md``); the extraction table refers
to outcomes by ``name``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from livingmeta.stats.options import (
    BINARY_MEASURES,
    CONTINUOUS_MEASURES,
    CONVENTIONS,
    GENERIC_MEASURES,
    MEASURES,
    check_choice,
    check_options,
)
from livingmeta.stats.result import POOL_OPTIONS

OUTCOME_TYPES = ("dichotomous", "continuous", "generic")
DIRECTIONS = ("higher_is_better", "higher_is_worse")
#: Study orders of the forest plot (as ``livingmeta.plots.forest.SORT_ORDERS``).
SORT_ORDERS = ("year", "label", "weight", "as_entered")

ARM_COLUMNS: dict[str, tuple[str, ...]] = {
    "dichotomous": ("events_treat", "total_treat", "events_ctrl", "total_ctrl"),
    "continuous": ("mean_treat", "sd_treat", "n_treat", "mean_ctrl", "sd_ctrl", "n_ctrl"),
    "generic": ("yi", "se"),
}
#: The measures each type of outcome data can be pooled with.
MEASURES_OF_TYPE: dict[str, tuple[str, ...]] = {
    "dichotomous": BINARY_MEASURES,
    "continuous": CONTINUOUS_MEASURES,
    "generic": GENERIC_MEASURES,
}


@dataclass(frozen=True)
class Outcome:
    """One declared outcome and its analysis options (RevMan's 'outcome' dialog)."""

    name: str
    label: str
    type: str = "dichotomous"
    measure: str = "OR"
    method: str = "MH"
    model: str = "random"
    tau2_method: str = "DL"
    hksj: bool = False
    mh_exact: bool = False
    convention: str = "metafor"
    direction: str = "higher_is_worse"
    label_treat: str = "Treatment"
    label_ctrl: str = "Control"
    sort: str = "year"
    axis_limits: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        check_choice("type", self.type, OUTCOME_TYPES)
        check_choice("sort", self.sort, SORT_ORDERS)
        if self.axis_limits is not None:
            low, high = self.axis_limits
            if not low < high or (self.measure in ("OR", "RR") and low <= 0):
                raise ValueError(
                    f"outcome {self.name}: axis_limits must be [low, high] with low < high"
                    + (" and low > 0 for a ratio" if self.measure in ("OR", "RR") else "")
                )
        check_choice("direction", self.direction, DIRECTIONS)
        check_choice("measure", self.measure, MEASURES)
        check_choice("convention", self.convention, CONVENTIONS)
        if self.type == "dichotomous" and self.measure not in BINARY_MEASURES:
            raise ValueError(f"outcome {self.name}: a dichotomous outcome needs OR, RR or RD")
        if self.type == "continuous" and self.measure not in CONTINUOUS_MEASURES:
            raise ValueError(f"outcome {self.name}: a continuous outcome needs MD or SMD")
        check_options(self.measure, self.method, self.model, self.tau2_method)
        if self.hksj and self.model != "random":
            raise ValueError(f"outcome {self.name}: hksj needs model random")

    @property
    def arm_columns(self) -> tuple[str, ...]:
        """Extraction columns this outcome's rows must fill."""
        return ARM_COLUMNS[self.type]

    def favours(self) -> tuple[str, str]:
        """Axis labels (left, right) in RevMan's 'Favours [...]' form.

        For a harmful outcome (``higher_is_worse``: death, bleeding) an effect below the
        null favours the treatment; for a good outcome (recovery) the other way round.
        """
        treat, ctrl = f"Favours {self.label_treat}", f"Favours {self.label_ctrl}"
        return (treat, ctrl) if self.direction == "higher_is_worse" else (ctrl, treat)

    def pool_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`livingmeta.stats.pool`."""
        options = {name: getattr(self, name) for name in POOL_OPTIONS}
        return {**options, "convention": self.convention}

    @classmethod
    def from_config(cls, spec: dict[str, Any]) -> Outcome:
        """Build from one entry of a review's ``outcomes`` list in config."""
        known = {f.name for f in fields(cls)}
        groups = spec.get("groups", {})
        values = {k: v for k, v in spec.items() if k in known}
        if "treat" in groups:
            values["label_treat"] = groups["treat"]
        if "ctrl" in groups:
            values["label_ctrl"] = groups["ctrl"]
        values.setdefault("label", spec["name"])
        if values.get("axis_limits") is not None:
            values["axis_limits"] = tuple(float(v) for v in values["axis_limits"])
        return cls(**values)
