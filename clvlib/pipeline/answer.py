"""The bottom line a workspace index opens with, read from stage 06's evaluation.

The evaluation is ``data/evaluation.json``, which is also the body of ``metrics.json``.

Nothing is re-estimated here. Stage 06 stores the answer for a marketer (``metrics["marketer"]``:
the words of its report's first section and the figures behind them, see
:func:`clvlib.report.summaries.marketer_facts`); the index shows those words and figures. For a
``metrics.json`` written before stage 06 stored them, the figures are read from the per-model
table it did store (each model's normalized Gini with its interval and paired difference from
BG/NBD, the top-10% capture, the decile sums, the holdout's size and revenue), and the
recommendation is the same rule (:func:`clvlib.evaluation.recommend.recommend`) applied to them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from clvlib.evaluation.recommend import recommend
from clvlib.models.scores import BASELINE, CEILINGS, SIMPLE_RULE

__all__ = ["BottomLine", "bottom_line"]


@dataclass(frozen=True)
class BottomLine:
    """What the index says first, as figures (the wording is :func:`clvlib.pipeline.index.bottom_line_html`).

    Attributes
    ----------
    model, label
        Score column and display name of the recommended model.
    reliable
        True when it beats BG/NBD x Gamma-Gamma reliably (paired 95% interval above zero);
        False when BG/NBD is kept because nothing does.
    people, top_n
        Customers scored at the cut-off, and how many make the top 10%.
    cutoff, holdout_end, horizon_days
        The backtest: models fitted on data up to ``cutoff``, judged on what customers spent
        until ``holdout_end``.
    buyers_share
        Share of the customers who bought in the holdout.
    revenue
        Holdout revenue of all customers.
    top_predicted, top_actual
        Revenue of the model's top 10%, as predicted at the cut-off (``None`` when stage 06
        stored no deciles for this model) and as spent in the holdout.
    top_share, simple_top_share
        Share of holdout revenue captured by the top 10% of the model, and of the simple rule.
    gini, gini_low, gini_high, simple_gini
        Normalized Gini of the model with its 95% interval, and of the simple rule.
    diff, diff_low, diff_high
        Paired difference in Gini from BG/NBD x Gamma-Gamma with its 95% interval (``None``
        when the model is BG/NBD itself).
    ahead
        Labels of models that scored higher than BG/NBD but not reliably.
    ceiling_gini
        Demo data: the Gini of ranking by the hidden true expected value (``None`` otherwise).
    currency
        Currency of the amounts.
    text
        Stage 06's own words for a marketer (Markdown), when it stored them.
    """

    model: str
    label: str
    reliable: bool
    people: int
    top_n: int
    cutoff: str
    holdout_end: str
    horizon_days: int | None
    buyers_share: float
    revenue: float
    top_predicted: float | None
    top_actual: float
    top_share: float
    simple_top_share: float | None
    gini: float
    gini_low: float | None
    gini_high: float | None
    simple_gini: float | None
    diff: float | None
    diff_low: float | None
    diff_high: float | None
    ahead: tuple[str, ...]
    ceiling_gini: float | None
    currency: str = "BRL"
    text: str | None = None


def _num(v: Any) -> float | None:
    """A finite float, or ``None`` for missing, NaN and non-numbers."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _days(start: str, end: str) -> int | None:
    try:
        return (date.fromisoformat(str(end)[:10]) - date.fromisoformat(str(start)[:10])).days
    except ValueError:
        return None


def _recommended(metrics: Mapping[str, Any], baseline: str) -> tuple[str, bool, tuple[str, ...]]:
    """The recommended model, whether it is reliable, and the contenders: stored, or the rule on stored figures."""
    stored = metrics.get("marketer")
    models = metrics["models"]
    if isinstance(stored, Mapping) and stored.get("model") in models:
        pick = str(stored["model"])
        return pick, bool(stored.get("reliable", pick != baseline)), ()
    columns = ("normalized_gini", "diff_vs_bgnbd", "diff_low", "diff_high")
    table = pd.DataFrame([{"model": k, **{c: _num(v.get(c)) for c in columns}} for k, v in models.items()])
    rec = recommend(table.astype({c: float for c in columns}), baseline=baseline,
                    exclude=[m for m in CEILINGS if m in models])
    return rec.pick, rec.reliable, tuple(c.model for c in rec.ahead)


def _first(*values: Any) -> float | None:
    """The first of ``values`` that is a finite number."""
    return next((x for x in map(_num, values) if x is not None), None)


def bottom_line(metrics: Mapping[str, Any]) -> BottomLine | None:
    """The recommended model and the figures the index states first, from stage 06's evaluation.

    Parameters
    ----------
    metrics
        The content of ``data/evaluation.json`` (or ``metrics.json``): ``holdout`` (``start``, ``end``, ``people``, ``buyers``,
        ``revenue``), ``baseline``, ``models`` (per score column: ``name``, ``normalized_gini``,
        ``gini_low``, ``gini_high``, ``top10_share``, ``diff_vs_bgnbd``, ``diff_low``,
        ``diff_high``), optionally ``deciles`` (per score column, bin 1 = the top 10%),
        ``ceiling_gini`` and ``recommendation``.

    Returns
    -------
    BottomLine or None
        ``None`` when ``metrics`` lacks what the bottom line needs (no models, no holdout,
        or no BG/NBD row): the index then just leaves it out.
    """
    models, holdout = metrics.get("models"), metrics.get("holdout")
    baseline = str(metrics.get("baseline") or BASELINE)
    if not isinstance(models, Mapping) or not isinstance(holdout, Mapping) or baseline not in models:
        return None
    try:
        pick, reliable, ahead = _recommended(metrics, baseline)
    except (ValueError, KeyError):
        return None
    m, simple = models[pick], models.get(SIMPLE_RULE) or {}
    facts = metrics.get("marketer") if isinstance(metrics.get("marketer"), Mapping) else {}
    people, buyers = int(holdout.get("people") or 0), int(holdout.get("buyers") or 0)
    revenue = _num(holdout.get("revenue")) or 0.0
    top_share = _first(facts.get("top10_share"), m.get("top10_share")) or 0.0
    deciles = (metrics.get("deciles") or {}).get(pick) or []
    top = next((d for d in deciles if d.get("bin") == 1), None) or {}
    horizon = facts.get("horizon_days")
    return BottomLine(
        model=pick, label=str(facts.get("model_label") or m.get("name") or pick), reliable=reliable, people=people,
        top_n=int(top["n"]) if top.get("n") else math.ceil(people / 10),
        cutoff=str(holdout.get("start") or ""), holdout_end=str(holdout.get("end") or ""),
        horizon_days=int(horizon) if isinstance(horizon, int) else _days(holdout.get("start") or "",
                                                                           holdout.get("end") or ""),
        buyers_share=_first(facts.get("buyers_share")) or (buyers / people if people else 0.0), revenue=revenue,
        top_predicted=_first(facts.get("top10_predicted_revenue"), top.get("sum_predicted")),
        top_actual=_first(facts.get("top10_actual_revenue"), top.get("sum_actual")) or top_share * revenue,
        top_share=top_share,
        simple_top_share=_first(facts.get("simple_rule_top10_share"), simple.get("top10_share")),
        gini=_first(facts.get("normalized_gini"), m.get("normalized_gini")) or 0.0,
        gini_low=_first(facts.get("gini_low"), m.get("gini_low")),
        gini_high=_first(facts.get("gini_high"), m.get("gini_high")),
        simple_gini=_first(facts.get("simple_rule_gini"), simple.get("normalized_gini")),
        diff=_first(facts.get("diff_vs_bgnbd"), m.get("diff_vs_bgnbd")),
        diff_low=_first(facts.get("diff_low"), m.get("diff_low")),
        diff_high=_first(facts.get("diff_high"), m.get("diff_high")),
        ahead=tuple(str((models.get(a) or {}).get("name") or a) for a in ahead),
        ceiling_gini=_num(metrics.get("ceiling_gini")),
        currency=str(facts.get("currency") or "BRL"),
        text=str(facts["text"]) if isinstance(facts.get("text"), str) and facts["text"].strip() else None,
    )
