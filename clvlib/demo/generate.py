"""Write the demo world to disk: :func:`generate_demo`.

It checks its arguments, builds the world in memory (:func:`clvlib.demo.world.build_world`)
and writes the nine Kaggle-named Olist CSVs, the clickstream CSV, the customer <-> user
key and the demo marker into the data folder, and the truth (``demo_truth.csv`` +
``demo_truth.json``) into a separate folder the data stages never read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from clvlib.demo.timeline import visible_days
from clvlib.demo.truth import (
    TRUTH_COLUMNS,
    TRUTH_FILE,
    TRUTH_JSON,
    load_truth,
    true_expected_value,
    truth_description,
)
from clvlib.demo.world import OLIST_COLUMNS, build_world
from clvlib.io import write_csv_atomic, write_json_atomic
from clvlib.schemas import CLICKSTREAM_FILE, DEMO_MARKER, OLIST_FILES

__all__ = [
    "generate_demo",
    "USER_KEY_FILE",
    "MIN_CUSTOMERS",
    # Defined elsewhere in clvlib.demo; still importable from here for code written before the split
    # (``from clvlib.demo.generate import load_truth`` in notebooks/06_evaluate.ipynb).
    "true_expected_value",
    "load_truth",
    "visible_days",
    "TRUTH_FILE",
    "TRUTH_JSON",
    "TRUTH_COLUMNS",
]

#: Customer <-> clickstream user key written beside the demo data (read by the ``key`` mapping).
USER_KEY_FILE = "demo_user_key.csv"
#: Fewest persons a demo may have (below it repeat buyers and linked users are too rare).
MIN_CUSTOMERS = 100
_MAX_CUSTOMERS = 2_000_000


def _check_args(out_dir: Path, truth_dir: Path, n_customers: int, seed: int) -> None:
    """Refuse a bad size or seed, a truth folder inside the data folder, and a folder of real-looking data.

    Raises
    ------
    ValueError
        With a message naming the argument and the fix (see :func:`generate_demo`).
    """
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)):
        raise ValueError(f"n_customers must be an integer, got {n_customers!r}.")
    if not MIN_CUSTOMERS <= n_customers <= _MAX_CUSTOMERS:
        raise ValueError(
            f"n_customers must be between {MIN_CUSTOMERS} and {_MAX_CUSTOMERS:,}, got {n_customers}; "
            "with fewer than 100 persons the repeat buyers and the clickstream link are too rare to show anything."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    o, t = out_dir.resolve(), truth_dir.resolve()
    if t == o or o in t.parents:
        raise ValueError(
            f"truth_dir {truth_dir} is inside out_dir {out_dir}: the data stages would see the hidden truth. "
            "Put it beside the data folder (the default is <out_dir>/../truth)."
        )
    if out_dir.is_dir() and not (out_dir / DEMO_MARKER).is_file():
        names = set(OLIST_FILES.values()) | {CLICKSTREAM_FILE}
        clash = sorted(p.name for p in out_dir.iterdir() if p.name in names)
        if clash:
            raise ValueError(
                f"out_dir {out_dir} already holds {clash[:3]} but no {DEMO_MARKER}: it may be real data. "
                "Refusing to overwrite it; choose an empty folder for the demo."
            )


def generate_demo(
    out_dir: str | Path,
    n_customers: int = 40_000,
    seed: int = 42,
    truth_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Write a seeded synthetic copy of the Olist + clickstream downloads, and its answer key.

    Parameters
    ----------
    out_dir
        Folder for the data: the nine Olist CSVs (names from :data:`clvlib.schemas.OLIST_FILES`),
        the clickstream CSV, ``demo_user_key.csv`` (customer_unique_id, UserID) and the
        :data:`clvlib.schemas.DEMO_MARKER` file. Created if needed. A folder holding
        Kaggle-named CSVs without the marker (possibly real data) is refused.
    n_customers
        Number of persons (``customer_unique_id``); orders come to about 1.035 per person.
    seed
        Seed of every random draw. Same seed and size give byte-identical files.
    truth_dir
        Folder for ``demo_truth.csv`` and ``demo_truth.json``; default ``<out_dir>/../truth``.
        It must not be inside ``out_dir``.

    Returns
    -------
    dict
        ``raw_dir``, ``truth_path``, ``truth_json_path``, ``key_path``, ``marker_path``,
        ``files`` (logical table name -> path), and the counts ``n_customers``, ``n_orders``,
        ``n_order_items``, ``n_payments``, ``n_reviews``, ``n_clickstream_rows``,
        ``n_clickstream_users``, ``n_linked_customers``.

    Raises
    ------
    ValueError
        If ``n_customers`` is not an integer in [100, 2,000,000], ``seed`` is negative,
        ``truth_dir`` lies inside ``out_dir``, or ``out_dir`` holds non-demo Kaggle files.

    Notes
    -----
    The world: person *i* arrives (first order) on a day drawn from the real monthly order
    curve (with the Black Friday 2017 spike); has a repeat-purchase rate
    ``lambda_i ~ Gamma(0.2, rate 1200)`` per day and a lifetime ``~ Exp(mu_i)``,
    ``mu_i ~ Gamma(2, rate 400)`` (Pareto/NBD); buys again at Poisson times while alive;
    0.95% of purchase occasions yield a second order the same day; each order's value is
    ``spend_mean_i`` times a mean-one lognormal. Orders near the end of the data are
    thinned like the real ones (see :func:`visible_days`). Clickstream sessions of a linked
    person come at ``0.002 + 0.3 * sqrt(lambda_i) + 4 * lambda_i`` per day while alive (from
    a few weeks before the first order) and at 0.00025 per day after dropout; their
    add-to-cart and purchase shares rise with ``lambda_i`` and purchase amounts scale with
    ``spend_mean_i``; most orders also appear as a session ending in a purchase event of
    the order's amount. ``demo_truth.json`` records these settings.

    References
    ----------
    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers: who
    are they and what will they do next? *Management Science*, 33(1), 1-24.
    """
    out = Path(out_dir)
    truth = Path(truth_dir) if truth_dir is not None else out.parent / "truth"
    _check_args(out, truth, n_customers, seed)
    world = build_world(int(n_customers), int(seed))
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name, df in world.tables.items():
        fmt = "%.2f" if name in ("order_items", "payments") else None  # money as in the real files
        files[name] = write_csv_atomic(df[OLIST_COLUMNS[name]], out / OLIST_FILES[name], float_format=fmt)
    files["clickstream"] = write_csv_atomic(world.clickstream, out / CLICKSTREAM_FILE, float_format=None)
    key_path = write_csv_atomic(world.key, out / USER_KEY_FILE)
    truth.mkdir(parents=True, exist_ok=True)
    truth_path = write_csv_atomic(world.truth, truth / TRUTH_FILE, float_format="%.10g")
    truth_json = write_json_atomic(truth_description(int(seed), int(n_customers)), truth / TRUTH_JSON)
    marker = write_json_atomic({
        "demo": True,
        "seed": int(seed),
        "n_customers": int(n_customers),
        "generated_by": "clvlib.demo",
        "note": "Synthetic data with the schema of the Kaggle Olist and clickstream downloads. "
        "Not real customers. demo_user_key.csv links customer_unique_id to the clickstream UserID.",
        "user_key_file": USER_KEY_FILE,
    }, out / DEMO_MARKER)
    tables = world.tables
    return {
        "raw_dir": out,
        "truth_path": truth_path,
        "truth_json_path": truth_json,
        "key_path": key_path,
        "marker_path": marker,
        "files": files,
        "n_customers": int(n_customers),
        "n_orders": len(tables["orders"]),
        "n_order_items": len(tables["order_items"]),
        "n_payments": len(tables["payments"]),
        "n_reviews": len(tables["reviews"]),
        "n_clickstream_rows": len(world.clickstream),
        "n_clickstream_users": int(world.clickstream["UserID"].nunique()),
        "n_linked_customers": len(world.key),
    }
