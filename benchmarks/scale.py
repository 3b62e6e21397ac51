"""How the workflow scales with the size of the portfolio: no-op runs and one new study.

A living portfolio is rerun every week and usually nothing changed, so the run that
matters most is the no-op run: it must stay fast as reviews are added. This script builds
synthetic portfolios (copies of the reference review's outcomes with randomised 2x2 data,
each with its own id) in a temporary folder with their own config (retrieval disabled:
no network), runs the workflow once to build everything, then prints:

- the wall time of a no-op run (nothing new) for 1 review and for N reviews (median of
  ``--repeat`` runs, each a real ``snakemake`` run, not a dry run);
- the wall time of a run after one review gained a study in one outcome, and which jobs
  reran (only that review's outcome, its summary and ``all`` should).

Usage::

    python benchmarks/scale.py                 # 1 and 50 reviews, 2 cores
    python benchmarks/scale.py --reviews 10 --keep /tmp/scale   # keep the folders
    python benchmarks/scale.py --profile       # also profile the N-review no-op run

Figures are printed, nothing is written in the repository.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "rescue_stenting"
WORKFLOW_FILES = ("Snakefile", "profiles", "workflow", "scripts")
JOB_LINE = re.compile(r"^(?:local)?rule (\w+):\s*$")
WILDCARDS = re.compile(r"^\s+wildcards: (.*)$")


def reference_review() -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The reference review's config entry and extraction rows."""
    config = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())
    spec = next(r for r in config["reviews"] if r["id"] == REFERENCE)
    with open(REPO_ROOT / "reviews" / REFERENCE / "extraction.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return spec, rows


def randomise(rows: list[dict[str, str]], rng: np.random.Generator) -> list[dict[str, str]]:
    """Same studies and outcomes, new 2x2 tables (totals 20-200, events 1..total-1)."""
    out = []
    for row in rows:
        new = dict(row)
        for arm in ("treat", "ctrl"):
            total = int(rng.integers(20, 201))
            new[f"total_{arm}"] = str(total)
            new[f"events_{arm}"] = str(int(rng.integers(1, total)))
        out.append(new)
    return out


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue())


def build_portfolio(root: Path, n: int, formats: list[str], seed: int) -> list[str]:
    """A workflow folder with ``n`` synthetic reviews and a config of its own."""
    for name in WORKFLOW_FILES:
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, root / name)
        else:
            shutil.copy2(REPO_ROOT / name, root / name)
    spec, rows = reference_review()
    rng = np.random.default_rng(seed)
    reviews, ids = [], []
    for i in range(1, n + 1):
        review_id = f"synthetic_{i:03d}"
        entry = {k: v for k, v in spec.items() if k not in ("searches", "folder", "citation")}
        entry.update(id=review_id, title=f"Synthetic review {i}", folder=f"reviews/{review_id}")
        reviews.append(entry)
        ids.append(review_id)
        write_rows(root / "reviews" / review_id / "extraction.csv", randomise(rows, rng))
    config = {
        "reviews": reviews,
        "retrieval": {"enabled": False},
        "plots": {"formats": formats, "dpi": 72},
    }
    (root / "config").mkdir(exist_ok=True)
    (root / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return ids


def snakemake(root: Path, cores: int, *extra: str) -> tuple[float, str, int]:
    """One real run; returns wall seconds, the output and the exit status."""
    command = [sys.executable, "-m", "snakemake", "--cores", str(cores), *extra]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, proc.stdout + proc.stderr, proc.returncode


def jobs_run(output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a run started."""
    jobs: list[tuple[str, str]] = []
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if match := JOB_LINE.match(line):
            wildcards = ""
            for following in lines[i + 1 : i + 10]:
                if found := WILDCARDS.match(following):
                    wildcards = found[1]
                    break
            jobs.append((match[1], wildcards))
    return jobs


def no_op_seconds(root: Path, cores: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        seconds, output, status = snakemake(root, cores)
        if status != 0 or "Nothing to be done" not in output:
            raise RuntimeError(f"not a no-op run in {root}:\n{output[-2000:]}")
        times.append(seconds)
    return statistics.median(times)


def add_study(root: Path, review_id: str, outcome: str) -> None:
    """One review gains a study in one outcome (a new row in its extraction table)."""
    path = root / "reviews" / review_id / "extraction.csv"
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    template = next(r for r in rows if r["outcome"] == outcome)
    new = dict(template, study_id="newstudy2026", study_label="New 2026", year="2026")
    new.update(events_treat="12", total_treat="80", events_ctrl="18", total_ctrl="79")
    write_rows(path, [*rows, new])


def profile_no_op(root: Path, cores: int) -> str:
    """cProfile of a no-op run in-process: where Snakemake spends the time."""
    import pstats

    out = root / "noop.prof"
    command = [
        sys.executable, "-m", "cProfile", "-o", str(out), "-m", "snakemake", "--cores", str(cores)
    ]  # fmt: skip
    subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    buffer = io.StringIO()
    pstats.Stats(str(out), stream=buffer).sort_stats("cumulative").print_stats(25)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviews", type=int, default=50, help="size of the large portfolio")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="no-op runs to take the median of")
    parser.add_argument("--formats", default="png", help="plot formats, comma-separated")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--keep", type=Path, help="build the portfolios here and keep them")
    parser.add_argument("--profile", action="store_true", help="profile the large no-op run")
    args = parser.parse_args(argv)
    formats = args.formats.split(",")

    base = args.keep or Path(tempfile.mkdtemp(prefix="livingmeta-scale-"))
    figures: dict[str, Any] = {}
    try:
        for n in sorted({1, args.reviews}):
            root = base / f"reviews_{n}"
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            ids = build_portfolio(root, n, formats, args.seed)
            seconds, output, status = snakemake(root, args.cores)
            if status != 0:
                print(output[-4000:], file=sys.stderr)
                return 1
            built = jobs_run(output)
            print(f"{n:>3} review(s): first run {seconds:7.1f} s, {len(built)} jobs", flush=True)
            figures[f"noop_{n}"] = no_op_seconds(root, args.cores, args.repeat)
            print(f"{n:>3} review(s): no-op run {figures[f'noop_{n}']:7.2f} s", flush=True)
            if n == args.reviews:
                target = ids[len(ids) // 2]
                add_study(root, target, "sich")
                seconds, output, status = snakemake(root, args.cores)
                reran = jobs_run(output)
                by_rule = Counter(rule for rule, _ in reran)
                outside = [(r, w) for r, w in reran if w and f"review={target}" not in w]
                print(
                    f"{n:>3} review(s): {target} gains a study in 'sich': {seconds:.1f} s, "
                    f"{len(reran)} jobs reran ({dict(by_rule)}); "
                    f"jobs of other reviews: {len(outside)}",
                    flush=True,
                )
                if status != 0 or outside:
                    print(output[-4000:], file=sys.stderr)
                    return 1
                if args.profile:
                    print(profile_no_op(root, args.cores))
        print(
            f"no-op: 1 review {figures['noop_1']:.2f} s, {args.reviews} reviews "
            f"{figures[f'noop_{args.reviews}']:.2f} s (aim: < 30 s on 2 cores)"
        )
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
