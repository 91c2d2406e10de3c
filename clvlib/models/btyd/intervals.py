"""Per-customer prediction intervals for a MAP-fitted BTYD model, without MCMC, and their coverage.

A parametric bootstrap of the maximum-likelihood (MAP) estimates, as CLVTools does: the
parameters are drawn from the asymptotic normal distribution of their logarithms
(:mod:`clvlib.models.btyd.asymptotic`: the inverse Hessian of the negative log-likelihood at
the MAP). For each draw the customer's expected purchases and spend are recomputed with
pymc-marketing's formulas (those of :meth:`BTYDModel.predict`) on the unique customer rows,
100,000 rows at a time (bounded memory), and the interval is the equal-tailed quantile range
over the draws.

Two kinds of uncertainty (``uncertainty=``):

``"parameters"`` (default)
    Only the estimation error of the population parameters: the interval of
    ``E[value | the customer's history, theta]`` over the draws of ``theta``. With tens
    of thousands of customers the parameters are estimated precisely, so these intervals
    are narrow; they say how sure the *model* is about its prediction, not how far a
    customer's true expected value can lie from it. They are what MCMC's
    ``predicted_value_low/high`` report too.
``"traits"``
    Also the customer's own latent traits, drawn from their posterior given their history
    under each ``theta``: whether they are still alive at ``T`` (probability
    ``p_alive``), their purchase rate ``lambda ~ Gamma(r + x, alpha + T)``, their
    dropout (BG/NBD: ``p ~ Beta(a, b + x)``; Pareto/NBD: ``mu ~ Gamma(s, beta + T)`` and
    the remaining lifetime ``~ Exp(mu)``), and their mean spend (Gamma-Gamma:
    ``nu ~ Gamma(p x + q, v + x m)``, mean spend ``p / nu``). Each draw's value is the
    customer's expected value *given those traits* (Pareto/NBD: ``lambda * min(life,
    horizon) * p / nu``, the quantity the demo's ``true_expected_value`` measures;
    BG/NBD: ``(1 - exp(-lambda p horizon)) / p * p_spend / nu``). This is an interval for the
    customer's true expected value, and it is wide: under Pareto/NBD a one-time buyer's runs
    from 0 (dropped out) to several times the prediction. Under BG/NBD a one-time buyer is
    alive with probability 1, so their interval never reaches 0.

Neither is an interval for the realised spend, which adds the Poisson noise of the
purchases and the noise of each order value (for ~98% of Olist people it would be [0, 0]).

Coverage of the demo's true expected value (default demo, 40,000 persons, seed 42; cut
2018-02-28, 184-day holdout, 23,293 people, 90% intervals, 200 draws; measured with
``clvlib.demo.true_expected_value``):

=====================================  ==========  =====================================
model                                  parameters  traits
=====================================  ==========  =====================================
BG/NBD x Gamma-Gamma (flat priors)     2.4%        47.7% (repeat buyers 92.3%; 41.8% of
                                                   truths below: dead one-time buyers)
Pareto/NBD x GG (informative priors)   2.7%        94.7% (repeat buyers 90.6%)
=====================================  ==========  =====================================

Parameter-only intervals under-cover the truth by ~87 points: they are not meant to hold
it. Split by :func:`coverage_by_buyer_type`, stage 06 of a default demo run (the same cut; 22,942
one-time buyers and 351 repeat buyers; the trait intervals of stage 05):

=================================================  =====  ==============  =============
model                                              all    one-time buyers repeat buyers
=================================================  =====  ==============  =============
BG/NBD x Gamma-Gamma                               46.6%  45.9%           92.3%
BG/NBD x Gamma-Gamma with the first order          46.3%  45.6%           91.5%
BG/NBD with covariates x GG with the first order   46.6%  46.0%           89.2%
=================================================  =====  ==============  =============

Every truth below an interval (41.8% of people, for each model) is a one-time buyer who had
already left (true value 0): BG/NBD gives a one-time buyer P(alive) = 1. Among one-time buyers
still alive at the cut, 79-80% are inside; a dead repeat buyer is inside (their interval
reaches 0).

The flat-prior Pareto/NBD of the demo has no normal approximation (``s`` and ``beta`` run off
together along a ridge, standard deviation of their logs ~29; see ``ridge`` in
:func:`clvlib.models.btyd.asymptotic.parameter_covariance`).

Speed (55,524 Olist customers, 2 shared CPUs): the Hessian ~0.7 s (see
:mod:`clvlib.models.btyd.asymptotic`); 200 draws of the predictions ~0.1 s for BG/NBD and
~5 s for Pareto/NBD (hyp2f1 for every draw and unique row). With the customers' own traits
(stage 05's intervals) the random draws dominate: 200 per unique row, and with the all-orders
spend nearly every customer has a row of their own (first order's value), so
:func:`clvlib.models.compare.add_intervals` takes ~0.4 s for BG/NBD x Gamma-Gamma, 3-5 s with
the first order and 4-6 s with covariates (demo: 2 s; measured with
``scripts/bench_intervals.py``, the machine shared with other jobs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from clvlib.features.rfm import RFM_COLUMNS, unique_rows, validate_rfm
from clvlib.models.btyd._pymc import PMM_CUSTOMER, attach_idata, posterior_draws
from clvlib.models.btyd.asymptotic import _check_draws, _is_covariate, parameter_covariance, parameter_draws
from clvlib.models.btyd.covariates import COEFFICIENT_PREFIX
from clvlib.models.btyd.fit import PURCHASE_PARAMS, SPEND_PARAMS, flat_priors
from clvlib.models.btyd.spend import spend_columns
from clvlib.schemas import CUSTOMER

__all__ = [
    "UNCERTAINTIES",
    "BUYER_TYPES",
    "predict_intervals",
    "interval_coverage",
    "coverage_by_buyer_type",
]

#: The kinds of uncertainty :func:`predict_intervals` can include (see the module docstring).
UNCERTAINTIES = ("parameters", "traits")


# --------------------------------------------------------------------------- predictions per draw


def _with_posterior(pmm_model: Any, names: tuple[str, ...], draws: pd.DataFrame, dummy: pd.DataFrame) -> Any:
    """A fresh pymc-marketing model of the same class whose 'posterior' is the parameter draws (1 chain)."""
    import arviz as az

    Cls = type(pmm_model)
    m = Cls(model_config=flat_priors(names))
    m.build_model(dummy)
    attach_idata(m, az.from_dict(posterior={n: draws[n].to_numpy()[None, :] for n in names}))
    return m


class _PurchaseDraws:
    """A purchase model seen through its parameter draws: predictions and each customer's ``alpha``, per draw.

    For a ``BTYDModel`` the population ``alpha`` of each draw; for a
    :class:`~clvlib.models.btyd.covariates.CovariateBGNBD` each customer's own
    ``alpha_scale * exp(-z . c)``, draw by draw.
    """

    def __init__(self, model: Any, draws: pd.DataFrame) -> None:
        self.kind = model.purchase_model
        self.covariates = list(model.covariates) if _is_covariate(model) else []
        self.columns = [*RFM_COLUMNS, *self.covariates]
        self.draws = draws
        if self.covariates:
            self.pmm = model.posterior_model(draws)
            self.coef = draws[[f"{COEFFICIENT_PREFIX}{c}]" for c in self.covariates]].to_numpy(dtype="float64")
        else:
            names = PURCHASE_PARAMS[model.purchase_model]
            dummy = pd.DataFrame({PMM_CUSTOMER: [0, 1], "frequency": [0.0, 1.0], "recency": [0.0, 1.0],
                                  "T": [2.0, 2.0]})
            self.pmm = _with_posterior(model.purchase_model_, names, draws, dummy)

    def predict(self, rows: pd.DataFrame, horizon: float, expected: bool = True
                ) -> tuple[np.ndarray | None, np.ndarray]:
        """Expected purchases (``None`` unless ``expected``) and P(alive), (n_draws, n_rows), by pymc-marketing."""
        import warnings

        uniq, codes = unique_rows(rows, self.columns)
        uniq.insert(0, PMM_CUSTOMER, np.arange(len(uniq)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            purchases = (posterior_draws(self.pmm.expected_purchases(data=uniq, future_t=float(horizon)))[:, codes]
                         if expected else None)
            p_alive = np.clip(posterior_draws(self.pmm.expected_probability_alive(data=uniq)), 0.0, 1.0)
        return purchases, p_alive[:, codes]

    def alpha(self, rows: pd.DataFrame) -> np.ndarray:
        """Each draw's ``alpha`` for each row: (n_draws, 1) without covariates, (n_draws, n_rows) with them."""
        if not self.covariates:
            return self.draws["alpha"].to_numpy()[:, None]
        z = rows[self.covariates].to_numpy(dtype="float64")
        return self.draws["alpha_scale"].to_numpy()[:, None] * np.exp(-(self.coef @ z.T))


def _spend_draws(draws: pd.DataFrame, frequency: np.ndarray, monetary: np.ndarray) -> np.ndarray:
    """Gamma-Gamma expected spend per draw, (n_draws, n_rows): pymc-marketing's formula (Fader & Hardie 2013, eq. 5)."""
    p, q, v = (draws[k].to_numpy()[:, None] for k in SPEND_PARAMS)
    x = frequency[None, :]
    w = p * x / (p * x + q - 1.0)
    return (1.0 - w) * (v * p / (q - 1.0)) + w * monetary[None, :]


def _trait_draws(kind: str, draws: pd.DataFrame, uniq: pd.DataFrame, p_alive: np.ndarray, alpha: np.ndarray,
                 horizon: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Expected purchases and mean spend given each draw of the customer's latent traits, (n_draws, n_rows).

    ``kind`` is the purchase model (``"bgnbd"`` or ``"pnbd"``); ``alpha`` each draw's purchase-rate
    scale, (n_draws, 1) or, with covariates, (n_draws, n_rows).
    """
    x = uniq["frequency"].to_numpy()[None, :]
    T = uniq["T"].to_numpy()[None, :]
    shape = (len(draws), len(uniq))
    par = {k: draws[k].to_numpy()[:, None] for k in draws.columns}
    alive = rng.random(shape) < p_alive
    lam = rng.gamma(par["r"] + x, 1.0 / (alpha + T), size=shape)
    if kind == "bgnbd":
        drop = rng.beta(par["a"], par["b"] + x, size=shape)
        z = lam * drop * horizon  # (1 - exp(-z)) / drop = lam * horizon * (1 - exp(-z)) / z, which is 1 at z = 0
        with np.errstate(invalid="ignore", divide="ignore"):
            purchases = lam * horizon * np.where(z > 0, -np.expm1(-z) / z, 1.0)
    else:
        mu = rng.gamma(par["s"], 1.0 / (par["beta"] + T), size=shape)
        life = rng.exponential(1.0, size=shape) / mu
        purchases = lam * np.minimum(life, horizon)
    purchases = np.where(alive, purchases, 0.0)
    spend = np.full(shape, np.nan)
    if "p" in par:
        xs, m = uniq["spend_x"].to_numpy()[None, :], uniq["spend_z"].to_numpy()[None, :]
        nu = rng.gamma(par["p"] * xs + par["q"], 1.0 / (par["v"] + xs * m), size=shape)
        spend = par["p"] / nu
    return purchases, spend


# --------------------------------------------------------------------------- the public function
#: Unique customer rows whose draws are held in memory at once (200 draws x 100,000 rows: 160 MB per array).
_CHUNK_ROWS = 100_000


def predict_intervals(
    model: Any,
    rfm: pd.DataFrame,
    horizon: float,
    *,
    n_draws: int = 200,
    level: float = 0.9,
    seed: int = 0,
    uncertainty: str = "parameters",
    fit_rfm: pd.DataFrame | None = None,
    customer_col: str = CUSTOMER,
    covariance: Mapping[str, pd.DataFrame] | None = None,
    ridge: str = "raise",
    spend_inputs: pd.DataFrame | None = None,
    draws: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-customer prediction intervals of a MAP-fitted BTYD model by a parametric bootstrap.

    Parameters
    ----------
    model
        A ``BTYDModel`` fitted with ``method="map"`` (BG/NBD or Pareto/NBD, with or without
        Gamma-Gamma), or a fitted :class:`~clvlib.models.btyd.covariates.CovariateBGNBD`
        (alone, or with a spend model through :func:`clvlib.models.btyd.spend.with_spend_model`):
        its covariate coefficients are drawn with ``r, alpha_scale, a, b`` and each customer's
        value uses their own ``alpha = alpha_scale * exp(-z . c)``.
    rfm
        The customers to predict, as for the model's ``predict`` (with the covariate columns for
        a ``CovariateBGNBD``).
    horizon
        Prediction window in the model's time unit (e.g. 180 days).
    n_draws
        Number of parameter draws (default 200; the quantiles' Monte-Carlo error is about
        ``sqrt(level_tail * (1 - level_tail) / n_draws)`` in probability).
    level
        Mass of the equal-tailed interval (default 0.9: the 5% and 95% quantiles).
    seed
        Seed of every random draw: same inputs and seed give the same intervals.
    uncertainty
        ``"parameters"`` (default) or ``"traits"``; see the module docstring.
    fit_rfm
        The RFM table the model was fitted on; only needed for a model rebuilt with
        :meth:`BTYDModel.from_dict`.
    customer_col
        The customer id column of ``rfm`` (and ``fit_rfm``); the output is keyed by it.
    covariance
        Output of :func:`parameter_covariance`, to reuse it across calls.
    ridge
        ``"raise"`` (default) or ``"fix"``: see :func:`parameter_covariance`.
    spend_inputs
        The spend model's ``frequency``/``monetary_value`` per row of ``rfm``: see :func:`.spend.spend_columns`.
    draws
        Parameter draws to use instead of drawing them (a :func:`parameter_draws` frame, one row
        per draw); ``n_draws``, ``covariance`` and ``ridge`` are then not used.

    Returns
    -------
    pandas.DataFrame
        In the order of ``rfm`` (row for row with ``model.predict(rfm, horizon)``):

        * ``customer_col``
        * ``expected_purchases_low``, ``expected_purchases_high``
        * ``expected_spend_low``, ``expected_spend_high`` (with a spend model)
        * ``predicted_value_low``, ``predicted_value_high`` (with a spend model): the
          quantiles of expected purchases x expected spend, draw by draw.

        ``attrs`` holds ``level``, ``n_draws``, ``uncertainty``, ``seed``, the covariance
        of the log parameters (``covariance``, nested dicts by model; empty with ``draws``) and
        the directions held at the MAP with ``ridge="fix"`` (``fixed_directions``, by model).

    Required columns
    ----------------
    ``customer_col``, ``frequency``, ``recency``, ``T``; ``monetary_value`` with a spend model;
    the model's covariates for a ``CovariateBGNBD``.

    Raises
    ------
    ValueError
        On a bad argument, an MCMC-fitted model, draws without a parameter the model needs, or a
        likelihood too flat for a normal approximation (see :func:`parameter_covariance`).

    Examples
    --------
    >>> model = BTYDModel("bgnbd").fit(rfm)                                  # doctest: +SKIP
    >>> pred = model.predict(rfm, horizon=180)                                # doctest: +SKIP
    >>> pred = pred.join(predict_intervals(model, rfm, 180).drop(columns=CUSTOMER))  # doctest: +SKIP
    """
    n_draws = _check_draws(n_draws if draws is None else len(draws))
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level must be in (0, 1), got {level!r}.")
    if uncertainty not in UNCERTAINTIES:
        raise ValueError(f"uncertainty must be one of {UNCERTAINTIES}, got {uncertainty!r}.")
    if isinstance(horizon, bool) or not np.isscalar(horizon) or not np.isfinite(horizon) or horizon <= 0:
        raise ValueError(f"horizon must be a positive number of time units, got {horizon!r}.")
    if not hasattr(model, "purchase_model_"):
        raise ValueError(f"This {type(model).__name__} is not fitted yet: call fit(rfm) first.")
    has_spend = getattr(model, "spend_model_", None) is not None
    validate_rfm(rfm, "rfm", customer_col, need_monetary=has_spend)
    if draws is None:
        cov = dict(covariance) if covariance is not None else parameter_covariance(
            model, fit_rfm, customer_col=customer_col, ridge=ridge)
        draws = parameter_draws(model, n_draws=n_draws, seed=seed, covariance=cov)
    else:
        cov = dict(covariance or {})
        draws = draws.reset_index(drop=True)
    purchase = _PurchaseDraws(model, draws)  # refuses draws without the model's parameters
    if has_spend and [k for k in SPEND_PARAMS if k not in draws.columns]:
        raise ValueError(f"predict_intervals: the draws have no spend parameters {list(SPEND_PARAMS)}; columns: "
                         f"{list(draws.columns)}.")
    # Unique (frequency, recency, T[, covariates][, spend inputs]) rows, 100,000 at a time.
    key = (model.model_table(rfm, customer_col) if purchase.covariates else rfm[list(RFM_COLUMNS)].astype("float64"))
    if has_spend:
        key["spend_x"], key["spend_z"] = spend_columns(rfm, spend_inputs)
    uniq, codes = unique_rows(key, list(key.columns))
    tail = (1.0 - level) / 2.0
    qs = [tail, 1.0 - tail]
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0]) if uncertainty == "traits" else None
    names = ["expected_purchases"] + (["expected_spend", "predicted_value"] if has_spend else [])
    bands = {n: np.empty((2, len(uniq))) for n in names}
    for start in range(0, len(uniq), _CHUNK_ROWS):  # bounded memory: n_draws x chunk arrays, not n_draws x all
        part = slice(start, start + _CHUNK_ROWS)
        rows = uniq.iloc[part]
        purchases, p_alive = purchase.predict(rows, float(horizon), expected=rng is None)  # traits: P(alive) only
        if rng is None:
            spend = _spend_draws(draws, *(rows[c].to_numpy() for c in ("spend_x", "spend_z"))) if has_spend else None
        else:
            purchases, spend = _trait_draws(purchase.kind, draws, rows, p_alive, purchase.alpha(rows), float(horizon),
                                            rng)
            spend = spend if has_spend else None
        bad = ~(np.isfinite(purchases).all(axis=1) & np.isfinite(p_alive).all(axis=1))
        if bad.any():
            raise ValueError(
                f"predict_intervals: {int(bad.sum())} of {n_draws} parameter draws give non-finite predictions (the "
                "draws reach where the purchase model's formulas overflow); the normal approximation is too wide "
                "here. Fit with informative priors or with method='mcmc'."
            )
        for n, v in zip(names, (purchases, spend, None if spend is None else purchases * spend)):
            bands[n][:, part] = np.quantile(v, qs, axis=0)
    out = pd.DataFrame({customer_col: rfm[customer_col].to_numpy()})
    for n in names:
        out[f"{n}_low"], out[f"{n}_high"] = bands[n][0][codes], bands[n][1][codes]
    out.attrs.update({"level": float(level), "n_draws": n_draws, "uncertainty": uncertainty, "seed": int(seed),
                      "covariance": {k: v.to_dict() for k, v in cov.items()},
                      "fixed_directions": {k: v.attrs.get("fixed_directions", []) for k, v in cov.items()}})
    return out


# --------------------------------------------------------------------------- coverage


def interval_coverage(y: Any, low: Any, high: Any) -> dict[str, float]:
    """Share of values inside their intervals (bounds included), below them and above them.

    Parameters
    ----------
    y
        The values the intervals should hold (e.g. the demo's true expected value), one per row.
    low, high
        The interval bounds, same length, ``low <= high``.

    Returns
    -------
    dict
        ``n``, ``coverage`` (share with ``low <= y <= high``), ``below`` (``y < low``),
        ``above`` (``y > high``), ``mean_width`` and ``median_width`` of ``high - low``.

    Raises
    ------
    ValueError
        If the lengths differ, a value is missing or not finite, or some ``low > high``.
    """
    arrs = []
    for name, a in (("y", y), ("low", low), ("high", high)):
        arr = np.asarray(a, dtype="float64").ravel()
        if not np.isfinite(arr).all():
            raise ValueError(f"interval_coverage: {name} has {int((~np.isfinite(arr)).sum())} missing or "
                             "non-finite value(s).")
        arrs.append(arr)
    y_, lo, hi = arrs
    if not (len(y_) == len(lo) == len(hi)) or len(y_) == 0:
        raise ValueError(f"interval_coverage: y, low and high must have the same, non-zero length; got "
                         f"{len(y_)}, {len(lo)} and {len(hi)}.")
    if (lo > hi).any():
        raise ValueError(f"interval_coverage: low > high in {int((lo > hi).sum())} row(s).")
    width = hi - lo
    return {"n": int(len(y_)), "coverage": float(np.mean((lo <= y_) & (y_ <= hi))),
            "below": float(np.mean(y_ < lo)), "above": float(np.mean(y_ > hi)),
            "mean_width": float(width.mean()), "median_width": float(np.median(width))}


#: The groups of :func:`coverage_by_buyer_type`, in order.
BUYER_TYPES = ("all customers", "one-time buyers", "repeat buyers")


def coverage_by_buyer_type(y: Any, low: Any, high: Any, frequency: Any) -> pd.DataFrame:
    """:func:`interval_coverage` for every customer, the one-time buyers and the repeat buyers at the cut.

    BG/NBD takes a one-time buyer (``frequency`` 0: no repeat purchase by the cut) to be alive,
    so their interval cannot reach the value of one who has left; a repeat buyer's can. The split
    shows where the misses are.

    Parameters
    ----------
    y
        The values the intervals should hold (e.g. the demo's true expected value), one per customer.
    low, high
        The interval bounds, same length.
    frequency
        Each customer's repeat purchase days up to the cut (BG/NBD's ``frequency``), same length.

    Returns
    -------
    pandas.DataFrame
        One row per group of :data:`BUYER_TYPES`: ``customers`` (the group), ``n``, ``share`` (of
        all customers), then :func:`interval_coverage`'s ``coverage``, ``below``, ``above``,
        ``mean_width``, ``median_width`` (missing for an empty group).

    Raises
    ------
    ValueError
        As :func:`interval_coverage`, and if ``frequency`` has another length or a missing,
        non-finite or negative value.

    Examples
    --------
    Two one-time buyers, one of them below their interval, and a repeat buyer inside theirs:

    >>> t = coverage_by_buyer_type([0.0, 1.0, 1.0], [0.5, 0.5, 0.5], [1.5, 1.5, 1.5], [0, 0, 2])
    >>> t.set_index("customers")["coverage"].round(3).to_dict()
    {'all customers': 0.667, 'one-time buyers': 0.5, 'repeat buyers': 1.0}
    """
    freq = np.asarray(frequency, dtype="float64").ravel()
    lo = np.asarray(low, dtype="float64").ravel()
    if len(freq) != len(lo):
        raise ValueError(f"coverage_by_buyer_type: frequency has {len(freq)} value(s) for {len(lo)} interval(s).")
    if not np.isfinite(freq).all() or (freq < 0).any():
        raise ValueError("coverage_by_buyer_type: frequency must be finite and >= 0 for every customer (repeat "
                         "purchase days up to the cut).")
    y_, hi = np.asarray(y, dtype="float64").ravel(), np.asarray(high, dtype="float64").ravel()
    interval_coverage(y_, lo, hi)  # refuses bad intervals before any split
    rows = []
    for name, keep in zip(BUYER_TYPES, (np.ones(len(freq), dtype=bool), freq == 0, freq > 0)):
        stats = interval_coverage(y_[keep], lo[keep], hi[keep]) if keep.any() else {"n": 0}
        rows.append({"customers": name, "n": int(keep.sum()), "share": float(keep.mean()),
                     **{k: stats.get(k, np.nan) for k in ("coverage", "below", "above", "mean_width", "median_width")}})
    return pd.DataFrame(rows)
