"""The links' order of activity in SQL (clvlib.engine.links) and the pairing on codes (link_codes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.dates import end_of_day
from clvlib.engine.customers import summary_at
from clvlib.engine.links import activity_orders, activity_tables
from clvlib.engine.users import user_features_at
from clvlib.features.links import (
    _order_by_activity,
    activity_score,
    link_codes,
    map_users,
)


def _orders(rows: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["c", "order_id", "order_purchase_timestamp", "order_value"]).assign(
        order_purchase_timestamp=lambda d: pd.to_datetime(d["order_purchase_timestamp"]))


def _events(rows: list[tuple[int, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["u", "Timestamp", "EventType", "Amount"]).assign(
        Timestamp=lambda d: pd.to_datetime(d["Timestamp"]))


def _orders_at(orders: pd.DataFrame, events: pd.DataFrame, cuts: list[str], bounds=None):
    tables = activity_tables(orders, events, orders["c"].to_numpy(), events["u"].to_numpy())
    cuts_ = [pd.Timestamp(c) for c in cuts]
    bounds = bounds or [(pd.Timestamp(c) + pd.Timedelta(days=1), pd.Timestamp(c) + pd.Timedelta(days=1)) for c in cuts]
    return activity_orders(*tables, cuts_, bounds)


def test_hand_checked_order_with_ties_at_two_cuts():
    # customer 0: 1 order of 10; 1: 2 orders (30 in all); 2: 1 order of 10; 3: 1 order of 50 on Jan 5
    orders = _orders([(0, "o1", "2020-01-01", 10.0), (1, "o2", "2020-01-01", 10.0), (1, "o3", "2020-01-02", 20.0),
                      (2, "o4", "2020-01-02", 10.0), (3, "o5", "2020-01-05", 50.0),
                      (1, "o3", "2020-01-02", 0.0)])  # a second row of order o3 counts once as an order
    # users: 0: 2 events, no purchase; 1: 2 events, a purchase of 5; 2: 3 events, a purchase of 5 on Jan 3
    events = _events([(0, "2020-01-01", "page_view", np.nan), (0, "2020-01-02", "page_view", np.nan),
                      (1, "2020-01-01", "page_view", np.nan), (1, "2020-01-01", "purchase", 5.0),
                      (2, "2020-01-01", "page_view", np.nan), (2, "2020-01-01", "add_to_cart", np.nan),
                      (2, "2020-01-03", "purchase", 5.0)])
    (c2, u2), (c5, u5) = _orders_at(orders, events, ["2020-01-02", "2020-01-05"])
    # at Jan 2, customers: frequency pct ranks 0:(1+2)/2/3=.5, 1:1, 2:.5; spend ranks 0:(1+2)/2/3, 1:1, 2:.5
    # scores: 1 -> 1, 0 and 2 tie at .5 -> by code
    assert c2.tolist() == [1, 0, 2]
    # users at Jan 2 (user 2's purchase is later): events all 2 -> pct 2/3; amounts 0:0, 1:5, 2:0 -> .5, 1, .5
    assert u2.tolist() == [1, 0, 2]
    # at Jan 5, with customer 3 (1 order of 50): frequency pct .5, 1, .5, .5; spend pct .375, .75, .375, 1
    # -> scores .4375, .875, .4375, .75
    assert c5.tolist() == [1, 3, 0, 2]
    # users: events 2, 2, 3 -> pct .5, .5, 1; amounts 0, 5, 5 -> 1/3, 2.5/3, 2.5/3 -> scores .42, .67, .92
    assert u5.tolist() == [2, 1, 0]


def test_the_order_is_the_one_map_users_ranks_by_on_many_ties():
    """Against the ranking of map_users on the engine's own summaries (pandas' groupby sums differ in the last bit)."""
    rng = np.random.default_rng(5)
    n = 3000
    orders = _orders([(int(c), f"o{i}", f"2020-01-{1 + int(d):02d}", float(v)) for i, (c, d, v) in enumerate(
        zip(rng.integers(0, 900, n), rng.integers(0, 20, n), rng.choice([5.0, 10.0, 12.5, 0.1 + 0.2], n)))])
    events = _events([(int(u), f"2020-01-{1 + int(d):02d}", t, (5.0 if t == "purchase" else np.nan)) for u, d, t in zip(
        rng.integers(0, 700, n), rng.integers(0, 20, n), rng.choice(["page_view", "purchase", "add_to_cart"], n))])
    cuts = ["2020-01-05", "2020-01-12", "2020-01-20"]
    bounds = [(end_of_day(c), end_of_day(c)) for c in cuts]
    customers = summary_at(orders, cuts, customer_col="c")
    users = user_features_at(events.assign(SessionID=1), bounds, user_col="u", activity_only=True)
    ties = 0
    for (c, u), cust, usr in zip(_orders_at(orders, events, cuts), customers, users):
        assert c.tolist() == list(_order_by_activity(cust, ["frequency", "total_spent"], "c", ids_as_text=False))
        assert u.tolist() == list(_order_by_activity(usr, ["total_events", "total_purchase_amount"], "u", ids_as_text=False))
        ties += int(activity_score(cust, ["frequency", "total_spent"], "c").duplicated().sum())
    assert ties > 500  # the order of tied scores (by code) is exercised


def test_a_missing_value_has_no_rank_and_the_score_is_the_other_rank_as_in_pandas():
    # customer 1's only order has no value: ranked by its frequency alone (pandas' mean skips NaN), not dropped
    orders = _orders([(0, "o1", "2020-01-01", 5.0), (1, "o2", "2020-01-01", np.nan), (2, "o3", "2020-01-01", 6.0),
                      (2, "o4", "2020-01-01", 1.0), (3, "o5", "2020-01-01", 7.0)])
    events = _events([(0, "2020-01-01", "page_view", np.nan)])
    [(c, _)] = _orders_at(orders, events, ["2020-01-01"])
    cust = summary_at(orders, ["2020-01-01"], customer_col="c")[0]
    assert cust["total_spent"].isna().sum() == 1
    assert c.tolist() == list(_order_by_activity(cust, ["frequency", "total_spent"], "c", ids_as_text=False))
    # frequency pct .5, .5, 1, .5; spend (5, -, 7, 7) pct 1/3, -, 2.5/3, 2.5/3 -> scores .42, .5 (frequency only), .92, .67
    assert c.tolist() == [2, 3, 1, 0]


def test_every_event_is_read_when_a_bound_has_no_end():
    orders = _orders([(0, "o1", "2020-01-01", 10.0)])
    events = _events([(0, "2024-05-01", "page_view", np.nan), (1, "2024-05-01", "page_view", np.nan),
                      (1, "2024-06-01", "page_view", np.nan)])
    [(c, u)] = _orders_at(orders, events, ["2020-01-01"], bounds=[(None, pd.Timestamp("2024-06-02"))])
    assert c.tolist() == [0] and u.tolist() == [1, 0]


def test_one_bound_per_cut_is_required():
    orders = _orders([(0, "o1", "2020-01-01", 10.0)])
    events = _events([(0, "2020-01-01", "page_view", np.nan)])
    with pytest.raises(ValueError, match=r"2 cut\(s\) but 1 bound\(s\)"):
        _orders_at(orders, events, ["2020-01-01", "2020-01-02"], bounds=[(None, pd.Timestamp("2020-01-02"))])


def test_link_codes_pair_as_map_users_does():
    customers = pd.DataFrame({"customer_unique_id": [0, 1, 2, 3, 4], "frequency": [1, 3, 2, 1, 1],
                              "total_spent": [10.0, 300.0, 50.0, 5.0, 10.0]})
    users = pd.DataFrame({"UserID": [0, 1, 2], "total_events": [10, 90, 40], "total_purchase_amount": [5.0, 900.0, 60.0]})
    c_order = np.asarray(_order_by_activity(customers, ["frequency", "total_spent"], "customer_unique_id", False))
    u_order = np.asarray(_order_by_activity(users, ["total_events", "total_purchase_amount"], "UserID", False))
    for method, seed in (("rank", 0), ("random", 1), ("random", 7)):
        c, u = link_codes(c_order, u_order, method, 5, 3, seed=seed)
        expected = map_users(customers, users, method, seed=seed, ids_as_text=False)
        assert c.tolist() == expected["customer_unique_id"].tolist() and u.tolist() == expected["UserID"].tolist()
    assert link_codes(c_order, u_order, "rank", 5, 3)[1].tolist() == [0, 1, 2]  # 1 -> most active user 1, 2 -> 2, ...


def test_link_codes_key_keeps_pairs_whose_both_people_are_present():
    key = (np.array([4, 0, 2, 3]), np.array([1, 2, 0, 5]))  # customer 3's user 5 is absent at this cut
    c, u = link_codes(np.array([2, 0, 3, 4]), np.array([0, 1, 2]), "key", 5, 6, key=key)
    assert c.tolist() == [0, 2, 4] and u.tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match="needs a key table.*share no key: use 'rank' or 'random'"):
        link_codes(np.array([0]), np.array([0]), "key", 1, 1)
    with pytest.raises(ValueError, match="must be one of"):
        link_codes(np.array([0]), np.array([0]), "fuzzy", 1, 1)
