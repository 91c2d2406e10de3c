"""Shared fixtures: where the real Kaggle data lives, and small hand-built tables."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The real Kaggle files, beside the project (never copied into it).
REAL_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder with the real Olist and clickstream CSVs; tests using it skip when it is absent."""
    if not (REAL_DATA / "olist" / "olist_orders_dataset.csv").is_file():
        pytest.skip(f"real Kaggle data not found at {REAL_DATA}")
    return REAL_DATA
