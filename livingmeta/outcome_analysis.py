"""One outcome's analysis as one typed object: what ``pooled.json`` holds and every reader
(plots, summary, history, run report, site) takes.

The JSON has two layers. The display layer (``result``, ``fixed_vs_random``,
``leave_one_out``, ``cumulative``, ``subgroups``) is on the display scale (ratios for OR
and RR, I² in percent), for people and other programs; ``result`` is the object of
``livingmeta pool --json`` except that ``statistic`` holds the test statistic's value and
``test`` its kind (``z``, or ``t`` with HKSJ), with ``z`` kept as an alias of
``statistic``. The ``exact`` layer holds the same results losslessly on the analysis
scale, so figures are drawn from the file, bit for bit as from the pooling itself,
without pooling again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from livingmeta.files import write_json
from livingmeta.stats.result import PooledResult, StudyResult, SubgroupResult

Steps = list[tuple[str, PooledResult | None]]

BRIEF_KEYS = ("k", "estimate", "ci_low", "ci_high", "p", "i2", "tau2")
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def result_json(result: PooledResult) -> dict[str, Any]:
    """The display-scale JSON of a pooled result, with ``statistic`` (value), ``test``
    (``z`` or ``t``) and the documented alias ``z`` (the same value)."""
    out = result.to_dict()
    out["test"] = result.statistic_name
    out["statistic"] = out["z"]
    return out


@dataclass(frozen=True)
class OutcomeAnalysis:
    """Everything the review reports for one outcome.

    Attributes
    ----------
    review, outcome
        The review id and the outcome (``name``, ``label`` and its pooling options).
    result
        The main analysis with the outcome's options.
    participants
        Arm totals of the pooled studies (None for generic-inverse-variance data).
    fixed_vs_random
        The same data pooled with a fixed and a random-effects model (only ``fixed`` for
        Peto): the sensitivity analysis of the model choice.
    leave_one_out, cumulative
        (study omitted / added, result or None when nothing was estimable).
    subgroups
        The subgroup analysis, when at least two subgroups could be pooled.
    provenance
        Input checksum and software versions.
    """

    review: str
    outcome: dict[str, Any]
    result: PooledResult
    participants: int | None
    fixed_vs_random: dict[str, PooledResult]
    leave_one_out: Steps
    cumulative: Steps
    subgroups: SubgroupResult | None
    provenance: dict[str, Any]

    @property
    def sensitivity(self) -> PooledResult | None:
        """The other model of :attr:`fixed_vs_random` (None when there is none)."""
        other = "fixed" if self.result.model == "random" else "random"
        return self.fixed_vs_random.get(other)

    def display(self) -> dict[str, Any]:
        """The main result on the display scale (the ``result`` key of the JSON)."""
        return result_json(self.result)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``pooled.json`` (see the module docstring)."""
        sub = self.subgroups
        return {
            "review": self.review,
            "outcome": self.outcome,
            "result": self.display(),
            "participants": self.participants,
            "fixed_vs_random": {m: result_json(r) for m, r in self.fixed_vs_random.items()},
            "leave_one_out": _brief_steps(self.leave_one_out),
            "cumulative": _brief_steps(self.cumulative),
            "subgroups": None
            if sub is None
            else {
                "groups": {name: result_json(r) for name, r in sub.subgroups.items()},
                "q_between": _finite(sub.q_between),
                "df_between": sub.df_between,
                "p_between": _finite(sub.p_between),
                "i2_between": _finite(sub.i2_between),
            },
            "provenance": self.provenance,
            "exact": {
                "result": encode_result(self.result),
                "fixed_vs_random": {m: encode_result(r) for m, r in self.fixed_vs_random.items()},
                "leave_one_out": _encode_steps(self.leave_one_out),
                "cumulative": _encode_steps(self.cumulative),
                "subgroups": None if sub is None else _encode_subgroups(sub),
            },
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> OutcomeAnalysis:
        """The analysis back from :meth:`to_json` (exactly: floats round-trip)."""
        exact = obj["exact"]
        return cls(
            review=obj["review"],
            outcome=dict(obj["outcome"]),
            result=decode_result(exact["result"]),
            participants=obj["participants"],
            fixed_vs_random={m: decode_result(r) for m, r in exact["fixed_vs_random"].items()},
            leave_one_out=_decode_steps(exact["leave_one_out"]),
            cumulative=_decode_steps(exact["cumulative"]),
            subgroups=None if exact["subgroups"] is None else _decode_subgroups(exact["subgroups"]),
            provenance=dict(obj["provenance"]),
        )

    @classmethod
    def read(cls, path: str | Path) -> OutcomeAnalysis:
        """Read a ``pooled.json``."""
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    def write(self, path: str | Path) -> None:
        """Write ``pooled.json`` atomically."""
        write_json(path, self.to_json())


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _brief_steps(steps: Sequence[tuple[str, PooledResult | None]]) -> list[dict[str, Any]]:
    """Each step's headline numbers (display scale)."""
    out = []
    for name, result in steps:
        full = None if result is None else result.to_dict()
        brief = None if full is None else {key: full[key] for key in BRIEF_KEYS}
        out.append({"study": name, "result": brief})
    return out


def _number(value: float) -> float | str:
    """A float JSON can hold: non-finite values as their names."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _float(value: float | str) -> float:
    return _NON_FINITE[value] if isinstance(value, str) else float(value)


def encode_result(result: PooledResult) -> dict[str, Any]:
    """A pooled result, lossless, on the analysis scale."""
    out: dict[str, Any] = {}
    for f in fields(PooledResult):
        value = getattr(result, f.name)
        if f.name == "studies":
            value = [_encode_study(s) for s in value]
        elif isinstance(value, float):
            value = _number(value)
        out[f.name] = value
    return out


def _encode_study(study: StudyResult) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(StudyResult):
        value = getattr(study, f.name)
        if f.name == "data":
            value = {key: _number(float(v)) for key, v in value.items()}
        elif isinstance(value, float):
            value = _number(value)
        out[f.name] = value
    return out


_RESULT_FLOATS = {
    f.name for f in fields(PooledResult) if "float" in str(f.type) and f.name != "studies"
}
_STUDY_FLOATS = {"yi", "vi", "ci_low", "ci_high", "weight"}


def decode_result(obj: Mapping[str, Any]) -> PooledResult:
    """The inverse of :func:`encode_result`."""
    values = dict(obj)
    for name in _RESULT_FLOATS:
        if values.get(name) is not None:
            values[name] = _float(values[name])
    values["studies"] = tuple(_decode_study(s) for s in obj["studies"])
    return PooledResult(**values)


def _decode_study(obj: Mapping[str, Any]) -> StudyResult:
    values = dict(obj)
    for name in _STUDY_FLOATS:
        values[name] = _float(values[name])
    values["data"] = {key: _float(v) for key, v in obj["data"].items()}
    return StudyResult(**values)


def _encode_steps(steps: Sequence[tuple[str, PooledResult | None]]) -> list[list[Any]]:
    return [[name, None if r is None else encode_result(r)] for name, r in steps]


def _decode_steps(steps: Sequence[Sequence[Any]]) -> Steps:
    return [(name, None if r is None else decode_result(r)) for name, r in steps]


def _encode_subgroups(sub: SubgroupResult) -> dict[str, Any]:
    return {
        "subgroups": {name: encode_result(r) for name, r in sub.subgroups.items()},
        "overall": encode_result(sub.overall),
        "q_between": _number(sub.q_between),
        "df_between": sub.df_between,
        "p_between": _number(sub.p_between),
        "i2_between": _number(sub.i2_between),
    }


def _decode_subgroups(obj: Mapping[str, Any]) -> SubgroupResult:
    return SubgroupResult(
        subgroups={name: decode_result(r) for name, r in obj["subgroups"].items()},
        overall=decode_result(obj["overall"]),
        q_between=_float(obj["q_between"]),
        df_between=obj["df_between"],
        p_between=_float(obj["p_between"]),
        i2_between=_float(obj["i2_between"]),
    )


__all__ = ["OutcomeAnalysis", "decode_result", "encode_result", "result_json"]
