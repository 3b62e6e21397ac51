"""The review workspace's screening and conflicts screens, and its safety rules, through
Flask's test client on a small review in a temporary folder."""

from __future__ import annotations

import re

import pytest

from livingmeta.app import create_app
from livingmeta.app.workspace import open_workspace
from livingmeta.cli import build_parser
from livingmeta.config import ConfigError
from livingmeta.screening.decisions import load_decisions, withdraw_decision
from livingmeta.validation import InputError
from tests.app_fixtures import make_repo

REASONS = ("wrong population", "wrong design")


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_repo(tmp_path)


def client_for(reviewer, roster=("alice", "bob"), **options):
    ws = open_workspace("config/config.yaml", "demo", reviewer, roster=roster, **options)
    app = create_app(ws)
    return app.test_client(), app.config["CSRF"]


def seen_of(page: str) -> str:
    return re.search(r'name="seen" value="([0-9a-f]+)"', page).group(1)


def decide(client, token, record, choice, stage="title_abstract", seen=None):
    if seen is None:
        seen = seen_of(client.get("/screening/").get_data(as_text=True))
    form = {"csrf_token": token, "seen": seen, "record": record, "stage": stage, "choice": choice}
    return client.post("/screening/decide", data=form)


def decisions_text(repo):
    return (repo / "reviews/demo/screening/decisions.csv").read_text()


def test_screening_records_decisions_as_the_cli_does(repo):
    client, token = client_for("alice")
    page = client.get("/screening/").get_data(as_text=True)
    assert 'data-record="pubmed:1"' in page and "3 record(s) left for you" in page
    assert "https://doi.org/10.1000/abc" in page and "clinicaltrials.gov/study/NCT01234567" in page
    assert "https://pubmed.ncbi.nlm.nih.gov/1/" in page
    assert "<kbd>i</kbd>" in page and "<kbd>u</kbd>" in page  # shortcuts shown on the page
    linked = client.get("/screening/?record=pubmed:3").get_data(as_text=True)
    assert "Further report of included study smith2021 (Smith 2021)" in linked
    assert decide(client, token, "pubmed:1", "include").status_code == 302
    assert decide(client, token, "pubmed:2", "exclude|wrong design").status_code == 302
    assert decide(client, token, "pubmed:3", "maybe").status_code == 302
    lines = decisions_text(repo).splitlines()
    assert lines[0] == "record_id,stage,reviewer,decision,reason,date,role,note"
    assert [line.split(",")[:5] for line in lines[1:]] == [
        ["pubmed:1", "title_abstract", "alice", "include", ""],
        ["pubmed:2", "title_abstract", "alice", "exclude", "wrong design"],
        ["pubmed:3", "title_abstract", "alice", "maybe", ""],
    ]
    assert all(line.endswith(",independent,") for line in lines[1:])
    done = client.get("/screening/").get_data(as_text=True)
    assert "Nothing left to screen" in done
    assert "<td>alice</td><td>3</td>" in done  # progress per reviewer


def test_undo_appends_a_withdrawal_row_and_offers_the_record_again(repo):
    client, token = client_for("alice")
    decide(client, token, "pubmed:1", "include")
    decide(client, token, "pubmed:2", "exclude|wrong population")
    seen = seen_of(client.get("/screening/").get_data(as_text=True))
    reply = client.post("/screening/undo", data={"csrf_token": token, "seen": seen})
    assert reply.status_code == 302 and "record=pubmed:2" in reply.headers["Location"]
    lines = decisions_text(repo).splitlines()
    assert len(lines) == 4 and lines[3].startswith("pubmed:2,title_abstract,alice,withdraw,")
    frame = load_decisions(repo / "reviews/demo/screening/decisions.csv", REASONS)
    assert list(frame["record_id"]) == ["pubmed:1"]  # the withdrawn row no longer counts
    page = client.get("/screening/?record=pubmed:2").get_data(as_text=True)
    assert 'id="include"' in page  # can be decided again
    assert decide(client, token, "pubmed:2", "include").status_code == 302
    frame = load_decisions(repo / "reviews/demo/screening/decisions.csv", REASONS)
    assert list(frame["decision"]) == ["include", "include"]


def test_withdrawal_rows_are_validated(repo):
    path = repo / "reviews/demo/screening/decisions.csv"
    path.write_text(
        "record_id,stage,reviewer,decision,reason,date,role,note\n"
        "pubmed:1,title_abstract,alice,withdraw,,2026-01-01,,\n"
    )
    with pytest.raises(InputError, match=r"row 2.*withdraws nothing"):
        load_decisions(path, REASONS)
    path.write_text(path.read_text().splitlines()[0] + "\n")
    assert withdraw_decision(path, REASONS, "alice") is None


def test_a_reviewer_never_sees_another_reviewers_decision_first(repo):
    alice, alice_token = client_for("alice")
    decide(alice, alice_token, "pubmed:1", "exclude|wrong population")
    bob, _ = client_for("bob")
    page = bob.get("/screening/").get_data(as_text=True)
    assert 'data-record="pubmed:1"' in page
    assert "wrong population</b>" not in page and "alice" not in page.split("<section")[0]
    assert "exclude" not in page.split('id="decide"')[0].split("<article")[1]
    assert "Your decision" not in page
    # Alice's decided record is not shown to Bob as his, nor an undecided one to Alice.
    assert bob.get("/screening/?record=pubmed:9").status_code == 404


def test_conflict_shown_side_by_side_and_settled_by_consensus(repo):
    alice, alice_token = client_for("alice")
    bob, bob_token = client_for("bob")
    decide(alice, alice_token, "pubmed:2", "include")
    decide(bob, bob_token, "pubmed:2", "exclude|wrong design")
    page = bob.get("/conflicts/").get_data(as_text=True)
    assert 'data-record="pubmed:2"' in page
    assert "<b>alice</b>" in page and "<b>bob</b>" in page and "wrong design" in page
    form = {
        "csrf_token": bob_token, "seen": seen_of(page), "record": "pubmed:2",
        "stage": "title_abstract", "decision": "exclude", "reason": "wrong design",
        "note": "agreed with alice",
    }  # fmt: skip
    assert bob.post("/conflicts/resolve", data=form).status_code == 302
    last = decisions_text(repo).splitlines()[-1]
    assert last.startswith("pubmed:2,title_abstract,bob,exclude,wrong design,")
    assert last.endswith(",consensus,agreed with alice")
    assert "No conflicts" in bob.get("/conflicts/").get_data(as_text=True)


def test_an_edit_made_meanwhile_is_detected_and_nothing_is_lost(repo):
    client, token = client_for("alice")
    decide(client, token, "pubmed:1", "include")
    seen = seen_of(client.get("/screening/").get_data(as_text=True))
    path = repo / "reviews/demo/screening/decisions.csv"
    hand_edited = path.read_text().replace("include", "exclude")
    path.write_text(hand_edited)  # a spreadsheet edit while the page was open
    reply = decide(client, token, "pubmed:2", "include", seen=seen)
    assert reply.status_code == 409
    page = reply.get_data(as_text=True)
    assert "changed since this page was shown" in page
    assert "-pubmed:1,title_abstract,alice,include" in page  # what changed
    assert "+pubmed:1,title_abstract,alice,exclude" in page
    assert 'data-record="pubmed:2"' in page  # the record is still on screen to decide
    assert path.read_text() == hand_edited  # nothing written, the edit kept


def test_rows_appended_meanwhile_are_not_a_conflict(repo):
    alice, alice_token = client_for("alice")
    bob, bob_token = client_for("bob")
    seen = seen_of(alice.get("/screening/").get_data(as_text=True))
    decide(bob, bob_token, "pubmed:1", "include")
    assert decide(alice, alice_token, "pubmed:1", "include", seen=seen).status_code == 302
    assert decide(alice, alice_token, "pubmed:1", "maybe").status_code == 409  # twice


def test_posts_need_the_csrf_token(repo):
    client, _ = client_for("alice")
    seen = seen_of(client.get("/screening/").get_data(as_text=True))
    form = {"seen": seen, "record": "pubmed:1", "stage": "title_abstract", "choice": "include"}
    assert client.post("/screening/decide", data=form).status_code == 403
    form["csrf_token"] = "forged"
    assert client.post("/screening/decide", data=form).status_code == 403
    assert not (repo / "reviews/demo/screening/decisions.csv").exists()


def test_untrusted_text_is_escaped_and_made_visible(repo):
    client, _ = client_for("alice", highlight=("stenting",))
    page = client.get("/screening/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\u202e" not in page and "[U+202E]exe.pdf" in page
    assert "<mark>Stenting</mark>" in page  # highlighted keyword, case kept


def test_requests_for_another_host_or_without_the_token_are_refused(repo):
    client, _ = client_for("alice")
    assert client.get("/screening/", headers={"Host": "evil.example"}).status_code == 400
    guarded, _ = client_for("alice", token="s3cret")
    assert guarded.get("/screening/").status_code == 403
    assert guarded.get("/screening/?token=s3cret").status_code == 200
    assert guarded.get("/screening/").status_code == 200  # the cookie now carries it


def test_no_read_or_write_outside_the_review_folder(repo):
    client, token = client_for("alice")
    (repo / "secret.txt").write_text("secret")
    for url in ("/static/../../secret.txt", "/status/results/../../../secret.txt"):
        reply = client.get(url)
        assert reply.status_code == 404 and b"secret" not in reply.data
    form = {"csrf_token": token, "seen": "", "record": "../../x", "stage": "title_abstract"}
    assert client.post("/screening/decide", data={**form, "choice": "include"}).status_code == 400
    ws = open_workspace("config/config.yaml", "demo", "alice", roster=("alice",))
    with pytest.raises(ValueError, match="outside the review folder"):
        ws.writable(repo / "reviews" / "demo" / ".." / "other.csv")
    with pytest.raises(ValueError, match="not a usable reviewer name"):
        open_workspace("config/config.yaml", "demo", "../x", roster=("../x",))


def test_reviewer_must_be_on_the_roster(repo):
    with pytest.raises(
        ValueError, match="not a reviewer of this review; the roster is: alice, bob"
    ):
        open_workspace("config/config.yaml", "demo", "alcie", roster=("alice", "bob"))
    ws = open_workspace("config/config.yaml", "demo", "ALICE", roster=("alice", "bob"))
    assert ws.reviewer == "alice"
    # Without a configured roster: the names in decisions.csv plus the reviewer starting.
    client, token = client_for("carol", roster=None)
    decide(client, token, "pubmed:1", "include")
    ws = open_workspace("config/config.yaml", "demo", "dave")
    assert ws.roster == ("carol", "dave")


def test_review_serve_refuses_a_remote_host_without_the_flag(repo):
    args = build_parser().parse_args(
        ["review", "serve", "--reviewer", "alice", "--host", "0.0.0.0"]
    )
    with pytest.raises(ValueError, match="--allow-remote"):
        args.handler(args)


def test_highlight_words_come_from_the_config_unless_given(repo):
    config = repo / "config/config.yaml"
    text = config.read_text()
    config.write_text(
        text.replace("    screening:\n", "    screening:\n      highlight: [trial]\n")
    )
    page = client_for("alice")[0].get("/screening/").get_data(as_text=True)
    assert "<mark>trial</mark>" in page and "<mark>Stenting</mark>" not in page
    page = client_for("alice", highlight=("stenting",))[0].get("/screening/").get_data(as_text=True)
    assert "<mark>Stenting</mark>" in page and "<mark>trial</mark>" not in page
    # Who may approve is the roster: the schema has no second list of approvers.
    config.write_text(text.replace("    screening:\n", "    screening:\n      approvers: [bob]\n"))
    with pytest.raises(ConfigError, match="approvers"):
        open_workspace("config/config.yaml", "demo", "alice", roster=("alice",))
