"""Tests for clvlib.report.figures: axes a reader can trust (units, no negative ticks for amounts), hand-checked values."""

from __future__ import annotations

import pandas as pd

from clvlib.report import figures


def test_link_scatter_has_no_negative_ticks_for_a_non_negative_amount():
    frames = {"rank": pd.DataFrame({"spend": [10.0, 100.0, 1000.0], "amount": [0.0, 5.0, 2500.0]}),
              "random": pd.DataFrame({"spend": [10.0, 100.0, 1000.0], "amount": [2500.0, 0.0, 5.0]})}
    fig = figures.link_scatter(frames, "spend", "amount", "spend to cut-off (BRL)", "clickstream purchase amount")
    for ax in fig.axes:
        assert ax.get_yscale() == "symlog" and ax.get_ylim()[0] == 0
        assert list(ax.get_yticks()) == [0, 1, 10, 100, 1000]  # max 2,500: ticks up to 10^3, never below 0
    assert [ax.get_ylabel() for ax in fig.axes] == ["clickstream purchase amount", ""]  # the panels share it
    long = "linked user's clickstream purchase amount (the event log's own unit)"
    assert figures.link_scatter(frames, "spend", "amount", "x", long).axes[0].get_ylabel() == (
        "linked user's clickstream purchase\namount (the event log's own unit)")  # wrapped to the panel's height
    assert [ax.get_title() for ax in fig.axes] == ["rank link: Spearman +1.00", "random link: Spearman -0.50"]


def test_correlation_heatmap_writes_each_spearman_correlation_in_its_cell():
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [10, 20, 30, 40], "c": [4, 3, 2, 1]})
    fig = figures.correlation_heatmap(frame, {"a": "orders", "b": "spend (BRL)", "c": "recency (days)"}, "t")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    # a and b rise together (+1), c falls as they rise (-1)
    assert texts == ["1.00", "1.00", "-1.00", "1.00", "1.00", "-1.00", "-1.00", "-1.00", "1.00"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["orders", "spend (BRL)", "recency (days)"]


def test_decile_revenue_draws_predicted_and_actual_totals_with_the_currency():
    deciles = pd.DataFrame({"bin": [1, 2], "sum_predicted": [300.0, 100.0], "sum_actual": [250.0, 50.0]})
    fig = figures.decile_revenue(deciles, "By BG/NBD", currency="EUR")
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == [300.0, 100.0, 250.0, 50.0]
    assert ax.get_ylabel() == "revenue of the decile (EUR)"
    only_predicted = figures.decile_revenue(deciles.drop(columns="sum_actual"), "t").axes[0]
    assert [p.get_height() for p in only_predicted.patches] == [300.0, 100.0]


def test_value_distribution_has_a_title_and_units():
    fig = figures.value_distribution(pd.Series([10.0, 20.0, 30.0, 1000.0]), label="order value (BRL)")
    ax = fig.axes[0]
    assert ax.get_title() == "Order values: 4 orders"
    assert ax.get_xlabel() == "order value (BRL) (log scale)" and ax.get_ylabel() == "orders"


def test_share_axes_read_as_percentages_and_every_evaluation_figure_has_a_title():
    import numpy as np
    import pandas as pd

    from clvlib.report.figures import event_shares, plot_intervals, plot_lorenz

    ax = event_shares(pd.Series(["view"] * 3 + ["purchase"])).axes[0]
    assert ax.get_xlabel() == "share of events (%)" and ax.xaxis.get_major_formatter()(0.25, 0) == "25%"
    y = np.array([0.0, 10.0, 0.0, 5.0])
    ax = plot_lorenz(y, pd.DataFrame({"btyd:bgnbd": [0.1, 0.9, 0.2, 0.5]}), ["btyd:bgnbd"]).axes[0]
    assert ax.get_title() and ax.get_ylabel().endswith("(%)") and ax.yaxis.get_major_formatter()(0.5, 0) == "50%"
    table = pd.DataFrame({"name": ["a"], "normalized_gini": [0.2], "gini_low": [0.1], "gini_high": [0.3]})
    ax = plot_intervals(table).axes[0]
    assert ax.get_title() and "0 = random order, 1 = perfect" in ax.get_xlabel()


def test_the_backtest_figure_tells_the_simple_rule_from_the_ceiling():
    import pandas as pd

    from clvlib.report.backtest import plot_backtest

    rows = [(cut, m, name, g) for cut in ("2018-01-31", "2018-02-28")
            for m, name, g in (("calibration_spend", "Calibration spend (simple rule)", 0.3),
                               ("btyd:bgnbd", "BG/NBD x Gamma-Gamma", 0.2), ("truth", "Hidden true expected value (ceiling)", 0.9))]
    table = pd.DataFrame(rows, columns=["cut", "model", "name", "normalized_gini"])
    lines = {ln.get_label(): ln for ln in plot_backtest(table, "btyd:bgnbd").axes[0].get_lines()}
    rule, ceiling = lines["Calibration spend (simple rule)"], lines["Hidden true expected value (ceiling)"]
    assert (rule.get_color(), rule.get_linestyle()) != (ceiling.get_color(), ceiling.get_linestyle())
    # the caption reads "the dashed BG/NBD line": dashed also when BG/NBD is the chosen model
    assert lines["BG/NBD x Gamma-Gamma"].get_linestyle() == "--"
