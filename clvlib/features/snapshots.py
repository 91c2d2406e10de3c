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
from clvlib.features.links import check_key, inputs_at_cutoff, inputs_at_cuts, mapping_from, text_ordered_codes, users_at_cuts
from clvlib.features.temporal import linked_click_features
from clvlib.io import ParquetTable
from clvlib.schemas import CUSTOMER, USER

__all__ = ["snapshot_cuts", "methods_for", "build_links", "build_snapshots", "build_click_snapshots",
           "click_snapshot_parts", "MAX_USER_ROWS", "snapshot",
           "link_report", "linked_at_cut", "snapshot_summary"]


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

    The customers' and users' summaries at every cut come from two engine queries
    (:func:`clvlib.features.links.inputs_at_cuts`); ``engine``: ``"duckdb"`` (default) or ``"spark"``.
    The work runs on integer codes of the ids, numbered in the order of their text
    (:func:`clvlib.features.links.text_ordered_codes`), so the links are those the ids themselves give.

    Returns
    -------
    links : pandas.DataFrame
        ``cut``, ``method``, ``customer_unique_id``, ``UserID``.
    info : list of dict
        Per (cut, method): coverage and whether the clickstream could be cut at the same date
        (see :func:`clvlib.features.links.mapping_from`).
    """
    orders = _until(orders, cuts)
    c_codes, c_ids = text_ordered_codes(orders[CUSTOMER])
    u_codes, u_ids = text_ordered_codes(events[USER])
    orders = orders.assign(**{CUSTOMER: c_codes})
    events = events.assign(**{USER: u_codes})
    if key is not None and "key" in methods:
        k = check_key(key, CUSTOMER, USER)
        k = pd.DataFrame({CUSTOMER: c_ids.get_indexer(k[CUSTOMER].astype(str)),
                          USER: u_ids.get_indexer(k[USER].astype(u_ids.dtype))})
        key = k[(k[CUSTOMER] >= 0) & (k[USER] >= 0)]  # pairs never seen in the data link no one at any cut
    progress.step(f"customers and clickstream users at {len(cuts)} cuts")
    inputs, overlap = inputs_at_cuts(orders, events, cuts, engine=engine, activity_only=True)
    frames, info = [], []
    for i, (cut, (customers, users)) in enumerate(zip(cuts, inputs)):
        progress.step(f"links ({', '.join(methods)}) as of {pd.Timestamp(cut).date()}", i, len(cuts))
        for m in methods:
            mapping, meta = mapping_from(customers, users, overlap, m, cut, seed=seed, key=key, ids_as_text=False)
            frames.append(mapping[[CUSTOMER, USER]].assign(cut=pd.Timestamp(cut), method=m))
            info.append(meta)
    links = pd.concat(frames, ignore_index=True)[["cut", "method", CUSTOMER, USER]]
    links[CUSTOMER] = np.asarray(c_ids.take(links[CUSTOMER].to_numpy()))  # as map_users gives them: from numpy
    links[USER] = np.asarray(u_ids.take(links[USER].to_numpy()))
    return links, info


def build_snapshots(orders: pd.DataFrame, cuts: Sequence[pd.Timestamp], engine: str | None = None) -> pd.DataFrame:
    """Every person's RFM and Olist-behaviour features as of each cut, stacked with a ``cut`` column.

    One engine query for every cut (:func:`clvlib.engine.customers.customer_features`); each
    snapshot is :func:`clvlib.features.temporal.population_features` at its cut (categorical
    columns with that cut's categories, then stacked as ``pandas.concat`` stacks them).
    ``engine``: ``"duckdb"`` (default) or ``"spark"``.
    """
    orders = _until(orders, cuts)
    progress.step(f"features of every customer at {len(cuts)} cuts")
    parts = customer_features(orders, cuts, engine=engine)
    return pd.concat([part.assign(cut=pd.Timestamp(cut)) for part, cut in zip(parts, cuts)], ignore_index=True)


#: Most (cut, user) feature rows one engine query of :func:`click_snapshot_parts` returns; more
#: cuts than fit are queried in groups.
MAX_USER_ROWS = 4_000_000


def click_snapshot_parts(orders: pd.DataFrame, events: pd.DataFrame, links: pd.DataFrame,
                         cuts: Sequence[pd.Timestamp], engine: str | None = None,
                         max_user_rows: int = MAX_USER_ROWS) -> Iterator[pd.DataFrame]:
    """The linked users' clickstream features (``click_*``), one (cut, method) at a time.

    Yields, per cut in the order given and per method in the order of ``links``, the frame
    :func:`build_click_snapshots` stacks. The users' features come from one engine query per
    group of cuts (:func:`clvlib.features.links.users_at_cuts`): all cuts at once while
    ``cuts x users`` rows stay within ``max_user_rows``, fewer cuts per query beyond it, so a
    log of millions of users is never held at every cut at once. Write the parts with
    :func:`clvlib.io.write_parquet_parts_atomic` and read them back one at a time with
    :func:`snapshot` on a :class:`clvlib.io.ParquetTable`.
    """
    if max_user_rows < 1:
        raise ValueError(f"max_user_rows must be a positive number of rows, got {max_user_rows!r}.")
    orders = _until(orders, cuts)
    n_users = max(int(events[USER].nunique()), 1)
    per_query = max(1, min(len(cuts), max_user_rows // n_users))
    for start in range(0, len(cuts), per_query):
        group = list(cuts[start:start + per_query])
        where = f"{len(group)} cuts" if len(group) == len(cuts) else f"cuts {start + 1}-{start + len(group)} of {len(cuts)}"
        progress.step(f"clickstream features at {where}")
        users, _ = users_at_cuts(orders, events, group, engine=engine)
        for cut, at in zip(group, users):
            at_cut = links[links["cut"] == pd.Timestamp(cut)]
            for m in at_cut["method"].drop_duplicates():
                linked = linked_click_features(at, at_cut[at_cut["method"] == m])
                yield linked.assign(cut=pd.Timestamp(cut), method=m)


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
    if isinstance(table, ParquetTable):
        part = table.where(cut=pd.Timestamp(cut), **({} if method is None else {"method": method}))
        return part.drop(columns=[c for c in ("cut", "method") if c in part.columns]).reset_index(drop=True)
    mask = table["cut"] == pd.Timestamp(cut)
    if method is not None:
        mask &= table["method"] == method
    return table[mask].drop(columns=[c for c in ("cut", "method") if c in table.columns]).reset_index(drop=True)


def link_report(orders: pd.DataFrame, events: pd.DataFrame, links: pd.DataFrame,
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
    at_cut = links[links["cut"] == cut]
    rows, linked = [], {}
    for m in at_cut["method"].drop_duplicates():
        mp = at_cut[at_cut["method"] == m]
        rows.append(link_correlations(mp, customers, users).assign(method=m))
        linked[m] = mp[[CUSTOMER, USER]].merge(customers, on=CUSTOMER).merge(users, on=USER)
    placebo = pd.concat(rows).pivot(index=["customer_measure", "user_measure"], columns="method", values="spearman")
    return placebo, linked


def linked_at_cut(orders: pd.DataFrame, events: pd.DataFrame, links: pd.DataFrame, cutoff: pd.Timestamp,
                  method: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Linked customers at the cut-off with both feature sets and the cross ratios, and all customers then."""
    from clvlib.features.hybrid import hybrid_features

    cut = pd.Timestamp(cutoff)
    customers, users, _ = inputs_at_cutoff(_until(orders, [cut]), events, cut)
    mapping = links[(links["cut"] == cut) & (links["method"] == method)]
    return hybrid_features(customers, users, mapping), customers


def snapshot_summary(snapshots: pd.DataFrame, click_snapshots: pd.DataFrame | ParquetTable) -> pd.DataFrame:
    """Per snapshot cut: people, share who had bought on more than one day, linked customers per method.

    ``click_snapshots`` may be a :class:`clvlib.io.ParquetTable` (only its ``cut`` and ``method`` are read).
    """
    out = snapshots.groupby("cut").agg(people=(CUSTOMER, "size"), repeat_share=("frequency", lambda f: (f > 0).mean()))
    if isinstance(click_snapshots, ParquetTable):
        click_snapshots = click_snapshots.read(["cut", "method"])
    linked = click_snapshots.groupby(["cut", "method"]).size().unstack("method").add_prefix("linked ")
    return out.join(linked).reset_index().assign(cut=lambda d: d["cut"].dt.date)
