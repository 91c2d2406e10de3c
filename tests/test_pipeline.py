"""End to end: run_all.py on a small demo into a temporary folder, and a run that fails on bad input."""

from __future__ import annotations

import json
from html import unescape
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ["00_inventory", "01_clean_transactions", "02_clean_clickstream", "03_user_mapping",
          "04_hybrid_features", "05_clv_models", "06_evaluate"]

pytestmark = pytest.mark.slow


def run_all(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_all.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=1800)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_run")
    proc = run_all("--demo", "--out-root", str(out), cwd=out)  # the default demo size a user gets
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc


def test_every_stage_wrote_its_report_and_files(demo_run):
    out, proc = demo_run
    for name in STAGES:
        html = out / "outputs" / f"{name}.html"
        assert html.is_file(), name
        text = html.read_text()
        assert "DEMO DATA" in text, f"{name} lacks the demo-data note"
        assert "Traceback" not in text
    processed = out / "data" / "processed"
    for f in ["olist_customers_cleaned.csv", "clickstream_users_cleaned.csv", "user_mapping.csv",
              "hybrid_features.csv", "clv_predictions.csv", "clv_model_params.json"]:
        assert (processed / f).is_file(), f
    assert (out / "data" / "inventory.json").is_file()
    assert "demo" in proc.stdout.lower()


def test_run_json_records_every_stage_with_seconds_and_files(demo_run):
    out, _ = demo_run
    run = json.loads((out / "outputs" / "run.json").read_text())
    assert run["status"] == "ok"
    stages = {s["key"]: s for s in run["stages"]}
    assert list(stages) == STAGES
    for s in stages.values():
        assert s["status"] == "ok" and s["seconds"] > 0
        assert s["outputs"], s["key"]
    index = (out / "outputs" / "index.html").read_text()
    assert all(f"{name}.html" in index for name in STAGES)


def test_processed_files_are_consistent(demo_run):
    out, _ = demo_run
    p = out / "data" / "processed"
    customers = pd.read_csv(p / "olist_customers_cleaned.csv")
    assert customers["customer_unique_id"].is_unique
    mapping = pd.read_csv(p / "user_mapping.csv")
    assert list(mapping.columns) == ["customer_unique_id", "UserID"]
    preds = pd.read_csv(p / "clv_predictions.csv")
    assert preds["customer_unique_id"].is_unique
    assert preds["p_alive"].between(0, 1).all()
    assert set(preds["decile"]) == set(range(1, 11))
    metrics = json.loads((out / "outputs" / "metrics.json").read_text())
    assert metrics["demo"] is True and metrics["ceiling_gini"] > 0


def test_on_the_demo_the_hybrid_model_with_the_real_key_beats_the_baselines(demo_run):
    out, _ = demo_run
    m = json.loads((out / "outputs" / "metrics.json").read_text())["models"]
    key = m["hybrid:rfm+olist+click[key]"]
    assert key["diff_low"] > 0  # ahead of BG/NBD x Gamma-Gamma in >97.5% of paired bootstrap resamples
    assert key["normalized_gini"] > m["calibration_spend"]["normalized_gini"]
    assert key["normalized_gini"] > m["hybrid:rfm+olist+click[random]"]["normalized_gini"]
    assert key["normalized_gini"] < m["truth"]["normalized_gini"]  # and below the ceiling


def test_same_inputs_give_the_same_files(demo_run, tmp_path):
    out, _ = demo_run
    proc = run_all("--demo", "--out-root", str(tmp_path), "--stages", "00-03", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for f in ["olist_customers_cleaned.csv", "clickstream_users_cleaned.csv", "user_mapping.csv"]:
        assert (tmp_path / "data/processed" / f).read_bytes() == (out / "data/processed" / f).read_bytes(), f


def test_bad_input_stops_the_run_naming_stage_file_and_column(demo_run, tmp_path):
    out, _ = demo_run
    raw = tmp_path / "raw"
    shutil.copytree(out / "data" / "demo" / "raw", raw)
    pay = raw / "olist_order_payments_dataset.csv"
    df = pd.read_csv(pay)
    pay.write_text(df.rename(columns={"payment_value": "value"}).to_csv(index=False))
    before = {p.name: p.read_bytes() for p in raw.iterdir()}
    proc = run_all("--raw-dir", str(raw), "--out-root", str(tmp_path / "o"), "--stages", "00-02", cwd=tmp_path)
    assert proc.returncode != 0
    assert "01_clean_transactions" in proc.stderr.strip().splitlines()[-1]
    html = unescape((tmp_path / "o" / "outputs" / "01_clean_transactions.html").read_text())
    assert "olist_order_payments_dataset.csv: missing column(s) ['payment_value']" in html
    run = json.loads((tmp_path / "o" / "outputs" / "run.json").read_text())
    status = {s["key"]: s["status"] for s in run["stages"]}
    assert [status[k] for k in STAGES[:3]] == ["ok", "failed", "skipped"]
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == before  # raw data untouched
