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

Ridges. With few repeat buyers a pair of parameters can run off together (BG/NBD ``a, b``;
Pareto/NBD ``s, beta``; Gamma-Gamma ``p, v``) while the predictions stay put; the
likelihood is then flat along that direction and its normal approximation draws absurd
parameter vectors. :func:`parameter_covariance` refuses it by default (a direction whose
standard deviation exceeds :data:`MAX_LOG_SD`); ``ridge="fix"`` holds the parameters at
the MAP along that direction instead (zero variance there) and says so in ``attrs``.

Speed (55,524 Olist customers, 2 shared CPUs): the Hessian costs ~33 evaluations of the
log-likelihood on the unique rows plus one pymc compilation (cached on disk), ~0.7 s for
BG/NBD or Pareto/NBD with Gamma-Gamma.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvlib.features.rfm import RFM_COLUMNS, compress_rfm, validate_rfm
from clvlib.models.btyd._pymc import PMM_CUSTOMER, add_weights
from clvlib.models.btyd.fit import PURCHASE_PARAMS, SPEND_PARAMS
from clvlib.schemas import CUSTOMER

if TYPE_CHECKING:  # pragma: no cover
    from clvlib.models.btyd.model import BTYDModel

__all__ = [
    "MAX_LOG_SD",
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


def _neg_logp_function(pmm_model: Any, data: pd.DataFrame, weights: np.ndarray | None, names: tuple[str, ...]
                       ) -> Any:
    """The negative log posterior (no Jacobian) of a pymc-marketing model as a function of the log parameters.

    A fresh model of the same class and priors is built on ``data`` (with likelihood weights
    when ``weights`` is given); ``names`` fixes the order of the vector argument.
    """
    Cls = type(pmm_model)
    fresh = Cls(model_config=copy.deepcopy(pmm_model.model_config))
    fresh.build_model(data)
    if weights is not None:
        add_weights(fresh, weights)
    model = fresh.model
    by_name = {v.name: v for v in model.value_vars}
    missing = [n for n in names if f"{n}_log__" not in by_name]
    if missing or len(by_name) != len(names):
        raise ValueError(
            f"predict_intervals needs every parameter on the log scale (a positive prior); the model's free "
            f"variables are {sorted(by_name)}, expected {[f'{n}_log__' for n in names]}."
        )
    inputs = [by_name[f"{n}_log__"] for n in names]
    fn = model.compile_fn(model.logp(jacobian=False), inputs=inputs, point_fn=False)

    def neg_logp(x: np.ndarray) -> float:
        val = -float(fn(*[np.asarray(v, dtype="float64") for v in x]))
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


def _estimates(model: BTYDModel, label: str, names: tuple[str, ...]) -> np.ndarray:
    est = model.params_.loc[model.params_["model"] == label].set_index("parameter")["estimate"]
    return np.array([float(est[n]) for n in names])


def _fit_data(model: BTYDModel, fit_rfm: pd.DataFrame | None, customer_col: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The purchase data (unique triples with counts) and the spend data the model was fitted on."""
    if fit_rfm is not None:
        validate_rfm(fit_rfm, "fit_rfm", customer_col, need_monetary=model.spend_model_ is not None)
        data = fit_rfm[[*RFM_COLUMNS]].astype("float64")
        spend = None
        if model.spend_model_ is not None:
            rep = fit_rfm[(fit_rfm["frequency"] > 0) & (fit_rfm["monetary_value"] > 0)]
            spend = pd.DataFrame({PMM_CUSTOMER: np.arange(len(rep)), "frequency": rep["frequency"].astype("float64"),
                                  "monetary_value": rep["monetary_value"].astype("float64")})
    else:
        stored = model.purchase_model_.data
        if model.n_customers_ is None or len(stored) != model.n_customers_:
            raise ValueError(
                "predict_intervals: this model does not hold the data it was fitted on (it was rebuilt with "
                "BTYDModel.from_dict); pass that RFM table as fit_rfm=."
            )
        data = stored[[*RFM_COLUMNS]].astype("float64")
        spend = None if model.spend_model_ is None else model.spend_model_.data[
            [PMM_CUSTOMER, "frequency", "monetary_value"]].astype({"frequency": "float64"})
    uniq = compress_rfm(data)
    uniq.insert(0, PMM_CUSTOMER, np.arange(len(uniq)))
    return uniq, spend


def parameter_covariance(model: BTYDModel, fit_rfm: pd.DataFrame | None = None, *,
                         customer_col: str = CUSTOMER, step: float = _STEP, ridge: str = "raise"
                         ) -> dict[str, pd.DataFrame]:
    """Asymptotic covariance of the log parameters at the MAP: the inverse Hessian of the negative log-likelihood.

    Parameters
    ----------
    model
        A ``BTYDModel`` fitted with ``method="map"``.
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
        parameters as DataFrames indexed by parameter name. ``sqrt(diag)`` is the relative
        standard error of each parameter.

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
    uniq, spend = _fit_data(model, fit_rfm, customer_col)
    out = {}
    names = PURCHASE_PARAMS[model.purchase_model]
    f = _neg_logp_function(model.purchase_model_, uniq[[PMM_CUSTOMER, *RFM_COLUMNS]], uniq["n_customers"].to_numpy(),
                           names)
    H = log_hessian(f, np.log(_estimates(model, "purchase", names)), step)
    out["purchase"] = _frame(_covariance(H, names, "purchase", ridge), H, names)
    if model.spend_model_ is not None:
        f = _neg_logp_function(model.spend_model_, spend, None, SPEND_PARAMS)
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


def parameter_draws(model: BTYDModel, fit_rfm: pd.DataFrame | None = None, *, n_draws: int = 200, seed: int = 0,
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
        One row per draw, one column per parameter (purchase model, then ``p, q, v`` with a
        spend model); every value positive.
    """
    n_draws = _check_draws(n_draws)
    cov = dict(covariance) if covariance is not None else parameter_covariance(model, fit_rfm,
                                                                              customer_col=customer_col)
    rng = np.random.default_rng(seed)
    cols = {}
    for label, names in (("purchase", PURCHASE_PARAMS[model.purchase_model]), ("spend", SPEND_PARAMS)):
        if label not in cov:
            continue
        c = cov[label].loc[list(names), list(names)].to_numpy()
        z = rng.multivariate_normal(np.log(_estimates(model, label, names)), c, size=n_draws, method="eigh")
        cols.update({n: np.exp(z[:, i]) for i, n in enumerate(names)})
    return pd.DataFrame(cols)


def _check_draws(n_draws: Any) -> int:
    if isinstance(n_draws, bool) or int(n_draws) != n_draws or n_draws < 2:
        raise ValueError(f"n_draws must be a whole number >= 2, got {n_draws!r}.")
    return int(n_draws)
