"""Gamma-Gamma on every purchase, the first included: a spend model for one-time buyers too.

:class:`~clvlib.models.btyd.model.BTYDModel` fits Gamma-Gamma on *repeat* customers' mean
repeat value (Fader & Hardie's note [1]_, lifetimes' default), so every one-time buyer (about
98% of Olist people) gets the population mean spend ``p v / (q - 1)``, whatever their first
order was worth. :class:`AllOrdersSpend` fits the same model on every purchase instead, the
first included (CLVTools' ``gg(..., remove.first.transaction = FALSE)``, the "all transactions"
variant of [1]_): for each person

* ``x`` = purchase days up to the cut, ``frequency + 1`` (BG/NBD counts purchase *days*, a
  day's orders summed, so the spend per purchase day is what multiplies its expected
  purchases; counting orders would split a day's basket and understate it);
* ``z`` = mean value per purchase day, ``calibration_spend / (frequency + 1)``: everything the
  person spent up to the cut over their purchase days (one-time buyers: their first day's
  spend).

Both come from the features at the cut (:func:`clvlib.features.temporal.population_features`),
so nothing after the cut is read. The Gamma-Gamma conditional expectation of the value of a
future purchase day is ([1]_, eq. 5)::

    E[Z | x, z] = (q - 1) / (p x + q - 1) * p v / (q - 1)  +  p x / (p x + q - 1) * z
                = p (v + x z) / (p x + q - 1)

a weighted mean of the population mean and the person's own mean, the weight on the latter
growing with ``x``. It is finite for every ``x >= 1`` once ``p + q > 1``, so it is defined for
people with a single purchase; a one-time buyer's expectation grows with their first day's
spend. For repeat buyers with many purchases it tends to their own mean, as the standard
model's does.

The fit reuses pymc-marketing's ``GammaGammaModel`` through
:func:`clvlib.models.btyd.fit.fit_spend_model` (flat priors: the MAP is the MLE); predictions
use its ``expected_customer_spend`` on the unique ``(x, z)`` rows. Nothing here is written by
hand but the choice of ``x`` and ``z``.

References
----------
.. [1] Fader, P. S., & Hardie, B. G. S. (2013). "The Gamma-Gamma model of monetary value."
       http://www.brucehardie.com/notes/025/gamma_gamma.pdf
.. [2] Bachmann, P., Meierer, M., Naef, J. (2021). CLVTools: "gg(clv.data,
       remove.first.transaction = FALSE)".
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from clvlib.features.rfm import unique_rows
from clvlib.models.btyd._pymc import PMM_CUSTOMER, posterior_draws, thinned
from clvlib.models.btyd.fit import fit_spend_model
from clvlib.schemas import CUSTOMER

__all__ = ["SPEND_INPUTS", "all_orders_summary", "AllOrdersSpend", "with_spend", "with_spend_model", "spend_columns"]

#: Columns of the features at the cut that the all-orders spend model reads.
SPEND_INPUTS = ("frequency", "calibration_spend")


def all_orders_summary(features: pd.DataFrame, customer_col: str = CUSTOMER) -> pd.DataFrame:
    """Purchase days and mean spend per purchase day of every person, the first purchase included.

    Parameters
    ----------
    features
        One row per person at the cut (:func:`clvlib.features.temporal.population_features`).
    customer_col
        The customer id column.

    Returns
    -------
    pandas.DataFrame
        ``customer_col``, ``frequency`` = purchase days ``x`` (``frequency + 1``, float) and
        ``monetary_value`` = ``calibration_spend / x``, in the order of ``features``.

    Required columns
    ----------------
    ``customer_col``, ``frequency`` (repeat purchase days, whole, >= 0), ``calibration_spend``
    (total spend up to the cut, >= 0).
    """
    missing = [c for c in (customer_col, *SPEND_INPUTS) if c not in features.columns]
    if missing:
        raise ValueError(f"features: missing column(s) {missing} for the all-orders spend model; pass the features at "
                         "the cut (clvlib.features.temporal.population_features), which have them.")
    if len(features) == 0:
        raise ValueError("features: no rows; the all-orders spend model needs the people at the cut.")
    if features[customer_col].duplicated().any():
        raise ValueError(f"features: '{customer_col}' is not unique; pass one row per person at the cut.")
    freq = pd.to_numeric(features["frequency"], errors="coerce").to_numpy(dtype=float)
    spend = pd.to_numeric(features["calibration_spend"], errors="coerce").to_numpy(dtype=float)
    for name, v in (("frequency", freq), ("calibration_spend", spend)):
        if not np.isfinite(v).all() or (v < 0).any():
            raise ValueError(f"features: '{name}' must be finite and >= 0 for every person "
                             f"({int((~np.isfinite(v) | (v < 0)).sum())} row(s) are not).")
    if (freq != np.round(freq)).any():
        raise ValueError("features: 'frequency' must count whole repeat purchase days.")
    x = freq + 1.0
    return pd.DataFrame({customer_col: features[customer_col].to_numpy(), "frequency": x, "monetary_value": spend / x},
                        index=features.index)


class AllOrdersSpend:
    """Gamma-Gamma fitted on every purchase day, the first included (see the module docstring).

    Parameters
    ----------
    method
        ``"map"`` (with the default flat priors, the maximum-likelihood estimate) or ``"mcmc"``.
    spend_model_config
        pymc-marketing ``model_config`` of the Gamma-Gamma model; default flat priors on ``p, q, v``.
    random_seed
        Seed for MCMC.
    mcmc_draws, mcmc_tune, mcmc_chains
        Sampler settings for ``method="mcmc"``.
    max_predict_draws
        MCMC only: predictions use at most this many posterior draws.

    Attributes
    ----------
    spend_model_ : pymc_marketing.clv.GammaGammaModel
        The fitted model.
    params_ : pandas.DataFrame
        ``model`` (``"spend"``), ``parameter`` (``p``, ``q``, ``v``), ``estimate`` (MAP or posterior mean).
    n_customers_ : int
        People in the fit (those with a positive spend up to the cut).
    n_one_time_ : int
        Of whom with one purchase day.
    spend_frequency_corr_ : float
        Correlation of ``z`` and ``x`` in the fit; Gamma-Gamma assumes they are independent.
    optimizer_ : dict or None
        MAP only: scipy's convergence record.
    fit_seconds_ : float
        Wall time of the fit.
    """

    def __init__(self, method: str = "map", spend_model_config: dict | None = None, random_seed: int = 42,
                 mcmc_draws: int = 1000, mcmc_tune: int = 1000, mcmc_chains: int = 2,
                 max_predict_draws: int = 200) -> None:
        self.method = method
        self.spend_model_config = spend_model_config
        self.random_seed = random_seed
        self.mcmc_draws = mcmc_draws
        self.mcmc_tune = mcmc_tune
        self.mcmc_chains = mcmc_chains
        self.max_predict_draws = max_predict_draws

    def fit(self, features: pd.DataFrame, *, customer_col: str = CUSTOMER) -> AllOrdersSpend:
        """Fit Gamma-Gamma on ``(x, z)`` of every person with a positive spend up to the cut.

        Parameters
        ----------
        features
            One row per person at the cut; see :func:`all_orders_summary` for the required columns.
        customer_col
            The customer id column.

        Returns
        -------
        AllOrdersSpend
            ``self``, fitted.
        """
        if self.method not in ("map", "mcmc"):
            raise ValueError(f"method must be 'map' or 'mcmc', got {self.method!r}.")
        data = all_orders_summary(features, customer_col)
        data = data.loc[data["monetary_value"] > 0].rename(columns={customer_col: PMM_CUSTOMER})
        if len(data) < 10 or data["monetary_value"].nunique() < 2:
            raise ValueError(f"features: only {len(data)} person(s) with a positive spend up to the cut "
                             f"({data['monetary_value'].nunique()} distinct value(s)); the all-orders Gamma-Gamma model "
                             "needs at least 10 with differing values.")
        t0 = time.perf_counter()
        kw = dict(method="mcmc", draws=int(self.mcmc_draws), tune=int(self.mcmc_tune), chains=int(self.mcmc_chains), cores=1,
                  random_seed=self.random_seed, progressbar=False)
        self.spend_model_, self.optimizer_ = fit_spend_model(data.reset_index(drop=True), self.spend_model_config,
                                                             method=self.method, sampler_kwargs=kw)
        self.fit_seconds_ = time.perf_counter() - t0
        self.n_customers_ = int(len(data))
        self.n_one_time_ = int((data["frequency"] == 1).sum())
        self.spend_frequency_corr_ = (float(np.corrcoef(data["frequency"], data["monetary_value"])[0, 1])
                                      if data["frequency"].nunique() > 1 else float("nan"))
        post = self.spend_model_.idata.posterior
        self.params_ = pd.DataFrame([{"model": "spend", "parameter": n, "estimate": float(post[n].mean())}
                                     for n in ("p", "q", "v")])
        est = self.params_.set_index("parameter")["estimate"]
        if est["p"] + est["q"] <= 1:
            warnings.warn(f"All-orders Gamma-Gamma: p + q = {est['p'] + est['q']:.3g} <= 1, so a one-time buyer's "
                          "expected spend is infinite. Check calibration_spend for outliers.", UserWarning, stacklevel=2)
        return self

    def expected_spend(self, features: pd.DataFrame, *, customer_col: str = CUSTOMER) -> pd.DataFrame:
        """Expected value of a future purchase day per person, given their purchases up to the cut.

        Parameters
        ----------
        features
            One row per person at a cut (the one fitted on, or another); see
            :func:`all_orders_summary`.
        customer_col
            The customer id column; the output is keyed by it.

        Returns
        -------
        pandas.DataFrame
            ``customer_col`` and ``expected_spend`` = ``p (v + x z) / (p x + q - 1)``
            (posterior mean over the draws for MCMC), in the order of ``features``.
        """
        if not hasattr(self, "spend_model_"):
            raise ValueError("This AllOrdersSpend is not fitted yet: call fit(features) first.")
        data = all_orders_summary(features, customer_col)
        uniq, codes = unique_rows(data, ["frequency", "monetary_value"])
        uniq.insert(0, PMM_CUSTOMER, np.arange(len(uniq)))
        gg = thinned(self.spend_model_, int(self.max_predict_draws))
        spend = posterior_draws(gg.expected_customer_spend(data=uniq)).mean(axis=0)
        return pd.DataFrame({customer_col: data[customer_col].to_numpy(), "expected_spend": spend[codes]})

    def to_dict(self) -> dict:
        """JSON-friendly record: the inputs, the parameters and the size of the fit."""
        if not hasattr(self, "params_"):
            raise ValueError("This AllOrdersSpend is not fitted yet: call fit(features) first.")
        corr = self.spend_frequency_corr_
        return {"spend_model": "gamma_gamma_all_orders", "method": self.method,
                "x": "purchase days up to the cut (frequency + 1)", "z": "calibration_spend / (frequency + 1)",
                "params": dict(zip(self.params_["parameter"], self.params_["estimate"])),
                "n_customers": self.n_customers_, "n_one_time": self.n_one_time_,
                "spend_frequency_corr": None if not np.isfinite(corr) else corr}

    def __repr__(self) -> str:
        return f"AllOrdersSpend(method={self.method!r})"


def with_spend(purchases: pd.DataFrame, spend: pd.DataFrame, *, customer_col: str = CUSTOMER) -> pd.DataFrame:
    """A purchase model's predictions with another spend: expected purchases x the new expected spend.

    Parameters
    ----------
    purchases
        :meth:`clvlib.models.btyd.BTYDModel.predict` output (``customer_col``,
        ``expected_purchases``, ``p_alive``, ...).
    spend
        ``customer_col`` and ``expected_spend`` (:meth:`AllOrdersSpend.expected_spend`) for the same people.

    Returns
    -------
    pandas.DataFrame
        ``customer_col``, ``expected_purchases``, ``p_alive``, ``expected_spend``,
        ``predicted_value``, in the order of ``purchases``.
    """
    for name, frame, cols in (("purchases", purchases, ("expected_purchases", "p_alive")),
                              ("spend", spend, ("expected_spend",))):
        missing = [c for c in (customer_col, *cols) if c not in frame.columns]
        if missing:
            raise ValueError(f"with_spend: {name} has no column(s) {missing}.")
    s = spend.drop_duplicates(customer_col).set_index(customer_col)["expected_spend"]
    if len(s) != len(spend) or not purchases[customer_col].isin(s.index).all():
        raise ValueError("with_spend: spend must hold exactly one row for every person in purchases.")
    out = purchases[[customer_col, "expected_purchases", "p_alive"]].reset_index(drop=True)
    out["expected_spend"] = out[customer_col].map(s).to_numpy()
    out["predicted_value"] = out["expected_purchases"] * out["expected_spend"]
    return out


def with_spend_model(model: Any, spend: AllOrdersSpend) -> Any:
    """The BTYD model with another fitted Gamma-Gamma spend model, for :func:`clvlib.models.btyd.intervals.predict_intervals`.

    ``model`` is a ``BTYDModel`` or a :class:`clvlib.models.btyd.covariates.CovariateBGNBD`;
    ``spend`` is a fitted :class:`clvlib.models.btyd.spend.AllOrdersSpend`: its Gamma-Gamma
    model (holding the data it was fitted on, for the Hessian) and its ``p, q, v`` replace the
    model's own (or join it, when it has none); the purchase model is shared, not copied. Pass
    the people's all-orders inputs as ``spend_inputs`` to ``predict_intervals``.
    """
    if not hasattr(spend, "spend_model_") or not hasattr(spend, "params_"):
        raise ValueError("with_spend_model: the spend model is not fitted; call AllOrdersSpend().fit(features) first.")
    import copy

    out = copy.copy(model)
    out.spend_model_ = spend.spend_model_
    out.params_ = pd.concat([model.params_[model.params_["model"] != "spend"],
                             spend.params_[["model", "parameter", "estimate"]]], ignore_index=True)
    return out


def spend_columns(rfm: pd.DataFrame, spend_inputs: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The Gamma-Gamma inputs ``(x, z)`` per row of ``rfm``, for the intervals of any spend model.

    Without ``spend_inputs``: the standard model's, repeat purchases and mean repeat value (0 for
    one-time buyers). With them (e.g. :func:`all_orders_summary` of the same people, row for row):
    their ``frequency`` and ``monetary_value``, the all-orders model's purchase days and mean spend.
    """
    if spend_inputs is None:
        return (rfm["frequency"].to_numpy(dtype="float64"),
                np.where(rfm["frequency"] > 0, rfm["monetary_value"].to_numpy(dtype="float64"), 0.0))
    if {"frequency", "monetary_value"} - set(spend_inputs.columns) or len(spend_inputs) != len(rfm):
        raise ValueError(f"predict_intervals: spend_inputs must hold frequency and monetary_value for every row of "
                         f"rfm ({len(spend_inputs)} rows for {len(rfm)}; columns {list(spend_inputs.columns)}).")
    return (spend_inputs["frequency"].to_numpy(dtype="float64"), spend_inputs["monetary_value"].to_numpy(dtype="float64"))
