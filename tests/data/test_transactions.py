"""Olist cleaning: hand-built tables with hand-checked results, and every promised error."""

from __future__ import annotations

import pandas as pd
import pytest

from clvlib.data.transactions import build_orders, customer_summary, dedupe_key, default_analysis_date, order_values, read_olist, value_agreement

T = pd.Timestamp


def tables() -> dict[str, pd.DataFrame]:
    """Two people: A ordered twice (o1, o2), B once (o3), B's o4 was canceled, A's o5 is after the analysis date."""
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5", "o6"],
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "order_status": ["delivered", "delivered", "delivered", "canceled", "delivered", "delivered"],
        "order_purchase_timestamp": [T("2018-01-01 10:00"), T("2018-01-11 10:00"), T("2018-01-21 12:00"),
                                     T("2018-01-22"), T("2018-02-05"), T("2018-01-25")],
        "order_approved_at": pd.NaT, "order_delivered_carrier_date": pd.NaT,
        "order_delivered_customer_date": pd.NaT, "order_estimated_delivery_date": pd.NaT,
    })
    customers = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "customer_unique_id": ["A", "A", "B", "B", "A", "C"],
        "customer_zip_code_prefix": ["01000"] * 6, "customer_city": ["x"] * 6, "customer_state": ["SP"] * 6,
    })
    payments = pd.DataFrame({
        "order_id": ["o1", "o1", "o2", "o3", "o4", "o5"],  # o6 has no payment
        "payment_sequential": [1, 2, 1, 1, 1, 1],
        "payment_type": ["credit_card", "voucher", "boleto", "credit_card", "boleto", "boleto"],
        "payment_installments": [3, 1, 1, 2, 1, 1],
        "payment_value": [80.0, 20.0, 50.0, 30.0, 10.0, 70.0],
    })
    items = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o5"], "order_item_id": [1, 1, 1, 1], "product_id": ["p"] * 4,
        "seller_id": ["s"] * 4, "price": [90.0, 45.0, 30.0, 60.0], "freight_value": [10.0, 5.0, 0.0, 10.0],
    })
    return {"orders": orders, "customers": customers, "payments": payments, "order_items": items}


def test_order_value_is_the_sum_of_payments_with_the_main_payment_type():
    v = order_values(tables()["payments"]).set_index("order_id")
    assert v.loc["o1", "order_value"] == 100.0
    assert v.loc["o1", "n_payments"] == 2
    assert v.loc["o1", "payment_type"] == "credit_card"  # the larger of the two payments
    assert v.loc["o1", "payment_installments"] == 3


def test_build_orders_keeps_delivered_orders_to_the_analysis_date_and_logs_each_drop():
    orders, log, date = build_orders(tables(), statuses=["delivered"], analysis_date="2018-01-31")
    assert date == T("2018-01-31")
    assert orders["order_id"].tolist() == ["o1", "o2", "o3"]
    steps = log.to_frame().set_index("step")["removed"]
    assert steps["order status filter"] == 1  # o4 canceled
    assert steps["orders after the analysis date"] == 1  # o5
    assert steps["orders without a payments record"] == 1  # o6
    assert orders.set_index("order_id").loc["o1", "customer_unique_id"] == "A"


def test_customer_summary_counts_people_not_order_ids():
    orders, _, date = build_orders(tables(), analysis_date="2018-01-31")
    s = customer_summary(orders, date).set_index("customer_unique_id")
    assert s.loc["A", "frequency"] == 2
    assert s.loc["A", "total_spent"] == 150.0
    assert s.loc["A", "avg_order_value"] == 75.0
    # end of 2018-01-31 is 2018-02-01 00:00; A's last order 2018-01-11 10:00 -> 20 days 14 h
    assert s.loc["A", "recency_days"] == pytest.approx(20 + 14 / 24)
    assert s.loc["A", "tenure_days"] == pytest.approx(30 + 14 / 24)
    assert s.loc["A", "active_span_days"] == pytest.approx(10)
    assert s.loc["B", "frequency"] == 1


def test_items_value_source_uses_price_plus_freight():
    orders, _, _ = build_orders(tables(), analysis_date="2018-01-31", value_source="items")
    assert orders.set_index("order_id")["order_value"].to_dict() == {"o1": 100.0, "o2": 50.0, "o3": 30.0}


def test_value_agreement_compares_payments_with_items():
    a = value_agreement(tables())
    assert a["orders_compared"] == 4
    assert a["payments_total"] == 250.0 and a["items_total"] == 250.0
    assert a["ratio"] == 1.0


def test_default_analysis_date_skips_truncated_months():
    ts = pd.Series(pd.to_datetime(
        ["2018-05-15"] * 100 + ["2018-06-15"] * 100 + ["2018-07-15"] * 100 + ["2018-08-15"] * 90
        + ["2018-09-03"] * 3 + ["2018-10-01"]))
    assert default_analysis_date(ts) == T("2018-08-31")


def test_all_statuses_kept_when_filter_is_none():
    orders, _, _ = build_orders(tables(), statuses=None, analysis_date="2018-01-31")
    assert "o4" in set(orders["order_id"])


def test_unknown_status_is_an_error():
    with pytest.raises(ValueError, match=r"order status filter \['delivred'\] matches no order"):
        build_orders(tables(), statuses=["delivred"])


def test_conflicting_duplicate_order_ids_are_refused():
    t = tables()
    dup = t["orders"].iloc[[0]].assign(order_status="canceled")
    t["orders"] = pd.concat([t["orders"], dup])
    with pytest.raises(ValueError, match=r"olist_orders_dataset.csv: column 'order_id' should be unique but 1 value"):
        build_orders(t)


def test_exact_duplicate_rows_are_dropped_and_logged():
    t = tables()
    t["orders"] = pd.concat([t["orders"], t["orders"].iloc[[0]]])
    _, log, _ = build_orders(t, analysis_date="2018-01-31")
    assert log.to_frame().set_index("step").loc["exact duplicate rows in olist_orders_dataset.csv", "removed"] == 1


def test_dedupe_key_without_log_passes_unique_tables_through():
    df = pd.DataFrame({"k": [1, 2], "v": [3, 4]})
    assert dedupe_key(df, "k", "t.csv").equals(df)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


ORDERS_HEADER = ("order_id,customer_id,order_status,order_purchase_timestamp,order_approved_at,"
                 "order_delivered_carrier_date,order_delivered_customer_date,order_estimated_delivery_date\n")


def _files(tmp_path, orders_text=None, payments_text=None):
    return {
        "orders": _write(tmp_path, "olist_orders_dataset.csv",
                         orders_text or ORDERS_HEADER + "o1,c1,delivered,2018-01-01 10:00:00,,,,\n"),
        "customers": _write(tmp_path, "olist_customers_dataset.csv",
                            "customer_id,customer_unique_id,customer_zip_code_prefix,customer_city,customer_state\n"
                            "c1,A,01000,x,SP\n"),
        "payments": _write(tmp_path, "olist_order_payments_dataset.csv",
                           payments_text or "order_id,payment_sequential,payment_type,payment_installments,payment_value\n"
                           "o1,1,boleto,1,10.5\n"),
    }


def test_read_olist_reads_valid_files(tmp_path):
    t = read_olist(_files(tmp_path))
    assert t["orders"]["order_purchase_timestamp"].iloc[0] == T("2018-01-01 10:00")
    assert t["payments"]["payment_value"].iloc[0] == 10.5


def test_missing_column_names_file_and_column(tmp_path):
    bad = ORDERS_HEADER.replace("order_status", "status") + "o1,c1,delivered,2018-01-01,,,,\n"
    with pytest.raises(ValueError, match=r"olist_orders_dataset.csv: missing column\(s\) \['order_status'\]"):
        read_olist(_files(tmp_path, orders_text=bad))


def test_unparsable_timestamp_names_file_column_and_count(tmp_path):
    bad = ORDERS_HEADER + "o1,c1,delivered,not a date,,,,\no2,c1,delivered,2018-13-45,,,,\n"
    with pytest.raises(ValueError, match=r"olist_orders_dataset.csv: column 'order_purchase_timestamp' has 2 value"):
        read_olist(_files(tmp_path, orders_text=bad))


def test_negative_amount_is_refused(tmp_path):
    bad = "order_id,payment_sequential,payment_type,payment_installments,payment_value\no1,1,boleto,1,-3\n"
    with pytest.raises(ValueError, match=r"olist_order_payments_dataset.csv: column 'payment_value' has 1 negative"):
        read_olist(_files(tmp_path, payments_text=bad))


def test_non_numeric_amount_is_refused(tmp_path):
    bad = "order_id,payment_sequential,payment_type,payment_installments,payment_value\no1,1,boleto,1,ten\n"
    with pytest.raises(ValueError, match=r"column 'payment_value' has 1 non-numeric value\(s\) \(e.g. \['ten'\]\)"):
        read_olist(_files(tmp_path, payments_text=bad))


def test_empty_file_is_refused(tmp_path):
    files = _files(tmp_path)
    files["orders"].write_text("")
    with pytest.raises(ValueError, match=r"olist_orders_dataset.csv: the file is empty"):
        read_olist(files)


def test_header_only_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"olist_orders_dataset.csv: the file has a header but no data rows"):
        read_olist(_files(tmp_path, orders_text=ORDERS_HEADER))


def test_raw_files_are_not_modified(tmp_path):
    files = _files(tmp_path)
    before = {k: p.read_bytes() for k, p in files.items()}
    build_orders(read_olist(files), analysis_date="2018-01-31")
    assert {k: p.read_bytes() for k, p in files.items()} == before


def test_day_month_dates_are_refused_not_guessed(tmp_path):
    bad = ORDERS_HEADER + "o1,c1,delivered,01/02/2018 10:00,,,,\no2,c1,delivered,13/02/2018 10:00,,,,\n"
    with pytest.raises(ValueError, match=r"'order_purchase_timestamp' has 2 value\(s\) that are not ISO dates"):
        read_olist(_files(tmp_path, orders_text=bad))


def test_non_utf8_file_is_named(tmp_path):
    files = _files(tmp_path)
    files["customers"].write_bytes("customer_id,customer_unique_id,customer_zip_code_prefix,customer_city,customer_state\n"
                                   "c1,A,01000,s\xe3o paulo,SP\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"olist_customers_dataset.csv: the file is not UTF-8 text"):
        read_olist(files)


def test_an_orders_review_is_its_first_one_with_its_own_date():
    """o1 was reviewed twice: 5 stars on 01-05, then 1 star on 03-10 (after a cut on 02-28): only the first counts."""
    t = tables()
    t["reviews"] = pd.DataFrame({
        "review_id": ["r2", "r1", "r3"], "order_id": ["o1", "o1", "o2"], "review_score": [1.0, 5.0, 4.0],
        "review_creation_date": [T("2018-03-10"), T("2018-01-05"), T("2018-01-15")],
        "review_answer_timestamp": [T("2018-03-11"), T("2018-01-06"), T("2018-01-16")],
    })
    orders, _, _ = build_orders(t, analysis_date="2018-01-31")
    got = orders.set_index("order_id")
    assert got.loc["o1", "review_score"] == 5.0 and got.loc["o1", "review_creation_date"] == T("2018-01-05")
    assert got.loc["o2", "review_score"] == 4.0 and got.loc["o2", "review_creation_date"] == T("2018-01-15")
    assert pd.isna(got.loc["o3", "review_score"]) and pd.isna(got.loc["o3", "review_creation_date"])
    # the later review can change nothing: not its score, not its date
    t["reviews"].loc[0, ["review_score", "review_creation_date"]] = [3.0, T("2018-02-01")]
    pd.testing.assert_frame_equal(build_orders(t, analysis_date="2018-01-31")[0], orders)
