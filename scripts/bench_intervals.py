"""Time the per-customer intervals of stage 05 on a workspace (a benchmark, not a test).

Fits the BTYD models at the workspace's holdout cut-off as stage 05 does (no hybrid), then times
:func:`clvlib.models.compare.add_intervals` for each BTYD score with an interval, in this order,
each once as in a stage run (a fresh process, pytensor's compile cache as the last run left it),
then again (everything compiled). Prints the seconds and the unique rows each bootstrap works on.

    python scripts/bench_intervals.py /tmp/run/outputs/olist
    python scripts/bench_intervals.py /tmp/run/outputs/demo
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from clvlib.features.temporal import plan  # noqa: E402
from clvlib.models.compare import add_intervals, compare_at  # noqa: E402
from clvlib.pipeline.context import open_stage  # noqa: E402

MODELS = ("bgnbd", "bgnbd+first", "bgnbd+cov")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", help="a workspace folder of a finished run (outputs/<name>)")
    args = parser.parse_args()
    ctx = open_stage("07", args.workspace, show=False)  # a stage that reads the split, the orders and the snapshots
    meta = ctx.load("model_params")
    orders, snaps = ctx.load("orders"), ctx.load("snapshots")
    w = plan(**meta["plan"])["backtests"][0]
    t0 = time.perf_counter()
    result = compare_at(snaps, None, orders, w, [], btyd_models=("bgnbd",), **meta["options"])
    print(f"{ctx.workspace.folder.name}: {len(result.features):,} people at {w['cut'].date()}; BTYD fits "
          f"{time.perf_counter() - t0:.1f} s")
    cov = result.fitted.get("bgnbd+cov")
    if cov is not None:
        print(f"  bgnbd+cov: {len(cov.covariates)} coefficients, {cov.n_unique_rows_:,} unique rows in its fit")
    for round_ in ("first call", "again"):
        for m in MODELS:
            if m not in result.fitted:
                continue
            t0 = time.perf_counter()
            note = add_intervals(result, m, seed=meta["options"]["seed"])
            print(f"  {round_:10s} {m:12s} {time.perf_counter() - t0:6.2f} s  {note[:60]}")


if __name__ == "__main__":
    main()
