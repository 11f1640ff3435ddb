"""Draws a training run's loss curve (log.jsonl from train.py) as a small SVG, and prints a table.

  /usr/bin/python3 training/plot_loss.py training/runs/default/log.jsonl --svg models/default/loss.svg
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("log")
    ap.add_argument("--svg", required=True)
    ap.add_argument("--rows", type=int, default=10, help="rows of the printed table")
    a = ap.parse_args(argv)
    recs = [json.loads(l) for l in open(a.log, encoding="utf-8") if l.strip()]
    steps = [r for r in recs if "loss_ema" in r]
    evals = [r for r in recs if "dev_mrr" in r]
    if not steps:
        print(f"{a.log}: no training steps", file=sys.stderr)
        return 2
    W, H, P = 640, 300, 48
    xs = [r["step"] for r in steps]
    ys = [r["loss_ema"] for r in steps]
    x1, y0, y1 = max(xs), min(ys + [r["loss"] for r in steps]) * 0.95, max(r["loss"] for r in steps) * 1.02
    sx = lambda s: P + (W - 2 * P) * s / x1
    sy = lambda v: H - P + (H - 2 * P) * -(v - y0) / (y1 - y0)
    raw = " ".join(f"{sx(r['step']):.1f},{sy(r['loss']):.1f}" for r in steps[:: max(1, len(steps) // 800)])
    ema = " ".join(f"{sx(s):.1f},{sy(v):.1f}" for s, v in zip(xs, ys))
    ticks = "".join(
        f'<text x="{P - 6}" y="{sy(v) + 4:.1f}" text-anchor="end">{v:.1f}</text>'
        for v in [y0 + (y1 - y0) * i / 4 for i in range(5)])
    xt = "".join(f'<text x="{sx(s):.1f}" y="{H - P + 16}" text-anchor="middle">{s}</text>'
                 for s in [round(x1 * i / 4) for i in range(5)])
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">
<rect width="{W}" height="{H}" fill="white"/>
<text x="{W / 2}" y="18" text-anchor="middle" font-size="13">training loss (in-batch cross-entropy); grey: per step, black: moving average</text>
<polyline fill="none" stroke="#bbb" stroke-width="0.6" points="{raw}"/>
<polyline fill="none" stroke="black" stroke-width="1.6" points="{ema}"/>
<line x1="{P}" y1="{H - P}" x2="{W - P}" y2="{H - P}" stroke="black"/><line x1="{P}" y1="{P}" x2="{P}" y2="{H - P}" stroke="black"/>
{ticks}{xt}<text x="{W / 2}" y="{H - 10}" text-anchor="middle">step</text>
</svg>
"""
    tmp = a.svg + ".tmp"
    with open(tmp, "w") as f:
        f.write(svg)
    os.replace(tmp, a.svg)
    print("| step | minutes | loss (moving avg) |\n|---|---|---|")
    for r in steps[:: max(1, math.ceil(len(steps) / a.rows))] + [steps[-1]]:
        print(f"| {r['step']} | {r['seconds'] / 60:.1f} | {r['loss_ema']:.3f} |")
    if evals:
        srcs = sorted(evals[-1]["dev_mrr"])
        print("\n| step | " + " | ".join(f"dev MRR {s}" for s in srcs) + " |\n|---|" + "---|" * len(srcs))
        for r in evals:
            print(f"| {r['step']} | " + " | ".join(f"{r['dev_mrr'].get(s, float('nan')):.3f}" for s in srcs) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
