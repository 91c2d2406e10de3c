"""The hybrid model stage: train on earlier snapshots, score the population at the cut, per feature set.

The two-part model (:class:`clvlib.ml.TwoPartModel`) is trained on stacked snapshots: for
each training cut (``windows["train_cuts"]``, monthly by default), features as of that cut and
the spend in the horizon after it, every label window ending on or before ``cut``. It is then
applied to features as of ``cut``. The holdout after ``cut`` is never read here: not for
fitting, tuning or choosing. Each snapshot's features, its BG/NBD input and its clickstream
mapping are built from data up to that snapshot's own cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from clvlib.models.btyd import BTYDModel
from clvlib.dates import on_or_before
from clvlib.features.links import build_mapping
from clvlib.models.scores import hybrid_column, p_buy_column, variant_name
from clvlib.models.two_part import TwoPartModel
from clvlib.features.temporal import feature_columns, holdout_labels, join_click_features, population_features

__all__ = ["Variant", "variants_for", "btyd_features", "design", "fit_score_variants"]


@dataclass(frozen=True)
class Variant:
    """One hybrid-model variant: a feature set and, for clickstream features, the mapping method."""

    feature_set: str
    method: str | None = None

    @property
    def name(self) -> str:
        return variant_name(self.feature_set, self.method)


def variants_for(has_key: bool, methods: tuple[str, ...] = ("rank", "random")) -> list[Variant]:
    """The feature-set comparison: RFM; RFM + Olist behaviour; plus clickstream through each link."""
    out = [Variant("rfm"), Variant("rfm+olist")]
    out += [Variant("rfm+olist+click", m) for m in methods]
    if has_key and "key" not in methods:
        out.append(Variant("rfm+olist+click", "key"))
    return out


def _labels(values: pd.Series) -> list[str]:
    """Category labels as plain strings, missing values as "unknown"."""
    return ["unknown" if pd.isna(v) else str(v) for v in values.astype(object)]


def btyd_features(features: pd.DataFrame, horizon_days: int, seed: int = 42) -> pd.DataFrame:
    """BG/NBD fitted on these features' RFM columns, its expected purchases as a feature for the hybrid model.

    The model is fitted on the same snapshot it describes, so it sees only data up to that
    snapshot's cut. Adds ``btyd_expected_purchases`` over ``horizon_days``. (Spend stays with
    the gradient boosting: early snapshots have too few repeat buyers for Gamma-Gamma.)
    """
    rfm = features[["customer_unique_id", "frequency", "recency", "T"]].rename(
        columns={"customer_unique_id": "customer_id"})
    pred = BTYDModel("bgnbd", method="map", random_seed=seed).fit(rfm).predict(rfm, horizon=horizon_days)
    out = features.copy()
    out["btyd_expected_purchases"] = pred["expected_purchases"].to_numpy()
    return out


def _designs(orders: pd.DataFrame, events: pd.DataFrame, cuts: list[pd.Timestamp], methods: set,
             key: pd.DataFrame | None, seed: int, horizons: dict) -> tuple[dict, dict]:
    """Base features per cut (with BTYD features), and per (cut, method) the linked users and mapping info."""
    base, click = {}, {}
    for cut in cuts:
        base[cut] = btyd_features(population_features(orders, cut), horizons[cut], seed=seed)
        for m in methods - {None}:
            mapping, _, users, info = build_mapping(orders, events, m, cut, seed=seed, key=key)
            click[cut, m] = (mapping, users, info)
    return base, click


def design(base: dict, click: dict, cut: pd.Timestamp, method: str | None) -> tuple[pd.DataFrame, dict]:
    """Features at ``cut``, with clickstream features through ``method`` when it is not None."""
    if method is None:
        return base[cut], {}
    mapping, users, info = click[cut, method]
    return join_click_features(base[cut], users, mapping), info


def fit_score_variants(
    orders: pd.DataFrame,
    events: pd.DataFrame,
    windows: dict,
    variants: list[Variant],
    key: pd.DataFrame | None = None,
    seed: int = 42,
    model_params: dict | None = None,
    progress=print,
) -> tuple[pd.DataFrame, dict]:
    """Train every variant on the earlier windows and score the population at ``windows['cut']``.

    The training set stacks one snapshot per training cut: features as of that cut, label =
    spend in the horizon after it (every label window ends on or before ``windows['cut']``).

    Parameters
    ----------
    orders, events
        Cleaned orders and clickstream events. Only rows dated on or before ``windows['cut']`` are used.
    windows
        Output of :func:`clvlib.temporal.window`.
    variants
        Feature sets to compare (see :func:`variants_for`).

    Returns
    -------
    scores : pandas.DataFrame
        ``customer_unique_id`` and, per variant, ``hybrid:<name>`` (expected spend in the horizon)
        and ``p_buy:<name>``.
    info : dict
        Per variant: training rows, buyers among them, feature names, mapping coverage at the cut.
    """
    cut = windows["cut"]
    orders = orders[on_or_before(orders["order_purchase_timestamp"], cut)]
    train_cuts = list(windows["train_cuts"])
    horizons = {tc: (end - tc).days for tc, end in zip(train_cuts, windows["label_ends"])}
    horizons[cut] = (windows["holdout_end"] - cut).days
    base, click = _designs(orders, events, train_cuts + [cut], {v.method for v in variants}, key, seed, horizons)
    labels = {tc: holdout_labels(orders, tc, end, base[tc]["customer_unique_id"])["holdout_spend"]
              for tc, end in zip(train_cuts, windows["label_ends"])}
    y = pd.concat([labels[tc] for tc in train_cuts], ignore_index=True).to_numpy()
    scores = base[cut][["customer_unique_id"]].copy()
    info: dict = {}
    for v in variants:
        train = pd.concat([design(base, click, tc, v.method)[0] for tc in train_cuts], ignore_index=True)
        score, map_info = design(base, click, cut, v.method)
        cols = feature_columns(train, v.feature_set)
        for col in cols:  # one category list for training and scoring
            if isinstance(score[col].dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(train[col]):
                tr, sc = _labels(train[col]), _labels(score[col])
                cats = sorted(set(tr) | set(sc))
                train[col] = pd.Categorical(tr, categories=cats)
                score[col] = pd.Categorical(sc, categories=cats)
        params = {"increasing": ("btyd_expected_purchases",), **(model_params or {})}
        model = TwoPartModel(random_state=seed, **params).fit(train[cols], y)
        scores[hybrid_column(v.name)] = model.predict(score[cols])
        scores[p_buy_column(v.name)] = model.predict_proba_buy(score[cols])
        buyers = int((y > 0).sum())
        info[v.name] = {"train_rows": len(train), "train_buyers": buyers, "features": cols, "mapping": map_info}
        progress(f"  hybrid {v.name}: trained on {len(train):,} person-snapshots ({buyers:,} bought), {len(cols)} features")
    return scores, info
