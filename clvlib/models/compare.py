"""The whole model comparison at one cut-off: the unit of a backtest and of the forecast.

At a cut, every model sees only data dated on or before it: the buy-till-you-die baselines are
fitted on the snapshot at the cut, the hybrid variants are trained on the snapshots before it
(whose label windows end by the cut) and score the snapshot at the cut. :func:`compare_at` returns
every model's score per customer; stacking it over several cuts (:func:`stack_scores`) gives the
backtest that stage 06 evaluates, and the same call at the analysis date gives the forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from clvlib import progress
from clvlib.memory import release_free_memory
from clvlib.features.snapshots import snapshot, stored_cuts
from clvlib.models.baselines import fit_btyd_baselines
from clvlib.models.btyd import BTYDModel
from clvlib.models.btyd.spend import AllOrdersSpend, with_spend
from clvlib.models.hybrid import Variant, fit_score_snapshots
from clvlib.models.predictions import TRAITS_INTERVAL
from clvlib.models.scores import ALL_ORDERS_SPEND, BTYD_MODELS, COVARIATE_BTYD, SIMPLE_RULE, btyd_column, is_hybrid, model_label
from clvlib.schemas import CUSTOMER

__all__ = ["CutResult", "compare_at", "add_all_orders_spend", "add_covariate_btyd", "calibrate_hybrid", "add_intervals", "compare_backtests", "slim", "stack_scores", "split_record", "cut_table"]


@dataclass
class CutResult:
    """Every model at one cut.

    Attributes
    ----------
    windows
        The split (:func:`clvlib.features.temporal.window`).
    features
        The snapshot at the cut (one row per person who had bought by then).
    scores
        ``customer_unique_id``, the simple rule (``calibration_spend``), ``btyd:<model>`` per BTYD
        model (with ``btyd:bgnbd+first`` when BG/NBD is fitted) and ``hybrid:<variant>`` per hybrid
        variant: each model's predicted spend in the horizon after the cut.
    fitted, predictions, params
        The BTYD models, their per-customer predictions and parameter estimates
        (:func:`clvlib.models.baselines.fit_btyd_baselines`); ``bgnbd+first`` is BG/NBD's
        predictions with the all-orders spend (:class:`clvlib.models.btyd.spend.AllOrdersSpend`,
        in ``fitted`` and, as ``fit == "bgnbd+first"``, in ``params``).
    hybrid_scores, hybrid_info
        The hybrid variants' ``hybrid:`` and ``p_buy:`` columns and their training record
        (:func:`clvlib.models.hybrid.fit_score_snapshots`).
    notes
        Model name -> one sentence on why it was not fitted at this cut (``bgnbd+cov`` without
        a usable covariate).
    covariates
        Model name -> its static covariates at the cut (``customer_unique_id`` and one indicator
        column per covariate, :func:`clvlib.models.btyd.covariates.first_order_covariates`), for
        ``bgnbd+cov``'s per-customer intervals.
    """

    windows: dict
    features: pd.DataFrame
    scores: pd.DataFrame
    fitted: dict[str, BTYDModel | AllOrdersSpend]
    predictions: dict[str, pd.DataFrame]
    params: pd.DataFrame
    hybrid_scores: pd.DataFrame
    hybrid_info: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    covariates: dict[str, pd.DataFrame] = field(default_factory=dict)


def compare_at(snapshots: pd.DataFrame, click_snapshots: pd.DataFrame | None, orders: pd.DataFrame, windows: dict,
               variants: Sequence[Variant], *, fit_method: str = "map", seed: int = 42,
               annual_discount_rate: float = 0.10, lifetime_months: int = 24, link_info: dict | None = None,
               cache: dict | None = None, label: str = "", btyd_models: tuple[str, ...] = tuple(BTYD_MODELS),
               calibrate_buyers: bool = True, hybrid_spend: str = "gamma-gamma", lifetime: bool = True) -> CutResult:
    """Fit and score every model at ``windows["cut"]``.

    Parameters
    ----------
    snapshots, click_snapshots
        Stage 04's stacked snapshot tables; they must hold the cut and its training cuts.
    orders
        Cleaned orders; only those dated on or before the cut are read (for the training labels).
    windows
        The split (:func:`clvlib.features.temporal.window`).
    variants
        The hybrid feature sets (:func:`clvlib.models.hybrid.variants_for`); empty for none.
    fit_method, seed, annual_discount_rate, lifetime_months
        As in :func:`clvlib.models.baselines.fit_btyd_baselines`.
    link_info
        Link method -> coverage at the cut, reported per variant.
    cache
        A dict kept across calls: the hidden BG/NBD feature of each snapshot is fitted once.
    label
        How the progress line names this cut (e.g. ``"backtest 2 of 4"``).
    btyd_models
        The BTYD purchase models to fit (all by default; the forecast fits only what it needs).
        With BG/NBD comes ``btyd:bgnbd+first``: its expected purchases x Gamma-Gamma fitted on
        every purchase up to the cut, the first included (:func:`add_all_orders_spend`), and
        ``btyd:bgnbd+cov``: BG/NBD with static covariates x that spend (:func:`add_covariate_btyd`).
    calibrate_buyers
        Calibrate each hybrid variant's P(buy) to the scoring window (:func:`calibrate_hybrid`):
        its expected number of buyers is set to BG/NBD's forecast for the same people and window.
    hybrid_spend
        Where the hybrid's spend given a purchase comes from: ``"gamma-gamma"`` (Gamma-Gamma on
        every order up to the cut) or ``"gbm"`` (the two-part model's spend part); see
        :func:`clvlib.models.hybrid.fit_score_snapshots`.
    lifetime
        Whether the BTYD predictions carry ``clv_lifetime`` (the backtests' earlier cuts skip it).

    Returns
    -------
    CutResult
    """
    cut = pd.Timestamp(windows["cut"])
    stored = stored_cuts(snapshots)
    missing = [str(c.date()) for c in [*windows["train_cuts"], cut] if pd.Timestamp(c) not in stored]
    if missing:
        raise ValueError(f"The snapshots (data/snapshots.parquet) have no cut {', '.join(missing)}, which the split at "
                         f"{cut.date()} needs. Rerun stages 03-04 with the same split parameters: python run_all.py --from 03")
    progress.step(f"models at {cut.date()}{f' ({label})' if label else ''}")
    features = snapshot(snapshots, cut)
    fitted, predictions, params = fit_btyd_baselines(features, windows, fit_method=fit_method, seed=seed,
                                                     annual_discount_rate=annual_discount_rate,
                                                     lifetime_months=lifetime_months, models=btyd_models,
                                                     lifetime=lifetime)
    params = add_all_orders_spend(features, fitted, predictions, params, fit_method=fit_method, seed=seed)
    covariates: dict[str, pd.DataFrame] = {}
    params, notes = add_covariate_btyd(features, orders, windows, fitted, predictions, params, covariates)
    if variants:
        hybrid_scores, hybrid_info = fit_score_snapshots(snapshots, click_snapshots, orders, windows, list(variants),
                                                         seed=seed, progress=lambda _line: None, link_info=link_info,
                                                         cache=cache, spend=hybrid_spend, at_cut=features)
    else:
        hybrid_scores, hybrid_info = features[[CUSTOMER]].copy(), {}
    if variants and calibrate_buyers and "bgnbd" in fitted:
        calibrate_hybrid(hybrid_scores, hybrid_info, fitted["bgnbd"], features,
                         (windows["holdout_end"] - windows["cut"]).days)
    scores = features[[CUSTOMER, SIMPLE_RULE]].copy()
    for name, pred in predictions.items():
        scores[btyd_column(name)] = scores[CUSTOMER].map(pred.set_index(CUSTOMER)["predicted_value"]).to_numpy()
    hybrid_cols = [c for c in hybrid_scores.columns if is_hybrid(c)]
    scores = scores.merge(hybrid_scores[[CUSTOMER, *hybrid_cols]], on=CUSTOMER, how="left")
    return CutResult(windows=windows, features=features, scores=scores, fitted=fitted, predictions=predictions,
                     params=params, hybrid_scores=hybrid_scores, hybrid_info=hybrid_info, notes=notes,
                     covariates=covariates)


def add_all_orders_spend(features: pd.DataFrame, fitted: dict, predictions: dict[str, pd.DataFrame],
                         params: pd.DataFrame, *, fit_method: str = "map", seed: int = 42) -> pd.DataFrame:
    """Add every all-orders spend score whose purchase model is fitted (``bgnbd+first``), in place.

    Gamma-Gamma is fitted on every person's purchase days and mean spend per purchase day up to
    the cut, the first purchase included (:class:`clvlib.models.btyd.spend.AllOrdersSpend`), and
    multiplies the purchase model's expected purchases: ``fitted[name]`` is the spend model,
    ``predictions[name]`` the purchase model's predictions with that spend.

    Returns
    -------
    pandas.DataFrame
        ``params`` with the spend model's ``p``, ``q``, ``v`` added (``fit`` = the name).
    """
    frames = [params]
    for name, (purchase, _label) in ALL_ORDERS_SPEND.items():
        if purchase not in fitted:
            continue
        progress.step(f"BTYD: fitting Gamma-Gamma on every order for {name} by {fit_method.upper()}")
        spend = AllOrdersSpend(method=fit_method, random_seed=seed).fit(features)
        fitted[name] = spend
        predictions[name] = with_spend(predictions[purchase], spend.expected_spend(features))
        frames.append(spend.params_.assign(fit=name))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else params


def add_covariate_btyd(features: pd.DataFrame, orders: pd.DataFrame, windows: dict, fitted: dict,
                       predictions: dict[str, pd.DataFrame], params: pd.DataFrame,
                       covariates: dict[str, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """Add BG/NBD with static covariates (``bgnbd+cov``) when its spend score is there, in place.

    The covariates are each person's region and first order's category, from their first order
    on or before the cut (:func:`clvlib.models.btyd.covariates.first_order_covariates`); BG/NBD
    with them on the purchase rate is fitted by maximum likelihood (whatever ``fit_method``: the
    MAP is fast, MCMC over a dozen coefficients is not), and its expected purchases multiply the
    expected spend of the all-orders Gamma-Gamma (``bgnbd+first``), so that it differs from
    ``bgnbd+first`` only by the covariates. Without a usable covariate the model is skipped.
    When ``covariates`` is given, the covariate table of each model fitted is stored in it by name.

    Returns
    -------
    params, notes
        ``params`` with the model's estimates added (``fit`` = the name), and name -> the
        one-line reason for every model skipped.
    """
    from clvlib.models.btyd.covariates import CovariateBGNBD, first_order_covariates

    frames, notes = [params], {}
    horizon_days = float((windows["holdout_end"] - windows["cut"]).days)
    for name, (spend_name, label) in COVARIATE_BTYD.items():
        if spend_name not in predictions:
            continue
        try:
            cov, info = first_order_covariates(orders, features, windows["cut"])
        except ValueError as exc:
            notes[name] = f"{label} is not fitted: {exc}"
            continue
        progress.step(f"BTYD: fitting BG/NBD with {len(cov.columns) - 1} covariate indicators by MLE")
        rfm = pd.concat([features[[CUSTOMER, "frequency", "recency", "T"]].reset_index(drop=True),
                         cov.drop(columns=CUSTOMER).reset_index(drop=True)], axis=1)
        model = CovariateBGNBD([c for c in cov.columns if c != CUSTOMER]).fit(rfm)
        model.covariate_info_ = info
        fitted[name] = model
        if covariates is not None:
            covariates[name] = cov.reset_index(drop=True)
        spend = predictions[spend_name][[CUSTOMER, "expected_spend"]]
        predictions[name] = with_spend(model.predict(rfm, horizon_days), spend)
        frames.append(model.params_.assign(fit=name))
    return (pd.concat(frames, ignore_index=True) if len(frames) > 1 else params), notes


def calibrate_hybrid(hybrid_scores: pd.DataFrame, hybrid_info: dict, bgnbd: BTYDModel | dict, features: pd.DataFrame,
                     horizon_days: int) -> None:
    """Calibrate every hybrid variant's P(buy) to BG/NBD's expected buyers in the window, in place.

    The two-part model learns P(buy) on earlier label windows, whose buy rate can differ from the
    scoring window's (on Olist 1.5-1.6% against 1.18%), so its totals are off by a common factor
    while its ranking may be fine. Each variant's P(buy) is moved by one common shift in logit
    space so that it sums to the number of buyers BG/NBD expects among the same people over the
    same window, computed at the cut (:func:`clvlib.models.calibration.expected_buyers`; no label
    is read); the predicted value becomes the calibrated P(buy) x the model's spend if they buy.
    The ranking by P(buy) is kept. Each variant's info records ``calibration``: the target, the
    sum before and the logit shift.
    """
    from clvlib.models.calibration import calibrate_probabilities, expected_buyers
    from clvlib.models.scores import hybrid_column, p_buy_column

    rfm = features[[CUSTOMER, "frequency", "recency", "T"]]
    target = expected_buyers(bgnbd, rfm, float(horizon_days))
    if len(hybrid_scores) != len(rfm):
        raise ValueError(f"calibrate_hybrid: {len(hybrid_scores):,} hybrid scores for {len(rfm):,} people at the cut; "
                         "score the snapshot at the cut.")
    for name, info in hybrid_info.items():
        p = hybrid_scores[p_buy_column(name)].to_numpy(dtype=float)
        value = hybrid_scores[hybrid_column(name)].to_numpy(dtype=float)
        spend = np.divide(value, p, out=np.zeros_like(value), where=p > 0)
        shifted = calibrate_probabilities(p, target)
        hybrid_scores[p_buy_column(name)] = shifted.probabilities
        hybrid_scores[hybrid_column(name)] = shifted.probabilities * spend
        info["calibration"] = {"target_buyers": round(float(target), 3), "buyers_before": round(float(p.sum()), 3),
                               "logit_shift": round(float(shifted.shift), 6)}


def add_intervals(result: CutResult, model: str = "bgnbd", *, level: float = 0.9, n_draws: int = 200, seed: int = 0,
                  uncertainty: str = "traits") -> str:
    """Add per-customer intervals of ``model``'s predicted value to ``result.predictions[model]``, in place.

    A parametric bootstrap of the MAP estimates (:func:`clvlib.models.btyd.intervals.predict_intervals`),
    by default with each customer's own traits drawn too (``uncertainty="traits"``): an interval for
    the customer's true expected value over the window, not only for the model's estimate of it. A
    likelihood ridge (parameters that run off together with few repeat buyers) is held at the MAP
    along that direction. Adds ``predicted_value_low`` / ``predicted_value_high`` (and the same for
    ``expected_purchases``); an MCMC fit keeps its own credible interval. For an all-orders spend
    score (``bgnbd+first``) the purchase model's parameters and the all-orders Gamma-Gamma's are
    both drawn, and each customer's spend trait given all their purchase days. For BG/NBD with
    covariates (``bgnbd+cov``) its covariate coefficients are drawn with ``r, alpha, a, b`` (the
    all-orders Gamma-Gamma's draws beside them), and each customer's value uses their own
    covariates (``result.covariates``).

    Returns
    -------
    str
        One sentence for the report: what the interval covers and under which model, or why there is
        none. It names no column: each table names the columns after the model
        (:func:`clvlib.models.predictions.interval_columns`).
    """
    from clvlib.models.btyd.intervals import predict_intervals
    from clvlib.models.btyd.spend import all_orders_summary, with_spend_model

    if model not in result.fitted:
        return f"No per-customer interval: {model} was not fitted."
    fitted, spend_inputs = result.fitted[model], None
    rfm = result.features[[CUSTOMER, "frequency", "recency", "T", "monetary_value"]].reset_index(drop=True)
    if model in ALL_ORDERS_SPEND:  # the purchase model's draws x the all-orders Gamma-Gamma's draws
        purchase = ALL_ORDERS_SPEND[model][0]
        if getattr(result.fitted[purchase], "method", "map") != "map":
            return "No per-customer interval: the purchase model was fitted by MCMC."
        fitted = with_spend_model(result.fitted[purchase], fitted)
        spend_inputs = all_orders_summary(result.features).reset_index(drop=True)
    elif model in COVARIATE_BTYD:  # the covariate model's draws (coefficients included) x the all-orders Gamma-Gamma's
        spend = result.fitted.get(COVARIATE_BTYD[model][0])
        if not isinstance(spend, AllOrdersSpend):
            return f"No per-customer interval: {COVARIATE_BTYD[model][0]}'s spend model was not fitted."
        if spend.method != "map":
            return "No per-customer interval: the spend model was fitted by MCMC."
        if model not in result.covariates:
            return f"No per-customer interval: the covariates of {model} at the cut were not kept."
        fitted = with_spend_model(fitted, spend)
        spend_inputs = all_orders_summary(result.features).reset_index(drop=True)
        rfm = rfm.merge(result.covariates[model], on=CUSTOMER, how="left", validate="one_to_one")
    elif not isinstance(fitted, BTYDModel):
        return f"No per-customer interval for {model} yet (only BG/NBD and Pareto/NBD x a Gamma-Gamma spend)."
    if getattr(fitted, "method", "map") != "map":
        return "The intervals are the MCMC fit's own credible intervals."
    progress.step(f"intervals: {n_draws} draws of {model_label(btyd_column(model))}")
    horizon = float((result.windows["holdout_end"] - result.windows["cut"]).days)
    try:
        iv = predict_intervals(fitted, rfm, horizon, n_draws=n_draws, level=level, seed=seed, uncertainty=uncertainty,
                               ridge="fix", spend_inputs=spend_inputs)
    except ValueError as exc:
        return f"No per-customer interval: {exc}"
    pred = result.predictions[model]
    iv = iv.set_index(CUSTOMER).reindex(pred[CUSTOMER])
    for col in ("predicted_value_low", "predicted_value_high", "expected_purchases_low", "expected_purchases_high"):
        if col in iv.columns:
            pred[col] = iv[col].to_numpy()
    params = ("the model's parameters, its covariate coefficients included," if model in COVARIATE_BTYD
              else "the model's parameters")
    what = (f"{TRAITS_INTERVAL} ({params} and the customer's own purchase rate, "
            "dropout and spend drawn from their posterior)" if uncertainty == "traits"
            else f"the model's estimate (the uncertainty of {params.rstrip(',')} only)")
    return (f"A {level:.0%} interval of {what} under {model_label(btyd_column(model))}, from {n_draws} draws of a "
            "parametric bootstrap of the maximum-likelihood fit.")


def compare_backtests(snapshots: pd.DataFrame, click_snapshots: pd.DataFrame | None, orders: pd.DataFrame,
                      backtests: Sequence[dict], variants: Sequence[Variant], link_info: dict | None = None,
                      cache: dict | None = None, keep_earlier: bool = False,
                      **options) -> tuple[list[CutResult], list[str]]:
    """:func:`compare_at` at every backtest cut, latest first; an earlier cut the data cannot support is skipped.

    The latest cut is the holdout evaluation: a failure there is raised, and only its predictions
    carry ``clv_lifetime`` (the earlier cuts only rank customers over the horizon). At an earlier cut, a
    ``ValueError`` (for example too few buyers in the training windows of a young shop's first
    months) skips that cut with a sentence saying why, and the backtest goes on with the others.

    Parameters
    ----------
    backtests
        The backtest splits, latest first (``plan(...)["backtests"]``).
    link_info
        Cut -> (link method -> coverage at that cut).
    keep_earlier
        Keep the earlier cuts' whole results. By default an earlier cut keeps what the backtest
        table needs (:func:`slim`): at 100x Olist each cut's snapshot, predictions and hybrid
        scores are several GB.
    options
        Passed to :func:`compare_at` (``fit_method``, ``seed``, ...).

    Returns
    -------
    results, skipped
        The :class:`CutResult` of every cut that ran, latest first, and one sentence per skipped cut.
    """
    cache = {} if cache is None else cache
    results, skipped = [], []
    for k, w in enumerate(backtests):
        label = f"backtest {k + 1} of {len(backtests)}" + (", the holdout evaluation" if k == 0 else "")
        info = (link_info or {}).get(pd.Timestamp(w["cut"]), {})
        try:
            result = compare_at(snapshots, click_snapshots, orders, w, variants, link_info=info, cache=cache,
                                label=label, **{"lifetime": k == 0, **options})
            results.append(result if k == 0 or keep_earlier else slim(result))
            del result
            release_free_memory()  # the cut's freed frames back to the system before the next cut's peak
        except ValueError as exc:
            if k == 0:
                raise
            skipped.append(f"The backtest at {pd.Timestamp(w['cut']).date()} was skipped: {exc}")
    return results, skipped


def slim(result: CutResult) -> CutResult:
    """What an earlier backtest cut keeps: its split, scores, parameters, notes and hybrid record.

    Its ``features`` keep only ``customer_unique_id`` and ``frequency`` (for :func:`cut_table`);
    the fitted models, their predictions, the covariates and the hybrid's own scores (also in
    ``scores``) are dropped.
    """
    return replace(result, features=result.features[[CUSTOMER, "frequency"]].copy(), fitted={}, predictions={},
                   hybrid_scores=result.hybrid_scores[[CUSTOMER]].copy(), covariates={})


def stack_scores(results: Sequence[CutResult]) -> pd.DataFrame:
    """Every cut's scores stacked, with the ``cut`` (first column), latest cut first."""
    frames = [r.scores.assign(cut=pd.Timestamp(r.windows["cut"])) for r in results]
    out = pd.concat(frames, ignore_index=True)
    return out[["cut", *[c for c in out.columns if c != "cut"]]]


def split_record(windows: dict) -> dict:
    """A split as plain JSON: its cut, horizon end, horizon in days, training cuts and their label windows' ends."""
    return {"cutoff": str(windows["cut"].date()), "holdout_end": str(windows["holdout_end"].date()),
            "horizon_days": int((windows["holdout_end"] - windows["cut"]).days),
            "train_cuts": [str(t.date()) for t in windows["train_cuts"]],
            "label_ends": [str(t.date()) for t in windows["label_ends"]]}


def cut_table(results: Sequence[CutResult]) -> pd.DataFrame:
    """One row per cut: the population, its repeat buyers, BG/NBD's reading and the hybrid's training data.

    Columns: ``cut-off``, ``prediction window to``, ``people``, ``share who bought on 2+ days``,
    ``BG/NBD purchases per year while active`` (``r / alpha`` x 365.25 with ``alpha`` in days),
    ``hybrid training person-windows`` and ``of whom bought`` (the first variant's; every variant
    trains on the same rows).
    """
    rows = []
    for r in results:
        est = r.params[r.params["fit"] == "bgnbd"].set_index("parameter")["estimate"] if len(r.params) else pd.Series(dtype=float)
        rate = float(est["r"] / est["alpha"] * 365.25) if {"r", "alpha"} <= set(est.index) else float("nan")
        first = next(iter(r.hybrid_info.values()), {})
        rows.append({"cut-off": str(r.windows["cut"].date()), "prediction window to": str(r.windows["holdout_end"].date()),
                     "people": len(r.features), "share who bought on 2+ days": float((r.features["frequency"] > 0).mean()),
                     "BG/NBD purchases per year while active": rate,
                     "hybrid training person-windows": first.get("train_rows", float("nan")),
                     "of whom bought": first.get("train_buyers", float("nan"))})
    return pd.DataFrame(rows)
