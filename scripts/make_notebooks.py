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

from clvlib.report.tables import show_table

pd.set_option("display.max_columns", 40)
pd.set_option("display.precision", 3)
"""
WS = 'workspace = None  # workspace folder; None: the most recent run\'s (else the demo); run_all sets it\n'
SPLIT = ('cutoff = None  # the holdout evaluation\'s cut-off (the latest backtest), "YYYY-MM-DD"; None: the analysis date minus the horizon\n'
         'horizon_months = 6  # length of the prediction window after each cut-off (the holdout, the forecast)\n'
         'n_train_windows = 6  # training snapshots for the hybrid model, one a month before each cut-off\n'
         'train_stride_months = 1  # months between training snapshots\n'
         'recent_windows = True  # also train on the snapshots after the last full label window, their labels cut short at the cut-off\n'
         'n_backtests = 4  # backtest cut-offs, the latest at the cut-off; the earlier ones choose the model\n'
         'backtest_stride_months = 1  # months between backtest cut-offs\n')
PLAN_PARAMS = ("cutoff=cutoff, horizon_months=horizon_months, n_train_windows=n_train_windows, "
               "train_stride_months=train_stride_months, recent_windows=recent_windows, n_backtests=n_backtests, "
               "backtest_stride_months=backtest_stride_months")
PLAN = ('span = ctx.load("orders_info")  # the analysis date and the first day of data\n'
        'p = plan(cutoff, span["analysis_date"], horizon_months, n_train_windows, train_stride_months, '
        'n_backtests, backtest_stride_months, data_start=span["first_order"], recent_windows=recent_windows)\n'
        'w = p["backtests"][0]  # the holdout evaluation: the latest backtest\n')


def md(text): return {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n")}
def code(text, tags=("remove-input",)):
    return {"cell_type": "code", "metadata": {"tags": list(tags)}, "source": text.strip("\n"), "outputs": [],
            "execution_count": None}


def md_if(condition, text):
    """A heading and its text shown only when ``condition`` (a Python expression of the notebook) holds."""
    return code(f"display(Markdown({text.strip(chr(10))!r})) if {condition} else None")


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
show_table(tables["files"], headers={"MB": "size (MB)", "null cells": "missing cells"}, max_rows=40,
           caption="One row per file. key unique: — when the table has no key to check.")"""),
    code("""display(Markdown("### Flags\\n" + inventory_flags(inv, tables["files"])))"""),
    md("## Date columns\nEvery date column with its range: the period the orders cover, and the event log's own period."),
    code('show_table(tables["dates"], headers={"min": "first", "max": "last", "unparsed": "values that are not dates"}, max_rows=40)'),
    md("## Columns with nulls\nColumns not listed have no nulls. The full list of columns and types is in `data/inventory.json`."),
    code('show_table(tables["nulls"], headers={"name": "column", "dtype": "type", "nulls": "missing values"}, max_rows=40)'),
    md("## Keys"),
    code('show_table(tables["keys"], headers={"unique": "key unique", "duplicate rows": "rows with a repeated key"}, max_rows=40)'),
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
    code("""show_table(drop_log.to_frame(), headers={"rows_before": "rows before", "rows_after": "rows after", "removed": "rows removed"})"""),
    md("## What an order is worth"),
    code("display(Markdown(result.value_text))"),
    code("figures.monthly_orders(result.all_timestamps, used_date, 'All orders per month (every status)')"),
    md("*What to look for:* growth and seasonal peaks; months in grey fall after the analysis date and are left out (an export cut mid-month shows as a sudden drop)."),
    code("""summary = customer_summary(orders, used_date)
one_time = (summary["frequency"] == 1).mean()
display(Markdown(f"**{len(summary):,} people** placed {len(orders):,} kept orders; **{one_time:.1%} bought once**. "
                 f"Median order value {orders['order_value'].median():,.2f} {ctx.currency}, "
                 f"mean {orders['order_value'].mean():,.2f} {ctx.currency}."))
figures.orders_per_person(summary["frequency"])"""),
    md("*What to look for:* the bar at 1 order against the rest (log scale): the fewer people order twice, the less any model can learn about who comes back."),
    code("figures.value_distribution(orders['order_value'], label=f'order value ({ctx.currency})')"),
    md("*What to look for:* the spread of order values (log scale) and how far the mean sits above the median: a few large orders pull the mean up."),
    md("## The customer table\nFirst rows, and a summary of every column:"),
    code("""show_table(summary.head(), headers={"total_spent": f"total_spent ({ctx.currency})", "avg_order_value": f"avg_order_value ({ctx.currency})"})"""),
    code("""show_table(summary.describe().T.rename_axis("column").rename(index={"total_spent": f"total_spent ({ctx.currency})",
                                                                       "avg_order_value": f"avg_order_value ({ctx.currency})"}),
           index=True, headers={"count": "values", "50%": "median"}, max_rows=60)"""),
    code("""ctx.save("customers", summary)
ctx.save("orders", orders)
ctx.save("orders_info", {"analysis_date": str(used_date.date()), "first_order": str(orders["order_purchase_timestamp"].min().date()),
                         "last_order": str(orders["order_purchase_timestamp"].max().date())})
ctx.finish({"people": len(summary), "orders kept": len(orders), "one-time buyers": f"{one_time:.1%}",
            "analysis date": str(used_date.date())})"""),
]
NB["02_clean_clickstream"] = [
    md("""# 02 · Clean clickstream
One row per event-log user: events, sessions, page and product views, add-to-cart, purchases, clicks, logins,
purchase amounts, conversion rate (sessions with a purchase / sessions, so it lies in [0, 1]), cart rate,
events per session, active days and recency. A dataset spec's event files are read and cleaned inside DuckDB (the
Kaggle clickstream, and any input with a problem, go through pandas, whose messages name the lines); the per-user table is one SQL query, run by
DuckDB or, with `--engine spark`, by Spark."""),
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
show_table(cleaned.log, headers={"rows_before": "rows before", "rows_after": "rows after", "removed": "rows removed"})"""),
    md("## What this dataset is\nThe event-type shares and how events are spread in time:"),
    code("figures.event_shares(events['EventType']) if cleaned.has_events else None"),
    code("""display(Markdown("*What to look for:* in observed behaviour views far outnumber carts, and carts outnumber purchases; "
                 "near-equal shares are a sign of generated data.")) if cleaned.has_events else None"""),
    code("figures.event_timeline(events['Timestamp']) if cleaned.has_events else None"),
    code("""display(Markdown("*What to look for:* the period the events cover, growth and peaks over it, and fewer events at night; "
                 "a flat profile is a sign of generated data.")) if cleaned.has_events else None"""),
    code("""users = event_users(cleaned, reference_date=reference_date)
facts = clickstream_facts(events, users) if cleaned.has_events else {"text": "No events.", "period": "none", "note": ""}
display(Markdown(facts["text"] + ("\\n\\n" + facts["note"] if facts["note"] else "")))"""),
    md_if("cleaned.has_events", "## Per-user features\nFirst rows and a summary of every column. `mean_purchase_amount` is missing (not 0) for a user who never purchased."),
    code("""show_table(users.head(), transpose=True, label="UserID", caption="The first five users, one column each (headed by UserID).") if cleaned.has_events else None"""),
    code("""show_table(users.drop(columns=["UserID"]).describe().T.rename_axis("column"), index=True, headers={"count": "values", "50%": "median"}, max_rows=60) if cleaned.has_events else None"""),
    code("""ctx.save("click_users", users)
ctx.save("events", events)
ctx.finish({"users": len(users), "events kept": len(events), "period": facts["period"],
            "mean conversion rate": round(float(users["conversion_rate"].mean()), 3)})"""),
]
NB["03_user_mapping"] = [
    md("""# 03 · User mapping
Links customers to clickstream users so later stages can combine both feature sets. It builds every link the
models use: for each method in `link_methods` (plus the real key when the data has one) and for each snapshot
cut-off (the analysis date where the forecast starts, every backtest cut-off and the training cuts before each), each from data dated on or before its own cut.

**The method matters more than anything else in this project.** Without a key shared by customers and clickstream
users, a link can only be made up:
- `rank` (the original method): order customers and users by an activity score and pair them rank by rank.
  This *creates* a correlation between order activity and clickstream activity by construction.
- `random`: the placebo. The same customers, paired with a seeded random permutation of the same users. Whatever
  the rank link shows beyond the random link is manufactured.
- `key`: a real shared identifier, for data that has one.

The box below says which of these this data has."""),
    code(WS + SPLIT + """link_methods = ["rank", "random"]  # synthetic links to build ("key" is added when the data has a real key)
seed = 42  # seed of the random placebo (and of every random step of the model stage)""", ("parameters",)),
    code(SETUP + """from clvlib.data.datasets import link_key
from clvlib.features.links import no_links
from clvlib.features.snapshots import link_parts, link_report, methods_for, snapshot_cuts
from clvlib.features.temporal import plan
from clvlib.io import ParquetTable
from clvlib.pipeline.context import open_stage
from clvlib.report import figures
from clvlib.report.display import link_caveat, links_text
ctx = open_stage("03", workspace, params=dict(""" + PLAN_PARAMS + """, link_methods=link_methods, seed=seed))"""),
    code("""orders, events = ctx.load("orders"), ctx.load("events")
has_events = len(events) > 0
key, key_path = link_key(ctx.spec, ctx.source.raw_dir) if has_events else (None, None)
""" + PLAN + """methods = methods_for(link_methods, has_key=key is not None) if has_events else []
parts, info = link_parts(orders, events, snapshot_cuts(p), methods, seed=seed, key=key) if has_events else (iter([no_links()]), [])
links = ParquetTable(ctx.save("links", parts))  # written one (cut, method) at a time; info is complete once written
ctx.save("links_info", {"cutoff": str(w["cut"].date()), "methods": methods, "real_key": key is not None, "snapshots": info})
at_cut = [i for i in info if i["cutoff"] == str(w["cut"].date())]
if has_events:
    display(Markdown(links_text(at_cut, key_path)))
    display(link_caveat(methods, periods_overlap=at_cut[0]["clickstream_cut_applied"]))
else:
    display(Markdown("**This dataset has no event log**, so there is nothing to link: the models use the transactions alone."))"""),
    md_if("has_events", "## Placebo check: what does each link correlate?\nSpearman correlations across linked pairs between a customer's activity (up to the cut-off) and their linked user's clickstream activity, for every method:"),
    code("""placebo, linked = link_report(orders, events, links, w["cut"]) if has_events else (None, None)
show_table(placebo, index=True, headers={"customer_measure": "customer's (orders)", "user_measure": "linked user's (clickstream)"},
           caption="Spearman correlation across linked pairs, one column per link method (+1: rise together; 0: unrelated).") if has_events else None"""),
    code("""figures.link_scatter(linked, "total_spent", "total_purchase_amount", f"spend to cut-off ({ctx.currency})",
                     f"linked user's clickstream purchase amount ({ctx.currency if key is not None else 'the event log’s own unit'})") if has_events else None"""),
    code("""display(Markdown("*What to look for:* the random panel is the placebo, with no pattern; whatever the rank panel shows "
                 "beyond it is made by the pairing. A key panel, when the data has a real key, shows what the two sides really "
                 "share. Users who never purchased sit on the bottom line (0).")) if has_events else None"""),
    code("display(Markdown(links_text(at_cut, key_path, placebo=placebo))) if has_events else None"),
    code("""first = at_cut[0] if at_cut else {"mapped": 0, "coverage": 0.0}
ctx.finish({"methods": ", ".join(methods), "linked customers at cut-off": first["mapped"],
            "coverage": f"{first['coverage']:.1%}", "synthetic links": ", ".join(m for m in methods if m != "key") or "none"})"""),
]
NB["04_hybrid_features"] = [
    md("""# 04 · Hybrid features
The features the models use, for every snapshot cut-off (the analysis date where the forecast starts, every backtest cut-off and the training cuts before each), each from
data dated on or before its own cut: every person's RFM and order details (on Olist: reviews created by then,
deliveries completed by then, installments, payment type, category, state; on your data, those your spec gives),
and, per link method of stage 03, the linked
user's clickstream features. Missing values are left missing (a customer without a linked user has no clickstream
features, not zero activity); the models handle them natively."""),
    code(WS + SPLIT, ("parameters",)),
    code(SETUP + """from clvlib.features.hybrid import missing_report
from clvlib.features.links import no_click_snapshots
from clvlib.features.snapshots import click_snapshot_parts, linked_at_cut, snapshot_cuts, snapshot_parts, snapshot_summary
from clvlib.features.temporal import plan
from clvlib.io import ParquetTable
from clvlib.pipeline.context import open_stage
from clvlib.report import figures
from clvlib.report.display import link_caveat
ctx = open_stage("04", workspace, params=dict(""" + PLAN_PARAMS + """))"""),
    code("""orders, events, info = ctx.load("orders"), ctx.load("events"), ctx.load("links_info")
links = ctx.load("links", lazy=True)  # each cut's links read when its features are built
""" + PLAN + """has_links = len(info["methods"]) > 0
parts = click_snapshot_parts(orders, events, links, snapshot_cuts(p)) if has_links else iter([no_click_snapshots()])
clicks = ParquetTable(ctx.save("click_snapshots", parts))  # written one (cut, method) at a time, read back by slices
snaps = ParquetTable(ctx.save("snapshots", snapshot_parts(orders, snapshot_cuts(p))))  # and one cut at a time
summary = snapshot_summary(snaps, clicks)
at_cut = [i for i in info["snapshots"] if i["cutoff"] == info["cutoff"]]
if has_links:
    display(link_caveat(info["methods"], periods_overlap=at_cut[0]["clickstream_cut_applied"] if at_cut else None))
else:
    display(Markdown("**This dataset has no event log**: the features are the transactions' alone."))
show_table(summary, headers={"cut": "snapshot cut-off", "people": "people who had bought by then",
                                                     "repeat_share": "share who had bought again"},
           caption="One row per snapshot; linked <method>: customers with a clickstream user through that link.")"""),
    md_if("has_links", "## Linked customers at the cut-off\nBoth feature sets side by side for the customers linked by the first method, with cross ratios: spend per clickstream event, orders per session, spend / clickstream purchase amount. Missing values per column:"),
    code("""method = ("key" if info["real_key"] else info["methods"][0]) if has_links else None
hybrid, customers = linked_at_cut(orders, events, links, w["cut"], method) if has_links else (None, None)
if has_links:
    display(Markdown(f"Method **{method}**: **{len(hybrid):,} linked customers** of {len(customers):,} who had bought by {w['cut'].date()}."))
report = missing_report(hybrid) if has_links else None
show_table(report[(report["missing"] > 0) | report["column"].isin(["spend_per_event", "orders_per_session"])],
           headers={"missing": "customers missing it", "share": "share missing", "handling": "how it is handled"}) if has_links else None"""),
    md_if("has_links", "## Correlations between the two sides\nSpearman correlations across linked customers. Through a synthetic link these reflect the mapping method, not the customers (see stage 03's placebo check)."),
    code("""figures.correlation_heatmap(hybrid, {
    "frequency": "orders: purchases", "total_spent": f"orders: spend ({ctx.currency})", "recency_days": "orders: days since last",
    "click_browse_sessions_per_day": "clicks: browsing sessions a day", "click_order_sessions": "clicks: order sessions",
    "click_browse_since_last_purchase": "clicks: browsing since last purchase",
    "click_total_purchase_amount": "clicks: purchase amount", "click_browse_recency_days": "clicks: days since browsing",
    "spend_per_event": f"spend per event ({ctx.currency})", "orders_per_session": "orders per session"},
    f"Spearman correlations across {len(hybrid):,} customers linked by {method}") if has_links else None"""),
    code("""display(Markdown("*What to look for:* the cells between an `orders:` row and a `clicks:` column are what the link connects. "
                 "Through a real key they show how behaviour relates to spend; through a synthetic link they show the pairing "
                 "rule (the rank link pairs by activity, so activity correlates by construction). The cross ratios "
                 "correlate with their own parts by construction.")) if has_links else None"""),
    code("""ctx.finish({"snapshots": len(summary), "people at cut-off": int(summary.set_index("cut").loc[w["cut"].date(), "people"]),
            "links": ", ".join(info["methods"]), "linked at cut-off": len(hybrid) if has_links else 0})"""),
]
NB["05_clv_models"] = [
    md("""# 05 · CLV models and backtests
Predicts what each customer will spend over the next `horizon_months` after a cut-off date, with
**buy-till-you-die baselines** (BG/NBD and Pareto/NBD for the number of purchases, Gamma-Gamma for spend, fitted
with pymc-marketing) and a **hybrid gradient-boosting model** (P(buys again), scikit-learn, x expected spend).
It does so at every **backtest cut-off**: the latest is the holdout evaluation of stage 06, the earlier ones (a month
apart by default) are where stage 06 chooses the model that stage 07 then uses for the forecast.

**No peeking.** At every cut-off each model sees only data dated on or before it: the baselines are fitted on the
snapshot at the cut, the hybrid model is trained on the snapshots before it, whose label windows all end by the
cut. What customers spent after a cut is not read here: the evaluation stage (06) is the first to look at it."""),
    code(WS + SPLIT + """fit_method = "map"  # "map" (fast point estimate) or "mcmc" (full posterior with credible intervals; slow)
lifetime_months = 24  # horizon of the discounted lifetime value
annual_discount_rate = 0.10  # discount rate of the lifetime value
calibrate_buyers = True  # scale the hybrid's P(buy) so its expected buyers match BG/NBD's forecast for the window
seed = 42  # seed of every random step""", ("parameters",)),
    code(SETUP + """from clvlib.features.temporal import plan
from clvlib.models import btyd
from clvlib.models.baselines import model_meta
from clvlib.models.compare import add_intervals, compare_backtests, cut_table, split_record, stack_scores
from clvlib.models.hybrid import variant_table, variants_for
from clvlib.models.predictions import prediction_interval_text, predictions_table, scores_table
from clvlib.models.scores import primary_hybrid
from clvlib.pipeline.context import open_stage
from clvlib.report.display import convergence_warning, link_caveat, split_text
from clvlib.report.notices import captured_warnings
from clvlib.report.summaries import btyd_parameter_reading, uniform_trait_text
ctx = open_stage("05", workspace, params=dict(""" + PLAN_PARAMS + """, fit_method=fit_method, lifetime_months=lifetime_months,
                 annual_discount_rate=annual_discount_rate, calibrate_buyers=calibrate_buyers, seed=seed))"""),
    code("""orders, links = ctx.load("orders"), ctx.load("links_info")
snaps, clicks = ctx.load("snapshots", lazy=True), ctx.load("click_snapshots", lazy=True)  # each snapshot read when a model needs it
""" + PLAN + """variants = variants_for(has_key=links["real_key"], methods=tuple(m for m in links["methods"] if m != "key"))
info_at = {c: {i["method"]: i for i in links["snapshots"] if i["cutoff"] == str(c.date())} for c in p["cuts"]}
options = dict(fit_method=fit_method, seed=seed, annual_discount_rate=annual_discount_rate, lifetime_months=lifetime_months,
               calibrate_buyers=calibrate_buyers)
with captured_warnings("fitting every model at each backtest cut-off") as caught:
    results, skipped = compare_backtests(snaps, clicks, orders, p["backtests"], variants, link_info=info_at, **options)
latest = results[0]  # the holdout evaluation
interval_notes = {m: add_intervals(latest, m, seed=seed) for m in ("bgnbd", "pnbd", "bgnbd+first", "bgnbd+cov") if m in latest.fitted}  # per-customer 90% intervals
display(Markdown(split_text(w, latest.features) + (" " + " ".join(p["notes"]) if p["notes"] else "")))
display(caught.callout({f"{name} predictions": latest.predictions[name][["expected_purchases", "p_alive", "predicted_value"]]
                        for name in latest.predictions} | {"hybrid scores": latest.hybrid_scores.filter(like="hybrid:")}))"""),
    md("## Buy-till-you-die baselines at the cut-off\nBG/NBD and Pareto/NBD model each person's purchase rate and the chance they have silently left; Gamma-Gamma models the value of their orders (fitted on repeat customers; a one-time buyer gets the population mean). BG/NBD x Gamma-Gamma with the first order fits Gamma-Gamma on every purchase day instead, the first included, so a one-time buyer's expected spend lies between their first order's value and the population mean. BG/NBD with covariates lets the purchase rate differ by the customer's region and their first order's category (fixed at the first order, so they never move with later purchases), with the same first-order spend. Fitted with pymc-marketing by maximum likelihood (flat priors: the MAP estimate is the MLE); parameters below."),
    code("""display(Markdown(btyd_parameter_reading(latest.params)), Markdown(uniform_trait_text(latest.params)),
        Markdown("**Per-customer intervals** in `data/clv_predictions.parquet`:\\n\\n" + prediction_interval_text(interval_notes)))
if fit_method == "mcmc":
    display(convergence_warning(latest.params), show_table(latest.params))
cov = latest.fitted.get("bgnbd+cov")
display(Markdown(cov.summary() if cov is not None else " ".join(latest.notes.values())))
show_table(latest.params.pivot(index="parameter", columns="fit", values="estimate"),
           headers={"bgnbd": "BG/NBD x Gamma-Gamma", "pnbd": "Pareto/NBD x Gamma-Gamma", "bgnbd+first": "Gamma-Gamma on every order",
                    "bgnbd+cov": "BG/NBD with covariates"},
           formats={"bgnbd": "{:.4g}", "pnbd": "{:.4g}", "bgnbd+first": "{:.4g}", "bgnbd+cov": "{:.4g}"},
           caption="Fitted parameters (— : not a parameter of that model). BG/NBD with covariates: alpha = alpha_scale x exp(-coefficient) for a customer of that level.")"""),
    code("btyd.plot_repeat_purchases(latest.features, latest.fitted['bgnbd'])"),
    md("*What to look for:* the model's bars should match the actual ones at 0, 1, 2, ... repeat purchases (log scale); a clear gap means BG/NBD does not describe these customers well."),
    code("btyd.plot_p_alive_matrix(latest.fitted['bgnbd'])"),
    md("*What to look for:* P(alive) falls for repeat buyers whose last purchase was long ago (low recency for their age), and faster the more often they bought; under BG/NBD people with no repeat purchase (left column) stay at P(alive) = 1."),
    md("## Hybrid model at the cut-off\nP(buys in the window), learned by gradient boosting, x what a purchase day is expected to be worth: Gamma-Gamma fitted on every order up to the cut-off, the first included (the spend of BG/NBD x Gamma-Gamma with the first order), rather than a spend model learned from the few hundred people who bought in the training windows. It is compared across feature sets: RFM only; RFM plus the orders' own behaviour (review scores, delivery delay against the estimate, installments, payment type, category, state, where the data has them); and those plus clickstream features through each link of stage 03. Each person carries a total weight of 1 across the overlapping training windows. With `recent_windows`, the snapshots of the months between the last full window and the cut-off are trained on too, labelled up to the cut-off (1 to 5 months with the defaults), with the label window's length in months as a feature on which P(buy) may only increase: the latest and largest populations, which full windows would leave out. With `calibrate_buyers`, each variant's P(buy) is then moved by one common shift (in logit space, so the ranking is kept) until its expected number of buyers equals BG/NBD's forecast for the same people and window: the training windows' buy rate need not be the scoring window's."),
    code("""at_cut = info_at[w["cut"]]
display(link_caveat(links["methods"], periods_overlap=next(iter(at_cut.values()))["clickstream_cut_applied"] if at_cut else None))
show_table(variant_table(latest.hybrid_info))"""),
    md("## Backtests: the same comparison at earlier cut-offs\nEvery model is fitted again at each earlier cut-off, each time with the data up to that cut only. Stage 06 measures them against what customers then spent and chooses the model on these earlier cuts; the latest cut (the holdout) then shows how the choice did on data it never saw."),
    code("""display(Markdown("\\n\\n".join(skipped)) if skipped else Markdown(""))
show_table(cut_table(results), caption="One row per backtest cut-off; the first is the holdout evaluation.")"""),
    code("""primary = primary_hybrid(links["real_key"], available=latest.hybrid_scores.columns)
clv_predictions = predictions_table(latest.predictions, latest.hybrid_scores, primary)
meta = model_meta(w, primary, fit_method, latest.fitted, latest.hybrid_info)
meta.update(backtests=[split_record(r.windows) for r in results], forecast=split_record(p["forecast"]), interval_notes=interval_notes,
            analysis_date=str(p["analysis_date"].date()), options=options,
            plan=dict(""" + PLAN_PARAMS + """, analysis_date=str(p["analysis_date"].date()), data_start=span["first_order"]))
ctx.save("predictions", clv_predictions)
ctx.save("scores", scores_table(latest.features, clv_predictions, latest.hybrid_scores))
ctx.save("backtest_scores", stack_scores(results))
ctx.save("model_params", meta)
ctx.finish({"population at cut-off": len(latest.features), "cut-off": str(w["cut"].date()),
            "horizon (days)": meta["horizon_days"], "backtest cut-offs": ", ".join(b["cutoff"] for b in meta["backtests"]),
            "models per cut": 1 + len(latest.predictions) + len(variants)})"""),
]
NB["06_evaluate"] = [
    md("""# 06 · Evaluation
Which model to use, and how well each one ranked and sized customers' spend after each cut-off of stage 05. The
model is chosen on the backtests at the earlier cut-offs; the holdout (the latest cut-off) then shows how that choice
did at a cut-off it did not use (whose window the earlier ones largely share: see the backtests). The answer comes first; the measures behind it follow. Stage 07 uses the chosen model for
the forecast."""),
    code(WS + """n_boot = 1000  # bootstrap resamples
bootstrap_seed = 0  # seed of the bootstrap resamples""", ("parameters",)),
    code(SETUP + """from clvlib.evaluation.backtest import backtest_summary, backtest_table, backtest_text, choice_sentence, holdout_overlap_text, observable_share_text, recommend_by_backtests
from clvlib.evaluation.bootstrap import bootstrap
from clvlib.evaluation.holdout import holdout_scores
from clvlib.evaluation.metrics import decile_table
from clvlib.evaluation.summary import ceiling_shares, metrics_record, metrics_table, placebo_table, top_predicted_revenue
from clvlib.features.temporal import population_features
from clvlib.models import btyd
from clvlib.models.btyd.intervals import coverage_by_buyer_type
from clvlib.models.predictions import clv_table_for, decile_revenue, prediction_interval_text, prediction_intervals, segment_summary
from clvlib.models.scores import BASELINE, OBSERVABLE, TRUTH, btyd_column, click_variant, hybrid_column, model_label
from clvlib.pipeline.context import open_stage
from clvlib.report import backtest as backtest_figures, figures
from clvlib.report.display import callout, holdout_text, placebo_caveat
from clvlib.report.notices import captured_warnings
from clvlib.report.summaries import marketer_facts, marketer_summary
from clvlib.report.tables import clv_formats, clv_headers
from clvlib.schemas import CUSTOMER
ctx = open_stage("06", workspace, params=dict(n_boot=n_boot, bootstrap_seed=bootstrap_seed))"""),
    code("""scores, preds, meta, orders = ctx.load("scores"), ctx.load("predictions"), ctx.load("model_params"), ctx.load("orders")
truth = ctx.truth()  # the demo's hidden traits; None on other data
bt = backtest_table(orders, ctx.load("backtest_scores"), meta["backtests"], truth=truth, raw_dir=ctx.source.raw_dir if truth is not None else None)
selection = [b["cutoff"] for b in meta["backtests"][1:]]  # the earlier cuts choose; the latest is the holdout
rec = recommend_by_backtests(bt, selection)
y, S = holdout_scores(orders, scores, meta, truth=truth, raw_dir=ctx.source.raw_dir)
actual = pd.Series(y, index=scores[CUSTOMER].to_numpy())
display(Markdown(holdout_text(y, meta, orders, currency=ctx.currency)))
if (y > 0).sum() < 100:
    display(callout(f"Only {int((y > 0).sum())} people bought in the holdout: every figure below is noisy and the intervals are wide.", kind="warning"))"""),
    md("## The answer, for a marketer"),
    code("""with captured_warnings("bootstrapping the metrics") as caught:
    boot = bootstrap(y, {c: S[c].to_numpy() for c in S.columns}, n_boot=n_boot, seed=bootstrap_seed, baseline=BASELINE)
table = metrics_table(y, S, boot)
placebo = placebo_table(table)
answer = dict(buyers_share=float((y > 0).mean()), horizon_days=meta["horizon_days"],
              top10_predicted=top_predicted_revenue(S, rec.pick), revenue=float(y.sum()), currency=ctx.currency)
summary_text = marketer_summary(table, rec, placebo, boot=boot, chosen_by=choice_sentence(rec, selection), **answer)
display(Markdown(summary_text), Markdown(f"**The list to act on** is stage 07's forecast, `data/clv_table.csv` (also as Parquet): "
                                         f"every customer scored by {model_label(rec.pick)} from the analysis date, "
                                         f"{meta['analysis_date']}, over the next {meta['forecast']['horizon_days']} days."),
        caught.callout({"bootstrap intervals": boot[["estimate", "low", "high"]]}))"""),
    md("## Backtests: the comparison at every cut-off\nEach model was fitted at each cut-off with the data up to it, and is measured here against what customers spent in the following window. The model is chosen on the earlier cut-offs only; the latest (shaded) is the holdout, a cut-off the choice did not use."),
    code("""summary = backtest_summary(bt)
display(Markdown(backtest_text(summary, rec, selection, meta["backtests"][0]["cutoff"])), Markdown(holdout_overlap_text(meta["backtests"])))
backtest_figures.plot_backtest(bt, rec.pick)"""),
    md("*What to look for:* a model whose line stays above the dashed BG/NBD line at every cut-off ranks customers better however the cut-off falls; lines that cross mean the order depends on the period."),
    code("""display(show_table(backtest_figures.summary_view(summary), headers=backtest_figures.SUMMARY_HEADERS, formats=backtest_figures.SUMMARY_FORMATS,
                   caption="Over every backtest cut-off, the holdout included. Predicted / actual is missing for rankings that are not forecasts (the simple rule, the demo's truth)."),
        show_table(backtest_figures.per_cut_view(bt, "ratio"), index=True, formats="{:.2f}",
                   caption="Total predicted over actual revenue at each cut-off (1.00 = the totals agree)."),
        Markdown(backtest_figures.ratio_noise_text(bt)))"""),
    md("## The chosen model's segments against the holdout\nCustomers at the cut-off ranked by the chosen model into the same segments as the forecast table, with what they then spent:"),
    code("""clv = clv_table_for(rec.pick, scores, preds, meta["horizon_days"])
headers = clv_headers(ctx.currency, meta["horizon_days"])
show_table(segment_summary(clv, actual).drop(columns=["mean_p_alive"]), headers=headers, formats=clv_formats())"""),
    code("""figures.decile_revenue(decile_revenue(clv, actual), f"Revenue by decile of {model_label(rec.pick)}: predicted and actual",
                       currency=ctx.currency)"""),
    md("*What to look for:* whether the actual bars fall from decile 1 to 10 as the predicted ones do (the ranking works), and whether they are as tall (the amounts are right)."),
    md("## All models at a glance\n**Ranking**: normalized Gini with its 95% bootstrap interval, and the paired difference from BG/NBD x Gamma-Gamma: the model's normalized Gini minus BG/NBD x Gamma-Gamma's on the same resamples, and the share of resamples in which the model did *not* beat it."),
    code("""show_table(table[["name", "normalized_gini", "gini_low", "gini_high", "diff_vs_bgnbd", "diff_low", "diff_high", "p_le_0"]],
           headers={"name": "model", "normalized_gini": "normalized Gini", "gini_low": "95% low", "gini_high": "95% high",
                    "diff_vs_bgnbd": "difference from BG/NBD", "diff_low": "difference, 95% low", "diff_high": "difference, 95% high",
                    "p_le_0": "share of resamples not beating BG/NBD"},
           caption="— : BG/NBD x Gamma-Gamma itself, the reference.")"""),
    md("**Targeting and size**: Spearman, revenue captured by the top 10% and 1% of scores, ROC-AUC and PR-AUC for 'buys again', and total predicted against actual revenue (1.0 = the totals agree; calibration spend is a score, not a forecast, so its ratio is not meaningful)."),
    code("""pct = "{:.1%}".format
show_table(table[["name", "spearman", "top10_share", "top1_share", "roc_auc", "pr_auc", "total_predicted", "ratio"]],
           headers={"name": "model", "top10_share": "top 10% capture", "top1_share": "top 1% capture", "roc_auc": "ROC-AUC",
                    "pr_auc": "PR-AUC", "total_predicted": f"total predicted ({ctx.currency})", "ratio": "predicted / actual"},
           formats={"top10_share": pct, "top1_share": pct, "total_predicted": "{:,.0f}", "ratio": "{:.2f}"},
           caption=f"Actual holdout revenue: {y.sum():,.0f} {ctx.currency}.")"""),
    code("""ceiling = float(table.set_index("model").loc[TRUTH, "normalized_gini"]) if TRUTH in S.columns else None
figures.plot_intervals(table, ceiling)"""),
    md("*What to look for:* intervals that do not overlap differ reliably; the recommendation compares each model with BG/NBD on the same resamples (the table above), which is sharper than comparing these bars by eye."),
    code("""figures.plot_lorenz(y, S, list(dict.fromkeys(["calibration_spend", "btyd:bgnbd", "btyd:pnbd", meta["primary_hybrid"], rec.pick])) + [c for c in (TRUTH, OBSERVABLE) if c in S.columns])"""),
    md("*What to look for:* the higher a curve, the more holdout revenue a list of that length captures; read it at the share of customers you can contact."),
    md("## BG/NBD: expected against actual purchases\nLeft, the calibration period: how many people made 0, 1, 2, ... repeat purchases, against populations simulated from the fitted model. Right, the holdout: the average number of purchases in the holdout, actual and predicted, for people grouped by their calibration repeat purchases."),
    code("""cal = btyd.calibration_holdout_summary(orders, "customer_unique_id", "order_purchase_timestamp", "order_value",
                                       calibration_end=meta["cutoff"], holdout_end=meta["holdout_end"])
btyd.plot_repeat_purchases(cal, btyd.BTYDModel.from_dict(meta["btyd"]["bgnbd"]), holdout_frequency=cal["holdout_frequency"])"""),
    md("*What to look for:* on the right, the model's line should follow the actual one; groups with few people (small n under the axis) are noisy."),
    md("## Deciles: predicted against actual\nCustomers are put into ten equal groups by the rank of their prediction (ties split by rank)."),
    code('figures.plot_deciles(y, S["btyd:bgnbd"].to_numpy(), model_label("btyd:bgnbd"), currency=ctx.currency)'),
    code("""second = rec.pick if rec.pick != BASELINE else meta["primary_hybrid"]  # the chosen model, or the hybrid when BG/NBD is chosen
figures.plot_deciles(y, S[second].to_numpy(), model_label(second), currency=ctx.currency)"""),
    md("*What to look for:* mean actual spend should fall from decile 1 to 10 (the ranking works) and match the predicted bars (the amounts are right)."),
    code("""show_table(decile_table(y, S[second].to_numpy()), headers=headers,
           caption=f"Deciles of {model_label(second)} (the second chart). Errors are relative to the overall mean spend.")"""),
    md("## The clickstream placebo\nThe same hybrid model with and without clickstream features, for every link. A rank link between unrelated datasets carries the customer's own activity rank into the 'clickstream' columns, so whatever it appears to add beyond the random link is an artefact."),
    code("""if len(placebo):
    display(show_table(placebo, headers={"gini_without_click": "normalized Gini without clickstream", "gini_with_click": "with clickstream",
                                          "added_by_click": "added by the clickstream", "roc_auc_with_click": "ROC-AUC with clickstream"}),
            placebo_caveat(placebo))
else:
    display(Markdown("This dataset has no event log: there is no clickstream model to compare."))"""),
    code("""coverage = {}  # BTYD score -> how often its per-customer interval holds the demo's truth: everyone, one-time and repeat buyers
if ceiling is not None:
    truth_at = preds[CUSTOMER].map(pd.Series(S[TRUTH].to_numpy(), index=scores[CUSTOMER].to_numpy()))
    frequency = preds[CUSTOMER].map(population_features(orders, meta["cutoff"]).set_index(CUSTOMER)["frequency"])  # repeat purchase days by the cut-off
    coverage = {m: coverage_by_buyer_type(truth_at, preds[lo], preds[hi], frequency) for m, (lo, hi) in prediction_intervals(preds).items()}
if coverage:
    display(Markdown("**Demo only: the per-customer 90% intervals** of stage 05 against the expected value given the hidden traits, "
                     f"for the {len(preds):,} customers at the cut-off, all together and split into one-time buyers (no repeat "
                     "purchase by the cut-off) and repeat buyers. Below: the truth lies under the interval; above: over it. BG/NBD and "
                     "its variants count every one-time buyer as alive, so a one-time buyer who has already left has a truth below "
                     "their interval; Pareto/NBD lets a one-time buyer leave as they age (its interval is the one stage 07's table "
                     "carries for a model without its own).\\n\\n" + prediction_interval_text({m: n for m, n in meta.get("interval_notes", {}).items() if m in coverage})),
            show_table(pd.concat([c.assign(model=model_label(btyd_column(m))) for m, c in coverage.items()])
                       [["model", "customers", "n", "coverage", "below", "above", "median_width"]],
                       headers={"customers": "customers", "n": "people", "coverage": "truth inside", "below": "truth below",
                                "above": "truth above", "median_width": f"median width ({ctx.currency})"},
                       formats={"coverage": "{:.1%}", "below": "{:.1%}", "above": "{:.1%}", "median_width": "{:,.2f}"}))
if ceiling is not None:
    observable = S.get(OBSERVABLE)
    display(Markdown(f"**Demo only: two ceilings.** Ranking customers by their expected value given the hidden traits (and whether they are "
                     f"still alive at the cut-off) gives a normalized Gini of **{ceiling:.3f}**: what a model could reach if it knew each "
                     "person's traits. The best prediction possible from the observable orders and clickstream up to the cut-off, "
                     "computed from the demo's own generative model, reaches "
                     + (f"**{table.set_index('model').loc[OBSERVABLE, 'normalized_gini']:.3f}**: the ceiling a model can actually aim at." if observable is not None else "(not computed).")),
            Markdown(observable_share_text(bt, [meta["primary_hybrid"], rec.pick], selection, meta["backtests"][0]["cutoff"])))
    shares = ceiling_shares(table)
    display(show_table(shares, headers={"name": "model", "normalized_gini": "normalized Gini", "share_of_ceiling": "share of the traits' ceiling",
                                                       "share_of_observable": "share of the observable ceiling"},
                       formats={"share_of_ceiling": "{:.0%}", "share_of_observable": "{:.0%}"}))
    keyed = hybrid_column(click_variant("key"))  # the target is set for the hybrid with the real key
    if observable is not None and keyed in S.columns:
        display(Markdown(backtest_figures.ceiling_gap_text(model_label(keyed), float(shares.set_index(table["model"]).loc[keyed, "share_of_observable"]))))"""),
    code("""deciles = {c: decile_table(y, S[c].to_numpy()) for c in dict.fromkeys((BASELINE, second))}
ctx.save("evaluation", metrics_record(holdout_start=meta["cutoff"], holdout_end=meta["holdout_end"], y_true=y, n_boot=n_boot,
                                   seed=bootstrap_seed, demo=ctx.demo, table=table, boot=boot, placebo=placebo,
                                   ceiling=ceiling, deciles=deciles,
                                   marketer={"text": summary_text, **marketer_facts(table, rec, **answer)},
                                   backtest={"cuts": [b["cutoff"] for b in meta["backtests"]], "selection_cuts": selection,
                                             "recommended": rec.pick, "chosen_by": choice_sentence(rec, selection),
                                             "table": bt, "summary": summary},
                                   intervals={m: {"note": meta.get("interval_notes", {}).get(m), "columns": list(cols),
                                                  "coverage_of_truth": coverage[m].to_dict("records") if m in coverage else None}
                                              for m, cols in prediction_intervals(preds).items()}))
bg, h = table.set_index("model").loc[BASELINE], table.set_index("model").loc[second]
ctx.finish({"recommended model": model_label(rec.pick), "chosen on": ", ".join(selection) or "(no earlier cut-off)",
            "holdout buyers": f"{(y > 0).mean():.2%}",
            "Gini BG/NBD": f"{bg['normalized_gini']:.3f} [{bg['gini_low']:.2f}, {bg['gini_high']:.2f}]",
            f"Gini {model_label(second)}": f"{h['normalized_gini']:.3f} [{h['gini_low']:.2f}, {h['gini_high']:.2f}]",
            "Gini calibration spend": f"{table.set_index('model').loc['calibration_spend', 'normalized_gini']:.3f}",
            "ROC-AUC BG/NBD": round(float(bg["roc_auc"]), 3)})"""),
]


NB["07_forecast"] = [
    md("""# 07 · Forecast
**The product of a run**: every customer scored from the analysis date (the last day of data) over the next
`horizon_months`, by the model that stage 06 chose on the backtests, refitted here with all the data. The table to
act on is `data/clv_table.csv` (and `data/clv_table.parquet`); stages 05 and 06 are the evidence for trusting it."""),
    code(WS, ("parameters",)),
    code(SETUP + """from clvlib.features.temporal import plan
from clvlib.models.compare import add_intervals, compare_at
from clvlib.models.hybrid import variants_for
from clvlib.models.predictions import clv_table_for, decile_revenue, forecast_interval_model, forecast_interval_text, segment_summary
from clvlib.models.scores import hybrid_column, model_label
from clvlib.pipeline.context import open_stage
from clvlib.report import figures
from clvlib.report.display import link_caveat
from clvlib.report.forecast import forecast_facts, forecast_text, run_metrics
from clvlib.report.notices import captured_warnings
from clvlib.report.tables import clv_formats, clv_headers
ctx = open_stage("07", workspace)"""),
    code("""orders, links = ctx.load("orders"), ctx.load("links_info")
snaps, clicks = ctx.load("snapshots", lazy=True), ctx.load("click_snapshots", lazy=True)  # each snapshot read when a model needs it
meta, metrics = ctx.load("model_params"), ctx.load("evaluation")  # stage 06: the backtests' choice
fw = plan(**meta["plan"])["forecast"]
pick = metrics["backtest"]["recommended"]
variants = [v for v in variants_for(has_key=links["real_key"], methods=tuple(m for m in links["methods"] if m != "key"))
            if hybrid_column(v.name) == pick]
info = {i["method"]: i for i in links["snapshots"] if i["cutoff"] == str(fw["cut"].date())}
interval_model, _ = forecast_interval_model(pick)  # the chosen model's interval, or the one that stands in for it
with captured_warnings(f"fitting {model_label(pick)} with all the data") as caught:
    result = compare_at(snaps, clicks, orders, fw, variants, link_info=info, label="the forecast",
                        btyd_models=("bgnbd", "pnbd") if interval_model == "pnbd" else ("bgnbd",), **meta["options"])
horizon_days = (fw["holdout_end"] - fw["cut"]).days
interval_notes = {m: add_intervals(result, m, seed=meta["options"]["seed"]) for m in dict.fromkeys(("bgnbd", interval_model))}
clv = clv_table_for(pick, result.scores, result.predictions["bgnbd"], horizon_days, result.hybrid_scores,
                    intervals={m: result.predictions[m] for m in interval_notes if m != "bgnbd"})
facts = forecast_facts(clv, metrics, str(fw["cut"].date()), str(fw["holdout_end"].date()), currency=ctx.currency)
answer = forecast_text(facts)
display(Markdown("## The answer" + answer), caught.callout({"forecast": clv[["predicted_value"]]}))
display(link_caveat(links["methods"], periods_overlap=next(iter(info.values()))["clickstream_cut_applied"]) if variants and variants[0].method else Markdown(""))"""),
    md("## The CLV table to take away\nOne row per customer, highest predicted value first. `predicted_value` is the chosen model's prediction of what the customer will spend over the forecast window; `p_buy` is its chance that they buy at all (hybrid models only); `predicted_value_bgnbd` (with its 90% interval `_low` / `_high`), `expected_purchases_bgnbd` and `p_alive` come from BG/NBD x Gamma-Gamma fitted at the analysis date; `predicted_value_<model>` with `_low` / `_high` is another model's value and interval, named after it; `decile` and `segment` rank customers by `predicted_value`."),
    code("""headers = clv_headers(ctx.currency, horizon_days)
display(Markdown("**Which interval.** " + forecast_interval_text(pick, interval_notes, coverage={
    m: rec.get("coverage_of_truth") for m, rec in (metrics.get("intervals") or {}).items()})))
show_table(clv.drop(columns=["segment_meaning", "model", "horizon_days"]).dropna(axis=1, how="all"), headers=headers,
           formats=clv_formats(), max_rows=10, full_table="data/clv_table.csv (and data/clv_table.parquet)")"""),
    md("### Segments"),
    code("""show_table(segment_summary(clv), headers=headers, formats=clv_formats())"""),
    code("""figures.decile_revenue(decile_revenue(clv), f"Predicted revenue by decile of {model_label(pick)}, {fw['cut'].date()} to {fw['holdout_end'].date()}",
                       currency=ctx.currency)"""),
    md("*What to look for:* how steeply predicted revenue falls from decile 1 to 10: the steeper, the more a short list concentrates value. Stage 06 shows how such rankings did at the backtest cut-offs."),
    code("""record = run_metrics(metrics, {**facts, "text": answer})  # the run's figures in one file: the evaluation and the forecast
ctx.save("clv_table", clv)
ctx.save("clv_table_parquet", clv)
ctx.save("forecast", record["forecast"])
ctx.save("metrics", record)
ctx.finish({"model": model_label(pick), "forecast window": f"{fw['cut'].date()} to {fw['holdout_end'].date()}",
            "customers": len(clv), f"predicted revenue ({ctx.currency})": round(facts["predicted_total"]),
            f"top 10% predicted ({ctx.currency})": round(facts["predicted_top"]), "CLV table": "data/clv_table.csv"})"""),
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
