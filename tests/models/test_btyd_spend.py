"""Gamma-Gamma on every purchase, the first included: the spend of one-time buyers follows their first order."""

import numpy as np
import pandas as pd
import pytest

from clvlib.models.btyd.spend import AllOrdersSpend, all_orders_summary, with_spend
from clvlib.models.compare import add_all_orders_spend
from clvlib.models.predictions import predictions_table, scores_table
from clvlib.models.scores import btyd_column, model_label

CUSTOMER = "customer_unique_id"


def _population(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """People with 1-4 purchase days (and two with 40), spend per day drawn from a Gamma-Gamma world."""
    rng = np.random.default_rng(seed)
    x = np.where(rng.random(n) < 0.7, 1, rng.integers(2, 5, n))
    x[:2] = 40
    nu = rng.gamma(4.0, 1.0 / 200.0, n)  # q = 4, gamma = 200: mean spend p * gamma / (q - 1) = 400
    total = np.array([rng.gamma(6.0, 1.0 / nu[i], x[i]).sum() for i in range(n)])  # p = 6
    return pd.DataFrame({CUSTOMER: [f"c{i}" for i in range(n)], "frequency": x - 1, "calibration_spend": total})


@pytest.fixture(scope="module")
def fitted() -> tuple[AllOrdersSpend, pd.DataFrame]:
    people = _population()
    return AllOrdersSpend().fit(people), people


def test_the_summary_counts_purchase_days_and_averages_every_days_spend():
    f = pd.DataFrame({CUSTOMER: ["a", "b"], "frequency": [0, 2], "calibration_spend": [50.0, 300.0]})
    out = all_orders_summary(f)
    assert out["frequency"].tolist() == [1.0, 3.0]
    assert out["monetary_value"].tolist() == [50.0, 100.0]


def test_a_one_time_buyer_with_a_large_first_order_is_expected_to_spend_more(fitted):
    model, _ = fitted
    one_timers = pd.DataFrame({CUSTOMER: ["small", "large"], "frequency": [0, 0], "calibration_spend": [20.0, 900.0]})
    spend = model.expected_spend(one_timers).set_index(CUSTOMER)["expected_spend"]
    assert spend["large"] > spend["small"] > 0
    # between the person's own value and the population mean p v / (q - 1): shrunk, not copied
    est = model.params_.set_index("parameter")["estimate"]
    mean = est["p"] * est["v"] / (est["q"] - 1)
    assert 20.0 < spend["small"] < mean < spend["large"] < 900.0


def test_the_expected_spend_is_the_gamma_gamma_conditional_mean_by_hand(fitted):
    model, _ = fitted
    f = pd.DataFrame({CUSTOMER: ["a", "b", "c"], "frequency": [0, 1, 4], "calibration_spend": [100.0, 500.0, 0.0]})
    p, q, v = model.params_.set_index("parameter")["estimate"][["p", "q", "v"]]
    x = np.array([1.0, 2.0, 5.0])
    z = np.array([100.0, 250.0, 0.0])
    np.testing.assert_allclose(model.expected_spend(f)["expected_spend"], p * (v + x * z) / (p * x + q - 1), rtol=1e-9)


def test_the_fit_recovers_the_world_it_was_drawn_from(fitted):
    model, _ = fitted
    est = model.params_.set_index("parameter")["estimate"]
    assert est["p"] * est["v"] / (est["q"] - 1) == pytest.approx(400.0, rel=0.15)
    assert model.n_customers_ == 400 and model.n_one_time_ > 200


def test_a_buyer_with_many_purchases_gets_about_their_own_mean_as_in_the_standard_model(fitted):
    from clvlib.models.btyd._pymc import posterior_draws
    from clvlib.models.btyd.fit import fit_spend_model

    model, people = fitted
    repeat = people[people["frequency"] > 0]
    # the standard model: Gamma-Gamma on repeat customers' repeat purchases (here: their mean over every day)
    std = pd.DataFrame({"customer_id": range(len(repeat)), "frequency": repeat["frequency"].astype(float).to_numpy(),
                        "monetary_value": (repeat["calibration_spend"] / (repeat["frequency"] + 1)).to_numpy()})
    gg, _ = fit_spend_model(std, None, method="map", sampler_kwargs={})
    heavy = people.iloc[:2]  # 40 purchase days each
    own = (heavy["calibration_spend"] / 40).to_numpy()
    ours = model.expected_spend(heavy)["expected_spend"].to_numpy()
    standard = posterior_draws(gg.expected_customer_spend(data=pd.DataFrame(
        {"customer_id": [0, 1], "frequency": [39.0, 39.0], "monetary_value": own}))).mean(axis=0)
    np.testing.assert_allclose(ours, own, rtol=0.05)
    np.testing.assert_allclose(ours, standard, rtol=0.05)


def test_orders_after_the_cut_change_nothing(fitted):
    from clvlib.features.temporal import population_features

    model, _ = fitted
    orders = pd.DataFrame({CUSTOMER: ["a", "a", "b", "b", "c"], "order_id": ["o1", "o2", "o3", "o4", "o5"],
                           "order_purchase_timestamp": pd.to_datetime(["2018-01-05 09:00", "2018-03-02 12:00",
                                                                       "2018-02-01 08:00", "2018-02-20 10:00",
                                                                       "2018-02-28 23:00"]),
                           "order_value": [80.0, 999.0, 40.0, 60.0, 500.0]})
    later = orders.copy()
    later.loc[orders["order_purchase_timestamp"] >= "2018-03-01", "order_value"] = 5.0  # the cut day is whole
    later = pd.concat([later, orders.iloc[[2]].assign(order_id="o9", order_purchase_timestamp=pd.Timestamp("2018-03-10"))])
    a = model.expected_spend(population_features(orders, "2018-02-28"))
    b = model.expected_spend(population_features(later, "2018-02-28"))
    pd.testing.assert_frame_equal(a.sort_values(CUSTOMER, ignore_index=True), b.sort_values(CUSTOMER, ignore_index=True))
    by = a.set_index(CUSTOMER)["expected_spend"]
    assert by["c"] > by["a"]  # one-time buyers by the cut: 500 against 80


def test_bgnbd_first_multiplies_bgnbds_purchases_by_the_new_spend_and_joins_the_score_tables(fitted, monkeypatch):
    model, people = fitted
    import clvlib.models.compare as compare

    monkeypatch.setattr(compare, "AllOrdersSpend", lambda **kw: model)
    monkeypatch.setattr(model, "fit", lambda features: model)
    features = people.iloc[:3].assign(recency=0.0, T=30.0)
    bg = pd.DataFrame({CUSTOMER: features[CUSTOMER], "expected_purchases": [0.1, 0.2, 0.3], "p_alive": 1.0,
                       "expected_spend": 400.0, "predicted_value": [40.0, 80.0, 120.0], "clv_lifetime": 1.0})
    fitted_models, predictions = {"bgnbd": object()}, {"bgnbd": bg, "pnbd": bg}
    params = add_all_orders_spend(features, fitted_models, predictions, pd.DataFrame({"fit": ["bgnbd"]}))
    assert fitted_models["bgnbd+first"] is model and params["fit"].tolist() == ["bgnbd", *["bgnbd+first"] * 3]
    new = predictions["bgnbd+first"]
    np.testing.assert_allclose(new["predicted_value"], bg["expected_purchases"] * model.expected_spend(features)["expected_spend"])
    hyb = pd.DataFrame({CUSTOMER: features[CUSTOMER], "hybrid:rfm": 1.0, "p_buy:rfm": 0.5})
    table = predictions_table(predictions, hyb, "hybrid:rfm")
    scores = scores_table(features, table, hyb)
    assert list(scores.columns) == [CUSTOMER, "calibration_spend", "btyd:bgnbd", "btyd:pnbd", "btyd:bgnbd+first", "hybrid:rfm"]
    np.testing.assert_allclose(scores["btyd:bgnbd+first"], new["predicted_value"])
    assert model_label(btyd_column("bgnbd+first")) == "BG/NBD x Gamma-Gamma with the first order"


def test_no_all_orders_score_without_bgnbd():
    predictions = {"pnbd": pd.DataFrame()}
    params = pd.DataFrame({"fit": ["pnbd"]})
    assert add_all_orders_spend(pd.DataFrame(), {"pnbd": object()}, predictions, params) is params
    assert list(predictions) == ["pnbd"]


@pytest.mark.parametrize("features, match", [
    (pd.DataFrame({CUSTOMER: ["a"], "frequency": [0]}), r"missing column\(s\) \['calibration_spend'\]"),
    (pd.DataFrame({CUSTOMER: ["a"], "frequency": [0], "calibration_spend": [-1.0]}), "'calibration_spend' must be finite and >= 0"),
    (pd.DataFrame({CUSTOMER: ["a"], "frequency": [0.5], "calibration_spend": [1.0]}), "whole repeat purchase days"),
    (pd.DataFrame({CUSTOMER: ["a", "a"], "frequency": [0, 0], "calibration_spend": [1.0, 2.0]}), "not unique"),
    (pd.DataFrame({CUSTOMER: [], "frequency": [], "calibration_spend": []}), "no rows"),
], ids=["missing column", "negative spend", "fractional frequency", "duplicate person", "empty"])
def test_bad_features_are_refused(features, match):
    with pytest.raises(ValueError, match=match):
        all_orders_summary(features)


def test_errors_of_the_model_and_of_with_spend():
    few = pd.DataFrame({CUSTOMER: list("abc"), "frequency": [0, 0, 1], "calibration_spend": [10.0, 20.0, 0.0]})
    with pytest.raises(ValueError, match="only 2 person"):
        AllOrdersSpend().fit(few)
    with pytest.raises(ValueError, match="method must be 'map' or 'mcmc'"):
        AllOrdersSpend(method="mle").fit(few)
    with pytest.raises(ValueError, match="not fitted yet"):
        AllOrdersSpend().expected_spend(few)
    bg = pd.DataFrame({CUSTOMER: ["a", "b"], "expected_purchases": [0.1, 0.2], "p_alive": 1.0})
    with pytest.raises(ValueError, match="one row for every person"):
        with_spend(bg, pd.DataFrame({CUSTOMER: ["a"], "expected_spend": [5.0]}))
    with pytest.raises(ValueError, match=r"no column\(s\) \['expected_spend'\]"):
        with_spend(bg, pd.DataFrame({CUSTOMER: ["a", "b"]}))
    with pytest.raises(ValueError, match="BTYD model must be one of"):
        btyd_column("bgnbd+last")
