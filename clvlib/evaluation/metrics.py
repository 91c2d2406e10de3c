"""Holdout evaluation of customer-value scores: Lorenz/Gini, top shares, deciles, AUCs.

The label is each customer's spend in a holdout window. It is zero for almost everyone
(about 98.8% on our data) and heavy-tailed for the rest, so the module leans on
*ranking* metrics (normalized Gini, share of value captured by the top x% of scores,
ROC/PR-AUC for "bought again") plus a calibration table by prediction decile.

Ties in a score are common (a model that predicts 0 for most customers; a rounded
score). Every ranking metric here treats a tie group as the expectation over a random
ordering of the tied customers: the Lorenz curve is a straight line across each tie
group, a tie group that straddles a top-x% cut contributes pro rata, and a tied
(buyer, non-buyer) pair counts one half in the AUC. The result therefore never depends
on the row order of the input.

One implementation serves both the point estimates and the bootstrap
(:mod:`clvlib.evaluation.bootstrap`): the private kernel :func:`_rank_metrics` takes a
matrix of non-negative case weights (one row per resample) and the public functions
here are its all-ones case; :func:`_core_metrics` turns it into the
:data:`CORE_METRICS` that :func:`evaluate` reports and the bootstrap resamples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score

__all__ = [
    "lorenz_curve",
    "gini",
    "normalized_gini",
    "top_share",
    "decile_table",
    "classification_scores",
    "evaluate",
    "CORE_METRICS",
]

#: The ranking metrics computed by the shared weighted kernel (:func:`_core_metrics`), in
#: output order: :func:`evaluate` reports them and the bootstrap resamples them.
CORE_METRICS: tuple[str, ...] = ("normalized_gini", "top10_share", "top1_share", "roc_auc")

_TOP_FRACS: dict[str, float] = {"top10_share": 0.10, "top1_share": 0.01}


# --------------------------------------------------------------------------- validation


def _as_vector(values: ArrayLike, name: str) -> np.ndarray:
    """Return ``values`` as a finite 1-d float64 array or raise a ``ValueError`` naming ``name``."""
    if hasattr(values, "to_numpy"):  # pandas: turn pd.NA into NaN instead of failing
        try:
            arr = values.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric; convert it with pd.to_numeric first.") from exc
    else:
        try:
            arr = np.asarray(values, dtype="float64")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric; convert it with pd.to_numeric first.") from exc
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-d (one value per customer), got shape {arr.shape}; "
            "pass a column, e.g. df['col'] or arr.ravel()."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty; evaluation needs at least one customer.")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(
            f"{name} has {int(bad.sum())} NaN/infinite value(s) (first at position "
            f"{int(np.flatnonzero(bad)[0])}); fill them (e.g. 0 for no prediction) or drop those customers."
        )
    return arr


def _validate_pair(
    y_true: ArrayLike, y_score: ArrayLike, score_name: str = "y_score"
) -> tuple[np.ndarray, np.ndarray]:
    """Validate the holdout label and one per-customer score of the same length."""
    y = _as_vector(y_true, "y_true")
    s = _as_vector(y_score, score_name)
    if y.shape != s.shape:
        raise ValueError(
            f"y_true has {y.size} customers but {score_name} has {s.size}; "
            "align both on the same customer index before evaluating."
        )
    if (y < 0).any():
        raise ValueError(
            f"y_true has {int((y < 0).sum())} negative value(s) (min {y.min():g}); holdout value must "
            "be >= 0: clip net refunds at 0 or drop those customers."
        )
    return y, s


def _require_value(y: np.ndarray, what: str) -> None:
    if not y.sum() > 0:
        raise ValueError(
            f"{what}: y_true sums to 0 (nobody spent in the holdout), so shares of value are undefined; "
            "check the holdout window and the join of the label."
        )


def _check_frac(frac: float) -> float:
    frac = float(frac)
    if not 0.0 < frac <= 1.0:
        raise ValueError(f"frac must be in (0, 1], got {frac}; e.g. 0.1 for the top 10% of customers.")
    return frac


# --------------------------------------------------------------------------- the weighted kernel


@dataclass(frozen=True)
class _Ranking:
    """Where each positive-value customer sits in one descending ordering, tie-aware.

    Only customers with ``y > 0`` carry value, so every ranking metric here needs,
    for each of them, how much weight is ranked strictly above its tie group and how
    much up to the end of it. Positions are counts in the descending (stable) order.
    """

    order: np.ndarray  # (n,) all customers, score descending (stable)
    lo: np.ndarray  # (P,) customers with a strictly higher score
    hi: np.ndarray  # (P,) customers with a score >= own
    pos_order: np.ndarray  # (P,) positives, score descending (stable), as indices into pos
    lo_pos: np.ndarray  # (P,) positives with a strictly higher score
    hi_pos: np.ndarray  # (P,) positives with a score >= own


def _rank_positives(score: np.ndarray, pos: np.ndarray) -> _Ranking:
    """Precompute the tie-group positions of the customers ``pos`` under ``score``."""
    neg = -score
    order = np.argsort(neg, kind="stable")
    neg_sorted = neg[order]
    neg_pos = neg[pos]
    lo = np.searchsorted(neg_sorted, neg_pos, side="left")
    hi = np.searchsorted(neg_sorted, neg_pos, side="right")
    pos_order = np.argsort(neg_pos, kind="stable")
    neg_pos_sorted = neg_pos[pos_order]
    lo_pos = np.searchsorted(neg_pos_sorted, neg_pos, side="left")
    hi_pos = np.searchsorted(neg_pos_sorted, neg_pos, side="right")
    return _Ranking(order, lo, hi, pos_order, lo_pos, hi_pos)


def _padded_cumsum(a: np.ndarray) -> np.ndarray:
    """Cumulative sum along axis 1 with a leading zero column: ``out[:, k] = a[:, :k].sum(1)``."""
    dtype = a.dtype if np.issubdtype(a.dtype, np.integer) else np.float64
    out = np.zeros((a.shape[0], a.shape[1] + 1), dtype=dtype)
    np.cumsum(a, axis=1, dtype=dtype, out=out[:, 1:])
    return out


def _rank_metrics(
    y_pos: np.ndarray,
    pos: np.ndarray,
    ranking: _Ranking,
    weights: np.ndarray,
    w_total: np.ndarray,
    fracs: tuple[float, ...] = (),
    auc: bool = True,
) -> dict[Any, np.ndarray]:
    """Weighted, tie-aware Gini, top-share and ROC-AUC for every row of ``weights`` at once.

    Parameters
    ----------
    y_pos
        Values of the positive-value customers, shape (P,).
    pos
        Their indices among all n customers.
    ranking
        Output of :func:`_rank_positives` for the score being evaluated.
    weights
        Non-negative case weights, shape (B, n): one row per resample (bootstrap
        counts), or a single row of ones for the point estimate. Integer weights
        are accumulated exactly in their own integer type.
    w_total
        ``weights.sum(axis=1)``, shape (B,).
    fracs
        Top fractions for which to return the captured share of value.
    auc
        Whether to compute the ROC-AUC of "y > 0" against the score.

    Returns
    -------
    dict
        ``"gini"``, optionally ``"roc_auc"``, and one entry per ``frac`` (keyed by the
        float), each of shape (B,). Rows with no value (or, for the AUC, without both
        classes) are NaN.

    Notes
    -----
    Let ``C_lo`` and ``C_hi`` be the weight ranked strictly above customer i's tie
    group and up to its end. Under random tie-breaking, i's value enters the Lorenz
    curve linearly between ``x = C_lo/W`` and ``C_hi/W``, so its area contribution is
    ``(w_i y_i / V) (1 - (C_lo + C_hi) / (2W))``. Summing gives exactly the trapezoid
    rule over tie-group boundaries::

        gini = 2 * area - 1 = 1 - sum_i w_i y_i (C_lo,i + C_hi,i) / (V W)

    The same mid-rank argument on the non-buyers gives the Mann-Whitney AUC with
    ties counted one half. Only the cumulative weight at the positives' tie-group
    edges is needed, so the full (B, n) work is one gather and one cumulative sum,
    truncated at the lowest-ranked positive.
    """
    depth = int(ranking.hi.max()) if ranking.hi.size else 0
    cum = _padded_cumsum(np.take(weights, ranking.order[:depth], axis=1))
    c_lo = cum[:, ranking.lo].astype(np.float64)
    c_hi = cum[:, ranking.hi].astype(np.float64)
    del cum
    w_pos = weights[:, pos].astype(np.float64)
    wy = w_pos * y_pos
    value = wy.sum(axis=1)
    w_tot = np.asarray(w_total, dtype=np.float64)
    out: dict[Any, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        # positions are scaled by W before summing so a constant score gives exactly 0
        out["gini"] = 1.0 - (wy * ((c_lo + c_hi) / w_tot[:, None])).sum(axis=1) / value
        width = c_hi - c_lo  # > 0 wherever the customer's own weight is > 0
        for frac in fracs:
            cut = frac * w_tot[:, None]
            inside = np.divide(cut - c_lo, width, out=np.zeros_like(width), where=width > 0)
            out[frac] = (wy * np.clip(inside, 0.0, 1.0)).sum(axis=1) / value
        if auc:
            cum_pos = _padded_cumsum(w_pos[:, ranking.pos_order])
            w_buyers = cum_pos[:, -1]
            w_non = w_tot - w_buyers
            neg_mid = 0.5 * (c_lo - cum_pos[:, ranking.lo_pos] + c_hi - cum_pos[:, ranking.hi_pos])
            out["roc_auc"] = (w_pos * (w_non[:, None] - neg_mid)).sum(axis=1) / (w_buyers * w_non)
    for key, val in out.items():
        bad = value <= 0
        if key == "roc_auc":
            bad = bad | ~(w_non > 0)
        out[key] = np.where(bad, np.nan, val)
    return out


def _ideal_gini(
    y_pos: np.ndarray, pos: np.ndarray, ideal: _Ranking, weights: np.ndarray, w_total: np.ndarray
) -> np.ndarray:
    """Gini of the perfect ranking (by ``y`` itself) for every row of ``weights``, shape (B,)."""
    return _rank_metrics(y_pos, pos, ideal, weights, w_total, auc=False)["gini"]


def _core_metrics(
    y_pos: np.ndarray,
    pos: np.ndarray,
    ranking: _Ranking,
    ideal: _Ranking,
    weights: np.ndarray,
    w_total: np.ndarray,
    best: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The :data:`CORE_METRICS` for every row of ``weights`` (shared by evaluate and the bootstrap).

    ``best`` is :func:`_ideal_gini` for the same weights; it does not depend on the model,
    so a caller evaluating several models on the same weights computes it once and passes
    it in. Omitted, it is computed here.
    """
    model = _rank_metrics(y_pos, pos, ranking, weights, w_total, fracs=tuple(_TOP_FRACS.values()))
    if best is None:
        best = _ideal_gini(y_pos, pos, ideal, weights, w_total)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(best > 0, model["gini"] / best, np.nan)
    res = {"normalized_gini": norm}
    res.update({name: model[frac] for name, frac in _TOP_FRACS.items()})
    res["roc_auc"] = model["roc_auc"]
    return res


def _ones(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.ones((1, n), dtype=np.int32), np.array([float(n)])


def _point(y: np.ndarray, s: np.ndarray, fracs: tuple[float, ...] = ()) -> dict[Any, float]:
    pos = np.flatnonzero(y > 0)
    w, w_tot = _ones(y.size)
    res = _rank_metrics(y[pos], pos, _rank_positives(s, pos), w, w_tot, fracs=fracs, auc=False)
    return {k: float(v[0]) for k, v in res.items()}


# --------------------------------------------------------------------------- public point metrics


def lorenz_curve(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative share of value against cumulative share of customers, ranked by score.

    Customers are ordered by ``y_score`` descending. Tied scores are treated as the
    expectation over a random ordering of the tied customers, which makes the curve a
    straight line across each tie group; only tie-group boundaries are returned.

    Parameters
    ----------
    y_true
        Actual holdout value per customer (>= 0, not all zero).
    y_score
        Any score where higher means "more valuable"; only its order is used.

    Returns
    -------
    x, y : numpy.ndarray
        Points of the curve, starting at ``(0, 0)`` and ending at ``(1, 1)``; ``x`` is
        the share of customers, ``y`` the share of total actual value they hold.

    Examples
    --------
    >>> x, y = lorenz_curve([0, 0, 10, 30], [0.1, 0.3, 0.2, 0.4])
    >>> x.tolist(), y.tolist()
    ([0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 0.75, 0.75, 1.0, 1.0])
    """
    y, s = _validate_pair(y_true, y_score)
    _require_value(y, "lorenz_curve")
    order = np.argsort(-s, kind="stable")
    s_sorted = s[order]
    ends = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True]) + 1
    cum_value = np.cumsum(y[order])
    x = np.r_[0, ends] / y.size
    share = np.r_[0.0, cum_value[ends - 1]] / cum_value[-1]
    return x.astype(np.float64), share


def gini(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Gini coefficient of the score's Lorenz curve: ``2 * area - 1``.

    The area is the trapezoid rule over the tie-group boundaries of
    :func:`lorenz_curve`, so ties count as the average over their orderings and a
    constant score gives exactly 0.

    Parameters
    ----------
    y_true
        Actual holdout value per customer (>= 0, not all zero).
    y_score
        Score, higher = more valuable.

    Returns
    -------
    float
        In ``[-1, 1)``. ``gini(y, -s) == -gini(y, s)`` holds exactly.

    Notes
    -----
    The ZILN reference code (``google/lifetime_value``, ``gini_from_gain``) computes
    ``2 * mean(cumulative share) - 1``, a right-endpoint sum over an untied sort.
    For untied scores that equals this value plus ``1/n``; the difference vanishes
    in the normalized Gini for large ``n`` but matters on hand-sized examples.
    """
    y, s = _validate_pair(y_true, y_score)
    _require_value(y, "gini")
    return _point(y, s)["gini"]


def normalized_gini(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Model Gini divided by the Gini of a perfect ranking, as in the ZILN paper.

    Parameters
    ----------
    y_true
        Actual holdout value per customer (>= 0, not all zero, not all equal).
    y_score
        Score, higher = more valuable.

    Returns
    -------
    float
        1 for a ranking that orders customers by actual value, 0 for a constant score,
        and -1 for the reversed ranking (exactly, because the tie-aware trapezoid
        Gini is antisymmetric; the untied right-endpoint sum of the reference code
        only approaches -1 as ``n`` grows).

    References
    ----------
    .. [1] Wang, X., Liu, T., & Miao, J. (2019). A Deep Probabilistic Model for
       Customer Lifetime Value Prediction. arXiv:1912.07753, section on evaluation
       metrics: "normalized model Gini = model Gini / true Gini".
    """
    y, s = _validate_pair(y_true, y_score)
    _require_value(y, "normalized_gini")
    best = _point(y, y)["gini"]
    if not best > 0:
        raise ValueError(
            "normalized_gini: every customer has the same y_true, so no ranking can beat another "
            "(true Gini is 0); use a holdout where values differ."
        )
    return _point(y, s)["gini"] / best


def top_share(y_true: ArrayLike, y_score: ArrayLike, frac: float) -> float:
    """Share of total actual value held by the top ``frac`` of customers by score.

    Tie-aware: a tie group straddling the cut contributes pro rata, i.e. the expected
    share under a random ordering of the tied customers.

    Parameters
    ----------
    y_true
        Actual holdout value per customer (>= 0, not all zero).
    y_score
        Score, higher = more valuable.
    frac
        Fraction of customers in the top group, in ``(0, 1]`` (0.1 = top 10%). The
        cut is at ``frac * n`` customers, which need not be a whole number.

    Returns
    -------
    float
        In ``[0, 1]``.
    """
    y, s = _validate_pair(y_true, y_score)
    frac = _check_frac(frac)
    _require_value(y, "top_share")
    return _point(y, s, fracs=(frac,))[frac]


def decile_table(y_true: ArrayLike, y_pred: ArrayLike, n_bins: int = 10) -> pd.DataFrame:
    """Calibration by prediction bucket: mean predicted vs mean actual value.

    Customers are split into ``n_bins`` equal-size buckets by the *rank* of
    ``y_pred`` (descending; bucket 1 = highest predictions). The rank is taken after a
    stable sort, like ``rank(method='first')``: customers with the same prediction
    are split arbitrarily but deterministically (by their input order) so that heavy
    ties, e.g. 80% of customers predicted 0, still give equal-size buckets, where
    quantile edges (``pd.qcut`` on the values) would collapse.

    Parameters
    ----------
    y_true
        Actual holdout value per customer (>= 0, not all zero).
    y_pred
        Predicted value in currency (the same unit as ``y_true``).
    n_bins
        Number of buckets (10 = deciles). Bucket sizes differ by at most one when the
        number of customers is not a multiple of ``n_bins``.

    Returns
    -------
    pandas.DataFrame
        One row per bucket with columns ``bin``, ``n``, ``mean_predicted``,
        ``mean_actual``, ``sum_predicted``, ``sum_actual`` and
        ``error_vs_overall_mean = (mean_predicted - mean_actual) / mean(y_true)``.

    Notes
    -----
    The ZILN paper reports a per-decile MAPE, ``|mean_predicted - mean_actual| /
    mean_actual``. With ~99% zeros most buckets have a mean actual of exactly 0 (or
    a handful of buyers), so that ratio is infinite or explodes from noise. Scaling
    every bucket's error by the same overall mean keeps the errors finite and
    comparable across buckets, and they still sum (weighted by ``n``) to the
    overall relative bias of the total.

    References
    ----------
    .. [1] Wang, X., Liu, T., & Miao, J. (2019). A Deep Probabilistic Model for
       Customer Lifetime Value Prediction. arXiv:1912.07753 (decile charts for
       model calibration).
    """
    y, p = _validate_pair(y_true, y_pred, "y_pred")
    if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}; e.g. 10 for deciles.")
    n = y.size
    if n < n_bins:
        raise ValueError(f"decile_table: {n} customers cannot fill n_bins={n_bins} buckets; lower n_bins.")
    _require_value(y, "decile_table")
    order = np.argsort(-p, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    bucket = rank * n_bins // n
    count = np.bincount(bucket, minlength=n_bins)
    sum_pred = np.bincount(bucket, weights=p, minlength=n_bins)
    sum_act = np.bincount(bucket, weights=y, minlength=n_bins)
    mean_pred = sum_pred / count
    mean_act = sum_act / count
    return pd.DataFrame(
        {
            "bin": np.arange(1, n_bins + 1, dtype=np.int64),
            "n": count.astype(np.int64),
            "mean_predicted": mean_pred,
            "mean_actual": mean_act,
            "sum_predicted": sum_pred,
            "sum_actual": sum_act,
            "error_vs_overall_mean": (mean_pred - mean_act) / y.mean(),
        }
    )


def classification_scores(bought_again: ArrayLike, y_score: ArrayLike) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision) and base rate of a binary "bought again" label.

    Parameters
    ----------
    bought_again
        Boolean (or 0/1) per customer: did they buy in the holdout.
    y_score
        Score, higher = more likely / more valuable.

    Returns
    -------
    dict
        ``roc_auc`` (scikit-learn ``roc_auc_score``; ties count one half),
        ``pr_auc`` (``average_precision_score``; compare it with the base rate,
        not with 0.5) and ``base_rate`` (share of buyers).
    """
    label = _as_vector(bought_again, "bought_again")
    s = _as_vector(y_score, "y_score")
    if label.shape != s.shape:
        raise ValueError(
            f"bought_again has {label.size} customers but y_score has {s.size}; "
            "align both on the same customer index."
        )
    if not np.isin(label, (0.0, 1.0)).all():
        raise ValueError("bought_again must be boolean or 0/1; build it as y_true > 0.")
    n_buyers = int(label.sum())
    if n_buyers in (0, label.size):
        raise ValueError(
            f"bought_again has only one class ({n_buyers} buyers of {label.size}); AUCs need both "
            "buyers and non-buyers in the holdout."
        )
    label = label.astype(bool)
    return {
        "roc_auc": float(roc_auc_score(label, s)),
        "pr_auc": float(average_precision_score(label, s)),
        "base_rate": n_buyers / label.size,
    }


def _spearman(y: np.ndarray, s: np.ndarray) -> float:
    if np.all(s == s[0]) or np.all(y == y[0]):
        return float("nan")  # undefined for a constant input; avoid scipy's warning
    return float(stats.spearmanr(y, s).statistic)


def evaluate(y_true: ArrayLike, y_score: ArrayLike, y_pred: ArrayLike | None = None) -> dict[str, float]:
    """All holdout metrics of one model in a flat dict.

    Parameters
    ----------
    y_true
        Actual holdout value per customer (>= 0, with some buyers and some non-buyers).
    y_score
        The model's ranking score (higher = more valuable).
    y_pred
        Optional prediction in currency; adds ``total_predicted``, ``total_actual``
        and ``ratio = total_predicted / total_actual``.

    Returns
    -------
    dict
        ``normalized_gini``, ``spearman``, ``top10_share``, ``top1_share``,
        ``roc_auc`` and ``pr_auc`` (for ``y_true > 0``), plus the totals above.
        The :data:`CORE_METRICS` come from the same kernel as the ``estimate`` column of
        :func:`clvlib.evaluation.bootstrap.bootstrap`, so they match it exactly;
        ``roc_auc`` also equals scikit-learn's to rounding error.

    References
    ----------
    .. [1] Wang, X., Liu, T., & Miao, J. (2019). A Deep Probabilistic Model for
       Customer Lifetime Value Prediction. arXiv:1912.07753.
    """
    y, s = _validate_pair(y_true, y_score)
    _require_value(y, "evaluate")
    cls = classification_scores(y > 0, s)  # also checks that both classes are present
    pos = np.flatnonzero(y > 0)
    w, w_tot = _ones(y.size)
    core = _core_metrics(y[pos], pos, _rank_positives(s, pos), _rank_positives(y, pos), w, w_tot)
    res = {"normalized_gini": float(core["normalized_gini"][0]), "spearman": _spearman(y, s)}
    res.update({k: float(core[k][0]) for k in ("top10_share", "top1_share", "roc_auc")})
    res["pr_auc"] = cls["pr_auc"]
    if y_pred is not None:
        _, p = _validate_pair(y, y_pred, "y_pred")
        res["total_predicted"] = float(p.sum())
        res["total_actual"] = float(y.sum())
        res["ratio"] = res["total_predicted"] / res["total_actual"]
    return res
