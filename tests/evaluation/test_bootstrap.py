"""Tests for clvlib.evaluation.bootstrap: reproducible, tidy, paired, and on the same kernel as the point metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from clvlib.evaluation.bootstrap import BOOTSTRAP_METRICS, _multinomial_counts, bootstrap
from clvlib.evaluation.metrics import _core_metrics, _rank_positives, evaluate, normalized_gini, top_share

# Tiny example: four customers, two of them buyers.
Y4 = np.array([0.0, 0.0, 10.0, 30.0])
S4 = np.array([0.1, 0.3, 0.2, 0.4])


def zero_inflated(n: int = 4000, p_buy: float = 0.05, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < p_buy, rng.lognormal(3.0, 1.0, n), 0.0)


def _kernel(y, s, weights):
    """The shared weighted kernel on one weight row, as the bootstrap calls it."""
    w = np.asarray(weights)[None, :]
    pos = np.flatnonzero(y > 0)
    res = _core_metrics(y[pos], pos, _rank_positives(s, pos), _rank_positives(y, pos), w, w.sum(axis=1))
    return {k: float(v[0]) for k, v in res.items()}


# --------------------------------------------------------------------------- bootstrap


@pytest.fixture(scope="module")
def boot_data():
    y = zero_inflated(n=3000, p_buy=0.04, seed=20)
    rng = np.random.default_rng(21)
    scores = {
        "good": np.log1p(y) + rng.normal(0, 0.5, y.size),
        "tied": np.round(np.log1p(y) + rng.normal(0, 2, y.size)),
        "noise": rng.random(y.size),
    }
    return y, scores


def test_bootstrap_is_reproducible_with_a_seed_and_independent_of_chunk_size(boot_data):
    y, scores = boot_data
    a = bootstrap(y, scores, n_boot=200, seed=1, baseline="noise")
    b = bootstrap(y, scores, n_boot=200, seed=1, baseline="noise", chunk_size=7)
    pd.testing.assert_frame_equal(a, b)
    c = bootstrap(y, scores, n_boot=200, seed=2, baseline="noise")
    assert not np.allclose(a["low"], c["low"])


def test_bootstrap_table_is_tidy_and_intervals_contain_the_estimate(boot_data):
    y, scores = boot_data
    table = bootstrap(y, scores, n_boot=200, seed=0)
    assert list(table.columns) == ["model", "metric", "estimate", "low", "high"]
    assert table["model"].tolist() == [m for m in scores for _ in BOOTSTRAP_METRICS]
    assert table["metric"].tolist() == list(BOOTSTRAP_METRICS) * len(scores)
    assert (table["low"] <= table["estimate"]).all() and (table["estimate"] <= table["high"]).all()
    assert table.attrs == {"n_boot": 200, "seed": 0, "ci": 0.95, "baseline": None}


def test_bootstrap_estimate_equals_evaluate_and_the_direct_functions(boot_data):
    y, scores = boot_data
    table = bootstrap(y, scores, n_boot=20, seed=0).set_index(["model", "metric"])["estimate"]
    for name, s in scores.items():
        direct = evaluate(y, s)
        for metric in BOOTSTRAP_METRICS:
            assert table[(name, metric)] == direct[metric]
        assert table[(name, "normalized_gini")] == normalized_gini(y, s)
        assert table[(name, "top10_share")] == top_share(y, s, 0.10)
        assert table[(name, "roc_auc")] == pytest.approx(roc_auc_score(y > 0, s), abs=1e-12)


def test_bootstrap_resamples_match_the_direct_functions_on_the_resampled_rows(boot_data):
    y, scores = boot_data
    counts = _multinomial_counts(np.random.default_rng(0), 3, y.size)
    assert (counts.sum(axis=1) == y.size).all()
    for row in counts:
        rep = np.repeat(np.arange(y.size), row)
        got = _kernel(y, scores["tied"], row)
        assert got["normalized_gini"] == pytest.approx(normalized_gini(y[rep], scores["tied"][rep]), abs=1e-12)
        assert got["roc_auc"] == pytest.approx(roc_auc_score(y[rep] > 0, scores["tied"][rep]), abs=1e-12)


def test_paired_difference_of_a_model_with_itself_is_exactly_zero(boot_data):
    y, scores = boot_data
    table = bootstrap(y, {"a": scores["tied"], "a_copy": scores["tied"].copy()}, n_boot=100, baseline="a")
    copy = table[table["model"] == "a_copy"]
    assert (copy[["diff", "diff_low", "diff_high"]] == 0.0).all().all()
    assert (copy["p_le_0"] == 1.0).all()
    assert table.loc[table["model"] == "a", ["diff", "p_le_0"]].isna().all().all()


def test_a_good_model_beats_noise_with_p_le_0_near_zero(boot_data):
    y, scores = boot_data
    table = bootstrap(y, scores, n_boot=300, seed=0, baseline="noise").set_index(["model", "metric"])
    good = table.loc["good"]
    assert (good["p_le_0"] <= 0.01).all()
    assert (good["diff_low"] > 0).all()
    assert (good["diff"] == good["estimate"] - table.loc["noise", "estimate"]).all()


def test_bootstrap_warns_when_resamples_miss_every_buyer():
    y = np.zeros(30)
    y[0] = 10.0  # one buyer: about a third of resamples leave them out
    with pytest.warns(RuntimeWarning, match="had no buyer or no non-buyer and were dropped"):
        table = bootstrap(y, {"m": np.arange(30.0)}, n_boot=50)
    assert table[["low", "high"]].notna().all().all()


def test_bootstrap_rejects_an_unknown_baseline(boot_data):
    y, scores = boot_data
    with pytest.raises(ValueError, match="baseline 'bg' is not a key of scores"):
        bootstrap(y, scores, n_boot=10, baseline="bg")


# --------------------------------------------------------------------------- error paths


class TestErrors:
    """The bootstrap validates its inputs with the same messages as the point metrics."""

    @staticmethod
    def func(y, s):
        return bootstrap(y, {"m": s}, n_boot=10)

    def test_length_mismatch(self):
        with pytest.raises(ValueError, match="y_true has 4 customers but .* has 3"):
            self.func(Y4, S4[:3])

    def test_negative_y_true(self):
        with pytest.raises(ValueError, match=r"y_true has 1 negative value\(s\)"):
            self.func(np.array([0.0, -1.0, 10.0, 30.0]), S4)

    def test_nan_score(self):
        with pytest.raises(ValueError, match=r"has 1 NaN/infinite value\(s\)"):
            self.func(Y4, np.array([0.1, np.nan, 0.2, 0.4]))

    def test_all_zero_y_true(self):
        with pytest.raises(ValueError, match="y_true sums to 0"):
            self.func(np.zeros(4), S4)
