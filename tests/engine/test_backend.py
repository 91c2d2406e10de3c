"""The engine's plumbing: which engine, timestamps as integers, NaN as NULL, DuckDB SQL for Spark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.engine.backend import ENGINE_ENV, arrow_table, micros, resolve_engine, run_sql, to_spark_sql


def test_the_engine_is_duckdb_unless_named_here_or_in_the_environment(monkeypatch):
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert resolve_engine() == "duckdb" and resolve_engine("Spark") == "spark"
    monkeypatch.setenv(ENGINE_ENV, "spark")
    assert resolve_engine() == "spark" and resolve_engine("duckdb") == "duckdb"
    with pytest.raises(ValueError, match=r"engine=: unknown engine 'postgres'; choose one of \['duckdb', 'spark'\]"):
        resolve_engine("postgres")
    monkeypatch.setenv(ENGINE_ENV, "dukdb")
    with pytest.raises(ValueError, match=r"\$CLVLIB_ENGINE: unknown engine 'dukdb'"):
        resolve_engine()


def test_timestamps_travel_as_microseconds_of_wall_time_and_nan_as_null():
    ts = pd.Series(pd.to_datetime(["1970-01-02 00:00:00.000001", None, "2018-02-28 23:59:59"], format="ISO8601"))
    assert micros(ts).tolist() == [86_400_000_001, pd.NA, 1_519_862_399_000_000]
    assert micros(pd.Timestamp("2018-03-01", tz="America/Sao_Paulo")) == 1_519_862_400_000_000  # wall time kept
    frame = pd.DataFrame({"t": ts, "x": [1.0, np.nan, 3.0], "c": [1.5, None, "b"]})
    table = arrow_table(frame, {"ts": "t", "x": "x", "c": "c"}, times=("ts",), strings=("c",))
    assert table.column("ts").null_count == 1 and table.column("x").null_count == 1
    assert table.column("c").to_pylist() == ["1.5", None, "b"]
    out = run_sql("SELECT MAX(x) AS mx, COUNT(x) AS n, MAX(ts) AS last FROM t", {"t": table})
    assert out.to_dict("records") == [{"mx": 3.0, "n": 2, "last": 1_519_862_399_000_000}]
    with pytest.raises(ValueError, match="column 'x' must hold timestamps, got dtype float64"):
        arrow_table(frame, {"ts": "x"}, times=("ts",), table="t")


def test_duckdb_sql_is_transpiled_for_spark():
    spark = to_spark_sql("SELECT ARG_MAX(COALESCE(p, 'unknown'), seq) AS p FROM t GROUP BY c")
    assert spark == "SELECT MAX_BY(COALESCE(p, 'unknown'), seq) AS p FROM t GROUP BY c"


def test_spark_is_refused_up_front_without_java(monkeypatch):
    from clvlib.engine.backend import check_engine

    assert check_engine("duckdb") == "duckdb"
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(RuntimeError, match="engine 'spark' needs Java 17 or later"):
        check_engine("spark")


def test_run_all_refuses_an_unknown_engine_before_anything_runs(tmp_path, capsys):
    import run_all

    with pytest.raises(SystemExit) as exit_:
        run_all.main(["--engine", "postgres", "--out-root", str(tmp_path)])
    assert exit_.value.code == 2 and "invalid choice: 'postgres'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
