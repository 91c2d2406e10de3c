"""The same SQL on Spark (local mode): the snapshot features, click features and labels equal DuckDB's (slow).

Needs pyspark (requirements.txt) and Java 17+; skipped, with the reason, without them.
"""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from test_customers import orders as hand_orders

from clvlib.engine.users import event_slots
from clvlib.features.links import user_bounds, users_at_cuts
from clvlib.features.snapshots import build_click_snapshots, build_links, build_snapshots
from clvlib.features.temporal import holdout_labels

pytestmark = pytest.mark.slow
pytest.importorskip("pyspark", reason="pyspark is not installed (python -m pip install -r requirements.txt)")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17+ on the PATH", allow_module_level=True)


@pytest.fixture(scope="module")
def spark():
    from clvlib.engine.backend import spark_session

    session = spark_session()
    yield session
    session.stop()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-9)


def test_hand_checked_snapshots_are_the_same_on_spark(spark):
    cuts = [pd.Timestamp("2018-02-28"), pd.Timestamp("2018-01-01"), pd.Timestamp("2018-02-10")]
    pd.testing.assert_frame_equal(build_snapshots(hand_orders(), cuts, engine="spark"),
                                  build_snapshots(hand_orders(), cuts, engine="duckdb"))


def test_snapshot_click_features_and_labels_on_spark_equal_duckdbs_on_a_small_demo(spark, small_demo):
    orders, events, cuts = small_demo
    snaps = build_snapshots(orders, cuts, engine="spark")
    _same(snaps, build_snapshots(orders, cuts, engine="duckdb"))
    until = orders[orders["order_purchase_timestamp"] <= "2018-02-28 23:59:59"]
    for got, expected in zip(users_at_cuts(until, events, cuts, engine="spark")[0],
                             users_at_cuts(until, events, cuts, engine="duckdb")[0]):
        _same(got, expected)
    slots = event_slots(events, user_bounds(until, events, cuts)[0], engine="spark")  # made once, read per query
    for got, expected in zip(users_at_cuts(until, events, cuts, engine="spark", slots=slots)[0],
                             users_at_cuts(until, events, cuts, engine="duckdb")[0]):
        _same(got, expected)
    for got, expected in zip(users_at_cuts(until, events, cuts, engine="spark", activity_only=True)[0],
                             users_at_cuts(until, events, cuts, engine="duckdb", activity_only=True)[0]):
        _same(got, expected)
    people = snaps.loc[snaps["cut"] == cuts[0], "customer_unique_id"]
    _same(holdout_labels(orders, cuts[0], "2018-08-31", people, engine="spark"),
          holdout_labels(orders, cuts[0], "2018-08-31", people, engine="duckdb"))


def test_links_on_spark_equal_duckdbs_on_a_small_demo(spark, small_demo):
    """Ranks (in DOUBLE on both engines), the placebo's permutation and the key: the same links.

    Spark sums without compensation, so 7 users' purchase totals differ from DuckDB's in the last
    bit here; a tie between two such totals could rank apart, but none does on this demo."""
    orders, events, cuts = small_demo
    people, users = orders["customer_unique_id"].drop_duplicates(), events["UserID"].drop_duplicates()
    n = min(len(people), len(users)) // 2
    key = pd.DataFrame({"customer_unique_id": people.iloc[:n].to_numpy(), "UserID": users.iloc[-n:].to_numpy()})
    got, info = build_links(orders, events, cuts, ["rank", "random", "key"], key=key, engine="spark")
    expected, expected_info = build_links(orders, events, cuts, ["rank", "random", "key"], key=key, engine="duckdb")
    pd.testing.assert_frame_equal(got, expected)
    assert info == expected_info and len(got) > 1000
    _same(build_click_snapshots(orders, events, got, cuts, engine="spark"),  # joined to the links on Spark too
          build_click_snapshots(orders, events, got, cuts, engine="duckdb"))
