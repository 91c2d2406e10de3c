"""The catalog (clvlib.pipeline.catalog): datasets declared once, stages derived from them, and the
notebooks, the README and the runner agreeing with it."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from clvlib.pipeline.catalog import (
    DATASETS,
    RAW,
    STAGES,
    dataset,
    depends_on,
    producer,
    reads_writes_markdown,
    stage,
    stage_table_markdown,
)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def code_of(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


# --------------------------------------------------------------------------- the stages


def test_the_pipeline_is_the_eight_stages_in_order():
    assert [s.key for s in STAGES] == [
        "00_inventory", "01_clean_transactions", "02_clean_clickstream", "03_user_mapping",
        "04_hybrid_features", "05_clv_models", "06_evaluate", "07_forecast",
    ]
    assert STAGES[0].notebook == "00_inventory.ipynb" and STAGES[0].title == "Data inventory"


@pytest.mark.parametrize("token", ["3", "03", "user_mapping", "03_user_mapping", "03_user_mapping.ipynb"],
                         ids=["number", "padded-number", "name", "key", "notebook"])
def test_a_stage_is_found_by_number_name_key_or_notebook(token):
    assert stage(token).key == "03_user_mapping"


def test_an_unknown_stage_is_an_error_listing_the_valid_ones():
    with pytest.raises(ValueError, match=r"Unknown stage 'mapping'\. Valid stages: 00 inventory, .*03 user_mapping"):
        stage("mapping")


def test_an_unknown_dataset_is_an_error_listing_the_known_ones():
    with pytest.raises(KeyError, match=r"No dataset 'order' in the catalog\. Known: inventory, orders"):
        dataset("order")
    with pytest.raises(KeyError, match=r"No stage writes 'order'"):
        producer("order")


# --------------------------------------------------------------------------- the graph


def test_every_dataset_is_written_by_exactly_one_stage():
    writers = {d.name: [s.key for s in STAGES if d.name in s.writes] for d in DATASETS}
    assert {name: keys for name, keys in writers.items() if len(keys) != 1} == {}
    assert all(n in {d.name for d in DATASETS} for s in STAGES for n in s.writes)


def test_every_dataset_is_read_by_a_later_stage_or_is_a_deliverable():
    unused = []
    for d in DATASETS:
        made = producer(d.name).number
        if not d.deliverable and not any(d.name in s.reads and s.number > made for s in STAGES):
            unused.append(d.name)
    assert unused == []


def test_every_input_is_raw_or_written_by_an_earlier_stage():
    for s in STAGES:
        for name in s.reads:
            assert name == RAW or producer(name).number < s.number, (s.key, name)


@pytest.mark.parametrize(
    ("key", "expected"),
    [("00", ()), ("03", ("01", "02")), ("04", ("01", "02", "03")), ("05", ("01", "03", "04")), ("06", ("01", "05")),
     ("07", ("01", "03", "04", "05", "06"))],
    ids=["inventory-reads-raw-only", "mapping", "features", "models", "evaluate", "forecast"],
)
def test_dependencies_are_derived_from_what_a_stage_reads(key, expected):
    assert depends_on(stage(key)) == expected


def test_dataset_paths_are_unique_and_inside_the_workspace():
    paths = [d.path for d in DATASETS]
    assert len(set(paths)) == len(paths)
    assert all(not Path(p).is_absolute() and ".." not in Path(p).parts for p in paths)
    assert {d.kind for d in DATASETS} <= {"csv", "parquet", "json"}


def test_the_reads_writes_line_names_the_files_and_what_they_hold():
    assert reads_writes_markdown(stage("00")) == (
        "**Reads** the raw input files.  \n**Writes** `data/inventory.json` (every raw file: size, rows, columns, "
        "types, nulls, date ranges, key uniqueness).")


def test_the_stage_table_has_a_row_per_stage_marking_deliverables():
    lines = stage_table_markdown().splitlines()
    assert lines[:2] == ["| stage | reads | writes |", "|---|---|---|"]
    assert len(lines) == 2 + len(STAGES)
    assert lines[2] == "| `00_inventory` | raw files | `data/inventory.json` (deliverable) |"


# --------------------------------------------------------------------------- notebooks and README agree


def test_the_notebooks_are_the_stages_notebooks():
    assert [p.name for p in NOTEBOOKS] == [s.notebook for s in STAGES]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_each_notebook_opens_the_stage_its_file_name_says(path):
    calls = re.findall(r"open_stage\(\s*[\"']([^\"']*)[\"']", code_of(path))
    assert calls == [path.name[:2]]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_each_notebook_loads_and_saves_only_what_its_stage_declares(path):
    s = stage(path.name)
    code = code_of(path)
    loads = set(re.findall(r"ctx\.load\(\s*[\"'](\w+)[\"']", code))
    saves = set(re.findall(r"ctx\.save\(\s*[\"'](\w+)[\"']", code))
    assert loads - set(s.reads) == set()
    assert saves - set(s.writes) == set()
    # and what the catalog says the stage writes, it saves (else the next stage finds nothing)
    assert saves == set(s.writes)


def test_the_readme_stage_table_is_the_catalogs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^<!-- stage-table -->\n(.*?)\n<!-- /stage-table -->$", text, flags=re.S | re.M)
    assert found, "README.md has no block between <!-- stage-table --> and <!-- /stage-table -->"
    assert found.group(1).strip() == stage_table_markdown()
