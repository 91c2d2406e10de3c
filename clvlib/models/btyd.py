"""Buy-till-you-die (BTYD) baselines over any transaction log, on top of pymc-marketing.

Three steps, each usable alone:

1. :func:`rfm_summary` / :func:`calibration_holdout_summary` turn a transaction log
   (customer, timestamp[, amount]) into the *frequency / recency / T / monetary_value*
   table of the lifetimes / pymc-marketing convention. They wrap
   ``pymc_marketing.clv.utils.rfm_summary`` and ``rfm_train_test_split`` (checked to be
   correct under pandas 3) and add input validation.
2. :class:`BTYDModel` fits a purchase model (BG/NBD or Pareto/NBD) and a Gamma-Gamma
   spend model and predicts purchases, P(alive), spend, value over a horizon and a
   discounted lifetime value.
3. :func:`plot_repeat_purchases` and :func:`plot_p_alive_matrix` are the classic
   diagnostics.

Populations like Olist
----------------------
In Olist the first purchase is the only purchase for ~98% of people. Consequences that
the reader of a report should know:

* The Gamma-Gamma model is fitted on *repeat* customers only (``frequency > 0`` and
  ``monetary_value > 0``; about 2% of Olist), because ``monetary_value`` is the mean of
  repeat purchases. A one-time buyer has no repeat purchase to learn from, so their
  ``expected_spend`` is the model's population mean ``p * v / (q - 1)``: the mean order
  value of repeat purchases in the population, *not* the value of their first order.
* Under BG/NBD a customer can only drop out right after a repeat purchase, so
  ``p_alive`` is exactly 1 for every one-time buyer. Pareto/NBD (``purchase_model="pnbd"``)
  lets one-time buyers age and gives them a P(alive) that falls with ``T``.

Priors
------
The MAP estimate with flat priors is the maximum-likelihood estimate of lifetimes and of
the papers. Defaults:

* BG/NBD: flat (``HalfFlat``) priors on ``r, alpha, a, b``.
* Pareto/NBD: flat priors on the *scale* parameters ``alpha, beta`` and pymc-marketing's
  ``Weibull(2, 1)`` on the dimensionless *shapes* ``r, s``. With 98% one-time buyers the
  flat-prior likelihood can run off along a ridge (r -> infinity with r/alpha fixed, i.e. no
  heterogeneity in purchase rates): on synthetic Olist-like data the flat MLE was
  r = 85, alpha = 83,000 (and took 14 s); with the prior r = 1.35. On real Olist both agree
  (r = 0.39 vs 0.40, alpha = 1,150 vs 1,170).
* Gamma-Gamma: pymc-marketing's defaults (flat).

Scale parameters carry the time unit, so flat priors on them keep results equivariant:
the same table with times divided by 7 gives alpha/7, beta/7 and the same predictions
(weekly RFM tables also merge purchases within a week, so they differ slightly).
pymc-marketing's defaults for them (``alpha, beta ~ Weibull(2, 10)``) suit CDNOW in weeks;
on Olist in days they pull the Pareto/NBD alpha from ~1,150 to ~100. On the Olist calibration period to 2018-02-28
(55,524 customers, 700 repeat purchases in the next 182 days) the predicted holdout
purchases were: BG/NBD 736 (flat) vs 651 (pymc-marketing priors); Pareto/NBD 828 (these
defaults) vs 1,030 (pymc-marketing priors). Pass ``purchase_model_config`` to change priors.

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
  built on the unique triples and ``pm.Potential((n - 1) * loglik)`` is added, where
  ``loglik`` is the elementwise log-likelihood of the model's own ``BetaGeoNBD`` /
  ``ParetoNBD`` observed variable and ``n`` the customers sharing the triple: the log
  density is exactly ``sum(n * loglik)`` (tested, and the fitted parameters equal
  pymc-marketing's unweighted fit to 1e-3).
* Pareto/NBD's MAP then uses central finite differences of that log-likelihood (scipy
  L-BFGS-B, ~300 evaluations), avoiding the hyp2f1 gradient loop; BG/NBD and Gamma-Gamma
  use the exact pytensor gradient. The same weighted model is used for MCMC.

Result (55,000 customers, after the first compile): BG/NBD ~0.5 s, Pareto/NBD ~4-8 s, Gamma-
Gamma ~0.2 s; the first fit in a fresh process adds 2-5 s of compilation (more on a machine
whose pytensor cache is empty). Predictions are computed on the unique (frequency, recency,
T, monetary_value) rows and mapped back to customers (Pareto/NBD ~2.5 s, BG/NBD ~0.2 s).

No progress bars are printed (``progressbar=False`` everywhere; pymc still logs sampler
messages for MCMC), and nothing is changed globally at import: pymc-marketing is imported
lazily, inside the functions.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers the
       easy way: An alternative to the Pareto/NBD model." Marketing Science, 24(2), 275-284.
.. [2] Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). "Counting your customers:
       Who are they and what will they do next?" Management Science, 33(1), 1-24.
.. [3] Fader, P. S., & Hardie, B. G. S. (2013). "The Gamma-Gamma model of monetary value."
       http://www.brucehardie.com/notes/025/gamma_gamma.pdf
.. [4] Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "RFM and CLV: Using iso-value
       curves for customer base analysis." Journal of Marketing Research, 42(4), 415-430.
"""

from __future__ import annotations

import copy
import os
import time
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvlib.io import parse_datetimes, parse_numbers, validate_columns

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "TIME_UNITS",
    "PURCHASE_MODELS",
    "rfm_summary",
    "calibration_holdout_summary",
    "compress_rfm",
    "BTYDModel",
    "plot_repeat_purchases",
    "plot_p_alive_matrix",
]

#: Supported time units: days and (pandas, Monday-to-Sunday) weeks.
TIME_UNITS = ("D", "W")
#: Purchase models: BG/NBD [1]_ and Pareto/NBD [2]_.
PURCHASE_MODELS = ("bgnbd", "pnbd")
_PURCHASE_PARAMS = {"bgnbd": ("r", "alpha", "a", "b"), "pnbd": ("r", "alpha", "s", "beta")}
_RFM_COLS = ["frequency", "recency", "T"]
_DPI = 90


# --------------------------------------------------------------------------- validation


def _require_columns(df: pd.DataFrame, cols: Sequence[str], table: str, fix: str) -> None:
    validate_columns(df, cols, table, hint=fix)


def _check_time_unit(time_unit: str) -> None:
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit must be one of {TIME_UNITS} (days or weeks), got {time_unit!r}.")


def _parse_dates(values: pd.Series, table: str, column: str) -> pd.Series:
    """Timestamps (time zone dropped, wall time kept); raise on empty or unparsable cells."""
    return parse_datetimes(values, table, column, allow_missing=False,
                           hint="Every transaction needs a date: fix or drop those rows, or parse the column "
                                "yourself first with pandas.to_datetime(..., format=...).")


def _parse_amounts(values: pd.Series, table: str, column: str) -> pd.Series:
    """Finite, non-negative, non-missing amounts."""
    return parse_numbers(values, table, column, allow_negative=False, allow_missing=False,
                         hint="Net refunds against their orders, or drop those rows, before summarising.")


def _clean_transactions(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
    time_unit: str,
    table: str,
) -> pd.DataFrame:
    """Validated copy of the needed columns with dates floored to the start of their period."""
    _check_time_unit(time_unit)
    cols = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col else [])
    _require_columns(
        transactions, cols, table,
        "Pass the right names with customer_id_col=, datetime_col= and monetary_value_col=.",
    )
    if transactions.empty:
        raise ValueError(f"{table}: the table has no rows.")
    tx = transactions[cols].copy()
    if tx[customer_id_col].isna().any():
        raise ValueError(
            f"{table}: column '{customer_id_col}' is empty in {int(tx[customer_id_col].isna().sum())} row(s); "
            "every transaction needs a customer. Drop those rows first."
        )
    tx[datetime_col] = _parse_dates(tx[datetime_col], table, datetime_col)
    if monetary_value_col:
        tx[monetary_value_col] = _parse_amounts(tx[monetary_value_col], table, monetary_value_col)
    tx[datetime_col] = _floor(tx[datetime_col], time_unit)
    return tx


def _floor(values: pd.Series, time_unit: str) -> pd.Series:
    return values.dt.to_period(time_unit).dt.start_time.astype("datetime64[ns]")


def _floor_ts(value: Any, time_unit: str, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a date, got {value!r}.") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ValueError(f"{name} must be a date, got {value!r}.")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.to_period(time_unit).start_time


def _finish_rfm(df: pd.DataFrame, time_unit: str) -> pd.DataFrame:
    out = df.sort_values("customer_id", kind="stable").reset_index(drop=True)
    out["frequency"] = out["frequency"].round().astype("int64")
    for c in ("recency", "T"):
        out[c] = out[c].astype("float64")
    out.attrs["time_unit"] = time_unit
    return out


# --------------------------------------------------------------------------- RFM tables


def rfm_summary(
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str | None = None,
    observation_period_end: str | pd.Timestamp | None = None,
    time_unit: str = "D",
    table: str = "transactions",
) -> pd.DataFrame:
    """Frequency / recency / T (/ monetary value) per customer, in the lifetimes convention.

    A wrapper of ``pymc_marketing.clv.utils.rfm_summary`` with validation at the door.
    Purchases are counted per *period* (day or week): several purchases by one customer in
    the same period are one purchase whose value is their sum.

    Parameters
    ----------
    transactions
        One row per purchase. Not modified.
    customer_id_col, datetime_col, monetary_value_col
        Column names. Dates may be strings (any format pandas can parse) or timestamps;
        a timezone is dropped keeping the local wall time. Amounts must be numbers >= 0.
    observation_period_end
        End of the observation period (inclusive: purchases during that day/week count).
        Purchases after it are **dropped**, and customers whose first purchase is after it
        do not appear. Defaults to the last purchase date.
    time_unit
        ``"D"`` (days) or ``"W"`` (weeks, Monday to Sunday). ``recency`` and ``T`` are
        whole numbers of these units.
    table
        Name of the table in error messages.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``customer_id``, with columns

        * ``customer_id``
        * ``frequency``: number of *repeat* purchase periods (periods with a purchase - 1)
        * ``recency``: age at the last purchase (last - first purchase period)
        * ``T``: age at ``observation_period_end`` (end - first purchase period)
        * ``monetary_value`` (only with ``monetary_value_col``): mean value of the repeat
          purchase periods; 0 when ``frequency`` is 0.

        ``out.attrs["time_unit"]`` records the unit; :meth:`BTYDModel.fit` checks it.

    Required columns
    ----------------
    ``customer_id_col``, ``datetime_col`` and, when given, ``monetary_value_col``.

    Raises
    ------
    ValueError
        Missing columns, empty or unparsable dates, missing customer ids, non-numeric,
        missing or negative amounts, an unknown ``time_unit``, or no purchase on or before
        ``observation_period_end``.

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005), "RFM and CLV: Using iso-value curves for customer
           base analysis", Journal of Marketing Research 42(4), 415-430.
    """
    from pymc_marketing.clv.utils import rfm_summary as _pmm_rfm_summary

    tx = _clean_transactions(transactions, customer_id_col, datetime_col, monetary_value_col, time_unit, table)
    end = tx[datetime_col].max() if observation_period_end is None else _floor_ts(
        observation_period_end, time_unit, "observation_period_end"
    )
    tx = tx[tx[datetime_col] <= end]
    if tx.empty:
        raise ValueError(
            f"{table}: no purchase on or before observation_period_end={end.date()}; "
            "choose a later observation_period_end."
        )
    out = _pmm_rfm_summary(
        tx, customer_id_col, datetime_col, monetary_value_col=monetary_value_col,
        observation_period_end=end, time_unit=time_unit,
    )
    return _finish_rfm(out, time_unit)


def calibration_holdout_summary(
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str | None = None,
    *,
    calibration_end: str | pd.Timestamp,
    holdout_end: str | pd.Timestamp | None = None,
    time_unit: str = "D",
    table: str = "transactions",
) -> pd.DataFrame:
    """Calibration RFM plus what each calibration customer did in the holdout period.

    A wrapper of ``pymc_marketing.clv.utils.rfm_train_test_split``. Dates are floored to
    their day (week) first, so the calibration period ends with the whole day (week) of
    ``calibration_end`` and the holdout is the days (weeks) after it up to and including
    ``holdout_end``.

    Parameters
    ----------
    transactions, customer_id_col, datetime_col, monetary_value_col, time_unit, table
        As in :func:`rfm_summary`.
    calibration_end
        Last day of the calibration period.
    holdout_end
        Last day of the holdout period; defaults to the last purchase date. Purchases after
        it are dropped.

    Returns
    -------
    pandas.DataFrame
        The :func:`rfm_summary` columns over the calibration period, plus

        * ``holdout_frequency``: number of periods with a purchase in the holdout
        * ``holdout_spend`` (only with ``monetary_value_col``): total value in the holdout
        * ``holdout_duration``: length of the holdout in time units (same for everyone)

        Customers whose first purchase is after ``calibration_end`` are excluded.

    Required columns
    ----------------
    ``customer_id_col``, ``datetime_col`` and, when given, ``monetary_value_col``.
    """
    from pymc_marketing.clv.utils import rfm_train_test_split

    tx = _clean_transactions(transactions, customer_id_col, datetime_col, monetary_value_col, time_unit, table)
    cal_end = _floor_ts(calibration_end, time_unit, "calibration_end")
    hold_end = tx[datetime_col].max() if holdout_end is None else _floor_ts(holdout_end, time_unit, "holdout_end")
    if hold_end <= cal_end:
        raise ValueError(
            f"holdout_end ({hold_end.date()}) must be after calibration_end ({cal_end.date()}) "
            f"by at least one period of time_unit={time_unit!r}."
        )
    if not (tx[datetime_col] <= cal_end).any():
        raise ValueError(
            f"{table}: no purchase on or before calibration_end={cal_end.date()}; choose a later calibration_end."
        )
    duration = float((hold_end.to_period(time_unit) - cal_end.to_period(time_unit)).n)
    in_holdout = (tx[datetime_col] > cal_end) & (tx[datetime_col] <= hold_end)
    if in_holdout.any():
        out = rfm_train_test_split(
            tx, customer_id_col, datetime_col, train_period_end=cal_end, test_period_end=hold_end,
            time_unit=time_unit, monetary_value_col=monetary_value_col,
        )
        out = out.rename(columns={"test_frequency": "holdout_frequency"})
        if monetary_value_col:
            out["holdout_spend"] = out["holdout_frequency"] * out.pop("test_monetary_value")
        out = out.drop(columns=["test_T"])
    else:  # pymc-marketing refuses an empty holdout; it is legitimate (nobody came back)
        out = rfm_summary(tx, customer_id_col, datetime_col, monetary_value_col, cal_end, time_unit, table)
        out["holdout_frequency"] = 0.0
        if monetary_value_col:
            out["holdout_spend"] = 0.0
    out["holdout_frequency"] = out["holdout_frequency"].round().astype("int64")
    out["holdout_duration"] = duration
    return _finish_rfm(out, time_unit)


def compress_rfm(rfm: pd.DataFrame, columns: Sequence[str] = ("frequency", "recency", "T")) -> pd.DataFrame:
    """Unique rows of ``columns`` with the number of customers sharing each (``n_customers``).

    Customers with identical ``(frequency, recency, T)`` contribute identical likelihood
    terms and get identical predictions, so models are fitted on this table with weights.

    Required columns
    ----------------
    ``columns`` (default ``frequency``, ``recency``, ``T``).
    """
    cols = list(columns)
    _require_columns(rfm, cols, "rfm", "Build it with clvlib.btyd.rfm_summary.")
    return rfm.groupby(cols, sort=True, as_index=False).size().rename(columns={"size": "n_customers"})


def _unique_codes(df: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Unique rows (sorted) and, for each input row, the position of its unique row."""
    codes = df.groupby(cols, sort=True).ngroup().to_numpy()
    uniq = df.groupby(cols, sort=True, as_index=False).size().drop(columns="size")
    return uniq, codes


def _validate_rfm(rfm: pd.DataFrame, table: str, need_monetary: bool = False) -> None:
    cols = ["customer_id", *_RFM_COLS] + (["monetary_value"] if need_monetary else [])
    _require_columns(rfm, cols, table, "Build it with clvlib.btyd.rfm_summary (customer id column 'customer_id').")
    if rfm.empty:
        raise ValueError(f"{table}: the table has no rows.")
    if rfm["customer_id"].duplicated().any():
        dup = rfm.loc[rfm["customer_id"].duplicated(), "customer_id"].unique()[:3].tolist()
        raise ValueError(f"{table}: column 'customer_id' has duplicates (e.g. {dup}); one row per customer is needed.")
    num_cols = _RFM_COLS + (["monetary_value"] if "monetary_value" in rfm.columns else [])
    for c in num_cols:
        if not pd.api.types.is_numeric_dtype(rfm[c]) or pd.api.types.is_bool_dtype(rfm[c]):
            raise ValueError(f"{table}: column '{c}' must be numeric, got dtype {rfm[c].dtype}.")
        v = rfm[c].to_numpy(dtype=float)
        if not np.isfinite(v).all():
            raise ValueError(f"{table}: column '{c}' has missing or infinite values; fill or drop those rows.")
        if (v < 0).any():
            raise ValueError(f"{table}: column '{c}' has negative values; it must be >= 0.")
    f = rfm["frequency"].to_numpy(dtype=float)
    if (f != np.round(f)).any():
        raise ValueError(f"{table}: column 'frequency' must hold whole numbers (repeat purchase periods).")
    if (rfm["recency"] > rfm["T"]).any():
        raise ValueError(f"{table}: 'recency' exceeds 'T' in {int((rfm['recency'] > rfm['T']).sum())} row(s); "
                         "recency is the age at the last purchase and cannot exceed the age T.")
    if ((f == 0) & (rfm["recency"].to_numpy(dtype=float) != 0)).any():
        raise ValueError(f"{table}: customers with frequency 0 must have recency 0.")


# --------------------------------------------------------------------------- fitting helpers


def _flat_priors(names: Sequence[str]) -> dict:
    from pymc_extras.prior import Prior

    return {name: Prior("HalfFlat") for name in names}


def _default_purchase_priors(purchase_model: str) -> dict:
    """Flat priors, except Weibull(2, 1) (pymc-marketing's default) on Pareto/NBD's shapes r and s."""
    from pymc_extras.prior import Prior

    priors = _flat_priors(_PURCHASE_PARAMS[purchase_model])
    if purchase_model == "pnbd":
        priors.update(r=Prior("Weibull", alpha=2, beta=1), s=Prior("Weibull", alpha=2, beta=1))
    return priors


def _model_class(purchase_model: str):
    from pymc_marketing.clv import BetaGeoModel, ParetoNBDModel

    return {"bgnbd": BetaGeoModel, "pnbd": ParetoNBDModel}[purchase_model]


def _add_weights(pmm_model, counts: np.ndarray) -> None:
    """Turn the model's likelihood into sum(counts * loglik) by adding (counts - 1) * loglik."""
    import pymc as pm
    import pytensor.tensor as pt

    model = pmm_model.model
    obs = model["recency_frequency"]
    with model:
        loglik = model.logp(vars=[obs], sum=False)[0]
        pm.Potential("customer_weights", pt.as_tensor_variable(np.asarray(counts, dtype="float64") - 1.0) * loglik)


def _map_idata(model, use_gradient: bool, maxiter: int = 2000):
    """MAP (posterior mode, no Jacobian: same objective as ``pm.find_MAP``) as InferenceData.

    L-BFGS-B on the unconstrained values; with ``use_gradient=False`` scipy's central
    finite-difference gradient of the compiled log-density is used instead of the
    pytensor gradient (see the module docstring: Pareto/NBD's hyp2f1 gradient is slow).
    Returns ``(idata, scipy_result)`` with chain = draw = 1.
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
        res = minimize(objective, x0, jac="3-point", method="L-BFGS-B", options={"maxiter": maxiter})
    if not res.success:
        warnings.warn(f"MAP optimisation did not converge: {res.message}", UserWarning, stacklevel=3)
    outs = get_default_varnames(model.unobserved_value_vars, include_transformed=False)
    values = model.compile_fn(outs, inputs=value_vars, point_fn=False, on_unused_input="ignore")(*unravel(res.x))
    posterior = {v.name: np.asarray(val)[None, None, ...] for v, val in zip(outs, values)}
    return az.from_dict(posterior=posterior), res


def _attach_idata(pmm_model, idata) -> None:
    """Give a built pymc-marketing model a fit result, as its own ``fit`` would."""
    pmm_model.idata = idata
    pmm_model.set_idata_attrs(pmm_model.idata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pmm_model._add_fit_data_group(pmm_model.data)


def _posterior_draws(xr_array) -> np.ndarray:
    """(chain, draw, customer) DataArray -> (n_draws, n_customers) ndarray; MAP gives 1 draw."""
    arr = xr_array.transpose("chain", "draw", ...).values
    return arr.reshape(-1, arr.shape[-1])


def _thinned(pmm_model, max_draws: int):
    """A shallow copy of a fitted pymc-marketing model keeping at most ``max_draws`` draws."""
    import arviz as az

    post = pmm_model.idata.posterior
    n = post.sizes["chain"] * post.sizes["draw"]
    if n <= max_draws:
        return pmm_model
    step = int(np.ceil(n / max_draws))
    thin = copy.copy(pmm_model)
    thin.idata = az.InferenceData(posterior=post.isel(draw=slice(None, None, step)))
    return thin


def _scalar_params(idata) -> list[str]:
    post = idata.posterior
    return [n for n in post.data_vars if post[n].ndim == 2]


# --------------------------------------------------------------------------- the model


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
        given to :func:`rfm_summary`. Used to convert months for ``clv_lifetime``
        (pymc-marketing's factors: 30 days or 4.345 weeks per month).
    discount_rate_annual
        Annual discount rate for ``clv_lifetime``; applied monthly as
        ``(1 + rate) ** (1 / 12) - 1``. Default 10%.
    clv_months
        Horizon of ``clv_lifetime`` in months (pymc-marketing's and lifetimes' default, 12).
        Longer horizons extrapolate the purchase model far beyond the data it saw.
    random_seed
        Seed for MCMC and for the simulation in :func:`plot_repeat_purchases`.
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
        priors on BG/NBD's ``r, alpha, a, b``; on Pareto/NBD flat priors on the scales
        ``alpha, beta`` and pymc-marketing's ``Weibull(2, 1)`` on the shapes ``r, s``
        (see the module docstring); pymc-marketing's default (flat) priors on the
        Gamma-Gamma ``p, q, v``.
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
    n_customers_, n_unique_triples_, n_repeat_customers_, n_spend_customers_ : int
        Sizes of the fitting data (``n_spend_customers_``: rows used by Gamma-Gamma).
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
    >>> rfm = rfm_summary(tx, "customer_unique_id", "order_purchase_timestamp", "order_value")
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
        _check_time_unit(self.time_unit)
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

    def fit(self, rfm: pd.DataFrame) -> BTYDModel:
        """Fit the purchase model on all customers and Gamma-Gamma on repeat customers.

        Parameters
        ----------
        rfm
            Output of :func:`rfm_summary` (one row per customer), in ``time_unit`` units.

        Returns
        -------
        BTYDModel
            ``self``, fitted.

        Required columns
        ----------------
        ``customer_id``, ``frequency``, ``recency``, ``T``; ``monetary_value`` for the
        spend model (without it only the purchase model is fitted).
        """
        from pymc_marketing.clv import GammaGammaModel

        self._check_params()
        _validate_rfm(rfm, "rfm")
        unit = rfm.attrs.get("time_unit")
        if unit is not None and unit != self.time_unit:
            raise ValueError(
                f"rfm: the table was built with time_unit={unit!r} but the model has time_unit={self.time_unit!r}; "
                "use the same unit for both."
            )
        kind = self.purchase_model
        Cls = _model_class(kind)
        config = self.purchase_model_config
        if config is None:
            config = _default_purchase_priors(kind)
        data = rfm[["customer_id", *_RFM_COLS]].copy()
        data["frequency"] = data["frequency"].astype("float64")
        uniq = compress_rfm(data)
        self.n_customers_ = int(len(data))
        self.n_unique_triples_ = int(len(uniq))

        t0 = time.perf_counter()
        fit_model = Cls(model_config=copy.deepcopy(config))
        if self.weighted:  # unique triples, weighted by their number of customers (module docstring)
            fit_model.build_model(uniq[_RFM_COLS].assign(customer_id=np.arange(len(uniq)))[["customer_id", *_RFM_COLS]])
            _add_weights(fit_model, uniq["n_customers"].to_numpy())
        else:
            fit_model.build_model(data)
        self.purchase_optimizer_ = self.spend_optimizer_ = None
        if self.method == "map":
            idata, res = _map_idata(fit_model.model, use_gradient=(kind != "pnbd"))
            self.purchase_optimizer_ = {"success": bool(res.success), "message": str(res.message),
                                        "n_evaluations": int(res.nfev), "neg_logp": float(res.fun)}
        else:
            kw = self._sampler_kwargs(kind)
            if kw["method"] == "demz":
                # DEMetropolisZ from the default point (all parameters 1) is far from the
                # typical set on Olist-like data and does not converge in 1,000 tuning
                # steps; starting every chain at the MAP does.
                map_idata, _ = _map_idata(fit_model.model, use_gradient=False)
                kw["initvals"] = {v.name: float(map_idata.posterior[v.name].values.ravel()[0])
                                  for v in fit_model.model.free_RVs}
            fit_model.fit(**kw)
            idata = fit_model.idata
        if self.weighted:
            import arviz as az

            groups = {"posterior": idata.posterior}
            if "sample_stats" in idata.groups():
                groups["sample_stats"] = idata.sample_stats
            final = Cls(model_config=copy.deepcopy(config))
            final.build_model(data)
            _attach_idata(final, az.InferenceData(**groups))
        else:
            final = fit_model
            if self.method == "map":
                _attach_idata(final, idata)
        self.purchase_model_ = final
        self.fit_seconds_ = {"purchase": time.perf_counter() - t0}

        self.spend_model_ = None
        self.n_repeat_customers_ = int((rfm["frequency"] > 0).sum())
        self.n_spend_customers_ = 0
        self.spend_frequency_corr_ = float("nan")
        if "monetary_value" in rfm.columns:
            t0 = time.perf_counter()
            repeat = rfm.loc[(rfm["frequency"] > 0) & (rfm["monetary_value"] > 0),
                             ["customer_id", "frequency", "monetary_value"]].copy()
            repeat["frequency"] = repeat["frequency"].astype("float64")
            if len(repeat) < 10:
                raise ValueError(
                    f"rfm: only {len(repeat)} customer(s) with frequency > 0 and monetary_value > 0; the Gamma-Gamma "
                    "spend model needs repeat customers (at least 10). Use a longer calibration period, or drop "
                    "'monetary_value' to fit the purchase model alone."
                )
            self.n_spend_customers_ = int(len(repeat))
            self.spend_frequency_corr_ = float(np.corrcoef(repeat["frequency"], repeat["monetary_value"])[0, 1])
            gg = GammaGammaModel(model_config=copy.deepcopy(self.spend_model_config) if self.spend_model_config
                                 else None)
            if self.method == "map":
                gg.build_model(repeat)
                idata, res = _map_idata(gg.model, use_gradient=True)
                _attach_idata(gg, idata)
                self.spend_optimizer_ = {"success": bool(res.success), "message": str(res.message),
                                         "n_evaluations": int(res.nfev), "neg_logp": float(res.fun)}
            else:
                kw = self._sampler_kwargs("gg")
                gg.fit(repeat, **kw)
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
            names = _scalar_params(m.idata)
            post = m.idata.posterior
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

    def predict(self, rfm: pd.DataFrame, horizon: float) -> pd.DataFrame:
        """Expected purchases, P(alive), spend and value per customer.

        Parameters
        ----------
        rfm
            RFM table (e.g. the calibration table the model was fitted on, or a later one).
        horizon
            Prediction window in ``time_unit`` units (e.g. 180 days).

        Returns
        -------
        pandas.DataFrame
            In the order of ``rfm``:

            * ``customer_id``
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
        ``customer_id``, ``frequency``, ``recency``, ``T``; ``monetary_value`` when the
        model has a spend model.
        """
        from pymc_marketing.clv.utils import customer_lifetime_value

        self._check_fitted()
        has_spend = self.spend_model_ is not None
        _validate_rfm(rfm, "rfm", need_monetary=has_spend)
        if not np.isscalar(horizon) or not np.isfinite(horizon) or horizon <= 0:
            raise ValueError(f"horizon must be a positive number of time units, got {horizon!r}.")
        key = rfm[_RFM_COLS].astype("float64")
        if has_spend:
            key["monetary_value"] = np.where(rfm["frequency"] > 0, rfm["monetary_value"].astype("float64"), 0.0)
        uniq, codes = _unique_codes(key, list(key.columns))
        uniq.insert(0, "customer_id", np.arange(len(uniq)))
        pm_ = _thinned(self.purchase_model_, int(self.max_predict_draws))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            purchases = _posterior_draws(pm_.expected_purchases(data=uniq, future_t=float(horizon)))
            p_alive = _posterior_draws(pm_.expected_probability_alive(data=uniq))
        bad = ~np.isfinite(purchases).all(axis=0) | ~np.isfinite(p_alive).all(axis=0)
        if bad.any():
            warnings.warn(f"{int(np.isin(codes, np.flatnonzero(bad)).sum())} customer(s) got non-finite expected "
                          "purchases or P(alive); check the fitted parameters (params_).", UserWarning, stacklevel=2)
        out = pd.DataFrame({"customer_id": rfm["customer_id"].to_numpy()}, index=rfm.index)
        out["expected_purchases"] = purchases.mean(axis=0)[codes]
        out["p_alive"] = np.clip(p_alive.mean(axis=0), 0.0, 1.0)[codes]
        if not has_spend:
            return out.reset_index(drop=True)
        spend_model = _thinned(self.spend_model_, int(self.max_predict_draws))
        spend = _posterior_draws(spend_model.expected_customer_spend(data=uniq))
        # clv_lifetime only reports a posterior mean, and pymc-marketing recomputes the
        # (for Pareto/NBD, hyp2f1-heavy) likelihood once per month: use <= 100 draws.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            disc = customer_lifetime_value(
                _thinned(pm_, 100), uniq.assign(future_spend=1.0), future_t=int(self.clv_months),
                discount_rate=self.monthly_discount_rate, time_unit=self.time_unit,
            )
        disc = _posterior_draws(disc)
        e_s = spend.mean(axis=0)
        out["expected_spend"] = e_s[codes]
        out["predicted_value"] = out["expected_purchases"] * out["expected_spend"]
        out["clv_lifetime"] = (disc.mean(axis=0) * e_s)[codes]
        if self.method == "mcmc":
            n = min(len(purchases), len(spend))
            value = purchases[:n] * spend[:n]
            tail = (1.0 - self.credible_interval) / 2.0
            out["predicted_value_low"] = np.quantile(value, tail, axis=0)[codes]
            out["predicted_value_high"] = np.quantile(value, 1.0 - tail, axis=0)[codes]
        return out.reset_index(drop=True)

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
        """Rebuild a predicting model from :meth:`to_dict` output (point estimates, MAP-like)."""
        import arviz as az
        from pymc_marketing.clv import GammaGammaModel

        for k in ("purchase_model", "time_unit", "params"):
            if k not in d:
                raise ValueError(f"from_dict: key '{k}' is missing; pass the output of BTYDModel.to_dict().")
        self = cls(purchase_model=d["purchase_model"], method="map", time_unit=d["time_unit"],
                   discount_rate_annual=d.get("discount_rate_annual", 0.10), clv_months=d.get("clv_months", 12))
        self._check_params()
        dummy = pd.DataFrame({"customer_id": [0, 1], "frequency": [0.0, 1.0], "recency": [0.0, 1.0],
                              "T": [2.0, 2.0], "monetary_value": [0.0, 1.0]})

        def posterior(p: dict) -> Any:
            return az.from_dict(posterior={k: np.array([[v["estimate"]]]) for k, v in p.items()})

        Cls = _model_class(self.purchase_model)
        pm_ = Cls(model_config=_flat_priors(_PURCHASE_PARAMS[self.purchase_model]))
        pm_.build_model(dummy[["customer_id", *_RFM_COLS]])
        _attach_idata(pm_, posterior(d["params"]["purchase"]))
        self.purchase_model_ = pm_
        self.spend_model_ = None
        if "spend" in d["params"]:
            gg = GammaGammaModel()
            gg.build_model(dummy.iloc[[1]])
            _attach_idata(gg, posterior(d["params"]["spend"]))
            self.spend_model_ = gg
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


# --------------------------------------------------------------------------- diagnostics


def _simulate_frequency(model: BTYDModel, T: np.ndarray, n_draws: int = 20) -> np.ndarray:
    """Simulated repeat-purchase counts of customers of ages ``T`` (n_sims x len(T)).

    Vectorised numpy simulation of the fitted model, a few posterior draws (one for MAP):
    BG/NBD: X = min(Poisson(lambda T), Geometric(p)); Pareto/NBD: X = Poisson(lambda
    min(tau, T)) with tau ~ Exponential(mu). pymc-marketing's own sampler loops over
    customers in Python, which is too slow for tens of thousands of customers.
    """
    rng = np.random.default_rng(model.random_seed)
    post = model.purchase_model_.idata.posterior
    flat = {k: post[k].values.reshape(-1) for k in _PURCHASE_PARAMS[model.purchase_model]}
    n_post = len(next(iter(flat.values())))
    idx = rng.choice(n_post, size=min(n_draws, n_post), replace=False) if n_post > 1 else np.array([0])
    reps = max(1, n_draws // len(idx))
    sims = []
    for i in idx:
        for _ in range(reps):
            r, alpha = flat["r"][i], flat["alpha"][i]
            lam = rng.gamma(shape=r, scale=1.0 / alpha, size=T.shape)
            if model.purchase_model == "bgnbd":
                p = rng.beta(flat["a"][i], flat["b"][i], size=T.shape)
                x = np.minimum(rng.poisson(lam * T), rng.geometric(np.clip(p, 1e-12, 1.0)))
            else:
                mu = rng.gamma(shape=flat["s"][i], scale=1.0 / flat["beta"][i], size=T.shape)
                tau = rng.exponential(1.0 / np.maximum(mu, 1e-300))
                x = rng.poisson(lam * np.minimum(tau, T))
            sims.append(x)
    return np.asarray(sims)


def plot_repeat_purchases(
    calibration: pd.DataFrame,
    model: BTYDModel,
    holdout_frequency: pd.Series | np.ndarray | None = None,
    holdout_duration: float | None = None,
    max_frequency: int = 7,
    n_draws: int = 20,
) -> Figure:
    """Actual vs model number of customers by repeat purchases, and holdout purchases.

    Left: how many customers made 0, 1, ..., ``max_frequency``+ repeat purchases in the
    calibration period, actual vs simulated from the fitted purchase model at each
    customer's own ``T`` (lifetimes' ``plot_period_transactions``). Right, when
    ``holdout_frequency`` is given: mean actual holdout purchases vs mean
    ``expected_purchases`` over the holdout, by calibration frequency (lifetimes'
    ``plot_calibration_purchases_vs_holdout_purchases``).

    Parameters
    ----------
    calibration
        Calibration RFM table (e.g. from :func:`calibration_holdout_summary`).
    model
        A fitted :class:`BTYDModel`.
    holdout_frequency
        Holdout purchases per row of ``calibration`` (e.g. its ``holdout_frequency``).
    holdout_duration
        Holdout length in time units; defaults to ``calibration["holdout_duration"]``.
    max_frequency
        Frequencies above it are pooled into one ``max_frequency+`` bin.
    n_draws
        Number of simulated populations averaged for the model bars.

    Returns
    -------
    matplotlib.figure.Figure

    Required columns
    ----------------
    ``customer_id``, ``frequency``, ``recency``, ``T`` (and ``holdout_duration`` if
    ``holdout_duration`` is not given with ``holdout_frequency``).
    """
    from matplotlib.figure import Figure

    model._check_fitted()
    _validate_rfm(calibration, "calibration")
    cap = int(max_frequency)
    bins = np.arange(cap + 1)
    labels = [str(b) for b in bins[:-1]] + [f"{cap}+"]
    actual = np.bincount(np.minimum(calibration["frequency"].to_numpy(dtype=int), cap), minlength=cap + 1)
    sims = _simulate_frequency(model, calibration["T"].to_numpy(dtype=float), n_draws=n_draws)
    expected = np.mean([np.bincount(np.minimum(s, cap), minlength=cap + 1) for s in sims], axis=0)

    two = holdout_frequency is not None
    fig = Figure(figsize=(10 if two else 5.5, 3.8), dpi=_DPI, layout="constrained")
    axes = fig.subplots(1, 2 if two else 1, squeeze=False)[0]
    ax = axes[0]
    w = 0.4
    ax.bar(bins - w / 2, actual, width=w, label="actual", color="#1f77b4")
    ax.bar(bins + w / 2, expected, width=w, label="model", color="#ff7f0e")
    ax.set_xticks(bins, labels)
    ax.set_yscale("log")
    ax.set_xlabel("repeat purchases in calibration")
    ax.set_ylabel("customers (log scale)")
    ax.set_title("Customers by number of repeat purchases")
    ax.legend()
    if two:
        hf = np.asarray(holdout_frequency, dtype=float)
        if hf.shape != (len(calibration),):
            raise ValueError(f"holdout_frequency must have one value per calibration row ({len(calibration)}), "
                             f"got shape {hf.shape}.")
        if holdout_duration is None:
            if "holdout_duration" not in calibration.columns:
                raise ValueError("calibration: no 'holdout_duration' column; pass holdout_duration= (time units).")
            holdout_duration = float(calibration["holdout_duration"].iloc[0])
        uniq, codes = _unique_codes(calibration[_RFM_COLS].astype("float64"), _RFM_COLS)
        uniq.insert(0, "customer_id", np.arange(len(uniq)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            draws = model.purchase_model_.expected_purchases(data=uniq, future_t=float(holdout_duration))
        grp = np.minimum(calibration["frequency"].to_numpy(dtype=int), cap)
        df = pd.DataFrame({"bin": grp, "actual": hf, "model": _posterior_draws(draws).mean(axis=0)[codes]})
        agg = df.groupby("bin")[["actual", "model"]].mean().reindex(bins)
        ax2 = axes[1]
        ax2.plot(bins, agg["actual"], marker="o", label="actual")
        ax2.plot(bins, agg["model"], marker="s", label="model")
        ax2.set_xticks(bins, [f"{lab}\nn={n:,}" for lab, n in zip(labels, actual)], fontsize=8)
        ax2.set_xlabel("repeat purchases in calibration")
        ax2.set_ylabel(f"mean purchases in holdout ({holdout_duration:g} {model.time_unit})")
        ax2.set_title("Holdout purchases by calibration frequency")
        ax2.legend()
    return fig


def plot_p_alive_matrix(
    model: BTYDModel,
    max_frequency: int | None = None,
    max_recency: int | None = None,
) -> Figure:
    """P(alive) by frequency and recency for customers of age ``T = max_recency``.

    The same heat map as ``pymc_marketing.clv.plotting.plot_probability_alive_matrix``
    (computed with the fitted model's ``expected_probability_alive``). That function is not
    called because it draws its colour bar with ``pyplot.colorbar``, which opens a stray
    empty pyplot figure (and warns) when the axes belong to a stand-alone Figure.
    Defaults: the largest frequency (capped at 20) and recency in the fitting data.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    model._check_fitted()
    data = model.purchase_model_.data
    if max_frequency is None:
        max_frequency = int(min(max(data["frequency"].max(), 1), 20))
    if max_recency is None:
        max_recency = int(max(data["recency"].max(), 1))
    freq, rec = np.meshgrid(np.arange(max_frequency + 1), np.arange(max_recency + 1))
    grid = pd.DataFrame({"customer_id": np.arange(freq.size), "frequency": freq.ravel().astype(float),
                         "recency": rec.ravel().astype(float), "T": float(max_recency)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        z = _posterior_draws(model.purchase_model_.expected_probability_alive(data=grid)).mean(axis=0)
    fig = Figure(figsize=(6, 4.5), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(z.reshape(freq.shape), origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1,
                   interpolation="none")
    fig.colorbar(im, ax=ax, label="P(alive)")
    ax.set_xlabel("repeat purchases (frequency)")
    ax.set_ylabel(f"recency ({model.time_unit})")
    ax.set_title(f"P(alive) of customers aged T = {max_recency} {model.time_unit}")
    return fig
