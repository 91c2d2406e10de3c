"""The Kaggle layout's bad inputs: each gets a named error or a counted step, never a silent wrong number."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from clvlib.data.inventory import profile_csv
from clvlib.data.sources import find_raw_files
from clvlib.data.transactions import build_orders, read_olist
from clvlib.io import read_table
from clvlib.schemas import EXPECTED_FILES

T = pd.Timestamp


def month_tables(n: int = 40) -> dict[str, pd.DataFrame]:
    """``n`` delivered orders of ``n`` people, one a day from 2018-01-01, each paid once 10 + i."""
    ids = [f"o{i}" for i in range(n)]
    orders = pd.DataFrame({"order_id": ids, "customer_id": [f"c{i}" for i in range(n)], "order_status": "delivered",
                           "order_purchase_timestamp": pd.date_range("2018-01-01", periods=n, freq="D"),
                           "order_approved_at": pd.NaT, "order_delivered_carrier_date": pd.NaT,
                           "order_delivered_customer_date": pd.NaT, "order_estimated_delivery_date": pd.NaT})
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "customer_unique_id": [f"P{i}" for i in range(n)],
                              "customer_zip_code_prefix": "01000", "customer_city": "x", "customer_state": "SP"})
    payments = pd.DataFrame({"order_id": ids, "payment_sequential": 1, "payment_type": "boleto",
                             "payment_installments": 1, "payment_value": [10.0 + i for i in range(n)]})
    return {"orders": orders, "customers": customers, "payments": payments}


def test_an_exact_duplicate_payment_row_is_removed_not_summed():
    t = month_tables()
    t["payments"] = pd.concat([t["payments"], t["payments"].iloc[[3]]], ignore_index=True)
    orders, log, _ = build_orders(t, analysis_date="2018-03-31")
    assert orders.set_index("order_id").loc["o3", "order_value"] == 13.0  # not 26
    notes = log.to_frame().query("step == 'note'")["reason"]
    assert notes.str.contains("exact duplicate payment rows: 1 removed").any()


def test_an_order_with_an_empty_payment_value_is_dropped_and_counted_not_valued_at_zero():
    t = month_tables()
    extra = pd.DataFrame({"order_id": ["o5"], "payment_sequential": [2], "payment_type": ["voucher"],
                          "payment_installments": [1], "payment_value": [float("nan")]})
    t["payments"] = pd.concat([t["payments"], extra], ignore_index=True)
    orders, log, _ = build_orders(t, analysis_date="2018-03-31")
    assert "o5" not in set(orders["order_id"])  # not undervalued at 15 + 0
    steps = log.to_frame().set_index("step")
    assert steps.loc["orders with an empty payment value", "removed"] == 1


def test_orders_dated_far_outside_the_data_are_refused_naming_file_column_and_lines():
    t = month_tables()
    t["orders"].loc[7, "order_purchase_timestamp"] = T("2030-01-01")
    t["orders"].loc[9, "order_purchase_timestamp"] = T("2010-06-01")
    with pytest.raises(ValueError, match=r"olist_orders_dataset.csv: column 'order_purchase_timestamp' has 2 "
                                         r"timestamp\(s\) far outside the bulk of the data .* e.g. \['2030-01-01', "
                                         r"'2010-06-01'\] \(line 9, line 11\)"):
        build_orders(t)


def test_customers_without_a_person_id_are_counted():
    t = month_tables()
    t["customers"].loc[[2, 4], "customer_unique_id"] = [None, " "]
    orders, log, _ = build_orders(t, analysis_date="2018-03-31")
    assert len(orders) == 38
    assert log.to_frame().set_index("step").loc["orders of a customer without a person id", "removed"] == 2


def test_a_missing_order_items_file_is_said_in_the_drop_log():
    orders, log, _ = build_orders(month_tables(), analysis_date="2018-03-31")
    notes = log.to_frame().query("step == 'note'")["reason"]
    assert notes.str.contains("olist_order_items_dataset.csv is absent: item counts, freight and product category").any()
    assert "product_category" not in orders.columns


def test_a_row_with_extra_fields_names_the_file_and_the_line(tmp_path):
    f = tmp_path / EXPECTED_FILES["payments"]
    f.write_text("order_id,payment_sequential,payment_type,payment_installments,payment_value\n"
                 "o1,1,boleto,1,10\no2,1,boleto,1,10,99\n")
    with pytest.raises(ValueError, match=r"olist_order_payments_dataset.csv: the file is not a well-formed CSV \(.*line 3"
                                         r".*\): a line has more fields than the header.*check the delimiter"):
        read_table(f, ["order_id"])
    assert "not a well-formed CSV" in profile_csv(f, "payments")["problems"][0]


def test_a_latin1_file_is_a_named_problem_in_the_inventory(tmp_path):
    f = tmp_path / EXPECTED_FILES["customers"]
    f.write_bytes("customer_id,customer_city\nc1,s\xe3o paulo\n".encode("latin-1"))
    problem = profile_csv(f, "customers")["problems"][0]
    assert problem.startswith("not UTF-8 text") and "encoding" in problem


def test_a_second_copy_of_a_file_in_a_subfolder_is_refused_listing_both(tmp_path):
    for name in ("orders", "customers", "payments", "clickstream"):
        (tmp_path / EXPECTED_FILES[name]).write_text("a\n1\n")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / EXPECTED_FILES["orders"]).write_text("a\n")
    with pytest.raises(ValueError, match=r"Ambiguous raw data under .*: more than one copy of olist_orders_dataset.csv: "
                                         r".*olist_orders_dataset.csv, .*old/olist_orders_dataset.csv"):
        find_raw_files(tmp_path)


def test_a_damaged_zip_is_a_named_error(tmp_path):
    z = tmp_path / "brazilian-ecommerce.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr(EXPECTED_FILES["orders"], "order_id\n" + "o1\n" * 5000)
    data = bytearray(z.read_bytes())
    data[60:90] = b"\x00" * 30  # damage the compressed member
    z.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"brazilian-ecommerce.zip is not a readable zip file .*download it again"):
        find_raw_files(tmp_path, extract_dir=tmp_path / "x")


def test_the_real_data_passes_every_check(real_data_dir: Path):
    files = find_raw_files(real_data_dir)
    orders, log, date = build_orders(read_olist(files))
    assert date == T("2018-08-31") and orders["customer_unique_id"].nunique() > 90_000
    steps = log.to_frame().set_index("step")["removed"]
    assert steps["orders with an empty payment value"] == 0
    assert steps["orders of a customer without a person id"] == 0
