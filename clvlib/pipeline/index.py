"""The index pages: one per workspace (its stages, reports and headline figures), and one listing the workspaces."""

from __future__ import annotations

import html
import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clvlib.caveats import SYNTHETIC_LINK_NOTE as _LINK_NOTE
from clvlib.pipeline.answer import BottomLine, bottom_line
from clvlib.pipeline.style import BASE_CSS, page

__all__ = ["PROJECT_TITLE", "SYNTHETIC_LINK_NOTE", "build_index_html", "build_workspaces_html", "bottom_line_html",
           "forecast_html", "downloads_html"]

PROJECT_TITLE = "Customer lifetime value"  # the same for every dataset, with or without an event log

#: Shown near the top of a workspace index whose clickstream link is synthetic.
SYNTHETIC_LINK_NOTE = (
    _LINK_NOTE + " Stages 03 and 06 measure what the rank link manufactures against a random placebo; "
    "nothing measured through it is a finding about customers."
)

_STATUS_STYLE = {
    "ok": ("ok", "#1a7f37", "#dafbe1"),
    "failed": ("FAILED", "#cf222e", "#ffebe9"),
    "skipped": ("skipped", "#9a6700", "#fff8c5"),
    "not run": ("not run", "#57606a", "#f6f8fa"),
}


_FRACTION_LABEL = re.compile(r"\b(rate|share|coverage)\b", re.IGNORECASE)


def _fmt_value(v: Any, label: str = "") -> str:
    """A headline figure for a reader: yes/no, thousands separators, an em dash for anything missing.

    A fraction (a float in [0, 1]) whose ``label`` names a rate, share or coverage reads as a
    percentage ("mean conversion rate" 0.672 -> 67.2%).
    """
    if isinstance(v, float) and math.isfinite(v) and 0 <= v <= 1 and _FRACTION_LABEL.search(label):
        return f"{v:.1%}"
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "—"
        if v != 0 and abs(v) >= 1000:
            return f"{v:,.0f}"
        if v != 0 and abs(v) >= 100:
            return f"{v:,.1f}"
        return f"{v:.3g}"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    text = str(v)
    return "—" if text.strip().lower() in ("", "nan", "none", "nat", "null") else text


def _fmt_seconds(s: Any) -> str:
    if not isinstance(s, (int, float)):
        return ""
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def _fmt_peak(mb: Any) -> str:
    """A stage's peak memory under its time, as the console prints it ("peak 1.5 GB"); nothing when unknown."""
    if not isinstance(mb, (int, float)) or isinstance(mb, bool):
        return ""
    return f"<div class=key>peak {mb / 1024:.1f} GB</div>"


def _human_time(iso: str | None) -> str:
    """``2025-01-01T10:00:00+00:00`` -> ``2025-01-01 10:00:00 UTC+00:00``; passes other text through."""
    if not iso:
        return ""
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    tz = dt.strftime("%z")
    return dt.strftime("%Y-%m-%d %H:%M:%S") + (f" UTC{tz[:3]}:{tz[3:]}" if tz else "")


def _href(path: str | None, base: Path) -> str | None:
    if not path:
        return None
    rel = os.path.relpath(path, base)
    return quote(rel.replace(os.sep, "/"))


def _money(x: float | None, currency: str) -> str:
    return "—" if x is None else f"{x:,.0f} {currency}"


def _interval(low: float | None, high: float | None, fmt: str = ".2f", sign: str = "") -> str:
    if low is None or high is None:
        return ""
    return f"95% interval {low:{sign}{fmt}} to {high:{sign}{fmt}}"


def _sure_text(b: BottomLine) -> str:
    """How sure we are, in words: the Gini interval, then the paired comparison with BG/NBD."""
    e = html.escape
    gini = f"Its normalized Gini is <b>{b.gini:.2f}</b>"
    gini += f" ({_interval(b.gini_low, b.gini_high)})." if b.gini_low is not None else "."
    if b.reliable and b.diff is not None:
        vs = (f" It beats BG/NBD x Gamma-Gamma by {b.diff:+.3f} in Gini ({_interval(b.diff_low, b.diff_high, '.3f', '+')}"
              ", paired bootstrap): a real improvement, not noise.")
    else:
        vs = (" No model beats BG/NBD x Gamma-Gamma reliably here (every paired 95% interval of the difference "
              "includes zero or lies below it), so the established BG/NBD score is the one to use.")
        if b.ahead:
            vs += f" {e(', '.join(b.ahead))} scored higher, but not reliably."
    return gini + vs


def _rule_text(b: BottomLine) -> str:
    """The recommended model against the simple rule (rank by spend so far), saying plainly which does better."""
    if b.simple_top_share is None or b.simple_gini is None:
        return "The simple rule (rank by spend so far) was not scored in this run."
    top = f"its top 10% captured {b.simple_top_share:.0%} of the holdout revenue against {b.top_share:.0%}"
    gini = f"normalized Gini {b.simple_gini:.2f} against {b.gini:.2f}"
    better_top, better_gini = b.top_share > b.simple_top_share, b.gini > b.simple_gini
    if better_top and better_gini:
        verdict = "The model does better on both."
    elif better_gini:
        verdict = ("The simple rule does better in its top 10%; the model ranks the whole list better. "
                   "For a campaign limited to the top 10%, the simple rule did at least as well in this backtest.")
    elif better_top:
        verdict = "The model does better in the top 10%; the simple rule ranks the whole list better."
    else:
        verdict = "The simple rule does as well or better on both here."
    return f"{top}; {gini}. {verdict}"


def _markdown(text: str) -> str | None:
    """Stage 06's Markdown as HTML (mistune, which nbconvert brings); ``None`` when it cannot be rendered."""
    try:
        import mistune
    except ImportError:
        return None
    return str(mistune.html(text))


def bottom_line_html(b: BottomLine | None, stale: bool = False, evidence: bool = False,
                     source: str = "data/evaluation.json") -> str:
    """The section the workspace index opens with: who to target, the revenue to expect, against the
    simple rule, how sure we are; in stage 06's own words when it stored them. Says how to get an
    evaluation when there is none yet.

    With ``evidence`` (a forecast comes first, :func:`forecast_html`), the same figures are headed as
    what they are: how the chosen ranking did on the latest backtest's holdout.
    """
    e = html.escape
    if b is None:
        return ('<section class=answer><h2>The answer</h2><p>No evaluation yet: run stage 06 '
                "(<code>python run_all.py</code>, or <code>--from 06</code>) to see which customers to target "
                "and how sure we are.</p></section>")
    currency = b.currency
    days = f"{b.horizon_days} days" if b.horizon_days else "the holdout"
    lift = b.top_share / 0.10 if b.top_share else 0.0
    cards = [
        (_money(b.top_actual, currency), f"spent by that top 10% in the {days} after {e(b.cutoff)} "
                                         f"({b.top_share:.0%} of all {_money(b.revenue, currency)})"),
        (f"{lift:.1f}x", "their share of revenue against a random 10% of customers"),
        (f"{b.gini:.2f}", "normalized Gini (0 = random order, 1 = perfect)"
         + (f"; {_interval(b.gini_low, b.gini_high)}" if b.gini_low is not None else "")),
    ]
    if b.top_predicted is not None:
        cards.insert(1, (_money(b.top_predicted, currency), f"what the model expected them to spend in those {days}"))
    card_html = "".join(f"<div class=card><div class=big>{v}</div><div class=what>{w}</div></div>" for v, w in cards)
    expected = (f"The model expected the top 10% to spend <b>{_money(b.top_predicted, currency)}</b> in the {days} "
                f"after the cut-off; they spent <b>{_money(b.top_actual, currency)}</b>" if b.top_predicted is not None
                else f"The top 10% spent <b>{_money(b.top_actual, currency)}</b> in the {days} after the cut-off")
    if b.top_predicted is not None and b.top_actual:
        off = b.top_predicted / b.top_actual - 1
        if abs(off) > 0.25:  # a forecast this far off is worth saying: the ranking is better than the amounts
            expected += (f" (the model {'over' if off > 0 else 'under'}-estimated their spend by "
                         f"{abs(off):.0%}: trust its ranking more than its amounts)")
    items = [
        ("Who to target", f"rank customers by <b>{e(b.label)}</b> and start from the top: the top 10% is "
                          f"{b.top_n:,} of the {b.people:,} customers who had bought by {e(b.cutoff)}."),
        ("Revenue to expect", f"{expected}, {b.top_share:.0%} of the {_money(b.revenue, currency)} all customers "
                              f"spent: {lift:.1f}x what a random 10% would bring."),
        ("Against the simple rule", "ranking by spend so far, " + _rule_text(b)),
        ("How sure we are", _sure_text(b)),
        ("What to expect", f"only {b.buyers_share:.1%} of customers bought again within {days}. Most of any "
                           "targeted list will not buy; the ranking concentrates the few who will."),
    ]
    if b.ceiling_gini is not None:
        items.append(("Demo only: the ceiling", f"ranking by the hidden true expected value reaches a Gini of "
                                                f"{b.ceiling_gini:.2f}; {e(b.label)} gets {b.gini / b.ceiling_gini:.0%} "
                                                "of the way."))
    words = _markdown(b.text) if b.text else None
    lis = words or "<ul>" + "".join(f"<li><b>{k}:</b> {v}</li>" for k, v in items) + "</ul>"
    note = " These figures come from an earlier run of stage 06." if stale else ""
    heading, lead = "The answer", f"Contact the <b>top 10%</b> of customers ranked by <b>{e(b.label)}</b>."
    if evidence:
        heading = f"The evidence: the backtest at {e(b.cutoff)}"
        lead = (f"Ranked by <b>{e(b.label)}</b> with the data up to {e(b.cutoff)}, the <b>top 10%</b> then "
                f"spent, in the {days} that the models never saw:")
    return (f'<section class=answer><h2>{heading}</h2>'
            f'<p class=lead>{lead}</p>'
            f"<div class=cards>{card_html}</div><div class=words>{lis}</div>"
            f"<p class=meta>A backtest: the models were fitted on data up to {e(b.cutoff)} and judged on what "
            f"customers spent from then to {e(b.holdout_end)}, which they never saw. Every figure is from "
            f'<a href="{e(source)}">{e(source)}</a>, written by stage 06.{note}</p></section>')


def forecast_html(f: Mapping[str, Any] | None, stale: bool = False) -> str:
    """The answer of a run with a forecast (stage 07's ``data/forecast.json``): from the analysis date, whom
    to contact, the revenue predicted for them over the horizon, and how sure we are from the backtests,
    in stage 07's own words when it stored them. Empty when there is no forecast.
    """
    if not isinstance(f, Mapping) or not f.get("label") or _num(f.get("predicted_top")) is None:
        return ""
    e = html.escape
    currency = str(f.get("currency") or "BRL")
    days = f"{f['horizon_days']} days" if isinstance(f.get("horizon_days"), int) else "the horizon"
    start, end, label = e(str(f.get("start") or "")), e(str(f.get("end") or "")), e(str(f["label"]))
    top, total = _num(f.get("predicted_top")), _num(f.get("predicted_total"))
    n_top, n_all = f.get("top_customers"), f.get("customers")
    who = (f"{n_top:,} of {n_all:,} customers" if isinstance(n_top, int) and isinstance(n_all, int)
           else "the top 10% of customers")
    cards = [(_money(top, currency), f"predicted spend of the top 10% ({who}) from {start} to {end}")]
    if total:
        cards.append((f"{top / total:.0%}", f"of the {_money(total, currency)} predicted for all customers"))
    mean, low, high = (_num(f.get(k)) for k in ("top10_capture_mean", "top10_capture_min", "top10_capture_max"))
    cuts = [str(c) for c in f.get("backtest_cuts") or []]
    if mean is not None:
        spread = f" (from {low:.0%} to {high:.0%})" if low is not None and high is not None else ""
        rule = _num(f.get("rule_top10_capture_mean"))
        cards.append((f"{mean:.0%}", f"of the revenue of the window after each backtest cut-off captured by its "
                                     f"top 10%, on average at {len(cuts) or 'the'} cut-offs{spread}"
                                     + (f"; ranking by spend so far: {rule:.0%}" if rule is not None else "")))
    card_html = "".join(f"<div class=card><div class=big>{v}</div><div class=what>{w}</div></div>" for v, w in cards)
    words = _markdown(str(f["text"])) if isinstance(f.get("text"), str) and f["text"].strip() else None
    if words is None and f.get("chosen_by"):
        words = f"<ul><li><b>Why this model:</b> {e(str(f['chosen_by']))}</li></ul>"
    note = " It comes from an earlier run of stage 07." if stale else ""
    return (f"<section class=answer><h2>The answer</h2>"
            f"<p class=lead>From <b>{start}</b>, contact the <b>top 10%</b> of customers ranked by <b>{label}</b>: "
            f'the first rows of <a href="data/clv_table.csv">data/clv_table.csv</a>.</p>'
            f"<div class=cards>{card_html}</div>" + (f"<div class=words>{words}</div>" if words else "")
            + f"<p class=meta>A forecast: {label}, chosen on the backtests below, refitted with every order up to "
            f'{start} and run over the next {days} (to {end}). From <a href="data/forecast.json">data/forecast.json'
            f"</a>, written by stage 07.{note}</p></section>")


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for unit, div in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= div:
            return f"{n / div:,.1f} {unit}"
    return f"{n} bytes"


def downloads_html(downloads: Sequence[Mapping[str, Any]], base: Path) -> str:
    """The "Take away" list: each file's link (relative to ``base``), what it holds, and its size.

    Each item has ``path`` (absolute or relative to ``base``), ``what`` (a few words) and
    optionally ``bytes``; items whose ``path`` is empty are left out.
    """
    e = html.escape
    rows = []
    for d in downloads:
        href = _href(str(Path(base) / d["path"]), base) if d.get("path") else None
        if not href:
            continue
        name = Path(str(d["path"])).as_posix()
        size = _size(d.get("bytes"))
        rows.append(f'<li><a href="{href}"><code>{e(name)}</code></a> — {e(str(d.get("what") or ""))}'
                    + (f" <span class=size>({e(size)})</span>" if size else "") + "</li>")
    return f"<section><h2>Take away</h2><ul class=files>{''.join(rows)}</ul></section>" if rows else ""


def _name_hybrid(label: str, name: str | None) -> str:
    """``"Gini hybrid"`` -> ``"Gini Hybrid GBM: rfm+details"``: the headline names the model it describes."""
    return re.sub(r"\bhybrid\b", lambda _: name, label) if name else label


def build_index_html(run: Mapping[str, Any], metrics: Mapping[str, Any] | None = None,
                     downloads: Sequence[Mapping[str, Any]] = (), hybrid_name: str | None = None,
                     forecast: Mapping[str, Any] | None = None, metrics_source: str = "data/evaluation.json") -> str:
    """A self-contained ``index.html`` (inline CSS, no scripts): the answer first (the forecast, then the
    backtest behind it), then the files to take away, then every stage with its report and headline figures.

    Parameters
    ----------
    run
        The run record (``run.json``; :func:`clvlib.pipeline.run.build_run_record`).
    metrics
        Stage 06's evaluation, ``data/evaluation.json`` (``None`` when the workspace has none yet).
    metrics_source
        The file ``metrics`` was read from, named under the answer (``metrics.json`` in a workspace made
        before stage 06 wrote ``data/evaluation.json``).
    downloads
        Files to link under "Take away" (see :func:`downloads_html`), paths relative to the workspace.
    hybrid_name
        Display name of the primary hybrid model of stage 05: the headline figures that say
        "hybrid" name it.
    forecast
        Stage 07's ``data/forecast.json``; read from the workspace when not given (none: the
        answer is the backtest's, as before).
    """
    e = html.escape
    outputs = Path(run["paths"]["workspace"])
    data = run["data_source"]
    if data["demo"]:
        info = data.get("demo_info") or {}
        extra = ""
        if info.get("n_customers"):
            extra = f" — {info['n_customers']:,} customers, seed {info.get('seed')}"
        source = (
            f'<div class="banner demo"><strong>DEMO DATA (synthetic)</strong>{e(extra)}. '
            f"Generated at <code>{e(data['raw_dir'])}</code>. Figures describe the simulator, not Olist. "
            "To use the real Kaggle data, unpack it into <code>data/raw/</code> or pass "
            "<code>--raw-dir PATH</code>.</div>"
        )
    else:
        label = data.get("label") or f"real Kaggle data at {data['raw_dir']}"
        source = f'<div class="banner real">Data: {e(label)}</div>'
    # only where a synthetic link is the only one: real data whose clickstream has no key (not the demo's
    # real key, nor data without any event log, whose evaluation has no placebo rows)
    placebo_links = {str(r.get("link")) for r in ((metrics or {}).get("placebo") or []) if isinstance(r, Mapping)}
    synthetic = not data["demo"] and "key" not in placebo_links and (
        metrics is None or bool(placebo_links & {"rank", "random"}))
    link_note = f"<p class=note>{e(SYNTHETIC_LINK_NOTE)}</p>" if synthetic else ""

    if run["status"] == "failed":
        status = f'<p class="result bad">Stage <strong>{e(run["failed_stage"])}</strong> failed; later stages were skipped.</p>'
    else:
        n = sum(s["status"] == "ok" for s in run["stages"])
        rest = len(run["stages"]) - n
        status = f'<p class="result good">{n} stage(s) ran without error'
        status += f"; {rest} not run this time.</p>" if rest else ".</p>"

    rows = []
    for s in run["stages"]:
        label, fg, bg = _STATUS_STYLE.get(s["status"], (s["status"], "#57606a", "#f6f8fa"))
        status_cell = f'<span class="pill" style="color:{fg};background:{bg}">{e(label)}</span>'
        href = _href(s.get("html"), outputs)
        figures = s.get("figures") or {}
        note = ""
        earlier = s.get("earlier")
        if s["status"] in ("not run", "skipped") and earlier:
            href = _href(earlier.get("html"), outputs)
            when = _human_time(earlier.get("finished_at")) or "unknown time"
            what = earlier.get("data_label") or ""
            note = (
                f'<div class="earlier">report from an earlier run ({e(str(earlier.get("status")))}, '
                f"{e(str(when))}{', ' + e(what) if what else ''})</div>"
            )
            figures = earlier.get("figures") or {}
        link = f'<a href="{href}">report</a>' if href else ""
        if s.get("error"):
            err = s["error"] if len(s["error"]) <= 500 else s["error"][:500] + " … (see the report)"
            failed_href = _href(s.get("failed_html"), outputs)
            note += f'<div class="error">{e(err)}</div>'
            if failed_href:
                note += f'<div class="earlier"><a href="{failed_href}">report of the failed run</a></div>'
            if s.get("html"):
                when = _human_time((s.get("last_good") or {}).get("finished_at")) or "an earlier run"
                note += f'<div class="earlier">the report link is the last good one ({e(when)})</div>'
        figs = "".join(f"<tr><th>{e(_name_hybrid(str(k), hybrid_name))}</th><td>{e(_fmt_value(v, str(k)))}</td></tr>"
                       for k, v in figures.items())
        fig_html = f'<table class="figs">{figs}</table>' if figs else ""
        rows.append(
            f"<tr><td class=num>{e(s['number'])}</td>"
            f"<td><strong>{e(s['title'])}</strong><div class=key>{e(s['key'])}</div></td>"
            f"<td class=status>{status_cell}{note}</td><td class=dur>{e(_fmt_seconds(s.get('seconds')))}{_fmt_peak(s.get('peak_memory_mb'))}</td>"
            f"<td>{link}</td><td>{fig_html}</td></tr>"
        )

    overrides = run.get("overrides") or {}
    over_html = (
        "<p class=meta>Parameter overrides: "
        + ", ".join(f"<code>{e(k)}={e(repr(v))}</code>" for k, v in overrides.items())
        + "</p>"
        if overrides
        else ""
    )
    versions = run.get("environment", {}).get("versions", {})
    ver = ", ".join(f"{e(k)} {e(str(v))}" for k, v in versions.items())
    css = BASE_CSS + """
.meta{color:#57606a;font-size:.9rem;margin:.3rem 0}
.banner{padding:.7rem 1rem;border-radius:6px;margin:1rem 0}
.banner.demo{background:#fff1e5;border:2px solid #bc4c00;color:#762c00;font-size:1.05rem}
.banner.real{background:#ddf4ff;border:1px solid #54aeff}
.note{background:#f6f8fa;border-left:4px solid #8c959f;padding:.4rem .8rem;font-size:.9rem}
.result.bad{color:#cf222e} .result.good{color:#1a7f37}
.answer{border:1px solid #d0d7de;border-radius:8px;padding:.2rem 1.2rem .6rem;margin:1rem 0;background:#fbfcfd}
.answer h2{border:0;margin-top:.8rem} .lead{font-size:1.15rem;margin:.2rem 0 .8rem}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:.4rem 0 .8rem}
.card{flex:1 1 200px;border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;background:#fff}
.card .big{font-size:1.45rem;font-weight:600;font-variant-numeric:tabular-nums} .card .what{font-size:.85rem;color:#57606a}
.answer li{margin:.25rem 0} ul.files li{margin:.2rem 0} .size{color:#57606a;font-size:.85rem}
table.stages{width:100%;margin-top:.6rem;font-size:.92rem}
table.stages>thead>tr>th{text-align:left;border:0;border-bottom:2px solid #d0d7de;padding:.4rem;font-size:.85rem;
color:#57606a;background:none}
table.stages>tbody>tr{background:none} table.stages>tbody>tr>td{border:0;border-bottom:1px solid #d0d7de;
padding:.5rem .4rem;vertical-align:top}
td.num{font-variant-numeric:tabular-nums;color:#57606a} td.dur{white-space:nowrap;font-variant-numeric:tabular-nums}
.key{font-family:ui-monospace,monospace;font-size:.8rem;color:#57606a}
.pill{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-weight:600;font-size:.85rem}
.earlier{font-size:.8rem;color:#57606a;margin-top:.2rem} .error{font-size:.85rem;color:#cf222e;margin-top:.3rem;
font-family:ui-monospace,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
td.status{width:16%}
table.figs{border-collapse:collapse;font-size:.85rem;margin:0} table.figs tr{background:none}
table.figs th{text-align:left;font-weight:normal;color:#57606a;padding:0 .8rem 0 0;border:0;background:none}
table.figs td{text-align:right;white-space:nowrap;border:0;padding:0}
footer{margin-top:2rem;color:#8c959f;font-size:.8rem}
"""
    started = run.get("started_at") or ""
    title = run.get("project") or PROJECT_TITLE
    def stale_stage(prefix: str) -> bool:
        st = next((st for st in run["stages"] if st.get("key", "").startswith(prefix)), None)
        return st is not None and st.get("status") != "ok"

    if forecast is None:
        forecast = _read_json(outputs / "data" / "forecast.json")
    first = forecast_html(forecast, stale=stale_stage("07"))
    answer = (bottom_line_html(bottom_line(metrics), stale=stale_stage("06"), evidence=bool(first), source=metrics_source)
              if metrics
              else bottom_line_html(None))
    answer = first + answer
    body = f"""<h1>{e(title)}</h1>
{source}
{answer}
{downloads_html(downloads, outputs)}
{link_note}
<h2>Stage reports</h2>
<p class=meta>Workspace <code>{e(str(outputs))}</code> (<a href="../index.html">all workspaces</a>).
Run started {e(_human_time(started))}, finished {e(_human_time(run.get('finished_at')))}
({e(_fmt_seconds(run.get('seconds')))}). Machine-readable record: <a href="run.json">run.json</a>.</p>
{status}
{over_html}
<div class=table-wrap><table class=stages><thead><tr><th>#</th><th>Stage</th><th>Status</th><th>Time</th><th>Report</th>
<th>Headline figures</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table></div>
<footer>Kernel {e(str(run.get('kernel')))}, cell timeout {e(f"{run['cell_timeout_seconds']} s" if run.get('cell_timeout_seconds') else 'none')}. {ver}</footer>"""
    return page(f"{title} — pipeline run", body, css)


def build_workspaces_html(workspaces: Sequence[Mapping[str, Any]]) -> str:
    """``outputs/index.html``: one line per workspace (its dataset, last run, status), newest first."""
    e = html.escape
    rows = []
    for w in workspaces:
        status = w.get("status") or "no run yet"
        label, fg, bg = _STATUS_STYLE.get(status, (status, "#57606a", "#f6f8fa"))
        rows.append(
            f'<tr><td><a href="{quote(w["name"])}/index.html"><strong>{e(w["name"])}</strong></a></td>'
            f"<td>{e(str(w.get('label') or ''))}</td>"
            f'<td><span class="pill" style="color:{fg};background:{bg}">{e(label)}</span></td>'
            f"<td>{e(_human_time(w.get('finished_at')))}</td></tr>")
    css = ("body{font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif;margin:2rem auto;"
           "max-width:1000px;padding:0 1rem;color:#1f2328} table{border-collapse:collapse;width:100%} "
           "th,td{text-align:left;border-bottom:1px solid #d0d7de;padding:.5rem .4rem} "
           ".pill{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-weight:600;font-size:.85rem}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(PROJECT_TITLE)}: workspaces</title><style>{css}</style></head>
<body><h1>{e(PROJECT_TITLE)}</h1>
<p>One workspace per dataset; each holds its own processed files, reports and run history.</p>
<table><thead><tr><th>Workspace</th><th>Dataset</th><th>Last run</th><th>Finished</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table></body></html>
"""
