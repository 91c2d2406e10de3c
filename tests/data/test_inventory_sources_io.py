"""Inventory profiling, raw-file discovery (nested folders, zips) and atomic writes."""

from __future__ import annotations

import json
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
