"""Paired percentile bootstrap of the ranking metrics, on the kernel the point metrics use.

Customers are resampled with replacement as multinomial count vectors, and every
resample is evaluated by the same tie-aware weighted kernel as the point metrics of
:mod:`clvlib.evaluation.metrics` (:func:`~clvlib.evaluation.metrics._core_metrics`, the
counts being the case weights). All resamples of a batch are evaluated at once with
cumulative sums, so 55,000 customers x 5 models x 1,000 resamples take a few seconds
(``scripts/bench_metrics.py``). Every model is scored on the same resamples, so
differences from a baseline are paired.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from clvlib import progress
from clvlib.evaluation.metrics import (
    CORE_METRICS,
    _as_vector,
    _core_metrics,
    _ideal_gini,
    _ones,
    _rank_positives,
    _require_value,
    _validate_pair,
)

__all__ = ["bootstrap", "BOOTSTRAP_METRICS"]

#: Metrics reported by :func:`bootstrap`, in output order (the kernel's :data:`CORE_METRICS`).
BOOTSTRAP_METRICS: tuple[str, ...] = CORE_METRICS

#: Bytes of scratch memory per (resample x customer) cell in one bootstrap chunk
#: (int64 draws, int64 bincount, int32 counts, int32 gathered counts, int32 cumsum).
_BYTES_PER_CELL = 32
_DEFAULT_CHUNK_BYTES = 160 * 2**20


def _multinomial_counts(rng: np.random.Generator, n_rows: int, n: int) -> np.ndarray:
    """``n_rows`` bootstrap resamples of ``n`` customers as an (n_rows, n) int32 count matrix."""
    draws = rng.integers(0, n, size=(n_rows, n))
    draws += (np.arange(n_rows, dtype=np.int64) * n)[:, None]
    return np.bincount(draws.ravel(), minlength=n_rows * n).reshape(n_rows, n).astype(np.int32)


def bootstrap(
    y_true: ArrayLike,
    scores: Mapping[str, ArrayLike],
    n_boot: int = 1000,
    seed: int = 0,
    baseline: str | None = None,
    ci: float = 0.95,
    *,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Percentile bootstrap intervals of the ranking metrics, optionally paired against a baseline.

    Customers are resampled with replacement (``n_boot`` multinomial count vectors
    from ``numpy.random.default_rng(seed)``); every model is evaluated on the *same*
    resamples, so differences from ``baseline`` are paired. Metrics are
    :data:`BOOTSTRAP_METRICS`: normalized Gini, top-10% and top-1% value share, and
    ROC-AUC of "bought again" (``y_true > 0``), all tie-aware.

    Parameters
    ----------
    y_true
        Actual holdout value per customer (>= 0, with buyers and non-buyers).
    scores
        Model name -> score per customer (same order as ``y_true``).
    n_boot
        Number of resamples.
    seed
        Seed of the random generator; the same seed gives the same table.
    baseline
        Name in ``scores`` to compare every model against, or None.
    ci
        Coverage of the percentile interval (0.95 -> 2.5% and 97.5% quantiles).
    chunk_size
        Resamples evaluated per vectorised batch; by default chosen to keep scratch
        memory near 160 MB. It does not change the result.

    Returns
    -------
    pandas.DataFrame
        One row per (model, metric): ``model``, ``metric``, ``estimate`` (full
        sample), ``low``, ``high``; with a baseline also ``diff`` (estimate minus the
        baseline's), ``diff_low``, ``diff_high`` (paired percentile interval) and
        ``p_le_0`` (share of resamples where the model is not better than the
        baseline: a one-sided bootstrap p-value). The baseline's own diff columns are
        NaN. ``attrs`` records ``n_boot``, ``seed``, ``ci`` and ``baseline``.

    Notes
    -----
    Vectorised: each batch is a (B, n) count matrix; for each model the counts are
    gathered into score order once and cumulated along axis 1, and all metrics are
    read off the cumulative weight at the buyers' tie-group edges (see
    :func:`clvlib.evaluation.metrics._rank_metrics`). Counts are integers, so the
    cumulation is exact. A resample with no buyer or no non-buyer makes a metric
    undefined; such resamples are dropped from the quantiles with a ``RuntimeWarning``.

    References
    ----------
    .. [1] Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap.
       Chapman & Hall, ch. 13 (percentile intervals).
    .. [2] Hanley, J. A., & McNeil, B. J. (1982). The meaning and use of the area
       under a receiver operating characteristic (ROC) curve. Radiology, 143(1),
       29-36 (AUC as the Mann-Whitney statistic).
    .. [3] Wang, X., Liu, T., & Miao, J. (2019). A Deep Probabilistic Model for
       Customer Lifetime Value Prediction. arXiv:1912.07753 (normalized Gini).
    """
    y = _as_vector(y_true, "y_true")
    if not isinstance(scores, Mapping) or len(scores) == 0:
        raise ValueError("scores must be a non-empty dict of model name -> score array, e.g. {'bgnbd': s}.")
    arrays = {str(name): _validate_pair(y, s, f"scores[{name!r}]")[1] for name, s in scores.items()}
    if baseline is not None and baseline not in arrays:
        raise ValueError(f"baseline {baseline!r} is not a key of scores; choose one of {list(arrays)}.")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer >= 2, got {n_boot!r}; 1000 is usual.")
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci}; e.g. 0.95 for a 95% interval.")
    _require_value(y, "bootstrap")
    n_buyers = int((y > 0).sum())
    if n_buyers == y.size:
        raise ValueError("bootstrap: every customer has y_true > 0, so roc_auc is undefined; check the label.")

    n = y.size
    pos = np.flatnonzero(y > 0)
    y_pos = y[pos]
    ideal = _rank_positives(y, pos)
    rankings = {name: _rank_positives(s, pos) for name, s in arrays.items()}

    w1, w1_tot = _ones(n)
    estimate = {
        name: {k: float(v[0]) for k, v in _core_metrics(y_pos, pos, r, ideal, w1, w1_tot).items()}
        for name, r in rankings.items()
    }

    if chunk_size is None:
        chunk_size = max(1, _DEFAULT_CHUNK_BYTES // (_BYTES_PER_CELL * n))
    chunk_size = int(min(chunk_size, n_boot))
    rng = np.random.default_rng(seed)
    boot = {name: {m: np.empty(n_boot) for m in BOOTSTRAP_METRICS} for name in arrays}
    w_tot = None
    for start in range(0, n_boot, chunk_size):
        progress.step(f"bootstrap: {n_boot:,} resamples of {n:,} customers", start, n_boot)
        rows = min(chunk_size, n_boot - start)
        counts = _multinomial_counts(rng, rows, n)
        if w_tot is None or w_tot.size != rows:
            w_tot = np.full(rows, float(n))
        best = _ideal_gini(y_pos, pos, ideal, counts, w_tot)  # the same for every model
        sl = slice(start, start + rows)
        for name, ranking in rankings.items():
            core = _core_metrics(y_pos, pos, ranking, ideal, counts, w_tot, best=best)
            for metric in BOOTSTRAP_METRICS:
                boot[name][metric][sl] = core[metric]
        del counts

    q = [(1.0 - ci) / 2.0, 1.0 - (1.0 - ci) / 2.0]
    rows_out = []
    n_dropped = 0
    for name in arrays:
        for metric in BOOTSTRAP_METRICS:
            vals = boot[name][metric]
            ok = np.isfinite(vals)
            n_dropped = max(n_dropped, int((~ok).sum()))
            low, high = np.quantile(vals[ok], q) if ok.any() else (np.nan, np.nan)
            row: dict[str, Any] = {
                "model": name,
                "metric": metric,
                "estimate": estimate[name][metric],
                "low": float(low),
                "high": float(high),
            }
            if baseline is not None:
                if name == baseline:
                    row.update(diff=np.nan, diff_low=np.nan, diff_high=np.nan, p_le_0=np.nan)
                else:
                    d = vals - boot[baseline][metric]
                    d = d[np.isfinite(d)]
                    d_low, d_high = np.quantile(d, q) if d.size else (np.nan, np.nan)
                    row.update(
                        diff=estimate[name][metric] - estimate[baseline][metric],
                        diff_low=float(d_low),
                        diff_high=float(d_high),
                        p_le_0=float(np.mean(d <= 0)) if d.size else np.nan,
                    )
            rows_out.append(row)
    if n_dropped:
        warnings.warn(
            f"bootstrap: up to {n_dropped} of {n_boot} resamples had no buyer or no non-buyer and were "
            "dropped from the intervals; the holdout has too few buyers for a stable bootstrap.",
            RuntimeWarning,
            stacklevel=2,
        )
    out = pd.DataFrame(rows_out)
    out.attrs.update({"n_boot": int(n_boot), "seed": seed, "ci": ci, "baseline": baseline})
    return out
