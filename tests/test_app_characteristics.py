"""The review workspace's characteristics screen: a form per included study built from
the config's fields (per arm where declared), checked and written as the workflow reads
``characteristics.csv``."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from livingmeta.app import create_app
from livingmeta.app.workspace import open_workspace
from livingmeta.characteristics.extraction import approved, load_characteristics
from livingmeta.workflow.characteristics import characteristics_settings
from tests.app_fixtures import CHARACTERISTICS_FIELDS, CHARACTERISTICS_HEADER, make_repo

FIELDS, HEADER = CHARACTERISTICS_FIELDS, CHARACTERISTICS_HEADER
FORM = "/characteristics/?study=smith2021"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = make_repo(tmp_path)
    config = root / "config/config.yaml"
    config.write_text(config.read_text().replace("    outcomes:\n", FIELDS + "    outcomes:\n"))
    return root


def client_for(reviewer):
    ws = open_workspace("config/config.yaml", "demo", reviewer, roster=("alice", "bob"))
    app = create_app(ws)
    return app.test_client(), app.config["CSRF"]


def seen_of(client):
    page = client.get(FORM).get_data(as_text=True)
    return re.search(r'name="seen" value="([0-9a-f]+)"', page).group(1)


def post(client, token, action, **values):
    data = {"csrf_token": token, "seen": seen_of(client), "study": "smith2021", **values}
    return client.post(f"/characteristics/{action}", data=data)


def workflow_values(repo):
    """What the workflow's tabulate_characteristics reads from the file."""
    from livingmeta.config import load_config, reviews

    review = reviews(load_config(repo / "config/config.yaml"))["demo"]
    fields = characteristics_settings(review)[1]
    path = repo / "reviews/demo/characteristics.csv"
    return load_characteristics(path, fields, studies=["smith2021", "wang2023"])


def test_form_has_a_line_per_field_and_arm(repo):
    client, _ = client_for("alice")
    listing = client.get("/characteristics/").get_data(as_text=True)
    assert listing.count("to extract") == 2
    page = client.get(FORM).get_data(as_text=True)
    assert 'name="design--text"' in page and '<option value="cohort">cohort</option>' in page
    for arm in ("treat", "ctrl"):
        assert f'name="age-{arm}-value"' in page and f'name="age-{arm}-spread"' in page
        assert f'name="age-{arm}-source"' in page and f'name="age-{arm}-reported"' in page
    assert client.get("/characteristics/?study=nobody").status_code == 404


def test_invalid_then_valid_values_are_written_as_the_workflow_reads_them(repo):
    path = repo / "reviews/demo/characteristics.csv"
    client, token = client_for("alice")
    bad = {"age-treat-value": "70", "age-treat-spread": "x", "age-treat-source": "Table 1"}
    check = post(client, token, "check", **bad).get_data(as_text=True)
    assert "reviews/demo/characteristics.csv, row 2, column &#39;spread&#39;" in check
    assert '<span class="problem" id="problem-age-treat-spread" hx-swap-oob="true">' in check
    reply = post(client, token, "save", **bad)
    assert reply.status_code == 422 and 'value="x"' in reply.get_data(as_text=True)
    assert not path.exists()
    good = {
        **bad, "age-treat-spread": "16.9", "design--text": "RCT", "design--source": "p. 2",
        "age-ctrl-reported": "no", "age-ctrl-source": "Table 1: not given for controls",
    }  # fmt: skip
    assert post(client, token, "save", **good).status_code == 302
    assert path.read_text() == HEADER + (
        "smith2021,design,,,,,,,,,RCT,,,p. 2,alice,,,\n"
        "smith2021,age,treat,,70,16.9,,,,,,,,Table 1,alice,,,\n"
        "smith2021,age,ctrl,,,,,,,,,no,,Table 1: not given for controls,alice,,,\n"
    )
    values = workflow_values(repo)
    assert [(v.field, v.arm, v.reported) for v in values] == [
        ("design", "", True), ("age", "treat", True), ("age", "ctrl", False),
    ]  # fmt: skip
    assert approved(values) == ()


def test_only_changed_lines_are_rewritten_and_approval_is_recorded(repo):
    path = repo / "reviews/demo/characteristics.csv"
    hand = 'wang2023,design,,,,,,,,,cohort,,,"p. 1, methods",bob,bob,2026-01-02,"as ""is"""\r\n'
    mine = "smith2021,design,,,,,,,,,RCT,,,p. 2,alice,,,\r\n"
    path.write_bytes((HEADER.replace("\n", "\r\n") + hand + mine).encode())
    client, token = client_for("alice")
    page = client.get("/characteristics/").get_data(as_text=True)
    assert "approved" in page and "1 value(s), 1 not approved" in page
    values = {"design--text": "RCT", "design--source": "p. 2", "age-treat-value": "71",
              "age-treat-spread": "10", "age-treat-source": "T1"}  # fmt: skip
    assert post(client, token, "save", **values).status_code == 302
    data = path.read_bytes().decode()
    assert data == HEADER.replace("\n", "\r\n") + hand + mine + (
        "smith2021,age,treat,,71,10,,,,,,,,T1,alice,,,\r\n"
    )
    bob, bob_token = client_for("bob")
    assert post(bob, bob_token, "approve").status_code == 302
    today = dt.date.today().isoformat()
    lines = path.read_bytes().decode().split("\r\n")
    assert lines[1] + "\r\n" == hand  # another study's row: every byte kept
    assert lines[2] == f"smith2021,design,,,,,,,,,RCT,,,p. 2,alice,bob,{today},"
    assert len(approved(workflow_values(repo))) == 3
    # Changing an approved value needs a new approval; the untouched line stays approved.
    assert post(client, token, "save", **{**values, "age-treat-value": "72"}).status_code == 302
    lines = path.read_bytes().decode().split("\r\n")
    assert lines[2].endswith(f",alice,bob,{today},")
    assert lines[3] == "smith2021,age,treat,,72,10,,,,,,,,T1,alice,,,"


def test_a_concurrent_hand_edit_is_refused_and_the_input_kept(repo):
    path = repo / "reviews/demo/characteristics.csv"
    client, token = client_for("alice")
    seen = seen_of(client)
    path.write_text(HEADER + "wang2023,design,,,,,,,,,cohort,,,p. 1,bob,,,\n")
    data = {"csrf_token": token, "seen": seen, "study": "smith2021", "design--text": "RCT",
            "design--source": "p. 2"}  # fmt: skip
    reply = client.post("/characteristics/save", data=data)
    assert reply.status_code == 409
    page = reply.get_data(as_text=True)
    assert "+wang2023,design" in page and '<option value="RCT" selected>RCT</option>' in page
    assert path.read_text() == HEADER + "wang2023,design,,,,,,,,,cohort,,,p. 1,bob,,,\n"


def test_without_declared_fields_the_page_says_how_to_declare_them(repo):
    config = repo / "config/config.yaml"
    config.write_text(config.read_text().replace(FIELDS, ""))
    client, _ = client_for("alice")
    assert "No characteristics are declared" in client.get("/characteristics/").get_data(
        as_text=True
    )
    assert client.get(FORM).status_code == 200


def test_approving_a_value_without_its_source_is_refused(repo):
    path = repo / "reviews/demo/characteristics.csv"
    client, token = client_for("alice")
    assert post(client, token, "save", **{"design--text": "RCT"}).status_code == 302
    saved = path.read_text()
    reply = post(client, token, "approve")
    assert reply.status_code == 422
    assert "an approved value needs the place it comes from" in reply.get_data(as_text=True)
    assert path.read_text() == saved


def test_kind_footnote_and_notes_are_edited_and_read_by_the_workflow(repo):
    path = repo / "reviews/demo/characteristics.csv"
    client, token = client_for("alice")
    page = client.get(FORM).get_data(as_text=True)
    assert '<select id="f-age-treat-kind" name="age-treat-kind"' in page
    assert '<option value="median_iqr">median_iqr</option>' in page
    assert 'name="age-treat-footnote"' in page and 'name="age-treat-notes"' in page
    values = {"age-treat-kind": "median_iqr", "age-treat-value": "70", "age-treat-low": "60",
              "age-treat-high": "80", "age-treat-source": "T1",
              "age-treat-footnote": "Median (IQR)", "age-treat-notes": "from the supplement"}  # fmt: skip
    assert post(client, token, "save", **values).status_code == 302
    assert path.read_text() == HEADER + (
        "smith2021,age,treat,median_iqr,70,,60,80,,,,,Median (IQR),T1,alice,,,from the supplement\n"
    )
    (value,) = workflow_values(repo)
    assert (value.kind, value.footnote) == ("median_iqr", "Median (IQR)")
    assert (value.low, value.high) == ("60", "80")
    page = client.get(FORM).get_data(as_text=True)
    assert '<option value="median_iqr" selected>median_iqr</option>' in page
    assert 'name="age-treat-low" value="60"' in page and 'name="age-treat-high" value="80"' in page
    # A form without these inputs keeps them; a new kind drops the old kind's values.
    assert post(client, token, "save", **{**values, "age-treat-kind": "n_of_N",
                "age-treat-value": "12", "age-treat-total": "30"}).status_code == 302  # fmt: skip
    assert path.read_text() == HEADER + (
        "smith2021,age,treat,n_of_N,12,,,,30,,,,Median (IQR),T1,alice,,,from the supplement\n"
    )
    kept = {k: v for k, v in values.items() if not k.endswith(("kind", "footnote", "notes"))}
    assert post(client, token, "save", **{**kept, "age-treat-value": "13",
                "age-treat-total": "30"}).status_code == 302  # fmt: skip
    row = path.read_text().splitlines()[-1]
    assert row.endswith(",n_of_N,13,,,,30,,,,Median (IQR),T1,alice,,,from the supplement")


def test_a_kind_the_workflow_refuses_is_named_beside_it_and_not_written(repo):
    path = repo / "reviews/demo/characteristics.csv"
    client, token = client_for("alice")
    bad = {"age-treat-kind": "bogus", "age-treat-value": "70", "age-treat-source": "T1"}
    check = post(client, token, "check", **bad).get_data(as_text=True)
    assert "reviews/demo/characteristics.csv, row 2, column &#39;kind&#39;" in check
    assert '<span class="problem" id="problem-age-treat-kind" hx-swap-oob="true">' in check
    reply = post(client, token, "save", **bad)
    assert reply.status_code == 422
    assert '<option value="bogus" selected>bogus</option>' in reply.get_data(as_text=True)
    assert not path.exists()


def test_a_line_is_redrawn_with_the_inputs_of_the_chosen_kind(repo):
    client, token = client_for("alice")
    form = {"csrf_token": token, "study": "smith2021", "age-treat-kind": "n_of_N",
            "age-treat-value": "12", "age-treat-notes": "<b>typed</b>"}  # fmt: skip
    reply = client.post("/characteristics/line?field=age&arm=treat", data=form)
    line = reply.get_data(as_text=True)
    assert reply.status_code == 200 and line.lstrip().startswith("<tr")
    assert 'id="line-age-treat"' in line and 'name="age-treat-total"' in line
    assert 'name="age-treat-value" value="12"' in line and "&lt;b&gt;typed&lt;/b&gt;" in line
    assert '<option value="n_of_N" selected>n_of_N</option>' in line
    assert client.post("/characteristics/line?field=age&arm=", data=form).status_code == 404
    assert client.post("/characteristics/line?field=nope&arm=", data=form).status_code == 404


def test_choices_are_sent_by_value_not_by_their_shown_label(repo):
    config = repo / "config/config.yaml"
    hostile = 'choices: [\'Cluster "RCT" <2 arms>\', "split\\tdesign"]'
    config.write_text(config.read_text().replace("choices: [RCT, cohort]", hostile))
    client, token = client_for("alice")
    page = client.get(FORM).get_data(as_text=True)
    shown = "Cluster &#34;RCT&#34; &lt;2 arms&gt;"
    assert f'<option value="{shown}">{shown}</option>' in page
    assert '<option value="split\tdesign">split design</option>' in page  # tab shown as space
    values = {"design--text": "split\tdesign", "design--source": "p. 2"}
    assert post(client, token, "save", **values).status_code == 302
    (value,) = workflow_values(repo)
    assert value.text == "split\tdesign"
