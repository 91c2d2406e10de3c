"""User mapping: rank pairing, the random placebo and a real key."""

from __future__ import annotations

import pandas as pd
import pytest

from clvlib.data.datasets import read_key
from clvlib.features.links import build_mapping, link_correlations, map_users, text_ordered_codes


def customers() -> pd.DataFrame:
    return pd.DataFrame({"customer_unique_id": ["a", "b", "c", "d"], "frequency": [1, 3, 2, 1],
                         "total_spent": [10.0, 300.0, 50.0, 5.0]})


def users() -> pd.DataFrame:
    return pd.DataFrame({"UserID": [7, 8, 9], "total_events": [10, 90, 40], "total_purchase_amount": [5.0, 900.0, 60.0],
                         "purchases": [1, 9, 3]})


def test_rank_pairs_most_active_with_most_active():
    m = map_users(customers(), users(), "rank").set_index("customer_unique_id")["UserID"]
    # customer activity: b > c > a > d ; user activity: 8 > 9 > 7 ; d is left out (3 users only)
    assert m.to_dict() == {"a": 7, "b": 8, "c": 9}


def test_random_placebo_covers_the_same_customers_with_permuted_users():
    rank = map_users(customers(), users(), "rank")
    rand = map_users(customers(), users(), "random", seed=1)
    assert set(rand["customer_unique_id"]) == set(rank["customer_unique_id"])
    assert sorted(rand["UserID"]) == sorted(rank["UserID"])
    assert rand.equals(map_users(customers(), users(), "random", seed=1))  # seeded


def test_rank_link_manufactures_perfect_correlation():
    m = map_users(customers(), users(), "rank")
    corr = link_correlations(m, customers(), users()).set_index("user_measure")["spearman"]
    assert corr["total_purchase_amount"] == pytest.approx(1.0)


def test_key_uses_the_key_and_drops_unknown_pairs():
    key = pd.DataFrame({"customer_unique_id": ["a", "d", "zz"], "UserID": [9, 7, 8]})
    m = map_users(customers(), users(), "key", key=key)
    assert m[["customer_unique_id", "UserID"]].values.tolist() == [["a", 9], ["d", 7]]


def test_key_method_without_key_says_the_kaggle_data_has_none():
    with pytest.raises(ValueError, match="share no key"):
        map_users(customers(), users(), "key")


def test_key_with_repeated_user_is_refused():
    key = pd.DataFrame({"customer_unique_id": ["a", "b"], "UserID": [9, 9]})
    with pytest.raises(ValueError, match=r"key table: column 'UserID' must be unique"):
        map_users(customers(), users(), "key", key=key)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match=r"mapping method must be one of \('rank', 'random', 'key'\)"):
        map_users(customers(), users(), "fuzzy")


def test_build_mapping_only_sees_orders_up_to_the_cutoff():
    orders = pd.DataFrame({
        "customer_unique_id": ["a", "b", "b", "c"], "order_id": ["1", "2", "3", "4"],
        "order_purchase_timestamp": pd.to_datetime(["2018-01-01", "2018-01-02", "2018-03-01", "2018-03-05"]),
        "order_value": [10.0, 20.0, 30.0, 40.0]})
    events = pd.DataFrame({"UserID": [7, 8], "SessionID": [1, 1], "Timestamp": pd.to_datetime(["2024-01-01"] * 2),
                           "EventType": ["purchase", "page_view"], "Amount": [5.0, None]})
    m, cust, _, info = build_mapping(orders, events, "rank", "2018-02-28")
    assert set(cust["customer_unique_id"]) == {"a", "b"}  # c bought after the cut
    assert cust.set_index("customer_unique_id").loc["b", "frequency"] == 1  # b's second order is after the cut
    assert info["clickstream_cut_applied"] is False  # 2024 clicks do not overlap 2018 orders
    assert info["mapped"] == 2


def test_read_key_finds_demo_key_and_checks_columns(tmp_path):
    assert read_key(tmp_path) == (None, None)
    (tmp_path / "demo_user_key.csv").write_text("customer_unique_id,User\na,1\n")
    with pytest.raises(ValueError, match=r"demo_user_key.csv: missing column\(s\) \['UserID'\]"):
        read_key(tmp_path)


def test_text_ordered_codes_number_ids_in_the_order_of_their_text_and_give_them_back():
    ids = pd.Series([9, 10, 2, 10, 100])  # as text: "10" < "100" < "2" < "9"
    codes, uniques = text_ordered_codes(ids)
    assert codes.tolist() == [3, 0, 2, 0, 1]
    assert uniques.tolist() == [10, 100, 2, 9] and uniques.dtype == ids.dtype
    assert uniques.take(codes).tolist() == ids.tolist()
    with pytest.raises(ValueError, match=r"ids: 1 missing value\(s\)"):
        text_ordered_codes(pd.Series(["a", None, "b"]))


def test_ties_break_by_code_as_they_break_by_text():
    customers = pd.DataFrame({"customer_unique_id": ["b", "a", "c"], "frequency": [1, 1, 1], "total_spent": [5.0] * 3})
    users = pd.DataFrame({"UserID": [9, 10, 2], "total_events": [3] * 3, "total_purchase_amount": [0.0] * 3})
    by_text = map_users(customers, users, "rank")
    c, cu = text_ordered_codes(customers["customer_unique_id"])
    u, uu = text_ordered_codes(users["UserID"])
    by_code = map_users(customers.assign(customer_unique_id=c), users.assign(UserID=u), "rank", ids_as_text=False)
    assert by_text.values.tolist() == [["a", 10, "rank"], ["b", 2, "rank"], ["c", 9, "rank"]]
    assert cu.take(by_code["customer_unique_id"]).tolist() == ["a", "b", "c"]
    assert uu.take(by_code["UserID"]).tolist() == [10, 2, 9]
