"""The review workspace's status screen: characteristics still to extract or approve (read
as the workflow reads them), and the decision on retracted reports of included studies,
written to ``studies.csv`` as a hand-edit would and checked as ``livingmeta validate``
checks it."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from livingmeta.app import create_app
from livingmeta.app.workspace import open_workspace
from livingmeta.retrieval.records import Record
from tests.app_fixtures import CHARACTERISTICS_FIELDS, CHARACTERISTICS_HEADER, STUDIES, make_repo

FIELDS = CHARACTERISTICS_FIELDS
CHARACTERISTICS = (
    CHARACTERISTICS_HEADER + "smith2021,design,,,,,,,,,RCT,,,Methods,alice,bob,2026-11-30,\n"
    "smith2021,age,treat,,71,9,,,,,,,,Table 1,alice,,,\n"
)


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return make_repo(tmp_path)


def client_for(reviewer="alice"):
    ws = open_workspace("config/config.yaml", "demo", reviewer, roster=("alice", "bob"))
    app = create_app(ws)
    return app.test_client(), app.config["CSRF"]


def page_of(client):
    reply = client.get("/status/")
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def with_fields(repo):
    config = repo / "config/config.yaml"
    config.write_text(config.read_text().replace("    outcomes:\n", FIELDS + "    outcomes:\n"))


def test_status_lists_characteristics_to_extract_and_to_approve(repo):
    client, _ = client_for()
    assert 'id="characteristics-to-extract"' not in page_of(client)  # none declared
    with_fields(repo)
    client, _ = client_for()
    page = page_of(client)
    assert "4 study × characteristic(s) to extract" in page  # 2 studies x 2 fields
    assert "0 characteristic value(s) not approved" in page
    (repo / "reviews/demo/characteristics.csv").write_text(CHARACTERISTICS)
    page = page_of(client)
    assert "2 study × characteristic(s) to extract" in page
    assert "1 characteristic value(s) not approved" in page
    assert "to extract: <a" in page and "wang2023</a> × design" in page
    assert "not approved: <a" in page and "smith2021</a> × age (treat)" in page
    assert 'href="/characteristics/?study=wang2023"' in page


def test_status_lists_invalid_characteristics_with_file_row_and_field(repo):
    with_fields(repo)
    bad = CHARACTERISTICS.replace("smith2021,age,treat,,71,9", "smith2021,age,treat,,old,9")
    (repo / "reviews/demo/characteristics.csv").write_text(bad)
    page = page_of(client_for()[0])
    assert "1 invalid value(s)" in page
    assert "reviews/demo/characteristics.csv, row 3, column &#39;value&#39;" in page


def retract(repo, record_id="pubmed:11"):
    """The registry holds ``record_id`` (a report of smith2021) as retracted."""
    record = Record(record_id=record_id, source="pubmed", title="A trial", retracted=True)
    folder = repo / "reviews/demo/retrieval/registry"
    folder.mkdir(parents=True, exist_ok=True)
    line = {"record": record.to_dict(), "seen_in": ["run1"]}
    (folder / "records.jsonl").write_text(json.dumps(line) + "\n")


def seen_of(client):
    return re.search(r'name="seen" value="([0-9a-f]+)"', page_of(client)).group(1)


def decide(client, token, decision, study="smith2021", seen=None):
    data = {"csrf_token": token, "seen": seen or seen_of(client), "study": study}
    return client.post("/status/retracted", data={**data, "decision": decision})


def test_retracted_report_is_decided_in_studies_csv_as_by_hand(repo, tmp_path_factory, monkeypatch):
    studies = repo / "reviews/demo/studies.csv"
    client, token = client_for()
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))  # paths come from the workspace
    assert "0 retracted report(s) of included studies to decide" in page_of(client)
    retract(repo)
    page = page_of(client)
    assert "1 retracted report(s) of included studies to decide" in page
    assert "pubmed:11" in page and "not decided" in page
    assert decide(client, token, "yes").status_code == 302
    today = dt.date.today().isoformat()
    assert (
        studies.read_bytes()
        == (
            "study_id,study_label,year,record_ids,exclude_retracted,decided_on,decided_by\n"
            "smith2021,Smith 2021,2021,pubmed:11,yes," + today + ",alice\n"
            "wang2023,Wang 2023,2023,pubmed:12,,,\n"  # as a spreadsheet adds the columns
        ).encode()
    )
    page = page_of(client)
    assert "0 retracted report(s) of included studies to decide" in page
    assert '<b class="decision">yes</b>' in page


def test_retracted_decision_refuses_a_stale_file_and_bad_input(repo):
    studies = repo / "reviews/demo/studies.csv"
    retract(repo)
    client, token = client_for()
    seen = seen_of(client)
    edited = STUDIES.replace("Wang 2023,2023", "Wang 2023,2022")  # a hand-edit meanwhile
    studies.write_text(edited)
    reply = decide(client, token, "yes", seen=seen)
    assert reply.status_code == 409 and "changed since this page was shown" in reply.get_data(
        as_text=True
    )
    assert studies.read_text() == edited
    assert decide(client, token, "maybe").status_code == 400
    assert decide(client, token, "yes", study="wang2023").status_code == 404  # not retracted
    assert decide(client, token, "yes", study="../x").status_code == 404
    assert studies.read_text() == edited
    no_token = client.post("/status/retracted", data={"study": "smith2021", "decision": "yes"})
    assert no_token.status_code in (400, 403) and studies.read_text() == edited


def test_a_decision_is_checked_as_livingmeta_validate_checks_studies_csv(repo):
    from livingmeta.app.retractions import studies_problems

    ws = open_workspace("config/config.yaml", "demo", "alice", roster=("alice",))
    with create_app(ws).app_context():
        assert studies_problems(STUDIES.encode()) == []
        bad = STUDIES + "li2024,Li 2024,2024,pubmed:12\n"  # a record under two studies
        (problem,) = studies_problems(bad.encode())
    assert str(problem) == (
        "reviews/demo/studies.csv, row 4, column 'record_ids': record 'pubmed:12' also "
        "belongs to 'wang2023' (row 3)"
    )
