"""A table written part by part and read back by slices (clvlib.io.write_parquet_parts_atomic, ParquetTable):
what stage 04 writes and stages 05 and 07 read for the stacked click snapshots."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from clvlib.io import ParquetTable, write_parquet_parts_atomic


def _parts():
    """Three (cut, method) parts of a stacked table, with a missing float, a string id and counts."""
    out = []
    for cut, method, ids in [("2018-01-31", "rank", ["a", "b"]), ("2018-01-31", "key", ["c"]),
                             ("2018-02-28", "rank", ["a", "b", "c"])]:
        out.append(pd.DataFrame({"customer_unique_id": pd.Series(ids, dtype="str"),
                                 "click_events": np.arange(len(ids), dtype="int64") + 1,
                                 "click_rate": [0.5] * (len(ids) - 1) + [np.nan],
                                 "cut": pd.Timestamp(cut), "method": method}))
    return out


def test_parts_read_back_as_the_stacked_table_and_each_part_is_its_own_row_group(tmp_path):
    path = write_parquet_parts_atomic(iter(_parts()), tmp_path / "t.parquet")
    stacked = pd.concat(_parts(), ignore_index=True)
    pd.testing.assert_frame_equal(pd.read_parquet(path), pd.read_parquet(_written(stacked, tmp_path)))
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
    assert sorted(os.listdir(tmp_path)) == ["t.parquet", "whole.parquet"]  # no temporary file left


def _written(frame, tmp_path):
    frame.to_parquet(tmp_path / "whole.parquet", index=False)
    return tmp_path / "whole.parquet"


def test_a_slice_is_the_rows_of_its_values_in_stored_order_and_reads_only_its_row_groups(tmp_path):
    table = ParquetTable(write_parquet_parts_atomic(iter(_parts()), tmp_path / "t.parquet"))
    got = table.where(cut=pd.Timestamp("2018-02-28"), method="rank")
    assert got["customer_unique_id"].tolist() == ["a", "b", "c"]
    assert got["click_events"].tolist() == [1, 2, 3] and np.isnan(got["click_rate"].iloc[2])
    assert table.where(cut=pd.Timestamp("2018-01-31"))["method"].tolist() == ["rank", "rank", "key"]
    assert len(table.where(cut=pd.Timestamp("2018-01-31"), method="random")) == 0
    assert len(table) == 6 and table.columns == ["customer_unique_id", "click_events", "click_rate", "cut", "method"]
    stats = [pq.ParquetFile(table.path).metadata.row_group(k).column(3).statistics for k in range(3)]
    assert all(s.min == s.max for s in stats)  # one cut per row group: the others are skipped by their statistics
    with pytest.raises(ValueError, match=r"t\.parquet: no column \['segment'\]; it has \['customer_unique_id'"):
        table.where(segment="x")


def test_only_empty_parts_still_write_the_columns(tmp_path):
    empty = _parts()[0].iloc[:0]
    path = write_parquet_parts_atomic(iter([empty, empty]), tmp_path / "t.parquet")
    got = pd.read_parquet(path)
    assert len(got) == 0 and list(got.columns) == list(empty.columns)


def test_no_part_or_parts_with_other_columns_are_refused_and_leave_no_file(tmp_path):
    with pytest.raises(ValueError, match=r"t\.parquet: no part to write"):
        write_parquet_parts_atomic(iter([]), tmp_path / "t.parquet")
    first, second = _parts()[0], _parts()[1].drop(columns="click_rate")
    with pytest.raises(ValueError, match=r"t\.parquet: part 2 has columns \['customer_unique_id', 'click_events', "
                                         r"'cut', 'method'\], the first part \['customer_unique_id', 'click_events', "
                                         r"'click_rate', 'cut', 'method'\]"):
        write_parquet_parts_atomic(iter([first, second]), tmp_path / "t.parquet")
    assert os.listdir(tmp_path) == []


def test_an_empty_first_part_does_not_fix_the_types_and_a_part_that_cannot_be_stored_is_named(tmp_path):
    empty = pd.DataFrame({"customer_unique_id": pd.Series([], dtype=object), "n": pd.Series([], dtype="int64")})
    full = pd.DataFrame({"customer_unique_id": ["a", "b"], "n": [1, 2]})
    got = pd.read_parquet(write_parquet_parts_atomic(iter([empty, full, empty]), tmp_path / "t.parquet"))
    assert got["customer_unique_id"].tolist() == ["a", "b"]  # an empty text column had no type yet
    with pytest.raises(ValueError, match=r"u\.parquet: part 2's column\(s\) \['n'\] cannot be stored as the first "
                                         r"non-empty part's types \(int64\)"):
        write_parquet_parts_atomic(iter([full, full.assign(n=["x", "y"])]), tmp_path / "u.parquet")
    assert not (tmp_path / "u.parquet").exists()


def test_a_table_replaced_while_it_is_read_is_refused_and_rows_are_counted_without_loading(tmp_path):
    path = write_parquet_parts_atomic(iter(_parts()), tmp_path / "t.parquet")
    table = ParquetTable(path)
    counts = table.count_by(["cut", "method"])
    assert counts.to_dict("list") == {"cut": [pd.Timestamp("2018-01-31")] * 2 + [pd.Timestamp("2018-02-28")],
                                      "method": ["key", "rank", "rank"], "rows": [1, 2, 3]}
    share = table.count_by(["cut"], share_positive="click_rate")
    assert share["positive_share"].tolist() == [1 / 3, 2 / 3]  # rates 0.5, NaN, NaN and 0.5, 0.5, NaN: NaN is not above 0
    write_parquet_parts_atomic(iter(_parts()[:1]), path)  # another run rewrites the file
    with pytest.raises(RuntimeError, match=r"t\.parquet was replaced or removed while it was being read"):
        table.where(method="rank")
    with pytest.raises(ValueError, match=r"no column \['segment'\]"):
        ParquetTable(path).count_by(["segment"])
