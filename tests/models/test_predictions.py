"""The per-customer tables of stage 05, on hand-built inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.models.predictions import (SEGMENT_MEANINGS, clv_table, predictions_table, scores_table, segment_customers,
                                      segment_summary)
from clvlib.models.scores import BASELINE, hybrid_column, model_label, p_buy_column, primary_hybrid, variant_name


def _btyd(values):
    ids = [f"c{i}" for i in range(len(values))]
    return pd.DataFrame({"customer_unique_id": ids, "expected_purchases": 0.1, "p_alive": 0.5, "expected_spend": 100.0,
                         "predicted_value": values, "clv_lifetime": np.asarray(values) * 4})


def test_model_identities_are_built_and_read_in_one_place():
    assert variant_name("rfm+details+click", "key") == "rfm+details+click[key]"
    assert primary_hybrid(True) == hybrid_column("rfm+details+click[key]")
    assert primary_hybrid(False) == "hybrid:rfm+details"
    assert p_buy_column("rfm") == "p_buy:rfm" and BASELINE == "btyd:bgnbd"
    assert model_label("hybrid:rfm+details") == "Hybrid GBM: rfm+details"
    assert model_label("btyd:pnbd") == "Pareto/NBD x Gamma-Gamma"


def test_segments_split_ten_customers_into_deciles_in_order_of_value():
    decile, segment = segment_customers(pd.Series([5.0, 9, 1, 7, 3, 8, 2, 6, 4, 0]))
    assert decile.tolist() == [5, 1, 9, 3, 7, 2, 8, 4, 6, 10]
    assert segment[decile == 1].tolist() == ["top 10%: target"]
    assert (segment[decile.isin([2, 3])] == "next 20%: nurture").all()


def test_predictions_table_takes_the_primary_hybrid_and_ranks_by_it():
    bg, pn = _btyd([1.0, 2.0, 3.0]), _btyd([10.0, 20.0, 30.0])
    hyb = pd.DataFrame({"customer_unique_id": ["c0", "c1", "c2"], "hybrid:rfm+details": [9.0, 1.0, 5.0],
                        "p_buy:rfm+details": [0.9, 0.1, 0.5], "hybrid:rfm": [0.0, 0.0, 0.0], "p_buy:rfm": [0.0, 0.0, 0.0]})
    out = predictions_table({"bgnbd": bg, "pnbd": pn}, hyb, "hybrid:rfm+details")
    assert out["predicted_value_hybrid"].tolist() == [9.0, 1.0, 5.0]
    assert out["p_buy_hybrid"].tolist() == [0.9, 0.1, 0.5]
    assert out["predicted_value_pnbd"].tolist() == [10.0, 20.0, 30.0]
    assert out.loc[0, "segment"] == "top 10%: target"
    scores = scores_table(pd.DataFrame({"customer_unique_id": ["c2", "c0", "c1"], "calibration_spend": [7.0, 8.0, 9.0]}),
                          out, hyb)
    assert list(scores.columns) == ["customer_unique_id", "calibration_spend", "btyd:bgnbd", "btyd:pnbd",
                                    "hybrid:rfm+details", "hybrid:rfm"]
    assert scores.set_index("customer_unique_id").loc["c2", "btyd:bgnbd"] == 3.0
    assert segment_summary(out)["customers"].sum() == 3


def test_an_unknown_primary_hybrid_is_refused():
    hyb = pd.DataFrame({"customer_unique_id": ["c0"], "hybrid:rfm": [1.0], "p_buy:rfm": [0.5]})
    with pytest.raises(ValueError, match="primary hybrid 'hybrid:rfm\\+details' is not among"):
        predictions_table({"bgnbd": _btyd([1.0]), "pnbd": _btyd([1.0])}, hyb, "hybrid:rfm+details")


def _predictions(n: int = 10) -> pd.DataFrame:
    """n customers; the hybrid value of customer ci is 10 * i (so c9 is the top decile)."""
    bg = _btyd([float(i) for i in range(n)]).assign(predicted_value_low=0.0, predicted_value_high=99.0)
    hyb = pd.DataFrame({"customer_unique_id": [f"c{i}" for i in range(n)],
                        "hybrid:rfm+details": [10.0 * i for i in range(n)], "p_buy:rfm+details": [i / 100 for i in range(n)]})
    return predictions_table({"bgnbd": bg, "pnbd": bg}, hyb, "hybrid:rfm+details")


def test_clv_table_has_one_row_per_customer_highest_value_first_with_its_meaning():
    out = clv_table(_predictions(), "Hybrid GBM: rfm+details", horizon_days=184)
    assert list(out.columns) == ["customer_unique_id", "predicted_value", "p_buy", "predicted_value_bgnbd",
                                 "predicted_value_bgnbd_low", "predicted_value_bgnbd_high", "expected_purchases_bgnbd",
                                 "p_alive", "decile", "segment", "segment_meaning", "model", "horizon_days"]
    assert out["customer_unique_id"].tolist()[:3] == ["c9", "c8", "c7"]
    assert out["predicted_value"].tolist()[:3] == [90.0, 80.0, 70.0]
    assert out["predicted_value_bgnbd"].tolist()[:3] == [9.0, 8.0, 7.0]
    assert out["decile"].tolist() == list(range(1, 11))
    assert out.loc[0, "segment_meaning"] == SEGMENT_MEANINGS["top 10%: target"]
    assert (out["model"] == "Hybrid GBM: rfm+details").all() and (out["horizon_days"] == 184).all()


def test_clv_table_refuses_a_table_without_the_predictions_columns():
    with pytest.raises(ValueError, match=r"lack column\(s\) \['decile', 'segment'\]"):
        clv_table(_predictions().drop(columns=["decile", "segment"]), "m", 184)


def test_segment_summary_adds_up_predicted_and_actual_revenue_per_segment():
    table = clv_table(_predictions(), "m", 184)
    # top 10% = c9 (90); next 20% = c8, c7 (80 + 70 = 150); bottom 70% = c0..c6 (0 + 10 + ... + 60 = 210); total 450
    actual = pd.Series({"c9": 30.0, "c0": 10.0, "zz": 99.0})  # c0 is in the bottom segment; zz is not a customer
    out = segment_summary(table, actual)
    assert out["segment"].tolist() == ["top 10%: target", "next 20%: nurture", "bottom 70%: low expected value"]
    assert out["customers"].tolist() == [1, 2, 7]
    assert out["predicted_revenue"].tolist() == [90.0, 150.0, 210.0]
    assert out["share_of_predicted"].tolist() == pytest.approx([0.2, 1 / 3, 210 / 450])
    assert out["actual_revenue"].tolist() == [30.0, 0.0, 10.0]
    assert out["share_of_actual"].tolist() == pytest.approx([0.75, 0.0, 0.25])
    assert "actual_revenue" not in segment_summary(table).columns


def test_decile_revenue_adds_up_predicted_and_actual_per_decile():
    from clvlib.models.predictions import decile_revenue

    table = clv_table(_predictions(), "m", 184)
    out = decile_revenue(table, pd.Series({"c9": 30.0, "c0": 10.0}))
    assert out["bin"].tolist() == list(range(1, 11)) and out["n"].tolist() == [1] * 10
    assert out["sum_predicted"].tolist() == [90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 20.0, 10.0, 0.0]
    assert out["sum_actual"].tolist() == [30.0] + [0.0] * 8 + [10.0]
    assert list(decile_revenue(table).columns) == ["bin", "n", "sum_predicted"]


def test_predictions_table_names_each_models_interval_after_the_model():
    from clvlib.models.predictions import prediction_intervals

    bg = _btyd([1.0, 2.0]).assign(predicted_value_low=0.5, predicted_value_high=3.0)
    first = _btyd([4.0, 5.0]).assign(predicted_value_low=[1.0, 2.0], predicted_value_high=[8.0, 9.0])
    hyb = pd.DataFrame({"customer_unique_id": ["c0", "c1"], "hybrid:rfm": [1.0, 2.0], "p_buy:rfm": [0.1, 0.2]})
    out = predictions_table({"bgnbd": bg, "pnbd": _btyd([6.0, 7.0]), "bgnbd+first": first}, hyb, "hybrid:rfm")
    assert out["predicted_value_bgnbd+first_low"].tolist() == [1.0, 2.0]
    assert out["predicted_value_bgnbd+first_high"].tolist() == [8.0, 9.0]
    assert out["predicted_value_low"].tolist() == [0.5, 0.5]  # BG/NBD's, next to its predicted_value
    assert "predicted_value_pnbd_low" not in out.columns  # Pareto/NBD without an interval: its value only
    assert prediction_intervals(out) == {"bgnbd": ("predicted_value_low", "predicted_value_high"),
                                         "bgnbd+first": ("predicted_value_bgnbd+first_low", "predicted_value_bgnbd+first_high")}
    pn = _btyd([6.0, 7.0]).assign(predicted_value_low=[2.0, 3.0], predicted_value_high=[11.0, 12.0])
    out = predictions_table({"bgnbd": bg, "pnbd": pn}, hyb, "hybrid:rfm")  # with its own interval: named after it
    assert out["predicted_value_pnbd_low"].tolist() == [2.0, 3.0] and out["predicted_value_pnbd_high"].tolist() == [11.0, 12.0]
    assert prediction_intervals(out)["pnbd"] == ("predicted_value_pnbd_low", "predicted_value_pnbd_high")


@pytest.mark.parametrize("pick, model, words", [
    ("btyd:bgnbd", "bgnbd", "interval of the chosen model, BG/NBD x Gamma-Gamma,"),
    ("btyd:bgnbd+first", "bgnbd+first", "interval of the chosen model, BG/NBD x Gamma-Gamma with the first order,"),
    ("btyd:bgnbd+cov", "bgnbd+cov", "`predicted_value_bgnbd+cov_low` / `predicted_value_bgnbd+cov_high` are the "
                                    "interval of the chosen model, BG/NBD with covariates x Gamma-Gamma with the first order,"),
    ("btyd:pnbd", "pnbd", "interval of the chosen model, Pareto/NBD x Gamma-Gamma,"),
    ("hybrid:rfm+details", "pnbd", "the table carries the interval of Pareto/NBD x Gamma-Gamma, the model that lets a "
                                   "one-time buyer leave (BG/NBD counts every one as alive): `predicted_value_pnbd_low` / "
                                   "`predicted_value_pnbd_high`, which go with that model's own value `predicted_value_pnbd`, "
                                   "not with `predicted_value`."),
    ("calibration_spend", "pnbd", "(it is a ranking rule, not a probability model), so the table carries the interval "
                                  "of Pareto/NBD x Gamma-Gamma"),
], ids=["bgnbd", "all-orders", "covariates", "pareto-nbd", "hybrid", "simple-rule"])
def test_the_forecast_carries_the_chosen_models_interval_or_says_which_stands_in(pick, model, words):
    from clvlib.models.predictions import forecast_interval_model, forecast_interval_text

    got, sentence = forecast_interval_model(pick)
    assert got == model and words in sentence
    text = forecast_interval_text(pick, {"bgnbd": "NOTE-B.", model: "NOTE-M, of the customer's true expected value."})
    assert "NOTE-M, of the customer's true expected value." in text  # one note when the model is BG/NBD and "`predicted_value_bgnbd_low`" in text
    assert "stand" not in text and ("has no per-customer interval" in text) == (model != pick.removeprefix("btyd:"))
    assert "the value lies above the interval's upper end" in text and "On this demo" not in text


def test_the_forecast_says_how_often_the_interval_it_carries_held_the_demos_truth():
    from clvlib.models.predictions import forecast_interval_text, prediction_interval_text

    cov = [{"customers": "all customers", "coverage": 0.466}, {"customers": "one-time buyers", "coverage": 0.459},
           {"customers": "repeat buyers", "coverage": 0.923}]
    text = forecast_interval_text("hybrid:rfm", {"pnbd": "NOTE-P, of the customer's true expected value."},
                                  coverage={"pnbd": cov, "bgnbd": None})  # the coverage of the interval carried
    assert ("On this demo, where the truth is known, it held the true expected value of 47% of customers at the latest "
            "backtest (one-time buyers 46%, repeat buyers 92%); stage 06 says why.") in text
    assert "On this demo" not in forecast_interval_text("hybrid:rfm", {"pnbd": "NOTE-P, of the customer's true expected value."},
                                                        coverage={"pnbd": None, "bgnbd": cov})
    assert prediction_interval_text({"bgnbd": "A 90% interval of the customer's true expected value."}).endswith(
        "above the interval's upper end.")
    assert "upper end" not in prediction_interval_text({"bgnbd": "No per-customer interval: MCMC."})
    # an MCMC fit's credible interval draws no customer's traits and holds its value: no such sentence
    mcmc = "The intervals are the MCMC fit's own credible intervals."
    assert "upper end" not in prediction_interval_text({"bgnbd": mcmc})
    assert "upper end" not in forecast_interval_text("btyd:bgnbd", {"bgnbd": mcmc})
    # an empty group's coverage is NaN, written as null in metrics.json: left out, not a crash
    partial = [{"customers": "all customers", "coverage": 0.5}, {"customers": "repeat buyers", "coverage": None}]
    assert "it held the true expected value of 50% of customers at the latest backtest; stage 06" in \
        forecast_interval_text("hybrid:rfm", {"pnbd": "NOTE-P, of the customer's true expected value."}, coverage={"pnbd": partial})


def test_the_forecast_says_so_when_the_chosen_models_interval_could_not_be_computed():
    from clvlib.models.predictions import forecast_interval_text

    failed = "No per-customer interval: the spend model was fitted by MCMC."
    text = forecast_interval_text("btyd:bgnbd+cov", {"bgnbd+cov": failed, "bgnbd": "NOTE-B."})
    assert text.startswith("BG/NBD with covariates x Gamma-Gamma with the first order has no per-customer interval in "
                           "this table. No per-customer interval: the spend model was fitted by MCMC.")
    assert "are the interval of the chosen model" not in text and text.endswith("`predicted_value_bgnbd`: NOTE-B.")


def test_clv_table_for_carries_another_models_value_and_interval_under_its_name():
    from clvlib.models.predictions import clv_table_for

    bg = _btyd([1.0, 2.0, 3.0]).assign(predicted_value_low=0.0, predicted_value_high=9.0)
    first = _btyd([30.0, 10.0, 20.0]).assign(predicted_value_low=[3.0, 1.0, 2.0], predicted_value_high=[60.0, 20.0, 40.0])
    scores = pd.DataFrame({"customer_unique_id": ["c0", "c1", "c2"], "btyd:bgnbd+first": [30.0, 10.0, 20.0]})
    out = clv_table_for("btyd:bgnbd+first", scores, bg, 184, intervals={"bgnbd+first": first.iloc[::-1]})
    assert list(out.columns[:9]) == ["customer_unique_id", "predicted_value", "p_buy", "predicted_value_bgnbd",
                                     "predicted_value_bgnbd_low", "predicted_value_bgnbd_high", "predicted_value_bgnbd+first",
                                     "predicted_value_bgnbd+first_low", "predicted_value_bgnbd+first_high"]
    assert out["customer_unique_id"].tolist() == ["c0", "c2", "c1"]
    assert out["predicted_value"].tolist() == out["predicted_value_bgnbd+first"].tolist() == [30.0, 20.0, 10.0]
    assert out["predicted_value_bgnbd+first_low"].tolist() == [3.0, 2.0, 1.0]
    assert (out["model"] == "BG/NBD x Gamma-Gamma with the first order").all()
    with pytest.raises(ValueError, match="BG/NBD's interval comes with `bgnbd`"):
        clv_table_for("btyd:bgnbd+first", scores, bg, 184, intervals={"bgnbd": bg})
