"""Tests for clvlib.evaluation.summary: the ceiling and stage 06's evaluation record (the body of metrics.json)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from clvlib.evaluation.summary import ceiling_gini, ceiling_shares, metrics_record

NAN = np.nan
TABLE = pd.DataFrame({
    "model": ["btyd:bgnbd", "hybrid:rfm", "truth"],
    "name": ["BG/NBD x Gamma-Gamma", "Hybrid GBM: rfm", "Hidden true expected value (ceiling)"],
    "normalized_gini": [0.25, 0.40, 0.50],
    "diff_vs_bgnbd": [NAN, 0.15, 0.25],
})


def test_ceiling_gini_is_the_truth_rows_normalized_gini_or_none_without_truth():
    assert ceiling_gini(TABLE) == 0.5
    assert ceiling_gini(TABLE[TABLE["model"] != "truth"]) is None


def test_ceiling_shares_divide_each_gini_by_the_truths():
    expected = pd.DataFrame({
        "name": TABLE["name"],
        "normalized_gini": [0.25, 0.40, 0.50],
        "share_of_ceiling": [0.5, 0.8, 1.0],  # 0.25 / 0.5, 0.40 / 0.5, 0.50 / 0.5
    })
    pd.testing.assert_frame_equal(ceiling_shares(TABLE), expected)


def test_ceiling_shares_need_a_truth_row():
    with pytest.raises(ValueError, match="has no 'truth' row; the ceiling exists only on the demo data"):
        ceiling_shares(TABLE[TABLE["model"] != "truth"])


def test_ceiling_shares_need_a_positive_ceiling():
    table = TABLE.assign(normalized_gini=[0.25, 0.40, 0.0])
    with pytest.raises(ValueError, match="is 0, not positive"):
        ceiling_shares(table)


def record(**overrides):
    args = dict(
        holdout_start="2018-03-01",
        holdout_end="2018-08-31",
        y_true=np.array([0.0, 10.0, 0.0, 30.0, 0.0]),
        n_boot=1000,
        seed=0,
        demo=True,
        table=TABLE,
        boot=pd.DataFrame({"model": ["btyd:bgnbd"], "metric": ["normalized_gini"], "estimate": [0.25],
                           "diff": [NAN]}),
        placebo=pd.DataFrame(columns=["link", "added_by_click"]),
        ceiling=0.5,
        deciles={"btyd:bgnbd": pd.DataFrame({"bin": [1, 2], "n": [3, 2]})},
    )
    return metrics_record(**(args | overrides))


def test_metrics_record_has_the_keys_of_metrics_json():
    rec = record()
    assert list(rec) == ["holdout", "n_boot", "seed", "baseline", "demo", "models", "bootstrap", "placebo",
                         "ceiling_gini", "deciles"]
    assert rec["holdout"] == {"start": "2018-03-01", "end": "2018-08-31", "people": 5, "buyers": 2, "revenue": 40.0}
    assert (rec["n_boot"], rec["seed"], rec["baseline"], rec["demo"], rec["ceiling_gini"]) == (
        1000, 0, "btyd:bgnbd", True, 0.5)
    assert list(rec["models"]) == ["btyd:bgnbd", "hybrid:rfm", "truth"]
    assert rec["models"]["hybrid:rfm"] == {"name": "Hybrid GBM: rfm", "normalized_gini": 0.40, "diff_vs_bgnbd": 0.15,
                                           "share_of_ceiling": 0.8}  # 0.40 / 0.50, the truth's Gini
    assert rec["placebo"] == []
    assert rec["deciles"] == {"btyd:bgnbd": [{"bin": 1, "n": 3}, {"bin": 2, "n": 2}]}


def test_metrics_record_turns_nan_in_the_model_rows_into_none():
    rec = record()
    assert rec["models"]["btyd:bgnbd"]["diff_vs_bgnbd"] is None
    json.dumps(rec["models"], allow_nan=False)  # strict JSON: no NaN left in the model rows
    # the bootstrap records stay as bootstrap() made them (NaN); write_json_atomic writes NaN as null
    assert np.isnan(rec["bootstrap"][0]["diff"])


def test_metrics_record_on_real_data_has_no_ceiling():
    rec = record(ceiling=None, demo=False, table=TABLE[TABLE["model"] != "truth"])
    assert rec["ceiling_gini"] is None
    assert not any("share_of_ceiling" in m or "share_of_observable" in m for m in rec["models"].values())


def test_metrics_record_gives_every_models_share_of_both_demo_ceilings():
    table = pd.concat([TABLE, pd.DataFrame({"model": ["observable"], "name": ["Best prediction from observable data"],
                                            "normalized_gini": [0.32], "diff_vs_bgnbd": [0.07]})], ignore_index=True)
    models = record(table=table)["models"]
    # hand-checked: Gini / 0.50 (the traits' ceiling) and Gini / 0.32 (the observable one)
    assert models["btyd:bgnbd"]["share_of_ceiling"] == 0.5 and models["btyd:bgnbd"]["share_of_observable"] == 0.78125
    assert models["hybrid:rfm"]["share_of_ceiling"] == 0.8 and models["hybrid:rfm"]["share_of_observable"] == 1.25
    assert models["observable"]["share_of_observable"] == 1.0 and models["truth"]["share_of_ceiling"] == 1.0


def test_metrics_record_refuses_a_ceiling_without_the_truth_row():
    with pytest.raises(ValueError, match="has no 'truth' row"):
        record(table=TABLE[TABLE["model"] != "truth"])


def test_metrics_record_refuses_a_nan_ceiling():
    with pytest.raises(ValueError, match="ceiling is NaN; pass None"):
        record(ceiling=NAN)


def test_metrics_record_carries_the_marketer_answer_when_given():
    answer = {"text": "\n- **Who to target:** ...\n", "model": "btyd:bgnbd", "top10_share": 0.35}
    rec = record(marketer=answer)
    assert list(rec)[-1] == "marketer" and rec["marketer"] == answer
    assert rec["marketer"] is not answer  # a copy: changing the record does not change the caller's dict
    assert "marketer" not in record()


def test_top_predicted_revenue_sums_the_top_tenth_pro_rata():
    from clvlib.evaluation.summary import top_predicted_revenue

    scores = pd.DataFrame({"btyd:bgnbd": [1.0, 5.0, 3.0, 2.0, 4.0], "calibration_spend": [9.0] * 5})
    # top 30% of 5 customers = 1.5 customers: 5 + half of 4 = 7
    assert top_predicted_revenue(scores, "btyd:bgnbd", frac=0.3) == 7.0
    assert top_predicted_revenue(scores, "btyd:bgnbd", frac=1.0) == 15.0
    assert top_predicted_revenue(scores, "calibration_spend") is None  # past spend is not a forecast
    with pytest.raises(ValueError, match=r"frac must be in \(0, 1\]"):
        top_predicted_revenue(scores, "btyd:bgnbd", frac=0)
