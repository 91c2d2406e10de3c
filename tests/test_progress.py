"""Progress reports (clvlib.progress) and the runner's console side (clvlib.pipeline.progress_tail)."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest

from clvlib import progress
from clvlib.pipeline.progress_tail import ProgressTail, bar, format_event


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_step_is_one_json_line_in_the_file_the_runner_names(tmp_path, monkeypatch):
    target = tmp_path / "p.jsonl"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(target))
    progress.step("fitting bgnbd", 0, 2)
    progress.step("bootstrap")
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(e["message"], e["i"], e["n"]) for e in lines] == [("fitting bgnbd", 0, 2), ("bootstrap", None, None)]
    assert all(abs(e["t"] - time.time()) < 60 for e in lines)


def test_without_the_runner_a_step_prints_only_to_a_terminal(monkeypatch):
    monkeypatch.delenv(progress.PROGRESS_ENV, raising=False)
    tty, pipe = Terminal(), io.StringIO()
    monkeypatch.setattr("sys.stderr", tty)
    progress.step("fitting bgnbd", 1, 2)
    monkeypatch.setattr("sys.stderr", pipe)  # a notebook kernel's stderr is not a terminal: nothing in the report
    progress.step("fitting bgnbd", 2, 2)
    assert tty.getvalue() == "  fitting bgnbd (1/2)\n" and pipe.getvalue() == ""


def test_an_unwritable_progress_file_never_stops_the_computation(tmp_path, monkeypatch):
    monkeypatch.setenv(progress.PROGRESS_ENV, str(tmp_path / "no" / "such" / "dir" / "p.jsonl"))
    progress.step("still fine")


@pytest.mark.parametrize(("i", "n", "message"), [(1, None, "give both i and n"), (None, 3, "give both i and n"),
                                                 (4, 3, "outside 0..n=3"), (-1, 3, "outside 0..n=3")],
                         ids=["i-only", "n-only", "past-the-end", "negative"])
def test_a_malformed_counter_is_refused(i, n, message):
    with pytest.raises(ValueError, match=message):
        progress.step("x", i, n)


def test_track_reports_before_each_item_and_at_the_end(tmp_path, monkeypatch):
    target = tmp_path / "p.jsonl"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(target))
    assert list(progress.track(["a", "b"], "window")) == ["a", "b"]
    assert [(e["i"], e["n"]) for e in map(json.loads, target.read_text().splitlines())] == [(0, 2), (1, 2), (2, 2)]


def test_a_compile_directory_is_cold_when_missing_or_nearly_empty(tmp_path):
    assert progress.compile_cache_is_cold(tmp_path / "missing")
    for k in range(3):
        (tmp_path / f"tmp{k}").mkdir()
    (tmp_path / "lock_dir").mkdir()
    assert progress.compile_cache_is_cold(tmp_path, min_modules=4)
    (tmp_path / "tmp3").mkdir()
    assert not progress.compile_cache_is_cold(tmp_path, min_modules=4)


def test_the_compile_note_is_given_once_per_process_for_a_new_cache(tmp_path, monkeypatch):
    pytensor = pytest.importorskip("pytensor")
    target = tmp_path / "p.jsonl"
    monkeypatch.setenv(progress.PROGRESS_ENV, str(target))
    monkeypatch.setattr(progress, "_noted", set())
    monkeypatch.setattr(progress, "compile_cache_is_cold", lambda d, min_modules=20: True)
    assert progress.note_compile_cache() is True and progress.note_compile_cache() is False
    (event,) = map(json.loads, target.read_text().splitlines())
    assert event["message"].startswith("first run on this machine: pymc compiles")
    assert str(pytensor.config.compiledir) in event["message"]


def test_bars_and_counters_read_plainly():
    assert bar(0, 4, width=4) == "[....]   0%" and bar(4, 4, width=4) == "[####] 100%" and bar(9, 4, 4) == "[####] 100%"
    assert format_event({"message": "bootstrap", "i": 250, "n": 1000}, with_bar=False) == "bootstrap (250/1000)"
    assert format_event({"message": "bootstrap", "i": 250, "n": 1000}).endswith("]  25% bootstrap")
    assert format_event({"message": "note", "i": None, "n": None}) == "note"


class Console:
    def __init__(self) -> None:
        self.text = ""

    def __call__(self, text: str, end: str = "\n") -> None:
        self.text += text + end


def write_events(path, *events) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        for message, i, n in events:
            fh.write(json.dumps({"t": 0, "message": message, "i": i, "n": n}) + "\n")


def test_plain_mode_prints_new_messages_on_their_own_lines_and_thins_counters(tmp_path):
    path, console = tmp_path / "p.jsonl", Console()
    console("[05/06] clv_models ... ", end="")
    tail = ProgressTail(path, console, live=False, header="[05/06] clv_models ... ", min_gap=60)
    assert tail.poll() == []  # no file yet
    write_events(path, ("fitting bgnbd", 0, 2), ("fitting bgnbd", 1, 2), ("bootstrap", 0, 1000))
    with open(path, "a") as fh:
        fh.write('{"t": 0, "message": "half a li')  # the kernel is still writing this line
    assert [e["message"] for e in tail.poll()] == ["fitting bgnbd", "fitting bgnbd", "bootstrap"]
    with open(path, "a") as fh:
        fh.write('ne", "i": null, "n": null}\nnot json\n')
    assert [e["message"] for e in tail.poll()] == ["half a line"]
    tail.stop()
    console("ok (3.0 s)")
    assert console.text == ("[05/06] clv_models ... \n"
                            "        fitting bgnbd (0/2)\n"
                            "        bootstrap (0/1000)\n"
                            "        half a line\n"
                            "[05/06] clv_models ... ok (3.0 s)\n")


def screen(text: str) -> list[str]:
    """What a terminal shows after ``text``: each ``\\r`` goes back to column 0 and overwrites."""
    shown = []
    for line in text.split("\n"):
        cells: list[str] = []
        for part in line.split("\r"):
            cells[: len(part)] = part
        shown.append("".join(cells).rstrip())
    return shown


def test_live_mode_draws_bars_in_place_cut_to_the_terminal_and_notes_above(tmp_path):
    path, console = tmp_path / "p.jsonl", Console()
    header = "[05/06] clv_models ... "
    console(header, end="")
    tail = ProgressTail(path, console, live=True, header=header, columns=80)
    write_events(path, ("fitting a model", 1, 2))
    tail.poll()
    assert screen(console.text) == [header + "[##########..........]  50% fitting a model"]
    write_events(path, ("first run: pymc compiles its cache once " + "x" * 60, None, None), ("boot " + "y" * 80, 1, 4))
    tail.poll()
    now = screen(console.text)
    assert now[0] == "        first run: pymc compiles its cache once " + "x" * 60  # a whole line of its own
    assert now[1].startswith(header + "[#####...............]  25% boot yyy") and len(now[1]) == 79  # cut to fit
    tail.stop()
    console("ok (3.0 s)")
    assert screen(console.text) == [now[0], header + "ok (3.0 s)", ""]  # no trace of the bar is left


def test_nothing_reported_leaves_the_console_untouched(tmp_path):
    console = Console()
    with ProgressTail(tmp_path / "p.jsonl", console, live=True, header="h", interval=0.01):
        time.sleep(0.05)
    assert console.text == ""


def test_the_thread_follows_the_file_while_the_stage_runs(tmp_path):
    path, console = tmp_path / "p.jsonl", Console()
    seen = threading.Event()
    with ProgressTail(path, console, live=False, interval=0.01) as tail:
        write_events(path, ("fitting", None, None))
        for _ in range(200):
            if tail.events:
                seen.set()
                break
            time.sleep(0.01)
    assert seen.is_set()  # read by the thread, before stop()
    assert "        fitting\n" in console.text
