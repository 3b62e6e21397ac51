"""Datasets and R reference values for the statistics tests.

The shared datasets (bcg, egger2001, hine1989, normand1999) are read in place from
``../shared/reference``; ``tests/reference`` holds what ``make_reference.R`` wrote: the
datasets it adds (nielweise2007, the bcg covariates) and R's results as JSON.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from livingmeta.stats import BinaryData, ContinuousData
from tests.conftest import SHARED_DIR

LOCAL_DIR = Path(__file__).parent / "reference"
LOCAL_DATASETS = ("nielweise2007",)
REL_TOL = 1e-6  # closed-form results (issue 10)
ITERATIVE_REL_TOL = 1e-4  # results of R's optimisers (numerical Hessians)
ABS_TOL = 1e-12  # for reference values that are exactly 0

BINARY = ["events_treat", "total_treat", "events_ctrl", "total_ctrl"]
CONTINUOUS = ["mean_treat", "sd_treat", "n_treat", "mean_ctrl", "sd_ctrl", "n_ctrl"]


def reference(name: str) -> dict[str, Any]:
    """One JSON file written by make_reference.R."""
    return json.loads((LOCAL_DIR / f"{name}.json").read_text())


def dataset(name: str, subgroup: str | None = None) -> BinaryData | ContinuousData:
    """A reference dataset as study data (``subgroup``: a column of bcg_covariates.csv)."""
    folder = LOCAL_DIR if name in LOCAL_DATASETS else SHARED_DIR / "reference"
    frame = pd.read_csv(folder / f"{name}.csv")
    extra: dict[str, Any] = {}
    if subgroup is not None:
        covariates = covariates_frame()
        assert list(covariates["study"]) == list(frame["study"])
        extra["subgroup"] = tuple(covariates[subgroup])
    study = tuple(frame["study"])
    if "events_treat" in frame.columns:
        return BinaryData(study, *(frame[c] for c in BINARY), **extra)
    return ContinuousData(study, *(frame[c] for c in CONTINUOUS), **extra)


def covariates_frame() -> pd.DataFrame:
    """Year, absolute latitude and allocation of the bcg trials."""
    return pd.read_csv(LOCAL_DIR / "bcg_covariates.csv")


def close(actual: float | None, expected: float, rel_tol: float = REL_TOL) -> bool:
    """Relative closeness, with an absolute floor for exact zeros."""
    return actual is not None and math.isclose(actual, expected, rel_tol=rel_tol, abs_tol=ABS_TOL)
