"""Time the chunked demo generator (``python -m clvlib.demo.big``) at multiples of Olist's size.

A benchmark, not a test: timings depend on the machine and never go in ``tests/``.

    python scripts/bench_generate.py                        # 1x and 10x Olist (96,096 and 960,960 persons)
    python scripts/bench_generate.py --sizes 1,10,100       # and 100x (9,609,600 persons)
    python scripts/bench_generate.py --sizes 10 --chunk 100000 --work-dir /tmp/gen

Each size runs in a fresh process, writing ``<work-dir>/gen<N>x`` (the export) and ``gen<N>x-truth``; the
folders are kept for a pipeline run (``python run_all.py --dataset <work-dir>/gen10x/shop.toml``). Reported per
size: persons, chunks, orders, events, wall time, the process's peak RSS, and the size on disk of the orders,
the events and the truth.
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

OLIST_PEOPLE = 96_096


def _one(out: str, n: int, seed: int, chunk: int) -> None:
    """In the child: generate one size and print its figures as JSON on the last line."""
    from clvlib.demo.big import generate_shop

    t0 = time.perf_counter()
    r = generate_shop(out, n, seed=seed, chunk=chunk, progress=lambda line: print("    " + line, flush=True))
    r["seconds"] = time.perf_counter() - t0
    r["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in r.items()}))


def _mb(path: Path) -> float:
    files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
    return sum(f.stat().st_size for f in files) / 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,10", help="multiples of Olist's 96,096 persons (default 1,10)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--chunk", type=int, default=None, help="persons per chunk (default: the generator's)")
    ap.add_argument("--work-dir", default=None, help="where the exports go (default: the temporary directory)")
    ap.add_argument("--one", nargs=2, metavar=("OUT", "N"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    from clvlib.demo.big import DEFAULT_CHUNK

    chunk = a.chunk or DEFAULT_CHUNK
    if a.one:
        _one(a.one[0], int(a.one[1]), a.seed, chunk)
        return 0
    work = Path(a.work_dir or tempfile.gettempdir())
    rows = []
    for mult in (float(s) for s in a.sizes.split(",")):
        n = int(round(mult * OLIST_PEOPLE))
        label = f"{mult:g}x"
        out = work / f"gen{label}"
        print(f"{label}: {n:,} persons into {out}", flush=True)
        env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
        proc = subprocess.Popen([sys.executable, __file__, "--one", str(out), str(n), "--seed", str(a.seed),
                                 "--chunk", str(chunk)], stdout=subprocess.PIPE, text=True, env=env)
        last = ""
        for line in proc.stdout:  # the per-chunk progress, as it comes
            if line.startswith("    "):
                print(line, end="", flush=True)
            last = line
        if proc.wait() != 0:
            print(f"{label}: failed (exit {proc.returncode})", flush=True)
            return proc.returncode
        r = json.loads(last)
        truth = Path(r["truth_dir"])
        rows.append((label, n, r["n_chunks"], r["n_orders"], r["n_events"], r["seconds"], r["peak_rss_gb"] * 1000,
                     _mb(out / "orders.parquet"), _mb(out / "events"), _mb(truth)))
    print(f"\nchunk = {chunk:,} persons, seed {a.seed}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '1')}")
    print("| size | persons | chunks | orders | events | time | peak RSS | orders.parquet | events/ | truth |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for label, n, k, no, ne, s, rss, mo, me, mt in rows:
        print(f"| {label} | {n:,} | {k} | {no:,} | {ne:,} | {s:.0f} s | {rss:,.0f} MB | {mo:,.1f} MB | {me:,.1f} MB "
              f"| {mt:,.1f} MB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
