"""The run report: PRISMA counts and diagram, estimate comparisons, history, HTML page.

Figures are inspected through their artists (texts and their renderer bounding boxes),
the HTML through its source: what must be escaped is, and nothing is fetched from the
network when the page is opened.
"""

from __future__ import annotations

import copy
import json
import re
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from livingmeta.plots.save import render
from livingmeta.report import (
    assemble_counts,
    build_changes,
    compare_estimates,
    history_figure,
    history_row,
    prisma_figure,
    read_history,
    render_run_report,
    update_history,
    validate_counts,
    write_run_report,
)
from livingmeta.report.prisma import figure_texts

# ---------------------------------------------------------------------- PRISMA

REFERENCE = {  # the reference review's paper: 1168 records, 25 full texts, 4 studies
    "previous": None,
    "identified": {"PubMed": 812, "Cochrane CENTRAL": 316, "ClinicalTrials.gov": 40},
    "duplicates_removed": 20,
    "records_removed_other": 0,
    "screened": 1148,
    "excluded_screening": 1123,
    "reports_sought": 25,
    "reports_not_retrieved": 0,
    "reports_assessed": 25,
    "excluded_full_text": {"no control group": 12, "tandem occlusion": 5, "other": 4},
    "new_studies": 4,
    "new_reports": 4,
}

UPDATE = {
    "previous": {"studies": 4, "reports": 5},
    "identified": {"PubMed": 57, "ClinicalTrials.gov": 6},
    "duplicates_removed": 3,
    "records_removed_automation": 1,
    "records_removed_other": 2,
    "screened": 57,
    "excluded_screening": 50,
    "reports_sought": 7,
    "reports_not_retrieved": 1,
    "reports_assessed": 6,
    "excluded_full_text": {
        "no control group": 2,
        "stenting used as the first-line treatment rather than as a rescue strategy after a "
        "failed thrombectomy, in a mixed cohort of anterior and posterior circulation "
        "occlusions without separate results": 1,
        "conference abstract of an already included cohort": 1,
    },
    "new_studies": 1,
    "new_reports": 2,
    "total_studies": 5,
    "total_reports": 7,
}


def test_consistent_counts_pass_and_totals_are_filled_in():
    counts = validate_counts(REFERENCE)
    assert counts["total_studies"] == 4 and counts["total_reports"] == 4
    assert counts["records_removed_automation"] == 0
    assert list(counts["identified"]) == ["PubMed", "Cochrane CENTRAL", "ClinicalTrials.gov"]
    assert validate_counts(UPDATE)["total_reports"] == 7


def test_inconsistent_counts_fail_naming_the_boxes():
    bad = dict(REFERENCE, screened=1150, reports_assessed=24)
    with pytest.raises(ValueError) as err:
        validate_counts(bad)
    message = str(err.value)
    assert "Records screened" in message and "Records identified (1168)" in message
    assert "Reports assessed for eligibility" in message
    assert "Reports sought for retrieval" in message  # 1150 - 1123 != 25 as well
    assert "problems" in message


def test_total_must_add_previous_and_new():
    with pytest.raises(
        ValueError,
        match=r"Total studies included in review is 6, but previous \(4\) \+ new \(1\) = 5",
    ):
        validate_counts(dict(UPDATE, total_studies=6))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"screened": -1}, "'screened' (Records screened) must be a non-negative integer"),
        ({"screened": 1148.0}, "must be a non-negative integer"),
        ({"screened": True}, "must be a non-negative integer"),
        ({"screend": 3}, "unknown keys: 'screend'"),
        ({"identified": {}}, "names no source"),
        ({"identified": {"PubMed": "812"}}, "'PubMed' must be a non-negative integer"),
        ({"new_studies": 5}, "New studies included in review (5) exceed"),
        ({"new_studies": 0}, "but no study included"),
        ({"previous": {"studies": 3}}, "'previous' must be null"),
    ],
)
def test_invalid_counts_are_reported(change, fragment):
    counts = {k: v for k, v in REFERENCE.items() if k not in change} | change
    if "screend" in change:
        counts = dict(REFERENCE, screend=3)
    with pytest.raises(ValueError) as err:
        validate_counts(counts)
    assert fragment in str(err.value)


def _texts(fig: Figure) -> list[Text]:
    return [t for ax in fig.axes for t in ax.texts if t.get_text()] + [
        t for t in fig.texts if t.get_text()
    ]


def _overlaps(texts: list[Text], fig: Figure) -> list[tuple[str, str]]:
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    clashes = []
    for (a, ba), (b, bb) in combinations(boxes, 2):
        w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        if w > 0.5 and h > 0.5:
            clashes.append((a, b))
    return clashes


@pytest.mark.parametrize("counts", [REFERENCE, UPDATE], ids=["new-review", "update"])
def test_diagram_shows_every_count(counts):
    fig = prisma_figure(counts)
    text = "\n".join(figure_texts(fig))
    expected = [
        v
        for k, v in counts.items()
        if isinstance(v, int) and k not in ("records_removed_automation",)
    ]
    expected += list(counts["identified"].values()) + list(counts["excluded_full_text"].values())
    if counts["previous"]:
        expected += list(counts["previous"].values())
    for value in expected:
        assert f"(n = {value})" in text, value
    for name in counts["identified"]:
        assert name in text
    for reason in counts["excluded_full_text"]:
        words = reason.split()
        assert words[0] in text and words[-1] in text
    assert ("Previous studies" in text) == bool(counts["previous"])
    assert ("Total studies included in review" in text) == bool(counts["previous"])


AWAITING = dict(
    UPDATE,
    screened=50,
    records_awaiting_screening=7,
    excluded_screening=43,
    reports_awaiting_assessment=2,
    reports_assessed=4,
    excluded_full_text={"no control group": 2},
)


@pytest.mark.parametrize("counts", [REFERENCE, UPDATE, AWAITING], ids=["new", "update", "awaiting"])
def test_diagram_text_is_legible(counts):
    fig = prisma_figure(counts, title="A title <with> $dollars$ that is long enough to wrap " * 3)
    texts = _texts(fig)
    assert not _overlaps(texts, fig)
    renderer = fig.canvas.get_renderer()
    frame = fig.bbox
    patches = {p.get_label(): p.get_window_extent(renderer) for p in fig.axes[0].patches}
    for t in texts:
        box = t.get_window_extent(renderer)
        assert (
            frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        )
        patch = patches.get(t.get_label())
        if patch is not None:  # a box's text stays inside its box (long reasons wrap)
            assert patch.x0 <= box.x0 and box.x1 <= patch.x1 + 0.5, t.get_text()
            assert patch.y0 <= box.y0 and box.y1 <= patch.y1 + 0.5, t.get_text()


def test_diagram_is_deterministic():
    first = render(prisma_figure(UPDATE), "svg")
    second = render(prisma_figure(copy.deepcopy(UPDATE)), "svg")
    assert first == second


def test_diagram_refuses_inconsistent_counts():
    with pytest.raises(ValueError, match="Records excluded"):
        prisma_figure(dict(REFERENCE, excluded_screening=1000))


def _screening(**change):
    status = {
        "records_screened": 50,
        "records_excluded": 44,
        "reports_assessed": 5,
        "reports_excluded": 3,
        "reports_excluded_by_reason": {"no control group": 2, "(no reason given)": 1},
        "reports_included": 2,
        "reports_of_existing_studies": 1,
    }
    return status | change


def test_counts_assembled_from_retrieval_and_screening():
    runs = [
        {"pubmed": {"identified": 40, "duplicates_removed": 2, "to_screen": 38, "pending": 0}},
        {
            "pubmed": {"identified": 17, "duplicates_removed": 1, "to_screen": 16, "pending": 0},
            "ctgov": {"identified": 6, "duplicates_removed": 0, "to_screen": 6, "pending": 0},
        },
    ]
    counts = assemble_counts(runs, _screening(), previous={"studies": 4, "reports": 4})
    assert counts["identified"] == {"PubMed": 57, "ClinicalTrials.gov": 6}
    assert counts["duplicates_removed"] == 3 and counts["screened"] == 50
    assert counts["records_awaiting_screening"] == 10  # 60 to screen, 50 settled
    assert counts["reports_sought"] == 6 and counts["reports_awaiting_assessment"] == 1
    assert (counts["new_studies"], counts["new_reports"]) == (1, 2)
    assert (counts["total_studies"], counts["total_reports"]) == (5, 6)
    text = "\n".join(figure_texts(prisma_figure(counts)))
    assert "Records awaiting screening (n = 10)" in text
    assert "Reports awaiting assessment (n = 1)" in text


def test_assembling_refuses_unfinished_or_inconsistent_input():
    with pytest.raises(ValueError, match="pending in the registry"):
        assemble_counts({"pubmed": {"identified": 3, "pending": 3}}, _screening())
    small = {"pubmed": {"identified": 30, "duplicates_removed": 0, "to_screen": 30}}
    with pytest.raises(ValueError, match="Records screened is 50"):
        assemble_counts(small, _screening())


# ---------------------------------------------------------------------- compare_estimates


def _res(estimate, low, high, measure="OR", k=4, p=0.03):
    return {
        "measure": measure,
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "k": k,
        "p": p,
        "i2": 0.0,
        "tau2": 0.0,
        "method": "MH",
        "model": "random",
    }


def test_significance_gained():
    c = compare_estimates(_res(0.55, 0.31, 1.02, k=3), _res(0.39, 0.16, 0.93), outcome="m")
    assert c["significance_changed"] and c["significance"] == "gained"
    assert not c["direction_changed"] and c["changed"] and not c["new"]
    assert (c["k_before"], c["k_after"], c["outcome"]) == (3, 4, "m")


def test_significance_lost():
    c = compare_estimates(_res(0.39, 0.16, 0.93), _res(0.55, 0.31, 1.02))
    assert c["significance"] == "lost" and c["significance_changed"] and c["changed"]


def test_direction_flip_on_a_difference_scale():
    c = compare_estimates(_res(-0.5, -1.2, 0.2, "MD"), _res(0.3, -0.4, 1.0, "MD"))
    assert c["direction_changed"] and not c["significance_changed"] and c["changed"]
    assert c["null"] == 0.0 and (c["direction_before"], c["direction_after"]) == (-1, 1)


def test_ratio_null_is_one():
    c = compare_estimates(_res(0.9, 0.5, 1.6), _res(1.1, 0.6, 1.9))
    assert c["null"] == 1.0 and c["direction_changed"] and not c["significance_changed"]
    rd = compare_estimates(None, _res(0.05, 0.01, 0.09, "RD"))
    assert rd["significant_after"] is True


def test_moving_onto_the_null_is_not_a_reversal():
    c = compare_estimates(_res(0.2, -0.1, 0.5, "RD"), _res(0.0, -0.3, 0.3, "RD"))
    assert not c["direction_changed"] and not c["significance_changed"]
    assert c["updated"] and c["changed"]  # the estimate moved: readers are told


def test_new_outcome_and_no_change():
    new = compare_estimates(None, {"result": _res(0.39, 0.16, 0.93)})  # whole pooled.json
    assert new["new"] and new["changed"] and new["k_before"] is None
    same = compare_estimates(_res(0.39, 0.16, 0.93), _res(0.39, 0.16, 0.93))
    assert not same["changed"] and not same["new"] and not same["updated"]
    moved = compare_estimates(_res(0.39, 0.16, 0.93), _res(0.38, 0.16, 0.92))
    assert moved["updated"] and moved["changed"] and not moved["significance_changed"]


def test_no_estimable_study_has_no_significance():
    c = compare_estimates(_res(0.39, 0.16, 0.93), _res(None, None, None, k=0))
    assert c["significant_after"] is None and c["significance"] == "lost"


# ---------------------------------------------------------------------- history


def _row(run, date, outcome="mortality", estimate=0.4, k=4):
    return history_row(run, date, "rs", outcome, _res(estimate, estimate / 2, estimate * 2, k=k))


def test_history_upsert_is_idempotent(tmp_path):
    path = tmp_path / "sub" / "history.csv"
    rows = [_row("r2", "2026-02-01"), _row("r1", "2026-01-01"), _row("r1", "2026-01-01", "sich")]
    first = update_history(path, rows)
    content = path.read_bytes()
    second = update_history(path, rows)
    assert path.read_bytes() == content
    assert len(first) == len(second) == 3
    assert not list(path.parent.glob(".*.tmp"))


def test_history_rerun_replaces_and_orders(tmp_path):
    path = tmp_path / "history.csv"
    update_history(path, [_row("r2", "2026-02-01"), _row("r1", "2026-01-01")])
    frame = update_history(
        path, [_row("r2", "2026-02-01", estimate=0.5, k=5), _row("r0", "2025-12-01")]
    )
    mortality = frame[frame["outcome"] == "mortality"]
    assert list(mortality["run_id"]) == ["r0", "r1", "r2"]
    assert mortality.iloc[-1]["estimate"] == 0.5 and mortality.iloc[-1]["k"] == 5
    back = read_history(path)
    assert list(back.columns) == list(frame.columns)
    assert back["k"].tolist() == frame["k"].tolist()


def test_history_rejects_incomplete_rows(tmp_path):
    path = tmp_path / "history.csv"
    with pytest.raises(ValueError, match="lacks"):
        update_history(path, [{"run_id": "r1"}])
    with pytest.raises(ValueError, match="empty run_id"):
        update_history(path, [_row("", "2026-01-01")])
    assert not path.exists()


def _history(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows, k, est = [], 4, 0.4
    for i in range(n):
        k += int(rng.random() < 0.3)
        est *= float(np.exp(rng.normal(0, 0.05)))
        day = pd.Timestamp("2026-01-01") + pd.Timedelta(days=i)
        rows.append(_row(f"run{i:03d}", f"{day:%Y-%m-%d}", estimate=est, k=k))
    return pd.DataFrame(rows)


def _all_texts(fig: Figure) -> list[Text]:
    texts = _texts(fig)
    for ax in fig.axes:
        texts += [t for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
        texts += [ax.xaxis.label, ax.yaxis.label]
    return texts


@pytest.mark.parametrize("n", [1, 2, 100])
@pytest.mark.parametrize("measure", ["OR", "MD"])
def test_history_figure_is_legible(n, measure):
    frame = _history(n)
    if measure == "MD":
        for col in ("estimate", "ci_low", "ci_high"):
            frame[col] = np.log(frame[col])
    fig = history_figure(frame, "mortality", "Mortality at 90 days", measure)
    fig.canvas.draw()
    assert not _overlaps(_all_texts(fig), fig)
    ax = fig.axes[0]
    assert ax.get_yscale() == ("log" if measure == "OR" else "linear")
    assert any(t.get_label() == "k" and t.get_text().startswith("k = ") for t in ax.texts)
    null = [line for line in ax.lines if line.get_label() == "null"]
    assert null and null[0].get_ydata()[0] == (1.0 if measure == "OR" else 0.0)


def test_history_figure_without_runs():
    fig = history_figure(_history(3), "other", "Other outcome", "RR")
    assert any("No pooled estimate" in t.get_text() for t in fig.axes[0].texts)


# ---------------------------------------------------------------------- run report

XSS = "<script>alert(1)</script>"


def _png() -> bytes:
    fig = Figure(figsize=(1, 1))
    FigureCanvasAgg(fig)
    return render(fig, "png", dpi=20)


def _context(**extra):
    after = _res(0.39, 0.16, 0.93)
    context = {
        "review": {"id": "rs", "title": f"Stenting {XSS}", "question": 'Does "it" work?'},
        "run": {"id": "2026-11-25T0300Z", "date": "2026-11-25", "previous_id": "2026-11-18T0300Z"},
        "software": {"livingmeta": "0.1.0", "python": "3.11.7"},
        "searches": [{"id": "pubmed_rs", "source": "pubmed", "query": f"stent*[tiab] {XSS}"}],
        "retrieval": {
            "searches": [
                {
                    "search_id": "pubmed_rs",
                    "source": "pubmed",
                    "status": "ok",
                    "identified": 3,
                    "total_count": 3,
                    "window_start": "2026-11-15",
                    "window_end": "2026-11-25",
                    "error": None,
                    "query_translation": "stent*[tiab]",
                }
            ],
            "stale": [],
            "changes": [],
            "new_candidates": 0,
            "prisma": {},
        },
        "candidates": [],
        "screening": {"decisions_since_last_run": 0, "conflicts": 0, "newly_included": []},
        "outcomes": [
            {
                "name": "mortality",
                "label": "Mortality",
                "before": copy.deepcopy(after),
                "after": after,
                "forest": _png(),
                "history": _png(),
            }
        ],
        "prisma": UPDATE,
    }
    context.update(extra)
    return context


def _busy_context():
    context = _context()
    context["outcomes"][0]["before"] = _res(0.55, 0.31, 1.02, k=3)
    context["outcomes"].append(
        {"name": "sich", "label": "sICH", "before": None, "after": _res(0.7, 0.4, 1.3)}
    )
    context["candidates"] = [
        {
            "record_id": "pubmed:40000001",
            "status": "new",
            "title": f"Rescue {XSS} stenting",
            "abstract": 'Background "onerror=alert(1) <img src=x onerror=alert(2)>',
            "authors": ['<b>O"Brien</b> A'],
            "year": 2026,
            "journal": "J Neuro & Co",
            "pmids": "40000001",
            "dois": ["10.1136/jnis-2026-1", "javascript:alert(1)"],
            "nct_ids": ["NCT05555555", "NCT<script>"],
            "retracted": False,
        }
    ]
    context["retrieval"]["changes"] = [
        {"kind": "retracted", "record_id": "pubmed:29845367", "before": False, "after": True},
        {
            "kind": "overall_status",
            "record_id": "ctgov:NCT02513394",
            "before": "RECRUITING",
            "after": "COMPLETED",
        },
    ]
    context["retrieval"]["stale"] = [
        {"search_id": "ctgov_rs", "since": "2026-11-10", "failing": True, "error": "boom"}
    ]
    context["retrieval"]["searches"].append(
        {"search_id": "ctgov_rs", "source": "ctgov", "status": "failed", "error": f"down {XSS}"}
    )
    context["screening"] = {
        "decisions_since_last_run": 5,
        "conflicts": 1,
        "newly_included": [{"study_id": "Lee 2026", "pmids": ["40000002"]}],
    }
    return context


def test_html_escapes_untrusted_text():
    html = render_run_report(_busy_context())
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '"onerror=' not in html and "<img src=x" not in html
    assert "<b>O" not in html and "J Neuro &amp; Co" in html
    assert 'href="javascript' not in html
    assert 'href="https://doi.org/10.1136/jnis-2026-1"' in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/40000001/"' in html
    assert 'href="https://clinicaltrials.gov/study/NCT05555555"' in html


def test_html_is_self_contained():
    html = render_run_report(_busy_context())
    sources = re.findall(r'\ssrc="([^"]*)"', html)
    assert len(sources) == 3  # forest and history of one outcome, PRISMA diagram
    assert all(
        s.startswith(("data:image/png;base64,", "data:image/svg+xml;base64,")) for s in sources
    )
    assert 'src="http' not in html and "<link" not in html and "url(" not in html
    assert "@import" not in html and "<script" not in html
    alts = re.findall(r"<img [^>]*>", html)
    assert all(' alt="' in tag for tag in alts)


def test_html_has_every_section():
    html = render_run_report(_busy_context())
    for section in (
        "what-changed",
        "estimates",
        "history",
        "prisma",
        "sources",
        "record-changes",
        "candidates",
        "provenance",
    ):
        assert f'<section id="{section}"' in html
    assert html.count("<h1>") == 1 and '<th scope="col"' in html
    assert "Significance gained" in html and "⚠" in html
    assert "Retracted" in html and "Trial status" in html
    assert "last successful search: 2026-11-10" in html
    assert "stent*[tiab]" in html and "3.11.7" in html
    assert render_run_report(_busy_context()) == html  # deterministic


def test_changes_summarise_the_run(tmp_path):
    changes = build_changes(_busy_context())
    assert changes["review"] == "rs" and changes["run_id"] == "2026-11-25T0300Z"
    assert changes["has_changes"] and changes["needs_attention"]
    assert changes["new_candidates"] == 1 and changes["conflicts"] == 1
    assert [c["kind"] for c in changes["retractions"]] == ["retracted"]
    assert [c["kind"] for c in changes["trial_changes"]] == ["overall_status"]
    assert [(c["outcome"], c["significance"], c["new"]) for c in changes["estimate_changes"]] == [
        ("mortality", "gained", False),
        ("sich", None, True),
    ]
    assert changes["stale_sources"] == [
        {"search_id": "ctgov_rs", "since": "2026-11-10", "failing": True}
    ]
    assert [s["search_id"] for s in changes["failed_sources"]] == ["ctgov_rs"]
    assert changes["invalid_data"] is False
    html_path, json_path = tmp_path / "report.html", tmp_path / "changes.json"
    written = write_run_report(_busy_context(), html_path, json_path)
    assert json.loads(json_path.read_text()) == json.loads(json.dumps(written))
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_nothing_happened():
    context = _context()
    changes = build_changes(context)
    assert changes["has_changes"] is False and changes["needs_attention"] is False
    assert not changes["estimate_changes"] and not changes["retractions"]
    html = render_run_report(context)
    assert "No changes since the last run" in html


def test_an_updated_estimate_is_a_change_on_the_page():
    """New data moved the estimate without changing the conclusion: the "What changed"
    box says so, never "No changes" while ``changes.json`` has changes."""
    context = _context()
    context["outcomes"][0]["before"] = _res(0.45, 0.2, 0.98, k=3)
    changes = build_changes(context)
    assert changes["has_changes"]
    html = render_run_report(context)
    assert "No changes since the last run" not in html
    assert "<b>1</b> estimate updated (conclusion unchanged)" in html


def test_a_change_of_certainty_is_a_change_on_the_page():
    context = _context()
    context["outcomes"][0]["before"]["certainty"] = "low"
    context["outcomes"][0]["after"]["certainty"] = "moderate"
    html = render_run_report(context)
    assert "<b>1</b> change of certainty of the evidence" in html
    assert "No changes since the last run" not in html


def test_invalid_data_and_unpooled_outcome_are_flagged():
    context = _context(invalid_data=True, problems=["extraction.csv, row 7: 60 events exceed 48"])
    context["outcomes"][0]["after"] = None
    changes = build_changes(context)
    assert changes["invalid_data"] and changes["outcomes_not_pooled"] == ["mortality"]
    assert changes["needs_attention"] and not changes["has_changes"]
    html = render_run_report(context)
    assert "Data failed validation" in html and "Not pooled this run" in html


def test_work_still_to_do_is_not_invalid_data():
    """Rows to extract or approve hold nothing invalid: the estimates are updated from
    the approved rows, and the scheduled run must not call the data invalid."""
    pending = ["to extract: li2024 x mortality", "not approved yet: wu2025 x mortality"]
    context = _context(pending=pending)
    changes = build_changes(context)
    assert changes["invalid_data"] is False and changes["needs_attention"] is False
    html = render_run_report(context)
    assert "Data failed validation" not in html
    assert (
        "Waiting for reviewers" in html and "<li>not approved yet: wu2025 x mortality</li>" in html
    )


def test_blocker_lines_name_the_review_and_count_in_words():
    from livingmeta.blockers import blocker_lines, pending_lines

    blockers = {"invalid": ["extraction.csv, row 3: bad"], "missing_rows": [],
                "unapproved_rows": [], "unreconciled_differences": 1, "retracted": []}  # fmt: skip
    assert pending_lines(blockers, "txa") == [
        "1 value differs between extractors (see results/txa/extraction/differences.csv)"
    ]
    assert blocker_lines(blockers | {"unreconciled_differences": 3}, "txa")[:2] == [
        "invalid data: extraction.csv, row 3: bad",
        "3 values differ between extractors (see results/txa/extraction/differences.csv)",
    ]


def test_context_needs_review_and_run():
    with pytest.raises(ValueError, match=r"'run.id' is required"):
        build_changes({"review": {"id": "r", "title": "t"}, "run": {"date": "2026-01-01"}})


def test_changes_follow_the_scheduler_vocabulary():
    context = _context()
    context["retrieval"]["changes"] = [
        {"kind": "errata", "record_id": "pubmed:1", "before": [], "after": ["2"]},
        {"kind": "concerns", "record_id": "pubmed:3", "before": [], "after": ["4"]},
        {"kind": "watch_list_failed", "error": "timeout"},
        {"kind": "missing_from_pubmed", "record_id": "pubmed:5"},
    ]
    changes = build_changes(context)
    assert [c["kind"] for c in changes["retractions"]] == ["errata", "concerns"]
    assert changes["failed_sources"] == [
        {"search_id": "watch_list", "source": None, "error": "timeout"}
    ]
    assert [c["kind"] for c in changes["other_changes"]] == ["missing_from_pubmed"]
    assert changes["has_changes"] and changes["needs_attention"]
    html = render_run_report(context)
    assert "2</b> errata or expressions of concern" in html and "Expression of concern" in html


def test_own_decisions_alone_are_not_news():
    context = _context()
    context["screening"]["decisions_since_last_run"] = 7
    changes = build_changes(context)
    assert not changes["has_changes"] and changes["decisions_since_last_run"] == 7
    assert "7</b> decisions since last run" in render_run_report(context)


def test_long_candidate_lists_are_capped():
    rows = [
        {"record_id": f"pubmed:{i}", "title": f"Record {i}", "pmids": [str(i)]}
        for i in range(1, 251)
    ]
    context = _context(candidates=rows)
    html = render_run_report(context)
    assert build_changes(context)["new_candidates"] == 250
    assert "Record 200<" in html and "Record 201<" not in html
    assert "… and 50 more in the candidates file." in html


def test_decisions_are_counted_since_the_last_archived_run(tmp_path):
    """Runs before any estimate leave no history row: the previous run's date then comes
    from the archived reports, so a second run does not count every decision again."""
    from livingmeta.workflow.report import _archived_before

    for run in ("2026-11-01T030000Z", "2026-11-08T030000Z", "2026-11-15T030000Z"):
        (tmp_path / f"{run}.html").write_text("<!DOCTYPE html>")
    assert _archived_before(tmp_path, "2026-11-15T030000Z") == "2026-11-08"
    assert _archived_before(tmp_path, "2026-11-01T030000Z") is None
    assert _archived_before(tmp_path / "missing", "2026-11-01T030000Z") is None
