"""The best prediction possible from observable demo data: the posterior mean under the demo's own model.

A model sees, up to the cut, each person's orders (times and values) and, for the ~70% of
persons with a clickstream account, their sessions through the real key. The demo world
(:mod:`clvlib.demo.persons`, :mod:`clvlib.demo.clickstream`) generates exactly those from
hidden traits with known distributions, so the best possible prediction of a person's
holdout spend is its conditional expectation given those data, which this module
computes by Bayes' rule:

    E[spend in (s, e] | data] = (1 + q) E[m | values] P(alive at s | data)
                                E[lambda | data, alive at s] W

with ``q`` the same-day split probability and ``W = integral_s^e vis(u) S(u | alive at s) du``
the visible days the person is expected to stay alive, ``S`` the survival of the
Pareto-type lifetime (``mu ~ Gamma(2, rate 400)``, lifetime ``~ Exp(mu)``, so
``S(u | alive at s) = ((400 + s - f) / (400 + u - f))^2``).

What enters the posterior, as the demo generates it:

* **Purchase rate and dropout** (``lambda ~ Gamma(0.2, rate 1200)`` per day, lifetime
  ``tau``): repeat purchase occasions (order days after the first; a same-day second order
  is a split, not an occasion) are Poisson at ``lambda`` on ``(f, tau)``. A linked person
  browses at ``rho(lambda) = 0.002 + 0.3 sqrt(lambda) + 4 lambda`` sessions a day from a
  start ``~ f - Exp(40 days)`` (not before the data begin) until ``tau``, then at 0.00025 a
  day; each browsing event is an add-to-cart with probability ``0.03 + 0.45 i``, a purchase
  with ``0.004 + 0.35 i``, else a view or click, with buying intent ``i(lambda)`` (0.3 i
  after dropout). Login/logout events and the sessions that mirror an order (a purchase
  event within 2 seconds of one of the person's orders) carry no information.
* **Spend level** ``m`` (log-normal with a tail, :data:`~clvlib.demo.calibration.SPEND_MU`
  etc.): each order's value is ``m`` times a mean-one log-normal (sigma 0.52), each browsing
  purchase amount ``m`` times another (sigma 0.5).

``lambda`` is integrated on a grid of its logarithm, the dropout time exactly per
piece between the person's sessions (15-day cells, the exponential part in closed form),
``m`` on a grid of its logarithm. Times are resolved to the second except sessions'
start, which the demo moves to a random hour of its day. Orders of every status count (they
are in the raw files); a model that keeps delivered orders only sees a little less.

On the default demo (40,000 persons, seed 42; cut 2018-02-28, holdout to 2018-08-31,
scored against the delivered holdout spend of the 23,293 people with a delivered order by
the cut) its normalized Gini is 0.572, and 0.419 from the orders alone (``clickstream=None``);
:mod:`clvlib.demo.ceilings` sets it beside the other ceilings. It is calibrated against the
hidden truth: the posterior P(alive) of those 23,996 persons with any order sums to 13,795
against 13,848 alive, and decile means of the score match those of the true expected value.
It takes ~10 s for the default demo (most of it the per-person cells of the dropout time).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import exponnorm, norm

from clvlib.demo.calibration import (
    DROPOUT_BETA,
    DROPOUT_S,
    ORDER_SIGMA,
    ORIGIN,
    PRE_BROWSE_DAYS,
    RATE_ALPHA,
    RATE_R,
    SESSION_DEAD,
    SPEND_MU,
    SPEND_SIGMA,
    SPEND_TAIL_P,
    SPEND_TAIL_SCALE,
    SPLIT_P,
)
from clvlib.demo.clickstream import buying_intent, session_rate
from clvlib.demo.timeline import DAY, day_table
from clvlib.io import validate_columns

__all__ = ["observable_expected_value", "observable_expected_value_from_raw", "observed_histories"]

#: sigma of the log-normal noise of browsing purchase amounts (clvlib.demo.clickstream).
_BROWSE_SIGMA = 0.5
#: Width of the cells over which the lifetime density is held constant (days).
_CELL_DAYS = 15.0
#: Seconds within which a purchase event and an order are the same purchase (an order session).
_MATCH_SECONDS = 2.0
_DEAD_INTENT = 0.3


def _days(t: Any) -> np.ndarray:
    """Timestamps -> float days since the demo clock's origin."""
    s = pd.to_datetime(pd.Series(np.asarray(t).ravel()), format="mixed").to_numpy(dtype="datetime64[us]")
    return (s - ORIGIN.astype("datetime64[us]")).astype("int64") / (DAY * 1e6)


# --------------------------------------------------------------------------- observed histories


def observed_histories(tables: Mapping[str, pd.DataFrame], clickstream: pd.DataFrame | None,
                       key: pd.DataFrame | None, cut: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per person and per browsing session, what the data show up to the end of the day ``cut``.

    Parameters
    ----------
    tables
        Raw Olist tables ``orders``, ``customers``, ``payments`` (as written by the demo).
    clickstream
        Raw clickstream (``UserID, SessionID, Timestamp, EventType, Amount``), or ``None``.
    key
        ``customer_unique_id, UserID`` of linked persons, or ``None``.
    cut
        The cut-off day: data dated up to its end are observed.

    Returns
    -------
    persons : pandas.DataFrame
        One row per person with an order by the cut: ``customer_unique_id``, ``first``
        and ``last`` (days since the origin of the first and last purchase occasion),
        ``x`` (repeat occasions), ``linked``, ``n_values`` / ``sum_log_values`` (order
        values) and ``n_amounts`` / ``sum_log_amounts`` (browsing purchase amounts).
    sessions : pandas.DataFrame
        Browsing sessions of linked persons by the cut: ``person`` (row of ``persons``),
        ``t`` (days since the origin, first event), ``n_cart``, ``n_buy``, ``n_other``.
    """
    for name in ("orders", "customers", "payments"):
        if name not in tables:
            raise ValueError(f"tables: the raw '{name}' table is missing.")
    orders, customers, payments = tables["orders"], tables["customers"], tables["payments"]
    validate_columns(orders, ["order_id", "customer_id", "order_purchase_timestamp"], "orders")
    validate_columns(customers, ["customer_id", "customer_unique_id"], "customers")
    validate_columns(payments, ["order_id", "payment_value"], "payments")
    c = float(_days([pd.Timestamp(cut).normalize() + pd.Timedelta(days=1)])[0])
    o = orders[["order_id", "customer_id", "order_purchase_timestamp"]].merge(
        customers[["customer_id", "customer_unique_id"]], on="customer_id", how="inner")
    o["t"] = _days(o["order_purchase_timestamp"])
    o = o[o["t"] < c]
    value = payments.groupby("order_id")["payment_value"].sum()
    o["value"] = o["order_id"].map(value)
    o = o.sort_values(["customer_unique_id", "t"], kind="stable")
    o["day"] = np.floor(o["t"])
    occasion = ~o.duplicated(["customer_unique_id", "day"])  # a same-day second order is a split
    g = o[occasion].groupby("customer_unique_id", sort=True)["t"]
    persons = pd.DataFrame({"first": g.min(), "last": g.max(), "x": g.size() - 1})
    ok = o["value"].notna() & (o["value"] > 0)
    lv = np.log(o.loc[ok, "value"])
    persons["n_values"] = lv.groupby(o.loc[ok, "customer_unique_id"]).size()
    persons["sum_log_values"] = lv.groupby(o.loc[ok, "customer_unique_id"]).sum()
    persons[["n_values", "sum_log_values"]] = persons[["n_values", "sum_log_values"]].fillna(0.0)
    persons.index.name = "customer_unique_id"
    persons = persons.reset_index()
    persons["linked"] = False
    persons["n_amounts"] = 0.0
    persons["sum_log_amounts"] = 0.0
    sessions = pd.DataFrame({"person": np.array([], dtype=int), "t": [], "n_cart": [], "n_buy": [], "n_other": []})
    if clickstream is None or key is None or len(key) == 0:
        return persons, sessions
    validate_columns(clickstream, ["UserID", "SessionID", "Timestamp", "EventType", "Amount"], "clickstream")
    validate_columns(key, ["customer_unique_id", "UserID"], "key")
    row = pd.Series(np.arange(len(persons)), index=persons["customer_unique_id"])
    k = key[key["customer_unique_id"].isin(row.index)]
    persons.loc[row[k["customer_unique_id"]].to_numpy(), "linked"] = True
    user_person = pd.Series(row[k["customer_unique_id"]].to_numpy(), index=k["UserID"].to_numpy())
    ev = clickstream[clickstream["UserID"].isin(user_person.index)][["UserID", "SessionID", "Timestamp", "EventType",
                                                                     "Amount"]].copy()
    ev["person"] = user_person[ev["UserID"]].to_numpy()
    ev["t"] = _days(ev["Timestamp"])
    start = ev.groupby(["UserID", "SessionID"])["t"].transform("min")
    ev = ev[start < c]
    ev = ev[ev["t"] < c]
    # order sessions: a purchase event within 2 s of one of the person's orders
    buys = ev[ev["EventType"] == "purchase"]
    ot = o.assign(person=o["customer_unique_id"].map(row)).dropna(subset=["person"])
    ot = ot.sort_values(["person", "t"])
    okey = ot["person"].to_numpy() * 1e6 + ot["t"].to_numpy()
    bkey = buys["person"].to_numpy() * 1e6 + buys["t"].to_numpy()
    pos = np.searchsorted(okey, bkey)
    tol = _MATCH_SECONDS / DAY
    near = np.zeros(len(bkey), dtype=bool)
    for shift in (-1, 0):
        i = np.clip(pos + shift, 0, max(len(okey) - 1, 0))
        if len(okey):
            near |= np.abs(okey[i] - bkey) < tol
    order_sessions = pd.MultiIndex.from_arrays([buys["UserID"].to_numpy()[near], buys["SessionID"].to_numpy()[near]])
    sid = pd.MultiIndex.from_arrays([ev["UserID"].to_numpy(), ev["SessionID"].to_numpy()])
    ev = ev[~sid.isin(order_sessions)]
    mid = ~ev["EventType"].isin(["login", "logout"])
    ev = ev.assign(cart=(ev["EventType"] == "add_to_cart").astype(int), buy=(ev["EventType"] == "purchase").astype(int),
                   other=(mid & ~ev["EventType"].isin(["add_to_cart", "purchase"])).astype(int))
    s = ev.groupby(["UserID", "SessionID"]).agg(person=("person", "first"), t=("t", "min"), n_cart=("cart", "sum"),
                                                n_buy=("buy", "sum"), n_other=("other", "sum")).reset_index(drop=True)
    sessions = s.sort_values(["person", "t"], kind="stable").reset_index(drop=True)
    amounts = ev[(ev["EventType"] == "purchase") & (ev["Amount"] > 0)]
    la = np.log(amounts["Amount"].to_numpy())
    persons.loc[:, "n_amounts"] = np.bincount(amounts["person"], minlength=len(persons)).astype(float)
    persons.loc[:, "sum_log_amounts"] = np.bincount(amounts["person"], weights=la, minlength=len(persons))
    return persons, sessions


# --------------------------------------------------------------------------- the posterior


def _rate_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes of lambda (log-spaced) and their prior masses (Gamma(RATE_R, rate RATE_ALPHA)), summing to 1."""
    from scipy.special import gammainc

    # below 1e-7 a day the data cannot tell lambda from 0 (one cell), above 0.05 the prior holds ~e^-60
    edges = np.concatenate([[0.0], np.geomspace(1e-7, 0.05, n)])
    cdf = gammainc(RATE_R, RATE_ALPHA * edges)
    mass = np.diff(cdf)
    mass[-1] += 1.0 - cdf[-1]
    # node: the prior mean of lambda within its cell
    upper = gammainc(RATE_R + 1.0, RATE_ALPHA * edges)
    mean_in = (RATE_R / RATE_ALPHA) * np.diff(upper) / np.maximum(mass, 1e-300)
    keep = mass > 0  # cells too far in the tail for double precision carry nothing
    return np.maximum(mean_in[keep], 1e-12), mass[keep]


def _log_composition(n_cart: np.ndarray, n_buy: np.ndarray, n_other: np.ndarray, intent: np.ndarray) -> np.ndarray:
    """(sessions, nodes) log-probability of each session's event types at each buying intent."""
    p_cart = 0.03 + 0.45 * intent
    p_buy = 0.004 + 0.35 * intent
    p_other = 1.0 - p_cart - p_buy
    return (n_cart[:, None] * np.log(p_cart)[None, :] + n_buy[:, None] * np.log(p_buy)[None, :]
            + n_other[:, None] * np.log(p_other)[None, :])


def _spend_posterior_mean(n_v: np.ndarray, s_v: np.ndarray, n_a: np.ndarray, s_a: np.ndarray) -> np.ndarray:
    """E[m | order values, browsing amounts] on a grid of log m (the demo's prior, log-normal noises)."""
    y = np.linspace(0.0, 22.0, 2201)  # log m; the tail of the prior (e^y x density ~ e^{-2y/3}) needs room
    k = SPEND_TAIL_SCALE / SPEND_SIGMA
    prior = (1 - SPEND_TAIL_P) * norm.pdf(y, SPEND_MU, SPEND_SIGMA) + SPEND_TAIL_P * exponnorm.pdf(
        y, k, loc=SPEND_MU, scale=SPEND_SIGMA)
    logp = np.log(np.maximum(prior, 1e-300))[None, :]
    # sum_k log N(log v_k; y - s^2/2, s^2) = const - n (y - s^2/2)^2 / (2 s^2) + (y - s^2/2) sum(log v) / s^2
    for n, sl, sig in ((n_v, s_v, ORDER_SIGMA), (n_a, s_a, _BROWSE_SIGMA)):
        mu = y[None, :] - sig**2 / 2.0
        logp = logp + (-n[:, None] * mu**2 / 2.0 + mu * sl[:, None]) / sig**2
    logp -= logp.max(axis=1, keepdims=True)
    w = np.exp(logp)
    return (w * np.exp(y)[None, :]).sum(axis=1) / w.sum(axis=1)


def _lifetime_log_density(tau: np.ndarray, first: np.ndarray) -> np.ndarray:
    """log density of the dropout time ``tau`` (days): Pareto-type lifetime after ``first``."""
    return np.log(DROPOUT_S) + DROPOUT_S * np.log(DROPOUT_BETA) - (DROPOUT_S + 1) * np.log(DROPOUT_BETA + tau - first)


def _log_survival(t: np.ndarray, first: np.ndarray) -> np.ndarray:
    return DROPOUT_S * (np.log(DROPOUT_BETA) - np.log(DROPOUT_BETA + t - first))


def _alive_and_rate(persons: pd.DataFrame, sessions: pd.DataFrame, c: float, n_nodes: int,
                    chunk: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """P(alive at c | data) and E[lambda 1(alive at c) | data] per person."""
    lam, mass = _rate_grid(n_nodes)
    n_nodes = lam.size
    rho = session_rate(lam)
    log_lam, log_rho, log_dead = np.log(lam), np.log(rho), np.log(SESSION_DEAD)
    n = len(persons)
    first = persons["first"].to_numpy()
    last = persons["last"].to_numpy()
    x = persons["x"].to_numpy(dtype=float)
    linked = persons["linked"].to_numpy(dtype=bool)
    sp = sessions["person"].to_numpy(dtype=int)
    st = sessions["t"].to_numpy(dtype=float)
    comp_alive = _log_composition(*(sessions[k].to_numpy(dtype=float) for k in ("n_cart", "n_buy", "n_other")),
                                  buying_intent(lam))
    comp_dead = _log_composition(*(sessions[k].to_numpy(dtype=float) for k in ("n_cart", "n_buy", "n_other")),
                                 _DEAD_INTENT * buying_intent(lam))
    alive_term = log_rho[None, :] + comp_alive  # (sessions, nodes)
    delta = (log_dead + comp_dead) - alive_term  # switching a session from alive to dead
    # per person: sum of alive terms, earliest session (the browsing start is before it)
    sum_alive = np.zeros((n, n_nodes))
    np.add.at(sum_alive, sp, alive_term)
    earliest = np.full(n, np.inf)
    np.minimum.at(earliest, sp, st)
    # sessions sorted by (person, t): reverse cumulative sums of delta within each person
    order = np.lexsort((st, sp))
    sp, st, delta = sp[order], st[order], delta[order]
    csum = np.vstack([np.zeros((1, n_nodes)), np.cumsum(delta, axis=0)])  # csum[k] = sum of the first k rows
    starts = np.searchsorted(sp, np.arange(n), side="left")
    ends = np.searchsorted(sp, np.arange(n), side="right")
    keyv = sp.astype(float) * 1e6 + st

    def suffix(person: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Sum of delta over the person's sessions at or after t: (len(t), nodes)."""
        i = np.searchsorted(keyv, person.astype(float) * 1e6 + t, side="left")
        return csum[ends[person]] - csum[i]

    # the browsing start: D = f - start ~ Exp(PRE_BROWSE_DAYS), cut at the origin; sessions before f need D >= d0
    kappa = rho + 1.0 / PRE_BROWSE_DAYS  # (nodes,)
    f_clip = np.maximum(first, 1e-9)
    d0 = np.clip(np.where(np.isfinite(earliest), first - (np.floor(earliest) + 1.0), 0.0), 0.0, f_clip)
    with np.errstate(over="ignore", under="ignore"):
        start_term = np.log(np.maximum(
            (np.exp(-kappa[None, :] * d0[:, None]) - np.exp(-kappa[None, :] * f_clip[:, None]))
            / (PRE_BROWSE_DAYS * kappa[None, :]) + np.exp(-kappa[None, :] * f_clip[:, None]), 1e-300))
    exposure = c - first
    ll_alive = (np.log(mass)[None, :] + x[:, None] * log_lam[None, :] - lam[None, :] * exposure[:, None]
                + np.where(linked[:, None], sum_alive - rho[None, :] * exposure[:, None] + start_term, 0.0))
    log_s = _log_survival(np.full(n, c), first)
    # dying in (last, c): cells of <= 15 days split at the person's sessions; exp part integrated exactly
    slope = lam[None, :] + np.where(linked[:, None], rho[None, :] - SESSION_DEAD, 0.0)  # (n, nodes) > 0
    log_dead_part = np.full((n, n_nodes), -np.inf)
    grid = np.arange(0.0, c, _CELL_DAYS)
    for lo_p in range(0, n, chunk):
        idx = np.arange(lo_p, min(lo_p + chunk, n))
        cells_p, cells_lo, cells_hi = [], [], []
        for p in idx:
            cuts = grid[(grid > last[p]) & (grid < c)]
            sess = st[starts[p]:ends[p]]
            sess = sess[(sess > last[p]) & (sess < c)]
            b = np.unique(np.concatenate([[last[p]], cuts, sess, [c]]))
            if b.size < 2:
                continue
            cells_p.append(np.full(b.size - 1, p))
            cells_lo.append(b[:-1])
            cells_hi.append(b[1:])
        if not cells_p:
            continue
        cp, clo, chi = np.concatenate(cells_p), np.concatenate(cells_lo), np.concatenate(cells_hi)
        keep = chi > clo
        cp, clo, chi = cp[keep], clo[keep], chi[keep]
        sl = slope[cp]  # (cells, nodes)
        # log integral_lo^hi exp(slope (c - tau)) dtau = slope (c - lo) + log(1 - exp(-slope (hi - lo))) - log slope
        li = sl * (c - clo)[:, None] + np.log(-np.expm1(-sl * (chi - clo)[:, None])) - np.log(sl)
        li += _lifetime_log_density((clo + chi) / 2.0, first[cp])[:, None]
        li += np.where(linked[cp][:, None], suffix(cp, chi), 0.0)
        # log-sum-exp per person
        bounds = np.flatnonzero(np.r_[True, cp[1:] != cp[:-1]])
        mx = np.maximum.reduceat(li, bounds, axis=0)
        owners = cp[bounds]
        log_dead_part[owners] = mx + np.log(np.add.reduceat(np.exp(li - np.repeat(mx, np.diff(np.r_[bounds, len(cp)]),
                                                                                    axis=0)), bounds, axis=0))
    alive_w = ll_alive + log_s[:, None]
    dead_w = ll_alive + log_dead_part
    both = np.logaddexp(alive_w, dead_w)
    norm_ = np.logaddexp.reduce(both, axis=1)
    p_alive = np.exp(np.logaddexp.reduce(alive_w, axis=1) - norm_)
    rate_alive = np.exp(np.logaddexp.reduce(alive_w + log_lam[None, :], axis=1) - norm_)
    return p_alive, rate_alive


def _remaining_visible_days(c: float, e: float, first: np.ndarray) -> np.ndarray:
    """integral_c^e vis(u) S(u | alive at c) du (days), S of the Pareto-type lifetime."""
    _, _, vis = day_table()
    out = np.zeros(first.shape)
    for d in range(int(np.floor(c)), int(np.ceil(e))):
        u0, u1 = max(c, d), min(e, d + 1.0)
        if u1 <= u0 or d >= vis.size:
            continue
        # integral of ((B)/(B + u - c'))^s over [u0, u1] with B = beta + c - f: closed form for s = 2 (s != 1)
        B = DROPOUT_BETA + c - first
        s = DROPOUT_S
        val = B**s * ((B + u0 - c) ** (1 - s) - (B + u1 - c) ** (1 - s)) / (s - 1)
        out += vis[d] * val
    return out


def observable_expected_value(tables: Mapping[str, pd.DataFrame], clickstream: pd.DataFrame | None,
                              key: pd.DataFrame | None, start: Any, end: Any, *, n_nodes: int = 160
                              ) -> pd.DataFrame:
    """Each person's expected spend in ``(start, end]`` given the data observable by the end of ``start``.

    Parameters
    ----------
    tables
        The raw demo Olist tables ``orders``, ``customers``, ``payments``
        (:attr:`clvlib.demo.world.DemoWorld.tables`, or the CSVs read back).
    clickstream
        The raw demo clickstream (Kaggle layout), or ``None`` for orders only.
    key
        The demo's customer <-> UserID key (``demo_user_key.csv``), or ``None``.
    start, end
        The cut-off day (data up to its end are observed) and the last day of the window.
    n_nodes
        Grid nodes for the purchase rate (default 160).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_unique_id`` (every person with an order by the cut), columns
        ``p_alive`` (at the cut), ``expected_rate`` (``E[lambda 1(alive) | data]``, per
        day), ``expected_spend`` (``E[m | data]``), ``remaining_days`` (visible days alive
        in the window if alive at the cut, expected) and ``observable_expected_value``
        (their product times ``1 + q``).

    Raises
    ------
    ValueError
        If a table or column is missing, or ``end`` is not after ``start``.

    Notes
    -----
    On the default demo (40,000 persons, seed 42; cut 2018-02-28, 6 months) see the module
    docstring of :mod:`clvlib.demo.ceilings` for the Gini of every ceiling.
    """
    s = pd.Timestamp(start).normalize()
    e = pd.Timestamp(end).normalize()
    if e <= s:
        raise ValueError(f"end ({e.date()}) must be after start ({s.date()}).")
    persons, sessions = observed_histories(tables, clickstream, key, s)
    c = float(_days([s + pd.Timedelta(days=1)])[0])
    e_days = float(_days([e + pd.Timedelta(days=1)])[0])
    p_alive, rate = _alive_and_rate(persons, sessions, c, int(n_nodes))
    spend = _spend_posterior_mean(*(persons[k].to_numpy(dtype=float) for k in
                                    ("n_values", "sum_log_values", "n_amounts", "sum_log_amounts")))
    remaining = _remaining_visible_days(c, e_days, persons["first"].to_numpy())
    out = pd.DataFrame({"p_alive": p_alive, "expected_rate": rate, "expected_spend": spend,
                        "remaining_days": remaining},
                       index=pd.Index(persons["customer_unique_id"].to_numpy(), name="customer_unique_id"))
    out["observable_expected_value"] = (1.0 + SPLIT_P) * rate * spend * remaining
    return out


def observable_expected_value_from_raw(raw_dir: str | Path, start: Any, end: Any, **kwargs: Any) -> pd.DataFrame:
    """:func:`observable_expected_value` of a demo written by :func:`clvlib.demo.generate_demo` (its data folder)."""
    from clvlib.demo.generate import USER_KEY_FILE
    from clvlib.schemas import CLICKSTREAM_FILE, OLIST_FILES

    raw = Path(raw_dir)
    tables = {name: pd.read_csv(raw / OLIST_FILES[name]) for name in ("orders", "customers", "payments")}
    click = pd.read_csv(raw / CLICKSTREAM_FILE) if (raw / CLICKSTREAM_FILE).is_file() else None
    key = pd.read_csv(raw / USER_KEY_FILE) if (raw / USER_KEY_FILE).is_file() else None
    return observable_expected_value(tables, click, key, start, end, **kwargs)

