"""The tables stage 05 hands on: one row per customer to act on, and every model's score for the evaluation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from clvlib.models.scores import ALL_ORDERS_SPEND, BTYD_MODELS, COVARIATE_BTYD, SIMPLE_RULE, btyd_column, is_hybrid, p_buy_column, hybrid_variant, model_label
from clvlib.schemas import CUSTOMER

__all__ = ["SEGMENTS", "SEGMENT_MEANINGS", "INTERVAL_MODELS", "TRAITS_INTERVAL", "STAND_IN", "segment_customers", "predictions_table", "scores_table", "clv_table", "clv_table_for",
           "segment_summary", "decile_revenue", "interval_columns", "prediction_intervals", "prediction_interval_text", "forecast_interval_model",
           "forecast_interval_text", "coverage_sentence", "SKEW_NOTE"]

#: The BTYD scores with a per-customer interval of their own (:func:`clvlib.models.compare.add_intervals`).
INTERVAL_MODELS = (*BTYD_MODELS, *ALL_ORDERS_SPEND, *COVARIATE_BTYD)

#: Segment of each decile band, in words for marketers.
SEGMENTS = {1: "top 10%: target", 3: "next 20%: nurture", 10: "bottom 70%: low expected value"}

#: What each segment means and what to do with it, in plain words (a column of the CLV table).
SEGMENT_MEANINGS = {
    SEGMENTS[1]: "the tenth of customers with the highest predicted value over the horizon: contact them first",
    SEGMENTS[3]: "the next fifth: some will buy again; worth low-cost reminders and offers",
    SEGMENTS[10]: "most will not buy within the horizon: keep to general, low-cost communication",
}


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
        customer order, keyed by ``customer_col``; any other BTYD score (``"bgnbd+first"``) adds its
        ``predicted_value_<name>`` column after ``predicted_value_pnbd``. BG/NBD's per-customer interval
        is ``predicted_value_low`` / ``_high`` (next to its ``predicted_value``); another score's, when its
        frame has one (:func:`clvlib.models.compare.add_intervals`), is ``predicted_value_<name>_low`` /
        ``_high`` (:func:`interval_columns`).
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
    for end in ("low", "high"):  # Pareto/NBD's own interval, when add_intervals gave it one
        if f"predicted_value_{end}" in btyd["pnbd"].columns:
            out[f"predicted_value_pnbd_{end}"] = btyd["pnbd"][f"predicted_value_{end}"].to_numpy()
    extra = {name: f"predicted_value_{name}" for name in btyd if name not in ("bgnbd", "pnbd")}
    for name, col in extra.items():
        btyd_column(name)  # refuses an unknown BTYD score
        out[col] = btyd[name]["predicted_value"].to_numpy()
        for end in ("low", "high"):
            if f"predicted_value_{end}" in btyd[name].columns:
                out[f"{col}_{end}"] = btyd[name][f"predicted_value_{end}"].to_numpy()
    out["predicted_value_hybrid"] = out[primary]
    out["p_buy_hybrid"] = out[p_buy_column(hybrid_variant(primary))]
    out["decile"], out["segment"] = segment_customers(out["predicted_value_hybrid"])
    keep = [customer_col, "expected_purchases", "p_alive", "expected_spend", "predicted_value", "clv_lifetime",
            "predicted_value_pnbd", *extra.values(), "predicted_value_hybrid", "p_buy_hybrid", "decile", "segment"]
    bounds = [f"{c}_{end}" for c in ("predicted_value", "predicted_value_pnbd", *extra.values()) for end in ("low", "high")]
    return out[keep + [c for c in bounds if c in out.columns]]


def scores_table(features: pd.DataFrame, predictions: pd.DataFrame, hybrid_scores: pd.DataFrame,
                 customer_col: str = CUSTOMER) -> pd.DataFrame:
    """Every model's score per customer: the simple rule, each BTYD model, each hybrid variant.

    The BTYD scores are ``predicted_value`` (BG/NBD), ``predicted_value_pnbd`` and any
    ``predicted_value_<name>`` of another BTYD score in ``predictions`` (``bgnbd+first``, ``bgnbd+cov``).
    """
    hybrid_cols = [c for c in hybrid_scores.columns if is_hybrid(c)]
    names = {"predicted_value": btyd_column("bgnbd"), "predicted_value_pnbd": btyd_column("pnbd")}
    names |= {f"predicted_value_{n}": btyd_column(n) for n in (*ALL_ORDERS_SPEND, *COVARIATE_BTYD)
              if f"predicted_value_{n}" in predictions.columns}
    merged = predictions[[customer_col, *names]].merge(hybrid_scores[[customer_col, *hybrid_cols]], on=customer_col)
    out = features[[customer_col, SIMPLE_RULE]].merge(merged, on=customer_col)
    return out.rename(columns=names)


def clv_table(predictions: pd.DataFrame, model: str, horizon_days: int,
              customer_col: str = CUSTOMER, intervals: Sequence[str] = ()) -> pd.DataFrame:
    """The per-customer CLV table to take away: one row per customer, highest predicted value first.

    Required columns
    ----------------
    ``customer_col``, ``predicted_value_hybrid``, ``p_buy_hybrid``, ``predicted_value``,
    ``expected_purchases``, ``p_alive``, ``decile``, ``segment`` (:func:`predictions_table`);
    ``predicted_value_low`` / ``predicted_value_high`` are kept when present (BG/NBD's interval);
    for each model of ``intervals``, ``predicted_value_<model>`` and, when present, its ``_low`` / ``_high``.

    Parameters
    ----------
    predictions
        :func:`predictions_table` output.
    model
        Label of the model behind ``predicted_value``, ``decile`` and ``segment`` (the primary hybrid).
    horizon_days
        Length of the prediction window, written on every row so the file explains itself.
    intervals
        BTYD scores other than BG/NBD whose value and interval the table carries, named after the
        model (``["bgnbd+first"]`` -> ``predicted_value_bgnbd+first``, ``_low``, ``_high``): the
        chosen model's interval, or the stand-in of :func:`forecast_interval_model`.

    Returns
    -------
    pandas.DataFrame
        ``customer_col``, ``predicted_value`` (over the horizon, by ``model``), ``p_buy`` (its
        chance that the customer buys in the horizon), ``predicted_value_bgnbd`` (BG/NBD x
        Gamma-Gamma over the same horizon) with ``predicted_value_bgnbd_low`` / ``_high`` where
        the fit gives an interval, the same three columns for every model of ``intervals``,
        ``expected_purchases_bgnbd``, ``p_alive`` (BG/NBD), ``decile``
        (1 = highest), ``segment``, ``segment_meaning``, ``model``, ``horizon_days``; sorted by
        ``predicted_value`` descending (ties by customer id).
    """
    need = [customer_col, "predicted_value_hybrid", "p_buy_hybrid", "predicted_value", "expected_purchases",
            "p_alive", "decile", "segment"]
    need += [f"predicted_value_{name}" for name in intervals]
    missing = [c for c in need if c not in predictions.columns]
    if missing:
        raise ValueError(f"clv_table: the predictions lack column(s) {missing}; build them with predictions_table(...).")
    p = predictions
    out = pd.DataFrame({customer_col: p[customer_col], "predicted_value": p["predicted_value_hybrid"],
                        "p_buy": p["p_buy_hybrid"], "predicted_value_bgnbd": p["predicted_value"]})
    for end in ("low", "high"):
        if f"predicted_value_{end}" in p.columns:
            out[f"predicted_value_bgnbd_{end}"] = p[f"predicted_value_{end}"]
    for name in intervals:
        for col in interval_columns(name):
            if col in p.columns:
                out[col] = p[col]
    out["expected_purchases_bgnbd"] = p["expected_purchases"]
    out["p_alive"] = p["p_alive"]
    out["decile"] = p["decile"]
    out["segment"] = p["segment"]
    out["segment_meaning"] = p["segment"].map(SEGMENT_MEANINGS)
    out["model"] = model
    out["horizon_days"] = int(horizon_days)
    return out.sort_values(["predicted_value", customer_col], ascending=[False, True], kind="stable").reset_index(drop=True)


def segment_summary(table: pd.DataFrame, actual: pd.Series | None = None,
                    customer_col: str = CUSTOMER) -> pd.DataFrame:
    """Customers, predicted revenue and (with ``actual``) holdout revenue per segment, top segment first.

    Required columns
    ----------------
    ``customer_col``, ``segment``, ``predicted_value``, ``p_alive`` (a :func:`clv_table`).

    Parameters
    ----------
    table
        The CLV table.
    actual
        Holdout spend per customer, indexed by customer id (customers absent from it spent 0).

    Returns
    -------
    pandas.DataFrame
        One row per segment in the order of :data:`SEGMENTS`: ``segment``, ``meaning``,
        ``customers``, ``share_of_customers``, ``predicted_revenue``, ``share_of_predicted``,
        ``mean_predicted_value``, ``mean_p_alive``; with ``actual``, also ``actual_revenue`` and
        ``share_of_actual``.
    """
    g = table.groupby("segment")
    out = pd.DataFrame({"customers": g.size(), "predicted_revenue": g["predicted_value"].sum(),
                        "mean_predicted_value": g["predicted_value"].mean(), "mean_p_alive": g["p_alive"].mean()})
    out = out.reindex([s for s in SEGMENTS.values() if s in out.index])
    out.insert(0, "meaning", out.index.map(SEGMENT_MEANINGS))
    out.insert(2, "share_of_customers", out["customers"] / out["customers"].sum())
    out.insert(4, "share_of_predicted", out["predicted_revenue"] / out["predicted_revenue"].sum())
    if actual is not None:
        spent = table[customer_col].map(actual).fillna(0.0).to_numpy()
        out["actual_revenue"] = pd.Series(spent, index=table.index).groupby(table["segment"]).sum().reindex(out.index)
        total = out["actual_revenue"].sum()
        out["share_of_actual"] = out["actual_revenue"] / total if total > 0 else np.nan
    return out.rename_axis("segment").reset_index()


def decile_revenue(table: pd.DataFrame, actual: pd.Series | None = None,
                   customer_col: str = CUSTOMER) -> pd.DataFrame:
    """Customers and predicted (and, with ``actual``, holdout) revenue per decile of the CLV table.

    Required columns
    ----------------
    ``customer_col``, ``decile``, ``predicted_value`` (a :func:`clv_table`).

    Parameters
    ----------
    table
        The CLV table.
    actual
        Holdout spend per customer, indexed by customer id (customers absent from it spent 0).

    Returns
    -------
    pandas.DataFrame
        ``bin`` (the decile, 1 = highest), ``n``, ``sum_predicted`` and, with ``actual``,
        ``sum_actual``: the columns :func:`clvlib.report.figures.decile_revenue` draws.
    """
    g = table.groupby("decile")
    out = pd.DataFrame({"n": g.size(), "sum_predicted": g["predicted_value"].sum()})
    if actual is not None:
        spent = pd.Series(table[customer_col].map(actual).fillna(0.0).to_numpy(), index=table.index)
        out["sum_actual"] = spent.groupby(table["decile"]).sum()
    return out.rename_axis("bin").reset_index()


def clv_table_for(pick: str, scores: pd.DataFrame, bgnbd: pd.DataFrame, horizon_days: int,
                  hybrid_scores: pd.DataFrame | None = None, customer_col: str = CUSTOMER,
                  intervals: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The CLV table (:func:`clv_table`) ranked by any model: ``pick``'s score is its predicted value.

    Parameters
    ----------
    pick
        Score column of the chosen model (``btyd:bgnbd``, ``hybrid:rfm+details``, ...), a column of ``scores``.
    scores
        ``customer_col`` and every model's score (:func:`clvlib.models.compare.compare_at`).
    bgnbd
        BG/NBD x Gamma-Gamma's per-customer predictions (:meth:`BTYDModel.predict`): its P(alive),
        expected purchases and value stay in the table whichever model ranks it.
    horizon_days
        Length of the prediction window.
    hybrid_scores
        The hybrid's ``p_buy:`` columns; gives ``p_buy`` when ``pick`` is a hybrid (missing otherwise).
    intervals
        BTYD score name (other than ``bgnbd``) -> its per-customer predictions (``predicted_value`` and,
        after :func:`clvlib.models.compare.add_intervals`, ``predicted_value_low`` / ``_high``): carried
        as ``predicted_value_<name>``, ``_low``, ``_high`` (:func:`interval_columns`).
    """
    if pick not in scores.columns:
        raise ValueError(f"clv_table_for: no score column {pick!r}; columns: {list(scores.columns)}.")
    out = bgnbd.copy()
    out["predicted_value_hybrid"] = out[customer_col].map(scores.set_index(customer_col)[pick]).to_numpy()
    p_buy = np.full(len(out), np.nan)
    if is_hybrid(pick) and hybrid_scores is not None and p_buy_column(hybrid_variant(pick)) in hybrid_scores.columns:
        p_buy = out[customer_col].map(hybrid_scores.set_index(customer_col)[p_buy_column(hybrid_variant(pick))]).to_numpy()
    out["p_buy_hybrid"] = p_buy
    for name, frame in (intervals or {}).items():
        if name == "bgnbd":
            raise ValueError("clv_table_for: BG/NBD's interval comes with `bgnbd`; pass only other models in intervals.")
        by_id = frame.set_index(customer_col)
        for src, col in zip(("predicted_value", "predicted_value_low", "predicted_value_high"), interval_columns(name)):
            if src in by_id.columns:
                out[col] = out[customer_col].map(by_id[src]).to_numpy()
    out["decile"], out["segment"] = segment_customers(out["predicted_value_hybrid"])
    return clv_table(out, model_label(pick), horizon_days, customer_col=customer_col, intervals=list(intervals or {}))


def interval_columns(model: str) -> tuple[str, str, str]:
    """The CLV table's value and interval columns of a BTYD score, named after the model.

    Examples
    --------
    >>> interval_columns("bgnbd")
    ('predicted_value_bgnbd', 'predicted_value_bgnbd_low', 'predicted_value_bgnbd_high')
    >>> interval_columns("bgnbd+first")[1]
    'predicted_value_bgnbd+first_low'
    """
    btyd_column(model)  # refuses an unknown BTYD score
    return f"predicted_value_{model}", f"predicted_value_{model}_low", f"predicted_value_{model}_high"


#: The BTYD score whose interval the forecast table carries when the chosen model has none of its own.
STAND_IN = "pnbd"


def forecast_interval_model(pick: str) -> tuple[str, str]:
    """Which model's per-customer interval the forecast table carries for the chosen score ``pick``, and why.

    The parametric bootstrap (:func:`clvlib.models.compare.add_intervals`) gives every BTYD score of
    :data:`INTERVAL_MODELS` its own interval (BG/NBD and Pareto/NBD x Gamma-Gamma, BG/NBD x the
    all-orders Gamma-Gamma, BG/NBD with covariates): when one of them is chosen, the table carries
    its own interval. A model without one (a hybrid, the simple rule) gives a point score only, so
    the table carries :data:`STAND_IN`'s interval, Pareto/NBD x Gamma-Gamma's, with that model's own
    value, and says so. No interval is ever presented as the chosen model's when it is not.

    Why Pareto/NBD: BG/NBD lets a customer leave only right after a repeat purchase, so it counts
    every one-time buyer (98% of people on Olist and the demo) as alive, and its interval misses
    every one who has left; Pareto/NBD lets them leave as they age. On the default demo, at the
    latest backtest cut, the Pareto/NBD interval held the hidden true expected value of 93% of
    customers (one-time buyers 93%, repeat buyers 89%), BG/NBD's of 47% (46%, 92%): stage 06
    shows these figures for every demo run.

    Returns
    -------
    model, sentence
        The BTYD score whose interval the table carries, and one sentence for the report naming the
        columns, whose model they belong to and, for a stand-in, why.

    Examples
    --------
    >>> forecast_interval_model("btyd:bgnbd+cov")[0]
    'bgnbd+cov'
    >>> forecast_interval_model("hybrid:rfm+details")[0]
    'pnbd'
    """
    own = {btyd_column(n): n for n in INTERVAL_MODELS}  # models with an interval of their own
    model = own.get(pick, STAND_IN)
    value, low, high = interval_columns(model)
    if btyd_column(model) == pick:
        return model, (f"`{low}` / `{high}` are the interval of the chosen model, {model_label(pick)}, for the quantity "
                       f"its value `predicted_value` (also in `{value}`) estimates.")
    why = ("a gradient-boosting model gives a point prediction, not a distribution" if is_hybrid(pick)
           else "it is a ranking rule, not a probability model" if pick == SIMPLE_RULE
           else "the parametric bootstrap does not cover it")
    return model, (f"{model_label(pick)} has no per-customer interval ({why}), so the table carries the interval of "
                   f"{model_label(btyd_column(model))}, the model that lets a one-time buyer leave (BG/NBD counts every "
                   f"one as alive): `{low}` / `{high}`, which go with that model's own value `{value}`, not with "
                   "`predicted_value`.")


#: Why a prediction can lie outside its own interval, for the reports.
SKEW_NOTE = ("The value is the mean of the distribution the interval is taken from, and that distribution is very skewed "
             "(with few repeat buyers, most draws of a customer's purchase rate are tiny and a few are large; a customer "
             "who has probably left draws 0 most of the time), so for many customers the value lies above the "
             "interval's upper end.")


#: What an interval that draws each customer's own traits is of; :func:`clvlib.models.compare.add_intervals` names it
#: in its sentence (stored in ``clv_model_params.json``), and :func:`_draws_traits` recognises the sentence by it.
TRAITS_INTERVAL = "the customer's true expected value"


def _draws_traits(note: str) -> bool:
    """Whether an interval's sentence (:func:`clvlib.models.compare.add_intervals`) says it draws each customer's own
    traits: only such an interval is of :data:`TRAITS_INTERVAL`, and skewed enough for :data:`SKEW_NOTE`
    (an MCMC fit's credible interval, or one of the parameters only, holds its value)."""
    return TRAITS_INTERVAL in note


def coverage_sentence(coverage: Sequence[Mapping[str, Any]] | None) -> str:
    """How often an interval held the demo's true expected value (the records of ``coverage_of_truth``), or ``""``.

    Examples
    --------
    >>> coverage_sentence([{"customers": "all customers", "coverage": 0.466},
    ...                    {"customers": "one-time buyers", "coverage": 0.459}, {"customers": "repeat buyers", "coverage": 0.923}])[:80]
    'On this demo, where the truth is known, it held the true expected value of 47% o'
    """
    if not coverage:
        return ""
    by = {r["customers"]: r["coverage"] for r in coverage if r.get("coverage") is not None}  # NaN is written as null
    if "all customers" not in by:
        return ""
    parts = ", ".join(f"{k} {by[k]:.0%}" for k in ("one-time buyers", "repeat buyers") if k in by)
    return (f"On this demo, where the truth is known, it held the true expected value of {by['all customers']:.0%} of "
            f"customers at the latest backtest{f' ({parts})' if parts else ''}; stage 06 says why.")


def forecast_interval_text(pick: str, notes: Mapping[str, str],
                           coverage: Mapping[str, Sequence[Mapping[str, Any]] | None] | None = None) -> str:
    """The forecast report's paragraph on its intervals: whose they are (:func:`forecast_interval_model`) and what they cover.

    Parameters
    ----------
    pick
        Score column of the chosen model.
    notes
        BTYD score -> the sentence of :func:`clvlib.models.compare.add_intervals`, for the model of
        :func:`forecast_interval_model` and ``bgnbd``. A sentence saying there is no interval
        ("No per-customer interval: ...") replaces the model's sentence: its columns are then absent.
    coverage
        BTYD score -> its ``coverage_of_truth`` records from stage 06's ``data/evaluation.json`` (the demo only): adds
        :func:`coverage_sentence` for the interval the table carries.
    """
    model, sentence = forecast_interval_model(pick)
    note = notes.get(model, "")
    if note.startswith("No per-customer interval"):
        sentence = f"{model_label(btyd_column(model))} has no per-customer interval in this table. {note}"
        note = ""
    text = f"{sentence} {note}".strip()
    if _draws_traits(note):
        text += " " + SKEW_NOTE
        covered = coverage_sentence((coverage or {}).get(model))
        text += f" {covered}" if covered else ""
    if model != "bgnbd":
        _, low, high = interval_columns("bgnbd")
        text += (f" BG/NBD x Gamma-Gamma's own interval is `{low}` / `{high}`, for `predicted_value_bgnbd`: "
                 + notes.get("bgnbd", ""))
    return text



def prediction_intervals(predictions: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """The per-customer intervals a :func:`predictions_table` holds: BTYD score -> its (low, high) columns.

    BG/NBD's are ``predicted_value_low`` / ``_high`` (its value is ``predicted_value``); another
    score's are ``predicted_value_<name>_low`` / ``_high``. Only intervals with both bounds are listed.

    Examples
    --------
    >>> prediction_intervals(pd.DataFrame(columns=["predicted_value_low", "predicted_value_high",
    ...                                            "predicted_value_bgnbd+first_low", "predicted_value_bgnbd+first_high"]))
    {'bgnbd': ('predicted_value_low', 'predicted_value_high'), 'bgnbd+first': ('predicted_value_bgnbd+first_low', 'predicted_value_bgnbd+first_high')}
    """
    bounds = {name: _bounds(name) for name in INTERVAL_MODELS}
    return {name: cols for name, cols in bounds.items() if set(cols) <= set(predictions.columns)}


def _bounds(name: str) -> tuple[str, str]:
    """The (low, high) columns of a BTYD score's interval in a :func:`predictions_table`."""
    base = "predicted_value" if name == "bgnbd" else f"predicted_value_{name}"
    return f"{base}_low", f"{base}_high"


def prediction_interval_text(notes: Mapping[str, str]) -> str:
    """One line per BTYD score for the report: its interval's columns in the predictions table and what it covers.

    Parameters
    ----------
    notes
        Score name -> the sentence of :func:`clvlib.models.compare.add_intervals` (what the interval
        covers, or why there is none).

    Examples
    --------
    >>> print(prediction_interval_text({"bgnbd+first": "A 90% interval."}).splitlines()[0])
    - BG/NBD x Gamma-Gamma with the first order: `predicted_value_bgnbd+first_low` / `predicted_value_bgnbd+first_high`. A 90% interval.
    """
    lines = []
    for name, note in notes.items():
        low, high = _bounds(name)
        cols = f"`{low}` / `{high}`. " if not note.startswith("No per-customer interval") else ""
        lines.append(f"- {model_label(btyd_column(name))}: {cols}{note}")
    if any(_draws_traits(note) for note in notes.values()):
        lines.append(f"\n{SKEW_NOTE}")
    return "\n".join(lines)
