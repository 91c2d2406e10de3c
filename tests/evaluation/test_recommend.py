"""Tests for clvlib.evaluation.recommend: the baseline is kept unless a model beats it reliably."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.evaluation.recommend import Contender, Recommendation, recommend

NAN = np.nan


def metrics(rows: list[tuple[str, float, float, float, float]]) -> pd.DataFrame:
    """A metrics table from (model, normalized_gini, diff, diff_low, diff_high) rows."""
    return pd.DataFrame(rows, columns=["model", "normalized_gini", "diff_vs_bgnbd", "diff_low", "diff_high"])


def test_the_baseline_is_kept_when_no_interval_lies_above_zero():
    table = metrics([
        ("calibration_spend", 0.30, -0.10, -0.15, -0.05),
        ("btyd:bgnbd", 0.40, NAN, NAN, NAN),
        ("hybrid:rfm", 0.43, 0.03, -0.01, 0.07),  # higher, but the interval includes 0
        ("hybrid:rfm+details", 0.40, 0.00, 0.00, 0.02),  # diff_low == 0 is not above zero
    ])
    rec = recommend(table)
    assert rec == Recommendation(
        pick="btyd:bgnbd", reliable=False, baseline="btyd:bgnbd",
        ahead=(Contender("hybrid:rfm", 0.03, -0.01, 0.07),),
    )


def test_a_model_whose_interval_lies_above_zero_is_recommended():
    table = metrics([
        ("btyd:bgnbd", 0.40, NAN, NAN, NAN),
        ("hybrid:rfm", 0.45, 0.05, 0.01, 0.09),
    ])
    rec = recommend(table)
    assert (rec.pick, rec.reliable) == ("hybrid:rfm", True)


def test_among_several_reliable_models_the_highest_gini_is_chosen():
    table = metrics([
        ("btyd:bgnbd", 0.40, NAN, NAN, NAN),
        ("hybrid:rfm", 0.45, 0.05, 0.01, 0.09),
        ("hybrid:rfm+details", 0.50, 0.10, 0.02, 0.18),  # the highest reliable one
        ("hybrid:rfm+details+click[rank]", 0.55, 0.15, -0.01, 0.30),  # higher still, but not reliable
    ])
    rec = recommend(table)
    assert (rec.pick, rec.reliable) == ("hybrid:rfm+details", True)
    assert rec.ahead == (Contender("hybrid:rfm+details+click[rank]", 0.15, -0.01, 0.30),)


def test_the_truth_is_never_chosen_nor_listed_as_ahead():
    table = metrics([
        ("btyd:bgnbd", 0.40, NAN, NAN, NAN),
        ("truth", 0.70, 0.30, 0.20, 0.40),
    ])
    assert recommend(table) == Recommendation("btyd:bgnbd", False, "btyd:bgnbd", ())
    with_model = pd.concat([table, metrics([("hybrid:rfm", 0.45, 0.05, 0.01, 0.09)])], ignore_index=True)
    assert recommend(with_model).pick == "hybrid:rfm"


def test_the_recommendation_is_frozen():
    rec = recommend(metrics([("btyd:bgnbd", 0.40, NAN, NAN, NAN)]))
    with pytest.raises(AttributeError):
        rec.pick = "truth"


def test_a_missing_baseline_row_is_refused():
    table = metrics([("hybrid:rfm", 0.45, 0.05, 0.01, 0.09)])
    with pytest.raises(ValueError, match=r"no row for the baseline 'btyd:bgnbd' \(models: \['hybrid:rfm'\]\)"):
        recommend(table)


def test_a_table_without_the_bootstrap_columns_is_refused():
    table = pd.DataFrame({"model": ["btyd:bgnbd"], "normalized_gini": [0.4]})
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['diff_vs_bgnbd', 'diff_low', 'diff_high'\]"):
        recommend(table)


def test_a_baseline_other_than_the_one_the_differences_are_relative_to_is_refused():
    table = metrics([
        ("btyd:bgnbd", 0.40, NAN, NAN, NAN),
        ("btyd:pnbd", 0.42, 0.02, -0.01, 0.05),
    ])
    with pytest.raises(ValueError, match="relative to another model"):
        recommend(table, baseline="btyd:pnbd")


def test_duplicate_model_rows_are_refused():
    table = metrics([("btyd:bgnbd", 0.40, NAN, NAN, NAN), ("btyd:bgnbd", 0.41, NAN, NAN, NAN)])
    with pytest.raises(ValueError, match=r"several rows for model\(s\) \['btyd:bgnbd'\]"):
        recommend(table)


def test_an_excluded_baseline_is_refused():
    with pytest.raises(ValueError, match="is also in exclude"):
        recommend(metrics([("btyd:bgnbd", 0.40, NAN, NAN, NAN)]), exclude=("btyd:bgnbd",))
