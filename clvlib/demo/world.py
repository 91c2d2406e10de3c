"""The whole demo world in memory, from one seed: the Kaggle-shaped tables, the key and the truth.

:func:`build_world` splits the seed into ten independent random streams (persons,
occasions, values, life cycle, items, payments, reviews, geography, clickstream, ids),
calls the simulation modules in a fixed order and assembles the nine Olist tables, the
clickstream, the customer <-> user key and the truth table. No I/O: writing is
:func:`clvlib.demo.generate.generate_demo`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvlib.demo.calibration import (
    CATEGORIES,
    EXTRA_USERS_P,
    LINKED_P,
    MULTI_FIRST_CARD_P,
    MULTI_PAYMENT_P,
    SINGLE_TYPE_P,
)
from clvlib.demo.catalogue import draw_catalogue
from clvlib.demo.clickstream import draw_clickstream
from clvlib.demo.draws import hex_ids, lognormal_median, pmf
from clvlib.demo.geography import draw_geography, draw_places
from clvlib.demo.orders import draw_items, draw_lifecycle, draw_payments, draw_reviews
from clvlib.demo.persons import draw_occasions, draw_order_values, draw_persons
from clvlib.demo.timeline import DAY, seconds_to_datetime
from clvlib.schemas import EXPECTED_SCHEMAS

__all__ = ["OLIST_COLUMNS", "DemoWorld", "build_world"]

#: The Kaggle schemas, column order included (one definition, shared with the inventory).
OLIST_COLUMNS: dict[str, list[str]] = {k: v for k, v in EXPECTED_SCHEMAS.items() if k != "clickstream"}


@dataclass(frozen=True)
class DemoWorld:
    """The demo world in memory, as :func:`build_world` returns it.

    Attributes
    ----------
    tables
        The nine Olist tables by logical name (the keys of :data:`clvlib.schemas.OLIST_FILES`),
        columns as drawn; :data:`OLIST_COLUMNS` gives the order to write them in.
    clickstream
        The clickstream events, columns and order of the Kaggle file.
    key
        ``customer_unique_id`` and ``UserID`` of the persons with a clickstream account, by ``UserID``.
    truth
        The hidden traits, one row per person (columns of :data:`clvlib.demo.truth.TRUTH_COLUMNS`).
    """

    tables: dict[str, pd.DataFrame]
    clickstream: pd.DataFrame
    key: pd.DataFrame
    truth: pd.DataFrame


def build_world(n_customers: int, seed: int) -> DemoWorld:
    """Draw the whole demo world in memory: Olist tables, clickstream, key and truth (no I/O).

    Parameters
    ----------
    n_customers
        Number of persons (``customer_unique_id``); checked by the caller.
    seed
        Seed of every random draw: the same seed and size give the same world.

    Returns
    -------
    DemoWorld
        The tables, the clickstream, the customer <-> user key and the truth.
    """
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(10)]
    r_pers, r_occ, r_val, r_life, r_items, r_pay, r_rev, r_geo, r_click, r_ids = streams

    persons = draw_persons(r_pers, n_customers)
    occ = draw_occasions(r_occ, persons)
    n_orders = len(occ)
    person_ids = hex_ids(r_ids, n_customers)
    order_ids = hex_ids(r_ids, n_orders)
    customer_ids = hex_ids(r_ids, n_orders)
    pidx = occ["person"].to_numpy()
    t = occ["t"].to_numpy()
    # Value, payment types, life cycle, items.
    value = draw_order_values(r_val, persons["spend"].to_numpy()[pidx])
    multi = r_pay.random(n_orders) < MULTI_PAYMENT_P
    types, tp = pmf(SINGLE_TYPE_P)
    first_type = np.where(
        multi,
        np.where(r_pay.random(n_orders) < MULTI_FIRST_CARD_P, "credit_card", "voucher"),
        types[r_pay.choice(types.size, size=n_orders, p=tp)],
    ).astype(object)
    life = draw_lifecycle(r_life, t, first_type)
    status = life["status"].to_numpy()
    k, unit_price, unit_freight, total = draw_items(r_items, value, status)

    # Geography, catalogue.
    cities, geo = draw_geography(r_geo)
    city_idx, zips = draw_places(r_geo, cities, persons["state"].to_numpy())
    products, sellers, prod_seller, by_price, sorted_price = draw_catalogue(r_items, r_ids, int(k.sum()), cities)

    orders = pd.DataFrame({
        "order_id": order_ids,
        "customer_id": customer_ids,
        "order_status": status,
        "order_purchase_timestamp": seconds_to_datetime(t),
        "order_approved_at": seconds_to_datetime(life["approved"].to_numpy()),
        "order_delivered_carrier_date": seconds_to_datetime(life["carrier"].to_numpy()),
        "order_delivered_customer_date": seconds_to_datetime(life["delivered"].to_numpy()),
        "order_estimated_delivery_date": seconds_to_datetime(life["estimated"].to_numpy()),
    })
    customers = pd.DataFrame({
        "customer_id": customer_ids,
        "customer_unique_id": person_ids[pidx],
        "customer_zip_code_prefix": zips[pidx],
        "customer_city": cities["city"].to_numpy()[city_idx][pidx],
        "customer_state": persons["state"].to_numpy()[pidx],
    })

    # Order items: one product for all items of an order mostly, else one product per item.
    item_order = np.repeat(np.arange(n_orders), k)
    item_no = np.arange(item_order.size) - np.repeat(np.cumsum(k) - k, k) + 1
    same = r_items.random(n_orders) < 0.75
    jitter = r_items.integers(-3, 4, item_order.size)
    jitter = np.where(same[item_order], jitter[np.repeat(np.cumsum(k) - k, k)], jitter)
    rank = np.clip(np.searchsorted(sorted_price, unit_price[item_order] / 100.0) + jitter, 0, len(sorted_price) - 1)
    prod = by_price[rank]
    ship_base = np.where(np.isnan(life["approved"].to_numpy()), t, life["approved"].to_numpy())
    ship_limit = ship_base + np.floor(lognormal_median(r_items, 6.0, 0.3, n_orders) * DAY)
    items = pd.DataFrame({
        "order_id": order_ids[item_order],
        "order_item_id": item_no,
        "product_id": products["product_id"].to_numpy()[prod],
        "seller_id": sellers["seller_id"].to_numpy()[prod_seller[prod]],
        "shipping_limit_date": seconds_to_datetime(ship_limit[item_order]),
        "price": unit_price[item_order] / 100.0,
        "freight_value": unit_freight[item_order] / 100.0,
    }).sort_values(["order_id", "order_item_id"], kind="stable").reset_index(drop=True)

    payments = draw_payments(r_pay, order_ids, total, multi, first_type)
    reviews = draw_reviews(r_rev, r_ids, pd.DataFrame({
        "order_id": order_ids, "status": status, "delivered": life["delivered"].to_numpy(),
        "estimated": life["estimated"].to_numpy(),
    }))

    # Clickstream: ~70% of persons linked to a UserID, plus clickstream-only users.
    linked = r_click.random(n_customers) < LINKED_P
    n_linked = int(linked.sum())
    n_extra = int(round(EXTRA_USERS_P * n_linked))
    uid_pool = r_click.permutation(n_linked + n_extra) + 1
    user_id = np.zeros(n_customers, dtype="int64")
    user_id[linked] = uid_pool[:n_linked]
    click, session_rate = draw_clickstream(
        r_click, persons, user_id, pd.DataFrame({"person": pidx, "t": t, "total": total}),
        n_extra, uid_pool[n_linked:],
    )

    translation = pd.DataFrame(
        [(c, e) for c, e, _ in CATEGORIES if e is not None],
        columns=OLIST_COLUMNS["category_translation"],
    )
    tables = {
        "customers": customers.iloc[r_ids.permutation(n_orders)],
        "orders": orders.iloc[r_ids.permutation(n_orders)],
        "order_items": items,
        "payments": payments,
        "reviews": reviews,
        "products": products,
        "sellers": sellers,
        "geolocation": geo,
        "category_translation": translation,
    }
    key = pd.DataFrame({"customer_unique_id": person_ids[linked], "UserID": user_id[linked]})

    n_per_person = np.bincount(pidx, minlength=n_customers)
    truth_df = pd.DataFrame({
        "customer_unique_id": person_ids,
        "UserID": pd.array(np.where(linked, user_id, 0), dtype="Int64"),
        "first_purchase": seconds_to_datetime(persons["first"].to_numpy()),
        "alive_until": seconds_to_datetime(persons["alive"].to_numpy()),
        "purchase_rate_per_day": persons["lam"].to_numpy(),
        "dropout_rate_per_day": persons["mu"].to_numpy(),
        "spend_mean": persons["spend"].to_numpy(),
        "session_rate_per_day": session_rate,
        "customer_state": persons["state"].to_numpy(),
        "n_orders": n_per_person,
    })
    truth_df.loc[~linked, "UserID"] = pd.NA
    return DemoWorld(tables=tables, clickstream=click, key=key.sort_values("UserID", kind="stable"), truth=truth_df)
