"""Two honest ceilings of the demo world, beside the truth score of :mod:`clvlib.demo.truth`.

:func:`clvlib.demo.truth.true_expected_value` uses each person's *realised* dropout time
(``alive_until``), so a person who dies inside the holdout is known to die: no model could
know that, and its Gini (0.919 on the default demo) is not a ceiling a model can reach.
This module gives two that are:

* :func:`trait_expected_value` -- the expected holdout value given the person's hidden
  traits (purchase rate ``lambda``, dropout rate ``mu``, spend level, first purchase) and
  whether they are still alive at the cut, with the dropout time *inside* the window
  integrated out (``P(alive at u) = exp(-mu (u - cut))``): the best prediction given
  everything before the window. Still unknowable from data, but it no longer sees the
  future. (Or, with ``dropout_before_start="integrated"``, from the traits alone.)
* :func:`clvlib.demo.observable.observable_expected_value` -- the best prediction
  possible from the observable data alone (orders and the keyed clickstream up to the cut),
  computed from the demo's own generative model: the posterior mean of the holdout value.

Normalized Gini against the delivered holdout spend on the default demo (40,000 persons,
seed 42; cut 2018-02-28, holdout to 2018-08-31, the 23,293 people with a delivered order
by the cut; ``tests/demo/test_ceilings.py`` and ``tests/demo/test_observable.py``, marked
slow, recompute them):

======================================================================  =====
score                                                                   Gini
======================================================================  =====
``true_expected_value`` (realised dropout: sees deaths in the holdout)  0.919
``trait_expected_value`` (traits + alive at the cut; the default)       0.908
``trait_expected_value(dropout_before_start="integrated")``             0.863
``observable_expected_value`` (orders + keyed clickstream)              0.572
``observable_expected_value`` with orders only (no clickstream)         0.419
======================================================================  =====

A model's share of a ceiling is its Gini divided by the ceiling's: the keyed hybrid of the
README (0.514) is at 57% of the trait ceiling and 90% of the observable one; BG/NBD x
Gamma-Gamma (0.281) at 31% and 49% (and at 67% of the orders-only ceiling, the one a
model without clickstream can aim at).

What keeps a learned model below the observable ceiling, measured on the default demo at the
backtest cut-offs 2017-11-30, 2017-12-31, 2018-01-31 (where every choice was made) and then
the holdout 2018-02-28 (normalized Gini; each line but the ceilings is the hybrid's learner:
the stacked snapshots with the recent windows, person weights, 100 boosting rounds, P(buy)
calibrated to BG/NBD's buyers, times Gamma-Gamma's spend on every order; given different inputs):

=====================================================================  ===================  =======
score                                                                  earlier cut-offs     holdout
=====================================================================  ===================  =======
``observable_expected_value`` (the ceiling)                            0.555  0.599  0.573    0.572
its purchase part (rate x alive x days) x Gamma-Gamma's spend          0.557  0.599  0.571    0.568
learner given only that purchase part                                  0.553  0.591  0.563    0.567
learner given RFM + the posterior's per-session statistics             0.531  0.564  0.557    0.546
learner given RFM + the pipeline's click features                      0.519  0.546  0.535    0.518
the keyed hybrid (RFM + order details + click features)                0.516  0.548  0.514    0.514
the keyed hybrid before (own spend part, 6 full windows, 200 rounds)   0.307  0.447  0.465    0.469
=====================================================================  ===================  =======

Spend is not where the gap is (the ceiling's purchase part times Gamma-Gamma ranks as well as
the ceiling), nor the learner itself: given a one-number summary of each person's orders and
sessions it recovers 98-100% of the ceiling from the same 177-292 training buyers, 6-month
Poisson labels and two-part product. What costs is learning that summary from many columns and
few buyers: given the per-session statistics the posterior uses (sessions, their event types,
the first and last, those after the last order, with the demo's own notion of an order
session: a purchase event within 2 seconds of an order) it reaches 94-97% of the ceiling; with
the pipeline's click features, in which any session with a purchase event is an order session
(the demo's browsing purchases included), 91-94%; the demo's order details columns, noise by
construction, cost about one point more. 95% of the observable ceiling is therefore at the edge
of what a model learned from this sample can reach even with features built from the demo's
own generative definitions, and beyond it with generic ones. (Measured with throwaway scripts
calling :func:`clvlib.models.hybrid.fit_score_snapshots` with added columns; the per-session
statistics come from :func:`clvlib.demo.observable.observed_histories`.)

References
----------
Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers: who
are they and what will they do next? *Management Science*, 33(1), 1-24.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clvlib.demo.calibration import ORIGIN, SPLIT_P
from clvlib.demo.timeline import DAY, day_table
from clvlib.demo.truth import _check_truth, _window

__all__ = ["trait_expected_value", "survival_weighted_visible_days"]


def _days_since_origin(t: Any) -> np.ndarray:
    """Timestamps -> float days since the demo clock's origin."""
    s = pd.to_datetime(pd.Series(np.asarray(t).ravel())).to_numpy(dtype="datetime64[s]")
    return (s - ORIGIN).astype("int64") / DAY


def survival_weighted_visible_days(a: Any, b: Any, born: Any, mu: Any) -> np.ndarray:
    """``integral_a^b vis(u) exp(-mu (u - born)) du`` in days, exactly (``vis`` is constant within a day).

    Parameters
    ----------
    a, b
        Interval bounds (timestamps); 0 where ``b <= a``.
    born
        The time from which the exponential lifetime runs (the first purchase).
    mu
        Dropout rate per day (>= 0); ``mu = 0`` gives :func:`clvlib.demo.visible_days`.

    Returns
    -------
    numpy.ndarray
        Float days, one per row.
    """
    days, _, vis = day_table()
    lo, hi, f = _days_since_origin(a), _days_since_origin(b), _days_since_origin(born)
    mu = np.broadcast_to(np.asarray(mu, dtype="float64"), lo.shape)
    if (mu < 0).any() or not np.isfinite(mu).all():
        raise ValueError("mu must be finite and non-negative.")
    out = np.zeros(lo.shape)
    if lo.size == 0:
        return out
    first_day = int(np.floor(max(lo.min(), 0.0)))
    last_day = int(np.ceil(min(hi.max(), float(days.size))))
    for d in range(first_day, last_day):
        u0 = np.maximum(lo, d)
        u1 = np.minimum(hi, d + 1.0)
        width = u1 - u0
        ok = width > 0
        if not ok.any():
            continue
        # exp(-mu (u0 - f)) * (1 - exp(-mu width)) / mu, which is width at mu = 0
        with np.errstate(invalid="ignore", divide="ignore"):
            part = np.where(mu > 0, -np.expm1(-mu * width) / mu, width)
        out += np.where(ok, vis[d] * np.exp(-mu * (u0 - f)) * part, 0.0)
    return out


def trait_expected_value(truth: pd.DataFrame, start: Any, end: Any, *, dropout_before_start: str = "known"
                         ) -> pd.Series:
    """Expected spend of each demo person in ``(start, end]`` given the hidden traits, future dropout integrated out.

    For person *i* with purchase rate ``lambda_i``, dropout rate ``mu_i``, spend level
    ``m_i`` and first purchase ``f_i``, and window ``[s, e)`` (calendar days as in
    :func:`clvlib.demo.true_expected_value`)::

        E_i = m_i (1 + q) ( 1[s <= f_i < e]
                            + A_i lambda_i integral_{b_i}^{e} vis(u) exp(-mu_i (u - b_i)) du )

    the expectation of :func:`clvlib.demo.true_expected_value` over the exponential
    lifetime (the demo draws ``alive_until - f_i ~ Exp(mu_i)``; its cap at 2099 and the
    rounding to whole seconds are ignored), where, for a person born before the window:

    * ``dropout_before_start="known"`` (default): ``A_i = 1[alive_until > s]`` and
      ``b_i = s``. The person's state at the start of the window (alive or not) is known,
      deaths inside the window are not. This is the expected value given the traits and
      everything that happened before the window, so no prediction from data before the
      window can beat it in expected squared error: the ceiling to compare models with.
    * ``"integrated"``: ``A_i = 1`` and ``b_i = f_i`` (the survival ``exp(-mu_i (u - f_i))``
      from the first purchase): the traits alone, not even whether the person is still
      alive at the cut. A person who died long ago keeps a small expected value.

    A person born inside the window (``f_i >= s``) has ``A_i = 1``, ``b_i = f_i`` either way.

    Parameters
    ----------
    truth
        The truth table (:func:`clvlib.demo.load_truth`), with ``dropout_rate_per_day``.
    start, end
        Last day before the window and last day in it.
    dropout_before_start
        ``"known"`` or ``"integrated"`` (above).

    Returns
    -------
    pandas.Series
        Float, indexed by ``customer_unique_id``, named ``trait_expected_value``.

    Required columns
    ----------------
    customer_unique_id, first_purchase, alive_until, purchase_rate_per_day,
    dropout_rate_per_day, spend_mean

    Raises
    ------
    ValueError
        If a required column is missing or invalid, ``end`` is not after ``start`` or
        ``dropout_before_start`` is unknown.

    Notes
    -----
    On the default demo (40,000 persons, seed 42; cut 2018-02-28, holdout to 2018-08-31,
    23,293 people scored against their delivered holdout spend) the normalized Gini is 0.919
    for :func:`clvlib.demo.true_expected_value` (realised dropout), 0.908 here with
    ``"known"`` and 0.863 with ``"integrated"``.
    """
    if dropout_before_start not in ("known", "integrated"):
        raise ValueError(f"dropout_before_start must be 'known' or 'integrated', got {dropout_before_start!r}.")
    if "dropout_rate_per_day" not in truth.columns:
        raise ValueError("truth: missing column(s) ['dropout_rate_per_day']; load it with clvlib.demo.load_truth.")
    df = _check_truth(truth, "truth")
    s, e = _window(start, end)
    first = df["first_purchase"]
    in_window = ((first >= s) & (first < e)).to_numpy(dtype=float)
    a = first.where(first > s, s)
    if dropout_before_start == "known":
        born = a
        alive = np.where(first < s, (df["alive_until"] > s).to_numpy(), True).astype(float)
    else:
        born = first
        alive = np.ones(len(df))
    days = survival_weighted_visible_days(a, pd.Series(e, index=df.index), born, df["dropout_rate_per_day"].to_numpy())
    repeats = alive * df["purchase_rate_per_day"].to_numpy() * days
    value = df["spend_mean"].to_numpy() * (1.0 + SPLIT_P) * (in_window + repeats)
    return pd.Series(value, index=pd.Index(df["customer_unique_id"], name="customer_unique_id"),
                     name="trait_expected_value")
