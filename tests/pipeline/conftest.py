"""The small demo run the end-to-end and browser tests share: one pipeline run per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Customers of the small demo every shared-run test reads.
SMALL_DEMO = "6000"
#: Two backtest cut-offs instead of four keep the shared run quick; the slow tests run the defaults.
SMALL_RUN = ("-p", "n_backtests", "2")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """``python run_all.py --demo --demo-size 6000 -p n_backtests 2`` into a temporary out-root, once per session.

    Returns the out-root, the workspace folder and the finished process. Tests must not change
    what it wrote: copy it first (``shutil.copytree``) to run anything on top of it.
    """
    out = tmp_path_factory.mktemp("demo_run")
    proc = subprocess.run([sys.executable, str(ROOT / "run_all.py"), "--demo", "--demo-size", SMALL_DEMO,
                           "--out-root", str(out), *SMALL_RUN], cwd=out, capture_output=True, text=True, timeout=1800,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, out / "outputs" / f"demo-{SMALL_DEMO}-seed42", proc
