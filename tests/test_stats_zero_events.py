"""The zero-event sensitivity panel against metafor (tests/reference/zero_events.json):
``rma`` with 0.5 correction, ``rma.mh`` on raw cells, M-H with the treatment-arm
continuity correction, ``rma.peto``, ``rma.glmm(model = "CM.EL")`` and the M-H RD."""

from __future__ import annotations

import pytest

from livingmeta.stats import BinaryData
from livingmeta.stats.zero_events import PANEL_LABELS, has_zero_events, zero_event_panel
from tests.stats_reference import ITERATIVE_REL_TOL, close, dataset, reference

RESULTS = reference("zero_events")["results"]
# metafor counts double-zero studies in k for rma.mh and rma.peto; they carry no weight.
K_WITH_DOUBLE_ZEROS = {"mh_uncorrected", "peto"}


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_panel_matches_metafor(name):
    rows = {row.name: row for row in zero_event_panel(dataset(name))}
    assert set(rows) == set(PANEL_LABELS)
    for key, expected in RESULTS[name].items():
        row = rows[key]
        # The conditional likelihood's SE is R's numerical Hessian (or missing).
        tol = ITERATIVE_REL_TOL if key == "exact_conditional" else 1e-6
        assert close(row.estimate, expected["estimate"], tol), (key, row.estimate)
        if expected["se"] is not None:
            assert close(row.se, expected["se"], tol), (key, row.se, expected["se"])
            low, high = row.ci
            assert close(low, expected["ci_low"], tol) and close(high, expected["ci_high"], tol)
        if key not in K_WITH_DOUBLE_ZEROS:
            assert row.k == expected["k"], key


def test_zero_events_detected():
    assert has_zero_events(dataset("nielweise2007"))
    assert not has_zero_events(dataset("bcg"))


def test_panel_json_is_on_the_display_scale():
    row = next(r for r in zero_event_panel(dataset("nielweise2007")) if r.name == "peto")
    out = row.to_dict()
    assert out["label"] == "Peto odds ratio"
    assert out["ci_low"] < out["estimate"] < out["ci_high"] < 1


def test_no_informative_study_leaves_out_the_exact_row():
    data = BinaryData(("A", "B"), [0, 0], [10, 12], [0, 0], [11, 9])
    names = {row.name for row in zero_event_panel(data)}
    assert "exact_conditional" not in names and "rd_mh" in names
