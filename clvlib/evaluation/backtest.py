"""Backtests: the whole model comparison at several cut-offs, and the model chosen by them.

Stage 05 fits every model at each backtest cut with the data up to that cut only
(:func:`clvlib.models.compare.compare_at`). Here each cut's scores meet what customers then spent
in the horizon after it: :func:`backtest_table` gives each model's normalized Gini, top-10%
capture and total ratio per cut, :func:`backtest_summary` the mean and spread over cuts, and
:func:`recommend_by_backtests` the model to use.

The choice is made on the *earlier* cuts only; the latest cut (the holdout evaluation) then
shows how the chosen model did at a cut the choice did not use. Its window is not wholly unseen:
monthly cuts with a six-month horizon share most of their windows' months
(:func:`holdout_overlap_text` says how many days, and the reports say so). The rule, fixed before looking at
any number: a model replaces BG/NBD x Gamma-Gamma only if its normalized Gini is higher at every
earlier cut; among such models the one with the highest mean normalized Gini is chosen. The
simple rule (spend so far) ranks but does not predict a value, and the demo's truth is a
ceiling, so neither is a candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
import pandas as pd

from clvlib.evaluation.metrics import _as_vector, evaluate
from clvlib.evaluation.recommend import Contender, Recommendation
from clvlib.features.temporal import holdout_labels
from clvlib.models.scores import BASELINE, CEILINGS, OBSERVABLE, SIMPLE_RULE, TRUTH, model_label
from clvlib.schemas import CUSTOMER

__all__ = ["total_relative_se", "backtest_table", "backtest_summary", "recommend_by_backtests", "backtest_text", "choice_sentence",
           "observable_share_text", "holdout_overlap_text", "METRICS"]

#: The per-cut measures: ranking (normalized Gini), targeting (top-10% capture) and size (total ratio).
METRICS = ("normalized_gini", "top10_share", "ratio")


def total_relative_se(y_true: ArrayLike) -> float:
    """Standard error of the total of ``y_true``, as a share of it, with the people as a random sample.

    ``sqrt(n) * sd(y) / sum(y)`` (``sd`` with ``n - 1``): how far the actual total of a window
    moves with who happened to buy in it. A forecast that is right in expectation lands
    within one of these of the actual total about two times in three; with ~1% buyers it is about
    ``sqrt((1 + CV^2) / buyers)``, where CV is the spread of the buyers' spend (on Olist, about
    600 buyers per 6-month window: ~6%).

    Parameters
    ----------
    y_true
        Actual value per person (>= 0).

    Returns
    -------
    float
        NaN with fewer than two people or a zero total.

    Examples
    --------
    >>> round(total_relative_se([0, 0, 10, 0, 30]), 4)  # sqrt(5) * sd / 40, sd = sqrt(680 / 4) = 13.0384
    0.7289
    """
    y = _as_vector(y_true, "y_true")
    total = float(y.sum())
    if len(y) < 2 or total == 0:
        return float("nan")
    return float(np.sqrt(len(y)) * y.std(ddof=1) / total)


def backtest_table(orders: pd.DataFrame, scores: pd.DataFrame, splits: Sequence[dict],
                   truth: pd.DataFrame | None = None, raw_dir: str | Path | None = None) -> pd.DataFrame:
    """Each model's measures at each backtest cut against what customers then spent.

    Parameters
    ----------
    orders
        Cleaned orders (``customer_unique_id``, ``order_id``, ``order_purchase_timestamp``, ``order_value``).
    scores
        Stacked scores (:func:`clvlib.models.compare.stack_scores`): ``cut``, ``customer_unique_id``
        and one column per model.
    splits
        Per cut, ``{"cutoff": "YYYY-MM-DD", "holdout_end": "YYYY-MM-DD", ...}``
        (:func:`clvlib.models.compare.split_record`), latest first.
    truth
        The demo's hidden traits (:func:`clvlib.demo.load_truth`); adds the ``truth`` ceiling per cut
        (:func:`clvlib.demo.ceilings.trait_expected_value`).
    raw_dir
        With ``truth``, the demo's raw folder: adds the ``observable`` ceiling per cut, the best
        prediction possible from the data observable at that cut
        (:func:`clvlib.demo.observable.observable_expected_value_from_raw`, ~5-10 s per cut on the
        default demo).

    Returns
    -------
    pandas.DataFrame
        One row per (cut, model): ``cut``, ``holdout_end``, ``model``, ``name``, ``buyers``,
        ``actual_revenue``, ``revenue_se`` (one standard error of the actual revenue, as a share of
        it: :func:`total_relative_se`), ``normalized_gini``,
        ``top10_share``, ``ratio`` (total predicted over actual; missing for the simple rule and the
        truth, which are rankings, not forecasts).
    """
    if not len(splits):
        raise ValueError("backtest_table: no backtest cut given.")
    rows = []
    for split in splits:
        cut = pd.Timestamp(split["cutoff"])
        at = scores[scores["cut"] == cut]
        if at.empty:
            raise ValueError(f"backtest_table: the scores have no rows at the cut {cut.date()}; "
                             f"cuts present: {sorted(str(c.date()) for c in scores['cut'].unique())}.")
        y = holdout_labels(orders, cut, split["holdout_end"], at[CUSTOMER])["holdout_spend"].to_numpy()
        models = {c: at[c].to_numpy(dtype=float) for c in at.columns if c not in ("cut", CUSTOMER)}
        revenue_se = total_relative_se(y)
        if truth is not None:
            from clvlib.demo.ceilings import trait_expected_value

            tv = trait_expected_value(truth, cut, split["holdout_end"])
            models[TRUTH] = at[CUSTOMER].map(tv).fillna(0.0).to_numpy(dtype=float)
            if raw_dir is not None:
                from clvlib.demo.observable import observable_expected_value_from_raw

                ov = observable_expected_value_from_raw(raw_dir, cut, split["holdout_end"])["observable_expected_value"]
                models[OBSERVABLE] = at[CUSTOMER].map(ov).fillna(0.0).to_numpy(dtype=float)
        for name, s in models.items():
            rankable = name in (SIMPLE_RULE, *CEILINGS)
            m = evaluate(y, np.nan_to_num(s), y_pred=None if rankable else np.nan_to_num(s))
            rows.append({"cut": str(cut.date()), "holdout_end": str(split["holdout_end"]), "model": name,
                         "name": model_label(name), "buyers": int((y > 0).sum()), "actual_revenue": float(y.sum()),
                         "revenue_se": revenue_se, **{k: m.get(k, np.nan) for k in METRICS}})
    return pd.DataFrame(rows)


def backtest_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per model: mean, lowest and highest of each measure over the cuts, and cuts where it beat BG/NBD.

    Returns
    -------
    pandas.DataFrame
        ``model``, ``name``, ``cuts``, ``<metric>_mean`` / ``_min`` / ``_max`` for every metric of
        :data:`METRICS`, ``beats_bgnbd`` (cuts with a higher normalized Gini than BG/NBD x Gamma-Gamma's),
        in the order models first appear in ``table``.
    """
    base = table[table["model"] == BASELINE].set_index("cut")["normalized_gini"]
    rows = []
    for model, g in table.groupby("model", sort=False):
        row = {"model": model, "name": g["name"].iloc[0], "cuts": len(g)}
        for k in METRICS:
            row.update({f"{k}_mean": g[k].mean(), f"{k}_min": g[k].min(), f"{k}_max": g[k].max()})
        gini = g.set_index("cut")["normalized_gini"]
        row["beats_bgnbd"] = int((gini > base.reindex(gini.index)).sum()) if model != BASELINE else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def recommend_by_backtests(table: pd.DataFrame, selection_cuts: Iterable[str], baseline: str = BASELINE,
                           exclude: Iterable[str] = (*CEILINGS, SIMPLE_RULE)) -> Recommendation:
    """The model to use, chosen on the backtest cuts in ``selection_cuts`` only.

    A model replaces ``baseline`` only if its normalized Gini is higher than the baseline's at
    every selection cut; among those, the highest mean normalized Gini wins (the first in table
    order on a tie). Models with a higher mean but not at every cut are returned as contenders,
    with the smallest and largest difference over the cuts in ``diff_low`` / ``diff_high``.
    With no selection cut (a single backtest), the baseline is kept.

    Examples
    --------
    >>> t = pd.DataFrame({"cut": ["2018-01-31", "2018-01-31", "2017-12-31", "2017-12-31"],
    ...                   "model": ["btyd:bgnbd", "hybrid:rfm"] * 2, "normalized_gini": [0.30, 0.35, 0.28, 0.31]})
    >>> recommend_by_backtests(t, ["2018-01-31", "2017-12-31"]).pick
    'hybrid:rfm'
    """
    cuts = [str(c) for c in selection_cuts]
    t = table[table["cut"].isin(cuts)]
    if not cuts or t.empty:
        return Recommendation(pick=baseline, reliable=False, baseline=baseline)
    gini = t.pivot(index="cut", columns="model", values="normalized_gini")
    if baseline not in gini.columns:
        raise ValueError(f"recommend_by_backtests: no {baseline!r} rows at the cuts {cuts}; models: {list(gini.columns)}.")
    order = [m for m in dict.fromkeys(table["model"]) if m in gini.columns and m not in set(exclude) and m != baseline]
    diff = gini[order].sub(gini[baseline], axis=0)
    every = [m for m in order if (diff[m] > 0).all()]
    pick = max(every, key=lambda m: (gini[m].mean(), -order.index(m))) if every else baseline
    ahead = [m for m in order if m not in every and diff[m].mean() > 0]
    return Recommendation(pick=pick, reliable=pick != baseline, baseline=baseline,
                          ahead=tuple(Contender(m, float(diff[m].mean()), float(diff[m].min()), float(diff[m].max()))
                                      for m in ahead))


def backtest_text(summary: pd.DataFrame, rec: Recommendation, selection_cuts: Sequence[str], latest: str) -> str:
    """The backtest's verdict in words: what was chosen on which cuts, and by how much."""
    s = summary.set_index("model")
    n = len(selection_cuts)
    if n == 0:
        return (f"With a single backtest cut ({latest}) there are no earlier cuts to choose by, so "
                f"{model_label(rec.baseline)} is kept. Run more backtests (`-p n_backtests 4`) to choose on evidence.")
    cuts = f"the {n} earlier cut{'s' if n > 1 else ''} ({', '.join(selection_cuts)})"
    if rec.reliable:
        g = s.loc[rec.pick]
        text = (f"**{model_label(rec.pick)}** ranked customers better than {model_label(rec.baseline)} at every one of "
                f"{cuts}, with the highest mean normalized Gini of those that did, so it is the model to use. ")
    else:
        text = (f"No model ranked customers better than {model_label(rec.baseline)} at every one of {cuts}, so "
                f"**{model_label(rec.baseline)}** is kept. ")
        if rec.ahead:
            names = ", ".join(f"{model_label(c.model)} (by {c.diff:+.3f} on average, from {c.diff_low:+.3f} to "
                              f"{c.diff_high:+.3f})" for c in rec.ahead)
            text += f"Higher on average but not at every cut: {names}. "
    g = s.loc[rec.pick]
    text += (f"Over all backtest cuts including the latest ({latest}), {model_label(rec.pick)} had a mean normalized "
             f"Gini of {g['normalized_gini_mean']:.3f} (from {g['normalized_gini_min']:.3f} to "
             f"{g['normalized_gini_max']:.3f}) and its top 10% captured {g['top10_share_mean']:.0%} of the revenue on average.")
    return text


def holdout_overlap_text(backtests: Sequence[dict]) -> str:
    """How much of the holdout's window the earlier backtest windows, on which the model was chosen, share.

    Each cut's window runs from the day after the cut to its ``holdout_end``. With monthly cuts and a
    six-month horizon the window after the cut a month earlier shares five of the holdout's six
    months: whoever bought in those days counted in the choice, so the holdout checks the choice at
    one more cut-off, not on months it never saw.

    Parameters
    ----------
    backtests
        The splits, latest (the holdout) first: ``cutoff`` and ``holdout_end`` as ISO dates
        (:func:`clvlib.models.compare.split_record`).

    Returns
    -------
    str
        Markdown; ``""`` without an earlier cut.

    Examples
    --------
    >>> holdout_overlap_text([{"cutoff": "2018-02-28", "holdout_end": "2018-08-31"},
    ...                       {"cutoff": "2018-01-31", "holdout_end": "2018-07-31"}])[:75]
    '**The holdout is not wholly unseen by the choice.** The window after 2018-0'
    """
    if len(backtests) < 2:
        return ""
    start, end = pd.Timestamp(backtests[0]["cutoff"]), pd.Timestamp(backtests[0]["holdout_end"])
    shared = {b["cutoff"]: (min(end, pd.Timestamp(b["holdout_end"])) - max(start, pd.Timestamp(b["cutoff"]))).days
              for b in backtests[1:]}
    shared = {c: d for c, d in shared.items() if d > 0}
    if not shared:
        return ("The windows after the earlier cut-offs, on which the model was chosen, all end before the holdout "
                "begins: the holdout's months are unseen by the choice.")
    c = max(shared, key=shared.get)
    return (f"**The holdout is not wholly unseen by the choice.** The window after {c}, one of the cut-offs the model "
            f"was chosen on, shares {shared[c]} of the holdout's {(end - start).days} days"
            + (f" ({len(shared)} of the earlier windows overlap it)" if len(shared) > 1 else "")
            + ". Whoever bought in the shared days counted in the choice, so the holdout checks the choice at one more "
            "cut-off rather than on months it never saw; only the forecast's own future is truly unseen.")


def choice_sentence(rec: Recommendation, selection_cuts: Sequence[str]) -> str:
    """One sentence: which model the earlier backtest cuts chose, and on what grounds."""
    n = len(selection_cuts)
    if n == 0:
        return (f"with a single backtest cut there was nothing earlier to choose by, so {model_label(rec.baseline)} "
                "is kept.")
    cuts = f"{'each of the ' + str(n) + ' earlier cut-offs' if n > 1 else 'the earlier cut-off'} ({', '.join(selection_cuts)})"
    if rec.reliable:
        return f"{model_label(rec.pick)} ranked customers better than {model_label(rec.baseline)} at {cuts}."
    return f"no model ranked customers better than {model_label(rec.baseline)} at {cuts}, so it is kept."


def observable_share_text(table: pd.DataFrame, models: Sequence[str], selection_cuts: Sequence[str], latest: str) -> str:
    """Each model's normalized Gini as a share of the observable ceiling at every backtest cut (demo only).

    Parameters
    ----------
    table
        :func:`backtest_table` with the ``observable`` rows (``truth`` and ``raw_dir`` given).
    models
        The score columns to report (e.g. the primary hybrid and the chosen model; repeats are dropped).
    selection_cuts, latest
        The earlier cuts (``YYYY-MM-DD``) and the holdout's cut.

    Returns
    -------
    str
        Markdown: the ceiling at each cut and each model's share of it there, the earlier cuts
        first, then the holdout; ``""`` without ``observable`` rows.
    """
    if OBSERVABLE not in set(table["model"]):
        return ""
    gini = table.pivot(index="cut", columns="model", values="normalized_gini")
    cuts = [c for c in [*selection_cuts, latest] if c in gini.index]
    ceiling = ", ".join(f"{gini.loc[c, OBSERVABLE]:.3f} ({c})" for c in cuts)
    parts = []
    for m in dict.fromkeys(models):
        if m not in gini.columns:
            continue
        share = {c: gini.loc[c, m] / gini.loc[c, OBSERVABLE] for c in cuts}
        said = ([f"{', '.join(f'{share[c]:.0%}' for c in cuts if c != latest)} of it at the earlier cut-offs"]
                if len(cuts) > (latest in share) else []) + ([f"{share[latest]:.0%} on the holdout"] if latest in share else [])
        parts.append(f"{model_label(m)} reaches {' and '.join(said)}")
    return (f"**The observable ceiling at every cut-off**, recomputed with the data up to each: {ceiling}. "
            + "; ".join(parts) + ".")
