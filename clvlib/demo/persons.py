"""The persons of the demo world: hidden buy-till-you-die traits, purchase occasions, order values.

Person *i* arrives (first order) on a day drawn from the real order curve, buys again at
Poisson times with rate ``lambda_i`` until a dropout time ``~ Exp(mu_i)`` (Pareto/NBD),
and spends ``spend_mean_i`` times a mean-one lognormal per order.

References
----------
Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers: who
are they and what will they do next? *Management Science*, 33(1), 1-24.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.demo.calibration import (
    DROPOUT_BETA,
    DROPOUT_S,
    HOUR_WEIGHTS,
    ORDER_SIGMA,
    PROCESS_END,
    RATE_ALPHA,
    RATE_R,
    SPEND_MU,
    SPEND_SIGMA,
    SPEND_TAIL_P,
    SPEND_TAIL_SCALE,
    SPLIT_P,
    STATE_P,
)
from clvlib.demo.draws import pmf
from clvlib.demo.timeline import DAY, day_table, seconds_since_origin

__all__ = ["draw_persons", "draw_occasions", "draw_order_values"]


def draw_persons(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Hidden traits and first purchase of ``n`` persons."""
    days, weight, _ = day_table()
    day_idx = rng.choice(days.size, size=n, p=weight)
    hour = rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    first = day_idx * DAY + hour * 3600.0 + np.floor(rng.random(n) * 3600.0)
    lam = rng.gamma(RATE_R, 1.0 / RATE_ALPHA, n)
    mu = rng.gamma(DROPOUT_S, 1.0 / DROPOUT_BETA, n)
    life = rng.exponential(1.0, n) / mu
    alive = np.minimum(first + np.floor(life * DAY), seconds_since_origin("2099-12-31T00:00:00"))
    log_spend = rng.normal(SPEND_MU, SPEND_SIGMA, n)
    tail = rng.random(n) < SPEND_TAIL_P
    log_spend = log_spend + np.where(tail, rng.exponential(SPEND_TAIL_SCALE, n), 0.0)
    spend = np.round(np.exp(log_spend), 2)
    states, sp = pmf(STATE_P)
    state = states[rng.choice(states.size, size=n, p=sp)]
    return pd.DataFrame(
        {"first": first, "alive": alive, "lam": lam, "mu": mu, "spend": spend, "state": state}
    )


def draw_occasions(rng: np.random.Generator, persons: pd.DataFrame) -> pd.DataFrame:
    """All orders: first purchases, visible repeat occasions and same-day split orders."""
    _, _, vis = day_table()
    first = persons["first"].to_numpy()
    end = np.minimum(persons["alive"].to_numpy(), seconds_since_origin(PROCESS_END))
    span = np.maximum(end - first, 0.0)
    k = rng.poisson(persons["lam"].to_numpy() * span / DAY)
    owner = np.repeat(np.arange(len(persons)), k)
    t = first[owner] + 1.0 + np.floor(rng.random(owner.size) * np.maximum(span[owner] - 2.0, 0.0))
    keep = rng.random(owner.size) < vis[np.minimum((t // DAY).astype(int), vis.size - 1)]
    owner, t = owner[keep], t[keep]
    owner = np.concatenate([np.arange(len(persons)), owner])
    t = np.concatenate([first, t])
    split = rng.random(owner.size) < SPLIT_P
    day_end = (t // DAY + 1.0) * DAY - 1.0
    t_split = np.minimum(t[split] + np.floor(rng.uniform(120, 4 * 3600, split.sum())), day_end[split])
    owner = np.concatenate([owner, owner[split]])
    t = np.concatenate([t, t_split])
    order = np.lexsort((t, owner))
    return pd.DataFrame({"person": owner[order], "t": t[order]})


def draw_order_values(rng: np.random.Generator, spend: np.ndarray) -> np.ndarray:
    """Order values (BRL) with mean ``spend``: spend * lognormal noise of mean 1."""
    w = rng.lognormal(-0.5 * ORDER_SIGMA**2, ORDER_SIGMA, spend.size)
    return spend * w
