"""Workspaces: the folder a run writes into, holding one dataset and never mixing two.

A workspace is ``<out_root>/outputs/<name>/``. Its ``workspace.json`` records the dataset it holds
(where the raw files are, demo or real, a fingerprint of the input files' content). Every run,
partial run and notebook opened on its own reads the dataset from there instead of guessing.
``.lock`` refuses a second run on a busy workspace; ``runs/`` keeps the last run records;
``data/provenance.json`` records, for every file a stage wrote, the parameters and input versions
it was made from (see :mod:`clvlib.pipeline.context`).

Layout::

    outputs/<name>/workspace.json     the dataset and its fingerprint
    outputs/<name>/data/              the files stages hand to each other (the catalog)
    outputs/<name>/NN_name.html       the last good report of each stage
    outputs/<name>/failed/NN_name.html   a failed stage's report, beside the last good one
    outputs/<name>/index.html, run.json, metrics.json, runs/<time>.json
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from clvlib.data.spec import DatasetSpec, builtin_spec, spec_from_dict
from clvlib.io import file_digest, read_json, write_json_atomic

__all__ = [
    "DataSource",
    "Workspace",
    "WorkspaceError",
    "fingerprint_files",
    "fingerprint_source",
    "RUN_PID_ENV",
    "OUT_ROOT_ENV",
]

#: Environment variable a run sets for its notebook kernels: the pid that holds the workspace lock.
RUN_PID_ENV = "CLVLIB_RUN_PID"
#: Environment variable that moves the default ``<out_root>`` (the project root) elsewhere, e.g. in tests.
OUT_ROOT_ENV = "CLVLIB_OUT_ROOT"

_HISTORY = 10


class WorkspaceError(RuntimeError):
    """A workspace cannot be used as asked (another dataset, busy, missing); the message says what to do."""


def fingerprint_files(files: Mapping[str, str | Path]) -> str:
    """One digest over the content of the given files, keyed by their logical names (not their paths)."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(files):
        h.update(f"{name}={file_digest(files[name])};".encode())
    return h.hexdigest()


def fingerprint_source(files: Mapping[str, str | Path], spec: Mapping[str, Any] | None = None) -> str:
    """:func:`fingerprint_files`, and for a spec dataset also the spec's content (columns, queries, database URLs).

    A database table's rows are not fingerprinted (they are read again by every run of stages 00-02).
    """
    base = fingerprint_files(files)
    if not spec:
        return base
    body = json.dumps({k: v for k, v in spec.items() if k != "file"}, sort_keys=True, default=str)
    return hashlib.blake2b(f"{base};{body}".encode(), digest_size=16).hexdigest()


@dataclass
class DataSource:
    """The dataset of a workspace: its raw files and what to say about them."""

    name: str
    raw_dir: Path
    demo: bool
    files: dict[str, Path]
    truth_dir: Path | None = None
    demo_info: dict[str, Any] | None = None
    generated: bool = False
    fingerprint: str = ""
    spec: dict[str, Any] | None = None

    @property
    def dataset_spec(self) -> DatasetSpec:
        """The dataset as a spec: the user's, or the built-in ``olist``/``demo`` one."""
        if self.spec:
            return spec_from_dict(self.spec)
        if self.demo:
            info = self.demo_info or {}
            return builtin_spec("demo", size=info.get("n_customers"), seed=info.get("seed"))
        return builtin_spec("olist", raw_dir=self.raw_dir)

    @property
    def currency(self) -> str:
        return self.dataset_spec.currency

    @property
    def label(self) -> str:
        if self.spec:
            return f"your data \"{self.name}\" (spec {self.spec.get('file') or 'given inline'})"
        if self.demo:
            size = (self.demo_info or {}).get("n_customers")
            return "DEMO DATA (synthetic" + (f", {size:,} customers" if size else "") + ")"
        return f"Kaggle data at {self.raw_dir}"

    def refingerprint(self) -> str:
        """The fingerprint of the dataset as it is now (see :func:`fingerprint_source`)."""
        return fingerprint_source(self.files, self.spec)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "raw_dir": str(self.raw_dir), "demo": self.demo,
                "truth_dir": str(self.truth_dir) if self.truth_dir else None, "demo_info": self.demo_info,
                "files": {k: str(v) for k, v in self.files.items()}, "fingerprint": self.fingerprint, "spec": self.spec}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DataSource:
        return cls(name=d["name"], raw_dir=Path(d["raw_dir"]), demo=bool(d["demo"]),
                   files={k: Path(v) for k, v in (d.get("files") or {}).items()},
                   truth_dir=Path(d["truth_dir"]) if d.get("truth_dir") else None,
                   demo_info=d.get("demo_info"), fingerprint=d.get("fingerprint", ""), spec=d.get("spec"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Workspace:
    """One folder holding one dataset's processed files, reports and run records."""

    folder: Path
    _source: DataSource | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def manifest_path(self) -> Path:
        return self.folder / "workspace.json"

    @property
    def lock_path(self) -> Path:
        return self.folder / ".lock"

    @property
    def provenance_path(self) -> Path:
        return self.folder / "data" / "provenance.json"

    @property
    def executed_dir(self) -> Path:
        return self.folder / "notebooks"

    @property
    def failed_dir(self) -> Path:
        return self.folder / "failed"

    @property
    def headlines_dir(self) -> Path:
        return self.folder / "headlines"

    @property
    def runs_dir(self) -> Path:
        return self.folder / "runs"

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    def path(self, relative: str) -> Path:
        """A path inside the workspace."""
        return self.folder / relative

    # ------------------------------------------------------------------ the dataset

    def source(self) -> DataSource:
        """The dataset recorded in ``workspace.json``."""
        if self._source is None:
            if not self.exists():
                raise WorkspaceError(
                    f"{self.folder} is not a workspace yet (no workspace.json). Create it with a run: "
                    "python run_all.py (demo data) or python run_all.py --raw-dir PATH.")
            self._source = DataSource.from_dict(read_json(self.manifest_path)["dataset"])
        return self._source

    def adopt(self, source: DataSource, full_run: bool, announce=print) -> None:
        """Make this workspace hold ``source``.

        A new workspace records it. One that already holds the same dataset (same fingerprint) is
        kept. One that holds another dataset is started afresh by a full run (every stage), and
        refused for a partial run: a partial run would mix two datasets.
        """
        if self.exists():
            old = self.source()
            if old.fingerprint == source.fingerprint:
                self._write_manifest(source)
                return
            if not full_run:
                raise WorkspaceError(
                    f"Workspace {self.folder} holds {old.label} (raw files {old.raw_dir}, fingerprint "
                    f"{old.fingerprint[:12]}), but this run reads {source.label} (raw files {source.raw_dir}, "
                    f"fingerprint {source.fingerprint[:12]}). A partial run would mix the two. Run every stage "
                    "to start this workspace afresh, or give another --workspace NAME.")
            announce(f"Workspace {self.folder} held {old.label}; starting it afresh for {source.label}.")
            self._clear()
        self._write_manifest(source)

    def _write_manifest(self, source: DataSource) -> None:
        self._source = source
        write_json_atomic({"workspace": self.name, "dataset": source.to_dict()}, self.manifest_path)

    def _clear(self) -> None:
        """Remove everything a previous dataset left (processed files, reports), keeping the run history."""
        import shutil

        for child in self.folder.iterdir():
            if child.name in (".lock", "runs"):
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()

    # ------------------------------------------------------------------ the lock

    def holder(self) -> dict[str, Any] | None:
        """Who holds the lock (``pid``, ``command``, ``since``), or None when free or stale."""
        try:
            info = json.loads(self.lock_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        pid = int(info.get("pid", -1))
        if info.get("host") == socket.gethostname() and not _pid_alive(pid):
            return None
        return info

    def acquire(self, command: str) -> None:
        """Take the lock; refuse, naming the running process, when another live process has it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                           "since": datetime.now().astimezone().isoformat(timespec="seconds")})
        for _ in range(2):
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                held = self.holder()
                if held is not None:
                    raise WorkspaceError(
                        f"Workspace {self.folder} is busy: process {held.get('pid')} ({held.get('command')}) has been "
                        f"running in it since {held.get('since')}. Wait for it to finish, or use another --workspace.")
                self.lock_path.unlink(missing_ok=True)  # left by a process that died
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
            return
        raise WorkspaceError(f"Could not take the lock {self.lock_path}.")

    def release(self) -> None:
        """Give the lock back (only if this process holds it)."""
        try:
            info = json.loads(self.lock_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if info.get("pid") == os.getpid():
            self.lock_path.unlink(missing_ok=True)

    def check_not_busy(self) -> None:
        """For a notebook run on its own: refuse when a run other than the one that started us holds the lock."""
        held = self.holder()
        if held is not None and str(held.get("pid")) != os.environ.get(RUN_PID_ENV):
            raise WorkspaceError(
                f"Workspace {self.folder} is busy: process {held.get('pid')} ({held.get('command')}) has been running "
                f"in it since {held.get('since')}. Wait for it to finish before running a notebook on it.")

    # ------------------------------------------------------------------ run history

    def record_run(self, record: Mapping[str, Any]) -> None:
        """Write ``run.json`` and keep it in ``runs/`` (the last ten runs)."""
        write_json_atomic(record, self.folder / "run.json")
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() % 10**9:09d}"  # sorts by time, never collides
        write_json_atomic(record, self.runs_dir / f"{stamp}.json")
        for old in sorted(self.runs_dir.glob("*.json"))[:-_HISTORY]:
            old.unlink(missing_ok=True)

    def previous_run(self) -> dict[str, Any] | None:
        try:
            return read_json(self.folder / "run.json")
        except (OSError, ValueError):
            return None
