"""The evaluation stage's tables: metrics per model, placebo comparison, ceiling, and the metrics record."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from clvlib.evaluation.metrics import evaluate
from clvlib.models.scores import BASELINE, CEILINGS, OBSERVABLE, SIMPLE_RULE, TRUTH, click_variant, hybrid_column, model_label

__all__ = [
    "BASELINE",
    "model_label",
    "metrics_table",
    "placebo_table",
    "ceiling_gini",
    "ceiling_shares",
    "metrics_record",
    "top_predicted_revenue",
]


def metrics_table(y_true: np.ndarray, scores: pd.DataFrame, boot: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per model: point metrics, and the bootstrap interval of the normalized Gini when given."""
    rows = []
    for col in scores.columns:
        m = evaluate(y_true, scores[col].to_numpy(), y_pred=scores[col].to_numpy() if col not in CEILINGS else None)
        row = {"model": col, "name": model_label(col), **m}
        if boot is not None:
            b = boot[(boot["model"] == col) & (boot["metric"] == "normalized_gini")]
            if len(b):
                row.update(gini_low=float(b["low"].iloc[0]), gini_high=float(b["high"].iloc[0]))
                if "diff" in b.columns:
                    row.update(diff_vs_bgnbd=float(b["diff"].iloc[0]), diff_low=float(b["diff_low"].iloc[0]),
                               diff_high=float(b["diff_high"].iloc[0]), p_le_0=float(b["p_le_0"].iloc[0]))
        rows.append(row)
    return pd.DataFrame(rows)


def placebo_table(table: pd.DataFrame) -> pd.DataFrame:
    """Normalized Gini of the clickstream feature sets next to the same model without clickstream features."""
    base = table.set_index("model")
    ref = hybrid_column("rfm+details")
    rows = []
    for link in ("rank", "random", "key"):
        col = hybrid_column(click_variant(link))
        if col in base.index and ref in base.index:
            rows.append({"link": link, "gini_without_click": base.loc[ref, "normalized_gini"],
                         "gini_with_click": base.loc[col, "normalized_gini"],
                         "added_by_click": base.loc[col, "normalized_gini"] - base.loc[ref, "normalized_gini"],
                         "roc_auc_with_click": base.loc[col, "roc_auc"]})
    return pd.DataFrame(rows)


def _model_rows(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """``table`` indexed by ``model``, after checking the columns ``what`` needs."""
    missing = [c for c in ("model", "normalized_gini") if c not in table.columns]
    if missing:
        raise ValueError(f"{what}: the metrics table lacks column(s) {missing}; build it with metrics_table(...).")
    if table["model"].duplicated().any():
        raise ValueError(f"{what}: the metrics table has several rows for one model; keep one row per model.")
    return table.set_index("model")


def ceiling_gini(table: pd.DataFrame, truth: str = TRUTH) -> float | None:
    """Normalized Gini of the ranking by the hidden true expected value (demo only), or None.

    Required columns
    ----------------
    ``model`` (unique), ``normalized_gini``.

    Parameters
    ----------
    table
        One row per model, as from :func:`metrics_table`.
    truth
        Score column of the hidden truth.

    Returns
    -------
    float or None
        The truth row's normalized Gini: what a model can at best expect, since purchases
        are random even when every trait is known. None when the table has no truth row
        (real data).
    """
    t = _model_rows(table, "ceiling_gini")
    return float(t.loc[truth, "normalized_gini"]) if truth in t.index else None


def ceiling_shares(table: pd.DataFrame, truth: str = TRUTH) -> pd.DataFrame:
    """Each model's normalized Gini as a share of the ceiling (the truth's normalized Gini).

    Required columns
    ----------------
    ``model`` (unique), ``name``, ``normalized_gini``; a row for ``truth``.

    Parameters
    ----------
    table
        One row per model, as from :func:`metrics_table` on the demo data.
    truth
        Score column of the hidden truth.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``normalized_gini`` and ``share_of_ceiling = normalized_gini / ceiling``,
        one row per model in table order (the truth's own share is 1); with an ``observable``
        row (the demo's best prediction from observable data), also ``share_of_observable``.

    Raises
    ------
    ValueError
        When the table has no truth row or the ceiling is not positive.
    """
    ceiling = ceiling_gini(table, truth)
    if ceiling is None:
        raise ValueError(
            f"ceiling_shares: the metrics table has no {truth!r} row; the ceiling exists only on the demo data, "
            "where the hidden truth is scored like a model."
        )
    if not ceiling > 0:
        raise ValueError(f"ceiling_shares: the ceiling (normalized Gini of {truth!r}) is {ceiling:g}, not positive; "
                         "shares of it are meaningless. Check the truth column.")
    if "name" not in table.columns:
        raise ValueError("ceiling_shares: the metrics table lacks column 'name'; build it with metrics_table(...).")
    out = table.assign(share_of_ceiling=table["normalized_gini"] / ceiling)
    observable = ceiling_gini(table, OBSERVABLE)
    if observable is not None and observable > 0:  # the second ceiling: what observable data allow
        out = out.assign(share_of_observable=table["normalized_gini"] / observable)
    return out[[c for c in ("name", "normalized_gini", "share_of_ceiling", "share_of_observable") if c in out.columns]]


def _none_if_nan(value: Any) -> Any:
    return None if pd.isna(value) else value


def metrics_record(
    *,
    holdout_start: str,
    holdout_end: str,
    y_true: ArrayLike,
    n_boot: int,
    seed: int,
    demo: bool,
    table: pd.DataFrame,
    boot: pd.DataFrame,
    placebo: pd.DataFrame,
    ceiling: float | None,
    deciles: Mapping[str, pd.DataFrame],
    baseline: str = BASELINE,
    marketer: Mapping[str, Any] | None = None,
    backtest: Mapping[str, Any] | None = None,
    intervals: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Stage 06's evaluation (``data/evaluation.json``, the body of ``metrics.json``): the holdout, the
    settings and every evaluation table.

    Parameters
    ----------
    holdout_start
        The calibration cut-off that opens the holdout window (``meta["cutoff"]``).
    holdout_end
        Last day of the holdout window.
    y_true
        Holdout spend per customer; gives ``people``, ``buyers`` (spend > 0) and ``revenue``.
    n_boot, seed
        The bootstrap settings.
    demo
        Whether the run is on the demo data.
    table
        :func:`metrics_table` output (one row per model, with a ``model`` column).
    boot
        :func:`clvlib.evaluation.bootstrap.bootstrap` output.
    placebo
        :func:`placebo_table` output.
    ceiling
        :func:`ceiling_gini` (None on real data).
    deciles
        Model score column -> :func:`clvlib.evaluation.metrics.decile_table` of it.
    baseline
        Score column every paired difference is relative to.
    marketer
        The answer for a marketer: ``text`` (the Markdown of the report's "For a marketer"
        section, word for word) and its figures (see
        :func:`clvlib.report.summaries.marketer_facts`), for the index page.
    backtest
        The backtest: ``cuts``, ``selection_cuts`` (the earlier cuts the choice was made on),
        ``recommended`` (score column), ``chosen_by`` (the reason in words), ``table`` and ``summary``
        (:func:`clvlib.evaluation.backtest.backtest_table` / ``backtest_summary`` as DataFrames).
    intervals
        The per-customer intervals at the cut-off, by BTYD score (``bgnbd``, ``bgnbd+first``, ``bgnbd+cov``):
        what each covers (``note``), its ``columns`` in ``clv_predictions.parquet`` and, on the demo, its coverage
        of the hidden true expected value for every customer, the one-time and the repeat buyers
        (``coverage_of_truth``: the records of :func:`clvlib.models.btyd.intervals.coverage_by_buyer_type`).

    Returns
    -------
    dict
        Keys ``holdout`` (``start``, ``end``, ``people``, ``buyers``, ``revenue``), ``n_boot``,
        ``seed``, ``baseline``, ``demo``, ``models`` (model -> its table row without ``model``,
        NaN as None; on the demo with ``share_of_ceiling`` and, with an observable row,
        ``share_of_observable``: :func:`ceiling_shares`), ``bootstrap`` and ``placebo`` (lists of records), ``ceiling_gini`` and
        ``deciles`` (model -> list of records). NaN left in ``bootstrap`` or ``placebo`` is
        written as null by :func:`clvlib.io.write_json_atomic`. With ``marketer``, also
        ``marketer`` (a copy of it); with ``backtest``, ``backtest`` (its tables as lists of records).
    """
    y = np.asarray(y_true, dtype="float64")
    if "model" not in table.columns:
        raise ValueError("metrics_record: the metrics table lacks column 'model'; build it with metrics_table(...).")
    if ceiling is not None and math.isnan(ceiling):
        raise ValueError("metrics_record: ceiling is NaN; pass None when there is no ceiling (real data).")
    if ceiling is not None:  # the demo: every model's share of both ceilings beside its metrics
        shares = ceiling_shares(table).drop(columns=["name", "normalized_gini"])
        table = table.assign(**{c: shares[c].to_numpy() for c in ("share_of_ceiling", "share_of_observable")
                                if c in shares.columns})
    return {
        "holdout": {"start": holdout_start, "end": holdout_end, "people": len(y), "buyers": int((y > 0).sum()),
                    "revenue": float(y.sum())},
        "n_boot": n_boot,
        "seed": seed,
        "baseline": baseline,
        "demo": demo,
        "models": {r["model"]: {k: _none_if_nan(v) for k, v in r.items() if k != "model"}
                   for r in table.to_dict("records")},
        "bootstrap": boot.to_dict("records"),
        "placebo": placebo.to_dict("records"),
        "ceiling_gini": ceiling,
        "deciles": {model: frame.to_dict("records") for model, frame in deciles.items()},
    } | ({"marketer": dict(marketer)} if marketer is not None else {}) | (
        {"backtest": {k: ([{c: _none_if_nan(x) for c, x in r.items()} for r in v.to_dict("records")]
                          if isinstance(v, pd.DataFrame) else v) for k, v in backtest.items()}}
        if backtest is not None else {}) | ({"intervals": dict(intervals)} if intervals is not None else {})


def top_predicted_revenue(scores: pd.DataFrame, model: str, frac: float = 0.10) -> float | None:
    """Predicted revenue of the top ``frac`` of customers ranked by ``model``'s prediction.

    The cut is at ``frac * n`` customers; a fractional customer at the cut counts pro rata
    (as in :func:`clvlib.evaluation.metrics.top_share`).

    Parameters
    ----------
    scores
        One column per model (predicted value over the horizon), one row per customer.
    model
        The column to rank and sum.
    frac
        Share of customers in the top group, in ``(0, 1]``.

    Returns
    -------
    float or None
        None for the simple rule (past spend is a score, not a forecast) and the demo's
        hidden truth.

    Examples
    --------
    >>> top_predicted_revenue(pd.DataFrame({"m": [1.0, 5.0, 3.0, 2.0, 4.0]}), "m", frac=0.3)
    7.0
    """
    if model in (SIMPLE_RULE, TRUTH):
        return None
    if not 0 < frac <= 1:
        raise ValueError(f"top_predicted_revenue: frac must be in (0, 1], got {frac}.")
    v = np.sort(scores[model].to_numpy(dtype="float64"))[::-1]
    k = frac * len(v)
    whole = int(np.floor(k))
    part = float(v[whole] * (k - whole)) if whole < len(v) else 0.0
    return float(v[:whole].sum() + part)
