"""The hybrid model stage: train on earlier snapshots, score the population at the cut, per feature set.

The two-part model (:class:`clvlib.ml.TwoPartModel`) is trained on stacked snapshots: for
each training cut (``windows["train_cuts"]``, monthly by default), features as of that cut and
the spend in the horizon after it, every label window ending on or before ``cut``. It is then
applied to features as of ``cut``. The holdout after ``cut`` is never read here: not for
fitting, tuning or choosing. Each snapshot's features, its BG/NBD input and its clickstream
mapping are built from data up to that snapshot's own cut.

What a buyer spends comes, by default (``spend="gamma-gamma"``), not from the boosting but from
Gamma-Gamma fitted on every order up to the cut, the first included
(:class:`clvlib.models.btyd.spend.AllOrdersSpend`): the expected value of a purchase day given
the person's own purchases, shrunk towards the population's. The boosting's spend part learns
from the buyers of the training windows only (a few hundred people on Olist and on the demo)
and ranks worse: on the earlier backtest cut-offs (2018-01-31, 2017-12-31, 2017-11-30; never
the holdout) the keyed hybrid of the default demo went from 0.465, 0.447, 0.307 (normalized
Gini) to 0.487, 0.507, 0.424 with it, and on the demo's own generative model the observable
ceiling's purchase part times this spend ranks as well as the ceiling itself (0.571, 0.599,
0.557 against 0.573, 0.599, 0.555). On the real data RFM + order details went from 0.204, 0.168,
0.153 to 0.216, 0.141, 0.174 (BG/NBD x Gamma-Gamma: 0.163, 0.129, 0.162). ``spend="gbm"`` keeps
the boosting's spend part.

With ``recent_windows`` (:func:`clvlib.features.temporal.window`) the snapshots after the last
full label window are trained on too, labelled up to the cut (shorter windows, with their length
as the feature :data:`LABEL_MONTHS`): a growing shop's latest and largest populations, which
full windows leave out. At the same earlier cut-offs this took the keyed hybrid of the demo from
0.487, 0.507, 0.424 to 0.505, 0.538, 0.503 (buyer rows in training: 350, 248, 156 -> about
2.2x, 2.7x, 3.3x as many), and RFM + order details on the real data from 0.216, 0.141, 0.174
to 0.223, 0.192, 0.179.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from clvlib import progress as clv_progress  # not `progress`: fit_score_snapshots has a parameter of that name
from clvlib.models.btyd import BTYDModel
from clvlib.dates import on_or_before
from clvlib.features.snapshots import build_click_snapshots, build_links, build_snapshots, snapshot, snapshot_cuts
from clvlib.models.scores import hybrid_column, p_buy_column, variant_name
from clvlib.models.two_part import TwoPartModel
from clvlib.features.temporal import attach_click_features, feature_columns, holdout_labels
from clvlib.models.design import MIN_LEVEL_BUYERS, RARE_LEVEL, category_plan, design_blocks, pool_rare_levels

__all__ = ["Variant", "variants_for", "HYBRID_SPEND", "spend_at_cut", "MIN_REPEAT_FOR_BTYD", "btyd_fit", "btyd_features",
           "btyd_feature_notes", "person_weights", "fit_score_variants", "fit_score_snapshots", "variant_table",
           "training_rows", "MAX_TRAIN_ROWS", "pool_rare_levels", "MIN_LEVEL_BUYERS", "RARE_LEVEL", "LABEL_MONTHS",
           "label_months", "BOOSTING_ROUNDS"]


@dataclass(frozen=True)
class Variant:
    """One hybrid-model variant: a feature set and, for clickstream features, the mapping method."""

    feature_set: str
    method: str | None = None

    @property
    def name(self) -> str:
        return variant_name(self.feature_set, self.method)


def variants_for(has_key: bool, methods: tuple[str, ...] = ("rank", "random")) -> list[Variant]:
    """The feature-set comparison: RFM; RFM + order details; plus clickstream through each link."""
    out = [Variant("rfm"), Variant("rfm+details")]
    out += [Variant("rfm+details+click", m) for m in methods]
    if has_key and "key" not in methods:
        out.append(Variant("rfm+details+click", "key"))
    return out


#: Where the hybrid's spend given a purchase comes from: Gamma-Gamma on every order, or the boosting's spend part.
HYBRID_SPEND = ("gamma-gamma", "gbm")


def spend_at_cut(features: pd.DataFrame, seed: int = 42) -> np.ndarray:
    """Each person's expected value of a purchase day, from Gamma-Gamma fitted on every order up to the cut.

    :class:`clvlib.models.btyd.spend.AllOrdersSpend` fitted by MAP on ``features`` (one row per
    person at the cut, with ``frequency`` and ``calibration_spend``) and applied to them: a
    one-time buyer's expectation lies between their first order's value and the population mean.
    The values follow the rows of ``features``.
    """
    from clvlib.models.btyd.spend import AllOrdersSpend

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # p + q <= 1 is reported where BG/NBD x this spend is a model
        model = AllOrdersSpend(method="map", random_seed=seed).fit(features)
        return model.expected_spend(features)["expected_spend"].to_numpy(dtype=float)


#: Boosting rounds of the hybrid's P(buy) (scikit-learn's ``max_iter``; the two-part model's default is 200). Chosen on
#: the earlier backtest cut-offs, never the holdout, with the recent windows: 100 rounds raised the mean normalized Gini
#: of every variant on both datasets (demo: RFM 0.380 -> 0.403, RFM + order details 0.332 -> 0.371, keyed 0.515 -> 0.526, rank
#: 0.341 -> 0.369; real: RFM 0.176 -> 0.180, RFM + order details 0.198 -> 0.201, rank 0.194 -> 0.197, random 0.195 -> 0.198),
#: as did a learning rate of 0.02 with 200 (0.406, 0.375, 0.528, 0.377; 0.181, 0.201, 0.197, 0.201): fewer, damped
#: trees overfit the few buyers less. 100 rounds also halve the fitting time.
BOOSTING_ROUNDS = 100

#: The feature that gives each training row its label window's length in months (the horizon when scoring).
LABEL_MONTHS = "label_months"


def label_months(days: float) -> int:
    """A label window's length in whole months (30.44 days each): 181 to 184 days are 6 months, 28 to 31 one."""
    return int(round(float(days) / 30.4375))


#: Fewer people who bought again than this at a snapshot: BG/NBD's dropout part (a, b) cannot be estimated.
MIN_REPEAT_FOR_BTYD = 10


def btyd_fit(features: pd.DataFrame, seed: int = 42) -> tuple[BTYDModel | None, dict]:
    """The hidden BG/NBD of one snapshot, fitted on its RFM columns: the model and its record.

    The model is ``None`` with fewer than :data:`MIN_REPEAT_FOR_BTYD` people who bought on two
    days by the cut (see :func:`btyd_features`). The record holds the repeat customers, the
    parameters, whether the optimiser converged and, without a model, ``missing_because``.
    """
    clv_progress.note_compile_cache()
    rfm = features[["customer_unique_id", "frequency", "recency", "T"]]
    repeat = int((rfm["frequency"] > 0).sum())
    record: dict = {"repeat_customers": repeat, "customers": int(len(rfm))}
    if repeat < MIN_REPEAT_FOR_BTYD:
        record["missing_because"] = (f"only {repeat} of {len(rfm):,} people had bought on two different days, "
                                     f"too few (< {MIN_REPEAT_FOR_BTYD}) to estimate BG/NBD's dropout")
        return None, record
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # reported in words by btyd_feature_notes
        model = BTYDModel("bgnbd", method="map", random_seed=seed).fit(rfm)
    record["params"] = {k: round(float(v), 6) for k, v in model.params_.set_index("parameter")["estimate"].items()}
    record["converged"] = bool(model.purchase_optimizer_["success"])
    return model, record


def btyd_features(features: pd.DataFrame, horizon_days: int, seed: int = 42,
                  fit: tuple[BTYDModel | None, dict] | None = None,
                  count_on: pd.DataFrame | None = None) -> pd.DataFrame:
    """BG/NBD fitted on these features' RFM columns, its expected purchases as a feature for the hybrid model.

    The model is fitted on the same snapshot it describes, so it sees only data up to that
    snapshot's cut: one fit per snapshot, because a fit on a later snapshot would have seen the
    label window of an earlier one. Adds ``btyd_expected_purchases`` over ``horizon_days``.
    ``fit`` (:func:`btyd_fit` of the same ``features``) saves refitting for another horizon.
    ``count_on``: the whole snapshot when ``features`` holds some of its rows (with ``fit`` made
    on the whole): the people with a non-finite expectation are counted there, once per distinct
    (frequency, recency, T), so the sentence below counts the snapshot, not the rows given.

    With fewer than :data:`MIN_REPEAT_FOR_BTYD` people who bought on two days by the cut (early
    snapshots of a young shop), BG/NBD's dropout parameters are not identified: the fit leaves
    ``a`` where it started (1), and its expected purchases divide by ``a - 1``, giving
    non-finite values. Then the feature is left missing for that snapshot (the gradient boosting
    treats it as unknown) and a sentence says so. ``out.attrs["btyd_fit"]`` records, per
    snapshot, the repeat customers, the parameters, whether the optimiser converged and why the
    feature is missing, if it is.
    """
    model, record = btyd_fit(features, seed) if fit is None else fit
    record = dict(record)
    out = features.copy(deep=False)  # one column added: the snapshot's own columns are shared, not copied
    if model is None:
        out["btyd_expected_purchases"] = float("nan")
        out.attrs["btyd_fit"] = record
        return out
    rfm = features[["customer_unique_id", "frequency", "recency", "T"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # reported below in words
        pred = (model.predict(rfm, horizon=horizon_days)["expected_purchases"].to_numpy() if len(rfm)
                else np.empty(0))  # no row: a sampled snapshot of which no row was kept
    bad = ~np.isfinite(pred)
    n_bad = int(bad.sum())
    if count_on is not None:  # the expectation depends on (frequency, recency, T) only: count each once, weighted
        triples = count_on.groupby(["frequency", "recency", "T"], sort=False).size().rename("people").reset_index()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            at = model.predict(triples.assign(customer_unique_id=np.arange(len(triples))),
                               horizon=horizon_days)["expected_purchases"].to_numpy()
        n_bad = int(triples["people"].to_numpy()[~np.isfinite(at)].sum())
    if bad.any() or n_bad:
        pred = np.where(bad, np.nan, pred)
        record["missing_because"] = f"BG/NBD gave {n_bad:,} people a non-finite expectation"
    out["btyd_expected_purchases"] = pred
    out.attrs["btyd_fit"] = record
    return out


def btyd_feature_notes(fits: dict) -> list[str]:
    """Sentences on the hidden BG/NBD fits behind ``btyd_expected_purchases`` (cut -> ``attrs["btyd_fit"]``)."""
    notes = []
    for cut, rec in fits.items():
        when = pd.Timestamp(cut).date()
        if "missing_because" in rec:
            notes.append(f"At the snapshot of {when} the BG/NBD feature is left missing: {rec['missing_because']}.")
        elif not rec.get("converged", True):
            notes.append(f"At the snapshot of {when} the BG/NBD fit behind the hybrid model's BG/NBD feature stopped "
                         "before the optimiser could confirm its maximum; the feature is used as it came out.")
    return notes


def person_weights(people: pd.Series) -> np.ndarray:
    """Training weights that count each person once: 1 / (number of training snapshots the person is in).

    Monthly snapshots with 6-month label windows overlap: one purchase labels the same person in
    up to six rows (on Olist 1,227 positive rows come from 523 people). Unweighted, the models
    see each such purchase up to six times, as if it were six independent outcomes. With these
    weights each person carries a total weight of 1 in the training data, however many
    overlapping windows they appear in.
    """
    counts = people.map(people.value_counts())
    return (1.0 / counts).to_numpy(dtype="float64")


#: Most person-snapshots the gradient boosting trains on; beyond it the non-buyers are sampled.
MAX_TRAIN_ROWS = 2_000_000


def training_rows(people: list[pd.Series], labels: list[np.ndarray], weighting: str = "person",
                  max_rows: int = MAX_TRAIN_ROWS, seed: int = 42) -> tuple[list[np.ndarray], np.ndarray | None, dict]:
    """Which rows of each training snapshot the gradient boosting sees, and their weights.

    With at most ``max_rows`` rows in all, every row is kept. Beyond it, every buyer row (label > 0)
    is kept and each non-buyer row is kept with the same probability ``rate`` (seeded, one draw per
    snapshot), chosen so the expected total is ``max_rows``; kept non-buyers are weighted by
    ``1 / rate``, so weighted sums (the buy rate, the loss) estimate those of the full data. Buyers
    are about 1% of rows, so the rare class loses nothing.

    Parameters
    ----------
    people
        Per training snapshot, the person ids of its rows.
    labels
        Per training snapshot, each row's spend in its label window (same order).
    weighting
        ``"person"``: each row also carries :func:`person_weights` computed on **all** rows (before
        sampling), so a person in several overlapping windows counts once; ``"none"``: no such weight.
    max_rows
        The bound on kept rows (in expectation).
    seed
        Seed of the sampling.

    Returns
    -------
    rows : list of numpy.ndarray
        Per snapshot, the kept row positions (sorted).
    weights : numpy.ndarray or None
        One weight per kept row, in the order of ``rows``; None when every weight would be 1.
    record : dict
        ``rows`` and ``buyer_rows`` before sampling, ``kept_rows``, ``rate``, ``people`` and
        ``buyer_people`` (distinct persons among all rows, and among buyer rows).
    """
    if len(people) != len(labels) or any(len(p) != len(y) for p, y in zip(people, labels)):
        raise ValueError("people and labels must have one entry per snapshot, of equal lengths.")
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, got {max_rows}.")
    n = sum(len(y) for y in labels)
    buyers = [np.asarray(y) > 0 for y in labels]
    n_buy = int(sum(b.sum() for b in buyers))
    if n > max_rows and n_buy >= max_rows:
        raise ValueError(f"the training snapshots hold {n_buy:,} buyer rows, at least max_rows ({max_rows:,}): with "
                         "every buyer kept no non-buyer would be left to learn from. Raise max_train_rows.")
    rate = 1.0 if n <= max_rows else max(min((max_rows - n_buy) / max(n - n_buy, 1), 1.0), 0.0)
    every = pd.concat([pd.Series(p) for p in people], ignore_index=True)
    per_row = person_weights(every) if weighting == "person" else None  # counted on all rows, before sampling
    starts = np.cumsum([0, *(len(b) for b in buyers)])
    rows, weights = [], []
    for k, b in enumerate(buyers):
        keep = b | (np.random.default_rng([seed, k]).random(len(b)) < rate) if rate < 1 else np.ones(len(b), bool)
        r = np.flatnonzero(keep)
        w = np.ones(len(r)) if per_row is None else per_row[starts[k]:starts[k + 1]][r]
        if rate < 1:
            w[~b[r]] /= rate
        weights.append(w)
        rows.append(r)
    record = {"rows": n, "buyer_rows": n_buy, "kept_rows": int(sum(len(r) for r in rows)), "rate": rate,
              "people": int(every.nunique()), "buyer_people": int(every[np.concatenate(buyers)].nunique())}
    if weighting == "none" and rate == 1:
        return rows, None, record
    return rows, np.concatenate(weights), record


def _linked_values(linked: pd.DataFrame, col: str, people: pd.Series) -> pd.Series:
    """The values a linked column takes among ``people``: its own, and missing for a person without a link."""
    unlinked = bool((~people.isin(linked["customer_unique_id"])).any())
    return pd.concat([linked[col], pd.Series([np.nan], dtype=object)]) if unlinked else linked[col]


def fit_score_variants(
    orders: pd.DataFrame,
    events: pd.DataFrame,
    windows: dict,
    variants: list[Variant],
    key: pd.DataFrame | None = None,
    seed: int = 42,
    model_params: dict | None = None,
    progress=print,
    spend: str = "gamma-gamma",
) -> tuple[pd.DataFrame, dict]:
    """Train every variant on the earlier windows and score the population at ``windows['cut']``.

    The training set stacks one snapshot per training cut: features as of that cut, label =
    spend in the horizon after it (every label window ends on or before ``windows['cut']``).

    Parameters
    ----------
    orders, events
        Cleaned orders and clickstream events. Only rows dated on or before ``windows['cut']`` are used.
    windows
        Output of :func:`clvlib.temporal.window`.
    variants
        Feature sets to compare (see :func:`variants_for`).
    spend
        Where a buyer's spend comes from (:data:`HYBRID_SPEND`; see :func:`fit_score_snapshots`).

    Returns
    -------
    scores : pandas.DataFrame
        ``customer_unique_id`` and, per variant, ``hybrid:<name>`` (expected spend in the horizon)
        and ``p_buy:<name>``.
    info : dict
        Per variant: training rows, buyers among them, feature names, mapping coverage at the cut.
    """
    cuts = snapshot_cuts(windows)
    methods = [v.method for v in variants if v.method]
    methods = list(dict.fromkeys(methods))
    links, link_info = build_links(orders, events, cuts, methods, seed=seed, key=key) if methods else (None, [])
    snaps = build_snapshots(orders, cuts)
    clicks = build_click_snapshots(orders, events, links, cuts) if methods else None
    at_cut = {i["method"]: i for i in link_info if i["cutoff"] == str(windows["cut"].date())}
    return fit_score_snapshots(snaps, clicks, orders, windows, variants, seed=seed, model_params=model_params,
                               progress=progress, link_info=at_cut, spend=spend)


def fit_score_snapshots(
    snapshots: pd.DataFrame,
    click_snapshots: pd.DataFrame | None,
    orders: pd.DataFrame,
    windows: dict,
    variants: list[Variant],
    seed: int = 42,
    model_params: dict | None = None,
    progress=print,
    link_info: dict | None = None,
    weighting: str = "person",
    cache: dict | None = None,
    max_train_rows: int = MAX_TRAIN_ROWS,
    min_level_buyers: int = MIN_LEVEL_BUYERS,
    spend: str = "gamma-gamma",
    at_cut: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Train every variant on the training snapshots and score the snapshot at ``windows['cut']``.

    ``snapshots`` and ``click_snapshots`` are stage 04's stacked tables (see
    :mod:`clvlib.features.snapshots`); labels are each person's spend in the horizon after each
    training cut, from ``orders`` dated on or before ``windows['cut']``. Returns the same as
    :func:`fit_score_variants`. ``link_info`` (method -> info at the cut) is reported per variant.

    ``weighting="person"`` (default) weights each training row by :func:`person_weights`, so a
    person (and a purchase) seen through several overlapping label windows counts once;
    ``"none"`` gives every person-snapshot the same weight. Each variant's info records the
    weighting, the distinct people and buyers among the training rows, and sentences on the
    hidden BG/NBD fits (``btyd_notes``, see :func:`btyd_feature_notes`).

    A categorical column's levels with fewer than ``min_level_buyers`` buyer rows in the training
    data are pooled into one level (:func:`pool_rare_levels`).

    When the training snapshots stack more than ``max_train_rows`` person-snapshots (millions of
    customers), every buyer row is kept and the others are sampled (:func:`training_rows`), so
    memory and fitting time stay bounded; scoring runs in chunks (:meth:`TwoPartModel.predict_buy`).

    ``spend`` (:data:`HYBRID_SPEND`): ``"gamma-gamma"`` (default) multiplies each variant's P(buy)
    by the expected value of a purchase day from Gamma-Gamma on every order up to the cut
    (:func:`spend_at_cut`, shared by the variants; the boosting fits P(buy) only); ``"gbm"`` by the
    two-part model's own spend part.

    Training windows of different lengths (``recent_windows`` of :func:`clvlib.features.temporal.window`:
    label windows cut short at the cut) add the feature :data:`LABEL_MONTHS`, each row's label
    window in whole months (:func:`label_months`; the horizon at the cut), on which both parts may
    only increase; the BG/NBD feature of each training row is its expected purchases over that
    row's own label window. With windows of one length the feature would be constant and is left out.

    ``model_params`` are passed to :class:`TwoPartModel`, over the stage's defaults: the BG/NBD
    feature and :data:`LABEL_MONTHS` increasing, :data:`BOOSTING_ROUNDS` rounds.

    ``cache`` (a dict the caller keeps) holds each snapshot's hidden BG/NBD fit by cut and its
    feature by (cut, horizon in days), so backtests that share snapshots fit each hidden BG/NBD once.
    When the non-buyers are sampled, a training snapshot's features are computed for its sampled
    rows only (at 100x Olist, twelve whole snapshots with their features were more than 24 GB),
    and neither they nor the scored snapshot's are kept in ``cache``; the fits are still kept.
    ``at_cut``: the snapshot at the cut, when the caller has read it already (it is not read again).
    """
    if weighting not in ("person", "none"):
        raise ValueError(f"weighting must be 'person' or 'none', got {weighting!r}.")
    if spend not in HYBRID_SPEND:
        raise ValueError(f"spend must be one of {HYBRID_SPEND}, got {spend!r}.")
    cut = windows["cut"]
    orders = orders[on_or_before(orders["order_purchase_timestamp"], cut)]
    train_cuts = list(windows["train_cuts"])
    horizons = {tc: (end - tc).days for tc, end in zip(train_cuts, windows["label_ends"])}
    horizons[cut] = (windows["holdout_end"] - cut).days
    clv_progress.step(f"hybrid model: BG/NBD feature on {len(train_cuts)} training windows and the cut-off")
    cache = {} if cache is None else cache

    def fitted(c: pd.Timestamp) -> pd.DataFrame:
        snap = at_cut if at_cut is not None and pd.Timestamp(c) == pd.Timestamp(cut) else snapshot(snapshots, c)
        if ("bgnbd", c) not in cache:
            cache[("bgnbd", c)] = btyd_fit(snap, seed=seed)
        return snap

    def with_btyd(c: pd.Timestamp, rows: np.ndarray | None = None, keep: bool = True) -> pd.DataFrame:
        """The snapshot at ``c`` with its BG/NBD feature (cached), or only its ``rows`` (not cached)."""
        if rows is None and (c, horizons[c]) in cache:
            return cache[(c, horizons[c])]
        snap = fitted(c)
        out = btyd_features(snap if rows is None else snap.iloc[rows].reset_index(drop=True), horizons[c], seed=seed,
                            fit=cache[("bgnbd", c)], count_on=None if rows is None else snap)
        if rows is None and keep:
            cache[(c, horizons[c])] = out
        return out

    people = {tc: (cache[(tc, horizons[tc])] if (tc, horizons[tc]) in cache else fitted(tc))["customer_unique_id"]
              for tc in train_cuts}
    months = {c: label_months(h) for c, h in horizons.items()}
    by_length = len({months[tc] for tc in train_cuts}) > 1  # windows of several lengths: say which
    labels = {tc: holdout_labels(orders, tc, end, people[tc])["holdout_spend"].to_numpy()
              for tc, end in zip(train_cuts, windows["label_ends"])}
    rows, weights, sampling = training_rows([people[tc] for tc in train_cuts], [labels[tc] for tc in train_cuts],
                                            weighting=weighting, max_rows=max_train_rows, seed=seed)
    del people
    y = np.concatenate([labels[tc][r] for tc, r in zip(train_cuts, rows)])
    sampled = sampling["rate"] < 1  # millions of person-snapshots: only the sampled rows are ever held whole
    base = {tc: with_btyd(tc, r if sampled else None) for tc, r in zip(train_cuts, rows)}
    base[cut] = with_btyd(cut, keep=not sampled)
    if sampled:
        rows = [np.arange(len(r)) for r in rows]  # base holds those rows only
    if sampling["rate"] < 1:
        progress(f"  hybrid training data: {sampling['rows']:,} person-snapshots, more than {max_train_rows:,}; all "
                 f"{sampling['buyer_rows']:,} buyer rows kept and {sampling['rate']:.2%} of the others, weighted up")
    btyd_fits = {str(pd.Timestamp(c).date()): base[c].attrs.get("btyd_fit", {}) for c in [*train_cuts, cut]}
    notes = btyd_feature_notes(btyd_fits)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)

    def design(c: pd.Timestamp, method: str | None, linked: pd.DataFrame | None = None,
               rows: slice = slice(None)) -> pd.DataFrame:
        frame = base[c].iloc[rows]
        if method is not None:
            frame = attach_click_features(frame, snapshot(click_snapshots, c, method) if linked is None else linked)
        return frame.assign(**{LABEL_MONTHS: months[c]}) if by_length else frame

    if spend == "gamma-gamma":
        if ("all_orders_spend", cut) not in cache:
            cache[("all_orders_spend", cut)] = spend_at_cut(base[cut], seed=seed)
        spend_if_buy = cache[("all_orders_spend", cut)]
    scores = base[cut][["customer_unique_id"]].copy()
    info: dict = {}
    for v in variants:
        clv_progress.step(f"hybrid model {v.name}: fitting on {len(train_cuts)} training windows", variants.index(v), len(variants))
        linked = snapshot(click_snapshots, cut, v.method) if v.method else None
        probe = design(cut, v.method, linked.iloc[:0] if v.method else None, rows=slice(0, 0))  # the columns and types
        cols = feature_columns(probe, v.feature_set) + ([LABEL_MONTHS] if by_length else [])
        same = next((k.name for k in variants[:variants.index(v)]
                     if k.method == v.method and k.name in info and info[k.name]["features"] == cols), None)
        if same is not None:  # e.g. "rfm+details" on data without per-order behaviour columns: nothing new to learn
            progress(f"  hybrid {v.name}: the same features as {same}, not fitted again")
            continue
        train = pd.concat([design(tc, v.method).iloc[r][cols] for tc, r in zip(train_cuts, rows)], ignore_index=True)
        plans = {}
        for col in cols:  # one category list for training and scoring; rare levels pooled
            if isinstance(probe[col].dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(train[col]):
                values = base[cut][col] if col in base[cut].columns else _linked_values(linked, col, base[cut]["customer_unique_id"])
                train[col], plans[col] = category_plan(train[col], values, y > 0, min_level_buyers)
        params = {"increasing": ("btyd_expected_purchases", LABEL_MONTHS), "max_iter": BOOSTING_ROUNDS,
                  **(model_params or {})}
        model = TwoPartModel(random_state=seed, fit_spend=spend == "gbm", **params).fit(train[cols], y,
                                                                                       sample_weight=weights)
        del train
        blocks = design_blocks(base[cut], linked, cols, plans, {LABEL_MONTHS: months[cut]} if by_length else None)
        if spend == "gbm":
            parts = [model.predict_parts(block) for block in blocks]
            p_buy = np.concatenate([p for p, _ in parts]) if parts else np.empty(0)
            spend_if_buy = np.concatenate([s for _, s in parts]) if parts else np.empty(0)
        else:
            p_buy = np.concatenate([model.predict_buy(block) for block in blocks] or [np.empty(0)])
        del linked
        scores[hybrid_column(v.name)] = p_buy * spend_if_buy
        scores[p_buy_column(v.name)] = p_buy
        buyers = int((y > 0).sum())
        info[v.name] = {"train_rows": len(y), "train_buyers": buyers, "features": cols,
                        "train_people": sampling["people"], "train_buyer_people": sampling["buyer_people"],
                        "sampling": sampling, "weighting": weighting, "spend": spend, "btyd_notes": notes,
                        "mapping": (link_info or {}).get(v.method, {}) if v.method else {}}
        progress(f"  hybrid {v.name}: trained on {len(y):,} person-snapshots ({buyers:,} bought), {len(cols)} features")
    return scores, info


def variant_table(info: dict) -> pd.DataFrame:
    """One row per hybrid variant: training rows and people, buyers among them, weighting, features, linked customers.

    With ``weighting == "person"`` each person's rows share a weight of 1 (:func:`person_weights`), so the
    training data count as many people as the "people" column says, not as many rows.
    """
    return pd.DataFrame([{"variant": k, "training person-windows": v["train_rows"], "of whom bought": v["train_buyers"],
                          "people": v.get("train_people", ""), "people who bought": v.get("train_buyer_people", ""),
                          "weights": {"person": "each person counts once", "none": "each row counts once"}.get(
                              v.get("weighting"), "") + (f"; non-buyers sampled at {v['sampling']['rate']:.1%} of "
                                                         f"{v['sampling']['rows']:,} rows and weighted up"
                                                         if v.get("sampling", {}).get("rate", 1) < 1 else ""),
                          "features": len(v["features"]), "linked at cut-off": v["mapping"].get("mapped", ""),
                          **({"expected buyers as trained": v["calibration"]["buyers_before"],
                              "calibrated to (BG/NBD)": v["calibration"]["target_buyers"]} if "calibration" in v else {})}
                         for k, v in info.items()])
