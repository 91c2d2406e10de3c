"""The hybrid's scored design built a block at a time equals the design built whole."""

import numpy as np
import pandas as pd
import pytest

from clvlib.features.temporal import attach_click_features
from clvlib.models.design import RARE_LEVEL, category_plan, design_blocks, pool_rare_levels


def _features() -> pd.DataFrame:
    return pd.DataFrame({"customer_unique_id": ["a", "b", "c", "d", "e", "f", "g"],
                         "frequency": [0, 1, 0, 2, 0, 0, 1],
                         "state": pd.Categorical(["SP", "RJ", "SP", None, "AM", "SP", "RJ"]),
                         "other": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})


def _linked() -> pd.DataFrame:  # g, c, a linked (not in the features' order); z is not among the people scored
    return pd.DataFrame({"customer_unique_id": ["g", "c", "z", "a"], "click_purchases": [3, 0, 9, 1],
                         "click_exposure_days": [10.0, 2.5, 1.0, 4.0]})


def test_blocks_of_the_design_equal_the_design_built_whole():
    train = pd.Series(["SP"] * 4 + ["RJ"] * 3 + ["AC"])
    bought = np.array([1, 1, 1, 0, 1, 0, 0, 1], bool)
    cols = ["frequency", "state", "has_click", "click_purchases", "click_exposure_days", "label_months"]
    train_col, plan = category_plan(train, _features()["state"], bought, min_buyers=2)
    # by hand: SP has 3 buyer rows, RJ 1, AC 1: only SP keeps its level; RJ, AM and the missing state are pooled
    assert list(train_col) == ["SP"] * 4 + [RARE_LEVEL] * 4
    assert plan.categories == sorted(["SP", RARE_LEVEL])
    whole = attach_click_features(_features(), _linked()).assign(label_months=6)[cols]
    whole["state"] = pd.Categorical(pool_rare_levels(list(train), ["SP", "RJ", "SP", "unknown", "AM", "SP", "RJ"],
                                                     bought, 2)[1], categories=plan.categories)
    for block_rows in (1, 3, 7, 100):
        blocks = list(design_blocks(_features(), _linked(), cols, {"state": plan}, {"label_months": 6},
                                    block_rows=block_rows))
        assert len(blocks) == -(-7 // block_rows)
        assert all(list(b["state"].cat.categories) == plan.categories for b in blocks)
        got = pd.concat(blocks, ignore_index=True)
        pd.testing.assert_frame_equal(got, whole, check_dtype=False)  # a block with every row linked keeps integers
    got = pd.concat(design_blocks(_features(), _linked(), cols, {"state": plan}, {"label_months": 6}), ignore_index=True)
    assert got["has_click"].tolist() == [1, 0, 1, 0, 0, 0, 1]
    nan = np.nan  # g's row is g's own, found by id, not by position
    np.testing.assert_array_equal(got["click_purchases"].to_numpy(float), [1, nan, 0, nan, nan, nan, 3])
    np.testing.assert_array_equal(got["click_exposure_days"].to_numpy(float), [4.0, nan, 2.5, nan, nan, nan, 10.0])


def test_without_links_a_block_is_the_features_own_columns():
    blocks = list(design_blocks(_features(), None, ["frequency", "other"], block_rows=4))
    assert [len(b) for b in blocks] == [4, 3]
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), _features()[["frequency", "other"]])
    assert list(design_blocks(_features().iloc[:0], _linked(), ["frequency"])) == []


def test_a_plan_keeping_every_level_still_lists_the_levels_only_scoring_has():
    train_col, plan = category_plan(pd.Series(["SP", "RJ"]), pd.Series(["SP", "MG", None]), np.array([1, 0], bool),
                                    min_buyers=0)
    assert list(train_col) == ["SP", "RJ"] and plan.keep is None
    assert plan.categories == ["MG", "RJ", "SP", "unknown"]
    assert list(plan.apply(pd.Series(["MG", None]))) == ["MG", "unknown"]


def test_the_blocks_refuse_a_person_linked_twice_and_a_block_size_below_one():
    twice = pd.concat([_linked(), _linked().iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"1 person\(s\) on more than one row, e.g. \['g'\]"):
        list(design_blocks(_features(), twice, ["frequency"]))
    with pytest.raises(ValueError, match="block_rows must be at least 1, got 0"):
        list(design_blocks(_features(), None, ["frequency"], block_rows=0))


def test_a_person_on_two_rows_of_the_features_gets_their_link_on_each_once():
    features = _features().iloc[[0, 0, 1]].reset_index(drop=True)  # a twice, b once
    got = pd.concat(design_blocks(features, _linked(), ["customer_unique_id", "click_purchases"]), ignore_index=True)
    pd.testing.assert_frame_equal(got, attach_click_features(features, _linked())[["customer_unique_id", "click_purchases"]])
