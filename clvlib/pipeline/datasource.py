"""Deciding which dataset a run reads: the Kaggle files in a folder, or the generated demo.

The dataset names its workspace (``olist`` for the Kaggle pair, ``demo`` for the default demo,
``demo-<size>-seed<seed>`` for another one) and carries a fingerprint of its files' content.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from clvlib.data.sources import find_raw_files, has_raw_data, is_demo_dir
from clvlib.paths import project_root
from clvlib.pipeline.workspace import DataSource, fingerprint_files
from clvlib.schemas import DEMO_MARKER

__all__ = ["DEMO_SIZE", "DEMO_SEED", "demo_name", "prepare_demo", "resolve_data_source"]

DEMO_SIZE = 40_000
DEMO_SEED = 42


def demo_name(n_customers: int = DEMO_SIZE, seed: int = DEMO_SEED) -> str:
    """Workspace name of a demo dataset: ``demo`` for the default one."""
    return "demo" if (n_customers, seed) == (DEMO_SIZE, DEMO_SEED) else f"demo-{n_customers}-seed{seed}"


def _read_marker(raw_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((raw_dir / DEMO_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _marker_matches(marker: Mapping[str, Any], n_customers: int, seed: int) -> bool:
    size = next((marker[k] for k in ("n_customers", "demo_size", "size") if k in marker), None)
    return size == n_customers and marker.get("seed") == seed


def _source(name: str, raw: Path, demo: bool, files: dict[str, Path], **kw: Any) -> DataSource:
    return DataSource(name=name, raw_dir=raw, demo=demo, files=files, fingerprint=fingerprint_files(files), **kw)


def prepare_demo(
    out_root: str | Path,
    n_customers: int = DEMO_SIZE,
    seed: int = DEMO_SEED,
    generate: Callable[..., Any] | None = None,
    announce: Callable[[str], None] | None = None,
) -> DataSource:
    """Make sure ``<out_root>/data/demo/<name>/raw`` holds demo data of this size and seed.

    Reuses a folder whose :data:`DEMO_MARKER` records the same size and seed; otherwise
    (re)generates it with :func:`clvlib.demo.generate_demo` (or ``generate``), the hidden truth
    going to ``<out_root>/data/demo/<name>/truth``.
    """
    name = demo_name(n_customers, seed)
    raw = Path(out_root) / "data" / "demo" / name / "raw"
    truth = raw.parent / "truth"
    marker = _read_marker(raw)
    generated = False
    if not (marker and _marker_matches(marker, n_customers, seed) and has_raw_data(raw)):
        if generate is None:
            from clvlib.demo import generate_demo as generate
        if announce:
            announce(f"Generating demo data ({n_customers:,} customers, seed {seed}) into {raw} ...")
        if raw.exists():  # a half-written folder never looks valid: start clean
            shutil.rmtree(raw)
        generate(raw, n_customers=n_customers, seed=seed, truth_dir=truth)
        generated = True
        marker = _read_marker(raw)
    files = find_raw_files(raw)
    return _source(name, raw, True, files, truth_dir=truth if truth.is_dir() else None,
                   demo_info={"n_customers": n_customers, "seed": seed, "marker": marker}, generated=generated)


def resolve_data_source(
    raw_dir: str | Path | None,
    out_root: str | Path,
    demo: bool = False,
    demo_size: int = DEMO_SIZE,
    seed: int = DEMO_SEED,
    generate: Callable[..., Any] | None = None,
    announce: Callable[[str], None] | None = None,
) -> DataSource:
    """Decide which raw data the run uses and check the files are there.

    * ``raw_dir`` given: use it (relative paths: the working directory first, then the project
      root); a folder carrying :data:`DEMO_MARKER` counts as demo;
    * else, unless ``demo``: ``<project root>/data/raw`` when it holds the Kaggle files;
    * else demo data under ``out_root`` (see :func:`prepare_demo`).

    Raises
    ------
    FileNotFoundError
        Naming the folder and the missing files, before any stage runs.
    ValueError
        When both ``raw_dir`` and ``demo`` are given.
    """
    out_root = Path(out_root)
    extract = out_root / "data" / "interim" / "unzipped"
    if raw_dir is not None:
        if demo:
            raise ValueError("Give either --raw-dir or --demo, not both.")
        p = Path(raw_dir).expanduser()
        if not p.is_absolute():
            p = p.resolve() if p.exists() else (project_root() / p)
        files = find_raw_files(p, extract_dir=extract)
        if is_demo_dir(p):
            marker = _read_marker(p)
            truth = p.parent / "truth"
            name = demo_name(marker.get("n_customers", DEMO_SIZE), marker.get("seed", DEMO_SEED))
            return _source(name, p, True, files, truth_dir=truth if truth.is_dir() else None,
                           demo_info={"n_customers": marker.get("n_customers"), "seed": marker.get("seed"),
                                      "marker": marker})
        return _source("olist", p, False, files)
    default = project_root() / "data" / "raw"
    if not demo and has_raw_data(default):
        return _source("olist", default, False, find_raw_files(default, extract_dir=extract))
    return prepare_demo(out_root, demo_size, seed, generate=generate, announce=announce)
