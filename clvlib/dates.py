"""The one convention for cut-off dates: a cut-off day includes everything that happened on it."""

from __future__ import annotations

import pandas as pd

__all__ = ["DAY", "end_of_day", "on_or_before"]

DAY = pd.Timedelta(days=1)


def end_of_day(day: str | pd.Timestamp) -> pd.Timestamp:
    """Midnight after ``day``: the exclusive upper bound of "on or before ``day``"."""
    return pd.Timestamp(day).normalize() + DAY


def on_or_before(timestamps: pd.Series, day: str | pd.Timestamp) -> pd.Series:
    """True where a timestamp falls on or before ``day`` (any time that day); False for missing ones."""
    return timestamps.notna() & (timestamps < end_of_day(day))


def far_outside(ts: pd.Series, today: pd.Timestamp | None = None) -> tuple[pd.Series, pd.Timestamp, pd.Timestamp]:
    """Which timestamps lie far outside the bulk of the data, or in the future.

    The bulk is the 1st to 99th percentile (by rank); far outside is more than that span (at
    least 30 days) before or after it, or after ``today`` (default: now, plus two days of time
    zones). Fewer than 20 timestamps: nothing is flagged.

    Returns
    -------
    far : pandas.Series of bool
        Aligned with ``ts``.
    lo, hi : pandas.Timestamp
        The bulk's ends.
    """
    t = ts.dropna()
    if len(t) < 20:
        return pd.Series(False, index=ts.index), pd.NaT, pd.NaT
    lo, hi = t.quantile(0.01, interpolation="higher"), t.quantile(0.99, interpolation="lower")
    span = max(hi - lo, pd.Timedelta(days=30))
    now = pd.Timestamp.now().normalize() + pd.Timedelta(days=2) if today is None else pd.Timestamp(today)
    far = ts.notna() & ((ts < lo - span) | (ts > hi + span) | (ts > now))
    return far, lo, hi
