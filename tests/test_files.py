"""The shared file helpers: atomic writes, locks and software versions."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest

from livingmeta.config import REPO_ROOT
from livingmeta.files import atomic_open, lock_file, software_versions, write_json, write_text


def test_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "out" / "summary.txt"
    write_text(target, "before\n")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half of the new")
        raise RuntimeError("the step failed")
    assert target.read_text() == "before\n"
    assert [p.name for p in target.parent.iterdir()] == ["summary.txt"]


def test_json_is_key_sorted_so_reruns_are_byte_identical(tmp_path):
    write_json(tmp_path / "a.json", {"b": 1, "a": [1, 2]})
    write_json(tmp_path / "b.json", {"a": [1, 2], "b": 1})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_lock_held_by_another_process_is_refused_at_once_without_waiting(tmp_path):
    path = tmp_path / "run.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom livingmeta.files import lock_file\n"
         "with lock_file(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)\n",
         str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(BlockingIOError), lock_file(path, wait=False):
            pass
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 30
    while True:  # the kernel releases the lock of a killed process
        try:
            with lock_file(path, wait=False):
                break
        except BlockingIOError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_software_versions_name_missing_distributions_as_none():
    versions = software_versions("numpy", "surely-not-installed-dist")
    assert versions["livingmeta"] and versions["python"].count(".") == 2
    assert versions["numpy"] and versions["surely-not-installed-dist"] is None


def test_retrieval_does_not_import_screening():
    """One direction only: screening builds on retrieval's records, never the reverse."""
    offenders = []
    for path in sorted((REPO_ROOT / "livingmeta" / "retrieval").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n.startswith("livingmeta.screening") for n in names):
                offenders.append(str(Path(path).relative_to(REPO_ROOT)))
    assert offenders == []


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc only")
def test_written_files_get_the_umask_without_it_being_set(tmp_path, monkeypatch):
    """Steps run as threads of Snakemake's process: setting the umask to read it would,
    for an instant, apply to the files other threads create."""
    import os
    import stat

    previous = os.umask(0o027)
    try:

        def refuse(mask: int) -> int:
            raise AssertionError("the umask was set")

        monkeypatch.setattr(os, "umask", refuse)
        write_text(tmp_path / "summary.md", "x\n")
        monkeypatch.undo()
        assert stat.S_IMODE((tmp_path / "summary.md").stat().st_mode) == 0o640
    finally:
        os.umask(previous)
