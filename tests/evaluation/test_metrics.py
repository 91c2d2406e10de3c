"""Tests for clvlib.evaluation.metrics: hand-checked Lorenz/Gini, ties, deciles, AUCs and the weighted kernel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from clvlib.evaluation.metrics import (
    _core_metrics,
    _rank_positives,
    classification_scores,
    decile_table,
    evaluate,
    gini,
    lorenz_curve,
    normalized_gini,
    top_share,
)

# Tiny example used throughout: four customers, two of them buyers.
Y4 = np.array([0.0, 0.0, 10.0, 30.0])
S4 = np.array([0.1, 0.3, 0.2, 0.4])  # order by score: customer 3 (30), 1 (0), 2 (10), 0 (0)


def zero_inflated(n: int = 4000, p_buy: float = 0.05, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < p_buy, rng.lognormal(3.0, 1.0, n), 0.0)


# --------------------------------------------------------------------------- Lorenz and Gini


def test_lorenz_curve_of_a_tiny_example_matches_the_hand_computation():
    # Sorted by score the values are 30, 0, 10, 0; total 40.
    # Cumulative shares after 1..4 customers: 30/40, 30/40, 40/40, 40/40.
    x, y = lorenz_curve(Y4, S4)
    np.testing.assert_allclose(x, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(y, [0, 0.75, 0.75, 1, 1])


def test_gini_of_a_tiny_example_matches_the_hand_computation():
    # Trapezoids of width 1/4 over the points above:
    # area = 0.25 * [(0+.75)/2 + (.75+.75)/2 + (.75+1)/2 + (1+1)/2] = 0.25 * 3 = 0.75
    # gini = 2 * 0.75 - 1 = 0.5
    assert gini(Y4, S4) == pytest.approx(0.5)
    # Perfect order 30, 10, 0, 0: shares .75, 1, 1, 1
    # area = 0.25 * [.375 + .875 + 1 + 1] = 0.8125 -> true gini = 0.625
    assert gini(Y4, Y4) == pytest.approx(0.625)
    assert normalized_gini(Y4, S4) == pytest.approx(0.5 / 0.625)  # = 0.8


def test_perfect_ranking_gives_normalized_gini_one():
    y = zero_inflated()
    assert normalized_gini(y, y) == pytest.approx(1.0)
    assert normalized_gini(y, np.sqrt(y) + 5) == pytest.approx(1.0)  # only the order matters


def test_reversed_ranking_of_a_tiny_example_gives_minus_one():
    # Score = -y: the two zeros tie at the top (x from 0 to .5, no value), then 10, then 30.
    # Points (0,0), (.5,0), (.75,.25), (1,1):
    # area = .5*0 + .25*(0+.25)/2 + .25*(.25+1)/2 = .03125 + .15625 = .1875
    # gini = 2*.1875 - 1 = -.625 and the true gini is .625 -> normalized -1.
    # (Exactly -1: the tie-aware trapezoid gini is antisymmetric, gini(y, -s) = -gini(y, s).
    # The ZILN reference code's right-endpoint sum, 2*mean(cum share) - 1, would give
    # raw -.375 and true .875 here, i.e. -0.43; that convention only tends to -1 as n grows.)
    assert gini(Y4, -Y4) == pytest.approx(-0.625)
    assert normalized_gini(Y4, -Y4) == pytest.approx(-1.0)
    y = zero_inflated()
    s = np.random.default_rng(1).normal(size=y.size)
    assert gini(y, -s) == pytest.approx(-gini(y, s))


def test_constant_score_gives_zero():
    y = zero_inflated()
    assert gini(y, np.full(y.size, 3.0)) == 0.0
    assert normalized_gini(y, np.zeros(y.size)) == 0.0
    x, share = lorenz_curve(y, np.ones(y.size))
    np.testing.assert_allclose(x, [0, 1])
    np.testing.assert_allclose(share, [0, 1])


def test_two_tied_customers_give_the_average_of_both_orderings():
    y = np.array([0.0, 10.0, 30.0, 0.0])
    s = np.array([0.5, 0.9, 0.5, 0.1])  # customers 0 (value 0) and 2 (value 30) tie
    # Ordering A (customer 0 first): 10, 0, 30, 0 -> shares .25, .25, 1, 1
    #   area = .25*[.125 + .25 + .625 + 1] = .5     -> gini 0
    # Ordering B (customer 2 first): 10, 30, 0, 0 -> shares .25, 1, 1, 1
    #   area = .25*[.125 + .625 + 1 + 1] = .6875    -> gini .375
    # Tie-aware curve: (0,0), (.25,.25), (.75,1), (1,1)
    #   area = .25*.125 + .5*(.25+1)/2 + .25*1 = .59375 -> gini .1875 = (0 + .375)/2
    x, share = lorenz_curve(y, s)
    np.testing.assert_allclose(x, [0, 0.25, 0.75, 1])
    np.testing.assert_allclose(share, [0, 0.25, 1, 1])
    assert gini(y, s) == pytest.approx(0.1875)
    order_a = gini(y, [0.5, 0.9, 0.4, 0.1])
    order_b = gini(y, [0.4, 0.9, 0.5, 0.1])
    assert (order_a, order_b) == (pytest.approx(0.0), pytest.approx(0.375))
    assert gini(y, s) == pytest.approx((order_a + order_b) / 2)


def test_gini_equals_twice_the_trapezoid_area_under_the_lorenz_points_minus_one():
    y = zero_inflated(seed=3)
    s = np.round(np.log1p(y) + np.random.default_rng(3).normal(size=y.size))  # many ties
    x, share = lorenz_curve(y, s)
    assert gini(y, s) == pytest.approx(2 * np.trapezoid(share, x) - 1, abs=1e-12)


def test_gini_is_the_reference_right_endpoint_sum_minus_one_over_n_for_untied_scores():
    # google/lifetime_value gini_from_gain: 2 * mean(cumulative share sorted by score) - 1.
    y = zero_inflated(n=500, seed=4)
    s = np.random.default_rng(4).random(y.size)
    cum_share = np.cumsum(y[np.argsort(-s)]) / y.sum()
    assert gini(y, s) == pytest.approx(2 * cum_share.mean() - 1 - 1 / y.size, abs=1e-12)


def test_ranking_metrics_do_not_depend_on_row_order():
    y = zero_inflated(seed=5)
    s = np.round(np.log1p(y) + np.random.default_rng(5).normal(size=y.size))
    perm = np.random.default_rng(6).permutation(y.size)
    assert gini(y[perm], s[perm]) == pytest.approx(gini(y, s), abs=1e-12)
    assert top_share(y[perm], s[perm], 0.1) == pytest.approx(top_share(y, s, 0.1), abs=1e-12)


# --------------------------------------------------------------------------- top share


@pytest.mark.parametrize(
    ("frac", "expected"),
    [
        (0.25, 10 / 40),  # cut at 1 customer: only the top one (10)
        (0.4, (10 + 30 * 0.6 / 2) / 40),  # cut at 1.6: 0.6 of the 2-customer tie group -> 19/40
        (0.5, (10 + 30 * 1 / 2) / 40),  # cut at 2: half the tie group -> 25/40
        (0.75, 40 / 40),  # cut at 3: the whole tie group
        (1.0, 1.0),
    ],
    ids=["top-quarter", "cut-inside-tie-0.6", "cut-inside-tie-half", "after-tie", "everyone"],
)
def test_top_share_counts_a_tie_group_straddling_the_cut_pro_rata(frac, expected):
    y = np.array([0.0, 10.0, 30.0, 0.0])
    s = np.array([0.5, 0.9, 0.5, 0.1])  # 10 first, then {0, 30} tied, then 0
    assert top_share(y, s, frac) == pytest.approx(expected)


@pytest.mark.parametrize("frac", [0.0, -0.1, 1.5], ids=["zero", "negative", "above-one"])
def test_top_share_rejects_a_fraction_outside_zero_one(frac):
    with pytest.raises(ValueError, match=r"frac must be in \(0, 1\]"):
        top_share(Y4, S4, frac)


# --------------------------------------------------------------------------- decile table


def test_decile_table_of_a_small_example_matches_the_hand_table():
    y = np.array([0.0, 5.0, 0.0, 10.0, 0.0, 15.0])
    p = np.array([1.0, 4.0, 0.0, 8.0, 0.0, 2.0])
    # By prediction: 8 (y 10), 4 (y 5) | 2 (y 15), 1 (y 0) | 0 (y 0), 0 (y 0); overall mean y = 5.
    expected = pd.DataFrame(
        {
            "bin": np.array([1, 2, 3], dtype=np.int64),
            "n": np.array([2, 2, 2], dtype=np.int64),
            "mean_predicted": [6.0, 1.5, 0.0],
            "mean_actual": [7.5, 7.5, 0.0],
            "sum_predicted": [12.0, 3.0, 0.0],
            "sum_actual": [15.0, 15.0, 0.0],
            "error_vs_overall_mean": [(6 - 7.5) / 5, (1.5 - 7.5) / 5, 0.0],
        }
    )
    pd.testing.assert_frame_equal(decile_table(y, p, n_bins=3), expected)


def test_decile_table_with_heavy_ties_has_equal_bins_and_sums_that_match_totals():
    y = zero_inflated(n=5000, seed=7)
    p = np.where(np.random.default_rng(7).random(y.size) < 0.85, 0.0, 1.0 + np.log1p(y))  # 85% tied at 0
    table = decile_table(y, p)
    assert table["bin"].tolist() == list(range(1, 11))
    assert (table["n"] == 500).all()
    assert table["sum_actual"].sum() == pytest.approx(y.sum())
    assert table["sum_predicted"].sum() == pytest.approx(p.sum())
    assert table["mean_predicted"].is_monotonic_decreasing
    # n-weighted errors add up to the overall relative bias of the total
    bias = (table["error_vs_overall_mean"] * table["n"]).sum() / y.size
    assert bias == pytest.approx((p.sum() - y.sum()) / y.sum())


def test_decile_table_splits_tied_predictions_by_input_order():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    table = decile_table(y, np.zeros(4), n_bins=2)  # all tied: first two rows go to bin 1
    assert table["sum_actual"].tolist() == [3.0, 7.0]
    assert table["n"].tolist() == [2, 2]


def test_decile_table_needs_at_least_one_customer_per_bin():
    with pytest.raises(ValueError, match="cannot fill n_bins=10"):
        decile_table(Y4, S4)


# --------------------------------------------------------------------------- classification


def test_classification_scores_equal_sklearn():
    y = zero_inflated(seed=8)
    s = np.round(np.log1p(y) + np.random.default_rng(8).normal(size=y.size), 1)
    res = classification_scores(y > 0, s)
    assert res["roc_auc"] == roc_auc_score(y > 0, s)
    assert res["pr_auc"] == average_precision_score(y > 0, s)
    assert res["base_rate"] == pytest.approx((y > 0).mean())


def test_classification_scores_need_both_classes():
    with pytest.raises(ValueError, match="only one class"):
        classification_scores(np.zeros(4, dtype=bool), S4)


def _kernel(y, s, weights):
    """The shared weighted kernel on one weight row, as the bootstrap calls it."""
    w = np.asarray(weights)[None, :]
    pos = np.flatnonzero(y > 0)
    res = _core_metrics(y[pos], pos, _rank_positives(s, pos), _rank_positives(y, pos), w, w.sum(axis=1))
    return {k: float(v[0]) for k, v in res.items()}


def test_weighted_metrics_with_integer_weights_equal_the_metrics_of_repeated_rows():
    y = zero_inflated(n=600, p_buy=0.1, seed=9)
    s = np.round(np.log1p(y) + np.random.default_rng(9).normal(size=y.size))  # ties
    w = np.random.default_rng(10).poisson(1.0, size=y.size)  # includes zeros
    rep = np.repeat(np.arange(y.size), w)
    weighted = _kernel(y, s, w)
    assert weighted["roc_auc"] == pytest.approx(roc_auc_score(y[rep] > 0, s[rep]), abs=1e-12)
    assert weighted["roc_auc"] == pytest.approx(roc_auc_score(y > 0, s, sample_weight=w), abs=1e-12)
    assert weighted["normalized_gini"] == pytest.approx(normalized_gini(y[rep], s[rep]), abs=1e-12)
    assert weighted["top10_share"] == pytest.approx(top_share(y[rep], s[rep], 0.1), abs=1e-12)
    assert weighted["top1_share"] == pytest.approx(top_share(y[rep], s[rep], 0.01), abs=1e-12)


def test_the_kernel_auc_with_unit_weights_equals_sklearn_on_tied_scores():
    y = zero_inflated(seed=11)
    s = np.round(np.random.default_rng(11).normal(size=y.size) + (y > 0))
    assert _kernel(y, s, np.ones(y.size, dtype=np.int32))["roc_auc"] == pytest.approx(
        roc_auc_score(y > 0, s), abs=1e-12
    )


# --------------------------------------------------------------------------- evaluate


def test_evaluate_reports_ranking_classification_and_totals():
    y = zero_inflated(seed=12)
    s = np.log1p(y) + np.random.default_rng(12).normal(size=y.size)
    pred = 0.9 * y + 1.0
    res = evaluate(y, s, y_pred=pred)
    assert res["normalized_gini"] == normalized_gini(y, s)
    assert res["top10_share"] == top_share(y, s, 0.1)
    assert res["top1_share"] == top_share(y, s, 0.01)
    assert res["roc_auc"] == pytest.approx(roc_auc_score(y > 0, s), abs=1e-12)
    assert res["pr_auc"] == average_precision_score(y > 0, s)
    assert -1 <= res["spearman"] <= 1
    assert res["total_actual"] == pytest.approx(y.sum())
    assert res["ratio"] == pytest.approx(pred.sum() / y.sum())
    assert "ratio" not in evaluate(y, s)


def test_evaluate_gives_nan_spearman_for_a_constant_score():
    y = zero_inflated(seed=13)
    res = evaluate(y, np.zeros(y.size))
    assert np.isnan(res["spearman"])
    assert res["normalized_gini"] == 0.0
    assert res["roc_auc"] == 0.5


# --------------------------------------------------------------------------- error paths


@pytest.mark.parametrize(
    "func",
    [
        gini,
        normalized_gini,
        lorenz_curve,
        evaluate,
        lambda y, s: top_share(y, s, 0.1),
        lambda y, s: decile_table(y, s, n_bins=2),
    ],
    ids=["gini", "normalized_gini", "lorenz_curve", "evaluate", "top_share", "decile_table"],
)
class TestErrors:
    def test_length_mismatch(self, func):
        with pytest.raises(ValueError, match="y_true has 4 customers but .* has 3"):
            func(Y4, S4[:3])

    def test_negative_y_true(self, func):
        with pytest.raises(ValueError, match=r"y_true has 1 negative value\(s\)"):
            func(np.array([0.0, -1.0, 10.0, 30.0]), S4)

    def test_nan_score(self, func):
        with pytest.raises(ValueError, match=r"has 1 NaN/infinite value\(s\)"):
            func(Y4, np.array([0.1, np.nan, 0.2, 0.4]))

    def test_all_zero_y_true(self, func):
        with pytest.raises(ValueError, match="y_true sums to 0"):
            func(np.zeros(4), S4)


def test_normalized_gini_rejects_a_holdout_where_everyone_has_the_same_value():
    with pytest.raises(ValueError, match="same y_true"):
        normalized_gini(np.full(4, 5.0), S4)


def test_a_two_dimensional_input_is_rejected():
    with pytest.raises(ValueError, match="must be 1-d"):
        gini(Y4[:, None], S4)


def test_pandas_missing_values_are_reported_as_nan():
    s = pd.Series([0.1, None, 0.2, 0.4], dtype="Float64")
    with pytest.raises(ValueError, match="y_score has 1 NaN"):
        gini(pd.Series(Y4), s)
