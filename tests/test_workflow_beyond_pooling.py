"""The analyses beyond pooling as the workflow runs them: pooled.json sections, funnel and
bubble plots, the summary, the run report's and the site's sections, and the config keys
(convention, analyses) with the digests they must not disturb."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from livingmeta.analysis_settings import merged_analyses
from livingmeta.config import ConfigError, reviews, validate_config
from livingmeta.fingerprints import outcome_digest
from livingmeta.outcome_analysis import OutcomeAnalysis
from livingmeta.outcomes import Outcome
from livingmeta.stats import egger_test, escalc
from livingmeta.stats.data import BinaryData
from livingmeta.validation import InputError
from livingmeta.workflow.plot import analysis_figure_kinds, plot_bubble, plot_outcome
from livingmeta.workflow.pool import pool_outcome
from livingmeta.workflow.summary import summarise_review

COLUMNS = ("study_id", "study_label", "year", "outcome", "events_treat", "total_treat")
COLUMNS += ("events_ctrl", "total_ctrl", "subgroup", "dose")


def trial_rows(k: int, *, zero_cells: bool = False, seed: int = 7) -> list[dict[str, Any]]:
    """``k`` two-arm trials of one outcome, ``death`` (no zero cells unless asked)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(k):
        n = int(rng.integers(30, 300))
        a, c = int(rng.integers(3, n // 4)), int(rng.integers(3, n // 4))
        if zero_cells and i == 0:
            a = 0
        if zero_cells and i == 1:
            a, c = 0, 0
        rows.append(
            dict(
                study_id=f"s{i:02d}", study_label=f"Trial {i:02d}", year=2000 + i,
                outcome="death", events_treat=a, total_treat=n, events_ctrl=c, total_ctrl=n,
                subgroup="low dose" if i % 2 else "high dose", dose=10 + 2 * i,
            )
        )  # fmt: skip
    return rows


def make_review(folder: Path, rows: list[dict[str, Any]], **review: Any) -> Any:
    """A one-outcome review with ``rows`` as its extraction table."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "extraction.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    outcome = {"name": "death", "label": "Death", "measure": "OR", **review.pop("outcome", {})}
    spec = {"id": "synthetic", "folder": str(folder), "outcomes": [outcome], **review}
    config = validate_config({"reviews": [spec]})
    return reviews(config)["synthetic"]


def run_pool(review: Any, tmp_path: Path) -> dict[str, Any]:
    """Pool the review's outcome as the workflow does; the written pooled.json."""
    outcome = review.outcome("death")
    pooled = tmp_path / "death" / "pooled.json"
    pool_outcome(
        review, outcome, data=review.extraction, pooled=pooled,
        analyses=merged_analyses(review.spec, "death"),
    )  # fmt: skip
    return json.loads(pooled.read_text(encoding="utf-8"))


def summary_markdown(review: Any, tmp_path: Path) -> str:
    out = tmp_path / "summary"
    summarise_review(
        review, pooled=[tmp_path / "death" / "pooled.json"], csv=out.with_suffix(".csv"),
        markdown=out.with_suffix(".md"), tidy=tmp_path / "pooled.csv",
    )  # fmt: skip
    return out.with_suffix(".md").read_text(encoding="utf-8")


def test_twelve_studies_are_tested_for_small_study_effects(tmp_path):
    rows = trial_rows(12)
    review = make_review(tmp_path / "review", rows)
    pooled = run_pool(review, tmp_path)
    small = pooled["small_study_effects"]
    assert small["assessed"] and small["k"] == 12 and small["note"] is None
    assert set(small["tests"]) == {"egger", "egger_rma", "begg", "peters", "harbord"}
    data = BinaryData(
        tuple(r["study_id"] for r in rows),
        *(np.array([r[c] for r in rows], float) for c in COLUMNS[4:8]),
    )
    es = escalc("OR", data)
    expected = egger_test(es.yi, es.vi)
    assert small["tests"]["egger"]["statistic"] == pytest.approx(expected.statistic, rel=1e-12)
    assert small["trimfill"]["k0"] >= 0
    text = summary_markdown(review, tmp_path)
    assert "Small-study effects (12 studies)." in text
    assert "Egger's regression test (weighted linear model): statistic = " in text
    assert "Trim-and-fill (L0, sensitivity analysis)" in text


def test_fewer_than_ten_studies_are_not_assessed(tmp_path):
    review = make_review(tmp_path / "review", trial_rows(6))
    pooled = run_pool(review, tmp_path)
    small = pooled["small_study_effects"]
    assert not small["assessed"]
    assert small["note"] == "not assessed (k < 10)"
    assert small["tests"] == {} and small["trimfill"] is None
    assert "Small-study effects: not assessed (k < 10)." in summary_markdown(review, tmp_path)


def test_a_lowered_threshold_runs_the_tests_and_says_so(tmp_path):
    analyses = {"small_study_effects": {"min_k": 5, "tests": ["egger", "begg"]}}
    review = make_review(tmp_path / "review", trial_rows(6), analyses=analyses)
    small = run_pool(review, tmp_path)["small_study_effects"]
    assert small["assessed"] and set(small["tests"]) == {"egger", "begg"}
    assert small["threshold_lowered"]
    assert "threshold lowered to 5 studies (Cochrane Handbook: at least 10)" in summary_markdown(
        review, tmp_path
    )


def test_zero_cells_bring_the_zero_event_panel(tmp_path):
    review = make_review(tmp_path / "review", trial_rows(6, zero_cells=True))
    panel = run_pool(review, tmp_path)["zero_event_panel"]
    assert panel["single_zero_studies"] == 1 and panel["double_zero_studies"] == 1
    names = [row["name"] for row in panel["rows"]]
    assert names == [
        "iv_half", "mh_half", "mh_uncorrected", "tacc", "peto", "exact_conditional", "rd_mh",
    ]  # fmt: skip
    rd = panel["rows"][-1]
    assert rd["measure"] == "RD" and rd["k"] == 6  # the double-zero study is kept
    text = summary_markdown(review, tmp_path)
    assert "Zero-event sensitivity panel (1 single-zero and 1 double-zero studies" in text
    assert "| Treatment-arm" not in text and "treatment-arm continuity correction" in text


def test_no_zero_cells_no_panel(tmp_path):
    review = make_review(tmp_path / "review", trial_rows(6))
    assert run_pool(review, tmp_path)["zero_event_panel"] is None


def test_two_views_side_by_side(tmp_path):
    review = make_review(tmp_path / "review", trial_rows(8), convention="revman5")
    pooled = run_pool(review, tmp_path)
    views = pooled["views"]
    assert views["configured"]["estimate"] == pooled["result"]["estimate"]
    modern = views["modern"]
    assert (modern["method"], modern["tau2_method"], modern["hksj"]) == ("IV", "REML", True)
    assert modern["tau2_ci_low"] <= modern["tau2"] <= modern["tau2_ci_high"]
    assert pooled["outcome"]["convention"] == "revman5"
    text = summary_markdown(review, tmp_path)
    assert "| Configured (RevMan 5 formulas) | M-H, Random, 95% CI |" in text
    assert (
        "| Modern (REML, Q-profile, HKSJ ad hoc, t PI) | IV, Random (REML, HKSJ), 95% CI |" in text
    )


@pytest.mark.parametrize("adhoc", [True, False])
def test_the_ad_hoc_correction_is_a_config_key(tmp_path, adhoc):
    """``analyses.hksj_adhoc`` reaches the modern view: the pooled.json interval is the
    stats function's with that setting, and the two settings differ on these data."""
    from livingmeta.stats import modern_view

    rows = trial_rows(6, seed=16)  # homogeneous: plain HKSJ is narrower than Wald
    review = make_review(tmp_path / "review", rows, analyses={"hksj_adhoc": adhoc})
    views = run_pool(review, tmp_path)["views"]
    assert views["hksj_adhoc"] is adhoc
    expected = modern_view(_binary(rows), "OR", hksj_adhoc=adhoc)
    other = modern_view(_binary(rows), "OR", hksj_adhoc=not adhoc)
    got = (views["modern"]["ci_low"], views["modern"]["ci_high"])
    assert got == pytest.approx(np.exp([expected.ci_low, expected.ci_high]), rel=1e-9)
    assert got != pytest.approx(np.exp([other.ci_low, other.ci_high]), rel=1e-6)
    label = "HKSJ ad hoc, t PI" if adhoc else "HKSJ, t PI"
    assert f"| Modern (REML, Q-profile, {label}) |" in summary_markdown(review, tmp_path)


def _binary(rows: list[dict[str, Any]]) -> BinaryData:
    columns = ("events_treat", "total_treat", "events_ctrl", "total_ctrl")
    labels = tuple(r["study_label"] for r in rows)
    return BinaryData(labels, *([r[c] for r in rows] for c in columns))


def test_the_modern_view_can_be_switched_off(tmp_path):
    review = make_review(tmp_path / "review", trial_rows(4), analyses={"modern_view": False})
    assert run_pool(review, tmp_path)["views"] is None


def test_meta_regression_and_bubble_plot(tmp_path):
    review = make_review(tmp_path / "review", trial_rows(8), analyses={"covariates": ["dose"]})
    pooled = run_pool(review, tmp_path)
    section = pooled["meta_regression"]
    assert [c["name"] for c in section["fit"]["coefficients"]] == ["intrcpt", "dose"]
    assert section["values"]["dose"] == [10 + 2 * i for i in range(8)]
    assert "fewer than 10 per covariate" in section["fit"]["warnings"][0]
    assert analysis_figure_kinds(review.spec, "death") == ("funnel", "bubble")
    figures = [tmp_path / "death" / f"bubble.{ext}" for ext in ("png", "svg", "pdf")]
    plot_bubble(review.outcome("death"), pooled=tmp_path / "death" / "pooled.json", figures=figures)
    assert figures[0].read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in figures[1].read_bytes() and figures[2].read_bytes().startswith(b"%PDF")
    assert "Meta-regression on dose:" in summary_markdown(review, tmp_path)


def test_a_covariate_that_is_no_column_is_an_input_problem(tmp_path):
    review = make_review(tmp_path / "review", trial_rows(4), analyses={"covariates": ["age"]})
    with pytest.raises(InputError, match="covariate 'age' is not a column"):
        run_pool(review, tmp_path)


def test_subgroups_with_a_common_tau2(tmp_path):
    analyses = {"subgroup_tau2": "common"}
    review = make_review(tmp_path / "review", trial_rows(8), analyses=analyses)
    section = run_pool(review, tmp_path)["subgroups_common_tau2"]
    assert set(section["groups"]) == {"low dose", "high dose"}
    assert section["df_between"] == 1 and 0 <= section["p_between"] <= 1
    assert "Subgroups with a common tau²:" in summary_markdown(review, tmp_path)


def test_funnel_plot_in_every_format_and_round_trip(tmp_path):
    review = make_review(tmp_path / "review", trial_rows(12), analyses={"covariates": ["year"]})
    run_pool(review, tmp_path)
    pooled = tmp_path / "death" / "pooled.json"
    figures = [tmp_path / "death" / f"funnel.{ext}" for ext in ("png", "svg", "pdf")]
    plot_outcome(review.outcome("death"), pooled=pooled, figures=figures)  # the funnel only
    assert all(f.stat().st_size > 1000 for f in figures)
    assert sorted(p.name for p in figures[0].parent.glob("*.*")) == sorted(
        ["pooled.json", *(f.name for f in figures)]
    )
    analysis = OutcomeAnalysis.read(pooled)
    assert analysis.to_json() == json.loads(pooled.read_text(encoding="utf-8"))
    assert analysis.beyond_pooling.regression().k == 12


def test_convention_is_inherited_and_overridden():
    spec = {
        "id": "r",
        "convention": "revman5",
        "outcomes": [{"name": "a"}, {"name": "b", "convention": "metafor"}],
    }
    review = reviews(validate_config({"reviews": [spec]}))["r"]
    assert review.outcome("a").convention == "revman5"
    assert review.outcome("b").convention == "metafor"
    with pytest.raises(ConfigError, match="convention"):
        validate_config({"reviews": [{**spec, "convention": "stata"}]})


def test_outcome_settings_override_the_review_key_by_key():
    spec = {
        "analyses": {"small_study_effects": {"min_k": 5, "contours": True}, "covariates": ["x"]},
        "outcomes": [{"name": "a", "analyses": {"small_study_effects": {"min_k": 8}}}],
    }
    merged = merged_analyses(spec, "a")
    assert merged == {"small_study_effects": {"min_k": 8, "contours": True}, "covariates": ["x"]}


def test_digest_of_an_outcome_without_convention_is_unchanged(tmp_path):
    """Results pooled before the key existed are not rebuilt: the digest of an outcome
    that does not set it is computed as before."""
    extraction = tmp_path / "extraction.csv"
    extraction.write_text("study_id,outcome\ns1,death\n", encoding="utf-8")
    outcome = Outcome("death", "Death")
    before = {
        "measure": "OR", "method": "MH", "model": "random", "tau2_method": "DL",
        "hksj": False, "mh_exact": False,
    }  # fmt: skip
    hasher = hashlib.sha256(json.dumps(before, sort_keys=True).encode())
    hasher.update(b"Death")
    hasher.update(json.dumps([]).encode())
    hasher.update(b"study_id,outcome\ns1,death\n")
    assert outcome_digest(extraction, outcome) == hasher.hexdigest()[:16]
    revman = Outcome("death", "Death", convention="revman5")
    assert outcome_digest(extraction, revman) != outcome_digest(extraction, outcome)


@pytest.mark.parametrize("module", ["livingmeta.report.run_report", "livingmeta.site.build"])
def test_report_and_site_show_the_section_escaped(tmp_path, module):
    import importlib

    from livingmeta.beyond_pooling_view import beyond_pooling_view

    rows = trial_rows(12, zero_cells=True)
    for i, row in enumerate(rows):
        row["dose"] = "<b>" if i % 3 else "(none)"
    review = make_review(tmp_path / "review", rows, analyses={"covariates": ["dose"]})
    view = beyond_pooling_view(run_pool(review, tmp_path))
    environment = importlib.import_module(module)._environment()
    template = environment.get_template("beyond_pooling.html.j2")
    html = template.render(b=view, level=4)
    assert "<h4>Analyses beyond pooling</h4>" in html
    assert "Modern (REML, Q-profile, HKSJ ad hoc, t PI)" in html
    assert "Egger&#39;s regression test" in html and "Zero-event sensitivity panel" in html
    assert "dose&lt;b&gt;" in html and "<b>" not in html  # a label of the categorical covariate


def test_one_sentence_says_why_the_views_differ(tmp_path):
    review = make_review(tmp_path / "review", trial_rows(4, seed=11))
    pooled = run_pool(review, tmp_path)
    views = pooled["views"]
    configured, modern = views["configured"], views["modern"]
    assert configured["ci_high"] < 1 or configured["ci_low"] > 1  # an effect...
    assert modern["ci_low"] <= 1 <= modern["ci_high"]  # ...that the modern view does not see
    assert views["conclusions_differ"]
    assert views["explanation"].startswith("The configured analysis finds an effect")
    assert views["explanation"] in summary_markdown(review, tmp_path)


@pytest.mark.slow
def test_the_workflow_writes_the_analyses_of_each_outcome(tmp_path):
    """Snakemake end to end on a synthetic review: 12 studies with zero cells and a
    covariate (tests, panel, bubble plot), and 6 studies (not assessed)."""
    import subprocess
    import sys

    import yaml

    from tests.workflow_copy import copy_workflow

    root = tmp_path / "workflow"
    root.mkdir()
    copy_workflow(root)
    folder = root / "reviews" / "synthetic"
    many = trial_rows(12, zero_cells=True)
    few = [{**row, "outcome": "bleeding"} for row in trial_rows(6, seed=3)]
    approval = {"approved_by": "bob", "approved_on": "2026-11-30"}
    folder.mkdir(parents=True)
    with open(folder / "extraction.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, [*COLUMNS, *approval])
        writer.writeheader()
        writer.writerows(row | approval for row in many + few)
    review = {
        "id": "synthetic",
        "convention": "revman5",
        "outcomes": [
            {"name": "death", "label": "Death", "analyses": {"covariates": ["year"]}},
            {"name": "bleeding", "label": "Bleeding", "measure": "RR"},
        ],
    }
    (root / "config" / "config.yaml").write_text(yaml.safe_dump({"reviews": [review]}))
    targets = ["results/synthetic/summary.md", "results/synthetic/death/bubble.png"]
    targets += [
        f"results/synthetic/{o}/funnel.{e}"
        for o in ("death", "bleeding")
        for e in ("png", "svg", "pdf")
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *targets],
        cwd=root, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = root / "results" / "synthetic"
    death = json.loads((results / "death" / "pooled.json").read_text())
    bleeding = json.loads((results / "bleeding" / "pooled.json").read_text())
    assert death["small_study_effects"]["assessed"] and death["small_study_effects"]["tests"]
    assert death["zero_event_panel"]["double_zero_studies"] == 1
    assert death["meta_regression"]["covariates"] == ["year"]
    assert bleeding["small_study_effects"]["note"] == "not assessed (k < 10)"
    assert bleeding["zero_event_panel"] is None and bleeding["meta_regression"] is None
    summary = (results / "summary.md").read_text()
    assert "## Death: analyses beyond pooling" in summary
    assert "Small-study effects (11 studies)." in summary  # the double-zero study left out
    assert "## Bleeding: analyses beyond pooling" in summary
    assert "Small-study effects: not assessed (k < 10)." in summary
    assert (results / "death" / "bubble.png").read_bytes().startswith(b"\x89PNG")
