"""Tests for clvlib.report.summaries: the marketer's reading and the BTYD parameter reading, numbers by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.evaluation.recommend import Contender, Recommendation
from clvlib.report.summaries import btyd_parameter_reading, marketer_facts, marketer_summary, uniform_trait_text

NAN = np.nan
COLUMNS = ["model", "normalized_gini", "gini_low", "gini_high", "top10_share", "diff_vs_bgnbd", "diff_low", "diff_high"]
TABLE = pd.DataFrame(
    [
        ("calibration_spend", 0.31, 0.25, 0.37, 0.20, -0.09, -0.14, -0.04),
        ("btyd:bgnbd", 0.40, 0.34, 0.46, 0.35, NAN, NAN, NAN),
        ("hybrid:rfm+details", 0.46, 0.40, 0.52, 0.42, 0.06, 0.02, 0.10),
    ],
    columns=COLUMNS,
)
NO_KEY = pd.DataFrame({"link": ["rank", "random"], "added_by_click": [0.08, -0.01]})
WITH_KEY = pd.DataFrame({"link": ["rank", "random", "key"], "added_by_click": [0.08, -0.01, 0.034]})
BASELINE_KEPT = Recommendation("btyd:bgnbd", reliable=False, baseline="btyd:bgnbd")
HYBRID = Recommendation("hybrid:rfm+details", reliable=True, baseline="btyd:bgnbd")


def test_marketer_summary_when_a_model_beats_bgnbd_reliably():
    text = marketer_summary(TABLE, HYBRID, NO_KEY, buyers_share=0.0123, horizon_days=180)
    # top-10% capture 0.42 -> 42%, 0.42 / 0.10 = 4.2x; the rule 0.20 -> 20%
    assert text == """
- **Who to target:** rank customers by **Hybrid GBM: rfm+details** and start from the top. The top 10% of that ranking
  captured **42%** of the revenue from returning customers in the holdout: **4.2x** what a random 10% would.
- **Against the simple rule** (rank by what they spent so far): top-10% capture 20% for the rule vs 42%;
  normalized Gini 0.31 vs 0.46.
- **How sure we are:** the normalized Gini of Hybrid GBM: rfm+details is 0.46 (95% interval 0.40 to 0.52).
  Hybrid GBM: rfm+details beats BG/NBD by +0.060 in Gini (95% interval +0.020 to +0.100): a real improvement, not noise.
- **What to expect:** only 1.2% of customers bought again within 180 days. Most of any targeted list will
  not buy; the ranking concentrates the few who will.
- **Clickstream:** on these data the link to the clickstream is synthetic; it adds nothing a marketer can use.
"""


def test_marketer_summary_keeps_bgnbd_and_lists_the_models_ahead_but_not_reliably():
    table = TABLE.assign(diff_low=[-0.14, NAN, -0.01])
    rec = Recommendation("btyd:bgnbd", False, "btyd:bgnbd", (Contender("hybrid:rfm+details", 0.06, -0.01, 0.10),))
    text = marketer_summary(table, rec, WITH_KEY, buyers_share=0.05, horizon_days=90)
    assert "rank customers by **BG/NBD x Gamma-Gamma**" in text
    assert "captured **35%** of the revenue from returning customers in the holdout: **3.5x**" in text
    assert "top-10% capture 20% for the rule vs 35%;\n  normalized Gini 0.31 vs 0.40." in text
    assert ("the normalized Gini of BG/NBD x Gamma-Gamma is 0.40 (95% interval 0.34 to 0.46).\n"
            "  No model beats BG/NBD reliably here (every paired 95% interval of the difference includes zero or lies "
            "below it), so the established BG/NBD score is the one to use. Hybrid GBM: rfm+details scored higher "
            "(+0.060, interval -0.010 to +0.100), but not reliably.\n") in text
    assert "only 5.0% of customers bought again within 90 days." in text
    assert "- **Clickstream:** through the real key, clickstream behaviour changes the Gini by +0.034.\n" in text


def test_marketer_summary_without_models_ahead_says_only_that_bgnbd_is_kept():
    text = marketer_summary(TABLE, BASELINE_KEPT, pd.DataFrame(), buyers_share=0.01, horizon_days=365)
    assert "so the established BG/NBD score is the one to use.\n" in text
    assert "scored higher" not in text
    # an empty placebo table: no clickstream model was built, so the data has no event log
    assert "- **Clickstream:** this dataset has no event log; every score comes from the transactions alone.\n" in text
    synthetic = marketer_summary(TABLE, BASELINE_KEPT, NO_KEY, buyers_share=0.01, horizon_days=365)
    assert "on these data the link to the clickstream is synthetic; it adds nothing a marketer can use." in synthetic


def test_marketer_summary_needs_the_simple_rule_row():
    with pytest.raises(ValueError, match=r"no row for \['calibration_spend'\]"):
        marketer_summary(TABLE.iloc[1:], HYBRID, NO_KEY, 0.01, 180)


def test_marketer_summary_needs_the_bootstrap_columns():
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['gini_low', 'gini_high'\]"):
        marketer_summary(TABLE.drop(columns=["gini_low", "gini_high"]), HYBRID, NO_KEY, 0.01, 180)


def test_marketer_summary_refuses_a_baseline_other_than_bgnbd():
    rec = Recommendation("btyd:pnbd", False, "btyd:pnbd")
    with pytest.raises(ValueError, match="the wording compares with BG/NBD"):
        marketer_summary(TABLE, rec, NO_KEY, 0.01, 180)


RULE_AHEAD = TABLE.assign(top10_share=[0.29, 0.35, 0.25])  # the demo's case: the rule captures more at 10%
BOOT = pd.DataFrame({"model": ["calibration_spend", "hybrid:rfm+details", "hybrid:rfm+details"],
                     "metric": ["top10_share", "top10_share", "normalized_gini"],
                     "low": [0.19, 0.17, 0.4], "high": [0.39, 0.33, 0.52]})


def test_marketer_summary_discusses_a_simple_rule_that_captures_more_at_the_top_10_percent():
    text = marketer_summary(RULE_AHEAD, HYBRID, NO_KEY, 0.013, 184, boot=BOOT)
    assert ("normalized Gini 0.31 vs 0.46.\n  **Note:** for a list of exactly the top 10%, the simple rule did better "
            "on this holdout (29% against 25%) (95% intervals 19% to 39% and 17% to 33%; they overlap, so one holdout "
            "cannot tell the two apart at 10%). The recommendation rests on the whole ranking (normalized Gini), where "
            "Hybrid GBM: rfm+details is ahead; if you will only ever contact about a tenth of your customers, ranking "
            "by past spend is as good a choice here.\n") in text
    # without the bootstrap it says no interval was computed; when the pick captures more, nothing is added
    assert "(one holdout; no interval was computed for this share)" in marketer_summary(RULE_AHEAD, HYBRID, NO_KEY,
                                                                                         0.013, 184)
    assert "**Note:**" not in marketer_summary(TABLE, HYBRID, NO_KEY, 0.013, 184, boot=BOOT)


def test_marketer_summary_gives_the_revenue_predicted_and_seen_for_the_top_10_percent():
    text = marketer_summary(TABLE, HYBRID, NO_KEY, 0.0123, 180, top10_predicted=12345.6, revenue=10000.0,
                            currency="EUR")
    # top-10% capture 0.42 of 10,000 = 4,200
    assert ("the ranking concentrates the few who will.\n  The top 10% by Hybrid GBM: rfm+details are predicted to "
            "spend **12,346 EUR** over the next 180 days; in the holdout they spent 4,200 EUR.\n") in text


def test_marketer_facts_hold_the_summary_figures_for_metrics_json():
    facts = marketer_facts(TABLE, HYBRID, 0.0123, 180, top10_predicted=500.0, revenue=10000.0)
    assert facts == {
        "model": "hybrid:rfm+details", "model_label": "Hybrid GBM: rfm+details", "reliable": True, "top10_share": 0.42,
        "simple_rule_top10_share": 0.20, "normalized_gini": 0.46, "gini_low": 0.40, "gini_high": 0.52,
        "simple_rule_gini": 0.31, "diff_vs_bgnbd": 0.06, "diff_low": 0.02, "diff_high": 0.10, "buyers_share": 0.0123,
        "horizon_days": 180, "top10_predicted_revenue": 500.0, "top10_actual_revenue": 4200.0, "currency": "BRL"}
    assert marketer_facts(TABLE, BASELINE_KEPT, 0.01, 90)["diff_vs_bgnbd"] is None  # BG/NBD against itself


def btyd_params(**bgnbd: float) -> pd.DataFrame:
    """A parameter table as stage 05 builds it: BG/NBD and Pareto/NBD fits, each with Gamma-Gamma."""
    values = dict(r=0.5, alpha=73.0, a=1.0, b=3.0, p=6.0, q=4.0, v=50.0) | bgnbd
    rows = [("bgnbd", "purchase" if k in ("r", "alpha", "a", "b") else "spend", k, v) for k, v in values.items()]
    rows += [("pnbd", "purchase", k, 9.0) for k in ("r", "alpha", "s", "beta")]
    rows += [("pnbd", "spend", k, 9.0) for k in ("p", "q", "v")]
    return pd.DataFrame(rows, columns=["fit", "model", "parameter", "estimate"])


def test_btyd_parameter_reading_reports_rate_dropout_and_order_value():
    # r/alpha*365 = 0.5/73*365 = 2.5 -> "2.50"; a/(a+b) = 1/4 -> "25%"; p*v/(q-1) = 6*50/3 = 100 -> "100"
    assert btyd_parameter_reading(btyd_params()) == (
        "**Reading the parameters.** BG/NBD: purchase rates vary as Gamma(r, alpha), a mean of 2.50 purchases a "
        "year while active; after each purchase a customer leaves with probability drawn from Beta(a, b), mean 25%. "
        "Gamma-Gamma (p, q, v): a mean repeat-order value of 100, which is also the expected spend of a one-time "
        "buyer. Under BG/NBD a customer can only leave right after a repeat purchase, so one-time buyers have "
        "P(alive) = 1 and their expected purchases fall only with their age T; Pareto/NBD lets them age."
    )


def test_btyd_parameter_reading_formats_large_order_values_with_thousands_separators():
    # r/alpha*365 = 2/73*365 = 10.00; a/(a+b) = 3/(3+1) = 75%; p*v/(q-1) = 3*1000/1.5 = 2,000
    text = btyd_parameter_reading(btyd_params(r=2.0, alpha=73.0, a=3.0, b=1.0, p=3.0, q=2.5, v=1000.0))
    assert "a mean of 10.00 purchases a year" in text
    assert "mean 75%." in text
    assert "a mean repeat-order value of 2,000," in text


def test_btyd_parameter_reading_needs_every_bgnbd_parameter():
    params = btyd_params()
    with pytest.raises(ValueError, match=r"no estimate for \['q', 'v'\]"):
        btyd_parameter_reading(params[~((params["fit"] == "bgnbd") & params["parameter"].isin(["q", "v"]))])


def test_btyd_parameter_reading_refuses_a_repeated_parameter():
    params = btyd_params()
    with pytest.raises(ValueError, match=r"several rows for parameter\(s\) \['r'\]"):
        btyd_parameter_reading(pd.concat([params, params.iloc[[0]]]))


def test_btyd_parameter_reading_refuses_q_at_most_one():
    with pytest.raises(ValueError, match="q = 1; the mean order value p\\*v/\\(q-1\\) is finite only for q > 1"):
        btyd_parameter_reading(btyd_params(q=1.0))


def test_btyd_parameter_reading_needs_the_fit_column():
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['fit'\]"):
        btyd_parameter_reading(btyd_params().drop(columns="fit"))


def test_clv_table_pointer_says_which_column_follows_the_recommendation():
    from clvlib.report.summaries import clv_table_pointer

    same = clv_table_pointer("hybrid:rfm+details", "hybrid:rfm+details")
    assert same.endswith("It ranks customers by Hybrid GBM: rfm+details, the recommended model.")
    assert "sort it by `predicted_value_bgnbd` (BG/NBD x Gamma-Gamma) instead." in clv_table_pointer(
        "btyd:bgnbd", "hybrid:rfm+details")
    assert "is in `data/clv_scores.parquet` (column `btyd:pnbd`)" in clv_table_pointer("btyd:pnbd", "hybrid:rfm+details")


def test_a_fit_that_makes_a_trait_the_same_for_everyone_is_said_in_words():
    # the demo's Pareto/NBD: s = 599 -> CV 1/sqrt(599) = 4.1%, mean rate s/beta: one dropout per 130,817/599 = 218 days;
    # an own export's BG/NBD: a = 70,640, b = 15,450 -> CV sqrt(b/(a(a+b+1))) = 0.16%, mean a/(a+b) = 82%
    params = pd.concat([btyd_params(a=70_640.0, b=15_450.0),
                        pd.DataFrame({"fit": "pnbd", "model": "purchase", "parameter": ["r", "alpha", "s", "beta"],
                                      "estimate": [0.21, 1306.0, 599.0, 130_817.0]})])
    params = params.drop_duplicates(["fit", "parameter"], keep="last")
    text = uniform_trait_text(params)
    assert text.startswith("**Nearly the same for everyone.** BG/NBD x Gamma-Gamma: the chance of leaving after a "
                           "purchase (mean 82%) varies across customers by less than 1% (coefficient of variation; "
                           "a = 70,640, b = 15,450), so this fit treats every customer alike in it. Pareto/NBD x "
                           "Gamma-Gamma: the dropout rate (on average one dropout per 218 days) varies across customers by "
                           "only 4% (coefficient of variation; s = 599)")
    assert "purchase rate" not in text  # r = 0.5 and 0.21: rates vary (CV 141%, 218%)


def test_no_sentence_when_every_fitted_trait_varies_and_a_clear_error_without_the_columns():
    assert uniform_trait_text(btyd_params()) == ""  # r = 0.5, Beta(1, 3), Pareto/NBD s = 9 (CV 33%)
    assert uniform_trait_text(btyd_params(r=150.0)).startswith(
        "**Nearly the same for everyone.** BG/NBD x Gamma-Gamma: the purchase rate while active varies across "
        "customers by only 8% (coefficient of variation; r = 150)")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['fit'\]"):
        uniform_trait_text(btyd_params().drop(columns="fit"))
