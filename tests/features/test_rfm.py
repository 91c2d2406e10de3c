"""Tests for clvlib.features.rfm: RFM tables by hand, the id column convention, input validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from clvlib.features.rfm import calibration_holdout_summary, compress_rfm, rfm_summary, unique_rows


def _tx() -> pd.DataFrame:
    """Three customers (plus one who starts too late); A buys twice on 5 January."""
    return pd.DataFrame(
        {
            "cid": ["A", "A", "A", "A", "B", "C", "C", "C", "D"],
            "when": ["2024-01-01 09:00", "2024-01-05 10:00", "2024-01-05 15:00", "2024-01-11",
                     "2024-01-03", "2024-01-02", "2024-01-09", "2024-01-20", "2024-01-16"],
            "amount": [10.0, 20.0, 5.0, 30.0, 50.0, 7.0, 3.0, 100.0, 8.0],
        }
    )


# ----------------------------------------------------------------------------- RFM tables


def test_rfm_summary_matches_a_hand_computed_table():
    # A: days 0, 4 (20 + 5 on one day = one purchase of 25), 10 -> 2 repeats, recency 10, T 14, mean(25, 30).
    # B: one purchase on day 2 of the period -> T = 12. C: days 1 and 8 -> 1 repeat of 3; the 20 Jan
    # purchase is after the end and dropped. D starts after the end and does not appear.
    out = rfm_summary(_tx(), "cid", "when", "amount", observation_period_end="2024-01-15")
    expected = pd.DataFrame(
        {
            "cid": ["A", "B", "C"],
            "frequency": np.array([2, 0, 1], dtype="int64"),
            "recency": [10.0, 0.0, 7.0],
            "T": [14.0, 12.0, 13.0],
            "monetary_value": [27.5, 0.0, 3.0],
        }
    )
    assert_frame_equal(out, expected)
    assert out.attrs["time_unit"] == "D"


def test_rfm_summary_in_weeks_counts_purchase_days_in_continuous_weeks():
    # The BTYD convention: repeat purchase *days*; recency and T in days / 7 (not calendar weeks).
    # End Monday 15 Jan: C's Saturday 20 Jan purchase is after it, and D (16 Jan) starts after it.
    out = rfm_summary(_tx(), "cid", "when", "amount", observation_period_end="2024-01-15", time_unit="W")
    expected = pd.DataFrame(
        {
            "cid": ["A", "B", "C"],
            "frequency": np.array([2, 0, 1], dtype="int64"),
            "recency": [10 / 7, 0.0, 7 / 7],
            "T": [14 / 7, 12 / 7, 13 / 7],
            "monetary_value": [27.5, 0.0, 3.0],
        }
    )
    assert_frame_equal(out, expected)
    assert out.attrs["time_unit"] == "W"
    days = rfm_summary(_tx(), "cid", "when", "amount", observation_period_end="2024-01-15")
    assert_frame_equal(out[["cid", "frequency", "monetary_value"]], days[["cid", "frequency", "monetary_value"]])


def test_no_purchase_after_the_end_counts_in_weeks_even_within_the_same_week():
    # Wednesday 10 Jan is the end; the purchase on Thursday 11 Jan (same Monday week) must not count.
    tx = pd.DataFrame({"cid": ["A", "A", "A"], "when": ["2024-01-01", "2024-01-08", "2024-01-11"], "amount": [1.0, 2.0, 4.0]})
    out = rfm_summary(tx, "cid", "when", "amount", observation_period_end="2024-01-10", time_unit="W")
    assert out.loc[0, "frequency"] == 1 and out.loc[0, "monetary_value"] == 2.0
    assert out.loc[0, "recency"] == pytest.approx(1.0) and out.loc[0, "T"] == pytest.approx(9 / 7)
    cal = calibration_holdout_summary(tx, "cid", "when", "amount", calibration_end="2024-01-10",
                                      holdout_end="2024-01-17", time_unit="W")
    assert cal.loc[0, "frequency"] == 1 and cal.loc[0, "holdout_frequency"] == 1
    assert cal.loc[0, "holdout_spend"] == 4.0 and cal.loc[0, "holdout_duration"] == pytest.approx(1.0)


def test_rfm_summary_defaults_to_the_last_purchase_and_omits_monetary_value():
    out = rfm_summary(_tx(), "cid", "when")
    assert list(out.columns) == ["cid", "frequency", "recency", "T"]
    # last purchase 20 Jan: A's T = 19 days, C now has 2 repeats with recency 18
    assert out.set_index("cid").loc["A", "T"] == 19.0
    assert tuple(out.set_index("cid").loc["C", ["frequency", "recency"]]) == (2, 18.0)


@pytest.mark.parametrize("name", ["customer_unique_id", "customer_id", "cid"])
def test_rfm_tables_keep_the_input_id_column_name(name):
    # pymc-marketing renames the id column to customer_id; like lifetimes, we keep the caller's name.
    tx = _tx().rename(columns={"cid": name})
    rfm = rfm_summary(tx, name, "when", "amount", observation_period_end="2024-01-15")
    cal = calibration_holdout_summary(tx, name, "when", "amount", calibration_end="2024-01-06")
    for out in (rfm, cal):
        assert out.columns[0] == name
        assert "customer_id" not in out.columns or name == "customer_id"
    assert rfm[name].tolist() == ["A", "B", "C"]
    assert cal[name].tolist() == ["A", "B", "C"]


def test_calibration_holdout_summary_by_hand_including_same_day_boundaries():
    tx = pd.concat(
        [_tx(), pd.DataFrame({"cid": ["F", "F"], "when": ["2024-01-06 18:00", "2024-01-15 20:00"],
                              "amount": [1.0, 2.0]})],
        ignore_index=True,
    )
    out = calibration_holdout_summary(tx, "cid", "when", "amount", calibration_end="2024-01-06",
                                      holdout_end="2024-01-15")
    # Calibration = whole days up to 6 Jan; holdout = 7..15 Jan (9 days, 15 Jan included all day).
    # A: cal 1 Jan, 5 Jan (25) -> f 1, r 4, T 5; holdout 11 Jan (30). B: cal only. C: holdout 9 Jan (3),
    # 20 Jan dropped. D: first purchase in the holdout -> excluded. F: 6 Jan evening is calibration.
    expected = pd.DataFrame(
        {
            "cid": ["A", "B", "C", "F"],
            "frequency": np.array([1, 0, 0, 0], dtype="int64"),
            "recency": [4.0, 0.0, 0.0, 0.0],
            "T": [5.0, 3.0, 4.0, 0.0],
            "monetary_value": [25.0, 0.0, 0.0, 0.0],
            "holdout_frequency": np.array([1, 0, 1, 1], dtype="int64"),
            "holdout_spend": [30.0, 0.0, 3.0, 2.0],
            "holdout_duration": [9.0, 9.0, 9.0, 9.0],
        }
    )
    assert_frame_equal(out, expected)


def test_calibration_holdout_summary_accepts_an_empty_holdout():
    out = calibration_holdout_summary(_tx(), "cid", "when", "amount", calibration_end="2024-01-12",
                                      holdout_end="2024-01-14")
    assert out["holdout_frequency"].eq(0).all() and out["holdout_spend"].eq(0).all()
    assert out["holdout_duration"].eq(2.0).all()
    assert out.columns[0] == "cid"


def test_compress_rfm_counts_customers_per_triple():
    rfm = pd.DataFrame({"customer_id": [1, 2, 3, 4], "frequency": [0, 0, 1, 0], "recency": [0.0, 0.0, 3.0, 0.0],
                        "T": [5.0, 5.0, 9.0, 7.0]})
    out = compress_rfm(rfm)
    assert out["n_customers"].tolist() == [2, 1, 1]
    assert out["n_customers"].sum() == len(rfm)


def test_unique_rows_codes_map_every_row_to_its_unique_row():
    df = pd.DataFrame({"frequency": [1.0, 0.0, 1.0, 0.0], "recency": [3.0, 0.0, 3.0, 0.0], "T": [9.0, 5.0, 9.0, 7.0]})
    uniq, codes = unique_rows(df, ["frequency", "recency", "T"])
    assert len(uniq) == 3
    assert_frame_equal(uniq.iloc[codes].reset_index(drop=True), df)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: t.drop(columns="amount"), r"transactions: missing column\(s\) \['amount'\]"),
        (lambda t: t.assign(when=t["when"].where(t.index != 2, "not a date")), r"'when' has 1 value\(s\) that are not ISO dates"),
        (lambda t: t.assign(when=t["when"].where(t.index != 2, None)), r"'when' is empty in 1 row"),
        (lambda t: t.assign(amount=t["amount"].where(t.index != 1, -5.0)), r"'amount' has 1 negative value"),
        (lambda t: t.assign(amount=t["amount"].astype(object).where(t.index != 1, "12,5")), r"'amount' has 1 non-numeric"),
        (lambda t: t.assign(cid=t["cid"].where(t.index != 0, None)), r"'cid' is empty in 1 row"),
    ],
    ids=["missing-column", "bad-date", "missing-date", "negative-amount", "non-numeric-amount", "missing-customer"],
)
def test_rfm_summary_rejects_bad_transactions_with_a_clear_message(change, match):
    with pytest.raises(ValueError, match=match):
        rfm_summary(change(_tx()), "cid", "when", "amount")


def test_rfm_summary_rejects_unknown_time_unit_and_too_early_end():
    with pytest.raises(ValueError, match=r"time_unit must be one of \('D', 'W'\)"):
        rfm_summary(_tx(), "cid", "when", time_unit="M")
    with pytest.raises(ValueError, match="no purchase on or before observation_period_end=2023-12-31"):
        rfm_summary(_tx(), "cid", "when", observation_period_end="2023-12-31")


def test_calibration_holdout_summary_rejects_holdout_before_calibration():
    with pytest.raises(ValueError, match="holdout_end .* must be after calibration_end"):
        calibration_holdout_summary(_tx(), "cid", "when", calibration_end="2024-01-10", holdout_end="2024-01-10")
