"""Shared test fixtures: where the recorded API responses and reference results live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("LIVINGMETA_SHARED", REPO_ROOT.parent / "shared"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-network",
        action="store_true",
        help="also run tests marked 'network' (they talk to the real APIs)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-network"):
        return
    skip = pytest.mark.skip(reason="needs --run-network")
    for item in items:
        if "network" in item.keywords:
            item.add_marker(skip)


def _require(path: Path) -> Path:
    # Missing shared data is a broken checkout, not a reason to skip: fail loudly.
    if not path.exists():
        raise FileNotFoundError(f"{path} not found; set LIVINGMETA_SHARED to the shared/ folder")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return _require(SHARED_DIR)


@pytest.fixture(scope="session")
def fixtures_dir(shared_dir: Path) -> Path:
    """Recorded PubMed and ClinicalTrials.gov responses (read in place, never copied)."""
    return _require(shared_dir / "fixtures")


@pytest.fixture(scope="session")
def reference_dir(shared_dir: Path) -> Path:
    """R metafor reference results."""
    return _require(shared_dir / "reference")


@pytest.fixture(scope="session")
def seed_dir(shared_dir: Path) -> Path:
    """The reference review's paper and extracted 2x2 data."""
    return _require(shared_dir / "seed")


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A copy of the reference review (config and files), as the working directory; a
    module may define its own ``review``."""
    import shutil

    from livingmeta.config import REPO_ROOT, load_config, reviews

    monkeypatch.chdir(tmp_path)
    shutil.copy2(REPO_ROOT / "config" / "config.yaml", "config.yaml")
    shutil.copytree(REPO_ROOT / "reviews", "reviews")
    return reviews(load_config("config.yaml"))["rescue_stenting"]
