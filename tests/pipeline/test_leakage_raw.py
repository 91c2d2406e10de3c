"""No leak at the raw level: change every raw row and every date after the cut-off, and nothing at the cut moves.

The raw files themselves are scrambled after the cut (2018-02-28): orders placed later get other amounts,
payments, items, statuses, dates, customers (some now belong to people who bought before the cut) and
reviews; later rows are dropped and new ones added; orders placed before the cut get other delivery
dates and new reviews written after the cut (the leak this test was written for: a second review
used to be averaged into the first one's date); clickstream events after the cut change type, amount
and time, and new ones appear. Then the stages run again from the raw files, and every feature of
every snapshot, every link and every score at the cut must be identical.

What cannot be scrambled (documented limitations): the *status* of an order placed before the cut (the
status filter uses the status in the export, which may have been set later), and each order's
estimated delivery date (promised at purchase, so known at the cut even when it falls after it).
The real Kaggle clickstream (2024) does not overlap the Olist period, so it cannot be cut and is
left as is in the real-data variant.

The fast test runs stages 01-05 in process on a small demo (the library calls the notebooks make),
with three training windows and BG/NBD as the only BTYD baseline to stay quick; the slow ones run
the same with every default (all six windows, both BTYD models, the lifetime value) and
``run_all.py`` (stages 00-05) on the real data, comparing the files the stages wrote at every cut up to the
cut-off (every backtest's features, links and scores; the forecast's snapshot at the analysis date is after the
cut by design).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from clvlib.data.clickstream import clean_events, read_clickstream
from clvlib.data.sources import find_raw_files
from clvlib.data.transactions import build_orders, read_olist
from clvlib.demo.generate import generate_demo
from clvlib.data.datasets import read_key
from clvlib.features.snapshots import build_click_snapshots, build_links, build_snapshots, methods_for, snapshot, snapshot_cuts
from clvlib.features.temporal import window
from clvlib.models.baselines import fit_btyd_baselines
from clvlib.models.btyd import BTYDModel
from clvlib.models.hybrid import fit_score_snapshots, variants_for
from clvlib.models.predictions import predictions_table, scores_table
from clvlib.models.scores import primary_hybrid
from clvlib.schemas import EXPECTED_FILES

ROOT = Path(__file__).resolve().parents[2]
CUT = pd.Timestamp("2018-02-28")
END = CUT + pd.Timedelta(days=1)  # the first instant after the cut-off day


def _ts(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.replace("", None), errors="coerce")


def _fmt(ts: pd.Series) -> pd.Series:
    return ts.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("")


def _later(rng: np.random.Generator, n: int, start: pd.Timestamp = END, days: int = 150) -> pd.Series:
    """``n`` random instants after ``start`` (at least one minute after it)."""
    return pd.Series(start + pd.to_timedelta(rng.uniform(1 / 1440, days, size=n), unit="D"))


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def scramble_after_cut(src: Path, dst: Path, seed: int = 0, clickstream: bool = True) -> dict[str, int]:
    """Copy the raw files of ``src`` to ``dst`` with every row and date after :data:`CUT` changed.

    Returns counts of what was changed, so a test can check that the scramble did bite.
    """
    rng = np.random.default_rng(seed)
    files = {name: Path(p) for name, p in find_raw_files(src).items()}
    shutil.copytree(src, dst)
    out = {name: dst / Path(p).relative_to(src) for name, p in files.items()}
    counts: dict[str, int] = {}

    orders = _read(files["orders"])
    ts = _ts(orders["order_purchase_timestamp"])
    late = (ts >= END).to_numpy()
    late_ids = set(orders.loc[late, "order_id"])
    early_ids = list(orders.loc[~late, "order_id"])
    counts["orders after the cut"] = int(late.sum())
    # later orders: other status, other purchase time (still after the cut), other process dates
    n = int(late.sum())
    orders.loc[late, "order_status"] = rng.choice(["delivered", "canceled", "shipped", "unavailable"], size=n)
    new_ts = _later(rng, n)
    orders.loc[late, "order_purchase_timestamp"] = _fmt(new_ts).to_numpy()
    for col in ("order_approved_at", "order_delivered_carrier_date", "order_delivered_customer_date",
                "order_estimated_delivery_date"):
        d = new_ts + pd.to_timedelta(rng.uniform(0, 40, size=n), unit="D")
        orders.loc[late, col] = np.where(rng.uniform(size=n) < 0.2, "", _fmt(d))
    # earlier orders: any process date after the cut moves (or disappears: not delivered yet)
    for col in ("order_approved_at", "order_delivered_carrier_date", "order_delivered_customer_date"):
        after = (~late) & (_ts(orders[col]) >= END).to_numpy()
        counts[f"{col} after the cut, order before"] = int(after.sum())
        d = _later(rng, int(after.sum()))
        orders.loc[after, col] = np.where(rng.uniform(size=int(after.sum())) < 0.2, "", _fmt(d))
    # drop a tenth of the later orders, add as many new ones from people who bought before the cut
    drop = late & (rng.uniform(size=len(orders)) < 0.1)
    orders = orders[~drop]
    customers = _read(files["customers"])
    early_people = customers.loc[customers["customer_id"].isin(orders.loc[~late[~drop], "customer_id"]),
                                 "customer_unique_id"].unique()
    k = max(int(drop.sum()), 5)
    new_orders = orders[orders["order_id"].isin(late_ids)].sample(k, replace=True, random_state=seed).copy()
    new_orders["order_id"] = [f"new{i:08d}" for i in range(k)]
    new_orders["customer_id"] = [f"newcust{i:08d}" for i in range(k)]
    new_orders["order_status"] = "delivered"
    orders = pd.concat([orders, new_orders], ignore_index=True)
    orders.to_csv(out["orders"], index=False)
    counts["orders added"] = k

    # customers of later orders: another person (often one who bought before the cut), state, city, zip
    late_cust = customers["customer_id"].isin(
        set(_read(files["orders"]).loc[late, "customer_id"]) - set(_read(files["orders"]).loc[~late, "customer_id"]))
    m = int(late_cust.sum())
    customers.loc[late_cust, "customer_unique_id"] = rng.choice(early_people, size=m)
    customers.loc[late_cust, "customer_state"] = rng.choice(["AC", "RR", "AP"], size=m)
    customers.loc[late_cust, "customer_city"] = "somewhere else"
    customers.loc[late_cust, "customer_zip_code_prefix"] = "69900"
    added = pd.DataFrame({"customer_id": new_orders["customer_id"],
                          "customer_unique_id": rng.choice(early_people, size=k),
                          "customer_zip_code_prefix": "69900", "customer_city": "new", "customer_state": "RR"})
    pd.concat([customers, added], ignore_index=True).to_csv(out["customers"], index=False)

    # payments and items of later orders: other amounts, types, installments, products; new orders paid
    pay = _read(files["payments"])
    lp = pay["order_id"].isin(late_ids).to_numpy()
    pay.loc[lp, "payment_value"] = [f"{v:.2f}" for v in rng.uniform(1, 5000, size=int(lp.sum()))]
    pay.loc[lp, "payment_type"] = rng.choice(["voucher", "debit_card", "boleto"], size=int(lp.sum()))
    pay.loc[lp, "payment_installments"] = rng.integers(1, 24, size=int(lp.sum())).astype(str)
    new_pay = pd.DataFrame({"order_id": new_orders["order_id"], "payment_sequential": "1", "payment_type": "voucher",
                            "payment_installments": "7", "payment_value": "999.99"})
    pd.concat([pay, new_pay], ignore_index=True).to_csv(out["payments"], index=False)
    counts["payments changed"] = int(lp.sum())
    if "order_items" in files:
        items = _read(files["order_items"])
        li = items["order_id"].isin(late_ids).to_numpy()
        items.loc[li, "price"] = [f"{v:.2f}" for v in rng.uniform(1, 3000, size=int(li.sum()))]
        items.loc[li, "freight_value"] = [f"{v:.2f}" for v in rng.uniform(0, 300, size=int(li.sum()))]
        items.loc[li, "product_id"] = rng.choice(items["product_id"].unique(), size=int(li.sum()))
        items.to_csv(out["order_items"], index=False)

    # reviews: every review created after the cut changes score and dates; earlier orders get new
    # reviews written after the cut (with the old averaging, these moved review_score_mean)
    rev = _read(files["reviews"])
    created = _ts(rev["review_creation_date"])
    lr = (created >= END).to_numpy()
    nr = int(lr.sum())
    rev.loc[lr, "review_score"] = rng.integers(1, 6, size=nr).astype(str)
    rev.loc[lr, "review_creation_date"] = _fmt(_later(rng, nr).dt.normalize()).to_numpy()
    answered = (_ts(rev["review_answer_timestamp"]) >= END).to_numpy()
    rev.loc[answered, "review_answer_timestamp"] = _fmt(_later(rng, int(answered.sum()))).to_numpy()
    reviewed_early = rev.loc[rev["order_id"].isin(early_ids) & ~lr, "order_id"].drop_duplicates()
    second = reviewed_early.sample(min(len(reviewed_early), 300), random_state=seed)
    extra = pd.DataFrame({"review_id": [f"late{i:08d}" for i in range(len(second))], "order_id": second.to_numpy(),
                          "review_score": rng.choice(["1", "5"], size=len(second)),
                          "review_comment_title": "", "review_comment_message": "",
                          "review_creation_date": _fmt(_later(rng, len(second)).dt.normalize()).to_numpy(),
                          "review_answer_timestamp": _fmt(_later(rng, len(second), END + pd.Timedelta(days=2))).to_numpy()})
    pd.concat([rev, extra[rev.columns]], ignore_index=True).to_csv(out["reviews"], index=False)
    counts["reviews after the cut"] = nr
    counts["second reviews added"] = len(second)

    if clickstream:
        ev = _read(files["clickstream"])
        t = _ts(ev["Timestamp"])
        le = (t >= END).to_numpy()
        ne = int(le.sum())
        ev.loc[le, "EventType"] = rng.choice(["purchase", "add_to_cart", "logout"], size=ne)
        ev.loc[le, "Amount"] = [f"{v:.2f}" for v in rng.uniform(1, 900, size=ne)]
        ev.loc[le, "Timestamp"] = _fmt(_later(rng, ne)).to_numpy()
        ev = ev[~(le & (rng.uniform(size=len(ev)) < 0.1))]
        users = ev["UserID"].unique()
        new_ev = pd.DataFrame({"UserID": np.r_[rng.choice(users, size=200), ["999999"] * 5],
                               "SessionID": "999999", "Timestamp": _fmt(_later(rng, 205)).to_numpy(),
                               "EventType": "purchase", "ProductID": "", "Amount": "123.45", "Outcome": ""})
        pd.concat([ev, new_ev[ev.columns]], ignore_index=True).to_csv(out["clickstream"], index=False)
        counts["events after the cut"] = ne
    return counts


# --------------------------------------------------------------------------- fast: a small demo, in process


def stages_01_to_05(raw: Path, quick: bool = False) -> dict[str, pd.DataFrame]:
    """What stages 01-05 compute from the raw files with their default parameters, in process.

    ``quick``: three training windows instead of six, and of the BTYD baselines
    BG/NBD alone with a one-month lifetime (every hybrid variant is still fitted and scored).
    """
    files = find_raw_files(raw)
    orders, _, _ = build_orders(read_olist(files))
    events, _ = clean_events(read_clickstream(files["clickstream"]))
    key, _ = read_key(raw)
    w = window(CUT, 6, 3 if quick else 6, 1)
    cuts = snapshot_cuts(w)
    methods = methods_for(["rank", "random"], has_key=key is not None)
    links, info = build_links(orders, events, cuts, methods, seed=42, key=key)
    snaps = build_snapshots(orders, cuts)
    clicks = build_click_snapshots(orders, events, links, cuts)
    features = snapshot(snaps, w["cut"])
    variants = variants_for(has_key=key is not None, methods=tuple(m for m in methods if m != "key"))
    hybrid, _ = fit_score_snapshots(snaps, clicks, orders, w, variants, progress=lambda _: None)
    out = {"links": links, "snapshots": snaps, "click_snapshots": clicks, "hybrid": hybrid}
    if quick:
        rfm = features[["customer_unique_id", "frequency", "recency", "T", "monetary_value"]]
        model = BTYDModel("bgnbd", clv_months=1).fit(rfm)
        return {**out, "btyd_params": model.params_, "bgnbd": model.predict(rfm, horizon=184)}
    _, predictions, params = fit_btyd_baselines(features, w)
    preds = predictions_table(predictions, hybrid, primary_hybrid(key is not None))
    return {**out, "btyd_params": params, "predictions": preds, "scores": scores_table(features, preds, hybrid)}


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("leak") / "raw"
    generate_demo(raw, n_customers=4000, seed=11)
    return raw


def test_scrambling_every_raw_row_after_the_cut_changes_no_feature_link_or_score(demo_raw, tmp_path):
    counts = scramble_after_cut(demo_raw, tmp_path / "raw")
    assert counts["orders after the cut"] > 100 and counts["second reviews added"] > 100
    assert counts["order_delivered_customer_date after the cut, order before"] > 10
    assert counts["events after the cut"] > 1000
    with threadpool_limits(1):  # scikit-learn's OpenMP threads crawl on a busy 2-core machine (10 s vs 100 s)
        before = stages_01_to_05(demo_raw, quick=True)
        after = stages_01_to_05(tmp_path / "raw", quick=True)
    assert len(before["hybrid"]) > 1000 and before["hybrid"].filter(like="hybrid:").shape[1] == 5
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)


def test_the_raw_scramble_would_catch_the_review_leak(demo_raw, tmp_path):
    """The old cleaning averaged every review of an order under its first date: the scramble moves that."""
    scramble_after_cut(demo_raw, tmp_path / "raw")
    orig, scrambled = (read_olist(find_raw_files(r))["reviews"] for r in (demo_raw, tmp_path / "raw"))

    def old_way(reviews: pd.DataFrame) -> pd.DataFrame:
        rv = reviews.groupby("order_id").agg(review_score=("review_score", "mean"),
                                             review_creation_date=("review_creation_date", "min"))
        return rv[rv["review_creation_date"] <= CUT + pd.Timedelta(hours=23, minutes=59)]

    a, b = old_way(orig), old_way(scrambled)
    assert not a["review_score"].equals(b["review_score"].reindex(a.index))


@pytest.mark.slow
def test_every_default_stage_output_and_score_on_the_demo_ignores_rows_after_the_cut(demo_raw, tmp_path):
    scramble_after_cut(demo_raw, tmp_path / "raw")
    with threadpool_limits(1):
        before, after = stages_01_to_05(demo_raw), stages_01_to_05(tmp_path / "raw")
    assert before["scores"].filter(like="btyd:").shape[1] == 2
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)


# --------------------------------------------------------------------------- slow: the real data, through run_all.py


def _run_all(raw: Path, out_root: Path) -> Path:
    proc = subprocess.run([sys.executable, str(ROOT / "run_all.py"), "--raw-dir", str(raw), "--stages", "00-05",
                           "--workspace", "leak", "--out-root", str(out_root), "-p", "cutoff", str(CUT.date()),
                           "-p", "analysis_date", "2018-08-31"],
                          cwd=out_root, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out_root / "outputs" / "leak" / "data"


@pytest.mark.slow
@pytest.mark.realdata
def test_real_data_scrambled_after_the_cut_gives_identical_features_and_scores(real_data_dir, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name, path in find_raw_files(real_data_dir).items():
        if name in EXPECTED_FILES:
            shutil.copy(path, src / Path(path).name)
    counts = scramble_after_cut(src, tmp_path / "scrambled", clickstream=False)
    assert counts["second reviews added"] == 300 and counts["orders after the cut"] > 30_000
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = _run_all(src, tmp_path / "a"), _run_all(tmp_path / "scrambled", tmp_path / "b")
    def upto_cut(frame: pd.DataFrame) -> pd.DataFrame:  # the forecast's snapshot at the analysis date may move
        return frame[pd.to_datetime(frame["cut"]) <= CUT].reset_index(drop=True) if "cut" in frame.columns else frame

    for name in ("snapshots.parquet", "click_snapshots.parquet", "backtest_scores.parquet"):
        pd.testing.assert_frame_equal(upto_cut(pd.read_parquet(b / name)), upto_cut(pd.read_parquet(a / name)), obj=name)
    for name in ("user_links.parquet", "clv_scores.parquet", "clv_predictions.parquet"):
        pd.testing.assert_frame_equal(upto_cut(pd.read_parquet(b / name)), upto_cut(pd.read_parquet(a / name)), obj=name)
    pa, pb = (json.loads((d / "clv_model_params.json").read_text()) for d in (a, b))
    assert pb["btyd"] == pa["btyd"] and pb["hybrid"] == pa["hybrid"]
