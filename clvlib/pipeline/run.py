"""Running the stages: selection, up-front checks, execution, the last good and the failed report, run records.

``run_all.py`` is a thin command line over :func:`run_pipeline`. A stage that fails never replaces
the last good report: its executed notebook and report go to ``failed/`` beside it, and the
index shows both.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from clvlib.engine.backend import ENGINE_ENV
from clvlib.io import json_safe, read_json, write_json_atomic, write_text_atomic
from clvlib.models.scores import model_label
from clvlib.paths import project_root
from clvlib.progress import PROGRESS_ENV
from clvlib.pipeline.catalog import RAW, STAGES, Stage, dataset, depends_on, producer
from clvlib.pipeline.catalog import stage as catalog_stage
from clvlib.pipeline.execute import error_text, execute_stage, kernel_environment, render_html
from clvlib.pipeline.index import PROJECT_TITLE, build_index_html, build_workspaces_html
from clvlib.pipeline.params import declared_parameters, stage_parameters
from clvlib.pipeline.progress_tail import ProgressTail
from clvlib.pipeline.workspace import RUN_PID_ENV, Workspace

__all__ = ["RunConfig", "parse_stage_selection", "missing_inputs", "run_pipeline", "write_index",
           "write_workspaces_index", "read_headline", "LATEST", "TAKE_AWAY"]

#: ``<out_root>/outputs/latest.json``: the workspace of the most recent run (notebooks opened on their own use it).
LATEST = "latest.json"


@dataclass
class RunConfig:
    """Everything a run needs besides the stage list."""

    workspace: Workspace
    notebook_dir: Path
    kernel: str = "python3"
    timeout: int | None = 1800
    overrides: dict[str, Any] = field(default_factory=dict)
    #: The engine of the per-customer and per-user aggregates (``duckdb``, ``spark``); None: the kernels' default.
    engine: str | None = None


def _valid_stages_text(registry: Sequence[Stage]) -> str:
    return ", ".join(f"{s.number} {s.name}" for s in registry)


def _stage_index(token: str, registry: Sequence[Stage]) -> int:
    """Index in ``registry`` of the stage named by ``token`` (number, name, NN_name or file)."""
    return list(registry).index(catalog_stage(token, registry))


def parse_stage_selection(
    stages: str | None = None,
    start: str | None = None,
    registry: Sequence[Stage] = STAGES,
) -> list[Stage]:
    """Turn ``--stages`` / ``--from`` text into the stages to run, in pipeline order.

    Parameters
    ----------
    stages
        Comma-separated stage numbers (``"0,1,3"`` or ``"00,01,03"``), names
        (``"user_mapping"``), ``NN_name`` keys, or inclusive ranges ``"02-04"``
        (``"clean_clickstream-hybrid_features"`` works too).  ``None`` = all.
    start
        ``--from``: keep only this stage and the ones after it.
    registry
        The pipeline.

    Returns
    -------
    list of Stage
        Unique stages in registry order.  When both arguments are given the
        result is their intersection.

    Raises
    ------
    ValueError
        On an unknown stage (the message lists the valid ones), a backwards
        range, or an empty selection.
    """
    chosen: set[int] = set(range(len(registry)))
    if stages is not None:
        chosen = set()
        tokens = [t.strip() for t in stages.split(",") if t.strip()]
        if not tokens:
            raise ValueError(f"--stages is empty. Valid stages: {_valid_stages_text(registry)}.")
        for tok in tokens:
            if "-" in tok:
                lo_txt, _, hi_txt = tok.partition("-")
                if not lo_txt.strip() or not hi_txt.strip():
                    raise ValueError(f"Stage range '{tok}' needs both ends, e.g. 02-04.")
                lo, hi = _stage_index(lo_txt, registry), _stage_index(hi_txt, registry)
                if lo > hi:
                    raise ValueError(f"Stage range '{tok}' runs backwards; write it as {hi_txt.strip()}-{lo_txt.strip()}.")
                chosen.update(range(lo, hi + 1))
            else:
                chosen.add(_stage_index(tok, registry))
    if start is not None:
        first = _stage_index(start, registry)
        chosen = {i for i in chosen if i >= first}
    if not chosen:
        raise ValueError(f"No stage selected by --stages {stages!r} --from {start!r}.")
    return [registry[i] for i in sorted(chosen)]


def missing_inputs(selected: Sequence[Stage], workspace: Workspace, registry: Sequence[Stage] = STAGES) -> list[str]:
    """Datasets a selected stage reads that neither an earlier selected stage writes nor the workspace holds."""
    chosen = {s.key for s in selected}
    out = []
    for s in selected:
        for name in s.reads:
            if name == RAW:
                continue
            up = producer(name, registry)
            made_now = up.key in chosen and up.number < s.number
            if not made_now and not workspace.path(dataset(name).path).is_file():
                out.append(f"stage {s.key} reads {dataset(name).path}, which stage {up.key} writes and this workspace "
                           f"does not have yet: add it with --stages {up.number},{s.number} or --from {up.number}.")
    return out


def read_headline(path: str | Path) -> dict[str, Any]:
    """A stage's headline figures (``{}`` when absent or unreadable)."""
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _stage_record(stage: Stage, status: str, **kw: Any) -> dict[str, Any]:
    rec = {
        "number": stage.number, "name": stage.name, "key": stage.key, "title": stage.title,
        "notebook": stage.notebook, "depends_on": list(depends_on(stage)), "status": status,
        "seconds": None, "peak_memory_mb": None, "started_at": None, "html": None, "failed_html": None, "executed_notebook": None,
        "parameters": {}, "figures": {}, "reads": [dataset(n).path for n in stage.reads if n != RAW],
        "writes": [dataset(n).path for n in stage.writes], "error": None,
    }
    rec.update(kw)
    return rec


_PACKAGES = (
    "pandas", "numpy", "scipy", "scikit-learn", "matplotlib", "lifetimes", "pymc-marketing", "statsmodels",
    "papermill", "nbconvert", "nbclient", "nbformat", "ipykernel",
)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    from clvlib import __version__

    out["clvlib"] = __version__
    return out


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _earlier(stage: Stage, prev: Mapping[str, Any] | None, html_path: Path) -> dict | None:
    """What an earlier run left for a stage not run now (``None`` if no report exists)."""
    if not html_path.is_file():
        return None
    rec = next((s for s in (prev or {}).get("stages", []) if s.get("key") == stage.key), None) or {}
    if rec.get("status") == "ok":
        return {"status": "ok", "finished_at": (prev or {}).get("finished_at"), "html": str(html_path),
                "figures": rec.get("figures") or {}}
    if rec.get("earlier") or rec.get("last_good"):
        return {**(rec.get("earlier") or rec.get("last_good")), "html": str(html_path)}
    mtime = datetime.fromtimestamp(html_path.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    return {"status": "ok", "finished_at": mtime, "html": str(html_path), "figures": {}}


def _console(text: str, end: str = "\n") -> None:
    print(text, end=end, flush=True)


def run_pipeline(
    selected: Sequence[Stage],
    config: RunConfig,
    registry: Sequence[Stage] = STAGES,
    declared: Mapping[str, Mapping[str, Any]] | None = None,
    echo: Callable[..., None] | None = None,
    command: Sequence[str] | None = None,
    live: bool | None = None,
) -> dict[str, Any]:
    """Execute the selected stages in order in the workspace, render reports, write the index and run records.

    While a stage runs, what its library calls report through :func:`clvlib.progress.step` is shown
    on the console (:class:`~clvlib.pipeline.progress_tail.ProgressTail`): rewritten in place when
    ``live`` (default: printing to a terminal with the default ``echo``), as plain lines otherwise.
    The caller holds the workspace lock. A failing stage's executed notebook and report go to
    ``failed/``; the last good report stays where it was. The stages after a failure are skipped.
    Returns the run record (``record["status"]`` is ``"ok"`` or ``"failed"``); ``KeyboardInterrupt``
    is recorded as a failure and re-raised after the index is written.
    """
    if live is None:
        live = echo is None and sys.stdout.isatty()
    echo = echo or _console
    ws = config.workspace
    if declared is None:
        declared = declared_parameters(selected, config.notebook_dir)
    for d in (ws.executed_dir, ws.headlines_dir, ws.failed_dir):
        d.mkdir(parents=True, exist_ok=True)
    prev = ws.previous_run()
    runner_params = {"workspace": str(ws.folder.resolve())}
    width = registry[-1].number if registry else "??"
    chosen = {s.key for s in selected}
    started_at, t0 = _now(), time.perf_counter()
    records: list[dict[str, Any]] = []
    failed: Stage | None = None
    interrupted: BaseException | None = None

    for stage in registry:
        html_path = ws.path(f"{stage.key}.html")
        if stage.key not in chosen or failed is not None:
            status = "skipped" if (failed is not None and stage.key in chosen) else "not run"
            if status == "skipped":
                echo(f"[{stage.number}/{width}] {stage.name} ... skipped (stage {failed.key} failed)")
            records.append(_stage_record(stage, status, earlier=_earlier(stage, prev, html_path)))
            continue

        params = stage_parameters(declared.get(stage.key, {}), runner_params, config.overrides)
        running = ws.executed_dir / f".{stage.key}.running.ipynb"
        head_path = ws.headlines_dir / f"{stage.key}.json"
        last_good = _earlier(stage, prev, html_path)
        header = f"[{stage.number}/{width}] {stage.name} ... "
        echo(header, end="")
        st_at, t = _now(), time.perf_counter()
        error = None
        fd, progress_file = tempfile.mkstemp(prefix=f"clvlib-{stage.key}-", suffix=".progress.jsonl")
        os.close(fd)
        try:
            engine_env = {ENGINE_ENV: config.engine} if config.engine else {}
            with kernel_environment(project_root(), {RUN_PID_ENV: str(os.getpid()), PROGRESS_ENV: progress_file,
                                                     **engine_env}), \
                    ProgressTail(progress_file, echo, live=live, header=header):
                execute_stage(config.notebook_dir / stage.notebook, running, params, config.notebook_dir,
                              config.kernel, config.timeout)
        except KeyboardInterrupt as exc:
            error, interrupted = "KeyboardInterrupt: run interrupted", exc
        except Exception as exc:  # PapermillExecutionError, CellTimeoutError, DeadKernelError, ...
            error = error_text(exc)
        finally:
            Path(progress_file).unlink(missing_ok=True)
        secs = time.perf_counter() - t
        folder = ws.failed_dir if error else ws.folder
        exe_final = (ws.failed_dir if error else ws.executed_dir) / stage.notebook
        html_out, render_error = None, None
        if running.is_file():
            running.replace(exe_final)
            try:
                html_out = str(render_html(exe_final, folder / f"{stage.key}.html",
                                           title=f"{stage.number} · {stage.title}", error=error))
            except Exception as exc:  # a report that cannot render must not hide the stage's own result
                render_error = f"HTML rendering failed: {error_text(exc)}"
        if not error:  # a good run retires an earlier failure's report
            for stale in (ws.failed_dir / f"{stage.key}.html", ws.failed_dir / stage.notebook):
                stale.unlink(missing_ok=True)
        head = read_headline(head_path) if not error else {}
        status = "failed" if error else "ok"
        rec = _stage_record(
            stage, status, seconds=round(secs, 2), started_at=st_at,
            html=html_out if not error else (str(html_path) if html_path.is_file() else None),
            failed_html=html_out if error else None, executed_notebook=str(exe_final) if exe_final.is_file() else None,
            parameters=params, figures=head.get("figures", {}), peak_memory_mb=head.get("peak_memory_mb"),
            error=error, render_error=render_error,
            last_good=last_good if error else None)
        records.append(rec)
        peak = f", peak {head['peak_memory_mb'] / 1024:.1f} GB" if head.get("peak_memory_mb") else ""
        echo(f"ok ({secs:.1f} s{peak})" if not error else f"FAILED ({secs:.1f} s)")
        if error:
            failed = stage
            echo(f"        {error}")
            echo(f"        report: {html_out or exe_final}")
            if last_good:
                echo(f"        the last good report stays at {html_path}")
        if render_error:
            echo(f"        {render_error}")

    record = build_run_record(config, records, started_at, _now(), time.perf_counter() - t0, command)
    ws.record_run(record)
    write_index(ws, record)
    write_workspaces_index(ws.folder.parent)
    write_json_atomic({"workspace": ws.name}, ws.folder.parent / LATEST)  # a name: the outputs folder may move
    counts = {k: sum(r["status"] == k for r in records) for k in ("ok", "failed", "skipped")}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v) or "nothing ran"
    echo(f"Summary: {summary} in {record['seconds']:.1f} s.  Index: {ws.path('index.html')}")
    if interrupted is not None:
        raise interrupted
    return record


#: Files the index offers to take away, in this order, when the workspace has them: (path, what it holds).
TAKE_AWAY = (
    ("data/clv_table.csv", "the forecast from the analysis date: one row per customer with predicted value, its "
                           "interval, P(alive), decile and segment"),
    ("data/clv_table.parquet", "the same table as Parquet"),
    ("data/forecast.json", "the forecast in brief: the model and why, the horizon, the predicted revenue, the answer in words"),
    ("data/clv_predictions.parquet", "the predictions per customer at the evaluation cut-off (the latest backtest)"),
    ("metrics.json", "every figure of the run in one file: stage 06's evaluation and stage 07's forecast"),
    ("run.json", "this run: stages, times, parameters, versions"),
)


#: Said of ``metrics.json`` in the index when stage 06 has evaluated again since stage 07 wrote it.
STALE_METRICS = (" — older than stage 06's latest evaluation (data/evaluation.json), because stage 07 has not run "
                 "since: python run_all.py --from 07")


def metrics_current(whole: Mapping[str, Any], evaluation: Mapping[str, Any]) -> bool:
    """Whether ``metrics.json`` (``whole``, stage 07's) holds stage 06's latest evaluation (``data/evaluation.json``).

    After ``--stages 06``, or a run whose stage 07 failed, ``metrics.json`` still holds the evaluation
    and forecast of the run before. Without ``data/evaluation.json`` (a workspace made before stage 06
    wrote it) there is nothing newer, so it counts as current.

    Examples
    --------
    >>> metrics_current({"models": 1, "forecast": {}}, {"models": 1}), metrics_current({"models": 1}, {"models": 2})
    (True, False)
    """
    return not evaluation or {k: v for k, v in whole.items() if k != "forecast"} == dict(evaluation)


def _primary_hybrid_name(ws: Workspace, metrics: Mapping[str, Any] | None) -> str | None:
    """Display name of stage 05's primary hybrid model (``None`` when the workspace has no model stage yet)."""
    column = read_headline(ws.path("data/clv_model_params.json")).get("primary_hybrid")
    if not column:
        return None
    name = ((metrics or {}).get("models") or {}).get(column, {}).get("name")
    return str(name) if name else model_label(str(column))


def write_index(ws: Workspace, record: Mapping[str, Any]) -> Path:
    """The workspace's ``index.html``: the answer from stage 06's evaluation and stage 07's forecast, the files to
    take away, the stages.

    The evaluation is read from ``data/evaluation.json``, stage 06's own output, so that a run whose stage 07
    failed shows stage 06's latest figures (``metrics.json`` is stage 07's); a workspace made before stage 06
    wrote it falls back to ``metrics.json``.
    """
    evaluation, whole = read_headline(ws.path("data/evaluation.json")), read_headline(ws.path("metrics.json"))
    metrics, source = (evaluation, "data/evaluation.json") if evaluation else (whole or None, "metrics.json")
    downloads = [{"path": rel, "what": what + (STALE_METRICS if rel == "metrics.json" and not metrics_current(whole, evaluation)
                                               else ""), "bytes": ws.path(rel).stat().st_size}
                 for rel, what in TAKE_AWAY if ws.path(rel).is_file()]
    page = build_index_html(record, metrics=metrics, downloads=downloads,
                            hybrid_name=_primary_hybrid_name(ws, metrics), metrics_source=source)
    return write_text_atomic(page, ws.path("index.html"))


def write_workspaces_index(outputs: Path) -> Path:
    """``outputs/index.html`` listing every workspace under ``outputs``."""
    rows = []
    for manifest in sorted(outputs.glob("*/workspace.json")):
        folder = manifest.parent
        run = read_headline(folder / "run.json")
        data = read_headline(manifest).get("dataset", {})
        rows.append({"name": folder.name, "label": data.get("label"), "status": run.get("status"),
                     "finished_at": run.get("finished_at")})
    rows.sort(key=lambda r: r.get("finished_at") or "", reverse=True)
    return write_text_atomic(build_workspaces_html(rows), outputs / "index.html")


def build_run_record(
    config: RunConfig,
    stage_records: Sequence[Mapping[str, Any]],
    started_at: str,
    finished_at: str,
    seconds: float,
    command: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The content of ``run.json`` (also what :func:`~clvlib.pipeline.index.build_index_html` renders)."""
    failed = next((s for s in stage_records if s["status"] == "failed"), None)
    source = config.workspace.source()
    return json_safe({
        "project": PROJECT_TITLE,
        "workspace": config.workspace.name,
        "status": "failed" if failed else "ok",
        "failed_stage": failed["key"] if failed else None,
        "started_at": started_at,
        "finished_at": finished_at,
        "seconds": round(seconds, 2),
        "command": list(command) if command is not None else None,
        "environment": {"platform": platform.platform(), "executable": sys.executable, "versions": _versions()},
        "data_source": source.to_dict(),
        "paths": {"workspace": str(config.workspace.folder), "notebook_dir": str(config.notebook_dir)},
        "kernel": config.kernel,
        "engine": config.engine or os.environ.get(ENGINE_ENV) or "duckdb",
        "cell_timeout_seconds": config.timeout,
        "overrides": dict(config.overrides),
        "stages": [dict(s) for s in stage_records],
    })
