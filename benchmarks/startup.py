"""Start-up time of the ``livingmeta`` command: ``--help`` and an import of one record.

Every workflow job and every command a reviewer types pays Python start-up plus imports;
this prints the median wall time of each (aim: under 0.5 s), next to a bare interpreter.

Usage: python benchmarks/startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RIS = "TY  - JOUR\nTI  - A synthetic trial\nAU  - Doe, Jane\nPY  - 2021\nID  - CN-1\nER  - \n"
CONFIG = "reviews:\n  - id: r1\n    outcomes:\n      - name: death\n"


def median_seconds(argv: list[str], repeat: int, cwd: Path) -> float:
    """Median wall time of ``repeat`` runs of ``argv`` (each must succeed)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    cli = [sys.executable, "-m", "livingmeta.cli"]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "config").mkdir()
        (root / "config" / "config.yaml").write_text(CONFIG)
        (root / "one.ris").write_text(RIS)
        one_record = ["import", "one.ris", "--format", "ris", "--source", "central"]
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "livingmeta --help": [*cli, "--help"],
            "livingmeta import (1 record, dry run)": [*cli, *one_record, "--dry-run"],
            "livingmeta import (1 record)": [*cli, *one_record],
        }
        for name, argv in cases.items():
            print(f"{name:40s} {median_seconds(argv, repeat, root):6.3f} s (median of {repeat})")


if __name__ == "__main__":
    main()
