"""Stage 02's events cleaned in DuckDB (clvlib.data.events_sql) equal the pandas path's, row for row and step for step,
and every input the pandas path would refuse or describe is left to it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clvlib.data.canonical import read_events
from clvlib.data.clickstream import clean_events
from clvlib.data.datasets import clean_events_of
from clvlib.data.events_sql import clean_events_duckdb
from clvlib.data.readers import DataInputError
from clvlib.data.spec import load_spec
from clvlib.engine import backend
from clvlib.engine.backend import duckdb_connect
from test_canonical import SPEC as ORDERS_SPEC

TODAY = pd.Timestamp("2026-01-01")

EVENTS_SPEC = """
[events]
path = "{path}"
user = "u"
timestamp = "t"
event_type = "e"
{more}
"""


def shop(tmp_path: Path, events: str | None = None, path: str = "events.csv", more: str = "") -> Path:
    (tmp_path / "orders.csv").write_text("cust,ts,total\nc1,2020-01-01,10\n", encoding="utf-8")
    if events is not None:
        (tmp_path / path).write_text(events, encoding="utf-8")
    text = ORDERS_SPEC.format(extra="") + EVENTS_SPEC.format(path=path, more=more)
    (tmp_path / "shop.toml").write_text(text, encoding="utf-8")
    return tmp_path / "shop.toml"


def pandas_path(spec, end=None, require=True):
    events, log = read_events(spec)
    events, more = clean_events(events, table="events", end=end, require_purchase_amount=require)
    return events, log.to_frame(), more.to_frame()


def assert_same_as_pandas(spec, end=None, require=True) -> pd.DataFrame:
    fast = clean_events_duckdb(spec.events, end=end, require_purchase_amount=require, today=TODAY)
    assert fast is not None, "the DuckDB path left a clean input to pandas"
    events, log, more = fast
    ref, ref_log, ref_more = pandas_path(spec, end, require)
    pd.testing.assert_frame_equal(events, ref)
    pd.testing.assert_frame_equal(log.to_frame(), ref_log)
    pd.testing.assert_frame_equal(more.to_frame(), ref_more)
    return events


# Every cleaning step in one CSV: a duplicated row, a padded user (a tab and spaces), a blank user, a blank time,
# unmapped names, time-zone offsets, amounts with a null marker, a purchase without an amount, gaps that split
# sessions, rows outside valid_from and after the end.
EVENTS = """u,t,e,amount
u1,2020-01-01 10:00:00,pageview,
u1,2020-01-01 10:00:00,pageview,
\tu1 ,2020-01-01 10:20:00,cart,
u1,2020-01-01T11:00:00Z,buy,25.5
u1,2020-01-01 11:10:00+02:00,pageview,NA
,2020-01-01 12:00:00,pageview,
u2,,pageview,
u2,2020-01-02 09:00:00,hover,
u2,2020-01-02 09:01:00,hover,
u2,2020-01-02 09:02:00,scroll,
u2,2020-01-02 09:03:00,buy,
u2,2020-01-03 09:00:00,buy,1e1
u3,2019-12-01 08:00:00,pageview,
u3,2020-02-01 08:00:00,pageview,
"""
TYPES = """amount = "amount"
valid_from = "2019-12-15"
[events.types]
page_view = ["pageview"]
add_to_cart = ["cart"]
purchase = ["buy"]
"""


def test_a_csv_with_every_cleaning_step_gives_the_pandas_paths_rows_and_drop_logs(tmp_path):
    spec = load_spec(shop(tmp_path, EVENTS, more=TYPES))
    events = assert_same_as_pandas(spec, end="2020-01-31")
    # hand-checked: 11:10+02:00 is 09:10 UTC and sorts first; 10:00 and 10:20 (the padded id) are one session,
    # 11:00 UTC ("Z") comes 40 minutes later, past the 30-minute gap
    u1 = events[events["UserID"] == "u1"]
    assert u1["Timestamp"].dt.strftime("%H:%M").tolist() == ["09:10", "10:00", "10:20", "11:00"]
    assert u1["SessionID"].tolist() == ["1", "2", "2", "3"] and u1["Amount"].iloc[-1] == 25.5
    assert events["UserID"].tolist() == ["u1"] * 4 + ["u2"]  # u2's purchase of 10; u3 outside the range
    _, log, more = clean_events_duckdb(spec.events, end="2020-01-31", today=TODAY)
    removed = {s: r for s, r in zip(log.to_frame()["step"], log.to_frame()["removed"])}
    assert removed == {"rows read from events.csv": 0, "exact duplicate events": 1, "events without a user": 1,
                       "events without a timestamp": 1, "event types not mapped": 3, "rows before valid_from": 1,
                       "events kept": 0}
    assert "'hover' (2), 'scroll' (1)" in log.to_frame()["reason"].iloc[4]
    removed = dict(zip(more.to_frame()["step"], more.to_frame()["removed"]))
    assert removed["purchases without a positive amount"] == 1 and removed["events after the cut-off"] == 1


def test_without_amounts_purchases_are_kept_and_without_an_end_every_day_is(tmp_path):
    spec = load_spec(shop(tmp_path, EVENTS, more=TYPES.replace('amount = "amount"\n', "")))
    events = assert_same_as_pandas(spec, require=False)
    assert events["Amount"].isna().all() and (events["EventType"] == "purchase").sum() == 3


def test_parquet_files_with_typed_columns_and_a_session_column_equal_the_pandas_path(tmp_path):
    (tmp_path / "ev").mkdir()
    t = pd.Timestamp("2021-03-01 10:00")
    first = pd.DataFrame({"u": [7, 7, 8, 9], "s": ["a", "a", "b", " c"], "e": ["view", "view", "order", "view"],
                          "t": [t, t, t + pd.Timedelta("1h"), t - pd.Timedelta("1D")], "v": [None, None, 30.0, None]})
    second = first.iloc[[0, 2]].assign(v=[float("nan"), 30.0])  # a duplicate across files; NaN and null amounts
    for i, part in enumerate((first, second)):
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), tmp_path / "ev" / f"part-{i}.parquet")
    more = 'session = "s"\namount = "v"\n[events.types]\npage_view = ["view"]\npurchase = ["order"]\n'
    spec = load_spec(shop(tmp_path, path="ev/*.parquet", more=more))
    events = assert_same_as_pandas(spec)
    assert events["UserID"].tolist() == ["7", "8", "9"] and events["SessionID"].tolist() == ["a", "b", "c"]


def test_time_zone_aware_parquet_timestamps_are_converted_to_utc_as_pandas_does(tmp_path):
    ts = pd.to_datetime(["2021-03-01 10:00", "2021-03-01 10:45"]).tz_localize("Europe/Paris")
    frame = pd.DataFrame({"u": ["x", "x"], "t": ts, "e": ["page_view", "purchase"], "a": [None, 5.0]})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "e.parquet")
    spec = load_spec(shop(tmp_path, path="e.parquet", more='amount = "a"'))
    events = assert_same_as_pandas(spec)
    assert events["Timestamp"].tolist() == [pd.Timestamp("2021-03-01 09:00"), pd.Timestamp("2021-03-01 09:45")]
    assert events["SessionID"].tolist() == ["1", "2"]  # 45 minutes apart: two sessions by the 30-minute gap


@pytest.mark.parametrize("row, message", [
    ("u9,05/01/2020 10:00,pageview,", "are not ISO dates"),
    ("u9,2020-01-05 10:00,pageview,1,5", "fields but the header has"),
    ("u9,2020-01-05 10:00,pageview,12;5", "non-numeric value"),
    ("u9,2020-01-05 10:00,buy,-3", "is negative in 1"),
    ("u9,2030-01-05 10:00,pageview,", "far outside the bulk"),
    ("u9,9999-12-31,pageview,", r"outside 1677-09-22 \.\. 2262-04-11.*'9999-12-31'.*line 42"),  # a placeholder date
    ("u9,2020-01-05 24:00:00,pageview,", "are not ISO dates"),  # DuckDB would read it as the next midnight
    ("u9,2020-01-05 10:00+24:00,pageview,", "are not ISO dates"),
])
def test_an_input_with_a_problem_is_left_to_the_pandas_path_and_gets_its_message(tmp_path, row, message):
    rows = [f"u{i % 5},2020-01-{1 + i % 28:02d} 10:00:00,pageview," for i in range(40)]
    spec = load_spec(shop(tmp_path, "u,t,e,amount\n" + "\n".join(rows + [row]) + "\n", more=TYPES))
    if "fields" not in message:  # a row with extra fields fails in the reader, before either path
        assert clean_events_duckdb(spec.events, today=TODAY) is None
    with pytest.raises(DataInputError, match=message):
        clean_events_of(spec, {})


def test_placeholder_dates_among_the_top_percent_are_left_to_the_pandas_path_not_a_python_overflow(tmp_path):
    rows = [f"u{i},2020-0{1 + i % 9}-01 10:00:00,page_view" for i in range(23)] + ["x,9999-12-31,page_view", "y,9999-12-31,page_view"]
    spec = load_spec(shop(tmp_path, "u,t,e\n" + "\n".join(rows) + "\n"))
    assert clean_events_duckdb(spec.events, today=TODAY) is None  # the 99th percentile itself is the placeholder
    with pytest.raises(DataInputError, match=r"2 timestamp\(s\) outside 1677-09-22"):
        clean_events_of(spec, {})


def test_tied_unmapped_names_are_listed_in_the_order_they_first_appear_as_pandas_lists_them(tmp_path):
    rows = "u,t,e\n" + "".join(f"u1,2020-01-01 10:0{i}:00,{e}\n" for i, e in enumerate(["zzz", "aaa", "page_view", "aaa"]))
    spec = load_spec(shop(tmp_path, rows + "u1,2020-01-01 10:09:00,zzz\nu1,2020-01-01 10:08:00,mmm\n"))
    assert_same_as_pandas(spec)
    _, log, _ = clean_events_duckdb(spec.events, today=TODAY)
    assert log.to_frame()["reason"].iloc[4].endswith("'zzz' (2), 'aaa' (2), 'mmm' (1)")


def test_nan_and_missing_amounts_are_one_value_to_the_duplicate_check_and_the_gap_is_compared_in_nanoseconds(tmp_path):
    t0 = pd.Timestamp("2021-03-01 10:00")
    table = pa.table({"u": ["a", "a", "a"], "t": pa.array([t0, t0, t0 + pd.Timedelta("30min 1us")], pa.timestamp("us")),
                      "e": ["page_view"] * 3, "a": pa.array([None, float("nan"), None], pa.float64(), from_pandas=False)})
    pq.write_table(table, tmp_path / "e.parquet")
    spec = load_spec(shop(tmp_path, path="e.parquet", more='amount = "a"\nsession_gap_minutes = 30.00000001'))
    events = assert_same_as_pandas(spec)
    assert len(events) == 2 and events["SessionID"].tolist() == ["1", "2"]  # 30 min + 1 us > 30.00000001 min


def test_a_timestamp_format_or_an_integer_id_with_a_gap_is_left_to_the_pandas_path(tmp_path):
    spec = load_spec(shop(tmp_path, "u,t,e\nu1,05/01/2020,page_view\n", more='timestamp_format = "%d/%m/%Y"'))
    assert clean_events_duckdb(spec.events, today=TODAY) is None
    events = clean_events_of(spec, {}).events
    assert events["Timestamp"].tolist() == [pd.Timestamp("2020-01-05")]
    frame = pd.DataFrame({"u": pd.array([1, None], dtype="Int64"), "t": pd.to_datetime(["2020-01-01"] * 2),
                          "e": ["page_view"] * 2})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "ids.parquet")
    assert clean_events_duckdb(load_spec(shop(tmp_path, path="ids.parquet")).events, today=TODAY) is None


def test_the_demo_export_through_duckdb_equals_the_pandas_path(tmp_path):
    from clvlib.demo.big import main as write_shop

    write_shop([str(tmp_path / "shop"), "--customers", "3000", "--chunk", "1000"])
    spec = load_spec(tmp_path / "shop" / "shop.toml")
    events = assert_same_as_pandas(spec, end="2018-06-30")
    assert len(events) > 10_000 and events["UserID"].nunique() > 1000


def test_duckdb_spills_to_a_folder_of_its_own_under_the_system_temp_not_the_working_directory(tmp_path, monkeypatch):
    work, temp = tmp_path / "work", tmp_path / "temp"
    work.mkdir()
    temp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    con = duckdb_connect(threads=1)
    con.execute("SET memory_limit = '40MB'")
    con.execute("SELECT count(*) FROM (SELECT md5(i::VARCHAR) AS s FROM range(3000000) t(i) ORDER BY s)").fetchall()
    spilled = [p.name for p in temp.iterdir()]
    assert len(spilled) == 1 and spilled[0].startswith(f"clvlib-duckdb-{os.getpid()}-")
    con.close()
    assert list(temp.iterdir()) == [] and list(work.iterdir()) == []  # removed on close; nothing in the cwd


def test_duckdb_may_use_a_share_of_the_memory_available_when_it_connects_not_of_the_machine(monkeypatch):
    monkeypatch.setattr(backend, "available_memory_mb", lambda: 10_000)  # MiB
    con = duckdb_connect()
    assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "5.8 GiB"  # 6,000 MiB
    con.close()
    monkeypatch.setattr(backend, "available_memory_mb", lambda: 500)  # almost nothing left: still 1 GB
    con = duckdb_connect()
    assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "1.0 GiB"
    con.close()
    monkeypatch.setattr(backend, "available_memory_mb", lambda: None)  # not known (not Linux): DuckDB's own default
    con = duckdb_connect()
    default = duckdb.connect()
    assert con.execute("SELECT current_setting('memory_limit')").fetchall() == \
        default.execute("SELECT current_setting('memory_limit')").fetchall()
    con.close()
    default.close()
    monkeypatch.setenv("CLVLIB_DUCKDB_MEMORY", "3GB")  # the user's own limit wins
    con = duckdb_connect()
    assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == "2.7 GiB"  # 3e9 bytes
    con.close()
    monkeypatch.setenv("CLVLIB_DUCKDB_MEMORY", "lots")
    with pytest.raises(ValueError, match=r"\$CLVLIB_DUCKDB_MEMORY = 'lots' is not a memory size DuckDB reads"):
        duckdb_connect()


def test_a_query_over_duckdbs_memory_limit_names_the_limit_and_how_to_raise_it(monkeypatch):
    monkeypatch.setenv("CLVLIB_DUCKDB_MEMORY", "20MB")
    big = pa.table({"x": np.arange(3_000_000)})
    with pytest.raises(MemoryError, match=r"DuckDB ran out of memory within its limit of 19\.0 MiB .* "
                                          r"CLVLIB_DUCKDB_MEMORY=12GB"):
        backend.run_sql("SELECT x, md5(CAST(x AS VARCHAR)) AS h, list(x) OVER (ORDER BY x ROWS BETWEEN 500 PRECEDING "
                        "AND CURRENT ROW) AS w FROM big ORDER BY h", {"big": big})
