"""clvlib.evaluation.holdout: the holdout's actual spend beside the scores, in the scores' order."""

import pandas as pd
import pytest

from clvlib.evaluation.holdout import holdout_scores

ORDERS = pd.DataFrame({"customer_unique_id": ["a", "b", "a", "c"], "order_id": ["o1", "o2", "o3", "o4"],
                       "order_purchase_timestamp": pd.to_datetime(["2018-01-05", "2018-01-09", "2018-03-02", "2018-04-10"]),
                       "order_value": [10.0, 20.0, 30.0, 40.0]})
META = {"cutoff": "2018-02-28", "holdout_end": "2018-08-31"}


def test_the_holdout_spend_follows_the_scores_order_and_counts_only_the_window():
    scores = pd.DataFrame({"customer_unique_id": ["b", "a"], "btyd:bgnbd": [1.0, 2.0]})
    y, S = holdout_scores(ORDERS, scores, META)
    assert y.tolist() == [0.0, 30.0]  # b bought nothing after the cut; a's January order is before it
    assert list(S.columns) == ["btyd:bgnbd"] and S["btyd:bgnbd"].tolist() == [1.0, 2.0]


def test_scores_made_before_the_rename_of_the_order_details_set_are_refused():
    scores = pd.DataFrame({"customer_unique_id": ["a"], "hybrid:rfm+olist": [1.0], "p_buy:rfm+olist": [0.1]})
    with pytest.raises(ValueError, match=r"named by an older version: \['hybrid:rfm\+olist', 'p_buy:rfm\+olist'\].*"
                                         r"Rerun from stage 05: python run_all.py --from 05"):
        holdout_scores(ORDERS, scores, META)
