"""Stage 02's cleaned events computed by DuckDB straight from a spec's files, without loading the raw rows.

:func:`clean_events_duckdb` gives what :func:`clvlib.data.canonical.canonical_events` followed by
:func:`clvlib.data.clickstream.clean_events` give: the same rows in the same order, the same types
and the same drop logs (the tests compare the two paths on hand-made inputs and on the demo). The
rows are read, trimmed, parsed, mapped, deduplicated, filtered, sessionised and sorted by DuckDB;
only the result reaches pandas. On the demo at 10x Olist (8.3 million events) it takes 6 s and
peaks at 2.0 GB, against 17 s for the pandas path, with a byte-identical ``events.parquet``. At
100x (83 million events) stage 02 took 160 s instead of 324 s, but its peak (19 GB) did not fall:
the result itself, held as a pandas frame and copied to Arrow for the per-user query, is the peak.

It handles the common case and leaves every other to the pandas path, which stays the reference:
it returns ``None`` (and the caller reads the rows with pandas) when

* the source is a database rather than files, or the spec gives ``timestamp_format``;
* the timestamp column is neither text nor a microsecond timestamp (Parquet nanoseconds or dates),
  an id column neither text nor integers, or the amount column neither text nor a number;
* any value would need the pandas path's judgement: a timestamp that is not plain ISO 8601
  (``YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][Z|+HH:MM]``, hours 00-23) or lies outside 1677-09-22 ..
  2262-04-11 (a placeholder such as 9999-12-31), an amount that is not a plain decimal number
  or one of :data:`~clvlib.data.canonical.NULL_MARKERS`, an infinite or negative amount, a missing
  integer id (pandas reads such a column as floats), or timestamps far outside the bulk of the
  data. Those are the rows the pandas path turns into an error naming the file, the line and
  examples, so an input with a problem gets exactly the message it got before.

Written by hand rather than with a library: it is the pandas path's own definitions in DuckDB's
SQL, one query per step so that each step's count reaches the drop log.
"""

from __future__ import annotations

import functools

import pandas as pd

from clvlib.data.canonical import NULL_MARKERS, TIMESTAMP_MAX, TIMESTAMP_MIN
from clvlib.data.droplog import DropLog
from clvlib.data.readers import _quote, source_query
from clvlib.io import sql_string
from clvlib.data.spec import EventsSpec, is_database
from clvlib.dates import end_of_day
from clvlib.schemas import EVENT_TYPES, USER

__all__ = ["clean_events_duckdb"]

#: Plain ISO 8601 timestamps, the only text timestamps this path parses (DuckDB and pandas agree on them).
ISO_TIMESTAMP = (r"\d{4}-\d{2}-\d{2}([ T]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?)?"
                 r"(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?")
#: Plain decimal numbers, the only text amounts this path parses.
PLAIN_NUMBER = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
_NATIVE_TIMES = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "VARCHAR")
_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
_NUMBERS = _INTEGERS + ("FLOAT", "DOUBLE")


@functools.cache
def _space_chars() -> str:
    """Every character pandas' ``str.strip()`` removes from a pyarrow string (Unicode white space)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    chars = [chr(c) for c in range(0x3001) if not 0xD800 <= c <= 0xDFFF]
    stripped = pc.utf8_trim_whitespace(pa.array(chars)).to_pylist()
    return "".join(c for c, s in zip(chars, stripped) if s == "")


def _trimmed(col: str) -> str:
    """``col`` as text with white space trimmed at both ends, as pandas' ``str.strip()`` does.

    DuckDB's ``trim`` with a set of characters is slow (4 s for three columns of 8.3 million rows),
    so it is applied only to values that start or end with one of them.
    """
    x, ws = f"CAST({_quote(col)} AS VARCHAR)", sql_string(_space_chars())
    return f"(CASE WHEN contains({ws}, left({x}, 1)) OR contains({ws}, right({x}, 1)) THEN trim({x}, {ws}) ELSE {x} END)"


def _log_rows(log: DropLog, steps: list[tuple[str, int, str]], n: int) -> int:
    for name, after, reason in steps:
        log.step(name, n, after, reason)
        n = after
    return n


def clean_events_duckdb(spec: EventsSpec, end: str | pd.Timestamp | None = None, require_purchase_amount: bool = True,
                        threads: int | None = None, today: pd.Timestamp | None = None,
                        ) -> tuple[pd.DataFrame, DropLog, DropLog] | None:
    """Read and clean a spec's ``[events]`` files in DuckDB, or ``None`` to leave them to the pandas path.

    Parameters
    ----------
    spec
        The ``[events]`` of a dataset spec.
    end
        Drop events after this day (as :func:`clvlib.data.clickstream.clean_events`).
    require_purchase_amount
        Drop purchases without a positive amount (when the spec names an amount column).
    threads
        DuckDB threads (default: one per core).
    today
        "Now" for the check of future timestamps (default: today, as the pandas path).

    Returns
    -------
    tuple or None
        ``(events, canonical_log, clean_log)``: the canonical events (``UserID``, ``SessionID``,
        ``Timestamp``, ``EventType``, ``Amount``, sorted by user and time), the drop log of
        reading them and the drop log of cleaning them; or ``None`` when the pandas path must
        decide (see the module docstring).
    """
    src = spec.source
    if is_database(src.path) or spec.timestamp_format:
        return None
    cols = list(dict.fromkeys(c for c in (spec.user, spec.timestamp, spec.event_type, spec.session, spec.amount) if c))
    with source_query(src, cols, "[events]", threads) as (con, select, label):
        con.execute("SET TimeZone = 'UTC'")
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {select}").fetchall()}
        ts_type = types[spec.timestamp]
        ids = list(dict.fromkeys(c for c in (spec.user, spec.event_type, spec.session) if c))
        amount_text = bool(spec.amount) and types[spec.amount] == "VARCHAR"
        if ts_type not in _NATIVE_TIMES or any(types[c] != "VARCHAR" and types[c] not in _INTEGERS for c in ids) \
                or (spec.amount and not amount_text and types[spec.amount] not in _NUMBERS):
            return None

        ts_raw = _trimmed(spec.timestamp)
        if ts_type == "VARCHAR":
            ts = f"CAST(TRY_CAST(NULLIF({ts_raw}, '') AS TIMESTAMPTZ) AS TIMESTAMP)"
        elif ts_type == "TIMESTAMP WITH TIME ZONE":
            ts = f"CAST({_quote(spec.timestamp)} AS TIMESTAMP)"  # in the session's time zone, UTC
        else:
            ts = _quote(spec.timestamp)
        markers = "(" + ", ".join(sql_string(m) for m in NULL_MARKERS) + ")"
        if spec.amount is None:
            amount = "CAST(NULL AS DOUBLE)"
        elif amount_text:
            amount = (f"CASE WHEN {_trimmed(spec.amount)} IN {markers} THEN NULL "
                      f"ELSE TRY_CAST({_trimmed(spec.amount)} AS DOUBLE) END")
        else:
            a = f"CAST({_quote(spec.amount)} AS DOUBLE)"
            amount = f"CASE WHEN isnan({a}) THEN NULL ELSE {a} END"

        # 1. Would any row need the pandas path's judgement (an error with lines and examples)?
        checks = [f"{_quote(c)} IS NULL" for c in ids if types[c] != "VARCHAR"]  # pandas reads them as floats
        # a date pandas cannot hold (a placeholder such as 9999-12-31): the pandas path's error names the lines
        checks.append(f"{ts} < TIMESTAMP '{TIMESTAMP_MIN}' OR {ts} > TIMESTAMP '{TIMESTAMP_MAX}'")
        if ts_type == "VARCHAR":
            checks.append(f"{ts_raw} <> '' AND (NOT regexp_full_match({ts_raw}, {sql_string(ISO_TIMESTAMP)}) OR {ts} IS NULL)")
        if amount_text:
            a = _trimmed(spec.amount)
            checks.append(f"{a} NOT IN {markers} AND (NOT regexp_full_match({a}, {sql_string(PLAIN_NUMBER)}) "
                          f"OR TRY_CAST({a} AS DOUBLE) IS NULL)")
        if spec.amount:
            checks.append(f"isinf({amount}) OR {amount} < 0")
        found = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {' OR '.join(f'({c})' for c in checks) or 'FALSE'}) "
                            f"FROM ({select})").fetchall()[0]
        if found[1]:
            return None
        n_read = int(found[0])

        # 2. The canonical rows, each with its first row number; exact duplicates of the raw row kept once.
        raw_cols = ", ".join(_quote(c) for c in cols)
        # NaN and a missing value are the same to pandas' duplicate check: make them one value for DuckDB's too
        floats = [c for c in cols if types[c] in ("FLOAT", "DOUBLE")]
        nan_free = (" REPLACE (" + ", ".join(f"CASE WHEN isnan({_quote(c)}) THEN NULL ELSE {_quote(c)} END AS {_quote(c)}"
                                             for c in floats) + ")") if floats else ""
        mapping = {n: ours for ours, theirs in spec.types.items() for n in theirs} if spec.types else {}
        known = "coalesce(EventType IN (" + ", ".join(sql_string(t) for t in EVENT_TYPES) + "), FALSE)"
        session = _trimmed(spec.session) if spec.session else "CAST(NULL AS VARCHAR)"
        if mapping:  # the user's names -> ours, by a join with the (small) mapping rather than a CASE per name
            pairs = ", ".join(f"({sql_string(k)}, {sql_string(v)})" for k, v in mapping.items())
            typed = f"t LEFT JOIN (VALUES {pairs}) AS m(__theirs, EventType) ON t.__name = m.__theirs"
        else:
            typed = "(SELECT *, __name AS EventType FROM t) AS t"
        con.execute(f"""CREATE TEMP TABLE canon AS
            WITH src AS (SELECT row_number() OVER () AS __rid, *{nan_free} FROM ({select})),
                 d AS (SELECT min(__rid) AS __rid, {raw_cols} FROM src GROUP BY {raw_cols}),
                 t AS (SELECT __rid, {_trimmed(spec.user)} AS UserID, {session} AS SessionID, {ts} AS Timestamp,
                              {_trimmed(spec.event_type)} AS __name, {amount} AS Amount FROM d)
            SELECT __rid, UserID, SessionID, Timestamp, __name, EventType, Amount FROM {typed}""")
        conds = [("exact duplicate events", "TRUE", "the same event recorded twice; kept one"),
                 ("events without a user", "UserID IS NOT NULL AND UserID <> ''", f"column {spec.user!r} is empty"),
                 ("events without a timestamp", "Timestamp IS NOT NULL", f"column {spec.timestamp!r} is empty"),
                 ("event types not mapped", known, None)]
        if spec.valid_from is not None:
            conds.append(("rows before valid_from", f"Timestamp >= TIMESTAMP {sql_string(str(pd.Timestamp(spec.valid_from)))}",
                          f"dated before {spec.valid_from} (valid_from in the spec)"))
        if spec.valid_to is not None:
            conds.append(("rows after valid_to", f"Timestamp < TIMESTAMP {sql_string(str(end_of_day(spec.valid_to)))}",
                          f"dated after {spec.valid_to} (valid_to in the spec)"))
        counts = ", ".join(f"count(*) FILTER (WHERE {' AND '.join(c for _, c, _ in conds[:k + 1])})"
                           for k in range(len(conds)))
        kept_where = " AND ".join(c for _, c, _ in conds)
        before_types = " AND ".join(c for _, c, _ in conds[:3])
        after = [int(v) for v in con.execute(f"SELECT {counts} FROM canon").fetchall()[0]]
        top = con.execute(f"SELECT __name, count(*) AS n FROM canon WHERE {before_types} AND NOT ({known}) "
                          "AND __name IS NOT NULL GROUP BY __name ORDER BY n DESC, min(__rid) LIMIT 5").fetchall()
        # (ties in the order the names first appear, as pandas' value_counts lists them)
        listed = ", ".join(f"{k!r} ({v:,})" for k, v in top)
        reasons = [r if r is not None else (
            f"not one of our types {list(EVENT_TYPES)} nor mapped in [events.types]: {listed}" if top
            else "every event name is mapped") for _, _, r in conds]
        con.execute(f"CREATE TEMP VIEW kept AS SELECT * EXCLUDE (__name) FROM canon WHERE {kept_where}")

        # 3. The plausibility check on what is kept: the pandas path's far_outside, by rank.
        n_kept = after[-1]
        if n_kept >= 20:
            lo_at, hi_at = -(-(n_kept - 1) // 100), (99 * (n_kept - 1)) // 100
            lo_hi = [con.execute(f"SELECT Timestamp FROM kept ORDER BY Timestamp LIMIT 1 OFFSET {k}").fetchall()[0][0]
                     for k in (lo_at, hi_at)]
            lo, hi = (pd.Timestamp(v) for v in lo_hi)
            span = max(hi - lo, pd.Timedelta(days=30))
            now = pd.Timestamp.now().normalize() + pd.Timedelta(days=2) if today is None else pd.Timestamp(today)
            far = con.execute("SELECT count(*) FROM kept WHERE Timestamp < ? OR Timestamp > ? OR Timestamp > ?",
                              [(lo - span).to_pydatetime(), (hi + span).to_pydatetime(), now.to_pydatetime()]).fetchall()[0][0]
            if far:
                return None

        log = DropLog("events")
        log.start(n_read, f"rows read from {label}")
        n = _log_rows(log, [(s, a, r) for (s, _, _), a, r in zip(conds, after, reasons)], n_read)
        users = con.execute("SELECT count(DISTINCT UserID) FROM kept").fetchall()[0][0]
        log.step("events kept", n, n, f"{users:,} users")

        # 4. Sessions by the gap when the spec has none; then clean_events' steps; sorted by user and time.
        if not spec.session:
            gap_ns = pd.Timedelta(minutes=spec.session_gap_minutes).value  # compared in nanoseconds, as pandas does
            con.execute(f"""CREATE TEMP TABLE sess AS SELECT * EXCLUDE (SessionID, __new),
                    CAST(sum(__new) OVER (PARTITION BY UserID ORDER BY Timestamp, __rid
                                          ROWS UNBOUNDED PRECEDING) AS VARCHAR) AS SessionID
                FROM (SELECT *, CASE WHEN (epoch_us(Timestamp) - lag(epoch_us(Timestamp)) OVER w) * 1000 > {gap_ns}
                                          OR lag(Timestamp) OVER w IS NULL THEN 1 ELSE 0 END AS __new
                      FROM kept WINDOW w AS (PARTITION BY UserID ORDER BY Timestamp, __rid))""")
            con.execute("DROP TABLE canon")
        canon_cols = "UserID, SessionID, Timestamp, EventType, Amount"
        con.execute(f"CREATE TEMP VIEW once AS SELECT min(__rid) AS __rid, {canon_cols} "
                    f"FROM {'kept' if spec.session else 'sess'} GROUP BY ALL")
        steps = [("exact duplicate events", "TRUE", "the same event recorded twice"),
                 ("events without user or session", "UserID IS NOT NULL AND SessionID IS NOT NULL",
                  "cannot be attributed to a user"),
                 ("unknown event types", known, f"EventType not one of {list(EVENT_TYPES)}")]
        if require_purchase_amount:
            steps.append(("purchases without a positive amount", "NOT (EventType = 'purchase' AND coalesce(Amount <= 0, TRUE))",
                          "a purchase must carry its amount"))
        if end is not None:
            steps.append(("events after the cut-off", f"Timestamp < TIMESTAMP {sql_string(str(end_of_day(end)))}",
                          f"dated after {pd.Timestamp(end).date()}"))
        counts = ", ".join(f"count(*) FILTER (WHERE {' AND '.join(c for _, c, _ in steps[:k + 1])})"
                           for k in range(len(steps)))
        after2 = [int(v) for v in con.execute(f"SELECT {counts} FROM once").fetchall()[0]]
        clean = DropLog("events")
        clean.start(n, "events read")
        _log_rows(clean, [(s, a, r) for (s, _, r), a in zip(steps, after2)], n)
        table = con.sql(f"SELECT {canon_cols} FROM once WHERE {' AND '.join(c for _, c, _ in steps)} "
                            "ORDER BY UserID, Timestamp, __rid").to_arrow_table()
    events = table.to_pandas(self_destruct=True)
    del table
    events[USER] = events[USER].astype("string")
    events["SessionID"] = events["SessionID"].astype("string")
    events["Timestamp"] = events["Timestamp"].astype("datetime64[ns]")
    events["EventType"] = events["EventType"].astype("str")
    events["Amount"] = events["Amount"].astype("float64")
    return events, log, clean
