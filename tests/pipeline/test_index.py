"""The workspace index answers first (clvlib.pipeline.answer, clvlib.pipeline.index), from a hand-built metrics.json."""

from __future__ import annotations

import copy
import re
from html import unescape

import pytest

from clvlib.pipeline.answer import bottom_line
from clvlib.pipeline.index import (_fmt_value, _name_hybrid, bottom_line_html, build_index_html, downloads_html,
                                   forecast_html)
from clvlib.pipeline.style import external_references
from test_run import run_record


def model(name, gini, low, high, top10, diff=None, diff_low=None, diff_high=None) -> dict:
    return {"name": name, "normalized_gini": gini, "gini_low": low, "gini_high": high, "top10_share": top10,
            "diff_vs_bgnbd": diff, "diff_low": diff_low, "diff_high": diff_high}


# A demo-like evaluation: the keyed hybrid beats BG/NBD reliably, but the simple rule captures more in its top 10%.
METRICS = {
    "holdout": {"start": "2018-02-28", "end": "2018-08-31", "people": 1000, "buyers": 13, "revenue": 50000.0},
    "baseline": "btyd:bgnbd",
    "demo": True,
    "models": {
        "calibration_spend": model("Calibration spend (simple rule)", 0.31, 0.21, 0.41, 0.29, 0.03, -0.11, 0.16),
        "btyd:bgnbd": model("BG/NBD x Gamma-Gamma", 0.28, 0.20, 0.36, 0.23),
        "hybrid:rfm+details": model("Hybrid GBM: rfm+details", 0.30, 0.20, 0.40, 0.20, 0.02, -0.05, 0.09),
        "hybrid:rfm+details+click[key]": model("Hybrid GBM: rfm+details+click[key]", 0.42, 0.35, 0.48, 0.25,
                                             0.139, 0.047, 0.228),
        "truth": model("Hidden true expected value (ceiling)", 0.92, 0.90, 0.93, 0.86, 0.64, 0.56, 0.72),
    },
    "ceiling_gini": 0.92,
    "deciles": {"hybrid:rfm+details+click[key]": [{"bin": 1, "n": 100, "sum_predicted": 25000.0, "sum_actual": 12500.0},
                                                {"bin": 2, "n": 100, "sum_predicted": 9000.0, "sum_actual": 8000.0}]},
}


def text_of(html_text: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", html_text)))


def test_the_bottom_line_takes_the_reliable_model_and_its_stored_figures():
    b = bottom_line(METRICS)
    assert b.model == "hybrid:rfm+details+click[key]" and b.label == "Hybrid GBM: rfm+details+click[key]" and b.reliable
    assert (b.people, b.top_n, b.horizon_days, b.buyers_share) == (1000, 100, 184, 0.013)
    assert (b.top_predicted, b.top_actual, b.top_share, b.simple_top_share) == (25000.0, 12500.0, 0.25, 0.29)
    assert (b.diff, b.diff_low, b.ceiling_gini) == (0.139, 0.047, 0.92)
    assert b.ahead == ("Calibration spend (simple rule)", "Hybrid GBM: rfm+details")  # higher, not reliably; no truth


def test_the_index_opens_with_the_answer_in_plain_words(tmp_path):
    page = build_index_html(run_record(tmp_path, True, ["ok", "ok", "ok"]), metrics=METRICS)
    text = text_of(page)
    assert text.index("The answer") < text.index("Stage reports")
    assert "Contact the top 10% of customers ranked by Hybrid GBM: rfm+details+click[key]." in text
    assert "the top 10% is 100 of the 1,000 customers who had bought by 2018-02-28" in text
    assert ("The model expected the top 10% to spend 25,000 BRL in the 184 days after the cut-off; they spent "
            "12,500 BRL (the model over-estimated their spend by 100%") in text
    assert "25% of the 50,000 BRL all customers spent: 2.5x what a random 10% would bring" in text
    # the simple rule did better in its top 10%: said, not hidden
    assert "its top 10% captured 29% of the holdout revenue against 25%" in text
    assert "The simple rule does better in its top 10%; the model ranks the whole list better." in text
    assert "It beats BG/NBD x Gamma-Gamma by +0.139 in Gini (95% interval +0.047 to +0.228" in text
    assert "only 1.3% of customers bought again within 184 days" in text
    assert "Hybrid GBM: rfm+details+click[key] gets 46% of the way" in text  # demo: the ceiling
    assert external_references(page) == [] and "<script" not in page


def test_without_a_reliable_winner_the_index_keeps_bg_nbd_and_names_the_contenders():
    metrics = copy.deepcopy(METRICS)
    metrics["models"]["hybrid:rfm+details+click[key]"]["diff_low"] = -0.01
    metrics["ceiling_gini"] = None
    text = text_of(bottom_line_html(bottom_line(metrics)))
    assert "ranked by BG/NBD x Gamma-Gamma." in text and "No model beats BG/NBD x Gamma-Gamma reliably" in text
    assert "Hybrid GBM: rfm+details+click[key] scored higher, but not reliably." in text
    assert "expected them to spend" not in text  # no deciles stored for BG/NBD: no predicted figure invented
    assert "spent 11,500 BRL" in text  # the top 10% capture x holdout revenue
    assert "ceiling" not in text


def test_the_answer_stage_06_stored_is_shown_in_its_own_words_and_figures():
    facts = {"model": "hybrid:rfm+details", "model_label": "Hybrid GBM: rfm+details", "reliable": True,
             "top10_share": 0.2, "simple_rule_top10_share": 0.29, "normalized_gini": 0.3, "gini_low": 0.2,
             "gini_high": 0.4, "simple_rule_gini": 0.31, "diff_vs_bgnbd": 0.02, "diff_low": 0.01, "diff_high": 0.09,
             "buyers_share": 0.013, "horizon_days": 184, "top10_predicted_revenue": 11000.0,
             "top10_actual_revenue": 10000.0, "currency": "EUR",
             "text": "\n- **Who to target:** rank customers by **Hybrid GBM: rfm+details**.\n- **How sure:** fairly.\n"}
    b = bottom_line({**METRICS, "marketer": facts})
    assert (b.model, b.label, b.top_predicted, b.top_actual, b.currency) == (
        "hybrid:rfm+details", "Hybrid GBM: rfm+details", 11000.0, 10000.0, "EUR")
    section = bottom_line_html(b)
    assert "<li><strong>Who to target:</strong> rank customers by <strong>Hybrid GBM: rfm+details</strong>.</li>" in section
    assert "11,000 EUR" in section and "10,000 EUR" in section and "BRL" not in section
    assert "Against the simple rule" not in section  # the index's own wording gives way to stage 06's


@pytest.mark.parametrize("metrics", [None, {}, {"models": {}, "holdout": {}}, {"holdout": METRICS["holdout"]}],
                         ids=["none", "empty", "no-baseline", "no-models"])
def test_no_evaluation_yet_says_how_to_get_one(metrics, tmp_path):
    assert bottom_line(metrics or {}) is None
    page = build_index_html(run_record(tmp_path, True, ["ok", "ok", "ok"]), metrics=metrics)
    assert "No evaluation yet: run stage 06" in page


def test_headline_values_read_as_words_not_python():
    assert [_fmt_value(v) for v in (True, False, None, float("nan"), "nan", "None", 12345, 0.71234, 1234.5)] == \
        ["yes", "no", "—", "—", "—", "—", "12,345", "0.712", "1,234"]
    assert [_fmt_value(v, k) for k, v in (("mean conversion rate", 0.672), ("share of buyers", 0.0118),
                                          ("ROC-AUC BG/NBD", 0.587), ("mean conversion rate", 2.5))] == \
        ["67.2%", "1.2%", "0.587", "2.5"]  # a rate or share as a percentage, other figures as they are
    assert _name_hybrid("Gini hybrid", "Hybrid GBM: rfm+details") == "Gini Hybrid GBM: rfm+details"
    assert _name_hybrid("hybrid_features", "X") == "hybrid_features" and _name_hybrid("Gini hybrid", None) == "Gini hybrid"


def test_headline_figures_name_the_model_and_show_yes_no(tmp_path):
    record = run_record(tmp_path, False, ["ok", "ok", "ok"])
    record["stages"][2]["figures"] = {"Gini hybrid": "0.158 [0.10, 0.22]", "synthetic link": True, "key unique": None}
    page = build_index_html(record, hybrid_name="Hybrid GBM: rfm+details")
    assert "<th>Gini Hybrid GBM: rfm+details</th>" in page and "Gini hybrid" not in page
    assert "<th>synthetic link</th><td>yes</td>" in page and "<th>key unique</th><td>—</td>" in page
    assert "True" not in text_of(page) and "None" not in text_of(page)


def test_take_away_links_are_relative_with_sizes(tmp_path):
    html_text = downloads_html([{"path": "data/clv_table.csv", "what": "the CLV table", "bytes": 2_500_000},
                                {"path": "metrics.json", "what": "figures", "bytes": 900},
                                {"path": "", "what": "left out"}], tmp_path)
    assert '<a href="data/clv_table.csv"><code>data/clv_table.csv</code></a> — the CLV table' in html_text
    assert "(2.4 MB)" in html_text and "(900 bytes)" in html_text and "left out" not in html_text
    assert downloads_html([], tmp_path) == ""


@pytest.mark.parametrize(
    ("demo", "placebo", "shown"),
    [(False, [{"link": "rank"}, {"link": "random"}], True), (False, None, True), (False, [], False),
     (False, [{"link": "rank"}, {"link": "key"}], False), (True, [{"link": "rank"}, {"link": "key"}], False)],
    ids=["real-synthetic-links", "real-not-evaluated-yet", "no-event-log", "real-key", "demo"],
)
def test_the_synthetic_link_note_appears_only_where_a_synthetic_link_is_all_there_is(tmp_path, demo, placebo, shown):
    metrics = None if placebo is None else {**METRICS, "demo": demo, "placebo": placebo}
    page = build_index_html(run_record(tmp_path, demo, ["ok", "ok", "ok"]), metrics=metrics)
    assert ("without any shared identifier" in page) is shown
    assert "demo data has a real key" not in page.lower()


# Stage 07's data/forecast.json: the chosen model refitted on every order, scored over the next horizon.
FORECAST = {"model": "btyd:pnbd", "label": "Pareto/NBD x Gamma-Gamma", "start": "2018-08-31", "end": "2019-02-28",
            "horizon_days": 181, "customers": 2911, "top_customers": 291, "predicted_total": 5546.2,
            "predicted_top": 1607.7, "currency": "BRL", "chosen_by": "It ranked better at each earlier cut-off.",
            "backtest_cuts": ["2018-02-28", "2018-01-31", "2017-12-31"], "top10_capture_mean": 0.2737,
            "top10_capture_min": 0.1707, "top10_capture_max": 0.3863, "rule_top10_capture_mean": 0.3304}


def test_with_a_forecast_the_index_answers_from_the_analysis_date_and_shows_the_backtest_as_evidence(tmp_path):
    record = run_record(tmp_path, True, ["ok", "ok", "ok"])
    data = tmp_path / "outputs" / "demo-500-seed3" / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "forecast.json").write_text(__import__("json").dumps(
        {**FORECAST, "text": "\n- **Who to target from 2018-08-31:** the first **291 customers**.\n"}))
    page = build_index_html(record, metrics=METRICS)  # read from the workspace
    text = text_of(page)
    assert text.index("The answer") < text.index("The evidence: the backtest at 2018-02-28") < text.index("Stage reports")
    assert ("From 2018-08-31, contact the top 10% of customers ranked by Pareto/NBD x Gamma-Gamma: the first rows of "
            "data/clv_table.csv.") in text
    cards = re.findall(r"<div class=big>(.*?)</div><div class=what>(.*?)</div>", page)
    assert [(v, unescape(w)) for v, w in cards[:3]] == [
        ("1,608 BRL", "predicted spend of the top 10% (291 of 2,911 customers) from 2018-08-31 to 2019-02-28"),
        ("29%", "of the 5,546 BRL predicted for all customers"),
        ("27%", "of the revenue of the window after each backtest cut-off captured by its top 10%, on average at 3 "
                "cut-offs (from 17% to 39%); ranking by spend so far: 33%")]  # not the forecast's 181 days
    assert "<li><strong>Who to target from 2018-08-31:</strong> the first <strong>291 customers</strong>.</li>" in page
    assert 'href="data/forecast.json"' in page and 'href="data/clv_table.csv"' in page
    assert "Contact the top 10% of customers ranked by" not in text  # the backtest no longer claims to be the answer
    assert "Ranked by Hybrid GBM: rfm+details+click[key] with the data up to 2018-02-28, the top 10% then spent" in text


def test_a_forecast_from_an_earlier_run_says_so_and_no_forecast_leaves_the_backtest_as_the_answer(tmp_path):
    assert "It comes from an earlier run of stage 07." in forecast_html(FORECAST, stale=True)
    assert forecast_html(None) == "" and forecast_html({"label": "x"}) == ""
    page = build_index_html(run_record(tmp_path, True, ["ok", "ok", "ok"]), metrics=METRICS)
    assert "Contact the top 10% of customers ranked by" in text_of(page) and "The evidence" not in page


def test_each_stage_shows_its_time_and_peak_memory_and_the_footer_its_timeout(tmp_path):
    record = run_record(tmp_path, False, ["ok", "ok", "ok"])
    record["stages"][0].update(seconds=12.34, peak_memory_mb=1536.0)
    record["stages"][1].update(seconds=150.0, peak_memory_mb=None)  # a stage without the figure shows its time only
    record["cell_timeout_seconds"] = None
    page = build_index_html(record)
    text = text_of(page)
    assert "<td class=dur>12.3 s<div class=key>peak 1.5 GB</div></td>" in page
    assert "<td class=dur>2.5 min</td>" in page and text.count("peak ") == 1
    assert "cell timeout none." in text
    record["cell_timeout_seconds"] = 1800
    assert "cell timeout 1800 s." in text_of(build_index_html(record))


def test_the_index_reads_stage_06s_evaluation_and_says_when_metrics_json_is_older(tmp_path):
    import json

    from clvlib.pipeline.run import STALE_METRICS, write_index
    from clvlib.pipeline.workspace import Workspace

    record = run_record(tmp_path, True, ["ok", "ok", "ok"])
    ws = Workspace(tmp_path / "outputs" / "demo-500-seed3")
    (ws.folder / "data").mkdir(exist_ok=True)
    before = copy.deepcopy(METRICS)
    before["models"]["hybrid:rfm+details+click[key]"].update(diff_vs_bgnbd=0.011, diff_low=-0.05, diff_high=0.07)
    (ws.folder / "metrics.json").write_text(json.dumps({**before, "forecast": FORECAST}))  # stage 07's, from the run before
    (ws.folder / "data" / "evaluation.json").write_text(json.dumps(METRICS))  # then `--stages 06` evaluated again
    text = text_of(write_index(ws, record).read_text())
    assert "+0.139" in text and "+0.011" not in text  # stage 06's latest figures
    assert "Every figure is from data/evaluation.json, written by stage 06." in text
    assert "metrics.json — every figure of the run in one file: stage 06's evaluation and stage 07's forecast" \
           + STALE_METRICS in text
    (ws.folder / "metrics.json").write_text(json.dumps({**METRICS, "forecast": FORECAST}))  # stage 07 ran again
    assert "older than stage 06's latest" not in text_of(write_index(ws, record).read_text())
    (ws.folder / "data" / "evaluation.json").unlink()  # a workspace from before data/evaluation.json: metrics.json
    text = text_of(write_index(ws, record).read_text())
    assert "Every figure is from metrics.json, written by stage 06." in text and "+0.139" in text
