"""The index pages: one per workspace (its stages, reports and headline figures), and one listing the workspaces."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clvlib.caveats import SYNTHETIC_LINK_NOTE as _LINK_NOTE

__all__ = ["PROJECT_TITLE", "SYNTHETIC_LINK_NOTE", "build_index_html", "build_workspaces_html", "fmt_value"]

PROJECT_TITLE = "Customer lifetime value: orders + clickstream"

#: Shown near the top of a workspace index whose clickstream link is synthetic.
SYNTHETIC_LINK_NOTE = (
    _LINK_NOTE + " Stages 03 and 06 measure what the rank link manufactures against a random placebo; "
    "nothing measured through it is a finding about customers. (The demo data has a real key.)"
)

_STATUS_STYLE = {
    "ok": ("ok", "#1a7f37", "#dafbe1"),
    "failed": ("FAILED", "#cf222e", "#ffebe9"),
    "skipped": ("skipped", "#9a6700", "#fff8c5"),
    "not run": ("not run", "#57606a", "#f6f8fa"),
}


def _fmt_value(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "—" if v is None else str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != 0 and abs(v) >= 1000:
            return f"{v:,.0f}"
        if v != 0 and abs(v) >= 100:
            return f"{v:,.1f}"
        return f"{v:.3g}"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _fmt_seconds(s: Any) -> str:
    if not isinstance(s, (int, float)):
        return ""
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


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


def build_index_html(run: Mapping[str, Any]) -> str:
    """A self-contained ``index.html`` (inline CSS, no scripts) from a run record."""
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
        source = f'<div class="banner real">Data: real Kaggle data at <code>{e(data["raw_dir"])}</code></div>'
    link_note = "" if data["demo"] else f"<p class=note>{e(SYNTHETIC_LINK_NOTE)}</p>"

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
        figs = "".join(f"<tr><th>{e(str(k))}</th><td>{e(_fmt_value(v))}</td></tr>" for k, v in figures.items())
        fig_html = f'<table class="figs">{figs}</table>' if figs else ""
        rows.append(
            f"<tr><td class=num>{e(s['number'])}</td>"
            f"<td><strong>{e(s['title'])}</strong><div class=key>{e(s['key'])}</div></td>"
            f"<td class=status>{status_cell}{note}</td><td class=dur>{e(_fmt_seconds(s.get('seconds')))}</td>"
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
    css = """
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1f2328;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem} .meta{color:#57606a;font-size:.9rem;margin:.3rem 0}
.banner{padding:.7rem 1rem;border-radius:6px;margin:1rem 0}
.banner.demo{background:#fff1e5;border:2px solid #bc4c00;color:#762c00;font-size:1.05rem}
.banner.real{background:#ddf4ff;border:1px solid #54aeff}
.note{background:#f6f8fa;border-left:4px solid #8c959f;padding:.4rem .8rem;font-size:.9rem}
.result.bad{color:#cf222e} .result.good{color:#1a7f37}
table.stages{border-collapse:collapse;width:100%;margin-top:1rem}
table.stages>thead>tr>th{text-align:left;border-bottom:2px solid #d0d7de;padding:.4rem;font-size:.85rem;color:#57606a}
table.stages>tbody>tr>td{border-bottom:1px solid #d0d7de;padding:.5rem .4rem;vertical-align:top}
td.num{font-variant-numeric:tabular-nums;color:#57606a} td.dur{white-space:nowrap;font-variant-numeric:tabular-nums}
.key{font-family:ui-monospace,monospace;font-size:.8rem;color:#57606a}
.pill{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-weight:600;font-size:.85rem}
.earlier{font-size:.8rem;color:#57606a;margin-top:.2rem} .error{font-size:.85rem;color:#cf222e;margin-top:.3rem;
font-family:ui-monospace,monospace;white-space:pre-wrap}
td.status{width:30%}
table.figs{border-collapse:collapse;font-size:.85rem} table.figs th{text-align:left;font-weight:normal;color:#57606a;
padding:0 .8rem 0 0;white-space:nowrap} table.figs td{font-variant-numeric:tabular-nums;text-align:right;white-space:nowrap}
code{font-size:.85em;background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}
footer{margin-top:2rem;color:#8c959f;font-size:.8rem}
"""
    started = run.get("started_at") or ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(run.get('project') or PROJECT_TITLE)} — pipeline run</title>
<style>{css}</style></head>
<body>
<h1>{e(run.get('project') or PROJECT_TITLE)}</h1>
<p class=meta>Workspace <code>{e(str(outputs))}</code> (<a href="../index.html">all workspaces</a>).
Run started {e(_human_time(started))}, finished {e(_human_time(run.get('finished_at')))}
({e(_fmt_seconds(run.get('seconds')))}). Machine-readable record: <a href="run.json">run.json</a>.</p>
{source}
{link_note}
{status}
{over_html}
<table class=stages><thead><tr><th>#</th><th>Stage</th><th>Status</th><th>Time</th><th>Report</th>
<th>Headline figures</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table>
<footer>Kernel {e(str(run.get('kernel')))}, cell timeout {e(str(run.get('cell_timeout_seconds')))} s. {ver}</footer>
</body></html>
"""


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
