"""An outcome's settings for the analyses beyond pooling (the ``analyses`` key of a review
and of its outcomes in config): the modern view, small-study effects, meta-regression
covariates and the subgroup tau2.

The schema fills no defaults for these keys, so an outcome's value overrides its review's
key by key; the defaults live here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livingmeta.stats.options import BIAS_TESTS as ALL_BIAS_TESTS
from livingmeta.stats.options import COCHRANE_MIN_K, check_choice

SUBGROUP_TAU2 = ("separate", "common")


@dataclass(frozen=True)
class AnalysisSettings:
    """What the workflow runs beyond the configured pooled analysis of one outcome."""

    modern_view: bool = True
    prediction_interval: str = "t-k1"
    hksj_adhoc: bool = True
    min_k: int = COCHRANE_MIN_K
    bias_tests: tuple[str, ...] = ALL_BIAS_TESTS
    trimfill: bool = True
    contours: bool = False
    covariates: tuple[str, ...] = ()
    regression_test: str = "z"
    subgroup_tau2: str = "separate"

    def __post_init__(self) -> None:
        check_choice("prediction_interval", self.prediction_interval, ("t-k1", "t-k2"))
        check_choice("regression_test", self.regression_test, ("z", "knha"))
        check_choice("subgroup_tau2", self.subgroup_tau2, SUBGROUP_TAU2)
        for name in self.bias_tests:
            check_choice("test", name, ALL_BIAS_TESTS)
        if self.min_k < 3:
            raise ValueError(f"min_k must be at least 3; got {self.min_k}")

    @property
    def threshold_lowered(self) -> bool:
        """True when the small-study threshold is below Cochrane's ten studies."""
        return self.min_k < COCHRANE_MIN_K

    @classmethod
    def from_config(cls, merged: Mapping[str, Any]) -> AnalysisSettings:
        """From the merged ``analyses`` mapping of :func:`merged_analyses`."""
        small = merged.get("small_study_effects") or {}
        return cls(
            modern_view=bool(merged.get("modern_view", True)),
            prediction_interval=merged.get("prediction_interval", "t-k1"),
            hksj_adhoc=bool(merged.get("hksj_adhoc", True)),
            min_k=int(small.get("min_k", COCHRANE_MIN_K)),
            bias_tests=tuple(small.get("tests", ALL_BIAS_TESTS)),
            trimfill=bool(small.get("trimfill", True)),
            contours=bool(small.get("contours", False)),
            covariates=tuple(merged.get("covariates", ())),
            regression_test=merged.get("regression_test", "z"),
            subgroup_tau2=merged.get("subgroup_tau2", "separate"),
        )

    def to_json(self) -> dict[str, Any]:
        """The settings as recorded in ``pooled.json``."""
        return {
            "modern_view": self.modern_view,
            "prediction_interval": self.prediction_interval,
            "hksj_adhoc": self.hksj_adhoc,
            "min_k": self.min_k,
            "bias_tests": list(self.bias_tests),
            "trimfill": self.trimfill,
            "contours": self.contours,
            "covariates": list(self.covariates),
            "regression_test": self.regression_test,
            "subgroup_tau2": self.subgroup_tau2,
        }


def merged_analyses(review_spec: Mapping[str, Any], outcome_name: str) -> dict[str, Any]:
    """The review's ``analyses`` with the outcome's own keys on top (``small_study_effects``
    merged key by key too): the Snakemake param of the rules that use them."""
    merged = dict(review_spec.get("analyses") or {})
    spec = next((o for o in review_spec["outcomes"] if o["name"] == outcome_name), {})
    own = spec.get("analyses") or {}
    small = {**(merged.get("small_study_effects") or {}), **(own.get("small_study_effects") or {})}
    merged.update(own)
    if small:
        merged["small_study_effects"] = small
    return merged


def outcome_settings(review_spec: Mapping[str, Any], outcome_name: str) -> AnalysisSettings:
    """The settings of one outcome of a review (its config entry over the review's)."""
    return AnalysisSettings.from_config(merged_analyses(review_spec, outcome_name))
