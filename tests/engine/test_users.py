"""Per-user clickstream features through the engine: a hand-checked log, and the pandas oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine_oracle as oracle
from clvlib.data.clickstream import user_features
from clvlib.dates import end_of_day
from clvlib.engine.users import (ACTIVITY_COLUMNS, BEHAVIOUR_COLUMNS, USER_COLUMNS, event_slots, linked_features,
                                 user_features_at)
from clvlib.features.links import build_mapping, users_at_cuts
from clvlib.features.snapshots import build_click_snapshots, build_links, methods_for

T = pd.Timestamp
CUT = T("2018-02-28")


def events() -> pd.DataFrame:
    """User 1: a session on 1 Jan (view, cart, purchase), a purchase at 23:59:59 on the cut day, one at midnight after.

    User 2: one product view the day before the cut; user 3 only after the cut.
    """
    rows = [(1, 1, "2018-01-01 10:00:00", "page_view", 0.0), (1, 1, "2018-01-01 10:05:00", "add_to_cart", 0.0),
            (1, 1, "2018-01-01 10:10:00", "purchase", 30.0), (1, 2, "2018-02-28 23:59:59", "purchase", 20.0),
            (1, 3, "2018-03-01 00:00:00", "purchase", 99.0), (2, 1, "2018-02-27 12:00:00", "product_view", np.nan),
            (3, 1, "2018-03-02 08:00:00", "login", 0.0)]
    e = pd.DataFrame(rows, columns=["UserID", "SessionID", "Timestamp", "EventType", "Amount"])
    e["Timestamp"] = pd.to_datetime(e["Timestamp"])
    return e


def test_user_features_at_the_cut_are_hand_checked():
    got = user_features_at(events(), [(end_of_day(CUT), end_of_day(CUT))])[0].set_index("UserID")
    assert list(got.index) == [1, 2]  # user 3 has no event by the cut
    u1, u2 = got.loc[1], got.loc[2]
    assert (u1["total_events"], u1["sessions"], u1["page_views"], u1["add_to_cart"], u1["purchases"]) == (4, 2, 1, 1, 2)
    assert (u1["total_purchase_amount"], u1["mean_purchase_amount"]) == (50.0, 25.0)  # not the 99 after the cut
    assert (u1["conversion_rate"], u1["cart_rate"], u1["events_per_session"], u1["active_days"]) == (1.0, 0.5, 2.0, 2)
    assert (u1["first_event"], u1["last_event"]) == (T("2018-01-01 10:00:00"), T("2018-02-28 23:59:59"))
    assert u1["recency_days"] == pytest.approx(1 / 86400, rel=1e-9)
    assert (u1["sessions_last_30d"], u1["sessions_last_90d"], u1["purchases_last_90d"]) == (1, 2, 2)
    assert (u2["total_events"], u2["product_views"], u2["purchases"], u2["total_purchase_amount"]) == (1, 1, 0, 0.0)
    assert np.isnan(u2["mean_purchase_amount"]) and u2["conversion_rate"] == 0.0 and u2["recency_days"] == 1.5
    assert list(got.reset_index().columns) == ["UserID", *USER_COLUMNS]


def shop_log() -> pd.DataFrame:
    """A shop's log for the browsing columns (cut 2018-02-28: reference 2018-03-01 00:00).

    User 10: browses on 1 Jan from 10:00 (view, cart); buys on 10 Jan (view, cart, purchase at 12:00);
    browses on 20 Jan (view, view, view, cart) and on 19 Feb (a login at 00:00); starts a session at
    23:00 on the cut day whose purchase falls at midnight after the cut, and buys again on 5 Mar.
    User 11 never buys: one session on the cut day (11:00, 12:00). User 12 only buys, on 1 Feb at 00:00.
    """
    rows = [(10, 1, "2018-01-01 10:00", "page_view", None), (10, 1, "2018-01-01 10:05", "add_to_cart", None),
            (10, 2, "2018-01-10 11:50", "product_view", None), (10, 2, "2018-01-10 11:55", "add_to_cart", None),
            (10, 2, "2018-01-10 12:00", "purchase", 40.0),
            (10, 3, "2018-01-20 08:00", "page_view", None), (10, 3, "2018-01-20 08:01", "page_view", None),
            (10, 3, "2018-01-20 08:02", "product_view", None), (10, 3, "2018-01-20 08:03", "add_to_cart", None),
            (10, 4, "2018-02-19 00:00", "login", None),
            (10, 5, "2018-02-28 23:00", "page_view", None), (10, 5, "2018-03-01 00:00", "purchase", 15.0),
            (10, 6, "2018-03-05 09:00", "purchase", 25.0),
            (11, 1, "2018-02-28 11:00", "page_view", None), (11, 1, "2018-02-28 12:00", "product_view", None),
            (12, 1, "2018-02-01 00:00", "purchase", 60.0)]
    e = pd.DataFrame(rows, columns=["UserID", "SessionID", "Timestamp", "EventType", "Amount"])
    e["Timestamp"] = pd.to_datetime(e["Timestamp"])
    return e.astype({"Amount": "float64"})


def test_a_bound_inside_a_day_cuts_between_the_days_events():
    """Bounds at midnight let the query sum events per day first; a bound at noon must not (it would count 10:05)."""
    noon = T("2018-01-01 10:07:00")  # after the view and the cart, before the purchase of the same session
    got = user_features_at(events(), [(noon, noon)])[0].set_index("UserID")
    assert list(got.index) == [1]
    assert (got.loc[1, "total_events"], got.loc[1, "purchases"], got.loc[1, "add_to_cart"]) == (2, 0, 1)
    assert got.loc[1, "sessions_last_30d"] == 1 and got.loc[1, "recency_days"] == pytest.approx(2 / 1440)
    by_day = user_features_at(events(), [(end_of_day(CUT), end_of_day(CUT))])[0]
    pd.testing.assert_frame_equal(by_day, user_features_at(events(), [(end_of_day(CUT), end_of_day(CUT) + pd.Timedelta("1us"))])[0]
                                  .assign(recency_days=lambda d: d["recency_days"] - 1 / 86_400e6,
                                          browse_recency_days=lambda d: d["browse_recency_days"] - 1 / 86_400e6,
                                          days_since_last_purchase=lambda d: d["days_since_last_purchase"] - 1 / 86_400e6,
                                          exposure_days=lambda d: d["exposure_days"] - 1 / 86_400e6)
                                  [by_day.columns], check_exact=False, rtol=1e-9, atol=1e-9)


def test_browsing_is_separated_from_order_sessions_per_day_and_since_the_last_purchase():
    at_cut, early = user_features_at(shop_log(), [(end_of_day(CUT), end_of_day(CUT)),
                                                  (end_of_day("2018-01-15"), end_of_day("2018-01-15"))])
    got = at_cut.set_index("UserID")[BEHAVIOUR_COLUMNS]
    exposure = 58 + 14 / 24  # 1 Jan 10:00 to 1 Mar 00:00
    expected = pd.DataFrame({
        # session 2 holds a purchase; 1, 3, 4 and 5 (its purchase is after the cut) are browsing
        "order_sessions": [1, 0, 1],
        "browse_sessions": [4, 1, 0],
        "exposure_days": [exposure, 13 / 24, 28.0],
        # per day of exposure, at least one day (user 11 was seen for 13 hours)
        "browse_sessions_per_day": [4 / exposure, 1.0, 0.0],
        "order_sessions_per_day": [1 / exposure, 0.0, 1 / 28],
        # add_to_cart events among the events of browsing sessions: 2 of 2 + 4 + 1 + 1
        "browse_cart_share": [2 / 8, 0.0, np.nan],
        # to the last event of a browsing session (23:00 on the cut day; 12:00)
        "browse_recency_days": [1 / 24, 0.5, np.nan],
        # browsing sessions that started after the last purchase (10 Jan 12:00): 3, 4, 5; all when none
        "browse_since_last_purchase": [2 + 1, 1, 0],
        "days_since_last_purchase": [49.5, np.nan, 28.0],
    }, index=pd.Index([10, 11, 12], name="UserID"))
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    # on 15 Jan only sessions 1 (browsing) and 2 (the order) have happened
    u10 = early.set_index("UserID").loc[10, BEHAVIOUR_COLUMNS]
    assert list(early["UserID"]) == [10]
    assert (u10["order_sessions"], u10["browse_sessions"], u10["browse_since_last_purchase"]) == (1, 1, 0)
    assert (u10["exposure_days"], u10["days_since_last_purchase"]) == (pytest.approx(14 + 14 / 24), 5.5)
    assert (u10["browse_cart_share"], u10["browse_recency_days"]) == (0.5, pytest.approx(14 + 14 / 24 - 5 / 1440))


def test_the_browsing_columns_equal_the_pandas_oracle_on_a_shop_log():
    got = user_features_at(shop_log(), [(end_of_day(CUT), end_of_day(CUT)), (None, end_of_day("2018-03-05"))])
    ev = shop_log()
    expected = [oracle.user_features(ev[ev["Timestamp"] < end_of_day(CUT)], CUT), oracle.user_features(ev)]
    for g, e in zip(got, expected):
        pd.testing.assert_frame_equal(g, e)


def test_several_bounds_in_one_query_equal_the_pandas_oracle_at_each():
    bounds = [(end_of_day(CUT), end_of_day(CUT)), (None, end_of_day("2018-03-02")),
              (end_of_day("2018-01-01"), end_of_day("2018-01-05"))]
    got = user_features_at(events(), bounds)
    ev = events()
    expected = [oracle.user_features(ev[ev["Timestamp"] < end_of_day(CUT)], CUT), oracle.user_features(ev),
                oracle.user_features(ev[ev["Timestamp"] < end_of_day("2018-01-01")], "2018-01-05")]
    for g, e in zip(got, expected):
        pd.testing.assert_frame_equal(g, e)


def test_slots_made_once_give_every_bounds_features_exactly_as_the_single_query():
    days = [(end_of_day(CUT), end_of_day(CUT)), (None, end_of_day("2018-03-02"))]
    slots = event_slots(shop_log(), days)
    assert slots.grain == 86_400_000_000 and slots.table.num_rows < len(shop_log())  # summed per user, session, day
    for got, expected in zip(user_features_at(None, days, slots=slots), user_features_at(shop_log(), days)):
        pd.testing.assert_frame_equal(got, expected)
    noon = [(pd.Timestamp(CUT) + pd.Timedelta("12h"), pd.Timestamp(CUT) + pd.Timedelta("12h"))]
    fine = event_slots(events(), noon)  # a bound inside a day: one-microsecond slots
    assert fine.grain == 1
    pd.testing.assert_frame_equal(user_features_at(None, noon, slots=fine)[0], user_features_at(events(), noon)[0])
    with pytest.raises(ValueError, match=r"the slots are 86400000000 us long, but a bound is not a multiple of them"):
        user_features_at(None, noon, slots=slots)
    with pytest.raises(ValueError, match="activity_only reads the events themselves; call without slots"):
        user_features_at(None, days, slots=slots, activity_only=True)
    with pytest.raises(ValueError, match=r"user_features_at: give the events, or their slots \(event_slots\)"):
        user_features_at(None, days)


def test_linked_features_are_the_users_features_joined_in_the_engine_in_the_links_order():
    days = [(end_of_day(CUT), end_of_day(CUT)), (None, end_of_day("2018-03-02"))]
    table = user_features_at(events(), days, arrow=True)
    assert table.column("bound").to_pylist() == [0, 0, 1, 1, 1] and table.column("uid").to_pylist() == [1, 2, 1, 2, 3]
    users = user_features_at(events(), days)
    links = pd.DataFrame({"customer_unique_id": ["z", "b", "a"], "UserID": [2, 3, 1]})
    for bound, kept in ((0, ["z", "a"]), (1, ["z", "b", "a"])):  # user 3 has no event before the cut
        got = linked_features(table, bound, links)
        expected = links.merge(users[bound], on="UserID").drop(columns=["UserID", "first_event", "last_event"])
        assert got["customer_unique_id"].tolist() == kept
        pd.testing.assert_frame_equal(got, expected)
    slots = event_slots(events(), days)
    assert user_features_at(None, days, slots=slots, arrow=True).equals(table)
    with pytest.raises(ValueError, match=r"links: column 'UserID' holds (large_)?string ids, the events' user ids are int64"):
        linked_features(table, 0, links.assign(UserID=["2", "003", "1"]))  # "003" would otherwise match user 3
    with pytest.raises(ValueError, match=r"links: missing column\(s\) \['UserID'\]"):
        linked_features(table, 0, links.drop(columns="UserID"))
    with pytest.raises(ValueError, match=r"user_features_at: give the events, or their slots"):
        user_features_at(None, days, arrow=True)


def test_user_features_keeps_its_errors():
    with pytest.raises(ValueError, match=r"clickstream events: missing column\(s\) \['Amount'\]"):
        user_features(events().drop(columns="Amount"))
    with pytest.raises(ValueError, match="no events left to summarise"):
        user_features(events().iloc[:0])


def test_click_features_equal_the_pandas_oracle_on_a_small_demo(small_demo):
    orders, events_, cuts = small_demo
    until = orders[orders["order_purchase_timestamp"] < end_of_day(max(cuts))]
    users, overlap = users_at_cuts(until, events_, cuts)
    assert overlap  # the demo's clickstream spans the orders' period: events are cut at each cut
    for cut, got in zip(cuts, users):
        pd.testing.assert_frame_equal(got, oracle.click_users_at(until, events_, cut), check_exact=False, rtol=1e-9,
                                      atol=1e-9)
    pd.testing.assert_frame_equal(user_features(events_), oracle.user_features(events_), check_exact=False,
                                  rtol=1e-9, atol=1e-9)
    activity, _ = users_at_cuts(until, events_, cuts, activity_only=True)
    for got, full in zip(activity, users):  # the cheap query gives the full one's activity columns, row for row
        assert list(got.columns) == ["UserID", *ACTIVITY_COLUMNS]
        pd.testing.assert_frame_equal(got, full[got.columns])
    links, _ = build_links(orders, events_, cuts, methods_for(["rank", "random"], has_key=False))
    pd.testing.assert_frame_equal(links, oracle.build_links(orders, events_, cuts, ["rank", "random"]))
    people, users_ = orders["customer_unique_id"].drop_duplicates().to_list(), events_["UserID"].drop_duplicates().to_list()
    key = pd.DataFrame({"customer_unique_id": people[:40] + ["never-bought"], "UserID": users_[-40:] + [users_[0]]})
    keyed, _ = build_links(orders, events_, cuts, methods_for(["random"], has_key=True), key=key)
    pd.testing.assert_frame_equal(keyed, oracle.build_links(orders, events_, cuts, ["random", "key"], key=key))
    assert (keyed["method"] == "key").sum() > 0 and "never-bought" not in set(keyed["customer_unique_id"])
    clicks = build_click_snapshots(orders, events_, links, cuts)
    first = clicks[(clicks["cut"] == cuts[0]) & (clicks["method"] == "rank")].drop(columns=["cut", "method"])
    mapping, _, _, _ = build_mapping(until, events_, "rank", cuts[0])
    expected = mapping[["customer_unique_id", "UserID"]].merge(
        oracle.click_users_at(until, events_, cuts[0]).drop(columns=["first_event", "last_event"])
        .rename(columns=lambda c: c if c == "UserID" else f"click_{c}"), on="UserID").drop(columns="UserID")
    pd.testing.assert_frame_equal(first.reset_index(drop=True), expected, check_exact=False, rtol=1e-9, atol=1e-9)
