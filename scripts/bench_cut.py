"""Time and memory of stage 05's work at one cut-off, step by step (a benchmark, not a test).

Runs :func:`clvlib.models.compare.compare_at` at the holdout cut-off of a workspace whose stages
00-04 have run (every BTYD model and every hybrid variant, as stage 05 does at its first backtest),
and prints, at each progress step, the seconds since the start, the peak resident memory so far,
the resident memory now and the most it reached during the step before (sampled every 0.2 s).
Nothing is written to the workspace.

With ``--cuts N`` it runs the first N backtest cut-offs as stage 05 does
(:func:`clvlib.models.compare.compare_backtests`: a shared fit cache, earlier cuts slimmed) and, at
the start of every cut, prints what the process holds: what stage 05 carries from one cut to the
next. Stage 05 itself hands freed memory back after every cut (:func:`clvlib.memory.release_free_memory`);
with ``--trim`` the benchmark also does so as each cut begins (after a garbage collection, then
``malloc_trim``) and prints what is left.

    python scripts/bench_cut.py /tmp/r30/outputs/demo-shop-2882880-seed42
    python scripts/bench_cut.py /tmp/r30/outputs/demo-shop-2882880-seed42 --cuts 2 [--trim]
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from clvlib import progress  # noqa: E402
from clvlib.memory import release_free_memory, resident_bytes  # noqa: E402
from clvlib.features.temporal import plan  # noqa: E402
from clvlib.models.compare import compare_at, compare_backtests  # noqa: E402
from clvlib.models.hybrid import variants_for  # noqa: E402
from clvlib.pipeline.context import open_stage  # noqa: E402


def resident_gb() -> float:
    """The process's resident memory now, in GB (Linux)."""
    return (resident_bytes() or 0) / 1e9


def peak_gb() -> float:
    """The process's peak resident memory so far, in GB (Linux: ``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", help="a workspace folder whose stages 00-04 have run (outputs/<name>)")
    parser.add_argument("--horizon-months", type=int, default=6)
    parser.add_argument("--train-windows", type=int, default=6)
    parser.add_argument("--cuts", type=int, default=0,
                        help="run the first N backtest cut-offs as stage 05 does and say what is held between them")
    parser.add_argument("--trim", action="store_true", help="with --cuts: return freed memory to the system at each cut")
    args = parser.parse_args()
    ctx = open_stage("05", args.workspace, show=False)
    orders, links, span = ctx.load("orders"), ctx.load("links_info"), ctx.load("orders_info")
    snaps, clicks = ctx.load("snapshots", lazy=True), ctx.load("click_snapshots", lazy=True)
    p = plan(None, span["analysis_date"], args.horizon_months, args.train_windows, 1, max(1, args.cuts), 1,
             data_start=span["first_order"], recent_windows=True)
    w = p["backtests"][0]
    variants = variants_for(has_key=links["real_key"], methods=tuple(m for m in links["methods"] if m != "key"))
    info = {i["method"]: i for i in links["snapshots"] if i["cutoff"] == str(w["cut"].date())}

    t0, step = time.perf_counter(), {"label": "reading the inputs", "max": resident_gb()}

    def sample() -> None:
        while True:
            step["max"] = max(step["max"], resident_gb())
            time.sleep(0.2)

    def report(message: str, i: int | None = None, n: int | None = None) -> None:
        print(f"{time.perf_counter() - t0:7.1f} s  peak {peak_gb():5.2f} GB  now {resident_gb():5.2f} GB  "
              f"(step before: at most {step['max']:5.2f} GB)  | {message}", flush=True)
        step.update(label=message, max=resident_gb())

    def between(message: str, i: int | None = None, n: int | None = None) -> None:
        if message.startswith("models at"):  # a cut begins: what is held from before it
            held = resident_gb()
            if args.trim:
                gc.collect()
                collected = resident_gb()
                release_free_memory()
                print(f"{time.perf_counter() - t0:7.1f} s  held {held:5.2f} GB; after gc {collected:5.2f} GB; after "
                      f"malloc_trim {resident_gb():5.2f} GB", flush=True)
            else:
                print(f"{time.perf_counter() - t0:7.1f} s  held {held:5.2f} GB", flush=True)
        report(message, i, n)

    threading.Thread(target=sample, daemon=True).start()
    progress.step = report  # every layer calls progress.step through the module
    if args.cuts:
        progress.step = between
        info_at = {c: {i["method"]: i for i in links["snapshots"] if i["cutoff"] == str(c.date())} for c in p["cuts"]}
        results, _ = compare_backtests(snaps, clicks, orders, p["backtests"][:args.cuts], variants, link_info=info_at)
        between("models at the end")
        print(f"{ctx.workspace.folder.name}: {args.cuts} cut(s), {time.perf_counter() - t0:.0f} s, peak {peak_gb():.2f} GB")
        return
    result = compare_at(snaps, clicks, orders, w, variants, link_info=info, label="bench", lifetime=True)
    report("done")
    print(f"{ctx.workspace.folder.name}: {len(result.features):,} people at {w['cut'].date()}, {len(variants)} hybrid "
          f"variant(s); {time.perf_counter() - t0:.0f} s, peak {peak_gb():.2f} GB")


if __name__ == "__main__":
    main()
