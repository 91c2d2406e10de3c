"""The pandas versions the engine replaced, kept only as the test oracle (verbatim but for names).

``population_features``, ``holdout_labels`` and ``user_features`` as they were before the features
went through :mod:`clvlib.engine` (pandas groupbys; RFM through pymc-marketing's ``rfm_summary``).
The engine must give the same frames: same columns, dtypes, row order, and values (floats to
~1e-9).
"""

from __future__ import annotations

import pandas as pd

from clvlib.dates import DAY, end_of_day, on_or_before
from clvlib.features.rfm import rfm_summary
from clvlib.schemas import EVENT_TYPES

CATEGORICAL = ["payment_type", "product_category", "customer_state"]


def population_features(orders: pd.DataFrame, cutoff, customer_col: str = "customer_unique_id") -> pd.DataFrame:
    """Every person's features as of ``cutoff`` (the pandas reference)."""
    cut = pd.Timestamp(cutoff).normalize()
    o = orders[on_or_before(orders["order_purchase_timestamp"], cut)]
    if o.empty:
        raise ValueError(f"No orders on or before the cut-off {cut.date()}.")
    rfm = rfm_summary(o, customer_id_col=customer_col, datetime_col="order_purchase_timestamp",
                      monetary_value_col="order_value", observation_period_end=cut, time_unit="D")
    rfm = rfm.set_index(customer_col)
    g = o.groupby(customer_col)
    feats = rfm[["frequency", "recency", "T", "monetary_value"]].copy()
    feats["n_orders"] = g["order_id"].nunique()
    feats["calibration_spend"] = g["order_value"].sum()
    feats["days_since_last"] = ((end_of_day(cut) - g["order_purchase_timestamp"].max()) / DAY).astype(float)

    if {"review_score", "review_creation_date"} <= set(o.columns):
        seen = on_or_before(o["review_creation_date"], cut)
        rv = o["review_score"].where(seen)
        feats["review_score_mean"] = rv.groupby(o[customer_col]).mean()
        feats["has_review"] = rv.notna().astype("int64").groupby(o[customer_col]).max()
    if {"order_delivered_customer_date", "order_estimated_delivery_date"} <= set(o.columns):
        done = on_or_before(o["order_delivered_customer_date"], cut)
        delay = ((o["order_delivered_customer_date"] - o["order_estimated_delivery_date"]) / DAY).where(done)
        feats["delivery_delay_days"] = delay.groupby(o[customer_col]).mean()
        feats["late_share"] = (delay > 0).astype("float64").where(delay.notna()).groupby(o[customer_col]).mean()
    if "payment_installments" in o.columns:
        feats["installments_max"] = g["payment_installments"].max()
    if "n_items" in o.columns:
        feats["n_items_mean"] = g["n_items"].mean()
    if "freight_value" in o.columns:
        feats["freight_share"] = g["freight_value"].sum() / feats["calibration_spend"]
    last = o.sort_values([customer_col, "order_purchase_timestamp"], kind="stable").drop_duplicates(customer_col, keep="last")
    last = last.set_index(customer_col)
    for col in CATEGORICAL:
        if col in last.columns:
            feats[col] = last[col].astype(object).where(last[col].notna(), "unknown").astype(str).astype("category")

    feats.index.name = customer_col
    return feats.reset_index().sort_values(customer_col, kind="stable").reset_index(drop=True)


def build_snapshots(orders: pd.DataFrame, cuts) -> pd.DataFrame:
    """The stacked snapshots (the pandas reference), categorical columns as text (a cut's categories are its own)."""
    orders = orders[on_or_before(orders["order_purchase_timestamp"], max(cuts))]
    out = pd.concat([population_features(orders, cut).assign(cut=pd.Timestamp(cut)) for cut in cuts],
                    ignore_index=True)
    return out.astype({c: "str" for c in out.select_dtypes("category").columns})


def holdout_labels(orders: pd.DataFrame, start, end, customers: pd.Series,
                   customer_col: str = "customer_unique_id") -> pd.DataFrame:
    """Spend and orders of each given person in (start, end] (the pandas reference)."""
    s, e = end_of_day(start), end_of_day(end)
    o = orders[(orders["order_purchase_timestamp"] >= s) & (orders["order_purchase_timestamp"] < e)]
    g = o.groupby(customer_col)
    out = pd.DataFrame({customer_col: pd.Series(customers).to_numpy()})
    out["holdout_spend"] = out[customer_col].map(g["order_value"].sum()).fillna(0.0).astype(float)
    out["holdout_orders"] = out[customer_col].map(g["order_id"].nunique()).fillna(0).astype(int)
    return out


def user_features(events: pd.DataFrame, reference_date=None, user_col: str = "UserID", session_col: str = "SessionID",
                  ts_col: str = "Timestamp", event_col: str = "EventType", amount_col: str = "Amount") -> pd.DataFrame:
    """One row per clickstream user (the pandas reference)."""
    ev = events[[user_col, session_col, ts_col, event_col, amount_col]]
    counts = pd.crosstab(ev[user_col], ev[event_col]).reindex(columns=list(EVENT_TYPES), fill_value=0)
    names = {"page_view": "page_views", "product_view": "product_views", "add_to_cart": "add_to_cart",
             "purchase": "purchases", "click": "clicks", "login": "logins", "logout": "logouts"}
    out = counts.rename(columns=names)
    out.columns.name = None
    g = ev.groupby(user_col, sort=True)
    out["total_events"] = g.size()
    sess = ev.drop_duplicates([user_col, session_col])
    out["sessions"] = sess.groupby(user_col).size()
    is_buy = ev[event_col] == "purchase"
    is_cart = ev[event_col] == "add_to_cart"
    out["purchase_sessions"] = ev[is_buy].drop_duplicates([user_col, session_col]).groupby(user_col).size()
    out["cart_sessions"] = ev[is_cart].drop_duplicates([user_col, session_col]).groupby(user_col).size()
    out[["purchase_sessions", "cart_sessions"]] = out[["purchase_sessions", "cart_sessions"]].fillna(0).astype("int64")
    out["total_purchase_amount"] = ev[amount_col].where(is_buy, 0.0).groupby(ev[user_col]).sum()
    out["mean_purchase_amount"] = out["total_purchase_amount"] / out["purchases"].where(out["purchases"] > 0)
    out["conversion_rate"] = out["purchase_sessions"] / out["sessions"]
    out["cart_rate"] = out["cart_sessions"] / out["sessions"]
    out["events_per_session"] = out["total_events"] / out["sessions"]
    out["active_days"] = ev[ts_col].dt.normalize().groupby(ev[user_col]).nunique()
    out["first_event"] = g[ts_col].min()
    out["last_event"] = g[ts_col].max()
    ref = end_of_day(reference_date if reference_date is not None else ev[ts_col].max())
    out["recency_days"] = ((ref - out["last_event"]) / DAY).astype("float64")
    for days in (30, 90):
        recent = ev[ev[ts_col] >= ref - pd.Timedelta(days=days)]
        out[f"sessions_last_{days}d"] = recent.drop_duplicates([user_col, session_col]).groupby(user_col).size()
        out[f"sessions_last_{days}d"] = out[f"sessions_last_{days}d"].fillna(0).astype("int64")
    buys90 = ev[is_buy & (ev[ts_col] >= ref - pd.Timedelta(days=90))]
    out["purchases_last_90d"] = buys90.groupby(user_col).size()
    out["purchases_last_90d"] = out["purchases_last_90d"].fillna(0).astype("int64")
    # browsing (sessions without a purchase event) apart from order sessions, per day, since the last purchase
    key = [user_col, session_col]
    per = ev.assign(cart=is_cart, buy=is_buy).groupby(key, sort=False).agg(
        started=(ts_col, "min"), ended=(ts_col, "max"), n_events=(ts_col, "size"), n_cart=("cart", "sum"),
        n_buy=("buy", "sum")).reset_index()
    br = per[per["n_buy"] == 0]
    last_buy = ev[ts_col].where(is_buy).groupby(ev[user_col]).max()
    out["order_sessions"] = out["purchase_sessions"]
    out["browse_sessions"] = br.groupby(user_col).size().reindex(out.index, fill_value=0).astype("int64")
    out["exposure_days"] = ((ref - out["first_event"]) / DAY).astype("float64")
    days = out["exposure_days"].clip(lower=1.0)
    out["browse_sessions_per_day"] = out["browse_sessions"] / days
    out["order_sessions_per_day"] = out["order_sessions"] / days
    bg = br.groupby(user_col)
    out["browse_cart_share"] = (bg["n_cart"].sum() / bg["n_events"].sum()).reindex(out.index).astype("float64")
    out["browse_recency_days"] = ((ref - bg["ended"].max()) / DAY).reindex(out.index).astype("float64")
    after = br["started"] > br[user_col].map(last_buy)
    after |= br[user_col].map(last_buy).isna()
    out["browse_since_last_purchase"] = br[after].groupby(user_col).size().reindex(out.index, fill_value=0).astype("int64")
    out["days_since_last_purchase"] = ((ref - last_buy) / DAY).reindex(out.index).astype("float64")
    cols = ["total_events", "sessions", "page_views", "product_views", "add_to_cart", "purchases", "clicks",
            "logins", "total_purchase_amount", "mean_purchase_amount", "conversion_rate", "cart_rate",
            "events_per_session", "active_days", "first_event", "last_event", "recency_days",
            "sessions_last_30d", "sessions_last_90d", "purchases_last_90d",
            "order_sessions", "browse_sessions", "exposure_days", "browse_sessions_per_day",
            "order_sessions_per_day", "browse_cart_share", "browse_recency_days", "browse_since_last_purchase",
            "days_since_last_purchase"]
    out = out[cols]
    out.index.name = user_col
    return out.reset_index()


def click_users_at(orders: pd.DataFrame, events: pd.DataFrame, cut) -> pd.DataFrame:
    """The users' features as ``inputs_at_cutoff`` made them at one cut (the pandas reference)."""
    from clvlib.data.clickstream import period_overlaps

    overlap = period_overlaps(events, orders["order_purchase_timestamp"].min(), orders["order_purchase_timestamp"].max())
    ev = events[on_or_before(events["Timestamp"], cut)] if overlap else events
    return user_features(ev, reference_date=cut if overlap else None)


def customer_summary(orders: pd.DataFrame, analysis_date, customer_col: str = "customer_unique_id",
                     order_col: str = "order_id", date_col: str = "order_purchase_timestamp",
                     value_col: str = "order_value") -> pd.DataFrame:
    """One row per person as of ``analysis_date`` (the pandas reference; orders already cut)."""
    end = end_of_day(analysis_date)
    g = orders.groupby(customer_col, sort=True)
    out = pd.DataFrame({"frequency": g[order_col].nunique(), "total_spent": g[value_col].sum(),
                        "first_purchase": g[date_col].min(), "last_purchase": g[date_col].max()})
    out["avg_order_value"] = out["total_spent"] / out["frequency"]
    out["recency_days"] = ((end - out["last_purchase"]) / DAY).astype("float64")
    out["tenure_days"] = ((end - out["first_purchase"]) / DAY).astype("float64")
    out["active_span_days"] = ((out["last_purchase"] - out["first_purchase"]) / DAY).astype("float64")
    cols = ["frequency", "total_spent", "avg_order_value", "recency_days", "tenure_days",
            "active_span_days", "first_purchase", "last_purchase"]
    return out[cols].reset_index()


def build_links(orders: pd.DataFrame, events: pd.DataFrame, cuts, methods, seed: int = 42, key=None) -> pd.DataFrame:
    """Links per (cut, method) from the pandas summaries (the reference of ``build_links``' table)."""
    from clvlib.features.links import map_users

    orders = orders[on_or_before(orders["order_purchase_timestamp"], max(cuts))]
    frames = []
    for cut in cuts:
        customers = customer_summary(orders[on_or_before(orders["order_purchase_timestamp"], cut)], cut)
        users = click_users_at(orders, events, cut)
        for m in methods:
            mapping = map_users(customers, users, method=m, seed=seed, key=key)
            frames.append(mapping[["customer_unique_id", "UserID"]].assign(cut=pd.Timestamp(cut), method=m))
    return pd.concat(frames, ignore_index=True)[["cut", "method", "customer_unique_id", "UserID"]]


def build_click_snapshots(orders: pd.DataFrame, events: pd.DataFrame, links: pd.DataFrame, cuts) -> pd.DataFrame:
    """The linked users' ``click_*`` features per (cut, method, customer) (the pandas reference)."""
    from clvlib.features.temporal import linked_click_features

    orders = orders[on_or_before(orders["order_purchase_timestamp"], max(cuts))]
    frames = []
    for cut in cuts:
        users = click_users_at(orders, events, cut)
        at_cut = links[links["cut"] == pd.Timestamp(cut)]
        for m in at_cut["method"].drop_duplicates():
            frames.append(linked_click_features(users, at_cut[at_cut["method"] == m]).assign(cut=pd.Timestamp(cut), method=m))
    return pd.concat(frames, ignore_index=True)
