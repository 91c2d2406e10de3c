"""The fixed cost of one stage: a kernel started by papermill, the imports a stage makes, and the HTML rendering.

Issue 7 asks how close the real-data run (eight stages with reports) is to the floor that this
fixed cost sets. The script runs a notebook with a parameters cell and one cell of the imports a
stage makes (clvlib, pandas, matplotlib, the report helpers), renders it exactly as ``run_all.py``
does, and prints the times; the floor of a run is about eight times the total.

    python scripts/bench_floor.py [--repeats 3]

Run it on an idle machine (other processes make kernel start-up several times slower).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

import nbformat  # noqa: E402

from clvlib.pipeline.execute import execute_stage, kernel_environment, render_html  # noqa: E402

#: What every stage notebook imports before it computes anything.
IMPORTS = """import clvlib
import pandas as pd
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from clvlib.pipeline.context import StageContext
from clvlib.report import display"""


def floor_notebook(path: Path) -> Path:
    """A notebook like a stage's with no work: a tagged parameters cell, the imports, one small figure."""
    params = nbformat.v4.new_code_cell("raw_dir = None")
    params.metadata["tags"] = ["parameters"]
    figure = nbformat.v4.new_code_cell("fig, ax = plt.subplots(figsize=(6, 3)); ax.plot([0, 1], [0, 1]); plt.show()")
    nb = nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell(IMPORTS), figure])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="stages to time (default 3)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, kernel_environment(ROOT):
        nb = floor_notebook(Path(tmp) / "floor.ipynb")
        totals = []
        for k in range(args.repeats):
            t0 = time.perf_counter()
            execute_stage(nb, Path(tmp) / f"run{k}.ipynb", {"raw_dir": None}, cwd=tmp)
            t1 = time.perf_counter()
            render_html(Path(tmp) / f"run{k}.ipynb", Path(tmp) / f"run{k}.html")
            t2 = time.perf_counter()
            totals.append(t2 - t0)
            print(f"stage {k + 1}: kernel + imports + figure {t1 - t0:5.2f} s, render {t2 - t1:5.2f} s, "
                  f"total {t2 - t0:5.2f} s", flush=True)
    best = min(totals)
    print(f"floor per stage (best of {args.repeats}): {best:.2f} s; eight stages: {8 * best:.0f} s")


if __name__ == "__main__":
    main()
