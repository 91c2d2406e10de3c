"""The demo generator: same files as Kaggle, shaped like the real data, driven by known hidden traits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from clvlib.demo import TRUTH_FILE, TRUTH_JSON, USER_KEY_FILE, generate_demo, load_truth
from clvlib.schemas import CLICKSTREAM_FILE, DEMO_MARKER, EXPECTED_FILES, OLIST_FILES

HEX32 = re.compile(r"^[0-9a-f]{32}$")


# ----------------------------------------------------------------------------- helpers and fixtures
def _read(folder: Path, table: str) -> pd.DataFrame:
    name = EXPECTED_FILES[table]
    hits = sorted(Path(folder).rglob(name))
    assert hits, f"{name} not found under {folder}"
    return pd.read_csv(hits[0], encoding="utf-8-sig", dtype={"customer_id": str, "order_id": str}, low_memory=False)


def _summary(folder: Path) -> dict:
    """The figures the demo must share with the real data."""
    customers = _read(folder, "customers")
    orders = _read(folder, "orders")
    payments = _read(folder, "payments")
    reviews = _read(folder, "reviews")
    orders["t"] = pd.to_datetime(orders["order_purchase_timestamp"])
    per_person = orders.merge(customers, on="customer_id").groupby("customer_unique_id").size()
    value = payments.groupby("order_id")["payment_value"].sum()
    return {
        "one_time": float((per_person == 1).mean()),
        "value_median": float(value.median()),
        "value_p90": float(value.quantile(0.9)),
        "months": orders["t"].dt.to_period("M").astype(str).value_counts(normalize=True),
        "status": orders["order_status"].value_counts(normalize=True),
        "multi_payment": float((payments.groupby("order_id").size() > 1).mean()),
        "payment_types": set(payments["payment_type"]),
        "scores": reviews["review_score"].value_counts(normalize=True),
        "sp_share": float(customers.drop_duplicates("customer_unique_id")["customer_state"].eq("SP").mean()),
    }


@pytest.fixture(scope="module")
def real_summary(real_data_dir) -> dict:
    return _summary(real_data_dir / "olist")


@pytest.fixture(scope="module")
def demo_summary(demo) -> dict:
    return _summary(demo["raw_dir"])


# ----------------------------------------------------------------------------- files and determinism
def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tmp_path):
    a = generate_demo(tmp_path / "a" / "raw", n_customers=500, seed=3)
    b = generate_demo(tmp_path / "b" / "raw", n_customers=500, seed=3)
    c = generate_demo(tmp_path / "c" / "raw", n_customers=500, seed=4)
    names = sorted(p.name for p in a["raw_dir"].iterdir())
    assert names == sorted(p.name for p in b["raw_dir"].iterdir())
    for name in names:
        assert (a["raw_dir"] / name).read_bytes() == (b["raw_dir"] / name).read_bytes(), name
    assert a["truth_path"].read_bytes() == b["truth_path"].read_bytes()
    for name in (OLIST_FILES["orders"], CLICKSTREAM_FILE, TRUTH_FILE):
        pa = a["truth_path"] if name == TRUTH_FILE else a["raw_dir"] / name
        pc = c["truth_path"] if name == TRUTH_FILE else c["raw_dir"] / name
        assert pa.read_bytes() != pc.read_bytes(), name


def test_every_kaggle_file_marker_and_key_are_written_and_truth_stays_outside(demo, demo_size):
    raw = demo["raw_dir"]
    for name in EXPECTED_FILES.values():
        assert (raw / name).is_file(), name
    assert demo["truth_path"] == raw.parent / "truth" / TRUTH_FILE
    assert not list(raw.rglob(TRUTH_FILE)) and not list(raw.rglob(TRUTH_JSON))
    marker = json.loads((raw / DEMO_MARKER).read_text())
    assert marker["demo"] is True and marker["seed"] == 42 and marker["n_customers"] == demo_size
    assert marker["generated_by"] == "clvlib.demo" and marker["note"]
    key = pd.read_csv(raw / USER_KEY_FILE, dtype={"customer_unique_id": str})
    assert list(key.columns) == ["customer_unique_id", "UserID"]
    assert set(key.columns).isdisjoint({"purchase_rate_per_day", "spend_mean", "alive_until"})


@pytest.mark.parametrize("table", sorted(EXPECTED_FILES), ids=sorted(EXPECTED_FILES))
def test_columns_are_the_real_ones_in_the_real_order(demo, real_data_dir, table):
    real = list(_read(real_data_dir, table).head(0).columns)
    ours = list(pd.read_csv(demo["files"][table], nrows=0).columns)
    assert ours == real


def test_category_translation_is_a_subset_of_the_real_one(demo, real_data_dir):
    real = _read(real_data_dir, "category_translation")
    ours = _read(demo["raw_dir"], "category_translation")
    pairs = set(map(tuple, real.to_numpy()))
    assert set(map(tuple, ours.to_numpy())) <= pairs


# ----------------------------------------------------------------------------- Olist semantics
def test_customers_has_one_row_per_order_and_persons_repeat(demo, demo_size):
    customers = _read(demo["raw_dir"], "customers")
    orders = _read(demo["raw_dir"], "orders")
    assert len(customers) == len(orders) == demo["n_orders"]
    assert customers["customer_id"].is_unique and set(customers["customer_id"]) == set(orders["customer_id"])
    assert orders["order_id"].is_unique
    assert customers["customer_unique_id"].nunique() == demo_size
    assert customers["customer_unique_id"].value_counts().max() >= 3
    for col in ("customer_id", "customer_unique_id"):
        assert customers[col].str.fullmatch(HEX32).all()
    zips = pd.read_csv(demo["files"]["customers"], dtype=str)["customer_zip_code_prefix"]
    assert zips.str.fullmatch(r"\d{5}").all()


def test_timestamps_agree_with_the_status(demo):
    orders = _read(demo["raw_dir"], "orders")
    ts = {c: pd.to_datetime(orders[c]) for c in orders.columns[3:]}
    delivered = orders["order_status"] == "delivered"
    assert ts["order_delivered_customer_date"][delivered].notna().all()
    assert orders.loc[ts["order_delivered_customer_date"].notna(), "order_status"].isin(["delivered", "canceled"]).all()
    assert ts["order_approved_at"][orders["order_status"] == "created"].isna().all()
    assert ts["order_delivered_carrier_date"][orders["order_status"] == "shipped"].notna().all()
    assert ts["order_estimated_delivery_date"].notna().all()
    chain = ["order_purchase_timestamp", "order_approved_at", "order_delivered_carrier_date",
             "order_delivered_customer_date"]
    for a, b in zip(chain, chain[1:]):
        assert not (ts[b] < ts[a]).any(), f"{b} before {a}"
    reviews = _read(demo["raw_dir"], "reviews").merge(orders, on="order_id")
    created = pd.to_datetime(reviews["review_creation_date"])
    assert not (created < pd.to_datetime(reviews["order_delivered_customer_date"])).any()
    assert (pd.to_datetime(reviews["review_answer_timestamp"]) > created).all()


def test_items_add_up_to_the_payments_and_mess_is_mild(demo):
    items = _read(demo["raw_dir"], "order_items")
    payments = _read(demo["raw_dir"], "payments")
    orders = _read(demo["raw_dir"], "orders")
    goods = (items["price"] + items["freight_value"]).groupby(items["order_id"]).sum()
    paid = payments.groupby("order_id")["payment_value"].sum()
    both = pd.concat([goods, paid], axis=1, join="inner")
    assert (np.abs(both.iloc[:, 0] / both.iloc[:, 1] - 1) < 0.01).mean() > 0.99
    assert (items.groupby("order_id").size() > 1).mean() > 0.05
    assert 1 <= (~orders["order_id"].isin(payments["order_id"])).sum() <= 10
    assert (payments["payment_value"] == 0).sum() >= 1
    assert (payments["payment_value"] >= 0).all() and (items["price"] > 0).all()
    assert (orders["order_status"] == "canceled").sum() > 0


# ----------------------------------------------------------------------------- against the real data
def test_one_time_buyer_share_matches_real(demo_summary, real_summary):
    assert demo_summary["one_time"] == pytest.approx(real_summary["one_time"], abs=0.015)


def test_order_value_median_and_p90_match_real(demo_summary, real_summary):
    assert demo_summary["value_median"] == pytest.approx(real_summary["value_median"], rel=0.2)
    assert demo_summary["value_p90"] == pytest.approx(real_summary["value_p90"], rel=0.2)


def test_monthly_shape_matches_real_with_black_friday_peak_and_truncated_end(demo_summary, real_summary):
    ours, real = demo_summary["months"], real_summary["months"]
    months = real.index.union(ours.index)
    diff = (ours.reindex(months, fill_value=0) - real.reindex(months, fill_value=0)).abs()
    assert diff.max() < 0.01, diff.sort_values().tail(3)
    assert ours["2017-11"] > ours["2017-10"] and ours["2017-11"] > ours["2017-12"]
    assert ours.get("2018-09", 0) + ours.get("2018-10", 0) < 0.002
    assert ours["2018-08"] > 0.04 and ours.index.min() >= "2016-09" and ours.index.max() <= "2018-10"


def test_status_shares_match_real(demo_summary, real_summary):
    ours, real = demo_summary["status"], real_summary["status"]
    assert ours["delivered"] == pytest.approx(real["delivered"], abs=0.02)
    assert set(ours.index) <= set(real.index)
    for status in ("shipped", "canceled", "unavailable"):
        assert ours[status] == pytest.approx(real[status], abs=0.005)


def test_multi_payment_share_and_types_match_real(demo_summary, real_summary):
    assert demo_summary["multi_payment"] == pytest.approx(real_summary["multi_payment"], abs=0.02)
    assert demo_summary["payment_types"] <= real_summary["payment_types"]


def test_review_scores_match_real(demo_summary, real_summary):
    for score in range(1, 6):
        assert demo_summary["scores"][score] == pytest.approx(real_summary["scores"][score], abs=0.03), score


def test_state_mix_matches_real(demo_summary, real_summary):
    assert demo_summary["sp_share"] == pytest.approx(real_summary["sp_share"], abs=0.03)


def test_clickstream_format_matches_real(demo, demo_size, real_data_dir):
    real = _read(real_data_dir, "clickstream")
    ours = _read(demo["raw_dir"], "clickstream")
    assert set(ours["EventType"]) == set(real["EventType"])
    assert ours["Timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}").all()
    buy = ours["EventType"] == "purchase"
    assert ours.loc[buy, "Amount"].gt(0).all() and ours.loc[~buy, "Amount"].isna().all()
    assert (ours.loc[buy, "Outcome"] == "purchase").all() and ours.loc[~buy, "Outcome"].isna().all()
    assert ours["ProductID"].dropna().str.fullmatch(r"prod_\d{4}").all()
    assert pd.api.types.is_integer_dtype(ours["UserID"]) and pd.api.types.is_integer_dtype(ours["SessionID"])
    t = pd.to_datetime(ours["Timestamp"])
    assert t.min() >= pd.Timestamp("2016-09-01") and t.max() < pd.Timestamp("2018-09-01")
    assert len(ours) < 40 * demo_size


# ----------------------------------------------------------------------------- the hidden traits drive the data
def test_about_seventy_percent_of_persons_have_a_clickstream_user(demo):
    truth = load_truth(demo["truth_path"])
    key = pd.read_csv(demo["raw_dir"] / USER_KEY_FILE, dtype={"customer_unique_id": str})
    assert truth["UserID"].notna().mean() == pytest.approx(0.70, abs=0.03)
    linked = truth.dropna(subset=["UserID"]).set_index("customer_unique_id")["UserID"]
    assert key.set_index("customer_unique_id")["UserID"].sort_index().equals(linked.astype("int64").sort_index())


def test_purchase_rate_drives_clickstream_sessions(demo):
    truth = load_truth(demo["truth_path"]).dropna(subset=["UserID"])
    click = _read(demo["raw_dir"], "clickstream")
    sessions = click.groupby("UserID")["SessionID"].max()
    n = truth["UserID"].astype("int64").map(sessions).fillna(0)
    rho = spearmanr(truth["purchase_rate_per_day"], n)[0]
    assert rho > 0.2
    heavy = truth["purchase_rate_per_day"] > truth["purchase_rate_per_day"].quantile(0.95)
    assert n[heavy].mean() > 2 * n[~heavy].mean()


def test_spend_level_drives_order_values(demo):
    truth = load_truth(demo["truth_path"])
    customers = _read(demo["raw_dir"], "customers")
    payments = _read(demo["raw_dir"], "payments")
    value = payments.groupby("order_id")["payment_value"].sum()
    orders = _read(demo["raw_dir"], "orders")[["order_id", "customer_id"]].merge(customers, on="customer_id")
    per_person = orders.assign(v=orders["order_id"].map(value)).groupby("customer_unique_id")["v"].mean()
    spend = truth.set_index("customer_unique_id")["spend_mean"]
    assert spearmanr(spend.reindex(per_person.index), per_person, nan_policy="omit")[0] > 0.6


def test_repurchase_after_the_cut_is_rare_but_present(demo):
    customers = _read(demo["raw_dir"], "customers")
    orders = _read(demo["raw_dir"], "orders").merge(customers, on="customer_id")
    t = pd.to_datetime(orders["order_purchase_timestamp"])
    before = set(orders.loc[t < "2018-03-01", "customer_unique_id"])
    after = set(orders.loc[(t >= "2018-03-01") & (t < "2018-09-01"), "customer_unique_id"])
    share = len(before & after) / len(before)
    assert 0.006 < share < 0.03


# ----------------------------------------------------------------------------- errors
def test_too_few_customers_is_refused(tmp_path):
    with pytest.raises(ValueError, match="n_customers must be between 100"):
        generate_demo(tmp_path / "raw", n_customers=99)


def test_truth_inside_the_data_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="inside out_dir"):
        generate_demo(tmp_path / "raw", n_customers=100, truth_dir=tmp_path / "raw" / "truth")


def test_a_folder_with_real_looking_files_is_not_overwritten(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / OLIST_FILES["orders"]).write_text("order_id\nx\n")
    with pytest.raises(ValueError, match="may be real data"):
        generate_demo(raw, n_customers=100)
    assert (raw / OLIST_FILES["orders"]).read_text() == "order_id\nx\n"
