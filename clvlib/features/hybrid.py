"""Hybrid features: a customer's Olist summary joined with their linked clickstream summary."""

from __future__ import annotations

import pandas as pd

__all__ = ["MISSING_POLICY", "prefix_click", "hybrid_features", "missing_report"]

#: How each column that can be missing is handled, in words for the report.
MISSING_POLICY: dict[str, str] = {
    "click_mean_purchase_amount": "left missing: a user with no clickstream purchase has no mean amount (not 0)",
    "click_browse_cart_share": "left missing: a user with no browsing session (only order sessions) has no share",
    "click_browse_recency_days": "left missing: a user with no browsing session has no last browsing session",
    "click_days_since_last_purchase": "left missing: a user with no clickstream purchase has no last purchase",
    "spend_per_event": "left missing when the user has no events (division by zero is undefined)",
    "orders_per_session": "left missing when the user has no sessions",
    "clickstream_purchase_ratio": "left missing when the user has no clickstream purchase amount",
}


def prefix_click(users: pd.DataFrame, user_col: str = "UserID") -> pd.DataFrame:
    """Clickstream user features with every column but the user id prefixed ``click_``."""
    return users.rename(columns={c: f"click_{c}" for c in users.columns if c != user_col})


def hybrid_features(
    customers: pd.DataFrame,
    users: pd.DataFrame,
    mapping: pd.DataFrame,
    customer_col: str = "customer_unique_id",
    user_col: str = "UserID",
) -> pd.DataFrame:
    """Join mapped customers with both feature sets and add the cross ratios.

    Required columns: ``customers``: ``customer_col``, ``frequency``, ``total_spent``;
    ``users``: ``user_col``, ``total_events``, ``sessions``, ``total_purchase_amount``;
    ``mapping``: both ids.

    Returns
    -------
    pandas.DataFrame
        One row per mapped customer. Olist columns keep their names; clickstream columns are
        prefixed ``click_``. Cross ratios: ``spend_per_event`` (Olist spend / clickstream events),
        ``orders_per_session`` (Olist orders / clickstream sessions) and
        ``clickstream_purchase_ratio`` (Olist spend / clickstream purchase amount). Missing values
        are not filled: see :data:`MISSING_POLICY`.
    """
    for name, df, cols in (("customers", customers, [customer_col, "frequency", "total_spent"]),
                           ("clickstream users", users, [user_col, "total_events", "sessions", "total_purchase_amount"]),
                           ("mapping", mapping, [customer_col, user_col])):
        missing = [c for c in cols if c not in df.columns]
        if missing:
            raise ValueError(f"{name} table: missing column(s) {missing}.")
    if mapping[customer_col].duplicated().any() or mapping[user_col].duplicated().any():
        raise ValueError("mapping: each customer and each user may appear only once.")
    u = prefix_click(users, user_col)
    out = (mapping[[customer_col, user_col]]
           .merge(customers, on=customer_col, how="inner")
           .merge(u, on=user_col, how="inner"))
    events = out["click_total_events"].where(out["click_total_events"] > 0)
    sessions = out["click_sessions"].where(out["click_sessions"] > 0)
    amount = out["click_total_purchase_amount"].where(out["click_total_purchase_amount"] > 0)
    out["spend_per_event"] = out["total_spent"] / events
    out["orders_per_session"] = out["frequency"] / sessions
    out["clickstream_purchase_ratio"] = out["total_spent"] / amount
    return out.sort_values(customer_col, kind="stable").reset_index(drop=True)


def missing_report(df: pd.DataFrame, policy: dict[str, str] = MISSING_POLICY) -> pd.DataFrame:
    """Missing values per column with how each is handled (columns with none are listed as complete)."""
    n = df.isna().sum()
    rows = [{"column": c, "missing": int(n[c]), "share": float(n[c] / max(len(df), 1)),
             "handling": policy.get(c, "complete" if n[c] == 0 else "left missing")} for c in df.columns]
    return pd.DataFrame(rows)
