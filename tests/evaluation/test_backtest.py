"""Backtests: per-cut measures from hand-made scores, the summary, and the choice on the earlier cuts."""

import numpy as np
import pandas as pd
import pytest

from clvlib.evaluation.backtest import (backtest_summary, backtest_table, backtest_text, choice_sentence,
                                        recommend_by_backtests)

CUTS = [{"cutoff": "2018-02-28", "holdout_end": "2018-03-31"}, {"cutoff": "2018-01-31", "holdout_end": "2018-02-28"}]


def _orders():
    # A buys 100 in Feb (after the 2018-01-31 cut) and 50 in March; B buys 10 in March; C and D never again
    rows = [("A", "o1", "2018-02-10", 100.0), ("A", "o2", "2018-03-05", 50.0), ("B", "o3", "2018-03-20", 10.0),
            ("A", "o0", "2017-12-01", 5.0)]
    return pd.DataFrame(rows, columns=["customer_unique_id", "order_id", "order_purchase_timestamp", "order_value"]).assign(
        order_purchase_timestamp=lambda d: pd.to_datetime(d["order_purchase_timestamp"]))


def _scores():
    people = ["A", "B", "C", "D"]
    frames = []
    for cut, good in (("2018-02-28", [60.0, 20.0, 5.0, 1.0]), ("2018-01-31", [90.0, 1.0, 2.0, 3.0])):
        frames.append(pd.DataFrame({"cut": pd.Timestamp(cut), "customer_unique_id": people,
                                    "calibration_spend": [5.0, 0.0, 0.0, 0.0], "btyd:bgnbd": [1.0, 2.0, 3.0, 4.0],
                                    "hybrid:rfm": good}))
    return pd.concat(frames, ignore_index=True)


def test_each_cut_is_measured_against_the_spend_after_it():
    t = backtest_table(_orders(), _scores(), CUTS)
    at = t.set_index(["cut", "model"])
    assert at.loc[("2018-02-28", "hybrid:rfm"), "actual_revenue"] == 60.0  # A's 50 + B's 10 in March
    assert at.loc[("2018-02-28", "hybrid:rfm"), "buyers"] == 2
    assert at.loc[("2018-01-31", "hybrid:rfm"), "actual_revenue"] == 100.0  # A's February order only
    # hybrid ranks A, B first on the latest cut: a perfect ranking; BG/NBD ranks them last
    assert at.loc[("2018-02-28", "hybrid:rfm"), "normalized_gini"] == pytest.approx(1.0)
    assert at.loc[("2018-02-28", "btyd:bgnbd"), "normalized_gini"] < 0
    assert at.loc[("2018-02-28", "hybrid:rfm"), "ratio"] == pytest.approx(86.0 / 60.0)
    assert np.isnan(at.loc[("2018-02-28", "calibration_spend"), "ratio"])  # a ranking, not a forecast
    # the actual total's standard error, per cut: March y = [50, 10, 0, 0], sd = sqrt(1700 / 3), x sqrt(4) / 60;
    # February y = [100, 0, 0, 0], sd = sqrt(7500 / 3) = 50, x 2 / 100
    assert at.loc[("2018-02-28", "btyd:bgnbd"), "revenue_se"] == pytest.approx(2 * np.sqrt(1700 / 3) / 60)
    np.testing.assert_allclose(t.loc[t["cut"] == "2018-01-31", "revenue_se"], 1.0)


def test_the_summary_gives_mean_spread_and_cuts_beating_bgnbd():
    s = backtest_summary(backtest_table(_orders(), _scores(), CUTS)).set_index("model")
    assert s.loc["hybrid:rfm", "cuts"] == 2 and s.loc["hybrid:rfm", "beats_bgnbd"] == 2
    assert s.loc["hybrid:rfm", "normalized_gini_min"] <= s.loc["hybrid:rfm", "normalized_gini_mean"] <= \
        s.loc["hybrid:rfm", "normalized_gini_max"]
    assert np.isnan(s.loc["btyd:bgnbd", "beats_bgnbd"])


def test_the_choice_is_made_on_the_earlier_cuts_only():
    t = pd.DataFrame({"cut": ["2018-02-28"] * 3 + ["2018-01-31"] * 3 + ["2017-12-31"] * 3,
                      "model": ["btyd:bgnbd", "hybrid:a", "hybrid:b"] * 3,
                      "normalized_gini": [0.30, 0.90, 0.10,   # the latest cut (holdout) favours a: ignored
                                          0.30, 0.31, 0.50,   # b beats BG/NBD at both earlier cuts
                                          0.30, 0.29, 0.40]})
    rec = recommend_by_backtests(t, ["2018-01-31", "2017-12-31"])
    assert rec.pick == "hybrid:b" and rec.reliable
    assert [c.model for c in rec.ahead] == []  # a's mean difference over the earlier cuts is 0: not ahead
    assert choice_sentence(rec, ["2018-01-31", "2017-12-31"]) == (
        "Hybrid GBM: b ranked customers better than BG/NBD x Gamma-Gamma at each of the 2 earlier cut-offs "
        "(2018-01-31, 2017-12-31).")


def test_a_model_ahead_on_average_but_not_at_every_cut_is_a_contender_not_the_choice():
    t = pd.DataFrame({"cut": ["2018-01-31"] * 2 + ["2017-12-31"] * 2, "model": ["btyd:bgnbd", "hybrid:a"] * 2,
                      "normalized_gini": [0.30, 0.60, 0.30, 0.25]})
    rec = recommend_by_backtests(t, ["2018-01-31", "2017-12-31"])
    assert rec.pick == "btyd:bgnbd" and not rec.reliable
    (c,) = rec.ahead
    assert (c.model, c.diff_low, c.diff_high) == ("hybrid:a", pytest.approx(-0.05), pytest.approx(0.30))
    assert "so it is kept" in choice_sentence(rec, ["2018-01-31", "2017-12-31"])


def test_with_a_single_backtest_the_baseline_is_kept_and_the_text_says_why():
    t = backtest_table(_orders(), _scores(), CUTS[:1])
    rec = recommend_by_backtests(t, [])
    assert rec.pick == "btyd:bgnbd"
    assert "no earlier cuts to choose by" in backtest_text(backtest_summary(t), rec, [], "2018-02-28")


def test_a_cut_without_scores_is_named():
    with pytest.raises(ValueError, match=r"no rows at the cut 2017-12-31; cuts present: \['2018-01-31', '2018-02-28'\]"):
        backtest_table(_orders(), _scores(), [{"cutoff": "2017-12-31", "holdout_end": "2018-01-31"}])


def test_on_the_demo_the_observable_ceiling_is_recomputed_at_every_cut_and_each_model_given_as_a_share(monkeypatch):
    import clvlib.demo.observable as obs
    from clvlib.evaluation.backtest import observable_share_text

    seen = []

    def fake(raw_dir, start, end):  # the exact posterior, stood in for by a perfect ranking of the spend after each cut
        seen.append((raw_dir, str(pd.Timestamp(start).date()), str(pd.Timestamp(end).date())))
        value = {"2018-02-28": [50.0, 10.0, 0.0, 0.0], "2018-01-31": [100.0, 1.0, 0.0, 0.0]}[str(pd.Timestamp(start).date())]
        return pd.DataFrame({"observable_expected_value": value}, index=pd.Index(list("ABCD"), name="customer_unique_id"))

    monkeypatch.setattr(obs, "observable_expected_value_from_raw", fake)
    truth = pd.DataFrame({"customer_unique_id": list("ABCD"), "first_purchase": pd.Timestamp("2017-12-01"),
                          "alive_until": pd.Timestamp("2019-01-01"), "purchase_rate_per_day": 0.01,
                          "dropout_rate_per_day": 0.001, "spend_mean": 10.0})
    t = backtest_table(_orders(), _scores(), CUTS, truth=truth, raw_dir="raw")
    assert seen == [("raw", "2018-02-28", "2018-03-31"), ("raw", "2018-01-31", "2018-02-28")]
    g = t.pivot(index="cut", columns="model", values="normalized_gini")
    assert g["observable"].tolist() == pytest.approx([1.0, 1.0])
    assert np.isnan(t.set_index(["cut", "model"]).loc[("2018-02-28", "observable"), "ratio"])  # a ceiling, not a forecast
    share = g.loc["2018-01-31", "hybrid:rfm"]  # share of a ceiling of 1
    assert observable_share_text(t, ["hybrid:rfm", "hybrid:rfm"], ["2018-01-31"], "2018-02-28") == (
        "**The observable ceiling at every cut-off**, recomputed with the data up to each: 1.000 (2018-01-31), "
        f"1.000 (2018-02-28). Hybrid GBM: rfm reaches {share:.0%} of it at the earlier cut-offs and 100% on the holdout.")
    assert observable_share_text(backtest_table(_orders(), _scores(), CUTS), ["hybrid:rfm"], ["2018-01-31"], "2018-02-28") == ""


def test_the_report_says_how_far_each_windows_actual_total_moves_with_who_bought():
    from clvlib.report.backtest import per_cut_view, ratio_noise_text

    t = backtest_table(_orders(), _scores(), CUTS)
    text = ratio_noise_text(t)
    assert "one standard error of it is 79.3% at 2018-02-28, 100.0% at 2018-01-31." in text
    assert "(0.21 to 1.79 at 2018-02-28)" in text  # the smallest band: 1 +- 0.793
    assert ratio_noise_text(t.assign(revenue_se=np.nan)) == ""
    view = per_cut_view(t, "ratio")
    assert list(view.columns) == ["2018-02-28", "2018-01-31"]
    assert view.loc["Hybrid GBM: rfm", "2018-01-31"] == pytest.approx(96.0 / 100.0)


def test_the_ceiling_gap_paragraph_says_the_share_and_the_evidence_only_when_short_of_the_target():
    from clvlib.report.backtest import ceiling_gap_text

    short = ceiling_gap_text("Hybrid GBM: rfm+details+click[key]", 0.904)
    assert short.startswith("**The target.** Hybrid GBM: rfm+details+click[key] reaches 90% of the observable ceiling "
                            "on the holdout, short of the 95% aimed for. A study on the default demo")
    assert "recovers 98-100% of the ceiling" in short and "nothing was tuned on the holdout" in short
    assert ceiling_gap_text("H", 0.95) == ("**The target.** H reaches 95% of the observable ceiling on the holdout, at or "
                                           "above the 95% aimed for.")
    with pytest.raises(ValueError, match="share of the observable ceiling is missing"):
        ceiling_gap_text("H", float("nan"))


def test_the_holdout_overlap_counts_the_days_an_earlier_window_shares_with_the_holdout():
    from clvlib.evaluation.backtest import holdout_overlap_text

    splits = [{"cutoff": "2018-02-28", "holdout_end": "2018-08-31"}, {"cutoff": "2018-01-31", "holdout_end": "2018-07-31"},
              {"cutoff": "2017-12-31", "holdout_end": "2018-06-30"}]
    text = holdout_overlap_text(splits)
    # 2018-03-01 .. 2018-07-31 is 31+30+31+30+31 = 153 of the holdout's 184 days; 2018-06-30's window shares 122
    assert text.startswith("**The holdout is not wholly unseen by the choice.** The window after 2018-01-31, one of the "
                           "cut-offs the model was chosen on, shares 153 of the holdout's 184 days (2 of the earlier "
                           "windows overlap it).")
    assert holdout_overlap_text(splits[:1]) == ""
    apart = [splits[0], {"cutoff": "2017-08-31", "holdout_end": "2018-02-28"}]  # ends the day the holdout's cut is
    assert "all end before the holdout begins" in holdout_overlap_text(apart)
