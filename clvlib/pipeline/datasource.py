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

from clvlib.data.readers import source_files
from clvlib.data.sources import find_raw_files, has_raw_data, is_demo_dir
from clvlib.data.spec import DatasetSpec, is_database, load_spec, spec_from_dict
from clvlib.paths import project_root
from clvlib.pipeline.workspace import DataSource, fingerprint_source
from clvlib.schemas import DEMO_MARKER

__all__ = ["DEMO_SIZE", "DEMO_SEED", "demo_name", "prepare_demo", "resolve_data_source", "spec_source",
           "spec_input_files", "refresh_source"]

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
    return DataSource(name=name, raw_dir=raw, demo=demo, files=files, fingerprint=fingerprint_source(files), **kw)


def spec_input_files(spec: DatasetSpec) -> dict[str, Path]:
    """The files a spec's tables read (database tables have none), keyed ``orders``, ``events:1``, ..."""
    out: dict[str, Path] = {}
    if spec.file:
        out["spec"] = Path(spec.file)
    parts = [("orders", spec.orders and spec.orders.source), ("events", spec.events and spec.events.source),
             ("link", spec.link and spec.link.source), ("customers", spec.customers and spec.customers.source),
             ("products", spec.products and spec.products.source)]
    for name, ts in parts:
        if ts is None or is_database(ts.path):
            continue
        files = source_files(ts, f"[{name}]")
        out.update({name: files[0]} if len(files) == 1 else {f"{name}:{i}": f for i, f in enumerate(files)})
    return out


def spec_source(spec: DatasetSpec) -> DataSource:
    """The dataset of a user's spec (layout ``spec``)."""
    files = spec_input_files(spec)
    d = spec.to_dict()
    raw = Path(spec.file).parent if spec.file else Path.cwd()
    return DataSource(name=spec.name, raw_dir=raw, demo=False, files=files, fingerprint=fingerprint_source(files, d),
                      spec=d)


def refresh_source(old: DataSource) -> DataSource:
    """The same dataset as now on disk: files re-listed (a glob may match new files) and re-fingerprinted.

    Raises
    ------
    FileNotFoundError
        When files the workspace read are gone.
    """
    if old.spec:
        return spec_source(spec_from_dict(old.spec))
    missing = [str(p) for p in old.files.values() if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"The raw files of {old.label} are gone: {', '.join(missing)}. "
                                "Give --raw-dir, --dataset or --demo and run every stage.")
    return DataSource(**{**old.__dict__, "fingerprint": old.refingerprint()})


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
    dataset: str | Path | None = None,
) -> DataSource:
    """Decide which raw data the run uses and check the files are there.

    * ``dataset`` given: ``olist`` (the Kaggle pair in ``raw_dir``, default ``data/raw``), ``demo``,
      or the path of a TOML spec (see :mod:`clvlib.data.spec`); a spec with layout ``olist`` or
      ``demo`` is the same as those;
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
    if dataset is not None:
        if demo:
            raise ValueError("Give either --dataset or --demo, not both (--dataset demo is --demo).")
        if str(dataset) == "demo":
            if raw_dir is not None:
                raise ValueError("--dataset demo generates its own data: drop --raw-dir.")
            demo = True
        elif str(dataset) == "olist":
            raw_dir = raw_dir if raw_dir is not None else project_root() / "data" / "raw"
        else:
            if raw_dir is not None:
                raise ValueError("A spec names its own files: give --dataset SPEC.toml or --raw-dir, not both.")
            spec = load_spec(dataset)
            if spec.layout == "spec":
                return spec_source(spec)
            if spec.layout == "demo":
                return prepare_demo(out_root, spec.size or demo_size, spec.seed if spec.seed is not None else seed,
                                    generate=generate, announce=announce)
            raw_dir = spec.raw_dir or project_root() / "data" / "raw"
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
