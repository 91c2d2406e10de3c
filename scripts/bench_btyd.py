"""Benchmark the BTYD model stage on 55,000 Olist-like customers (a benchmark, not a test).

Prints, for BG/NBD and Pareto/NBD:

* pymc-marketing's own MAP fit on every customer (``Model().fit(data, method="map")``, its
  default priors) - the "before" numbers; skip with ``--skip-baseline`` (Pareto/NBD ~45 s);
* ``clvlib.models.btyd.BTYDModel`` (weighted fit on unique (frequency, recency, T) rows, flat
  priors): a first fit (includes pytensor compilation unless cached on disk), a second fit
  on the same data, and ``predict``.

Data: synthetic Olist-like customers by default (Pareto/NBD with the parameters fitted to
Olist in days, ``T`` uniform on 0..540 days, ~97% one-time buyers, whole days), or the real
Olist calibration table with ``--olist`` (needs ../shared/data/olist).

Usage::

    python scripts/bench_btyd.py [--olist] [--n 55000] [--skip-baseline]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clvlib.features.rfm import compress_rfm, rfm_summary  # noqa: E402
from clvlib.models.btyd import BTYDModel  # noqa: E402
from clvlib.schemas import CUSTOMER  # noqa: E402


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """Olist-like RFM in days from Pareto/NBD (r=0.39, alpha=1150, s=0.39, beta=5.4), whole days."""
    rng = np.random.default_rng(seed)
    T = rng.integers(0, 541, size=n).astype(float)
    lam = rng.gamma(0.39, 1 / 1150.0, size=n)
    mu = rng.gamma(0.39, 1 / 5.4, size=n)
    active = np.minimum(rng.exponential(1 / mu), T)
    x = rng.poisson(lam * active)
    recency = np.where(x > 0, np.floor(active * rng.beta(np.maximum(x, 1), 1)), 0.0)
    money = np.where(x > 0, rng.gamma(6.0, 25.0, size=n), 0.0)
    return pd.DataFrame({CUSTOMER: np.arange(n), "frequency": x, "recency": recency, "T": T,
                         "monetary_value": money})


def olist(n: int) -> pd.DataFrame:
    """Calibration RFM of real Olist (delivered orders up to 2018-02-28), sampled to ``n`` rows."""
    d = ROOT.parent / "shared" / "data" / "olist"
    orders = pd.read_csv(d / "olist_orders_dataset.csv",
                         usecols=["order_id", "customer_id", "order_status", "order_purchase_timestamp"])
    customers = pd.read_csv(d / "olist_customers_dataset.csv", usecols=["customer_id", "customer_unique_id"])
    pay = pd.read_csv(d / "olist_order_payments_dataset.csv").groupby("order_id", as_index=False)["payment_value"].sum()
    tx = orders[orders["order_status"] == "delivered"].merge(customers, on="customer_id").merge(pay, on="order_id")
    rfm = rfm_summary(tx, CUSTOMER, "order_purchase_timestamp", "payment_value",
                      observation_period_end="2018-02-28")
    return rfm.sample(min(n, len(rfm)), random_state=0).reset_index(drop=True) if n < len(rfm) else rfm


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--olist", action="store_true", help="use the real Olist calibration table")
    ap.add_argument("--n", type=int, default=55_000, help="number of customers (default 55,000)")
    ap.add_argument("--skip-baseline", action="store_true", help="skip pymc-marketing's unweighted fits")
    args = ap.parse_args()

    rfm = olist(args.n) if args.olist else synthetic(args.n)
    print(f"data: {'Olist' if args.olist else 'synthetic Olist-like'}, {len(rfm):,} customers, "
          f"{(rfm['frequency'] == 0).mean():.1%} one-time buyers, T in [{rfm['T'].min():.0f}, {rfm['T'].max():.0f}] days, "
          f"{len(compress_rfm(rfm)):,} unique (frequency, recency, T)")
    warnings.simplefilter("ignore")  # a benchmark script: keep the table readable

    if not args.skip_baseline:
        from pymc_marketing.clv import BetaGeoModel, ParetoNBDModel

        for name, cls in (("bgnbd", BetaGeoModel), ("pnbd", ParetoNBDModel)):
            m = cls()
            # pymc-marketing needs its id column to be called customer_id
            pmm_data = rfm[[CUSTOMER, "frequency", "recency", "T"]].rename(columns={CUSTOMER: "customer_id"})
            _, t = timed(lambda: m.fit(pmm_data, method="map", progressbar=False))
            params = ", ".join(f"{k}={v:.4g}" for k, v in m.fit_summary().items())
            print(f"before  {name:5s} pymc-marketing fit(method='map'), every customer: {t:6.1f} s   ({params})")

    for name in ("bgnbd", "pnbd"):
        model, t1 = timed(lambda: BTYDModel(name).fit(rfm))
        model, t2 = timed(lambda: BTYDModel(name).fit(rfm))
        _, tp = timed(lambda: model.predict(rfm, horizon=180))
        est = model.params_.query("model == 'purchase'")
        params = ", ".join(f"{p}={v:.4g}" for p, v in zip(est["parameter"], est["estimate"]))
        print(f"after   {name:5s} BTYDModel.fit first {t1:5.1f} s, second {t2:5.1f} s "
              f"(purchase {model.fit_seconds_['purchase']:.1f} s, spend {model.fit_seconds_.get('spend', 0):.1f} s); "
              f"predict {tp:.1f} s   ({params})")


if __name__ == "__main__":
    main()
