"""The comparison at a cut: the hybrid's P(buy) calibrated to BG/NBD's expected buyers, the backtests' skipping."""

import numpy as np
import pandas as pd
import pytest

from clvlib.models.calibration import expected_buyers
from clvlib.models.compare import calibrate_hybrid, compare_backtests

PARAMS = {"r": 0.5, "alpha": 50.0, "a": 0.8, "b": 2.5}  # BG/NBD in days


def test_the_hybrid_is_calibrated_to_bgnbds_expected_buyers_keeping_ranking_and_spend():
    features = pd.DataFrame({"customer_unique_id": ["a", "b", "c", "d"], "frequency": [0, 1, 3, 0],
                             "recency": [0.0, 40.0, 200.0, 0.0], "T": [30.0, 100.0, 250.0, 400.0]})
    p = np.array([0.30, 0.20, 0.60, 0.05])
    spend = np.array([100.0, 50.0, 80.0, 10.0])
    scores = pd.DataFrame({"customer_unique_id": features["customer_unique_id"], "hybrid:rfm": p * spend, "p_buy:rfm": p})
    info = {"rfm": {}}
    calibrate_hybrid(scores, info, PARAMS, features, 180)
    target = expected_buyers(PARAMS, features[["customer_unique_id", "frequency", "recency", "T"]], 180.0)
    assert scores["p_buy:rfm"].sum() == pytest.approx(target, rel=1e-9)
    assert list(np.argsort(scores["p_buy:rfm"].to_numpy())) == list(np.argsort(p))  # ranking by P(buy) kept
    np.testing.assert_allclose(scores["hybrid:rfm"] / scores["p_buy:rfm"], spend)  # spend if they buy unchanged
    assert info["rfm"]["calibration"]["buyers_before"] == pytest.approx(1.15)
    assert info["rfm"]["calibration"]["target_buyers"] == pytest.approx(target, abs=1e-3)


def test_an_earlier_backtest_the_data_cannot_support_is_skipped_but_the_holdout_is_not(monkeypatch):
    import clvlib.models.compare as compare

    def fake(snapshots, clicks, orders, w, variants, **kw):
        if w["cut"] == pd.Timestamp("2017-12-31"):
            raise ValueError("only 15 training customers bought in the label window")
        return w["cut"]

    monkeypatch.setattr(compare, "compare_at", fake)
    cuts = [{"cut": pd.Timestamp(c)} for c in ("2018-02-28", "2018-01-31", "2017-12-31")]
    results, skipped = compare_backtests(None, None, None, cuts, [], keep_earlier=True)
    assert results == [pd.Timestamp("2018-02-28"), pd.Timestamp("2018-01-31")]
    assert skipped == ["The backtest at 2017-12-31 was skipped: only 15 training customers bought in the label window"]
    with pytest.raises(ValueError, match="only 15 training customers"):
        compare_backtests(None, None, None, cuts[2:], [])


def test_an_earlier_backtest_keeps_only_what_the_backtest_table_needs(monkeypatch):
    import clvlib.models.compare as compare

    def fake(snapshots, clicks, orders, w, variants, **kw):
        people = pd.DataFrame({"customer_unique_id": ["a", "b"], "frequency": [0, 2], "recency": [0.0, 9.0]})
        return compare.CutResult(windows=w, features=people, scores=people[["customer_unique_id"]].assign(x=1.0),
                                 fitted={"bgnbd": object()}, predictions={"bgnbd": people}, params=pd.DataFrame(),
                                 hybrid_scores=people[["customer_unique_id"]].assign(**{"p_buy:rfm": 0.1}),
                                 covariates={"bgnbd+cov": people})

    monkeypatch.setattr(compare, "compare_at", fake)
    cuts = [{"cut": pd.Timestamp(c), "holdout_end": pd.Timestamp("2018-08-31")} for c in ("2018-02-28", "2018-01-31")]
    (latest, earlier), _ = compare_backtests(None, None, None, cuts, [])
    assert list(latest.features.columns) == ["customer_unique_id", "frequency", "recency"] and latest.fitted
    assert list(earlier.features.columns) == ["customer_unique_id", "frequency"]
    assert earlier.fitted == {} and earlier.predictions == {} and earlier.covariates == {}
    assert list(earlier.hybrid_scores.columns) == ["customer_unique_id"]
    assert earlier.scores["x"].tolist() == [1.0, 1.0] and earlier.windows == cuts[1]
    assert compare.cut_table([earlier])["share who bought on 2+ days"].tolist() == [0.5]
    (_, kept), _ = compare_backtests(None, None, None, cuts, [], keep_earlier=True)
    assert "recency" in kept.features.columns and kept.fitted
