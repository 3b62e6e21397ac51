"""Throughput of the batch pooling path: N random-effects meta-analyses of k studies
(odds ratios from simulated 2x2 counts), with REML and DL tau2.

Prints one line per setting, the throughput of the batch Egger test and of the batch
meta-regression on one covariate (REML), the peak memory of a run with N = 100,000, and
last the line ``pooled_per_second=<number>`` (REML, the slower estimator). For comparison,
R metafor's ``rma(method="REML")`` takes about 2 ms per analysis of 10 studies on this
machine; ``Rscript benchmarks/metafor_rma.R 300 10`` measures it, ``regtest`` and
``rma(mods = ~x)`` where R and metafor are installed (in one run on a busy machine:
rma REML 9.4 ms, regtest 4.6 ms, rma with mods 20.8 ms per analysis).

Usage: python benchmarks/pooling.py [--n 20000] [--k 10] [--memory-n 100000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from livingmeta.stats import BinaryData, pool
from livingmeta.stats.batch import pool_batch_binary
from livingmeta.stats.batch_regression import egger_batch, meta_regression_batch


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


# metafor's time per analysis relative to its own rma(method="REML") in the same run of
# metafor_rma.R (regtest 4.6 / 9.4 ms, rma with mods 20.8 / 9.4 ms), scaled to the 2 ms above.
METAFOR_MS = {"egger": 2.0 * 4.6 / 9.4, "metareg": 2.0 * 20.8 / 9.4}


def regression_throughput(n: int, k: int, seed: int = 2026) -> None:
    """Batch Egger test and meta-regression (REML, one covariate) on simulated effects."""
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.3, size=(n, k))
    x = rng.uniform(10, 60, size=(n, k))
    yi = -0.4 + 0.02 * (x - 35) + rng.normal(0, np.sqrt(vi + 0.05))
    design = np.stack([np.ones_like(x), x], axis=-1)
    runs = {
        "egger": lambda: egger_batch(yi, vi),
        "metareg": lambda: meta_regression_batch(yi, vi, design, "REML"),
    }
    for name, run in runs.items():
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        rate = n / seconds
        print(
            f"{name}: N={n} k={k} {seconds:.3f} s, {rate:,.0f} analyses/s; "
            f"vs metafor at ~{METAFOR_MS[name]:.1f} ms/analysis: "
            f"{rate * METAFOR_MS[name] / 1e3:.0f}x"
        )


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

    regression_throughput(args.n, args.k)

    big = simulate(args.memory_n, args.k)
    tracemalloc.start()
    pool_batch_binary(*big, "OR", "REML")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory, N={args.memory_n} k={args.k} REML: {peak / 2**20:.0f} MiB")
    print(f"pooled_per_second={rates['REML']:.0f}")


if __name__ == "__main__":
    main()
