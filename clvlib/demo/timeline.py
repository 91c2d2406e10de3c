"""Time in the demo world: the internal clock, the day table and :func:`visible_days`.

Inside the simulation every time is a float number of seconds since
:data:`clvlib.demo.calibration.ORIGIN` (NaN for "no such event"); this module converts
to and from it, builds the per-day table of arrival weights and visibility from the
calibration tables, and integrates the visibility (:func:`visible_days`), which both the
simulation and :func:`clvlib.demo.truth.true_expected_value` use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clvlib.demo.calibration import (
    ACTIVE_DAYS,
    DOW_MULT,
    MONTH_SHARES,
    ORIGIN,
    PROCESS_END,
    SPECIAL_DAYS,
    VISIBILITY,
    VISIBILITY_AFTER,
    VISIBILITY_AFTER_FROM,
)

__all__ = [
    "DAY",
    "seconds_since_origin",
    "seconds_to_datetime",
    "seconds_to_click_timestamps",
    "day_table",
    "visible_days",
]

#: Seconds per day.
DAY = 86_400.0


def seconds_since_origin(t: np.datetime64 | str) -> float:
    """Seconds from the internal origin to ``t``."""
    return float((np.datetime64(t, "s") - ORIGIN).astype("int64"))


def seconds_to_datetime(seconds: np.ndarray) -> pd.Series:
    """Float seconds since the origin (NaN allowed) -> datetime64[s] values (NaT for NaN)."""
    s = np.asarray(seconds, dtype="float64")
    out = np.full(s.shape, np.datetime64("NaT"), dtype="datetime64[s]")
    ok = ~np.isnan(s)
    out[ok] = ORIGIN + np.floor(s[ok]).astype("int64").astype("timedelta64[s]")
    return pd.Series(out)


def seconds_to_click_timestamps(seconds: np.ndarray) -> np.ndarray:
    """Float seconds since origin -> 'YYYY-MM-DD HH:MM:SS.ffffff' strings (the clickstream format)."""
    us = np.floor(seconds * 1e6).astype("int64")
    t = ORIGIN.astype("datetime64[us]") + us.astype("timedelta64[us]")
    return np.char.replace(np.datetime_as_string(t, unit="us"), "T", " ")


def day_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per calendar day from the origin to the process end: day, arrival weight, visibility."""
    days = np.arange(np.datetime64(ORIGIN, "D"), np.datetime64(PROCESS_END, "D"))
    months = days.astype("datetime64[M]").astype(str)
    dom = (days - days.astype("datetime64[M]")).astype(int) + 1
    dow = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday
    vis = np.ones(days.size)
    day_str = days.astype(str)
    for d, v in VISIBILITY.items():
        vis[day_str == d] = v
    vis[days >= np.datetime64(VISIBILITY_AFTER_FROM)] = VISIBILITY_AFTER
    special = np.ones(days.size)
    for d, m in SPECIAL_DAYS.items():
        special[day_str == d] = m
    active = np.ones(days.size)
    for m, (lo, hi) in ACTIVE_DAYS.items():
        active[(months == m) & ((dom < lo) | (dom > hi))] = 0.0
    base = DOW_MULT[dow] * special * active * np.where(vis < 1.0, vis, 1.0)
    weight = np.zeros(days.size)
    for m, share in MONTH_SHARES.items():
        sel = months == m
        total = base[sel].sum()
        if share > 0 and total > 0:
            weight[sel] = share * base[sel] / total
    return days, weight / weight.sum(), vis


def visible_days(a: np.ndarray | pd.Series, b: np.ndarray | pd.Series) -> np.ndarray:
    """Visibility-weighted days between ``a`` and ``b`` (timestamps; 0 where ``b <= a``).

    Repeat purchases of the demo world happen at a constant rate while a person is alive,
    but only a share of them reaches the data at the very end (late August 2018 onwards,
    mirroring the real data) and none after 17 October 2018. This integrates that share
    over time, so ``purchase_rate_per_day * visible_days(a, b)`` is the expected number of
    purchase occasions seen in ``(a, b]``.

    Parameters
    ----------
    a, b
        Interval bounds, anything :func:`pandas.to_datetime` reads.

    Returns
    -------
    numpy.ndarray
        Float days, one per interval.
    """
    days, _, vis = day_table()
    knots = np.concatenate([[0.0], np.cumsum(vis)])  # cumulative visible days at day boundaries
    pos = np.arange(knots.size, dtype="float64")

    def at(x: Any) -> np.ndarray:
        t = pd.to_datetime(pd.Series(np.asarray(x).ravel())).to_numpy(dtype="datetime64[s]")
        d = (t - ORIGIN).astype("int64") / DAY
        return np.interp(d, pos, knots)

    lo, hi = at(a), at(b)
    return np.maximum(hi - lo, 0.0)
