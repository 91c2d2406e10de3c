"""The holdout as the evaluation sees it: each customer's actual spend, and every model's score beside it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.features.temporal import holdout_labels
from clvlib.models.scores import OBSERVABLE, TRUTH
from clvlib.schemas import CUSTOMER

__all__ = ["holdout_scores"]


def holdout_scores(orders: pd.DataFrame, scores: pd.DataFrame, meta: dict,
                   truth: pd.DataFrame | None = None, raw_dir: Path | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Actual holdout spend per customer (in the order of ``scores``) and the model scores.

    With the demo's hidden traits (``truth``, :func:`clvlib.demo.load_truth`), adds the two ceilings of the demo
    (:mod:`clvlib.demo.ceilings`): ``truth``, the expected holdout value given each person's hidden
    traits and whether they are alive at the cut (not their realised dropout, which no model could
    know), and, given the demo's ``raw_dir``, ``observable``: the best prediction possible from the
    observable orders and keyed clickstream up to the cut, under the demo's own generative model.
    """
    renamed = [c for c in scores.columns if "+olist" in str(c)]
    if renamed:
        raise ValueError(f"The scores (data/clv_scores.parquet) have hybrid column(s) named by an older version: "
                         f"{renamed[:3]} (the order-details feature set is now 'rfm+details'). Rerun from stage 05: "
                         "python run_all.py --from 05")
    labels = holdout_labels(orders, meta["cutoff"], meta["holdout_end"], scores[CUSTOMER])
    y = labels["holdout_spend"].to_numpy()
    S = scores.drop(columns=[CUSTOMER]).copy()
    if truth is not None:
        from clvlib.demo.ceilings import trait_expected_value

        tv = trait_expected_value(truth, meta["cutoff"], meta["holdout_end"])
        S[TRUTH] = scores[CUSTOMER].map(tv).fillna(0.0).to_numpy()
        if raw_dir is not None:
            from clvlib.demo.observable import observable_expected_value_from_raw

            ov = observable_expected_value_from_raw(raw_dir, meta["cutoff"], meta["holdout_end"])  # indexed by person
            S[OBSERVABLE] = scores[CUSTOMER].map(ov["observable_expected_value"]).fillna(0.0).to_numpy()
    return y, S
