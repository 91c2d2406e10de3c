#!/usr/bin/env python
"""Run the CLV notebook pipeline end to end and build outputs/index.html.

A thin command line over :mod:`clvlib.runner`; see ``python run_all.py --help``.
Works from any working directory without installing clvlib.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from clvlib import runner  # noqa: E402
from clvlib.paths import project_root  # noqa: E402

EPILOG = """\
stages:
{stages}
  Select by number (3 or 03), name (user_mapping), or range (02-04). A failing
  stage stops the run: later stages are skipped, its report shows the error.

data:
  Without --raw-dir the pipeline uses data/raw/ when it holds the Kaggle files,
  otherwise it generates synthetic DEMO data into <out-root>/data/demo/raw
  (reused on the next run when size and seed match). Reports say which.

outputs (under --out-root, default the project root):
  data/processed/                    tables the stages hand to each other
  outputs/NN_name.html               one report per stage
  outputs/notebooks/NN_name.ipynb    the executed notebooks
  outputs/index.html, outputs/run.json   the run at a glance / machine-readable

examples:
  python run_all.py                          # all stages (real data if in data/raw, else demo)
  python run_all.py --raw-dir ~/Downloads/kaggle   # CSVs at any depth, or the .zip files
  python run_all.py --demo --demo-size 5000 --seed 7
  python run_all.py --stages 00,01,03        # or --stages 02-04, --stages user_mapping
  python run_all.py --from 05 -p horizon_months 3   # re-run the models with another horizon
  python run_all.py --list                   # stages and their parameters
"""


def build_parser(registry: Sequence[runner.Stage] = runner.STAGES) -> argparse.ArgumentParser:
    stages = "\n".join(f"  {s.number} {s.name:<20} {s.title}" for s in registry)
    p = argparse.ArgumentParser(
        prog="run_all.py",
        description="Run the CLV notebooks (00_inventory .. 06_evaluate) with papermill, render each to "
        "HTML and write outputs/index.html and outputs/run.json.",
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
                     help="override a notebook parameter (repeatable). VALUE is read as a Python/JSON literal "
                          "when it parses (5, 0.1, [1, 2], None, true), else as a string. Goes only to the "
                          "notebooks that declare NAME; a name no selected notebook declares is an error. "
                          "See --list for the names.")
    sel.add_argument("--list", action="store_true",
                     help="list the stages and their parameters (defaults and help), then exit")

    data = p.add_argument_group("data")
    src = data.add_mutually_exclusive_group()
    src.add_argument("--raw-dir", metavar="PATH",
                     help="folder with the Kaggle CSVs at any depth, or the .zip files as Kaggle serves them "
                          "(relative: to the working directory, else to the project root). "
                          "Default: data/raw if it holds the files, else demo data")
    src.add_argument("--demo", action="store_true", help="use synthetic demo data even if data/raw has files")
    data.add_argument("--demo-size", type=_positive_int, default=40_000, metavar="N",
                      help="customers in the demo data (default: %(default)s)")
    data.add_argument("--seed", type=int, default=42, help="random seed of the demo data (default: %(default)s); a notebook's own seed "
                           "parameter is set with -p seed N")

    ex = p.add_argument_group("execution")
    ex.add_argument("--out-root", metavar="DIR",
                    help="where data/processed, data/demo and outputs go; relative to the working directory "
                         "(default: the project root)")
    ex.add_argument("--timeout", type=int, default=1800, metavar="SECONDS",
                    help="execution timeout per notebook cell; 0 = none (default: %(default)s)")
    ex.add_argument("--kernel", default="python3", metavar="NAME",
                    help="Jupyter kernel to run the notebooks with (default: %(default)s)")
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


def main(
    argv: Sequence[str] | None = None,
    registry: Sequence[runner.Stage] = runner.STAGES,
) -> int:
    """Parse ``argv``, check everything that can be checked, run the pipeline; return the exit code.

    0: all selected stages ran; 1: a stage failed; 2: a usage or set-up error
    (nothing ran); 130: interrupted.
    """
    args = build_parser(registry).parse_args(argv)
    root = project_root()
    nb_dir = Path(args.notebook_dir).resolve() if args.notebook_dir else root / "notebooks"

    if args.list:
        print(f"Stages and their parameters (notebooks in {nb_dir}); override with -p NAME VALUE:")
        print(runner.format_stage_list(registry, nb_dir))
        return 0

    # Everything cheap is checked before anything runs (or demo data is generated).
    try:
        selected = runner.parse_stage_selection(args.stages, args.start, registry)
        declared = runner.declared_parameters(selected, nb_dir)
        overrides = runner.parse_overrides(args.param)
        warnings = runner.validate_overrides(overrides, declared)
        runner.check_kernel(args.kernel)
        out_root = Path(args.out_root).expanduser().resolve() if args.out_root else root
        data = runner.resolve_data_source(
            args.raw_dir, out_root, demo=args.demo, demo_size=args.demo_size, seed=args.seed,
            announce=lambda m: print(m, flush=True),
        )
    except (ValueError, FileNotFoundError, RuntimeError, ImportError) as exc:
        _err(f"error: {exc}")
        return 2

    config = runner.RunConfig(
        out_root=out_root, data=data, notebook_dir=nb_dir, kernel=args.kernel,
        timeout=args.timeout if args.timeout > 0 else None, overrides=overrides,
    )
    if data.demo:
        info = data.demo_info or {}
        size = f"{info['n_customers']:,} customers, seed {info['seed']}, " if "n_customers" in info else ""
        print("=" * 78)
        print(f"Using DEMO DATA (synthetic; {size}{'generated now' if data.generated else 'at'} {data.raw_dir}).")
        print("For the real data, unpack the Kaggle downloads olistbr/brazilian-ecommerce and")
        print("fronkongames/ecommerce-clickstream-transactions into data/raw/ (any depth, or the")
        print("zips as downloaded), or pass --raw-dir PATH.")
        print("=" * 78)
    else:
        print(f"Using Kaggle data at {data.raw_dir}")
    print(f"{len(selected)} stage(s), kernel {config.kernel}, cell timeout "
          f"{config.timeout or 'none'} s, outputs in {config.outputs_dir}")
    for w in warnings + runner.dependency_warnings(selected, registry, config.headlines_dir):
        print(f"warning: {w}")
    sys.stdout.flush()

    try:
        record = runner.run_pipeline(selected, config, registry=registry, declared=declared,
                                     command=[sys.executable, *sys.argv])
    except KeyboardInterrupt:
        _err("interrupted; outputs/index.html and outputs/run.json record how far it got.")
        return 130
    if record["status"] == "failed":
        stage = next(s for s in record["stages"] if s["status"] == "failed")
        _err(f"stage {stage['key']} failed: {stage['error']}")
        _err(f"stage {stage['key']} failed; see {stage['html'] or stage['executed_notebook']}")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _err("interrupted.")
        sys.exit(130)
