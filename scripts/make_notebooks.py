"""Write the stage notebooks from the cell texts below (run once after editing them; outputs stay stripped)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SETUP = """%matplotlib inline
import pandas as pd
from IPython.display import Markdown, display

pd.set_option("display.max_columns", 40)
pd.set_option("display.precision", 3)
"""
WS = 'workspace = None  # workspace folder; None: the most recent run\'s (else the demo); run_all sets it\n'
SPLIT = ('cutoff = "2018-02-28"  # last day of the calibration period: every feature and link uses data up to it\n'
         'horizon_months = 6  # length of the prediction window after the cut-off (the holdout)\n'
         'n_train_windows = 6  # training snapshots for the hybrid model, one a month before the cut-off\n'
         'train_stride_months = 1  # months between training snapshots\n')


def md(text): return {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n")}
def code(text, tags=("remove-input",)):
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": text.strip("\n"), "outputs": [],
            "execution_count": None}


def notebook(cells):
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}


NB = {}
NB["00_inventory"] = [
    md("""# 00 · Data inventory
What the dataset holds before anything is cleaned. For the Kaggle files: every expected CSV with its size, row
count, columns, types, nulls, date ranges (a column counts as a date only when its values parse as dates, so numeric
IDs and zip codes are never dates) and whether its key is unique; a missing expected file or an unexpected schema is
flagged. For your own data (a dataset spec): the tables the spec declares, the columns it names, and their ranges."""),
    code(WS, ("parameters",)),
    code(SETUP + """from clvlib.data.datasets import dataset_inventory
from clvlib.data.inventory import inventory_flags, inventory_tables
from clvlib.pipeline.context import open_stage
ctx = open_stage("00", workspace, params=dict())"""),
    md("## Files found"),
    code("""inv = dataset_inventory(ctx.spec, ctx.raw_files, ctx.source.raw_dir)
ctx.save("inventory", inv)
tables = inventory_tables(inv)
tables["files"]"""),
    code("""display(Markdown("### Flags\\n" + inventory_flags(inv, tables["files"])))"""),
    md("## Date columns\nEvery date column with its range: the period the orders cover, and the event log's own period."),
    code('tables["dates"]'),
    md("## Columns with nulls\nColumns not listed have no nulls. The full list of columns and types is in `data/inventory.json`."),
    code('tables["nulls"]'),
    md("## Keys"),
    code('tables["keys"]'),
    code("""ctx.finish({"files found": len(inv["tables"]), "files missing": len(inv["missing_files"]),
            "orders rows": inv["tables"].get("orders", {}).get("rows"),
            "files with problems": int((tables["files"]["problems"] != "none").sum())})"""),
]
NB["01_clean_transactions"] = [
    md("""# 01 · Clean transactions
Turns the orders into **one row per person**. For your own data (a dataset spec) the spec says which column is the
person, the time and the value, and which statuses count (`keep_statuses`); every row removed is counted below. The
rest of this introduction is about the Kaggle Olist files, whose orders, customers and payments are joined here. In Olist the person is
`customer_unique_id`; `customer_id` is issued anew for every order, so counting `customer_id` would make
everyone a one-time buyer.

**Order value** = the sum of the order's payments (`olist_order_payments_dataset.csv`); item price + freight is
the alternative (`value_source = "items"`), and the two are compared below.
**Analysis date**: by default the end of the last complete month; September and October 2018 hold only a
handful of orders (the export was cut mid-month) and would distort recency.

**Status filter and time.** `order_statuses` keeps, by default, delivered orders: the status is the one in the export
(October 2018), so an order placed before a later cut-off and cancelled after it is already gone. On Olist that is
about 3.5% of the orders before 2018-02-28. The model stage's reference figures share this convention;
`order_statuses = None` keeps every order."""),
    code(WS + """order_statuses = ["delivered"]  # order statuses that count as a sale; None keeps all
analysis_date = None  # last day included, "YYYY-MM-DD"; None: the end of the last complete month
value_source = "payments"  # "payments" (sum of payments) or "items" (price + freight)""", ("parameters",)),
    code(SETUP + """from clvlib.data.datasets import clean_orders
from clvlib.data.transactions import customer_summary
from clvlib.pipeline.context import open_stage
from clvlib.report import figures
ctx = open_stage("01", workspace, params=dict(order_statuses=order_statuses, analysis_date=analysis_date,
                                              value_source=value_source))"""),
    code("""result = clean_orders(ctx.spec, ctx.raw_files, statuses=order_statuses, analysis_date=analysis_date,
                      value_source=value_source)
orders, drop_log, used_date = result.orders, result.log, result.analysis_date
display(Markdown(f"Analysis date: **{used_date.date()}** "
                 f"({'chosen automatically: end of the last complete month' if analysis_date is None else 'set by parameter'}). "
                 + result.status_text))"""),
    md("## Drop log\nEvery row removed, at which step and why."),
    code("drop_log.to_frame().style.hide(axis='index')"),
    md("## What an order is worth"),
    code("display(Markdown(result.value_text))"),
    code("figures.monthly_orders(result.all_timestamps, used_date, 'All orders per month (every status)')"),
    code("""summary = customer_summary(orders, used_date)
one_time = (summary["frequency"] == 1).mean()
display(Markdown(f"**{len(summary):,} people** placed {len(orders):,} kept orders; **{one_time:.1%} bought once**. "
                 f"Median order value {orders['order_value'].median():,.2f} {ctx.currency}, "
                 f"mean {orders['order_value'].mean():,.2f} {ctx.currency}."))
figures.orders_per_person(summary["frequency"])"""),
    code("figures.value_distribution(orders['order_value'])"),
    md("## The customer table\nFirst rows, and a summary of every column:"),
    code("summary.head().style.format(precision=2).hide(axis='index')"),
    code("summary.describe().T"),
    code("""ctx.save("customers", summary)
ctx.save("orders", orders)
ctx.finish({"people": len(summary), "orders kept": len(orders), "one-time buyers": f"{one_time:.1%}",
            "analysis date": str(used_date.date())})"""),
]
NB["02_clean_clickstream"] = [
    md("""# 02 · Clean clickstream
One row per event-log user: events, sessions, page and product views, add-to-cart, purchases, clicks, logins,
purchase amounts, conversion rate (sessions with a purchase / sessions, so it lies in [0, 1]), cart rate,
events per session, active days and recency. All computed with vectorised pandas."""),
    code(WS + """events_end = None  # drop events after this date ("YYYY-MM-DD"); None keeps all
reference_date = None  # recency is measured to the end of this day; None: the day of the last event""", ("parameters",)),
    code(SETUP + """from clvlib.data.clickstream import clickstream_facts
from clvlib.data.datasets import clean_events_of, event_users
from clvlib.pipeline.context import open_stage
from clvlib.report import figures
ctx = open_stage("02", workspace, params=dict(events_end=events_end, reference_date=reference_date))"""),
    code("""cleaned = clean_events_of(ctx.spec, ctx.raw_files, end=events_end)
events = cleaned.events
if not cleaned.has_events:
    display(Markdown("**This dataset has no event log** (its spec has no `[events]`): there is no behaviour to clean. "
                     "The later stages use the transactions alone."))
cleaned.log"""),
    md("## What this dataset is\nThe event-type shares and how events are spread in time:"),
    code("figures.event_shares(events['EventType']) if cleaned.has_events else None"),
    code("figures.event_timeline(events['Timestamp']) if cleaned.has_events else None"),
    code("""users = event_users(cleaned, reference_date=reference_date)
facts = clickstream_facts(events, users) if cleaned.has_events else {"text": "No events.", "period": "none", "kaggle_note": ""}
display(Markdown(facts["text"] + ("\\n\\n" + facts["kaggle_note"] if ctx.spec.layout == "olist" else "")))"""),
    md("## Per-user features\nFirst rows and a summary of every column. `mean_purchase_amount` is missing (not 0) for a user who never purchased."),
    code("users.head()"),
    code("users.describe().T"),
    code("""ctx.save("click_users", users)
ctx.save("events", events)
ctx.finish({"users": len(users), "events kept": len(events), "period": facts["period"],
            "mean conversion rate": round(float(users["conversion_rate"].mean()), 3)})"""),
]
NB["03_user_mapping"] = [
    md("""# 03 · User mapping
Links customers to clickstream users so later stages can combine both feature sets. It builds every link the
models use: for each method in `link_methods` (plus the real key when the data has one) and for each snapshot
cut-off (the cut-off and the training cuts before it), each from data dated on or before its own cut.

**The method matters more than anything else in this project.** The Kaggle Olist and clickstream datasets share
no key, no period and no signal. On them a link can only be made up:
- `rank` (the original method): order customers and users by an activity score and pair them rank by rank.
  This *creates* a correlation between Olist activity and clickstream activity by construction.
- `random`: the placebo. The same customers, paired with a seeded random permutation of the same users. Whatever
  the rank link shows beyond the random link is manufactured.
- `key`: a real shared identifier, for data that has one (the demo data does)."""),
    code(WS + SPLIT + """link_methods = ["rank", "random"]  # synthetic links to build ("key" is added when the data has a real key)
seed = 42  # seed of the random placebo (and of every random step of the model stage)""", ("parameters",)),
    code(SETUP + """from clvlib.data.datasets import link_key
from clvlib.features.snapshots import build_links, link_report, methods_for, snapshot_cuts
from clvlib.features.temporal import window
from clvlib.pipeline.context import open_stage
from clvlib.report import figures
from clvlib.report.display import link_caveat, links_text
ctx = open_stage("03", workspace, params=dict(cutoff=cutoff, horizon_months=horizon_months, n_train_windows=n_train_windows,
                                              train_stride_months=train_stride_months, link_methods=link_methods, seed=seed))"""),
    code("""orders, events = ctx.load("orders"), ctx.load("events")
key, key_path = link_key(ctx.spec, ctx.source.raw_dir)
w = window(cutoff, horizon_months, n_train_windows, train_stride_months)
methods = methods_for(link_methods, has_key=key is not None)
links, info = build_links(orders, events, snapshot_cuts(w), methods, seed=seed, key=key)
at_cut = [i for i in info if i["cutoff"] == str(w["cut"].date())]
display(Markdown(links_text(at_cut, key_path)))
display(link_caveat(methods))"""),
    md("## Placebo check: what does each link correlate?\nSpearman correlations across linked pairs between a customer's activity (up to the cut-off) and their linked user's clickstream activity, for every method:"),
    code("""placebo, linked = link_report(orders, events, links, w["cut"])
placebo.round(3)"""),
    code("""figures.link_scatter(linked, "total_spent", "total_purchase_amount", "spend to cut-off (BRL)",
                     "linked user's clickstream purchase amount")"""),
    code("display(Markdown(links_text(at_cut, key_path, placebo=placebo)))"),
    code("""ctx.save("links", links)
ctx.save("links_info", {"cutoff": str(w["cut"].date()), "methods": methods, "real_key": key is not None, "snapshots": info})
first = at_cut[0]
ctx.finish({"methods": ", ".join(methods), "linked customers at cut-off": first["mapped"],
            "coverage": f"{first['coverage']:.1%}", "synthetic link": any(m != "key" for m in methods)})"""),
]
NB["04_hybrid_features"] = [
    md("""# 04 · Hybrid features
The features the models use, for every snapshot cut-off (the cut-off and the training cuts before it), each from
data dated on or before its own cut: every person's RFM and Olist behaviour (reviews created by then, deliveries
completed by then, installments, payment type, category, state), and, per link method of stage 03, the linked
user's clickstream features. Missing values are left missing (a customer without a linked user has no clickstream
features, not zero activity); the models handle them natively."""),
    code(WS + SPLIT, ("parameters",)),
    code(SETUP + """from clvlib.features.hybrid import missing_report
from clvlib.features.snapshots import build_click_snapshots, build_snapshots, linked_at_cut, snapshot_cuts, snapshot_summary
from clvlib.features.temporal import window
from clvlib.pipeline.context import open_stage
from clvlib.report.display import link_caveat
ctx = open_stage("04", workspace, params=dict(cutoff=cutoff, horizon_months=horizon_months, n_train_windows=n_train_windows,
                                              train_stride_months=train_stride_months))"""),
    code("""orders, events, links, info = ctx.load("orders"), ctx.load("events"), ctx.load("links"), ctx.load("links_info")
w = window(cutoff, horizon_months, n_train_windows, train_stride_months)
snaps = build_snapshots(orders, snapshot_cuts(w))
clicks = build_click_snapshots(orders, events, links, snapshot_cuts(w))
display(link_caveat(info["methods"]))
snapshot_summary(snaps, clicks)"""),
    md("## Linked customers at the cut-off\nBoth feature sets side by side for the customers linked by the first method, with cross ratios: spend per clickstream event, orders per session, spend / clickstream purchase amount. Missing values per column:"),
    code("""method = "key" if info["real_key"] else info["methods"][0]
hybrid, customers = linked_at_cut(orders, events, links, w["cut"], method)
display(Markdown(f"Method **{method}**: **{len(hybrid):,} linked customers** of {len(customers):,} who had bought by {w['cut'].date()}."))
report = missing_report(hybrid)
report[(report["missing"] > 0) | report["column"].isin(["spend_per_event", "orders_per_session"])]"""),
    md("## Correlations between the two sides\nSpearman correlations across linked customers. Through a synthetic link these reflect the mapping method, not the customers (see stage 03's placebo check)."),
    code("""hybrid[["frequency", "total_spent", "recency_days", "click_total_events", "click_total_purchase_amount",
        "click_conversion_rate", "click_recency_days", "spend_per_event", "orders_per_session"]].corr(method="spearman").round(2)"""),
    code("""ctx.save("snapshots", snaps)
ctx.save("click_snapshots", clicks)
ctx.finish({"snapshots": int(snaps["cut"].nunique()), "people at cut-off": int((snaps["cut"] == w["cut"]).sum()),
            "links": ", ".join(info["methods"]), "linked at cut-off": len(hybrid)})"""),
]
NB["05_clv_models"] = [
    md("""# 05 · CLV models
Predicts what each customer will spend over the next `horizon_months` after a cut-off date, with
**buy-till-you-die baselines** (BG/NBD and Pareto/NBD for the number of purchases, Gamma-Gamma for spend, fitted
with pymc-marketing) and a **hybrid gradient-boosting model** (P(buys again) x expected spend, scikit-learn).

**No peeking.** Every feature comes from stage 04's snapshots, each built from data dated on or before its cut.
The hybrid model is trained on the earlier snapshots, whose label windows all end by the cut-off. The holdout
after the cut-off is not read here at all: the evaluation stage (06) is the first to look at it."""),
    code(WS + SPLIT + """fit_method = "map"  # "map" (fast point estimate) or "mcmc" (full posterior with credible intervals; slow)
lifetime_months = 24  # horizon of the discounted lifetime value
annual_discount_rate = 0.10  # discount rate of the lifetime value
seed = 42  # seed of every random step""", ("parameters",)),
    code(SETUP + """from clvlib.features.snapshots import snapshot
from clvlib.features.temporal import window
from clvlib.models import btyd
from clvlib.models.baselines import fit_btyd_baselines, model_meta
from clvlib.models.hybrid import fit_score_snapshots, variant_table, variants_for
from clvlib.models.predictions import predictions_table, scores_table, segment_summary
from clvlib.models.scores import primary_hybrid
from clvlib.pipeline.context import open_stage
from clvlib.report.display import callout, convergence_warning, link_caveat, split_text
from clvlib.report.summaries import btyd_parameter_reading
ctx = open_stage("05", workspace, params=dict(cutoff=cutoff, horizon_months=horizon_months, n_train_windows=n_train_windows,
                 train_stride_months=train_stride_months, fit_method=fit_method, lifetime_months=lifetime_months,
                 annual_discount_rate=annual_discount_rate, seed=seed))"""),
    code("""orders, snaps, clicks, links = ctx.load("orders"), ctx.load("snapshots"), ctx.load("click_snapshots"), ctx.load("links_info")
w = window(cutoff, horizon_months, n_train_windows, train_stride_months)
features = snapshot(snaps, w["cut"])
display(Markdown(split_text(w, features)))"""),
    md("## Buy-till-you-die baselines\nBG/NBD and Pareto/NBD model each person's purchase rate and the chance they have silently left; Gamma-Gamma models the value of their orders (fitted on repeat customers; a one-time buyer gets the population mean). Fitted with pymc-marketing; parameters below."),
    code("""fitted, predictions, params = fit_btyd_baselines(features, w, fit_method=fit_method, seed=seed,
                                                 annual_discount_rate=annual_discount_rate, lifetime_months=lifetime_months)
display(Markdown(btyd_parameter_reading(params)))
if fit_method == "mcmc":
    display(convergence_warning(params), params.round(4))
params.pivot(index="parameter", columns="fit", values="estimate").round(4)"""),
    code("btyd.plot_repeat_purchases(features, fitted['bgnbd'])"),
    code("btyd.plot_p_alive_matrix(fitted['bgnbd'])"),
    md("## Hybrid model\nA two-part gradient-boosting model: P(buys in the window) x expected spend if they buy. It is compared across feature sets: RFM only; RFM plus Olist behaviour (review scores, delivery delay against the estimate, installments, payment type, category, state); and those plus clickstream features through each link of stage 03."),
    code("""variants = variants_for(has_key=links["real_key"], methods=tuple(m for m in links["methods"] if m != "key"))
at_cut = {i["method"]: i for i in links["snapshots"] if i["cutoff"] == links["cutoff"]}
hybrid_scores, hybrid_info = fit_score_snapshots(snaps, clicks, orders, w, variants, seed=seed, progress=print, link_info=at_cut)
display(link_caveat(links["methods"]))
variant_table(hybrid_info)"""),
    md("## Predictions\nOne row per customer. `predicted_value` is BG/NBD x Gamma-Gamma over the window; `predicted_value_hybrid` is the hybrid model with the feature set chosen before evaluation (the real key when the data has one, else RFM + Olist behaviour: a synthetic link is never the default). Deciles and segments rank customers by the hybrid prediction."),
    code("""primary = primary_hybrid(links["real_key"])
clv_predictions = predictions_table(predictions, hybrid_scores, primary)
display(Markdown("The ten customers with the highest hybrid prediction:"))
clv_predictions.nlargest(10, "predicted_value_hybrid").drop(columns=["clv_lifetime", "predicted_value_pnbd", "p_buy_hybrid"]).round(3).style.hide(axis="index")"""),
    code("segment_summary(clv_predictions).round(3)"),
    code("""ctx.save("predictions", clv_predictions)
ctx.save("scores", scores_table(features, clv_predictions, hybrid_scores))
ctx.save("model_params", model_meta(w, primary, fit_method, fitted, hybrid_info))
ctx.finish({"population": len(features), "cut-off": str(w["cut"].date()), "horizon (days)": (w["holdout_end"] - w["cut"]).days,
            "predicted revenue BG/NBD (BRL)": round(float(clv_predictions["predicted_value"].sum())),
            "predicted revenue hybrid (BRL)": round(float(clv_predictions["predicted_value_hybrid"].sum()))})"""),
]
NB["06_evaluate"] = [
    md("""# 06 · Evaluation
How well did each model rank and size customers' spend in the holdout window that stage 05 never saw?

Measures, for each model: **normalized Gini** (how well the ranking concentrates revenue, as a share of a perfect
ranking; Wang, Liu & Miao 2019), **Spearman** correlation, the **share of holdout revenue captured by the top 10% and
top 1%** of scores, **ROC-AUC and PR-AUC** for "buys again", a **decile chart** and **total predicted vs actual revenue**.
95% intervals come from 1,000 bootstrap resamples of customers; each model's difference from BG/NBD x Gamma-Gamma
is bootstrapped on the same resamples (paired)."""),
    code(WS + """n_boot = 1000  # bootstrap resamples
bootstrap_seed = 0  # seed of the bootstrap resamples""", ("parameters",)),
    code(SETUP + """from clvlib.evaluation.bootstrap import bootstrap
from clvlib.evaluation.holdout import holdout_scores
from clvlib.evaluation.metrics import decile_table
from clvlib.evaluation.recommend import recommend
from clvlib.evaluation.summary import ceiling_shares, metrics_record, metrics_table, placebo_table
from clvlib.models import btyd
from clvlib.models.scores import BASELINE, TRUTH, model_label
from clvlib.pipeline.context import open_stage
from clvlib.report import figures
from clvlib.report.display import callout, holdout_text, placebo_caveat
from clvlib.report.summaries import marketer_summary
ctx = open_stage("06", workspace, params=dict(n_boot=n_boot, bootstrap_seed=bootstrap_seed))"""),
    code("""scores, preds, meta, orders = ctx.load("scores"), ctx.load("predictions"), ctx.load("model_params"), ctx.load("orders")
y, S = holdout_scores(orders, scores, meta, truth_dir=ctx.truth_dir)
display(Markdown(holdout_text(y, meta, orders)))
if (y > 0).sum() < 100:
    display(callout(f"Only {int((y > 0).sum())} people bought in the holdout: every figure below is noisy and the intervals are wide.", kind="warning"))"""),
    md("## For a marketer"),
    code("""boot = bootstrap(y, {c: S[c].to_numpy() for c in S.columns}, n_boot=n_boot, seed=bootstrap_seed, baseline=BASELINE)
table = metrics_table(y, S, boot)
placebo = placebo_table(table)
display(Markdown(marketer_summary(table, recommend(table), placebo, buyers_share=float((y > 0).mean()),
                                  horizon_days=meta["horizon_days"])))"""),
    md("## All models at a glance\n**Ranking**: normalized Gini with its 95% bootstrap interval, and the paired difference from BG/NBD x Gamma-Gamma. `diff_vs_bgnbd` is the model's normalized Gini minus BG/NBD x Gamma-Gamma's on the same resamples; `p_le_0` is the share of resamples in which the model did *not* beat it."),
    code("""table[["name", "normalized_gini", "gini_low", "gini_high", "diff_vs_bgnbd", "diff_low", "diff_high", "p_le_0"]].style.format(precision=3, na_rep="(baseline)").hide(axis="index")"""),
    md("**Targeting and size**: Spearman, revenue captured by the top 10% and 1% of scores, ROC-AUC and PR-AUC for 'buys again', and total predicted against actual revenue (`ratio`, 1.0 = the totals agree; calibration spend is a score, not a forecast, so its ratio is not meaningful)."),
    code("""other = table[["name", "spearman", "top10_share", "top1_share", "roc_auc", "pr_auc", "total_predicted", "ratio"]]
other.style.format({c: "{:.3f}" for c in other.columns if c not in ("name", "total_predicted")} | {"total_predicted": "{:,.0f}"}).hide(axis="index")"""),
    code("""ceiling = float(table.set_index("model").loc[TRUTH, "normalized_gini"]) if TRUTH in S.columns else None
figures.plot_intervals(table, ceiling)"""),
    code("""figures.plot_lorenz(y, S, ["calibration_spend", "btyd:bgnbd", "btyd:pnbd", meta["primary_hybrid"]] + ([TRUTH] if ceiling else []))"""),
    md("## BG/NBD: expected against actual purchases\nLeft, the calibration period: how many people made 0, 1, 2, ... repeat purchases, against populations simulated from the fitted model. Right, the holdout: the average number of purchases in the holdout, actual and predicted, for people grouped by their calibration repeat purchases."),
    code("""cal = btyd.calibration_holdout_summary(orders, "customer_unique_id", "order_purchase_timestamp", "order_value",
                                       calibration_end=meta["cutoff"], holdout_end=meta["holdout_end"])
btyd.plot_repeat_purchases(cal, btyd.BTYDModel.from_dict(meta["btyd"]["bgnbd"]), holdout_frequency=cal["holdout_frequency"])"""),
    md("## Deciles: predicted against actual\nCustomers are put into ten equal groups by the rank of their prediction (ties split by rank). Errors are shown relative to the overall mean spend."),
    code('figures.plot_deciles(y, S["btyd:bgnbd"].to_numpy(), model_label("btyd:bgnbd"))'),
    code('figures.plot_deciles(y, S[meta["primary_hybrid"]].to_numpy(), model_label(meta["primary_hybrid"]))'),
    code('decile_table(y, S[meta["primary_hybrid"]].to_numpy()).round(3)'),
    md("## The clickstream placebo\nThe same hybrid model with and without clickstream features, for every link. A rank link between unrelated datasets carries the customer's own activity rank into the 'clickstream' columns, so whatever it appears to add beyond the random link is an artefact."),
    code("display(placebo.round(3), placebo_caveat(placebo))"),
    code("""if ceiling is not None:
    display(Markdown(f"**Demo only: the ceiling.** Ranking customers by their hidden true expected value gives a normalized Gini of **{ceiling:.3f}**."))
    display(ceiling_shares(table).round(3))"""),
    code("""deciles = {c: decile_table(y, S[c].to_numpy()) for c in (BASELINE, meta["primary_hybrid"])}
ctx.save("metrics", metrics_record(holdout_start=meta["cutoff"], holdout_end=meta["holdout_end"], y_true=y, n_boot=n_boot,
                                   seed=bootstrap_seed, demo=ctx.demo, table=table, boot=boot, placebo=placebo,
                                   ceiling=ceiling, deciles=deciles))
bg, h = table.set_index("model").loc[BASELINE], table.set_index("model").loc[meta["primary_hybrid"]]
ctx.finish({"holdout buyers": f"{(y > 0).mean():.2%}", "Gini BG/NBD": f"{bg['normalized_gini']:.3f} [{bg['gini_low']:.2f}, {bg['gini_high']:.2f}]",
            "Gini hybrid": f"{h['normalized_gini']:.3f} [{h['gini_low']:.2f}, {h['gini_high']:.2f}]",
            "Gini calibration spend": f"{table.set_index('model').loc['calibration_spend', 'normalized_gini']:.3f}",
            "ROC-AUC BG/NBD": round(float(bg["roc_auc"]), 3)})"""),
]


def main() -> None:
    for name, cells in NB.items():
        for i, cell in enumerate(cells):
            cell["id"] = f"{name[:2]}-{i:02d}"
        path = ROOT / "notebooks" / f"{name}.ipynb"
        path.write_text(json.dumps(notebook(cells), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print("wrote", path)


if __name__ == "__main__":
    main()
