"""The engine: per-customer and per-user aggregates as of a date, defined once in SQL, run on DuckDB or Spark.

* :mod:`clvlib.engine.customers`: every customer's features at every cut, order summaries, spend in a window;
* :mod:`clvlib.engine.users`: every clickstream user's features at every cut (also joined to linked customers);
* :mod:`clvlib.engine.links`: customers and users in order of activity at every cut, for the synthetic links;
* :mod:`clvlib.engine.backend`: running one DuckDB-dialect SQL text on DuckDB (in process) or on Spark
  (transpiled by sqlglot), on Arrow tables handed over from pandas.

Each definition is one SQL text, not an Ibis expression: DuckDB runs it as written, sqlglot turns it into
Spark SQL, and an analyst can read it. The library functions that used to compute these in pandas
(``population_features``, ``build_snapshots``, ``holdout_labels``, ``user_features``, ``customer_summary``,
``build_click_snapshots``, ``build_links``) call the engine and keep their signatures and outputs. It belongs
to the bottom layer: it imports only :mod:`clvlib.dates`, :mod:`clvlib.io` and :mod:`clvlib.schemas`.
"""
