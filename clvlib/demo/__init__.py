"""Seeded synthetic demo data with the exact file layout of the two Kaggle downloads.

:func:`generate_demo` writes every Olist CSV (same file names, same columns in the same
order) and the clickstream CSV into one folder, so the whole pipeline runs without a
download. Unlike the Kaggle pair, the demo world has a real answer key:

* every person (``customer_unique_id``) has hidden traits -- a purchase rate, a dropout
  time and a spend level -- and buys according to them, buy-till-you-die style
  (Pareto/NBD-like: Poisson repeat purchases while alive, exponential lifetime, gamma
  heterogeneity; lognormal spend);
* about 70% of persons have a clickstream ``UserID``, whose sessions are driven by the
  same traits. The customer <-> user key is written to ``demo_user_key.csv`` beside the
  data (the ``key`` mapping method reads it);
* the hidden traits go to ``truth_dir`` (``demo_truth.csv`` + ``demo_truth.json``),
  *outside* the data folder, so the data stages cannot see them.
  :func:`true_expected_value` turns them into each person's expected spend in a window,
  the ceiling an evaluation compares models with.

The marginal shapes are calibrated on the real Olist files (:mod:`clvlib.demo.calibration`):
one-time buyers ~97% of persons, order value median ~105 BRL with a heavy right tail, the
monthly volume curve with the Black Friday 2017 peak and the truncated September/October
2018, order statuses, payments, review scores and the customer state mix. Nothing of the
real data is copied: category and city names are public facts, everything else is drawn
from seeded random numbers.

Everything is vectorised numpy; the same ``seed`` and ``n_customers`` give byte-identical
files.

Modules, bottom up (this package depends only on :mod:`clvlib.io`, :mod:`clvlib.schemas`,
numpy and pandas):

* :mod:`~clvlib.demo.calibration` -- the calibration tables;
* :mod:`~clvlib.demo.timeline` -- the internal clock, the day table, :func:`visible_days`;
* :mod:`~clvlib.demo.draws` -- small seeded-draw helpers;
* :mod:`~clvlib.demo.persons`, :mod:`~clvlib.demo.orders`, :mod:`~clvlib.demo.geography`,
  :mod:`~clvlib.demo.catalogue`, :mod:`~clvlib.demo.clickstream` -- the simulation;
* :mod:`~clvlib.demo.world` -- the whole world in memory from one seed;
* :mod:`~clvlib.demo.truth` -- the answer key the evaluation reads;
* :mod:`~clvlib.demo.generate` -- :func:`generate_demo`, which writes it all.
"""

from __future__ import annotations

from clvlib.demo.generate import MIN_CUSTOMERS, USER_KEY_FILE, generate_demo
from clvlib.demo.timeline import visible_days
from clvlib.demo.truth import TRUTH_COLUMNS, TRUTH_FILE, TRUTH_JSON, load_truth, true_expected_value

__all__ = [
    "generate_demo",
    "load_truth",
    "true_expected_value",
    "visible_days",
    "TRUTH_FILE",
    "TRUTH_JSON",
    "TRUTH_COLUMNS",
    "USER_KEY_FILE",
    "MIN_CUSTOMERS",
]
