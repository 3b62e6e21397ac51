"""Trial sequential analysis: Lan-DeMets boundaries, beta-spending futility, RIS and D²,
against published group-sequential values and rpact/metafor (tests/reference/
make_sequential.R wrote tests/reference/sequential.json)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from livingmeta.stats.sequential import (
    diversity,
    futility_bounds,
    monitor,
    monitoring_bounds,
    required_information_size,
)

REFERENCE = json.loads((Path(__file__).parent / "reference" / "sequential.json").read_text())
BOUND_RTOL = 1e-6  # root-finding to 1e-13 on a Simpson grid; rpact integrates to ~1e-8
#: rpact 3.3.4 prints the final cumulative alpha spent as 0.04999999 (not 0.05).
SPENT_RTOL = 1e-5


def test_published_obrien_fleming_bounds_for_five_equal_looks() -> None:
    # DeMets and Lan (1994); Jennison and Turnbull (2000), Table 2.3 region.
    bounds = monitoring_bounds([0.2, 0.4, 0.6, 0.8, 1.0], alpha=0.05)
    assert [round(z, 3) for z in bounds.upper] == [4.877, 3.357, 2.680, 2.290, 2.031]
    assert bounds.lower == tuple(-z for z in bounds.upper)


def test_published_pocock_type_bounds_for_five_equal_looks() -> None:
    bounds = monitoring_bounds([0.2, 0.4, 0.6, 0.8, 1.0], spending="pocock")
    assert [round(z, 3) for z in bounds.upper] == [2.438, 2.427, 2.410, 2.397, 2.386]


@pytest.mark.parametrize(
    "case", REFERENCE["efficacy"], ids=lambda c: f"{c['spending']}-{c['fractions']}"
)
def test_efficacy_bounds_match_rpact(case: dict) -> None:
    bounds = monitoring_bounds(np.atleast_1d(case["fractions"]), case["alpha"], case["spending"])
    np.testing.assert_allclose(bounds.upper, np.atleast_1d(case["upper"]), rtol=BOUND_RTOL)
    np.testing.assert_allclose(
        bounds.alpha_spent, np.atleast_1d(case["alpha_spent"]), rtol=SPENT_RTOL
    )


@pytest.mark.parametrize(
    "case", REFERENCE["futility"], ids=lambda c: f"beta{c['beta']}-{c['fractions']}"
)
def test_beta_spending_futility_bounds_match_rpact(case: dict) -> None:
    bounds = monitoring_bounds(case["fractions"], case["alpha"])
    futility, drift = futility_bounds(bounds, case["beta"])
    np.testing.assert_allclose(futility, case["futility"], rtol=BOUND_RTOL, atol=1e-7)
    assert futility[-1] == pytest.approx(bounds.upper[-1], abs=1e-7)  # the wedge closes
    assert drift > 0


def test_diversity_matches_metafor_fixed_and_random_variances() -> None:
    ref = REFERENCE["diversity_bcg"]
    d2 = diversity(ref["vi"], ref["tau2"])
    assert d2 == pytest.approx(ref["d2"], rel=1e-9)
    assert d2 >= ref["i2"]  # D² is never below I²
    assert diversity(ref["vi"], 0.0) == 0.0


def test_required_information_size_by_its_formula() -> None:
    # P_C 0.2, RRR 20%: P_E 0.16, delta 0.04, p 0.18; (1.959964 + 1.281552)² = 10.5074
    expected = 4 * (1.959963984540054 + 1.2815515655446004) ** 2 * 0.18 * 0.82 / 0.04**2
    assert required_information_size(control_risk=0.2, relative_risk_reduction=0.2) == (
        pytest.approx(expected, rel=1e-12)
    )
    adjusted = required_information_size(
        control_risk=0.2, relative_risk_reduction=0.2, diversity=0.5
    )
    assert adjusted == pytest.approx(2 * expected, rel=1e-12)
    continuous = required_information_size(mean_difference=5, sd=20, beta=0.2)
    assert continuous == pytest.approx(4 * (1.959963984540054 + 0.8416212335729143) ** 2 * 16)
    with pytest.raises(ValueError, match="give control_risk"):
        required_information_size(control_risk=0.2)


def test_monitor_labels_each_update_by_the_boundary_it_crossed() -> None:
    looks = [
        ("2024-01", 400, 2.2),
        ("2024-06", 400, 2.2),
        ("2025-01", 1200, 2.4),
        ("2026-01", 2400, 2.5),
    ]
    chart = monitor(looks, information_size=2000, beta=None)
    assert [look.status for look in chart] == [
        "conventional_only",  # 2.2 > 1.96 but far below the early boundary
        "conventional_only",  # no new participants: the same look again
        "conventional_only",
        "crossed_monitoring",  # information complete: the final boundary (2.031) applies
    ]
    assert chart[0].upper == chart[1].upper
    assert chart[-1].upper == pytest.approx(monitoring_bounds([0.2, 0.6, 1.0]).upper[-1])
    futile = monitor([("a", 1000, 0.5), ("b", 1600, 0.3)], information_size=2000, beta=0.1)
    assert [look.status for look in futile] == ["not_significant", "crossed_futility"]


def test_invalid_designs_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="increasing"):
        monitoring_bounds([0.5, 0.4])
    with pytest.raises(ValueError, match="spending must be one of obf, pocock"):
        monitoring_bounds([1.0], spending="haybittle")
    with pytest.raises(ValueError, match="alpha"):
        monitoring_bounds([1.0], alpha=1.5)


def test_cli_prints_the_documented_json() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "livingmeta.cli",
            "tsa",
            "--fractions",
            "0.2,0.4,0.6,0.8,1",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out)
    assert result["fractions"] == [0.2, 0.4, 0.6, 0.8, 1.0]
    assert [round(z, 3) for z in result["upper"]] == [4.877, 3.357, 2.680, 2.290, 2.031]
    assert result["lower"] == [-z for z in result["upper"]]


def test_fractions_out_of_order_are_named_as_written():
    """The message prints the numbers as a user typed them (not numpy reprs) and how to
    write them: ``0,5`` meant as one half reads as two looks, 0 and 5."""
    from livingmeta.stats.sequential import monitoring_bounds

    with pytest.raises(ValueError) as raised:
        monitoring_bounds([0.0, 5.0], 0.05, "obf")
    assert str(raised.value).endswith("decimals with a point: 0.25,0.5,1); got 0, 5")
