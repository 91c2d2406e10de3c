"""Small helpers for seeded random draws, shared by the simulation modules.

Each takes the :class:`numpy.random.Generator` to draw from, so the caller decides which
of the world's random streams is used (and the order of draws, which fixes the output).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["hex_ids", "pmf", "lognormal_median", "split_cents"]


def hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct 32-character lowercase hex ids (like Olist's md5-style ids)."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        need = n - len(out)
        h = rng.bytes(16 * need).hex()
        for i in range(0, 32 * need, 32):
            s = h[i : i + 32]
            if s not in seen:
                seen.add(s)
                out.append(s)
    return np.array(out, dtype=object)


def pmf(d: dict[Any, float]) -> tuple[np.ndarray, np.ndarray]:
    """Values and normalised probabilities of a ``{value: weight}`` table, in its order (for ``rng.choice``)."""
    keys = np.array(list(d.keys()))
    p = np.array(list(d.values()), dtype="float64")
    return keys, p / p.sum()


def lognormal_median(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    """``n`` lognormal draws with the given median and log-scale ``sigma``."""
    return rng.lognormal(np.log(median), sigma, n)


def split_cents(rng: np.random.Generator, total_cents: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Split each total (integer cents) into ``counts`` positive-ish random parts that add up exactly."""
    owner = np.repeat(np.arange(len(counts)), counts)
    w = rng.gamma(1.0, 1.0, owner.size)
    wsum = np.bincount(owner, weights=w, minlength=len(counts))
    parts = np.floor(w / wsum[owner] * total_cents[owner]).astype("int64")
    rest = total_cents - np.bincount(owner, weights=parts, minlength=len(counts)).astype("int64")
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    parts[first] += rest
    return parts
