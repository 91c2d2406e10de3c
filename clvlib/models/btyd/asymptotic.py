"""The asymptotic normal distribution of MAP-fitted BTYD parameters: the Hessian, its inverse, parameter draws.

The first half of the parametric bootstrap behind :mod:`clvlib.models.btyd.intervals` (as
CLVTools does it): the parameters of the purchase model (BG/NBD ``r, alpha, a, b`` or
Pareto/NBD ``r, alpha, s, beta``) and of the Gamma-Gamma spend model (``p, q, v``) are drawn
from the asymptotic normal distribution of their logarithms,

    log(theta) ~ N(log(theta_MAP), H^-1),

where ``H`` is the Hessian of the negative log-likelihood (log posterior, with the model's
own priors; with the default flat priors, the likelihood) in the log parameters, computed
by central finite differences at the MAP on the unique ``(frequency, recency, T)`` rows
weighted by their customer counts (the likelihood the model was fitted on). The logs keep
draws positive (pymc's ``*_log__`` parametrisation); the two models' draws are independent.

BG/NBD with covariates (:class:`clvlib.models.btyd.covariates.CovariateBGNBD`) is drawn in its
own parametrisation: ``log r, log alpha_scale, log a, log b`` and the purchase-rate
coefficients ``c`` as they are (``alpha = alpha_scale * exp(-z . c)``: a coefficient is
already a log rate ratio, and its flat prior has no transform), jointly, from the inverse
Hessian of its negative log-likelihood at the MLE on the unique ``(frequency, recency, T,
covariates)`` rows it was fitted on, weighted by their customer counts.

Ridges. With few repeat buyers a pair of parameters can run off together (BG/NBD ``a, b``;
Pareto/NBD ``s, beta``; Gamma-Gamma ``p, v``) while the predictions stay put; the
likelihood is then flat along that direction and its normal approximation draws absurd
parameter vectors. :func:`parameter_covariance` refuses it by default (a direction whose
standard deviation exceeds :data:`MAX_LOG_SD`); ``ridge="fix"`` holds the parameters at
the MAP along that direction instead (zero variance there) and says so in ``attrs``.

Speed (55,524 Olist customers, 2 shared CPUs): the Hessian costs ~33 evaluations of the
log-likelihood on the unique rows plus one pymc compilation (cached on disk), ~0.7 s for
BG/NBD or Pareto/NBD with Gamma-Gamma; for BG/NBD with 12 covariate indicators (17 parameters:
579 evaluations on 13,705 unique rows) 0.5-1.3 s, the machine shared with other jobs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clvlib.features.rfm import RFM_COLUMNS, compress_rfm, validate_rfm
from clvlib.models.btyd._pymc import PMM_CUSTOMER, add_weights
from clvlib.models.btyd.covariates import COEFFICIENT_PREFIX, COEFFICIENT_VAR
from clvlib.models.btyd.fit import PURCHASE_PARAMS, SPEND_PARAMS
from clvlib.schemas import CUSTOMER

__all__ = [
    "MAX_LOG_SD",
    "on_log_scale",
    "log_hessian",
    "parameter_covariance",
    "parameter_draws",
]

#: Step of the central differences in the log parameters.
_STEP = 1e-3
#: Largest standard deviation of a log parameter accepted (5: a factor of ~150 at one sd); beyond it the
#: likelihood is flat along a ridge and the normal approximation draws absurd parameter vectors.
MAX_LOG_SD = 5.0


# --------------------------------------------------------------------------- the likelihood


def on_log_scale(name: str) -> bool:
    """Whether a parameter is drawn on the log scale (a positive parameter) or as it is (a covariate coefficient).

    Examples
    --------
    >>> on_log_scale("alpha_scale"), on_log_scale("purchase_coefficient[customer_state=RJ]")
    (True, False)
    """
    return not name.startswith(COEFFICIENT_PREFIX)


def _value_var(name: str) -> str:
    """The pymc free variable of a parameter: ``<name>_log__`` for a positive one, the coefficient vector otherwise."""
    return f"{name}_log__" if on_log_scale(name) else COEFFICIENT_VAR


def _fresh_model(pmm_model: Any, data: pd.DataFrame, weights: np.ndarray | None) -> Any:
    """A pymc model of the same class and priors as ``pmm_model``, built on ``data`` (weighted by ``weights``)."""
    Cls = type(pmm_model)
    fresh = Cls(model_config=copy.deepcopy(pmm_model.model_config))
    fresh.build_model(data)
    if weights is not None:
        add_weights(fresh, weights)
    return fresh.model


def _neg_logp_function(model: Any, names: tuple[str, ...]) -> Any:
    """The negative log posterior (no Jacobian) of a pymc model as a function of its free variables, flattened.

    ``names`` are parameter names in the order of the vector argument: a positive parameter by
    its log (``<name>_log__``), then the covariate coefficients, in order, as one vector
    (``purchase_coefficient_alpha``). Every free variable of ``model`` must be covered.
    """
    by_name = {v.name: v for v in model.value_vars}
    blocks = list(dict.fromkeys(_value_var(n) for n in names))
    sizes = [sum(_value_var(n) == blk for n in names) for blk in blocks]
    if [b for b in blocks if b not in by_name] or len(by_name) != len(blocks):
        raise ValueError(
            f"predict_intervals needs every parameter on the log scale (a positive prior) or a covariate "
            f"coefficient; the model's free variables are {sorted(by_name)}, expected {blocks}."
        )
    scalar = [blk != COEFFICIENT_VAR for blk in blocks]
    fn = model.compile_fn(model.logp(jacobian=False), inputs=[by_name[blk] for blk in blocks], point_fn=False)
    cuts = np.cumsum([0, *sizes])

    def neg_logp(x: np.ndarray) -> float:
        x = np.asarray(x, dtype="float64")
        args = [x[i] if one else x[i:j] for i, j, one in zip(cuts[:-1], cuts[1:], scalar)]
        val = -float(fn(*args))
        return val if np.isfinite(val) else np.inf

    return neg_logp


def log_hessian(neg_logp: Any, x0: np.ndarray, step: float = _STEP) -> np.ndarray:
    """Hessian of ``neg_logp`` at ``x0`` by central finite differences (``1 + 2k^2`` evaluations).

    Parameters
    ----------
    neg_logp
        Function of a vector of length ``k`` returning a float.
    x0
        The point (here: the log parameters at the MAP).
    step
        Difference step in every coordinate.

    Returns
    -------
    numpy.ndarray
        Symmetric ``k x k`` matrix.

    Raises
    ------
    ValueError
        If the function is not finite at some point of the stencil (the MAP lies on the edge
        of the region where the likelihood is defined).
    """
    x0 = np.asarray(x0, dtype="float64")
    k = x0.size
    h = float(step)
    f0 = neg_logp(x0)
    H = np.empty((k, k))

    def f(*moves: tuple[int, float]) -> float:
        x = x0.copy()
        for i, d in moves:
            x[i] += d
        val = neg_logp(x)
        if not np.isfinite(val):
            raise ValueError("the log-likelihood is not finite next to the MAP estimate; no Hessian there.")
        return val

    for i in range(k):
        H[i, i] = (f((i, h)) - 2.0 * f0 + f((i, -h))) / h**2
        for j in range(i):
            H[i, j] = H[j, i] = (f((i, h), (j, h)) - f((i, h), (j, -h)) - f((i, -h), (j, h))
                                 + f((i, -h), (j, -h))) / (4.0 * h**2)
    return H


def _covariance(H: np.ndarray, names: tuple[str, ...], what: str, ridge: str = "raise") -> np.ndarray:
    """Inverse of the Hessian; where the likelihood is flat in some direction, refused or (``ridge="fix"``) held there.

    A direction (eigenvector of ``H``) is flat when its standard deviation ``1 / sqrt(eigenvalue)`` exceeds
    :data:`MAX_LOG_SD` or its eigenvalue is not positive. ``ridge="fix"`` gives it zero variance: the draws stay
    at the MAP along the ridge (where predictions barely move) and vary along the identified directions.
    """
    advice = ("the parameters are not identified by the data, so a normal approximation of their uncertainty "
              "does not exist. Fit with informative priors (BTYDModel's purchase_model_config / "
              "spend_model_config; clvlib.models.btyd.fit.informative_purchase_priors for the purchase model), "
              "with method='mcmc', or pass ridge='fix' to hold the parameters at the MAP along the flat direction.")
    H = (np.asarray(H, dtype="float64") + np.asarray(H, dtype="float64").T) / 2.0
    eig, vec = np.linalg.eigh(H)
    flat = ~(eig > 1.0 / MAX_LOG_SD**2)
    if flat.any() and ridge != "fix":
        if not np.all(eig > 0):
            raise ValueError(
                f"the {what} model's log-likelihood is not at a maximum or is flat in some direction of "
                f"{list(names)} (Hessian eigenvalues {np.array2string(eig, precision=3)}): {advice}"
            )
        i = int(np.argmin(eig))
        direction = {n: round(float(v), 2) for n, v in zip(names, vec[:, i])}
        raise ValueError(
            f"the {what} model's likelihood is nearly flat along a ridge: along the direction {direction} of the "
            f"log parameters the standard deviation is {1.0 / np.sqrt(eig[i]):.3g}, above {MAX_LOG_SD} (a factor of "
            f"{np.exp(MAX_LOG_SD):.0f} at one standard deviation); {advice}"
        )
    keep = ~flat
    cov = (vec[:, keep] / eig[keep]) @ vec[:, keep].T
    return (cov + cov.T) / 2.0


def _estimates(model: Any, label: str, names: tuple[str, ...]) -> np.ndarray:
    est = model.params_.loc[model.params_["model"] == label].set_index("parameter")["estimate"]
    return np.array([float(est[n]) for n in names])


def _to_free(names: Sequence[str], values: np.ndarray) -> np.ndarray:
    """Parameters on the scale they are drawn on: logs of the positive ones, coefficients as they are."""
    return np.array([np.log(v) if on_log_scale(n) else v for n, v in zip(names, values)], dtype="float64")


def _is_covariate(model: Any) -> bool:
    from clvlib.models.btyd.covariates import CovariateBGNBD

    return isinstance(model, CovariateBGNBD)


def _purchase_likelihood(model: Any, fit_rfm: pd.DataFrame | None, customer_col: str
                         ) -> tuple[tuple[str, ...], Any]:
    """The purchase model's parameter names and its negative log-likelihood on the unique rows it was fitted on.

    A ``BTYDModel``'s purchase model is rebuilt on the unique ``(frequency, recency, T)`` rows with
    their customer counts as weights; a :class:`~clvlib.models.btyd.covariates.CovariateBGNBD`
    already is one (built on its unique ``(frequency, recency, T, covariates)`` rows, weighted).
    """
    if _is_covariate(model):
        if model.dropout:
            raise ValueError("predict_intervals: BG/NBD with covariates on the dropout is not supported (only "
                             "covariates on the purchase rate, the default dropout=False).")
        if fit_rfm is not None:
            raise ValueError("parameter_covariance: a CovariateBGNBD holds the rows it was fitted on; do not pass "
                             "fit_rfm.")
        names = tuple(model.params_.loc[model.params_["model"] == "purchase", "parameter"])
        return names, _neg_logp_function(model.purchase_model_.model, names)
    if fit_rfm is not None:
        validate_rfm(fit_rfm, "fit_rfm", customer_col, need_monetary=model.spend_model_ is not None)
        uniq = compress_rfm(fit_rfm[[*RFM_COLUMNS]].astype("float64"))
    elif getattr(model, "fit_triples_", None) is not None:  # the unique triples it was fitted on, with their counts
        uniq = model.fit_triples_.copy()
    else:
        raise ValueError(
            "predict_intervals: this model does not hold the data it was fitted on (it was rebuilt with "
            "BTYDModel.from_dict); pass that RFM table as fit_rfm=."
        )
    uniq.insert(0, PMM_CUSTOMER, np.arange(len(uniq)))
    names = PURCHASE_PARAMS[model.purchase_model]
    fresh = _fresh_model(model.purchase_model_, uniq[[PMM_CUSTOMER, *RFM_COLUMNS]], uniq["n_customers"].to_numpy())
    return names, _neg_logp_function(fresh, names)


def _spend_data(model: Any, fit_rfm: pd.DataFrame | None) -> pd.DataFrame:
    """The data the spend model was fitted on: its own, or the repeat buyers of ``fit_rfm``."""
    if fit_rfm is not None and not _is_covariate(model):
        rep = fit_rfm[(fit_rfm["frequency"] > 0) & (fit_rfm["monetary_value"] > 0)]
        return pd.DataFrame({PMM_CUSTOMER: np.arange(len(rep)), "frequency": rep["frequency"].astype("float64"),
                             "monetary_value": rep["monetary_value"].astype("float64")})
    return model.spend_model_.data[[PMM_CUSTOMER, "frequency", "monetary_value"]].astype({"frequency": "float64"})


def parameter_covariance(model: Any, fit_rfm: pd.DataFrame | None = None, *,
                         customer_col: str = CUSTOMER, step: float = _STEP, ridge: str = "raise"
                         ) -> dict[str, pd.DataFrame]:
    """Asymptotic covariance of the log parameters at the MAP: the inverse Hessian of the negative log-likelihood.

    Parameters
    ----------
    model
        A ``BTYDModel`` fitted with ``method="map"``, or a fitted
        :class:`~clvlib.models.btyd.covariates.CovariateBGNBD` (maximum likelihood; with a spend
        model through :func:`clvlib.models.btyd.spend.with_spend_model`). For the latter the
        purchase block is in its own parametrisation: ``log r, log alpha_scale, log a, log b``
        and the purchase-rate coefficients as they are (``alpha = alpha_scale * exp(-z . c)``,
        so a coefficient is already a log rate ratio), on its unique rows.
    fit_rfm
        The RFM table the model was fitted on. Needed only for a model rebuilt with
        :meth:`BTYDModel.from_dict` (a fitted model holds its data).
    customer_col
        The customer id column of ``fit_rfm``.
    step
        Finite-difference step in the log parameters.
    ridge
        What to do when the likelihood is (nearly) flat along some direction of the log
        parameters, i.e. a standard deviation above :data:`MAX_LOG_SD` (BG/NBD's ``a, b`` or
        Pareto/NBD's ``s, beta`` running off together when few people bought twice; Gamma-
        Gamma's ``p, v`` with few repeat buyers): ``"raise"`` (default) or ``"fix"``, which
        gives that direction zero variance (draws stay at the MAP along the ridge, where the
        predictions barely move) and records it in ``attrs["fixed_directions"]``.

    Returns
    -------
    dict
        ``"purchase"`` (and ``"spend"`` with a spend model): covariance matrices of the log
        parameters (and coefficients) as DataFrames indexed by parameter name. ``sqrt(diag)``
        is the relative standard error of each positive parameter.

    Raises
    ------
    ValueError
        If the model was fitted by MCMC (use its posterior), if ``fit_rfm`` is needed and
        missing, or, with ``ridge="raise"``, if the likelihood is flat in some direction.
    """
    if ridge not in ("raise", "fix"):
        raise ValueError(f"ridge must be 'raise' or 'fix', got {ridge!r}.")
    if getattr(model, "method", None) != "map" or not hasattr(model, "purchase_model_"):
        raise ValueError("predict_intervals needs a BTYDModel fitted with method='map' (an MCMC fit has its "
                         "posterior: model.predict already gives predicted_value_low/high).")
    out = {}
    names, f = _purchase_likelihood(model, fit_rfm, customer_col)
    H = log_hessian(f, _to_free(names, _estimates(model, "purchase", names)), step)
    out["purchase"] = _frame(_covariance(H, names, "purchase", ridge), H, names)
    if getattr(model, "spend_model_", None) is not None:
        fresh = _fresh_model(model.spend_model_, _spend_data(model, fit_rfm), None)
        f = _neg_logp_function(fresh, SPEND_PARAMS)
        H = log_hessian(f, np.log(_estimates(model, "spend", SPEND_PARAMS)), step)
        out["spend"] = _frame(_covariance(H, SPEND_PARAMS, "spend", ridge), H, SPEND_PARAMS)
    return out


def _frame(cov: np.ndarray, H: np.ndarray, names: tuple[str, ...]) -> pd.DataFrame:
    """The covariance as a DataFrame; ``attrs["fixed_directions"]``: the flat eigenvectors held at the MAP."""
    out = pd.DataFrame(cov, index=list(names), columns=list(names))
    eig, vec = np.linalg.eigh((H + H.T) / 2.0)
    flat = ~(eig > 1.0 / MAX_LOG_SD**2)
    out.attrs["fixed_directions"] = [{n: round(float(v), 3) for n, v in zip(names, vec[:, i])}
                                     for i in np.flatnonzero(flat)]
    return out


def parameter_draws(model: Any, fit_rfm: pd.DataFrame | None = None, *, n_draws: int = 200, seed: int = 0,
                    customer_col: str = CUSTOMER, covariance: Mapping[str, pd.DataFrame] | None = None
                    ) -> pd.DataFrame:
    """Parameter vectors drawn from the asymptotic normal of the log MAP estimates.

    Parameters
    ----------
    model, fit_rfm, customer_col
        As in :func:`parameter_covariance`.
    n_draws
        Number of draws (>= 2).
    seed
        Seed of the normal draws.
    covariance
        Output of :func:`parameter_covariance`, to skip recomputing it.

    Returns
    -------
    pandas.DataFrame
        One row per draw, one column per parameter, in the order of the covariance (purchase
        model, then ``p, q, v`` with a spend model): every positive parameter is ``exp`` of its
        normal draw, so positive; a covariate coefficient is its normal draw.
    """
    n_draws = _check_draws(n_draws)
    cov = dict(covariance) if covariance is not None else parameter_covariance(model, fit_rfm,
                                                                              customer_col=customer_col)
    rng = np.random.default_rng(seed)
    cols = {}
    for label in ("purchase", "spend"):
        if label not in cov:
            continue
        names = tuple(cov[label].index)
        c = cov[label].loc[list(names), list(names)].to_numpy()
        z = rng.multivariate_normal(_to_free(names, _estimates(model, label, names)), c, size=n_draws, method="eigh")
        cols.update({n: np.exp(z[:, i]) if on_log_scale(n) else z[:, i] for i, n in enumerate(names)})
    return pd.DataFrame(cols)


def _check_draws(n_draws: Any) -> int:
    if isinstance(n_draws, bool) or int(n_draws) != n_draws or n_draws < 2:
        raise ValueError(f"n_draws must be a whole number >= 2, got {n_draws!r}.")
    return int(n_draws)
