"""Temporal split: windows, features that see only the past, labels from the window after the cut."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.engine.users import BEHAVIOUR_COLUMNS, USER_COLUMNS
from clvlib.features.temporal import CLICK_FEATURES, feature_columns, holdout_labels, population_features, window

T = pd.Timestamp


def orders() -> pd.DataFrame:
    """A: two orders before the cut (one delivered after it, reviewed after it), one after; B: one before; C: after only."""
    return pd.DataFrame({
        "customer_unique_id": ["A", "A", "A", "B", "C"],
        "order_id": ["1", "2", "3", "4", "5"],
        "order_purchase_timestamp": [T("2018-01-01"), T("2018-02-20"), T("2018-04-01"), T("2018-02-01"), T("2018-03-10")],
        "order_value": [100.0, 50.0, 70.0, 20.0, 10.0],
        "order_delivered_customer_date": [T("2018-01-10"), T("2018-03-05"), T("2018-04-05"), T("2018-02-05"), pd.NaT],
        "order_estimated_delivery_date": [T("2018-01-15"), T("2018-03-01"), T("2018-04-10"), T("2018-02-03"), T("2018-03-20")],
        "review_score": [5.0, 1.0, 3.0, 4.0, np.nan],
        "review_creation_date": [T("2018-01-11"), T("2018-03-06"), T("2018-04-06"), T("2018-02-06"), pd.NaT],
        "payment_installments": [1.0, 10.0, 2.0, 3.0, 1.0],
        "payment_type": ["boleto", "credit_card", "boleto", "voucher", "boleto"],
        "customer_state": ["SP", "SP", "SP", "RJ", "MG"],
    })


def test_window_keeps_month_ends():
    w = window("2018-02-28", 6, n_train_windows=2, stride_months=1)
    assert w["holdout_end"] == T("2018-08-31")
    assert w["train_cuts"] == [T("2017-08-31"), T("2017-07-31")]
    assert w["label_ends"] == [T("2018-02-28"), T("2018-01-31")]
    assert w["window_months"] == [6, 6]


def test_recent_windows_come_first_labelled_up_to_the_cut():
    w = window("2018-02-28", 6, n_train_windows=2, stride_months=1, recent_windows=True)
    assert w["train_cuts"] == [T("2018-01-31"), T("2017-12-31"), T("2017-11-30"), T("2017-10-31"), T("2017-09-30"),
                               T("2017-08-31"), T("2017-07-31")]
    assert w["label_ends"] == [T("2018-02-28")] * 6 + [T("2018-01-31")]
    assert w["window_months"] == [1, 2, 3, 4, 5, 6, 6]
    assert window("2018-02-28", 6, 1, 4, recent_windows=True)["window_months"] == [4, 6]  # every stride, short of 6
    assert window("2018-02-28", 6, recent_windows=True)["train_cuts"] == [T("2017-08-31")]  # stride = horizon: none


def test_features_are_hand_checked_and_see_only_the_past():
    f = population_features(orders(), "2018-02-28").set_index("customer_unique_id")
    assert list(f.index) == ["A", "B"]  # C's first purchase is after the cut
    a = f.loc["A"]
    assert a["frequency"] == 1 and a["n_orders"] == 2
    assert a["recency"] == 50 and a["T"] == 58  # first 01-01, last 02-20, cut 02-28 (days)
    assert a["monetary_value"] == 50.0  # mean of repeat purchases only
    assert a["calibration_spend"] == 150.0
    assert a["review_score_mean"] == 5.0  # the 1-star review was written after the cut
    assert a["delivery_delay_days"] == -5.0  # order 2 was delivered after the cut: not yet known
    assert a["installments_max"] == 10.0  # payment terms are known at purchase
    assert f.loc["B", "delivery_delay_days"] == 2.0 and f.loc["B", "late_share"] == 1.0
    assert f.loc["B", "payment_type"] == "voucher"


def test_changing_rows_after_the_cut_changes_no_feature():
    base = population_features(orders(), "2018-02-28")
    o = orders()
    after = o["order_purchase_timestamp"] > T("2018-02-28")
    o.loc[after, "order_value"] *= 100
    o.loc[after, "payment_type"] = "debit_card"
    o.loc[1, ["review_score", "order_delivered_customer_date"]] = [5.0, T("2018-03-30")]  # dated after the cut
    extra = o.iloc[[0]].assign(order_id="9", order_purchase_timestamp=T("2018-06-01"), customer_unique_id="D")
    o = pd.concat([o, extra], ignore_index=True)
    pd.testing.assert_frame_equal(population_features(o, "2018-02-28"), base)


def test_holdout_labels_sum_the_window_after_the_cut():
    lab = holdout_labels(orders(), "2018-02-28", "2018-08-31", pd.Series(["A", "B"])).set_index("customer_unique_id")
    assert lab.loc["A", "holdout_spend"] == 70.0 and lab.loc["A", "holdout_orders"] == 1
    assert lab.loc["B", "holdout_spend"] == 0.0 and lab.loc["B", "holdout_orders"] == 0


def test_feature_sets_nest():
    f = population_features(orders(), "2018-02-28")
    rfm, olist = feature_columns(f, "rfm"), feature_columns(f, "rfm+details")
    assert set(rfm) < set(olist)
    assert "review_score_mean" in olist and "review_score_mean" not in rfm


def _with_clicks(columns: list[str]) -> pd.DataFrame:
    f = population_features(orders(), "2018-02-28")
    return f.assign(**{f"click_{c}": 1.0 for c in columns}, has_click=1)


def test_the_click_set_uses_the_browsing_columns_not_the_mixed_counts():
    f = _with_clicks([c for c in USER_COLUMNS if c not in ("first_event", "last_event")])
    cols = feature_columns(f, "rfm+details+click")
    assert cols == feature_columns(f, "rfm+details") + CLICK_FEATURES
    assert {f"click_{c}" for c in BEHAVIOUR_COLUMNS} < set(cols)
    assert "click_total_events" not in cols and "click_sessions" not in cols and "click_conversion_rate" not in cols
    assert all(c == "has_click" or c.removeprefix("click_") in USER_COLUMNS for c in CLICK_FEATURES)


def test_click_snapshots_without_the_browsing_columns_are_refused():
    old = _with_clicks(["total_events", "sessions", "purchases", "mean_purchase_amount"])
    with pytest.raises(ValueError, match=r"click features: missing column\(s\) \['click_browse_sessions'.*rerun stage 04"):
        feature_columns(old, "rfm+details+click")
    assert feature_columns(old, "rfm+details") == feature_columns(population_features(orders(), "2018-02-28"), "rfm+details")


def test_errors_are_clear():
    with pytest.raises(ValueError, match="horizon_months must be >= 1"):
        window("2018-02-28", 0)
    with pytest.raises(ValueError, match=r"No orders on or before the cut-off 2017-01-01"):
        population_features(orders(), "2017-01-01")
    with pytest.raises(ValueError, match="feature set must be one of"):
        feature_columns(population_features(orders(), "2018-02-28"), "everything")
