"""Reading a spec's tables: CSV, Parquet, folders, globs, DuckDB and a real PostgreSQL server."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from clvlib.data.readers import DataInputError, read_source, source_files
from clvlib.data.spec import TableSpec

ROWS = "id,name,amount\n1,José,3.50\n2,Bea,4\n3,Caio,1.25\n"


def csv(tmp_path: Path, text: str, name: str = "t.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_a_csv_is_read_as_text_in_file_order_with_only_the_named_columns(tmp_path):
    loaded = read_source(TableSpec(path=str(csv(tmp_path, ROWS))), ["amount", "id"], "[orders]")
    assert list(loaded.df.columns) == ["amount", "id"]
    assert loaded.df["amount"].tolist() == ["3.50", "4", "1.25"]  # text: types are checked by canonical.py
    assert loaded.label == "t.csv"


def test_a_latin1_file_names_the_file_the_line_and_the_encoding(tmp_path):
    f = csv(tmp_path, ROWS, encoding="latin-1")
    with pytest.raises(DataInputError, match=r"\[orders\]: .*t\.csv line 2 .* is not utf-8 text \(encoding\)\. Set "
                                             r"encoding = \"latin-1\""):
        read_source(TableSpec(path=str(f)), ["id", "name"], "[orders]")
    loaded = read_source(TableSpec(path=str(f), encoding="latin-1"), ["name"], "[orders]")
    assert loaded.df["name"].tolist() == ["José", "Bea", "Caio"]


def test_a_row_with_an_extra_field_names_the_line_and_the_delimiter(tmp_path):
    f = csv(tmp_path, "id,name,amount\n1,a,3\n2,b,4,9\n3,c,1\n")
    with pytest.raises(DataInputError, match=r"t\.csv line 3 \('2,b,4,9'\) has 4 fields but the header has 3 "
                                             r"\(delimiter ','\)"):
        read_source(TableSpec(path=str(f)), ["id"], "[orders]")


def test_a_semicolon_file_is_named_as_such_not_as_missing_columns_only(tmp_path):
    f = csv(tmp_path, ROWS.replace(",", ";"))
    with pytest.raises(DataInputError, match=r"has no column\(s\) \['id'\].*looks semicolon-delimited; set "
                                             r"delimiter = \";\""):
        read_source(TableSpec(path=str(f)), ["id"], "[orders]")
    assert read_source(TableSpec(path=str(f), delimiter=";"), ["id"], "[orders]").df["id"].tolist() == ["1", "2", "3"]


def test_a_glob_of_parquet_files_is_one_table_and_rows_say_which_file(tmp_path):
    (tmp_path / "ev").mkdir()
    pd.DataFrame({"u": ["a", "b"], "v": [1.0, 2.0]}).to_parquet(tmp_path / "ev" / "part-1.parquet")
    pd.DataFrame({"u": ["c"], "v": [3.0]}).to_parquet(tmp_path / "ev" / "part-2.parquet")
    loaded = read_source(TableSpec(path=str(tmp_path / "ev" / "*.parquet")), ["u", "v"], "[events]")
    assert loaded.df["u"].tolist() == ["a", "b", "c"] and loaded.df["v"].dtype == "float64"
    assert loaded.where(loaded.df["u"] == "c") == "part-2.parquet row 1"
    folder = read_source(TableSpec(path=str(tmp_path / "ev")), ["u"], "[events]")
    assert len(folder.df) == 3
    # each row's file is a categorical of the listed files, not a path string per row (memory at scale)
    assert isinstance(loaded.file_of_row.dtype, pd.CategoricalDtype)
    quoted = tmp_path / "it's"
    (tmp_path / "ev").rename(quoted)
    again = read_source(TableSpec(path=str(quoted)), ["u"], "[events]")
    assert again.where(again.df["u"] == "b") == "part-1.parquet row 2"


def test_nothing_matching_and_mixed_formats_are_refused(tmp_path):
    with pytest.raises(DataInputError, match=r"\[orders\]: .*absent\.csv does not exist"):
        source_files(TableSpec(path=str(tmp_path / "absent.csv")), "[orders]")
    with pytest.raises(DataInputError, match=r"no CSV or Parquet file matches"):
        source_files(TableSpec(path=str(tmp_path / "*.parquet")), "[orders]")
    csv(tmp_path, ROWS, "a.csv")
    pd.DataFrame({"id": [1]}).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(DataInputError, match=r"mixes CSV and Parquet files"):
        source_files(TableSpec(path=str(tmp_path)), "[orders]")


def test_files_of_one_glob_must_share_a_header(tmp_path):
    csv(tmp_path, ROWS, "a.csv")
    csv(tmp_path, "id,amount\n9,1\n", "b.csv")
    with pytest.raises(DataInputError, match=r"b\.csv has another header than a\.csv"):
        read_source(TableSpec(path=str(tmp_path / "*.csv")), ["id"], "[orders]")


def test_a_duckdb_database_table_and_query(tmp_path):
    import duckdb

    db = tmp_path / "shop.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE orders AS SELECT * FROM (VALUES ('c1', 10.5), ('c2', 3.0)) t(customer, total)")
    con.close()
    t = read_source(TableSpec(path=f"duckdb:///{db}", table="orders"), ["customer", "total"], "[orders]")
    assert t.df["total"].tolist() == [10.5, 3.0]
    q = read_source(TableSpec(path=f"duckdb:///{db}", query="select customer, total * 2 as total from orders"),
                    ["total"], "[orders]")
    assert q.df["total"].tolist() == [21.0, 6.0]
    with pytest.raises(DataInputError, match=r"\[orders\]: duckdb:///.*\(table sales\): Catalog Error"):
        read_source(TableSpec(path=f"duckdb:///{db}", table="sales"), ["total"], "[orders]")


# ---------------------------------------------------------------------- a real PostgreSQL server


def _pg_bin() -> Path | None:
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / "initdb").is_file() and (base / "pg_ctl").is_file():
            return base
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server started on localhost for this module (Debian's postgresql package), then stopped."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found; .ci/run installs Debian's postgresql")
    # not under pytest's tmp folder: that is private to root, and the server may run as another user
    base = Path(tempfile.mkdtemp(prefix="clvlib-pg-"))
    base.chmod(0o755)
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    env = dict(os.environ)
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the unprivileged 'postgres' (or 'nobody') user
        user = "postgres" if _user_exists("postgres") else "nobody"
        shutil.chown(base, user)
        shutil.chown(sock, user)
        run_as = ["runuser", "-u", user, "--"]
    else:
        user = getpass.getuser()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*run_as, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "clv"], check=True,
                   capture_output=True, env=env)
    subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
                    f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start"], check=True, capture_output=True,
                   env=env)
    url = f"postgresql://clv@127.0.0.1:{port}/postgres"
    try:
        import psycopg

        for _ in range(50):
            try:
                with psycopg.connect(url):
                    break
            except psycopg.OperationalError:
                time.sleep(0.1)
        yield url
    finally:
        subprocess.run([*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def test_a_postgresql_table_and_query_on_a_real_server(postgres):
    import psycopg

    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS sales")
        conn.execute("DROP TABLE IF EXISTS sales.orders")
        conn.execute("CREATE TABLE sales.orders (customer text, created_at timestamp, total numeric(10,2))")
        conn.execute("INSERT INTO sales.orders VALUES ('c1', '2024-01-02 10:00', 10.50), ('c2', '2024-02-03', 3.00)")
    t = read_source(TableSpec(path=postgres, table="sales.orders"), ["customer", "created_at", "total"], "[orders]")
    assert t.df["customer"].tolist() == ["c1", "c2"]
    assert [float(v) for v in t.df["total"]] == [10.5, 3.0]
    assert t.df["created_at"].iloc[0] == pd.Timestamp("2024-01-02 10:00")
    q = read_source(TableSpec(path=postgres, query="select customer, total from sales.orders where total > 5"),
                    ["customer"], "[orders]")
    assert q.df["customer"].tolist() == ["c1"]
    with pytest.raises(DataInputError, match=r"\[orders\]: postgresql://clv@127\.0\.0\.1:\d+/postgres \(table "
                                             r"sales\.absent\): relation \"sales\.absent\" does not exist"):
        read_source(TableSpec(path=postgres, table="sales.absent"), ["customer"], "[orders]")


def test_an_unnamed_or_repeated_header_column_is_read_past_and_not_taken_for_an_encoding_problem(tmp_path):
    # R's write.csv writes its row names under an empty header field ("","Id","Date","Price"), as in the public
    # apparelTrans export; pandas' to_csv writes an unnamed index the same way. Neither is a column the spec names.
    f = csv(tmp_path, '"","Id","Date","Price"\n"1","1",2005-01-02,230.3\n"2","1",2005-09-06,84.39\n')
    loaded = read_source(TableSpec(path=str(f)), ["Id", "Date", "Price"], "[orders]")
    assert loaded.df.to_dict("list") == {"Id": ["1", "1"], "Date": ["2005-01-02", "2005-09-06"],
                                         "Price": ["230.3", "84.39"]}
    f = csv(tmp_path, "id,amount,note,note\n1,3.5,a,b\n", name="rep.csv")
    assert read_source(TableSpec(path=str(f)), ["id", "amount"], "[orders]").df["amount"].tolist() == ["3.5"]
    with pytest.raises(DataInputError, match=r"rep\.csv has more than one column named \['note'\]"):
        read_source(TableSpec(path=str(f)), ["id", "note"], "[orders]")


def test_an_error_that_only_echoes_the_encoding_parameter_is_not_reported_as_an_encoding_problem():
    from clvlib.data.readers import _duckdb_error

    err = _duckdb_error(Exception("Binder Error: No function matches ... encoding='utf-8', columns={...}"), "[orders]",
                        [Path("t.csv")], TableSpec(path="t.csv"))
    assert "is not utf-8 text" not in str(err)
    assert "could not read t.csv: Binder Error" in str(err)
