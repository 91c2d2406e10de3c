"""Figures for the data stages. Each function returns a matplotlib Figure and never calls ``show``."""

from __future__ import annotations


import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, PercentFormatter

from clvlib.evaluation.metrics import decile_table, lorenz_curve
from clvlib.models.scores import model_label

__all__ = [
    "monthly_orders",
    "value_distribution",
    "orders_per_person",
    "event_shares",
    "event_timeline",
    "link_scatter",
    "correlation_heatmap",
    "decile_revenue",
    "plot_lorenz",
    "plot_deciles",
    "plot_intervals",
]

_DPI = 90


def _plain_log_x(ax) -> None:
    """Log x axis with plain numbers (10, 100, 1,000) and no cluttered minor labels."""
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _fig(w: float = 8, h: float = 3.6, ncols: int = 1) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(w, h), dpi=_DPI, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def monthly_orders(purchase_ts: pd.Series, analysis_date: pd.Timestamp | None = None,
                   title: str = "Orders per month") -> Figure:
    """Bar chart of orders per month, with truncated months after the analysis date shown in grey."""
    counts = pd.Series(purchase_ts).dt.to_period("M").value_counts().sort_index()
    fig, (ax,) = _fig()
    labels = [str(p) for p in counts.index]
    colors = ["#2563eb" if analysis_date is None or p.to_timestamp() <= analysis_date else "#9ca3af"
              for p in counts.index]
    ax.bar(range(len(counts)), counts.to_numpy(), color=colors)
    ax.set_xticks(range(len(counts)), labels, rotation=90, fontsize=7)
    ax.set_xlabel("month of purchase")
    ax.set_ylabel("orders per month")
    ax.set_title(title + (" (grey: after the analysis date, excluded)" if analysis_date is not None else ""))
    return fig


def value_distribution(values: pd.Series, label: str = "order value (BRL)", title: str = "Order values") -> Figure:
    """Histogram of positive values on a log scale, with median and mean marked."""
    v = pd.Series(values).dropna()
    v = v[v > 0]
    fig, (ax,) = _fig()
    bins = np.logspace(np.log10(v.min()), np.log10(v.max()), 60)
    ax.hist(v, bins=bins, color="#2563eb")
    _plain_log_x(ax)
    for stat, name, ls in ((v.median(), "median", "-"), (v.mean(), "mean", "--")):
        ax.axvline(stat, color="#dc2626", ls=ls, lw=1.2, label=f"{name} {stat:,.0f}")
    ax.set_xlabel(label + " (log scale)")
    ax.set_ylabel("orders")
    ax.set_title(f"{title}: {len(v):,} orders")
    ax.legend()
    return fig


def orders_per_person(frequency: pd.Series) -> Figure:
    """How many people placed 1, 2, 3, ... orders (log scale: one-time buyers dominate)."""
    counts = pd.Series(frequency).value_counts().sort_index()
    fig, (ax,) = _fig(7, 3.2)
    ax.bar(counts.index.astype(str), counts.to_numpy(), color="#2563eb")
    ax.set_yscale("log")
    share = counts.iloc[0] / counts.sum() if len(counts) else float("nan")
    ax.set_title(f"People by number of orders ({share:.1%} ordered once)")
    ax.set_xlabel("orders per person")
    ax.set_ylabel("people (log scale)")
    for x, y in zip(counts.index.astype(str), counts.to_numpy()):
        ax.annotate(f"{y:,}", (x, y), ha="center", va="bottom", fontsize=7)
    return fig


def event_shares(event_type: pd.Series) -> Figure:
    """Share of each event type."""
    shares = pd.Series(event_type).value_counts(normalize=True).sort_values()
    fig, (ax,) = _fig(7, 3)
    ax.barh(shares.index, shares.to_numpy(), color="#7c3aed")
    for y, v in enumerate(shares.to_numpy()):
        ax.annotate(f"{v:.1%}", (v, y), va="center", fontsize=8, xytext=(3, 0), textcoords="offset points")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of events (%)")
    ax.set_title("Event types")
    return fig


def event_timeline(ts: pd.Series, within_session_order: pd.Series | None = None) -> Figure:
    """Events per day, and the hour-of-day profile: how the clickstream is spread in time."""
    t = pd.Series(ts).dropna()
    fig, (a1, a2) = _fig(10, 3.2, ncols=2)
    per_day = t.dt.normalize().value_counts().sort_index()
    a1.plot(per_day.index, per_day.to_numpy(), lw=0.8, color="#7c3aed")
    a1.set_title("Events per day")
    a1.set_xlabel("day")
    a1.set_ylabel("events per day")
    a1.tick_params(axis="x", labelrotation=30, labelsize=7)
    hours = t.dt.hour.value_counts().sort_index()
    a2.bar(hours.index, hours.to_numpy(), color="#7c3aed")
    a2.set_title("Events by hour of day")
    a2.set_xlabel("hour of day (0-23)")
    a2.set_ylabel("events")
    return fig


def _nonnegative_symlog_y(ax, top: float) -> None:
    """A symlog y axis for a quantity that is never negative: zero at the bottom, ticks 0, 1, 10, 100, ..."""
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0, top=max(top, 1.0) * 1.5)
    ticks = [0.0] + [10.0 ** k for k in range(int(np.floor(np.log10(max(top, 1.0)))) + 1)]
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def link_scatter(frames: dict[str, pd.DataFrame], x: str, y: str, xlabel: str, ylabel: str) -> Figure:
    """Side-by-side scatter of a customer measure against a linked user measure, one panel per link.

    ``x`` must be positive (log axis); ``y`` non-negative: its axis is linear near zero and logarithmic
    above 1, so users with 0 sit on the bottom line and a few very large values do not flatten the rest.
    The panels share the y measure: only the first is labelled, wrapped to the panel's height.
    """
    import textwrap

    fig, axes = _fig(4 * len(frames), 3.4, ncols=len(frames))
    top = max((float(df[y].max()) for df in frames.values() if len(df)), default=1.0)
    for ax, (name, df) in zip(axes, frames.items()):
        rho = df[x].corr(df[y], method="spearman") if len(df) > 2 else float("nan")
        ax.scatter(df[x], df[y], s=4, alpha=0.5, color="#2563eb")
        _plain_log_x(ax)
        _nonnegative_symlog_y(ax, top)
        ax.set_title(f"{name} link: Spearman {rho:+.2f}")
        ax.set_xlabel(xlabel)
    if len(frames):
        axes[0].set_ylabel(textwrap.fill(ylabel, 36))
    return fig


def correlation_heatmap(frame: pd.DataFrame, columns: dict[str, str], title: str) -> Figure:
    """Spearman correlations between ``columns`` of ``frame`` as an annotated heat map (-1 blue, +1 red).

    Parameters
    ----------
    frame
        One row per linked customer.
    columns
        Column -> label shown on the axes (say which side and the unit, e.g. "spend (BRL)").
    title
        Figure title.
    """
    corr = frame[list(columns)].corr(method="spearman").to_numpy()
    n = len(columns)
    fig = Figure(figsize=(1.0 + 0.62 * n + 2.6, 0.5 * n + 1.6), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(corr, cmap="RdBu_r", vmin=-1, vmax=1)
    labels = list(columns.values())
    ax.set_xticks(range(n), labels, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    for i in range(n):
        for j in range(n):
            if np.isfinite(corr[i, j]):
                ax.text(j, i, f"{corr[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(corr[i, j]) > 0.6 else "black")
    fig.colorbar(im, ax=ax, label="Spearman correlation (-1 to +1)", shrink=0.8)
    ax.set_title(title)
    return fig


def decile_revenue(deciles: pd.DataFrame, title: str, currency: str = "BRL") -> Figure:
    """Total predicted and (when known) actual revenue per decile of the prediction.

    Required columns
    ----------------
    ``bin`` (1 = highest predictions), ``sum_predicted``; ``sum_actual`` when the actual spend is
    known (the holdout), as from :func:`clvlib.evaluation.metrics.decile_table`.
    """
    fig = Figure(figsize=(7, 3.4), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    both = "sum_actual" in deciles.columns
    w = 0.4 if both else 0.7
    ax.bar(deciles["bin"] - (w / 2 if both else 0), deciles["sum_predicted"], width=w, label="predicted",
           color="#93c5fd")
    if both:
        ax.bar(deciles["bin"] + w / 2, deciles["sum_actual"], width=w, label="actual (holdout)", color="#1d4ed8")
    ax.set_xticks(deciles["bin"])
    ax.set_xlabel("decile of predicted value (1 = highest)")
    ax.set_ylabel(f"revenue of the decile ({currency})")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title(title)
    ax.legend()
    return fig


def plot_lorenz(y_true: np.ndarray, scores: pd.DataFrame, models: list[str]) -> Figure:
    """Cumulative share of holdout revenue against share of customers targeted, per model."""
    fig = Figure(figsize=(7, 4.2), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    for col in models:
        x, y = lorenz_curve(y_true, scores[col].to_numpy())
        ax.plot(x, y, label=model_label(col), lw=1.4)
    x, y = lorenz_curve(y_true, y_true)
    ax.plot(x, y, color="black", ls=":", label="perfect foresight")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, label="random targeting")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("share of customers targeted, highest scores first (%)")
    ax.set_ylabel("share of holdout revenue captured (%)")
    ax.set_title("Cumulative holdout revenue by share of customers targeted")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def plot_deciles(y_true: np.ndarray, y_pred: np.ndarray, title: str, currency: str = "BRL") -> Figure:
    """Mean predicted and mean actual holdout spend per decile of the prediction."""
    d = decile_table(y_true, y_pred)
    fig = Figure(figsize=(7, 3.4), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    w = 0.4
    ax.bar(d["bin"] - w / 2, d["mean_predicted"], width=w, label="mean predicted", color="#93c5fd")
    ax.bar(d["bin"] + w / 2, d["mean_actual"], width=w, label="mean actual", color="#1d4ed8")
    ax.set_xticks(d["bin"])
    ax.set_xlabel("decile of predicted value (1 = highest)")
    ax.set_ylabel(f"holdout spend per customer ({currency})")
    ax.set_title(title)
    ax.legend()
    return fig


def plot_intervals(table: pd.DataFrame, ceiling: float | None = None) -> Figure:
    """Normalized Gini with its 95% bootstrap interval, per model."""
    t = table.dropna(subset=["gini_low"]).iloc[::-1]
    fig = Figure(figsize=(7, 0.45 * len(t) + 1.2), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(t))
    ax.errorbar(t["normalized_gini"], y, xerr=[t["normalized_gini"] - t["gini_low"], t["gini_high"] - t["normalized_gini"]],
                fmt="o", color="#1d4ed8", capsize=3)
    ax.set_yticks(y, t["name"], fontsize=8)
    ax.axvline(0, color="grey", lw=0.8)
    if ceiling is not None:
        ax.axvline(ceiling, color="#16a34a", ls="--", lw=1, label=f"ceiling {ceiling:.2f}")
        ax.legend(fontsize=8)
    ax.set_xlabel("normalized Gini on the holdout (0 = random order, 1 = perfect)\nbars: 95% bootstrap interval")
    ax.set_title("How well each model ranks customers")
    return fig
