"""Time ``clvlib.evaluation.bootstrap.bootstrap`` at production size and report peak memory.

A benchmark, not a test: timings depend on the machine and never go in ``tests/``.

    python scripts/bench_metrics.py                      # 55,000 x 5 models x 1,000 resamples
    python scripts/bench_metrics.py --n 20000 --n-boot 200

Synthetic data shaped like our holdout: ~1.2% buyers with lognormal spend, five
scores of decreasing quality, two of them heavily tied (rounded, mostly zero).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from clvlib.evaluation.bootstrap import bootstrap  # noqa: E402


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    buyer = rng.random(n) < 0.012
    y = np.where(buyer, rng.lognormal(4.5, 1.0, n), 0.0)
    signal = np.log1p(y)
    scores = {
        "good": signal + rng.normal(0, 1.0, n),
        "fair": signal + rng.normal(0, 3.0, n),
        "rounded": np.round(signal + rng.normal(0, 1.5, n)),  # a few dozen tie groups
        "mostly_zero": np.where(rng.random(n) < 0.8, 0.0, signal + rng.random(n)),  # 80% tied at 0
        "noise": rng.random(n),
    }
    return y, scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=55_000, help="customers")
    ap.add_argument("--n-boot", type=int, default=1_000, help="resamples")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs (the best is reported)")
    args = ap.parse_args()

    y, scores = make_data(args.n)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        table = bootstrap(y, scores, n_boot=args.n_boot, seed=0, baseline="noise")
        times.append(time.perf_counter() - t0)

    tracemalloc.start()
    bootstrap(y, scores, n_boot=args.n_boot, seed=0, baseline="noise")
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    print(f"bootstrap: {args.n:,} customers x {len(scores)} models x {args.n_boot:,} resamples")
    print(f"  time: best {min(times):.2f} s over {args.repeat} run(s) ({', '.join(f'{t:.2f}' for t in times)})")
    print(f"  peak memory allocated during one call (tracemalloc): {traced_peak / 2**20:.0f} MiB")
    print(f"  peak process RSS: {rss_peak:.0f} MiB")
    with_cols = ["model", "metric", "estimate", "low", "high", "diff", "p_le_0"]
    print(table[with_cols].round(4).to_string(index=False))


if __name__ == "__main__":
    main()
