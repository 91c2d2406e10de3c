"""The forecast's answer in plain words: who to target from the analysis date, what they are worth, how sure we are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from clvlib.models.scores import BASELINE, SIMPLE_RULE, model_label

__all__ = ["forecast_facts", "forecast_text", "run_metrics"]


def _row(summary: list[dict], model: str) -> dict | None:
    return next((r for r in summary if r.get("model") == model), None)


def forecast_facts(clv: pd.DataFrame, metrics: Mapping[str, Any], start: str, end: str,
                   currency: str = "BRL", top: float = 0.10) -> dict[str, Any]:
    """The figures of the forecast's answer.

    Parameters
    ----------
    clv
        The forecast CLV table (:func:`clvlib.models.predictions.clv_table_for`): ``predicted_value``,
        ``model``, ``horizon_days``, one row per customer, highest value first.
    metrics
        Stage 06's evaluation (``data/evaluation.json``): its ``backtest`` (``recommended``, ``chosen_by``, ``summary``,
        ``cuts``) and ``holdout``.
    start, end
        The forecast window: the analysis date and the end of the horizon.
    currency
        Currency of the amounts.
    top
        The share of customers to target (the top decile by default).

    Returns
    -------
    dict
        ``model`` (score column), ``label``, ``start``, ``end``, ``horizon_days``, ``customers``,
        ``top_customers``, ``predicted_total``, ``predicted_top``, ``currency``, ``chosen_by``, and
        from the backtest (``None`` without one): ``backtest_cuts``, ``top10_capture_mean`` / ``_min``
        / ``_max``, ``rule_top10_capture_mean``, ``gini_mean``, ``bgnbd_gini_mean``, ``ratio_min``,
        ``ratio_max``; ``holdout_buyers_share`` and ``holdout_days`` (the latest backtest's window).
    """
    if clv.empty:
        raise ValueError("forecast_facts: the CLV table is empty.")
    bt = metrics.get("backtest") or {}
    pick = bt.get("recommended", BASELINE)
    values = clv["predicted_value"].sort_values(ascending=False)
    n_top = int((clv["decile"] == 1).sum()) if top == 0.10 and "decile" in clv.columns else max(1, round(top * len(clv)))
    summary = bt.get("summary", [])
    me, rule, base = _row(summary, pick), _row(summary, SIMPLE_RULE), _row(summary, BASELINE)
    holdout = metrics.get("holdout", {})
    return {
        "model": pick, "label": model_label(pick), "start": str(start), "end": str(end),
        "horizon_days": int(clv["horizon_days"].iloc[0]), "customers": len(clv), "top_customers": n_top,
        "predicted_total": float(values.sum()), "predicted_top": float(values.iloc[:n_top].sum()),
        "currency": currency, "chosen_by": bt.get("chosen_by"), "backtest_cuts": bt.get("cuts"),
        "top10_capture_mean": me and me["top10_share_mean"], "top10_capture_min": me and me["top10_share_min"],
        "top10_capture_max": me and me["top10_share_max"], "rule_top10_capture_mean": rule and rule["top10_share_mean"],
        "gini_mean": me and me["normalized_gini_mean"], "bgnbd_gini_mean": base and base["normalized_gini_mean"],
        "ratio_min": me and me["ratio_min"], "ratio_max": me and me["ratio_max"],
        "holdout_buyers_share": (holdout["buyers"] / holdout["people"]) if holdout.get("people") else None,
        "holdout_days": ((pd.Timestamp(holdout["end"]) - pd.Timestamp(holdout["start"])).days
                         if holdout.get("start") and holdout.get("end") else None),
    }


def forecast_text(f: Mapping[str, Any]) -> str:
    """The answer as Markdown bullets, from :func:`forecast_facts`."""
    cur = f["currency"]
    lines = [
        f"- **Who to target from {f['start']}:** the first **{f['top_customers']:,} customers** of `data/clv_table.csv` "
        f"(the top 10% of {f['customers']:,}, ranked by **{f['label']}**). Over the next {f['horizon_days']} days "
        f"(to {f['end']}) they are predicted to spend **{f['predicted_top']:,.0f} {cur}**, "
        f"{f['predicted_top'] / f['predicted_total']:.0%} of the {f['predicted_total']:,.0f} {cur} predicted for everyone.",
    ]
    if f.get("chosen_by"):
        lines.append(f"- **Why this model:** {f['chosen_by'][0].upper() + f['chosen_by'][1:]}")
    if f.get("top10_capture_mean") is not None:
        n = len(f["backtest_cuts"] or [])
        rule = (f", against {f['rule_top10_capture_mean']:.0%} when ranking by what customers spent so far"
                if f.get("rule_top10_capture_mean") is not None else "")
        if f.get("rule_top10_capture_mean") is not None and f["rule_top10_capture_mean"] >= f["top10_capture_mean"]:
            rule += (": for a top-10% list the simple rule did as well, so the model's gain is in the amounts and in the "
                     "ranking beyond the top tenth")
        sure = (f"- **How sure we are:** at {n} backtest cut-off{'s' if n != 1 else ''} ({', '.join(f['backtest_cuts'])}), "
                f"each model fitted only with the data up to it, the top 10% by {f['label']} captured on average "
                f"**{f['top10_capture_mean']:.0%}** of the revenue of the window after {'each' if n != 1 else 'it'} (from "
                f"{f['top10_capture_min']:.0%} to {f['top10_capture_max']:.0%}){rule}.")
        if f.get("ratio_min") is not None and f.get("ratio_max") is not None:
            sure += (f" Its predicted totals were {f['ratio_min']:.2f} to {f['ratio_max']:.2f} times what was then spent, "
                     "so read the amounts as approximate and the ranking as the firmer result.")
        lines.append(sure)
    if f.get("holdout_buyers_share") is not None:
        lines.append(f"- **What to expect:** at the latest backtest only {f['holdout_buyers_share']:.1%} of customers bought "
                     f"again within {f.get('holdout_days') or f['horizon_days']} days; most of any list will not buy, "
                     "and the ranking concentrates "
                     "the few who will.")
    return "\n" + "\n".join(lines) + "\n"


def run_metrics(evaluation: Mapping[str, Any], forecast: Mapping[str, Any]) -> dict[str, Any]:
    """The content of ``metrics.json``: stage 06's evaluation with stage 07's forecast under ``"forecast"``.

    Parameters
    ----------
    evaluation
        Stage 06's ``data/evaluation.json`` (:func:`clvlib.evaluation.summary.metrics_record`).
    forecast
        Stage 07's ``data/forecast.json``: :func:`forecast_facts` with the answer's ``text``.

    Returns
    -------
    dict
        A new dict: every key of ``evaluation``, in its order, then ``forecast`` (a copy).

    Raises
    ------
    ValueError
        When ``evaluation`` has no ``holdout`` (it is not stage 06's record), already has a
        ``forecast`` (it is a ``metrics.json``), or ``forecast`` lacks ``predicted_total``.

    Examples
    --------
    >>> list(run_metrics({"holdout": {}, "models": {}}, {"predicted_total": 1.0}))
    ['holdout', 'models', 'forecast']
    """
    if "holdout" not in evaluation:
        raise ValueError("run_metrics: the evaluation has no 'holdout'; pass stage 06's data/evaluation.json "
                         f"(keys given: {', '.join(map(str, evaluation)) or 'none'}).")
    if "forecast" in evaluation:
        raise ValueError("run_metrics: the evaluation already has a 'forecast': it is a metrics.json, not stage 06's "
                         "data/evaluation.json.")
    if "predicted_total" not in forecast:
        raise ValueError("run_metrics: the forecast has no 'predicted_total'; pass forecast_facts(...) with its text.")
    return {**evaluation, "forecast": dict(forecast)}
