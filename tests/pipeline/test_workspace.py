"""Workspaces (clvlib.pipeline.workspace) and datasets (clvlib.pipeline.datasource): one dataset per
workspace, a lock against a second run, a short run history, and raw files found by content."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import zipfile
from pathlib import Path

import pytest

from clvlib.data.sources import find_raw_files
from clvlib.pipeline.datasource import demo_name, resolve_data_source
from clvlib.pipeline.workspace import (
    RUN_PID_ENV,
    DataSource,
    Workspace,
    WorkspaceError,
    fingerprint_files,
)
from clvlib.schemas import DEMO_MARKER, EXPECTED_FILES
from fakes import fake_raw




def source_of(raw: Path, name: str = "olist") -> DataSource:
    files = find_raw_files(raw)
    return DataSource(name=name, raw_dir=raw, demo=False, files=files, fingerprint=fingerprint_files(files))


@pytest.fixture()
def live_pid():
    proc = subprocess.Popen(["sleep", "30"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def write_lock(ws: Workspace, pid: int, host: str | None = None) -> None:
    ws.folder.mkdir(parents=True, exist_ok=True)
    ws.lock_path.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                        "command": "python run_all.py", "since": "2025-01-01T10:00:00+01:00"}))


# --------------------------------------------------------------------------- fingerprints


def test_the_fingerprint_follows_the_content_not_the_paths(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "b.csv").write_text("x\n1\n")
    (tmp_path / "c.csv").write_text("x\n2\n")
    assert fingerprint_files({"orders": tmp_path / "a.csv"}) == fingerprint_files({"orders": tmp_path / "b.csv"})
    assert fingerprint_files({"orders": tmp_path / "a.csv"}) != fingerprint_files({"orders": tmp_path / "c.csv"})
    assert fingerprint_files({"orders": tmp_path / "a.csv"}) != fingerprint_files({"events": tmp_path / "a.csv"})


# --------------------------------------------------------------------------- one dataset per workspace


def test_adopt_records_the_dataset_in_the_workspace(tmp_path):
    src = source_of(fake_raw(tmp_path / "raw"))
    ws = Workspace(tmp_path / "outputs" / "olist")
    assert not ws.exists()
    ws.adopt(src, full_run=False)
    manifest = json.loads(ws.manifest_path.read_text())
    assert manifest["workspace"] == "olist" and manifest["dataset"]["fingerprint"] == src.fingerprint
    again = Workspace(ws.folder).source()  # read back from workspace.json
    assert again.files == src.files and again.raw_dir == src.raw_dir and again.fingerprint == src.fingerprint
    assert again.label == f"Kaggle data at {tmp_path / 'raw'}" and not again.demo


def test_a_folder_without_a_manifest_is_not_a_workspace(tmp_path):
    with pytest.raises(WorkspaceError, match=r"is not a workspace yet \(no workspace\.json\)\. Create it with a run"):
        Workspace(tmp_path / "nothing").source()


def test_the_same_dataset_keeps_the_workspace_and_its_files(tmp_path):
    raw = fake_raw(tmp_path / "raw")
    ws = Workspace(tmp_path / "outputs" / "olist")
    ws.adopt(source_of(raw), full_run=True)
    ws.path("data").mkdir()
    ws.path("data/orders.csv").write_text("kept")
    Workspace(ws.folder).adopt(source_of(raw), full_run=False)
    assert ws.path("data/orders.csv").read_text() == "kept"


def test_another_dataset_is_refused_for_a_partial_run(tmp_path):
    ws = Workspace(tmp_path / "outputs" / "olist")
    ws.adopt(source_of(fake_raw(tmp_path / "raw1")), full_run=True)
    ws.path("data").mkdir()
    ws.path("data/orders.csv").write_text("kept")
    other = source_of(fake_raw(tmp_path / "raw2", content="a,b\n3,4\n"))
    with pytest.raises(WorkspaceError, match=r"A partial run would mix the two\. Run every stage to start this "
                                             r"workspace afresh, or give another --workspace NAME"):
        Workspace(ws.folder).adopt(other, full_run=False)
    assert ws.path("data/orders.csv").read_text() == "kept"
    assert Workspace(ws.folder).source().raw_dir == tmp_path / "raw1"


def test_another_dataset_starts_the_workspace_afresh_for_a_full_run_keeping_the_run_history(tmp_path):
    ws = Workspace(tmp_path / "outputs" / "olist")
    ws.adopt(source_of(fake_raw(tmp_path / "raw1")), full_run=True)
    ws.path("data").mkdir()
    ws.path("data/orders.csv").write_text("old dataset")
    ws.path("00_inventory.html").write_text("old report")
    ws.record_run({"status": "ok"})
    said: list[str] = []
    other = source_of(fake_raw(tmp_path / "raw2", content="a,b\n3,4\n"))
    Workspace(ws.folder).adopt(other, full_run=True, announce=said.append)
    assert not ws.path("data").exists() and not ws.path("00_inventory.html").exists()
    assert not ws.path("run.json").exists() and len(list(ws.runs_dir.glob("*.json"))) == 1
    assert Workspace(ws.folder).source().fingerprint == other.fingerprint
    assert said == [f"Workspace {ws.folder} held Kaggle data at {tmp_path / 'raw1'}; starting it afresh for "
                    f"Kaggle data at {tmp_path / 'raw2'}."]


# --------------------------------------------------------------------------- the lock


def test_a_second_run_is_refused_naming_the_live_process_that_holds_the_lock(tmp_path, live_pid):
    ws = Workspace(tmp_path / "w")
    write_lock(ws, live_pid)
    with pytest.raises(WorkspaceError, match=rf"is busy: process {live_pid} \(python run_all\.py\) has been running "
                                             r"in it since 2025-01-01T10:00:00\+01:00"):
        ws.acquire("python run_all.py --from 03")


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    ws = Workspace(tmp_path / "w")
    write_lock(ws, dead_pid())
    assert ws.holder() is None
    ws.acquire("python run_all.py")
    assert json.loads(ws.lock_path.read_text())["pid"] == os.getpid()


def test_a_lock_from_another_host_is_respected(tmp_path):
    ws = Workspace(tmp_path / "w")
    write_lock(ws, dead_pid(), host="some-other-machine")
    with pytest.raises(WorkspaceError, match="is busy"):
        ws.acquire("python run_all.py")


def test_release_removes_only_our_own_lock(tmp_path, live_pid):
    ws = Workspace(tmp_path / "w")
    write_lock(ws, live_pid)
    ws.release()
    assert ws.lock_path.is_file()
    ws.lock_path.unlink()
    ws.acquire("python run_all.py")
    ws.release()
    assert not ws.lock_path.exists()


def test_a_notebook_opened_on_its_own_is_refused_while_a_run_holds_the_workspace(tmp_path, live_pid, monkeypatch):
    ws = Workspace(tmp_path / "w")
    ws.check_not_busy()  # free
    write_lock(ws, live_pid)
    monkeypatch.delenv(RUN_PID_ENV, raising=False)
    with pytest.raises(WorkspaceError, match=rf"is busy: process {live_pid} .*before running a notebook on it"):
        ws.check_not_busy()
    monkeypatch.setenv(RUN_PID_ENV, str(live_pid))  # the notebook is a stage of that run
    ws.check_not_busy()


# --------------------------------------------------------------------------- run history


def test_record_run_writes_run_json_and_keeps_the_last_ten_runs(tmp_path):
    ws = Workspace(tmp_path / "w")
    ws.runs_dir.mkdir(parents=True)
    old = [ws.runs_dir / f"20000101-0000{i:02d}-1.json" for i in range(11)]
    for p in old:
        p.write_text("{}")
    ws.record_run({"status": "failed", "failed_stage": "03_user_mapping"})
    kept = sorted(ws.runs_dir.glob("*.json"))
    assert len(kept) == 10
    assert kept[:9] == old[2:] and json.loads(kept[-1].read_text())["failed_stage"] == "03_user_mapping"
    assert ws.previous_run() == {"status": "failed", "failed_stage": "03_user_mapping"}


# --------------------------------------------------------------------------- raw files


def write_zip(path: Path, members: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            zf.writestr(f"archive/{name}", text)
    return path


def test_zip_extraction_is_keyed_by_content_so_a_changed_zip_is_served_anew(tmp_path):
    raw, ext = tmp_path / "raw", tmp_path / "extracted"
    members = {name: "a,b\n1,2\n" for name in EXPECTED_FILES.values()}
    write_zip(raw / "kaggle.zip", members)
    first = find_raw_files(raw, extract_dir=ext)
    assert first["orders"].read_text() == "a,b\n1,2\n" and first["orders"].is_relative_to(ext)
    assert sorted(p.name for p in raw.iterdir()) == ["kaggle.zip"]  # the raw folder is never written to

    members["olist_orders_dataset.csv"] = "a,b\n3,4\n"  # same size, same name, new content
    write_zip(raw / "kaggle.zip", members)
    second = find_raw_files(raw, extract_dir=ext)
    assert second["orders"].read_text() == "a,b\n3,4\n"
    assert second["orders"].parent != first["orders"].parent


def test_raw_dir_with_missing_files_is_reported_with_its_path(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "olist_orders_dataset.csv").write_text("a\n1\n")
    with pytest.raises(FileNotFoundError, match=rf"Missing raw file\(s\) under {re.escape(str(raw))}: "
                                                r"olist_customers_dataset\.csv"):
        resolve_data_source(raw, tmp_path / "out")


def test_a_raw_dir_that_does_not_exist_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Raw data folder .*nowhere does not exist"):
        resolve_data_source(tmp_path / "nowhere", tmp_path / "out")


def test_raw_dir_finds_files_at_any_depth(tmp_path):
    data = resolve_data_source(fake_raw(tmp_path / "raw"), tmp_path / "out")
    assert data.name == "olist" and not data.demo and data.truth_dir is None
    assert data.files["orders"].parent.name == "nested"
    assert data.label == f"Kaggle data at {tmp_path / 'raw'}"
    assert data.fingerprint == fingerprint_files(data.files)


def test_raw_dir_and_demo_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="Give either --raw-dir or --demo, not both"):
        resolve_data_source(tmp_path, tmp_path, demo=True)


def test_demo_workspaces_are_named_after_size_and_seed():
    assert demo_name() == "demo" and demo_name(100, 1) == "demo-100-seed1"


def test_demo_data_is_generated_once_per_size_and_seed(tmp_path):
    calls = []

    def generate(out_dir, n_customers, seed, truth_dir):
        calls.append((n_customers, seed))
        fake_raw(Path(out_dir))
        Path(truth_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / DEMO_MARKER).write_text(json.dumps({"n_customers": n_customers, "seed": seed}))

    out = tmp_path / "out"
    first = resolve_data_source(None, out, demo=True, demo_size=100, seed=1, generate=generate)
    assert first.demo and first.generated and first.label == "DEMO DATA (synthetic, 100 customers)"
    assert first.name == "demo-100-seed1"
    assert first.raw_dir == out / "data" / "demo" / "demo-100-seed1" / "raw"
    assert first.truth_dir == out / "data" / "demo" / "demo-100-seed1" / "truth"
    again = resolve_data_source(None, out, demo=True, demo_size=100, seed=1, generate=generate)
    assert not again.generated and again.fingerprint == first.fingerprint
    resolve_data_source(None, out, demo=True, demo_size=100, seed=2, generate=generate)
    assert calls == [(100, 1), (100, 2)]
    # a folder with the marker, passed as --raw-dir, counts as demo data with its truth
    given = resolve_data_source(first.raw_dir, out)
    assert given.demo and given.name == "demo-100-seed1" and given.truth_dir == first.truth_dir
