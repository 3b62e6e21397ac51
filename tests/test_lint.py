"""The code stays ruff clean (lint and format), as the contributing standards require."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from livingmeta.config import REPO_ROOT

RUFF = Path(sys.executable).with_name("ruff")


def test_ruff_check_is_clean():
    proc = subprocess.run(
        [str(RUFF), "check", "."], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_is_clean():
    proc = subprocess.run(
        [str(RUFF), "format", "--check", "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
