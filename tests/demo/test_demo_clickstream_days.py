"""The demo clickstream over time: no day is an outlier (clickstream-only users were once piled onto the last day)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clvlib.schemas import CLICKSTREAM_FILE


def _events_per_day(raw_dir: Path) -> pd.Series:
    path = sorted(Path(raw_dir).rglob(CLICKSTREAM_FILE))[0]
    ts = pd.to_datetime(pd.read_csv(path, usecols=["Timestamp"])["Timestamp"])
    return ts.dt.normalize().value_counts().sort_index()


def test_the_last_day_of_the_clickstream_is_an_ordinary_day(demo):
    per_day = _events_per_day(demo["raw_dir"])
    assert per_day.index.max() == pd.Timestamp("2018-08-31")
    week = per_day.iloc[-8:-1]  # the seven days before the last (orders, and their sessions, thin out in late August)
    # with the bug the last day had ~16 times the usual count (every clickstream-only user's late sessions)
    assert per_day.iloc[-1] < 1.5 * week.max()


def test_no_day_of_the_last_year_has_more_than_two_and_a_half_times_its_months_median(demo):
    per_day = _events_per_day(demo["raw_dir"])
    year = per_day[per_day.index > pd.Timestamp("2017-08-31")]
    rolling = year.rolling(31, center=True, min_periods=10).median()
    # the week of Black Friday 2017 (24 Nov) is a real peak of the orders and their sessions; every other day
    # stays near its month
    ordinary = (year.index < pd.Timestamp("2017-11-24")) | (year.index > pd.Timestamp("2017-11-30"))
    high = year[ordinary] >= 2.5 * rolling[ordinary]
    assert not high.any(), year[ordinary][high]
