"""Inventory of the raw files: size, rows, columns, types, nulls, date ranges, key uniqueness."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from clvlib.data.readers import _quote
from clvlib.io import sql_string
from clvlib.schemas import EXPECTED_FILES, EXPECTED_SCHEMAS

__all__ = ["EXPECTED_KEYS", "profile_csv", "inventory", "inventory_spec", "inventory_table", "inventory_tables", "inventory_flags",
           "looks_like_dates"]


#: Columns (or column lists) that should identify a row in each file.
EXPECTED_KEYS: dict[str, list[str]] = {
    "customers": ["customer_id"],
    "orders": ["order_id"],
    "order_items": ["order_id", "order_item_id"],
    "payments": ["order_id", "payment_sequential"],
    "reviews": ["review_id", "order_id"],
    "products": ["product_id"],
    "sellers": ["seller_id"],
    "category_translation": ["product_category_name"],
    "clickstream": ["UserID", "SessionID", "Timestamp"],
}


def looks_like_dates(values: pd.Series, sample: int = 500) -> bool:
    """True when a text column's non-empty values parse as dates.

    Only text columns that contain a date separator are candidates, so numeric IDs,
    zip codes and amounts are never taken for dates.
    """
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    s = values.dropna().astype(str)
    if s.empty:
        return False
    s = s.head(sample)
    if not s.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return False
    return bool(pd.to_datetime(s, errors="coerce", format="mixed").notna().all())


def profile_csv(path: str | Path, table: str | None = None) -> dict:
    """Profile one CSV: bytes, rows, columns with dtype and null count, date ranges, key uniqueness.

    Returns
    -------
    dict
        ``file``, ``table``, ``bytes``, ``rows``, ``columns`` (list of {name, dtype, nulls}),
        ``dates`` ({column: {min, max, unparsed}}), ``key`` ({columns, unique, duplicates}),
        ``schema`` ({missing, unexpected}) and ``problems`` (list of plain-words strings).
    """
    path = Path(path)
    out: dict = {"file": path.name, "path": str(path), "table": table, "bytes": path.stat().st_size, "problems": []}
    if out["bytes"] == 0:
        out.update(rows=0, columns=[], dates={}, key=None, schema=None)
        out["problems"].append("empty file (0 bytes)")
        return out
    try:
        df = pd.read_csv(path, low_memory=False, encoding="utf-8-sig", dtype_backend="numpy_nullable")
    except pd.errors.EmptyDataError:
        out.update(rows=0, columns=[], dates={}, key=None, schema=None)
        out["problems"].append("no header and no rows")
        return out
    except UnicodeDecodeError as exc:
        out.update(rows=None, columns=[], dates={}, key=None, schema=None)
        out["problems"].append(f"not UTF-8 text ({exc.reason} at byte {exc.start}; encoding): save it as UTF-8")
        return out
    except pd.errors.ParserError as exc:
        out.update(rows=None, columns=[], dates={}, key=None, schema=None)
        out["problems"].append(f"not a well-formed CSV ({str(exc).strip()}): a stray delimiter or an unquoted field")
        return out
    out["rows"] = len(df)
    if df.empty:
        out["problems"].append("header only, no data rows")
    nulls = df.isna().sum()
    out["columns"] = [{"name": c, "dtype": str(df[c].dtype), "nulls": int(nulls[c])} for c in df.columns]
    dates = {}
    for c in df.columns:
        if looks_like_dates(df[c]):
            parsed = pd.to_datetime(df[c], errors="coerce", format="mixed")
            dates[c] = {"min": str(parsed.min()), "max": str(parsed.max()),
                        "unparsed": int((parsed.isna() & df[c].notna()).sum())}
    out["dates"] = dates
    if table in EXPECTED_SCHEMAS:
        expected = EXPECTED_SCHEMAS[table]
        missing = [c for c in expected if c not in df.columns]
        unexpected = [c for c in df.columns if c not in expected]
        out["schema"] = {"missing": missing, "unexpected": unexpected}
        if missing:
            out["problems"].append(f"missing expected column(s) {missing}")
        if unexpected:
            out["problems"].append(f"unexpected column(s) {unexpected}")
    else:
        out["schema"] = None
    key = EXPECTED_KEYS.get(table or "")
    if key and all(k in df.columns for k in key):
        dup = int(df.drop_duplicates().duplicated(key).sum())  # repeated identical rows are read once, not a clash
        out["key"] = {"columns": key, "unique": dup == 0, "duplicates": dup}
        if dup:
            out["problems"].append(f"key {key} repeats on {dup} row(s)")
    else:
        out["key"] = None
    return out


def inventory(files: dict[str, Path], raw_dir: str | Path | None = None) -> dict:
    """Profile every raw file found and flag expected files that are absent.

    Parameters
    ----------
    files
        Logical table name -> path (from :func:`clvlib.paths.find_raw_files`).
    raw_dir
        The folder searched, recorded in the result. Any other CSV below it is listed as extra.

    Returns
    -------
    dict
        ``raw_dir``, ``tables`` (name -> profile), ``missing_files`` and ``extra_files``.
    """
    tables = {name: profile_csv(path, name) for name, path in sorted(files.items())}
    missing = [EXPECTED_FILES[k] for k in EXPECTED_FILES if k not in files]
    extra: list[str] = []
    if raw_dir is not None:
        known = {Path(p).resolve() for p in files.values()}
        extra = sorted(str(p) for p in Path(raw_dir).rglob("*.csv") if p.resolve() not in known)
    return {"raw_dir": str(raw_dir) if raw_dir else None, "tables": tables, "missing_files": missing, "extra_files": extra}


def inventory_table(inv: dict) -> pd.DataFrame:
    """One row per file: rows, size, columns, nulls, date range, key uniqueness, problems."""
    rows = []
    for name, p in inv["tables"].items():
        dr = [f"{c}: {d['min'][:10]} .. {d['max'][:10]}" for c, d in p.get("dates", {}).items()]
        rows.append({
            "table": name, "file": p["file"], "rows": p.get("rows", 0), "MB": round(p["bytes"] / 1e6, 2),
            "columns": len(p.get("columns", [])),
            "null cells": sum(c["nulls"] for c in p.get("columns", [])),
            "date columns": len(dr),
            "key unique": None if not p.get("key") else p["key"]["unique"],
            "problems": "; ".join(p["problems"]) or "none",
        })
    return pd.DataFrame(rows)



def inventory_tables(inv: dict) -> dict[str, pd.DataFrame]:
    """The report's tables: ``files`` (see :func:`inventory_table`), ``dates``, ``nulls`` (columns with nulls), ``keys``."""
    dates = pd.DataFrame([{"table": t, "column": c, **d} for t, p in inv["tables"].items() for c, d in p["dates"].items()])
    cols = pd.DataFrame([{"table": t, **c} for t, p in inv["tables"].items() for c in p["columns"]])
    keys = pd.DataFrame([{"table": t, "key": " + ".join(p["key"]["columns"]), "unique": p["key"]["unique"],
                          "duplicate rows": p["key"]["duplicates"]} for t, p in inv["tables"].items() if p["key"]])
    nulls = cols[cols["nulls"] > 0].reset_index(drop=True) if len(cols) else cols
    return {"files": inventory_table(inv), "dates": dates, "nulls": nulls, "keys": keys}


def inventory_flags(inv: dict, files: pd.DataFrame) -> str:
    """Markdown list of what needs attention: missing files, problems per file, extra CSVs."""
    lines = [f"- **{m}** is missing: the stages that need it will stop with an error." for m in inv["missing_files"]]
    lines += [f"- `{r.file}`: {r.problems}" for r in files[files["problems"] != "none"].itertuples()]
    lines += [f"- extra CSV, not one of the Kaggle files (a key file such as demo_user_key.csv is read by stage 03): `{x}`"
              for x in inv["extra_files"]]
    return "\n".join(lines) if lines else "No missing file, no unexpected schema, every key unique."


def _profile_loaded(loaded, table: str, ts_col: str | None, key: list[str] | None, source: str,
                    fmt: str | None) -> dict:
    """The :func:`profile_csv` record for a table read through a dataset spec."""
    from clvlib.data.canonical import parse_timestamps

    df = loaded.df
    out: dict = {"file": loaded.label, "path": source, "table": table,
                 "bytes": sum(f.stat().st_size for f in loaded.files), "rows": len(df), "problems": [], "schema": None}
    if df.empty:
        out["problems"].append("no data rows")
    nulls = df.isna().sum() + (df.astype("string").apply(lambda s: s.str.strip() == "").sum() if len(df) else 0)
    out["columns"] = [{"name": c, "dtype": str(df[c].dtype), "nulls": int(nulls[c])} for c in df.columns]
    out["dates"] = {}
    if ts_col:
        try:
            parsed = parse_timestamps(df[ts_col], loaded, f"[{table}]", ts_col, fmt)
            out["dates"][ts_col] = {"min": str(parsed.min()), "max": str(parsed.max()), "unparsed": 0}
        except ValueError as exc:
            out["problems"].append(str(exc))
    out["key"] = None
    if key:
        dup = int(df.drop_duplicates().duplicated(key).sum())  # repeated identical rows are read once, not a clash
        out["key"] = {"columns": key, "unique": dup == 0, "duplicates": dup}
    return out


def _timestamp_sql(column: str, sql_type: str, fmt: str | None) -> str:
    """A DuckDB expression of ``column`` as a naive UTC timestamp (NULL where it is not one)."""
    col, t = _quote(column), sql_type.upper()
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return f"timezone('UTC', {col})"
    if t.startswith("TIMESTAMP") or t == "DATE":
        return f"CAST({col} AS TIMESTAMP)"
    text = f"TRIM(CAST({col} AS VARCHAR))"
    return f"TRY_STRPTIME({text}, {sql_string(fmt)})" if fmt else f"TRY_CAST({text} AS TIMESTAMP)"


def profile_source(ts_spec, columns: list[str], table: str, ts_col: str | None, fmt: str | None,
                   threads: int | None = None) -> dict:
    """The :func:`profile_csv` record of a file source, from DuckDB aggregates: no row is loaded.

    Rows, per column its type and its empty cells (missing, NaN or blank text), and the timestamp
    column's range. Text timestamps that DuckDB cannot read are checked again by the stages' own
    parser (:func:`clvlib.data.canonical.parse_timestamps`), which names the values and rows.
    """
    from clvlib.data.canonical import parse_timestamps
    from clvlib.data.readers import query_files, read_source

    what = f"[{table}]"
    types = query_files(ts_spec, columns, what, lambda sql: f"DESCRIBE {sql}", threads).df
    types = dict(zip(types["column_name"], types["column_type"]))
    parts = ["COUNT(*) AS __rows"]
    for i, c in enumerate(columns):
        nan = f" WHEN isnan({_quote(c)}) THEN 1" if types[c].upper() in ("DOUBLE", "FLOAT", "REAL") else ""
        parts.append(f"SUM(CASE WHEN {_quote(c)} IS NULL THEN 1{nan} WHEN TRIM(CAST({_quote(c)} AS VARCHAR)) = '' "
                     f"THEN 1 ELSE 0 END) AS __null_{i}")
    if ts_col:
        expr = _timestamp_sql(ts_col, types[ts_col], fmt)
        parts += [f"MIN({expr}) AS __min", f"MAX({expr}) AS __max",
                  f"SUM(CASE WHEN TRIM(CAST({_quote(ts_col)} AS VARCHAR)) <> '' AND {expr} IS NULL THEN 1 ELSE 0 END) AS __bad"]
    loaded = query_files(ts_spec, columns, what, lambda sql: f"SELECT {', '.join(parts)} FROM ({sql}) AS q", threads)
    row = loaded.df.iloc[0]
    rows = int(row["__rows"])
    out: dict = {"file": loaded.label, "path": ts_spec.describe(), "table": table,
                 "bytes": sum(f.stat().st_size for f in loaded.files), "rows": rows, "problems": [], "schema": None,
                 "columns": [{"name": c, "dtype": types[c], "nulls": int(row[f"__null_{i}"] or 0)}
                             for i, c in enumerate(columns)],
                 "dates": {}, "key": None}
    if rows == 0:
        out["problems"].append("no data rows")
    if ts_col:
        low, high = row["__min"], row["__max"]
        if int(row["__bad"] or 0):  # DuckDB's reading is stricter than pandas' ISO 8601: let the stages' parser judge
            one = read_source(ts_spec, [ts_col], what, threads)
            try:
                parsed = parse_timestamps(one.df[ts_col], one, what, ts_col, fmt)
                low, high = parsed.min(), parsed.max()
            except ValueError as exc:
                out["problems"].append(str(exc))
                low = high = None
        if low is not None:
            out["dates"][ts_col] = {"min": str(pd.Timestamp(low)) if pd.notna(low) else "NaT",
                                    "max": str(pd.Timestamp(high)) if pd.notna(high) else "NaT", "unparsed": 0}
    return out


def inventory_spec(spec) -> dict:
    """Profile the tables a dataset spec declares (the columns it names), in the :func:`inventory` format.

    Parameters
    ----------
    spec
        A :class:`clvlib.data.spec.DatasetSpec` of layout ``spec``.
    """
    from clvlib.data.readers import read_source

    tables = {}
    o = spec.orders
    cols = [c for c in (o.customer, o.timestamp, o.amount, o.price, o.quantity, o.order_id, o.status, o.category,
                        o.region, o.payment_type, o.product) if c]
    from clvlib.data.readers import is_database

    def profile(ts_spec, cols, table, ts_col, fmt):  # files: DuckDB aggregates; a database table: its rows
        if is_database(ts_spec.path):
            return _profile_loaded(read_source(ts_spec, cols, f"[{table}]"), table, ts_col, None, ts_spec.describe(), fmt)
        return profile_source(ts_spec, list(dict.fromkeys(cols)), table, ts_col, fmt)

    tables["orders"] = profile(o.source, cols, "orders", o.timestamp, o.timestamp_format)
    if spec.events is not None:
        e = spec.events
        cols = [c for c in (e.user, e.timestamp, e.event_type, e.session, e.amount) if c]
        tables["events"] = profile(e.source, cols, "events", e.timestamp, e.timestamp_format)
    if spec.link is not None and spec.link.source is not None:
        lk = spec.link
        tables["link"] = _profile_loaded(read_source(lk.source, [lk.customer, lk.user], "[link]"), "link", None,
                                         [lk.user], lk.source.describe(), None)
    for name in ("customers", "products"):
        at = getattr(spec, name)
        if at is not None:
            tables[name] = _profile_loaded(read_source(at.source, [at.key, at.attribute], f"[{name}]"), name, None,
                                           [at.key], at.source.describe(), None)
    return {"raw_dir": str(Path(spec.file).parent) if spec.file else None, "tables": tables, "missing_files": [],
            "extra_files": [], "spec": spec.name}
