"""Leave-one-out, cumulative and subgroup analyses against R metafor 3.8-1.

Expected values were computed once with R and pinned here (metadat::dat.bcg, RR, DL):

    dat <- escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
    leave1out(rma(yi, vi, data=dat, method="DL"))
    cumul(rma(yi, vi, data=dat, method="DL"), order=dat$year)
    res <- lapply(split(dat, dat$alloc), function(d) rma(yi, vi, data=d, method="DL"))
    rma(sapply(res, coef), sei=sapply(res, function(r) r$se), method="FE")$QE   # Q between
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from livingmeta.stats import (
    BinaryData,
    cumulative,
    fixed_and_random,
    leave_one_out,
    pool,
    subgroups,
)

REL_TOL = 1e-6  # R values printed to 15 significant digits

# metadat::dat.bcg columns not in ../shared/reference/bcg.csv
BCG_YEAR = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]
BCG_ALLOC = ["random"] * 4 + ["alternate"] * 2 + ["random"] * 3 + ["systematic"] * 4

LEAVE1OUT_RR = [
    0.494046716516922, 0.519693598312345, 0.504170008819075, 0.538645905697406,
    0.465782868093422, 0.490305145097292, 0.519081721146405, 0.453805494091245,
    0.477465507851533, 0.520697924614088, 0.46734189771318, 0.467660432359918,
    0.458899640922031,
]  # fmt: skip
LEAVE1OUT_TAU2 = [
    0.312171499040679, 0.29997459082211, 0.308527069801401, 0.216733557945814,
    0.326208882712475, 0.382919021832303, 0.300571276322592, 0.21088523257487,
    0.326609260318251, 0.294644878527758, 0.38780919896361, 0.309380446317264,
    0.317703279923814,
]  # fmt: skip
CUMULATIVE_RR = [
    0.410938654841094, 0.265802044131628, 0.382305473203317, 0.385815986299515,
    0.333096751165276, 0.385199367626845, 0.407492249597173, 0.457519190192747,
    0.426077759108953, 0.46558469199571, 0.502518378324346, 0.453805494091245,
    0.489624150463619,
]  # fmt: skip
CUMULATIVE_ORDER = [1, 2, 6, 3, 10, 9, 12, 5, 7, 11, 13, 4, 8]  # 1-based, ties kept in order
SUBGROUP_LOG_RR = {
    "alternate": -0.540792961849345,
    "random": -1.004161353998235,
    "systematic": -0.439346579998001,
}
Q_BETWEEN, P_BETWEEN = 1.53676887206275, 0.463761700109843

OPTIONS = {"measure": "RR", "method": "IV", "model": "random", "tau2_method": "DL"}


@pytest.fixture(scope="module")
def bcg(reference_dir):
    frame = pd.read_csv(reference_dir / "bcg.csv")
    return BinaryData(
        tuple(frame["study"]),
        frame["events_treat"],
        frame["total_treat"],
        frame["events_ctrl"],
        frame["total_ctrl"],
        year=tuple(BCG_YEAR),
        subgroup=tuple(BCG_ALLOC),
    )


def test_leave_one_out_matches_metafor(bcg):
    results = leave_one_out(bcg, **OPTIONS)
    assert [name for name, _ in results] == list(bcg.study)
    np.testing.assert_allclose(
        [r.display(r.estimate) for _, r in results], LEAVE1OUT_RR, rtol=REL_TOL
    )
    np.testing.assert_allclose([r.tau2 for _, r in results], LEAVE1OUT_TAU2, rtol=REL_TOL)


def test_cumulative_by_year_matches_metafor(bcg):
    results = cumulative(bcg, **OPTIONS)
    assert [name for name, _ in results] == [bcg.study[i - 1] for i in CUMULATIVE_ORDER]
    np.testing.assert_allclose(
        [r.display(r.estimate) for _, r in results], CUMULATIVE_RR, rtol=REL_TOL
    )
    assert results[-1][1].estimate == pytest.approx(pool(bcg, **OPTIONS).estimate, rel=1e-12)


def test_subgroups_match_metafor(bcg):
    result = subgroups(bcg, **OPTIONS)
    assert set(result.subgroups) == set(SUBGROUP_LOG_RR)
    for name, expected in SUBGROUP_LOG_RR.items():
        assert result.subgroups[name].estimate == pytest.approx(expected, rel=REL_TOL)
    assert result.q_between == pytest.approx(Q_BETWEEN, rel=REL_TOL)
    assert result.p_between == pytest.approx(P_BETWEEN, rel=REL_TOL)
    assert result.df_between == 2


def test_fixed_effect_q_partitions_into_within_and_between(bcg):
    """Q_total = sum of Q within subgroups + Q between (fixed-effect IV identity)."""
    options = {**OPTIONS, "model": "fixed"}
    result = subgroups(bcg, **options)
    within = sum(g.q for g in result.subgroups.values())
    assert within + result.q_between == pytest.approx(result.overall.q, rel=1e-10)


def test_fixed_and_random_side_by_side(bcg):
    both = fixed_and_random(bcg, measure="RR", method="IV", tau2_method="DL")
    assert both["fixed"].tau2 == 0 and both["random"].tau2 > 0
    assert both["fixed"].q == pytest.approx(both["random"].q)
    assert both["random"].se > both["fixed"].se


def test_leave_one_out_of_a_single_study_is_none():
    data = BinaryData(("A",), [1], [10], [2], [10])
    [(name, result)] = leave_one_out(data, measure="OR", method="MH", model="fixed")
    assert name == "A" and result is None


def test_studies_without_year_come_last():
    data = BinaryData(
        ("late", "none", "early"), [1, 2, 3], [10] * 3, [2, 3, 4], [10] * 3, year=(2020, None, 2001)
    )
    names = [name for name, _ in cumulative(data, measure="OR", method="IV", model="fixed")]
    assert names == ["early", "late", "none"]
    assert math.isfinite(cumulative(data, measure="OR", method="IV", model="fixed")[-1][1].estimate)
