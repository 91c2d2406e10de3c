"""One hybrid-model fit (76,000 rows, 30 features, 1.6% buyers) on 1 and 2 OpenMP threads, and the library default.

Why the pipeline's kernels run with OMP_NUM_THREADS=1 (clvlib.pipeline.execute.kernel_environment): scikit-learn's
gradient boosting spins its OpenMP threads, and on a 2-core machine with anything else running, two threads can be
fifty times slower than one. Run it on an idle machine and on a busy one:

    python scripts/bench_threads.py
"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from clvlib.models.two_part import TwoPartModel


def main() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(76_000, 30)), columns=[f"c{i}" for i in range(30)])
    y = np.where(rng.random(76_000) < 0.016, rng.gamma(2, 50, 76_000), 0.0)
    for threads in (1, 2):
        t = time.perf_counter()
        with threadpool_limits(threads):
            TwoPartModel().fit(X, y).predict(X)
        print(f"{threads} thread(s): fit + predict in {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
