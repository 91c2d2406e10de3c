"""The real Kaggle data through all eight stages with run_all.py, checked against the known reference band."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def real_run(real_data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("real_run")
    proc = subprocess.run([sys.executable, str(ROOT / "run_all.py"), "--raw-dir", str(real_data_dir),
                           "--out-root", str(out)], capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out / "outputs" / "olist"


def test_all_reports_and_data_files_from_the_real_data(real_run):
    run = json.loads((real_run / "run.json").read_text())
    assert run["status"] == "ok" and run["data_source"]["demo"] is False
    assert [s["status"] for s in run["stages"]] == ["ok"] * 8
    for f in ["customers.parquet", "click_users.parquet", "user_links.parquet",
              "snapshots.parquet", "clv_predictions.parquet"]:
        assert (real_run / "data" / f).is_file()
    for s in run["stages"]:
        text = (real_run / f"{s['key']}.html").read_text()
        assert "DEMO DATA" not in text


def test_metrics_fall_in_the_reference_band(real_run):
    m = json.loads((real_run / "metrics.json").read_text())
    h = m["holdout"]
    assert h["people"] == 55_524  # first purchase (delivered) on or before 2018-02-28
    assert h["buyers"] / h["people"] == pytest.approx(0.012, abs=0.001)
    bg = m["models"]["btyd:bgnbd"]
    assert 0.15 < bg["normalized_gini"] < 0.23  # reference: about 0.19 (95% CI roughly 0.11-0.26)
    assert 0.08 < bg["gini_low"] < 0.14 and 0.22 < bg["gini_high"] < 0.30
    assert 0.56 < bg["roc_auc"] < 0.62  # reference: about 0.59
    assert 0.12 < m["models"]["calibration_spend"]["normalized_gini"] < 0.20  # reference: about 0.16
    for name, model in m["models"].items():
        assert model["normalized_gini"] < 0.30, f"{name} claims far more than the reference: look-ahead?"


def test_the_synthetic_link_adds_nothing_real(real_run):
    m = json.loads((real_run / "metrics.json").read_text())
    placebo = {p["link"]: p for p in m["placebo"]}
    assert set(placebo) == {"rank", "random"}
    assert abs(placebo["rank"]["added_by_click"]) < 0.06
    assert abs(placebo["random"]["added_by_click"]) < 0.06


def test_the_backtest_and_the_forecast_on_the_real_data(real_run):
    m = json.loads((real_run / "metrics.json").read_text())
    bt = m["backtest"]
    assert bt["cuts"] == ["2018-02-28", "2018-01-31", "2017-12-31", "2017-11-30"]
    assert bt["selection_cuts"] == bt["cuts"][1:]  # chosen on the earlier cuts, never on the holdout
    assert bt["recommended"] in m["models"] and bt["recommended"] not in ("truth", "observable", "calibration_spend")
    base = {r["model"]: r for r in bt["summary"]}["btyd:bgnbd"]
    assert 0.10 < base["normalized_gini_mean"] < 0.22 and 0.85 < base["ratio_mean"] < 1.2
    forecast = json.loads((real_run / "data" / "forecast.json").read_text())
    assert (forecast["start"], forecast["end"]) == ("2018-08-31", "2019-02-28")
    assert forecast["customers"] == 93_357  # every person with a kept order by the analysis date
    assert forecast["model"] == bt["recommended"]
    assert m["forecast"] == forecast  # metrics.json holds every figure of the run: the evaluation and the forecast
