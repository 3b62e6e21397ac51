"""Absolute effects per 1,000 (GRADEpro's formulas), against the Cochrane Handbook's worked
examples and hand computation."""

from __future__ import annotations

import csv
import math

import pytest

from livingmeta.grade.absolute import absolute_effect, corresponding_risk, pooled_control_risk
from livingmeta.grade.sof import difference_text

EXACT = 1e-12


@pytest.mark.parametrize(("control", "expected"), [(0.80, 0.60), (0.20, 0.15)])
def test_risk_ratio_handbook_example(control: float, expected: float) -> None:
    # Cochrane Handbook 5.1, section 11.5.5: "if the risk ratio is consistently 0.75, then
    # treatment would reduce a control group risk of 80% to 60% ... but would reduce a
    # control group risk of 20% to 15%".
    assert corresponding_risk("RR", 0.75, control) == pytest.approx(expected, abs=EXACT)


#: Clarke et al., "Compression stockings for preventing deep vein thrombosis in airline
#: passengers", Cochrane Database Syst Rev 2006 (CD004002), summary-of-findings table (the
#: Cochrane Handbook 5.1's example table, Figure 11.5.a): odds ratio (95% CI), assumed
#: risk per 1,000, corresponding risk per 1,000 (95% CI), as published.
COMPRESSION_STOCKINGS = [
    ("symptomless DVT, low risk", (0.10, 0.04, 0.25), 10, (1, 0, 3)),
    ("symptomless DVT, high risk", (0.10, 0.04, 0.25), 30, (3, 1, 8)),
    ("superficial vein thrombosis", (0.45, 0.18, 1.13), 13, (6, 2, 15)),
]


@pytest.mark.parametrize(("outcome", "odds_ratio", "assumed", "published"), COMPRESSION_STOCKINGS)
def test_odds_ratio_reproduces_a_published_summary_of_findings_table(
    outcome: str, odds_ratio: tuple[float, float, float], assumed: int, published: tuple
) -> None:
    effect = absolute_effect("OR", *odds_ratio, assumed / 1000)
    per = effect.per_1000()
    assert (round(per["risk"]), round(per["risk_low"]), round(per["risk_high"])) == published


@pytest.mark.parametrize("odds_ratio", [0.2, 0.5, 0.93, 1.0, 2.5, 7.0])
@pytest.mark.parametrize("control", [0.01, 0.2, 0.5, 0.9])
def test_odds_ratio_agrees_with_the_handbook_conversion_to_a_risk_ratio(
    odds_ratio: float, control: float
) -> None:
    # Cochrane Handbook 5.1, section 12.5.4.4: RR = OR / (1 - ACR (1 - OR)); the
    # corresponding risk is then ACR x RR.
    risk_ratio = odds_ratio / (1 - control * (1 - odds_ratio))
    expected = control * risk_ratio
    assert corresponding_risk("OR", odds_ratio, control) == pytest.approx(expected, rel=EXACT)


def test_odds_ratio_by_hand() -> None:
    # odds 0.25 x 0.5 = 0.125 -> risk 0.125 / 1.125 = 1/9
    assert corresponding_risk("OR", 0.5, 0.2) == pytest.approx(1 / 9, rel=EXACT)


@pytest.mark.parametrize(
    ("hazard_ratio", "control", "expected"),
    # survival with the intervention = (survival without) ** HR
    [(2.0, 0.5, 0.75), (0.5, 0.75, 0.5), (1.0, 0.3, 0.3)],
)
def test_hazard_ratio_by_hand(hazard_ratio: float, control: float, expected: float) -> None:
    assert corresponding_risk("HR", hazard_ratio, control) == pytest.approx(expected, rel=EXACT)


def test_risk_difference_does_not_depend_on_the_assumed_risk() -> None:
    for control in (0.2, 0.4):
        effect = absolute_effect("RD", -0.05, -0.10, 0.01, control)
        per = effect.per_1000()
        assert (per["difference"], per["difference_low"], per["difference_high"]) == (
            pytest.approx(-50),
            pytest.approx(-100),
            pytest.approx(10),
        )
        assert per["risk"] == pytest.approx(1000 * control - 50)


def test_reference_review_mortality_per_1000_by_hand(seed_dir) -> None:
    rows = [r for r in csv.DictReader((seed_dir / "extracted_2x2.csv").open()) if r]
    mortality = [r for r in rows if r["outcome"] == "mortality_90d"]
    control = pooled_control_risk(
        [float(r["events_ctrl"]) for r in mortality], [float(r["total_ctrl"]) for r in mortality]
    )
    assert control == pytest.approx(62 / 203, rel=EXACT)  # 9 + 19 + 5 + 29 of 23 + 100 + 14 + 66
    # The published pooled odds ratio (Premat 2020, M-H random): 0.39 [0.16, 0.93], here to
    # the six digits the pooling reproduces.
    effect = absolute_effect("OR", 0.385331, 0.158819, 0.934903, control)
    odds = 62 / 141  # control odds: 62 events, 141 without
    by_hand = [odds * r / (1 + odds * r) for r in (0.385331, 0.158819, 0.934903)]
    per = effect.per_1000()
    assert [per["risk"], per["risk_low"], per["risk_high"]] == pytest.approx(
        [1000 * p for p in by_hand], rel=1e-12
    )
    assert [round(per[k]) for k in ("assumed", "risk", "risk_low", "risk_high")] == [
        305,
        145,
        65,
        291,
    ]
    text = difference_text(per["difference"], per["difference_low"], per["difference_high"])
    assert text == "161 fewer per 1,000 (from 240 fewer to 14 fewer)"


def test_extreme_ratios_stay_risks() -> None:
    assert corresponding_risk("RR", 10.0, 0.3) == 1.0  # capped: a risk is at most 1
    assert corresponding_risk("OR", math.inf, 0.3) == 1.0
    assert corresponding_risk("OR", 0.0, 0.3) == 0.0
    assert corresponding_risk("RD", 0.5, 0.8) == 1.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: corresponding_risk("MD", 1.0, 0.2), "measure must be one of"),
        (lambda: corresponding_risk("OR", 1.0, 1.2), "assumed risk must be a proportion"),
        (lambda: corresponding_risk("RR", -0.5, 0.2), "non-negative ratio"),
        (lambda: absolute_effect("OR", 0.5, 0.6, 0.9, 0.2), "does not contain"),
        (lambda: pooled_control_risk([5], [4]), "events exceed participants"),
        (lambda: pooled_control_risk([], []), "participants"),
    ],
)
def test_invalid_input_is_refused_with_the_reason(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_difference_words_and_rounding() -> None:
    assert difference_text(0.5, -0.5, 1.49) == (
        "1 more per 1,000 (from 1 fewer to 1 more)"  # halves away from zero, as GRADEpro
    )
    assert difference_text(1234.4, 1000, 1500) == (
        "1,234 more per 1,000 (from 1,000 more to 1,500 more)"
    )
