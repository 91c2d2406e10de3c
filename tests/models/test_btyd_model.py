"""Tests for clvlib.models.btyd: parameter recovery, weights, predictions, save/load, diagnostics, the id column."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from clvlib.features.rfm import rfm_summary
from clvlib.models.btyd import BTYDModel, plot_p_alive_matrix, plot_repeat_purchases
from clvlib.schemas import CUSTOMER

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


def test_the_package_re_exports_the_public_api():
    import clvlib.features.rfm as rfm
    import clvlib.models.btyd as btyd

    assert btyd.rfm_summary is rfm.rfm_summary
    assert btyd.calibration_holdout_summary is rfm.calibration_holdout_summary
    assert set(btyd.__all__) == {"TIME_UNITS", "PURCHASE_MODELS", "rfm_summary", "calibration_holdout_summary",
                                 "compress_rfm", "BTYDModel", "plot_repeat_purchases", "plot_p_alive_matrix"}
    assert all(hasattr(btyd, name) for name in btyd.__all__)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("rfm", "match"),
    [
        (pd.DataFrame({CUSTOMER: [1], "frequency": [0], "recency": [0.0]}), r"rfm: missing column\(s\) \['T'\]"),
        (pd.DataFrame({CUSTOMER: [1, 1], "frequency": [0, 0], "recency": [0.0, 0.0], "T": [3.0, 4.0]}),
         f"'{CUSTOMER}' has duplicates"),
        (pd.DataFrame({CUSTOMER: [1], "frequency": [1], "recency": [5.0], "T": [3.0]}), "'recency' exceeds 'T'"),
        (pd.DataFrame({CUSTOMER: [1], "frequency": [1.5], "recency": [1.0], "T": [3.0]}), "whole numbers"),
        (pd.DataFrame({"customer_id": [1], "frequency": [0], "recency": [0.0], "T": [3.0]}),
         rf"rfm: missing column\(s\) \['{CUSTOMER}'\].*customer_col="),
    ],
    ids=["missing-T", "duplicate-customer", "recency-after-T", "fractional-frequency", "other-id-column"],
)
def test_fit_rejects_a_bad_rfm_table(rfm, match):
    with pytest.raises(ValueError, match=match):
        BTYDModel().fit(rfm)


def test_fit_refuses_an_rfm_table_in_another_time_unit():
    rfm = rfm_summary(_tx(), "cid", "when", time_unit="W")
    with pytest.raises(ValueError, match="built with time_unit='W' but the model has time_unit='D'"):
        BTYDModel(time_unit="D").fit(rfm, customer_col="cid")


def test_unknown_model_settings_are_rejected():
    rfm = rfm_summary(_tx(), "cid", "when")
    with pytest.raises(ValueError, match="purchase_model must be one of"):
        BTYDModel(purchase_model="mbgnbd").fit(rfm, customer_col="cid")
    with pytest.raises(ValueError, match="method must be 'map' or 'mcmc'"):
        BTYDModel(method="advi").fit(rfm, customer_col="cid")


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
    return pd.DataFrame({CUSTOMER: [f"c{i:05d}" for i in range(n)], "frequency": freq,
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
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel

    # pymc-marketing needs its id column to be called customer_id; BTYDModel takes it as customer_col=
    data = simulated.iloc[:2000][[CUSTOMER, "frequency", "recency", "T"]].rename(columns={CUSTOMER: "customer_id"})
    ref = BetaGeoModel(model_config={k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")})
    ref.fit(data, method="map", progressbar=False)
    ours = BTYDModel("bgnbd", time_unit="W").fit(data, customer_col="customer_id")
    assert ours.n_unique_triples_ < len(data)
    for name in ("r", "alpha", "a", "b"):
        assert ours.purchase_model_.fit_result[name].item() == pytest.approx(ref.fit_result[name].item(), rel=1e-3)


def test_weighted_pnbd_fit_equals_the_fit_on_every_customer(simulated):
    data = simulated.iloc[:1500][[CUSTOMER, "frequency", "recency", "T"]]
    ours = BTYDModel("pnbd", time_unit="W").fit(data)
    every = BTYDModel("pnbd", time_unit="W", weighted=False).fit(data)
    assert ours.n_unique_triples_ < len(data)
    for name in ("r", "alpha", "s", "beta"):
        assert ours.purchase_model_.fit_result[name].item() == pytest.approx(
            every.purchase_model_.fit_result[name].item(), rel=2e-3)
    pred = ours.predict(data, horizon=26)
    assert list(pred.columns) == [CUSTOMER, "expected_purchases", "p_alive"]
    assert pred["p_alive"].between(0, 1).all()
    # Pareto/NBD lets one-time buyers age: their P(alive) falls with T (BG/NBD keeps it at 1)
    one_time = pred[data["frequency"].eq(0).to_numpy()].assign(T=data.loc[data["frequency"].eq(0), "T"].to_numpy())
    assert one_time.sort_values("T")["p_alive"].is_monotonic_decreasing
    assert one_time["p_alive"].lt(1).all()


# ----------------------------------------------------------------------------- default fit = MLE
# The published log-likelihoods, written out with scipy and maximised with scipy: a default fit
# (flat priors, MAP) must land on the same maximum.


def _bgnbd_loglik(params, x, tx, T):
    """Fader, Hardie & Lee (2005), eq. 6."""
    from scipy.special import gammaln

    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf)
    return float(np.sum(a1 + a2 + np.logaddexp(a3, a4)))


def _pnbd_loglik(params, x, tx, T):
    """Fader & Hardie (2005), "A note on deriving the Pareto/NBD model and related expressions", eq. 22."""
    from scipy.special import gammaln, hyp2f1

    r, alpha, s, beta = params
    rsx = r + s + x
    if alpha >= beta:
        big, b2 = alpha, s + 1
        z = lambda t: (alpha - beta) / (alpha + t)  # noqa: E731
    else:
        big, b2 = beta, r + x
        z = lambda t: (beta - alpha) / (beta + t)  # noqa: E731
    # A0 = 2F1(.., z(tx)) / (big + tx)^rsx - 2F1(.., z(T)) / (big + T)^rsx, in logs for stability
    l1 = np.log(hyp2f1(rsx, b2, rsx + 1, z(tx))) - rsx * np.log(big + tx)
    l2 = np.log(hyp2f1(rsx, b2, rsx + 1, z(T))) - rsx * np.log(big + T)
    with np.errstate(divide="ignore"):  # recency == T: A0 = 0, log A0 = -inf, which logaddexp takes
        log_a0 = l1 + np.log1p(-np.exp(l2 - l1))
    first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    second = np.log(s) - np.log(rsx) + log_a0
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + np.logaddexp(first, second)
    return float(np.sum(ll))


def _gg_loglik(params, x, m):
    """Fader & Hardie (2013), the Gamma-Gamma model of monetary value, eq. 1 (repeat customers)."""
    from scipy.special import gammaln

    p, q, v = params
    px = p * x
    return float(np.sum(gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m)
                        + px * np.log(x) - (px + q) * np.log(v + x * m)))


def _scipy_mle(loglik, x0, *data):
    from scipy.optimize import minimize

    res = minimize(lambda z: -loglik(np.exp(z), *data), np.log(x0), method="Nelder-Mead",
                   options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 20000, "maxfev": 20000})
    return np.exp(res.x), -res.fun


@pytest.mark.parametrize(("kind", "names", "loglik", "x0"),
                         [("bgnbd", ("r", "alpha", "a", "b"), _bgnbd_loglik, (0.5, 5.0, 1.0, 2.0)),
                          ("pnbd", ("r", "alpha", "s", "beta"), _pnbd_loglik, (0.5, 5.0, 0.5, 5.0))],
                         ids=["bgnbd", "pnbd"])
def test_the_default_fit_is_the_maximum_of_the_published_likelihood(simulated, kind, names, loglik, x0):
    data = simulated.iloc[:1500]
    x, tx, T = (data[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    mle, best = _scipy_mle(loglik, x0, x, tx, T)
    fit = BTYDModel(kind, time_unit="W").fit(data).params_.query("model == 'purchase'").set_index("parameter")
    ours = np.array([fit.loc[n, "estimate"] for n in names])
    assert loglik(ours, x, tx, T) == pytest.approx(best, abs=1e-3)  # the same maximum ...
    np.testing.assert_allclose(ours, mle, rtol=5e-3)  # ... at the same place


def test_the_default_spend_fit_is_the_gamma_gamma_mle(bg_fit, simulated):
    rep = simulated[(simulated["frequency"] > 0) & (simulated["monetary_value"] > 0)]
    x, m = rep["frequency"].to_numpy(float), rep["monetary_value"].to_numpy(float)
    mle, best = _scipy_mle(_gg_loglik, (5.0, 3.0, 15.0), x, m)
    est = bg_fit.params_.query("model == 'spend'").set_index("parameter")["estimate"]
    ours = est[["p", "q", "v"]].to_numpy()
    assert _gg_loglik(ours, x, m) == pytest.approx(best, abs=1e-3)
    np.testing.assert_allclose(ours, mle, rtol=5e-3)


def test_informative_priors_stay_an_option_and_move_the_pnbd_fit(simulated):
    from clvlib.models.btyd.fit import default_purchase_priors, informative_purchase_priors

    assert {str(p.distribution) for p in default_purchase_priors("pnbd").values()} == {"HalfFlat"}
    data = simulated.iloc[:1500]
    flat = BTYDModel("pnbd", time_unit="W").fit(data)
    prior = BTYDModel("pnbd", time_unit="W", purchase_model_config=informative_purchase_priors("pnbd")).fit(data)
    assert prior.to_dict()["priors"]["purchase"]["s"]["dist"] == "Weibull"
    assert flat.to_dict()["priors"]["purchase"]["s"]["dist"] == "HalfFlat"
    f, p = (m.params_.set_index("parameter")["estimate"] for m in (flat, prior))
    assert abs(f["s"] - p["s"]) > 1e-3 * f["s"]


def test_weeks_give_the_fit_of_days_with_the_rate_scale_times_seven():
    # a BG/NBD world in days (r 0.6, alpha 40, a 1, b 3): purchase gaps ~ Exp(lambda), drop out after each
    rng = np.random.default_rng(4)
    n = 1000
    first = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.uniform(0, 300, n), unit="D")
    rows = []
    for i in range(n):
        lam, p, t = rng.gamma(0.6, 1 / 40), rng.beta(1.0, 3.0), 0.0
        while t < 420:
            rows.append((f"c{i}", first[i] + pd.Timedelta(days=t), float(rng.gamma(4.0, 10.0))))
            if rng.uniform() < p:
                break
            t += rng.exponential(1 / lam)
    tx = pd.DataFrame(rows, columns=["cid", "when", "amount"])
    end = "2024-01-31"  # a Wednesday: purchases later that week must not count
    by_day = rfm_summary(tx, "cid", "when", "amount", observation_period_end=end)
    by_week = rfm_summary(tx, "cid", "when", "amount", observation_period_end=end, time_unit="W")
    assert by_week["frequency"].equals(by_day["frequency"])
    d = BTYDModel("bgnbd").fit(by_day, customer_col="cid").params_.set_index("parameter")["estimate"]
    w = BTYDModel("bgnbd", time_unit="W").fit(by_week, customer_col="cid").params_.set_index("parameter")["estimate"]
    for name in ("r", "a", "b", "p", "q", "v"):
        assert w[name] == pytest.approx(d[name], rel=1e-3), name
    assert w["alpha"] * 7 == pytest.approx(d["alpha"], rel=1e-3)


# ----------------------------------------------------------------------------- predictions


def test_predict_returns_one_consistent_row_per_customer_in_input_order(bg_fit, simulated):
    rfm = simulated.sample(frac=1.0, random_state=1)  # shuffled: output must follow the input order
    pred = bg_fit.predict(rfm, horizon=26)
    assert list(pred.columns) == [CUSTOMER, "expected_purchases", "p_alive", "expected_spend",
                                  "predicted_value", "clv_lifetime"]
    assert len(pred) == len(rfm)
    assert pred[CUSTOMER].tolist() == rfm[CUSTOMER].tolist()
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
    short = bg_fit.predict(rfm, horizon=26, lifetime=False)  # a backtest cut: the same numbers, no lifetime value
    assert_frame_equal(short, pred.drop(columns="clv_lifetime"))


def test_fit_and_predict_key_customers_by_customer_col(bg_fit, simulated):
    # The same table under another id column name: same parameters, same numbers, output keyed by that name.
    renamed = simulated.rename(columns={CUSTOMER: "cid"})
    other = BTYDModel("bgnbd", time_unit="W").fit(renamed, customer_col="cid")
    assert other.customer_col_ == "cid" and bg_fit.customer_col_ == CUSTOMER
    assert_frame_equal(other.params_, bg_fit.params_)
    pred = other.predict(renamed.head(300), horizon=26, customer_col="cid")
    assert pred.columns[0] == "cid" and "customer_id" not in pred.columns
    expected = bg_fit.predict(simulated.head(300), horizon=26).rename(columns={CUSTOMER: "cid"})
    assert_frame_equal(pred, expected)


def test_predict_matches_the_closed_form_for_a_new_customer(bg_fit):
    # A customer with no repeat purchase and T = 0 is a new customer: E[X(t)] = (a+b-1)/(a-1) *
    # [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))]   (Fader, Hardie & Lee 2005, eq. 9)
    from scipy.special import hyp2f1

    p = bg_fit.params_.set_index("parameter")["estimate"]
    r, alpha, a, b, t = p["r"], p["alpha"], p["a"], p["b"], 30.0
    expected = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    new = pd.DataFrame({CUSTOMER: ["new"], "frequency": [0], "recency": [0.0], "T": [0.0], "monetary_value": [0.0]})
    assert bg_fit.predict(new, horizon=t)["expected_purchases"].iloc[0] == pytest.approx(expected, rel=1e-9)


def test_predict_rejects_a_non_positive_horizon(bg_fit, simulated):
    with pytest.raises(ValueError, match="horizon must be a positive number"):
        bg_fit.predict(simulated.head(), horizon=0)


def test_parameters_round_trip_through_json(bg_fit, simulated):
    d = json.loads(json.dumps(bg_fit.to_dict()))
    assert d["purchase_model"] == "bgnbd" and d["time_unit"] == "W"
    assert d["customer_col"] == CUSTOMER
    assert set(d["params"]["purchase"]) == {"r", "alpha", "a", "b"}
    assert set(d["params"]["spend"]) == {"p", "q", "v"}
    loaded = BTYDModel.from_dict(d)
    assert loaded.customer_col_ == CUSTOMER
    head = simulated.head(200)
    assert_frame_equal(loaded.predict(head, horizon=26), bg_fit.predict(head, horizon=26), rtol=1e-9)


def test_from_dict_accepts_a_dict_saved_before_customer_col_was_stored(bg_fit, simulated):
    d = json.loads(json.dumps(bg_fit.to_dict()))
    del d["customer_col"]
    loaded = BTYDModel.from_dict(d)
    assert loaded.customer_col_ == CUSTOMER
    head = simulated.head(50)
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


def test_non_finite_predictions_are_explained_in_words():
    # nobody bought twice: BG/NBD's a and b are not identified, a stays at 1 and E[X] = 0/0
    rfm = pd.DataFrame({CUSTOMER: [f"c{i}" for i in range(50)], "frequency": 0, "recency": 0.0,
                        "T": np.arange(1.0, 51.0)})
    model = BTYDModel("bgnbd").fit(rfm)
    with pytest.warns(UserWarning, match=r"50 customer\(s\) got non-finite .* dropout parameter a is 1.*\(0 here\)"):
        model.predict(rfm, horizon=30)


def test_pnbd_fit_on_a_likelihood_ridge_raises_no_warning_from_the_finite_differences():
    # 97% one-time buyers and no dropout heterogeneity to find: steps leave the finite region
    rng = np.random.default_rng(5)
    n = 3000
    T = rng.uniform(1, 500, n).round()
    freq = np.where(rng.uniform(size=n) < 0.03, rng.integers(1, 3, n), 0)
    rec = np.where(freq > 0, np.floor(rng.uniform(0, 1, n) * T), 0.0)
    rfm = pd.DataFrame({CUSTOMER: np.arange(n), "frequency": freq, "recency": rec, "T": T})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        model = BTYDModel("pnbd").fit(rfm)
    assert model.purchase_optimizer_["success"]
