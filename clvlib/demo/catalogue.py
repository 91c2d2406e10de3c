"""What is sold in the demo world: sellers and products.

Products get a category (real shares), sizes and a latent list price; an order item picks
a product whose list price is close to its own price (see :func:`clvlib.demo.world.build_world`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.demo.calibration import CATEGORIES, NO_CATEGORY_P, SELLER_STATE_P
from clvlib.demo.draws import hex_ids, lognormal_median, pmf
from clvlib.demo.geography import draw_places

__all__ = ["draw_catalogue"]


def draw_catalogue(
    rng: np.random.Generator, ids: np.random.Generator, n_items: int, cities: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Products and sellers.

    Returns products, sellers, the seller index of each product, the product indices
    sorted by a latent list price and those sorted prices (an item picks a product whose
    list price is close to its own price).
    """
    n_prod = max(30, int(np.ceil(n_items / 3.4)))
    n_sell = max(10, n_prod // 10)
    sstates, sp = pmf(SELLER_STATE_P)
    seller_state = sstates[rng.choice(sstates.size, size=n_sell, p=sp)]
    s_city, s_zip = draw_places(rng, cities, seller_state)
    sellers = pd.DataFrame({
        "seller_id": hex_ids(ids, n_sell),
        "seller_zip_code_prefix": s_zip,
        "seller_city": cities["city"].to_numpy()[s_city],
        "seller_state": seller_state,
    })
    cats = np.array([c[0] for c in CATEGORIES], dtype=object)
    cp = np.array([c[2] for c in CATEGORIES])
    cat = cats[rng.choice(cats.size, size=n_prod, p=cp / cp.sum())]
    no_cat = rng.random(n_prod) < NO_CATEGORY_P
    cat[no_cat] = None
    na_int = pd.array([pd.NA] * n_prod, dtype="Int64")

    def ints(x: np.ndarray, mask: np.ndarray | None = None) -> pd.arrays.IntegerArray:
        arr = pd.array(np.round(x).astype("int64"), dtype="Int64")
        if mask is not None:
            arr[mask] = na_int[mask]
        return arr

    weight = np.clip(lognormal_median(rng, 700, 1.2, n_prod), 50, 40_000)
    products = pd.DataFrame({
        "product_id": hex_ids(ids, n_prod),
        "product_category_name": cat,
        "product_name_lenght": ints(np.clip(rng.normal(49, 10, n_prod), 5, 76), no_cat),
        "product_description_lenght": ints(np.clip(lognormal_median(rng, 600, 0.75, n_prod), 4, 3992), no_cat),
        "product_photos_qty": ints(np.minimum(rng.geometric(0.45, n_prod), 20), no_cat),
        "product_weight_g": ints(weight),
        "product_length_cm": ints(np.clip(rng.normal(30, 14, n_prod), 7, 105)),
        "product_height_cm": ints(np.clip(lognormal_median(rng, 13, 0.7, n_prod), 2, 105)),
        "product_width_cm": ints(np.clip(rng.normal(23, 10, n_prod), 6, 118)),
    })
    seller_pop = rng.lognormal(0.0, 1.5, n_sell)
    prod_seller = rng.choice(n_sell, size=n_prod, p=seller_pop / seller_pop.sum())
    base_price = lognormal_median(rng, 75.0, 0.95, n_prod)
    by_price = np.argsort(base_price, kind="stable")
    return products, sellers, prod_seller, by_price, base_price[by_price]
