"""An installed wheel works outside the checkout: schemas and templates ship as package
data, and nothing reads files relative to the repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from livingmeta.config import REPO_ROOT

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "README.md", "livingmeta")


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, check=False, env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The package built as a wheel from a copy of its sources and installed (without
    dependencies: they are this interpreter's) into a folder of its own."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    build = "from setuptools import build_meta; print(build_meta.build_wheel('../dist'))"
    wheel = root / "dist" / run("-c", build, cwd=source).strip().splitlines()[-1]
    target = root / "site-packages"
    run("-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target),
        str(wheel), cwd=root)  # fmt: skip
    return target


def test_wheel_ships_the_schemas_and_templates(installed):
    package = installed / "livingmeta"
    assert sorted(p.name for p in (package / "schemas").glob("*.yaml")) == [
        "config.schema.yaml",
        "decisions.schema.yaml",
        "queue.schema.yaml",
        "studies.schema.yaml",
    ]
    assert (package / "site" / "templates" / "review.html.j2").is_file()
    assert (package / "report" / "templates" / "run_report.html.j2").is_file()
    assert (package / "app" / "templates" / "screening.html").is_file()
    assert (package / "app" / "static" / "htmx.min.js").is_file()


def test_installed_validate_runs_outside_the_checkout(installed, tmp_path):
    shutil.copy2(REPO_ROOT / "config" / "config.yaml", tmp_path / "review.yaml")
    shutil.copytree(REPO_ROOT / "reviews", tmp_path / "reviews")
    env = {"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"}
    where = run("-c", "import livingmeta; print(livingmeta.__file__)", cwd=tmp_path, env=env)
    assert Path(where.strip()).is_relative_to(installed)
    out = run("-m", "livingmeta.cli", "validate", "--config", "review.yaml", cwd=tmp_path, env=env)
    assert "review.yaml: valid; 1 review(s) checked: rescue_stenting" in out


def test_installed_pool_runs_outside_the_checkout(installed, tmp_path):
    shutil.copy2(REPO_ROOT / "reviews" / "rescue_stenting" / "extraction.csv", tmp_path)
    env = {"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"}
    args = ("--outcome", "mortality_90d", "--measure", "OR", "--method", "MH")
    out = run("-m", "livingmeta.cli", "pool", "extraction.csv", *args, cwd=tmp_path, env=env)
    assert "0.39 [0.16, 0.93]" in out
