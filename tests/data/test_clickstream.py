"""Clickstream per-user features on a hand-built event log."""

from __future__ import annotations

import pandas as pd
import pytest

from clvlib.data.clickstream import clean_events, period_overlaps, read_clickstream, user_features

T = pd.Timestamp


def events() -> pd.DataFrame:
    rows = [
        # user 1, session 1: view, cart, purchase 100 ; session 2: view only (next day)
        (1, 1, "2024-01-01 10:00", "page_view", None),
        (1, 1, "2024-01-01 10:05", "add_to_cart", None),
        (1, 1, "2024-01-01 10:06", "purchase", 100.0),
        (1, 2, "2024-01-02 09:00", "product_view", None),
        # user 2, session 1 (ids restart per user): login, click, purchase 30 and 50
        (2, 1, "2024-01-03 08:00", "login", None),
        (2, 1, "2024-01-03 08:01", "click", None),
        (2, 1, "2024-01-03 08:02", "purchase", 30.0),
        (2, 1, "2024-01-03 08:03", "purchase", 50.0),
    ]
    df = pd.DataFrame(rows, columns=["UserID", "SessionID", "Timestamp", "EventType", "Amount"])
    df["Timestamp"] = pd.to_datetime(df["Timestamp"])
    return df


def test_user_features_hand_checked():
    u = user_features(events(), reference_date="2024-01-09").set_index("UserID")
    assert u.loc[1, "total_events"] == 4 and u.loc[1, "sessions"] == 2
    assert u.loc[1, "purchases"] == 1 and u.loc[1, "add_to_cart"] == 1 and u.loc[1, "page_views"] == 1
    assert u.loc[1, "conversion_rate"] == 0.5  # 1 of 2 sessions had a purchase
    assert u.loc[1, "cart_rate"] == 0.5
    assert u.loc[1, "events_per_session"] == 2.0
    assert u.loc[1, "active_days"] == 2
    assert u.loc[1, "recency_days"] == pytest.approx(8 - 9 / 24)  # end of 01-09 minus 01-02 09:00
    assert u.loc[2, "sessions"] == 1 and u.loc[2, "purchases"] == 2
    assert u.loc[2, "conversion_rate"] == 1.0  # two purchases in one session still count one session
    assert u.loc[2, "total_purchase_amount"] == 80.0 and u.loc[2, "mean_purchase_amount"] == 40.0
    assert u.loc[2, "logins"] == 1 and u.loc[2, "clicks"] == 1


def test_conversion_rate_stays_in_unit_interval():
    u = user_features(events())
    assert u["conversion_rate"].between(0, 1).all()


def test_user_without_purchase_has_missing_mean_amount_not_zero():
    ev = events()
    ev = ev[~((ev["UserID"] == 1) & (ev["EventType"] == "purchase"))]
    u = user_features(ev).set_index("UserID")
    assert u.loc[1, "total_purchase_amount"] == 0.0
    assert pd.isna(u.loc[1, "mean_purchase_amount"])


def test_clean_events_logs_every_drop():
    ev = pd.concat([events(), events().iloc[[0]]], ignore_index=True)
    ev.loc[len(ev)] = [3, 1, T("2024-01-05"), "teleport", None]
    ev.loc[len(ev)] = [3, 1, T("2024-01-05"), "purchase", None]
    out, log = clean_events(ev, end="2024-01-02")
    removed = log.to_frame().set_index("step")["removed"]
    assert removed["exact duplicate events"] == 1
    assert removed["unknown event types"] == 1
    assert removed["purchases without a positive amount"] == 1
    assert removed["events after the cut-off"] == 4  # user 2's four events on 01-03
    assert len(out) == 4


def test_period_overlap():
    ev = events()
    assert period_overlaps(ev, T("2023-12-01"), T("2024-01-01 12:00"))
    assert not period_overlaps(ev, T("2016-09-01"), T("2018-08-31"))


def test_missing_column_is_named():
    with pytest.raises(ValueError, match=r"clickstream events: missing column\(s\) \['Amount'\]"):
        user_features(events().drop(columns="Amount"))


def test_read_clickstream_rejects_bad_timestamp(tmp_path):
    p = tmp_path / "ecommerce_clickstream_transactions.csv"
    p.write_text("UserID,SessionID,Timestamp,EventType,ProductID,Amount,Outcome\n1,1,yesterday,page_view,,,\n")
    with pytest.raises(ValueError, match=r"ecommerce_clickstream_transactions.csv: column 'Timestamp' has 1 value"):
        read_clickstream(p)


def test_read_clickstream_rejects_renamed_column(tmp_path):
    p = tmp_path / "ecommerce_clickstream_transactions.csv"
    p.write_text("User,SessionID,Timestamp,EventType,ProductID,Amount,Outcome\n1,1,2024-01-01,page_view,,,\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['UserID'\]"):
        read_clickstream(p)
