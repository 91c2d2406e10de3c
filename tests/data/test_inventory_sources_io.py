"""Inventory profiling, raw-file discovery (nested folders, zips) and atomic writes."""

from __future__ import annotations

import json
import re
import zipfile

import pandas as pd
import pytest

from clvlib.data.inventory import inventory, looks_like_dates, profile_csv
from clvlib.io import read_processed, write_csv_atomic, write_json_atomic
from clvlib.schemas import CLICKSTREAM_FILE, OLIST_FILES
from clvlib.data.sources import find_raw_files
from clvlib.paths import project_root, resolve


def test_numeric_ids_and_zip_codes_are_not_dates():
    assert not looks_like_dates(pd.Series([20180101, 20180102]))
    assert not looks_like_dates(pd.Series(["01310", "04567"]))
    assert looks_like_dates(pd.Series(["2018-01-01 10:00:00", None, "2018-02-03 00:00:00"]))
    assert not looks_like_dates(pd.Series(["2018-01-01", "someday"]))


def test_profile_flags_renamed_column_and_duplicate_key(tmp_path):
    p = tmp_path / "olist_orders_dataset.csv"
    p.write_text("order_id,customer_id,status,order_purchase_timestamp\n1,a,delivered,2018-01-01\n1,b,delivered,2018-01-03\n")
    prof = profile_csv(p, "orders")
    assert prof["rows"] == 2
    assert "order_status" in prof["schema"]["missing"] and prof["schema"]["unexpected"] == ["status"]
    assert prof["key"] == {"columns": ["order_id"], "unique": False, "duplicates": 1}
    assert prof["dates"]["order_purchase_timestamp"]["max"].startswith("2018-01-03")
    assert "customer_id" not in prof["dates"]


def test_profile_of_empty_file(tmp_path):
    p = tmp_path / "olist_orders_dataset.csv"
    p.write_text("")
    assert profile_csv(p, "orders")["problems"] == ["empty file (0 bytes)"]


def _tree(tmp_path):
    for i, name in enumerate([*OLIST_FILES.values(), CLICKSTREAM_FILE]):
        sub = tmp_path / ("olist/deep" if name.startswith("olist") else "other")
        sub.mkdir(parents=True, exist_ok=True)
        (sub / name).write_text("a,b\n1,2\n")


def test_find_raw_files_at_any_depth(tmp_path):
    _tree(tmp_path)
    files = find_raw_files(tmp_path)
    assert files["orders"] == tmp_path / "olist/deep/olist_orders_dataset.csv"
    assert files["clickstream"].name == CLICKSTREAM_FILE


def test_find_raw_files_reads_kaggle_zips_without_writing_the_raw_folder(tmp_path):
    raw, ext = tmp_path / "raw", tmp_path / "ext"
    raw.mkdir()
    with zipfile.ZipFile(raw / "brazilian-ecommerce.zip", "w") as z:
        for name in OLIST_FILES.values():
            z.writestr(name, "a,b\n1,2\n")
    with zipfile.ZipFile(raw / "clicks.zip", "w") as z:
        z.writestr(CLICKSTREAM_FILE, "a\n1\n")
    files = find_raw_files(raw, extract_dir=ext)
    assert files["orders"].read_text() == "a,b\n1,2\n"
    assert str(files["orders"]).startswith(str(ext))
    assert sorted(p.name for p in raw.iterdir()) == ["brazilian-ecommerce.zip", "clicks.zip"]


def test_missing_raw_file_is_named(tmp_path):
    _tree(tmp_path)
    (tmp_path / "olist/deep/olist_order_payments_dataset.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"Missing raw file\(s\) under .*olist_order_payments_dataset.csv"):
        find_raw_files(tmp_path)
    inv = inventory(find_raw_files(tmp_path, required=()), tmp_path)
    assert inv["missing_files"] == ["olist_order_payments_dataset.csv"]


def test_relative_paths_resolve_from_the_project_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert (project_root() / "pyproject.toml").is_file()
    assert resolve("data/processed") == project_root() / "data" / "processed"
    assert resolve(tmp_path) == tmp_path


def test_atomic_writes_leave_no_temporary_files(tmp_path):
    write_csv_atomic(pd.DataFrame({"x": [1.5, 2.0]}), tmp_path / "a.csv")
    write_json_atomic({"nan": float("nan"), "n": 3}, tmp_path / "a.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.json"]
    assert json.loads((tmp_path / "a.json").read_text()) == {"nan": None, "n": 3}


def test_read_processed_names_the_stage_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Run stage 01 first"):
        read_processed(tmp_path / "missing.csv", stage_hint="01")


def test_a_spec_table_is_profiled_by_duckdb_aggregates_hand_checked(tmp_path):
    from clvlib.data.inventory import profile_source
    from clvlib.data.spec import TableSpec

    f = tmp_path / "orders.csv"
    f.write_text("cust,ts,total\na,2018-01-02,10\n ,2018-03-04 10:00:00,\nc,,5\nd,2017-12-31T23:00:00,7\n")
    got = profile_source(TableSpec(path=str(f)), ["cust", "ts", "total"], "orders", "ts", None)
    assert (got["rows"], got["bytes"], got["problems"]) == (4, f.stat().st_size, [])
    assert [(c["name"], c["nulls"]) for c in got["columns"]] == [("cust", 1), ("ts", 1), ("total", 1)]
    assert got["dates"]["ts"] == {"min": "2017-12-31 23:00:00", "max": "2018-03-04 10:00:00", "unparsed": 0}
    pq = tmp_path / "orders.parquet"
    pd.DataFrame({"cust": ["a", "b"], "ts": pd.to_datetime(["2018-01-02", "2018-01-05"]),
                  "total": [1.0, float("nan")]}).to_parquet(pq)
    got = profile_source(TableSpec(path=str(pq)), ["cust", "ts", "total"], "orders", "ts", None)
    assert [(c["dtype"], c["nulls"]) for c in got["columns"]] == [("VARCHAR", 0), ("TIMESTAMP", 0), ("DOUBLE", 1)]
    assert (got["dates"]["ts"]["min"], got["dates"]["ts"]["max"]) == ("2018-01-02 00:00:00", "2018-01-05 00:00:00")


def test_a_date_duckdb_cannot_read_is_judged_by_the_stages_parser(tmp_path):
    from clvlib.data.inventory import profile_source
    from clvlib.data.spec import TableSpec

    f = tmp_path / "orders.csv"
    f.write_text("cust,ts\na,2018-01-02T10:00:00+02:00\nb,02/01/2018\nc,not a date\n")
    got = profile_source(TableSpec(path=str(f)), ["cust", "ts"], "orders", "ts", None)
    assert got["dates"] == {} and len(got["problems"]) == 1
    assert re.search(r"column 'ts' has 2 value\(s\) that are not timestamps.*line 3", got["problems"][0])
    f.write_text("cust,ts\na,02/01/2018\nb,31/12/2017\n")
    got = profile_source(TableSpec(path=str(f)), ["cust", "ts"], "orders", "ts", "%d/%m/%Y")
    assert got["dates"]["ts"]["min"] == "2017-12-31 00:00:00" and got["problems"] == []
