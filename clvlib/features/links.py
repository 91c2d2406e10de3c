"""Linking Olist customers to clickstream users: by a real key, by rank, or at random (placebo).

The Kaggle Olist and clickstream datasets share no key, no period and no signal.
Any link between them is synthetic. The ``rank`` method (pair the most active
customer with the most active clickstream user, and so on) *manufactures* a
correlation between the two activity measures by construction; the ``random``
method pairs the very same customers with a seeded random permutation of the
same users, so the difference between the two measures what the rank link
invents. Only ``key`` (a real shared identifier, as the demo data has) carries
information about a person.
"""

from __future__ import annotations


from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvlib.data.clickstream import period_overlaps
from clvlib.dates import end_of_day
from clvlib.engine.customers import summary_at
from clvlib.engine.users import EventSlots, user_features_at

__all__ = ["no_links", "no_click_snapshots", "METHODS", "activity_score", "map_users", "link_correlations", "user_bounds", "users_at_cuts", "inputs_at_cuts", "inputs_at_cutoff", "mapping_from", "build_mapping",
           "text_ordered_codes", "check_key", "link_info", "link_codes"]

METHODS = ("rank", "random", "key")
_NO_KEY = ("mapping method 'key' needs a key table linking customers to clickstream users. The Kaggle Olist and "
           "clickstream datasets share no key: use 'rank' or 'random' there, and read their results as synthetic.")


def activity_score(df: pd.DataFrame, columns: list[str], id_col: str) -> pd.Series:
    """Average percentile rank of ``columns`` (higher = more active), ties broken by id for determinism."""
    missing = [c for c in columns + [id_col] if c not in df.columns]
    if missing:
        raise ValueError(f"activity score: missing column(s) {missing}.")
    ranks = df[columns].rank(pct=True, method="average").mean(axis=1)
    return pd.Series(ranks.to_numpy(), index=df[id_col].to_numpy(), name="activity_score")


def _member(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` through Arrow's hash join: pandas' ``isin`` on string columns took seconds per
    million keys, and a key link checks two columns at every snapshot cut."""
    if pd.api.types.is_integer_dtype(values) and pd.api.types.is_integer_dtype(pool):
        return values.isin(pool).to_numpy()  # integer codes: pandas' hash table is fast
    found = pc.is_in(pa.array(values.astype(str).to_numpy(dtype=object)),
                     value_set=pa.array(pd.unique(pool.astype(str).to_numpy(dtype=object))))
    return found.to_numpy(zero_copy_only=False)


def text_ordered_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of ``values`` numbered in the order of their text (``str``), and the values per code.

    ``uniques[codes]`` gives ``values`` back, in their own dtype; ordering by code is ordering by
    ``str(value)``, the order in which :func:`map_users` breaks ties. Linking at many cuts on
    integer codes is several times faster than on text ids.
    """
    codes, uniques = pd.factorize(values)
    if (codes < 0).any():
        raise ValueError(f"ids: {int((codes < 0).sum()):,} missing value(s); drop the rows without an id first.")
    order = np.argsort(np.asarray(pd.Index(uniques).astype(str), dtype=object), kind="stable")
    rank = np.empty(len(order), dtype="int64")
    rank[order] = np.arange(len(order))
    return rank[codes], pd.Index(uniques, dtype=values.dtype).take(order)


def _order_by_activity(df: pd.DataFrame, columns: list[str], id_col: str, ids_as_text: bool = True) -> pd.Index:
    score = activity_score(df, columns, id_col)
    ids = score.index.astype(str) if ids_as_text else score.index
    frame = pd.DataFrame({"score": score.to_numpy(), "id": ids}, index=score.index)
    return frame.sort_values(["score", "id"], ascending=[False, True], kind="stable").index


def check_key(key: pd.DataFrame, customer_col: str = "customer_unique_id", user_col: str = "UserID") -> pd.DataFrame:
    """The key table's two columns without missing values; an error for a missing column or a repeated id."""
    missing = [c for c in (customer_col, user_col) if c not in key.columns]
    if missing:
        raise ValueError(f"key table: missing column(s) {missing}.")
    k = key[[customer_col, user_col]].dropna()
    for col in (customer_col, user_col):
        if k[col].duplicated().any():
            raise ValueError(f"key table: column {col!r} must be unique, found {int(k[col].duplicated().sum())} repeats.")
    return k


def map_users(
    customers: pd.DataFrame,
    users: pd.DataFrame,
    method: str = "rank",
    seed: int = 42,
    key: pd.DataFrame | None = None,
    customer_col: str = "customer_unique_id",
    user_col: str = "UserID",
    customer_activity: tuple[str, ...] = ("frequency", "total_spent"),
    user_activity: tuple[str, ...] = ("total_events", "total_purchase_amount"),
    ids_as_text: bool = True,
) -> pd.DataFrame:
    """Pair customers with clickstream users.

    Parameters
    ----------
    customers
        One row per customer with ``customer_col`` and the ``customer_activity`` columns,
        computed from data up to the mapping cut-off only.
    users
        One row per clickstream user with ``user_col`` and the ``user_activity`` columns.
    method
        ``"rank"``: order both populations by activity score (average percentile rank of
        the activity columns) and pair them rank by rank; covers min(#customers, #users)
        customers (the most active ones). ``"random"``: the placebo: the same customers
        the rank method covers, paired with a seeded random permutation of the same users.
        ``"key"``: join on a real shared key table.
    seed
        Seed of the random permutation (``random`` only).
    key
        Table with ``customer_col`` and ``user_col`` (``key`` only). Pairs whose customer
        or user is not in the inputs are dropped; a customer or user appearing twice is an error.
    ids_as_text
        Ties of the activity score are broken by the ids' text (default), else by the ids
        themselves (integer codes from :func:`text_ordered_codes`, which order as the text does).

    Returns
    -------
    pandas.DataFrame
        ``customer_unique_id``, ``UserID``, ``method``, sorted by customer.
    """
    if method not in METHODS:
        raise ValueError(f"mapping method must be one of {METHODS}, got {method!r}.")
    for name, df, col in (("customers", customers, customer_col), ("clickstream users", users, user_col)):
        if col not in df.columns:
            raise ValueError(f"{name} table: missing column {col!r}.")
        if df[col].duplicated().any():
            raise ValueError(f"{name} table: column {col!r} must be unique, found {int(df[col].duplicated().sum())} repeats.")
    if method == "key":
        if key is None:
            raise ValueError(_NO_KEY)
        k = check_key(key, customer_col, user_col).copy()
        k[customer_col] = k[customer_col].astype(str) if ids_as_text else k[customer_col]
        k[user_col] = k[user_col].astype(users[user_col].dtype)
        k = k[_member(k[customer_col], customers[customer_col]) & _member(k[user_col], users[user_col])]
        out = k
    else:
        cust_order = _order_by_activity(customers, list(customer_activity), customer_col, ids_as_text)
        user_order = _order_by_activity(users, list(user_activity), user_col, ids_as_text)
        n = min(len(cust_order), len(user_order))
        chosen_users = np.asarray(user_order[:n])
        if method == "random":
            chosen_users = np.random.default_rng(seed).permutation(chosen_users)
        out = pd.DataFrame({customer_col: np.asarray(cust_order[:n]), user_col: chosen_users})
    out = out.assign(method=method).sort_values(customer_col, kind="stable").reset_index(drop=True)
    return out


def link_correlations(
    mapping: pd.DataFrame,
    customers: pd.DataFrame,
    users: pd.DataFrame,
    pairs: tuple[tuple[str, str], ...] = (("frequency", "total_events"), ("total_spent", "total_purchase_amount"),
                                          ("frequency", "purchases")),
    customer_col: str = "customer_unique_id",
    user_col: str = "UserID",
) -> pd.DataFrame:
    """Spearman correlation, across linked pairs, between a customer measure and a user measure.

    On the Kaggle data any non-zero value here is made by the link, not found in the data.
    """
    m = mapping[[customer_col, user_col]].merge(customers, on=customer_col).merge(users, on=user_col)
    rows = []
    for a, b in pairs:
        varies = len(m) > 2 and m[a].nunique() > 1 and m[b].nunique() > 1
        rho = m[a].corr(m[b], method="spearman") if varies else np.nan
        rows.append({"customer_measure": a, "user_measure": b, "spearman": rho, "pairs": len(m)})
    return pd.DataFrame(rows)


def _check_cuts(orders: pd.DataFrame, events: pd.DataFrame, days: Sequence[pd.Timestamp]) -> bool:
    """Whether the clickstream can be cut at the orders' dates; raise for a cut without orders or events."""
    ts = orders["order_purchase_timestamp"]
    overlap = period_overlaps(events, ts.min(), ts.max())
    for day in days:
        if not ts.min() < end_of_day(day):  # also when there is no order at all (NaT)
            raise ValueError(f"No orders on or before the cut-off {day.date()}.")
        if events.empty or (overlap and not events["Timestamp"].min() < end_of_day(day)):
            raise ValueError(f"No clickstream events on or before the cut-off {day.date()}.")
    return overlap


def user_bounds(orders: pd.DataFrame, events: pd.DataFrame, cuts: Sequence[str | pd.Timestamp]
                ) -> tuple[list[tuple[pd.Timestamp | None, pd.Timestamp]], bool]:
    """The (end, ref) bounds :func:`users_at_cuts` reads the events with at each cut, and whether the events are cut.

    See :func:`users_at_cuts`; also what :func:`clvlib.engine.users.event_slots` needs to know in advance.
    """
    days = [pd.Timestamp(c).normalize() for c in cuts]
    overlap = _check_cuts(orders, events, days)
    last = end_of_day(events["Timestamp"].max())
    return [(end_of_day(d), end_of_day(d)) if overlap else (None, last) for d in days], overlap


def users_at_cuts(orders: pd.DataFrame, events: pd.DataFrame, cuts: Sequence[str | pd.Timestamp],
                  engine: str | None = None, activity_only: bool = False,
                  slots: EventSlots | None = None) -> tuple[list[pd.DataFrame], bool]:
    """Clickstream users' features as of each cut (one engine query), as :func:`inputs_at_cutoff` makes them.

    Events are cut at each cut-off when the clickstream's period overlaps the orders' (recency and
    the recent windows measured to the end of the cut day); otherwise every event is used, measured
    to the end of the last event's day. ``activity_only``: only the columns a link ranks by and its
    placebo check reads (:data:`clvlib.engine.users.ACTIVITY_COLUMNS`), a much cheaper query.
    ``slots``: the events' :func:`clvlib.engine.users.event_slots`, made once for several calls.

    Returns
    -------
    users : list of pandas.DataFrame
        One :func:`clvlib.data.clickstream.user_features` table per cut.
    clickstream_cut_applied : bool
    """
    bounds, overlap = user_bounds(orders, events, cuts)
    return user_features_at(events, bounds, engine=engine, activity_only=activity_only, slots=slots), overlap


def inputs_at_cuts(orders: pd.DataFrame, events: pd.DataFrame, cuts: Sequence[str | pd.Timestamp],
                   engine: str | None = None, activity_only: bool = False
                   ) -> tuple[list[tuple[pd.DataFrame, pd.DataFrame]], bool]:
    """:func:`inputs_at_cutoff` at every cut: two engine queries (customers, users) for all of them.

    ``activity_only``: the users' activity columns only (see :func:`users_at_cuts`).

    Returns
    -------
    inputs : list of (customers, users)
        One pair per cut, in the order given.
    clickstream_cut_applied : bool
    """
    days = [pd.Timestamp(c).normalize() for c in cuts]
    users, overlap = users_at_cuts(orders, events, days, engine=engine, activity_only=activity_only)
    customers = summary_at(orders, days, engine=engine)
    return list(zip(customers, users)), overlap


def inputs_at_cutoff(
    orders: pd.DataFrame, events: pd.DataFrame, cutoff: str | pd.Timestamp, engine: str | None = None,
    activity_only: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """Customer and clickstream-user summaries from data dated on or before ``cutoff`` only.

    Customers are summarised from their orders up to the cut-off
    (:func:`clvlib.data.transactions.customer_summary`). Clickstream events are cut at the same
    date when the clickstream's period overlaps the orders' period; when it does not (the Kaggle
    pair: 2024 against 2016-2018) no date can be aligned and every event is used.

    Returns
    -------
    customers, users, clickstream_cut_applied
    """
    inputs, overlap = inputs_at_cuts(orders, events, [cutoff], engine=engine, activity_only=activity_only)
    return (*inputs[0], overlap)


def mapping_from(customers: pd.DataFrame, users: pd.DataFrame, overlap: bool, method: str,
                 cutoff: str | pd.Timestamp, seed: int = 42, key: pd.DataFrame | None = None,
                 ids_as_text: bool = True) -> tuple[pd.DataFrame, dict]:
    """The mapping of one method from the summaries at a cut (:func:`inputs_at_cutoff`), and its info.

    ``info["clickstream_cut_applied"]`` says whether the clickstream could be cut at the same
    date, so the report can say so when it could not. ``ids_as_text``: see :func:`map_users`.
    """
    mapping = map_users(customers, users, method=method, seed=seed, key=key, ids_as_text=ids_as_text)
    return mapping, link_info(method, cutoff, overlap, len(customers), len(users), len(mapping))


def link_info(method: str, cutoff: str | pd.Timestamp, overlap: bool, customers: int, users: int, mapped: int) -> dict:
    """What the reports say of one link: its method and cut, the people on each side, how many are linked."""
    return {
        "method": method,
        "cutoff": str(pd.Timestamp(cutoff).date()),
        "clickstream_cut_applied": overlap,
        "customers_at_cut": customers,
        "users_at_cut": users,
        "mapped": mapped,
        "coverage": mapped / customers,
        "real_key": method == "key",
    }


def link_codes(customers: np.ndarray, users: np.ndarray, method: str, n_customers: int, n_users: int, seed: int = 42,
               key: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`map_users` on integer codes already in order of activity: the linked (customer, user) pairs.

    Parameters
    ----------
    customers, users
        The codes of the people at a cut, most active first, ties by code
        (:func:`clvlib.engine.links.activity_orders`); codes number the ids in the order of their
        text (:func:`text_ordered_codes`), so the pairs are those :func:`map_users` gives the ids.
    method
        As in :func:`map_users`: ``rank`` pairs the two orders position by position, ``random``
        the same customers with a seeded permutation of the same users, ``key`` the pairs of
        ``key`` whose both people are present.
    n_customers, n_users
        How many codes each side has (every code is below it).
    seed
        Seed of the permutation (``random`` only).
    key
        (customer codes, user codes) of the real key (``key`` only), each side unique; pairs
        with a person never seen in the data are left out beforehand.

    Returns
    -------
    customers, users : numpy.ndarray
        The pairs, sorted by customer code.
    """
    if method not in METHODS:
        raise ValueError(f"mapping method must be one of {METHODS}, got {method!r}.")
    if method == "key":
        if key is None:
            raise ValueError(_NO_KEY)
        seen_c = np.zeros(n_customers, dtype=bool)
        seen_u = np.zeros(n_users, dtype=bool)
        seen_c[customers] = True
        seen_u[users] = True
        keep = seen_c[key[0]] & seen_u[key[1]]
        c, u = key[0][keep], key[1][keep]
    else:
        n = min(len(customers), len(users))
        c, u = customers[:n], users[:n]
        if method == "random":
            u = np.random.default_rng(seed).permutation(u)
    slot = np.full(n_customers, -1, dtype="int64")  # sorted by code in one pass: the codes are distinct and dense
    slot[c] = np.arange(len(c))
    order = slot[slot >= 0]
    return c[order], u[order]


def build_mapping(
    orders: pd.DataFrame,
    events: pd.DataFrame,
    method: str,
    cutoff: str | pd.Timestamp,
    seed: int = 42,
    key: pd.DataFrame | None = None,
    engine: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """Build a mapping from data dated on or before ``cutoff`` only (see :func:`inputs_at_cutoff`).

    Returns
    -------
    mapping, customers_at_cut, users_at_cut, info
        ``info`` as :func:`mapping_from` gives it.
    """
    customers, users, overlap = inputs_at_cutoff(orders, events, cutoff, engine=engine)
    mapping, info = mapping_from(customers, users, overlap, method, cutoff, seed=seed, key=key)
    return mapping, customers, users, info


def no_links() -> pd.DataFrame:
    """The links table of a dataset without events: no rows, the columns of :func:`clvlib.features.snapshots.build_links`."""
    return pd.DataFrame({"cut": pd.Series(dtype="datetime64[ns]"), "method": pd.Series(dtype="string"),
                         "customer_unique_id": pd.Series(dtype="string"), "UserID": pd.Series(dtype="string")})


def no_click_snapshots() -> pd.DataFrame:
    """The click snapshots of a dataset without events: no rows, the id columns of the stacked table."""
    return pd.DataFrame({"customer_unique_id": pd.Series(dtype="string"), "cut": pd.Series(dtype="datetime64[ns]"),
                         "method": pd.Series(dtype="string")})
