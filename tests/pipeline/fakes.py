"""Small fakes shared by the pipeline tests."""

from __future__ import annotations

from pathlib import Path

from clvlib.schemas import EXPECTED_FILES


def fake_raw(folder: Path, content: str = "a,b\n1,2\n") -> Path:
    """Every Kaggle file name, with a tiny CSV, two folders down."""
    nested = folder / "kaggle" / "nested"
    nested.mkdir(parents=True, exist_ok=True)
    for name in EXPECTED_FILES.values():
        (nested / name).write_text(content)
    return folder
