"""One entry point per stage for every dataset: the Kaggle layout, the demo, or a user's spec.

Stages 00-03 call these and never look at the layout themselves. Whatever the layout, the result is
the canonical tables (see :mod:`clvlib.data.canonical`), so every later stage is the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from clvlib.data.canonical import read_events, read_link, read_orders
from clvlib.data.clickstream import clean_events, read_clickstream, user_features
from clvlib.data.droplog import DropLog
from clvlib.data.events_sql import clean_events_duckdb
from clvlib.data.inventory import inventory, inventory_spec
from clvlib.data.spec import DatasetSpec
from clvlib.data.transactions import build_orders, default_analysis_date, read_olist, value_agreement, value_agreement_text
from clvlib.dates import on_or_before
from clvlib.schemas import CUSTOMER, KEY_FILES, USER

__all__ = ["CleanOrders", "CleanEvents", "dataset_inventory", "clean_orders", "clean_events_of", "event_users",
           "link_key", "read_key", "EVENT_COLUMNS"]

#: The canonical event columns (an event-less dataset gets an empty table with these).
EVENT_COLUMNS = [USER, "SessionID", "Timestamp", "EventType", "Amount"]


@dataclass
class CleanOrders:
    """Stage 01's result: the orders, the drop log, the analysis date and what to say about them."""

    orders: pd.DataFrame
    log: DropLog
    analysis_date: pd.Timestamp
    all_timestamps: pd.Series
    value_text: str
    status_text: str


@dataclass
class CleanEvents:
    """Stage 02's result; ``events`` is empty (with the canonical columns) for a dataset without events."""

    events: pd.DataFrame
    log: pd.DataFrame
    has_events: bool
    has_amounts: bool


def dataset_inventory(spec: DatasetSpec, raw_files: Mapping[str, Path], raw_dir: str | Path | None) -> dict:
    """Stage 00: profile the Kaggle files, or the tables a spec declares."""
    if spec.layout == "spec":
        return inventory_spec(spec)
    return inventory(dict(raw_files), raw_dir)


def clean_orders(
    spec: DatasetSpec,
    raw_files: Mapping[str, Path],
    statuses: Iterable[str] | None = ("delivered",),
    analysis_date: str | pd.Timestamp | None = None,
    value_source: str = "payments",
) -> CleanOrders:
    """Stage 01: one row per order of a known person, up to the analysis date.

    Parameters
    ----------
    spec
        The dataset (built-in or a user's spec).
    raw_files
        The Kaggle layout's files (unused for a spec).
    statuses, value_source
        Kaggle layout only: the statuses that count as a sale and where an order's value comes from.
        A spec says both itself (``keep_statuses``, ``amount``/``price``).
    analysis_date
        Last day included; default: the end of the last complete month.
    """
    if spec.layout != "spec":
        tables = read_olist(raw_files)
        orders, log, used = build_orders(tables, statuses=statuses, analysis_date=analysis_date,
                                         value_source=value_source)
        status_text = (f"Order statuses kept: {list(statuses)}." if statuses is not None else "Every order status is kept.")
        return CleanOrders(orders, log, used, tables["orders"]["order_purchase_timestamp"],
                           value_agreement_text(value_agreement(tables)), status_text)
    orders, log = read_orders(spec)
    stamps = orders["order_purchase_timestamp"]
    used = pd.Timestamp(analysis_date).normalize() if analysis_date is not None else default_analysis_date(stamps)
    n = len(orders)
    orders = orders[on_or_before(stamps, used)].reset_index(drop=True)
    log.step("orders after the analysis date", n, len(orders),
             f"placed after {used.date()} (truncated months are excluded)")
    o = spec.orders
    value = (f"An order's value is column `{o.amount}`" if o.amount else
             f"An order's value is `{o.price}`" + (f" x `{o.quantity}`" if o.quantity else ""))
    value += ", summed over the rows of one order." if o.order_id else " (each row is one order)."
    status_text = (f"Order statuses kept (the spec's keep_statuses): {list(o.keep_statuses)}." if o.keep_statuses
                   else "Every order is kept (the spec sets no keep_statuses).")
    return CleanOrders(orders, log, used, stamps, value, status_text)


def clean_events_of(spec: DatasetSpec, raw_files: Mapping[str, Path],
                    end: str | pd.Timestamp | None = None) -> CleanEvents:
    """Stage 02: the cleaned events of any dataset (an empty table when it has none)."""
    if spec.layout != "spec":
        events, log = clean_events(read_clickstream(raw_files["clickstream"]), end=end)
        return CleanEvents(events, log.to_frame(), True, True)
    if spec.events is None:
        empty = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "Timestamp" else
                                           ("float64" if c == "Amount" else "string")) for c in EVENT_COLUMNS})
        return CleanEvents(empty, DropLog("events").to_frame(), False, False)
    has_amounts = spec.events.amount is not None
    fast = clean_events_duckdb(spec.events, end=end, require_purchase_amount=has_amounts)
    if fast is not None:  # the common case, read and cleaned in DuckDB
        events, log, more = fast
    else:  # a database, a timestamp_format or an input with a problem: the pandas path decides
        events, log = read_events(spec)
        events, more = clean_events(events, table="events", end=end, require_purchase_amount=has_amounts)
    frame = pd.concat([log.to_frame(), more.to_frame().iloc[1:]], ignore_index=True)
    return CleanEvents(events, frame, True, has_amounts)


def event_users(cleaned: CleanEvents, reference_date: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Stage 02's per-user table (:func:`clvlib.data.clickstream.user_features`); empty without events."""
    if cleaned.has_events and len(cleaned.events):
        return user_features(cleaned.events, reference_date=reference_date)
    probe = pd.DataFrame({USER: ["u"], "SessionID": ["1"], "Timestamp": [pd.Timestamp("2000-01-01")],
                          "EventType": ["page_view"], "Amount": [float("nan")]})
    return user_features(probe).iloc[:0]  # the same columns and types, no rows


def link_key(spec: DatasetSpec, raw_dir: str | Path | None) -> tuple[pd.DataFrame | None, str | None]:
    """The real customer <-> event-user key of a dataset, and where it comes from (None, None without one).

    The demo ships ``demo_user_key.csv``; a Kaggle-layout folder may hold a ``user_key.csv``; a spec
    declares ``[link]``. The Kaggle Olist and clickstream files have none.
    """
    if spec.layout == "spec":
        key = read_link(spec)
        if key is None:
            return None, None
        where = (f"the events' column `{spec.link.column}`" if spec.link.column
                 else f"the key table {spec.link.source.describe()}")
        return key, where
    if raw_dir is None:
        return None, None
    key, path = read_key(raw_dir)
    return (key, path.name) if path is not None else (None, None)


def read_key(raw_dir: str | Path) -> tuple[pd.DataFrame | None, Path | None]:
    """Read a real key table (``customer_unique_id``, ``UserID``) from a Kaggle-layout folder, if there is one.

    The Kaggle downloads have none; the demo data ships ``demo_user_key.csv``; a user with their
    own linked data can put a ``user_key.csv`` beside the raw files. ``UserID`` keeps the type
    the events are read with.
    """
    for name in KEY_FILES:
        hits = sorted(Path(raw_dir).rglob(name))
        if hits:
            key = pd.read_csv(hits[0], dtype={CUSTOMER: "string"})
            missing = [c for c in (CUSTOMER, USER) if c not in key.columns]
            if missing:
                raise ValueError(f"{hits[0].name}: missing column(s) {missing}; a key file needs {CUSTOMER} and {USER}.")
            return key, hits[0]
    return None, None
