"""The demo package as a whole: its public names, the names kept for old imports, and its layer."""

from __future__ import annotations

import subprocess
import sys

import clvlib.demo
import clvlib.demo.generate

#: Modules of clvlib the demo may import: the bottom layer only.
BOTTOM_LAYER = {"clvlib", "clvlib.io", "clvlib.dates", "clvlib.schemas", "clvlib.paths"}


def test_every_public_name_is_importable_from_the_package():
    for name in clvlib.demo.__all__:
        assert hasattr(clvlib.demo, name), name


def test_names_imported_from_clvlib_demo_generate_before_the_split_still_are():
    # notebooks/06_evaluate.ipynb and tests/test_models.py still import from there.
    for name in ("generate_demo", "load_truth", "true_expected_value", "visible_days", "TRUTH_FILE",
                 "TRUTH_JSON", "USER_KEY_FILE", "TRUTH_COLUMNS", "MIN_CUSTOMERS"):
        assert getattr(clvlib.demo.generate, name) is getattr(clvlib.demo, name), name


def test_the_demo_imports_only_the_bottom_layer():
    code = "import sys, clvlib.demo; print('\\n'.join(m for m in sys.modules if m.startswith('clvlib')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    upward = sorted(m for m in out if not m.startswith("clvlib.demo") and m not in BOTTOM_LAYER)
    assert not upward, f"clvlib.demo imports {upward}; it may only use {sorted(BOTTOM_LAYER)}, numpy and pandas"
