"""The splits of a run: backtest cut-offs ending at the cut-off, the forecast at the analysis date."""

import pandas as pd
import pytest

from clvlib.features.snapshots import snapshot_cuts
from clvlib.features.temporal import plan, resolve_cutoff


def _days(ts):
    return [str(pd.Timestamp(t).date()) for t in ts]


def test_the_default_cutoff_is_the_analysis_date_minus_the_horizon_month_ends_kept():
    assert str(resolve_cutoff(None, "2018-08-31", 6).date()) == "2018-02-28"
    assert str(resolve_cutoff(None, "2018-06-15", 3).date()) == "2018-03-15"
    assert str(resolve_cutoff("2017-12-31", "2018-08-31", 6).date()) == "2017-12-31"


def test_a_cutoff_whose_holdout_ends_after_the_data_is_refused():
    with pytest.raises(ValueError, match=r"cutoff 2018-05-31 \+ horizon_months 6 ends on 2018-11-30, after the analysis "
                                         r"date 2018-08-31.*Use cutoff None \(= 2018-02-28\)"):
        resolve_cutoff("2018-05-31", "2018-08-31", 6)


def test_the_plan_has_monthly_backtests_latest_first_and_the_forecast_at_the_analysis_date():
    p = plan(None, "2018-08-31", 6, n_train_windows=2, train_stride_months=1, n_backtests=3)
    assert [_days([w["cut"]])[0] for w in p["backtests"]] == ["2018-02-28", "2018-01-31", "2017-12-31"]
    assert _days(p["backtests"][2]["train_cuts"]) == ["2017-06-30", "2017-05-31"]
    f = p["forecast"]
    assert _days([f["cut"], f["holdout_end"]]) == ["2018-08-31", "2019-02-28"]
    assert _days(f["train_cuts"]) == ["2018-02-28", "2018-01-31"]  # label windows end by the analysis date
    # every cut any split needs, once, latest first; snapshot_cuts reads the plan
    assert _days(p["cuts"]) == ["2018-08-31", "2018-02-28", "2018-01-31", "2017-12-31", "2017-08-31", "2017-07-31",
                                "2017-06-30", "2017-05-31"]
    assert snapshot_cuts(p) == p["cuts"]
    for w in p["backtests"]:  # every backtest's holdout ends by the analysis date
        assert w["holdout_end"] <= pd.Timestamp("2018-08-31")


@pytest.mark.parametrize(("kw", "message"), [({"n_backtests": 0}, "n_backtests must be >= 1, got 0"),
                                             ({"backtest_stride_months": 0}, "backtest_stride_months must be >= 1")])
def test_a_plan_needs_at_least_one_backtest_and_a_positive_stride(kw, message):
    with pytest.raises(ValueError, match=message):
        plan(None, "2018-08-31", 6, **kw)


def test_training_cuts_before_the_data_start_are_left_out_and_said():
    # CDNOW-like: 18 months of data, 1997-01-01 .. 1998-06-30
    p = plan(None, "1998-06-30", 6, n_train_windows=6, train_stride_months=1, n_backtests=4, data_start="1997-01-01")
    assert [len(w["train_cuts"]) for w in p["backtests"]] == [6, 5, 4, 3]
    assert min(p["cuts"]) >= pd.Timestamp("1997-01-01")
    assert p["notes"] == ["6 training snapshots before the first day of data (1997-01-01) are left out of the backtests."]
    q = plan(None, "1998-06-30", 6, n_train_windows=1, n_backtests=4, backtest_stride_months=3, data_start="1997-02-15")
    assert [_days([w["cut"]])[0] for w in q["backtests"]] == ["1997-12-31", "1997-09-30"]
    assert "1997-06-30, 1997-03-31 had no history to train on" in q["notes"][0]


def test_data_too_short_for_the_holdout_evaluation_names_what_to_change():
    with pytest.raises(ValueError, match=r"The data start on 1997-01-01.*Lower horizon_months, or set a later cutoff"):
        plan(None, "1997-06-30", 6, data_start="1997-01-01")


def test_recent_windows_reach_every_split_but_do_not_keep_one_without_a_full_window():
    p = plan(None, "2018-08-31", 6, n_train_windows=1, train_stride_months=2, n_backtests=1, recent_windows=True)
    assert _days(p["backtests"][0]["train_cuts"]) == ["2017-12-31", "2017-10-31", "2017-08-31"]
    assert _days(p["forecast"]["train_cuts"]) == ["2018-06-30", "2018-04-30", "2018-02-28"]
    assert {"2018-06-30", "2018-04-30", "2017-12-31", "2017-10-31"} <= set(_days(p["cuts"]))
    # data from 1997-09-01: the full window of the cut 1998-02-28 (from 1997-08-31) is gone, its recent ones are not
    with pytest.raises(ValueError, match="no history to train on"):
        plan("1998-02-28", "1998-08-31", 6, train_stride_months=2, data_start="1997-09-01", recent_windows=True)
    q = plan("1998-02-28", "1998-08-31", 6, train_stride_months=2, data_start="1997-08-01", recent_windows=True)
    assert q["backtests"][0]["window_months"] == [2, 4, 6]
