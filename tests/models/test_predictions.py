"""The per-customer tables of stage 05, on hand-built inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.models.predictions import predictions_table, scores_table, segment_customers, segment_summary
from clvlib.models.scores import BASELINE, hybrid_column, model_label, p_buy_column, primary_hybrid, variant_name


def _btyd(values):
    ids = [f"c{i}" for i in range(len(values))]
    return pd.DataFrame({"customer_unique_id": ids, "expected_purchases": 0.1, "p_alive": 0.5, "expected_spend": 100.0,
                         "predicted_value": values, "clv_lifetime": np.asarray(values) * 4})


def test_model_identities_are_built_and_read_in_one_place():
    assert variant_name("rfm+olist+click", "key") == "rfm+olist+click[key]"
    assert primary_hybrid(True) == hybrid_column("rfm+olist+click[key]")
    assert primary_hybrid(False) == "hybrid:rfm+olist"
    assert p_buy_column("rfm") == "p_buy:rfm" and BASELINE == "btyd:bgnbd"
    assert model_label("hybrid:rfm+olist") == "Hybrid GBM: rfm+olist"
    assert model_label("btyd:pnbd") == "Pareto/NBD x Gamma-Gamma"


def test_segments_split_ten_customers_into_deciles_in_order_of_value():
    decile, segment = segment_customers(pd.Series([5.0, 9, 1, 7, 3, 8, 2, 6, 4, 0]))
    assert decile.tolist() == [5, 1, 9, 3, 7, 2, 8, 4, 6, 10]
    assert segment[decile == 1].tolist() == ["top 10%: target"]
    assert (segment[decile.isin([2, 3])] == "next 20%: nurture").all()


def test_predictions_table_takes_the_primary_hybrid_and_ranks_by_it():
    bg, pn = _btyd([1.0, 2.0, 3.0]), _btyd([10.0, 20.0, 30.0])
    hyb = pd.DataFrame({"customer_unique_id": ["c0", "c1", "c2"], "hybrid:rfm+olist": [9.0, 1.0, 5.0],
                        "p_buy:rfm+olist": [0.9, 0.1, 0.5], "hybrid:rfm": [0.0, 0.0, 0.0], "p_buy:rfm": [0.0, 0.0, 0.0]})
    out = predictions_table({"bgnbd": bg, "pnbd": pn}, hyb, "hybrid:rfm+olist")
    assert out["predicted_value_hybrid"].tolist() == [9.0, 1.0, 5.0]
    assert out["p_buy_hybrid"].tolist() == [0.9, 0.1, 0.5]
    assert out["predicted_value_pnbd"].tolist() == [10.0, 20.0, 30.0]
    assert out.loc[0, "segment"] == "top 10%: target"
    scores = scores_table(pd.DataFrame({"customer_unique_id": ["c2", "c0", "c1"], "calibration_spend": [7.0, 8.0, 9.0]}),
                          out, hyb)
    assert list(scores.columns) == ["customer_unique_id", "calibration_spend", "btyd:bgnbd", "btyd:pnbd",
                                    "hybrid:rfm+olist", "hybrid:rfm"]
    assert scores.set_index("customer_unique_id").loc["c2", "btyd:bgnbd"] == 3.0
    assert segment_summary(out)["customers"].sum() == 3


def test_an_unknown_primary_hybrid_is_refused():
    hyb = pd.DataFrame({"customer_unique_id": ["c0"], "hybrid:rfm": [1.0], "p_buy:rfm": [0.5]})
    with pytest.raises(ValueError, match="primary hybrid 'hybrid:rfm\\+olist' is not among"):
        predictions_table({"bgnbd": _btyd([1.0]), "pnbd": _btyd([1.0])}, hyb, "hybrid:rfm+olist")
