"""RFM tables: frequency / recency / T (/ monetary value) per customer from a transaction log.

The per-customer table of the lifetimes / pymc-marketing convention, on which the
buy-till-you-die models of :mod:`clvlib.models.btyd` are fitted and from which
:mod:`clvlib.features.temporal` builds its features. It lives in the features layer
because it *is* a feature table: the models only read it.

* :func:`rfm_summary` / :func:`calibration_holdout_summary` wrap
  ``pymc_marketing.clv.utils.rfm_summary`` and ``rfm_train_test_split`` (checked to be
  correct under pandas 3) and add validation at the door. The customer id column keeps
  the input's name (``customer_id_col``), as in lifetimes; pymc-marketing's own functions
  rename it to ``customer_id``, which is undone here.
* :func:`compress_rfm` and :func:`unique_rows` reduce a table to its unique
  ``(frequency, recency, T)`` rows: customers sharing one have identical likelihood terms
  and predictions, so models are fitted and evaluated on the unique rows.
* :func:`validate_rfm` checks an RFM table before a model reads it.

pymc-marketing is imported lazily, inside the functions: nothing is imported or changed
globally when this module is imported.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "RFM and CLV: Using iso-value
       curves for customer base analysis." Journal of Marketing Research, 42(4), 415-430.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from clvlib.io import parse_datetimes, parse_numbers, validate_columns

__all__ = [
    "TIME_UNITS",
    "RFM_COLUMNS",
    "check_time_unit",
    "rfm_summary",
    "calibration_holdout_summary",
    "compress_rfm",
    "unique_rows",
    "validate_rfm",
]

#: Supported time units of ``recency`` and ``T``: days and weeks (continuous: days / 7).
TIME_UNITS = ("D", "W")
#: Days per unit.
_DAYS = {"D": 1.0, "W": 7.0}
#: The columns a customer's BTYD likelihood depends on.
RFM_COLUMNS = ("frequency", "recency", "T")
#: The id column name of the tables pymc-marketing's ``rfm_summary`` / ``rfm_train_test_split`` return.
_PMM_ID = "customer_id"


# --------------------------------------------------------------------------- input cleaning


def check_time_unit(time_unit: str) -> None:
    """Raise ``ValueError`` unless ``time_unit`` is one of :data:`TIME_UNITS`."""
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit must be one of {TIME_UNITS} (days or weeks), got {time_unit!r}.")


def _parse_dates(values: pd.Series, table: str, column: str) -> pd.Series:
    """Timestamps (time zone dropped, wall time kept); raise on empty or unparsable cells."""
    return parse_datetimes(values, table, column, allow_missing=False,
                           hint="Every transaction needs a date: fix or drop those rows, or parse the column "
                                "yourself first with pandas.to_datetime(..., format=...).")


def _parse_amounts(values: pd.Series, table: str, column: str) -> pd.Series:
    """Finite, non-negative, non-missing amounts."""
    return parse_numbers(values, table, column, allow_negative=False, allow_missing=False,
                         hint="Net refunds against their orders, or drop those rows, before summarising.")


def _clean_transactions(
    transactions: pd.DataFrame,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
    time_unit: str,
    table: str,
) -> pd.DataFrame:
    """Validated copy of the needed columns with dates floored to their day.

    Whatever the time unit, a purchase is counted per *day* (the BTYD convention): weeks only
    change the unit in which recency and T are expressed (:func:`_in_unit`).
    """
    check_time_unit(time_unit)
    cols = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col else [])
    validate_columns(
        transactions, cols, table,
        hint="Pass the right names with customer_id_col=, datetime_col= and monetary_value_col=.",
    )
    if transactions.empty:
        raise ValueError(f"{table}: the table has no rows.")
    tx = transactions[cols].copy()
    if tx[customer_id_col].isna().any():
        raise ValueError(
            f"{table}: column '{customer_id_col}' is empty in {int(tx[customer_id_col].isna().sum())} row(s); "
            "every transaction needs a customer. Drop those rows first."
        )
    tx[datetime_col] = _parse_dates(tx[datetime_col], table, datetime_col)
    if monetary_value_col:
        tx[monetary_value_col] = _parse_amounts(tx[monetary_value_col], table, monetary_value_col)
    tx[datetime_col] = tx[datetime_col].dt.normalize().astype("datetime64[ns]")
    return tx


def _in_unit(df: pd.DataFrame, time_unit: str, columns: Sequence[str] = ("recency", "T")) -> pd.DataFrame:
    """Day counts converted to ``time_unit`` (weeks: days / 7, not calendar weeks)."""
    if time_unit != "D":
        df = df.copy()
        for c in columns:
            df[c] = df[c].astype("float64") / _DAYS[time_unit]
    return df


def _day(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a date, got {value!r}.") from exc
    if ts is pd.NaT or pd.isna(ts):
        raise ValueError(f"{name} must be a date, got {value!r}.")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def _finish_rfm(df: pd.DataFrame, customer_id_col: str, time_unit: str) -> pd.DataFrame:
    """Give the id column back its input name, sort by it, fix dtypes, record the unit."""
    out = df.rename(columns={_PMM_ID: customer_id_col}) if customer_id_col != _PMM_ID else df
    out = out.sort_values(customer_id_col, kind="stable").reset_index(drop=True)
    out["frequency"] = out["frequency"].round().astype("int64")
    for c in ("recency", "T"):
        out[c] = out[c].astype("float64")
    out.attrs["time_unit"] = time_unit
    return out


# --------------------------------------------------------------------------- RFM tables


def rfm_summary(
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str | None = None,
    observation_period_end: str | pd.Timestamp | None = None,
    time_unit: str = "D",
    table: str = "transactions",
) -> pd.DataFrame:
    """Frequency / recency / T (/ monetary value) per customer, in the lifetimes convention.

    A wrapper of ``pymc_marketing.clv.utils.rfm_summary`` (in days) with validation at the
    door. Purchases are counted per *day*, whatever ``time_unit``: several purchases by one
    customer on the same day are one purchase whose value is their sum.

    Parameters
    ----------
    transactions
        One row per purchase. Not modified.
    customer_id_col, datetime_col, monetary_value_col
        Column names. Dates may be strings (any format pandas can parse) or timestamps;
        a timezone is dropped keeping the local wall time. Amounts must be numbers >= 0.
    observation_period_end
        Last day of the observation period (inclusive: purchases during that day count).
        Purchases after it are **dropped**, and customers whose first purchase is after it
        do not appear. Defaults to the last purchase date.
    time_unit
        Unit of ``recency`` and ``T``: ``"D"`` (whole days) or ``"W"`` (continuous weeks,
        days / 7, as in the BTYD papers; a weekly table is the daily one with recency and T
        divided by 7, so a model fitted on it has the same shapes and its rate scales
        multiplied by 7).
    table
        Name of the table in error messages.

    Returns
    -------
    pandas.DataFrame
        Sorted by the customer id, with columns

        * ``customer_id_col`` (the input's name, e.g. ``customer_unique_id``)
        * ``frequency``: number of *repeat* purchase days (days with a purchase - 1)
        * ``recency``: age at the last purchase (last - first purchase day), in ``time_unit``
        * ``T``: age at ``observation_period_end`` (end - first purchase day), in ``time_unit``
        * ``monetary_value`` (only with ``monetary_value_col``): mean value of the repeat
          purchase days; 0 when ``frequency`` is 0.

        ``out.attrs["time_unit"]`` records the unit; ``BTYDModel.fit`` checks it.

    Required columns
    ----------------
    ``customer_id_col``, ``datetime_col`` and, when given, ``monetary_value_col``.

    Raises
    ------
    ValueError
        Missing columns, empty or unparsable dates, missing customer ids, non-numeric,
        missing or negative amounts, an unknown ``time_unit``, or no purchase on or before
        ``observation_period_end``.

    References
    ----------
    .. [1] Fader, Hardie & Lee (2005), "RFM and CLV: Using iso-value curves for customer
           base analysis", Journal of Marketing Research 42(4), 415-430.
    """
    from pymc_marketing.clv.utils import rfm_summary as _pmm_rfm_summary

    tx = _clean_transactions(transactions, customer_id_col, datetime_col, monetary_value_col, time_unit, table)
    end = tx[datetime_col].max() if observation_period_end is None else _day(
        observation_period_end, "observation_period_end"
    )
    tx = tx[tx[datetime_col] <= end]
    if tx.empty:
        raise ValueError(
            f"{table}: no purchase on or before observation_period_end={end.date()}; "
            "choose a later observation_period_end."
        )
    out = _pmm_rfm_summary(
        tx, customer_id_col, datetime_col, monetary_value_col=monetary_value_col,
        observation_period_end=end, time_unit="D",
    )
    return _finish_rfm(_in_unit(out, time_unit), customer_id_col, time_unit)


def calibration_holdout_summary(
    transactions: pd.DataFrame,
    customer_id_col: str = "customer_id",
    datetime_col: str = "date",
    monetary_value_col: str | None = None,
    *,
    calibration_end: str | pd.Timestamp,
    holdout_end: str | pd.Timestamp | None = None,
    time_unit: str = "D",
    table: str = "transactions",
) -> pd.DataFrame:
    """Calibration RFM plus what each calibration customer did in the holdout period.

    A wrapper of ``pymc_marketing.clv.utils.rfm_train_test_split`` (in days). Dates are
    floored to their day first, so the calibration period ends with the whole day of
    ``calibration_end`` and the holdout is the days after it up to and including
    ``holdout_end``; with ``time_unit="W"`` recency, T and the holdout's length are then
    divided by 7.

    Parameters
    ----------
    transactions, customer_id_col, datetime_col, monetary_value_col, time_unit, table
        As in :func:`rfm_summary`.
    calibration_end
        Last day of the calibration period.
    holdout_end
        Last day of the holdout period; defaults to the last purchase date. Purchases after
        it are dropped.

    Returns
    -------
    pandas.DataFrame
        The :func:`rfm_summary` columns over the calibration period (the id column keeps
        its input name), plus

        * ``holdout_frequency``: number of days with a purchase in the holdout
        * ``holdout_spend`` (only with ``monetary_value_col``): total value in the holdout
        * ``holdout_duration``: length of the holdout in time units (same for everyone)

        Customers whose first purchase is after ``calibration_end`` are excluded.

    Required columns
    ----------------
    ``customer_id_col``, ``datetime_col`` and, when given, ``monetary_value_col``.
    """
    from pymc_marketing.clv.utils import rfm_train_test_split

    tx = _clean_transactions(transactions, customer_id_col, datetime_col, monetary_value_col, time_unit, table)
    cal_end = _day(calibration_end, "calibration_end")
    hold_end = tx[datetime_col].max() if holdout_end is None else _day(holdout_end, "holdout_end")
    if hold_end <= cal_end:
        raise ValueError(
            f"holdout_end ({hold_end.date()}) must be after calibration_end ({cal_end.date()}) by at least one day."
        )
    if not (tx[datetime_col] <= cal_end).any():
        raise ValueError(
            f"{table}: no purchase on or before calibration_end={cal_end.date()}; choose a later calibration_end."
        )
    duration = float((hold_end - cal_end).days) / _DAYS[time_unit]
    in_holdout = (tx[datetime_col] > cal_end) & (tx[datetime_col] <= hold_end)
    if in_holdout.any():
        out = rfm_train_test_split(
            tx, customer_id_col, datetime_col, train_period_end=cal_end, test_period_end=hold_end,
            time_unit="D", monetary_value_col=monetary_value_col,
        )
        out = out.rename(columns={"test_frequency": "holdout_frequency"})
        if monetary_value_col:
            out["holdout_spend"] = out["holdout_frequency"] * out.pop("test_monetary_value")
        out = out.drop(columns=["test_T"])
    else:  # pymc-marketing refuses an empty holdout; it is legitimate (nobody came back)
        out = rfm_summary(tx, customer_id_col, datetime_col, monetary_value_col, cal_end, "D", table)
        out["holdout_frequency"] = 0.0
        if monetary_value_col:
            out["holdout_spend"] = 0.0
    out["holdout_frequency"] = out["holdout_frequency"].round().astype("int64")
    out["holdout_duration"] = duration
    return _finish_rfm(_in_unit(out, time_unit), customer_id_col, time_unit)


# --------------------------------------------------------------------------- unique rows


def compress_rfm(rfm: pd.DataFrame, columns: Sequence[str] = RFM_COLUMNS) -> pd.DataFrame:
    """Unique rows of ``columns`` with the number of customers sharing each (``n_customers``).

    Customers with identical ``(frequency, recency, T)`` contribute identical likelihood
    terms and get identical predictions, so models are fitted on this table with weights.

    Required columns
    ----------------
    ``columns`` (default ``frequency``, ``recency``, ``T``).
    """
    cols = list(columns)
    validate_columns(rfm, cols, "rfm", hint="Build it with clvlib.features.rfm.rfm_summary.")
    return rfm.groupby(cols, sort=True, as_index=False).size().rename(columns={"size": "n_customers"})


def unique_rows(df: pd.DataFrame, cols: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Unique rows of ``cols`` (sorted) and, for each input row, the position of its unique row.

    ``uniq.iloc[codes]`` rebuilds ``df[cols]``: compute on ``uniq``, then index the result
    with ``codes`` to get one value per input row.
    """
    cols = list(cols)
    codes = df.groupby(cols, sort=True).ngroup().to_numpy()
    uniq = df.groupby(cols, sort=True, as_index=False).size().drop(columns="size")
    return uniq, codes


# --------------------------------------------------------------------------- validation


def validate_rfm(rfm: pd.DataFrame, table: str, customer_col: str, need_monetary: bool = False) -> None:
    """Raise ``ValueError`` unless ``rfm`` is a usable RFM table keyed by ``customer_col``.

    Checks: the columns are present, there are rows, one row per customer, numeric finite
    non-negative values, whole ``frequency``, ``recency <= T`` and ``recency == 0`` when
    ``frequency == 0``.

    Parameters
    ----------
    rfm
        The table, e.g. from :func:`rfm_summary`.
    table
        Its name in error messages.
    customer_col
        The customer id column.
    need_monetary
        Require ``monetary_value`` too.

    Required columns
    ----------------
    ``customer_col``, ``frequency``, ``recency``, ``T`` (and ``monetary_value`` with
    ``need_monetary``).
    """
    cols = [customer_col, *RFM_COLUMNS] + (["monetary_value"] if need_monetary else [])
    validate_columns(rfm, cols, table,
                     hint=f"Build it with clvlib.features.rfm.rfm_summary and pass the name of its customer id "
                          f"column as customer_col= (here {customer_col!r}).")
    if rfm.empty:
        raise ValueError(f"{table}: the table has no rows.")
    if rfm[customer_col].duplicated().any():
        dup = rfm.loc[rfm[customer_col].duplicated(), customer_col].unique()[:3].tolist()
        raise ValueError(f"{table}: column '{customer_col}' has duplicates (e.g. {dup}); "
                         "one row per customer is needed.")
    num_cols = list(RFM_COLUMNS) + (["monetary_value"] if "monetary_value" in rfm.columns else [])
    for c in num_cols:
        if not pd.api.types.is_numeric_dtype(rfm[c]) or pd.api.types.is_bool_dtype(rfm[c]):
            raise ValueError(f"{table}: column '{c}' must be numeric, got dtype {rfm[c].dtype}.")
        v = rfm[c].to_numpy(dtype=float)
        if not np.isfinite(v).all():
            raise ValueError(f"{table}: column '{c}' has missing or infinite values; fill or drop those rows.")
        if (v < 0).any():
            raise ValueError(f"{table}: column '{c}' has negative values; it must be >= 0.")
    f = rfm["frequency"].to_numpy(dtype=float)
    if (f != np.round(f)).any():
        raise ValueError(f"{table}: column 'frequency' must hold whole numbers (repeat purchase periods).")
    if (rfm["recency"] > rfm["T"]).any():
        raise ValueError(f"{table}: 'recency' exceeds 'T' in {int((rfm['recency'] > rfm['T']).sum())} row(s); "
                         "recency is the age at the last purchase and cannot exceed the age T.")
    if ((f == 0) & (rfm["recency"].to_numpy(dtype=float) != 0)).any():
        raise ValueError(f"{table}: customers with frequency 0 must have recency 0.")
