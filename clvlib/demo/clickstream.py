"""The clickstream of the demo world: sessions and events driven by the hidden traits.

A linked person browses at :func:`session_rate` sessions per day while alive (from a few
weeks before the first order) and rarely after dropout; the add-to-cart and purchase
shares of those sessions rise with :func:`buying_intent`. Most orders of linked persons
also appear as a session ending in a purchase event of the order's amount, and
clickstream-only users browse without ever buying.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.demo.calibration import (
    CLICK_END,
    HOUR_WEIGHTS,
    INTENT_HALF,
    ORDER_SESSION_P,
    PRE_BROWSE_DAYS,
    SESSION_BASE,
    SESSION_DEAD,
    SESSION_LINEAR,
    SESSION_SLOPE,
)
from clvlib.demo.draws import lognormal_median
from clvlib.demo.timeline import DAY, seconds_since_origin, seconds_to_click_timestamps
from clvlib.schemas import EVENT_TYPES, EXPECTED_SCHEMAS

__all__ = ["session_rate", "buying_intent", "draw_clickstream"]

#: EventType names by the integer codes used while drawing (0 = page_view ... 6 = logout).
_EVENT_TYPES = np.array(EVENT_TYPES)
#: Columns of the Kaggle clickstream file, in order.
_CLICK_COLUMNS = EXPECTED_SCHEMAS["clickstream"]


def session_rate(lam: np.ndarray) -> np.ndarray:
    """Browsing sessions per day while alive, increasing with the purchase rate."""
    return SESSION_BASE + SESSION_SLOPE * np.sqrt(lam) + SESSION_LINEAR * lam


def buying_intent(lam: np.ndarray) -> np.ndarray:
    """Buying intent in [0, 1): drives the add_to_cart and purchase shares of browsing sessions."""
    r = np.sqrt(lam)
    return r / (r + np.sqrt(INTENT_HALF))


def draw_clickstream(
    rng: np.random.Generator, persons: pd.DataFrame, user_id: np.ndarray, orders: pd.DataFrame,
    n_extra: int, extra_ids: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Sessions and events. Returns the event table and each person's browsing rate."""
    n = len(persons)
    linked = user_id > 0
    lam = persons["lam"].to_numpy()
    spend = persons["spend"].to_numpy()
    rate = np.where(linked, session_rate(lam), 0.0)
    click_end = seconds_since_origin(CLICK_END)
    first = persons["first"].to_numpy()
    start = np.maximum(first - np.floor(rng.exponential(PRE_BROWSE_DAYS, n) * DAY), 0.0)
    alive_end = np.minimum(persons["alive"].to_numpy(), click_end)
    span_alive = np.maximum(alive_end - start, 0.0)
    span_dead = np.maximum(click_end - np.maximum(alive_end, start), 0.0)
    n_alive = rng.poisson(rate * span_alive / DAY)
    n_dead = np.where(linked, rng.poisson(SESSION_DEAD * span_dead / DAY), 0)
    # Browsing sessions of persons (alive, then after dropout) and of clickstream-only users.
    pa = np.repeat(np.arange(n), n_alive)
    pd_ = np.repeat(np.arange(n), n_dead)
    t_alive = start[pa] + rng.random(pa.size) * span_alive[pa]
    t_dead = np.maximum(alive_end, start)[pd_] + rng.random(pd_.size) * span_dead[pd_]
    extra_span = rng.uniform(60, 700, n_extra) * DAY
    extra_start = rng.uniform(seconds_since_origin("2017-01-01"), click_end - 30 * DAY, n_extra)
    # A clickstream-only user browses from their start for their span, as far as the export's end: the
    # span is cut there (their sessions are not piled onto the last day).
    extra_span = np.minimum(extra_span, click_end - extra_start)
    n_x = rng.poisson(SESSION_BASE * 2.0 * extra_span / DAY)
    px = np.repeat(np.arange(n_extra), n_x)
    t_x = extra_start[px] + rng.random(px.size) * extra_span[px]
    b_user = np.concatenate([user_id[pa], user_id[pd_], extra_ids[px]])
    b_t = np.concatenate([t_alive, t_dead, t_x])
    b_t = (b_t // DAY) * DAY + rng.choice(24, size=b_t.size, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()) * 3600.0 \
        + rng.random(b_t.size) * 3600.0
    b_intent = np.concatenate([
        buying_intent(lam[pa]), 0.3 * buying_intent(lam[pd_]), np.zeros(px.size)
    ])
    b_spend = np.concatenate([spend[pa], spend[pd_], np.full(px.size, float(np.median(spend)))])
    b_n = np.minimum(1 + rng.poisson(4.0, b_t.size), 14)
    # Order sessions: most orders of linked persons show up as a session ending in a purchase.
    o_person = orders["person"].to_numpy()
    o_sel = np.flatnonzero(linked[o_person] & (orders["t"].to_numpy() < click_end)
                           & (rng.random(len(orders)) < ORDER_SESSION_P))
    o_user = user_id[o_person[o_sel]]
    o_t = orders["t"].to_numpy()[o_sel]
    o_amount = orders["total"].to_numpy()[o_sel] / 100.0
    o_login = rng.random(o_sel.size) < 0.5
    o_logout = rng.random(o_sel.size) < 0.4
    o_views = 2 + rng.poisson(2.0, o_sel.size)
    o_n = o_login + 1 + o_views + 2 + o_logout
    # Events.
    kind = np.concatenate([np.zeros(b_t.size, dtype=int), np.ones(o_sel.size, dtype=int)])
    s_user = np.concatenate([b_user, o_user])
    s_n = np.concatenate([b_n, o_n]).astype("int64")
    n_s = s_n.size
    ev_s = np.repeat(np.arange(n_s), s_n)
    pos = np.arange(ev_s.size) - np.repeat(np.cumsum(s_n) - s_n, s_n)
    gaps = lognormal_median(rng, 40.0, 1.0, ev_s.size)
    gaps[pos == 0] = 0.0
    off = np.cumsum(gaps)
    off -= np.repeat(off[np.cumsum(s_n) - s_n], s_n)
    # Browsing event types.
    intent = np.concatenate([b_intent, np.zeros(o_sel.size)])[ev_s]
    p_cart = 0.03 + 0.45 * intent
    p_buy = 0.004 + 0.35 * intent
    rest = 1.0 - p_cart - p_buy
    u = rng.random(ev_s.size)
    mid = np.select(
        [u < p_cart, u < p_cart + p_buy, u < p_cart + p_buy + 0.36 * rest, u < p_cart + p_buy + 0.70 * rest],
        [2, 3, 0, 1], default=4,
    )
    b_login = rng.random(n_s) < 0.5
    b_logout = (rng.random(n_s) < 0.4) & (s_n >= 2)
    last = pos == s_n[ev_s] - 1
    btype = np.where((pos == 0) & b_login[ev_s], 5, np.where(last & b_logout[ev_s], 6, mid))
    # Order-session event types: [login] page_view product_view.. add_to_cart purchase [logout].
    lo = np.concatenate([np.zeros(b_t.size, dtype=int), o_login.astype(int)])[ev_s]
    nv = np.concatenate([np.zeros(b_t.size, dtype=int), o_views])[ev_s]
    otype = np.select(
        [(pos == 0) & (lo == 1), pos == lo, pos <= lo + nv, pos == lo + nv + 1, pos == lo + nv + 2],
        [5, 0, 1, 2, 3], default=6,
    )
    is_order = kind[ev_s] == 1
    etype = np.where(is_order, otype, btype)
    # Times: browsing sessions run forward from their start; order sessions end in the purchase.
    buy_pos = lo + nv + 2
    o_start = np.zeros(n_s)
    o_off_buy = np.zeros(n_s)
    ob = np.flatnonzero(is_order & (pos == buy_pos))
    o_off_buy[ev_s[ob]] = off[ob]
    o_start[b_t.size:] = o_t - o_off_buy[b_t.size:] + rng.random(o_sel.size)
    s_start = np.concatenate([b_t, np.zeros(o_sel.size)]) + o_start
    ts = s_start[ev_s] + off
    amount = np.full(ev_s.size, np.nan)
    buy = etype == 3
    s_spend = np.concatenate([b_spend, np.zeros(o_sel.size)])
    s_amount = np.concatenate([np.zeros(b_t.size), o_amount])
    noise = rng.lognormal(-0.5 * 0.5**2, 0.5, ev_s.size)
    amount[buy] = np.where(is_order[buy], s_amount[ev_s[buy]], np.round(s_spend[ev_s[buy]] * noise[buy], 2))
    has_prod = np.isin(etype, [1, 2, 3])
    prod = np.full(ev_s.size, None, dtype=object)
    prod[has_prod] = np.char.add("prod_", rng.integers(1000, 10000, int(has_prod.sum())).astype(str))
    ok = ts < click_end
    ev = pd.DataFrame({
        "UserID": s_user[ev_s][ok],
        "_start": s_start[ev_s][ok],
        "_s": ev_s[ok],
        "Timestamp": ts[ok],
        "EventType": _EVENT_TYPES[etype[ok]],
        "ProductID": prod[ok],
        "Amount": amount[ok],
        "Outcome": np.where(buy[ok], "purchase", None),
    })
    ev = ev.sort_values(["UserID", "_start", "_s", "Timestamp"], kind="stable")
    first_row = ~ev["_s"].duplicated()
    ev["SessionID"] = first_row.astype("int64").groupby(ev["UserID"]).cumsum()
    ev["Timestamp"] = seconds_to_click_timestamps(ev["Timestamp"].to_numpy())
    return ev[_CLICK_COLUMNS].reset_index(drop=True), rate
