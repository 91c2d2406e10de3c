"""Tests for clvlib.models.calibration: the logit shift, and the expected number of buyers under BG/NBD and Pareto/NBD."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit

from clvlib.models.btyd import BTYDModel
from clvlib.models.calibration import (
    bgnbd_prob_no_purchase,
    calibrate_expected_value,
    calibrate_probabilities,
    expected_buyers,
    prob_any_purchase,
)
from clvlib.schemas import CUSTOMER

# BG/NBD of CDNOW in weeks (Fader, Hardie & Lee 2005); Pareto/NBD of CDNOW (Schmittlein et al. as refitted by
# Fader, Hardie & Lee 2005).
BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


# ----------------------------------------------------------------------------- the logit shift


def test_a_calibrated_vector_gets_no_shift():
    p = np.array([0.01, 0.2, 0.5, 0.03])
    out = calibrate_probabilities(p, p.sum())
    assert out.shift == 0.0
    np.testing.assert_array_equal(out.probabilities, p)


def test_shifts_checked_by_hand():
    # two equal probabilities 0.5 -> 0.75 each: delta = logit(0.75) - logit(0.5) = log(3)
    out = calibrate_probabilities([0.5, 0.5], 1.5)
    assert out.shift == pytest.approx(np.log(3.0), abs=1e-12)
    np.testing.assert_allclose(out.probabilities, [0.75, 0.75], atol=1e-12)
    # [0.1, 0.2, 0.3] down to 0.3: logits -2.1972, -1.3863, -0.8473, each - 0.8374 -> 0.0459 + 0.0976 + 0.1565 = 0.3
    out = calibrate_probabilities([0.1, 0.2, 0.3], 0.3)
    assert out.shift == pytest.approx(-0.8374, abs=1e-4)
    np.testing.assert_allclose(out.probabilities, [0.0459, 0.0976, 0.1565], atol=1e-4)


@pytest.mark.parametrize("factor", [0.3, 0.78, 1.0001, 1.6, 20.0])
def test_the_target_is_reached_and_the_ranking_kept(factor):
    rng = np.random.default_rng(0)
    p = rng.beta(0.3, 20.0, 55_000)  # Olist-like: mean ~1.5%
    p[:5] = [0.0, 1.0, 0.0, p[10], p[10]]  # exact 0 and 1, and ties
    target = factor * p.sum()
    out = calibrate_probabilities(p, target)
    assert abs(out.probabilities.sum() - target) < 1e-9
    assert out.probabilities[0] == 0.0 and out.probabilities[2] == 0.0 and out.probabilities[1] == 1.0
    assert out.probabilities[3] == out.probabilities[4] == out.probabilities[10]
    # the order is kept exactly: the same stable sort, and no two different values merged
    np.testing.assert_array_equal(np.argsort(out.probabilities, kind="stable"), np.argsort(p, kind="stable"))
    assert len(np.unique(out.probabilities)) == len(np.unique(p))
    # it is one common shift in logit space
    inner = (p > 0) & (p < 1)
    np.testing.assert_allclose(logit(out.probabilities[inner]) - logit(p[inner]), out.shift, atol=1e-6)
    assert (out.shift < 0) == (factor < 1)


def test_weights_count_each_probability_that_many_times():
    p = np.array([0.02, 0.1, 0.4])
    w = np.array([1000.0, 10.0, 2.0])
    out = calibrate_probabilities(p, 30.0, weights=w)
    expanded = calibrate_probabilities(np.repeat(p, w.astype(int)), 30.0)
    assert out.shift == pytest.approx(expanded.shift, abs=1e-10)
    assert abs((w * out.probabilities).sum() - 30.0) < 1e-9


def test_bad_inputs_and_unreachable_targets_are_refused():
    with pytest.raises(ValueError, match="p is empty"):
        calibrate_probabilities([], 1.0)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]; 2 value"):
        calibrate_probabilities([0.1, 1.2, np.nan], 0.5)
    with pytest.raises(ValueError, match="strictly between 1 .* and 2 "):
        calibrate_probabilities([1.0, 0.3, 0.0], 2.0)  # only the 0.3 can move: the total stays in (1, 2)
    with pytest.raises(ValueError, match="strictly between 1"):
        calibrate_probabilities([1.0, 0.3, 0.0], 0.5)
    with pytest.raises(ValueError, match="weights must be 2 finite"):
        calibrate_probabilities([0.1, 0.2], 0.2, weights=[1.0, -1.0])


# ----------------------------------------------------------------------------- P(no purchase) under BG/NBD


def test_a_one_time_buyer_is_alive_and_waits_with_the_rate_prior_updated_by_T():
    T = np.array([10.0, 40.0])
    p0 = bgnbd_prob_no_purchase([0, 0], [0.0, 0.0], T, 26.0, **BG)
    np.testing.assert_allclose(p0, ((BG["alpha"] + T) / (BG["alpha"] + T + 26.0)) ** BG["r"], rtol=1e-12)
    np.testing.assert_allclose(p0, [0.778390, 0.894059], atol=1e-6)


def test_repeat_buyers_agree_with_pymc_marketing_and_one_time_buyers_do_not():
    import arviz as az
    from pymc_marketing.clv import BetaGeoModel

    from clvlib.models.btyd._pymc import attach_idata
    from clvlib.models.btyd.fit import flat_priors

    data = pd.DataFrame({"customer_id": range(5), "frequency": [0.0, 0.0, 1.0, 2.0, 5.0],
                         "recency": [0.0, 0.0, 3.0, 10.0, 30.0], "T": [10.0, 40.0, 20.0, 40.0, 40.0]})
    m = BetaGeoModel(model_config=flat_priors(tuple(BG)))
    m.build_model(data)
    attach_idata(m, az.from_dict(posterior={k: np.array([[v]]) for k, v in BG.items()}))
    theirs = m.expected_probability_no_purchase(t=26, data=data).values.ravel()
    ours = bgnbd_prob_no_purchase(data["frequency"], data["recency"], data["T"], 26.0, **BG)
    np.testing.assert_allclose(ours[2:], theirs[2:], rtol=1e-9)
    # pymc-marketing 0.19.2 adds the "died after the last purchase" term for x = 0 too (0.873 vs 0.778); if this
    # starts failing, pymc-marketing has fixed it
    assert theirs[0] == pytest.approx(0.87274, abs=1e-4) and ours[0] == pytest.approx(0.77839, abs=1e-4)


def test_p_alive_identity():
    # P0 = 1 - P(alive) + P(alive) ((alpha + T) / (alpha + T + t))^(r + x), with P(alive) of Fader, Hardie & Lee (2008)
    x, tx, T, t = 3.0, 12.0, 30.0, 13.0
    r, alpha, a, b = BG.values()
    p_alive = 1.0 / (1.0 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    expected = 1 - p_alive + p_alive * ((alpha + T) / (alpha + T + t)) ** (r + x)
    assert bgnbd_prob_no_purchase(x, tx, T, t, **BG) == pytest.approx(expected, rel=1e-12)


# ----------------------------------------------------------------------------- against a simulation


def _simulate_bgnbd(n: int, horizon: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """BG/NBD customers: RFM at T (weeks) and whether each buys in (T, T + horizon]."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 79, n).astype(float)
    lam = rng.gamma(BG["r"], 1.0 / BG["alpha"], n)
    p = rng.beta(BG["a"], BG["b"], n)
    x, tx, later = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
    t = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        t = np.where(active, t + rng.exponential(1.0, n) / lam, t)
        before = active & (t <= T)
        after = active & (t > T) & (t <= T + horizon)
        x[before] += 1
        tx[before] = t[before]
        later |= after
        active = before & (rng.random(n) >= p)  # only a purchase before T can lead to more; dropout after each
    rfm = pd.DataFrame({CUSTOMER: np.arange(n).astype(str), "frequency": x, "recency": tx, "T": T})
    return rfm, later


def _simulate_pnbd(n: int, horizon: float, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Pareto/NBD customers: RFM at T (weeks) and whether each buys in (T, T + horizon]."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 79, n).astype(float)
    lam = rng.gamma(PNBD["r"], 1.0 / PNBD["alpha"], n)
    mu = rng.gamma(PNBD["s"], 1.0 / PNBD["beta"], n)
    tau = rng.exponential(1.0, n) / mu
    seen = np.minimum(tau, T)
    x = rng.poisson(lam * seen)
    # the last of x uniform times on (0, seen): seen * U^(1/x)
    tx = np.where(x > 0, seen * rng.random(n) ** (1.0 / np.maximum(x, 1)), 0.0)
    later = rng.poisson(lam * np.clip(np.minimum(tau, T + horizon) - T, 0.0, None)) > 0
    rfm = pd.DataFrame({CUSTOMER: np.arange(n).astype(str), "frequency": x.astype(float), "recency": tx, "T": T})
    return rfm, later


def _check_against_simulation(p_buy: np.ndarray, rfm: pd.DataFrame, bought: np.ndarray) -> None:
    groups = {"one-time": rfm["frequency"].to_numpy() == 0, "x = 1-2": rfm["frequency"].between(1, 2).to_numpy(),
              "x >= 3": rfm["frequency"].to_numpy() >= 3}
    deciles = pd.qcut(pd.Series(p_buy).rank(method="first"), 5, labels=False).to_numpy()
    groups.update({f"quintile {q} of P(buy)": deciles == q for q in range(5)})
    for name, sel in groups.items():
        expected, actual = p_buy[sel].sum(), bought[sel].sum()
        sd = np.sqrt((p_buy[sel] * (1 - p_buy[sel])).sum())
        assert abs(actual - expected) < 4.5 * sd, (name, actual, expected, sd)


def test_bgnbd_expected_buyers_match_a_simulation():
    rfm, bought = _simulate_bgnbd(60_000, 39.0, seed=1)
    p_buy = prob_any_purchase(BG, rfm, 39.0)
    assert list(p_buy.index[:3]) == ["0", "1", "2"] and p_buy.name == "p_any_purchase"
    _check_against_simulation(p_buy.to_numpy(), rfm, bought)
    assert expected_buyers(BG, rfm, 39.0) == pytest.approx(p_buy.sum(), rel=1e-12)


def test_pnbd_expected_buyers_of_a_model_match_a_simulation():
    model = BTYDModel.from_dict({"purchase_model": "pnbd", "time_unit": "W",
                                 "params": {"purchase": {k: {"estimate": v} for k, v in PNBD.items()}}})
    rfm, bought = _simulate_pnbd(20_000, 39.0, seed=2)
    p_buy = prob_any_purchase(model, rfm, 39.0).to_numpy()
    _check_against_simulation(p_buy, rfm, bought)


def test_a_fitted_bgnbd_model_gives_the_closed_form_of_its_estimates():
    model = BTYDModel.from_dict({"purchase_model": "bgnbd", "time_unit": "W",
                                 "params": {"purchase": {k: {"estimate": v} for k, v in BG.items()}}})
    rfm, _ = _simulate_bgnbd(500, 39.0, seed=3)
    np.testing.assert_allclose(prob_any_purchase(model, rfm, 39.0), prob_any_purchase(BG, rfm, 39.0), rtol=1e-12)
    with pytest.raises(ValueError, match="purchase_model='pnbd' but the model is 'bgnbd'"):
        prob_any_purchase(model, rfm, 39.0, purchase_model="pnbd")
    with pytest.raises(ValueError, match=r"BG/NBD parameter\(s\) \['b'\] missing"):
        prob_any_purchase({k: v for k, v in BG.items() if k != "b"}, rfm, 39.0)
    with pytest.raises(ValueError, match="horizon must be a positive"):
        prob_any_purchase(BG, rfm, -1.0)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['T'\]"):
        prob_any_purchase(BG, rfm.drop(columns="T"), 39.0)


def test_calibrating_to_the_bgnbd_target_lands_the_total():
    """A P(buy) trained where buying was 30% more common, calibrated to the BG/NBD target, sums to it."""
    rfm, bought = _simulate_bgnbd(20_000, 39.0, seed=4)
    truth = prob_any_purchase(BG, rfm, 39.0).to_numpy()
    inflated = expit(logit(truth) + 0.35)  # what a model fitted on a busier period would say
    target = expected_buyers(BG, rfm, 39.0)
    out = calibrate_probabilities(inflated, target)
    assert inflated.sum() > 1.2 * target
    assert abs(out.probabilities.sum() - target) < 1e-9
    assert out.shift == pytest.approx(-0.35, abs=1e-9)  # recovers the distortion exactly
    np.testing.assert_allclose(out.probabilities, truth, rtol=1e-8)


def test_calibrating_an_expected_value_keeps_the_spend_given_a_purchase():
    # P(buy) 0.5 -> 0.75 for both (shift log 3); spends given a purchase 20 and 80 are kept; a zero P(buy) stays 0
    out = calibrate_expected_value([10.0, 40.0, 0.0], [0.5, 0.5, 0.0], 1.5)
    np.testing.assert_allclose(out.values, [15.0, 60.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(out.probabilities, [0.75, 0.75, 0.0], rtol=1e-12)
    assert out.shift == pytest.approx(np.log(3.0), abs=1e-12)
    with pytest.raises(ValueError, match="value has 1 entries but p_buy has 2"):
        calibrate_expected_value([1.0], [0.1, 0.2], 0.2)
    with pytest.raises(ValueError, match="finite and non-negative"):
        calibrate_expected_value([-1.0, 1.0], [0.1, 0.2], 0.2)
