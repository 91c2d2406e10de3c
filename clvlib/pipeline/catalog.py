"""The catalog: every file a stage reads or writes, declared once, and the stages themselves.

Each :class:`Dataset` names one file of a workspace (its path inside the workspace, how it is read
and written, the stage that produces it, what it is for). Each :class:`Stage` names the datasets it
reads and writes. Everything else is derived from here: the stage order and dependencies, the
"Reads / Writes" line of every report, the README's stage table (a test checks it), and which
stage to rerun when a file is missing or stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Dataset",
    "Stage",
    "DATASETS",
    "STAGES",
    "RAW",
    "dataset",
    "stage",
    "producer",
    "depends_on",
    "reads_writes_markdown",
    "stage_table_markdown",
]

#: Pseudo-dataset for the raw input files (declared by the dataset, not produced by a stage).
RAW = "raw"


@dataclass(frozen=True)
class Dataset:
    """One file of a workspace.

    Attributes
    ----------
    name
        Catalog name used by ``ctx.load(name)`` / ``ctx.save(name, obj)``.
    path
        Path inside the workspace folder.
    kind
        ``"csv"``, ``"parquet"`` or ``"json"``: how it is read and written.
    description
        One line for the reports and the README.
    dates
        CSV columns parsed as timestamps when read.
    deliverable
        True for a file written for the user (not, or not only, for a later stage).
    """

    name: str
    path: str
    kind: str
    description: str
    dates: tuple[str, ...] = ()
    deliverable: bool = False


@dataclass(frozen=True)
class Stage:
    """One notebook of the pipeline: what it reads and writes, by catalog name."""

    number: str
    name: str
    title: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]

    @property
    def key(self) -> str:
        """``NN_name``: the notebook's stem and the stem of every report of this stage."""
        return f"{self.number}_{self.name}"

    @property
    def notebook(self) -> str:
        return f"{self.key}.ipynb"


_ORDER_DATES = ("order_purchase_timestamp", "order_approved_at", "order_delivered_customer_date",
                "order_estimated_delivery_date", "review_creation_date")

DATASETS: tuple[Dataset, ...] = (
    Dataset("inventory", "data/inventory.json", "json",
            "every raw file: size, rows, columns, types, nulls, date ranges, key uniqueness", deliverable=True),
    Dataset("orders", "data/orders.parquet", "parquet",
            "one row per kept order, with its value, person, dates and behaviour columns (Olist: reviews, delivery, payment)", dates=_ORDER_DATES),
    Dataset("orders_info", "data/orders_info.json", "json",
            "the analysis date (the last day of data, where the forecast starts) and the period of the kept orders"),
    Dataset("customers", "data/customers.parquet", "parquet",
            "one row per person (customer_unique_id): orders, spend, recency, tenure at the analysis date",
            dates=("first_purchase", "last_purchase"), deliverable=True),
    Dataset("events", "data/events.parquet", "parquet", "the cleaned clickstream events",
            dates=("Timestamp",)),
    Dataset("click_users", "data/click_users.parquet", "parquet",
            "one row per clickstream user: events, sessions, carts, purchases, amounts, rates",
            dates=("first_event", "last_event"), deliverable=True),
    Dataset("links", "data/user_links.parquet", "parquet",
            "customer <-> clickstream user links per method and snapshot cut-off, each from data up to its cut",
            dates=("cut",)),
    Dataset("links_info", "data/user_links.json", "json", "per method and cut-off: coverage and whether the link is real"),
    Dataset("snapshots", "data/snapshots.parquet", "parquet",
            "per snapshot cut-off, every person's RFM and order-behaviour features as of that day"),
    Dataset("click_snapshots", "data/click_snapshots.parquet", "parquet",
            "per snapshot cut-off and link method, the linked user's clickstream features as of that day"),
    Dataset("predictions", "data/clv_predictions.parquet", "parquet",
            "at the evaluation cut-off, one row per customer: expected purchases, P(alive), expected spend, predicted "
            "value, lifetime value, decile, segment", deliverable=True),
    Dataset("clv_table", "data/clv_table.csv", "csv",
            "the CLV table to take away: the forecast from the analysis date over the next horizon, one row per "
            "customer, highest predicted value first, with P(alive), decile, segment and what the segment means",
            deliverable=True),
    Dataset("clv_table_parquet", "data/clv_table.parquet", "parquet", "the same CLV table as Parquet",
            deliverable=True),
    Dataset("scores", "data/clv_scores.parquet", "parquet", "every model's score per customer at the cut-off, for the evaluation"),
    Dataset("backtest_scores", "data/backtest_scores.parquet", "parquet",
            "every model's score per customer at each backtest cut-off, each from data up to its cut"),
    Dataset("forecast", "data/forecast.json", "json",
            "the forecast in brief: the model used and why, the horizon, the predicted revenue and the answer in words",
            deliverable=True),
    Dataset("model_params", "data/clv_model_params.json", "json",
            "the split, the fitted BTYD parameters and the hybrid variants"),
    Dataset("evaluation", "data/evaluation.json", "json",
            "the backtest per cut-off, the recommendation, every model's holdout metrics with bootstrap intervals, "
            "deciles, placebo, the per-customer intervals and (demo) both ceilings with every model's share of them"),
    Dataset("metrics", "metrics.json", "json",
            "every figure of the run in one file: stage 06's evaluation (as in data/evaluation.json) and, under "
            "\"forecast\", stage 07's forecast (as in data/forecast.json)",
            deliverable=True),
)

STAGES: tuple[Stage, ...] = (
    Stage("00", "inventory", "Data inventory", (RAW,), ("inventory",)),
    Stage("01", "clean_transactions", "Clean transactions", (RAW,), ("orders", "orders_info", "customers")),
    Stage("02", "clean_clickstream", "Clean clickstream", (RAW,), ("events", "click_users")),
    Stage("03", "user_mapping", "User mapping (clickstream ↔ customers)", (RAW, "orders", "orders_info", "events"),
          ("links", "links_info")),
    Stage("04", "hybrid_features", "Hybrid features", ("orders", "orders_info", "events", "links", "links_info"),
          ("snapshots", "click_snapshots")),
    Stage("05", "clv_models", "CLV models and backtests", ("orders", "orders_info", "snapshots", "click_snapshots", "links_info"),
          ("predictions", "scores", "backtest_scores", "model_params")),
    Stage("06", "evaluate", "Evaluation", (RAW, "orders", "scores", "backtest_scores", "predictions", "model_params"),
          ("evaluation",)),
    Stage("07", "forecast", "Forecast", ("orders", "snapshots", "click_snapshots", "links_info", "model_params", "evaluation"),
          ("clv_table", "clv_table_parquet", "forecast", "metrics")),
)

_BY_NAME = {d.name: d for d in DATASETS}


def dataset(name: str) -> Dataset:
    """The catalog entry called ``name``; a ``KeyError`` listing the valid names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"No dataset {name!r} in the catalog. Known: {', '.join(_BY_NAME)}.") from None


def stage(token: str, registry: Sequence[Stage] = STAGES) -> Stage:
    """The stage named by number (``3`` or ``03``), name, ``NN_name`` or notebook file name."""
    t = token.strip()
    for s in registry:
        if (t.isdigit() and int(t) == int(s.number)) or t in (s.name, s.key, s.notebook):
            return s
    raise ValueError(f"Unknown stage '{t}'. Valid stages: {', '.join(f'{s.number} {s.name}' for s in registry)}.")


def producer(name: str, registry: Sequence[Stage] = STAGES) -> Stage:
    """The stage that writes dataset ``name``."""
    for s in registry:
        if name in s.writes:
            return s
    raise KeyError(f"No stage writes {name!r}.")


def depends_on(s: Stage, registry: Sequence[Stage] = STAGES) -> tuple[str, ...]:
    """Numbers of the stages whose outputs ``s`` reads, derived from the catalog."""
    return tuple(sorted({producer(n, registry).number for n in s.reads if n != RAW}))


def reads_writes_markdown(s: Stage) -> str:
    """The "Reads / Writes" line of a stage's report."""
    reads = ["the raw input files" if n == RAW else f"`{dataset(n).path}` ({dataset(n).description})" for n in s.reads]
    writes = [f"`{dataset(n).path}` ({dataset(n).description})" for n in s.writes]
    return f"**Reads** {'; '.join(reads)}.  \n**Writes** {'; '.join(writes)}."


def stage_table_markdown(registry: Sequence[Stage] = STAGES) -> str:
    """The README's stage table: every stage with the files it reads and writes (inside the workspace)."""
    rows = ["| stage | reads | writes |", "|---|---|---|"]
    for s in registry:
        reads = ", ".join("raw files" if n == RAW else f"`{dataset(n).path}`" for n in s.reads)
        writes = ", ".join(f"`{dataset(n).path}`" + (" (deliverable)" if dataset(n).deliverable else "")
                           for n in s.writes)
        rows.append(f"| `{s.key}` | {reads} | {writes} |")
    return "\n".join(rows)
