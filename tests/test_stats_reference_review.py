"""The reference review (Premat et al. 2020) reproduced from its extracted counts.

Published values and RevMan 5's full-precision values are in ../shared/seed/README.md.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from livingmeta.stats import BinaryData, pool

REL_TOL = 1e-6  # the seed README gives RevMan's values to 6-7 significant digits
PRINTED_DIGITS = 5e-7  # ... printed with 6 decimals; allow half a unit in the last place

# outcome: (OR, CI low, CI high, z, p, Q, tau2, I2 %)
REVMAN_FULL_PRECISION = {
    "mrs0_2_90d": (2.874083, 1.771776, 4.662189, 4.277406, 1.8908e-05, 2.904587, 0.0, 0.0),
    "mortality_90d": (0.385331, 0.158819, 0.934903, -2.108813, 0.034961, 5.294566, 0.329802, 43.34),
    "sich": (0.683311, 0.368772, 1.266129, -1.210120, 0.226233, 0.438484, 0.0, 0.0),
}
# outcome: (OR, CI low, CI high, p as printed, I2 % rounded) from the paper's abstract/figures
PUBLISHED = {
    "mrs0_2_90d": (2.87, 1.77, 4.66, None, 0),
    "mortality_90d": (0.39, 0.16, 0.93, 0.03, 43),
    "sich": (0.68, 0.37, 1.27, 0.23, 0),
}


def seed_data(seed_dir) -> dict[str, BinaryData]:
    """The seed extraction per outcome (groups: pis = stenting, ctrl = control)."""
    frame = pd.read_csv(seed_dir / "extracted_2x2.csv")
    columns = ["events_pis", "total_pis", "events_ctrl", "total_ctrl"]
    return {
        outcome: BinaryData(tuple(rows["study"]), *(rows[c] for c in columns))
        for outcome, rows in frame.groupby("outcome", sort=False)
    }


@pytest.fixture(scope="module")
def seed_results(seed_dir):
    return {
        outcome: pool(data, "OR", method="MH", model="random")
        for outcome, data in seed_data(seed_dir).items()
    }


def _matches(actual: float, expected: float, decimals_given: int = 6) -> bool:
    # The README prints 6 decimals (or 4 significant digits for p); accept the rounding.
    tol = max(REL_TOL * abs(expected), 0.5 * 10.0**-decimals_given)
    return math.isclose(actual, expected, abs_tol=tol)


@pytest.mark.parametrize("outcome", list(REVMAN_FULL_PRECISION))
def test_revman_full_precision(seed_results, outcome):
    r = seed_results[outcome].to_dict()
    est, low, high, z, p, q, tau2, i2 = REVMAN_FULL_PRECISION[outcome]
    assert _matches(r["estimate"], est)
    assert _matches(r["ci_low"], low)
    assert _matches(r["ci_high"], high)
    assert _matches(r["z"], z)
    assert math.isclose(r["p"], p, rel_tol=5e-4)  # p printed to 4-5 significant digits
    assert _matches(r["q"], q)
    assert r["df"] == 3
    assert _matches(r["tau2"], tau2)
    assert math.isclose(r["i2"], i2, abs_tol=0.005)


@pytest.mark.parametrize("outcome", list(PUBLISHED))
def test_published_rounded_values(seed_results, outcome):
    r = seed_results[outcome].to_dict()
    est, low, high, p, i2 = PUBLISHED[outcome]
    assert round(r["estimate"], 2) == est
    assert round(r["ci_low"], 2) == low
    assert round(r["ci_high"], 2) == high
    if p is not None:
        assert round(r["p"], 2) == p
    else:
        assert r["p"] < 0.001
    assert round(r["i2"]) == i2


def test_zero_cell_study_is_corrected_not_dropped(seed_results):
    """Cornelissen has 0 deaths with stenting: 0.5 is added, the study still counts."""
    mortality = seed_results["mortality_90d"]
    cornelissen = next(s for s in mortality.studies if s.study == "Cornelissen")
    assert cornelissen.corrected and cornelissen.estimable and cornelissen.weight > 0
    assert mortality.k == 4


def test_metafor_exact_mh_differs_as_documented(seed_dir):
    """rma.mh's raw cells give p = 0.0352 and I2 44% for mortality (seed README)."""
    data = seed_data(seed_dir)["mortality_90d"]
    exact = pool(data, "OR", method="MH", model="random", mh_exact=True).to_dict()
    assert round(exact["p"], 4) == 0.0352
    assert round(exact["i2"]) == 44
