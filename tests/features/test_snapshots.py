"""Snapshots: links and features per cut, stacked and read back exactly as the model stage uses them."""

from __future__ import annotations

import pandas as pd
import pytest

from clvlib.features.snapshots import (build_click_snapshots, build_links, build_snapshots, click_snapshot_parts,
                                       link_parts, link_report, linked_at_cut, links_at, methods_for, snapshot,
                                       snapshot_parts, snapshot_summary, stored_cuts)
from clvlib.features.temporal import join_click_features, population_features
from clvlib.features.links import build_mapping
from clvlib.io import ParquetTable, write_parquet_parts_atomic


def _orders():
    rows = [("a", "o1", "2018-01-05", 10.0), ("a", "o2", "2018-02-10", 20.0), ("b", "o3", "2018-01-20", 5.0),
            ("c", "o4", "2018-02-25", 7.0), ("c", "o5", "2018-03-15", 9.0)]
    o = pd.DataFrame(rows, columns=["customer_unique_id", "order_id", "order_purchase_timestamp", "order_value"])
    o["order_purchase_timestamp"] = pd.to_datetime(o["order_purchase_timestamp"])
    return o


def _events():
    rows = [(1, 1, "2018-01-02", "page_view", 0.0), (1, 1, "2018-01-02", "purchase", 12.0), (2, 1, "2018-01-21", "page_view", 0.0),
            (3, 1, "2018-02-20", "add_to_cart", 0.0), (3, 2, "2018-03-10", "purchase", 4.0)]
    e = pd.DataFrame(rows, columns=["UserID", "SessionID", "Timestamp", "EventType", "Amount"])
    e["Timestamp"] = pd.to_datetime(e["Timestamp"])
    return e


def test_each_snapshot_equals_the_features_computed_at_its_own_cut():
    cuts = [pd.Timestamp("2018-01-31"), pd.Timestamp("2018-02-28")]
    snaps = build_snapshots(_orders(), cuts)
    for cut in cuts:
        expected = population_features(_orders()[_orders()["order_purchase_timestamp"] <= "2018-02-28"], cut)
        got = snapshot(snaps, cut)
        pd.testing.assert_frame_equal(got.astype({c: object for c in got.select_dtypes("category")}),
                                      expected.astype({c: object for c in expected.select_dtypes("category")}))
    assert sorted(snapshot(snaps, cuts[0])["customer_unique_id"]) == ["a", "b"]  # c first bought after Jan


def test_links_and_click_features_per_cut_match_the_mapping_built_at_that_cut():
    cuts = [pd.Timestamp("2018-01-31"), pd.Timestamp("2018-02-28")]
    links, info = build_links(_orders(), _events(), cuts, ["rank", "random"], seed=3)
    assert {(i["cutoff"], i["method"]) for i in info} == {("2018-01-31", "rank"), ("2018-01-31", "random"),
                                                          ("2018-02-28", "rank"), ("2018-02-28", "random")}
    clicks = build_click_snapshots(_orders(), _events(), links, cuts)
    for cut in cuts:
        orders = _orders()[_orders()["order_purchase_timestamp"] <= "2018-02-28"]
        mapping, _, users, _ = build_mapping(orders, _events(), "rank", cut, seed=3)
        base = population_features(orders, cut)
        expected = join_click_features(base, users, mapping)
        from clvlib.features.temporal import attach_click_features

        got = attach_click_features(base, snapshot(clicks, cut, "rank"))
        pd.testing.assert_frame_equal(got, expected)


def test_click_snapshots_written_in_parts_read_back_one_snapshot_at_a_time_as_the_stacked_table(tmp_path):
    cuts = [pd.Timestamp("2018-02-28"), pd.Timestamp("2018-01-31")]
    links, _ = build_links(_orders(), _events(), cuts, ["rank", "random"], seed=3)
    stacked = build_click_snapshots(_orders(), _events(), links, cuts)
    one_cut_per_query = list(click_snapshot_parts(_orders(), _events(), links, cuts, max_user_rows=1))
    assert [(p["cut"].iloc[0], p["method"].iloc[0]) for p in one_cut_per_query] == [
        (cuts[0], "rank"), (cuts[0], "random"), (cuts[1], "rank"), (cuts[1], "random")]
    pd.testing.assert_frame_equal(pd.concat(one_cut_per_query, ignore_index=True), stacked)
    lazy = ParquetTable(write_parquet_parts_atomic(iter(one_cut_per_query), tmp_path / "clicks.parquet"))
    stored = pd.read_parquet(_stacked_file(stacked, tmp_path))  # what stage 05 read before: the whole table
    for cut in cuts:
        for method in ("rank", "random"):
            pd.testing.assert_frame_equal(snapshot(lazy, cut, method), snapshot(stored, cut, method))
    snaps = build_snapshots(_orders(), cuts)
    pd.testing.assert_frame_equal(snapshot_summary(snaps, lazy), snapshot_summary(snaps, stacked))
    with pytest.raises(ValueError, match="max_user_rows must be a positive number of rows, got 0"):
        next(click_snapshot_parts(_orders(), _events(), links, cuts, max_user_rows=0))


def test_snapshots_written_one_cut_at_a_time_read_back_as_the_stacked_table_with_categories_as_text(tmp_path):
    cuts = [pd.Timestamp("2018-02-28"), pd.Timestamp("2018-01-31")]
    orders = _orders().assign(customer_state=["SP", "SP", "RJ", "MG", "MG"])
    stacked = build_snapshots(orders, cuts)
    parts = list(snapshot_parts(orders, cuts, max_rows=1))  # one query per cut
    assert [p["cut"].iloc[0] for p in parts] == cuts
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), stacked)
    lazy = ParquetTable(write_parquet_parts_atomic(iter(parts), tmp_path / "snaps.parquet"))
    stored = pd.read_parquet(_stacked_file(stacked, tmp_path))
    for cut in cuts:
        pd.testing.assert_frame_equal(snapshot(lazy, cut), snapshot(stored, cut))
    assert stored_cuts(lazy) == stored_cuts(stacked) == set(cuts)
    assert not list(stacked.select_dtypes("category").columns)  # a cut's own categories would not stack
    with pytest.raises(ValueError, match="max_rows must be a positive number of rows, got 0"):
        next(snapshot_parts(orders, cuts, max_rows=0))


def test_links_written_one_cut_at_a_time_equal_the_stacked_links_and_read_back_by_cut(tmp_path):
    cuts = [pd.Timestamp("2018-02-28"), pd.Timestamp("2018-01-31")]
    links, info = build_links(_orders(), _events(), cuts, ["rank", "random"], seed=3)
    parts, info_parts = link_parts(_orders(), _events(), cuts, ["rank", "random"], seed=3, max_user_rows=1)
    assert info_parts == []  # filled as the parts are consumed
    lazy = ParquetTable(write_parquet_parts_atomic(parts, tmp_path / "links.parquet"))
    assert info_parts == info
    pd.testing.assert_frame_equal(pd.read_parquet(lazy.path), pd.read_parquet(_stacked_file(links, tmp_path)))
    for cut in cuts:
        pd.testing.assert_frame_equal(links_at(lazy, cut, "rank").reset_index(drop=True),
                                      links_at(links, cut, "rank").reset_index(drop=True))
    placebo_lazy, linked_lazy = link_report(_orders(), _events(), lazy, cuts[1])
    placebo, linked = link_report(_orders(), _events(), links, cuts[1])
    pd.testing.assert_frame_equal(placebo_lazy, placebo)
    pd.testing.assert_frame_equal(linked_at_cut(_orders(), _events(), lazy, cuts[0], "random")[0],
                                  linked_at_cut(_orders(), _events(), links, cuts[0], "random")[0])
    with pytest.raises(ValueError, match="max_user_rows must be a positive number of rows, got -1"):
        link_parts(_orders(), _events(), cuts, ["rank"], max_user_rows=-1)


def _stacked_file(frame, tmp_path):
    frame.to_parquet(tmp_path / "stacked.parquet", index=False)
    return tmp_path / "stacked.parquet"


def test_a_key_links_integer_customer_ids_as_map_users_does():
    ids = {"a": 101, "b": 7, "c": 55}
    orders = _orders().assign(customer_unique_id=lambda d: d["customer_unique_id"].map(ids).astype("int64"))
    key = pd.DataFrame({"customer_unique_id": [101, 7, 55, 999], "UserID": [3, 1, 2, 4]})  # 999 never ordered
    cuts = [pd.Timestamp("2018-01-31"), pd.Timestamp("2018-02-28")]
    links, info = build_links(orders, _events(), cuts, ["key"], key=key)
    for cut in cuts:  # at each cut, the pairs whose customer has ordered and whose user has an event by then
        mapping, *_ = build_mapping(orders[orders["order_purchase_timestamp"] <= cut], _events(), "key", cut, key=key)
        got = links_at(links, cut, "key")
        assert got["customer_unique_id"].astype(str).tolist() == mapping["customer_unique_id"].astype(str).tolist()
        assert got["UserID"].tolist() == mapping["UserID"].tolist()
    assert [i["mapped"] for i in info] == [1, 3]  # by Jan 31 only b (user 1): a's user 3 and c come later


def test_the_key_method_is_added_when_the_data_has_a_key_and_refused_otherwise():
    assert methods_for(["rank", "random"], has_key=True) == ["rank", "random", "key"]
    assert methods_for(["random", "random"], has_key=False) == ["random"]
    with pytest.raises(ValueError, match="link method 'key' needs a real key"):
        methods_for(["key"], has_key=False)
