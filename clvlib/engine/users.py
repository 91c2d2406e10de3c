"""Per-user clickstream features as of one or more dates: defined once, in SQL.

:func:`user_features_at` computes, in **one query**, each user's activity over the events before
each of several bounds (``ts < cut_end``, or every event when a bound has no end), measured to
a reference time (``ref``: recency and the last 30 / 90 days). A session is the pair (user,
session id).

Browsing is kept apart from buying: a session with a purchase event (before the bound) is an
**order session**, every other session a **browsing session**. In a shop's log most purchases
sit at the end of a session that only led to the order, so counting all sessions mixes "browses
a lot" with "bought": the ``browse_*`` columns count only browsing. Counts are also given **per
day of exposure** (from the user's first event, which is never before the data start, to
``ref``), so a user seen for a week and one seen for two years compare, and **since the last
purchase** (browsing sessions that started after the user's last purchase event, and the days
from that purchase to ``ref``): interest that continues after an order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from clvlib.engine.backend import US_PER_DAY, arrow_table, from_micros, micros, run_sql
from clvlib.schemas import EVENT_TYPES

__all__ = ["COUNT_COLUMNS", "BEHAVIOUR_COLUMNS", "USER_COLUMNS", "LINKED_COLUMNS", "ACTIVITY_COLUMNS", "user_features_sql",
           "linked_features_sql", "linked_features",
           "event_slots_sql", "user_features_from_slots_sql", "user_activity_sql", "EventSlots", "event_slots",
           "user_features_at"]

D = US_PER_DAY
#: Event type -> its count column.
COUNT_COLUMNS = {"page_view": "page_views", "product_view": "product_views", "add_to_cart": "add_to_cart",
                 "purchase": "purchases", "click": "clicks", "login": "logins", "logout": "logouts"}
#: The columns that separate browsing from order sessions, per day of exposure and since the last purchase.
BEHAVIOUR_COLUMNS = ["order_sessions", "browse_sessions", "exposure_days", "browse_sessions_per_day",
                     "order_sessions_per_day", "browse_cart_share", "browse_recency_days",
                     "browse_since_last_purchase", "days_since_last_purchase"]
#: The per-user columns, in order (after the user id).
USER_COLUMNS = ["total_events", "sessions", "page_views", "product_views", "add_to_cart", "purchases", "clicks",
                "logins", "total_purchase_amount", "mean_purchase_amount", "conversion_rate", "cart_rate",
                "events_per_session", "active_days", "first_event", "last_event", "recency_days",
                "sessions_last_30d", "sessions_last_90d", "purchases_last_90d",
                *BEHAVIOUR_COLUMNS]
#: The users' columns a linked customer gets (:func:`linked_features`): all but the first and last event.
LINKED_COLUMNS = [c for c in USER_COLUMNS if c not in ("first_event", "last_event")]
#: The few columns that measure a user's activity (what a synthetic link ranks users by, and what its
#: placebo check correlates): the same definitions as in :func:`user_features_sql`, in a far cheaper query.
ACTIVITY_COLUMNS = ["total_events", "purchases", "total_purchase_amount"]
#: A bound "without end": later than any timestamp in microseconds.
_NO_END = 2**62
_US_PER_DAY = 86_400_000_000


def user_features_sql(event_types: Sequence[str] = EVENT_TYPES, grain: int = 1) -> str:
    """The query of every user's features at every bound.

    Reads ``events`` (``uid``, ``session``, ``ts`` in integer microseconds, ``event``,
    ``amount``) and ``bounds`` (``bound``, ``cut_end``, ``ref``, both in microseconds). Returns
    one row per (``bound``, ``uid``) with an event before ``cut_end``, ordered by both.

    The events are first summed per (user, session, time slot of ``grain`` microseconds), and the
    bounds join those slots rather than the events. Exact when every ``cut_end`` and ``ref`` is a
    multiple of ``grain`` (then a slot lies wholly before or after each bound and each recent
    window's start); :func:`user_features_at` passes one day when they are (cut-offs end at
    midnight) and one microsecond otherwise. With a day, a shop's log of 8.3 million events at 16
    cuts joins 1.3 million slots instead of the events: several times faster.
    """
    return f"""
WITH slots AS ({event_slots_sql(event_types, grain)}),
{_features_from_slots(event_types, grain)}"""


def event_slots_sql(event_types: Sequence[str] = EVENT_TYPES, grain: int = 1) -> str:
    """The query that sums ``events`` per (user, session, time slot of ``grain`` microseconds).

    The first step of :func:`user_features_sql`; :func:`user_features_from_slots_sql` is the rest,
    so the slots can be computed once and queried at many bounds (:func:`event_slots`).
    """
    if _US_PER_DAY % grain:
        raise ValueError(f"grain must divide one day in microseconds ({_US_PER_DAY}), got {grain}.")
    slot_counts = ",\n           ".join(f"COUNT(CASE WHEN event = '{t}' THEN 1 END) AS n_{COUNT_COLUMNS[t]}"
                                         for t in event_types if t in COUNT_COLUMNS)
    return f"""
    SELECT uid, session, FLOOR(ts / {grain}) AS slot,
           COUNT(*) AS n_events,
           {slot_counts},
           COUNT(CASE WHEN event = 'add_to_cart' THEN 1 END) AS n_cart,
           COUNT(CASE WHEN event = 'purchase' THEN 1 END) AS n_buy,
           FSUM(CASE WHEN event = 'purchase' THEN amount END) AS buy_amount,
           MIN(ts) AS first_ts,
           MAX(ts) AS last_ts,
           MAX(CASE WHEN event = 'purchase' THEN ts END) AS last_buy
    FROM events GROUP BY uid, session, FLOOR(ts / {grain})
"""


def user_features_from_slots_sql(event_types: Sequence[str] = EVENT_TYPES, grain: int = 1) -> str:
    """:func:`user_features_sql` reading a table ``slots`` (:func:`event_slots_sql`'s result) instead of ``events``."""
    return f"WITH {_features_from_slots(event_types, grain)}"


def _features_from_slots(event_types: Sequence[str], grain: int) -> str:
    """The common table expressions and final query of the features, from ``slots`` and ``bounds``."""
    if _US_PER_DAY % grain:
        raise ValueError(f"grain must divide one day in microseconds ({_US_PER_DAY}), got {grain}.")
    counts = ",\n           ".join(f"CAST(SUM(n_{COUNT_COLUMNS[t]}) AS BIGINT) AS {COUNT_COLUMNS[t]}"
                                    for t in event_types if t in COUNT_COLUMNS)
    start = "slot * " + str(grain)  # the slot's first microsecond
    recent = {days: f"{start} >= ref - {days * _US_PER_DAY}" for days in (30, 90)}
    return f"""e AS (
    SELECT b.bound, b.ref, x.*
    FROM slots AS x JOIN bounds AS b ON {start.replace("slot", "x.slot")} < b.cut_end
),
agg AS (
    SELECT bound, uid,
           CAST(SUM(n_events) AS BIGINT) AS total_events,
           COUNT(DISTINCT session) AS sessions,
           {counts},
           COUNT(DISTINCT CASE WHEN n_buy > 0 THEN session END) AS purchase_sessions,
           COUNT(DISTINCT CASE WHEN n_cart > 0 THEN session END) AS cart_sessions,
           COALESCE(FSUM(buy_amount), 0) AS total_purchase_amount,
           COUNT(DISTINCT FLOOR({start} / {D})) AS active_days,
           MIN(first_ts) AS first_event,
           MAX(last_ts) AS last_event,
           MAX(last_buy) AS last_purchase,
           MAX(ref) AS ref,
           (MAX(ref) - MAX(last_ts)) / {D} AS recency_days,
           COUNT(DISTINCT CASE WHEN {recent[30]} THEN session END) AS sessions_last_30d,
           COUNT(DISTINCT CASE WHEN {recent[90]} THEN session END) AS sessions_last_90d,
           CAST(COALESCE(SUM(CASE WHEN {recent[90]} THEN n_buy END), 0) AS BIGINT) AS purchases_last_90d
    FROM e GROUP BY bound, uid
),
sess AS (
    SELECT bound, uid, session,
           MIN(first_ts) AS started,
           MAX(last_ts) AS ended,
           SUM(n_events) AS n_events,
           SUM(n_cart) AS n_cart,
           SUM(n_buy) AS n_buy
    FROM e GROUP BY bound, uid, session
),
browse AS (
    SELECT s.bound, s.uid,
           COUNT(*) AS browse_sessions,
           CAST(SUM(s.n_events) AS BIGINT) AS browse_events,
           CAST(SUM(s.n_cart) AS BIGINT) AS browse_carts,
           MAX(s.ended) AS last_browse,
           COUNT(CASE WHEN a.last_purchase IS NULL OR s.started > a.last_purchase THEN 1 END)
               AS browse_since_last_purchase
    FROM sess AS s JOIN agg AS a ON s.bound = a.bound AND s.uid = a.uid
    WHERE s.n_buy = 0
    GROUP BY s.bound, s.uid
),
feat AS (
    SELECT a.*,
           COALESCE(w.browse_sessions, 0) AS browse_sessions,
           w.browse_events, w.browse_carts, w.last_browse,
           COALESCE(w.browse_since_last_purchase, 0) AS browse_since_last_purchase,
           CAST(a.ref - a.first_event AS DOUBLE) / {D} AS exposure_days
    FROM agg AS a LEFT JOIN browse AS w ON a.bound = w.bound AND a.uid = w.uid
)
SELECT bound, uid, total_events, sessions, page_views, product_views, add_to_cart, purchases, clicks, logins,
       total_purchase_amount,
       CASE WHEN purchases > 0 THEN total_purchase_amount / purchases END AS mean_purchase_amount,
       CAST(purchase_sessions AS DOUBLE) / sessions AS conversion_rate,
       CAST(cart_sessions AS DOUBLE) / sessions AS cart_rate,
       CAST(total_events AS DOUBLE) / sessions AS events_per_session,
       active_days, first_event, last_event, recency_days, sessions_last_30d, sessions_last_90d, purchases_last_90d,
       purchase_sessions AS order_sessions,
       browse_sessions,
       exposure_days,
       browse_sessions / GREATEST(exposure_days, 1.0) AS browse_sessions_per_day,
       purchase_sessions / GREATEST(exposure_days, 1.0) AS order_sessions_per_day,
       CASE WHEN browse_events > 0 THEN CAST(browse_carts AS DOUBLE) / browse_events END AS browse_cart_share,
       CAST(ref - last_browse AS DOUBLE) / {D} AS browse_recency_days,
       browse_since_last_purchase,
       CAST(ref - last_purchase AS DOUBLE) / {D} AS days_since_last_purchase
FROM feat
ORDER BY bound, uid
"""


def linked_features_sql(bound: int) -> str:
    """The query of the linked users' features at one bound, one row per link, in the links' order.

    Reads ``features`` (``bound``, ``uid`` and the feature columns: :func:`user_features_at` with ``arrow=True``)
    and ``links`` (``customer``, ``uid``, ``row``); returns ``customer`` and
    :data:`LINKED_COLUMNS` ordered by ``row``. A linked user without an event before the bound
    has no row.
    """
    cols = ", ".join(f"f.{c}" for c in LINKED_COLUMNS)
    return f"""
SELECT l.customer, {cols}
FROM links AS l JOIN features AS f ON f.uid = l.uid
WHERE f.bound = {int(bound)}
ORDER BY l.row
"""


def user_activity_sql() -> str:
    """The query of every user's :data:`ACTIVITY_COLUMNS` at every bound (the inputs of :func:`user_features_sql`).

    No sessions, no windows: one pass over the events per bound, so linking at a dozen cuts does
    not pay for the full features it does not use.
    """
    return """
SELECT b.bound, x.uid,
       COUNT(*) AS total_events,
       COUNT(CASE WHEN x.event = 'purchase' THEN 1 END) AS purchases,
       COALESCE(FSUM(CASE WHEN x.event = 'purchase' THEN x.amount END), 0) AS total_purchase_amount
FROM events AS x JOIN bounds AS b ON x.ts < b.cut_end
GROUP BY b.bound, x.uid
ORDER BY b.bound, x.uid
"""


@dataclass(frozen=True)
class EventSlots:
    """A clickstream's events summed per (user, session, time slot) once, to be queried at many bounds.

    Made by :func:`event_slots`; pass it to :func:`user_features_at` as ``slots``. ``grain``: the
    slot's length in microseconds (every bound queried must be a multiple of it); ``user_dtype``
    and ``ts_dtype``: the events' id and timestamp dtypes, which the features are returned in.
    """

    table: pa.Table
    grain: int
    user_dtype: Any
    ts_dtype: Any

    def __repr__(self) -> str:
        return f"EventSlots({self.table.num_rows:,} slots of {self.grain} us)"


def _bound_table(bounds: Sequence[tuple[pd.Timestamp | None, pd.Timestamp]]) -> pa.Table:
    return arrow_table(pd.DataFrame({
        "bound": np.arange(len(bounds), dtype="int64"),
        "cut_end": pd.array([_NO_END if end is None else micros(pd.Timestamp(end)) for end, _ in bounds], dtype="Int64"),
        "ref": pd.array([micros(pd.Timestamp(ref)) for _, ref in bounds], dtype="Int64"),
    }), {"bound": "bound", "cut_end": "cut_end", "ref": "ref"})


def _grain(bound_table: pa.Table) -> int:
    """One day when every bound is a midnight (a slot then lies wholly on one side of each), else one microsecond."""
    ends = [v for v in (*bound_table.column("cut_end").to_pylist(), *bound_table.column("ref").to_pylist())
            if v != _NO_END]
    return _US_PER_DAY if all(v % _US_PER_DAY == 0 for v in ends) else 1


def _events_table(events: pd.DataFrame, user_col: str, session_col: str, ts_col: str, event_col: str,
                  amount_col: str) -> pa.Table:
    need = [user_col, session_col, ts_col, event_col, amount_col]
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise ValueError(f"clickstream events: missing column(s) {missing}.")
    return arrow_table(events, {"uid": user_col, "session": session_col, "ts": ts_col, "event": event_col,
                                "amount": amount_col}, times=("ts",), strings=("event",), table="clickstream events")


def event_slots(
    events: pd.DataFrame,
    bounds: Sequence[tuple[pd.Timestamp | None, pd.Timestamp]],
    user_col: str = "UserID",
    session_col: str = "SessionID",
    ts_col: str = "Timestamp",
    event_col: str = "EventType",
    amount_col: str = "Amount",
    engine: str | None = None,
) -> EventSlots:
    """The events summed per (user, session, slot) once (:func:`event_slots_sql`), for every ``bounds`` to come.

    :func:`user_features_at` computes the slots inside each query; a caller that queries the
    same events at many bounds in several queries (stage 04 at millions of users, a few cuts
    at a time) computes them once here. The slot is one day when every bound is a midnight.
    """
    grain = _grain(_bound_table(bounds))
    table = run_sql(event_slots_sql(grain=grain),
                    {"events": _events_table(events, user_col, session_col, ts_col, event_col, amount_col)},
                    engine, arrow=True)
    return EventSlots(table, grain, events[user_col].dtype, events[ts_col].dtype)


def user_features_at(
    events: pd.DataFrame | None,
    bounds: Sequence[tuple[pd.Timestamp | None, pd.Timestamp]],
    user_col: str = "UserID",
    session_col: str = "SessionID",
    ts_col: str = "Timestamp",
    event_col: str = "EventType",
    amount_col: str = "Amount",
    engine: str | None = None,
    activity_only: bool = False,
    slots: EventSlots | None = None,
    arrow: bool = False,
) -> list[pd.DataFrame] | pa.Table:
    """Every user's features over the events before each bound (one query), one frame per bound.

    Parameters
    ----------
    events
        Cleaned events. Required columns: the five ``*_col`` names. Not read when ``slots`` is given.
    bounds
        ``(end, ref)`` pairs: events dated before ``end`` are read (``None``: every event), and
        recency and the recent windows are measured to ``ref`` (exclusive ends, e.g. the end
        of a cut day from :func:`clvlib.dates.end_of_day`).
    engine
        ``"duckdb"`` (default) or ``"spark"``.
    activity_only
        Only :data:`ACTIVITY_COLUMNS` (:func:`user_activity_sql`), the same values in a fraction
        of the time.
    slots
        The same events' :func:`event_slots`, computed once for many calls: the query then starts
        from them (:func:`user_features_from_slots_sql`), with the same results.
    arrow
        Return the engine's result itself, one Arrow table for every bound (``bound``, the bound's
        position; ``uid``; the columns, timestamps in microseconds; ordered by bound and user):
        what :func:`linked_features` reads, without moving every user's features into pandas.

    Returns
    -------
    list of pandas.DataFrame
        Per bound, one row per user with an event before it, sorted by ``user_col``: the user id
        and :data:`USER_COLUMNS` (or :data:`ACTIVITY_COLUMNS`) (counts as int64; ``mean_purchase_amount`` missing for users
        who never purchased; ``first_event``/``last_event`` with the input's timestamp dtype).
        With ``arrow=True``, the ``pyarrow.Table`` described there.

    Raises
    ------
    ValueError
        For a missing column, ``slots`` with ``activity_only``, or a bound that is not a multiple
        of the slots' grain.
    """
    if slots is not None and activity_only:
        raise ValueError("activity_only reads the events themselves; call without slots.")
    bound_table = _bound_table(bounds)
    if slots is not None:
        if _grain(bound_table) % slots.grain:
            raise ValueError(f"the slots are {slots.grain} us long, but a bound is not a multiple of them; "
                             "make the slots with every bound (event_slots).")
        table = run_sql(user_features_from_slots_sql(grain=slots.grain), {"slots": slots.table, "bounds": bound_table},
                        engine, arrow=True)
        user_dtype, ts_dtype = slots.user_dtype, slots.ts_dtype
    else:
        if events is None:
            raise ValueError("user_features_at: give the events, or their slots (event_slots).")
        sql = user_activity_sql() if activity_only else user_features_sql(grain=_grain(bound_table))
        table = run_sql(sql, {"events": _events_table(events, user_col, session_col, ts_col, event_col, amount_col),
                              "bounds": bound_table}, engine, arrow=True)
        user_dtype, ts_dtype = events[user_col].dtype, events[ts_col].dtype
    if arrow:
        return table
    res = table.to_pandas().rename(columns={"uid": user_col})
    res[user_col] = res[user_col].astype(user_dtype)
    for c in ("first_event", "last_event") if not activity_only else ():  # back from microseconds, in the input's dtype
        res[c] = from_micros(res[c], ts_dtype)
    cuts = np.searchsorted(res["bound"].to_numpy(), np.arange(len(bounds) + 1))
    return [res.iloc[cuts[k]:cuts[k + 1]].drop(columns="bound").reset_index(drop=True) for k in range(len(bounds))]


def _id_kind(kind: pa.DataType) -> str:
    """Integer, text, or the type itself: the id types that join without a cast."""
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    return str(kind)


def linked_features(features: pa.Table, bound: int, links: pd.DataFrame, customer_col: str = "customer_unique_id",
                    user_col: str = "UserID", engine: str | None = None) -> pd.DataFrame:
    """Each linked customer's user features at one bound, joined in the engine (:func:`linked_features_sql`).

    What a join on the user in pandas gives (``links[[customer, user]].merge(users, on=user)``),
    without moving every user's features into pandas: at millions of users that join cost more
    than the query that computed the features.

    Parameters
    ----------
    features
        :func:`user_features_at`'s result with ``arrow=True`` (every bound of it stays in Arrow).
    bound
        The bound's position in it.
    links
        One link per row: ``customer_col`` and ``user_col`` (the events' user id type).

    Returns
    -------
    pandas.DataFrame
        ``customer_col`` and :data:`LINKED_COLUMNS`, in the links' order; links whose user has
        no event before the bound are left out.
    """
    missing = [c for c in (customer_col, user_col) if c not in links.columns]
    if missing:
        raise ValueError(f"links: missing column(s) {missing}.")
    table = pa.table({"customer": pa.array(links[customer_col]), "uid": pa.array(links[user_col]),
                      "row": pa.array(np.arange(len(links), dtype="int64"))})
    have, want = table.schema.field("uid").type, features.schema.field("uid").type
    if _id_kind(have) != _id_kind(want):  # the engine would cast one to the other: "007" would match 7
        raise ValueError(f"links: column '{user_col}' holds {have} ids, the events' user ids are {want}; give the "
                         "links the events' user ids, of the same type.")
    res = run_sql(linked_features_sql(bound), {"features": features, "links": table}, engine)
    return res.rename(columns={"customer": customer_col})
