"""Intervals of BG/NBD with covariates (btyd:bgnbd+cov): coefficients drawn with r, alpha, a, b; own alpha per customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.models.btyd import BTYDModel
from clvlib.models.btyd.asymptotic import log_hessian, parameter_covariance, parameter_draws
from clvlib.models.btyd.covariates import CovariateBGNBD
from clvlib.models.btyd.intervals import predict_intervals
from clvlib.models.btyd.spend import AllOrdersSpend, all_orders_summary, with_spend, with_spend_model
from clvlib.schemas import CUSTOMER

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW in weeks (Fader, Hardie & Lee 2005)
COEF = np.log(2.0)  # group g = 1 buys twice as often: alpha = alpha_scale * exp(-COEF * g)
HORIZON = 26.0


def _world(n: int, seed: int) -> pd.DataFrame:
    """BG/NBD customers in weeks whose purchase rate doubles with g; every purchase day is worth Gamma(6, nu)."""
    import pymc as pm
    from pymc_marketing.clv.distributions import BetaGeoNBD

    rng = np.random.default_rng(seed)
    g = (rng.random(n) < 0.5).astype(float)
    T = rng.integers(26, 79, size=n).astype(float)
    rf = pm.draw(BetaGeoNBD.dist(T=T, r=BG["r"], alpha=BG["alpha"] * np.exp(-COEF * g), a=BG["a"], b=BG["b"]),
                 random_seed=rng)
    freq = rf[:, 1].astype(int)
    nu = rng.gamma(4.0, 1.0 / 200.0, size=n)
    days = [rng.gamma(6.0, 1.0 / nu[i], size=k + 1) for i, k in enumerate(freq)]
    return pd.DataFrame({CUSTOMER: [f"c{i:05d}" for i in range(n)], "frequency": freq, "recency": rf[:, 0], "T": T,
                         "g": g, "monetary_value": [d[1:].mean() if len(d) > 1 else 0.0 for d in days],
                         "calibration_spend": [d.sum() for d in days]})


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, BTYDModel, CovariateBGNBD, AllOrdersSpend]:
    features = _world(3000, 11)
    bg = BTYDModel("bgnbd", time_unit="W").fit(features)
    cov = CovariateBGNBD(["g"]).fit(features)
    spend = AllOrdersSpend().fit(features)
    return features, bg, cov, spend


def _cov_loglik(free: np.ndarray, x, tx, T, g, n) -> float:
    """BG/NBD with alpha = alpha_scale * exp(-c g) (Fader, Hardie & Lee 2005, eq. 6; Fader & Hardie 2007), weighted.

    ``free`` = (log r, log alpha_scale, log a, log b, c): written with scipy, independently of pymc.
    """
    from scipy.special import gammaln

    r, alpha_scale, a, b = np.exp(free[:4])
    alpha = alpha_scale * np.exp(-free[4] * g)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + tx), -np.inf)
    return float(np.sum(n * (a1 + a2 + np.logaddexp(a3, a4))))


def test_the_coefficient_is_drawn_jointly_with_the_covariance_of_the_published_likelihood(world):
    features, _, cov, _ = world
    c = parameter_covariance(cov)["purchase"]
    names = ["r", "alpha_scale", "a", "b", "purchase_coefficient[g]"]
    assert list(c.index) == names
    est = cov.params_.set_index("parameter")["estimate"]
    assert est["purchase_coefficient[g]"] == pytest.approx(COEF, abs=0.25)  # the true log rate ratio, log 2
    # an independent Hessian: the likelihood written with scipy on the unique rows, another difference step
    u = features.groupby(["frequency", "recency", "T", "g"], as_index=False).size()
    args = (u["frequency"].to_numpy(), u["recency"].to_numpy(), u["T"].to_numpy(), u["g"].to_numpy(),
            u["size"].to_numpy())
    x0 = np.array([*np.log(est[names[:4]].to_numpy()), est[names[4]]])
    H = log_hessian(lambda z: -_cov_loglik(z, *args), x0, step=3e-4)
    np.testing.assert_allclose(c.to_numpy(), np.linalg.inv(H), rtol=3e-3, atol=1e-7)
    # the draws: positive parameters as exp of a normal, the coefficient as it is, with that joint covariance
    d = parameter_draws(cov, n_draws=4000, seed=5)
    assert list(d.columns) == names
    assert (d[names[:4]] > 0).all().all()
    z = np.column_stack([np.log(d[names[:4]].to_numpy()), d[names[4]].to_numpy()])
    assert (np.abs(z.mean(axis=0) - x0) < 4 * np.sqrt(np.diag(c.to_numpy()) / 4000)).all()  # centred on the MLE
    S, n = c.to_numpy(), len(z)
    se = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) / n)  # standard error of each sample covariance
    assert (np.abs(np.cov(z.T) - S) < 4 * se).all()
    corr = c.loc["alpha_scale", "purchase_coefficient[g]"] / np.sqrt(c.loc["alpha_scale", "alpha_scale"]
                                                                       * c.loc["purchase_coefficient[g]",
                                                                               "purchase_coefficient[g]"])
    assert corr > 0.3  # the scale and the group's coefficient trade off: drawing them apart would be wrong


@pytest.mark.parametrize("coefficients", ["zero", "drawn"], ids=["coefficients-zero", "coefficients-drawn"])
def test_each_customers_interval_is_plain_bgnbds_with_their_own_alpha_for_the_same_draws_and_seed(world, coefficients):
    features, bg, cov, spend = world
    plain = with_spend_model(bg, spend)
    rng = np.random.default_rng(0)
    d = parameter_draws(plain, n_draws=60, seed=2)  # r, alpha, a, b, p, q, v
    coef = np.zeros(len(d)) if coefficients == "zero" else 0.7 + 0.2 * rng.standard_normal(len(d))
    d_cov = d.rename(columns={"alpha": "alpha_scale"}).assign(**{"purchase_coefficient[g]": coef})
    for g in (0.0, 1.0):
        rows = features[features["g"] == g].reset_index(drop=True)
        d_plain = d.assign(alpha=d["alpha"] * np.exp(-coef * g))  # the group's own alpha, draw by draw
        for kind in ("parameters", "traits"):
            kw = dict(seed=3, uncertainty=kind, spend_inputs=all_orders_summary(rows))
            a = predict_intervals(with_spend_model(cov, spend), rows, HORIZON, draws=d_cov, **kw)
            b = predict_intervals(plain, rows.drop(columns="g"), HORIZON, draws=d_plain, **kw)
            pd.testing.assert_frame_equal(a, b, rtol=1e-12, check_exact=False, obj=f"g={g}, {kind}")
    if coefficients == "zero":  # and on everyone at once: with zero coefficients g changes nothing
        kw = dict(seed=3, spend_inputs=all_orders_summary(features))
        a = predict_intervals(with_spend_model(cov, spend), features, HORIZON, draws=d_cov, **kw)
        b = predict_intervals(plain, features, HORIZON, draws=d, **kw)
        pd.testing.assert_frame_equal(a, b, rtol=1e-12, check_exact=False)


def test_the_interval_brackets_the_point_prediction_and_widens_with_the_traits(world):
    features, _, cov, spend = world
    model = with_spend_model(cov, spend)
    point = with_spend(cov.predict(features, HORIZON), spend.expected_spend(features))
    cv = parameter_covariance(model)
    kw = dict(n_draws=100, seed=1, spend_inputs=all_orders_summary(features), covariance=cv)
    par = predict_intervals(model, features, HORIZON, **kw)
    inside = (par["predicted_value_low"] <= point["predicted_value"] * 1.0001) & \
             (point["predicted_value"] <= par["predicted_value_high"] * 1.0001)
    assert inside.mean() > 0.97
    assert set(par.attrs["covariance"]) == {"purchase", "spend"}
    assert "purchase_coefficient[g]" in par.attrs["covariance"]["purchase"]
    tr = predict_intervals(model, features, HORIZON, uncertainty="traits", **kw)
    width = lambda t: (t["predicted_value_high"] - t["predicted_value_low"]).median()  # noqa: E731
    assert width(tr) > 3 * width(par)


def test_what_the_covariate_intervals_refuse(world):
    features, _, cov, spend = world
    model = with_spend_model(cov, spend)
    kw = dict(n_draws=20, spend_inputs=all_orders_summary(features))
    with pytest.raises(ValueError, match=r"covariate column\(s\) \['g'\] are missing"):
        predict_intervals(model, features.drop(columns="g"), HORIZON, **kw)
    d = parameter_draws(model, n_draws=20)
    with pytest.raises(ValueError, match=r"the draws have no column\(s\) \['purchase_coefficient\[g\]'\]"):
        predict_intervals(model, features, HORIZON, draws=d.drop(columns="purchase_coefficient[g]"), **kw)
    with pytest.raises(ValueError, match="the draws have no spend parameters"):
        predict_intervals(model, features, HORIZON, draws=d.drop(columns=["p", "q", "v"]), **kw)
    with pytest.raises(ValueError, match="holds the rows it was fitted on; do not pass fit_rfm"):
        parameter_covariance(cov, fit_rfm=features)
    dropout = CovariateBGNBD(["g"], dropout=True)
    dropout.purchase_model_, dropout.params_ = cov.purchase_model_, cov.params_  # the refusal comes first
    with pytest.raises(ValueError, match="covariates on the dropout is not supported"):
        parameter_covariance(dropout)
    with pytest.raises(ValueError, match="CovariateBGNBD is not fitted yet"):
        predict_intervals(CovariateBGNBD(["g"]), features, HORIZON)


@pytest.mark.slow
def test_the_coefficients_standard_error_matches_its_spread_over_simulated_datasets():
    se, est = None, []
    for seed in range(30):
        m = CovariateBGNBD(["g"]).fit(_world(3000, 200 + seed))
        if se is None:
            se = np.sqrt(parameter_covariance(m)["purchase"].loc["purchase_coefficient[g]", "purchase_coefficient[g]"])
        est.append(m.coefficients()["g"])
    # 30 datasets: the sample sd is within ~+-30% of the true sd with high probability
    assert np.std(est, ddof=1) == pytest.approx(se, rel=0.35)
    assert np.mean(est) == pytest.approx(COEF, abs=3 * se / np.sqrt(30) + 0.02)


# ----------------------------------------------------------------------------- in the model comparison


def test_the_comparison_gives_the_covariate_model_its_own_interval_from_its_covariates_at_the_cut(world):
    from clvlib.models.compare import CutResult, add_covariate_btyd, add_intervals

    features, _, _, spend = world
    cut = pd.Timestamp("2018-01-31")
    orders = pd.DataFrame({CUSTOMER: features[CUSTOMER], "order_purchase_timestamp": pd.Timestamp("2017-06-01"),
                           "customer_state": np.where(features["g"] == 1, "RJ", "SP"), "product_category": "toys"})
    windows = {"cut": cut, "holdout_end": cut + pd.Timedelta(days=26)}  # a horizon of 26 time units
    fitted = {"bgnbd+first": spend}
    predictions = {"bgnbd+first": spend.expected_spend(features).assign(expected_purchases=1.0, p_alive=1.0,
                                                                         predicted_value=0.0)}
    covariates: dict = {}
    add_covariate_btyd(features, orders, windows, fitted, predictions, pd.DataFrame(), covariates)
    model = fitted["bgnbd+cov"]
    (column,) = model.covariates
    assert list(covariates["bgnbd+cov"].columns) == [CUSTOMER, column]
    covariates["bgnbd+cov"] = covariates["bgnbd+cov"].sample(frac=1.0, random_state=0)  # matched by customer, not row
    result = CutResult(windows=windows, features=features, scores=pd.DataFrame(), fitted=fitted,
                       predictions=predictions, params=pd.DataFrame(), hybrid_scores=pd.DataFrame(),
                       covariates=covariates)
    note = add_intervals(result, "bgnbd+cov", n_draws=50, seed=4)
    assert note.startswith("A 90% interval of the customer's true expected value (the model's parameters, its "
                           "covariate coefficients included, and the customer's own purchase rate")
    from clvlib.models.predictions import _draws_traits, prediction_interval_text
    assert _draws_traits(note) and "above the interval's upper end" in prediction_interval_text({"bgnbd+cov": note})
    pred = predictions["bgnbd+cov"]
    # the same numbers as the bootstrap called directly on the features with their covariates
    level = column.split("=", 1)[1]  # the region that is not the reference
    rfm = features[[CUSTOMER, "frequency", "recency", "T", "monetary_value"]].assign(
        **{column: (orders["customer_state"] == level).astype(float).to_numpy()})
    direct = predict_intervals(with_spend_model(model, spend), rfm, 26.0, n_draws=50, seed=4, uncertainty="traits",
                               ridge="fix", spend_inputs=all_orders_summary(features))
    np.testing.assert_array_equal(pred["predicted_value_low"], direct["predicted_value_low"])
    np.testing.assert_array_equal(pred["predicted_value_high"], direct["predicted_value_high"])
    assert (pred["predicted_value_low"] <= pred["predicted_value"]).mean() > 0.95
    # without its covariates, or without the all-orders spend model, it says why there is none
    result.covariates = {}
    assert add_intervals(result, "bgnbd+cov") == ("No per-customer interval: the covariates of bgnbd+cov at the cut "
                                                  "were not kept.")
    result.fitted = {"bgnbd+cov": model}
    assert add_intervals(result, "bgnbd+cov") == "No per-customer interval: bgnbd+first's spend model was not fitted."
