"""Tests for clvlib.btyd: RFM tables by hand, validation, parameter recovery, weights, predictions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from clvlib.models.btyd import BTYDModel, calibration_holdout_summary, compress_rfm, plot_p_alive_matrix, plot_repeat_purchases, rfm_summary

# BG/NBD parameters of CDNOW in weeks (Fader, Hardie & Lee 2005) and Gamma-Gamma of CDNOW (Fader & Hardie 2013).
BG_TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG_TRUE = {"p": 6.25, "q": 3.74, "v": 15.44}


def _tx() -> pd.DataFrame:
    """Three customers (plus one who starts too late); A buys twice on 5 January."""
    return pd.DataFrame(
        {
            "cid": ["A", "A", "A", "A", "B", "C", "C", "C", "D"],
            "when": ["2024-01-01 09:00", "2024-01-05 10:00", "2024-01-05 15:00", "2024-01-11",
                     "2024-01-03", "2024-01-02", "2024-01-09", "2024-01-20", "2024-01-16"],
            "amount": [10.0, 20.0, 5.0, 30.0, 50.0, 7.0, 3.0, 100.0, 8.0],
        }
    )


# ----------------------------------------------------------------------------- RFM tables


def test_rfm_summary_matches_a_hand_computed_table():
    # A: days 0, 4 (20 + 5 on one day = one purchase of 25), 10 -> 2 repeats, recency 10, T 14, mean(25, 30).
    # B: one purchase on day 2 of the period -> T = 12. C: days 1 and 8 -> 1 repeat of 3; the 20 Jan
    # purchase is after the end and dropped. D starts after the end and does not appear.
    out = rfm_summary(_tx(), "cid", "when", "amount", observation_period_end="2024-01-15")
    expected = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "frequency": np.array([2, 0, 1], dtype="int64"),
            "recency": [10.0, 0.0, 7.0],
            "T": [14.0, 12.0, 13.0],
            "monetary_value": [27.5, 0.0, 3.0],
        }
    )
    assert_frame_equal(out, expected)
    assert out.attrs["time_unit"] == "D"


def test_rfm_summary_in_weeks_counts_purchase_weeks():
    # Weeks run Monday..Sunday; 1 Jan 2024 is a Monday, so the end (Sunday 14 Jan) closes week 2.
    # A: week 1 (10 + 20 + 5), week 2 (30). C: week 1 (7), week 2 (3). D (16 Jan) is in week 3.
    out = rfm_summary(_tx(), "cid", "when", "amount", observation_period_end="2024-01-14", time_unit="W")
    expected = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C"],
            "frequency": np.array([1, 0, 1], dtype="int64"),
            "recency": [1.0, 0.0, 1.0],
            "T": [1.0, 1.0, 1.0],
            "monetary_value": [30.0, 0.0, 3.0],
        }
    )
    assert_frame_equal(out, expected)


def test_rfm_summary_defaults_to_the_last_purchase_and_omits_monetary_value():
    out = rfm_summary(_tx(), "cid", "when")
    assert list(out.columns) == ["customer_id", "frequency", "recency", "T"]
    # last purchase 20 Jan: A's T = 19 days, C now has 2 repeats with recency 18
    assert out.set_index("customer_id").loc["A", "T"] == 19.0
    assert tuple(out.set_index("customer_id").loc["C", ["frequency", "recency"]]) == (2, 18.0)


def test_calibration_holdout_summary_by_hand_including_same_day_boundaries():
    tx = pd.concat(
        [_tx(), pd.DataFrame({"cid": ["F", "F"], "when": ["2024-01-06 18:00", "2024-01-15 20:00"],
                              "amount": [1.0, 2.0]})],
        ignore_index=True,
    )
    out = calibration_holdout_summary(tx, "cid", "when", "amount", calibration_end="2024-01-06",
                                      holdout_end="2024-01-15")
    # Calibration = whole days up to 6 Jan; holdout = 7..15 Jan (9 days, 15 Jan included all day).
    # A: cal 1 Jan, 5 Jan (25) -> f 1, r 4, T 5; holdout 11 Jan (30). B: cal only. C: holdout 9 Jan (3),
    # 20 Jan dropped. D: first purchase in the holdout -> excluded. F: 6 Jan evening is calibration.
    expected = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "F"],
            "frequency": np.array([1, 0, 0, 0], dtype="int64"),
            "recency": [4.0, 0.0, 0.0, 0.0],
            "T": [5.0, 3.0, 4.0, 0.0],
            "monetary_value": [25.0, 0.0, 0.0, 0.0],
            "holdout_frequency": np.array([1, 0, 1, 1], dtype="int64"),
            "holdout_spend": [30.0, 0.0, 3.0, 2.0],
            "holdout_duration": [9.0, 9.0, 9.0, 9.0],
        }
    )
    assert_frame_equal(out, expected)


def test_calibration_holdout_summary_accepts_an_empty_holdout():
    out = calibration_holdout_summary(_tx(), "cid", "when", "amount", calibration_end="2024-01-12",
                                      holdout_end="2024-01-14")
    assert out["holdout_frequency"].eq(0).all() and out["holdout_spend"].eq(0).all()
    assert out["holdout_duration"].eq(2.0).all()


def test_compress_rfm_counts_customers_per_triple():
    rfm = pd.DataFrame({"customer_id": [1, 2, 3, 4], "frequency": [0, 0, 1, 0], "recency": [0.0, 0.0, 3.0, 0.0],
                        "T": [5.0, 5.0, 9.0, 7.0]})
    out = compress_rfm(rfm)
    assert out["n_customers"].tolist() == [2, 1, 1]
    assert out["n_customers"].sum() == len(rfm)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda t: t.drop(columns="amount"), r"transactions: missing column\(s\) \['amount'\]"),
        (lambda t: t.assign(when=t["when"].where(t.index != 2, "not a date")), r"'when' has 1 value\(s\) that are not ISO dates"),
        (lambda t: t.assign(when=t["when"].where(t.index != 2, None)), r"'when' is empty in 1 row"),
        (lambda t: t.assign(amount=t["amount"].where(t.index != 1, -5.0)), r"'amount' has 1 negative value"),
        (lambda t: t.assign(amount=t["amount"].astype(object).where(t.index != 1, "12,5")), r"'amount' has 1 non-numeric"),
        (lambda t: t.assign(cid=t["cid"].where(t.index != 0, None)), r"'cid' is empty in 1 row"),
    ],
    ids=["missing-column", "bad-date", "missing-date", "negative-amount", "non-numeric-amount", "missing-customer"],
)
def test_rfm_summary_rejects_bad_transactions_with_a_clear_message(change, match):
    with pytest.raises(ValueError, match=match):
        rfm_summary(change(_tx()), "cid", "when", "amount")


def test_rfm_summary_rejects_unknown_time_unit_and_too_early_end():
    with pytest.raises(ValueError, match=r"time_unit must be one of \('D', 'W'\)"):
        rfm_summary(_tx(), "cid", "when", time_unit="M")
    with pytest.raises(ValueError, match="no purchase on or before observation_period_end=2023-12-31"):
        rfm_summary(_tx(), "cid", "when", observation_period_end="2023-12-31")


def test_calibration_holdout_summary_rejects_holdout_before_calibration():
    with pytest.raises(ValueError, match="holdout_end .* must be after calibration_end"):
        calibration_holdout_summary(_tx(), "cid", "when", calibration_end="2024-01-10", holdout_end="2024-01-10")


@pytest.mark.parametrize(
    ("rfm", "match"),
    [
        (pd.DataFrame({"customer_id": [1], "frequency": [0], "recency": [0.0]}), r"rfm: missing column\(s\) \['T'\]"),
        (pd.DataFrame({"customer_id": [1, 1], "frequency": [0, 0], "recency": [0.0, 0.0], "T": [3.0, 4.0]}),
         "'customer_id' has duplicates"),
        (pd.DataFrame({"customer_id": [1], "frequency": [1], "recency": [5.0], "T": [3.0]}), "'recency' exceeds 'T'"),
        (pd.DataFrame({"customer_id": [1], "frequency": [1.5], "recency": [1.0], "T": [3.0]}), "whole numbers"),
    ],
    ids=["missing-T", "duplicate-customer", "recency-after-T", "fractional-frequency"],
)
def test_fit_rejects_a_bad_rfm_table(rfm, match):
    with pytest.raises(ValueError, match=match):
        BTYDModel().fit(rfm)


def test_fit_refuses_an_rfm_table_in_another_time_unit():
    rfm = rfm_summary(_tx(), "cid", "when", time_unit="W")
    with pytest.raises(ValueError, match="built with time_unit='W' but the model has time_unit='D'"):
        BTYDModel(time_unit="D").fit(rfm)


def test_unknown_model_settings_are_rejected():
    rfm = rfm_summary(_tx(), "cid", "when")
    with pytest.raises(ValueError, match="purchase_model must be one of"):
        BTYDModel(purchase_model="mbgnbd").fit(rfm)
    with pytest.raises(ValueError, match="method must be 'map' or 'mcmc'"):
        BTYDModel(method="advi").fit(rfm)


# ----------------------------------------------------------------------------- simulated data


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    """5,000 CDNOW-like customers in weeks from BG/NBD (pymc-marketing's simulator) x Gamma-Gamma."""
    import pymc as pm
    from pymc_marketing.clv.distributions import BetaGeoNBD

    rng = np.random.default_rng(0)
    n = 5000
    T = rng.integers(26, 79, size=n).astype(float)
    rf = pm.draw(BetaGeoNBD.dist(T=T, **BG_TRUE), random_seed=rng)
    freq = rf[:, 1].astype(int)
    nu = rng.gamma(GG_TRUE["q"], 1.0 / GG_TRUE["v"], size=n)
    money = np.array([rng.gamma(GG_TRUE["p"], 1.0 / nu[i], size=k).mean() if k else 0.0 for i, k in enumerate(freq)])
    return pd.DataFrame({"customer_id": [f"c{i:05d}" for i in range(n)], "frequency": freq,
                         "recency": rf[:, 0], "T": T, "monetary_value": money})


@pytest.fixture(scope="module")
def bg_fit(simulated) -> BTYDModel:
    return BTYDModel("bgnbd", time_unit="W").fit(simulated)


def test_bgnbd_map_recovers_the_simulated_parameters(bg_fit):
    est = bg_fit.params_.query("model == 'purchase'").set_index("parameter")["estimate"]
    # r and alpha are tightly identified; a and b (dropout) less so with ~2,300 repeat customers.
    assert est["r"] == pytest.approx(BG_TRUE["r"], rel=0.10)
    assert est["alpha"] == pytest.approx(BG_TRUE["alpha"], rel=0.10)
    assert est["a"] == pytest.approx(BG_TRUE["a"], rel=0.30)
    assert est["b"] == pytest.approx(BG_TRUE["b"], rel=0.30)


def test_gamma_gamma_map_recovers_the_population_mean_spend(bg_fit):
    est = bg_fit.params_.query("model == 'spend'").set_index("parameter")["estimate"]
    # p, q, v trade off against each other; the mean spend p v / (q - 1) is what predictions use.
    true_mean = GG_TRUE["p"] * GG_TRUE["v"] / (GG_TRUE["q"] - 1)
    assert est["p"] * est["v"] / (est["q"] - 1) == pytest.approx(true_mean, rel=0.05)
    assert est["p"] == pytest.approx(GG_TRUE["p"], rel=0.30)
    assert est["q"] == pytest.approx(GG_TRUE["q"], rel=0.30)


def test_weighted_bgnbd_fit_equals_pymc_marketings_unweighted_fit(simulated):
    from pymc_marketing.clv import BetaGeoModel
    from pymc_extras.prior import Prior

    data = simulated.iloc[:2000][["customer_id", "frequency", "recency", "T"]]
    ref = BetaGeoModel(model_config={k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")})
    ref.fit(data, method="map", progressbar=False)
    ours = BTYDModel("bgnbd", time_unit="W").fit(data)
    assert ours.n_unique_triples_ < len(data)
    for name in ("r", "alpha", "a", "b"):
        assert ours.purchase_model_.fit_result[name].item() == pytest.approx(ref.fit_result[name].item(), rel=1e-3)


@pytest.mark.parametrize("kind", ["bgnbd", "pnbd"])
def test_weighted_log_likelihood_equals_the_sum_over_all_customers(simulated, kind):
    # The weighted model (unique triples + Potential((n - 1) * loglik)) has exactly the log density of
    # pymc-marketing's model over every customer, at any parameter point.
    from clvlib.models.btyd import _PURCHASE_PARAMS, _add_weights, _flat_priors, _model_class

    data = simulated[["customer_id", "frequency", "recency", "T"]]
    uniq = compress_rfm(data)
    full = _model_class(kind)(model_config=_flat_priors(_PURCHASE_PARAMS[kind]))
    full.build_model(data)
    weighted = _model_class(kind)(model_config=_flat_priors(_PURCHASE_PARAMS[kind]))
    weighted.build_model(uniq.assign(customer_id=np.arange(len(uniq)))[["customer_id", "frequency", "recency", "T"]])
    _add_weights(weighted, uniq["n_customers"].to_numpy())
    point = {f"{name}_log__": np.log(value) for name, value in zip(_PURCHASE_PARAMS[kind], (0.3, 5.0, 0.9, 2.0))}
    assert weighted.model.compile_logp()(point) == pytest.approx(full.model.compile_logp()(point), rel=1e-10)


def test_weighted_pnbd_fit_equals_the_fit_on_every_customer(simulated):
    data = simulated.iloc[:1500][["customer_id", "frequency", "recency", "T"]]
    ours = BTYDModel("pnbd", time_unit="W").fit(data)
    every = BTYDModel("pnbd", time_unit="W", weighted=False).fit(data)
    assert ours.n_unique_triples_ < len(data)
    for name in ("r", "alpha", "s", "beta"):
        assert ours.purchase_model_.fit_result[name].item() == pytest.approx(
            every.purchase_model_.fit_result[name].item(), rel=2e-3)
    pred = ours.predict(data, horizon=26)
    assert list(pred.columns) == ["customer_id", "expected_purchases", "p_alive"]
    assert pred["p_alive"].between(0, 1).all()
    # Pareto/NBD lets one-time buyers age: their P(alive) falls with T (BG/NBD keeps it at 1)
    one_time = pred[data["frequency"].eq(0).to_numpy()].assign(T=data.loc[data["frequency"].eq(0), "T"].to_numpy())
    assert one_time.sort_values("T")["p_alive"].is_monotonic_decreasing
    assert one_time["p_alive"].lt(1).all()


# ----------------------------------------------------------------------------- predictions


def test_predict_returns_one_consistent_row_per_customer_in_input_order(bg_fit, simulated):
    rfm = simulated.sample(frac=1.0, random_state=1)  # shuffled: output must follow the input order
    pred = bg_fit.predict(rfm, horizon=26)
    assert list(pred.columns) == ["customer_id", "expected_purchases", "p_alive", "expected_spend",
                                  "predicted_value", "clv_lifetime"]
    assert len(pred) == len(rfm)
    assert pred["customer_id"].tolist() == rfm["customer_id"].tolist()
    assert pred["p_alive"].between(0, 1).all()
    assert pred["expected_purchases"].gt(0).all()
    np.testing.assert_allclose(pred["predicted_value"], pred["expected_purchases"] * pred["expected_spend"])
    # one-time buyers: BG/NBD P(alive) is 1 and their spend is the Gamma-Gamma population mean
    est = bg_fit.params_.set_index("parameter")["estimate"]
    one_time = pred[rfm["frequency"].eq(0).to_numpy()]
    assert one_time["p_alive"].eq(1.0).all()
    np.testing.assert_allclose(one_time["expected_spend"], est["p"] * est["v"] / (est["q"] - 1), rtol=1e-9)
    # a 12-month discounted value exceeds the 26-week value for everyone (52 weeks > 26 weeks)
    assert (pred["clv_lifetime"] > pred["predicted_value"]).all()


def test_predict_matches_the_closed_form_for_a_new_customer(bg_fit):
    # A customer with no repeat purchase and T = 0 is a new customer: E[X(t)] = (a+b-1)/(a-1) *
    # [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]   (Fader, Hardie & Lee 2005, eq. 9)
    from scipy.special import hyp2f1

    p = bg_fit.params_.set_index("parameter")["estimate"]
    r, alpha, a, b, t = p["r"], p["alpha"], p["a"], p["b"], 30.0
    expected = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    new = pd.DataFrame({"customer_id": ["new"], "frequency": [0], "recency": [0.0], "T": [0.0], "monetary_value": [0.0]})
    assert bg_fit.predict(new, horizon=t)["expected_purchases"].iloc[0] == pytest.approx(expected, rel=1e-9)


def test_predict_rejects_a_non_positive_horizon(bg_fit, simulated):
    with pytest.raises(ValueError, match="horizon must be a positive number"):
        bg_fit.predict(simulated.head(), horizon=0)


def test_parameters_round_trip_through_json(bg_fit, simulated):
    d = json.loads(json.dumps(bg_fit.to_dict()))
    assert d["purchase_model"] == "bgnbd" and d["time_unit"] == "W"
    assert set(d["params"]["purchase"]) == {"r", "alpha", "a", "b"}
    assert set(d["params"]["spend"]) == {"p", "q", "v"}
    loaded = BTYDModel.from_dict(d)
    head = simulated.head(200)
    assert_frame_equal(loaded.predict(head, horizon=26), bg_fit.predict(head, horizon=26), rtol=1e-9)


def test_mcmc_adds_uncertainty_to_parameters_and_predictions(simulated):
    data = simulated.iloc[:600]
    model = BTYDModel("bgnbd", method="mcmc", time_unit="W", mcmc_draws=60, mcmc_tune=100, mcmc_chains=1).fit(data)
    assert {"sd", "hdi_low", "hdi_high", "r_hat"} <= set(model.params_.columns)
    assert model.purchase_model_.idata.posterior.sizes["draw"] == 60
    pred = model.predict(data, horizon=26)
    assert (pred["predicted_value_low"] <= pred["predicted_value"]).all()
    assert (pred["predicted_value"] <= pred["predicted_value_high"]).all()
    json.dumps(model.to_dict())


# ----------------------------------------------------------------------------- diagnostics


def test_diagnostic_plots_return_figures_without_opening_pyplot_windows(bg_fit, simulated):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    before = plt.get_fignums()
    holdout = np.random.default_rng(0).poisson(0.5, size=len(simulated))
    fig = plot_repeat_purchases(simulated, bg_fit, holdout_frequency=holdout, holdout_duration=26)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert isinstance(plot_repeat_purchases(simulated, bg_fit), Figure)
    fig2 = plot_p_alive_matrix(bg_fit)
    assert isinstance(fig2, Figure)
    assert plt.get_fignums() == before


def test_simulated_repeat_purchase_counts_match_the_data(bg_fit, simulated):
    # the fitted model, simulated at the customers' own T, reproduces the share of one-time buyers
    fig = plot_repeat_purchases(simulated, bg_fit)
    actual, model = (np.array([b.get_height() for b in c]) for c in fig.axes[0].containers)
    assert model[0] == pytest.approx(actual[0], rel=0.05)
