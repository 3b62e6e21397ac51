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
#: The ``reason`` of a study in ``left_out`` that did not report the outcome.
NOT_REPORTED = "not reported"
#: The ``status`` of an outcome without approved data to pool (k = 0).
NO_APPROVED_DATA = "no approved data yet"
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def main_result(pooled: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The display result inside a whole ``pooled.json`` (its ``result``), or the object
    itself when it already is one (``livingmeta pool --json`` output, a history row)."""
    if pooled is None:
        return None
    inner = pooled.get("result")
    return inner if isinstance(inner, Mapping) else pooled


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
    risk_of_bias
        The main analysis restricted by risk of bias
        (:class:`~livingmeta.risk_of_bias.sensitivity.RestrictedAnalysis`), when the
        review declares risk-of-bias tools; written as ``risk_of_bias`` only then.
    left_out
        Studies with an approved row that are not pooled (``{"study", "reason"}``):
        ``not reported`` (the study did not report the outcome) or why it was removed
        (``retracted, decision recorded on ...``). Written only when there are some.
    notes
        Other caveats shown under the forest plot (a control group counted twice).
    beyond_pooling
        The analyses beyond pooling (:class:`~livingmeta.beyond_pooling.BeyondPooling`:
        two views, small-study effects, zero-event panel, meta-regression, subgroups with
        a common tau2), written as top-level sections when present.
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
    risk_of_bias: Any = None
    beyond_pooling: Any = None
    left_out: tuple[dict[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    def footnotes(self) -> list[str]:
        """What the forest plot says under the table about studies not in it: who did not
        report the outcome, who was removed and why, and double-counted control groups."""
        return left_out_lines(self.left_out) + list(self.notes)

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
        out = self._main_json()
        if self.left_out:
            out["left_out"] = [dict(s) for s in self.left_out]
        if self.notes:
            out["notes"] = list(self.notes)
        if self.risk_of_bias is not None:
            out["risk_of_bias"] = self.risk_of_bias.to_json()
        if self.beyond_pooling is not None:
            out.update(self.beyond_pooling.to_json())
        return out

    def _main_json(self) -> dict[str, Any]:
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
            risk_of_bias=_restricted(obj.get("risk_of_bias")),
            beyond_pooling=_beyond_pooling(obj),
            left_out=tuple(dict(s) for s in obj.get("left_out", [])),
            notes=tuple(obj.get("notes", [])),
        )

    @classmethod
    def read(cls, path: str | Path) -> OutcomeAnalysis:
        """Read a ``pooled.json``."""
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    def write(self, path: str | Path) -> None:
        """Write ``pooled.json`` atomically."""
        write_json(path, self.to_json())


@dataclass(frozen=True)
class NoApprovedData:
    """An outcome declared in config with no approved data to pool yet (k = 0).

    A first-class state, not an error: a new review declares its outcomes before anyone
    extracts. Its ``pooled.json`` has ``result: null`` and ``status`` saying so; every
    reader shows "no approved data yet" (the figures are placeholders that say so).

    Attributes
    ----------
    review, outcome
        As in :class:`OutcomeAnalysis`.
    left_out
        Approved rows of studies that did not report the outcome or were removed.
    """

    review: str
    outcome: dict[str, Any]
    left_out: tuple[dict[str, str], ...] = ()

    def footnotes(self) -> list[str]:
        """Studies not reporting the outcome, and removed studies (as the forest plot's)."""
        return left_out_lines(self.left_out)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``pooled.json``: no result, and the ``status`` of the outcome."""
        out: dict[str, Any] = {
            "review": self.review,
            "outcome": dict(self.outcome),
            "status": NO_APPROVED_DATA,
            "result": None,
        }
        if self.left_out:
            out["left_out"] = [dict(s) for s in self.left_out]
        return out

    def write(self, path: str | Path) -> None:
        """Write ``pooled.json`` atomically."""
        write_json(path, self.to_json())


def read_analysis(path: str | Path) -> OutcomeAnalysis | NoApprovedData:
    """Read a ``pooled.json``: the outcome's analysis, or :class:`NoApprovedData`."""
    obj = json.loads(Path(path).read_text(encoding="utf-8"))
    if obj.get("result") is None:
        left_out = tuple(dict(s) for s in obj.get("left_out") or ())
        return NoApprovedData(obj["review"], dict(obj["outcome"]), left_out)
    return OutcomeAnalysis.from_json(obj)


def left_out_lines(left_out: Sequence[Mapping[str, str]]) -> list[str]:
    """Footnote lines for studies not in an analysis: who did not report the outcome,
    who was removed and why."""
    lines = []
    absent = [s["study"] for s in left_out if s["reason"] == NOT_REPORTED]
    if absent:
        lines.append(f"Not reported by: {', '.join(absent)}.")
    lines += [
        f"Removed: {s['study']}, {s['reason']}." for s in left_out if s["reason"] != NOT_REPORTED
    ]
    return lines


def _restricted(obj: Mapping[str, Any] | None) -> Any:
    """The restricted analysis back from its JSON (None when there is none)."""
    if obj is None:
        return None
    from livingmeta.risk_of_bias.sensitivity import RestrictedAnalysis

    return RestrictedAnalysis.from_json(obj)


def _beyond_pooling(obj: Mapping[str, Any]) -> Any:
    """The analyses beyond pooling back from the JSON (None when it has none)."""
    from livingmeta.beyond_pooling import BeyondPooling

    return BeyondPooling.from_json(obj)


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
