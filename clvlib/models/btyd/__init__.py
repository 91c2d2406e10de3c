"""Buy-till-you-die (BTYD) baselines over any transaction log, on top of pymc-marketing.

Three steps, each usable alone:

1. :func:`rfm_summary` / :func:`calibration_holdout_summary` (from
   :mod:`clvlib.features.rfm`, re-exported here) turn a transaction log into the
   *frequency / recency / T / monetary_value* table, keyed by the input's id column.
2. :class:`BTYDModel` fits a purchase model (BG/NBD or Pareto/NBD) and a Gamma-Gamma
   spend model and predicts purchases, P(alive), spend, value over a horizon and a
   discounted lifetime value; ``fit``/``predict`` take ``customer_col=`` (default
   ``customer_unique_id``) and key their output by it.
3. :func:`plot_repeat_purchases` and :func:`plot_p_alive_matrix` are the classic
   diagnostics.

Modules: :mod:`.model` (the estimator), :mod:`.fit` (priors, weighted fit, MAP optimiser;
its docstring has the speed measurements), :mod:`.plots` and :mod:`.simulate`
(diagnostics), :mod:`.asymptotic` (the normal approximation of a MAP fit: Hessian, covariance,
parameter draws) and :mod:`.intervals` (per-customer intervals from those draws, and their
coverage), :mod:`._pymc` (every use of pymc-marketing's internals, and the version
they were checked against). Importing the package imports neither pymc nor
pymc-marketing.
"""

from __future__ import annotations

from clvlib.features.rfm import TIME_UNITS, calibration_holdout_summary, compress_rfm, rfm_summary
from clvlib.models.btyd.fit import PURCHASE_MODELS
from clvlib.models.btyd.model import BTYDModel
from clvlib.models.btyd.plots import plot_p_alive_matrix, plot_repeat_purchases

__all__ = [
    "TIME_UNITS",
    "PURCHASE_MODELS",
    "rfm_summary",
    "calibration_holdout_summary",
    "compress_rfm",
    "BTYDModel",
    "plot_repeat_purchases",
    "plot_p_alive_matrix",
]
