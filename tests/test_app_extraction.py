"""The review workspace's extraction and status screens: the workflow's validation
messages, one-row edits of the extraction table, approval, and edits made meanwhile."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from livingmeta.app import create_app
from livingmeta.app.csvedit import replace_rows
from livingmeta.app.workspace import open_workspace
from livingmeta.approval import is_approved
from livingmeta.extraction import read_table
from tests.app_fixtures import EXTRACTION_HEADER, make_repo

SMITH_DEATH = "/extraction/?study=smith2021&outcome=death"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_repo(tmp_path)


def client_for(reviewer, roster=("alice", "bob")):
    ws = open_workspace("config/config.yaml", "demo", reviewer, roster=roster)
    app = create_app(ws)
    return app.test_client(), app.config["CSRF"]


def form_of(client, url=SMITH_DEATH):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="seen" value="([0-9a-f]+)"', page).group(1)


def post(client, token, action, seen, **values):
    data = {"csrf_token": token, "seen": seen, "study": "smith2021", "outcome": "death", **values}
    return client.post(f"/extraction/{action}", data=data)


NUMBERS = {"events_treat": "4", "total_treat": "30", "events_ctrl": "9", "total_ctrl": "31"}


def test_extraction_lists_every_included_study_by_outcome(repo):
    client, _ = client_for("alice")
    page = client.get("/extraction/").get_data(as_text=True)
    assert page.count("to extract") == 4  # 2 studies x 2 outcomes
    form = client.get(SMITH_DEATH).get_data(as_text=True)
    for col in NUMBERS:
        assert f'name="{col}"' in form
    assert 'name="source"' in form and 'hx-post="/extraction/check"' in form
    nihss = client.get("/extraction/?study=wang2023&outcome=nihss").get_data(as_text=True)
    assert 'name="sd_treat"' in nihss and 'name="events_treat"' not in nihss
    assert client.get("/extraction/?study=nobody&outcome=death").status_code == 404


def test_live_check_gives_the_workflows_messages(repo):
    client, token = client_for("alice")
    seen = form_of(client)
    reply = post(client, token, "check", seen, **{**NUMBERS, "events_treat": "40"})
    text = reply.get_data(as_text=True)
    assert "row 2, column &#39;events_treat&#39;: 40 events exceed the total of 30" in text
    assert "reviews/demo/extraction.csv, row 2" in text and "/tmp" not in text  # the real file
    beside = '<span class="problem" id="problem-events_treat" hx-swap-oob="true">40 events'
    assert beside in text  # also shown beside the field
    ok = post(client, token, "check", seen, **NUMBERS).get_data(as_text=True)
    assert "No problems" in ok
    assert (repo / "reviews/demo/extraction.csv").read_text() == EXTRACTION_HEADER


def test_invalid_value_is_refused_then_valid_value_saved_as_a_hand_edit_would(repo):
    client, token = client_for("alice")
    seen = form_of(client)
    bad = post(client, token, "save", seen, **{**NUMBERS, "total_treat": "abc"}, source="Table 2")
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "&#39;abc&#39; is not a number" in page and 'value="abc"' in page  # input kept
    assert (repo / "reviews/demo/extraction.csv").read_text() == EXTRACTION_HEADER
    good = post(client, token, "save", seen, **NUMBERS, source="Table 2, p. 4")
    assert good.status_code == 302
    assert (repo / "reviews/demo/extraction.csv").read_text() == EXTRACTION_HEADER + (
        'smith2021,Smith 2021,2021,death,4,30,9,31,,,,,,,,"Table 2, p. 4",alice,,,,\n'
    )


def test_only_the_edited_row_changes(repo):
    path = repo / "reviews/demo/extraction.csv"
    other = 'wang2023,"Wang, 2023",2023,death,1,10,2,10,,,,,,,,"p. 3",bob,,bob,2026-01-02,"kept ""as is"""\r\n'
    path.write_bytes((EXTRACTION_HEADER.replace("\n", "\r\n") + other).encode())
    client, token = client_for("alice")
    seen = form_of(client)
    assert post(client, token, "save", seen, **NUMBERS, source="T2").status_code == 302
    data = path.read_bytes().decode()
    assert data.startswith(EXTRACTION_HEADER.replace("\n", "\r\n") + other)
    assert data.endswith("smith2021,Smith 2021,2021,death,4,30,9,31,,,,,,,,T2,alice,,,,\r\n")
    seen = form_of(client)
    changed = {**NUMBERS, "events_treat": "5"}
    assert post(client, token, "save", seen, **changed, source="T2").status_code == 302
    assert path.read_bytes().decode().count("smith2021") == 1
    assert ",5,30,9,31," in path.read_text()


def test_approve_by_a_reviewer_on_the_roster(repo):
    alice, alice_token = client_for("alice")
    assert 'id="approve"' not in alice.get(SMITH_DEATH).get_data(as_text=True)  # nothing saved
    assert post(alice, alice_token, "approve", form_of(alice)).status_code == 409
    post(alice, alice_token, "save", form_of(alice), **NUMBERS, source="T2")
    bob, bob_token = client_for("bob")
    assert 'id="approve"' in bob.get(SMITH_DEATH).get_data(as_text=True)
    assert post(bob, bob_token, "approve", form_of(bob)).status_code == 302
    table = read_table(repo / "reviews/demo/extraction.csv")
    assert is_approved(table).tolist() == [True]
    assert table["approved_by"].tolist() == ["bob"]
    assert table["approved_on"].tolist() == [dt.date.today().isoformat()]
    assert "Approved by bob" in bob.get(SMITH_DEATH).get_data(as_text=True)
    # Changing an approved number needs a new approval.
    post(alice, alice_token, "save", form_of(alice), **{**NUMBERS, "events_ctrl": "8"}, source="T2")
    assert not is_approved(read_table(repo / "reviews/demo/extraction.csv")).any()


def test_a_concurrent_hand_edit_is_detected_and_nothing_is_lost(repo):
    client, token = client_for("alice")
    seen = form_of(client)
    path = repo / "reviews/demo/extraction.csv"
    hand = EXTRACTION_HEADER + "wang2023,Wang 2023,2023,death,1,10,2,10,,,,,,,,p. 3,bob,,,,\n"
    path.write_text(hand)
    reply = post(client, token, "save", seen, **NUMBERS, source="T2")
    assert reply.status_code == 409
    page = reply.get_data(as_text=True)
    assert "+wang2023,Wang 2023,2023,death,1,10,2,10" in page  # what changed
    assert 'value="30"' in page and 'value="T2"' in page  # the typed values are kept
    assert path.read_text() == hand
    assert post(client, token, "save", form_of(client), **NUMBERS, source="T2").status_code == 302
    assert path.read_text().startswith(hand)


def test_replace_rows_keeps_every_other_byte():
    data = b'\xef\xbb\xbfa,b\r\n1,"x\r\ny"\r\n2,z'
    out = replace_rows(data, ["a", "b"], lambda r: r["a"] == "1", [{"a": "1", "b": "=cmd"}])
    assert out == b"\xef\xbb\xbfa,b\r\n1,'=cmd\r\n2,z"
    out = replace_rows(data, ["a", "b"], lambda r: False, [{"a": "3", "b": "w"}])
    assert out == data + b"\r\n3,w\r\n"
    assert replace_rows(b"", ["a", "b"], lambda r: False, [{"a": "1"}]) == b"a,b\n1,\n"


def test_a_new_column_leaves_every_other_row_as_it_was():
    """Only the header and the saved row change in content; other rows keep their bytes
    (quoting, line endings) and just gain empty cells; a short row is padded, a blank line
    stays blank, and a row's unnamed extra cell is not taken over by the new column."""
    data = b'a,b\r\n"1","x\r\ny"\r\n\r\n2\r\n3,w,extra\r\n9,old'
    out = replace_rows(data, ["a", "b", "c"], lambda r: r.get("a") == "9", [{"a": "9", "c": "new"}])
    assert out == (b'a,b,c\r\n"1","x\r\ny",\r\n\r\n2,,\r\n3,w,,extra\r\n9,,new\r\n')
    read = list(csv.DictReader(io.StringIO(out.decode(), newline="")))
    assert [r["c"] for r in read] == ["", "", "", "new"]
    assert read[2][None] == ["extra"]


def test_status_lists_what_blocks_the_analysis(repo):
    client, token = client_for("alice")
    page = client.get("/status/").get_data(as_text=True)
    assert "3 record(s) still to screen" in page
    assert "4 study × outcome row(s) to extract" in page
    assert "snakemake --cores 4" in page and "No forest plots yet" in page
    table = repo / "reviews/demo/extraction.csv"
    table.unlink()  # a new review: nothing extracted yet
    assert "4 study × outcome row(s) to extract" in client.get("/status/").get_data(as_text=True)
    post(client, token, "save", form_of(client), **NUMBERS, source="T2")
    page = client.get("/status/").get_data(as_text=True)
    assert (
        "3 study × outcome row(s) to extract" in page and "1 extraction row(s) not approved" in page
    )
    plot = repo / "results/demo/death/forest.png"
    plot.parent.mkdir(parents=True)
    plot.write_bytes(b"\x89PNG\r\n\x1a\n")
    page = client.get("/status/").get_data(as_text=True)
    assert 'src="/status/results/death/forest.png"' in page
    assert client.get("/status/results/death/forest.png").data.startswith(b"\x89PNG")


def test_double_extraction_drafts_are_shown_beside_each_value(repo):
    drafts = repo / "reviews/demo/extraction"
    drafts.mkdir()
    header = "study_id,outcome,events_treat,total_treat,events_ctrl,total_ctrl,source\n"
    (drafts / "alice.csv").write_text(header + "smith2021,death,4,30,9,31,T2\n")
    (drafts / "bob.csv").write_text(header + "smith2021,death,5,30,9,31,T2\n")
    client, _ = client_for("alice")
    page = client.get(SMITH_DEATH).get_data(as_text=True)
    assert '<small class="drafts differ">drafts: alice 4 · bob 5</small>' in page
    assert '<small class="drafts">drafts: alice 30 · bob 30</small>' in page


def test_an_outcome_marked_not_reported_needs_empty_numbers_and_a_source(repo):
    path = repo / "reviews/demo/extraction.csv"
    client, token = client_for("alice")
    page = client.get(SMITH_DEATH).get_data(as_text=True)
    assert '<select id="f-reported" name="reported">' in page
    reply = post(client, token, "save", form_of(client), reported="no")
    assert reply.status_code == 422
    text = reply.get_data(as_text=True)
    assert "empty: say where the outcome was looked for (reported is &#39;no&#39;)" in text
    assert '<option value="no" selected>' in text  # the choice is kept
    check = post(client, token, "check", form_of(client), reported="no", events_treat="4")
    beside = '<span class="problem" id="problem-events_treat" hx-swap-oob="true">&#39;4&#39; given'
    assert beside in check.get_data(as_text=True)
    assert path.read_text() == EXTRACTION_HEADER
    where = "Tables 1-3 and supplement"
    assert (
        post(client, token, "save", form_of(client), reported="no", source=where).status_code == 302
    )
    # As a spreadsheet would: the file had no `reported` column, so it is added at the end.
    assert path.read_text() == EXTRACTION_HEADER.replace("notes\n", "notes,reported\n") + (
        f"smith2021,Smith 2021,2021,death,,,,,,,,,,,,{where},alice,,,,,no\n"
    )
    assert "not reported, not approved" in client.get("/extraction/").get_data(as_text=True)
    bob, bob_token = client_for("bob")
    assert post(bob, bob_token, "approve", form_of(bob)).status_code == 302
    table = read_table(path)
    assert table["reported"].tolist() == ["no"] and is_approved(table).tolist() == [True]


DRAFT_HEADER = (
    "study_id,study_label,year,pmid,doi,nct_id,outcome,comparison,events_treat,total_treat,"
    "events_ctrl,total_ctrl,mean_treat,sd_treat,n_treat,mean_ctrl,sd_ctrl,n_ctrl,reported,"
    "subgroup,source,extractor,second_extractor,approved_by,approved_on,notes\n"
)


#: The extraction table once a row was settled from drafts (the column added at its end).
RECONCILED_HEADER = EXTRACTION_HEADER.replace("notes\n", "notes,reconciled_by\n")


def save_draft(client, token, **values):
    page = client.get(SMITH_DEATH).get_data(as_text=True)
    draft_seen = re.search(r'name="draft_seen" value="([0-9a-f]+)"', page).group(1)
    data = {"csrf_token": token, "seen": form_of(client), "draft_seen": draft_seen,
            "study": "smith2021", "outcome": "death", **values}  # fmt: skip
    return client.post("/extraction/save", data={**data, "as": "draft"})


def test_double_extraction_drafts_compared_side_by_side_and_reconciled(repo):
    alice, alice_token = client_for("alice")
    bob, bob_token = client_for("bob")
    bad = save_draft(alice, alice_token, **{**NUMBERS, "events_treat": "40"}, source="T2")
    assert bad.status_code == 422 and "40 events exceed the total of 30" in bad.get_data(True)
    assert "reviews/demo/extraction/alice.csv, row 2" in bad.get_data(as_text=True)
    assert not (repo / "reviews/demo/extraction/alice.csv").exists()
    assert save_draft(alice, alice_token, **NUMBERS, source="T2").status_code == 302
    bob_draft = {**NUMBERS, "events_treat": "5", "total_treat": "30.0"}
    assert save_draft(bob, bob_token, **bob_draft, source="T2, p. 4").status_code == 302
    drafts = repo / "reviews/demo/extraction"
    assert (drafts / "alice.csv").read_text() == DRAFT_HEADER + (
        "smith2021,Smith 2021,2021,,,,death,,4,30,9,31,,,,,,,,,T2,alice,,,,\n"
    )
    extraction = repo / "reviews/demo/extraction.csv"
    assert extraction.read_text() == EXTRACTION_HEADER  # drafts do not touch the table
    status = alice.get("/status/").get_data(as_text=True)
    assert "1 value(s) on which the extractors' drafts differ" in status
    page = alice.get(SMITH_DEATH).get_data(as_text=True)
    assert '<tr class="differ"><th scope="row">events_treat</th><td>4</td><td>5</td></tr>' in page
    assert '<tr><th scope="row">total_treat</th><td>30</td><td>30.0</td></tr>' in page  # same
    assert '<tr><th scope="row">source</th>' in page and "1 field(s) differ" in page
    start = alice.get(SMITH_DEATH + "&from=bob").get_data(as_text=True)
    assert 'id="f-events_treat" name="events_treat" value="5"' in start
    assert alice.get(SMITH_DEATH + "&from=carol").status_code == 404
    # The reconciled row goes to extraction.csv, naming both extractors, then is approved.
    assert (
        post(alice, alice_token, "save", form_of(alice), **NUMBERS, source="T2").status_code == 302
    )
    assert extraction.read_text() == RECONCILED_HEADER + (
        "smith2021,Smith 2021,2021,death,4,30,9,31,,,,,,,,T2,alice,bob,,,,alice\n"
    )
    assert post(bob, bob_token, "approve", form_of(bob)).status_code == 302
    assert is_approved(read_table(extraction)).tolist() == [True]
    status = alice.get("/status/").get_data(as_text=True)
    assert "0 value(s) on which the extractors' drafts differ" in status  # settled


def test_a_third_reviewer_who_reconciles_the_drafts_is_named_before_approving(repo):
    roster = ("alice", "bob", "carol")
    alice, alice_token = client_for("alice", roster)
    bob, bob_token = client_for("bob", roster)
    carol, carol_token = client_for("Carol", roster)  # spelt as on the roster
    assert save_draft(alice, alice_token, **NUMBERS, source="T2").status_code == 302
    bob_draft = {**NUMBERS, "events_treat": "5"}
    assert save_draft(bob, bob_token, **bob_draft, source="T2").status_code == 302
    reply = post(carol, carol_token, "save", form_of(carol), **NUMBERS, source="T2")
    assert reply.status_code == 302
    extraction = repo / "reviews/demo/extraction.csv"
    row = "smith2021,Smith 2021,2021,death,4,30,9,31,,,,,,,,T2,alice,bob,{},{},,carol\n"
    assert extraction.read_text() == RECONCILED_HEADER + row.format("", "")
    assert post(alice, alice_token, "approve", form_of(alice)).status_code == 302
    today = dt.date.today().isoformat()
    assert extraction.read_text() == RECONCILED_HEADER + row.format("alice", today)


def test_a_row_without_two_drafts_names_no_reconciler(repo):
    alice, alice_token = client_for("alice")
    assert save_draft(alice, alice_token, **NUMBERS, source="T2").status_code == 302
    reply = post(alice, alice_token, "save", form_of(alice), **NUMBERS, source="T2")
    assert reply.status_code == 302
    row = "smith2021,Smith 2021,2021,death,4,30,9,31,,,,,,,,T2,alice,,,,\n"
    assert (repo / "reviews/demo/extraction.csv").read_text() == EXTRACTION_HEADER + row
