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
