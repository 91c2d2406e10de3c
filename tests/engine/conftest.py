"""Inputs the engine tests share: a small demo's cleaned orders and events, the real data's (when present)."""

from __future__ import annotations

import pytest

from clvlib.data.clickstream import clean_events, read_clickstream
from clvlib.data.sources import find_raw_files
from clvlib.data.transactions import build_orders, read_olist
from clvlib.demo.generate import generate_demo
from clvlib.features.snapshots import snapshot_cuts
from clvlib.features.temporal import window


def _cleaned(raw):
    files = find_raw_files(raw)
    orders, _, _ = build_orders(read_olist(files))
    events, _ = clean_events(read_clickstream(files["clickstream"]))
    return orders, events


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory):
    """Stage 01/02's orders and events of a 1,500-customer demo (with a real key), and three snapshot cuts."""
    raw = tmp_path_factory.mktemp("engine-demo") / "raw"
    generate_demo(raw, n_customers=1500, seed=3)
    return (*_cleaned(raw), snapshot_cuts(window("2018-02-28", 6, 2, 1)))


@pytest.fixture(scope="session")
def real_inputs(real_data_dir):
    """Stage 01/02's orders and events of the real Kaggle data, and the default seven snapshot cuts."""
    return (*_cleaned(real_data_dir), snapshot_cuts(window("2018-02-28", 6, 6, 1)))
