"""The buy-till-you-die baselines of stage 05, and the record of the model split it writes."""

from __future__ import annotations

import pandas as pd

from clvlib import progress
from clvlib.models.btyd import BTYDModel
from clvlib.models.scores import BTYD_MODELS
from clvlib.schemas import CUSTOMER

__all__ = ["fit_btyd_baselines", "model_meta"]


def fit_btyd_baselines(features: pd.DataFrame, windows: dict, fit_method: str = "map", seed: int = 42,
                       annual_discount_rate: float = 0.10, lifetime_months: int = 24,
                       models: tuple[str, ...] = tuple(BTYD_MODELS), lifetime: bool = True,
                       ) -> tuple[dict[str, BTYDModel], dict[str, pd.DataFrame], pd.DataFrame]:
    """Fit every BTYD purchase model (x Gamma-Gamma) on the features at the cut and predict the horizon.

    Parameters
    ----------
    features
        One row per person at the cut-off with ``customer_unique_id``, ``frequency``, ``recency``,
        ``T`` (days) and ``monetary_value``.
    windows
        The split (:func:`clvlib.features.temporal.window`): the horizon is ``holdout_end - cut`` in days.
    models
        The purchase models to fit (keys of :data:`clvlib.models.scores.BTYD_MODELS`).
    lifetime
        Whether the predictions carry ``clv_lifetime`` (:meth:`BTYDModel.predict`).

    Returns
    -------
    fitted, predictions, params
        Model per purchase model, its predictions per customer, and every parameter estimate with a
        ``fit`` column naming the model.
    """
    rfm = features[[CUSTOMER, "frequency", "recency", "T", "monetary_value"]]
    horizon_days = (windows["holdout_end"] - windows["cut"]).days
    fitted, predictions = {}, {}
    progress.note_compile_cache()
    unknown = [m for m in models if m not in BTYD_MODELS]
    if unknown or not models:
        raise ValueError(f"models must be among {list(BTYD_MODELS)}, got {list(models)}.")
    for name in models:
        progress.step(f"BTYD: fitting {name} x Gamma-Gamma by {fit_method.upper()}", list(models).index(name), len(models))
        model = BTYDModel(purchase_model=name, method=fit_method, random_seed=seed,
                          discount_rate_annual=annual_discount_rate, clv_months=lifetime_months).fit(rfm)
        fitted[name] = model
        predictions[name] = model.predict(rfm, horizon=horizon_days, lifetime=lifetime)
    params = pd.concat([m.params_.assign(fit=n) for n, m in fitted.items()])
    return fitted, predictions, params


def model_meta(windows: dict, primary: str, fit_method: str, fitted: dict[str, BTYDModel], hybrid_info: dict) -> dict:
    """``clv_model_params.json``: the split, the primary hybrid, the fitted BTYD models, the hybrid variants."""
    return {"cutoff": str(windows["cut"].date()), "holdout_end": str(windows["holdout_end"].date()),
            "horizon_days": (windows["holdout_end"] - windows["cut"]).days,
            "train_cuts": [str(t.date()) for t in windows["train_cuts"]], "primary_hybrid": primary,
            "fit_method": fit_method, "btyd": {n: m.to_dict() for n, m in fitted.items()}, "hybrid": hybrid_info}
