"""Tests of clvlib.runner and run_all.py on tiny throw-away notebooks.

The pipeline tests start real kernels (about 2 s each); they run two notebooks
in-process through ``run_pipeline`` and two through ``python run_all.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run_all.py and clvlib, uninstalled

from clvlib import runner  # noqa: E402
from clvlib.schemas import DEMO_MARKER, EXPECTED_FILES
from clvlib.paths import project_root  # noqa: E402
from clvlib.pipeline.runner import Stage  # noqa: E402

ROOT = project_root()

PARAMS = '''raw_dir = "data/raw"  # raw folder
processed_dir = "data/processed"  # processed folder
outputs_dir = "outputs"  # outputs folder
truth_dir = None  # demo truth
'''

HEADLINE = '''import json, pathlib
p = pathlib.Path(outputs_dir) / "headlines" / "{key}.json"
p.parent.mkdir(parents=True, exist_ok=True)
p.write_text(json.dumps({{"figures": {{"n squared": n * n, "ratio": float("nan")}},
                         "inputs": [raw_dir], "outputs": [processed_dir], "demo": False}}))
'''


def make_notebook(path: Path, params: str, *cells: tuple[str, list[str]]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {path.stem}"))
    nb.cells.append(nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}))
    for src, tags in cells:
        nb.cells.append(nbformat.v4.new_code_cell(src, metadata={"tags": tags}))
    nbformat.write(nb, path)
    return path


def ok_notebook(path: Path, key: str) -> Path:
    return make_notebook(
        path,
        PARAMS + "n = 3  # a number; papermill must not choke on a == in this comment\n",
        ('hidden_marker = "x"\nprint("shown-" + "output")', ["remove-input"]),
        ('print("gone" + "-cell")', ["remove-cell"]),
        (HEADLINE.format(key=key), []),
    )


def failing_notebook(path: Path) -> Path:
    return make_notebook(path, PARAMS + 'mode = "strict"  # how to fail\n',
                         ('raise ValueError("beta broke " + "on purpose")', []))


def fake_raw(folder: Path) -> Path:
    for name in EXPECTED_FILES.values():
        (folder / "kaggle" / "nested").mkdir(parents=True, exist_ok=True)
        (folder / "kaggle" / "nested" / name).write_text("a,b\n1,2\n")
    return folder


REGISTRY = (
    Stage("00", "alpha", "00_alpha.ipynb", "Alpha stage"),
    Stage("01", "beta", "01_beta.ipynb", "Beta stage", ("00",)),
    Stage("02", "gamma", "02_gamma.ipynb", "Gamma stage", ("01",)),
)


@pytest.fixture()
def nb_dir(tmp_path: Path) -> Path:
    d = tmp_path / "notebooks"
    d.mkdir()
    ok_notebook(d / "00_alpha.ipynb", "00_alpha")
    failing_notebook(d / "01_beta.ipynb")
    ok_notebook(d / "02_gamma.ipynb", "02_gamma")
    return d


# --------------------------------------------------------------------------- stage selection


@pytest.mark.parametrize(
    ("stages", "start", "expected"),
    [
        (None, None, ["00", "01", "02", "03", "04", "05", "06"]),
        ("00,01,03", None, ["00", "01", "03"]),
        ("3,0", None, ["00", "03"]),
        ("02-04", None, ["02", "03", "04"]),
        ("user_mapping", None, ["03"]),
        ("clean_clickstream-hybrid_features,06", None, ["02", "03", "04", "06"]),
        ("05_clv_models", None, ["05"]),
        (None, "03", ["03", "04", "05", "06"]),
        (None, "evaluate", ["06"]),
        ("00-02,05", "01", ["01", "02", "05"]),
        ("01,01,00", None, ["00", "01"]),
    ],
    ids=["all", "list", "short-numbers-any-order", "range", "name", "name-range", "key", "from", "from-name",
         "stages-and-from-overlap", "duplicates"],
)
def test_stage_selection_returns_stages_in_pipeline_order(stages, start, expected):
    assert [s.number for s in runner.parse_stage_selection(stages, start)] == expected


@pytest.mark.parametrize(
    ("stages", "start", "message"),
    [
        ("9", None, r"Unknown stage '9'\. Valid stages: 00 inventory, 01 clean_transactions"),
        ("00,mapping", None, r"Unknown stage 'mapping'.*03 user_mapping"),
        (None, "7", r"Unknown stage '7'"),
        ("04-02", None, r"runs backwards; write it as 02-04"),
        ("02-", None, r"needs both ends"),
        (" , ", None, r"--stages is empty"),
        ("00", "03", r"No stage selected"),
    ],
    ids=["unknown-number", "unknown-name", "unknown-from", "backwards", "open-range", "empty", "empty-overlap"],
)
def test_stage_selection_errors_name_the_problem(stages, start, message):
    with pytest.raises(ValueError, match=message):
        runner.parse_stage_selection(stages, start)


def test_registry_is_the_seven_stages_with_unique_files():
    assert [s.key for s in runner.STAGES] == [
        "00_inventory", "01_clean_transactions", "02_clean_clickstream", "03_user_mapping",
        "04_hybrid_features", "05_clv_models", "06_evaluate",
    ]
    assert runner.STAGES[0].notebook == "00_inventory.ipynb" and runner.STAGES[0].title == "Data inventory"
    numbers = [s.number for s in runner.STAGES]
    for s in runner.STAGES:
        assert s.notebook == f"{s.key}.ipynb"
        assert all(d in numbers and d < s.number for d in s.depends_on)


# --------------------------------------------------------------------------- -p values


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5", 5),
        ("-2", -2),
        ("0.25", 0.25),
        ("1e3", 1000.0),
        ("[1, 2]", [1, 2]),
        ('["delivered", "shipped"]', ["delivered", "shipped"]),
        ("(1, 2)", [1, 2]),
        ('{"a": 1}', {"a": 1}),
        ("None", None),
        ("null", None),
        ("True", True),
        ("false", False),
        ("'05'", "05"),
        ("rank", "rank"),
        ("2018-02-28", "2018-02-28"),
        ("data/raw", "data/raw"),
        ("{1, 2}", "{1, 2}"),
        ("", ""),
    ],
    ids=["int", "negative", "float", "exponent", "list", "list-of-str", "tuple-to-list", "dict", "None", "json-null",
         "True", "json-false", "quoted-str", "bare-str", "date", "path", "set-stays-str", "empty"],
)
def test_param_values_are_literals_when_they_parse_else_strings(text, value):
    parsed = runner.parse_param_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_parse_overrides_keeps_the_last_value_and_rejects_bad_names():
    assert runner.parse_overrides([("n", "1"), ("method", "random"), ("n", "2")]) == {"n": 2, "method": "random"}
    with pytest.raises(ValueError, match=r"'bad-name'.*identifier"):
        runner.parse_overrides([("bad-name", "1")])


# --------------------------------------------------------------------------- declared parameters


def test_notebook_parameters_reads_defaults_help_and_lines_papermill_skips(tmp_path):
    path = make_notebook(
        tmp_path / "x.ipynb",
        'raw_dir = None  # None = data/raw if present\nn_splits = 5  # folds\nrate: float = 0.1\n',
    )
    params = runner.notebook_parameters(path)
    assert list(params) == ["raw_dir", "n_splits", "rate"]
    assert params["raw_dir"]["help"] == "None = data/raw if present"  # papermill alone drops this line
    assert params["n_splits"]["default"] == "5" and params["n_splits"]["type"] == "int"
    assert params["n_splits"]["help"] == "folds"
    assert params["rate"]["type"] == "float"


def test_notebook_without_parameters_cell_declares_nothing(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("x = 1"))
    nbformat.write(nb, tmp_path / "y.ipynb")
    assert runner.notebook_parameters(tmp_path / "y.ipynb") == {}


def test_declared_parameters_names_every_missing_notebook(nb_dir):
    stages = [*REGISTRY, Stage("03", "delta", "03_delta.ipynb", "Delta"), Stage("04", "eps", "04_eps.ipynb", "E")]
    with pytest.raises(FileNotFoundError, match=r"03_delta\.ipynb.*04_eps\.ipynb"):
        runner.declared_parameters(stages, nb_dir)


def test_unknown_parameter_is_an_error_naming_it_and_the_valid_names(nb_dir):
    declared = runner.declared_parameters(REGISTRY[:2], nb_dir)
    with pytest.raises(ValueError, match=r"Unknown parameter\(s\) n_splits: .*Valid names: mode, n\b"):
        runner.validate_overrides({"n": 2, "n_splits": 5}, declared)


def test_runner_owned_parameters_cannot_be_overridden():
    with pytest.raises(ValueError, match=r"-p cannot set raw_dir.*use --raw-dir"):
        runner.validate_overrides({"raw_dir": "/x"}, {"00_a": {"raw_dir": {}}})


def test_override_of_another_type_warns(nb_dir):
    declared = runner.declared_parameters(REGISTRY[:1], nb_dir)
    assert runner.validate_overrides({"n": 4}, declared) == []
    (warning,) = runner.validate_overrides({"n": "four"}, declared)
    assert "-p n='four' is a str, but 00_alpha declares n = 3 (int)" in warning


def test_stage_parameters_pass_only_what_the_notebook_declares():
    paths = {"raw_dir": "/r", "processed_dir": "/p", "outputs_dir": "/o", "truth_dir": None}
    got = runner.stage_parameters(["raw_dir", "truth_dir", "n"], paths, {"n": 2, "method": "rank"})
    assert got == {"raw_dir": "/r", "truth_dir": None, "n": 2}


def test_dependency_warning_when_upstream_neither_selected_nor_run(tmp_path):
    (w,) = runner.dependency_warnings([REGISTRY[2]], REGISTRY, tmp_path)
    assert "02_gamma reads the outputs of 01_beta" in w
    (tmp_path / "01_beta.json").write_text("{}")
    assert runner.dependency_warnings([REGISTRY[2]], REGISTRY, tmp_path) == []
    assert runner.dependency_warnings(list(REGISTRY), REGISTRY, tmp_path / "nothing") == []


# --------------------------------------------------------------------------- environment & data


def test_missing_kernel_error_says_how_to_install_it():
    with pytest.raises(RuntimeError, match=r"'no-such-kernel-xyz' is not installed.*ipykernel install --user"):
        runner.check_kernel("no-such-kernel-xyz")


def test_installed_python3_kernel_is_found():
    assert runner.check_kernel("python3")


def test_raw_dir_with_missing_files_is_reported_with_its_path(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "olist_orders_dataset.csv").write_text("a\n1\n")
    with pytest.raises(FileNotFoundError, match=rf"Missing raw file\(s\) under {raw}.*olist_customers_dataset"):
        runner.resolve_data_source(raw, tmp_path / "out")


def test_raw_dir_finds_files_at_any_depth(tmp_path):
    data = runner.resolve_data_source(fake_raw(tmp_path / "raw"), tmp_path / "out")
    assert not data.demo and data.truth_dir is None
    assert data.files["orders"].parent.name == "nested"
    assert data.label == f"Kaggle data at {tmp_path / 'raw'}"


def test_raw_dir_and_demo_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="either --raw-dir or --demo"):
        runner.resolve_data_source(tmp_path, tmp_path, demo=True)


def test_demo_data_is_generated_once_per_size_and_seed(tmp_path):
    calls = []

    def generate(out_dir, n_customers, seed, truth_dir):
        calls.append((n_customers, seed))
        fake_raw(Path(out_dir))
        Path(truth_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / DEMO_MARKER).write_text(json.dumps({"n_customers": n_customers, "seed": seed}))

    out = tmp_path / "out"
    first = runner.resolve_data_source(None, out, demo=True, demo_size=100, seed=1, generate=generate)
    assert first.demo and first.generated and first.label == "DEMO DATA (synthetic)"
    assert first.raw_dir == out / "data" / "demo" / "raw" and first.truth_dir == out / "data" / "demo" / "truth"
    again = runner.resolve_data_source(None, out, demo=True, demo_size=100, seed=1, generate=generate)
    assert not again.generated
    runner.resolve_data_source(None, out, demo=True, demo_size=100, seed=2, generate=generate)
    assert calls == [(100, 1), (100, 2)]
    # a folder with the marker, passed as --raw-dir, counts as demo data with its truth
    given = runner.resolve_data_source(out / "data" / "demo" / "raw", out)
    assert given.demo and given.truth_dir == out / "data" / "demo" / "truth"


# --------------------------------------------------------------------------- headline, index


def test_headline_nan_becomes_null_and_missing_file_is_none(tmp_path):
    p = tmp_path / "h.json"
    p.write_text('{"figures": {"a": NaN, "b": 2}, "inputs": ["x"], "demo": true}')
    assert runner.read_headline(p) == {"figures": {"a": None, "b": 2}, "inputs": ["x"], "outputs": [], "demo": True}
    assert runner.read_headline(tmp_path / "none.json") is None
    p.write_text("{broken")
    assert "unreadable" in runner.read_headline(p)["error"]


def _record(tmp_path, demo: bool, statuses: list[str]) -> dict:
    data = runner.DataSource(tmp_path / "raw", demo, None, {}, {"n_customers": 500, "seed": 3} if demo else None)
    config = runner.RunConfig(out_root=tmp_path, data=data, notebook_dir=tmp_path, overrides={"n": 2})
    stages = []
    for s, st in zip(REGISTRY, statuses):
        rec = runner._stage_record(s, st, seconds=1.5, figures={"customers": 12345, "auc": 0.71234})
        if st == "failed":
            rec.update(error="ValueError: boom <b>", html=str(tmp_path / "outputs" / s.html_name))
        stages.append(rec)
    return runner.build_run_record(config, stages, "2025-01-01T10:00:00+00:00", "2025-01-01T10:01:00+00:00", 60)


def test_index_is_self_contained_and_labels_demo_data(tmp_path):
    page = runner.build_index_html(_record(tmp_path, True, ["ok", "failed", "skipped"]))
    assert "DEMO DATA (synthetic)" in page and "500 customers, seed 3" in page
    assert "Stage <strong>01_beta</strong> failed" in page
    assert 'href="01_beta.html"' in page
    assert "ValueError: boom &lt;b&gt;" in page  # escaped
    assert "12,345" in page and "0.712" in page
    assert "Any link between a customer and a clickstream user is synthetic" in page
    assert "<script" not in page and 'src="http' not in page and "<link" not in page
    for label in ("ok", "FAILED", "skipped", "not run"):
        assert label in page or label == "not run"


def test_index_names_the_real_data_folder(tmp_path):
    page = runner.build_index_html(_record(tmp_path, False, ["ok", "ok", "ok"]))
    assert f"real Kaggle data at <code>{tmp_path / 'raw'}</code>" in page and "DEMO DATA" not in page
    assert "3 stage(s) ran without error" in page


# --------------------------------------------------------------------------- the pipeline (runs kernels)


def test_pipeline_renders_the_failure_skips_later_stages_and_writes_the_index(tmp_path, nb_dir):
    data = runner.resolve_data_source(fake_raw(tmp_path / "raw"), tmp_path / "out")
    config = runner.RunConfig(out_root=tmp_path / "out", data=data, notebook_dir=nb_dir, timeout=60,
                              overrides={"n": 5})
    lines: list[str] = []
    record = runner.run_pipeline(list(REGISTRY), config, registry=REGISTRY,
                                 echo=lambda text, end="\n": lines.append(text + end))
    out = tmp_path / "out" / "outputs"
    console = "".join(lines)

    assert record["status"] == "failed" and record["failed_stage"] == "01_beta"
    alpha, beta, gamma = record["stages"]
    assert [alpha["status"], beta["status"], gamma["status"]] == ["ok", "failed", "skipped"]
    assert "[00/02] alpha ... ok (" in console and "[01/02] beta ... FAILED (" in console
    assert "[02/02] gamma ... skipped" in console and "Summary: 1 ok, 1 failed, 1 skipped" in console

    # the ok stage: absolute paths and only its own overrides injected, headline read (NaN -> null)
    assert alpha["parameters"] == {"raw_dir": str(tmp_path / "raw"), "processed_dir": str(tmp_path / "out/data/processed"),
                                   "outputs_dir": str(out), "truth_dir": None, "n": 5}
    assert alpha["figures"] == {"n squared": 25, "ratio": None}
    assert alpha["inputs"] == [str(tmp_path / "raw")]
    html = (out / "00_alpha.html").read_text()
    assert "shown-output" in html and "hidden_marker" not in html  # remove-input
    assert "gone-cell" not in html  # remove-cell
    assert "# Parameters" not in html  # papermill's injected cell: input hidden
    assert "a number; papermill" not in html  # the defaults cell too (each report shows a table instead)

    # the failed stage: executed notebook and HTML exist and show the error
    assert "n" not in beta["parameters"]
    assert beta["error"].startswith("ValueError: beta broke on purpose")
    assert Path(beta["executed_notebook"]) == out / "notebooks" / "01_beta.ipynb"
    assert "beta broke on purpose" in (out / "notebooks" / "01_beta.ipynb").read_text()
    assert Path(beta["html"]) == out / "01_beta.html"
    assert "beta broke on purpose" in (out / "01_beta.html").read_text()
    assert not (out / "02_gamma.html").exists()

    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "failed" and run["failed_stage"] == "01_beta"
    assert [s["status"] for s in run["stages"]] == ["ok", "failed", "skipped"]
    assert run["overrides"] == {"n": 5} and run["data_source"]["demo"] is False
    assert run["environment"]["versions"]["papermill"]
    index = (out / "index.html").read_text()
    assert "FAILED" in index and "01_beta" in index and 'href="00_alpha.html"' in index

    # a later run that selects nothing keeps pointing at the earlier reports
    again = runner.run_pipeline([], config, registry=REGISTRY, echo=lambda *a, **k: None)
    assert [s["status"] for s in again["stages"]] == ["not run"] * 3
    assert again["stages"][0]["earlier"]["status"] == "ok"
    assert again["stages"][0]["earlier"]["figures"] == {"n squared": 25, "ratio": None}
    assert again["stages"][2]["earlier"] is None
    assert "report from an earlier run (ok," in (out / "index.html").read_text()


def test_main_refuses_an_unknown_parameter_before_running_anything(tmp_path, nb_dir, capsys):
    import run_all

    code = run_all.main(["--notebook-dir", str(nb_dir), "--out-root", str(tmp_path / "out"),
                         "--raw-dir", str(fake_raw(tmp_path / "raw")), "--stages", "00", "-p", "n_splits", "3"],
                        registry=REGISTRY)
    err = capsys.readouterr().err
    assert code == 2
    assert "Unknown parameter(s) n_splits" in err and "Valid names: n." in err
    assert not (tmp_path / "out" / "outputs").exists()


def test_main_list_shows_parameters_with_defaults_and_help(nb_dir, capsys):
    import run_all

    assert run_all.main(["--notebook-dir", str(nb_dir), "--list"], registry=REGISTRY) == 0
    out = capsys.readouterr().out
    assert "00 alpha" in out and "-p n 3  # a number" in out and '-p mode "strict"  # how to fail' in out
    assert "raw_dir, processed_dir, outputs_dir, truth_dir: set by run_all" in out


def test_cli_help_works_from_any_directory(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "run_all.py"), "--help"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for text in ("--raw-dir PATH", "--demo-size N", "-p NAME VALUE", "--stages LIST", "--from STAGE",
                 "--out-root DIR", "--timeout SECONDS", "--list", "03 user_mapping", "examples:"):
        assert text in proc.stdout
    assert "--notebook-dir" not in proc.stdout


def test_cli_exits_non_zero_naming_the_failed_stage(tmp_path):
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    ok_notebook(nbs / "00_inventory.ipynb", "00_inventory")
    failing_notebook(nbs / "01_clean_transactions.ipynb")
    ok_notebook(nbs / "02_clean_clickstream.ipynb", "02_clean_clickstream")
    raw = fake_raw(tmp_path / "raw")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run_all.py"), "--notebook-dir", str(nbs), "--raw-dir", str(raw),
         "--out-root", str(tmp_path / "out"), "--stages", "00,01,02", "--timeout", "60", "-p", "n", "4"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "01_clean_transactions" in last and "01_clean_transactions.html" in last
    assert "[00/06] inventory ... ok" in proc.stdout and "[01/06] clean_transactions ... FAILED" in proc.stdout
    assert "[02/06] clean_clickstream ... skipped" in proc.stdout
    assert f"Using Kaggle data at {raw}" in proc.stdout
    run = json.loads((tmp_path / "out" / "outputs" / "run.json").read_text())
    assert [s["status"] for s in run["stages"]][:4] == ["ok", "failed", "skipped", "not run"]
    assert run["stages"][0]["figures"]["n squared"] == 16
