"""The workspace's safety rules: who may send a form, and writes that lose nothing.

- Every POST carries the app's CSRF token (a random value only the app's own pages hold);
  a page from another site cannot read it, so it cannot make the browser write.
- Requests must name the host the app is bound to (stops DNS rebinding); off localhost a
  shared token is needed as well.
- A form carries the digest of the file it was built from. At write time, under the
  file's lock, the file must still be that version (or, for append-only files, that
  version plus appended rows); otherwise the write is refused and the page shows what
  changed, with the reviewer's input kept in the form.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from pathlib import Path

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_COOKIE = "livingmeta_token"
_KEPT_VERSIONS = 256


class StaleFile(Exception):
    """The file changed since the page was shown; nothing was written."""

    def __init__(self, path: Path, before: bytes | None, now: bytes) -> None:
        super().__init__(f"{path.name} changed since this page was shown; nothing was saved")
        self.path, self.before, self.now = path, before, now

    def diff(self) -> str:
        """What changed, as a unified diff (or the current file when the old one is gone)."""
        now = self.now.decode("utf-8", errors="replace").splitlines()
        if self.before is None:
            return "\n".join(now)
        before = self.before.decode("utf-8", errors="replace").splitlines()
        lines = difflib.unified_diff(before, now, "as shown", "on disk now", lineterm="", n=1)
        return "\n".join(lines)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Versions:
    """The file versions pages were built from, by digest, so a refused write can show
    what changed since (kept in memory; the oldest are forgotten first)."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()  # the server answers requests in threads

    def read(self, path: Path) -> tuple[bytes, str]:
        """The file's bytes (empty when missing) and their digest, remembered."""
        data = path.read_bytes() if path.exists() else b""
        key = digest(data)
        with self._lock:
            self._kept[key] = data
            self._kept.move_to_end(key)
            while len(self._kept) > _KEPT_VERSIONS:
                self._kept.popitem(last=False)
        return data, key

    def check(self, path: Path, seen: str, now: bytes, *, append_only: bool = False) -> None:
        """Raise :class:`StaleFile` unless ``now`` is the version ``seen`` (or, for an
        append-only file, that version with rows appended after it)."""
        if digest(now) == seen:
            return
        with self._lock:
            before = self._kept.get(seen)
        if append_only and before is not None and now.startswith(before):
            return
        raise StaleFile(path, before, now)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def same_secret(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given), expected)


def allowed_host(host_header: str, bound: set[str]) -> bool:
    """The request's ``Host`` (without port) is one the app answers to."""
    host = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
    return host.strip("[]").lower() in bound
