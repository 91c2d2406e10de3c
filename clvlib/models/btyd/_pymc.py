"""Every use of pymc-marketing's internals, in one small module.

Tested against pymc-marketing 0.19.2 (``requirements.txt`` pins ``>=0.19,<0.20``), with
pymc 5.28. ``tests/models/test_btyd_pymc.py`` checks each assumption below against the
installed version, so an upgrade that breaks one fails there, by name, rather than as a
wrong number deep inside a fit. Re-run those tests before moving the pin.

What is assumed, and why no public API does it
----------------------------------------------
* **Likelihood weights** (:func:`add_weights`). pymc-marketing's CLV models have no
  customer weights. The BTYD model is built on the unique ``(frequency, recency, T)`` rows
  and ``pm.Potential("customer_weights", (n - 1) * loglik)`` is added, where ``loglik`` is
  the elementwise log-likelihood of the model's observed variable. That relies on the
  observed variable of ``BetaGeoModel`` / ``ParetoNBDModel`` being called
  ``"recency_frequency"`` (:data:`OBSERVED`, not documented) with one row per customer.
* **Attaching a fit result** (:func:`attach_idata`). A posterior computed outside
  ``model.fit`` (our MAP optimiser in :mod:`.fit`, a posterior computed on the weighted
  model and moved to a model of every customer, or point estimates loaded by
  ``BTYDModel.from_dict``) is given to a built model as ``fit`` would: assign ``idata``,
  then ``set_idata_attrs`` (public) and ``_add_fit_data_group`` (**private**; it writes
  the ``fit_data`` group that ``build_from_idata`` and so ``thin_fit_result`` read back).
* **Reading predictions** (:func:`posterior_draws`): ``expected_*`` methods return
  DataArrays with dims ``chain``, ``draw`` and one customer dim.
* **Lifetime value in calendar months** (:func:`lifetime_value`). pymc-marketing's
  ``customer_lifetime_value`` converts months with fixed factors (30 days, 4.345 weeks), so
  24 months would be 720 days, not two years. It is called with ``time_unit="M"`` on a
  stand-in model whose ``expected_purchases`` takes months and asks the fitted model for
  ``months * 365.25 / 12`` days (:data:`UNITS_PER_MONTH`). That relies on
  ``customer_lifetime_value`` using nothing of the model but ``expected_purchases(data=,
  future_t=)`` (true in 0.19.2, tested).
* **Column name** (:data:`PMM_CUSTOMER`): the CLV models require the id column to be
  called ``customer_id``. The rest of clvlib keys customers by
  :data:`clvlib.schemas.CUSTOMER`; :func:`to_pmm` renames, and it is the only place that
  does (public convention, kept here with the other pymc-marketing facts).

Public helpers used instead of internals
----------------------------------------
* Thinning a posterior for prediction (:func:`thinned`) uses the public
  ``CLVModel.thin_fit_result(keep_every)``; it used to be a ``copy.copy`` of the model with
  its ``idata`` replaced.

pymc, pytensor and pymc-marketing are imported inside the functions, so importing this
module is cheap and changes nothing globally.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "TESTED_VERSION",
    "PMM_CUSTOMER",
    "OBSERVED",
    "to_pmm",
    "purchase_model_class",
    "add_weights",
    "attach_idata",
    "thinned",
    "posterior_draws",
    "UNITS_PER_MONTH",
    "lifetime_value",
]

#: The pymc-marketing version these assumptions were last checked against.
TESTED_VERSION = "0.19.2"
#: The customer id column pymc-marketing's CLV models require.
PMM_CUSTOMER = "customer_id"
#: Name of the observed (frequency, recency) variable of BetaGeoModel and ParetoNBDModel.
OBSERVED = "recency_frequency"
#: Time units in an average calendar month (365.25 / 12 days): 24 months are 730.5 days.
UNITS_PER_MONTH = {"D": 365.25 / 12, "W": 365.25 / 12 / 7}


def to_pmm(rfm: pd.DataFrame, customer_col: str, columns: Sequence[str]) -> pd.DataFrame:
    """A copy of ``rfm[[customer_col, *columns]]`` with the id column named ``customer_id``.

    Parameters
    ----------
    rfm
        A per-customer table keyed by ``customer_col``. Not modified.
    customer_col
        Its customer id column.
    columns
        The other columns to keep, in this order.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id``, ``*columns``, same index as ``rfm``.
    """
    out = rfm[[customer_col, *columns]]
    return out.rename(columns={customer_col: PMM_CUSTOMER}) if customer_col != PMM_CUSTOMER else out.copy()


def purchase_model_class(purchase_model: str) -> type:
    """``BetaGeoModel`` for ``"bgnbd"``, ``ParetoNBDModel`` for ``"pnbd"``."""
    from pymc_marketing.clv import BetaGeoModel, ParetoNBDModel

    return {"bgnbd": BetaGeoModel, "pnbd": ParetoNBDModel}[purchase_model]


def add_weights(pmm_model: Any, counts: np.ndarray) -> None:
    """Turn a built purchase model's likelihood into ``sum(counts * loglik)``.

    Adds ``pm.Potential("customer_weights", (counts - 1) * loglik)``, with ``loglik`` the
    elementwise log-likelihood of the observed :data:`OBSERVED` variable: one term per row
    of the data the model was built on, which must be the unique rows whose customer
    counts are ``counts``.

    Parameters
    ----------
    pmm_model
        A ``BetaGeoModel`` or ``ParetoNBDModel`` after ``build_model``.
    counts
        Number of customers sharing each row, in the order of the model's data.
    """
    import pymc as pm
    import pytensor.tensor as pt

    model = pmm_model.model
    obs = model[OBSERVED]
    with model:
        loglik = model.logp(vars=[obs], sum=False)[0]
        pm.Potential("customer_weights", pt.as_tensor_variable(np.asarray(counts, dtype="float64") - 1.0) * loglik)


def attach_idata(pmm_model: Any, idata: Any) -> None:
    """Give a built pymc-marketing model a fit result, as its own ``fit`` would.

    Parameters
    ----------
    pmm_model
        A pymc-marketing CLV model after ``build_model``.
    idata
        ``arviz.InferenceData`` with at least a ``posterior`` group.
    """
    pmm_model.idata = idata
    pmm_model.set_idata_attrs(pmm_model.idata)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pmm_model._add_fit_data_group(pmm_model.data)


def thinned(pmm_model: Any, max_draws: int) -> Any:
    """The model itself if it has at most ``max_draws`` draws, else a copy thinned evenly.

    Keeps every ``ceil(n / max_draws)``-th draw of each chain (``n`` = chains x draws),
    with pymc-marketing's public ``thin_fit_result``; the model is not modified.
    """
    post = pmm_model.idata.posterior
    n = post.sizes["chain"] * post.sizes["draw"]
    if n <= max_draws:
        return pmm_model
    return pmm_model.thin_fit_result(keep_every=int(np.ceil(n / max_draws)))


def posterior_draws(xr_array: Any) -> np.ndarray:
    """(chain, draw, customer) DataArray -> (n_draws, n_customers) ndarray; MAP gives 1 draw."""
    arr = xr_array.transpose("chain", "draw", ...).values
    return arr.reshape(-1, arr.shape[-1])


class _InMonths:
    """A fitted purchase model seen through ``expected_purchases(data, future_t)`` with ``future_t`` in months."""

    def __init__(self, pmm_model: Any, units_per_month: float) -> None:
        self._model = pmm_model
        self._per_month = float(units_per_month)

    def expected_purchases(self, data: pd.DataFrame, future_t: float) -> Any:
        return self._model.expected_purchases(data=data, future_t=float(future_t) * self._per_month)


def lifetime_value(pmm_model: Any, data: pd.DataFrame, months: int, monthly_discount_rate: float,
                   time_unit: str) -> Any:
    """pymc-marketing's discounted ``customer_lifetime_value`` over ``months`` calendar months.

    Parameters
    ----------
    pmm_model
        A fitted ``BetaGeoModel`` / ``ParetoNBDModel`` whose data are in ``time_unit``.
    data
        ``customer_id``, ``frequency``, ``recency``, ``T`` and ``future_spend``.
    months
        Whole months; month ``m`` ends at ``m * UNITS_PER_MONTH[time_unit]`` time units.
    monthly_discount_rate
        Applied as ``(1 + rate) ** m`` to the purchases of month ``m``.
    time_unit
        ``"D"`` or ``"W"``.

    Returns
    -------
    xarray.DataArray
        (chain, draw, customer_id), as pymc-marketing returns it.
    """
    from pymc_marketing.clv.utils import customer_lifetime_value

    return customer_lifetime_value(_InMonths(pmm_model, UNITS_PER_MONTH[time_unit]), data, future_t=int(months),
                                   discount_rate=monthly_discount_rate, time_unit="M")
