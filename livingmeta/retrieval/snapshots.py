"""Immutable, dated snapshots of exactly what each source answered in a run.

Why: a living review must be able to show, years later, what PubMed and
ClinicalTrials.gov returned on a given day and re-derive every record from it. PubMed's
automatic term mapping (``QueryTranslation``) and ClinicalTrials.gov's data change under
the same query, so the raw answer is the only reproducible evidence.

Layout of one run::

    snapshots/<run_id>/manifest.json            sha256 + size of every file, versions
    snapshots/<run_id>/<source>/0001.meta.json  the redacted request, times, counts, ...
    snapshots/<run_id>/<source>/0001.raw.gz     the response body, gzip (mtime 0)

:meth:`SnapshotWriter.finalise` writes the manifest and makes every file read-only; a
finalised snapshot is never written again (:class:`SnapshotExistsError`). :func:`replay`
yields the stored responses in order, after checking them against the manifest, so any
past run can be fed through today's parsers.

Secrets: request descriptions pass through :func:`livingmeta.retrieval.http.redact`, and
anything that still carries an ``api_key`` value is refused (:class:`SecretLeakError`)
rather than written. Known secret values (``secrets=``) are masked in response bodies
too, because NCBI echoes the key in its 429 body.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from livingmeta.config import RetrievalFiles
from livingmeta.files import software_versions, write_bytes, write_json
from livingmeta.retrieval.http import HttpResponse
from livingmeta.retrieval.redaction import REDACTED, SECRET_PARAMS, redact

MANIFEST = "manifest.json"
#: Libraries that shape a snapshot's contents, recorded with their versions.
SNAPSHOT_SOFTWARE = ("biopython", "requests")
FORMAT_VERSION = 1
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SECRET_ASSIGNMENT = re.compile(
    r"\b(?:" + "|".join(sorted(SECRET_PARAMS)) + r")\s*(?:=|%3D|:)\s*[\"']?(?P<value>[^&\s\"',;]+)",
    re.IGNORECASE,
)


class SnapshotExistsError(FileExistsError):
    """The run already has a finalised snapshot; snapshots are immutable."""


class SecretLeakError(ValueError):
    """Request metadata still holds a secret after redaction; nothing was written."""


class SnapshotIntegrityError(RuntimeError):
    """A snapshot file is missing, extra, or differs from its manifest."""


class SnapshotWriter:
    """Write one run's raw responses into ``<review_state_dir>/snapshots/<run_id>/``.

    Parameters
    ----------
    review_state_dir
        The review's state folder.
    run_id
        Identifier of the run; becomes a directory name, so no path separators.
    secrets
        Literal secret values (e.g. the NCBI API key) to mask in anything written.
    now
        Clock returning an aware ``datetime``; injectable for tests.

    Raises
    ------
    SnapshotExistsError
        If the run's snapshot was already finalised.

    Notes
    -----
    Each source may be written by its own process (one Snakemake rule per source) with
    its own writer; a writer only ever clears the folder of a source it is about to
    write, because what a crashed earlier attempt left there is scratch. Any writer for
    the run can :meth:`finalise` it once every source is done.
    """

    def __init__(
        self,
        review_state_dir: str | os.PathLike[str],
        run_id: str,
        *,
        secrets: Iterable[str] = (),
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if not run_id or run_id in {".", ".."} or "/" in run_id or "\\" in run_id:
            raise ValueError(f"run_id must be a plain directory name, got {run_id!r}")
        self.run_id = run_id
        self.root = RetrievalFiles(Path(review_state_dir)).snapshots / run_id
        self.secrets = tuple(s for s in secrets if s)
        self._now = now or (lambda: datetime.now(UTC))
        self._sequence: dict[str, int] = {}
        self._finalised = False
        if (self.root / MANIFEST).exists():
            raise SnapshotExistsError(f"snapshot {self.root} is finalised and immutable")

    def add_response(
        self,
        source: str,
        request: Mapping[str, Any],
        body: bytes,
        *,
        started_at: datetime,
        finished_at: datetime | None = None,
        http_status: int | None = None,
        count: int | None = None,
        total_count: int | None = None,
        query_translation: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Path:
        """Store one response body and its metadata; return the path of the body file.

        Parameters
        ----------
        source
            Lower-case source name (``pubmed``, ``ctgov``, ``embase``...).
        request
            The request as sent, already redacted (e.g. ``HttpResponse.request``).
        body
            The raw response bytes.
        started_at, finished_at
            Aware datetimes of the request; ``finished_at`` defaults to now.
        http_status, count, total_count, query_translation
            Status code, records in this response, the source's total (``Count`` /
            ``totalCount``) and PubMed's ``QueryTranslation``.
        headers
            Response headers worth keeping (e.g. ``Content-Type``, ``x-total-count``).
        extra
            Anything else worth keeping (window, page token, ``dataTimestamp``...).

        Raises
        ------
        SecretLeakError
            If a secret is still present in the request or ``extra`` after redaction.
        """
        if self._finalised:
            raise SnapshotExistsError(f"snapshot {self.root} is finalised and immutable")
        if not _SOURCE_NAME.match(source):
            raise ValueError(f"source must be a lower-case name, got {source!r}")
        request_meta = _scrubbed(request, self.secrets, "request")
        extra_meta = _scrubbed(dict(extra or {}), self.secrets, "extra")
        header_meta = _scrubbed(dict(headers or {}), self.secrets, "headers")
        body = redact(body, self.secrets) if self.secrets else body
        folder = self.root / source
        if source not in self._sequence and folder.exists():
            shutil.rmtree(folder)  # left by a crashed attempt at this run: scratch
        seq = self._sequence.get(source, 0) + 1
        self._sequence[source] = seq
        raw_name, meta_name = f"{seq:04d}.raw.gz", f"{seq:04d}.meta.json"
        write_bytes(folder / raw_name, gzip.compress(body, mtime=0))
        meta = {
            "body_bytes": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "count": count,
            "extra": extra_meta,
            "finished_at": _iso(finished_at or self._now()),
            "headers": header_meta,
            "http_status": http_status,
            "query_translation": query_translation,
            "raw_file": raw_name,
            "request": request_meta,
            "run_id": self.run_id,
            "sequence": seq,
            "software": software_versions(*SNAPSHOT_SOFTWARE),
            "source": source,
            "started_at": _iso(started_at),
            "total_count": total_count,
        }
        write_json(folder / meta_name, meta)
        return folder / raw_name

    def add_http_response(
        self, source: str, response: HttpResponse, *, started_at: datetime, **details: Any
    ) -> Path:
        """Store an :class:`~livingmeta.retrieval.http.HttpResponse` (request, status, body,
        ``Content-Type``); ``details`` are passed on to :meth:`add_response`."""
        content_type = response.headers.get("Content-Type")
        return self.add_response(
            source,
            response.request,
            response.content,
            started_at=started_at,
            http_status=response.status_code,
            headers={"Content-Type": content_type} if content_type else None,
            **details,
        )

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        """A run that dies with an exception still leaves a finalised, verifiable snapshot
        of what it received, marked failed, rather than a half-written folder."""
        if exc_type is not None and not self._finalised and self.root.exists():
            self.finalise(failed=f"{exc_type.__name__}: {exc}")

    def finalise(self, *, failed: str | None = None) -> Path:
        """Write ``manifest.json`` and make every file read-only; return the manifest path.

        ``failed`` says why the run did not complete; the manifest then has
        ``"status": "failed"`` and the (redacted) reason, and the files are kept as the
        evidence of what the sources answered before the failure.
        """
        if self._finalised or (self.root / MANIFEST).exists():
            raise SnapshotExistsError(f"snapshot {self.root} is finalised and immutable")
        self.root.mkdir(parents=True, exist_ok=True)
        files = {
            path.relative_to(self.root).as_posix(): _file_digest(path)
            for path in sorted(self.root.rglob("*"))
            if path.is_file()
        }
        manifest = {
            "files": files,
            "finalised_at": _iso(self._now()),
            "format_version": FORMAT_VERSION,
            "run_id": self.run_id,
            "software": software_versions(*SNAPSHOT_SOFTWARE),
            "sources": sorted(p.name for p in self.root.iterdir() if p.is_dir()),
            "status": "failed" if failed else "complete",
        }
        if failed:
            manifest["error"] = redact(failed, self.secrets)
        write_json(self.root / MANIFEST, manifest)
        for name in [*files, MANIFEST]:
            path = self.root / name
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        self._finalised = True
        return self.root / MANIFEST


def finalise_abandoned(review_state_dir: str | os.PathLike[str], current_run_id: str) -> list[str]:
    """Finalise, as failed, every snapshot folder an earlier run left without a manifest.

    A run killed mid-search (power cut, OOM killer, CI timeout) cannot finalise its own
    snapshot; the next run does it, so no folder stays unverifiable forever. The run in
    progress (``current_run_id``) is left alone: its sources may still be writing.

    Returns
    -------
    list of str
        The run ids finalised.
    """
    root = RetrievalFiles(Path(review_state_dir)).snapshots
    done = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and folder.name != current_run_id and not (folder / MANIFEST).exists():
            writer = SnapshotWriter(review_state_dir, folder.name)
            writer.finalise(failed="interrupted: the run ended before finalising its snapshot")
            done.append(folder.name)
    return done


def verify_snapshot(snapshot_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Check a finalised snapshot against its manifest; return the manifest.

    Raises
    ------
    SnapshotIntegrityError
        If the manifest is missing or a file is missing, extra or changed.
    """
    root = Path(snapshot_dir)
    if not (root / MANIFEST).exists():
        raise SnapshotIntegrityError(f"{root} has no {MANIFEST}: not a finalised snapshot")
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {MANIFEST}
    expected = set(manifest["files"])
    if present != expected:
        raise SnapshotIntegrityError(
            f"{root}: missing {sorted(expected - present)}, unexpected {sorted(present - expected)}"
        )
    for name, digest in manifest["files"].items():
        if _file_digest(root / name) != digest:
            raise SnapshotIntegrityError(f"{root / name} does not match its manifest sha256")
    return manifest


def replay(
    snapshot_dir: str | os.PathLike[str], source: str | None = None, *, verify: bool = True
) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Yield ``(metadata, raw_bytes)`` for every stored response, in the order received.

    Parameters
    ----------
    snapshot_dir
        A run's snapshot directory (``snapshots/<run_id>``).
    source
        Only this source; default all, in alphabetical order.
    verify
        Check the manifest first (default); turn off only to inspect a damaged snapshot.
    """
    root = Path(snapshot_dir)
    if verify:
        verify_snapshot(root)
    folders = [root / source] if source else sorted(p for p in root.iterdir() if p.is_dir())
    for folder in folders:
        for meta_path in sorted(folder.glob("*.meta.json")):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            body = gzip.decompress((folder / meta["raw_file"]).read_bytes())
            if hashlib.sha256(body).hexdigest() != meta["body_sha256"]:
                raise SnapshotIntegrityError(f"{folder / meta['raw_file']}: body sha256 differs")
            yield meta, body


def _scrubbed(value: Mapping[str, Any], secrets: tuple[str, ...], what: str) -> Any:
    """Redact, then refuse anything that still looks like a secret value."""
    cleaned = _plain(redact(value, secrets))
    leak = _find_secret(cleaned)
    if leak:
        raise SecretLeakError(f"{what} metadata still contains a secret ({leak}); not written")
    return cleaned


def _plain(value: Any) -> Any:
    # JSON shapes only; tuples become lists so the stored form equals the reloaded one.
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _find_secret(value: Any, path: str = "") -> str | None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).lower() in SECRET_PARAMS and item != REDACTED:
                return f"{path}/{key}"
            found = _find_secret(item, f"{path}/{key}")
            if found:
                return found
    elif isinstance(value, list):
        # [name, value] pairs, the shape HttpTransport.describe stores parameters in.
        is_pair = len(value) == 2 and isinstance(value[0], str)
        if is_pair and value[0].lower() in SECRET_PARAMS and value[1] != REDACTED:
            return f"{path}/{value[0]}"
        for k, item in enumerate(value):
            found = _find_secret(item, f"{path}/{k}")
            if found:
                return found
    elif isinstance(value, str):
        for match in _SECRET_ASSIGNMENT.finditer(value):
            if match["value"] != REDACTED:
                return f"{path} (text)"
    return None


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"timestamps must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
