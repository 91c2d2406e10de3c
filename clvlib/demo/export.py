"""The demo data as a shop's own export: one orders table, one event log, and a spec describing them.

Used to try (and test, and benchmark) the dataset-spec path on data with a real key and a known truth:
``python -m clvlib.demo.export RAW_DIR OUT_DIR`` writes ``orders.csv`` (or ``.parquet``), ``events.parquet``
and ``shop.toml``; then ``python run_all.py --dataset OUT_DIR/shop.toml``.

The columns are renamed and the event names changed to a shop's own (``pageview``, ``order_completed``, ...),
so the spec's mapping is exercised; values are those of the demo files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from clvlib.io import write_parquet_atomic, write_csv_atomic, write_text_atomic
from clvlib.schemas import CUSTOMER, EXPECTED_FILES, KEY_FILES, USER

__all__ = ["SHOP_EVENT_NAMES", "shop_orders", "shop_events", "spec_text", "export_shop", "main"]

#: Our event type -> the name the exported log uses.
SHOP_EVENT_NAMES = {"page_view": "pageview", "product_view": "product", "add_to_cart": "cart_add",
                    "purchase": "order_completed", "click": "click", "login": "login", "logout": "logout"}


def spec_text(name: str, orders_file: str, events: bool, link: bool, events_path: str = "events.parquet",
              description: str = "The demo data exported as a shop's own tables") -> str:
    """The ``shop.toml`` of an export: its orders file, and its events (``events_path``) and link when written."""
    lines = [f'name = "{name}"', 'currency = "BRL"', f'description = "{description}"', "",
             "[orders]", f'path = "{orders_file}"', 'order_id = "order_ref"', 'customer = "customer"',
             'timestamp = "created_at"', 'amount = "total"', 'status = "state"', 'keep_statuses = ["delivered"]',
             'region = "region"', 'category = "category"']
    if events:
        lines += ["", "[events]", f'path = "{events_path}"', 'user = "visitor"', 'timestamp = "ts"', 'event_type = "event"',
                  'session = "session"', 'amount = "value"', "", "[events.types]"]
        lines += [f'{ours} = ["{theirs}"]' for ours, theirs in SHOP_EVENT_NAMES.items()]
    if events and link:
        lines += ["", "[link]", 'column = "customer"']
    return "\n".join(lines) + "\n"


def shop_orders(orders: pd.DataFrame, customers: pd.DataFrame, payments: pd.DataFrame, items: pd.DataFrame,
                products: pd.DataFrame) -> pd.DataFrame:
    """The shop's orders table from the demo's Olist tables: one row per order with a payment.

    Columns ``order_ref, customer, created_at, total, state, region, category``: the order's value is the sum
    of its payments (orders without one are left out, as a shop would not export them), the category that of
    its most expensive item (empty for an order without items).
    """
    total = payments.groupby("order_id")["payment_value"].sum().round(2).rename("total")
    top = (items.sort_values(["order_id", "price"], ascending=[True, False], kind="stable").drop_duplicates("order_id")
           .merge(products[["product_id", "product_category_name"]], on="product_id", how="left")
           .set_index("order_id")["product_category_name"])
    shop = (orders[["order_id", "customer_id", "order_status", "order_purchase_timestamp"]]
            .merge(customers[["customer_id", CUSTOMER, "customer_state"]], on="customer_id", how="inner")
            .merge(total.reset_index(), on="order_id", how="inner"))
    shop["category"] = shop["order_id"].map(top)
    shop = shop.rename(columns={"order_id": "order_ref", CUSTOMER: "customer", "order_purchase_timestamp": "created_at",
                                "order_status": "state", "customer_state": "region"})
    return shop[["order_ref", "customer", "created_at", "total", "state", "region", "category"]]


def shop_events(clickstream: pd.DataFrame, key: pd.DataFrame | None) -> pd.DataFrame:
    """The shop's event log from the demo's clickstream: its own column and event names.

    Columns ``visitor, session, ts, event, value`` (+ ``customer`` from ``key``, the demo's customer <-> user
    key, when given; empty for a visitor who is no customer).
    """
    ev = clickstream.rename(columns={USER: "visitor", "SessionID": "session", "Timestamp": "ts", "EventType": "event",
                                     "Amount": "value"})[["visitor", "session", "ts", "event", "value"]]
    ev["event"] = ev["event"].map(SHOP_EVENT_NAMES)
    ev["session"] = ev["session"].astype(str)
    if key is not None:
        ev["customer"] = ev["visitor"].map(key.set_index(USER)[CUSTOMER])
    return ev


def export_shop(raw_dir: str | Path, out_dir: str | Path, events: bool = True, link: bool = True,
                orders_format: str = "csv", name: str = "demo-shop") -> Path:
    """Write the demo's orders (and events) as a shop's export with a spec; return the spec's path.

    Parameters
    ----------
    raw_dir
        A demo raw folder (Kaggle layout, with ``demo_user_key.csv``).
    out_dir
        Where to write ``orders.csv``/``orders.parquet``, ``events.parquet`` and ``shop.toml``.
    events, link
        Export the event log, and link it to customers (a ``customer`` column on the events).
    orders_format
        ``"csv"`` or ``"parquet"``.
    """
    raw, out = Path(raw_dir), Path(out_dir)
    read = {k: raw / EXPECTED_FILES[k] for k in ("orders", "customers", "payments", "order_items", "products")}
    orders = pd.read_csv(read["orders"], dtype=str)
    customers = pd.read_csv(read["customers"], dtype=str)
    pay = pd.read_csv(read["payments"], dtype={"order_id": str})
    items = pd.read_csv(read["order_items"], dtype={"order_id": str, "product_id": str})
    products = pd.read_csv(read["products"], dtype=str)
    shop = shop_orders(orders, customers, pay, items, products)
    out.mkdir(parents=True, exist_ok=True)
    orders_file = f"orders.{orders_format}"
    if orders_format == "parquet":
        write_parquet_atomic(shop, out / orders_file)
    else:
        write_csv_atomic(shop, out / orders_file, float_format=None)
    if events:
        ev = pd.read_csv(raw / EXPECTED_FILES["clickstream"], dtype={USER: str})
        key = None
        if link:
            key_file = next((raw / k for k in KEY_FILES if (raw / k).is_file()), None)
            if key_file is None:
                raise FileNotFoundError(f"{raw} has no key file ({', '.join(KEY_FILES)}); export with link=False.")
            key = pd.read_csv(key_file, dtype=str)
        write_parquet_atomic(shop_events(ev, key), out / "events.parquet")
    return write_text_atomic(spec_text(name, orders_file, events, link), out / "shop.toml")


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m clvlib.demo.export RAW_DIR OUT_DIR [--no-events] [--no-link] [--parquet]``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--no-events", action="store_true")
    ap.add_argument("--no-link", action="store_true")
    ap.add_argument("--parquet", action="store_true", help="write the orders as Parquet (default CSV)")
    a = ap.parse_args(argv)
    spec = export_shop(a.raw_dir, a.out_dir, events=not a.no_events, link=not a.no_link,
                       orders_format="parquet" if a.parquet else "csv")
    print(f"Wrote {spec}; run: python run_all.py --dataset {spec}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
