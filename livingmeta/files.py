"""File helpers every step shares: atomic writes, locks and the software versions that
go into provenance.

Why one module: a reader must never see a half-written output, two processes must never
interleave a read-modify-write, and provenance must name the same software everywhere.
Each of these is easy to get subtly wrong, so each is written once.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

try:  # POSIX only; elsewhere writes are still atomic, just not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

# -- atomic writes ------------------------------------------------------------------------


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; it replaces ``path`` only if the block succeeds.

    A failed run thus leaves the previous file in place (``os.replace`` is atomic).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.fchmod(fd, _default_mode())  # mkstemp makes 0600; outputs should be readable as usual
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _default_mode() -> int:
    """0666 minus the process umask: what ``open()`` would have created."""
    return 0o666 & ~_process_umask()


def _process_umask() -> int:
    """The process umask, read without setting it where the system tells it (Linux).

    Why: reading it with ``os.umask`` sets it for an instant, and files other threads
    create in that instant (workflow steps run as threads of Snakemake's process) would
    get the temporary mask."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0)
    os.umask(umask)
    return umask


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON so reruns give byte-identical files."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike[str] | None) -> dict[str, Any]:
    """A JSON file's content; empty when there is no path or no file yet (an output a
    step has not written, e.g. before a review's first run)."""
    if not path or not Path(path).exists():
        return {}
    return json.loads(Path(path).read_text(encoding="utf-8"))


# -- locks --------------------------------------------------------------------------------


@contextmanager
def locked(path: str | os.PathLike[str], *, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on the folder of ``path`` (read-modify-replace is not atomic).

    Why ``flock``: the kernel releases it when the process dies, so a crashed run never
    leaves a stale lock behind. Waits until the lock is free, or with ``wait`` false
    raises ``BlockingIOError`` at once when another holds it.
    """
    folder = Path(path).parent
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def lock_file(path: str | os.PathLike[str], *, wait: bool = True) -> Iterator[IO[str]]:
    """Hold an exclusive ``flock`` on the file ``path`` (created if missing) and yield it.

    The file is never deleted (deleting a lock file lets two processes lock two different
    files); the holder may write who it is into the yielded handle.

    Raises
    ------
    BlockingIOError
        At once, when ``wait`` is false and another process holds the lock.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        if fcntl is not None:
            flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
            fcntl.flock(handle.fileno(), flags)
        try:
            yield handle
        finally:
            if fcntl is not None:
                with suppress(OSError):
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# -- provenance ---------------------------------------------------------------------------

#: Libraries whose versions can change an analysis's numbers or figures.
ANALYSIS_SOFTWARE = ("numpy", "scipy", "pandas", "matplotlib")


def software_versions(*distributions: str) -> dict[str, str | None]:
    """Versions of livingmeta, Python and ``distributions`` (``None`` if not installed).

    Read from the installed package metadata, so no library is imported to ask it.
    """
    import importlib.metadata

    from livingmeta import __version__

    versions: dict[str, str | None] = {
        "livingmeta": __version__,
        "python": platform.python_version(),
    }
    for dist in distributions:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return versions
