"""Where the SQL runs: DuckDB in process (the default) or Spark, on Arrow tables handed over from pandas.

Every definition in :mod:`clvlib.engine` is one SQL text in DuckDB's dialect. DuckDB runs it as
written; for Spark it is transpiled by sqlglot (``read="duckdb", write="spark"``). To keep one text
valid on both, the definitions use a small portable subset:

* **Timestamps arrive as integers**: microseconds since 1970-01-01, wall time (a time zone is
  dropped keeping the local time), missing ones as NULL (:func:`arrow_table`). Time arithmetic
  is integer arithmetic, so no date function and no session time zone is involved; a day is
  ``FLOOR(us / 86400000000.0)`` (days since 1970).
* Missing floats (NaN) become NULL, so ``AVG``/``MAX``/``SUM`` skip them as pandas does (Spark
  would otherwise order NaN above every number).
* Divisions divide DOUBLEs (``CAST(... AS DOUBLE)``), never by a possible zero (Spark's ANSI mode
  raises on it).
* Amounts are summed with ``FSUM`` (DuckDB's compensated, Kahan, sum: pandas' groupby sums are
  compensated too, so totals agree to the last bit nearly always, and hardly depend on the order
  in which parallel threads combine rows; equal totals matter: the rank link ranks them). Spark
  has no compensated sum: there ``FSUM`` becomes ``SUM``. Time differences are summed as integers
  (exact).

Both engines return Arrow, converted to pandas by the same code, so they give the same frames.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from clvlib.io import sql_string

__all__ = ["ENGINES", "ENGINE_ENV", "US_PER_DAY", "resolve_engine", "check_engine", "micros", "from_micros", "arrow_table", "to_spark_sql",
           "run_sql", "spark_session", "duckdb_connect", "available_memory_mb", "MEMORY_SHARE", "MEMORY_ENV"]

#: The engines every definition runs on.
ENGINES = ("duckdb", "spark")
#: Environment variable naming the engine when a function is called with ``engine=None``
#: (``run_all.py --engine`` sets it for the notebooks' kernels).
ENGINE_ENV = "CLVLIB_ENGINE"
#: Microseconds per day, as a DOUBLE literal both dialects read as one.
US_PER_DAY = "CAST(86400000000 AS DOUBLE)"


def resolve_engine(engine: str | None = None) -> str:
    """The engine to use: ``engine``, else ``$CLVLIB_ENGINE``, else ``"duckdb"``.

    Raises
    ------
    ValueError
        If the name is not one of :data:`ENGINES`.
    """
    name = engine if engine is not None else (os.environ.get(ENGINE_ENV) or "duckdb")
    name = str(name).strip().lower()
    if name not in ENGINES:
        source = "engine=" if engine is not None else f"${ENGINE_ENV}"
        raise ValueError(f"{source}: unknown engine {name!r}; choose one of {list(ENGINES)}.")
    return name


def check_engine(engine: str | None = None) -> str:
    """The engine's name (:func:`resolve_engine`) once it is known to be usable here.

    DuckDB always is. Spark needs pyspark and sqlglot (``requirements.txt``) and a Java runtime
    (17+) on the PATH or in ``$JAVA_HOME``.

    Raises
    ------
    RuntimeError
        Naming what is missing and how to get it.
    """
    import importlib.util
    import shutil

    name = resolve_engine(engine)
    if name == "spark":
        missing = [m for m in ("pyspark", "sqlglot") if importlib.util.find_spec(m) is None]
        if missing:
            raise RuntimeError(f"engine 'spark' needs {' and '.join(missing)}: "
                               "python -m pip install -r requirements.txt")
        java_home = os.environ.get("JAVA_HOME")
        if shutil.which("java") is None and not (java_home and os.path.exists(os.path.join(java_home, "bin", "java"))):
            raise RuntimeError("engine 'spark' needs Java 17 or later: install it (Debian: apt-get install "
                               "default-jre-headless) or set JAVA_HOME.")
    return name


def micros(values: pd.Series | pd.Timestamp, table: str = "table", column: str = "timestamp") -> pd.Series | int:
    """Timestamps as integer microseconds since 1970 (wall time; nanoseconds truncated; NaT -> <NA>).

    Raises
    ------
    ValueError
        If ``values`` is not a datetime column (parse it first, e.g. with ``pandas.to_datetime``).
    """
    if isinstance(values, pd.Timestamp):
        ts = values.tz_localize(None) if values.tzinfo is not None else values
        return int(ts.to_datetime64().astype("datetime64[us]").astype("int64"))
    if not pd.api.types.is_datetime64_any_dtype(values):
        raise ValueError(f"{table}: column '{column}' must hold timestamps, got dtype {values.dtype}; "
                         "parse it first (pandas.to_datetime).")
    ts = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
    ints = ts.to_numpy(dtype="datetime64[us]").view("int64")
    return pd.Series(pd.arrays.IntegerArray(ints, np.asarray(ts.isna())), index=values.index)


def from_micros(values: pd.Series, dtype) -> pd.Series:
    """Integer microseconds (as :func:`micros` writes them) back to timestamps of ``dtype`` (a time zone re-attached)."""
    ts = pd.to_datetime(values, unit="us")
    tz = getattr(dtype, "tz", None)
    return (ts.dt.tz_localize(tz) if tz is not None else ts).astype(dtype)


def arrow_table(frame: pd.DataFrame, columns: Mapping[str, str], times: tuple[str, ...] = (),
                strings: tuple[str, ...] = (), table: str = "table") -> pa.Table:
    """The columns a definition reads, renamed to its names, as an Arrow table.

    Parameters
    ----------
    frame
        The pandas table. Not modified.
    columns
        Name in the SQL -> column of ``frame``.
    times
        SQL names of timestamp columns: passed as integer microseconds (:func:`micros`).
    strings
        SQL names of columns passed as text (values other than strings are written with ``str``,
        missing ones stay NULL).
    table
        Name of the table in error messages.
    """
    out = {}
    for name, col in columns.items():
        s = frame[col]
        if name in times:
            s = micros(s, table, col)
        elif name in strings and not (pd.api.types.is_string_dtype(s) and not pd.api.types.is_object_dtype(s)):
            s = s.astype(object).where(s.isna(), s.astype(str)).astype("string")
        out[name] = s.reset_index(drop=True)
    return pa.Table.from_pandas(pd.DataFrame(out), preserve_index=False)


def to_spark_sql(sql: str) -> str:
    """A DuckDB-dialect query in Spark SQL (sqlglot; ``FSUM`` becomes ``SUM``)."""
    import sqlglot
    from sqlglot import exp

    def fsum_to_sum(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.upper() == "FSUM":
            return exp.Sum(this=node.expressions[0])
        return node

    return sqlglot.parse_one(sql, read="duckdb").transform(fsum_to_sum).sql(dialect="spark")


def spark_session():
    """The active Spark session, else a local one (``local[2]``, no UI, UTC, few shuffle partitions).

    Create your own session first (a cluster's) and it is the one used. ``$CLVLIB_SPARK_MASTER``
    and ``$CLVLIB_SPARK_DRIVER_MEMORY`` change the local one's master and driver memory (default 2g).
    """
    with warnings.catch_warnings():  # pyspark warns (on import) that it does not fully support pandas 3
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        spark = (SparkSession.builder.master(os.environ.get("CLVLIB_SPARK_MASTER", "local[2]"))
                 .appName("clvlib")
                 .config("spark.ui.enabled", "false")
                 .config("spark.ui.showConsoleProgress", "false")
                 .config("spark.sql.session.timeZone", "UTC")
                 .config("spark.sql.shuffle.partitions", "8")
                 .config("spark.driver.memory", os.environ.get("CLVLIB_SPARK_DRIVER_MEMORY", "2g"))
                 .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


_CONNECTIONS = itertools.count()


#: Share of the memory available when a connection opens that DuckDB may use before it spills to disk.
MEMORY_SHARE = 0.6
#: Environment variable that sets DuckDB's memory limit instead (DuckDB's syntax, e.g. ``12GB``).
MEMORY_ENV = "CLVLIB_DUCKDB_MEMORY"


def available_memory_mb() -> int | None:
    """The memory available to a new allocation now, in MiB (``MemAvailable`` of ``/proc/meminfo``); None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def duckdb_connect(threads: int | None = None):
    """An in-memory DuckDB connection that spills, when it must, to the system's temporary folder.

    DuckDB's default spill folder for an in-memory database is ``.tmp`` in the working
    directory, which for a stage's kernel is inside the project; here it is a folder of its own
    under :func:`tempfile.gettempdir` (created only when DuckDB spills, removed when the
    connection closes). ``threads`` bounds DuckDB's threads (default: one per core).

    DuckDB's own memory limit is 80% of the machine's memory, whatever the Python process
    already holds; a stage holding millions of rows in pandas then runs out of memory inside a
    query. Where the available memory is known (Linux), the limit is :data:`MEMORY_SHARE` of
    what is available when the connection opens (at least 1 GiB), and DuckDB spills beyond it.
    ``$CLVLIB_DUCKDB_MEMORY`` (e.g. ``12GB``) sets the limit instead; some queries cannot spill
    everything and fail under a tight limit, with an error that names it.
    """
    import duckdb

    con = duckdb.connect()
    spill = Path(tempfile.gettempdir()) / f"clvlib-duckdb-{os.getpid()}-{next(_CONNECTIONS)}"
    con.execute(f"SET temp_directory = {sql_string(spill)}")
    limit = os.environ.get(MEMORY_ENV)
    if limit:
        try:
            con.execute(f"SET memory_limit = {sql_string(limit)}")
        except Exception as exc:
            con.close()
            raise ValueError(f"${MEMORY_ENV} = {limit!r} is not a memory size DuckDB reads "
                             "(e.g. 12GB or 8000MiB).") from exc
    elif (available := available_memory_mb()) is not None:
        con.execute(f"SET memory_limit = '{max(1024, int(available * MEMORY_SHARE))}MiB'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _run_duckdb(sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
    import duckdb

    con = duckdb_connect()
    try:
        for name, tab in tables.items():
            con.register(name, tab)
        rel = con.sql(sql)
        fetch = getattr(rel, "to_arrow_table", None) or rel.arrow  # duckdb >= 1.4 / older
        return fetch()
    except duckdb.OutOfMemoryException as exc:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        raise MemoryError(f"DuckDB ran out of memory within its limit of {limit} ({MEMORY_SHARE:.0%} of the memory "
                          f"available when the query started, or ${MEMORY_ENV}). Free memory (close other programs) "
                          f"or set a larger limit, e.g. {MEMORY_ENV}=12GB. DuckDB said: {exc}") from exc
    finally:
        con.close()


def _run_spark(sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
    spark = spark_session()
    with warnings.catch_warnings():  # pyspark warns that it does not fully support pandas 3; we hand it Arrow
        warnings.simplefilter("ignore", FutureWarning)
        for name, tab in tables.items():
            spark.createDataFrame(tab).createOrReplaceTempView(name)
        try:
            return spark.sql(to_spark_sql(sql)).toArrow()
        finally:
            for name in tables:
                spark.catalog.dropTempView(name)


def run_sql(sql: str, tables: Mapping[str, pa.Table], engine: str | None = None,
            arrow: bool = False) -> pd.DataFrame | pa.Table:
    """Run a DuckDB-dialect query over named Arrow tables on an engine; the result in pandas.

    Parameters
    ----------
    sql
        The query, reading ``tables`` by name.
    tables
        Name -> Arrow table (see :func:`arrow_table`).
    engine
        ``"duckdb"`` or ``"spark"`` (default: :func:`resolve_engine`).
    arrow
        Return the Arrow table itself (to query it again, as an intermediate table).

    Returns
    -------
    pandas.DataFrame
        Arrow's conversion: BIGINT -> int64 (float64 where NULLs occur), DOUBLE -> float64 (NULL -> NaN),
        VARCHAR -> str. With ``arrow=True``, the ``pyarrow.Table``.
    """
    name = resolve_engine(engine)
    result = _run_duckdb(sql, tables) if name == "duckdb" else _run_spark(sql, tables)
    return result if arrow else result.to_pandas()
