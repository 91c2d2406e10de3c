"""Notebook parameters: read from each notebook's ``parameters`` cell, typed, and checked before anything runs.

A ``-p NAME VALUE`` override is parsed as a literal, checked against the type of the notebook's
default and against the allowed values below, and refused (exit 2, nothing written) when it does
not fit, with a message naming the parameter, the expected type and an example.
"""

from __future__ import annotations

import ast
import io
import json
import logging
import re
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "RUNNER_PARAMETERS",
    "CHOICES",
    "DATE_PARAMETERS",
    "parse_param_value",
    "parse_overrides",
    "notebook_parameters",
    "declared_parameters",
    "check_value",
    "validate_overrides",
    "stage_parameters",
]

#: Parameters the runner sets itself; ``-p`` may not override them.
RUNNER_PARAMETERS = {"workspace": "--workspace, --raw-dir or --demo"}
#: Allowed values of string parameters, and of the items of list parameters.
CHOICES: dict[str, tuple[str, ...]] = {
    "fit_method": ("map", "mcmc"),
    "value_source": ("payments", "items"),
    "link_methods": ("rank", "random", "key"),
}
#: Parameters that hold a day, written YYYY-MM-DD (or None where the notebook's default is None).
DATE_PARAMETERS = ("cutoff", "analysis_date", "events_end", "reference_date")
#: Integer parameters that must be at least 1.
POSITIVE = ("horizon_months", "n_train_windows", "train_stride_months", "lifetime_months", "n_boot")
#: Parameters that also accept None although their default is not None.
NULLABLE = ("order_statuses",)

_EXAMPLES = {"int": "6", "float": "0.1", "str": "text", "bool": "True", "list": '\'["a", "b"]\'', "dict": "'{\"a\": 1}'"}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def declared_parameters(stages: Sequence[Any], notebook_dir: str | Path) -> dict[str, dict[str, dict[str, Any]]]:
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


def check_value(name: str, value: Any, info: Mapping[str, Any], where: str) -> None:
    """Raise ``ValueError`` when ``value`` does not fit parameter ``name`` as declared in ``where``.

    Checks the type of the notebook's default (an int where the default is an int; a float accepts
    an int), the allowed values in :data:`CHOICES`, days in :data:`DATE_PARAMETERS` and the
    positive integers in :data:`POSITIVE`.
    """
    default_type = info.get("type")
    default_text = info.get("default")
    if name in DATE_PARAMETERS:
        if value is None and default_text == "None":
            return
        if not (isinstance(value, str) and _ISO_DAY.match(value)):
            raise ValueError(f"-p {name} {value!r}: expected a day written YYYY-MM-DD (a string), e.g. "
                             f"-p {name} 2018-02-28 ({where} declares {name} = {default_text}).")
        import pandas as pd

        try:
            pd.Timestamp(value)
        except ValueError:
            raise ValueError(f"-p {name} {value!r}: not a valid day, e.g. -p {name} 2018-02-28.") from None
        return
    if value is None:
        if default_text == "None" or name in NULLABLE:
            return
        raise ValueError(f"-p {name} None: {name} cannot be None ({where} declares {name} = {default_text}).")
    expected = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list,),
                "dict": (dict,)}.get(str(default_type))
    if expected and (not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected)):
        raise ValueError(
            f"-p {name} {value!r}: expected {'a' if default_type != 'int' else 'an'} {default_type} "
            f"(the {type(value).__name__} given does not fit; {where} declares {name} = {default_text}), "
            f"e.g. -p {name} {_EXAMPLES.get(str(default_type), default_text)}.")
    if name in POSITIVE and isinstance(value, int) and value < 1:
        raise ValueError(f"-p {name} {value}: must be at least 1.")
    allowed = CHOICES.get(name)
    if allowed:
        items = value if isinstance(value, list) else [value]
        bad = [v for v in items if v not in allowed]
        if bad:
            raise ValueError(f"-p {name} {value!r}: {bad} not allowed; choose from {list(allowed)}.")


def validate_overrides(overrides: Mapping[str, Any], declared: Mapping[str, Mapping[str, Any]]) -> None:
    """Check ``-p`` names and values against the parameters the selected notebooks declare.

    Raises
    ------
    ValueError
        For a parameter the runner sets itself (naming the option to use), a parameter no selected
        notebook declares (listing the valid names), or a value that does not fit (see :func:`check_value`).
    """
    owned = [n for n in overrides if n in RUNNER_PARAMETERS]
    if owned:
        hints = "; ".join(f"{n}: use {RUNNER_PARAMETERS[n]}" for n in owned)
        raise ValueError(f"-p cannot set {', '.join(owned)}: run_all sets it ({hints}).")
    valid = sorted({n for params in declared.values() for n in params} - set(RUNNER_PARAMETERS))
    unknown = [n for n in overrides if n not in valid]
    if unknown:
        raise ValueError(
            f"Unknown parameter(s) {', '.join(unknown)}: no selected notebook declares "
            f"{'it' if len(unknown) == 1 else 'them'}. Valid names: {', '.join(valid) or '(none)'}. "
            "See python run_all.py --list.")
    for name, value in overrides.items():
        for key, params in declared.items():
            if name in params:
                check_value(name, value, params[name], f"stage {key}")


def stage_parameters(declared_names: Iterable[str], runner: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters to inject into one notebook: the runner's and the overrides it declares."""
    names = set(declared_names)
    params = {k: v for k, v in runner.items() if k in names}
    params.update({k: v for k, v in overrides.items() if k in names})
    return params
