"""The console side of :mod:`clvlib.progress`: follow a stage's progress file while its kernel runs.

The runner gives each stage's kernel a fresh progress file (through
:data:`clvlib.progress.PROGRESS_ENV`) and, while papermill executes, a :class:`ProgressTail`
thread reads the JSON lines appended to it and shows them:

- on a terminal, a counted step as a bar on the stage's own line, rewritten in place (``\\r``,
  cut to the terminal's width), and a message without a counter as a line of its own above it;
- otherwise (a log file, CI, a test), as indented plain lines: one per new message, and for a
  counted step at most one every few seconds, so a log stays short.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ProgressTail", "format_event", "bar"]

INDENT = "        "


def bar(i: int, n: int, width: int = 20) -> str:
    """``[#######.............]  35%``: ``i`` of ``n`` done.

    Examples
    --------
    >>> bar(1, 4, width=8)
    '[##......]  25%'
    """
    frac = 0.0 if n <= 0 else min(max(i / n, 0.0), 1.0)
    full = int(round(frac * width))
    return f"[{'#' * full}{'.' * (width - full)}] {frac:4.0%}"


def _counted(event: dict[str, Any]) -> bool:
    return isinstance(event.get("i"), int) and isinstance(event.get("n"), int)


def format_event(event: dict[str, Any], with_bar: bool = True) -> str:
    """One progress event as text: the message, after a bar or followed by ``(i/n)`` for a counted step.

    Examples
    --------
    >>> format_event({"message": "fitting bgnbd", "i": 1, "n": 2}, with_bar=False)
    'fitting bgnbd (1/2)'
    >>> format_event({"message": "fitting bgnbd", "i": 1, "n": 2}, with_bar=True)
    '[##########..........]  50% fitting bgnbd'
    """
    message = str(event.get("message", ""))
    if not _counted(event):
        return message
    i, n = event["i"], event["n"]
    return f"{bar(i, n)} {message}" if with_bar else f"{message} ({i}/{n})"


class ProgressTail:
    """Follow ``path`` in a thread and show each progress event through ``echo``.

    Parameters
    ----------
    path
        The progress file the kernel appends to (need not exist yet).
    echo
        ``echo(text, end="\\n")``, the runner's console writer.
    live
        True on a terminal: rewrite ``header`` + the latest counted event on one line with
        ``\\r``, and print other events as lines of their own. False: print indented plain lines.
    header
        What the runner already printed on the current line (``"[05/06] clv_models ... "``);
        in live mode it is redrawn before each event and restored by :meth:`stop`.
    interval
        Seconds between reads of the file.
    min_gap
        Plain mode: seconds between two lines of the same message (a counter).
    columns
        Live mode: width of the terminal (the bar line is cut to fit); by default asked of the terminal.

    Attributes
    ----------
    events : list of dict
        Every event read, in order.
    shown : int
        How many lines were printed (plain mode) or redrawn (live mode).
    """

    def __init__(self, path: str | Path, echo: Callable[..., None], live: bool = False, header: str = "",
                 interval: float = 0.2, min_gap: float = 5.0, columns: int | None = None) -> None:
        self.path, self.echo, self.live, self.header = Path(path), echo, live, header
        self.interval, self.min_gap = interval, min_gap
        self.columns = columns or shutil.get_terminal_size((100, 24)).columns
        self.events: list[dict[str, Any]] = []
        self.shown = 0
        self._offset = 0
        self._partial = ""
        self._last: tuple[str, float] | None = None
        self._width = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ProgressTail:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start following the file in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="clvlib-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Read what is left, stop the thread, and leave the console line as the runner expects it.

        Live mode leaves ``header`` alone on the last line (the runner appends "ok (...)"); plain mode
        prints ``header`` again on a new line when anything was shown in between.
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.poll()
        if self.live and self._width > len(self.header):
            self.echo("\r" + " " * self._width + "\r" + self.header, end="")
        elif self.shown and not self.live:
            self.echo(self.header, end="")

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> list[dict[str, Any]]:
        """Read the events appended since the last call, show them, and return them."""
        try:
            with open(self.path, encoding="utf-8") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
                self._offset = fh.tell()
        except OSError:
            return []
        text = self._partial + chunk
        lines = text.split("\n")
        self._partial = lines.pop()  # an incomplete last line waits for the next read
        new = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                new.append(event)
                self._show(event)
        self.events.extend(new)
        return new

    def _show(self, event: dict[str, Any]) -> None:
        now = time.monotonic()
        if self.live:
            clear = "\r" + " " * self._width + "\r" if self._width > len(self.header) else "\r"
            if _counted(event):
                text = self.header + format_event(event, with_bar=True)
                if len(text) > self.columns - 1:
                    text = text[: max(self.columns - 2, len(self.header))] + "…"
                self.echo(clear + text, end="")
                self._width = len(text)
            else:  # a message of its own: a line above the stage's line, which is drawn again below it
                self.echo(clear + INDENT + format_event(event) + "\n" + self.header, end="")
                self._width = len(self.header)
            self.shown += 1
            return
        message = str(event.get("message", ""))
        if self._last and self._last[0] == message and now - self._last[1] < self.min_gap:
            return  # the same counted step again, too soon: a log line every few seconds is enough
        if not self.shown:
            self.echo("")  # end the runner's "[05/06] clv_models ... " line
        self.echo(INDENT + format_event(event, with_bar=False))
        self._last = (message, now)
        self.shown += 1
