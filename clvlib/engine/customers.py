"""Per-customer features as of each cut, and spend in a window after a cut: defined once, in SQL.

:func:`customer_features` computes every person's features at every cut in **one query**: a
table of cuts joined to the orders dated before each cut's end (``ts < cut_end``, the end of the
cut day, as in :mod:`clvlib.dates`), grouped by (cut, customer). What is seen as of a cut:

* purchases made by then: BTYD RFM in days (``frequency`` = repeat purchase days, ``recency`` =
  last - first purchase day, ``T`` = cut day - first purchase day, ``monetary_value`` = mean
  value of the repeat purchase days, 0 without one; a day's purchases are summed), ``n_orders``,
  ``calibration_spend``, ``days_since_last`` (to the end of the cut day, fractional);
* reviews *created* by then (``review_score_mean``, ``has_review``);
* deliveries *completed* by then (``delivery_delay_days``: delivered - estimated, in days,
  mean; ``late_share``: share delivered after the estimate);
* what is known at purchase: ``installments_max``, ``n_items_mean``, ``freight_share``
  (freight / spend), and the last order's ``payment_type``, ``product_category`` and
  ``customer_state`` ("unknown" when missing; ties on the timestamp go to the later row).

A group of columns is computed when its input columns are present. The SQL runs on DuckDB, or
on Spark through :mod:`clvlib.engine.backend`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from clvlib.dates import end_of_day, on_or_before
from clvlib.engine.backend import US_PER_DAY, arrow_table, from_micros, micros, run_sql
from clvlib.io import validate_columns

__all__ = ["ORDER_INPUTS", "CATEGORICAL", "cuts_table", "customer_features_sql", "customer_features", "summary_at", "window_spend"]

D = US_PER_DAY
#: SQL name -> column of the cleaned orders (stage 01), besides the customer column.
ORDER_INPUTS = {
    "order_id": "order_id", "ts": "order_purchase_timestamp", "value": "order_value",
    "review_score": "review_score", "review_ts": "review_creation_date",
    "delivered_ts": "order_delivered_customer_date", "estimated_ts": "order_estimated_delivery_date",
    "installments": "payment_installments", "n_items": "n_items", "freight": "freight_value",
    "payment_type": "payment_type", "product_category": "product_category", "customer_state": "customer_state",
}
_TIMES = ("ts", "review_ts", "delivered_ts", "estimated_ts")
#: The last order's categorical columns.
CATEGORICAL = ("payment_type", "product_category", "customer_state")

#: A delivery completed by the cut: its delay in microseconds (NULL otherwise; integers sum exactly).
_DELAY = "CASE WHEN delivered_ts < cut_end THEN delivered_ts - estimated_ts END"
#: Feature groups: (SQL inputs needed, [(output column, aggregate over the orders seen at the cut)]).
_GROUPS: list[tuple[tuple[str, ...], list[tuple[str, str]]]] = [
    ((), [("n_orders", "COUNT(DISTINCT order_id)"),
          ("calibration_spend", "FSUM(value)"),
          ("days_since_last", f"(MAX(cut_end) - MAX(ts)) / {D}")]),
    (("review_score", "review_ts"), [
        ("review_score_mean", "AVG(CASE WHEN review_ts < cut_end THEN review_score END)"),
        ("has_review", "CAST(MAX(CASE WHEN review_ts < cut_end AND review_score IS NOT NULL THEN 1 ELSE 0 END)"
                       " AS BIGINT)")]),
    (("delivered_ts", "estimated_ts"), [
        ("delivery_delay_days",
         f"CASE WHEN COUNT({_DELAY}) > 0 THEN CAST(SUM({_DELAY}) AS DOUBLE) / COUNT({_DELAY}) / {D} END"),
        ("late_share", "AVG(CASE WHEN delivered_ts < cut_end AND estimated_ts IS NOT NULL"
                       " THEN CAST(delivered_ts > estimated_ts AS DOUBLE) END)")]),
    (("installments",), [("installments_max", "MAX(installments)")]),
    (("n_items",), [("n_items_mean", "AVG(n_items)")]),
    (("freight",), [("freight_share",
                     "CASE WHEN SUM(value) > 0 THEN COALESCE(FSUM(freight), 0) / FSUM(value) END")]),
] + [((c,), [(c, f"ARG_MAX(COALESCE({c}, 'unknown'), seq)")]) for c in CATEGORICAL]


def cuts_table(cuts: Sequence[str | pd.Timestamp]) -> pa.Table:
    """The table ``cuts`` the queries read: ``cut_pos`` (the cut's position) and ``cut_end`` (the end of its day, in
    microseconds)."""
    return arrow_table(pd.DataFrame({"cut_pos": np.arange(len(cuts)), "cut_end": [end_of_day(c) for c in cuts]}),
                       {"cut_pos": "cut_pos", "cut_end": "cut_end"}, times=("cut_end",))


def customer_features_sql(inputs: Sequence[str]) -> tuple[str, list[str]]:
    """The query of every customer's features at every cut, and its feature columns in order.

    Reads ``orders`` (``customer``, ``_row`` = input position, and the SQL names of
    :data:`ORDER_INPUTS` present in ``inputs``; timestamps as integer microseconds) and ``cuts``
    (``cut_pos``, ``cut_end`` = the end of the cut day in microseconds). Returns one row per
    (``cut_pos``, ``customer``) with a first purchase before ``cut_end``, ordered by both.
    """
    have = set(inputs)
    aggs = [(name, expr) for need, group in _GROUPS if set(need) <= have for name, expr in group]
    rfm = ["frequency", "recency", "T", "monetary_value"]
    agg_sql = ",\n           ".join(f"{expr} AS {name}" for name, expr in aggs)
    sql = f"""
WITH src AS (
    SELECT *, FLOOR(ts / {D}) AS day,
           ROW_NUMBER() OVER (PARTITION BY customer ORDER BY ts, _row) AS seq
    FROM orders
),
o AS (
    SELECT c.cut_pos, c.cut_end, FLOOR(c.cut_end / {D}) - 1 AS cut_day, s.*
    FROM src AS s JOIN cuts AS c ON s.ts < c.cut_end
),
per_day AS (
    SELECT cut_pos, customer, day, cut_day, value,
           MIN(day) OVER (PARTITION BY cut_pos, customer) AS first_day
    FROM (SELECT cut_pos, customer, day, MAX(cut_day) AS cut_day, FSUM(value) AS value
          FROM o GROUP BY cut_pos, customer, day) AS d
),
rfm AS (
    SELECT cut_pos, customer,
           COUNT(*) - 1 AS frequency,
           CAST(MAX(day) - MIN(day) AS DOUBLE) AS recency,
           CAST(MAX(cut_day) - MIN(day) AS DOUBLE) AS T,
           CASE WHEN COUNT(*) > 1 THEN FSUM(CASE WHEN day > first_day THEN value END) / (COUNT(*) - 1)
                ELSE 0 END AS monetary_value
    FROM per_day GROUP BY cut_pos, customer
),
agg AS (
    SELECT cut_pos, customer,
           {agg_sql}
    FROM o GROUP BY cut_pos, customer
)
SELECT r.cut_pos, r.customer, {", ".join(f"r.{c}" for c in rfm)}, {", ".join(f"a.{n}" for n, _ in aggs)}
FROM rfm AS r JOIN agg AS a ON r.cut_pos = a.cut_pos AND r.customer = a.customer
ORDER BY r.cut_pos, r.customer
"""
    return sql, rfm + [n for n, _ in aggs]


def _check_orders(orders: pd.DataFrame, customer_col: str) -> None:
    """The checks of :func:`clvlib.features.rfm.rfm_summary` on the rows a feature reads."""
    validate_columns(orders, [customer_col, "order_id", "order_purchase_timestamp", "order_value"], "orders",
                     hint="Pass stage 01's cleaned orders (clvlib.data.transactions.build_orders).")
    if orders[customer_col].isna().any():
        raise ValueError(f"orders: column '{customer_col}' is empty in {int(orders[customer_col].isna().sum())} "
                         "row(s); every transaction needs a customer. Drop those rows first.")
    value = orders["order_value"]
    if not pd.api.types.is_numeric_dtype(value) or pd.api.types.is_bool_dtype(value):
        raise ValueError(f"orders: column 'order_value' must be numeric, got dtype {value.dtype}.")
    v = value.to_numpy(dtype="float64", na_value=np.nan)
    if not np.isfinite(v).all() or (v < 0).any():
        raise ValueError("orders: column 'order_value' must be finite, non-missing and >= 0; "
                         f"{int((~np.isfinite(v) | (v < 0)).sum())} row(s) are not.")


def _orders_table(orders: pd.DataFrame, customer_col: str) -> tuple[pa.Table, list[str]]:
    """The orders as the query reads them (with ``_row``, the input position), and the SQL inputs present."""
    cols = {"customer": customer_col, **{k: v for k, v in ORDER_INPUTS.items() if v in orders.columns}}
    table = arrow_table(orders, cols, times=_TIMES, strings=CATEGORICAL, table="orders")
    return table.append_column("_row", pa.array(np.arange(len(orders), dtype="int64"))), list(cols)[1:]


def customer_features(orders: pd.DataFrame, cuts: Sequence[str | pd.Timestamp],
                      customer_col: str = "customer_unique_id", engine: str | None = None) -> list[pd.DataFrame]:
    """Every person's features as of each cut (one query), one frame per cut in the order given.

    Parameters
    ----------
    orders
        Cleaned orders. Required columns: ``customer_col``, ``order_id``,
        ``order_purchase_timestamp``, ``order_value``; the other columns of
        :data:`ORDER_INPUTS` are used when present. Only rows dated on or before the latest
        cut are read.
    cuts
        Cut-off days (any time of day counts as that day).
    customer_col
        The person.
    engine
        ``"duckdb"`` (default) or ``"spark"``; see :func:`clvlib.engine.backend.resolve_engine`.

    Returns
    -------
    list of pandas.DataFrame
        Per cut, one row per person whose first purchase is on or before it, sorted by
        ``customer_col`` (with the dtype of the input's column): the feature columns described in
        the module docstring; the categorical ones as ``category`` with that cut's categories.

    Raises
    ------
    ValueError
        Missing columns, empty customer ids, missing or negative order values, or a cut with
        no order on or before it (``No orders on or before the cut-off ...``).
    """
    days = [pd.Timestamp(c).normalize() for c in cuts]
    if not days:
        raise ValueError("customer features: no cut-off given.")
    validate_columns(orders, ["order_purchase_timestamp"], "orders",
                     hint="Pass stage 01's cleaned orders (clvlib.data.transactions.build_orders).")
    micros(orders["order_purchase_timestamp"].iloc[:0], "orders", "order_purchase_timestamp")  # timestamps?
    o = orders[on_or_before(orders["order_purchase_timestamp"], max(days))]
    first = o["order_purchase_timestamp"].min()
    for day in days:
        if o.empty or not first < end_of_day(day):
            raise ValueError(f"No orders on or before the cut-off {day.date()}.")
    _check_orders(o, customer_col)
    table, inputs = _orders_table(o, customer_col)
    cut_table = cuts_table(days)
    sql, features = customer_features_sql(inputs)
    res = run_sql(sql, {"orders": table, "cuts": cut_table}, engine)
    res = res.rename(columns={"customer": customer_col})
    res[customer_col] = res[customer_col].astype(o[customer_col].dtype)
    if "installments_max" in res.columns and not res["installments_max"].isna().any():
        res["installments_max"] = res["installments_max"].astype(o["payment_installments"].dtype)
    bounds = np.searchsorted(res["cut_pos"].to_numpy(), np.arange(len(days) + 1))
    out = []
    for k in range(len(days)):
        part = res.iloc[bounds[k]:bounds[k + 1]].drop(columns="cut_pos").reset_index(drop=True)
        for c in CATEGORICAL:
            if c in part.columns:
                part[c] = part[c].astype("category")
        out.append(part[[customer_col, *features]])
    return out


def summary_at(orders: pd.DataFrame, cuts: Sequence[str | pd.Timestamp], customer_col: str = "customer_unique_id",
               order_col: str = "order_id", date_col: str = "order_purchase_timestamp", value_col: str = "order_value",
               engine: str | None = None) -> list[pd.DataFrame]:
    """Every person's order summary as of each cut (one query), one frame per cut in the order given.

    Orders dated before the end of each cut day: ``frequency`` (distinct orders), ``total_spent``,
    ``avg_order_value``, ``recency_days`` and ``tenure_days`` (from the last / first purchase to
    the end of the cut day), ``active_span_days`` (first to last purchase), ``first_purchase``,
    ``last_purchase`` (the input's timestamp dtype); sorted by ``customer_col``. People without an
    order by a cut are absent from it.

    Required columns: ``customer_col``, ``order_col``, ``date_col``, ``value_col``.
    """
    days = [pd.Timestamp(c).normalize() for c in cuts]
    table = arrow_table(orders, {"customer": customer_col, "order_id": order_col, "ts": date_col, "value": value_col},
                        times=("ts",), table="orders")
    cut_table = cuts_table(days)
    sql = f"""
WITH agg AS (
    SELECT c.cut_pos, o.customer, MAX(c.cut_end) AS cut_end, COUNT(DISTINCT o.order_id) AS frequency,
           FSUM(o.value) AS total_spent, MIN(o.ts) AS first_purchase, MAX(o.ts) AS last_purchase
    FROM orders AS o JOIN cuts AS c ON o.ts < c.cut_end
    GROUP BY c.cut_pos, o.customer
)
SELECT cut_pos, customer, frequency, total_spent, total_spent / frequency AS avg_order_value,
       (cut_end - last_purchase) / {D} AS recency_days, (cut_end - first_purchase) / {D} AS tenure_days,
       (last_purchase - first_purchase) / {D} AS active_span_days, first_purchase, last_purchase
FROM agg ORDER BY cut_pos, customer
"""
    res = run_sql(sql, {"orders": table, "cuts": cut_table}, engine).rename(columns={"customer": customer_col})
    res[customer_col] = res[customer_col].astype(orders[customer_col].dtype)
    for c in ("first_purchase", "last_purchase"):
        res[c] = from_micros(res[c], orders[date_col].dtype)
    bounds = np.searchsorted(res["cut_pos"].to_numpy(), np.arange(len(days) + 1))
    return [res.iloc[bounds[k]:bounds[k + 1]].drop(columns="cut_pos").reset_index(drop=True) for k in range(len(days))]


def window_spend(orders: pd.DataFrame, start: str | pd.Timestamp, end: str | pd.Timestamp,
                 customer_col: str = "customer_unique_id", engine: str | None = None) -> pd.DataFrame:
    """Spend and number of distinct orders per customer in the window (``start``, ``end``] (whole days).

    Orders from the end of ``start``'s day up to the end of ``end``'s day. Only customers with an
    order in the window appear, indexed by ``customer_col`` (the input's dtype).

    Required columns: ``customer_col``, ``order_id``, ``order_purchase_timestamp``, ``order_value``.
    """
    validate_columns(orders, [customer_col, "order_id", "order_purchase_timestamp", "order_value"], "orders",
                     hint="Pass stage 01's cleaned orders (clvlib.data.transactions.build_orders).")
    lo, hi = micros(end_of_day(start)), micros(end_of_day(end))
    table = arrow_table(orders, {"customer": customer_col, "order_id": "order_id", "ts": "order_purchase_timestamp",
                                 "value": "order_value"}, times=("ts",), table="orders")
    sql = f"""
SELECT customer, FSUM(value) AS holdout_spend, COUNT(DISTINCT order_id) AS holdout_orders
FROM orders WHERE ts >= {lo} AND ts < {hi}
GROUP BY customer ORDER BY customer
"""
    res = run_sql(sql, {"orders": table}, engine)
    res["customer"] = res["customer"].astype(orders[customer_col].dtype)
    return res.set_index("customer").rename_axis(customer_col)
