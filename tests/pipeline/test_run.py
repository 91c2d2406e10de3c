"""Running the stages (clvlib.pipeline.run, .execute, .index) and the command line (run_all.py).

Most tests need no kernel. Two start real kernels on tiny throw-away notebooks (about 2 s each):
one runs an ok and a failing stage in-process through ``run_pipeline``, one a failing stage through
``python run_all.py``.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import run_all
from clvlib.pipeline.catalog import RAW, Stage, dataset, stage
from clvlib.pipeline.datasource import resolve_data_source
from clvlib.pipeline.execute import check_kernel, error_text
from clvlib.pipeline.index import build_index_html
from clvlib.pipeline.run import (
    RunConfig,
    _stage_record,
    build_run_record,
    missing_inputs,
    parse_stage_selection,
    read_headline,
    run_pipeline,
)
from clvlib.pipeline.workspace import DataSource, Workspace
from fakes import fake_raw

ROOT = Path(__file__).resolve().parents[2]

HEADLINE = '''import json, pathlib
p = pathlib.Path(workspace) / "headlines" / "{key}.json"
p.parent.mkdir(parents=True, exist_ok=True)
p.write_text(json.dumps({{"figures": {{"n squared": n * n, "ratio": float("nan")}}, "peak_memory_mb": 1536.0}}))
'''

# Throw-away stages over real catalog names (the run records list what each reads and writes).
REGISTRY = (
    Stage("00", "alpha", "Alpha stage", (RAW,), ("inventory",)),
    Stage("01", "beta", "Beta stage", (RAW,), ("orders", "customers")),
    Stage("02", "gamma", "Gamma stage", ("orders",), ("links",)),
)


def make_notebook(path: Path, params: str, *cells: tuple[str, list[str]]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {path.stem}"))
    nb.cells.append(nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}))
    for src, tags in cells:
        nb.cells.append(nbformat.v4.new_code_cell(src, metadata={"tags": tags}))
    nbformat.write(nb, path)
    return path


def ok_notebook(path: Path) -> Path:
    return make_notebook(
        path,
        "workspace = None  # set by run_all\nn = 3  # a number; papermill must not choke on a == in this comment\n",
        ('hidden_marker = "x"\nprint("shown-" + "output")', ["remove-input"]),
        ('print("gone" + "-cell")', ["remove-cell"]),
        ('from clvlib import progress\nprogress.step("working on " + "the stage", 1, 2)', ["remove-input"]),
        (HEADLINE.format(key=path.stem), []),
    )


def failing_notebook(path: Path) -> Path:
    return make_notebook(path, 'workspace = None  # set by run_all\nmode = "strict"  # how to fail\n',
                         ('raise ValueError("beta broke " + "on purpose")', []))




def snapshot(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture()
def nb_dir(tmp_path: Path) -> Path:
    d = tmp_path / "notebooks"
    d.mkdir()
    ok_notebook(d / "00_alpha.ipynb")
    failing_notebook(d / "01_beta.ipynb")
    ok_notebook(d / "02_gamma.ipynb")
    return d


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "outputs" / "olist")
    workspace.adopt(resolve_data_source(fake_raw(tmp_path / "raw"), tmp_path), full_run=True)
    return workspace


# --------------------------------------------------------------------------- stage selection


@pytest.mark.parametrize(
    ("stages", "start", "expected"),
    [
        (None, None, ["00", "01", "02", "03", "04", "05", "06", "07"]),
        ("00,01,03", None, ["00", "01", "03"]),
        ("3,0", None, ["00", "03"]),
        ("02-04", None, ["02", "03", "04"]),
        ("user_mapping", None, ["03"]),
        ("clean_clickstream-hybrid_features,06", None, ["02", "03", "04", "06"]),
        ("05_clv_models", None, ["05"]),
        (None, "03", ["03", "04", "05", "06", "07"]),
        (None, "evaluate", ["06", "07"]),
        ("00-02,05", "01", ["01", "02", "05"]),
        ("01,01,00", None, ["00", "01"]),
    ],
    ids=["all", "list", "short-numbers-any-order", "range", "name", "name-range", "key", "from", "from-name",
         "stages-and-from-overlap", "duplicates"],
)
def test_stage_selection_returns_stages_in_pipeline_order(stages, start, expected):
    assert [s.number for s in parse_stage_selection(stages, start)] == expected


@pytest.mark.parametrize(
    ("stages", "start", "message"),
    [
        ("9", None, r"Unknown stage '9'\. Valid stages: 00 inventory, 01 clean_transactions"),
        ("00,mapping", None, r"Unknown stage 'mapping'.*03 user_mapping"),
        (None, "8", r"Unknown stage '8'"),
        ("04-02", None, r"Stage range '04-02' runs backwards; write it as 02-04"),
        ("02-", None, r"Stage range '02-' needs both ends, e\.g\. 02-04"),
        (" , ", None, r"--stages is empty\. Valid stages: 00 inventory"),
        ("00", "03", r"No stage selected by --stages '00' --from '03'"),
    ],
    ids=["unknown-number", "unknown-name", "unknown-from", "backwards", "open-range", "empty", "empty-overlap"],
)
def test_stage_selection_errors_name_the_problem(stages, start, message):
    with pytest.raises(ValueError, match=message):
        parse_stage_selection(stages, start)


def test_stage_selection_works_on_another_registry():
    assert [s.key for s in parse_stage_selection("beta-gamma", None, REGISTRY)] == ["01_beta", "02_gamma"]


# --------------------------------------------------------------------------- inputs a partial run needs


def test_a_stage_whose_inputs_the_workspace_lacks_is_named_with_the_stage_to_add(ws):
    (problem,) = missing_inputs([stage("06")], ws)[:1]
    assert problem == ("stage 06_evaluate reads data/orders.parquet, which stage 01_clean_transactions "
                       "writes and this workspace does not have yet: add it with --stages 01,06 or --from 01.")
    # every file stage 06 reads (besides the raw files) is named, in the catalog's order
    named = [m.split(" reads ")[1].split(",")[0] for m in missing_inputs([stage("06")], ws)]
    assert named == [dataset(n).path for n in stage("06").reads if n != RAW]
    assert {"data/orders.parquet", "data/clv_scores.parquet", "data/clv_model_params.json"} <= set(named)


def test_inputs_written_earlier_in_the_same_run_or_already_in_the_workspace_are_not_missing(ws):
    assert missing_inputs(parse_stage_selection(None, None), ws) == []
    assert [p.split(" reads ")[1].split(",")[0] for p in missing_inputs(parse_stage_selection("03-04"), ws)] == [
        "data/orders.parquet", "data/orders_info.json", "data/events.parquet",  # 03 reads them
        "data/orders.parquet", "data/orders_info.json", "data/events.parquet",  # and so does 04
    ]
    ws.path("data").mkdir()
    for name in ("orders.parquet", "orders_info.json", "events.parquet"):
        ws.path(f"data/{name}").write_text("x\n")
    assert missing_inputs(parse_stage_selection("03-04"), ws) == []


# --------------------------------------------------------------------------- environment


def test_missing_kernel_error_says_how_to_install_it():
    with pytest.raises(RuntimeError, match=r"Jupyter kernel 'no-such-kernel-xyz' is not installed .*"
                                           r"python -m ipykernel install --user --name no-such-kernel-xyz"):
        check_kernel("no-such-kernel-xyz")


def test_installed_python3_kernel_is_found():
    assert Path(check_kernel("python3")).is_dir()


def test_error_text_is_the_exception_and_its_first_line_or_the_failing_cell():
    assert error_text(ValueError("boom\nmore")) == "ValueError: boom"
    assert error_text(KeyboardInterrupt()) == "KeyboardInterrupt"

    class CellError(Exception):  # what papermill's PapermillExecutionError carries
        ename, evalue, exec_count = "ZeroDivisionError", "division by zero ", 4

    assert error_text(CellError()) == "ZeroDivisionError: division by zero (in cell [4])"


# --------------------------------------------------------------------------- headline, index


def test_headline_missing_or_unreadable_is_empty(tmp_path):
    p = tmp_path / "h.json"
    p.write_text('{"figures": {"a": NaN, "b": 2}}')
    figures = read_headline(p)["figures"]
    assert math.isnan(figures["a"]) and figures["b"] == 2
    assert read_headline(tmp_path / "none.json") == {}
    p.write_text("{broken")
    assert read_headline(p) == {}


def run_record(tmp_path: Path, demo: bool, statuses: list[str]) -> dict:
    data = DataSource(name="demo-500-seed3" if demo else "olist", raw_dir=tmp_path / "raw", demo=demo, files={},
                      demo_info={"n_customers": 500, "seed": 3} if demo else None, fingerprint="f" * 32)
    ws = Workspace(tmp_path / "outputs" / data.name)
    ws.adopt(data, full_run=True)
    config = RunConfig(workspace=ws, notebook_dir=tmp_path, overrides={"n": 2})
    stages = []
    for s, st in zip(REGISTRY, statuses):
        rec = _stage_record(s, st, seconds=1.5, figures={"customers": 12345, "auc": 0.71234})
        if st == "failed":
            rec.update(error="ValueError: boom <b>", failed_html=str(ws.failed_dir / f"{s.key}.html"))
        elif st == "ok":
            rec.update(html=str(ws.path(f"{s.key}.html")))
        stages.append(rec)
    return build_run_record(config, stages, "2025-01-01T10:00:00+00:00", "2025-01-01T10:01:00+00:00", 60)


def test_index_is_self_contained_and_labels_demo_data(tmp_path):
    page = build_index_html(run_record(tmp_path, True, ["ok", "failed", "skipped"]))
    assert "DEMO DATA (synthetic)</strong> — 500 customers, seed 3." in page
    assert "Stage <strong>01_beta</strong> failed; later stages were skipped." in page
    assert 'href="00_alpha.html"' in page and 'href="failed/01_beta.html">report of the failed run' in page
    assert "ValueError: boom &lt;b&gt;" in page  # escaped
    assert "12,345" in page and "0.712" in page
    assert "<code>n=2</code>" in page
    assert ">ok<" in page and ">FAILED<" in page and ">skipped<" in page
    assert "without any shared identifier" not in page  # the demo has a real key: no synthetic-link note
    assert "<script" not in page and 'src="http' not in page and "<link" not in page


def test_index_names_the_real_data_folder_and_the_synthetic_link(tmp_path):
    page = build_index_html(run_record(tmp_path, False, ["ok", "ok", "ok"]))
    assert f"Data: Kaggle data at {tmp_path / 'raw'}</div>" in page and "DEMO DATA" not in page
    assert "A rank or random link pairs customers with clickstream users without any shared identifier" in page
    assert "3 stage(s) ran without error." in page


# --------------------------------------------------------------------------- the pipeline (runs kernels)


def test_pipeline_keeps_the_failure_apart_skips_later_stages_and_writes_the_index(ws, nb_dir):
    ws.path("01_beta.html").write_text("<p>last good beta</p>")  # a good report from an earlier run
    config = RunConfig(workspace=ws, notebook_dir=nb_dir, timeout=60, overrides={"n": 5})
    lines: list[str] = []
    record = run_pipeline(list(REGISTRY), config, registry=REGISTRY,
                          echo=lambda text, end="\n": lines.append(text + end))
    console = "".join(lines)

    assert record["status"] == "failed" and record["failed_stage"] == "01_beta"
    alpha, beta, gamma = record["stages"]
    assert [alpha["status"], beta["status"], gamma["status"]] == ["ok", "failed", "skipped"]
    assert "[00/02] alpha ... ok (" in console and "[01/02] beta ... FAILED (" in console
    assert re.search(r"\[00/02\] alpha \.\.\. ok \([0-9.]+ s, peak 1\.5 GB\)", console)  # the kernel's own figure
    # what the kernel reported through clvlib.progress reaches the console, and only the console
    assert "[00/02] alpha ... \n        working on the stage (1/2)\n[00/02] alpha ... ok (" in console
    assert "        ValueError: beta broke on purpose (in cell [3])\n" in console  # [1] defaults, [2] injected
    assert f"the last good report stays at {ws.path('01_beta.html')}" in console
    assert "[02/02] gamma ... skipped (stage 01_beta failed)" in console
    assert "Summary: 1 ok, 1 failed, 1 skipped" in console

    # the ok stage: the workspace and only its own overrides injected; headline read (NaN -> null)
    assert alpha["parameters"] == {"workspace": str(ws.folder.resolve()), "n": 5}
    assert alpha["figures"] == {"n squared": 25, "ratio": None} and alpha["peak_memory_mb"] == 1536.0
    assert beta["peak_memory_mb"] is None  # a failed stage wrote no headline
    assert alpha["writes"] == ["data/inventory.json"] and alpha["html"] == str(ws.path("00_alpha.html"))
    assert Path(alpha["executed_notebook"]) == ws.executed_dir / "00_alpha.ipynb"
    html = ws.path("00_alpha.html").read_text()
    assert "shown-output" in html and "hidden_marker" not in html  # remove-input
    assert "gone-cell" not in html  # remove-cell
    assert "working on the stage" not in html  # progress goes to the console, not into the report
    assert "# Parameters" not in html  # papermill's injected cell: input hidden
    assert "a number; papermill" not in html  # the defaults cell too (each report shows a table instead)

    # the failed stage: its notebook and report in failed/, the last good report left in place
    assert beta["parameters"] == {"workspace": str(ws.folder.resolve())}
    assert beta["error"] == "ValueError: beta broke on purpose (in cell [3])"
    assert Path(beta["executed_notebook"]) == ws.failed_dir / "01_beta.ipynb"
    assert Path(beta["failed_html"]) == ws.failed_dir / "01_beta.html"
    assert "This stage failed." in (ws.failed_dir / "01_beta.html").read_text()
    assert "beta broke on purpose" in (ws.failed_dir / "01_beta.html").read_text()
    assert ws.path("01_beta.html").read_text() == "<p>last good beta</p>"
    assert beta["html"] == str(ws.path("01_beta.html"))
    assert beta["last_good"]["status"] == "ok"
    assert not ws.path("02_gamma.html").exists()
    assert sorted(p.name for p in ws.executed_dir.iterdir()) == ["00_alpha.ipynb"]  # no half-written notebook

    run = json.loads(ws.path("run.json").read_text())
    assert run["status"] == "failed" and run["failed_stage"] == "01_beta" and run["workspace"] == "olist"
    assert [s["status"] for s in run["stages"]] == ["ok", "failed", "skipped"]
    assert run["overrides"] == {"n": 5} and run["data_source"]["demo"] is False
    assert run["environment"]["versions"]["papermill"]
    assert len(list(ws.runs_dir.glob("*.json"))) == 1
    index = ws.path("index.html").read_text()
    assert ">FAILED<" in index and 'href="00_alpha.html"' in index and 'href="failed/01_beta.html"' in index
    assert 'href="olist/index.html"' in (ws.folder.parent / "index.html").read_text()  # the list of workspaces
    assert json.loads((ws.folder.parent / "latest.json").read_text()) == {"workspace": ws.name}

    # a later run that selects nothing keeps pointing at the earlier reports
    again = run_pipeline([], config, registry=REGISTRY, echo=lambda *a, **k: None)
    assert [s["status"] for s in again["stages"]] == ["not run"] * 3
    assert again["stages"][0]["earlier"]["status"] == "ok"
    assert again["stages"][0]["earlier"]["figures"] == {"n squared": 25, "ratio": None}
    assert again["stages"][1]["earlier"]["html"] == str(ws.path("01_beta.html"))
    assert again["stages"][2]["earlier"] is None
    assert "report from an earlier run (ok," in ws.path("index.html").read_text()


# --------------------------------------------------------------------------- run_all.main (no kernels)


def test_main_refuses_an_unknown_parameter_before_running_anything(tmp_path, nb_dir, capsys):
    code = run_all.main(["--notebook-dir", str(nb_dir), "--out-root", str(tmp_path / "out"),
                         "--raw-dir", str(fake_raw(tmp_path / "raw")), "--stages", "00", "-p", "n_splits", "3"],
                        registry=REGISTRY)
    err = capsys.readouterr().err
    assert code == 2
    assert "Unknown parameter(s) n_splits" in err and "Valid names: n." in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("horizon_months", "three", "-p horizon_months 'three': expected an int (the str given does not fit; stage "
                                    "03_user_mapping declares horizon_months = 6), e.g. -p horizon_months 6."),
        ("cutoff", "20180228", "-p cutoff 20180228: expected a day written YYYY-MM-DD (a string), e.g. -p cutoff "
                               "2018-02-28 (stage 03_user_mapping declares cutoff = None)."),
    ],
    ids=["word-for-months", "day-without-dashes"],
)
def test_main_refuses_a_value_of_the_wrong_type_and_writes_nothing(tmp_path, capsys, name, value, message):
    raw = fake_raw(tmp_path / "raw")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("already here")
    before = snapshot(tmp_path)
    code = run_all.main(["--out-root", str(tmp_path / "out"), "--raw-dir", str(raw), "--stages", "03-05",
                         "-p", name, value])
    assert code == 2
    assert capsys.readouterr().err == f"run_all: error: {message}\n"
    assert snapshot(tmp_path) == before


def test_main_refuses_a_stage_whose_inputs_the_workspace_lacks(tmp_path, capsys):
    out = tmp_path / "out"
    code = run_all.main(["--out-root", str(out), "--raw-dir", str(fake_raw(tmp_path / "raw")), "--stages", "04"])
    err = capsys.readouterr().err
    assert code == 2
    assert "this run cannot start:" in err
    assert ("stage 04_hybrid_features reads data/user_links.parquet, which stage 03_user_mapping writes and this "
            "workspace does not have yet: add it with --stages 03,04 or --from 03.") in err
    assert not (out / "outputs" / "olist" / ".lock").exists()


def test_main_refuses_a_partial_run_that_would_mix_two_datasets(tmp_path, capsys):
    out = tmp_path / "out"
    Workspace(out / "outputs" / "olist").adopt(resolve_data_source(fake_raw(tmp_path / "raw1"), out), full_run=True)
    code = run_all.main(["--out-root", str(out), "--raw-dir", str(fake_raw(tmp_path / "raw2", "a,b\n3,4\n")),
                         "--stages", "00"])
    err = capsys.readouterr().err
    assert code == 2
    assert "A partial run would mix the two. Run every stage to start this workspace afresh" in err
    assert Workspace(out / "outputs" / "olist").source().raw_dir == tmp_path / "raw1"
    assert not (out / "outputs" / "olist" / ".lock").exists()


def test_main_list_shows_what_each_stage_reads_writes_and_its_parameters(nb_dir, capsys):
    assert run_all.main(["--notebook-dir", str(nb_dir), "--list"], registry=REGISTRY) == 0
    out = capsys.readouterr().out
    assert "00 alpha" in out and "02 gamma" in out
    assert "reads raw files; writes data/inventory.json" in out
    assert "-p n 3  # a number" in out and '-p mode "strict"  # how to fail' in out
    assert "-p workspace" not in out


# --------------------------------------------------------------------------- python run_all.py


def test_cli_help_works_from_any_directory(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "run_all.py"), "--help"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for text in ("--raw-dir PATH", "--demo-size N", "-p NAME VALUE", "--stages LIST", "--from STAGE",
                 "--workspace NAME", "--out-root DIR", "--timeout SECONDS", "--kernel NAME", "--list",
                 "03 user_mapping", "examples:"):
        assert text in proc.stdout
    assert "--notebook-dir" not in proc.stdout


def test_cli_exits_non_zero_naming_the_failed_stage(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    failing_notebook(nbs / "01_clean_transactions.ipynb")
    ok_notebook(nbs / "02_clean_clickstream.ipynb")
    raw = fake_raw(tmp_path / "raw")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run_all.py"), "--notebook-dir", str(nbs), "--raw-dir", str(raw),
         "--out-root", str(out), "--stages", "01,02", "--timeout", "60", "-p", "mode", "lenient"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    ws = out / "outputs" / "olist"
    last = proc.stderr.strip().splitlines()[-1]
    assert last == f"run_all: stage 01_clean_transactions failed; see {ws / 'failed' / '01_clean_transactions.html'}"
    assert f"Using Kaggle data at {raw}" in proc.stdout
    assert "[01/07] clean_transactions ... FAILED" in proc.stdout
    assert "[02/07] clean_clickstream ... skipped (stage 01_clean_transactions failed)" in proc.stdout
    run = json.loads((ws / "run.json").read_text())
    assert [s["status"] for s in run["stages"]] == ["not run", "failed", "skipped", "not run", "not run", "not run",
                                                    "not run", "not run"]
    assert run["stages"][1]["parameters"]["mode"] == "lenient"
    assert not (ws / ".lock").exists()
    assert run["stages"][1]["error"].startswith("ValueError: beta broke on purpose")
