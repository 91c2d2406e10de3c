"""The synthetic links' orders of activity at every cut: defined once, in SQL.

A rank link pairs the most active customer with the most active clickstream user, and so on; its
placebo pairs the same customers with a random permutation of the same users
(:func:`clvlib.features.links.map_users`, the reference). Both need, at each cut, the customers
and the users **in order of activity**: the mean of two percentile ranks (average rank of ties,
divided by the number of people), highest first, ties broken by the id. :func:`activity_order_sql`
computes that order for both sides and every cut in one query, so linking millions of people at
a dozen cuts is a sort in the engine rather than in pandas:

* customers: ``frequency`` (distinct orders) and ``total_spent`` (summed order values) over the
  orders dated before the end of the cut day, as :func:`clvlib.engine.customers.summary_at` sums them;
* users: ``total_events`` and ``total_purchase_amount`` (summed amounts of purchase events, 0
  without one) over the events before each bound, as :func:`clvlib.engine.users.user_activity_sql`
  sums them.

The ids are integers here (codes numbered in the order of the ids' text,
:func:`clvlib.features.links.text_ordered_codes`), so "ties broken by the id" is the text's order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from clvlib.engine.backend import arrow_table, run_sql
from clvlib.engine.customers import cuts_table
from clvlib.engine.users import _bound_table

__all__ = ["activity_order_sql", "activity_tables", "activity_orders"]


def _pct_rank(col: str) -> str:
    """Common table expressions ``cnt_{col}`` and ``pct_{col}``: pandas' ``rank(pct=True, method="average")`` of
    ``col`` within (side, cut) for each of its values, exact in floating point.

    Counted per distinct value, then summed in order: a value's highest rank is the number of
    people up to it, its average rank ``(2 * highest - ties + 1) / 2`` (a whole or half number,
    exact), divided by the number of people with a value, as pandas divides it (a missing value has
    no rank, and the score is the mean of the ranks there are, as ``DataFrame.mean`` skips NaN;
    without any, the person comes last); in DOUBLE on both engines (Spark
    would read ``2.0`` as a DECIMAL and round). Far cheaper than ranking every person with window
    functions (one sort of the distinct values, then a hash join). The join matches a person's
    value to the same value counted: exact where ``people`` is computed once (DuckDB materialises
    it; Spark in local mode sums in a fixed order; on a cluster its floating-point sums could
    differ between two evaluations in the last bit, and such a person would lose that rank).
    """
    part = "PARTITION BY side, k"
    return f"""cnt_{col} AS (
    SELECT side, k, {col}, COUNT(*) AS ties FROM people WHERE {col} IS NOT NULL GROUP BY side, k, {col}
),
pct_{col} AS (
    SELECT side, k, {col},
           CAST(SUM(ties) OVER ({part} ORDER BY {col}) * 2 - ties + 1 AS DOUBLE) / 2
               / CAST(SUM(ties) OVER ({part}) AS DOUBLE) AS pct
    FROM cnt_{col}
)"""


def activity_order_sql() -> str:
    """The query of every customer's and user's position in the order of activity, at every cut.

    Reads ``orders`` (``customer`` as an integer code, ``order_id``, ``ts`` and ``value``), ``cuts``
    (``cut_pos``, ``cut_end``), ``events`` (``uid`` as an integer code, ``ts``, ``event``,
    ``amount``) and ``bounds`` (``bound``, ``cut_end``: a cut's bound on the events, numbered as
    its cut). Returns ``side`` (0: customers, 1: users), ``k`` (the cut), ``id``, ordered by side,
    cut, then activity (highest first, ties by id).
    """
    return f"""
WITH c AS (
    SELECT c.cut_pos AS k, o.customer AS id,
           CAST(COUNT(DISTINCT o.order_id) AS DOUBLE) AS a1, FSUM(o.value) AS a2
    FROM orders AS o JOIN cuts AS c ON o.ts < c.cut_end
    GROUP BY c.cut_pos, o.customer
),
u AS (
    SELECT b.bound AS k, x.uid AS id,
           CAST(COUNT(*) AS DOUBLE) AS a1,
           COALESCE(FSUM(CASE WHEN x.event = 'purchase' THEN x.amount END), 0) AS a2
    FROM events AS x JOIN bounds AS b ON x.ts < b.cut_end
    GROUP BY b.bound, x.uid
),
people AS (
    SELECT 0 AS side, k, id, a1, a2 FROM c
    UNION ALL
    SELECT 1 AS side, k, id, a1, a2 FROM u
),
{_pct_rank("a1")},
{_pct_rank("a2")},
scored AS (
    SELECT p.side, p.k, p.id,
           CASE WHEN r1.pct IS NULL THEN r2.pct WHEN r2.pct IS NULL THEN r1.pct ELSE (r1.pct + r2.pct) / 2 END AS score
    FROM people AS p
    LEFT JOIN pct_a1 AS r1 ON p.side = r1.side AND p.k = r1.k AND p.a1 = r1.a1
    LEFT JOIN pct_a2 AS r2 ON p.side = r2.side AND p.k = r2.k AND p.a2 = r2.a2
)
SELECT side, k, id FROM scored ORDER BY side, k, score DESC NULLS LAST, id
"""


def activity_tables(orders: pd.DataFrame, events: pd.DataFrame, customer_codes: np.ndarray, user_codes: np.ndarray,
                    order_col: str = "order_id", date_col: str = "order_purchase_timestamp",
                    value_col: str = "order_value", ts_col: str = "Timestamp", event_col: str = "EventType",
                    amount_col: str = "Amount") -> tuple[pa.Table, pa.Table]:
    """The orders and events as :func:`activity_order_sql` reads them, with the people's integer codes.

    Made once for many calls of :func:`activity_orders` (a few cuts at a time): the events'
    conversion to Arrow is most of a query's cost at millions of events.
    """
    o = arrow_table(orders.assign(_code=customer_codes), {"customer": "_code", "order_id": order_col, "ts": date_col,
                                                          "value": value_col}, times=("ts",), table="orders")
    e = arrow_table(events.assign(_code=user_codes), {"uid": "_code", "ts": ts_col, "event": event_col,
                                                      "amount": amount_col}, times=("ts",), strings=("event",),
                    table="clickstream events")
    return o, e


def activity_orders(orders: pa.Table, events: pa.Table, cuts: Sequence[pd.Timestamp],
                    bounds: Sequence[tuple[pd.Timestamp | None, pd.Timestamp]],
                    engine: str | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per cut, the customers' and the users' codes in order of activity (:func:`activity_order_sql`).

    Parameters
    ----------
    orders, events
        From :func:`activity_tables`.
    cuts
        Cut-off days: the orders dated before the end of each day are read.
    bounds
        Per cut, the events' ``(end, ref)`` bound (``end`` None: every event), as
        :func:`clvlib.features.links.user_bounds` gives them.
    engine
        ``"duckdb"`` (default) or ``"spark"``.

    Returns
    -------
    list of (customers, users)
        Per cut in the order given, two int64 arrays of codes, most active first. People
        without an order (an event) before the cut are absent from it.
    """
    if len(cuts) != len(bounds):
        raise ValueError(f"activity orders: {len(cuts)} cut(s) but {len(bounds)} bound(s); give one bound per cut.")
    n = len(cuts)
    res = run_sql(activity_order_sql(), {"orders": orders, "cuts": cuts_table(cuts), "events": events,
                                         "bounds": _bound_table(bounds)}, engine, arrow=True)
    side = res.column("side").to_numpy().astype("int64")
    k = res.column("k").to_numpy().astype("int64")
    ids = res.column("id").to_numpy().astype("int64", copy=False)
    at = np.searchsorted(side * n + k, np.arange(2 * n + 1))
    return [(ids[at[j]:at[j + 1]], ids[at[n + j]:at[n + j + 1]]) for j in range(n)]
