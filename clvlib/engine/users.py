"""Per-user clickstream features as of one or more dates: defined once, in SQL.

:func:`user_features_at` computes, in **one query**, each user's activity over the events before
each of several bounds (``ts < cut_end``, or every event when a bound has no end), measured to
a reference time (``ref``: recency and the last 30 / 90 days). A session is the pair (user,
session id).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clvlib.engine.backend import US_PER_DAY, arrow_table, from_micros, micros, run_sql
from clvlib.schemas import EVENT_TYPES

__all__ = ["COUNT_COLUMNS", "USER_COLUMNS", "user_features_sql", "user_features_at"]

D = US_PER_DAY
#: Event type -> its count column.
COUNT_COLUMNS = {"page_view": "page_views", "product_view": "product_views", "add_to_cart": "add_to_cart",
                 "purchase": "purchases", "click": "clicks", "login": "logins", "logout": "logouts"}
#: The per-user columns, in order (after the user id).
USER_COLUMNS = ["total_events", "sessions", "page_views", "product_views", "add_to_cart", "purchases", "clicks",
                "logins", "total_purchase_amount", "mean_purchase_amount", "conversion_rate", "cart_rate",
                "events_per_session", "active_days", "first_event", "last_event", "recency_days",
                "sessions_last_30d", "sessions_last_90d", "purchases_last_90d"]
#: A bound "without end": later than any timestamp in microseconds.
_NO_END = 2**62
_US_PER_DAY = 86_400_000_000


def user_features_sql(event_types: Sequence[str] = EVENT_TYPES) -> str:
    """The query of every user's features at every bound.

    Reads ``events`` (``uid``, ``session``, ``ts`` in integer microseconds, ``event``,
    ``amount``) and ``bounds`` (``bound``, ``cut_end``, ``ref``, both in microseconds). Returns
    one row per (``bound``, ``uid``) with an event before ``cut_end``, ordered by both.
    """
    counts = ",\n           ".join(f"COUNT(CASE WHEN event = '{t}' THEN 1 END) AS {COUNT_COLUMNS[t]}"
                                    for t in event_types if t in COUNT_COLUMNS)
    recent = {days: f"ts >= ref - {days * _US_PER_DAY}" for days in (30, 90)}
    return f"""
WITH e AS (
    SELECT b.bound, b.ref, x.*
    FROM events AS x JOIN bounds AS b ON x.ts < b.cut_end
),
agg AS (
    SELECT bound, uid,
           COUNT(*) AS total_events,
           COUNT(DISTINCT session) AS sessions,
           {counts},
           COUNT(DISTINCT CASE WHEN event = 'purchase' THEN session END) AS purchase_sessions,
           COUNT(DISTINCT CASE WHEN event = 'add_to_cart' THEN session END) AS cart_sessions,
           COALESCE(FSUM(CASE WHEN event = 'purchase' THEN amount END), 0) AS total_purchase_amount,
           COUNT(DISTINCT FLOOR(ts / {D})) AS active_days,
           MIN(ts) AS first_event,
           MAX(ts) AS last_event,
           (MAX(ref) - MAX(ts)) / {D} AS recency_days,
           COUNT(DISTINCT CASE WHEN {recent[30]} THEN session END) AS sessions_last_30d,
           COUNT(DISTINCT CASE WHEN {recent[90]} THEN session END) AS sessions_last_90d,
           COUNT(CASE WHEN event = 'purchase' AND {recent[90]} THEN 1 END) AS purchases_last_90d
    FROM e GROUP BY bound, uid
)
SELECT bound, uid, total_events, sessions, page_views, product_views, add_to_cart, purchases, clicks, logins,
       total_purchase_amount,
       CASE WHEN purchases > 0 THEN total_purchase_amount / purchases END AS mean_purchase_amount,
       CAST(purchase_sessions AS DOUBLE) / sessions AS conversion_rate,
       CAST(cart_sessions AS DOUBLE) / sessions AS cart_rate,
       CAST(total_events AS DOUBLE) / sessions AS events_per_session,
       active_days, first_event, last_event, recency_days, sessions_last_30d, sessions_last_90d, purchases_last_90d
FROM agg
ORDER BY bound, uid
"""


def user_features_at(
    events: pd.DataFrame,
    bounds: Sequence[tuple[pd.Timestamp | None, pd.Timestamp]],
    user_col: str = "UserID",
    session_col: str = "SessionID",
    ts_col: str = "Timestamp",
    event_col: str = "EventType",
    amount_col: str = "Amount",
    engine: str | None = None,
) -> list[pd.DataFrame]:
    """Every user's features over the events before each bound (one query), one frame per bound.

    Parameters
    ----------
    events
        Cleaned events. Required columns: the five ``*_col`` names.
    bounds
        ``(end, ref)`` pairs: events dated before ``end`` are read (``None``: every event), and
        recency and the recent windows are measured to ``ref`` (exclusive ends, e.g. the end
        of a cut day from :func:`clvlib.dates.end_of_day`).
    engine
        ``"duckdb"`` (default) or ``"spark"``.

    Returns
    -------
    list of pandas.DataFrame
        Per bound, one row per user with an event before it, sorted by ``user_col``: the user id
        and :data:`USER_COLUMNS` (counts as int64; ``mean_purchase_amount`` missing for users
        who never purchased; ``first_event``/``last_event`` with the input's timestamp dtype).
    """
    need = [user_col, session_col, ts_col, event_col, amount_col]
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise ValueError(f"clickstream events: missing column(s) {missing}.")
    table = arrow_table(events, {"uid": user_col, "session": session_col, "ts": ts_col, "event": event_col,
                                 "amount": amount_col}, times=("ts",), strings=("event",), table="clickstream events")
    bound_table = arrow_table(pd.DataFrame({
        "bound": np.arange(len(bounds), dtype="int64"),
        "cut_end": pd.array([_NO_END if end is None else micros(pd.Timestamp(end)) for end, _ in bounds], dtype="Int64"),
        "ref": pd.array([micros(pd.Timestamp(ref)) for _, ref in bounds], dtype="Int64"),
    }), {"bound": "bound", "cut_end": "cut_end", "ref": "ref"})
    res = run_sql(user_features_sql(), {"events": table, "bounds": bound_table}, engine)
    res = res.rename(columns={"uid": user_col})
    res[user_col] = res[user_col].astype(events[user_col].dtype)
    for c in ("first_event", "last_event"):  # back from microseconds, in the input's dtype
        res[c] = from_micros(res[c], events[ts_col].dtype)
    cuts = np.searchsorted(res["bound"].to_numpy(), np.arange(len(bounds) + 1))
    return [res.iloc[cuts[k]:cuts[k + 1]].drop(columns="bound").reset_index(drop=True) for k in range(len(bounds))]
