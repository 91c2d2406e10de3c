"""The demo's answer key: truth files, load_truth and true_expected_value (what the evaluation reads)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from clvlib.demo import TRUTH_COLUMNS, TRUTH_FILE, TRUTH_JSON, load_truth, true_expected_value, visible_days


# ----------------------------------------------------------------------------- the truth files
def test_truth_json_describes_every_truth_column(demo):
    truth = pd.read_csv(demo["truth_path"], nrows=0)
    described = json.loads((demo["truth_path"].parent / TRUTH_JSON).read_text())["columns"]
    assert list(truth.columns) == list(TRUTH_COLUMNS) == list(described)


def test_expected_order_counts_agree_with_the_generated_orders(demo):
    truth = load_truth(demo["truth_path"])
    spend = truth.set_index("customer_unique_id")["spend_mean"]
    expected = true_expected_value(truth, "2016-08-31", "2018-10-17") / spend
    assert expected.sum() == pytest.approx(demo["n_orders"], rel=0.02)
    assert truth["n_orders"].sum() == demo["n_orders"]


# ----------------------------------------------------------------------------- true_expected_value by hand
SPLIT = 1.0095  # each purchase occasion yields a second same-day order with probability 0.0095


def _hand_truth() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_unique_id": ["a", "b", "c"],
        "first_purchase": pd.to_datetime(["2017-01-10 12:00", "2017-03-01 09:00", "2016-12-01 00:00"]),
        "alive_until": pd.to_datetime(["2030-01-01 00:00", "2017-03-11 09:00", "2017-01-15 00:00"]),
        "purchase_rate_per_day": [0.01, 0.02, 0.05],
        "spend_mean": [100.0, 50.0, 80.0],
    })


def test_true_expected_value_equals_the_hand_computed_values(demo):
    split = json.loads((demo["truth_path"].parent / TRUTH_JSON).read_text())["model"]["same_day_split_probability"]
    assert 1 + split == SPLIT
    got = true_expected_value(_hand_truth(), "2017-01-31", "2017-04-30")
    # a: alive all of Feb..Apr 2017 = 89 days; b: first order inside, then alive 10 days; c: dead before.
    want = pd.Series(
        [100 * SPLIT * 0.01 * 89, 50 * SPLIT * (1 + 0.02 * 10), 0.0],
        index=pd.Index(["a", "b", "c"], name="customer_unique_id"), name="expected_value",
    )
    pd.testing.assert_series_equal(got, want, check_index_type=False)


def test_true_expected_value_counts_only_the_visible_end_of_data():
    one = _hand_truth().iloc[[0]]
    got = true_expected_value(one, "2018-08-20", "2018-09-30").iloc[0]
    # 21 Aug counts fully; 22-31 Aug are thinned as in the real data; September keeps 0.16%.
    aug = 0.64 + 0.50 + 0.37 + 0.36 + 0.37 + 0.22 + 0.15 + 0.05 + 0.014 + 0.004
    assert got == pytest.approx(100 * SPLIT * 0.01 * (1 + aug + 30 * 0.0016))
    assert visible_days(["2018-01-01"], ["2018-01-11"])[0] == pytest.approx(10.0)


# ----------------------------------------------------------------------------- errors
def test_load_truth_names_a_missing_column(tmp_path):
    path = tmp_path / TRUTH_FILE
    _hand_truth().drop(columns="spend_mean").to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"demo_truth.csv: missing column\(s\) \['spend_mean'\]"):
        load_truth(path)


def test_load_truth_refuses_repeated_persons_and_death_before_birth(tmp_path):
    path = tmp_path / TRUTH_FILE
    _hand_truth().assign(customer_unique_id=["a", "a", "c"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match="customer_unique_id must be unique"):
        load_truth(path)
    _hand_truth().assign(alive_until=pd.to_datetime(["2016-01-01"] * 3)).to_csv(path, index=False)
    with pytest.raises(ValueError, match="alive_until is before first_purchase"):
        load_truth(path)


def test_load_truth_of_a_missing_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="generate_demo"):
        load_truth(tmp_path)


def test_true_expected_value_needs_end_after_start():
    with pytest.raises(ValueError, match="must be after start"):
        true_expected_value(_hand_truth(), "2018-08-31", "2018-02-28")
