"""The demo as a shop's own export at any size, written chunk by chunk in bounded memory.

``python -m clvlib.demo.big OUT --customers 10000000 [--seed 42] [--chunk 250000]`` writes

* ``OUT/orders.parquet``: one row per order with a payment (one row group or more per chunk);
* ``OUT/events/part-NNNNN.parquet``: the event log, one file per chunk;
* ``OUT/shop.toml``: the dataset spec (``python run_all.py --dataset OUT/shop.toml``), written last;
* ``OUT/shop_demo.json``: how it was generated, with the counts;
* the hidden truth, one row per person, in ``TRUTH/demo_truth.parquet`` + ``demo_truth.json`` (default
  ``TRUTH`` = ``OUT`` + ``-truth`` beside it, never inside ``OUT``).

The columns and event names are those of :func:`clvlib.demo.export.export_shop` (the same conversion
functions); timestamps are Parquet timestamps rather than text.

**Chunks.** The persons are split into chunks of at most ``chunk`` persons (sizes as even as possible).
Each chunk is a whole demo world of its size (:func:`clvlib.demo.world.build_world`) drawn from its own
seed, the child ``(seed, chunk index)`` of ``numpy.random.SeedSequence(seed)``, so chunk *i* is the same
whatever the number of chunks after it, and memory is bounded by the chunk size, not the total. What is
drawn per world rather than per person was checked for what the export keeps:

* the persons, their orders, values, statuses and clickstream are per person: a chunk draws them as
  the one-piece world would (the same distributions; the calibration tables are constants);
* the clickstream-only users are drawn as a share (:data:`~clvlib.demo.calibration.EXTRA_USERS_P`) of
  each chunk's linked persons, so their share is the same; their purchase amounts use the chunk's median
  spend (about the world's at any chunk size worth having);
* the catalogue (products, their categories and list prices) is drawn per chunk, sized on the chunk's
  items: the export keeps only an order's category, whose shares do not depend on the catalogue's size;
  the geography (cities, zip prefixes) is per chunk too, and the export keeps only the state (per person);
* the few orders without a payment (left out of the export) and the zero vouchers are a rate per world,
  rounded per chunk (about 12 and 25 orders per 250,000 persons);
* ids: customers, orders and visitors are numbered across chunks, so they are unique by construction.
  Customer and order ids are 16-digit hex scrambles of their global number (a bijection, so no id can
  repeat, and nothing in an id tells its chunk); visitor ids are the global user number.

The tests check that shares of repeat buyers, orders per person and events per user of a chunked export
match a one-piece export of the same size, and that the same seed and size give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clvlib.demo.calibration import EXTRA_USERS_P
from clvlib.demo.export import shop_events, shop_orders, spec_text
from clvlib.demo.generate import MIN_CUSTOMERS
from clvlib.demo.truth import TRUTH_JSON, truth_description
from clvlib.demo.world import build_world
from clvlib.io import write_json_atomic, write_text_atomic
from clvlib.schemas import CUSTOMER, USER

__all__ = [
    "DEFAULT_CHUNK",
    "MAX_CHUNK",
    "ORDERS_FILE",
    "EVENTS_DIR",
    "MARKER_FILE",
    "SPEC_FILE",
    "TRUTH_PARQUET",
    "chunk_sizes",
    "chunk_seed",
    "scrambled_ids",
    "generate_shop",
    "main",
]

#: Persons per chunk by default (a chunk's world peaks at about 2 GB).
DEFAULT_CHUNK = 250_000
#: Largest chunk: the largest world :func:`clvlib.demo.generate_demo` builds in one piece.
MAX_CHUNK = 2_000_000
ORDERS_FILE = "orders.parquet"
EVENTS_DIR = "events"
MARKER_FILE = "shop_demo.json"
SPEC_FILE = "shop.toml"
TRUTH_PARQUET = "demo_truth.parquet"
_STAGING = ".partial"
_SALT_CUSTOMER = 0x2545F4914F6CDD1D
_SALT_ORDER = 0x5851F42D4C957F2D
_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd: x -> x * _MULT mod 2**64 is a bijection
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

ORDERS_SCHEMA = pa.schema([
    ("order_ref", pa.string()), ("customer", pa.string()), ("created_at", pa.timestamp("ms")),
    ("total", pa.float64()), ("state", pa.string()), ("region", pa.string()), ("category", pa.string()),
])
EVENTS_SCHEMA = pa.schema([
    ("visitor", pa.string()), ("session", pa.string()), ("ts", pa.timestamp("us")), ("event", pa.string()),
    ("value", pa.float64()), ("customer", pa.string()),
])
TRUTH_SCHEMA = pa.schema([
    (CUSTOMER, pa.string()), (USER, pa.string()), ("first_purchase", pa.timestamp("ms")),
    ("alive_until", pa.timestamp("ms")), ("purchase_rate_per_day", pa.float64()), ("dropout_rate_per_day", pa.float64()),
    ("spend_mean", pa.float64()), ("session_rate_per_day", pa.float64()), ("customer_state", pa.string()),
    ("n_orders", pa.int64()),
])


def chunk_sizes(n_customers: int, chunk: int) -> list[int]:
    """Sizes of the chunks: ``ceil(n / chunk)`` chunks as even as possible (the first ones one larger)."""
    k = max(1, math.ceil(n_customers / chunk))
    base, extra = divmod(n_customers, k)
    return [base + 1] * extra + [base] * (k - extra)


def chunk_seed(seed: int, index: int) -> int:
    """The seed of chunk ``index``: the ``index``-th child of ``SeedSequence(seed)``, as a 128-bit integer."""
    state = np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(4, np.uint32)
    return int.from_bytes(state.astype("<u4").tobytes(), "little")


def scrambled_ids(start: int, n: int, salt: int) -> np.ndarray:
    """16-digit hex ids of the global numbers ``start .. start + n - 1`` (distinct numbers give distinct ids)."""
    g = np.arange(start, start + n, dtype=np.uint64)
    h = (g * _MULT) ^ np.uint64(salt)
    return np.array([format(x, "016x") for x in h.tolist()], dtype=object)


def _check_args(out: Path, truth: Path, n_customers: Any, seed: Any, chunk: Any, name: str) -> None:
    """Refuse bad sizes, seeds, names, a truth folder inside the data folder, and a folder of other data."""
    for label, v in (("n_customers", n_customers), ("chunk", chunk)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{label} must be an integer, got {v!r}.")
    if n_customers < MIN_CUSTOMERS:
        raise ValueError(f"n_customers must be at least {MIN_CUSTOMERS}, got {n_customers}: with fewer persons the "
                         "repeat buyers and the clickstream link are too rare to show anything.")
    if not MIN_CUSTOMERS <= chunk <= MAX_CHUNK:
        raise ValueError(f"chunk must be between {MIN_CUSTOMERS} and {MAX_CHUNK:,} persons, got {chunk}: memory grows "
                         "with the chunk (about 2 GB per 250,000 persons).")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    if not _NAME.match(name):
        raise ValueError(f"name {name!r} must be letters, digits, - and _ (it names the workspace).")
    o, t = out.resolve(), truth.resolve()
    if t == o or o in t.parents or t in o.parents:
        raise ValueError(f"truth_dir {truth} and out_dir {out} must not contain one another: the data stages would "
                         "see the hidden truth. Put the truth beside the export (the default is OUT-truth).")
    if out.is_dir() and not (out / MARKER_FILE).is_file():
        others = sorted(p.name for p in out.iterdir())
        if others:
            raise ValueError(f"out_dir {out} is not empty ({others[:3]}) and holds no {MARKER_FILE}: it is not an "
                             "export this generator wrote. Refusing to overwrite it; choose an empty or new folder.")


@dataclass
class _Chunk:
    orders: pa.Table
    events: pa.Table
    truth: pa.Table
    n_users: int


def _build_chunk(n: int, seed: int, first_person: int, first_order: int, first_user: int) -> _Chunk:
    """One chunk's world, converted to the shop's tables with ids numbered from the given starts."""
    world = build_world(n, seed)
    t = world.tables
    orders = shop_orders(t["orders"], t["customers"], t["payments"], t["order_items"], t["products"])
    new_id = pd.Series(scrambled_ids(first_person, n, _SALT_CUSTOMER), index=world.truth[CUSTOMER].to_numpy())
    orders["customer"] = orders["customer"].map(new_id)
    orders["order_ref"] = scrambled_ids(first_order, len(orders), _SALT_ORDER)
    orders["created_at"] = orders["created_at"].astype("datetime64[ms]")
    ev = shop_events(world.clickstream, world.key)
    ev["customer"] = ev["customer"].map(new_id)
    ev["visitor"] = (ev["visitor"].to_numpy().astype("int64") + first_user).astype(str)
    ev["ts"] = pd.to_datetime(ev["ts"], format="ISO8601").astype("datetime64[us]")
    n_linked = len(world.key)
    n_users = n_linked + int(round(EXTRA_USERS_P * n_linked))  # UserIDs 1..n_users (see build_world)
    if len(world.clickstream):
        n_users = max(n_users, int(world.clickstream[USER].max()))
    truth = world.truth.copy()
    truth[CUSTOMER] = new_id.to_numpy()
    uid = truth[USER]
    truth[USER] = (uid + first_user).astype("string").where(uid.notna(), None)
    for col in ("first_purchase", "alive_until"):
        truth[col] = truth[col].astype("datetime64[ms]")

    def table(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
        return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False).replace_schema_metadata(None)

    return _Chunk(table(orders, ORDERS_SCHEMA), table(ev, EVENTS_SCHEMA), table(truth, TRUTH_SCHEMA), n_users)


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KB on Linux


def generate_shop(
    out_dir: str | Path,
    n_customers: int,
    seed: int = 42,
    chunk: int = DEFAULT_CHUNK,
    truth_dir: str | Path | None = None,
    name: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Write the demo as a shop's export (orders, events, spec) and its truth, chunk by chunk.

    Parameters
    ----------
    out_dir
        The export's folder: ``orders.parquet``, ``events/part-NNNNN.parquet``, ``shop.toml`` and
        ``shop_demo.json``. Created if needed; a folder with other files and no ``shop_demo.json`` is refused.
        A previous export there is replaced (its spec is removed first and written again last).
    n_customers
        Persons (at least 100; no upper limit: memory depends on ``chunk``).
    seed
        Seed of every draw; the same seed, size and chunk give byte-identical files.
    chunk
        Persons per chunk, at most (100 to 2,000,000); about 2 GB of memory per 250,000.
    truth_dir
        Folder for ``demo_truth.parquet`` and ``demo_truth.json``; default ``OUT-truth`` beside ``out_dir``.
    name
        The dataset's name in the spec (names the workspace); default ``demo-shop-<n>-seed<seed>``.
    progress
        Called with one line per chunk (default: print it).

    Returns
    -------
    dict
        ``spec`` (the path of ``shop.toml``), ``truth_dir``, ``n_customers``, ``n_chunks``, ``n_orders``,
        ``n_events``, ``n_users``, ``seconds`` and ``peak_rss_gb``.

    Raises
    ------
    ValueError
        A size, chunk or seed that is not a valid integer, a bad name, a truth folder inside the export
        (or the reverse), or an ``out_dir`` holding other files.
    """
    out = Path(out_dir)
    truth = Path(truth_dir) if truth_dir is not None else out.parent / f"{out.name}-truth"
    name = name if name is not None else f"demo-shop-{n_customers}-seed{seed}"
    _check_args(out, truth, n_customers, seed, chunk, name)
    say = progress if progress is not None else (lambda line: print(line, flush=True))
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    (out / SPEC_FILE).unlink(missing_ok=True)  # no spec points at a half-replaced export
    stage, tstage = out / _STAGING, truth / _STAGING
    for d in (stage, tstage):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    (stage / EVENTS_DIR).mkdir()
    sizes = chunk_sizes(int(n_customers), int(chunk))
    n_orders = n_events = n_users = first_person = 0
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        writers["orders"] = pq.ParquetWriter(stage / ORDERS_FILE, ORDERS_SCHEMA, compression="zstd")
        writers["truth"] = pq.ParquetWriter(tstage / TRUTH_PARQUET, TRUTH_SCHEMA, compression="zstd")
        for i, size in enumerate(sizes):
            tc = time.perf_counter()
            c = _build_chunk(size, chunk_seed(int(seed), i), first_person, n_orders, n_users)
            writers["orders"].write_table(c.orders)
            writers["truth"].write_table(c.truth)
            pq.write_table(c.events, stage / EVENTS_DIR / f"part-{i:05d}.parquet", compression="zstd")
            first_person += size
            n_orders += c.orders.num_rows
            n_events += c.events.num_rows
            n_users += c.n_users
            say(f"chunk {i + 1}/{len(sizes)}: {size:,} persons, {c.orders.num_rows:,} orders, "
                f"{c.events.num_rows:,} events in {time.perf_counter() - tc:.1f} s "
                f"(total {first_person:,} persons, {time.perf_counter() - t0:.0f} s, peak RSS {_rss_gb():.2f} GB)")
            del c
        for w in writers.values():
            w.close()
    except BaseException:
        for w in writers.values():
            w.close()
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(tstage, ignore_errors=True)
        raise
    # Move into place; the spec last, so it exists only beside a complete export.
    shutil.rmtree(out / EVENTS_DIR, ignore_errors=True)
    os.replace(stage / EVENTS_DIR, out / EVENTS_DIR)
    os.replace(stage / ORDERS_FILE, out / ORDERS_FILE)
    os.replace(tstage / TRUTH_PARQUET, truth / TRUTH_PARQUET)
    stage.rmdir()
    tstage.rmdir()
    info = {"seed": int(seed), "n_customers": int(n_customers), "chunk": int(chunk), "n_chunks": len(sizes),
            "n_orders": n_orders, "n_events": n_events, "n_users": n_users}
    tdesc = truth_description(int(seed), int(n_customers))
    tdesc["file"] = TRUTH_PARQUET
    tdesc["chunks"] = {k: info[k] for k in ("chunk", "n_chunks")}
    write_json_atomic(tdesc, truth / TRUTH_JSON)
    write_json_atomic({
        "demo": True, "generated_by": "clvlib.demo.big", **info,
        "note": "Synthetic data: the clvlib demo world as a shop's own export, generated in chunks. Not real "
        "customers. The hidden truth is in a separate folder the data stages never read.",
    }, out / MARKER_FILE)
    spec = write_text_atomic(spec_text(name, ORDERS_FILE, True, True, events_path=f"{EVENTS_DIR}/*.parquet",
                                       description=f"The demo world as a shop's export, {n_customers:,} persons"),
                             out / SPEC_FILE)
    return {"spec": spec, "truth_dir": truth, **info, "seconds": time.perf_counter() - t0, "peak_rss_gb": _rss_gb()}


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m clvlib.demo.big OUT --customers N [--seed 42] [--chunk 250000]``."""
    ap = argparse.ArgumentParser(prog="python -m clvlib.demo.big", description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", help="the export's folder (orders.parquet, events/, shop.toml)")
    ap.add_argument("--customers", type=int, required=True, help="persons (e.g. 9600000 for 100x Olist)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--chunk", type=int, default=DEFAULT_CHUNK, help=f"persons per chunk (default {DEFAULT_CHUNK:,})")
    ap.add_argument("--truth-dir", default=None, help="where the hidden truth goes (default OUT-truth)")
    ap.add_argument("--name", default=None, help="the dataset's name in the spec (default demo-shop-N-seedS)")
    a = ap.parse_args(argv)
    try:
        r = generate_shop(a.out_dir, a.customers, seed=a.seed, chunk=a.chunk, truth_dir=a.truth_dir, name=a.name)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in r.items()}))
    print(f"Wrote {r['spec']}; run: python run_all.py --dataset {r['spec']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
