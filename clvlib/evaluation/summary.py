"""The evaluation stage's tables and figures: metrics per model, placebo comparison, ceiling, deciles."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.evaluation.metrics import evaluate
from clvlib.models.scores import BASELINE, TRUTH, click_variant, hybrid_column, model_label

__all__ = ["BASELINE", "model_label", "metrics_table", "placebo_table", "segment_customers"]

def metrics_table(y_true: np.ndarray, scores: pd.DataFrame, boot: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per model: point metrics, and the bootstrap interval of the normalized Gini when given."""
    rows = []
    for col in scores.columns:
        m = evaluate(y_true, scores[col].to_numpy(), y_pred=scores[col].to_numpy() if col != TRUTH else None)
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
    ref = hybrid_column("rfm+olist")
    rows = []
    for link in ("rank", "random", "key"):
        col = hybrid_column(click_variant(link))
        if col in base.index and ref in base.index:
            rows.append({"link": link, "gini_without_click": base.loc[ref, "normalized_gini"],
                         "gini_with_click": base.loc[col, "normalized_gini"],
                         "added_by_click": base.loc[col, "normalized_gini"] - base.loc[ref, "normalized_gini"],
                         "roc_auc_with_click": base.loc[col, "roc_auc"]})
    return pd.DataFrame(rows)


def segment_customers(value: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Decile (1 = highest predicted value) by rank, and a segment name for marketers."""
    n = len(value)
    order = np.argsort(-value.to_numpy(), kind="stable")
    decile = np.empty(n, dtype=int)
    decile[order] = np.arange(n) * 10 // max(n, 1) + 1
    seg = np.where(decile == 1, "top 10%: target", np.where(decile <= 3, "next 20%: nurture", "bottom 70%: low expected value"))
    return pd.Series(decile, index=value.index, name="decile"), pd.Series(seg, index=value.index, name="segment")
