"""The hybrid's design matrices: rare categorical levels pooled, and the scored cut built a block at a time.

Training rows are few (sampled beyond :data:`clvlib.models.hybrid.MAX_TRAIN_ROWS`) and are built
whole. The population scored at a cut is every person who had bought by then: 9.6 million at
100x Olist, where the snapshot with a variant's click features attached (about 70 columns) was
5 GB, and held twice. :func:`design_blocks` builds it ``block_rows`` people at a time instead,
with the click features attached by position, and the same categories as a whole-frame build.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from clvlib.features.temporal import attach_click_features

__all__ = ["MIN_LEVEL_BUYERS", "RARE_LEVEL", "BLOCK_ROWS", "category_labels", "kept_levels", "pool_rare_levels",
           "CategoryPlan", "category_plan", "design_blocks"]

#: Fewest buyer rows a level of a categorical feature needs in the training data to stay a level of its own.
MIN_LEVEL_BUYERS = 30
#: The level rare levels are pooled into.
RARE_LEVEL = "other (rare)"
#: People per block of the scored design (the two-part model also predicts 500,000 rows at a time).
BLOCK_ROWS = 500_000


def category_labels(values: pd.Series | np.ndarray) -> list[str]:
    """Category labels as plain strings, missing values as "unknown"."""
    text = pd.Series(values).astype(object)
    return text.where(text.notna(), "unknown").astype(str).tolist()


def kept_levels(train: list[str], bought: np.ndarray, min_buyers: int = MIN_LEVEL_BUYERS) -> set[str] | None:
    """The levels carried by at least ``min_buyers`` training buyer rows; None when ``min_buyers`` <= 0 (keep all)."""
    if len(train) != len(bought):
        raise ValueError(f"train has {len(train)} labels but bought has {len(bought)} flags.")
    if min_buyers <= 0:
        return None
    counts = pd.Series(np.asarray(train, dtype=object)[np.asarray(bought, dtype=bool)]).value_counts()
    return set(counts.index[counts >= min_buyers])


def _pooled(labels: list[str], keep: set[str] | None) -> list[str]:
    return list(labels) if keep is None else [v if v in keep else RARE_LEVEL for v in labels]


def pool_rare_levels(train: list[str], score: list[str], bought: np.ndarray,
                     min_buyers: int = MIN_LEVEL_BUYERS) -> tuple[list[str], list[str]]:
    """Pool the levels of a categorical feature that too few training buyers carry into :data:`RARE_LEVEL`.

    Gradient boosting's native categorical splits choose a subset of levels per split; with about
    1% buyers, a level seen with a handful of buyers is a split on noise (on the demo, where the
    product category and the state carry no signal, adding either took the hybrid's mean Gini at
    the earlier backtest cut-offs from 0.31 to 0.21-0.24). A level keeps its own value only when
    at least ``min_buyers`` training rows with it bought (rows, not people: a person who bought in
    several overlapping label windows counts in each); the others, and levels never seen in
    training, become one level in training and scoring alike.

    Parameters
    ----------
    train, score
        The column's labels in the training rows and in the rows to score.
    bought
        One flag per training row: did it buy in its label window.
    min_buyers
        The fewest buyer rows a level needs; 0 keeps every level.
    """
    keep = kept_levels(train, bought, min_buyers)
    return _pooled(train, keep), _pooled(score, keep)


class CategoryPlan:
    """How one categorical column is written in the scored design: the levels kept and the category list.

    The category list is the sorted union of the pooled training labels and the pooled labels
    present anywhere in the scored column, as a whole-frame build gives, so that every block of
    :func:`design_blocks` carries the same categories.
    """

    def __init__(self, keep: set[str] | None, categories: list[str]) -> None:
        self.keep, self.categories = keep, categories

    def apply(self, values: pd.Series) -> pd.Categorical:
        """``values`` as labels, rare levels pooled, with this plan's categories."""
        return pd.Categorical(_pooled(category_labels(values), self.keep), categories=self.categories)


def category_plan(train: pd.Series, score_values: pd.Series | np.ndarray, bought: np.ndarray,
                  min_buyers: int = MIN_LEVEL_BUYERS) -> tuple[pd.Categorical, CategoryPlan]:
    """Pool a training column's rare levels, and plan the same for the scored column.

    Parameters
    ----------
    train
        The column in the training rows.
    score_values
        The values the scored column takes (each distinct value once is enough; missing values included).
    bought, min_buyers
        As in :func:`pool_rare_levels`.

    Returns
    -------
    train_column, plan
        The training column as a categorical, and the :class:`CategoryPlan` for the scored rows.
    """
    labels = category_labels(train)
    keep = kept_levels(labels, bought, min_buyers)
    tr = _pooled(labels, keep)
    sc = _pooled(category_labels(pd.unique(pd.Series(score_values))), keep)
    plan = CategoryPlan(keep, sorted(set(tr) | set(sc)))
    return pd.Categorical(tr, categories=plan.categories), plan


def design_blocks(features: pd.DataFrame, linked: pd.DataFrame | None, columns: Sequence[str],
                  plans: dict[str, CategoryPlan] | None = None, constants: dict | None = None,
                  block_rows: int = BLOCK_ROWS, customer_col: str = "customer_unique_id") -> Iterator[pd.DataFrame]:
    """The design of ``features`` (with ``linked``'s click features attached), ``block_rows`` rows at a time.

    Each block is what :func:`clvlib.features.temporal.attach_click_features` gives for those rows,
    with ``constants`` added as columns, restricted to ``columns``, and each column of ``plans``
    written as its :class:`CategoryPlan` says. The linked rows are found by position (one lookup
    of the ids for all blocks), so only one block of the joined design is ever held.

    Parameters
    ----------
    features
        One row per person to score.
    linked
        The linked users' click features at the same cut (one row per linked person), or None.
    columns
        The design's columns, in order.
    plans
        Column -> its categories (:func:`category_plan`).
    constants
        Column -> a value every row takes (e.g. the label window's length in months).
    block_rows
        People per block.
    """
    if block_rows < 1:
        raise ValueError(f"block_rows must be at least 1, got {block_rows}.")
    pos = None
    if linked is not None:
        ids = pd.Index(linked[customer_col])
        if not ids.is_unique:
            dup = ids[ids.duplicated()].unique()
            raise ValueError(f"The linked click features have {len(dup):,} person(s) on more than one row, "
                             f"e.g. {list(dup[:3])}: a person has at most one linked user.")
        pos = ids.get_indexer(features[customer_col])
    for start in range(0, len(features), block_rows):
        part = features.iloc[start:start + block_rows]
        if pos is not None:
            p = pos[start:start + block_rows]
            part = attach_click_features(part, linked.iloc[np.unique(p[p >= 0])], customer_col)
        if constants:
            part = part.assign(**constants)
        part = part[list(columns)].copy()
        for col, plan in (plans or {}).items():
            part[col] = plan.apply(part[col])
        yield part
