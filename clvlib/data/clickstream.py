"""Clickstream events: read, validate, and summarise per user (through the engine)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clvlib.dates import end_of_day, on_or_before
from clvlib.data.droplog import DropLog
from clvlib.engine.users import user_features_at
from clvlib.io import read_table
from clvlib.schemas import EVENT_TYPES

__all__ = ["read_clickstream", "clean_events", "user_features", "period_overlaps", "clickstream_facts"]



def read_clickstream(path: str | Path) -> pd.DataFrame:
    """Read the clickstream CSV with validated columns, timestamps and amounts.

    Required columns: ``UserID``, ``SessionID``, ``Timestamp``, ``EventType``, ``Amount``
    (``ProductID`` and ``Outcome`` are kept when present).
    """
    df = read_table(path, required=["UserID", "SessionID", "Timestamp", "EventType", "Amount"],
                    dates=["Timestamp"], numbers=["Amount"], required_dates=["Timestamp"])
    return df


def clean_events(events: pd.DataFrame, table: str = "clickstream", end: str | pd.Timestamp | None = None,
                 require_purchase_amount: bool = True) -> tuple[pd.DataFrame, DropLog]:
    """Drop unusable events and, optionally, events after ``end``; log every step.

    Steps: exact duplicate events; events with a missing user or session; unknown event
    types; purchases without a positive amount (unless ``require_purchase_amount`` is false: an
    event log without amounts keeps its purchases); events after ``end`` (when given).
    """
    log = DropLog(table)
    log.start(len(events), "events read")
    ev = events
    n = len(ev)
    ev = ev.drop_duplicates()
    log.step("exact duplicate events", n, len(ev), "the same event recorded twice")
    n = len(ev)
    ev = ev.dropna(subset=["UserID", "SessionID"])
    log.step("events without user or session", n, len(ev), "cannot be attributed to a user")
    n = len(ev)
    ev = ev[ev["EventType"].isin(EVENT_TYPES)]
    log.step("unknown event types", n, len(ev), f"EventType not one of {list(EVENT_TYPES)}")
    if require_purchase_amount:
        n = len(ev)
        bad_purchase = (ev["EventType"] == "purchase") & ~(ev["Amount"] > 0)
        ev = ev[~bad_purchase]
        log.step("purchases without a positive amount", n, len(ev), "a purchase must carry its amount")
    if end is not None:
        n = len(ev)
        ev = ev[on_or_before(ev["Timestamp"], end)]
        log.step("events after the cut-off", n, len(ev), f"dated after {pd.Timestamp(end).date()}")
    return ev.reset_index(drop=True), log


def period_overlaps(events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, ts_col: str = "Timestamp") -> bool:
    """True when the clickstream's time span overlaps [start, end].

    The Kaggle clickstream lies in 2024 and Olist in 2016-2018: no date cut can be aligned
    between them, and reports must say so.
    """
    return bool(events[ts_col].min() <= pd.Timestamp(end) and events[ts_col].max() >= pd.Timestamp(start))


def user_features(
    events: pd.DataFrame,
    reference_date: str | pd.Timestamp | None = None,
    user_col: str = "UserID",
    session_col: str = "SessionID",
    ts_col: str = "Timestamp",
    event_col: str = "EventType",
    amount_col: str = "Amount",
    engine: str | None = None,
) -> pd.DataFrame:
    """One row per user: activity counts, purchase amounts, conversion and cart rates, recency.

    Computed by the engine (:func:`clvlib.engine.users.user_features_at`, where each column is
    defined once, in SQL) over every event given. A session is the pair (user, session id): in the
    Kaggle file session ids restart at 1 for every user.

    Parameters
    ----------
    events
        Cleaned events (see :func:`clean_events`).
    reference_date
        Date recency is measured to, through the end of that day (default: the day of the last
        event in the data).
    engine
        ``"duckdb"`` (default) or ``"spark"``; ``None``: ``$CLVLIB_ENGINE``, else DuckDB.

    Returns
    -------
    pandas.DataFrame
        ``UserID``, ``total_events``, ``sessions``, ``page_views``, ``product_views``,
        ``add_to_cart``, ``purchases``, ``clicks``, ``logins``, ``total_purchase_amount``,
        ``mean_purchase_amount`` (NaN for users who never purchased), ``conversion_rate``
        (sessions with a purchase / sessions, in [0, 1]), ``cart_rate`` (sessions with an
        add-to-cart / sessions), ``events_per_session``, ``active_days``,
        ``first_event``, ``last_event``, ``recency_days`` and recent activity:
        ``sessions_last_30d``, ``sessions_last_90d``, ``purchases_last_90d`` (before the reference date);
        then browsing kept apart from buying (an order session has a purchase event, every other
        session is a browsing session): ``order_sessions``, ``browse_sessions``, ``exposure_days``
        (from the user's first event to the reference date), ``browse_sessions_per_day`` and
        ``order_sessions_per_day`` (per day of exposure, at least one day), ``browse_cart_share``
        (add-to-cart events among the events of browsing sessions; NaN without browsing),
        ``browse_recency_days`` (to the last event of a browsing session; NaN without browsing),
        ``browse_since_last_purchase`` (browsing sessions started after the last purchase event;
        all of them for a user who never purchased) and ``days_since_last_purchase`` (NaN for
        users who never purchased).
    """
    need = [user_col, session_col, ts_col, event_col, amount_col]
    missing = [c for c in need if c not in events.columns]
    if missing:
        raise ValueError(f"clickstream events: missing column(s) {missing}.")
    if events.empty:
        raise ValueError("clickstream events: no events left to summarise.")
    ref = end_of_day(reference_date if reference_date is not None else events[ts_col].max())
    return user_features_at(events, [(None, ref)], user_col=user_col, session_col=session_col, ts_col=ts_col,
                            event_col=event_col, amount_col=amount_col, engine=engine)[0]


def clickstream_facts(events: pd.DataFrame, users: pd.DataFrame) -> dict[str, str]:
    """What the clickstream is, in words, from the data itself.

    Returns ``text`` (users, sessions, events, period, amounts), ``period`` and ``note``: the signs
    that the file is generated rather than observed, when at least two of them show (event types in
    near-equal shares, a flat hour-of-day profile, the same number of sessions for every user);
    an empty string otherwise. The note describes this file only, so it is right on any data.
    """
    sessions = users["sessions"]
    period = f"{events['Timestamp'].min():%Y-%m-%d} to {events['Timestamp'].max():%Y-%m-%d}"
    amounts = events.loc[events["EventType"] == "purchase", "Amount"]
    text = (f"**{len(users):,} users**, {int(sessions.sum()):,} sessions ({sessions.min()}-{sessions.max()} per user), "
            f"{len(events):,} events from {period}; purchase amounts {amounts.min():,.2f} to {amounts.max():,.2f}.")
    shares = events["EventType"].value_counts()
    hours = events["Timestamp"].dt.hour.value_counts()
    signs = []
    if len(shares) >= 5 and shares.max() / shares.min() < 1.2:
        signs.append(f"its {len(shares)} event types come in near-equal shares (a purchase is as common as a page view)")
    if len(hours) == 24 and hours.max() / hours.min() < 1.3:
        signs.append("events are spread evenly over the hours of the day (people sleep; this file does not)")
    if len(users) > 1 and sessions.nunique() == 1:
        signs.append(f"every user has exactly {int(sessions.iloc[0])} sessions")
    said = "; ".join(signs)
    note = ("" if len(signs) < 2 else "**Read this before using it.** " + said[:1].upper() + said[1:]
            + ". This file looks generated, not observed: nothing learned from it describes real customers.")
    return {"text": text, "period": period, "note": note}
