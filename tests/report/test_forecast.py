"""The forecast's answer: figures from a hand-made CLV table and backtest, and the words built from them."""

import pandas as pd
import pytest

from clvlib.models.predictions import clv_table_for
from clvlib.report.forecast import forecast_facts, forecast_text, run_metrics


def _clv():
    scores = pd.DataFrame({"customer_unique_id": [f"c{i}" for i in range(20)], "btyd:bgnbd": [float(i) for i in range(20)]})
    bgnbd = pd.DataFrame({"customer_unique_id": scores["customer_unique_id"], "expected_purchases": 0.1, "p_alive": 0.5,
                          "expected_spend": 50.0, "predicted_value": scores["btyd:bgnbd"], "clv_lifetime": 1.0})
    return clv_table_for("btyd:bgnbd", scores, bgnbd, 181)


METRICS = {"holdout": {"people": 1000, "buyers": 12, "start": "2018-02-28", "end": "2018-08-31"},
           "backtest": {"recommended": "btyd:bgnbd", "chosen_by": "no model ranked customers better than BG/NBD x "
                        "Gamma-Gamma at each of the 2 earlier cut-offs (2018-01-31, 2017-12-31), so it is kept.",
                        "cuts": ["2018-02-28", "2018-01-31", "2017-12-31"],
                        "summary": [{"model": "btyd:bgnbd", "top10_share_mean": 0.2, "top10_share_min": 0.15,
                                     "top10_share_max": 0.25, "normalized_gini_mean": 0.3, "ratio_min": 0.9, "ratio_max": 1.1},
                                    {"model": "calibration_spend", "top10_share_mean": 0.12}]}}


def test_the_clv_table_for_a_btyd_pick_ranks_by_it_and_leaves_p_buy_missing():
    clv = _clv()
    assert clv["customer_unique_id"].iloc[0] == "c19" and clv["decile"].iloc[:2].tolist() == [1, 1]
    assert clv["p_buy"].isna().all() and (clv["model"] == "BG/NBD x Gamma-Gamma").all()
    with pytest.raises(ValueError, match=r"no score column 'hybrid:rfm'"):
        clv_table_for("hybrid:rfm", pd.DataFrame({"customer_unique_id": ["a"], "btyd:bgnbd": [1.0]}), pd.DataFrame(), 181)


def test_the_facts_add_up_from_the_table_and_the_backtest():
    f = forecast_facts(_clv(), METRICS, "2018-08-31", "2019-02-28")
    assert (f["customers"], f["top_customers"], f["horizon_days"]) == (20, 2, 181)
    assert f["predicted_total"] == sum(range(20)) and f["predicted_top"] == 19 + 18
    assert f["top10_capture_mean"] == 0.2 and f["rule_top10_capture_mean"] == 0.12
    assert f["holdout_buyers_share"] == pytest.approx(0.012)
    assert f["holdout_days"] == 184  # the latest backtest's window, not the forecast's 181 days


def test_the_answer_names_who_what_why_and_how_sure():
    text = forecast_text(forecast_facts(_clv(), METRICS, "2018-08-31", "2019-02-28"))
    assert "**Who to target from 2018-08-31:** the first **2 customers**" in text
    assert "(to 2019-02-28) they are predicted to spend **37 BRL**, 19% of the 190 BRL predicted for everyone" in text
    assert "**Why this model:** No model ranked customers better" in text
    assert "captured on average **20%** of the revenue of the window after each (from 15% to 25%), against 12%" in text
    assert "0.90 to 1.10 times" in text and "only 1.2% of customers bought again within 184 days" in text


def test_run_metrics_puts_the_forecast_beside_the_evaluation():
    evaluation = {"holdout": {"start": "2018-02-28"}, "models": {"btyd:bgnbd": {"normalized_gini": 0.3}}}
    forecast = {"model": "btyd:bgnbd", "predicted_total": 1234.5, "text": "Contact ..."}
    out = run_metrics(evaluation, forecast)
    assert list(out) == ["holdout", "models", "forecast"] and out["forecast"] == forecast
    assert out["forecast"] is not forecast and "forecast" not in evaluation  # copies: the inputs are unchanged


@pytest.mark.parametrize(("evaluation", "forecast", "match"), [
    ({"models": {}}, {"predicted_total": 1.0}, "has no 'holdout'; pass stage 06's data/evaluation.json .keys given: models"),
    ({"holdout": {}, "forecast": {}}, {"predicted_total": 1.0}, "already has a 'forecast': it is a metrics.json"),
    ({"holdout": {}}, {"text": "..."}, "has no 'predicted_total'"),
])
def test_run_metrics_refuses_what_is_not_an_evaluation_and_a_forecast(evaluation, forecast, match):
    with pytest.raises(ValueError, match=match):
        run_metrics(evaluation, forecast)
