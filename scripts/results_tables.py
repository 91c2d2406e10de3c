"""Print the README's results tables (Markdown) from a workspace's evaluation (stage 06's data/evaluation.json).

    python scripts/results_tables.py outputs/olist            # the real data
    python scripts/results_tables.py outputs/demo --ceilings  # the demo, with each model's share of both ceilings

Two tables: the backtest (every model's mean normalized Gini with its range over the cut-offs, top-10% capture and
predicted / actual revenue, and the cut-offs where it beat BG/NBD) and the holdout evaluation at the latest cut-off
(normalized Gini with its 95% bootstrap interval, the paired difference from BG/NBD, top-10% capture, ROC-AUC).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from clvlib.models.scores import BASELINE, CEILINGS, OBSERVABLE, TRUTH


def _f(x, spec: str, none: str = "–") -> str:
    return none if x is None else format(x, spec)


def backtest_table(metrics: dict) -> str:
    bt = metrics["backtest"]
    rows = ["| model | normalized Gini, mean (range) | top 10% capture, mean | predicted / actual, mean (range) "
            "| cut-offs beating BG/NBD |", "|---|---|---|---|---|"]
    for r in bt["summary"]:
        ratio = "–" if r["ratio_mean"] is None else f"{r['ratio_mean']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f})"
        beats = "baseline" if r["model"] == BASELINE else f"{_f(r['beats_bgnbd'], '.0f')} of {r['cuts']}"
        name = r["name"] + (" **(chosen)**" if r["model"] == bt["recommended"] else "")
        rows.append(f"| {name} | {r['normalized_gini_mean']:.3f} ({r['normalized_gini_min']:.3f}-"
                    f"{r['normalized_gini_max']:.3f}) | {r['top10_share_mean']:.1%} | {ratio} | {beats} |")
    return "\n".join(rows)


def holdout_table(metrics: dict, ceilings: bool = False) -> str:
    models = metrics["models"]
    ceiling = models.get(TRUTH, {}).get("normalized_gini")
    observable = models.get(OBSERVABLE, {}).get("normalized_gini")
    head = "| model | normalized Gini (95% CI) | vs BG/NBD, paired (95% CI) | top 10% capture | predicted / actual |"
    sep = "|---|---|---|---|---|"
    if ceilings:
        head += " share of the traits' ceiling | share of the observable ceiling |"
        sep += "---|---|"
    rows = [head, sep]
    for key, m in models.items():
        diff = ("baseline" if key == BASELINE else
                f"{m['diff_vs_bgnbd']:+.3f} ({m['diff_low']:+.3f} to {m['diff_high']:+.3f})" if m.get("diff_vs_bgnbd") is not None
                else "–")
        ratio = "–" if key in CEILINGS or m.get("ratio") is None or key == "calibration_spend" else f"{m['ratio']:.2f}"
        row = (f"| {m['name']} | {m['normalized_gini']:.3f} ({m['gini_low']:.2f}-{m['gini_high']:.2f}) | {diff} | "
               f"{m['top10_share']:.1%} | {ratio} |")
        if ceilings:
            row += (f" {m['normalized_gini'] / ceiling:.0%} |" if ceiling else " – |")
            row += (f" {m['normalized_gini'] / observable:.0%} |" if observable else " – |")
        rows.append(row)
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workspace", type=Path,
                        help="a workspace folder (outputs/<name>) with stage 06's data/evaluation.json (or metrics.json)")
    parser.add_argument("--ceilings", action="store_true", help="add each model's share of the demo's two ceilings")
    args = parser.parse_args()
    found = [p for p in (args.workspace / "data" / "evaluation.json", args.workspace / "metrics.json") if p.is_file()]
    if not found:
        raise SystemExit(f"{args.workspace} has neither data/evaluation.json nor metrics.json: run stage 06 first "
                         f"(python run_all.py --from 06).")
    metrics = json.loads(found[0].read_text(encoding="utf-8"))  # stage 06's own file: current after --stages 06
    h = metrics["holdout"]
    print(f"Backtest cut-offs: {', '.join(metrics['backtest']['cuts'])}; chosen on "
          f"{', '.join(metrics['backtest']['selection_cuts'])}: {metrics['backtest']['chosen_by']}\n")
    print(backtest_table(metrics))
    print(f"\nHoldout {h['start']} to {h['end']}: {h['people']:,} people, {h['buyers']:,} bought again "
          f"({h['buyers'] / h['people']:.2%}).\n")
    print(holdout_table(metrics, ceilings=args.ceilings))


if __name__ == "__main__":
    main()
