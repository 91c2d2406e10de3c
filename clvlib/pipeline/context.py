"""The stage context: what a notebook asks for its workspace, its dataset, its inputs and outputs.

A notebook opens its stage with :func:`open_stage` and then only calls ``ctx.load(NAME)`` and
``ctx.save(NAME, obj)`` with catalog names. Nothing else in a notebook resolves a path or guesses
where data is. ``ctx.load`` refuses a file that was made

- from another dataset than the workspace's,
- with other values of a parameter this stage shares with the stage that made it (``cutoff``,
  ``horizon_months``, ``seed``, ...), or
- from an older version of one of its own inputs,

and says which stage to rerun. Every ``ctx.save`` records that provenance in
``data/provenance.json``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from clvlib.data.spec import DatasetSpec
from clvlib.io import (ParquetTable, file_digest, read_json, write_csv_atomic, write_json_atomic, write_parquet_atomic,
                       write_parquet_parts_atomic)
from clvlib.paths import project_root
from clvlib.pipeline.catalog import RAW, Dataset, Stage, dataset, producer
from clvlib.pipeline.catalog import stage as catalog_stage
from clvlib.pipeline.workspace import OUT_ROOT_ENV, DataSource, Workspace, WorkspaceError

__all__ = ["StageContext", "StaleInputError", "open_stage", "default_workspace"]


class StaleInputError(RuntimeError):
    """An input file is missing, or was made from other data or parameters than this stage runs with."""


def peak_memory_mb() -> float | None:
    """This process's peak resident memory so far, in MB (the kernel's: DuckDB runs inside it; a Spark JVM does not).

    Linux reports ``ru_maxrss`` in KiB, macOS in bytes; ``None`` where the ``resource`` module is missing (Windows).
    """
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def default_workspace(out_root: str | Path | None = None) -> Workspace:
    """The workspace a notebook opened on its own uses: the most recent run's, else the default demo.

    ``out_root`` defaults to ``$CLVLIB_OUT_ROOT`` or the project root. The demo workspace is created
    (and its data generated) when it does not exist yet.
    """
    root = Path(out_root or os.environ.get(OUT_ROOT_ENV) or project_root())
    outputs = root / "outputs"
    try:
        latest = outputs / read_json(outputs / "latest.json")["workspace"]
        if (latest / "workspace.json").is_file():
            return Workspace(latest)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    from clvlib.pipeline.datasource import demo_name, prepare_demo

    ws = Workspace(outputs / demo_name())
    if not ws.exists():
        ws.adopt(prepare_demo(root, announce=print), full_run=True)
    return ws


def _read(ds: Dataset, path: Path) -> Any:
    if ds.kind == "json":
        return read_json(path)
    if ds.kind == "parquet":
        return pd.read_parquet(path)
    head = pd.read_csv(path, nrows=0).columns
    dtype = {c: "string" for c in head if c.endswith("_id") or c == "customer_unique_id"}
    frame = pd.read_csv(path, dtype=dtype, low_memory=False)
    for col in ds.dates:
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col], format="ISO8601")
    return frame


def _write(ds: Dataset, obj: Any, path: Path) -> Path:
    if ds.kind == "json":
        return write_json_atomic(obj, path)
    if ds.kind == "parquet" and isinstance(obj, Iterator):
        return write_parquet_parts_atomic(obj, path)
    if not isinstance(obj, pd.DataFrame):
        parts = " or an iterator of DataFrames (written part by part)" if ds.kind == "parquet" else ""
        raise TypeError(f"{ds.name} is a {ds.kind} table: save a DataFrame{parts}, not {type(obj).__name__}.")
    if ds.kind == "csv":
        return write_csv_atomic(obj, path)
    return write_parquet_atomic(obj, path)


@dataclass
class StageContext:
    """One running stage: its workspace, dataset, parameters, and the files it reads and writes."""

    stage: Stage
    workspace: Workspace
    params: dict[str, Any]
    started: float = field(default_factory=time.time)
    _inputs: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ the dataset

    @property
    def source(self) -> DataSource:
        return self.workspace.source()

    @property
    def demo(self) -> bool:
        return self.source.demo

    @property
    def raw_files(self) -> dict[str, Path]:
        """Logical table name -> raw file of this workspace's dataset."""
        self._inputs.setdefault(RAW, self.source.fingerprint)
        return dict(self.source.files)

    @property
    def spec(self) -> DatasetSpec:
        """The dataset as a spec (a user's, or the built-in olist/demo one)."""
        self._inputs.setdefault(RAW, self.source.fingerprint)
        return self.source.dataset_spec

    @property
    def currency(self) -> str:
        """The currency of the dataset's amounts (BRL for Olist and the demo)."""
        return self.source.currency

    @property
    def truth_dir(self) -> Path | None:
        """Demo only: the hidden truth (the evaluation reads it, nothing else)."""
        return self.source.truth_dir

    def truth(self):
        """Demo only: the hidden traits (``demo_truth.csv``, see :func:`clvlib.demo.load_truth`); ``None`` on other data."""
        path = self.truth_dir / "demo_truth.csv" if self.truth_dir else None
        if path is None or not path.is_file():
            return None
        from clvlib.demo import load_truth

        return load_truth(path)

    # ------------------------------------------------------------------ provenance

    def _provenance(self) -> dict[str, Any]:
        try:
            return read_json(self.workspace.provenance_path)
        except (OSError, ValueError):
            return {}

    def _rerun(self, up: Stage) -> str:
        return f"python run_all.py --from {up.number}" + (
            f" --workspace {self.workspace.name}" if self.workspace.name not in ("olist", "demo") else "")

    def check_input(self, name: str) -> dict[str, Any]:
        """Check that dataset ``name`` exists and fits this run; return its provenance record."""
        ds, up = dataset(name), producer(name)
        path = self.workspace.path(ds.path)
        if not path.is_file():
            raise StaleInputError(
                f"{ds.path} is not in workspace {self.workspace.folder}: stage {up.key} writes it. Run that stage "
                f"first: {self._rerun(up)}")
        provenance = self._provenance()
        rec = provenance.get(name)
        if rec is None:
            raise StaleInputError(f"{ds.path} in workspace {self.workspace.folder} has no provenance record (made by "
                                  f"an older version?). Rerun stage {up.key}: {self._rerun(up)}")
        if rec.get("fingerprint") != self.source.fingerprint:
            raise StaleInputError(f"{ds.path} was made from other raw data than this workspace's ({self.source.label}). "
                                  f"Rerun stage {up.key}: {self._rerun(up)}")
        differ = {k: (v, self.params[k]) for k, v in (rec.get("params") or {}).items()
                  if k in self.params and self.params[k] != v}
        if differ:
            what = "; ".join(f"{k} = {a!r} there, {b!r} here" for k, (a, b) in differ.items())
            opts = " ".join(f"-p {k} {_cli(b)}" for k, (_, b) in differ.items())
            raise StaleInputError(
                f"{ds.path} was made by stage {up.key} with other parameters than this stage runs with ({what}). "
                f"Rerun from stage {up.number} with the same values: {self._rerun(up)} {opts}")
        for inp, digest in (rec.get("inputs") or {}).items():
            now = self.source.fingerprint if inp == RAW else (provenance.get(inp) or {}).get("digest")
            if now != digest:
                src = "the raw files" if inp == RAW else dataset(inp).path
                raise StaleInputError(f"{ds.path} was made from an older version of {src}. Rerun stage {up.key}: "
                                      f"{self._rerun(up)}")
        if file_digest(path) != rec.get("digest"):
            raise StaleInputError(f"{ds.path} changed after stage {up.key} wrote it. Rerun stage {up.key}: "
                                  f"{self._rerun(up)}")
        return rec

    def load(self, name: str, lazy: bool = False) -> Any:
        """Read catalog dataset ``name`` (a DataFrame, or a dict for JSON) after :meth:`check_input`.

        ``lazy``: for a Parquet table, a :class:`clvlib.io.ParquetTable` that reads slices of the
        file when asked, instead of the whole table now.
        """
        if name not in self.stage.reads:
            raise ValueError(f"Stage {self.stage.key} does not declare {name!r} among what it reads "
                             f"({', '.join(self.stage.reads)}); declare it in clvlib/pipeline/catalog.py.")
        ds = dataset(name)
        if lazy and ds.kind != "parquet":
            raise ValueError(f"{ds.path} is a {ds.kind} file; only a Parquet table can be read lazily.")
        rec = self.check_input(name)
        self._inputs[name] = rec["digest"]
        path = self.workspace.path(ds.path)
        return ParquetTable(path) if lazy else _read(ds, path)

    def save(self, name: str, obj: Any) -> Path:
        """Write catalog dataset ``name`` atomically and record what it was made from."""
        if name not in self.stage.writes:
            raise ValueError(f"Stage {self.stage.key} does not declare {name!r} among what it writes "
                             f"({', '.join(self.stage.writes)}); declare it in clvlib/pipeline/catalog.py.")
        ds = dataset(name)
        path = _write(ds, obj, self.workspace.path(ds.path))
        prov = self._provenance()
        prov[name] = {"stage": self.stage.key, "params": self.params, "inputs": dict(self._inputs),
                      "fingerprint": self.source.fingerprint, "digest": file_digest(path)}
        write_json_atomic(prov, self.workspace.provenance_path)
        return path

    # ------------------------------------------------------------------ the report

    def show_header(self) -> None:
        """Display the data-source note, the parameters table and the Reads/Writes line."""
        from IPython.display import HTML, Markdown, display

        from clvlib.pipeline.catalog import reads_writes_markdown
        from clvlib.report.display import data_source_note, parameters_table

        display(HTML(data_source_note(self.source.label, self.demo, str(self.source.raw_dir), self.workspace.name)
                     + parameters_table(self.params)))
        display(Markdown(reads_writes_markdown(self.stage)))

    def finish(self, figures: Mapping[str, Any]) -> None:
        """Write the headline figures of this stage for the index page (returns nothing, so a report shows nothing)."""
        body = {"stage": self.stage.key, "figures": dict(figures), "demo": self.demo,
                "seconds": round(time.time() - self.started, 2), "peak_memory_mb": peak_memory_mb()}
        write_json_atomic(body, self.workspace.headlines_dir / f"{self.stage.key}.json")


def _cli(value: Any) -> str:
    import json

    return value if isinstance(value, str) else f"'{json.dumps(value)}'" if isinstance(value, list | dict) else str(value)


def open_stage(key: str, workspace: str | None = None, params: Mapping[str, Any] | None = None,
               show: bool = True) -> StageContext:
    """Open stage ``key`` (``"03"`` or ``"03_user_mapping"``) on a workspace and show its header.

    Parameters
    ----------
    key
        The stage, as in the catalog.
    workspace
        The workspace folder (``run_all.py`` passes it). ``None``: the most recent run's workspace,
        else the default demo's (see :func:`default_workspace`).
    params
        The notebook's parameters, recorded with every file it writes and compared with the
        parameters its inputs were made with.
    """
    ws = Workspace(Path(workspace).expanduser()) if workspace else default_workspace()
    if not ws.exists():
        raise WorkspaceError(f"{ws.folder} is not a workspace (no workspace.json). Create it with python run_all.py.")
    ws.check_not_busy()
    ctx = StageContext(stage=catalog_stage(key), workspace=ws, params={k: v for k, v in (params or {}).items()
                                                                        if k != "workspace"})
    if show:
        ctx.show_header()
    return ctx
