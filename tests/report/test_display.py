"""Tests for the caveat boxes of clvlib.report.display: each says only what is true of the data shown."""

from __future__ import annotations

import pandas as pd

from clvlib.report.display import link_caveat, placebo_caveat


def test_no_box_when_only_the_real_key_is_used():
    assert link_caveat(["key"]).data == "<p>Every link here is this data's real key.</p>"


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
