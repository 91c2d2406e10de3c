"""Tests for clvlib.models.btyd._pymc: pymc-marketing's internals still behave as the BTYD model assumes.

Each test names one assumption of ``_pymc``'s module docstring and checks it against the
installed pymc-marketing. If one fails after an upgrade, fix ``_pymc`` (and its docstring)
before trusting any BTYD number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.features.rfm import compress_rfm
from clvlib.models.btyd._pymc import (
    OBSERVED, PMM_CUSTOMER, TESTED_VERSION, UNITS_PER_MONTH, add_weights, attach_idata, lifetime_value,
    posterior_draws, purchase_model_class, thinned, to_pmm,
)
from clvlib.models.btyd.fit import PURCHASE_PARAMS, default_purchase_priors, flat_priors

RFM = ["customer_id", "frequency", "recency", "T"]
KINDS = ["bgnbd", "pnbd"]


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    """5,000 CDNOW-like customers in weeks from BG/NBD (pymc-marketing's simulator), keyed as pymc-marketing wants."""
    import pymc as pm
    from pymc_marketing.clv.distributions import BetaGeoNBD

    rng = np.random.default_rng(0)
    n = 5000
    T = rng.integers(26, 79, size=n).astype(float)
    rf = pm.draw(BetaGeoNBD.dist(T=T, r=0.243, alpha=4.414, a=0.793, b=2.426), random_seed=rng)
    freq = rf[:, 1].astype(int)
    money = np.where(freq > 0, rng.gamma(6.0, 5.0, size=n), 0.0)
    return pd.DataFrame({"customer_id": [f"c{i:05d}" for i in range(n)], "frequency": freq,
                         "recency": rf[:, 0], "T": T, "monetary_value": money})


def _point(kind: str) -> dict:
    """A parameter point on the log scale (the models' unconstrained values)."""
    return {f"{name}_log__": np.log(value) for name, value in zip(PURCHASE_PARAMS[kind], (0.3, 5.0, 0.9, 2.0))}


def _built(kind: str, data: pd.DataFrame, config: dict | None = None):
    model = purchase_model_class(kind)(model_config=config or flat_priors(PURCHASE_PARAMS[kind]))
    model.build_model(data)
    return model


def test_installed_pymc_marketing_is_the_tested_minor_version():
    import pymc_marketing
    from packaging.version import Version

    installed, tested = Version(pymc_marketing.__version__), Version(TESTED_VERSION)
    assert (installed.major, installed.minor) == (tested.major, tested.minor), (
        f"pymc-marketing {installed} is installed; clvlib.models.btyd._pymc was checked against {tested}. "
        "Run these tests, then update TESTED_VERSION and requirements.txt."
    )


def test_the_public_attributes_and_helpers_used_exist():
    from pymc_marketing.clv import GammaGammaModel
    from pymc_marketing.clv.utils import customer_lifetime_value  # noqa: F401

    for cls in (*(purchase_model_class(k) for k in KINDS), GammaGammaModel):
        for name in ("build_model", "fit", "set_idata_attrs", "thin_fit_result", "_add_fit_data_group",
                     "fit_result", "fit_summary"):
            assert hasattr(cls, name), f"{cls.__name__}.{name} is gone"
    for kind in KINDS:
        cls = purchase_model_class(kind)
        assert hasattr(cls, "expected_purchases") and hasattr(cls, "expected_probability_alive")
    assert hasattr(GammaGammaModel, "expected_customer_spend")


@pytest.mark.parametrize("kind", KINDS)
def test_the_observed_variable_has_the_assumed_name_and_one_term_per_row(simulated, kind):
    data = simulated[RFM].head(50)
    model = _built(kind, data)
    assert model.model[OBSERVED] in model.model.observed_RVs
    assert {"data", "model", "model_config"} <= set(vars(model))
    loglik = model.model.compile_fn(model.model.logp(vars=[model.model[OBSERVED]], sum=False)[0],
                                    point_fn=False, inputs=model.model.value_vars)
    assert np.shape(loglik(*[_point(kind)[v.name] for v in model.model.value_vars])) == (len(data),)


@pytest.mark.parametrize("kind", KINDS)
def test_weighted_log_likelihood_equals_the_sum_over_all_customers(simulated, kind):
    # The weighted model (unique triples + Potential((n - 1) * loglik)) has exactly the log density of
    # pymc-marketing's model over every customer, at any parameter point.
    data = simulated[RFM]
    uniq = compress_rfm(data)
    full = _built(kind, data)
    weighted = _built(kind, uniq.assign(customer_id=np.arange(len(uniq)))[RFM])
    add_weights(weighted, uniq["n_customers"].to_numpy())
    point = _point(kind)
    assert weighted.model.compile_logp()(point) == pytest.approx(full.model.compile_logp()(point), rel=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_weighted_log_likelihood_is_pymc_marketings_elementwise_one_times_counts(simulated, kind):
    # With flat priors (log density 0) and no Jacobian, the weighted model's log density is exactly
    # sum(counts * loglik), loglik being pymc-marketing's own unweighted elementwise log-likelihood.
    uniq = compress_rfm(simulated[RFM])
    rows = uniq.assign(customer_id=np.arange(len(uniq)))[RFM]
    plain, weighted = _built(kind, rows), _built(kind, rows)
    add_weights(weighted, uniq["n_customers"].to_numpy())
    point = _point(kind)
    m = plain.model
    loglik = m.compile_fn(m.logp(vars=[m[OBSERVED]], sum=False)[0], point_fn=False, inputs=m.value_vars)(
        *[point[v.name] for v in m.value_vars])
    total = weighted.model.compile_logp(jacobian=False)(point)
    assert total == pytest.approx(float(np.sum(uniq["n_customers"].to_numpy() * loglik)), rel=1e-10)


def test_attached_idata_looks_like_what_pymc_marketings_own_fit_attaches(simulated):
    import arviz as az

    data = simulated[RFM].head(500)
    ref = _built("bgnbd", data)
    ref.fit(method="map", progressbar=False)
    ours = _built("bgnbd", data)
    attach_idata(ours, az.InferenceData(posterior=ref.idata.posterior))
    assert {"posterior", "fit_data"} <= set(ours.idata.groups())
    assert dict(ours.idata.attrs) == dict(ref.idata.attrs)  # id, model_type, version, configs
    assert ours.idata.fit_data.equals(ref.idata.fit_data)
    assert ours.fit_result.equals(ref.fit_result)
    assert ours.fit_summary().equals(ref.fit_summary())


def _with_draws(model, names: tuple[str, ...], chains: int = 2, draws: int = 10):
    import arviz as az

    rng = np.random.default_rng(1)
    attach_idata(model, az.from_dict(posterior={n: rng.uniform(0.5, 3.0, size=(chains, draws)) for n in names}))
    return model


@pytest.mark.parametrize("kind", [*KINDS, "gamma_gamma"])
def test_thinned_keeps_every_kth_draw_with_pymc_marketings_thin_fit_result(simulated, kind):
    from pymc_marketing.clv import GammaGammaModel

    if kind == "gamma_gamma":
        model = GammaGammaModel()
        model.build_model(simulated.loc[simulated["frequency"] > 0, ["customer_id", "frequency", "monetary_value"]]
                          .head(100).astype({"frequency": float}))
        names = ("p", "q", "v")
    else:  # the default priors BTYDModel uses (the model id must survive thin_fit_result's rebuild)
        model = _built(kind, simulated[RFM].head(100), default_purchase_priors(kind))
        names = PURCHASE_PARAMS[kind]
    _with_draws(model, names)
    assert thinned(model, 20) is model
    thin = thinned(model, 4)  # 2 chains x 10 draws, at most 4: every 5th draw -> draws 0 and 5
    assert type(thin) is type(model) and thin is not model
    assert thin.idata.posterior.equals(model.idata.posterior.isel(draw=slice(None, None, 5)))
    assert model.idata.posterior.sizes["draw"] == 10  # the original is not modified
    rows = simulated.head(7).assign(customer_id=np.arange(7))
    pred = (thin.expected_customer_spend(data=rows) if kind == "gamma_gamma"
            else thin.expected_purchases(data=rows[RFM], future_t=10.0))
    assert posterior_draws(pred).shape == (4, 7)


@pytest.mark.parametrize("kind", KINDS)
def test_predictions_come_as_chain_draw_customer(simulated, kind):
    model = _with_draws(_built(kind, simulated[RFM].head(20)), PURCHASE_PARAMS[kind], chains=3, draws=5)
    rows = simulated[RFM].head(4).assign(customer_id=np.arange(4))
    for out in (model.expected_purchases(data=rows, future_t=5.0), model.expected_probability_alive(data=rows)):
        assert set(out.dims) == {"chain", "draw", PMM_CUSTOMER}
        draws = posterior_draws(out)
        assert draws.shape == (15, 4)
        np.testing.assert_array_equal(draws[7], out.transpose("chain", "draw", PMM_CUSTOMER).values[1, 2])


def test_to_pmm_renames_only_the_id_column_and_copies():
    rfm = pd.DataFrame({"customer_unique_id": ["a", "b"], "customer_id": [7, 8], "frequency": [0, 1],
                        "recency": [0.0, 2.0], "T": [3.0, 4.0]})
    out = to_pmm(rfm, "customer_unique_id", ["frequency", "recency", "T"])
    assert list(out.columns) == RFM and out["customer_id"].tolist() == ["a", "b"]
    same = to_pmm(rfm.drop(columns="customer_unique_id"), "customer_id", ["frequency"])
    same["frequency"] = 5
    assert rfm["frequency"].tolist() == [0, 1]


@pytest.mark.parametrize("unit", ["D", "W"])
def test_lifetime_value_counts_calendar_months_of_365_25_over_12_days(simulated, unit):
    # 24 months are 730.5 days (104.36 weeks), not pymc-marketing's 24 x 30 = 720 days
    assert UNITS_PER_MONTH["D"] * 24 == 730.5 and UNITS_PER_MONTH["W"] * 7 == pytest.approx(365.25 / 12)
    model = _with_draws(_built("bgnbd", simulated[RFM].head(20)), PURCHASE_PARAMS["bgnbd"], chains=1, draws=1)
    rows = simulated[RFM].head(5).assign(customer_id=np.arange(5), future_spend=2.0)
    undiscounted = posterior_draws(lifetime_value(model, rows, 24, 0.0, unit))[0]
    two_years = posterior_draws(model.expected_purchases(data=rows[RFM], future_t=24 * UNITS_PER_MONTH[unit]))[0]
    np.testing.assert_allclose(undiscounted, 2.0 * two_years, rtol=1e-10)
    # discounted: month m's purchases (m * 365.25/12 days in) are divided by (1 + d) ** m
    d = 0.01
    cum = [posterior_draws(model.expected_purchases(data=rows[RFM], future_t=m * UNITS_PER_MONTH[unit]))[0]
           for m in range(0, 4)]
    by_hand = sum(2.0 * (cum[m] - cum[m - 1]) / (1 + d) ** m for m in range(1, 4))
    np.testing.assert_allclose(posterior_draws(lifetime_value(model, rows, 3, d, unit))[0], by_hand, rtol=1e-10)
