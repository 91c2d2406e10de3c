"""Model identities, defined once: each model's score column, its display label, and which is primary.

Every table of scores (``clv_scores.parquet``) has one column per model. The column names are built
and read only through this module:

- ``calibration_spend``: the simple rule (rank by spend so far);
- ``btyd:<purchase model>``: a buy-till-you-die model x Gamma-Gamma (``btyd:bgnbd``, ``btyd:pnbd``);
- ``btyd:bgnbd+first``: BG/NBD's expected purchases x Gamma-Gamma fitted on every purchase, the first
  included, so a one-time buyer's spend follows their first order (:mod:`clvlib.models.btyd.spend`);
- ``btyd:bgnbd+cov``: BG/NBD with static covariates (region, first order's category) x that same spend
  (:mod:`clvlib.models.btyd.covariates`);
- ``hybrid:<variant>``: the two-part gradient-boosting model with a feature set, e.g.
  ``hybrid:rfm+details+click[key]``; its P(buys again) is ``p_buy:<variant>``;
- ``truth``: the demo's hidden true expected value (evaluation only).
"""

from __future__ import annotations

__all__ = [
    "SIMPLE_RULE",
    "BASELINE",
    "TRUTH",
    "BTYD_MODELS",
    "ALL_ORDERS_SPEND",
    "FIRST_ORDER",
    "COVARIATE_BTYD",
    "btyd_column",
    "hybrid_column",
    "p_buy_column",
    "variant_name",
    "click_variant",
    "is_hybrid",
    "hybrid_variant",
    "model_label",
    "primary_hybrid",
    "OBSERVABLE",
    "CEILINGS",
]

SIMPLE_RULE = "calibration_spend"
TRUTH = "truth"
#: The demo's second ceiling: the best prediction from observable data alone, under the demo's own model.
OBSERVABLE = "observable"
#: Score columns that are ceilings of the demo, not models: never recommended, never forecasts.
CEILINGS = (TRUTH, OBSERVABLE)
#: The buy-till-you-die purchase models fitted by stage 05, with their display names.
BTYD_MODELS = {"bgnbd": "BG/NBD x Gamma-Gamma", "pnbd": "Pareto/NBD x Gamma-Gamma"}
#: BTYD scores whose spend is Gamma-Gamma on every purchase, the first included
#: (:class:`clvlib.models.btyd.spend.AllOrdersSpend`): name -> (purchase model, display name).
ALL_ORDERS_SPEND = {"bgnbd+first": ("bgnbd", "BG/NBD x Gamma-Gamma with the first order")}
#: BG/NBD with the all-orders spend: one-time buyers' spend follows their first order.
FIRST_ORDER = "bgnbd+first"
#: BTYD scores whose purchase model has static covariates (:mod:`clvlib.models.btyd.covariates`):
#: name -> (the score whose expected spend it uses, display name).
COVARIATE_BTYD = {"bgnbd+cov": (FIRST_ORDER, "BG/NBD with covariates x Gamma-Gamma with the first order")}


def btyd_column(name: str) -> str:
    """Score column of a BTYD model (``"bgnbd"`` -> ``"btyd:bgnbd"``, ``"bgnbd+first"`` -> ``"btyd:bgnbd+first"``)."""
    if name not in BTYD_MODELS and name not in ALL_ORDERS_SPEND and name not in COVARIATE_BTYD:
        raise ValueError(f"BTYD model must be one of {[*BTYD_MODELS, *ALL_ORDERS_SPEND, *COVARIATE_BTYD]}, got {name!r}.")
    return f"btyd:{name}"


#: The reference every model is compared with.
BASELINE = btyd_column("bgnbd")


def variant_name(feature_set: str, link: str | None = None) -> str:
    """Name of a hybrid variant: the feature set, with the clickstream link in brackets when there is one."""
    return feature_set.replace("+click", f"+click[{link}]") if link else feature_set


def click_variant(link: str) -> str:
    """The variant with order details and clickstream features through ``link``."""
    return variant_name("rfm+details+click", link)


def hybrid_column(variant: str) -> str:
    """Score column (expected spend) of a hybrid variant."""
    return f"hybrid:{variant}"


def p_buy_column(variant: str) -> str:
    """P(buys again) column of a hybrid variant."""
    return f"p_buy:{variant}"


def is_hybrid(column: str) -> bool:
    """True for a hybrid model's score column."""
    return column.startswith("hybrid:")


def hybrid_variant(column: str) -> str:
    """The variant of a hybrid score column (``"hybrid:rfm+details"`` -> ``"rfm+details"``)."""
    if not is_hybrid(column):
        raise ValueError(f"{column!r} is not a hybrid score column (they start with 'hybrid:').")
    return column.split(":", 1)[1]


_LABELS = {SIMPLE_RULE: "Calibration spend (simple rule)", TRUTH: "Expected value given the hidden traits (ceiling)",
           OBSERVABLE: "Best prediction from observable data (ceiling)",
           **{btyd_column(k): v for k, v in BTYD_MODELS.items()},
           **{btyd_column(k): label for k, (_, label) in ALL_ORDERS_SPEND.items()},
           **{btyd_column(k): label for k, (_, label) in COVARIATE_BTYD.items()}}


def model_label(column: str) -> str:
    """Human-readable name of a score column (``hybrid:rfm+details`` -> ``Hybrid GBM: rfm+details``)."""
    if column in _LABELS:
        return _LABELS[column]
    if is_hybrid(column):
        return "Hybrid GBM: " + hybrid_variant(column)
    return column


def primary_hybrid(has_key: bool, available=None) -> str:
    """The hybrid variant reported as *the* hybrid prediction, chosen before any evaluation.

    With a real key between customers and clickstream users, the variant that uses it;
    otherwise RFM + order details. A synthetic link is never the default. Given the score
    columns ``available``, a variant that was not fitted (``rfm+details`` on data without per-order
    behaviour columns is the same model as ``rfm``, so it is skipped) falls back to RFM.

    Examples
    --------
    >>> primary_hybrid(False, available=["hybrid:rfm"])
    'hybrid:rfm'
    """
    preferred = hybrid_column(click_variant("key") if has_key else "rfm+details")
    if available is None or preferred in available:
        return preferred
    return hybrid_column("rfm+details") if hybrid_column("rfm+details") in available else hybrid_column("rfm")
