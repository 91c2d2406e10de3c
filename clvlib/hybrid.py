"""The hybrid model stage: train on an earlier window, score the main one, per feature set.

The two-part model (:class:`clvlib.ml.TwoPartModel`) is trained on features as of
``train_cut`` with labels from (``train_cut``, ``cut``], and applied to features as of
``cut``. The holdout after ``cut`` is never read here: not for fitting, tuning or choosing.
Clickstream features come through a mapping built separately for each window from data up
to that window's cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .mapping import build_mapping
from .ml import TwoPartModel
from .temporal import feature_columns, holdout_labels, population_features

__all__ = ["Variant", "variants_for", "design", "training_frame", "fit_score_variants"]


@dataclass(frozen=True)
class Variant:
    """One hybrid-model variant: a feature set and, for clickstream features, the mapping method."""

    feature_set: str
    method: str | None = None

    @property
    def name(self) -> str:
        return self.feature_set.replace("+click", f"+click[{self.method}]") if self.method else self.feature_set


def variants_for(has_key: bool, methods: tuple[str, ...] = ("rank", "random")) -> list[Variant]:
    """The feature-set comparison: RFM; RFM + Olist behaviour; plus clickstream through each link."""
    out = [Variant("rfm"), Variant("rfm+olist")]
    out += [Variant("rfm+olist+click", m) for m in methods]
    if has_key:
        out.append(Variant("rfm+olist+click", "key"))
    return out


def design(orders: pd.DataFrame, events: pd.DataFrame, cutoff: pd.Timestamp, method: str | None,
           key: pd.DataFrame | None = None, seed: int = 42) -> tuple[pd.DataFrame, dict]:
    """Features of the population at ``cutoff``, with clickstream features through ``method`` if given."""
    if method is None:
        return population_features(orders, cutoff), {}
    mapping, _, users, info = build_mapping(orders, events, method, cutoff, seed=seed, key=key)
    return population_features(orders, cutoff, click_users=users, mapping=mapping), info


def training_frame(orders: pd.DataFrame, events: pd.DataFrame, windows: dict, method: str | None,
                   key: pd.DataFrame | None = None, seed: int = 42) -> tuple[pd.DataFrame, pd.Series]:
    """Stack the training windows: features as of each training cut, labels from the window after it.

    Every label window ends on or before ``windows['cut']``, so nothing after the cut is read.
    """
    ends = [windows["cut"]] + list(windows["train_cuts"][:-1])
    frames, labels = [], []
    for tc, end in zip(windows["train_cuts"], ends):
        feats, _ = design(orders, events, tc, method, key=key, seed=seed)
        lab = holdout_labels(orders, tc, end, feats["customer_unique_id"])
        frames.append(feats.assign(window_end=str(end.date())))
        labels.append(lab["holdout_spend"])
    X = pd.concat(frames, ignore_index=True)
    for col in X.columns:
        if isinstance(frames[0][col].dtype, pd.CategoricalDtype):
            X[col] = X[col].astype(str).astype("category")
    return X, pd.concat(labels, ignore_index=True)


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
    orders = orders[orders["order_purchase_timestamp"] < cut + pd.Timedelta(days=1)]
    scores: pd.DataFrame | None = None
    info: dict = {}
    cache: dict = {}
    for v in variants:
        if v.method not in cache:
            train, y = training_frame(orders, events, windows, v.method, key=key, seed=seed)
            score, map_info = design(orders, events, cut, v.method, key=key, seed=seed)
            cache[v.method] = (train, y, score, map_info)
        train, y, score, map_info = cache[v.method]
        if scores is None:
            scores = score[["customer_unique_id"]].copy()
        score = scores[["customer_unique_id"]].merge(score, on="customer_unique_id", how="left")
        for col in train.columns:
            if isinstance(train[col].dtype, pd.CategoricalDtype):
                score[col] = pd.Categorical(score[col].astype(str), categories=train[col].cat.categories)
        cols = feature_columns(train, v.feature_set)
        model = TwoPartModel(random_state=seed, **(model_params or {})).fit(train[cols], y.to_numpy())
        scores[f"hybrid:{v.name}"] = model.predict(score[cols])
        scores[f"p_buy:{v.name}"] = model.predict_proba_buy(score[cols])
        buyers = int((y > 0).sum())
        info[v.name] = {"train_rows": len(train), "train_buyers": buyers, "features": cols, "mapping": map_info}
        progress(f"  hybrid {v.name}: trained on {len(train):,} person-windows ({buyers:,} bought), {len(cols)} features")
    return scores, info
