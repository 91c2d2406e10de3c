"""The classic BTYD diagnostics, as matplotlib Figures (no pyplot state).

* :func:`plot_repeat_purchases`: customers by number of repeat purchases, actual vs
  simulated, and holdout purchases by calibration frequency (lifetimes'
  ``plot_period_transactions`` and ``plot_calibration_purchases_vs_holdout_purchases``).
* :func:`plot_p_alive_matrix`: P(alive) by frequency and recency.

Figures are built with ``matplotlib.figure.Figure`` rather than ``pyplot``, so nothing is
opened or kept in pyplot's global list of figures.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clvlib.features.rfm import RFM_COLUMNS, unique_rows, validate_rfm
from clvlib.models.btyd._pymc import PMM_CUSTOMER, posterior_draws
from clvlib.models.btyd.simulate import simulate_frequency
from clvlib.schemas import CUSTOMER

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from clvlib.models.btyd.model import BTYDModel

__all__ = ["plot_repeat_purchases", "plot_p_alive_matrix"]

_DPI = 90
_UNITS = {"D": "days", "W": "weeks"}


def plot_repeat_purchases(
    calibration: pd.DataFrame,
    model: BTYDModel,
    holdout_frequency: pd.Series | np.ndarray | None = None,
    holdout_duration: float | None = None,
    max_frequency: int = 7,
    n_draws: int = 20,
    *,
    customer_col: str = CUSTOMER,
) -> Figure:
    """Actual vs model number of customers by repeat purchases, and holdout purchases.

    Left: how many customers made 0, 1, ..., ``max_frequency``+ repeat purchases in the
    calibration period, actual vs simulated from the fitted purchase model at each
    customer's own ``T`` (lifetimes' ``plot_period_transactions``). Right, when
    ``holdout_frequency`` is given: mean actual holdout purchases vs mean
    ``expected_purchases`` over the holdout, by calibration frequency (lifetimes'
    ``plot_calibration_purchases_vs_holdout_purchases``).

    Parameters
    ----------
    calibration
        Calibration RFM table (e.g. from ``calibration_holdout_summary``).
    model
        A fitted ``BTYDModel``.
    holdout_frequency
        Holdout purchases per row of ``calibration`` (e.g. its ``holdout_frequency``).
    holdout_duration
        Holdout length in time units; defaults to ``calibration["holdout_duration"]``.
    max_frequency
        Frequencies above it are pooled into one ``max_frequency+`` bin.
    n_draws
        Number of simulated populations averaged for the model bars.
    customer_col
        The customer id column of ``calibration``.

    Returns
    -------
    matplotlib.figure.Figure

    Required columns
    ----------------
    ``customer_col``, ``frequency``, ``recency``, ``T`` (and ``holdout_duration`` if
    ``holdout_duration`` is not given with ``holdout_frequency``).
    """
    from matplotlib.figure import Figure

    model._check_fitted()
    validate_rfm(calibration, "calibration", customer_col)
    cap = int(max_frequency)
    bins = np.arange(cap + 1)
    labels = [str(b) for b in bins[:-1]] + [f"{cap}+"]
    actual = np.bincount(np.minimum(calibration["frequency"].to_numpy(dtype=int), cap), minlength=cap + 1)
    sims = simulate_frequency(model, calibration["T"].to_numpy(dtype=float), n_draws=n_draws)
    expected = np.mean([np.bincount(np.minimum(s, cap), minlength=cap + 1) for s in sims], axis=0)

    two = holdout_frequency is not None
    fig = Figure(figsize=(10 if two else 5.5, 3.8), dpi=_DPI, layout="constrained")
    axes = fig.subplots(1, 2 if two else 1, squeeze=False)[0]
    ax = axes[0]
    w = 0.4
    ax.bar(bins - w / 2, actual, width=w, label="actual", color="#1f77b4")
    ax.bar(bins + w / 2, expected, width=w, label="model", color="#ff7f0e")
    ax.set_xticks(bins, labels)
    ax.set_yscale("log")
    ax.set_xlabel("repeat purchases in calibration")
    ax.set_ylabel("customers (log scale)")
    ax.set_title("Customers by number of repeat purchases")
    ax.legend()
    if two:
        hf = np.asarray(holdout_frequency, dtype=float)
        if hf.shape != (len(calibration),):
            raise ValueError(f"holdout_frequency must have one value per calibration row ({len(calibration)}), "
                             f"got shape {hf.shape}.")
        if holdout_duration is None:
            if "holdout_duration" not in calibration.columns:
                raise ValueError("calibration: no 'holdout_duration' column; pass holdout_duration= (time units).")
            holdout_duration = float(calibration["holdout_duration"].iloc[0])
        cols = list(RFM_COLUMNS)
        uniq, codes = unique_rows(calibration[cols].astype("float64"), cols)
        uniq.insert(0, PMM_CUSTOMER, np.arange(len(uniq)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            draws = model.purchase_model_.expected_purchases(data=uniq, future_t=float(holdout_duration))
        grp = np.minimum(calibration["frequency"].to_numpy(dtype=int), cap)
        df = pd.DataFrame({"bin": grp, "actual": hf, "model": posterior_draws(draws).mean(axis=0)[codes]})
        agg = df.groupby("bin")[["actual", "model"]].mean().reindex(bins)
        ax2 = axes[1]
        ax2.plot(bins, agg["actual"], marker="o", label="actual")
        ax2.plot(bins, agg["model"], marker="s", label="model")
        ax2.set_xticks(bins, [f"{lab}\nn={n:,}" for lab, n in zip(labels, actual)], fontsize=8)
        ax2.set_xlabel("repeat purchases in calibration")
        ax2.set_ylabel(f"mean purchases in holdout ({holdout_duration:g} {_UNITS.get(model.time_unit, model.time_unit)})")
        ax2.set_title("Holdout purchases by calibration frequency")
        ax2.legend()
    return fig


def plot_p_alive_matrix(
    model: BTYDModel,
    max_frequency: int | None = None,
    max_recency: int | None = None,
) -> Figure:
    """P(alive) by frequency and recency for customers of age ``T = max_recency``.

    The same heat map as ``pymc_marketing.clv.plotting.plot_probability_alive_matrix``
    (computed with the fitted model's ``expected_probability_alive``). That function is not
    called because it draws its colour bar with ``pyplot.colorbar``, which opens a stray
    empty pyplot figure (and warns) when the axes belong to a stand-alone Figure.
    Defaults: the largest frequency (capped at 20) and recency in the fitting data.

    Parameters
    ----------
    model
        A fitted ``BTYDModel``.
    max_frequency, max_recency
        Extent of the grid (frequency 0..max_frequency, recency 0..max_recency).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    model._check_fitted()
    data = model.purchase_model_.data
    if max_frequency is None:
        max_frequency = int(min(max(data["frequency"].max(), 1), 20))
    if max_recency is None:
        max_recency = int(max(data["recency"].max(), 1))
    freq, rec = np.meshgrid(np.arange(max_frequency + 1), np.arange(max_recency + 1))
    grid = pd.DataFrame({PMM_CUSTOMER: np.arange(freq.size), "frequency": freq.ravel().astype(float),
                         "recency": rec.ravel().astype(float), "T": float(max_recency)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        z = posterior_draws(model.purchase_model_.expected_probability_alive(data=grid)).mean(axis=0)
    fig = Figure(figsize=(6, 4.5), dpi=_DPI, layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(z.reshape(freq.shape), origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1,
                   interpolation="none")
    from matplotlib.ticker import MaxNLocator

    fig.colorbar(im, ax=ax, label="P(alive) (probability, 0 to 1)")
    unit = _UNITS.get(model.time_unit, model.time_unit)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts and whole time units: no -0.5, 0.5 ticks
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(-0.5, max_frequency + 0.5)
    ax.set_ylim(-0.5, max_recency + 0.5)
    ax.set_xlabel("repeat purchases (frequency)")
    ax.set_ylabel(f"recency: age at last purchase ({unit})")
    ax.set_title(f"P(alive) of customers aged T = {max_recency} {unit}")
    return fig
