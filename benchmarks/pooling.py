"""Throughput of the batch pooling path: N random-effects meta-analyses of k studies
(odds ratios from simulated 2x2 counts), with REML and DL tau2.

Prints one line per setting, the peak memory of a run with N = 100,000, and last the line
``pooled_per_second=<number>`` (REML, the slower estimator). For comparison, R metafor's
``rma(method="REML")`` takes about 2 ms per analysis of 10 studies on this machine
(``Rscript benchmarks/metafor_rma.R`` measures it where R and metafor are installed).

Usage: python benchmarks/pooling.py [--n 20000] [--k 10] [--memory-n 100000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from livingmeta.stats import BinaryData, pool
from livingmeta.stats.batch import pool_batch_binary


def simulate(n: int, k: int, seed: int = 2026) -> tuple[np.ndarray, ...]:
    """2x2 counts for n analyses of k trials with a true log OR of -0.3 and tau = 0.2."""
    rng = np.random.default_rng(seed)
    n1 = rng.integers(30, 300, size=(n, k))
    n2 = rng.integers(30, 300, size=(n, k))
    p_ctrl = rng.uniform(0.1, 0.4, size=(n, k))
    log_or = rng.normal(-0.3, 0.2, size=(n, k))
    odds = p_ctrl / (1 - p_ctrl) * np.exp(log_or)
    a = rng.binomial(n1, odds / (1 + odds))
    c = rng.binomial(n2, p_ctrl)
    return a, n1, c, n2


def check_identical(counts: tuple[np.ndarray, ...], method: str, samples: int = 20) -> float:
    """Largest relative difference between the batch path and one-at-a-time ``pool``."""
    batch = pool_batch_binary(*(x[:samples] for x in counts), "OR", method)
    worst = 0.0
    for i in range(samples):
        k = counts[0].shape[1]
        data = BinaryData(tuple(map(str, range(k))), *(x[i] for x in counts))
        single = pool(data, "OR", "IV", "random", method)
        worst = max(worst, abs(batch.estimate[i] - single.estimate) / abs(single.estimate))
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="number of meta-analyses")
    parser.add_argument("--k", type=int, default=10, help="studies per meta-analysis")
    parser.add_argument("--memory-n", type=int, default=100_000, help="N for the memory figure")
    args = parser.parse_args(argv)

    counts = simulate(args.n, args.k)
    rates = {}
    for method in ("DL", "REML"):
        pool_batch_binary(*(x[:100] for x in counts), "OR", method)  # warm-up
        start = time.perf_counter()
        pool_batch_binary(*counts, "OR", method)
        seconds = time.perf_counter() - start
        rates[method] = args.n / seconds
        diff = check_identical(counts, method)
        print(
            f"{method}: N={args.n} k={args.k} {seconds:.3f} s, {rates[method]:,.0f} analyses/s, "
            f"{1e3 * seconds / args.n:.4f} ms each; max rel. diff vs pool(): {diff:.1e}"
        )
    metafor_ms = 2.0
    speedup = rates["REML"] * metafor_ms / 1e3
    print(f"vs metafor rma() REML at ~{metafor_ms} ms/analysis: {speedup:.0f}x")

    big = simulate(args.memory_n, args.k)
    tracemalloc.start()
    pool_batch_binary(*big, "OR", "REML")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory, N={args.memory_n} k={args.k} REML: {peak / 2**20:.0f} MiB")
    print(f"pooled_per_second={rates['REML']:.0f}")


if __name__ == "__main__":
    main()
