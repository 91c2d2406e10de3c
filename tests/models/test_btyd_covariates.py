"""BG/NBD with static covariates: the plain MLE when they carry nothing, two rates recovered, first-order covariates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.models.btyd import BTYDModel
from clvlib.models.btyd.covariates import CovariateBGNBD, first_order_covariates
from clvlib.models.compare import add_covariate_btyd
from clvlib.models.predictions import scores_table
from clvlib.models.scores import btyd_column, model_label
from clvlib.schemas import CUSTOMER

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW in weeks (Fader, Hardie & Lee 2005)


def _draw(alpha: np.ndarray, seed: int) -> pd.DataFrame:
    """BG/NBD customers in weeks (pymc-marketing's simulator), one alpha per customer."""
    import pymc as pm
    from pymc_marketing.clv.distributions import BetaGeoNBD

    rng = np.random.default_rng(seed)
    n = len(alpha)
    T = rng.integers(26, 79, size=n).astype(float)
    rf = pm.draw(BetaGeoNBD.dist(T=T, r=BG["r"], alpha=alpha, a=BG["a"], b=BG["b"]), random_seed=rng)
    return pd.DataFrame({CUSTOMER: [f"c{i:05d}" for i in range(n)], "frequency": rf[:, 1].astype(int),
                         "recency": rf[:, 0], "T": T})


@pytest.fixture(scope="module")
def twice() -> tuple[pd.DataFrame, pd.DataFrame]:
    """1,500 customers, and the same customers twice: once with g = 0 and once, identical, with g = 1."""
    one = _draw(np.full(1500, BG["alpha"]), seed=1)
    copy = one.assign(**{CUSTOMER: one[CUSTOMER] + "_copy"})
    both = pd.concat([one.assign(g=0.0), copy.assign(g=1.0)], ignore_index=True)
    return one, both


def test_a_covariate_that_carries_nothing_gives_the_plain_bgnbd_mle(twice):
    one, both = twice
    # the two groups have identical histories: by symmetry the coefficient's MLE is exactly 0, and the
    # likelihood of the doubled data is the square of the original's, so r, alpha, a, b are BG/NBD's MLE
    plain = BTYDModel("bgnbd", time_unit="W").fit(one)
    cov = CovariateBGNBD(["g"]).fit(both)
    assert cov.optimizer_["success"]
    est = cov.params_.set_index("parameter")["estimate"]
    ref = plain.params_.set_index("parameter")["estimate"]
    assert est["purchase_coefficient[g]"] == pytest.approx(0.0, abs=1e-4)
    for name, plain_name in (("r", "r"), ("alpha_scale", "alpha"), ("a", "a"), ("b", "b")):
        assert est[name] == pytest.approx(ref[plain_name], rel=1e-3), name
    # and so are its predictions, for both copies of each customer
    a = cov.predict(both, horizon=52.0)
    b = plain.predict(one, horizon=52.0)
    for half in (a.iloc[:1500], a.iloc[1500:]):
        np.testing.assert_allclose(half["expected_purchases"], b["expected_purchases"], rtol=1e-3)
        np.testing.assert_allclose(half["p_alive"], b["p_alive"], rtol=1e-3)


def test_a_covariate_that_splits_two_purchase_rates_is_recovered():
    # group 1 buys three times as often: alpha = 4.414 / 3 = 4.414 * exp(-log 3)
    g = np.repeat([0.0, 1.0], 3000)
    data = _draw(np.where(g == 1, BG["alpha"] / 3.0, BG["alpha"]), seed=2).assign(g=g)
    model = CovariateBGNBD(["g"]).fit(data)
    est = model.params_.set_index("parameter")["estimate"]
    assert model.coefficients()["g"] == pytest.approx(np.log(3.0), abs=0.2)
    assert est["alpha_scale"] == pytest.approx(BG["alpha"], rel=0.2)
    assert est["r"] == pytest.approx(BG["r"], rel=0.2)
    # two new one-time buyers of the same age: the one in the frequent group is expected to buy more (the rate's
    # posterior mean r / (alpha + T) is about (4.414 + 1) / (4.414 / 3 + 1) = 2.2 times higher)
    pair = pd.DataFrame({CUSTOMER: ["slow", "fast"], "frequency": [0, 0], "recency": [0.0, 0.0], "T": [1.0, 1.0],
                         "g": [0.0, 1.0]})
    pred = model.predict(pair, horizon=52.0).set_index(CUSTOMER)["expected_purchases"]
    assert pred["fast"] > 1.5 * pred["slow"]
    assert "converged" in model.summary() and "g x" in model.summary()


@pytest.mark.parametrize("table, covariates, match", [
    (pd.DataFrame({CUSTOMER: ["a", "b"], "frequency": [0, 1], "recency": [0.0, 2.0], "T": [5.0, 5.0]}), ["g"],
     r"covariate column\(s\) \['g'\] are missing"),
    (pd.DataFrame({CUSTOMER: ["a", "b"], "frequency": [0, 1], "recency": [0.0, 2.0], "T": [5.0, 5.0], "g": ["x", "y"]}),
     ["g"], "must be numeric and finite"),
    (pd.DataFrame({CUSTOMER: ["a", "b"], "frequency": [0, 1], "recency": [0.0, 2.0], "T": [5.0, 5.0],
                   "g": [1.0, np.nan]}), ["g"], "must be numeric and finite"),
    (pd.DataFrame({CUSTOMER: ["a", "b"], "frequency": [0, 1], "recency": [0.0, 2.0], "T": [5.0, 5.0], "g": [1.0, 1.0]}),
     ["g"], r"take a single value"),
    (pd.DataFrame({CUSTOMER: ["a", "b"], "frequency": [0, 1], "recency": [0.0, 2.0], "T": [5.0, 5.0]}), [],
     "no covariate given"),
    (pd.DataFrame({CUSTOMER: ["a", "a"], "frequency": [0, 1], "recency": [0.0, 2.0], "T": [5.0, 5.0], "g": [0.0, 1.0]}),
     ["g"], "duplicates"),
], ids=["missing", "text", "nan", "constant", "none", "duplicate-customer"])
def test_fit_refuses_unusable_covariates(table, covariates, match):
    with pytest.raises(ValueError, match=match):
        CovariateBGNBD(covariates).fit(table)


def test_predict_and_to_dict_refuse_an_unfitted_model():
    rfm = pd.DataFrame({CUSTOMER: ["a"], "frequency": [0], "recency": [0.0], "T": [5.0], "g": [1.0]})
    with pytest.raises(ValueError, match="not fitted yet"):
        CovariateBGNBD(["g"]).predict(rfm, 10.0)
    with pytest.raises(ValueError, match="not fitted yet"):
        CovariateBGNBD(["g"]).to_dict()


# ----------------------------------------------------------------------------- covariates from the first order


def _orders() -> pd.DataFrame:
    """a: first order SP/toys, then RJ/books; b: RJ/books twice; c: SP/toys; d: first order after the cut only."""
    return pd.DataFrame({
        CUSTOMER: ["a", "a", "b", "b", "c", "d"],
        "order_purchase_timestamp": pd.to_datetime(["2018-01-02", "2018-01-20", "2018-01-05", "2018-01-25",
                                                    "2018-01-10", "2018-03-01"]),
        "customer_state": ["SP", "RJ", "RJ", "RJ", "SP", "MG"],
        "product_category": ["toys", "books", "books", "books", None, "toys"],
    })


def _people() -> pd.DataFrame:
    return pd.DataFrame({CUSTOMER: ["c", "a", "b"], "frequency": [0, 1, 1]})


def test_covariates_come_from_each_persons_first_order_by_the_cut():
    cov, info = first_order_covariates(_orders(), _people(), "2018-01-31", top_k=3, min_repeat=1)
    # a's first order was in SP (their later RJ order does not count); c's missing category is "unknown"
    # SP and RJ both have one repeat buyer; the larger level (SP: a, c) is the reference
    expected = pd.DataFrame({CUSTOMER: ["c", "a", "b"], "customer_state=RJ": [0.0, 0.0, 1.0],
                             "product_category=toys": [0.0, 1.0, 0.0]})
    pd.testing.assert_frame_equal(cov, expected)
    assert info["customer_state"]["reference"] == "SP" and info["customer_state"]["levels"] == ["RJ"]
    # books (b) and toys (a) have one person and one repeat buyer each (ties in name order); "unknown" (c) has no
    # repeat buyer: it gets no indicator, nor a usable "other", so it is counted with the reference
    assert info["product_category"]["reference"] == "books"
    assert info["product_category"]["reference_includes_small_levels"] is True


def test_a_level_without_enough_repeat_buyers_has_no_indicator_and_none_at_all_is_a_reason_to_skip():
    with pytest.raises(ValueError, match="no usable static covariate: customer_state, product_category"):
        first_order_covariates(_orders(), _people(), "2018-01-31", min_repeat=2)


@pytest.mark.parametrize("orders, kwargs, match", [
    (_orders().drop(columns=["customer_state", "product_category"]), {}, "no region nor category column"),
    (_orders(), {"columns": ["country"]}, r"no covariate column\(s\) \['country'\]"),
    (_orders(), {"top_k": 1}, "top_k must be at least 2"),
    (_orders().drop(columns=["order_purchase_timestamp"]), {}, r"orders has no column\(s\)"),
], ids=["no-columns", "unknown-column", "top-k", "no-timestamp"])
def test_first_order_covariates_refuse_what_they_cannot_use(orders, kwargs, match):
    with pytest.raises(ValueError, match=match):
        first_order_covariates(orders, _people(), "2018-01-31", **kwargs)


def test_a_person_without_an_order_by_the_cut_is_refused():
    people = pd.DataFrame({CUSTOMER: ["a", "d"], "frequency": [1, 0]})
    with pytest.raises(ValueError, match=r"1 person\(s\) at the cut have no order on or before 2018-01-31"):
        first_order_covariates(_orders(), people, "2018-01-31", min_repeat=1)


# ----------------------------------------------------------------------------- in the model comparison


def test_the_comparison_adds_the_covariate_model_with_the_all_orders_spend_or_says_why_not():
    rng = np.random.default_rng(3)
    n = 3000
    data = _draw(np.full(n, BG["alpha"]), seed=3)
    region = rng.choice(["SP", "RJ", "MG"], size=n)
    orders = pd.DataFrame({CUSTOMER: data[CUSTOMER], "order_purchase_timestamp": pd.Timestamp("2017-06-01"),
                           "customer_state": region, "product_category": "toys"})
    features = data.assign(monetary_value=0.0, calibration_spend=50.0)
    windows = {"cut": pd.Timestamp("2018-01-31"), "holdout_end": pd.Timestamp("2018-07-31")}
    spend = pd.DataFrame({CUSTOMER: data[CUSTOMER], "expected_purchases": 1.0, "p_alive": 1.0,
                          "expected_spend": np.linspace(10, 20, n), "predicted_value": 0.0})
    fitted, predictions = {}, {"bgnbd+first": spend}
    params0 = pd.DataFrame({"model": ["purchase"], "parameter": ["r"], "estimate": [0.2], "fit": ["bgnbd"]})
    params, notes = add_covariate_btyd(features, orders, windows, fitted, predictions, params0)
    assert notes == {}
    model = fitted["bgnbd+cov"]
    # the category takes one value: no indicator; the region has three levels: two indicators besides the reference
    reference = model.covariate_info_["customer_state"]["reference"]
    assert set(model.covariates) == {f"customer_state={s}" for s in ("SP", "RJ", "MG") if s != reference}
    pred = predictions["bgnbd+cov"]
    np.testing.assert_allclose(pred["predicted_value"], pred["expected_purchases"] * spend["expected_spend"])
    assert set(params["fit"]) == {"bgnbd", "bgnbd+cov"}
    assert model.to_dict()["covariate_info"]["customer_state"]["meaning"] == "region"
    assert model_label(btyd_column("bgnbd+cov")) == "BG/NBD with covariates x Gamma-Gamma with the first order"
    # the scores table carries it under its own column
    preds = pd.DataFrame({CUSTOMER: data[CUSTOMER], "predicted_value": 1.0, "predicted_value_pnbd": 2.0,
                          "predicted_value_bgnbd+cov": pred["predicted_value"].to_numpy()})
    scores = scores_table(features.assign(calibration_spend=1.0), preds, pd.DataFrame({CUSTOMER: data[CUSTOMER]}))
    assert list(scores.columns) == [CUSTOMER, "calibration_spend", "btyd:bgnbd", "btyd:pnbd", "btyd:bgnbd+cov"]
    # without region or category in the orders: skipped, with the reason
    fitted2, predictions2 = {}, {"bgnbd+first": spend}
    same, notes = add_covariate_btyd(features, orders[[CUSTOMER, "order_purchase_timestamp"]], windows, fitted2,
                                     predictions2, params0)
    assert same is params0 and "bgnbd+cov" not in fitted2 and "bgnbd+cov" not in predictions2
    assert notes["bgnbd+cov"].startswith("BG/NBD with covariates x Gamma-Gamma with the first order is not fitted: "
                                         "no static covariate")
