"""Reading raw tables with validation, and writing outputs atomically."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "read_table",
    "validate_columns",
    "parse_datetimes",
    "parse_numbers",
    "file_digest",
    "write_csv_atomic",
    "write_parquet_atomic",
    "write_parquet_parts_atomic",
    "ParquetTable",
    "sql_string",
    "write_json_atomic",
    "write_text_atomic",
    "json_safe",
    "read_json",
    "read_processed",
]


_KAGGLE_HINT = "Check that the file is the original Kaggle download and that no column was renamed."


def validate_columns(df: pd.DataFrame, required: Iterable[str], table: str, hint: str = _KAGGLE_HINT) -> None:
    """Raise ``ValueError`` naming ``table`` and every missing column.

    Parameters
    ----------
    df
        The table to check.
    required
        Column names that must be present.
    table
        A name for the table in the message, usually its file name.
    hint
        What the user can do about it, appended to the message.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{table}: expected a pandas DataFrame, got {type(df).__name__}.")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{table}: missing column(s) {missing}. Found columns: {list(df.columns)}. {hint}")


def parse_datetimes(
    values: pd.Series, table: str, column: str, allow_missing: bool = True,
    hint: str = "Fix or remove those rows in a copy of the file.",
) -> pd.Series:
    """Parse a column of timestamps; raise naming the table, column and bad-row count.

    Empty cells become ``NaT`` (allowed unless ``allow_missing`` is false); any
    non-empty cell that does not parse is an error, not a silent ``NaT``. Columns that are
    already datetimes pass through (a time zone is dropped, the wall time kept).
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = values
    else:
        raw = values.astype("string").str.strip()
        raw = raw.mask(raw == "")
        # ISO 8601 only (YYYY-MM-DD[ HH:MM:SS[.ffffff]]): "01/02/2018" is ambiguous (day or month first)
        # and a silent guess per cell would mix both readings in one column.
        parsed = pd.to_datetime(raw, errors="coerce", format="ISO8601", utc=False)
        bad = parsed.isna() & raw.notna()
        if bad.any():
            examples = raw[bad].unique()[:3].tolist()
            raise ValueError(
                f"{table}: column '{column}' has {int(bad.sum())} value(s) that are not ISO dates "
                f"(YYYY-MM-DD HH:MM:SS; e.g. {examples}). {hint}"
            )
    if not allow_missing and parsed.isna().any():
        raise ValueError(
            f"{table}: column '{column}' is empty in {int(parsed.isna().sum())} row(s); it must always be set. {hint}"
        )
    return parsed.astype("datetime64[ns]")


def parse_numbers(
    values: pd.Series, table: str, column: str, allow_negative: bool = False, allow_missing: bool = True,
    hint: str = "",
) -> pd.Series:
    """Parse a numeric column; raise naming the table, column and bad-row count.

    Non-numeric cells and infinities are errors; negative values too unless ``allow_negative``;
    empty cells too unless ``allow_missing``.
    """
    parsed = pd.to_numeric(values, errors="coerce")
    bad = parsed.isna() & values.notna() & (values.astype("string").str.strip() != "")
    if bad.any():
        examples = values[bad].astype(str).unique()[:3].tolist()
        raise ValueError(
            f"{table}: column '{column}' has {int(bad.sum())} non-numeric value(s) (e.g. {examples}). {hint}".rstrip()
        )
    parsed = parsed.astype("float64")
    if not allow_missing and parsed.isna().any():
        raise ValueError(f"{table}: column '{column}' is empty in {int(parsed.isna().sum())} row(s). {hint}".rstrip())
    if np.isinf(parsed).any():
        raise ValueError(f"{table}: column '{column}' has {int(np.isinf(parsed).sum())} infinite value(s).")
    if not allow_negative and (parsed < 0).any():
        n = int((parsed < 0).sum())
        raise ValueError(f"{table}: column '{column}' has {n} negative value(s); amounts must be >= 0. {hint}".rstrip())
    return parsed


def read_table(
    path: str | Path,
    required: Iterable[str],
    dates: Iterable[str] = (),
    numbers: Iterable[str] = (),
    strings: Iterable[str] = (),
    allow_negative: Iterable[str] = (),
    required_dates: Iterable[str] = (),
) -> pd.DataFrame:
    """Read a raw CSV, check its columns and parse typed columns, with actionable errors.

    Parameters
    ----------
    path
        The CSV file. It is only read, never modified.
    required
        Columns that must be present (only these are returned).
    dates, numbers, strings
        Columns to parse as timestamps, as floats, and to keep as strings (IDs).
    allow_negative
        Numeric columns where negative values are legitimate.
    required_dates
        Date columns that may not be empty.

    Returns
    -------
    pandas.DataFrame
        The required columns, typed.
    """
    path = Path(path)
    table = path.name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found.")
    if path.stat().st_size == 0:
        raise ValueError(f"{table}: the file is empty (0 bytes) at {path}.")
    required = list(required)
    str_cols = set(strings) | {c for c in required if c.endswith("_id")}
    try:
        df = pd.read_csv(path, dtype={c: "string" for c in str_cols}, encoding="utf-8-sig", low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{table}: the file has no header and no rows ({path}).") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{table}: the file is not UTF-8 text ({exc.reason} at byte {exc.start}). "
            "Save it as UTF-8 (the Kaggle originals are) and run again."
        ) from exc
    except pd.errors.ParserError as exc:
        raise ValueError(f"{table}: the file is not a well-formed CSV ({str(exc).strip()}): a line has more fields "
                         "than the header, usually a stray delimiter or an unquoted field (check the delimiter).") from exc
    validate_columns(df, required, table)
    if df.empty:
        raise ValueError(f"{table}: the file has a header but no data rows ({path}).")
    df = df[required].copy()
    for col in dates:
        df[col] = parse_datetimes(df[col], table, col, allow_missing=col not in set(required_dates))
    neg_ok = set(allow_negative)
    for col in numbers:
        df[col] = parse_numbers(df[col], table, col, allow_negative=col in neg_ok)
    return df


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (pd.Timestamp,)):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def _atomic_write(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; outputs are meant to be read and shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """BLAKE2b digest (hex, 32 characters) of a file's content."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write text (UTF-8) through a temporary file in the same folder and a rename."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    return _atomic_write(Path(path), write)


def write_csv_atomic(df: pd.DataFrame, path: str | Path, float_format: str | None = "%.6g") -> Path:
    """Write ``df`` to ``path`` through a temporary file and a rename, so a crash never leaves half a file."""
    return _atomic_write(
        Path(path), lambda tmp: df.to_csv(tmp, index=False, float_format=float_format, date_format="%Y-%m-%d %H:%M:%S")
    )


def write_parquet_atomic(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` to Parquet (no index) through a temporary file and a rename."""
    return _atomic_write(Path(path), lambda tmp: df.to_parquet(tmp, index=False))


def sql_string(text: Any) -> str:
    """``text`` as an SQL string literal (single quotes, inner quotes doubled), for DuckDB and Spark."""
    return "'" + str(text).replace("'", "''") + "'"


def write_parquet_parts_atomic(parts: Iterable[pd.DataFrame], path: str | Path) -> Path:
    """Write a table given in parts to one Parquet file (no index), through a temporary file and a rename.

    Only one part is held at a time, so a table larger than memory can be written. Each
    non-empty part becomes its own row group(s), so a reader that filters on a column constant
    within each part (e.g. a snapshot's cut) skips the others by the row groups' statistics.
    The column types are the first non-empty part's (an empty part's text column has no type
    yet); every part must have the same columns, and the others are cast to those types.

    Raises
    ------
    ValueError
        If there is no part, a part's columns differ from the first part's, or a part's column
        cannot be cast to the type the file has.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    name = Path(path).name

    def write(tmp: str) -> None:
        writer, names, schema, first_empty = None, None, None, None
        try:
            for k, part in enumerate(parts):
                table = pa.Table.from_pandas(part, preserve_index=False)
                if names is None:
                    names = table.schema.names
                elif table.schema.names != names:
                    raise ValueError(f"{name}: part {k + 1} has columns {table.schema.names}, the first part {names}.")
                if not table.num_rows:
                    if first_empty is None:
                        first_empty = table
                    continue
                if schema is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(tmp, schema)
                else:
                    table = _cast_part(table, schema, name, k + 1)
                writer.write_table(table, row_group_size=table.num_rows)
            if names is None:
                raise ValueError(f"{name}: no part to write.")
            if writer is None:  # only empty parts: the file still has the columns
                writer = pq.ParquetWriter(tmp, first_empty.schema)
                writer.write_table(first_empty)
        finally:
            if writer is not None:
                writer.close()

    return _atomic_write(Path(path), write)


def _cast_part(table: Any, schema: Any, name: str, k: int) -> Any:
    """``table`` cast to ``schema``; a column that cannot be is named."""
    import pyarrow as pa

    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        bad = [f.name for f in schema if table.schema.field(f.name).type != f.type]
        raise ValueError(f"{name}: part {k}'s column(s) {bad} cannot be stored as the first non-empty part's types "
                         f"({', '.join(str(schema.field(c).type) for c in bad)}): {exc}") from exc


class ParquetTable:
    """A Parquet file left on disk and read in slices: the rows where some columns equal given values.

    For stacked tables too large to hold whole (a snapshot per cut and link method, millions
    of people each): :meth:`where` reads one slice, through ``pandas.read_parquet`` with filters,
    so its dtypes are those of reading the whole file. Written by
    :func:`write_parquet_parts_atomic` with one part per slice, a slice's row groups are found
    by their statistics and the others are not read. :meth:`count_by` counts rows per group in
    DuckDB without loading a column.

    The file is the one that was there when the table was opened: a read after it was replaced
    (another run rewrote it) raises instead of mixing two versions.

    Parameters
    ----------
    path
        The Parquet file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._stamp = self._signature()

    def __repr__(self) -> str:
        return f"ParquetTable({str(self.path)!r})"

    def _signature(self) -> tuple[int, int, int]:
        st = os.stat(self.path)
        return st.st_size, st.st_mtime_ns, st.st_ino

    def _check(self) -> None:
        try:
            same = self._signature() == self._stamp
        except OSError:
            same = False
        if not same:
            raise RuntimeError(f"{self.path} was replaced or removed while it was being read (another run rewrote "
                               "it?). Run this stage again once that run has finished.")

    @property
    def columns(self) -> list[str]:
        """The file's column names."""
        import pyarrow.parquet as pq

        self._check()
        return list(pq.read_schema(self.path).names)

    def __len__(self) -> int:
        import pyarrow.parquet as pq

        self._check()
        return int(pq.ParquetFile(self.path).metadata.num_rows)

    def _known(self, names: Iterable[str]) -> None:
        """Raise, naming the file and its columns, if a name is not one of its columns."""
        columns = self.columns
        unknown = sorted(set(names) - set(columns))
        if unknown:
            raise ValueError(f"{self.path.name}: no column {unknown}; it has {columns}.")

    def where(self, **equal: Any) -> pd.DataFrame:
        """The rows whose columns equal the given values (all rows without any), in stored order."""
        self._known(equal)
        filters = [(col, "==", value) for col, value in equal.items()] or None
        out = pd.read_parquet(self.path, filters=filters)
        self._check()
        return out

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every row, of ``columns`` only (all by default)."""
        self._check()
        out = pd.read_parquet(self.path, columns=columns)
        self._check()
        return out

    def count_by(self, by: list[str], share_positive: str | None = None) -> pd.DataFrame:
        """Rows per distinct value of ``by`` (column ``rows``), sorted by ``by``, counted in DuckDB.

        ``share_positive``: also the share of rows where that column is above zero (``positive_share``).
        No column is loaded into pandas, so this stays small for a table of hundreds of millions of rows.
        """
        import duckdb

        self._known([*by, *([share_positive] if share_positive else [])])
        keys = ", ".join(f'"{c}"' for c in by)
        share = (f', AVG(CASE WHEN "{share_positive}" > 0 THEN 1.0 ELSE 0.0 END) AS positive_share'
                 if share_positive else "")
        con = duckdb.connect()
        try:
            out = con.sql(f"SELECT {keys}, COUNT(*) AS rows{share} FROM read_parquet({sql_string(self.path)}) "
                          f"GROUP BY {keys} ORDER BY {keys}").to_arrow_table().to_pandas()
        finally:
            con.close()
        self._check()
        return out


def json_safe(obj: Any) -> Any:
    """Replace NaN and infinities by None, recursively, so the JSON is standard."""
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def write_json_atomic(obj: Mapping[str, Any] | list, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON through a temporary file and a rename (NaN becomes null)."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(json_safe(obj), fh, indent=2, default=_json_default, allow_nan=False)
            fh.write("\n")

    return _atomic_write(Path(path), write)


def read_json(path: str | Path) -> Any:
    """Read a JSON file written by :func:`write_json_atomic`."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_processed(path: str | Path, dates: Iterable[str] = (), stage_hint: str = "") -> pd.DataFrame:
    """Read a file an earlier stage wrote; a missing file names the stage to run first."""
    path = Path(path)
    if not path.is_file():
        hint = f" Run stage {stage_hint} first (python run_all.py --stages {stage_hint})." if stage_hint else ""
        raise FileNotFoundError(f"{path} does not exist.{hint}")
    df = pd.read_csv(path, dtype={"customer_unique_id": "string", "customer_id": "string", "order_id": "string"},
                     low_memory=False)
    for col in dates:
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], format="ISO8601").astype("datetime64[ns]")
    return df
