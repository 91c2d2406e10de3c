"""The demo's ceilings: the expected value given the hidden traits (dropout integrated out) and their Gini."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.demo import true_expected_value
from clvlib.demo.ceilings import survival_weighted_visible_days, trait_expected_value

SPLIT = 1.0095


def _people() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_unique_id": ["alive", "dead", "new", "immortal"],
        "first_purchase": pd.to_datetime(["2017-01-10 12:00", "2016-12-01 00:00", "2017-03-01 00:00",
                                          "2017-01-10 12:00"]),
        "alive_until": pd.to_datetime(["2030-01-01", "2017-01-15", "2017-03-05", "2099-12-31"]),
        "purchase_rate_per_day": [0.01, 0.05, 0.02, 0.01],
        "dropout_rate_per_day": [0.01, 0.004, 0.02, 1e-15],
        "spend_mean": [100.0, 80.0, 50.0, 100.0],
    })


def test_trait_expected_value_by_hand():
    # window 2017-02-01 .. 2017-05-01 (89 days), every day fully visible
    known = trait_expected_value(_people(), "2017-01-31", "2017-04-30")
    integ = trait_expected_value(_people(), "2017-01-31", "2017-04-30", dropout_before_start="integrated")
    alive_89 = (1 - np.exp(-0.01 * 89)) / 0.01  # expected alive days of 89 at mu = 0.01, alive at the start
    assert known["alive"] == pytest.approx(100 * SPLIT * 0.01 * alive_89, rel=1e-9)
    # integrated: also survive the 21.5 days from the first purchase to the window
    assert integ["alive"] == pytest.approx(100 * SPLIT * 0.01 * np.exp(-0.01 * 21.5) * alive_89, rel=1e-9)
    # dead before the window: nothing if that is known, a little otherwise (62 days after the first purchase)
    assert known["dead"] == 0.0
    assert integ["dead"] == pytest.approx(80 * SPLIT * 0.05 * np.exp(-0.004 * 62) * (1 - np.exp(-0.004 * 89)) / 0.004,
                                          rel=1e-9)
    # born inside the window: the first order, then survival from the first purchase (61 days left), either way
    new = 50 * SPLIT * (1 + 0.02 * (1 - np.exp(-0.02 * 61)) / 0.02)
    assert known["new"] == pytest.approx(new, rel=1e-9) and integ["new"] == pytest.approx(new, rel=1e-9)
    # no dropout: the truth itself
    truth = true_expected_value(_people(), "2017-01-31", "2017-04-30")
    assert known["immortal"] == pytest.approx(truth["immortal"], rel=1e-9)
    assert known.name == "trait_expected_value" and known.index.name == "customer_unique_id"


def test_the_end_of_data_is_thinned_as_in_the_truth():
    one = _people().iloc[[3]]
    got = trait_expected_value(one, "2018-08-20", "2018-09-30").iloc[0]
    assert got == pytest.approx(true_expected_value(one, "2018-08-20", "2018-09-30").iloc[0], rel=1e-9)
    days = survival_weighted_visible_days(["2018-01-01"], ["2018-01-11"], ["2018-01-01"], [0.0])
    assert days[0] == pytest.approx(10.0)


@pytest.mark.parametrize("mode", ["known", "integrated"])
def test_it_is_the_truth_averaged_over_redrawn_dropout_times(mode):
    rng = np.random.default_rng(0)
    people = _people().iloc[:3]
    n = 20_000
    many = people.loc[people.index.repeat(n)].reset_index(drop=True)
    many["customer_unique_id"] = [f"p{i}" for i in range(len(many))]
    s = pd.Timestamp("2017-02-01")
    born = many["first_purchase"] if mode == "integrated" else many["first_purchase"].where(
        many["first_purchase"] > s, s)
    life = rng.exponential(1.0, len(many)) / many["dropout_rate_per_day"].to_numpy()
    redrawn = born + pd.to_timedelta(life, unit="D")
    if mode == "known":  # the state at the start is kept: the dead stay dead
        redrawn = redrawn.where(many["alive_until"] > s, many["alive_until"])
    mc = true_expected_value(many.assign(alive_until=redrawn), "2017-01-31", "2017-04-30").to_numpy()
    exact = trait_expected_value(people, "2017-01-31", "2017-04-30", dropout_before_start=mode).to_numpy()
    np.testing.assert_allclose(mc.reshape(3, n).mean(axis=1), exact, rtol=0.01, atol=1e-9)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"missing column\(s\) \['dropout_rate_per_day'\]"):
        trait_expected_value(_people().drop(columns="dropout_rate_per_day"), "2017-01-31", "2017-04-30")
    with pytest.raises(ValueError, match="dropout_before_start must be 'known' or 'integrated'"):
        trait_expected_value(_people(), "2017-01-31", "2017-04-30", dropout_before_start="realised")
    with pytest.raises(ValueError, match="must be after start"):
        trait_expected_value(_people(), "2017-04-30", "2017-01-31")


@pytest.mark.slow
def test_ceilings_on_the_default_demo(default_demo_holdout):
    from clvlib.evaluation.metrics import normalized_gini

    world, cut, end, ids, y = default_demo_holdout
    gini = {name: normalized_gini(y, ids.map(score).to_numpy()) for name, score in {
        "truth": true_expected_value(world.truth, cut, end),
        "known": trait_expected_value(world.truth, cut, end),
        "integrated": trait_expected_value(world.truth, cut, end, dropout_before_start="integrated"),
    }.items()}
    assert gini == pytest.approx({"truth": 0.919, "known": 0.908, "integrated": 0.863}, abs=0.001)
