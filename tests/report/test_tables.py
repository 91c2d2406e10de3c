"""Tests for clvlib.report.tables: what a reader sees in each cell, the index, long and wide tables."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from clvlib.report.tables import MISSING, format_frame, format_value, show_table, significant, table_html


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1234567, "1,234,567"),
        (np.int64(-5000), "-5,000"),
        (2.0, "2"),
        (1234.5678, "1,234.57"),
        (0.0049, "0.005"),
        (True, "yes"),
        (np.bool_(False), "no"),
        (None, MISSING),
        (float("nan"), MISSING),
        (pd.NaT, MISSING),
        (pd.NA, MISSING),
        (float("inf"), "∞"),
        (pd.Timestamp("2017-08-17 00:55:07.890000128"), "2017-08-17 00:55"),
        (pd.Timestamp("2017-08-17"), "2017-08-17"),
        ("rank", "rank"),
        ("", MISSING),
        (-0.0001, "0.000"),
        (-0.0, "0"),
    ],
    ids=["int", "numpy int", "whole float", "float", "small float", "true", "numpy false", "none", "nan", "nat",
         "pd.NA", "inf", "timestamp to the minute", "midnight to the day", "text", "empty text",
         "negative number rounded to zero", "negative zero"],
)
def test_format_value_reads_like_a_report(value, expected):
    assert format_value(value) == expected


def test_format_frame_drops_a_meaningless_index_and_formats_each_column():
    df = pd.DataFrame(
        {"people": [93357, 5], "share": [0.0123, 0.5], "spend": [165.199, 1000.0], "unique": [True, None],
         "first": pd.to_datetime(["2017-08-17 00:55:07.890000128", "2018-01-01 12:00:00"], format="ISO8601")},
        index=[30, 31],  # a filtered frame: positions, not meaning
    )
    out = format_frame(df, headers={"spend": "mean spend (BRL)"})
    expected = pd.DataFrame(
        {"people": ["93,357", "5"], "share": ["1.2%", "50.0%"], "mean spend (BRL)": ["165.20", "1,000.00"],
         "unique": ["yes", MISSING], "first": ["2017-08-17 00:55", "2018-01-01 12:00"]}
    )
    pd.testing.assert_frame_equal(out, expected)


def test_format_frame_keeps_a_named_index_and_shows_dates_at_midnight_to_the_day():
    df = pd.DataFrame({"n": [1, 2]}, index=pd.Index(pd.to_datetime(["2018-02-28", "2018-03-31"]), name="cut"))
    out = format_frame(df)
    assert out.to_dict("list") == {"cut": ["2018-02-28", "2018-03-31"], "n": ["1", "2"]}


def test_format_frame_reads_iso_strings_as_dates_and_flattens_multiindex_columns():
    df = pd.DataFrame({("min", ""): ["2024-01-01 00:01:35.004064", None], ("gini", "low"): [0.1, np.nan]})
    out = format_frame(df, formats={"gini · low": "{:.1%}"})
    assert out.to_dict("list") == {"min": ["2024-01-01 00:01", MISSING], "gini · low": ["10.0%", MISSING]}


def test_a_share_column_reads_as_percentages_unless_it_holds_something_else():
    df = pd.DataFrame({"p_le_0": [0.688, np.nan], "missing_share": [0.043, 0.0], "share of the ceiling": ["34%", "31%"],
                       "share_x": [1.5, 2.25], "gini": [0.5, -0.0001]})
    out = format_frame(df, headers={"p_le_0": "share of resamples not beating BG/NBD", "missing_share": "share missing"})
    assert out.to_dict("list") == {
        "share of resamples not beating BG/NBD": ["68.8%", MISSING],  # header says share, values are fractions
        "share missing": ["4.3%", "0.0%"],
        "share of the ceiling": ["34%", "31%"],  # already text
        "share_x": ["1.50", "2.25"],  # not a fraction
        "gini": ["0.500", "0.000"],  # not a share; a rounded-away minus sign is dropped
    }


def test_one_format_for_every_numeric_column_leaves_the_index_and_text_alone():
    df = pd.DataFrame({"model": ["a", "b"], "2018-02-28": [1.234, 0.5], "2017-08-31": [2.0, np.nan]},
                      index=pd.Index(["x", "y"], name="cut"))
    out = format_frame(df, formats="{:.2f}")
    assert out.to_dict("list") == {"cut": ["x", "y"], "model": ["a", "b"], "2018-02-28": ["1.23", "0.50"],
                                   "2017-08-31": ["2.00", MISSING]}


def test_significant_digits_never_print_an_exponent_and_g_formats_read_that_way():
    f = significant(4)
    assert [f(v) for v in (130795.3, 1306.2, 107.24, 1.3356, 0.018723, -0.00001234)] == [
        "130,800", "1,306", "107.2", "1.336", "0.01872", "-0.00001234"]
    params = pd.DataFrame({"bgnbd": [107.24, np.nan], "pnbd": [1306.2, 130795.3]}, index=pd.Index(["alpha", "beta"], name="parameter"))
    out = format_frame(params, formats={"bgnbd": "{:.4g}", "pnbd": "{:.4g}"})
    assert out.to_dict("list") == {"parameter": ["alpha", "beta"], "bgnbd": ["107.2", MISSING], "pnbd": ["1,306", "130,800"]}


def test_a_column_mostly_below_one_keeps_three_decimals_even_past_one():
    df = pd.DataFrame({"diff_low": [-0.22, 0.0004, -0.73, -1.04], "mean predicted": [7.83, 3.54, 2.7, 0.46]})
    assert format_frame(df).to_dict("list") == {"diff_low": ["-0.220", "0.000", "-0.730", "-1.040"],
                                                "mean predicted": ["7.83", "3.54", "2.70", "0.46"]}


def test_empty_cells_read_as_missing():
    df = pd.DataFrame({"variant": ["rfm", "rfm+click[rank]"], "linked at cut-off": ["", 1000]})
    assert format_frame(df).to_dict("list") == {"variant": ["rfm", "rfm+click[rank]"], "linked at cut-off": [MISSING, "1,000"]}


def test_format_frame_index_false_drops_even_a_named_index():
    df = pd.DataFrame({"n": [1]}, index=pd.Index(["a"], name="segment"))
    assert list(format_frame(df, index=False).columns) == ["n"]
    assert list(format_frame(df, index=True).columns) == ["segment", "n"]


def _cells(text: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", text)


def test_table_html_cuts_a_long_table_and_says_where_the_rest_is():
    df = pd.DataFrame({"customer": [f"c{i}" for i in range(25)], "value": np.arange(25) * 1000})
    text = table_html(df, max_rows=3, full_table="data/clv_table.csv")
    assert _cells(text) == ["c0", "0", "c1", "1,000", "c2", "2,000"]
    assert "Showing the first 3 of 25 rows. The full table is <code>data/clv_table.csv</code>." in text
    assert "<script" not in text


def test_table_html_transposes_a_wide_table_headed_by_its_label_column():
    df = pd.DataFrame({"UserID": [7, 8], "events": [1200, 3], "rate": [0.25, 0.5]})
    text = table_html(df, transpose=True, label="UserID")
    heads = re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", text)
    assert heads == ["", "7", "8", "events", "rate"]
    assert _cells(text) == ["1,200", "3", "0.250", "0.500"]


def test_table_html_aligns_text_left_numbers_right_and_escapes():
    text = table_html(pd.DataFrame({"name": ["<b>"], "n": [1]}))
    assert '<td class=t>&lt;b&gt;</td><td>1</td>' in text
    assert "Showing" not in text


def test_show_table_returns_displayable_html():
    shown = show_table(pd.DataFrame({"n": [1]}), caption="One row.")
    assert "<p>One row.</p>" in shown.data
