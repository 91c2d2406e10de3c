"""BG/NBD with static covariates: the purchase rate of each group, fitted by maximum likelihood.

pymc-marketing's ``BetaGeoModel`` takes time-invariant covariates ([1]_, [2]_): with covariate
vector ``z`` a customer's purchase-rate scale is ``alpha = alpha_scale * exp(-z . beta)`` (so a
positive coefficient means a *higher* purchase rate), and, optionally, the dropout shapes are
``a = a_scale * exp(z . gamma_a)``, ``b = b_scale * exp(z . gamma_b)``. :class:`CovariateBGNBD`
fits it like :class:`clvlib.models.btyd.BTYDModel` fits BG/NBD: flat priors on every parameter
(``HalfFlat`` on ``r, alpha_scale, a, b``; ``Flat`` on the coefficients), so the MAP is the
maximum-likelihood estimate, on the unique ``(frequency, recency, T, covariates)`` rows weighted
by the customers sharing each (the likelihood is the same; one-time buyers share their row with
everyone of the same ``T`` *and* group, so there are more rows than without covariates).

Which covariates, and why static ones
-------------------------------------
A covariate must not change with the purchases it helps predict. :func:`first_order_covariates`
takes them from each person's **first order** (on or before the cut, by definition of being in
the population), which never changes afterwards: the customer's region (``customer_state``, a
spec's ``region``) and the product category of that first order (``product_category``, a spec's
``category``). The snapshot features hold the *last* order's category and state instead, which
move with every repeat purchase, so they are not used here. Each column becomes one-hot
indicators of its largest levels (``top_k``) against a reference level, the largest one; a level
needs ``min_repeat`` people who bought again, otherwise its coefficient is not identified (with
flat priors the MLE of a group without any repeat buyer is a purchase rate of 0), and such levels
join the ``other`` indicator, or the reference when ``other`` is itself too small.

With ~98% one-time buyers a BG/NBD one-time buyer's forecast depends only on their age ``T``;
covariates let it move with their group's repeat rate. Dropout covariates (two coefficients per
indicator, identified only through the 2-3% of repeat buyers) are available
(``dropout=True``) but off by default.

Measured on the real Olist data (the four backtest cuts 2017-11-30 to 2018-02-28; 37,056 to
55,524 people; ``top_k=6``, ``min_repeat=20``: 5 region and 5 category indicators plus an
``other`` for each, 12 coefficients): 10,108 to 13,705 unique rows (against ~1,400-1,900 without
covariates), L-BFGS-B converged at every cut in 38-45 evaluations, 4-6 s per fit on a shared
2-core machine in a fresh process (model building and compilation included; 1.5 s inside a stage-05 run, once pytensor's cache is warm), the covariates themselves 0.5-0.7 s.
With dropout covariates as well (36 coefficients) the fit at the latest cut stopped
"ABNORMAL" and 9 people got non-finite predictions, so they stay off by default. The category
effects are the larger ones (a first order in housewares or computers: a purchase rate about
0.3-0.4 times the reference category's).

Per-customer intervals: :func:`clvlib.models.btyd.intervals.predict_intervals` takes this model
(with the all-orders spend through :func:`clvlib.models.btyd.spend.with_spend_model`): the
coefficients are drawn jointly with ``r, alpha_scale, a, b`` (:mod:`clvlib.models.btyd.asymptotic`)
and :meth:`CovariateBGNBD.posterior_model` turns the draws into one prediction per draw.

References
----------
.. [1] Fader, P. S., & Hardie, B. G. S. (2007). "Incorporating time-invariant covariates into
       the Pareto/NBD and BG/NBD models." http://www.brucehardie.com/notes/019/
.. [2] pymc-marketing, ``BetaGeoModel`` (``purchase_covariate_cols``, ``dropout_covariate_cols``).
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from clvlib.dates import on_or_before
from clvlib.features.rfm import RFM_COLUMNS, unique_rows, validate_rfm
from clvlib.models.btyd._pymc import PMM_CUSTOMER, add_weights, attach_idata, posterior_draws
from clvlib.models.btyd.fit import PURCHASE_PARAMS, flat_priors, map_idata
from clvlib.schemas import CUSTOMER

__all__ = ["COVARIATE_SOURCES", "COEFFICIENT_PREFIX", "COEFFICIENT_VAR", "first_order_covariates", "CovariateBGNBD"]

#: Cleaned-order columns usable as static covariates, with what they mean in a report.
COVARIATE_SOURCES = {"customer_state": "region", "product_category": "first order's category"}
#: Name of the indicator of the levels outside the largest ``top_k``.
OTHER = "other"
#: How ``params_`` names a purchase-rate coefficient (``purchase_coefficient[<covariate>]``), and the pymc
#: variable holding them all (a vector over the covariates, no transform: a flat prior on the real line).
COEFFICIENT_PREFIX = "purchase_coefficient["
COEFFICIENT_VAR = "purchase_coefficient_alpha"


def first_order_covariates(orders: pd.DataFrame, features: pd.DataFrame, cut: str | pd.Timestamp, *,
                           columns: Sequence[str] | None = None, top_k: int = 6, min_repeat: int = 20,
                           customer_col: str = CUSTOMER, timestamp_col: str = "order_purchase_timestamp",
                           ) -> tuple[pd.DataFrame, dict]:
    """One-hot static covariates from each person's first order, for the people at a cut.

    Parameters
    ----------
    orders
        Cleaned orders; only those dated on or before ``cut`` are read.
    features
        The people at the cut (one row each; ``customer_col`` and ``frequency``, whose repeat
        buyers decide which levels can be estimated).
    cut
        The cut-off day.
    columns
        Order columns to use (default: those of :data:`COVARIATE_SOURCES` present in ``orders``).
    top_k
        At most this many levels per column (the reference included); the rest are ``other``.
    min_repeat
        A level (and ``other``) needs this many people at the cut who bought again.

    Returns
    -------
    covariates, info
        ``covariates``: ``customer_col`` and one 0/1 float column ``"<column>=<level>"`` per
        indicator, in the order of ``features``. ``info``: per column, its ``reference`` level,
        its ``levels`` (with an indicator) and the people in each.

    Raises
    ------
    ValueError
        When no column gives an indicator (none present, or a single level that can be
        estimated); the message is the one-line reason a report shows.

    Required columns
    ----------------
    ``orders``: ``customer_col``, ``timestamp_col`` and the covariate columns; ``features``:
    ``customer_col``, ``frequency``.
    """
    if top_k < 2:
        raise ValueError(f"top_k must be at least 2 (a reference and one level), got {top_k}.")
    for name, frame, cols in (("orders", orders, (customer_col, timestamp_col)),
                              ("features", features, (customer_col, "frequency"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"first_order_covariates: {name} has no column(s) {missing}.")
    if columns is None:
        columns = [c for c in COVARIATE_SOURCES if c in orders.columns]
    else:
        absent = [c for c in columns if c not in orders.columns]
        if absent:
            raise ValueError(f"first_order_covariates: orders have no covariate column(s) {absent}; "
                             f"columns: {list(orders.columns)}.")
    if not columns:
        raise ValueError("no static covariate: the orders have no region nor category column "
                         "(declare region = ... or category = ... in the dataset spec).")
    ts = pd.to_datetime(orders[timestamp_col])
    seen = orders.loc[on_or_before(ts, cut), [customer_col, timestamp_col, *columns]]
    seen = seen.assign(_ts=ts[seen.index]).sort_values("_ts", kind="stable")
    first = seen.drop_duplicates(customer_col, keep="first").set_index(customer_col)
    people = features[customer_col]
    if not people.isin(first.index).all():
        raise ValueError(f"first_order_covariates: {int((~people.isin(first.index)).sum())} person(s) at the cut have "
                         f"no order on or before {pd.Timestamp(cut).date()}; pass the features at that cut.")
    repeat = features["frequency"].to_numpy() > 0
    out = pd.DataFrame({customer_col: people.to_numpy()}, index=features.index)
    info: dict = {}
    for col in columns:
        values = first.loc[people, col].astype("string").fillna("unknown").to_numpy()
        levels = pd.DataFrame({"level": values, "repeat": repeat}).groupby("level")["repeat"].agg(["size", "sum"])
        levels = levels.sort_values(["size", "sum"], ascending=False, kind="stable")
        ok = levels[levels["sum"] >= min_repeat].index[:top_k].tolist()
        if len(ok) < 1:
            continue
        reference, kept = ok[0], ok[1:]
        rest = ~pd.Series(values).isin(ok).to_numpy()
        use_other = int(repeat[rest].sum()) >= min_repeat
        if not kept and not use_other:
            continue
        for level in kept:
            out[f"{col}={level}"] = (values == level).astype(float)
        if use_other:
            out[f"{col}={OTHER}"] = rest.astype(float)
        info[col] = {"meaning": COVARIATE_SOURCES.get(col, col), "reference": str(reference),
                     "reference_includes_small_levels": bool(rest.any() and not use_other),
                     "levels": [*map(str, kept), *([OTHER] if use_other else [])],
                     "people": {str(k): int(v) for k, v in levels["size"].items() if k in ok},
                     "other_people": int(rest.sum())}
    if not info:
        raise ValueError(f"no usable static covariate: {', '.join(columns)} ha{'s' if len(columns) == 1 else 've'} "
                         f"no second level with at least {min_repeat} people who bought again.")
    return out, info


class CovariateBGNBD:
    """BG/NBD with static covariates on the purchase rate (and optionally the dropout), by MLE.

    Parameters
    ----------
    covariates
        Numeric columns of the table given to :meth:`fit` (e.g. the indicators of
        :func:`first_order_covariates`).
    dropout
        Also put the covariates on the dropout shapes ``a`` and ``b`` (default: purchase rate only).
    maxiter
        L-BFGS-B iteration limit.

    Attributes
    ----------
    purchase_model_ : pymc_marketing.clv.BetaGeoModel
        Fitted on the unique rows (its ``idata`` holds the MAP, chain = draw = 1).
    params_ : pandas.DataFrame
        ``model`` (``purchase``), ``parameter`` (``r``, ``alpha_scale``, ``a``, ``b``, then
        ``purchase_coefficient[<covariate>]`` and, with ``dropout``, ``dropout_coefficient_a[...]``
        / ``_b[...]``), ``estimate``.
    optimizer_ : dict
        scipy's convergence flag and message, evaluations, objective at the optimum.
    n_customers_, n_unique_rows_ : int
        Customers fitted and the unique ``(frequency, recency, T, covariates)`` rows they share.
    fit_seconds_ : float
        Wall time of the fit (model building and compilation included).

    References
    ----------
    Fader & Hardie (2007), "Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD
    models" (see the module docstring).
    """

    purchase_model = "bgnbd"
    #: Always fitted by maximum likelihood (flat priors: the MAP), so the parametric bootstrap applies.
    method = "map"

    def __init__(self, covariates: Sequence[str], *, dropout: bool = False, maxiter: int = 2000) -> None:
        self.covariates = list(covariates)
        self.dropout = dropout
        self.maxiter = maxiter

    def _config(self) -> dict:
        from pymc_extras.prior import Prior

        config = flat_priors(PURCHASE_PARAMS["bgnbd"])
        config.update(purchase_coefficient=Prior("Flat"), dropout_coefficient=Prior("Flat"),
                      purchase_covariate_cols=list(self.covariates),
                      dropout_covariate_cols=list(self.covariates) if self.dropout else [])
        return config

    def model_table(self, rfm: pd.DataFrame, customer_col: str = CUSTOMER) -> pd.DataFrame:
        """``frequency``, ``recency``, ``T`` and the covariates of ``rfm`` as floats, validated, in its order.

        Raises
        ------
        ValueError
            On an RFM table :func:`clvlib.features.rfm.validate_rfm` refuses, or a covariate
            missing, not numeric or not finite.
        """
        validate_rfm(rfm, "rfm", customer_col)
        if not self.covariates:
            raise ValueError("CovariateBGNBD: no covariate given; use BTYDModel('bgnbd') for BG/NBD without covariates.")
        missing = [c for c in self.covariates if c not in rfm.columns]
        if missing:
            raise ValueError(f"rfm: covariate column(s) {missing} are missing; join them (first_order_covariates) first.")
        cov = rfm[self.covariates]
        bad = [c for c in self.covariates if not pd.api.types.is_numeric_dtype(cov[c])
               or not np.isfinite(cov[c].to_numpy(dtype=float)).all()]
        if bad:
            raise ValueError(f"rfm: covariate column(s) {bad} must be numeric and finite for every customer "
                             "(one-hot encode categories, fill missing values).")
        return rfm[[*RFM_COLUMNS, *self.covariates]].astype("float64")

    def fit(self, rfm: pd.DataFrame, *, customer_col: str = CUSTOMER) -> CovariateBGNBD:
        """Fit on every customer of ``rfm`` (RFM in days or weeks, and the covariate columns).

        Required columns
        ----------------
        ``customer_col``, ``frequency``, ``recency``, ``T`` and every column of ``covariates``.
        """
        from pymc_marketing.clv import BetaGeoModel

        t0 = time.perf_counter()
        table = self.model_table(rfm, customer_col)
        constant = [c for c in self.covariates if table[c].nunique() < 2]
        if constant:
            raise ValueError(f"rfm: covariate column(s) {constant} take a single value; their coefficient is not "
                             "identified (drop them).")
        cols = list(table.columns)
        uniq = table.groupby(cols, sort=True, as_index=False).size().rename(columns={"size": "n_customers"})
        model = BetaGeoModel(model_config=self._config())
        model.build_model(uniq[cols].assign(**{PMM_CUSTOMER: np.arange(len(uniq))})[[PMM_CUSTOMER, *cols]])
        add_weights(model, uniq["n_customers"].to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            idata, res = map_idata(model.model, use_gradient=True, maxiter=self.maxiter)
        attach_idata(model, self._population_posterior(idata.posterior))
        self.purchase_model_ = model
        self.optimizer_ = {"success": bool(res.success), "message": str(res.message), "n_evaluations": int(res.nfev),
                           "neg_logp": float(res.fun)}
        self.customer_col_ = customer_col
        self.n_customers_ = int(len(table))
        self.n_unique_rows_ = int(len(uniq))
        self.params_ = self._params_table()
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _population_posterior(self, posterior) -> object:
        """The population parameters with pymc-marketing's dims (per-row deterministics dropped).

        ``map_idata`` returns every variable with anonymous dims; the coefficients must carry the
        ``purchase_covariate`` / ``dropout_covariate`` dims that pymc-marketing's predictions sum over.
        """
        import arviz as az

        dims = {"purchase_coefficient_alpha": ["purchase_covariate"],
                "dropout_coefficient_a": ["dropout_covariate"], "dropout_coefficient_b": ["dropout_covariate"]}
        keep = {v: posterior[v].values for v in posterior.data_vars if posterior[v].ndim == 2 or v in dims}
        return az.from_dict(posterior=keep, dims={k: v for k, v in dims.items() if k in keep},
                            coords={"purchase_covariate": list(self.covariates),
                                    "dropout_covariate": list(self.covariates) if self.dropout else []})

    def posterior_model(self, draws: pd.DataFrame) -> object:
        """A pymc-marketing ``BetaGeoModel`` of this model whose 'posterior' is the given parameter draws (one chain).

        Its ``expected_purchases`` and ``expected_probability_alive`` then give one prediction per
        draw, with each customer's own ``alpha = alpha_scale * exp(-z . c)`` (the parametric
        bootstrap of :func:`clvlib.models.btyd.intervals.predict_intervals`).

        Parameters
        ----------
        draws
            One row per draw: ``r``, ``alpha_scale``, ``a``, ``b`` and ``purchase_coefficient[<covariate>]``
            for every covariate (:func:`clvlib.models.btyd.asymptotic.parameter_draws`).
        """
        import arviz as az
        from pymc_marketing.clv import BetaGeoModel

        if self.dropout:
            raise ValueError("posterior_model: BG/NBD with covariates on the dropout is not supported.")
        coef = [f"{COEFFICIENT_PREFIX}{c}]" for c in self.covariates]
        missing = [n for n in ("r", "alpha_scale", "a", "b", *coef) if n not in draws.columns]
        if missing:
            raise ValueError(f"posterior_model: the draws have no column(s) {missing}.")
        dummy = pd.DataFrame({PMM_CUSTOMER: [0, 1], "frequency": [0.0, 1.0], "recency": [0.0, 1.0], "T": [2.0, 2.0],
                              **{c: [0.0, 1.0] for c in self.covariates}})
        model = BetaGeoModel(model_config=self._config())
        model.build_model(dummy)
        post = {n: draws[n].to_numpy(dtype="float64")[None, :] for n in ("r", "alpha_scale", "a", "b")}
        post[COEFFICIENT_VAR] = draws[coef].to_numpy(dtype="float64")[None, :, :]
        attach_idata(model, az.from_dict(posterior=post, dims={COEFFICIENT_VAR: ["purchase_covariate"]},
                                         coords={"purchase_covariate": list(self.covariates)}))
        return model

    def _params_table(self) -> pd.DataFrame:
        post = self.purchase_model_.idata.posterior
        rows = []
        for name in ("r", "alpha_scale", "a_scale" if self.dropout else "a", "b_scale" if self.dropout else "b"):
            rows.append({"model": "purchase", "parameter": name, "estimate": float(post[name].values.ravel()[0])})
        coefs = [("purchase_coefficient", "purchase_coefficient_alpha")]
        if self.dropout:
            coefs += [("dropout_coefficient_a", "dropout_coefficient_a"), ("dropout_coefficient_b", "dropout_coefficient_b")]
        for label, var in coefs:
            values = post[var].values.reshape(-1)
            for cov, v in zip(self.covariates, values):
                rows.append({"model": "purchase", "parameter": f"{label}[{cov}]", "estimate": float(v)})
        return pd.DataFrame(rows)

    def coefficients(self) -> pd.Series:
        """The purchase-rate coefficients by covariate: ``exp(c)`` is the rate relative to the reference."""
        p = self.params_[self.params_["parameter"].str.startswith(COEFFICIENT_PREFIX)]
        return pd.Series(p["estimate"].to_numpy(), index=[s[len(COEFFICIENT_PREFIX):-1] for s in p["parameter"]],
                         name="purchase_coefficient")

    def predict(self, rfm: pd.DataFrame, horizon: float, *, customer_col: str = CUSTOMER) -> pd.DataFrame:
        """Expected purchases in ``(T, T + horizon]`` and P(alive) per customer, in the order of ``rfm``.

        Returns
        -------
        pandas.DataFrame
            ``customer_col``, ``expected_purchases``, ``p_alive``.
        """
        if not hasattr(self, "purchase_model_"):
            raise ValueError("This CovariateBGNBD is not fitted yet: call fit(rfm) first.")
        if not np.isscalar(horizon) or not np.isfinite(horizon) or horizon <= 0:
            raise ValueError(f"horizon must be a positive number of time units, got {horizon!r}.")
        table = self.model_table(rfm, customer_col)
        uniq, codes = unique_rows(table, list(table.columns))
        uniq.insert(0, PMM_CUSTOMER, np.arange(len(uniq)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            purchases = posterior_draws(self.purchase_model_.expected_purchases(data=uniq, future_t=float(horizon)))
            p_alive = posterior_draws(self.purchase_model_.expected_probability_alive(data=uniq))
        return pd.DataFrame({customer_col: rfm[customer_col].to_numpy(),
                             "expected_purchases": purchases.mean(axis=0)[codes],
                             "p_alive": np.clip(p_alive.mean(axis=0), 0.0, 1.0)[codes]})

    def to_dict(self) -> dict:
        """JSON-friendly record: the covariates, the estimates, the optimiser and the size of the fit."""
        if not hasattr(self, "params_"):
            raise ValueError("This CovariateBGNBD is not fitted yet: call fit(rfm) first.")
        return {"purchase_model": "bgnbd_covariates", "method": "map", "covariates": list(self.covariates),
                "dropout_covariates": bool(self.dropout),
                "params": dict(zip(self.params_["parameter"], self.params_["estimate"])),
                "optimizer": copy.deepcopy(self.optimizer_), "n_customers": self.n_customers_,
                "n_unique_rows": self.n_unique_rows_, "covariate_info": copy.deepcopy(getattr(self, "covariate_info_", None))}

    def summary(self) -> str:
        """One paragraph for a report: the covariates, the largest effects, the size and the convergence of the fit."""
        if not hasattr(self, "params_"):
            raise ValueError("This CovariateBGNBD is not fitted yet: call fit(rfm) first.")
        info = getattr(self, "covariate_info_", None) or {}
        parts = [f"{v['meaning']} ({k}: reference {v['reference']}, {len(v['levels'])} indicator(s))" for k, v in info.items()]
        coef = self.coefficients()
        top = coef.reindex(coef.abs().sort_values(ascending=False).index[:3])
        effects = ", ".join(f"{k} x{np.exp(v):.2f}" for k, v in top.items())
        ok = "converged" if self.optimizer_["success"] else f"did NOT converge ({self.optimizer_['message']})"
        return (f"BG/NBD with covariates on the purchase rate{' and the dropout' if self.dropout else ''}: "
                f"{'; '.join(parts) if parts else ', '.join(self.covariates)}. Largest effects on the purchase rate "
                f"relative to the reference: {effects}. Fitted by maximum likelihood on {self.n_unique_rows_:,} unique "
                f"rows for {self.n_customers_:,} people ({self.fit_seconds_:.1f} s; the optimiser {ok}).")

    def __repr__(self) -> str:
        return f"CovariateBGNBD(covariates={self.covariates!r}, dropout={self.dropout!r})"
