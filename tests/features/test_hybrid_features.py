"""Hybrid features: join, cross ratios and explicit missing values."""

from __future__ import annotations

import pandas as pd
import pytest

from clvlib.features.hybrid import hybrid_features, missing_report


def test_cross_ratios_and_missing_values_are_explicit():
    customers = pd.DataFrame({"customer_unique_id": ["a", "b", "c"], "frequency": [2, 1, 1],
                              "total_spent": [100.0, 30.0, 5.0]})
    users = pd.DataFrame({"UserID": [1, 2], "total_events": [50, 0], "sessions": [10, 0],
                          "total_purchase_amount": [200.0, 0.0], "mean_purchase_amount": [50.0, None]})
    mapping = pd.DataFrame({"customer_unique_id": ["a", "b"], "UserID": [1, 2]})
    h = hybrid_features(customers, users, mapping).set_index("customer_unique_id")
    assert list(h.index) == ["a", "b"]  # c is not linked
    assert h.loc["a", "spend_per_event"] == 2.0
    assert h.loc["a", "orders_per_session"] == 0.2
    assert h.loc["a", "clickstream_purchase_ratio"] == 0.5
    assert pd.isna(h.loc["b", "spend_per_event"])  # 0 events: undefined, not 0 and not inf
    assert pd.isna(h.loc["b", "click_mean_purchase_amount"])
    rep = missing_report(h.reset_index()).set_index("column")
    assert rep.loc["spend_per_event", "missing"] == 1
    assert "division by zero" in rep.loc["spend_per_event", "handling"]
    assert rep.loc["frequency", "handling"] == "complete"


def test_mapping_with_repeated_customer_is_refused():
    customers = pd.DataFrame({"customer_unique_id": ["a"], "frequency": [1], "total_spent": [1.0]})
    users = pd.DataFrame({"UserID": [1, 2], "total_events": [1, 1], "sessions": [1, 1], "total_purchase_amount": [0.0, 0.0]})
    with pytest.raises(ValueError, match="each customer and each user may appear only once"):
        hybrid_features(customers, users, pd.DataFrame({"customer_unique_id": ["a", "a"], "UserID": [1, 2]}))


def test_missing_input_column_is_named():
    with pytest.raises(ValueError, match=r"customers table: missing column\(s\) \['total_spent'\]"):
        hybrid_features(pd.DataFrame({"customer_unique_id": ["a"], "frequency": [1]}),
                        pd.DataFrame({"UserID": [1], "total_events": [1], "sessions": [1], "total_purchase_amount": [0.0]}),
                        pd.DataFrame({"customer_unique_id": ["a"], "UserID": [1]}))
