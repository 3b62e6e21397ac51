"""Portfolio mode of the review workspace: ``livingmeta review serve`` without
``--review`` over a config with several reviews serves a review picker, each review's
workspace under its id."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from livingmeta.app.portfolio import create_portfolio_app, open_portfolio
from livingmeta.cli import build_parser
from tests.app_fixtures import make_repo

MORE = """\
  - id: second
    title: Second <review>
    screening:
      reviewers: [alice, bob]
    outcomes:
      - name: death
  - id: closed
    title: Closed review
    screening:
      reviewers: [bob]
    outcomes:
      - name: death
"""


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = make_repo(tmp_path)
    config = root / "config/config.yaml"
    config.write_text(config.read_text() + MORE)
    return root


def test_picker_lists_every_review_and_serves_each_under_its_id(repo):
    entries = open_portfolio("config/config.yaml", "ALICE")
    assert [(e.id, e.workspace is not None) for e in entries] == [
        ("demo", True), ("second", True), ("closed", False),
    ]  # fmt: skip
    assert "not a reviewer of this review; the roster is: bob" in entries[2].reason
    client = Client(create_portfolio_app(entries, "ALICE"))
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/demo/">Demo review</a>' in page
    assert '<a href="/second/">Second &lt;review&gt;</a>' in page  # escaped
    assert 'href="/closed/' not in page and "Closed review" in page
    screening = client.get("/demo/screening/").get_data(as_text=True)
    assert 'href="/demo/extraction/"' in screening and screening.count('id="all-reviews"') == 1
    assert 'href="/demo/static/app.css"' in screening
    assert client.get("/second/status/").status_code == 200
    assert client.get("/closed/screening/").status_code == 404
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


def test_picker_needs_the_shared_token_off_localhost(repo):
    entries = open_portfolio("config/config.yaml", "alice", token="s3cret")
    client = Client(create_portfolio_app(entries, "alice"))
    assert client.get("/").status_code == 403
    assert client.get("/demo/screening/").status_code == 403
    assert client.get("/?token=s3cret").status_code == 200
    assert client.get("/demo/screening/").status_code == 200  # the cookie carries it


def test_review_serve_without_review_serves_the_picker(repo, monkeypatch):
    served = {}

    class Server:
        server_port = 8765

        def serve_forever(self):
            raise KeyboardInterrupt

        def server_close(self):
            pass

    def make_server(host, port, app, threaded):
        served["app"] = app
        return Server()

    monkeypatch.setattr("werkzeug.serving.make_server", make_server)
    args = build_parser().parse_args(["review", "serve", "--reviewer", "alice"])
    assert args.handler(args) == 0
    assert "/second/" in Client(served["app"]).get("/").get_data(as_text=True)
    args = build_parser().parse_args(["review", "serve", "--reviewer", "alice", "--review", "demo"])
    assert args.handler(args) == 0
    assert Client(served["app"]).get("/").status_code == 302  # the review itself
