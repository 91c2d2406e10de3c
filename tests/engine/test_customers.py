"""Per-customer features and labels through the engine: hand-checked small tables, and the pandas oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine_oracle as oracle
from clvlib.engine.customers import customer_features, customer_features_sql, window_spend
from clvlib.features.snapshots import build_snapshots
from clvlib.features.temporal import holdout_labels, population_features

T = pd.Timestamp
NaT = pd.NaT
CUT = T("2018-02-28")


def orders() -> pd.DataFrame:
    """A buys twice on 1 Jan, at 23:59:59 on the cut day and at midnight after it; B twice at the same second.

    A's cut-day order is delivered and reviewed after the cut; C's first order is at midnight after the cut.
    """
    rows = [
        # customer, order, purchased, value, delivered, estimated, score, review created, inst., items, freight, payment, category, state
        ("A", "o1", "2018-01-01 10:00:00", 100.0, "2018-01-10 12:00:00", "2018-01-15", 5.0, "2018-01-11", 1.0, 1, 10.0, "boleto", "toys", "SP"),
        ("A", "o2", "2018-01-01 18:00:00", 20.0, None, "2018-01-20", np.nan, None, 3.0, 2, 5.0, "credit_card", None, "SP"),
        ("A", "o3", "2018-02-28 23:59:59", 30.0, "2018-03-02", "2018-03-05", 1.0, "2018-03-03", 10.0, 1, 3.0, "voucher", "books", "RJ"),
        ("A", "o4", "2018-03-01 00:00:00", 999.0, "2018-03-04", "2018-03-09", 2.0, "2018-03-05", 24.0, 5, 50.0, "debit_card", "cars", "AM"),
        ("B", "o5", "2018-02-10 09:00:00", 50.0, "2018-02-20", "2018-02-15", 4.0, "2018-02-21", np.nan, 1, np.nan, "credit_card", "toys", "MG"),
        ("B", "o6", "2018-02-10 09:00:00", 10.0, None, "2018-02-25", np.nan, None, 2.0, 1, 2.0, "boleto", "garden", "MG"),
        ("C", "o7", "2018-03-01 00:00:00", 40.0, None, "2018-03-10", np.nan, None, 1.0, 1, 4.0, "boleto", "toys", "SP"),
    ]
    cols = ["customer_unique_id", "order_id", "order_purchase_timestamp", "order_value", "order_delivered_customer_date",
            "order_estimated_delivery_date", "review_score", "review_creation_date", "payment_installments", "n_items",
            "freight_value", "payment_type", "product_category", "customer_state"]
    o = pd.DataFrame(rows, columns=cols)
    for c in ("order_purchase_timestamp", "order_delivered_customer_date", "order_estimated_delivery_date",
              "review_creation_date"):
        o[c] = pd.to_datetime(o[c], format="ISO8601")
    o["customer_unique_id"] = o["customer_unique_id"].astype("string")
    return o


def test_features_at_the_cut_are_hand_checked():
    f = population_features(orders(), CUT).set_index("customer_unique_id")
    assert list(f.index) == ["A", "B"]  # C first bought at midnight after the cut day
    a, b = f.loc["A"], f.loc["B"]
    # A bought on 1 Jan (two orders, one purchase day worth 120) and at 23:59:59 on the cut day (30)
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"]) == (1, 58.0, 58.0, 30.0)
    assert (a["n_orders"], a["calibration_spend"]) == (3, 150.0)
    assert a["days_since_last"] == pytest.approx(1 / 86400, rel=1e-9)  # one second before the cut day ends
    assert a["review_score_mean"] == 5.0 and a["has_review"] == 1  # the 1-star review was written after the cut
    assert a["delivery_delay_days"] == -4.5 and a["late_share"] == 0.0  # o3 was delivered after the cut
    assert a["installments_max"] == 10.0  # o3's terms are known at purchase; o4 is after the cut
    assert a["n_items_mean"] == pytest.approx(4 / 3) and a["freight_share"] == pytest.approx(18 / 150)
    assert (a["payment_type"], a["product_category"], a["customer_state"]) == ("voucher", "books", "RJ")
    # B: one purchase day, two orders at the same second; the later row is the last order
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 18.0, 0.0)
    assert b["days_since_last"] == 18.625  # 10 Feb 09:00 to the end of 28 Feb
    assert b["review_score_mean"] == 4.0 and b["delivery_delay_days"] == 5.0 and b["late_share"] == 1.0
    assert b["installments_max"] == 2.0 and b["freight_share"] == pytest.approx(2 / 60)  # missing values skipped
    assert (b["payment_type"], b["product_category"], b["customer_state"]) == ("boleto", "garden", "MG")


def test_an_order_on_the_cut_day_counts_whatever_its_time_and_nothing_later_does():
    f = population_features(orders(), "2018-01-01").set_index("customer_unique_id")
    a = f.loc["A"]
    assert list(f.index) == ["A"]
    assert (a["frequency"], a["T"], a["n_orders"], a["calibration_spend"]) == (0, 0.0, 2, 120.0)
    assert a["days_since_last"] == 0.25  # 18:00 on the cut day
    assert np.isnan(a["review_score_mean"]) and a["has_review"] == 0  # the review came on 11 Jan
    assert np.isnan(a["delivery_delay_days"]) and np.isnan(a["late_share"])  # delivered on 10 Jan
    assert (a["payment_type"], a["product_category"]) == ("credit_card", "unknown")  # missing category


def test_rows_after_the_cut_change_no_feature():
    base = population_features(orders(), CUT)
    o = orders()
    after = o["order_purchase_timestamp"] >= T("2018-03-01")
    o.loc[after, ["order_value", "payment_type", "customer_unique_id"]] = [5e6, "scrambled", "A"]
    o.loc[o["order_id"] == "o3", ["review_score", "review_creation_date"]] = [5.0, T("2018-03-01 00:00:00")]
    o.loc[o["order_id"] == "o3", "order_delivered_customer_date"] = T("2018-03-01")
    pd.testing.assert_frame_equal(population_features(o, CUT), base)


def test_columns_follow_the_inputs_present():
    o = orders().drop(columns=["review_score", "order_estimated_delivery_date", "freight_value", "product_category"])
    f = population_features(o, CUT)
    assert list(f.columns) == ["customer_unique_id", "frequency", "recency", "T", "monetary_value", "n_orders",
                               "calibration_spend", "days_since_last", "installments_max", "n_items_mean",
                               "payment_type", "customer_state"]
    _, names = customer_features_sql(["order_id", "ts", "value"])
    assert names == ["frequency", "recency", "T", "monetary_value", "n_orders", "calibration_spend", "days_since_last"]


def test_every_cut_in_one_query_equals_each_cut_alone():
    cuts = [CUT, T("2018-01-01")]
    per_cut = customer_features(orders(), cuts)
    for cut, got in zip(cuts, per_cut):
        pd.testing.assert_frame_equal(got, population_features(orders(), cut))
    snaps = build_snapshots(orders(), cuts)
    assert list(snaps["cut"]) == [CUT, CUT, T("2018-01-01")] and snaps["cut"].dtype == "datetime64[us]"


def test_hand_checked_features_equal_the_pandas_oracle():
    cuts = [CUT, T("2018-01-01"), T("2018-02-10")]
    pd.testing.assert_frame_equal(build_snapshots(orders(), cuts), oracle.build_snapshots(orders(), cuts))


def test_holdout_labels_count_from_midnight_after_the_cut_to_the_end_of_the_last_day():
    lab = holdout_labels(orders(), CUT, "2018-08-31", pd.Series(["B", "A", "Z"])).set_index("customer_unique_id")
    assert list(lab.index) == ["B", "A", "Z"]  # in the order given, unknown people with 0
    assert lab.loc["A", "holdout_spend"] == 999.0 and lab.loc["A", "holdout_orders"] == 1  # o4 at 00:00:00
    assert lab.loc["B", "holdout_spend"] == 0.0 and lab.loc["Z", "holdout_orders"] == 0
    assert window_spend(orders(), "2018-02-27", CUT).loc["A", "holdout_spend"] == 30.0  # 23:59:59 on the last day
    pd.testing.assert_frame_equal(lab.reset_index(), oracle.holdout_labels(orders(), CUT, "2018-08-31",
                                                                           pd.Series(["B", "A", "Z"])))


@pytest.mark.parametrize(("change", "message"), [
    (lambda o: o.drop(columns="order_value"), r"orders: missing column\(s\) \['order_value'\]"),
    (lambda o: o.assign(order_value=-1.0), r"'order_value' must be finite, non-missing and >= 0; 5 row"),
    (lambda o: o.assign(customer_unique_id=None), r"'customer_unique_id' is empty in 5 row"),
    (lambda o: o.assign(order_purchase_timestamp="2018-01-01"), r"'order_purchase_timestamp' must hold timestamps"),
], ids=["missing-column", "negative-value", "no-customer", "unparsed-dates"])  # 5 rows are dated by the cut
def test_bad_orders_are_refused_with_the_column_named(change, message):
    with pytest.raises(ValueError, match=message):
        population_features(change(orders()), CUT)


def test_a_cut_without_orders_is_refused():
    with pytest.raises(ValueError, match="No orders on or before the cut-off 2017-12-31"):
        build_snapshots(orders(), [CUT, T("2017-12-31")])


def test_snapshots_and_labels_equal_the_pandas_oracle_on_a_small_demo(small_demo):
    orders_, _, cuts = small_demo
    snaps = build_snapshots(orders_, cuts)
    pd.testing.assert_frame_equal(snaps, oracle.build_snapshots(orders_, cuts), check_exact=False, rtol=1e-9, atol=1e-9)
    people = snaps.loc[snaps["cut"] == cuts[0], "customer_unique_id"]
    pd.testing.assert_frame_equal(holdout_labels(orders_, cuts[0], "2018-08-31", people),
                                  oracle.holdout_labels(orders_, cuts[0], "2018-08-31", people),
                                  check_exact=False, rtol=1e-9, atol=1e-9)
