"""The real Kaggle files from ../shared/data through stages 00-04, against facts checked in the files."""

from __future__ import annotations

import pandas as pd
import pytest

from clvlib.data.clickstream import clean_events, read_clickstream, user_features
from clvlib.features.hybrid import hybrid_features
from clvlib.data.inventory import inventory
from clvlib.features.links import build_mapping, link_correlations
from clvlib.data.sources import find_raw_files
from clvlib.data.transactions import build_orders, customer_summary, read_olist

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def files(real_data_dir):
    return find_raw_files(real_data_dir)


@pytest.fixture(scope="module")
def tables(files):
    return read_olist(files)


@pytest.fixture(scope="module")
def cleaned(tables):
    return build_orders(tables)


@pytest.fixture(scope="module")
def events(files):
    return clean_events(read_clickstream(files["clickstream"]))[0]


def test_inventory_of_the_real_files(files, real_data_dir):
    inv = inventory(files, real_data_dir)
    t = inv["tables"]
    assert inv["missing_files"] == []
    assert t["orders"]["rows"] == 99_441 and t["orders"]["key"]["unique"]
    assert t["customers"]["rows"] == 99_441
    assert t["order_items"]["rows"] == 112_650
    assert t["payments"]["rows"] == 103_886
    assert t["reviews"]["rows"] == 99_224
    assert t["clickstream"]["rows"] == 74_817
    assert all(not p["schema"]["missing"] and not p["schema"]["unexpected"] for p in t.values())
    assert t["orders"]["dates"]["order_purchase_timestamp"]["min"].startswith("2016-09-04")
    assert t["clickstream"]["dates"]["Timestamp"]["min"].startswith("2024-01-01")
    assert "customer_zip_code_prefix" not in t["customers"]["dates"]


def test_people_are_customer_unique_ids(tables):
    c = tables["customers"]
    assert c["customer_id"].nunique() == 99_441
    assert c["customer_unique_id"].nunique() == 96_096


def test_cleaned_orders_and_people(cleaned):
    orders, log, date = cleaned
    assert date == pd.Timestamp("2018-08-31")  # September and October 2018 are truncated
    steps = log.to_frame().set_index("step")["removed"]
    assert steps["order status filter"] == 99_441 - 96_478  # 96,478 delivered orders
    assert steps["orders without a payments record"] == 1
    assert len(orders) == 96_477
    s = customer_summary(orders, date)
    assert len(s) == orders["customer_unique_id"].nunique() == 93_357
    assert (s["frequency"] == 1).mean() == pytest.approx(0.970, abs=0.001)
    assert s["total_spent"].sum() == pytest.approx(orders["order_value"].sum())


def test_clickstream_is_1000_users_with_10_sessions_each(events):
    u = user_features(events)
    assert len(u) == 1_000
    assert (u["sessions"] == 10).all()
    assert u["conversion_rate"].between(0, 1).all()
    assert u["total_events"].sum() == 74_817


def test_rank_link_manufactures_a_correlation_the_placebo_does_not(cleaned, events):
    orders, _, date = cleaned
    rho = {}
    for method in ("rank", "random"):
        mapping, cust, users, info = build_mapping(orders, events, method, "2018-02-28")
        assert info["mapped"] == 1_000 and not info["clickstream_cut_applied"]
        corr = link_correlations(mapping, cust, users).set_index("user_measure")["spearman"]
        rho[method] = corr["total_purchase_amount"]
    assert rho["rank"] > 0.6
    assert abs(rho["random"]) < 0.1
    h = hybrid_features(customer_summary(orders, date), user_features(events), mapping)
    assert len(h) == 1_000
