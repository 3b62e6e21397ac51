"""The reference review's outputs, byte for byte: a change of structure must not change a
single published number, figure or page.

The workflow is run offline (the sources fail at once) on a copy of the repository's
review, with a fixed run date and clock (``SOURCE_DATE_EPOCH``), so every output is
deterministic. Checksums of the published outputs (not the hidden ``.validated/``
scratch files) are kept in ``tests/data/reference_outputs.json``; after a
deliberate change of an output, regenerate them with
``LIVINGMETA_UPDATE_REFERENCE=1 pytest tests/test_reference_outputs.py`` and review the
diff of that file (also after adding an output, so that it is covered). Software
versions (recorded as provenance) are masked, so an upgrade of Python or a library alone
does not fail the test. Figures are compared only when matplotlib draws text with the
DejaVu fonts it ships, since other fonts change their bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

import pytest

from livingmeta.files import ANALYSIS_SOFTWARE, software_versions
from tests.workflow_copy import copy_workflow, run_snakemake

pytestmark = pytest.mark.slow

CHECKSUMS = Path(__file__).parent / "data" / "reference_outputs.json"
RUN_DATE = "2026-12-02"
EPOCH = "1796198400"  # 2026-12-02T08:00:00Z
FIGURES = (".png", ".svg", ".pdf")


def closed_port() -> int:
    """A local port nobody listens on: every request is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def masked(data: bytes, port: int) -> bytes:
    """The file with the versions of the software that produced it and the port of the
    unreachable sources (in their error messages) masked."""
    data = data.replace(f":{port}/".encode(), b":<port>/").replace(
        f"port={port}".encode(), b"port=<port>"
    )
    versions = software_versions(*ANALYSIS_SOFTWARE)
    for name, version in sorted(versions.items(), key=lambda kv: -len(kv[1] or "")):
        if version:
            data = data.replace(version.encode(), f"<{name}>".encode())
    return data


def checksums(results: Path, port: int) -> dict[str, str]:
    return {
        str(p.relative_to(results)): hashlib.sha256(masked(p.read_bytes(), port)).hexdigest()
        for p in sorted(results.rglob("*"))
        if p.is_file() and p.name != ".snakemake_timestamp" and ".validated" not in p.parts
    }


def bundled_fonts() -> bool:
    """True when the figures' text is set in the DejaVu fonts matplotlib ships."""
    import matplotlib
    from matplotlib import font_manager

    from livingmeta.plots import layout

    family = layout.font_family() if hasattr(layout, "font_family") else "DejaVu Sans"
    found = Path(font_manager.findfont(font_manager.FontProperties(family=family)))
    return Path(matplotlib.get_data_path()) in found.parents


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, str]:
    root = copy_workflow(tmp_path_factory.mktemp("reference"))
    port = closed_port()
    offline = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LIVINGMETA_EUTILS_URL": offline,
        "LIVINGMETA_CTGOV_URL": offline,
        "SOURCE_DATE_EPOCH": EPOCH,
    }
    run_snakemake(root, RUN_DATE, env)
    return checksums(root / "results", port)


def test_reference_outputs_are_unchanged(outputs):
    if os.environ.get("LIVINGMETA_UPDATE_REFERENCE"):
        CHECKSUMS.parent.mkdir(exist_ok=True)
        CHECKSUMS.write_text(json.dumps(outputs, indent=2, sort_keys=True) + "\n")
    expected = json.loads(CHECKSUMS.read_text())
    missing = sorted(set(expected) - set(outputs))
    compare_figures = bundled_fonts()
    changed = [
        name
        for name, digest in sorted(expected.items())
        if name in outputs
        and (compare_figures or not name.endswith(FIGURES))
        and outputs[name] != digest
    ]
    assert not (missing or changed), f"no longer written: {missing}; changed: {changed}"
