"""The order tables of the demo world: status life cycle, items and prices, payments, reviews.

Each function draws one table (or its columns) for orders already placed by
:mod:`clvlib.demo.persons`, with the real proportions from :mod:`clvlib.demo.calibration`.
Times are float seconds on the internal clock (:mod:`clvlib.demo.timeline`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.demo.calibration import (
    FORCE_CANCEL_FROM,
    INSTALLMENT_BANDS,
    INSTALLMENT_P,
    INSTALLMENT_VALUES,
    INTEREST_P,
    ITEMS_PMF,
    MESSAGES,
    N_PAYMENTS_PMF,
    NO_ITEMS_P,
    NO_PAYMENT_RATE,
    NO_REVIEW_P,
    ORIGIN,
    SCORE_P,
    SECOND_REVIEW_P,
    SNAPSHOT,
    STATUS_P,
    TITLES,
    ZERO_VOUCHER_RATE,
)
from clvlib.demo.draws import hex_ids, lognormal_median, pmf, split_cents
from clvlib.demo.timeline import DAY, seconds_since_origin, seconds_to_datetime

__all__ = ["draw_lifecycle", "draw_items", "draw_payments", "draw_reviews"]


def draw_lifecycle(rng: np.random.Generator, t: np.ndarray, first_type: np.ndarray) -> pd.DataFrame:
    """Status and status-consistent timestamps (seconds since origin; NaN = empty)."""
    n = t.size
    statuses, sp = pmf(STATUS_P)
    status = statuses[rng.choice(statuses.size, size=n, p=sp)].astype(object)
    late_day = (np.datetime64(ORIGIN, "D") + (t // DAY).astype("int64")) >= FORCE_CANCEL_FROM
    status[late_day] = "canceled"
    boleto = first_type == "boleto"
    fast = rng.random(n) < 0.78
    approve_h = np.where(
        boleto,
        lognormal_median(rng, 29.0, 0.75, n),
        np.where(fast, lognormal_median(rng, 0.2, 0.6, n), lognormal_median(rng, 12.0, 1.0, n)),
    )
    approved = t + np.floor(approve_h * 3600.0) + 30.0
    carrier = approved + np.floor(lognormal_median(rng, 1.8, 0.9, n) * DAY)
    # Distance drives both the transit time and the promised date (8% arrive late, as in the real data).
    far = rng.normal(0.0, 1.0, n)
    transit = 7.1 * np.exp(0.45 * far) * rng.lognormal(0.0, 0.55, n)
    delivered = carrier + np.floor(transit * DAY)
    est_days = np.clip(np.round(23.0 * np.exp(0.35 * far) + rng.normal(0.0, 4.0, n)), 3, 70)
    estimated = (t // DAY + est_days) * DAY
    has_app = np.isin(status, ["delivered", "shipped", "invoiced", "processing", "unavailable", "approved"])
    has_car = np.isin(status, ["delivered", "shipped"])
    has_del = status == "delivered"
    canc = status == "canceled"
    u = rng.random(n)
    has_app |= canc & (u >= 0.22)
    has_car |= canc & (u >= 0.88)
    has_del |= canc & (u >= 0.99)
    snap = seconds_since_origin(SNAPSHOT)
    # Keep the timeline inside the snapshot: not yet delivered / shipped / approved.
    too_late = has_del & (delivered > snap)
    status[too_late & ~canc] = "shipped"
    has_del &= ~too_late
    too_late = has_car & (carrier > snap)
    status[too_late & ~canc] = "processing"
    has_car &= ~too_late
    too_late = has_app & (approved > snap)
    status[too_late & ~canc] = "created"
    has_app &= ~too_late
    return pd.DataFrame({
        "status": status,
        "approved": np.where(has_app, approved, np.nan),
        "carrier": np.where(has_car, carrier, np.nan),
        "delivered": np.where(has_del, delivered, np.nan),
        "estimated": estimated,
    })


def draw_items(
    rng: np.random.Generator, value: np.ndarray, status: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Items per order, unit price and freight per item (cents), and the order total (cents).

    The order total is what the payments add up to: ``k * (unit price + unit freight)``
    for orders with items, the drawn value for the few orders without item rows.
    """
    n = value.size
    ks, kp = pmf(ITEMS_PMF)
    k = ks[rng.choice(ks.size, size=n, p=kp)].astype("int64")
    no_items = np.zeros(n, dtype=bool)
    for st, p in NO_ITEMS_P.items():
        sel = status == st
        no_items[sel] = rng.random(int(sel.sum())) < p
    k[no_items] = 0
    kk = np.maximum(k, 1)
    freight = np.minimum(lognormal_median(rng, 17.5, 0.55, n) * (1.0 + 0.35 * (kk - 1)), 0.6 * value)
    unit_freight = np.round(freight / kk * 100.0).astype("int64")
    unit = (value - unit_freight * kk / 100.0) / kk
    u = rng.random(n)
    snapped = np.where(u < 0.45, np.round(unit + 0.10) - 0.10, np.where(u < 0.70, np.round(unit + 0.01) - 0.01, unit))
    unit_price = np.round(np.maximum(snapped, 0.85) * 100.0).astype("int64")
    total = np.where(no_items, np.round(value * 100.0).astype("int64"), kk * (unit_price + unit_freight))
    return k, unit_price, unit_freight, total


def draw_payments(
    rng: np.random.Generator, order_ids: np.ndarray, total: np.ndarray, multi: np.ndarray, first_type: np.ndarray
) -> pd.DataFrame:
    """Payment rows: one per order mostly; card + vouchers or several vouchers for ~3%."""
    n = total.size
    ms, mp = pmf(N_PAYMENTS_PMF)
    m = np.where(multi, ms[rng.choice(ms.size, size=n, p=mp)], 1).astype("int64")
    pay_total = total.copy()
    card1 = (first_type == "credit_card") & ~multi
    interest = card1 & (rng.random(n) < INTEREST_P)
    pay_total[interest] = np.round(pay_total[interest] * rng.uniform(1.01, 1.2, int(interest.sum()))).astype("int64")
    cents = split_cents(rng, pay_total, m)
    owner = np.repeat(np.arange(n), m)
    seq = np.arange(owner.size) - np.repeat(np.concatenate([[0], np.cumsum(m)[:-1]]), m) + 1
    ptype = np.where(seq == 1, first_type[owner], "voucher").astype(object)
    band = np.searchsorted(INSTALLMENT_BANDS, total[owner] / 100.0)
    u = rng.random(owner.size)
    cdf = np.cumsum(INSTALLMENT_P / INSTALLMENT_P.sum(axis=1, keepdims=True), axis=1)
    inst_idx = np.minimum((u[:, None] > cdf[band]).sum(axis=1), INSTALLMENT_VALUES.size - 1)
    inst = np.where(ptype == "credit_card", INSTALLMENT_VALUES[inst_idx], 1)
    pay = pd.DataFrame({
        "order_id": order_ids[owner],
        "payment_sequential": seq,
        "payment_type": ptype,
        "payment_installments": inst,
        "payment_value": cents / 100.0,
    })
    # A little mess: a few extra 0.00 vouchers, a handful of orders with no payment at all.
    n_zero = max(1, int(round(n * ZERO_VOUCHER_RATE)))
    z = rng.choice(n, size=n_zero, replace=False)
    zero = pd.DataFrame({
        "order_id": order_ids[z], "payment_sequential": m[z] + 1, "payment_type": "voucher",
        "payment_installments": 1, "payment_value": 0.0,
    })
    pay = pd.concat([pay, zero], ignore_index=True)
    n_none = max(1, int(round(n * NO_PAYMENT_RATE)))
    none = order_ids[rng.choice(np.setdiff1d(np.arange(n), z), size=n_none, replace=False)]
    pay = pay[~pay["order_id"].isin(none)]
    return pay.iloc[rng.permutation(len(pay))].reset_index(drop=True)


def draw_reviews(rng: np.random.Generator, ids: np.random.Generator, orders: pd.DataFrame) -> pd.DataFrame:
    """About one review per order; score depends on delivery (on time, late, not delivered)."""
    n = len(orders)
    delivered = orders["delivered"].to_numpy()
    estimated = orders["estimated"].to_numpy()
    is_del = ~np.isnan(delivered) & (orders["status"].to_numpy() == "delivered")
    group = np.where(~is_del, "nd", np.where(delivered > estimated, "late", "ontime"))
    keep = rng.random(n) >= NO_REVIEW_P
    second = rng.random(n) < SECOND_REVIEW_P
    idx = np.concatenate([np.flatnonzero(keep), np.flatnonzero(second)])
    g = group[idx]
    lag = rng.choice([0, 1, 2, 3, 5], size=idx.size, p=[0.0, 0.93, 0.04, 0.02, 0.01]).astype(float)
    lag += np.where(np.arange(idx.size) >= keep.sum(), rng.integers(1, 15, idx.size), 0)
    base = np.where(is_del[idx], delivered[idx], estimated[idx] + rng.integers(0, 5, idx.size) * DAY)
    creation = (base // DAY + lag) * DAY
    answer = creation + np.maximum(np.floor(lognormal_median(rng, 1.6, 0.9, idx.size) * DAY), 7200.0)
    score = np.zeros(idx.size, dtype="int64")
    for grp, p in SCORE_P.items():
        sel = np.flatnonzero(g == grp)
        score[sel] = rng.choice(5, size=sel.size, p=np.array(p) / np.sum(p)) + 1
    mood = np.where(score >= 4, "pos", np.where(score == 3, "mid", "neg"))
    title = np.full(idx.size, None, dtype=object)
    msg = np.full(idx.size, None, dtype=object)
    has_t = rng.random(idx.size) < 0.117
    has_m = rng.random(idx.size) < 0.413
    for md in ("pos", "mid", "neg"):
        sel = np.flatnonzero((mood == md) & has_t)
        title[sel] = np.array(TITLES[md], dtype=object)[rng.integers(0, len(TITLES[md]), sel.size)]
        sel = np.flatnonzero((mood == md) & has_m)
        msg[sel] = np.array(MESSAGES[md], dtype=object)[rng.integers(0, len(MESSAGES[md]), sel.size)]
    rev = pd.DataFrame({
        "review_id": hex_ids(ids, idx.size),
        "order_id": orders["order_id"].to_numpy()[idx],
        "review_score": score,
        "review_comment_title": title,
        "review_comment_message": msg,
        "review_creation_date": seconds_to_datetime(creation),
        "review_answer_timestamp": seconds_to_datetime(answer),
    })
    rev = rev[answer <= seconds_since_origin(SNAPSHOT)]
    return rev.iloc[rng.permutation(len(rev))].reset_index(drop=True)
