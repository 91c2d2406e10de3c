"""The two-part model, the hybrid stage on a small demo (no look-ahead), and evaluation helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from clvlib.data.clickstream import clean_events, read_clickstream
from clvlib.demo.generate import generate_demo
from clvlib.evaluation.summary import placebo_table
from clvlib.models.predictions import segment_customers
from clvlib.models.hybrid import Variant, fit_score_variants, variants_for
from clvlib.data.datasets import read_key
from clvlib.models.two_part import TwoPartModel
from clvlib.data.sources import find_raw_files
from clvlib.features.temporal import window
from clvlib.data.transactions import build_orders, read_olist


def test_two_part_model_learns_who_buys_and_how_much():
    rng = np.random.default_rng(0)
    n = 6000
    X = pd.DataFrame({"x": rng.normal(size=n), "level": rng.uniform(10, 100, n), "noise": rng.normal(size=n)})
    p = 1 / (1 + np.exp(-(X["x"] * 2 - 3)))
    y = np.where(rng.uniform(size=n) < p, X["level"] * rng.gamma(20, 1 / 20, n), 0.0)
    m = TwoPartModel(random_state=0, increasing=("x",)).fit(X, y)
    assert roc_auc_score(y > 0, m.predict_proba_buy(X)) > 0.8
    buyers = y > 0
    assert np.corrcoef(m.predict_spend(X[buyers]), X["level"][buyers])[0, 1] > 0.8
    np.testing.assert_allclose(m.predict(X), m.predict_proba_buy(X) * m.predict_spend(X))
    assert m.base_rate_ == pytest.approx(buyers.mean())


def test_two_part_model_errors():
    X = pd.DataFrame({"x": np.arange(50.0)})
    with pytest.raises(ValueError, match="only 1 training customers bought"):
        TwoPartModel().fit(X, np.r_[np.zeros(49), 5.0])
    with pytest.raises(ValueError, match="non-negative"):
        TwoPartModel().fit(X, np.r_[np.zeros(49), -5.0])
    with pytest.raises(RuntimeError, match="not fitted"):
        TwoPartModel().predict(X)


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    raw = tmp_path_factory.mktemp("demo") / "raw"
    generate_demo(raw, n_customers=6000, seed=3)
    files = find_raw_files(raw)
    orders, _, _ = build_orders(read_olist(files))
    events, _ = clean_events(read_clickstream(files["clickstream"]))
    return orders, events, read_key(raw)[0]


def test_hybrid_scores_the_population_at_the_cut_and_never_reads_the_holdout(small_demo):
    orders, events, key = small_demo
    # a two-month horizon: three full label windows and the recent one, labelled up to the cut (a six-month
    # horizon adds four more recent windows, each with its hidden BG/NBD fit, and doubled the time of this test)
    w = window("2018-02-28", 2, n_train_windows=3, stride_months=1, recent_windows=True)
    variants = [Variant("rfm+details"), Variant("rfm+details+click", "key")]
    scores, info = fit_score_variants(orders, events, w, variants, key=key, progress=lambda _: None)
    first = orders.groupby("customer_unique_id")["order_purchase_timestamp"].min()
    assert set(scores["customer_unique_id"]) == set(first[first < "2018-03-01"].index)
    assert (scores["hybrid:rfm+details"] >= 0).all()
    assert info["rfm+details+click[key]"]["mapping"]["clickstream_cut_applied"]  # demo clicks share Olist's period

    # scramble everything dated after the cut: orders and clickstream events
    late_o = orders["order_purchase_timestamp"] > w["cut"] + pd.Timedelta(days=1)
    o2 = orders.copy()
    o2.loc[late_o, "order_value"] = o2.loc[late_o, "order_value"].to_numpy()[::-1] * 3
    o2.loc[late_o, "review_score"] = 1.0
    o2.loc[late_o, "payment_type"] = "voucher"
    # orders placed before the cut but delivered or reviewed after it: those later dates must not count
    open_at_cut = ~late_o & (orders["order_delivered_customer_date"] > w["cut"] + pd.Timedelta(days=1))
    assert open_at_cut.any()
    o2.loc[open_at_cut, "order_delivered_customer_date"] += pd.Timedelta(days=30)
    reviewed_after = ~late_o & (orders["review_creation_date"] > w["cut"] + pd.Timedelta(days=1))
    o2.loc[reviewed_after, "review_score"] = 6 - o2.loc[reviewed_after, "review_score"]
    late_e = events["Timestamp"] > w["cut"] + pd.Timedelta(days=1)
    e2 = pd.concat([events[~late_e], events[late_e].assign(EventType="purchase", Amount=999.0)], ignore_index=True)
    scores2, _ = fit_score_variants(o2, e2, w, variants, key=key, progress=lambda _: None)
    pd.testing.assert_frame_equal(scores, scores2)


def test_variants_add_the_key_only_when_there_is_one():
    names = [v.name for v in variants_for(has_key=False)]
    assert names == ["rfm", "rfm+details", "rfm+details+click[rank]", "rfm+details+click[random]"]
    assert variants_for(has_key=True)[-1].name == "rfm+details+click[key]"


def test_segments_are_rank_deciles():
    decile, segment = segment_customers(pd.Series(np.arange(100.0)))
    assert decile.iloc[99] == 1 and decile.iloc[0] == 10
    assert (decile.value_counts() == 10).all()
    assert segment.iloc[99] == "top 10%: target"
    assert segment.iloc[75] == "next 20%: nurture"


def test_placebo_table_reports_what_clickstream_adds():
    table = pd.DataFrame({"model": ["hybrid:rfm+details", "hybrid:rfm+details+click[rank]", "hybrid:rfm+details+click[random]"],
                          "normalized_gini": [0.20, 0.25, 0.19], "roc_auc": [0.6, 0.62, 0.59]})
    p = placebo_table(table).set_index("link")
    assert p.loc["rank", "added_by_click"] == pytest.approx(0.05)
    assert p.loc["random", "added_by_click"] == pytest.approx(-0.01)


def test_the_monotone_constraint_reaches_both_parts():
    # spend given a purchase falls with x in the data's noise; the constraint keeps both parts non-decreasing in x
    rng = np.random.default_rng(1)
    n = 4000
    X = pd.DataFrame({"x": rng.uniform(0, 1, n), "z": rng.normal(size=n)})
    buys = rng.uniform(size=n) < 0.2 + 0.3 * X["x"]
    y = np.where(buys, 100 - 60 * X["x"] + rng.gamma(2, 5, n), 0.0)
    m = TwoPartModel(random_state=0, min_samples_leaf=20, increasing=("x",)).fit(X, y)
    grid = pd.DataFrame({"x": np.linspace(0, 1, 50), "z": 0.0})
    assert np.all(np.diff(m.predict_proba_buy(grid)) >= -1e-12)
    assert np.all(np.diff(m.predict_spend(grid)) >= -1e-12)
    free = TwoPartModel(random_state=0, min_samples_leaf=20).fit(X, y)
    assert np.any(np.diff(free.predict_spend(grid)) < 0)  # without it the spend part follows the data down


def test_person_weights_count_each_person_once_and_reach_both_parts():
    from clvlib.models.hybrid import person_weights

    w = person_weights(pd.Series(["A", "B", "A", "A", "C", "B"]))
    np.testing.assert_allclose(w, [1 / 3, 1 / 2, 1 / 3, 1 / 3, 1.0, 1 / 2])
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"x": rng.normal(size=600), "empty": np.nan})
    y = np.where(rng.uniform(size=600) < 0.2, 10.0, 0.0)
    weighted = TwoPartModel(random_state=0, min_samples_leaf=20).fit(X, y, sample_weight=rng.uniform(0.1, 1, 600))
    plain = TwoPartModel(random_state=0, min_samples_leaf=20).fit(X, y)
    assert weighted.classifier_features_ == ["x"]  # an all-missing column is left out of both parts
    assert not np.allclose(weighted.predict_proba_buy(X), plain.predict_proba_buy(X))
    with pytest.raises(ValueError, match="one positive, finite weight per row"):
        TwoPartModel().fit(X, y, sample_weight=np.zeros(600))


def test_bgnbd_feature_is_left_missing_where_nobody_bought_twice_and_a_sentence_says_so():
    import warnings as w_

    from clvlib.models.hybrid import btyd_feature_notes, btyd_features

    one_timers = pd.DataFrame({"customer_unique_id": [f"c{i}" for i in range(200)], "frequency": 0,
                               "recency": 0.0, "T": np.arange(200, dtype=float)})
    with w_.catch_warnings():
        w_.simplefilter("error")  # no raw warning from the hidden fit
        out = btyd_features(one_timers, 180)
    assert out["btyd_expected_purchases"].isna().all()
    notes = btyd_feature_notes({"2017-03-31": out.attrs["btyd_fit"]})
    assert notes == ["At the snapshot of 2017-03-31 the BG/NBD feature is left missing: only 0 of 200 people had "
                     "bought on two different days, too few (< 10) to estimate BG/NBD's dropout."]


def test_variant_table_says_how_many_people_and_how_they_are_weighted():
    from clvlib.models.hybrid import variant_table

    info = {"rfm": {"train_rows": 12, "train_buyers": 3, "train_people": 5, "train_buyer_people": 2,
                    "weighting": "person", "features": ["a", "b"], "mapping": {}}}
    row = variant_table(info).iloc[0]
    assert (row["people"], row["people who bought"], row["weights"]) == (5, 2, "each person counts once")


def test_a_feature_set_with_the_columns_of_an_earlier_one_is_not_fitted_twice_but_another_link_is(small_demo):
    orders, events, key = small_demo
    w = window("2018-02-28", 6, n_train_windows=2, stride_months=1)
    plain = orders.drop(columns=["review_score", "review_creation_date", "order_delivered_customer_date",
                                 "order_estimated_delivery_date", "payment_installments", "payment_type", "product_category",
                                 "customer_state", "n_items", "freight_value"], errors="ignore")
    variants = [Variant("rfm"), Variant("rfm+details"), Variant("rfm+details+click", "random"), Variant("rfm+details+click", "key")]
    scores, info = fit_score_variants(plain, events, w, variants, key=key, progress=lambda _: None)
    # without per-order behaviour columns rfm+details is rfm; the two links share column names but not values
    assert list(info) == ["rfm", "rfm+details+click[random]", "rfm+details+click[key]"]
    assert "hybrid:rfm+details" not in scores.columns and "hybrid:rfm+details+click[random]" in scores.columns


def test_training_rows_keep_everything_below_the_bound_with_the_person_weights():
    from clvlib.models.hybrid import person_weights, training_rows

    people = [pd.Series(["A", "B"]), pd.Series(["A", "B", "C"])]
    labels = [np.array([0.0, 5.0]), np.array([0.0, 0.0, 7.0])]
    rows, w, rec = training_rows(people, labels, max_rows=10)
    assert [r.tolist() for r in rows] == [[0, 1], [0, 1, 2]]
    np.testing.assert_allclose(w, person_weights(pd.Series(["A", "B", "A", "B", "C"])))  # 1/2, 1/2, 1/2, 1/2, 1
    assert rec == {"rows": 5, "buyer_rows": 2, "kept_rows": 5, "rate": 1.0, "people": 3, "buyer_people": 2}
    assert training_rows(people, labels, weighting="none", max_rows=10)[1] is None
    with pytest.raises(ValueError, match="one entry per snapshot, of equal lengths"):
        training_rows(people, labels[:1])


def test_training_rows_above_the_bound_keep_every_buyer_and_weight_sampled_non_buyers_up():
    from clvlib.models.hybrid import training_rows

    rng = np.random.default_rng(0)
    n = 50_000
    people = [pd.Series(np.arange(n).astype(str)), pd.Series(np.arange(n).astype(str))]
    labels = [np.where(rng.random(n) < 0.01, 10.0, 0.0) for _ in range(2)]
    rows, w, rec = training_rows(people, labels, weighting="none", max_rows=10_000, seed=3)
    n_buy = int(sum((y > 0).sum() for y in labels))
    rate = (10_000 - n_buy) / (2 * n - n_buy)
    assert rec["rate"] == pytest.approx(rate) and rec["buyer_rows"] == n_buy
    assert all((y[r] > 0).sum() == (y > 0).sum() for y, r in zip(labels, rows))  # every buyer kept
    assert abs(rec["kept_rows"] - 10_000) < 400  # the bound holds in expectation (binomial sd ~ 95)
    y = np.concatenate([lab[r] for lab, r in zip(labels, rows)])
    np.testing.assert_allclose(w[y > 0], 1.0)
    np.testing.assert_allclose(w[y == 0], 1 / rate)
    # the weighted buy rate estimates the full data's
    assert (w * (y > 0)).sum() / w.sum() == pytest.approx(n_buy / (2 * n), rel=0.05)
    again = training_rows(people, labels, weighting="none", max_rows=10_000, seed=3)[0]
    assert all(np.array_equal(a, b) for a, b in zip(rows, again))  # seeded
    # person weights are computed on all rows: each person is in both snapshots, so 1/2, times 1/rate if sampled
    _, wp, _ = training_rows(people, labels, max_rows=10_000, seed=3)
    np.testing.assert_allclose(wp, w / 2)


def test_chunked_scoring_equals_scoring_at_once():
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"x": rng.normal(size=3000), "z": rng.normal(size=3000)})
    y = np.where(rng.uniform(size=3000) < 0.2 + 0.1 * (X["x"] > 0), rng.gamma(2, 20, 3000), 0.0)
    m = TwoPartModel(random_state=0, min_samples_leaf=20).fit(X, y)
    p, s = m.predict_parts(X, chunk_rows=700)
    np.testing.assert_array_equal(p, m.predict_proba_buy(X))
    np.testing.assert_array_equal(s, m.predict_spend(X))
    with pytest.raises(ValueError, match="chunk_rows must be at least 1"):
        m.predict_parts(X, chunk_rows=0)


def test_rare_category_levels_are_pooled_by_their_training_buyers():
    from clvlib.models.hybrid import RARE_LEVEL, pool_rare_levels

    train = ["SP"] * 5 + ["RJ"] * 5 + ["AC"] * 3
    bought = np.array([1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1], dtype=bool)  # SP 3 buyers, RJ 1, AC 3
    tr, sc = pool_rare_levels(train, ["SP", "RJ", "AM", "AC"], bought, min_buyers=3)
    assert tr == ["SP"] * 5 + [RARE_LEVEL] * 5 + ["AC"] * 3
    assert sc == ["SP", RARE_LEVEL, RARE_LEVEL, "AC"]  # a level never seen in training is pooled too
    assert pool_rare_levels(train, ["RJ", "AM"], bought, min_buyers=0) == (train, ["RJ", "AM"])  # 0 keeps every level
    with pytest.raises(ValueError, match="train has 13 labels but bought has 2 flags"):
        pool_rare_levels(train, [], bought[:2])


def test_training_rows_refuse_a_bound_that_buyers_alone_fill():
    from clvlib.models.hybrid import training_rows

    people = [pd.Series(list("abcdef"))]
    with pytest.raises(ValueError, match="4 buyer rows, at least max_rows \\(3\\).*Raise max_train_rows"):
        training_rows(people, [np.array([1.0, 1, 1, 1, 0, 0])], max_rows=3)


def test_sampled_training_keeps_every_buyer_row_with_its_label_and_features(small_demo):
    import clvlib.models.hybrid as H

    orders, events, key = small_demo
    w = window("2018-02-28", 6, n_train_windows=2, stride_months=1)
    snaps = H.build_snapshots(orders, H.snapshot_cuts(w))
    seen = {}
    real_fit = TwoPartModel.fit

    def spy(self, X, y, sample_weight=None):
        seen[len(seen)] = (X.copy(), np.asarray(y), sample_weight)
        return real_fit(self, X, y, sample_weight=sample_weight)

    TwoPartModel.fit = spy
    try:
        H.fit_score_snapshots(snaps, None, orders, w, [Variant("rfm")], progress=lambda _: None)
        n = len(seen[0][1])
        H.fit_score_snapshots(snaps, None, orders, w, [Variant("rfm")], progress=lambda _: None, max_train_rows=n // 3)
    finally:
        TwoPartModel.fit = real_fit
    (X_all, y_all, w_all), (X_s, y_s, w_s) = seen[0], seen[1]
    assert len(y_s) < n // 2 and (y_s > 0).sum() == (y_all > 0).sum()  # every buyer row kept, most others dropped
    key_cols = ["frequency", "recency", "T", "calibration_spend"]
    buyers_all = X_all.loc[y_all > 0, key_cols].assign(y=y_all[y_all > 0]).reset_index(drop=True)
    buyers_s = X_s.loc[y_s > 0, key_cols].assign(y=y_s[y_s > 0]).reset_index(drop=True)
    pd.testing.assert_frame_equal(buyers_all, buyers_s)  # same rows, same order, same labels
    np.testing.assert_allclose(w_s[y_s > 0], w_all[y_all > 0])
    assert w_s.sum() == pytest.approx(w_all.sum(), rel=0.15)  # the weighted-up sample stands for the whole
    # the sampled rows' features (the BG/NBD feature too, computed for those rows only) are the full rows', in order
    assert "btyd_expected_purchases" in X_s.columns
    full, sample = (pd.util.hash_pandas_object(x, index=False).tolist() for x in (X_all, X_s))
    rest = iter(full)
    assert all(h in rest for h in sample)  # a subsequence of the full training rows
    cache = {}
    H.fit_score_snapshots(snaps, None, orders, w, [Variant("rfm")], progress=lambda _: None, max_train_rows=n // 3,
                          cache=cache)
    assert sorted(k[0] for k in cache if isinstance(k[0], str)) == ["all_orders_spend"] + ["bgnbd"] * 3  # fits kept
    assert not [k for k in cache if not isinstance(k[0], str)]  # no whole snapshot with its features


def test_without_its_spend_part_the_model_predicts_p_buy_only():
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"x": rng.normal(size=2000)})
    y = np.where(rng.uniform(size=2000) < 0.2 + 0.1 * (X["x"] > 0), rng.gamma(2, 20, 2000), 0.0)
    full = TwoPartModel(random_state=0, min_samples_leaf=20).fit(X, y)
    buy_only = TwoPartModel(random_state=0, min_samples_leaf=20, fit_spend=False).fit(X, y)
    assert not hasattr(buy_only, "regressor_")
    np.testing.assert_array_equal(buy_only.predict_buy(X, chunk_rows=300), full.predict_proba_buy(X))  # same P(buy)
    for predict in (buy_only.predict_spend, buy_only.predict, buy_only.predict_parts):
        with pytest.raises(RuntimeError, match="fitted without its spend part"):
            predict(X)


def test_the_hybrid_values_a_purchase_by_gamma_gamma_on_every_order_unless_told_otherwise(small_demo):
    import clvlib.models.hybrid as H
    from clvlib.models.btyd.spend import AllOrdersSpend

    orders, _, _ = small_demo
    w = window("2018-02-28", 6, n_train_windows=2, stride_months=1)
    snaps = H.build_snapshots(orders, H.snapshot_cuts(w))
    at_cut = H.snapshot(snaps, w["cut"])
    spend = H.spend_at_cut(at_cut)
    np.testing.assert_allclose(spend, AllOrdersSpend().fit(at_cut).expected_spend(at_cut)["expected_spend"])
    scores, info = H.fit_score_snapshots(snaps, None, orders, w, [Variant("rfm")], progress=lambda _: None)
    assert info["rfm"]["spend"] == "gamma-gamma"
    np.testing.assert_allclose(scores["hybrid:rfm"], scores["p_buy:rfm"] * spend)
    gbm, gbm_info = H.fit_score_snapshots(snaps, None, orders, w, [Variant("rfm")], progress=lambda _: None, spend="gbm")
    np.testing.assert_array_equal(gbm["p_buy:rfm"], scores["p_buy:rfm"])  # the same P(buy), another spend
    assert gbm_info["rfm"]["spend"] == "gbm" and not np.allclose(gbm["hybrid:rfm"], scores["hybrid:rfm"])
    with pytest.raises(ValueError, match="spend must be one of"):
        H.fit_score_snapshots(snaps, None, orders, w, [Variant("rfm")], progress=lambda _: None, spend="mean")


def test_recent_windows_add_their_length_in_months_as_a_monotone_feature_to_the_hybrids_boosting(small_demo):
    import clvlib.models.hybrid as H

    orders, _, _ = small_demo
    assert [H.label_months(d) for d in (28, 31, 59, 181, 184)] == [1, 1, 2, 6, 6]
    w = window("2018-02-28", 6, n_train_windows=2, stride_months=2, recent_windows=True)  # 2018-01 (2, 4 months) first
    snaps = H.build_snapshots(orders, H.snapshot_cuts(w))
    seen = []
    real_fit = TwoPartModel.fit

    def spy(self, X, y, sample_weight=None):
        seen.append((self.increasing, X.copy(), np.asarray(y), self.max_iter))
        return real_fit(self, X, y, sample_weight=sample_weight)

    TwoPartModel.fit = spy
    try:
        _, info = H.fit_score_snapshots(snaps, None, orders, w, [Variant("rfm")], progress=lambda _: None)
        _, info_full = H.fit_score_snapshots(snaps, None, orders, window("2018-02-28", 6, 2, 2), [Variant("rfm")],
                                             progress=lambda _: None)
    finally:
        TwoPartModel.fit = real_fit
    increasing, X, y, rounds = seen[0]
    assert info["rfm"]["features"][-1] == H.LABEL_MONTHS and H.LABEL_MONTHS in increasing
    assert rounds == H.BOOSTING_ROUNDS == 100
    assert H.LABEL_MONTHS not in info_full["rfm"]["features"]  # one length: the feature would be constant
    people = [len(H.snapshot(snaps, c)) for c in w["train_cuts"]]
    assert X[H.LABEL_MONTHS].tolist() == [2] * people[0] + [4] * people[1] + [6] * (people[2] + people[3])
    # a recent window's label is the spend from its cut to the cut-off, no further
    from clvlib.features.temporal import holdout_labels

    first = holdout_labels(orders, w["train_cuts"][0], w["cut"], H.snapshot(snaps, w["train_cuts"][0])["customer_unique_id"])
    np.testing.assert_array_equal(y[:people[0]], first["holdout_spend"].to_numpy())


def test_quantile_bins_are_weighted_quantiles_and_keep_order_and_missing_values():
    from clvlib.models.two_part import bin_codes, quantile_edges

    rng = np.random.default_rng(6)
    n = 3000
    X = pd.DataFrame({"x": rng.normal(size=n), "few": rng.integers(0, 10, n).astype(float),
                      "cat": pd.Categorical(rng.choice(["a", "b"], n)), "flag": rng.random(n) < 0.5})
    X.loc[::7, "x"] = np.nan
    w = rng.integers(1, 4, n).astype(float)
    edges = quantile_edges(X, w)
    assert list(edges) == ["x"]  # 10 distinct values, a category and a flag keep their own values
    x = X["x"].dropna()
    repeated = np.repeat(x.to_numpy(), w[X["x"].notna()].astype(int))  # integer weights = repeated rows
    expected = np.unique(np.quantile(repeated, np.linspace(0, 1, 256)[1:-1], method="averaged_inverted_cdf"))
    np.testing.assert_allclose(edges["x"], expected)
    codes = bin_codes(X, edges)
    assert codes["x"].isna().equals(X["x"].isna()) and codes["x"].nunique() <= 255
    order = X["x"].notna()
    assert (np.diff(codes.loc[order, "x"].to_numpy()[np.argsort(X.loc[order, "x"].to_numpy())]) >= 0).all()
    pd.testing.assert_frame_equal(codes.drop(columns="x"), X.drop(columns="x"))
    assert bin_codes(X, {}) is X


def test_the_weighted_model_splits_where_scikit_learn_would_from_its_own_bins():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(7)
    n = 5000
    X = pd.DataFrame({"x": rng.normal(size=n), "z": rng.exponential(size=n)})
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-(X["x"] - 2))), 10.0, 0.0)
    w = rng.uniform(0.2, 1.0, n)
    m = TwoPartModel(random_state=0, min_samples_leaf=20, fit_spend=False).fit(X, y, sample_weight=w)
    direct = HistGradientBoostingClassifier(learning_rate=0.05, max_iter=200, max_leaf_nodes=7, min_samples_leaf=20,
                                            l2_regularization=1.0, random_state=0, early_stopping=False
                                            ).fit(X, y > 0, sample_weight=w)
    np.testing.assert_allclose(m.predict_buy(X), direct.predict_proba(X)[:, 1], rtol=1e-9)


def test_the_bgnbd_feature_of_some_rows_counts_non_finite_expectations_on_the_whole_snapshot():
    import clvlib.models.hybrid as H

    class Dropout:  # a fit whose expectation is infinite for one (frequency, recency, T), as a BG/NBD with a < 1 gives
        def predict(self, rfm, horizon):
            bad = (rfm["frequency"] == 0).to_numpy() & (rfm["T"] == 30.0).to_numpy()
            return pd.DataFrame({"expected_purchases": np.where(bad, np.inf, rfm["frequency"] * horizon / 100.0)})

    snap = pd.DataFrame({"customer_unique_id": [f"c{i}" for i in range(8)], "frequency": [0, 0, 0, 1, 2, 0, 0, 1],
                         "recency": [0.0, 0.0, 0.0, 5.0, 9.0, 0.0, 0.0, 5.0], "T": [30.0, 30.0, 40.0, 30.0, 30.0, 30.0,
                                                                                    40.0, 30.0]})
    fit = (Dropout(), {"repeat_customers": 3})
    whole = H.btyd_features(snap, 60, fit=fit)
    rows = np.array([1, 2, 4])
    part = H.btyd_features(snap.iloc[rows].reset_index(drop=True), 60, fit=fit, count_on=snap)
    assert whole.attrs["btyd_fit"]["missing_because"] == "BG/NBD gave 3 people a non-finite expectation"
    assert part.attrs["btyd_fit"] == whole.attrs["btyd_fit"]  # counted on the snapshot, not on the 3 rows given
    pd.testing.assert_frame_equal(part, whole.iloc[rows].reset_index(drop=True))
    assert "missing_because" not in H.btyd_features(snap.iloc[[3, 4]], 60, fit=fit).attrs["btyd_fit"]
    none_kept = H.btyd_features(snap.iloc[[]], 60, fit=fit, count_on=snap)  # a sampled snapshot without a kept row
    assert len(none_kept) == 0 and "btyd_expected_purchases" in none_kept.columns
    assert none_kept.attrs["btyd_fit"] == whole.attrs["btyd_fit"]



def test_compare_at_calibrates_every_hybrid_variant_to_bgnbds_buyers(small_demo, monkeypatch):
    import clvlib.models.compare as C
    import clvlib.models.hybrid as H
    from clvlib.models.calibration import expected_buyers

    orders, _, _ = small_demo
    w = window("2018-02-28", 6, n_train_windows=2, stride_months=1)
    snaps = H.build_snapshots(orders, H.snapshot_cuts(w))
    before = {}
    real = C.calibrate_hybrid

    def spy(scores, info, bgnbd, features, horizon_days):
        before.update(scores=scores.copy(), bgnbd=bgnbd, horizon=horizon_days)
        return real(scores, info, bgnbd, features, horizon_days)

    monkeypatch.setattr(C, "calibrate_hybrid", spy)
    on = C.compare_at(snaps, None, orders, w, [Variant("rfm")], btyd_models=("bgnbd",), lifetime=False)
    assert before["bgnbd"] is on.fitted["bgnbd"] and before["horizon"] == (w["holdout_end"] - w["cut"]).days == 184
    rfm = on.features[["customer_unique_id", "frequency", "recency", "T"]]
    target = expected_buyers(on.fitted["bgnbd"], rfm, 184.0)
    p, p0 = on.hybrid_scores["p_buy:rfm"], before["scores"]["p_buy:rfm"]
    assert p.sum() == pytest.approx(target, rel=1e-6) and abs(p0.sum() - target) > 1  # P(buy) sums to BG/NBD's buyers
    assert on.hybrid_info["rfm"]["calibration"]["target_buyers"] == pytest.approx(target, abs=1e-3)
    np.testing.assert_array_equal(on.scores["hybrid:rfm"].to_numpy(), on.hybrid_scores["hybrid:rfm"].to_numpy())
    # the ranking by P(buy) and the spend if they buy are the uncalibrated model's
    assert (p.rank().to_numpy() == p0.rank().to_numpy()).all()
    np.testing.assert_allclose(on.scores["hybrid:rfm"] / p, before["scores"]["hybrid:rfm"] / p0, rtol=1e-9)
