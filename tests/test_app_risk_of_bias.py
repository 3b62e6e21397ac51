"""The review workspace's risk-of-bias screen: RoB 2 form with the algorithm's proposals,
each assessor's own file, disagreements and the consensus row."""

from __future__ import annotations

import re

import pytest

from livingmeta.app import create_app
from livingmeta.app.workspace import open_workspace
from livingmeta.risk_of_bias.consensus import load_folder
from livingmeta.risk_of_bias.settings import settings_from_config
from tests.app_fixtures import make_repo

ROB2 = {"tools": [{"tool": "rob2", "outcomes": ["death"]}]}
FORM = "/risk-of-bias/?study=smith2021&outcome=death"
LOW = {f"j|D{i}": "low" for i in range(1, 6)}


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_repo(tmp_path)


def client_for(reviewer):
    ws = open_workspace(
        "config/config.yaml", "demo", reviewer, roster=("alice", "bob"), risk_of_bias=ROB2
    )
    app = create_app(ws)
    return app.test_client(), app.config["CSRF"]


def seen_of(page, name="seen"):
    return re.search(rf'name="{name}" value="([0-9a-f]+)"', page).group(1)


def save(client, token, **values):
    seen = seen_of(client.get(FORM).get_data(as_text=True))
    data = {"csrf_token": token, "seen": seen, "study": "smith2021", "outcome": "death"}
    return client.post("/risk-of-bias/save", data={**data, **values})


def test_no_tool_configured_says_how_to_add_one(repo):
    ws = open_workspace("config/config.yaml", "demo", "alice", roster=("alice",))
    page = create_app(ws).test_client().get("/risk-of-bias/").get_data(as_text=True)
    assert "No risk-of-bias tool is configured" in page


def test_rob2_form_shows_signalling_questions_and_live_proposals(repo):
    client, token = client_for("alice")
    page = client.get(FORM).get_data(as_text=True)
    assert 'name="a|D1|1.1"' in page and 'name="a|D5|5.3"' in page
    assert page.count('id="domain-') == 6  # five domains and overall
    assert "/risk-of-bias/?study=wang2023&amp;outcome=death" in page
    assert "outcome=nihss" not in page  # only the outcomes configured are rated
    answers = {"a|D1|1.1": "Y", "a|D1|1.2": "N", "a|D1|1.3": "N"}
    data = {"csrf_token": token, "study": "smith2021", "outcome": "death", **answers}
    fragment = client.post("/risk-of-bias/propose", data=data).get_data(as_text=True)
    assert '<span id="proposed-D1" hx-swap-oob="true">high</span>' in fragment
    assert '<span id="proposed-D2" hx-swap-oob="true">no proposal yet</span>' in fragment
    assert '<span id="proposed-overall" hx-swap-oob="true">no proposal yet</span>' in fragment


def test_overriding_the_proposal_needs_a_reason(repo):
    client, token = client_for("alice")
    answers = {"a|D1|1.1": "Y", "a|D1|1.2": "Y", "a|D1|1.3": "N"}  # proposes low
    reply = save(client, token, **answers, **{**LOW, "j|D1": "high"})
    assert reply.status_code == 422
    assert "proposes &#39;low&#39; for D1 of smith2021 (death)" in reply.get_data(as_text=True)
    assert not (repo / "reviews/demo/risk_of_bias/alice.csv").exists()
    good = save(client, token, **answers, **{**LOW, "j|D1": "high", "r|D1": "allocation seen"})
    assert good.status_code == 302


def test_two_assessors_then_consensus_settle_the_result(repo):
    alice, alice_token = client_for("alice")
    bob, bob_token = client_for("bob")
    quote = {"s|D1": "sealed envelopes", "p|D1": "3"}
    assert save(alice, alice_token, **LOW, **quote).status_code == 302
    page = bob.get(FORM).get_data(as_text=True)
    assert "sealed envelopes" not in page  # Bob does not see Alice's assessment
    assert save(bob, bob_token, **{**LOW, "j|D3": "some_concerns"}).status_code == 302
    alice_file = (repo / "reviews/demo/risk_of_bias/alice.csv").read_text().splitlines()
    assert alice_file[0] == (
        "study_id,outcome,domain,question,answer,judgement,override_reason,support,page,date,note"
    )
    assert alice_file[1].startswith("smith2021,death,D1,,,low,,sealed envelopes,3,")
    assert alice_file[6].startswith("smith2021,death,overall,,,,,,,")  # proposed: the worst
    page = alice.get("/risk-of-bias/").get_data(as_text=True)
    assert "<b>alice</b>: low" in page and "<b>bob</b>: some_concerns" in page
    form = {
        "csrf_token": alice_token, "consensus_seen": seen_of(page, "consensus_seen"),
        "study": "smith2021", "outcome": "death", "domain": "D3", "judgement": "low",
        "support": "all randomised analysed", "agreed_by": "alice; bob",
    }  # fmt: skip
    assert alice.post("/risk-of-bias/consensus", data=form).status_code == 302
    consensus = (repo / "reviews/demo/risk_of_bias/consensus.csv").read_text().splitlines()
    assert consensus[1].startswith("smith2021,death,D3,,,low,,all randomised analysed,,")
    assert consensus[1].endswith(",alice; bob")
    settings = settings_from_config(ROB2)
    status = load_folder(repo / "reviews/demo/risk_of_bias", settings, roster=("alice", "bob"))
    assert status.judgements("smith2021", "death") == {
        "D1": "low", "D2": "low", "D3": "low", "D4": "low", "D5": "low", "overall": "low",
    }  # fmt: skip
    assert "No disagreements" in alice.get("/risk-of-bias/").get_data(as_text=True)


def test_saving_again_replaces_only_this_results_rows(repo):
    client, token = client_for("alice")
    save(client, token, **LOW)
    path = repo / "reviews/demo/risk_of_bias/alice.csv"
    with path.open("a") as handle:
        handle.write("wang2023,death,D1,,,high,,hand-written,,,\n")
    assert save(client, token, **{**LOW, "j|D2": "high"}).status_code == 302
    lines = path.read_text().splitlines()
    assert lines[-1] == "wang2023,death,D1,,,high,,hand-written,,,"
    assert sum(line.startswith("smith2021") for line in lines) == 6
    assert lines[2].startswith("smith2021,death,D2,,,high,")


def client_with(reviewer, tools):
    ws = open_workspace(
        "config/config.yaml", "demo", reviewer, roster=("alice", "bob"), risk_of_bias=tools
    )
    app = create_app(ws)
    return app.test_client(), app.config["CSRF"]


def save_to(client, token, form_url, study, outcome, **values):
    seen = seen_of(client.get(form_url).get_data(as_text=True))
    data = {"csrf_token": token, "seen": seen, "study": study, "outcome": outcome}
    return client.post("/risk-of-bias/save", data={**data, **values})


ROBINS_I = {"tools": [{"tool": "robins_i", "outcomes": ["death"]}]}
ROBINS_LOW = {f"j|D{i}": "low" for i in range(1, 8)}


def test_robins_i_form_judges_seven_domains_and_proposes_the_overall(repo):
    client, token = client_with("alice", ROBINS_I)
    page = client.get(FORM).get_data(as_text=True)
    assert page.count('id="domain-') == 8  # seven domains and overall
    assert 'name="a|D1|1.1"' in page and 'name="a|D7|7.3"' in page  # answers as support
    assert 'id="proposed-D1"' not in page  # ROBINS-I 2016 has no algorithm from answers
    assert '<option value="critical"' in page and '<option value="no_information"' in page
    data = {"csrf_token": token, "study": "smith2021", "outcome": "death",
            **ROBINS_LOW, "j|D3": "serious", "j|D5": "no_information"}  # fmt: skip
    fragment = client.post("/risk-of-bias/propose", data=data).get_data(as_text=True)
    assert '<span id="proposed-overall" hx-swap-oob="true">serious</span>' in fragment
    bad = save_to(client, token, FORM, "smith2021", "death", **{**ROBINS_LOW, "j|D2": "high"})
    assert bad.status_code == 422
    assert (
        "alice.csv, row 3, column &#39;judgement&#39;: &#39;high&#39; is not a level of ROBINS-I"
        in bad.get_data(as_text=True)
    )
    assert not (repo / "reviews/demo/risk_of_bias/alice.csv").exists()
    quote = {"s|D1": "adjusted for age and NIHSS", "p|D1": "5"}
    judged = {**ROBINS_LOW, "j|D1": "moderate", **quote}
    assert save_to(client, token, FORM, "smith2021", "death", **judged).status_code == 302
    bob, bob_token = client_with("bob", ROBINS_I)
    assert save_to(bob, bob_token, FORM, "smith2021", "death", **judged).status_code == 302
    lines = (repo / "reviews/demo/risk_of_bias/alice.csv").read_text().splitlines()
    assert lines[1].startswith("smith2021,death,D1,,,moderate,,adjusted for age and NIHSS,5,")
    assert len(lines) == 1 + 8  # a judgement row per domain and overall
    status = load_folder(
        repo / "reviews/demo/risk_of_bias", settings_from_config(ROBINS_I), roster=("alice", "bob")
    )
    assert status.judgements("smith2021", "death")["D1"] == "moderate"
    assert status.judgements("smith2021", "death")["overall"] == "moderate"


NOS = {"tools": [{"tool": "nos_cohort"}, {"tool": "nos_case_control", "studies": ["wang2023"]}]}
SMITH = "/risk-of-bias/?study=smith2021&outcome="
STARS = {
    **{f"a|selection|S{i}": "1" for i in range(1, 5)},
    "a|comparability|C1": "2",
    **{f"a|outcome|O{i}": "1" for i in range(1, 4)},
}


def test_newcastle_ottawa_forms_rate_whole_studies_by_stars(repo):
    client, token = client_with("alice", NOS)
    listing = client.get("/risk-of-bias/").get_data(as_text=True)
    assert "/risk-of-bias/?study=smith2021&amp;outcome=" in listing
    assert "outcome=death" not in listing  # a study-level tool
    cohort = client.get(SMITH).get_data(as_text=True)
    assert 'name="a|outcome|O3"' in cohort and 'name="a|exposure|E1"' not in cohort
    case_control = client.get("/risk-of-bias/?study=wang2023&outcome=").get_data(as_text=True)
    assert 'name="a|exposure|E3"' in case_control and 'name="a|outcome|O1"' not in case_control
    data = {"csrf_token": token, "study": "smith2021", "outcome": "", **STARS,
            "a|selection|S2": "0", "a|selection|S3": "0"}  # fmt: skip
    fragment = client.post("/risk-of-bias/propose", data=data).get_data(as_text=True)
    assert '<span id="proposed-selection" hx-swap-oob="true">fair</span>' in fragment
    assert '<span id="proposed-overall" hx-swap-oob="true">fair</span>' in fragment
    bad = save_to(client, token, SMITH, "smith2021", "", **{**STARS, "a|comparability|C1": "3"})
    assert bad.status_code == 422
    assert "column &#39;answer&#39;: &#39;3&#39; is not one of 0, 1, 2" in bad.get_data(True)
    assert save_to(client, token, SMITH, "smith2021", "", **STARS).status_code == 302
    lines = (repo / "reviews/demo/risk_of_bias/alice.csv").read_text().splitlines()
    assert lines[1].startswith("smith2021,,selection,S1,1,,,,,")
    bob, bob_token = client_with("bob", NOS)
    assert save_to(bob, bob_token, SMITH, "smith2021", "", **STARS).status_code == 302
    status = load_folder(
        repo / "reviews/demo/risk_of_bias", settings_from_config(NOS), roster=("alice", "bob")
    )
    assert status.judgements("smith2021", "") == {
        "selection": "good", "comparability": "good", "outcome": "good", "overall": "good",
    }  # fmt: skip
