"""Fitting the BTYD models: priors, the weighted purchase model and a scipy MAP optimiser.

:class:`~clvlib.models.btyd.model.BTYDModel` calls :func:`fit_purchase_model` and
:func:`fit_spend_model`; this module holds what they need and nothing about prediction.

Priors
------
The MAP estimate with flat priors is the maximum-likelihood estimate of lifetimes and of
the papers. Defaults (:func:`default_purchase_priors`): flat (``HalfFlat``) priors on every
parameter of every model (BG/NBD ``r, alpha, a, b``; Pareto/NBD ``r, alpha, s, beta``;
Gamma-Gamma ``p, q, v``, pymc-marketing's own default there), so a default fit *is* the MLE
(tested against a scipy maximisation of the published log-likelihoods).

An informative option is kept (:func:`informative_purchase_priors`, pass it as
``purchase_model_config``): pymc-marketing's ``Weibull(2, 1)`` on Pareto/NBD's
dimensionless shapes ``r, s``. With ~98% one-time buyers the flat likelihood can run off
along a ridge where one shape and its scale grow together (no heterogeneity left in that
rate): on the 40,000-customer demo the Pareto/NBD MLE has s = 599, beta = 130,800 (the
prior gives s = 1.02, beta = 123), with holdout purchases predicted 260 (MLE) vs 280. On
real Olist the two nearly agree (r = 0.387 vs 0.398, alpha = 1,151 vs 1,172, beta = 5.38
vs 5.32: the prior moves beta by about 1%, and by 3% on a standard dataset).

Scale parameters carry the time unit, so flat priors on them keep results equivariant:
the same table with times divided by 7 gives alpha/7, beta/7 and the same predictions
(``rfm_summary(time_unit="W")`` is exactly the daily table with recency and T divided by 7).
pymc-marketing's defaults for them (``alpha, beta ~ Weibull(2, 10)``) suit CDNOW in weeks;
on Olist in days they pull the Pareto/NBD alpha from ~1,150 to ~100. On the Olist
calibration period to 2018-02-28 (55,524 customers, 700 repeat purchases in the next 182
days) the predicted holdout purchases were: BG/NBD 736 (flat) vs 651 (pymc-marketing
priors); Pareto/NBD 828 (Weibull shapes, flat scales) vs 1,030 (pymc-marketing priors). Pass
``purchase_model_config`` to ``BTYDModel`` to change priors.

Speed: what was measured and what is done
-----------------------------------------
Measured on 55,000 customers (Olist calibration sample and synthetic Olist-like data: ~98%
one-time buyers, ``T`` = 0..540 days), 2 CPUs; ``scripts/bench_btyd.py`` reproduces them.

* pymc-marketing's own MAP fit (``model.fit(method="map")``, its default priors): BG/NBD
  ~2-3 s; Pareto/NBD ~45-57 s, and as long again on a second fit in the same process, so
  the time is *not* pytensor compilation (~4 s, then cached on disk). It is the gradient of
  ``hyp2f1`` in the Pareto/NBD likelihood: pytensor sums a series of up to 1e6 terms per
  customer, and near the optimum the argument ``(alpha - beta) / (alpha + t_x)`` is close
  to 1, so one gradient costs ~0.4 s on 1,800 rows against ~0.02 s for the
  log-likelihood (scipy's hyp2f1). L-BFGS needs only ~21 evaluations.
* Fitting in weeks does not help: the hyp2f1 arguments are ratios of times, identical in
  any unit. Fewer optimiser iterations do not help (21 is already few), nor would a better
  starting point much.
* Compression does. A customer's likelihood depends only on ``(frequency, recency, T)``;
  55,000 Olist customers have ~1,400-1,900 unique triples (every one-time buyer is
  ``(0, 0, T)`` with ``T`` in whole days). pymc-marketing has no weights, so the model is
  built on the unique triples and weighted by the customers sharing each
  (:func:`clvlib.models.btyd._pymc.add_weights`): the log density is exactly
  ``sum(n * loglik)`` (tested, and the fitted parameters equal pymc-marketing's unweighted
  fit to 1e-3).
* Pareto/NBD's MAP then uses central finite differences of that log-likelihood (scipy
  L-BFGS-B, ~300 evaluations, :func:`map_idata`), avoiding the hyp2f1 gradient loop;
  BG/NBD and Gamma-Gamma use the exact pytensor gradient. The same weighted model is used
  for MCMC.

Result (55,000 customers, after the first compile): BG/NBD ~0.5 s, Pareto/NBD ~4-8 s, Gamma-
Gamma ~0.2 s; the first fit in a fresh process adds 2-5 s of compilation (more on a machine
whose pytensor cache is empty).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from clvlib.features.rfm import RFM_COLUMNS
from clvlib.models.btyd._pymc import PMM_CUSTOMER, add_weights, attach_idata, purchase_model_class

__all__ = [
    "PURCHASE_MODELS",
    "PURCHASE_PARAMS",
    "SPEND_PARAMS",
    "flat_priors",
    "default_purchase_priors",
    "informative_purchase_priors",
    "map_idata",
    "fit_purchase_model",
    "fit_spend_model",
]

#: Purchase models: BG/NBD and Pareto/NBD.
PURCHASE_MODELS = ("bgnbd", "pnbd")
#: The parameters of each purchase model.
PURCHASE_PARAMS = {"bgnbd": ("r", "alpha", "a", "b"), "pnbd": ("r", "alpha", "s", "beta")}
#: The parameters of the Gamma-Gamma spend model.
SPEND_PARAMS = ("p", "q", "v")


# --------------------------------------------------------------------------- priors


def flat_priors(names: Sequence[str]) -> dict:
    """A ``model_config`` with a ``HalfFlat`` prior on each of ``names``."""
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


def default_purchase_priors(purchase_model: str) -> dict:
    """Flat priors on every parameter of the purchase model: MAP = maximum likelihood."""
    if purchase_model not in PURCHASE_PARAMS:
        raise ValueError(f"purchase_model must be one of {PURCHASE_MODELS}, got {purchase_model!r}.")
    return flat_priors(PURCHASE_PARAMS[purchase_model])


def informative_purchase_priors(purchase_model: str) -> dict:
    """The informative option: flat priors on the scales, ``Weibull(2, 1)`` on the shapes.

    pymc-marketing's prior for the dimensionless shapes (Pareto/NBD ``r, s``; BG/NBD ``r``),
    which keeps a fit off the no-heterogeneity ridge (see the module docstring). The scales
    (``alpha``, ``beta``) keep flat priors so that results do not depend on the time unit.
    Pass the result as ``BTYDModel(purchase_model_config=...)``.
    """
    from pymc_extras.prior import Prior

    priors = default_purchase_priors(purchase_model)
    shapes = ("r", "s") if purchase_model == "pnbd" else ("r",)
    priors.update({k: Prior("Weibull", alpha=2, beta=1) for k in shapes})
    return priors


# --------------------------------------------------------------------------- MAP


def map_idata(model: Any, use_gradient: bool, maxiter: int = 2000) -> tuple[Any, Any]:
    """MAP (posterior mode, no Jacobian: same objective as ``pm.find_MAP``) as InferenceData.

    L-BFGS-B on the unconstrained values; with ``use_gradient=False`` scipy's central
    finite-difference gradient of the compiled log-density is used instead of the
    pytensor gradient (see the module docstring: Pareto/NBD's hyp2f1 gradient is slow).

    Parameters
    ----------
    model
        A built ``pymc.Model``.
    use_gradient
        Use pytensor's exact gradient (else central finite differences).
    maxiter
        L-BFGS-B iteration limit; a ``UserWarning`` is raised if it does not converge.

    Returns
    -------
    tuple
        ``(idata, scipy_result)``, the InferenceData with chain = draw = 1.
    """
    import arviz as az
    import pytensor
    from pymc.util import get_default_varnames
    from scipy.optimize import minimize

    value_vars = list(model.value_vars)
    start = model.initial_point()
    shapes = [np.shape(start[v.name]) for v in value_vars]
    sizes = [int(np.prod(s)) for s in shapes]
    x0 = np.concatenate([np.ravel(start[v.name]) for v in value_vars]).astype("float64")

    def unravel(x: np.ndarray) -> list[np.ndarray]:
        parts, i = [], 0
        for shape, size in zip(shapes, sizes):
            parts.append(np.reshape(x[i:i + size], shape))
            i += size
        return parts

    logp = model.logp(jacobian=False)
    if use_gradient:
        grads = pytensor.grad(logp, value_vars)
        fn = model.compile_fn([logp, *grads], inputs=value_vars, point_fn=False)

        def objective(x):
            out = fn(*unravel(x))
            val = -float(out[0])
            grad = -np.concatenate([np.ravel(g) for g in out[1:]])
            if not np.isfinite(val) or not np.isfinite(grad).all():
                return np.inf, np.zeros_like(x)
            return val, grad

        res = minimize(objective, x0, jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
    else:
        fn = model.compile_fn(logp, inputs=value_vars, point_fn=False)

        def objective(x):
            val = -float(fn(*unravel(x)))
            return val if np.isfinite(val) else np.inf

        # central differences: the log-likelihood is only accurate to ~1e-8 absolute (scipy's
        # hyp2f1 near z = 1), which makes scipy's default forward step of 1e-8 stop early.
        def value_and_gradient(x):
            f0 = objective(x)
            return f0, _central_gradient(objective, x, f0)

        res = minimize(value_and_gradient, x0, jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
    if not res.success:
        # stacklevel: map_idata <- fit_*_model <- BTYDModel.fit <- the caller
        warnings.warn(f"MAP optimisation did not converge: {res.message}", UserWarning, stacklevel=4)
    outs = get_default_varnames(model.unobserved_value_vars, include_transformed=False)
    values = model.compile_fn(outs, inputs=value_vars, point_fn=False, on_unused_input="ignore")(*unravel(res.x))
    posterior = {v.name: np.asarray(val)[None, None, ...] for v, val in zip(outs, values)}
    return az.from_dict(posterior=posterior), res


def _central_gradient(objective: Any, x: np.ndarray, f0: float) -> np.ndarray:
    """Central finite differences with scipy's ``"3-point"`` steps, one-sided where a side is not finite.

    On a likelihood ridge (Pareto/NBD with ~98% one-time buyers) a step can leave the region
    where the log-likelihood is finite; scipy's own differences then compute ``inf - inf`` (a
    NaN gradient and a RuntimeWarning). Here that coordinate uses the finite side instead.
    """
    eps = np.finfo(np.float64).eps ** (1 / 3)
    grad = np.zeros_like(x)
    for i in range(len(x)):
        h = eps * (1.0 if x[i] >= 0 else -1.0) * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        f_up, f_down = objective(up), objective(down)
        if np.isfinite(f_up) and np.isfinite(f_down):
            grad[i] = (f_up - f_down) / (up[i] - down[i])
        elif np.isfinite(f_up) and np.isfinite(f0):
            grad[i] = (f_up - f0) / (up[i] - x[i])
        elif np.isfinite(f_down) and np.isfinite(f0):
            grad[i] = (f0 - f_down) / (x[i] - down[i])
    return grad


def _optimizer_info(res: Any) -> dict:
    """scipy's convergence flag and message, number of evaluations and objective at the optimum."""
    return {"success": bool(res.success), "message": str(res.message),
            "n_evaluations": int(res.nfev), "neg_logp": float(res.fun)}


# --------------------------------------------------------------------------- the two models


def fit_purchase_model(
    data: pd.DataFrame,
    uniq: pd.DataFrame,
    purchase_model: str,
    config: dict,
    *,
    method: str,
    weighted: bool,
    sampler_kwargs: dict,
) -> tuple[Any, dict | None]:
    """Fit BG/NBD or Pareto/NBD; return the fitted model, built on the unique triples when ``weighted``.

    Parameters
    ----------
    data
        One row per customer in pymc-marketing's convention: ``customer_id``,
        ``frequency`` (float), ``recency``, ``T``.
    uniq
        ``compress_rfm(data)``: unique ``(frequency, recency, T)`` with ``n_customers``.
    purchase_model
        ``"bgnbd"`` or ``"pnbd"``.
    config
        pymc-marketing ``model_config`` (priors); deep-copied, not modified.
    method
        ``"map"`` or ``"mcmc"``.
    weighted
        Fit on ``uniq`` with weights (same result, faster) instead of on ``data``.
    sampler_kwargs
        For MCMC: keyword arguments of pymc-marketing's ``fit`` (``method`` is ``"mcmc"``
        or ``"demz"``).

    Returns
    -------
    tuple
        ``(model, optimizer)``: a ``BetaGeoModel`` / ``ParetoNBDModel`` built on ``uniq`` (weighted) or
        ``data`` with the posterior attached, and for MAP the optimiser summary (else ``None``).
    """
    import arviz as az

    cols = list(RFM_COLUMNS)
    Cls = purchase_model_class(purchase_model)
    fit_model = Cls(model_config=copy.deepcopy(config))
    if weighted:  # unique triples, weighted by their number of customers (module docstring)
        triples = uniq[cols].assign(**{PMM_CUSTOMER: np.arange(len(uniq))})[[PMM_CUSTOMER, *cols]]
        fit_model.build_model(triples)
        add_weights(fit_model, uniq["n_customers"].to_numpy())
    else:
        fit_model.build_model(data)
    optimizer = None
    if method == "map":
        idata, res = map_idata(fit_model.model, use_gradient=(purchase_model != "pnbd"))
        optimizer = _optimizer_info(res)
    else:
        kw = dict(sampler_kwargs)
        if kw["method"] == "demz":
            # DEMetropolisZ from the default point (all parameters 1) is far from the
            # typical set on Olist-like data and does not converge in 1,000 tuning
            # steps; starting every chain at the MAP does.
            start, _ = map_idata(fit_model.model, use_gradient=False)
            kw["initvals"] = {v.name: float(start.posterior[v.name].values.ravel()[0])
                              for v in fit_model.model.free_RVs}
        fit_model.fit(**kw)
        idata = fit_model.idata
    if weighted:  # the posterior on a model of the unique triples: every prediction passes its own data, and a
        # model of every customer held each customer's id as a Python string (at 100x Olist, a dozen such models
        # of up to 9.6M customers were GBs)
        groups = {"posterior": idata.posterior}
        if "sample_stats" in idata.groups():
            groups["sample_stats"] = idata.sample_stats
        final = Cls(model_config=copy.deepcopy(config))
        final.build_model(triples)
        attach_idata(final, az.InferenceData(**groups))
    else:
        final = fit_model
        if method == "map":
            attach_idata(final, idata)
    return final, optimizer


def fit_spend_model(
    repeat: pd.DataFrame,
    config: dict | None,
    *,
    method: str,
    sampler_kwargs: dict,
) -> tuple[Any, dict | None]:
    """Fit pymc-marketing's Gamma-Gamma model on repeat customers.

    Parameters
    ----------
    repeat
        ``customer_id``, ``frequency`` (float, > 0), ``monetary_value`` (> 0).
    config
        pymc-marketing ``model_config``, or ``None`` for flat priors (the MLE); deep-copied.
    method, sampler_kwargs
        As in :func:`fit_purchase_model`.

    Returns
    -------
    tuple
        ``(model, optimizer)``: the fitted ``GammaGammaModel`` and, for MAP, the optimiser
        summary (else ``None``).
    """
    from pymc_marketing.clv import GammaGammaModel

    gg = GammaGammaModel(model_config=copy.deepcopy(config) if config else flat_priors(SPEND_PARAMS))
    if method == "map":
        gg.build_model(repeat)
        idata, res = map_idata(gg.model, use_gradient=True)
        attach_idata(gg, idata)
        return gg, _optimizer_info(res)
    gg.fit(repeat, **sampler_kwargs)
    return gg, None
