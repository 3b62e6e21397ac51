"""Run reports, retrieval reports and a stand-in webhook for the scheduled-run tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NCBI_KEY = "ncbi-secret-key-0123456789"
WEBHOOK_TOKEN = "T000/B000/hook-secret-token-xyz"


def changes_json(**overrides: Any) -> dict[str, Any]:
    """A run report (``results/<id>/report/changes.json``) with nothing in it."""
    data: dict[str, Any] = {
        "review": "rescue_stenting",
        "run_id": "2026-11-23T060000Z",
        "has_changes": False,
        "new_candidates": [],
        "conflicts": [],
        "newly_included": [],
        "retractions": [],
        "trial_changes": [],
        "estimate_changes": [],
        "stale_sources": [],
        "failed_sources": [],
        "invalid_data": [],
    }
    return data | overrides


def report_json(**overrides: Any) -> dict[str, Any]:
    """A retrieval report (``results/<id>/retrieval/report.json``) where all went well."""
    data: dict[str, Any] = {
        "review": "rescue_stenting",
        "run_id": "2026-11-23T060000Z",
        "started_at": "2026-11-23T06:00:00Z",
        "finished_at": "2026-11-23T06:00:09Z",
        "searches": [
            {"search_id": "pubmed_rescue_stenting", "source": "pubmed", "status": "ok"},
            {"search_id": "ctgov_rescue_stenting", "source": "ctgov", "status": "unchanged"},
        ],
        "new_candidates": 0,
        "linked_to_existing": 0,
        "changes": [],
        "stale": [],
        "prisma": {},
        "doubtful_pairs": 0,
    }
    return data | overrides


FAILED_SEARCH = {
    "search_id": "ctgov_rescue_stenting",
    "source": "ctgov",
    "status": "failed",
    "error": "HTTP 503 from https://clinicaltrials.gov/api/v2/studies",
}
STALE = {"search_id": "ctgov_rescue_stenting", "source": "ctgov", "since": None, "failing": True}


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


class Recorder:
    """A local HTTP server on 127.0.0.1 that records POSTs (a stand-in webhook)."""

    def __init__(self, status: int = 200) -> None:
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.posts.append((self.path, dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
