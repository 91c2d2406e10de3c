"""Simulated repeat-purchase counts from a fitted BTYD purchase model.

Used by :func:`clvlib.models.btyd.plots.plot_repeat_purchases` to draw the model's
distribution of repeat purchases next to the data. A vectorised numpy simulation:
pymc-marketing's own sampler loops over customers in Python, which is too slow for tens
of thousands of customers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from clvlib.models.btyd.fit import PURCHASE_PARAMS

if TYPE_CHECKING:  # pragma: no cover
    from clvlib.models.btyd.model import BTYDModel

__all__ = ["simulate_frequency"]


def simulate_frequency(model: BTYDModel, T: np.ndarray, n_draws: int = 20) -> np.ndarray:
    """Simulated repeat-purchase counts of customers of ages ``T`` (n_sims x len(T)).

    A few posterior draws (one for MAP), each simulated ``n_draws // n_posterior_draws``
    times, seeded with ``model.random_seed``: BG/NBD: X = min(Poisson(lambda T),
    Geometric(p)); Pareto/NBD: X = Poisson(lambda min(tau, T)) with tau ~ Exponential(mu).

    Parameters
    ----------
    model
        A fitted ``BTYDModel``.
    T
        Customer ages in the model's time unit.
    n_draws
        Number of simulated populations.

    Returns
    -------
    numpy.ndarray
        Integer counts, one row per simulated population, one column per customer.
    """
    rng = np.random.default_rng(model.random_seed)
    post = model.purchase_model_.idata.posterior
    flat = {k: post[k].values.reshape(-1) for k in PURCHASE_PARAMS[model.purchase_model]}
    n_post = len(next(iter(flat.values())))
    idx = rng.choice(n_post, size=min(n_draws, n_post), replace=False) if n_post > 1 else np.array([0])
    reps = max(1, n_draws // len(idx))
    sims = []
    for i in idx:
        for _ in range(reps):
            r, alpha = flat["r"][i], flat["alpha"][i]
            lam = rng.gamma(shape=r, scale=1.0 / alpha, size=T.shape)
            if model.purchase_model == "bgnbd":
                p = rng.beta(flat["a"][i], flat["b"][i], size=T.shape)
                x = np.minimum(rng.poisson(lam * T), rng.geometric(np.clip(p, 1e-12, 1.0)))
            else:
                mu = rng.gamma(shape=flat["s"][i], scale=1.0 / flat["beta"][i], size=T.shape)
                tau = rng.exponential(1.0 / np.maximum(mu, 1e-300))
                x = rng.poisson(lam * np.minimum(tau, T))
            sims.append(x)
    return np.asarray(sims)
