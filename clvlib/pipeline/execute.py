"""Executing a stage notebook with papermill, and rendering it to a standalone HTML report."""

from __future__ import annotations

import html
import logging
import os
import sys
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from clvlib.io import write_text_atomic
from clvlib.pipeline.style import REPORT_CSS, mark_numbers, offline, page

__all__ = ["HIDDEN_INPUT_TAGS", "check_kernel", "kernel_environment", "error_text", "execute_stage", "render_html"]

#: Cells whose input the HTML reports hide.  Both parameter cells are hidden: the
#: defaults cell would show values the run overrode, and every report shows the
#: parameters it ran with in a table.
HIDDEN_INPUT_TAGS = ("remove-input", "injected-parameters", "parameters")


def check_kernel(name: str = "python3") -> str:
    """Return the kernel's folder; raise ``RuntimeError`` with the fix when it is not installed."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    if name not in specs:
        have = ", ".join(sorted(specs)) or "none"
        raise RuntimeError(
            f"Jupyter kernel '{name}' is not installed (jupyter kernelspec list shows: {have}). "
            "Install it with:  python -m ipykernel install --user"
            + ("" if name == "python3" else f" --name {name}")
            + f"  (using the Python that runs run_all: {sys.executable})"
        )
    return specs[name]


@contextmanager
def kernel_environment(root: Path, extra: Mapping[str, str] | None = None):
    """Environment of the notebook kernels: the project root first on PYTHONPATH (so kernels import
    ``clvlib`` without installing it), plus ``extra`` variables; restored afterwards.

    OpenMP (scikit-learn's gradient boosting) gets one thread fewer than the machine has cores (at
    least one) unless ``OMP_NUM_THREADS`` is set: its threads spin-wait for each other, so they must
    not outnumber the free cores. On 2 cores a ``TwoPartModel`` fit on 76,000 rows took 1.5 s on one
    thread and 0.85 s on two when the machine was otherwise idle, but 1.7 s against 84 s while other
    processes ran (``scripts/bench_threads.py``).
    """
    changes = {"PYTHONPATH": os.pathsep.join([str(root)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])),
               **({} if os.environ.get("OMP_NUM_THREADS") else {"OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) - 1))}),
               **(extra or {})}
    old = {k: os.environ.get(k) for k in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def error_text(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:  # PapermillExecutionError
        evalue = str(getattr(exc, "evalue", "")).strip()
        count = getattr(exc, "exec_count", None)
        where = f" (in cell [{count}])" if count is not None else ""
        return f"{ename}: {evalue}{where}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def execute_stage(
    notebook: str | Path,
    executed: str | Path,
    parameters: Mapping[str, Any],
    cwd: str | Path,
    kernel: str = "python3",
    timeout: int | None = 1800,
) -> None:
    """Execute one notebook with papermill into ``executed``.

    Raises whatever papermill raises (``PapermillExecutionError`` when a cell
    fails); papermill saves the executed notebook, with the error, first.
    """
    import papermill

    Path(executed).parent.mkdir(parents=True, exist_ok=True)
    pm_log = logging.getLogger("papermill")
    level = pm_log.level
    # The runner checks parameters itself; papermill's own parser would warn about
    # lines it cannot read ("Unable to parse line", "Passed unknown parameter").
    pm_log.setLevel(logging.ERROR)
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=dict(parameters),
            kernel_name=kernel,
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout,
            extra_arguments=_quiet_kernel_arguments(kernel),
        )
    finally:
        pm_log.setLevel(level)


def _quiet_kernel_arguments(kernel: str) -> list[str]:
    """``--log-level=CRITICAL`` for ipykernel kernels: keeps their start-up warnings off the console."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec(kernel).argv
    except Exception:
        return []
    return ["--log-level=CRITICAL"] if any("ipykernel" in a for a in argv) else []


def render_html(notebook: str | Path, html_path: str | Path, title: str | None = None,
                error: str | None = None) -> Path:
    """Render an executed notebook to a small, self-contained HTML report.

    nbconvert's ``basic`` template gives the cells; the page around them is ours
    (:func:`clvlib.pipeline.style.page` with :data:`~clvlib.pipeline.style.REPORT_CSS`, a few KB,
    instead of the ``lab`` template's ~264 KB of CSS and its CDN scripts). Cells tagged
    ``remove-cell`` are dropped; the input of the cells tagged with one of
    :data:`HIDDEN_INPUT_TAGS` is hidden (outputs stay). Images are embedded, numbers in
    table cells are right-aligned, and nothing on the page is fetched from the network.
    The file is written atomically.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    notebook = Path(notebook)
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    c.TagRemovePreprocessor.remove_input_tags = set(HIDDEN_INPUT_TAGS)
    exporter = HTMLExporter(config=c, template_name="basic", exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.embed_images = True
    exporter.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    nb = nbformat.read(notebook, as_version=4)
    if error:  # say what went wrong first, in words; the traceback stays where it happened
        banner = nbformat.v4.new_markdown_cell(
            '<div style="border:2px solid #cf222e;background:#ffebe9;padding:8px 12px;border-radius:6px">'
            f"<b>This stage failed.</b> {html.escape(error)}<br>The cells below ran up to the error; "
            "its traceback is shown where it happened.</div>")
        nb.cells.insert(0, banner)
    resources = {"metadata": {"name": title or notebook.stem, "path": str(notebook.parent)}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    text = page(title or notebook.stem, mark_numbers(offline(body)), css=REPORT_CSS)
    return write_text_atomic(text, html_path)
