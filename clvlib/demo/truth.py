"""The answer key of the demo world: what the evaluation reads.

:func:`clvlib.demo.generate.generate_demo` writes each person's hidden traits to
``demo_truth.csv`` (columns :data:`TRUTH_COLUMNS`) and the model behind them to
``demo_truth.json`` (:func:`truth_description`), outside the data folder.
:func:`load_truth` reads them back with checks, and :func:`true_expected_value` turns
them into each person's expected spend in a window: the ceiling a model is compared with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from clvlib.demo.calibration import (
    DROPOUT_BETA,
    DROPOUT_S,
    ORDER_SIGMA,
    RATE_ALPHA,
    RATE_R,
    SESSION_BASE,
    SESSION_DEAD,
    SESSION_LINEAR,
    SESSION_SLOPE,
    SPLIT_P,
)
from clvlib.demo.timeline import visible_days
from clvlib.io import parse_datetimes, parse_numbers, validate_columns

__all__ = [
    "TRUTH_FILE",
    "TRUTH_JSON",
    "TRUTH_COLUMNS",
    "truth_description",
    "load_truth",
    "true_expected_value",
]

TRUTH_FILE = "demo_truth.csv"
TRUTH_JSON = "demo_truth.json"

#: Columns of ``demo_truth.csv`` and what they mean (also written to ``demo_truth.json``).
TRUTH_COLUMNS: dict[str, str] = {
    "customer_unique_id": "The person (Olist customer_unique_id).",
    "UserID": "Clickstream UserID of the person; empty when the person has no clickstream account.",
    "first_purchase": "Timestamp of the person's first order (always in the data).",
    "alive_until": "Dropout ('death') time: no purchases after it. May lie far past the end of data "
    "(capped at 2099-12-31).",
    "purchase_rate_per_day": "lambda: repeat-purchase occasions per day while alive (Poisson).",
    "dropout_rate_per_day": "mu: rate of the exponential lifetime that set alive_until.",
    "spend_mean": "Mean order value in BRL (sum of payment_value of one order), the person's spend level.",
    "session_rate_per_day": "Clickstream browsing sessions per day while alive (0 without a UserID).",
    "customer_state": "State the person lives in.",
    "n_orders": "Orders of the person written to the demo data (any status).",
}


def truth_description(seed: int, n_customers: int) -> dict[str, Any]:
    """Contents of ``demo_truth.json``: the columns of the truth table and the model that drew them.

    Parameters
    ----------
    seed, n_customers
        The arguments the demo was generated with.

    Returns
    -------
    dict
        ``description``, ``seed``, ``n_customers``, ``columns`` (:data:`TRUTH_COLUMNS`) and
        ``model`` (each trait's distribution, the same-day split probability, how to get
        the expected value).
    """
    return {
        "description": "Hidden traits of the demo persons (clvlib.demo). Not part of the data: "
        "the data stages must never read this folder.",
        "seed": seed,
        "n_customers": n_customers,
        "columns": TRUTH_COLUMNS,
        "model": {
            "purchase_rate_per_day": f"Gamma(shape={RATE_R}, rate={RATE_ALPHA})",
            "dropout_rate_per_day": f"Gamma(shape={DROPOUT_S}, rate={DROPOUT_BETA}); "
            "alive_until = first_purchase + Exp(mu)",
            "repeat_purchases": "Poisson(purchase_rate_per_day) on (first_purchase, alive_until), "
            "thinned near the end of data (see clvlib.demo.visible_days)",
            "same_day_split_probability": SPLIT_P,
            "order_value": f"spend_mean * LogNormal(mean 1, sigma {ORDER_SIGMA})",
            "expected_value": "clvlib.demo.true_expected_value(truth, start, end)",
            "session_rate_per_day": f"{SESSION_BASE} + {SESSION_SLOPE} * sqrt(purchase_rate_per_day) + "
            f"{SESSION_LINEAR} * purchase_rate_per_day while alive; {SESSION_DEAD} after alive_until",
        },
    }


_TRUTH_REQUIRED = ("customer_unique_id", "first_purchase", "alive_until", "purchase_rate_per_day", "spend_mean")


def load_truth(path: str | Path) -> pd.DataFrame:
    """Read ``demo_truth.csv`` with types and checks.

    Parameters
    ----------
    path
        The truth CSV, or the folder holding ``demo_truth.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per person; ``customer_unique_id`` as string, ``UserID`` as nullable
        integer, ``first_purchase`` and ``alive_until`` as datetimes, the rates and
        ``spend_mean`` as floats.

    Required columns
    ----------------
    customer_unique_id, first_purchase, alive_until, purchase_rate_per_day, spend_mean

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If a required column is missing, an id repeats, a date or number does not parse,
        a rate or spend is negative, or ``alive_until`` precedes ``first_purchase``.
    """
    p = Path(path)
    if p.is_dir():
        p = p / TRUTH_FILE
    if not p.is_file():
        raise FileNotFoundError(f"{p}: demo truth file not found; generate it with clvlib.demo.generate_demo.")
    df = pd.read_csv(p, dtype={"customer_unique_id": "string", "customer_state": "string"})
    validate_columns(df, _TRUTH_REQUIRED, p.name)
    return _check_truth(df, p.name)


def _check_truth(truth: pd.DataFrame, table: str) -> pd.DataFrame:
    """Validate and type a truth frame (shared by :func:`load_truth` and :func:`true_expected_value`)."""
    validate_columns(truth, _TRUTH_REQUIRED, table)
    df = truth.copy()
    if df.empty:
        raise ValueError(f"{table}: no rows.")
    ids = df["customer_unique_id"].astype("string")
    if ids.isna().any():
        raise ValueError(f"{table}: column 'customer_unique_id' has {int(ids.isna().sum())} empty value(s).")
    dup = ids.duplicated()
    if dup.any():
        raise ValueError(
            f"{table}: customer_unique_id must be unique; {int(dup.sum())} repeat(s), e.g. {ids[dup].iloc[0]!r}."
        )
    df["customer_unique_id"] = ids
    for col in ("first_purchase", "alive_until"):
        if not pd.api.types.is_datetime64_any_dtype(df[col]):
            df[col] = parse_datetimes(df[col], table, col, allow_missing=False)
        elif df[col].isna().any():
            raise ValueError(f"{table}: column '{col}' is empty in {int(df[col].isna().sum())} row(s).")
    for col in ("purchase_rate_per_day", "spend_mean", "dropout_rate_per_day", "session_rate_per_day"):
        if col in df.columns:
            df[col] = parse_numbers(df[col], table, col)
            if df[col].isna().any():
                raise ValueError(f"{table}: column '{col}' is empty in {int(df[col].isna().sum())} row(s).")
    if "UserID" in df.columns:
        df["UserID"] = pd.to_numeric(df["UserID"], errors="raise").astype("Int64")
    bad = df["alive_until"] < df["first_purchase"]
    if bad.any():
        raise ValueError(
            f"{table}: alive_until is before first_purchase in {int(bad.sum())} row(s); a person dies after buying."
        )
    return df


def _window(start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window ``[s, e)`` of days ``(start, end]``: midnight after ``start`` to midnight after ``end``."""
    try:
        s = pd.Timestamp(start).normalize() + pd.Timedelta(days=1)
        e = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"start and end must be dates, got {start!r} and {end!r}.") from exc
    if e <= s:
        raise ValueError(f"end ({pd.Timestamp(end).date()}) must be after start ({pd.Timestamp(start).date()}).")
    return s, e


def true_expected_value(truth: pd.DataFrame, start: Any, end: Any) -> pd.Series:
    """Expected spend of each demo person in the window of days ``(start, end]``, from the hidden traits.

    Calendar-day windows as everywhere in the project: orders dated after the day
    ``start`` and on or before the day ``end`` (``start='2018-02-28', end='2018-08-31'``
    is March to August 2018). Times of day in ``start``/``end`` are ignored.

    For person *i* with rate ``lambda_i``, spend level ``m_i``, first purchase ``f_i`` and
    dropout ``d_i``, and window ``[s, e)`` (midnight after ``start`` to midnight after ``end``)::

        E_i = m_i * (1 + q) * ( 1[s <= f_i < e] + lambda_i * V(max(s, f_i), min(e, d_i)) )

    where ``q`` is the same-day split probability (0.011) and ``V`` the visibility-weighted
    days (:func:`visible_days`: plain days until 21 August 2018, less after). Spend is
    the sum of ``payment_value`` over all the person's orders in the window, of any
    status; it is exact up to rounding to cents and the rare installment-interest uplift.

    Parameters
    ----------
    truth
        The truth table (:func:`load_truth`), or any frame with its required columns.
    start, end
        Last day before the window and last day in it.

    Returns
    -------
    pandas.Series
        Float, indexed by ``customer_unique_id``, named ``expected_value``.

    Required columns
    ----------------
    customer_unique_id, first_purchase, alive_until, purchase_rate_per_day, spend_mean

    Raises
    ------
    ValueError
        If a required column is missing or invalid, or ``end`` is not after ``start``.
    """
    df = _check_truth(truth, "truth")
    s, e = _window(start, end)
    first = df["first_purchase"]
    in_window = ((first >= s) & (first < e)).to_numpy(dtype=float)
    a = first.where(first > s, s)
    b = df["alive_until"].where(df["alive_until"] < e, e)
    repeats = df["purchase_rate_per_day"].to_numpy() * visible_days(a, b)
    value = df["spend_mean"].to_numpy() * (1.0 + SPLIT_P) * (in_window + repeats)
    return pd.Series(value, index=pd.Index(df["customer_unique_id"], name="customer_unique_id"), name="expected_value")
