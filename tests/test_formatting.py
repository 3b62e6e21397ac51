"""Numbers in RevMan 5's conventions, and the same numbers in every output.

The conventions are pinned against what RevMan 5 prints (P values as ``P = 0.03`` down to
``P < 0.00001``, two-decimal effects, whole-percent I²); the last test renders one pooled
result through the ``livingmeta pool`` table, the forest plot, ``summary.md``, the run
report and the site and checks that its estimate, interval and P value read the same in
all five.
"""

from __future__ import annotations

import doctest
import html
import math
import re

import pandas as pd
import pytest

import livingmeta.formatting as formatting
from livingmeta.cli import main
from livingmeta.formatting import (
    MINUS,
    describe_method,
    format_count,
    format_effect,
    format_i2,
    format_number,
    format_p,
    format_p_value,
    format_tau2,
    format_weight,
    heterogeneity_line,
    interval_decimals,
    overall_effect_line,
    pooled_effect,
    prediction_interval,
    result_i2,
)
from livingmeta.plots import forest_plot
from livingmeta.report import render_run_report
from livingmeta.site import OutcomePage, ReviewPage, build_site
from livingmeta.stats import BinaryData, pool
from livingmeta.summary import summary_markdown, summary_row


def test_doctests_pass():
    failures, tried = doctest.testmod(formatting, optionflags=doctest.ELLIPSIS)
    assert tried > 20 and failures == 0


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.5, "0.50"),
        (0.0100, "0.01"),
        (0.00999, "0.010"),  # three decimals below 0.01, rounded
        (0.0012, "0.001"),
        (0.00099, "0.0010"),
        (0.0001, "0.0001"),
        (0.000099, "< 0.0001"),
        (0.0000099, "< 0.00001"),
        (None, "NA"),
        (math.nan, "NA"),
    ],
)
def test_p_values_step_down_to_a_bound(p, text):
    assert format_p_value(p) == text
    assert format_p(p) == (f"P {text}" if text.startswith("<") else f"P = {text}")


def test_negative_numbers_use_the_typographic_minus_and_no_negative_zero():
    assert format_number(-0.1234) == f"{MINUS}0.12"
    assert format_number(-0.001) == "0.00"
    assert format_effect(-0.5, -0.91, -0.09, is_ratio=False) == (
        f"{MINUS}0.50 [{MINUS}0.91, {MINUS}0.09]"
    )
    assert format_count(-1.5) == f"{MINUS}1.5"


def test_narrow_differences_get_more_decimals_ratios_never():
    assert interval_decimals(-0.004, 0.003, is_ratio=False) == 3
    assert interval_decimals(-0.00004, 0.00003, is_ratio=False) == 4  # capped at four
    assert interval_decimals(0.2, 0.9, is_ratio=False) == 2
    assert format_effect(0.0031, 0.0009, 0.0102, is_ratio=True) == "0.0031 [0.0009, 0.01]"


def test_undefined_values_read_as_revman_writes_them():
    assert format_effect(None, 0.1, 0.2, is_ratio=True) == "Not estimable"
    assert format_effect(math.nan, 0.1, 0.2, is_ratio=False) == "Not estimable"
    assert format_i2(None) == "Not applicable"
    assert format_i2(0.0, studies=1) == "Not applicable"
    assert format_i2(18.72, 1) == "18.7%"
    assert format_tau2(0.004) == "< 0.01"
    assert format_weight(100) == "100.0%"
    one_study = {"model": "random", "df": 0, "q": 0.0, "i2": 0.0, "tau2": 0.0}
    assert heterogeneity_line(one_study) == "Heterogeneity: Not applicable"
    assert result_i2(one_study) == "Not applicable"
    assert heterogeneity_line({**one_study, "df": 2, "q": 1.0, "p_q": 0.6, "tau2": 0.001}) == (
        "Heterogeneity: Tau² < 0.01; Chi² = 1.00, df = 2 (P = 0.60); I² = 0%"
    )


def test_result_object_and_its_json_print_the_same(mrs_result):
    as_json = mrs_result.to_dict()
    for function in (
        pooled_effect,
        prediction_interval,
        heterogeneity_line,
        overall_effect_line,
        describe_method,
    ):
        assert function(mrs_result) == function(as_json)
    # pooled.json from OutcomeAnalysis: ``statistic`` the value, ``test`` its kind
    renamed = {**as_json, "statistic": as_json["z"], "test": "z"}
    assert overall_effect_line(renamed) == overall_effect_line(mrs_result)


# ---------------------------------------------------------------------- one number everywhere

MRS = "mrs0_2_90d"
LABEL = "Functional independence (mRS 0-2) at 90 days"
EFFECT = "2.87 [1.77, 4.66]"  # Premat 2020: OR 2.87 [1.77, 4.66]
P_CLAUSE = "P < 0.0001"  # z = 4.28


@pytest.fixture(scope="module")
def mrs_table(seed_dir) -> pd.DataFrame:
    return pd.read_csv(seed_dir / "extracted_2x2.csv").query("outcome == @MRS")


@pytest.fixture(scope="module")
def mrs_result(mrs_table):
    d = mrs_table
    data = BinaryData(
        tuple(f"{s} {y}" for s, y in zip(d.study, d.year, strict=True)),
        d.events_pis,
        d.total_pis,
        d.events_ctrl,
        d.total_ctrl,
        year=tuple(int(y) for y in d.year),
    )
    return pool(data, measure="OR", method="MH", model="random")


def _cli_table(mrs_table, tmp_path, capsys) -> str:
    table = mrs_table.rename(columns={"events_pis": "events_treat", "total_pis": "total_treat"})
    path = tmp_path / "mrs.csv"
    table[["study", "events_treat", "total_treat", "events_ctrl", "total_ctrl"]].to_csv(
        path, index=False
    )
    assert main(["pool", str(path), "--measure", "OR", "--method", "MH"]) == 0
    return capsys.readouterr().out


def _plot_text(result) -> str:
    from matplotlib.text import Text

    fig = forest_plot(result)
    return "\n".join(t.get_text() for t in fig.findobj(Text) if t.get_visible())


def _report_text(result) -> str:
    context = {
        "review": {"id": "rs", "title": "Rescue stenting"},
        "run": {"id": "2026-11-25T0300Z", "date": "2026-11-25"},
        "outcomes": [{"name": MRS, "label": LABEL, "before": None, "after": result.to_dict()}],
    }
    return html.unescape(render_run_report(context))


def _site_text(result, tmp_path) -> str:
    outcome = OutcomePage(MRS, LABEL, pooled={"result": result.to_dict(), "participants": 352})
    build_site([ReviewPage("rs", "Rescue stenting", outcomes=[outcome])], tmp_path / "site")
    return html.unescape((tmp_path / "site" / "rs" / "index.html").read_text(encoding="utf-8"))


def test_one_result_prints_identically_in_every_output(mrs_table, mrs_result, tmp_path, capsys):
    assert pooled_effect(mrs_result) == EFFECT and format_p(mrs_result.p) == P_CLAUSE
    outputs = {
        "cli": _cli_table(mrs_table, tmp_path, capsys),
        "plot": _plot_text(mrs_result),
        "summary": summary_markdown([summary_row(LABEL, mrs_result.to_dict(), 352)], "Review"),
        "report": _report_text(mrs_result),
        "site": _site_text(mrs_result, tmp_path),
    }
    for name, text in outputs.items():
        assert EFFECT in text, name
        # the P value as a clause, or bare in a table's P column
        assert P_CLAUSE in text or re.search(r"\| < 0\.0001 \|", text), name
        assert "0.00002" not in text, name  # the old summary/site form of this P value
    for name in ("cli", "plot", "site"):
        assert heterogeneity_line(mrs_result) in outputs[name], name
    for name in ("cli", "plot"):
        assert overall_effect_line(mrs_result) in outputs[name], name
