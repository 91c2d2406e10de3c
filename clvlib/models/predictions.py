"""The tables stage 05 hands on: one row per customer to act on, and every model's score for the evaluation."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from clvlib.models.scores import SIMPLE_RULE, btyd_column, is_hybrid, p_buy_column, hybrid_variant
from clvlib.schemas import CUSTOMER

__all__ = ["SEGMENTS", "segment_customers", "predictions_table", "scores_table", "segment_summary"]

#: Segment of each decile band, in words for marketers.
SEGMENTS = {1: "top 10%: target", 3: "next 20%: nurture", 10: "bottom 70%: low expected value"}


def segment_customers(value: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Decile (1 = highest predicted value) by rank, ties broken by position, and a segment name.

    Examples
    --------
    Ten customers get deciles 1..10 in order of value; the top one is "top 10%: target".
    """
    n = len(value)
    order = np.argsort(-value.to_numpy(), kind="stable")
    decile = np.empty(n, dtype=int)
    decile[order] = np.arange(n) * 10 // max(n, 1) + 1
    seg = np.where(decile == 1, SEGMENTS[1], np.where(decile <= 3, SEGMENTS[3], SEGMENTS[10]))
    return pd.Series(decile, index=value.index, name="decile"), pd.Series(seg, index=value.index, name="segment")


def predictions_table(btyd: Mapping[str, pd.DataFrame], hybrid_scores: pd.DataFrame, primary: str,
                      customer_col: str = CUSTOMER) -> pd.DataFrame:
    """One row per customer: BG/NBD x Gamma-Gamma's prediction, Pareto/NBD's value, the primary hybrid's.

    Parameters
    ----------
    btyd
        ``{"bgnbd": predictions, "pnbd": predictions}`` from :meth:`BTYDModel.predict`, in the same
        customer order, keyed by ``customer_col``.
    hybrid_scores
        ``customer_col`` and the ``hybrid:`` / ``p_buy:`` columns of every variant.
    primary
        The hybrid score column reported as the hybrid prediction (see
        :func:`clvlib.models.scores.primary_hybrid`); deciles and segments rank customers by it.
    """
    if primary not in hybrid_scores.columns:
        raise ValueError(f"primary hybrid {primary!r} is not among the hybrid scores {list(hybrid_scores.columns)}.")
    out = btyd["bgnbd"].merge(hybrid_scores, on=customer_col, how="left")
    out["predicted_value_pnbd"] = btyd["pnbd"]["predicted_value"].to_numpy()
    out["predicted_value_hybrid"] = out[primary]
    out["p_buy_hybrid"] = out[p_buy_column(hybrid_variant(primary))]
    out["decile"], out["segment"] = segment_customers(out["predicted_value_hybrid"])
    keep = [customer_col, "expected_purchases", "p_alive", "expected_spend", "predicted_value", "clv_lifetime",
            "predicted_value_pnbd", "predicted_value_hybrid", "p_buy_hybrid", "decile", "segment"]
    keep += [c for c in out.columns if c.startswith("predicted_value_") and c.endswith(("_low", "_high"))]
    return out[keep]


def scores_table(features: pd.DataFrame, predictions: pd.DataFrame, hybrid_scores: pd.DataFrame,
                 customer_col: str = CUSTOMER) -> pd.DataFrame:
    """Every model's score per customer: the simple rule, each BTYD model, each hybrid variant."""
    hybrid_cols = [c for c in hybrid_scores.columns if is_hybrid(c)]
    merged = predictions[[customer_col, "predicted_value", "predicted_value_pnbd"]].merge(
        hybrid_scores[[customer_col, *hybrid_cols]], on=customer_col)
    out = features[[customer_col, SIMPLE_RULE]].merge(merged, on=customer_col)
    return out.rename(columns={"predicted_value": btyd_column("bgnbd"), "predicted_value_pnbd": btyd_column("pnbd")})


def segment_summary(predictions: pd.DataFrame, customer_col: str = CUSTOMER) -> pd.DataFrame:
    """Customers and mean predictions per segment."""
    return predictions.groupby("segment").agg(
        customers=(customer_col, "size"), mean_predicted_value_bgnbd=("predicted_value", "mean"),
        mean_predicted_value_hybrid=("predicted_value_hybrid", "mean"), mean_p_alive=("p_alive", "mean"))
