#!/usr/bin/env python
"""Run the CLV notebook pipeline end to end into a workspace and build its index.html.

A thin command line over :mod:`clvlib.pipeline`; see ``python run_all.py --help``.
Works from any working directory without installing clvlib.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from clvlib.engine.backend import ENGINE_ENV, ENGINES, check_engine  # noqa: E402
from clvlib.paths import project_root  # noqa: E402
from clvlib.pipeline import catalog  # noqa: E402
from clvlib.pipeline.datasource import DEMO_SEED, DEMO_SIZE, refresh_source, resolve_data_source  # noqa: E402
from clvlib.pipeline.execute import check_kernel  # noqa: E402
from clvlib.pipeline.listing import format_stage_list  # noqa: E402
from clvlib.pipeline.params import declared_parameters, parse_overrides, validate_overrides  # noqa: E402
from clvlib.pipeline.run import LATEST, RunConfig, missing_inputs, parse_stage_selection, run_pipeline  # noqa: E402
from clvlib.pipeline.workspace import OUT_ROOT_ENV, DataSource, Workspace, WorkspaceError  # noqa: E402

EPILOG = """\
stages:
{stages}
  Select by number (3 or 03), name (user_mapping), or range (02-04). A failing
  stage stops the run: later stages are skipped; its report goes to failed/
  beside the last good one.

data and workspaces:
  A run writes into one workspace per dataset: outputs/<name>/ (olist for the
  Kaggle files, demo for the default demo, the spec's name for --dataset SPEC). Without --raw-dir a full run uses
  data/raw/ when it holds the Kaggle files, otherwise synthetic DEMO data
  (generated into data/demo/<name>/raw, reused when size and seed match). A
  partial run (--stages, --from) reuses the dataset of its workspace (--workspace,
  else the most recent run's) and refuses to mix in another one.

outputs (under --out-root, default the project root):
  outputs/index.html                     every workspace
  outputs/<name>/index.html, run.json    the run at a glance / machine-readable
  outputs/<name>/NN_name.html            the last good report of each stage
  outputs/<name>/failed/NN_name.html     a failed stage's report
  outputs/<name>/data/                   the files the stages hand to each other
  outputs/<name>/data/clv_table.csv      the forecast: one row per customer, to act on
  outputs/<name>/data/clv_predictions.parquet   the predictions at the evaluation cut-off
  outputs/<name>/metrics.json            every figure of the run: the evaluation and the forecast

examples:
  python run_all.py                          # all stages (real data if in data/raw, else demo)
  python run_all.py --raw-dir ~/Downloads/kaggle   # CSVs at any depth, or the .zip files
  python run_all.py --demo --demo-size 5000 --seed 7
  python run_all.py --dataset my_shop.toml      # your own orders (and events): see the README
  python run_all.py --from 03 -p link_methods '["random"]'
  python run_all.py --from 03 -p cutoff 2017-12-31   # every stage that declares cutoff gets it
  python run_all.py --list                   # stages and their parameters
  python run_all.py --engine spark           # the aggregates on Spark (local mode) instead of DuckDB
"""


def build_parser(registry: Sequence[catalog.Stage] = catalog.STAGES) -> argparse.ArgumentParser:
    stages = "\n".join(f"  {s.number} {s.name:<20} {s.title}" for s in registry)
    p = argparse.ArgumentParser(
        prog="run_all.py",
        description="Run the CLV notebooks (00_inventory .. 07_forecast) with papermill into a workspace, render "
        "each to HTML and write the workspace's index.html and run.json.",
        epilog=EPILOG.format(stages=stages),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sel = p.add_argument_group("what to run")
    sel.add_argument("--stages", metavar="LIST",
                     help="comma-separated stages to run: numbers, names or ranges, e.g. 00,01,03 or 02-04 "
                          "(default: all)")
    sel.add_argument("--from", dest="start", metavar="STAGE",
                     help="run this stage and every later one (combined with --stages: the overlap)")
    sel.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                     help="set a notebook parameter (repeatable) in every selected notebook that declares it. "
                          "VALUE is read as a Python/JSON literal when it parses (5, 0.1, [1, 2], None, true), "
                          "else as a string, and must fit the type of the notebook's default. See --list.")
    sel.add_argument("--list", action="store_true",
                     help="list the stages, what they read and write, and their parameters, then exit")

    data = p.add_argument_group("data")
    src = data.add_mutually_exclusive_group()
    src.add_argument("--raw-dir", metavar="PATH",
                     help="folder with the Kaggle CSVs at any depth, or the .zip files as Kaggle serves them "
                          "(relative: to the working directory, else to the project root). "
                          "Default: data/raw if it holds the files, else demo data")
    src.add_argument("--demo", action="store_true", help="use synthetic demo data even if data/raw has files")
    data.add_argument("--dataset", metavar="SPEC",
                      help="your own data: the path of a TOML dataset spec (see the README, 'Your own data'); or a "
                           "built-in dataset: olist (the Kaggle files in --raw-dir, default data/raw) or demo")
    data.add_argument("--demo-size", type=_positive_int, default=DEMO_SIZE, metavar="N",
                      help="customers in the demo data (default: %(default)s)")
    data.add_argument("--seed", type=int, default=DEMO_SEED,
                      help="random seed of the demo data (default: %(default)s); a notebook's own seed "
                           "parameter is set with -p seed N")

    ex = p.add_argument_group("execution")
    ex.add_argument("--workspace", metavar="NAME",
                    help="the workspace to run in, outputs/NAME (default: named after the dataset; for a partial "
                         "run without --raw-dir/--dataset/--demo, the most recent run's)")
    ex.add_argument("--out-root", metavar="DIR",
                    help=f"where outputs/ and data/demo go; relative to the working directory (default: "
                         f"${OUT_ROOT_ENV} or the project root)")
    ex.add_argument("--timeout", type=int, default=1800, metavar="SECONDS",
                    help="execution timeout per notebook cell; 0 = none (default: %(default)s)")
    ex.add_argument("--kernel", default="python3", metavar="NAME",
                    help="Jupyter kernel to run the notebooks with (default: %(default)s)")
    ex.add_argument("--engine", choices=ENGINES, default=None,
                    help="where the per-customer and per-user aggregates (snapshot features, labels, clickstream "
                         f"users) are computed: duckdb in process, or spark in local mode (needs Java 17+); "
                         f"same results (default: ${ENGINE_ENV}, else duckdb)")
    # Hidden: run notebooks from another folder (the tests point it at throw-away notebooks).
    ex.add_argument("--notebook-dir", help=argparse.SUPPRESS)
    return p


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _err(msg: str) -> None:
    print(f"run_all: {msg}", file=sys.stderr, flush=True)


def _existing_source(out_root: Path, name: str | None) -> tuple[Workspace, DataSource] | None:
    """The workspace (named, else the most recent run's) and its dataset, re-fingerprinted, if there is one."""
    outputs = out_root / "outputs"
    folder = outputs / name if name else None
    if folder is None:
        try:
            folder = outputs / json.loads((outputs / LATEST).read_text(encoding="utf-8"))["workspace"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
    ws = Workspace(folder)
    if not ws.exists():
        return None
    return ws, refresh_source(ws.source())


def _announce_data(data: DataSource) -> None:
    if not data.demo:
        print(f"Using {data.label}")
        return
    info = data.demo_info or {}
    size = f"{info['n_customers']:,} customers, seed {info['seed']}, " if info.get("n_customers") else ""
    print("=" * 78)
    print(f"Using DEMO DATA (synthetic; {size}{'generated now' if data.generated else 'at'} {data.raw_dir}).")
    print("For the real data, unpack the Kaggle downloads olistbr/brazilian-ecommerce and")
    print("fronkongames/ecommerce-clickstream-transactions into data/raw/ (any depth, or the")
    print("zips as downloaded), or pass --raw-dir PATH.")
    print("=" * 78)


def main(argv: Sequence[str] | None = None, registry: Sequence[catalog.Stage] = catalog.STAGES) -> int:
    """Parse ``argv``, check everything that can be checked, run the pipeline; return the exit code.

    0: all selected stages ran; 1: a stage failed; 2: a usage or set-up error
    (nothing ran, nothing written); 130: interrupted.
    """
    args = build_parser(registry).parse_args(argv)
    root = project_root()
    nb_dir = Path(args.notebook_dir).resolve() if args.notebook_dir else root / "notebooks"

    if args.list:
        print(f"Stages and their parameters (notebooks in {nb_dir}); override with -p NAME VALUE:")
        print(format_stage_list(registry, nb_dir))
        return 0

    # Everything cheap is checked before anything is written (or demo data is generated).
    try:
        selected = parse_stage_selection(args.stages, args.start, registry)
        declared = declared_parameters(selected, nb_dir)
        overrides = parse_overrides(args.param)
        validate_overrides(overrides, declared)
        check_kernel(args.kernel)
        engine = check_engine(args.engine)
        out_root = Path(args.out_root or os.environ.get(OUT_ROOT_ENV) or root).expanduser().resolve()
        full_run = len(selected) == len(registry)
        found = None
        if args.raw_dir is None and args.dataset is None and not args.demo and (not full_run or args.workspace):
            found = _existing_source(out_root, args.workspace)
        if found is not None:
            ws, data = found
        else:
            data = resolve_data_source(args.raw_dir, out_root, demo=args.demo, demo_size=args.demo_size,
                                       seed=args.seed, announce=lambda m: print(m, flush=True), dataset=args.dataset)
            ws = Workspace(out_root / "outputs" / (args.workspace or data.name))
        ws.acquire(" ".join([Path(sys.executable).name, *sys.argv]))
    except (ValueError, FileNotFoundError, RuntimeError, ImportError) as exc:
        _err(f"error: {exc}")
        return 2
    try:
        try:
            ws.adopt(data, full_run=full_run, announce=lambda m: print(m, flush=True))
            problems = missing_inputs(selected, ws, registry)
            if problems:
                raise WorkspaceError("\n  ".join(["this run cannot start:", *problems]))
        except WorkspaceError as exc:
            _err(f"error: {exc}")
            return 2
        config = RunConfig(workspace=ws, notebook_dir=nb_dir, kernel=args.kernel,
                           timeout=args.timeout if args.timeout > 0 else None, overrides=overrides, engine=engine)
        _announce_data(data)
        print(f"{len(selected)} stage(s), kernel {config.kernel}, cell timeout "
              f"{f'{config.timeout} s' if config.timeout else 'none'}, workspace {ws.folder}", flush=True)
        try:
            record = run_pipeline(selected, config, registry=registry, declared=declared,
                                  command=[sys.executable, *sys.argv])
        except KeyboardInterrupt:
            _err(f"interrupted; {ws.folder / 'index.html'} and run.json record how far it got.")
            return 130
    finally:
        ws.release()
    if record["status"] == "failed":
        stage = next(s for s in record["stages"] if s["status"] == "failed")
        _err(f"stage {stage['key']} failed: {stage['error']}")
        _err(f"stage {stage['key']} failed; see {stage['failed_html'] or stage['executed_notebook']}")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _err("interrupted.")
        sys.exit(130)
