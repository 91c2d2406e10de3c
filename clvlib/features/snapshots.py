"""Snapshots: the links and features of every person as of each cut-off the models use.

The model stage trains on earlier snapshots (one per training cut) and scores the snapshot at the
cut-off. Stage 03 builds the clickstream links of every snapshot (:func:`build_links`), stage 04
the features (:func:`build_snapshots`, :func:`build_click_snapshots`), and stage 05 reads them:
so a link method and a cut-off mean the same thing in every stage. Each snapshot uses only data
dated on or before its own cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from clvlib import progress
from clvlib.dates import on_or_before
from clvlib.engine.customers import customer_features
from clvlib.engine.links import activity_orders, activity_tables
from clvlib.engine.users import event_slots, linked_features, user_features_at
from clvlib.features.hybrid import prefix_click
from clvlib.features.links import check_key, inputs_at_cutoff, link_codes, link_info, text_ordered_codes, user_bounds
from clvlib.io import ParquetTable
from clvlib.schemas import CUSTOMER, USER

__all__ = ["snapshot_cuts", "methods_for", "build_links", "build_snapshots", "build_click_snapshots",
           "link_parts", "links_at", "snapshot_parts", "click_snapshot_parts", "stored_cuts", "MAX_USER_ROWS", "snapshot",
           "link_report", "linked_at_cut", "snapshot_summary"]


#: Most (cut, person) rows one engine query of :func:`link_parts` or :func:`click_snapshot_parts`
#: returns; more cuts than fit are queried in groups.
MAX_USER_ROWS = 4_000_000


def _check_rows(max_rows: int, name: str) -> None:
    if max_rows < 1:
        raise ValueError(f"{name} must be a positive number of rows, got {max_rows!r}.")


def _cut_groups(cuts: list[pd.Timestamp], people: int, max_rows: int,
                name: str = "max_rows") -> Iterator[tuple[int, list[pd.Timestamp], str]]:
    """The cuts in groups of at most ``max_rows // people`` (at least one), each with its first index and a label."""
    _check_rows(max_rows, name)
    size = max(1, min(len(cuts), max_rows // max(people, 1)))
    for start in range(0, len(cuts), size):
        group = cuts[start:start + size]
        label = (f"{len(cuts)} cuts" if len(group) == len(cuts) else f"cut {start + 1} of {len(cuts)}" if len(group) == 1
                 else f"cuts {start + 1}-{start + len(group)} of {len(cuts)}")
        yield start, group, label


def snapshot_cuts(windows: dict) -> list[pd.Timestamp]:
    """Every snapshot cut a split needs.

    For one :func:`clvlib.features.temporal.window`: its training cuts (latest first), then the cut
    itself. For a :func:`clvlib.features.temporal.plan`: the cuts of every backtest and of the
    forecast, latest first.
    """
    if "cuts" in windows:
        return list(windows["cuts"])
    return [*windows["train_cuts"], windows["cut"]]


def _until(orders: pd.DataFrame, cuts: Sequence[pd.Timestamp]) -> pd.DataFrame:
    return orders[on_or_before(orders["order_purchase_timestamp"], max(cuts))]


def methods_for(methods: Iterable[str], has_key: bool) -> list[str]:
    """The link methods to build: the requested ones, plus ``key`` when the data has a real key."""
    out = list(dict.fromkeys(methods))
    if has_key and "key" not in out:
        out.append("key")
    if not has_key and "key" in out:
        raise ValueError("link method 'key' needs a real key between customers and clickstream users; this data has "
                         "none. Use 'rank' and 'random' (both synthetic).")
    return out


def build_links(orders: pd.DataFrame, events: pd.DataFrame, cuts: Sequence[pd.Timestamp], methods: Sequence[str],
                seed: int = 42, key: pd.DataFrame | None = None,
                engine: str | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Links per (cut, method), each built from data dated on or before its cut.

    :func:`link_parts`, stacked in memory.

    Returns
    -------
    links : pandas.DataFrame
        ``cut``, ``method``, ``customer_unique_id``, ``UserID``.
    info : list of dict
        Per (cut, method): coverage and whether the clickstream could be cut at the same date
        (see :func:`clvlib.features.links.mapping_from`).
    """
    parts, info = link_parts(orders, events, cuts, methods, seed=seed, key=key, engine=engine)
    return pd.concat(list(parts), ignore_index=True), info


def link_parts(orders: pd.DataFrame, events: pd.DataFrame, cuts: Sequence[pd.Timestamp], methods: Sequence[str],
               seed: int = 42, key: pd.DataFrame | None = None, engine: str | None = None,
               max_user_rows: int = MAX_USER_ROWS) -> tuple[Iterator[pd.DataFrame], list[dict]]:
    """The links of every (cut, method), one at a time, each built from data dated on or before its cut.

    The customers' and users' summaries come from two engine queries per group of cuts
    (:func:`clvlib.features.links.inputs_at_cuts`): all cuts at once while ``cuts x people``
    rows stay within ``max_user_rows``, fewer beyond it. The work runs on integer codes of the
    ids, numbered in the order of their text (:func:`clvlib.features.links.text_ordered_codes`),
    so the links are those the ids themselves give. ``engine``: ``"duckdb"`` (default) or ``"spark"``.

    Returns
    -------
    parts : iterator of pandas.DataFrame
        Per cut in the order given and per method: ``cut``, ``method``, ``customer_unique_id``,
        ``UserID``. Write them with :func:`clvlib.io.write_parquet_parts_atomic`.
    info : list of dict
        Per (cut, method), filled as ``parts`` is consumed: coverage and whether the clickstream
        could be cut at the same date (see :func:`clvlib.features.links.mapping_from`).
    """
    _check_rows(max_user_rows, "max_user_rows")  # now: the parts are made only when read
    info: list[dict] = []
    return _link_parts(orders, events, list(cuts), list(methods), seed, key, engine, max_user_rows, info), info


def _link_parts(orders: pd.DataFrame, events: pd.DataFrame, cuts: list[pd.Timestamp], methods: list[str], seed: int,
                key: pd.DataFrame | None, engine: str | None, max_user_rows: int, info: list[dict]
                ) -> Iterator[pd.DataFrame]:
    orders = _until(orders, cuts)
    bounds, overlap = user_bounds(orders, events, cuts)  # also refuses a cut without orders or events
    c_codes, c_ids = text_ordered_codes(orders[CUSTOMER])
    u_codes, u_ids = text_ordered_codes(events[USER])
    key_codes = None
    if key is not None and "key" in methods:
        k = check_key(key, CUSTOMER, USER)
        # customers matched by their text, as map_users matches them (integer ids too); users by the events' type
        kc = pd.Index(c_ids.astype(str)).get_indexer(k[CUSTOMER].astype(str))
        ku = u_ids.get_indexer(k[USER].astype(u_ids.dtype))
        seen = (kc >= 0) & (ku >= 0)  # pairs never seen in the data link no one at any cut
        key_codes = (kc[seen].astype("int64"), ku[seen].astype("int64"))
    tables = activity_tables(orders, events, c_codes, u_codes)
    c_ids, u_ids = pd.Index(np.asarray(c_ids)), pd.Index(np.asarray(u_ids))  # the dtype map_users gives: from numpy
    for start, group, where in _cut_groups(cuts, max(len(c_ids), len(u_ids)), max_user_rows, "max_user_rows"):
        progress.step(f"customers and clickstream users in order of activity at {where}")
        ordered = activity_orders(*tables, group, bounds[start:start + len(group)], engine=engine)
        for i, (cut, (customers, users)) in enumerate(zip(group, ordered), start=start):
            progress.step(f"links ({', '.join(methods)}) as of {pd.Timestamp(cut).date()}", i, len(cuts))
            for m in methods:
                c, u = link_codes(customers, users, m, len(c_ids), len(u_ids), seed=seed, key=key_codes)
                info.append(link_info(m, cut, overlap, len(customers), len(users), len(c)))
                part = pd.DataFrame({CUSTOMER: c_ids.take(c).array, USER: u_ids.take(u).array})
                yield part.assign(cut=pd.Timestamp(cut), method=m)[["cut", "method", CUSTOMER, USER]]


def links_at(table: pd.DataFrame | ParquetTable, cut: pd.Timestamp, method: str | None = None) -> pd.DataFrame:
    """The rows of one cut (and method) of a stacked table (the links, or a snapshot table), in stored order.

    ``table`` is the stacked DataFrame, or a :class:`clvlib.io.ParquetTable` of it, from which only
    those rows are read. The ``cut`` and ``method`` columns are kept (:func:`snapshot` drops them).
    """
    cut = pd.Timestamp(cut)
    if isinstance(table, ParquetTable):
        return table.where(cut=cut, **({} if method is None else {"method": method}))
    mask = table["cut"] == cut
    if method is not None:
        mask &= table["method"] == method
    return table[mask]


def build_snapshots(orders: pd.DataFrame, cuts: Sequence[pd.Timestamp], engine: str | None = None) -> pd.DataFrame:
    """Every person's RFM and order-details features as of each cut, stacked with a ``cut`` column.

    :func:`snapshot_parts`, stacked in memory.
    """
    return pd.concat(list(snapshot_parts(orders, cuts, engine=engine)), ignore_index=True)


def snapshot_parts(orders: pd.DataFrame, cuts: Sequence[pd.Timestamp], engine: str | None = None,
                   max_rows: int = MAX_USER_ROWS) -> Iterator[pd.DataFrame]:
    """Every person's RFM and order-details features as of each cut, one cut at a time, with a ``cut`` column.

    One engine query per group of cuts (:func:`clvlib.engine.customers.customer_features`): all
    cuts at once while ``cuts x customers`` rows stay within ``max_rows``, fewer beyond it. Each
    snapshot is :func:`clvlib.features.temporal.population_features` at its cut, except that
    its categorical columns are plain text: a cut's categories are that cut's levels, so
    snapshots stacked or stored together hold text either way (``pandas.concat`` of different
    categories gives text too). ``engine``: ``"duckdb"`` (default) or ``"spark"``.
    """
    cuts = list(cuts)
    orders = _until(orders, cuts)
    for _, group, where in _cut_groups(cuts, int(orders[CUSTOMER].nunique()), max_rows):
        progress.step(f"features of every customer at {where}")
        for part, cut in zip(customer_features(orders, group, engine=engine), group):
            text = {c: part[c].astype(object).astype("str") for c in part.select_dtypes("category").columns}
            yield part.assign(**text, cut=pd.Timestamp(cut))


def click_snapshot_parts(orders: pd.DataFrame, events: pd.DataFrame, links: pd.DataFrame | ParquetTable,
                         cuts: Sequence[pd.Timestamp], engine: str | None = None,
                         max_user_rows: int = MAX_USER_ROWS) -> Iterator[pd.DataFrame]:
    """The linked users' clickstream features (``click_*``), one (cut, method) at a time.

    Yields, per cut in the order given and per method in the order of ``links``, the frame
    :func:`build_click_snapshots` stacks. The users' features come from one engine query per
    group of cuts (:func:`clvlib.engine.users.user_features_at`), kept in Arrow and joined to
    each (cut, method)'s links in the engine (:func:`clvlib.engine.users.linked_features`): all
    cuts at once while ``cuts x users`` rows stay within ``max_user_rows``, fewer cuts per query
    beyond it, so a log of millions of users is never held at every cut at once. With several
    groups the events are first summed per user, session and day once
    (:func:`clvlib.engine.users.event_slots`), and each group's query starts from those sums.
    Write the parts with
    :func:`clvlib.io.write_parquet_parts_atomic` and read them back one at a time with
    :func:`snapshot` on a :class:`clvlib.io.ParquetTable`.
    """
    cuts = list(cuts)
    orders = _until(orders, cuts)
    bounds = user_bounds(orders, events, cuts)[0]
    groups = list(_cut_groups(cuts, int(events[USER].nunique()), max_user_rows, "max_user_rows"))
    slots = None
    if len(groups) > 1:  # several queries: sum the events per user, session and day once, not in each
        progress.step("clickstream events per user, session and day")
        slots = event_slots(events, bounds, engine=engine)
    for start, group, where in groups:
        progress.step(f"clickstream features at {where}")
        features = user_features_at(None if slots is not None else events, bounds[start:start + len(group)],
                                    engine=engine, slots=slots, arrow=True)
        for j, cut in enumerate(group):
            at_cut = links_at(links, cut)
            for m in at_cut["method"].drop_duplicates():
                linked = linked_features(features, j, at_cut[at_cut["method"] == m], engine=engine)
                yield prefix_click(linked, CUSTOMER).assign(cut=pd.Timestamp(cut), method=m)
        del features


def build_click_snapshots(orders: pd.DataFrame, events: pd.DataFrame, links: pd.DataFrame,
                          cuts: Sequence[pd.Timestamp], engine: str | None = None) -> pd.DataFrame:
    """The linked user's clickstream features (``click_*``) per (cut, method, customer), as of each cut.

    :func:`click_snapshot_parts`, stacked in memory.
    """
    return pd.concat(list(click_snapshot_parts(orders, events, links, cuts, engine=engine)), ignore_index=True)


def snapshot(table: pd.DataFrame | ParquetTable, cut: pd.Timestamp, method: str | None = None) -> pd.DataFrame:
    """One snapshot of a stacked table (without its ``cut``/``method`` columns), rows in stored order.

    ``table`` is the stacked DataFrame, or a :class:`clvlib.io.ParquetTable` of it, from which only
    the snapshot's rows are read.
    """
    part = links_at(table, cut, method)
    return part.drop(columns=[c for c in ("cut", "method") if c in part.columns]).reset_index(drop=True)


def link_report(orders: pd.DataFrame, events: pd.DataFrame, links: pd.DataFrame | ParquetTable,
                cutoff: pd.Timestamp) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The placebo check at the cut-off: Spearman correlations per method, and the linked pairs per method.

    Returns
    -------
    placebo : pandas.DataFrame
        Index (customer measure, user measure), one column per method.
    linked : dict
        Method -> linked customers with both sides' summaries (for a scatter plot).
    """
    from clvlib.features.links import link_correlations

    cut = pd.Timestamp(cutoff)
    customers, users, _ = inputs_at_cutoff(_until(orders, [cut]), events, cut, activity_only=True)
    at_cut = links_at(links, cut)
    rows, linked = [], {}
    for m in at_cut["method"].drop_duplicates():
        mp = at_cut[at_cut["method"] == m]
        rows.append(link_correlations(mp, customers, users).assign(method=m))
        linked[m] = mp[[CUSTOMER, USER]].merge(customers, on=CUSTOMER).merge(users, on=USER)
    placebo = pd.concat(rows).pivot(index=["customer_measure", "user_measure"], columns="method", values="spearman")
    return placebo, linked


def linked_at_cut(orders: pd.DataFrame, events: pd.DataFrame, links: pd.DataFrame | ParquetTable, cutoff: pd.Timestamp,
                  method: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Linked customers at the cut-off with both feature sets and the cross ratios, and all customers then."""
    from clvlib.features.hybrid import hybrid_features

    cut = pd.Timestamp(cutoff)
    customers, users, _ = inputs_at_cutoff(_until(orders, [cut]), events, cut)
    mapping = links_at(links, cut, method)
    return hybrid_features(customers, users, mapping), customers


def stored_cuts(table: pd.DataFrame | ParquetTable) -> set[pd.Timestamp]:
    """The cuts a stacked snapshot table holds (of a :class:`clvlib.io.ParquetTable`, counted in DuckDB)."""
    cuts = table.count_by(["cut"])["cut"] if isinstance(table, ParquetTable) else table["cut"].unique()
    return {pd.Timestamp(c) for c in cuts}


def snapshot_summary(snapshots: pd.DataFrame | ParquetTable, click_snapshots: pd.DataFrame | ParquetTable) -> pd.DataFrame:
    """Per snapshot cut: people, share who had bought on more than one day, linked customers per method.

    Either table may be a :class:`clvlib.io.ParquetTable` (counted in DuckDB, nothing loaded).
    """
    if isinstance(snapshots, ParquetTable):  # counted in DuckDB: no column of millions of rows in pandas
        out = (snapshots.count_by(["cut"], share_positive="frequency").set_index("cut")
               .rename(columns={"rows": "people", "positive_share": "repeat_share"}))
    else:
        out = snapshots.groupby("cut").agg(people=(CUSTOMER, "size"), repeat_share=("frequency", lambda f: (f > 0).mean()))
    if isinstance(click_snapshots, ParquetTable):
        linked = click_snapshots.count_by(["cut", "method"]).set_index(["cut", "method"])["rows"].rename(None)
    else:
        linked = click_snapshots.groupby(["cut", "method"]).size()
    linked = linked.unstack("method").add_prefix("linked ")
    return out.join(linked).reset_index().assign(cut=lambda d: d["cut"].dt.date)
