"""The dataset spec: what a user writes, what is refused and how the message reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from clvlib.data.spec import SpecError, builtin_spec, load_spec, parse_spec, spec_from_dict

MINIMAL = """
name = "my-shop"
currency = "EUR"

[orders]
path = "exports/orders.parquet"
customer = "customer_id"
timestamp = "created_at"
amount = "total"
"""

FULL = MINIMAL + """order_id = "order_id"
status = "state"
keep_statuses = ["paid", "shipped"]

[events]
path = "exports/events/*.parquet"
user = "visitor_id"
timestamp = "ts"
event_type = "event"
amount = "value"
[events.types]
view = ["page_view", "product_view"]
cart = ["add_to_cart"]
purchase = ["purchase", "checkout_complete"]

[link]
column = "customer_id"
"""


def write(tmp_path: Path, text: str, name: str = "shop.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_the_minimal_spec_reads_with_paths_relative_to_the_spec_file(tmp_path):
    spec = load_spec(write(tmp_path, MINIMAL))
    assert spec.name == "my-shop" and spec.currency == "EUR" and spec.layout == "spec"
    assert spec.orders.source.path == str(tmp_path.resolve() / "exports" / "orders.parquet")
    assert (spec.orders.customer, spec.orders.timestamp, spec.orders.amount) == ("customer_id", "created_at", "total")
    assert spec.events is None and spec.link is None and not spec.has_events


def test_the_full_spec_maps_aliases_to_our_event_types(tmp_path):
    spec = load_spec(write(tmp_path, FULL))
    assert spec.orders.keep_statuses == ("paid", "shipped")
    assert spec.events.types == {"page_view": ("page_view", "product_view"), "add_to_cart": ("add_to_cart",),
                                 "purchase": ("purchase", "checkout_complete")}
    assert spec.events.session is None and spec.events.session_gap_minutes == 30.0
    assert spec.link.column == "customer_id"


def test_a_spec_survives_the_round_trip_through_workspace_json(tmp_path):
    spec = load_spec(write(tmp_path, FULL))
    assert spec_from_dict(spec.to_dict()) == spec


def test_an_unknown_key_is_refused_listing_the_valid_ones(tmp_path):
    with pytest.raises(SpecError, match=r"shop.toml: unknown key\(s\) \['amout'\] in \[orders\]\. Valid keys there:") as e:
        load_spec(write(tmp_path, MINIMAL.replace('amount = "total"', 'amout = "total"')))
    assert "  amount: column holding the order" in str(e.value) and "  keep_statuses:" in str(e.value)
    with pytest.raises(SpecError, match=r"unknown key\(s\) \['currencey'\] in the top level"):
        load_spec(write(tmp_path, MINIMAL.replace("currency", "currencey")))


@pytest.mark.parametrize("change, message", [
    (('customer = "customer_id"\n', ""), r"\[orders\] needs customer = "),
    (('amount = "total"', 'amount = "total"\nprice = "p"'), r"exactly one of amount"),
    (('name = "my-shop"', 'name = "my shop!"'), r"name = \"...\" is required: letters, digits"),
    (('path = "exports/orders.parquet"', 'path = "exports/orders.parquet"\nquery = "select 1"'),
     r"table/query need a database path"),
    (('path = "exports/orders.parquet"', 'path = "postgresql://u@localhost/db"'), r"is a database: give table"),
    (('amount = "total"', 'amount = "total"\nkeep_statuses = ["paid"]'), r"keep_statuses needs status"),
    (('amount = "total"', 'amount = "total"\nvalid_from = "last year"'), r"valid_from must be a date YYYY-MM-DD"),
])
def test_invalid_values_name_the_key(tmp_path, change, message):
    with pytest.raises(SpecError, match=message):
        load_spec(write(tmp_path, MINIMAL.replace(*change)))


def test_event_types_outside_ours_and_double_mappings_are_refused(tmp_path):
    bad = FULL.replace('cart = ["add_to_cart"]', 'wishlist = ["wish"]')
    with pytest.raises(SpecError, match=r"\[events.types\] has 'wishlist'; our event types are"):
        load_spec(write(tmp_path, bad))
    twice = FULL.replace('cart = ["add_to_cart"]', 'cart = ["page_view"]')
    with pytest.raises(SpecError, match=r"maps 'page_view' to both page_view and add_to_cart"):
        load_spec(write(tmp_path, twice))


def test_a_link_needs_events_and_a_way_to_match(tmp_path):
    with pytest.raises(SpecError, match=r"\[link\] needs an \[events\] section"):
        load_spec(write(tmp_path, MINIMAL + '\n[link]\ncolumn = "c"\n'))
    with pytest.raises(SpecError, match=r"\[link\] needs column = "):
        load_spec(write(tmp_path, FULL.replace('column = "customer_id"', 'customer = "c"')))


def test_database_urls_take_the_table_from_the_query_string(tmp_path):
    spec = load_spec(write(tmp_path, MINIMAL.replace('"exports/orders.parquet"',
                                                     '"postgresql://me:secret@localhost/shop?table=sales.orders"')))
    assert spec.orders.source.path == "postgresql://me:secret@localhost/shop"
    assert spec.orders.source.table == "sales.orders"
    assert "secret" not in spec.orders.source.describe()
    spec = load_spec(write(tmp_path, MINIMAL.replace('"exports/orders.parquet"', '"duckdb:///shop.duckdb"\nquery = "select 1"')))
    assert spec.orders.source.path == "duckdb:///" + str(tmp_path.resolve() / "shop.duckdb")


def test_not_toml_and_missing_files_get_named_errors(tmp_path):
    with pytest.raises(SpecError, match=r"shop.toml: not valid TOML"):
        load_spec(write(tmp_path, "name = my-shop"))
    with pytest.raises(SpecError, match=r"not found\. Give a \.toml file, or a built-in dataset: olist, demo"):
        load_spec(tmp_path / "absent.toml")


def test_builtin_datasets_are_specs_too(tmp_path):
    assert builtin_spec("olist", raw_dir="/data").layout == "olist"
    assert builtin_spec("demo", size=100, seed=1).size == 100
    spec = parse_spec({"name": "kaggle", "layout": "olist", "raw_dir": "raw"}, base_dir=tmp_path)
    assert spec.raw_dir == str(tmp_path / "raw") and spec.currency == "BRL"
    with pytest.raises(SpecError, match=r"layout 'olist' reads its own files"):
        parse_spec({"name": "k", "layout": "olist", "orders": {"path": "x"}})
    with pytest.raises(SpecError, match=r"Unknown built-in dataset 'shop'"):
        builtin_spec("shop")


def test_attribute_tables_are_checked_at_the_door(tmp_path):
    from clvlib.data.spec import SpecError, parse_spec, spec_from_dict

    orders = {"path": "o.csv", "customer": "c", "timestamp": "t", "amount": "a"}
    ok = parse_spec({"name": "s", "orders": {**orders, "product": "sku"},
                     "customers": {"path": "c.csv", "customer": "c", "region": "st"},
                     "products": {"path": "p.csv", "product": "sku", "category": "cat"}}, base_dir=tmp_path)
    assert ok.customers.attribute == "st" and ok.products.source.path == str(tmp_path / "p.csv")
    assert spec_from_dict(ok.to_dict()) == ok
    with pytest.raises(SpecError, match=r"\[products\] needs \[orders\] product"):
        parse_spec({"name": "s", "orders": orders, "products": {"path": "p.csv", "product": "sku", "category": "cat"}})
    with pytest.raises(SpecError, match=r"\[orders\] region and \[customers\] both give the region"):
        parse_spec({"name": "s", "orders": {**orders, "region": "r"},
                    "customers": {"path": "c.csv", "customer": "c", "region": "st"}})
    with pytest.raises(SpecError, match=r"unknown key\(s\) \['state'\] in \[customers\]\. Valid keys there:\n(.|\n)*region:"):
        parse_spec({"name": "s", "orders": orders, "customers": {"path": "c.csv", "customer": "c", "state": "st"}})
    with pytest.raises(SpecError, match=r"\[customers\] needs region = "):
        parse_spec({"name": "s", "orders": orders, "customers": {"path": "c.csv", "customer": "c"}})
