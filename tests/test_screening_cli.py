"""``livingmeta screen`` driven with scripted keys, and ``livingmeta status``."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from livingmeta.cli import build_parser
from livingmeta.retrieval.candidate_export import COLUMNS
from livingmeta.screening.decisions import append_decision, load_decisions
from livingmeta.screening.queue import append_to_queue
from livingmeta.screening.settings import DEFAULT_EXCLUSION_REASONS
from livingmeta.validation import InputError

CONFIG = """\
reviews:
  - id: demo
    title: Demo review
    outcomes:
      - name: death
        label: Death
"""
TODAY = dt.date(2026, 3, 4)
DECISIONS = "reviews/demo/screening/decisions.csv"


def cand(record_id, **fields):
    row = {col: [] for col in COLUMNS}
    row.update(
        cluster_id=record_id, status="new", record_id=record_id, source="pubmed",
        title=f"Stenting trial {record_id}", abstract="A randomised trial.\nResults: fewer deaths.",
        year=2021, journal="Stroke", authors=["Smith J"], pmids=[record_id.split(":")[1]],
        record_ids=[record_id], first_seen="run1", retracted=False,
    )  # fmt: skip
    row.update(fields)
    return row


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repo root (the current directory) with a config and three queued records."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(CONFIG)
    rows = [
        cand("pubmed:1", dois=["10.1000/abc"], nct_ids=["NCT01234567"]),
        cand("pubmed:2"),
        cand("pubmed:3", status="linked_to_existing", existing_record_ids=["pubmed:1"]),
    ]
    append_to_queue(tmp_path / "reviews/demo/screening/queue.csv", rows, "run1")
    return tmp_path


def parse(*argv):
    return build_parser().parse_args(list(argv))


def keys(*answers):
    """A scripted key reader; ``None`` once the script is exhausted (end of input)."""
    script = iter(answers)
    prompts = []

    def read(prompt):
        prompts.append(prompt)
        return next(script, None)

    read.prompts = prompts
    return read


def drive(command, answers, reviewer, stage):
    """Run ``command`` (``screen`` or ``resolve``) with scripted keys: (exit code, output)."""
    argv = [command, "--review", "demo", "--reviewer", reviewer]
    if stage:
        argv += ["--stage", stage]
    out = io.StringIO()
    args = parse(*argv)
    code = args.handler(args, read_key=keys(*answers), today=TODAY, out=out)
    return code, out.getvalue()


def screen(*answers, reviewer="alice", stage=None):
    return drive("screen", answers, reviewer, stage)


def rows():
    frame = load_decisions(DECISIONS, DEFAULT_EXCLUSION_REASONS, None)
    return [
        tuple(r)
        for r in frame[
            ["record_id", "stage", "reviewer", "decision", "reason", "date", "role"]
        ].itertuples(index=False)
    ]


def test_screen_appends_each_decision_and_shows_the_record(repo):
    code, out = screen("i", "e", "3", "m")
    assert code == 0
    assert rows() == [
        ("pubmed:1", "title_abstract", "alice", "include", "", "2026-03-04", "independent"),
        (
            "pubmed:2",
            "title_abstract",
            "alice",
            "exclude",
            DEFAULT_EXCLUSION_REASONS[2],
            "2026-03-04",
            "independent",
        ),
        ("pubmed:3", "title_abstract", "alice", "maybe", "", "2026-03-04", "independent"),
    ]
    assert "Stenting trial pubmed:1" in out and "Results: fewer deaths." in out
    assert "https://pubmed.ncbi.nlm.nih.gov/1/" in out
    assert "https://doi.org/10.1000/abc" in out
    assert "https://clinicaltrials.gov/study/NCT01234567" in out
    assert "3 of 3 left at title_abstract" in out and "1 of 3 left" in out
    assert "Further report of a study already queued (pubmed:1)" in out
    assert "Nothing left to screen" in out and "3 decision(s) saved" in out


def test_quit_and_end_of_input_leave_a_valid_file_and_resume(repo):
    code, _ = screen("i", "q")
    assert code == 0 and [r[0] for r in rows()] == ["pubmed:1"]
    code, out = screen("m")  # next session starts at the first undecided record
    assert "record pubmed:1\n" not in out and "record pubmed:2\n" in out
    assert "2 of 3 left" in out
    assert [r[0] for r in rows()] == ["pubmed:1", "pubmed:2"]
    load_decisions(DECISIONS, DEFAULT_EXCLUSION_REASONS, {"pubmed:1", "pubmed:2", "pubmed:3"})


def test_skip_writes_nothing_for_that_record(repo):
    screen("s", "i", "s")
    assert [(r[0], r[3]) for r in rows()] == [("pubmed:2", "include")]


def test_reason_prompt_back_invalid_and_quit(repo):
    code, out = screen("x", "e", "z", "-", "e", "0", "e", "q")
    assert code == 0
    assert "Press i, e, m, s, u or q." in out and "Choose one of" in out
    # "0" = no reason at title/abstract; quitting at the reason prompt writes nothing.
    assert rows() == [
        ("pubmed:1", "title_abstract", "alice", "exclude", "", "2026-03-04", "independent")
    ]


def test_full_text_needs_a_reason_and_shows_only_included_records(repo):
    for who in ("alice", "bob"):
        append_decision(DECISIONS, "pubmed:1", "title_abstract", who, "include")
        append_decision(DECISIONS, "pubmed:2", "title_abstract", who, "exclude")
        append_decision(DECISIONS, "pubmed:3", "title_abstract", who, "exclude")
    code, out = screen("e", "0", "10", "1", stage="full_text")
    assert code == 0
    assert "record pubmed:2\n" not in out and "1 of 1 left at full_text" in out
    assert "0  no reason" not in out and "Choose one of" in out
    assert rows()[-1][:5] == ("pubmed:1", "full_text", "alice", "exclude", "wrong population")
    # The default stage is the first one with records left for the reviewer.
    _, out = screen("q", reviewer="bob")
    assert "record pubmed:1\n" in out and "1 of 1 left at full_text for bob" in out


def test_settled_records_are_not_offered_again(repo):
    for who in ("alice", "bob"):
        append_decision(DECISIONS, "pubmed:1", "title_abstract", who, "include")
    _, out = screen("q", reviewer="carol")
    assert "Stenting trial pubmed:2" in out and "2 of 3 left" in out


def test_line_input_when_stdin_is_not_a_terminal(repo, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("include\ne\n9\nquit\ni\n"))
    args = parse("screen", "--review", "demo", "--reviewer", "dana")
    assert args.handler(args) == 0
    assert [(r[0], r[3], r[4]) for r in rows()] == [
        ("pubmed:1", "include", ""),
        ("pubmed:2", "exclude", DEFAULT_EXCLUSION_REASONS[8]),
    ]
    assert "1 of 3 left" in capsys.readouterr().out


def test_invalid_decisions_file_stops_screening(repo):
    append_decision(DECISIONS, "pubmed:1", "title_abstract", "alice", "include")
    with open(DECISIONS, "a") as handle:
        handle.write("pubmed:99,title_abstract,bob,include,,,,\n")
    with pytest.raises(InputError, match="row 3, column 'record_id'"):
        screen("i")
    args = parse("screen", "--review", "nope", "--reviewer", "a")
    with pytest.raises(ValueError, match="unknown review 'nope'"):
        args.handler(args, read_key=keys())


def test_status_text_and_json(repo):
    for who, decision in (("alice", "include"), ("bob", "exclude")):
        append_decision(DECISIONS, "pubmed:1", "title_abstract", who, decision)
    for who in ("alice", "bob"):
        append_decision(DECISIONS, "pubmed:2", "title_abstract", who, "include")
        append_decision(DECISIONS, "pubmed:2", "full_text", who, "include")
    out = io.StringIO()
    args = parse("status", "--review", "demo")
    assert args.handler(args, out=out) == 0
    text = out.getvalue()
    assert "3 records in the queue" in text
    assert "title_abstract: 3 eligible, 1 included, 0 excluded, 1 conflicts, 1 pending" in text
    assert "conflict pubmed:1 at title_abstract: alice: include; bob: exclude" in text
    assert "pending per reviewer: alice 1, bob 1" in text
    assert "kappa: 0.00 (alice vs bob, 2 records)" in text
    assert "to be added at the next workflow run: smith2021 (Smith 2021)" in text

    out = io.StringIO()
    args = parse("status", "--review", "demo", "--json")
    assert args.handler(args, out=out) == 0
    obj = json.loads(out.getvalue())
    assert obj["review"] == "demo" and obj["queue"] == 3 and obj["studies"] == 0
    ta = obj["stages"]["title_abstract"]
    assert ta["conflicts"] == [
        {"record_id": "pubmed:1", "decisions": ["alice: include", "bob: exclude"]}
    ]
    assert ta["kappa"] == pytest.approx(0.0) and ta["kappa_n"] == 2
    assert obj["prisma"]["reports_included"] == 1
    assert obj["proposed_studies"] == ["smith2021"]


def test_linked_record_names_the_included_study(repo):
    studies = repo / "reviews" / "demo" / "studies.csv"
    studies.write_text("study_id,study_label,year,record_ids\nsmith2021,Smith 2021,2021,pubmed:1\n")
    _, out = screen("s", "s", "q")
    assert "Further report of included study smith2021 (Smith 2021)" in out


ROSTER_CONFIG = CONFIG.replace(
    "    title: Demo review\n",
    "    title: Demo review\n    screening:\n      reviewers: [Alice, bob]\n",
)


@pytest.fixture
def roster_repo(repo):
    """The same review with a roster: Alice and bob."""
    (repo / "config" / "config.yaml").write_text(ROSTER_CONFIG)
    return repo


def resolve(*answers, reviewer="bob", stage=None):
    return drive("resolve", answers, reviewer, stage)


def test_a_name_off_the_roster_is_refused_and_case_is_ignored(roster_repo, capsys):
    from livingmeta.cli import main

    with pytest.raises(ValueError, match="'alcie' is not a reviewer of this review; the roster "):
        screen("i", reviewer="alcie")
    code = main(["screen", "--review", "demo", "--reviewer", "alcie"])
    err = capsys.readouterr().err
    assert code == 2
    assert "not a reviewer of this review; the roster is: Alice, bob" in err
    assert not (roster_repo / DECISIONS).exists()
    screen("i", reviewer="ALICE")  # written as the roster spells it
    assert rows()[0][2] == "Alice"
    _, out = screen("q", reviewer="alice")  # alice's decision counts for "alice" too
    assert "record pubmed:1\n" not in out and "2 of 3 left at title_abstract for Alice" in out


def test_decisions_by_a_name_off_the_roster_are_invalid(roster_repo):
    append_decision(DECISIONS, "pubmed:1", "title_abstract", "bob", "include")
    append_decision(DECISIONS, "pubmed:2", "title_abstract", "bbo", "include")
    with pytest.raises(InputError) as caught:
        screen("q", reviewer="bob")
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.column) == (DECISIONS, 3, "reviewer")
    assert problem.message == (
        "'bbo' is not a reviewer of this review; the roster is: Alice, bob; did you mean 'bob'?"
    )


def test_reviewer_names_are_compared_ignoring_case_without_a_roster(repo):
    append_decision(DECISIONS, "pubmed:1", "title_abstract", "Alice", "include")
    append_decision(DECISIONS, "pubmed:1", "title_abstract", "bob", "include")
    append_decision(DECISIONS, "pubmed:2", "title_abstract", "alice", "exclude")
    append_decision(DECISIONS, "pubmed:2", "title_abstract", "BOB", "include")
    _, out = screen("q", reviewer="ALICE")
    assert "record pubmed:3\n" in out and "1 of 3 left at title_abstract" in out
    text = io.StringIO()
    args = parse("status", "--review", "demo")
    args.handler(args, out=text)
    # One pair of reviewers (as first written), not four names that never share a record.
    assert "kappa: 0.00 (Alice vs bob, 2 records)" in text.getvalue()
    assert "pending per reviewer: Alice 1, bob 1" in text.getvalue()
    append_decision(DECISIONS, "pubmed:1", "title_abstract", "ALICE", "exclude")
    with pytest.raises(InputError, match=r"row 6, column 'reviewer'.*second independent"):
        screen("q")


def raw_rows():
    import csv

    with open(DECISIONS, newline="") as handle:
        return [(r["record_id"], r["reviewer"], r["decision"]) for r in csv.DictReader(handle)]


def test_undo_withdraws_the_last_decision_with_a_withdrawal_row(roster_repo):
    code, out = screen("i", "e", "3", "u", "m", "i", "u", "e", "0")
    assert code == 0
    assert "Withdrawn: exclude of pubmed:2 at title_abstract" in out
    assert "Withdrawn: include of pubmed:3 at title_abstract" in out  # undo after the last
    assert out.count("Nothing left to screen at title_abstract for Alice.") == 2
    assert "5 decision(s) saved, 2 withdrawn" in out
    # Nothing is deleted: each withdrawn row stays, followed by its withdrawal.
    assert raw_rows() == [
        ("pubmed:1", "Alice", "include"),
        ("pubmed:2", "Alice", "exclude"),
        ("pubmed:2", "Alice", "withdraw"),
        ("pubmed:2", "Alice", "maybe"),
        ("pubmed:3", "Alice", "include"),
        ("pubmed:3", "Alice", "withdraw"),
        ("pubmed:3", "Alice", "exclude"),
    ]
    assert [(r[0], r[3]) for r in rows()] == [
        ("pubmed:1", "include"),
        ("pubmed:2", "maybe"),
        ("pubmed:3", "exclude"),
    ]


def test_undo_with_nothing_to_withdraw_says_so(roster_repo):
    append_decision(DECISIONS, "pubmed:1", "title_abstract", "bob", "include")
    code, out = screen("u", "q")
    assert code == 0 and "Nothing to undo: Alice has no decision in effect." in out
    assert raw_rows() == [("pubmed:1", "bob", "include")]


def test_conflicts_are_shown_with_titles_and_settled_by_resolve(roster_repo):
    append_decision(DECISIONS, "pubmed:1", "title_abstract", "bob", "exclude")
    append_decision(DECISIONS, "pubmed:2", "title_abstract", "bob", "exclude")
    _, out = screen("i", "e", "0", "q")  # Alice disagrees on pubmed:1 only
    conflicts = out[out.index("Conflicts at title_abstract") :]
    assert "livingmeta resolve --review demo" in conflicts
    assert "  pubmed:1: Stenting trial pubmed:1\n    bob: exclude; Alice: include\n" in conflicts
    assert "pubmed:2" not in conflicts

    with pytest.raises(ValueError, match="'carol' is not a reviewer"):
        resolve("i", reviewer="carol")
    code, out = resolve("x", "e", "2")
    assert code == 0
    assert "Stenting trial pubmed:1" in out and "record pubmed:1\n" in out
    assert "Conflict at title_abstract (1 left)" in out and "  bob: exclude\n" in out
    assert "Press i, e, s or q." in out and "1 consensus decision(s) saved" in out
    consensus = [r for r in rows() if r[6] == "consensus"]
    assert consensus == [
        ("pubmed:1", "title_abstract", "bob", "exclude", DEFAULT_EXCLUSION_REASONS[1],
         "2026-03-04", "consensus"),
    ]  # fmt: skip
    _, out = resolve()
    assert "No conflict left to settle." in out
    status = io.StringIO()
    args = parse("status", "--review", "demo", "--json")
    args.handler(args, out=status)
    stage = json.loads(status.getvalue())["stages"]["title_abstract"]
    assert stage["conflicts"] == [] and stage["excluded"] == 2


def test_status_shows_the_title_of_each_conflict(repo):
    append_decision(DECISIONS, "pubmed:2", "title_abstract", "alice", "include")
    append_decision(DECISIONS, "pubmed:2", "title_abstract", "bob", "exclude")
    out = io.StringIO()
    args = parse("status", "--review", "demo")
    args.handler(args, out=out)
    assert (
        "  conflict pubmed:2 at title_abstract: alice: include; bob: exclude\n"
        "    Stenting trial pubmed:2\n"
    ) in out.getvalue()


def test_resolve_picks_the_only_review_and_settles_one_stage(roster_repo):
    for who, decision in (("Alice", "include"), ("bob", "exclude")):
        append_decision(DECISIONS, "pubmed:2", "title_abstract", who, decision)
        append_decision(DECISIONS, "pubmed:3", "title_abstract", who, decision)
    args = parse("resolve", "--reviewer", "alice", "--stage", "full_text")
    out = io.StringIO()
    assert args.handler(args, read_key=keys(), today=TODAY, out=out) == 0
    assert "No conflict left to settle." in out.getvalue()
    args = parse("resolve", "--reviewer", "alice")
    out = io.StringIO()
    assert args.handler(args, read_key=keys("s", "i"), today=TODAY, out=out) == 0
    assert "(2 left)" in out.getvalue() and "(1 left)" in out.getvalue()
    assert [r for r in rows() if r[6] == "consensus"] == [
        ("pubmed:3", "title_abstract", "Alice", "include", "", "2026-03-04", "consensus")
    ]
