"""Run the notebook pipeline: stage registry, parameters, execution, HTML reports, index.

``run_all.py`` is a thin command line over these functions.  Each function does
one thing and can be tested on its own; :func:`run_pipeline` strings them
together and accepts an explicit stage registry and notebook folder so tests
can run throw-away notebooks through the same code path as the real pipeline.

The contract with the notebooks
-------------------------------
* every notebook has a cell tagged ``parameters`` with plain literals; the
  runner passes :data:`PATH_PARAMETERS` (absolute paths) to every notebook that
  declares them, plus the ``-p`` overrides a notebook declares;
* at its end a notebook writes ``<outputs_dir>/headlines/NN_name.json``:
  ``{"figures": {label: value}, "inputs": [...], "outputs": [...], "demo": bool}``.
"""

from __future__ import annotations

import ast
import html
import io
import json
import logging
import os
import platform
import shutil
import sys
import time
import tokenize
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clvlib.io import json_safe, write_json_atomic, write_text_atomic
from clvlib.report.display import SYNTHETIC_LINK_NOTE as _LINK_NOTE
from clvlib.schemas import DEMO_MARKER
from clvlib.data.sources import find_raw_files, has_raw_data, is_demo_dir
from clvlib.paths import project_root

__all__ = [
    "Stage",
    "STAGES",
    "PATH_PARAMETERS",
    "HIDDEN_INPUT_TAGS",
    "RunConfig",
    "DataSource",
    "parse_stage_selection",
    "parse_param_value",
    "parse_overrides",
    "notebook_parameters",
    "declared_parameters",
    "validate_overrides",
    "stage_parameters",
    "dependency_warnings",
    "check_kernel",
    "resolve_data_source",
    "prepare_demo",
    "execute_stage",
    "render_html",
    "read_headline",
    "build_run_record",
    "build_index_html",
    "run_pipeline",
    "format_stage_list",
    "PROJECT_TITLE",
    "SYNTHETIC_LINK_NOTE",
]

PROJECT_TITLE = "Customer lifetime value: Olist orders + clickstream"

#: Shown near the top of the index: the honest caveat about the user mapping.
SYNTHETIC_LINK_NOTE = (
    _LINK_NOTE + " Stages 03 and 06 measure what the rank link manufactures against a random placebo; "
    "nothing measured through it is a finding about customers. (The demo data has a real key.)"
)

#: Parameters the runner sets itself (absolute paths); ``-p`` may not override them.
PATH_PARAMETERS = ("raw_dir", "processed_dir", "outputs_dir", "truth_dir")

#: Cells whose input the HTML reports hide.  Both parameter cells are hidden: the
#: defaults cell would show values the run overrode, and every report shows the
#: parameters it ran with in a table.
HIDDEN_INPUT_TAGS = ("remove-input", "injected-parameters", "parameters")

#: Where ``-p`` users should go instead, for each runner-owned parameter.
_PATH_PARAMETER_OPTIONS = {
    "raw_dir": "--raw-dir or --demo",
    "processed_dir": "--out-root",
    "outputs_dir": "--out-root",
    "truth_dir": "--demo (only demo data has a truth folder)",
}


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Stage:
    """One notebook of the pipeline.

    Attributes
    ----------
    number
        Two-digit order, e.g. ``"03"``.
    name
        Short snake_case name, e.g. ``"user_mapping"``.
    notebook
        File name inside the notebooks folder.
    title
        Human title for the index page.
    depends_on
        Numbers of the stages whose outputs this stage reads.
    """

    number: str
    name: str
    notebook: str
    title: str
    depends_on: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``NN_name``: the stem of every file this stage produces."""
        return f"{self.number}_{self.name}"

    @property
    def html_name(self) -> str:
        return f"{self.key}.html"

    @property
    def executed_name(self) -> str:
        return f"{self.key}.ipynb"

    @property
    def headline_name(self) -> str:
        return f"{self.key}.json"


#: The pipeline, in execution order.  The only place stages are listed.
STAGES: tuple[Stage, ...] = (
    Stage("00", "inventory", "00_inventory.ipynb", "Data inventory"),
    Stage("01", "clean_transactions", "01_clean_transactions.ipynb", "Clean transactions"),
    Stage("02", "clean_clickstream", "02_clean_clickstream.ipynb", "Clean clickstream"),
    Stage("03", "user_mapping", "03_user_mapping.ipynb", "User mapping (clickstream ↔ Olist)", ("01", "02")),
    Stage("04", "hybrid_features", "04_hybrid_features.ipynb", "Hybrid features", ("01", "02", "03")),
    Stage("05", "clv_models", "05_clv_models.ipynb", "CLV models", ("01", "02")),
    Stage("06", "evaluate", "06_evaluate.ipynb", "Evaluation", ("01", "05")),
)


# --------------------------------------------------------------------------- stage selection


def _valid_stages_text(registry: Sequence[Stage]) -> str:
    return ", ".join(f"{s.number} {s.name}" for s in registry)


def _stage_index(token: str, registry: Sequence[Stage]) -> int:
    """Index in ``registry`` of the stage named by ``token`` (number, name, NN_name or file)."""
    t = token.strip()
    for i, s in enumerate(registry):
        if t.isdigit() and int(t) == int(s.number):
            return i
        if t in (s.name, s.key, s.notebook):
            return i
    raise ValueError(f"Unknown stage '{t}'. Valid stages: {_valid_stages_text(registry)}.")


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


# --------------------------------------------------------------------------- parameters

_LITERAL_TYPES = (str, int, float, bool, type(None), list, dict)


def _plain(value: Any) -> Any:
    """Tuples -> lists (recursively) so papermill can translate the value."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_plain(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return isinstance(value, _LITERAL_TYPES)


def parse_param_value(text: str) -> Any:
    """Parse a ``-p`` value: a Python literal, else a JSON literal, else the string itself.

    ``"3"`` -> 3, ``"0.5"`` -> 0.5, ``"[1, 2]"`` -> [1, 2], ``"None"``/``"null"`` -> None,
    ``"true"``/``"True"`` -> True, ``"'05'"`` -> "05", ``"2017-12-31"`` -> "2017-12-31".
    Values that parse to something papermill cannot write (sets, complex, bytes) stay strings.
    """
    for parse in (ast.literal_eval, json.loads):
        try:
            value = _plain(parse(text))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if _is_plain(value):
            return value
    return text


def parse_overrides(pairs: Iterable[Sequence[str]] | None) -> dict[str, Any]:
    """``[("n_splits", "5"), ...]`` (from repeated ``-p NAME VALUE``) -> ``{"n_splits": 5}``.

    A name given twice keeps the last value.

    Raises
    ------
    ValueError
        If a name is not a valid Python identifier.
    """
    out: dict[str, Any] = {}
    for name, value in pairs or ():
        if not name.isidentifier():
            raise ValueError(f"-p {name!r}: a parameter name must be a Python identifier.")
        out[name] = parse_param_value(value)
    return out


def _type_of_default(info: Mapping[str, Any]) -> str | None:
    """The parameter's type: its annotation / type comment, else the type of its default literal."""
    declared = str(info.get("inferred_type_name") or "None")
    if declared != "None":
        return declared
    try:
        value = ast.literal_eval(str(info.get("default")))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return None if value is None else type(value).__name__


def _comments_by_line(source: str) -> dict[int, str]:
    """Line number -> text of the ``#`` comment on that line."""
    out: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return out


def notebook_parameters(path: str | Path) -> dict[str, dict[str, Any]]:
    """Parameters declared in a notebook's ``parameters`` cell.

    Names, defaults and help comments come from ``papermill.inspect_notebook``.
    Papermill's line-based parser skips a line holding two ``=`` (e.g. a comment
    containing ``==``), so the cell is also parsed with :mod:`ast` and any
    assignment papermill missed is added: a parameter the runner does not see
    would silently keep its default (e.g. the wrong data folder).

    Returns
    -------
    dict
        name -> ``{"name", "inferred_type_name", "default", "help", "type"}``;
        ``default`` is the source text of the literal, ``type`` the annotation
        or the type name of the default (``None`` if unknown).  Empty when
        there is no parameters cell.
    """
    import nbformat
    import papermill

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Notebook {path} not found.")
    nb = nbformat.read(path, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        return {}
    pm_log = logging.getLogger("papermill")
    level = pm_log.level
    pm_log.setLevel(logging.ERROR)  # its "Unable to parse line" warnings are handled below
    try:
        found = {k: dict(v) for k, v in papermill.inspect_notebook(str(path)).items()}
    except ValueError:  # e.g. no kernelspec in the metadata: fall back to ast alone
        found = {}
    finally:
        pm_log.setLevel(level)
    try:
        tree = ast.parse(cell.source)
    except SyntaxError as exc:
        raise ValueError(f"{path}: the parameters cell is not valid Python ({exc}).") from exc
    comments = _comments_by_line(cell.source)
    params: dict[str, dict[str, Any]] = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Name) and t.id not in params:
                params[t.id] = found.pop(t.id, None) or {
                    "name": t.id,
                    "inferred_type_name": ast.unparse(node.annotation) if isinstance(node, ast.AnnAssign) else "None",
                    "default": ast.get_source_segment(cell.source, node.value) if node.value else "",
                    "help": comments.get(node.end_lineno, ""),
                }
    params.update(found)
    for info in params.values():
        info["type"] = _type_of_default(info)
    return params


def declared_parameters(stages: Sequence[Stage], notebook_dir: str | Path) -> dict[str, dict[str, dict[str, Any]]]:
    """``{stage.key: notebook_parameters(...)}`` for the given stages.

    Raises
    ------
    FileNotFoundError
        Naming every selected notebook that does not exist.
    """
    nb_dir = Path(notebook_dir)
    missing = [str(nb_dir / s.notebook) for s in stages if not (nb_dir / s.notebook).is_file()]
    if missing:
        raise FileNotFoundError("Notebook(s) not found: " + ", ".join(missing))
    return {s.key: notebook_parameters(nb_dir / s.notebook) for s in stages}


_TYPE_NAMES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list,), "dict": (dict,)}


def validate_overrides(
    overrides: Mapping[str, Any], declared: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Check ``-p`` names against the parameters the selected notebooks declare.

    Parameters
    ----------
    overrides
        Parsed ``-p`` values.
    declared
        ``{stage_key: {param_name: info}}`` as from :func:`declared_parameters`.

    Returns
    -------
    list of str
        Warnings, e.g. a value whose type differs from the notebook default's.

    Raises
    ------
    ValueError
        Naming each parameter no selected notebook declares (and listing the
        valid names), or a parameter the runner sets itself (naming the option to use).
    """
    owned = [n for n in overrides if n in PATH_PARAMETERS]
    if owned:
        hints = "; ".join(f"{n}: use {_PATH_PARAMETER_OPTIONS[n]}" for n in owned)
        raise ValueError(f"-p cannot set {', '.join(owned)}: run_all sets it ({hints}).")
    valid = sorted({n for params in declared.values() for n in params} - set(PATH_PARAMETERS))
    unknown = [n for n in overrides if n not in valid]
    if unknown:
        raise ValueError(
            f"Unknown parameter(s) {', '.join(unknown)}: no selected notebook declares "
            f"{'it' if len(unknown) == 1 else 'them'}. Valid names: {', '.join(valid) or '(none)'}. "
            "See python run_all.py --list."
        )
    warnings = []
    for name, value in overrides.items():
        for key, params in declared.items():
            info = params.get(name)
            expected = _TYPE_NAMES.get(str(info.get("type"))) if info else None
            if not expected or value is None:
                continue
            if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
                warnings.append(
                    f"-p {name}={value!r} is a {type(value).__name__}, but {key} declares "
                    f"{name} = {info.get('default')} ({info.get('type')})."
                )
    return warnings


def stage_parameters(
    declared_names: Iterable[str], paths: Mapping[str, Any], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """The parameters to inject into one notebook: the path values and overrides it declares."""
    names = set(declared_names)
    params = {k: v for k, v in paths.items() if k in names}
    params.update({k: v for k, v in overrides.items() if k in names})
    return params


def dependency_warnings(selected: Sequence[Stage], registry: Sequence[Stage], headlines_dir: str | Path) -> list[str]:
    """Warn about a selected stage whose upstream stage is neither selected nor has run before."""
    keys = {s.number for s in selected}
    by_number = {s.number: s for s in registry}
    out = []
    for s in selected:
        for dep in s.depends_on:
            up = by_number.get(dep)
            if up and dep not in keys and not (Path(headlines_dir) / up.headline_name).is_file():
                out.append(
                    f"stage {s.key} reads the outputs of {up.key}, which is not selected and has no "
                    f"headline from an earlier run; add it with --stages or --from {up.number}."
                )
    return out


# --------------------------------------------------------------------------- environment & data


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


@dataclass
class DataSource:
    """Where the raw data comes from, and what to say about it."""

    raw_dir: Path
    demo: bool
    truth_dir: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    demo_info: dict[str, Any] | None = None
    generated: bool = False

    @property
    def label(self) -> str:
        return "DEMO DATA (synthetic)" if self.demo else f"Kaggle data at {self.raw_dir}"


def _read_marker(raw_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((raw_dir / DEMO_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _marker_matches(marker: Mapping[str, Any], n_customers: int, seed: int) -> bool:
    size = next((marker[k] for k in ("n_customers", "demo_size", "size") if k in marker), None)
    return size == n_customers and marker.get("seed") == seed


def prepare_demo(
    out_root: str | Path,
    n_customers: int = 40_000,
    seed: int = 42,
    generate: Callable[..., Any] | None = None,
    announce: Callable[[str], None] | None = None,
) -> DataSource:
    """Make sure ``<out_root>/data/demo/raw`` holds demo data of this size and seed.

    Reuses an existing folder whose :data:`DEMO_MARKER` records the same size and
    seed; otherwise (re)generates it with ``clvlib.demo.generate_demo`` (or
    ``generate``), truth going to ``<out_root>/data/demo/truth``.
    """
    raw = Path(out_root) / "data" / "demo" / "raw"
    truth = raw.parent / "truth"
    marker = _read_marker(raw)
    generated = False
    if not (marker and _marker_matches(marker, n_customers, seed) and has_raw_data(raw)):
        if generate is None:
            from clvlib.demo.generate import generate_demo as generate
        if announce:
            announce(f"Generating demo data ({n_customers:,} customers, seed {seed}) into {raw} ...")
        if marker:  # demo data of another size/seed: start clean, so a half-done rewrite never looks valid
            shutil.rmtree(raw)
        try:
            generate(raw, n_customers=n_customers, seed=seed, truth_dir=truth)
        except ValueError as exc:
            raise ValueError(
                f"{exc} (If {raw} is left over from an interrupted demo generation, delete it and run again.)"
            ) from exc
        generated = True
        marker = _read_marker(raw)
    files = find_raw_files(raw, extract_dir=Path(out_root) / "data" / "interim" / "unzipped")
    return DataSource(
        raw_dir=raw,
        demo=True,
        truth_dir=truth if truth.is_dir() else None,
        files=files,
        demo_info={"n_customers": n_customers, "seed": seed, "marker": marker},
        generated=generated,
    )


def resolve_data_source(
    raw_dir: str | Path | None,
    out_root: str | Path,
    demo: bool = False,
    demo_size: int = 40_000,
    seed: int = 42,
    generate: Callable[..., Any] | None = None,
    announce: Callable[[str], None] | None = None,
) -> DataSource:
    """Decide which raw data the run uses and check the files are there.

    * ``raw_dir`` given: use it (relative paths: the working directory first,
      then the project root); a folder carrying :data:`DEMO_MARKER` counts as demo.
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
            truth = p.parent / "truth"
            return DataSource(p, True, truth if truth.is_dir() else None, files, {"marker": _read_marker(p)})
        return DataSource(p, False, None, files)
    default = project_root() / "data" / "raw"
    if not demo and has_raw_data(default):
        files = find_raw_files(default, extract_dir=extract)
        return DataSource(default, is_demo_dir(default), None, files)
    return prepare_demo(out_root, demo_size, seed, generate=generate, announce=announce)


@contextmanager
def _kernel_pythonpath(root: Path):
    """Let kernels import ``clvlib`` without installing it: prepend the project root to PYTHONPATH."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(root)] + ([old] if old else []))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


# --------------------------------------------------------------------------- execution & rendering


def _error_text(exc: BaseException) -> str:
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
    """Render an executed notebook to a standalone HTML report (nbconvert, ``lab`` template).

    Cells tagged ``remove-cell`` are dropped; the input of the cells tagged
    with one of :data:`HIDDEN_INPUT_TAGS` is hidden (outputs stay).
    Images are embedded; the file is written atomically.
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
    exporter = HTMLExporter(config=c, template_name="lab", exclude_input_prompt=True, exclude_output_prompt=True)
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
    return write_text_atomic(body, html_path)


def read_headline(path: str | Path) -> dict[str, Any] | None:
    """Read a stage's headline JSON; ``None`` if absent.  Malformed parts are dropped, not fatal."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"figures": {}, "inputs": [], "outputs": [], "demo": None, "error": f"unreadable headline: {exc}"}
    if not isinstance(data, dict):
        return {"figures": {}, "inputs": [], "outputs": [], "demo": None, "error": "headline is not a JSON object"}
    figures = data.get("figures")
    return json_safe({
        "figures": figures if isinstance(figures, dict) else {},
        "inputs": [str(p) for p in data.get("inputs") or []] if isinstance(data.get("inputs"), list) else [],
        "outputs": [str(p) for p in data.get("outputs") or []] if isinstance(data.get("outputs"), list) else [],
        "demo": data.get("demo"),
    })


# --------------------------------------------------------------------------- run record & index


@dataclass
class RunConfig:
    """Everything a run needs besides the stage list."""

    out_root: Path
    data: DataSource
    notebook_dir: Path
    kernel: str = "python3"
    timeout: int | None = 1800
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def processed_dir(self) -> Path:
        return self.out_root / "data" / "processed"

    @property
    def outputs_dir(self) -> Path:
        return self.out_root / "outputs"

    @property
    def headlines_dir(self) -> Path:
        return self.outputs_dir / "headlines"

    @property
    def executed_dir(self) -> Path:
        return self.outputs_dir / "notebooks"

    def path_parameters(self) -> dict[str, str | None]:
        """The runner-owned parameters, as absolute path strings."""
        return {
            "raw_dir": str(self.data.raw_dir.resolve()),
            "processed_dir": str(self.processed_dir.resolve()),
            "outputs_dir": str(self.outputs_dir.resolve()),
            "truth_dir": str(self.data.truth_dir.resolve()) if self.data.truth_dir else None,
        }


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


def build_run_record(
    config: RunConfig,
    stage_records: Sequence[Mapping[str, Any]],
    started_at: str,
    finished_at: str,
    seconds: float,
    command: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The content of ``outputs/run.json`` (also what :func:`build_index_html` renders)."""
    failed = next((s for s in stage_records if s["status"] == "failed"), None)
    data = config.data
    return json_safe({
        "project": PROJECT_TITLE,
        "status": "failed" if failed else "ok",
        "failed_stage": failed["key"] if failed else None,
        "started_at": started_at,
        "finished_at": finished_at,
        "seconds": round(seconds, 2),
        "command": list(command) if command is not None else None,
        "environment": {"platform": platform.platform(), "executable": sys.executable, "versions": _versions()},
        "data_source": {
            "label": data.label,
            "raw_dir": str(data.raw_dir),
            "demo": data.demo,
            "truth_dir": str(data.truth_dir) if data.truth_dir else None,
            "demo_info": data.demo_info,
            "files": {k: str(v) for k, v in data.files.items()},
        },
        "paths": {
            "out_root": str(config.out_root),
            "processed_dir": str(config.processed_dir),
            "outputs_dir": str(config.outputs_dir),
            "notebook_dir": str(config.notebook_dir),
        },
        "kernel": config.kernel,
        "cell_timeout_seconds": config.timeout,
        "overrides": dict(config.overrides),
        "stages": [dict(s) for s in stage_records],
    })


_STATUS_STYLE = {
    "ok": ("ok", "#1a7f37", "#dafbe1"),
    "failed": ("FAILED", "#cf222e", "#ffebe9"),
    "skipped": ("skipped", "#9a6700", "#fff8c5"),
    "not run": ("not run", "#57606a", "#f6f8fa"),
}


def _fmt_value(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "—" if v is None else str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != 0 and abs(v) >= 1000:
            return f"{v:,.0f}"
        if v != 0 and abs(v) >= 100:
            return f"{v:,.1f}"
        return f"{v:.3g}"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _fmt_seconds(s: Any) -> str:
    if not isinstance(s, (int, float)):
        return ""
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def _human_time(iso: str | None) -> str:
    """``2025-01-01T10:00:00+00:00`` -> ``2025-01-01 10:00:00 UTC+00:00``; passes other text through."""
    if not iso:
        return ""
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    tz = dt.strftime("%z")
    return dt.strftime("%Y-%m-%d %H:%M:%S") + (f" UTC{tz[:3]}:{tz[3:]}" if tz else "")


def _href(path: str | None, base: Path) -> str | None:
    if not path:
        return None
    rel = os.path.relpath(path, base)
    return quote(rel.replace(os.sep, "/"))


def build_index_html(run: Mapping[str, Any]) -> str:
    """A self-contained ``index.html`` (inline CSS, no scripts) from a run record."""
    e = html.escape
    outputs = Path(run["paths"]["outputs_dir"])
    data = run["data_source"]
    if data["demo"]:
        info = data.get("demo_info") or {}
        extra = ""
        if info.get("n_customers"):
            extra = f" — {info['n_customers']:,} customers, seed {info.get('seed')}"
        source = (
            f'<div class="banner demo"><strong>DEMO DATA (synthetic)</strong>{e(extra)}. '
            f"Generated at <code>{e(data['raw_dir'])}</code>. Figures describe the simulator, not Olist. "
            "To use the real Kaggle data, unpack it into <code>data/raw/</code> or pass "
            "<code>--raw-dir PATH</code>.</div>"
        )
    else:
        source = f'<div class="banner real">Data: real Kaggle data at <code>{e(data["raw_dir"])}</code></div>'

    if run["status"] == "failed":
        status = f'<p class="result bad">Stage <strong>{e(run["failed_stage"])}</strong> failed; later stages were skipped.</p>'
    else:
        n = sum(s["status"] == "ok" for s in run["stages"])
        rest = len(run["stages"]) - n
        status = f'<p class="result good">{n} stage(s) ran without error'
        status += f"; {rest} not run this time.</p>" if rest else ".</p>"

    rows = []
    for s in run["stages"]:
        label, fg, bg = _STATUS_STYLE.get(s["status"], (s["status"], "#57606a", "#f6f8fa"))
        status_cell = f'<span class="pill" style="color:{fg};background:{bg}">{e(label)}</span>'
        href = _href(s.get("html"), outputs)
        figures = s.get("figures") or {}
        note = ""
        earlier = s.get("earlier")
        if s["status"] in ("not run", "skipped") and earlier:
            href = _href(earlier.get("html"), outputs)
            when = _human_time(earlier.get("finished_at")) or "unknown time"
            what = earlier.get("data_label") or ""
            note = (
                f'<div class="earlier">report from an earlier run ({e(str(earlier.get("status")))}, '
                f"{e(str(when))}{', ' + e(what) if what else ''})</div>"
            )
            figures = earlier.get("figures") or {}
        link = f'<a href="{href}">report</a>' if href else ""
        if s.get("error"):
            err = s["error"] if len(s["error"]) <= 500 else s["error"][:500] + " … (see the report)"
            note += f'<div class="error">{e(err)}</div>'
        figs = "".join(f"<tr><th>{e(str(k))}</th><td>{e(_fmt_value(v))}</td></tr>" for k, v in figures.items())
        fig_html = f'<table class="figs">{figs}</table>' if figs else ""
        rows.append(
            f"<tr><td class=num>{e(s['number'])}</td>"
            f"<td><strong>{e(s['title'])}</strong><div class=key>{e(s['key'])}</div></td>"
            f"<td class=status>{status_cell}{note}</td><td class=dur>{e(_fmt_seconds(s.get('seconds')))}</td>"
            f"<td>{link}</td><td>{fig_html}</td></tr>"
        )

    overrides = run.get("overrides") or {}
    over_html = (
        "<p class=meta>Parameter overrides: "
        + ", ".join(f"<code>{e(k)}={e(repr(v))}</code>" for k, v in overrides.items())
        + "</p>"
        if overrides
        else ""
    )
    versions = run.get("environment", {}).get("versions", {})
    ver = ", ".join(f"{e(k)} {e(str(v))}" for k, v in versions.items())
    css = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1f2328;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem} .meta{color:#57606a;font-size:.9rem;margin:.3rem 0}
.banner{padding:.7rem 1rem;border-radius:6px;margin:1rem 0}
.banner.demo{background:#fff1e5;border:2px solid #bc4c00;color:#762c00;font-size:1.05rem}
.banner.real{background:#ddf4ff;border:1px solid #54aeff}
.note{background:#f6f8fa;border-left:4px solid #8c959f;padding:.4rem .8rem;font-size:.9rem}
.result.bad{color:#cf222e} .result.good{color:#1a7f37}
table.stages{border-collapse:collapse;width:100%;margin-top:1rem}
table.stages>thead>tr>th{text-align:left;border-bottom:2px solid #d0d7de;padding:.4rem;font-size:.85rem;color:#57606a}
table.stages>tbody>tr>td{border-bottom:1px solid #d0d7de;padding:.5rem .4rem;vertical-align:top}
td.num{font-variant-numeric:tabular-nums;color:#57606a} td.dur{white-space:nowrap;font-variant-numeric:tabular-nums}
.key{font-family:ui-monospace,monospace;font-size:.8rem;color:#57606a}
.pill{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-weight:600;font-size:.85rem}
.earlier{font-size:.8rem;color:#57606a;margin-top:.2rem} .error{font-size:.85rem;color:#cf222e;margin-top:.3rem;
font-family:ui-monospace,monospace;white-space:pre-wrap}
td.status{width:30%}
table.figs{border-collapse:collapse;font-size:.85rem} table.figs th{text-align:left;font-weight:normal;color:#57606a;
padding:0 .8rem 0 0;white-space:nowrap} table.figs td{font-variant-numeric:tabular-nums;text-align:right;white-space:nowrap}
code{font-size:.85em;background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}
footer{margin-top:2rem;color:#8c959f;font-size:.8rem}
"""
    started = run.get("started_at") or ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(run.get('project') or PROJECT_TITLE)} — pipeline run</title>
<style>{css}</style></head>
<body>
<h1>{e(run.get('project') or PROJECT_TITLE)}</h1>
<p class=meta>Run started {e(_human_time(started))}, finished {e(_human_time(run.get('finished_at')))}
({e(_fmt_seconds(run.get('seconds')))}). Machine-readable record: <a href="run.json">run.json</a>.</p>
{source}
<p class=note>{e(SYNTHETIC_LINK_NOTE)}</p>
{status}
{over_html}
<table class=stages><thead><tr><th>#</th><th>Stage</th><th>Status</th><th>Time</th><th>Report</th>
<th>Headline figures</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table>
<footer>Kernel {e(str(run.get('kernel')))}, cell timeout {e(str(run.get('cell_timeout_seconds')))} s. {ver}</footer>
</body></html>
"""


# --------------------------------------------------------------------------- the pipeline


def _earlier(stage: Stage, prev: Mapping[str, Any] | None, html_path: Path, headline_path: Path) -> dict | None:
    """What an earlier run left for a stage not run now (``None`` if no report exists)."""
    if not html_path.is_file():
        return None
    rec = None
    if prev:
        rec = next((s for s in prev.get("stages", []) if s.get("key") == stage.key), None)
    if rec and rec.get("status") in ("ok", "failed"):
        return {
            "status": rec["status"],
            "finished_at": prev.get("finished_at"),
            "data_label": (prev.get("data_source") or {}).get("label"),
            "html": str(html_path),
            "figures": rec.get("figures") or {},
        }
    if rec and rec.get("earlier"):
        return {**rec["earlier"], "html": str(html_path)}
    head = read_headline(headline_path) or {}
    mtime = datetime.fromtimestamp(html_path.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    return {"status": "unknown", "finished_at": mtime, "data_label": None, "html": str(html_path),
            "figures": head.get("figures") or {}}


def _console(text: str, end: str = "\n") -> None:
    print(text, end=end, flush=True)


def _stage_record(stage: Stage, status: str, **kw: Any) -> dict[str, Any]:
    rec = {
        "number": stage.number, "name": stage.name, "key": stage.key, "title": stage.title,
        "notebook": stage.notebook, "depends_on": list(stage.depends_on), "status": status,
        "seconds": None, "started_at": None, "html": None, "executed_notebook": None,
        "parameters": {}, "figures": {}, "inputs": [], "outputs": [], "error": None,
    }
    rec.update(kw)
    return rec


def run_pipeline(
    selected: Sequence[Stage],
    config: RunConfig,
    registry: Sequence[Stage] = STAGES,
    declared: Mapping[str, Mapping[str, Any]] | None = None,
    echo: Callable[..., None] | None = None,
    command: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Execute the selected stages in order, render reports, write ``index.html`` and ``run.json``.

    A failing stage is rendered too (its report shows the error); the stages
    after it are skipped.  Returns the run record (``record["status"]`` is
    ``"ok"`` or ``"failed"``); ``KeyboardInterrupt`` is recorded as a failure and
    re-raised after the index is written.

    Parameters
    ----------
    selected
        Stages to run (any order; they run in registry order).  May be empty:
        then only the index is rebuilt.
    config
        Folders, data source, kernel, timeout and ``-p`` overrides.
    registry
        The whole pipeline; stages not selected appear as "not run" (with a
        link to an earlier report when one exists).
    declared
        ``{stage_key: parameters}`` if already inspected; else read here.
    echo
        ``echo(text, end="\n")`` for progress lines; default: print and flush.
    command
        The command line, recorded in ``run.json``.
    """
    echo = echo or _console
    if declared is None:
        declared = declared_parameters(selected, config.notebook_dir)
    out = config.outputs_dir
    for d in (out, config.headlines_dir, config.executed_dir, config.processed_dir):
        d.mkdir(parents=True, exist_ok=True)
    prev = None
    try:
        prev = json.loads((out / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    paths = config.path_parameters()
    width = registry[-1].number if registry else "??"
    chosen = {s.key for s in selected}
    started_at, t0 = _now(), time.perf_counter()
    records: list[dict[str, Any]] = []
    failed: Stage | None = None
    interrupted: BaseException | None = None

    for stage in registry:
        html_path, exe_path = out / stage.html_name, config.executed_dir / stage.executed_name
        head_path = config.headlines_dir / stage.headline_name
        if stage.key not in chosen or failed is not None:
            status = "skipped" if (failed is not None and stage.key in chosen) else "not run"
            if status == "skipped":
                echo(f"[{stage.number}/{width}] {stage.name} ... skipped (stage {failed.key} failed)")
            records.append(_stage_record(stage, status, earlier=_earlier(stage, prev, html_path, head_path)))
            continue

        params = stage_parameters(declared.get(stage.key, {}), paths, config.overrides)
        for stale in (html_path, exe_path, head_path):  # never show a previous run's result as this one's
            stale.unlink(missing_ok=True)
        echo(f"[{stage.number}/{width}] {stage.name} ... ", end="")
        st_at, t = _now(), time.perf_counter()
        error = None
        try:
            with _kernel_pythonpath(project_root()):
                execute_stage(config.notebook_dir / stage.notebook, exe_path, params, config.notebook_dir,
                              config.kernel, config.timeout)
        except KeyboardInterrupt as exc:
            error, interrupted = "KeyboardInterrupt: run interrupted", exc
        except Exception as exc:  # PapermillExecutionError, CellTimeoutError, DeadKernelError, ...
            error = _error_text(exc)
        secs = time.perf_counter() - t
        html_out, render_error = None, None
        if exe_path.is_file():
            try:
                html_out = str(render_html(exe_path, html_path, title=f"{stage.number} · {stage.title}", error=error))
            except Exception as exc:  # a report that cannot render must not hide the stage's own result
                render_error = f"HTML rendering failed: {_error_text(exc)}"
        head = read_headline(head_path) or {}
        status = "failed" if error else "ok"
        rec = _stage_record(
            stage, status, seconds=round(secs, 2), started_at=st_at, html=html_out,
            executed_notebook=str(exe_path) if exe_path.is_file() else None, parameters=params,
            figures=head.get("figures", {}), inputs=head.get("inputs", []), outputs=head.get("outputs", []),
            headline=str(head_path) if head_path.is_file() else None, headline_demo=head.get("demo"),
            error=error, render_error=render_error or head.get("error"),
        )
        records.append(rec)
        msg = f"ok ({secs:.1f} s)" if not error else f"FAILED ({secs:.1f} s)"
        echo(msg)
        if error:
            failed = stage
            echo(f"        {error}")
            echo(f"        report: {html_out or exe_path}")
        if render_error:
            echo(f"        {render_error}")

    record = build_run_record(config, records, started_at, _now(), time.perf_counter() - t0, command)
    write_json_atomic(record, out / "run.json")
    write_text_atomic(build_index_html(record), out / "index.html")
    counts = {k: sum(r["status"] == k for r in records) for k in ("ok", "failed", "skipped")}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v) or "nothing ran"
    echo(f"Summary: {summary} in {_fmt_seconds(record['seconds'])}.  Index: {out / 'index.html'}")
    if interrupted is not None:
        raise interrupted
    return record


def format_stage_list(
    registry: Sequence[Stage], notebook_dir: str | Path
) -> str:
    """Text for ``--list``: each stage, its notebook and its parameters with defaults and help."""
    lines = []
    nb_dir = Path(notebook_dir)
    for s in registry:
        deps = f"  (after {', '.join(s.depends_on)})" if s.depends_on else ""
        lines.append(f"{s.number} {s.name:<20} {s.title}{deps}")
        path = nb_dir / s.notebook
        if not path.is_file():
            lines.append(f"     {path}: not written yet")
            continue
        try:
            params = notebook_parameters(path)
        except Exception as exc:  # a broken notebook should not stop the listing
            lines.append(f"     {path}: cannot read parameters ({_error_text(exc)})")
            continue
        if not params:
            lines.append("     (no cell tagged 'parameters')")
        owned = [n for n in params if n in PATH_PARAMETERS]
        if owned:
            lines.append(f"     {', '.join(owned)}: set by run_all (--raw-dir/--demo, --out-root)")
        for name, info in params.items():
            if name not in PATH_PARAMETERS:
                helptext = f"  # {info['help']}" if info.get("help") else ""
                lines.append(f"     -p {name} {info.get('default')}{helptext}")
    return "\n".join(lines)
