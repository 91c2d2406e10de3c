"""One way to show a table in every report: readable cells, units in headers, at most the page's width.

:func:`format_frame` turns a DataFrame into the strings a reader sees (dates to the day or the minute,
missing values as an em dash, booleans as yes/no, thousands separators); :func:`table_html` lays them
out as a plain HTML table (no index column unless it means something, long tables cut to their top rows
with a line saying how many there are, wide tables transposed or scrolled inside the page);
:func:`show_table` wraps that for a notebook cell.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from clvlib.models.predictions import INTERVAL_MODELS, interval_columns
from clvlib.models.scores import btyd_column, model_label

__all__ = ["MISSING", "format_value", "format_frame", "table_html", "show_table", "clv_headers", "clv_formats",
           "significant"]

#: How a missing value (None, NaN, NaT, pd.NA) reads in a report.
MISSING = "—"

Formatter = str | Callable[[Any], str]

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
_NEGATIVE_ZERO = re.compile(r"^[-\u2212](0(?:\.0+)?)(%?)$")  # "-0.000" after rounding reads "0.000"
_G_FORMAT = re.compile(r"^\{:\.(\d+)g\}$")
_SHARE_HEADER = re.compile(r"^share\b", re.IGNORECASE)
_STYLE = ("<style>.clv-table{max-width:100%;overflow-x:auto;margin:4px 0 10px}"
          ".clv-table table{border-collapse:collapse;font-size:12.5px}"
          ".clv-table th{max-width:11em;white-space:normal;vertical-align:bottom;text-align:right;"
          "border-bottom:1px solid #9ca3af;padding:3px 8px}"
          ".clv-table td{padding:2px 8px;text-align:right;white-space:nowrap}"
          ".clv-table td.t,.clv-table th.t{text-align:left;white-space:normal;max-width:28em}"
          ".clv-table tbody tr:nth-child(odd){background:#f5f5f5}"
          ".clv-table p{font-size:90%;color:#4b5563;margin:3px 0}</style>")


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: not a missing scalar
        return False


def _when(value: pd.Timestamp, minutes: bool) -> str:
    return value.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d")


def format_value(value: Any, digits: int = 2) -> str:
    """One cell as a reader should see it.

    Missing values read as an em dash, booleans as ``yes`` / ``no``, integers (and floats
    that are whole numbers) with thousands separators, other floats with ``digits``
    decimals (three when the value is below 1 in absolute value, so rates keep their
    precision), timestamps to the day when at midnight, else to the minute.

    Examples
    --------
    >>> format_value(1234567), format_value(0.0049), format_value(True), format_value(float("nan"))
    ('1,234,567', '0.005', 'yes', '—')
    """
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        if v.is_integer() and abs(v) < 1e15:
            return f"{v:,.0f}" if v else "0"
        return _unsigned_zero(f"{v:,.{digits + 1 if abs(v) < 1 else digits}f}")
    if isinstance(value, pd.Timestamp | datetime):
        ts = pd.Timestamp(value)
        return _when(ts, ts != ts.normalize())
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return MISSING if not text.strip() else text


def _unsigned_zero(text: str) -> str:
    """``"-0.000"`` (a small negative number rounded away) -> ``"0.000"``; other text unchanged."""
    m = _NEGATIVE_ZERO.match(text)
    return m.group(1) + m.group(2) if m else text


def significant(digits: int = 4) -> Callable[[Any], str]:
    """A cell format: ``digits`` significant digits with thousands separators, never an exponent.

    For values that span orders of magnitude, like fitted model parameters (``"{:.4g}"`` would
    print 130,795 as ``1.308e+05``). A format string ``"{:.Ng}"`` given to :func:`format_frame`
    is read as ``significant(N)``.

    Examples
    --------
    >>> f = significant(4)
    >>> f(130795.3), f(107.24), f(0.018723), f(0.0)
    ('130,800', '107.2', '0.01872', '0')
    """
    def fmt(value: Any) -> str:
        v = float(value)
        if v == 0 or not math.isfinite(v):
            return format_value(v)
        magnitude = math.floor(math.log10(abs(v)))
        if magnitude >= digits - 1:
            return _unsigned_zero(f"{round(v, digits - 1 - magnitude):,.0f}")
        return _unsigned_zero(f"{v:,.{digits - 1 - magnitude}f}")

    return fmt


def _apply(fmt: Formatter, value: Any) -> str:
    if isinstance(fmt, str):
        g = _G_FORMAT.match(fmt)
        text = significant(int(g.group(1)))(value) if g else fmt.format(value)
    else:
        text = fmt(value)
    return _unsigned_zero(text)


def _column_strings(col: pd.Series, digits: int, fmt: Formatter | None) -> list[str]:
    """The strings of one column: a shared decimal count and date precision for the whole column."""
    values = col.tolist()
    if fmt is not None:
        return [MISSING if _is_missing(v) else _apply(fmt, v) for v in values]
    present = col.dropna()
    if pd.api.types.is_bool_dtype(col) or (len(present) and present.map(lambda v: isinstance(v, bool | np.bool_)).all()):
        return [format_value(v) for v in values]
    if pd.api.types.is_datetime64_any_dtype(col) or (
            len(present) and present.map(lambda v: isinstance(v, str) and bool(_ISO_TIME.match(v))).all()):
        ts = col if pd.api.types.is_datetime64_any_dtype(col) else pd.to_datetime(col, errors="coerce", format="ISO8601")
        minutes = bool((ts.dropna() != ts.dropna().dt.normalize()).any())
        return [MISSING if _is_missing(t) else _when(t, minutes) for t in ts]
    if pd.api.types.is_float_dtype(col) and len(present):
        finite = present[np.isfinite(present.astype(float))]
        if len(finite) and not (finite == finite.round()).all():
            # one decimal count per column: three when most values are below 1 (shares, rates, correlations,
            # Gini differences), so a column does not switch to two decimals for one value past -1 or 1
            d = digits + 1 if (finite.abs() < 1).mean() >= 0.5 else digits
            return [format_value(v) if _is_missing(v) or not math.isfinite(v) else _unsigned_zero(f"{v:,.{d}f}")
                    for v in values]
    return [format_value(v, digits) for v in values]


def _flat(name: Any) -> str:
    if isinstance(name, tuple):
        return " · ".join(str(n) for n in name if str(n) != "")
    return str(name)


def format_frame(
    df: pd.DataFrame,
    *,
    headers: Mapping[str, str] | None = None,
    formats: Mapping[str, Formatter] | Formatter | None = None,
    index: bool | None = None,
    digits: int = 2,
) -> pd.DataFrame:
    """The table as strings, with readable headers and no meaningless index.

    Parameters
    ----------
    df
        Any table.
    headers
        Column name -> header shown (put the unit here: ``{"spend": "spend (BRL)"}``);
        other columns keep their name (a MultiIndex column reads ``level 1 · level 2``).
    formats
        Column name -> format string (``"{:.1%}"``; ``"{:.4g}"`` never prints an exponent, see
        :func:`significant`) or function of the value; or one format for every numeric column.
        Missing values still read as an em dash. Without a format, a column whose header
        starts with "share" and whose values lie in [0, 1] reads as percentages.
    index
        ``True`` keeps the index as leading column(s), ``False`` drops it, ``None`` keeps it
        only when it has a name (a 0..n row number or a filtered positional index means nothing).
    digits
        Decimals of non-integer floats (one more in a column whose values are mostly below 1).

    Returns
    -------
    pandas.DataFrame
        Same rows, every cell a string, a default 0..n index; empty text reads as an em dash
        and a small negative number rounded to zero loses its minus sign.
    """
    keep = index if index is not None else any(n is not None for n in df.index.names)
    n_index = df.index.nlevels if keep else 0
    frame = df.reset_index() if keep else df.reset_index(drop=True)
    names = [_flat(c) for c in frame.columns]
    headers = dict(headers or {})
    if formats is None or isinstance(formats, Mapping):
        per_column = dict(formats or {})
    else:  # one format for every numeric column (not the index)
        per_column = {name: formats for k, (name, (_, col)) in enumerate(zip(names, frame.items()))
                      if k >= n_index and _numeric(col)}
    out = {}
    for name, (_, col) in zip(names, frame.items()):
        fmt = per_column.get(name)
        if fmt is None and _is_share(headers.get(name, name), col):
            fmt = "{:.1%}"
        out[name] = _column_strings(col, digits, fmt)
    result = pd.DataFrame(out, index=range(len(frame)), columns=names)
    return result.rename(columns=headers)


def _numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _is_share(header: str, col: pd.Series) -> bool:
    """A column headed "share ..." holding fractions in [0, 1] (not already formatted text)."""
    if not _SHARE_HEADER.match(header) or not pd.api.types.is_float_dtype(col):
        return False
    present = col.dropna()
    return bool(len(present)) and bool(((present >= 0) & (present <= 1)).all())


def table_html(
    df: pd.DataFrame,
    *,
    headers: Mapping[str, str] | None = None,
    formats: Mapping[str, Formatter] | Formatter | None = None,
    index: bool | None = None,
    digits: int = 2,
    max_rows: int = 20,
    transpose: bool = False,
    label: str | None = None,
    full_table: str | None = None,
    caption: str | None = None,
) -> str:
    """The HTML of one report table (a ``div`` that scrolls rather than spill over the page).

    Parameters
    ----------
    df, headers, formats, index, digits
        As for :func:`format_frame`.
    max_rows
        Longer tables show their first ``max_rows`` rows and a line "Showing the first 20 of
        1,234 rows." (sort the frame first so the top rows are the ones that matter).
    transpose
        Show one row per column of ``df`` and one column per row (for a few rows of a wide
        table); the column headers are the values of ``label`` (else "row 1", "row 2", ...).
    label
        With ``transpose``: the column whose values head the columns (e.g. the id).
    full_table
        Where the whole table is (e.g. ``"data/clv_table.csv"``), said under a cut table.
    caption
        One line above the table.

    Returns
    -------
    str
        ``<div class="clv-table">...</div>`` with a small scoped style, no script.
    """
    n = len(df)
    shown = df.iloc[:max_rows] if n > max_rows else df
    frame = format_frame(shown, headers=headers, formats=formats, index=index, digits=digits)
    keep = index if index is not None else any(x is not None for x in df.index.names)
    source = shown.reset_index() if keep else shown.reset_index(drop=True)
    numeric = [_numeric(c) for _, c in source.items()]
    if transpose:
        names = (frame[(headers or {}).get(label, label)].tolist() if label is not None
                 else [f"row {i + 1}" for i in range(len(frame))])
        body = frame.drop(columns=[(headers or {}).get(label, label)]) if label is not None else frame
        num = [x for x, c in zip(numeric, frame.columns) if label is None or c != (headers or {}).get(label, label)]
        head = ['<th class="t"></th>'] + [f"<th>{html.escape(str(v))}</th>" for v in names]
        rows = [f'<th class="t">{html.escape(str(c))}</th>'
                + "".join(f'<td{"" if is_num else " class=t"}>{html.escape(v)}</td>' for v in body[c])
                for c, is_num in zip(body.columns, num)]
    else:
        head = [f'<th{"" if is_num else " class=t"}>{html.escape(str(c))}</th>' for c, is_num in zip(frame.columns, numeric)]
        rows = ["".join(f'<td{"" if is_num else " class=t"}>{html.escape(v)}</td>' for v, is_num in zip(r, numeric))
                for r in frame.itertuples(index=False)]
    parts = [_STYLE, '<div class="clv-table">']
    if caption:
        parts.append(f"<p>{html.escape(caption)}</p>")
    parts.append("<table><thead><tr>" + "".join(head) + "</tr></thead><tbody>"
                 + "".join(f"<tr>{r}</tr>" for r in rows) + "</tbody></table>")
    if n > max_rows:
        where = f" The full table is <code>{html.escape(full_table)}</code>." if full_table else ""
        parts.append(f"<p>Showing the first {max_rows:,} of {n:,} rows.{where}</p>")
    elif full_table:
        parts.append(f"<p>This table is also written to <code>{html.escape(full_table)}</code>.</p>")
    parts.append("</div>")
    return "".join(parts)


def show_table(df: pd.DataFrame, **kwargs: Any):
    """:func:`table_html` as an ``IPython.display.HTML`` object: the last line of a report cell."""
    from IPython.display import HTML

    return HTML(table_html(df, **kwargs))


def clv_headers(currency: str, horizon_days: int) -> dict[str, str]:
    """Headers with units for the CLV table, its segment summary and decile tables.

    Examples
    --------
    >>> clv_headers("EUR", 90)["predicted_value"]
    'predicted value, next 90 days (EUR)'
    """
    return {
        "customer_unique_id": "customer", "predicted_value": f"predicted value, next {horizon_days} days ({currency})",
        "p_buy": "P(buys in the window)", "predicted_value_bgnbd": f"BG/NBD x Gamma-Gamma value ({currency})",
        "predicted_value_bgnbd_low": f"BG/NBD value, 90% low ({currency})",
        "predicted_value_bgnbd_high": f"BG/NBD value, 90% high ({currency})",
        "expected_purchases_bgnbd": "expected purchases (BG/NBD)", "p_alive": "P(alive)",
        "segment_meaning": "what it means", "meaning": "what it means", "share_of_customers": "share of customers",
        "predicted_revenue": f"predicted revenue ({currency})", "share_of_predicted": "share of predicted revenue",
        "mean_predicted_value": f"mean predicted value ({currency})", "mean_p_alive": "mean P(alive)",
        "actual_revenue": f"holdout revenue ({currency})", "share_of_actual": "share of holdout revenue",
        "bin": "decile (1 = highest)", "n": "customers", "mean_predicted": f"mean predicted ({currency})",
        "mean_actual": f"mean actual ({currency})", "sum_predicted": f"total predicted ({currency})",
        "sum_actual": f"total actual ({currency})", "error_vs_overall_mean": "error / overall mean spend",
    } | {col: f"{label}: value{end} ({currency})" for label, cols in _INTERVAL_MODELS.items()
         for col, end in zip(cols, ("", ", 90% low", ", 90% high"))}


#: The other BTYD scores whose value and interval a CLV table may carry, by their report label.
_INTERVAL_MODELS = {model_label(btyd_column(m)): interval_columns(m) for m in INTERVAL_MODELS if m != "bgnbd"}


def clv_formats() -> dict[str, Formatter]:
    """Formats of the CLV tables: shares as percentages, amounts with two decimals."""
    pct = "{:.1%}".format
    money = "{:,.2f}".format  # an interval's 0 reads as money like its neighbours, not as a small share
    return {**{c: pct for c in ("share_of_customers", "share_of_predicted", "share_of_actual", "p_buy", "p_alive",
                                "mean_p_alive")},
            **{c: money for c in ("predicted_value", "predicted_value_bgnbd", "predicted_value_bgnbd_low",
                                  "predicted_value_bgnbd_high", *(c for cols in _INTERVAL_MODELS.values() for c in cols))}}
