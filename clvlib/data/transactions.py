"""Olist transactions: read, validate, clean to one row per order, summarise per person.

The person in Olist is ``customer_unique_id``; ``customer_id`` is issued anew
for every order, so counting ``customer_id`` makes every customer a one-time
buyer. Everything here therefore keys people by ``customer_unique_id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from clvlib.dates import end_of_day, far_outside, on_or_before
from clvlib.data.droplog import DropLog
from clvlib.engine.customers import summary_at
from clvlib.io import read_table

__all__ = [
    "OLIST_SCHEMAS",
    "read_olist",
    "dedupe_key",
    "order_values",
    "default_analysis_date",
    "check_plausible_dates",
    "build_orders",
    "customer_summary",
    "value_agreement",
    "value_agreement_text",
]

#: Columns each Olist table must have, and how they are parsed.
OLIST_SCHEMAS: dict[str, dict] = {
    "orders": dict(
        required=["order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
                  "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date"],
        dates=["order_purchase_timestamp", "order_approved_at", "order_delivered_carrier_date",
               "order_delivered_customer_date", "order_estimated_delivery_date"],
        required_dates=["order_purchase_timestamp"],
    ),
    "customers": dict(
        required=["customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city", "customer_state"],
        strings=["customer_zip_code_prefix"],
    ),
    "payments": dict(
        required=["order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"],
        numbers=["payment_sequential", "payment_installments", "payment_value"],
    ),
    "order_items": dict(
        required=["order_id", "order_item_id", "product_id", "seller_id", "price", "freight_value"],
        numbers=["order_item_id", "price", "freight_value"],
    ),
    "reviews": dict(
        required=["review_id", "order_id", "review_score", "review_creation_date", "review_answer_timestamp"],
        dates=["review_creation_date", "review_answer_timestamp"],
        numbers=["review_score"],
    ),
    "products": dict(required=["product_id", "product_category_name"]),
    "category_translation": dict(required=["product_category_name", "product_category_name_english"]),
}


def read_olist(files: Mapping[str, str | Path], tables: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """Read and type-check the Olist tables the pipeline uses.

    Parameters
    ----------
    files
        Logical table name -> CSV path, as returned by :func:`clvlib.paths.find_raw_files`.
    tables
        Which tables to read (default: every table in :data:`OLIST_SCHEMAS` that ``files`` has;
        ``orders``, ``customers`` and ``payments`` are always required).

    Returns
    -------
    dict
        Table name -> typed DataFrame with the schema's required columns.
    """
    wanted = list(tables) if tables is not None else [t for t in OLIST_SCHEMAS if t in files]
    for must in ("orders", "customers", "payments"):
        if must not in files:
            raise FileNotFoundError(f"The Olist {must} table is required but no file was given for it.")
        if must not in wanted:
            wanted.append(must)
    out = {name: read_table(files[name], **OLIST_SCHEMAS[name]) for name in wanted}
    if "reviews" in out:
        scores = out["reviews"]["review_score"]
        bad = scores.notna() & ~scores.isin([1, 2, 3, 4, 5])
        if bad.any():
            raise ValueError(
                f"{Path(files['reviews']).name}: column 'review_score' has {int(bad.sum())} value(s) outside 1..5."
            )
    return out


def dedupe_key(df: pd.DataFrame, key: str | list[str], table: str, log: DropLog | None = None) -> pd.DataFrame:
    """Drop rows that repeat another row exactly; refuse keys that repeat with different content.

    Parameters
    ----------
    df
        The table.
    key
        The column(s) that must identify a row.
    table
        Name for messages (usually the file name).
    log
        Drop log to record removed exact duplicates in.

    Raises
    ------
    ValueError
        If a key value appears on rows that differ elsewhere: the data is ambiguous.
    """
    before = len(df)
    out = df.drop_duplicates()
    if log is not None and len(out) < before:
        log.step(f"exact duplicate rows in {table}", before, len(out), "the same row appeared more than once; kept one")
    dup = out.duplicated(key, keep=False)
    if dup.any():
        n_keys = out.loc[dup, key].drop_duplicates().shape[0]
        example = out.loc[dup, key].iloc[0]
        raise ValueError(
            f"{table}: column {key!r} should be unique but {n_keys} value(s) appear on {int(dup.sum())} rows "
            f"with different content (e.g. {example!r}). Remove the conflicting rows in a copy of the file."
        )
    return out


def order_values(payments: pd.DataFrame, order_id_col: str = "order_id", value_col: str = "payment_value") -> pd.DataFrame:
    """Sum payments per order: the order's value is what the customer paid.

    Required columns: ``order_id``, ``payment_sequential``, ``payment_type``,
    ``payment_installments``, ``payment_value``.

    Returns
    -------
    pandas.DataFrame
        One row per order: ``order_value`` (sum of payments), ``n_payments``,
        ``payment_installments`` (the largest), ``payment_type`` (of the largest payment).
    """
    p = payments[[order_id_col, value_col, "payment_installments", "payment_type"]]
    g = p.groupby(order_id_col, sort=True)
    out = pd.DataFrame(
        {
            "order_value": g[value_col].sum(),
            "n_payments": g[value_col].size(),
            "payment_installments": g["payment_installments"].max(),
        }
    )
    main = p.sort_values([order_id_col, value_col], ascending=[True, False], kind="stable").drop_duplicates(order_id_col)
    out["payment_type"] = main.set_index(order_id_col)["payment_type"]
    return out.reset_index()


def check_plausible_dates(ts: pd.Series, table: str, column: str, today: pd.Timestamp | None = None) -> None:
    """Refuse timestamps far outside the bulk of the data or in the future (see :func:`clvlib.dates.far_outside`).

    A misplaced year (2030 for 2018) would move the analysis date and every recency silently.
    """
    far, lo, hi = far_outside(ts, today)
    if far.any():
        rows = ", ".join(f"line {i + 2}" for i in far[far].index[:3])
        examples = ts[far].dt.strftime("%Y-%m-%d").unique()[:3].tolist()
        raise ValueError(f"{table}: column {column!r} has {int(far.sum()):,} timestamp(s) far outside the bulk of the "
                         f"data (98% lie in {lo.date()} .. {hi.date()}): e.g. {examples} ({rows}). Fix those rows in a "
                         "copy of the file.")


def default_analysis_date(purchase_ts: pd.Series, min_share: float = 0.25) -> pd.Timestamp:
    """End of the last complete month: the last month whose order count is not truncated.

    A month counts as truncated when it has fewer than ``min_share`` times the
    median monthly count of the twelve months before it (Olist's September and
    October 2018 hold 16 and 4 orders against about 6,500 a month before).

    Returns
    -------
    pandas.Timestamp
        The last day of that month (midnight); orders on that day are included.
    """
    ts = pd.Series(purchase_ts).dropna()
    if ts.empty:
        raise ValueError("Cannot choose an analysis date: there are no purchase timestamps.")
    counts = ts.dt.to_period("M").value_counts().sort_index()
    full = counts.reindex(pd.period_range(counts.index.min(), counts.index.max(), freq="M"), fill_value=0)
    last = full.index[-1]
    for i in range(len(full) - 1, -1, -1):
        history = full.iloc[max(0, i - 12):i]
        if len(history) == 0 or full.iloc[i] >= min_share * history.median():
            last = full.index[i]
            break
    return last.to_timestamp(how="end").normalize()


def build_orders(
    tables: Mapping[str, pd.DataFrame],
    statuses: Iterable[str] | None = ("delivered",),
    analysis_date: str | pd.Timestamp | None = None,
    value_source: str = "payments",
) -> tuple[pd.DataFrame, DropLog, pd.Timestamp]:
    """Clean the Olist tables to one row per order of a known person, with its value.

    Parameters
    ----------
    tables
        Output of :func:`read_olist` (``orders``, ``customers``, ``payments``; ``order_items``,
        ``reviews``, ``products``, ``category_translation`` used when present).
    statuses
        Order statuses to keep (default: delivered only). ``None`` keeps all statuses.
    analysis_date
        Last day included. Default: :func:`default_analysis_date` (end of the last complete month).
    value_source
        ``"payments"`` (default): an order's value is the sum of its payments.
        ``"items"``: the sum of item price plus freight. On Olist the two agree to within
        0.02% in total; payments include vouchers and installment interest.

    Returns
    -------
    orders : pandas.DataFrame
        One row per kept order with the person (``customer_unique_id``), state, status, dates,
        value, item/payment counts, main category and the score and creation date of the order's
        first review.
    log : DropLog
        Rows removed at each step and why.
    analysis_date : pandas.Timestamp
        The analysis date actually used.
    """
    if value_source not in ("payments", "items"):
        raise ValueError(f"value_source must be 'payments' or 'items', got {value_source!r}.")
    if value_source == "items" and "order_items" not in tables:
        raise ValueError("value_source='items' needs the order_items table (olist_order_items_dataset.csv).")
    log = DropLog("orders")
    orders = tables["orders"]
    log.start(len(orders), "orders read")
    orders = dedupe_key(orders, "order_id", "olist_orders_dataset.csv", log)
    customers = dedupe_key(tables["customers"], "customer_id", "olist_customers_dataset.csv")

    n = len(orders)
    orders = orders[orders["customer_id"].isin(customers["customer_id"])]
    log.step("orders without a customer record", n, len(orders), "customer_id not in the customers file: no person to attach")

    if statuses is not None:
        statuses = list(statuses)
        known = set(tables["orders"]["order_status"].dropna().unique())
        unknown = [s for s in statuses if s not in known]
        if unknown:
            raise ValueError(
                f"order status filter {unknown} matches no order; statuses in the data: {sorted(known)}."
            )
        n = len(orders)
        orders = orders[orders["order_status"].isin(statuses)]
        log.step("order status filter", n, len(orders), f"kept statuses {statuses}; others are not completed sales")

    check_plausible_dates(tables["orders"]["order_purchase_timestamp"], "olist_orders_dataset.csv",
                          "order_purchase_timestamp")
    if analysis_date is None:
        analysis_date = default_analysis_date(tables["orders"]["order_purchase_timestamp"])
    analysis_date = pd.Timestamp(analysis_date).normalize()
    n = len(orders)
    orders = orders[on_or_before(orders["order_purchase_timestamp"], analysis_date)]
    log.step("orders after the analysis date", n, len(orders),
             f"purchased after {analysis_date.date()} (truncated months are excluded)")

    payments = tables["payments"]
    n = len(payments)
    payments = payments.drop_duplicates()
    if len(payments) < n:  # an exported row repeated would double the order's value
        log.note(f"exact duplicate payment rows: {n - len(payments):,} removed from olist_order_payments_dataset.csv "
                 "(the same payment twice; summing both would double the order's value)")
    unpaid = payments.loc[payments["payment_value"].isna(), "order_id"].unique()
    n = len(orders)
    orders = orders[~orders["order_id"].isin(unpaid)]
    log.step("orders with an empty payment value", n, len(orders),
             "a payment of the order has no value: the order's value is unknown (not 0)")
    pay = order_values(payments[~payments["order_id"].isin(unpaid)])
    if value_source == "items":
        items = tables["order_items"]
        iv = items.groupby("order_id").agg(items_value=("price", "sum"), freight=("freight_value", "sum"))
        vals = (iv["items_value"] + iv["freight"]).rename("order_value").reset_index()
        pay = pay.drop(columns="order_value").merge(vals, on="order_id", how="right")
    n = len(orders)
    orders = orders.merge(pay, on="order_id", how="inner")
    log.step(f"orders without a {value_source} record", n, len(orders), f"no {value_source} row: value unknown")
    n = len(orders)
    orders = orders[orders["order_value"] > 0]
    log.step("orders with value 0", n, len(orders), "nothing was paid; not a sale")

    cust = customers[["customer_id", "customer_unique_id", "customer_state"]]
    orders = orders.merge(cust, on="customer_id", how="left")
    n = len(orders)
    person = orders["customer_unique_id"].astype("string").str.strip()
    orders = orders[person.notna() & (person != "")]
    log.step("orders of a customer without a person id", n, len(orders),
             "customer_unique_id is empty in olist_customers_dataset.csv: no person to attach")

    if "order_items" not in tables:
        log.note("olist_order_items_dataset.csv is absent: item counts, freight and product category are left "
                 "empty, and the models use the features that exist")
    if "order_items" in tables:
        items = tables["order_items"]
        agg = items.groupby("order_id").agg(n_items=("order_item_id", "size"), items_value=("price", "sum"),
                                             freight_value=("freight_value", "sum"))
        orders = orders.merge(agg.reset_index(), on="order_id", how="left")
        if "products" in tables:
            prod = tables["products"][["product_id", "product_category_name"]].drop_duplicates("product_id")
            if "category_translation" in tables:
                tr = tables["category_translation"].drop_duplicates("product_category_name")
                prod = prod.merge(tr, on="product_category_name", how="left")
                prod["product_category"] = prod["product_category_name_english"].fillna(prod["product_category_name"])
            else:
                prod["product_category"] = prod["product_category_name"]
            top = (items.sort_values(["order_id", "price"], ascending=[True, False], kind="stable")
                   .drop_duplicates("order_id")[["order_id", "product_id"]]
                   .merge(prod[["product_id", "product_category"]], on="product_id", how="left"))
            orders = orders.merge(top[["order_id", "product_category"]], on="order_id", how="left")
    if "reviews" in tables:
        # An order's review is its *first* one (earliest creation date): its score and its date
        # travel together, so a feature as of a cut can keep exactly the reviews written by then.
        # Later reviews of the same order (547 of 98,673 reviewed Olist orders have 2-3) are left
        # out; averaging them in would put a score written after the cut under an earlier date.
        reviews = tables["reviews"]
        # ties on the creation date go by review_id, not by the answer time (which may be after a cut)
        order_by = [c for c in ("order_id", "review_creation_date", "review_id") if c in reviews.columns]
        rv = (reviews.sort_values(order_by, kind="stable", na_position="last")
              .drop_duplicates("order_id")[["order_id", "review_score", "review_creation_date"]])
        orders = orders.merge(rv, on="order_id", how="left")

    orders = orders.sort_values(["order_purchase_timestamp", "order_id"], kind="stable").reset_index(drop=True)
    log.step("orders kept", len(orders), len(orders), f"{orders['customer_unique_id'].nunique():,} distinct people")
    return orders, log, analysis_date


def customer_summary(
    orders: pd.DataFrame,
    analysis_date: str | pd.Timestamp,
    customer_col: str = "customer_unique_id",
    order_col: str = "order_id",
    date_col: str = "order_purchase_timestamp",
    value_col: str = "order_value",
    engine: str | None = None,
) -> pd.DataFrame:
    """One row per person: frequency, spend, recency and tenure as of ``analysis_date``.

    Computed by the engine (:func:`clvlib.engine.customers.summary_at`; ``engine``: ``"duckdb"``,
    the default, or ``"spark"``). Required columns: ``customer_col``, ``order_col``, ``date_col``,
    ``value_col``.

    Returns
    -------
    pandas.DataFrame
        ``frequency`` (distinct orders), ``total_spent``, ``avg_order_value``,
        ``first_purchase``, ``last_purchase``, ``recency_days`` (days from the last
        purchase to the end of the analysis date), ``tenure_days`` (days from the first
        purchase to the same point) and ``active_span_days`` (first to last purchase).
    """
    missing = [c for c in (customer_col, order_col, date_col, value_col) if c not in orders.columns]
    if missing:
        raise ValueError(f"orders table: missing column(s) {missing} for the customer summary.")
    end = end_of_day(analysis_date)
    late = orders[date_col] >= end
    if late.any():
        raise ValueError(
            f"orders table: {int(late.sum())} order(s) are dated after the analysis date {end.date()}; "
            "filter them first (build_orders does)."
        )
    return summary_at(orders, [analysis_date], customer_col=customer_col, order_col=order_col, date_col=date_col,
                      value_col=value_col, engine=engine)[0]


def value_agreement(tables: Mapping[str, pd.DataFrame]) -> dict:
    """Compare payments summed per order with item price + freight, over orders that have both.

    Returns
    -------
    dict
        ``orders_compared``, ``payments_total``, ``items_total``, ``ratio`` (payments / items) and
        ``share_differing_over_1pct`` (orders whose two values differ by more than 1%).
    """
    if "order_items" not in tables:
        return {"orders_compared": 0, "payments_total": float("nan"), "items_total": float("nan"),
                "ratio": float("nan"), "share_differing_over_1pct": float("nan")}
    pay = tables["payments"].groupby("order_id")["payment_value"].sum()
    it = tables["order_items"].groupby("order_id")[["price", "freight_value"]].sum().sum(axis=1)
    both = pd.concat([pay.rename("pay"), it.rename("items")], axis=1, join="inner")
    both = both[both["items"] > 0]
    rel = (both["pay"] / both["items"] - 1).abs()
    return {
        "orders_compared": int(len(both)),
        "payments_total": float(both["pay"].sum()),
        "items_total": float(both["items"].sum()),
        "ratio": float(both["pay"].sum() / both["items"].sum()),
        "share_differing_over_1pct": float((rel > 0.01).mean()),
    }


def value_agreement_text(agreement: Mapping[str, float]) -> str:
    """One sentence on how payments and items + freight agree (from :func:`value_agreement`)."""
    if not agreement["orders_compared"]:
        return "No order-items file: order values come from payments only and cannot be compared with the items."
    return (f"Over {agreement['orders_compared']:,} orders the payments total {agreement['payments_total']:,.0f} BRL "
            f"and items + freight {agreement['items_total']:,.0f} BRL (ratio {agreement['ratio']:.4f}); "
            f"{agreement['share_differing_over_1pct']:.2%} of orders differ by more than 1% "
            "(vouchers and installment interest).")
