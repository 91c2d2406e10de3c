"""Reading a spec's tables with DuckDB: CSV or Parquet files, folders and globs, DuckDB and PostgreSQL databases.

Only the columns the spec names are read (DuckDB pushes the projection into the scan). CSV cells
arrive as text, so every type is checked once, by :mod:`clvlib.data.canonical`, with messages that
name the file, the column and the rows. Reading errors are turned into messages that name the file
and the line and say "encoding" or "delimiter" when that is the likely cause.
"""

from __future__ import annotations

import csv
import glob
import re
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from clvlib.data.spec import TableSpec, duckdb_file, is_database
from clvlib.engine.backend import duckdb_connect
from clvlib.io import sql_string

__all__ = ["DataInputError", "Loaded", "source_files", "read_source", "query_files", "source_query", "duckdb_connection"]

_FILE_COL = "__file"


class DataInputError(ValueError):
    """An input table that cannot be read as declared; the message names the source and what to do."""


@dataclass
class Loaded:
    """A table read from a source: the rows (in file order), what to call it, and where each row came from."""

    df: pd.DataFrame
    label: str
    files: list[Path]
    file_of_row: pd.Series | None = None

    def where(self, mask: pd.Series, limit: int = 3) -> str:
        """Where the first ``limit`` rows of ``mask`` are, as "file line N" (CSV) or "row N"."""
        idx = list(mask[mask].index[:limit])
        if not idx:
            return ""
        is_csv = bool(self.files) and all(f.suffix.lower() != ".parquet" for f in self.files)
        if self.file_of_row is None:
            return ", ".join(f"line {i + 2}" if is_csv else f"row {i + 1}" for i in idx)
        pos = self.file_of_row.groupby(self.file_of_row, observed=True).cumcount()
        return ", ".join(f"{Path(self.file_of_row[i]).name} {'line' if is_csv else 'row'} "
                         f"{int(pos[i]) + (2 if is_csv else 1)}" for i in idx)


def duckdb_connection(threads: int | None = None):
    """A DuckDB connection (in memory) with a bounded thread count."""
    return duckdb_connect(threads)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def source_files(ts: TableSpec, what: str) -> list[Path]:
    """The files a file source names (a file, a folder of CSV/Parquet files, or a glob), sorted.

    Raises
    ------
    DataInputError
        When nothing matches, or a folder mixes CSV and Parquet.
    """
    p = Path(ts.path)
    if any(ch in ts.path for ch in "*?["):
        files = sorted(Path(f) for f in glob.glob(ts.path, recursive=True) if Path(f).is_file())
    elif p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in (".csv", ".parquet", ".txt"))
    elif p.is_file():
        files = [p]
    else:
        raise DataInputError(f"{what}: {ts.path} does not exist.")
    if not files:
        raise DataInputError(f"{what}: no CSV or Parquet file matches {ts.path}.")
    kinds = {_format(f, ts) for f in files}
    if len(kinds) > 1:
        raise DataInputError(f"{what}: {ts.path} mixes CSV and Parquet files ({[f.name for f in files[:5]]}); "
                             "point path at one kind, e.g. a glob ending in *.parquet.")
    return files


def _format(f: Path, ts: TableSpec) -> str:
    if ts.format:
        return ts.format
    return "parquet" if f.suffix.lower() in (".parquet", ".pq") else "csv"


def _csv_header(f: Path, ts: TableSpec, what: str) -> list[str]:
    enc = "utf-8-sig" if ts.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else ts.encoding
    with open(f, "rb") as fh:
        first = fh.readline()
    try:
        line = first.decode(enc)
    except UnicodeDecodeError as exc:
        raise DataInputError(f"{what}: {f} line 1 (the header) is not {ts.encoding} text (encoding). Set encoding = "
                             "\"latin-1\" (or the file's encoding) in the spec, or save it as UTF-8.") from exc
    except LookupError as exc:
        raise DataInputError(f"{what}: unknown encoding {ts.encoding!r} in the spec.") from exc
    header = next(csv.reader([line.rstrip("\r\n")], delimiter=ts.delimiter), None)
    if not header or header == [""]:
        raise DataInputError(f"{what}: {f} is empty (no header line).")
    return [h.strip() for h in header]


def _column_names(header: list[str], columns: Sequence[str], f: Path, what: str) -> list[str]:
    """The header's names as DuckDB's ``columns`` can take them: an empty name (R's ``write.csv`` row-name column,
    pandas' unnamed index) or a repeated one gets a placeholder; the spec never names those. A repeated name the
    spec does use is refused: which of the columns is meant cannot be told."""
    repeated = sorted({c for c in columns if header.count(c) > 1})
    if repeated:
        raise DataInputError(f"{what}: {f} has more than one column named {repeated}; rename them so that each "
                             "column the spec names appears once in the header.")
    names: list[str] = []
    for i, h in enumerate(header):
        if h == "" or h in names:
            h = f"column{i}"
            while h in header or h in names:
                h = "_" + h
        names.append(h)
    return names


def _check_header(header: list[str], columns: Sequence[str], f: Path, ts: TableSpec, what: str) -> None:
    missing = [c for c in columns if c not in header]
    if not missing:
        return
    hint = ""
    if len(header) == 1:
        for d, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")):
            if d != ts.delimiter and d in header[0]:
                hint = (f" The header is one field containing {name}s: the file looks {name}-delimited; set "
                        f"delimiter = {chr(34) + (chr(92) + 't' if d == chr(9) else d) + chr(34)} in the spec.")
                break
    raise DataInputError(f"{what}: {f} has no column(s) {missing} (the spec names them). Columns in the file: "
                         f"{header[:20]}{' ...' if len(header) > 20 else ''}.{hint}")


def _duckdb_error(exc: Exception, what: str, files: list[Path], ts: TableSpec) -> DataInputError:
    msg = str(exc)
    line = re.search(r"CSV Error on Line: (\d+)", msg)
    original = re.search(r"Original Line: (.*)", msg)
    fname = re.search(r"file = (.*)", msg)
    where = f"{fname.group(1).strip() if fname else files[0]}" + (f" line {line.group(1)}" if line else "")
    shown = f" ({original.group(1)[:120]!r})" if original else ""
    low = msg.lower()
    # DuckDB says "Invalid unicode ... not utf-8 encoded"; a bare "encoding" may be the echo of our own SQL
    # (encoding='utf-8') in an unrelated error, so it is not taken as an encoding problem.
    if "unicode" in low or "encoded" in low:
        return DataInputError(f"{what}: {where}{shown} is not {ts.encoding} text (encoding). Set encoding = "
                              "\"latin-1\" (or the file's encoding) in the spec, or save the file as UTF-8.")
    cols = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", msg)
    if cols:
        return DataInputError(f"{what}: {where}{shown} has {cols.group(2)} fields but the header has {cols.group(1)} "
                              f"(delimiter {ts.delimiter!r}): a stray delimiter or an unquoted field. Check the "
                              "delimiter and quoting of that line.")
    first = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
    return DataInputError(f"{what}: could not read {where}{shown}: {first}")


def _distinct(sql: str, columns: Sequence[str]) -> str:
    cols = ", ".join(_quote(c) for c in columns)
    return f"SELECT DISTINCT {cols} FROM ({sql}) AS q ORDER BY {cols}"


def _file_select(ts: TableSpec, columns: Sequence[str], what: str, con, many: bool) -> tuple[str, list[Path]]:
    """The SELECT reading ``columns`` of a file source on ``con`` (headers checked), and the files it reads.

    With ``many``, each row also gets its file as the categorical column ``__file``.
    """
    import duckdb

    files = source_files(ts, what)
    kind = _format(files[0], ts)
    listing = "[" + ", ".join(sql_string(f) for f in files) + "]"
    # Each row's file as a categorical (an ENUM of the listed files): one byte per row instead of a path string,
    # which took as much memory as the event columns themselves on a folder of Parquet files.
    cols = ", ".join(_quote(c) for c in columns) + (f", CAST(filename AS __files) AS {_FILE_COL}" if many else "")
    if many:
        con.execute(f"CREATE TYPE __files AS ENUM ({', '.join(sql_string(f) for f in files)})")
    if kind == "parquet":
        try:
            schema = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({listing}, union_by_name=true)").fetchall()]
        except duckdb.Error as exc:
            raise DataInputError(f"{what}: {ts.path} is not readable Parquet: {str(exc).splitlines()[0]}") from exc
        _check_header(schema, columns, files[0], ts, what)
        return f"SELECT {cols} FROM read_parquet({listing}, union_by_name=true, filename={str(many).lower()})", files
    enc = ts.encoding.lower().replace("_", "-")
    enc = {"utf8": "utf-8", "latin1": "latin-1", "iso-8859-1": "latin-1", "utf16": "utf-16"}.get(enc, enc)
    if enc not in ("utf-8", "latin-1", "utf-16"):
        raise DataInputError(f"{what}: encoding {ts.encoding!r} is not supported for CSV; use utf-8, latin-1 or "
                             "utf-16, or save the file as UTF-8.")
    header = _csv_header(files[0], ts, what)
    _check_header(header, columns, files[0], ts, what)
    for f in files[1:]:
        other = _csv_header(f, ts, what)
        if other != header:
            raise DataInputError(f"{what}: {f} has another header than {files[0].name} "
                                 f"({other[:8]} against {header[:8]}); all files of one table need the same columns.")
    types = "{" + ", ".join(f"{sql_string(h)}: 'VARCHAR'" for h in _column_names(header, columns, files[0], what)) + "}"
    return (f"SELECT {cols} FROM read_csv({listing}, auto_detect=false, header=true, delim={sql_string(ts.delimiter)}, "
            f"quote='\"', escape='\"', encoding={sql_string(enc)}, columns={types}, filename={str(many).lower()})"), files


def _label(ts: TableSpec, files: list[Path]) -> str:
    return files[0].name if len(files) == 1 else f"{ts.path} ({len(files)} files)"


def _read_files(ts: TableSpec, columns: Sequence[str], what: str, threads: int | None, wrap=None) -> Loaded:
    import duckdb

    many = len(source_files(ts, what)) > 1 and wrap is None  # a wrapped query (distinct rows, an aggregate) has no row origins
    con = duckdb_connection(threads)
    try:
        sql, files = _file_select(ts, columns, what, con, many)
        if wrap is not None:
            sql = wrap(sql)
        try:
            df = con.execute(sql).df()
        except duckdb.Error as exc:
            raise _duckdb_error(exc, what, files, ts) from exc
    finally:
        con.close()
    file_of_row = df.pop(_FILE_COL) if many else None
    return Loaded(df=df, label=_label(ts, files), files=files, file_of_row=file_of_row)


@contextmanager
def source_query(ts: TableSpec, columns: Sequence[str], what: str, threads: int | None = None):
    """Open a file source for several queries: yields ``(con, select, label)``.

    ``select`` is the SELECT text that reads the named columns (checked as :func:`read_source`
    checks them, rows in file order); ``con`` is a DuckDB connection to run queries over it (closed
    on exit); ``label`` names the source as messages do. A DuckDB error while the block runs a query
    is re-raised as a :class:`DataInputError` naming the file, as :func:`read_source` does. Files
    only (CSV or Parquet).
    """
    import duckdb

    if is_database(ts.path):
        raise ValueError(f"{what}: source_query reads files, not the database {ts.describe()}.")
    con = duckdb_connection(threads)
    try:
        sql, files = _file_select(ts, list(dict.fromkeys(columns)), what, con, many=False)
        try:
            yield con, sql, _label(ts, files)
        except duckdb.Error as exc:
            raise _duckdb_error(exc, what, files, ts) from exc
    finally:
        con.close()


def _select(ts: TableSpec, columns: Sequence[str]) -> str:
    cols = ", ".join(_quote(c) for c in columns)
    if ts.query:
        return f"SELECT {cols} FROM ({ts.query}) AS q"
    table = ".".join(_quote(part) for part in str(ts.table).split("."))
    return f"SELECT {cols} FROM {table}"


def _read_database(ts: TableSpec, columns: Sequence[str], what: str, threads: int | None,
                   distinct: bool = False) -> Loaded:
    label = ts.describe()
    select = _distinct(_select(ts, columns), columns) if distinct else _select(ts, columns)
    if ts.path.startswith("duckdb://"):
        import duckdb

        file = duckdb_file(ts.path)
        if not Path(file).is_file():
            raise DataInputError(f"{what}: DuckDB database {file} does not exist.")
        try:
            con = duckdb.connect(file, read_only=True)
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            df = con.execute(select).df()
            con.close()
        except duckdb.Error as exc:
            raise DataInputError(f"{what}: {label}: {str(exc).splitlines()[0]}") from exc
        return Loaded(df=df, label=label, files=[])
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is in requirements.txt
        raise DataInputError(f"{what}: reading PostgreSQL needs psycopg (pip install 'psycopg[binary]').") from exc
    url = re.sub(r"^postgres://", "postgresql://", ts.path)
    try:
        with psycopg.connect(url, connect_timeout=10) as conn, conn.cursor() as cur:
            cur.execute(select)
            rows = cur.fetchall()
            names = [d.name for d in cur.description]
    except psycopg.Error as exc:
        raise DataInputError(f"{what}: {label}: {str(exc).strip().splitlines()[0]}") from exc
    return Loaded(df=pd.DataFrame(rows, columns=names), label=label, files=[])


def query_files(ts: TableSpec, columns: Sequence[str], what: str, wrap, threads: int | None = None) -> Loaded:
    """Run ``wrap(select)`` on a file source, where ``select`` reads the named columns (checked as
    :func:`read_source` checks them): an aggregate over the files without loading their rows.

    ``wrap`` takes the SELECT's text and returns the query; its result is ``Loaded.df``. Files only
    (CSV or Parquet); a database source has no such path (read it with :func:`read_source`).
    """
    if is_database(ts.path):
        raise ValueError(f"{what}: query_files reads files, not the database {ts.describe()}.")
    return _read_files(ts, list(dict.fromkeys(columns)), what, threads, wrap=wrap)


def read_source(ts: TableSpec, columns: Sequence[str], what: str, threads: int | None = None,
                distinct: bool = False) -> Loaded:
    """Read the named columns of one spec table.

    Parameters
    ----------
    ts
        Where the table is (see :class:`clvlib.data.spec.TableSpec`).
    columns
        The columns to read (the ones the spec names); any missing one is an error naming the file.
    what
        How to call the table in messages, e.g. ``"[orders]"``.
    threads
        DuckDB threads (default: DuckDB's, one per core).
    distinct
        Only the distinct rows, sorted (no ``file_of_row``): a key read from an event log is one
        row per user instead of one per event.

    Returns
    -------
    Loaded
        The rows in file order (CSV cells as text, Parquet and database columns typed), with their origin.
    """
    columns = list(dict.fromkeys(columns))
    if is_database(ts.path):
        loaded = _read_database(ts, columns, what, threads, distinct)
        missing = [c for c in columns if c not in loaded.df.columns]
        if missing:
            raise DataInputError(f"{what}: {loaded.label} has no column(s) {missing}.")
        return loaded
    return _read_files(ts, columns, what, threads, (lambda sql: _distinct(sql, columns)) if distinct else None)
