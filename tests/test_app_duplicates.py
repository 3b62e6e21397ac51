"""The review workspace's duplicates screen: the registry's manual queue (``doubtful.csv``)
shown pair by pair, decisions written in the one row as the registry reads them, signed
and dated, and refused (nothing written) when the input or the file is wrong."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest

from livingmeta.app import create_app
from livingmeta.app.duplicates import decided
from livingmeta.app.workspace import open_workspace
from livingmeta.retrieval.records import Record
from livingmeta.retrieval.registry import Registry
from tests.app_fixtures import HOSTILE_TITLE, make_repo

TITLE = "Dapagliflozin in patients with heart failure and reduced ejection fraction"
HEADER = "record_a,record_b,reason,score,decision,decided_by,decided_on\n"
FIRST = "embase:e1,pubmed:1,fuzzy_title_author_differs,1.0000,,,\n"
SECOND = "embase:e2,pubmed:2,fuzzy_title_author_differs,1.0000,,,\n"


def records() -> list[Record]:
    """Two pairs the registry queues (same titles, different authors)."""

    def record(rid: str, title: str, authors: tuple[str, ...], **kw: object) -> Record:
        source = rid.split(":")[0]
        return Record(record_id=rid, source=source, title=title, authors=authors, **kw)

    return [
        record("pubmed:1", TITLE, ("McMurray JJV", "Solomon SD"), pmid="1", year=2019),
        record("embase:e1", TITLE, ("Packer M",), year=2019, journal="Lancet"),
        record("pubmed:2", HOSTILE_TITLE, ("Smith A",), pmid="2", year=2020),
        record("embase:e2", HOSTILE_TITLE, ("Jones B",), year=2020),
    ]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_repo(tmp_path)
    registry = Registry()
    registry.upsert(records(), "run1")
    registry.deduplicate()
    registry.save(folder(tmp_path))
    assert queue(tmp_path).read_text() == HEADER + FIRST + SECOND  # as the registry wrote it
    return tmp_path


def folder(root: Path) -> Path:
    return root / "reviews/demo/retrieval/registry"


def queue(root: Path) -> Path:
    return folder(root) / "doubtful.csv"


def client_for(reviewer: str = "alice"):
    ws = open_workspace("config/config.yaml", "demo", reviewer, roster=("alice", "bob"))
    app = create_app(ws)
    return app.test_client(), app.config["CSRF"]


def seen_of(page: str) -> str:
    return re.search(r'name="seen" value="([0-9a-f]+)"', page).group(1)


def decide(client, csrf, seen, decision, a="pubmed:1", b="embase:e1"):
    form = {"csrf_token": csrf, "seen": seen, "decision": decision, "record_a": a, "record_b": b}
    return client.post("/duplicates/decide", data=form)


def test_pairs_are_shown_side_by_side_escaped(repo):
    client, _ = client_for()
    page = client.get("/duplicates/").get_data(as_text=True)
    assert page.count('class="pair"') == 2
    assert "McMurray JJV; Solomon SD" in page and "Packer M" in page and "Lancet" in page
    assert "PMID 1" in page and "fuzzy_title_author_differs" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'value="same"' in page and 'value="different"' in page
    assert page.count('<tr class="differ"><th scope="row">authors</th>') == 2  # marked
    assert page.count('<tr class="differ"><th scope="row">venue</th>') == 1  # Lancet / none
    assert '<tr class="differ"><th scope="row">title</th>' not in page


def test_a_decision_is_written_in_its_row_only_and_read_by_the_registry(repo):
    client, csrf = client_for("Bob")  # spelt as on the roster
    seen = seen_of(client.get("/duplicates/").get_data(as_text=True))
    reply = decide(client, csrf, seen, "same")
    assert reply.status_code == 302
    today = dt.date.today().isoformat()
    assert queue(repo).read_text() == (
        "record_a,record_b,reason,score,decision,decided_by,decided_on\n"
        f"embase:e1,pubmed:1,fuzzy_title_author_differs,1.0000,same,bob,{today}\n" + SECOND
    )
    registry = Registry.load(folder(repo))
    decisions = {(p.record_a, p.record_b): p.decision for p in registry.doubtful}
    assert decisions == {("embase:e1", "pubmed:1"): "same", ("embase:e2", "pubmed:2"): ""}
    registry.deduplicate()
    assert [(x.record_a, x.record_b, x.reason) for x in registry.links] == [
        ("embase:e1", "pubmed:1", "manual")
    ]
    registry.save(folder(repo))  # as the next search run does: the signature is kept
    assert f"same,bob,{today}\n" in queue(repo).read_text()
    page = client.get("/duplicates/").get_data(as_text=True)
    assert page.count('class="pair"') == 1 and 'id="decided"' in page
    status = client.get("/status/").get_data(as_text=True)
    assert "1 possible duplicate pair(s) to decide" in status


def test_a_pair_added_meanwhile_does_not_stop_a_decision(repo):
    client, csrf = client_for()
    seen = seen_of(client.get("/duplicates/").get_data(as_text=True))
    third = "embase:e3,pubmed:3,fuzzy_title_author_differs,1.0000,,,\n"
    queue(repo).write_text(HEADER + FIRST + SECOND + third)  # a search run added a pair
    assert decide(client, csrf, seen, "different", "embase:e2", "pubmed:2").status_code == 302
    rows = list(csv.DictReader(queue(repo).open()))
    assert [r["decision"] for r in rows] == ["", "different", ""]
    assert [r["decided_by"] for r in rows] == ["", "alice", ""]  # other rows as they were
    assert queue(repo).read_text().endswith(third)


@pytest.mark.parametrize(
    ("decision", "a", "code"),
    [("maybe", "pubmed:1", 400), ("", "pubmed:1", 400), ("same", "pubmed:9", 404)],
)
def test_bad_input_is_refused_and_nothing_is_written(repo, decision, a, code):
    before = queue(repo).read_bytes()
    client, csrf = client_for()
    seen = seen_of(client.get("/duplicates/").get_data(as_text=True))
    assert decide(client, csrf, seen, decision, a).status_code == code
    assert queue(repo).read_bytes() == before


def test_a_pair_decided_meanwhile_is_not_decided_again(repo):
    alice, csrf_a = client_for("alice")
    bob, csrf_b = client_for("bob")
    seen = seen_of(alice.get("/duplicates/").get_data(as_text=True))
    bob_seen = seen_of(bob.get("/duplicates/").get_data(as_text=True))
    assert decide(bob, csrf_b, bob_seen, "same").status_code == 302
    after_bob = queue(repo).read_bytes()
    reply = decide(alice, csrf_a, seen, "different")
    assert reply.status_code == 409
    assert "changed since this page was shown" in reply.get_data(as_text=True)
    assert queue(repo).read_bytes() == after_bob


@pytest.mark.parametrize(
    ("bad", "column"),
    [
        (SECOND.replace("1.0000,", "1.0000,maybe"), "decision"),
        (SECOND.replace("1.0000", "x"), "score"),
    ],
)
def test_a_queue_the_registry_would_refuse_is_named_and_not_written(repo, bad, column):
    bad = HEADER + FIRST + bad
    queue(repo).write_text(bad)
    client, csrf = client_for()
    page = client.get("/duplicates/").get_data(as_text=True)
    assert f"reviews/demo/retrieval/registry/doubtful.csv, row 3, column &#39;{column}&#39;" in page
    reply = decide(client, csrf, seen_of(page), "same")
    assert reply.status_code == 422
    assert queue(repo).read_text() == bad


def test_without_csrf_token_nothing_is_written(repo):
    before = queue(repo).read_bytes()
    client, _ = client_for()
    seen = seen_of(client.get("/duplicates/").get_data(as_text=True))
    assert decide(client, "wrong", seen, "same").status_code == 403
    assert queue(repo).read_bytes() == before


def test_only_the_decided_row_changes_whatever_the_file_looks_like():
    data = (
        b"record_a,record_b,reason,score,decision,note\r\n"
        b'"ris:a,1",pubmed:1,fuzzy_title_doubtful,0.9000,,"kept, as typed"\r\n'
        b"embase:e2,pubmed:2,fuzzy_title_doubtful,0.8800,"
    )
    new = decided(data, ("embase:e2", "pubmed:2"), "different", "alice", "2026-12-01")
    assert new == (
        b"record_a,record_b,reason,score,decision,note,decided_by,decided_on\r\n"
        b'"ris:a,1",pubmed:1,fuzzy_title_doubtful,0.9000,,"kept, as typed"\r\n'
        b"embase:e2,pubmed:2,fuzzy_title_doubtful,0.8800,different,,alice,2026-12-01"
    )


def test_no_registry_yet_shows_an_empty_queue(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_repo(tmp_path)
    client = client_for()[0]
    assert 'id="no-pairs"' in client.get("/duplicates/").get_data(as_text=True)
    assert 'id="duplicates-to-decide"' not in client.get("/status/").get_data(as_text=True)


def test_a_queue_without_a_column_the_registry_needs_is_not_written(repo):
    bad = "record_a,record_b,decision\nembase:e1,pubmed:1,\n"
    queue(repo).write_text(bad)
    client, csrf = client_for()
    page = client.get("/duplicates/").get_data(as_text=True)
    reply = decide(client, csrf, seen_of(page), "same")
    assert reply.status_code == 422
    text = reply.get_data(as_text=True)
    assert (
        "reviews/demo/retrieval/registry/doubtful.csv, column &#39;reason&#39;: column missing"
        in text
    )
    assert queue(repo).read_text() == bad


def test_a_long_queue_is_shown_a_page_at_a_time(repo, monkeypatch):
    from livingmeta.app import duplicates

    monkeypatch.setattr(duplicates, "PAGE", 1)
    page = client_for()[0].get("/duplicates/").get_data(as_text=True)
    assert page.count('class="pair"') == 1 and "Pair 1 of 2" in page
    assert "1 more pair(s) to decide" in page and "Packer M" in page
    assert "Jones B" not in page  # the second pair's records are not read


def test_records_with_ids_json_escapes_are_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_repo(tmp_path)
    odd = 'embase:é"1\\'
    registry = Registry()
    registry.upsert(
        [
            Record(record_id="pubmed:1", source="pubmed", title=TITLE, authors=("Ng A",)),
            Record(record_id=odd, source="embase", title=TITLE, authors=("Zed B",)),
        ],
        "run1",
    )
    registry.deduplicate()
    registry.save(folder(tmp_path))
    assert [(p.record_a, p.record_b) for p in registry.doubtful] == [(odd, "pubmed:1")]
    page = client_for()[0].get("/duplicates/").get_data(as_text=True)
    assert "Ng A" in page and "Zed B" in page and "not in the registry" not in page


def test_a_registry_kept_outside_the_review_folder_is_decided_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = make_repo(tmp_path) / "config/config.yaml"
    config.write_text(config.read_text().replace("    title:", "    state: state/demo\n    title:"))
    registry = Registry()
    registry.upsert(records(), "run1")
    registry.deduplicate()
    registry.save(tmp_path / "state/demo/registry")
    client, csrf = client_for()
    seen = seen_of(client.get("/duplicates/").get_data(as_text=True))
    assert decide(client, csrf, seen, "same").status_code == 302
    decisions = {
        p.record_a: p.decision for p in Registry.load(tmp_path / "state/demo/registry").doubtful
    }
    assert decisions == {"embase:e1": "same", "embase:e2": ""}


def test_a_blank_line_in_the_queue_is_no_pair(repo):
    queue(repo).write_text(HEADER + FIRST + "\n" + SECOND + "\n")
    client, csrf = client_for()
    page = client.get("/duplicates/").get_data(as_text=True)
    assert page.count('class="pair"') == 2
    before = queue(repo).read_bytes()
    assert decide(client, csrf, seen_of(page), "same", "", "").status_code == 400
    assert queue(repo).read_bytes() == before


def test_a_decision_during_a_search_run_is_refused_at_once(repo):
    """A search run holds the registry's lock for minutes: the screen says so and writes
    nothing, instead of hanging until the run ends."""
    import threading

    from livingmeta.retrieval.registry_files import registry_lock

    client, csrf = client_for()
    seen = seen_of(client.get("/duplicates/").get_data(as_text=True))
    before = queue(repo).read_bytes()
    holding, release = threading.Event(), threading.Event()

    def search_run() -> None:
        with registry_lock(folder(repo)):
            holding.set()
            release.wait(30)

    run = threading.Thread(target=search_run)
    run.start()
    try:
        assert holding.wait(30)
        reply = decide(client, csrf, seen, "same")
    finally:
        release.set()
        run.join()
    assert reply.status_code == 409
    assert "writing the registry" in reply.get_data(as_text=True)
    assert queue(repo).read_bytes() == before
    assert decide(client, csrf, seen, "same").status_code == 302  # once the run is over
