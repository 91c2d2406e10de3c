"""Where persons and sellers live: cities, zip prefixes and the geolocation table.

City names, zip prefix ranges and coordinates are public facts; the state shares come
from :mod:`clvlib.demo.calibration`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.demo.calibration import CITIES, STATE_P

__all__ = ["draw_geography", "draw_places"]


def draw_geography(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cities with their zip prefixes (column ``zips``), and the geolocation table (1-3 rows per prefix)."""
    cities = pd.DataFrame(CITIES, columns=["state", "city", "w", "lo", "hi", "lat", "lng"])
    state_tot = cities.groupby("state")["w"].transform("sum")
    overall = cities["state"].map(STATE_P) * cities["w"] / state_tot
    n_zip = np.clip(np.round(overall * 2500), 2, cities["hi"] - cities["lo"] + 1).astype(int)
    zips: list[np.ndarray] = []
    for lo, hi, k in zip(cities["lo"], cities["hi"], n_zip):
        zips.append(np.sort(rng.choice(np.arange(lo, hi + 1), size=k, replace=False)))
    zip_arr = np.concatenate(zips)
    city_of = np.repeat(np.arange(len(cities)), n_zip)
    reps = rng.integers(1, 4, zip_arr.size)
    zr = np.repeat(zip_arr, reps)
    cr = np.repeat(city_of, reps)
    geo = pd.DataFrame({
        "geolocation_zip_code_prefix": pd.Series(zr).map("{:05d}".format),
        "geolocation_lat": cities["lat"].to_numpy()[cr] + rng.normal(0, 0.03, zr.size),
        "geolocation_lng": cities["lng"].to_numpy()[cr] + rng.normal(0, 0.03, zr.size),
        "geolocation_city": cities["city"].to_numpy()[cr],
        "geolocation_state": cities["state"].to_numpy()[cr],
    })
    geo = geo.sample(frac=1.0, random_state=rng.integers(2**31)).reset_index(drop=True)
    return cities.assign(zips=zips), geo


def draw_places(rng: np.random.Generator, cities: pd.DataFrame, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """City index and zip prefix string for people/sellers living in ``states``."""
    city_idx = np.empty(states.size, dtype=int)
    for st, grp in cities.groupby("state"):
        sel = np.flatnonzero(states == st)
        if sel.size:
            p = grp["w"].to_numpy() / grp["w"].sum()
            city_idx[sel] = grp.index.to_numpy()[rng.choice(len(grp), size=sel.size, p=p)]
    zips = np.empty(states.size, dtype=object)
    for ci in np.unique(city_idx):
        sel = np.flatnonzero(city_idx == ci)
        z = cities.at[ci, "zips"]
        zips[sel] = np.char.zfill(rng.choice(z, size=sel.size).astype(str), 5)
    return city_idx, zips
