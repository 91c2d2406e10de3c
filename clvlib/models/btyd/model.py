"""The BTYD model: BG/NBD or Pareto/NBD purchases x Gamma-Gamma spend, on pymc-marketing.

:class:`BTYDModel` fits on an RFM table (:func:`clvlib.features.rfm.rfm_summary`) and
predicts purchases, P(alive), spend, value over a horizon and a discounted lifetime value.
How it fits (priors, weights, the MAP optimiser) is in :mod:`.fit`; everything that
touches pymc-marketing's internals is in :mod:`._pymc`.

Customers are keyed by ``customer_col`` (default :data:`clvlib.schemas.CUSTOMER`) in and
out; pymc-marketing's ``customer_id`` column exists only inside this subpackage.

Populations like Olist
----------------------
In Olist the first purchase is the only purchase for ~98% of people. Consequences that
the reader of a report should know:

* The Gamma-Gamma model is fitted on *repeat* customers only (``frequency > 0`` and
  ``monetary_value > 0``; about 2% of Olist), because ``monetary_value`` is the mean of
  repeat purchases. A one-time buyer has no repeat purchase to learn from, so their
  ``expected_spend`` is the model's population mean ``p * v / (q - 1)``: the mean order
  value of repeat purchases in the population, *not* the value of their first order.
  :class:`clvlib.models.btyd.spend.AllOrdersSpend` fits Gamma-Gamma on every purchase, the
  first included, so their spend follows their first order (``btyd:bgnbd+first`` in the
  model comparison).
* Under BG/NBD a customer can only drop out right after a repeat purchase, so
  ``p_alive`` is exactly 1 for every one-time buyer. Pareto/NBD (``purchase_model="pnbd"``)
  lets one-time buyers age and gives them a P(alive) that falls with ``T``.

Predictions are computed on the unique (frequency, recency, T, monetary_value) rows and
mapped back to customers (55,000 Olist customers: Pareto/NBD ~2.5 s, BG/NBD ~0.2 s). No
progress bars are printed (``progressbar=False`` everywhere; pymc still logs sampler
messages for MCMC).

References
----------
.. [1] Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers the
       easy way: An alternative to the Pareto/NBD model." Marketing Science, 24(2), 275-284.
.. [2] Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). "Counting your customers:
       Who are they and what will they do next?" Management Science, 33(1), 1-24.
.. [3] Fader, P. S., & Hardie, B. G. S. (2013). "The Gamma-Gamma model of monetary value."
       http://www.brucehardie.com/notes/025/gamma_gamma.pdf
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from clvlib.features.rfm import RFM_COLUMNS, check_time_unit, compress_rfm, unique_rows, validate_rfm
from clvlib.models.btyd._pymc import (
    PMM_CUSTOMER, attach_idata, lifetime_value, posterior_draws, purchase_model_class, thinned, to_pmm,
)
from clvlib.models.btyd.fit import (
    PURCHASE_MODELS, PURCHASE_PARAMS, default_purchase_priors, fit_purchase_model, fit_spend_model, flat_priors,
)
from clvlib.schemas import CUSTOMER

__all__ = ["BTYDModel"]


class BTYDModel:
    """BG/NBD or Pareto/NBD purchases x Gamma-Gamma spend, fitted with pymc-marketing.

    Parameters
    ----------
    purchase_model
        ``"bgnbd"`` (BG/NBD, [1]_) or ``"pnbd"`` (Pareto/NBD, [2]_).
    method
        ``"map"`` (posterior mode; with the default flat priors the maximum-likelihood
        estimate) or ``"mcmc"`` (full posterior: adds sd/HDI to ``params_`` and
        ``predicted_value_low/high`` to :meth:`predict`).
    time_unit
        Unit of ``recency``/``T`` in the RFM table (``"D"`` or ``"W"``); must match the one
        given to ``rfm_summary``. Used to convert months for ``clv_lifetime``: calendar
        months of 365.25 / 12 days (12 months are 365.25 days, 24 are 730.5).
    discount_rate_annual
        Annual discount rate for ``clv_lifetime``; applied monthly as
        ``(1 + rate) ** (1 / 12) - 1``. Default 10%.
    clv_months
        Horizon of ``clv_lifetime`` in months (pymc-marketing's and lifetimes' default, 12).
        Longer horizons extrapolate the purchase model far beyond the data it saw.
    random_seed
        Seed for MCMC and for the simulation in ``plot_repeat_purchases``.
    mcmc_draws, mcmc_tune, mcmc_chains
        Sampler settings for ``method="mcmc"``.
    mcmc_sampler
        ``"auto"`` (NUTS for BG/NBD and Gamma-Gamma, DEMetropolisZ for Pareto/NBD, whose
        hyp2f1 gradient makes NUTS very slow, as pymc-marketing's docs also warn),
        ``"nuts"`` or ``"demz"``.
    credible_interval
        Mass of the equal-tailed interval reported as ``predicted_value_low/high`` and of
        the HDI in ``params_`` (MCMC only). Default 0.94 (ArviZ's default).
    max_predict_draws
        MCMC only: :meth:`predict` uses at most this many posterior draws (evenly thinned;
        ``clv_lifetime``, a posterior mean, at most 100). Pareto/NBD predictions evaluate
        hyp2f1 for every draw and unique customer row, ~20 s per 1,000 draws on Olist.
    purchase_model_config, spend_model_config
        pymc-marketing ``model_config`` dicts (priors). Default: flat (``HalfFlat``)
        priors on every parameter (BG/NBD ``r, alpha, a, b``; Pareto/NBD ``r, alpha, s,
        beta``; Gamma-Gamma ``p, q, v``), so MAP is the maximum-likelihood estimate. For
        informative priors on the shapes pass
        ``purchase_model_config=informative_purchase_priors(purchase_model)`` (from
        :mod:`clvlib.models.btyd.fit`, which explains when they matter).
    weighted
        Fit on unique ``(frequency, recency, T)`` rows with customer counts as weights
        (default; same result, much faster). ``False`` fits pymc-marketing's model on every
        customer, as pymc-marketing would.

    Attributes
    ----------
    purchase_model_ : pymc_marketing.clv.BetaGeoModel or ParetoNBDModel
        Fitted, built on all customers given to :meth:`fit` (its ``idata`` holds the
        posterior, chain = draw = 1 for MAP).
    spend_model_ : pymc_marketing.clv.GammaGammaModel or None
        Fitted on repeat customers; ``None`` when the RFM table had no ``monetary_value``.
    params_ : pandas.DataFrame
        One row per parameter: ``model`` (``purchase``/``spend``), ``parameter``,
        ``estimate`` (MAP or posterior mean) and, for MCMC, ``sd``, ``hdi_low``,
        ``hdi_high``, ``r_hat``, ``ess_bulk``.
    customer_col_ : str
        The customer id column of the table given to :meth:`fit` (recorded by
        :meth:`to_dict`; :meth:`predict` takes its own ``customer_col``).
    n_customers_, n_unique_triples_, n_repeat_customers_, n_spend_customers_ : int
        Sizes of the fitting data (``n_spend_customers_``: rows used by Gamma-Gamma).
    fit_triples_ : pandas.DataFrame
        The unique ``(frequency, recency, T)`` of the fitting data with ``n_customers`` each: what the
        likelihood depends on (the parameters' covariance is computed from it). With ``weighted``
        (the default) the pymc-marketing model is built on these rows, not on every customer.
    purchase_optimizer_, spend_optimizer_ : dict or None
        MAP only: scipy's convergence flag and message, number of evaluations and the
        negative log posterior at the optimum.
    spend_frequency_corr_ : float
        Correlation of ``monetary_value`` and ``frequency`` among repeat customers; the
        Gamma-Gamma model assumes they are independent, so it should be near 0.
    fit_seconds_ : dict
        Wall time of each fit (``purchase``, ``spend``).

    Examples
    --------
    >>> rfm = rfm_summary(tx, "customer_unique_id", "order_purchase_timestamp", "order_value")  # doctest: +SKIP
    >>> model = BTYDModel("bgnbd").fit(rfm)                       # doctest: +SKIP
    >>> pred = model.predict(rfm, horizon=180)                    # doctest: +SKIP

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing
           Science 24(2), 275-284.
    .. [2] Schmittlein, Morrison & Colombo (1987), "Counting your customers", Management
           Science 33(1), 1-24.
    .. [3] Fader & Hardie (2013), "The Gamma-Gamma model of monetary value".
    """

    def __init__(
        self,
        purchase_model: str = "bgnbd",
        method: str = "map",
        time_unit: str = "D",
        discount_rate_annual: float = 0.10,
        clv_months: int = 12,
        random_seed: int = 42,
        mcmc_draws: int = 1000,
        mcmc_tune: int = 1000,
        mcmc_chains: int = 2,
        mcmc_sampler: str = "auto",
        credible_interval: float = 0.94,
        max_predict_draws: int = 200,
        purchase_model_config: dict | None = None,
        spend_model_config: dict | None = None,
        weighted: bool = True,
    ) -> None:
        self.purchase_model = purchase_model
        self.method = method
        self.time_unit = time_unit
        self.discount_rate_annual = discount_rate_annual
        self.clv_months = clv_months
        self.random_seed = random_seed
        self.mcmc_draws = mcmc_draws
        self.mcmc_tune = mcmc_tune
        self.mcmc_chains = mcmc_chains
        self.mcmc_sampler = mcmc_sampler
        self.credible_interval = credible_interval
        self.max_predict_draws = max_predict_draws
        self.purchase_model_config = purchase_model_config
        self.spend_model_config = spend_model_config
        self.weighted = weighted

    # ------------------------------------------------------------------ params

    def _check_params(self) -> None:
        if self.purchase_model not in PURCHASE_MODELS:
            raise ValueError(f"purchase_model must be one of {PURCHASE_MODELS}, got {self.purchase_model!r}.")
        if self.method not in ("map", "mcmc"):
            raise ValueError(f"method must be 'map' or 'mcmc', got {self.method!r}.")
        check_time_unit(self.time_unit)
        if self.mcmc_sampler not in ("auto", "nuts", "demz"):
            raise ValueError(f"mcmc_sampler must be 'auto', 'nuts' or 'demz', got {self.mcmc_sampler!r}.")
        if not (0 < self.credible_interval < 1):
            raise ValueError(f"credible_interval must be in (0, 1), got {self.credible_interval}.")
        if not (self.discount_rate_annual > -1):
            raise ValueError(f"discount_rate_annual must be > -1, got {self.discount_rate_annual}.")
        if int(self.max_predict_draws) < 1:
            raise ValueError(f"max_predict_draws must be >= 1, got {self.max_predict_draws}.")
        if int(self.clv_months) != self.clv_months or self.clv_months < 1:
            raise ValueError(f"clv_months must be a whole number >= 1, got {self.clv_months}.")

    @property
    def monthly_discount_rate(self) -> float:
        """The monthly rate equivalent to ``discount_rate_annual``."""
        return float((1.0 + self.discount_rate_annual) ** (1.0 / 12.0) - 1.0)

    def _sampler_kwargs(self, kind: str) -> dict:
        sampler = self.mcmc_sampler
        if sampler == "auto":
            sampler = "demz" if kind == "pnbd" else "nuts"
        kw = dict(draws=int(self.mcmc_draws), tune=int(self.mcmc_tune), chains=int(self.mcmc_chains),
                  cores=max(1, min(int(self.mcmc_chains), os.cpu_count() or 1)),
                  random_seed=self.random_seed, progressbar=False)
        return {"method": "demz" if sampler == "demz" else "mcmc", **kw}

    # ------------------------------------------------------------------ fit

    def fit(self, rfm: pd.DataFrame, *, customer_col: str = CUSTOMER) -> BTYDModel:
        """Fit the purchase model on all customers and Gamma-Gamma on repeat customers.

        Parameters
        ----------
        rfm
            Output of ``rfm_summary`` (one row per customer), in ``time_unit`` units.
        customer_col
            The customer id column of ``rfm``.

        Returns
        -------
        BTYDModel
            ``self``, fitted.

        Required columns
        ----------------
        ``customer_col``, ``frequency``, ``recency``, ``T``; ``monetary_value`` for the
        spend model (without it only the purchase model is fitted).
        """
        self._check_params()
        validate_rfm(rfm, "rfm", customer_col)
        unit = rfm.attrs.get("time_unit")
        if unit is not None and unit != self.time_unit:
            raise ValueError(
                f"rfm: the table was built with time_unit={unit!r} but the model has time_unit={self.time_unit!r}; "
                "use the same unit for both."
            )
        kind = self.purchase_model
        config = self.purchase_model_config
        if config is None:
            config = default_purchase_priors(kind)
        data = to_pmm(rfm, customer_col, RFM_COLUMNS)
        data["frequency"] = data["frequency"].astype("float64")
        uniq = compress_rfm(data)
        self.customer_col_ = customer_col
        self.n_customers_ = int(len(data))
        self.n_unique_triples_ = int(len(uniq))
        self.fit_triples_ = uniq[[*RFM_COLUMNS, "n_customers"]].reset_index(drop=True)

        t0 = time.perf_counter()
        self.purchase_model_, self.purchase_optimizer_ = fit_purchase_model(
            data, uniq, kind, config, method=self.method, weighted=self.weighted,
            sampler_kwargs=self._sampler_kwargs(kind),
        )
        self.spend_optimizer_ = None
        self.fit_seconds_ = {"purchase": time.perf_counter() - t0}

        self.spend_model_ = None
        self.n_repeat_customers_ = int((rfm["frequency"] > 0).sum())
        self.n_spend_customers_ = 0
        self.spend_frequency_corr_ = float("nan")
        if "monetary_value" in rfm.columns:
            t0 = time.perf_counter()
            repeat = to_pmm(rfm.loc[(rfm["frequency"] > 0) & (rfm["monetary_value"] > 0)], customer_col,
                            ["frequency", "monetary_value"])
            repeat["frequency"] = repeat["frequency"].astype("float64")
            if len(repeat) < 10:
                raise ValueError(
                    f"rfm: only {len(repeat)} customer(s) with frequency > 0 and monetary_value > 0; the Gamma-Gamma "
                    "spend model needs repeat customers (at least 10). Use a longer calibration period, or drop "
                    "'monetary_value' to fit the purchase model alone."
                )
            self.n_spend_customers_ = int(len(repeat))
            self.spend_frequency_corr_ = float(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])
            gg, self.spend_optimizer_ = fit_spend_model(repeat, self.spend_model_config, method=self.method,
                                                        sampler_kwargs=self._sampler_kwargs("gg"))
            self.spend_model_ = gg
            self.fit_seconds_["spend"] = time.perf_counter() - t0
            q = float(gg.fit_result["q"].mean())
            if q <= 1:
                warnings.warn(
                    f"Gamma-Gamma q = {q:.3g} <= 1: the population mean spend p*v/(q-1) is undefined, so the "
                    "expected spend of one-time buyers is meaningless. Check monetary_value for outliers.",
                    UserWarning, stacklevel=2,
                )
        self.params_ = self._params_table()
        return self

    def _params_table(self) -> pd.DataFrame:
        import arviz as az

        rows = []
        models = [("purchase", self.purchase_model_)]
        if self.spend_model_ is not None:
            models.append(("spend", self.spend_model_))
        for label, m in models:
            post = m.idata.posterior
            names = [n for n in post.data_vars if post[n].ndim == 2]  # scalar parameters: (chain, draw)
            if self.method == "map":
                for n in names:
                    rows.append({"model": label, "parameter": n, "estimate": float(post[n].values.ravel()[0])})
            else:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    s = az.summary(m.idata, var_names=names, hdi_prob=self.credible_interval)
                lo, hi = [c for c in s.columns if c.startswith("hdi_")][:2]
                for n in names:
                    rows.append({"model": label, "parameter": n, "estimate": float(post[n].mean()),
                                 "sd": float(post[n].std()), "hdi_low": float(s.loc[n, lo]),
                                 "hdi_high": float(s.loc[n, hi]), "r_hat": float(s.loc[n, "r_hat"]),
                                 "ess_bulk": float(s.loc[n, "ess_bulk"])})
        return pd.DataFrame(rows)

    def _check_fitted(self) -> None:
        if not hasattr(self, "purchase_model_"):
            raise ValueError("This BTYDModel is not fitted yet: call fit(rfm) first (or BTYDModel.from_dict).")

    # ------------------------------------------------------------------ predict

    def predict(self, rfm: pd.DataFrame, horizon: float, *, customer_col: str = CUSTOMER,
                lifetime: bool = True) -> pd.DataFrame:
        """Expected purchases, P(alive), spend and value per customer.

        Parameters
        ----------
        rfm
            RFM table (e.g. the calibration table the model was fitted on, or a later one).
        horizon
            Prediction window in ``time_unit`` units (e.g. 180 days).
        customer_col
            The customer id column of ``rfm``; the output is keyed by the same column.
        lifetime
            Whether to compute ``clv_lifetime`` (pymc-marketing evaluates the purchase model once
            per month of it: the slowest part of a prediction). A backtest cut that only ranks
            customers over the horizon does not need it.

        Returns
        -------
        pandas.DataFrame
            In the order of ``rfm``:

            * ``customer_col``
            * ``expected_purchases``: expected number of purchase periods in ``(T, T + horizon]``
            * ``p_alive``: probability of being active at ``T`` (1 for BG/NBD one-time buyers)
            * ``expected_spend``: Gamma-Gamma conditional expected value per purchase; for
              ``frequency == 0`` the population mean (see the module docstring)
            * ``predicted_value`` = ``expected_purchases * expected_spend``
            * ``clv_lifetime``: discounted value over ``clv_months`` months at
              ``discount_rate_annual`` (pymc-marketing's ``customer_lifetime_value``)
            * ``predicted_value_low`` / ``predicted_value_high`` (``method="mcmc"`` only):
              equal-tailed ``credible_interval`` of expected purchases x expected spend over
              the posterior (parameter uncertainty, not the purchase-count noise).

            Without a spend model only the first three columns are returned.

        Required columns
        ----------------
        ``customer_col``, ``frequency``, ``recency``, ``T``; ``monetary_value`` when the
        model has a spend model.
        """
        self._check_fitted()
        has_spend = self.spend_model_ is not None
        validate_rfm(rfm, "rfm", customer_col, need_monetary=has_spend)
        if not np.isscalar(horizon) or not np.isfinite(horizon) or horizon <= 0:
            raise ValueError(f"horizon must be a positive number of time units, got {horizon!r}.")
        key = rfm[list(RFM_COLUMNS)].astype("float64")
        if has_spend:
            key["monetary_value"] = np.where(rfm["frequency"] > 0, rfm["monetary_value"].astype("float64"), 0.0)
        uniq, codes = unique_rows(key, list(key.columns))
        uniq.insert(0, PMM_CUSTOMER, np.arange(len(uniq)))
        pm_ = thinned(self.purchase_model_, int(self.max_predict_draws))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            purchases = posterior_draws(pm_.expected_purchases(data=uniq, future_t=float(horizon)))
            p_alive = posterior_draws(pm_.expected_probability_alive(data=uniq))
        bad = ~np.isfinite(purchases).all(axis=0) | ~np.isfinite(p_alive).all(axis=0)
        if bad.any():
            warnings.warn(f"{int(np.isin(codes, np.flatnonzero(bad)).sum())} customer(s) got non-finite expected "
                          f"purchases or P(alive): {self._nonfinite_reason()}", UserWarning, stacklevel=2)
        out = pd.DataFrame({customer_col: rfm[customer_col].to_numpy()}, index=rfm.index)
        out["expected_purchases"] = purchases.mean(axis=0)[codes]
        out["p_alive"] = np.clip(p_alive.mean(axis=0), 0.0, 1.0)[codes]
        if not has_spend:
            return out.reset_index(drop=True)
        spend_model = thinned(self.spend_model_, int(self.max_predict_draws))
        spend = posterior_draws(spend_model.expected_customer_spend(data=uniq))
        e_s = spend.mean(axis=0)
        out["expected_spend"] = e_s[codes]
        out["predicted_value"] = out["expected_purchases"] * out["expected_spend"]
        if lifetime:
            # clv_lifetime only reports a posterior mean, and pymc-marketing recomputes the
            # (for Pareto/NBD, hyp2f1-heavy) likelihood once per month: use <= 100 draws.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                disc = lifetime_value(thinned(pm_, 100), uniq.assign(future_spend=1.0), int(self.clv_months),
                                      self.monthly_discount_rate, self.time_unit)
            out["clv_lifetime"] = (posterior_draws(disc).mean(axis=0) * e_s)[codes]
        if self.method == "mcmc":
            n = min(len(purchases), len(spend))
            value = purchases[:n] * spend[:n]
            tail = (1.0 - self.credible_interval) / 2.0
            out["predicted_value_low"] = np.quantile(value, tail, axis=0)[codes]
            out["predicted_value_high"] = np.quantile(value, 1.0 - tail, axis=0)[codes]
        return out.reset_index(drop=True)

    def _nonfinite_reason(self) -> str:
        """Why predictions can be non-finite, in words (for the warning of :meth:`predict`)."""
        repeat = getattr(self, "n_repeat_customers_", None)
        post = self.purchase_model_.idata.posterior
        if self.purchase_model == "bgnbd" and np.any(np.abs(post["a"].values - 1.0) < 1e-6):
            return (f"BG/NBD's dropout parameter a is 1, where its expected purchases divide by a - 1. That happens "
                    f"when too few people bought twice ({repeat} here) for a and b to be estimated; fit on a longer "
                    "history.")
        return (f"the fitted parameters are extreme (see params_); with {repeat} repeat customers the model is "
                "barely identified.")

    # ------------------------------------------------------------------ save / load

    def to_dict(self) -> dict:
        """JSON-friendly description of the fitted model (settings, parameters, data sizes).

        ``json.dump(model.to_dict(), fh)`` works as is; :meth:`from_dict` rebuilds a model
        that predicts from the point estimates (posterior means for MCMC).
        """
        import pymc_marketing

        self._check_fitted()
        params: dict[str, dict[str, Any]] = {}
        for rec in self.params_.to_dict(orient="records"):
            clean = {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                     for k, v in rec.items() if k not in ("model", "parameter")}
            params.setdefault(rec["model"], {})[rec["parameter"]] = clean
        corr = self.spend_frequency_corr_
        return {
            "purchase_model": self.purchase_model,
            "spend_model": "gamma_gamma" if self.spend_model_ is not None else None,
            "method": self.method,
            "time_unit": self.time_unit,
            "customer_col": self.customer_col_,
            "discount_rate_annual": float(self.discount_rate_annual),
            "clv_months": int(self.clv_months),
            "credible_interval": float(self.credible_interval),
            "n_customers": self.n_customers_,
            "n_unique_triples": self.n_unique_triples_,
            "n_repeat_customers": self.n_repeat_customers_,
            "n_spend_customers": self.n_spend_customers_,
            "priors": {
                label: {k: (v.to_dict() if hasattr(v, "to_dict") else str(v)) for k, v in m.model_config.items()
                        if not k.endswith("_cols") and "coefficient" not in k}
                for label, m in (("purchase", self.purchase_model_), ("spend", self.spend_model_)) if m is not None
            },
            "spend_frequency_corr": None if not np.isfinite(corr) else corr,
            "params": params,
            "pymc_marketing_version": pymc_marketing.__version__,
        }

    @classmethod
    def from_dict(cls, d: dict) -> BTYDModel:
        """Rebuild a predicting model from :meth:`to_dict` output (point estimates, MAP-like).

        Dicts written before ``customer_col`` was stored get :data:`clvlib.schemas.CUSTOMER`.
        """
        import arviz as az
        from pymc_marketing.clv import GammaGammaModel

        for k in ("purchase_model", "time_unit", "params"):
            if k not in d:
                raise ValueError(f"from_dict: key '{k}' is missing; pass the output of BTYDModel.to_dict().")
        self = cls(purchase_model=d["purchase_model"], method="map", time_unit=d["time_unit"],
                   discount_rate_annual=d.get("discount_rate_annual", 0.10), clv_months=d.get("clv_months", 12))
        self._check_params()
        # pymc-marketing builds its models on data; predictions take their own data, so a
        # two-row stand-in is enough.
        dummy = pd.DataFrame({PMM_CUSTOMER: [0, 1], "frequency": [0.0, 1.0], "recency": [0.0, 1.0],
                              "T": [2.0, 2.0], "monetary_value": [0.0, 1.0]})

        def posterior(p: dict) -> Any:
            return az.from_dict(posterior={k: np.array([[v["estimate"]]]) for k, v in p.items()})

        Cls = purchase_model_class(self.purchase_model)
        pm_ = Cls(model_config=flat_priors(PURCHASE_PARAMS[self.purchase_model]))
        pm_.build_model(dummy[[PMM_CUSTOMER, *RFM_COLUMNS]])
        attach_idata(pm_, posterior(d["params"]["purchase"]))
        self.purchase_model_ = pm_
        self.spend_model_ = None
        if "spend" in d["params"]:
            gg = GammaGammaModel()
            gg.build_model(dummy.iloc[[1]])
            attach_idata(gg, posterior(d["params"]["spend"]))
            self.spend_model_ = gg
        self.customer_col_ = d.get("customer_col", CUSTOMER)
        self.n_customers_ = d.get("n_customers")
        self.n_unique_triples_ = d.get("n_unique_triples")
        self.n_repeat_customers_ = d.get("n_repeat_customers")
        self.n_spend_customers_ = d.get("n_spend_customers")
        corr = d.get("spend_frequency_corr")
        self.spend_frequency_corr_ = float("nan") if corr is None else float(corr)
        self.params_ = self._params_table()
        return self

    def __repr__(self) -> str:
        return (f"BTYDModel(purchase_model={self.purchase_model!r}, method={self.method!r}, "
                f"time_unit={self.time_unit!r})")
