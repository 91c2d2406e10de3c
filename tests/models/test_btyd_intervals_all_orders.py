"""Intervals of BG/NBD x the all-orders Gamma-Gamma (btyd:bgnbd+first): both models' parameters bootstrapped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.models.btyd import BTYDModel
from clvlib.models.btyd.asymptotic import parameter_covariance
from clvlib.models.btyd.intervals import predict_intervals
from clvlib.models.btyd.spend import AllOrdersSpend, all_orders_summary, with_spend, with_spend_model
from clvlib.schemas import CUSTOMER


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, BTYDModel, AllOrdersSpend]:
    """3,000 BG/NBD customers in weeks (CDNOW's parameters) whose every purchase day is worth Gamma(6, nu)."""
    import pymc as pm
    from pymc_marketing.clv.distributions import BetaGeoNBD

    rng = np.random.default_rng(5)
    n = 3000
    T = rng.integers(26, 79, size=n).astype(float)
    rf = pm.draw(BetaGeoNBD.dist(T=T, r=0.243, alpha=4.414, a=0.793, b=2.426), random_seed=rng)
    freq = rf[:, 1].astype(int)
    nu = rng.gamma(4.0, 1.0 / 200.0, size=n)
    days = [rng.gamma(6.0, 1.0 / nu[i], size=k + 1) for i, k in enumerate(freq)]  # the first day included
    features = pd.DataFrame({CUSTOMER: [f"c{i}" for i in range(n)], "frequency": freq, "recency": rf[:, 0], "T": T,
                             "monetary_value": [d[1:].mean() if len(d) > 1 else 0.0 for d in days],
                             "calibration_spend": [d.sum() for d in days]})
    bg = BTYDModel("bgnbd", time_unit="W").fit(features)
    spend = AllOrdersSpend().fit(features)
    return features, bg, spend


def test_the_interval_brackets_the_all_orders_prediction_and_follows_the_first_order(world):
    features, bg, spend = world
    rfm = features[[CUSTOMER, "frequency", "recency", "T", "monetary_value"]]
    point = with_spend(bg.predict(rfm, horizon=26.0), spend.expected_spend(features))
    iv = predict_intervals(with_spend_model(bg, spend), rfm, 26.0, n_draws=100, seed=1,
                           spend_inputs=all_orders_summary(features))
    inside = (iv["predicted_value_low"] <= point["predicted_value"] * 1.0001) & \
             (point["predicted_value"] <= iv["predicted_value_high"] * 1.0001)
    assert inside.mean() > 0.97
    # the spend interval is the all-orders one: two one-time buyers alike but for their first order
    one = features["frequency"] == 0
    small = features.loc[one, "calibration_spend"].idxmin()
    large = features.loc[one, "calibration_spend"].idxmax()
    assert features.loc[small, "recency"] == features.loc[large, "recency"] == 0
    assert iv.loc[large, "expected_spend_low"] > iv.loc[small, "expected_spend_high"]
    # both models' parameters were drawn: the covariance has a spend block of the all-orders fit
    cov = iv.attrs["covariance"]
    assert set(cov) == {"purchase", "spend"}
    direct = parameter_covariance(with_spend_model(bg, spend))["spend"]
    assert cov["spend"]["p"]["p"] == pytest.approx(direct.loc["p", "p"])


def test_with_the_traits_the_interval_is_wider_than_with_the_parameters_alone(world):
    features, bg, spend = world
    rfm = features[[CUSTOMER, "frequency", "recency", "T", "monetary_value"]]
    kw = dict(n_draws=100, seed=1, spend_inputs=all_orders_summary(features))
    par = predict_intervals(with_spend_model(bg, spend), rfm, 26.0, **kw)
    tr = predict_intervals(with_spend_model(bg, spend), rfm, 26.0, uncertainty="traits", **kw)
    width = lambda t: (t["predicted_value_high"] - t["predicted_value_low"]).median()  # noqa: E731
    assert width(tr) > 3 * width(par)


def test_spend_inputs_must_match_the_rfm_table_and_the_spend_model_must_be_fitted(world):
    features, bg, spend = world
    rfm = features[[CUSTOMER, "frequency", "recency", "T", "monetary_value"]]
    with pytest.raises(ValueError, match=r"spend_inputs must hold frequency and monetary_value for every row of rfm "
                                         r"\(10 rows for 3000; columns"):
        predict_intervals(with_spend_model(bg, spend), rfm, 26.0, spend_inputs=all_orders_summary(features).iloc[:10])
    with pytest.raises(ValueError, match="with_spend_model: the spend model is not fitted"):
        with_spend_model(bg, AllOrdersSpend())
