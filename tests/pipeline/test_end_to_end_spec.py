"""Your own data: the demo exported as a shop's tables with a spec, run through the same stages.

The spec path must give the same orders and events as the Kaggle-layout path on the same data; a
transactions-only spec runs every stage (slow: the models take a minute).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from clvlib.caveats import SYNTHETIC_LINK_NOTE
from clvlib.data.datasets import clean_events_of, clean_orders
from clvlib.data.sources import find_raw_files
from clvlib.data.spec import builtin_spec, load_spec
from clvlib.demo import generate_demo
from clvlib.demo.export import export_shop

ROOT = Path(__file__).resolve().parents[2]


def run_all(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_all.py"), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=1800, env=dict(os.environ))


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("demo") / "raw"
    generate_demo(raw, n_customers=2000, seed=3)
    return raw


def test_the_spec_path_gives_the_orders_and_events_of_the_kaggle_layout(demo_raw, tmp_path):
    spec = load_spec(export_shop(demo_raw, tmp_path / "shop"))
    files = find_raw_files(demo_raw)
    kaggle = clean_orders(builtin_spec("olist", raw_dir=demo_raw), files)
    mine = clean_orders(spec, {})
    cols = ["order_id", "customer_unique_id", "order_purchase_timestamp", "order_value"]
    assert mine.analysis_date == kaggle.analysis_date
    pd.testing.assert_frame_equal(mine.orders[cols], kaggle.orders[cols], check_dtype=False)
    assert mine.orders["customer_state"].tolist() == kaggle.orders["customer_state"].tolist()
    ev_k = clean_events_of(builtin_spec("olist", raw_dir=demo_raw), files).events
    ev_m = clean_events_of(spec, {}).events
    key = ["UserID", "Timestamp", "EventType"]
    a = ev_k.assign(UserID=ev_k["UserID"].astype(str)).sort_values(key, kind="stable").reset_index(drop=True)
    b = ev_m.assign(UserID=ev_m["UserID"].astype(str)).sort_values(key, kind="stable").reset_index(drop=True)
    assert len(a) == len(b)
    assert (a[key] == b[key]).all().all() and a["Amount"].equals(b["Amount"])


def test_a_spec_run_of_the_first_stages_writes_its_own_workspace(demo_raw, tmp_path):
    spec = export_shop(demo_raw, tmp_path / "shop", orders_format="parquet")
    proc = run_all("--dataset", str(spec), "--stages", "00-03", "--out-root", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert 'Using your data "demo-shop"' in proc.stdout
    ws = tmp_path / "o" / "outputs" / "demo-shop"
    manifest = json.loads((ws / "workspace.json").read_text())
    assert manifest["dataset"]["spec"]["orders"]["customer"] == "customer"
    info = json.loads((ws / "data" / "user_links.json").read_text())
    assert info["real_key"] is True and "key" in info["methods"]
    text = " ".join(re.sub(r"<[^>]+>", " ", unescape((ws / "03_user_mapping.html").read_text())).split())
    assert "a real key between customers and users (the events' column customer )" in text


def test_a_bad_spec_stops_before_anything_runs_with_exit_2(tmp_path):
    spec = tmp_path / "shop.toml"
    spec.write_text('name = "s"\n[orders]\npath = "o.csv"\ncustomer = "c"\ntimestamp = "t"\namout = "v"\n')
    proc = run_all("--dataset", str(spec), "--out-root", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown key(s) ['amout'] in [orders]" in proc.stderr
    assert not (tmp_path / "o" / "outputs").exists()


def test_bad_rows_in_your_data_stop_the_stage_naming_file_column_and_lines(demo_raw, tmp_path):
    spec = export_shop(demo_raw, tmp_path / "shop", events=False)
    orders = tmp_path / "shop" / "orders.csv"
    text = orders.read_text().splitlines()
    text[5] = text[5].replace(text[5].split(",")[2], "2030-01-01 00:00:00")
    orders.write_text("\n".join(text) + "\n")
    proc = run_all("--dataset", str(spec), "--stages", "00-01", "--out-root", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "01_clean_transactions" in proc.stderr.strip().splitlines()[-1]
    assert "column 'created_at' has 1 timestamp(s) far outside the bulk of the data" in proc.stderr
    assert "(line 6)" in proc.stderr


@pytest.mark.slow
def test_transactions_only_every_stage_runs_and_no_page_mentions_a_clickstream_link(demo_raw, tmp_path):
    spec = export_shop(demo_raw, tmp_path / "shop", events=False, name="shop-tx")
    proc = run_all("--dataset", str(spec), "--out-root", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    ws = tmp_path / "o" / "outputs" / "shop-tx"
    metrics = json.loads((ws / "metrics.json").read_text())
    assert not any("click" in m for m in metrics["models"])
    assert {"hybrid:rfm", "hybrid:rfm+details"} <= set(metrics["models"])
    # the backtest, the forecast and the intervals exist for a transactions-only dataset too
    assert len(metrics["backtest"]["cuts"]) >= 2 and metrics["backtest"]["recommended"] in metrics["models"]
    clv = pd.read_csv(ws / "data" / "clv_table.csv")
    assert {"predicted_value", "predicted_value_bgnbd_low", "predicted_value_bgnbd_high"} <= set(clv.columns)
    assert json.loads((ws / "data" / "forecast.json").read_text())["start"] == "2018-08-31"
    assert metrics["forecast"] == json.loads((ws / "data" / "forecast.json").read_text())  # metrics.json has it too
    assert {k: v for k, v in metrics.items() if k != "forecast"} == json.loads((ws / "data" / "evaluation.json").read_text())
    for page in sorted(ws.glob("*.html")):
        text = " ".join(re.sub(r"<[^>]+>", " ", unescape(page.read_text())).split())
        assert SYNTHETIC_LINK_NOTE[:60] not in text, page.name  # the synthetic-link caveat: no link is used here
        assert "generated noise" not in text, page.name  # the Kaggle clickstream's warning
    index = " ".join(re.sub(r"<[^>]+>", " ", unescape((ws / "index.html").read_text())).split())
    assert 'Data: your data "shop-tx"' in index and "Kaggle data at" not in index
    assert "This dataset has no event log" in unescape((ws / "02_clean_clickstream.html").read_text())
