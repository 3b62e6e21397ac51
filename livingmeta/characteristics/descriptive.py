"""Descriptive outcomes: extracted, not pooled, reported as values and their range.

An outcome declared ``type: descriptive`` (single-arm results such as reperfusion after
stenting, or delays without a comparison) is extracted into ``characteristics.csv`` like a
per-arm characteristic whose field is the outcome's name. It is shown per study and as
the range across studies, as papers write it: "ranged from 64.6% to 91.7%".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from livingmeta.characteristics import NOT_REPORTED
from livingmeta.characteristics.fields import Field
from livingmeta.characteristics.values import Value, format_value, percent_text


@dataclass(frozen=True)
class DescriptiveSummary:
    """Per-study values of one outcome (and arm) and the range across the studies.

    ``per_study`` pairs each study label with its printed value (``NR`` when not reported);
    ``low`` and ``high`` are the printed extremes (None with fewer than two numbers).
    """

    name: str
    label: str
    arm: str
    per_study: tuple[tuple[str, str], ...]
    low: str | None
    high: str | None

    @property
    def range_text(self) -> str | None:
        """``64.6% to 91.7%``, or None when there is no range."""
        return f"{self.low} to {self.high}" if self.low is not None else None

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "label": self.label,
            "arm": self.arm,
            "per_study": [{"study": s, "value": v} for s, v in self.per_study],
            "range": self.range_text,
        }


def describe(
    field: Field,
    values: Iterable[Value],
    studies: Sequence[tuple[str, str]],
    arm: str = "",
) -> DescriptiveSummary:
    """Summarise the approved values of one descriptive outcome.

    Parameters
    ----------
    field
        The outcome as a field (``name``, ``label``, ``kind``).
    values
        Validated rows of ``characteristics.csv``; only approved rows of this field count.
    studies
        (study id, label) of the included studies, in print order.
    arm
        The arm described (empty: study-level values).
    """
    mine = {v.study_id: v for v in values if v.approved and v.field == field.name and v.arm == arm}
    per_study, numbers = [], []
    for study_id, label in studies:
        value = mine.get(study_id)
        if value is None:
            continue
        if not value.reported:
            per_study.append((label, NOT_REPORTED))
            continue
        per_study.append((label, format_value(value)))
        key = _sort_key(value)
        if key is not None:
            numbers.append((key, _short(value)))
    low = high = None
    if len(numbers) >= 2:
        low, high = min(numbers)[1], max(numbers)[1]
    return DescriptiveSummary(field.name, field.label, arm, tuple(per_study), low, high)


def _sort_key(value: Value) -> float | None:
    if value.kind == "n_of_N":
        return value.proportion()
    return value.number()


def _short(value: Value) -> str:
    """What a range quotes: the percentage of a proportion, the central value otherwise."""
    return percent_text(value) if value.kind == "n_of_N" else format_value(value)
