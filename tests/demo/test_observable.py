"""The observable ceiling of the demo: the posterior mean of the holdout value under the demo's own model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from clvlib.demo.calibration import DROPOUT_BETA, DROPOUT_S, RATE_ALPHA, RATE_R
from clvlib.demo.observable import (
    _rate_grid,
    _remaining_visible_days,
    _spend_posterior_mean,
    observable_expected_value,
    observed_histories,
)


def _tables(orders: list[tuple[str, str, float]]) -> dict[str, pd.DataFrame]:
    """Raw tables for (person, timestamp, value) orders."""
    n = len(orders)
    return {
        "orders": pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "customer_id": [f"c{i}" for i in range(n)],
                                "order_purchase_timestamp": [t for _, t, _ in orders]}),
        "customers": pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)],
                                   "customer_unique_id": [p for p, _, _ in orders]}),
        "payments": pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "payment_value": [v for _, _, v in orders]}),
    }


def test_observed_histories_by_hand():
    tables = _tables([("a", "2017-01-10 10:00:00", 100.0), ("a", "2017-01-10 12:00:00", 50.0),  # a split
                      ("a", "2017-06-01 09:00:00", 80.0), ("b", "2017-05-05 05:00:00", 20.0),
                      ("a", "2018-05-01 00:00:00", 999.0)])  # after the cut
    key = pd.DataFrame({"customer_unique_id": ["a"], "UserID": [7]})
    click = pd.DataFrame({
        "UserID": [7] * 9,
        "SessionID": [1, 1, 1, 2, 2, 2, 2, 3, 3],
        "Timestamp": ["2016-12-20 10:00:00.0", "2016-12-20 10:01:00.0", "2016-12-20 10:02:00.0",  # browsing
                      "2017-06-01 08:58:00.0", "2017-06-01 08:59:00.0", "2017-06-01 09:00:00.5",  # the order's
                      "2017-06-01 09:01:00.0",
                      "2018-04-01 10:00:00.0", "2018-04-01 10:01:00.0"],  # after the cut
        "EventType": ["login", "add_to_cart", "purchase", "product_view", "add_to_cart", "purchase", "logout",
                      "page_view", "purchase"],
        "Amount": [np.nan, np.nan, 33.0, np.nan, np.nan, 80.0, np.nan, np.nan, 5.0],
    })
    persons, sessions = observed_histories(tables, click, key, "2018-02-28")
    a = persons.set_index("customer_unique_id").loc["a"]
    assert a["x"] == 1 and bool(a["linked"])  # the same-day second order is a split, not an occasion
    assert a["n_values"] == 3 and a["sum_log_values"] == pytest.approx(np.log(100 * 50 * 80))
    assert a["n_amounts"] == 1 and a["sum_log_amounts"] == pytest.approx(np.log(33.0))  # the order session's is not
    assert a["last"] - a["first"] == pytest.approx((pd.Timestamp("2017-06-01 09:00") - pd.Timestamp(
        "2017-01-10 10:00")) / pd.Timedelta(days=1))
    assert len(sessions) == 1  # the order session and the session after the cut are gone
    s = sessions.iloc[0]
    assert (s["n_cart"], s["n_buy"], s["n_other"]) == (1, 1, 0)  # the login carries nothing
    assert not bool(persons.set_index("customer_unique_id").loc["b", "linked"])


def test_the_rate_grid_holds_the_prior():
    lam, mass = _rate_grid(120)
    assert mass.sum() == pytest.approx(1.0, abs=1e-12)
    assert (lam * mass).sum() == pytest.approx(RATE_R / RATE_ALPHA, rel=1e-6)


def test_spend_posterior_mean_without_data_is_the_prior_mean_and_data_take_over():
    # prior: log m = N(4.72, 0.52^2) + Exp(mean 0.6) for 18%: E[m] = exp(4.72 + 0.52^2/2) (0.82 + 0.18 / (1 - 0.6))
    prior_mean = np.exp(4.72 + 0.52**2 / 2) * (0.82 + 0.18 / 0.4)
    zero = np.zeros(1)
    assert _spend_posterior_mean(zero, zero, zero, zero)[0] == pytest.approx(prior_mean, rel=1e-3)
    # 400 order values of geometric mean g: E[m] -> g exp(sigma^2 / 2) (the values' noise has mean 1)
    g = 250.0
    many = _spend_posterior_mean(np.array([400.0]), np.array([400 * np.log(g)]), zero, zero)[0]
    assert many == pytest.approx(g * np.exp(0.52**2 / 2), rel=0.01)


def test_remaining_days_without_thinning_is_the_lifetime_integral():
    c, e, first = 500.0, 684.0, np.array([100.0, 499.0])
    B = DROPOUT_BETA + c - first
    want = [integrate.quad(lambda u, b=b: (b / (b + u - c)) ** DROPOUT_S, c, e)[0] for b in B]
    np.testing.assert_allclose(_remaining_visible_days(c, e, first), want, rtol=1e-9)


def _p_alive_by_quadrature(x: int, first: float, last: float, c: float) -> tuple[float, float]:
    """P(alive at c) and E[lambda 1(alive)] for an unlinked person, by brute-force 2-d quadrature."""
    from scipy.special import gammaln

    def prior(lam):
        return np.exp(RATE_R * np.log(RATE_ALPHA) + (RATE_R - 1) * np.log(lam) - RATE_ALPHA * lam - gammaln(RATE_R))

    def lik(lam, tau):
        return lam**x * np.exp(-lam * (min(tau, c) - first))

    def dens(tau):
        return DROPOUT_S * DROPOUT_BETA**DROPOUT_S / (DROPOUT_BETA + tau - first) ** (DROPOUT_S + 1)

    surv = (DROPOUT_BETA / (DROPOUT_BETA + c - first)) ** DROPOUT_S
    # lambda on a log scale: lam = exp(z)
    # the integrals are tiny (lambda^x with lambda ~ 1e-3): relative tolerances only
    tol = dict(epsabs=0.0, epsrel=1e-9)
    alive = integrate.quad(lambda z: prior(np.exp(z)) * np.exp(z) * lik(np.exp(z), c), -40, 0, limit=400, **tol)[0]
    rate = integrate.quad(lambda z: prior(np.exp(z)) * np.exp(2 * z) * lik(np.exp(z), c), -40, 0, limit=400, **tol)[0]
    alive, rate = alive * surv, rate * surv
    dead = integrate.dblquad(lambda z, tau: prior(np.exp(z)) * np.exp(z) * lik(np.exp(z), tau) * dens(tau),
                             last, c, -40, 0, **tol)[0]
    return alive / (alive + dead), rate / (alive + dead)


@pytest.mark.parametrize(("x", "first", "last"), [(0, 100.0, 100.0), (2, 50.0, 300.0), (5, 200.0, 480.0)])
def test_alive_and_rate_agree_with_brute_force_quadrature(x, first, last):
    cut_day = 545.0  # 2018-02-28 is day 545 from the origin (2016-09-01)
    origin = pd.Timestamp("2016-09-01")
    stamps = [origin + pd.Timedelta(days=first)] + [origin + pd.Timedelta(days=first + (last - first) * (k + 1) / x)
                                                    for k in range(x)]
    tables = _tables([("p", str(t), 100.0) for t in stamps])
    cut = origin + pd.Timedelta(days=cut_day)
    got = observable_expected_value(tables, None, None, cut, cut + pd.Timedelta(days=184)).iloc[0]
    p_alive, rate = _p_alive_by_quadrature(x, first, last, cut_day + 1.0)
    assert got["p_alive"] == pytest.approx(p_alive, rel=2e-3)
    assert got["expected_rate"] == pytest.approx(rate, rel=5e-3)


@pytest.fixture(scope="module")
def small_demo():
    from clvlib.demo.world import build_world

    world = build_world(8_000, 3)
    cut, end = pd.Timestamp("2018-02-28"), pd.Timestamp("2018-08-31")
    return world, observable_expected_value(world.tables, world.clickstream, world.key, cut, end), cut


def test_the_posterior_is_calibrated_against_the_hidden_truth(small_demo):
    world, obs, cut = small_demo
    truth = world.truth.set_index("customer_unique_id").reindex(obs.index)
    alive = (truth["alive_until"] > cut + pd.Timedelta(days=1)).to_numpy()
    assert obs.notna().all().all() and (obs["p_alive"].between(0, 1)).all()
    # as many alive as the posterior says, overall and among the linked and unlinked, within 4 sd
    linked = obs.index.isin(world.key["customer_unique_id"])
    for sel in (np.ones(len(obs), dtype=bool), linked, ~linked):
        p = obs["p_alive"].to_numpy()[sel]
        assert abs(alive[sel].sum() - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum())
    # and the people it thinks most likely alive are (top vs bottom quintile)
    q = pd.qcut(obs["p_alive"].rank(method="first"), 5, labels=False).to_numpy()
    assert alive[q == 4].mean() > 0.9 and alive[q == 0].mean() < 0.4


def test_orders_only_gives_a_ceiling_too(small_demo):
    world, obs, cut = small_demo
    orders_only = observable_expected_value(world.tables, None, None, cut, cut + pd.Timedelta(days=184))
    assert orders_only.index.equals(obs.index)
    assert np.isfinite(orders_only["observable_expected_value"]).all()
    # without clicks the posterior is less sure who is alive
    assert orders_only["p_alive"].std() < obs["p_alive"].std()


@pytest.mark.slow
def test_observable_ceiling_on_the_default_demo(default_demo_holdout):
    from clvlib.evaluation.metrics import normalized_gini

    world, cut, end, ids, y = default_demo_holdout
    obs = observable_expected_value(world.tables, world.clickstream, world.key, cut, end)
    score = ids.map(obs["observable_expected_value"])
    assert score.notna().all()
    assert normalized_gini(y, score.to_numpy()) == pytest.approx(0.572, abs=0.002)  # 0.558 before the demo fix of the clickstream-only users; independent computation then: ~0.56
