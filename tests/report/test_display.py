"""Tests for the caveat boxes of clvlib.report.display: each says only what is true of the data shown."""

from __future__ import annotations

import pandas as pd

from clvlib.report.display import holdout_text, link_caveat, parameters_table, placebo_caveat


def test_no_box_when_only_the_real_key_is_used():
    assert link_caveat(["key"]).data == "<p>Every link here is this data's real key.</p>"
    # without an event log there is no link at all, real or synthetic
    assert link_caveat([]).data == "<p>No customer is linked to an event log here: the models use the transactions alone.</p>"


def test_synthetic_links_on_data_without_a_key_say_no_link_is_real_and_no_shared_period():
    text = link_caveat(["rank", "random"], periods_overlap=False).data
    assert "<b>The rank and random links are synthetic.</b>" in text
    assert "This data has no key between customers and clickstream users, so no link here is real." in text
    assert "does not even cover the same period" in text
    assert "2024" not in text and "Kaggle" not in text  # nothing about a dataset it may not be


def test_synthetic_links_on_keyed_data_name_the_real_key_and_no_missing_period():
    text = link_caveat(["rank", "random", "key"], periods_overlap=True).data
    assert "This data has a real key between customers and clickstream users" in text
    assert "no link here is real" not in text and "same period" not in text


def test_placebo_caveat_only_when_the_placebo_has_a_synthetic_row():
    assert placebo_caveat(pd.DataFrame({"link": ["key"]})).data == ""
    assert placebo_caveat(pd.DataFrame(columns=["link"])).data == ""
    assert "measure the link, not customer behaviour" in placebo_caveat(pd.DataFrame({"link": ["rank", "key"]})).data


def test_a_stage_without_parameters_says_so_instead_of_an_empty_table():
    assert parameters_table({}) == ('<p style="margin-top:8px"><b>Parameters of this run:</b> none (this stage has no '
                                    "parameters).</p>")
    text = parameters_table({"cutoff": "2018-02-28", "analysis_date": None})
    assert "<code>&#x27;2018-02-28&#x27;</code>" in text and "<code>None</code>" in text  # as written with -p


def test_holdout_text_says_the_datasets_currency():
    y = pd.Series([0.0, 10.0, 0.0, 5.0])
    orders = pd.DataFrame({"order_purchase_timestamp": pd.to_datetime(["2018-08-30"])})
    meta = {"cutoff": "2018-02-28", "holdout_end": "2018-08-31", "horizon_days": 184}
    text = holdout_text(y, meta, orders, currency="EUR")
    assert text == ("Holdout: **2018-03-01 to 2018-08-31** (184 days). Of **4 people**, **2 (50.00%) bought again**, "
                    "spending 15 EUR in all.")
    assert "spending 15 BRL" in holdout_text(y, meta, orders)  # the built-in datasets' default


def test_the_training_windows_sentence_says_which_are_cut_short_at_the_cut_off():
    from clvlib.features.temporal import window
    from clvlib.report.display import training_windows_text

    assert training_windows_text(window("2018-02-28", 6, 2, 1)) == (
        " Hybrid training snapshots (labelled over the 6 months after each): 2017-08-31, 2017-07-31.")
    assert training_windows_text(window("2018-02-28", 6, 1, 2, recent_windows=True)) == (
        " Hybrid training snapshots: 2017-08-31, labelled over the 6 months after each, and the 2 after them "
        "(2017-12-31, 2017-10-31), labelled up to the cut-off.")
