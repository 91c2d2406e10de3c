"""Fixtures shared by the demo tests: one moderate demo, generated once per session."""

from __future__ import annotations

import pytest

from clvlib.demo import generate_demo

#: Persons in the shared demo: enough for the shares compared with the real data.
N_DEMO = 20_000


@pytest.fixture(scope="session")
def demo_size() -> int:
    """Number of persons in the shared :func:`demo`."""
    return N_DEMO


@pytest.fixture(scope="session")
def demo(tmp_path_factory, demo_size) -> dict:
    """One moderate demo (seed 42), generated once and shared by the demo test modules."""
    root = tmp_path_factory.mktemp("demo")
    return generate_demo(root / "raw", n_customers=demo_size, seed=42)


@pytest.fixture(scope="session")
def default_demo_holdout():
    """The default demo (40,000 persons, seed 42) and its holdout after 2018-02-28 (slow tests only).

    Returns ``world, cut, end, ids, y``: the world, the cut, the holdout end, the people who had a
    delivered order by the cut and each one's delivered spend in the holdout.
    """
    import pandas as pd

    from clvlib.data.transactions import build_orders
    from clvlib.demo.world import build_world
    from clvlib.features.temporal import holdout_labels, population_features

    world = build_world(40_000, 42)
    orders, _, _ = build_orders(world.tables, statuses=("delivered",), analysis_date="2018-08-31")
    cut, end = pd.Timestamp("2018-02-28"), pd.Timestamp("2018-08-31")
    ids = population_features(orders, cut).reset_index()["customer_unique_id"]
    y = holdout_labels(orders, cut, end, ids)["holdout_spend"].to_numpy()
    return world, cut, end, ids, y
