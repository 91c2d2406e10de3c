"""The engine: per-customer and per-user aggregates as of a date, defined once in SQL, run on DuckDB or Spark."""
