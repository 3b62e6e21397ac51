"""The documented public API: every name in ``__all__`` resolves, the retrieval and plots
packages load their modules only when used, and the docstring examples run as doctests."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from livingmeta.config import REPO_ROOT

PUBLIC_PACKAGES = ("livingmeta.retrieval", "livingmeta.plots", "livingmeta.stats")


@pytest.mark.parametrize("package", PUBLIC_PACKAGES)
def test_every_public_name_resolves(package):
    module = importlib.import_module(package)
    names = module.__all__
    assert names and len(set(names)) == len(names)
    for name in names:
        assert getattr(module, name) is not None, name
        assert (getattr(module, name).__doc__ or "").strip(), f"{package}.{name}: no docstring"


def test_public_names_come_from_their_modules():
    import livingmeta.plots as plots
    import livingmeta.retrieval as retrieval
    from livingmeta.plots.save import save_figure
    from livingmeta.retrieval.registry import Registry

    assert retrieval.Registry is Registry and plots.save_figure is save_figure
    assert {"Registry", "registry"} <= set(dir(retrieval))
    with pytest.raises(AttributeError, match="no attribute 'Missing'"):
        _ = retrieval.Missing


@pytest.mark.parametrize(
    "package, heavy",
    [
        ("livingmeta.retrieval", ("requests", "lxml", "rapidfuzz")),
        ("livingmeta.plots", ("matplotlib", "scipy", "pandas")),
        ("livingmeta.stats", ("scipy", "pandas")),
        ("livingmeta.config", ("scipy", "pandas", "matplotlib")),
    ],
)
def test_importing_a_package_loads_none_of_its_modules(package, heavy):
    code = (
        f"import sys, json, {package}\n"
        f"print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_docstring_examples_are_collected_as_doctests():
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "livingmeta/stats/pooling.py"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "livingmeta/stats/pooling.py::livingmeta.stats.pooling.pool" in proc.stdout, proc.stdout
