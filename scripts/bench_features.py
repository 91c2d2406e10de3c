"""Time the snapshot features (stage 04) on the demo at 1x and 10x Olist: the old pandas path against the engine.

A benchmark, not a test: timings depend on the machine and never go in ``tests/``.

    python scripts/bench_features.py                       # 1x and 10x Olist, pandas and duckdb, 7 cuts
    python scripts/bench_features.py --sizes 1 --paths duckdb,spark
    python scripts/bench_features.py --cuts 16             # as many cuts as a default run (4 backtests + the forecast)

1x is 96,096 customers (as many people as Olist), 10x 960,960. For each size the demo is generated, cleaned
(stages 01-02) and linked (stage 03, through the engine) once into ``--work-dir`` (default: a folder in the
temporary directory, reused when it holds that size), then every (size, path) runs in a fresh process:

* ``snapshots``: :func:`clvlib.features.snapshots.build_snapshots`, every customer's features at every cut;
* ``clicks``: :func:`clvlib.features.snapshots.build_click_snapshots`, the linked users' features at every cut.

The ``pandas`` path is the code the engine replaced, kept as the test oracle (``tests/engine/engine_oracle.py``).
Reported: wall time, the process's peak RSS, and the peak minus the RSS after loading the inputs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine"))

OLIST_PEOPLE = 96_096
PATHS = ("pandas", "duckdb", "spark")


def _status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (Linux), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mb() -> float:
    """The current resident set size in MB."""
    return _status_mb("VmRSS") or _peak_mb()


def _peak_mb() -> float:
    """This process's peak resident set size in MB (VmHWM: unlike ru_maxrss it is not inherited over exec)."""
    return _status_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cuts(n: int):
    """``n`` monthly snapshot cuts ending at the default cut-off 2018-02-28, latest first."""
    from clvlib.features.snapshots import snapshot_cuts
    from clvlib.features.temporal import window

    return snapshot_cuts(window("2018-02-28", 6, n - 1, 1))


def prepare(folder: Path, size: float, cuts: int) -> Path:
    """Generate, clean and link the demo of ``size`` x Olist into ``folder`` (reused when done)."""
    from clvlib.data.clickstream import clean_events, read_clickstream
    from clvlib.data.datasets import read_key
    from clvlib.data.sources import find_raw_files
    from clvlib.data.transactions import build_orders, read_olist
    from clvlib.demo.generate import generate_demo
    from clvlib.features.snapshots import build_links, methods_for

    n = int(round(OLIST_PEOPLE * size))
    out = folder / f"demo-{n}-cuts{cuts}"
    if (out / "links.parquet").is_file():
        return out
    t = time.perf_counter()
    raw = out / "raw"
    if not (raw / "DEMO_DATA.json").is_file():
        generate_demo(raw, n_customers=n, seed=42)
    files = find_raw_files(raw)
    orders, _, _ = build_orders(read_olist(files))
    events, _ = clean_events(read_clickstream(files["clickstream"]))
    key, _ = read_key(raw)
    links, _ = build_links(orders, events, _cuts(cuts), methods_for(["rank", "random"], has_key=key is not None),
                           key=key)
    orders.to_parquet(out / "orders.parquet")
    events.to_parquet(out / "events.parquet")
    links.to_parquet(out / "links.parquet")
    print(f"  prepared {n:,} customers, {len(orders):,} orders, {len(events):,} events, {len(links):,} links "
          f"in {time.perf_counter() - t:.0f} s ({out})", flush=True)
    return out


def child(data: Path, path: str, what: str, cuts: int) -> dict:
    """Run one measurement in this process and return its figures."""
    import pandas as pd

    orders = pd.read_parquet(data / "orders.parquet")
    events = pd.read_parquet(data / "events.parquet") if what == "clicks" else None
    links = pd.read_parquet(data / "links.parquet") if what == "clicks" else None
    cut_list = _cuts(cuts)
    if path == "pandas":
        import engine_oracle as impl

        run = (lambda: impl.build_snapshots(orders, cut_list)) if what == "snapshots" else \
            (lambda: impl.build_click_snapshots(orders, events, links, cut_list))
        impl.population_features(orders.iloc[:1], cut_list[0])  # import pymc-marketing before the clock starts
    else:
        from clvlib.engine.backend import arrow_table, run_sql
        from clvlib.features.snapshots import build_click_snapshots, build_snapshots

        # load the engine (and start Spark's JVM) before the clock starts
        run_sql("SELECT COUNT(*) AS n FROM t", {"t": arrow_table(orders.iloc[:1], {"x": "order_id"})}, path)
        run = (lambda: build_snapshots(orders, cut_list, engine=path)) if what == "snapshots" else \
            (lambda: build_click_snapshots(orders, events, links, cut_list, engine=path))
    base = _rss_mb()
    t = time.perf_counter()
    out = run()
    secs = time.perf_counter() - t
    return {"seconds": round(secs, 2), "rows": len(out), "peak_mb": round(_peak_mb()), "extra_mb": round(_peak_mb() - base)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1,10", help="multiples of Olist's 96,096 people (default: %(default)s)")
    p.add_argument("--paths", default="pandas,duckdb", help=f"of {', '.join(PATHS)} (default: %(default)s)")
    p.add_argument("--what", default="snapshots,clicks", help="snapshots, clicks (default: %(default)s)")
    p.add_argument("--cuts", type=int, default=7, help="snapshot cuts, monthly to 2018-02-28 (default: %(default)s)")
    p.add_argument("--work-dir", default=str(Path(tempfile.gettempdir()) / "clvlib-bench-features"),
                   help="where the generated demo data go (default: %(default)s)")
    p.add_argument("--child", nargs=3, metavar=("DATA", "PATH", "WHAT"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(Path(args.child[0]), args.child[1], args.child[2], args.cuts)))
        return 0
    paths = [x for x in args.paths.split(",") if x]
    bad = [x for x in paths if x not in PATHS]
    if bad:
        p.error(f"unknown path(s) {bad}; choose from {list(PATHS)}")
    folder = Path(args.work_dir)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores; {args.cuts} cuts; data in {folder}", flush=True)
    rows = []
    for size in [float(s) for s in args.sizes.split(",") if s]:
        data = prepare(folder, size, args.cuts)
        for what in args.what.split(","):
            for path in paths:
                proc = subprocess.run([sys.executable, __file__, "--cuts", str(args.cuts), "--child", str(data), path,
                                       what], capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
                if proc.returncode != 0:
                    print(proc.stderr[-2000:], file=sys.stderr)
                    return 1
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append((f"{size:g}x", what, path, r))
                print(f"  {size:g}x  {what:<9} {path:<6}  {r['seconds']:>8.2f} s  peak RSS {r['peak_mb']:>6,} MB  "
                      f"(+{r['extra_mb']:,} MB)  {r['rows']:,} rows", flush=True)
    print("\n| size | features | path | seconds | peak RSS (MB) | of which the computation (MB) |")
    print("|---|---|---|---|---|---|")
    for size, what, path, r in rows:
        print(f"| {size} | {what} | {path} | {r['seconds']:.2f} | {r['peak_mb']:,} | {r['extra_mb']:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
