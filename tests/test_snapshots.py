"""Snapshots (immutable raw responses, replay, no secrets) and the committed search state."""

from __future__ import annotations

import gzip
import json
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from livingmeta.retrieval.http import HttpResponse
from livingmeta.retrieval.search_state import SearchState, SearchWindow
from livingmeta.retrieval.snapshots import (
    SecretLeakError,
    SnapshotExistsError,
    SnapshotIntegrityError,
    SnapshotWriter,
    finalise_abandoned,
    replay,
    verify_snapshot,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
ESEARCH = b"<eSearchResult><Count>2</Count><IdList><Id>1</Id><Id>2</Id></IdList></eSearchResult>"
SECRET = "0123456789abcdef0123456789abcdef0123"


def fixed_clock() -> datetime:
    return T0 + timedelta(minutes=5)


def write_run(state_dir: Path, run_id: str = "2026-11-25") -> SnapshotWriter:
    writer = SnapshotWriter(state_dir, run_id, now=fixed_clock)
    writer.add_response(
        "pubmed",
        {"method": "GET", "url": "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi"},
        ESEARCH,
        started_at=T0,
        http_status=200,
        count=2,
        total_count=2,
        query_translation='"neoplasms"[MeSH Terms]',
        extra={"window": ["2026-11-18", "2026-11-25"]},
    )
    writer.add_response("pubmed", {"method": "POST", "url": "efetch"}, b"<a/>", started_at=T0)
    writer.add_response(
        "ctgov", {"method": "GET", "url": "studies"}, b'{"studies": []}', started_at=T0
    )
    return writer


# -- snapshots ------------------------------------------------------------------------------


def test_snapshot_layout_metadata_and_manifest(tmp_path: Path):
    write_run(tmp_path).finalise()
    root = tmp_path / "snapshots" / "2026-11-25"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == [
        "ctgov/0001.meta.json",
        "ctgov/0001.raw.gz",
        "manifest.json",
        "pubmed/0001.meta.json",
        "pubmed/0001.raw.gz",
        "pubmed/0002.meta.json",
        "pubmed/0002.raw.gz",
    ]
    assert gzip.decompress((root / "pubmed/0001.raw.gz").read_bytes()) == ESEARCH
    meta = json.loads((root / "pubmed/0001.meta.json").read_text())
    assert meta["query_translation"] == '"neoplasms"[MeSH Terms]'
    assert (meta["count"], meta["total_count"], meta["http_status"]) == (2, 2, 200)
    assert meta["started_at"] == "2026-11-25T08:00:00Z"
    assert meta["finished_at"] == "2026-11-25T08:05:00Z"
    assert set(meta["software"]) == {"python", "livingmeta", "biopython", "requests"}
    manifest = verify_snapshot(root)
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    assert manifest["sources"] == ["ctgov", "pubmed"]


def test_finalised_snapshot_is_read_only_and_never_overwritten(tmp_path: Path):
    writer = write_run(tmp_path)
    writer.finalise()
    root = tmp_path / "snapshots" / "2026-11-25"
    for path in root.rglob("*"):
        if path.is_file():
            assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    with pytest.raises(SnapshotExistsError):
        writer.add_response("pubmed", {"url": "x"}, b"late", started_at=T0)
    with pytest.raises(SnapshotExistsError):
        writer.finalise()
    with pytest.raises(SnapshotExistsError):
        SnapshotWriter(tmp_path, "2026-11-25")
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_http_response_is_stored_with_its_request_and_content_type(tmp_path: Path):
    response = HttpResponse(
        status_code=200,
        content=b'{"totalCount": 0, "studies": []}',
        headers={"Content-Type": "application/json", "Set-Cookie": "session=1"},
        request={"method": "GET", "url": "https://clinicaltrials.gov/api/v2/studies?x=1"},
    )
    writer = SnapshotWriter(tmp_path, "run1", now=fixed_clock)
    writer.add_http_response("ctgov", response, started_at=T0, total_count=0)
    writer.finalise()
    ((meta, body),) = replay(tmp_path / "snapshots" / "run1")
    assert body == response.content
    assert meta["request"] == response.request
    assert (meta["http_status"], meta["total_count"]) == (200, 0)
    assert meta["headers"] == {"Content-Type": "application/json"}


def test_unfinalised_snapshot_of_a_crashed_attempt_is_replaced(tmp_path: Path):
    crashed = SnapshotWriter(tmp_path, "run1", now=fixed_clock)
    crashed.add_response("pubmed", {"url": "old"}, b"old", started_at=T0)
    crashed.add_response("pubmed", {"url": "old2"}, b"old2", started_at=T0)
    retry = SnapshotWriter(tmp_path, "run1", now=fixed_clock)
    retry.add_response("pubmed", {"url": "new"}, b"new", started_at=T0)
    retry.finalise()
    assert [body for _, body in replay(tmp_path / "snapshots" / "run1")] == [b"new"]


def test_sources_written_by_separate_processes_share_one_snapshot(tmp_path: Path):
    pubmed = SnapshotWriter(tmp_path, "run1", now=fixed_clock)
    ctgov = SnapshotWriter(tmp_path, "run1", now=fixed_clock)
    pubmed.add_response("pubmed", {"url": "esearch"}, ESEARCH, started_at=T0)
    ctgov.add_response("ctgov", {"url": "studies"}, b"{}", started_at=T0)
    manifest = json.loads(SnapshotWriter(tmp_path, "run1", now=fixed_clock).finalise().read_text())
    assert manifest["sources"] == ["ctgov", "pubmed"]
    assert [m["source"] for m, _ in replay(tmp_path / "snapshots" / "run1")] == [
        "ctgov",
        "pubmed",
    ]


def test_snapshot_bytes_are_reproducible(tmp_path: Path):
    write_run(tmp_path / "a").finalise()
    write_run(tmp_path / "b").finalise()
    a, b = tmp_path / "a/snapshots/2026-11-25", tmp_path / "b/snapshots/2026-11-25"
    for path in a.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (b / path.relative_to(a)).read_bytes(), path


def test_replay_yields_every_response_in_order(tmp_path: Path):
    write_run(tmp_path).finalise()
    root = tmp_path / "snapshots" / "2026-11-25"
    replayed = [(m["source"], m["sequence"], body) for m, body in replay(root)]
    assert replayed == [
        ("ctgov", 1, b'{"studies": []}'),
        ("pubmed", 1, ESEARCH),
        ("pubmed", 2, b"<a/>"),
    ]
    only = [m["request"]["url"] for m, _ in replay(root, "pubmed")]
    assert only[1] == "efetch"


def test_replay_refuses_a_tampered_or_unfinalised_snapshot(tmp_path: Path):
    write_run(tmp_path).finalise()
    root = tmp_path / "snapshots" / "2026-11-25"
    target = root / "pubmed" / "0002.raw.gz"
    target.chmod(0o644)
    target.write_bytes(gzip.compress(b"<changed/>", mtime=0))
    with pytest.raises(SnapshotIntegrityError, match=r"0002\.raw\.gz"):
        list(replay(root))
    (root / "pubmed" / "0003.raw.gz").write_bytes(b"")
    with pytest.raises(SnapshotIntegrityError, match="unexpected"):
        verify_snapshot(root)
    partial = SnapshotWriter(tmp_path, "partial")
    partial.add_response("pubmed", {"url": "x"}, b"x", started_at=T0)
    with pytest.raises(SnapshotIntegrityError, match="manifest"):
        list(replay(tmp_path / "snapshots" / "partial"))
    assert [b for _, b in replay(tmp_path / "snapshots" / "partial", verify=False)] == [b"x"]


def _all_bytes(folder: Path) -> bytes:
    return b"".join(
        gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    )


def test_api_key_in_request_is_redacted_before_writing(tmp_path: Path):
    writer = SnapshotWriter(tmp_path, "run1", secrets=[SECRET], now=fixed_clock)
    writer.add_response(
        "pubmed",
        {
            "method": "GET",
            "url": f"https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi?db=pubmed&api_key={SECRET}",
            "params": {"db": "pubmed", "api_key": SECRET},
        },
        b'{"error":"API rate limit exceeded","api-key":"' + SECRET.encode() + b'"}',
        started_at=T0,
    )
    writer.finalise()
    stored = _all_bytes(tmp_path)
    assert SECRET.encode() not in stored
    ((meta, body),) = replay(tmp_path / "snapshots" / "run1")
    assert meta["request"]["params"] == {"db": "pubmed", "api_key": "REDACTED"}
    assert meta["request"]["url"].endswith("api_key=REDACTED")
    assert b"REDACTED" in body


@pytest.mark.parametrize(
    "request_meta",
    [
        {"url": "esearch", "params": [["db", "pubmed"], ["api_key", "k3y"]]},
        {"url": "esearch", "note": "sent with API_KEY: k3y"},
    ],
)
def test_secret_that_redaction_misses_is_refused(tmp_path: Path, request_meta):
    writer = SnapshotWriter(tmp_path, "run1")
    with pytest.raises(SecretLeakError):
        writer.add_response("pubmed", request_meta, b"body", started_at=T0)
    assert _all_bytes(tmp_path) == b""


def test_bad_names_and_naive_times_are_rejected(tmp_path: Path):
    with pytest.raises(ValueError, match="run_id"):
        SnapshotWriter(tmp_path, "../escape")
    writer = SnapshotWriter(tmp_path, "run1")
    with pytest.raises(ValueError, match="source"):
        writer.add_response("PubMed/x", {"url": "x"}, b"", started_at=T0)
    with pytest.raises(ValueError, match="timezone"):
        writer.add_response("pubmed", {"url": "x"}, b"", started_at=datetime(2026, 1, 1))


# -- search state ---------------------------------------------------------------------------


def test_first_window_is_the_backfill_then_windows_overlap(tmp_path: Path):
    state = SearchState.load(tmp_path / "state.json")
    first = state.next_window("pubmed_main", date(2026, 11, 25), start_date=date(2000, 1, 1))
    assert first == SearchWindow("pubmed_main", date(2000, 1, 1), date(2026, 11, 25))
    assert state.next_window("pubmed_main", date(2026, 11, 25)).start is None
    state.commit_windows([first], run_id="r1", at=T0, sources={"pubmed_main": "pubmed"})
    reloaded = SearchState.load(tmp_path / "state.json")
    nxt = reloaded.next_window("pubmed_main", date(2026, 12, 2))
    assert nxt == SearchWindow("pubmed_main", date(2026, 11, 22), date(2026, 12, 2))
    assert reloaded.next_window("pubmed_main", date(2026, 12, 2), overlap_days=0).start == date(
        2026, 11, 25
    )
    with pytest.raises(ValueError, match="overlap_days"):
        reloaded.next_window("pubmed_main", date(2026, 12, 2), overlap_days=-1)


def test_failed_run_leaves_windows_unchanged_and_records_the_error(tmp_path: Path):
    path = tmp_path / "state.json"
    state = SearchState.load(path)
    with state.transaction("r1", ["pubmed_main", "ctgov_main"], now=lambda: T0) as run:
        run.succeeded(SearchWindow("pubmed_main", None, date(2026, 11, 25)), source="pubmed")
        run.succeeded(
            SearchWindow("ctgov_main", None, date(2026, 11, 25)),
            source="ctgov",
            data_timestamp="2026-11-25T09:00:06",
        )
    committed = json.loads(path.read_text())["searches"]

    later = T0 + timedelta(days=7)
    with (
        pytest.raises(RuntimeError, match="boom"),
        state.transaction("r2", ["pubmed_main", "ctgov_main"], now=lambda: later) as run,
    ):
        run.succeeded(SearchWindow("pubmed_main", date(2026, 11, 22), date(2026, 12, 2)))
        raise RuntimeError(f"boom while fetching esearch.fcgi?term=x&api_key={SECRET}")

    after = json.loads(path.read_text())["searches"]
    for search_id in ("pubmed_main", "ctgov_main"):
        unchanged = {k: v for k, v in after[search_id].items() if k != "last_failure"}
        assert unchanged == committed[search_id]
        failure = after[search_id]["last_failure"]
        assert failure["run_id"] == "r2" and failure["at"] == "2026-12-02T08:00:00Z"
        assert "boom" in failure["error"]
    assert SECRET not in path.read_text()
    reloaded = SearchState.load(path)
    assert reloaded.next_window("pubmed_main", date(2026, 12, 2)).start == date(2026, 11, 22)
    assert reloaded.data_unchanged("ctgov_main", "2026-11-25T09:00:06")
    assert not reloaded.data_unchanged("ctgov_main", "2026-12-02T09:00:00")


def test_successful_run_commits_all_windows_at_once(tmp_path: Path):
    path = tmp_path / "state.json"
    state = SearchState.load(path)
    with state.transaction("r1", ["a", "b"], now=lambda: T0) as run:
        run.succeeded(SearchWindow("a", None, date(2026, 11, 25)))
        assert not path.exists()  # nothing is written before the run ends
        run.succeeded(SearchWindow("b", date(2026, 1, 1), date(2026, 11, 24)))
    searches = json.loads(path.read_text())["searches"]
    assert searches["a"]["window_end"] == "2026-11-25"
    assert searches["b"]["window_start"] == "2026-01-01"
    assert searches["b"]["last_success"] == {"at": "2026-11-25T08:00:00Z", "run_id": "r1"}


def test_stale_sources_say_which_and_since_when(tmp_path: Path):
    state = SearchState.load(tmp_path / "state.json")
    state.commit_windows(
        [
            SearchWindow("fresh", None, date(2026, 11, 25)),
            SearchWindow("old", None, date(2026, 10, 1)),
        ],
        run_id="r1",
        at=T0,
        sources={"fresh": "pubmed", "old": "ctgov"},
    )
    state.commit_windows(
        [SearchWindow("old", None, date(2026, 10, 1))], run_id="r0", at=T0 - timedelta(days=30)
    )
    state.record_failure(["fresh"], run_id="r2", at=T0 + timedelta(hours=1), error="HTTP 500")
    stale = state.stale_sources(T0 + timedelta(days=1), expected=["never"])
    assert set(stale) == {"fresh", "old", "never"}
    assert stale["fresh"].failing and stale["fresh"].error == "HTTP 500"
    assert stale["fresh"].since == T0
    assert stale["old"].since == T0 - timedelta(days=30) and not stale["old"].failing
    assert stale["old"].source == "ctgov"
    assert stale["never"].since is None
    state.commit_windows(
        [SearchWindow("fresh", None, date(2026, 11, 26))], run_id="r3", at=T0 + timedelta(hours=2)
    )
    assert "fresh" not in state.stale_sources(T0 + timedelta(days=1))


def test_a_run_that_dies_leaves_a_finalised_snapshot_marked_failed(tmp_path: Path):
    with pytest.raises(RecursionError), SnapshotWriter(tmp_path, "run1", now=fixed_clock) as w:
        w.add_response("pubmed", {"url": "u"}, b"kept as evidence", started_at=T0)
        raise RecursionError("maximum recursion depth exceeded")
    manifest = verify_snapshot(tmp_path / "snapshots" / "run1")
    assert manifest["status"] == "failed"
    assert manifest["error"] == "RecursionError: maximum recursion depth exceeded"
    assert [body for _, body in replay(tmp_path / "snapshots" / "run1")] == [b"kept as evidence"]
    with SnapshotWriter(tmp_path, "run2", now=fixed_clock) as ok:
        ok.add_response("pubmed", {"url": "u"}, b"x", started_at=T0)
        ok.finalise()
    assert verify_snapshot(tmp_path / "snapshots" / "run2")["status"] == "complete"


def test_the_next_run_finalises_what_a_killed_run_left_half_written(tmp_path: Path):
    killed = SnapshotWriter(tmp_path, "2026-11-24", now=fixed_clock)
    killed.add_response("pubmed", {"url": "u"}, b"partial", started_at=T0)  # then kill -9
    current = SnapshotWriter(tmp_path, "2026-11-25", now=fixed_clock)
    current.add_response("ctgov", {"url": "u"}, b"in progress", started_at=T0)
    assert finalise_abandoned(tmp_path, "2026-11-25") == ["2026-11-24"]
    manifest = verify_snapshot(tmp_path / "snapshots" / "2026-11-24")
    assert manifest["status"] == "failed" and manifest["error"].startswith("interrupted")
    assert not (tmp_path / "snapshots" / "2026-11-25" / "manifest.json").exists()
    assert finalise_abandoned(tmp_path, "2026-11-25") == []  # idempotent
