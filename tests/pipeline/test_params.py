"""Notebook parameters (clvlib.pipeline.params): -p values parsed as literals, declared parameters read
from the notebooks, and overrides refused when the name or the value does not fit."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from clvlib.pipeline.catalog import Stage
from clvlib.pipeline.params import (
    check_value,
    declared_parameters,
    notebook_parameters,
    parse_overrides,
    parse_param_value,
    stage_parameters,
    validate_overrides,
)

# Like stage 03's parameters cell, trimmed to one of each kind.
MAPPING_PARAMS = '''workspace = None  # workspace folder; run_all sets it
cutoff = "2018-02-28"  # last day of the calibration period
analysis_date = None  # last day included; None: the end of the last complete month
horizon_months = 6  # length of the prediction window
annual_discount_rate = 0.10  # discount rate
link_methods = ["rank", "random"]  # synthetic links to build
order_statuses = ["delivered"]  # statuses that count as a sale; None keeps all
fit_method = "map"  # "map" or "mcmc"
'''


def make_notebook(path: Path, params: str | None, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if params is not None:
        nb.cells.append(nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}))
    for src in cells:
        nb.cells.append(nbformat.v4.new_code_cell(src))
    nbformat.write(nb, path)
    return path


@pytest.fixture()
def declared(tmp_path: Path) -> dict:
    make_notebook(tmp_path / "03_mapping.ipynb", MAPPING_PARAMS)
    make_notebook(tmp_path / "06_last.ipynb", 'workspace = None  # set by run_all\nn_boot = 1000  # resamples\n')
    stages = [Stage("03", "mapping", "Mapping", (), ()), Stage("06", "last", "Last", (), ())]
    return declared_parameters(stages, tmp_path)


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
    parsed = parse_param_value(text)
    assert parsed == value and type(parsed) is type(value)


def test_parse_overrides_keeps_the_last_value_of_a_name_given_twice():
    assert parse_overrides([("n", "1"), ("method", "random"), ("n", "2")]) == {"n": 2, "method": "random"}
    assert parse_overrides(None) == {}


def test_parse_overrides_refuses_a_name_that_is_not_an_identifier():
    with pytest.raises(ValueError, match=r"-p 'bad-name': a parameter name must be a Python identifier"):
        parse_overrides([("bad-name", "1")])


# --------------------------------------------------------------------------- declared parameters


def test_notebook_parameters_reads_defaults_help_and_lines_papermill_skips(tmp_path):
    path = make_notebook(
        tmp_path / "x.ipynb",
        'raw_dir = None  # None = data/raw if present\nn_splits = 5  # folds\nrate: float = 0.1\n',
    )
    params = notebook_parameters(path)
    assert list(params) == ["raw_dir", "n_splits", "rate"]
    assert params["raw_dir"]["help"] == "None = data/raw if present"  # papermill alone drops this line
    assert params["raw_dir"]["default"] == "None" and params["raw_dir"]["type"] is None
    assert params["n_splits"]["default"] == "5" and params["n_splits"]["type"] == "int"
    assert params["n_splits"]["help"] == "folds"
    assert params["rate"]["type"] == "float"


def test_notebook_without_parameters_cell_declares_nothing(tmp_path):
    assert notebook_parameters(make_notebook(tmp_path / "y.ipynb", None, "x = 1")) == {}


def test_a_parameters_cell_that_is_not_python_is_an_error_naming_the_notebook(tmp_path):
    path = make_notebook(tmp_path / "z.ipynb", "n = = 3\n")
    with pytest.raises(ValueError, match=r"z\.ipynb: the parameters cell is not valid Python"):
        notebook_parameters(path)


def test_a_missing_notebook_is_an_error_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Notebook .*nothing\.ipynb not found"):
        notebook_parameters(tmp_path / "nothing.ipynb")


def test_declared_parameters_names_every_missing_notebook(tmp_path):
    make_notebook(tmp_path / "00_alpha.ipynb", "n = 3  # a number\n")
    stages = [Stage("00", "alpha", "A", (), ()), Stage("03", "delta", "D", (), ()), Stage("04", "eps", "E", (), ())]
    with pytest.raises(FileNotFoundError, match=r"Notebook\(s\) not found: .*03_delta\.ipynb, .*04_eps\.ipynb"):
        declared_parameters(stages, tmp_path)


def test_declared_parameters_are_keyed_by_stage(declared):
    assert list(declared) == ["03_mapping", "06_last"]
    assert declared["06_last"]["n_boot"]["default"] == "1000"


# --------------------------------------------------------------------------- overrides: names


def test_valid_overrides_pass(declared):
    ok = {"cutoff": "2017-12-31", "horizon_months": 3, "annual_discount_rate": 0, "link_methods": ["random"],
          "order_statuses": None, "analysis_date": None, "n_boot": 10, "fit_method": "mcmc"}
    assert validate_overrides(ok, declared) is None


def test_unknown_parameter_is_an_error_naming_it_and_the_valid_names(declared):
    with pytest.raises(ValueError, match=r"Unknown parameter\(s\) n_splits: no selected notebook declares it\. "
                                         r"Valid names: analysis_date, .*, n_boot, order_statuses\. "
                                         r"See python run_all.py --list"):
        validate_overrides({"horizon_months": 2, "n_splits": 5}, declared)


def test_the_workspace_parameter_cannot_be_overridden(declared):
    with pytest.raises(ValueError, match=r"-p cannot set workspace: run_all sets it "
                                         r"\(workspace: use --workspace, --raw-dir or --demo\)"):
        validate_overrides({"workspace": "/x"}, declared)


# --------------------------------------------------------------------------- overrides: values


def test_a_word_for_an_integer_is_refused_naming_the_parameter_the_type_and_an_example(declared):
    overrides = parse_overrides([("horizon_months", "three")])
    assert overrides == {"horizon_months": "three"}
    with pytest.raises(ValueError, match=r"-p horizon_months 'three': expected an int \(the str given does not "
                                         r"fit; stage 03_mapping declares horizon_months = 6\), "
                                         r"e\.g\. -p horizon_months 6\."):
        validate_overrides(overrides, declared)


def test_a_day_without_dashes_is_refused_naming_the_parameter_the_format_and_an_example(declared):
    overrides = parse_overrides([("cutoff", "20180228")])
    assert overrides == {"cutoff": 20180228}  # parsed as an int, so it cannot pass as a day
    with pytest.raises(ValueError, match=r"-p cutoff 20180228: expected a day written YYYY-MM-DD \(a string\), "
                                         r"e\.g\. -p cutoff 2018-02-28"):
        validate_overrides(overrides, declared)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("cutoff", "2018-02-30", r"-p cutoff '2018-02-30': not a valid day, e\.g\. -p cutoff 2018-02-28"),
        ("cutoff", None, r"-p cutoff None: expected a day written YYYY-MM-DD"),
        ("horizon_months", 0, r"-p horizon_months 0: must be at least 1"),
        ("horizon_months", True, r"-p horizon_months True: expected an int \(the bool given"),
        ("horizon_months", 6.5, r"-p horizon_months 6\.5: expected an int .* e\.g\. -p horizon_months 6"),
        ("horizon_months", None, r"-p horizon_months None: horizon_months cannot be None"),
        ("annual_discount_rate", "ten", r"expected a float .* e\.g\. -p annual_discount_rate 0\.1"),
        ("link_methods", "rank",
         r"-p link_methods 'rank': expected a list .* e\.g\. -p link_methods '\[\"a\", \"b\"\]'"),
        ("link_methods", ["rank", "nearest"], r"\['nearest'\] not allowed; choose from \['rank', 'random', 'key'\]"),
        ("fit_method", "nuts", r"-p fit_method 'nuts': \['nuts'\] not allowed; choose from \['map', 'mcmc'\]"),
    ],
    ids=["impossible-day", "day-None", "zero-months", "bool-for-int", "float-for-int", "None-for-int",
         "word-for-float", "str-for-list", "unknown-method-in-list", "unknown-choice"],
)
def test_values_that_do_not_fit_are_refused_saying_what_would(declared, name, value, message):
    with pytest.raises(ValueError, match=message):
        check_value(name, value, declared["03_mapping"][name], "stage 03_mapping")


# --------------------------------------------------------------------------- what a notebook gets


def test_stage_parameters_pass_only_what_the_notebook_declares():
    got = stage_parameters(["workspace", "n"], {"workspace": "/w"}, {"n": 2, "method": "rank"})
    assert got == {"workspace": "/w", "n": 2}


def test_the_real_notebooks_declare_the_workspace_and_help_for_every_parameter():
    from clvlib.pipeline.catalog import STAGES

    declared = declared_parameters(STAGES, Path(__file__).resolve().parents[2] / "notebooks")
    assert all(next(iter(params)) == "workspace" for params in declared.values())
    assert {f"{key}.{name}" for key, params in declared.items() for name, info in params.items()
            if not info["help"]} == set()
