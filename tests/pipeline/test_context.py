"""The stage context (clvlib.pipeline.context): a notebook loads and saves catalog names, and a file
made from other data, other parameters or an older input is refused, naming the stage to rerun."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from clvlib.pipeline import context as context_module
from clvlib.pipeline.catalog import stage
from clvlib.pipeline.context import StageContext, StaleInputError, open_stage
from clvlib.pipeline.workspace import (
    OUT_ROOT_ENV,
    RUN_PID_ENV,
    DataSource,
    Workspace,
    WorkspaceError,
    fingerprint_files,
)

ORDERS = pd.DataFrame({"order_id": ["o1", "o2"], "customer_unique_id": ["p1", "p2"], "value": [10.0, 25.5]})
LINKS = pd.DataFrame({"customer_unique_id": ["p1"], "UserID": [7], "method": ["rank"]})


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    """A workspace named ``w`` over one tiny raw file, built by hand."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "olist_orders_dataset.csv").write_text("order_id\no1\no2\n")
    files = {"orders": raw / "olist_orders_dataset.csv"}
    workspace = Workspace(tmp_path / "outputs" / "w")
    workspace.adopt(DataSource(name="w", raw_dir=raw, demo=False, files=files, fingerprint=fingerprint_files(files)),
                    full_run=True)
    return workspace


def ctx(key: str, workspace: Workspace, **params) -> StageContext:
    return StageContext(stage(key), workspace, params)


# --------------------------------------------------------------------------- the headline


def test_finish_records_the_figures_the_time_and_the_kernels_peak_memory(ws):
    import numpy as np

    before = context_module.peak_memory_mb()
    ballast = np.ones(40_000_000 // 8)  # 40 MB touched: the peak can only grow
    ctx("01", ws).finish({"orders": 2})
    body = json.loads((ws.headlines_dir / "01_clean_transactions.json").read_text())
    assert body["figures"] == {"orders": 2} and body["stage"] == "01_clean_transactions"
    assert body["seconds"] >= 0
    assert body["peak_memory_mb"] >= max(before, 40) and ballast.sum() == ballast.size


# --------------------------------------------------------------------------- save and load


def test_a_saved_table_loads_in_a_later_stage_as_it_was_written(ws):
    path = ctx("01", ws).save("orders", ORDERS)
    assert path == ws.folder / "data" / "orders.parquet"
    got = ctx("05", ws, cutoff="2018-02-28").load("orders")
    pd.testing.assert_frame_equal(got, ORDERS)  # Parquet keeps every column's type, the dates' included


def test_save_records_the_stage_its_parameters_and_inputs(ws):
    ctx("01", ws, analysis_date=None).save("orders", ORDERS)
    mapping = ctx("03", ws, cutoff="2018-02-28")
    mapping.load("orders")
    mapping.save("links", LINKS)
    prov = json.loads(ws.provenance_path.read_text())
    assert prov["links"]["stage"] == "03_user_mapping" and prov["links"]["params"] == {"cutoff": "2018-02-28"}
    assert prov["links"]["inputs"] == {"orders": prov["orders"]["digest"]}
    assert prov["orders"]["fingerprint"] == ws.source().fingerprint


def test_a_json_dataset_round_trips(ws):
    ctx("03", ws).save("links_info", {"rank": {"coverage": 0.5, "real": False}})
    assert ctx("04", ws).load("links_info") == {"rank": {"coverage": 0.5, "real": False}}


def test_saving_a_name_the_stage_does_not_declare_is_refused(ws):
    with pytest.raises(ValueError, match=r"Stage 01_clean_transactions does not declare 'links' among what it "
                                         r"writes \(orders, orders_info, customers\); declare it in clvlib/pipeline/catalog\.py"):
        ctx("01", ws).save("links", LINKS)


def test_loading_a_name_the_stage_does_not_declare_is_refused(ws):
    with pytest.raises(ValueError, match=r"Stage 01_clean_transactions does not declare 'links' among what it reads"):
        ctx("01", ws).load("links")


def test_a_table_dataset_refuses_anything_but_a_data_frame(ws):
    with pytest.raises(TypeError, match=r"orders is a parquet table: save a DataFrame or an iterator of DataFrames "
                                        r"\(written part by part\), not dict"):
        ctx("01", ws).save("orders", {"a": 1})


def test_a_table_saved_in_parts_loads_whole_or_by_slices(ws):
    parts = [ORDERS.iloc[:1].assign(cut=pd.Timestamp("2018-01-31")), ORDERS.iloc[1:].assign(cut=pd.Timestamp("2018-02-28"))]
    ctx("01", ws).save("orders", iter(parts))
    pd.testing.assert_frame_equal(ctx("05", ws).load("orders"), pd.concat(parts, ignore_index=True))
    lazy = ctx("05", ws).load("orders", lazy=True)
    assert lazy.path == ws.folder / "data" / "orders.parquet"
    assert lazy.where(cut=pd.Timestamp("2018-02-28"))["order_id"].tolist() == ["o2"]
    with pytest.raises(ValueError, match=r"data/user_links\.json is a json file; only a Parquet table can be read lazily"):
        ctx("04", ws).load("links_info", lazy=True)


# --------------------------------------------------------------------------- stale inputs


def test_a_missing_input_names_the_stage_that_writes_it(ws):
    with pytest.raises(StaleInputError, match=r"data/snapshots\.parquet is not in workspace .*: stage "
                                              r"04_hybrid_features writes it\. Run that stage first: "
                                              r"python run_all\.py --from 04 --workspace w"):
        ctx("05", ws).load("snapshots")


def test_an_input_made_with_another_value_of_a_shared_parameter_is_refused(ws):
    ctx("03", ws, cutoff="2018-02-28", seed=42).save("links", LINKS)
    message = ("data/user_links.parquet was made by stage 03_user_mapping with other parameters than this stage runs "
               "with (cutoff = '2018-02-28' there, '2017-12-31' here). Rerun from stage 03 with the same values: "
               "python run_all.py --from 03 --workspace w -p cutoff 2017-12-31")
    with pytest.raises(StaleInputError, match=re.escape(message)):
        ctx("04", ws, cutoff="2017-12-31").load("links")
    ctx("04", ws, cutoff="2018-02-28", horizon_months=6).load("links")  # same cutoff: fine (04 runs without seed)


def test_an_input_made_from_an_older_version_of_its_own_input_is_refused(ws):
    ctx("01", ws).save("orders", ORDERS)
    mapping = ctx("03", ws)
    mapping.load("orders")
    mapping.save("links", LINKS)
    ctx("01", ws).save("orders", ORDERS.assign(value=[11.0, 25.5]))  # stage 01 ran again, other result
    with pytest.raises(StaleInputError, match=r"data/user_links\.parquet was made from an older version of "
                                              r"data/orders\.parquet\. Rerun stage 03_user_mapping: "
                                              r"python run_all\.py --from 03"):
        ctx("04", ws).load("links")


def test_a_file_edited_by_hand_is_refused(ws):
    path = ctx("01", ws).save("orders", ORDERS)
    with open(path, "a") as fh:
        fh.write("o3,p3,1.0\n")
    with pytest.raises(StaleInputError, match=r"data/orders\.parquet changed after stage "
                                              r"01_clean_transactions wrote it\. Rerun stage 01_clean_transactions"):
        ctx("05", ws).load("orders")


def test_a_file_without_a_provenance_record_is_refused(ws):
    ws.path("data").mkdir()
    ORDERS.to_parquet(ws.path("data/orders.parquet"), index=False)
    with pytest.raises(StaleInputError, match=r"has no provenance record .* Rerun stage 01_clean_transactions"):
        ctx("05", ws).load("orders")


def test_a_file_made_from_other_raw_data_is_refused(ws, tmp_path):
    ctx("01", ws).save("orders", ORDERS)
    other = DataSource(name="w", raw_dir=tmp_path / "elsewhere", demo=False, files={}, fingerprint="0" * 32)
    with pytest.raises(StaleInputError, match=r"was made from other raw data than this workspace's "
                                              r"\(Kaggle data at .*elsewhere\)\. Rerun stage 01_clean_transactions"):
        ctx("05", Workspace(ws.folder, _source=other)).load("orders")


# --------------------------------------------------------------------------- open_stage


def test_open_stage_without_a_workspace_uses_the_latest_run_under_the_out_root(ws, tmp_path, monkeypatch):
    def no_demo(*args, **kwargs):
        raise AssertionError("default_workspace fell back to generating the demo")

    monkeypatch.setattr("clvlib.pipeline.datasource.prepare_demo", no_demo)
    monkeypatch.setenv(OUT_ROOT_ENV, str(tmp_path))
    monkeypatch.delenv(RUN_PID_ENV, raising=False)
    (tmp_path / "outputs" / "latest.json").write_text(json.dumps({"workspace": "w"}))
    opened = open_stage("05", workspace=None, params={"workspace": None, "cutoff": "2018-02-28"}, show=False)
    assert opened.workspace.folder == ws.folder
    assert opened.stage.key == "05_clv_models" and opened.params == {"cutoff": "2018-02-28"}
    assert context_module.default_workspace().folder == ws.folder


def test_open_stage_on_a_folder_that_is_not_a_workspace_says_how_to_make_one(tmp_path):
    with pytest.raises(WorkspaceError, match=r"is not a workspace \(no workspace\.json\)\. Create it with "
                                             r"python run_all\.py"):
        open_stage("01", workspace=str(tmp_path / "empty"), show=False)
