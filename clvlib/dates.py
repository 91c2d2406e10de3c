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
