"""Which model to recommend: the baseline unless another model beats it reliably.

The rule, decided before looking at the numbers: a model replaces the baseline only if
its paired bootstrap difference in normalized Gini has a 95% interval lying entirely
above zero (``diff_low > 0``, i.e. it beat the baseline in more than 97.5% of the
resamples). Among such models the one with the highest normalized Gini is picked.
Models that scored higher than the baseline without a reliable margin are reported,
not recommended.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from clvlib.models.scores import BASELINE, CEILINGS

__all__ = ["Contender", "Recommendation", "recommend"]

#: Columns of :func:`clvlib.evaluation.summary.metrics_table` (built with a paired bootstrap) used here.
_REQUIRED = ("model", "normalized_gini", "diff_vs_bgnbd", "diff_low", "diff_high")


@dataclass(frozen=True)
class Contender:
    """A model that scored higher than the baseline, but not reliably.

    Attributes
    ----------
    model
        Score column of the model (e.g. ``"hybrid:rfm+details"``).
    diff
        Its normalized Gini minus the baseline's.
    diff_low, diff_high
        The paired bootstrap interval of that difference (``diff_low <= 0``).
    """

    model: str
    diff: float
    diff_low: float
    diff_high: float


@dataclass(frozen=True)
class Recommendation:
    """The model to recommend and why.

    Attributes
    ----------
    pick
        Score column of the recommended model.
    reliable
        True when ``pick`` beats the baseline reliably (its paired difference interval
        lies above zero); False when the baseline is kept.
    baseline
        Score column of the baseline it was compared with.
    ahead
        Models (other than the baseline and the excluded ones) whose normalized Gini is
        higher than the baseline's but whose difference interval does not lie above
        zero, in table order.
    """

    pick: str
    reliable: bool
    baseline: str
    ahead: tuple[Contender, ...] = ()


def recommend(table: pd.DataFrame, baseline: str = BASELINE, exclude: Iterable[str] = CEILINGS) -> Recommendation:
    """Choose the model to recommend from a metrics table with paired bootstrap differences.

    Required columns
    ----------------
    ``model`` (unique), ``normalized_gini``, ``diff_vs_bgnbd`` (normalized Gini minus the
    baseline's), ``diff_low`` and ``diff_high`` (its paired bootstrap interval): the
    output of :func:`clvlib.evaluation.summary.metrics_table` given a bootstrap run with
    ``baseline``. The baseline's own difference columns are NaN.

    Parameters
    ----------
    table
        One row per model.
    baseline
        Score column of the reference model, kept unless another model beats it reliably.
    exclude
        Rows that are never recommended nor reported as contenders (the demo's hidden
        truth, which is a ceiling, not a model).

    Returns
    -------
    Recommendation
        The reliable model with the highest normalized Gini (the first in table order
        on a tie), or the baseline when no model's ``diff_low`` is above 0; with the
        models that scored higher than the baseline but not reliably.

    Raises
    ------
    ValueError
        When a required column is missing, ``model`` has duplicates, the baseline has
        no row, is excluded, or is not the model the differences are relative to.

    Examples
    --------
    >>> t = pd.DataFrame({"model": ["btyd:bgnbd", "hybrid:rfm"], "normalized_gini": [0.40, 0.45],
    ...                   "diff_vs_bgnbd": [float("nan"), 0.05], "diff_low": [float("nan"), 0.01],
    ...                   "diff_high": [float("nan"), 0.09]})
    >>> recommend(t).pick
    'hybrid:rfm'
    """
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(
            f"recommend: the metrics table lacks column(s) {missing}; build it with "
            "metrics_table(y, scores, boot) where boot is bootstrap(..., baseline=...)."
        )
    dup = table["model"][table["model"].duplicated()].unique().tolist()
    if dup:
        raise ValueError(f"recommend: the metrics table has several rows for model(s) {dup}; keep one row per model.")
    exclude = tuple(exclude)
    if baseline in exclude:
        raise ValueError(f"recommend: the baseline {baseline!r} is also in exclude={exclude}; it must be a candidate.")
    t = table.set_index("model")
    if baseline not in t.index:
        raise ValueError(
            f"recommend: the metrics table has no row for the baseline {baseline!r} (models: {t.index.tolist()}); "
            "include the baseline's score column when building the table, or pass the baseline it was built with."
        )
    if pd.notna(t.loc[baseline, "diff_vs_bgnbd"]):
        raise ValueError(
            f"recommend: the baseline {baseline!r} has a difference of {t.loc[baseline, 'diff_vs_bgnbd']:g} from "
            "itself, so the table's differences are relative to another model; pass the baseline the bootstrap used."
        )
    candidates = t.drop(index=[m for m in exclude if m in t.index])
    reliable = candidates[candidates["diff_low"] > 0]  # beat the baseline in >97.5% of paired resamples
    pick = str(reliable["normalized_gini"].idxmax()) if len(reliable) else baseline
    ahead = candidates[(candidates["diff_vs_bgnbd"] > 0) & ~(candidates["diff_low"] > 0)].drop(
        index=baseline, errors="ignore"
    )
    return Recommendation(
        pick=pick,
        reliable=pick != baseline,
        baseline=baseline,
        ahead=tuple(
            Contender(str(m), float(r["diff_vs_bgnbd"]), float(r["diff_low"]), float(r["diff_high"]))
            for m, r in ahead.iterrows()
        ),
    )
