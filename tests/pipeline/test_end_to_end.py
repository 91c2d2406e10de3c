"""End to end: run_all.py on a small demo into a temporary workspace, the scenarios of a workspace, and bad input.

The small demo (6,000 customers) runs once per test session here; the default-size demo and the real
data run under the ``slow`` marker (``tests/pipeline/test_end_to_end_realdata.py``, ``test_default_demo``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ["00_inventory", "01_clean_transactions", "02_clean_clickstream", "03_user_mapping",
          "04_hybrid_features", "05_clv_models", "06_evaluate", "07_forecast"]
SMALL = "6000"
SMALL_RUN = ("-p", "n_backtests", "2")  # as the shared demo_run of conftest.py


def run_all(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_all.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=1800, env={**os.environ, **(env or {})})


# demo_run: the session-wide small demo run of tests/pipeline/conftest.py (shared with the browser test)


def test_every_stage_wrote_its_report_and_files_into_the_workspace(demo_run):
    out, ws, proc = demo_run
    for name in STAGES:
        text = (ws / f"{name}.html").read_text()
        assert "DEMO DATA" in text, f"{name} lacks the demo-data note"
        assert "Traceback" not in text
    for f in ["customers.parquet", "click_users.parquet", "user_links.parquet", "snapshots.parquet",
              "click_snapshots.parquet", "clv_predictions.parquet", "clv_model_params.json", "inventory.json"]:
        assert (ws / "data" / f).is_file(), f
    assert (ws / "metrics.json").is_file() and (ws / "workspace.json").is_file()
    assert not (ws / ".lock").exists()
    assert "demo" in proc.stdout.lower()
    assert f"demo-{SMALL}-seed42" in (out / "outputs" / "index.html").read_text()


def test_run_json_records_every_stage_and_a_history(demo_run):
    _, ws, _ = demo_run
    run = json.loads((ws / "run.json").read_text())
    assert run["status"] == "ok" and run["workspace"] == f"demo-{SMALL}-seed42"
    assert [s["key"] for s in run["stages"]] == STAGES
    assert all(s["status"] == "ok" and s["seconds"] > 0 for s in run["stages"])
    assert len(list((ws / "runs").glob("*.json"))) >= 1
    index = (ws / "index.html").read_text()
    assert all(f"{name}.html" in index for name in STAGES)


def test_processed_files_are_consistent(demo_run):
    _, ws, _ = demo_run
    customers = pd.read_parquet(ws / "data" / "customers.parquet")
    assert customers["customer_unique_id"].is_unique
    links = pd.read_parquet(ws / "data" / "user_links.parquet")
    assert list(links.columns) == ["cut", "method", "customer_unique_id", "UserID"]
    assert set(links["method"]) == {"rank", "random", "key"}
    preds = pd.read_parquet(ws / "data" / "clv_predictions.parquet")
    assert preds["customer_unique_id"].is_unique
    assert preds["p_alive"].between(0, 1).all()
    assert set(preds["decile"]) == set(range(1, 11))
    metrics = json.loads((ws / "metrics.json").read_text())
    assert metrics["demo"] is True and metrics["ceiling_gini"] > 0
    # every model's share of both ceilings, and the forecast of stage 07 beside stage 06's evaluation
    bg = metrics["models"]["btyd:bgnbd"]
    assert bg["share_of_ceiling"] == pytest.approx(bg["normalized_gini"] / metrics["ceiling_gini"])
    assert bg["share_of_observable"] == pytest.approx(bg["normalized_gini"] / metrics["models"]["observable"]["normalized_gini"])
    assert metrics["forecast"] == json.loads((ws / "data" / "forecast.json").read_text())
    assert metrics["forecast"]["model"] == metrics["backtest"]["recommended"]
    # the CLV table carries the chosen model's interval, or Pareto/NBD's for a model without one, and BG/NBD's
    from clvlib.models.predictions import forecast_interval_model, interval_columns
    model, _ = forecast_interval_model(metrics["backtest"]["recommended"])
    clv = pd.read_csv(ws / "data" / "clv_table.csv")
    value, low, high = interval_columns(model)
    assert {value, *interval_columns("bgnbd")} <= set(clv.columns)
    assert {low, high} <= set(clv.columns) or model == "pnbd"  # Pareto/NBD's bootstrap can fail on a small demo
    assert all((clv[lo] <= clv[hi]).all() for lo, hi in (interval_columns(m)[1:] for m in (model, "bgnbd"))
               if lo in clv.columns)
    # stage 05's intervals, each with its coverage of the demo's truth; one that failed says why instead
    notes = json.loads((ws / "data" / "clv_model_params.json").read_text())["interval_notes"]
    assert {"bgnbd", "pnbd"} <= set(notes) and "bgnbd" in metrics["intervals"]
    assert set(metrics["intervals"]) == {m for m, n in notes.items() if not n.startswith("No per-customer interval")}
    assert all(len(v["coverage_of_truth"]) == 3 for v in metrics["intervals"].values())


def test_a_partial_run_uses_the_workspace_dataset_and_a_method_reaches_the_features(demo_run, tmp_path):
    out, ws, _ = demo_run
    copy = tmp_path / "o"
    shutil.copytree(out, copy)
    wcopy = copy / "outputs" / ws.name
    # stages 03-04 only: that the models take every method the features carry is the shared run's to show
    # (its clv_model_params.json has a hybrid per link method), and stage 05 would triple this test's time
    proc = run_all("--stages", "03-04", "-p", "link_methods", '["random"]', "--out-root", str(copy), *SMALL_RUN,
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "DEMO DATA" in proc.stdout
    assert set(pd.read_parquet(wcopy / "data" / "user_links.parquet")["method"]) == {"random", "key"}
    assert set(pd.read_parquet(wcopy / "data" / "click_snapshots.parquet")["method"]) == {"random", "key"}
    shared = json.loads((ws / "data" / "clv_model_params.json").read_text())
    assert {"rfm+details+click[rank]", "rfm+details+click[random]", "rfm+details+click[key]"} <= set(shared["hybrid"])


def test_a_stage_run_with_another_cutoff_than_its_inputs_is_refused_naming_the_stage_to_rerun(demo_run, tmp_path):
    out, ws, _ = demo_run
    copy = tmp_path / "o"
    shutil.copytree(out, copy)
    proc = run_all("--stages", "05", "-p", "cutoff", "2017-12-31", "--out-root", str(copy), cwd=tmp_path)
    assert proc.returncode == 1
    html = unescape((copy / "outputs" / ws.name / "failed" / "05_clv_models.html").read_text())
    # the first input stage 05 checks is stage 03's link info, which depends on the cut-off too: rerunning from 03
    # is what works (from 04 would stop at the same file)
    assert "cutoff = None there, '2017-12-31' here" in html and "--from 03" in html
    # the last good report is still in place and the index shows both
    good = (copy / "outputs" / ws.name / "05_clv_models.html").read_text()
    assert "This stage failed" not in good
    assert "failed/05_clv_models.html" in (copy / "outputs" / ws.name / "index.html").read_text()


def test_a_notebook_runs_on_its_own_with_the_papermill_cli_on_the_latest_workspace(demo_run, tmp_path):
    out, ws, _ = demo_run
    executed = tmp_path / "03.ipynb"
    proc = subprocess.run([sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "03_user_mapping.ipynb"),
                           str(executed), "-y", "link_methods: [rank, random]", "--cwd", str(tmp_path)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "CLVLIB_OUT_ROOT": str(out), "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = executed.read_text()
    assert "DEMO DATA" in text and ws.name in text


def test_another_dataset_in_the_same_workspace_is_refused_for_a_partial_run(demo_run, tmp_path):
    out, ws, _ = demo_run
    copy = tmp_path / "o"
    shutil.copytree(out, copy)
    raw = tmp_path / "raw"
    shutil.copytree(out / "data" / "demo" / ws.name / "raw", raw)
    (raw / "DEMO_DATA.json").unlink()
    orders = raw / "olist_orders_dataset.csv"
    orders.write_text(orders.read_text().replace("delivered", "shipped", 5))
    proc = run_all("--raw-dir", str(raw), "--workspace", ws.name, "--stages", "01", "--out-root", str(copy),
                   cwd=tmp_path)
    assert proc.returncode == 2
    assert "A partial run would mix the two" in proc.stderr


def test_a_mistyped_parameter_is_refused_before_anything_is_written(tmp_path):
    proc = run_all("--demo", "--demo-size", SMALL, "-p", "horizon_months", "three", "--out-root", str(tmp_path),
                   cwd=tmp_path)
    assert proc.returncode == 2
    assert "-p horizon_months 'three': expected an int" in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_same_inputs_give_the_same_files(demo_run, tmp_path):
    out, ws, _ = demo_run
    proc = run_all("--demo", "--demo-size", SMALL, "--out-root", str(tmp_path), *SMALL_RUN, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    other = tmp_path / "outputs" / ws.name
    for f in sorted((ws / "data").iterdir()):
        if f.name not in ("provenance.json", "inventory.json"):  # these two name the raw folder, which differs here
            assert (other / "data" / f.name).read_bytes() == f.read_bytes(), f.name
    assert (other / "metrics.json").read_bytes() == (ws / "metrics.json").read_bytes()


def test_bad_input_stops_the_run_naming_stage_file_and_column(demo_run, tmp_path):
    out, ws, _ = demo_run
    raw = tmp_path / "raw"
    shutil.copytree(out / "data" / "demo" / ws.name / "raw", raw)
    pay = raw / "olist_order_payments_dataset.csv"
    df = pd.read_csv(pay)
    pay.write_text(df.rename(columns={"payment_value": "value"}).to_csv(index=False))
    before = {p.name: p.read_bytes() for p in raw.iterdir()}
    proc = run_all("--raw-dir", str(raw), "--workspace", "broken", "--out-root", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "01_clean_transactions" in proc.stderr.strip().splitlines()[-1]
    wsb = tmp_path / "o" / "outputs" / "broken"
    html = unescape((wsb / "failed" / "01_clean_transactions.html").read_text())
    assert "olist_order_payments_dataset.csv: missing column(s) ['payment_value']" in html
    run = json.loads((wsb / "run.json").read_text())
    status = {s["key"]: s["status"] for s in run["stages"]}
    assert [status[k] for k in STAGES[:3]] == ["ok", "failed", "skipped"]
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == before  # raw data untouched


@pytest.mark.slow
def test_default_demo_the_hybrid_model_with_the_real_key_beats_the_baselines(tmp_path):
    proc = run_all("--demo", "--out-root", str(tmp_path), cwd=tmp_path)  # the default demo size a user gets
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    m = json.loads((tmp_path / "outputs" / "demo" / "metrics.json").read_text())["models"]
    key = m["hybrid:rfm+details+click[key]"]
    assert key["diff_low"] > 0  # ahead of BG/NBD x Gamma-Gamma in >97.5% of paired bootstrap resamples
    assert key["normalized_gini"] > m["calibration_spend"]["normalized_gini"]
    assert key["normalized_gini"] > m["hybrid:rfm+details+click[random]"]["normalized_gini"]
    assert key["normalized_gini"] < m["observable"]["normalized_gini"] < m["truth"]["normalized_gini"]  # the ceilings
    bt = json.loads((tmp_path / "outputs" / "demo" / "metrics.json").read_text())["backtest"]
    assert bt["recommended"] != "btyd:bgnbd"  # behaviour carries signal here: a model beats BG/NBD at every earlier cut
