"""``run_all.py --list``: every stage, what it reads and writes, and its parameters."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from clvlib.pipeline.catalog import RAW, Stage, dataset, depends_on
from clvlib.pipeline.execute import error_text
from clvlib.pipeline.params import RUNNER_PARAMETERS, notebook_parameters

__all__ = ["format_stage_list"]


def format_stage_list(registry: Sequence[Stage], notebook_dir: str | Path) -> str:
    """Text for ``--list``: each stage, its inputs and outputs, and its parameters with defaults and help."""
    lines = []
    nb_dir = Path(notebook_dir)
    for s in registry:
        deps = depends_on(s, registry)
        lines.append(f"{s.number} {s.name:<20} {s.title}" + (f"  (after {', '.join(deps)})" if deps else ""))
        reads = ", ".join("raw files" if n == RAW else dataset(n).path for n in s.reads)
        lines.append(f"     reads {reads}; writes {', '.join(dataset(n).path for n in s.writes)}")
        path = nb_dir / s.notebook
        if not path.is_file():
            lines.append(f"     {path}: not written yet")
            continue
        try:
            params = notebook_parameters(path)
        except Exception as exc:  # a broken notebook should not stop the listing
            lines.append(f"     {path}: cannot read parameters ({error_text(exc)})")
            continue
        if not params:
            lines.append("     (no cell tagged 'parameters')")
        for name, info in params.items():
            if name not in RUNNER_PARAMETERS:
                helptext = f"  # {info['help']}" if info.get("help") else ""
                lines.append(f"     -p {name} {info.get('default')}{helptext}")
    return "\n".join(lines)
