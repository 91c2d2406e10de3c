"""The chunked demo generator (``clvlib.demo.big``): a shop's export at any size in bounded memory.

Small sizes only (chunks of a few hundred persons); the 10x/100x figures are in scripts/bench_generate.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clvlib.data.canonical import read_link
from clvlib.data.datasets import clean_events_of, clean_orders
from clvlib.data.spec import load_spec
from clvlib.demo.big import (
    EVENTS_DIR,
    MARKER_FILE,
    ORDERS_FILE,
    SPEC_FILE,
    TRUTH_PARQUET,
    chunk_sizes,
    generate_shop,
    main,
    scrambled_ids,
)
from clvlib.demo.truth import TRUTH_JSON

ROOT = Path(__file__).resolve().parents[2]


def _gen(folder: Path, n: int = 1000, chunk: int = 500, seed: int = 5, **kw) -> dict:
    return generate_shop(folder, n, seed=seed, chunk=chunk, progress=lambda line: None, **kw)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def two_chunks(tmp_path_factory) -> dict:
    """1,000 persons in 2 chunks of 500 (seed 5)."""
    return _gen(tmp_path_factory.mktemp("big") / "shop")


def _tables(r: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    out = Path(r["spec"]).parent
    return (pd.read_parquet(out / ORDERS_FILE), pd.read_parquet(out / EVENTS_DIR),
            pd.read_parquet(Path(r["truth_dir"]) / TRUTH_PARQUET))


# ----------------------------------------------------------------------------- files, determinism, ids
def test_the_export_holds_orders_events_per_chunk_a_spec_and_the_truth_beside_it(two_chunks):
    out, truth = Path(two_chunks["spec"]).parent, Path(two_chunks["truth_dir"])
    assert truth == out.parent / "shop-truth"
    assert sorted(p.name for p in out.iterdir()) == sorted([EVENTS_DIR, MARKER_FILE, ORDERS_FILE, SPEC_FILE])
    assert sorted(p.name for p in (out / EVENTS_DIR).iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    assert sorted(p.name for p in truth.iterdir()) == [TRUTH_JSON, TRUTH_PARQUET]
    marker = json.loads((out / MARKER_FILE).read_text())
    orders, events, people = _tables(two_chunks)
    assert marker["n_chunks"] == 2 and marker["n_customers"] == len(people) == 1000
    assert marker["n_orders"] == len(orders) and marker["n_events"] == len(events)
    assert str(orders["created_at"].dtype).startswith("datetime64") and str(events["ts"].dtype).startswith("datetime64")


def test_same_seed_and_size_give_byte_identical_files_and_another_seed_does_not(tmp_path, two_chunks):
    again = _gen(tmp_path / "shop")
    a_out, b_out = Path(two_chunks["spec"]).parent, Path(again["spec"]).parent
    assert _files(a_out) == _files(b_out)
    assert _files(Path(two_chunks["truth_dir"])) == _files(Path(again["truth_dir"]))
    other = _gen(tmp_path / "other", seed=6)
    assert (Path(other["spec"]).parent / ORDERS_FILE).read_bytes() != (a_out / ORDERS_FILE).read_bytes()


def test_a_chunk_is_the_same_whatever_chunks_follow_it(tmp_path, two_chunks):
    one = _gen(tmp_path / "one", n=500)
    part = f"{EVENTS_DIR}/part-00000.parquet"
    assert (Path(one["spec"]).parent / part).read_bytes() == (Path(two_chunks["spec"]).parent / part).read_bytes()


def test_ids_are_unique_across_chunks_and_the_truth_keys_match_the_data(two_chunks):
    orders, events, people = _tables(two_chunks)
    assert people["customer_unique_id"].is_unique and orders["order_ref"].is_unique
    assert set(orders["customer"]) <= set(people["customer_unique_id"])
    # every visitor is one user of one chunk: the two event files share no visitor
    out = Path(two_chunks["spec"]).parent
    v0, v1 = (set(pd.read_parquet(out / EVENTS_DIR / f"part-0000{i}.parquet")["visitor"]) for i in (0, 1))
    assert v0 and v1 and not v0 & v1
    pairs = events.dropna(subset=["customer"]).drop_duplicates(["visitor", "customer"])
    assert pairs["visitor"].is_unique and pairs["customer"].is_unique
    truth_pairs = people.dropna(subset=["UserID"]).set_index("UserID")["customer_unique_id"]
    assert (pairs.set_index("visitor")["customer"] == truth_pairs.reindex(pairs["visitor"])).all()
    per = orders.groupby("customer").size()
    assert (per <= people.set_index("customer_unique_id")["n_orders"].reindex(per.index)).all()


def test_chunk_sizes_and_scrambled_ids():
    assert chunk_sizes(1000, 500) == [500, 500]
    assert chunk_sizes(1001, 500) == [334, 334, 333]
    assert chunk_sizes(300, 500) == [300]
    ids = scrambled_ids(0, 100_000, 7)
    assert len(set(ids)) == 100_000 and all(len(i) == 16 for i in ids[:100])
    assert list(scrambled_ids(99_990, 10, 7)) == list(ids[99_990:])


def test_a_chunked_world_has_the_statistics_of_a_one_piece_world(tmp_path):
    def stats(r: dict) -> dict:
        orders, events, people = _tables(r)
        per = orders.groupby("customer").size()
        return {"repeat": float((per > 1).mean()), "orders_per_person": len(orders) / len(people),
                "events_per_user": len(events) / events["visitor"].nunique(),
                "linked": float(people["UserID"].notna().mean()),
                "purchase_events": float((events["event"] == "order_completed").mean())}

    whole = stats(_gen(tmp_path / "whole", n=20_000, chunk=20_000, seed=1))
    chunked = stats(_gen(tmp_path / "chunked", n=20_000, chunk=5_000, seed=1))
    assert whole["repeat"] == pytest.approx(0.03, abs=0.006)
    assert chunked["repeat"] == pytest.approx(whole["repeat"], abs=0.005)
    assert chunked["orders_per_person"] == pytest.approx(whole["orders_per_person"], abs=0.01)
    assert chunked["events_per_user"] == pytest.approx(whole["events_per_user"], rel=0.05)
    assert chunked["linked"] == pytest.approx(whole["linked"], abs=0.02)
    assert chunked["purchase_events"] == pytest.approx(whole["purchase_events"], abs=0.005)


# ----------------------------------------------------------------------------- the spec
def test_the_spec_it_writes_is_valid_and_reads_every_order_event_and_the_real_link(two_chunks):
    spec = load_spec(two_chunks["spec"])
    orders, events, people = _tables(two_chunks)
    clean = clean_orders(spec, {})
    delivered = orders[orders["state"] == "delivered"]
    assert len(clean.orders) == delivered["order_ref"].nunique()
    assert set(clean.orders["customer_unique_id"]) == set(delivered["customer"])
    ev = clean_events_of(spec, {}).events
    assert len(ev) == len(events) and set(ev["UserID"]) == set(events["visitor"])
    key = read_link(spec)
    assert len(key) == people["UserID"].notna().sum() - (~people["UserID"].dropna().isin(events["visitor"])).sum()


@pytest.mark.slow  # 15 s of notebook kernels; the readers' part is tested above in a fraction of a second
def test_the_spec_runs_the_first_stages_with_the_real_key(two_chunks, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "run_all.py"), "--dataset", str(two_chunks["spec"]),
                           "--stages", "00-03", "--out-root", str(tmp_path / "o")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=900, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    ws = tmp_path / "o" / "outputs" / "demo-shop-1000-seed5"
    info = json.loads((ws / "data" / "user_links.json").read_text())
    assert info["real_key"] is True and "key" in info["methods"]


# ----------------------------------------------------------------------------- replacing and refusing
def test_a_second_run_replaces_the_export_and_leaves_no_staging(tmp_path):
    _gen(tmp_path / "shop", n=1500, chunk=500)
    assert len(list((tmp_path / "shop" / EVENTS_DIR).iterdir())) == 3
    r = _gen(tmp_path / "shop", n=1000, chunk=500)
    out = Path(r["spec"]).parent
    assert sorted(p.name for p in (out / EVENTS_DIR).iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    assert not (out / ".partial").exists() and not (Path(r["truth_dir"]) / ".partial").exists()
    assert json.loads((out / MARKER_FILE).read_text())["n_customers"] == 1000


def test_a_failed_run_leaves_no_spec_and_no_staging(tmp_path, monkeypatch):
    _gen(tmp_path / "shop")
    import clvlib.demo.big as big

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(big, "_build_chunk", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        _gen(tmp_path / "shop")
    assert not (tmp_path / "shop" / SPEC_FILE).exists()  # no spec points at a half-replaced export
    assert not (tmp_path / "shop" / ".partial").exists()


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 99}, r"n_customers must be at least 100, got 99"),
    ({"n": 1000.0}, r"n_customers must be an integer, got 1000\.0"),
    ({"chunk": True}, r"chunk must be an integer, got True"),
    ({"chunk": 50}, r"chunk must be between 100 and 2,000,000 persons, got 50"),
    ({"chunk": 3_000_000}, r"chunk must be between 100 and 2,000,000"),
    ({"seed": -1}, r"seed must be a non-negative integer, got -1"),
    ({"name": "my shop"}, r"name 'my shop' must be letters, digits, - and _"),
])
def test_bad_arguments_are_refused_by_name(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _gen(tmp_path / "shop", **kwargs)
    assert not (tmp_path / "shop").exists()


def test_a_truth_folder_inside_the_export_and_a_folder_of_other_data_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"must not contain one another: the data stages would see the hidden truth"):
        _gen(tmp_path / "shop", truth_dir=tmp_path / "shop" / "truth")
    with pytest.raises(ValueError, match=r"must not contain one another"):
        _gen(tmp_path / "shop", truth_dir=tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "orders.parquet").write_bytes(b"real data")
    with pytest.raises(ValueError, match=r"is not empty \(\['orders.parquet'\]\) and holds no shop_demo.json"):
        _gen(tmp_path / "mine")
    assert (tmp_path / "mine" / "orders.parquet").read_bytes() == b"real data"


def test_the_command_line_writes_the_export_and_exits_2_on_a_bad_argument(tmp_path, capsys):
    assert main([str(tmp_path / "shop"), "--customers", "600", "--chunk", "300", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "chunk 2/2: 300 persons" in out and "run: python run_all.py --dataset" in out
    assert (tmp_path / "shop" / SPEC_FILE).is_file()
    assert main([str(tmp_path / "x"), "--customers", "10"]) == 2
    assert "error: n_customers must be at least 100, got 10" in capsys.readouterr().err


def test_truth_holds_each_persons_traits_with_numbers_in_range(two_chunks):
    _, _, people = _tables(two_chunks)
    assert (people["purchase_rate_per_day"] > 0).all() and (people["spend_mean"] > 0).all()
    assert people["first_purchase"].between(pd.Timestamp("2016-01-01"), pd.Timestamp("2018-12-31")).all()
    assert np.isfinite(people["session_rate_per_day"]).all()
