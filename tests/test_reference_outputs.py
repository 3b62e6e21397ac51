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
DejaVu fonts it ships, since other fonts change their bytes. Numbers in JSON and CSV
files are compared to 10 significant digits: their last bit depends on the CPU.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
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
#: Files that hold numbers at full precision (compared to 10 significant digits).
DATA_FILES = (".json", ".csv")
#: What stands between a package's name and its version in the outputs: JSON (``"numpy":
#: "2.4.6"``), text (``numpy 2.4.6``) and HTML tables (``numpy</th><td>2.4.6``).
VERSION_AFTER_NAME = rb'(?:"?:\s*"|\s|</th><td>)'
NUMBER = re.compile(rb"(?<![\w.])-?\d+(?:\.\d+)?[eE][+-]?\d+|(?<![\w.])-?\d+\.\d+")


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
    for name, version in software_versions(*ANALYSIS_SOFTWARE).items():
        if version:
            # By name, not the bare version: two packages may share one (matplotlib 3.11.2
            # under Python 3.11.2).
            label = re.escape(name.encode())
            found = rb"(" + label + VERSION_AFTER_NAME + rb")" + re.escape(version.encode())
            data = re.sub(found, rb"\1<" + name.encode() + rb">", data)
    return data


def rounded(data: bytes) -> bytes:
    """Every decimal number in a data file (JSON, CSV) to 10 significant digits.

    Why: the full-precision floats of ``pooled.json`` differ in their last bit between
    CPUs (OpenBLAS and numpy pick kernels per CPU; an iterative bound such as a Q-profile
    CI inherits that), so their bytes cannot be pinned; any real change still shows."""
    return NUMBER.sub(lambda m: f"{float(m.group()):.10g}".encode(), data)


def checksums(results: Path, port: int) -> dict[str, str]:
    out = {}
    for path in sorted(results.rglob("*")):
        if not path.is_file() or path.name == ".snakemake_timestamp":
            continue
        if ".validated" in path.parts:
            continue
        data = masked(path.read_bytes(), port)
        if path.suffix in DATA_FILES:
            data = rounded(data)
        out[str(path.relative_to(results))] = hashlib.sha256(data).hexdigest()
    return out


def bundled_fonts() -> bool:
    """True when the figures' text is set in the DejaVu fonts matplotlib ships."""
    import matplotlib
    from matplotlib import font_manager

    from livingmeta.plots import layout

    family = layout.font_family() if hasattr(layout, "font_family") else "DejaVu Sans"
    found = Path(font_manager.findfont(font_manager.FontProperties(family=family)))
    return Path(matplotlib.get_data_path()) in found.parents


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory) -> tuple[dict[str, str], str]:
    """The checksums of the reference review's outputs, and Snakemake's (verbose) stderr."""
    root = copy_workflow(tmp_path_factory.mktemp("reference"))
    port = closed_port()
    offline = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LIVINGMETA_EUTILS_URL": offline,
        "LIVINGMETA_CTGOV_URL": offline,
        "SOURCE_DATE_EPOCH": EPOCH,
    }
    stderr = run_snakemake(root, RUN_DATE, env, probe=True)
    return checksums(root / "results", port), stderr


@pytest.fixture(scope="module")
def outputs(reference_run) -> dict[str, str]:
    return reference_run[0]


def test_table_steps_run_as_threads_of_snakemake_which_never_draws(reference_run):
    """The steps that read and write tables run in Snakemake's own process as threads (the
    workflow profile's force-use-threads), not as a Snakemake started for each; the steps
    that draw run in processes of their own, so matplotlib never enters Snakemake's."""
    stderr = reference_run[1]
    assert "workflow specific profile profiles/default" in stderr
    assert "localrule pool_outcome:" in stderr and "spawned job:" not in stderr
    assert "matplotlib in Snakemake's process: False" in stderr


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


def test_data_files_are_compared_to_ten_significant_digits():
    last_bit = rounded(b'{"tau2_ci_high": 0.7462601007681402, "k": 4, "p": 1.2e-05}')
    assert last_bit == rounded(b'{"tau2_ci_high": 0.7462601007681403, "k": 4, "p": 1.2e-05}')
    assert last_bit == b'{"tau2_ci_high": 0.7462601008, "k": 4, "p": 1.2e-05}'
    assert rounded(b"x,0.74626010,3") != rounded(b"x,0.74626011,3")
    assert rounded(b"2026-12-02T08:00:00Z,NCT01") == b"2026-12-02T08:00:00Z,NCT01"
