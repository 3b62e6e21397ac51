"""Independent sweep of ``pool`` against R metafor 3.8-1 on 26 metadat datasets (and subsets)
that no other reference file uses (``tests/reference/metadat_sweep/``, written by
``tests/reference/make_metadat_sweep.R``; conventions in that script's header).

One test per dataset x measure x method: estimate, SE, CI, z/t, P, Q, its df and P, tau2,
both I2s, the prediction interval (metafor's ``predict()``, and t on k - 1 and k - 2 df),
the study weights and, for random-effects fits, the Q-profile interval of tau2, I2 and H2
(``confint``); and the batch path (``pool_batch_binary``) on all binary datasets at once,
padded to one array. Tolerances as the project's: 1e-6 relative for closed-form results,
1e-4 for iterative estimators (REML, PM) and for the Q-profile roots.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from livingmeta.stats import BinaryData, ContinuousData, GenericData, NotEstimableError, pool
from livingmeta.stats.batch import pool_batch_binary
from livingmeta.stats.tau2_ci import tau2_confint
from tests.stats_reference import ABS_TOL, ITERATIVE_REL_TOL, REL_TOL

REFERENCE_DIR = Path(__file__).parent / "reference" / "metadat_sweep"
SWEEP = json.loads((REFERENCE_DIR / "metadat_sweep.json").read_text())["datasets"]

BINARY = ["events_treat", "total_treat", "events_ctrl", "total_ctrl"]
CONTINUOUS = ["mean_treat", "sd_treat", "n_treat", "mean_ctrl", "sd_ctrl", "n_ctrl"]
SCALAR_FIELDS = (
    "k",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "statistic",
    "p",
    "q",
    "df",
    "p_q",
    "tau2",
    "i2",
    "i2_tau2",
    "pi_low",
    "pi_high",
)
CI_FIELDS = ("tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high", "h2_ci_low", "h2_ci_high")

# Genuine discrepancies with metafor, kept visible as strict xfails: (dataset, measure, key)
# -> reason. None found with metafor 3.8-1 (every difference was a documented convention,
# aligned in make_metadat_sweep.R).
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


def pool_options(key: str) -> dict[str, Any]:
    """The ``pool()`` options of a reference key (see make_metadat_sweep.R)."""
    options: dict[str, Any] = {}
    base = key
    if base.endswith("_level90"):
        options["level"] = 0.90
        base = base.removesuffix("_level90")
    if base.endswith("_revman5"):
        options["convention"] = "revman5"
        base = base.removesuffix("_revman5")
    if base.endswith("_knha"):
        options["hksj"] = True
        base = base.removesuffix("_knha")
    elif base.endswith("_adhoc"):
        options["hksj_adhoc"] = True
        base = base.removesuffix("_adhoc")
    if base in ("MH_fixed", "MH_fixed_revman", "MH_random_revman", "MH_random"):
        options.update(method="MH", model="random" if "random" in base else "fixed")
        options["mh_exact"] = base == "MH_fixed" and "convention" not in options
    elif base == "Peto_fixed":
        options.update(method="Peto", model="fixed")
    elif base == "IV_fixed":
        options.update(method="IV", model="fixed")
    else:
        assert base.startswith("IV_random_"), key
        options.update(method="IV", model="random", tau2_method=base.removeprefix("IV_random_"))
    return options


def load(name: str) -> BinaryData | ContinuousData | GenericData:
    frame = pd.read_csv(REFERENCE_DIR / SWEEP[name]["csv"])
    study = tuple(frame["study"])
    kind = SWEEP[name]["type"]
    if kind == "binary":
        return BinaryData(study, *(frame[c] for c in BINARY))
    if kind == "continuous":
        return ContinuousData(study, *(frame[c] for c in CONTINUOUS))
    return GenericData(study, frame["yi"], frame["se"])


def cases() -> list[Any]:
    params = []
    for name, entry in SWEEP.items():
        for measure, fits in entry["results"].items():
            for key in fits:
                marks = []
                if (name, measure, key) in KNOWN_BUGS:
                    reason = KNOWN_BUGS[(name, measure, key)]
                    marks.append(pytest.mark.xfail(strict=True, reason=reason))
                params.append(
                    pytest.param(name, measure, key, marks=marks, id=f"{name}-{measure}-{key}")
                )
    return params


CASES = cases()


def differs(actual: float | None, expected: float | None, rel_tol: float) -> bool:
    if expected is None or actual is None:
        return expected is not actual and not (
            # metafor's None for an undefined quantity, NaN here
            expected is None and actual is not None and math.isnan(actual)
        )
    return not math.isclose(actual, expected, rel_tol=rel_tol, abs_tol=ABS_TOL)


def test_sweep_is_broad():
    kinds = {entry["type"] for entry in SWEEP.values()}
    assert kinds == {"binary", "continuous", "generic"}
    assert len(SWEEP) >= 15
    assert len(CASES) >= 500
    ks = {fits["IV_fixed"]["k"] for e in SWEEP.values() for fits in e["results"].values()}
    assert {1, 2, 3} <= ks  # single study, k = 2, k = 3


@pytest.mark.parametrize(("name", "measure", "key"), CASES)
def test_matches_metafor(name, measure, key):
    expected = SWEEP[name]["results"][measure][key]
    options = pool_options(key)
    data = load(name)
    if "error" in expected:  # metafor refuses: so must livingmeta
        with pytest.raises((ValueError, NotEstimableError)):
            pool(data, measure, **options)
        return
    iterative = any(m in key for m in ("REML", "PM"))
    rel_tol = ITERATIVE_REL_TOL if iterative else REL_TOL
    result = pool(data, measure, **options)
    got: dict[str, Any] = {f: getattr(result, f) for f in SCALAR_FIELDS}
    got["i2_metafor"] = result.i2_tau2  # fixed fits: metafor's I2 is the Q-based one
    got["weights"] = [s.weight for s in result.studies if s.estimable]
    for pi_key, pi_method in (("pi_t_k1", "t-k1"), ("pi_t_k2", "t-k2")):
        if pi_key in expected:
            other = pool(data, measure, **options, pi_method=pi_method)
            got[pi_key] = [other.pi_low, other.pi_high]
    if "tau2_ci_low" in expected:
        ci = tau2_confint(result)
        values = (ci.tau2_low, ci.tau2_high, ci.i2_low, ci.i2_high, ci.h2_low, ci.h2_high)
        got.update(zip(CI_FIELDS, values, strict=True))
    mismatches = []
    for field, want in expected.items():
        have = got[field]
        tol = ITERATIVE_REL_TOL if field in CI_FIELDS else rel_tol
        if isinstance(want, list) or isinstance(have, list):
            want = want or [None] * len(have or [])
            have = have or []
            if len(want) != len(have) or any(
                differs(h, w, tol) for h, w in zip(have, want, strict=True)
            ):
                mismatches.append((field, have, want))
        elif differs(have, want, tol):
            mismatches.append((field, have, want))
    assert not mismatches, f"livingmeta vs metafor: {mismatches}"


BATCH_FIELDS = {"k": "k", "estimate": "estimate", "se": "se", "ci_low": "ci_low"}
BATCH_FIELDS |= {"ci_high": "ci_high", "statistic": "z", "p": "p", "q": "q", "i2": "i2"}
BATCH_FIELDS |= {"tau2": "tau2"}
BATCH_CASES = [(m, t) for m in ("OR", "RR", "RD") for t in ("DL", "REML", "PM")]


@pytest.mark.parametrize(
    ("measure", "tau2_method"), BATCH_CASES, ids=["-".join(c) for c in BATCH_CASES]
)
def test_batch_matches_metafor(measure, tau2_method):
    """All binary datasets in one padded (N, k) batch: each row as metafor's rma."""
    names = [name for name, entry in SWEEP.items() if entry["type"] == "binary"]
    datas = [load(name) for name in names]
    arrays = np.full((4, len(datas), max(d.k for d in datas)), np.nan)
    for i, d in enumerate(datas):
        for j, column in enumerate(BINARY):
            arrays[j, i, : d.k] = getattr(d, column)
    result = pool_batch_binary(*arrays, measure=measure, tau2_method=tau2_method)
    rel_tol = REL_TOL if tau2_method == "DL" else ITERATIVE_REL_TOL
    mismatches = []
    for i, name in enumerate(names):
        expected = SWEEP[name]["results"][measure][f"IV_random_{tau2_method}"]
        for field, attr in BATCH_FIELDS.items():
            have = float(getattr(result, attr)[i])
            if differs(have, expected[field], rel_tol):
                mismatches.append((name, field, have, expected[field]))
    assert not mismatches, f"batch vs metafor: {mismatches}"
