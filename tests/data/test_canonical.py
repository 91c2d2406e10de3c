"""Canonical tables from a spec: every bad input gets a named error or a counted step."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clvlib.data.canonical import read_events, read_link, read_orders, sessionize
from clvlib.data.readers import DataInputError
from clvlib.data.spec import load_spec

SPEC = """
name = "shop"
currency = "EUR"
[orders]
path = "orders.csv"
customer = "cust"
timestamp = "ts"
amount = "total"
{extra}
"""


def shop(tmp_path: Path, orders: str, extra: str = "", events: str | None = None, events_spec: str = "") -> Path:
    (tmp_path / "orders.csv").write_text(orders, encoding="utf-8")
    text = SPEC.format(extra=extra)
    if events is not None:
        (tmp_path / "events.csv").write_text(events, encoding="utf-8")
        text += '\n[events]\npath = "events.csv"\nuser = "u"\ntimestamp = "t"\nevent_type = "e"\n' + events_spec
    (tmp_path / "shop.toml").write_text(text, encoding="utf-8")
    return tmp_path / "shop.toml"


def month_of_orders(n: int = 30, start: str = "2020-01-01") -> list[str]:
    days = pd.date_range(start, periods=n, freq="D")
    return [f"c{i % 7},{d:%Y-%m-%d} 10:00:00,{10 + i}.5" for i, d in enumerate(days)]


def table(rows: list[str], header: str = "cust,ts,total") -> str:
    return header + "\n" + "\n".join(rows) + "\n"


def test_each_row_is_an_order_with_its_customer_time_and_value(tmp_path):
    orders, log = read_orders(load_spec(shop(tmp_path, table(month_of_orders(3)))))
    assert orders.columns.tolist() == ["order_id", "customer_unique_id", "order_purchase_timestamp", "order_value"]
    assert orders["order_value"].tolist() == [10.5, 11.5, 12.5]
    assert orders["order_id"].tolist() == ["1", "2", "3"]
    assert orders["order_purchase_timestamp"].iloc[0] == pd.Timestamp("2020-01-01 10:00")
    assert log.to_frame()["removed"].sum() == 0


def test_exact_duplicate_rows_are_counted_once_not_summed(tmp_path):
    rows = month_of_orders(5)
    orders, log = read_orders(load_spec(shop(tmp_path, table(rows + [rows[1], rows[1]]))))
    assert len(orders) == 5 and orders["order_value"].sum() == 10.5 + 11.5 + 12.5 + 13.5 + 14.5
    step = log.to_frame().set_index("step").loc["exact duplicate rows"]
    assert step["removed"] == 2


def test_order_lines_are_summed_per_order_and_an_order_has_one_buyer(tmp_path):
    rows = ["o1,c1,2020-01-01 10:00,2,5", "o1,c1,2020-01-01 10:05,1,7.5", "o2,c2,2020-01-02 09:00,3,1"]
    spec = shop(tmp_path, table(rows, "oid,cust,ts,qty,price"), extra='order_id = "oid"').read_text()
    spec = spec.replace('amount = "total"', 'price = "price"\nquantity = "qty"')
    (tmp_path / "shop.toml").write_text(spec)
    orders, log = read_orders(load_spec(tmp_path / "shop.toml"))
    assert orders.set_index("order_id")["order_value"].to_dict() == {"o1": 17.5, "o2": 3.0}
    assert orders.set_index("order_id")["order_purchase_timestamp"]["o1"] == pd.Timestamp("2020-01-01 10:00")
    (tmp_path / "orders.csv").write_text(table(rows + ["o2,c9,2020-01-02 09:00,1,1"], "oid,cust,ts,qty,price"))
    with pytest.raises(DataInputError, match=r"1 order id\(s\) in column 'oid' belong to several customers, e.g. \['o2'\]"):
        read_orders(load_spec(tmp_path / "shop.toml"))


def test_empty_amounts_are_refused_naming_how_many_and_where_not_counted_as_zero(tmp_path):
    rows = month_of_orders(6)
    rows[2] = "c2,2020-01-03 10:00:00,"
    rows[4] = "c4,2020-01-05 10:00:00,nan"
    with pytest.raises(DataInputError, match=r"\[orders\] orders\.csv: column\(s\) \['total'\] are empty in 2 row\(s\) "
                                             r"\(line 4, line 6\)\. An order's value cannot be guessed"):
        read_orders(load_spec(shop(tmp_path, table(rows))))


def test_non_numeric_and_negative_amounts_are_refused_with_examples(tmp_path):
    rows = month_of_orders(4)
    rows[1] = "c1,2020-01-02 10:00:00,1.234,50"
    with pytest.raises(DataInputError, match=r"column 'total' has 1 non-numeric value\(s\): e.g. \['1.234,50'\]"):
        read_orders(load_spec(shop(tmp_path, '"cust","ts","total"\n' + "\n".join(
            r if i != 1 else 'c1,2020-01-02 10:00:00,"1.234,50"' for i, r in enumerate(rows)) + "\n")))
    rows = month_of_orders(4)
    rows[3] = "c3,2020-01-04 10:00:00,-5"
    with pytest.raises(DataInputError, match=r"are negative in 1 row\(s\): e.g. \['-5.0'\] \(line 5\)\. Returns and refunds"):
        read_orders(load_spec(shop(tmp_path, table(rows))))


def test_blank_customers_are_dropped_and_counted(tmp_path):
    rows = month_of_orders(10)
    rows[0] = " ,2020-01-01 10:00:00,5"
    rows[1] = ",2020-01-02 10:00:00,5"
    orders, log = read_orders(load_spec(shop(tmp_path, table(rows))))
    assert len(orders) == 8
    step = log.to_frame().set_index("step").loc["rows without a customer id"]
    assert step["removed"] == 2 and "'cust' is empty" in step["reason"]


def test_timestamps_far_outside_the_bulk_are_refused_until_a_valid_range_is_set(tmp_path):
    rows = month_of_orders(60, "2018-01-01") + ["c1,2030-06-01 10:00:00,5", "c2,2010-03-01 10:00:00,5"]
    path = shop(tmp_path, table(rows))
    with pytest.raises(DataInputError, match=r"column 'ts' has 2 timestamp\(s\) far outside the bulk of the data "
                                             r"\(98% lie in 2018-01-\d\d \.\. 2018-03-0\d\): e.g. \['2030-06-01', "
                                             r"'2010-03-01'\] \(line 62, line 63\)\. Fix those rows, or set valid_from"):
        read_orders(load_spec(path))
    path = shop(tmp_path, table(rows), extra='valid_from = "2015-01-01"\nvalid_to = 2019-12-31')
    orders, log = read_orders(load_spec(path))
    assert len(orders) == 60
    steps = log.to_frame().set_index("step")["removed"]
    assert steps["rows before valid_from"] == 1 and steps["rows after valid_to"] == 1


def test_placeholder_dates_a_timestamp_cannot_hold_are_refused_naming_the_lines_not_a_raw_pandas_error(tmp_path):
    rows = month_of_orders(30, "2018-01-01") + ["c1,9999-12-31,5", "c2,0001-01-01 00:00:00,5"]
    with pytest.raises(DataInputError, match=r"column 'ts' has 2 timestamp\(s\) outside 1677-09-22 \.\. 2262-04-11.*"
                                             r"\['9999-12-31', '0001-01-01 00:00:00'\] \(line 32, line 33\)\. "
                                             r"Placeholders such as 9999-12-31"):
        read_orders(load_spec(shop(tmp_path, table(rows))))


def test_non_iso_dates_need_a_format(tmp_path):
    rows = [f"c{i},{d:%d/%m/%Y},{i + 1}" for i, d in enumerate(pd.date_range("2020-01-01", periods=30))]
    with pytest.raises(DataInputError, match=r"column 'ts' has 30 value\(s\) that are not timestamps: they are not ISO "
                                             r"dates .* give timestamp_format"):
        read_orders(load_spec(shop(tmp_path, table(rows))))
    orders, _ = read_orders(load_spec(shop(tmp_path, table(rows), extra='timestamp_format = "%d/%m/%Y"')))
    assert orders["order_purchase_timestamp"].iloc[12] == pd.Timestamp("2020-01-13")


def test_status_filter_keeps_the_named_statuses_and_refuses_one_that_matches_nothing(tmp_path):
    rows = [r + (",paid" if i % 3 else ",cancelled") for i, r in enumerate(month_of_orders(9))]
    path = shop(tmp_path, table(rows, "cust,ts,total,st"), extra='status = "st"\nkeep_statuses = ["paid"]')
    orders, log = read_orders(load_spec(path))
    assert len(orders) == 6 and set(orders["order_status"]) == {"paid"}
    path = shop(tmp_path, table(rows, "cust,ts,total,st"), extra='status = "st"\nkeep_statuses = ["shipped"]')
    with pytest.raises(DataInputError, match=r"keep_statuses \['shipped'\] match no row of column 'st'; statuses in "
                                             r"the data: \['cancelled', 'paid'\]"):
        read_orders(load_spec(path))


EVENTS = "u,t,e,s\n" + "\n".join([
    "v1,2020-01-01 10:00:00,home,",
    "v1,2020-01-01 10:10:00,basket,",
    "v1,2020-01-01 11:00:00,home,",     # 50 minutes later: a new session
    "v2,2020-01-02 10:00:00,order_ok,",
    "v2,2020-01-02 10:00:00,order_ok,",  # an exact duplicate
    "v2,2020-01-02 10:01:00,scroll,",    # not mapped
    ",2020-01-02 10:02:00,home,",        # no user
]) + "\n"


def test_events_are_mapped_sessionized_and_every_drop_counted(tmp_path):
    types = '[events.types]\nview = ["home"]\ncart = ["basket"]\npurchase = ["order_ok"]\n'
    events, log = read_events(load_spec(shop(tmp_path, table(month_of_orders(3)), events=EVENTS, events_spec=types)))
    assert events["EventType"].tolist() == ["page_view", "add_to_cart", "page_view", "purchase"]
    assert events["SessionID"].tolist() == ["1", "1", "2", "1"]
    assert events["Amount"].isna().all()
    steps = log.to_frame().set_index("step")["removed"]
    assert steps["exact duplicate events"] == 1 and steps["events without a user"] == 1
    assert steps["event types not mapped"] == 1
    assert "'scroll' (1)" in log.to_frame().set_index("step").loc["event types not mapped", "reason"]


def test_sessionize_splits_on_the_gap_per_user_in_any_row_order():
    users = pd.Series(["b", "a", "a", "a", "b"], index=[10, 11, 12, 13, 14])
    ts = pd.to_datetime(pd.Series(["2020-01-01 09:00", "2020-01-01 10:55", "2020-01-01 10:00", "2020-01-01 10:20",
                                   "2020-01-01 09:31"], index=users.index))
    assert sessionize(users, ts, 30).to_dict() == {10: 1, 11: 2, 12: 1, 13: 1, 14: 2}


def test_a_link_column_pairs_each_user_with_one_customer(tmp_path):
    events = "u,t,e,c\nv1,2020-01-01,page_view,c1\nv1,2020-01-02,page_view,c1\nv2,2020-01-02,page_view,\n"
    path = shop(tmp_path, table(month_of_orders(3)), events=events, events_spec="")
    (tmp_path / "shop.toml").write_text(path.read_text() + '\n[link]\ncolumn = "c"\n')
    key = read_link(load_spec(tmp_path / "shop.toml"))
    assert key.values.tolist() == [["c1", "v1"]]
    (tmp_path / "events.csv").write_text(events + "v1,2020-01-03,page_view,c2\n")
    with pytest.raises(DataInputError, match=r"\[events\] column 'c': 1 UserID value\(s\) are linked to more than one "
                                             r"customer_unique_id, e.g. \[\['c1', 'v1'\], \['c2', 'v1'\]\]"):
        read_link(load_spec(tmp_path / "shop.toml"))


def test_a_customers_table_gives_each_order_its_customers_region_and_counts_the_unmatched(tmp_path):
    (tmp_path / "customers.csv").write_text("id,state\nc0,SP\nc1,RJ\nc1,RJ\nc2, \n", encoding="utf-8")
    spec = shop(tmp_path, table(month_of_orders(7)),
                extra='[customers]\npath = "customers.csv"\ncustomer = "id"\nregion = "state"')
    orders, log = read_orders(load_spec(spec))
    region = orders.set_index("customer_unique_id")["customer_state"].dropna()
    assert region.groupby(level=0).first().to_dict() == {"c0": "SP", "c1": "RJ"}  # c2 (blank state), c3..c6 unknown
    assert orders["customer_state"].isna().sum() == 5
    notes = log.to_frame().query("step == 'note'")["reason"].tolist()
    assert notes == ["[customers]: 5 of 7 order rows have a 'cust' with no region in "
                     f"{tmp_path / 'customers.csv'} (not listed, or blank there); their region is unknown "
                     "(e.g. ['c2', 'c3', 'c4'])."]


def test_a_customer_given_two_regions_is_refused_with_examples(tmp_path):
    (tmp_path / "customers.csv").write_text("id,state\nc0,SP\nc0,RJ\nc1,MG\n", encoding="utf-8")
    spec = shop(tmp_path, table(month_of_orders(3)),
                extra='[customers]\npath = "customers.csv"\ncustomer = "id"\nregion = "state"')
    with pytest.raises(DataInputError, match=r"\[customers\] .*customers.csv: 1 'id' value\(s\) have more than one "
                                             r"'state', e\.g\. \[\['c0', 'SP'\], \['c0', 'RJ'\]\]"):
        read_orders(load_spec(spec))


def test_a_products_table_gives_each_order_its_first_lines_category(tmp_path):
    rows = ["o1,c0,2020-01-01 10:00:00,5,p1", "o1,c0,2020-01-01 10:05:00,7,p2", "o2,c1,2020-01-02 10:00:00,9,p9",
            *[f"o{i},c{i % 3},2020-01-{i:02d} 11:00:00,3,p2" for i in range(3, 20)]]
    (tmp_path / "products.csv").write_text("sku,cat\np1,toys\np2,books\n", encoding="utf-8")
    spec = shop(tmp_path, table(rows, "oid,cust,ts,total,sku"),
                extra='order_id = "oid"\nproduct = "sku"\n[products]\npath = "products.csv"\nproduct = "sku"\n'
                      'category = "cat"')
    orders, log = read_orders(load_spec(spec))
    cat = orders.set_index("order_id")["product_category"]
    assert cat["o1"] == "toys" and pd.isna(cat["o2"]) and cat["o3"] == "books"
    assert orders.set_index("order_id").loc["o1", "order_value"] == 12
    assert "1 of 20 order rows have a 'sku' with no category in" in log.to_frame()["reason"].iloc[-1]


def test_exact_duplicates_equal_pandas_duplicated_with_missing_values_and_mixed_types():
    import numpy as np

    from clvlib.data.canonical import exact_duplicates

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"u": pd.array(rng.choice(["a", "b", None], 5000), dtype="string"),
                       "t": pd.to_datetime(rng.integers(0, 5, 5000), unit="D"),
                       "x": np.where(rng.random(5000) < 0.2, np.nan, rng.integers(0, 3, 5000).astype(float))},
                      index=np.arange(5000) * 3)
    got = exact_duplicates(df)
    pd.testing.assert_series_equal(got, df.duplicated())
    assert got.sum() > 4000  # few distinct rows: most are repeats
    assert not exact_duplicates(df.drop_duplicates()).any()


def test_typed_keys_match_whatever_their_type_in_each_table(tmp_path):
    # integer customer ids in the orders; the customers table's ids read as float (one is missing)
    pd.DataFrame({"c": [1, 1, 2, 3], "ts": pd.date_range("2020-01-01", periods=4, freq="D"),
                  "total": [5.0, 6.0, 7.0, 8.0]}).to_parquet(tmp_path / "orders.parquet")
    pd.DataFrame({"c": [1.0, 2.0, None], "st": ["SP", "RJ", "MG"]}).to_parquet(tmp_path / "customers.parquet")
    (tmp_path / "shop.toml").write_text('name = "shop"\n[orders]\npath = "orders.parquet"\ncustomer = "c"\n'
                                        'timestamp = "ts"\namount = "total"\n[customers]\npath = "customers.parquet"\n'
                                        'customer = "c"\nregion = "st"\n', encoding="utf-8")
    orders, log = read_orders(load_spec(tmp_path / "shop.toml"))
    assert orders["customer_state"].fillna("?").tolist() == ["SP", "SP", "RJ", "?"]  # not "1" against "1.0"
    assert "1 of 4 order rows" in log.to_frame()["reason"].iloc[-1]
