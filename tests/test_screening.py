"""Screening: the append-only queue, decision validation, dual-review states, kappa, PRISMA
counts and the append-only study list."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohens_kappa

from livingmeta.config import Review, load_schema
from livingmeta.retrieval.candidate_export import COLUMNS
from livingmeta.screening import DECISIONS, ROLES, STAGES
from livingmeta.screening.decisions import (
    DECISION_COLUMNS,
    WITHDRAW,
    append_decision,
    load_decisions,
)
from livingmeta.screening.kappa import cohens_kappa, pair_kappa
from livingmeta.screening.queue import QUEUE_COLUMNS, append_to_queue, read_queue
from livingmeta.screening.settings import DEFAULT_EXCLUSION_REASONS, ScreeningSettings
from livingmeta.screening.status import screening_status
from livingmeta.screening.studies import DECISION_COLUMNS as STUDY_DECISION_COLUMNS
from livingmeta.screening.studies import (
    STUDY_COLUMNS,
    first_author_family,
    propose_study_id,
    read_studies,
    update_studies,
)
from livingmeta.validation import InputError

REASONS = ("wrong population", "wrong design", "other")
HEADER = ",".join(DECISION_COLUMNS) + "\n"
KAPPA_TOL = 1e-12  # both sides compute the same closed formula in double precision


def cand(record_id, status="new", **fields):
    """A candidate row as ``candidate_rows`` returns it (lists and booleans unjoined)."""
    row = {col: "" for col in COLUMNS}
    row.update(
        cluster_id=f"c-{record_id}",
        status=status,
        record_id=record_id,
        source=record_id.split(":")[0],
        title=f"Trial {record_id}",
        abstract="Background. Methods.",
        year=2020,
        journal="Stroke",
        authors=["Smith J", "Doe A"],
        pmids=[record_id.split(":")[1]],
        dois=[],
        nct_ids=[],
        other_ids=[],
        record_ids=[record_id],
        sources=[record_id.split(":")[0]],
        existing_record_ids=[],
        links=[],
        first_seen="run1",
        retracted=False,
    )
    row.update(fields)
    return row


def make_queue(tmp_path, *rows, run_id="run1"):
    path = tmp_path / "screening" / "queue.csv"
    append_to_queue(path, list(rows), run_id)
    return path


def decisions(tmp_path, body, queue_ids=None, reasons=REASONS):
    path = tmp_path / "screening" / "decisions.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + body, encoding="utf-8")
    return load_decisions(path, reasons, queue_ids)


def problems_of(tmp_path, body, queue_ids=None):
    with pytest.raises(InputError) as info:
        decisions(tmp_path, body, queue_ids)
    return [(p.row, p.column) for p in info.value.problems], info.value


# -- queue ----------------------------------------------------------------------------------


def test_queue_is_created_with_header_and_joined_lists(tmp_path):
    path = make_queue(tmp_path, cand("pubmed:1", dois=["10.1/x"], retracted=True))
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(QUEUE_COLUMNS)
    queue = read_queue(path)
    row = queue.iloc[0]
    assert list(queue.columns) == list(QUEUE_COLUMNS)
    assert row["authors"] == "Smith J; Doe A" and row["retracted"] == "yes"
    assert row["queued_in"] == "run1" and row["year"] == "2020" and row["dois"] == "10.1/x"


def test_rerun_appends_nothing_and_keeps_bytes(tmp_path):
    rows = [cand("pubmed:1"), cand("pubmed:2")]
    path = make_queue(tmp_path, *rows)
    before = path.read_bytes()
    assert append_to_queue(path, rows, "run2") == 0
    assert path.read_bytes() == before


def test_append_keeps_existing_bytes_exactly_and_adds_only_new(tmp_path):
    path = make_queue(tmp_path, cand("pubmed:1"), cand("pubmed:2"))
    before = path.read_bytes()
    added = append_to_queue(path, [cand("pubmed:2"), cand("pubmed:3"), cand("pubmed:3")], "run2")
    after = path.read_bytes()
    assert added == 1
    assert after.startswith(before)
    queue = read_queue(path)
    assert list(queue["record_id"]) == ["pubmed:1", "pubmed:2", "pubmed:3"]
    assert list(queue["queued_in"]) == ["run1", "run1", "run2"]


def test_reviewer_edits_extra_columns_and_line_endings_are_preserved(tmp_path):
    path = make_queue(tmp_path, cand("pubmed:1"), cand("pubmed:2"))
    lines = path.read_text(encoding="utf-8").splitlines()
    # A reviewer adds a column, edits a title, saves with CRLF and no final newline.
    lines[0] += ",my_flag"
    lines[1] = lines[1].replace("Trial pubmed:1", "Trial one (edited)") + ",check"
    lines[2] += ","
    edited = "\r\n".join(lines).encode("utf-8")
    path.write_bytes(edited)
    assert append_to_queue(path, [cand("pubmed:1"), cand("pubmed:3")], "run2") == 1
    after = path.read_bytes()
    assert after.startswith(edited)
    assert after[len(edited) :].startswith(b"\r\n") and after.endswith(b"\r\n")
    queue = read_queue(path)
    assert list(queue["record_id"]) == ["pubmed:1", "pubmed:2", "pubmed:3"]
    assert queue["title"].iloc[0] == "Trial one (edited)"
    assert list(queue["my_flag"]) == ["check", "", ""]
    assert queue["queued_in"].iloc[2] == "run2"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(1, 8), max_size=5), min_size=1, max_size=4))
def test_queue_only_grows_in_first_seen_order(tmp_path_factory, batches):
    path = tmp_path_factory.mktemp("queue") / "queue.csv"
    seen: list[int] = []
    for run, batch in enumerate(batches):
        before = path.read_bytes() if path.exists() else b""
        added = append_to_queue(path, [cand(f"pubmed:{n}") for n in batch], f"run{run}")
        new = [n for n in dict.fromkeys(batch) if n not in seen]
        assert added == len(new)
        seen += new
        assert not path.exists() or path.read_bytes().startswith(before)
    queue = read_queue(path)
    assert list(queue["record_id"]) == [f"pubmed:{n}" for n in seen]


def test_linked_candidate_is_queued_with_its_link(tmp_path):
    path = make_queue(tmp_path, cand("pubmed:1"))
    linked = cand("pubmed:9", status="linked_to_existing", existing_record_ids=["pubmed:1"])
    assert append_to_queue(path, [linked], "run2") == 1
    row = read_queue(path).iloc[1]
    assert row["status"] == "linked_to_existing" and row["existing_record_ids"] == "pubmed:1"


def test_failed_write_leaves_queue_unchanged(tmp_path, monkeypatch):
    path = make_queue(tmp_path, cand("pubmed:1"))
    before = path.read_bytes()

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        append_to_queue(path, [cand("pubmed:2")], "run2")
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["queue.csv"]


def test_read_queue_missing_file_and_bad_keys(tmp_path):
    assert read_queue(tmp_path / "none.csv").empty
    path = tmp_path / "queue.csv"
    path.write_text("record_id,title\npubmed:1,A\n,B\npubmed:1,C\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_queue(path)
    assert [(p.row, p.column) for p in info.value.problems] == [(3, "record_id"), (4, "record_id")]
    path.write_text("id,title\n1,A\n", encoding="utf-8")
    with pytest.raises(InputError, match="'record_id': column missing"):
        append_to_queue(path, [cand("pubmed:2")], "run2")


# -- decisions ------------------------------------------------------------------------------


def test_valid_decisions_are_normalised(tmp_path):
    frame = decisions(
        tmp_path,
        "pubmed:1,title_abstract,alice,Include,,2026-01-02,,\n"
        "pubmed:1,full_text,alice,exclude,Wrong Population,2026-01-03,independent,seen pdf\n"
        "pubmed:1,full_text,alice,exclude,other,,consensus,\n",
        queue_ids={"pubmed:1"},
    )
    assert list(frame["decision"]) == ["include", "exclude", "exclude"]
    assert list(frame["role"]) == ["independent", "independent", "consensus"]
    assert frame["reason"].iloc[1] == "wrong population"
    assert list(frame["row"]) == [2, 3, 4]


def test_every_decision_problem_is_reported_with_row_and_column(tmp_path):
    found, error = problems_of(
        tmp_path,
        "pubmed:1,title_abstract,alice,include,,2026-01-02,,\n"  # 2 ok
        "pubmed:404,title_abstract,alice,include,,,,\n"  # 3 unknown record
        "pubmed:1,abstract,bob,include,,,,\n"  # 4 bad stage
        "pubmed:1,title_abstract,bob,yes,,,,\n"  # 5 bad decision
        "pubmed:2,title_abstract,bob,exclude,,02/01/2026,chair,\n"  # 6 bad date and role
        "pubmed:2,full_text,bob,exclude,,2026-02-30,,\n"  # 7 reason missing, impossible date
        "pubmed:2,full_text,carol,exclude,too small,,,\n"  # 8 unknown reason
        "pubmed:2,full_text,dan,include,other,,,\n"  # 9 reason with include
        "pubmed:1,title_abstract,alice,exclude,,,independent,\n"  # 10 duplicate of row 2
        "pubmed:1,title_abstract,alice,exclude,,,consensus,\n"  # 11 ok: consensus
        ",title_abstract,,include,,,,\n",  # 12 empty record and reviewer
        queue_ids={"pubmed:1", "pubmed:2"},
    )
    assert found == [
        (3, "record_id"),
        (4, "stage"),
        (5, "decision"),
        (6, "role"),
        (6, "date"),
        (7, "date"),
        (7, "reason"),
        (8, "reason"),
        (9, "reason"),
        (10, "reviewer"),
        (12, "record_id"),
        (12, "reviewer"),
    ]
    text = str(error)
    assert text.startswith("12 problems found:")
    assert "decisions.csv, row 3, column 'record_id': unknown record 'pubmed:404'" in text
    assert "first at row 2" in text
    assert "required when excluding at full_text" in text


def test_decisions_missing_columns_and_missing_file(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("record_id,reviewer\npubmed:1,alice\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_decisions(path, REASONS, None)
    assert [p.column for p in info.value.problems] == ["stage", "decision"]
    assert load_decisions(tmp_path / "none.csv", REASONS, None).empty


def test_append_decision_creates_then_appends_keeping_edits(tmp_path):
    path = tmp_path / "screening" / "decisions.csv"
    append_decision(path, "pubmed:1", "title_abstract", "alice", "include", date="2026-01-02")
    assert path.read_text(encoding="utf-8") == (
        HEADER + "pubmed:1,title_abstract,alice,include,,2026-01-02,independent,\n"
    )
    edited = (
        path.read_bytes().replace(b"include,,2026", b"maybe,,2026")
        + b'pubmed:2,title_abstract,bob,exclude,,,,"a, note"'
    )
    path.write_bytes(edited)
    append_decision(path, "pubmed:2", "full_text", "alice", "exclude", "other", date="2026-01-05")
    assert path.read_bytes().startswith(edited)
    frame = load_decisions(path, REASONS, {"pubmed:1", "pubmed:2"})
    assert list(frame["decision"]) == ["maybe", "exclude", "exclude"]
    assert frame["note"].iloc[1] == "a, note" and frame["reason"].iloc[2] == "other"
    with pytest.raises(ValueError, match="decision"):
        append_decision(path, "pubmed:2", "full_text", "alice", "reject")


def test_concurrent_screening_sessions_lose_no_decision(tmp_path):
    path = tmp_path / "screening" / "decisions.csv"

    def session(reviewer):
        for i in range(20):
            append_decision(path, f"r{i}", "title_abstract", reviewer, "include", date="2026-01-01")

    threads = [threading.Thread(target=session, args=(r,)) for r in ("alice", "bob", "carol")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(load_decisions(path, REASONS, None)) == 60


# -- states ---------------------------------------------------------------------------------


def queue_of(*ids, linked=None):
    linked = linked or {}
    rows = []
    for record_id in ids:
        row = {col: "" for col in QUEUE_COLUMNS}
        row.update(record_id=record_id, status="new", title=f"T {record_id}", year="2020")
        row.update(authors="Smith J; Doe A", record_ids=record_id)
        if record_id in linked:
            row.update(status="linked_to_existing", existing_record_ids=linked[record_id])
        rows.append(row)
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS)


def ta(record, reviewer, decision, reason="", role=""):
    return f"{record},title_abstract,{reviewer},{decision},{reason},,{role},\n"


def ft(record, reviewer, decision, reason="", role=""):
    return f"{record},full_text,{reviewer},{decision},{reason},,{role},\n"


def test_dual_review_states(tmp_path):
    body = (
        ta("r1", "alice", "include") + ta("r1", "bob", "include")  # agree include
        + ta("r2", "alice", "exclude") + ta("r2", "bob", "exclude", "other")  # agree exclude
        + ta("r3", "alice", "include") + ta("r3", "bob", "exclude")  # conflict
        + ta("r4", "alice", "include") + ta("r4", "bob", "exclude")
        + ta("r4", "carol", "exclude", role="consensus")  # consensus settles
        + ta("r5", "alice", "include")  # pending: one decision
        + ta("r7", "alice", "maybe") + ta("r7", "bob", "include")  # maybe advances
        + ta("r8", "alice", "maybe") + ta("r8", "bob", "exclude")  # maybe vs exclude: conflict
        + ft("r1", "alice", "include") + ft("r1", "bob", "maybe")  # maybe at FT: undecided
        + ft("r7", "alice", "exclude", "wrong design") + ft("r7", "bob", "exclude", "wrong design")
        + ft("r2", "alice", "include") + ft("r2", "bob", "include")  # r2 never reached FT
    )  # fmt: skip
    ids = ["r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"]
    status = screening_status(queue_of(*ids), decisions(tmp_path, body, set(ids)), 2)
    states = {r: status.state(r, "title_abstract") for r in ids}
    assert states == {
        "r1": "included", "r2": "excluded", "r3": "conflict", "r4": "excluded",
        "r5": "pending", "r6": "pending", "r7": "included", "r8": "conflict",
    }  # fmt: skip
    assert status.state("r1", "full_text") == "pending"
    assert status.summary["full_text"].maybe_by_reviewer == {"bob": 1}
    assert status.summary["full_text"].pending_by_reviewer == {"alice": 0, "bob": 0}
    assert status.state("r7", "full_text") == "excluded"
    assert status.state("r2", "full_text") is None and status.state("r3", "full_text") is None
    conflicts = {(c.record_id, c.stage): [str(v) for v in c.votes] for c in status.conflicts}
    assert conflicts == {
        ("r3", "title_abstract"): ["alice: include", "bob: exclude"],
        ("r8", "title_abstract"): ["alice: maybe", "bob: exclude"],
    }
    ta_sum = status.summary["title_abstract"]
    assert ta_sum.pending_by_reviewer == {"alice": 1, "bob": 2}  # r5 (bob), r6 (both)
    assert status.included_reports == ()


def test_required_reviewers_and_consensus_edge_cases(tmp_path):
    body = (
        ta("r1", "alice", "include")
        + ta("r2", "alice", "include") + ta("r2", "bob", "include")
        + ta("r3", "alice", "include") + ta("r3", "x", "include", role="consensus")
        + ta("r3", "y", "exclude", role="consensus")  # consensus rows disagree
        + ft("r2", "alice", "include") + ft("r2", "bob", "include")
        + ft("r2", "chair", "maybe", role="consensus")  # consensus maybe at FT settles nothing
    )  # fmt: skip
    frame = decisions(tmp_path, body)
    one = screening_status(queue_of("r1", "r2", "r3"), frame, 1)
    assert one.state("r1", "title_abstract") == "included"
    three = screening_status(queue_of("r1", "r2", "r3"), frame, 3)
    assert three.state("r2", "title_abstract") == "pending"
    two = screening_status(queue_of("r1", "r2", "r3"), frame, 2)
    assert two.state("r3", "title_abstract") == "conflict"
    assert two.state("r2", "full_text") == "included"
    assert [r.record_id for r in two.included_reports] == ["r2"]
    only_ft = screening_status(queue_of("r1", "r2", "r3"), frame, 2, stages=("full_text",))
    assert only_ft.state("r1", "full_text") == "pending"
    assert only_ft.state("r1", "title_abstract") is None
    assert only_ft.prisma["records_screened"] is None


def test_prisma_counts_with_reasons(tmp_path):
    ids = [f"r{i}" for i in range(1, 9)]
    body = "".join(ta(r, "alice", "include") + ta(r, "bob", "include") for r in ids[:5])
    body += ta("r6", "alice", "exclude", "other") + ta("r6", "bob", "exclude")
    body += ta("r7", "alice", "exclude") + ta("r7", "bob", "exclude")
    body += ft("r1", "alice", "include") + ft("r1", "bob", "include")
    body += ft("r2", "alice", "exclude", "wrong design") + ft(
        "r2", "bob", "exclude", "wrong design"
    )
    body += ft("r3", "alice", "exclude", "wrong design") + ft("r3", "bob", "exclude", "other")
    body += ft("r3", "chair", "exclude", "wrong population", role="consensus")
    body += ft("r4", "alice", "exclude", "other") + ft("r4", "bob", "exclude", "other")
    status = screening_status(queue_of(*ids), decisions(tmp_path, body), 2, reasons=REASONS)
    assert status.prisma == {
        "records_screened": 7,
        "records_excluded": 2,
        "reports_assessed": 4,
        "reports_excluded": 3,
        "reports_excluded_by_reason": {"wrong population": 1, "wrong design": 1, "other": 1},
        "reports_included": 1,
        "reports_of_existing_studies": 0,
    }
    # Reasons in configured order (as PRISMA lists them), not by count.
    order = list(status.prisma["reports_excluded_by_reason"])
    assert order == ["wrong population", "wrong design", "other"]
    assert status.summary["title_abstract"].excluded_by_reason == {
        "other": 1, "(no reason given)": 1,
    }  # fmt: skip
    ft_sum = status.summary["full_text"]
    assert (ft_sum.eligible, ft_sum.pending) == (5, 1)
    assert status.to_dict()["stages"]["full_text"]["excluded"] == 3


def test_linked_report_is_reported_as_linked(tmp_path):
    body = "".join(
        s(r, who, "include") for r in ("r1", "r2") for s in (ta, ft) for who in ("alice", "bob")
    )
    queue = queue_of("r1", "r2", linked={"r2": "r1; r0"})
    status = screening_status(queue, decisions(tmp_path, body), 2)
    assert [(r.record_id, r.linked_to) for r in status.included_reports] == [
        ("r1", ()),
        ("r2", ("r1", "r0")),
    ]
    assert status.prisma["reports_of_existing_studies"] == 1


# -- kappa ----------------------------------------------------------------------------------


def test_cohens_kappa_matches_statsmodels_and_hand_value():
    table = [[20, 5], [10, 15]]
    # p_o = 35/50 = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4
    assert cohens_kappa(table) == pytest.approx(0.4, abs=KAPPA_TOL)
    assert cohens_kappa(table) == pytest.approx(
        sm_cohens_kappa(np.array(table)).kappa, abs=KAPPA_TOL
    )
    odd = [[7, 2], [1, 3]]
    assert cohens_kappa(odd) == pytest.approx(sm_cohens_kappa(np.array(odd)).kappa, abs=KAPPA_TOL)
    assert cohens_kappa([[4, 0], [0, 0]]) is None  # one category only: undefined
    assert cohens_kappa([[0, 0], [0, 0]]) is None


def test_stage_kappa_uses_the_pair_with_most_shared_records(tmp_path):
    a = ["include", "include", "include", "exclude", "exclude", "maybe"]
    b = ["include", "exclude", "include", "exclude", "include", "include"]
    body = "".join(
        ta(f"r{i}", "alice", x) + ta(f"r{i}", "bob", y)
        for i, (x, y) in enumerate(zip(a, b, strict=True))
    )
    body += ta("r0", "carol", "include") + ta("r1", "carol", "exclude")
    ids = [f"r{i}" for i in range(6)]
    status = screening_status(queue_of(*ids), decisions(tmp_path, body), 2)
    kappa = status.kappa["title_abstract"]
    assert kappa.reviewers == ("alice", "bob") and kappa.n == 6
    # maybe counts as include at title_abstract: alice I,I,I,E,E,I vs bob I,E,I,E,I,I
    table = np.array([[3, 1], [1, 1]])
    # p_o = 4/6; p_e = (4/6)(4/6) + (2/6)(2/6) = 20/36; kappa = (24/36 - 20/36)/(16/36) = 0.25
    assert kappa.kappa == pytest.approx(0.25, abs=KAPPA_TOL)
    assert kappa.kappa == pytest.approx(sm_cohens_kappa(table).kappa, abs=KAPPA_TOL)
    assert status.kappa["full_text"].kappa is None and status.kappa["full_text"].n == 0


def test_kappa_pair_ties_break_by_name():
    votes = {
        "zoe": {"r1": "include", "r2": "exclude"},
        "amy": {"r1": "include", "r2": "exclude"},
        "bob": {"r3": "include", "r4": "exclude"},
        "cat": {"r3": "include", "r4": "include"},
    }
    assert pair_kappa(votes) == pair_kappa(dict(reversed(votes.items())))
    assert pair_kappa(votes).reviewers == ("amy", "zoe") and pair_kappa(votes).kappa == 1.0


def test_kappa_needs_two_shared_decisions(tmp_path):
    body = ta("r1", "alice", "include") + ta("r1", "bob", "exclude") + ta("r2", "alice", "include")
    status = screening_status(queue_of("r1", "r2"), decisions(tmp_path, body), 2)
    assert status.kappa["title_abstract"].kappa is None
    assert status.kappa["title_abstract"].n == 1


# -- studies --------------------------------------------------------------------------------


def included_status(tmp_path, queue, ids):
    body = "".join(s(r, who, "include") for r in ids for s in (ta, ft) for who in ("alice", "bob"))
    return screening_status(queue, decisions(tmp_path, body), 2)


def studies_queue():
    q = queue_of("pubmed:1", "pubmed:2", "pubmed:3", "ctgov:NCT1", "pubmed:5")
    q.loc[0, ["authors", "year", "record_ids"]] = [
        "Prémat K; Lenck S",
        "2020",
        "pubmed:1; embase:9",
    ]
    q.loc[1, ["authors", "year"]] = ["Premat K", "2020"]
    q.loc[2, ["authors", "year", "retracted"]] = ["Van der Berg JH", "2019", "yes"]
    q.loc[3, ["authors", "year", "nct_ids"]] = ["", "", "NCT1"]
    q.loc[4, ["status", "existing_record_ids"]] = ["linked_to_existing", "embase:9"]
    return q


def test_studies_are_appended_with_unique_proposed_ids(tmp_path):
    queue = studies_queue()
    ids = list(queue["record_id"])
    status = included_status(tmp_path, queue, ids)
    path = tmp_path / "studies.csv"
    update = update_studies(path, status, queue, "run7")
    assert [s["study_id"] for s in update.new_studies] == [
        "premat2020", "premat2020a", "vanderberg2019", "nct1",
    ]  # fmt: skip
    assert [(r.record_id, r.study_id) for r in update.new_reports_of_existing] == [
        ("pubmed:5", "premat2020")
    ]
    studies = read_studies(path)
    assert list(studies.columns) == list(STUDY_COLUMNS)
    first = studies.iloc[0]
    assert (first["study_label"], first["year"], first["record_ids"]) == (
        "Prémat 2020", "2020", "pubmed:1; embase:9",
    )  # fmt: skip
    assert first["included_in"] == "run7" and first["exclude_retracted"] == ""
    assert "retracted" in studies.iloc[2]["notes"]
    assert studies.iloc[3]["study_label"] == "NCT1"
    # A rerun appends nothing and still reports the linked report.
    before = path.read_bytes()
    again = update_studies(path, status, queue, "run8")
    assert again.new_studies == () and len(again.new_reports_of_existing) == 1
    assert path.read_bytes() == before


def test_studies_keep_human_edits_and_avoid_taken_ids(tmp_path):
    path = tmp_path / "studies.csv"
    edited = (
        ",".join(STUDY_COLUMNS) + ",extra\r\n"
        'premat2020,Premat 2020 (edited),2020,pubmed:77,manual,yes,"checked, ok",x'
    ).encode()
    path.write_bytes(edited)
    queue = queue_of("pubmed:2")
    queue.loc[0, ["authors", "year"]] = ["Premat K", "2020"]
    update = update_studies(path, included_status(tmp_path, queue, ["pubmed:2"]), queue, "run2")
    assert [s["study_id"] for s in update.new_studies] == ["premat2020a"]
    after = path.read_bytes()
    assert after.startswith(edited) and after.endswith(b"\r\n")
    studies = read_studies(path)
    assert list(studies["study_id"]) == ["premat2020", "premat2020a"]
    assert studies["notes"].iloc[0] == "checked, ok" and studies["extra"].iloc[1] == ""


def test_linked_report_of_study_already_listed_is_reported_not_written(tmp_path):
    path = tmp_path / "studies.csv"
    path.write_text(",".join(STUDY_COLUMNS) + "\nsmith2018,Smith 2018,2018,pubmed:1,r1,,\n")
    before = path.read_bytes()
    queue = queue_of("pubmed:8", linked={"pubmed:8": "pubmed:1"})
    update = update_studies(path, included_status(tmp_path, queue, ["pubmed:8"]), queue, "run3")
    assert update.new_studies == ()
    assert [(r.record_id, r.study_id) for r in update.new_reports_of_existing] == [
        ("pubmed:8", "smith2018")
    ]
    assert path.read_bytes() == before


def test_linked_report_without_listed_study_gets_a_row_with_a_note(tmp_path):
    queue = queue_of("pubmed:8", linked={"pubmed:8": "pubmed:1"})
    path = tmp_path / "studies.csv"
    update = update_studies(path, included_status(tmp_path, queue, ["pubmed:8"]), queue, "run3")
    assert [s["study_id"] for s in update.new_studies] == ["smith2020"]
    assert "further report of pubmed:1" in update.new_studies[0]["notes"]


def test_studies_file_validation_reports_every_problem(tmp_path):
    path = tmp_path / "studies.csv"
    path.write_text(
        ",".join(STUDY_COLUMNS) + "\n"
        "a2020,A 2020,2020,pubmed:1,r1,,\n"
        "A2020,A 2020,20x0,pubmed:2,r1,maybe,\n"
        ",B,2021,pubmed:1,r1,,\n"
    )
    with pytest.raises(InputError) as info:
        read_studies(path)
    assert [(p.row, p.column) for p in info.value.problems] == [
        (3, "study_id"), (3, "year"), (3, "exclude_retracted"), (4, "study_id"), (4, "record_ids"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("authors", "family"),
    [
        ("Premat K; Lenck S", "Premat"),
        ("Van der Berg JH", "Van der Berg"),
        ("MR CLEAN Investigators", "MR CLEAN Investigators"),
        ("Smith", "Smith"),
        ("", ""),
        ("Eloubeidi M.A.; Khoury T.", "Eloubeidi"),  # Embase's dotted initials
        ("de Hoon J.-P.", "de Hoon"),
    ],
)
def test_first_author_family(authors, family):
    assert first_author_family(authors) == family


def test_propose_study_id():
    assert propose_study_id("Müller-Lüdenscheidt", "2021", set()) == "mullerludenscheidt2021"
    assert propose_study_id("Smith", "2020", {"Smith2020", "smith2020a"}) == "smith2020b"
    assert propose_study_id("", "", set()) == "study"


# -- settings and schemas -------------------------------------------------------------------


def review(spec):
    return Review("demo", "Demo", Path("reviews/demo"), Path("x"), Path("y"), (), spec)


def test_settings_defaults_and_custom():
    default = ScreeningSettings.from_review(review({"id": "demo"}))
    assert default.reviewers_required == 2 and default.stages == STAGES
    assert default.exclusion_reasons == DEFAULT_EXCLUSION_REASONS
    assert default.decisions == Path("reviews/demo/screening/decisions.csv")
    assert default.studies == Path("reviews/demo/studies.csv")
    custom = ScreeningSettings.from_review(
        review({"screening": {"reviewers_required": 1, "exclusion_reasons": ["a", "b"],
                              "stages": ["full_text"]}})
    )  # fmt: skip
    assert (custom.reviewers_required, custom.exclusion_reasons, custom.stages) == (
        1, ("a", "b"), ("full_text",),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("screening", "key"),
    [
        ({"reviewers_required": 0}, "reviewers_required"),
        ({"exclusion_reasons": []}, "exclusion_reasons"),
        ({"exclusion_reasons": ["a", "A"]}, "exclusion_reasons"),
        ({"stages": ["abstract"]}, "stages"),
    ],
)
def test_settings_name_the_bad_key(screening, key):
    with pytest.raises(ValueError, match=rf"reviews\[demo\]\.screening\.{key}"):
        ScreeningSettings.from_review(review({"screening": screening}))


def test_schemas_document_the_columns_the_code_uses():
    d = load_schema("decisions.schema.yaml")["properties"]
    assert tuple(d) == DECISION_COLUMNS
    assert tuple(d["stage"]["enum"]) == STAGES
    assert tuple(d["decision"]["enum"]) == (*DECISIONS, WITHDRAW)
    assert set(d["role"]["enum"]) == {"", *ROLES} and d["role"]["default"] == "independent"
    studies = (*STUDY_COLUMNS, *STUDY_DECISION_COLUMNS)
    assert tuple(load_schema("studies.schema.yaml")["properties"]) == studies
    assert tuple(load_schema("queue.schema.yaml")["properties"]) == QUEUE_COLUMNS
    for name in ("decisions", "studies", "queue"):
        for column, spec in load_schema(f"{name}.schema.yaml")["properties"].items():
            assert spec.get("description"), (name, column)


def test_update_screening_runs_the_steps_in_order(tmp_path):
    from livingmeta.screening.update import update_screening

    folder = tmp_path / "reviews" / "demo"
    rev = Review("demo", "Demo", folder, folder / "x.csv", folder / "r", (), {"id": "demo"})
    first = update_screening(rev, [cand("pubmed:1"), cand("pubmed:2")], "run1")
    assert first.queued == 2 and first.studies.new_studies == ()
    for stage in STAGES:
        for who in ("alice", "bob"):
            append_decision(folder / "screening/decisions.csv", "pubmed:1", stage, who, "include")
    second = update_screening(rev, [cand("pubmed:2"), cand("pubmed:3")], "run2")
    assert second.queued == 1
    assert [s["study_id"] for s in second.studies.new_studies] == ["smith2020"]
    obj = second.to_dict()
    assert obj["queued_this_run"] == 1 and obj["prisma"]["reports_included"] == 1
    assert read_studies(folder / "studies.csv")["included_in"].tolist() == ["run2"]
