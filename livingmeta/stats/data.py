"""Typed containers for one outcome's study-level data.

Arrays rather than DataFrames keep the engine pure and fast; ``from_frame`` builds them
from the extraction table's columns (see the data contract in the README).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def _floats(values: Sequence[float] | FloatArray) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


@dataclass(frozen=True)
class _StudyData:
    study: tuple[str, ...]
    year: tuple[int | None, ...] = field(default=(), kw_only=True)
    subgroup: tuple[str | None, ...] = field(default=(), kw_only=True)

    ARRAYS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "study", tuple(str(s) for s in self.study))
        k = len(self.study)
        for name in self.ARRAYS:
            arr = _floats(getattr(self, name))
            if arr.shape != (k,):
                raise ValueError(f"{name} has {arr.size} values for {k} studies")
            object.__setattr__(self, name, arr)
        for name in ("year", "subgroup"):
            values = tuple(getattr(self, name)) or (None,) * k
            if len(values) != k:
                raise ValueError(f"{name} has {len(values)} values for {k} studies")
            object.__setattr__(self, name, values)

    @property
    def k(self) -> int:
        """Number of studies (estimable or not)."""
        return len(self.study)

    def take(self, index: Sequence[int] | npt.NDArray[np.intp]) -> _StudyData:
        """The same data restricted to (and ordered by) ``index``."""
        idx = np.asarray(index, dtype=np.intp)
        changes: dict[str, Any] = {name: getattr(self, name)[idx] for name in self.ARRAYS}
        changes["study"] = tuple(self.study[i] for i in idx)
        changes["year"] = tuple(self.year[i] for i in idx)
        changes["subgroup"] = tuple(self.subgroup[i] for i in idx)
        return replace(self, **changes)

    def arm_columns(self) -> dict[str, FloatArray]:
        """The per-arm data columns, for display (forest plots, tables)."""
        return {name: getattr(self, name) for name in self.ARRAYS}


@dataclass(frozen=True)
class BinaryData(_StudyData):
    """Dichotomous outcome: events and totals per arm (treatment vs control)."""

    events_treat: FloatArray
    total_treat: FloatArray
    events_ctrl: FloatArray
    total_ctrl: FloatArray

    ARRAYS = ("events_treat", "total_treat", "events_ctrl", "total_ctrl")

    def swap_arms(self) -> BinaryData:
        """Treatment and control exchanged (a ratio's estimate inverts)."""
        return replace(
            self,
            events_treat=self.events_ctrl,
            total_treat=self.total_ctrl,
            events_ctrl=self.events_treat,
            total_ctrl=self.total_treat,
        )


@dataclass(frozen=True)
class ContinuousData(_StudyData):
    """Continuous outcome: mean, SD and N per arm."""

    mean_treat: FloatArray
    sd_treat: FloatArray
    n_treat: FloatArray
    mean_ctrl: FloatArray
    sd_ctrl: FloatArray
    n_ctrl: FloatArray

    ARRAYS = ("mean_treat", "sd_treat", "n_treat", "mean_ctrl", "sd_ctrl", "n_ctrl")


@dataclass(frozen=True)
class GenericData(_StudyData):
    """Generic inverse variance: an effect ``yi`` and its standard error per study."""

    yi: FloatArray
    se: FloatArray

    ARRAYS = ("yi", "se")


StudyData = BinaryData | ContinuousData | GenericData

DATA_TYPES: dict[str, type[_StudyData]] = {
    "dichotomous": BinaryData,
    "continuous": ContinuousData,
    "generic": GenericData,
}
