"""Plain-language summaries the reports display: the marketer's reading and the BTYD parameters.

Each function returns Markdown text built from the tables the stages already have, so the
wording is tested once here instead of living in a notebook cell.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from clvlib.evaluation.recommend import Recommendation
from clvlib.models.scores import BASELINE, SIMPLE_RULE, btyd_column, model_label

__all__ = ["marketer_summary", "marketer_facts", "clv_table_pointer", "btyd_parameter_reading", "uniform_trait_text"]

_MARKETER_COLUMNS = ("model", "normalized_gini", "gini_low", "gini_high", "top10_share",
                     "diff_vs_bgnbd", "diff_low", "diff_high")
_BTYD_PARAMETERS = ("r", "alpha", "a", "b", "p", "q", "v")


def _sure_sentence(rec: Recommendation, pick: pd.Series, chosen_by: str | None = None) -> str:
    """How sure we are that the pick is the one to use.

    With ``chosen_by`` (the backtest's verdict, :func:`clvlib.evaluation.backtest.backtest_text`), the
    choice was made on earlier cuts: say so, then how the pick did against BG/NBD on this holdout.
    """
    if chosen_by is not None:
        vs = ("" if rec.pick == rec.baseline or pd.isna(pick.get("diff_vs_bgnbd")) else
              f" On this holdout, a cut-off the choice did not use, it differs from BG/NBD by {pick['diff_vs_bgnbd']:+.3f} in "
              f"Gini (paired 95% interval {pick['diff_low']:+.3f} to {pick['diff_high']:+.3f}).")
        return f"Chosen on the backtests at earlier cut-offs: {chosen_by}{vs}"
    if rec.reliable:
        return (f"{model_label(rec.pick)} beats BG/NBD by {pick['diff_vs_bgnbd']:+.3f} in Gini (95% interval "
                f"{pick['diff_low']:+.3f} to {pick['diff_high']:+.3f}): a real improvement, not noise.")
    sure = ("No model beats BG/NBD reliably here (every paired 95% interval of the difference includes zero or "
            "lies below it), "
            "so the established BG/NBD score is the one to use.")
    if rec.ahead:
        sure += " " + "; ".join(f"{model_label(c.model)} scored higher ({c.diff:+.3f}, interval {c.diff_low:+.3f} to "
                                f"{c.diff_high:+.3f})" for c in rec.ahead) + ", but not reliably."
    return sure


def _clickstream_sentence(placebo: pd.DataFrame) -> str:
    """What the clickstream adds: nothing usable through a synthetic link, the key row's gain otherwise."""
    if placebo is None or placebo.empty:
        return "this dataset has no event log; every score comes from the transactions alone."
    if "key" not in set(placebo.get("link", [])):
        return "on these data the link to the clickstream is synthetic; it adds nothing a marketer can use."
    added = float(placebo.set_index("link").loc["key", "added_by_click"])
    return "through the real key, clickstream behaviour changes the Gini by " + format(added, "+.3f") + "."


def _top10_interval(boot: pd.DataFrame | None, model: str) -> tuple[float, float] | None:
    """The bootstrap interval of ``model``'s top-10% capture, when ``boot`` has it."""
    if boot is None or not {"model", "metric", "low", "high"} <= set(boot.columns):
        return None
    row = boot[(boot["model"] == model) & (boot["metric"] == "top10_share")]
    return (float(row["low"].iloc[0]), float(row["high"].iloc[0])) if len(row) else None


def _rule_sentence(simple: pd.Series, pick: pd.Series, label: str, boot: pd.DataFrame | None, pick_model: str) -> str:
    """When the simple rule captured more at the top 10% than the pick: say so, and what it means."""
    if not simple["top10_share"] > pick["top10_share"]:
        return ""
    a, b = _top10_interval(boot, SIMPLE_RULE), _top10_interval(boot, pick_model)
    if a is not None and b is not None:
        overlap = a[0] <= b[1] and b[0] <= a[1]
        noise = (f" (95% intervals {a[0]:.0%} to {a[1]:.0%} and {b[0]:.0%} to {b[1]:.0%}"
                 + ("; they overlap, so one holdout cannot tell the two apart at 10%)" if overlap else ")"))
    else:
        noise = " (one holdout; no interval was computed for this share)"
    return (f"\n  **Note:** for a list of exactly the top 10%, the simple rule did better on this holdout "
            f"({simple['top10_share']:.0%} against {pick['top10_share']:.0%}){noise}. The recommendation rests on the "
            f"whole ranking (normalized Gini), where {label} is ahead; if you will only ever contact about a tenth "
            "of your customers, ranking by past spend is as good a choice here.")


def marketer_facts(
    table: pd.DataFrame,
    recommendation: Recommendation,
    buyers_share: float,
    horizon_days: int,
    *,
    top10_predicted: float | None = None,
    revenue: float | None = None,
    currency: str = "BRL",
) -> dict[str, Any]:
    """The figures behind the marketer summary, for ``metrics.json`` and the index page.

    Parameters
    ----------
    table, recommendation, buyers_share, horizon_days
        As for :func:`marketer_summary`.
    top10_predicted
        Predicted revenue over the horizon of the top 10% by the recommended model (None when
        the model is a score, not a forecast).
    revenue
        Actual holdout revenue of all customers.
    currency
        Currency of the amounts.

    Returns
    -------
    dict
        ``model``, ``model_label``, ``reliable``, ``top10_share``, ``simple_rule_top10_share``,
        ``normalized_gini`` with ``gini_low`` and ``gini_high``, ``simple_rule_gini``,
        ``diff_vs_bgnbd`` with ``diff_low`` and ``diff_high`` (None for BG/NBD itself),
        ``buyers_share``, ``horizon_days``, ``top10_predicted_revenue``,
        ``top10_actual_revenue`` (None without ``revenue``), ``currency``.
    """
    t = table.set_index("model")
    p, simple = t.loc[recommendation.pick], t.loc[SIMPLE_RULE]

    def num(v: Any) -> float | None:
        return None if v is None or pd.isna(v) else float(v)

    return {
        "model": recommendation.pick, "model_label": model_label(recommendation.pick),
        "reliable": bool(recommendation.reliable), "top10_share": num(p["top10_share"]),
        "simple_rule_top10_share": num(simple["top10_share"]), "normalized_gini": num(p["normalized_gini"]),
        "gini_low": num(p["gini_low"]), "gini_high": num(p["gini_high"]),
        "simple_rule_gini": num(simple["normalized_gini"]), "diff_vs_bgnbd": num(p["diff_vs_bgnbd"]),
        "diff_low": num(p["diff_low"]), "diff_high": num(p["diff_high"]), "buyers_share": float(buyers_share),
        "horizon_days": int(horizon_days), "top10_predicted_revenue": num(top10_predicted),
        "top10_actual_revenue": None if revenue is None else float(p["top10_share"] * revenue),
        "currency": currency,
    }


def marketer_summary(
    table: pd.DataFrame,
    recommendation: Recommendation,
    placebo: pd.DataFrame,
    buyers_share: float,
    horizon_days: int,
    *,
    boot: pd.DataFrame | None = None,
    top10_predicted: float | None = None,
    revenue: float | None = None,
    currency: str = "BRL",
    chosen_by: str | None = None,
) -> str:
    """The "For a marketer" bullet list of the evaluation report, in Markdown.

    Who to target (the recommended model and its top-10% capture), how it compares with
    the simple rule (and, when the rule captured more at the top 10%, what that means),
    how sure we are (its interval and the paired difference from BG/NBD), what to expect
    (with the revenue predicted and seen for the top 10% when given), and what the
    clickstream adds.

    Required columns
    ----------------
    ``table``: ``model`` (unique), ``normalized_gini``, ``gini_low``, ``gini_high``,
    ``top10_share``, ``diff_vs_bgnbd``, ``diff_low``, ``diff_high``, with rows for the
    recommended model and for the simple rule (``calibration_spend``).
    ``placebo``: ``link`` and ``added_by_click`` (may be empty, without columns).
    ``boot`` (optional): ``model``, ``metric``, ``low``, ``high``.

    Parameters
    ----------
    table
        :func:`clvlib.evaluation.summary.metrics_table` output, built with a paired
        bootstrap against BG/NBD x Gamma-Gamma.
    recommendation
        :func:`clvlib.evaluation.recommend.recommend` of that table.
    placebo
        :func:`clvlib.evaluation.summary.placebo_table` of that table; a ``key`` row
        means the data has a real customer-clickstream key.
    buyers_share
        Share of customers who bought in the holdout (0.012 for 1.2%).
    horizon_days
        Length of the holdout window in days.
    boot
        The bootstrap behind ``table``: gives the intervals of the top-10% captures.
    top10_predicted
        Predicted revenue over the horizon of the top 10% by the recommended model.
    revenue
        Actual holdout revenue of all customers (the top 10% captured ``top10_share`` of it).
    currency
        Currency of the amounts.
    chosen_by
        How the recommendation was chosen when it was chosen on backtests (a sentence); without
        it, the recommendation is read as chosen by the paired bootstrap of ``table``.

    Returns
    -------
    str
        Markdown, starting and ending with a newline, with five bullets.

    Raises
    ------
    ValueError
        When a column or row is missing, or the recommendation's baseline is not
        BG/NBD x Gamma-Gamma (the wording names BG/NBD).
    """
    if recommendation.baseline != BASELINE:
        raise ValueError(
            f"marketer_summary: the wording compares with BG/NBD ({BASELINE!r}) but the recommendation's "
            f"baseline is {recommendation.baseline!r}; recommend(table, baseline={BASELINE!r})."
        )
    missing = [c for c in _MARKETER_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"marketer_summary: the metrics table lacks column(s) {missing}; build it with "
                         "metrics_table(y, scores, boot) and a bootstrap against the baseline.")
    t = table.set_index("model")
    absent = [m for m in (SIMPLE_RULE, recommendation.pick) if m not in t.index]
    if absent:
        raise ValueError(f"marketer_summary: the metrics table has no row for {absent}; include "
                         f"{SIMPLE_RULE!r} and the recommended model in the scores.")
    simple, p = t.loc[SIMPLE_RULE], t.loc[recommendation.pick]
    label = model_label(recommendation.pick)
    lift10 = p["top10_share"] / 0.10
    sure = _sure_sentence(recommendation, p, chosen_by)
    rule = _rule_sentence(simple, p, label, boot, recommendation.pick)
    money = ""
    if top10_predicted is not None:
        money = (f"\n  The top 10% by {label} are predicted to spend **{top10_predicted:,.0f} {currency}** over the "
                 f"next {horizon_days} days")
        money += (f"; in the holdout they spent {p['top10_share'] * revenue:,.0f} {currency}." if revenue is not None
                  else ".")
    return f"""
- **Who to target:** rank customers by **{label}** and start from the top. The top 10% of that ranking
  captured **{p['top10_share']:.0%}** of the revenue from returning customers in the holdout: **{lift10:.1f}x** what a random 10% would.
- **Against the simple rule** (rank by what they spent so far): top-10% capture {simple['top10_share']:.0%} for the rule vs {p['top10_share']:.0%};
  normalized Gini {simple['normalized_gini']:.2f} vs {p['normalized_gini']:.2f}.{rule}
- **How sure we are:** the normalized Gini of {label} is {p['normalized_gini']:.2f} (95% interval {p['gini_low']:.2f} to {p['gini_high']:.2f}).
  {sure}
- **What to expect:** only {buyers_share:.1%} of customers bought again within {horizon_days} days. Most of any targeted list will
  not buy; the ranking concentrates the few who will.{money}
- **Clickstream:** {_clickstream_sentence(placebo)}
"""


def clv_table_pointer(pick: str, ranked_by: str, path: str = "data/clv_table.csv") -> str:
    """Where the per-customer table is, and which of its columns follows the recommended model.

    Parameters
    ----------
    pick
        Score column of the recommended model.
    ranked_by
        Score column of the model the CLV table ranks by (its ``predicted_value``, ``decile`` and
        ``segment``: the primary hybrid, chosen before the evaluation).
    path
        The table's path in the workspace.

    Returns
    -------
    str
        One Markdown sentence or two.
    """
    head = f"**The list to act on** is `{path}` (one row per customer, highest predicted value first; also as Parquet)."
    if pick == ranked_by:
        return head + f" It ranks customers by {model_label(pick)}, the recommended model."
    if pick == BASELINE:
        return (head + f" It ranks customers by {model_label(ranked_by)}, chosen before this evaluation; to follow the "
                f"recommendation, sort it by `predicted_value_bgnbd` ({model_label(BASELINE)}) instead.")
    return (head + f" It ranks customers by {model_label(ranked_by)}, chosen before this evaluation; the recommended "
            f"{model_label(pick)} is in `data/clv_scores.parquet` (column `{pick}`).")


def btyd_parameter_reading(params: pd.DataFrame) -> str:
    """The "Reading the parameters" paragraph of the model report, in Markdown.

    Reads the BG/NBD fit: the mean purchase rate while active, ``r / alpha`` per day,
    shown per year (x 365); the mean dropout probability after a purchase,
    ``a / (a + b)``; and the Gamma-Gamma mean order value, ``p v / (q - 1)``.

    Required columns
    ----------------
    ``fit`` (``"bgnbd"``, ``"pnbd"``), ``parameter``, ``estimate``: the ``params_`` of
    each fitted :class:`clvlib.models.btyd.BTYDModel` with a ``fit`` column added. The
    ``bgnbd`` fit needs one row each for ``r``, ``alpha``, ``a``, ``b`` (BG/NBD) and ``p``,
    ``q``, ``v`` (Gamma-Gamma); other fits are not used.

    Parameters
    ----------
    params
        The BTYD parameter table.

    Returns
    -------
    str
        One Markdown paragraph.

    Raises
    ------
    ValueError
        When a column or parameter is missing or repeated, or ``q <= 1`` (the
        Gamma-Gamma mean is then infinite).

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting Your Customers"
       the Easy Way: An Alternative to the Pareto/NBD Model. Marketing Science, 24(2).
    .. [2] Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma Model of Monetary
       Value. http://www.brucehardie.com/notes/025/ (mean spend ``p v / (q - 1)``).
    """
    missing = [c for c in ("fit", "parameter", "estimate") if c not in params.columns]
    if missing:
        raise ValueError(f"btyd_parameter_reading: the parameter table lacks column(s) {missing}; build it with "
                         "pd.concat([m.params_.assign(fit=name) for name, m in fitted.items()]).")
    bg = params[params["fit"] == "bgnbd"]
    repeated = sorted(bg["parameter"][bg["parameter"].duplicated()].unique())
    if repeated:
        raise ValueError(f"btyd_parameter_reading: the bgnbd fit has several rows for parameter(s) {repeated}; "
                         "keep one estimate per parameter.")
    est = dict(zip(bg["parameter"], bg["estimate"].astype(float)))
    absent = [n for n in _BTYD_PARAMETERS if n not in est]
    if absent:
        raise ValueError(f"btyd_parameter_reading: the bgnbd fit has no estimate for {absent}; it needs "
                         f"{list(_BTYD_PARAMETERS)} (BG/NBD and Gamma-Gamma).")
    if not est["q"] > 1:
        raise ValueError(f"btyd_parameter_reading: Gamma-Gamma q = {est['q']:g}; the mean order value p*v/(q-1) "
                         "is finite only for q > 1. Check the spend model's fit.")
    return (
        f"**Reading the parameters.** BG/NBD: purchase rates vary as Gamma(r, alpha), a mean of "
        f"{est['r'] / est['alpha'] * 365:.2f} purchases a year while active; after each purchase a customer "
        f"leaves with probability drawn from Beta(a, b), mean {est['a'] / (est['a'] + est['b']):.0%}. "
        f"Gamma-Gamma (p, q, v): a mean repeat-order value of {est['p'] * est['v'] / (est['q'] - 1):,.0f}, "
        "which is also the expected spend of a one-time buyer. Under BG/NBD a customer can only leave right after "
        "a repeat "
        "purchase, so one-time buyers have P(alive) = 1 and their expected purchases fall only with their age T; "
        "Pareto/NBD lets them age."
    )


def _num(x: float) -> str:
    """A parameter as a reader wants it: ``70,640`` for large values, four significant digits otherwise."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


#: Below this coefficient of variation a fitted mixing distribution gives everyone about the same trait.
UNIFORM_CV = 0.10


def uniform_trait_text(params: pd.DataFrame, max_cv: float = UNIFORM_CV) -> str:
    """Sentences on fits whose purchase or dropout trait is nearly the same for every customer.

    A buy-till-you-die model draws each customer's purchase rate and dropout from a mixing
    distribution; when the fit makes that distribution nearly a point (its coefficient of variation,
    standard deviation over mean, below ``max_cv``), the model treats every customer alike in that
    trait. That is usually the data failing to tell customers apart (too few repeat buyers to tell
    fast leavers from slow ones, a likelihood that is flat along ``a + b``), not a finding about them:
    the report says so rather than showing a = 70,640 without comment.

    Coefficients of variation: Gamma(r, alpha) rates ``1 / sqrt(r)`` (both models' purchase rate,
    Pareto/NBD's dropout rate with ``s``); Beta(a, b) dropout probabilities ``sqrt(b / (a (a + b + 1)))``
    (BG/NBD).

    Required columns
    ----------------
    ``fit`` (``"bgnbd"``, ``"pnbd"``, ``"bgnbd+cov"``; others are not read), ``parameter``, ``estimate``.

    Parameters
    ----------
    params
        The BTYD parameter table (as for :func:`btyd_parameter_reading`).
    max_cv
        The coefficient of variation below which a trait counts as the same for everyone.

    Returns
    -------
    str
        Markdown, one sentence per such trait (``""`` when every fitted trait varies).

    Examples
    --------
    >>> t = pd.DataFrame({"fit": "pnbd", "parameter": ["r", "alpha", "s", "beta"], "estimate": [0.2, 1300, 599, 130817]})
    >>> uniform_trait_text(t)[:80]
    '**Nearly the same for everyone.** Pareto/NBD x Gamma-Gamma: the dropout rate (a '
    """
    missing = [c for c in ("fit", "parameter", "estimate") if c not in params.columns]
    if missing:
        raise ValueError(f"uniform_trait_text: the parameter table lacks column(s) {missing}.")
    said = []
    for fit, rows in params.groupby("fit", sort=False):
        if fit not in ("bgnbd", "pnbd", "bgnbd+cov"):
            continue
        est = dict(zip(rows["parameter"], rows["estimate"].astype(float)))
        traits = []
        if "r" in est and est["r"] > 0 and fit != "bgnbd+cov":  # with covariates, rates also differ by level
            traits.append(("the purchase rate while active", 1 / est["r"] ** 0.5, f"r = {_num(est['r'])}"))
        if fit in ("bgnbd", "bgnbd+cov") and {"a", "b"} <= set(est) and est["a"] > 0 and est["b"] > 0:
            a, b = est["a"], est["b"]
            traits.append((f"the chance of leaving after a purchase (mean {a / (a + b):.0%})",
                           (b / (a * (a + b + 1))) ** 0.5, f"a = {_num(a)}, b = {_num(b)}"))
        if fit == "pnbd" and {"s", "beta"} <= set(est) and est["s"] > 0:
            traits.append((f"the dropout rate (on average one dropout per {est['beta'] / est['s']:,.0f} days)",
                           1 / est["s"] ** 0.5, f"s = {_num(est['s'])}"))
        for what, cv, shown in traits:
            if cv < max_cv:
                by = f"only {cv:.0%}" if cv >= 0.005 else "less than 1%"
                said.append(f"{model_label(btyd_column(str(fit)))}: {what} varies across customers by {by} "
                            f"(coefficient of variation; {shown}), so this fit treats every customer alike in it.")
    if not said:
        return ""
    return ("**Nearly the same for everyone.** " + " ".join(said) + " A mixing distribution this narrow usually "
            "means the data could not tell customers apart in that trait (too few people bought twice), not that they "
            "are alike.")
