"""Tests for clvlib.report.notices: library warnings become sentences saying whether the results are affected."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from clvlib.report.notices import captured_warnings, explain_warning, non_finite_rows

NON_FINITE = "3 customer(s) got non-finite expected purchases or P(alive); check the fitted parameters (params_)."


def test_a_known_warning_reads_in_plain_words_with_its_count():
    assert explain_warning(NON_FINITE) == (
        "3 customer(s) got an undefined expected number of purchases or P(alive) from a buy-till-you-die model"
        ": too few people bought twice for its dropout parameters to be estimated.")


def test_an_unknown_warning_is_quoted():
    assert explain_warning("something odd ") == "“something odd”."  # the callout's heading says who warned
    assert explain_warning("something odd.") == "“something odd”."  # one full stop
    note = ("At the snapshot of 2017-10-31 the BG/NBD fit behind the hybrid model's BG/NBD feature stopped before the "
            "optimiser could confirm its maximum; the feature is used as it came out.")
    assert explain_warning(note).startswith("At the snapshot of 2017-10-31 the optimiser fitting the BG/NBD")


def test_a_snapshot_without_the_bg_nbd_feature_reads_as_one_sentence():
    message = ("At the snapshot of 2017-01-31 the BG/NBD feature is left missing: only 4 of 980 people had bought on two "
               "different days, too few (< 10) to estimate BG/NBD's dropout.")
    assert explain_warning(message) == (
        "At the snapshot of 2017-01-31 the hybrid model went without its BG/NBD feature: only 4 of 980 people "
        "had bought on two different days, too few (< 10) to estimate BG/NBD's dropout.")


def test_non_finite_rows_counts_rows_with_nan_or_inf_in_numeric_columns():
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "x": [1.0, np.nan, 2.0, np.inf], "y": [1.0, 1.0, np.nan, 0.0]})
    assert non_finite_rows(frame) == 3
    assert non_finite_rows(frame[["id"]]) == 0


def test_captured_warnings_records_once_and_says_results_are_not_affected():
    with captured_warnings("fitting the models") as log:
        warnings.simplefilter("always")  # show the repeat, to check it is recorded once
        for _ in range(2):
            warnings.warn(NON_FINITE, UserWarning)
        warnings.warn("old API", DeprecationWarning)
        warnings.warn("PyTensor could not link to a BLAS installation. Operations that might benefit from BLAS will "
                      "be severely degraded.", UserWarning)  # the installation's speed, not the results
    assert log.messages == [NON_FINITE]
    text = log.text({"predictions": pd.DataFrame({"v": [1.0, 2.0]})})
    assert text.startswith("<b>While fitting the models, the library warned.</b> 3 customer(s) got an undefined")
    assert "Every number in the results below is finite (predictions: 2 rows)" in text
    assert "not affected" in text


def test_captured_warnings_says_which_results_are_affected():
    with captured_warnings("scoring") as log:
        warnings.warn(NON_FINITE, UserWarning)
    text = log.text({"predictions": pd.DataFrame({"v": [1.0, np.nan, np.inf]})})
    assert "<b>are affected</b>: 2 of 3 rows of predictions have a missing or infinite value." in text


def test_no_warning_no_callout():
    with captured_warnings("scoring") as log:
        pass
    assert log.text({"p": pd.DataFrame({"v": [np.nan]})}) == ""
    assert log.callout().data == ""


def test_warnings_the_filters_hide_stay_hidden():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="numerical noise")
        with captured_warnings("scoring") as log:
            warnings.warn("numerical noise", RuntimeWarning)
    assert log.messages == []


def test_an_unconverged_hidden_bgnbd_fit_reaches_the_report_as_its_own_sentence():
    from clvlib.models.hybrid import btyd_feature_notes

    notes = btyd_feature_notes({"2017-10-31": {"converged": False, "params": {"r": 0.1}},
                                "2017-11-30": {"converged": True, "params": {"r": 0.1}}})
    assert len(notes) == 1  # only the fit that stopped early
    with captured_warnings("fitting the hybrid") as log:
        for note in notes:
            warnings.warn(note, UserWarning)
    text = log.text({"scores": pd.DataFrame({"v": [1.0]})})
    assert text == (
        "<b>While fitting the hybrid, the library warned.</b> At the snapshot of 2017-10-31 the optimiser fitting the "
        "BG/NBD model behind the hybrid&#x27;s BG/NBD feature stopped before it could confirm the best fit; the feature "
        "is used as it came out. Every number in the results below is finite (scores: 1 rows).")
    # explained in words, not quoted; the converged fit is silent; finite numbers do not make an early stop harmless
