"""Progress of long steps, reported to the console of ``run_all.py``, never into a report.

A stage runs in a Jupyter kernel whose output becomes the HTML report, so a progress bar
printed there would clutter the report and never reach the user. Instead the runner gives
the kernel a side channel: the path of a file in :data:`PROGRESS_ENV`. :func:`step` appends
one JSON line per call to that file, and the runner prints them as they come (see
:mod:`clvlib.pipeline.progress_tail`). Without that variable :func:`step` writes a plain line
to stderr when it is a terminal (a library call from a shell) and does nothing otherwise
(a notebook opened in Jupyter, a test).

This is a bottom module: it imports nothing from ``clvlib``, so every layer may call it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

__all__ = ["PROGRESS_ENV", "step", "track", "compile_cache_is_cold", "note_compile_cache"]

#: Environment variable holding the path of the progress file the runner reads.
PROGRESS_ENV = "CLVLIB_PROGRESS_FILE"

#: A pytensor compile directory with fewer compiled modules than this is taken as new: one full
#: run of the BTYD models leaves about 300 of them, a directory that was never used holds none.
COLD_CACHE_MODULES = 20

T = TypeVar("T")

_noted: set[str] = set()  # compile directories already announced by this process


def _event(message: str, i: int | None, n: int | None) -> dict:
    if (i is None) != (n is None):
        raise ValueError(f"progress.step({message!r}): give both i and n (step i of n), or neither; got i={i}, n={n}.")
    if n is not None and not (0 <= i <= n):
        raise ValueError(f"progress.step({message!r}): i={i} is outside 0..n={n}.")
    return {"t": round(time.time(), 3), "message": str(message), "i": i, "n": n}


def step(message: str, i: int | None = None, n: int | None = None) -> None:
    """Report what a long computation is doing now, optionally as step ``i`` of ``n``.

    Parameters
    ----------
    message
        What is being done, in a few words ("fitting BG/NBD x Gamma-Gamma").
    i, n
        Progress counter: ``i`` steps of ``n`` are done (``0 <= i <= n``); both or neither.

    Raises
    ------
    ValueError
        When only one of ``i`` and ``n`` is given, or ``i`` is outside ``0..n``.

    Notes
    -----
    Writes one JSON line (``t``, ``message``, ``i``, ``n``) to the file named by
    :data:`PROGRESS_ENV` when it is set; else a line to stderr when stderr is a terminal;
    else nothing. An unwritable progress file never stops the computation.
    """
    event = _event(message, i, n)
    target = os.environ.get(PROGRESS_ENV)
    if target:
        try:
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(event) + "\n")
        except OSError:
            pass
        return
    stream = sys.stderr
    if getattr(stream, "isatty", lambda: False)():
        counter = f" ({i}/{n})" if n is not None else ""
        print(f"  {message}{counter}", file=stream, flush=True)


def track(items: Iterable[T], message: str, n: int | None = None) -> Iterator[T]:
    """Yield ``items``, reporting ``message (i/n)`` before each one and ``(n/n)`` at the end.

    Parameters
    ----------
    items
        What to iterate over.
    message
        What each item's work is ("bootstrap resamples").
    n
        Number of items; ``len(items)`` when omitted (a plain message without a counter
        when ``items`` has no length).
    """
    if n is None:
        n = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    done = 0
    for item in items:
        step(message, *((done, n) if n is not None else (None, None)))
        yield item
        done += 1
    if n is not None:
        step(message, n, n)


def compile_cache_is_cold(compiledir: str | Path, min_modules: int = COLD_CACHE_MODULES) -> bool:
    """True when pytensor's compile directory looks new: missing, or holding fewer than ``min_modules`` modules.

    pytensor compiles each model operation to C once and keeps the result in a ``tmp*``
    folder of its compile directory; a first run on a machine pays for all of them (minutes),
    later runs reuse them.
    """
    folder = Path(compiledir)
    if not folder.is_dir():
        return True
    modules = sum(1 for p in folder.iterdir() if p.is_dir() and p.name.startswith("tmp"))
    return modules < min_modules


def note_compile_cache() -> bool:
    """Report, through :func:`step`, that pymc compiles its cache once when pytensor's compile directory is new.

    Returns
    -------
    bool
        Whether the note was given: once per process and compile directory (False also when
        pytensor is not installed).
    """
    try:
        import pytensor
    except ImportError:
        return False
    compiledir = str(pytensor.config.compiledir)
    if compiledir in _noted or not compile_cache_is_cold(compiledir):
        return False
    _noted.add(compiledir)
    step(f"first run on this machine: pymc compiles its model code once into {compiledir} (a few minutes); "
         "later runs reuse it")
    return True
