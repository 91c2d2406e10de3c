"""The engine on the real Kaggle data: snapshots, labels, links and click features equal the pandas oracle (slow)."""

from __future__ import annotations

import pandas as pd
import pytest

import engine_oracle as oracle
from clvlib.features.links import users_at_cuts
from clvlib.features.snapshots import build_links, build_snapshots
from clvlib.features.temporal import holdout_labels

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-9)


def test_real_snapshots_and_labels_equal_the_pandas_oracle(real_inputs):
    orders, _, cuts = real_inputs
    snaps = build_snapshots(orders, cuts)
    assert len(snaps) == 131_946  # people by each of the seven cuts, stacked
    _same(snaps, oracle.build_snapshots(orders, cuts))
    people = snaps.loc[snaps["cut"] == cuts[-1], "customer_unique_id"]
    _same(holdout_labels(orders, cuts[-1], "2018-08-31", people),
          oracle.holdout_labels(orders, cuts[-1], "2018-08-31", people))


def test_real_links_equal_the_pandas_oracle(real_inputs):
    orders, events, cuts = real_inputs
    links, _ = build_links(orders, events, cuts, ["rank", "random"])
    pd.testing.assert_frame_equal(links, oracle.build_links(orders, events, cuts, ["rank", "random"]))


def test_real_click_users_at_every_cut_equal_the_pandas_oracle(real_inputs):
    orders, events, cuts = real_inputs
    until = orders[orders["order_purchase_timestamp"] < pd.Timestamp(max(cuts)) + pd.Timedelta(days=1)]
    users, overlap = users_at_cuts(until, events, cuts)
    assert not overlap  # the Kaggle clickstream is from 2024: every event is used at every cut
    for cut, got in zip(cuts, users):
        _same(got, oracle.click_users_at(until, events, cut))
